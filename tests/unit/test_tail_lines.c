/* test_tail_lines.c — the line splitter of the tail (agent/tail_lines.h):
 * LF and CRLF, the held partial line and flush, exact offsets, UTF-8 repair
 * as \xHH, long lines split at character boundaries, reset, and above all
 * that the way a file's bytes happen to arrive (every 2-chunk split, random
 * chunkings, one byte at a time) never changes the lines handed out. A real
 * file with invalid UTF-8 (lnav's test log) is accounted for line by line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "tail_lines.h"

/* ---- collecting lines ------------------------------------------------------ */

typedef struct got_line {
    char *text;
    size_t len;
    uint64_t offset, end;
    bool truncated;
} got_line;

typedef struct sink {
    got_line *v;
    size_t n, cap;
} sink;

static void collect(void *ctx, const tw_log_line *line)
{
    sink *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    got_line *g = &s->v[s->n++];
    g->text = malloc(line->len + 1);
    assert_non_null(g->text);
    memcpy(g->text, line->text, line->len);
    g->text[line->len] = '\0';
    g->len = line->len;
    g->offset = line->offset;
    g->end = line->end;
    g->truncated = line->truncated;
    assert_int_equal(line->read_time_ms, 1234);
}

static void sink_free(sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
    *s = (sink){0};
}

static void print_sink(const char *what, const sink *s)
{
    print_message("%s: %zu lines\n", what, s->n);
    for (size_t i = 0; i < s->n; i++)
        print_message("  [%zu] %" PRIu64 "-%" PRIu64 "%s \"%s\"\n", i, s->v[i].offset,
                      s->v[i].end, s->v[i].truncated ? " truncated" : "", s->v[i].text);
}

static bool sink_equal(const sink *a, const sink *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const got_line *x = &a->v[i], *y = &b->v[i];
        if (x->len != y->len || memcmp(x->text, y->text, x->len) != 0 ||
            x->offset != y->offset || x->end != y->end || x->truncated != y->truncated)
            return false;
    }
    return true;
}

/* Feeds input cut at the given points (ascending, within [0, len]), then
 * flushes; the lines go to out. Checks on the way that consumed never goes
 * back and ends at len. */
static void run_cuts(const char *input, size_t len, size_t max_line, const size_t *cuts,
                     size_t n_cuts, sink *out, tw_line_stats *stats)
{
    tw_line_splitter s;
    tw_lines_init(&s, max_line, 0);
    size_t at = 0;
    uint64_t consumed = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t to = i < n_cuts ? cuts[i] : len;
        tw_lines_feed(&s, input + at, to - at, 1234, collect, out);
        assert_true(tw_lines_consumed(&s) >= consumed);
        assert_true(tw_lines_consumed(&s) <= to);
        consumed = tw_lines_consumed(&s);
        at = to;
    }
    tw_lines_flush(&s, 1234, collect, out);
    assert_int_equal(tw_lines_consumed(&s), len);
    if (stats)
        *stats = s.stats;
    tw_lines_free(&s);
}

static void run_whole(const char *input, size_t len, size_t max_line, sink *out)
{
    run_cuts(input, len, max_line, NULL, 0, out, NULL);
}

/* Every line starts where the one before ended, the first at 0 and the
 * last ends at len: nothing of the file is skipped or handed out twice. */
static void assert_lines_cover(const sink *s, size_t len)
{
    uint64_t at = 0;
    for (size_t i = 0; i < s->n; i++) {
        assert_int_equal(s->v[i].offset, at);
        assert_true(s->v[i].end > s->v[i].offset);
        at = s->v[i].end;
    }
    assert_int_equal(at, len);
}

static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* The lines of input must not depend on how its bytes arrive: every 2-chunk
 * split, 300 random chunkings and one byte at a time give the lines of the
 * whole input fed at once. */
