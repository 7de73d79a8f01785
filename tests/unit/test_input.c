/* test_input.c — the tw_input_* helpers (collector/input.c): every
 * protocol's spelling of a string, integer, real, boolean, timestamp and
 * list is accepted; anything else fails with the service's own error code
 * and a message that names the member, in that service's style. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "call.h"

/* Stand-ins with the codes the real services declare (call.h). */
static const tw_service logs_like = {
    .signing_name = "logs",
    .json_target_prefix = "Logs_20140328",
    .invalid_parameter_code = "InvalidParameterException",
    .missing_parameter_code = "InvalidParameterException",
};
static const tw_service cloudwatch_like = {
    .signing_name = "monitoring",
    .json_target_prefix = "GraniteServiceVersion20100801",
    .xml_namespace = "http://monitoring.amazonaws.com/doc/2010-08-01/",
    .invalid_parameter_code = "InvalidParameterValueException",
    .invalid_parameter_query_code = "InvalidParameterValue",
    .missing_parameter_code = "MissingRequiredParameterException",
    .missing_parameter_query_code = "MissingParameter",
};

typedef struct fixture {
    tw_call call;
    json_t *in;
} fixture;

static int setup_with(void **state, const tw_service *service, const char *json)
{
    fixture *f = calloc(1, sizeof *f);
    f->call.service = service;
    f->call.protocol = service == &cloudwatch_like ? TW_PROTOCOL_QUERY : TW_PROTOCOL_JSON_1_1;
    json_error_t jerr;
    f->in = json_loads(json, 0, &jerr);
    if (f->in == NULL)
        print_error("fixture JSON: %s\n", jerr.text);
    *state = f;
    return f->in == NULL ? -1 : 0;
}

static const char logs_input[] =
    "{\"logGroupName\": \"/app\", \"limit\": 5, \"limitText\": \"12\", \"negative\": \"-3\","
    " \"whole\": 60.0, \"half\": 12.5, \"halfText\": \"12.5\", \"hex\": \"0x10\","
    " \"padded\": \" 12\", \"empty\": \"\", \"huge\": \"9223372036854775808\","
    " \"min\": \"-9223372036854775808\", \"flag\": true, \"flagText\": \"false\","
    " \"flagUpper\": \"TRUE\", \"yes\": \"yes\", \"one\": 1, \"nothing\": null,"
    " \"list\": [1, 2], \"object\": {\"a\": 1},"
    " \"long\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";

static const char cloudwatch_input[] =
    "{\"Namespace\": \"MyApp\", \"Period\": \"sixty\", \"Value\": \"1.5\", \"Exp\": \"1e3\","
    " \"Small\": \"1.0E-5\", \"Point\": \".5\", \"Neg\": \"-2\", \"Nan\": \"NaN\","
    " \"Inf\": \"Infinity\", \"Inf2\": \"inf\", \"Hex\": \"0x1p3\", \"Over\": \"1e999\","
    " \"BadExp\": \"1e\", \"Trailing\": \"1.5 \", \"Blank\": \"\", \"Number\": 3,"
    " \"Real\": 2.25, \"Iso\": \"2024-01-01T00:00:00Z\", \"IsoMs\": \"2024-01-01T00:00:00.123Z\","
    " \"IsoOffset\": \"2024-01-01T02:00:00+02:00\", \"NoZone\": \"2024-01-01T00:00:00\","
    " \"Epoch\": 1704067200, \"EpochFraction\": 1704067200.5, \"EpochText\": \"1704067200\","
    " \"Yesterday\": \"yesterday\", \"Far\": 1e20, \"Dimensions\": \"\", \"Bad\": \"x\"}";

static int setup_logs(void **state)
{
    return setup_with(state, &logs_like, logs_input);
}

static int setup_cloudwatch(void **state)
{
    return setup_with(state, &cloudwatch_like, cloudwatch_input);
}

static int setup_no_service(void **state)
{
    return setup_with(state, NULL, logs_input);
}

