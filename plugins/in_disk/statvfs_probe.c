/* statvfs_probe.c — statvfs on helper threads with a time limit; abandoned
 * threads for hung mounts (see statvfs_probe.h).
 *
 * One worker at a time does the calls. The owner hands it the whole list
 * and waits on a condition variable; every answered path restarts the
 * timer. A worker is shared (refcounted) between the owner and its thread
 * so that an abandoned thread, whose call may return long after the owner
 * closed, only ever touches its own worker. */
#include "statvfs_probe.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

#define WORKER_STACK (256 * 1024)

typedef struct worker {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the owner's job, the worker's progress */
    pthread_t thread;
    int refs;       /* owner + thread */
    bool quit;      /* owner → thread: exit */
    bool abandoned; /* owner gave up waiting: its arrays are off limits */
    bool returned;  /* the thread is done (its last call came back) */
    tw_statvfs_fn fn;
    void *ctx;
    /* The job: the owner's arrays, valid while not abandoned. */
    const char *const *paths;
    struct statvfs *results;
    int *codes;
    size_t n, done;
    char path[PATH_MAX]; /* the thread's own copy of the path in the call */
} worker;

struct tw_statvfs_probe {
    tw_statvfs_fn fn;
    void *ctx;
    int timeout_ms;
    worker *live;
    worker **stuck;
    size_t n_stuck, cap_stuck;
};

static void worker_release(worker *w)
{
    pthread_mutex_lock(&w->lock);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->lock);
    if (!last)
        return;
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static int call(worker *w, struct statvfs *sv)
{
    if (w->fn)
        return w->fn(w->ctx, w->path, sv);
    return statvfs(w->path, sv) == 0 ? 0 : -errno;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->quit && w->done >= w->n)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->quit)
            break;
        size_t i = w->done;
        if (w->codes[i] == -EBUSY) { /* stuck since an earlier run */
            w->done++;
            continue;
        }
        int n = snprintf(w->path, sizeof w->path, "%s", w->paths[i]);
        int rc = -ENAMETOOLONG;
        struct statvfs sv;
        memset(&sv, 0, sizeof sv);
        if (n >= 0 && (size_t)n < sizeof w->path) {
            pthread_mutex_unlock(&w->lock);
            rc = call(w, &sv);
            pthread_mutex_lock(&w->lock);
            if (w->abandoned)
                break;
        }
        w->results[i] = sv;
        w->codes[i] = rc;
        w->done = i + 1;
        pthread_cond_signal(&w->cond);
    }
    w->returned = true;
    pthread_mutex_unlock(&w->lock);
    worker_release(w);
    return NULL;
}

static int worker_start(tw_statvfs_probe *p, worker **out, tw_err *err)
{
    worker *w = tw_calloc(1, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &cattr);
    pthread_condattr_destroy(&cattr);
    w->refs = 2;
    w->fn = p->fn;
    w->ctx = p->ctx;

    /* Signals stay with the agent's other threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    int rc = pthread_create(&w->thread, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return tw_err_set(err, -rc, "disk: cannot start the statvfs helper thread: %s",
                          strerror(rc));
    }
    *out = w;
    return 0;
}

int tw_statvfs_probe_open(tw_statvfs_fn fn, void *ctx, int timeout_ms, tw_statvfs_probe **out,
                          tw_err *err)
{
    tw_statvfs_probe *p = tw_calloc(1, sizeof *p);
    p->fn = fn;
    p->ctx = ctx;
    p->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    int rc = worker_start(p, &p->live, err);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* Forgets abandoned workers whose call has come back. */
static void reap(tw_statvfs_probe *p)
{
    size_t kept = 0;
    for (size_t i = 0; i < p->n_stuck; i++) {
        worker *w = p->stuck[i];
        pthread_mutex_lock(&w->lock);
        bool returned = w->returned;
        pthread_mutex_unlock(&w->lock);
        if (returned)
            worker_release(w);
        else
            p->stuck[kept++] = w;
    }
    p->n_stuck = kept;
}

static bool is_stuck(const tw_statvfs_probe *p, const char *path)
{
    for (size_t i = 0; i < p->n_stuck; i++)
        if (strcmp(p->stuck[i]->path, path) == 0) /* immutable once abandoned */
            return true;
    return false;
}

static void deadline_in(struct timespec *t, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/* Called with w locked, w stuck on path w->done: hands the worker to the
 * kernel and returns the index after it. */
static size_t abandon(tw_statvfs_probe *p, worker *w)
{
    size_t i = w->done;
    w->codes[i] = -ETIMEDOUT;
    w->abandoned = true;
    pthread_mutex_unlock(&w->lock);
    pthread_detach(w->thread);
    if (p->n_stuck == p->cap_stuck) {
        p->cap_stuck = p->cap_stuck ? p->cap_stuck * 2 : 4;
        p->stuck = tw_realloc(p->stuck, p->cap_stuck * sizeof *p->stuck);
    }
    p->stuck[p->n_stuck++] = w;
    p->live = NULL;
    return i + 1;
}

int tw_statvfs_probe_run(tw_statvfs_probe *p, const char *const *paths, size_t n,
                         struct statvfs *results, int *codes, tw_err *err)
{
    reap(p);
    for (size_t i = 0; i < n; i++)
        codes[i] = is_stuck(p, paths[i]) ? -EBUSY : -EAGAIN;
    size_t next = 0;
    while (next < n) {
        if (p->live == NULL) {
            int rc = worker_start(p, &p->live, err);
            if (rc != 0)
                return rc; /* codes[next..] stay -EAGAIN (or -EBUSY) */
        }
        worker *w = p->live;
        pthread_mutex_lock(&w->lock);
        w->paths = paths;
        w->results = results;
        w->codes = codes;
        w->done = next;
        w->n = n;
        pthread_cond_signal(&w->cond);
        struct timespec deadline;
        deadline_in(&deadline, p->timeout_ms);
        size_t seen = next;
        while (w->done < n) {
            int rc = pthread_cond_timedwait(&w->cond, &w->lock, &deadline);
            if (w->done != seen) { /* progress: the next path gets its full time */
                seen = w->done;
                deadline_in(&deadline, p->timeout_ms);
            } else if (rc == ETIMEDOUT) {
                break;
            }
        }
        if (w->done < n) {
            next = abandon(p, w); /* unlocks */
            continue;
        }
        w->n = w->done = 0;
        w->paths = NULL;
        w->results = NULL;
        w->codes = NULL;
        pthread_mutex_unlock(&w->lock);
        next = n;
    }
    return 0;
}

size_t tw_statvfs_probe_stuck(tw_statvfs_probe *p)
{
    reap(p);
    return p->n_stuck;
}

void tw_statvfs_probe_close(tw_statvfs_probe *p)
{
    if (p == NULL)
        return;
    if (p->live) {
        worker *w = p->live;
        pthread_mutex_lock(&w->lock);
        w->quit = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        worker_release(w);
    }
    for (size_t i = 0; i < p->n_stuck; i++)
        worker_release(p->stuck[i]); /* the thread frees it if its call never returns first */
    free(p->stuck);
    free(p);
}
