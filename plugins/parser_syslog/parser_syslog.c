/* parser_syslog.c — format = syslog: the RFC 3164, ISO-timestamped and
 * RFC 5424 headers of a syslog line, read in place (see parser_syslog.h);
 * the sshd/sudo/cron fields come from syslog_auth.c. */
#include "parser_syslog.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_localtime.h"
#include "mem.h"
#include "syslog_auth.h"
#include "timefmt.h"

/* RFC 3164 has no year; a line dated further ahead of its read time than
 * this (clocks disagree a little, zones a lot) belongs to last year. */
#define FUTURE_SLACK_MS INT64_C(86400000)
/* Feb 29 read in a common year goes back to the last leap year. */
#define MAX_YEARS_BACK 4
/* The largest PRI: facility 23 (local7), severity 7 (debug). */
#define MAX_PRI 191

typedef struct syslog_state {
    tw_log_localtime localtime;
} syslog_state;

/* A cursor over the line, which is not NUL-terminated. */
typedef struct cursor {
    const char *p;
    const char *end;
} cursor;

/* What a header holds; an absent part has p == NULL. */
typedef struct syslog_header {
    int pri; /* -1: none */
    tw_syslog_span pri_text, host, program, pid, msgid, structured_data, message;
    bool has_time;
    int64_t timestamp_ms;
} syslog_header;

static const char *const facility_names[24] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};
static const char *const severity_names[8] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool at_end(const cursor *c)
{
    return c->p >= c->end;
}

static bool eat_char(cursor *c, char ch)
{
    if (at_end(c) || *c->p != ch)
        return false;
    c->p++;
    return true;
}

/* The text up to the next space or the end (not consumed). */
static tw_syslog_span peek_token(const cursor *c)
{
    const char *space = memchr(c->p, ' ', (size_t)(c->end - c->p));
    const char *stop = space ? space : c->end;
    return (tw_syslog_span){c->p, (size_t)(stop - c->p)};
}

/* ---- <PRI> -------------------------------------------------------------- */

/* "<N>" with 1 to 3 digits and N <= 191. Returns false for a '<' that does
 * not open a valid PRI (the line is then not syslog). */
static bool parse_pri(cursor *c, syslog_header *h)
{
    h->pri = -1;
    if (!eat_char(c, '<'))
        return true;
    const char *digits = c->p;
    int value = 0;
    while (!at_end(c) && is_digit(*c->p) && c->p - digits < 3)
        value = value * 10 + (*c->p++ - '0');
    if (c->p == digits || value > MAX_PRI || !eat_char(c, '>'))
        return false;
    h->pri = value;
    h->pri_text = (tw_syslog_span){digits, (size_t)(c->p - digits - 1)};
    return true;
}

/* ---- timestamps --------------------------------------------------------- */

static bool iso_time(syslog_state *s, tw_syslog_span text, int64_t *out)
{
    int64_t ms;
    bool has_zone;
    if (tw_time_parse_iso8601_maybe_local(text.p, text.len, &ms, &has_zone, NULL) != 0)
        return false;
    *out = has_zone ? ms : tw_log_localtime_to_epoch(&s->localtime, ms);
    return true;
}

/* The length of "Mmm dd hh:mm:ss[.fraction]" at the start of c (its parts
 * are checked by tw_time_parse_rfc3164), or 0. */
static size_t rfc3164_time_length(const cursor *c)
{
    size_t n = (size_t)(c->end - c->p), i = 4;
    const char *p = c->p;
    if (n < 4 || p[3] != ' ')
        return 0;
    if (i < n && p[i] == ' ')
        i++; /* "Jun  8" */
    size_t day_end = i + 2;
    while (i < n && i < day_end && is_digit(p[i]))
        i++;
    i += 1 + 8; /* " hh:mm:ss" */
    if (i > n)
        return 0;
    if (i + 1 < n && p[i] == '.' && is_digit(p[i + 1]))
        for (i++; i < n && is_digit(p[i]);)
            i++;
    return i;
}

static bool is_leap_day(tw_syslog_span text)
{
    return text.len >= 6 && memcmp(text.p, "Feb 29", 6) == 0;
}

/* The year is the local one at read time, unless that puts the line more
 * than a day in the future (then it was written last year) or the date is a
 * Feb 29 that year lacks (then it is the last leap year's). */
