/* alloc_count.c — malloc interposition that counts (see alloc_count.h). */
#include "alloc_count.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

/* malloc interposition: the executable's definitions win over libc's for
 * every caller in the process; they count and forward to glibc. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TW_NO_ALLOC_COUNTING 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define TW_NO_ALLOC_COUNTING 1
#endif
#endif

#ifndef TW_NO_ALLOC_COUNTING
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static atomic_bool counting;
static atomic_size_t alloc_calls, alloc_bytes;

static void note(size_t size)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed)) {
        atomic_fetch_add(&alloc_calls, 1);
        atomic_fetch_add(&alloc_bytes, size);
    }
}

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

void *malloc(size_t size)
{
    note(size);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    note(n * size);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    note(size);
    return __libc_realloc(p, size);
}

void free(void *p)
{
    __libc_free(p);
}

bool tw_alloc_counting(void)
{
    return true;
}

void tw_alloc_begin(void)
{
    atomic_store(&alloc_calls, 0);
    atomic_store(&alloc_bytes, 0);
    atomic_store(&counting, true);
}

void tw_alloc_end(size_t *calls, size_t *bytes)
{
    atomic_store(&counting, false);
    *calls = atomic_load(&alloc_calls);
    if (bytes)
        *bytes = atomic_load(&alloc_bytes);
}
#else
bool tw_alloc_counting(void)
{
    return false;
}

void tw_alloc_begin(void)
{
}

void tw_alloc_end(size_t *calls, size_t *bytes)
{
    *calls = 0;
    if (bytes)
        *bytes = 0;
}
#endif

void tw_alloc_self_check(void)
{
    if (!tw_alloc_counting())
        return;
    size_t calls, bytes;
    tw_alloc_begin();
    void *volatile p = malloc(24);
    tw_alloc_end(&calls, &bytes);
    free(p);
    assert_int_equal(calls, 1);
    assert_int_equal(bytes, 24);
}
