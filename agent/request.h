/* request.h — one AWS API call as the agent sends it and the spool keeps it.
 *
 * Outputs build a tw_request (service, target, body, batch id) from a
 * finished batch; the outbox writes its encoding into the spool, reads it
 * back and hands it to the sender, which adds the endpoint, signs and
 * posts it. The batch id travels as X-Trailwatch-Batch-Id, so a request
 * re-sent after a crash is a no-op at the collector (AWS ignores it).
 *
 * A tw_request owns its strings and body; tw_request_free releases them.
 */
#ifndef TW_REQUEST_H
#define TW_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TW_BATCH_ID_SIZE 33 /* 32 hex digits and a NUL */

typedef struct tw_request {
    char *service;      /* signing name: "monitoring", "logs", "cloudtrail-data" */
    char *path;         /* raw path and query as sent, e.g. "/" */
    char *content_type;
    char *target;       /* X-Amz-Target, or NULL */
    char *label;        /* for messages: "PutMetricData CWAgent (412 datums)" */
    bool gzip;          /* body is gzip: sent with Content-Encoding: gzip */
    int64_t created_ms; /* when the batch was made: retry budgets count from here */
    char batch_id[TW_BATCH_ID_SIZE];
    tw_buf body;
    tw_buf meta; /* the output's own bookkeeping, spooled with the request but
                    never sent (log outputs: the file positions the batch
                    completes, so a restart knows what is already spooled) */
} tw_request;

/* A fresh request with a random batch id and created_ms = now. Strings are
 * copied; target may be NULL. */
tw_request *tw_request_new(const char *service, const char *path, const char *content_type,
                           const char *target, const char *label);

/* Replaces the body with data, gzip-compressed when that is smaller and
 * the payload is worth it (CloudWatch agent behaviour). */
void tw_request_set_body(tw_request *req, const void *data, size_t len);

void tw_request_free(tw_request *req);

/* Spool form: appends a self-describing encoding (version, fields, body). */
void tw_request_encode(const tw_request *req, tw_buf *out);

/* Decodes what tw_request_encode wrote. Returns 0 and a new request in
 * *out, or -EINVAL (err says what is wrong) for bytes that are not one. */
int tw_request_decode(const void *data, size_t len, tw_request **out, tw_err *err);

#endif
