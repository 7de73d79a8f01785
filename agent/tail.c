/* tail.c — discovery, watching and reading of one section's files (see
 * tail.h).
 *
 * Everything happens in passes: a pass rescans the patterns when due, then
 * gives every file a read budget, then lets go of rotated files that are
 * drained and quiet. Passes run on the poll timer, after inotify events
 * (coalesced through a zero timer), and again at once while a file still
 * has bytes beyond its budget. */
#include "tail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "tail_glob.h"
#include "tail_lines.h"
#include "timefmt.h"

#define READ_CHUNK (256u << 10)
#define BUDGET_PER_PASS (4u << 20)
#define FINGERPRINT_CHECK_MS 1000
#define EVENT_PASS_GAP_MS 50

struct tw_tail_file {
    tw_tail *tail;
    tw_tail_file *next;
    char *path;
    int fd;
    tw_tracked_file tracked;
    uint64_t read_offset; /* next byte to read */
    tw_line_splitter lines;
    bool rotated;         /* its path names another file now, or none */
    bool seen;            /* matched by the current scan */
    int64_t last_growth_ms;
    int64_t last_check_ms;
    void *user;
};

typedef struct watch {
    char *dir;
    int wd;
    bool seen;
    bool modify_armed; /* IN_MODIFY is in the watch's mask */
} watch;

struct tw_tail {
    uv_loop_t *loop;
    char *section, *patterns;
    bool read_from_tail;
    size_t max_line;
    int64_t poll_ms, scan_ms, rotate_wait_ms, partial_flush_ms;
    tw_checkpoint *checkpoint;
    tw_tail_callbacks cb;
    void *ctx;
    tw_tail_file *files;
    watch **watches;
    size_t n_watches;
    bool inotify_failed;
    int inotify_fd;
    uv_poll_t inotify_poll;
    uv_timer_t poll_timer, pass_timer;
    bool pass_scheduled, scan_wanted, first_scan, paused, stopping;
    int64_t last_scan_ms, last_pass_ms;
    char last_scan_error[TW_ERR_MAX];
    char *buf;
    char **refused; /* paths we may not read, reported once */
    size_t n_refused;
    tw_tail_stats stats;
    unsigned open_handles;
    void (*closed)(void *ctx);
    void *closed_ctx;
};

static void schedule_pass(tw_tail *t, bool at_once);

/* ---- files ------------------------------------------------------------------ */

static void line_cb(void *ctx, const tw_log_line *line)
{
    tw_tail_file *f = ctx;
    f->tail->stats.lines++;
    f->tail->cb.line(f->tail->ctx, f, line);
}

static void close_file(tw_tail *t, tw_tail_file *f, bool drained)
{
    if (drained)
        tw_lines_flush(&f->lines, tw_time_now_ms(), line_cb, f);
    t->cb.closing(t->ctx, f, drained);
    t->stats.split_lines += f->lines.stats.split_lines;
    t->stats.repaired_lines += f->lines.stats.repaired_lines;
    for (tw_tail_file **p = &t->files; *p; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            break;
        }
    }
    close(f->fd);
    tw_lines_free(&f->lines);
    free(f->path);
    free(f);
    t->stats.files--;
}

static tw_tail_file *find_open(tw_tail *t, uint64_t dev, uint64_t ino)
{
    for (tw_tail_file *f = t->files; f; f = f->next)
        if (f->tracked.id.dev == dev && f->tracked.id.ino == ino)
            return f;
    return NULL;
}

/* Starts following the file at path (already open as fd). start_hint is
 * where a file the checkpoint does not know starts. */
#define START_KNOWN UINT64_MAX /* follow: where the checkpoint says, else the rule */

