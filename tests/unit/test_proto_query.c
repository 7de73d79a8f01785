/* test_proto_query.c — the awsQuery codec (collector/protocol.h): form bodies
 * as awscli 2.9.19 and the CloudWatch agent send them (cloudwatch.md §1.3.2)
 * decoded into input objects, hostile bodies refused with exact sentences in
 * bounded time, and output objects and errors encoded as the XML botocore
 * parses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "encode.h"
#include "fsutil.h"
#include "protocol.h"
#include "testutil.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define NS "http://monitoring.amazonaws.com/doc/2010-08-01/"

/* ---- helpers ---- */

static json_t *decode_ok(const char *form, char **action, char **version)
{
    json_t *out = NULL;
    char *local_action = NULL;
    tw_err err = {{0}};
    int rc = tw_query_decode(form, strlen(form), &out, action ? action : &local_action, version,
                             &err);
    if (rc != 0)
        print_error("tw_query_decode failed: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(out);
    free(local_action);
    return out;
}

static void expect_decoded(const char *form, const char *want)
{
    json_t *got = decode_ok(form, NULL, NULL);
    assert_json_equal(got, want);
    json_decref(got);
}

/* ---- requests as clients send them ---- */

/* The exact body of cloudwatch.md §1.3.2's capture (one line on the wire). */
static const char capture_body[] =
    "Action=PutMetricData&Version=2010-08-01&Namespace=MyApp"
    "&MetricData.member.1.MetricName=Lat"
    "&MetricData.member.1.Dimensions.member.1.Name=Host"
    "&MetricData.member.1.Dimensions.member.1.Value=a+b"
    "&MetricData.member.1.Timestamp=2024-01-01T00%3A00%3A00Z"
    "&MetricData.member.1.Values.member.1=1.5&MetricData.member.1.Values.member.2=2"
    "&MetricData.member.1.Counts.member.1=3&MetricData.member.1.Counts.member.2=4"
    "&MetricData.member.1.Unit=Milliseconds&MetricData.member.1.StorageResolution=1"
    "&MetricData.member.2.MetricName=X"
    "&MetricData.member.2.StatisticValues.SampleCount=2&MetricData.member.2.StatisticValues.Sum=3"
    "&MetricData.member.2.StatisticValues.Minimum=1&MetricData.member.2.StatisticValues.Maximum=2";

static void test_put_metric_data_capture_decodes_to_the_model_object(void **state)
{
    (void)state;
    char *action = NULL, *version = NULL;
    json_t *got = decode_ok(capture_body, &action, &version);
    assert_string_equal(action, "PutMetricData");
    assert_string_equal(version, "2010-08-01");
    assert_json_equal(got,
        "{\"Namespace\":\"MyApp\",\"MetricData\":["
        "{\"MetricName\":\"Lat\",\"Dimensions\":[{\"Name\":\"Host\",\"Value\":\"a b\"}],"
        "\"Timestamp\":\"2024-01-01T00:00:00Z\",\"Values\":[\"1.5\",\"2\"],\"Counts\":[\"3\",\"4\"],"
        "\"Unit\":\"Milliseconds\",\"StorageResolution\":\"1\"},"
        "{\"MetricName\":\"X\",\"StatisticValues\":{\"SampleCount\":\"2\",\"Sum\":\"3\","
        "\"Minimum\":\"1\",\"Maximum\":\"2\"}}]}");
    json_decref(got);
    free(action);
    free(version);
}

static void test_plus_and_percent_20_are_both_a_space_and_percent_2b_a_plus(void **state)
{
    (void)state;
    expect_decoded("Action=A&K=a+b%20c%2Bd&K%2BX=1&Q+R=2",
                   "{\"K\":\"a b c+d\",\"K+X\":\"1\",\"Q R\":\"2\"}");
}

static void test_list_elements_follow_index_order_with_gaps_closed(void **state)
{
    (void)state;
    expect_decoded("Action=A&L.member.10=j&L.member.3=c&L.member.1=a&L.member.02=b",
                   "{\"L\":[\"a\",\"b\",\"c\",\"j\"]}");
    expect_decoded("Action=A&M.member.2.Name=n2&M.member.1.Value=v1&M.member.2.Value=v2"
                   "&M.member.1.Name=n1",
                   "{\"M\":[{\"Name\":\"n1\",\"Value\":\"v1\"},{\"Name\":\"n2\",\"Value\":\"v2\"}]}");
}

static void test_lists_of_lists_and_structures_nest(void **state)
{
    (void)state;
    expect_decoded("Action=A&Q.member.1.MetricStat.Metric.Dimensions.member.2.Name=b"
                   "&Q.member.1.MetricStat.Metric.Dimensions.member.1.Name=a"
                   "&Q.member.1.Id=m1&G.member.1.member.1=x&G.member.1.member.2=y&G.member.2.member.1=z",
                   "{\"Q\":[{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":{\"Dimensions\":"
                   "[{\"Name\":\"a\"},{\"Name\":\"b\"}]}}}],\"G\":[[\"x\",\"y\"],[\"z\"]]}");
}

static void test_map_entries_become_an_object_in_entry_order(void **state)
{
    (void)state;
    json_t *got = decode_ok("Action=TagResource&Tags.entry.2.key=b&Tags.entry.2.value=2"
                            "&Tags.entry.1.value=1&Tags.entry.1.key=a"
                            "&Deep.entry.1.key=k&Deep.entry.1.value.member.1=v",
                            NULL, NULL);
    assert_json_equal(got, "{\"Tags\":{\"a\":\"1\",\"b\":\"2\"},\"Deep\":{\"k\":[\"v\"]}}");
    /* Entry order is kept: a then b, whatever order the pairs came in. */
    void *iter = json_object_iter(json_object_get(got, "Tags"));
    assert_string_equal(json_object_iter_key(iter), "a");
    json_decref(got);
}

static void test_empty_list_key_stays_an_empty_string(void **state)
{
    (void)state;
    expect_decoded("Action=ListMetrics&Dimensions=&Namespace=N",
                   "{\"Dimensions\":\"\",\"Namespace\":\"N\"}");
    expect_decoded("Action=ListMetrics&Dimensions", "{\"Dimensions\":\"\"}");
}

static void test_operation_is_a_synonym_of_action_and_version_is_optional(void **state)
{
    (void)state;
    char *action = NULL, *version = (char *)"untouched";
    json_t *got = decode_ok("Operation=ListMetrics", &action, &version);
    assert_string_equal(action, "ListMetrics");
    assert_null(version);
    assert_json_equal(got, "{}");
    json_decref(got);
    free(action);
    /* NULL version pointer: the caller does not want it. */
    got = decode_ok("Action=ListMetrics&Version=2010-08-01", NULL, NULL);
    assert_json_equal(got, "{}");
    json_decref(got);
}

static void test_presigned_url_parameters_are_not_input_members(void **state)
{
    (void)state;
    expect_decoded("Action=ListMetrics&Version=2010-08-01&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   "&X-Amz-Credential=AKID%2F20261121%2Fus-east-1%2Fmonitoring%2Faws4_request"
                   "&X-Amz-Date=20261121T211603Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
                   "&X-Amz-Signature=abc&X-Amz-Security-Token=t&Namespace=N",
                   "{\"Namespace\":\"N\"}");
}

static void test_empty_pairs_and_trailing_ampersands_are_ignored(void **state)
{
    (void)state;
    expect_decoded("&&Action=A&&B=1&", "{\"B\":\"1\"}");
}

static void test_values_keep_utf8_equals_signs_and_nul_bytes(void **state)
{
    (void)state;
    json_t *got = decode_ok("Action=A&U=%E2%82%AC%3D&E=a=b&Z=x%00y", NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(got, "U")), "\xe2\x82\xac=");
    assert_string_equal(json_string_value(json_object_get(got, "E")), "a=b");
    assert_int_equal(json_string_length(json_object_get(got, "Z")), 3);
    json_decref(got);
}

/* ---- hostile input ---- */

typedef struct bad_form {
    const char *form;
    const char *message;
} bad_form;

static const bad_form bad_forms[] = {
    {"Namespace=N", "The request has no Action parameter (e.g. Action=PutMetricData)."},
    {"Action=&Namespace=N", "The request has no Action parameter (e.g. Action=PutMetricData)."},
    {"", "The request has no Action parameter (e.g. Action=PutMetricData)."},
    {"Action=A&Operation=B",
     "Malformed query string: parameter \"Operation\" appears more than once "
     "(Operation is a synonym of Action)"},
    {"Action=A&Version=1&Version=2",
     "Malformed query string: parameter \"Version\" appears more than once"},
    {"Action=A&B=%zz",
     "Malformed query string: value of \"B\": \"%zz\": '%' at character 1 is not followed by "
     "two hex digits (expected %XY, e.g. %20)"},
    {"Action=A&B%2=1",
     "Malformed query string: parameter name: \"B%2\": '%' at character 2 is not followed by "
     "two hex digits (expected %XY, e.g. %20)"},
    {"Action=A&=1", "Malformed query string: a parameter has an empty name"},
    {"Action=A&B%00=1", "Malformed query string: parameter name \"B\\x00\" holds a NUL byte or is not UTF-8"},
    {"Action=A&B%FF=1", "Malformed query string: parameter name \"B\\xFF\" holds a NUL byte or is not UTF-8"},
    {"Action=A&B=%C0%80",
     "Malformed query string: the value of \"B\" is not valid UTF-8"},
    {"Action=A&B=1&B=2", "Malformed query string: parameter \"B\" appears more than once"},
    {"Action=A&L.member.1=a&L.member.01=b",
     "Malformed query string: parameter \"L.member.01\" appears more than once"},
    {"Action=A&L.member.0=a",
     "Malformed query string: parameter \"L.member.0\": index \"0\" is not a positive integer"},
    {"Action=A&L.member.-1=a",
     "Malformed query string: parameter \"L.member.-1\": index \"-1\" is not a positive integer"},
    {"Action=A&L.member.x.B=a",
     "Malformed query string: parameter \"L.member.x.B\": index \"x\" is not a positive integer"},
    {"Action=A&L.member.=a",
     "Malformed query string: parameter \"L.member.\": index \"\" is not a positive integer"},
    {"Action=A&L.member.10001=a",
     "Malformed query string: parameter \"L.member.10001\": index \"10001\" is over the limit "
     "of 10000"},
    {"Action=A&L.member.99999999999999999999999=a",
     "Malformed query string: parameter \"L.member.99999999999999999999999\": index "
     "\"99999999999999999999999\" is over the limit of 10000"},
    {"Action=A&L.member=a",
     "Malformed query string: parameter \"L.member\": \"member\" is not followed by an index"},
    {"Action=A&M.entry.1=a",
     "Malformed query string: parameter \"M.entry.1\": \"entry\" is not followed by an index and "
     "\"key\" or \"value\""},
    {"Action=A&M.entry.1.name=a",
     "Malformed query string: parameter \"M.entry.1.name\": \"entry.N\" is followed by \"name\" "
     "instead of \"key\" or \"value\""},
    {"Action=A&A..B=1", "Malformed query string: parameter \"A..B\" has an empty name between dots"},
    {"Action=A&A.=1", "Malformed query string: parameter \"A.\" has an empty name between dots"},
    {"Action=A&.A=1", "Malformed query string: parameter \".A\" has an empty name between dots"},
    {"Action=A&D=&D.member.1.Name=x",
     "Malformed query string: parameter \"D\" has a value and also members (\"D.member.1.Name\")"},
    {"Action=A&D.member.1=x&D.member.1.Name=y",
     "Malformed query string: parameter \"D.member.1\" has a value and also members "
     "(\"D.member.1.Name\")"},
    {"Action=A&D.B=1&D.member.1=x",
     "Malformed query string: parameter \"D.member.1\": \"D\" is used as a structure and as a "
     "list"},
    {"Action=A&D.member.1=x&D.entry.1.key=k",
     "Malformed query string: parameter \"D.entry.1.key\": \"D\" is used as a list and as a map"},
    {"Action=A&member.1=x",
     "Malformed query string: parameter \"member.1\": the top level is used as a structure and "
     "as a list"},
    {"Action=A&M.entry.1.key=k",
     "Malformed query string: map \"M\": entry 1 has a key but no value"},
    {"Action=A&M.entry.1.value=v",
     "Malformed query string: map \"M\": entry 1 has a value but no key"},
    {"Action=A&M.entry.1.key=k&M.entry.2.value=v",
     "Malformed query string: map \"M\": entry 1 has a key but no value"},
    {"Action=A&M.entry.1.key=k&M.entry.1.value=1&M.entry.2.key=k&M.entry.2.value=2",
     "Malformed query string: map \"M\" has the key \"k\" twice"},
    {"Action=A&M.entry.1.key.B=k&M.entry.1.value=1",
     "Malformed query string: map \"M\": the key of entry 1 has members"},
    {"Action=A&M.entry.1.key=a%00b&M.entry.1.value=1",
     "Malformed query string: map \"M\": the key of entry 1 holds a NUL byte"},
    {"Action=A&M.entry.1.key=k&M.entry.1.value=1&M.entry.2.key=j&X=1",
     "Malformed query string: map \"M\": entry 2 has a key but no value"},
};

static void test_hostile_forms_are_refused_with_a_sentence(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(bad_forms); i++) {
        json_t *out = (json_t *)0x1;
        char *action = (char *)0x1, *version = (char *)0x1;
        tw_err err = {{0}};
        int rc = tw_query_decode(bad_forms[i].form, strlen(bad_forms[i].form), &out, &action,
                                 &version, &err);
        if (rc != -EINVAL || strcmp(err.msg, bad_forms[i].message) != 0) {
            print_error("form %s\n got  %d \"%s\"\n want \"%s\"\n", bad_forms[i].form, rc,
                        err.msg, bad_forms[i].message);
            fail();
        }
        /* Nothing is handed out on failure. */
        assert_ptr_equal(out, (json_t *)0x1);
        assert_ptr_equal(action, (char *)0x1);
        assert_ptr_equal(version, (char *)0x1);
    }
}

