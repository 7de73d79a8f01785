/* call.c — the life of one AWS API call after dispatch: its errors, its store
 * jobs, its CloudTrail event and batch id, and its answer in the request's own
 * protocol (see call.h).
 *
 * A call is recorded as a CloudTrail event exactly once: inside the
 * operation's write transaction when the handler used tw_call_write(), else
 * in a write job of its own started by tw_call_finish(), which answers only
 * after that job committed (a client that saw success can look the event up).
 */
#include "call.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "collector.h"
#include "event_history.h"
#include "log.h"
#include "mem.h"
#include "protocol.h"
#include "timefmt.h"

#define BATCH_KEEP_MS (7 * 24 * 3600 * INT64_C(1000))
#define BATCH_PRUNE_EVERY_MS (3600 * INT64_C(1000))
#define DEFAULT_QUERY_NAMESPACE "http://monitoring.amazonaws.com/doc/2010-08-01/"

/* A string the call keeps (tw_call_keep). */
typedef struct kept_string {
    struct kept_string *next;
    char text[];
} kept_string;

typedef int (*call_job_fn)(tw_db *db, tw_call *call);
typedef void (*call_done_fn)(tw_call *call);

/* The call and what only call.c needs: the public struct comes first so a
 * tw_call * is also a call_impl *. */
typedef struct call_impl {
    tw_call call;
    tw_collector_user user; /* identity.user points here */
    kept_string *kept;
    /* The store job under way, if any. */
    call_job_fn job_fn;
    call_done_fn job_done;
    int fn_status;
    bool job_records_event; /* the job writes the call's event */
    bool job_records_batch; /* ... and its batch row */
    bool job_prunes_batches;
    bool batch_recorded;
    char *replay_output; /* batch lookup: the stored output (JSON text) */
    bool replay_found;
} call_impl;

static call_impl *impl_of(tw_call *call)
{
    return (call_impl *)call;
}

const char *tw_protocol_name(tw_protocol protocol)
{
    switch (protocol) {
    case TW_PROTOCOL_JSON_1_1: return "awsJson1_1";
    case TW_PROTOCOL_JSON_1_0: return "awsJson1_0";
    case TW_PROTOCOL_QUERY: return "awsQuery";
    case TW_PROTOCOL_CBOR: return "rpcv2Cbor";
    case TW_PROTOCOL_REST_JSON: return "restJson1";
    case TW_PROTOCOL_S3: return "restXml";
    }
    return "unknown";
}

/* ---- creation and ownership ---------------------------------------------- */

static void uuid_v4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        /* RAND_bytes fails only when the OS entropy source is broken; an id
         * that is not unique would merge two calls' events, so stop. */
        tw_error("RAND_bytes failed: cannot make request ids");
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

tw_call *tw_call_new(tw_collector *collector, tw_http_request *http, tw_protocol protocol)
{
    call_impl *impl = tw_calloc(1, sizeof *impl);
    tw_call *call = &impl->call;
    call->collector = collector;
    call->http = http;
    call->protocol = protocol;
    uuid_v4(call->request_id);
    uuid_v4(call->event_id);
    call->now_ms = tw_time_now_ms();
    call->input = json_object();
    return call;
}

const char *tw_call_keep(tw_call *call, const char *s, size_t len)
{
    call_impl *impl = impl_of(call);
    kept_string *k = tw_malloc(sizeof *k + len + 1);
    memcpy(k->text, s, len);
    k->text[len] = '\0';
    k->next = impl->kept;
    impl->kept = k;
    return k->text;
}

static const char *keep_cstr(tw_call *call, const char *s)
{
    return s == NULL ? NULL : tw_call_keep(call, s, strlen(s));
}

void tw_call_set_identity(tw_call *call, const tw_collector_user *user,
                          const char *access_key_id, const char *session_token,
                          const char *account_id)
{
    call_impl *impl = impl_of(call);
    impl->user = *user;
    impl->user.name = keep_cstr(call, user->name);
    impl->user.access_key_id = keep_cstr(call, user->access_key_id);
    impl->user.secret_access_key = NULL;
    call->identity.user = &impl->user;
    call->identity.access_key_id = keep_cstr(call, access_key_id);
    call->identity.session_token = keep_cstr(call, session_token);
    call->identity.account_id = keep_cstr(call, account_id);
}

