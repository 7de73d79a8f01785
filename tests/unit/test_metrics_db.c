/* test_metrics_db.c — the metrics tables in a real SQLite store: buckets per
 * resolution and unit, the roll-up of minutes into 5-minute and hour buckets
 * after 15 days, CloudWatch's retention (1 s data 3 hours, 5-minute data 63
 * days, hour data 455 days), and ListMetrics' filters and pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_db.h"
#include "metrics_rules.h"
#include "store.h"
#include "testutil.h"

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define MINUTE 60000LL
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

typedef struct fixture {
    char dir[256];
    char path[300];
    uv_loop_t loop;
    tw_store *store;
} fixture;

static const tw_migration *const lists[] = {tw_metrics_migrations, NULL};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "metrics") != 0 || uv_loop_init(&f->loop) != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/collector.db", f->dir);
    tw_err err = {{0}};
    if (tw_store_open(&f->loop, f->path, lists, &f->store, &err) != 0)
        fail_msg("tw_store_open: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_store_close(f->store);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&f->loop);
    rc |= tw_test_rm_rf(f->dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- running store jobs to completion ---- */

typedef struct job {
    int (*fn)(tw_db *db, struct job *job);
    bool done;
    int status;
    tw_err err;
    int64_t now_ms;
    tw_metric_put put;
    tw_metric_query query;
    tw_metric_buckets buckets;
    tw_metric_list_request list;
    int64_t after_id, next_id;
    json_t *metrics;
    tw_metrics_maintenance_stats stats;
} job;

static int run_fn(tw_db *db, void *arg)
{
    job *j = arg;
    return j->fn(db, j);
}

static void job_done(void *arg, int status)
{
    job *j = arg;
    j->done = true;
    if (j->status == 0)
        j->status = status;
}

static void run(fixture *f, job *j, bool write)
{
    j->done = false;
    j->status = 0;
    if (write)
        tw_store_write(f->store, run_fn, job_done, j);
    else
        tw_store_read(f->store, run_fn, job_done, j);
    while (!j->done)
        uv_run(&f->loop, UV_RUN_ONCE);
    if (j->status != 0)
        fail_msg("job failed (%d): %s", j->status, j->err.msg);
}

static int put_fn(tw_db *db, job *j)
{
    return tw_metrics_db_put(db, &j->put, j->now_ms, &j->err);
}

/* Checks and stores a PutMetricData input received at now_ms. */
static void put(fixture *f, int64_t now_ms, const char *input)
{
    json_t *in = json_loads(input, 0, NULL);
    assert_non_null(in);
    job j = {.fn = put_fn, .now_ms = now_ms};
    tw_metrics_fault fault = {0};
    if (tw_metrics_check_put(in, now_ms, &j.put, &fault) != 0)
        fail_msg("bad test input: %s", tw_buf_cstr(&fault.message));
    run(f, &j, true);
    tw_metric_put_free(&j.put);
    json_decref(in);
}

static int maintain_fn(tw_db *db, job *j)
{
    int64_t resume = 0;
    do {
        int rc = tw_metrics_db_maintain(db, j->now_ms, &resume, 2, &j->stats, &j->err);
        if (rc != 0)
            return rc;
    } while (resume != 0);
    return 0;
}

static tw_metrics_maintenance_stats maintain(fixture *f, int64_t now_ms)
{
    job j = {.fn = maintain_fn, .now_ms = now_ms};
    run(f, &j, true);
    return j.stats;
}

static int query_fn(tw_db *db, job *j)
{
    return tw_metrics_db_query(db, &j->query, &j->buckets, &j->err);
}

static tw_metric_key key_of(const char *ns, const char *name)
{
    tw_metric_key k;
    memset(&k, 0, sizeof k);
    k.namespace = ns;
    k.name = name;
    return k;
}

/* Reads buckets of metric "App"/name from start_ms for span_ms. The caller
 * frees j->buckets. */
static void query(fixture *f, job *j, const tw_metric_key *key, int64_t now_ms, int64_t start_ms,
                  int64_t span_ms, int64_t period_s, bool split_units)
{
    memset(j, 0, sizeof *j);
    j->fn = query_fn;
    j->query = (tw_metric_query){.key = key,
                                 .unit = -1,
                                 .split_units = split_units,
                                 .want_samples = true,
                                 .start_ms = start_ms,
                                 .end_ms = start_ms + span_ms,
                                 .period_s = period_s,
                                 .now_ms = now_ms};
    run(f, j, false);
}

