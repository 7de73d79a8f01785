/* test_cwl_batch.c — the PutLogEvents batch builder
 * (plugins/out_cloudwatch_logs/cwl_batch.c): every limit at its boundary,
 * the time window, truncation, the stable sort, JSON escaping byte for byte,
 * no allocation in steady state, and the collector's own PutLogEvents
 * decoding and rules (collector/proto_json.c, collector/logs/logs_rules.c)
 * accepting every body. Prints the encoder's throughput. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_count.h"
#include "cwl_batch.h"
#include "gzip.h"
#include "logs_rules.h"
#include "protocol.h"

#define NOW INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */
#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)
#define GROUP "/trailwatch/test"
#define STREAM "host-1"


/* ---- helpers ---- */

static json_t *decode(const tw_buf *body)
{
    json_error_t error;
    json_t *doc = json_loadb(body->data, body->len, JSON_ALLOW_NUL, &error);
    if (!doc)
        print_error("body does not decode: %s at %d\n", error.text, error.position);
    assert_non_null(doc);
    return doc;
}

/* What the collector does with a PutLogEvents body (logs_events.c): decode
 * it as AWS JSON 1.1, check the names, read the events, apply the
 * whole-call rules and the time window at now. Every event must be stored. */
static void assert_collector_accepts(const tw_buf *body, size_t n, int64_t now)
{
    json_t *input = NULL;
    tw_err err = {{0}};
    int rc = tw_json_decode((const uint8_t *)body->data, body->len, &input, &err);
    if (rc != 0)
        print_error("collector: %s\n", err.msg);
    assert_int_equal(rc, 0);
    const char *group = json_string_value(json_object_get(input, "logGroupName"));
    const char *stream = json_string_value(json_object_get(input, "logStreamName"));
    assert_non_null(group);
    assert_non_null(stream);
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    assert_true(tw_logs_check_group_name(&v, "logGroupName", group, strlen(group)));
    assert_true(tw_logs_check_stream_name(&v, "logStreamName", stream, strlen(stream)));
    tw_logs_violations_free(&v);
    json_t *list = json_object_get(input, "logEvents");
    assert_int_equal(json_array_size(list), n);
    tw_logs_event *events = calloc(n ? n : 1, sizeof *events);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        json_t *timestamp = json_object_get(item, "timestamp");
        json_t *message = json_object_get(item, "message");
        assert_true(json_is_integer(timestamp));
        assert_true(json_is_string(message));
        events[i] = (tw_logs_event){json_integer_value(timestamp), json_string_value(message),
                                    json_string_length(message)};
    }
    rc = tw_logs_batch_check(events, n, NULL, &err);
    if (rc != 0)
        print_error("collector: %s\n", err.msg);
    assert_int_equal(rc, 0);
    tw_logs_batch_window w;
    rc = tw_logs_batch_window_compute(events, n, now, 0, &w, &err);
    if (rc != 0)
        print_error("collector: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(w.first, 0);
    assert_int_equal(w.end, n);
    free(events);
    json_decref(input);
}

static tw_cwl_add_result add_text(tw_cwl_batch *b, int64_t timestamp, const char *text)
{
    return tw_cwl_batch_add(b, timestamp, text, strlen(text), NOW);
}

/* Takes the batch, checks the collector accepts it, returns it decoded. */
static json_t *take_checked(tw_cwl_batch *b, size_t expect_events)
{
    tw_buf body = TW_BUF_INIT;
    assert_int_equal(tw_cwl_batch_take(b, &body), expect_events);
    assert_collector_accepts(&body, expect_events, NOW);
    json_t *doc = decode(&body);
    tw_buf_free(&body);
    return doc;
}

static const char *message_at(const json_t *doc, size_t i, size_t *len)
{
    json_t *m = json_object_get(json_array_get(json_object_get(doc, "logEvents"), i), "message");
    if (len)
        *len = json_string_length(m);
    return json_string_value(m);
}

