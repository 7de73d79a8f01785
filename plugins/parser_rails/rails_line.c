/* rails_line.c — one Rails log line into its parts (see rails_line.h): the
 * Logger prefix, the tags, the request lines and their fields, lograge's
 * key=value form, and the times Rails writes. No regex: every line of a
 * request goes through here, so each check is a few byte comparisons. */
#include "rails_line.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

const char *const rails_field_names[RAILS_F_COUNT] = {
    "method",  "path",  "remote_addr", "controller", "action", "format", "status", "duration_ms",
    "view_ms", "db_ms", "params",      "request_id", "user",   "error",  "level",
};

#define LIT(s) s, sizeof(s) - 1
#define MS_PER_HOUR INT64_C(3600000)

/* ---- small scanning helpers -------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_word(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || is_upper(c) || c == '_';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool starts_with(const char *p, size_t n, const char *lit, size_t lit_len)
{
    return n >= lit_len && memcmp(p, lit, lit_len) == 0;
}

static bool ends_with(rails_text t, const char *lit, size_t lit_len)
{
    return t.len >= lit_len && memcmp(t.ptr + t.len - lit_len, lit, lit_len) == 0;
}

static const char *find(const char *p, size_t n, const char *lit, size_t lit_len)
{
    return memmem(p, n, lit, lit_len);
}

static const char *find_last(const char *p, size_t n, const char *lit, size_t lit_len)
{
    if (n < lit_len)
        return NULL;
    for (size_t i = n - lit_len + 1; i-- > 0;)
        if (p[i] == lit[0] && memcmp(p + i, lit, lit_len) == 0)
            return p + i;
    return NULL;
}

static rails_text span(const char *begin, const char *end)
{
    return (rails_text){begin, (size_t)(end - begin)};
}

static rails_text trim_right(rails_text t)
{
    while (t.len > 0 && (t.ptr[t.len - 1] == ' ' || t.ptr[t.len - 1] == '\t'))
        t.len--;
    return t;
}

/* The decimal number (digits and dots) at p, possibly empty. */
static rails_text number_at(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && (is_digit(*q) || *q == '.'))
        q++;
    return span(p, q);
}

/* The number after label ("Views: ") anywhere in [p, end), or absent. */
static rails_text number_after(const char *p, const char *end, const char *label, size_t label_len)
{
    const char *at = find(p, (size_t)(end - p), label, label_len);
    if (at == NULL)
        return (rails_text){NULL, 0};
    rails_text t = number_at(at + label_len, end);
    return t.len > 0 ? t : (rails_text){NULL, 0};
}

/* ---- prefix and tags ----------------------------------------------------------- */

/* "I, [2024-01-02T03:04:05.123456 #1234]  INFO -- progname: "; returns its
 * length, or 0 when the line does not start with one. */
static size_t read_prefix(const char *s, size_t n, rails_line *out)
{
    static const char severities[] = "DIWEFA";
    if (n < 4 || s[1] != ',' || s[2] != ' ' || s[3] != '[' || s[0] == '\0')
        return 0;
    const char *severity = memchr(severities, s[0], sizeof severities - 1);
    if (severity == NULL)
        return 0;
    const char *end = s + n, *p = s + 4;
    size_t window = (size_t)(end - p) < 64 ? (size_t)(end - p) : 64;
    const char *hash = memchr(p, '#', window);
    if (hash == NULL)
        return 0;
    rails_text time = trim_right(span(p, hash));
    const char *q = hash + 1, *pid = q;
    while (q < end && is_digit(*q))
        q++;
    if (time.len == 0 || q == pid || q >= end || *q != ']')
        return 0;
    rails_text pid_text = span(pid, q);
    q++;
    while (q < end && *q == ' ')
        q++;
    const char *label = q;
    while (q < end && is_upper(*q))
        q++;
    if (q == label || !starts_with(q, (size_t)(end - q), LIT(" -- ")))
        return 0;
    q += 4;
    /* The progname (nil for Rails) runs to ": "; Ruby always writes it. */
    window = (size_t)(end - q) < 256 ? (size_t)(end - q) : 256;
    const char *colon = find(q, window, LIT(": "));
    size_t length;
    if (colon != NULL)
        length = (size_t)(colon + 2 - s);
    else if (q < end && end[-1] == ':' && (size_t)(end - q) <= 256)
        length = n; /* "... -- :" with the message's blank trimmed away */
    else
        return 0;
    out->has_prefix = true;
    out->severity = (rails_severity)(severity - severities + 1);
    out->prefix_time = time;
    out->pid = pid_text;
    return length;
}

