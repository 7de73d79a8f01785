/* test_event_history.c — the CloudTrail event history in a real store: a
 * record's row, LookupEvents over it (every attribute, newest first, keyset
 * pages, time ranges, retention), and every LookupEvents request error
 * (§5.4). The record itself, field by field, is in test_event_record.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event_call.h"
#include "event_history.h"
#include "lookup_events.h"
#include "services.h"
#include "testutil.h"

/* ---- a real store --------------------------------------------------------- */

typedef struct fixture {
    char dir[256];
    char path[300];
    uv_loop_t loop;
    tw_store *store;
} fixture;

static const tw_migration *const lists[] = {tw_event_history_migrations, NULL};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "events") != 0 || uv_loop_init(&f->loop) != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/collector.db", f->dir);
    tw_err err;
    if (tw_store_open(&f->loop, f->path, lists, &f->store, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_store_close(f->store);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&f->loop);
    rc |= tw_test_rm_rf(f->dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

typedef struct job {
    int (*fn)(tw_db *db, void *arg);
    void *arg;
    int status;
    bool done;
} job;

static int job_fn(tw_db *db, void *arg)
{
    job *j = arg;
    return j->fn(db, j->arg);
}

static void job_done(void *arg, int status)
{
    job *j = arg;
    j->status = status;
    j->done = true;
}

static int run_job(fixture *f, bool write, int (*fn)(tw_db *db, void *arg), void *arg)
{
    job j = {fn, arg, 0, false};
    if (write)
        tw_store_write(f->store, job_fn, job_done, &j);
    else
        tw_store_read(f->store, job_fn, job_done, &j);
    while (!j.done)
        uv_run(&f->loop, UV_RUN_ONCE);
    return j.status;
}

static int record_fn(tw_db *db, void *arg)
{
    return tw_event_history_record(db, arg);
}

static void query_row(fixture *f, const char *sql, char *out, size_t size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *text = (const char *)sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", text != NULL ? text : "NULL");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_recorded_call_is_stored_with_its_lookup_columns(void **state)
{
    fixture *f = *state;
    test_call t;
    call_init(&t, &logs, &op_create, "{\"logGroupName\":\"/app/web\"}");
    t.call.event_resources = json_pack("[{s:s, s:s, s:s}]", "ARN",
                                       "arn:aws:logs:eu-west-2:" ACCOUNT ":log-group:/app/web:*",
                                       "accountId", ACCOUNT, "type", "AWS::Logs::LogGroup");
    assert_int_equal(run_job(f, true, record_fn, &t.call), 0);
    char row[4096];
    query_row(f, "SELECT region || '|' || time_ms || '|' || category || '|' || lookup || '|' ||"
                 " event_id || '|' || event_name || '|' || event_source || '|' || username ||"
                 " '|' || access_key_id || '|' || read_only || '|' || resources FROM events",
              row, sizeof row);
    assert_string_equal(row, "eu-west-2|1704067651000|Management|1|"
                             "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f|CreateLogGroup|"
                             "logs.amazonaws.com|alice|AKIAEXAMPLE|false|"
                             "[{\"ResourceType\":\"AWS::Logs::LogGroup\","
                             "\"ResourceName\":\"/app/web\"}]");
    /* The stored text is exactly the record, byte for byte. */
    char *expected = build_text(&t.call);
    char *stored = malloc(strlen(expected) + 16);
    query_row(f, "SELECT record FROM events", stored, strlen(expected) + 16);
    assert_string_equal(stored, expected);
    free(stored);
    free(expected);
    query_row(f, "SELECT group_concat(kind || '=' || value, ' ') FROM"
                 " (SELECT kind, value FROM event_resource_keys ORDER BY kind, value)",
              row, sizeof row);
    assert_string_equal(row, "N=/app/web N=arn:aws:logs:eu-west-2:123456789012:log-group:"
                             "/app/web:* T=AWS::Logs::LogGroup");
    call_free(&t);
}

/* Synthetic rows: event i at T0 + i seconds (or a given time). */
typedef struct insert_spec {
    int count;
    int64_t base_ms;
    int64_t step_ms;
    const char *region;
    const char *category;
    const char *name;
} insert_spec;

static int insert_fn(tw_db *db, void *arg)
{
    const insert_spec *s = arg;
    for (int i = 0; i < s->count; i++) {
        char id[40], user[16], key[24], arn[128], record[64];
        snprintf(id, sizeof id, "id-%s-%04d", s->name, i);
        snprintf(user, sizeof user, "user%d", i % 3);
        snprintf(key, sizeof key, "AKID%d", i % 2);
        snprintf(arn, sizeof arn, "arn:aws:logs:%s:" ACCOUNT ":log-group:g%d:*", s->region,
                 i % 4);
        snprintf(record, sizeof record, "{\"n\":%d}", i);
        json_t *resources = json_pack("[{s:s, s:s, s:s}]", "ARN", arn, "accountId", ACCOUNT,
                                      "type", i % 2 ? "AWS::Logs::LogGroup" : "AWS::S3::Bucket");
        tw_event_row row = {
            .region = s->region,
            .time_ms = s->base_ms + i * s->step_ms,
            .category = s->category,
            .lookup = strcmp(s->category, "Data") != 0,
            .event_id = id,
            .event_name = s->name,
            .event_source = i % 2 ? "logs.amazonaws.com" : "s3.amazonaws.com",
            .username = user,
            .access_key_id = key,
            .read_only = i % 5 == 0 ? "true" : "false",
            .resources = resources,
            .record = record,
            .record_len = strlen(record),
        };
        int rc = tw_event_history_insert(db, &row, NULL);
        json_decref(resources);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void insert(fixture *f, int count, int64_t base_ms, int64_t step_ms, const char *region,
                   const char *category, const char *name)
{
    insert_spec s = {count, base_ms, step_ms, region, category, name};
    assert_int_equal(run_job(f, true, insert_fn, &s), 0);
}

typedef struct lookup_job {
    const tw_lookup_query *query;
    json_t *events;
    char *token;
} lookup_job;

static int lookup_fn(tw_db *db, void *arg)
{
    lookup_job *l = arg;
    return tw_lookup_run(db, l->query, l->events, &l->token);
}

static void lookup_call_init(test_call *t, const char *input)
{
    call_init(t, &tw_cloudtrail_service, NULL, input);
    t->call.region = "us-east-1";
    t->call.now_ms = T0 + DAY_MS;
}

/* Parses input as LookupEvents would and runs it: the Events array (the
 * caller decrefs it) and *token. */
static json_t *lookup(fixture *f, const char *input, char **token)
{
    test_call t;
    lookup_call_init(&t, input);
    tw_lookup_query q;
    int rc = tw_lookup_parse(&t.call, 90, &q);
    if (rc != 0)
        fail_msg("LookupEvents %s: %s %s", input, t.call.error.code,
                 tw_buf_cstr(&t.call.error.message));
    lookup_job l = {&q, json_array(), NULL};
    assert_int_equal(run_job(f, false, lookup_fn, &l), 0);
    call_free(&t);
    if (token != NULL)
        *token = l.token;
    else
        free(l.token);
    return l.events;
}

static size_t count_of(fixture *f, const char *input)
{
    json_t *events = lookup(f, input, NULL);
    size_t n = json_array_size(events);
    json_decref(events);
    return n;
}

static void test_each_lookup_attribute_finds_its_events(void **state)
{
    fixture *f = *state;
    insert(f, 12, T0, 1000, "us-east-1", "Management", "CreateLogGroup");
    insert(f, 3, T0, 1000, "us-east-1", "Management", "DeleteLogGroup");
    insert(f, 5, T0, 1000, "eu-west-2", "Management", "CreateLogGroup"); /* other region */
#define BY(key, value) "{\"LookupAttributes\":[{\"AttributeKey\":\"" key "\",\"AttributeValue\":\"" value "\"}]}"
    assert_int_equal(count_of(f, "{}"), 15);
    assert_int_equal(count_of(f, BY("EventName", "CreateLogGroup")), 12);
    assert_int_equal(count_of(f, BY("EventName", "DeleteLogGroup")), 3);
    assert_int_equal(count_of(f, BY("EventName", "Nothing")), 0);
    assert_int_equal(count_of(f, BY("EventId", "id-CreateLogGroup-0007")), 1);
    assert_int_equal(count_of(f, BY("Username", "user0")), 4 + 1);
    assert_int_equal(count_of(f, BY("AccessKeyId", "AKID1")), 6 + 1);
    assert_int_equal(count_of(f, BY("EventSource", "logs.amazonaws.com")), 6 + 1);
    assert_int_equal(count_of(f, BY("ReadOnly", "true")), 3 + 1);
    assert_int_equal(count_of(f, BY("ReadOnly", "FALSE")), 9 + 2);
    assert_int_equal(count_of(f, BY("ResourceType", "AWS::S3::Bucket")), 6 + 2);
    assert_int_equal(count_of(f, BY("ResourceName", "g1")), 3 + 1);
    assert_int_equal(count_of(f, BY("ResourceName", "arn:aws:logs:us-east-1:123456789012:"
                                                    "log-group:g1:*")),
                     3 + 1);

    json_t *events = lookup(f, BY("EventId", "id-CreateLogGroup-0007"), NULL);
    json_t *e = json_array_get(events, 0);
    assert_string_equal(json_string_value(json_object_get(e, "EventName")), "CreateLogGroup");
    assert_string_equal(json_string_value(json_object_get(e, "ReadOnly")), "false");
    assert_string_equal(json_string_value(json_object_get(e, "AccessKeyId")), "AKID1");
    assert_string_equal(json_string_value(json_object_get(e, "Username")), "user1");
    assert_string_equal(json_string_value(json_object_get(e, "EventSource")),
                        "logs.amazonaws.com");
    assert_int_equal(json_integer_value(json_object_get(e, "EventTime")), T0 + 7000);
    assert_string_equal(json_string_value(json_object_get(e, "CloudTrailEvent")), "{\"n\":7}");
    char *resources = json_dumps(json_object_get(e, "Resources"), JSON_COMPACT);
    assert_string_equal(resources,
                        "[{\"ResourceType\":\"AWS::Logs::LogGroup\",\"ResourceName\":\"g3\"}]");
    free(resources);
    json_decref(events);
#undef BY
}

static void test_lookup_pages_newest_first_until_the_last_page(void **state)
{
    fixture *f = *state;
    /* 120 events, four per second: ties on the time are broken by seq. */
    insert(f, 120, T0, 250, "us-east-1", "Management", "PutRetentionPolicy");
    char *token = NULL;
    int64_t last_time = INT64_MAX;
    int pages = 0, seen = 0;
    do {
        char input[512];
        if (token != NULL)
            snprintf(input, sizeof input, "{\"MaxResults\":50,\"NextToken\":\"%s\"}", token);
        else
            snprintf(input, sizeof input, "{\"MaxResults\":50}");
        free(token);
        token = NULL;
        json_t *events = lookup(f, input, &token);
        pages++;
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e) {
            int64_t t = json_integer_value(json_object_get(e, "EventTime"));
            assert_true(t <= last_time);
            last_time = t;
            /* Newest first: the ids count down from 119. */
            char expected[40];
            snprintf(expected, sizeof expected, "id-PutRetentionPolicy-%04d", 119 - seen);
            assert_string_equal(json_string_value(json_object_get(e, "EventId")), expected);
            seen++;
        }
        assert_int_equal(json_array_size(events), pages < 3 ? 50 : 20);
        json_decref(events);
    } while (token != NULL);
    assert_int_equal(pages, 3);
    assert_int_equal(seen, 120);

    /* Exactly a page's worth: no token on it. */
    char *last = NULL;
    json_t *events = lookup(f, "{\"MaxResults\":1,\"LookupAttributes\":[{\"AttributeKey\":"
                               "\"EventId\",\"AttributeValue\":\"id-PutRetentionPolicy-0003\"}]}",
                            &last);
    assert_int_equal(json_array_size(events), 1);
    assert_null(last);
    json_decref(events);
    /* The default page is 50. */
    assert_int_equal(count_of(f, "{}"), 50);
}

static void test_time_range_is_inclusive_and_in_epoch_seconds(void **state)
{
    fixture *f = *state;
    /* Events at T0s, T0s+1 ... T0s+9 (whole seconds). */
    int64_t base = T0 - T0 % 1000;
    insert(f, 10, base, 1000, "us-east-1", "Management", "TagLogGroup");
    char input[256];
    snprintf(input, sizeof input, "{\"StartTime\":%lld,\"EndTime\":%lld}",
             (long long)(base / 1000 + 2), (long long)(base / 1000 + 5));
    json_t *events = lookup(f, input, NULL);
    assert_int_equal(json_array_size(events), 4);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 0), "EventTime")),
                     base + 5000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 3), "EventTime")),
                     base + 2000);
    json_decref(events);
    snprintf(input, sizeof input, "{\"StartTime\":%lld}", (long long)(base / 1000 + 8));
    assert_int_equal(count_of(f, input), 2);
    snprintf(input, sizeof input, "{\"EndTime\":%lld.5}", (long long)(base / 1000));
    assert_int_equal(count_of(f, input), 1);
}

