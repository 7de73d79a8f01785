/* metrics.c — wiring of the metrics pipeline (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "in_cpu.h"
#include "in_disk.h"
#include "in_diskio.h"
#include "in_exec.h"
#include "in_mem.h"
#include "in_net.h"
#include "in_statsd.h"
#include "log.h"
#include "mem.h"
#include "metric_agg.h"
#include "out_cloudwatch_metrics.h"
#include "plugin_host.h"
#include "sample_queue.h"
#include "timefmt.h"

#define MAX_HOST_SAMPLES 20000
#define MAX_GLOBS 32

typedef enum host_input { HOST_CPU, HOST_MEM, HOST_NET, HOST_DISK, HOST_DISKIO, N_HOST } host_input;

static const char *const host_labels[N_HOST] = {"cpu", "mem", "net", "disk", "diskio"};

/* One host collect: run on the thread pool, drained on the loop. */
typedef struct host_job {
    uv_work_t work;
    tw_metrics *metrics;
    int64_t now_ms;
    bool running;
    char errors[N_HOST][TW_ERR_MAX];
} host_job;

typedef struct exec_entry {
    tw_in_exec *exec;
    char *label;
} exec_entry;

typedef struct plugin_entry {
    tw_plugin_host *host;
    char *label;
} plugin_entry;

struct tw_metrics {
    uv_loop_t *loop;
    const tw_agent_config *config;
    tw_outbox *outbox;
    tw_sender *sender;
    tw_metric_agg *agg;
    tw_out_cwm *out;
    uint64_t interval_ms, flush_ms;
    /* host inputs (NULL when off) and their queues */
    tw_in_cpu *cpu;
    tw_in_mem *mem;
    tw_in_net *net;
    tw_in_disk *disk;
    tw_in_diskio *diskio;
    tw_sample_queue *queues[N_HOST];
    tw_metric_sink sinks[N_HOST];
    char *net_globs_buf, *disk_globs_buf;
    const char *net_globs[MAX_GLOBS + 1], *disk_globs[MAX_GLOBS + 1];
    host_job job;
    uint64_t host_skipped;
    int64_t next_tick_ms; /* the wall-clock tick the host timer is set for */
    char last_error[N_HOST][TW_ERR_MAX]; /* to log a failing input once, not every tick */
    uv_timer_t host_timer, flush_timer;
    tw_in_statsd *statsd;
    exec_entry *execs;
    size_t n_execs;
    plugin_entry *plugins;
    size_t n_plugins;
    tw_metric_sink self_sink;
    /* stopping */
    bool stopping;
    int pending_closes;
    void (*closed)(void *ctx);
    void *closed_ctx;
    /* self metrics: totals at the previous flush, for deltas */
    tw_sender_stats last_sender;
    tw_outbox_stats last_outbox;
    tw_metric_agg_stats last_agg;
};

/* ---- host inputs -------------------------------------------------------------- */

static size_t split_globs(const char *text, char **buf, const char **out)
{
    size_t n = 0;
    if (!text)
        return 0;
    *buf = tw_strdup(text);
    char *save = NULL;
    for (char *w = strtok_r(*buf, " \t\n,", &save); w && n < MAX_GLOBS;
         w = strtok_r(NULL, " \t\n,", &save))
        out[n++] = w;
    out[n] = NULL;
    return n;
}

/* A host input that cannot open (a container without /proc/diskstats) is
 * left out with a warning: the others still run. */
static void opened(int rc, const char *label, const tw_err *err)
{
    if (rc != 0)
        tw_warn("%s metrics are off: %s", label, err->msg);
}

static void open_host_inputs(tw_metrics *m, const tw_metrics_roots *roots)
{
    const tw_metrics_config *c = &m->config->metrics;
    tw_err err;
    if (c->cpu) {
        tw_in_cpu_options o = {0};
        opened(tw_in_cpu_open(roots->proc, roots->sys, &o, &m->cpu, &err), "cpu", &err);
    }
    if (c->mem) {
        tw_in_mem_options o = {0};
        opened(tw_in_mem_open(roots->proc, roots->sys, &o, &m->mem, &err), "mem", &err);
    }
    if (c->net) {
        tw_in_net_options o = {.include_loopback = c->net_include_loopback};
        if (split_globs(c->net_interfaces, &m->net_globs_buf, m->net_globs) > 0)
            o.interfaces = m->net_globs;
        opened(tw_in_net_open(roots->proc, roots->sys, &o, &m->net, &err), "net", &err);
    }
    if (c->disk) {
        tw_in_disk_options o = {0};
        if (split_globs(c->disk_mount_points, &m->disk_globs_buf, m->disk_globs) > 0)
            o.mount_points = m->disk_globs;
        opened(tw_in_disk_open(roots->proc, roots->sys, &o, &m->disk, &err), "disk", &err);
    }
    if (c->diskio) {
        tw_in_diskio_options o = {0};
        opened(tw_in_diskio_open(roots->proc, roots->sys, &o, &m->diskio, &err), "diskio",
               &err);
    }
    for (int i = 0; i < N_HOST; i++) {
        m->queues[i] = tw_sample_queue_new(MAX_HOST_SAMPLES);
        m->sinks[i] = tw_metric_agg_sink(m->agg, host_labels[i]);
    }
}

