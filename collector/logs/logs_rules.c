/* logs_rules.c — the pure rules of CloudWatch Logs: constraints and their
 * AWS messages, PutLogEvents batch rules, tokens, ARNs (see logs_rules.h). */
#include "logs_rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "encode.h"

/* ---- validation errors ---- */

/* AWS echoes the whole value; we cut long ones (at a UTF-8 boundary, the
 * message is JSON) so the constraint stays readable in a bounded tw_err. */
#define VIOLATION_VALUE_MAX 200
/* A batch can break a rule 10,000 times; the first few say enough. */
#define VIOLATION_TEXT_MAX 8

static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

void tw_logs_violation_add(tw_logs_violations *v, const char *value, size_t value_len,
                           const char *member, const char *constraint)
{
    if (++v->count > VIOLATION_TEXT_MAX)
        return;
    if (v->text.len > 0)
        tw_buf_puts(&v->text, "; ");
    if (value == NULL) {
        tw_buf_puts(&v->text, "Value null");
    } else {
        size_t shown = utf8_cut(value, value_len, VIOLATION_VALUE_MAX);
        tw_buf_puts(&v->text, "Value '");
        tw_buf_append(&v->text, value, shown);
        tw_buf_puts(&v->text, shown < value_len ? "...'" : "'");
    }
    tw_buf_printf(&v->text, " at '%s' failed to satisfy constraint: Member must %s", member,
                  constraint);
}

int tw_logs_violations_take(tw_logs_violations *v, tw_err *err)
{
    if (v->count == 0)
        return 0;
    tw_err_set(err, -EINVAL, "%d validation error%s detected: %s", v->count,
               v->count == 1 ? "" : "s", tw_buf_cstr(&v->text));
    v->count = 0;
    tw_buf_reset(&v->text);
    return -EINVAL;
}

void tw_logs_violations_free(tw_logs_violations *v)
{
    tw_buf_free(&v->text);
    v->count = 0;
}

/* ---- names ---- */

/* Java counts UTF-16 code units: a 4-byte UTF-8 sequence is two. */
static size_t model_length(const char *s, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

static bool check_length(tw_logs_violations *v, const char *member, const char *s, size_t len,
                         size_t min, size_t max)
{
    size_t n = model_length(s, len);
    char constraint[64];
    if (n < min)
        snprintf(constraint, sizeof constraint, "have length greater than or equal to %zu", min);
    else if (n > max)
        snprintf(constraint, sizeof constraint, "have length less than or equal to %zu", max);
    else
        return true;
    tw_logs_violation_add(v, s, len, member, constraint);
    return false;
}

static bool group_name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
           || c == '-' || c == '_' || c == '/' || c == '#';
}

#define GROUP_NAME_PATTERN "[\\.\\-_/#A-Za-z0-9]"

static bool check_group_chars(tw_logs_violations *v, const char *member, const char *s, size_t len,
                              const char *pattern)
{
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++)
        ok = group_name_char((unsigned char)s[i]);
    if (ok)
        return true;
    char constraint[96];
    snprintf(constraint, sizeof constraint, "satisfy regular expression pattern: %s", pattern);
    tw_logs_violation_add(v, s, len, member, constraint);
    return false;
}

bool tw_logs_check_group_name(tw_logs_violations *v, const char *member, const char *name,
                              size_t len)
{
    bool ok = check_length(v, member, name, len, 1, TW_LOGS_MAX_NAME);
    /* The pattern is "+": an empty name breaks it too, as AWS reports. */
    if (len == 0) {
        tw_logs_violation_add(v, name, len, member,
                              "satisfy regular expression pattern: " GROUP_NAME_PATTERN "+");
        return false;
    }
    return check_group_chars(v, member, name, len, GROUP_NAME_PATTERN "+") && ok;
}

bool tw_logs_check_group_pattern(tw_logs_violations *v, const char *member, const char *pattern,
                                 size_t len)
{
    bool ok = check_length(v, member, pattern, len, 0, TW_LOGS_MAX_NAME);
    return check_group_chars(v, member, pattern, len, GROUP_NAME_PATTERN "*") && ok;
}

