/* test_cwl_requests.c — CloudWatch Logs requests and the reading of their
 * answers (plugins/out_cloudwatch_logs/cwl_requests.c): what each call puts
 * on the wire, and the outcome of real AWS answers (shared/spec/
 * cloudwatch.md §1.2, §2.2, §2.3) and of the collector's own error bodies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "cwl_batch.h"
#include "cwl_requests.h"
#include "logs_call.h"
#include "logs_rules.h"
#include "protocol.h"
#include "testutil.h"

#define NOW INT64_C(1700000000000)

/* ---- requests ---- */

static void assert_logs_call(const tw_request *req, const char *operation, const char *label)
{
    char target[64];
    snprintf(target, sizeof target, "Logs_20140328.%s", operation);
    assert_string_equal(req->service, "logs");
    assert_string_equal(req->path, "/");
    assert_string_equal(req->content_type, "application/x-amz-json-1.1");
    assert_string_equal(req->target, target);
    assert_string_equal(req->label, label);
    assert_int_equal(strlen(req->batch_id), 32);
}

static json_t *plain_body(const tw_request *req)
{
    assert_false(req->gzip);
    json_t *doc = json_loadb(req->body.data, req->body.len, 0, NULL);
    assert_non_null(doc);
    return doc;
}

static void gunzip(const tw_buf *in, tw_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    int rc;
    do {
        tw_buf_reserve(out, 65536);
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 65536;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len = (size_t)((char *)z.next_out - out->data);
    } while (rc == Z_OK);
    assert_int_equal(rc, Z_STREAM_END);
    inflateEnd(&z);
}

static void make_body(tw_buf *body, size_t events)
{
    tw_cwl_batch *b = tw_cwl_batch_new("/trailwatch/nginx", "web-1", 0);
    for (size_t i = 0; i < events; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "192.0.2.%zu - - \"GET /item/%zu HTTP/1.1\" 200",
                         i % 250, i * 7919 % 100000);
        assert_int_equal(tw_cwl_batch_add(b, NOW - 1000 + (int64_t)i, line, (size_t)n, NOW),
                         TW_CWL_ADDED);
    }
    assert_int_equal(tw_cwl_batch_take(b, body), events);
    tw_cwl_batch_free(b);
}

static void test_put_log_events_carries_the_body_as_is_without_gzip(void **state)
{
    (void)state;
    tw_buf body = TW_BUF_INIT;
    make_body(&body, 812);
    tw_request *req = tw_cwl_put_log_events_request("/trailwatch/nginx", "web-1", 812, &body, 0);
    assert_logs_call(req, "PutLogEvents", "PutLogEvents /trailwatch/nginx web-1 (812 events)");
    assert_false(req->gzip);
    assert_int_equal(req->body.len, body.len);
    assert_memory_equal(req->body.data, body.data, body.len);
    tw_request_free(req);

    tw_buf_reset(&body);
    make_body(&body, 1);
    req = tw_cwl_put_log_events_request("/g", "s", 1, &body, 0);
    assert_string_equal(req->label, "PutLogEvents /g s (1 event)");
    tw_request_free(req);
    tw_buf_free(&body);
}

static void test_put_log_events_gzips_at_the_level_asked_when_smaller(void **state)
{
    (void)state;
    tw_buf body = TW_BUF_INIT, back = TW_BUF_INIT;
    make_body(&body, 2000);
    tw_request *req = tw_cwl_put_log_events_request("/trailwatch/nginx", "web-1", 2000, &body, 1);
    assert_true(req->gzip);
    assert_true(req->body.len < body.len / 3);
    gunzip(&req->body, &back);
    assert_int_equal(back.len, body.len);
    assert_memory_equal(back.data, body.data, body.len);
    tw_request_free(req);

    /* A body under 1 KiB goes as is: gzip's header and trailer eat the gain. */
    tw_buf_reset(&body);
    make_body(&body, 1);
    req = tw_cwl_put_log_events_request("/trailwatch/nginx", "web-1", 1, &body, 6);
    assert_false(req->gzip);
    assert_memory_equal(req->body.data, body.data, body.len);
    tw_request_free(req);
    tw_buf_free(&body);
    tw_buf_free(&back);
}

