/* lookup_events.c — LookupEvents' rules and its query over the event
 * history (lookup_events.h, spec/cloudtrail.md §5.4).
 *
 * Every attribute has its own statement so that SQLite picks that
 * attribute's partial index (event_history.c); a page is "the next
 * max_results + 1 rows below (time, seq)", the extra row telling whether
 * a NextToken is due.
 */
#include "lookup_events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "encode.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

#define DAY_MS (86400 * INT64_C(1000))
#define TOKEN_VERSION "1"

static const char *const attribute_names[] = {
    [TW_LOOKUP_NONE] = NULL,
    [TW_LOOKUP_EVENT_ID] = "EventId",
    [TW_LOOKUP_EVENT_NAME] = "EventName",
    [TW_LOOKUP_READ_ONLY] = "ReadOnly",
    [TW_LOOKUP_USERNAME] = "Username",
    [TW_LOOKUP_RESOURCE_TYPE] = "ResourceType",
    [TW_LOOKUP_RESOURCE_NAME] = "ResourceName",
    [TW_LOOKUP_EVENT_SOURCE] = "EventSource",
    [TW_LOOKUP_ACCESS_KEY_ID] = "AccessKeyId",
};
#define N_ATTRIBUTES (sizeof attribute_names / sizeof attribute_names[0])

#define ATTRIBUTE_LIST                                                                    \
    "EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, " \
    "AccessKeyId"

int tw_lookup_attribute_from_name(const char *key)
{
    for (size_t i = 1; i < N_ATTRIBUTES; i++)
        if (strcmp(attribute_names[i], key) == 0)
            return (int)i;
    return -1;
}

/* ---- the request ---------------------------------------------------------- */

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int fail_attributes(tw_call *call, const char *fmt, ...) TW_PRINTF(2, 3);
static int fail_attributes(tw_call *call, const char *fmt, ...)
{
    tw_buf message = TW_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    tw_buf_vprintf(&message, fmt, ap);
    va_end(ap);
    int rc = tw_call_fail(call, "InvalidLookupAttributesException", 400, "%s",
                          tw_buf_cstr(&message));
    tw_buf_free(&message);
    return rc;
}

/* The one LookupAttributes item (spec §5.4: at most one element). */
static int parse_attribute(tw_call *call, json_t *item, tw_lookup_query *q)
{
    char shown[TW_QUOTE_SIZE];
    if (!json_is_object(item))
        return fail_attributes(call, "A lookup attribute must be an object with AttributeKey "
                                     "and AttributeValue.");
    json_t *key = json_object_get(item, "AttributeKey");
    json_t *value = json_object_get(item, "AttributeValue");
    if (!json_is_string(key))
        return fail_attributes(call, "The lookup attribute has no AttributeKey: use one of "
                                     ATTRIBUTE_LIST ".");
    int attribute = tw_lookup_attribute_from_name(json_string_value(key));
    if (attribute < 0)
        return fail_attributes(call, "AttributeKey %s is not valid: use one of " ATTRIBUTE_LIST
                                     ".",
                               tw_quote(json_string_value(key), json_string_length(key), shown));
    if (!json_is_string(value))
        return fail_attributes(call, "The lookup attribute %s has no AttributeValue (a string "
                                     "of 1 to 2000 characters).",
                               attribute_names[attribute]);
    size_t length = utf8_length(json_string_value(value));
    if (length < 1 || length > TW_LOOKUP_VALUE_MAX
        || strlen(json_string_value(value)) != json_string_length(value))
        return fail_attributes(call, "The AttributeValue of %s must be 1 to 2000 characters.",
                               attribute_names[attribute]);
    q->attribute = (tw_lookup_attribute)attribute;
    q->value = json_string_value(value);
    if (q->attribute == TW_LOOKUP_READ_ONLY) {
        /* Stored as the record's readOnly, "true" or "false". */
        if (strcasecmp(q->value, "true") != 0 && strcasecmp(q->value, "false") != 0)
            return fail_attributes(call, "The ReadOnly attribute value must be true or false, "
                                         "not %s.",
                                   tw_quote(q->value, strlen(q->value), shown));
        q->value = strcasecmp(q->value, "true") == 0 ? "true" : "false";
    }
    return 0;
}

