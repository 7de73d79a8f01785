/* fuzz_parser_syslog.c — libFuzzer target for format = syslog
 * (plugins/parser_syslog): the input is a piece of a log file. Its first
 * byte picks the read time (a month step over several years, so the
 * missing-year rule and leap days are exercised); the rest is cut into
 * lines at '\n' and each line is fed. Every line must give exactly one
 * record carrying the line as its message and its offsets; an unparsed one
 * has no fields and the read time; a parsed one has a time within years
 * 0000-9999, at most TW_LOG_MAX_FIELDS fields, each with a non-empty name
 * and a value inside the line or a constant (facility and severity names,
 * "accepted", "yes"...). Nothing may crash, leak or trip a sanitizer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_parser.h"
#include "parser_syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIN_TIME_MS INT64_C(-62167219200000)
#define MAX_TIME_MS INT64_C(253402300799999)

typedef struct expect {
    tw_log_line line;
    size_t records;
} expect;

static bool inside(const char *p, size_t len, const tw_log_line *line)
{
    return p >= line->text && p + len <= line->text + line->len;
}

static void check_record(void *ctx, const tw_log_record *r)
{
    expect *e = ctx;
    const tw_log_line *line = &e->line;
    e->records++;
    if (r->message != line->text || r->message_len != line->len || r->offset != line->offset ||
        r->end != line->end || r->n_fields > TW_LOG_MAX_FIELDS)
        abort();
    if (!r->parsed) {
        if (r->n_fields != 0 || r->timestamp_ms != line->read_time_ms)
            abort();
        return;
    }
    if (r->timestamp_ms < MIN_TIME_MS || r->timestamp_ms > MAX_TIME_MS)
        abort();
    for (unsigned i = 0; i < r->n_fields; i++) {
        const tw_log_field *f = &r->fields[i];
        if (f->name == NULL || f->name[0] == '\0' || f->value == NULL)
            abort();
        /* Constants are NUL-terminated strings of exactly len bytes. */
        if (!inside(f->value, f->len, line) && strlen(f->value) != f->len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* 2020-01-01T00:00:00Z plus 0 to 255 steps of 30 days. */
    int64_t read_ms = INT64_C(1577836800000) + (int64_t)data[0] * 30 * 86400000;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    void *state;
    tw_err err;
    if (tw_parser_syslog.create(&(tw_log_parser_options){.section = "fuzz"}, &state, &err) != 0)
        abort();
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t stop = nl ? (size_t)(nl - text) : len;
        size_t next = nl ? stop + 1 : len;
        expect e = {{text + start, stop - start, start, next, read_ms, false}, 0};
        tw_parser_syslog.feed(state, &e.line, check_record, &e);
        if (e.records != 1)
            abort();
        start = next;
    }
    tw_parser_syslog.destroy(state);
    return 0;
}
