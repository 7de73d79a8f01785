/* test_metric_pipeline.c — the metric model's rules, aggregation into
 * datums, PutMetricData bodies under every limit, request records, and the
 * worker-thread sample queue. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "cwm_encode.h"
#include "encode.h"
#include "metric.h"
#include "metric_agg.h"
#include "request.h"
#include "sample_queue.h"

#define MINUTE_MS 60000

/* ---- metric.h rules ------------------------------------------------------- */

static void test_sample_check_accepts_a_plain_gauge(void **state)
{
    (void)state;
    tw_dimension d = {"cpu", "cpu0"};
    tw_metric_sample s = {.name = "cpu_usage_idle", .unit = "Percent", .value = 97.5,
                          .dimensions = &d, .n_dimensions = 1};
    char why[256] = "";
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), 0);
}

static void test_sample_check_refuses_what_cloudwatch_refuses(void **state)
{
    (void)state;
    char why[256];
    tw_metric_sample s = {.name = "x", .unit = "Percent", .value = NAN};
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "finite"));
    s.value = ldexp(1, 361);
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    s.value = 1;
    s.unit = "percent"; /* units are case-sensitive */
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "not a CloudWatch unit"));
    s.unit = NULL;
    s.name = "";
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    s.name = "x";
    tw_dimension bad = {"", "v"};
    s.dimensions = &bad;
    s.n_dimensions = 1;
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    tw_dimension control = {"path", "a\tb"};
    s.dimensions = &control;
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    tw_dimension many[30];
    for (int i = 0; i < 30; i++)
        many[i] = (tw_dimension){"d", "v"};
    s.dimensions = many;
    s.n_dimensions = 30;
    assert_int_equal(tw_metric_sample_check(&s, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "29"));
}

static void test_unit_lookup_knows_all_27_units(void **state)
{
    (void)state;
    assert_string_equal(tw_metric_unit_lookup("Bytes/Second"), "Bytes/Second");
    assert_string_equal(tw_metric_unit_lookup("None"), "None");
    assert_string_equal(tw_metric_unit_lookup("Count/Second"), "Count/Second");
    assert_null(tw_metric_unit_lookup("Bytes/second"));
    assert_null(tw_metric_unit_lookup("Hz"));
}

/* ---- aggregation ------------------------------------------------------------ */

typedef struct collected {
    char ns[64][64];
    char text[64][512]; /* name|unit|dims|time|value or stats|values */
    size_t n;
} collected;

static void collect_datum(void *ctx, const char *ns, const tw_metric_datum *d)
{
    collected *c = ctx;
    assert_true(c->n < 64);
    snprintf(c->ns[c->n], sizeof c->ns[c->n], "%s", ns);
    char *t = c->text[c->n];
    size_t n = 0, size = sizeof c->text[c->n];
    n += (size_t)snprintf(t + n, size - n, "%s|%s|", d->name, d->unit);
    for (size_t i = 0; i < d->n_dimensions; i++)
        n += (size_t)snprintf(t + n, size - n, "%s=%s,", d->dimensions[i].name,
                              d->dimensions[i].value);
    n += (size_t)snprintf(t + n, size - n, "|%lld|r%d|", (long long)d->time_ms,
                          d->storage_resolution);
    if (d->has_value)
        n += (size_t)snprintf(t + n, size - n, "v=%g", d->value);
    if (d->has_statistics)
        n += (size_t)snprintf(t + n, size - n, "n=%g s=%g min=%g max=%g", d->sample_count,
                              d->sum, d->minimum, d->maximum);
    for (size_t i = 0; i < d->n_values; i++)
        n += (size_t)snprintf(t + n, size - n, " %g*%g", d->values[i], d->counts[i]);
    c->n++;
}

static tw_metric_agg *new_agg(int resolution)
{
    tw_dimension extra[] = {{"role", "web"}};
    tw_metric_agg_options o = {.namespace_ = "CWAgent", .hostname = "h1", .dimensions = extra,
                               .n_dimensions = 1, .storage_resolution = resolution,
                               .max_series = 100};
    return tw_metric_agg_new(&o);
}

static void emit(tw_metric_sink *sink, const char *name, double v, int64_t t,
                 const tw_dimension *dims, size_t n)
{
    tw_metric_sample s = {.name = name, .unit = "Percent", .value = v, .time_ms = t,
                          .dimensions = dims, .n_dimensions = n};
    assert_int_equal(tw_metric_emit(sink, &s), 0);
}

