/* err.c — tw_err: formatting of user-facing error sentences. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int tw_err_set(tw_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void tw_err_prefix(tw_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[TW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the message right and put the prefix in front; truncation of a
     * very long message is accepted. */
    size_t plen = strlen(prefix);
    if (plen + 2 >= sizeof err->msg)
        plen = sizeof err->msg - 3;
    size_t mlen = strnlen(err->msg, sizeof err->msg - 1);
    if (plen + 2 + mlen >= sizeof err->msg)
        mlen = sizeof err->msg - plen - 3;
    memmove(err->msg + plen + 2, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + mlen] = '\0';
}

void tw_err_clear(tw_err *err)
{
    if (err != NULL)
        err->msg[0] = '\0';
}
