/* fuzz_tail_lines.c — libFuzzer target for the tail's line splitter
 * (agent/tail_lines.h). The input is fed as a file's bytes, cut into random
 * chunks, sometimes with flushes between them (the tail's quiet period), and
 * every line handed out is checked against the bytes it says it covers:
 *
 *   - lines are contiguous: each starts where the last ended, the first at
 *     0, and after the final flush the last ends at the input's length (so
 *     the lines, with the newlines and the CR of each CRLF, are the input);
 *   - a line's text is exactly its bytes without the newline and the CR
 *     before it (or, for a flushed partial line, its trailing CR), with every
 *     byte that is not part of valid UTF-8 written as \xHH — checked with an
 *     escaper written here from RFC 3629, and by un-escaping the text when
 *     that is unambiguous (no backslash in the original);
 *   - every text is valid UTF-8 (tw_utf8_valid and the reference agree);
 *   - no piece covers more than max_line bytes of text; pieces of one long
 *     line are marked truncated, whole lines are not; a piece is cut at most
 *     3 bytes before the limit (the start of a character that straddles it);
 *   - the stats count what was handed out; tw_lines_consumed is the end of
 *     the last line;
 *   - without intermediate flushes, the lines are the same as when the whole
 *     input is fed at once.
 *
 * Input: byte 0 sets max_line (16 + byte), byte 1 the chunking (a seed; bit 7:
 * flush after some chunks), the rest is the file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "tail_lines.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz_tail_lines: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* ---- reference UTF-8, from RFC 3629 by decoding code points ----------------------- */

