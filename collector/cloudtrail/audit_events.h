/* audit_events.h — the rules of CloudTrail Lake's PutAuditEvents
 * (spec/cloudtrail.md §6): the request (channel ARN, externalId, 1 to 100
 * events, 1 MB, event ids) and each event's eventData against the
 * audit-event schema, and the record CloudTrail stores for an accepted event.
 *
 * Pure: no I/O and no store, so every byte of a request can be fuzzed
 * (tests/fuzz/fuzz_audit_events.c). audit_ingest.c stores what passes.
 *
 * Ownership: a tw_audit_request borrows the call's input (ids, eventData
 * text) and owns its events array, their parsed eventData and the channel
 * ARN; tw_audit_request_free() releases them.
 */
#ifndef TW_AUDIT_EVENTS_H
#define TW_AUDIT_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"

#define TW_AUDIT_MAX_EVENTS 100
#define TW_AUDIT_MAX_REQUEST_BYTES (1024 * 1024)
#define TW_AUDIT_MAX_EVENT_BYTES (256 * 1024) /* one event (spec §1.1) */
#define TW_AUDIT_ID_MAX 128

/* One entry of auditEvents and, after the checks, its outcome. */
typedef struct tw_audit_event {
    const char *id;        /* 1..128 of [-_A-Za-z0-9] */
    const char *data;      /* eventData: JSON text as sent */
    size_t data_len;
    const char *checksum;  /* eventDataChecksum, NULL when absent */
    /* The per-event failure (spec §6: FieldTooLong, FieldNotFound,
     * InvalidChecksum, InvalidData, InvalidRecipient, InvalidEventSource),
     * NULL when the event is valid. */
    const char *error_code;
    char error_message[256];
    /* Valid events only. */
    json_t *parsed;           /* eventData as an object (owned) */
    int64_t time_ms;          /* eventData.eventTime, whole seconds */
    const char *event_name;   /* borrowed from parsed */
    const char *event_source;
    const char *principal_id; /* userIdentity.principalId: LookupEvents' Username */
    /* additionalEventData.readOnly as "true" or "false" (LookupEvents'
     * ReadOnly: the agent's derived events say there whether the request
     * could change state), NULL when absent or not a boolean. */
    const char *read_only;
} tw_audit_event;

typedef struct tw_audit_request {
    char *channel_arn;        /* the full ARN, also when the request gave the id only */
    const char *external_id;  /* NULL when absent */
    tw_audit_event *events;
    size_t n_events;
} tw_audit_request;

/* Reads call->input ({"auditEvents":[...], "channelArn", "externalId"}, the
 * last two from the query string) for an ingestion by
 * call->identity.account_id in call->region, then checks every event
 * (tw_audit_check_event). Returns 0 (some events may still have failed:
 * see error_code), or -EINVAL after tw_call_fail() with a request-level
 * error: ValidationException (a member missing, of the wrong type or out of
 * its length/pattern/count, or more than 1 MB of events), InvalidChannelARN,
 * ChannelNotFound (a channel of another region),
 * ChannelInsufficientPermission (of another account),
 * DuplicatedAuditEventId (an id twice in the request). *req is always
 * initialised; free it with tw_audit_request_free(). */
int tw_audit_parse(tw_call *call, tw_audit_request *req);

/* Checks one event's checksum and eventData; sets error_code and
 * error_message, or parsed, time_ms and the names. account_id is the
 * channel owner's: recipientAccountId must equal it. */
void tw_audit_check_event(tw_audit_event *event, const char *account_id);

void tw_audit_request_free(tw_audit_request *req);

/* The record CloudTrail stores for an accepted event (spec §6 "stored
 * record"): eventVersion, eventCategory "ActivityAuditLog", eventType
 * "ActivityLog", eventID, eventTime (eventData's, normalised to
 * YYYY-MM-DDTHH:MM:SSZ), awsRegion, recipientAccountId, metadata
 * {ingestionTime, channelARN}, and eventData exactly as sent. Returns
 * malloc'd JSON text (*len its length). */
char *tw_audit_record(const tw_audit_event *event, const char *event_id, const char *region,
                      const char *account_id, const char *channel_arn, int64_t now_ms,
                      size_t *len);

#endif
