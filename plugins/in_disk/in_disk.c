/* in_disk.c — the disk input: the mount table, its filters, statvfs
 * through the probe, and the disk_* samples (see in_disk.h). */
#include "in_disk.h"

#include <errno.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include "log.h"
#include "mem.h"
#include "procfile.h"
#include "statvfs_probe.h"

/* telegraf's ignore_fs default, then what the kernel mounts for itself
 * (no blocks to report, and autofs: a statfs on it would trigger the
 * automount of every share it guards on each collect). */
const char *const tw_in_disk_default_ignore_fs[] = {
    "tmpfs",     "devtmpfs",  "devfs",      "iso9660",     "overlay",    "aufs",
    "squashfs",  "proc",      "sysfs",      "cgroup",      "cgroup2",    "devpts",
    "mqueue",    "debugfs",   "tracefs",    "securityfs",  "pstore",     "bpf",
    "configfs",  "fusectl",   "hugetlbfs",  "binfmt_misc", "rpc_pipefs", "nsfs",
    "autofs",    "efivarfs",  "selinuxfs",  "ramfs",       "nfsd",       NULL,
};

typedef struct mount {
    const char *path;   /* unescaped, into parsed */
    const char *device; /* without "/dev/" */
    const char *fstype;
} mount;

struct tw_in_disk {
    tw_procfile mounts;
    bool is_procfs; /* the kernel signals changes with POLLPRI */
    bool loaded;
    bool reread;    /* a change was signalled but the read failed */
    char **ignore_fs;
    char **mount_points;
    int timeout_ms;
    tw_statvfs_probe *probe;
    char *raw; /* the mount table as last parsed, to spot changes */
    size_t raw_len;
    char *parsed; /* the same bytes, cut and unescaped in place */
    size_t text_cap;
    mount *table; /* the mounts we report, in file order */
    size_t n, cap;
    const char **paths; /* per collect, cap entries each */
    struct statvfs *results;
    int *codes;
    char **failing; /* paths warned about, until they answer again */
    size_t n_failing, cap_failing;
};

int tw_in_disk_open(const char *proc_root, const char *sys_root, const tw_in_disk_options *options,
                    tw_in_disk **out, tw_err *err)
{
    (void)sys_root;
    tw_in_disk_options defaults = {0};
    if (options == NULL)
        options = &defaults;
    tw_in_disk *in = tw_calloc(1, sizeof *in);
    int rc = tw_procfile_open(&in->mounts, proc_root, "self/mounts", 4096, err);
    if (rc != 0) {
        free(in);
        return rc;
    }
    in->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : 1000;
    rc = tw_statvfs_probe_open(options->statvfs_fn, options->statvfs_ctx, in->timeout_ms,
                               &in->probe, err);
    if (rc != 0) {
        tw_procfile_close(&in->mounts);
        free(in);
        return rc;
    }
    struct statfs fs;
    in->is_procfs = fstatfs(in->mounts.fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
    in->ignore_fs = tw_globlist_copy(options->ignore_fs ? options->ignore_fs
                                                        : tw_in_disk_default_ignore_fs);
    in->mount_points = tw_globlist_copy(options->mount_points);
    *out = in;
    return 0;
}

void tw_in_disk_close(tw_in_disk *in)
{
    if (in == NULL)
        return;
    tw_statvfs_probe_close(in->probe);
    tw_procfile_close(&in->mounts);
    tw_globlist_free(in->ignore_fs);
    tw_globlist_free(in->mount_points);
    free(in->raw);
    free(in->parsed);
    free(in->table);
    free(in->paths);
    free(in->results);
    free(in->codes);
    for (size_t i = 0; i < in->n_failing; i++)
        free(in->failing[i]);
    free(in->failing);
    free(in);
}

/* The kernel writes ' ', '\t', '\n' and '\\' in mount paths as \040, \011,
 * \012 and \134 (fs/proc_namespace.c). */
static void unescape(char *s)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            char c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            if (c != '\0') {
                *out++ = c;
                p += 3;
                continue;
            }
        }
        *out++ = *p;
    }
    *out = '\0';
}

/* CloudWatch takes printable ASCII in dimension values (spaces too). */
static bool dimension_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < ' ' || (unsigned char)s[n] >= 0x7f)
            return false;
    return n > 0 && n <= 1024;
}

/* A later line for the same path is a mount on top: statvfs sees only it,
 * so the one below is dropped even when the one on top is filtered out. */
