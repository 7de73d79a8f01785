/* logs.c — one [logs] section's pipeline (see logs.h).
 *
 * Positions. Each stream's batch remembers, per file that contributed, the
 * end of the last line whose record it holds (or dropped). When the batch is
 * taken, that end is clamped to the oldest line the file's parser still
 * holds (a Rails request waiting for its Completed line), so the position a
 * request carries never passes a line that is in no request. The request's
 * meta carries the positions; the outbox's on_recovered and result callbacks
 * turn them into spooled and acknowledged positions in the checkpoint. */
#include "logs.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cwl_batch.h"
#include "cwl_names.h"
#include "cwl_requests.h"
#include "fsutil.h"
#include "log.h"
#include "log_parser.h"
#include "logs_audit.h"
#include "logs_meta.h"
#include "mem.h"
#include "multiline.h"
#include "outbox.h"
#include "tail.h"
#include "timefmt.h"

#define TICK_MS 1000
#define BATCH_PERIOD_MS 5000   /* the CloudWatch agent's force_flush_interval */
/* Reading pauses while this much waits in memory for the spool (a 1 MiB
 * PutLogEvents body each, towards the loopback): it bounds the agent's
 * memory, and the disk keeps up at well over 100 MiB/s anyway. */
#define PAUSE_QUEUED_BYTES (2u << 20)
#define PAUSE_QUEUED 64 /* requests (audit requests are small and many) */

typedef struct logs_file logs_file;
typedef struct stream stream;

typedef struct contribution {
    logs_file *file; /* NULL once the file was let go (nothing held then) */
    tw_tracked_file tracked;
    uint64_t end;
} contribution;

struct stream {
    stream *next;
    char *group, *name;
    tw_cwl_batch *batch;
    int64_t first_add_ms;
    contribution *contribs;
    size_t n_contribs, cap_contribs;
    unsigned files; /* followed files writing into it */
};

struct logs_file {
    tw_logs *logs;
    tw_tail_file *tail_file;
    void *parser;
    tw_multiline group; /* multiline_start: lines before the parser sees them */
    stream *stream;
    bool feeding;
    uint64_t pending_before; /* the parser's pending offset before this feed */
    logs_file *next;
};

struct tw_logs {
    uv_loop_t *loop;
    const tw_logs_config *config; /* borrowed from the agent's config */
    const char *hostname;
    char *name;
    char *log_format, *user_tag;
    const tw_log_parser_ops *parser_ops;
    tw_log_parser_options parser_options;
    tw_checkpoint *checkpoint;
    tw_outbox *outbox;
    tw_sender *sender;
    tw_tail *tail;
    bool has_multiline;
    regex_t multiline_start;
    tw_logs_audit audit; /* audit = yes */
    stream *streams;
    logs_file *files;
    uv_timer_t tick;
    uv_work_t save_work;
    bool saving; /* save_work is queued or running */
    bool save_pending_stop; /* the stop waits for it */
    bool stopping, paused;
    bool spool_paused, queue_paused;
    uint64_t spool_max;
    int gzip_level; /* 0 towards an endpoint on this machine */
    int64_t clock_offset_ms; /* the endpoint's clock minus ours (sender), per tick */
    int64_t now_ms; /* the read time of the newest line, or the tick's time */
    unsigned creating; /* create calls at the sender */
    tw_buf body;
    tw_logs_stats stats;
    void (*stopped)(void *ctx);
    void *stopped_ctx;
};

static void update_pause(tw_logs *l);
static void continue_stop(tw_logs *l);
static void tick_closed(uv_handle_t *handle);

/* ---- streams and batches ------------------------------------------------------ */

static stream *stream_for(tw_logs *l, const char *group, const char *name)
{
    for (stream *s = l->streams; s; s = s->next)
        if (strcmp(s->name, name) == 0 && strcmp(s->group, group) == 0)
            return s;
    stream *s = tw_calloc(1, sizeof *s);
    s->group = tw_strdup(group);
    s->name = tw_strdup(name);
    s->batch = tw_cwl_batch_new(group, name, 0);
    s->next = l->streams;
    l->streams = s;
    return s;
}

