/* logs_db.c — the CloudWatch Logs tables and their queries (see logs_db.h).
 * Only SQL lives here; every function runs inside a store job. */
#include "logs_db.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

const tw_migration tw_logs_migrations[] = {
    {"logs", 1,
     "CREATE TABLE log_groups ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  region TEXT NOT NULL,"
     "  name TEXT NOT NULL,"
     "  creation_time INTEGER NOT NULL,"
     "  retention_days INTEGER," /* NULL: never expire */
     "  stored_bytes INTEGER NOT NULL DEFAULT 0,"
     "  kms_key_id TEXT,"
     "  log_group_class TEXT NOT NULL DEFAULT 'STANDARD',"
     "  UNIQUE (region, name));"
     "CREATE TABLE log_group_tags ("
     "  group_id INTEGER NOT NULL,"
     "  key TEXT NOT NULL,"
     "  value TEXT NOT NULL,"
     "  PRIMARY KEY (group_id, key)) WITHOUT ROWID;"
     "CREATE TABLE log_streams ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  group_id INTEGER NOT NULL,"
     "  name TEXT NOT NULL,"
     "  creation_time INTEGER NOT NULL,"
     "  first_event INTEGER,"                   /* NULL until the first event */
     "  last_event INTEGER NOT NULL DEFAULT 0," /* orderBy LastEventTime key */
     "  last_ingestion INTEGER,"
     "  batches INTEGER NOT NULL DEFAULT 0,"
     "  UNIQUE (group_id, name));"
     "CREATE INDEX log_streams_by_last_event ON log_streams (group_id, last_event);"
     /* The rowid is the event id: arrival order, so (timestamp, id) is the
      * order AWS returns events in. Both indexes end with the rowid, so
      * range scans come out in that order without sorting. */
     "CREATE TABLE log_events ("
     "  id INTEGER PRIMARY KEY,"
     "  group_id INTEGER NOT NULL,"
     "  stream_id INTEGER NOT NULL,"
     "  timestamp INTEGER NOT NULL,"
     "  ingestion_time INTEGER NOT NULL,"
     "  message TEXT NOT NULL);"
     "CREATE INDEX log_events_by_stream ON log_events (stream_id, timestamp);"
     "CREATE INDEX log_events_by_group ON log_events (group_id, timestamp);"
     "CREATE TABLE log_pending_deletes ("
     "  kind TEXT NOT NULL," /* 'group' or 'stream' */
     "  owner_id INTEGER NOT NULL,"
     "  group_id INTEGER NOT NULL,"
     "  PRIMARY KEY (kind, owner_id)) WITHOUT ROWID;"},
    {NULL, 0, NULL},
};

/* Events removed at once by a delete; the rest wait for the sweep, so one
 * DeleteLogGroup of a huge group never holds the writer for seconds. */
#define DELETE_CHUNK 20000

/* ---- small helpers ---- */

static int sql_failed(tw_db *db, const char *what)
{
    tw_error("logs store: %s: %s", what, tw_db_error(db));
    return -EIO;
}

static int step_done(tw_db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_failed(db, what);
}

static void bind_text(sqlite3_stmt *st, int index, const char *text)
{
    if (text)
        sqlite3_bind_text(st, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, index);
}

static const char *column_text(sqlite3_stmt *st, int column)
{
    const unsigned char *text = sqlite3_column_text(st, column);
    return text ? (const char *)text : "";
}

static void set_int(json_t *obj, const char *key, int64_t value)
{
    json_object_set_new(obj, key, json_integer(value));
}

/* ---- groups ---- */

int tw_logs_db_group_find(tw_db *db, const char *region, const char *name, tw_logs_group *out)
{
    sqlite3_stmt *st = tw_db_prepare(
        db,
        "SELECT id, coalesce(retention_days, 0) FROM log_groups WHERE region = ?1 AND name = ?2");
    if (!st)
        return -EIO;
    bind_text(st, 1, region);
    bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->retention_days = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -ENOENT : sql_failed(db, "finding a log group");
}

static int tag_put(tw_db *db, int64_t group_id, const char *key, const char *value)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT OR REPLACE INTO log_group_tags (group_id, key, value) VALUES (?1, ?2, ?3)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    bind_text(st, 2, key);
    bind_text(st, 3, value);
    return step_done(db, st, "tagging a log group");
}

