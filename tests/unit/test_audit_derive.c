/* test_audit_derive.c — log records into CloudTrail audit events
 * (plugins/out_cloudtrail/audit_derive.h), on records built by hand:
 * hand-checked eventData for nginx, Rails and auth.log, the route map and
 * the default {id} names, data_paths, X-Forwarded-For, escaping and field
 * caps, event times, deterministic ids, and the collector's own validator
 * accepting every event. The same over the real parsers and the shared
 * sample logs is test_audit_derive_logs.c; the JSON writers are
 * test_audit_json.c. */
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

#include "audit_check.h"
#include "audit_derive.h"
#include "audit_routes.h"
#include "log_parser.h"
#include "mem.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The eventName derived for method and path (NULL: no event). */
static char *name_of(tw_audit_deriver *d, const char *method, const char *path)
{
    const char *pairs[] = {"method", method, "path", path, "status", "200", NULL};
    char *data = audit_derive_pairs(d, pairs, 1);
    if (data == NULL)
        return NULL;
    json_t *root = audit_json(data);
    char *name = audit_member(root, "eventName");
    json_decref(root);
    free(data);
    return name;
}

/* ---- nginx ------------------------------------------------------------------------ */

static void test_nginx_write_request_is_a_complete_event(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    tw_audit_deriver *d = audit_deriver(&o);
    const char *pairs[] = {"remote_addr", "192.0.2.7", "remote_user", "alice",
                           "method", "POST", "path", "/orders/123?coupon=SECRET",
                           "protocol", "HTTP/1.1", "status", "201", "body_bytes_sent", "512",
                           "http_referer", "-", "http_user_agent", "curl/8.0",
                           "request_id", "abc123", NULL};
    char *data = audit_derive_pairs(d, pairs, 0x1234);
    assert_string_equal(
        data,
        "{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"User\",\"principalId\":\"alice\"},"
        "\"userAgent\":\"curl/8.0\",\"eventSource\":\"shop.example.internal\","
        "\"eventName\":\"POST /orders/{id}\",\"eventTime\":\"2024-01-01T00:00:05Z\","
        "\"UID\":\"abc123\",\"requestParameters\":{\"httpMethod\":\"POST\","
        "\"path\":\"/orders/123\",\"protocol\":\"HTTP/1.1\"},"
        "\"sourceIPAddress\":\"192.0.2.7\",\"recipientAccountId\":\"123456789012\","
        "\"additionalEventData\":{\"readOnly\":false,\"eventCategory\":\"Management\","
        "\"httpStatus\":201,\"bytesSent\":512}}");
    free(data);
    tw_audit_deriver_free(d);
}

static void test_nginx_failed_read_is_anonymous_with_http_error(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    tw_audit_deriver *d = audit_deriver(&o);
    const char *pairs[] = {"remote_addr", "2001:db8::1", "remote_user", "-", "method", "GET",
                           "path", "/missing", "status", "404", NULL};
    char *data = audit_derive_pairs(d, pairs, 7);
    json_t *root = audit_json(data);
    assert_member(root, "userIdentity", "{\"type\":\"Anonymous\",\"principalId\":\"anonymous\"}");
    assert_member(root, "errorCode", "HTTP404");
    assert_member(root, "errorMessage", "Not Found");
    assert_member(root, "additionalEventData.readOnly", "true");
    assert_member(root, "sourceIPAddress", "2001:db8::1");
    assert_member(root, "UID", "0000000000000007"); /* no request id: the event id */
    assert_member(root, "userAgent", NULL);
    json_decref(root);
    free(data);

    /* 5xx too, with a phrase for codes outside the table. */
    const char *server[] = {"method", "PUT", "path", "/x", "status", "599", NULL};
    data = audit_derive_pairs(d, server, 8);
    root = audit_json(data);
    assert_member(root, "errorCode", "HTTP599");
    assert_member(root, "errorMessage", "Server Error");
    json_decref(root);
    free(data);
    tw_audit_deriver_free(d);
}

