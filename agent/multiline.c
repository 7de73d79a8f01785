/* multiline.c — start-pattern line grouping (see multiline.h). */
#include "multiline.h"

void tw_multiline_init(tw_multiline *m, const regex_t *start, size_t max_bytes)
{
    *m = (tw_multiline){.start = start, .max_bytes = max_bytes, .text = TW_BUF_INIT};
}

void tw_multiline_free(tw_multiline *m)
{
    tw_buf_free(&m->text);
}

void tw_multiline_flush(tw_multiline *m, tw_multiline_emit_fn emit, void *ctx)
{
    if (!m->open)
        return;
    tw_log_line grouped = {.text = m->text.data, .len = m->text.len, .offset = m->offset,
                           .end = m->end, .read_time_ms = m->read_time_ms};
    m->open = false; /* before emitting: the group no longer holds its lines */
    emit(ctx, &grouped);
    tw_buf_reset(&m->text);
}

void tw_multiline_add(tw_multiline *m, const tw_log_line *line, tw_multiline_emit_fn emit,
                      void *ctx)
{
    /* REG_STARTEND: the line is not NUL-terminated; pmatch[0] gives its
     * bounds (glibc reads them even with REG_NOSUB). */
    regmatch_t bounds = {.rm_so = 0, .rm_eo = (regoff_t)line->len};
    bool starts = regexec(m->start, line->text ? line->text : "", 1, &bounds, REG_STARTEND) == 0;
    if (m->open && (starts || m->text.len + 1 + line->len > m->max_bytes))
        tw_multiline_flush(m, emit, ctx);
    if (!m->open) {
        m->open = true;
        m->offset = line->offset;
        m->read_time_ms = line->read_time_ms;
    } else {
        tw_buf_putc(&m->text, '\n');
    }
    tw_buf_append(&m->text, line->text, line->len);
    m->end = line->end;
    m->last_ms = line->read_time_ms;
}