static int64_t timestamp_at(const json_t *doc, size_t i)
{
    return json_integer_value(
        json_object_get(json_array_get(json_object_get(doc, "logEvents"), i), "timestamp"));
}

/* ---- the body ---- */

static void test_body_has_names_and_events_the_collector_accepts(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    assert_int_equal(add_text(b, NOW - 2000, "first line"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, NOW - 1000, "second line"), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_count(b), 2);
    assert_int_equal(tw_cwl_batch_bytes(b), 10 + 11 + 2 * 26);
    tw_buf body = TW_BUF_INIT;
    assert_int_equal(tw_cwl_batch_take(b, &body), 2);
    assert_string_equal(tw_buf_cstr(&body),
                        "{\"logGroupName\":\"/trailwatch/test\",\"logStreamName\":\"host-1\","
                        "\"logEvents\":[{\"timestamp\":1699999998000,\"message\":\"first line\"},"
                        "{\"timestamp\":1699999999000,\"message\":\"second line\"}]}");
    assert_collector_accepts(&body, 2, NOW);
    /* Taken: empty again, and taking nothing appends nothing. */
    assert_int_equal(tw_cwl_batch_count(b), 0);
    assert_int_equal(tw_cwl_batch_bytes(b), 0);
    tw_buf_reset(&body);
    assert_int_equal(tw_cwl_batch_take(b, &body), 0);
    assert_int_equal(body.len, 0);
    tw_cwl_batch_stats stats;
    tw_cwl_batch_stats_get(b, &stats);
    assert_int_equal(stats.added, 2);
    assert_int_equal(stats.batches, 1);
    tw_buf_free(&body);
    tw_cwl_batch_free(b);
}

static void test_names_are_escaped_in_the_body(void **state)
{
    (void)state;
    const char *stream = "we\"ird\\name\x01 \xe2\x80\xa8";
    tw_cwl_batch *b = tw_cwl_batch_new("/g", stream, 0);
    assert_string_equal(tw_cwl_batch_group(b), "/g");
    assert_string_equal(tw_cwl_batch_stream(b), stream);
    add_text(b, NOW, "m");
    tw_buf body = TW_BUF_INIT;
    tw_cwl_batch_take(b, &body);
    json_t *doc = decode(&body);
    assert_string_equal(json_string_value(json_object_get(doc, "logStreamName")), stream);
    json_decref(doc);
    tw_buf_free(&body);
    tw_cwl_batch_free(b);
}

/* ---- count, bytes, span ---- */

static void test_10000_events_fit_and_the_10001st_waits_for_the_next_batch(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(add_text(b, NOW - 10000 + i, "x"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, NOW, "the 10001st"), TW_CWL_FULL);
    assert_int_equal(tw_cwl_batch_count(b), 10000); /* FULL added nothing */
    json_t *doc = take_checked(b, 10000);
    json_decref(doc);
    assert_int_equal(add_text(b, NOW, "the 10001st"), TW_CWL_ADDED);
    doc = take_checked(b, 1);
    assert_string_equal(message_at(doc, 0, NULL), "the 10001st");
    json_decref(doc);
    tw_cwl_batch_free(b);
}

static void test_exactly_1048576_bytes_fit_and_one_more_event_does_not(void **state)
{
    (void)state;
    /* 3 × (262118 + 26) + (262091 + 26) + (1 + 26) = 1,048,576 exactly. */
    size_t big = 262118;
    char *text = malloc(big);
    memset(text, 'a', big);
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tw_cwl_batch_add(b, NOW, text, big, NOW), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_add(b, NOW, text, 262091, NOW), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_bytes(b), 1048576 - 27);
    assert_int_equal(tw_cwl_batch_add(b, NOW, "zz", 2, NOW), TW_CWL_FULL); /* 1 byte over */
    assert_int_equal(tw_cwl_batch_add(b, NOW, "z", 1, NOW), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_bytes(b), 1048576);
    assert_int_equal(tw_cwl_batch_add(b, NOW, "z", 1, NOW), TW_CWL_FULL);
    json_t *doc = take_checked(b, 5);
    size_t len;
    message_at(doc, 3, &len);
    assert_int_equal(len, 262091);
    json_decref(doc);
    free(text);
    tw_cwl_batch_free(b);
}

