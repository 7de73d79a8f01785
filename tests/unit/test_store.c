/* test_store.c — the collector's SQLite store: migrations, group commit,
 * per-job rollback, readers, draining at close, refusing bad files, the
 * statement cache, and that an acknowledged write survives SIGKILL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <semaphore.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

typedef struct fixture {
    char dir[256];
    char path[300];
    uv_loop_t loop;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "store") != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/collector.db", f->dir);
    if (uv_loop_init(&f->loop) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    /* The store's async handle closes here; NOWAIT so that a test that
     * failed with its store open reports instead of hanging. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    int loop_rc = uv_loop_close(&f->loop);
    int rm_rc = tw_test_rm_rf(f->dir);
    free(f);
    return loop_rc == 0 && rm_rc == 0 ? 0 : -1;
}

/* ---- helpers ---- */

static const tw_migration table_t[] = {
    {"test", 1, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"},
    {NULL, 0, NULL},
};
static const tw_migration *const only_t[] = {table_t, NULL};

static tw_store *open_store(fixture *f, const tw_migration *const *lists)
{
    tw_store *store = NULL;
    tw_err err = {{0}};
    int rc = tw_store_open(&f->loop, f->path, lists, &store, &err);
    if (rc != 0)
        fail_msg("tw_store_open: %d %s", rc, err.msg);
    return store;
}

static void run_until(fixture *f, const int *counter, int target)
{
    while (*counter < target)
        uv_run(&f->loop, UV_RUN_ONCE);
}

/* Reads one integer with a fresh connection of our own (not the store's). */
static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    long long value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return value;
}

/* The recorded version of component, or -1 when none is recorded. */
static long long schema_version(const char *path, const char *component)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT version FROM schema_versions WHERE component = '%s'",
             component);
    return query_int(path, sql);
}

static void query_text(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static bool row_exists(const char *path, long long id)
{
    char sql[80];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE id = %lld", id);
    return query_int(path, sql) == 1;
}

static int insert_row(tw_db *db, long long id, const char *v)
{
    sqlite3_stmt *stmt = tw_db_prepare(db, "INSERT INTO t(id, v) VALUES (?1, ?2)");
    if (stmt == NULL)
        return -EIO;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_text(stmt, 2, v, -1, SQLITE_STATIC);
    return sqlite3_step(stmt) == SQLITE_DONE ? 0 : -EIO;
}

/* A job of a test: what it inserts, what it returns, and what it saw. */
typedef struct probe {
    long long id;
    int result;       /* what fn returns */
    int status;       /* what done received */
    int order;        /* position among completed probes */
    long long seen;   /* a read's result */
    int *completed;   /* shared counter */
    sem_t *gate;      /* a write job that waits for the test: makes a batch */
} probe;

static int insert_fn(tw_db *db, void *arg)
{
    probe *p = arg;
    if (p->gate)
        sem_wait(p->gate);
    int rc = insert_row(db, p->id, "row");
    return rc != 0 ? rc : p->result;
}

static void probe_done(void *arg, int status)
{
    probe *p = arg;
    p->status = status;
    p->order = (*p->completed)++;
}

/* Holds the writer inside one job until the test posts the gate, so that
 * everything submitted meanwhile waits and goes into one batch. */
static void hold_writer(tw_store *store, probe *blocker, sem_t *gate, int *completed)
{
    sem_init(gate, 0, 0);
    *blocker = (probe){.id = 1000000, .gate = gate, .completed = completed};
    tw_store_write(store, insert_fn, probe_done, blocker);
}

/* ---- migrations ---- */

static const tw_migration steps_v3[] = {
    {"steps", 1, "CREATE TABLE applied(seq INTEGER PRIMARY KEY, version INTEGER)"},
    {"steps", 2, "INSERT INTO applied(version) VALUES (2)"},
    {"steps", 3, "INSERT INTO applied(version) VALUES (3); "
                 "INSERT INTO applied(version) VALUES (33)"},
    {NULL, 0, NULL},
};
static const tw_migration steps_v4[] = {
    {"steps", 1, "CREATE TABLE applied(seq INTEGER PRIMARY KEY, version INTEGER)"},
    {"steps", 2, "INSERT INTO applied(version) VALUES (2)"},
    {"steps", 3, "INSERT INTO applied(version) VALUES (3); "
                 "INSERT INTO applied(version) VALUES (33)"},
    {"steps", 4, "INSERT INTO applied(version) VALUES (4)"},
    {NULL, 0, NULL},
};
static const tw_migration other_v1[] = {
    {"other", 1, "CREATE TABLE other(x)"},
    {NULL, 0, NULL},
};

static void test_migrations_apply_once_in_order_and_upgrade_on_reopen(void **state)
{
    fixture *f = *state;
    const tw_migration *const v3[] = {steps_v3, other_v1, NULL};
    tw_store_close(open_store(f, v3));
    char order[64];
    query_text(f->path,
               "SELECT group_concat(version) FROM (SELECT version FROM applied ORDER BY seq)",
               order, sizeof order);
    assert_string_equal(order, "2,3,33");
    assert_int_equal(schema_version(f->path, "steps"), 3);
    assert_int_equal(schema_version(f->path, "other"), 1);

    /* Reopening with the same code applies nothing again. */
    tw_store_close(open_store(f, v3));
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM applied"), 3);

    /* A newer collector applies only its new version. */
    const tw_migration *const v4[] = {steps_v4, other_v1, NULL};
    tw_store_close(open_store(f, v4));
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM applied"), 4);
    assert_int_equal(query_int(f->path, "SELECT max(version) FROM applied"), 33);
    assert_int_equal(query_int(f->path, "SELECT version FROM applied ORDER BY seq DESC"), 4);
    assert_int_equal(schema_version(f->path, "steps"), 4);
}

static void test_database_of_a_newer_collector_is_refused(void **state)
{
    fixture *f = *state;
    const tw_migration *const v4[] = {steps_v4, NULL};
    tw_store_close(open_store(f, v4));
    const tw_migration *const v3[] = {steps_v3, NULL};
    tw_store *store = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_store_open(&f->loop, f->path, v3, &store, &err), -ENOTSUP);
    assert_null(store);
    assert_non_null(strstr(err.msg, "the database was written by a newer trailwatch-collector "
                                    "(component steps version 4, this one knows up to 3)"));
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM applied"), 4);
}

