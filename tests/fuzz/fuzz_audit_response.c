/* fuzz_audit_response.c — libFuzzer target for what comes back from
 * PutAuditEvents and what is sent again (plugins/out_cloudtrail/
 * audit_batch.h): the answer's parser, and the rebuild of a body keeping
 * the unsettled events or a list of ids.
 *
 * The first byte picks the mode, the rest is the input:
 *   even: an answer, parsed, then used to rebuild a fixed body of five
 *         events (e1..e5);
 *   odd:  a body (anything), rebuilt keeping the ids e1, e3 and x.
 * Checked, beyond "no crash, no leak, no sanitizer report":
 *   - a refused answer says why and leaves nothing to free;
 *   - the retryable count matches the failures marked retryable;
 *   - a rebuilt body keeps no more events than it had, is valid JSON with
 *     that many items, and never keeps an event the answer settled
 *     (successful, or failed for good).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fixed_body(tw_buf *out)
{
    tw_audit_batch b;
    tw_audit_batch_init(&b);
    for (int i = 1; i <= 5; i++) {
        char id[8], event[64];
        snprintf(id, sizeof id, "e%d", i);
        snprintf(event, sizeof event, "{\"n\":%d}", i);
        if (tw_audit_batch_add(&b, id, event, strlen(event), NULL) != 0)
            abort();
    }
    tw_request *req = tw_audit_batch_take(&b, "fuzz");
    tw_buf_append(out, req->body.data, req->body.len);
    tw_request_free(req);
    tw_audit_batch_free(&b);
}

/* The items of a rebuilt body; aborts unless it is one. */
static size_t items_of(const tw_buf *body, json_t **root)
{
    json_error_t jerr;
    *root = json_loadb(body->data, body->len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *events = json_object_get(*root, "auditEvents");
    if (!json_is_array(events))
        abort();
    return json_array_size(events);
}

static bool settled(const tw_audit_response *r, const char *id)
{
    for (size_t i = 0; i < r->n_successful; i++)
        if (strcmp(r->successful[i], id) == 0)
            return true;
    for (size_t i = 0; i < r->n_failed; i++)
        if (strcmp(r->failed[i].id, id) == 0)
            return !r->failed[i].retryable;
    return false;
}

static void answer(const uint8_t *data, size_t size)
{
    tw_audit_response r;
    tw_err err = {""};
    if (tw_audit_response_parse(data, size, &r, &err) != 0) {
        if (err.msg[0] == '\0' || r.n_successful != 0 || r.n_failed != 0 || r.failed != NULL)
            abort();
        return;
    }
    size_t retryable = 0;
    for (size_t i = 0; i < r.n_failed; i++)
        retryable += r.failed[i].retryable;
    if (retryable != r.n_retryable)
        abort();
    tw_buf body = TW_BUF_INIT, out = TW_BUF_INIT;
    fixed_body(&body);
    size_t kept = 99;
    if (tw_audit_batch_resend(body.data, body.len, &r, &out, &kept, NULL) != 0 || kept > 5)
        abort();
    if (kept > 0) {
        json_t *root;
        if (items_of(&out, &root) != kept)
            abort();
        json_t *events = json_object_get(root, "auditEvents");
        for (size_t i = 0; i < kept; i++) {
            const char *id =
                json_string_value(json_object_get(json_array_get(events, i), "id"));
            if (id == NULL || settled(&r, id))
                abort();
        }
        json_decref(root);
    } else if (out.len != 0) {
        abort();
    }
    tw_buf_free(&body);
    tw_buf_free(&out);
    tw_audit_response_free(&r);
}

static void rebuild(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"e1", "e3", "x"};
    tw_buf out = TW_BUF_INIT;
    size_t kept = 0;
    tw_err err = {""};
    int rc = tw_audit_batch_keep(data, size, ids, 3, &out, &kept, &err);
    if (rc != 0 && (rc != -EINVAL || err.msg[0] == '\0' || kept != 0))
        abort();
    if (rc == 0 && kept > 0) {
        json_t *root;
        if (items_of(&out, &root) != kept || kept > 100)
            abort();
        json_decref(root);
    }
    tw_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        answer(data + 1, size - 1);
    else
        rebuild(data + 1, size - 1);
    return 0;
}