static void test_agg_puts_host_first_then_sorted_dimensions(void **state)
{
    (void)state;
    tw_metric_agg *agg = new_agg(60);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "test");
    tw_dimension dims[] = {{"zone", "a"}, {"cpu", "cpu0"}};
    emit(&sink, "cpu_usage_idle", 50, 10 * MINUTE_MS + 5000, dims, 2);
    collected c = {0};
    tw_metric_agg_flush(agg, collect_datum, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.ns[0], "CWAgent");
    assert_string_equal(c.text[0], "cpu_usage_idle|Percent|host=h1,cpu=cpu0,role=web,zone=a,|"
                                   "600000|r60|v=50");
    tw_metric_agg_free(agg);
}

static void test_agg_folds_a_minute_into_statistics(void **state)
{
    (void)state;
    tw_metric_agg *agg = new_agg(60);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "test");
    for (int i = 0; i < 6; i++) /* 10-second samples within one minute */
        emit(&sink, "mem_used_percent", 10 + i, 5 * MINUTE_MS + i * 10000, NULL, 0);
    emit(&sink, "mem_used_percent", 99, 6 * MINUTE_MS, NULL, 0); /* the next minute */
    collected c = {0};
    tw_metric_agg_flush(agg, collect_datum, &c);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.text[0],
                        "mem_used_percent|Percent|host=h1,role=web,|300000|r60|n=6 s=75 min=10 "
                        "max=15");
    assert_string_equal(c.text[1], "mem_used_percent|Percent|host=h1,role=web,|360000|r60|v=99");
    /* Flushed buckets are gone. */
    collected again = {0};
    tw_metric_agg_flush(agg, collect_datum, &again);
    assert_int_equal(again.n, 0);
    tw_metric_agg_free(agg);
}

static void test_agg_keeps_every_second_at_high_resolution(void **state)
{
    (void)state;
    tw_metric_agg *agg = new_agg(1);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "test");
    for (int i = 0; i < 5; i++)
        emit(&sink, "cpu_usage_user", i, 1000 * (100 + i) + 300, NULL, 0);
    collected c = {0};
    tw_metric_agg_flush(agg, collect_datum, &c);
    assert_int_equal(c.n, 5);
    assert_non_null(strstr(c.text[3], "|103000|r1|v=3"));
    tw_metric_agg_free(agg);
}

static void test_agg_keeps_distribution_values_with_counts(void **state)
{
    (void)state;
    tw_metric_agg *agg = new_agg(60);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "statsd");
    double values[] = {12, 5, 12, 7};
    double counts[] = {1, 2, 10, 1};
    for (int i = 0; i < 4; i++) {
        tw_metric_sample s = {.name = "latency", .unit = "Milliseconds", .value = values[i],
                              .count = counts[i], .time_ms = MINUTE_MS,
                              .kind = TW_METRIC_DISTRIBUTION};
        assert_int_equal(tw_metric_emit(&sink, &s), 0);
    }
    collected c = {0};
    tw_metric_agg_flush(agg, collect_datum, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.text[0], "latency|Milliseconds|host=h1,role=web,|60000|r60|n=14 "
                                   "s=149 min=5 max=12 5*2 7*1 12*11");
    tw_metric_agg_free(agg);
}

static void test_agg_counts_rejects_and_caps_series(void **state)
{
    (void)state;
    tw_metric_agg *agg = new_agg(60);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "test");
    tw_metric_sample bad = {.name = "x", .unit = "Hz", .value = 1};
    assert_int_equal(tw_metric_emit(&sink, &bad), -EINVAL);
    char name[32];
    int refused = 0;
    for (int i = 0; i < 150; i++) {
        snprintf(name, sizeof name, "series_%d", i);
        tw_metric_sample s = {.name = name, .value = 1, .time_ms = MINUTE_MS};
        if (tw_metric_emit(&sink, &s) == -ENOSPC)
            refused++;
    }
    assert_int_equal(refused, 50);
    tw_metric_agg_stats st;
    tw_metric_agg_stats_get(agg, &st);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.dropped_series, 50);
    assert_int_equal(st.series, 100);
    tw_metric_agg_free(agg);
}