static void test_nesting_deeper_than_32_levels_is_refused(void **state)
{
    (void)state;
    tw_buf form = TW_BUF_INIT;
    tw_buf_puts(&form, "Action=A&A");
    for (int i = 0; i < 31; i++)
        tw_buf_puts(&form, ".B");
    tw_buf_puts(&form, "=1");
    json_t *out = decode_ok(form.data, NULL, NULL); /* 32 levels: fine */
    json_decref(out);
    tw_buf_reset(&form);
    tw_buf_puts(&form, "Action=A&A");
    for (int i = 0; i < 32; i++)
        tw_buf_puts(&form, ".member.1");
    tw_buf_puts(&form, "=1");
    tw_err err;
    char *action = NULL;
    assert_int_equal(tw_query_decode(form.data, form.len, &out, &action, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "is nested deeper than 32 levels"));
    tw_buf_reset(&form);
    tw_buf_puts(&form, "Action=A&A");
    for (int i = 0; i < 5000; i++)
        tw_buf_puts(&form, ".");
    assert_int_equal(tw_query_decode(form.data, form.len, &out, &action, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "is nested deeper than 32 levels"));
    tw_buf_free(&form);
}

static void test_more_than_100000_parameters_are_refused(void **state)
{
    (void)state;
    tw_buf form = TW_BUF_INIT;
    tw_buf_puts(&form, "Action=A");
    for (int i = 1; i <= 100000; i++)
        tw_buf_printf(&form, "&P%d=", i);
    json_t *out = decode_ok(form.data, NULL, NULL);
    assert_int_equal(json_object_size(out), 100000);
    json_decref(out);
    tw_buf_puts(&form, "&Q=1");
    tw_err err;
    char *action = NULL;
    assert_int_equal(tw_query_decode(form.data, form.len, &out, &action, NULL, &err), -EINVAL);
    assert_string_equal(err.msg, "Malformed query string: more than 100000 parameters");
    tw_buf_free(&form);
}

