/* audit_batch.h — PutAuditEvents requests (cloudtrail-data, REST-JSON,
 * spec/cloudtrail.md §6): the body builder, the request, the response and
 * the body of a resend.
 *
 * A body is {"auditEvents":[{"id":...,"eventData":"<JSON as a string>",
 * "eventDataChecksum":"<base64 SHA-256 of the exact eventData bytes>"},
 * ...]}. A batch never breaks the call's limits: at most 100 events, and
 * the whole body at most 1,048,576 bytes (AWS: "1 MB per call"; counting the
 * whole body is stricter than any reading of it). Ids are unique within a
 * batch, since one repeated id fails the whole call
 * (DuplicatedAuditEventId).
 *
 * Failures come back per event. Throttling and InternalFailure are worth
 * sending again (tw_audit_batch_resend builds a body of what is still
 * unsettled; the collector's and AWS's (channel, id) dedupe make a repeat
 * harmless); InvalidData, InvalidChecksum, FieldTooLong, FieldNotFound,
 * InvalidRecipient, InvalidEventSource, AccountNotSubscribed and unknown
 * codes are final: sending the same bytes again cannot succeed.
 *
 * Ownership: a tw_audit_batch owns its body buffer (init/free; reused
 * across batches, so steady state allocates nothing). Requests returned
 * are the caller's (tw_request_free). A tw_audit_response owns its strings
 * (tw_audit_response_free). Inputs are borrowed. One thread at a time per
 * batch; the rest is pure.
 */
#ifndef TW_AUDIT_BATCH_H
#define TW_AUDIT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "request.h"

#define TW_AUDIT_BATCH_MAX_EVENTS 100
#define TW_AUDIT_BATCH_MAX_BYTES (1024 * 1024)
#define TW_AUDIT_ID_MAX_LEN 128
#define TW_AUDIT_SERVICE "cloudtrail-data"

typedef struct tw_audit_batch {
    tw_buf body; /* the body so far, without its closing "]}" */
    size_t n_events;
    uint64_t id_hash[TW_AUDIT_BATCH_MAX_EVENTS];
    size_t id_offset[TW_AUDIT_BATCH_MAX_EVENTS]; /* of the id's text in body */
    uint8_t id_len[TW_AUDIT_BATCH_MAX_EVENTS];
} tw_audit_batch;

void tw_audit_batch_init(tw_audit_batch *batch);
void tw_audit_batch_free(tw_audit_batch *batch);

/* Adds one event (id and len bytes of eventData, both copied). Returns:
 *   0          added;
 *   -ENOSPC    the batch is full (100 events, or this event would take the
 *              body over 1 MB): take the batch, then add again;
 *   -EEXIST    an event with this id is in the batch already (nothing
 *              added: it is on its way);
 *   -EMSGSIZE  the event alone is over the body limit (err says so);
 *   -EINVAL    the id is not 1-128 of [-_A-Za-z0-9], or eventData is not
 *              UTF-8 text without NUL (err says which).
 * On any error the batch is as it was. */
int tw_audit_batch_add(tw_audit_batch *batch, const char *id, const char *event_data,
                       size_t len, tw_err *err);

static inline size_t tw_audit_batch_count(const tw_audit_batch *batch)
{
    return batch->n_events;
}

/* The size the body will have when taken (0 when empty). */
size_t tw_audit_batch_size(const tw_audit_batch *batch);

/* Finishes the body and returns it in a new request for channel (an ARN or
 * a channel id), or NULL when the batch is empty. The batch is emptied (its
 * memory kept) either way. */
tw_request *tw_audit_batch_take(tw_audit_batch *batch, const char *channel);

/* A PutAuditEvents request for channel carrying a copy of body, which holds
 * n_events events (for the label): POST /PutAuditEvents?channelArn=<the
 * channel, URI-encoded>, application/json, never gzip (the API does not
 * model compressed bodies). A fresh batch id. */
tw_request *tw_audit_request_new(const char *channel, const void *body, size_t len,
                                 size_t n_events);

/* ---- the answer ---- */

typedef struct tw_audit_failure {
    char *id;
    char *code;
    char *message; /* "" when the answer had none */
    bool retryable;
} tw_audit_failure;

typedef struct tw_audit_response {
    char **successful; /* ids */
    size_t n_successful;
    tw_audit_failure *failed;
    size_t n_failed;
    size_t n_retryable; /* of failed */
} tw_audit_response;

/* Whether a per-event errorCode is worth another try. */
bool tw_audit_failure_retryable(const char *code);

/* Parses a 200 answer's body. Returns 0 (*out filled; free it), or -EINVAL
 * with err saying what is wrong (*out then empty, safe to free). */
int tw_audit_response_parse(const void *body, size_t len, tw_audit_response *out, tw_err *err);
void tw_audit_response_free(tw_audit_response *response);

/* ---- resending ---- */

/* Rebuilds body (a body this module made) keeping only the events whose
 * id is in ids, and appends the new body to out; *kept gets their number
 * (0: nothing appended). Returns 0, or -EINVAL when body is not a
 * PutAuditEvents body (err says why). */
int tw_audit_batch_keep(const void *body, size_t len, const char *const *ids, size_t n_ids,
                        tw_buf *out, size_t *kept, tw_err *err);

/* Like tw_audit_batch_keep, keeping what response did not settle: events
 * that failed with a retryable code, and events the answer does not
 * mention at all. */
int tw_audit_batch_resend(const void *body, size_t len, const tw_audit_response *response,
                          tw_buf *out, size_t *kept, tw_err *err);

#endif
