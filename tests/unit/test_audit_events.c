/* test_audit_events.c — PutAuditEvents' rules (spec/cloudtrail.md §6):
 * every request-level error (ValidationException, InvalidChannelARN,
 * ChannelNotFound, ChannelInsufficientPermission, DuplicatedAuditEventId),
 * every per-event errorCode (InvalidChecksum, InvalidData, FieldNotFound,
 * FieldTooLong, InvalidEventSource, InvalidRecipient), and the stored
 * record of an accepted event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_events.h"
#include "encode.h"
#include "hash.h"
#include "services.h"

#define ACCOUNT "123456789012"
#define CHANNEL "arn:aws:cloudtrail:us-east-1:" ACCOUNT ":channel/01234567-89ab-cdef-0123-456789abcdef"
#define NOW INT64_C(1704067651123)

/* A valid eventData, with every optional field. */
static const char valid_data[] =
    "{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"CustomUser\",\"principalId\":\"carol\","
    "\"details\":{\"team\":\"ops\"}},\"userAgent\":\"app/1.0\",\"eventSource\":\"myapp.example\","
    "\"eventName\":\"Login\",\"eventTime\":\"2024-01-01T00:00:05Z\",\"UID\":\"req-1\","
    "\"requestParameters\":{\"a\":1},\"responseElements\":{\"ok\":true},\"errorCode\":\"E\","
    "\"errorMessage\":\"m\",\"sourceIPAddress\":\"192.0.2.1\",\"recipientAccountId\":\"" ACCOUNT
    "\",\"additionalEventData\":{\"x\":\"y\"}}";

static void call_init(tw_call *call, json_t *input)
{
    memset(call, 0, sizeof *call);
    call->service = &tw_cloudtrail_data_service;
    call->protocol = TW_PROTOCOL_REST_JSON;
    call->region = "us-east-1";
    call->identity.account_id = ACCOUNT;
    call->now_ms = NOW;
    call->input = input;
}

static void call_free(tw_call *call)
{
    json_decref(call->input);
    tw_buf_free(&call->error.message);
}

/* {"channelArn": channel, "auditEvents": [{"id": "ev<i>", "eventData": data[i]}]} */
static json_t *request_of(const char *channel, const char *const *data, size_t n)
{
    json_t *events = json_array();
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "ev%zu", i + 1);
        json_array_append_new(events, json_pack("{s:s, s:s}", "id", id, "eventData", data[i]));
    }
    json_t *input = json_pack("{s:o}", "auditEvents", events);
    if (channel != NULL)
        json_object_set_new(input, "channelArn", json_string(channel));
    return input;
}

