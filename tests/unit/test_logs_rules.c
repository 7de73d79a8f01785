/* test_logs_rules.c — the pure rules of CloudWatch Logs
 * (collector/logs/logs_rules.c): name and tag constraints with AWS's
 * messages, retention values, the PutLogEvents batch rules and the
 * rejectedLogEventsInfo indices, GetLogEvents/FilterLogEvents ranges and the
 * opaque tokens, ARNs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logs_rules.h"

#define DAY TW_LOGS_MS_PER_DAY
#define HOUR TW_LOGS_MS_PER_HOUR
#define NOW INT64_C(1700000000000)

/* The message the violations make, or "" when there were none. */
static void expect_violations(tw_logs_violations *v, const char *message)
{
    tw_err err = {{0}};
    int rc = tw_logs_violations_take(v, &err);
    tw_logs_violations_free(v);
    if (message == NULL) {
        if (rc != 0)
            print_error("unexpected: %s\n", err.msg);
        assert_int_equal(rc, 0);
        return;
    }
    assert_int_equal(rc, -EINVAL);
    if (strcmp(err.msg, message) != 0)
        print_error("got      %s\nexpected %s\n", err.msg, message);
    assert_string_equal(err.msg, message);
}

static void check_group(const char *name, const char *message)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    bool ok = tw_logs_check_group_name(&v, "logGroupName", name, strlen(name));
    assert_true(ok == (message == NULL));
    expect_violations(&v, message);
}

static void check_stream(const char *name, const char *message)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    bool ok = tw_logs_check_stream_name(&v, "logStreamName", name, strlen(name));
    assert_true(ok == (message == NULL));
    expect_violations(&v, message);
}

/* ---- names ---- */

static void test_group_names_allow_aws_characters(void **state)
{
    (void)state;
    check_group("/trailwatch/nginx/access", NULL);
    check_group("a.b-c_d#e/F9", NULL);
    check_group("x", NULL);
}

static void test_group_name_with_colon_is_refused_with_the_aws_message(void **state)
{
    (void)state;
    check_group("x:y", "1 validation error detected: Value 'x:y' at 'logGroupName' failed to "
                       "satisfy constraint: Member must satisfy regular expression pattern: "
                       "[\\.\\-_/#A-Za-z0-9]+");
    check_group("sp ace", "1 validation error detected: Value 'sp ace' at 'logGroupName' failed "
                          "to satisfy constraint: Member must satisfy regular expression "
                          "pattern: [\\.\\-_/#A-Za-z0-9]+");
}

static void test_empty_group_name_breaks_two_constraints(void **state)
{
    (void)state;
    check_group("", "2 validation errors detected: Value '' at 'logGroupName' failed to satisfy "
                    "constraint: Member must have length greater than or equal to 1; Value '' at "
                    "'logGroupName' failed to satisfy constraint: Member must satisfy regular "
                    "expression pattern: [\\.\\-_/#A-Za-z0-9]+");
}

static void test_group_name_longer_than_512_is_refused(void **state)
{
    (void)state;
    char name[514];
    memset(name, 'a', 512);
    name[512] = '\0';
    check_group(name, NULL);
    name[512] = 'b';
    name[513] = '\0';
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    assert_false(tw_logs_check_group_name(&v, "logGroupName", name, 513));
    tw_err err;
    assert_int_equal(tw_logs_violations_take(&v, &err), -EINVAL);
    tw_logs_violations_free(&v);
    /* The long value is cut, the constraint stays readable. */
    assert_non_null(strstr(err.msg, "...' at 'logGroupName' failed to satisfy constraint: "
                                    "Member must have length less than or equal to 512"));
}

