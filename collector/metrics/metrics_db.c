/* metrics_db.c — the metrics tables: identity lookup, bucket upserts,
 * period queries, ListMetrics and the roll-up/expiry pass (metrics_db.h). */
#include "metrics_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define HIGH_RES_KEEP_S (3LL * 3600)
#define MINUTE_KEEP_S (15LL * 86400)
#define FIVE_MINUTE_KEEP_S (63LL * 86400)
#define HOUR_KEEP_S (455LL * 86400)
#define RECENT_MS (3LL * 3600 * 1000)
#define LISTED_MS (14LL * 86400 * 1000)
/* last_put_ms is refreshed at most this often (RecentlyActive is ±40 min). */
#define PUT_REFRESH_MS (60LL * 1000)

const tw_migration tw_metrics_migrations[] = {
    {"metrics", 1,
     "CREATE TABLE metrics ("
     "  id INTEGER PRIMARY KEY,"
     "  namespace TEXT NOT NULL,"
     "  name TEXT NOT NULL,"
     "  dimensions TEXT NOT NULL,"
     "  last_timestamp_ms INTEGER NOT NULL,"
     "  last_put_ms INTEGER NOT NULL,"
     "  UNIQUE (namespace, name, dimensions));"
     "CREATE TABLE metric_points ("
     "  metric_id INTEGER NOT NULL,"
     "  resolution INTEGER NOT NULL,"
     "  bucket INTEGER NOT NULL,"
     "  unit INTEGER NOT NULL,"
     "  sample_count REAL NOT NULL,"
     "  sum REAL NOT NULL,"
     "  minimum REAL NOT NULL,"
     "  maximum REAL NOT NULL,"
     "  samples BLOB,"
     "  PRIMARY KEY (metric_id, resolution, bucket, unit)) WITHOUT ROWID;"},
    {NULL, 0, NULL},
};