static void assert_chunking_invariant(const char *input, size_t len, size_t max_line)
{
    sink want = {0};
    run_whole(input, len, max_line, &want);
    assert_lines_cover(&want, len);
    for (size_t cut = 0; cut <= len; cut++) {
        sink got = {0};
        run_cuts(input, len, max_line, &cut, 1, &got, NULL);
        if (!sink_equal(&want, &got)) {
            print_message("max_line %zu, split at byte %zu\n", max_line, cut);
            print_sink("whole", &want);
            print_sink("split", &got);
            fail();
        }
        sink_free(&got);
    }
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ len ^ ((uint64_t)max_line << 32);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (int round = 0; round < 300; round++) {
        size_t n = 0;
        /* Chunks of 1..max_line+3 bytes: around every interesting size. */
        for (size_t at = 0;;) {
            at += 1 + (size_t)(rng_next(&rng) % (max_line + 3));
            if (at >= len)
                break;
            cuts[n++] = at;
        }
        sink got = {0};
        run_cuts(input, len, max_line, cuts, n, &got, NULL);
        if (!sink_equal(&want, &got)) {
            print_message("max_line %zu, random round %d, cuts:", max_line, round);
            for (size_t i = 0; i < n; i++)
                print_message(" %zu", cuts[i]);
            print_message("\n");
            print_sink("whole", &want);
            print_sink("chunked", &got);
            fail();
        }
        sink_free(&got);
    }
    size_t n = 0;
    for (size_t at = 1; at < len; at++)
        cuts[n++] = at;
    sink got = {0};
    run_cuts(input, len, max_line, cuts, n, &got, NULL);
    if (!sink_equal(&want, &got)) {
        print_message("max_line %zu, one byte at a time\n", max_line);
        print_sink("whole", &want);
        print_sink("bytewise", &got);
        fail();
    }
    sink_free(&got);
    free(cuts);
    sink_free(&want);
}

/* A reference UTF-8 check written from RFC 3629 by decoding code points
 * (not by the byte-range table tail_lines.c uses): the length of the valid
 * character at p, or 0. */
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

/* ---- plain lines ------------------------------------------------------------- */

static void assert_line(const sink *s, size_t i, const char *text, uint64_t offset, uint64_t end,
                        bool truncated)
{
    assert_true(i < s->n);
    assert_int_equal(s->v[i].len, strlen(text));
    assert_memory_equal(s->v[i].text, text, strlen(text));
    assert_int_equal(s->v[i].offset, offset);
    assert_int_equal(s->v[i].end, end);
    assert_int_equal(s->v[i].truncated, truncated);
}

static void test_lines_end_at_lf_and_offsets_are_exact(void **state)
{
    (void)state;
    const char *in = "a\nbb\n\nccc\n";
    sink s = {0};
    tw_line_splitter sp;
    tw_lines_init(&sp, 64, 0);
    tw_lines_feed(&sp, in, strlen(in), 1234, collect, &s);
    assert_int_equal(s.n, 4);
    assert_line(&s, 0, "a", 0, 2, false);
    assert_line(&s, 1, "bb", 2, 5, false);
    assert_line(&s, 2, "", 5, 6, false); /* an empty line is a line */
    assert_line(&s, 3, "ccc", 6, 10, false);
    assert_int_equal(tw_lines_consumed(&sp), 10);
    assert_int_equal(sp.stats.lines, 4);
    tw_lines_free(&sp);
    sink_free(&s);
}

typedef struct chunk_check {
    const char *chunk;
    size_t len, inside, outside;
} chunk_check;

static void note_where(void *ctx, const tw_log_line *line)
{
    chunk_check *c = ctx;
    if (line->text >= c->chunk && line->text + line->len <= c->chunk + c->len)
        c->inside++;
    else
        c->outside++;
}

/* The hot path: a whole, valid line inside the read is handed out where it
 * lies; a line that began in an earlier read, or needed repair, is not. */
static void test_a_line_inside_the_chunk_is_handed_out_without_a_copy(void **state)
{
    (void)state;
    static const char in[] = "zero copy\r\nsecond\nbad \xFF\nstarts";
    static const char more[] = " here\nlast\n";
    tw_line_splitter sp;
    tw_lines_init(&sp, 64, 0);
    chunk_check c = {in, sizeof in - 1, 0, 0};
    tw_lines_feed(&sp, in, sizeof in - 1, 1234, note_where, &c);
    assert_int_equal(c.inside, 2);
    assert_int_equal(c.outside, 1);
    c = (chunk_check){more, sizeof more - 1, 0, 0};
    tw_lines_feed(&sp, more, sizeof more - 1, 1234, note_where, &c);
    assert_int_equal(c.inside, 1);
    assert_int_equal(c.outside, 1);
    tw_lines_free(&sp);
}