static void test_create_calls_write_escaped_names(void **state)
{
    (void)state;
    tw_request *req = tw_cwl_create_log_group_request("/trailwatch/nginx");
    assert_logs_call(req, "CreateLogGroup", "CreateLogGroup /trailwatch/nginx");
    json_t *doc = plain_body(req);
    assert_json_equal(doc, "{\"logGroupName\": \"/trailwatch/nginx\"}");
    json_decref(doc);
    tw_request_free(req);

    const char *stream = "odd \"name\" \\ with\ttab \xe2\x82\xac";
    req = tw_cwl_create_log_stream_request("/trailwatch/nginx", stream);
    char label[128];
    snprintf(label, sizeof label, "CreateLogStream /trailwatch/nginx %s", stream);
    assert_logs_call(req, "CreateLogStream", label);
    doc = plain_body(req);
    assert_string_equal(json_string_value(json_object_get(doc, "logGroupName")),
                        "/trailwatch/nginx");
    assert_string_equal(json_string_value(json_object_get(doc, "logStreamName")), stream);
    assert_int_equal(json_object_size(doc), 2);
    json_decref(doc);
    tw_request_free(req);
}

static void test_retention_accepts_cloudwatchs_values_only(void **state)
{
    (void)state;
    tw_err err = {{0}};
    tw_request *req = tw_cwl_put_retention_policy_request("/trailwatch/nginx", 30, &err);
    assert_non_null(req);
    assert_logs_call(req, "PutRetentionPolicy", "PutRetentionPolicy /trailwatch/nginx (30 days)");
    json_t *doc = plain_body(req);
    assert_json_equal(doc, "{\"logGroupName\": \"/trailwatch/nginx\", \"retentionInDays\": 30}");
    json_decref(doc);
    tw_request_free(req);

    static const int64_t allowed[] = {1, 1096, 3653};
    for (size_t i = 0; i < 3; i++) {
        req = tw_cwl_put_retention_policy_request("/g", allowed[i], &err);
        assert_non_null(req);
        tw_request_free(req);
    }
    static const int64_t refused[] = {0, 2, 31, 3654, -1};
    for (size_t i = 0; i < 5; i++)
        assert_null(tw_cwl_put_retention_policy_request("/g", refused[i], &err));
    assert_string_equal(err.msg, "retention for log group /g: CloudWatch Logs does not offer -1 "
                                 "days (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, "
                                 "731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)");
}

/* The collector decodes and validates what the create calls send. */
static void test_the_collector_accepts_the_create_bodies(void **state)
{
    (void)state;
    tw_request *reqs[] = {
        tw_cwl_create_log_group_request("/trailwatch/nginx"),
        tw_cwl_create_log_stream_request("/trailwatch/nginx", "web-1 access.log"),
        tw_cwl_put_retention_policy_request("/trailwatch/nginx", 14, NULL),
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *input = NULL;
        tw_err err = {{0}};
        assert_int_equal(tw_json_decode((const uint8_t *)reqs[i]->body.data, reqs[i]->body.len,
                                        &input, &err),
                         0);
        tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
        const char *group = json_string_value(json_object_get(input, "logGroupName"));
        assert_true(tw_logs_check_group_name(&v, "logGroupName", group, strlen(group)));
        json_t *stream = json_object_get(input, "logStreamName");
        if (stream)
            assert_true(tw_logs_check_stream_name(&v, "logStreamName", json_string_value(stream),
                                                  json_string_length(stream)));
        json_t *days = json_object_get(input, "retentionInDays");
        if (days)
            assert_true(tw_logs_retention_valid(json_integer_value(days)));
        assert_int_equal(tw_logs_violations_take(&v, NULL), 0);
        tw_logs_violations_free(&v);
        json_decref(input);
        tw_request_free(reqs[i]);
    }
}

/* ---- answers ---- */

static tw_cwl_verdict classify(long status, const char *code, const char *message,
                               const char *body, size_t n_events)
{
    tw_cwl_verdict v;
    tw_cwl_classify_response(status, code, message, body, body ? strlen(body) : 0, n_events, &v);
    return v;
}