static void forget_path(tw_in_disk *in, const char *path)
{
    for (size_t i = 0; i < in->n; i++) {
        if (strcmp(in->table[i].path, path) == 0) {
            memmove(&in->table[i], &in->table[i + 1], (in->n - i - 1) * sizeof *in->table);
            in->n--;
            return;
        }
    }
}

static void add_mount(tw_in_disk *in, const char *path, const char *device, const char *fstype)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 16;
        in->table = tw_realloc(in->table, in->cap * sizeof *in->table);
        in->paths = tw_realloc(in->paths, in->cap * sizeof *in->paths);
        in->results = tw_realloc(in->results, in->cap * sizeof *in->results);
        in->codes = tw_realloc(in->codes, in->cap * sizeof *in->codes);
    }
    if (strncmp(device, "/dev/", 5) == 0 && device[5] != '\0')
        device += 5;
    in->table[in->n++] = (mount){path, device, fstype};
}

/* Parses "device path fstype options dump pass" lines of in->parsed. */
static int parse_table(tw_in_disk *in, tw_err *err)
{
    int rc = 0;
    in->n = 0;
    tw_proclines lines;
    tw_procline line;
    tw_proclines_init(&lines, in->parsed, in->raw_len);
    while (tw_proclines_next(&lines, &line)) {
        tw_procfields fields;
        tw_procfields_init(&fields, &line);
        char *field[3];
        size_t len[3];
        int n = 0;
        while (n < 3 && tw_procfields_next(&fields, &field[n], &len[n]))
            n++;
        if (n == 0)
            continue;
        if (n < 3 || field[1][0] != '/' || memchr(line.text, '\0', line.len)) {
            int e = tw_procline_error(rc == 0 ? err : NULL, &in->mounts, &line,
                                      "\"DEVICE /PATH FSTYPE OPTIONS 0 0\"");
            rc = rc == 0 ? e : rc;
            continue;
        }
        for (int i = 0; i < 3; i++)
            tw_procfields_cut(field[i], len[i]);
        unescape(field[0]);
        unescape(field[1]);
        forget_path(in, field[1]);
        if (tw_globlist_match(in->ignore_fs, field[2], 0))
            continue;
        if (in->mount_points && !tw_globlist_match(in->mount_points, field[1], 0))
            continue;
        if (!dimension_ok(field[0]) || !dimension_ok(field[1]) ||
            !tw_proc_name_ok(field[2], len[2], 255)) {
            tw_warn("disk: %s line %u: a mount whose device, path or type has control or "
                    "non-ASCII characters cannot be a CloudWatch dimension; not reported",
                    in->mounts.path, line.number);
            continue;
        }
        add_mount(in, field[1], field[0], field[2]);
    }
    return rc;
}

/* A failing mount that was unmounted is forgotten (so it is not a leak,
 * and a new mount there is judged afresh). */
static void forget_unmounted_failures(tw_in_disk *in)
{
    size_t kept = 0;
    for (size_t f = 0; f < in->n_failing; f++) {
        bool mounted = false;
        for (size_t i = 0; i < in->n && !mounted; i++)
            mounted = strcmp(in->table[i].path, in->failing[f]) == 0;
        if (mounted)
            in->failing[kept++] = in->failing[f];
        else
            free(in->failing[f]);
    }
    in->n_failing = kept;
}

static bool table_changed(tw_in_disk *in)
{
    if (!in->loaded || !in->is_procfs || in->reread)
        return true;
    struct pollfd pfd = {.fd = in->mounts.fd, .events = POLLPRI};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLPRI | POLLERR)) != 0;
}

static int reload(tw_in_disk *in, tw_err *err)
{
    if (!table_changed(in))
        return 0;
    int rc = tw_procfile_read(&in->mounts, err);
    in->reread = rc != 0; /* poll reports a change once: remember it */
    if (rc != 0)
        return rc;
    size_t len = in->mounts.len;
    if (in->loaded && len == in->raw_len && memcmp(in->raw, in->mounts.buf, len) == 0)
        return 0;
    if (len + 1 > in->text_cap) {
        in->text_cap = len + 1;
        in->raw = tw_realloc(in->raw, in->text_cap);
        in->parsed = tw_realloc(in->parsed, in->text_cap);
    }
    memcpy(in->raw, in->mounts.buf, len + 1);
    memcpy(in->parsed, in->mounts.buf, len + 1);
    in->raw_len = len;
    in->loaded = true;
    rc = parse_table(in, err);
    forget_unmounted_failures(in);
    return rc;
}