/* CPU time, not wall time: ctest runs tests side by side on a loaded
 * machine, and what is measured is the decoder's work. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A PutMetricData at the AWS limits: 1000 datums, each with dimensions,
 * values and counts, about 1 MB of form body. */
static void build_big_put_metric_data(tw_buf *form)
{
    tw_buf_puts(form, "Action=PutMetricData&Version=2010-08-01&Namespace=Bench%2FApp");
    for (int d = 1; d <= 1000; d++) {
        const char *p = "&MetricData.member.";
        tw_buf_printf(form, "%s%d.MetricName=latency_%d%s%d.Unit=Milliseconds", p, d, d, p, d);
        tw_buf_printf(form, "%s%d.Timestamp=2024-01-01T00%%3A00%%3A00Z", p, d);
        for (int k = 1; k <= 3; k++)
            tw_buf_printf(form, "%s%d.Dimensions.member.%d.Name=dim%d%s%d.Dimensions.member.%d."
                                "Value=host-%d.example.com",
                          p, d, k, k, p, d, k, d);
        for (int v = 1; v <= 6; v++)
            tw_buf_printf(form, "%s%d.Values.member.%d=%d.25%s%d.Counts.member.%d=%d", p, d, v,
                          v * d, p, d, v, v);
    }
}

static void test_a_1_mb_put_metric_data_decodes_in_well_under_50_ms(void **state)
{
    (void)state;
    tw_buf form = TW_BUF_INIT;
    build_big_put_metric_data(&form);
    assert_true(form.len > 1000000);
    double best = 1e9;
    for (int run = 0; run < 5; run++) {
        json_t *out = NULL;
        char *action = NULL;
        double start = now_seconds();
        int rc = tw_query_decode(form.data, form.len, &out, &action, NULL, NULL);
        double took = now_seconds() - start;
        assert_int_equal(rc, 0);
        if (took < best)
            best = took;
        json_t *data = json_object_get(out, "MetricData");
        assert_int_equal(json_array_size(data), 1000);
        json_t *last = json_array_get(data, 999);
        assert_string_equal(json_string_value(json_object_get(last, "MetricName")),
                            "latency_1000");
        assert_int_equal(json_array_size(json_object_get(last, "Values")), 6);
        json_decref(out);
        free(action);
    }
    size_t pairs = 1;
    for (size_t i = 0; i < form.len; i++)
        pairs += form.data[i] == '&';
    printf("# decoded %zu bytes (%zu pairs) in %.1f ms of CPU (best of 5)\n", form.len, pairs,
           best * 1000);
    /* Sanitizers slow everything down several times over. */
    assert_true(best < (SANITIZED ? 0.25 : 0.05));
    tw_buf_free(&form);
}

