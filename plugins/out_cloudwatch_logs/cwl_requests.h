/* cwl_requests.h — the CloudWatch Logs calls the agent makes, as tw_requests
 * (AWS JSON 1.1: service "logs", POST /, X-Amz-Target Logs_20140328.<Op>;
 * shared/spec/cloudwatch.md §1.2, §2.2, §2.3, §2.7), and what their answers
 * mean for the output.
 *
 * Constructors return a new request the caller owns (tw_request_free, or
 * hand it to tw_outbox_push). Names are written JSON-escaped, so any bytes
 * give a well-formed body; whether AWS accepts the names is
 * tw_cwl_expand_name's business (cwl_names.h).
 *
 * The classifier reads a finished send (sender.h) and says what the output
 * should do. The sender has already retried, for as long as the batch's
 * budget allowed, everything that heals by waiting: no answer, 5xx, 429,
 * throttling codes (ThrottlingException, LimitExceededException,
 * ServiceUnavailableException ...) and authentication failures. So what
 * reaches the output is final except for the few 4xx answers only the
 * output can act on:
 *
 *   outcome                 answer                                 the output
 *   DELIVERED               2xx (rejectedLogEventsInfo counted),   acknowledges (a create
 *                           DataAlreadyAcceptedException (the      call: done)
 *                           batch is already stored)
 *   ALREADY_EXISTS          ResourceAlreadyExistsException         treats the create as done
 *   MISSING_GROUP           ResourceNotFoundException, message     CreateLogGroup, then
 *                           about the log group                    CreateLogStream, resend
 *   MISSING_STREAM          ResourceNotFoundException, any other   CreateLogStream, resend
 *                           message (the CloudWatch agent's order:
 *                           the stream first; if that answers "no
 *                           group", the group, then the stream)
 *   RETRY                   OperationAbortedException,             resends after a pause
 *                           ConflictException (a concurrent change
 *                           of the same resource); and, when the
 *                           sender has not seen them, the codes it
 *                           retries itself
 *   INVALID                 InvalidParameterException and every    drops the batch, counts
 *                           other 4xx (ValidationException,        it, logs the message: the
 *                           SerializationException,                same bytes would be
 *                           InvalidSequenceTokenException ...)     refused forever
 *   GAVE_UP                 the sender's retry budget ran out      drops and counts
 *   CANCELLED               the sender was closed first            leaves it spooled
 *
 * AWS error codes are compared after removing a namespace ("aws.logs#X",
 * "com.amazon.coral.service#X") and anything after ':' (old endpoints send
 * "X:http://internal.amazon.com/..."), as botocore does.
 *
 * Any thread: nothing is shared (the classifier is a pure function).
 */
#ifndef TW_CWL_REQUESTS_H
#define TW_CWL_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "request.h"
#include "sender.h"

#define TW_CWL_SERVICE "logs"
#define TW_CWL_CONTENT_TYPE "application/x-amz-json-1.1"
#define TW_CWL_TARGET_PREFIX "Logs_20140328."

/* PutLogEvents carrying body (borrowed: copied) as tw_cwl_batch_take wrote
 * it for group and stream, holding n_events events. gzip_level 0 sends the
 * body as is; 1 to 9 gzips a body of 1 KiB or more at that zlib level when
 * that makes it smaller (the CloudWatch agent compresses; the collector and
 * AWS both inflate). Level 1 is the one to use on the hot path: on varied
 * access lines it runs about 2.5 times as fast as level 6 for a body 20 %
 * larger (test_cwl_batch prints both).
 * Label: "PutLogEvents /group stream (812 events)". */
tw_request *tw_cwl_put_log_events_request(const char *group, const char *stream, size_t n_events,
                                          const tw_buf *body, int gzip_level);

/* {"logGroupName": group}; label "CreateLogGroup /group". */
tw_request *tw_cwl_create_log_group_request(const char *group);

/* {"logGroupName": group, "logStreamName": stream}; label
 * "CreateLogStream /group stream". */
tw_request *tw_cwl_create_log_stream_request(const char *group, const char *stream);

/* The retention periods CloudWatch Logs offers, in days, for messages. */
#define TW_CWL_RETENTION_CHOICES                                                              \
    "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, " \
    "2922, 3288 or 3653"

/* Whether CloudWatch Logs offers a retention of days. */
bool tw_cwl_retention_allowed(int64_t days);

/* {"logGroupName": group, "retentionInDays": days}; label
 * "PutRetentionPolicy /group (30 days)". NULL, with a sentence in err, when
 * CloudWatch does not offer that many days (1, 3, 5, 7, 14, 30, 60, 90, 120,
 * 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653). */
tw_request *tw_cwl_put_retention_policy_request(const char *group, int64_t days, tw_err *err);

typedef enum tw_cwl_outcome {
    TW_CWL_DELIVERED,
    TW_CWL_ALREADY_EXISTS,
    TW_CWL_MISSING_GROUP,
    TW_CWL_MISSING_STREAM,
    TW_CWL_RETRY,
    TW_CWL_INVALID,
    TW_CWL_GAVE_UP,
    TW_CWL_CANCELLED,
} tw_cwl_outcome;

typedef struct tw_cwl_verdict {
    tw_cwl_outcome outcome;
    /* DELIVERED PutLogEvents: events the endpoint did not store, from
     * rejectedLogEventsInfo (indices into the sorted batch: too old and
     * expired are a prefix, "< end index"; too new a suffix, ">= start
     * index"), each within [0, n_events]. An event both too old and expired
     * counts in both; rejected counts each refused event once. */
    size_t too_old, expired, too_new, rejected;
    char code[128]; /* the AWS error code, normalised; "" when none */
} tw_cwl_verdict;

/* Classifies one answer: http_status (0: none came), the AWS error code and
 * message (either may be NULL or ""; when the code is empty it is read from
 * the body's "__type" or "code"), and the response body (may be NULL).
 * n_events: how many events the request carried (0 for the create calls).
 * Any bytes are safe (fuzzed). */
void tw_cwl_classify_response(long http_status, const char *code, const char *message,
                              const void *body, size_t body_len, size_t n_events,
                              tw_cwl_verdict *out);

/* The same for a finished send (sender.h): status ACKED and REJECTED are
 * classified from the answer; EXPIRED is GAVE_UP, CANCELLED is CANCELLED. */
void tw_cwl_classify(const tw_send_result *result, size_t n_events, tw_cwl_verdict *out);

/* "delivered", "already exists", "missing log group", ... for messages. */
const char *tw_cwl_outcome_name(tw_cwl_outcome outcome);

#endif