static void test_failed_migration_leaves_its_component_untouched(void **state)
{
    fixture *f = *state;
    static const tw_migration broken[] = {
        {"steps", 1, "CREATE TABLE applied(seq INTEGER PRIMARY KEY, version INTEGER)"},
        {"steps", 2, "INSERT INTO no_such_table VALUES (1)"},
        {NULL, 0, NULL},
    };
    const tw_migration *const lists[] = {other_v1, broken, NULL};
    tw_store *store = NULL;
    tw_err err = {{0}};
    assert_int_not_equal(tw_store_open(&f->loop, f->path, lists, &store, &err), 0);
    assert_non_null(strstr(err.msg, "migration steps 2 failed"));
    assert_non_null(strstr(err.msg, "no such table: no_such_table"));
    /* "other" went in (its own transaction); none of "steps" did. */
    assert_int_equal(schema_version(f->path, "other"), 1);
    assert_int_equal(schema_version(f->path, "steps"), -1);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='applied'"),
                     0);
    /* Fixed code then migrates from scratch. */
    const tw_migration *const fixed[] = {other_v1, steps_v3, NULL};
    tw_store_close(open_store(f, fixed));
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM applied"), 3);
}

static void test_migrations_with_a_gap_are_refused(void **state)
{
    fixture *f = *state;
    static const tw_migration gap[] = {
        {"steps", 1, "CREATE TABLE a(x)"},
        {"steps", 3, "CREATE TABLE b(x)"},
        {NULL, 0, NULL},
    };
    const tw_migration *const lists[] = {gap, NULL};
    tw_store *store = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_store_open(&f->loop, f->path, lists, &store, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "component steps are out of order: version 3 comes after 1"));
}

/* ---- refusing files ---- */