static tw_tail_file *follow(tw_tail *t, const char *path, int fd, bool rotated,
                            bool new_file_from_end, uint64_t start_at)
{
    tw_file_identity id;
    tw_err err;
    if (tw_file_identity_read(fd, path, &id, &err) != 0) {
        tw_warn("[logs %s] %s", t->section, err.msg);
        close(fd);
        return NULL;
    }
    struct stat st;
    fstat(fd, &st);
    uint64_t size = (uint64_t)st.st_size, start;
    tw_tracked_file known;
    uint64_t resume;
    if (start_at != START_KNOWN) {
        start = start_at;
    } else if (tw_checkpoint_lookup(t->checkpoint, id.dev, id.ino, &known, &resume)) {
        if (tw_file_identity_matches(fd, &known.id) && resume <= size) {
            start = resume;
        } else {
            /* Same inode, other contents: the file was replaced or
             * truncated while we were not looking. */
            tw_info("[logs %s] %s is not the file last read under inode %" PRIu64
                    " (replaced or truncated); reading it from the start",
                    t->section, path, id.ino);
            tw_checkpoint_forget(t->checkpoint, known.key);
            start = 0;
        }
    } else {
        start = new_file_from_end ? size : 0;
    }
    tw_tail_file *f = tw_calloc(1, sizeof *f);
    f->tail = t;
    f->path = tw_strdup(path);
    f->fd = fd;
    f->tracked.id = id;
    f->tracked.key = tw_checkpoint_track(t->checkpoint, &id, path, start);
    f->read_offset = start;
    f->rotated = rotated;
    f->seen = true;
    f->last_growth_ms = tw_time_now_ms();
    tw_lines_init(&f->lines, t->max_line, start);
    f->next = t->files;
    t->files = f;
    t->stats.files++;
    tw_debug("[logs %s] following %s from offset %" PRIu64 " of %" PRIu64, t->section, path,
             start, size);
    f->user = t->cb.opened(t->ctx, f);
    return f;
}

/* Opens a file to follow; a file we may not read is reported once (until
 * it becomes readable), with what usually fixes it. */
static int open_path(tw_tail *t, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int e = errno;
    size_t i = 0;
    while (i < t->n_refused && strcmp(t->refused[i], path) != 0)
        i++;
    if (fd >= 0) {
        if (i < t->n_refused) {
            free(t->refused[i]);
            t->refused[i] = t->refused[--t->n_refused];
        }
        return fd;
    }
    if (i == t->n_refused && e != ENOENT) {
        tw_error("[logs %s] cannot read %s: %s%s", t->section, path, strerror(e),
                 e == EACCES ? " (the agent's user needs read access: on Debian, add it to "
                               "group adm, which owns /var/log files)"
                             : "");
        t->refused = tw_realloc(t->refused, (t->n_refused + 1) * sizeof *t->refused);
        t->refused[t->n_refused++] = tw_strdup(path);
    }
    return -1;
}

/* Reads what the file has beyond read_offset, up to the pass budget.
 * Returns true when the budget ran out with bytes left. */
static bool read_file(tw_tail *t, tw_tail_file *f, int64_t now)
{
    size_t budget = BUDGET_PER_PASS;
    while (budget > 0) {
        size_t want = budget < READ_CHUNK ? budget : READ_CHUNK;
        ssize_t n = pread(f->fd, t->buf, want, (off_t)f->read_offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            tw_warn("[logs %s] reading %s at offset %" PRIu64 ": %s", t->section, f->path,
                    f->read_offset, strerror(errno));
            return false;
        }
        if (n == 0)
            return false;
        tw_lines_feed(&f->lines, t->buf, (size_t)n, now, line_cb, f);
        f->read_offset += (uint64_t)n;
        t->stats.bytes_read += (uint64_t)n;
        f->last_growth_ms = now;
        budget -= (size_t)n;
    }
    return true;
}

/* A young file's fingerprint grows with it (up to TW_FINGERPRINT_MAX), so
 * that identity stays strong once there are enough bytes. */
static void grow_fingerprint(tw_tail *t, tw_tail_file *f)
{
    if (f->tracked.id.fp_len >= TW_FINGERPRINT_MAX || f->read_offset <= f->tracked.id.fp_len)
        return;
    tw_file_identity id;
    tw_err err;
    if (tw_file_identity_read(f->fd, f->path, &id, &err) == 0 && id.fp_len > f->tracked.id.fp_len) {
        f->tracked.id = id;
        tw_checkpoint_track(t->checkpoint, &id, f->rotated ? NULL : f->path, 0);
    }
}

/* Truncation (copytruncate) or a rewrite in place: read again from 0. */
/* copytruncate: logrotate copied the file (to a name in the same
 * directory, usually NAME.1) before truncating it. Lines written before the
 * truncation that we had not read yet are only in that copy: find it (same
 * first bytes, at least as long as what we consumed) and read its rest.
 * Lines written between logrotate's copy and its truncate are in neither;
 * no reader can have them. */