static void test_a_span_of_exactly_24_hours_fits_and_1_ms_more_does_not(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    int64_t first = NOW - 23 * HOUR;
    assert_int_equal(add_text(b, first, "first"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, first + DAY, "24 h later"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, first + DAY + 1, "24 h + 1 ms later"), TW_CWL_FULL);
    assert_int_equal(add_text(b, first - 1, "1 ms before the first"), TW_CWL_FULL);
    assert_int_equal(add_text(b, first + 12 * HOUR, "in between"), TW_CWL_ADDED);
    json_t *doc = take_checked(b, 3);
    assert_int_equal(timestamp_at(doc, 0), first);
    assert_int_equal(timestamp_at(doc, 1), first + 12 * HOUR);
    assert_int_equal(timestamp_at(doc, 2), first + DAY);
    json_decref(doc);
    /* The refused ones start the next batch. */
    assert_int_equal(add_text(b, first + DAY + 1, "24 h + 1 ms later"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, first - 1 + 2 * HOUR, "in range again"), TW_CWL_ADDED);
    json_decref(take_checked(b, 2));
    tw_cwl_batch_free(b);
}

/* ---- the time window ---- */

static void test_events_14_days_old_are_kept_and_older_ones_dropped(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    assert_int_equal(add_text(b, NOW - 14 * DAY, "exactly 14 days"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, NOW - 14 * DAY - 1, "14 days + 1 ms"), TW_CWL_TOO_OLD);
    assert_int_equal(add_text(b, -1, "before 1970"), TW_CWL_TOO_OLD);
    assert_int_equal(add_text(b, INT64_MIN, "long before"), TW_CWL_TOO_OLD);
    tw_cwl_batch_stats stats;
    tw_cwl_batch_stats_get(b, &stats);
    assert_int_equal(stats.too_old, 3);
    assert_int_equal(stats.added, 1);
    /* The collector, at the same clock, stores the kept one. */
    json_decref(take_checked(b, 1));
    tw_cwl_batch_free(b);
}

static void test_events_2_hours_ahead_are_kept_and_later_ones_dropped(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    assert_int_equal(add_text(b, NOW + 2 * HOUR, "exactly 2 h ahead"), TW_CWL_ADDED);
    assert_int_equal(add_text(b, NOW + 2 * HOUR + 1, "2 h + 1 ms ahead"), TW_CWL_TOO_NEW);
    assert_int_equal(add_text(b, INT64_MAX, "far ahead"), TW_CWL_TOO_NEW);
    /* Windows follow now_ms, saturating at the ends of int64. */
    assert_int_equal(tw_cwl_batch_add(b, INT64_MAX, "m", 1, INT64_MAX), TW_CWL_FULL);
    tw_cwl_batch_stats stats;
    tw_cwl_batch_stats_get(b, &stats);
    assert_int_equal(stats.too_new, 2);
    json_decref(take_checked(b, 1));
    tw_cwl_batch_free(b);
}

static void test_empty_messages_are_dropped_and_counted(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    assert_int_equal(add_text(b, NOW, ""), TW_CWL_EMPTY);
    assert_int_equal(tw_cwl_batch_count(b), 0);
    tw_cwl_batch_stats stats;
    tw_cwl_batch_stats_get(b, &stats);
    assert_int_equal(stats.empty, 1);
    tw_cwl_batch_free(b);
}

/* ---- truncation ---- */

