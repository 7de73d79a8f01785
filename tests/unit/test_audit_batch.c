/* test_audit_batch.c — PutAuditEvents requests (plugins/out_cloudtrail/
 * audit_batch.h): the 100-event and 1 MB limits at their boundaries, ids
 * and eventData refused with a reason, checksums that verify, the request
 * (service, URI-encoded channel, no gzip), the collector's own PutAuditEvents
 * parser accepting the bodies, answers classified into retryable and final
 * failures, resend bodies, and the speed of derive + encode (printed). */
#include <errno.h>
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

#include "audit_batch.h"
#include "audit_derive.h"
#include "audit_events.h"
#include "encode.h"
#include "hash.h"
#include "mem.h"
#include "services.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ACCOUNT "123456789012"
#define CHANNEL_ARN "arn:aws:cloudtrail:us-east-1:" ACCOUNT ":channel/0f1e2d3c-aaaa-bbbb-cccc-000000000001"
#define T0 INT64_C(1704067205123)

/* ---- helpers ------------------------------------------------------------------ */

static json_t *load(const tw_buf *body)
{
    json_error_t jerr;
    json_t *root = json_loadb(body->data, body->len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        fail_msg("body is not JSON: %s", jerr.text);
    return root;
}

/* Checks every item's checksum against its eventData and returns the
 * number of items. */
static size_t verify_body(const tw_buf *body)
{
    json_t *root = load(body);
    json_t *events = json_object_get(root, "auditEvents");
    assert_true(json_is_array(events));
    assert_int_equal(json_object_size(root), 1);
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *item = json_array_get(events, i);
        assert_int_equal(json_object_size(item), 3);
        const char *data = json_string_value(json_object_get(item, "eventData"));
        size_t len = json_string_length(json_object_get(item, "eventData"));
        const char *sum = json_string_value(json_object_get(item, "eventDataChecksum"));
        assert_non_null(data);
        assert_non_null(sum);
        uint8_t digest[TW_SHA256_LEN];
        tw_sha256(data, len, digest);
        tw_buf want = TW_BUF_INIT;
        tw_base64_encode(digest, sizeof digest, &want);
        assert_string_equal(sum, want.data);
        tw_buf_free(&want);
    }
    size_t n = json_array_size(events);
    json_decref(root);
    return n;
}

static const char *item_member(json_t *root, size_t i, const char *name)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(root, "auditEvents"), i), name));
}

/* A minimal valid eventData of exactly len bytes (len >= 300), padded in
 * userAgent. */
static char *event_of_size(size_t len, const char *uid)
{
    tw_buf b = TW_BUF_INIT;
    tw_buf_printf(&b, "{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"User\",\"principalId\":"
                      "\"u\"},\"eventSource\":\"app.example\",\"eventName\":\"E\",\"eventTime\":"
                      "\"2024-01-01T00:00:05Z\",\"UID\":\"%s\",\"recipientAccountId\":\"" ACCOUNT
                      "\",\"requestParameters\":{\"pad\":\"",
                  uid);
    size_t tail = strlen("\"}}");
    assert_true(b.len + tail <= len);
    while (b.len + tail < len)
        tw_buf_putc(&b, 'x');
    tw_buf_puts(&b, "\"}}");
    assert_int_equal(b.len, len);
    return tw_buf_steal(&b);
}

/* ---- limits ---------------------------------------------------------------------- */