static contribution *contribution_for(stream *s, logs_file *f)
{
    const tw_tracked_file *t = tw_tail_file_tracked(f->tail_file);
    for (size_t i = s->n_contribs; i > 0; i--)
        if (s->contribs[i - 1].file == f && s->contribs[i - 1].tracked.key == t->key)
            return &s->contribs[i - 1];
    if (s->n_contribs == s->cap_contribs) {
        s->cap_contribs = s->cap_contribs ? s->cap_contribs * 2 : 4;
        s->contribs = tw_realloc(s->contribs, s->cap_contribs * sizeof *s->contribs);
    }
    contribution *c = &s->contribs[s->n_contribs++];
    *c = (contribution){.file = f, .tracked = *t, .end = 0};
    return c;
}

/* The oldest line of the file not yet in a record: held by the multiline
 * grouping or by the parser. */
static uint64_t held_offset(const tw_logs *l, const logs_file *f)
{
    uint64_t held = tw_multiline_pending(&f->group);
    if (l->parser_ops->pending_offset) {
        uint64_t p = l->parser_ops->pending_offset(f->parser);
        if (p < held)
            held = p;
    }
    return held;
}

/* Where the file's lines are complete in what the batch holds. */
static uint64_t safe_position(const tw_logs *l, const contribution *c)
{
    uint64_t pos = c->end;
    const logs_file *f = c->file;
    if (f) {
        uint64_t pending = f->feeding ? f->pending_before : held_offset(l, f);
        if (pending < pos)
            pos = pending;
    }
    return pos;
}

static void take_batch(tw_logs *l, stream *s)
{
    size_t n = tw_cwl_batch_count(s->batch);
    if (n == 0)
        return; /* only dropped events so far: their positions ride with the
                   next request (an empty one cannot be sent) */
    tw_buf meta = TW_BUF_INIT;
    tw_logs_meta_begin(&meta, n, s->group, s->name);
    for (size_t i = 0; i < s->n_contribs; i++) {
        contribution *c = &s->contribs[i];
        uint64_t pos = safe_position(l, c);
        if (pos > 0) {
            tw_checkpoint_meta_add(&meta, &c->tracked, pos);
            tw_checkpoint_note_spooled(l->checkpoint, &c->tracked, pos);
        }
    }
    s->n_contribs = 0;
    s->first_add_ms = 0;
    /* Audit events of these lines go to the spool first (logs_audit.h). */
    tw_logs_audit_take(&l->audit, l->outbox);
    tw_buf_reset(&l->body);
    tw_cwl_batch_take(s->batch, &l->body);
    tw_request *req =
        tw_cwl_put_log_events_request(s->group, s->name, n, &l->body, l->gzip_level);
    tw_buf_free(&req->meta);
    req->meta = meta;
    l->stats.batches++;
    tw_outbox_push(l->outbox, req);
    update_pause(l);
}

/* ---- records ------------------------------------------------------------------ */

static void on_record(void *ctx, const tw_log_record *rec)
{
    logs_file *f = ctx;
    tw_logs *l = f->logs;
    stream *s = f->stream;
    l->stats.records++;
    if (!rec->parsed)
        l->stats.unparsed++;
    /* The 14-day and 2-hour windows are the endpoint's, on its clock. */
    int64_t local_now = l->now_ms;
    int64_t now = local_now + l->clock_offset_ms;
    tw_cwl_add_result r = tw_cwl_batch_add(s->batch, rec->timestamp_ms, rec->message,
                                           rec->message_len, now);
    if (r == TW_CWL_FULL) {
        take_batch(l, s);
        r = tw_cwl_batch_add(s->batch, rec->timestamp_ms, rec->message, rec->message_len, now);
    }
    if (r != TW_CWL_ADDED)
        l->stats.events_dropped++;
    else if (s->first_add_ms == 0)
        s->first_add_ms = local_now;
    contribution *c = contribution_for(s, f);
    if (rec->end > c->end)
        c->end = rec->end;
    tw_logs_audit_add(&l->audit, tw_tail_file_tracked(f->tail_file),
                      tw_tail_file_path(f->tail_file), rec, l->outbox);
}

