/* mem.c — abort-on-failure allocation wrappers (see mem.h for why). */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    /* No tw_log here: logging may itself allocate. */
    fprintf(stderr, "trailwatch: out of memory allocating %zu bytes; aborting\n", size);
    abort();
}

void *tw_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *tw_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

void *tw_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

char *tw_strdup(const char *s)
{
    return tw_memdup(s, strlen(s));
}

char *tw_strndup(const char *s, size_t n)
{
    return tw_memdup(s, strnlen(s, n));
}

void *tw_memdup(const void *p, size_t len)
{
    char *copy = tw_malloc(len + 1);
    if (len > 0)
        memcpy(copy, p, len);
    copy[len] = '\0';
    return copy;
}
