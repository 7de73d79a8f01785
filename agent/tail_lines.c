/* tail_lines.c — line cutting, CR removal, UTF-8 repair and long-line
 * splitting (see tail_lines.h). */
#include "tail_lines.h"

#include <string.h>

#include "utf8.h"

/* Copies text into out with every byte that is not part of valid UTF-8
 * written as \xHH. */
static void repair_utf8(const char *text, size_t len, tw_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)text;
    tw_buf_reset(out);
    for (size_t i = 0; i < len;) {
        size_t n = tw_utf8_sequence(p + i, len - i);
        if (n > 0) {
            tw_buf_append(out, p + i, n);
            i += n;
        } else {
            char esc[4] = {'\\', 'x', hex[p[i] >> 4], hex[p[i] & 15]};
            tw_buf_append(out, esc, 4);
            i++;
        }
    }
}

/* Hands out one line of text that starts at file offset `offset`, whose
 * newline (if any) ends at `end`. */
static void emit(tw_line_splitter *s, const char *text, size_t len, uint64_t offset, uint64_t end,
                 bool truncated, int64_t now, tw_line_fn fn, void *ctx)
{
    tw_log_line line = {.text = text, .len = len, .offset = offset, .end = end,
                        .read_time_ms = now, .truncated = truncated};
    if (!tw_utf8_valid(text, len)) {
        repair_utf8(text, len, &s->repair);
        line.text = s->repair.data;
        line.len = s->repair.len;
        s->stats.repaired_lines++;
    }
    s->stats.lines++;
    fn(ctx, &line);
}

/* Where to cut a piece of at most max bytes out of text without splitting
 * a UTF-8 character (a cut inside invalid bytes is fine: they are escaped). */
static size_t cut_point(const char *text, size_t max)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t cut = max;
    /* Step back over continuation bytes to the start of a character; if
     * that character ends past max, cut before it. */
    for (size_t back = 0; back < 3 && cut > 0 && (p[cut] & 0xC0) == 0x80; back++)
        cut--;
    if (cut == 0 || (p[cut] & 0xC0) == 0x80)
        return max; /* not UTF-8 anyway */
    return cut;
}

void tw_lines_init(tw_line_splitter *s, size_t max_line, uint64_t offset)
{
    *s = (tw_line_splitter){.max_line = max_line < 16 ? 16 : max_line,
                            .partial = TW_BUF_INIT, .partial_offset = offset,
                            .next_offset = offset, .repair = TW_BUF_INIT};
}

void tw_lines_free(tw_line_splitter *s)
{
    tw_buf_free(&s->partial);
    tw_buf_free(&s->repair);
}

/* Splits off max_line-sized pieces while the held partial line is too long.
 * While the line's end is not known (hold_cr), a CR that is the only byte
 * past max_line is held: it may be half of a CRLF whose LF is in the next
 * read, and then it is not text. */
static void split_long(tw_line_splitter *s, bool hold_cr, int64_t now, tw_line_fn fn,
                       void *ctx)
{
    while (s->partial.len > s->max_line &&
           !(hold_cr && s->partial.len == s->max_line + 1 &&
             s->partial.data[s->max_line] == '\r')) {
        size_t cut = cut_point(s->partial.data, s->max_line);
        if (!s->in_long_line)
            s->stats.split_lines++;
        s->in_long_line = true;
        emit(s, s->partial.data, cut, s->partial_offset, s->partial_offset + cut, true, now, fn,
             ctx);
        memmove(s->partial.data, s->partial.data + cut, s->partial.len - cut);
        s->partial.len -= cut;
        s->partial.data[s->partial.len] = '\0';
        s->partial_offset += cut;
    }
}

void tw_lines_feed(tw_line_splitter *s, const char *data, size_t len, int64_t read_time_ms,
                   tw_line_fn fn, void *ctx)
{
    uint64_t offset = s->next_offset; /* file offset of data[0] */
    s->next_offset += len;
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr(data + at, '\n', len - at);
        if (!nl) {
            tw_buf_append(&s->partial, data + at, len - at);
            split_long(s, true, read_time_ms, fn, ctx);
            return;
        }
        size_t line_len = (size_t)(nl - (data + at));
        uint64_t end = offset + (uint64_t)(nl - data) + 1;
        if (s->partial.len == 0 && line_len <= s->max_line + 1) {
            /* The common case: a whole line inside the chunk (a CR may make
             * it one byte longer than max_line; emit drops the CR). */
            size_t keep = line_len;
            if (keep > 0 && data[at + keep - 1] == '\r')
                keep--;
            if (keep > s->max_line)
                goto slow;
            emit(s, data + at, keep, offset + at, end, s->in_long_line, read_time_ms, fn,
                 ctx);
        } else {
        slow:
            if (s->partial.len == 0)
                s->partial_offset = offset + at;
            tw_buf_append(&s->partial, data + at, line_len);
            bool strip_cr = s->partial.len > 0 && s->partial.data[s->partial.len - 1] == '\r';
            if (strip_cr)
                s->partial.len--; /* so that the CR alone never makes a piece */
            split_long(s, false, read_time_ms, fn, ctx);
            emit(s, s->partial.data, s->partial.len, s->partial_offset, end, s->in_long_line,
                 read_time_ms, fn, ctx);
            tw_buf_reset(&s->partial);
        }
        s->in_long_line = false;
        s->partial_offset = end;
        at += line_len + 1;
    }
}

void tw_lines_flush(tw_line_splitter *s, int64_t read_time_ms, tw_line_fn fn, void *ctx)
{
    if (s->partial.len == 0)
        return;
    s->stats.flushed_partials++;
    size_t len = s->partial.len;
    if (s->partial.data[len - 1] == '\r')
        len--; /* half of a CRLF */
    emit(s, s->partial.data, len, s->partial_offset,
         s->partial_offset + s->partial.len, s->in_long_line, read_time_ms, fn, ctx);
    s->partial_offset += s->partial.len;
    tw_buf_reset(&s->partial);
    s->in_long_line = false;
}

void tw_lines_reset(tw_line_splitter *s, uint64_t offset)
{
    tw_buf_reset(&s->partial);
    s->partial_offset = offset;
    s->next_offset = offset;
    s->in_long_line = false;
}

uint64_t tw_lines_consumed(const tw_line_splitter *s)
{
    return s->partial_offset;
}