/* "[a] [b] ": TaggedLogging's tags, each followed by a blank. */
static size_t read_tags(const char *s, size_t n, rails_line *out)
{
    size_t pos = 0;
    while (pos < n && s[pos] == '[' && out->n_tags < RAILS_MAX_TAGS) {
        size_t window = n - pos - 1 < 256 ? n - pos - 1 : 256;
        const char *close = memchr(s + pos + 1, ']', window);
        if (close == NULL)
            break;
        size_t after = (size_t)(close - s) + 1;
        if (after < n && s[after] != ' ')
            break;
        out->tags[out->n_tags++] = span(s + pos + 1, close);
        pos = after < n ? after + 1 : after;
    }
    return pos;
}

/* ---- request lines ----------------------------------------------------------- */

/* Started GET "/path" for 1.2.3.4 at 2012-01-01 12:00:00 +0000 */
static bool read_started(rails_line *out, const char *s, const char *end)
{
    if (!starts_with(s, (size_t)(end - s), LIT("Started ")))
        return false;
    const char *p = s + 8, *method = p;
    while (p < end && is_upper(*p))
        p++;
    if (p == method || end - p < 2 || p[0] != ' ' || p[1] != '"')
        return false;
    rails_text method_text = span(method, p);
    p += 2;
    out->kind = RAILS_LINE_STARTED;
    out->fields[RAILS_F_METHOD] = method_text;
    /* The path is logged unescaped, so its end is the last '" for '. A line
     * cut short (max_line_size, a hand-shortened sample) keeps what it has. */
    const char *close = find_last(p, (size_t)(end - p), LIT("\" for "));
    if (close == NULL) {
        rails_text rest = trim_right(span(p, end));
        if (rest.len > 0 && rest.ptr[rest.len - 1] == '"')
            rest.len--;
        out->fields[RAILS_F_PATH] = rest;
        return true;
    }
    out->fields[RAILS_F_PATH] = span(p, close);
    p = close + 6;
    const char *at = find(p, (size_t)(end - p), LIT(" at "));
    out->fields[RAILS_F_REMOTE_ADDR] = trim_right(span(p, at != NULL ? at : end));
    if (at != NULL)
        out->event_time = trim_right(span(at + 4, end));
    return true;
}

/* Processing by Admin::UsersController#show as HTML */
static bool read_processing(rails_line *out, const char *s, const char *end)
{
    if (!starts_with(s, (size_t)(end - s), LIT("Processing by ")))
        return false;
    const char *p = s + 14;
    const char *blank = memchr(p, ' ', (size_t)(end - p));
    const char *name_end = blank != NULL ? blank : end;
    const char *hash = memchr(p, '#', (size_t)(name_end - p));
    if (hash == NULL || hash == p)
        return false;
    out->kind = RAILS_LINE_PROCESSING;
    out->fields[RAILS_F_CONTROLLER] = span(p, hash);
    out->fields[RAILS_F_ACTION] = span(hash + 1, name_end);
    if (blank != NULL && starts_with(blank, (size_t)(end - blank), LIT(" as ")))
        out->fields[RAILS_F_FORMAT] = trim_right(span(blank + 4, end));
    return true;
}