/* Many pairs sharing one long prefix: sorting compares whole names, so this
 * is the costly shape for the decoder; it must stay near-linear. */
static void test_hostile_long_shared_prefixes_stay_fast(void **state)
{
    (void)state;
    tw_buf prefix = TW_BUF_INIT, form = TW_BUF_INIT;
    for (int i = 0; i < 30; i++)
        tw_buf_printf(&prefix, "VeryLongMemberName%d.", i);
    tw_buf_puts(&form, "Action=A");
    for (int i = 10000; i >= 1; i--)
        tw_buf_printf(&form, "&%sL.member.%d=%d", prefix.data, i, i);
    double start = now_seconds();
    json_t *out = decode_ok(form.data, NULL, NULL);
    double took = now_seconds() - start;
    printf("# %zu bytes with shared prefixes decoded in %.1f ms of CPU\n", form.len, took * 1000);
    assert_true(took < (SANITIZED ? 1.0 : 0.2));
    json_decref(out);
    tw_buf_free(&prefix);
    tw_buf_free(&form);
}

/* The test's own serializer, as botocore's QuerySerializer writes objects
 * (arrays → member.N, objects named in maps → entry.N.key/value). */
static void serialize(tw_buf *form, const char *prefix, const json_t *value, bool map)
{
    char name[512];
    if (json_is_string(value)) {
        tw_buf_printf(form, "&%s=", prefix);
        tw_uri_encode(json_string_value(value), json_string_length(value), TW_URI_ENCODE_SLASH,
                      form);
    } else if (json_is_array(value)) {
        if (json_array_size(value) == 0)
            tw_buf_printf(form, "&%s=", prefix);
        for (size_t i = 0; i < json_array_size(value); i++) {
            snprintf(name, sizeof name, "%s.member.%zu", prefix, i + 1);
            serialize(form, name, json_array_get(value, i), false);
        }
    } else if (json_is_object(value)) {
        const char *key;
        json_t *member;
        size_t n = 0;
        json_object_foreach((json_t *)value, key, member) {
            if (map) {
                n++;
                snprintf(name, sizeof name, "%s.entry.%zu.key", prefix, n);
                tw_buf_printf(form, "&%s=%s", name, key);
                snprintf(name, sizeof name, "%s.entry.%zu.value", prefix, n);
            } else {
                snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
            }
            serialize(form, name, member, strcmp(key, "Tags") == 0);
        }
    }
}

