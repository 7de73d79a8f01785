/* outbox.c — spool appends, reads and acks on a worker thread, requests at
 * the sender on the loop (see outbox.h).
 *
 * At most one disk job runs at a time per outbox, which keeps appends in
 * order and the cursor single-threaded. A job takes everything queued since
 * the last one: appends first (so a read in the same job can see them),
 * then acks, then as many reads as there are free sending slots. */
#include "outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

#define DEFAULT_MAX_IN_FLIGHT 4
#define RESEND_DELAY_MS 1000

typedef struct flight {
    tw_outbox *outbox;
    uint64_t id;
    tw_request *req;
    uv_timer_t resend_timer;
} flight;

typedef struct read_record {
    uint64_t id;
    tw_request *req; /* NULL when the record could not be decoded */
} read_record;

/* What one disk job does, filled on the loop, run on a worker thread. */
typedef struct disk_job {
    uv_work_t work;
    tw_outbox *outbox;
    tw_buf *appends;
    size_t n_appends;
    uint64_t append_bytes;
    uint64_t *acks;
    size_t n_acks;
    unsigned want_reads;
    /* results */
    read_record *reads;
    size_t n_reads;
    bool spool_exhausted;
    uint64_t append_failures;
    bool sync_failed;
    tw_spool_dropped dropped;
    char error[TW_ERR_MAX];
} disk_job;

struct tw_outbox {
    uv_loop_t *loop;
    tw_sender *sender;
    tw_spool *spool;
    char *name;
    unsigned max_in_flight;
    tw_outbox_result_fn on_result;
    void (*before_ack)(void *ctx);
    void (*on_progress)(void *ctx);
    void *ctx;
    tw_spool_cursor cursor;
    bool spool_may_have_more;
    /* queued for the next disk job */
    tw_buf *appends;
    size_t n_appends, cap_appends;
    uint64_t queued_bytes; /* of appends, and of the running job's */
    uint64_t *acks;
    size_t n_acks, cap_acks;
    disk_job *busy; /* the running job, or NULL */
    unsigned in_flight;  /* at the sender, or waiting to be resent */
    unsigned reading;    /* reads asked of the running job */
    bool closing;
    bool rewind; /* read the spool from the oldest again once nothing is in flight */
    void (*closed)(void *ctx);
    void *closed_ctx;
    tw_outbox_stats stats;
};

static void kick(tw_outbox *o);

/* ---- the disk job (worker thread) ----------------------------------------- */

static void disk_work(uv_work_t *work)
{
    disk_job *job = work->data;
    tw_outbox *o = job->outbox;
    tw_err err;
    /* One fdatasync for all of the job's appends (requests of 100 audit
     * events come by the hundred). */
    if (job->n_appends > 1)
        tw_spool_defer_sync(o->spool);
    for (size_t i = 0; i < job->n_appends; i++) {
        tw_spool_dropped dropped;
        if (tw_spool_append(o->spool, job->appends[i].data, job->appends[i].len, NULL, &dropped,
                            &err) != 0) {
            job->append_failures++;
            memcpy(job->error, err.msg, sizeof job->error);
            continue;
        }
        if (dropped.records > 0) {
            if (job->dropped.records == 0)
                job->dropped.first_id = dropped.first_id;
            job->dropped.records += dropped.records;
            job->dropped.bytes += dropped.bytes;
            job->dropped.last_id = dropped.last_id;
        }
    }
    if (job->n_appends > 1 && tw_spool_sync(o->spool, &err) != 0) {
        job->sync_failed = true;
        memcpy(job->error, err.msg, sizeof job->error);
    }
    if (job->n_acks > 0 && o->before_ack)
        o->before_ack(o->ctx);
    if (job->n_acks > 0)
        tw_spool_ack_many(o->spool, job->acks, job->n_acks);
    if (job->want_reads > 0)
        job->reads = tw_calloc(job->want_reads, sizeof *job->reads);
    tw_buf payload = TW_BUF_INIT;
    while (job->n_reads < job->want_reads) {
        uint64_t id;
        int rc = tw_spool_read(o->spool, &o->cursor, &id, &payload, &err);
        if (rc == -ENOENT) {
            job->spool_exhausted = true;
            break;
        }
        if (rc != 0) {
            memcpy(job->error, err.msg, sizeof job->error);
            break;
        }
        read_record *r = &job->reads[job->n_reads++];
        r->id = id;
        if (tw_request_decode(payload.data, payload.len, &r->req, &err) != 0) {
            r->req = NULL;
            memcpy(job->error, err.msg, sizeof job->error);
        }
    }
    tw_buf_free(&payload);
}

/* ---- sending (loop) --------------------------------------------------------- */

static void on_sent(void *ctx, tw_request *req, const tw_send_result *result);

static void flight_closed(uv_handle_t *handle)
{
    flight *f = handle->data;
    tw_outbox *o = f->outbox;
    tw_request_free(f->req);
    free(f);
    o->in_flight--;
    kick(o);
}

static void flight_end(flight *f)
{
    uv_close((uv_handle_t *)&f->resend_timer, flight_closed);
}

