/* test_event_record.c — the CloudTrail record built for a call
 * (spec/cloudtrail.md §1), field by field: errors, read-only calls, input
 * and output names, handler-set parameters, size caps, TLS details, global
 * services and resource names. Storing and looking records up is in
 * test_event_history.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_call.h"
#include "event_history.h"

static const tw_operation op_describe = {"DescribeLogGroups", NULL, TW_OP_READ_ONLY, NULL, NULL};
static const tw_operation op_put_data = {"PutMetricData", NULL, TW_OP_DATA_EVENT, NULL, NULL};
static const tw_operation op_create_trail = {"CreateTrail", NULL, 0, NULL, NULL};
static const tw_service monitoring = {.signing_name = "monitoring",
                                      .event_source = "monitoring.amazonaws.com"};
static const tw_service iam = {.signing_name = "iam", .event_source = "iam.amazonaws.com"};

/* ---- the record ------------------------------------------------------------ */

static void test_record_of_a_logs_call_is_the_expected_record(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &logs, &op_create, "{\"logGroupName\":\"/app/web\",\"tags\":{\"Team\":\"core\"}}");
    t.call.event_resources = json_pack("[{s:s, s:s, s:s}]", "ARN",
                                       "arn:aws:logs:eu-west-2:" ACCOUNT ":log-group:/app/web:*",
                                       "accountId", ACCOUNT, "type", "AWS::Logs::LogGroup");
    char *text = build_text(&t.call);
    /* Written by hand from spec §1.2/§1.4, in its field order. The tags
     * map keeps its keys: a lowerCamel input is shown as it came. */
    assert_string_equal(
        text,
        "{\"eventVersion\":\"1.08\","
        "\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"AIDAEXAMPLE\","
        "\"arn\":\"arn:aws:iam::123456789012:user/alice\",\"accountId\":\"123456789012\","
        "\"accessKeyId\":\"AKIAEXAMPLE\",\"userName\":\"alice\"},"
        "\"eventTime\":\"2024-01-01T00:07:31Z\","
        "\"eventSource\":\"logs.amazonaws.com\","
        "\"eventName\":\"CreateLogGroup\","
        "\"awsRegion\":\"eu-west-2\","
        "\"sourceIPAddress\":\"192.0.2.7\","
        "\"userAgent\":\"aws-cli/2.9.19 Python/3.11.2\","
        "\"requestParameters\":{\"logGroupName\":\"/app/web\",\"tags\":{\"Team\":\"core\"}},"
        "\"responseElements\":null,"
        "\"requestID\":\"5d40662a-49f7-41e6-97e4-d9cb6ff7d6a3\","
        "\"eventID\":\"b7d4398e-b2f0-4faa-9c76-e2d316a8d67f\","
        "\"readOnly\":false,"
        "\"resources\":[{\"ARN\":\"arn:aws:logs:eu-west-2:123456789012:log-group:/app/web:*\","
        "\"accountId\":\"123456789012\",\"type\":\"AWS::Logs::LogGroup\"}],"
        "\"eventType\":\"AwsApiCall\","
        "\"managementEvent\":true,"
        "\"recipientAccountId\":\"123456789012\","
        "\"eventCategory\":\"Management\"}");
    free(text);
    call_free(&t);
}

static json_t *build(const tw_call *call)
{
    return tw_event_history_build(call);
}

static const char *member_text(json_t *record, const char *key)
{
    json_t *value = json_object_get(record, key);
    assert_non_null(value);
    return json_string_value(value);
}

static void test_failed_call_records_error_code_and_message_and_no_response(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &logs, &op_create, "{\"logGroupName\":\"g\"}");
    t.call.output = json_pack("{s:s}", "ignored", "x");
    tw_call_fail(&t.call, "ResourceAlreadyExistsException", 400,
                 "The specified log group already exists");
    json_t *r = build(&t.call);
    assert_string_equal(member_text(r, "errorCode"), "ResourceAlreadyExistsException");
    assert_string_equal(member_text(r, "errorMessage"), "The specified log group already exists");
    assert_true(json_is_null(json_object_get(r, "responseElements")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "requestParameters"), "logGroupName")),
                        "g");
    json_decref(r);
    call_free(&t);

    call_init(&t, &logs, &op_create, "{}");
    r = build(&t.call);
    assert_null(json_object_get(r, "errorCode"));
    assert_null(json_object_get(r, "errorMessage"));
    /* No parameters at all: CloudTrail writes null. */
    assert_true(json_is_null(json_object_get(r, "requestParameters")));
    json_decref(r);
    call_free(&t);
}

