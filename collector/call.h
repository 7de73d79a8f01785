/* call.h — one AWS API call, as the services see it.
 *
 * dispatch.c turns an authenticated HTTP request into a tw_call: it works out
 * the protocol (JSON 1.1, JSON 1.0, query, CBOR, REST-JSON), the service from
 * the SigV4 credential scope and the operation, decodes the request into a
 * jansson object whose members are the AWS model's members (whatever the
 * protocol: query "A.member.1.B=x" becomes {"A":[{"B":"x"}]}, a CBOR map
 * becomes the same object), and calls the operation's handler.
 *
 * A handler reads call->input, does its work (usually as a store job: see
 * tw_call_write), then either sets call->output or calls tw_call_fail(), and
 * finally tw_call_finish(). tw_call_finish() records the call as a CloudTrail
 * event (unless the operation says not to, or it was recorded already inside
 * a write job), encodes the output or error in the request's own protocol,
 * answers, and frees the call.
 *
 * Values from the query protocol arrive as strings ("1.5", "true",
 * "2024-01-01T00:00:00Z"); handlers read members through the tw_input_*
 * helpers, which accept every protocol's spelling of a number, boolean or
 * timestamp and fill a clear error naming the member when it is wrong.
 *
 * Ownership: the call owns input, output and the event_* objects (json_decref
 * on free); a handler that sets call->output gives up its reference.
 */
#ifndef TW_COLLECTOR_CALL_H
#define TW_COLLECTOR_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "store.h"

typedef struct tw_collector tw_collector;
typedef struct tw_collector_user tw_collector_user;

typedef enum tw_protocol {
    TW_PROTOCOL_JSON_1_1,  /* POST /, X-Amz-Target: Prefix.Op, application/x-amz-json-1.1 */
    TW_PROTOCOL_JSON_1_0,  /* the same with json-1.0 (CloudWatch, awsQueryCompatible) */
    TW_PROTOCOL_QUERY,     /* Action=Op form POST (or GET), XML responses (CloudWatch) */
    TW_PROTOCOL_CBOR,      /* Smithy RPC v2 CBOR: POST /service/S/operation/Op */
    TW_PROTOCOL_REST_JSON, /* cloudtrail-data: POST /PutAuditEvents?channelArn=... */
    TW_PROTOCOL_S3,        /* REST/XML, path-style (trails, issue 6) */
} tw_protocol;

const char *tw_protocol_name(tw_protocol protocol);

typedef struct tw_api_error {
    const char *code;       /* NULL = no error. JSON/CBOR __type and REST x-amzn-ErrorType */
    const char *query_code; /* awsQuery <Code> and x-amzn-query-error; NULL = code */
    int status;             /* HTTP status */
    bool server_fault;      /* Receiver (5xx) rather than Sender */
    tw_buf message;
} tw_api_error;

struct tw_call;
typedef void (*tw_handler)(struct tw_call *call);

enum tw_operation_flags {
    TW_OP_READ_ONLY = 1 << 0,    /* Describe/Get/List: readOnly true in its event */
    TW_OP_DATA_EVENT = 1 << 1,   /* data plane (PutLogEvents, PutMetricData...):
                                    eventCategory Data, not in LookupEvents */
    TW_OP_NOT_RECORDED = 1 << 2, /* never becomes a CloudTrail event */
};

typedef struct tw_operation {
    const char *name; /* "PutLogEvents" */
    tw_handler handler;
    unsigned flags;
    /* Output members that hold timestamps and maps, at any depth, by member
     * name: how the query (XML), JSON 1.0 and CBOR encoders know a number is
     * a time (ISO string / epoch seconds / CBOR tag 1) and an object is a map
     * (<entry><key/><value/></entry>). NULL-terminated; NULL = none. Output
     * timestamps are stored in call->output as epoch milliseconds integers. */
    const char *const *timestamp_members;
    const char *const *map_members;
} tw_operation;

typedef struct tw_service {
    const char *signing_name;      /* credential-scope service: "logs" */
    const char *event_source;      /* CloudTrail eventSource: "logs.amazonaws.com" */
    const char *json_target_prefix; /* "Logs_20140328" (also accepted: with namespace) */
    const char *xml_namespace;     /* query protocol: "http://monitoring.amazonaws.com/doc/2010-08-01/" */
    const tw_operation *operations;
    size_t n_operations;
    const tw_migration *migrations; /* its tables; ends with component NULL */
    /* The service's codes for a bad or a missing member (tw_input_*):
     * logs "InvalidParameterException"; monitoring
     * "InvalidParameterValueException" (query "InvalidParameterValue") and
     * "MissingRequiredParameterException" (query "MissingParameter"). */
    const char *invalid_parameter_code, *invalid_parameter_query_code;
    const char *missing_parameter_code, *missing_parameter_query_code;
    /* Optional background work beside the calls (the Logs retention sweep):
     * main.c calls start(collector) on the loop once the store is open and
     * keeps what it returns in collector->service_states[i] (i = the
     * service's index in collector->services); at shutdown it calls
     * stop(state) before tw_store_close(), which then still runs the done
     * callbacks of the service's queued jobs. stop closes the service's
     * handles; their memory is freed by the close callbacks, so the loop must
     * run once more (as the shutdown does anyway). NULL = none. */
    void *(*start)(tw_collector *collector);
    void (*stop)(void *state);
} tw_service;