static void test_data_events_are_stored_but_not_looked_up(void **state)
{
    fixture *f = *state;
    insert(f, 4, T0, 1000, "us-east-1", "Data", "PutLogEvents");
    assert_int_equal(count_of(f, "{}"), 0);
    assert_int_equal(count_of(f, "{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\","
                                 "\"AttributeValue\":\"PutLogEvents\"}]}"),
                     0);
    assert_int_equal(count_of(f, "{\"LookupAttributes\":[{\"AttributeKey\":\"ResourceName\","
                                 "\"AttributeValue\":\"g1\"}]}"),
                     0);
    char n[32];
    query_row(f, "SELECT count(*) FROM events WHERE category = 'Data'", n, sizeof n);
    assert_string_equal(n, "4");
    /* Insights events are never written: EventCategory=insight finds none. */
    insert(f, 2, T0, 1000, "us-east-1", "Management", "CreateLogStream");
    assert_int_equal(count_of(f, "{\"EventCategory\":\"insight\"}"), 0);
    assert_int_equal(count_of(f, "{}"), 2);
}

typedef struct expire_job {
    int64_t now_ms;
    size_t budget, deleted;
    bool more;
} expire_job;

static int expire_fn(tw_db *db, void *arg)
{
    expire_job *e = arg;
    return tw_event_history_expire(db, e->now_ms, 90, e->budget, &e->deleted, &e->more);
}