static void test_garbage_file_is_refused_as_not_a_database(void **state)
{
    fixture *f = *state;
    FILE *file = fopen(f->path, "w");
    for (int i = 0; i < 1000; i++)
        fputs("this is a log file, not a database\n", file);
    fclose(file);
    tw_store *store = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_store_open(&f->loop, f->path, only_t, &store, &err), -EBADMSG);
    assert_null(store);
    char expected[340];
    snprintf(expected, sizeof expected, "%s is not a database", f->path);
    assert_non_null(strstr(err.msg, expected));
    /* And we did not write into it. */
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 35 * 1000);
}

static void test_corrupt_database_is_refused_as_corrupt(void **state)
{
    fixture *f = *state;
    tw_store_close(open_store(f, only_t));
    /* Scribble over the schema's b-tree page (page 1 after the 100-byte
     * header), keeping the file header valid. */
    FILE *file = fopen(f->path, "r+");
    assert_non_null(file);
    fseek(file, 100, SEEK_SET);
    for (int i = 0; i < 200; i++)
        fputc(0xA5, file);
    fclose(file);
    tw_store *store = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_store_open(&f->loop, f->path, only_t, &store, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "is corrupt"));
}

static void test_missing_directory_names_the_file(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/no/such/dir/collector.db", f->dir);
    tw_store *store = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_store_open(&f->loop, path, only_t, &store, &err), -ENOENT);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "No such file or directory"));
}

/* ---- connections ---- */

typedef struct pragmas {
    long long synchronous, foreign_keys, query_only;
    char journal_mode[16];
    int done, status;
} pragmas;

static long long pragma_int(tw_db *db, const char *sql)
{
    sqlite3_stmt *stmt = tw_db_prepare(db, sql);
    return stmt && sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
}

static int read_pragmas(tw_db *db, void *arg)
{
    pragmas *p = arg;
    p->synchronous = pragma_int(db, "PRAGMA synchronous");
    p->foreign_keys = pragma_int(db, "PRAGMA foreign_keys");
    p->query_only = pragma_int(db, "PRAGMA query_only");
    sqlite3_stmt *stmt = tw_db_prepare(db, "PRAGMA journal_mode");
    if (stmt && sqlite3_step(stmt) == SQLITE_ROW)
        snprintf(p->journal_mode, sizeof p->journal_mode, "%s", sqlite3_column_text(stmt, 0));
    return 0;
}

static void pragmas_done(void *arg, int status)
{
    ((pragmas *)arg)->done++;
    ((pragmas *)arg)->status = status;
}

/* synchronous=FULL (2) is what makes a commit survive a power loss in WAL
 * mode; SIGKILL alone cannot tell it from NORMAL. (The jobs also leave their
 * statements mid-row, which the store must tidy up before it commits.) */
static void test_writer_syncs_every_commit_and_readers_are_query_only(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    pragmas w = {0}, r = {0};
    tw_store_write(store, read_pragmas, pragmas_done, &w);
    tw_store_read(store, read_pragmas, pragmas_done, &r);
    while (w.done + r.done < 2)
        uv_run(&f->loop, UV_RUN_ONCE);
    tw_store_close(store);
    assert_int_equal(w.status, 0);
    assert_int_equal(r.status, 0);
    assert_int_equal(w.synchronous, 2);
    assert_int_equal(w.foreign_keys, 1);
    assert_int_equal(w.query_only, 0);
    assert_string_equal(w.journal_mode, "wal");
    assert_int_equal(r.query_only, 1);
    assert_int_equal(r.foreign_keys, 1);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
}

/* ---- writes ---- */

enum { MANY = 3000 };

static void test_many_writes_are_grouped_and_done_in_submission_order(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    sem_t gate;
    probe blocker;
    hold_writer(store, &blocker, &gate, &completed);
    probe *probes = calloc(MANY, sizeof *probes);
    for (int i = 0; i < MANY; i++) {
        probes[i] = (probe){.id = i + 1, .completed = &completed};
        tw_store_write(store, insert_fn, probe_done, &probes[i]);
    }
    sem_post(&gate);
    run_until(f, &completed, MANY + 1);
    assert_int_equal(blocker.order, 0);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(probes[i].status, 0);
        assert_int_equal(probes[i].order, i + 1);
    }
    tw_store_stats stats;
    tw_store_get_stats(store, &stats);
    assert_int_equal(stats.write_jobs, MANY + 1);
    /* Everything queued behind the gate is grouped: one or two transactions
     * at full speed, more only if a batch outlives its time budget (under
     * valgrind), but never anywhere near one per job. */
    assert_true(stats.write_transactions >= 1);
    assert_true(stats.write_transactions * 2 < stats.write_jobs);
    assert_int_equal(stats.failed_commits, 0);
    tw_store_close(store);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t"), MANY + 1);
    free(probes);
    sem_destroy(&gate);
}

