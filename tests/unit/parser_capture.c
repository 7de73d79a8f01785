/* parser_capture.c — feeding log parsers line by line and keeping copies of
 * their records, for the parser tests (see parser_capture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "parser_capture.h"

static char *copy_bytes(const char *p, size_t len)
{
    char *s = tw_malloc(len + 1);
    if (len > 0)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

void tw_test_capture_emit(void *ctx, const tw_log_record *record)
{
    tw_test_capture *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->records = tw_realloc(c->records, c->cap * sizeof c->records[0]);
    }
    tw_test_record *r = &c->records[c->n++];
    r->message = copy_bytes(record->message, record->message_len);
    r->message_len = record->message_len;
    r->timestamp_ms = record->timestamp_ms;
    r->offset = record->offset;
    r->end = record->end;
    r->parsed = record->parsed;
    assert_true(record->n_fields <= TW_LOG_MAX_FIELDS);
    r->n_fields = record->n_fields;
    for (unsigned i = 0; i < record->n_fields; i++) {
        const tw_log_field *f = &record->fields[i];
        assert_non_null(f->name);
        assert_true(f->value != NULL || f->len == 0);
        r->fields[i].name = tw_strdup(f->name);
        r->fields[i].value = copy_bytes(f->value, f->len);
        r->fields[i].len = f->len;
    }
}

void tw_test_capture_free(tw_test_capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->records[i].message);
        for (unsigned j = 0; j < c->records[i].n_fields; j++) {
            free(c->records[i].fields[j].name);
            free(c->records[i].fields[j].value);
        }
    }
    free(c->records);
    *c = (tw_test_capture){0};
}

static void feed_one(const tw_log_parser_ops *ops, void *state, const char *text, size_t len,
                     uint64_t offset, uint64_t end, int64_t read_time_ms, tw_test_capture *c)
{
    tw_log_line line = {text, len, offset, end, read_time_ms, false};
    size_t before = c->n;
    ops->feed(state, &line, tw_test_capture_emit, c);
    assert_int_equal(c->n, before + 1);
    const tw_test_record *r = &c->records[before];
    assert_int_equal(r->message_len, len);
    assert_memory_equal(r->message, text, len);
    assert_int_equal(r->offset, offset);
    assert_int_equal(r->end, end);
    if (!r->parsed) {
        assert_int_equal(r->n_fields, 0);
        assert_int_equal(r->timestamp_ms, read_time_ms);
    }
}

size_t tw_test_feed_text(const tw_log_parser_ops *ops, void *state, const char *text, size_t len,
                         int64_t read_time_ms, tw_test_capture *c)
{
    size_t lines = 0, start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t stop = nl ? (size_t)(nl - text) : len;
        size_t next = nl ? stop + 1 : len;
        size_t line_len = stop - start;
        if (line_len > 0 && text[start + line_len - 1] == '\r')
            line_len--;
        feed_one(ops, state, text + start, line_len, start, next, read_time_ms, c);
        lines++;
        start = next;
    }
    return lines;
}

const tw_test_record *tw_test_parse_line(const tw_log_parser_ops *ops, void *state,
                                         const char *line, int64_t read_time_ms,
                                         tw_test_capture *c)
{
    tw_test_capture_free(c);
    size_t len = strlen(line);
    feed_one(ops, state, line, len, 1000, 1000 + len + 1, read_time_ms, c);
    return &c->records[0];
}

char *tw_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open %s\n", path);
        fail();
    }
    char *data = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (cap - n < 4096) {
            cap = cap ? 2 * cap : 65536;
            data = tw_realloc(data, cap + 1);
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

const tw_test_field *tw_test_record_field(const tw_test_record *r, const char *name)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return &r->fields[i];
    return NULL;
}

void tw_test_assert_field(const tw_test_record *r, const char *name, const char *want,
                          const char *file, int line)
{
    const tw_test_field *f = tw_test_record_field(r, name);
    if (want == NULL && f == NULL)
        return;
    if (want != NULL && f != NULL && f->len == strlen(want) && memcmp(f->value, want, f->len) == 0)
        return;
    print_error("line \"%s\": field %s is %s%s%s, expected %s%s%s\n", r->message, name,
                f ? "\"" : "", f ? f->value : "absent", f ? "\"" : "", want ? "\"" : "",
                want ? want : "absent", want ? "\"" : "");
    _fail(file, line);
}