bool tw_logs_check_stream_name(tw_logs_violations *v, const char *member, const char *name,
                               size_t len)
{
    bool ok = check_length(v, member, name, len, 1, TW_LOGS_MAX_NAME);
    if (memchr(name, ':', len) || memchr(name, '*', len)) {
        tw_logs_violation_add(v, name, len, member, "satisfy regular expression pattern: [^:*]*");
        ok = false;
    }
    return ok;
}

bool tw_logs_group_name_reserved(const char *name, size_t len)
{
    return len >= 4 && strncasecmp(name, "aws/", 4) == 0;
}

/* \p{L}\p{Z}\p{N} plus _.:/=+-@; non-ASCII is taken as a letter (checking
 * Unicode categories would need tables for little gain). */
static bool tag_char(unsigned char c)
{
    return c >= 0x80 || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == ' ' || strchr("_.:/=+-@", c) != NULL;
}

static bool check_tag(tw_logs_violations *v, const char *member, const char *s, size_t len,
                      size_t min, size_t max, const char *pattern)
{
    bool ok = check_length(v, member, s, len, min, max);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0' || !tag_char((unsigned char)s[i])) {
            char constraint[96];
            snprintf(constraint, sizeof constraint, "satisfy regular expression pattern: %s",
                     pattern);
            tw_logs_violation_add(v, s, len, member, constraint);
            return false;
        }
    }
    return ok;
}

bool tw_logs_check_tag_key(tw_logs_violations *v, const char *member, const char *key, size_t len)
{
    return check_tag(v, member, key, len, 1, 128, "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$");
}

bool tw_logs_check_tag_value(tw_logs_violations *v, const char *member, const char *value,
                             size_t len)
{
    return check_tag(v, member, value, len, 0, 256, "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$");
}

/* ---- retention and ranges ---- */

static const int64_t retention_values[] = {1,    3,    5,    7,    14,   30,  60,  90,
                                           120,  150,  180,  365,  400,  545, 731, 1096,
                                           1827, 2192, 2557, 2922, 3288, 3653};

bool tw_logs_retention_valid(int64_t days)
{
    for (size_t i = 0; i < sizeof retention_values / sizeof retention_values[0]; i++)
        if (retention_values[i] == days)
            return true;
    return false;
}

void tw_logs_check_retention(tw_logs_violations *v, int64_t days)
{
    if (tw_logs_retention_valid(days))
        return;
    char value[24];
    tw_buf set = TW_BUF_INIT;
    tw_buf_puts(&set, "satisfy enum value set: [");
    for (size_t i = 0; i < sizeof retention_values / sizeof retention_values[0]; i++)
        tw_buf_printf(&set, "%s%" PRId64, i ? ", " : "", retention_values[i]);
    tw_buf_putc(&set, ']');
    int n = snprintf(value, sizeof value, "%" PRId64, days);
    tw_logs_violation_add(v, value, (size_t)n, "retentionInDays", tw_buf_cstr(&set));
    tw_buf_free(&set);
}

bool tw_logs_check_range(tw_logs_violations *v, const char *member, int64_t value, int64_t min,
                         int64_t max)
{
    char constraint[64], text[24];
    if (value < min)
        snprintf(constraint, sizeof constraint, "have value greater than or equal to %" PRId64,
                 min);
    else if (value > max)
        snprintf(constraint, sizeof constraint, "have value less than or equal to %" PRId64, max);
    else
        return true;
    int n = snprintf(text, sizeof text, "%" PRId64, value);
    tw_logs_violation_add(v, text, (size_t)n, member, constraint);
    return false;
}

/* ---- PutLogEvents ---- */

/* Model constraints on each event (timestamp >= 0, message >= 1 character),
 * reported like AWS with 1-based member indices. */
