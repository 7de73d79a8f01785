/* audit_ingest.c — the cloudtrail-data service (REST-JSON, POST
 * /PutAuditEvents?channelArn=...): PutAuditEvents' handler and its store
 * job, and the table of ids already ingested (audit_ingest.h).
 *
 * The request is checked on the loop (audit_events.c: bounded by 100
 * events and 1 MB); one write job then stores the accepted events into the
 * event history, in the same transaction as the call's own (data) event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "audit_events.h"
#include "audit_ingest.h"
#include "collector.h"
#include "event_history.h"
#include "log.h"
#include "mem.h"
#include "services.h"

#define EVENT_ID_SIZE 37

const tw_migration tw_audit_ingest_migrations[] = {
    {"audit_events", 1,
     "CREATE TABLE audit_event_ids ("
     " channel TEXT NOT NULL, id TEXT NOT NULL, event_id TEXT NOT NULL,"
     " ingested_ms INTEGER NOT NULL, PRIMARY KEY (channel, id)) WITHOUT ROWID;"
     "CREATE INDEX audit_event_ids_by_age ON audit_event_ids (ingested_ms);"},
    {NULL, 0, NULL},
};

typedef struct ingest_state {
    tw_audit_request request;
    char (*event_ids)[EVENT_ID_SIZE]; /* one fresh id per event, used if it is new */
} ingest_state;

static void event_id_v4(char out[EVENT_ID_SIZE])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        /* Only a broken OS entropy source gets here; ids that repeat would
         * merge two events. */
        tw_error("RAND_bytes failed: cannot make event ids");
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, EVENT_ID_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* ---- the store ---------------------------------------------------------------- */

/* 1 and the first eventID when (channel, id) was ingested since since_ms,
 * 0 when not, or -EIO. */
static int find_ingested(tw_db *db, const char *channel, const char *id, int64_t since_ms,
                         char *event_id, size_t size)
{
    sqlite3_stmt *st = tw_db_prepare(db, "SELECT event_id FROM audit_event_ids"
                                         " WHERE channel = ?1 AND id = ?2 AND ingested_ms >= ?3");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, since_ms);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(event_id, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        tw_warn("PutAuditEvents: looking up id %s failed: %s", id, tw_db_error(db));
        return -EIO;
    }
    return rc == SQLITE_ROW;
}

static int remember_id(tw_db *db, const char *channel, const char *id, const char *event_id,
                       int64_t now_ms)
{
    sqlite3_stmt *st = tw_db_prepare(db, "INSERT OR REPLACE INTO audit_event_ids"
                                         " (channel, id, event_id, ingested_ms)"
                                         " VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int store_event(tw_db *db, const tw_call *call, const tw_audit_request *request,
                       const tw_audit_event *event, const char *event_id)
{
    size_t len = 0;
    char *record = tw_audit_record(event, event_id, call->region, call->identity.account_id,
                                   request->channel_arn, call->now_ms, &len);
    tw_event_row row = {
        .region = call->region,
        .time_ms = event->time_ms,
        .category = "ActivityAuditLog",
        .lookup = true, /* the issue: ingested audit events join the history */
        .event_id = event_id,
        .event_name = event->event_name,
        .event_source = event->event_source,
        .username = event->principal_id,
        .read_only = event->read_only,
        .record = record,
        .record_len = len,
    };
    int rc = tw_event_history_insert(db, &row, NULL);
    free(record);
    if (rc == 0)
        rc = remember_id(db, request->channel_arn, event->id, event_id, call->now_ms);
    return rc;
}

int tw_audit_ingest_expire(tw_db *db, int64_t now_ms, size_t budget, size_t *deleted,
                           bool *more)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "DELETE FROM audit_event_ids WHERE (channel, id) IN (SELECT channel, id FROM"
            " audit_event_ids WHERE ingested_ms < ?1 LIMIT ?2)");
    *deleted = 0;
    *more = false;
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, now_ms - TW_AUDIT_DEDUP_MS);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)budget);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tw_warn("forgetting old audit event ids failed: %s", tw_db_error(db));
        return -EIO;
    }
    *deleted = (size_t)sqlite3_changes(tw_db_handle(db));
    *more = *deleted == budget;
    return 0;
}