/* Processing UsersController#show [to xml] (for 1.2.3.4 at 2008-08-14 21:16:25) [GET] */
static bool read_processing_old(rails_line *out, const char *s, const char *end)
{
    if (!starts_with(s, (size_t)(end - s), LIT("Processing ")))
        return false;
    const char *p = s + 11;
    const char *blank = memchr(p, ' ', (size_t)(end - p));
    if (blank == NULL)
        return false;
    const char *hash = memchr(p, '#', (size_t)(blank - p));
    const char *open = find(blank, (size_t)(end - blank), LIT(" (for "));
    if (hash == NULL || hash == p || open == NULL)
        return false;
    out->kind = RAILS_LINE_PROCESSING_OLD;
    out->fields[RAILS_F_CONTROLLER] = span(p, hash);
    out->fields[RAILS_F_ACTION] = span(hash + 1, blank);
    if (starts_with(blank, (size_t)(open - blank), LIT(" to ")))
        out->fields[RAILS_F_FORMAT] = span(blank + 4, open);
    p = open + 6;
    const char *close = memchr(p, ')', (size_t)(end - p));
    const char *inner_end = close != NULL ? close : end;
    const char *at = find(p, (size_t)(inner_end - p), LIT(" at "));
    out->fields[RAILS_F_REMOTE_ADDR] = span(p, at != NULL ? at : inner_end);
    if (at != NULL)
        out->event_time = span(at + 4, inner_end);
    if (close != NULL) {
        const char *bracket = memchr(close, '[', (size_t)(end - close));
        const char *shut = bracket != NULL ? memchr(bracket, ']', (size_t)(end - bracket)) : NULL;
        if (shut != NULL && shut > bracket + 1)
            out->fields[RAILS_F_METHOD] = span(bracket + 1, shut);
    }
    return true;
}

/* Seconds as Rails 1.x and 2.0 wrote them, into milliseconds in slot. */
static rails_text seconds_to_ms(rails_line *out, unsigned slot, rails_text seconds)
{
    char copy[32];
    if (seconds.len == 0 || seconds.len >= sizeof copy)
        return (rails_text){NULL, 0};
    memcpy(copy, seconds.ptr, seconds.len);
    copy[seconds.len] = '\0';
    char *stop;
    double value = strtod(copy, &stop);
    if (*stop != '\0' || !(value >= 0 && value < 1e12))
        return (rails_text){NULL, 0};
    char *text = out->numbers[slot];
    int n = snprintf(text, sizeof out->numbers[slot], "%.3f", value * 1000);
    if (n <= 0 || (size_t)n >= sizeof out->numbers[slot])
        return (rails_text){NULL, 0};
    while (n > 1 && text[n - 1] == '0') /* 226.990 -> 226.99, 30.000 -> 30 */
        n--;
    if (text[n - 1] == '.')
        n--;
    return (rails_text){text, (size_t)n};
}

static int status_of(rails_text digits)
{
    int status = 0;
    for (size_t i = 0; i < digits.len && i < 3; i++)
        status = status * 10 + (digits.ptr[i] - '0');
    return digits.len == 3 ? status : 0;
}

/* The path of "[https://host/path?q]" at the end of a Rails 1.x/2.x Completed. */
static rails_text path_of_url(const char *p, const char *end)
{
    rails_text url = trim_right(span(p, end));
    if (url.len < 2 || url.ptr[0] != '[' || url.ptr[url.len - 1] != ']')
        return (rails_text){NULL, 0};
    const char *begin = url.ptr + 1, *stop = url.ptr + url.len - 1;
    const char *scheme = find(begin, (size_t)(stop - begin), LIT("://"));
    if (scheme != NULL) {
        const char *slash = memchr(scheme + 3, '/', (size_t)(stop - scheme - 3));
        begin = slash != NULL ? slash : stop;
    }
    return begin < stop ? span(begin, stop) : (rails_text){NULL, 0};
}

