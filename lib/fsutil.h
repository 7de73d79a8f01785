/* fsutil.h — small filesystem operations done carefully.
 *
 * Directory creation with safe permissions and atomic, durable file
 * replacement (the pattern every checkpoint and state file uses: write a
 * temporary file, fsync it, rename it over the old one, fsync the directory,
 * so that after a power loss the file is either the old or the new version).
 */
#ifndef TW_FSUTIL_H
#define TW_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* Creates path and its missing parents with mode (parents get mode too).
 * An existing directory is fine; an existing non-directory is -ENOTDIR. */
int tw_mkdir_p(const char *path, mode_t mode, tw_err *err);

/* Makes sure dir exists, is a directory owned by us, and is not writable by
 * group or others (tightening the mode of a directory we own when needed).
 * The directory where the agent keeps positions and spooled data must not be
 * writable by anyone else. */
int tw_ensure_private_dir(const char *dir, tw_err *err);

/* Claims dir for this process, so that two daemons never share one state or
 * data directory: takes an exclusive flock(2) on dir/lock_name (created with
 * mode 0600) and writes our pid into it. The lock lasts while *fd is open
 * (close it, or exit, to release it). Returns 0 and sets *fd; -EBUSY when
 * another process holds the lock (*holder gets its pid as written in the
 * file, or 0 if unknown, and err says "DIR is in use by process N"; callers
 * usually say it in their own words); another negative errno when the file
 * cannot be opened. holder may be NULL. */
int tw_lock_dir(const char *dir, const char *lock_name, int *fd, long *holder, tw_err *err);

/* What a daemon does at startup with its own directory: tw_ensure_private_dir
 * then tw_lock_dir on dir/<program>.lock. When another process holds the
 * lock, err says so in the user's words: "another trailwatch-<program> (pid
 * N) is using the <dir_kind> DIR; give each <program> its own <option>".
 * Returns 0 and sets *fd (see tw_lock_dir), or a negative errno. */
int tw_claim_daemon_dir(const char *dir, const char *program, const char *dir_kind,
                        const char *option, int *fd, tw_err *err);

/* Replaces path with data atomically and durably (temp + fsync + rename +
 * fsync of the directory). The file gets mode. */
int tw_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         tw_err *err);

/* Reads a whole file of at most max_len bytes into out (appending). */
int tw_read_file(const char *path, size_t max_len, tw_buf *out, tw_err *err);

/* A new private directory (mkdtemp) named prefix plus a random suffix in
 * parent (NULL: $TMPDIR, else /tmp); its path goes to out. For tests,
 * benchmarks and fuzz targets. Returns 0, or -errno with err filled. */
int tw_make_temp_dir(const char *parent, const char *prefix, char *out, size_t size,
                     tw_err *err);

/* The same for a new file (mkstemp, mode 0600): returns its open
 * descriptor, or -errno with err filled. */
int tw_make_temp_file(const char *parent, const char *prefix, char *out, size_t size,
                      tw_err *err);

#endif
