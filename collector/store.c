/* store.c — the collector's SQLite store (see store.h): opening and
 * migrating the database, the writer thread with group commit, the reader
 * pool, the per-connection statement cache, and handing completions back to
 * the loop through one uv_async_t.
 *
 * Durability. An agent drops its spooled copy of a batch once we answer, and
 * we answer from the done callback, so a committed transaction must survive
 * a power loss, not only a crash of this process. SQLite's documentation
 * (pragma synchronous) says of WAL mode: with NORMAL "WAL mode does lose
 * durability. A transaction committed in WAL mode with synchronous=NORMAL
 * might roll back following a power loss or system crash"; with FULL "an
 * additional sync operation of the WAL file happens after each transaction
 * commit", which makes commits durable. So the writer uses synchronous=FULL:
 * one fsync of the WAL per commit, and group commit shares that fsync among
 * every job of the batch. (The unix VFS also fsyncs the directory after it
 * creates the -wal file; we fsync it once more after creating the database.)
 *
 * Threads. One mutex guards the three job lists (writes, reads, finished).
 * The writer runs every waiting write job (up to WRITE_BATCH_MAX jobs or
 * WRITE_BATCH_BUDGET_MS) in one BEGIN IMMEDIATE ... COMMIT, each inside
 * SAVEPOINT job, taking jobs that arrive meanwhile into the same batch. Finished
 * jobs go to one list that the loop drains in the async callback; the writer
 * appends a batch in submission order, so write callbacks run in submission
 * order. Readers finish independently: a read's callback runs when that read
 * is done, not behind a slower read submitted before it.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "store_schema.h"

enum {
    STORE_READERS = 2,
    /* Enough to amortise one fsync over many requests, small enough that one
     * commit (and the callbacks it releases) stays short. */
    WRITE_BATCH_MAX = 4096,
    /* A batch stops taking jobs after this long, bounding the wait of the
     * jobs behind it when each job is large (10,000 log events). */
    WRITE_BATCH_BUDGET_MS = 50,
    BUSY_TIMEOUT_MS = 10000,
    STMT_CACHE_INITIAL = 64, /* slots; a power of two */
};

/* Negative KiB, as PRAGMA cache_size takes them. The OS page cache holds the
 * rest; idle RSS stays small because SQLite fills its cache only as used. */
#define WRITER_CACHE_PRAGMA "PRAGMA cache_size = -16384"
#define READER_CACHE_PRAGMA "PRAGMA cache_size = -8192"
/* 4,000 pages (16 MiB) between automatic checkpoints rather than 1,000:
 * fewer checkpoint stalls in the writer under sustained ingestion. The WAL is
 * truncated back to 64 MiB after a checkpoint let it wrap. */
#define WRITER_WAL_PRAGMAS "PRAGMA wal_autocheckpoint = 4000; PRAGMA journal_size_limit = 67108864"

typedef struct store_job {
    struct store_job *next;
    tw_store_fn fn;
    tw_store_done done;
    void *arg;
    int status;
} store_job;

typedef struct job_list {
    store_job *head, *tail;
} job_list;

typedef struct stmt_slot {
    const char *sql; /* the key: the caller's string literal; NULL = empty */
    sqlite3_stmt *stmt;
    unsigned long long job_serial; /* the job that last used it */
} stmt_slot;

/* The statements the store itself runs around jobs. */
typedef enum control_sql {
    SQL_BEGIN_IMMEDIATE,
    SQL_BEGIN,
    SQL_COMMIT,
    SQL_ROLLBACK,
    SQL_SAVEPOINT,
    SQL_ROLLBACK_TO,
    SQL_RELEASE,
    SQL_CONTROL_COUNT
} control_sql;

static const char *const control_text[SQL_CONTROL_COUNT] = {
    [SQL_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQL_BEGIN] = "BEGIN",
    [SQL_COMMIT] = "COMMIT",
    [SQL_ROLLBACK] = "ROLLBACK",
    [SQL_SAVEPOINT] = "SAVEPOINT job",
    [SQL_ROLLBACK_TO] = "ROLLBACK TO job",
    [SQL_RELEASE] = "RELEASE job",
};

