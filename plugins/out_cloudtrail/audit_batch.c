/* audit_batch.c — PutAuditEvents bodies, requests, answers and resends
 * (see audit_batch.h). Bodies are written directly; answers and resends
 * (rare: once per batch, or per partial failure) are read with jansson. */
#include "audit_batch.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_json.h"
#include "encode.h"
#include "hash.h"
#include "mem.h"

#define BODY_HEAD "{\"auditEvents\":["
#define BODY_TAIL "]}"
#define ITEM_ID "{\"id\":\""
#define ITEM_DATA "\",\"eventData\":\""
#define ITEM_CHECKSUM "\",\"eventDataChecksum\":\""
#define ITEM_END "\"}"
#define LIT_LEN(s) (sizeof(s) - 1)
/* Everything an item has besides its id and escaped eventData (and the
 * comma before all but the first). */
#define ITEM_OVERHEAD \
    (LIT_LEN(ITEM_ID) + LIT_LEN(ITEM_DATA) + LIT_LEN(ITEM_CHECKSUM) + 44 + LIT_LEN(ITEM_END))

void tw_audit_batch_init(tw_audit_batch *b)
{
    memset(b, 0, sizeof *b);
}

void tw_audit_batch_free(tw_audit_batch *b)
{
    tw_buf_free(&b->body);
    memset(b, 0, sizeof *b);
}

