/* statvfs_probe.h — statvfs(3) on a helper thread with a time limit, for
 * the disk input.
 *
 * statfs on a hard-mounted NFS share whose server is gone blocks in the
 * kernel, uninterruptibly, for as long as the server stays away (FUSE and
 * autofs mounts can do the same). The probe runs the calls on a helper
 * thread and waits at most timeout_ms for each: a path that does not answer
 * in time is reported -ETIMEDOUT, its thread is abandoned to the kernel
 * (it cannot be cancelled) and a fresh thread takes the remaining paths.
 * Until the abandoned call returns, that path is "stuck": later runs skip
 * it at once (-EBUSY) instead of piling up threads behind it, as
 * node_exporter does with its stuck mounts.
 *
 * Ownership: tw_statvfs_probe_open allocates, tw_statvfs_probe_close frees
 * (an abandoned thread frees its own share when its call returns). Thread:
 * the owner calls run and close from one thread at a time; fn runs on the
 * helper threads.
 */
#ifndef TW_STATVFS_PROBE_H
#define TW_STATVFS_PROBE_H

#include <stddef.h>
#include <sys/statvfs.h>

#include "err.h"

/* Fills *out for path; returns 0 or -errno. NULL in open means statvfs(3). */
typedef int (*tw_statvfs_fn)(void *ctx, const char *path, struct statvfs *out);

typedef struct tw_statvfs_probe tw_statvfs_probe;

/* Starts the helper thread. timeout_ms > 0. Returns 0, or -errno with err
 * saying the thread could not be started. */
int tw_statvfs_probe_open(tw_statvfs_fn fn, void *ctx, int timeout_ms, tw_statvfs_probe **out,
                          tw_err *err);

/* Calls fn on paths[0..n) in order and fills results[i] and codes[i]: 0,
 * the call's -errno, -ETIMEDOUT (did not answer in time: now stuck),
 * -EBUSY (still stuck from an earlier run: not tried) or -ENAMETOOLONG.
 * The arrays stay the caller's. Returns 0, or -errno with err when no
 * helper thread could be started (the paths not done get -EAGAIN). */
int tw_statvfs_probe_run(tw_statvfs_probe *p, const char *const *paths, size_t n,
                         struct statvfs *results, int *codes, tw_err *err);

/* How many abandoned calls have not returned yet. */
size_t tw_statvfs_probe_stuck(tw_statvfs_probe *p);

void tw_statvfs_probe_close(tw_statvfs_probe *p);

#endif
