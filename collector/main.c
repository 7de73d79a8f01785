/* main.c — trailwatch-collector: the command line, startup (configuration,
 * data directory, store, services, HTTP server), signals (SIGTERM/SIGINT
 * stop gracefully, SIGHUP reloads users), systemd notification, shutdown. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "buf.h"
#include "collector.h"
#include "config.h"
#include "event_history.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "notify.h"
#include "units.h"

/* Exit statuses, as the agent's (agent/agent.h) and in --help. */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_ = 1, /* runtime failure, or a second stop signal */
    EXIT_USAGE = 2,
    EXIT_CONFIG = 78, /* EX_CONFIG: systemd units don't restart on it */
};

/* Requests in flight and queued store jobs get this long after SIGTERM. */
#define STOP_DEADLINE_MS 30000
#define KEY_CACHE_ENTRIES 64

typedef struct options {
    const char *config_path;
    const char *listen;
    const char *data_dir;
    const char *log_level;
    bool check_only;
} options;

typedef struct app {
    uv_loop_t loop;
    const options *opts;
    tw_collector collector;
    tw_collector_config *config;
    const tw_migration **migrations;
    int lock_fd;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t watchdog, stop_deadline;
    bool stopping;
    int exit_status;
} app;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: trailwatch-collector [--config FILE] [--listen ADDR] [--data-dir DIR]\n"
            "                            [--check-config] [--log-level LEVEL]\n"
            "\n"
            "A local, AWS-compatible endpoint for CloudWatch Logs, CloudWatch metrics,\n"
            "CloudTrail event history and CloudTrail data ingestion: point trailwatch\n"
            "agents or the AWS CLI (--endpoint-url) at it.\n"
            "\n"
            "  -c, --config FILE     configuration file (default %s);\n"
            "                        FILE.d/*.conf are read after it, in name order\n"
            "  -L, --listen ADDR     listen on ADDR (host:port, [::1]:port or :port;\n"
            "                        port 0 = any free port), overriding [server] listen\n"
            "  -d, --data-dir DIR    keep the database in DIR, overriding [server] data_dir\n"
            "  -t, --check-config    check the configuration, print every problem, and exit\n"
            "  -l, --log-level LEVEL error, warn, notice, info or debug (default info)\n"
            "  -V, --version         print the version and exit\n"
            "  -h, --help            print this help and exit\n"
            "\n"
            "Once ready it logs \"listening on URL\". Signals: SIGHUP re-reads the users\n"
            "(a bad file is refused and the running users kept); SIGTERM and SIGINT stop\n"
            "gracefully (a second one exits at once).\n"
            "Exit status: 0 stopped cleanly; 1 failure; 2 usage error; 78 configuration error.\n",
            TW_COLLECTOR_DEFAULT_CONFIG);
}

/* ---- --check-config ---------------------------------------------------- */

static void print_summary(const tw_collector_config *c, FILE *out)
{
    char size[TW_UNITS_FORMAT_SIZE], delivery[TW_UNITS_FORMAT_SIZE], digest[TW_UNITS_FORMAT_SIZE];
    tw_size_format(c->max_body_bytes, size, sizeof size);
    tw_duration_format(c->delivery_interval_ms, delivery, sizeof delivery);
    tw_duration_format(c->digest_interval_ms, digest, sizeof digest);
    for (size_t i = 0; i < c->conf.n_files; i++)
        fprintf(out, "  read %s\n", c->conf.files[i]);
    fprintf(out, "  listen     %s (%s)\n", c->listen, c->tls_cert ? "https" : "http");
    if (c->tls_cert != NULL)
        fprintf(out, "  tls        certificate %s, key %s\n", c->tls_cert, c->tls_key);
    fprintf(out, "  data_dir   %s\n", c->data_dir);
    fprintf(out, "  max_body   %s%s\n", size,
            c->debug_signatures ? "; debug_signatures on (not for production)" : "");
    fprintf(out, "  account    %s, regions", c->account_id);
    for (size_t i = 0; i < c->n_regions; i++)
        fprintf(out, "%s %s%s", i ? "," : "", c->regions[i], i == 0 ? " (home)" : "");
    fprintf(out, "\n");
    for (size_t i = 0; i < c->n_users; i++)
        fprintf(out, "  user %-10s %s  %s\n", c->users[i].name, c->users[i].access_key_id,
                c->users[i].arn);
    fprintf(out, "  cloudtrail delivery every %s, digests every %s, event history %lld days\n",
            delivery, digest, (long long)c->event_history_days);
}