static void feed_parser(tw_logs *l, logs_file *f, const tw_log_line *line)
{
    if (line->read_time_ms > l->now_ms)
        l->now_ms = line->read_time_ms; /* a clock read per chunk, not per line */
    f->feeding = true;
    f->pending_before = held_offset(l, f);
    if (line->offset < f->pending_before)
        f->pending_before = line->offset;
    l->parser_ops->feed(f->parser, line, on_record, f);
    f->feeding = false;
}

static void feed_grouped(void *ctx, const tw_log_line *grouped)
{
    logs_file *f = ctx;
    feed_parser(f->logs, f, grouped);
}

static void on_line(void *ctx, tw_tail_file *tf, const tw_log_line *line)
{
    tw_logs *l = ctx;
    logs_file *f = tw_tail_file_user(tf);
    l->stats.lines++;
    if (l->has_multiline)
        tw_multiline_add(&f->group, line, feed_grouped, f);
    else
        feed_parser(l, f, line);
}

/* Expands a log_group or log_stream pattern for the file at path. */
static int expand(tw_logs *l, tw_cwl_name_kind kind, const char *pattern, const char *path,
                  tw_buf *out, tw_err *err)
{
    tw_cwl_name_vars vars = {.kind = kind, .hostname = l->hostname, .file = path,
                             .name = l->name, .now_ms = tw_time_now_ms()};
    return tw_cwl_expand_name(pattern, &vars, out, err);
}

/* The group and stream a file writes into: log_group and log_stream with
 * {hostname}, {file}, {date} filled in. A name that cannot be made (the
 * file's name has no usable character) falls back to the section's name
 * or the host name, with an error saying why. */
static stream *stream_for_file(tw_logs *l, const char *path)
{
    tw_buf group = TW_BUF_INIT, name = TW_BUF_INIT;
    tw_err err;
    if (expand(l, TW_CWL_LOG_GROUP, l->config->log_group, path, &group, &err) != 0) {
        tw_error("[logs %s] log_group for %s: %s; using /trailwatch/%s", l->name, path, err.msg,
                 l->name);
        tw_buf_reset(&group);
        tw_buf_printf(&group, "/trailwatch/%s", l->name);
    }
    if (expand(l, TW_CWL_LOG_STREAM, l->config->log_stream, path, &name, &err) != 0) {
        tw_error("[logs %s] log_stream for %s: %s; using the host name", l->name, path, err.msg);
        tw_buf_reset(&name);
        tw_buf_puts(&name, l->hostname);
    }
    stream *s = stream_for(l, group.data, name.data);
    tw_buf_free(&group);
    tw_buf_free(&name);
    return s;
}

static void *on_opened(void *ctx, tw_tail_file *tf)
{
    tw_logs *l = ctx;
    logs_file *f = tw_calloc(1, sizeof *f);
    f->logs = l;
    f->tail_file = tf;
    tw_multiline_init(&f->group, &l->multiline_start, (size_t)l->config->max_line_size);
    tw_err err;
    if (l->parser_ops->create(&l->parser_options, &f->parser, &err) != 0) {
        /* The options were checked at start: this cannot happen. */
        tw_error("[logs %s] parser: %s", l->name, err.msg);
        abort();
    }
    f->stream = stream_for_file(l, tw_tail_file_path(tf));
    f->stream->files++;
    f->next = l->files;
    l->files = f;
    return f;
}

static void on_closing(void *ctx, tw_tail_file *tf, bool drained)
{
    tw_logs *l = ctx;
    logs_file *f = tw_tail_file_user(tf);
    l->now_ms = tw_time_now_ms();
    if (drained)
        tw_multiline_flush(&f->group, feed_grouped, f);
    if (drained && l->parser_ops->flush)
        l->parser_ops->flush(f->parser, l->now_ms, true, on_record, f);
    /* Batches keep the file's position but no longer ask its parser. */
    for (stream *s = l->streams; s; s = s->next) {
        for (size_t i = 0; i < s->n_contribs; i++) {
            if (s->contribs[i].file == f) {
                s->contribs[i].end = drained ? s->contribs[i].end : safe_position(l, &s->contribs[i]);
                s->contribs[i].file = NULL;
            }
        }
    }
    f->stream->files--;
    for (logs_file **p = &l->files; *p; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            break;
        }
    }
    l->parser_ops->destroy(f->parser);
    tw_multiline_free(&f->group);
    free(f);
}