static int sql_error(tw_db *db, tw_err *err, const char *what)
{
    return tw_err_set(err, -EIO, "metrics store: %s: %s", what, tw_db_error(db));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ["Name","Value"] pairs, sorted by name: the canonical identity text. */
static char *canonical_dimensions(const tw_metric_key *key)
{
    json_t *array = json_array();
    for (size_t i = 0; i < key->n_dims; i++)
        json_array_append_new(array, json_pack("[ss]", key->dims[i].name, key->dims[i].value));
    char *text = json_dumps(array, JSON_COMPACT);
    json_decref(array);
    if (!text)
        abort(); /* jansson fails only on allocation */
    return text;
}

/* ---- writing ---- */

static int find_metric(tw_db *db, const tw_metric_key *key, const char *dims, int64_t *id,
                       int64_t *last_ts, int64_t *last_put, tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(db, "SELECT id, last_timestamp_ms, last_put_ms FROM metrics "
                                         "WHERE namespace = ?1 AND name = ?2 AND dimensions = ?3");
    if (!st)
        return sql_error(db, err, "looking up a metric");
    sqlite3_bind_text(st, 1, key->namespace, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, dims, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *last_ts = sqlite3_column_int64(st, 1);
        *last_put = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_error(db, err, "looking up a metric");
    return rc == SQLITE_ROW ? 1 : 0;
}

static int metric_id_for(tw_db *db, const tw_metric_datum *d, int64_t now_ms, int64_t *id,
                         tw_err *err)
{
    char *dims = canonical_dimensions(&d->key);
    int64_t last_ts = 0, last_put = 0;
    int rc = find_metric(db, &d->key, dims, id, &last_ts, &last_put, err);
    sqlite3_stmt *st = NULL;
    if (rc == 0) {
        st = tw_db_prepare(db, "INSERT INTO metrics (namespace, name, dimensions, "
                               "last_timestamp_ms, last_put_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
        if (st) {
            sqlite3_bind_text(st, 1, d->key.namespace, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, d->key.name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, dims, -1, SQLITE_STATIC);
        }
    } else if (rc == 1 && (d->timestamp_ms > last_ts || now_ms - last_put > PUT_REFRESH_MS)) {
        st = tw_db_prepare(db, "UPDATE metrics SET last_timestamp_ms = max(last_timestamp_ms, ?4),"
                               " last_put_ms = ?5 WHERE id = ?6");
        if (st)
            sqlite3_bind_int64(st, 6, *id);
    } else {
        free(dims);
        return rc < 0 ? rc : 0;
    }
    if (!st) {
        free(dims);
        return sql_error(db, err, "recording a metric");
    }
    sqlite3_bind_int64(st, 4, d->timestamp_ms);
    sqlite3_bind_int64(st, 5, now_ms);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    free(dims);
    if (step != SQLITE_DONE)
        return sql_error(db, err, "recording a metric");
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(tw_db_handle(db));
    return 0;
}

/* Adds a summary (and its samples, or "unknown" when samples is NULL) to a
 * bucket. Samples of the existing row and the new ones are concatenated. */
static int upsert_point(tw_db *db, int64_t metric_id, int resolution, int64_t bucket, int unit,
                        const tw_stat_summary *s, const tw_buf *samples, tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT INTO metric_points (metric_id, resolution, bucket, unit, sample_count, sum,"
            " minimum, maximum, samples) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            " ON CONFLICT (metric_id, resolution, bucket, unit) DO UPDATE SET"
            " sample_count = sample_count + excluded.sample_count,"
            " sum = sum + excluded.sum,"
            " minimum = min(minimum, excluded.minimum),"
            " maximum = max(maximum, excluded.maximum),"
            " samples = CASE WHEN samples IS NULL OR excluded.samples IS NULL THEN NULL"
            "           ELSE CAST(samples || excluded.samples AS BLOB) END");
    if (!st)
        return sql_error(db, err, "storing a datapoint");
    sqlite3_bind_int64(st, 1, metric_id);
    sqlite3_bind_int(st, 2, resolution);
    sqlite3_bind_int64(st, 3, bucket);
    sqlite3_bind_int(st, 4, unit);
    sqlite3_bind_double(st, 5, s->count);
    sqlite3_bind_double(st, 6, s->sum);
    sqlite3_bind_double(st, 7, s->min);
    sqlite3_bind_double(st, 8, s->max);
    if (samples)
        sqlite3_bind_blob(st, 9, samples->data ? samples->data : "", (int)samples->len,
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_error(db, err, "storing a datapoint");
}

int tw_metrics_db_put(tw_db *db, const tw_metric_put *put, int64_t now_ms, tw_err *err)
{
    tw_buf samples = TW_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < put->n_data && rc == 0; i++) {
        const tw_metric_datum *d = &put->data[i];
        int64_t id;
        if ((rc = metric_id_for(db, d, now_ms, &id, err)) < 0)
            break;
        if (!(d->summary.count > 0))
            continue; /* e.g. Values with all-zero Counts: nothing to add */
        tw_buf_reset(&samples);
        if (d->n_pairs > 0)
            tw_stat_pairs_encode(put->pairs.items + d->first_pair, d->n_pairs, &samples);
        const tw_buf *blob = d->has_samples ? &samples : NULL;
        int64_t seconds = floor_div(d->timestamp_ms, 1000);
        rc = upsert_point(db, id, 60, floor_div(seconds, 60) * 60, d->unit, &d->summary, blob, err);
        if (rc == 0 && d->resolution == 1)
            rc = upsert_point(db, id, 1, seconds, d->unit, &d->summary, blob, err);
    }
    tw_buf_free(&samples);
    return rc;
}

/* ---- reading ---- */

void tw_metric_buckets_free(tw_metric_buckets *b)
{
    free(b->items);
    tw_stat_pairs_free(&b->pairs);
    memset(b, 0, sizeof *b);
}

typedef struct raw_row {
    int64_t period_index;
    int unit;
    tw_stat_summary summary;
    bool has_samples;
    size_t first_pair, n_pairs;
} raw_row;

typedef struct row_list {
    raw_row *items;
    size_t n, cap;
} row_list;

static int compare_rows(const void *a, const void *b)
{
    const raw_row *x = a, *y = b;
    if (x->period_index != y->period_index)
        return (x->period_index > y->period_index) - (x->period_index < y->period_index);
    return (x->unit > y->unit) - (x->unit < y->unit);
}

/* Reads one level's rows whose bucket starts in [from_s, to_s). */
static int read_level(tw_db *db, const tw_metric_query *q, int64_t id, int resolution,
                      int64_t from_s, int64_t to_s, row_list *rows, tw_stat_pairs *pairs,
                      tw_err *err)
{
    if (from_s >= to_s)
        return 0;
    sqlite3_stmt *st = tw_db_prepare(
        db, "SELECT bucket, unit, sample_count, sum, minimum, maximum, samples"
            " FROM metric_points WHERE metric_id = ?1 AND resolution = ?2"
            " AND bucket >= ?3 AND bucket < ?4");
    if (!st)
        return sql_error(db, err, "reading datapoints");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, resolution);
    sqlite3_bind_int64(st, 3, from_s);
    sqlite3_bind_int64(st, 4, to_s);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int unit = sqlite3_column_int(st, 1);
        if (q->unit >= 0 && unit != q->unit)
            continue;
        if (rows->n == rows->cap) {
            rows->cap = rows->cap ? rows->cap * 2 : 64;
            rows->items = tw_realloc(rows->items, rows->cap * sizeof *rows->items);
        }
        raw_row *r = &rows->items[rows->n++];
        r->period_index = floor_div(sqlite3_column_int64(st, 0) * 1000 - q->start_ms,
                                    q->period_s * 1000);
        r->unit = q->split_units ? unit : -1;
        tw_stat_summary_init(&r->summary);
        tw_stat_summary_add(&r->summary, sqlite3_column_double(st, 2),
                            sqlite3_column_double(st, 3), sqlite3_column_double(st, 4),
                            sqlite3_column_double(st, 5));
        r->has_samples = sqlite3_column_type(st, 6) != SQLITE_NULL;
        r->first_pair = pairs->n;
        if (q->want_samples && r->has_samples &&
            tw_stat_pairs_append_blob(pairs, sqlite3_column_blob(st, 6),
                                      (size_t)sqlite3_column_bytes(st, 6)) != 0)
            r->has_samples = false; /* a damaged blob: no percentiles, not an error */
        r->n_pairs = pairs->n - r->first_pair;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_error(db, err, "reading datapoints");
}

/* Merges rows of the same period (and unit) into buckets. */
static void merge_rows(const tw_metric_query *q, row_list *rows, const tw_stat_pairs *pairs,
                       tw_metric_buckets *out)
{
    if (rows->n == 0)
        return;
    qsort(rows->items, rows->n, sizeof *rows->items, compare_rows);
    for (size_t i = 0; i < rows->n;) {
        size_t j = i;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->items = tw_realloc(out->items, out->cap * sizeof *out->items);
        }
        tw_metric_bucket *b = &out->items[out->n++];
        b->ts_ms = q->start_ms + rows->items[i].period_index * q->period_s * 1000;
        b->unit = rows->items[i].unit;
        b->has_samples = true;
        b->first_pair = out->pairs.n;
        tw_stat_summary_init(&b->summary);
        for (; j < rows->n && compare_rows(&rows->items[i], &rows->items[j]) == 0; j++) {
            const raw_row *r = &rows->items[j];
            tw_stat_summary_merge(&b->summary, &r->summary);
            b->has_samples = b->has_samples && r->has_samples;
            for (size_t k = 0; q->want_samples && k < r->n_pairs; k++)
                tw_stat_pairs_push(&out->pairs, pairs->items[r->first_pair + k].value,
                                   pairs->items[r->first_pair + k].count);
        }
        b->n_pairs = out->pairs.n - b->first_pair;
        if (!(b->summary.count > 0)) {
            out->n--; /* only empty statistic sets: no datapoint */
            out->pairs.n = b->first_pair;
        }
        i = j;
    }
}

int tw_metrics_db_query(tw_db *db, const tw_metric_query *q, tw_metric_buckets *out, tw_err *err)
{
    char *dims = canonical_dimensions(q->key);
    int64_t id, last_ts, last_put;
    int rc = find_metric(db, q->key, dims, &id, &last_ts, &last_put, err);
    free(dims);
    if (rc <= 0)
        return rc;
    int64_t from = floor_div(q->start_ms, 1000), to = floor_div(q->end_ms + 999, 1000);
    int64_t now_s = floor_div(q->now_ms, 1000);
    int64_t hour_cut = floor_div(now_s - FIVE_MINUTE_KEEP_S, 3600) * 3600;
    row_list rows = {0};
    tw_stat_pairs pairs = {0};
    if (q->period_s < 60) {
        rc = read_level(db, q, id, 1, from, to, &rows, &pairs, err);
    } else {
        rc = read_level(db, q, id, 60, from, to, &rows, &pairs, err);
        if (rc == 0)
            rc = read_level(db, q, id, 300, from > hour_cut ? from : hour_cut, to, &rows, &pairs,
                            err);
        if (rc == 0)
            rc = read_level(db, q, id, 3600, from, to < hour_cut ? to : hour_cut, &rows, &pairs,
                            err);
    }
    /* a bucket that starts before end but whose data all lies at or after
     * end_ms (sub-second EndTime) is still counted: buckets are whole. */
    if (rc == 0)
        merge_rows(q, &rows, &pairs, out);
    free(rows.items);
    tw_stat_pairs_free(&pairs);
    return rc;
}

/* ---- ListMetrics ---- */

static bool dimensions_match(const json_t *dims, const tw_metric_list_request *r)
{
    for (size_t f = 0; f < r->n_filters; f++) {
        bool found = false;
        size_t i;
        json_t *pair;
        json_array_foreach(dims, i, pair) {
            const char *name = json_string_value(json_array_get(pair, 0));
            const char *value = json_string_value(json_array_get(pair, 1));
            if (name && strcmp(name, r->filters[f].name) == 0 &&
                (!r->filters[f].value || (value && strcmp(value, r->filters[f].value) == 0))) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static json_t *metric_object(sqlite3_stmt *st, json_t *dims)
{
    json_t *list = json_array();
    size_t i;
    json_t *pair;
    json_array_foreach(dims, i, pair) {
        json_array_append_new(list, json_pack("{s:O,s:O}", "Name", json_array_get(pair, 0),
                                              "Value", json_array_get(pair, 1)));
    }
    return json_pack("{s:s,s:s,s:o}", "Namespace", (const char *)sqlite3_column_text(st, 1),
                     "MetricName", (const char *)sqlite3_column_text(st, 2), "Dimensions", list);
}

int tw_metrics_db_list(tw_db *db, const tw_metric_list_request *r, int64_t now_ms,
                       int64_t after_id, json_t *metrics, int64_t *next_id, tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "SELECT id, namespace, name, dimensions FROM metrics WHERE id > ?1"
            " AND (?2 IS NULL OR namespace = ?2) AND (?3 IS NULL OR name = ?3)"
            " AND last_timestamp_ms >= ?4 AND last_put_ms >= ?5 ORDER BY id");
    if (!st)
        return sql_error(db, err, "listing metrics");
    sqlite3_bind_int64(st, 1, after_id);
    if (r->namespace)
        sqlite3_bind_text(st, 2, r->namespace, -1, SQLITE_STATIC);
    if (r->metric_name)
        sqlite3_bind_text(st, 3, r->metric_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms - LISTED_MS);
    sqlite3_bind_int64(st, 5, r->recently_active ? now_ms - RECENT_MS : INT64_MIN);
    *next_id = 0;
    int64_t last_id = 0;
    size_t listed = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *dims = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        if (!json_is_array(dims) || !dimensions_match(dims, r)) {
            json_decref(dims);
            continue;
        }
        if (listed == TW_METRICS_LIST_PAGE) {
            *next_id = last_id; /* one more matches: there is a next page */
            json_decref(dims);
            break;
        }
        json_array_append_new(metrics, metric_object(st, dims));
        json_decref(dims);
        last_id = sqlite3_column_int64(st, 0);
        listed++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_error(db, err, "listing metrics");
    return 0;
}

/* ---- roll-up and expiry ---- */

static int delete_older(tw_db *db, int64_t id, int resolution, int64_t before_s,
                        tw_metrics_maintenance_stats *stats, tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(db, "DELETE FROM metric_points WHERE metric_id = ?1"
                                         " AND resolution = ?2 AND bucket < ?3");
    if (!st)
        return sql_error(db, err, "expiring datapoints");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, resolution);
    sqlite3_bind_int64(st, 3, before_s);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sql_error(db, err, "expiring datapoints");
    stats->rows_deleted += (unsigned long long)sqlite3_changes(tw_db_handle(db));
    return 0;
}

typedef struct rollup_bucket {
    int64_t bucket;
    int unit;
    tw_stat_summary summary;
    bool has_samples;
    tw_stat_pairs pairs;
} rollup_bucket;

typedef struct rollup {
    rollup_bucket *items;
    size_t n, cap;
} rollup;

static rollup_bucket *rollup_get(rollup *r, int64_t bucket, int unit)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].bucket == bucket && r->items[i].unit == unit)
            return &r->items[i];
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->items = tw_realloc(r->items, r->cap * sizeof *r->items);
    }
    rollup_bucket *b = &r->items[r->n++];
    memset(b, 0, sizeof *b);
    b->bucket = bucket;
    b->unit = unit;
    b->has_samples = true;
    tw_stat_summary_init(&b->summary);
    return b;
}