struct tw_db {
    sqlite3 *handle;
    char name[16]; /* "writer", "reader 1": for log lines */
    stmt_slot *slots;
    size_t capacity, count;
    /* Statements handed out during the current job, reset when it ends so
     * that none keeps a read snapshot (or a savepoint) open past its job. */
    sqlite3_stmt **job_stmts;
    size_t n_job_stmts, job_stmts_capacity;
    unsigned long long job_serial;
    sqlite3_stmt *control[SQL_CONTROL_COUNT];
    tw_store *store;
};

struct tw_store {
    uv_loop_t *loop;
    uv_async_t *async; /* freed by its close callback, after the store */
    tw_db writer;
    tw_db readers[STORE_READERS];
    pthread_t writer_thread, reader_threads[STORE_READERS];
    int threads_started; /* writer first, then readers */

    pthread_mutex_t lock;
    pthread_cond_t write_cv, read_cv, finished_cv;
    job_list writes, reads, finished; /* under lock */
    bool stopping;                    /* under lock */
    bool ready;                       /* opened and migrated */

    size_t outstanding; /* submitted, done not yet run: loop thread only */
    atomic_ullong write_jobs, write_transactions, read_jobs, failed_commits;
};

/* ---- statements ---- */

static sqlite3_stmt *prepare_persistent(tw_db *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK || stmt == NULL) {
        tw_error("store (%s): cannot prepare \"%.120s\": %s", db->name, sql,
                 rc == SQLITE_OK ? "no statement in the text" : sqlite3_errmsg(db->handle));
        sqlite3_finalize(stmt);
        return NULL;
    }
    tail += strspn(tail, " \t\r\n;");
    if (*tail != '\0') {
        tw_error("store (%s): \"%.120s\" holds more than one statement; tw_db_prepare runs the "
                 "first only",
                 db->name, sql);
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

/* Runs one of the store's own statements. Returns the SQLite code. */
static int control(tw_db *db, control_sql which)
{
    if (db->control[which] == NULL) {
        int rc = sqlite3_prepare_v3(db->handle, control_text[which], -1,
                                    SQLITE_PREPARE_PERSISTENT, &db->control[which], NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    int rc = sqlite3_step(db->control[which]);
    sqlite3_reset(db->control[which]);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static size_t slot_index(const char *sql, size_t capacity)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (size_t)(h >> 32) & (capacity - 1);
}

/* The slot holding sql, or the empty slot where it belongs (linear probing;
 * the table is never more than half full). */
static stmt_slot *cache_find(tw_db *db, const char *sql)
{
    size_t i = slot_index(sql, db->capacity);
    while (db->slots[i].sql != NULL && db->slots[i].sql != sql)
        i = (i + 1) & (db->capacity - 1);
    return &db->slots[i];
}

static void cache_grow(tw_db *db)
{
    stmt_slot *old = db->slots;
    size_t old_capacity = db->capacity;
    db->capacity = old_capacity ? old_capacity * 2 : STMT_CACHE_INITIAL;
    db->slots = tw_calloc(db->capacity, sizeof *db->slots);
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].sql != NULL)
            *cache_find(db, old[i].sql) = old[i];
    free(old);
}

static void remember_for_job(tw_db *db, stmt_slot *slot)
{
    if (slot->job_serial == db->job_serial)
        return;
    slot->job_serial = db->job_serial;
    if (db->n_job_stmts == db->job_stmts_capacity) {
        db->job_stmts_capacity = db->job_stmts_capacity ? db->job_stmts_capacity * 2 : 16;
        db->job_stmts =
            tw_realloc(db->job_stmts, db->job_stmts_capacity * sizeof *db->job_stmts);
    }
    db->job_stmts[db->n_job_stmts++] = slot->stmt;
}

sqlite3_stmt *tw_db_prepare(tw_db *db, const char *sql)
{
    if (db->count + 1 > db->capacity / 2)
        cache_grow(db);
    stmt_slot *slot = cache_find(db, sql);
    if (slot->sql == NULL) {
        sqlite3_stmt *stmt = prepare_persistent(db, sql);
        if (stmt == NULL)
            return NULL;
        *slot = (stmt_slot){.sql = sql, .stmt = stmt};
        db->count++;
    } else {
        /* The key is the pointer; a buffer reused for other SQL would
         * silently run the wrong statement, so check the text. */
        const char *text = sqlite3_sql(slot->stmt);
        if (strncmp(text, sql, strlen(text)) != 0) {
            tw_error("store (%s): tw_db_prepare needs a string literal: the SQL at %p changed "
                     "from \"%.80s\" to \"%.80s\"",
                     db->name, (const void *)sql, text, sql);
            return NULL;
        }
        sqlite3_reset(slot->stmt);
        sqlite3_clear_bindings(slot->stmt);
    }
    remember_for_job(db, slot);
    return slot->stmt;
}

sqlite3 *tw_db_handle(tw_db *db)
{
    return db->handle;
}

const char *tw_db_error(tw_db *db)
{
    return sqlite3_errmsg(db->handle);
}

/* Resets what the job left stepping, so no statement holds a snapshot or
 * blocks ROLLBACK TO / RELEASE / COMMIT. */
static void end_job_statements(tw_db *db)
{
    for (size_t i = 0; i < db->n_job_stmts; i++)
        sqlite3_reset(db->job_stmts[i]);
    db->n_job_stmts = 0;
    db->job_serial++;
}

/* ---- connections ---- */

static int exec_pragmas(tw_db *db, const char *path, const char *sql, tw_err *err)
{
    int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : tw_store_sqlite_error(err, path, db->handle, rc, "setting it up");
}

/* WAL lets readers run beside the writer; a file system without shared
 * memory support (some network file systems) cannot do it, and we refuse
 * rather than silently serialising everything. */
static int enable_wal(tw_db *db, const char *path, tw_err *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->handle, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return tw_store_sqlite_error(err, path, db->handle, rc, "switching to WAL mode");
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    bool wal = mode != NULL && strcmp(mode, "wal") == 0;
    int result = wal ? 0
                     : tw_err_set(err, -ENOTSUP,
                                  "%s: SQLite cannot use WAL mode here (journal_mode stays %s); "
                                  "put data_dir on a local file system",
                                  path, mode ? mode : "unknown");
    sqlite3_finalize(stmt);
    return result;
}

static int db_open(tw_db *db, tw_store *store, const char *path, const char *name, bool writer,
                   tw_err *err)
{
    db->store = store;
    snprintf(db->name, sizeof db->name, "%s", name);
    db->job_serial = 1;
    cache_grow(db);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db->handle, flags, NULL);
    if (rc != SQLITE_OK)
        return tw_store_sqlite_error(err, path, db->handle, rc, "opening it");
    sqlite3_busy_timeout(db->handle, BUSY_TIMEOUT_MS);
    if (writer) {
        int r = enable_wal(db, path, err);
        if (r == 0)
            r = exec_pragmas(db, path,
                             "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                             WRITER_CACHE_PRAGMA "; " WRITER_WAL_PRAGMAS,
                             err);
        return r;
    }
    /* Readers could open SQLITE_OPEN_READONLY, but a read-only connection
     * cannot recover a WAL left by a crash; query_only refuses writes just
     * the same. */
    return exec_pragmas(db, path,
                        "PRAGMA query_only = ON; PRAGMA foreign_keys = ON; " READER_CACHE_PRAGMA,
                        err);
}