static void test_a_2xx_answer_is_delivered_and_its_rejections_counted(void **state)
{
    (void)state;
    tw_cwl_verdict v = classify(200, NULL, NULL, "{\"nextSequenceToken\":\"4962\"}", 10);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
    assert_int_equal(v.rejected, 0);
    v = classify(200, "", "", "", 10);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
    v = classify(200, NULL, NULL, "not json", 10);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
    assert_int_equal(v.rejected, 0);

    /* Indices are exclusive ends for too old / expired, an inclusive start
     * for too new (the CloudWatch agent logs them as counts). */
    v = classify(200, NULL, NULL,
                 "{\"nextSequenceToken\":\"x\",\"rejectedLogEventsInfo\":"
                 "{\"tooOldLogEventEndIndex\":2,\"tooNewLogEventStartIndex\":8}}",
                 10);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
    assert_int_equal(v.too_old, 2);
    assert_int_equal(v.too_new, 2);
    assert_int_equal(v.expired, 0);
    assert_int_equal(v.rejected, 4);

    /* Too old and expired overlap: each event counts once in rejected. */
    v = classify(200, NULL, NULL,
                 "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":3,"
                 "\"expiredLogEventEndIndex\":5}}",
                 10);
    assert_int_equal(v.too_old, 3);
    assert_int_equal(v.expired, 5);
    assert_int_equal(v.rejected, 5);

    /* Nonsense indices stay within the batch. */
    v = classify(200, NULL, NULL,
                 "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":99,"
                 "\"tooNewLogEventStartIndex\":-4,\"expiredLogEventEndIndex\":\"7\"}}",
                 10);
    assert_int_equal(v.too_old, 10);
    assert_int_equal(v.too_new, 10);
    assert_int_equal(v.expired, 0);
    assert_int_equal(v.rejected, 10);
    v = classify(200, NULL, NULL, "{\"rejectedLogEventsInfo\":{\"tooNewLogEventStartIndex\":0}}",
                 3);
    assert_int_equal(v.too_new, 3);
    assert_int_equal(v.rejected, 3);
}

static void test_missing_group_and_stream_are_told_apart_by_the_message(void **state)
{
    (void)state;
    const char *group_body = "{\"__type\":\"ResourceNotFoundException\",\"message\":\"The "
                             "specified log group does not exist.\"}";
    tw_cwl_verdict v = classify(400, "ResourceNotFoundException",
                                "The specified log group does not exist.", group_body, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_GROUP);
    assert_string_equal(v.code, "ResourceNotFoundException");
    v = classify(400, "ResourceNotFoundException", "The specified log stream does not exist.",
                 NULL, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_STREAM);
    /* Neither: create the stream first, as the CloudWatch agent does. */
    v = classify(400, "ResourceNotFoundException", "Resource not found", NULL, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_STREAM);
    v = classify(400, "ResourceNotFoundException", NULL, NULL, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_STREAM);
    /* Namespaced and suffixed codes, and a code read from the body. */
    v = classify(400, "aws.logs#ResourceNotFoundException",
                 "The specified log group does not exist.", NULL, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_GROUP);
    v = classify(400,
                 "com.amazon.coral.service#ResourceNotFoundException:"
                 "http://internal.amazon.com/coral/com.amazon.coral.service/",
                 "The specified log stream does not exist.", NULL, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_STREAM);
    assert_string_equal(v.code, "ResourceNotFoundException");
    v = classify(400, "", "The specified log group does not exist.", group_body, 5);
    assert_int_equal(v.outcome, TW_CWL_MISSING_GROUP);
}

static void test_create_answers_already_exists_is_success(void **state)
{
    (void)state;
    tw_cwl_verdict v = classify(400, "ResourceAlreadyExistsException",
                                "The specified log group already exists", NULL, 0);
    assert_int_equal(v.outcome, TW_CWL_ALREADY_EXISTS);
    v = classify(400, "ResourceAlreadyExistsException", "The specified log stream already exists",
                 NULL, 0);
    assert_int_equal(v.outcome, TW_CWL_ALREADY_EXISTS);
    v = classify(200, NULL, NULL, "{}", 0);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
}

