/* in_disk.h — the disk input: space and inodes per mounted filesystem, as
 * the CloudWatch agent publishes them (telegraf's disk plugin).
 *
 * Each collect emits, per mount of <proc_root>/self/mounts that passes the
 * filters (dimensions `path`, `device` without "/dev/", `fstype`):
 *   disk_total, disk_free, disk_used (Bytes), disk_used_percent (Percent),
 *   disk_inodes_total, disk_inodes_free, disk_inodes_used (Count)
 * from statvfs: total = f_blocks, used = f_blocks - f_bfree (df's Used),
 * free = f_bavail (df's Avail: what is left for non-root users; telegraf's
 * free), each times f_frsize; used_percent = used / (used + free) * 100, as
 * df computes Use% (the root reserve is not counted as free); inodes from
 * f_files and f_ffree. Gauges: the first collect emits too.
 *
 * Which mounts: those whose fstype matches no options.ignore_fs glob (NULL:
 * the default list below, telegraf's plus the kernel's pseudo filesystems;
 * a list replaces it) and, with options.mount_points, whose path matches
 * one of those globs. Filesystems reporting 0 blocks are skipped. A mount
 * point mounted over again is reported once, for the mount on top.
 *
 * Failures never stop the other mounts: a statvfs error (ESTALE, EACCES...)
 * or a statvfs that does not answer within options.timeout_ms (a hung NFS
 * server: see statvfs_probe.h) is logged once with tw_warn, the mount is
 * skipped until it answers again (logged with tw_info), and collect still
 * returns 0 for it.
 *
 * The mount table is re-read only when the kernel says it changed (poll on
 * the kept-open /proc/self/mounts) or, for a file that is not procfs
 * (tests), when its bytes changed.
 *
 * Ownership: tw_in_disk_open allocates, tw_in_disk_close frees (it joins
 * the statvfs helper thread); options are copied. Thread: one thread at a
 * time per tw_in_disk; no libuv calls; no allocation per collect unless the
 * mount table or a mount's health changes.
 */
#ifndef TW_IN_DISK_H
#define TW_IN_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/statvfs.h>

#include "err.h"
#include "metric.h"

typedef struct tw_in_disk tw_in_disk;

/* The default ignore_fs list (NULL-terminated). */
extern const char *const tw_in_disk_default_ignore_fs[];

/* Fills *out for path, returns 0 or -errno; called on a helper thread. */
typedef int (*tw_in_disk_statvfs_fn)(void *ctx, const char *path, struct statvfs *out);

/* Zero-initialised = the defaults. */
typedef struct tw_in_disk_options {
    const char *const *ignore_fs;     /* fstype globs; NULL = the default list */
    const char *const *mount_points;  /* path globs (fnmatch, '*' crosses '/'); NULL = all */
    int timeout_ms;                   /* statvfs time limit; 0 = 1000 */
    tw_in_disk_statvfs_fn statvfs_fn; /* NULL = statvfs(3); tests give fixture values */
    void *statvfs_ctx;
} tw_in_disk_options;

/* proc_root: "/proc" (NULL means that) or a directory laid out like it
 * (self/mounts); sys_root is unused; options may be NULL. Returns 0, or
 * -errno with err naming the file or the thread that could not start. */
int tw_in_disk_open(const char *proc_root, const char *sys_root, const tw_in_disk_options *options,
                    tw_in_disk **out, tw_err *err);

/* Emits the samples of every healthy mount (time_ms = now_ms). Returns 0,
 * or a negative errno with err when the mount table cannot be read or has
 * a bad line (the other mounts are still reported). */
int tw_in_disk_collect(tw_in_disk *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err);

void tw_in_disk_close(tw_in_disk *in);

#endif