static void rollup_add(rollup *r, int64_t bucket, int unit, const tw_stat_summary *s,
                       const void *blob, size_t len, bool has_samples)
{
    rollup_bucket *b = rollup_get(r, bucket, unit);
    tw_stat_summary_merge(&b->summary, s);
    if (b->has_samples && has_samples && tw_stat_pairs_append_blob(&b->pairs, blob, len) == 0) {
        if (b->pairs.n > 2 * TW_METRICS_ROLLUP_MAX_PAIRS)
            b->pairs.n = tw_stat_pairs_compact(b->pairs.items, b->pairs.n);
        b->has_samples = b->pairs.n <= 2 * TW_METRICS_ROLLUP_MAX_PAIRS;
    } else {
        b->has_samples = false;
    }
}

static void rollup_free(rollup *r)
{
    for (size_t i = 0; i < r->n; i++)
        tw_stat_pairs_free(&r->items[i].pairs);
    free(r->items);
    memset(r, 0, sizeof *r);
}

static int rollup_store(tw_db *db, int64_t id, int resolution, rollup *r, tw_err *err)
{
    tw_buf blob = TW_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        rollup_bucket *b = &r->items[i];
        b->pairs.n = tw_stat_pairs_compact(b->pairs.items, b->pairs.n);
        bool keep = b->has_samples && b->pairs.n <= TW_METRICS_ROLLUP_MAX_PAIRS;
        tw_buf_reset(&blob);
        tw_stat_pairs_encode(b->pairs.items, b->pairs.n, &blob);
        rc = upsert_point(db, id, resolution, b->bucket, b->unit, &b->summary,
                          keep ? &blob : NULL, err);
    }
    rollup_free(r);
    tw_buf_free(&blob);
    return rc;
}

