/* test_metrics_rules.c — CloudWatch metrics' validation rules and exact
 * messages for PutMetricData, GetMetricStatistics, GetMetricData and
 * ListMetrics, on inputs as the three protocols decode them (query strings,
 * JSON numbers, epoch-second timestamps). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics_rules.h"

/* 2024-01-01T00:00:00Z */
#define NOW_MS 1704067200000LL

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *v = json_loads(text, 0, &error);
    if (!v)
        fail_msg("bad test JSON: %s: %s", error.text, text);
    return v;
}

/* The fault PutMetricData input gets: code (query code) and message. */
static void expect_put_fault(const char *input, const char *query_code, const char *message)
{
    json_t *in = parse(input);
    tw_metric_put put;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), -EINVAL);
    assert_non_null(fault.code);
    assert_string_equal(fault.query_code, query_code);
    assert_int_equal(fault.status, 400);
    assert_string_equal(tw_buf_cstr(&fault.message), message);
    tw_metric_put_free(&put);
    tw_metrics_fault_free(&fault);
    json_decref(in);
}

#define PUT(datum) "{\"Namespace\":\"MyApp\",\"MetricData\":[" datum "]}"

static void test_put_requires_namespace_and_metric_data(void **state)
{
    (void)state;
    expect_put_fault("{\"MetricData\":[{\"MetricName\":\"a\",\"Value\":1}]}", "MissingParameter",
                     "The parameter Namespace is required.");
    expect_put_fault("{\"Namespace\":\"MyApp\"}", "MissingParameter",
                     "The parameter MetricData is required.");
    expect_put_fault("{\"Namespace\":\"MyApp\",\"MetricData\":\"\"}", "MissingParameter",
                     "The parameter MetricData is required.");
    expect_put_fault(PUT("{\"Value\":1}"), "MissingParameter",
                     "The parameter MetricData.member.1.MetricName is required.");
}

static void test_put_refuses_more_than_1000_datums(void **state)
{
    (void)state;
    json_t *in = parse("{\"Namespace\":\"MyApp\",\"MetricData\":[]}");
    json_t *data = json_object_get(in, "MetricData");
    for (int i = 0; i < 1001; i++)
        json_array_append_new(data, json_pack("{s:s,s:i}", "MetricName", "m", "Value", i));
    tw_metric_put put;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), -EINVAL);
    assert_string_equal(fault.query_code, "InvalidParameterValue");
    assert_string_equal(fault.code, "InvalidParameterValueException");
    assert_string_equal(tw_buf_cstr(&fault.message),
                        "The collection MetricData must not have a size greater than 1000.");
    tw_metric_put_free(&put);
    tw_metrics_fault_free(&fault);
    json_array_remove(data, 0);
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), 0);
    assert_int_equal(put.n_data, 1000);
    tw_metric_put_free(&put);
    json_decref(in);
}

static void test_put_reserves_aws_namespaces(void **state)
{
    (void)state;
    expect_put_fault(
        "{\"Namespace\":\"AWS/EC2\",\"MetricData\":[{\"MetricName\":\"a\",\"Value\":1}]}",
        "InvalidParameterValue", "The value AWS/EC2 for parameter Namespace is invalid.");
    expect_put_fault("{\"Namespace\":\":x\",\"MetricData\":[{\"MetricName\":\"a\",\"Value\":1}]}",
                     "InvalidParameterValue", "The value :x for parameter Namespace is invalid.");
    expect_put_fault("{\"Namespace\":\"a|b\",\"MetricData\":[{\"MetricName\":\"a\",\"Value\":1}]}",
                     "InvalidParameterValue", "The value a|b for parameter Namespace is invalid.");
    expect_put_fault("{\"Namespace\":\"   \",\"MetricData\":[{\"MetricName\":\"a\",\"Value\":1}]}",
                     "InvalidParameterValue", "The value     for parameter Namespace is invalid.");
}