static void call_free(tw_call *call)
{
    call_impl *impl = impl_of(call);
    json_decref(call->input);
    json_decref(call->output);
    json_decref(call->event_request_parameters);
    json_decref(call->event_response_elements);
    json_decref(call->event_resources);
    tw_buf_free(&call->error.message);
    free(impl->replay_output);
    while (impl->kept != NULL) {
        kept_string *next = impl->kept->next;
        free(impl->kept);
        impl->kept = next;
    }
    free(impl);
}

/* ---- errors -------------------------------------------------------------- */

static void set_error(tw_call *call, const char *code, const char *query_code, int status,
                      const char *fmt, va_list ap) TW_PRINTF(5, 0);
static void set_error(tw_call *call, const char *code, const char *query_code, int status,
                      const char *fmt, va_list ap)
{
    if (status <= 0)
        status = 400;
    call->error.code = code;
    call->error.query_code = query_code;
    call->error.status = status;
    call->error.server_fault = status >= 500;
    tw_buf_reset(&call->error.message);
    tw_buf_vprintf(&call->error.message, fmt, ap);
}

int tw_call_fail(tw_call *call, const char *code, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(call, code, NULL, status, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int tw_call_fail_query(tw_call *call, const char *code, const char *query_code, int status,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(call, code, query_code, status, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A server fault in the service's own words, so that SDKs retry it: Logs
 * models ServiceUnavailableException, CloudWatch InternalServiceFault
 * (query InternalServiceError); the rest use the common InternalFailure. */
static void fail_internal(tw_call *call, const char *what)
{
    const tw_service *s = call->service;
    if (s != NULL && s->xml_namespace != NULL)
        tw_call_fail_query(call, "InternalServiceFault", "InternalServiceError", 500, "%s", what);
    else if (s != NULL && strcmp(s->signing_name, "logs") == 0)
        tw_call_fail(call, "ServiceUnavailableException", 500, "%s", what);
    else
        tw_call_fail(call, "InternalFailure", 500, "%s", what);
}

/* ---- what gets recorded -------------------------------------------------- */

static bool event_wanted(const tw_call *call)
{
    return call->operation != NULL && !(call->operation->flags & TW_OP_NOT_RECORDED)
           && call->identity.user != NULL && !call->event_recorded;
}

static bool batch_wanted(const tw_call *call)
{
    return call->batch_id != NULL && call->operation != NULL && call->service != NULL
           && call->region != NULL && call->error.code == NULL
           && !((const call_impl *)call)->batch_recorded;
}

/* Decides, on the loop, what the next write job stores besides fn's work. */
static void plan_records(call_impl *impl)
{
    tw_call *call = &impl->call;
    impl->job_records_event = event_wanted(call);
    impl->job_records_batch = call->batch_id != NULL; /* re-checked after fn */
    impl->job_prunes_batches = false;
    tw_collector *c = call->collector;
    if (impl->job_records_batch
        && (c->batches_pruned_ms == 0
            || call->now_ms - c->batches_pruned_ms >= BATCH_PRUNE_EVERY_MS)) {
        c->batches_pruned_ms = call->now_ms;
        impl->job_prunes_batches = true;
    }
}

/* ---- the batches table --------------------------------------------------- */

const tw_migration tw_call_batch_migrations[] = {
    {"batches", 1,
     "CREATE TABLE batches ("
     " batch_id TEXT NOT NULL, service TEXT NOT NULL, operation TEXT NOT NULL,"
     " region TEXT NOT NULL, status INTEGER NOT NULL, output TEXT,"
     " created_ms INTEGER NOT NULL,"
     " PRIMARY KEY (batch_id, service, operation, region)) WITHOUT ROWID;"
     "CREATE INDEX batches_by_created ON batches (created_ms);"},
    {NULL, 0, NULL},
};

static void bind_batch_key(sqlite3_stmt *st, const tw_call *call)
{
    sqlite3_bind_text(st, 1, call->batch_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, call->service->signing_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, call->operation->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, call->region, -1, SQLITE_STATIC);
}

static int batch_insert(tw_db *db, tw_call *call)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT OR REPLACE INTO batches (batch_id, service, operation, region, status,"
            " output, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (st == NULL)
        return -EIO;
    char *output = call->output != NULL ? json_dumps(call->output, JSON_COMPACT) : NULL;
    bind_batch_key(st, call);
    sqlite3_bind_int(st, 5, 200);
    sqlite3_bind_text(st, 6, output != NULL ? output : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, call->now_ms);
    int rc = sqlite3_step(st);
    free(output);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tw_warn("storing batch id %s failed: %s", call->batch_id, tw_db_error(db));
        return -EIO;
    }
    return 0;
}

static int batch_prune(tw_db *db, int64_t now_ms)
{
    sqlite3_stmt *st = tw_db_prepare(db, "DELETE FROM batches WHERE created_ms < ?1");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, now_ms - BATCH_KEEP_MS);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tw_warn("pruning old batch ids failed: %s", tw_db_error(db));
        return -EIO;
    }
    return 0;
}

/* The records a write job adds after the operation's own work. Any failure
 * makes the whole job roll back: an operation and its event are committed
 * together or not at all (event_history.h). */
static int write_records(tw_db *db, call_impl *impl)
{
    tw_call *call = &impl->call;
    int rc;
    if (impl->job_records_event && (rc = tw_event_history_record(db, call)) < 0) {
        tw_warn("recording the CloudTrail event of %s failed (%d)", call->request_id, rc);
        return rc;
    }
    if (impl->job_records_batch && batch_wanted(call) && (rc = batch_insert(db, call)) < 0)
        return rc;
    if (impl->job_prunes_batches)
        (void)batch_prune(db, call->now_ms); /* a failed prune is retried next hour */
    return 0;
}

static void after_records(call_impl *impl, int status)
{
    tw_call *call = &impl->call;
    if (status != 0)
        return;
    if (impl->job_records_event)
        call->event_recorded = true;
    if (impl->job_records_batch && batch_wanted(call))
        impl->batch_recorded = true;
}

/* ---- tw_call_write / tw_call_read ---------------------------------------- */

static int exec_sql(tw_db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(tw_db_handle(db), sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    tw_warn("%s failed: %s", sql, msg != NULL ? msg : "?");
    sqlite3_free(msg);
    return -EIO;
}

/* fn runs inside a savepoint of its own so that a failed operation rolls
 * back alone and its (failed) call is still recorded in this transaction. */
static int write_job(tw_db *db, void *arg)
{
    call_impl *impl = arg;
    tw_call *call = &impl->call;
    if (exec_sql(db, "SAVEPOINT tw_call_fn") < 0)
        return -EIO;
    impl->fn_status = impl->job_fn(db, call);
    if (impl->fn_status != 0) {
        if (call->error.code == NULL)
            fail_internal(call, "The operation failed inside the store; try again.");
        if (exec_sql(db, "ROLLBACK TO tw_call_fn") < 0)
            return -EIO;
    }
    if (exec_sql(db, "RELEASE tw_call_fn") < 0)
        return -EIO;
    return write_records(db, impl);
}

static void finish_job_done(call_impl *impl)
{
    call_done_fn done = impl->job_done;
    impl->job_fn = NULL;
    impl->job_done = NULL;
    if (done != NULL)
        done(&impl->call);
    else
        tw_call_finish(&impl->call);
}

static void write_done(void *arg, int status)
{
    call_impl *impl = arg;
    tw_call *call = &impl->call;
    after_records(impl, status);
    if (status != 0 && impl->fn_status == 0) {
        /* fn's work is not in the database (commit failed, or its event
         * could not be written): the client must not see success. */
        json_decref(call->output);
        call->output = NULL;
        fail_internal(call, "The request could not be committed to the store; try again.");
    }
    finish_job_done(impl);
}

void tw_call_write(tw_call *call, int (*fn)(tw_db *db, tw_call *call),
                   void (*done)(tw_call *call))
{
    call_impl *impl = impl_of(call);
    impl->job_fn = fn;
    impl->job_done = done;
    impl->fn_status = 0;
    plan_records(impl);
    tw_store_write(call->collector->store, write_job, write_done, impl);
}

static int read_job(tw_db *db, void *arg)
{
    call_impl *impl = arg;
    tw_call *call = &impl->call;
    int rc = impl->job_fn(db, call);
    if (rc != 0 && call->error.code == NULL)
        fail_internal(call, "The store could not be read; try again.");
    return rc;
}

static void read_done(void *arg, int status)
{
    (void)status; /* read_job turned a failure into the call's error */
    finish_job_done(arg);
}

void tw_call_read(tw_call *call, int (*fn)(tw_db *db, tw_call *call),
                  void (*done)(tw_call *call))
{
    call_impl *impl = impl_of(call);
    impl->job_fn = fn;
    impl->job_done = done;
    tw_store_read(call->collector->store, read_job, read_done, impl);
}

/* ---- exactly-once batches ------------------------------------------------ */

typedef struct batch_check {
    call_impl *impl;
    void (*run)(tw_call *call);
} batch_check;

static int batch_lookup_job(tw_db *db, void *arg)
{
    call_impl *impl = ((batch_check *)arg)->impl;
    sqlite3_stmt *st = tw_db_prepare(
        db, "SELECT output FROM batches WHERE batch_id = ?1 AND service = ?2"
            " AND operation = ?3 AND region = ?4");
    if (st == NULL)
        return -EIO;
    bind_batch_key(st, &impl->call);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        impl->replay_output = tw_strdup(text != NULL ? text : "{}");
        impl->replay_found = true;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static void batch_lookup_done(void *arg, int status)
{
    batch_check *check = arg;
    call_impl *impl = check->impl;
    void (*run)(tw_call *call) = check->run;
    free(check);
    tw_call *call = &impl->call;
    if (status != 0) {
        /* Running the handler could apply the batch twice; let the agent
         * retry instead. */
        fail_internal(call, "The batch id could not be checked; try again.");
        tw_call_finish(call);
        return;
    }
    if (!impl->replay_found) {
        run(call);
        return;
    }
    tw_debug("batch %s (%s %s) replayed: answering the stored result", call->batch_id,
             call->service->signing_name, call->operation->name);
    json_t *output = json_loads(impl->replay_output, 0, NULL);
    json_decref(call->output);
    call->output = output;
    impl->batch_recorded = true;
    call->event_recorded = true; /* a replay is a no-op: no second event */
    tw_call_finish(call);
}

void tw_call_check_batch(tw_call *call, void (*run)(tw_call *call))
{
    if (call->batch_id == NULL || call->collector == NULL || call->collector->store == NULL
        || call->service == NULL || call->operation == NULL || call->region == NULL) {
        run(call);
        return;
    }
    batch_check *check = tw_malloc(sizeof *check);
    check->impl = impl_of(call);
    check->run = run;
    tw_store_read(call->collector->store, batch_lookup_job, batch_lookup_done, check);
}

/* ---- the answer ----------------------------------------------------------- */

static bool query_compatible(const tw_call *call)
{
    return (call->protocol == TW_PROTOCOL_JSON_1_0 || call->protocol == TW_PROTOCOL_CBOR)
           && (call->service == NULL || call->service->xml_namespace != NULL);
}

static const char *query_namespace(const tw_call *call)
{
    if (call->service != NULL && call->service->xml_namespace != NULL)
        return call->service->xml_namespace;
    const tw_service *const *s = call->collector != NULL ? call->collector->services : NULL;
    for (; s != NULL && *s != NULL; s++)
        if ((*s)->xml_namespace != NULL)
            return (*s)->xml_namespace;
    return DEFAULT_QUERY_NAMESPACE;
}

static void put_xml_text(tw_buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<': tw_buf_puts(out, "&lt;"); break;
        case '>': tw_buf_puts(out, "&gt;"); break;
        case '&': tw_buf_puts(out, "&amp;"); break;
        case '"': tw_buf_puts(out, "&quot;"); break;
        default: tw_buf_putc(out, *s);
        }
    }
}

/* restXml (S3) <Error>: issue 6 brings the S3 service; its errors already
 * have the right envelope. */
static void encode_s3_error(tw_buf *out, const tw_call *call, const char *code)
{
    tw_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    put_xml_text(out, code);
    tw_buf_puts(out, "</Code><Message>");
    put_xml_text(out, tw_buf_cstr(&call->error.message));
    tw_buf_puts(out, "</Message><RequestId>");
    put_xml_text(out, call->request_id);
    tw_buf_puts(out, "</RequestId></Error>");
}

static void encode_error(tw_call *call, tw_http_response *resp)
{
    const tw_api_error *e = &call->error;
    const char *query_code = e->query_code != NULL ? e->query_code : e->code;
    const char *message = tw_buf_cstr(&e->message);
    resp->status = e->status > 0 ? e->status : (e->server_fault ? 500 : 400);
    if (query_compatible(call)) {
        char value[160];
        snprintf(value, sizeof value, "%s;%s", query_code, e->server_fault ? "Receiver" : "Sender");
        tw_http_response_add_header(resp, "x-amzn-query-error", value);
    }
    switch (call->protocol) {
    case TW_PROTOCOL_QUERY:
        tw_query_encode_error(&resp->body, query_namespace(call), query_code, message,
                              e->server_fault, call->request_id);
        return;
    case TW_PROTOCOL_CBOR:
        tw_cbor_encode_error(&resp->body, e->code, message);
        return;
    case TW_PROTOCOL_REST_JSON:
        tw_http_response_add_header(resp, "x-amzn-ErrorType", e->code);
        tw_json_encode_error(&resp->body, e->code, message);
        return;
    case TW_PROTOCOL_S3:
        encode_s3_error(&resp->body, call, query_code);
        return;
    case TW_PROTOCOL_JSON_1_0:
    case TW_PROTOCOL_JSON_1_1:
        tw_json_encode_error(&resp->body, e->code, message);
        return;
    }
}

static void encode_output(tw_call *call, tw_http_response *resp)
{
    resp->status = 200;
    switch (call->protocol) {
    case TW_PROTOCOL_QUERY:
        tw_query_encode_response(&resp->body, call->operation, query_namespace(call),
                                 call->output, call->request_id);
        return;
    case TW_PROTOCOL_CBOR:
        tw_cbor_encode_output(&resp->body, call->operation, call->output);
        return;
    case TW_PROTOCOL_S3:
    case TW_PROTOCOL_REST_JSON:
    case TW_PROTOCOL_JSON_1_0:
    case TW_PROTOCOL_JSON_1_1:
        /* Logs lists no timestamp members (its times are ms longs), so
         * converting listed members to epoch seconds is right for every
         * JSON service: CloudWatch JSON 1.0, CloudTrail, cloudtrail-data. */
        tw_json_encode_output(&resp->body, call->operation, call->output, true);
        return;
    }
}

static const char *content_type(tw_protocol protocol)
{
    switch (protocol) {
    case TW_PROTOCOL_JSON_1_1: return "application/x-amz-json-1.1";
    case TW_PROTOCOL_JSON_1_0: return "application/x-amz-json-1.0";
    case TW_PROTOCOL_QUERY: return "text/xml";
    case TW_PROTOCOL_CBOR: return "application/cbor";
    case TW_PROTOCOL_REST_JSON: return "application/json";
    case TW_PROTOCOL_S3: return "application/xml";
    }
    return NULL;
}

static void log_failure(const tw_call *call)
{
    const tw_api_error *e = &call->error;
    const char *message = tw_buf_cstr(&e->message);
    /* Only the first line: debug signature messages carry the canonical
     * request on the following ones. */
    int first_line = (int)strcspn(message, "\n");
    tw_log(e->status >= 500 ? TW_LOG_WARN : TW_LOG_DEBUG,
           "%s %s from %s (%s, key %s): %s %d: %.*s [request %s]",
           call->service != NULL ? call->service->signing_name : "-",
           call->operation != NULL ? call->operation->name : "-",
           call->http != NULL ? call->http->peer_ip : "-", tw_protocol_name(call->protocol),
           call->identity.access_key_id != NULL ? call->identity.access_key_id : "-", e->code,
           e->status, first_line, message, call->request_id);
}

static void respond(tw_call *call)
{
    tw_http_response resp;
    memset(&resp, 0, sizeof resp);
    tw_http_response_add_header(&resp, "x-amzn-RequestId", call->request_id);
    if (call->protocol == TW_PROTOCOL_CBOR)
        tw_http_response_add_header(&resp, "Smithy-Protocol", "rpc-v2-cbor");
    resp.content_type = content_type(call->protocol);
    if (call->collector != NULL)
        call->collector->calls++;
    if (call->error.code != NULL) {
        if (call->collector != NULL)
            call->collector->failed_calls++;
        log_failure(call);
        encode_error(call, &resp);
    } else {
        encode_output(call, &resp);
    }
    tw_http_respond(call->http, &resp);
    call_free(call);
}

/* ---- tw_call_finish ------------------------------------------------------- */

static int record_job(tw_db *db, void *arg)
{
    return write_records(db, arg);
}

static void record_done(void *arg, int status)
{
    call_impl *impl = arg;
    after_records(impl, status);
    if (status != 0)
        tw_warn("the CloudTrail event of request %s could not be stored (%d); answering anyway",
                impl->call.request_id, status);
    respond(&impl->call);
}

void tw_call_finish(tw_call *call)
{
    call_impl *impl = impl_of(call);
    bool has_store = call->collector != NULL && call->collector->store != NULL;
    if (has_store && (event_wanted(call) || batch_wanted(call))) {
        plan_records(impl);
        tw_store_write(call->collector->store, record_job, record_done, impl);
        return;
    }
    respond(call);
}