static void read_completed_old(rails_line *out, const char *p, const char *end)
{
    rails_text duration = number_at(p, end);
    bool in_ms = starts_with(duration.ptr + duration.len,
                             (size_t)(end - duration.ptr - duration.len), LIT("ms"));
    rails_text view = number_after(p, end, LIT("View: "));
    if (view.ptr == NULL)
        view = number_after(p, end, LIT("Rendering: "));
    rails_text db = number_after(p, end, LIT("DB: "));
    if (in_ms) {
        out->fields[RAILS_F_DURATION] = duration.len > 0 ? duration : (rails_text){NULL, 0};
        out->fields[RAILS_F_VIEW] = view;
        out->fields[RAILS_F_DB] = db;
    } else {
        out->fields[RAILS_F_DURATION] = seconds_to_ms(out, 0, duration);
        out->fields[RAILS_F_VIEW] = seconds_to_ms(out, 1, view);
        out->fields[RAILS_F_DB] = seconds_to_ms(out, 2, db);
    }
    const char *bar = find_last(p, (size_t)(end - p), LIT(" | "));
    if (bar == NULL)
        return;
    rails_text digits = number_at(bar + 3, end);
    if (digits.len == 3 && memchr(digits.ptr, '.', 3) == NULL) {
        out->fields[RAILS_F_STATUS] = digits;
        out->status = status_of(digits);
    }
    const char *bracket = memchr(bar, '[', (size_t)(end - bar));
    if (bracket != NULL)
        out->fields[RAILS_F_PATH] = path_of_url(bracket, end);
}

static bool read_completed(rails_line *out, const char *s, const char *end)
{
    if (!starts_with(s, (size_t)(end - s), LIT("Completed ")))
        return false;
    const char *p = s + 10;
    out->kind = RAILS_LINE_COMPLETED;
    if (p < end && is_digit(*p)) {
        rails_text digits = number_at(p, end);
        if (digits.len == 3 && memchr(digits.ptr, '.', 3) == NULL) {
            out->fields[RAILS_F_STATUS] = digits;
            out->status = status_of(digits);
        }
        const char *in = find(p, (size_t)(end - p), LIT(" in "));
        if (in != NULL) {
            rails_text duration = number_at(in + 4, end);
            if (duration.len > 0)
                out->fields[RAILS_F_DURATION] = duration;
            out->fields[RAILS_F_VIEW] = number_after(in, end, LIT("Views: "));
            out->fields[RAILS_F_DB] = number_after(in, end, LIT("ActiveRecord: "));
        }
    } else if (starts_with(p, (size_t)(end - p), LIT("in "))) {
        read_completed_old(out, p + 3, end);
    }
    return true;
}

/* NoMethodError (...):   ActionView::Template::Error (...) on line #3 of x.erb: */
static void read_exception(rails_line *out, const char *s, const char *end)
{
    const char *p = s;
    bool scoped = false;
    for (;;) {
        if (p >= end || !is_upper(*p))
            return;
        while (p < end && is_word(*p))
            p++;
        if (end - p >= 3 && p[0] == ':' && p[1] == ':' && is_upper(p[2])) {
            scoped = true;
            p += 2;
            continue;
        }
        break;
    }
    rails_text name = span(s, p);
    bool names_error = scoped || ends_with(name, LIT("Error")) || ends_with(name, LIT("Exception"));
    if (!names_error || end - p < 2 || p[0] != ' ' || p[1] != '(')
        return;
    out->kind = RAILS_LINE_EXCEPTION;
    out->fields[RAILS_F_ERROR] = name;
}

/* ---- lograge key=value --------------------------------------------------------- */

int rails_lograge_field(const char *key, size_t len)
{
#define KEY(name, field) {name, sizeof(name) - 1, field}
    static const struct {
        const char *key;
        size_t len;
        int field;
    } keys[] = {
        KEY("method", RAILS_F_METHOD),         KEY("path", RAILS_F_PATH),
        KEY("format", RAILS_F_FORMAT),         KEY("controller", RAILS_F_CONTROLLER),
        KEY("action", RAILS_F_ACTION),         KEY("status", RAILS_F_STATUS),
        KEY("duration", RAILS_F_DURATION),     KEY("view", RAILS_F_VIEW),
        KEY("db", RAILS_F_DB),                 KEY("params", RAILS_F_PARAMS),
        KEY("request_id", RAILS_F_REQUEST_ID), KEY("remote_ip", RAILS_F_REMOTE_ADDR),
        KEY("ip", RAILS_F_REMOTE_ADDR),        KEY("remote_addr", RAILS_F_REMOTE_ADDR),
        KEY("error", RAILS_F_ERROR),           KEY("level", RAILS_F_LEVEL),
        KEY("time", RAILS_LOGRAGE_TIME),       KEY("timestamp", RAILS_LOGRAGE_TIME),
        KEY("@timestamp", RAILS_LOGRAGE_TIME),
    };
#undef KEY
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].len == len && memcmp(keys[i].key, key, len) == 0)
            return keys[i].field;
    return -1;
}