/* ---- outcomes ------------------------------------------------------------------- */

static void ack_position(void *ctx, const tw_tracked_file *file, uint64_t offset)
{
    tw_checkpoint_note_acked(ctx, file, offset);
}

static void spooled_position(void *ctx, const tw_tracked_file *file, uint64_t offset)
{
    tw_checkpoint_note_spooled(ctx, file, offset);
}

static void on_recovered(void *ctx, const tw_request *req)
{
    tw_logs *l = ctx;
    tw_logs_meta v;
    if (tw_logs_meta_read(&req->meta, &v) == 0)
        tw_checkpoint_meta_each(v.positions, v.positions_len, spooled_position, l->checkpoint);
}

static void before_ack(void *ctx)
{
    tw_logs *l = ctx;
    tw_err err;
    tw_checkpoint_save(l->checkpoint, &err); /* failures are logged there */
}

typedef struct create_call {
    tw_logs *logs;
    char *group, *stream;
    bool then_stream; /* CreateLogGroup: CreateLogStream follows */
} create_call;

static void submit_create(tw_logs *l, const char *group, const char *stream_name, bool group_first);

static void on_created(void *ctx, tw_request *req, const tw_send_result *result)
{
    create_call *c = ctx;
    tw_logs *l = c->logs;
    l->creating--;
    tw_cwl_verdict v;
    tw_cwl_classify(result, 0, &v);
    bool ok = v.outcome == TW_CWL_DELIVERED || v.outcome == TW_CWL_ALREADY_EXISTS;
    if (!ok && v.outcome != TW_CWL_CANCELLED)
        tw_error("[logs %s] %s failed: %s%s%s", l->name, req->label, result->code,
                 result->code[0] ? ": " : "", result->message);
    if (ok && c->then_stream) {
        if (l->config->retention_days > 0) {
            tw_err err;
            tw_request *r = tw_cwl_put_retention_policy_request(c->group, l->config->retention_days,
                                                                &err);
            if (r) {
                create_call *rc = tw_calloc(1, sizeof *rc);
                rc->logs = l;
                l->creating++;
                tw_sender_submit(l->sender, r, on_created, rc);
            }
        }
        submit_create(l, c->group, c->stream, false);
    } else if (ok && req->target && strstr(req->target, "CreateLogStream")) {
        tw_info("[logs %s] created log stream %s in %s", l->name, c->stream, c->group);
    }
    tw_request_free(req);
    free(c->group);
    free(c->stream);
    free(c);
}

static void submit_create(tw_logs *l, const char *group, const char *stream_name, bool group_first)
{
    create_call *c = tw_calloc(1, sizeof *c);
    c->logs = l;
    c->group = tw_strdup(group);
    c->then_stream = group_first;
    c->stream = tw_strdup(stream_name);
    tw_request *r = group_first ? tw_cwl_create_log_group_request(group)
                                : tw_cwl_create_log_stream_request(group, stream_name);
    l->creating++;
    tw_sender_submit(l->sender, r, on_created, c);
}

static tw_outbox_verdict on_result(void *ctx, const tw_request *req, const tw_send_result *result)
{
    tw_logs *l = ctx;
    if (tw_logs_audit_owns(req)) {
        tw_logs_audit_result(&l->audit, req, result, l->outbox);
        return TW_OUTBOX_DONE;
    }
    tw_logs_meta v;
    if (tw_logs_meta_read(&req->meta, &v) != 0)
        return TW_OUTBOX_DONE;
    tw_cwl_verdict verdict;
    tw_cwl_classify(result, v.n_events, &verdict);
    switch (verdict.outcome) {
    case TW_CWL_MISSING_GROUP:
    case TW_CWL_MISSING_STREAM:
        if (l->creating == 0)
            submit_create(l, v.group, v.stream, verdict.outcome == TW_CWL_MISSING_GROUP);
        return TW_OUTBOX_RESEND;
    case TW_CWL_RETRY:
        return TW_OUTBOX_RESEND;
    case TW_CWL_CANCELLED:
        return TW_OUTBOX_DONE; /* not called for cancellations */
    case TW_CWL_DELIVERED:
    case TW_CWL_ALREADY_EXISTS:
        if (verdict.rejected > 0) {
            l->stats.events_rejected += verdict.rejected;
            tw_warn("[logs %s] %s: the endpoint refused %zu of %zu events (too old %zu, "
                    "expired %zu, too new %zu)",
                    l->name, req->label, verdict.rejected, v.n_events, verdict.too_old,
                    verdict.expired, verdict.too_new);
        }
        break;
    case TW_CWL_INVALID:
    case TW_CWL_GAVE_UP:
        /* The outbox logs and counts the loss; the file positions move on
         * (the same lines would be refused again). */
        l->stats.events_dropped += v.n_events;
        break;
    }
    tw_checkpoint_meta_each(v.positions, v.positions_len, ack_position, l->checkpoint);
    return TW_OUTBOX_DONE;
}

