/* alloc_count.h — counts the calls this test program makes to malloc,
 * calloc and realloc, so a test can show that a steady state allocates
 * nothing.
 *
 * glibc lets a program replace malloc and friends: alloc_count.c defines
 * them (counting, then forwarding to glibc) when it is linked in, which a
 * test asks for with `tw_agent_test(test_x alloc_count.c)`. Under
 * sanitizers, which own malloc, nothing is replaced and counting is off:
 * tests skip what needs it. Thread-safe.
 */
#ifndef TW_TEST_ALLOC_COUNT_H
#define TW_TEST_ALLOC_COUNT_H

#include <stdbool.h>
#include <stddef.h>

/* False when allocations cannot be counted in this build (sanitizers). */
bool tw_alloc_counting(void);
/* Starts counting from zero. */
void tw_alloc_begin(void);
/* Stops counting: calls and bytes asked since tw_alloc_begin. bytes may be
 * NULL. */
void tw_alloc_end(size_t *calls, size_t *bytes);
/* Fails the test if counting is on but does not see a malloc. */
void tw_alloc_self_check(void);

#endif
