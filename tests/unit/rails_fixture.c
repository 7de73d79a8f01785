/* rails_fixture.c — the helpers the rails parser's tests share (see
 * rails_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser_rails.h"
#include "rails_fixture.h"

/* ---- a log file as the tail would cut it ------------------------------------ */

static void split_lines(rails_log *f)
{
    size_t cap = 16;
    f->lines = malloc(cap * sizeof *f->lines);
    f->n_lines = 0;
    size_t pos = 0;
    while (pos < f->size) {
        char *nl = memchr(f->data + pos, '\n', f->size - pos);
        size_t stop = nl != NULL ? (size_t)(nl - f->data) : f->size;
        if (f->n_lines == cap)
            f->lines = realloc(f->lines, (cap *= 2) * sizeof *f->lines);
        f->lines[f->n_lines] = (tw_log_line){
            .text = f->data + pos,
            .len = stop - pos,
            .offset = pos,
            .end = nl != NULL ? stop + 1 : stop,
            .read_time_ms = BASE_MS + (int64_t)f->n_lines,
        };
        f->n_lines++;
        pos = nl != NULL ? stop + 1 : stop;
    }
}

void rails_test_load_text(rails_log *f, const char *text)
{
    f->size = strlen(text);
    f->data = malloc(f->size + 1);
    memcpy(f->data, text, f->size + 1);
    split_lines(f);
}

void rails_test_load_file(rails_log *f, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    f->data = malloc((size_t)size + 1);
    f->size = fread(f->data, 1, (size_t)size, in);
    f->data[f->size] = '\0';
    fclose(in);
    split_lines(f);
}

void rails_test_unload(rails_log *f)
{
    free(f->data);
    free(f->lines);
}

/* ---- records, copied out of the emit callback -------------------------------- */

static char *copy_text(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

void rails_test_collect(void *ctx, const tw_log_record *r)
{
    rails_sink *s = ctx;
    if (s->n == s->cap)
        s->items = realloc(s->items, (s->cap = s->cap ? s->cap * 2 : 16) * sizeof *s->items);
    rails_record *c = &s->items[s->n++];
    c->message = copy_text(r->message, r->message_len);
    c->message_len = r->message_len;
    c->timestamp_ms = r->timestamp_ms;
    c->offset = r->offset;
    c->end = r->end;
    c->parsed = r->parsed;
    c->n_fields = r->n_fields;
    for (unsigned i = 0; i < r->n_fields; i++) {
        c->names[i] = copy_text(r->fields[i].name, strlen(r->fields[i].name));
        c->values[i] = copy_text(r->fields[i].value, r->fields[i].len);
    }
}

void rails_test_sink_free(rails_sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].message);
        for (unsigned j = 0; j < s->items[i].n_fields; j++) {
            free(s->items[i].names[j]);
            free(s->items[i].values[j]);
        }
    }
    free(s->items);
    *s = (rails_sink){0};
}

const char *rails_test_field(const rails_record *r, const char *name)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (strcmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

size_t rails_test_lines(const rails_record *r)
{
    size_t n = 1;
    for (size_t i = 0; i < r->message_len; i++)
        n += r->message[i] == '\n';
    return n;
}

bool rails_test_is_request(const rails_record *r)
{
    return rails_test_field(r, "method") != NULL || rails_test_field(r, "controller") != NULL;
}

size_t rails_test_count_requests(const rails_sink *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += rails_test_is_request(&s->items[i]);
    return n;
}

/* The record whose field name has the value, failing the test if none. */
const rails_record *rails_test_find(const rails_sink *s, const char *name, const char *value)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *v = rails_test_field(&s->items[i], name);
        if (v != NULL && strcmp(v, value) == 0)
            return &s->items[i];
    }
    fail_msg("no record with %s=%s", name, value);
    return NULL;
}

/* ---- driving a parser ---------------------------------------------------------- */