/* ---- the tick ------------------------------------------------------------------- */

/* Reading waits while requests pile up in front of the spool, or the spool
 * is nearly full: the files hold the lines meanwhile, so a long outage
 * costs disk space in the logs, never memory or dropped batches. */
static void update_pause(tw_logs *l)
{
    tw_outbox_stats o;
    tw_outbox_stats_get(l->outbox, &o);
    uint64_t cap = l->spool_max;
    /* Two reasons, told apart in the log: a short queue in front of the
     * spool is ordinary backpressure at full speed (silent); a spool near
     * its cap means the endpoint is behind or away (said once). */
    bool queue_full = o.queued >= PAUSE_QUEUED || o.queued_bytes >= PAUSE_QUEUED_BYTES;
    bool queue_roomy = o.queued < PAUSE_QUEUED / 2 && o.queued_bytes < PAUSE_QUEUED_BYTES / 2;
    bool spool_full = cap > 0 && o.spool.disk_bytes > cap / 10 * 9;
    bool spool_roomy = cap == 0 || o.spool.disk_bytes < cap / 10 * 8;
    if (!l->spool_paused && spool_full) {
        l->spool_paused = true;
        tw_warn("[logs %s] the spool holds %" PRIu64 " unsent batches (%" PRIu64
                " bytes); reading pauses until the endpoint catches up (nothing is lost: the "
                "files keep the lines)",
                l->name, o.spool.pending_records, o.spool.disk_bytes);
    } else if (l->spool_paused && spool_roomy) {
        l->spool_paused = false;
        tw_notice("[logs %s] reading again", l->name);
    }
    if (queue_full)
        l->queue_paused = true;
    else if (queue_roomy)
        l->queue_paused = false;
    l->paused = l->spool_paused || l->queue_paused;
    tw_tail_pause(l->tail, l->paused);
}

static void save_in_worker(uv_work_t *work)
{
    tw_logs *l = work->data;
    tw_err err;
    tw_checkpoint_save(l->checkpoint, &err);
}

static void save_done(uv_work_t *work, int status)
{
    (void)status;
    tw_logs *l = work->data;
    l->saving = false;
    if (l->stopping && l->save_pending_stop)
        continue_stop(l);
}

/* Files seen for the first time (and fingerprints that grew) are written
 * down without waiting for an acknowledgement: a file rotated away before
 * anything of it was delivered is then still found after a crash. */
static void save_soon(tw_logs *l)
{
    if (l->saving || !tw_checkpoint_dirty(l->checkpoint))
        return;
    l->saving = true;
    l->save_work.data = l;
    uv_queue_work(l->loop, &l->save_work, save_in_worker, save_done);
}

static void on_tick(uv_timer_t *timer)
{
    tw_logs *l = timer->data;
    int64_t now = tw_time_now_ms();
    l->now_ms = now;
    tw_sender_stats ss;
    tw_sender_stats_get(l->sender, &ss);
    l->clock_offset_ms = ss.clock_offset_ms;
    save_soon(l);
    for (logs_file *f = l->files; f; f = f->next)
        if (f->group.open && now - f->group.last_ms >= (int64_t)l->config->multiline_timeout_ms)
            tw_multiline_flush(&f->group, feed_grouped, f);
    if (l->parser_ops->flush)
        for (logs_file *f = l->files; f; f = f->next)
            l->parser_ops->flush(f->parser, now, false, on_record, f);
    bool waiting = false;
    for (stream *s = l->streams; s; s = s->next) {
        if (s->first_add_ms != 0 && now - s->first_add_ms >= BATCH_PERIOD_MS)
            take_batch(l, s);
        waiting |= s->first_add_ms != 0;
    }
    if (!waiting) /* audit events whose log events were all dropped */
        tw_logs_audit_take(&l->audit, l->outbox);
    update_pause(l);
}

