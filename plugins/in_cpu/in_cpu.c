/* in_cpu.c — the cpu input: usage shares from /proc/stat deltas (see
 * in_cpu.h). */
#include "in_cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "procfile.h"

/* The columns of a cpu line of /proc/stat, in the kernel's order. Kernels
 * before 2.6.33 print fewer (the first four are always there). */
enum {
    USER,
    NICE,
    SYSTEM,
    IDLE,
    IOWAIT,
    IRQ,
    SOFTIRQ,
    STEAL,
    GUEST,
    GUEST_NICE,
    N_STATES
};

/* What we report, in the order of the CloudWatch agent's field list. */
enum {
    R_USER,
    R_SYSTEM,
    R_IDLE,
    R_NICE,
    R_IOWAIT,
    R_IRQ,
    R_SOFTIRQ,
    R_STEAL,
    R_GUEST,
    R_GUEST_NICE,
    R_ACTIVE,
    N_REPORTED
};

static const char *const usage_names[N_REPORTED] = {
    "cpu_usage_user",    "cpu_usage_system", "cpu_usage_idle",  "cpu_usage_nice",
    "cpu_usage_iowait",  "cpu_usage_irq",    "cpu_usage_softirq", "cpu_usage_steal",
    "cpu_usage_guest",   "cpu_usage_guest_nice", "cpu_usage_active",
};

static const char *const time_names[N_REPORTED] = {
    "cpu_time_user",   "cpu_time_system", "cpu_time_idle",  "cpu_time_nice",
    "cpu_time_iowait", "cpu_time_irq",    "cpu_time_softirq", "cpu_time_steal",
    "cpu_time_guest",  "cpu_time_guest_nice", "cpu_time_active",
};

/* A core number as /proc/stat prints it (cpuN); bounded so garbage cannot
 * make us allocate for an absurd machine. */
#define CORE_ID_MAX 1000000u

typedef struct cpu_slot {
    unsigned id;              /* core number; unused for the total */
    uint64_t ticks[N_STATES]; /* the previous collect's counters */
    bool valid;               /* ticks can be subtracted from */
    bool seen;                /* had its line in this collect */
} cpu_slot;

struct tw_in_cpu {
    tw_procfile stat;
    tw_in_cpu_options options;
    double ticks_per_second; /* USER_HZ */
    cpu_slot total;
    cpu_slot *cores; /* in file order; only online cores */
    size_t n_cores;
    size_t cap_cores;
};

int tw_in_cpu_open(const char *proc_root, const char *sys_root, const tw_in_cpu_options *options,
                   tw_in_cpu **out, tw_err *err)
{
    (void)sys_root;
    tw_in_cpu *in = tw_calloc(1, sizeof *in);
    int rc = tw_procfile_open(&in->stat, proc_root, "stat", 8192, err);
    if (rc != 0) {
        free(in);
        return rc;
    }
    if (options)
        in->options = *options;
    long hz = sysconf(_SC_CLK_TCK);
    in->ticks_per_second = hz > 0 ? (double)hz : 100.0;
    *out = in;
    return 0;
}

void tw_in_cpu_close(tw_in_cpu *in)
{
    if (in == NULL)
        return;
    tw_procfile_close(&in->stat);
    free(in->cores);
    free(in);
}

static void emit(const tw_metric_sink *sink, const char *name, const char *unit, double value,
                 int64_t now_ms, const char *cpu)
{
    tw_dimension dim = {"cpu", cpu};
    tw_metric_emit_gauge(sink, name, unit, value, now_ms, &dim, 1);
}

/* Emits one cpu's shares of the interval between prev and cur. */
static void emit_interval(const tw_in_cpu *in, const char *cpu, const uint64_t *prev,
                          const uint64_t *cur, int64_t now_ms, const tw_metric_sink *sink)
{
    uint64_t d[N_STATES];
    for (int i = 0; i < N_STATES; i++)
        d[i] = cur[i] >= prev[i] ? cur[i] - prev[i] : 0;
    /* guest time is also in user, guest_nice in nice: not added again.
     * Summed as doubles: garbage near 2^64 must not wrap to a small total. */
    double total = (double)d[USER] + (double)d[NICE] + (double)d[SYSTEM] + (double)d[IDLE] +
                   (double)d[IOWAIT] + (double)d[IRQ] + (double)d[SOFTIRQ] + (double)d[STEAL];
    if (total == 0)
        return; /* no tick elapsed: no share to report */
    double part[N_REPORTED] = {
        [R_USER] = (double)(d[USER] > d[GUEST] ? d[USER] - d[GUEST] : 0),
        [R_SYSTEM] = (double)d[SYSTEM],
        [R_IDLE] = (double)d[IDLE],
        [R_NICE] = (double)(d[NICE] > d[GUEST_NICE] ? d[NICE] - d[GUEST_NICE] : 0),
        [R_IOWAIT] = (double)d[IOWAIT],
        [R_IRQ] = (double)d[IRQ],
        [R_SOFTIRQ] = (double)d[SOFTIRQ],
        [R_STEAL] = (double)d[STEAL],
        [R_GUEST] = (double)d[GUEST],
        [R_GUEST_NICE] = (double)d[GUEST_NICE],
        [R_ACTIVE] = total - (double)d[IDLE],
    };
    for (int r = 0; r < N_REPORTED; r++)
        emit(sink, usage_names[r], "Percent", 100.0 * part[r] / total, now_ms, cpu);
    if (!in->options.times)
        return;
    /* telegraf's time_user/time_nice are the kernel's columns as they are. */
    part[R_USER] = (double)d[USER];
    part[R_NICE] = (double)d[NICE];
    for (int r = 0; r < N_REPORTED; r++)
        emit(sink, time_names[r], "None", part[r] / in->ticks_per_second, now_ms, cpu);
}