static bool rfc3164_time(syslog_state *s, tw_syslog_span text, int64_t read_time_ms, int64_t *out)
{
    int year = tw_log_localtime_year(&s->localtime, read_time_ms);
    for (int back = 0; back <= MAX_YEARS_BACK; back++) {
        int64_t wall;
        int rc = tw_time_parse_rfc3164(text.p, text.len, year - back, &wall, NULL);
        if (rc != 0 && !is_leap_day(text))
            return false; /* not a date in any year */
        if (rc != 0)
            continue;
        int64_t ms = tw_log_localtime_to_epoch(&s->localtime, wall);
        if (ms > read_time_ms + FUTURE_SLACK_MS)
            continue;
        *out = ms;
        return true;
    }
    return false;
}

/* ---- RFC 3164 ------------------------------------------------------------ */

/* "program:" or "program[pid]:" as one token. The program has no ':', '['
 * or ']' (so "host" or "12:00" are not tags). */
static bool parse_tag(tw_syslog_span token, syslog_header *h)
{
    if (token.len < 2 || token.p[token.len - 1] != ':')
        return false;
    tw_syslog_span program = {token.p, token.len - 1}, pid = {NULL, 0};
    if (program.p[program.len - 1] == ']') {
        const char *open = memchr(program.p, '[', program.len);
        if (open == NULL || open + 2 > program.p + program.len - 1)
            return false;
        pid = (tw_syslog_span){open + 1, (size_t)(program.p + program.len - 1 - (open + 1))};
        program.len = (size_t)(open - program.p);
    }
    if (program.len == 0)
        return false;
    for (size_t i = 0; i < program.len; i++) {
        char ch = program.p[i];
        if (ch == ':' || ch == '[' || ch == ']')
            return false;
    }
    for (size_t i = 0; i < pid.len; i++)
        if (pid.p[i] == '[' || pid.p[i] == ']')
            return false;
    h->program = program;
    h->pid = pid;
    return true;
}

/* A host name, IPv4 or IPv6 address, or "relay/host" as rsyslog writes a
 * forwarded one; "---" (syslogd's "--- last message repeated") is not. */
static bool is_host(tw_syslog_span token)
{
    if (token.len == 0 || !(is_alnum(token.p[0]) || token.p[0] == ':'))
        return false;
    for (size_t i = 0; i < token.len; i++) {
        char ch = token.p[i];
        if (!is_alnum(ch) && (ch == '\0' || !strchr("._-:%/@", ch)))
            return false;
    }
    return true;
}

/* After the timestamp and its space: [host] [tag] message. */
static void parse_3164_rest(cursor *c, syslog_header *h)
{
    tw_syslog_span first = peek_token(c);
    if (parse_tag(first, h)) {
        c->p += first.len;
    } else if (is_host(first)) {
        h->host = first;
        c->p += first.len;
        eat_char(c, ' ');
        tw_syslog_span second = peek_token(c);
        if (parse_tag(second, h))
            c->p += second.len;
    }
    if (h->program.p != NULL)
        eat_char(c, ' ');
    h->message = (tw_syslog_span){c->p, (size_t)(c->end - c->p)};
}

static bool parse_3164(syslog_state *s, cursor *c, int64_t read_time_ms, syslog_header *h)
{
    tw_syslog_span time;
    bool ok;
    if (c->end - c->p >= 5 && is_digit(c->p[0]) && c->p[4] == '-') {
        time = peek_token(c);
        ok = iso_time(s, time, &h->timestamp_ms);
    } else {
        time = (tw_syslog_span){c->p, rfc3164_time_length(c)};
        ok = time.len > 0 && rfc3164_time(s, time, read_time_ms, &h->timestamp_ms);
    }
    if (!ok)
        return false;
    h->has_time = true;
    c->p += time.len;
    if (!at_end(c) && !eat_char(c, ' '))
        return false;
    parse_3164_rest(c, h);
    return true;
}

/* ---- RFC 5424 ------------------------------------------------------------ */

/* One header field and the space after it; "-" is absent. */
static bool field_5424(cursor *c, tw_syslog_span *out)
{
    tw_syslog_span token = peek_token(c);
    if (token.len == 0)
        return false;
    c->p += token.len;
    if (!eat_char(c, ' '))
        return false;
    *out = token.len == 1 && token.p[0] == '-' ? (tw_syslog_span){NULL, 0} : token;
    return true;
}

/* SD-NAME: 1 or more printable US-ASCII but '=', ' ', ']' and '"'. */
static bool sd_name(cursor *c)
{
    const char *start = c->p;
    while (!at_end(c) && *c->p > ' ' && *c->p < 127 && !strchr("=]\"", *c->p))
        c->p++;
    return c->p > start;
}

/* One SD-ELEMENT: "[" SD-ID *(" " PARAM-NAME "=\"" PARAM-VALUE "\"") "]",
 * where the value escapes '"', '\' and ']' with a backslash. */