static bool valid_id(const char *id, size_t len)
{
    if (len < 1 || len > TW_AUDIT_ID_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* FNV-1a: a cheap first test before comparing ids. */
static uint64_t id_hash(const char *id, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * UINT64_C(1099511628211);
    return h;
}

static bool has_id(const tw_audit_batch *b, const char *id, size_t len, uint64_t h)
{
    for (size_t i = 0; i < b->n_events; i++)
        if (b->id_hash[i] == h && b->id_len[i] == len
            && memcmp(b->body.data + b->id_offset[i], id, len) == 0)
            return true;
    return false;
}

static void rollback(tw_buf *body, size_t mark)
{
    body->len = mark;
    if (body->data != NULL)
        body->data[mark] = '\0';
}

static int too_big(tw_err *err, size_t len)
{
    return tw_err_set(err, -EMSGSIZE,
                      "an audit event of %zu bytes does not fit a PutAuditEvents request "
                      "(at most %d bytes, escaped, with its id and checksum)",
                      len, TW_AUDIT_BATCH_MAX_BYTES);
}

int tw_audit_batch_add(tw_audit_batch *b, const char *id, const char *data, size_t len,
                       tw_err *err)
{
    size_t id_len = strlen(id);
    if (!valid_id(id, id_len))
        return tw_err_set(err, -EINVAL, "audit event id \"%.40s\" is not 1 to %d letters, "
                                        "digits, - or _",
                          id, TW_AUDIT_ID_MAX_LEN);
    size_t mark = b->n_events == 0 ? 0 : b->body.len;
    size_t least = LIT_LEN(BODY_HEAD) + id_len + len + ITEM_OVERHEAD + LIT_LEN(BODY_TAIL);
    if (least > TW_AUDIT_BATCH_MAX_BYTES)
        return too_big(err, len);
    if (b->n_events == TW_AUDIT_BATCH_MAX_EVENTS
        || (b->n_events > 0 && mark + 1 + least - LIT_LEN(BODY_HEAD) > TW_AUDIT_BATCH_MAX_BYTES))
        return -ENOSPC;
    uint64_t h = id_hash(id, id_len);
    if (has_id(b, id, id_len, h))
        return -EEXIST;
    if (b->n_events == 0) {
        tw_buf_reset(&b->body);
        TW_AUDIT_JSON_LIT(&b->body, BODY_HEAD);
    } else {
        tw_buf_putc(&b->body, ',');
    }
    TW_AUDIT_JSON_LIT(&b->body, ITEM_ID);
    size_t id_offset = b->body.len;
    tw_buf_append(&b->body, id, id_len);
    TW_AUDIT_JSON_LIT(&b->body, ITEM_DATA);
    bool exact = true;
    tw_audit_json_escape(&b->body, data, len, TW_AUDIT_JSON_NO_CAP, &exact);
    if (!exact) {
        rollback(&b->body, mark);
        return tw_err_set(err, -EINVAL, "audit event %s: eventData is not UTF-8 text (or holds "
                                        "a NUL byte)", id);
    }
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(data, len, digest);
    TW_AUDIT_JSON_LIT(&b->body, ITEM_CHECKSUM);
    tw_base64_encode(digest, sizeof digest, &b->body);
    TW_AUDIT_JSON_LIT(&b->body, ITEM_END);
    if (b->body.len + LIT_LEN(BODY_TAIL) > TW_AUDIT_BATCH_MAX_BYTES) {
        rollback(&b->body, mark);
        return b->n_events == 0 ? too_big(err, len) : -ENOSPC;
    }
    b->id_hash[b->n_events] = h;
    b->id_offset[b->n_events] = id_offset;
    b->id_len[b->n_events] = (uint8_t)id_len;
    b->n_events++;
    return 0;
}

size_t tw_audit_batch_size(const tw_audit_batch *b)
{
    return b->n_events == 0 ? 0 : b->body.len + LIT_LEN(BODY_TAIL);
}

tw_request *tw_audit_request_new(const char *channel, const void *body, size_t len,
                                 size_t n_events)
{
    tw_buf path = TW_BUF_INIT, label = TW_BUF_INIT;
    TW_AUDIT_JSON_LIT(&path, "/PutAuditEvents?channelArn=");
    tw_uri_encode(channel, strlen(channel), TW_URI_ENCODE_SLASH, &path);
    tw_buf_printf(&label, "PutAuditEvents %s (%zu event%s)", channel, n_events,
                  n_events == 1 ? "" : "s");
    tw_request *req = tw_request_new(TW_AUDIT_SERVICE, tw_buf_cstr(&path), "application/json",
                                     NULL, tw_buf_cstr(&label));
    tw_buf_free(&path);
    tw_buf_free(&label);
    req->gzip = false;
    tw_buf_append(&req->body, body, len);
    return req;
}

tw_request *tw_audit_batch_take(tw_audit_batch *b, const char *channel)
{
    if (b->n_events == 0)
        return NULL;
    TW_AUDIT_JSON_LIT(&b->body, BODY_TAIL);
    tw_request *req = tw_audit_request_new(channel, b->body.data, b->body.len, b->n_events);
    tw_buf_reset(&b->body);
    b->n_events = 0;
    return req;
}

/* ---- the answer ------------------------------------------------------------------ */

bool tw_audit_failure_retryable(const char *code)
{
    static const char *const retryable[] = {
        "Throttling", "ThrottlingException", "InternalFailure", "InternalServerException",
        "ServiceUnavailable", "ServiceUnavailableException",
    };
    for (size_t i = 0; i < sizeof retryable / sizeof retryable[0]; i++)
        if (strcmp(code, retryable[i]) == 0)
            return true;
    return false;
}

void tw_audit_response_free(tw_audit_response *r)
{
    for (size_t i = 0; i < r->n_successful; i++)
        free(r->successful[i]);
    free(r->successful);
    for (size_t i = 0; i < r->n_failed; i++) {
        free(r->failed[i].id);
        free(r->failed[i].code);
        free(r->failed[i].message);
    }
    free(r->failed);
    memset(r, 0, sizeof *r);
}

/* The member list, or NULL when absent (jansson counts it as empty);
 * -EINVAL after err for another type. */
static int answer_list(json_t *root, const char *name, json_t **list, tw_err *err)
{
    *list = json_object_get(root, name);
    if (*list != NULL && !json_is_array(*list))
        return tw_err_set(err, -EINVAL, "PutAuditEvents answer: \"%s\" is not a list", name);
    return 0;
}

static const char *item_string(json_t *item, const char *name)
{
    return json_string_value(json_object_get(item, name));
}

static int read_answer(json_t *root, tw_audit_response *r, tw_err *err)
{
    json_t *ok, *failed;
    if (answer_list(root, "successful", &ok, err) < 0 || answer_list(root, "failed", &failed, err) < 0)
        return -EINVAL;
    r->successful = tw_calloc(json_array_size(ok) + 1, sizeof *r->successful);
    r->failed = tw_calloc(json_array_size(failed) + 1, sizeof *r->failed);
    for (size_t i = 0; i < json_array_size(ok); i++) {
        const char *id = item_string(json_array_get(ok, i), "id");
        if (id == NULL)
            return tw_err_set(err, -EINVAL, "PutAuditEvents answer: successful[%zu] has no id",
                              i);
        r->successful[r->n_successful++] = tw_strdup(id);
    }
    for (size_t i = 0; i < json_array_size(failed); i++) {
        json_t *item = json_array_get(failed, i);
        const char *id = item_string(item, "id"), *code = item_string(item, "errorCode");
        const char *message = item_string(item, "errorMessage");
        if (id == NULL || code == NULL)
            return tw_err_set(err, -EINVAL, "PutAuditEvents answer: failed[%zu] lacks its id "
                                            "or errorCode", i);
        tw_audit_failure *f = &r->failed[r->n_failed++];
        f->id = tw_strdup(id);
        f->code = tw_strdup(code);
        f->message = tw_strdup(message != NULL ? message : "");
        f->retryable = tw_audit_failure_retryable(code);
        r->n_retryable += f->retryable;
    }
    return 0;
}

int tw_audit_response_parse(const void *body, size_t len, tw_audit_response *out, tw_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return tw_err_set(err, -EINVAL, "PutAuditEvents answer is not a JSON object%s%s",
                          root == NULL ? ": " : "", root == NULL ? jerr.text : "");
    }
    int rc = read_answer(root, out, err);
    json_decref(root);
    if (rc < 0)
        tw_audit_response_free(out);
    return rc;
}

/* ---- resending ---------------------------------------------------------------------- */

typedef bool (*keep_fn)(const void *ctx, const char *id);

static int rebuild(const void *body, size_t len, keep_fn keep, const void *ctx, tw_buf *out,
                   size_t *kept, tw_err *err)
{
    *kept = 0;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *events = json_object_get(root, "auditEvents");
    if (!json_is_array(events)) {
        json_decref(root);
        return tw_err_set(err, -EINVAL, "not a PutAuditEvents body (no auditEvents list)");
    }
    tw_audit_batch batch;
    tw_audit_batch_init(&batch);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(events) && rc == 0; i++) {
        json_t *item = json_array_get(events, i);
        const char *id = item_string(item, "id");
        json_t *data = json_object_get(item, "eventData");
        if (id == NULL || !json_is_string(data)) {
            rc = tw_err_set(err, -EINVAL, "auditEvents[%zu] lacks its id or eventData", i);
            break;
        }
        if (!keep(ctx, id))
            continue;
        rc = tw_audit_batch_add(&batch, id, json_string_value(data), json_string_length(data),
                                err);
        if (rc == -EEXIST)
            rc = 0;
        else if (rc == -ENOSPC) /* more than one request holds: not a body made here */
            rc = tw_err_set(err, -EINVAL, "the events kept do not fit one request");
    }
    if (rc == 0 && batch.n_events > 0) {
        *kept = batch.n_events;
        tw_buf_append(out, batch.body.data, batch.body.len);
        TW_AUDIT_JSON_LIT(out, BODY_TAIL);
    }
    tw_audit_batch_free(&batch);
    json_decref(root);
    return rc < 0 ? -EINVAL : 0;
}

typedef struct id_list {
    const char *const *ids;
    size_t n;
} id_list;

static bool in_list(const void *ctx, const char *id)
{
    const id_list *list = ctx;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->ids[i], id) == 0)
            return true;
    return false;
}

int tw_audit_batch_keep(const void *body, size_t len, const char *const *ids, size_t n_ids,
                        tw_buf *out, size_t *kept, tw_err *err)
{
    id_list list = {ids, n_ids};
    return rebuild(body, len, in_list, &list, out, kept, err);
}

static bool unsettled(const void *ctx, const char *id)
{
    const tw_audit_response *r = ctx;
    for (size_t i = 0; i < r->n_successful; i++)
        if (strcmp(r->successful[i], id) == 0)
            return false;
    for (size_t i = 0; i < r->n_failed; i++)
        if (strcmp(r->failed[i].id, id) == 0)
            return r->failed[i].retryable;
    return true;
}

int tw_audit_batch_resend(const void *body, size_t len, const tw_audit_response *response,
                          tw_buf *out, size_t *kept, tw_err *err)
{
    return rebuild(body, len, unsettled, response, out, kept, err);
}