static void check_event_members(tw_logs_violations *v, const tw_logs_event *e, size_t index)
{
    char member[64];
    if (e->timestamp < 0) {
        char value[24];
        int n = snprintf(value, sizeof value, "%" PRId64, e->timestamp);
        snprintf(member, sizeof member, "logEvents.%zu.member.timestamp", index + 1);
        tw_logs_violation_add(v, value, (size_t)n, member, "have value greater than or equal to 0");
    }
    if (e->len == 0) {
        snprintf(member, sizeof member, "logEvents.%zu.member.message", index + 1);
        tw_logs_violation_add(v, "", 0, member, "have length greater than or equal to 1");
    }
}

int tw_logs_batch_check(const tw_logs_event *events, size_t n, uint64_t *batch_bytes, tw_err *err)
{
    if (n == 0 || n > TW_LOGS_MAX_BATCH_EVENTS)
        return tw_err_set(err, -EINVAL,
                          "1 validation error detected: Value at 'logEvents' failed to satisfy "
                          "constraint: Member must have length %s %d",
                          n == 0 ? "greater than or equal to" : "less than or equal to",
                          n == 0 ? 1 : TW_LOGS_MAX_BATCH_EVENTS);
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    for (size_t i = 0; i < n; i++)
        check_event_members(&v, &events[i], i);
    int rc = tw_logs_violations_take(&v, err);
    tw_logs_violations_free(&v);
    if (rc < 0)
        return rc;

    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t size = (uint64_t)events[i].len + TW_LOGS_EVENT_OVERHEAD;
        if (size > TW_LOGS_MAX_EVENT_BYTES)
            return tw_err_set(err, -EINVAL,
                              "Log event too large: %" PRIu64 " bytes exceeds limit of %d", size,
                              TW_LOGS_MAX_EVENT_BYTES);
        total += size;
    }
    if (total > TW_LOGS_MAX_BATCH_BYTES)
        return tw_err_set(err, -EINVAL, "Upload too large: %" PRIu64 " bytes exceeds limit of %d",
                          total, TW_LOGS_MAX_BATCH_BYTES);
    for (size_t i = 1; i < n; i++)
        if (events[i].timestamp < events[i - 1].timestamp)
            return tw_err_set(err, -EINVAL,
                              "Log events in a single PutLogEvents request must be "
                              "in chronological order.");
    if (batch_bytes)
        *batch_bytes = total - (uint64_t)n * TW_LOGS_EVENT_OVERHEAD;
    return 0;
}

int64_t tw_logs_retention_cutoff(int64_t now_ms, int64_t retention_days)
{
    if (retention_days <= 0)
        return INT64_MIN;
    return now_ms - retention_days * TW_LOGS_MS_PER_DAY;
}