static int check_config(const options *o)
{
    tw_collector_config config;
    int rc = tw_collector_config_load(&config, o->config_path, o->listen, o->data_dir);
    if (rc != 0) {
        for (size_t i = 0; i < config.conf.n_errors; i++)
            fprintf(stderr, "%s\n", config.conf.errors[i]);
        fprintf(stderr, "%s: %zu error%s; configuration NOT valid\n", o->config_path,
                config.conf.n_errors, config.conf.n_errors == 1 ? "" : "s");
        tw_collector_config_free(&config);
        return EXIT_FAILURE_;
    }
    printf("%s: configuration valid\n", o->config_path);
    print_summary(&config, stdout);
    tw_collector_config_free(&config);
    return EXIT_OK;
}

/* ---- startup ----------------------------------------------------------- */

/* One collector per data directory: two would write one database from two
 * processes, each believing it owns the batch ids and retention sweeps. */
static int claim_data_dir(app *a, tw_err *err)
{
    return tw_claim_daemon_dir(a->config->data_dir, "collector", "data directory", "data_dir",
                               &a->lock_fd, err);
}

/* Every service's tables, the event history's and the batch ids'. */
static const tw_migration **migration_lists(void)
{
    size_t n = 0;
    while (tw_collector_services[n] != NULL)
        n++;
    const tw_migration **lists = tw_calloc(n + 3, sizeof *lists);
    size_t used = 0;
    lists[used++] = tw_event_history_migrations;
    lists[used++] = tw_call_batch_migrations;
    for (size_t i = 0; i < n; i++)
        if (tw_collector_services[i]->migrations != NULL)
            lists[used++] = tw_collector_services[i]->migrations;
    lists[used] = NULL;
    return lists;
}

static int open_store(app *a, tw_err *err)
{
    tw_buf path = TW_BUF_INIT;
    tw_buf_printf(&path, "%s/collector.db", a->config->data_dir);
    a->migrations = migration_lists();
    int rc = tw_store_open(&a->loop, path.data, (const tw_migration *const *)a->migrations,
                           &a->collector.store, err);
    tw_buf_free(&path);
    return rc;
}

static void start_services(app *a)
{
    const tw_service *const *services = a->collector.services;
    for (size_t i = 0; services[i] != NULL && i < TW_COLLECTOR_MAX_SERVICES; i++)
        if (services[i]->start != NULL)
            a->collector.service_states[i] = services[i]->start(&a->collector);
}

static void stop_services(app *a)
{
    const tw_service *const *services = a->collector.services;
    for (size_t i = 0; services[i] != NULL && i < TW_COLLECTOR_MAX_SERVICES; i++) {
        if (services[i]->stop != NULL && a->collector.service_states[i] != NULL)
            services[i]->stop(a->collector.service_states[i]);
        a->collector.service_states[i] = NULL;
    }
}

static int start_http(app *a, tw_err *err)
{
    const tw_collector_config *c = a->config;
    tw_http_server_config http = {
        .listen = c->listen,
        .tls_cert = c->tls_cert,
        .tls_key = c->tls_key,
        .max_body_bytes = (size_t)c->max_body_bytes,
    };
    return tw_http_server_start(&a->loop, &http, tw_collector_handle_request, &a->collector,
                                &a->collector.http, err);
}

/* ---- signals, reload, stop ---------------------------------------------- */