static void test_crlf_and_lone_cr(void **state)
{
    (void)state;
    const char *in = "a\r\nb\r\n\r\nmid\rcr\nx\r\r\n\r\n";
    sink s = {0};
    run_whole(in, strlen(in), 64, &s);
    assert_int_equal(s.n, 6);
    assert_line(&s, 0, "a", 0, 3, false);
    assert_line(&s, 1, "b", 3, 6, false);
    assert_line(&s, 2, "", 6, 8, false);
    assert_line(&s, 3, "mid\rcr", 8, 15, false); /* a CR inside a line stays */
    assert_line(&s, 4, "x\r", 15, 19, false);    /* only the CR of a CRLF goes */
    assert_line(&s, 5, "", 19, 21, false);       /* "\r\n" alone: one empty line */
    sink_free(&s);
    assert_chunking_invariant(in, strlen(in), 16);
}

static void test_a_partial_line_is_held_until_its_newline_or_a_flush(void **state)
{
    (void)state;
    sink s = {0};
    tw_line_splitter sp;
    tw_lines_init(&sp, 64, 0);
    tw_lines_feed(&sp, "abc", 3, 1234, collect, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(tw_lines_consumed(&sp), 0);
    tw_lines_feed(&sp, "de\nxy", 5, 1234, collect, &s);
    assert_int_equal(s.n, 1);
    assert_line(&s, 0, "abcde", 0, 6, false);
    assert_int_equal(tw_lines_consumed(&sp), 6);
    /* The quiet period went by: the last line is handed out as it is. */
    tw_lines_flush(&sp, 1234, collect, &s);
    assert_int_equal(s.n, 2);
    assert_line(&s, 1, "xy", 6, 8, false);
    assert_int_equal(tw_lines_consumed(&sp), 8);
    assert_int_equal(sp.stats.flushed_partials, 1);
    /* Nothing held: a flush hands out nothing. */
    tw_lines_flush(&sp, 1234, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(sp.stats.flushed_partials, 1);
    /* More bytes after the flush start a new line at the right offset. */
    tw_lines_feed(&sp, "z\n", 2, 1234, collect, &s);
    assert_int_equal(s.n, 3);
    assert_line(&s, 2, "z", 8, 10, false);
    /* Half a CRLF flushed: the CR is not text; its LF then ends an empty
     * line, and no byte is handed out twice. */
    tw_lines_feed(&sp, "ab\r", 3, 1234, collect, &s);
    tw_lines_flush(&sp, 1234, collect, &s);
    assert_line(&s, 3, "ab", 10, 13, false);
    tw_lines_feed(&sp, "\n", 1, 1234, collect, &s);
    assert_line(&s, 4, "", 13, 14, false);
    assert_int_equal(tw_lines_consumed(&sp), 14);
    assert_int_equal(sp.stats.lines, 5);
    assert_int_equal(sp.stats.flushed_partials, 2);
    tw_lines_free(&sp);
    sink_free(&s);
}

static void test_offsets_start_where_the_splitter_was_started(void **state)
{
    (void)state;
    sink s = {0};
    tw_line_splitter sp;
    tw_lines_init(&sp, 16, 1000);
    assert_int_equal(tw_lines_consumed(&sp), 1000);
    const char *in = "one\nabcdefghijklmnopqrst\nend";
    tw_lines_feed(&sp, in, strlen(in), 1234, collect, &s);
    tw_lines_flush(&sp, 1234, collect, &s);
    assert_int_equal(s.n, 4);
    assert_line(&s, 0, "one", 1000, 1004, false);
    assert_line(&s, 1, "abcdefghijklmnop", 1004, 1020, true);
    assert_line(&s, 2, "qrst", 1020, 1025, true);
    assert_line(&s, 3, "end", 1025, 1028, false);
    assert_int_equal(tw_lines_consumed(&sp), 1000 + strlen(in));
    tw_lines_free(&sp);
    sink_free(&s);
}

/* ---- long lines ----------------------------------------------------------------- */

static char *repeat(char c, size_t n, const char *tail)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);
    assert_non_null(s);
    memset(s, c, n);
    memcpy(s + n, tail, t + 1);
    return s;
}

