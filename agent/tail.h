/* tail.h — follows the files of one [logs] section and hands out their lines.
 *
 * The tail finds the files the section's path patterns match (tail_glob.h),
 * watches their directories with inotify (its own instance on the loop,
 * waking once per pass for writes however many there are) and also polls, so
 * a missed event or a filesystem without inotify only delays reading. Each
 * file is followed by identity (tw_file_identity), not by name:
 *   - rotation by rename: the renamed file is read to its end, then let go
 *     once it has been quiet for rotate_wait; the new file under the old
 *     name is read from its first byte;
 *   - a file removed while open is read to its end, then let go;
 *   - copytruncate and truncation: a file shorter than what was read, or
 *     whose first bytes changed, is read again from its start (logged);
 *   - inode reuse: a known inode whose first bytes differ is a new file;
 *   - at startup, reading resumes where the checkpoint says; a file the
 *     checkpoint knows that was rotated away while the agent was down is
 *     found again in its directory (same inode) and read to its end.
 * Files seen for the first time at startup start at their end when
 * read_from_tail; files that appear later always start at their beginning.
 *
 * Reading happens on the loop in chunks (a budget per file per turn keeps
 * other work flowing) and stops while the tail is paused (the pipeline's
 * spool is full: the files themselves are the buffer then).
 *
 * Lines are valid only during the line callback. Loop thread only.
 */
#ifndef TW_TAIL_H
#define TW_TAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "checkpoint.h"
#include "err.h"
#include "log_parser.h"

typedef struct tw_tail tw_tail;
typedef struct tw_tail_file tw_tail_file;

typedef struct tw_tail_callbacks {
    /* A file is followed from now on; the return value is kept as its user
     * pointer (the pipeline's per-file state). */
    void *(*opened)(void *ctx, tw_tail_file *file);
    void (*line)(void *ctx, tw_tail_file *file, const tw_log_line *line);
    /* The file is let go: drained is true when it was read to its end and
     * will not be read again (rotated or removed) — flush what is held for
     * it; false when the tail stops (what is held is read again next start). */
    void (*closing)(void *ctx, tw_tail_file *file, bool drained);
} tw_tail_callbacks;

typedef struct tw_tail_options {
    const char *section;  /* for messages */
    const char *patterns; /* blank-separated, absolute (tail_glob.h) */
    bool read_from_tail;
    size_t max_line;
    int64_t poll_interval_ms;  /* 0: 1 s */
    int64_t scan_interval_ms;  /* rescan of the patterns with working inotify; 0: 10 s */
    int64_t rotate_wait_ms;    /* 0: 5 s */
    int64_t partial_flush_ms;  /* a last line without newline is handed out
                                  after this long without growth; 0: 5 s */
    tw_checkpoint *checkpoint; /* borrowed */
} tw_tail_options;

typedef struct tw_tail_stats {
    unsigned files;
    uint64_t bytes_read, lines;
    uint64_t split_lines, repaired_lines;
    uint64_t rotations, truncations;
} tw_tail_stats;

int tw_tail_start(uv_loop_t *loop, const tw_tail_options *options,
                  const tw_tail_callbacks *callbacks, void *ctx, tw_tail **out, tw_err *err);

/* Lets every file go (closing with drained = false) and frees the tail once
 * its handles are closed; closed may be NULL. */
void tw_tail_stop(tw_tail *t, void (*closed)(void *ctx), void *ctx);

/* Stops / restarts reading (scanning goes on). */
void tw_tail_pause(tw_tail *t, bool paused);

void tw_tail_stats_get(const tw_tail *t, tw_tail_stats *out);

const char *tw_tail_file_path(const tw_tail_file *f);
const tw_tracked_file *tw_tail_file_tracked(const tw_tail_file *f);
void *tw_tail_file_user(const tw_tail_file *f);
/* Offset of the first byte not yet handed out in a line. */
uint64_t tw_tail_file_consumed(const tw_tail_file *f);

#endif