/* How many events of the sorted batch have a timestamp below limit. */
static size_t count_below(const tw_logs_event *events, size_t n, int64_t limit)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (events[mid].timestamp < limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tw_logs_batch_window_compute(const tw_logs_event *events, size_t n, int64_t now_ms,
                                 int64_t retention_days, tw_logs_batch_window *out, tw_err *err)
{
    size_t too_old = count_below(events, n, now_ms - TW_LOGS_MAX_EVENT_AGE_MS);
    size_t expired = retention_days > 0
                         ? count_below(events, n, tw_logs_retention_cutoff(now_ms, retention_days))
                         : 0;
    /* "More than 2 hours ahead": the first event above now + 2 h. */
    size_t too_new = count_below(events, n, now_ms + TW_LOGS_MAX_EVENT_AHEAD_MS + 1);

    out->too_old_end = too_old > 0 ? (long)too_old : -1;
    out->expired_end = expired > 0 ? (long)expired : -1;
    out->too_new_start = too_new < n ? (long)too_new : -1;
    out->first = too_old > expired ? too_old : expired;
    out->end = too_new;
    if (out->end < out->first)
        out->end = out->first;
    if (out->end > out->first
        && events[out->end - 1].timestamp - events[out->first].timestamp
               > TW_LOGS_MAX_BATCH_SPAN_MS)
        return tw_err_set(err, -EINVAL,
                          "The batch of log events in a single PutLogEvents request "
                          "cannot span more than 24 hours.");
    return 0;
}

/* ---- positions and tokens ---- */

int tw_logs_position_compare(tw_logs_position a, tw_logs_position b)
{
    if (a.timestamp != b.timestamp)
        return a.timestamp < b.timestamp ? -1 : 1;
    if (a.id != b.id)
        return a.id < b.id ? -1 : 1;
    return 0;
}

tw_logs_position tw_logs_position_before(tw_logs_position p)
{
    if (p.id > 0)
        return (tw_logs_position){p.timestamp, p.id - 1};
    if (p.timestamp > 0)
        return (tw_logs_position){p.timestamp - 1, INT64_MAX};
    return p;
}

tw_logs_position tw_logs_position_after(tw_logs_position p)
{
    if (p.id < INT64_MAX)
        return (tw_logs_position){p.timestamp, p.id + 1};
    if (p.timestamp < INT64_MAX)
        return (tw_logs_position){p.timestamp + 1, 0};
    return p;
}

void tw_logs_token_encode(char kind, tw_logs_position p, char out[TW_LOGS_TOKEN_SIZE])
{
    snprintf(out, TW_LOGS_TOKEN_SIZE, "%c/%019" PRId64 "%019" PRId64, kind,
             p.timestamp < 0 ? 0 : p.timestamp, p.id < 0 ? 0 : p.id);
}

/* 19 decimal digits that fit an int64. */
static int parse_field(const char *s, int64_t *out)
{
    uint64_t value = 0;
    for (int i = 0; i < 19; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        value = value * 10 + (uint64_t)(s[i] - '0');
    }
    if (value > (uint64_t)INT64_MAX)
        return -EINVAL;
    *out = (int64_t)value;
    return 0;
}

int tw_logs_token_decode(const char *token, size_t len, const char *kinds, char *kind,
                         tw_logs_position *p)
{
    if (len != 40 || token[1] != '/' || token[0] == '\0' || !strchr(kinds, token[0]))
        return -EINVAL;
    tw_logs_position pos;
    if (parse_field(token + 2, &pos.timestamp) < 0 || parse_field(token + 21, &pos.id) < 0)
        return -EINVAL;
    *kind = token[0];
    *p = pos;
    return 0;
}

void tw_logs_name_token_encode(char kind, const char *name, tw_buf *out)
{
    tw_buf_putc(out, kind);
    tw_buf_putc(out, '/');
    tw_hex_encode_buf(name, strlen(name), out);
}

int tw_logs_name_token_decode(const char *token, size_t len, char kind, tw_buf *out)
{
    tw_buf_reset(out);
    if (len < 2 || token[0] != kind || token[1] != '/')
        return -EINVAL;
    if (tw_hex_decode(token + 2, len - 2, out, NULL) < 0 || strlen(tw_buf_cstr(out)) != out->len) {
        tw_buf_reset(out);
        return -EINVAL;
    }
    return 0;
}

void tw_logs_event_id(int64_t id, char out[TW_LOGS_EVENT_ID_SIZE])
{
    snprintf(out, TW_LOGS_EVENT_ID_SIZE, "%056" PRId64, id < 0 ? 0 : id);
}

void tw_logs_sequence_token(int64_t stream_id, int64_t sequence,
                            char out[TW_LOGS_SEQUENCE_TOKEN_SIZE])
{
    /* "49" like AWS's tokens, then 18 + 36 digits. */
    snprintf(out, TW_LOGS_SEQUENCE_TOKEN_SIZE, "49%018" PRId64 "%036" PRId64,
             stream_id < 0 ? 0 : stream_id % INT64_C(1000000000000000000),
             sequence < 0 ? 0 : sequence);
}

/* ---- ARNs ---- */

void tw_logs_group_arn(tw_buf *out, const char *region, const char *account, const char *name,
                       bool with_star)
{
    tw_buf_printf(out, "arn:aws:logs:%s:%s:log-group:%s%s", region, account, name,
                  with_star ? ":*" : "");
}

int tw_logs_group_identifier_name(const char *identifier, size_t len, const char **name,
                                  size_t *name_len)
{
    if (len < 4 || memcmp(identifier, "arn:", 4) != 0) {
        *name = identifier;
        *name_len = len;
        return 0;
    }
    /* arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*] — a group name
     * has no ':', so the fields split cleanly. */
    const char *field[9];
    size_t field_len[9], n = 0;
    const char *p = identifier, *end = identifier + len;
    while (n < 9) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        field[n] = p;
        field_len[n] = colon ? (size_t)(colon - p) : (size_t)(end - p);
        n++;
        if (!colon)
            break;
        p = colon + 1;
    }
    if (n < 7 || n > 8 || field_len[2] != 4 || memcmp(field[2], "logs", 4) != 0 || field_len[5] != 9
        || memcmp(field[5], "log-group", 9) != 0 || field_len[6] == 0)
        return -EINVAL;
    if (n == 8 && (field_len[7] != 1 || field[7][0] != '*'))
        return -EINVAL;
    *name = field[6];
    *name_len = field_len[6];
    return 0;
}