static void test_what_a_query_serializer_writes_decodes_back_to_the_object(void **state)
{
    (void)state;
    const char *object =
        "{\"MetricDataQueries\":[{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"A/B\","
        "\"MetricName\":\"Lat ency\",\"Dimensions\":[{\"Name\":\"Host\",\"Value\":\"a+b&c=d\"}]},"
        "\"Period\":\"60\",\"Stat\":\"p99.9\"}},{\"Id\":\"e1\",\"Expression\":\"SUM(METRICS())\","
        "\"ReturnData\":\"false\"}],\"StartTime\":\"2024-01-01T00:00:00.123456Z\","
        "\"Tags\":{\"env\":\"prod\",\"team\":\"\xc3\xa9quipe\"},\"Empty\":\"\"}";
    json_t *want = json_loads(object, 0, NULL);
    assert_non_null(want);
    tw_buf form = TW_BUF_INIT;
    tw_buf_puts(&form, "Action=GetMetricData&Version=2010-08-01");
    serialize(&form, "", want, false);
    json_t *got = decode_ok(form.data, NULL, NULL);
    assert_json_equal(got, object);
    json_decref(got);
    json_decref(want);
    tw_buf_free(&form);
}

/* ---- XML ---- */

static const char *const gms_timestamps[] = {"Timestamp", NULL};
static const char *const gms_maps[] = {"ExtendedStatistics", NULL};
static const tw_operation get_metric_statistics = {
    .name = "GetMetricStatistics",
    .timestamp_members = gms_timestamps,
    .map_members = gms_maps,
};