static void test_a_line_of_exactly_max_line_bytes_is_whole(void **state)
{
    (void)state;
    char *in = repeat('a', 16, "\n");
    sink s = {0};
    tw_line_stats st;
    run_cuts(in, 17, 16, NULL, 0, &s, &st);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].len, 16);
    assert_false(s.v[0].truncated);
    assert_int_equal(st.split_lines, 0);
    sink_free(&s);
    assert_chunking_invariant(in, 17, 16);
    free(in);
}

static void test_a_line_of_max_line_plus_one_bytes_is_split_in_two(void **state)
{
    (void)state;
    char *in = repeat('a', 17, "\n");
    in[16] = 'b';
    sink s = {0};
    tw_line_stats st;
    run_cuts(in, 18, 16, NULL, 0, &s, &st);
    assert_int_equal(s.n, 2);
    assert_line(&s, 0, "aaaaaaaaaaaaaaaa", 0, 16, true);
    assert_line(&s, 1, "b", 16, 18, true);
    assert_int_equal(st.split_lines, 1); /* one line, counted once */
    assert_int_equal(st.lines, 2);
    sink_free(&s);
    assert_chunking_invariant(in, 18, 16);
    free(in);
}

/* A CRLF line whose text is exactly max_line bytes: the CR is not text, so
 * the line is whole, however the bytes arrive (the CR alone in one read and
 * the LF in the next included). */
static void test_a_cr_at_the_limit_does_not_split_the_line(void **state)
{
    (void)state;
    char *in = repeat('a', 16, "\r\nnext\n");
    size_t len = strlen(in);
    sink s = {0};
    run_whole(in, len, 16, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].len, 16);
    assert_false(s.v[0].truncated);
    assert_int_equal(s.v[0].end, 18);
    sink_free(&s);
    /* The CR arrives with the text, the LF in the next read. */
    size_t cut = 17;
    run_cuts(in, len, 16, &cut, 1, &s, NULL);
    if (s.n != 2)
        print_sink("CR at the limit, LF in the next read", &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].len, 16);
    assert_false(s.v[0].truncated);
    assert_line(&s, 1, "next", 18, 23, false);
    sink_free(&s);
    assert_chunking_invariant(in, len, 16);
    /* A CR at the limit that is not followed by a LF is text. */
    char *lone = repeat('a', 16, "\rb\n");
    run_whole(lone, strlen(lone), 16, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].len, 16);
    assert_line(&s, 1, "\rb", 16, 19, true);
    sink_free(&s);
    assert_chunking_invariant(lone, strlen(lone), 16);
    /* Flushed with only the CR after the limit: 16 bytes of text, whole. */
    char *flushed = repeat('a', 16, "\r");
    run_cuts(flushed, 17, 16, NULL, 0, &s, NULL);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].len, 16);
    assert_int_equal(s.v[0].end, 17);
    sink_free(&s);
    free(flushed);
    free(lone);
    free(in);
}

static void test_a_long_line_is_split_into_pieces_and_nothing_is_dropped(void **state)
{
    (void)state;
    const size_t max = 64;
    tw_buf in = TW_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        tw_buf_putc(&in, (char)('a' + i % 26));
    tw_buf_puts(&in, "\nshort\n");
    sink s = {0};
    tw_line_stats st;
    run_cuts(in.data, in.len, max, NULL, 0, &s, &st);
    assert_lines_cover(&s, in.len);
    assert_int_equal(s.n, 1000 / max + 1 + 1);
    tw_buf joined = TW_BUF_INIT;
    for (size_t i = 0; i + 1 < s.n; i++) {
        assert_true(s.v[i].len <= max);
        assert_true(s.v[i].truncated);
        tw_buf_append(&joined, s.v[i].text, s.v[i].len);
    }
    assert_int_equal(joined.len, 1000);
    assert_memory_equal(joined.data, in.data, 1000);
    assert_line(&s, s.n - 1, "short", 1001, 1007, false);
    assert_int_equal(st.split_lines, 1);
    assert_int_equal(st.lines, s.n);
    sink_free(&s);
    /* Without its newline, flushed: the pieces are the same and the last one
     * is still marked as a piece of a long line. */
    run_cuts(in.data, 1000, max, NULL, 0, &s, &st);
    assert_int_equal(s.n, 1000 / max + 1);
    assert_true(s.v[s.n - 1].truncated);
    assert_int_equal(s.v[s.n - 1].end, 1000);
    assert_int_equal(st.flushed_partials, 1);
    sink_free(&s);
    /* While the line is still growing, the pieces already handed out count
     * as consumed and the held rest stays below max_line. */
    tw_line_splitter sp;
    tw_lines_init(&sp, max, 0);
    tw_lines_feed(&sp, in.data, 500, 1234, collect, &s);
    assert_int_equal(s.n, 500 / max);
    assert_int_equal(tw_lines_consumed(&sp), s.v[s.n - 1].end);
    assert_true(500 - tw_lines_consumed(&sp) <= max + 1);
    tw_lines_free(&sp);
    sink_free(&s);
    tw_buf_free(&joined);
    tw_buf_free(&in);
}

