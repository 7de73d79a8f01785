/* in_mem.h — the mem input: memory and swap from /proc/meminfo, as the
 * CloudWatch agent publishes them (telegraf's mem and swap plugins).
 *
 * Each collect reads /proc/meminfo once and emits (no dimensions):
 *   mem_total, mem_used, mem_free, mem_available, mem_cached, mem_buffered,
 *   mem_active, mem_inactive, mem_shared (Bytes),
 *   mem_used_percent, mem_available_percent (Percent),
 *   swap_used, swap_free (Bytes), swap_used_percent (Percent).
 * available is MemAvailable (kernels before 3.14 lack it: MemFree + Buffers
 * + Cached then); used = total - available, so used_percent and
 * available_percent add up to 100; cached is Cached + SReclaimable (what
 * free(1) and gopsutil call cache); shared is Shmem; swap_used = SwapTotal -
 * SwapFree, swap_used_percent 0 without swap. Gauges: the first collect
 * emits too.
 *
 * Ownership: tw_in_mem_open allocates, tw_in_mem_close frees. Thread: one
 * thread at a time per tw_in_mem; no libuv calls, no allocation per collect.
 */
#ifndef TW_IN_MEM_H
#define TW_IN_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "metric.h"

typedef struct tw_in_mem tw_in_mem;

/* Zero-initialised = the defaults (memory and swap). */
typedef struct tw_in_mem_options {
    bool no_swap; /* leave out swap_* */
} tw_in_mem_options;

/* proc_root: "/proc" (NULL means that) or a directory laid out like it;
 * sys_root is unused; options may be NULL. Returns 0, or -errno with err
 * naming the file. */
int tw_in_mem_open(const char *proc_root, const char *sys_root, const tw_in_mem_options *options,
                   tw_in_mem **out, tw_err *err);

/* Reads /proc/meminfo once and emits the samples (time_ms = now_ms).
 * Returns 0, or a negative errno with err naming the file, the line and
 * what was expected; every value that could still be computed is emitted. */
int tw_in_mem_collect(tw_in_mem *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err);

void tw_in_mem_close(tw_in_mem *in);

#endif
