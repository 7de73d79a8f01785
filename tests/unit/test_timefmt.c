/* test_timefmt.c — amz-date, HTTP date, ISO 8601 and epoch ms (lib/timefmt.h):
 * known instants, round trips, calendar edges, and the rejection of text a
 * client or user could send. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "err.h"
#include "timefmt.h"

#define assert_message_contains(err, want) \
    assert_message_contains_((err), (want), __FILE__, __LINE__)

static void assert_message_contains_(const tw_err *err, const char *want, const char *file,
                                     int line)
{
    if (strstr(err->msg, want) == NULL) {
        print_error("error message \"%s\" does not contain \"%s\"\n", err->msg, want);
        _fail(file, line);
    }
}

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* The SigV4 test suite's request time, 2015-08-30T12:36:00Z. */
#define SUITE_MS INT64_C(1440938160000)
/* RFC 9110's example date, Sun, 06 Nov 1994 08:49:37 GMT. */
#define RFC_MS INT64_C(784111777000)
/* The first and last instants the four-digit formats can write. */
#define MIN_MS INT64_C(-62167219200000)  /* 0000-01-01T00:00:00.000Z */
#define MAX_MS INT64_C(253402300799999)  /* 9999-12-31T23:59:59.999Z */

typedef int (*parse_fn)(const char *, size_t, int64_t *, tw_err *);

typedef struct bad_input {
    const char *text;
    const char *message;
} bad_input;

/* Each input must fail with -EINVAL, name its reason and leave *out alone. */
static void assert_all_rejected(parse_fn parse, const bad_input *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        tw_err err = {{0}};
        int64_t out = 42;
        int rc = parse(cases[i].text, strlen(cases[i].text), &out, &err);
        if (rc != -EINVAL)
            print_error("input \"%s\" gave %d\n", cases[i].text, rc);
        assert_int_equal(rc, -EINVAL);
        assert_message_contains(&err, cases[i].message);
        assert_int_equal(out, 42);
    }
}

static int64_t parse_ok(parse_fn parse, const char *text)
{
    tw_err err = {{0}};
    int64_t out = 0;
    int rc = parse(text, strlen(text), &out, &err);
    if (rc != 0)
        print_error("input \"%s\" rejected: %s\n", text, err.msg);
    assert_int_equal(rc, 0);
    return out;
}

/* ---- amz-date ---- */

static void test_amz_date_formats_the_sigv4_suite_time(void **state)
{
    (void)state;
    char out[TW_AMZ_DATE_SIZE];
    assert_int_equal(tw_time_format_amz_date(SUITE_MS, out), 0);
    assert_string_equal(out, "20150830T123600Z");
    /* Milliseconds are dropped, not rounded up. */
    assert_int_equal(tw_time_format_amz_date(SUITE_MS + 999, out), 0);
    assert_string_equal(out, "20150830T123600Z");
}

static void test_amz_date_parses_the_sigv4_suite_time(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_amz_date, "20150830T123600Z"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_amz_date, "19700101T000000Z"), 0);
    assert_int_equal(parse_ok(tw_time_parse_amz_date, "20160229T235959Z"),
                     INT64_C(1456790399000));
}

static void test_amz_date_round_trips_across_centuries_and_before_1970(void **state)
{
    (void)state;
    /* Step by a prime number of seconds so every field value comes up. */
    for (int64_t s = INT64_C(-62167219200); s < INT64_C(253402300799);
         s += INT64_C(86400) * 3001 + 7919) {
        char text[TW_AMZ_DATE_SIZE];
        assert_int_equal(tw_time_format_amz_date(s * 1000, text), 0);
        assert_int_equal(strlen(text), 16);
        assert_int_equal(parse_ok(tw_time_parse_amz_date, text), s * 1000);
    }
}

