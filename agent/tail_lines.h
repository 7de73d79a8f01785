/* tail_lines.h — cuts the bytes of a file into lines, the way the tail
 * hands them to parsers.
 *
 * Bytes come in as read (any chunk size, contiguous file offsets); lines go
 * out through a callback as tw_log_line (agent/log_parser.h): no newline, no
 * trailing CR, valid UTF-8 (an invalid byte becomes the four characters
 * \xHH, so nothing is lost and nothing downstream sees broken UTF-8), at
 * most max_line bytes (a longer line is split into pieces of at most
 * max_line bytes at character boundaries, each piece marked truncated and
 * counted: nothing is dropped). A last line without its newline is held
 * until more bytes come or tw_lines_flush is called (the tail does that
 * after a quiet period, and when it lets a file go).
 *
 * Lines point into the caller's chunk when they lie whole inside it and
 * need no repair, else into the splitter's own buffers; either way they are
 * valid only during the callback. Memory: the held partial line (at most
 * max_line bytes) and one repair buffer. One owner, one thread.
 */
#ifndef TW_TAIL_LINES_H
#define TW_TAIL_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "log_parser.h"
#include "utf8.h" /* tw_utf8_valid, which tests use with the lines */

typedef void (*tw_line_fn)(void *ctx, const tw_log_line *line);

typedef struct tw_line_stats {
    uint64_t lines;       /* lines handed out, pieces of split lines included */
    uint64_t split_lines; /* lines longer than max_line (each counted once) */
    uint64_t repaired_lines; /* lines with invalid UTF-8, escaped */
    uint64_t flushed_partials; /* last lines handed out without a newline */
} tw_line_stats;

typedef struct tw_line_splitter {
    size_t max_line;
    tw_buf partial;          /* bytes of the line not ended yet */
    uint64_t partial_offset; /* file offset of its first byte */
    uint64_t next_offset;    /* file offset the next fed byte must have */
    bool in_long_line;       /* the current line was already split once */
    tw_buf repair;
    tw_line_stats stats;
} tw_line_splitter;

/* Starts at file offset. max_line >= 16. */
void tw_lines_init(tw_line_splitter *s, size_t max_line, uint64_t offset);
void tw_lines_free(tw_line_splitter *s);

/* Feeds len bytes read at the splitter's next offset; calls fn for every
 * line they complete. */
void tw_lines_feed(tw_line_splitter *s, const char *data, size_t len, int64_t read_time_ms,
                   tw_line_fn fn, void *ctx);

/* Hands out the held partial line, if any, as a line. */
void tw_lines_flush(tw_line_splitter *s, int64_t read_time_ms, tw_line_fn fn, void *ctx);

/* Drops what is held and starts again at offset (the file was truncated). */
void tw_lines_reset(tw_line_splitter *s, uint64_t offset);

/* Offset of the first byte not yet handed out in a line: everything before
 * it reached the callback. */
uint64_t tw_lines_consumed(const tw_line_splitter *s);


#endif