static const char gms_output[] =
    "{\"Label\":\"Lat\",\"Datapoints\":[{\"Timestamp\":1704067200000,\"SampleCount\":2.0,"
    "\"Average\":1.5,\"Unit\":\"Milliseconds\",\"ExtendedStatistics\":{\"p99\":2.0,"
    "\"p99.9\":2.5}},{\"Timestamp\":1704067260123,\"Sum\":1e-05,\"Maximum\":1e+100,"
    "\"Minimum\":0.1}]}";

static const char gms_xml[] =
    "<GetMetricStatisticsResponse xmlns=\"" NS "\"><GetMetricStatisticsResult>"
    "<Label>Lat</Label><Datapoints><member><Timestamp>2024-01-01T00:00:00Z</Timestamp>"
    "<SampleCount>2.0</SampleCount><Average>1.5</Average><Unit>Milliseconds</Unit>"
    "<ExtendedStatistics><entry><key>p99</key><value>2.0</value></entry><entry><key>p99.9</key>"
    "<value>2.5</value></entry></ExtendedStatistics></member><member>"
    "<Timestamp>2024-01-01T00:01:00.123Z</Timestamp><Sum>1e-05</Sum><Maximum>1e+100</Maximum>"
    "<Minimum>0.1</Minimum></member></Datapoints></GetMetricStatisticsResult>"
    "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"
    "</GetMetricStatisticsResponse>\n";

static void test_get_metric_statistics_output_encodes_as_cloudwatch_writes_it(void **state)
{
    (void)state;
    json_t *output = json_loads(gms_output, 0, NULL);
    assert_non_null(output);
    tw_buf out = TW_BUF_INIT;
    tw_query_encode_response(&out, &get_metric_statistics, NS, output, "r-1");
    assert_string_equal(out.data, gms_xml);
    json_decref(output);
    tw_buf_free(&out);
}

/* Python's XML parser (expat, what botocore uses) must accept what we write. */
static void assert_python_parses(const char *xml, const char *check)
{
    char path[512];
    int fd = tw_make_temp_file(NULL, "tw-test-proto-query", path, sizeof path, NULL);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
    close(fd);
    char command[2048];
    snprintf(command, sizeof command,
             "python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot();"
             " ns = {\"c\": \"" NS "\"}; %s' %s",
             check, path);
    int status = system(command);
    unlink(path);
    assert_int_equal(status, 0);
}

static void test_python_xml_etree_parses_the_get_metric_statistics_response(void **state)
{
    (void)state;
    assert_python_parses(gms_xml,
                         "p = r.find(\"c:GetMetricStatisticsResult/c:Datapoints/c:member/"
                         "c:ExtendedStatistics/c:entry\", ns);"
                         " assert p.find(\"c:key\", ns).text == \"p99\";"
                         " assert float(p.find(\"c:value\", ns).text) == 2.0");
}