static void test_put_unit_must_be_a_standard_unit(void **state)
{
    (void)state;
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Unit\":\"Furlongs\"}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.Unit must be a value in the set [ Seconds, "
                     "Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, "
                     "Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, "
                     "Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, "
                     "Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, "
                     "Gigabits/Second, Terabits/Second, Count/Second, None ].");
}

static void test_put_needs_a_value_and_refuses_conflicting_forms(void **state)
{
    (void)state;
    expect_put_fault(PUT("{\"MetricName\":\"a\"}"), "InvalidParameterCombination",
                     "At least one of the parameters MetricData.member.1.Value and "
                     "MetricData.member.1.StatisticValues must be specified.");
    expect_put_fault(
        PUT("{\"MetricName\":\"a\",\"Value\":1.5,\"StatisticValues\":{\"SampleCount\":10,"
            "\"Sum\":55,\"Minimum\":1,\"Maximum\":10}}"),
        "InvalidParameterCombination",
        "The parameters MetricData.member.1.Value and "
        "MetricData.member.1.StatisticValues are mutually exclusive and you have "
        "specified both.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1.5,\"Values\":[1,10]}"),
                     "InvalidParameterCombination",
                     "The parameters MetricData.member.1.Value and MetricData.member.1.Values are "
                     "mutually exclusive and you have specified both.");
}

static void test_put_values_and_counts_rules(void **state)
{
    (void)state;
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Values\":[1,10],\"Counts\":[2,4,5]}"),
                     "InvalidParameterValue",
                     "The parameters MetricData.member.1.Values and MetricData.member.1.Counts "
                     "must be of the same size.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Values\":[1],\"Counts\":[-2]}"),
                     "InvalidParameterValue",
                     "The value -2 for parameter MetricData.member.1.Counts.member.1 is invalid.");
    json_t *in = parse(PUT("{\"MetricName\":\"a\",\"Values\":[]}"));
    json_t *values =
        json_object_get(json_array_get(json_object_get(in, "MetricData"), 0), "Values");
    for (int i = 0; i < 151; i++)
        json_array_append_new(values, json_integer(i));
    tw_metric_put put;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), -EINVAL);
    assert_string_equal(tw_buf_cstr(&fault.message), "The collection MetricData.member.1.Values "
                                                     "must not have a size greater than 150.");
    tw_metric_put_free(&put);
    tw_metrics_fault_free(&fault);
    json_decref(in);
}

static void test_put_refuses_nan_infinity_and_out_of_range_values(void **state)
{
    (void)state;
    /* the query protocol spells them as text */
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":\"NaN\"}"), "InvalidParameterValue",
                     "The value NaN for parameter MetricData.member.1.Value is invalid.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":\"-Infinity\"}"), "InvalidParameterValue",
                     "The value -Infinity for parameter MetricData.member.1.Value is invalid.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":\"1e109\"}"), "InvalidParameterValue",
                     "The value 1e109 for parameter MetricData.member.1.Value is invalid.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1e-200}"), "InvalidParameterValue",
                     "The value 1e-200 for parameter MetricData.member.1.Value is invalid.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":\"abc\"}"), "InvalidParameterValue",
                     "The value abc for parameter MetricData.member.1.Value is invalid.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Values\":[1,\"Infinity\"]}"),
                     "InvalidParameterValue",
                     "The value Infinity for parameter MetricData.member.1.Values.member.2 is "
                     "invalid.");
    /* 2^360 itself is accepted */
    json_t *in = parse(PUT("{\"MetricName\":\"a\",\"Value\":2.3485425827738332e108}"));
    tw_metric_put put;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), 0);
    tw_metric_put_free(&put);
    json_decref(in);
}