static void test_failing_job_rolls_back_only_its_own_changes(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    sem_t gate;
    probe blocker;
    hold_writer(store, &blocker, &gate, &completed);
    probe a = {.id = 1, .completed = &completed};
    probe b = {.id = 2, .result = -EINVAL, .completed = &completed};
    probe c = {.id = 3, .completed = &completed};
    tw_store_write(store, insert_fn, probe_done, &a);
    tw_store_write(store, insert_fn, probe_done, &b);
    tw_store_write(store, insert_fn, probe_done, &c);
    sem_post(&gate);
    run_until(f, &completed, 4);
    tw_store_close(store);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, -EINVAL);
    assert_int_equal(c.status, 0);
    assert_true(a.order < b.order && b.order < c.order);
    /* b ran between a and c (in the same transaction, unless the batch
     * outlived its time budget), yet only b is gone. */
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t WHERE id IN (1, 3)"), 2);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t WHERE id = 2"), 0);
    sem_destroy(&gate);
}

/* A job whose insert fails (duplicate key) and that reports it: the rest of
 * its batch is kept. */
static void test_constraint_error_in_one_job_keeps_the_others(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    sem_t gate;
    probe blocker;
    hold_writer(store, &blocker, &gate, &completed);
    probe a = {.id = 7, .completed = &completed};
    probe dup = {.id = 7, .completed = &completed};
    probe c = {.id = 8, .completed = &completed};
    tw_store_write(store, insert_fn, probe_done, &a);
    tw_store_write(store, insert_fn, probe_done, &dup);
    tw_store_write(store, insert_fn, probe_done, &c);
    sem_post(&gate);
    run_until(f, &completed, 4);
    tw_store_close(store);
    assert_int_equal(a.status, 0);
    assert_int_equal(dup.status, -EIO);
    assert_int_equal(c.status, 0);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t WHERE id IN (7, 8)"), 2);
    sem_destroy(&gate);
}

static int big_insert_fn(tw_db *db, void *arg)
{
    probe *p = arg;
    sqlite3_stmt *stmt = tw_db_prepare(db, "INSERT INTO t(id, v) VALUES (?1, zeroblob(?2))");
    sqlite3_bind_int64(stmt, 1, p->id);
    sqlite3_bind_int(stmt, 2, 4 << 20);
    return sqlite3_step(stmt) == SQLITE_DONE ? 0 : -EIO;
}

/* RLIMIT_FSIZE makes the WAL write at COMMIT fail the way a full disk does:
 * every job of the batch is told -EIO and none of their rows is kept. (At
 * full speed a, big and c share the batch; if it outlived its time budget,
 * as under valgrind, a or c may commit on its own: then it must say 0.) */
static void test_failed_commit_gives_every_job_eio_and_keeps_nothing(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    sem_t gate;
    probe blocker;
    hold_writer(store, &blocker, &gate, &completed);
    probe a = {.id = 1, .completed = &completed};
    probe big = {.id = 2, .completed = &completed};
    probe c = {.id = 3, .completed = &completed};
    tw_store_write(store, insert_fn, probe_done, &a);
    tw_store_write(store, big_insert_fn, probe_done, &big);
    tw_store_write(store, insert_fn, probe_done, &c);

    struct rlimit old;
    getrlimit(RLIMIT_FSIZE, &old);
    struct rlimit small = {.rlim_cur = 1 << 20, .rlim_max = old.rlim_max};
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    sem_post(&gate);
    run_until(f, &completed, 4);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(big.status, -EIO);
    assert_true(a.status == -EIO || a.status == 0);
    assert_true(c.status == -EIO || c.status == 0);
    tw_store_stats stats;
    tw_store_get_stats(store, &stats);
    assert_true(stats.failed_commits >= 1);

    /* The store goes on working once there is room again. */
    probe d = {.id = 4, .completed = &completed};
    tw_store_write(store, insert_fn, probe_done, &d);
    run_until(f, &completed, 5);
    assert_int_equal(d.status, 0);
    tw_store_close(store);
    assert_int_equal(a.status == 0, row_exists(f->path, a.id));
    assert_false(row_exists(f->path, big.id));
    assert_int_equal(c.status == 0, row_exists(f->path, c.id));
    assert_true(row_exists(f->path, d.id));
    sem_destroy(&gate);
}