/* ---- reading ranges ---- */

static tw_logs_position position_max(tw_logs_position a, tw_logs_position b)
{
    return tw_logs_position_compare(a, b) >= 0 ? a : b;
}

static tw_logs_position position_min(tw_logs_position a, tw_logs_position b)
{
    return tw_logs_position_compare(a, b) <= 0 ? a : b;
}

void tw_logs_time_bounds(const tw_logs_time_range *range, tw_logs_position *after,
                         tw_logs_position *before)
{
    /* Event ids start at 1, so "> (t, 0)" is "timestamp >= t" and
     * "< (t, 0)" is "timestamp < t". Timestamps are >= 0. */
    *after = (tw_logs_position){0, 0};
    *before = (tw_logs_position){INT64_MAX, INT64_MAX};
    if (range->has_start && range->start > 0)
        *after = (tw_logs_position){range->start, 0};
    if (range->cutoff > 0)
        *after = position_max(*after, (tw_logs_position){range->cutoff, 0});
    if (range->has_end) {
        int64_t end = range->end;
        if (range->end_inclusive && end < INT64_MAX)
            end++;
        *before = (tw_logs_position){end < 0 ? 0 : end, 0};
    }
}

void tw_logs_get_plan_make(const tw_logs_time_range *range, char token_kind, tw_logs_position token,
                           bool start_from_head, tw_logs_get_plan *plan)
{
    tw_logs_time_bounds(range, &plan->after, &plan->before);
    plan->token_kind = token_kind;
    plan->token = token;
    if (token_kind == 'f') {
        plan->forward = true;
        plan->after = position_max(plan->after, token);
    } else if (token_kind == 'b') {
        plan->forward = false;
        plan->before = position_min(plan->before, token);
    } else {
        plan->forward = start_from_head;
    }
}

void tw_logs_get_tokens(const tw_logs_get_plan *plan, size_t count, tw_logs_position first,
                        tw_logs_position last, char forward[TW_LOGS_TOKEN_SIZE],
                        char backward[TW_LOGS_TOKEN_SIZE])
{
    if (count > 0) {
        tw_logs_token_encode('f', last, forward);
        tw_logs_token_encode('b', first, backward);
    } else if (plan->token_kind == 'f') {
        /* The end going forward: the same forward token; backward from it
         * covers everything up to and including P. */
        tw_logs_token_encode('f', plan->token, forward);
        tw_logs_token_encode('b', tw_logs_position_after(plan->token), backward);
    } else if (plan->token_kind == 'b') {
        tw_logs_token_encode('b', plan->token, backward);
        tw_logs_token_encode('f', tw_logs_position_before(plan->token), forward);
    } else {
        /* Nothing in range yet: reading forward from the start of the
         * range sees whatever arrives later. */
        tw_logs_token_encode('f', plan->after, forward);
        tw_logs_token_encode('b', plan->before, backward);
    }
}