static void db_close(tw_db *db, bool checkpoint)
{
    for (size_t i = 0; i < db->capacity; i++)
        sqlite3_finalize(db->slots[i].stmt);
    for (int i = 0; i < SQL_CONTROL_COUNT; i++)
        sqlite3_finalize(db->control[i]);
    free(db->slots);
    free(db->job_stmts);
    if (db->handle == NULL)
        return;
    /* Leaves an empty WAL: the next open starts without replaying it. */
    if (checkpoint) {
        int rc = sqlite3_wal_checkpoint_v2(db->handle, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                                           NULL);
        if (rc != SQLITE_OK)
            tw_warn("store: checkpoint at close failed: %s", sqlite3_errmsg(db->handle));
    }
    int rc = sqlite3_close(db->handle);
    if (rc != SQLITE_OK) {
        /* A statement a job prepared itself and never finalized: a bug. */
        for (sqlite3_stmt *s = sqlite3_next_stmt(db->handle, NULL); s;
             s = sqlite3_next_stmt(db->handle, s))
            tw_error("store (%s): statement never finalized: %.200s", db->name, sqlite3_sql(s));
        tw_error("store (%s): cannot close the connection: %s", db->name,
                 sqlite3_errmsg(db->handle));
        sqlite3_close_v2(db->handle);
    }
    db->handle = NULL;
}

