/* store.h — the collector's SQLite database: one file in data_dir, WAL mode.
 *
 * All SQL runs off the HTTP loop. Writes go to one writer thread that takes
 * every job waiting in its queue and runs them in one transaction (group
 * commit: one fsync for many requests, which is what makes hundreds of
 * thousands of log events per second possible); each job runs inside its own
 * SAVEPOINT, so a job that fails is rolled back alone. Reads go to a small
 * pool of reader threads with their own connections, which WAL lets run
 * beside the writer. When a job is done, its done callback runs on the loop.
 *
 * Schema: each component (store core, logs, metrics, cloudtrail, ...) brings
 * an ordered list of migrations; tw_store_open() applies the missing ones in
 * one transaction per component and records them in schema_versions, so
 * opening a database written by an older collector upgrades it, and one
 * written by a newer collector is refused with a clear message.
 *
 * Ownership: the store owns its connections and threads. Job arguments
 * belong to the caller; the store only passes them along. Statements from
 * tw_db_prepare() belong to the connection's cache (never finalize them).
 */
#ifndef TW_COLLECTOR_STORE_H
#define TW_COLLECTOR_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "err.h"

typedef struct tw_store tw_store;
typedef struct tw_db tw_db; /* one connection, used by one thread at a time */

typedef struct tw_migration {
    const char *component; /* "logs" */
    int version;           /* 1, 2, 3 ... in order, per component */
    const char *sql;       /* one or more statements */
} tw_migration;

/* Opens (creating) path with every component's migrations applied.
 * migration_lists is a NULL-terminated array of arrays, each ended by an
 * entry with component NULL. Returns 0, or a negative errno with a sentence
 * in err: -EBADMSG (not a database, or corrupt), -ENOTSUP (written by a
 * newer collector, or no WAL on this file system), -EINVAL (a component's
 * versions do not run 1, 2, 3...), -EBUSY (locked by another process),
 * -ENOSPC, -ENOENT/-EACCES (cannot create or open the file), -EIO. */
int tw_store_open(uv_loop_t *loop, const char *path, const tw_migration *const *migration_lists,
                  tw_store **out, tw_err *err);

/* A job: runs on a store thread. Return 0 to keep a write job's changes, or
 * a negative errno to roll them back (the job's savepoint only). */
typedef int (*tw_store_fn)(tw_db *db, void *arg);
/* Runs on the loop afterwards. status: the job's return value, or -EIO when
 * the transaction could not be committed (disk full, I/O error): the job's
 * changes are then NOT in the database. */
typedef void (*tw_store_done)(void *arg, int status);

/* Loop thread only. done may be NULL. Write jobs' done callbacks run in
 * submission order. A read job runs in one read transaction (all its
 * statements see the same committed snapshot) on a query_only connection;
 * reads' done callbacks run as each read finishes, so a slow read does not
 * hold back the callbacks of faster reads submitted after it. */
void tw_store_write(tw_store *store, tw_store_fn fn, tw_store_done done, void *arg);
void tw_store_read(tw_store *store, tw_store_fn fn, tw_store_done done, void *arg);

/* Finishes every queued job (their done callbacks run), then closes the
 * connections and joins the threads. Call from the loop thread; it runs the
 * store's done callbacks itself while draining (not through uv_run(), so it
 * may be called from a loop callback such as a signal handler), and jobs
 * that those callbacks queue meanwhile run too. Not from inside a store done
 * callback. The store's uv_async_t is freed by the loop's next iteration
 * (run the loop once more before uv_loop_close()). */
void tw_store_close(tw_store *store);

/* For jobs: a statement for sql from this connection's cache, reset and with
 * bindings cleared. sql must be a string literal (the cache keys on the
 * pointer). Returns NULL after logging the SQLite error (also when sql holds
 * more than one statement, or the text at that pointer changed). The store
 * resets every statement a job got from here when the job ends, so a job may
 * leave a statement mid-row. */
sqlite3_stmt *tw_db_prepare(tw_db *db, const char *sql);
sqlite3 *tw_db_handle(tw_db *db);
/* The last SQLite error of this connection, for messages. */
const char *tw_db_error(tw_db *db);

/* Statistics for self-monitoring and benchmarks. */
typedef struct tw_store_stats {
    unsigned long long write_jobs, write_transactions, read_jobs, failed_commits;
} tw_store_stats;
void tw_store_get_stats(const tw_store *store, tw_store_stats *out);

#endif