/* The pieces of a split line are cut between characters: a 2-, 3- or 4-byte
 * character that would straddle the limit goes whole into the next piece. */
static void test_a_multibyte_character_straddling_the_cut_is_not_broken(void **state)
{
    (void)state;
    static const char *const chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    for (size_t c = 0; c < 3; c++) {
        size_t clen = strlen(chars[c]);
        for (size_t before = 10; before <= 16; before++) {
            tw_buf in = TW_BUF_INIT;
            for (size_t i = 0; i < before; i++)
                tw_buf_putc(&in, 'a');
            tw_buf_puts(&in, chars[c]);
            tw_buf_puts(&in, "xyz\n");
            sink s = {0};
            tw_line_stats st;
            run_cuts(in.data, in.len, 16, NULL, 0, &s, &st);
            assert_int_equal(st.repaired_lines, 0);
            tw_buf joined = TW_BUF_INIT;
            for (size_t i = 0; i < s.n; i++) {
                assert_true(s.v[i].len <= 16);
                assert_true(tw_utf8_valid(s.v[i].text, s.v[i].len));
                tw_buf_append(&joined, s.v[i].text, s.v[i].len);
            }
            assert_int_equal(joined.len, in.len - 1);
            assert_memory_equal(joined.data, in.data, joined.len);
            if (before + clen > 16) {
                /* Cut right before the character, not earlier. */
                assert_int_equal(s.n, 2);
                assert_int_equal(s.v[0].len, before);
                assert_memory_equal(s.v[1].text, chars[c], clen);
            }
            sink_free(&s);
            assert_chunking_invariant(in.data, in.len, 16);
            tw_buf_free(&joined);
            tw_buf_free(&in);
        }
    }
}

/* ---- UTF-8 repair --------------------------------------------------------------- */

typedef struct repair_case {
    const char *what, *in, *want;
} repair_case;

