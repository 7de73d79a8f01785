/* in_host_sink.h — what the host metrics input tests (test_in_cpu,
 * test_in_mem, test_in_net, test_in_disk, test_in_diskio) share:
 *
 * - a recording sink that copies every sample (name, unit, value, time,
 *   dimensions) and fails the test on a sample the real sink would reject
 *   (tw_metric_sample_check);
 * - a counting sink that allocates nothing (for cost measurements);
 * - a fake /proc: a temporary directory the tests fill with the snapshots
 *   of tests/data/proc/ (overwritten in place, so the inputs' kept-open
 *   files see the new bytes, as with the kernel's files);
 * - random bytes for the garbage tests.
 *
 * Test-only code; everything returned is owned by the sink or fixture.
 */
#ifndef TW_IN_HOST_SINK_H
#define TW_IN_HOST_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc_count.h"
#include "metric.h"

#define HOST_DIMS_MAX 4

typedef struct host_sample {
    char name[64];
    char unit[32];
    double value;
    int64_t time_ms;
    size_t n_dims;
    char dim_name[HOST_DIMS_MAX][32];
    char dim_value[HOST_DIMS_MAX][256];
} host_sample;

typedef struct host_sink {
    tw_metric_sink sink;
    host_sample *samples;
    size_t n, cap;
} host_sink;

void host_sink_init(host_sink *s);
void host_sink_clear(host_sink *s);
void host_sink_free(host_sink *s);
/* The sample named name whose dimension dim_name (NULL: no dimension at
 * all) has value dim_value, or NULL. */
const host_sample *host_sink_find(const host_sink *s, const char *name, const char *dim_name,
                                  const char *dim_value);
/* Fails the test unless that sample exists with this unit; returns its value. */
#define host_value(s, name, unit, dim_name, dim_value) \
    host_sink_value((s), (name), (unit), (dim_name), (dim_value), __FILE__, __LINE__)
double host_sink_value(const host_sink *s, const char *name, const char *unit,
                       const char *dim_name, const char *dim_value, const char *file, int line);
/* How many samples carry this dimension value (any name). */
size_t host_sink_count_dim(const host_sink *s, const char *dim_name, const char *dim_value);
/* How many samples are named name. */
size_t host_sink_count_name(const host_sink *s, const char *name);
/* Prints every sample (for a failing test). */
void host_sink_dump(const host_sink *s);

/* A sink that only counts (and sums values so nothing is optimised away). */
typedef struct host_count_sink {
    tw_metric_sink sink;
    size_t n;
    double sum;
} host_count_sink;
void host_count_sink_init(host_count_sink *s);

/* A fake proc root: creates a temp dir; host_proc_put copies
 * tests/data/proc/<snapshot>/<rel> to <root>/<rel> (creating directories),
 * host_proc_write writes text there. Both overwrite in place. */
typedef struct host_proc {
    char root[256];
} host_proc;
void host_proc_init(host_proc *p, const char *name);
void host_proc_put(const host_proc *p, const char *snapshot, const char *rel);
void host_proc_write(const host_proc *p, const char *rel, const char *text);
void host_proc_write_bytes(const host_proc *p, const char *rel, const void *data, size_t len);
void host_proc_free(host_proc *p);

/* Monotonic microseconds, and the process's CPU time in microseconds. */
double host_now_us(void);
double host_cpu_us(void);

/* Deterministic pseudo-random bytes biased towards what /proc files hold
 * (digits, blanks, newlines, ':', letters), with some raw bytes. */
void host_random_text(uint64_t *state, char *out, size_t len);

#endif