/* ---- PutAuditEvents ------------------------------------------------------------ */

static int ingest_job(tw_db *db, tw_call *call)
{
    ingest_state *s = call->state;
    const tw_audit_request *request = &s->request;
    json_t *successful = json_array(), *failed = json_array();
    int rc = 0;
    for (size_t i = 0; i < request->n_events && rc >= 0; i++) {
        const tw_audit_event *event = &request->events[i];
        if (event->error_code != NULL) {
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s}", "id", event->id,
                                                    "errorCode", event->error_code,
                                                    "errorMessage", event->error_message));
            continue;
        }
        /* A repeated id within 24 hours is accepted once (spec §6): the
         * same eventID again, nothing stored twice. */
        char first[TW_AUDIT_ID_MAX + 1];
        rc = find_ingested(db, request->channel_arn, event->id,
                           call->now_ms - TW_AUDIT_DEDUP_MS, first, sizeof first);
        const char *event_id = rc == 1 ? first : s->event_ids[i];
        if (rc == 0)
            rc = store_event(db, call, request, event, event_id);
        if (rc >= 0)
            json_array_append_new(successful,
                                  json_pack("{s:s, s:s}", "id", event->id, "eventID", event_id));
    }
    if (rc < 0) {
        json_decref(successful);
        json_decref(failed);
        return rc;
    }
    call->output = json_pack("{s:o, s:o}", "successful", successful, "failed", failed);
    return 0;
}

static void ingest_done(tw_call *call)
{
    ingest_state *s = call->state;
    if (s != NULL) {
        tw_audit_request_free(&s->request);
        free(s->event_ids);
        free(s);
        call->state = NULL;
    }
    tw_call_finish(call);
}

/* The call's own CloudTrail (data) event names the channel, not 1 MB of
 * events; its answer is not worth repeating either. */
static void describe_call(tw_call *call, const tw_audit_request *request)
{
    json_t *input = call->input;
    json_decref(call->event_request_parameters);
    call->event_request_parameters =
        json_pack("{s:O*, s:O*}", "channelArn", json_object_get(input, "channelArn"),
                  "externalId", json_object_get(input, "externalId"));
    json_decref(call->event_response_elements);
    call->event_response_elements = json_null();
    if (request->channel_arn != NULL && call->identity.account_id != NULL) {
        json_decref(call->event_resources);
        call->event_resources = json_pack("[{s:s, s:s, s:s}]", "ARN", request->channel_arn,
                                          "accountId", call->identity.account_id, "type",
                                          "AWS::CloudTrail::Channel");
    }
}

static void put_audit_events(tw_call *call)
{
    ingest_state *s = tw_calloc(1, sizeof *s);
    call->state = s;
    int rc = tw_audit_parse(call, &s->request);
    describe_call(call, &s->request);
    if (rc < 0) {
        ingest_done(call);
        return;
    }
    s->event_ids = tw_calloc(s->request.n_events, sizeof *s->event_ids);
    for (size_t i = 0; i < s->request.n_events; i++)
        event_id_v4(s->event_ids[i]);
    tw_call_write(call, ingest_job, ingest_done);
}

/* ---- the service ---- */

static const tw_operation cloudtrail_data_operations[] = {
    /* Lake ingestion is a data-plane call: recorded as a Data event. */
    {"PutAuditEvents", put_audit_events, TW_OP_DATA_EVENT, NULL, NULL},
};

/* REST-JSON: dispatch.c routes POST /<Operation> to the service that has
 * neither a JSON target prefix nor a query namespace. */
const tw_service tw_cloudtrail_data_service = {
    .signing_name = "cloudtrail-data",
    .event_source = "cloudtrail-data.amazonaws.com",
    .json_target_prefix = NULL,
    .xml_namespace = NULL,
    .operations = cloudtrail_data_operations,
    .n_operations = sizeof cloudtrail_data_operations / sizeof cloudtrail_data_operations[0],
    .migrations = tw_audit_ingest_migrations,
    .invalid_parameter_code = "ValidationException",
    .missing_parameter_code = "ValidationException",
};
