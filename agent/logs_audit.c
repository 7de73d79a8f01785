/* logs_audit.c — audit events of a logs section (see logs_audit.h). */
#include "logs_audit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit_config.h"
#include "log.h"
#include "mem.h"

static int make_deriver(tw_logs_audit *a, const tw_logs_config *lc, tw_err *err)
{
    char account[TW_AUDIT_ACCOUNT_SIZE];
    tw_audit_derive_options options;
    tw_audit_config_options(lc, account, &options);
    tw_audit_deriver *deriver;
    int rc = tw_audit_deriver_new(&options, &deriver, err);
    if (rc != 0) {
        tw_err_prefix(err, "[logs %s] audit", a->section);
        return rc;
    }
    tw_audit_deriver_free(a->deriver);
    a->deriver = deriver;
    free(a->channel);
    a->channel = tw_strdup(tw_audit_config_channel(lc));
    return 0;
}

int tw_logs_audit_init(tw_logs_audit *a, const char *section, const tw_logs_config *lc,
                       tw_err *err)
{
    *a = (tw_logs_audit){.section = section, .event_data = TW_BUF_INIT};
    tw_audit_batch_init(&a->batch);
    return make_deriver(a, lc, err);
}

void tw_logs_audit_rebind(tw_logs_audit *a, const tw_logs_config *lc)
{
    tw_err err;
    if (a->deriver && make_deriver(a, lc, &err) != 0) {
        tw_error("%s; audit events stop until the agent restarts", err.msg);
        tw_audit_deriver_free(a->deriver);
        a->deriver = NULL;
    }
}

void tw_logs_audit_free(tw_logs_audit *a)
{
    tw_audit_deriver_free(a->deriver);
    tw_audit_batch_free(&a->batch);
    free(a->channel);
    tw_buf_free(&a->event_data);
    a->deriver = NULL;
    a->channel = NULL;
}

void tw_logs_audit_take(tw_logs_audit *a, tw_outbox *outbox)
{
    if (!a->deriver || tw_audit_batch_count(&a->batch) == 0)
        return;
    tw_request *req = tw_audit_batch_take(&a->batch, a->channel);
    if (req)
        tw_outbox_push(outbox, req);
}

/* The key of the event made from the record at offset of a file: the same
 * every time those bytes are read (a 64-bit mix of the file's key and the
 * offset). */
static uint64_t event_key(const tw_tracked_file *file, uint64_t offset)
{
    uint64_t z = file->key ^ (offset + 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tw_logs_audit_add(tw_logs_audit *a, const tw_tracked_file *file, const char *path,
                       const tw_log_record *record, tw_outbox *outbox)
{
    if (!a->deriver || !record->parsed)
        return;
    uint64_t key = event_key(file, record->offset);
    tw_buf_reset(&a->event_data);
    if (tw_audit_derive(a->deriver, record, key, &a->event_data) != 1)
        return;
    char id[TW_AUDIT_EVENT_ID_SIZE];
    tw_audit_event_id(key, id);
    tw_err err;
    int rc = tw_audit_batch_add(&a->batch, id, a->event_data.data, a->event_data.len, &err);
    if (rc == -ENOSPC) {
        tw_logs_audit_take(a, outbox);
        rc = tw_audit_batch_add(&a->batch, id, a->event_data.data, a->event_data.len, &err);
    }
    if (rc == 0) {
        a->events++;
    } else if (rc != -EEXIST) { /* EEXIST: the same event is in the batch already */
        if (a->failed++ % 1000 == 0)
            tw_warn("[logs %s] audit event of %s offset %" PRIu64 " not sent: %s (%" PRIu64
                    " such events so far)",
                    a->section, path, record->offset, err.msg, a->failed);
    }
}

bool tw_logs_audit_owns(const tw_request *req)
{
    return strcmp(req->service, TW_AUDIT_SERVICE) == 0;
}

void tw_logs_audit_result(tw_logs_audit *a, const tw_request *req,
                          const tw_send_result *result, tw_outbox *outbox)
{
    if (result->status != TW_SEND_ACKED) {
        a->failed++; /* the outbox has logged the request's fate */
        return;
    }
    tw_audit_response resp = {0};
    tw_err err;
    if (!result->response ||
        tw_audit_response_parse(result->response->data, result->response->len, &resp, &err) != 0) {
        tw_audit_response_free(&resp);
        return; /* a 200 we cannot read: the events were accepted as far as we know */
    }
    size_t final = resp.n_failed - resp.n_retryable;
    if (final > 0) {
        a->failed += final;
        for (size_t i = 0; i < resp.n_failed && i < 3; i++)
            if (!resp.failed[i].retryable)
                tw_warn("[logs %s] audit event %s refused: %s: %s", a->section,
                        resp.failed[i].id, resp.failed[i].code, resp.failed[i].message);
    }
    if (resp.n_retryable > 0) {
        tw_buf body = TW_BUF_INIT;
        size_t kept = 0;
        if (tw_audit_batch_resend(req->body.data, req->body.len, &resp, &body, &kept, &err) == 0 &&
            kept > 0)
            tw_outbox_push(outbox, tw_audit_request_new(a->channel, body.data, body.len, kept));
        tw_buf_free(&body);
    }
    tw_audit_response_free(&resp);
}