static void test_amz_date_agrees_with_gmtime(void **state)
{
    (void)state;
    /* gmtime_r is an independent implementation of the same calendar. */
    for (int64_t s = INT64_C(-2208988800); s < INT64_C(4102444800); s += 999983) {
        time_t t = (time_t)s;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        char want[80];
        snprintf(want, sizeof want, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        char got[TW_AMZ_DATE_SIZE];
        assert_int_equal(tw_time_format_amz_date(s * 1000, got), 0);
        assert_string_equal(got, want);
    }
}

static void test_amz_date_rejects_missing_z_bad_dates_and_junk(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        {"20150830T123600", "\"20150830T123600\": no 'Z' at the end (the time must be UTC)"},
        {"20150229T000000Z", "February 2015 has no day 29"},
        {"21000229T000000Z", "February 2100 has no day 29"},
        {"20150431T000000Z", "April 2015 has no day 31"},
        {"20151301T000000Z", "month 13 does not exist"},
        {"20150001T000000Z", "month 00 does not exist"},
        {"20150800T000000Z", "August 2015 has no day 00"},
        {"20150830T240000Z", "time 24:00:00 does not exist"},
        {"20150830T126000Z", "time 12:60:00 does not exist"},
        {"20150830T123660Z", "time 12:36:60 does not exist"},
        {"20150830T123600Zjunk", "unexpected text after the 'Z'"},
        {"20150830T123600+0000", "unexpected text after the time"},
        {"2015-08-30T12:36:00Z", "the date is not 8 digits"},
        {"20150830 123600Z", "no 'T' after the date"},
        {"20150830T1236Z", "the time is not 6 digits"},
        {"", "the date is not 8 digits"},
    };
    assert_all_rejected(tw_time_parse_amz_date, cases, COUNT(cases));
    tw_err err = {{0}};
    int64_t out;
    tw_time_parse_amz_date("20150830T123600", 15, &out, &err);
    assert_message_contains(&err, "expected an amz-date YYYYMMDD'T'HHMMSS'Z'");
}

static void test_amz_date_accepts_leap_days(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_amz_date, "20000229T000000Z"), INT64_C(951782400000));
    assert_int_equal(parse_ok(tw_time_parse_amz_date, "20240229T120000Z"),
                     INT64_C(1709208000000));
}

static void test_amz_date_reads_only_len_bytes(void **state)
{
    (void)state;
    int64_t out = 0;
    /* The 'Z' is in memory but outside len: the text has no zone. */
    assert_int_equal(tw_time_parse_amz_date("20150830T123600Z", 15, &out, NULL), -EINVAL);
    /* An unterminated buffer with a valid prefix parses. */
    assert_int_equal(tw_time_parse_amz_date("20150830T123600Z, more", 16, &out, NULL), 0);
    assert_int_equal(out, SUITE_MS);
}

/* ---- HTTP date ---- */

static void test_http_date_formats_imf_fixdate(void **state)
{
    (void)state;
    char out[TW_HTTP_DATE_SIZE];
    assert_int_equal(tw_time_format_http_date(SUITE_MS, out), 0);
    assert_string_equal(out, "Sun, 30 Aug 2015 12:36:00 GMT");
    assert_int_equal(tw_time_format_http_date(RFC_MS, out), 0);
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(tw_time_format_http_date(0, out), 0);
    assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_int_equal(tw_time_format_http_date(-1, out), 0);
    assert_string_equal(out, "Wed, 31 Dec 1969 23:59:59 GMT");
}

static void test_http_date_parses_all_three_rfc9110_forms(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Sun, 06 Nov 1994 08:49:37 GMT"), RFC_MS);
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Sunday, 06-Nov-94 08:49:37 GMT"), RFC_MS);
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Sun Nov  6 08:49:37 1994"), RFC_MS);
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Sun Nov 6 08:49:37 1994"), RFC_MS);
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Wed Nov 16 08:49:37 1994"),
                     RFC_MS + INT64_C(864000000));
}

static void test_http_date_rfc850_two_digit_year_uses_a_fixed_pivot(void **state)
{
    (void)state;
    /* 00-69 are 20xx, 70-99 are 19xx. */
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Sunday, 30-Aug-15 12:36:00 GMT"),
                     SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_http_date, "Tuesday, 31-Dec-69 23:59:59 GMT"),
                     INT64_C(3155759999000));
}

static void test_http_date_round_trips_through_format(void **state)
{
    (void)state;
    for (int64_t s = 0; s < INT64_C(4102444800); s += 7776011) {
        char text[TW_HTTP_DATE_SIZE];
        assert_int_equal(tw_time_format_http_date(s * 1000, text), 0);
        assert_int_equal(strlen(text), 29);
        assert_int_equal(parse_ok(tw_time_parse_http_date, text), s * 1000);
    }
}

