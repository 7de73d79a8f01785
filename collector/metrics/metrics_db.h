/* metrics_db.h — CloudWatch metrics in the collector's SQLite store.
 *
 * Tables (component "metrics"):
 *   metrics        one row per metric identity (namespace, name, dimensions
 *                  sorted by name as canonical JSON) → integer id, with the
 *                  newest datapoint time (ListMetrics lists metrics with data
 *                  in the last two weeks) and the last publish time
 *                  (RecentlyActive PT3H). UNIQUE index = the lookup index.
 *   metric_points  one row per (metric, resolution, bucket start, unit):
 *                  SampleCount, Sum, Minimum, Maximum and the samples as
 *                  (value, count) pairs (statistics.h storage form; NULL when
 *                  a StatisticSet that percentiles cannot use went in, so the
 *                  bucket has no percentiles).
 *
 * Resolutions and retention (spec/cloudwatch.md §3.2): every datum goes into
 * its 60 s bucket, and high-resolution data (StorageResolution 1) also into
 * its 1 s bucket. Maintenance (tw_metrics_db_maintain, run every few minutes
 * by the service's timer in metrics_service.c) deletes 1 s buckets after 3
 * hours, rolls 60 s buckets older than 15 days into 300 s and 3600 s buckets
 * (samples merged into value/count pairs, kept while there are at most
 * TW_METRICS_ROLLUP_MAX_PAIRS distinct values), then deletes them; 300 s
 * buckets go after 63 days, 3600 s ones after 455 days. No datum older than
 * 14 days is accepted, so a rolled-up minute never gets new data. Queries
 * read each stretch of time from the one level that holds it: 1 s buckets
 * for periods under a minute, else 60 s buckets, then 300 s buckets back to
 * 63 days, then 3600 s buckets.
 *
 * All functions run inside store jobs (tw_db from store.h); none keeps state
 * between calls. Errors: a negative errno with err set to the SQLite error.
 */
#ifndef TW_METRICS_DB_H
#define TW_METRICS_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics_rules.h"
#include "statistics.h"
#include "store.h"

#define TW_METRICS_ROLLUP_MAX_PAIRS 4096
#define TW_METRICS_LIST_PAGE 500

extern const tw_migration tw_metrics_migrations[]; /* ends with component NULL */

/* Stores every datum of a checked PutMetricData (one write job, prepared
 * statements from the connection's cache). */
int tw_metrics_db_put(tw_db *db, const tw_metric_put *put, int64_t now_ms, tw_err *err);

/* ---- reading buckets ---- */

typedef struct tw_metric_bucket {
    int64_t ts_ms; /* the period's start */
    int unit;      /* tw_metric_units index; -1 when units were merged */
    tw_stat_summary summary;
    bool has_samples;           /* false: some data had no samples (no percentiles) */
    size_t first_pair, n_pairs; /* in tw_metric_buckets.pairs */
} tw_metric_bucket;

/* Buckets sorted by (ts_ms, unit). Zero-initialise; free with
 * tw_metric_buckets_free. */
typedef struct tw_metric_buckets {
    tw_metric_bucket *items;
    size_t n, cap;
    tw_stat_pairs pairs;
} tw_metric_buckets;

void tw_metric_buckets_free(tw_metric_buckets *buckets);

typedef struct tw_metric_query {
    const tw_metric_key *key;
    int unit;          /* -1 = any */
    bool split_units;  /* one bucket per unit (GetMetricStatistics) or one for all */
    bool want_samples; /* a percentile was asked for */
    int64_t start_ms;  /* the first period's start (tw_metrics_round_start) */
    int64_t end_ms;    /* exclusive */
    int64_t period_s;
    int64_t now_ms;
} tw_metric_query;

/* Aggregates the metric's data into periods [start + k*period, ...). A
 * metric that does not exist gives no buckets. */
int tw_metrics_db_query(tw_db *db, const tw_metric_query *query, tw_metric_buckets *out,
                        tw_err *err);

/* ListMetrics: appends up to TW_METRICS_LIST_PAGE {Namespace, MetricName,
 * Dimensions} objects to metrics, for ids above after_id; *next_id is the id
 * to continue after, or 0 when nothing is left. */
int tw_metrics_db_list(tw_db *db, const tw_metric_list_request *request, int64_t now_ms,
                       int64_t after_id, json_t *metrics, int64_t *next_id, tw_err *err);

/* ---- roll-up and expiry ---- */

typedef struct tw_metrics_maintenance_stats {
    unsigned long long metrics_visited, rows_rolled_up, rows_deleted, metrics_deleted;
} tw_metrics_maintenance_stats;

/* One step of maintenance for up to `budget` metrics with ids above
 * *resume_id (advanced; 0 when the pass is complete). A write job. */
int tw_metrics_db_maintain(tw_db *db, int64_t now_ms, int64_t *resume_id, size_t budget,
                           tw_metrics_maintenance_stats *stats, tw_err *err);

#endif