static void test_requests_without_a_request_line_make_no_event(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    tw_audit_deriver *d = audit_deriver(&o);
    const char *empty[] = {"remote_addr", "127.0.0.1", "status", "400", NULL};
    const char *garbage[] = {"method", "\x16\x03\x01", "path", "/", "status", "400", NULL};
    const char *no_path[] = {"method", "GET", "path", "-", "status", "400", NULL};
    assert_null(audit_derive_pairs(d, empty, 1));
    assert_null(audit_derive_pairs(d, garbage, 2));
    assert_null(audit_derive_pairs(d, no_path, 3));
    tw_log_record unparsed = {.message = "x", .message_len = 1, .parsed = false};
    tw_buf out = TW_BUF_INIT;
    assert_int_equal(tw_audit_derive(d, &unparsed, 4, &out), 0);
    assert_int_equal(out.len, 0);
    tw_buf_free(&out);
    tw_audit_deriver_free(d);
}

static void test_read_requests_are_left_out_when_asked(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    o.read_only_events = false;
    tw_audit_deriver *d = audit_deriver(&o);
    for (size_t i = 0; i < 3; i++) {
        const char *method = (const char *[]){"GET", "HEAD", "OPTIONS"}[i];
        assert_null(name_of(d, method, "/orders"));
    }
    char *name = name_of(d, "DELETE", "/orders/5");
    assert_string_equal(name, "DELETE /orders/{id}");
    free(name);
    tw_audit_deriver_free(d);
}

static void test_default_names_replace_ids(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    tw_audit_deriver *d = audit_deriver(&o);
    static const char *const cases[][3] = {
        {"POST", "/orders/123", "POST /orders/{id}"},
        {"GET", "/users/550e8400-E29B-41d4-a716-446655440000/avatar", "GET /users/{id}/avatar"},
        {"GET", "/blobs/0123456789abcdef0123", "GET /blobs/{id}"},
        {"GET", "/blobs/abcdef", "GET /blobs/abcdef"}, /* short hex is a word */
        {"GET", "/items/42.json", "GET /items/{id}.json"},
        {"GET", "/v2/orders", "GET /v2/orders"},
        {"GET", "/?q=1", "GET /"},
        {"GET", "//a//b/#frag", "GET /a/b"},
        {"GET", "http://example.com/x/1?y", "GET /x/{id}"},
        {"PATCHp", "/x", "PATCHp /x"},
        {"GET", "/%D9%85%DA%AF/7", "GET /%D9%85%DA%AF/{id}"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char *name = name_of(d, cases[i][0], cases[i][1]);
        if (name == NULL || strcmp(name, cases[i][2]) != 0)
            fail_msg("%s %s: expected %s, got %s", cases[i][0], cases[i][1], cases[i][2],
                     name ? name : "(no event)");
        free(name);
    }
    tw_audit_deriver_free(d);
}

static void test_route_map_names_events_first_match_wins(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    o.routes = "POST /orders = CreateOrder GET,HEAD /orders/{id} = GetOrder\n"
               "PUT,PATCH /orders/* = UpdateOrder * /health = - /admin/** = \"Admin action\" "
               "DELETE /files/*.csv = DeleteCsv /orders/** = OrderOther";
    tw_audit_deriver *d = audit_deriver(&o);
    static const char *const cases[][3] = {
        {"POST", "/orders", "CreateOrder"},
        {"POST", "/orders/", "CreateOrder"},
        {"GET", "/orders/9", "GetOrder"},
        {"HEAD", "/orders/9", "GetOrder"},
        {"PATCH", "/orders/9?x=1", "UpdateOrder"},
        {"DELETE", "/orders/9", "OrderOther"},
        {"GET", "/orders/9/lines/2", "OrderOther"},
        {"GET", "/admin", "Admin action"},
        {"POST", "/admin/users/7/roles", "Admin action"},
        {"DELETE", "/files/a.csv", "DeleteCsv"},
        {"DELETE", "/files/a.txt", "DELETE /files/a.txt"},
        {"DELETE", "/files/sub/a.csv", "DELETE /files/sub/a.csv"},
        {"GET", "/Orders/9", "GET /Orders/{id}"}, /* case-sensitive */
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char *name = name_of(d, cases[i][0], cases[i][1]);
        if (name == NULL || strcmp(name, cases[i][2]) != 0)
            fail_msg("%s %s: expected %s, got %s", cases[i][0], cases[i][1], cases[i][2],
                     name ? name : "(no event)");
        free(name);
    }
    assert_null(name_of(d, "GET", "/health"));
    assert_null(name_of(d, "POST", "/health?deep=1"));
    tw_audit_deriver_free(d);
}

static void test_bad_route_maps_are_refused_with_the_rule(void **state)
{
    (void)state;
    char deep[200] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "/a");
    strcat(deep, " = X");
    const char *const cases[][2] = {
        {"POST /orders", "rule 1 (\"/orders\"): expected \" = NAME\" after the path pattern"},
        {"post /x = A", "rule 1: \"post\" is neither a path pattern"},
        {"POST = A", "rule 1: a path pattern starting with / must follow the methods"},
        {"/x =", "rule 1 (\"/x\"): the event name is missing after ="},
        {"/x = \"open", "rule 1 (\"/x\"): the quoted event name has no closing quote"},
        {"", "no rule given"},
        {"/ok = A orders = B", "rule 2: \"orders\" is neither a path pattern"},
        {"/x=A", "rule 1 (\"/x=A\"): expected \" = NAME\""},
        {deep, "rule 1: \"/a/a/a"},
        {"\"/x\" = A", "rule 1: a quoted text can only be an event name"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_audit_routes *routes = NULL;
        tw_err err = {""};
        assert_int_equal(tw_audit_routes_new(cases[i][0], &routes, &err), -EINVAL);
        assert_null(routes);
        if (strstr(err.msg, cases[i][1]) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i][0], err.msg, cases[i][1]);
    }
    tw_audit_derive_options o = audit_options("nginx");
    o.routes = "GET /x";
    tw_audit_deriver *d = NULL;
    tw_err err;
    assert_int_equal(tw_audit_deriver_new(&o, &d, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "[test] audit_routes: rule 1"));
}