static void rescue_from_copy(tw_tail *t, tw_tail_file *f)
{
    uint64_t from = tw_lines_consumed(&f->lines);
    if (f->tracked.id.fp_len == 0)
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", f->path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    DIR *d = opendir(dir[0] ? dir : "/");
    if (!d)
        return;
    /* Several files may start with the same bytes (older generations of
     * a log that begins with a header): the newest one is the copy. */
    struct dirent *de;
    char candidate[4096 + 256], best[4096 + 256] = "";
    int best_fd = -1;
    struct timespec best_mtime = {0, 0};
    uint64_t best_size = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || de->d_ino == f->tracked.id.ino)
            continue;
        snprintf(candidate, sizeof candidate, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(candidate, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size <= from ||
            find_open(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
            continue;
        if (best_fd >= 0 && (st.st_mtim.tv_sec < best_mtime.tv_sec ||
                             (st.st_mtim.tv_sec == best_mtime.tv_sec &&
                              st.st_mtim.tv_nsec <= best_mtime.tv_nsec)))
            continue;
        int fd = open(candidate, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        tw_file_identity copy_id = f->tracked.id;
        copy_id.dev = (uint64_t)st.st_dev;
        copy_id.ino = (uint64_t)st.st_ino;
        if (!tw_file_identity_matches(fd, &copy_id)) {
            close(fd);
            continue;
        }
        if (best_fd >= 0)
            close(best_fd);
        best_fd = fd;
        best_mtime = st.st_mtim;
        best_size = (uint64_t)st.st_size;
        snprintf(best, sizeof best, "%s", candidate);
    }
    closedir(d);
    if (best_fd < 0)
        return;
    tw_notice("[logs %s] %s was copied to %s before it was truncated; reading the %" PRIu64
              " bytes we had not read yet from the copy",
              t->section, f->path, best, best_size - from);
    follow(t, best, best_fd, true, false, from);
}

static void restart_file(tw_tail *t, tw_tail_file *f, const char *why)
{
    tw_warn("[logs %s] %s was %s; reading it again from the start", t->section, f->path, why);
    t->stats.truncations++;
    rescue_from_copy(t, f);
    /* What was held of a partial line is gone with the old contents. */
    tw_lines_reset(&f->lines, 0);
    tw_checkpoint_forget(t->checkpoint, f->tracked.key);
    tw_err err;
    if (tw_file_identity_read(f->fd, f->path, &f->tracked.id, &err) != 0)
        f->tracked.id.fp_len = 0;
    f->tracked.key = tw_checkpoint_track(t->checkpoint, &f->tracked.id, f->path, 0);
    f->read_offset = 0;
}

/* One file's share of a pass. Returns true when it has more to read now. */
static bool service_file(tw_tail *t, tw_tail_file *f, int64_t now)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return false;
    if (st.st_nlink == 0 && !f->rotated) {
        f->rotated = true; /* removed while open: drain, then let go */
        f->last_growth_ms = now; /* the writer may still hold it: rotate_wait from now */
        tw_info("[logs %s] %s was removed; reading it to its end", t->section, f->path);
    }
    if ((uint64_t)st.st_size < f->read_offset) {
        restart_file(t, f, "truncated");
    } else if (now - f->last_check_ms >= FINGERPRINT_CHECK_MS) {
        f->last_check_ms = now;
        if (!tw_file_identity_matches(f->fd, &f->tracked.id))
            restart_file(t, f, "rewritten (its first bytes changed)");
    }
    bool more = false;
    if (!t->paused && (uint64_t)st.st_size > f->read_offset) {
        more = read_file(t, f, now);
        grow_fingerprint(t, f);
    }
    if (!more && f->lines.partial.len > 0 && now - f->last_growth_ms >= t->partial_flush_ms)
        tw_lines_flush(&f->lines, now, line_cb, f);
    return more;
}

/* ---- watches ------------------------------------------------------------------ */

/* One inotify instance per tail, on the loop through uv_poll. Directory
 * changes (a file created, renamed, removed) always wake us; writes to files
 * (IN_MODIFY) wake us once, then that interest is dropped until the pass
 * they scheduled has run: a writer doing a write(2) per line would
 * otherwise wake the agent a thousand times a second for twenty passes. */
#define DIR_EVENTS (IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | \
                    IN_MOVE_SELF | IN_ATTRIB)