static void test_a_message_over_the_limit_is_cut_with_the_agents_marker(void **state)
{
    (void)state;
    size_t max = TW_CWL_MAX_MESSAGE, marker = strlen(TW_CWL_TRUNCATED_MARKER);
    char *text = malloc(2 * max);
    for (size_t i = 0; i < 2 * max; i++)
        text[i] = (char)('a' + i % 26);
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    assert_int_equal(tw_cwl_batch_add(b, NOW, text, max, NOW), TW_CWL_ADDED); /* at the limit */
    assert_int_equal(tw_cwl_batch_add(b, NOW, text, max + 1, NOW), TW_CWL_FULL);
    json_t *doc = take_checked(b, 1);
    size_t len;
    const char *got = message_at(doc, 0, &len);
    assert_int_equal(len, max);
    assert_memory_equal(got, text, max);
    json_decref(doc);

    assert_int_equal(tw_cwl_batch_add(b, NOW, text, max + 1, NOW), TW_CWL_ADDED);
    doc = take_checked(b, 1);
    got = message_at(doc, 0, &len);
    assert_int_equal(len, max);
    assert_memory_equal(got, text, max - marker);
    assert_memory_equal(got + max - marker, TW_CWL_TRUNCATED_MARKER, marker);
    json_decref(doc);

    tw_cwl_batch_stats stats;
    tw_cwl_batch_stats_get(b, &stats);
    assert_int_equal(stats.truncated, 1);
    free(text);
    tw_cwl_batch_free(b);
}

static void test_truncation_never_splits_a_utf8_character(void **state)
{
    (void)state;
    /* 100 bytes allowed, 86 kept before the marker: "€" (3 bytes) repeated
     * puts byte 86 inside a character, so 84 bytes (28 euros) are kept. */
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 100);
    tw_buf text = TW_BUF_INIT;
    for (int i = 0; i < 60; i++)
        tw_buf_puts(&text, "\xe2\x82\xac");
    assert_int_equal(tw_cwl_batch_add(b, NOW, text.data, text.len, NOW), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_bytes(b), 84 + 14 + 26);
    json_t *doc = take_checked(b, 1);
    size_t len;
    const char *got = message_at(doc, 0, &len);
    assert_int_equal(len, 84 + 14);
    assert_memory_equal(got, text.data, 84);
    assert_string_equal(got + 84, TW_CWL_TRUNCATED_MARKER);
    json_decref(doc);
    tw_buf_free(&text);
    tw_cwl_batch_free(b);
}

static void test_a_legacy_256_kb_limit_can_be_chosen(void **state)
{
    (void)state;
    size_t max = 262118; /* 256 KiB − 26 */
    char *text = calloc(1, max + 10);
    memset(text, 'q', max + 10);
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, max);
    assert_int_equal(tw_cwl_batch_add(b, NOW, text, max + 10, NOW), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_bytes(b), max + 26);
    json_decref(take_checked(b, 1));
    free(text);
    tw_cwl_batch_free(b);
}

/* ---- sorting ---- */

static void test_events_are_sorted_stably_by_timestamp(void **state)
{
    (void)state;
    static const int64_t offsets[] = {5, 3, 5, 1, 3, 5, 0, 1};
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    for (size_t i = 0; i < 8; i++) {
        char text[8];
        snprintf(text, sizeof text, "%zu", i);
        assert_int_equal(add_text(b, NOW - 10 + offsets[i], text), TW_CWL_ADDED);
    }
    json_t *doc = take_checked(b, 8);
    static const char *const order[] = {"6", "3", "7", "1", "4", "0", "2", "5"};
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(message_at(doc, i, NULL), order[i]);
    json_decref(doc);
    tw_cwl_batch_free(b);
}

typedef struct ref_event {
    int64_t timestamp;
    size_t index;
} ref_event;