static void close_walk_cb(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* The server and every request are done: services, then the store (which
 * runs the done callbacks of the jobs still queued), then our handles. */
static void on_http_stopped(void *arg)
{
    app *a = arg;
    stop_services(a);
    tw_store_close(a->collector.store);
    a->collector.store = NULL;
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sighup, NULL);
    uv_close((uv_handle_t *)&a->watchdog, NULL);
    uv_close((uv_handle_t *)&a->stop_deadline, NULL);
    /* h2o's own handles live until tw_http_server_free, after uv_run. */
    uv_stop(&a->loop);
}

static void on_stop_deadline(uv_timer_t *timer)
{
    (void)timer;
    tw_error("still stopping after %ds: exiting with requests unfinished (the database stays "
             "consistent; unanswered clients retry)",
             STOP_DEADLINE_MS / 1000);
    _exit(EXIT_FAILURE_);
}

static void begin_stop(app *a, const char *why)
{
    if (a->stopping) {
        /* The database survives an abrupt exit (SQLite WAL); unanswered
         * requests were not acknowledged, so clients send them again. */
        tw_warn("%s again while stopping: exiting now", why);
        _exit(EXIT_FAILURE_);
    }
    a->stopping = true;
    tw_notify_stopping();
    tw_info("%s: stopping (finishing requests in flight)", why);
    uv_signal_stop(&a->sighup);
    uv_timer_stop(&a->watchdog);
    uv_timer_start(&a->stop_deadline, on_stop_deadline, STOP_DEADLINE_MS, 0);
    tw_http_server_stop(a->collector.http, on_http_stopped, a);
}

static void log_users(const tw_collector_config *c, const char *what)
{
    tw_buf names = TW_BUF_INIT;
    for (size_t i = 0; i < c->n_users; i++)
        tw_buf_printf(&names, "%s%s", i ? ", " : "", c->users[i].name);
    tw_info("%s: %zu user%s (%s)", what, c->n_users, c->n_users == 1 ? "" : "s",
            tw_buf_cstr(&names));
    tw_buf_free(&names);
}

/* Only users change without a restart; a file with errors changes nothing. */
static void reload(app *a)
{
    tw_notify_reloading();
    tw_info("SIGHUP: reloading the users from %s", a->opts->config_path);
    tw_collector_config *next = tw_calloc(1, sizeof *next);
    if (tw_collector_config_load(next, a->opts->config_path, a->opts->listen,
                                 a->opts->data_dir) != 0) {
        for (size_t i = 0; i < next->conf.n_errors; i++)
            tw_error("reload: %s", next->conf.errors[i]);
        tw_error("reload refused: %zu error%s in the configuration; the running users stay in "
                 "force",
                 next->conf.n_errors, next->conf.n_errors == 1 ? "" : "s");
        tw_collector_config_free(next);
        free(next);
        tw_notify_ready("running (last reload refused: see the log)");
        return;
    }
    tw_buf changes = TW_BUF_INIT;
    tw_collector_config_restart_changes(a->config, next, &changes);
    if (changes.len > 0)
        tw_warn("reload: %s changed, which needs a restart; the running values stay in force",
                changes.data);
    tw_buf_free(&changes);
    tw_collector_config_take_users(a->config, next);
    log_users(a->config, "reload: users now");
    tw_notify_ready("running");
}