static void test_events_past_retention_are_hidden_then_expired(void **state)
{
    fixture *f = *state;
    int64_t now = T0 + DAY_MS; /* what lookup() uses */
    insert(f, 3, now - 95 * DAY_MS, 1000, "us-east-1", "Management", "Old");
    insert(f, 2, now - 89 * DAY_MS, 1000, "us-east-1", "Management", "Recent");
    /* Hidden before any sweep, even with an explicit older StartTime. */
    assert_int_equal(count_of(f, "{}"), 2);
    char input[128];
    snprintf(input, sizeof input, "{\"StartTime\":%lld}",
             (long long)((now - 100 * DAY_MS) / 1000));
    assert_int_equal(count_of(f, input), 2);
    expire_job e = {now, 2, 0, false};
    assert_int_equal(run_job(f, true, expire_fn, &e), 0);
    assert_int_equal(e.deleted, 2);
    assert_true(e.more);
    assert_int_equal(run_job(f, true, expire_fn, &e), 0);
    assert_int_equal(e.deleted, 1);
    assert_false(e.more);
    char n[32];
    query_row(f, "SELECT count(*) || '/' || (SELECT count(*) FROM event_resource_keys) FROM events",
              n, sizeof n);
    assert_string_equal(n, "2/6");
    assert_int_equal(count_of(f, "{}"), 2);
}