static void test_a_batch_holds_100_events_then_asks_to_be_taken(void **state)
{
    (void)state;
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    assert_int_equal(tw_audit_batch_size(&b), 0);
    assert_null(tw_audit_batch_take(&b, "trailwatch"));
    char *data = event_of_size(400, "u");
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "ev-%d", i);
        assert_int_equal(tw_audit_batch_add(&b, id, data, strlen(data), NULL), 0);
    }
    assert_int_equal(tw_audit_batch_count(&b), 100);
    size_t size = tw_audit_batch_size(&b);
    assert_int_equal(tw_audit_batch_add(&b, "ev-100", data, strlen(data), NULL), -ENOSPC);
    assert_int_equal(tw_audit_batch_size(&b), size); /* unchanged */
    tw_request *req = tw_audit_batch_take(&b, "trailwatch");
    assert_non_null(req);
    assert_int_equal(req->body.len, size);
    assert_int_equal(verify_body(&req->body), 100);
    json_t *root = load(&req->body);
    assert_string_equal(item_member(root, 0, "id"), "ev-0");
    assert_string_equal(item_member(root, 99, "id"), "ev-99");
    assert_string_equal(item_member(root, 42, "eventData"), data);
    json_decref(root);
    tw_request_free(req);
    /* Taken: empty again, and the event that did not fit goes in. */
    assert_int_equal(tw_audit_batch_count(&b), 0);
    assert_int_equal(tw_audit_batch_add(&b, "ev-100", data, strlen(data), NULL), 0);
    assert_int_equal(tw_audit_batch_count(&b), 1);
    free(data);
    tw_audit_batch_free(&b);
}

static void test_a_body_is_at_most_1_mb_to_the_byte(void **state)
{
    (void)state;
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    /* The size of a body of one event, less the event: the overhead. */
    char *small = event_of_size(300, "u");
    assert_int_equal(tw_audit_batch_add(&b, "a", small, 300, NULL), 0);
    size_t overhead = tw_audit_batch_size(&b) - 300;
    tw_request_free(tw_audit_batch_take(&b, "c"));

    /* One event filling the body exactly to 1,048,576 bytes fits; one byte
     * more never can. */
    size_t exact = TW_AUDIT_BATCH_MAX_BYTES - overhead;
    char *big = event_of_size(exact, "u");
    assert_int_equal(tw_audit_batch_add(&b, "a", big, exact, NULL), 0);
    assert_int_equal(tw_audit_batch_size(&b), TW_AUDIT_BATCH_MAX_BYTES);
    tw_request *req = tw_audit_batch_take(&b, "c");
    assert_int_equal(req->body.len, TW_AUDIT_BATCH_MAX_BYTES);
    assert_int_equal(verify_body(&req->body), 1);
    tw_request_free(req);
    free(big);
    big = event_of_size(exact + 1, "u");
    tw_err err;
    assert_int_equal(tw_audit_batch_add(&b, "a", big, exact + 1, &err), -EMSGSIZE);
    assert_non_null(strstr(err.msg, "does not fit a PutAuditEvents request"));
    assert_int_equal(tw_audit_batch_count(&b), 0);
    free(big);

    /* Two events: the second fills the body exactly (its item adds a
     * comma), a third of any size asks for a take. */
    assert_int_equal(tw_audit_batch_add(&b, "a", small, 300, NULL), 0);
    /* The second item costs a comma and the overhead without the body's
     * head {"auditEvents":[ (16 bytes) and tail ]} (2). */
    size_t second = TW_AUDIT_BATCH_MAX_BYTES - tw_audit_batch_size(&b) - 1 - (overhead - 18);
    char *fill = event_of_size(second + 1, "u");
    assert_int_equal(tw_audit_batch_add(&b, "b", fill, second + 1, NULL), -ENOSPC);
    free(fill);
    fill = event_of_size(second, "u");
    assert_int_equal(tw_audit_batch_add(&b, "b", fill, second, NULL), 0);
    assert_int_equal(tw_audit_batch_size(&b), TW_AUDIT_BATCH_MAX_BYTES);
    assert_int_equal(tw_audit_batch_add(&b, "c", small, 300, NULL), -ENOSPC);
    assert_int_equal(tw_audit_batch_add(&b, "d", "{}", 2, NULL), -ENOSPC);
    req = tw_audit_batch_take(&b, "c");
    assert_int_equal(verify_body(&req->body), 2);
    tw_request_free(req);
    free(fill);

    /* Escaping counts: a quote takes two bytes in the body. */
    assert_int_equal(tw_audit_batch_add(&b, "q", "x", 1, NULL), 0);
    size_t base = tw_audit_batch_size(&b) - 1;
    tw_request_free(tw_audit_batch_take(&b, "c"));
    size_t quotes = (TW_AUDIT_BATCH_MAX_BYTES - base) / 2;
    char *quoted = tw_malloc(quotes + 2);
    memset(quoted, '"', quotes + 1);
    assert_int_equal(tw_audit_batch_add(&b, "q", quoted, quotes + 1, &err), -EMSGSIZE);
    assert_int_equal(tw_audit_batch_add(&b, "q", quoted, quotes, &err), 0);
    assert_true(tw_audit_batch_size(&b) > TW_AUDIT_BATCH_MAX_BYTES - 2);
    req = tw_audit_batch_take(&b, "c");
    assert_int_equal(verify_body(&req->body), 1);
    tw_request_free(req);
    free(quoted);
    free(small);
    tw_audit_batch_free(&b);
}