int tw_logs_db_group_create(tw_db *db, const char *region, const char *name, int64_t now_ms,
                            const char *kms_key_id, const char *log_group_class, const json_t *tags)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT INTO log_groups (region, name, creation_time, kms_key_id, log_group_class) "
            "VALUES (?1, ?2, ?3, ?4, coalesce(?5, 'STANDARD'))");
    if (!st)
        return -EIO;
    bind_text(st, 1, region);
    bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, now_ms);
    bind_text(st, 4, kms_key_id);
    bind_text(st, 5, log_group_class);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return -EEXIST;
    if (rc != SQLITE_DONE)
        return sql_failed(db, "creating a log group");
    int64_t group_id = sqlite3_last_insert_rowid(tw_db_handle(db));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)tags, key, value)
    {
        int err = tag_put(db, group_id, key, json_string_value(value));
        if (err < 0)
            return err;
    }
    return 0;
}

/* Deletes up to budget events of a group or stream (older than cutoff for
 * retention); *bytes gets their message bytes. */
typedef enum chunk_kind { CHUNK_GROUP, CHUNK_STREAM, CHUNK_EXPIRED } chunk_kind;

static int delete_chunk(tw_db *db, chunk_kind kind, int64_t owner_id, int64_t cutoff, size_t budget,
                        size_t *deleted, int64_t *bytes)
{
    sqlite3_stmt *st;
    if (kind == CHUNK_GROUP)
        st = tw_db_prepare(db,
                           "DELETE FROM log_events WHERE id IN (SELECT id FROM log_events "
                           "WHERE group_id = ?1 LIMIT ?2) RETURNING length(CAST(message AS BLOB))");
    else if (kind == CHUNK_STREAM)
        st = tw_db_prepare(
            db, "DELETE FROM log_events WHERE id IN (SELECT id FROM log_events "
                "WHERE stream_id = ?1 LIMIT ?2) RETURNING length(CAST(message AS BLOB))");
    else
        st = tw_db_prepare(db, "DELETE FROM log_events WHERE id IN (SELECT id FROM log_events "
                               "WHERE group_id = ?1 AND timestamp < ?3 LIMIT ?2) "
                               "RETURNING length(CAST(message AS BLOB))");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, owner_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)budget);
    if (kind == CHUNK_EXPIRED)
        sqlite3_bind_int64(st, 3, cutoff);
    *deleted = 0;
    *bytes = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        (*deleted)++;
        *bytes += sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_failed(db, "deleting log events");
}

static int subtract_bytes(tw_db *db, int64_t group_id, int64_t bytes)
{
    if (bytes == 0)
        return 0;
    sqlite3_stmt *st = tw_db_prepare(
        db, "UPDATE log_groups SET stored_bytes = max(0, stored_bytes - ?2) WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, bytes);
    return step_done(db, st, "updating storedBytes");
}

static int pending_add(tw_db *db, const char *kind, int64_t owner_id, int64_t group_id)
{
    sqlite3_stmt *st = tw_db_prepare(
        db,
        "INSERT OR IGNORE INTO log_pending_deletes (kind, owner_id, group_id) VALUES (?1, ?2, ?3)");
    if (!st)
        return -EIO;
    bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, owner_id);
    sqlite3_bind_int64(st, 3, group_id);
    return step_done(db, st, "queueing a deletion");
}

static int delete_by_id(tw_db *db, sqlite3_stmt *st, int64_t id, const char *what)
{
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return step_done(db, st, what);
}

int tw_logs_db_group_delete(tw_db *db, const char *region, const char *name)
{
    tw_logs_group group;
    int err = tw_logs_db_group_find(db, region, name, &group);
    if (err < 0)
        return err;
    if ((err = delete_by_id(db, tw_db_prepare(db, "DELETE FROM log_group_tags WHERE group_id = ?1"),
                            group.id, "deleting tags"))
            < 0
        || (err = delete_by_id(db, tw_db_prepare(db, "DELETE FROM log_streams WHERE group_id = ?1"),
                               group.id, "deleting log streams"))
               < 0
        || (err = delete_by_id(db, tw_db_prepare(db, "DELETE FROM log_groups WHERE id = ?1"),
                               group.id, "deleting a log group"))
               < 0)
        return err;
    size_t deleted;
    int64_t bytes;
    if ((err = delete_chunk(db, CHUNK_GROUP, group.id, 0, DELETE_CHUNK, &deleted, &bytes)) < 0)
        return err;
    return deleted == DELETE_CHUNK ? pending_add(db, "group", group.id, group.id) : 0;
}

