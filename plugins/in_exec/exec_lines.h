/* exec_lines.h — a command's output stream cut into lines, as the exec
 * runner reads it from a pipe: chunks in, whole lines out, a line longer
 * than TW_EXEC_LINE_MAX handed over once, cut (its first bytes only), and
 * the rest of it up to the newline skipped.
 *
 * The caller owns the tw_exec_lines (zero-initialised is ready) and frees
 * it with tw_exec_lines_free. Lines passed to the callback are borrowed for
 * the call: a pointer into the chunk or into the reader's buffer, not
 * NUL-terminated, without the '\n'. One thread.
 */
#ifndef TW_EXEC_LINES_H
#define TW_EXEC_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* cut: the line was longer than TW_EXEC_LINE_MAX; line is then its first
 * TW_EXEC_SHOW_MAX bytes, for the report. */
typedef void tw_exec_line_fn(void *ctx, const char *line, size_t len, bool cut);

typedef struct tw_exec_lines {
    tw_buf partial;  /* a line whose newline has not come yet */
    bool discarding; /* the rest of a line already handed over as cut */
    bool eof;
} tw_exec_lines;

void tw_exec_lines_feed(tw_exec_lines *r, const char *data, size_t len, tw_exec_line_fn *fn,
                        void *ctx);
/* The end of the stream: hands over a last line that lacked its newline.
 * Later calls do nothing. */
void tw_exec_lines_end(tw_exec_lines *r, tw_exec_line_fn *fn, void *ctx);
void tw_exec_lines_free(tw_exec_lines *r);

#endif