static int huge_insert_fn(tw_db *db, void *arg)
{
    probe *p = arg;
    sqlite3_stmt *stmt = tw_db_prepare(db, "INSERT INTO t(id, v) VALUES (?1, zeroblob(?2))");
    sqlite3_bind_int64(stmt, 1, p->id);
    sqlite3_bind_int(stmt, 2, 48 << 20); /* beyond the page cache: spills to the WAL */
    return sqlite3_step(stmt) == SQLITE_DONE ? 0 : -EIO;
}

/* A write that fails in the middle of a transaction (the page cache spills
 * into a WAL that cannot grow), whatever SQLite then rolls back: a job is
 * told 0 exactly when its row is in the database. */
static void test_io_error_mid_transaction_never_acknowledges_a_lost_row(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    sem_t gate;
    probe blocker;
    hold_writer(store, &blocker, &gate, &completed);
    probe jobs[5];
    for (int i = 0; i < 5; i++) {
        jobs[i] = (probe){.id = i + 1, .completed = &completed};
        tw_store_write(store, i == 2 ? huge_insert_fn : insert_fn, probe_done, &jobs[i]);
    }
    struct rlimit old;
    getrlimit(RLIMIT_FSIZE, &old);
    struct rlimit small = {.rlim_cur = 4 << 20, .rlim_max = old.rlim_max};
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    sem_post(&gate);
    run_until(f, &completed, 6);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    tw_store_close(store);
    assert_int_not_equal(jobs[2].status, 0);
    for (int i = 0; i < 5; i++) {
        print_message("job %d: status %d\n", i + 1, jobs[i].status);
        assert_int_equal(jobs[i].status == 0, row_exists(f->path, jobs[i].id));
    }
    assert_int_equal(blocker.status == 0, row_exists(f->path, blocker.id));
    sem_destroy(&gate);
}

static int slow_insert_fn(tw_db *db, void *arg)
{
    usleep(20 * 1000);
    return insert_fn(db, arg);
}

/* Ten jobs of 20 ms each do not wait for one another in one 200 ms
 * transaction: a batch stops taking jobs after its time budget. */
static void test_slow_jobs_are_split_into_several_transactions(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    sem_t gate;
    probe blocker;
    hold_writer(store, &blocker, &gate, &completed);
    probe jobs[10];
    for (int i = 0; i < 10; i++) {
        jobs[i] = (probe){.id = i + 1, .completed = &completed};
        tw_store_write(store, slow_insert_fn, probe_done, &jobs[i]);
    }
    sem_post(&gate);
    run_until(f, &completed, 11);
    tw_store_stats stats;
    tw_store_get_stats(store, &stats);
    tw_store_close(store);
    assert_true(stats.write_transactions >= 3);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t"), 11);
    sem_destroy(&gate);
}

/* ---- reads ---- */

static int count_fn(tw_db *db, void *arg)
{
    probe *p = arg;
    sqlite3_stmt *stmt = tw_db_prepare(db, "SELECT count(*) FROM t");
    if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
        return -EIO;
    p->seen = sqlite3_column_int64(stmt, 0);
    return 0;
}

/* A write whose done callback queues a read; the write probe comes first
 * so that the chain is also the write job's probe. */
typedef struct chain {
    probe write, read;
    tw_store *store;
} chain;

static void chain_write_done(void *arg, int status)
{
    chain *c = arg;
    probe_done(&c->write, status);
    tw_store_read(c->store, count_fn, probe_done, &c->read);
}