/* 60 s buckets older than 15 days → 300 s and 3600 s buckets. */
static int roll_up_minutes(tw_db *db, int64_t id, int64_t before_s,
                           tw_metrics_maintenance_stats *stats, tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "SELECT bucket, unit, sample_count, sum, minimum, maximum, samples FROM metric_points"
            " WHERE metric_id = ?1 AND resolution = 60 AND bucket < ?2");
    if (!st)
        return sql_error(db, err, "rolling up datapoints");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, before_s);
    rollup five = {0}, hour = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t bucket = sqlite3_column_int64(st, 0);
        int unit = sqlite3_column_int(st, 1);
        tw_stat_summary s;
        tw_stat_summary_init(&s);
        tw_stat_summary_add(&s, sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
                            sqlite3_column_double(st, 4), sqlite3_column_double(st, 5));
        const void *blob = sqlite3_column_blob(st, 6);
        size_t len = (size_t)sqlite3_column_bytes(st, 6);
        bool has = sqlite3_column_type(st, 6) != SQLITE_NULL;
        rollup_add(&five, floor_div(bucket, 300) * 300, unit, &s, blob, len, has);
        rollup_add(&hour, floor_div(bucket, 3600) * 3600, unit, &s, blob, len, has);
        stats->rows_rolled_up++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rollup_free(&five);
        rollup_free(&hour);
        return sql_error(db, err, "rolling up datapoints");
    }
    rc = rollup_store(db, id, 300, &five, err);
    int rc2 = rollup_store(db, id, 3600, &hour, err);
    if (rc == 0)
        rc = rc2;
    return rc == 0 ? delete_older(db, id, 60, before_s, stats, err) : rc;
}