static void test_http_date_rejects_other_zones_bad_names_and_junk(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        {"Sun, 06 Nov 1994 08:49:37 UTC", "no \" GMT\" after the time"},
        {"Sun, 06 Nov 1994 08:49:37", "no \" GMT\" after the time"},
        {"sun, 06 Nov 1994 08:49:37 GMT", "does not start with a day name"},
        {"Sun, 06 nov 1994 08:49:37 GMT", "unknown month name"},
        {"Sun, 6 Nov 1994 08:49:37 GMT", "the day of the month is not 2 digits"},
        {"Sun, 31 Feb 1994 08:49:37 GMT", "February 1994 has no day 31"},
        {"Sun, 06 Nov 94 08:49:37 GMT", "the year is not 4 digits"},
        {"Sun, 06 Nov 1994 8:49:37 GMT", "the time is not hh:mm:ss"},
        {"Sun, 06 Nov 1994 08:49:37 GMT junk", "unexpected text after the date"},
        {"Sunday, 06-Nov-1994 08:49:37 GMT", "the time is not hh:mm:ss"},
        {"Sun Nov  6 08:49:37 1994 GMT", "unexpected text after the date"},
        {"Sun Nov 6 08:49:37 94", "the year is not 4 digits"},
        {"Sun 06 Nov 1994 08:49:37 GMT", "unknown month name"},
        {"Sunday 06-Nov-94 08:49:37 GMT", "no \", \" after the day name"},
        {"1994-11-06T08:49:37Z", "does not start with a day name"},
        {"", "does not start with a day name"},
    };
    assert_all_rejected(tw_time_parse_http_date, cases, COUNT(cases));
    tw_err err = {{0}};
    int64_t out;
    tw_time_parse_http_date("x", 1, &out, &err);
    assert_message_contains(&err, "\"x\": ");
    assert_message_contains(&err, "expected an HTTP date such as \"Sun, 06 Nov 1994 08:49:37 GMT\"");
}

/* ---- ISO 8601 ---- */

static void test_iso8601_formats_seconds_and_milliseconds(void **state)
{
    (void)state;
    char s[TW_ISO8601_SIZE], ms[TW_ISO8601_MS_SIZE];
    assert_int_equal(tw_time_format_iso8601(SUITE_MS + 123, s), 0);
    assert_string_equal(s, "2015-08-30T12:36:00Z");
    assert_int_equal(tw_time_format_iso8601_ms(SUITE_MS + 123, ms), 0);
    assert_string_equal(ms, "2015-08-30T12:36:00.123Z");
    assert_int_equal(tw_time_format_iso8601_ms(SUITE_MS + 7, ms), 0);
    assert_string_equal(ms, "2015-08-30T12:36:00.007Z");
    /* Before 1970 the fields still count forward from the start of the second. */
    assert_int_equal(tw_time_format_iso8601_ms(-1, ms), 0);
    assert_string_equal(ms, "1969-12-31T23:59:59.999Z");
    assert_int_equal(tw_time_format_iso8601(-1, s), 0);
    assert_string_equal(s, "1969-12-31T23:59:59Z");
}

static void test_iso8601_parses_with_and_without_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00Z"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00.123Z"), SUITE_MS + 123);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30t12:36:00z"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30 12:36:00Z"), SUITE_MS);
}

static void test_iso8601_fractions_are_cut_to_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00.1Z"), SUITE_MS + 100);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00.05Z"), SUITE_MS + 50);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00.9999Z"), SUITE_MS + 999);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00.123456789Z"),
                     SUITE_MS + 123);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "1969-12-31T23:59:59.5Z"), -500);
}

static void test_iso8601_offsets_are_converted_to_utc(void **state)
{
    (void)state;
    const int64_t hour = INT64_C(3600000);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T14:36:00+02:00"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T14:36:00+0200"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T07:06:00-05:30"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-30T12:36:00-00:00"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "2015-08-31T00:36:00.250+12:00"),
                     SUITE_MS + 250);
    /* Crossing midnight and a year boundary. */
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "1970-01-01T00:00:00+01:00"), -hour);
}

