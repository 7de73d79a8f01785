/* event_history.h — CloudTrail event history: every API call the collector
 * serves becomes a CloudTrail record (spec/cloudtrail.md §1) in the store,
 * kept 90 days per region; LookupEvents reads it; trails (issue 6) deliver it.
 *
 * tw_event_history_record() runs inside a store write job (call.c calls it
 * in the same transaction as the operation's own writes), so an operation and
 * its event are committed together or not at all.
 *
 * The table "events" (component "events") holds one row per record:
 *   seq        INTEGER PRIMARY KEY AUTOINCREMENT — monotonic, never reused:
 *              trails deliver "everything after seq N";
 *   record     the exact JSON text of the record, written once and never
 *              re-serialised (digests hash these bytes, issue 6);
 *   category   "Management", "Data" or "ActivityAuditLog" (PutAuditEvents);
 *   lookup     1 when LookupEvents shows the row (management events and
 *              ingested audit events), 0 for data events;
 *   region, time_ms (eventTime, whole seconds), event_id, event_name,
 *   event_source, username, access_key_id, read_only ('true'/'false'/NULL),
 *   resources (LookupEvents' Resources as JSON text, or NULL).
 * Each LookupEvents attribute has a partial index (region, column, time_ms)
 * WHERE lookup = 1; resources are indexed by type and by name in
 * "event_resource_keys".
 */
#ifndef TW_EVENT_HISTORY_H
#define TW_EVENT_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "store.h"

/* Builds the record of a finished call (eventVersion 1.08, userIdentity
 * IAMUser, eventTime, eventSource, eventName, awsRegion, sourceIPAddress,
 * userAgent, requestParameters, responseElements, errorCode/errorMessage,
 * requestID, eventID, readOnly, resources, eventType AwsApiCall,
 * managementEvent, recipientAccountId, eventCategory) and stores it.
 * Returns 0 or a negative errno. */
int tw_event_history_record(tw_db *db, tw_call *call);

/* The migrations of the event tables (component "events"). */
extern const tw_migration tw_event_history_migrations[];

/* ---- added by the CloudTrail engineer ---- */

/* Record caps of spec §1.1: longer userAgent, errorCode and errorMessage
 * are cut (on a UTF-8 boundary); requestParameters and responseElements
 * over the cap lose their largest members, which the record then lists in
 * additionalEventData.omittedRequestParameters / omittedResponseElements,
 * and the object gets "omitted": true. */
#define TW_EVENT_TEXT_CAP 1024
#define TW_EVENT_ELEMENTS_CAP (100 * 1024)

/* The record tw_event_history_record() stores for call, as a new object
 * (the caller json_decref()s it). Pure: reads call and nothing else, so it
 * may run on any thread. Member names of requestParameters and
 * responseElements are lowerCamelCase as CloudTrail shows them: an object
 * whose own members start with a capital (CloudWatch, CloudTrail's
 * PascalCase inputs) is converted at every depth; lowerCamel inputs (Logs,
 * DescribeTrails) are kept as they are, map keys included. Events of global
 * services (IAM, CloudFront, Route 53, sign-in) get awsRegion us-east-1
 * (spec §5.9). */
json_t *tw_event_history_build(const tw_call *call);

/* The region a call's event is recorded in: call->region, or us-east-1 for
 * a global service (spec §5.9). */
const char *tw_event_history_region(const tw_call *call);

/* One row of the history. Strings are borrowed; NULL = none. */
typedef struct tw_event_row {
    const char *region;
    int64_t time_ms; /* eventTime, whole seconds (ms part 0) */
    const char *category;
    bool lookup; /* shown by LookupEvents */
    const char *event_id;
    const char *event_name;
    const char *event_source;
    const char *username;
    const char *access_key_id;
    const char *read_only; /* "true", "false" or NULL */
    /* [{"ARN","accountId","type"}] of the record, or NULL: indexed for
     * ResourceType/ResourceName and shown as LookupEvents' Resources. */
    const json_t *resources;
    const char *record; /* the exact JSON text */
    size_t record_len;
} tw_event_row;

/* Inserts row (inside the caller's write job). *seq (may be NULL) gets the
 * row's sequence number. Returns 0 or -EIO. */
int tw_event_history_insert(tw_db *db, const tw_event_row *row, int64_t *seq);

/* The name LookupEvents shows (and ResourceName matches, beside the full
 * ARN) for a resource ARN: the part after the resource type, without a
 * trailing ":*" ("arn:aws:logs:r:a:log-group:/app/web:*" -> "/app/web",
 * "arn:aws:cloudtrail:r:a:trail/t1" -> "t1", "arn:aws:s3:::bucket" ->
 * "bucket"). Appends to out. */
void tw_event_history_resource_name(const char *arn, tw_buf *out);

/* Retention (spec §5.4: 90 days per region, [cloudtrail]
 * event_history_days): deletes at most budget events whose eventTime is
 * before now_ms - days, with their resource keys. *deleted gets the count,
 * *more whether older events remain. A write job; LookupEvents applies the
 * same cutoff, so nothing older is ever shown between sweeps. */
int tw_event_history_expire(tw_db *db, int64_t now_ms, int64_t days, size_t budget,
                            size_t *deleted, bool *more);

#endif
