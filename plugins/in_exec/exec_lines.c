/* exec_lines.c — a command's output cut into lines of bounded length (see
 * exec_lines.h). */
#include "exec_lines.h"

#include <string.h>

#include "exec_parse.h"

void tw_exec_lines_feed(tw_exec_lines *r, const char *data, size_t len, tw_exec_line_fn *fn,
                        void *ctx)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t piece = nl ? (size_t)(nl - data) : len;
        size_t used = piece + (nl != NULL);
        if (r->discarding) {
            r->discarding = nl == NULL;
        } else if (r->partial.len + piece > TW_EXEC_LINE_MAX) {
            /* The report shows the first bytes only. */
            size_t room =
                TW_EXEC_SHOW_MAX > r->partial.len ? TW_EXEC_SHOW_MAX - r->partial.len : 0;
            tw_buf_append(&r->partial, data, piece < room ? piece : room);
            size_t shown = r->partial.len < TW_EXEC_SHOW_MAX ? r->partial.len : TW_EXEC_SHOW_MAX;
            fn(ctx, tw_buf_cstr(&r->partial), shown, true);
            tw_buf_reset(&r->partial);
            r->discarding = nl == NULL;
        } else if (nl == NULL) {
            tw_buf_append(&r->partial, data, piece);
        } else if (r->partial.len == 0) {
            fn(ctx, data, piece, false); /* the common case: no copy */
        } else {
            tw_buf_append(&r->partial, data, piece);
            fn(ctx, tw_buf_cstr(&r->partial), r->partial.len, false);
            tw_buf_reset(&r->partial);
        }
        data += used;
        len -= used;
    }
}

void tw_exec_lines_end(tw_exec_lines *r, tw_exec_line_fn *fn, void *ctx)
{
    if (r->eof)
        return;
    r->eof = true;
    if (r->partial.len > 0 && !r->discarding)
        fn(ctx, tw_buf_cstr(&r->partial), r->partial.len, false);
    tw_buf_free(&r->partial);
}

void tw_exec_lines_free(tw_exec_lines *r)
{
    tw_buf_free(&r->partial);
}