static void on_handle_closed(uv_handle_t *handle)
{
    tw_tail *t = handle->data;
    if (--t->open_handles == 0) {
        void (*closed)(void *) = t->closed;
        void *ctx = t->closed_ctx;
        if (t->inotify_fd >= 0)
            close(t->inotify_fd);
        for (size_t i = 0; i < t->n_refused; i++)
            free(t->refused[i]);
        free(t->refused);
        for (size_t i = 0; i < t->n_watches; i++) {
            free(t->watches[i]->dir);
            free(t->watches[i]);
        }
        free(t->watches);
        free(t->buf);
        free(t->section);
        free(t->patterns);
        free(t);
        if (closed)
            closed(ctx);
    }
}

static int arm(tw_tail *t, watch *w, bool modify)
{
    int wd = inotify_add_watch(t->inotify_fd, w->dir, DIR_EVENTS | (modify ? IN_MODIFY : 0));
    if (wd < 0)
        return -errno;
    w->wd = wd;
    w->modify_armed = modify;
    return 0;
}

/* After a pass: writes may wake us again. */
static void rearm_watches(tw_tail *t)
{
    for (size_t i = 0; i < t->n_watches; i++)
        if (!t->watches[i]->modify_armed)
            arm(t, t->watches[i], true);
}

static watch *watch_by_wd(tw_tail *t, int wd)
{
    for (size_t i = 0; i < t->n_watches; i++)
        if (t->watches[i]->wd == wd)
            return t->watches[i];
    return NULL;
}

static void on_inotify(uv_poll_t *handle, int status, int events)
{
    tw_tail *t = handle->data;
    (void)events;
    if (status < 0)
        return;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(t->inotify_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & (IN_Q_OVERFLOW | DIR_EVENTS | IN_IGNORED))
                t->scan_wanted = true;
            if (ev->mask & IN_MODIFY) {
                watch *w = watch_by_wd(t, ev->wd);
                if (w && w->modify_armed)
                    arm(t, w, false);
            }
        }
    }
    schedule_pass(t, false);
}

static void unwatch(tw_tail *t, size_t i)
{
    watch *w = t->watches[i];
    t->watches[i] = t->watches[--t->n_watches];
    inotify_rm_watch(t->inotify_fd, w->wd);
    free(w->dir);
    free(w);
}

/* Keeps one inotify watch per directory that decides a match. */
static void update_watches(tw_tail *t, const tw_glob_result *g)
{
    for (size_t i = 0; i < t->n_watches; i++)
        t->watches[i]->seen = false;
    for (size_t d = 0; d < g->n_dirs; d++) {
        size_t i = 0;
        while (i < t->n_watches && strcmp(t->watches[i]->dir, g->dirs[d]) != 0)
            i++;
        if (i < t->n_watches) {
            t->watches[i]->seen = true;
            continue;
        }
        if (t->inotify_failed)
            continue;
        watch *w = tw_calloc(1, sizeof *w);
        w->dir = tw_strdup(g->dirs[d]);
        w->seen = true;
        int rc = arm(t, w, true);
        if (rc != 0) {
            /* Usually fs.inotify.max_user_watches: polling still works. */
            tw_warn("[logs %s] cannot watch %s (%s); polling it every %" PRId64 " ms instead",
                    t->section, w->dir, strerror(-rc), t->poll_ms);
            t->inotify_failed = true;
            free(w->dir);
            free(w);
            continue;
        }
        t->watches = tw_realloc(t->watches, (t->n_watches + 1) * sizeof *t->watches);
        t->watches[t->n_watches++] = w;
    }
    for (size_t i = t->n_watches; i > 0; i--)
        if (!t->watches[i - 1]->seen)
            unwatch(t, i - 1);
}

/* ---- scanning -------------------------------------------------------------------- */

/* At startup: a file the checkpoint knows, not under any matching path now,
 * with lines left, was rotated away while the agent was down. It is looked
 * for (by inode) in the directory it was last seen in. */