static void on_progress(void *ctx)
{
    tw_logs *l = ctx;
    if (l->paused)
        update_pause(l);
}

/* Compressing costs a core's quarter at 100 MiB/s and saves nothing on the
 * loopback (the bundled collector on the same machine); across a network
 * gzip level 1 keeps ~18 % of an access log's bytes, as the CloudWatch
 * agent does. */
static bool is_loopback_url(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost", 9) == 0 ||
           strncmp(host, "[::1]", 5) == 0;
}

/* ---- public ------------------------------------------------------------------------ */

static void free_logs(tw_logs *l)
{
    while (l->streams) {
        stream *s = l->streams;
        l->streams = s->next;
        tw_cwl_batch_free(s->batch);
        free(s->contribs);
        free(s->group);
        free(s->name);
        free(s);
    }
    tw_checkpoint_close(l->checkpoint);
    if (l->has_multiline)
        regfree(&l->multiline_start);
    tw_logs_audit_free(&l->audit);
    tw_buf_free(&l->body);
    free(l->log_format);
    free(l->user_tag);
    free(l->name);
    free(l);
}

int tw_logs_start(uv_loop_t *loop, const tw_agent_config *config, size_t index,
                  tw_sender *sender, tw_logs **out, tw_err *err)
{
    const tw_logs_config *lc = &config->logs[index];
    const tw_log_parser_ops *ops = tw_log_parser_find(lc->format);
    if (!ops)
        return tw_err_set(err, -EINVAL, "[logs %s] format %s has no parser in this build",
                          lc->name, lc->format);
    tw_logs *l = tw_calloc(1, sizeof *l);
    l->loop = loop;
    l->now_ms = tw_time_now_ms();
    l->config = lc;
    l->hostname = config->agent.hostname;
    l->name = tw_strdup(lc->name);
    l->parser_ops = ops;
    /* Parsers may keep these strings: the pipeline owns copies, which
     * outlive a reload of the configuration. */
    l->log_format = lc->log_format ? tw_strdup(lc->log_format) : NULL;
    l->user_tag = lc->user_tag ? tw_strdup(lc->user_tag) : NULL;
    l->parser_options = (tw_log_parser_options){
        .section = l->name, .log_format = l->log_format, .user_tag = l->user_tag,
        .group_timeout_ms = (int64_t)lc->multiline_timeout_ms};
    l->sender = sender;
    l->spool_max = (uint64_t)config->agent.spool_max_size;
    l->gzip_level = is_loopback_url(config->endpoint.url) ? 0 : 1;
    /* A parser that cannot be made (a bad log_format) fails the start,
     * not the first file. */
    void *probe;
    int rc = ops->create(&l->parser_options, &probe, err);
    if (rc != 0) {
        tw_err_prefix(err, "[logs %s]", lc->name);
        free_logs(l);
        return rc;
    }
    ops->destroy(probe);
    if (lc->multiline_start) {
        rc = regcomp(&l->multiline_start, lc->multiline_start, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            free_logs(l);
            return tw_err_set(err, -EINVAL, "[logs %s] multiline_start: not a regular expression",
                              lc->name);
        }
        l->has_multiline = true;
    }
    if (lc->audit && (rc = tw_logs_audit_init(&l->audit, l->name, lc, err)) != 0) {
        free_logs(l);
        return rc;
    }
    tw_buf path = TW_BUF_INIT;
    tw_buf_printf(&path, "%s/checkpoints", config->agent.state_dir);
    rc = tw_mkdir_p(path.data, 0700, err);
    if (rc == 0) {
        tw_buf_printf(&path, "/%s.json", lc->name);
        rc = tw_checkpoint_open(path.data, &l->checkpoint, err);
    }
    if (rc != 0) {
        tw_buf_free(&path);
        free_logs(l);
        return rc;
    }
    tw_buf_reset(&path);
    tw_buf_printf(&path, "%s/spool/logs/%s", config->agent.state_dir, lc->name);
    tw_buf outbox_name = TW_BUF_INIT;
    tw_buf_printf(&outbox_name, "logs %s", lc->name);
    tw_outbox_options oo = {
        .name = outbox_name.data,
        .dir = path.data,
        .spool = {.max_bytes = l->spool_max},
        /* Two 1 MiB requests at the endpoint keep a loopback collector
         * busy; each one more costs its megabyte of memory. */
        .max_in_flight = 2,
        .on_result = on_result,
        .on_recovered = on_recovered,
        .before_ack = before_ack,
        .on_progress = on_progress,
        .ctx = l,
    };
    rc = tw_outbox_open(loop, sender, &oo, &l->outbox, err);
    tw_buf_free(&path);
    tw_buf_free(&outbox_name);
    if (rc != 0) {
        free_logs(l);
        return rc;
    }
    tw_tail_options to = {
        .section = lc->name,
        .patterns = lc->path,
        .read_from_tail = strcmp(lc->read_from, "tail") == 0,
        .max_line = (size_t)lc->max_line_size,
        .checkpoint = l->checkpoint,
    };
    tw_tail_callbacks cb = {.opened = on_opened, .line = on_line, .closing = on_closing};
    uv_timer_init(loop, &l->tick);
    l->tick.data = l;
    rc = tw_tail_start(loop, &to, &cb, l, &l->tail, err);
    if (rc != 0) {
        /* The outbox is open: the stop's own path closes it and frees. */
        l->stopping = true;
        uv_close((uv_handle_t *)&l->tick, tick_closed);
        return rc;
    }
    uv_timer_start(&l->tick, on_tick, TICK_MS, TICK_MS);
    *out = l;
    return 0;
}