static void test_refusals_of_the_whole_batch_are_invalid(void **state)
{
    (void)state;
    static const struct {
        long status;
        const char *code, *message;
    } cases[] = {
        {400, "InvalidParameterException",
         "Log events in a single PutLogEvents request must be in chronological order."},
        {400, "InvalidParameterException",
         "The batch of log events in a single PutLogEvents request cannot span more than 24 "
         "hours."},
        {400, "InvalidParameterException",
         "1 validation error detected: Value 'x:y' at 'logGroupName' failed to satisfy "
         "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"},
        {400, "InvalidParameterException", "Log groups starting with AWS/ are reserved for AWS."},
        {400, "ValidationException", "bad"},
        {400, "SerializationException", "Start of structure or map found where not expected."},
        {400, "InvalidSequenceTokenException", "The given sequenceToken is invalid."},
        {400, "UnknownOperationException", ""},
        {413, "", ""},
        {404, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_cwl_verdict v = classify(cases[i].status, cases[i].code, cases[i].message, NULL, 5);
        assert_int_equal(v.outcome, TW_CWL_INVALID);
    }
}

static void test_data_already_accepted_counts_as_delivered(void **state)
{
    (void)state;
    tw_cwl_verdict v = classify(400, "DataAlreadyAcceptedException",
                                "The given batch of log events has already been accepted. The "
                                "next batch can be sent with sequenceToken: 4962",
                                NULL, 5);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
    assert_int_equal(v.rejected, 0);
}

static void test_conflicts_and_unretried_transients_are_retried(void **state)
{
    (void)state;
    static const struct {
        long status;
        const char *code;
    } cases[] = {
        {400, "OperationAbortedException"}, {409, "ConflictException"},
        {400, "ThrottlingException"},       {400, "LimitExceededException"},
        {503, ""},                          {500, "ServiceUnavailableException"},
        {429, NULL},                        {0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_cwl_verdict v = classify(cases[i].status, cases[i].code, "", NULL, 5);
        assert_int_equal(v.outcome, TW_CWL_RETRY);
    }
}

static void test_send_results_map_to_outcomes(void **state)
{
    (void)state;
    tw_buf response = TW_BUF_INIT;
    tw_buf_puts(&response, "{\"rejectedLogEventsInfo\":{\"tooNewLogEventStartIndex\":4}}");
    tw_send_result r = {.status = TW_SEND_ACKED, .http_status = 200, .response = &response};
    tw_cwl_verdict v;
    tw_cwl_classify(&r, 5, &v);
    assert_int_equal(v.outcome, TW_CWL_DELIVERED);
    assert_int_equal(v.too_new, 1);

    r = (tw_send_result){.status = TW_SEND_REJECTED, .http_status = 400};
    snprintf(r.code, sizeof r.code, "ResourceNotFoundException");
    snprintf(r.message, sizeof r.message, "The specified log group does not exist.");
    tw_cwl_classify(&r, 5, &v);
    assert_int_equal(v.outcome, TW_CWL_MISSING_GROUP);

    r = (tw_send_result){.status = TW_SEND_EXPIRED, .http_status = 503};
    snprintf(r.code, sizeof r.code, "ServiceUnavailableException");
    tw_cwl_classify(&r, 5, &v);
    assert_int_equal(v.outcome, TW_CWL_GAVE_UP);
    assert_string_equal(v.code, "ServiceUnavailableException");

    r = (tw_send_result){.status = TW_SEND_CANCELLED};
    tw_cwl_classify(&r, 5, &v);
    assert_int_equal(v.outcome, TW_CWL_CANCELLED);
    assert_string_equal(tw_cwl_outcome_name(TW_CWL_MISSING_GROUP), "missing log group");
    tw_buf_free(&response);
}

/* The collector's own error bodies, as it writes them, read right. */
static void test_the_collectors_error_bodies_are_understood(void **state)
{
    (void)state;
    static const struct {
        const char *type, *message;
        tw_cwl_outcome outcome;
    } cases[] = {
        {"ResourceNotFoundException", TW_LOGS_GROUP_NOT_FOUND, TW_CWL_MISSING_GROUP},
        {"ResourceNotFoundException", TW_LOGS_STREAM_NOT_FOUND, TW_CWL_MISSING_STREAM},
        {TW_LOGS_INVALID, "Log events in a single PutLogEvents request must be in chronological "
                          "order.",
         TW_CWL_INVALID},
        {"ResourceAlreadyExistsException", "The specified log group already exists",
         TW_CWL_ALREADY_EXISTS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_buf body = TW_BUF_INIT;
        tw_json_encode_error(&body, cases[i].type, cases[i].message);
        /* As the sender hands it over: code and message parsed, body kept;
         * and with the code left for the classifier to find. */
        tw_cwl_verdict v = classify(400, cases[i].type, cases[i].message, body.data, 5);
        assert_int_equal(v.outcome, cases[i].outcome);
        v = classify(400, "", cases[i].message, body.data, 5);
        assert_int_equal(v.outcome, cases[i].outcome);
        tw_buf_free(&body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_log_events_carries_the_body_as_is_without_gzip),
        cmocka_unit_test(test_put_log_events_gzips_at_the_level_asked_when_smaller),
        cmocka_unit_test(test_create_calls_write_escaped_names),
        cmocka_unit_test(test_retention_accepts_cloudwatchs_values_only),
        cmocka_unit_test(test_the_collector_accepts_the_create_bodies),
        cmocka_unit_test(test_a_2xx_answer_is_delivered_and_its_rejections_counted),
        cmocka_unit_test(test_missing_group_and_stream_are_told_apart_by_the_message),
        cmocka_unit_test(test_create_answers_already_exists_is_success),
        cmocka_unit_test(test_refusals_of_the_whole_batch_are_invalid),
        cmocka_unit_test(test_data_already_accepted_counts_as_delivered),
        cmocka_unit_test(test_conflicts_and_unretried_transients_are_retried),
        cmocka_unit_test(test_send_results_map_to_outcomes),
        cmocka_unit_test(test_the_collectors_error_bodies_are_understood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