static void find_rotated(void *ctx, const tw_tracked_file *file, const char *path,
                         uint64_t resume)
{
    tw_tail *t = ctx;
    if (find_open(t, file->id.dev, file->id.ino) || path[0] != '/')
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    DIR *d = opendir(dir[0] ? dir : "/");
    if (!d)
        return;
    struct dirent *de;
    char candidate[4096 + 256];
    while ((de = readdir(d)) != NULL) {
        if (de->d_ino != file->id.ino)
            continue;
        snprintf(candidate, sizeof candidate, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(candidate, &st) != 0 || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_dev != file->id.dev || (uint64_t)st.st_size <= resume)
            break;
        int fd = open_path(t, candidate);
        if (fd < 0)
            break;
        if (!tw_file_identity_matches(fd, &file->id)) {
            close(fd);
            break;
        }
        tw_notice("[logs %s] %s was rotated to %s while the agent was stopped; reading its "
                  "last %" PRIu64 " bytes",
                  t->section, path, candidate, (uint64_t)st.st_size - resume);
        follow(t, candidate, fd, true, false, START_KNOWN);
        break;
    }
    closedir(d);
}

static void scan(tw_tail *t, int64_t now)
{
    t->scan_wanted = false;
    t->last_scan_ms = now;
    tw_glob_result g;
    tw_err err;
    if (tw_glob_expand(t->patterns, &g, &err) != 0) {
        if (strcmp(err.msg, t->last_scan_error) != 0)
            tw_warn("[logs %s] %s", t->section, err.msg);
        snprintf(t->last_scan_error, sizeof t->last_scan_error, "%s", err.msg);
    } else {
        t->last_scan_error[0] = '\0';
    }
    update_watches(t, &g);
    for (tw_tail_file *f = t->files; f; f = f->next)
        f->seen = false;
    for (size_t i = 0; i < g.n_files; i++) {
        struct stat st;
        if (stat(g.files[i], &st) != 0)
            continue;
        tw_tail_file *f = find_open(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
        if (f) {
            f->seen = true;
            /* A quiet file followed for days keeps its entry. */
            tw_checkpoint_track(t->checkpoint, &f->tracked.id, g.files[i], 0);
            if (f->rotated && st.st_nlink > 0) /* renamed back, or to another match */
                f->rotated = false;
            if (strcmp(f->path, g.files[i]) != 0) {
                free(f->path);
                f->path = tw_strdup(g.files[i]);
            }
            continue;
        }
        int fd = open_path(t, g.files[i]);
        if (fd >= 0)
            follow(t, g.files[i], fd, false, t->first_scan && t->read_from_tail, START_KNOWN);
    }
    for (tw_tail_file *f = t->files; f; f = f->next) {
        if (!f->seen && !f->rotated) {
            f->rotated = true;
            /* The writer keeps writing to the old file until it reopens
             * (nginx -s reopen): rotate_wait counts from now. */
            f->last_growth_ms = now;
            t->stats.rotations++;
            tw_info("[logs %s] %s was rotated or removed; reading the old file to its end",
                    t->section, f->path);
        }
    }
    if (t->first_scan)
        tw_checkpoint_each(t->checkpoint, find_rotated, t);
    t->first_scan = false;
    tw_glob_free(&g);
}

/* ---- passes ----------------------------------------------------------------------- */

static void pass(tw_tail *t)
{
    t->pass_scheduled = false;
    if (t->stopping)
        return;
    int64_t now = tw_time_now_ms();
    t->last_pass_ms = now;
    int64_t scan_every = t->inotify_failed ? t->poll_ms : t->scan_ms;
    if (t->scan_wanted || now - t->last_scan_ms >= scan_every)
        scan(t, now);
    bool more = false;
    tw_tail_file *next;
    for (tw_tail_file *f = t->files; f; f = next) {
        next = f->next;
        bool has_more = service_file(t, f, now);
        more |= has_more;
        if (f->rotated && !has_more && !t->paused && now - f->last_growth_ms >= t->rotate_wait_ms) {
            struct stat st;
            if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size <= f->read_offset)
                close_file(t, f, true);
        }
    }
    if (!t->inotify_failed)
        rearm_watches(t);
    if (more)
        schedule_pass(t, true);
}

static void on_pass_timer(uv_timer_t *timer)
{
    pass(timer->data);
}

static void on_poll_timer(uv_timer_t *timer)
{
    pass(timer->data);
}

/* A writer making one write per line would cause one inotify event, and
 * one pass, per line: passes after events are spaced by EVENT_PASS_GAP_MS,
 * which bounds the cost at low rates and adds at most that much latency.
 * A pass that stopped at its read budget continues at once. */