void *rails_test_parser(const char *user_tag, int64_t timeout_ms)
{
    tw_log_parser_options o = {
        .section = "app", .group_timeout_ms = timeout_ms, .user_tag = user_tag};
    void *state = NULL;
    tw_err err;
    assert_int_equal(tw_parser_rails.create(&o, &state, &err), 0);
    return state;
}

void rails_test_feed(void *st, const rails_log *f, size_t from, size_t to, rails_sink *s)
{
    for (size_t i = from; i < to; i++)
        tw_parser_rails.feed(st, &f->lines[i], rails_test_collect, s);
}

/* Feeds the whole file and flushes everything. */
void rails_test_parse_all(const rails_log *f, const char *user_tag, rails_sink *s)
{
    void *st = rails_test_parser(user_tag, 5000);
    rails_test_feed(st, f, 0, f->n_lines, s);
    tw_parser_rails.flush(st, 0, true, rails_test_collect, s);
    assert_true(tw_parser_rails.pending_offset(st) == TW_LOG_NO_PENDING);
    tw_parser_rails.destroy(st);
}

void rails_test_parse_sample(const char *name, const char *user_tag, rails_log *f, rails_sink *s)
{
    char path[512];
    snprintf(path, sizeof path, LOGS "%s", name);
    rails_test_load_file(f, path);
    rails_test_parse_all(f, user_tag, s);
}

/* ---- every line accounted for ---------------------------------------------------- */

typedef struct piece {
    const char *p;
    size_t n;
} piece;

static int piece_cmp(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

/* The records' lines are the file's lines, each exactly once, and each
 * record's offset and end are those of its first and last line. */
void rails_test_assert_lines_accounted(const rails_log *f, const rails_sink *s, const char *name)
{
    piece *want = malloc((f->n_lines + 1) * sizeof *want), *got = NULL;
    size_t n_got = 0, cap = 0;
    for (size_t i = 0; i < f->n_lines; i++)
        want[i] = (piece){f->lines[i].text, f->lines[i].len};
    for (size_t i = 0; i < s->n; i++) {
        const rails_record *r = &s->items[i];
        const char *p = r->message, *end = r->message + r->message_len;
        size_t first = SIZE_MAX, last = SIZE_MAX;
        for (size_t k = 0; k < f->n_lines; k++) {
            if (f->lines[k].offset == r->offset)
                first = k;
            if (f->lines[k].end == r->end)
                last = k;
        }
        if (first == SIZE_MAX || last == SIZE_MAX)
            fail_msg("%s: record %zu: offset %llu / end %llu are not line boundaries", name, i,
                     (unsigned long long)r->offset, (unsigned long long)r->end);
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl != NULL ? nl : end;
            if (n_got == cap)
                got = realloc(got, (cap = cap ? cap * 2 : 64) * sizeof *got);
            got[n_got++] = (piece){p, (size_t)(stop - p)};
            if (nl == NULL)
                break;
            p = nl + 1;
        }
        size_t first_len =
            memchr(r->message, '\n', r->message_len) != NULL
                ? (size_t)((char *)memchr(r->message, '\n', r->message_len) - r->message)
                : r->message_len;
        if (first_len != f->lines[first].len || memcmp(r->message, f->lines[first].text, first_len))
            fail_msg("%s: record %zu does not start with the line at its offset", name, i);
        if (!(f->lines[last].len <= r->message_len &&
              memcmp(end - f->lines[last].len, f->lines[last].text, f->lines[last].len) == 0))
            fail_msg("%s: record %zu does not end with the line at its end", name, i);
    }
    if (n_got != f->n_lines)
        fail_msg("%s: %zu lines in the records, %zu in the file", name, n_got, f->n_lines);
    qsort(want, f->n_lines, sizeof *want, piece_cmp);
    qsort(got, n_got, sizeof *got, piece_cmp);
    for (size_t i = 0; i < n_got; i++)
        if (piece_cmp(&want[i], &got[i]) != 0)
            fail_msg("%s: the records' lines differ from the file's (\"%.*s\")", name,
                     (int)(got[i].n > 80 ? 80 : got[i].n), got[i].p);
    free(want);
    free(got);
}
