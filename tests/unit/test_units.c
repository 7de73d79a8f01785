/* test_units.c — durations and sizes as users write them (lib/units.h):
 * what is accepted, what each mistake is told, and format/parse round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "units.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef int (*parse_fn)(const char *, uint64_t *, tw_err *);

typedef struct good_input {
    const char *text;
    uint64_t value;
} good_input;

typedef struct bad_input {
    const char *text;
    int code;
    const char *message;
} bad_input;

static void assert_all_accepted(parse_fn parse, const good_input *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        tw_err err = {{0}};
        uint64_t out = 0;
        int rc = parse(cases[i].text, &out, &err);
        if (rc != 0)
            print_error("input \"%s\" rejected: %s\n", cases[i].text, err.msg);
        assert_int_equal(rc, 0);
        if (out != cases[i].value)
            print_error("input \"%s\"\n", cases[i].text);
        assert_int_equal(out, cases[i].value);
    }
}

/* Each input must fail with its code, its message must contain the
 * expected words, and *out must be left alone. */
static void assert_all_rejected(parse_fn parse, const bad_input *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        tw_err err = {{0}};
        uint64_t out = 42;
        int rc = parse(cases[i].text, &out, &err);
        if (rc != cases[i].code || strstr(err.msg, cases[i].message) == NULL)
            print_error("input \"%s\": rc %d, message \"%s\", wanted \"%s\"\n", cases[i].text,
                        rc, err.msg, cases[i].message);
        assert_int_equal(rc, cases[i].code);
        assert_non_null(strstr(err.msg, cases[i].message));
        assert_int_equal(out, 42);
        assert_int_equal(parse(cases[i].text, &out, NULL), cases[i].code);
    }
}

/* ---- durations ---- */

static void test_duration_accepts_every_unit(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {"500ms", 500},     {"60s", 60000},       {"5m", 300000},
        {"1h", 3600000},    {"2d", 172800000},    {"0s", 0},
        {"0ms", 0},         {"1000ms", 1000},     {"90m", 5400000},
    };
    assert_all_accepted(tw_duration_parse, cases, COUNT(cases));
}

static void test_duration_allows_blanks_around_number_and_unit(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {" 5m", 300000}, {"5m ", 300000}, {"5 m", 300000}, {"\t60\ts\t", 60000},
    };
    assert_all_accepted(tw_duration_parse, cases, COUNT(cases));
}

static void test_duration_fraction_is_accepted_when_it_is_whole_milliseconds(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {"1.5h", 5400000}, {"0.5s", 500},  {"0.001s", 1},     {"2.25m", 135000},
        {"1.0ms", 1},      {"0.5d", 43200000}, {"1.000000000s", 1000},
    };
    assert_all_accepted(tw_duration_parse, cases, COUNT(cases));
}

static void test_duration_largest_value_is_int64_max_milliseconds(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {"9223372036854775807ms", UINT64_C(9223372036854775807)},
        {"106751991167d", UINT64_C(106751991167) * 86400000},
    };
    assert_all_accepted(tw_duration_parse, cases, COUNT(cases));
}

static void test_duration_without_unit_is_rejected_with_hint(void **state)
{
    (void)state;
    tw_err err = {{0}};
    uint64_t out = 42;
    assert_int_equal(tw_duration_parse("60", &out, &err), -EINVAL);
    assert_string_equal(err.msg,
                        "\"60\": a duration needs a unit (expected ms, s, m, h or d); did you "
                        "mean \"60s\"?");
    assert_int_equal(out, 42);
}

static void test_duration_with_spelled_out_unit_is_rejected_with_hint(void **state)
{
    (void)state;
    tw_err err = {{0}};
    uint64_t out;
    assert_int_equal(tw_duration_parse("5 minutes", &out, &err), -EINVAL);
    assert_string_equal(err.msg, "\"5 minutes\": unknown duration unit \"minutes\" (expected ms, "
                                 "s, m, h or d); did you mean \"5m\"?");
}