static void test_read_only_call_has_read_only_true_and_null_response(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &logs, &op_describe, "{\"logGroupNamePrefix\":\"/app\"}");
    t.call.output = json_pack("{s:[]}", "logGroups");
    json_t *r = build(&t.call);
    assert_true(json_is_true(json_object_get(r, "readOnly")));
    assert_true(json_is_null(json_object_get(r, "responseElements")));
    assert_true(json_is_true(json_object_get(r, "managementEvent")));
    assert_string_equal(member_text(r, "eventCategory"), "Management");
    json_decref(r);
    call_free(&t);
}

static void test_pascal_case_input_and_output_become_lower_camel(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &monitoring, &op_put_data,
              "{\"Namespace\":\"App\",\"MetricData\":[{\"MetricName\":\"Latency\","
              "\"Dimensions\":[{\"Name\":\"Host\",\"Value\":\"web1\"}],\"Value\":\"1.5\"}]}");
    json_t *r = build(&t.call);
    char *params = json_dumps(json_object_get(r, "requestParameters"), JSON_COMPACT);
    assert_string_equal(params, "{\"namespace\":\"App\",\"metricData\":[{\"metricName\":"
                                "\"Latency\",\"dimensions\":[{\"name\":\"Host\",\"value\":"
                                "\"web1\"}],\"value\":\"1.5\"}]}");
    free(params);
    /* A data-plane call. */
    assert_string_equal(member_text(r, "eventCategory"), "Data");
    assert_true(json_is_false(json_object_get(r, "managementEvent")));
    assert_string_equal(member_text(r, "eventSource"), "monitoring.amazonaws.com");
    json_decref(r);
    call_free(&t);

    call_init(&t, &tw_cloudtrail_service, &op_create_trail,
              "{\"Name\":\"t1\",\"S3BucketName\":\"b\",\"IsMultiRegionTrail\":false}");
    t.call.output = json_pack("{s:s, s:s}", "Name", "t1", "TrailARN",
                              "arn:aws:cloudtrail:eu-west-2:" ACCOUNT ":trail/t1");
    r = build(&t.call);
    params = json_dumps(json_object_get(r, "requestParameters"), JSON_COMPACT);
    assert_string_equal(params,
                        "{\"name\":\"t1\",\"s3BucketName\":\"b\",\"isMultiRegionTrail\":false}");
    free(params);
    char *response = json_dumps(json_object_get(r, "responseElements"), JSON_COMPACT);
    assert_string_equal(response, "{\"name\":\"t1\",\"trailARN\":\"arn:aws:cloudtrail:eu-west-2:"
                                  "123456789012:trail/t1\"}");
    free(response);
    json_decref(r);
    call_free(&t);
}

static void test_event_parameters_set_by_the_handler_replace_input_and_output(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &logs, &op_create, "{\"logGroupName\":\"g\",\"logEvents\":[1,2,3]}");
    t.call.event_request_parameters = json_pack("{s:s}", "logGroupName", "g");
    t.call.output = json_pack("{s:i}", "big", 1);
    t.call.event_response_elements = json_null();
    json_t *r = build(&t.call);
    char *params = json_dumps(json_object_get(r, "requestParameters"), JSON_COMPACT);
    assert_string_equal(params, "{\"logGroupName\":\"g\"}");
    free(params);
    assert_true(json_is_null(json_object_get(r, "responseElements")));
    json_decref(r);
    call_free(&t);
}

static void test_oversized_request_parameters_lose_their_largest_members(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &logs, &op_create, "{\"logGroupName\":\"g\"}");
    char *big = malloc(150 * 1024);
    memset(big, 'x', 150 * 1024 - 1);
    big[150 * 1024 - 1] = '\0';
    json_object_set_new(t.call.input, "logEvents", json_string(big));
    free(big);
    json_t *r = build(&t.call);
    json_t *params = json_object_get(r, "requestParameters");
    assert_null(json_object_get(params, "logEvents"));
    assert_string_equal(json_string_value(json_object_get(params, "logGroupName")), "g");
    assert_true(json_is_true(json_object_get(params, "omitted")));
    char *omitted = json_dumps(json_object_get(r, "additionalEventData"), JSON_COMPACT);
    assert_string_equal(omitted, "{\"omittedRequestParameters\":[\"logEvents\"]}");
    free(omitted);
    char *text = json_dumps(r, JSON_COMPACT);
    assert_true(strlen(text) < TW_EVENT_ELEMENTS_CAP + 4096);
    free(text);
    json_decref(r);
    call_free(&t);
}

