/* parser_nginx.c — format = nginx: each access-log line is split by the
 * section's log_format (compiled once, nginx_format.h) into one field per
 * variable, unescaped into a scratch buffer the parser keeps, so a line costs
 * no allocation. See parser_nginx.h for the fields. */
#include "parser_nginx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "nginx_format.h"
#include "timefmt.h"

typedef struct nginx_parser {
    tw_nginx_format *format;
    tw_nginx_span *values; /* one per variable, refilled by every match */
    size_t time_var;       /* the variable the timestamp comes from, or SIZE_MAX */
    const char **aliases;  /* per variable: a second field name, or NULL */
    tw_buf scratch;        /* unescaped values of the current line */
    /* The last time text and its value: consecutive lines mostly share their
     * second, and the cache makes a line's time a memcmp. */
    char time_text[48];
    size_t time_len;
    int64_t time_ms;
} nginx_parser;

/* $msec is the most precise; $time_local is what most formats have. */
static size_t choose_time_var(const tw_nginx_format *format)
{
    static const tw_nginx_var_kind preference[] = {
        TW_NGINX_VAR_MSEC, TW_NGINX_VAR_TIME_LOCAL, TW_NGINX_VAR_TIME_ISO8601};
    size_t n = tw_nginx_format_var_count(format);
    for (size_t k = 0; k < sizeof preference / sizeof preference[0]; k++)
        for (size_t i = 0; i < n; i++)
            if (tw_nginx_format_var(format, i)->kind == preference[k])
                return i;
    return SIZE_MAX;
}

/* Formats without $request (Nginx Proxy Manager's, for one) still give
 * method, path and protocol, which audit events are made of. */
static const char **choose_aliases(const tw_nginx_format *format)
{
    static const char *const pairs[][2] = {
        {"request_method", "method"}, {"request_uri", "path"}, {"server_protocol", "protocol"}};
    size_t n = tw_nginx_format_var_count(format);
    const char **aliases = tw_calloc(n, sizeof *aliases);
    for (size_t i = 0; i < n; i++)
        if (tw_nginx_format_var(format, i)->kind == TW_NGINX_VAR_REQUEST)
            return aliases;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
            if (strcmp(tw_nginx_format_var(format, i)->name, pairs[k][0]) == 0)
                aliases[i] = pairs[k][1];
    return aliases;
}

static int nginx_create(const tw_log_parser_options *options, void **state, tw_err *err)
{
    const char *text = options != NULL && options->log_format != NULL ? options->log_format
                                                                        : TW_NGINX_COMBINED;
    tw_nginx_format *format;
    int rc = tw_nginx_format_compile(text, strlen(text), &format, err);
    if (rc != 0)
        return rc;
    nginx_parser *p = tw_calloc(1, sizeof *p);
    p->format = format;
    p->values = tw_calloc(tw_nginx_format_var_count(format), sizeof *p->values);
    p->time_var = choose_time_var(format);
    p->aliases = choose_aliases(format);
    *state = p;
    return 0;
}

/* Seconds of $msec: more digits are no time (and would overflow in ms). */
#define MAX_MSEC_DIGITS 15

/* "1700000000.123": seconds since the epoch with milliseconds. */
static bool parse_msec(const char *text, size_t len, int64_t *out)
{
    size_t i = 0;
    int64_t seconds = 0;
    for (; i < len && i <= MAX_MSEC_DIGITS && text[i] >= '0' && text[i] <= '9'; i++)
        seconds = seconds * 10 + (text[i] - '0');
    if (i == 0 || i > MAX_MSEC_DIGITS)
        return false;
    int64_t ms = 0;
    size_t digits = 0;
    if (i < len && text[i] == '.') {
        for (i++; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++)
            if (digits < 3)
                ms = ms * 10 + (text[i] - '0');
        if (digits == 0)
            return false;
    }
    if (i != len)
        return false;
    for (; digits < 3; digits++)
        ms *= 10;
    *out = seconds * 1000 + ms;
    return true;
}

