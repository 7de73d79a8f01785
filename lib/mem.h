/* mem.h — allocation that never returns NULL.
 *
 * Our programs treat running out of memory as fatal, like Redis and git: a
 * daemon that limps on after a failed malloc loses data in ways nobody can
 * reason about, while a clean abort is restarted by systemd and resumes from
 * its spool and checkpoints. These wrappers log one line and abort().
 */
#ifndef TW_MEM_H
#define TW_MEM_H

#include <stddef.h>

void *tw_malloc(size_t size);
void *tw_calloc(size_t count, size_t size);
void *tw_realloc(void *ptr, size_t size);
char *tw_strdup(const char *s);
char *tw_strndup(const char *s, size_t n);
/* Copies len bytes and adds a NUL after them. */
void *tw_memdup(const void *p, size_t len);

#endif