static void test_user_agent_is_capped_at_1kb_on_a_character_boundary(void **state)
{
    (void)state;
    /* 1023 ASCII bytes then a 2-byte character: it would end at 1025. */
    char agent[1100];
    memset(agent, 'a', 1023);
    memcpy(agent + 1023, "\xc3\xa9tail\xff", 8);
    tw_sigv4_header headers[] = {
        {"user-agent", 10, agent, 1031},
    };
    test_call t;
    call_init(&t, &logs, &op_create, "{}");
    t.http.headers = headers;
    t.http.header_count = 1;
    json_t *r = build(&t.call);
    const char *ua = member_text(r, "userAgent");
    assert_int_equal(strlen(ua), 1023);
    json_decref(r);

    /* Bytes that are not UTF-8 are shown as '?', the rest kept. */
    headers[0].value = "curl/\xff\xfe 8";
    headers[0].value_len = 9;
    r = build(&t.call);
    assert_string_equal(member_text(r, "userAgent"), "curl/?? 8");
    json_decref(r);

    /* No User-Agent header: no userAgent field. */
    t.http.header_count = 0;
    r = build(&t.call);
    assert_null(json_object_get(r, "userAgent"));
    json_decref(r);
    call_free(&t);
}

static void test_tls_requests_carry_tls_details(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &logs, &op_create, "{}");
    json_t *r = build(&t.call);
    assert_null(json_object_get(r, "tlsDetails"));
    json_decref(r);
    t.http.tls = true;
    r = build(&t.call);
    json_t *tls = json_object_get(r, "tlsDetails");
    assert_non_null(tls);
    assert_string_equal(json_string_value(json_object_get(tls, "clientProvidedHostHeader")),
                        "logs.eu-west-2.amazonaws.com");
    json_decref(r);
    call_free(&t);
}

static void test_global_service_events_are_recorded_in_us_east_1(void **state)
{
    (void)state;
    test_call t;
    call_init(&t, &iam, &op_create, "{}");
    json_t *r = build(&t.call);
    assert_string_equal(member_text(r, "awsRegion"), "us-east-1");
    assert_string_equal(tw_event_history_region(&t.call), "us-east-1");
    json_decref(r);
    call_free(&t);
    call_init(&t, &logs, &op_create, "{}");
    assert_string_equal(tw_event_history_region(&t.call), "eu-west-2");
    call_free(&t);
}

static void assert_resource_name(const char *arn, const char *name)
{
    tw_buf out = TW_BUF_INIT;
    tw_event_history_resource_name(arn, &out);
    assert_string_equal(tw_buf_cstr(&out), name);
    tw_buf_free(&out);
}

static void test_resource_names_come_from_the_arn(void **state)
{
    (void)state;
    assert_resource_name("arn:aws:logs:us-east-1:" ACCOUNT ":log-group:/app/web:*", "/app/web");
    assert_resource_name("arn:aws:cloudtrail:us-east-1:" ACCOUNT ":trail/t1", "t1");
    assert_resource_name("arn:aws:s3:::bucket", "bucket");
    assert_resource_name("arn:aws:iam::" ACCOUNT ":user/alice", "alice");
    assert_resource_name("not-an-arn", "not-an-arn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_of_a_logs_call_is_the_expected_record),
        cmocka_unit_test(test_failed_call_records_error_code_and_message_and_no_response),
        cmocka_unit_test(test_read_only_call_has_read_only_true_and_null_response),
        cmocka_unit_test(test_pascal_case_input_and_output_become_lower_camel),
        cmocka_unit_test(test_event_parameters_set_by_the_handler_replace_input_and_output),
        cmocka_unit_test(test_oversized_request_parameters_lose_their_largest_members),
        cmocka_unit_test(test_user_agent_is_capped_at_1kb_on_a_character_boundary),
        cmocka_unit_test(test_tls_requests_carry_tls_details),
        cmocka_unit_test(test_global_service_events_are_recorded_in_us_east_1),
        cmocka_unit_test(test_resource_names_come_from_the_arn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
