/* logs_db_events.c — the queries on log events: storing a batch, reading a
 * stream's range (GetLogEvents) and scanning a group (FilterLogEvents); the
 * tables are in logs_db.c (see logs_db.h). */
#include "logs_db.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "mem.h"

static int sql_failed(tw_db *db, const char *what)
{
    tw_error("logs store: %s: %s", what, tw_db_error(db));
    return -EIO;
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

/* ---- events ---- */

static int insert_events(tw_db *db, int64_t group_id, int64_t stream_id,
                         const tw_logs_event *events, size_t n, int64_t now_ms)
{
    /* One statement for the whole batch; the per-batch columns are bound
     * once (sqlite3_reset keeps bindings). */
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT INTO log_events (group_id, stream_id, timestamp, ingestion_time, message) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, stream_id);
    sqlite3_bind_int64(st, 4, now_ms);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 3, events[i].timestamp);
        sqlite3_bind_text(st, 5, events[i].message, (int)events[i].len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return sql_failed(db, "storing log events");
    }
    return 0;
}

int tw_logs_db_events_put(tw_db *db, int64_t group_id, int64_t stream_id,
                          const tw_logs_event *events, size_t n, int64_t now_ms,
                          uint64_t message_bytes, int64_t *sequence)
{
    int err = insert_events(db, group_id, stream_id, events, n, now_ms);
    if (err < 0)
        return err;
    sqlite3_stmt *st;
    if (n > 0)
        st = tw_db_prepare(
            db, "UPDATE log_streams SET first_event = min(coalesce(first_event, ?2), ?2), "
                "last_event = CASE WHEN first_event IS NULL THEN ?3 ELSE max(last_event, ?3) END, "
                "last_ingestion = ?4, batches = batches + 1 WHERE id = ?1 RETURNING batches");
    else
        st = tw_db_prepare(db, "UPDATE log_streams SET batches = batches + 1 WHERE id = ?1 "
                               "RETURNING batches");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    if (n > 0) {
        sqlite3_bind_int64(st, 2, events[0].timestamp);
        sqlite3_bind_int64(st, 3, events[n - 1].timestamp);
        sqlite3_bind_int64(st, 4, now_ms);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *sequence = sqlite3_column_int64(st, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sql_failed(db, "updating a log stream");
    if (message_bytes == 0)
        return 0;
    st = tw_db_prepare(db, "UPDATE log_groups SET stored_bytes = stored_bytes + ?2 WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)message_bytes);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_failed(db, "updating storedBytes");
}

static void bind_range(sqlite3_stmt *st, const tw_logs_range *range)
{
    sqlite3_bind_int64(st, 2, range->after.timestamp);
    sqlite3_bind_int64(st, 3, range->after.id);
    sqlite3_bind_int64(st, 4, range->before.timestamp);
    sqlite3_bind_int64(st, 5, range->before.id);
}

/* Both bounds exclusive, in (timestamp, id) order; the plain timestamp
 * comparisons give SQLite the index range. */
#define RANGE_WHERE                                                                                \
    "AND timestamp >= ?2 AND (timestamp > ?2 OR id > ?3) "                                         \
    "AND timestamp <= ?4 AND (timestamp < ?4 OR id < ?5) "

static json_t *event_object(sqlite3_stmt *st, int64_t timestamp)
{
    json_t *event = json_object();
    set_int(event, "timestamp", timestamp);
    json_object_set_new(event, "message",
                        json_stringn(column_text(st, 3), (size_t)sqlite3_column_bytes(st, 3)));
    set_int(event, "ingestionTime", sqlite3_column_int64(st, 2));
    return event;
}

int tw_logs_db_events_get(tw_db *db, int64_t stream_id, const tw_logs_range *range, json_t *events,
                          size_t *count, tw_logs_position *first, tw_logs_position *last)
{
    sqlite3_stmt *st;
    if (range->forward)
        st = tw_db_prepare(db,
                           "SELECT id, timestamp, ingestion_time, message FROM log_events "
                           "WHERE stream_id = ?1 " RANGE_WHERE "ORDER BY timestamp, id LIMIT ?6");
    else
        st = tw_db_prepare(db, "SELECT id, timestamp, ingestion_time, message FROM log_events "
                               "WHERE stream_id = ?1 " RANGE_WHERE
                               "ORDER BY timestamp DESC, id DESC LIMIT ?6");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    bind_range(st, range);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)range->limit);
    size_t bytes = 0, start = json_array_size(events);
    int rc;
    *count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t size = (size_t)sqlite3_column_bytes(st, 3) + TW_LOGS_EVENT_OVERHEAD;
        if (*count > 0 && bytes + size > range->max_bytes)
            break;
        bytes += size;
        tw_logs_position p = {sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0)};
        if ((*count)++ == 0)
            *first = p;
        *last = p;
        json_array_append_new(events, event_object(st, p.timestamp));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_failed(db, "reading log events");
    if (!range->forward && *count > 1) {
        /* Pages are always in ascending order (spec §2.5). */
        tw_logs_position swap = *first;
        *first = *last;
        *last = swap;
        for (size_t i = start, j = start + *count - 1; i < j; i++, j--) {
            json_t *a = json_incref(json_array_get(events, i));
            json_array_set(events, i, json_array_get(events, j));
            json_array_set_new(events, j, a);
        }
    }
    return 0;
}