static void test_iso8601_round_trips_milliseconds(void **state)
{
    (void)state;
    for (int64_t ms = MIN_MS; ms < MAX_MS; ms += INT64_C(99999999977)) {
        char text[TW_ISO8601_MS_SIZE];
        assert_int_equal(tw_time_format_iso8601_ms(ms, text), 0);
        assert_int_equal(strlen(text), 24);
        assert_int_equal(parse_ok(tw_time_parse_iso8601, text), ms);
    }
}

static void test_iso8601_without_zone_is_rejected_with_hint(void **state)
{
    (void)state;
    tw_err err = {{0}};
    int64_t out = 42;
    const char *text = "2015-08-30T12:36:00";
    assert_int_equal(tw_time_parse_iso8601(text, strlen(text), &out, &err), -EINVAL);
    assert_message_contains(&err, "\"2015-08-30T12:36:00\": no time zone (add Z for UTC, or an "
                                  "offset such as +02:00)");
    assert_int_equal(out, 42);
    /* The same with a fraction. */
    text = "2015-08-30T12:36:00.123";
    assert_int_equal(tw_time_parse_iso8601(text, strlen(text), &out, &err), -EINVAL);
    assert_message_contains(&err, "no time zone");
}

static void test_iso8601_rejects_malformed_text(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        {"2015-08-30", "no time after the date"},
        {"2015-08-30X12:36:00Z", "no 'T' between the date and the time"},
        {"2015-8-30T12:36:00Z", "the date is not YYYY-MM-DD"},
        {"20150830T123600Z", "the date is not YYYY-MM-DD"},
        {"2015-08-30T12:36Z", "the time is not hh:mm:ss"},
        {"2015-02-29T12:36:00Z", "February 2015 has no day 29"},
        {"2015-08-30T25:00:00Z", "time 25:00:00 does not exist"},
        {"2015-08-30T12:36:00.Z", "no digits after the '.'"},
        {"2015-08-30T12:36:00.1234567891Z", "more than 9 digits"},
        {"2015-08-30T12:36:00+24:00", "the zone offset is out of range"},
        {"2015-08-30T12:36:00+2", "the zone offset is not +hh:mm"},
        {"2015-08-30T12:36:00 UTC", "unexpected text where the time zone should be"},
        {"2015-08-30T12:36:00Z ", "unexpected text after the time zone"},
        {"2015-08-30T12:36:00ZZ", "unexpected text after the time zone"},
        {"", "the date is not YYYY-MM-DD"},
    };
    assert_all_rejected(tw_time_parse_iso8601, cases, COUNT(cases));
}

/* ---- range ---- */

static void test_formatting_outside_years_0000_to_9999_is_a_range_error(void **state)
{
    (void)state;
    char amz[TW_AMZ_DATE_SIZE], http[TW_HTTP_DATE_SIZE], iso[TW_ISO8601_MS_SIZE];
    assert_int_equal(tw_time_format_iso8601_ms(MAX_MS, iso), 0);
    assert_string_equal(iso, "9999-12-31T23:59:59.999Z");
    assert_int_equal(tw_time_format_iso8601_ms(MIN_MS, iso), 0);
    assert_string_equal(iso, "0000-01-01T00:00:00.000Z");
    const int64_t outside[] = {MAX_MS + 1, MIN_MS - 1, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < COUNT(outside); i++) {
        assert_int_equal(tw_time_format_iso8601_ms(outside[i], iso), -ERANGE);
        assert_string_equal(iso, "");
        assert_int_equal(tw_time_format_amz_date(outside[i], amz), -ERANGE);
        assert_string_equal(amz, "");
        assert_int_equal(tw_time_format_http_date(outside[i], http), -ERANGE);
        assert_string_equal(http, "");
    }
}

static void test_iso8601_offset_past_year_0000_is_a_range_error(void **state)
{
    (void)state;
    tw_err err = {{0}};
    int64_t out;
    const char *text = "0000-01-01T00:00:00+01:00";
    assert_int_equal(tw_time_parse_iso8601(text, strlen(text), &out, &err), -ERANGE);
    assert_message_contains(&err, "outside years 0000-9999");
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "9999-12-31T23:59:59.999Z"), MAX_MS);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, "0000-01-01T00:00:00Z"), MIN_MS);
}

