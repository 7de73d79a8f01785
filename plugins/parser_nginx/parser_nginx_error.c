/* parser_nginx_error.c — format = nginx_error: nginx's error log.
 *
 *   2024/01/02 03:04:05 [error] 1234#5678: *99 message, client: 1.2.3.4,
 *   server: x, request: "GET / HTTP/1.1", upstream: "...", host: "...",
 *   referrer: "..."
 *
 * nginx writes an event's message as it got it, newlines included (PHP-FPM's
 * stderr relayed by FastCGI is the common case), so a line that does not
 * start with a time continues the event before it. An event is therefore
 * held until the next one starts, or until the tail's flush finds it idle
 * for group_timeout_ms; pending_offset keeps the checkpoint before it.
 *
 * The context nginx appends (", client: ..., server: ...") comes from
 * ngx_http_log_error and the mail and stream modules: keys in a fixed order,
 * request/host/referrer quoted. Since a message or a request may itself hold
 * ", client: ", the context is the first ", client: " from which the keys
 * follow in that order with their quotes in place.
 *
 * Times carry no zone: they are the server's local time, read here in the
 * agent's local time zone (log_localtime.h), which is the server's when the
 * agent runs beside nginx. */
#include "parser_nginx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log_localtime.h"
#include "mem.h"
#include "nginx_format.h"
#include "timefmt.h"

/* A group never grows past one CloudWatch Logs event (256 KiB less the 26
 * bytes counted per event), so grouping never makes an event unshippable. */
#define MAX_GROUP_BYTES (262144 - 26)

#define TIME_LEN 19 /* 2024/01/02 03:04:05 */

typedef struct error_parser {
    int64_t group_timeout_ms;
    tw_buf group; /* the held event: its lines joined with '\n' */
    bool holding;
    uint64_t offset, end;
    int64_t first_read_ms, last_read_ms;
    tw_log_localtime localtime; /* the log's times are the host's local time */
} error_parser;

static int error_create(const tw_log_parser_options *options, void **state, tw_err *err)
{
    (void)err;
    error_parser *p = tw_calloc(1, sizeof *p);
    tw_log_localtime_init(&p->localtime);
    p->group_timeout_ms = options != NULL && options->group_timeout_ms > 0
                              ? options->group_timeout_ms
                              : 0;
    *state = p;
    return 0;
}

/* ---- the header: time, level, pid#tid, *connection ---------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int digits_value(const char *t, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (t[i] - '0');
    return v;
}

/* "YYYY/MM/DD hh:mm:ss" at the start of a line, then a space or the end. */
static bool starts_with_time(const char *t, size_t len)
{
    static const char shape[] = "dddd/dd/dd dd:dd:dd";
    if (len < TIME_LEN || (len > TIME_LEN && t[TIME_LEN] != ' '))
        return false;
    for (size_t i = 0; i < TIME_LEN; i++)
        if (shape[i] == 'd' ? !is_digit(t[i]) : t[i] != shape[i])
            return false;
    return true;
}

static bool local_time_ms(error_parser *p, const char *t, int64_t *out)
{
    int year = digits_value(t, 4), month = digits_value(t + 5, 2), day = digits_value(t + 8, 2);
    int hour = digits_value(t + 11, 2), minute = digits_value(t + 14, 2);
    int second = digits_value(t + 17, 2);
    int64_t wall_ms;
    if (year < 1970 || tw_time_from_fields(year, month, day, hour, minute, second, &wall_ms,
                                           NULL) != 0)
        return false; /* a date that does not exist (30 Feb) */
    *out = tw_log_localtime_to_epoch(&p->localtime, wall_ms);
    return true;
}

typedef struct header {
    tw_nginx_span level, pid, tid, connection;
    size_t message; /* where the message starts */
} header;

