/* in_diskio.h — the diskio input: per block device I/O from
 * /proc/diskstats, as the CloudWatch agent publishes it (telegraf's diskio
 * plugin, counters turned into deltas).
 *
 * Each collect reads /proc/diskstats once and emits, per device (dimension
 * `name`), what happened since the previous collect:
 *   diskio_reads, diskio_writes (Count),
 *   diskio_read_bytes, diskio_write_bytes (Bytes: the kernel counts
 *     512-byte sectors whatever the device's block size),
 *   diskio_read_time, diskio_write_time, diskio_io_time (Milliseconds)
 * and the gauge diskio_iops_in_progress (Count), which the first collect
 * emits too. Deltas start at the second collect; a counter that went down
 * (the 32-bit millisecond counters of older kernels wrap every 49.7 days;
 * a device re-created under the same name) gives no sample for that
 * interval. An in-flight count above 2^31 is a known kernel accounting
 * underflow and is not reported.
 *
 * Which devices: with options.devices, exactly those matching one of the
 * globs (fnmatch). Without, every device and partition except loop* and
 * ram* (images and RAM disks: dozens of idle snaps on Ubuntu), and except
 * those with every counter still 0 since boot (empty card readers, unused
 * partitions, sr0 without a disc): such a device is watched and reported
 * from its first activity on, with that first interval counted in full.
 *
 * Ownership: tw_in_diskio_open allocates, tw_in_diskio_close frees; options
 * are copied. Thread: one thread at a time per tw_in_diskio; no libuv
 * calls; no allocation per collect unless devices appear.
 */
#ifndef TW_IN_DISKIO_H
#define TW_IN_DISKIO_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "metric.h"

typedef struct tw_in_diskio tw_in_diskio;

/* Zero-initialised = the defaults (see above). */
typedef struct tw_in_diskio_options {
    const char *const *devices; /* NULL-terminated globs; NULL = the default set */
} tw_in_diskio_options;

/* proc_root: "/proc" (NULL means that) or a directory laid out like it;
 * sys_root is unused; options may be NULL. Returns 0, or -errno with err
 * naming the file (-ENOENT in a container without /proc/diskstats). */
int tw_in_diskio_open(const char *proc_root, const char *sys_root,
                      const tw_in_diskio_options *options, tw_in_diskio **out, tw_err *err);

/* Reads /proc/diskstats once and emits the samples (time_ms = now_ms).
 * Returns 0, or a negative errno with err naming the file and the first
 * bad line; the other devices are still reported. */
int tw_in_diskio_collect(tw_in_diskio *in, int64_t now_ms, const tw_metric_sink *sink,
                         tw_err *err);

void tw_in_diskio_close(tw_in_diskio *in);

#endif