/* ---- FilterLogEvents ---- */

typedef struct stream_map {
    int64_t *ids; /* ascending */
    char **names;
    size_t n, cap;
} stream_map;

static void stream_map_add(stream_map *m, int64_t id, const char *name)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->ids = tw_realloc(m->ids, m->cap * sizeof *m->ids);
        m->names = tw_realloc(m->names, m->cap * sizeof *m->names);
    }
    size_t i = m->n++;
    /* Insertion keeps ids sorted: queries return them in id order already,
     * except when the names come from a list. */
    while (i > 0 && m->ids[i - 1] > id) {
        m->ids[i] = m->ids[i - 1];
        m->names[i] = m->names[i - 1];
        i--;
    }
    m->ids[i] = id;
    m->names[i] = tw_strdup(name);
}

static const char *stream_map_find(const stream_map *m, int64_t id)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ids[mid] == id)
            return m->names[mid];
        if (m->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void stream_map_free(stream_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->ids);
    free(m->names);
}

static int load_streams(tw_db *db, const tw_logs_filter *f, stream_map *m)
{
    if (f->stream_names) {
        for (size_t i = 0; i < f->n_stream_names; i++) {
            int64_t id;
            int err = tw_logs_db_stream_find(db, f->group_id, f->stream_names[i], &id);
            if (err == -ENOENT || (err == 0 && stream_map_find(m, id)))
                continue;
            if (err < 0)
                return err;
            stream_map_add(m, id, f->stream_names[i]);
        }
        return 0;
    }
    sqlite3_stmt *st = tw_db_prepare(db, "SELECT id, name FROM log_streams WHERE group_id = ?1 "
                                         "AND substr(name, 1, length(?2)) = ?2 ORDER BY id");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, f->group_id);
    sqlite3_bind_text(st, 2, f->stream_prefix ? f->stream_prefix : "", -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        stream_map_add(m, sqlite3_column_int64(st, 0), column_text(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_failed(db, "listing log streams");
}

static json_t *filtered_event_object(sqlite3_stmt *st, const char *stream, tw_logs_position p)
{
    json_t *event = json_object();
    char event_id[TW_LOGS_EVENT_ID_SIZE];
    tw_logs_event_id(p.id, event_id);
    json_object_set_new(event, "logStreamName", json_string(stream));
    set_int(event, "timestamp", p.timestamp);
    json_object_set_new(event, "message",
                        json_stringn(column_text(st, 4), (size_t)sqlite3_column_bytes(st, 4)));
    set_int(event, "ingestionTime", sqlite3_column_int64(st, 3));
    json_object_set_new(event, "eventId", json_string(event_id));
    return event;
}

static int filter_scan(tw_db *db, const tw_logs_filter *f, const stream_map *streams,
                       json_t *events, bool *more, tw_logs_position *resume)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "SELECT id, stream_id, timestamp, ingestion_time, message FROM log_events "
            "WHERE group_id = ?1 " RANGE_WHERE "ORDER BY timestamp, id");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, f->group_id);
    bind_range(st, &f->range);
    size_t scanned = 0, matched = 0, bytes = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (matched == f->range.limit || scanned == f->max_scanned) {
            *more = true; /* another event exists after *resume */
            break;
        }
        size_t len = (size_t)sqlite3_column_bytes(st, 4);
        if (matched > 0 && bytes + len + TW_LOGS_EVENT_OVERHEAD > f->range.max_bytes) {
            *more = true;
            break;
        }
        scanned++;
        tw_logs_position p = {sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0)};
        *resume = p;
        const char *stream = stream_map_find(streams, sqlite3_column_int64(st, 1));
        if (!stream)
            continue; /* another stream, or one being deleted */
        if (f->pattern && !tw_filter_pattern_match(f->pattern, column_text(st, 4), len))
            continue;
        bytes += len + TW_LOGS_EVENT_OVERHEAD;
        matched++;
        json_array_append_new(events, filtered_event_object(st, stream, p));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_failed(db, "filtering log events");
}

int tw_logs_db_events_filter(tw_db *db, const tw_logs_filter *filter, json_t *events, bool *more,
                             tw_logs_position *resume)
{
    stream_map streams = {0};
    *more = false;
    int err = load_streams(db, filter, &streams);
    if (err == 0 && streams.n > 0)
        err = filter_scan(db, filter, &streams, events, more, resume);
    stream_map_free(&streams);
    return err;
}