static ssize_t failing_find(const tw_in_disk *in, const char *path)
{
    for (size_t i = 0; i < in->n_failing; i++)
        if (strcmp(in->failing[i], path) == 0)
            return (ssize_t)i;
    return -1;
}

/* Logs a mount's failure the first time only. */
static void mount_failed(tw_in_disk *in, const mount *m, int code)
{
    if (code == -EBUSY || failing_find(in, m->path) >= 0)
        return;
    if (code == -ETIMEDOUT)
        tw_warn("disk: statvfs on %s (%s, %s) did not answer within %d ms (an unreachable NFS "
                "server?); skipping it until it answers",
                m->path, m->device, m->fstype, in->timeout_ms);
    else
        tw_warn("disk: cannot statvfs %s (%s, %s): %s; skipping it until it works", m->path,
                m->device, m->fstype, strerror(-code));
    if (in->n_failing == in->cap_failing) {
        in->cap_failing = in->cap_failing ? in->cap_failing * 2 : 4;
        in->failing = tw_realloc(in->failing, in->cap_failing * sizeof *in->failing);
    }
    in->failing[in->n_failing++] = tw_strdup(m->path);
}

static void mount_answered(tw_in_disk *in, const mount *m)
{
    ssize_t i = failing_find(in, m->path);
    if (i < 0)
        return;
    tw_info("disk: %s (%s, %s) answers statvfs again", m->path, m->device, m->fstype);
    free(in->failing[i]);
    in->failing[i] = in->failing[--in->n_failing];
}

static void emit(const tw_metric_sink *sink, const mount *m, const char *name, const char *unit,
                 double value, int64_t now_ms)
{
    tw_dimension dims[3] = {{"path", m->path}, {"device", m->device}, {"fstype", m->fstype}};
    tw_metric_emit_gauge(sink, name, unit, value, now_ms, dims, 3);
}

static void emit_mount(const mount *m, const struct statvfs *sv, int64_t now_ms,
                       const tw_metric_sink *sink)
{
    double frsize = (double)(sv->f_frsize ? sv->f_frsize : sv->f_bsize);
    double total = (double)sv->f_blocks * frsize;
    double used = sv->f_bfree <= sv->f_blocks ? (double)(sv->f_blocks - sv->f_bfree) * frsize : 0;
    double free_ = (double)sv->f_bavail * frsize;
    double percent = used + free_ > 0 ? used / (used + free_) * 100.0 : 0.0;
    double inodes_used = sv->f_ffree <= sv->f_files ? (double)(sv->f_files - sv->f_ffree) : 0;
    emit(sink, m, "disk_total", "Bytes", total, now_ms);
    emit(sink, m, "disk_free", "Bytes", free_, now_ms);
    emit(sink, m, "disk_used", "Bytes", used, now_ms);
    emit(sink, m, "disk_used_percent", "Percent", percent, now_ms);
    emit(sink, m, "disk_inodes_total", "Count", (double)sv->f_files, now_ms);
    emit(sink, m, "disk_inodes_free", "Count", (double)sv->f_ffree, now_ms);
    emit(sink, m, "disk_inodes_used", "Count", inodes_used, now_ms);
}

int tw_in_disk_collect(tw_in_disk *in, int64_t now_ms, const tw_metric_sink *sink, tw_err *err)
{
    int rc = reload(in, err);
    if (!in->loaded)
        return rc;
    for (size_t i = 0; i < in->n; i++)
        in->paths[i] = in->table[i].path;
    int probe_rc = tw_statvfs_probe_run(in->probe, in->paths, in->n, in->results, in->codes,
                                        rc == 0 ? err : NULL);
    rc = rc == 0 ? probe_rc : rc;
    for (size_t i = 0; i < in->n; i++) {
        const mount *m = &in->table[i];
        if (in->codes[i] == -EAGAIN)
            continue; /* no helper thread: rc says why */
        if (in->codes[i] != 0) {
            mount_failed(in, m, in->codes[i]);
            continue;
        }
        mount_answered(in, m);
        if (in->results[i].f_blocks == 0)
            continue; /* a pseudo filesystem the ignore list does not know */
        emit_mount(m, &in->results[i], now_ms, sink);
    }
    return rc;
}