/* ---- job lists ---- */

static void list_push(job_list *list, store_job *job)
{
    job->next = NULL;
    if (list->tail)
        list->tail->next = job;
    else
        list->head = job;
    list->tail = job;
}

static store_job *list_pop(job_list *list)
{
    store_job *job = list->head;
    if (job) {
        list->head = job->next;
        if (list->head == NULL)
            list->tail = NULL;
    }
    return job;
}

/* Hands finished jobs to the loop (one wake-up for any number of them). */
static void finish_jobs(tw_store *store, store_job **jobs, size_t n)
{
    pthread_mutex_lock(&store->lock);
    for (size_t i = 0; i < n; i++)
        list_push(&store->finished, jobs[i]);
    pthread_cond_signal(&store->finished_cv);
    pthread_mutex_unlock(&store->lock);
    uv_async_send(store->async);
}

/* Runs the done callbacks of every finished job, in the order they finished.
 * Loop thread only. */
static void deliver_finished(tw_store *store)
{
    pthread_mutex_lock(&store->lock);
    store_job *job = store->finished.head;
    store->finished = (job_list){0};
    pthread_mutex_unlock(&store->lock);
    while (job) {
        store_job *next = job->next;
        store->outstanding--;
        if (job->done)
            job->done(job->arg, job->status);
        free(job);
        job = next;
    }
}

static void on_finished(uv_async_t *async)
{
    if (async->data)
        deliver_finished(async->data);
}

/* ---- the writer ---- */

/* After a failure the whole transaction goes: a savepoint that could not be
 * rolled back might otherwise commit half a job. */
static void abandon_transaction(tw_db *db)
{
    if (!sqlite3_get_autocommit(db->handle))
        control(db, SQL_ROLLBACK);
}

static void run_write_job(tw_db *db, store_job *job)
{
    if (control(db, SQL_SAVEPOINT) != SQLITE_OK) {
        tw_error("store: cannot start a savepoint: %s", sqlite3_errmsg(db->handle));
        job->status = -EIO;
        abandon_transaction(db);
        return;
    }
    job->status = job->fn(db, job->arg);
    end_job_statements(db);
    if (sqlite3_get_autocommit(db->handle))
        return; /* SQLite rolled the transaction back itself (I/O error, disk full) */
    if (job->status != 0 && control(db, SQL_ROLLBACK_TO) != SQLITE_OK) {
        tw_error("store: cannot roll back a failed job: %s", sqlite3_errmsg(db->handle));
        abandon_transaction(db);
        return;
    }
    if (control(db, SQL_RELEASE) != SQLITE_OK) {
        tw_error("store: cannot release a job's savepoint: %s", sqlite3_errmsg(db->handle));
        abandon_transaction(db);
    }
}