static void host_work(uv_work_t *work)
{
    host_job *job = work->data;
    tw_metrics *m = job->metrics;
    tw_err err;
    for (int i = 0; i < N_HOST; i++) {
        tw_metric_sink sink = tw_sample_queue_sink(m->queues[i]);
        int rc = 0;
        err.msg[0] = '\0';
        switch (i) {
        case HOST_CPU: rc = m->cpu ? tw_in_cpu_collect(m->cpu, job->now_ms, &sink, &err) : 0; break;
        case HOST_MEM: rc = m->mem ? tw_in_mem_collect(m->mem, job->now_ms, &sink, &err) : 0; break;
        case HOST_NET: rc = m->net ? tw_in_net_collect(m->net, job->now_ms, &sink, &err) : 0; break;
        case HOST_DISK:
            rc = m->disk ? tw_in_disk_collect(m->disk, job->now_ms, &sink, &err) : 0;
            break;
        case HOST_DISKIO:
            rc = m->diskio ? tw_in_diskio_collect(m->diskio, job->now_ms, &sink, &err) : 0;
            break;
        }
        snprintf(job->errors[i], sizeof job->errors[i], "%s", rc != 0 ? err.msg : "");
    }
}

static void host_done(uv_work_t *work, int status)
{
    (void)status;
    host_job *job = work->data;
    tw_metrics *m = job->metrics;
    job->running = false;
    for (int i = 0; i < N_HOST; i++) {
        tw_sample_queue_drain(m->queues[i], &m->sinks[i]);
        /* A failing input is logged when its error changes, not every tick. */
        if (strcmp(job->errors[i], m->last_error[i]) != 0) {
            if (job->errors[i][0])
                tw_warn("%s: %s", host_labels[i], job->errors[i]);
            else if (m->last_error[i][0])
                tw_notice("%s: reading again", host_labels[i]);
            memcpy(m->last_error[i], job->errors[i], sizeof m->last_error[i]);
        }
    }
}

/* Wall-clock aligned: every host's data lands on the same second marks.
 * The tick a timer firing at now stands for: the nearest multiple of the
 * interval (libuv may fire a millisecond early, as its clock is cached). */
static int64_t tick_of(int64_t now, uint64_t interval_ms)
{
    int64_t every = (int64_t)interval_ms;
    return (now + every / 2) / every * every;
}

/* Time until the first multiple of the interval after the tick now stands
 * for: never 0 or 1 ms, so an early firing does not run twice. */
static uint64_t until_next_tick(uint64_t interval_ms)
{
    int64_t now = tw_time_now_ms();
    int64_t next = tick_of(now, interval_ms) + (int64_t)interval_ms;
    if (next - now < (int64_t)interval_ms / 2)
        next += (int64_t)interval_ms;
    return (uint64_t)(next - now);
}

static void on_host_timer(uv_timer_t *timer)
{
    tw_metrics *m = timer->data;
    int64_t now = tw_time_now_ms();
    /* The tick this firing stands for is the one it was scheduled for; a
     * firing later than a whole interval catches up rather than doubling. */
    int64_t tick = m->next_tick_ms;
    int64_t every = (int64_t)m->interval_ms;
    if (tick == 0 || now - tick >= every || tick - now >= every)
        tick = tick_of(now, m->interval_ms);
    m->next_tick_ms = tick + every;
    uv_timer_start(&m->host_timer, on_host_timer,
                   (uint64_t)(m->next_tick_ms > now ? m->next_tick_ms - now : 0), 0);
    if (m->job.running) {
        if (m->host_skipped++ % 60 == 0)
            tw_warn("host metrics: the previous read has not finished after %" PRIu64
                    " ms (a hung mount?); this interval is skipped",
                    m->interval_ms);
        return;
    }
    m->job.running = true;
    m->job.now_ms = tick;
    uv_queue_work(m->loop, &m->job.work, host_work, host_done);
}

/* ---- self metrics ------------------------------------------------------------- */