static void test_epoch_ms_parses_digits_and_rejects_overflow(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_epoch_ms, "1440938160000"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_epoch_ms, "0"), 0);
    assert_int_equal(parse_ok(tw_time_parse_epoch_ms, "9223372036854775807"), INT64_MAX);

    tw_err err = {{0}};
    int64_t out = 42;
    const char *text = "9223372036854775808";
    assert_int_equal(tw_time_parse_epoch_ms(text, strlen(text), &out, &err), -ERANGE);
    assert_message_contains(&err, "\"9223372036854775808\": too large for a time");
    text = "99999999999999999999999999";
    assert_int_equal(tw_time_parse_epoch_ms(text, strlen(text), &out, &err), -ERANGE);
    assert_int_equal(out, 42);

    static const bad_input cases[] = {
        {"", "\"\": empty"},
        {"-1", "not a number of digits only"},
        {"+1", "not a number of digits only"},
        {"1440938160000.5", "not a number of digits only"},
        {"14409 38160000", "not a number of digits only"},
    };
    assert_all_rejected(tw_time_parse_epoch_ms, cases, COUNT(cases));
}

static void test_from_fields_counts_wall_time_and_refuses_dates_that_do_not_exist(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(tw_time_from_fields(2024, 2, 29, 23, 59, 59, &ms, NULL), 0);
    assert_int_equal(ms, INT64_C(1709251199000));
    assert_int_equal(tw_time_from_fields(1970, 1, 1, 0, 0, 0, &ms, NULL), 0);
    assert_int_equal(ms, 0);
    tw_err err;
    assert_int_equal(tw_time_from_fields(2023, 2, 29, 0, 0, 0, &ms, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "has no day 29"));
    assert_int_equal(tw_time_from_fields(2023, 13, 1, 0, 0, 0, &ms, NULL), -EINVAL);
    assert_int_equal(tw_time_from_fields(2023, 1, 1, 24, 0, 0, &ms, NULL), -EINVAL);
    assert_int_equal(tw_time_from_fields(2023, 1, 1, 0, -1, 0, &ms, NULL), -EINVAL);
    assert_int_equal(tw_time_from_fields(10000, 1, 1, 0, 0, 0, &ms, NULL), -ERANGE);
}

static void test_clf_parses_nginx_time_local_with_its_offset(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(tw_time_parse_clf, "30/Aug/2015:12:36:00 +0000"), SUITE_MS);
    assert_int_equal(parse_ok(tw_time_parse_clf, "30/Aug/2015:14:36:00 +0200"), SUITE_MS);
    /* The example of the Apache docs, and Tehran's +0330 from a real log. */
    assert_int_equal(parse_ok(tw_time_parse_clf, "10/Oct/2000:13:55:36 -0700"),
                     INT64_C(971211336000));
    assert_int_equal(parse_ok(tw_time_parse_clf, "22/Jan/2019:03:56:14 +0330"),
                     INT64_C(1548116774000));
    assert_int_equal(parse_ok(tw_time_parse_clf, "29/Feb/2016:23:59:59 +0000"),
                     INT64_C(1456790399000));

    static const bad_input cases[] = {
        {"", "the day of the month is not 2 digits"},
        {"10/oct/2000:13:55:36 -0700", "unknown month name"},
        {"10/Oct/00:13:55:36 -0700", "the year is not 4 digits"},
        {"10/Oct/2000 13:55:36 -0700", "the time is not :hh:mm:ss"},
        {"10/Oct/2000:13:55:36", "no space before the zone offset"},
        {"10/Oct/2000:13:55:36 0700", "the zone offset is not +hhmm"},
        {"10/Oct/2000:13:55:36 +07:00", "the zone offset is not +hhmm"},
        {"10/Oct/2000:13:55:36 -0700]", "unexpected text after the zone offset"},
        {"30/Feb/2000:13:55:36 -0700", "February 2000 has no day 30"},
        {"10/Oct/2000:24:55:36 -0700", "time 24:55:36 does not exist"},
        {"10/Oct/2000:13:55:36 +2500", "the zone offset is out of range"},
    };
    assert_all_rejected(tw_time_parse_clf, cases, COUNT(cases));
}

/* ---- zone-less ISO 8601 and RFC 3164 (syslog) ---- */