static void test_stream_names_refuse_only_colon_and_star(void **state)
{
    (void)state;
    check_stream("i-0abc/2024/01/01 [$LATEST] ütf8 #x", NULL);
    check_stream("a:b", "1 validation error detected: Value 'a:b' at 'logStreamName' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "[^:*]*");
    check_stream("a*", "1 validation error detected: Value 'a*' at 'logStreamName' failed to "
                       "satisfy constraint: Member must satisfy regular expression pattern: "
                       "[^:*]*");
    check_stream("", "1 validation error detected: Value '' at 'logStreamName' failed to "
                     "satisfy constraint: Member must have length greater than or equal to 1");
}

static void test_stream_name_length_counts_characters_not_bytes(void **state)
{
    (void)state;
    /* 512 two-byte characters are 512 characters: allowed. */
    char name[1025];
    for (int i = 0; i < 512; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[1024] = '\0';
    check_stream(name, NULL);
}

static void test_reserved_group_prefix_is_case_insensitive(void **state)
{
    (void)state;
    assert_true(tw_logs_group_name_reserved("aws/lambda/f", 12));
    assert_true(tw_logs_group_name_reserved("AWS/x", 5));
    assert_true(tw_logs_group_name_reserved("Aws/", 4));
    assert_false(tw_logs_group_name_reserved("/aws/lambda/f", 13));
    assert_false(tw_logs_group_name_reserved("awsx", 4));
    assert_false(tw_logs_group_name_reserved("aws", 3));
}

static void test_group_name_pattern_may_be_empty(void **state)
{
    (void)state;
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    assert_true(tw_logs_check_group_pattern(&v, "logGroupNamePattern", "", 0));
    assert_true(tw_logs_check_group_pattern(&v, "logGroupNamePattern", "nginx", 5));
    assert_false(tw_logs_check_group_pattern(&v, "logGroupNamePattern", "a*", 2));
    expect_violations(&v, "1 validation error detected: Value 'a*' at 'logGroupNamePattern' "
                          "failed to satisfy constraint: Member must satisfy regular expression "
                          "pattern: [\\.\\-_/#A-Za-z0-9]*");
}

static void test_tags_follow_the_aws_patterns(void **state)
{
    (void)state;
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    assert_true(tw_logs_check_tag_key(&v, "tags", "team:owner@x.y/z=1+2-3 _", 24));
    assert_true(tw_logs_check_tag_value(&v, "tags", "", 0));
    assert_true(tw_logs_check_tag_value(&v, "tags", "Zürich", strlen("Zürich")));
    expect_violations(&v, NULL);
    assert_false(tw_logs_check_tag_key(&v, "tags", "", 0));
    assert_false(tw_logs_check_tag_value(&v, "tags", "a;b", 3));
    expect_violations(&v,
                      "2 validation errors detected: Value '' at 'tags' failed to satisfy "
                      "constraint: Member must have length greater than or equal to 1; Value "
                      "'a;b' at 'tags' failed to satisfy constraint: Member must satisfy regular "
                      "expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$");
}

/* ---- retention and ranges ---- */

static void test_retention_accepts_exactly_the_aws_values(void **state)
{
    (void)state;
    const int64_t valid[] = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                             1096, 1827, 2192, 2557, 2922, 3288, 3653};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        assert_true(tw_logs_retention_valid(valid[i]));
    const int64_t invalid[] = {0, -1, 2, 4, 13, 1095, 3654, 100000};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_false(tw_logs_retention_valid(invalid[i]));
}

static void test_bad_retention_lists_the_allowed_values(void **state)
{
    (void)state;
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    tw_logs_check_retention(&v, 2);
    expect_violations(&v, "1 validation error detected: Value '2' at 'retentionInDays' failed to "
                          "satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, "
                          "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, "
                          "2557, 2922, 3288, 3653]");
}

static void test_limits_out_of_range_name_the_bound(void **state)
{
    (void)state;
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    assert_true(tw_logs_check_range(&v, "limit", 50, 1, 50));
    assert_false(tw_logs_check_range(&v, "limit", 0, 1, 50));
    expect_violations(&v, "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                          "constraint: Member must have value greater than or equal to 1");
    assert_false(tw_logs_check_range(&v, "limit", 51, 1, 50));
    expect_violations(&v, "1 validation error detected: Value '51' at 'limit' failed to satisfy "
                          "constraint: Member must have value less than or equal to 50");
}

/* ---- PutLogEvents: whole-call rules ---- */

static tw_logs_event *events_at(const int64_t *timestamps, size_t n, const char *message)
{
    tw_logs_event *events = calloc(n ? n : 1, sizeof *events);
    for (size_t i = 0; i < n; i++)
        events[i] = (tw_logs_event){timestamps[i], message, strlen(message)};
    return events;
}

static void expect_batch_error(const tw_logs_event *events, size_t n, const char *message)
{
    tw_err err = {{0}};
    assert_int_equal(tw_logs_batch_check(events, n, NULL, &err), -EINVAL);
    if (strcmp(err.msg, message) != 0)
        print_error("got      %s\nexpected %s\n", err.msg, message);
    assert_string_equal(err.msg, message);
}

static void test_batch_of_zero_or_10001_events_is_refused(void **state)
{
    (void)state;
    expect_batch_error(NULL, 0, "1 validation error detected: Value at 'logEvents' failed to "
                                "satisfy constraint: Member must have length greater than or "
                                "equal to 1");
    tw_logs_event *events = calloc(10001, sizeof *events);
    for (size_t i = 0; i < 10001; i++)
        events[i] = (tw_logs_event){NOW, "m", 1};
    uint64_t bytes = 0;
    assert_int_equal(tw_logs_batch_check(events, 10000, &bytes, NULL), 0);
    assert_int_equal(bytes, 10000);
    expect_batch_error(events, 10001, "1 validation error detected: Value at 'logEvents' failed "
                                      "to satisfy constraint: Member must have length less than "
                                      "or equal to 10000");
    free(events);
}

static void test_batch_size_counts_26_bytes_per_event(void **state)
{
    (void)state;
    /* 4 events of 262,118 bytes + 26 each = exactly 1,048,576: accepted. */
    size_t len = 262118;
    char *message = malloc(len + 2);
    memset(message, 'x', len + 1);
    message[len + 1] = '\0';
    tw_logs_event events[4];
    for (int i = 0; i < 4; i++)
        events[i] = (tw_logs_event){NOW, message, len};
    uint64_t bytes = 0;
    assert_int_equal(tw_logs_batch_check(events, 4, &bytes, NULL), 0);
    assert_int_equal(bytes, 4 * len);
    events[3].len = len + 1;
    expect_batch_error(events, 4, "Upload too large: 1048577 bytes exceeds limit of 1048576");
    free(message);
}

static void test_one_event_over_the_limit_is_too_large(void **state)
{
    (void)state;
    size_t len = TW_LOGS_MAX_EVENT_BYTES - TW_LOGS_EVENT_OVERHEAD + 1;
    char *message = calloc(1, len);
    tw_logs_event event = {NOW, message, len};
    expect_batch_error(&event, 1, "Log event too large: 1048577 bytes exceeds limit of 1048576");
    event.len--;
    assert_int_equal(tw_logs_batch_check(&event, 1, NULL, NULL), 0);
    free(message);
}

static void test_unsorted_batch_fails_whole_and_equal_times_are_sorted(void **state)
{
    (void)state;
    const int64_t sorted[] = {NOW, NOW, NOW + 1};
    tw_logs_event *events = events_at(sorted, 3, "m");
    assert_int_equal(tw_logs_batch_check(events, 3, NULL, NULL), 0);
    events[2].timestamp = NOW - 1;
    expect_batch_error(events, 3, "Log events in a single PutLogEvents request must be in "
                                  "chronological order.");
    free(events);
}

static void test_event_member_violations_use_one_based_indices(void **state)
{
    (void)state;
    tw_logs_event events[3] = {{NOW, "a", 1}, {-5, "b", 1}, {NOW, "", 0}};
    expect_batch_error(events, 3,
                       "2 validation errors detected: Value '-5' at "
                       "'logEvents.2.member.timestamp' failed to satisfy constraint: Member "
                       "must have value greater than or equal to 0; Value '' at "
                       "'logEvents.3.member.message' failed to satisfy constraint: Member must "
                       "have length greater than or equal to 1");
}

/* ---- PutLogEvents: the window and rejectedLogEventsInfo ---- */

static tw_logs_batch_window window_of(const int64_t *timestamps, size_t n, int64_t retention)
{
    tw_logs_event *events = events_at(timestamps, n, "m");
    tw_logs_batch_window w;
    tw_err err = {{0}};
    int rc = tw_logs_batch_window_compute(events, n, NOW, retention, &w, &err);
    if (rc != 0)
        print_error("window failed: %s\n", err.msg);
    assert_int_equal(rc, 0);
    free(events);
    return w;
}

static void test_window_keeps_every_event_in_range(void **state)
{
    (void)state;
    /* Exactly 14 days old and exactly 2 hours ahead are still accepted. */
    const int64_t oldest[] = {NOW - 14 * DAY, NOW - 14 * DAY + HOUR};
    tw_logs_batch_window w = window_of(oldest, 2, 0);
    assert_int_equal(w.first, 0);
    assert_int_equal(w.end, 2);
    assert_int_equal(w.too_old_end, -1);
    assert_int_equal(w.expired_end, -1);
    assert_int_equal(w.too_new_start, -1);
    const int64_t newest[] = {NOW - HOUR, NOW, NOW + 2 * HOUR};
    w = window_of(newest, 3, 14);
    assert_int_equal(w.first, 0);
    assert_int_equal(w.end, 3);
    assert_int_equal(w.too_old_end, -1);
    assert_int_equal(w.expired_end, -1);
    assert_int_equal(w.too_new_start, -1);
}

static void test_too_old_end_index_is_exclusive(void **state)
{
    (void)state;
    const int64_t t[] = {NOW - 20 * DAY, NOW - 14 * DAY - 1, NOW - HOUR, NOW};
    tw_logs_batch_window w = window_of(t, 4, 0);
    assert_int_equal(w.too_old_end, 2); /* events 0 and 1 */
    assert_int_equal(w.first, 2);
    assert_int_equal(w.end, 4);
    assert_int_equal(w.too_new_start, -1);
}

static void test_too_new_start_index_is_inclusive(void **state)
{
    (void)state;
    const int64_t t[] = {NOW, NOW + 2 * HOUR, NOW + 2 * HOUR + 1, NOW + 3 * HOUR};
    tw_logs_batch_window w = window_of(t, 4, 0);
    assert_int_equal(w.too_new_start, 2); /* events 2 and 3 */
    assert_int_equal(w.first, 0);
    assert_int_equal(w.end, 2);
}

static void test_expired_events_follow_the_group_retention(void **state)
{
    (void)state;
    const int64_t t[] = {NOW - 3 * DAY, NOW - DAY - 1, NOW - DAY + 1, NOW};
    tw_logs_batch_window w = window_of(t, 4, 1);
    assert_int_equal(w.expired_end, 2);
    assert_int_equal(w.too_old_end, -1);
    assert_int_equal(w.first, 2);
    /* With a 30-day retention a 20-day-old event is too old, not expired. */
    const int64_t u[] = {NOW - 20 * DAY, NOW};
    w = window_of(u, 2, 30);
    assert_int_equal(w.too_old_end, 1);
    assert_int_equal(w.expired_end, -1);
}

static void test_every_event_rejected_leaves_an_empty_window(void **state)
{
    (void)state;
    const int64_t t[] = {NOW - 30 * DAY, NOW + 5 * HOUR};
    tw_logs_batch_window w = window_of(t, 2, 0);
    assert_int_equal(w.too_old_end, 1);
    assert_int_equal(w.too_new_start, 1);
    assert_int_equal(w.end - w.first, 0);
}

static void test_span_over_24_hours_fails_but_only_valid_events_count(void **state)
{
    (void)state;
    const int64_t exactly[] = {NOW - 24 * HOUR, NOW};
    tw_logs_batch_window w = window_of(exactly, 2, 0);
    assert_int_equal(w.end, 2);
    const int64_t too_long[] = {NOW - 24 * HOUR - 1, NOW};
    tw_logs_event *events = events_at(too_long, 2, "m");
    tw_err err = {{0}};
    assert_int_equal(tw_logs_batch_window_compute(events, 2, NOW, 0, &w, &err), -EINVAL);
    assert_string_equal(err.msg, "The batch of log events in a single PutLogEvents request "
                                 "cannot span more than 24 hours.");
    free(events);
    /* A too-old event does not make the span. */
    const int64_t with_old[] = {NOW - 20 * DAY, NOW - HOUR, NOW};
    w = window_of(with_old, 3, 0);
    assert_int_equal(w.too_old_end, 1);
    assert_int_equal(w.first, 1);
}

/* ---- tokens ---- */

static void test_position_tokens_round_trip(void **state)
{
    (void)state;
    const tw_logs_position cases[] = {
        {0, 0}, {NOW, 1}, {NOW, 123456789}, {INT64_MAX, INT64_MAX}};
    for (size_t i = 0; i < 4; i++) {
        char token[TW_LOGS_TOKEN_SIZE];
        tw_logs_token_encode('f', cases[i], token);
        assert_int_equal(strlen(token), 40);
        char kind = 0;
        tw_logs_position back;
        assert_int_equal(tw_logs_token_decode(token, strlen(token), "fb", &kind, &back), 0);
        assert_int_equal(kind, 'f');
        assert_int_equal(back.timestamp, cases[i].timestamp);
        assert_int_equal(back.id, cases[i].id);
    }
}

static void test_foreign_or_damaged_tokens_are_refused(void **state)
{
    (void)state;
    char token[TW_LOGS_TOKEN_SIZE];
    tw_logs_token_encode('n', (tw_logs_position){NOW, 7}, token);
    char kind;
    tw_logs_position p;
    assert_int_equal(tw_logs_token_decode(token, 40, "fb", &kind, &p), -EINVAL);
    assert_int_equal(tw_logs_token_decode(token, 39, "n", &kind, &p), -EINVAL);
    token[10] = 'x';
    assert_int_equal(tw_logs_token_decode(token, 40, "n", &kind, &p), -EINVAL);
    /* 19 nines is above INT64_MAX. */
    const char *overflow = "f/99999999999999999990000000000000000001";
    assert_int_equal(tw_logs_token_decode(overflow, strlen(overflow), "f", &kind, &p), -EINVAL);
    assert_int_equal(tw_logs_token_decode("", 0, "f", &kind, &p), -EINVAL);
    assert_int_equal(tw_logs_token_decode("f/1", 3, "f", &kind, &p), -EINVAL);
}

static void test_name_tokens_round_trip_and_refuse_garbage(void **state)
{
    (void)state;
    tw_buf token = TW_BUF_INIT, name = TW_BUF_INIT;
    tw_logs_name_token_encode('g', "/trailwatch/nginx#1", &token);
    assert_int_equal(tw_logs_name_token_decode(token.data, token.len, 'g', &name), 0);
    assert_string_equal(tw_buf_cstr(&name), "/trailwatch/nginx#1");
    assert_int_equal(tw_logs_name_token_decode(token.data, token.len, 's', &name), -EINVAL);
    assert_int_equal(tw_logs_name_token_decode("g/zz", 4, 'g', &name), -EINVAL);
    assert_int_equal(tw_logs_name_token_decode("g/610062", 8, 'g', &name), -EINVAL); /* NUL */
    tw_buf_free(&token);
    tw_buf_free(&name);
}

static void test_event_ids_and_sequence_tokens_have_56_digits(void **state)
{
    (void)state;
    char a[TW_LOGS_EVENT_ID_SIZE], b[TW_LOGS_EVENT_ID_SIZE];
    tw_logs_event_id(41, a);
    tw_logs_event_id(42, b);
    assert_int_equal(strlen(a), 56);
    assert_string_not_equal(a, b);
    assert_true(strcmp(a, b) < 0);
    char s1[TW_LOGS_SEQUENCE_TOKEN_SIZE], s2[TW_LOGS_SEQUENCE_TOKEN_SIZE];
    tw_logs_sequence_token(3, 1, s1);
    tw_logs_sequence_token(3, 2, s2);
    assert_int_equal(strlen(s1), 56);
    assert_int_equal(strspn(s1, "0123456789"), 56);
    assert_string_not_equal(s1, s2);
}

/* ---- reading ranges ---- */

static void test_time_bounds_start_inclusive_end_by_operation(void **state)
{
    (void)state;
    tw_logs_position after, before;
    tw_logs_time_range range = {true, true, false, NOW, NOW + 10, INT64_MIN};
    tw_logs_time_bounds(&range, &after, &before);
    /* An event at NOW (id >= 1) is after (NOW, 0); one at NOW + 10 is not
     * before (NOW + 10, 0): GetLogEvents' end is exclusive. */
    assert_true(tw_logs_position_compare((tw_logs_position){NOW, 1}, after) > 0);
    assert_true(tw_logs_position_compare((tw_logs_position){NOW + 10, 1}, before) > 0);
    range.end_inclusive = true; /* FilterLogEvents */
    tw_logs_time_bounds(&range, &after, &before);
    assert_true(tw_logs_position_compare((tw_logs_position){NOW + 10, 1}, before) < 0);
    assert_true(tw_logs_position_compare((tw_logs_position){NOW + 11, 1}, before) > 0);
}

static void test_retention_cutoff_raises_the_lower_bound(void **state)
{
    (void)state;
    tw_logs_position after, before;
    tw_logs_time_range range = {true, false, false, NOW - 30 * DAY, 0,
                                tw_logs_retention_cutoff(NOW, 7)};
    tw_logs_time_bounds(&range, &after, &before);
    assert_int_equal(after.timestamp, NOW - 7 * DAY);
    assert_int_equal(before.timestamp, INT64_MAX);
    assert_true(tw_logs_retention_cutoff(NOW, 0) == INT64_MIN);
}

static void test_get_plan_defaults_to_the_latest_page(void **state)
{
    (void)state;
    tw_logs_time_range range = {false, false, false, 0, 0, INT64_MIN};
    tw_logs_get_plan plan;
    tw_logs_get_plan_make(&range, 0, (tw_logs_position){0, 0}, false, &plan);
    assert_false(plan.forward);
    tw_logs_get_plan_make(&range, 0, (tw_logs_position){0, 0}, true, &plan);
    assert_true(plan.forward);
    /* A token decides the direction, whatever startFromHead says. */
    tw_logs_get_plan_make(&range, 'f', (tw_logs_position){NOW, 5}, false, &plan);
    assert_true(plan.forward);
    assert_int_equal(plan.after.timestamp, NOW);
    assert_int_equal(plan.after.id, 5);
    tw_logs_get_plan_make(&range, 'b', (tw_logs_position){NOW, 5}, true, &plan);
    assert_false(plan.forward);
    assert_int_equal(plan.before.id, 5);
}

static void test_get_tokens_point_past_the_page_and_repeat_at_the_end(void **state)
{
    (void)state;
    tw_logs_time_range range = {false, false, false, 0, 0, INT64_MIN};
    tw_logs_get_plan plan;
    char forward[TW_LOGS_TOKEN_SIZE], backward[TW_LOGS_TOKEN_SIZE];
    tw_logs_get_plan_make(&range, 0, (tw_logs_position){0, 0}, true, &plan);
    tw_logs_get_tokens(&plan, 2, (tw_logs_position){NOW, 1}, (tw_logs_position){NOW + 1, 2},
                       forward, backward);
    assert_string_equal(forward, "f/00000017000000000010000000000000000002");
    assert_string_equal(backward, "b/00000017000000000000000000000000000001");
    /* Reading on from the forward token finds nothing: the same token. */
    char kind;
    tw_logs_position p;
    assert_int_equal(tw_logs_token_decode(forward, 40, "fb", &kind, &p), 0);
    tw_logs_get_plan_make(&range, kind, p, true, &plan);
    char forward2[TW_LOGS_TOKEN_SIZE], backward2[TW_LOGS_TOKEN_SIZE];
    tw_logs_get_tokens(&plan, 0, p, p, forward2, backward2);
    assert_string_equal(forward2, forward);
    /* ... and backward from there covers the last event again. */
    assert_string_equal(backward2, "b/00000017000000000010000000000000000003");
    /* The same at the start going backward. */
    assert_int_equal(tw_logs_token_decode(backward, 40, "fb", &kind, &p), 0);
    tw_logs_get_plan_make(&range, kind, p, false, &plan);
    tw_logs_get_tokens(&plan, 0, p, p, forward2, backward2);
    assert_string_equal(backward2, backward);
    assert_string_equal(forward2, "f/00000017000000000000000000000000000000");
}

static void test_position_neighbours_saturate(void **state)
{
    (void)state;
    tw_logs_position p = tw_logs_position_before((tw_logs_position){5, 0});
    assert_int_equal(p.timestamp, 4);
    assert_true(p.id == INT64_MAX);
    p = tw_logs_position_before((tw_logs_position){0, 0});
    assert_int_equal(p.timestamp, 0);
    assert_int_equal(p.id, 0);
    p = tw_logs_position_after((tw_logs_position){5, INT64_MAX});
    assert_int_equal(p.timestamp, 6);
    assert_int_equal(p.id, 0);
    p = tw_logs_position_after((tw_logs_position){INT64_MAX, INT64_MAX});
    assert_true(p.timestamp == INT64_MAX && p.id == INT64_MAX);
}

/* ---- ARNs ---- */

static void test_group_arns_and_identifiers(void **state)
{
    (void)state;
    tw_buf arn = TW_BUF_INIT;
    tw_logs_group_arn(&arn, "eu-west-2", "123456789012", "/app/web", true);
    assert_string_equal(tw_buf_cstr(&arn), "arn:aws:logs:eu-west-2:123456789012:log-group:/app/web:*");
    const char *name;
    size_t len;
    assert_int_equal(tw_logs_group_identifier_name(arn.data, arn.len, &name, &len), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(name, "/app/web", 8);
    assert_int_equal(tw_logs_group_identifier_name(arn.data, arn.len - 2, &name, &len), 0);
    assert_int_equal(len, 8);
    assert_int_equal(tw_logs_group_identifier_name("plain", 5, &name, &len), 0);
    assert_int_equal(len, 5);
    const char *stream = "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s";
    assert_int_equal(tw_logs_group_identifier_name(stream, strlen(stream), &name, &len), -EINVAL);
    const char *other = "arn:aws:s3:us-east-1:1:log-group:g";
    assert_int_equal(tw_logs_group_identifier_name(other, strlen(other), &name, &len), -EINVAL);
    tw_buf_free(&arn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_names_allow_aws_characters),
        cmocka_unit_test(test_group_name_with_colon_is_refused_with_the_aws_message),
        cmocka_unit_test(test_empty_group_name_breaks_two_constraints),
        cmocka_unit_test(test_group_name_longer_than_512_is_refused),
        cmocka_unit_test(test_stream_names_refuse_only_colon_and_star),
        cmocka_unit_test(test_stream_name_length_counts_characters_not_bytes),
        cmocka_unit_test(test_reserved_group_prefix_is_case_insensitive),
        cmocka_unit_test(test_group_name_pattern_may_be_empty),
        cmocka_unit_test(test_tags_follow_the_aws_patterns),
        cmocka_unit_test(test_retention_accepts_exactly_the_aws_values),
        cmocka_unit_test(test_bad_retention_lists_the_allowed_values),
        cmocka_unit_test(test_limits_out_of_range_name_the_bound),
        cmocka_unit_test(test_batch_of_zero_or_10001_events_is_refused),
        cmocka_unit_test(test_batch_size_counts_26_bytes_per_event),
        cmocka_unit_test(test_one_event_over_the_limit_is_too_large),
        cmocka_unit_test(test_unsorted_batch_fails_whole_and_equal_times_are_sorted),
        cmocka_unit_test(test_event_member_violations_use_one_based_indices),
        cmocka_unit_test(test_window_keeps_every_event_in_range),
        cmocka_unit_test(test_too_old_end_index_is_exclusive),
        cmocka_unit_test(test_too_new_start_index_is_inclusive),
        cmocka_unit_test(test_expired_events_follow_the_group_retention),
        cmocka_unit_test(test_every_event_rejected_leaves_an_empty_window),
        cmocka_unit_test(test_span_over_24_hours_fails_but_only_valid_events_count),
        cmocka_unit_test(test_position_tokens_round_trip),
        cmocka_unit_test(test_foreign_or_damaged_tokens_are_refused),
        cmocka_unit_test(test_name_tokens_round_trip_and_refuse_garbage),
        cmocka_unit_test(test_event_ids_and_sequence_tokens_have_56_digits),
        cmocka_unit_test(test_time_bounds_start_inclusive_end_by_operation),
        cmocka_unit_test(test_retention_cutoff_raises_the_lower_bound),
        cmocka_unit_test(test_get_plan_defaults_to_the_latest_page),
        cmocka_unit_test(test_get_tokens_point_past_the_page_and_repeat_at_the_end),
        cmocka_unit_test(test_position_neighbours_saturate),
        cmocka_unit_test(test_group_arns_and_identifiers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
