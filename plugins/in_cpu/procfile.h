/* procfile.h — reading kernel text files (/proc, /sys) cheaply, shared by
 * the host metrics inputs (in_cpu, in_mem, in_net, in_disk, in_diskio).
 *
 * A tw_procfile keeps its file open and re-reads it from offset 0 with
 * pread into a buffer it owns (Netdata's way): once the buffer has grown to
 * the file's size, a read costs two syscalls and no allocation. The kernel
 * regenerates a seq_file on a read at offset 0, so each read is a fresh
 * snapshot. Lines are cut in place (the '\n' becomes a NUL) and fields are
 * ranges inside the buffer: nothing is copied.
 *
 * Kernel text is trusted for shape, not for content: every helper here
 * bounds its work by the bytes actually read, so truncated or random bytes
 * yield a parse error, never a crash. Errors are one sentence naming the
 * file, the line and what was expected.
 *
 * Also here: NULL-terminated glob lists (the inputs' interfaces=,
 * mount_points=, devices= options), copied at open.
 *
 * Thread: a tw_procfile belongs to one input and is used by one thread at a
 * time.
 */
#ifndef TW_PROCFILE_H
#define TW_PROCFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct tw_procfile {
    int fd;
    char *path; /* heap: root + "/" + name, for messages */
    char *buf;  /* heap: cap + 1 bytes, content then a NUL */
    size_t cap;
    size_t len; /* bytes read by the last tw_procfile_read */
} tw_procfile;

/* Opens root/name (root NULL: "/proc") read-only. initial_cap is the
 * expected size (the buffer doubles when a read fills it). Returns 0, or
 * -errno with err naming the file; on error pf needs no close. */
int tw_procfile_open(tw_procfile *pf, const char *root, const char *name, size_t initial_cap,
                     tw_err *err);

/* Reads the whole file again from offset 0 into pf->buf (NUL-terminated,
 * pf->len bytes; the file may contain NUL bytes of its own). Grows the
 * buffer when the file outgrew it (up to 64 MiB). Returns 0 or -errno. */
int tw_procfile_read(tw_procfile *pf, tw_err *err);

/* Closes the file and frees the buffers; pf may be zeroed or closed. */
void tw_procfile_close(tw_procfile *pf);

/* One line of the buffer: text is NUL-terminated in place, len excludes the
 * terminator (text may hold NUL bytes before len: field helpers look at
 * exactly len bytes), number counts from 1. */
typedef struct tw_procline {
    char *text;
    size_t len;
    unsigned number;
} tw_procline;

typedef struct tw_proclines {
    char *next;
    char *end;
    unsigned number;
} tw_proclines;

/* Iterates the lines of buf[0..len) (buf[len] must be writable: a
 * tw_procfile's buf and len after a read); a last line without '\n' (a
 * truncated file) is still returned. */
void tw_proclines_init(tw_proclines *it, char *buf, size_t len);
bool tw_proclines_next(tw_proclines *it, tw_procline *line);

/* A cursor over the fields of one line, separated by blanks (space, tab,
 * and the NUL tw_procfields_cut leaves). */
typedef struct tw_procfields {
    char *p;
    char *end;
} tw_procfields;

void tw_procfields_init(tw_procfields *f, const tw_procline *line);
/* Returns the next field as [*start, *start + *len); false when none is
 * left. The byte after the field is left alone; tw_procfields_cut
 * NUL-terminates it in place (it is a blank or the line's NUL). */
bool tw_procfields_next(tw_procfields *f, char **start, size_t *len);
char *tw_procfields_cut(char *start, size_t len);

/* Parses exactly len bytes as an unsigned decimal (no sign, no blanks, no
 * overflow). */
bool tw_proc_parse_u64(const char *s, size_t len, uint64_t *out);

/* True when the len bytes are a usable name for a dimension value: 1 to
 * max_len printable ASCII characters without blanks (what /proc prints for
 * devices and interfaces; CloudWatch rejects control characters). */
bool tw_proc_name_ok(const char *s, size_t len, size_t max_len);

/* Fills err with "<file> line N: expected <what>, got "<the line>"" (the
 * line shortened and made printable) and returns -EINVAL. */
int tw_procline_error(tw_err *err, const tw_procfile *pf, const tw_procline *line,
                      const char *what);

/* Glob lists: a heap copy of a NULL-terminated list of fnmatch(3) patterns
 * (NULL stays NULL: "no filter"). Freed with tw_globlist_free. */
char **tw_globlist_copy(const char *const *globs);
void tw_globlist_free(char **globs);
/* True when name matches one of the patterns (flags as fnmatch's). */
bool tw_globlist_match(char *const *globs, const char *name, int flags);

#endif
