/* fuzz_nginx_log_format.c — libFuzzer target for the nginx log_format
 * compiler and matcher (plugins/parser_nginx/nginx_format.h): the input's
 * first line is a log_format (bare or as an nginx.conf directive), the rest
 * are lines to match. A refused format must come with a sentence; a
 * matched line must give values that are in-order, disjoint slices of the
 * line; unescaping must never grow a value and must keep valid UTF-8 valid;
 * a split request must be slices of it. The same format and lines then go
 * through the nginx parser's ops. Every line is copied to a buffer of its
 * exact size, so reading past it trips ASan. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_parser.h"
#include "nginx_format.h"
#include "parser_nginx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return false;
        if (len - i < n || (n > 1 && (s[i + 1] < lo || s[i + 1] > hi)))
            return false;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += n;
    }
    return true;
}

static bool inside(const char *p, size_t len, const char *base, size_t base_len)
{
    return len == 0 || (p >= base && p + len <= base + base_len);
}

static void check_value(tw_nginx_escape escape, const char *value, size_t len)
{
    char *out = malloc(len ? len : 1);
    size_t n = tw_nginx_unescape(escape, value, len, out);
    if (n > len)
        abort();
    if (valid_utf8((const unsigned char *)value, len) && !valid_utf8((unsigned char *)out, n))
        abort();
    tw_nginx_request r;
    if (tw_nginx_split_request(out, n, &r)) {
        if (r.method.len == 0 || r.path.len == 0 || !inside(r.method.text, r.method.len, out, n) ||
            !inside(r.path.text, r.path.len, out, n) ||
            !inside(r.protocol.text, r.protocol.len, out, n))
            abort();
    }
    free(out);
}

static void check_line(const tw_nginx_format *f, tw_nginx_span *values, const char *line,
                       size_t len)
{
    if (!tw_nginx_format_match(f, line, len, values))
        return;
    const char *at = line;
    for (size_t i = 0; i < tw_nginx_format_var_count(f); i++) {
        if (values[i].text < at || !inside(values[i].text, values[i].len, line, len))
            abort();
        at = values[i].text + values[i].len;
        check_value(tw_nginx_format_escape(f), values[i].text, values[i].len);
    }
}

static void check_record(void *ctx, const tw_log_record *r)
{
    const tw_log_line *line = ctx;
    if (r->message != line->text || r->message_len != line->len || r->n_fields > TW_LOG_MAX_FIELDS)
        abort();
    if (!r->parsed && (r->n_fields != 0 || r->timestamp_ms != line->read_time_ms))
        abort();
    volatile unsigned char sum = 0;
    for (unsigned i = 0; i < r->n_fields; i++)
        for (size_t k = 0; k < r->fields[i].len; k++)
            sum ^= (unsigned char)r->fields[i].value[k];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t format_len = nl ? (size_t)(nl - text) : size;
    char *format_text = malloc(format_len + 1);
    memcpy(format_text, text, format_len);
    format_text[format_len] = '\0';
    tw_nginx_format *f = NULL;
    tw_err err = {{0}};
    if (tw_nginx_format_compile(format_text, format_len, &f, &err) != 0) {
        if (f != NULL || strncmp(err.msg, "log_format: ", 12) != 0)
            abort();
        free(format_text);
        return 0;
    }
    tw_nginx_span *values = calloc(tw_nginx_format_var_count(f), sizeof *values);
    tw_log_parser_options options = {.section = "fuzz", .log_format = format_text};
    void *parser = NULL;
    /* An embedded NUL makes the parser's format shorter than the compiled one. */
    bool have_parser = tw_parser_nginx.create(&options, &parser, &err) == 0;
    if (!have_parser && strlen(format_text) == format_len)
        abort();
    size_t pos = nl ? format_len + 1 : size;
    while (pos < size) {
        const char *end = memchr(text + pos, '\n', size - pos);
        size_t len = end ? (size_t)(end - (text + pos)) : size - pos;
        char *line = malloc(len ? len : 1);
        memcpy(line, text + pos, len);
        check_line(f, values, line, len);
        if (have_parser) {
            tw_log_line l = {line, len, pos, pos + len + 1, 42, false};
            tw_parser_nginx.feed(parser, &l, check_record, &l);
        }
        free(line);
        pos += len + 1;
    }
    if (have_parser)
        tw_parser_nginx.destroy(parser);
    free(values);
    tw_nginx_format_free(f);
    free(format_text);
    return 0;
}
