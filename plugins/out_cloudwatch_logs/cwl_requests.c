/* cwl_requests.c — CloudWatch Logs requests and the reading of their answers
 * (see cwl_requests.h). */
#include "cwl_requests.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cwl_batch.h"
#include "gzip.h"

/* Below this, gzip's header and trailer eat the gain (as request.c). */
#define GZIP_MIN_BYTES 1024

/* ---- requests ----------------------------------------------------------------- */

static tw_request *new_request(const char *operation, const char *label)
{
    char target[64];
    snprintf(target, sizeof target, TW_CWL_TARGET_PREFIX "%s", operation);
    return tw_request_new(TW_CWL_SERVICE, "/", TW_CWL_CONTENT_TYPE, target, label);
}

/* "name":"<escaped value>" */
static void put_member(tw_buf *out, const char *name, const char *value)
{
    tw_buf_printf(out, "\"%s\":\"", name);
    tw_cwl_json_escape(out, value, strlen(value));
    tw_buf_putc(out, '"');
}

static void set_plain_body(tw_request *req, const tw_buf *body)
{
    tw_buf_reset(&req->body);
    tw_buf_append(&req->body, body->data, body->len);
    req->gzip = false;
}

tw_request *tw_cwl_put_log_events_request(const char *group, const char *stream, size_t n_events,
                                          const tw_buf *body, int gzip_level)
{
    tw_buf label = TW_BUF_INIT;
    tw_buf_printf(&label, "PutLogEvents %s %s (%zu event%s)", group, stream, n_events,
                  n_events == 1 ? "" : "s");
    tw_request *req = new_request("PutLogEvents", tw_buf_cstr(&label));
    tw_buf_free(&label);
    if (gzip_level <= 0 || body->len < GZIP_MIN_BYTES) {
        set_plain_body(req, body);
        return req;
    }
    tw_gzip_compress(body->data, body->len, gzip_level > 9 ? 9 : gzip_level, &req->body);
    if (req->body.len < body->len) {
        req->gzip = true;
        return req;
    }
    set_plain_body(req, body);
    return req;
}

tw_request *tw_cwl_create_log_group_request(const char *group)
{
    tw_buf text = TW_BUF_INIT;
    tw_buf_printf(&text, "CreateLogGroup %s", group);
    tw_request *req = new_request("CreateLogGroup", tw_buf_cstr(&text));
    tw_buf_reset(&text);
    tw_buf_putc(&text, '{');
    put_member(&text, "logGroupName", group);
    tw_buf_putc(&text, '}');
    set_plain_body(req, &text);
    tw_buf_free(&text);
    return req;
}

tw_request *tw_cwl_create_log_stream_request(const char *group, const char *stream)
{
    tw_buf text = TW_BUF_INIT;
    tw_buf_printf(&text, "CreateLogStream %s %s", group, stream);
    tw_request *req = new_request("CreateLogStream", tw_buf_cstr(&text));
    tw_buf_reset(&text);
    tw_buf_putc(&text, '{');
    put_member(&text, "logGroupName", group);
    tw_buf_putc(&text, ',');
    put_member(&text, "logStreamName", stream);
    tw_buf_putc(&text, '}');
    set_plain_body(req, &text);
    tw_buf_free(&text);
    return req;
}

/* PutRetentionPolicy's allowed values (§2.7; 1096 from the current model). */
static const int64_t retention_values[] = {1,   3,   5,   7,   14,  30,   60,   90,
                                           120, 150, 180, 365, 400, 545,  731,  1096,
                                           1827, 2192, 2557, 2922, 3288, 3653};

bool tw_cwl_retention_allowed(int64_t days)
{
    for (size_t i = 0; i < sizeof retention_values / sizeof retention_values[0]; i++)
        if (retention_values[i] == days)
            return true;
    return false;
}

tw_request *tw_cwl_put_retention_policy_request(const char *group, int64_t days, tw_err *err)
{
    if (!tw_cwl_retention_allowed(days)) {
        tw_err_set(err, -EINVAL,
                   "retention for log group %.200s: CloudWatch Logs does not offer %" PRId64
                   " days (" TW_CWL_RETENTION_CHOICES ")",
                   group, days);
        return NULL;
    }
    tw_buf text = TW_BUF_INIT;
    tw_buf_printf(&text, "PutRetentionPolicy %s (%" PRId64 " day%s)", group, days,
                  days == 1 ? "" : "s");
    tw_request *req = new_request("PutRetentionPolicy", tw_buf_cstr(&text));
    tw_buf_reset(&text);
    tw_buf_putc(&text, '{');
    put_member(&text, "logGroupName", group);
    tw_buf_printf(&text, ",\"retentionInDays\":%" PRId64 "}", days);
    set_plain_body(req, &text);
    tw_buf_free(&text);
    return req;
}

/* ---- answers ------------------------------------------------------------------ */

/* botocore's reading: drop "namespace#", then anything from ':'. */
static void normalise_code(const char *code, char out[128])
{
    const char *hash = strrchr(code, '#');
    if (hash)
        code = hash + 1;
    size_t n = strcspn(code, ":");
    if (n > 127)
        n = 127;
    memcpy(out, code, n);
    out[n] = '\0';
}

static bool code_is(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return true;
    return false;
}