static void fail_jobs(tw_store *store, store_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jobs[i]->status = -EIO;
    atomic_fetch_add(&store->failed_commits, 1);
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The next waiting write job for the batch, or NULL when it should commit:
 * nothing waits, the batch is full, or it has run past its time budget. */
static store_job *next_write_job(tw_store *store, size_t taken, uint64_t deadline_ms)
{
    if (taken == WRITE_BATCH_MAX || (taken > 0 && monotonic_ms() > deadline_ms))
        return NULL;
    pthread_mutex_lock(&store->lock);
    store_job *job = list_pop(&store->writes);
    pthread_mutex_unlock(&store->lock);
    return job;
}

/* One transaction: takes waiting jobs as it goes (so jobs that arrive while
 * it runs join it) and commits them together. Returns how many it took. */
static size_t run_write_batch(tw_store *store, store_job **batch)
{
    tw_db *db = &store->writer;
    uint64_t deadline_ms = monotonic_ms() + WRITE_BATCH_BUDGET_MS;
    size_t n = 0;
    store_job *job;
    int rc = control(db, SQL_BEGIN_IMMEDIATE);
    if (rc != SQLITE_OK) {
        /* Likely another process holding the database past busy_timeout:
         * fail what waits now rather than each job after its own wait. */
        while ((job = next_write_job(store, n, UINT64_MAX)) != NULL)
            batch[n++] = job;
        tw_error("store: cannot begin a write transaction for %zu jobs: %s", n,
                 sqlite3_errmsg(db->handle));
        fail_jobs(store, batch, n);
        return n;
    }
    while ((job = next_write_job(store, n, deadline_ms)) != NULL) {
        batch[n++] = job;
        run_write_job(db, job);
        if (sqlite3_get_autocommit(db->handle)) {
            tw_error("store: a write transaction of %zu jobs was rolled back: %s", n,
                     sqlite3_errmsg(db->handle));
            fail_jobs(store, batch, n);
            return n;
        }
    }
    rc = control(db, SQL_COMMIT);
    if (rc != SQLITE_OK) {
        tw_error("store: COMMIT of %zu write jobs failed, their changes are lost: %s", n,
                 sqlite3_errmsg(db->handle));
        abandon_transaction(db);
        fail_jobs(store, batch, n);
        return n;
    }
    atomic_fetch_add(&store->write_transactions, 1);
    return n;
}

static void *writer_main(void *arg)
{
    tw_store *store = arg;
    store_job **batch = tw_malloc(WRITE_BATCH_MAX * sizeof *batch);
    for (;;) {
        pthread_mutex_lock(&store->lock);
        while (store->writes.head == NULL && !store->stopping)
            pthread_cond_wait(&store->write_cv, &store->lock);
        bool done = store->writes.head == NULL; /* stopping, and nothing left */
        pthread_mutex_unlock(&store->lock);
        if (done)
            break;
        size_t n = run_write_batch(store, batch);
        atomic_fetch_add(&store->write_jobs, n);
        finish_jobs(store, batch, n);
    }
    free(batch);
    return NULL;
}

/* ---- the readers ---- */

/* One read transaction per job: every statement of a job sees the same
 * committed snapshot. */
static void run_read_job(tw_db *db, store_job *job)
{
    if (control(db, SQL_BEGIN) != SQLITE_OK) {
        tw_error("store (%s): cannot begin a read: %s", db->name, sqlite3_errmsg(db->handle));
        job->status = -EIO;
        return;
    }
    job->status = job->fn(db, job->arg);
    end_job_statements(db);
    if (!sqlite3_get_autocommit(db->handle) && control(db, SQL_COMMIT) != SQLITE_OK) {
        tw_error("store (%s): cannot end a read: %s", db->name, sqlite3_errmsg(db->handle));
        abandon_transaction(db);
    }
}

static void *reader_main(void *arg)
{
    tw_db *db = arg;
    tw_store *store = db->store;
    for (;;) {
        pthread_mutex_lock(&store->lock);
        while (store->reads.head == NULL && !store->stopping)
            pthread_cond_wait(&store->read_cv, &store->lock);
        store_job *job = list_pop(&store->reads);
        pthread_mutex_unlock(&store->lock);
        if (job == NULL)
            break;
        run_read_job(db, job);
        atomic_fetch_add(&store->read_jobs, 1);
        finish_jobs(store, &job, 1);
    }
    return NULL;
}

/* ---- opening and closing ---- */

static void stop_threads(tw_store *store)
{
    pthread_mutex_lock(&store->lock);
    store->stopping = true;
    pthread_cond_broadcast(&store->write_cv);
    pthread_cond_broadcast(&store->read_cv);
    pthread_mutex_unlock(&store->lock);
    if (store->threads_started > 0)
        pthread_join(store->writer_thread, NULL);
    for (int i = 0; i + 1 < store->threads_started; i++)
        pthread_join(store->reader_threads[i], NULL);
    store->threads_started = 0;
}

static void free_async(uv_handle_t *handle)
{
    free(handle);
}

/* Readers first: the writer's TRUNCATE checkpoint needs no reader left. */
static void store_free(tw_store *store)
{
    stop_threads(store);
    for (int i = 0; i < STORE_READERS; i++)
        db_close(&store->readers[i], false);
    db_close(&store->writer, store->ready);
    pthread_cond_destroy(&store->finished_cv);
    pthread_cond_destroy(&store->read_cv);
    pthread_cond_destroy(&store->write_cv);
    pthread_mutex_destroy(&store->lock);
    store->async->data = NULL;
    uv_close((uv_handle_t *)store->async, free_async);
    free(store);
}

/* The database file is created by us, private (0600): it holds every log
 * line the agents send. SQLite gives -wal and -shm the same mode. */
static int create_private(const char *path, tw_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return tw_err_set(err, -errno, "%s: cannot create the database: %s", path,
                          strerror(errno));
    close(fd);
    /* The new directory entry must survive a power loss too. */
    char *copy = tw_strdup(path);
    int dir = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    return 0;
}

static int start_threads(tw_store *store, tw_err *err)
{
    int rc = pthread_create(&store->writer_thread, NULL, writer_main, store);
    if (rc == 0)
        store->threads_started = 1;
    for (int i = 0; rc == 0 && i < STORE_READERS; i++) {
        rc = pthread_create(&store->reader_threads[i], NULL, reader_main, &store->readers[i]);
        if (rc == 0)
            store->threads_started++;
    }
    return rc == 0 ? 0 : tw_err_set(err, -rc, "cannot start the store's threads: %s", strerror(rc));
}

static int open_connections(tw_store *store, const char *path,
                            const tw_migration *const *migration_lists, tw_err *err)
{
    int r = create_private(path, err);
    if (r == 0)
        r = db_open(&store->writer, store, path, "writer", true, err);
    if (r == 0)
        r = tw_store_migrate(store->writer.handle, path, migration_lists, err);
    for (int i = 0; r == 0 && i < STORE_READERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "reader %d", i + 1);
        r = db_open(&store->readers[i], store, path, name, false, err);
    }
    return r;
}