static void assert_request_refused(json_t *input, const char *code, const char *message_part)
{
    tw_call call;
    tw_audit_request req;
    call_init(&call, input);
    assert_int_equal(tw_audit_parse(&call, &req), -EINVAL);
    assert_non_null(call.error.code);
    assert_string_equal(call.error.code, code);
    assert_int_equal(call.error.status, 400);
    if (strstr(tw_buf_cstr(&call.error.message), message_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", tw_buf_cstr(&call.error.message), message_part);
    tw_audit_request_free(&req);
    call_free(&call);
}

/* ---- the request -------------------------------------------------------------- */

static void test_valid_request_is_parsed_with_its_channel(void **state)
{
    (void)state;
    const char *data[] = {valid_data, valid_data};
    tw_call call;
    tw_audit_request req;
    call_init(&call, request_of(CHANNEL, data, 2));
    json_object_set_new(call.input, "externalId", json_string("ext-1"));
    assert_int_equal(tw_audit_parse(&call, &req), 0);
    assert_null(call.error.code);
    assert_string_equal(req.channel_arn, CHANNEL);
    assert_string_equal(req.external_id, "ext-1");
    assert_int_equal(req.n_events, 2);
    assert_string_equal(req.events[1].id, "ev2");
    assert_null(req.events[0].error_code);
    assert_string_equal(req.events[0].event_name, "Login");
    assert_string_equal(req.events[0].event_source, "myapp.example");
    assert_string_equal(req.events[0].principal_id, "carol");
    assert_int_equal(req.events[0].time_ms, INT64_C(1704067205000));
    tw_audit_request_free(&req);
    call_free(&call);

    /* The channel id alone (the ARN suffix) names a channel of this
     * account and region. */
    call_init(&call, request_of("01234567-89ab-cdef-0123-456789abcdef", data, 1));
    assert_int_equal(tw_audit_parse(&call, &req), 0);
    assert_string_equal(req.channel_arn, CHANNEL);
    tw_audit_request_free(&req);
    call_free(&call);
}

static void test_bad_channel_arns_are_refused(void **state)
{
    (void)state;
    const char *data[] = {valid_data};
    assert_request_refused(request_of(NULL, data, 1), "ValidationException",
                           "Value null at 'channelArn' failed to satisfy constraint: Member must "
                           "not be null");
    const char *bad[] = {
        "arn:aws:foo",
        "arn:aws:s3:us-east-1:" ACCOUNT ":channel/x",
        "arn:aws:cloudtrail:us-east-1:12345:channel/x",
        "arn:aws:cloudtrail:us-east-1:" ACCOUNT ":trail/x",
        "arn:aws:cloudtrail:us-east-1:" ACCOUNT ":channel/",
        "arn:other:cloudtrail:us-east-1:" ACCOUNT ":channel/x",
        "not a channel",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_request_refused(request_of(bad[i], data, 1), "InvalidChannelARN",
                               "The specified channel ARN is not a valid channel ARN");
    assert_request_refused(
        request_of("arn:aws:cloudtrail:us-east-1:999999999999:channel/x", data, 1),
        "ChannelInsufficientPermission",
        "The caller's account ID (123456789012) must be the same as the channel owner's account "
        "ID (999999999999).");
    assert_request_refused(request_of("arn:aws:cloudtrail:eu-west-2:" ACCOUNT ":channel/x",
                                      data, 1),
                           "ChannelNotFound", "The channel could not be found");
    json_t *input = request_of(CHANNEL, data, 1);
    json_object_set_new(input, "channelArn", json_integer(7));
    assert_request_refused(input, "ValidationException", "channelArn");
}

static void test_external_id_length_and_pattern_are_checked(void **state)
{
    (void)state;
    const char *data[] = {valid_data};
    const char *bad[] = {"x", "has space", "semi;colon"};
    for (size_t i = 0; i < 3; i++) {
        json_t *input = request_of(CHANNEL, data, 1);
        json_object_set_new(input, "externalId", json_string(bad[i]));
        assert_request_refused(input, "ValidationException", "at 'externalId'");
    }
    char long_id[1300];
    memset(long_id, 'a', 1225);
    long_id[1225] = '\0';
    json_t *input = request_of(CHANNEL, data, 1);
    json_object_set_new(input, "externalId", json_string(long_id));
    assert_request_refused(input, "ValidationException", "have length between 2 and 1224");
}

static void test_audit_events_count_ids_and_size_are_checked(void **state)
{
    (void)state;
    json_t *input = json_pack("{s:s}", "channelArn", CHANNEL);
    assert_request_refused(input, "ValidationException", "at 'auditEvents'");
    assert_request_refused(request_of(CHANNEL, NULL, 0), "ValidationException",
                           "have length between 1 and 100");
    const char *many[101];
    for (size_t i = 0; i < 101; i++)
        many[i] = valid_data;
    assert_request_refused(request_of(CHANNEL, many, 101), "ValidationException",
                           "Value '[101 events]' at 'auditEvents' failed to satisfy constraint: "
                           "Member must have length between 1 and 100");

    const char *data[] = {valid_data, valid_data};
    input = request_of(CHANNEL, data, 2);
    json_object_set_new(json_array_get(json_object_get(input, "auditEvents"), 1), "id",
                        json_string("ev1"));
    assert_request_refused(input, "DuplicatedAuditEventId",
                           "Two or more entries in the request have the same event ID: ev1.");

    input = request_of(CHANNEL, data, 1);
    json_object_set_new(json_array_get(json_object_get(input, "auditEvents"), 0), "id",
                        json_string("bad id!"));
    assert_request_refused(input, "ValidationException",
                           "at 'auditEvents.1.member.id' failed to satisfy constraint: Member "
                           "must satisfy regular expression pattern: ^[-_A-Za-z0-9]+$");
    char long_id[200];
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    input = request_of(CHANNEL, data, 1);
    json_object_set_new(json_array_get(json_object_get(input, "auditEvents"), 0), "id",
                        json_string(long_id));
    assert_request_refused(input, "ValidationException", "have length between 1 and 128");

    input = request_of(CHANNEL, data, 1);
    json_object_del(json_array_get(json_object_get(input, "auditEvents"), 0), "eventData");
    assert_request_refused(input, "ValidationException",
                           "Value null at 'auditEvents.1.member.eventData'");
    input = request_of(CHANNEL, data, 1);
    json_object_set_new(json_array_get(json_object_get(input, "auditEvents"), 0), "eventData",
                        json_pack("{s:s}", "version", "1.0"));
    assert_request_refused(input, "ValidationException", "auditEvents.1.member.eventData");

    /* 1 MB of events in total. */
    size_t big_len = 300 * 1024;
    char *big = malloc(big_len + 1);
    memset(big, ' ', big_len);
    big[big_len] = '\0';
    const char *bigs[] = {big, big, big, big};
    assert_request_refused(request_of(CHANNEL, bigs, 4), "ValidationException",
                           "must not exceed 1 MB");
    free(big);
}

/* ---- each event ----------------------------------------------------------------- */

static tw_audit_event event_of(const char *data)
{
    tw_audit_event event;
    memset(&event, 0, sizeof event);
    event.id = "ev1";
    event.data = data;
    event.data_len = strlen(data);
    return event;
}

static void assert_event(const char *data, const char *code, const char *message_part)
{
    tw_audit_event event = event_of(data);
    tw_audit_check_event(&event, ACCOUNT);
    if (code == NULL) {
        if (event.error_code != NULL)
            fail_msg("%s refused: %s %s", data, event.error_code, event.error_message);
        assert_non_null(event.parsed);
    } else {
        if (event.error_code == NULL)
            fail_msg("%s accepted, expected %s", data, code);
        assert_string_equal(event.error_code, code);
        assert_null(event.parsed);
        if (strstr(event.error_message, message_part) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", event.error_message, message_part);
    }
    json_decref(event.parsed);
}

/* valid_data with one field replaced (value NULL = removed). */
static char *with_field(const char *field, json_t *value)
{
    json_t *data = json_loads(valid_data, 0, NULL);
    if (value == NULL)
        json_object_del(data, field);
    else
        json_object_set_new(data, field, value);
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    return text;
}

static void assert_field(const char *field, json_t *value, const char *code, const char *part)
{
    char *data = with_field(field, value);
    assert_event(data, code, part);
    free(data);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_checksum_must_be_base64_sha256_of_event_data(void **state)
{
    (void)state;
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(valid_data, strlen(valid_data), digest);
    tw_buf good = TW_BUF_INIT;
    tw_base64_encode(digest, sizeof digest, &good);
    tw_audit_event event = event_of(valid_data);
    event.checksum = tw_buf_cstr(&good);
    tw_audit_check_event(&event, ACCOUNT);
    assert_null(event.error_code);
    json_decref(event.parsed);

    const char *bad[] = {"AAAA", "not base64", "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="};
    for (size_t i = 0; i < 4; i++) {
        event = event_of(valid_data);
        event.checksum = bad[i];
        tw_audit_check_event(&event, ACCOUNT);
        assert_string_equal(event.error_code, "InvalidChecksum");
        assert_null(event.parsed);
    }
    /* Hex is not what the API takes. */
    char hex[TW_SHA256_HEX_LEN + 1];
    tw_sha256_hex(valid_data, strlen(valid_data), hex);
    event = event_of(valid_data);
    event.checksum = hex;
    tw_audit_check_event(&event, ACCOUNT);
    assert_string_equal(event.error_code, "InvalidChecksum");
    tw_buf_free(&good);
}

static void test_event_data_must_be_a_json_object(void **state)
{
    (void)state;
    assert_event(valid_data, NULL, NULL);
    assert_event("{\"version\":", "InvalidData", "not valid JSON");
    assert_event("[1,2]", "InvalidData", "must be a JSON object");
    assert_event("\"text\"", "InvalidData", "not valid JSON");
    assert_event("", "InvalidData", "not valid JSON");
    /* A field twice is ambiguous. */
    char dup[2048];
    snprintf(dup, sizeof dup, "{\"eventName\":\"A\",%s", valid_data + 1);
    assert_event(dup, "InvalidData", "not valid JSON");
    char *huge = repeat(' ', TW_AUDIT_MAX_EVENT_BYTES + 1);
    assert_event(huge, "FieldTooLong", "eventData is longer than 262144 bytes");
    free(huge);
}

static void test_required_fields_must_be_present(void **state)
{
    (void)state;
    const char *required[] = {"version", "userIdentity", "eventSource", "eventName",
                              "eventTime", "UID", "recipientAccountId"};
    for (size_t i = 0; i < 7; i++) {
        char part[64];
        snprintf(part, sizeof part, "The required field %s is missing.", required[i]);
        assert_field(required[i], NULL, "FieldNotFound", part);
    }
    assert_field("userIdentity", json_pack("{s:s}", "type", "x"), "FieldNotFound",
                 "The required field userIdentity.principalId is missing.");
    assert_field("userIdentity", json_pack("{s:s}", "principalId", "x"), "FieldNotFound",
                 "userIdentity.type");
    const char *optional[] = {"userAgent", "requestParameters", "responseElements", "errorCode",
                              "errorMessage", "sourceIPAddress", "additionalEventData"};
    for (size_t i = 0; i < 7; i++)
        assert_field(optional[i], NULL, NULL, NULL);
}

static void test_fields_must_have_their_types(void **state)
{
    (void)state;
    assert_field("version", json_integer(1), "InvalidData", "The field version must be a string.");
    assert_field("userIdentity", json_string("carol"), "InvalidData", "must be a JSON object");
    assert_field("requestParameters", json_string("a=1"), "InvalidData",
                 "The field requestParameters must be a JSON object.");
    assert_field("eventTime", json_integer(1704067200), "InvalidData", "eventTime");
    assert_field("userIdentity", json_pack("{s:s, s:i}", "type", "t", "principalId", 5),
                 "InvalidData", "The field userIdentity.principalId must be a string.");
    assert_field("userIdentity", json_pack("{s:s, s:s, s:s}", "type", "t", "principalId", "p",
                                           "details", "d"),
                 "InvalidData", "userIdentity.details must be a JSON object");
    assert_field("colour", json_string("blue"), "InvalidData",
                 "The field colour is not part of the audit event schema.");
    assert_field("userIdentity", json_pack("{s:s, s:s, s:s}", "type", "t", "principalId", "p",
                                           "arn", "a"),
                 "InvalidData", "userIdentity.arn is not part of the audit event schema");
    assert_field("eventName", json_string(""), "InvalidData", "eventName must not be empty");
}

static void test_fields_longer_than_their_limits_are_refused(void **state)
{
    (void)state;
    struct {
        const char *field;
        size_t limit;
    } strings[] = {{"version", 256},  {"userAgent", 1024},   {"eventSource", 1024},
                   {"eventName", 1024}, {"UID", 1024},       {"errorCode", 256},
                   {"errorMessage", 256}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        char *at_limit = repeat('a', strings[i].limit);
        char *over = repeat('a', strings[i].limit + 1);
        assert_field(strings[i].field, json_string(at_limit), NULL, NULL);
        char part[96];
        snprintf(part, sizeof part, "The field %s is longer than %zu characters.",
                 strings[i].field, strings[i].limit);
        assert_field(strings[i].field, json_string(over), "FieldTooLong", part);
        free(at_limit);
        free(over);
    }
    /* Characters, not bytes: 256 two-byte characters fit version. */
    tw_buf accents = TW_BUF_INIT;
    for (int i = 0; i < 256; i++)
        tw_buf_puts(&accents, "\xc3\xa9");
    assert_field("version", json_string(tw_buf_cstr(&accents)), NULL, NULL);
    tw_buf_free(&accents);

    char *type = repeat('t', 129);
    assert_field("userIdentity", json_pack("{s:s, s:s}", "type", type, "principalId", "p"),
                 "FieldTooLong", "userIdentity.type is longer than 128 characters");
    free(type);
    char *principal = repeat('p', 1025);
    assert_field("userIdentity", json_pack("{s:s, s:s}", "type", "t", "principalId", principal),
                 "FieldTooLong", "userIdentity.principalId");
    free(principal);

    /* Objects are measured as compact JSON: 100 KB, 100 KB, 28 KB. */
    char *value = repeat('v', 100 * 1024);
    assert_field("requestParameters", json_pack("{s:s}", "k", value), "FieldTooLong",
                 "The field requestParameters is longer than 102400 bytes.");
    assert_field("responseElements", json_pack("{s:s}", "k", value), "FieldTooLong",
                 "responseElements");
    free(value);
    value = repeat('v', 28 * 1024);
    assert_field("additionalEventData", json_pack("{s:s}", "k", value), "FieldTooLong",
                 "additionalEventData is longer than 28672 bytes");
    free(value);
    value = repeat('v', 28 * 1024 - 20);
    assert_field("additionalEventData", json_pack("{s:s}", "k", value), NULL, NULL);
    free(value);
}

static void test_event_time_must_be_utc_seconds(void **state)
{
    (void)state;
    const char *good[] = {"2024-01-01T00:00:05Z", "2024-01-01T00:00:05", "2024-01-01T00:00:05.250Z"};
    for (size_t i = 0; i < 3; i++)
        assert_field("eventTime", json_string(good[i]), NULL, NULL);
    const char *bad[] = {"2024-01-01 00:00:05Z", "2024-01-01T00:00:05+02:00", "yesterday",
                         "2024-13-01T00:00:05Z", "2024-01-01T00:00Z", "1704067205",
                         "2024-01-01T00:00:05ZZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_field("eventTime", json_string(bad[i]), "InvalidData",
                     "The field eventTime must be a UTC time");
    tw_audit_event event = event_of(valid_data);
    tw_audit_check_event(&event, ACCOUNT);
    assert_int_equal(event.time_ms, INT64_C(1704067205000));
    json_decref(event.parsed);
}

static void test_source_ip_must_be_an_address(void **state)
{
    (void)state;
    assert_field("sourceIPAddress", json_string("2001:db8::1"), NULL, NULL);
    assert_field("sourceIPAddress", json_string("10.0.0.1"), NULL, NULL);
    assert_field("sourceIPAddress", json_string("10.0.0.256"), "InvalidData",
                 "sourceIPAddress must be an IPv4 or IPv6 address");
    assert_field("sourceIPAddress", json_string("example.com"), "InvalidData", "IPv4 or IPv6");
}

static void test_event_source_must_not_be_an_aws_service(void **state)
{
    (void)state;
    assert_field("eventSource", json_string("s3.amazonaws.com"), "InvalidEventSource",
                 "not an AWS service");
    assert_field("eventSource", json_string(""), "InvalidEventSource", "is not valid");
    assert_field("eventSource", json_string("partner.example.com"), NULL, NULL);
}

static void test_recipient_must_be_the_channel_owner(void **state)
{
    (void)state;
    assert_field("recipientAccountId", json_string("111111111111"), "InvalidRecipient",
                 "The recipientAccountId 111111111111 is not the channel owner's account "
                 "123456789012.");
    assert_field("recipientAccountId", json_string("1234567890123"), "InvalidRecipient",
                 "not the channel owner's account");
    assert_field("recipientAccountId", json_integer(123456789012), "InvalidData",
                 "recipientAccountId must be a string");
}

static void test_failed_events_leave_the_others_valid(void **state)
{
    (void)state;
    const char *data[] = {valid_data, "{}", valid_data};
    tw_call call;
    tw_audit_request req;
    call_init(&call, request_of(CHANNEL, data, 3));
    assert_int_equal(tw_audit_parse(&call, &req), 0);
    assert_null(req.events[0].error_code);
    assert_string_equal(req.events[1].error_code, "FieldNotFound");
    assert_null(req.events[2].error_code);
    tw_audit_request_free(&req);
    call_free(&call);
}

/* ---- the stored record ------------------------------------------------------------ */

static void test_stored_record_wraps_event_data_as_sent(void **state)
{
    (void)state;
    char data[2048];
    /* Blanks and key order as the sender wrote them. */
    snprintf(data, sizeof data, "  %s\n", valid_data);
    tw_audit_event event = event_of(data);
    tw_audit_check_event(&event, ACCOUNT);
    assert_null(event.error_code);
    size_t len = 0;
    char *record = tw_audit_record(&event, "11111111-2222-4333-8444-555555555555", "us-east-1",
                                   ACCOUNT, CHANNEL, NOW, &len);
    assert_int_equal(strlen(record), len);
    char expected[4096];
    snprintf(expected, sizeof expected,
             "{\"eventVersion\":\"1.08\",\"eventCategory\":\"ActivityAuditLog\","
             "\"eventType\":\"ActivityLog\",\"eventID\":\"11111111-2222-4333-8444-555555555555\","
             "\"eventTime\":\"2024-01-01T00:00:05Z\",\"awsRegion\":\"us-east-1\","
             "\"recipientAccountId\":\"123456789012\",\"metadata\":{\"ingestionTime\":"
             "\"2024-01-01T00:07:31Z\",\"channelARN\":\"%s\"},\"eventData\":%s}",
             CHANNEL, valid_data);
    assert_string_equal(record, expected);
    json_t *parsed = json_loads(record, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(parsed);
    assert_true(json_equal(json_object_get(parsed, "eventData"), event.parsed));
    json_decref(parsed);
    free(record);
    json_decref(event.parsed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_request_is_parsed_with_its_channel),
        cmocka_unit_test(test_bad_channel_arns_are_refused),
        cmocka_unit_test(test_external_id_length_and_pattern_are_checked),
        cmocka_unit_test(test_audit_events_count_ids_and_size_are_checked),
        cmocka_unit_test(test_checksum_must_be_base64_sha256_of_event_data),
        cmocka_unit_test(test_event_data_must_be_a_json_object),
        cmocka_unit_test(test_required_fields_must_be_present),
        cmocka_unit_test(test_fields_must_have_their_types),
        cmocka_unit_test(test_fields_longer_than_their_limits_are_refused),
        cmocka_unit_test(test_event_time_must_be_utc_seconds),
        cmocka_unit_test(test_source_ip_must_be_an_address),
        cmocka_unit_test(test_event_source_must_not_be_an_aws_service),
        cmocka_unit_test(test_recipient_must_be_the_channel_owner),
        cmocka_unit_test(test_failed_events_leave_the_others_valid),
        cmocka_unit_test(test_stored_record_wraps_event_data_as_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