static long long count_rows(fixture *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- tests ---- */

#define PUT1(name, extra)                                                                          \
    "{\"Namespace\":\"App\",\"MetricData\":[{\"MetricName\":\"" name "\"," extra "}]}"

static void test_datums_land_in_minute_buckets_kept_apart_by_unit(void **state)
{
    fixture *f = *state;
    put(f, T0,
        "{\"Namespace\":\"App\",\"MetricData\":["
        "{\"MetricName\":\"Lat\",\"Value\":1,\"Unit\":\"Seconds\",\"Timestamp\":\"2023-12-31T23:50:"
        "10Z\"},"
        "{\"MetricName\":\"Lat\",\"Value\":3,\"Unit\":\"Seconds\",\"Timestamp\":\"2023-12-31T23:50:"
        "50Z\"},"
        "{\"MetricName\":\"Lat\",\"Value\":500,\"Unit\":\"Milliseconds\",\"Timestamp\":\"2023-12-"
        "31T23:50:30Z\"},"
        "{\"MetricName\":\"Lat\",\"Values\":[2,4],\"Counts\":[1,3],\"Unit\":\"Seconds\","
        "\"Timestamp\":\"2023-12-31T23:51:00Z\"}]}");
    tw_metric_key key = key_of("App", "Lat");
    job j;
    query(f, &j, &key, T0, T0 - 10 * MINUTE, 5 * MINUTE, 60, true);
    assert_int_equal(j.buckets.n, 3); /* 23:50 Seconds, 23:50 Milliseconds, 23:51 Seconds */
    tw_metric_bucket *b = &j.buckets.items[0];
    assert_int_equal(b->ts_ms, T0 - 10 * MINUTE);
    assert_string_equal(tw_metric_units[b->unit], "Seconds");
    assert_true(b->summary.count == 2 && b->summary.sum == 4 && b->summary.max == 3);
    assert_true(b->has_samples && b->n_pairs == 2);
    b = &j.buckets.items[1];
    assert_string_equal(tw_metric_units[b->unit], "Milliseconds");
    assert_true(b->summary.sum == 500);
    b = &j.buckets.items[2];
    assert_int_equal(b->ts_ms, T0 - 9 * MINUTE);
    assert_true(b->summary.count == 4 && b->summary.sum == 14);
    tw_metric_buckets_free(&j.buckets);

    /* one period over all units (GetMetricData without Unit) */
    query(f, &j, &key, T0, T0 - 10 * MINUTE, 5 * MINUTE, 300, false);
    assert_int_equal(j.buckets.n, 1);
    assert_true(j.buckets.items[0].summary.count == 7);
    assert_int_equal(j.buckets.items[0].unit, -1);
    tw_metric_buckets_free(&j.buckets);

    /* another dimension set is another metric: nothing */
    tw_metric_key other = key_of("App", "Lat");
    other.dims[0] = (tw_metric_dimension){"Host", "a"};
    other.n_dims = 1;
    query(f, &j, &other, T0, T0 - 10 * MINUTE, 5 * MINUTE, 60, true);
    assert_int_equal(j.buckets.n, 0);
    tw_metric_buckets_free(&j.buckets);
}

static void test_statistic_sets_leave_a_bucket_without_samples(void **state)
{
    fixture *f = *state;
    put(f, T0, PUT1("S", "\"Value\":5,\"Timestamp\":\"2023-12-31T23:00:00Z\""));
    put(f, T0,
        PUT1("S", "\"StatisticValues\":{\"SampleCount\":10,\"Sum\":55,\"Minimum\":1,"
                  "\"Maximum\":10},\"Timestamp\":\"2023-12-31T23:00:30Z\""));
    put(f, T0, PUT1("S", "\"Value\":6,\"Timestamp\":\"2023-12-31T23:00:40Z\""));
    tw_metric_key key = key_of("App", "S");
    job j;
    query(f, &j, &key, T0, T0 - HOUR, MINUTE, 60, true);
    assert_int_equal(j.buckets.n, 1);
    assert_true(j.buckets.items[0].summary.count == 12 && j.buckets.items[0].summary.sum == 66);
    assert_false(j.buckets.items[0].has_samples); /* no percentiles for this minute */
    tw_metric_buckets_free(&j.buckets);
}

static void test_high_resolution_buckets_expire_after_three_hours(void **state)
{
    fixture *f = *state;
    put(f, T0,
        "{\"Namespace\":\"App\",\"MetricData\":["
        "{\"MetricName\":\"Hot\",\"Value\":1,\"StorageResolution\":1,\"Timestamp\":\"2023-12-31T23:"
        "00:01Z\"},"
        "{\"MetricName\":\"Hot\",\"Value\":2,\"StorageResolution\":1,\"Timestamp\":\"2023-12-31T23:"
        "00:01.500Z\"},"
        "{\"MetricName\":\"Hot\",\"Value\":4,\"StorageResolution\":1,\"Timestamp\":\"2023-12-31T23:"
        "00:02Z\"}]}");
    tw_metric_key key = key_of("App", "Hot");
    job j;
    query(f, &j, &key, T0, T0 - HOUR, 10000, 1, true);
    assert_int_equal(j.buckets.n, 2);
    assert_true(j.buckets.items[0].summary.sum == 3 && j.buckets.items[1].summary.sum == 4);
    tw_metric_buckets_free(&j.buckets);

    tw_metrics_maintenance_stats s = maintain(f, T0 + 2 * HOUR); /* data 3 h old: kept */
    assert_int_equal(s.rows_deleted, 0);
    s = maintain(f, T0 + 2 * HOUR + 3000); /* both seconds now over 3 h old */
    assert_int_equal(s.rows_deleted, 2);
    query(f, &j, &key, T0, T0 - HOUR, 10000, 1, true);
    assert_int_equal(j.buckets.n, 0);
    tw_metric_buckets_free(&j.buckets);
    /* the minute bucket still has it */
    query(f, &j, &key, T0 + 3 * HOUR, T0 - HOUR, MINUTE, 60, true);
    assert_int_equal(j.buckets.n, 1);
    assert_true(j.buckets.items[0].summary.sum == 7);
    tw_metric_buckets_free(&j.buckets);
}

static void test_minutes_roll_up_after_fifteen_days_keeping_statistics_and_percentiles(void **state)
{
    fixture *f = *state;
    /* 13 days before T0, one value a minute for 10 minutes: 1..10 */
    char input[2048] = "{\"Namespace\":\"App\",\"MetricData\":[";
    int64_t base = T0 - 13 * DAY;
    for (int i = 0; i < 10; i++) {
        char datum[160];
        snprintf(datum, sizeof datum, "%s{\"MetricName\":\"Old\",\"Value\":%d,\"Timestamp\":%lld}",
                 i ? "," : "", i + 1, (long long)((base + i * MINUTE) / 1000));
        strcat(input, datum);
    }
    strcat(input, "]}");
    put(f, T0, input);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metric_points WHERE resolution = 60"), 10);

    tw_metrics_maintenance_stats s = maintain(f, T0 + DAY); /* 14 days old: not yet */
    assert_int_equal(s.rows_rolled_up, 0);
    s = maintain(f, T0 + 3 * DAY); /* 16 days old */
    assert_int_equal(s.rows_rolled_up, 10);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metric_points WHERE resolution = 60"), 0);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metric_points WHERE resolution = 300"), 2);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metric_points WHERE resolution = 3600"),
                     1);

    tw_metric_key key = key_of("App", "Old");
    job j;
    query(f, &j, &key, T0 + 3 * DAY, base, HOUR, 300, true);
    assert_int_equal(j.buckets.n, 2); /* each minute counted once */
    assert_true(j.buckets.items[0].summary.sum == 15 && j.buckets.items[1].summary.sum == 40);
    double p50;
    tw_metric_bucket *b = &j.buckets.items[1];
    assert_true(tw_stat_percentile(j.buckets.pairs.items + b->first_pair, b->n_pairs, 50, &p50));
    assert_true(p50 == 8); /* 6..10 */
    tw_metric_buckets_free(&j.buckets);

    /* after 63 days only the hour remains, with everything in it */
    s = maintain(f, T0 + 70 * DAY);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metric_points WHERE resolution = 300"), 0);
    query(f, &j, &key, T0 + 70 * DAY, base, HOUR, 3600, true);
    assert_int_equal(j.buckets.n, 1);
    assert_true(j.buckets.items[0].summary.count == 10 && j.buckets.items[0].summary.sum == 55);
    assert_true(j.buckets.items[0].summary.min == 1 && j.buckets.items[0].summary.max == 10);
    tw_metric_buckets_free(&j.buckets);

    /* after 455 days nothing, and the metric itself is forgotten */
    s = maintain(f, T0 + 460 * DAY);
    assert_int_equal(s.metrics_deleted, 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metric_points"), 0);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM metrics"), 0);
}

