/* fuzz_audit_events.c — libFuzzer target for CloudTrail's request rules:
 * PutAuditEvents' body and eventData validator (audit_events.h), and
 * LookupEvents' parameters (lookup_events.h), which share the path from
 * hostile JSON to an error.
 *
 * The first byte picks the mode, the rest is the input:
 *   mode % 3 == 0: a PutAuditEvents body, decoded as dispatch.c does
 *                  (tw_json_decode); a channelArn is added unless bit 3 of
 *                  the mode byte is set, so the events' checks are reached;
 *   mode % 3 == 1: one eventData string, checked alone, its checksum right
 *                  when bit 3 is set and absent otherwise;
 *   mode % 3 == 2: a LookupEvents body.
 * Checked, beyond "no crash, no leak, no sanitizer report":
 *   - a refused request has a code, a message and status 400; an accepted
 *     one has no error;
 *   - every event either failed with one of the schema's error codes and a
 *     message, or was accepted with its eventName, eventSource and
 *     principalId, and then its stored record is valid JSON whose eventData
 *     equals what was validated;
 *   - a right checksum never yields InvalidChecksum.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_events.h"
#include "encode.h"
#include "hash.h"
#include "lookup_events.h"
#include "protocol.h"
#include "services.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ACCOUNT "123456789012"
#define CHANNEL "arn:aws:cloudtrail:us-east-1:" ACCOUNT ":channel/fuzz"
#define NOW INT64_C(1704067651123)

static const char *const event_codes[] = {"FieldTooLong", "FieldNotFound", "InvalidChecksum",
                                          "InvalidData", "InvalidRecipient",
                                          "InvalidEventSource", NULL};

static void call_init(tw_call *call, const tw_service *service, json_t *input)
{
    memset(call, 0, sizeof *call);
    call->service = service;
    call->protocol = TW_PROTOCOL_REST_JSON;
    call->region = "us-east-1";
    call->identity.account_id = ACCOUNT;
    call->now_ms = NOW;
    call->input = input;
}

static void check_refusal(const tw_call *call, int rc)
{
    if (rc == -EINVAL) {
        if (call->error.code == NULL || call->error.message.len == 0 || call->error.status != 400)
            abort();
    } else if (rc != 0 || call->error.code != NULL) {
        abort();
    }
}

static void check_event(const tw_audit_event *event)
{
    if (event->error_code != NULL) {
        bool known = false;
        for (const char *const *c = event_codes; *c != NULL; c++)
            known = known || strcmp(*c, event->error_code) == 0;
        if (!known || event->error_message[0] == '\0' || event->parsed != NULL)
            abort();
        return;
    }
    if (!json_is_object(event->parsed) || event->event_name == NULL
        || event->event_source == NULL || event->principal_id == NULL)
        abort();
    size_t len = 0;
    char *record = tw_audit_record(event, "11111111-2222-4333-8444-555555555555", "us-east-1",
                                   ACCOUNT, CHANNEL, NOW, &len);
    json_t *parsed = json_loadb(record, len, 0, NULL);
    if (parsed == NULL || !json_equal(json_object_get(parsed, "eventData"), event->parsed))
        abort();
    json_decref(parsed);
    free(record);
}

static void fuzz_request(const uint8_t *body, size_t len, bool add_channel)
{
    json_t *input = NULL;
    tw_err err;
    if (tw_json_decode(body, len, &input, &err) != 0)
        return;
    if (add_channel && json_object_get(input, "channelArn") == NULL)
        json_object_set_new(input, "channelArn", json_string(CHANNEL));
    tw_call call;
    call_init(&call, &tw_cloudtrail_data_service, input);
    tw_audit_request req;
    int rc = tw_audit_parse(&call, &req);
    check_refusal(&call, rc);
    for (size_t i = 0; rc == 0 && i < req.n_events; i++)
        check_event(&req.events[i]);
    tw_audit_request_free(&req);
    json_decref(input);
    tw_buf_free(&call.error.message);
}

static void fuzz_event_data(const uint8_t *text, size_t len, bool with_checksum)
{
    tw_audit_event event;
    memset(&event, 0, sizeof event);
    char *copy = malloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    event.id = "ev1";
    event.data = copy;
    event.data_len = len;
    tw_buf checksum = TW_BUF_INIT;
    if (with_checksum) {
        uint8_t digest[TW_SHA256_LEN];
        tw_sha256(text, len, digest);
        tw_base64_encode(digest, sizeof digest, &checksum);
        event.checksum = tw_buf_cstr(&checksum);
    }
    tw_audit_check_event(&event, ACCOUNT);
    if (with_checksum && event.error_code != NULL
        && strcmp(event.error_code, "InvalidChecksum") == 0)
        abort();
    check_event(&event);
    json_decref(event.parsed);
    tw_buf_free(&checksum);
    free(copy);
}

static void fuzz_lookup(const uint8_t *body, size_t len)
{
    json_t *input = NULL;
    tw_err err;
    if (tw_json_decode(body, len, &input, &err) != 0)
        return;
    tw_call call;
    call_init(&call, &tw_cloudtrail_service, input);
    call.protocol = TW_PROTOCOL_JSON_1_1;
    tw_lookup_query query;
    int rc = tw_lookup_parse(&call, 90, &query);
    check_refusal(&call, rc);
    if (rc == 0 && (query.max_results < 1 || query.max_results > TW_LOOKUP_MAX_RESULTS
                    || (query.attribute != TW_LOOKUP_NONE) != (query.value != NULL)))
        abort();
    json_decref(input);
    tw_buf_free(&call.error.message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    switch (mode % 3) {
    case 0: fuzz_request(data + 1, size - 1, !(mode & 8)); break;
    case 1: fuzz_event_data(data + 1, size - 1, mode & 8); break;
    default: fuzz_lookup(data + 1, size - 1); break;
    }
    return 0;
}