static void test_invalid_utf8_is_escaped_byte_by_byte(void **state)
{
    (void)state;
    static const repair_case cases[] = {
        {"overlong 2-byte slash", "a\xC0\xAF" "b", "a\\xc0\\xafb"},
        {"overlong 3-byte", "\xE0\x80\xAF", "\\xe0\\x80\\xaf"},
        {"overlong 4-byte", "\xF0\x80\x80\xAF", "\\xf0\\x80\\x80\\xaf"},
        {"high surrogate", "x\xED\xA0\x80y", "x\\xed\\xa0\\x80y"},
        {"low surrogate", "\xED\xBF\xBF", "\\xed\\xbf\\xbf"},
        {"above U+10FFFF", "\xF4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
        {"never-valid bytes", "\xF5\xFE\xFF", "\\xf5\\xfe\\xff"},
        {"lone continuation bytes", "\x80\xBF" "a\x80", "\\x80\\xbfa\\x80"},
        {"truncated at the end of the line", "ok \xE2\x82", "ok \\xe2\\x82"},
        {"truncated 4-byte before ASCII", "\xF0\x9F\x98" "A", "\\xf0\\x9f\\x98A"},
        {"valid around invalid", "\xC3\xA9\xFF\xC3\xA9", "\xC3\xA9\\xff\xC3\xA9"},
        {"latin-1 text", "caf\xE9 cr\xE8me", "caf\\xe9 cr\\xe8me"},
        {"NUL byte is valid", "a\0b", "a\0b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const repair_case *c = &cases[i];
        /* "a\0b" needs its length given: the strings end with their NUL. */
        size_t in_len = strcmp(c->what, "NUL byte is valid") == 0 ? 3 : strlen(c->in);
        size_t want_len = strcmp(c->what, "NUL byte is valid") == 0 ? 3 : strlen(c->want);
        tw_buf in = TW_BUF_INIT;
        tw_buf_puts(&in, "before\n");
        tw_buf_append(&in, c->in, in_len);
        tw_buf_puts(&in, "\r\nafter\n");
        sink s = {0};
        tw_line_stats st;
        run_cuts(in.data, in.len, 4 * 64, NULL, 0, &s, &st);
        assert_int_equal(s.n, 3);
        if (s.v[1].len != want_len || memcmp(s.v[1].text, c->want, want_len) != 0)
            print_message("%s: got \"%s\", want \"%s\"\n", c->what, s.v[1].text, c->want);
        assert_int_equal(s.v[1].len, want_len);
        assert_memory_equal(s.v[1].text, c->want, want_len);
        /* The offsets are those of the file's bytes, not of the escapes. */
        assert_int_equal(s.v[1].offset, 7);
        assert_int_equal(s.v[1].end, 7 + in_len + 2);
        assert_false(s.v[1].truncated);
        assert_true(tw_utf8_valid(s.v[1].text, s.v[1].len));
        bool invalid = strcmp(c->in, c->want) != 0;
        assert_int_equal(st.repaired_lines, invalid ? 1 : 0);
        assert_int_equal(tw_utf8_valid(c->in, in_len), !invalid);
        sink_free(&s);
        assert_chunking_invariant(in.data, in.len, 16);
        tw_buf_free(&in);
    }
}

/* A split line with invalid bytes: every piece is valid UTF-8 on its own,
 * and each piece covers at most max_line bytes of the file. */
static void test_a_long_invalid_line_is_split_and_every_piece_repaired(void **state)
{
    (void)state;
    tw_buf in = TW_BUF_INIT;
    for (int i = 0; i < 40; i++)
        tw_buf_puts(&in, i % 3 ? "\xC3\xA9" : "\xFF");
    tw_buf_puts(&in, "\n");
    sink s = {0};
    tw_line_stats st;
    run_cuts(in.data, in.len, 16, NULL, 0, &s, &st);
    assert_lines_cover(&s, in.len);
    assert_true(s.n > 1);
    for (size_t i = 0; i < s.n; i++) {
        assert_true(s.v[i].truncated);
        assert_true(tw_utf8_valid(s.v[i].text, s.v[i].len));
        assert_true(s.v[i].end - s.v[i].offset <= 16 + (i + 1 == s.n ? 1 : 0));
    }
    assert_int_equal(st.split_lines, 1);
    assert_int_equal(st.repaired_lines, s.n);
    sink_free(&s);
    assert_chunking_invariant(in.data, in.len, 16);
    tw_buf_free(&in);
}

static void test_utf8_valid_agrees_with_rfc_3629(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool valid;
    } cases[] = {
        {"", true},
        {"plain ascii, longer than eight bytes", true},
        {"\x7F", true},
        {"\xC2\x80", true},           /* U+0080 */
        {"\xDF\xBF", true},           /* U+07FF */
        {"\xE0\xA0\x80", true},       /* U+0800 */
        {"\xED\x9F\xBF", true},       /* U+D7FF, just below the surrogates */
        {"\xEE\x80\x80", true},       /* U+E000, just above */
        {"\xEF\xBF\xBF", true},       /* U+FFFF */
        {"\xF0\x90\x80\x80", true},   /* U+10000 */
        {"\xF4\x8F\xBF\xBF", true},   /* U+10FFFF */
        {"\xC1\xBF", false},          /* overlong U+007F */
        {"\xE0\x9F\xBF", false},      /* overlong U+07FF */
        {"\xF0\x8F\xBF\xBF", false},  /* overlong U+FFFF */
        {"\xED\xA0\x80", false},      /* U+D800 */
        {"\xF4\x90\x80\x80", false},  /* U+110000 */
        {"\xC2", false},
        {"\xE2\x82", false},
        {"\xF0\x9F\x98", false},
        {"\xC2\x41", false},
        {"12345678\xC3\xA9" "abcdefgh\x80", false}, /* after an 8-byte ASCII stride */
        {"12345678abcdefg\xC3", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (tw_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].valid)
            print_message("case %zu\n", i);
        assert_int_equal(tw_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].valid);
    }
    /* Differential against the reference decoder, on random strings made
     * mostly of bytes that matter to UTF-8. */
    static const unsigned char interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                                0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED,
                                                0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF};
    uint64_t rng = 42;
    unsigned char buf[24];
    for (int round = 0; round < 200000; round++) {
        size_t len = (size_t)(rng_next(&rng) % sizeof buf);
        size_t ascii = (size_t)(rng_next(&rng) % 12); /* exercise the 8-byte stride */
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rng_next(&rng);
            buf[i] = i < ascii ? 'a' : r & 256 ? (unsigned char)r
                                               : interesting[(r >> 9) % sizeof interesting];
        }
        bool want = ref_valid(buf, len);
        if (tw_utf8_valid((const char *)buf, len) != want) {
            print_message("disagreement on:");
            for (size_t i = 0; i < len; i++)
                print_message(" %02x", buf[i]);
            print_message("\n");
            fail();
        }
    }
}