/* ---- LookupEvents request errors -------------------------------------------- */

static void assert_refused(const char *input, const char *code, const char *message_part)
{
    test_call t;
    lookup_call_init(&t, input);
    tw_lookup_query q;
    assert_int_equal(tw_lookup_parse(&t.call, 90, &q), -EINVAL);
    assert_non_null(t.call.error.code);
    assert_string_equal(t.call.error.code, code);
    if (strstr(tw_buf_cstr(&t.call.error.message), message_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", tw_buf_cstr(&t.call.error.message),
                 message_part);
    call_free(&t);
}

static void assert_accepted(const char *input)
{
    test_call t;
    lookup_call_init(&t, input);
    tw_lookup_query q;
    if (tw_lookup_parse(&t.call, 90, &q) != 0)
        fail_msg("%s refused: %s %s", input, t.call.error.code,
                 tw_buf_cstr(&t.call.error.message));
    call_free(&t);
}

static void test_lookup_attributes_are_checked(void **state)
{
    (void)state;
    assert_refused("{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":"
                   "\"a\"},{\"AttributeKey\":\"Username\",\"AttributeValue\":\"b\"}]}",
                   "InvalidLookupAttributesException", "only one lookup attribute");
    assert_refused("{\"LookupAttributes\":[{\"AttributeKey\":\"eventName\",\"AttributeValue\":"
                   "\"a\"}]}",
                   "InvalidLookupAttributesException", "AttributeKey \"eventName\" is not valid");
    assert_refused("{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\"}]}",
                   "InvalidLookupAttributesException", "has no AttributeValue");
    assert_refused("{\"LookupAttributes\":[{\"AttributeValue\":\"a\"}]}",
                   "InvalidLookupAttributesException", "has no AttributeKey");
    assert_refused("{\"LookupAttributes\":[\"EventName\"]}", "InvalidLookupAttributesException",
                   "must be an object");
    assert_refused("{\"LookupAttributes\":[{\"AttributeKey\":\"EventName\",\"AttributeValue\":"
                   "\"\"}]}",
                   "InvalidLookupAttributesException", "1 to 2000 characters");
    assert_refused("{\"LookupAttributes\":[{\"AttributeKey\":\"ReadOnly\",\"AttributeValue\":"
                   "\"yes\"}]}",
                   "InvalidLookupAttributesException", "true or false");
    assert_refused("{\"LookupAttributes\":{\"AttributeKey\":\"EventName\"}}",
                   "InvalidParameterException", "LookupAttributes");
    char input[2300];
    snprintf(input, sizeof input,
             "{\"LookupAttributes\":[{\"AttributeKey\":\"Username\",\"AttributeValue\":\"%2001d\"}]}",
             7);
    assert_refused(input, "InvalidLookupAttributesException", "1 to 2000 characters");
    snprintf(input, sizeof input,
             "{\"LookupAttributes\":[{\"AttributeKey\":\"Username\",\"AttributeValue\":\"%2000d\"}]}",
             7);
    assert_accepted(input);
    assert_accepted("{\"LookupAttributes\":[]}");
    const char *keys[] = {"EventId", "EventName", "ReadOnly", "Username", "ResourceType",
                          "ResourceName", "EventSource", "AccessKeyId"};
    for (size_t i = 0; i < 8; i++) {
        snprintf(input, sizeof input,
                 "{\"LookupAttributes\":[{\"AttributeKey\":\"%s\",\"AttributeValue\":\"true\"}]}",
                 keys[i]);
        assert_accepted(input);
        assert_int_equal(tw_lookup_attribute_from_name(keys[i]), (int)i + 1);
    }
}

static void test_max_results_must_be_1_to_50(void **state)
{
    (void)state;
    assert_refused("{\"MaxResults\":0}", "InvalidMaxResultsException",
                   "MaxResults must be between 1 and 50; got 0.");
    assert_refused("{\"MaxResults\":51}", "InvalidMaxResultsException", "got 51");
    assert_refused("{\"MaxResults\":-3}", "InvalidMaxResultsException", "got -3");
    assert_refused("{\"MaxResults\":\"ten\"}", "InvalidParameterException", "MaxResults");
    assert_accepted("{\"MaxResults\":1}");
    assert_accepted("{\"MaxResults\":50}");
}

static void test_start_time_after_end_time_is_refused(void **state)
{
    (void)state;
    assert_refused("{\"StartTime\":1704067201,\"EndTime\":1704067200}",
                   "InvalidTimeRangeException",
                   "The StartTime (2024-01-01T00:00:01.000Z) must not be after the EndTime "
                   "(2024-01-01T00:00:00.000Z).");
    assert_refused("{\"StartTime\":\"yesterday\"}", "InvalidParameterException", "StartTime");
    assert_accepted("{\"StartTime\":1704067200,\"EndTime\":1704067200}");
    assert_accepted("{\"StartTime\":1704067200.5}");
}

static void test_event_category_must_be_insight(void **state)
{
    (void)state;
    assert_refused("{\"EventCategory\":\"management\"}", "InvalidEventCategoryException",
                   "\"management\" is not valid");
    assert_refused("{\"EventCategory\":\"Insight\"}", "InvalidEventCategoryException",
                   "the only event category is insight");
    assert_accepted("{\"EventCategory\":\"insight\"}");
}

static void test_next_token_is_tied_to_the_parameters(void **state)
{
    fixture *f = *state;
    insert(f, 3, T0, 1000, "us-east-1", "Management", "CreateLogGroup");
    const char *by_name = "\"LookupAttributes\":[{\"AttributeKey\":\"EventName\","
                          "\"AttributeValue\":\"CreateLogGroup\"}]";
    char input[512], *token = NULL;
    snprintf(input, sizeof input, "{%s,\"MaxResults\":1}", by_name);
    json_decref(lookup(f, input, &token));
    assert_non_null(token);
    /* Same parameters (another page size is fine): accepted. */
    snprintf(input, sizeof input, "{%s,\"MaxResults\":2,\"NextToken\":\"%s\"}", by_name, token);
    json_t *events = lookup(f, input, NULL);
    assert_int_equal(json_array_size(events), 2);
    json_decref(events);
    /* Other parameters: refused. */
    snprintf(input, sizeof input, "{\"NextToken\":\"%s\"}", token);
    assert_refused(input, "InvalidNextTokenException", "other parameters");
    snprintf(input, sizeof input, "{%s,\"StartTime\":1,\"NextToken\":\"%s\"}", by_name, token);
    assert_refused(input, "InvalidNextTokenException", "NextToken");
    snprintf(input, sizeof input, "{%s,\"EventCategory\":\"insight\",\"NextToken\":\"%s\"}",
             by_name, token);
    assert_refused(input, "InvalidNextTokenException", "NextToken");
    /* Not a token at all. */
    assert_refused("{\"NextToken\":\"garbage!\"}", "InvalidNextTokenException", "NextToken");
    assert_refused("{\"NextToken\":\"MTph\"}", "InvalidNextTokenException", "NextToken");
    assert_refused("{\"NextToken\":42}", "InvalidParameterException", "NextToken");
    free(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recorded_call_is_stored_with_its_lookup_columns,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_lookup_attribute_finds_its_events, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lookup_pages_newest_first_until_the_last_page,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_range_is_inclusive_and_in_epoch_seconds,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_events_are_stored_but_not_looked_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_events_past_retention_are_hidden_then_expired,
                                        setup, teardown),
        cmocka_unit_test(test_lookup_attributes_are_checked),
        cmocka_unit_test(test_max_results_must_be_1_to_50),
        cmocka_unit_test(test_start_time_after_end_time_is_refused),
        cmocka_unit_test(test_event_category_must_be_insight),
        cmocka_unit_test_setup_teardown(test_next_token_is_tied_to_the_parameters, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