rails_text rails_error_class(rails_text error)
{
    const char *colon = error.ptr != NULL ? find(error.ptr, error.len, LIT(": ")) : NULL;
    return colon != NULL ? span(error.ptr, colon) : error;
}

/* Length of "key=" at p (a lograge key: a word), or 0. */
static size_t key_length(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && (is_word(*q) || *q == '.' || *q == '@'))
        q++;
    return q > p && q < end && *q == '=' ? (size_t)(q - p) : 0;
}

/* Where the value starting at p ends: before the next " key=". */
static const char *value_end(const char *p, const char *end)
{
    for (const char *q = p; q < end; q++)
        if (*q == ' ' && key_length(q + 1, end) > 0)
            return q;
    return end;
}

/* lograge quotes only error, with single quotes and no escaping: the value
 * ends at a quote followed by the end or by " key=". */
static const char *quoted_end(const char *p, const char *end)
{
    for (const char *q = p; q < end; q++)
        if (*q == '\'' && (q + 1 == end || (q[1] == ' ' && key_length(q + 2, end) > 0)))
            return q;
    return NULL;
}

static void store_pair(rails_line *out, const char *key, size_t key_len, rails_text value,
                       const char *user_key)
{
    if (user_key != NULL && strlen(user_key) == key_len && memcmp(user_key, key, key_len) == 0)
        out->fields[RAILS_F_USER] = value;
    int field = rails_lograge_field(key, key_len);
    if (field == RAILS_LOGRAGE_TIME)
        out->event_time = value;
    else if (field == RAILS_F_ERROR)
        out->fields[field] = rails_error_class(value);
    else if (field >= 0 && field != RAILS_F_LEVEL)
        out->fields[field] = value;
    if (field == RAILS_F_STATUS)
        out->status = status_of(value);
}

static bool read_lograge(rails_line *out, const char *s, const char *end, const char *user_key)
{
    size_t n = (size_t)(end - s);
    if (!starts_with(s, n, LIT("method=")) ||
        (find(s, n, LIT(" path=")) == NULL && find(s, n, LIT(" status=")) == NULL))
        return false;
    out->kind = RAILS_LINE_LOGRAGE;
    const char *p = s;
    while (p < end) {
        size_t key_len = key_length(p, end);
        if (key_len == 0) { /* not a pair: skip the word */
            const char *blank = memchr(p, ' ', (size_t)(end - p));
            p = blank != NULL ? blank + 1 : end;
            continue;
        }
        const char *v = p + key_len + 1, *stop = NULL;
        rails_text value;
        if (v < end && *v == '\'' && (stop = quoted_end(v + 1, end)) != NULL) {
            value = span(v + 1, stop);
            stop++;
        } else {
            stop = value_end(v, end);
            value = span(v, stop);
        }
        store_pair(out, p, key_len, value, user_key);
        p = stop < end ? stop + 1 : end;
    }
    return true;
}

/* ---- the line ------------------------------------------------------------------ */