static void self_emit(tw_metrics *m, const char *name, const char *unit, double value)
{
    tw_metric_sample s = {
        .namespace_ = m->config->agent.self_namespace,
        .name = name,
        .unit = unit,
        .value = value,
    };
    tw_metric_emit(&m->self_sink, &s);
}

static void emit_self_metrics(tw_metrics *m)
{
    tw_outbox_stats o;
    tw_outbox_stats_get(m->outbox, &o);
    self_emit(m, "batches_sent", "Count", (double)(o.acked - m->last_outbox.acked));
    self_emit(m, "batches_rejected", "Count", (double)(o.rejected - m->last_outbox.rejected));
    self_emit(m, "batches_expired", "Count", (double)(o.expired - m->last_outbox.expired));
    self_emit(m, "batches_dropped", "Count",
              (double)(o.spool.dropped_records - m->last_outbox.spool.dropped_records));
    self_emit(m, "spool_bytes", "Bytes", (double)o.spool.pending_bytes);
    self_emit(m, "spool_batches", "Count", (double)o.spool.pending_records);
    m->last_outbox = o;
    if (m->sender) {
        tw_sender_stats s;
        tw_sender_stats_get(m->sender, &s);
        self_emit(m, "requests_retried", "Count", (double)(s.retries - m->last_sender.retries));
        self_emit(m, "bytes_sent", "Bytes", (double)(s.bytes_sent - m->last_sender.bytes_sent));
        m->last_sender = s;
    }
    tw_metric_agg_stats a;
    tw_metric_agg_stats_get(m->agg, &a);
    self_emit(m, "metric_samples", "Count", (double)(a.samples - m->last_agg.samples));
    self_emit(m, "metric_samples_rejected", "Count",
              (double)(a.rejected + a.dropped_series - m->last_agg.rejected -
                       m->last_agg.dropped_series));
    m->last_agg = a;
}

static void flush(tw_metrics *m)
{
    if (m->config->agent.self_metrics)
        emit_self_metrics(m);
    tw_out_cwm_flush(m->out, m->agg);
}

static void on_flush_timer(uv_timer_t *timer)
{
    tw_metrics *m = timer->data;
    flush(m);
    uv_timer_start(&m->flush_timer, on_flush_timer, until_next_tick(m->flush_ms), 0);
}

/* ---- other inputs ------------------------------------------------------------- */

static char *label_of(const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 2;
    char *label = tw_malloc(n);
    snprintf(label, n, "%s %s", kind, name);
    return label;
}

static int start_statsd(tw_metrics *m, tw_err *err)
{
    const tw_statsd_config *c = &m->config->statsd;
    tw_in_statsd_options o = {
        .listen = c->listen,
        .flush_interval_ms = (int64_t)c->flush_interval_ms,
        .receive_buffer = (size_t)c->receive_buffer,
        .max_series = (size_t)c->max_series,
    };
    tw_metric_sink sink = tw_metric_agg_sink(m->agg, "statsd");
    int rc = tw_in_statsd_start(m->loop, &o, &sink, &m->statsd, err);
    if (rc != 0)
        tw_err_prefix(err, "[statsd]");
    return rc;
}

void tw_metrics_exec_options(const tw_exec_config *x, const char *hostname,
                             tw_in_exec_options *out)
{
    *out = (tw_in_exec_options){
        .name = x->name,
        .command = x->command,
        .interval_ms = x->interval_ms,
        .timeout_ms = x->timeout_ms,
        .mode = strcmp(x->mode, "daemon") == 0 ? TW_EXEC_MODE_DAEMON : TW_EXEC_MODE_PERIODIC,
        .format = tw_exec_format_from_name(x->format),
        .hostname = hostname,
    };
}

static int start_execs(tw_metrics *m, tw_err *err)
{
    const tw_agent_config *c = m->config;
    m->execs = tw_calloc(c->n_execs ? c->n_execs : 1, sizeof *m->execs);
    for (size_t i = 0; i < c->n_execs; i++) {
        const tw_exec_config *x = &c->execs[i];
        exec_entry *e = &m->execs[m->n_execs];
        e->label = label_of("exec", x->name);
        tw_in_exec_options o;
        tw_metrics_exec_options(x, c->agent.hostname, &o);
        tw_metric_sink sink = tw_metric_agg_sink(m->agg, e->label);
        if (tw_in_exec_start(m->loop, &o, &sink, &e->exec, err) != 0) {
            tw_err_prefix(err, "[exec %s]", x->name);
            free(e->label);
            return -EINVAL;
        }
        m->n_execs++;
    }
    return 0;
}

