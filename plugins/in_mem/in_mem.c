/* in_mem.c — the mem input: /proc/meminfo to mem_* and swap_* (see
 * in_mem.h). */
#include "in_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "procfile.h"

enum {
    MEM_TOTAL,
    MEM_FREE,
    MEM_AVAILABLE,
    BUFFERS,
    CACHED,
    SRECLAIMABLE,
    ACTIVE,
    INACTIVE,
    SHMEM,
    SWAP_TOTAL,
    SWAP_FREE,
    N_KEYS
};

static const char *const key_names[N_KEYS] = {
    "MemTotal", "MemFree",  "MemAvailable", "Buffers",   "Cached",   "SReclaimable",
    "Active",   "Inactive", "Shmem",        "SwapTotal", "SwapFree",
};

struct tw_in_mem {
    tw_procfile meminfo;
    tw_in_mem_options options;
};

int tw_in_mem_open(const char *proc_root, const char *sys_root, const tw_in_mem_options *options,
                   tw_in_mem **out, tw_err *err)
{
    (void)sys_root;
    tw_in_mem *in = tw_calloc(1, sizeof *in);
    int rc = tw_procfile_open(&in->meminfo, proc_root, "meminfo", 4096, err);
    if (rc != 0) {
        free(in);
        return rc;
    }
    if (options)
        in->options = *options;
    *out = in;
    return 0;
}

void tw_in_mem_close(tw_in_mem *in)
{
    if (in == NULL)
        return;
    tw_procfile_close(&in->meminfo);
    free(in);
}

static void emit(const tw_metric_sink *sink, const char *name, const char *unit, double value,
                 int64_t now_ms)
{
    tw_metric_emit_gauge(sink, name, unit, value, now_ms, NULL, 0);
}

static int key_index(const char *s, size_t len)
{
    for (int k = 0; k < N_KEYS; k++)
        if (strlen(key_names[k]) == len && memcmp(key_names[k], s, len) == 0)
            return k;
    return -1;
}

/* Reads "Key:   <number> kB" lines into value[]/have[]. Lines we do not use
 * are not checked: a new kernel's additions cannot break us. */
static int parse(tw_in_mem *in, uint64_t *value, bool *have, tw_err *err)
{
    int rc = 0;
    tw_proclines lines;
    tw_procline line;
    tw_proclines_init(&lines, in->meminfo.buf, in->meminfo.len);
    while (tw_proclines_next(&lines, &line)) {
        tw_procfields fields;
        tw_procfields_init(&fields, &line);
        char *key, *number, *unit;
        size_t key_len, number_len, unit_len = 0;
        if (!tw_procfields_next(&fields, &key, &key_len) || key_len < 2 ||
            key[key_len - 1] != ':')
            continue;
        int k = key_index(key, key_len - 1);
        if (k < 0)
            continue;
        uint64_t v;
        bool ok = tw_procfields_next(&fields, &number, &number_len) &&
                  tw_proc_parse_u64(number, number_len, &v);
        bool has_unit = ok && tw_procfields_next(&fields, &unit, &unit_len);
        if (has_unit && (unit_len != 2 || memcmp(unit, "kB", 2) != 0))
            ok = false;
        if (ok && has_unit && v > UINT64_MAX / 1024)
            ok = false;
        if (!ok || tw_procfields_next(&fields, &unit, &unit_len)) {
            int e = tw_procline_error(rc == 0 ? err : NULL, &in->meminfo, &line,
                                      "\"Name: <number> kB\"");
            rc = rc == 0 ? e : rc;
            continue;
        }
        value[k] = has_unit ? v * 1024 : v;
        have[k] = true;
    }
    return rc;
}

static int first_error(int rc, tw_err *err, int code, const char *path, const char *what)
{
    if (rc != 0)
        return rc;
    return tw_err_set(err, code, "%s: %s", path, what);
}

static int emit_swap(const tw_in_mem *in, const uint64_t *value, const bool *have,
                     int64_t now_ms, const tw_metric_sink *sink, int rc, tw_err *err)
{
    if (!have[SWAP_TOTAL] || !have[SWAP_FREE])
        return first_error(rc, err, -EINVAL, in->meminfo.path, "no SwapTotal or SwapFree line");
    if (value[SWAP_FREE] > value[SWAP_TOTAL])
        return first_error(rc, err, -EINVAL, in->meminfo.path, "SwapFree larger than SwapTotal");
    uint64_t used = value[SWAP_TOTAL] - value[SWAP_FREE];
    emit(sink, "swap_used", "Bytes", (double)used, now_ms);
    emit(sink, "swap_free", "Bytes", (double)value[SWAP_FREE], now_ms);
    /* gopsutil reports 0 % on a host without swap. */
    double percent = value[SWAP_TOTAL] ? 100.0 * (double)used / (double)value[SWAP_TOTAL] : 0.0;
    emit(sink, "swap_used_percent", "Percent", percent, now_ms);
    return rc;
}

int tw_in_mem_collect(tw_in_mem *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err)
{
    int rc = tw_procfile_read(&in->meminfo, err);
    if (rc != 0)
        return rc;
    uint64_t value[N_KEYS] = {0};
    bool have[N_KEYS] = {false};
    rc = parse(in, value, have, err);
    const char *path = in->meminfo.path;

    bool has_available = have[MEM_AVAILABLE];
    uint64_t available = value[MEM_AVAILABLE];
    if (!has_available && have[MEM_FREE] && have[BUFFERS] && have[CACHED]) {
        available = value[MEM_FREE] + value[BUFFERS] + value[CACHED]; /* before Linux 3.14 */
        has_available = true;
    }
    uint64_t total = value[MEM_TOTAL];
    if (!have[MEM_TOTAL] || total == 0)
        rc = first_error(rc, err, -EINVAL, path, "no MemTotal line, or MemTotal is 0");
    else
        emit(sink, "mem_total", "Bytes", (double)total, now_ms);
    bool sound = have[MEM_TOTAL] && total > 0 && has_available && available <= total;
    if (have[MEM_TOTAL] && total > 0 && has_available && available > total)
        rc = first_error(rc, err, -EINVAL, path, "MemAvailable larger than MemTotal");
    if (sound)
        emit(sink, "mem_used", "Bytes", (double)(total - available), now_ms);
    if (have[MEM_FREE])
        emit(sink, "mem_free", "Bytes", (double)value[MEM_FREE], now_ms);
    else
        rc = first_error(rc, err, -EINVAL, path, "no MemFree line");
    if (has_available)
        emit(sink, "mem_available", "Bytes", (double)available, now_ms);
    if (have[CACHED])
        emit(sink, "mem_cached", "Bytes", (double)(value[CACHED] + value[SRECLAIMABLE]), now_ms);
    if (have[BUFFERS])
        emit(sink, "mem_buffered", "Bytes", (double)value[BUFFERS], now_ms);
    if (have[ACTIVE])
        emit(sink, "mem_active", "Bytes", (double)value[ACTIVE], now_ms);
    if (have[INACTIVE])
        emit(sink, "mem_inactive", "Bytes", (double)value[INACTIVE], now_ms);
    if (have[SHMEM])
        emit(sink, "mem_shared", "Bytes", (double)value[SHMEM], now_ms);
    if (sound) {
        emit(sink, "mem_used_percent", "Percent",
             100.0 * (double)(total - available) / (double)total, now_ms);
        emit(sink, "mem_available_percent", "Percent", 100.0 * (double)available / (double)total,
             now_ms);
    }
    if (!in->options.no_swap)
        rc = emit_swap(in, value, have, now_ms, sink, rc, err);
    return rc;
}