static void read_message(rails_line *out, const char *user_key)
{
    const char *s = out->message.ptr, *end = s + out->message.len;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s == end) {
        if (!out->has_prefix && out->n_tags == 0)
            out->kind = RAILS_LINE_BLANK;
        return;
    }
    switch (*s) {
    case 'S':
        if (read_started(out, s, end))
            return;
        break;
    case 'P':
        if (read_processing(out, s, end) || read_processing_old(out, s, end))
            return;
        if (starts_with(s, (size_t)(end - s), LIT("Parameters: "))) {
            out->kind = RAILS_LINE_PARAMETERS;
            out->fields[RAILS_F_PARAMS] = span(s + 12, end);
            return;
        }
        break;
    case 'C':
        if (read_completed(out, s, end))
            return;
        break;
    case 'm':
        if (read_lograge(out, s, end, user_key))
            return;
        break;
    default:
        break;
    }
    if (is_upper(*s))
        read_exception(out, s, end);
}

void rails_line_read(const char *text, size_t len, const char *user_key, rails_line *out)
{
    memset(out, 0, offsetof(rails_line, numbers));
    if (text == NULL)
        text = "", len = 0;
    size_t pos = read_prefix(text, len, out);
    pos += read_tags(text + pos, len - pos, out);
    out->message = (rails_text){text + pos, len - pos};
    read_message(out, user_key);
}

bool rails_is_request_id(rails_text tag)
{
    if (tag.len < 16 || tag.len > RAILS_REQUEST_ID_MAX)
        return false;
    size_t hex = 0;
    for (size_t i = 0; i < tag.len; i++) {
        if (is_hex(tag.ptr[i]))
            hex++;
        else if (tag.ptr[i] != '-')
            return false;
    }
    return hex >= 16;
}

const char *rails_severity_name(rails_severity severity)
{
    static const char *const names[] = {NULL, "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "ANY"};
    return (unsigned)severity < sizeof names / sizeof names[0] ? names[severity] : NULL;
}

/* ---- times --------------------------------------------------------------------- */

/* The host's UTC offset at a local wall-clock time (counted as UTC). */
static int64_t local_offset_ms(rails_zone_cache *zone, int64_t wall_ms)
{
    int64_t hour =
        wall_ms >= 0 ? wall_ms / MS_PER_HOUR : -((-wall_ms + MS_PER_HOUR - 1) / MS_PER_HOUR);
    if (zone->valid && zone->hour == hour)
        return zone->offset_ms;
    int64_t offset = 0;
    for (int pass = 0; pass < 2; pass++) { /* the offset at the instant, not at the wall time */
        time_t t = (time_t)((wall_ms - offset) / 1000);
        struct tm tm;
        if (localtime_r(&t, &tm) == NULL)
            break;
        offset = (int64_t)tm.tm_gmtoff * 1000;
    }
    zone->hour = hour;
    zone->offset_ms = offset;
    zone->valid = true;
    return offset;
}

bool rails_time_parse(rails_text text, rails_zone_cache *zone, int64_t *epoch_ms)
{
    char copy[48];
    text = trim_right(text);
    if (text.ptr == NULL || text.len < 19 || text.len >= sizeof copy)
        return false;
    /* Ruby's Time#to_s puts a blank before the zone: "12:00:00 +0000". */
    size_t n = text.len;
    memcpy(copy, text.ptr, n);
    const char *blank = find_last(text.ptr, n, LIT(" "));
    if (blank != NULL && (size_t)(blank - text.ptr) >= 19) {
        size_t at = (size_t)(blank - text.ptr);
        rails_text zone_text = span(blank + 1, text.ptr + n);
        if (zone_text.len == 3 &&
            (memcmp(zone_text.ptr, "UTC", 3) == 0 || memcmp(zone_text.ptr, "GMT", 3) == 0)) {
            copy[at] = 'Z';
            n = at + 1;
        } else if (zone_text.len > 0 && (zone_text.ptr[0] == '+' || zone_text.ptr[0] == '-')) {
            memmove(copy + at, copy + at + 1, n - at - 1);
            n--;
        }
    }
    int64_t ms;
    bool has_zone = false;
    if (tw_time_parse_iso8601_maybe_local(copy, n, &ms, &has_zone, NULL) != 0)
        return false;
    if (!has_zone)
        ms -= local_offset_ms(zone, ms);
    *epoch_ms = ms;
    return true;
}