static void test_agg_groups_datums_by_namespace(void **state)
{
    (void)state;
    tw_metric_agg *agg = new_agg(60);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "test");
    const char *ns[] = {"A", "B", "A", "B", NULL};
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof name, "m%d", i);
        tw_metric_sample s = {.namespace_ = ns[i], .name = name, .value = i,
                              .time_ms = MINUTE_MS};
        assert_int_equal(tw_metric_emit(&sink, &s), 0);
    }
    collected c = {0};
    tw_metric_agg_flush(agg, collect_datum, &c);
    assert_int_equal(c.n, 5);
    /* Each namespace's datums come together. */
    for (size_t i = 1; i < c.n; i++)
        for (size_t j = i + 1; j < c.n; j++)
            if (strcmp(c.ns[i], c.ns[j]) == 0)
                for (size_t k = i + 1; k < j; k++)
                    assert_string_equal(c.ns[k], c.ns[i]);
    tw_metric_agg_free(agg);
}

/* ---- PutMetricData bodies ----------------------------------------------------- */

typedef struct bodies {
    char *text[64];
    char ns[64][32];
    size_t datums[64];
    size_t n;
} bodies;

static void keep_body(void *ctx, const char *ns, tw_buf *body, size_t n_datums)
{
    bodies *b = ctx;
    assert_true(b->n < 64);
    snprintf(b->ns[b->n], sizeof b->ns[b->n], "%s", ns);
    b->datums[b->n] = n_datums;
    b->text[b->n++] = tw_buf_steal(body);
}

static void free_bodies(bodies *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->text[i]);
}

static void test_cwm_encodes_a_datum_exactly(void **state)
{
    (void)state;
    bodies b = {0};
    tw_cwm_batcher *cwm = tw_cwm_batcher_new(0, keep_body, &b);
    tw_dimension dims[] = {{"host", "web 1"}, {"path", "/var"}};
    tw_metric_datum d = {.name = "disk_used_percent", .unit = "Percent", .dimensions = dims,
                         .n_dimensions = 2, .time_ms = 1700000000000, .storage_resolution = 1,
                         .has_value = true, .value = 0.1};
    tw_cwm_batcher_add(cwm, "CW/Agent", &d);
    tw_cwm_batcher_finish(cwm);
    assert_int_equal(b.n, 1);
    assert_string_equal(
        b.text[0],
        "Action=PutMetricData&Version=2010-08-01&Namespace=CW%2FAgent"
        "&MetricData.member.1.MetricName=disk_used_percent"
        "&MetricData.member.1.Dimensions.member.1.Name=host"
        "&MetricData.member.1.Dimensions.member.1.Value=web%201"
        "&MetricData.member.1.Dimensions.member.2.Name=path"
        "&MetricData.member.1.Dimensions.member.2.Value=%2Fvar"
        "&MetricData.member.1.Timestamp=2023-11-14T22%3A13%3A20Z"
        "&MetricData.member.1.Value=0.1"
        "&MetricData.member.1.Unit=Percent"
        "&MetricData.member.1.StorageResolution=1");
    free_bodies(&b);
    tw_cwm_batcher_free(cwm);
}

static void test_cwm_cuts_at_1000_datums_and_on_namespace_change(void **state)
{
    (void)state;
    bodies b = {0};
    tw_cwm_batcher *cwm = tw_cwm_batcher_new(0, keep_body, &b);
    tw_metric_datum d = {.name = "m", .unit = "Count", .time_ms = 60000,
                         .storage_resolution = 60, .has_value = true, .value = 1};
    for (int i = 0; i < 2500; i++)
        tw_cwm_batcher_add(cwm, "A", &d);
    tw_cwm_batcher_add(cwm, "B", &d);
    tw_cwm_batcher_finish(cwm);
    assert_int_equal(b.n, 4);
    assert_int_equal(b.datums[0], 1000);
    assert_int_equal(b.datums[1], 1000);
    assert_int_equal(b.datums[2], 500);
    assert_int_equal(b.datums[3], 1);
    assert_string_equal(b.ns[3], "B");
    assert_non_null(strstr(b.text[0], "MetricData.member.1000.Value=1"));
    assert_null(strstr(b.text[0], "MetricData.member.1001."));
    assert_non_null(strstr(b.text[1], "&MetricData.member.1.MetricName=m"));
    free_bodies(&b);
    tw_cwm_batcher_free(cwm);
}