/* Reads a run of characters accepted by ok, at most max, at t[*i]. */
static tw_nginx_span take(const char *t, size_t len, size_t *i, bool (*ok)(char), size_t max)
{
    size_t start = *i;
    while (*i < len && *i - start < max && ok(t[*i]))
        (*i)++;
    return (tw_nginx_span){t + start, *i - start};
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool expect(const char *t, size_t len, size_t *i, const char *text)
{
    size_t n = strlen(text);
    if (len - *i < n || memcmp(t + *i, text, n) != 0)
        return false;
    *i += n;
    return true;
}

/* " [error] 1234#5678: *99 " after the time. */
static bool parse_header(const char *t, size_t len, header *h)
{
    size_t i = TIME_LEN;
    if (!expect(t, len, &i, " ["))
        return false;
    h->level = take(t, len, &i, is_lower, 8);
    if (h->level.len == 0 || !expect(t, len, &i, "] "))
        return false;
    h->pid = take(t, len, &i, is_digit, 20);
    if (h->pid.len == 0 || !expect(t, len, &i, "#"))
        return false;
    h->tid = take(t, len, &i, is_digit, 20);
    if (h->tid.len == 0 || !expect(t, len, &i, ":"))
        return false;
    h->connection = (tw_nginx_span){NULL, 0};
    size_t after = i;
    if (expect(t, len, &after, " *")) {
        tw_nginx_span connection = take(t, len, &after, is_digit, 20);
        if (connection.len > 0 && (after == len || t[after] == ' ')) {
            h->connection = connection;
            i = after;
        }
    }
    if (i < len && t[i] == ' ')
        i++;
    h->message = i;
    return true;
}

/* ---- the context: ", client: ..., server: ..., request: "...", ..." ------ */

typedef struct context_key {
    const char *pattern;
    size_t len;
    const char *name; /* NULL: ends the value before it, not a field */
    bool quoted;
} context_key;

#define KEY(pattern, name, quoted) {pattern, sizeof pattern - 1, name, quoted}

/* In the order nginx writes them (http, mail and stream modules). upstream
 * is quoted by http and bare in mail, so it takes either. */
static const context_key keys[] = {
    KEY(", client: ", "client", false),
    KEY(", server: ", "server", false),
    KEY(", login: ", "login", true),
    KEY(", request: ", "request", true),
    KEY(", subrequest: ", "subrequest", true),
    KEY(", upstream: ", "upstream", false),
    KEY(", host: ", "host", true),
    KEY(", referrer: ", "referrer", true),
    KEY(", bytes from/to client:", NULL, false),
    KEY(", bytes from/to upstream:", NULL, false),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Where key j occurs in t[from .. end) so that a quoted value before it
 * closes right there and its own quoted value opens right after. */
static size_t find_key(const char *t, size_t from, size_t end, size_t j, bool quoted_before)
{
    const context_key *k = &keys[j];
    while (from < end) {
        const char *p = memmem(t + from, end - from, k->pattern, k->len);
        if (p == NULL)
            return SIZE_MAX;
        size_t at = (size_t)(p - t);
        bool closes = !quoted_before || (at > 0 && t[at - 1] == '"');
        bool opens = !k->quoted || (at + k->len < end && t[at + k->len] == '"');
        if (closes && opens)
            return at;
        from = at + 1;
    }
    return SIZE_MAX;
}

/* Whether key k's value, starting at t[start], is a quoted string. */
static bool value_is_quoted(size_t k, const char *t, size_t start, size_t end)
{
    return keys[k].quoted || (start < end && t[start] == '"');
}

/* Checks and unquotes the value of key k; false when it is not what nginx
 * writes there (a quoted key's value unquoted, a quote in an address). */
static bool take_value(size_t k, const char *t, size_t start, size_t end, tw_nginx_span *out)
{
    size_t len = end - start;
    bool is_quoted = len >= 2 && t[start] == '"' && t[end - 1] == '"';
    if (value_is_quoted(k, t, start, end) && !is_quoted)
        return false;
    if (!is_quoted && memchr(t + start, '"', len) != NULL)
        return false;
    if (is_quoted) {
        start++;
        len -= 2;
    }
    if (k == 0) { /* mail: "client: 1.2.3.4 using starttls" */
        const char *space = memchr(t + start, ' ', len);
        if (space != NULL)
            len = (size_t)(space - (t + start));
    }
    *out = (tw_nginx_span){t + start, len};
    return true;
}

/* Reads the keys from the ", client: " at c; a value never spans lines. */
static bool parse_chain(const char *t, size_t c, size_t len, tw_nginx_span values[N_KEYS])
{
    memset(values, 0, N_KEYS * sizeof values[0]);
    size_t k = 0, start = c + keys[0].len;
    for (;;) {
        const char *newline = memchr(t + start, '\n', len - start);
        size_t line_end = newline != NULL ? (size_t)(newline - t) : len;
        size_t next = SIZE_MAX, next_key = 0;
        for (size_t j = k + 1; j < N_KEYS; j++) {
            size_t at = find_key(t, start, line_end, j, value_is_quoted(k, t, start, line_end));
            if (at < next) {
                next = at;
                next_key = j;
            }
        }
        if (!take_value(k, t, start, next != SIZE_MAX ? next : line_end, &values[k]))
            return false;
        if (next == SIZE_MAX)
            return true;
        k = next_key;
        start = next + keys[k].len;
    }
}

/* The first ", client: " at or after from that starts a well-formed
 * context, or SIZE_MAX. */
static size_t find_context(const char *t, size_t from, size_t len, tw_nginx_span values[N_KEYS])
{
    while (from < len) {
        const char *p = memmem(t + from, len - from, keys[0].pattern, keys[0].len);
        if (p == NULL)
            return SIZE_MAX;
        size_t c = (size_t)(p - t);
        if (parse_chain(t, c, len, values))
            return c;
        from = c + 1;
    }
    return SIZE_MAX;
}

/* ---- records ----------------------------------------------------------- */

static void add_span(tw_log_record *record, const char *name, tw_nginx_span v)
{
    if (v.len > 0)
        tw_log_record_add(record, name, v.text, v.len);
}

static void add_fields(tw_log_record *record, const header *h)
{
    const char *t = record->message;
    size_t len = record->message_len;
    tw_log_record_add(record, "time", t, TIME_LEN);
    add_span(record, "level", h->level);
    add_span(record, "pid", h->pid);
    add_span(record, "tid", h->tid);
    add_span(record, "connection", h->connection);
    tw_nginx_span values[N_KEYS];
    size_t context = find_context(t, h->message, len, values);
    size_t message_end = context != SIZE_MAX ? context : len;
    add_span(record, "message", (tw_nginx_span){t + h->message, message_end - h->message});
    if (context == SIZE_MAX)
        return;
    for (size_t k = 0; k < N_KEYS; k++) {
        if (keys[k].name == NULL)
            continue;
        add_span(record, keys[k].name, values[k]);
        tw_nginx_request parts;
        if (strcmp(keys[k].name, "request") == 0 && values[k].len > 0 &&
            tw_nginx_split_request(values[k].text, values[k].len, &parts)) {
            add_span(record, "method", parts.method);
            add_span(record, "path", parts.path);
            add_span(record, "protocol", parts.protocol);
        }
    }
}

static void emit_group(error_parser *p, tw_log_emit_fn emit, void *ctx)
{
    tw_log_record record;
    record.message = p->group.data;
    record.message_len = p->group.len;
    record.timestamp_ms = p->first_read_ms;
    record.offset = p->offset;
    record.end = p->end;
    record.parsed = false;
    record.n_fields = 0;
    header h;
    int64_t ms;
    if (parse_header(record.message, record.message_len, &h) &&
        local_time_ms(p, record.message, &ms)) {
        record.parsed = true;
        record.timestamp_ms = ms;
        add_fields(&record, &h);
    }
    emit(ctx, &record);
    p->holding = false;
    tw_buf_reset(&p->group);
}

static void emit_alone(const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    tw_log_record record;
    record.message = line->text;
    record.message_len = line->len;
    record.timestamp_ms = line->read_time_ms;
    record.offset = line->offset;
    record.end = line->end;
    record.parsed = false;
    record.n_fields = 0;
    emit(ctx, &record);
}

static void hold(error_parser *p, const tw_log_line *line)
{
    tw_buf_reset(&p->group);
    tw_buf_append(&p->group, line->text, line->len);
    p->holding = true;
    p->offset = line->offset;
    p->end = line->end;
    p->first_read_ms = p->last_read_ms = line->read_time_ms;
}

static void error_feed(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    error_parser *p = state;
    if (starts_with_time(line->text, line->len)) {
        if (p->holding)
            emit_group(p, emit, ctx);
        hold(p, line);
        return;
    }
    if (p->holding && p->group.len + 1 + line->len <= MAX_GROUP_BYTES) {
        tw_buf_putc(&p->group, '\n');
        tw_buf_append(&p->group, line->text, line->len);
        p->end = line->end;
        p->last_read_ms = line->read_time_ms;
        return;
    }
    /* No event to continue (the file starts mid-event, or the event was
     * flushed or is full): the line goes out on its own, unparsed. */
    if (p->holding)
        emit_group(p, emit, ctx);
    emit_alone(line, emit, ctx);
}

static void error_flush(void *state, int64_t now_ms, bool all, tw_log_emit_fn emit, void *ctx)
{
    error_parser *p = state;
    if (p->holding && (all || p->last_read_ms < now_ms - p->group_timeout_ms))
        emit_group(p, emit, ctx);
}

static uint64_t error_pending_offset(const void *state)
{
    const error_parser *p = state;
    return p->holding ? p->offset : TW_LOG_NO_PENDING;
}

static void error_destroy(void *state)
{
    error_parser *p = state;
    if (p == NULL)
        return;
    tw_buf_free(&p->group);
    free(p);
}

const tw_log_parser_ops tw_parser_nginx_error = {
    .name = "nginx_error",
    .create = error_create,
    .feed = error_feed,
    .flush = error_flush,
    .pending_offset = error_pending_offset,
    .destroy = error_destroy,
};