static void test_put_timestamps_within_two_weeks_back_and_two_hours_ahead(void **state)
{
    (void)state;
    expect_put_fault(
        PUT("{\"MetricName\":\"a\",\"Value\":1,\"Timestamp\":\"2023-12-17T23:59:59Z\"}"),
        "InvalidParameterValue",
        "The parameter MetricData.member.1.Timestamp must specify a time within the "
        "past two weeks.");
    /* JSON 1.0 / CBOR: epoch seconds; 2 h 1 s ahead */
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Timestamp\":1704074401}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.Timestamp must specify a time no more than "
                     "two hours in the future.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Timestamp\":\"yesterday\"}"),
                     "InvalidParameterValue",
                     "The value yesterday for parameter MetricData.member.1.Timestamp is invalid.");
}

static void test_put_reports_every_problem_of_one_kind_joined_by_newlines(void **state)
{
    (void)state;
    expect_put_fault(
        PUT("{\"MetricName\":\"a\",\"Value\":1,\"Timestamp\":\"2020-01-01T00:00:00Z\"},"
            "{\"MetricName\":\"b\",\"Value\":2},"
            "{\"MetricName\":\"c\",\"Value\":3,\"Timestamp\":\"2020-01-01T00:00:00Z\"},"
            "{\"MetricName\":\"d\"}"),
        "InvalidParameterValue",
        "The parameter MetricData.member.1.Timestamp must specify a time within the "
        "past two weeks.\n"
        "The parameter MetricData.member.3.Timestamp must specify a time within the "
        "past two weeks.");
}

static void test_put_storage_resolution_is_1_or_60(void **state)
{
    (void)state;
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"StorageResolution\":\"5\"}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.StorageResolution must be a value in the "
                     "set [ 1, 60 ].");
}

static void test_put_dimension_rules(void **state)
{
    (void)state;
    json_t *in = parse(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Dimensions\":[]}"));
    json_t *dims =
        json_object_get(json_array_get(json_object_get(in, "MetricData"), 0), "Dimensions");
    static const char names[] = "abcdefghijklmnopqrstuvwxyzABCDEFG";
    for (int i = 0; i < 31; i++)
        json_array_append_new(dims,
                              json_pack("{s:s#,s:s}", "Name", &names[i], (int)1, "Value", "v"));
    tw_metric_put put;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), -EINVAL);
    assert_string_equal(tw_buf_cstr(&fault.message),
                        "The collection "
                        "MetricData.member.1.Dimensions must not have a size greater than 30.");
    tw_metric_put_free(&put);
    tw_metrics_fault_free(&fault);
    json_decref(in);

    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Dimensions\":[{\"Name\":\"Host\"}]}"),
                     "MissingParameter",
                     "The parameter MetricData.member.1.Dimensions.member.1.Value is required.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Dimensions\":[{\"Name\":\"Host\","
                         "\"Value\":\"caf\\u00e9\"}]}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.Dimensions.member.1.Value must contain "
                     "only printable ASCII characters.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Dimensions\":[{\"Name\":\":Host\","
                         "\"Value\":\"x\"}]}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.Dimensions.member.1.Name must not start "
                     "with ':'.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Dimensions\":[{\"Name\":\"Host\","
                         "\"Value\":\"  \"}]}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.Dimensions.member.1.Value must contain at "
                     "least one non-whitespace character.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"Value\":1,\"Dimensions\":[{\"Name\":\"H\","
                         "\"Value\":\"1\"},{\"Name\":\"H\",\"Value\":\"2\"}]}"),
                     "InvalidParameterValue",
                     "The value H for parameter MetricData.member.1.Dimensions.member.2.Name is a "
                     "duplicate dimension name.");
}

static void test_put_name_lengths(void **state)
{
    (void)state;
    char input[600], name[300];
    memset(name, 'n', 256);
    name[256] = '\0';
    snprintf(input, sizeof input, PUT("{\"MetricName\":\"%s\",\"Value\":1}"), name);
    expect_put_fault(input, "InvalidParameterValue",
                     "The parameter MetricData.member.1.MetricName must be shorter than 256 "
                     "characters.");
}