static void test_duration_rejects_bad_input_with_a_reason(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        {"", -EINVAL, "\"\": the duration is empty (expected a number and a unit: ms, s, m, h or d, e.g. \"60s\")"},
        {"   ", -EINVAL, "the duration is empty"},
        {"-5s", -EINVAL, "\"-5s\": the duration cannot be negative"},
        {"fast", -EINVAL, "\"fast\": the duration does not start with a number"},
        {"+5s", -EINVAL, "does not start with a number"},
        {".5s", -EINVAL, "does not start with a number"},
        {"10 secs", -EINVAL, "unknown duration unit \"secs\" (expected ms, s, m, h or d); did you mean \"10s\"?"},
        {"2 hours", -EINVAL, "did you mean \"2h\"?"},
        {"30 sec", -EINVAL, "did you mean \"30s\"?"},
        {"1 day", -EINVAL, "did you mean \"1d\"?"},
        {"5S", -EINVAL, "unknown duration unit \"S\" (expected ms, s, m, h or d); did you mean \"5s\"?"},
        {"5M", -EINVAL, "unknown duration unit \"M\" (expected ms, s, m, h or d)"},
        {"5us", -EINVAL, "unknown duration unit \"us\""},
        {"1h30m", -EINVAL, "unknown duration unit \"h30m\""},
        {"5s5", -EINVAL, "unknown duration unit \"s5\""},
        {"1.5.5s", -EINVAL, "unknown duration unit \".5s\""},
        {"1.s", -EINVAL, "the duration has no digits after the '.'"},
        {"1.0000000001s", -EINVAL, "has more than 9 digits after the '.'"},
        {"1.0001s", -EINVAL, "\"1.0001s\": not a whole number of milliseconds"},
        {"0.5ms", -EINVAL, "not a whole number of milliseconds"},
        {"9223372036854775808ms", -ERANGE, "duration too large (at most 9223372036854775807 milliseconds)"},
        {"106751991168d", -ERANGE, "duration too large"},
        {"99999999999999999999999s", -ERANGE, "duration too large"},
        {"106751991167.5d", -ERANGE, "duration too large"},
    };
    assert_all_rejected(tw_duration_parse, cases, COUNT(cases));
}

static void test_duration_message_truncates_very_long_input(void **state)
{
    (void)state;
    char text[600];
    memset(text, '7', sizeof text - 2);
    text[sizeof text - 2] = 'x';
    text[sizeof text - 1] = '\0';
    tw_err err = {{0}};
    uint64_t out;
    assert_int_equal(tw_duration_parse(text, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"..."));
    assert_non_null(strstr(err.msg, "unknown duration unit \"x\""));
    assert_true(strlen(err.msg) < 200);
}

static void test_duration_format_picks_the_largest_exact_unit(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {"0s", 0},           {"1ms", 1},        {"1500ms", 1500}, {"1s", 1000},
        {"90s", 90000},      {"5m", 300000},    {"25h", 90000000}, {"1d", 86400000},
        {"7d", 604800000},   {"86401s", 86401000},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char out[TW_UNITS_FORMAT_SIZE];
        assert_int_equal(tw_duration_format(cases[i].value, out, sizeof out), 0);
        assert_string_equal(out, cases[i].text);
    }
}

static void test_duration_format_then_parse_round_trips(void **state)
{
    (void)state;
    uint64_t values[] = {0, 1, 999, 1000, 59999, 60000, 3600000, 86400000, 86400001,
                         UINT64_C(9223372036854775807), UINT64_C(9223372036800000000)};
    for (size_t i = 0; i < COUNT(values); i++) {
        char text[TW_UNITS_FORMAT_SIZE];
        assert_int_equal(tw_duration_format(values[i], text, sizeof text), 0);
        uint64_t back = 42;
        assert_int_equal(tw_duration_parse(text, &back, NULL), 0);
        assert_int_equal(back, values[i]);
    }
    for (uint64_t v = 1; v < UINT64_C(1) << 62; v = v * 3 + 7) {
        char text[TW_UNITS_FORMAT_SIZE];
        assert_int_equal(tw_duration_format(v, text, sizeof text), 0);
        uint64_t back = 0;
        assert_int_equal(tw_duration_parse(text, &back, NULL), 0);
        assert_int_equal(back, v);
    }
}

static void test_format_into_a_short_buffer_reports_range_and_stays_terminated(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(tw_duration_format(1500, small, sizeof small), -ERANGE);
    assert_string_equal(small, "150");
    assert_int_equal(tw_size_format(65536, small, sizeof small), -ERANGE);
    assert_string_equal(small, "64K");
    assert_int_equal(tw_size_format(1024, small, sizeof small), -ERANGE);
    assert_string_equal(small, "1Ki"); /* "1KiB" and its NUL need 5 bytes */
    char exact[5];
    assert_int_equal(tw_size_format(1024, exact, sizeof exact), 0);
    assert_string_equal(exact, "1KiB");
}

/* ---- sizes ---- */

static void test_size_accepts_binary_units_in_any_case(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {"100B", 100},
        {"64KiB", 65536},
        {"1MiB", 1048576},
        {"1 GiB", UINT64_C(1073741824)},
        {"2TiB", UINT64_C(2199023255552)},
        {"64kib", 65536},
        {"64KIB", 65536},
        {"0B", 0},
        {"1.5KiB", 1536},
        {"0.5MiB", 524288},
        {" 8 MiB ", 8388608},
        {"18446744073709551615B", UINT64_MAX},
        {"16777215TiB", UINT64_C(16777215) << 40},
    };
    assert_all_accepted(tw_size_parse, cases, COUNT(cases));
}

static void test_size_without_unit_is_rejected_with_hint(void **state)
{
    (void)state;
    tw_err err = {{0}};
    uint64_t out = 42;
    assert_int_equal(tw_size_parse("65536", &out, &err), -EINVAL);
    assert_string_equal(err.msg, "\"65536\": a size needs a unit (expected B, KiB, MiB, GiB or "
                                 "TiB); did you mean \"65536B\"?");
    assert_int_equal(out, 42);
}