static void test_cwm_keeps_bodies_under_the_byte_limit(void **state)
{
    (void)state;
    bodies b = {0};
    tw_cwm_batcher *cwm = tw_cwm_batcher_new(20000, keep_body, &b);
    char value[1025];
    memset(value, 'v', 1024);
    value[1024] = '\0';
    tw_dimension dims[10];
    for (int i = 0; i < 10; i++)
        dims[i] = (tw_dimension){"d", value};
    tw_metric_datum d = {.name = "m", .unit = "Count", .dimensions = dims, .n_dimensions = 10,
                         .time_ms = 60000, .storage_resolution = 60, .has_value = true};
    for (int i = 0; i < 20; i++)
        tw_cwm_batcher_add(cwm, "A", &d);
    tw_cwm_batcher_finish(cwm);
    size_t total = 0;
    for (size_t i = 0; i < b.n; i++) {
        assert_true(strlen(b.text[i]) <= 20000);
        total += b.datums[i];
    }
    assert_int_equal(total, 20);
    assert_true(b.n >= 2);
    free_bodies(&b);
    tw_cwm_batcher_free(cwm);
}

static void test_cwm_splits_distributions_over_150_values(void **state)
{
    (void)state;
    bodies b = {0};
    tw_cwm_batcher *cwm = tw_cwm_batcher_new(0, keep_body, &b);
    double values[400], counts[400];
    double sum = 0, n = 0;
    for (int i = 0; i < 400; i++) {
        values[i] = i + 1;
        counts[i] = 2;
        sum += values[i] * counts[i];
        n += counts[i];
    }
    tw_metric_datum d = {.name = "t", .unit = "Milliseconds", .time_ms = 60000,
                         .storage_resolution = 60, .has_statistics = true, .sample_count = n,
                         .sum = sum, .minimum = 1, .maximum = 400, .values = values,
                         .counts = counts, .n_values = 400};
    tw_cwm_batcher_add(cwm, "A", &d);
    tw_cwm_batcher_finish(cwm);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.datums[0], 3);
    const char *body = b.text[0];
    assert_non_null(strstr(body, "MetricData.member.1.Values.member.150=150"));
    assert_null(strstr(body, "MetricData.member.1.Values.member.151="));
    assert_non_null(strstr(body, "MetricData.member.3.Values.member.100=400"));
    /* Each part's own statistics: the parts add up to the whole. */
    assert_non_null(strstr(body, "MetricData.member.1.StatisticValues.SampleCount=300"));
    assert_non_null(strstr(body, "MetricData.member.1.StatisticValues.Sum=22650"));
    assert_non_null(strstr(body, "MetricData.member.2.StatisticValues.Minimum=151"));
    assert_non_null(strstr(body, "MetricData.member.3.StatisticValues.Maximum=400"));
    free_bodies(&b);
    tw_cwm_batcher_free(cwm);
}

static void test_format_double_round_trips(void **state)
{
    (void)state;
    double cases[] = {0.1, 1.0 / 3, 1e-300, 123456789012345678.0, -2.5, 97.3, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_buf out = TW_BUF_INIT;
        tw_cwm_format_double(&out, cases[i]);
        assert_true(strtod(out.data, NULL) == cases[i]);
        tw_buf_free(&out);
    }
    tw_buf out = TW_BUF_INIT;
    tw_cwm_format_double(&out, 97.3);
    assert_string_equal(out.data, "97.3");
    tw_buf_free(&out);
}

/* ---- request records ------------------------------------------------------------ */

static void test_request_round_trips_through_its_encoding(void **state)
{
    (void)state;
    tw_request *req = tw_request_new("logs", "/", "application/x-amz-json-1.1",
                                     "Logs_20140328.PutLogEvents", "PutLogEvents g/s");
    char body[4000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 3);
    tw_request_set_body(req, body, sizeof body);
    assert_true(req->gzip); /* repetitive: gzip is smaller */
    assert_true(req->body.len < sizeof body);
    assert_int_equal(strlen(req->batch_id), 32);
    tw_buf enc = TW_BUF_INIT;
    tw_request_encode(req, &enc);
    tw_request *back;
    assert_int_equal(tw_request_decode(enc.data, enc.len, &back, NULL), 0);
    assert_string_equal(back->service, "logs");
    assert_string_equal(back->target, "Logs_20140328.PutLogEvents");
    assert_string_equal(back->batch_id, req->batch_id);
    assert_int_equal(back->created_ms, req->created_ms);
    assert_true(back->gzip);
    assert_int_equal(back->body.len, req->body.len);
    assert_memory_equal(back->body.data, req->body.data, req->body.len);
    /* Every truncation is refused, never read past. */
    for (size_t cut = 0; cut < enc.len; cut++) {
        tw_request *bad = NULL;
        tw_err err;
        assert_int_equal(tw_request_decode(enc.data, cut, &bad, &err), -EINVAL);
        assert_null(bad);
    }
    tw_request_free(back);
    tw_request_free(req);
    tw_buf_free(&enc);
}

