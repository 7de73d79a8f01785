/* test_proto_json.c — the AWS JSON codec (collector/proto_json.c): request
 * bodies to model objects (what AWS JSON services accept and refuse), and
 * outputs and errors back to JSON (timestamps as epoch seconds, reals that
 * read back as the same double, strings escaped). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol.h"

static json_t *decode_ok(const char *body)
{
    json_t *out = NULL;
    tw_err err = {{0}};
    int rc = tw_json_decode((const uint8_t *)body, strlen(body), &out, &err);
    if (rc != 0)
        print_error("body %s rejected: %s\n", body, err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(out);
    assert_true(json_is_object(out));
    return out;
}

static void assert_decode_fails(const char *body, size_t len, const char *message)
{
    json_t *out = (json_t *)0x1;
    tw_err err = {{0}};
    assert_int_equal(tw_json_decode((const uint8_t *)body, len, &out, &err), -EINVAL);
    assert_ptr_equal(out, (json_t *)0x1);
    if (strstr(err.msg, message) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", err.msg, message);
    assert_non_null(strstr(err.msg, message));
}

static char *encode(const tw_operation *op, const json_t *output, bool epoch_seconds)
{
    tw_buf out = TW_BUF_INIT;
    tw_json_encode_output(&out, op, output, epoch_seconds);
    return tw_buf_steal(&out);
}

/* ---- decoding ---- */

static void test_empty_and_blank_bodies_are_an_empty_input(void **state)
{
    (void)state;
    const char *bodies[] = {"", " \r\n\t"};
    for (size_t i = 0; i < 2; i++) {
        json_t *out = decode_ok(bodies[i]);
        assert_int_equal(json_object_size(out), 0);
        json_decref(out);
    }
    json_t *out = NULL;
    assert_int_equal(tw_json_decode(NULL, 0, &out, NULL), 0);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
}

static void test_members_keep_their_model_names_and_types(void **state)
{
    (void)state;
    json_t *in = decode_ok("{\"logGroupName\": \"g\", \"limit\": 5, \"startFromHead\": true,"
                           " \"logEvents\": [{\"timestamp\": 1700000000000, \"message\": \"hi\"}]}");
    assert_string_equal(json_string_value(json_object_get(in, "logGroupName")), "g");
    assert_int_equal(json_integer_value(json_object_get(in, "limit")), 5);
    assert_true(json_is_true(json_object_get(in, "startFromHead")));
    json_t *ev = json_array_get(json_object_get(in, "logEvents"), 0);
    assert_int_equal(json_integer_value(json_object_get(ev, "timestamp")), 1700000000000LL);
    json_decref(in);
}

static void test_null_members_are_absent_at_every_depth(void **state)
{
    (void)state;
    json_t *in = decode_ok("{\"a\": null, \"b\": {\"c\": null, \"d\": 1},"
                           " \"e\": [{\"f\": null}, null]}");
    assert_null(json_object_get(in, "a"));
    json_t *b = json_object_get(in, "b");
    assert_null(json_object_get(b, "c"));
    assert_int_equal(json_object_size(b), 1);
    json_t *e = json_object_get(in, "e");
    assert_int_equal(json_object_size(json_array_get(e, 0)), 0);
    assert_int_equal(json_array_size(e), 2); /* list items keep their places */
    json_decref(in);
}

static void test_an_escaped_nul_in_a_log_line_is_kept(void **state)
{
    (void)state;
    json_t *in = decode_ok("{\"message\": \"a\\u0000b\"}");
    json_t *m = json_object_get(in, "message");
    assert_int_equal(json_string_length(m), 3);
    assert_memory_equal(json_string_value(m), "a\0b", 3);
    json_decref(in);
}

static void test_bodies_that_are_not_a_json_object_are_refused(void **state)
{
    (void)state;
    assert_decode_fails("[1,2]", 5, "must be a JSON object, not an array");
    assert_decode_fails("\"x\"", 3, "must be a JSON object, not a string");
    assert_decode_fails("42", 2, "must be a JSON object, not a number");
    assert_decode_fails("null", 4, "must be a JSON object, not null");
    assert_decode_fails("{\"a\": 1", 7, "not valid JSON");
    assert_decode_fails("{\"a\": 1} x", 10, "not valid JSON");
    assert_decode_fails("{\"a\": NaN}", 10, "not valid JSON");
    assert_decode_fails("{\"a\": \"\xff\"}", 9, "not valid JSON");
    assert_decode_fails("{\"a\": 1}\0", 9, "not valid JSON");
    assert_decode_fails("{\"big\": 123456789012345678901234567890}", 39, "not valid JSON");
}

static void test_deep_nesting_is_refused_not_a_crash(void **state)
{
    (void)state;
    enum { DEPTH = 100000 };
    static char body[2 * DEPTH + 16];
    size_t n = 0;
    body[n++] = '{';
    memcpy(body + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < DEPTH; i++)
        body[n++] = '[';
    for (int i = 0; i < DEPTH; i++)
        body[n++] = ']';
    body[n++] = '}';
    assert_decode_fails(body, n, "not valid JSON");
}

/* ---- encoding ---- */

static const char *const times[] = {"Timestamp", "Timestamps", "CreationTime", NULL};
static const tw_operation op_with_times = {
    .name = "Op", .timestamp_members = times,
};

static void test_no_output_is_an_empty_object(void **state)
{
    (void)state;
    char *s = encode(&op_with_times, NULL, true);
    assert_string_equal(s, "{}");
    free(s);
}