static void test_text_is_escaped_and_what_xml_cannot_carry_is_replaced(void **state)
{
    (void)state;
    static const tw_operation op = {.name = "ListMetrics"};
    /* jansson refuses invalid UTF-8, so handlers cannot build such a string;
     * the encoder must still be safe with one: build it without the check. */
    json_t *output = json_object();
    const char raw[] = "a&b<c>d\"e'f\tg\nh\ri\x01j\x7fk\xffl\xc3\xa9m\xef\xbf\xbfn";
    json_object_set_new(output, "Label", json_stringn_nocheck(raw, sizeof raw - 1));
    tw_buf out = TW_BUF_INIT;
    tw_query_encode_response(&out, &op, NS, output, "r&1");
    const char *want = "<ListMetricsResponse xmlns=\"" NS "\"><ListMetricsResult><Label>"
                       "a&amp;b&lt;c&gt;d&quot;e'f&#9;g&#10;h&#13;i\xef\xbf\xbdj\x7fk\xef\xbf\xbdl"
                       "\xc3\xa9m\xef\xbf\xbdn</Label></ListMetricsResult><ResponseMetadata>"
                       "<RequestId>r&amp;1</RequestId></ResponseMetadata></ListMetricsResponse>\n";
    assert_string_equal(out.data, want);
    assert_python_parses(out.data,
                         "t = r.find(\"c:ListMetricsResult/c:Label\", ns).text;"
                         " assert t == \"a&b<c>d\\\"e\\x27f\\tg\\nh\\ri\\ufffdj\\x7fk\\ufffdl"
                         "\\u00e9m\\ufffdn\", repr(t)");
    json_decref(output);
    tw_buf_free(&out);
}

static void test_reals_are_shortest_round_trip_and_whole_ones_keep_a_point(void **state)
{
    (void)state;
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        {2.0, "2.0"},       {-3.0, "-3.0"},      {0.0, "0.0"},         {1.5, "1.5"},
        {0.1, "0.1"},       {1.0 / 3, "0.3333333333333333"}, {1e-05, "1e-05"},
        {1e+100, "1e+100"}, {123456789.0, "123456789.0"}, {1e15, "1e+15"},
        {0.30000000000000004, "0.30000000000000004"},  {5e-324, "5e-324"}, {2.5e-320, "2.5e-320"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
    };
    static const tw_operation op = {.name = "X"};
    for (size_t i = 0; i < COUNT(cases); i++) {
        json_t *output = json_pack("{s:f}", "V", cases[i].value);
        tw_buf out = TW_BUF_INIT;
        tw_query_encode_response(&out, &op, NS, output, "r");
        char want[256];
        snprintf(want, sizeof want, "<V>%s</V>", cases[i].text);
        if (strstr(out.data, want) == NULL) {
            print_error("%.17g: got %s, want %s\n", cases[i].value, out.data, want);
            fail();
        }
        /* And it reads back as the same double. */
        const char *start = strstr(out.data, "<V>") + 3;
        assert_true(strtod(start, NULL) == cases[i].value);
        json_decref(output);
        tw_buf_free(&out);
    }
}

static void test_lists_maps_booleans_integers_and_nulls(void **state)
{
    (void)state;
    static const char *const times[] = {"Timestamps", "When", NULL};
    static const char *const maps[] = {"Attributes", NULL};
    static const tw_operation op = {.name = "GetMetricData", .timestamp_members = times,
                                    .map_members = maps};
    json_t *output = json_loads(
        "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1704067200000,1704067200500],"
        "\"Values\":[1.0,2.5],\"StatusCode\":\"Complete\",\"Messages\":[]}],\"NextToken\":null,"
        "\"Flag\":true,\"Off\":false,\"Count\":-42,\"Attributes\":{\"a\":\"1\",\"b\":null},"
        "\"Struct\":{},\"When\":253402300800000}",
        0, NULL);
    assert_non_null(output);
    tw_buf out = TW_BUF_INIT;
    tw_query_encode_response(&out, &op, NS, output, "r");
    assert_string_equal(
        out.data,
        "<GetMetricDataResponse xmlns=\"" NS "\"><GetMetricDataResult><MetricDataResults><member>"
        "<Id>m1</Id><Timestamps><member>2024-01-01T00:00:00Z</member><member>"
        "2024-01-01T00:00:00.500Z</member></Timestamps><Values><member>1.0</member><member>2.5"
        "</member></Values><StatusCode>Complete</StatusCode><Messages/></member>"
        "</MetricDataResults><Flag>true</Flag><Off>false</Off><Count>-42</Count><Attributes>"
        "<entry><key>a</key><value>1</value></entry></Attributes><Struct/>"
        "</GetMetricDataResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
        "</GetMetricDataResponse>\n");
    json_decref(output);
    tw_buf_free(&out);
}