static void test_reads_see_committed_writes(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    chain c = {.store = store,
               .write = {.id = 1, .completed = &completed},
               .read = {.seen = -1, .completed = &completed}};
    probe before = {.seen = -1, .completed = &completed};
    tw_store_read(store, count_fn, probe_done, &before);
    run_until(f, &completed, 1);
    assert_int_equal(before.seen, 0);
    tw_store_write(store, insert_fn, chain_write_done, &c);
    run_until(f, &completed, 3);
    assert_int_equal(c.write.status, 0);
    assert_int_equal(c.read.status, 0);
    assert_int_equal(c.read.seen, 1);
    tw_store_close(store);
}

static void test_read_jobs_cannot_write(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    probe p = {.id = 5, .completed = &completed};
    tw_store_read(store, insert_fn, probe_done, &p);
    run_until(f, &completed, 1);
    assert_int_equal(p.status, -EIO);
    tw_store_close(store);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t"), 0);
}

/* ---- closing ---- */

static void test_close_runs_every_pending_job_and_leaves_no_wal(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    enum { WRITES = 500, READS = 50 };
    probe *probes = calloc(WRITES + READS, sizeof *probes);
    for (int i = 0; i < WRITES + READS; i++) {
        probes[i] = (probe){.id = i + 1, .completed = &completed};
        if (i % 11 == 10 && i / 11 < READS)
            tw_store_read(store, count_fn, probe_done, &probes[i]);
        else
            tw_store_write(store, insert_fn, probe_done, &probes[i]);
    }
    tw_store_close(store); /* without running the loop first */
    assert_int_equal(completed, WRITES + READS);
    for (int i = 0; i < WRITES + READS; i++)
        assert_int_equal(probes[i].status, 0);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM t"), WRITES);
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    struct stat st;
    assert_true(stat(wal, &st) != 0 || st.st_size == 0);
    free(probes);
}

/* A done callback that queues the next stage while the store is closing:
 * the next stage still runs. */
static void test_close_runs_jobs_queued_by_done_callbacks(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    chain c = {.store = store,
               .write = {.id = 1, .completed = &completed},
               .read = {.seen = -1, .completed = &completed}};
    tw_store_write(store, insert_fn, chain_write_done, &c);
    tw_store_close(store);
    assert_int_equal(completed, 2);
    assert_int_equal(c.read.seen, 1);
}

/* ---- the statement cache ---- */

static const char select_one[] = "SELECT ?1";
static const char select_one_again[] = "SELECT ?1"; /* same text, another pointer */

typedef struct cache_probe {
    sqlite3_stmt *first, *second, *other;
    int after_rebind_type;
    sqlite3_stmt *bad;
    char bad_error[200];
    int done;
} cache_probe;

static int cache_fn(tw_db *db, void *arg)
{
    cache_probe *p = arg;
    p->first = tw_db_prepare(db, select_one);
    sqlite3_bind_int(p->first, 1, 42);
    sqlite3_step(p->first); /* left mid-row on purpose */
    p->second = tw_db_prepare(db, select_one);
    /* Returned reset with bindings cleared: ?1 is NULL again. */
    if (sqlite3_step(p->second) == SQLITE_ROW)
        p->after_rebind_type = sqlite3_column_type(p->second, 0);
    p->other = tw_db_prepare(db, select_one_again);
    p->bad = tw_db_prepare(db, "SELEKT nonsense");
    snprintf(p->bad_error, sizeof p->bad_error, "%s", tw_db_error(db));
    return 0;
}

static void cache_done(void *arg, int status)
{
    ((cache_probe *)arg)->done++;
}

static void test_statement_cache_keys_on_the_sql_pointer(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    cache_probe w = {0}, again = {0};
    tw_store_write(store, cache_fn, cache_done, &w);
    tw_store_write(store, cache_fn, cache_done, &again);
    while (w.done + again.done < 2)
        uv_run(&f->loop, UV_RUN_ONCE);
    tw_store_close(store);
    assert_non_null(w.first);
    assert_ptr_equal(w.first, w.second);
    assert_ptr_equal(w.first, again.first); /* kept across jobs */
    assert_int_equal(w.after_rebind_type, SQLITE_NULL);
    assert_non_null(w.other);
    assert_ptr_not_equal(w.other, w.first);
    assert_null(w.bad);
    assert_non_null(strstr(w.bad_error, "syntax error"));
}