int tw_logs_db_group_set_retention(tw_db *db, int64_t group_id, int64_t days)
{
    sqlite3_stmt *st = tw_db_prepare(db, "UPDATE log_groups SET retention_days = ?2 WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    if (days > 0)
        sqlite3_bind_int64(st, 2, days);
    else
        sqlite3_bind_null(st, 2);
    return step_done(db, st, "setting a retention policy");
}

static json_t *group_object(sqlite3_stmt *st, const tw_logs_scope *scope)
{
    const char *name = column_text(st, 0);
    json_t *group = json_object();
    json_object_set_new(group, "logGroupName", json_string(name));
    set_int(group, "creationTime", sqlite3_column_int64(st, 1));
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        set_int(group, "retentionInDays", sqlite3_column_int64(st, 2));
    set_int(group, "metricFilterCount", 0);
    tw_buf arn = TW_BUF_INIT;
    tw_logs_group_arn(&arn, scope->region, scope->account_id, name, true);
    json_object_set_new(group, "arn", json_stringn(arn.data, arn.len));
    set_int(group, "storedBytes", sqlite3_column_int64(st, 3));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        json_object_set_new(group, "kmsKeyId", json_string(column_text(st, 4)));
    json_object_set_new(group, "logGroupClass", json_string(column_text(st, 5)));
    /* The newer model's logGroupArn is the ARN without the ":*". */
    json_object_set_new(group, "logGroupArn", json_stringn(arn.data, arn.len - 2));
    tw_buf_free(&arn);
    return group;
}

int tw_logs_db_groups_describe(tw_db *db, const tw_logs_scope *scope,
                               const tw_logs_group_query *query, json_t *groups, bool *more)
{
    /* Names are ASCII from [.-_/#A-Za-z0-9], all below 0x7f: the prefix
     * range is [prefix, prefix with its last byte + 1). */
    sqlite3_stmt *st = tw_db_prepare(
        db, "SELECT name, creation_time, retention_days, stored_bytes, kms_key_id, log_group_class "
            "FROM log_groups WHERE region = ?1 AND name > ?2 AND name >= ?3 AND name < ?4 "
            "AND (?5 IS NULL OR instr(name, ?5) > 0) ORDER BY name LIMIT ?6");
    if (!st)
        return -EIO;
    char *upper = tw_strdup(query->prefix && *query->prefix ? query->prefix : "\x7f");
    if (query->prefix && *query->prefix)
        upper[strlen(upper) - 1]++;
    bind_text(st, 1, scope->region);
    bind_text(st, 2, query->after ? query->after : "");
    bind_text(st, 3, query->prefix ? query->prefix : "");
    sqlite3_bind_text(st, 4, upper, -1, SQLITE_TRANSIENT);
    bind_text(st, 5, query->pattern && *query->pattern ? query->pattern : NULL);
    sqlite3_bind_int(st, 6, query->limit + 1);
    free(upper);
    int rc, n = 0;
    *more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == query->limit) {
            *more = true;
            break;
        }
        json_array_append_new(groups, group_object(st, scope));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_failed(db, "describing log groups");
}

/* ---- streams ---- */

int tw_logs_db_stream_create(tw_db *db, int64_t group_id, const char *name, int64_t now_ms)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?1, ?2, ?3)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return -EEXIST;
    return rc == SQLITE_DONE ? 0 : sql_failed(db, "creating a log stream");
}

int tw_logs_db_stream_find(tw_db *db, int64_t group_id, const char *name, int64_t *stream_id)
{
    sqlite3_stmt *st =
        tw_db_prepare(db, "SELECT id FROM log_streams WHERE group_id = ?1 AND name = ?2");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *stream_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? -ENOENT : sql_failed(db, "finding a log stream");
}

int tw_logs_db_stream_delete(tw_db *db, int64_t group_id, const char *name)
{
    int64_t stream_id;
    int err = tw_logs_db_stream_find(db, group_id, name, &stream_id);
    if (err < 0)
        return err;
    err = delete_by_id(db, tw_db_prepare(db, "DELETE FROM log_streams WHERE id = ?1"), stream_id,
                       "deleting a log stream");
    size_t deleted;
    int64_t bytes;
    if (err < 0
        || (err = delete_chunk(db, CHUNK_STREAM, stream_id, 0, DELETE_CHUNK, &deleted, &bytes)) < 0
        || (err = subtract_bytes(db, group_id, bytes)) < 0)
        return err;
    return deleted == DELETE_CHUNK ? pending_add(db, "stream", stream_id, group_id) : 0;
}

static void stream_arn(tw_buf *out, const tw_logs_scope *scope, const char *group,
                       const char *stream)
{
    tw_logs_group_arn(out, scope->region, scope->account_id, group, false);
    tw_buf_printf(out, ":log-stream:%s", stream);
}

