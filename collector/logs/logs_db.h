/* logs_db.h — the CloudWatch Logs tables and every query on them
 * (logs_db.c: schema, groups, streams, tags, deletions and the retention
 * sweep; logs_db_events.c: storing and reading events).
 *
 * Schema (component "logs"):
 *   log_groups      id, region, name, creation time, retention, storedBytes...
 *   log_group_tags  (group id, key) → value
 *   log_streams     id, group id, name, first/last event, last ingestion,
 *                   batch count (the uploadSequenceToken)
 *   log_events      id (rowid: arrival order, the eventId), group id, stream
 *                   id, timestamp, ingestion time, message; indexed by
 *                   (stream, timestamp) for GetLogEvents and by
 *                   (group, timestamp) for FilterLogEvents and retention
 *   log_pending_deletes  events of deleted groups/streams still to remove
 * Group and stream ids are AUTOINCREMENT, never reused, so events left over
 * from a deleted group or stream can never show up under a new one; the
 * readers only reach events through live streams, and the sweep removes the
 * leftovers in bounded chunks.
 *
 * Every function runs inside a store job (tw_db on a store thread) and only
 * does SQL: the rules are checked before (logs_rules.h). They return 0,
 * -ENOENT (no such group or stream), -EEXIST (already exists), -E2BIG (too
 * many tags) or -EIO after logging the SQLite error.
 *
 * Ownership: strings and arrays passed in are borrowed; JSON results are
 * appended to arrays/objects the caller owns.
 */
#ifndef TW_LOGS_DB_H
#define TW_LOGS_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter_pattern.h"
#include "logs_rules.h"
#include "store.h"

extern const tw_migration tw_logs_migrations[];

/* Where ARNs point: the call's region and account. */
typedef struct tw_logs_scope {
    const char *region;
    const char *account_id;
} tw_logs_scope;

typedef struct tw_logs_group {
    int64_t id;
    int64_t retention_days; /* 0 = events never expire */
} tw_logs_group;

/* ---- groups ---- */

int tw_logs_db_group_find(tw_db *db, const char *region, const char *name, tw_logs_group *out);
/* tags: an object of string values, or NULL. */
int tw_logs_db_group_create(tw_db *db, const char *region, const char *name, int64_t now_ms,
                            const char *kms_key_id, const char *log_group_class,
                            const json_t *tags);
/* Removes the group, its streams and tags, and its events (the first chunk
 * at once, the rest through the sweep). */
int tw_logs_db_group_delete(tw_db *db, const char *region, const char *name);
int tw_logs_db_group_set_retention(tw_db *db, int64_t group_id, int64_t days);

typedef struct tw_logs_group_query {
    const char *prefix;  /* NULL = none */
    const char *pattern; /* case-sensitive substring; NULL = none */
    const char *after;   /* continue after this name; NULL = from the start */
    int limit;
} tw_logs_group_query;

/* Appends LogGroup objects to groups, in name order; *more tells whether
 * another page exists. */
int tw_logs_db_groups_describe(tw_db *db, const tw_logs_scope *scope,
                               const tw_logs_group_query *query, json_t *groups, bool *more);

/* ---- streams ---- */

int tw_logs_db_stream_create(tw_db *db, int64_t group_id, const char *name, int64_t now_ms);
int tw_logs_db_stream_find(tw_db *db, int64_t group_id, const char *name, int64_t *stream_id);
int tw_logs_db_stream_delete(tw_db *db, int64_t group_id, const char *name);

typedef struct tw_logs_stream_query {
    const char *prefix; /* NULL = none (never with by_last_event) */
    bool by_last_event; /* orderBy LastEventTime, else LogStreamName */
    bool descending;
    const char *after_name;        /* by name: continue after this one */
    const tw_logs_position *after; /* by last event: (lastEventTimestamp, id) */
    int limit;
} tw_logs_stream_query;

/* Appends LogStream objects; *more tells whether another page exists, and
 * *last the position of the last one (for the LastEventTime token). */
int tw_logs_db_streams_describe(tw_db *db, const tw_logs_scope *scope, const char *group_name,
                                int64_t group_id, const tw_logs_stream_query *query,
                                json_t *streams, bool *more, tw_logs_position *last);

/* ---- events ---- */

/* Stores events[0..n) (a checked batch's accepted part, possibly empty) with
 * ingestionTime now_ms, and updates the stream's first/last event, last
 * ingestion and batch count and the group's storedBytes, once for the batch.
 * *sequence gets the stream's new batch count. */
int tw_logs_db_events_put(tw_db *db, int64_t group_id, int64_t stream_id,
                          const tw_logs_event *events, size_t n, int64_t now_ms,
                          uint64_t message_bytes, int64_t *sequence);

/* A range of events in (timestamp, id) order, both bounds exclusive. */
typedef struct tw_logs_range {
    tw_logs_position after;  /* events > after */
    tw_logs_position before; /* events < before */
    bool forward;            /* from after upwards, else from before downwards */
    size_t limit;            /* events */
    size_t max_bytes;        /* Σ (message + 26) in the answer */
} tw_logs_range;

/* GetLogEvents: appends {timestamp, message, ingestionTime} objects in
 * ascending order (a backward read is reversed) and sets *first / *last to
 * the positions of the first and last; *count = number appended. */
int tw_logs_db_events_get(tw_db *db, int64_t stream_id, const tw_logs_range *range, json_t *events,
                          size_t *count, tw_logs_position *first, tw_logs_position *last);

typedef struct tw_logs_filter {
    int64_t group_id;
    tw_logs_range range;             /* always forward */
    const char *const *stream_names; /* NULL = every stream */
    size_t n_stream_names;
    const char *stream_prefix;        /* NULL = none */
    const tw_filter_pattern *pattern; /* NULL = every event */
    size_t max_scanned;               /* events looked at before a page ends early */
} tw_logs_filter;

/* FilterLogEvents: appends {logStreamName, timestamp, message,
 * ingestionTime, eventId} objects. *more: a next page may exist, starting
 * after *resume. */
int tw_logs_db_events_filter(tw_db *db, const tw_logs_filter *filter, json_t *events, bool *more,
                             tw_logs_position *resume);

/* ---- tags ---- */

/* Adds or replaces; -E2BIG (nothing changed) when the group would have more
 * than 50 tags. */
int tw_logs_db_tags_set(tw_db *db, int64_t group_id, const json_t *tags);
/* keys: an array of strings. */
int tw_logs_db_tags_remove(tw_db *db, int64_t group_id, const json_t *keys);
int tw_logs_db_tags_list(tw_db *db, int64_t group_id, json_t *tags);

/* ---- retention and leftovers ---- */

/* Deletes up to budget events: those of deleted groups and streams, then
 * those older than their group's retention at now_ms. *deleted gets how
 * many; *more whether work is left. */
int tw_logs_db_sweep(tw_db *db, int64_t now_ms, size_t budget, size_t *deleted, bool *more);

#endif
