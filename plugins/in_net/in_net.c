/* in_net.c — the net input: /proc/net/dev deltas and rates per interface
 * (see in_net.h). */
#include "in_net.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "procfile.h"

/* The kernel's IFNAMSIZ is 16; a little room for other layouts. */
#define IFNAME_MAX 31
/* include/uapi/linux/if.h */
#define TW_IFF_LOOPBACK 0x8
/* A /proc/net/dev line: 8 receive then 8 transmit columns. */
#define DEV_COLUMNS 16

enum {
    BYTES_SENT,
    BYTES_RECV,
    PACKETS_SENT,
    PACKETS_RECV,
    ERR_IN,
    ERR_OUT,
    DROP_IN,
    DROP_OUT,
    N_COUNTERS
};

/* receive: bytes packets errs drop fifo frame compressed multicast;
 * transmit: bytes packets errs drop fifo colls carrier compressed. */
static const int dev_column[N_COUNTERS] = {8, 0, 9, 1, 2, 10, 3, 11};

static const char *const delta_names[N_COUNTERS] = {
    "net_bytes_sent", "net_bytes_recv", "net_packets_sent", "net_packets_recv",
    "net_err_in",     "net_err_out",    "net_drop_in",      "net_drop_out",
};
static const char *const rate_names[N_COUNTERS] = {
    "net_bytes_sent_per_sec", "net_bytes_recv_per_sec", "net_packets_sent_per_sec",
    "net_packets_recv_per_sec", "net_err_in_per_sec", "net_err_out_per_sec",
    "net_drop_in_per_sec", "net_drop_out_per_sec",
};

typedef struct iface {
    char name[IFNAME_MAX + 1];
    uint64_t prev[N_COUNTERS];
    bool primed; /* prev holds the previous collect's counters */
    bool wanted; /* passes the options (decided on appearance) */
    bool seen;   /* had its line in this collect */
} iface;

struct tw_in_net {
    tw_procfile dev;
    char *sys_root; /* NULL: no sysfs */
    bool include_loopback;
    bool exclude_virtual;
    char **interfaces; /* globs or NULL */
    iface *ifaces;     /* in file order */
    size_t n_ifaces, cap_ifaces;
    int64_t last_ms;
    bool has_last;
};

int tw_in_net_open(const char *proc_root, const char *sys_root, const tw_in_net_options *options,
                   tw_in_net **out, tw_err *err)
{
    tw_in_net *in = tw_calloc(1, sizeof *in);
    int rc = tw_procfile_open(&in->dev, proc_root, "net/dev", 4096, err);
    if (rc != 0) {
        free(in);
        return rc;
    }
    in->sys_root = sys_root ? tw_strdup(sys_root) : NULL;
    if (options) {
        in->include_loopback = options->include_loopback;
        in->exclude_virtual = options->exclude_virtual;
        in->interfaces = tw_globlist_copy(options->interfaces);
    }
    *out = in;
    return 0;
}

void tw_in_net_close(tw_in_net *in)
{
    if (in == NULL)
        return;
    tw_procfile_close(&in->dev);
    free(in->sys_root);
    tw_globlist_free(in->interfaces);
    free(in->ifaces);
    free(in);
}

static bool sys_path(const tw_in_net *in, char *out, size_t size, const char *name,
                     const char *leaf)
{
    int n = snprintf(out, size, "%s/class/net/%s%s", in->sys_root, name, leaf);
    return n > 0 && (size_t)n < size;
}

static bool is_loopback(const tw_in_net *in, const char *name)
{
    char path[PATH_MAX];
    if (in->sys_root && sys_path(in, path, sizeof path, name, "/flags")) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char text[32];
            ssize_t n = read(fd, text, sizeof text - 1);
            close(fd);
            if (n > 0) {
                text[n] = '\0';
                char *end;
                unsigned long flags = strtoul(text, &end, 16);
                if (end != text)
                    return (flags & TW_IFF_LOOPBACK) != 0;
            }
        }
    }
    return strcmp(name, "lo") == 0;
}

/* sysfs puts software devices under /sys/devices/virtual/net; a physical
 * one has a `device` link to its bus device. */
static bool is_virtual(const tw_in_net *in, const char *name)
{
    char path[PATH_MAX], target[PATH_MAX];
    struct stat st;
    if (!in->sys_root || !sys_path(in, path, sizeof path, name, ""))
        return false;
    if (lstat(path, &st) != 0)
        return false; /* not in this sysfs: do not hide it */
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        if (strstr(target, "/devices/virtual/") || strncmp(target, "devices/virtual/", 16) == 0)
            return true;
    }
    if (!sys_path(in, path, sizeof path, name, "/device"))
        return false;
    return lstat(path, &st) != 0;
}

static bool wanted(const tw_in_net *in, const char *name)
{
    if (in->interfaces)
        return tw_globlist_match(in->interfaces, name, 0);
    if (is_loopback(in, name))
        return in->include_loopback;
    return !(in->exclude_virtual && is_virtual(in, name));
}