static void test_bad_ids_and_data_are_refused_and_the_batch_kept(void **state)
{
    (void)state;
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    assert_int_equal(tw_audit_batch_add(&b, "first", "{\"a\":1}", 7, NULL), 0);
    size_t size = tw_audit_batch_size(&b);
    char long_id[130];
    memset(long_id, 'i', 129);
    long_id[129] = '\0';
    const char *bad_ids[] = {"", long_id, "a b", "caf\xc3\xa9", "x/y"};
    tw_err err;
    for (size_t i = 0; i < COUNT(bad_ids); i++) {
        assert_int_equal(tw_audit_batch_add(&b, bad_ids[i], "{}", 2, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "is not 1 to 128 letters, digits, - or _"));
    }
    long_id[128] = '\0'; /* 128 is allowed */
    assert_int_equal(tw_audit_batch_add(&b, long_id, "{}", 2, NULL), 0);
    size = tw_audit_batch_size(&b);
    assert_int_equal(tw_audit_batch_add(&b, "bad-utf8", "{\"a\":\"\xff\"}", 9, &err), -EINVAL);
    assert_string_equal(err.msg, "audit event bad-utf8: eventData is not UTF-8 text (or holds a "
                                 "NUL byte)");
    assert_int_equal(tw_audit_batch_add(&b, "nul", "{\"a\":\"\0\"}", 9, &err), -EINVAL);
    assert_int_equal(tw_audit_batch_add(&b, "first", "{}", 2, &err), -EEXIST);
    assert_int_equal(tw_audit_batch_size(&b), size);
    assert_int_equal(tw_audit_batch_count(&b), 2);
    tw_request *req = tw_audit_batch_take(&b, "c");
    assert_int_equal(verify_body(&req->body), 2);
    tw_request_free(req);
    tw_audit_batch_free(&b);
}

static void test_the_request_is_rest_json_for_the_channel(void **state)
{
    (void)state;
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    const char *data = "{\"k\":\"v \\\"q\\\" \xc3\xa9\"}";
    assert_int_equal(tw_audit_batch_add(&b, "x", data, strlen(data), NULL), 0);
    tw_request *req = tw_audit_batch_take(&b, CHANNEL_ARN);
    assert_string_equal(req->service, "cloudtrail-data");
    assert_string_equal(req->path, "/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A"
                                   ACCOUNT "%3Achannel%2F0f1e2d3c-aaaa-bbbb-cccc-000000000001");
    assert_string_equal(req->content_type, "application/json");
    assert_null(req->target);
    assert_false(req->gzip);
    assert_string_equal(req->label, "PutAuditEvents " CHANNEL_ARN " (1 event)");
    assert_int_equal(strlen(req->batch_id), 32);
    json_t *root = load(&req->body);
    assert_string_equal(item_member(root, 0, "eventData"), "{\"k\":\"v \\\"q\\\" \xc3\xa9\"}");
    json_decref(root);
    tw_request_free(req);
    tw_audit_batch_free(&b);
}