void tw_logs_rebind(tw_logs *l, const tw_agent_config *config, size_t index)
{
    const tw_logs_config *lc = &config->logs[index];
    l->config = lc;
    l->hostname = config->agent.hostname;
    tw_logs_audit_rebind(&l->audit, lc);
}

void tw_logs_set_sender(tw_logs *l, tw_sender *sender)
{
    l->sender = sender;
    tw_outbox_set_sender(l->outbox, sender);
}

static void outbox_closed(void *ctx)
{
    tw_logs *l = ctx;
    if (l->saving) {
        l->save_pending_stop = true; /* save_done finishes the stop */
        return;
    }
    continue_stop(l);
}

static void continue_stop(tw_logs *l)
{
    void (*stopped)(void *) = l->stopped;
    void *stopped_ctx = l->stopped_ctx;
    free_logs(l);
    if (stopped)
        stopped(stopped_ctx);
}

static void tick_closed(uv_handle_t *handle)
{
    tw_logs *l = handle->data;
    tw_outbox_close(l->outbox, outbox_closed, l);
}

static void tail_stopped(void *ctx)
{
    tw_logs *l = ctx;
    uv_close((uv_handle_t *)&l->tick, tick_closed);
}

void tw_logs_stop(tw_logs *l, void (*stopped)(void *ctx), void *ctx)
{
    l->stopping = true;
    l->stopped = stopped;
    l->stopped_ctx = ctx;
    uv_timer_stop(&l->tick);
    /* What parsers emitted goes to the spool; what they hold is read again
     * next time (the positions stop before it). */
    for (stream *s = l->streams; s; s = s->next)
        take_batch(l, s);
    tw_logs_audit_take(&l->audit, l->outbox);
    tw_tail_stop(l->tail, tail_stopped, l);
}

bool tw_logs_idle(const tw_logs *l)
{
    return tw_outbox_idle(l->outbox) && l->creating == 0;
}

void tw_logs_stats_get(const tw_logs *l, tw_logs_stats *out)
{
    *out = l->stats;
    tw_tail_stats t;
    tw_tail_stats_get(l->tail, &t);
    out->files = t.files;
    out->paused = l->spool_paused;
    out->audit_events = l->audit.events;
    out->audit_failed = l->audit.failed;
    tw_outbox_stats o;
    tw_outbox_stats_get(l->outbox, &o);
    out->spool_pending_records = o.spool.pending_records;
}

const char *tw_logs_name(const tw_logs *l)
{
    return l->name;
}
