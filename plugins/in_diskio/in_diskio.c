/* in_diskio.c — the diskio input: /proc/diskstats deltas per device (see
 * in_diskio.h). */
#include "in_diskio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "procfile.h"

/* The kernel's DISK_NAME_LEN is 32. */
#define DEVICE_NAME_MAX 63
/* Columns after "major minor name": 11 since 2.6, 15 since 4.18, 17 since 5.5. */
#define MIN_COLUMNS 11
#define MAX_COLUMNS 17
#define COL_IN_PROGRESS 8

enum {
    READS,
    WRITES,
    READ_BYTES,
    WRITE_BYTES,
    READ_TIME,
    WRITE_TIME,
    IO_TIME,
    N_COUNTERS
};

/* reads, reads merged, sectors read, ms reading, writes, writes merged,
 * sectors written, ms writing, in flight, ms doing I/O, weighted ms, ... */
static const int stat_column[N_COUNTERS] = {0, 4, 2, 6, 3, 7, 9};

static const char *const names[N_COUNTERS] = {
    "diskio_reads",     "diskio_writes",     "diskio_read_bytes", "diskio_write_bytes",
    "diskio_read_time", "diskio_write_time", "diskio_io_time",
};
static const char *const units[N_COUNTERS] = {
    "Count", "Count", "Bytes", "Bytes", "Milliseconds", "Milliseconds", "Milliseconds",
};

typedef struct device {
    char name[DEVICE_NAME_MAX + 1];
    uint64_t prev[N_COUNTERS];
    bool primed;  /* prev holds the previous collect's counters */
    bool named;   /* matches options.devices: reported even when idle */
    bool watched; /* read at all (named, or not loop and not ram) */
    bool seen;    /* had its line in this collect */
} device;

struct tw_in_diskio {
    tw_procfile diskstats;
    char **devices; /* globs or NULL */
    device *table;  /* in file order */
    size_t n, cap;
};

int tw_in_diskio_open(const char *proc_root, const char *sys_root,
                      const tw_in_diskio_options *options, tw_in_diskio **out, tw_err *err)
{
    (void)sys_root;
    tw_in_diskio *in = tw_calloc(1, sizeof *in);
    int rc = tw_procfile_open(&in->diskstats, proc_root, "diskstats", 4096, err);
    if (rc != 0) {
        free(in);
        return rc;
    }
    if (options)
        in->devices = tw_globlist_copy(options->devices);
    *out = in;
    return 0;
}

void tw_in_diskio_close(tw_in_diskio *in)
{
    if (in == NULL)
        return;
    tw_procfile_close(&in->diskstats);
    tw_globlist_free(in->devices);
    free(in->table);
    free(in);
}

static device *find_device(tw_in_diskio *in, const char *name, size_t hint)
{
    if (hint < in->n && strcmp(in->table[hint].name, name) == 0)
        return &in->table[hint];
    for (size_t i = 0; i < in->n; i++)
        if (strcmp(in->table[i].name, name) == 0)
            return &in->table[i];
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 16;
        in->table = tw_realloc(in->table, in->cap * sizeof *in->table);
    }
    device *dev = &in->table[in->n++];
    memset(dev, 0, sizeof *dev);
    memcpy(dev->name, name, strlen(name) + 1);
    if (in->devices) {
        dev->named = tw_globlist_match(in->devices, name, 0);
        dev->watched = dev->named;
    } else {
        dev->watched = strncmp(name, "loop", 4) != 0 && strncmp(name, "ram", 3) != 0;
    }
    return dev;
}

static void emit(const tw_metric_sink *sink, const char *name, const char *unit, double value,
                 int64_t now_ms, const char *device_name)
{
    tw_dimension dim = {"name", device_name};
    tw_metric_emit_gauge(sink, name, unit, value, now_ms, &dim, 1);
}