static void on_resend(uv_timer_t *timer)
{
    flight *f = timer->data;
    tw_sender_submit(f->outbox->sender, f->req, on_sent, f);
}

static void ack_later(tw_outbox *o, uint64_t id)
{
    if (o->n_acks == o->cap_acks) {
        o->cap_acks = o->cap_acks ? o->cap_acks * 2 : 16;
        o->acks = tw_realloc(o->acks, o->cap_acks * sizeof *o->acks);
    }
    o->acks[o->n_acks++] = id;
}

static void report_failure(tw_outbox *o, const tw_request *req, const tw_send_result *r)
{
    if (r->status == TW_SEND_REJECTED) {
        o->stats.rejected++;
        tw_error("%s: %s refused by the endpoint (HTTP %ld): %s: %s; the batch is dropped and "
                 "counted (%" PRIu64 " so far); it will not be retried",
                 o->name, req->label, r->http_status, r->code, r->message, o->stats.rejected);
    } else {
        o->stats.expired++;
        tw_error("%s: %s still undelivered when its retry budget ran out (last error: %s%s%s); "
                 "the batch is dropped and counted (%" PRIu64 " so far)",
                 o->name, req->label, r->code, r->code[0] ? ": " : "", r->message,
                 o->stats.expired);
    }
}

static void on_sent(void *ctx, tw_request *req, const tw_send_result *result)
{
    flight *f = ctx;
    tw_outbox *o = f->outbox;
    (void)req;
    if (result->status == TW_SEND_CANCELLED) {
        flight_end(f); /* stays in the spool for the next start */
        return;
    }
    tw_outbox_verdict verdict = TW_OUTBOX_DONE;
    if (o->on_result)
        verdict = o->on_result(o->ctx, f->req, result);
    if (verdict == TW_OUTBOX_RESEND && !o->closing) {
        o->stats.resent++;
        uv_timer_start(&f->resend_timer, on_resend, RESEND_DELAY_MS, 0);
        return;
    }
    if (result->status == TW_SEND_ACKED)
        o->stats.acked++;
    else
        report_failure(o, f->req, result);
    ack_later(o, f->id);
    flight_end(f);
}

static void send_record(tw_outbox *o, read_record *r, const char *error)
{
    if (!r->req) {
        /* Bytes that are not a request cannot ever be sent: say so once and
         * let them go rather than block everything behind them. */
        tw_error("%s: spool record %" PRIu64 " is unreadable (%s); it is skipped", o->name,
                 r->id, error);
        ack_later(o, r->id);
        return;
    }
    flight *f = tw_calloc(1, sizeof *f);
    f->outbox = o;
    f->id = r->id;
    f->req = r->req;
    uv_timer_init(o->loop, &f->resend_timer);
    f->resend_timer.data = f;
    o->in_flight++;
    tw_sender_submit(o->sender, f->req, on_sent, f);
}

/* ---- scheduling (loop) ------------------------------------------------------ */

static void finish_close(tw_outbox *o)
{
    if (!o->closing || o->busy || o->in_flight > 0)
        return;
    tw_spool_close(o->spool); /* at shutdown: a last small write is acceptable */
    void (*closed)(void *) = o->closed;
    void *ctx = o->closed_ctx;
    free(o->appends);
    free(o->acks);
    free(o->name);
    free(o);
    if (closed)
        closed(ctx);
}

static void disk_done(uv_work_t *work, int status)
{
    (void)status;
    disk_job *job = work->data;
    tw_outbox *o = job->outbox;
    o->busy = NULL;
    o->reading = 0;
    o->queued_bytes -= job->append_bytes;
    for (size_t i = 0; i < job->n_appends; i++)
        tw_buf_free(&job->appends[i]);
    free(job->appends);
    free(job->acks);
    if (job->append_failures > 0) {
        o->stats.push_failures += job->append_failures;
        tw_error("%s: %" PRIu64 " batch%s could not be written to the spool and %s lost: %s",
                 o->name, job->append_failures, job->append_failures == 1 ? "" : "es",
                 job->append_failures == 1 ? "is" : "are", job->error);
    }
    if (job->sync_failed)
        tw_error("%s: %s; the last %zu batches were written but a power loss could lose them",
                 o->name, job->error, job->n_appends);
    if (job->dropped.records > 0)
        tw_warn("%s: spool full: dropped the %" PRIu64 " oldest unsent batches (%" PRIu64
                " bytes, records %" PRIu64 "-%" PRIu64 ") to make room; raise spool_max_size "
                "or fix the endpoint",
                o->name, job->dropped.records, job->dropped.bytes, job->dropped.first_id,
                job->dropped.last_id);
    /* Requests pushed while this job ran are appended by the next one:
     * the spool is only known to be exhausted when none are waiting. */
    if (job->spool_exhausted && o->n_appends == 0)
        o->spool_may_have_more = false;
    for (size_t i = 0; i < job->n_reads; i++) {
        if (o->closing)
            tw_request_free(job->reads[i].req);
        else
            send_record(o, &job->reads[i], job->error);
    }
    free(job->reads);
    free(job);
    if (!o->closing && o->on_progress)
        o->on_progress(o->ctx);
    kick(o); /* also completes a pending close */
}