static int compare_ref(const void *a, const void *b)
{
    const ref_event *x = a, *y = b;
    if (x->timestamp != y->timestamp)
        return x->timestamp < y->timestamp ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Random timestamps with many ties, and nearly sorted ones, against qsort
 * on (timestamp, insertion index). */
static void check_sort(const int64_t *timestamps, size_t n)
{
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    ref_event *ref = calloc(n, sizeof *ref);
    for (size_t i = 0; i < n; i++) {
        char text[16];
        snprintf(text, sizeof text, "%zu", i);
        assert_int_equal(add_text(b, timestamps[i], text), TW_CWL_ADDED);
        ref[i] = (ref_event){timestamps[i], i};
    }
    qsort(ref, n, sizeof *ref, compare_ref);
    json_t *doc = take_checked(b, n);
    for (size_t i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof want, "%zu", ref[i].index);
        assert_int_equal(timestamp_at(doc, i), ref[i].timestamp);
        assert_string_equal(message_at(doc, i, NULL), want);
    }
    json_decref(doc);
    free(ref);
    tw_cwl_batch_free(b);
}

static void test_random_and_nearly_sorted_input_sort_like_a_stable_reference(void **state)
{
    (void)state;
    int64_t *t = calloc(10000, sizeof *t);
    srand(7);
    for (size_t n = 1; n <= 10000; n = n * 3 + 1) {
        for (size_t i = 0; i < n; i++)
            t[i] = NOW - 1000 + rand() % 50;
        check_sort(t, n);
        for (size_t i = 0; i < n; i++) /* file order, a few lines late */
            t[i] = NOW - 20000 + (int64_t)i - (rand() % 100 == 0 ? rand() % 300 : 0);
        check_sort(t, n);
        for (size_t i = 0; i < n; i++) /* reversed */
            t[i] = NOW - (int64_t)i;
        check_sort(t, n);
    }
    free(t);
}

/* ---- escaping ---- */

static void test_every_byte_value_survives_the_json_round_trip(void **state)
{
    (void)state;
    tw_buf text = TW_BUF_INIT;
    for (int c = 0; c < 0x80; c++) /* every ASCII byte, NUL and DEL included */
        tw_buf_putc(&text, (char)c);
    /* 2-, 3- and 4-byte UTF-8, the JSON-sensitive separators U+2028/U+2029,
     * the largest code points of each length. */
    tw_buf_puts(&text, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8\xe2\x80\xa9"
                       "\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80");
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    assert_int_equal(tw_cwl_batch_add(b, NOW, text.data, text.len, NOW), TW_CWL_ADDED);
    assert_int_equal(tw_cwl_batch_bytes(b), text.len + 26);
    tw_buf body = TW_BUF_INIT;
    tw_cwl_batch_take(b, &body);
    for (size_t i = 0; i < body.len; i++)
        assert_true((unsigned char)body.data[i] >= 0x20); /* no raw control byte */
    assert_non_null(strstr(body.data, "\\u0000\\u0001"));
    assert_non_null(strstr(body.data, "\\b\\t\\n\\u000b\\f\\r"));
    assert_non_null(strstr(body.data, "!\\\"#"));
    assert_non_null(strstr(body.data, "[\\\\]"));
    assert_non_null(strstr(body.data, "\xe2\x80\xa8")); /* as is */
    assert_collector_accepts(&body, 1, NOW);
    json_t *doc = decode(&body);
    size_t len;
    const char *got = message_at(doc, 0, &len);
    assert_int_equal(len, text.len);
    assert_memory_equal(got, text.data, text.len);
    json_decref(doc);
    tw_buf_free(&body);
    tw_buf_free(&text);
    tw_cwl_batch_free(b);
}

static void test_bytes_that_are_not_utf8_become_question_marks(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\xff" "b", "a?b"},
        {"end\xc3", "end?"},                  /* cut sequence */
        {"\xc0\xaf", "??"},                   /* overlong '/' */
        {"\xe0\x80\xaf", "???"},              /* overlong, 3 bytes */
        {"\xed\xa0\x80", "???"},              /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", "????"},         /* above U+10FFFF */
        {"\x80" "x\xbf", "?x?"},              /* stray continuation bytes */
        {"\xe2\x82" "A", "??A"},
    };
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(add_text(b, NOW, cases[i].in), TW_CWL_ADDED);
    json_t *doc = take_checked(b, sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(message_at(doc, i, NULL), cases[i].out);
    json_decref(doc);
    tw_cwl_batch_free(b);
}

