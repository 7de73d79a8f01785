/* buf.h — a growable byte buffer, always NUL-terminated.
 *
 * The owner of a tw_buf frees it with tw_buf_free. data is NULL until the
 * first append; tw_buf_cstr never returns NULL. Growth failures abort (mem.h).
 */
#ifndef TW_BUF_H
#define TW_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

typedef struct tw_buf {
    char *data;
    size_t len;
    size_t cap;
} tw_buf;

#define TW_BUF_INIT {NULL, 0, 0}

void tw_buf_reserve(tw_buf *b, size_t extra);
void tw_buf_append(tw_buf *b, const void *data, size_t len);
void tw_buf_puts(tw_buf *b, const char *s);
void tw_buf_putc(tw_buf *b, char c);
void tw_buf_printf(tw_buf *b, const char *fmt, ...) TW_PRINTF(2, 3);
void tw_buf_vprintf(tw_buf *b, const char *fmt, va_list ap) TW_PRINTF(2, 0);
/* Empties the buffer but keeps its memory. */
void tw_buf_reset(tw_buf *b);
void tw_buf_free(tw_buf *b);
/* Hands the bytes to the caller (free() them); the buffer is left empty. */
char *tw_buf_steal(tw_buf *b);
const char *tw_buf_cstr(const tw_buf *b);

#endif