static int maintain_metric(tw_db *db, int64_t id, int64_t now_s,
                           tw_metrics_maintenance_stats *stats, tw_err *err)
{
    int rc = delete_older(db, id, 1, now_s - HIGH_RES_KEEP_S, stats, err);
    if (rc == 0)
        rc = roll_up_minutes(db, id, now_s - MINUTE_KEEP_S, stats, err);
    if (rc == 0)
        rc = delete_older(db, id, 300, now_s - FIVE_MINUTE_KEEP_S, stats, err);
    if (rc == 0)
        rc = delete_older(db, id, 3600, now_s - HOUR_KEEP_S, stats, err);
    stats->metrics_visited++;
    return rc;
}

static int forget_old_metrics(tw_db *db, int64_t now_ms, tw_metrics_maintenance_stats *stats,
                              tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "DELETE FROM metrics WHERE last_timestamp_ms < ?1 AND NOT EXISTS"
            " (SELECT 1 FROM metric_points WHERE metric_id = metrics.id)");
    if (!st)
        return sql_error(db, err, "expiring metrics");
    sqlite3_bind_int64(st, 1, now_ms - HOUR_KEEP_S * 1000);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sql_error(db, err, "expiring metrics");
    stats->metrics_deleted += (unsigned long long)sqlite3_changes(tw_db_handle(db));
    return 0;
}

int tw_metrics_db_maintain(tw_db *db, int64_t now_ms, int64_t *resume_id, size_t budget,
                           tw_metrics_maintenance_stats *stats, tw_err *err)
{
    sqlite3_stmt *st = tw_db_prepare(db, "SELECT id FROM metrics WHERE id > ?1 ORDER BY id "
                                         "LIMIT ?2");
    if (!st)
        return sql_error(db, err, "maintaining metrics");
    sqlite3_bind_int64(st, 1, *resume_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)budget);
    int64_t *ids = tw_malloc((budget ? budget : 1) * sizeof *ids);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < budget)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(ids);
        return sql_error(db, err, "maintaining metrics");
    }
    rc = 0;
    int64_t now_s = floor_div(now_ms, 1000);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = maintain_metric(db, ids[i], now_s, stats, err);
    *resume_id = n == budget ? ids[n - 1] : 0;
    free(ids);
    if (rc == 0 && *resume_id == 0)
        rc = forget_old_metrics(db, now_ms, stats, err);
    return rc;
}