/* Starts a disk job when there is work and none is running. */
static void kick(tw_outbox *o)
{
    if (o->busy)
        return;
    if (o->rewind && o->in_flight == 0) {
        o->rewind = false;
        o->cursor = (tw_spool_cursor)TW_SPOOL_CURSOR_INIT;
        o->spool_may_have_more = true;
    }
    unsigned free_slots = o->max_in_flight > o->in_flight ? o->max_in_flight - o->in_flight : 0;
    unsigned want = (!o->closing && !o->rewind && o->spool_may_have_more) ? free_slots : 0;
    if (o->n_appends == 0 && o->n_acks == 0 && want == 0) {
        finish_close(o);
        return;
    }
    disk_job *job = tw_calloc(1, sizeof *job);
    job->outbox = o;
    job->work.data = job;
    job->appends = o->appends;
    job->n_appends = o->n_appends;
    for (size_t i = 0; i < job->n_appends; i++)
        job->append_bytes += job->appends[i].len;
    job->acks = o->acks;
    job->n_acks = o->n_acks;
    job->want_reads = want;
    o->appends = NULL;
    o->n_appends = o->cap_appends = 0;
    o->acks = NULL;
    o->n_acks = o->cap_acks = 0;
    o->busy = job;
    o->reading = want;
    uv_queue_work(o->loop, &job->work, disk_work, disk_done);
}

/* ---- public ------------------------------------------------------------------ */

/* Shows the output every pending record (see on_recovered). A record that
 * cannot be read here is skipped: the sending path meets it again and says
 * so there. */
static void replay_pending(tw_spool *spool, const tw_outbox_options *options)
{
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    tw_buf payload = TW_BUF_INIT;
    uint64_t id;
    tw_err err;
    while (tw_spool_read(spool, &cursor, &id, &payload, &err) == 0) {
        tw_request *req;
        if (tw_request_decode(payload.data, payload.len, &req, &err) != 0)
            continue;
        options->on_recovered(options->ctx, req);
        tw_request_free(req);
    }
    tw_buf_free(&payload);
}

int tw_outbox_open(uv_loop_t *loop, tw_sender *sender, const tw_outbox_options *options,
                   tw_outbox **out, tw_err *err)
{
    tw_spool *spool;
    tw_spool_recovery recovery = {0};
    int rc = tw_spool_open(options->dir, &options->spool, &spool, &recovery, err);
    if (rc != 0) {
        tw_buf_free(&recovery.messages);
        tw_err_prefix(err, "%s spool", options->name);
        return rc;
    }
    if (recovery.pending > 0)
        tw_notice("%s: %" PRIu64 " batch%s left in the spool by the last run will be sent "
                  "first",
                  options->name, recovery.pending, recovery.pending == 1 ? "" : "es");
    tw_buf_free(&recovery.messages);
    if (recovery.pending > 0 && options->on_recovered)
        replay_pending(spool, options);
    tw_outbox *o = tw_calloc(1, sizeof *o);
    o->loop = loop;
    o->sender = sender;
    o->spool = spool;
    o->name = tw_strdup(options->name);
    o->max_in_flight = options->max_in_flight ? options->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    o->on_result = options->on_result;
    o->before_ack = options->before_ack;
    o->on_progress = options->on_progress;
    o->ctx = options->ctx;
    o->cursor = (tw_spool_cursor)TW_SPOOL_CURSOR_INIT;
    o->spool_may_have_more = true;
    *out = o;
    kick(o);
    return 0;
}

void tw_outbox_push(tw_outbox *o, tw_request *req)
{
    if (o->n_appends == o->cap_appends) {
        o->cap_appends = o->cap_appends ? o->cap_appends * 2 : 8;
        o->appends = tw_realloc(o->appends, o->cap_appends * sizeof *o->appends);
    }
    tw_buf *encoded = &o->appends[o->n_appends++];
    *encoded = (tw_buf)TW_BUF_INIT;
    tw_request_encode(req, encoded);
    o->queued_bytes += encoded->len;
    tw_request_free(req);
    o->stats.pushed++;
    o->spool_may_have_more = true;
    kick(o);
}

bool tw_outbox_idle(const tw_outbox *o)
{
    return !o->busy && o->n_appends == 0 && o->in_flight == 0;
}

void tw_outbox_set_sender(tw_outbox *o, tw_sender *sender)
{
    o->sender = sender;
    /* Requests at the old sender come back cancelled; their records are
     * still pending in the spool and are read again once they all did. */
    o->rewind = true;
    kick(o);
}

void tw_outbox_close(tw_outbox *o, void (*closed)(void *ctx), void *ctx)
{
    o->closing = true;
    o->closed = closed;
    o->closed_ctx = ctx;
    kick(o);
}

void tw_outbox_stats_get(const tw_outbox *o, tw_outbox_stats *out)
{
    *out = o->stats;
    out->in_flight = o->in_flight;
    out->queued = (unsigned)(o->n_appends + (o->busy ? o->busy->n_appends : 0));
    out->queued_bytes = o->queued_bytes;
    tw_spool_stats_get(o->spool, &out->spool);
}