static int64_t parse_maybe_local_ok(const char *text, bool want_zone)
{
    tw_err err = {{0}};
    int64_t out = 0;
    bool has_zone = !want_zone;
    int rc = tw_time_parse_iso8601_maybe_local(text, strlen(text), &out, &has_zone, &err);
    if (rc != 0)
        print_error("input \"%s\" rejected: %s\n", text, err.msg);
    assert_int_equal(rc, 0);
    assert_true(has_zone == want_zone);
    return out;
}

static void test_iso8601_maybe_local_reads_zoneless_times_as_wall_clock(void **state)
{
    (void)state;
    /* rsyslog's high-precision format without an offset, and Rails 3's
     * "Started ... at" time: wall-clock, counted as if UTC. */
    assert_int_equal(parse_maybe_local_ok("2019-06-14T10:40:20.912134", false),
                     INT64_C(1560508820912));
    assert_int_equal(parse_maybe_local_ok("2010-03-01 18:44:33", false), INT64_C(1267469073000));
    /* With a zone it is exact, as tw_time_parse_iso8601 reads it. */
    assert_int_equal(parse_maybe_local_ok("2019-06-14T13:01:15.412+01:30", true),
                     INT64_C(1560511875412));
    assert_int_equal(parse_maybe_local_ok("2015-08-30T12:36:00Z", true), SUITE_MS);

    tw_err err = {{0}};
    int64_t out = 42;
    bool has_zone = false;
    static const bad_input cases[] = {
        {"2019-06-14T10:40:20 ", "unexpected text where the time zone should be"},
        {"2019-06-14T10:40", "the time is not hh:mm:ss"},
        {"2019-06-14T10:40:20.", "no digits after the '.'"},
        {"2019-02-29T10:40:20", "February 2019 has no day 29"},
        {"2019-06-14", "no time after the date"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        int rc = tw_time_parse_iso8601_maybe_local(cases[i].text, strlen(cases[i].text), &out,
                                                   &has_zone, &err);
        assert_int_equal(rc, -EINVAL);
        assert_message_contains(&err, cases[i].message);
        assert_int_equal(out, 42);
    }
    /* The strict parser still wants the zone. */
    assert_int_equal(tw_time_parse_iso8601("2010-03-01 18:44:33", 19, &out, &err), -EINVAL);
    assert_message_contains(&err, "no time zone");
}

static int64_t parse_rfc3164_ok(const char *text, int year)
{
    tw_err err = {{0}};
    int64_t out = 0;
    int rc = tw_time_parse_rfc3164(text, strlen(text), year, &out, &err);
    if (rc != 0)
        print_error("input \"%s\" rejected: %s\n", text, err.msg);
    assert_int_equal(rc, 0);
    return out;
}

static void test_rfc3164_parses_padded_and_unpadded_days_in_the_given_year(void **state)
{
    (void)state;
    assert_int_equal(parse_rfc3164_ok("Oct 11 22:14:15", 2024), INT64_C(1728684855000));
    assert_int_equal(parse_rfc3164_ok("Jun  8 10:44:36", 2024), INT64_C(1717843476000));
    assert_int_equal(parse_rfc3164_ok("Aug 03 21:39:20", 2024), INT64_C(1722721160000));
    assert_int_equal(parse_rfc3164_ok("Nov 2 15:40:14.003456", 2023), INT64_C(1698939614003));
    assert_int_equal(parse_rfc3164_ok("Feb 29 00:00:00", 2024), INT64_C(1709164800000));

    static const struct {
        const char *text;
        int year;
        const char *message;
    } cases[] = {
        {"Feb 29 00:00:00", 2023, "February 2023 has no day 29"},
        {"oct 11 22:14:15", 2024, "unknown month name"},
        {"Oct11 22:14:15", 2024, "no space after the month"},
        {"Oct  11 22:14:15", 2024, "the time is not hh:mm:ss"},
        {"Oct x1 22:14:15", 2024, "the day of the month is not 1 or 2 digits"},
        {"Oct 11 22:14", 2024, "the time is not hh:mm:ss"},
        {"Oct 11 22:14:15 host", 2024, "unexpected text after the time"},
        {"Oct 32 22:14:15", 2024, "October 2024 has no day 32"},
        {"Oct 11 25:14:15", 2024, "time 25:14:15 does not exist"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_err err = {{0}};
        int64_t out = 42;
        int rc = tw_time_parse_rfc3164(cases[i].text, strlen(cases[i].text), cases[i].year, &out,
                                       &err);
        if (rc != -EINVAL)
            print_error("input \"%s\" gave %d\n", cases[i].text, rc);
        assert_int_equal(rc, -EINVAL);
        assert_message_contains(&err, cases[i].message);
        assert_int_equal(out, 42);
    }
    int64_t out;
    assert_int_equal(tw_time_parse_rfc3164("Oct 11 22:14:15", 15, 10000, &out, NULL), -ERANGE);
    /* Only len bytes are read. */
    assert_int_equal(tw_time_parse_rfc3164("Oct 11 22:14:15 host", 15, 2024, &out, NULL), 0);
    assert_int_equal(out, INT64_C(1728684855000));
}

static void test_now_is_after_2024_and_formats(void **state)
{
    (void)state;
    int64_t now = tw_time_now_ms();
    assert_true(now > INT64_C(1704067200000)); /* 2024-01-01 */
    char text[TW_ISO8601_MS_SIZE];
    assert_int_equal(tw_time_format_iso8601_ms(now, text), 0);
    assert_int_equal(parse_ok(tw_time_parse_iso8601, text), now);
}

static void test_errors_accept_null_err(void **state)
{
    (void)state;
    int64_t out;
    assert_int_equal(tw_time_parse_amz_date("x", 1, &out, NULL), -EINVAL);
    assert_int_equal(tw_time_parse_http_date("x", 1, &out, NULL), -EINVAL);
    assert_int_equal(tw_time_parse_iso8601("x", 1, &out, NULL), -EINVAL);
    assert_int_equal(tw_time_parse_epoch_ms("x", 1, &out, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amz_date_formats_the_sigv4_suite_time),
        cmocka_unit_test(test_amz_date_parses_the_sigv4_suite_time),
        cmocka_unit_test(test_amz_date_round_trips_across_centuries_and_before_1970),
        cmocka_unit_test(test_amz_date_agrees_with_gmtime),
        cmocka_unit_test(test_amz_date_rejects_missing_z_bad_dates_and_junk),
        cmocka_unit_test(test_amz_date_accepts_leap_days),
        cmocka_unit_test(test_amz_date_reads_only_len_bytes),
        cmocka_unit_test(test_http_date_formats_imf_fixdate),
        cmocka_unit_test(test_http_date_parses_all_three_rfc9110_forms),
        cmocka_unit_test(test_http_date_rfc850_two_digit_year_uses_a_fixed_pivot),
        cmocka_unit_test(test_http_date_round_trips_through_format),
        cmocka_unit_test(test_http_date_rejects_other_zones_bad_names_and_junk),
        cmocka_unit_test(test_iso8601_formats_seconds_and_milliseconds),
        cmocka_unit_test(test_iso8601_parses_with_and_without_milliseconds),
        cmocka_unit_test(test_iso8601_fractions_are_cut_to_milliseconds),
        cmocka_unit_test(test_iso8601_offsets_are_converted_to_utc),
        cmocka_unit_test(test_iso8601_round_trips_milliseconds),
        cmocka_unit_test(test_iso8601_without_zone_is_rejected_with_hint),
        cmocka_unit_test(test_iso8601_rejects_malformed_text),
        cmocka_unit_test(test_formatting_outside_years_0000_to_9999_is_a_range_error),
        cmocka_unit_test(test_iso8601_offset_past_year_0000_is_a_range_error),
        cmocka_unit_test(test_epoch_ms_parses_digits_and_rejects_overflow),
        cmocka_unit_test(test_clf_parses_nginx_time_local_with_its_offset),
        cmocka_unit_test(test_iso8601_maybe_local_reads_zoneless_times_as_wall_clock),
        cmocka_unit_test(test_rfc3164_parses_padded_and_unpadded_days_in_the_given_year),
        cmocka_unit_test(test_now_is_after_2024_and_formats),
        cmocka_unit_test(test_errors_accept_null_err),
        cmocka_unit_test(test_from_fields_counts_wall_time_and_refuses_dates_that_do_not_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