static int parse_attributes(tw_call *call, tw_lookup_query *q)
{
    json_t *list = NULL;
    int rc = tw_input_array(call, call->input, "LookupAttributes", &list);
    if (rc == -ENOENT || (rc == 0 && json_array_size(list) == 0))
        return 0;
    if (rc < 0)
        return rc;
    if (json_array_size(list) > 1) {
        return fail_attributes(call, "You can specify only one lookup attribute per request; "
                                     "LookupAttributes has %zu.",
                               json_array_size(list));
    }
    return parse_attribute(call, json_array_get(list, 0), q);
}

static int parse_max_results(tw_call *call, tw_lookup_query *q)
{
    int64_t max = TW_LOOKUP_MAX_RESULTS;
    int rc = tw_input_int(call, call->input, "MaxResults", &max);
    if (rc == -EINVAL)
        return rc;
    if (max < 1 || max > TW_LOOKUP_MAX_RESULTS)
        return tw_call_fail(call, "InvalidMaxResultsException", 400,
                            "MaxResults must be between 1 and %d; got %" PRId64 ".",
                            TW_LOOKUP_MAX_RESULTS, max);
    q->max_results = (int)max;
    return 0;
}

static int parse_category(tw_call *call, tw_lookup_query *q, const char **category)
{
    *category = NULL;
    int rc = tw_input_string(call, call->input, "EventCategory", category);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (strcmp(*category, "insight") != 0) {
        char shown[TW_QUOTE_SIZE];
        return tw_call_fail(call, "InvalidEventCategoryException", 400,
                            "EventCategory %s is not valid: the only event category is insight.",
                            tw_quote(*category, strlen(*category), shown));
    }
    q->insight = true;
    return 0;
}

/* What makes two requests the same query, hashed into every NextToken. */
static void fingerprint(const tw_lookup_query *q, const int64_t *start, const int64_t *end,
                        const char *category, char out[17])
{
    tw_buf text = TW_BUF_INIT;
    tw_buf_printf(&text, "%s\n%d\n", q->region != NULL ? q->region : "", (int)q->attribute);
    if (q->value != NULL)
        tw_buf_append(&text, q->value, strlen(q->value) + 1); /* the NUL separates */
    if (start != NULL)
        tw_buf_printf(&text, "\n%" PRId64, *start);
    else
        tw_buf_puts(&text, "\n-");
    if (end != NULL)
        tw_buf_printf(&text, "\n%" PRId64, *end);
    else
        tw_buf_puts(&text, "\n-");
    tw_buf_printf(&text, "\n%s", category != NULL ? category : "-");
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(text.data, text.len, digest);
    tw_buf_free(&text);
    tw_hex_encode(digest, 8, out);
}

/* A decimal int64 field of the token, ending at ':' or the end. */
static bool token_number(const char **p, const char *end, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    if (s >= end || *s < '0' || *s > '9')
        return false;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    if (s >= end || *s != ':')
        return false;
    *p = s + 1;
    *out = v;
    return true;
}

static bool decode_token(const char *token, tw_lookup_query *q)
{
    tw_buf raw = TW_BUF_INIT;
    if (tw_base64_decode(token, strlen(token), &raw, NULL) != 0 || raw.len <= 2) {
        tw_buf_free(&raw);
        return false;
    }
    const char *p = raw.data + 2, *end = raw.data + raw.len;
    bool ok = memcmp(raw.data, TOKEN_VERSION ":", 2) == 0
              && token_number(&p, end, &q->token_time_ms)
              && token_number(&p, end, &q->token_seq) && (size_t)(end - p) == 16
              && memcmp(p, q->fingerprint, 16) == 0;
    tw_buf_free(&raw);
    return ok;
}