int tw_store_open(uv_loop_t *loop, const char *path, const tw_migration *const *migration_lists,
                  tw_store **out, tw_err *err)
{
    tw_store *store = tw_calloc(1, sizeof *store);
    store->loop = loop;
    store->async = tw_calloc(1, sizeof *store->async);
    pthread_mutex_init(&store->lock, NULL);
    pthread_cond_init(&store->write_cv, NULL);
    pthread_cond_init(&store->read_cv, NULL);
    pthread_cond_init(&store->finished_cv, NULL);
    int rc = uv_async_init(loop, store->async, on_finished);
    if (rc != 0) {
        tw_err_set(err, rc, "cannot set up the store's wake-up: %s", uv_strerror(rc));
        free(store->async);
        pthread_cond_destroy(&store->finished_cv);
        pthread_cond_destroy(&store->read_cv);
        pthread_cond_destroy(&store->write_cv);
        pthread_mutex_destroy(&store->lock);
        free(store);
        return rc;
    }
    store->async->data = store;
    int r = open_connections(store, path, migration_lists, err);
    store->ready = r == 0;
    if (r == 0)
        r = start_threads(store, err);
    if (r != 0) {
        store_free(store);
        return r;
    }
    *out = store;
    return 0;
}

static void submit(tw_store *store, job_list *queue, pthread_cond_t *cv, tw_store_fn fn,
                   tw_store_done done, void *arg)
{
    store_job *job = tw_malloc(sizeof *job);
    *job = (store_job){.fn = fn, .done = done, .arg = arg};
    store->outstanding++;
    pthread_mutex_lock(&store->lock);
    list_push(queue, job);
    pthread_cond_signal(cv);
    pthread_mutex_unlock(&store->lock);
}

void tw_store_write(tw_store *store, tw_store_fn fn, tw_store_done done, void *arg)
{
    submit(store, &store->writes, &store->write_cv, fn, done, arg);
}

void tw_store_read(tw_store *store, tw_store_fn fn, tw_store_done done, void *arg)
{
    submit(store, &store->reads, &store->read_cv, fn, done, arg);
}

/* Runs the done callbacks itself rather than through uv_run(): close is
 * usually called from a loop callback (the SIGTERM handler), where uv_run()
 * must not be re-entered. Jobs that done callbacks queue meanwhile (a
 * handler's next stage) are run too. */
void tw_store_close(tw_store *store)
{
    if (store == NULL)
        return;
    while (store->outstanding > 0) {
        pthread_mutex_lock(&store->lock);
        while (store->finished.head == NULL)
            pthread_cond_wait(&store->finished_cv, &store->lock);
        pthread_mutex_unlock(&store->lock);
        deliver_finished(store);
    }
    store_free(store);
}

void tw_store_get_stats(const tw_store *store, tw_store_stats *out)
{
    out->write_jobs = atomic_load(&store->write_jobs);
    out->write_transactions = atomic_load(&store->write_transactions);
    out->read_jobs = atomic_load(&store->read_jobs);
    out->failed_commits = atomic_load(&store->failed_commits);
}
