/* store_schema.c — what the store does once, while opening the database:
 * per-component migrations (see store.h) and the sentences that explain a
 * database we cannot open or migrate. Internal to the store
 * (store_schema.h); store.c owns the connection it works on.
 */
#include "store_schema.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"

/* ---- errors ---- */

static int errno_of_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return 0;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return -EACCES;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return -EBADMSG;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    default:
        return -EIO;
    }
}

int tw_store_sqlite_error(tw_err *err, const char *path, sqlite3 *handle, int rc, const char *doing)
{
    const char *message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    int code = errno_of_sqlite(rc);
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
        return tw_err_set(err, code,
                          "%s is not a database: SQLite says \"%s\" (move the file away or "
                          "point data_dir elsewhere)",
                          path, message);
    case SQLITE_CORRUPT:
        return tw_err_set(err, code, "%s is corrupt: SQLite says \"%s\" while %s", path, message,
                          doing);
    case SQLITE_FULL:
        return tw_err_set(err, code, "%s: disk full while %s (%s)", path, doing, message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return tw_err_set(err, code,
                          "%s is locked by another process (another trailwatch-collector "
                          "with the same data_dir?) while %s: %s",
                          path, doing, message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return tw_err_set(err, code, "%s: cannot write while %s: %s", path, doing, message);
    case SQLITE_CANTOPEN: {
        int sys = handle ? sqlite3_system_errno(handle) : 0;
        if (sys != 0)
            code = -sys;
        return tw_err_set(err, code, "%s: cannot open: %s (%s)", path, message,
                          sys ? strerror(sys) : "no details");
    }
    default:
        return tw_err_set(err, code, "%s: %s while %s", path, message, doing);
    }
}

/* ---- migrations ---- */

static bool first_of_component(const tw_migration *const *lists, size_t list,
                               const tw_migration *entry)
{
    for (size_t l = 0; l <= list; l++)
        for (const tw_migration *m = lists[l]; m->component && m != entry; m++)
            if (strcmp(m->component, entry->component) == 0)
                return false;
    return true;
}

/* The highest version the code knows for component, after checking that its
 * versions run 1, 2, 3 ... in list order (a gap is a programming error that
 * would otherwise skip a migration forever). */
static int known_version(const tw_migration *const *lists, const char *component, int *out,
                         tw_err *err)
{
    int known = 0;
    for (size_t l = 0; lists[l]; l++)
        for (const tw_migration *m = lists[l]; m->component; m++) {
            if (strcmp(m->component, component) != 0)
                continue;
            if (m->version != known + 1)
                return tw_err_set(err, -EINVAL,
                                  "the migrations of component %s are out of order: version %d "
                                  "comes after %d",
                                  component, m->version, known);
            known = m->version;
        }
    *out = known;
    return 0;
}

static int recorded_version(sqlite3 *db, const char *path, const char *component, int *out,
                            tw_err *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT version FROM schema_versions WHERE component = ?1", -1,
                                &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, component, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    *out = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tw_store_sqlite_error(err, path, db, rc, "reading schema_versions");
    return 0;
}

static int record_version(sqlite3 *db, const char *component, int version)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO schema_versions(component, version) VALUES (?1, ?2) "
                                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, component, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 2, version);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Applies component's missing versions in one transaction: a failing one
 * leaves the component as it was, so the next start retries cleanly. */
static int migrate_component(sqlite3 *db, const char *path, const tw_migration *const *lists,
                             const char *component, tw_err *err)
{
    int known = 0, recorded = 0;
    int r = known_version(lists, component, &known, err);
    if (r == 0)
        r = recorded_version(db, path, component, &recorded, err);
    if (r != 0)
        return r;
    if (recorded > known)
        return tw_err_set(err, -ENOTSUP,
                          "%s: the database was written by a newer trailwatch-collector "
                          "(component %s version %d, this one knows up to %d)",
                          path, component, recorded, known);
    if (recorded == known)
        return 0;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return tw_store_sqlite_error(err, path, db, rc, "starting a migration");
    for (size_t l = 0; lists[l]; l++)
        for (const tw_migration *m = lists[l]; m->component; m++) {
            if (strcmp(m->component, component) != 0 || m->version <= recorded)
                continue;
            rc = sqlite3_exec(db, m->sql, NULL, NULL, NULL);
            if (rc == SQLITE_OK)
                continue;
            r = tw_store_sqlite_error(err, path, db, rc, "migrating");
            tw_err_prefix(err, "migration %s %d failed", component, m->version);
            if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
    rc = record_version(db, component, known);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = tw_store_sqlite_error(err, path, db, rc, "recording a migration");
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    if (recorded > 0)
        tw_info("store: upgraded %s from version %d to %d", component, recorded, known);
    return 0;
}

int tw_store_migrate(sqlite3 *db, const char *path, const tw_migration *const *lists,
                     tw_err *err)
{
    int rc = sqlite3_exec(db,
                          "CREATE TABLE IF NOT EXISTS schema_versions("
                          "component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return tw_store_sqlite_error(err, path, db, rc, "creating schema_versions");
    for (size_t l = 0; lists != NULL && lists[l] != NULL; l++)
        for (const tw_migration *m = lists[l]; m->component; m++) {
            if (!first_of_component(lists, l, m))
                continue;
            int r = migrate_component(db, path, lists, m->component, err);
            if (r != 0)
                return r;
        }
    return 0;
}