static void test_put_statistic_values_rules(void **state)
{
    (void)state;
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"StatisticValues\":{\"SampleCount\":2,"
                         "\"Minimum\":1,\"Maximum\":2}}"),
                     "MissingParameter",
                     "The parameter MetricData.member.1.StatisticValues.Sum is required.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"StatisticValues\":{\"SampleCount\":2,"
                         "\"Sum\":3,\"Minimum\":2,\"Maximum\":1}}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.StatisticValues.Maximum must be greater "
                     "than MetricData.member.1.StatisticValues.Minimum.");
    expect_put_fault(PUT("{\"MetricName\":\"a\",\"StatisticValues\":{\"SampleCount\":0,"
                         "\"Sum\":0,\"Minimum\":0,\"Maximum\":0}}"),
                     "InvalidParameterValue",
                     "The parameter MetricData.member.1.StatisticValues.SampleCount must be "
                     "greater than 0.");
}

/* What a valid request turns into: the datum's summary and samples. */
static void test_put_accepts_every_form_in_every_spelling(void **state)
{
    (void)state;
    /* the query protocol's strings, as awscli 2.9.19 sends them */
    json_t *in =
        parse("{\"Namespace\":\"MyApp\",\"MetricData\":["
              "{\"MetricName\":\"Lat\",\"Dimensions\":[{\"Name\":\"Zone\",\"Value\":\"b\"},"
              "{\"Name\":\"Host\",\"Value\":\"a b\"}],\"Timestamp\":\"2023-12-31T23:00:00Z\","
              "\"Values\":[\"1.5\",\"2\"],\"Counts\":[\"3\",\"4\"],\"Unit\":\"Milliseconds\","
              "\"StorageResolution\":\"1\"},"
              "{\"MetricName\":\"X\",\"StatisticValues\":{\"SampleCount\":\"2\",\"Sum\":\"3\","
              "\"Minimum\":\"1\",\"Maximum\":\"2\"}},"
              "{\"MetricName\":\"Y\",\"Value\":\"1.0E-5\",\"Dimensions\":\"\"},"
              "{\"MetricName\":\"Z\",\"Values\":[5,7],\"StatisticValues\":{\"SampleCount\":10,"
              "\"Sum\":60,\"Minimum\":5,\"Maximum\":7}}]}");
    tw_metric_put put;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_put(in, NOW_MS, &put, &fault), 0);
    assert_null(fault.code);
    assert_int_equal(put.n_data, 4);
    const tw_metric_datum *d = &put.data[0];
    assert_int_equal(d->key.n_dims, 2);
    assert_string_equal(d->key.dims[0].name, "Host"); /* sorted by name */
    assert_string_equal(d->key.dims[1].value, "b");
    assert_int_equal(d->timestamp_ms, NOW_MS - 3600000);
    assert_string_equal(tw_metric_units[d->unit], "Milliseconds");
    assert_int_equal(d->resolution, 1);
    assert_true(d->summary.count == 7 && d->summary.sum == 12.5);
    assert_true(d->has_samples && d->n_pairs == 2);
    /* a StatisticSet CloudWatch cannot use for percentiles */
    d = &put.data[1];
    assert_true(d->summary.count == 2 && d->summary.sum == 3 && d->summary.max == 2);
    assert_false(d->has_samples);
    assert_int_equal(d->resolution, 60);
    assert_int_equal(d->unit, TW_METRIC_UNIT_NONE);
    assert_int_equal(d->timestamp_ms, NOW_MS); /* default: when received */
    d = &put.data[2];
    assert_true(d->summary.sum == 1.0e-5 && d->n_pairs == 1);
    assert_true(put.pairs.items[d->first_pair].value == 1.0e-5);
    /* the agent's distributions: StatisticValues for the summary, Values for percentiles */
    d = &put.data[3];
    assert_true(d->summary.count == 10 && d->summary.sum == 60);
    assert_true(d->has_samples && d->n_pairs == 2);
    tw_metric_put_free(&put);
    json_decref(in);
}