static int list_fn(tw_db *db, job *j)
{
    return tw_metrics_db_list(db, &j->list, j->now_ms, j->after_id, j->metrics, &j->next_id,
                              &j->err);
}

static size_t list(fixture *f, int64_t now_ms, const char *request_json, int64_t after_id,
                   int64_t *next_id)
{
    json_t *in = json_loads(request_json, 0, NULL);
    job j = {.fn = list_fn, .now_ms = now_ms, .after_id = after_id, .metrics = json_array()};
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_list(in, &j.list, &fault), 0);
    run(f, &j, false);
    size_t n = json_array_size(j.metrics);
    if (next_id)
        *next_id = j.next_id;
    json_decref(j.metrics);
    json_decref(in);
    return n;
}

static void test_list_metrics_filters_pages_and_ages(void **state)
{
    fixture *f = *state;
    json_t *in = json_pack("{s:s,s:[]}", "Namespace", "Bulk", "MetricData");
    json_t *data = json_object_get(in, "MetricData");
    for (int i = 0; i < 510; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%03d", i);
        json_array_append_new(data, json_pack("{s:s,s:i,s:[{s:s,s:s}]}", "MetricName", name,
                                              "Value", i, "Dimensions", "Name", "Tier", "Value",
                                              i % 2 ? "odd" : "even"));
    }
    char *text = json_dumps(in, 0);
    put(f, T0, text);
    free(text);
    json_decref(in);

    int64_t next;
    assert_int_equal(list(f, T0, "{\"Namespace\":\"Bulk\"}", 0, &next), 500);
    assert_true(next > 0);
    int64_t last;
    assert_int_equal(list(f, T0, "{\"Namespace\":\"Bulk\"}", next, &last), 10);
    assert_int_equal(last, 0);
    assert_int_equal(
        list(f, T0, "{\"Dimensions\":[{\"Name\":\"Tier\",\"Value\":\"odd\"}]}", 0, NULL), 255);
    assert_int_equal(
        list(f, T0, "{\"Dimensions\":[{\"Name\":\"Tier\"}],\"MetricName\":\"m007\"}", 0, NULL), 1);
    assert_int_equal(list(f, T0, "{\"Dimensions\":[{\"Name\":\"Zone\"}]}", 0, NULL), 0);
    assert_int_equal(list(f, T0, "{\"Namespace\":\"Nope\"}", 0, NULL), 0);
    /* RecentlyActive: published in the last 3 hours */
    assert_int_equal(
        list(f, T0 + 2 * HOUR, "{\"RecentlyActive\":\"PT3H\",\"MetricName\":\"m001\"}", 0, NULL),
        1);
    assert_int_equal(
        list(f, T0 + 4 * HOUR, "{\"RecentlyActive\":\"PT3H\",\"MetricName\":\"m001\"}", 0, NULL),
        0);
    /* no data in the last two weeks: not listed */
    assert_int_equal(list(f, T0 + 13 * DAY, "{\"MetricName\":\"m001\"}", 0, NULL), 1);
    assert_int_equal(list(f, T0 + 15 * DAY, "{\"MetricName\":\"m001\"}", 0, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_datums_land_in_minute_buckets_kept_apart_by_unit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_statistic_sets_leave_a_bucket_without_samples, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_high_resolution_buckets_expire_after_three_hours,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_minutes_roll_up_after_fifteen_days_keeping_statistics_and_percentiles, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_list_metrics_filters_pages_and_ages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