static iface *find_iface(tw_in_net *in, const char *name, size_t hint)
{
    if (hint < in->n_ifaces && strcmp(in->ifaces[hint].name, name) == 0)
        return &in->ifaces[hint];
    for (size_t i = 0; i < in->n_ifaces; i++)
        if (strcmp(in->ifaces[i].name, name) == 0)
            return &in->ifaces[i];
    if (in->n_ifaces == in->cap_ifaces) {
        in->cap_ifaces = in->cap_ifaces ? in->cap_ifaces * 2 : 8;
        in->ifaces = tw_realloc(in->ifaces, in->cap_ifaces * sizeof *in->ifaces);
    }
    iface *ifc = &in->ifaces[in->n_ifaces++];
    memset(ifc, 0, sizeof *ifc);
    memcpy(ifc->name, name, strlen(name) + 1);
    ifc->wanted = wanted(in, name);
    return ifc;
}

static void emit(const tw_metric_sink *sink, const char *name, const char *unit, double value,
                 int64_t now_ms, const char *interface)
{
    tw_dimension dim = {"interface", interface};
    tw_metric_emit_gauge(sink, name, unit, value, now_ms, &dim, 1);
}

static void emit_interval(const iface *ifc, const uint64_t *cur, int64_t now_ms, int64_t dt_ms,
                          const tw_metric_sink *sink)
{
    for (int c = 0; c < N_COUNTERS; c++) {
        if (cur[c] < ifc->prev[c])
            continue; /* wrapped or reset: no honest value for this interval */
        double delta = (double)(cur[c] - ifc->prev[c]);
        bool bytes = c == BYTES_SENT || c == BYTES_RECV;
        emit(sink, delta_names[c], bytes ? "Bytes" : "Count", delta, now_ms, ifc->name);
        if (dt_ms > 0)
            emit(sink, rate_names[c], bytes ? "Bytes/Second" : "Count/Second",
                 delta * 1000.0 / (double)dt_ms, now_ms, ifc->name);
    }
}

/* Parses " eth0: 1 2 3 ..." (the name may touch the colon and the first
 * number: old kernels print "%6s:%8lu"). */
static int dev_line(tw_in_net *in, const tw_procline *line, size_t hint, int64_t now_ms,
                    int64_t dt_ms, const tw_metric_sink *sink, tw_err *err)
{
    char *colon = memchr(line->text, ':', line->len);
    if (colon == NULL)
        return tw_procline_error(err, &in->dev, line, "\"NAME: <16 counters>\"");
    char *name = line->text;
    while (name < colon && (*name == ' ' || *name == '\t'))
        name++;
    size_t name_len = (size_t)(colon - name);
    if (!tw_proc_name_ok(name, name_len, IFNAME_MAX) || memchr(name, '/', name_len))
        return tw_procline_error(err, &in->dev, line, "an interface name before ':'");
    uint64_t column[DEV_COLUMNS];
    tw_procfields fields = {colon + 1, line->text + line->len};
    int n = 0;
    bool bad = false;
    char *field;
    size_t len;
    while (n < DEV_COLUMNS && !bad && tw_procfields_next(&fields, &field, &len))
        bad = !tw_proc_parse_u64(field, len, &column[n++]);
    *colon = '\0';
    iface *ifc = find_iface(in, name, hint); /* copies the name */
    *colon = ':';                            /* errors quote the line */
    if (ifc->seen)
        return tw_procline_error(err, &in->dev, line, "each interface once");
    ifc->seen = true;
    if (bad || n < DEV_COLUMNS) {
        ifc->primed = false;
        return tw_procline_error(err, &in->dev, line, "16 counters after the interface name");
    }
    uint64_t cur[N_COUNTERS];
    for (int c = 0; c < N_COUNTERS; c++)
        cur[c] = column[dev_column[c]];
    if (ifc->wanted && ifc->primed)
        emit_interval(ifc, cur, now_ms, dt_ms, sink);
    memcpy(ifc->prev, cur, sizeof cur);
    ifc->primed = true;
    return 0;
}

/* Interfaces that disappeared are forgotten: one re-created under the same
 * name is classified and primed afresh. */
static void forget_unseen(tw_in_net *in)
{
    size_t kept = 0;
    for (size_t i = 0; i < in->n_ifaces; i++)
        if (in->ifaces[i].seen)
            in->ifaces[kept++] = in->ifaces[i];
    in->n_ifaces = kept;
}

int tw_in_net_collect(tw_in_net *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err)
{
    int rc = tw_procfile_read(&in->dev, err);
    if (rc != 0)
        return rc;
    int64_t dt_ms = in->has_last ? now_ms - in->last_ms : 0;
    for (size_t i = 0; i < in->n_ifaces; i++)
        in->ifaces[i].seen = false;
    tw_proclines lines;
    tw_procline line;
    tw_proclines_init(&lines, in->dev.buf, in->dev.len);
    size_t n_dev_lines = 0;
    while (tw_proclines_next(&lines, &line)) {
        /* The two header lines: "Inter-|   Receive ..." and " face |bytes ...". */
        if (memchr(line.text, '|', line.len))
            continue;
        tw_procfields blank_check;
        char *field;
        size_t len;
        tw_procfields_init(&blank_check, &line);
        if (!tw_procfields_next(&blank_check, &field, &len))
            continue;
        int e = dev_line(in, &line, n_dev_lines++, now_ms, dt_ms, sink, rc == 0 ? err : NULL);
        rc = rc == 0 ? e : rc;
    }
    forget_unseen(in);
    in->last_ms = now_ms;
    in->has_last = true;
    return rc;
}