typedef struct tw_identity {
    const tw_collector_user *user;
    const char *access_key_id;
    const char *account_id;
    const char *session_token; /* NULL unless the request carried one */
} tw_identity;

typedef struct tw_call {
    tw_collector *collector;
    tw_http_request *http;
    tw_protocol protocol;
    const tw_service *service;
    const tw_operation *operation;
    const char *region;
    tw_identity identity;
    char request_id[37]; /* lower-case UUID v4; also x-amzn-RequestId */
    char event_id[37];   /* the CloudTrail eventID this call will get */
    int64_t now_ms;      /* when the call was received */
    json_t *input;       /* never NULL: {} when the request had no members */
    json_t *output;      /* set by the handler; NULL = no members */
    tw_api_error error;
    /* What the CloudTrail event shows. NULL = the defaults: requestParameters
     * = input (for writes) or input (for reads) with large members dropped;
     * responseElements = null for reads and failures, output for writes. */
    json_t *event_request_parameters;
    json_t *event_response_elements;
    json_t *event_resources; /* [{"ARN":..,"accountId":..,"type":..}] or NULL */
    bool event_recorded;     /* set once the event is in the store */
    const char *batch_id;    /* X-Trailwatch-Batch-Id: replays of a batch are no-ops */
    void *state;             /* the handler's own, between its stages */
} tw_call;

/* Sets the error; message is a printf format. Returns -EINVAL so handlers can
 * `return tw_call_fail(...)` inside store jobs. query_code may be NULL. */
int tw_call_fail(tw_call *call, const char *code, int status, const char *fmt, ...)
    TW_PRINTF(4, 5);
int tw_call_fail_query(tw_call *call, const char *code, const char *query_code, int status,
                       const char *fmt, ...) TW_PRINTF(5, 6);

/* Records, encodes, answers and frees. Loop thread only. */
void tw_call_finish(tw_call *call);

/* Runs fn(db, call) on the store's writer thread; in the same transaction the
 * call's CloudTrail event and batch id are stored (after fn, so the event
 * sees the outcome fn set), then done(call) runs on the loop (done usually
 * ends with tw_call_finish). fn's non-zero return rolls back fn's changes but
 * still records the (failed) call. */
void tw_call_write(tw_call *call, int (*fn)(tw_db *db, tw_call *call),
                   void (*done)(tw_call *call));
/* Runs fn on a reader thread, then done on the loop. */
void tw_call_read(tw_call *call, int (*fn)(tw_db *db, tw_call *call),
                  void (*done)(tw_call *call));

/* ---- reading input members (any protocol's spelling) ----
 * Each returns 0 when the member is present and valid, -ENOENT when absent
 * (out untouched), or -EINVAL after tw_call_fail() with the service's
 * invalid-parameter code and a message naming the member. The _required
 * forms fail an absent member with the service's missing-parameter code. */
int tw_input_string(tw_call *call, json_t *obj, const char *member, const char **out);
int tw_input_int(tw_call *call, json_t *obj, const char *member, int64_t *out);
int tw_input_double(tw_call *call, json_t *obj, const char *member, double *out);
int tw_input_bool(tw_call *call, json_t *obj, const char *member, bool *out);
/* Epoch ms from an ISO 8601 string (query), epoch seconds number (JSON 1.0,
 * CloudTrail, CBOR tag 1) — not for Logs, whose times are ms integers. */
int tw_input_time(tw_call *call, json_t *obj, const char *member, int64_t *out_ms);
/* A list member: a JSON array, or "" for an empty query list. */
int tw_input_array(tw_call *call, json_t *obj, const char *member, json_t **out);
int tw_input_required_string(tw_call *call, json_t *obj, const char *member, const char **out);

/* ---- making calls (dispatch.c) ----
 * Added by the dispatch engineer; handlers do not need these. */

/* A new call for http: request_id and event_id (fresh UUID v4s from
 * RAND_bytes), now_ms, input {}. The call owns everything it points to from
 * here on; tw_call_finish() answers http and frees it. */
tw_call *tw_call_new(tw_collector *collector, tw_http_request *http, tw_protocol protocol);
/* A copy of len bytes of s, NUL-terminated, that lives as long as the call. */
const char *tw_call_keep(tw_call *call, const char *s, size_t len);
/* Sets call->identity to copies of user (its secret is not copied: the call
 * outlives a SIGHUP that replaces the users), access key id, token (may be
 * NULL) and account id. */
void tw_call_set_identity(tw_call *call, const tw_collector_user *user,
                          const char *access_key_id, const char *session_token,
                          const char *account_id);
/* Exactly-once: when call->batch_id was already stored for this service,
 * operation and region, answers the stored output (re-encoded in this
 * request's protocol, no new event) without calling run; otherwise run(call).
 * The batch row itself is written with the call's first successful write
 * (tw_call_write, or tw_call_finish's event job), so a handler should set
 * call->output inside its write job when its output matters to a replay.
 * Rows older than 7 days are pruned (at most once an hour). */
void tw_call_check_batch(tw_call *call, void (*run)(tw_call *call));
/* The table of stored batch ids (component "batches"): main.c opens the
 * store with it beside the services' and the event history's migrations. */
extern const tw_migration tw_call_batch_migrations[];

#endif