static bool parse_time(nginx_parser *p, tw_nginx_var_kind kind, tw_nginx_span v, int64_t *out)
{
    if (v.len == p->time_len && memcmp(v.text, p->time_text, v.len) == 0) {
        *out = p->time_ms;
        return true;
    }
    int64_t ms;
    int rc;
    if (kind == TW_NGINX_VAR_MSEC)
        rc = parse_msec(v.text, v.len, &ms) ? 0 : -1;
    else if (kind == TW_NGINX_VAR_TIME_LOCAL)
        rc = tw_time_parse_clf(v.text, v.len, &ms, NULL);
    else
        rc = tw_time_parse_iso8601(v.text, v.len, &ms, NULL);
    if (rc != 0)
        return false;
    if (v.len <= sizeof p->time_text) {
        memcpy(p->time_text, v.text, v.len);
        p->time_len = v.len;
        p->time_ms = ms;
    }
    *out = ms;
    return true;
}

static void add_request_fields(tw_log_record *record, tw_nginx_span request)
{
    tw_nginx_request parts;
    if (!tw_nginx_split_request(request.text, request.len, &parts))
        return;
    tw_log_record_add(record, "method", parts.method.text, parts.method.len);
    tw_log_record_add(record, "path", parts.path.text, parts.path.len);
    if (parts.protocol.len > 0)
        tw_log_record_add(record, "protocol", parts.protocol.text, parts.protocol.len);
}

/* Adds the fields of a matched line; false when its time is not a time (the
 * format then does not describe the line after all). */
static bool add_fields(nginx_parser *p, tw_log_record *record)
{
    tw_nginx_escape escape = tw_nginx_format_escape(p->format);
    size_t n = tw_nginx_format_var_count(p->format);
    /* Values are disjoint slices of the line and never grow when unescaped,
     * so the line's length is room enough and the buffer never moves. */
    tw_buf_reset(&p->scratch);
    tw_buf_reserve(&p->scratch, record->message_len);
    char *out = p->scratch.data;
    for (size_t i = 0; i < n; i++) {
        tw_nginx_span v = p->values[i];
        if (escape != TW_NGINX_ESCAPE_NONE && v.len > 0 && memchr(v.text, '\\', v.len) != NULL) {
            size_t written = tw_nginx_unescape(escape, v.text, v.len, out);
            v = (tw_nginx_span){out, written};
            out += written;
        }
        /* nginx writes "-" (escape=json: nothing) for a variable without a value. */
        if (v.len == 0 || (v.len == 1 && v.text[0] == '-'))
            continue;
        const tw_nginx_var *var = tw_nginx_format_var(p->format, i);
        tw_log_record_add(record, var->name, v.text, v.len);
        if (p->aliases[i] != NULL)
            tw_log_record_add(record, p->aliases[i], v.text, v.len);
        if (i == p->time_var && !parse_time(p, var->kind, v, &record->timestamp_ms))
            return false;
        if (var->kind == TW_NGINX_VAR_REQUEST)
            add_request_fields(record, v);
    }
    return true;
}

static void nginx_feed(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    nginx_parser *p = state;
    /* Not zero-initialized as a whole: the field array is 1 KiB per line. */
    tw_log_record record;
    record.message = line->text;
    record.message_len = line->len;
    record.timestamp_ms = line->read_time_ms;
    record.offset = line->offset;
    record.end = line->end;
    record.n_fields = 0;
    record.parsed = tw_nginx_format_match(p->format, line->text, line->len, p->values) &&
                    add_fields(p, &record);
    if (!record.parsed) {
        record.n_fields = 0;
        record.timestamp_ms = line->read_time_ms;
    }
    emit(ctx, &record);
}

static void nginx_destroy(void *state)
{
    nginx_parser *p = state;
    if (p == NULL)
        return;
    tw_nginx_format_free(p->format);
    free(p->values);
    free(p->aliases);
    tw_buf_free(&p->scratch);
    free(p);
}

const tw_log_parser_ops tw_parser_nginx = {
    .name = "nginx",
    .create = nginx_create,
    .feed = nginx_feed,
    .destroy = nginx_destroy,
};
