/* store_schema.h — internal to the store (store.c): migrating the database
 * while it opens, and turning SQLite failures into sentences.
 */
#ifndef TW_COLLECTOR_STORE_SCHEMA_H
#define TW_COLLECTOR_STORE_SCHEMA_H

#include <sqlite3.h>

#include "err.h"
#include "store.h"

/* Creates schema_versions if needed, then applies, for each component of
 * the lists (NULL-terminated, each ended by component NULL), the versions
 * above the recorded one, in order, one transaction per component. Refuses
 * (-ENOTSUP) a database whose recorded version of a component is above what
 * the lists know, and (-EINVAL) lists whose versions do not run 1, 2, 3...
 * db is the writer's connection, outside any transaction. */
int tw_store_migrate(sqlite3 *db, const char *path, const tw_migration *const *lists,
                     tw_err *err);

/* Fills err with a sentence for SQLite result rc on the database at path
 * ("... is not a database", "... is corrupt", "disk full while ..."), doing
 * naming the step ("switching to WAL mode"), and returns the matching
 * negative errno. handle may be NULL (the message then comes from rc). */
int tw_store_sqlite_error(tw_err *err, const char *path, sqlite3 *handle, int rc,
                          const char *doing);

#endif