static int start_plugins(tw_metrics *m, tw_err *err)
{
    const tw_agent_config *c = m->config;
    m->plugins = tw_calloc(c->n_plugins ? c->n_plugins : 1, sizeof *m->plugins);
    for (size_t i = 0; i < c->n_plugins; i++) {
        const tw_plugin_config *p = &c->plugins[i];
        plugin_entry *e = &m->plugins[m->n_plugins];
        e->label = label_of("plugin", p->name);
        tw_metric_sink sink = tw_metric_agg_sink(m->agg, e->label);
        if (tw_plugin_host_open(m->loop, p, tw_plugin_host_default_dir(), c->metrics.interval_ms,
                                &sink, &e->host, err) != 0) {
            free(e->label);
            return -EINVAL;
        }
        m->n_plugins++;
    }
    return 0;
}

/* ---- lifetime ----------------------------------------------------------------- */

static tw_metric_agg *make_aggregator(const tw_agent_config *c)
{
    char buf[4096];
    const char *names[29], *values[29];
    tw_dimension dims[29];
    size_t n = 0;
    if (c->metrics.dimensions)
        n = tw_agent_config_dimensions(c->metrics.dimensions, buf, sizeof buf, names, values, 28);
    for (size_t i = 0; i < n && i < 28; i++)
        dims[i] = (tw_dimension){names[i], values[i]};
    tw_metric_agg_options o = {
        .namespace_ = c->metrics.namespace_,
        .hostname = c->agent.hostname,
        .dimensions = dims,
        .n_dimensions = n > 28 ? 28 : n,
        /* Below 60 s the CloudWatch agent publishes high resolution. */
        .storage_resolution = c->metrics.interval_ms < 60000 ? 1 : 60,
        .max_series = (size_t)c->metrics.max_series,
    };
    return tw_metric_agg_new(&o);
}

static void free_pipeline(tw_metrics *m)
{
    tw_in_cpu_close(m->cpu);
    tw_in_mem_close(m->mem);
    tw_in_net_close(m->net);
    tw_in_disk_close(m->disk);
    tw_in_diskio_close(m->diskio);
    for (int i = 0; i < N_HOST; i++)
        tw_sample_queue_free(m->queues[i]);
    for (size_t i = 0; i < m->n_execs; i++)
        free(m->execs[i].label);
    for (size_t i = 0; i < m->n_plugins; i++)
        free(m->plugins[i].label);
    free(m->execs);
    free(m->plugins);
    free(m->net_globs_buf);
    free(m->disk_globs_buf);
    tw_out_cwm_free(m->out);
    tw_metric_agg_free(m->agg);
    free(m);
}

static void one_closed(void *ctx);

int tw_metrics_start(uv_loop_t *loop, const tw_agent_config *config,
                     const tw_metrics_roots *roots, tw_outbox *outbox, tw_sender *sender,
                     tw_metrics **out, tw_err *err)
{
    tw_metrics *m = tw_calloc(1, sizeof *m);
    m->loop = loop;
    m->config = config;
    m->outbox = outbox;
    m->sender = sender;
    m->interval_ms = config->metrics.interval_ms;
    m->flush_ms = config->metrics.flush_interval_ms;
    m->agg = make_aggregator(config);
    m->out = tw_out_cwm_new(outbox);
    m->self_sink = tw_metric_agg_sink(m->agg, "agent");
    m->job.work.data = &m->job;
    m->job.metrics = m;
    uv_timer_init(loop, &m->host_timer);
    uv_timer_init(loop, &m->flush_timer);
    m->host_timer.data = m->flush_timer.data = m;
    if (config->metrics.enabled)
        open_host_inputs(m, roots);
    int rc = 0;
    if (config->statsd.enabled)
        rc = start_statsd(m, err);
    if (rc == 0)
        rc = start_execs(m, err);
    if (rc == 0)
        rc = start_plugins(m, err);
    if (rc != 0) {
        /* Whatever started is stopped; the caller reports err. */
        tw_metrics_stop(m, NULL, NULL);
        return rc;
    }
    if (config->metrics.enabled) {
        uint64_t wait = until_next_tick(m->interval_ms);
        m->next_tick_ms = tw_time_now_ms() + (int64_t)wait;
        m->next_tick_ms = tick_of(m->next_tick_ms, m->interval_ms);
        uv_timer_start(&m->host_timer, on_host_timer, wait, 0);
    }
    uv_timer_start(&m->flush_timer, on_flush_timer, until_next_tick(m->flush_ms), 0);
    *out = m;
    return 0;
}