/* ---- GetMetricStatistics ---- */

#define GMS(extra)                                                                                 \
    "{\"Namespace\":\"MyApp\",\"MetricName\":\"Lat\",\"StartTime\":\"2024-01-01T00:00:00Z\","      \
    "\"EndTime\":\"2024-01-01T01:00:00Z\"" extra "}"

static void expect_statistics_fault(const char *input, const char *query_code, const char *message)
{
    json_t *in = parse(input);
    tw_metric_statistics_request r;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_get_statistics(in, &r, &fault), -EINVAL);
    assert_string_equal(fault.query_code, query_code);
    assert_string_equal(tw_buf_cstr(&fault.message), message);
    tw_metrics_fault_free(&fault);
    json_decref(in);
}

static void test_statistics_xor_extended_statistics(void **state)
{
    (void)state;
    expect_statistics_fault(GMS(",\"Period\":60"), "InvalidParameterCombination",
                            "At least one of the parameters Statistics and ExtendedStatistics must "
                            "be specified.");
    expect_statistics_fault(
        GMS(",\"Period\":60,\"Statistics\":[\"Sum\"],\"ExtendedStatistics\":[\"p99\"]"),
        "InvalidParameterCombination",
        "The parameters Statistics and ExtendedStatistics are mutually "
        "exclusive and you have specified both.");
    expect_statistics_fault(GMS(",\"Period\":60,\"Statistics\":[\"Median\"]"),
                            "InvalidParameterValue",
                            "The parameter Statistics.member.1 must be a value in the set "
                            "[ Minimum, Maximum, Average, SampleCount, Sum ].");
    expect_statistics_fault(GMS(",\"Period\":60,\"ExtendedStatistics\":[\"p50\",\"p101\"]"),
                            "InvalidParameterValue",
                            "The value p101 for parameter ExtendedStatistics.member.2 is not a "
                            "valid percentile statistic.");
}

static void test_statistics_period_rules(void **state)
{
    (void)state;
    expect_statistics_fault(GMS(",\"Statistics\":[\"Sum\"]"), "MissingParameter",
                            "The parameter Period is required.");
    expect_statistics_fault(GMS(",\"Period\":\"0\",\"Statistics\":[\"Sum\"]"),
                            "InvalidParameterValue",
                            "The parameter Period must be greater than 0.");
    expect_statistics_fault(GMS(",\"Period\":\"45\",\"Statistics\":[\"Sum\"]"),
                            "InvalidParameterValue",
                            "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.");
    expect_statistics_fault(GMS(",\"Period\":\"1.5\",\"Statistics\":[\"Sum\"]"),
                            "InvalidParameterValue",
                            "The value 1.5 for parameter Period is invalid.");
    /* 1 hour at 1 s: 3600 datapoints */
    expect_statistics_fault(
        GMS(",\"Period\":1,\"Statistics\":[\"Sum\"]"), "InvalidParameterCombination",
        "You have requested up to 3600 datapoints, which exceeds the limit of "
        "1440. You may reduce the datapoints requested by increasing Period, or "
        "decreasing the time range.");
}

static void test_statistics_time_range(void **state)
{
    (void)state;
    expect_statistics_fault(
        "{\"Namespace\":\"MyApp\",\"MetricName\":\"Lat\",\"Period\":60,"
        "\"Statistics\":[\"Sum\"],\"StartTime\":1704070800,\"EndTime\":1704067200}",
        "InvalidParameterValue",
        "The parameter StartTime must be less than the parameter EndTime.");
    expect_statistics_fault("{\"Namespace\":\"MyApp\",\"MetricName\":\"Lat\",\"Period\":60,"
                            "\"Statistics\":[\"Sum\"],\"EndTime\":1704067200}",
                            "MissingParameter", "The parameter StartTime is required.");
}

