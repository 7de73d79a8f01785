/* agent.c — the agent's loop, signals, reload and stop (see agent.h). */
#include "agent.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"
#include "logs.h"
#include "outbox.h"
#include "sender.h"
#include "status.h"
#include "timefmt.h"
#include "units.h"

#define STOP_POLL_MS 50

struct tw_agent;
typedef struct logs_slot {
    struct tw_agent *agent;
    tw_logs *logs; /* NULL once stopped */
} logs_slot;

typedef struct tw_agent {
    uv_loop_t loop;
    const char *config_path;
    const char *log_level_override;
    tw_agent_config config;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t watchdog;
    uv_timer_t stop_deadline;
    uv_timer_t stop_poll;
    int lock_fd;
    bool stopping;
    bool closing_outputs;
    int exit_status;
    int64_t started_ms;
    tw_sender *sender;
    tw_outbox *metrics_outbox;
    tw_metrics *metrics;
    struct logs_slot *logs; /* one pipeline per [logs] section */
    size_t n_logs;
    unsigned logs_running;
    bool outputs_closed;
    tw_status *status;
    /* reload: the next configuration waits while the pipeline stops */
    bool reloading;
    tw_agent_config next;
} tw_agent;

static bool has_metric_inputs(const tw_agent_config *c)
{
    return c->metrics.enabled || c->statsd.enabled || c->n_plugins > 0 || c->n_execs > 0;
}

static void apply_log_level(const tw_agent *agent)
{
    const char *name = agent->log_level_override ? agent->log_level_override
                                                 : agent->config.agent.log_level;
    tw_log_level level;
    if (tw_log_level_parse(name, &level) == 0)
        tw_log_set_level(level);
}

static void describe(const tw_agent_config *c, tw_buf *out)
{
    if (c->metrics.enabled) {
        char every[32];
        tw_duration_format(c->metrics.interval_ms, every, sizeof every);
        tw_buf_printf(out, "metrics every %s to namespace %s; ", every, c->metrics.namespace_);
    }
    tw_buf_printf(out, "%zu log input%s, %zu plugin%s, %zu exec input%s, statsd %s", c->n_logs,
                  c->n_logs == 1 ? "" : "s", c->n_plugins, c->n_plugins == 1 ? "" : "s",
                  c->n_execs, c->n_execs == 1 ? "" : "s", c->statsd.enabled ? "on" : "off");
}

/* One agent per state directory: a second one would read the same files from
 * the same positions and ship everything twice. */
static int lock_state_dir(tw_agent *agent, tw_err *err)
{
    return tw_claim_daemon_dir(agent->config.agent.state_dir, "agent", "state directory",
                               "state_dir", &agent->lock_fd, err);
}

