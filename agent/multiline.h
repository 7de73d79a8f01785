/* multiline.h — groups lines into events by a start pattern
 * ([logs] multiline_start): a line matching it begins an event, the lines
 * after it up to the next match belong to it. A group is handed on as one
 * line (its lines joined with '\n', offset of the first, end of the last)
 * when the next event starts, when it would outgrow max_bytes, or when the
 * owner flushes it (multiline_timeout went by, the file was let go).
 *
 * The pattern is borrowed (compiled once per section with REG_EXTENDED |
 * REG_NOSUB); the group's text is owned. One owner, one thread.
 */
#ifndef TW_MULTILINE_H
#define TW_MULTILINE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "log_parser.h"

typedef void (*tw_multiline_emit_fn)(void *ctx, const tw_log_line *grouped);

typedef struct tw_multiline {
    const regex_t *start;
    size_t max_bytes;
    tw_buf text;
    uint64_t offset, end;
    int64_t read_time_ms; /* of the first line */
    int64_t last_ms;      /* when the last line came */
    bool open;
} tw_multiline;

void tw_multiline_init(tw_multiline *m, const regex_t *start, size_t max_bytes);
void tw_multiline_free(tw_multiline *m);

/* Adds a line; emits the group it ends, if any. */
void tw_multiline_add(tw_multiline *m, const tw_log_line *line, tw_multiline_emit_fn emit,
                      void *ctx);

/* Emits the open group, if any. */
void tw_multiline_flush(tw_multiline *m, tw_multiline_emit_fn emit, void *ctx);

/* Offset of the first line held, or TW_LOG_NO_PENDING. */
static inline uint64_t tw_multiline_pending(const tw_multiline *m)
{
    return m->open ? m->offset : TW_LOG_NO_PENDING;
}

#endif