static json_t *stream_object(sqlite3_stmt *st, const tw_logs_scope *scope, const char *group)
{
    const char *name = column_text(st, 0);
    json_t *stream = json_object();
    json_object_set_new(stream, "logStreamName", json_string(name));
    set_int(stream, "creationTime", sqlite3_column_int64(st, 1));
    if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
        set_int(stream, "firstEventTimestamp", sqlite3_column_int64(st, 2));
        set_int(stream, "lastEventTimestamp", sqlite3_column_int64(st, 3));
    }
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        set_int(stream, "lastIngestionTime", sqlite3_column_int64(st, 4));
    int64_t batches = sqlite3_column_int64(st, 5);
    if (batches > 0) {
        char token[TW_LOGS_SEQUENCE_TOKEN_SIZE];
        tw_logs_sequence_token(sqlite3_column_int64(st, 6), batches + 1, token);
        json_object_set_new(stream, "uploadSequenceToken", json_string(token));
    }
    tw_buf arn = TW_BUF_INIT;
    stream_arn(&arn, scope, group, name);
    json_object_set_new(stream, "arn", json_stringn(arn.data, arn.len));
    tw_buf_free(&arn);
    set_int(stream, "storedBytes", 0); /* always 0 since 2019 (spec §2.4) */
    return stream;
}

#define STREAM_COLUMNS                                                                             \
    "SELECT name, creation_time, first_event, last_event, last_ingestion, batches, id "            \
    "FROM log_streams WHERE group_id = ?1 "

static sqlite3_stmt *streams_statement(tw_db *db, const tw_logs_stream_query *q)
{
    sqlite3_stmt *st;
    if (!q->by_last_event) {
        /* Stream names are UTF-8, which never has a 0xff byte: prefix + 0xff
         * is above every name starting with the prefix. */
        if (q->descending)
            st = tw_db_prepare(db, STREAM_COLUMNS "AND name < ?2 AND name >= ?3 AND name < ?4 "
                                                  "ORDER BY name DESC LIMIT ?5");
        else
            st = tw_db_prepare(db, STREAM_COLUMNS "AND name > ?2 AND name >= ?3 AND name < ?4 "
                                                  "ORDER BY name LIMIT ?5");
        if (!st)
            return NULL;
        const char *prefix = q->prefix ? q->prefix : "";
        tw_buf upper = TW_BUF_INIT;
        tw_buf_puts(&upper, prefix);
        tw_buf_putc(&upper, '\xff');
        bind_text(st, 2, q->after_name ? q->after_name : q->descending ? "\xff" : "");
        bind_text(st, 3, prefix);
        sqlite3_bind_text(st, 4, upper.data, (int)upper.len, SQLITE_TRANSIENT);
        tw_buf_free(&upper);
        return st;
    }
    if (q->descending)
        st = tw_db_prepare(db,
                           STREAM_COLUMNS "AND last_event <= ?2 AND (last_event < ?2 OR id < ?3) "
                                          "ORDER BY last_event DESC, id DESC LIMIT ?5");
    else
        st = tw_db_prepare(db,
                           STREAM_COLUMNS "AND last_event >= ?2 AND (last_event > ?2 OR id > ?3) "
                                          "ORDER BY last_event, id LIMIT ?5");
    if (!st)
        return NULL;
    tw_logs_position after = q->after        ? *q->after
                             : q->descending ? (tw_logs_position){INT64_MAX, INT64_MAX}
                                             : (tw_logs_position){INT64_MIN, INT64_MIN};
    sqlite3_bind_int64(st, 2, after.timestamp);
    sqlite3_bind_int64(st, 3, after.id);
    return st;
}

int tw_logs_db_streams_describe(tw_db *db, const tw_logs_scope *scope, const char *group_name,
                                int64_t group_id, const tw_logs_stream_query *query,
                                json_t *streams, bool *more, tw_logs_position *last)
{
    sqlite3_stmt *st = streams_statement(db, query);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int(st, 5, query->limit + 1);
    int rc, n = 0;
    *more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == query->limit) {
            *more = true;
            break;
        }
        json_array_append_new(streams, stream_object(st, scope, group_name));
        last->timestamp = sqlite3_column_int64(st, 3);
        last->id = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_failed(db, "describing log streams");
}

/* ---- tags ---- */

static int tag_exists(tw_db *db, int64_t group_id, const char *key, bool *exists)
{
    sqlite3_stmt *st =
        tw_db_prepare(db, "SELECT 1 FROM log_group_tags WHERE group_id = ?1 AND key = ?2");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    bind_text(st, 2, key);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    *exists = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_failed(db, "reading tags");
}