enum { DISTINCT = 200 };

typedef struct distinct_sql {
    char texts[DISTINCT][24]; /* one buffer each: distinct keys */
    sqlite3_stmt *seen[DISTINCT];
    int status;
} distinct_sql;

/* More distinct statements than the initial table holds: it must grow and
 * still find every one. */
static int many_statements_fn(tw_db *db, void *arg)
{
    distinct_sql *d = arg;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < DISTINCT; i++) {
            sqlite3_stmt *stmt = tw_db_prepare(db, d->texts[i]);
            if (stmt == NULL || (round == 1 && stmt != d->seen[i]))
                return -EINVAL;
            d->seen[i] = stmt;
        }
    return 0;
}

static void distinct_done(void *arg, int status)
{
    ((distinct_sql *)arg)->status = status;
}

static void test_statement_cache_grows_and_keeps_every_statement(void **state)
{
    fixture *f = *state;
    tw_store *store = open_store(f, only_t);
    distinct_sql *d = calloc(1, sizeof *d);
    for (int i = 0; i < DISTINCT; i++)
        snprintf(d->texts[i], sizeof d->texts[i], "SELECT %d", i);
    d->status = 1;
    tw_store_read(store, many_statements_fn, distinct_done, d);
    tw_store_close(store); /* drains: the read has run */
    assert_int_equal(d->status, 0);
    for (int i = 0; i < DISTINCT; i++)
        assert_non_null(d->seen[i]);
    free(d);
}

/* ---- durability ---- */

static void kill_self_when_acknowledged(void *arg, int status)
{
    /* The agent would now drop its copy; so does this process, abruptly. */
    if (status == 0)
        kill(getpid(), SIGKILL);
    _exit(3);
}

static void test_acknowledged_write_survives_sigkill(void **state)
{
    fixture *f = *state;
    tw_store_close(open_store(f, only_t));
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        tw_store *store = NULL;
        tw_err err;
        if (tw_store_open(&loop, f->path, only_t, &store, &err) != 0)
            _exit(2);
        static probe rows[50];
        static int completed;
        for (int i = 0; i < 50; i++) {
            rows[i] = (probe){.id = 100 + i, .completed = &completed};
            tw_store_write(store, insert_fn, i == 49 ? kill_self_when_acknowledged : NULL,
                           &rows[i]);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(4);
    }
    int wstatus = 0;
    assert_int_equal(waitpid(child, &wstatus, 0), child);
    assert_true(WIFSIGNALED(wstatus));
    assert_int_equal(WTERMSIG(wstatus), SIGKILL);
    tw_store *store = open_store(f, only_t);
    int completed = 0;
    probe count = {.seen = -1, .completed = &completed};
    tw_store_read(store, count_fn, probe_done, &count);
    run_until(f, &completed, 1);
    tw_store_close(store);
    assert_int_equal(count.seen, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_migrations_apply_once_in_order_and_upgrade_on_reopen),
        T(test_database_of_a_newer_collector_is_refused),
        T(test_failed_migration_leaves_its_component_untouched),
        T(test_migrations_with_a_gap_are_refused),
        T(test_garbage_file_is_refused_as_not_a_database),
        T(test_corrupt_database_is_refused_as_corrupt),
        T(test_missing_directory_names_the_file),
        T(test_writer_syncs_every_commit_and_readers_are_query_only),
        T(test_many_writes_are_grouped_and_done_in_submission_order),
        T(test_failing_job_rolls_back_only_its_own_changes),
        T(test_constraint_error_in_one_job_keeps_the_others),
        T(test_failed_commit_gives_every_job_eio_and_keeps_nothing),
        T(test_io_error_mid_transaction_never_acknowledges_a_lost_row),
        T(test_slow_jobs_are_split_into_several_transactions),
        T(test_reads_see_committed_writes),
        T(test_read_jobs_cannot_write),
        T(test_close_runs_every_pending_job_and_leaves_no_wal),
        T(test_close_runs_jobs_queued_by_done_callbacks),
        T(test_statement_cache_keys_on_the_sql_pointer),
        T(test_statement_cache_grows_and_keeps_every_statement),
        T(test_acknowledged_write_survives_sigkill),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