static void schedule_pass(tw_tail *t, bool at_once)
{
    if (t->pass_scheduled || t->stopping)
        return;
    t->pass_scheduled = true;
    uint64_t delay = 0;
    if (!at_once) {
        int64_t since = tw_time_now_ms() - t->last_pass_ms;
        if (since < EVENT_PASS_GAP_MS)
            delay = (uint64_t)(EVENT_PASS_GAP_MS - since);
    }
    uv_timer_start(&t->pass_timer, on_pass_timer, delay, 0);
}

/* ---- public ------------------------------------------------------------------------- */

int tw_tail_start(uv_loop_t *loop, const tw_tail_options *options,
                  const tw_tail_callbacks *callbacks, void *ctx, tw_tail **out, tw_err *err)
{
    int rc = tw_glob_check(options->patterns, err);
    if (rc != 0) {
        tw_err_prefix(err, "[logs %s] path", options->section);
        return rc;
    }
    tw_tail *t = tw_calloc(1, sizeof *t);
    t->loop = loop;
    t->section = tw_strdup(options->section);
    t->patterns = tw_strdup(options->patterns);
    t->read_from_tail = options->read_from_tail;
    t->max_line = options->max_line ? options->max_line : 256u << 10;
    t->poll_ms = options->poll_interval_ms > 0 ? options->poll_interval_ms : 1000;
    t->scan_ms = options->scan_interval_ms > 0 ? options->scan_interval_ms : 10000;
    t->rotate_wait_ms = options->rotate_wait_ms > 0 ? options->rotate_wait_ms : 5000;
    t->partial_flush_ms = options->partial_flush_ms > 0 ? options->partial_flush_ms : 5000;
    t->checkpoint = options->checkpoint;
    t->cb = *callbacks;
    t->ctx = ctx;
    t->first_scan = true;
    t->scan_wanted = true;
    t->buf = tw_malloc(READ_CHUNK);
    uv_timer_init(loop, &t->poll_timer);
    uv_timer_init(loop, &t->pass_timer);
    t->poll_timer.data = t->pass_timer.data = t;
    t->open_handles = 2;
    t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->inotify_fd < 0) {
        tw_warn("[logs %s] inotify is not available (%s); polling every %" PRId64 " ms instead",
                t->section, strerror(errno), t->poll_ms);
        t->inotify_failed = true;
    } else {
        uv_poll_init(loop, &t->inotify_poll, t->inotify_fd);
        t->inotify_poll.data = t;
        uv_poll_start(&t->inotify_poll, UV_READABLE, on_inotify);
        t->open_handles++;
    }
    uv_timer_start(&t->poll_timer, on_poll_timer, (uint64_t)t->poll_ms, (uint64_t)t->poll_ms);
    *out = t;
    pass(t); /* the first scan now: files are known before the loop runs */
    return 0;
}

void tw_tail_stop(tw_tail *t, void (*closed)(void *ctx), void *ctx)
{
    t->stopping = true;
    t->closed = closed;
    t->closed_ctx = ctx;
    while (t->files)
        close_file(t, t->files, false);
    while (t->n_watches > 0)
        unwatch(t, t->n_watches - 1);
    if (t->inotify_fd >= 0)
        uv_close((uv_handle_t *)&t->inotify_poll, on_handle_closed);
    uv_close((uv_handle_t *)&t->poll_timer, on_handle_closed);
    uv_close((uv_handle_t *)&t->pass_timer, on_handle_closed);
}

void tw_tail_pause(tw_tail *t, bool paused)
{
    if (t->paused == paused)
        return;
    t->paused = paused;
    if (!paused)
        schedule_pass(t, true);
}

void tw_tail_stats_get(const tw_tail *t, tw_tail_stats *out)
{
    *out = t->stats;
    for (const tw_tail_file *f = t->files; f; f = f->next) {
        out->split_lines += f->lines.stats.split_lines;
        out->repaired_lines += f->lines.stats.repaired_lines;
    }
}

const char *tw_tail_file_path(const tw_tail_file *f)
{
    return f->path;
}

const tw_tracked_file *tw_tail_file_tracked(const tw_tail_file *f)
{
    return &f->tracked;
}

void *tw_tail_file_user(const tw_tail_file *f)
{
    return f->user;
}

uint64_t tw_tail_file_consumed(const tw_tail_file *f)
{
    return tw_lines_consumed(&f->lines);
}