static int parse_token(tw_call *call, tw_lookup_query *q)
{
    const char *token = NULL;
    int rc = tw_input_string(call, call->input, "NextToken", &token);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (!decode_token(token, q))
        return tw_call_fail(call, "InvalidNextTokenException", 400,
                            "The NextToken is not valid, or it was returned for a request with "
                            "other parameters: repeat the LookupAttributes, StartTime, EndTime "
                            "and EventCategory of the request that returned it.");
    q->has_token = true;
    return 0;
}

int tw_lookup_parse(tw_call *call, int64_t retention_days, tw_lookup_query *q)
{
    memset(q, 0, sizeof *q);
    q->region = call->region;
    int64_t start = 0, end = 0;
    const char *category = NULL;
    int rc = parse_attributes(call, q);
    int has_start = rc == 0 ? tw_input_time(call, call->input, "StartTime", &start) : rc;
    int has_end = has_start != -EINVAL ? tw_input_time(call, call->input, "EndTime", &end)
                                       : has_start;
    if (has_start == -EINVAL || has_end == -EINVAL)
        return -EINVAL;
    if (has_start == 0 && has_end == 0 && start > end) {
        char a[TW_ISO8601_MS_SIZE], b[TW_ISO8601_MS_SIZE];
        tw_time_format_iso8601_ms(start, a);
        tw_time_format_iso8601_ms(end, b);
        return tw_call_fail(call, "InvalidTimeRangeException", 400,
                            "The StartTime (%s) must not be after the EndTime (%s).", a, b);
    }
    if ((rc = parse_category(call, q, &category)) < 0 || (rc = parse_max_results(call, q)) < 0)
        return rc;
    fingerprint(q, has_start == 0 ? &start : NULL, has_end == 0 ? &end : NULL, category,
                q->fingerprint);
    if ((rc = parse_token(call, q)) < 0)
        return rc;
    /* The history keeps retention_days: nothing older is ever shown, even
     * before the sweep has removed it. */
    int64_t cutoff = call->now_ms - retention_days * DAY_MS;
    q->start_ms = has_start == 0 && start > cutoff ? start : cutoff;
    q->end_ms = has_end == 0 ? end : INT64_MAX;
    return 0;
}

/* ---- the query ------------------------------------------------------------- */

#define EVENT_COLUMNS                                                                   \
    "SELECT e.seq, e.time_ms, e.event_id, e.event_name, e.read_only, e.access_key_id, " \
    "e.event_source, e.username, e.resources, e.record "

#define PAGE_BY_COLUMN(column)                                                        \
    EVENT_COLUMNS "FROM events e WHERE e.lookup = 1 AND e.region = ?1 AND e." column \
                  " = ?2 AND e.time_ms >= ?3 AND (e.time_ms, e.seq) < (?4, ?5)"      \
                  " ORDER BY e.time_ms DESC, e.seq DESC LIMIT ?6"

#define PAGE_BY_RESOURCE(kind)                                                                \
    EVENT_COLUMNS "FROM event_resource_keys k JOIN events e ON e.seq = k.seq"                 \
                  " WHERE k.region = ?1 AND k.kind = '" kind "' AND k.value = ?2"             \
                  " AND k.time_ms >= ?3 AND (k.time_ms, k.seq) < (?4, ?5)"                    \
                  " ORDER BY k.time_ms DESC, k.seq DESC LIMIT ?6"