static int teardown(void **state)
{
    fixture *f = *state;
    json_decref(f->in);
    tw_buf_free(&f->call.error.message);
    free(f);
    return 0;
}

/* Asserts the call failed with code/query code and a message containing
 * every given fragment, then clears the error for the next check. */
static void assert_failed(fixture *f, int rc, const char *code, const char *query_code,
                          const char *message)
{
    assert_int_equal(rc, -EINVAL);
    assert_non_null(f->call.error.code);
    assert_string_equal(f->call.error.code, code);
    if (query_code != NULL) {
        assert_non_null(f->call.error.query_code);
        assert_string_equal(f->call.error.query_code, query_code);
    }
    assert_int_equal(f->call.error.status, 400);
    assert_false(f->call.error.server_fault);
    const char *got = tw_buf_cstr(&f->call.error.message);
    if (strstr(got, message) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", got, message);
    assert_non_null(strstr(got, message));
    f->call.error.code = NULL;
    f->call.error.query_code = NULL;
    tw_buf_reset(&f->call.error.message);
}

static void assert_no_error(const fixture *f)
{
    if (f->call.error.code != NULL)
        print_error("unexpected error %s: %s\n", f->call.error.code,
                    tw_buf_cstr(&f->call.error.message));
    assert_null(f->call.error.code);
}

/* ---- strings ---- */

static void test_string_present_absent_and_null(void **state)
{
    fixture *f = *state;
    const char *s = "untouched";
    assert_int_equal(tw_input_string(&f->call, f->in, "logGroupName", &s), 0);
    assert_string_equal(s, "/app");
    s = "untouched";
    assert_int_equal(tw_input_string(&f->call, f->in, "absent", &s), -ENOENT);
    assert_int_equal(tw_input_string(&f->call, f->in, "nothing", &s), -ENOENT);
    assert_string_equal(s, "untouched");
    assert_no_error(f);
}

static void test_logs_string_errors_use_the_coral_validation_sentence(void **state)
{
    fixture *f = *state;
    const char *s;
    assert_failed(f, tw_input_string(&f->call, f->in, "limit", &s), "InvalidParameterException",
                  NULL,
                  "1 validation error detected: Value '5' at 'limit' failed to satisfy "
                  "constraint: Member must be a string");
    assert_failed(f, tw_input_required_string(&f->call, f->in, "logStreamName", &s),
                  "InvalidParameterException", NULL,
                  "1 validation error detected: Value null at 'logStreamName' failed to "
                  "satisfy constraint: Member must not be null");
    assert_failed(f, tw_input_required_string(&f->call, f->in, "nothing", &s),
                  "InvalidParameterException", NULL, "at 'nothing'");
    assert_int_equal(tw_input_required_string(&f->call, f->in, "logGroupName", &s), 0);
}

static void test_a_long_value_is_cut_in_the_message(void **state)
{
    fixture *f = *state;
    int64_t v;
    int rc = tw_input_int(&f->call, f->in, "long", &v);
    const char *got = tw_buf_cstr(&f->call.error.message);
    assert_true(strlen(got) < 300);
    assert_non_null(strstr(got, "xxx...'"));
    assert_failed(f, rc, "InvalidParameterException", NULL, "at 'long'");
}

static void test_cloudwatch_messages_name_the_parameter(void **state)
{
    fixture *f = *state;
    const char *s;
    assert_failed(f, tw_input_required_string(&f->call, f->in, "MetricName", &s),
                  "MissingRequiredParameterException", "MissingParameter",
                  "The parameter MetricName is required.");
    assert_failed(f, tw_input_string(&f->call, f->in, "Number", &s),
                  "InvalidParameterValueException", "InvalidParameterValue",
                  "The parameter Number must be a string; got '3'.");
    int64_t i;
    assert_failed(f, tw_input_int(&f->call, f->in, "Period", &i),
                  "InvalidParameterValueException", "InvalidParameterValue",
                  "The parameter Period must be an integer; got 'sixty'.");
}

static void test_without_a_service_the_generic_validation_code_is_used(void **state)
{
    fixture *f = *state;
    const char *s;
    assert_failed(f, tw_input_required_string(&f->call, f->in, "x", &s), "ValidationException",
                  NULL, "Value null at 'x'");
    assert_failed(f, tw_input_string(&f->call, f->in, "limit", &s), "ValidationException",
                  NULL, "at 'limit'");
}

/* ---- integers ---- */

static void test_integers_from_numbers_and_decimal_text(void **state)
{
    fixture *f = *state;
    int64_t v = 0;
    assert_int_equal(tw_input_int(&f->call, f->in, "limit", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(tw_input_int(&f->call, f->in, "limitText", &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(tw_input_int(&f->call, f->in, "negative", &v), 0);
    assert_int_equal(v, -3);
    assert_int_equal(tw_input_int(&f->call, f->in, "whole", &v), 0);
    assert_int_equal(v, 60);
    assert_int_equal(tw_input_int(&f->call, f->in, "min", &v), 0);
    assert_true(v == INT64_MIN);
    v = 42;
    assert_int_equal(tw_input_int(&f->call, f->in, "absent", &v), -ENOENT);
    assert_int_equal(v, 42);
    assert_no_error(f);
}

static void test_integers_refuse_fractions_hex_blanks_and_overflow(void **state)
{
    fixture *f = *state;
    const char *members[] = {"half", "halfText", "hex", "padded", "empty", "huge", "flag",
                             "list", "object"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        int64_t v = 42;
        char at[64];
        snprintf(at, sizeof at, "at '%s' failed to satisfy constraint: Member must be an integer",
                 members[i]);
        assert_failed(f, tw_input_int(&f->call, f->in, members[i], &v),
                      "InvalidParameterException", NULL, at);
        assert_int_equal(v, 42);
    }
}

/* ---- reals ---- */

static void test_reals_in_every_client_spelling(void **state)
{
    fixture *f = *state;
    const struct {
        const char *member;
        double want;
    } cases[] = {{"Value", 1.5},  {"Exp", 1000.0}, {"Small", 1.0e-5}, {"Point", 0.5},
                 {"Neg", -2.0},   {"Number", 3.0}, {"Real", 2.25}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = 0;
        assert_int_equal(tw_input_double(&f->call, f->in, cases[i].member, &v), 0);
        assert_true(v == cases[i].want);
    }
    assert_no_error(f);
}

static void test_reals_refuse_nan_infinity_hex_and_junk(void **state)
{
    fixture *f = *state;
    const char *members[] = {"Nan", "Inf", "Inf2", "Hex", "Over", "BadExp", "Trailing", "Blank",
                             "Namespace"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        double v = 42;
        char want[80];
        snprintf(want, sizeof want, "The parameter %s must be a finite number", members[i]);
        assert_failed(f, tw_input_double(&f->call, f->in, members[i], &v),
                      "InvalidParameterValueException", "InvalidParameterValue", want);
        assert_true(v == 42);
    }
}

/* ---- booleans ---- */

static void test_booleans_from_json_and_query_text(void **state)
{
    fixture *f = *state;
    bool b = false;
    assert_int_equal(tw_input_bool(&f->call, f->in, "flag", &b), 0);
    assert_true(b);
    assert_int_equal(tw_input_bool(&f->call, f->in, "flagText", &b), 0);
    assert_false(b);
    assert_int_equal(tw_input_bool(&f->call, f->in, "flagUpper", &b), 0);
    assert_true(b);
    assert_no_error(f);
    assert_failed(f, tw_input_bool(&f->call, f->in, "yes", &b), "InvalidParameterException",
                  NULL, "Value 'yes' at 'yes' failed to satisfy constraint: Member must be a "
                        "boolean");
    assert_failed(f, tw_input_bool(&f->call, f->in, "one", &b), "InvalidParameterException",
                  NULL, "Value '1' at 'one'");
}

/* ---- timestamps ---- */

static void test_times_from_iso_8601_and_epoch_seconds(void **state)
{
    fixture *f = *state;
    const struct {
        const char *member;
        int64_t want_ms;
    } cases[] = {
        {"Iso", INT64_C(1704067200000)},       {"IsoMs", INT64_C(1704067200123)},
        {"IsoOffset", INT64_C(1704067200000)}, {"NoZone", INT64_C(1704067200000)},
        {"Epoch", INT64_C(1704067200000)},     {"EpochFraction", INT64_C(1704067200500)},
        {"EpochText", INT64_C(1704067200000)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 0;
        assert_int_equal(tw_input_time(&f->call, f->in, cases[i].member, &ms), 0);
        assert_int_equal(ms, cases[i].want_ms);
    }
    assert_no_error(f);
}

static void test_times_refuse_words_and_out_of_range_numbers(void **state)
{
    fixture *f = *state;
    int64_t ms = 42;
    assert_failed(f, tw_input_time(&f->call, f->in, "Yesterday", &ms),
                  "InvalidParameterValueException", "InvalidParameterValue",
                  "The parameter Yesterday must be a timestamp");
    assert_failed(f, tw_input_time(&f->call, f->in, "Far", &ms),
                  "InvalidParameterValueException", "InvalidParameterValue",
                  "The parameter Far must be a timestamp");
    assert_failed(f, tw_input_time(&f->call, f->in, "Blank", &ms),
                  "InvalidParameterValueException", "InvalidParameterValue", "Blank");
    assert_int_equal(ms, 42);
}

/* ---- lists ---- */

static void test_lists_and_the_empty_query_list(void **state)
{
    fixture *f = *state;
    json_t *list = NULL;
    assert_int_equal(tw_input_array(&f->call, f->in, "Dimensions", &list), 0);
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 0);
    /* The member itself is now a list: a second read sees the same. */
    assert_ptr_equal(json_object_get(f->in, "Dimensions"), list);
    assert_int_equal(tw_input_array(&f->call, f->in, "absent", &list), -ENOENT);
    assert_no_error(f);
    assert_failed(f, tw_input_array(&f->call, f->in, "Bad", &list),
                  "InvalidParameterValueException", "InvalidParameterValue",
                  "The parameter Bad must be a list; got 'x'.");
}

static void test_json_lists_are_returned_as_they_are(void **state)
{
    fixture *f = *state;
    json_t *list = NULL;
    assert_int_equal(tw_input_array(&f->call, f->in, "list", &list), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_failed(f, tw_input_array(&f->call, f->in, "object", &list),
                  "InvalidParameterException", NULL,
                  "Value '{\"a\":1}' at 'object' failed to satisfy constraint: Member must be a "
                  "list");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_string_present_absent_and_null, setup_logs,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_logs_string_errors_use_the_coral_validation_sentence,
                                        setup_logs, teardown),
        cmocka_unit_test_setup_teardown(test_a_long_value_is_cut_in_the_message, setup_logs,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cloudwatch_messages_name_the_parameter,
                                        setup_cloudwatch, teardown),
        cmocka_unit_test_setup_teardown(
            test_without_a_service_the_generic_validation_code_is_used, setup_no_service,
            teardown),
        cmocka_unit_test_setup_teardown(test_integers_from_numbers_and_decimal_text, setup_logs,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_integers_refuse_fractions_hex_blanks_and_overflow,
                                        setup_logs, teardown),
        cmocka_unit_test_setup_teardown(test_reals_in_every_client_spelling, setup_cloudwatch,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reals_refuse_nan_infinity_hex_and_junk,
                                        setup_cloudwatch, teardown),
        cmocka_unit_test_setup_teardown(test_booleans_from_json_and_query_text, setup_logs,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_times_from_iso_8601_and_epoch_seconds,
                                        setup_cloudwatch, teardown),
        cmocka_unit_test_setup_teardown(test_times_refuse_words_and_out_of_range_numbers,
                                        setup_cloudwatch, teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_the_empty_query_list, setup_cloudwatch,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_json_lists_are_returned_as_they_are, setup_logs,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