static void test_no_output_means_no_result_element(void **state)
{
    (void)state;
    static const tw_operation op = {.name = "PutMetricData"};
    tw_buf out = TW_BUF_INIT;
    tw_query_encode_response(&out, &op, NS, NULL, "0f1e");
    assert_string_equal(out.data, "<PutMetricDataResponse xmlns=\"" NS "\"><ResponseMetadata>"
                                  "<RequestId>0f1e</RequestId></ResponseMetadata>"
                                  "</PutMetricDataResponse>\n");
    tw_buf_free(&out);
}

static void test_errors_encode_as_error_response_with_type_code_and_message(void **state)
{
    (void)state;
    tw_buf out = TW_BUF_INIT;
    tw_query_encode_error(&out, NS, "InvalidParameterValue",
                          "The value AWS/EC2 for parameter Namespace is invalid.", false, "abc-123");
    assert_string_equal(out.data,
                        "<ErrorResponse xmlns=\"" NS "\"><Error><Type>Sender</Type>"
                        "<Code>InvalidParameterValue</Code><Message>The value AWS/EC2 for "
                        "parameter Namespace is invalid.</Message></Error><RequestId>abc-123"
                        "</RequestId></ErrorResponse>\n");
    tw_buf_reset(&out);
    tw_query_encode_error(&out, NS, "InternalServiceError", "a < b\nc", true, "r");
    assert_non_null(strstr(out.data, "<Type>Receiver</Type>"));
    assert_non_null(strstr(out.data, "<Message>a &lt; b&#10;c</Message>"));
    assert_python_parses(out.data, "assert r.find(\"c:Error/c:Message\", ns).text == \"a < b\\nc\"");
    tw_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_metric_data_capture_decodes_to_the_model_object),
        cmocka_unit_test(test_plus_and_percent_20_are_both_a_space_and_percent_2b_a_plus),
        cmocka_unit_test(test_list_elements_follow_index_order_with_gaps_closed),
        cmocka_unit_test(test_lists_of_lists_and_structures_nest),
        cmocka_unit_test(test_map_entries_become_an_object_in_entry_order),
        cmocka_unit_test(test_empty_list_key_stays_an_empty_string),
        cmocka_unit_test(test_operation_is_a_synonym_of_action_and_version_is_optional),
        cmocka_unit_test(test_presigned_url_parameters_are_not_input_members),
        cmocka_unit_test(test_empty_pairs_and_trailing_ampersands_are_ignored),
        cmocka_unit_test(test_values_keep_utf8_equals_signs_and_nul_bytes),
        cmocka_unit_test(test_hostile_forms_are_refused_with_a_sentence),
        cmocka_unit_test(test_nesting_deeper_than_32_levels_is_refused),
        cmocka_unit_test(test_more_than_100000_parameters_are_refused),
        cmocka_unit_test(test_a_1_mb_put_metric_data_decodes_in_well_under_50_ms),
        cmocka_unit_test(test_hostile_long_shared_prefixes_stay_fast),
        cmocka_unit_test(test_what_a_query_serializer_writes_decodes_back_to_the_object),
        cmocka_unit_test(test_get_metric_statistics_output_encodes_as_cloudwatch_writes_it),
        cmocka_unit_test(test_python_xml_etree_parses_the_get_metric_statistics_response),
        cmocka_unit_test(test_text_is_escaped_and_what_xml_cannot_carry_is_replaced),
        cmocka_unit_test(test_reals_are_shortest_round_trip_and_whole_ones_keep_a_point),
        cmocka_unit_test(test_lists_maps_booleans_integers_and_nulls),
        cmocka_unit_test(test_no_output_means_no_result_element),
        cmocka_unit_test(test_errors_encode_as_error_response_with_type_code_and_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