static void test_request_keeps_small_bodies_plain(void **state)
{
    (void)state;
    tw_request *req = tw_request_new("monitoring", "/", "x", NULL, "l");
    tw_request_set_body(req, "Action=PutMetricData", 20);
    assert_false(req->gzip);
    assert_string_equal(req->body.data, "Action=PutMetricData");
    tw_request *other = tw_request_new("monitoring", "/", "x", NULL, "l");
    assert_string_not_equal(req->batch_id, other->batch_id);
    tw_buf enc = TW_BUF_INIT;
    tw_request_encode(req, &enc);
    tw_request *back;
    assert_int_equal(tw_request_decode(enc.data, enc.len, &back, NULL), 0);
    assert_null(back->target);
    tw_request_free(back);
    tw_buf_free(&enc);
    tw_request_free(req);
    tw_request_free(other);
}

/* ---- sample queue ------------------------------------------------------------------ */

static void test_sample_queue_replays_copies(void **state)
{
    (void)state;
    tw_sample_queue *q = tw_sample_queue_new(2);
    tw_metric_sink qs = tw_sample_queue_sink(q);
    char name[16] = "disk_free", value[16] = "/data";
    tw_dimension d = {"path", value};
    tw_metric_sample s = {.name = name, .unit = "Bytes", .value = 42, .time_ms = MINUTE_MS,
                          .dimensions = &d, .n_dimensions = 1};
    assert_int_equal(tw_metric_emit(&qs, &s), 0);
    strcpy(name, "clobbered"); /* the queue kept its own copy */
    strcpy(value, "/nope");
    assert_int_equal(tw_metric_emit(&qs, &s), 0);
    assert_int_equal(tw_metric_emit(&qs, &s), -ENOSPC);
    tw_metric_agg *agg = new_agg(60);
    tw_metric_sink sink = tw_metric_agg_sink(agg, "disk");
    assert_int_equal(tw_sample_queue_drain(q, &sink), 0);
    assert_int_equal(tw_sample_queue_length(q), 0);
    collected c = {0};
    tw_metric_agg_flush(agg, collect_datum, &c);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.text[0], "disk_free|Bytes|host=h1,path=/data,role=web,|60000|r60|v=42");
    assert_string_equal(c.text[1],
                        "clobbered|Bytes|host=h1,path=/nope,role=web,|60000|r60|v=42");
    tw_metric_agg_free(agg);
    tw_sample_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_check_accepts_a_plain_gauge),
        cmocka_unit_test(test_sample_check_refuses_what_cloudwatch_refuses),
        cmocka_unit_test(test_unit_lookup_knows_all_27_units),
        cmocka_unit_test(test_agg_puts_host_first_then_sorted_dimensions),
        cmocka_unit_test(test_agg_folds_a_minute_into_statistics),
        cmocka_unit_test(test_agg_keeps_every_second_at_high_resolution),
        cmocka_unit_test(test_agg_keeps_distribution_values_with_counts),
        cmocka_unit_test(test_agg_counts_rejects_and_caps_series),
        cmocka_unit_test(test_agg_groups_datums_by_namespace),
        cmocka_unit_test(test_cwm_encodes_a_datum_exactly),
        cmocka_unit_test(test_cwm_cuts_at_1000_datums_and_on_namespace_change),
        cmocka_unit_test(test_cwm_keeps_bodies_under_the_byte_limit),
        cmocka_unit_test(test_cwm_splits_distributions_over_150_values),
        cmocka_unit_test(test_format_double_round_trips),
        cmocka_unit_test(test_request_round_trips_through_its_encoding),
        cmocka_unit_test(test_request_keeps_small_bodies_plain),
        cmocka_unit_test(test_sample_queue_replays_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