/* ---- the collector's side -------------------------------------------------------- */

/* Runs the collector's PutAuditEvents parser on req as dispatch.c would
 * hand it over (the body's members plus the query's channelArn), for
 * ACCOUNT in us-east-1; returns the events checked (caller frees). */
static void collector_parse(const tw_request *req, tw_call *call, tw_audit_request *out)
{
    memset(call, 0, sizeof *call);
    call->service = &tw_cloudtrail_data_service;
    call->protocol = TW_PROTOCOL_REST_JSON;
    call->region = "us-east-1";
    call->identity.account_id = ACCOUNT;
    call->now_ms = T0;
    call->input = load(&req->body);
    const char *query = strchr(req->path, '?');
    assert_non_null(query);
    assert_int_equal(strncmp(query, "?channelArn=", 12), 0);
    tw_buf channel = TW_BUF_INIT;
    assert_int_equal(tw_uri_decode(query + 12, strlen(query + 12), TW_URI_PLUS_LITERAL, &channel,
                                   NULL),
                     0);
    json_object_set_new(call->input, "channelArn", json_string(channel.data));
    tw_buf_free(&channel);
    if (tw_audit_parse(call, out) != 0)
        fail_msg("collector refused the request: %s: %s", call->error.code,
                 tw_buf_cstr(&call->error.message));
}

static void collector_free(tw_call *call, tw_audit_request *req)
{
    tw_audit_request_free(req);
    json_decref(call->input);
    tw_buf_free(&call->error.message);
}

static void test_the_collector_accepts_derived_batches(void **state)
{
    (void)state;
    tw_audit_derive_options o = {.section = "t", .format = "nginx",
                                 .event_source = "shop.example.internal",
                                 .recipient_account_id = ACCOUNT, .read_only_events = true};
    tw_audit_deriver *d = NULL;
    assert_int_equal(tw_audit_deriver_new(&o, &d, NULL), 0);
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    tw_buf data = TW_BUF_INIT;
    static const char *const requests[][4] = {
        {"POST", "/orders/1", "201", "alice"},     {"GET", "/orders/1", "200", "-"},
        {"DELETE", "/orders/1", "403", "bob"},     {"PUT", "/a\"b\\c", "500", "z\xc3\xa9"},
        {"PATCH", "/x?secret=1", "204", "carol"},
    };
    for (size_t i = 0; i < COUNT(requests); i++) {
        tw_log_record r = {.message = "m", .message_len = 1, .timestamp_ms = T0 + (int64_t)i,
                           .parsed = true};
        tw_log_record_add(&r, "method", requests[i][0], strlen(requests[i][0]));
        tw_log_record_add(&r, "path", requests[i][1], strlen(requests[i][1]));
        tw_log_record_add(&r, "status", requests[i][2], 3);
        tw_log_record_add(&r, "remote_user", requests[i][3], strlen(requests[i][3]));
        tw_log_record_add(&r, "remote_addr", "192.0.2.1", 9);
        tw_buf_reset(&data);
        assert_int_equal(tw_audit_derive(d, &r, 1000 + i, &data), 1);
        char id[TW_AUDIT_EVENT_ID_SIZE];
        tw_audit_event_id(1000 + i, id);
        assert_int_equal(tw_audit_batch_add(&b, id, data.data, data.len, NULL), 0);
    }
    tw_request *req = tw_audit_batch_take(&b, CHANNEL_ARN);
    tw_call call;
    tw_audit_request parsed;
    collector_parse(req, &call, &parsed);
    assert_string_equal(parsed.channel_arn, CHANNEL_ARN);
    assert_int_equal(parsed.n_events, COUNT(requests));
    for (size_t i = 0; i < parsed.n_events; i++) {
        if (parsed.events[i].error_code != NULL)
            fail_msg("event %zu: %s: %s", i, parsed.events[i].error_code,
                     parsed.events[i].error_message);
    }
    assert_string_equal(parsed.events[0].event_name, "POST /orders/{id}");
    assert_string_equal(parsed.events[0].principal_id, "alice");
    assert_string_equal(parsed.events[2].id, "00000000000003ea");
    /* What LookupEvents' ReadOnly shows: the request could change state. */
    assert_string_equal(parsed.events[0].read_only, "false");
    assert_string_equal(parsed.events[1].read_only, "true");
    collector_free(&call, &parsed);

    /* The checksum is checked: one changed byte in an eventData is
     * InvalidChecksum there. */
    char *at = strstr(req->body.data, "alice");
    assert_non_null(at);
    at[0] = 'A';
    collector_parse(req, &call, &parsed);
    assert_string_equal(parsed.events[0].error_code, "InvalidChecksum");
    assert_null(parsed.events[1].error_code);
    collector_free(&call, &parsed);
    tw_request_free(req);

    /* The default channel, an id: the collector makes it this account's. */
    tw_buf_reset(&data);
    const char *pairs[] = {"method", "POST", "path", "/p"};
    tw_log_record r = {.timestamp_ms = T0, .parsed = true};
    tw_log_record_add(&r, pairs[0], pairs[1], 4);
    tw_log_record_add(&r, pairs[2], pairs[3], 2);
    assert_int_equal(tw_audit_derive(d, &r, 1, &data), 1);
    assert_int_equal(tw_audit_batch_add(&b, "one", data.data, data.len, NULL), 0);
    req = tw_audit_batch_take(&b, "trailwatch");
    collector_parse(req, &call, &parsed);
    assert_string_equal(parsed.channel_arn,
                        "arn:aws:cloudtrail:us-east-1:" ACCOUNT ":channel/trailwatch");
    assert_null(parsed.events[0].error_code);
    collector_free(&call, &parsed);
    tw_request_free(req);

    tw_buf_free(&data);
    tw_audit_batch_free(&b);
    tw_audit_deriver_free(d);
}