static void test_timestamps_become_epoch_seconds_at_any_depth(void **state)
{
    (void)state;
    json_t *out = json_pack("{s:I, s:[{s:I, s:I}], s:{s:I}, s:[I, I], s:I}", "CreationTime",
                            (json_int_t)1704067200000LL, "Datapoints", "Timestamp",
                            (json_int_t)1704067200123LL, "Other", (json_int_t)7, "Nested",
                            "Timestamp", (json_int_t)1704067200120LL, "Timestamps",
                            (json_int_t)-1500, (json_int_t)0, "logTime",
                            (json_int_t)1704067200000LL);
    char *s = encode(&op_with_times, out, true);
    assert_string_equal(s, "{\"CreationTime\":1704067200,"
                           "\"Datapoints\":[{\"Timestamp\":1704067200.123,\"Other\":7}],"
                           "\"Nested\":{\"Timestamp\":1704067200.12},"
                           "\"Timestamps\":[-1.5,0],\"logTime\":1704067200000}");
    free(s);
    /* Logs keeps its milliseconds. */
    s = encode(&op_with_times, out, false);
    assert_non_null(strstr(s, "\"CreationTime\":1704067200000"));
    assert_non_null(strstr(s, "\"Timestamp\":1704067200123"));
    free(s);
    json_decref(out);
}

static void test_reals_read_back_as_the_same_double(void **state)
{
    (void)state;
    const double values[] = {0.1, 1.5, 2.0, -0.0, 1e-5, 1.0 / 3.0, 2.0 / 3.0, 1e300,
                             -1e-300, 123456789.123456789, 4.9e-324, 1.7976931348623157e308,
                             0.30000000000000004, 100.0, 9007199254740993.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_t *out = json_pack("{s:f}", "v", values[i]);
        char *s = encode(NULL, out, true);
        json_t *back = json_loads(s, 0, NULL);
        assert_non_null(back);
        json_t *v = json_object_get(back, "v");
        if (!json_is_real(v) || json_real_value(v) != values[i])
            print_error("%.17g encoded as %s\n", values[i], s);
        assert_true(json_is_real(v)); /* "2.0", never "2" */
        assert_true(json_real_value(v) == values[i]);
        json_decref(back);
        json_decref(out);
        free(s);
    }
    json_t *out = json_pack("{s:f, s:f}", "a", 0.1, "b", 2.0);
    char *s = encode(NULL, out, true);
    assert_string_equal(s, "{\"a\":0.1,\"b\":2.0}"); /* shortest, not %.17g noise */
    free(s);
    json_decref(out);
}

static void test_strings_are_escaped_and_utf8_passes_through(void **state)
{
    (void)state;
    json_t *out = json_object();
    json_object_set_new(out, "m", json_stringn("q\"b\\n\n\t\x01\0\xc3\xa9", 11));
    json_object_set_new(out, "k\"ey", json_string("v"));
    char *s = encode(NULL, out, true);
    assert_string_equal(s, "{\"m\":\"q\\\"b\\\\n\\n\\t\\u0001\\u0000\xc3\xa9\",\"k\\\"ey\":\"v\"}");
    json_t *back = json_loads(s, JSON_ALLOW_NUL, NULL);
    assert_true(json_equal(back, out));
    json_decref(back);
    json_decref(out);
    free(s);
}

static void test_outputs_round_trip_through_the_decoder(void **state)
{
    (void)state;
    const char *body = "{\"logGroups\":[{\"logGroupName\":\"/a\",\"creationTime\":1700000000000,"
                       "\"retentionInDays\":7,\"storedBytes\":0,\"metricFilterCount\":0,"
                       "\"arn\":\"arn:aws:logs:us-east-1:123456789012:log-group:/a:*\"}],"
                       "\"flag\":false,\"nested\":{\"list\":[1,2.5,\"x\",true,{}]}}";
    json_t *in = decode_ok(body);
    char *s = encode(NULL, in, false);
    assert_string_equal(s, body);
    json_decref(in);
    free(s);
}

static void test_errors_carry_type_and_message(void **state)
{
    (void)state;
    tw_buf out = TW_BUF_INIT;
    tw_json_encode_error(&out, "ResourceNotFoundException",
                         "The specified log group does not exist: \"g\"");
    assert_string_equal(tw_buf_cstr(&out),
                        "{\"__type\":\"ResourceNotFoundException\","
                        "\"message\":\"The specified log group does not exist: \\\"g\\\"\"}");
    json_t *back = json_loads(tw_buf_cstr(&out), 0, NULL);
    assert_non_null(back);
    json_decref(back);
    tw_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_blank_bodies_are_an_empty_input),
        cmocka_unit_test(test_members_keep_their_model_names_and_types),
        cmocka_unit_test(test_null_members_are_absent_at_every_depth),
        cmocka_unit_test(test_an_escaped_nul_in_a_log_line_is_kept),
        cmocka_unit_test(test_bodies_that_are_not_a_json_object_are_refused),
        cmocka_unit_test(test_deep_nesting_is_refused_not_a_crash),
        cmocka_unit_test(test_no_output_is_an_empty_object),
        cmocka_unit_test(test_timestamps_become_epoch_seconds_at_any_depth),
        cmocka_unit_test(test_reals_read_back_as_the_same_double),
        cmocka_unit_test(test_strings_are_escaped_and_utf8_passes_through),
        cmocka_unit_test(test_outputs_round_trip_through_the_decoder),
        cmocka_unit_test(test_errors_carry_type_and_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