/* What sender.c retries itself; here only for answers it did not see. */
static const char *const transient_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException",
    "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout",
    "RequestTimeoutException", "InternalFailure", "InternalServiceError",
    "InternalServerException", "UnrecognizedClientException", "InvalidSignatureException",
    "ExpiredTokenException", "AccessDeniedException", "MissingAuthenticationTokenException",
    /* A concurrent change of the same group or stream: try again. */
    "OperationAbortedException", "ConflictException", NULL,
};

static size_t clamp_index(const json_t *v, size_t n)
{
    json_int_t i = json_integer_value(v);
    if (i <= 0)
        return 0;
    return (uint64_t)i > n ? n : (size_t)i;
}

/* rejectedLogEventsInfo of a PutLogEvents answer, when there is one. */
static void count_rejected(const void *body, size_t len, size_t n, tw_cwl_verdict *out)
{
    if (!body || len == 0)
        return;
    json_t *doc = json_loadb(body, len, JSON_ALLOW_NUL, NULL);
    json_t *info = json_object_get(doc, "rejectedLogEventsInfo");
    if (json_is_object(info)) {
        json_t *old_end = json_object_get(info, "tooOldLogEventEndIndex");
        json_t *expired_end = json_object_get(info, "expiredLogEventEndIndex");
        json_t *new_start = json_object_get(info, "tooNewLogEventStartIndex");
        if (json_is_integer(old_end))
            out->too_old = clamp_index(old_end, n);
        if (json_is_integer(expired_end))
            out->expired = clamp_index(expired_end, n);
        size_t front = out->too_old > out->expired ? out->too_old : out->expired;
        size_t back = n;
        if (json_is_integer(new_start)) {
            back = clamp_index(new_start, n);
            out->too_new = n - back;
        }
        out->rejected = front + (n - (back > front ? back : front));
    }
    json_decref(doc);
}

/* The error code written in a body, when the caller had none. */
static void code_from_body(const void *body, size_t len, char out[128])
{
    if (!body || len == 0)
        return;
    json_t *doc = json_loadb(body, len, JSON_ALLOW_NUL, NULL);
    const char *type = json_string_value(json_object_get(doc, "__type"));
    if (!type)
        type = json_string_value(json_object_get(doc, "code"));
    if (type)
        normalise_code(type, out);
    json_decref(doc);
}

/* The CloudWatch agent tells the two ResourceNotFoundExceptions apart by
 * AWS's messages: "The specified log group does not exist." and "The
 * specified log stream does not exist." Creating the stream first is the
 * right repair when the message says neither. */
static tw_cwl_outcome which_missing(const char *message)
{
    if (!message)
        return TW_CWL_MISSING_STREAM;
    if (strcasestr(message, "log stream"))
        return TW_CWL_MISSING_STREAM;
    if (strcasestr(message, "log group"))
        return TW_CWL_MISSING_GROUP;
    return TW_CWL_MISSING_STREAM;
}

void tw_cwl_classify_response(long http_status, const char *code, const char *message,
                              const void *body, size_t body_len, size_t n_events,
                              tw_cwl_verdict *out)
{
    memset(out, 0, sizeof *out);
    if (http_status >= 200 && http_status < 300) {
        out->outcome = TW_CWL_DELIVERED;
        count_rejected(body, body_len, n_events, out);
        return;
    }
    if (code && code[0])
        normalise_code(code, out->code);
    else
        code_from_body(body, body_len, out->code);

    if (strcmp(out->code, "ResourceNotFoundException") == 0)
        out->outcome = which_missing(message);
    else if (strcmp(out->code, "ResourceAlreadyExistsException") == 0)
        out->outcome = TW_CWL_ALREADY_EXISTS;
    else if (strcmp(out->code, "DataAlreadyAcceptedException") == 0)
        out->outcome = TW_CWL_DELIVERED;
    else if (http_status == 0 || http_status >= 500 || http_status == 429 ||
             code_is(out->code, transient_codes))
        out->outcome = TW_CWL_RETRY;
    else
        out->outcome = TW_CWL_INVALID;
}

void tw_cwl_classify(const tw_send_result *result, size_t n_events, tw_cwl_verdict *out)
{
    switch (result->status) {
    case TW_SEND_ACKED:
    case TW_SEND_REJECTED: {
        const tw_buf *r = result->response;
        long status = result->http_status;
        if (result->status == TW_SEND_ACKED && (status < 200 || status > 299))
            status = 200; /* the sender's word: accepted */
        tw_cwl_classify_response(status, result->code, result->message, r ? r->data : NULL,
                                 r ? r->len : 0, n_events, out);
        return;
    }
    case TW_SEND_EXPIRED:
    case TW_SEND_CANCELLED:
    default:
        memset(out, 0, sizeof *out);
        normalise_code(result->code, out->code);
        out->outcome = result->status == TW_SEND_EXPIRED ? TW_CWL_GAVE_UP : TW_CWL_CANCELLED;
        return;
    }
}

const char *tw_cwl_outcome_name(tw_cwl_outcome outcome)
{
    switch (outcome) {
    case TW_CWL_DELIVERED:
        return "delivered";
    case TW_CWL_ALREADY_EXISTS:
        return "already exists";
    case TW_CWL_MISSING_GROUP:
        return "missing log group";
    case TW_CWL_MISSING_STREAM:
        return "missing log stream";
    case TW_CWL_RETRY:
        return "retry";
    case TW_CWL_INVALID:
        return "invalid";
    case TW_CWL_GAVE_UP:
        return "gave up";
    case TW_CWL_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}
