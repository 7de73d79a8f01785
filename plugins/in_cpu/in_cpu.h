/* in_cpu.h — the cpu input: CPU usage from /proc/stat, as the CloudWatch
 * agent publishes it (telegraf's cpu plugin).
 *
 * Each collect reads /proc/stat once and, for "cpu-total" and every online
 * core ("cpu0", "cpu1", ...; dimension `cpu`), emits the share of the
 * interval since the previous collect spent in each state:
 *   cpu_usage_user, _system, _idle, _nice, _iowait, _irq, _softirq, _steal,
 *   _guest, _guest_nice, _active (Percent)
 * and, with options.times, the CPU time itself in seconds:
 *   cpu_time_user ... cpu_time_active (None).
 * As in telegraf, the kernel's user and nice include guest and guest_nice,
 * so usage_user and usage_nice exclude them and the ten states add up to
 * 100; usage_active = 100 - usage_idle (iowait counts as active).
 * A counter that went backwards (kernel accounting noise on iowait) counts
 * as 0 for the interval; a core whose total went backwards, that just came
 * online, or the first collect only primes (no samples).
 *
 * Ownership: tw_in_cpu_open allocates, tw_in_cpu_close frees. Options are
 * copied. Thread: one thread at a time per tw_in_cpu (the agent's loop or a
 * worker); no libuv calls, no allocation per collect once the tables fit
 * the number of CPUs.
 */
#ifndef TW_IN_CPU_H
#define TW_IN_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "metric.h"

typedef struct tw_in_cpu tw_in_cpu;

/* Zero-initialised = the defaults (cpu-total and every core, usage only). */
typedef struct tw_in_cpu_options {
    bool no_total;   /* leave out cpu="cpu-total" (CWA totalcpu = false) */
    bool no_per_cpu; /* leave out cpu="cpu0"... (CWA without resources "*") */
    bool times;      /* also cpu_time_* (CWA collect_cpu_time) */
} tw_in_cpu_options;

/* proc_root: "/proc" (NULL means that) or a directory laid out like it
 * (tests); sys_root is unused. options may be NULL. Returns 0, or -errno
 * with err naming the file (a missing <proc_root>/stat is -ENOENT). */
int tw_in_cpu_open(const char *proc_root, const char *sys_root, const tw_in_cpu_options *options,
                   tw_in_cpu **out, tw_err *err);

/* Reads /proc/stat once and emits this interval's samples (time_ms =
 * now_ms) into sink. Returns 0, or a negative errno with err naming the
 * file and line; samples that could be computed are emitted even then. */
int tw_in_cpu_collect(tw_in_cpu *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err);

void tw_in_cpu_close(tw_in_cpu *in);

#endif