static bool sd_element(cursor *c)
{
    if (!eat_char(c, '[') || !sd_name(c))
        return false;
    while (eat_char(c, ' ')) {
        if (!sd_name(c) || !eat_char(c, '=') || !eat_char(c, '"'))
            return false;
        while (!at_end(c) && *c->p != '"')
            c->p += *c->p == '\\' && c->end - c->p > 1 ? 2 : 1;
        if (!eat_char(c, '"'))
            return false;
    }
    return eat_char(c, ']');
}

static bool parse_5424(syslog_state *s, cursor *c, syslog_header *h)
{
    /* VERSION: a nonzero digit and up to two more (only 1 exists). */
    const char *version = c->p;
    while (!at_end(c) && is_digit(*c->p) && c->p - version < 3)
        c->p++;
    if (c->p == version || *version == '0' || !eat_char(c, ' '))
        return false;
    tw_syslog_span time;
    if (!field_5424(c, &time))
        return false;
    if (time.p != NULL) {
        if (!iso_time(s, time, &h->timestamp_ms))
            return false;
        h->has_time = true;
    }
    if (!field_5424(c, &h->host) || !field_5424(c, &h->program) || !field_5424(c, &h->pid) ||
        !field_5424(c, &h->msgid))
        return false;
    const char *sd = c->p;
    if (eat_char(c, '-')) {
        /* NILVALUE: no structured data */
    } else {
        do {
            if (!sd_element(c))
                return false;
        } while (!at_end(c) && *c->p == '[');
        h->structured_data = (tw_syslog_span){sd, (size_t)(c->p - sd)};
    }
    if (at_end(c))
        return true;
    if (!eat_char(c, ' '))
        return false;
    /* MSG-UTF8 starts with a BOM; it says "UTF-8" and is not text. */
    if (c->end - c->p >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    h->message = (tw_syslog_span){c->p, (size_t)(c->end - c->p)};
    return true;
}

/* ---- the parser --------------------------------------------------------- */

static bool parse_line(syslog_state *s, const tw_log_line *line, syslog_header *h)
{
    memset(h, 0, sizeof *h);
    cursor c = {line->text, line->text + line->len};
    if (!parse_pri(&c, h))
        return false;
    if (h->pri >= 0 && !at_end(&c) && is_digit(*c.p) && *c.p != '0') {
        tw_syslog_span version = peek_token(&c);
        if (version.len <= 3 && version.p + version.len < c.end)
            return parse_5424(s, &c, h);
    }
    return parse_3164(s, &c, line->read_time_ms, h);
}

static void add_span(tw_log_record *r, const char *name, tw_syslog_span value)
{
    if (value.p != NULL)
        tw_log_record_add(r, name, value.p, value.len);
}

static void add_name(tw_log_record *r, const char *name, const char *value)
{
    tw_log_record_add(r, name, value, strlen(value));
}

static void add_fields(const syslog_header *h, tw_log_record *r)
{
    if (h->pri >= 0) {
        add_span(r, "priority", h->pri_text);
        add_name(r, "facility", facility_names[h->pri >> 3]);
        add_name(r, "severity", severity_names[h->pri & 7]);
    }
    add_span(r, "host", h->host);
    add_span(r, "program", h->program);
    add_span(r, "pid", h->pid);
    add_span(r, "msgid", h->msgid);
    add_span(r, "structured_data", h->structured_data);
    add_span(r, "message", h->message);
    if (h->program.p != NULL && h->message.p != NULL)
        tw_syslog_auth_fields(h->program, h->message, r);
}

static int syslog_create(const tw_log_parser_options *options, void **state, tw_err *err)
{
    (void)options;
    (void)err;
    syslog_state *s = tw_calloc(1, sizeof *s);
    tw_log_localtime_init(&s->localtime);
    *state = s;
    return 0;
}

static void syslog_feed(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    syslog_state *s = state;
    tw_log_record record; /* fields[] past n_fields stay unwritten: 1 KiB saved per line */
    record.message = line->text;
    record.message_len = line->len;
    record.timestamp_ms = line->read_time_ms;
    record.offset = line->offset;
    record.end = line->end;
    record.n_fields = 0;
    syslog_header h;
    record.parsed = parse_line(s, line, &h);
    if (record.parsed) {
        if (h.has_time)
            record.timestamp_ms = h.timestamp_ms;
        add_fields(&h, &record);
    }
    emit(ctx, &record);
}

static void syslog_destroy(void *state)
{
    free(state);
}

const tw_log_parser_ops tw_parser_syslog = {
    .name = "syslog",
    .create = syslog_create,
    .feed = syslog_feed,
    .destroy = syslog_destroy,
};