static void report(const device *dev, const uint64_t *column, const uint64_t *cur,
                   int64_t now_ms, const tw_metric_sink *sink)
{
    if (column[COL_IN_PROGRESS] <= INT32_MAX)
        emit(sink, "diskio_iops_in_progress", "Count", (double)column[COL_IN_PROGRESS], now_ms,
             dev->name);
    if (!dev->primed)
        return;
    for (int c = 0; c < N_COUNTERS; c++) {
        if (cur[c] < dev->prev[c])
            continue; /* wrapped or reset: no honest value for this interval */
        uint64_t delta = cur[c] - dev->prev[c];
        double value = c == READ_BYTES || c == WRITE_BYTES ? (double)delta * 512.0 : (double)delta;
        emit(sink, names[c], units[c], value, now_ms, dev->name);
    }
}

static int stat_line(tw_in_diskio *in, const tw_procline *line, size_t hint, int64_t now_ms,
                     const tw_metric_sink *sink, tw_err *err)
{
    static const char expected[] = "\"MAJOR MINOR NAME\" and 11 to 17 counters";
    tw_procfields fields;
    tw_procfields_init(&fields, line);
    char *field, *name;
    size_t len, name_len;
    uint64_t number;
    for (int i = 0; i < 2; i++)
        if (!tw_procfields_next(&fields, &field, &len) || !tw_proc_parse_u64(field, len, &number))
            return tw_procline_error(err, &in->diskstats, line, expected);
    if (!tw_procfields_next(&fields, &name, &name_len) ||
        !tw_proc_name_ok(name, name_len, DEVICE_NAME_MAX))
        return tw_procline_error(err, &in->diskstats, line, expected);
    char saved = name[name_len];
    device *dev = find_device(in, tw_procfields_cut(name, name_len), hint); /* copies it */
    name[name_len] = saved; /* errors quote the line */
    if (dev->seen)
        return tw_procline_error(err, &in->diskstats, line, "each device once");
    dev->seen = true;
    if (!dev->watched)
        return 0;
    uint64_t column[MAX_COLUMNS] = {0};
    int n = 0;
    bool bad = false;
    while (n < MAX_COLUMNS && !bad && tw_procfields_next(&fields, &field, &len))
        bad = !tw_proc_parse_u64(field, len, &column[n++]);
    if (bad || n < MIN_COLUMNS) {
        dev->primed = false;
        return tw_procline_error(err, &in->diskstats, line, expected);
    }
    uint64_t cur[N_COUNTERS];
    for (int c = 0; c < N_COUNTERS; c++)
        cur[c] = column[stat_column[c]];
    bool active = false;
    for (int i = 0; i < n; i++)
        active = active || column[i] != 0;
    if (dev->named || active)
        report(dev, column, cur, now_ms, sink);
    memcpy(dev->prev, cur, sizeof cur);
    dev->primed = true;
    return 0;
}

/* Devices that disappeared (a detached disk, a removed dm target) are
 * forgotten: one re-created under the same name starts afresh. */
static void forget_unseen(tw_in_diskio *in)
{
    size_t kept = 0;
    for (size_t i = 0; i < in->n; i++)
        if (in->table[i].seen)
            in->table[kept++] = in->table[i];
    in->n = kept;
}

int tw_in_diskio_collect(tw_in_diskio *in, int64_t now_ms, const tw_metric_sink *sink,
                         tw_err *err)
{
    int rc = tw_procfile_read(&in->diskstats, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < in->n; i++)
        in->table[i].seen = false;
    tw_proclines lines;
    tw_procline line;
    tw_proclines_init(&lines, in->diskstats.buf, in->diskstats.len);
    size_t n_lines = 0;
    while (tw_proclines_next(&lines, &line)) {
        tw_procfields blank_check;
        char *field;
        size_t len;
        tw_procfields_init(&blank_check, &line);
        if (!tw_procfields_next(&blank_check, &field, &len))
            continue;
        int e = stat_line(in, &line, n_lines++, now_ms, sink, rc == 0 ? err : NULL);
        rc = rc == 0 ? e : rc;
    }
    forget_unseen(in);
    return rc;
}