static void on_signal(uv_signal_t *handle, int signum)
{
    app *a = handle->data;
    if (signum == SIGHUP)
        reload(a);
    else
        begin_stop(a, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *timer)
{
    (void)timer;
    tw_notify_watchdog();
}

static void start_signal(app *a, uv_signal_t *handle, int signum)
{
    uv_signal_init(&a->loop, handle);
    handle->data = a;
    uv_signal_start(handle, on_signal, signum);
}

static void start_loop_handles(app *a)
{
    start_signal(a, &a->sigterm, SIGTERM);
    start_signal(a, &a->sigint, SIGINT);
    start_signal(a, &a->sighup, SIGHUP);
    uv_timer_init(&a->loop, &a->stop_deadline);
    uv_timer_init(&a->loop, &a->watchdog);
    uint64_t watchdog_ms = tw_notify_watchdog_interval_ms();
    if (watchdog_ms > 0)
        uv_timer_start(&a->watchdog, on_watchdog, watchdog_ms, watchdog_ms);
}

/* ---- run --------------------------------------------------------------- */

static void announce(const app *a)
{
    const tw_collector_config *c = a->config;
    tw_buf regions = TW_BUF_INIT;
    for (size_t i = 0; i < c->n_regions; i++)
        tw_buf_printf(&regions, "%s%s", i ? "," : "", c->regions[i]);
    tw_info("trailwatch-collector %s listening on %s (data %s, account %s, regions %s, %zu "
            "user%s)",
            TW_VERSION, tw_http_server_url(a->collector.http), c->data_dir, c->account_id,
            regions.data, c->n_users, c->n_users == 1 ? "" : "s");
    tw_buf_free(&regions);
}

/* Everything after the configuration: returns the exit status. */
static int serve(app *a)
{
    tw_err err;
    if (geteuid() == 0)
        tw_warn("running as root: trailwatch-collector runs fine as an unprivileged user "
                "(it needs only its data_dir and a port above 1023)");
    if (claim_data_dir(a, &err) != 0) {
        tw_error("%s", err.msg);
        return EXIT_FAILURE_;
    }
    uv_loop_init(&a->loop);
    a->collector.loop = &a->loop;
    a->collector.config = a->config;
    a->collector.services = tw_collector_services;
    a->collector.key_cache = tw_sigv4_key_cache_new(KEY_CACHE_ENTRIES);
    int status = EXIT_OK;
    if (open_store(a, &err) != 0) {
        tw_error("%s", err.msg);
        status = EXIT_FAILURE_;
    } else {
        start_services(a);
        if (start_http(a, &err) != 0) {
            tw_error("%s", err.msg);
            stop_services(a);
            tw_store_close(a->collector.store);
            a->collector.store = NULL;
            status = EXIT_FAILURE_;
        }
    }
    if (status == EXIT_OK) {
        start_loop_handles(a);
        announce(a);
        tw_notify_ready("running");
        uv_run(&a->loop, UV_RUN_DEFAULT);
        status = a->exit_status;
        tw_http_server_free(a->collector.http);
    }
    uv_walk(&a->loop, close_walk_cb, NULL);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&a->loop) != 0)
        tw_warn("event loop closed with handles still open");
    tw_sigv4_key_cache_free(a->collector.key_cache);
    free(a->migrations);
    if (status == EXIT_OK)
        tw_info("stopped");
    return status;
}

static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'L'},
        {"data-dir", required_argument, NULL, 'd'},
        {"check-config", no_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.config_path = TW_COLLECTOR_DEFAULT_CONFIG};
    int opt;
    while ((opt = getopt_long(argc, argv, "c:L:d:tl:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': o->config_path = optarg; break;
        case 'L': o->listen = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 't': o->check_only = true; break;
        case 'l': o->log_level = optarg; break;
        case 'V': printf("trailwatch-collector %s\n", TW_VERSION); exit(EXIT_OK);
        case 'h': usage(stdout); exit(EXIT_OK);
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "trailwatch-collector: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    options opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != EXIT_OK)
        return rc;
    tw_log_level level;
    if (tw_log_level_option("trailwatch-collector", opts.log_level, &level) != 0)
        return EXIT_USAGE;
    tw_log_init("trailwatch-collector", level);
    if (opts.check_only)
        return check_config(&opts);

    app *a = tw_calloc(1, sizeof *a);
    a->opts = &opts;
    a->lock_fd = -1;
    a->config = tw_calloc(1, sizeof *a->config);
    int status;
    if (tw_collector_config_load(a->config, opts.config_path, opts.listen, opts.data_dir) != 0) {
        tw_conf_log_startup_errors(&a->config->conf);
        status = EXIT_CONFIG;
    } else {
        status = serve(a);
    }
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    tw_collector_config_free(a->config);
    free(a->config);
    free(a);
    return status;
}