static void test_statistics_valid_request(void **state)
{
    (void)state;
    json_t *in = parse(GMS(",\"Period\":\"300\",\"ExtendedStatistics\":[\"p99\",\"p99.9\"],"
                           "\"Unit\":\"Seconds\",\"Dimensions\":[{\"Name\":\"b\",\"Value\":\"2\"},"
                           "{\"Name\":\"a\",\"Value\":\"1\"}]"));
    tw_metric_statistics_request r;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_get_statistics(in, &r, &fault), 0);
    assert_true(r.extended);
    assert_int_equal(r.n_stats, 2);
    assert_string_equal(r.stat_names[1], "p99.9");
    assert_int_equal(r.period_s, 300);
    assert_int_equal(r.start_ms, NOW_MS);
    assert_int_equal(r.end_ms, NOW_MS + 3600000);
    assert_string_equal(tw_metric_units[r.unit], "Seconds");
    assert_string_equal(r.key.dims[0].name, "a");
    json_decref(in);
}

/* ---- GetMetricData ---- */

#define GMD(queries)                                                                               \
    "{\"StartTime\":\"2024-01-01T00:00:00Z\",\"EndTime\":\"2024-01-01T01:00:00Z\","                \
    "\"MetricDataQueries\":[" queries "]}"
#define STAT                                                                                       \
    "\"MetricStat\":{\"Metric\":{\"Namespace\":\"MyApp\",\"MetricName\":\"Lat\"},"                 \
    "\"Period\":60,\"Stat\":\"Average\"}"

static void expect_data_fault(const char *input, const char *message)
{
    json_t *in = parse(input);
    tw_metric_data_request r;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_get_data(in, &r, &fault), -EINVAL);
    assert_string_equal(fault.query_code, "ValidationError");
    assert_string_equal(fault.code, "ValidationError");
    assert_string_equal(tw_buf_cstr(&fault.message), message);
    tw_metric_data_request_free(&r);
    tw_metrics_fault_free(&fault);
    json_decref(in);
}

static void test_data_query_ids_match_the_pattern_and_are_unique(void **state)
{
    (void)state;
    expect_data_fault(GMD("{\"Id\":\"X\"," STAT "}"),
                      "The value X for parameter MetricDataQueries.member.1.Id is not matching the "
                      "expected pattern ^[a-z][a-zA-Z0-9_]*$.");
    expect_data_fault(GMD("{\"Id\":\"m1\"," STAT "},{\"Id\":\"m-2\"," STAT "}"),
                      "The value m-2 for parameter MetricDataQueries.member.2.Id is not matching "
                      "the expected pattern ^[a-z][a-zA-Z0-9_]*$.");
    expect_data_fault(GMD("{\"Id\":\"m1\"," STAT "},{\"Id\":\"m1\"," STAT "}"),
                      "The value m1 for parameter MetricDataQueries.member.2.Id is already used by "
                      "MetricDataQueries.member.1.Id.");
}

static void test_data_query_needs_exactly_one_of_metric_stat_and_expression(void **state)
{
    (void)state;
    expect_data_fault(GMD("{\"Id\":\"m1\"}"),
                      "The parameter MetricDataQueries.member.1.MetricStat is required.");
    expect_data_fault(GMD("{\"Id\":\"m1\",\"Expression\":\"1\"," STAT "}"),
                      "The parameters MetricDataQueries.member.1.MetricStat and "
                      "MetricDataQueries.member.1.Expression are mutually exclusive and you have "
                      "specified both.");
    expect_data_fault(GMD("{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"N\","
                          "\"MetricName\":\"M\"},\"Period\":60,\"Stat\":\"None\"}}"),
                      "The value None for parameter MetricDataQueries.member.1.MetricStat.Stat is "
                      "not a valid statistic.");
    expect_data_fault(GMD("{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"N\"},"
                          "\"Stat\":\"Sum\"}}"),
                      "The parameter MetricDataQueries.member.1.MetricStat.Metric.MetricName is "
                      "required.\nThe parameter MetricDataQueries.member.1.MetricStat.Period is "
                      "required.");
}