static void test_data_paths_make_data_events(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    o.data_paths = "/files/** /api/*/blobs/* /export/*.csv";
    tw_audit_deriver *d = audit_deriver(&o);
    static const char *const cases[][2] = {
        {"/files", "Data"},          {"/files/a/b/c", "Data"},
        {"/api/v1/blobs/9", "Data"}, {"/api/v1/blobs", "Management"},
        {"/export/x.csv", "Data"},   {"/export/x.json", "Management"},
        {"/filesystem", "Management"}, {"/orders/1", "Management"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        const char *pairs[] = {"method", "GET", "path", cases[i][0], NULL};
        char *data = audit_derive_pairs(d, pairs, i);
        json_t *root = audit_json(data);
        assert_member(root, "additionalEventData.eventCategory", cases[i][1]);
        json_decref(root);
        free(data);
    }
    tw_audit_deriver_free(d);

    tw_audit_paths *paths = NULL;
    tw_err err;
    assert_int_equal(tw_audit_paths_new("/ok files/*", &paths, &err), -EINVAL);
    assert_string_equal(err.msg, "\"files/*\" is not a path pattern (it must start with /)");
}

static void test_forwarded_for_is_trusted_only_when_configured(void **state)
{
    (void)state;
    const char *pairs[] = {"remote_addr", "10.0.0.5", "method", "POST", "path", "/a",
                           "http_x_forwarded_for", "203.0.113.9, 10.0.0.1", NULL};
    tw_audit_derive_options o = audit_options("nginx");
    tw_audit_deriver *d = audit_deriver(&o);
    char *data = audit_derive_pairs(d, pairs, 1);
    json_t *root = audit_json(data);
    assert_member(root, "sourceIPAddress", "10.0.0.5");
    assert_member(root, "additionalEventData.forwardedFor", "203.0.113.9, 10.0.0.1");
    json_decref(root);
    free(data);
    tw_audit_deriver_free(d);

    o.trust_forwarded_for = true;
    d = audit_deriver(&o);
    data = audit_derive_pairs(d, pairs, 1);
    root = audit_json(data);
    assert_member(root, "sourceIPAddress", "203.0.113.9");
    assert_member(root, "additionalEventData.forwardedFor", NULL);
    json_decref(root);
    free(data);

    /* A forwarded-for that is no address: remote_addr; a remote_addr that
     * is none (a unix socket): no sourceIPAddress at all. */
    const char *bad[] = {"remote_addr", "unix:", "method", "POST", "path", "/a",
                         "http_x_forwarded_for", "unknown", NULL};
    data = audit_derive_pairs(d, bad, 2);
    root = audit_json(data);
    assert_member(root, "sourceIPAddress", NULL);
    json_decref(root);
    free(data);
    const char *list[] = {"remote_addr", "[2001:db8::2], 10.0.0.1", "method", "POST",
                          "path", "/a", NULL};
    data = audit_derive_pairs(d, list, 3);
    root = audit_json(data);
    assert_member(root, "sourceIPAddress", "2001:db8::2");
    json_decref(root);
    free(data);
    tw_audit_deriver_free(d);
}

static void test_user_comes_from_the_configured_field(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    o.user_field = "http_x_user";
    tw_audit_deriver *d = audit_deriver(&o);
    const char *pairs[] = {"remote_user", "basic", "http_x_user", "carol", "method", "POST",
                           "path", "/a", NULL};
    char *data = audit_derive_pairs(d, pairs, 1);
    json_t *root = audit_json(data);
    assert_member(root, "userIdentity.principalId", "carol");
    json_decref(root);
    free(data);
    tw_audit_deriver_free(d);
}

static void test_text_is_escaped_and_capped(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    o.event_source = "app \"quoted\"";
    tw_audit_deriver *d = audit_deriver(&o);
    char agent[3000];
    memset(agent, 'a', sizeof agent - 1);
    agent[sizeof agent - 1] = '\0';
    memcpy(agent + 1020, "\xc3\xa9", 2); /* é across the 1024-character cap */
    const char *pairs[] = {"method", "POST", "path", "/p\"\\\x01\xff\n", "http_user_agent",
                           agent, "remote_user", "bad\xc3(", NULL};
    char *data = audit_derive_pairs(d, pairs, 1);
    json_t *root = audit_json(data);
    assert_member(root, "eventSource", "app \"quoted\"");
    assert_member(root, "requestParameters.path", "/p\"\\\x01\\xFF\n");
    assert_member(root, "userIdentity.principalId", "bad\\xC3(");
    json_t *ua = json_object_get(root, "userAgent");
    assert_int_equal(json_string_length(ua), 1025); /* 1024 characters, é two bytes */
    json_decref(root);
    free(data);

    /* A NUL inside a field never reaches the JSON. */
    tw_log_record r = {.timestamp_ms = AUDIT_T0, .parsed = true};
    tw_log_record_add(&r, "method", "POST", 4);
    tw_log_record_add(&r, "path", "/a\0b", 4);
    tw_buf out = TW_BUF_INIT;
    assert_int_equal(tw_audit_derive(d, &r, 1, &out), 1);
    root = audit_json(out.data);
    assert_member(root, "requestParameters.path", "/a\\x00b");
    json_decref(root);
    audit_assert_accepted(out.data, out.len);
    tw_buf_free(&out);
    tw_audit_deriver_free(d);
}

static void test_event_ids_are_deterministic(void **state)
{
    (void)state;
    char id[TW_AUDIT_EVENT_ID_SIZE];
    tw_audit_event_id(0, id);
    assert_string_equal(id, "0000000000000000");
    tw_audit_event_id(UINT64_C(0xfedcba9876543210), id);
    assert_string_equal(id, "fedcba9876543210");

    tw_audit_derive_options o = audit_options("syslog");
    tw_audit_deriver *d = audit_deriver(&o);
    const char *pairs[] = {"program", "sshd", "auth_result", "accepted", "user", "bob",
                           "auth_method", "publickey", NULL};
    char *a = audit_derive_pairs(d, pairs, 42), *b = audit_derive_pairs(d, pairs, 42), *c = audit_derive_pairs(d, pairs, 43);
    assert_string_equal(a, b); /* the same record and key: the same bytes */
    assert_string_not_equal(a, c);
    json_t *root = audit_json(c);
    assert_member(root, "UID", "000000000000002b");
    json_decref(root);
    free(a);
    free(b);
    free(c);
    /* A second deriver (a restarted agent) derives the same bytes. */
    tw_audit_deriver *again = audit_deriver(&o);
    a = audit_derive_pairs(d, pairs, 42);
    b = audit_derive_pairs(again, pairs, 42);
    assert_string_equal(a, b);
    free(a);
    free(b);
    tw_audit_deriver_free(again);
    tw_audit_deriver_free(d);
}

static void test_event_times_are_utc_seconds_within_four_digit_years(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("syslog");
    tw_audit_deriver *d = audit_deriver(&o);
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {AUDIT_T0, "2024-01-01T00:00:05Z"},
        {-1, "1969-12-31T23:59:59Z"}, /* rounded towards the past */
        {INT64_C(-62167219200000), "0000-01-01T00:00:00Z"},
        {INT64_C(253402300799999), "9999-12-31T23:59:59Z"},
        {INT64_C(253402300800000), "1970-01-01T00:00:00Z"}, /* beyond: the epoch */
        {INT64_MIN, "1970-01-01T00:00:00Z"},
        {INT64_MAX, "1970-01-01T00:00:00Z"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_log_record r = {.timestamp_ms = cases[i].ms, .parsed = true};
        tw_log_record_add(&r, "program", "sudo", 4);
        tw_log_record_add(&r, "sudo_result", "allowed", 7);
        tw_buf out = TW_BUF_INIT;
        assert_int_equal(tw_audit_derive(d, &r, 1, &out), 1);
        audit_assert_accepted(out.data, out.len);
        json_t *root = audit_json(out.data);
        assert_member(root, "eventTime", cases[i].want);
        json_decref(root);
        tw_buf_free(&out);
    }
    tw_audit_deriver_free(d);
}

static void test_bad_options_are_refused(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("json");
    tw_audit_deriver *d = NULL;
    tw_err err;
    assert_int_equal(tw_audit_deriver_new(&o, &d, &err), -EINVAL);
    assert_string_equal(err.msg, "[test] audit events come from nginx, rails or syslog logs, "
                                 "not json");
    o = audit_options("nginx");
    o.recipient_account_id = "12345";
    assert_int_equal(tw_audit_deriver_new(&o, &d, &err), -EINVAL);
    assert_string_equal(err.msg, "[test] the recipient account id \"12345\" is not 12 digits");
    o = audit_options("nginx");
    o.data_paths = "nope";
    assert_int_equal(tw_audit_deriver_new(&o, &d, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "[test] data_paths: \"nope\" is not a path pattern"));
    assert_null(d);
}

/* ---- rails ------------------------------------------------------------------------ */

static void test_rails_request_is_a_complete_event(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("rails");
    o.data_paths = "/appointments/**";
    tw_audit_deriver *d = audit_deriver(&o);
    const char *pairs[] = {
        "method", "POST", "path", "/appointments", "remote_addr", "198.51.100.4",
        "controller", "Public::AppointmentsController", "action", "create", "status", "422",
        "params", "{\"utf8\"=>\"\xe2\x9c\x93\", \"authenticity_token\"=>\"[FILTERED]\", "
                  "\"slot\"=>{\"day\"=>\"2021-11-26\", \"ids\"=>[1, 2]}, \"note\"=>nil}",
        "request_id", "c295df19-8aa6-4a8b-bdbe-8640b2022f63", "user", "dora", NULL};
    char *data = audit_derive_pairs(d, pairs, 9);
    assert_string_equal(
        data,
        "{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"User\",\"principalId\":\"dora\"},"
        "\"eventSource\":\"shop.example.internal\","
        "\"eventName\":\"Public::AppointmentsController#create\","
        "\"eventTime\":\"2024-01-01T00:00:05Z\",\"UID\":\"c295df19-8aa6-4a8b-bdbe-8640b2022f63\","
        "\"requestParameters\":{\"utf8\":\"\xe2\x9c\x93\",\"authenticity_token\":\"[FILTERED]\","
        "\"slot\":{\"day\":\"2021-11-26\",\"ids\":[1,2]},\"note\":null},"
        "\"errorCode\":\"HTTP422\",\"errorMessage\":\"Unprocessable Content\","
        "\"sourceIPAddress\":\"198.51.100.4\",\"recipientAccountId\":\"123456789012\","
        "\"additionalEventData\":{\"readOnly\":false,\"eventCategory\":\"Data\","
        "\"httpStatus\":422,\"httpMethod\":\"POST\",\"path\":\"/appointments\"}}");
    free(data);

    /* An exception without a status names its class; reads by action. */
    const char *failed[] = {"controller", "CentersController", "action", "index", "error",
                            "ActionController::UnfilteredParameters (unable to convert)",
                            "params", "{\"a\"=>\"...", NULL};
    data = audit_derive_pairs(d, failed, 10);
    json_t *root = audit_json(data);
    assert_member(root, "errorCode", "ActionController::UnfilteredParameters");
    assert_member(root, "errorMessage",
                  "ActionController::UnfilteredParameters (unable to convert)");
    assert_member(root, "additionalEventData.readOnly", "true");
    assert_member(root, "requestParameters", "{\"rawParameters\":\"{\\\"a\\\"=>\\\"...\"}");
    assert_member(root, "userIdentity.type", "Anonymous");
    json_decref(root);
    free(data);

    /* Neither controller nor request: no event. */
    const char *other[] = {"message", "Migrating", NULL};
    assert_null(audit_derive_pairs(d, other, 11));
    tw_audit_deriver_free(d);
}

static void test_rails_params_over_100kb_are_omitted(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("rails");
    tw_audit_deriver *d = audit_deriver(&o);
    tw_buf params = TW_BUF_INIT;
    tw_buf_puts(&params, "{\"blob\"=>\"");
    for (int i = 0; i < 110 * 1024; i++)
        tw_buf_putc(&params, 'x');
    tw_buf_puts(&params, "\"}");
    const char *pairs[] = {"controller", "A", "action", "b", "params", params.data, NULL};
    char *data = audit_derive_pairs(d, pairs, 1);
    json_t *root = audit_json(data);
    assert_member(root, "requestParameters", "{\"omitted\":true}");
    json_decref(root);
    free(data);
    /* Floats count for what the collector's re-dump makes of them. */
    tw_buf_reset(&params);
    tw_buf_puts(&params, "{\"f\"=>[");
    for (int i = 0; i < 20000; i++)
        tw_buf_puts(&params, i ? ",0.1" : "0.1");
    tw_buf_puts(&params, "]}");
    pairs[5] = params.data;
    data = audit_derive_pairs(d, pairs, 2);
    root = audit_json(data);
    assert_member(root, "requestParameters", "{\"omitted\":true}");
    json_decref(root);
    free(data);
    tw_buf_free(&params);
    tw_audit_deriver_free(d);
}

/* ---- syslog ------------------------------------------------------------------------ */

static void test_ssh_logins_and_sudo_become_events(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("syslog");
    tw_audit_deriver *d = audit_deriver(&o);
    const char *accepted[] = {"host", "localhost", "program", "sshd", "pid", "3402",
                              "auth_result", "accepted", "auth_method", "publickey", "user",
                              "vagrant", "remote_addr", "10.0.2.2", "remote_port", "63673",
                              NULL};
    char *data = audit_derive_pairs(d, accepted, 5);
    assert_string_equal(
        data,
        "{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"UnixUser\",\"principalId\":"
        "\"vagrant\",\"details\":{\"invalidUser\":false}},"
        "\"eventSource\":\"shop.example.internal\",\"eventName\":\"SshLogin\","
        "\"eventTime\":\"2024-01-01T00:00:05Z\",\"UID\":\"0000000000000005\","
        "\"requestParameters\":{\"userName\":\"vagrant\",\"authMethod\":\"publickey\","
        "\"sourcePort\":63673},\"responseElements\":{\"SshLogin\":\"Success\"},"
        "\"sourceIPAddress\":\"10.0.2.2\",\"recipientAccountId\":\"123456789012\","
        "\"additionalEventData\":{\"readOnly\":false,\"eventCategory\":\"Management\","
        "\"host\":\"localhost\",\"program\":\"sshd\"}}");
    free(data);

    const char *failed[] = {"program", "sshd", "auth_result", "failed", "auth_method",
                            "password", "user", "root", "invalid_user", "yes", "remote_addr",
                            "192.168.1.2", NULL};
    data = audit_derive_pairs(d, failed, 6);
    json_t *root = audit_json(data);
    assert_member(root, "userIdentity.type", "Unknown");
    assert_member(root, "userIdentity.details.invalidUser", "true");
    assert_member(root, "responseElements.SshLogin", "Failure");
    assert_member(root, "errorCode", "AuthenticationFailed");
    assert_member(root, "errorMessage", "Failed password for invalid user");
    json_decref(root);
    free(data);

    const char *sudo[] = {"program", "sudo", "user", "vagrant", "sudo_result", "allowed",
                          "tty", "pts/1", "pwd", "/home/vagrant", "target_user", "root",
                          "command", "/bin/cat /var/log/secure", NULL};
    data = audit_derive_pairs(d, sudo, 7);
    root = audit_json(data);
    assert_member(root, "eventName", "Sudo");
    assert_member(root, "userIdentity.principalId", "vagrant");
    assert_member(root, "requestParameters",
                  "{\"targetUser\":\"root\",\"command\":\"/bin/cat /var/log/secure\","
                  "\"tty\":\"pts/1\",\"pwd\":\"/home/vagrant\"}");
    assert_member(root, "responseElements.Sudo", "Success");
    assert_member(root, "errorCode", NULL);
    json_decref(root);
    free(data);

    const char *refused[] = {"program", "sudo", "user", "tsg", "sudo_result",
                             "user NOT in sudoers", "target_user", "root", "command", "/bin/ls",
                             NULL};
    data = audit_derive_pairs(d, refused, 8);
    root = audit_json(data);
    assert_member(root, "responseElements.Sudo", "Failure");
    assert_member(root, "errorCode", "SudoRefused");
    assert_member(root, "errorMessage", "user NOT in sudoers");
    json_decref(root);
    free(data);

    const char *cron[] = {"program", "CRON", "user", "root", "command", "run-parts", NULL};
    const char *other[] = {"program", "sshd", "message", "Connection closed", NULL};
    const char *pam[] = {"program", "sudo", "message", "pam_unix(sudo:auth): failure", NULL};
    assert_null(audit_derive_pairs(d, cron, 9));
    assert_null(audit_derive_pairs(d, other, 10));
    assert_null(audit_derive_pairs(d, pam, 11));
    tw_audit_deriver_free(d);
}

/* ---- speed (printed, never asserted) ---------------------------------------------- */

static void test_derive_speed(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    o.routes = "POST /orders = CreateOrder GET /orders/* = GetOrder";
    o.data_paths = "/files/**";
    tw_audit_deriver *d = audit_deriver(&o);
    const char *pairs[] = {
        "remote_addr", "203.0.113.195", "remote_user", "-", "time_local",
        "10/Oct/2023:13:55:36 +0000", "method", "GET", "path",
        "/products/12345/reviews?page=2", "protocol", "HTTP/1.1", "status", "200",
        "body_bytes_sent", "5120", "http_referer", "https://shop.example.com/products/12345",
        "http_user_agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/118.0.0.0 Safari/537.36", NULL};
    tw_log_record r = audit_record(pairs);
    tw_buf out = TW_BUF_INIT;
    const int n = 500000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        tw_buf_reset(&out);
        r.timestamp_ms = AUDIT_T0 + i;
        tw_audit_derive(d, &r, (uint64_t)i, &out);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("derive (nginx, %zu-byte events): %.0f events/s, %.0f ns each\n", out.len, n / s,
           s / n * 1e9);
    tw_buf_free(&out);
    tw_audit_deriver_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_write_request_is_a_complete_event),
        cmocka_unit_test(test_nginx_failed_read_is_anonymous_with_http_error),
        cmocka_unit_test(test_requests_without_a_request_line_make_no_event),
        cmocka_unit_test(test_read_requests_are_left_out_when_asked),
        cmocka_unit_test(test_default_names_replace_ids),
        cmocka_unit_test(test_route_map_names_events_first_match_wins),
        cmocka_unit_test(test_bad_route_maps_are_refused_with_the_rule),
        cmocka_unit_test(test_data_paths_make_data_events),
        cmocka_unit_test(test_forwarded_for_is_trusted_only_when_configured),
        cmocka_unit_test(test_user_comes_from_the_configured_field),
        cmocka_unit_test(test_text_is_escaped_and_capped),
        cmocka_unit_test(test_event_ids_are_deterministic),
        cmocka_unit_test(test_event_times_are_utc_seconds_within_four_digit_years),
        cmocka_unit_test(test_bad_options_are_refused),
        cmocka_unit_test(test_rails_request_is_a_complete_event),
        cmocka_unit_test(test_rails_params_over_100kb_are_omitted),
        cmocka_unit_test(test_ssh_logins_and_sudo_become_events),
        cmocka_unit_test(test_derive_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