static uint64_t busy_sum(const uint64_t *t)
{
    return t[USER] + t[NICE] + t[SYSTEM] + t[IDLE] + t[IOWAIT] + t[IRQ] + t[SOFTIRQ] + t[STEAL];
}

/* Finds core id's slot, trying position hint first (cores keep their order
 * in /proc/stat); appends a new, not yet valid slot when it is not there. */
static cpu_slot *core_slot(tw_in_cpu *in, unsigned id, size_t hint)
{
    if (hint < in->n_cores && in->cores[hint].id == id)
        return &in->cores[hint];
    for (size_t i = 0; i < in->n_cores; i++)
        if (in->cores[i].id == id)
            return &in->cores[i];
    if (in->n_cores == in->cap_cores) {
        in->cap_cores = in->cap_cores ? in->cap_cores * 2 : 8;
        in->cores = tw_realloc(in->cores, in->cap_cores * sizeof *in->cores);
    }
    cpu_slot *slot = &in->cores[in->n_cores++];
    memset(slot, 0, sizeof *slot);
    slot->id = id;
    return slot;
}

/* Parses "cpu" (the total: *id = -1) or "cpuN". */
static bool parse_cpu_name(const char *s, size_t len, long *id)
{
    if (len < 3 || memcmp(s, "cpu", 3) != 0)
        return false;
    if (len == 3) {
        *id = -1;
        return true;
    }
    uint64_t n;
    if (!tw_proc_parse_u64(s + 3, len - 3, &n) || n >= CORE_ID_MAX)
        return false;
    *id = (long)n;
    return true;
}

/* Handles one cpu line (fields after the name in fields); returns 0 or -EINVAL. */
static int cpu_line(tw_in_cpu *in, const tw_procline *line, tw_procfields *fields,
                    char *name, size_t name_len, long id, size_t n_lines_before, int64_t now_ms,
                    const tw_metric_sink *sink, tw_err *err)
{
    uint64_t ticks[N_STATES] = {0};
    int n = 0;
    bool bad = false;
    char *field;
    size_t len;
    /* Columns after the tenth (a future kernel's) are ignored. */
    while (n < N_STATES && !bad && tw_procfields_next(fields, &field, &len))
        bad = !tw_proc_parse_u64(field, len, &ticks[n++]);
    cpu_slot *slot = id < 0 ? &in->total : core_slot(in, (unsigned)id, n_lines_before);
    if (slot->seen)
        return tw_procline_error(err, &in->stat, line, "each cpu line once");
    slot->seen = true;
    if (bad || n < 4) {
        slot->valid = false; /* prime again once the line is readable */
        return tw_procline_error(err, &in->stat, line, "\"cpuN\" and 4 to 10 tick counts");
    }
    tw_procfields_cut(name, name_len); /* after the errors: they quote the line */
    bool wanted = id < 0 ? !in->options.no_total : !in->options.no_per_cpu;
    /* A total that went backwards is a counter reset, not an interval. */
    if (slot->valid && wanted && busy_sum(ticks) >= busy_sum(slot->ticks))
        emit_interval(in, id < 0 ? "cpu-total" : name, slot->ticks, ticks, now_ms, sink);
    memcpy(slot->ticks, ticks, sizeof ticks);
    slot->valid = true;
    return 0;
}

/* Drops the cores that went offline (their lines disappeared): a core that
 * comes back starts a new series of intervals. */
static void forget_unseen(tw_in_cpu *in)
{
    size_t kept = 0;
    for (size_t i = 0; i < in->n_cores; i++)
        if (in->cores[i].seen)
            in->cores[kept++] = in->cores[i];
    in->n_cores = kept;
    if (!in->total.seen)
        in->total.valid = false;
}

int tw_in_cpu_collect(tw_in_cpu *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err)
{
    int rc = tw_procfile_read(&in->stat, err);
    if (rc != 0)
        return rc;
    in->total.seen = false;
    for (size_t i = 0; i < in->n_cores; i++)
        in->cores[i].seen = false;

    tw_proclines lines;
    tw_procline line;
    tw_proclines_init(&lines, in->stat.buf, in->stat.len);
    bool in_cpu_lines = false;
    size_t n_core_lines = 0;
    while (tw_proclines_next(&lines, &line)) {
        tw_procfields fields;
        tw_procfields_init(&fields, &line);
        char *name;
        size_t len;
        if (!tw_procfields_next(&fields, &name, &len))
            continue;
        long id;
        if (!parse_cpu_name(name, len, &id)) {
            if (len >= 3 && memcmp(name, "cpu", 3) == 0) {
                int e = tw_procline_error(rc == 0 ? err : NULL, &in->stat, &line,
                                          "\"cpu\" or \"cpuN\"");
                rc = rc == 0 ? e : rc;
                continue;
            }
            if (in_cpu_lines)
                break; /* intr, ctxt...: nothing more for us, and long */
            continue;
        }
        in_cpu_lines = true;
        int e = cpu_line(in, &line, &fields, name, len, id, n_core_lines, now_ms, sink,
                         rc == 0 ? err : NULL);
        rc = rc == 0 ? e : rc;
        if (id >= 0)
            n_core_lines++;
    }
    forget_unseen(in);
    if (!in_cpu_lines && rc == 0)
        rc = tw_err_set(err, -EINVAL, "%s: no \"cpu\" line (is this /proc/stat?)",
                        in->stat.path);
    return rc;
}