static void test_data_expression_syntax_is_checked_before_reading(void **state)
{
    (void)state;
    expect_data_fault(GMD("{\"Id\":\"m1\"," STAT "},{\"Id\":\"e1\",\"Expression\":\"m1 * \"}"),
                      "Error in expression e1: Syntax error: a number, a metric id, a function or "
                      "'(' expected at the end of the expression");
    expect_data_fault("{\"StartTime\":1,\"EndTime\":2,\"ScanBy\":\"Sideways\","
                      "\"MetricDataQueries\":[{\"Id\":\"m1\"," STAT "}]}",
                      "The parameter ScanBy must be a value in the set [ TimestampDescending, "
                      "TimestampAscending ].");
    expect_data_fault("{\"StartTime\":1,\"EndTime\":2}",
                      "The parameter MetricDataQueries is required.");
}

static void test_data_valid_request(void **state)
{
    (void)state;
    json_t *in = parse("{\"StartTime\":1704067200,\"EndTime\":1704070800,\"ScanBy\":"
                       "\"TimestampAscending\",\"MaxDatapoints\":\"10\",\"MetricDataQueries\":["
                       "{\"Id\":\"m1\"," STAT ",\"ReturnData\":\"false\"},"
                       "{\"Id\":\"e1\",\"Expression\":\"m1 * 2\",\"Label\":\"Double\"}]}");
    tw_metric_data_request r;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_get_data(in, &r, &fault), 0);
    assert_int_equal(r.n_queries, 2);
    assert_true(r.ascending);
    assert_int_equal(r.max_datapoints, 10);
    assert_false(r.queries[0].return_data);
    assert_int_equal(r.queries[0].stat.kind, TW_STAT_AVERAGE);
    assert_non_null(r.queries[1].parsed);
    assert_string_equal(r.queries[1].label, "Double");
    tw_metric_data_request_free(&r);
    json_decref(in);
}

/* ---- ListMetrics ---- */

static void test_list_filters(void **state)
{
    (void)state;
    json_t *in = parse("{\"RecentlyActive\":\"PT1H\"}");
    tw_metric_list_request r;
    tw_metrics_fault fault = {0};
    assert_int_equal(tw_metrics_check_list(in, &r, &fault), -EINVAL);
    assert_string_equal(tw_buf_cstr(&fault.message),
                        "The parameter RecentlyActive must be a value in the set [ PT3H ].");
    tw_metrics_fault_free(&fault);
    json_decref(in);

    in = parse(
        "{\"Dimensions\":[{\"Name\":\"a\"},{\"Name\":\"b\"},{\"Name\":\"c\"},{\"Name\":\"d\"},"
        "{\"Name\":\"e\"},{\"Name\":\"f\"},{\"Name\":\"g\"},{\"Name\":\"h\"},{\"Name\":\"i\"},"
        "{\"Name\":\"j\"},{\"Name\":\"k\"}]}");
    assert_int_equal(tw_metrics_check_list(in, &r, &fault), -EINVAL);
    assert_string_equal(tw_buf_cstr(&fault.message),
                        "The collection Dimensions must not have a size greater than 10.");
    tw_metrics_fault_free(&fault);
    json_decref(in);

    in = parse("{\"Namespace\":\"MyApp\",\"RecentlyActive\":\"PT3H\",\"Dimensions\":"
               "[{\"Name\":\"Host\"},{\"Name\":\"Zone\",\"Value\":\"b\"}]}");
    assert_int_equal(tw_metrics_check_list(in, &r, &fault), 0);
    assert_true(r.recently_active);
    assert_int_equal(r.n_filters, 2);
    assert_null(r.filters[0].value);
    assert_string_equal(r.filters[1].value, "b");
    json_decref(in);
}