static void close_walk_cb(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Everything has been flushed (or the deadline passed): let uv_run return. */
static void finish_stop(tw_agent *agent)
{
    uv_walk(&agent->loop, close_walk_cb, NULL);
}

/* The loop may end once the sender, the metrics outbox and every logs
 * pipeline are closed. */
static void maybe_finish_stop(tw_agent *agent)
{
    if (agent->outputs_closed && agent->logs_running == 0)
        finish_stop(agent);
}

static void outputs_closed(void *ctx)
{
    tw_agent *agent = ctx;
    agent->metrics_outbox = NULL;
    agent->outputs_closed = true;
    maybe_finish_stop(agent);
}

static void logs_stopped(void *ctx)
{
    logs_slot *slot = ctx;
    tw_agent *agent = slot->agent;
    slot->logs = NULL;
    agent->logs_running--;
    maybe_finish_stop(agent);
}

static void sender_closed(void *ctx)
{
    tw_agent *agent = ctx;
    agent->sender = NULL;
    if (agent->metrics_outbox)
        tw_outbox_close(agent->metrics_outbox, outputs_closed, agent);
    else
        outputs_closed(agent);
}

static void status_closed(void *ctx)
{
    (void)ctx;
}

/* Last step of a stop: whatever the sender still holds stays in the spool. */
static void close_outputs(tw_agent *agent)
{
    if (agent->closing_outputs)
        return;
    agent->closing_outputs = true;
    uv_timer_stop(&agent->stop_poll);
    if (agent->status) {
        tw_status_close(agent->status, status_closed, NULL);
        agent->status = NULL;
    }
    if (agent->sender)
        tw_sender_close(agent->sender, sender_closed, agent);
    else
        sender_closed(agent);
}

/* Waits for the last batches to be spooled and, while the endpoint answers,
 * delivered. */
static void on_stop_poll(uv_timer_t *timer)
{
    tw_agent *agent = timer->data;
    if (agent->metrics || (agent->metrics_outbox && !tw_outbox_idle(agent->metrics_outbox)))
        return;
    for (size_t i = 0; i < agent->n_logs; i++)
        if (agent->logs[i].logs && !tw_logs_idle(agent->logs[i].logs))
            return;
    close_outputs(agent);
}

static void on_stop_deadline(uv_timer_t *timer)
{
    tw_agent *agent = timer->data;
    if (agent->closing_outputs) {
        tw_warn("stop is taking too long: exiting now");
        finish_stop(agent);
        return;
    }
    tw_warn("stop_timeout reached: stopping with work unfinished; unacknowledged data "
            "stays in the spool and is sent after the next start");
    close_outputs(agent);
    /* One more grace period for the handles to close. */
    uv_timer_start(&agent->stop_deadline, on_stop_deadline, 2000, 0);
}

static void metrics_stopped(void *ctx)
{
    tw_agent *agent = ctx;
    agent->metrics = NULL;
}

static void begin_stop(tw_agent *agent, const char *why)
{
    if (agent->stopping) {
        tw_warn("%s again while stopping: exiting now", why);
        agent->exit_status = TW_EXIT_FAILURE;
        finish_stop(agent);
        return;
    }
    agent->stopping = true;
    tw_notify_stopping();
    char deadline[32];
    tw_duration_format(agent->config.agent.stop_timeout_ms, deadline, sizeof deadline);
    tw_info("%s: stopping (at most %s)", why, deadline);
    uv_signal_stop(&agent->sighup);
    uv_timer_stop(&agent->watchdog);
    uv_timer_start(&agent->stop_deadline, on_stop_deadline, agent->config.agent.stop_timeout_ms,
                   0);
    /* Inputs stop and their last samples are flushed into the spool; then
     * the stop waits (polling) for in-flight batches, up to the deadline. */
    if (agent->metrics)
        tw_metrics_stop(agent->metrics, metrics_stopped, agent);
    /* Log pipelines stop reading and spool what they parsed; each is freed
     * once its outbox is closed (after the sender's). */
    for (size_t i = 0; i < agent->n_logs; i++)
        if (agent->logs[i].logs)
            tw_logs_stop(agent->logs[i].logs, logs_stopped, &agent->logs[i]);
    uv_timer_start(&agent->stop_poll, on_stop_poll, 0, STOP_POLL_MS);
}

static int start_metrics(tw_agent *agent, tw_err *err)
{
    if (!has_metric_inputs(&agent->config))
        return 0;
    tw_metrics_roots roots = {"/proc", "/sys"};
    return tw_metrics_start(&agent->loop, &agent->config, &roots, agent->metrics_outbox,
                            agent->sender, &agent->metrics, err);
}

static bool same_string(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int start_logs(tw_agent *agent, tw_err *err)
{
    agent->n_logs = agent->config.n_logs;
    agent->logs = tw_calloc(agent->n_logs ? agent->n_logs : 1, sizeof *agent->logs);
    for (size_t i = 0; i < agent->n_logs; i++) {
        agent->logs[i].agent = agent;
        int rc = tw_logs_start(&agent->loop, &agent->config, i, agent->sender,
                               &agent->logs[i].logs, err);
        if (rc != 0)
            return rc;
        agent->logs_running++;
    }
    return 0;
}

/* Whether the [logs] sections of two configurations say the same, key for
 * key (and the host name they expand into stream names). */
static bool same_logs_sections(const tw_agent_config *a, const tw_agent_config *b)
{
    if (a->n_logs != b->n_logs || !same_string(a->agent.hostname, b->agent.hostname))
        return false;
    for (size_t i = 0; i < a->n_logs; i++) {
        char name[300];
        snprintf(name, sizeof name, "logs %s", a->logs[i].name);
        const tw_conf_section *sa = tw_conf_find_section(&a->conf, name);
        const tw_conf_section *sb = tw_conf_find_section(&b->conf, name);
        if (!sa || !sb || sa->n_entries != sb->n_entries)
            return false;
        for (size_t k = 0; k < sa->n_entries; k++) {
            const tw_conf_entry *eb = tw_conf_find(sb, sa->entries[k].key);
            if (!eb || strcmp(eb->value, sa->entries[k].value) != 0)
                return false;
        }
    }
    return true;
}

static bool same_endpoint(const tw_endpoint_config *a, const tw_endpoint_config *b)
{
    return same_string(a->url, b->url) && same_string(a->region, b->region) &&
           same_string(a->access_key_id, b->access_key_id) &&
           same_string(a->secret_access_key, b->secret_access_key) &&
           same_string(a->session_token, b->session_token) &&
           same_string(a->profile, b->profile) &&
           same_string(a->credentials_file, b->credentials_file) &&
           a->timeout_ms == b->timeout_ms;
}

static void refuse_reload(tw_agent_config *next, const char *why)
{
    tw_error("reload refused: %s; the running configuration stays in force", why);
    tw_agent_config_free(next);
    tw_notify_ready("running (last reload refused: see the log)");
}

/* The old pipeline has flushed into the spool: swap configurations. */
static void reload_metrics_stopped(void *ctx)
{
    tw_agent *agent = ctx;
    agent->metrics = NULL;
    agent->reloading = false;
    if (agent->stopping) {
        tw_agent_config_free(&agent->next);
        return;
    }
    tw_agent_config_free(&agent->config);
    agent->config = agent->next;
    memset(&agent->next, 0, sizeof agent->next);
    for (size_t i = 0; i < agent->n_logs; i++)
        if (agent->logs[i].logs)
            tw_logs_rebind(agent->logs[i].logs, &agent->config, i);
    apply_log_level(agent);
    tw_err err;
    if (start_metrics(agent, &err) != 0)
        tw_error("reload: metrics inputs could not start: %s; metrics stay off until the next "
                 "reload or restart",
                 err.msg);
    tw_buf summary = TW_BUF_INIT;
    describe(&agent->config, &summary);
    tw_info("configuration reloaded: %s", summary.data);
    tw_buf_free(&summary);
    tw_notify_ready("running");
}

static void reload(tw_agent *agent)
{
    if (agent->reloading) {
        tw_warn("SIGHUP while the previous reload is still in progress: ignored");
        return;
    }
    tw_notify_reloading();
    tw_info("SIGHUP: reloading %s", agent->config_path);
    tw_agent_config next;
    if (tw_agent_config_load(&next, agent->config_path) != 0) {
        for (size_t i = 0; i < next.conf.n_errors; i++)
            tw_error("reload: %s", next.conf.errors[i]);
        char why[64];
        snprintf(why, sizeof why, "%zu error%s in the new configuration", next.conf.n_errors,
                 next.conf.n_errors == 1 ? "" : "s");
        refuse_reload(&next, why);
        return;
    }
    if (strcmp(next.agent.state_dir, agent->config.agent.state_dir) != 0) {
        char why[2 * PATH_MAX + 64];
        snprintf(why, sizeof why, "state_dir changed from %s to %s, which needs a restart",
                 agent->config.agent.state_dir, next.agent.state_dir);
        refuse_reload(&next, why);
        return;
    }
    if (!same_logs_sections(&next, &agent->config)) {
        /* Log pipelines hold open files, parsers mid-group and batches; they
         * are not rebuilt in place. A restart is lossless (checkpoints). */
        refuse_reload(&next, "[logs] sections changed, which needs a restart (nothing is lost "
                             "across one: reading resumes where it stopped)");
        return;
    }
    if (!same_endpoint(&next.endpoint, &agent->config.endpoint)) {
        /* A new sender first: if its URL or credentials are unusable, the
         * running one carries on. The outbox moves over; what the old one had
         * in flight is read from the spool again. */
        tw_sender_options options = {.endpoint = &next.endpoint};
        tw_sender *sender;
        tw_err err;
        if (tw_sender_new(&agent->loop, &options, &sender, &err) != 0) {
            refuse_reload(&next, err.msg);
            return;
        }
        tw_outbox_set_sender(agent->metrics_outbox, sender);
        for (size_t i = 0; i < agent->n_logs; i++)
            if (agent->logs[i].logs)
                tw_logs_set_sender(agent->logs[i].logs, sender);
        tw_sender_close(agent->sender, NULL, NULL);
        agent->sender = sender;
    }
    agent->next = next;
    agent->reloading = true;
    if (agent->metrics)
        tw_metrics_stop(agent->metrics, reload_metrics_stopped, agent);
    else
        reload_metrics_stopped(agent);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    tw_agent *agent = handle->data;
    if (signum == SIGHUP)
        reload(agent);
    else
        begin_stop(agent, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *timer)
{
    (void)timer;
    tw_notify_watchdog();
}

static void start_signal(tw_agent *agent, uv_signal_t *handle, int signum)
{
    uv_signal_init(&agent->loop, handle);
    handle->data = agent;
    uv_signal_start(handle, on_signal, signum);
}

static void describe_status(void *ctx, json_t *obj)
{
    tw_agent *agent = ctx;
    json_object_set_new(obj, "version", json_string(TW_VERSION));
    json_object_set_new(obj, "pid", json_integer(getpid()));
    json_object_set_new(obj, "uptime_seconds",
                        json_integer((tw_time_now_ms() - agent->started_ms) / 1000));
    json_object_set_new(obj, "config", json_string(agent->config_path));
    json_t *endpoint = json_object();
    json_object_set_new(endpoint, "url", json_string(agent->config.endpoint.url));
    json_object_set_new(endpoint, "region", json_string(agent->config.endpoint.region));
    if (agent->sender) {
        tw_sender_stats s;
        tw_sender_stats_get(agent->sender, &s);
        json_object_set_new(endpoint, "reachable", json_boolean(!s.endpoint_down));
        json_object_set_new(endpoint, "requests", json_integer((json_int_t)s.attempts));
        json_object_set_new(endpoint, "acknowledged", json_integer((json_int_t)s.acked));
        json_object_set_new(endpoint, "retries", json_integer((json_int_t)s.retries));
        json_object_set_new(endpoint, "rejected", json_integer((json_int_t)s.rejected));
        json_object_set_new(endpoint, "expired", json_integer((json_int_t)s.expired));
        json_object_set_new(endpoint, "bytes_sent", json_integer((json_int_t)s.bytes_sent));
        json_object_set_new(endpoint, "clock_offset_ms", json_integer(s.clock_offset_ms));
    }
    json_object_set_new(obj, "endpoint", endpoint);
    if (agent->metrics_outbox) {
        tw_outbox_stats o;
        tw_outbox_stats_get(agent->metrics_outbox, &o);
        json_t *out = json_object();
        json_object_set_new(out, "batches_queued", json_integer((json_int_t)o.pushed));
        json_object_set_new(out, "batches_sent", json_integer((json_int_t)o.acked));
        json_object_set_new(out, "batches_rejected", json_integer((json_int_t)o.rejected));
        json_object_set_new(out, "batches_expired", json_integer((json_int_t)o.expired));
        json_object_set_new(out, "batches_in_flight", json_integer(o.in_flight));
        json_object_set_new(out, "spool_batches",
                            json_integer((json_int_t)o.spool.pending_records));
        json_object_set_new(out, "spool_bytes", json_integer((json_int_t)o.spool.pending_bytes));
        json_object_set_new(out, "spool_dropped_batches",
                            json_integer((json_int_t)o.spool.dropped_records));
        json_object_set_new(out, "spool_oldest_ms", json_integer(o.spool.oldest_pending_ms));
        json_object_set_new(obj, "metrics_output", out);
    }
    if (agent->metrics) {
        json_t *m = json_object();
        tw_metrics_status(agent->metrics, m);
        json_object_set_new(obj, "metrics", m);
    }
    json_t *logs = json_array();
    for (size_t i = 0; i < agent->n_logs; i++) {
        if (!agent->logs[i].logs)
            continue;
        tw_logs_stats st;
        tw_logs_stats_get(agent->logs[i].logs, &st);
        json_t *l = json_object();
        json_object_set_new(l, "name", json_string(tw_logs_name(agent->logs[i].logs)));
        json_object_set_new(l, "files", json_integer(st.files));
        json_object_set_new(l, "lines", json_integer((json_int_t)st.lines));
        json_object_set_new(l, "records", json_integer((json_int_t)st.records));
        json_object_set_new(l, "unparsed", json_integer((json_int_t)st.unparsed));
        json_object_set_new(l, "batches", json_integer((json_int_t)st.batches));
        json_object_set_new(l, "events_dropped", json_integer((json_int_t)st.events_dropped));
        json_object_set_new(l, "events_rejected", json_integer((json_int_t)st.events_rejected));
        json_object_set_new(l, "audit_events", json_integer((json_int_t)st.audit_events));
        json_object_set_new(l, "spool_batches",
                            json_integer((json_int_t)st.spool_pending_records));
        json_object_set_new(l, "paused", json_boolean(st.paused));
        json_array_append_new(logs, l);
    }
    json_object_set_new(obj, "logs", logs);
}

/* Sender, outboxes, pipelines, status socket. Returns an exit status. */
static int start_outputs_and_inputs(tw_agent *agent)
{
    tw_err err;
    tw_sender_options options = {.endpoint = &agent->config.endpoint};
    if (tw_sender_new(&agent->loop, &options, &agent->sender, &err) != 0) {
        tw_error("%s", err.msg);
        return TW_EXIT_CONFIG;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/spool", agent->config.agent.state_dir);
    if (tw_mkdir_p(dir, 0700, &err) != 0) {
        tw_error("%s", err.msg);
        return TW_EXIT_FAILURE;
    }
    snprintf(dir, sizeof dir, "%s/spool/metrics", agent->config.agent.state_dir);
    tw_outbox_options outbox = {
        .name = "metrics",
        .dir = dir,
        .spool = {.max_bytes = agent->config.agent.spool_max_size},
    };
    if (tw_outbox_open(&agent->loop, agent->sender, &outbox, &agent->metrics_outbox, &err) != 0) {
        tw_error("%s", err.msg);
        return TW_EXIT_FAILURE;
    }
    if (start_metrics(agent, &err) != 0) {
        tw_error("%s", err.msg);
        return TW_EXIT_FAILURE;
    }
    if (start_logs(agent, &err) != 0) {
        tw_error("%s", err.msg);
        return TW_EXIT_FAILURE;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", agent->config.agent.state_dir, TW_STATUS_SOCKET_NAME);
    if (tw_status_start(&agent->loop, path, describe_status, agent, &agent->status, &err) != 0)
        tw_warn("%s; `trailwatch status` will not work, everything else does", err.msg);
    return TW_EXIT_OK;
}

int tw_agent_run(const char *config_path, tw_agent_config *config,
                 const char *log_level_override)
{
    tw_agent *agent = tw_calloc(1, sizeof *agent);
    agent->config_path = config_path;
    agent->log_level_override = log_level_override;
    agent->config = *config;
    agent->lock_fd = -1;
    agent->exit_status = TW_EXIT_OK;
    apply_log_level(agent);

    tw_err err;
    if (lock_state_dir(agent, &err) != 0) {
        tw_error("%s", err.msg);
        tw_agent_config_free(&agent->config);
        free(agent);
        return TW_EXIT_FAILURE;
    }
    uv_loop_init(&agent->loop);
    start_signal(agent, &agent->sigterm, SIGTERM);
    start_signal(agent, &agent->sigint, SIGINT);
    start_signal(agent, &agent->sighup, SIGHUP);
    uv_timer_init(&agent->loop, &agent->stop_deadline);
    agent->stop_deadline.data = agent;
    uv_timer_init(&agent->loop, &agent->stop_poll);
    agent->stop_poll.data = agent;
    uv_timer_init(&agent->loop, &agent->watchdog);
    uint64_t watchdog_ms = tw_notify_watchdog_interval_ms();
    if (watchdog_ms > 0)
        uv_timer_start(&agent->watchdog, on_watchdog, watchdog_ms, watchdog_ms);
    agent->started_ms = tw_time_now_ms();
    int failed = start_outputs_and_inputs(agent);
    if (failed != TW_EXIT_OK) {
        agent->exit_status = failed;
        agent->stopping = true;
        if (agent->metrics)
            tw_metrics_stop(agent->metrics, metrics_stopped, agent);
        for (size_t i = 0; i < agent->n_logs; i++)
            if (agent->logs[i].logs)
                tw_logs_stop(agent->logs[i].logs, logs_stopped, &agent->logs[i]);
        close_outputs(agent);
        uv_run(&agent->loop, UV_RUN_DEFAULT);
        uv_loop_close(&agent->loop);
        close(agent->lock_fd);
        tw_agent_config_free(&agent->config);
        free(agent->logs);
        free(agent);
        return failed;
    }

    tw_buf summary = TW_BUF_INIT;
    describe(&agent->config, &summary);
    tw_info("trailwatch-agent %s started: config %s (%zu file%s), state %s, endpoint %s (%s); %s",
            TW_VERSION, config_path, agent->config.conf.n_files,
            agent->config.conf.n_files == 1 ? "" : "s", agent->config.agent.state_dir,
            agent->config.endpoint.url, agent->config.endpoint.region, summary.data);
    tw_buf_free(&summary);
    tw_notify_ready("running");

    uv_run(&agent->loop, UV_RUN_DEFAULT);

    int status = agent->exit_status;
    if (uv_loop_close(&agent->loop) != 0)
        tw_warn("event loop closed with handles still open");
    tw_info("stopped");
    if (agent->lock_fd >= 0)
        close(agent->lock_fd);
    tw_agent_config_free(&agent->config);
    free(agent->logs);
    free(agent);
    return status;
}