/* ---- memory and speed ---- */

static void test_steady_state_allocates_nothing(void **state)
{
    (void)state;
    if (!tw_alloc_counting())
        skip();
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    tw_buf body = TW_BUF_INIT;
    const char *line = "192.0.2.1 - - [14/Nov/2023:22:13:20 +0000] \"GET / HTTP/1.1\" 200 612";
    size_t calls = 0;
    for (int round = 0; round < 2; round++) {
        if (round == 1) /* the first round sizes the arrays */
            tw_alloc_begin();
        for (int batch = 0; batch < 3; batch++) {
            for (int i = 0; i < 10000; i++)
                assert_int_equal(add_text(b, NOW - 5000 + (i % 7), line), TW_CWL_ADDED);
            tw_buf_reset(&body);
            assert_int_equal(tw_cwl_batch_take(b, &body), 10000);
        }
    }
    tw_alloc_end(&calls, NULL);
    assert_int_equal(calls, 0);
    tw_buf_free(&body);
    tw_cwl_batch_free(b);
    tw_alloc_self_check();
}

static void test_trim_gives_memory_back_only_when_empty(void **state)
{
    (void)state;
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    tw_cwl_batch_trim(b); /* nothing allocated yet */
    assert_int_equal(add_text(b, NOW, "kept"), TW_CWL_ADDED);
    tw_cwl_batch_trim(b); /* not empty: keeps the event */
    assert_int_equal(tw_cwl_batch_count(b), 1);
    json_t *doc = take_checked(b, 1);
    assert_string_equal(message_at(doc, 0, NULL), "kept");
    json_decref(doc);
    tw_cwl_batch_trim(b);
    assert_int_equal(add_text(b, NOW, "after trim"), TW_CWL_ADDED);
    doc = take_checked(b, 1);
    assert_string_equal(message_at(doc, 0, NULL), "after trim");
    json_decref(doc);
    tw_cwl_batch_free(b);
}

/* CPU time of this thread: the figure holds on a busy machine too. */
static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Real nginx access lines (shared/testdata), one after another. */
static size_t load_lines(tw_buf *all, size_t *starts, size_t max)
{
    static const char *const files[] = {"beats-nginx-access-test.log",
                                        "beats-nginx-access-test-with-host.log",
                                        "beats-nginx-ingress-controller-test.log"};
    size_t n = 0;
    for (size_t f = 0; f < 3; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/logs/nginx-access/%s", TW_TESTDATA_DIR, files[f]);
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        char line[8192];
        while (n < max && fgets(line, sizeof line, fp)) {
            size_t len = strcspn(line, "\r\n");
            if (len == 0)
                continue;
            starts[n++] = all->len;
            tw_buf_append(all, line, len);
            tw_buf_putc(all, '\0');
        }
        fclose(fp);
    }
    return n;
}