/* ---- time rules ---- */

static void test_periods_and_start_rounding_follow_the_age_of_the_data(void **state)
{
    (void)state;
    assert_true(tw_metrics_period_valid(1) && tw_metrics_period_valid(20) &&
                tw_metrics_period_valid(120));
    assert_false(tw_metrics_period_valid(0) || tw_metrics_period_valid(15) ||
                 tw_metrics_period_valid(90));
    int64_t day = 86400000;
    /* within 15 days: to the minute; 10 s periods: within the minute */
    assert_int_equal(tw_metrics_round_start(NOW_MS - 3600000 + 45678, 60, NOW_MS),
                     NOW_MS - 3600000);
    assert_int_equal(tw_metrics_round_start(NOW_MS + 25000, 10, NOW_MS), NOW_MS + 20000);
    /* 15–63 days: 5 minutes; older: the hour */
    assert_int_equal(tw_metrics_round_start(NOW_MS - 20 * day + 299999, 300, NOW_MS),
                     NOW_MS - 20 * day);
    assert_int_equal(tw_metrics_round_start(NOW_MS - 100 * day + 3599999, 3600, NOW_MS),
                     NOW_MS - 100 * day);
    /* older data needs coarser periods, else no datapoints */
    assert_true(tw_metrics_period_available(NOW_MS - 3600000, 1, NOW_MS));
    assert_false(tw_metrics_period_available(NOW_MS - 4 * 3600000, 10, NOW_MS));
    assert_true(tw_metrics_period_available(NOW_MS - 4 * 3600000, 60, NOW_MS));
    assert_false(tw_metrics_period_available(NOW_MS - 16 * day, 60, NOW_MS));
    assert_true(tw_metrics_period_available(NOW_MS - 16 * day, 300, NOW_MS));
    assert_false(tw_metrics_period_available(NOW_MS - 64 * day, 300, NOW_MS));
    assert_true(tw_metrics_period_available(NOW_MS - 64 * day, 7200, NOW_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_requires_namespace_and_metric_data),
        cmocka_unit_test(test_put_refuses_more_than_1000_datums),
        cmocka_unit_test(test_put_reserves_aws_namespaces),
        cmocka_unit_test(test_put_unit_must_be_a_standard_unit),
        cmocka_unit_test(test_put_needs_a_value_and_refuses_conflicting_forms),
        cmocka_unit_test(test_put_values_and_counts_rules),
        cmocka_unit_test(test_put_refuses_nan_infinity_and_out_of_range_values),
        cmocka_unit_test(test_put_timestamps_within_two_weeks_back_and_two_hours_ahead),
        cmocka_unit_test(test_put_reports_every_problem_of_one_kind_joined_by_newlines),
        cmocka_unit_test(test_put_storage_resolution_is_1_or_60),
        cmocka_unit_test(test_put_dimension_rules),
        cmocka_unit_test(test_put_name_lengths),
        cmocka_unit_test(test_put_statistic_values_rules),
        cmocka_unit_test(test_put_accepts_every_form_in_every_spelling),
        cmocka_unit_test(test_statistics_xor_extended_statistics),
        cmocka_unit_test(test_statistics_period_rules),
        cmocka_unit_test(test_statistics_time_range),
        cmocka_unit_test(test_statistics_valid_request),
        cmocka_unit_test(test_data_query_ids_match_the_pattern_and_are_unique),
        cmocka_unit_test(test_data_query_needs_exactly_one_of_metric_stat_and_expression),
        cmocka_unit_test(test_data_expression_syntax_is_checked_before_reading),
        cmocka_unit_test(test_data_valid_request),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_periods_and_start_rounding_follow_the_age_of_the_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