/* ---- answers and resends ------------------------------------------------------------ */

static const char answer[] =
    "{\"successful\":[{\"id\":\"e1\",\"eventID\":\"11111111-2222-3333-4444-555555555555\"}],"
    "\"failed\":[{\"id\":\"e2\",\"errorCode\":\"Throttling\",\"errorMessage\":\"slow down\"},"
    "{\"id\":\"e3\",\"errorCode\":\"InvalidData\",\"errorMessage\":\"bad\"},"
    "{\"id\":\"e6\",\"errorCode\":\"InternalFailure\"},"
    "{\"id\":\"e7\",\"errorCode\":\"InvalidChecksum\",\"errorMessage\":\"x\"},"
    "{\"id\":\"e8\",\"errorCode\":\"FieldTooLong\",\"errorMessage\":\"x\"},"
    "{\"id\":\"e9\",\"errorCode\":\"SomethingNew\",\"errorMessage\":\"x\"}]}";

static void test_answers_sort_failures_into_retryable_and_final(void **state)
{
    (void)state;
    tw_audit_response r;
    assert_int_equal(tw_audit_response_parse(answer, strlen(answer), &r, NULL), 0);
    assert_int_equal(r.n_successful, 1);
    assert_string_equal(r.successful[0], "e1");
    assert_int_equal(r.n_failed, 6);
    assert_int_equal(r.n_retryable, 2);
    assert_string_equal(r.failed[0].id, "e2");
    assert_string_equal(r.failed[0].code, "Throttling");
    assert_string_equal(r.failed[0].message, "slow down");
    assert_true(r.failed[0].retryable);
    assert_false(r.failed[1].retryable); /* InvalidData */
    assert_true(r.failed[2].retryable);  /* InternalFailure */
    assert_string_equal(r.failed[2].message, "");
    assert_false(r.failed[3].retryable); /* InvalidChecksum */
    assert_false(r.failed[4].retryable); /* FieldTooLong */
    assert_false(r.failed[5].retryable); /* unknown: final, reported */
    tw_audit_response_free(&r);

    const char *empty = "{\"successful\":[],\"failed\":[]}";
    assert_int_equal(tw_audit_response_parse(empty, strlen(empty), &r, NULL), 0);
    assert_int_equal(r.n_successful + r.n_failed, 0);
    tw_audit_response_free(&r);

    static const char *const bad[][2] = {
        {"not json", "PutAuditEvents answer is not a JSON object: "},
        {"[]", "PutAuditEvents answer is not a JSON object"},
        {"{\"failed\":{}}", "PutAuditEvents answer: \"failed\" is not a list"},
        {"{\"successful\":[{}]}", "PutAuditEvents answer: successful[0] has no id"},
        {"{\"failed\":[{\"id\":\"a\"}]}", "PutAuditEvents answer: failed[0] lacks its id or "
                                          "errorCode"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        tw_err err;
        assert_int_equal(tw_audit_response_parse(bad[i][0], strlen(bad[i][0]), &r, &err),
                         -EINVAL);
        if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
            fail_msg("%s: \"%s\" does not start with \"%s\"", bad[i][0], err.msg, bad[i][1]);
        assert_int_equal(r.n_successful + r.n_failed, 0);
        tw_audit_response_free(&r);
    }
}

static tw_request *batch_of(const char *const *ids, size_t n)
{
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    for (size_t i = 0; i < n; i++) {
        char *data = event_of_size(320 + i, ids[i]);
        assert_int_equal(tw_audit_batch_add(&b, ids[i], data, strlen(data), NULL), 0);
        free(data);
    }
    tw_request *req = tw_audit_batch_take(&b, CHANNEL_ARN);
    tw_audit_batch_free(&b);
    return req;
}

static void assert_body_ids(const tw_buf *body, const char *const *ids, size_t n)
{
    assert_int_equal(verify_body(body), n);
    json_t *root = load(body);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(item_member(root, i, "id"), ids[i]);
    json_decref(root);
}

static void test_resends_keep_only_what_is_unsettled(void **state)
{
    (void)state;
    const char *ids[] = {"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"};
    tw_request *req = batch_of(ids, COUNT(ids));
    tw_audit_response r;
    assert_int_equal(tw_audit_response_parse(answer, strlen(answer), &r, NULL), 0);
    tw_buf out = TW_BUF_INIT;
    size_t kept = 0;
    assert_int_equal(tw_audit_batch_resend(req->body.data, req->body.len, &r, &out, &kept, NULL),
                     0);
    /* Retryable failures (e2, e6), and e4, e5 that the answer never
     * mentioned; not e1 (done) nor the final failures. */
    const char *want[] = {"e2", "e4", "e5", "e6"};
    assert_int_equal(kept, 4);
    assert_body_ids(&out, want, 4);
    /* The events are byte for byte those sent. */
    json_t *old = load(&req->body), *now = load(&out);
    assert_string_equal(item_member(now, 0, "eventData"), item_member(old, 1, "eventData"));
    assert_string_equal(item_member(now, 3, "eventDataChecksum"),
                        item_member(old, 5, "eventDataChecksum"));
    json_decref(old);
    json_decref(now);
    tw_audit_response_free(&r);

    /* Keep by a list of ids. */
    tw_buf_reset(&out);
    const char *keep[] = {"e9", "e3", "nope"};
    assert_int_equal(tw_audit_batch_keep(req->body.data, req->body.len, keep, 3, &out, &kept,
                                         NULL),
                     0);
    const char *kept_ids[] = {"e3", "e9"}; /* in the body's order */
    assert_int_equal(kept, 2);
    assert_body_ids(&out, kept_ids, 2);
    tw_request *again = tw_audit_request_new(CHANNEL_ARN, out.data, out.len, kept);
    assert_string_equal(again->path, req->path);
    assert_string_not_equal(again->batch_id, req->batch_id); /* a new body, a new batch */
    tw_request_free(again);

    /* Nothing to keep: nothing appended. */
    tw_buf_reset(&out);
    const char *none[] = {"zzz"};
    assert_int_equal(tw_audit_batch_keep(req->body.data, req->body.len, none, 1, &out, &kept,
                                         NULL),
                     0);
    assert_int_equal(kept, 0);
    assert_int_equal(out.len, 0);

    tw_err err;
    assert_int_equal(tw_audit_batch_keep("{\"x\":1}", 7, keep, 1, &out, &kept, &err), -EINVAL);
    assert_string_equal(err.msg, "not a PutAuditEvents body (no auditEvents list)");
    assert_int_equal(tw_audit_batch_keep("garbage", 7, keep, 1, &out, &kept, &err), -EINVAL);
    tw_buf_free(&out);
    tw_request_free(req);
}

/* ---- speed (printed, never asserted) -------------------------------------------------- */

static void test_derive_and_encode_speed(void **state)
{
    (void)state;
    tw_audit_derive_options o = {.section = "t", .format = "nginx",
                                 .event_source = "shop.example.internal",
                                 .recipient_account_id = ACCOUNT, .read_only_events = true};
    tw_audit_deriver *d = NULL;
    assert_int_equal(tw_audit_deriver_new(&o, &d, NULL), 0);
    tw_log_record r = {.message = "m", .message_len = 1, .timestamp_ms = T0, .parsed = true};
    const char *pairs[] = {
        "remote_addr", "203.0.113.195", "remote_user", "-", "time_local",
        "10/Oct/2023:13:55:36 +0000", "method", "GET", "path",
        "/products/12345/reviews?page=2", "protocol", "HTTP/1.1", "status", "200",
        "body_bytes_sent", "5120", "http_referer", "https://shop.example.com/products/12345",
        "http_user_agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/118.0.0.0 Safari/537.36", NULL};
    for (size_t i = 0; pairs[i] != NULL; i += 2)
        tw_log_record_add(&r, pairs[i], pairs[i + 1], strlen(pairs[i + 1]));
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    tw_buf data = TW_BUF_INIT;
    const int n = 300000;
    size_t requests = 0, bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        tw_buf_reset(&data);
        r.timestamp_ms = T0 + i;
        tw_audit_derive(d, &r, (uint64_t)i, &data);
        char id[TW_AUDIT_EVENT_ID_SIZE];
        tw_audit_event_id((uint64_t)i, id);
        if (tw_audit_batch_add(&b, id, data.data, data.len, NULL) == -ENOSPC) {
            tw_request *req = tw_audit_batch_take(&b, CHANNEL_ARN);
            bytes += req->body.len;
            requests++;
            tw_request_free(req);
            tw_audit_batch_add(&b, id, data.data, data.len, NULL);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("derive + encode (nginx): %.0f events/s (%.0f ns each), %zu requests of %.0f KiB\n",
           n / s, s / n * 1e9, requests, requests ? bytes / 1024.0 / (double)requests : 0.0);
    tw_buf_free(&data);
    tw_audit_batch_free(&b);
    tw_audit_deriver_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_batch_holds_100_events_then_asks_to_be_taken),
        cmocka_unit_test(test_a_body_is_at_most_1_mb_to_the_byte),
        cmocka_unit_test(test_bad_ids_and_data_are_refused_and_the_batch_kept),
        cmocka_unit_test(test_the_request_is_rest_json_for_the_channel),
        cmocka_unit_test(test_the_collector_accepts_derived_batches),
        cmocka_unit_test(test_answers_sort_failures_into_retryable_and_final),
        cmocka_unit_test(test_resends_keep_only_what_is_unsettled),
        cmocka_unit_test(test_derive_and_encode_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
