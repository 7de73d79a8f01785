/* buf.c — tw_buf, the growable byte buffer. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void tw_buf_reserve(tw_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = tw_realloc(b->data, cap);
    b->cap = cap;
}

void tw_buf_append(tw_buf *b, const void *data, size_t len)
{
    tw_buf_reserve(b, len);
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void tw_buf_puts(tw_buf *b, const char *s)
{
    tw_buf_append(b, s, strlen(s));
}

void tw_buf_putc(tw_buf *b, char c)
{
    tw_buf_append(b, &c, 1);
}

void tw_buf_vprintf(tw_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        tw_buf_append(b, small, (size_t)n);
        return;
    }
    tw_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void tw_buf_printf(tw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void tw_buf_reset(tw_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void tw_buf_free(tw_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *tw_buf_steal(tw_buf *b)
{
    char *data = b->data ? b->data : tw_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

const char *tw_buf_cstr(const tw_buf *b)
{
    return b->data ? b->data : "";
}
