/* logs_audit.h — the audit side of a [logs NAME] section with audit = yes:
 * records in, PutAuditEvents requests out to the section's outbox, and
 * what their answers mean.
 *
 * Each record's event gets an id derived from its file and offset, so
 * re-reading the same bytes after a crash makes the same ids, which the
 * collector's (channel, id) dedupe recognises. The pipeline takes the
 * pending audit batch before each PutLogEvents of the same lines, so audit
 * events are never behind the positions a log request records.
 *
 * Owned by the pipeline (logs.c); loop thread only.
 */
#ifndef TW_LOGS_AUDIT_H
#define TW_LOGS_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "audit_batch.h"
#include "audit_derive.h"
#include "buf.h"
#include "checkpoint.h"
#include "config.h"
#include "err.h"
#include "log_parser.h"
#include "outbox.h"

typedef struct tw_logs_audit {
    const char *section; /* borrowed: the pipeline's copy of NAME */
    tw_audit_deriver *deriver;
    tw_audit_batch batch;
    char *channel;
    tw_buf event_data; /* scratch */
    uint64_t events, failed; /* batched, and refused or lost */
} tw_logs_audit;

/* Sets a up for the section's audit keys. Returns 0, or -EINVAL with err
 * naming what is wrong (a bad route map the config check let through). */
int tw_logs_audit_init(tw_logs_audit *a, const char *section, const tw_logs_config *lc,
                       tw_err *err);

/* After a reload: the deriver is made again from lc (the old one borrows
 * strings of the configuration being freed). On failure audit stops (an
 * error says so) and tw_logs_audit_on is false. */
void tw_logs_audit_rebind(tw_logs_audit *a, const tw_logs_config *lc);

void tw_logs_audit_free(tw_logs_audit *a);

static inline bool tw_logs_audit_on(const tw_logs_audit *a)
{
    return a->deriver != NULL;
}

/* Derives the record's event, if it makes one, into the batch; a full batch
 * is pushed to outbox first. path is for messages. */
void tw_logs_audit_add(tw_logs_audit *a, const tw_tracked_file *file, const char *path,
                       const tw_log_record *record, tw_outbox *outbox);

/* Pushes the pending batch, if any. */
void tw_logs_audit_take(tw_logs_audit *a, tw_outbox *outbox);

/* Whether req is a PutAuditEvents request (its outcome is ours). */
bool tw_logs_audit_owns(const tw_request *req);

/* An outcome of one of our requests: counts refused events and pushes the
 * ones worth another try in a new request. */
void tw_logs_audit_result(tw_logs_audit *a, const tw_request *req,
                          const tw_send_result *result, tw_outbox *outbox);

#endif