static void test_size_decimal_units_are_rejected_with_binary_hint(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        {"64KB", -EINVAL, "\"64KB\": unknown size unit \"KB\" (expected B, KiB, MiB, GiB or TiB); did you mean \"64KiB\"?"},
        {"64kB", -EINVAL, "did you mean \"64KiB\"?"},
        {"64k", -EINVAL, "did you mean \"64KiB\"?"},
        {"1M", -EINVAL, "did you mean \"1MiB\"?"},
        {"1 mb", -EINVAL, "did you mean \"1MiB\"?"},
        {"2G", -EINVAL, "did you mean \"2GiB\"?"},
        {"1TB", -EINVAL, "did you mean \"1TiB\"?"},
        {"10 bytes", -EINVAL, "did you mean \"10B\"?"},
    };
    assert_all_rejected(tw_size_parse, cases, COUNT(cases));
}

static void test_size_rejects_bad_input_with_a_reason(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        {"", -EINVAL, "\"\": the size is empty (expected a number and a unit: B, KiB, MiB, GiB or TiB, e.g. \"64KiB\")"},
        {"-1KiB", -EINVAL, "\"-1KiB\": the size cannot be negative"},
        {"KiB", -EINVAL, "\"KiB\": the size does not start with a number"},
        {"big", -EINVAL, "the size does not start with a number"},
        {"64 KiBs", -EINVAL, "unknown size unit \"KiBs\" (expected B, KiB, MiB, GiB or TiB)"},
        {"64 Ki B", -EINVAL, "unknown size unit \"Ki B\""},
        {"0.1KiB", -EINVAL, "\"0.1KiB\": not a whole number of bytes"},
        {"1.5B", -EINVAL, "not a whole number of bytes"},
        {"1.KiB", -EINVAL, "the size has no digits after the '.'"},
        {"16777216TiB", -ERANGE, "\"16777216TiB\": size too large (at most 18446744073709551615 bytes)"},
        {"18446744073709551616B", -ERANGE, "size too large"},
        {"16777216.5TiB", -ERANGE, "size too large"},
    };
    assert_all_rejected(tw_size_parse, cases, COUNT(cases));
}

static void test_size_format_picks_the_largest_exact_unit(void **state)
{
    (void)state;
    static const good_input cases[] = {
        {"0B", 0},
        {"1B", 1},
        {"1000B", 1000},
        {"1KiB", 1024},
        {"64KiB", 65536},
        {"1536KiB", 1572864},
        {"1MiB", 1048576},
        {"3GiB", UINT64_C(3221225472)},
        {"1024TiB", UINT64_C(1) << 50},
        {"18446744073709551615B", UINT64_MAX},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char out[TW_UNITS_FORMAT_SIZE];
        assert_int_equal(tw_size_format(cases[i].value, out, sizeof out), 0);
        assert_string_equal(out, cases[i].text);
    }
}

static void test_size_format_then_parse_round_trips(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < UINT64_MAX / 2; v = v * 2 + (v % 3 == 0 ? 0 : 1) + (v == 0)) {
        char text[TW_UNITS_FORMAT_SIZE];
        assert_int_equal(tw_size_format(v, text, sizeof text), 0);
        uint64_t back = 0;
        assert_int_equal(tw_size_parse(text, &back, NULL), 0);
        assert_int_equal(back, v);
    }
    for (int shift = 0; shift < 64; shift++) {
        uint64_t v = UINT64_C(1) << shift;
        char text[TW_UNITS_FORMAT_SIZE];
        assert_int_equal(tw_size_format(v, text, sizeof text), 0);
        uint64_t back = 0;
        assert_int_equal(tw_size_parse(text, &back, NULL), 0);
        assert_int_equal(back, v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_accepts_every_unit),
        cmocka_unit_test(test_duration_allows_blanks_around_number_and_unit),
        cmocka_unit_test(test_duration_fraction_is_accepted_when_it_is_whole_milliseconds),
        cmocka_unit_test(test_duration_largest_value_is_int64_max_milliseconds),
        cmocka_unit_test(test_duration_without_unit_is_rejected_with_hint),
        cmocka_unit_test(test_duration_with_spelled_out_unit_is_rejected_with_hint),
        cmocka_unit_test(test_duration_rejects_bad_input_with_a_reason),
        cmocka_unit_test(test_duration_message_truncates_very_long_input),
        cmocka_unit_test(test_duration_format_picks_the_largest_exact_unit),
        cmocka_unit_test(test_duration_format_then_parse_round_trips),
        cmocka_unit_test(test_format_into_a_short_buffer_reports_range_and_stays_terminated),
        cmocka_unit_test(test_size_accepts_binary_units_in_any_case),
        cmocka_unit_test(test_size_without_unit_is_rejected_with_hint),
        cmocka_unit_test(test_size_decimal_units_are_rejected_with_binary_hint),
        cmocka_unit_test(test_size_rejects_bad_input_with_a_reason),
        cmocka_unit_test(test_size_format_picks_the_largest_exact_unit),
        cmocka_unit_test(test_size_format_then_parse_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
