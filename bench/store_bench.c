/* store_bench.c — how many small jobs per second the store runs.
 *
 *   store_bench [JOBS] [DIR]      (defaults: 100000 jobs, a temporary directory)
 *
 * Three runs on a fresh database: JOBS single-row insert jobs submitted all
 * at once from the loop (the group commit's best case); JOBS inserts with at
 * most 64 in flight (64 concurrent requests, each submitting its next write
 * from its done callback); and JOBS point reads with 64 in flight. Prints
 * jobs/s, transactions and jobs per transaction. Not a test: nothing is
 * asserted about the figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "store.h"

static const tw_migration bench_tables[] = {
    {"bench", 1,
     "CREATE TABLE event(id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, "
     "time_ms INTEGER NOT NULL, message TEXT NOT NULL)"},
    {NULL, 0, NULL},
};
static const tw_migration *const bench_lists[] = {bench_tables, NULL};

typedef struct bench bench;

typedef struct job_arg {
    bench *bench;
    long id;
} job_arg;

struct bench {
    tw_store *store;
    long jobs, submitted, completed, failed, window;
    long id_base; /* inserts: ids above the previous run's */
    tw_store_fn fn;
    job_arg *args; /* one per job */
};

static const char message[] = "127.0.0.1 - - [21/Nov/2026:22:00:00 +0000] \"GET /index.html "
                              "HTTP/1.1\" 200 512 \"-\" \"curl/7.88\"";

static int insert_fn(tw_db *db, void *arg)
{
    long id = ((job_arg *)arg)->id;
    sqlite3_stmt *stmt = tw_db_prepare(db, "INSERT INTO event(id, stream, time_ms, message) "
                                           "VALUES (?1, ?2, ?3, ?4)");
    if (stmt == NULL)
        return -EIO;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, id % 16);
    sqlite3_bind_int64(stmt, 3, 1795000000000LL + id);
    sqlite3_bind_text(stmt, 4, message, sizeof message - 1, SQLITE_STATIC);
    return sqlite3_step(stmt) == SQLITE_DONE ? 0 : -EIO;
}

static int read_fn(tw_db *db, void *arg)
{
    long id = ((job_arg *)arg)->id;
    sqlite3_stmt *stmt = tw_db_prepare(db, "SELECT message FROM event WHERE id = ?1");
    if (stmt == NULL)
        return -EIO;
    sqlite3_bind_int64(stmt, 1, id);
    return sqlite3_step(stmt) == SQLITE_ROW ? 0 : -ENOENT;
}

static void job_done(void *arg, int status);

/* Inserts of the second run get ids above the first run's; reads pick ids
 * of the first run in a scattered order. */
static void submit_next(bench *b)
{
    long n = b->submitted++;
    job_arg *arg = &b->args[n];
    arg->bench = b;
    arg->id = b->fn == read_fn ? 1 + (n * 7919) % b->jobs : b->id_base + n + 1;
    if (b->fn == insert_fn)
        tw_store_write(b->store, b->fn, job_done, arg);
    else
        tw_store_read(b->store, b->fn, job_done, arg);
}

static void job_done(void *arg, int status)
{
    bench *b = ((job_arg *)arg)->bench;
    b->completed++;
    if (status != 0)
        b->failed++;
    if (b->window > 0 && b->submitted < b->jobs)
        submit_next(b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(uv_loop_t *loop, bench *b, const char *what)
{
    tw_store_stats before, after;
    tw_store_get_stats(b->store, &before);
    b->args = calloc((size_t)b->jobs, sizeof *b->args);
    double start = now_s();
    long first = b->window > 0 ? b->window : b->jobs;
    for (long i = 0; i < first && b->submitted < b->jobs; i++)
        submit_next(b);
    while (b->completed < b->jobs)
        uv_run(loop, UV_RUN_ONCE);
    double elapsed = now_s() - start;
    tw_store_get_stats(b->store, &after);
    unsigned long long transactions = after.write_transactions - before.write_transactions;
    printf("%-34s %8ld jobs in %6.3f s = %9.0f jobs/s", what, b->jobs, elapsed,
           (double)b->jobs / elapsed);
    if (transactions > 0)
        printf(", %llu transactions (%.1f jobs each)", transactions,
               (double)(after.write_jobs - before.write_jobs) / (double)transactions);
    printf("%s\n", b->failed ? " FAILURES" : "");
    free(b->args);
}

int main(int argc, char **argv)
{
    long jobs = argc > 1 ? atol(argv[1]) : 100000;
    char dir[256];
    tw_err dir_err;
    const char *base = argc > 2 ? argv[2] : dir;
    if (argc <= 2 && tw_make_temp_dir(NULL, "tw-store-bench", dir, sizeof dir, &dir_err) != 0) {
        fprintf(stderr, "store_bench: %s\n", dir_err.msg);
        return 1;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/collector.db", base);
    unlink(path);

    uv_loop_t loop;
    uv_loop_init(&loop);
    tw_store *store = NULL;
    tw_err err;
    if (tw_store_open(&loop, path, bench_lists, &store, &err) != 0) {
        fprintf(stderr, "store_bench: %s\n", err.msg);
        return 1;
    }
    bench all = {.store = store, .jobs = jobs, .fn = insert_fn};
    run(&loop, &all, "insert, all submitted at once:");
    bench windowed = {.store = store, .jobs = jobs, .fn = insert_fn, .window = 64, .id_base = jobs};
    run(&loop, &windowed, "insert, 64 in flight:");
    bench reads = {.store = store, .jobs = jobs, .fn = read_fn, .window = 64};
    run(&loop, &reads, "point read, 64 in flight:");
    double start = now_s();
    tw_store_close(store);
    printf("close (checkpoint, truncate WAL):  %.3f s\n", now_s() - start);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    unlink(path);
    if (argc <= 2)
        rmdir(base);
    return all.failed || windowed.failed || reads.failed;
}