/* ---- reset ----------------------------------------------------------------------- */

static void test_reset_drops_what_is_held_and_restarts_at_the_offset(void **state)
{
    (void)state;
    sink s = {0};
    tw_line_splitter sp;
    tw_lines_init(&sp, 16, 0);
    tw_lines_feed(&sp, "abc\nxyz", 7, 1234, collect, &s);
    assert_int_equal(s.n, 1);
    tw_lines_reset(&sp, 0); /* truncated: "xyz" is gone with the old contents */
    assert_int_equal(tw_lines_consumed(&sp), 0);
    tw_lines_flush(&sp, 1234, collect, &s);
    assert_int_equal(s.n, 1);
    tw_lines_feed(&sp, "new\n", 4, 1234, collect, &s);
    assert_line(&s, 1, "new", 0, 4, false);
    /* In the middle of a long line: the next line is not a piece of it. */
    tw_lines_feed(&sp, "0123456789abcdefghij", 20, 1234, collect, &s);
    assert_int_equal(s.n, 3);
    assert_true(s.v[2].truncated);
    tw_lines_reset(&sp, 100);
    assert_int_equal(tw_lines_consumed(&sp), 100);
    tw_lines_feed(&sp, "ok\n", 3, 1234, collect, &s);
    assert_line(&s, 3, "ok", 100, 103, false);
    tw_lines_free(&sp);
    sink_free(&s);
}

/* ---- everything at once, and a real file ------------------------------------------- */

static void test_a_mixed_input_gives_the_same_lines_however_it_arrives(void **state)
{
    (void)state;
    static const char in[] =
        "plain line\n"
        "crlf line\r\n"
        "\n"
        "\r\n"
        "exactly sixteen!\n"
        "exactly sixteen!\r\n"
        "seventeen bytes!!\n"
        "seventeen bytes!\r\n"
        "a long line that goes on and on and on past the limit\n"
        "0123456789abcd\xF0\x9F\x98\x80 emoji at the cut\n"
        "0123456789abc\xE2\x82\xAC euro at the cut\r\n"
        "bad \xFF\xFE bytes \xC0\xAF overlong \xED\xA0\x80 surrogate \xE2\x82\n"
        "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\n"
        "cr in the\rmiddle\r\r\n"
        "0123456789abcde\r\r\n"
        "no newline at the end \xC3";
    for (size_t max = 16; max <= 20; max++)
        assert_chunking_invariant(in, sizeof in - 1, max);
    assert_chunking_invariant(in, sizeof in - 1, 4096);
}