static size_t ref_char(const unsigned char *p, size_t avail)
{
    uint32_t cp;
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = p[0] & 0x1Fu;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = p[0] & 0x0Fu;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool ref_valid(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = ref_char(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static void ref_escape(const unsigned char *p, size_t len, tw_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    tw_buf_reset(out);
    for (size_t i = 0; i < len;) {
        size_t n = ref_char(p + i, len - i);
        if (n) {
            tw_buf_append(out, p + i, n);
            i += n;
        } else {
            char esc[4] = {'\\', 'x', hex[p[i] >> 4], hex[p[i] & 15]};
            tw_buf_append(out, esc, 4);
            i++;
        }
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Turns every \xHH back into its byte. */
static void unescape(const char *t, size_t len, tw_buf *out)
{
    tw_buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\\' && i + 3 < len && t[i + 1] == 'x' && hexval(t[i + 2]) >= 0 &&
            hexval(t[i + 3]) >= 0) {
            tw_buf_putc(out, (char)(hexval(t[i + 2]) << 4 | hexval(t[i + 3])));
            i += 3;
        } else {
            tw_buf_putc(out, t[i]);
        }
    }
}

/* ---- one run ------------------------------------------------------------------------ */

typedef struct rec {
    size_t text_at, len; /* in run.texts */
    uint64_t offset, end;
    bool truncated;
} rec;

typedef struct run {
    const unsigned char *input;
    size_t size, max_line;
    bool flushing;        /* inside tw_lines_flush */
    uint64_t next;        /* where the next line must start */
    size_t pieces;        /* pieces of the current line handed out so far */
    uint64_t split_lines, repaired, flushed;
    tw_buf texts, want, scratch;
    rec *recs;
    size_t n, cap;
} run;

static void on_line(void *ctx, const tw_log_line *line)
{
    run *r = ctx;
    CHECK(line->offset == r->next);
    CHECK(line->end > line->offset);
    CHECK(line->end <= r->size);
    CHECK(line->read_time_ms == 77);
    r->next = line->end;
    const unsigned char *raw = r->input + line->offset;
    size_t raw_len = (size_t)(line->end - line->offset);
    bool newline = raw[raw_len - 1] == '\n';
    bool final = newline || r->flushing;
    size_t text_len = raw_len;
    if (newline)
        text_len--;
    if (final && text_len > 0 && raw[text_len - 1] == '\r')
        text_len--;
    /* Never more text than max_line bytes of the file. */
    CHECK(text_len <= r->max_line);
    if (!final) {
        /* A piece of a long line, cut as late as a character allows. */
        CHECK(line->truncated);
        CHECK(text_len + 3 >= r->max_line);
        CHECK(!newline);
        if (r->pieces++ == 0)
            r->split_lines++;
    } else {
        CHECK(line->truncated == (r->pieces > 0));
        r->pieces = 0;
    }
    ref_escape(raw, text_len, &r->want);
    CHECK(line->len == r->want.len);
    CHECK(line->len == 0 || memcmp(line->text, r->want.data, line->len) == 0);
    CHECK(tw_utf8_valid(line->text, line->len));
    CHECK(ref_valid((const unsigned char *)line->text, line->len));
    bool repaired = !ref_valid(raw, text_len);
    CHECK(tw_utf8_valid((const char *)raw, text_len) == !repaired);
    if (repaired) {
        r->repaired++;
        if (!memchr(raw, '\\', text_len)) {
            unescape(line->text, line->len, &r->scratch);
            CHECK(r->scratch.len == text_len);
            CHECK(memcmp(r->scratch.data, raw, text_len) == 0);
        }
    } else {
        CHECK(line->len == text_len);
    }
    if (r->flushing)
        r->flushed++;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->recs = realloc(r->recs, r->cap * sizeof *r->recs);
        CHECK(r->recs != NULL);
    }
    r->recs[r->n++] = (rec){r->texts.len, line->len, line->offset, line->end, line->truncated};
    tw_buf_append(&r->texts, line->text, line->len);
}

static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Feeds the input in chunks chosen by seed (whole when seed is 0). Returns
 * whether a flush happened before the end. */
static bool feed(run *r, uint8_t seed)
{
    tw_line_splitter s;
    tw_lines_init(&s, r->max_line, 0);
    CHECK(s.max_line == r->max_line);
    uint64_t rng = 0x9E3779B97F4A7C15ull * (seed | 1u) ^ r->size;
    bool flushes = seed & 0x80, flushed_early = false;
    size_t at = 0;
    while (at < r->size) {
        size_t n = r->size - at;
        if (seed != 0) {
            /* Mostly small chunks around max_line, sometimes single bytes. */
            uint64_t x = rng_next(&rng);
            size_t want = x & 3 ? 1 + (size_t)(x >> 8) % (2 * r->max_line + 4) : 1;
            if (want < n)
                n = want;
        }
        tw_lines_feed(&s, (const char *)r->input + at, n, 77, on_line, r);
        at += n;
        CHECK(tw_lines_consumed(&s) == r->next);
        CHECK(at - tw_lines_consumed(&s) <= r->max_line + 1); /* what is held */
        if (flushes && at < r->size && rng_next(&rng) % 5 == 0) {
            r->flushing = true;
            tw_lines_flush(&s, 77, on_line, r);
            r->flushing = false;
            flushed_early = true;
            CHECK(tw_lines_consumed(&s) == at);
        }
    }
    r->flushing = true;
    tw_lines_flush(&s, 77, on_line, r);
    r->flushing = false;
    CHECK(r->next == r->size);
    CHECK(tw_lines_consumed(&s) == r->size);
    CHECK(s.stats.lines == r->n);
    CHECK(s.stats.split_lines == r->split_lines);
    CHECK(s.stats.repaired_lines == r->repaired);
    CHECK(s.stats.flushed_partials == r->flushed);
    tw_lines_free(&s);
    return flushed_early;
}

static void run_free(run *r)
{
    tw_buf_free(&r->texts);
    tw_buf_free(&r->want);
    tw_buf_free(&r->scratch);
    free(r->recs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_init("fuzz_tail_lines", TW_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_line = 16 + data[0];
    uint8_t seed = data[1];
    run whole = {.input = data + 2, .size = size - 2, .max_line = max_line,
                 .texts = TW_BUF_INIT, .want = TW_BUF_INIT, .scratch = TW_BUF_INIT};
    run chunked = whole;
    feed(&whole, 0);
    bool flushed_early = feed(&chunked, seed ? seed : 1);
    if (!flushed_early) {
        CHECK(whole.n == chunked.n);
        for (size_t i = 0; i < whole.n; i++) {
            const rec *a = &whole.recs[i], *b = &chunked.recs[i];
            CHECK(a->offset == b->offset && a->end == b->end && a->truncated == b->truncated);
            CHECK(a->len == b->len);
            CHECK(a->len == 0 || memcmp(whole.texts.data + a->text_at, chunked.texts.data + b->text_at,
                         a->len) == 0);
        }
    }
    run_free(&whole);
    run_free(&chunked);
    return 0;
}