static void test_encoding_throughput(void **state)
{
    (void)state;
    tw_buf all = TW_BUF_INIT;
    size_t starts[256];
    size_t n_lines = load_lines(&all, starts, 256);
    assert_true(n_lines > 10);
    tw_cwl_batch *b = tw_cwl_batch_new(GROUP, STREAM, 0);
    tw_buf body = TW_BUF_INIT;
    size_t events = 2000000, message_bytes = 0, body_bytes = 0, batches = 0;
    struct timespec start;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    for (size_t i = 0; i < events; i++) {
        const char *line = all.data + starts[i % n_lines];
        size_t len = strlen(line);
        /* File order with an occasional line a little late. */
        int64_t t = NOW - 60000 + (int64_t)(i / 400) - (i % 97 == 0 ? 3 : 0);
        if (tw_cwl_batch_add(b, t, line, len, NOW) == TW_CWL_FULL) {
            tw_buf_reset(&body);
            tw_cwl_batch_take(b, &body);
            body_bytes += body.len;
            batches++;
            assert_int_equal(tw_cwl_batch_add(b, t, line, len, NOW), TW_CWL_ADDED);
        }
        message_bytes += len;
    }
    tw_buf_reset(&body);
    size_t last = tw_cwl_batch_take(b, &body);
    double s = seconds_since(&start);
    print_message("cwl_batch: %zu events (%zu batches) in %.3f CPU s: %.0f events/s, %.1f MiB/s "
                  "of messages, %.1f MiB/s of JSON\n",
                  events, batches, s, (double)events / s, (double)message_bytes / s / 1048576.0,
                  (double)(body_bytes + body.len) / s / 1048576.0);
    assert_collector_accepts(&body, last, NOW);

    /* gzip of one full body of varied access lines (the same few lines
     * over and over would flatter it). */
    tw_buf_reset(&body);
    uint32_t x = 2463534242u;
    for (;;) {
        char line[512];
        uint32_t r[6];
        for (int k = 0; k < 6; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            r[k] = x;
        }
        snprintf(line, sizeof line,
                 "%u.%u.%u.%u - - [14/Nov/2023:22:%02u:%02u +0000] \"GET /shop/item/%u?ref=%08x "
                 "HTTP/1.1\" %u %u \"https://example.com/c/%u\" \"Mozilla/5.0 (X11; Linux "
                 "x86_64) Firefox/%u.0\"",
                 r[0] >> 24, (r[0] >> 16) & 255, (r[0] >> 8) & 255, r[0] & 255, r[1] % 60,
                 r[2] % 60, r[3] % 100000, r[4], r[5] % 7 ? 200 : 404, r[1] % 50000,
                 r[2] % 999, 90 + r[3] % 30);
        if (add_text(b, NOW, line) != TW_CWL_ADDED)
            break;
    }
    tw_cwl_batch_take(b, &body);
    for (int level = 1; level <= 6; level += 5) {
        tw_buf gz = TW_BUF_INIT;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
        int rounds = 20;
        for (int r = 0; r < rounds; r++) {
            tw_buf_reset(&gz);
            tw_gzip_compress(body.data, body.len, level, &gz);
        }
        s = seconds_since(&start);
        print_message("gzip level %d of a %zu-byte body: %.1f MiB/s, %.1f%% of the size\n", level,
                      body.len, (double)body.len * rounds / s / 1048576.0,
                      100.0 * (double)gz.len / (double)body.len);
        tw_buf_free(&gz);
    }
    tw_buf_free(&body);
    tw_buf_free(&all);
    tw_cwl_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_has_names_and_events_the_collector_accepts),
        cmocka_unit_test(test_names_are_escaped_in_the_body),
        cmocka_unit_test(test_10000_events_fit_and_the_10001st_waits_for_the_next_batch),
        cmocka_unit_test(test_exactly_1048576_bytes_fit_and_one_more_event_does_not),
        cmocka_unit_test(test_a_span_of_exactly_24_hours_fits_and_1_ms_more_does_not),
        cmocka_unit_test(test_events_14_days_old_are_kept_and_older_ones_dropped),
        cmocka_unit_test(test_events_2_hours_ahead_are_kept_and_later_ones_dropped),
        cmocka_unit_test(test_empty_messages_are_dropped_and_counted),
        cmocka_unit_test(test_a_message_over_the_limit_is_cut_with_the_agents_marker),
        cmocka_unit_test(test_truncation_never_splits_a_utf8_character),
        cmocka_unit_test(test_a_legacy_256_kb_limit_can_be_chosen),
        cmocka_unit_test(test_events_are_sorted_stably_by_timestamp),
        cmocka_unit_test(test_random_and_nearly_sorted_input_sort_like_a_stable_reference),
        cmocka_unit_test(test_every_byte_value_survives_the_json_round_trip),
        cmocka_unit_test(test_bytes_that_are_not_utf8_become_question_marks),
        cmocka_unit_test(test_steady_state_allocates_nothing),
        cmocka_unit_test(test_trim_gives_memory_back_only_when_empty),
        cmocka_unit_test(test_encoding_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
