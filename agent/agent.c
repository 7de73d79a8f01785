/* agent.c — the agent's loop, signals, reload and stop (see agent.h). */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "notify.h"
#include "units.h"

typedef struct tw_agent {
    uv_loop_t loop;
    const char *config_path;
    const char *log_level_override;
    tw_agent_config config;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t watchdog;
    uv_timer_t stop_deadline;
    int lock_fd;
    bool stopping;
    int exit_status;
} tw_agent;

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

static void on_stop_deadline(uv_timer_t *timer)
{
    tw_agent *agent = timer->data;
    tw_warn("stop_timeout reached: stopping with work unfinished; unacknowledged data "
            "stays in the spool and is sent after the next start");
    finish_stop(agent);
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
    /* Inputs stop reading, batches in flight finish or stay spooled, state is
     * persisted; with nothing in flight the stop completes at once. */
    finish_stop(agent);
}

static void reload(tw_agent *agent)
{
    tw_notify_reloading();
    tw_info("SIGHUP: reloading %s", agent->config_path);
    tw_agent_config next;
    if (tw_agent_config_load(&next, agent->config_path) != 0) {
        for (size_t i = 0; i < next.conf.n_errors; i++)
            tw_error("reload: %s", next.conf.errors[i]);
        tw_error("reload refused: %zu error%s in the new configuration; the running "
                 "configuration stays in force",
                 next.conf.n_errors, next.conf.n_errors == 1 ? "" : "s");
        tw_agent_config_free(&next);
        tw_notify_ready("running (last reload refused: see the log)");
        return;
    }
    if (strcmp(next.agent.state_dir, agent->config.agent.state_dir) != 0) {
        tw_error("reload refused: state_dir changed from %s to %s, which needs a restart; the "
                 "running configuration stays in force",
                 agent->config.agent.state_dir, next.agent.state_dir);
        tw_agent_config_free(&next);
        tw_notify_ready("running (last reload refused: see the log)");
        return;
    }
    tw_agent_config_free(&agent->config);
    agent->config = next;
    apply_log_level(agent);
    tw_buf summary = TW_BUF_INIT;
    describe(&agent->config, &summary);
    tw_info("configuration reloaded: %s", summary.data);
    tw_buf_free(&summary);
    tw_notify_ready("running");
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
    uv_timer_init(&agent->loop, &agent->watchdog);
    uint64_t watchdog_ms = tw_notify_watchdog_interval_ms();
    if (watchdog_ms > 0)
        uv_timer_start(&agent->watchdog, on_watchdog, watchdog_ms, watchdog_ms);

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
    free(agent);
    return status;
}