static void test_every_line_of_lnav_invalid_utf8_log_is_accounted_for(void **state)
{
    (void)state;
    tw_buf file = TW_BUF_INIT;
    tw_err err;
    assert_int_equal(
        tw_read_file(TW_TESTDATA_DIR "/logs/other/lnav-logfile_invalid_utf8.0", 1 << 20, &file, &err),
        0);
    assert_int_equal(file.len, 126);
    sink s = {0};
    tw_line_stats st;
    run_cuts(file.data, file.len, 256 * 1024, NULL, 0, &s, &st);
    assert_int_equal(s.n, 6);
    assert_line(&s, 0, "2015-03-12T23:16:52.071:INFO:com.root:Response :", 0, 49, false);
    assert_line(&s, 1, "<tiptop>", 49, 59, false);
    assert_line(&s, 2, "\t<sample>", 59, 70, false);
    /* ED B9 A4 encodes a surrogate: three escaped bytes, the rest kept. */
    assert_line(&s, 3, "\t\t<node>" "???????????" "\\xed\\xb9\\xa4" "??" "</node>", 70, 103, false);
    assert_line(&s, 4, "\t</sample>", 103, 115, false);
    assert_line(&s, 5, "</tiptop>", 115, 126, false);
    assert_lines_cover(&s, file.len);
    assert_int_equal(st.repaired_lines, 1);
    assert_int_equal(st.lines, 6);
    assert_int_equal(st.flushed_partials, 0);
    for (size_t i = 0; i < s.n; i++)
        assert_true(tw_utf8_valid(s.v[i].text, s.v[i].len));
    sink_free(&s);
    assert_chunking_invariant(file.data, file.len, 16);
    assert_chunking_invariant(file.data, file.len, 256 * 1024);
    tw_buf_free(&file);
}

/* ---- speed (printed, never asserted) ------------------------------------------------ */

static void count_line(void *ctx, const tw_log_line *line)
{
    *(size_t *)ctx += line->len;
}

static void test_speed_of_typical_access_lines(void **state)
{
    (void)state;
    static const char line[] =
        "203.0.113.7 - - [10/Oct/2023:13:55:36 +0000] \"GET /api/v1/items?page=2 HTTP/1.1\" "
        "200 5123 \"https://example.com/\" \"Mozilla/5.0 (X11; Linux x86_64) Firefox/118.0\"\n";
    tw_buf chunk = TW_BUF_INIT;
    while (chunk.len + sizeof line < 65536)
        tw_buf_append(&chunk, line, sizeof line - 1);
    size_t per_chunk = chunk.len / (sizeof line - 1);
    tw_line_splitter sp;
    tw_lines_init(&sp, 256 * 1024, 0);
    size_t bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const int rounds = 3000;
    for (int r = 0; r < rounds; r++)
        tw_lines_feed(&sp, chunk.data, chunk.len, 1234, count_line, &bytes);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double lines = (double)per_chunk * rounds;
    print_message("tail_lines: %.0f lines/s, %.0f MB/s (%zu-byte access lines, 64 KiB reads)\n",
                  lines / secs, (double)chunk.len * rounds / secs / 1e6, sizeof line - 1);
    assert_int_equal(sp.stats.lines, (uint64_t)lines);
    tw_lines_free(&sp);
    tw_buf_free(&chunk);
}

int main(void)
{
    tw_log_init("test_tail_lines", TW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_end_at_lf_and_offsets_are_exact),
        cmocka_unit_test(test_a_line_inside_the_chunk_is_handed_out_without_a_copy),
        cmocka_unit_test(test_crlf_and_lone_cr),
        cmocka_unit_test(test_a_partial_line_is_held_until_its_newline_or_a_flush),
        cmocka_unit_test(test_offsets_start_where_the_splitter_was_started),
        cmocka_unit_test(test_a_line_of_exactly_max_line_bytes_is_whole),
        cmocka_unit_test(test_a_line_of_max_line_plus_one_bytes_is_split_in_two),
        cmocka_unit_test(test_a_cr_at_the_limit_does_not_split_the_line),
        cmocka_unit_test(test_a_long_line_is_split_into_pieces_and_nothing_is_dropped),
        cmocka_unit_test(test_a_multibyte_character_straddling_the_cut_is_not_broken),
        cmocka_unit_test(test_invalid_utf8_is_escaped_byte_by_byte),
        cmocka_unit_test(test_a_long_invalid_line_is_split_and_every_piece_repaired),
        cmocka_unit_test(test_utf8_valid_agrees_with_rfc_3629),
        cmocka_unit_test(test_reset_drops_what_is_held_and_restarts_at_the_offset),
        cmocka_unit_test(test_a_mixed_input_gives_the_same_lines_however_it_arrives),
        cmocka_unit_test(test_every_line_of_lnav_invalid_utf8_log_is_accounted_for),
        cmocka_unit_test(test_speed_of_typical_access_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