/* String literals: the statement cache keys on their address. */
static const char *const page_sql[] = {
    [TW_LOOKUP_NONE] = EVENT_COLUMNS
    "FROM events e WHERE e.lookup = 1 AND e.region = ?1 AND e.time_ms >= ?3"
    " AND (e.time_ms, e.seq) < (?4, ?5) ORDER BY e.time_ms DESC, e.seq DESC LIMIT ?6",
    [TW_LOOKUP_EVENT_ID] = PAGE_BY_COLUMN("event_id"),
    [TW_LOOKUP_EVENT_NAME] = PAGE_BY_COLUMN("event_name"),
    [TW_LOOKUP_READ_ONLY] = PAGE_BY_COLUMN("read_only"),
    [TW_LOOKUP_USERNAME] = PAGE_BY_COLUMN("username"),
    [TW_LOOKUP_RESOURCE_TYPE] = PAGE_BY_RESOURCE("T"),
    [TW_LOOKUP_RESOURCE_NAME] = PAGE_BY_RESOURCE("N"),
    [TW_LOOKUP_EVENT_SOURCE] = PAGE_BY_COLUMN("event_source"),
    [TW_LOOKUP_ACCESS_KEY_ID] = PAGE_BY_COLUMN("access_key_id"),
};

static void set_column_string(json_t *event, const char *key, sqlite3_stmt *st, int column)
{
    const char *text = (const char *)sqlite3_column_text(st, column);
    if (text != NULL)
        json_object_set_new(event, key, json_stringn(text, (size_t)sqlite3_column_bytes(st, column)));
}

/* An Event shape (spec §5.4), members in the model's order. */
static json_t *event_of_row(sqlite3_stmt *st)
{
    json_t *event = json_object();
    set_column_string(event, "EventId", st, 2);
    set_column_string(event, "EventName", st, 3);
    set_column_string(event, "ReadOnly", st, 4);
    set_column_string(event, "AccessKeyId", st, 5);
    json_object_set_new(event, "EventTime", json_integer(sqlite3_column_int64(st, 1)));
    set_column_string(event, "EventSource", st, 6);
    set_column_string(event, "Username", st, 7);
    const char *resources = (const char *)sqlite3_column_text(st, 8);
    json_t *list = resources != NULL ? json_loads(resources, 0, NULL) : NULL;
    json_object_set_new(event, "Resources", json_is_array(list) ? list : json_array());
    if (list != NULL && !json_is_array(list))
        json_decref(list);
    set_column_string(event, "CloudTrailEvent", st, 9);
    return event;
}

static char *encode_token(const tw_lookup_query *q, int64_t time_ms, int64_t seq)
{
    char raw[96];
    int n = snprintf(raw, sizeof raw, TOKEN_VERSION ":%" PRId64 ":%" PRId64 ":%s", time_ms, seq,
                     q->fingerprint);
    tw_buf token = TW_BUF_INIT;
    tw_base64_encode(raw, (size_t)n, &token);
    return tw_buf_steal(&token);
}

int tw_lookup_run(tw_db *db, const tw_lookup_query *q, json_t *events, char **next_token)
{
    *next_token = NULL;
    if (q->insight) /* the collector writes no Insights events */
        return 0;
    sqlite3_stmt *st = tw_db_prepare(db, page_sql[q->attribute]);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, q->region, -1, SQLITE_STATIC);
    if (q->value != NULL)
        sqlite3_bind_text(st, 2, q->value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, q->start_ms);
    sqlite3_bind_int64(st, 4, q->has_token ? q->token_time_ms : q->end_ms);
    sqlite3_bind_int64(st, 5, q->has_token ? q->token_seq : INT64_MAX);
    sqlite3_bind_int(st, 6, q->max_results + 1);
    int rc, rows = 0;
    int64_t last_time = 0, last_seq = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++rows > q->max_results) {
            *next_token = encode_token(q, last_time, last_seq);
            rc = SQLITE_DONE;
            break;
        }
        last_seq = sqlite3_column_int64(st, 0);
        last_time = sqlite3_column_int64(st, 1);
        json_array_append_new(events, event_of_row(st));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tw_warn("LookupEvents failed: %s", tw_db_error(db));
        free(*next_token);
        *next_token = NULL;
        return -EIO;
    }
    return 0;
}
