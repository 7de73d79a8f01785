/* bench_collector.h — a trailwatch-collector child process for benchmarks.
 *
 * Start writes DIR/collector.conf (listen 127.0.0.1:0, data_dir DIR/data,
 * account 123456789012, one region, one [user bench]), starts the program
 * with it, and returns once the collector logged "listening on URL"; its
 * log (stdout and stderr) is then copied to our stderr by a thread. Its CPU
 * time and memory are read from /proc/PID. Stop sends SIGTERM and waits.
 *
 * The caller owns the tw_bench_collector (zeroed before start); stop
 * releases what start made. Not thread-safe, except the reads of /proc.
 */
#ifndef TW_BENCH_COLLECTOR_H
#define TW_BENCH_COLLECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

typedef struct tw_bench_collector {
    pid_t pid; /* 0 = not running */
    int log_fd;
    pthread_t log_thread;
    char url[128]; /* http://127.0.0.1:PORT */
    char host[96]; /* 127.0.0.1:PORT, the Host header */
} tw_bench_collector;

/* Returns 0, or -1 with err saying why (a child that started is stopped).
 * Only plain http: the configuration has no TLS. Strings are borrowed. */
int tw_bench_collector_start(tw_bench_collector *c, const char *program, const char *dir,
                             const char *region, const char *access_key_id,
                             const char *secret_access_key, tw_err *err);
/* SIGTERM, then up to 30 s before SIGKILL. Returns the wait status (0 for
 * a clean exit). */
int tw_bench_collector_stop(tw_bench_collector *c);

/* A size line of /proc/PID/status ("VmRSS", "VmHWM") in MiB; -1 when it
 * cannot be read. */
double tw_bench_proc_mib(pid_t pid, const char *key);
/* utime + stime of the process in seconds (all its threads). */
double tw_bench_proc_cpu_s(pid_t pid);
/* Busy time of all CPUs in seconds (/proc/stat: everything but idle and
 * iowait): what every process on the machine used, to tell a run that had
 * to share the machine. */
double tw_bench_machine_cpu_s(void);

/* The largest VmRSS of pid, sampled every 20 ms on a thread between start
 * and stop. */
typedef struct tw_bench_rss_sampler {
    pid_t pid;
    atomic_bool running;
    double max_mib;
    pthread_t thread;
} tw_bench_rss_sampler;

void tw_bench_rss_sampler_start(tw_bench_rss_sampler *s, pid_t pid);
/* Returns the largest VmRSS seen, in MiB. */
double tw_bench_rss_sampler_stop(tw_bench_rss_sampler *s);

#endif