static int tag_count(tw_db *db, int64_t group_id, int64_t *count)
{
    sqlite3_stmt *st = tw_db_prepare(db, "SELECT count(*) FROM log_group_tags WHERE group_id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sql_failed(db, "counting tags");
}

int tw_logs_db_tags_set(tw_db *db, int64_t group_id, const json_t *tags)
{
    int64_t count;
    int err = tag_count(db, group_id, &count);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)tags, key, value)
    {
        bool exists;
        if (err < 0 || (err = tag_exists(db, group_id, key, &exists)) < 0)
            return err;
        count += !exists;
    }
    if (err < 0)
        return err;
    if (count > TW_LOGS_MAX_TAGS)
        return -E2BIG;
    json_object_foreach((json_t *)tags, key, value)
    {
        if ((err = tag_put(db, group_id, key, json_string_value(value))) < 0)
            return err;
    }
    return 0;
}

int tw_logs_db_tags_remove(tw_db *db, int64_t group_id, const json_t *keys)
{
    sqlite3_stmt *st =
        tw_db_prepare(db, "DELETE FROM log_group_tags WHERE group_id = ?1 AND key = ?2");
    if (!st)
        return -EIO;
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key)
    {
        sqlite3_bind_int64(st, 1, group_id);
        bind_text(st, 2, json_string_value(key));
        int err = step_done(db, st, "untagging a log group");
        if (err < 0)
            return err;
    }
    return 0;
}

int tw_logs_db_tags_list(tw_db *db, int64_t group_id, json_t *tags)
{
    sqlite3_stmt *st =
        tw_db_prepare(db, "SELECT key, value FROM log_group_tags WHERE group_id = ?1 ORDER BY key");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(tags, column_text(st, 0), json_string(column_text(st, 1)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_failed(db, "listing tags");
}

/* ---- sweep ---- */

typedef struct sweep_item {
    chunk_kind kind;
    int64_t owner_id, group_id, cutoff;
} sweep_item;

/* The work list: leftovers of deletions first, then expired events. Read
 * whole before deleting, so no statement reads a table being changed. */
static int sweep_items(tw_db *db, int64_t now_ms, sweep_item **items, size_t *n)
{
    size_t cap = 0;
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st =
        tw_db_prepare(db, "SELECT kind = 'group', owner_id, group_id, 0 FROM log_pending_deletes "
                          "UNION ALL SELECT 2, id, id, retention_days FROM log_groups "
                          "WHERE retention_days IS NOT NULL");
    if (!st)
        return -EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = tw_realloc(*items, cap * sizeof **items);
        }
        int kind = sqlite3_column_int(st, 0);
        (*items)[(*n)++] =
            (sweep_item){kind == 1   ? CHUNK_GROUP
                         : kind == 0 ? CHUNK_STREAM
                                     : CHUNK_EXPIRED,
                         sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                         tw_logs_retention_cutoff(now_ms, sqlite3_column_int64(st, 3))};
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_failed(db, "listing retention work");
}

static int sweep_one(tw_db *db, const sweep_item *item, size_t budget, size_t *deleted)
{
    int64_t bytes;
    int err = delete_chunk(db, item->kind, item->owner_id, item->cutoff, budget, deleted, &bytes);
    if (err < 0)
        return err;
    if (item->kind != CHUNK_GROUP && (err = subtract_bytes(db, item->group_id, bytes)) < 0)
        return err;
    if (item->kind == CHUNK_EXPIRED || *deleted == budget)
        return 0;
    sqlite3_stmt *st =
        tw_db_prepare(db, "DELETE FROM log_pending_deletes WHERE kind = ?1 AND owner_id = ?2");
    if (!st)
        return -EIO;
    bind_text(st, 1, item->kind == CHUNK_GROUP ? "group" : "stream");
    sqlite3_bind_int64(st, 2, item->owner_id);
    return step_done(db, st, "finishing a deletion");
}

int tw_logs_db_sweep(tw_db *db, int64_t now_ms, size_t budget, size_t *deleted, bool *more)
{
    sweep_item *items;
    size_t n;
    *deleted = 0;
    *more = false;
    int err = sweep_items(db, now_ms, &items, &n);
    for (size_t i = 0; err == 0 && i < n; i++) {
        if (*deleted == budget) {
            *more = true;
            break;
        }
        size_t done;
        err = sweep_one(db, &items[i], budget - *deleted, &done);
        *deleted += done;
    }
    if (err == 0 && *deleted == budget)
        *more = true;
    free(items);
    return err;
}