static void finish_stop(tw_metrics *m)
{
    /* Everything that could emit has stopped: the last datums go out. */
    flush(m);
    void (*closed)(void *) = m->closed;
    void *ctx = m->closed_ctx;
    free_pipeline(m);
    if (closed)
        closed(ctx);
}

static void one_closed(void *ctx)
{
    tw_metrics *m = ctx;
    if (--m->pending_closes == 0)
        finish_stop(m);
}

static void timer_closed(uv_handle_t *handle)
{
    one_closed(handle->data);
}

/* A host read still on the thread pool must finish before its input goes. */
static void wait_host_job(uv_timer_t *timer);

static void close_rest(tw_metrics *m)
{
    if (m->statsd) {
        m->pending_closes++;
        tw_in_statsd_stop(m->statsd, one_closed, m);
    }
    for (size_t i = 0; i < m->n_execs; i++) {
        m->pending_closes++;
        tw_in_exec_stop(m->execs[i].exec, one_closed, m);
    }
    for (size_t i = 0; i < m->n_plugins; i++) {
        m->pending_closes++;
        tw_plugin_host_close(m->plugins[i].host, one_closed, m);
    }
    m->pending_closes += 2;
    uv_close((uv_handle_t *)&m->host_timer, timer_closed);
    uv_close((uv_handle_t *)&m->flush_timer, timer_closed);
}

static void wait_host_job(uv_timer_t *timer)
{
    tw_metrics *m = timer->data;
    if (m->job.running) {
        uv_timer_start(&m->host_timer, wait_host_job, 10, 0);
        return;
    }
    close_rest(m);
}

void tw_metrics_stop(tw_metrics *m, void (*closed)(void *ctx), void *ctx)
{
    m->stopping = true;
    m->closed = closed;
    m->closed_ctx = ctx;
    uv_timer_stop(&m->flush_timer);
    uv_timer_stop(&m->host_timer);
    if (m->job.running)
        uv_timer_start(&m->host_timer, wait_host_job, 10, 0);
    else
        close_rest(m);
}

void tw_metrics_status(const tw_metrics *m, json_t *obj)
{
    tw_metric_agg_stats a;
    tw_metric_agg_stats_get(m->agg, &a);
    json_object_set_new(obj, "samples", json_integer((json_int_t)a.samples));
    json_object_set_new(obj, "samples_rejected", json_integer((json_int_t)a.rejected));
    json_object_set_new(obj, "series_dropped", json_integer((json_int_t)a.dropped_series));
    json_object_set_new(obj, "series", json_integer((json_int_t)a.series));
    json_object_set_new(obj, "datums", json_integer((json_int_t)a.datums));
    json_object_set_new(obj, "requests", json_integer((json_int_t)tw_out_cwm_requests(m->out)));
    json_object_set_new(obj, "host_reads_skipped", json_integer((json_int_t)m->host_skipped));
    json_t *inputs = json_object();
    for (int i = 0; i < N_HOST; i++)
        if (m->last_error[i][0])
            json_object_set_new(inputs, host_labels[i], json_string(m->last_error[i]));
    json_object_set_new(obj, "input_errors", inputs);
    if (m->statsd) {
        struct tw_in_statsd_stats s;
        tw_in_statsd_stats(m->statsd, &s);
        json_t *st = json_object();
        json_object_set_new(st, "port", json_integer(tw_in_statsd_port(m->statsd)));
        json_object_set_new(st, "packets", json_integer((json_int_t)s.packets));
        json_object_set_new(st, "lines", json_integer((json_int_t)s.lines));
        json_object_set_new(st, "bad_lines", json_integer((json_int_t)s.bad_lines));
        json_object_set_new(st, "series", json_integer((json_int_t)s.series));
        json_object_set_new(st, "dropped_lines", json_integer((json_int_t)s.dropped_lines));
        json_object_set_new(obj, "statsd", st);
    }
    json_t *plugins = json_object();
    for (size_t i = 0; i < m->n_plugins; i++) {
        tw_plugin_stats s;
        tw_plugin_host_stats(m->plugins[i].host, &s);
        json_t *p = json_object();
        json_object_set_new(p, "collects", json_integer((json_int_t)s.collects));
        json_object_set_new(p, "failures", json_integer((json_int_t)s.failures));
        json_object_set_new(p, "emitted", json_integer((json_int_t)s.emitted));
        json_object_set_new(p, "rejected", json_integer((json_int_t)s.rejected));
        json_object_set_new(p, "skipped", json_integer((json_int_t)s.skipped));
        json_object_set_new(plugins, tw_plugin_host_name(m->plugins[i].host), p);
    }
    json_object_set_new(obj, "plugins", plugins);
}
