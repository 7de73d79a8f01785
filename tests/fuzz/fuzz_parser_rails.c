/* fuzz_parser_rails.c — libFuzzer target for format = rails
 * (plugins/parser_rails). The first byte picks the options (user_tag as a
 * tag number, as a lograge key or none; a group timeout); the rest is a log,
 * cut into lines as the tail does, each read a few milliseconds after the
 * one before, with a flush of idle requests after some lines. Nothing may
 * crash, leak or trip a sanitizer, whatever the bytes, and the parser's
 * promises must hold: after the final flush every line came out exactly
 * once (the records' lines, sorted, are the input's), each record's offset
 * and end are its first and last line's, a record holds at most 1 MiB
 * unless it is a single line, fields have names and sane lengths,
 * pending_offset never passed a line that was still held and moves only
 * when the record starting at it comes out, and nothing is pending at the
 * end. Seeds:
 * tests/fuzz/corpus/parser_rails/ (written here, in the formats of the
 * shared samples, which may also be given as extra corpus directories). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_parser.h"
#include "parser_rails.h"

#define MAX_LINES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct piece {
    const char *p;
    size_t n;
} piece;

typedef struct check {
    tw_log_line lines[MAX_LINES];
    size_t n_lines;
    size_t current;        /* the line being fed; SIZE_MAX in a flush */
    uint64_t pending;      /* pending_offset before the call in progress */
    bool pending_came_out; /* a record starting at it came out in this call */
    char *arena;           /* copies of the records' messages */
    size_t arena_len, arena_size;
    piece *out; /* the records' lines */
    size_t n_out;
} check;

static size_t find_line(const check *c, uint64_t value, bool by_end)
{
    size_t lo = 0, hi = c->n_lines; /* lines are sorted by offset and end */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((by_end ? c->lines[mid].end : c->lines[mid].offset) < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= c->n_lines || (by_end ? c->lines[lo].end : c->lines[lo].offset) != value)
        abort();
    return lo;
}

static bool same(const char *p, size_t n, const tw_log_line *l)
{
    return n == l->len && memcmp(p, l->text, n) == 0;
}

static void on_record(void *ctx, const tw_log_record *r)
{
    check *c = ctx;
    size_t first = find_line(c, r->offset, false), last = find_line(c, r->end, true);
    if (last < first)
        abort();
    if (r->message_len > c->arena_size - c->arena_len)
        abort(); /* more bytes out than fed */
    const char *copy = c->arena + c->arena_len, *end = copy + r->message_len;
    memcpy(c->arena + c->arena_len, r->message, r->message_len);
    c->arena_len += r->message_len;
    size_t n = 0;
    for (const char *p = copy;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl != NULL ? nl : end;
        if (n == 0 && !same(p, (size_t)(stop - p), &c->lines[first]))
            abort(); /* the first line is the one at offset */
        if (nl == NULL && !same(p, (size_t)(stop - p), &c->lines[last]))
            abort(); /* the last line is the one ending at end */
        if (c->n_out == c->n_lines)
            abort(); /* more lines out than fed */
        c->out[c->n_out++] = (piece){p, (size_t)(stop - p)};
        n++;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    if (n > 1 && r->message_len > TW_PARSER_RAILS_MAX_GROUP_BYTES)
        abort();
    /* The first line was held since before this call: pending_offset cannot
     * have passed it. */
    if (first != c->current && (c->pending == TW_LOG_NO_PENDING || c->pending > r->offset))
        abort();
    if (r->offset == c->pending)
        c->pending_came_out = true;
    for (unsigned i = 0; i < r->n_fields; i++)
        if (r->fields[i].name == NULL || r->fields[i].name[0] == '\0' ||
            r->fields[i].value == NULL || r->fields[i].len > r->message_len + 4096)
            abort();
}

/* After each call: pending_offset moves only when the record starting at
 * it came out (it is the oldest held line, not merely a bound on it). */
static void after_call(check *c, uint64_t pending)
{
    if (pending != TW_LOG_NO_PENDING)
        (void)find_line(c, pending, false);
    if (c->pending != TW_LOG_NO_PENDING && pending != c->pending && !c->pending_came_out)
        abort();
    c->pending = pending;
    c->pending_came_out = false;
}

static int piece_cmp(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int d = n > 0 ? memcmp(x->p, y->p, n) : 0;
    return d != 0 ? d : (x->n > y->n) - (x->n < y->n);
}

/* Every line came out exactly once: the records' lines are the input's. */
static void check_all_out(check *c)
{
    if (c->n_out != c->n_lines)
        abort();
    piece *in = malloc((c->n_lines + 1) * sizeof *in);
    for (size_t i = 0; i < c->n_lines; i++)
        in[i] = (piece){c->lines[i].text, c->lines[i].len};
    qsort(in, c->n_lines, sizeof *in, piece_cmp);
    qsort(c->out, c->n_out, sizeof *c->out, piece_cmp);
    for (size_t i = 0; i < c->n_lines; i++)
        if (piece_cmp(&in[i], &c->out[i]) != 0)
            abort();
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const user_tags[] = {NULL, "2", "user_id", "1"};
    if (size < 1)
        return 0;
    check *c = calloc(1, sizeof *c);
    c->arena = malloc(size + 1);
    c->arena_size = size;
    c->out = malloc((MAX_LINES + 1) * sizeof *c->out);
    c->pending = TW_LOG_NO_PENDING;
    tw_log_parser_options o = {
        .section = "fuzz",
        .group_timeout_ms = (int64_t)(data[0] >> 2) * 10,
        .user_tag = user_tags[data[0] & 3],
    };
    void *st = NULL;
    if (tw_parser_rails.create(&o, &st, NULL) != 0)
        abort();
    const char *text = (const char *)data + 1;
    size_t len = size - 1, pos = 0;
    int64_t now = 1700000000000;
    while (pos < len && c->n_lines < MAX_LINES) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t stop = nl != NULL ? (size_t)(nl - text) : len;
        tw_log_line *l = &c->lines[c->n_lines];
        now += (int64_t)((stop - pos) % 7);
        *l = (tw_log_line){text + pos, stop - pos, pos, nl != NULL ? stop + 1 : stop, now, false};
        c->current = c->n_lines++;
        tw_parser_rails.feed(st, l, on_record, c);
        after_call(c, tw_parser_rails.pending_offset(st));
        c->current = SIZE_MAX;
        if (l->len > 0 && (unsigned char)l->text[0] % 5 == 0) {
            tw_parser_rails.flush(st, now + (int64_t)(l->len % 97) * 10, false, on_record, c);
            after_call(c, tw_parser_rails.pending_offset(st));
        }
        pos = nl != NULL ? stop + 1 : stop;
    }
    tw_parser_rails.flush(st, now, true, on_record, c);
    if (tw_parser_rails.pending_offset(st) != TW_LOG_NO_PENDING)
        abort();
    check_all_out(c);
    tw_parser_rails.destroy(st);
    free(c->arena);
    free(c->out);
    free(c);
    return 0;
}
