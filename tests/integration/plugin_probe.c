/* plugin_probe.c — test driver for test_plugin_sdk.py: runs the [plugin NAME]
 * sections of an agent configuration through agent/plugin_host.h exactly
 * as the agent does (check, open on a libuv loop, collect on the thread
 * pool, close) and prints every sample the sink receives, one per line:
 *     sample NAME UNIT VALUE [DIM=VALUE,...]
 * Usage: plugin_probe CONFIG [COLLECTS]   (default 1 collect per section)
 * Exit status: 0, or 1 with the error on stderr when a section is refused.
 * The plugin directory is tw_plugin_host_default_dir() (so
 * $TRAILWATCH_PLUGIN_DIR works). */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "config.h"
#include "log.h"
#include "mem.h"
#include "plugin_host.h"

static int print_sample(void *ctx, const tw_metric_sample *s)
{
    (void)ctx;
    printf("sample %s %s %.17g ", s->name, s->unit ? s->unit : "None", s->value);
    for (size_t i = 0; i < s->n_dimensions; i++)
        printf("%s%s=%s", i ? "," : "", s->dimensions[i].name, s->dimensions[i].value);
    printf("\n");
    return 0;
}

static void on_poll(uv_timer_t *t)
{
    (void)t;
}

static int run(tw_agent_config *config, uint64_t want)
{
    const char *dir = tw_plugin_host_default_dir();
    for (size_t i = 0; i < config->n_plugins; i++) {
        tw_err err = {{0}};
        if (tw_plugin_host_check(&config->plugins[i], dir, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        printf("check %s ok\n", config->plugins[i].name);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    tw_metric_sink sink = {print_sample, NULL};
    tw_plugin_host **hosts = tw_calloc(config->n_plugins + 1, sizeof *hosts);
    int rc = 0;
    size_t opened = 0;
    for (; opened < config->n_plugins; opened++) {
        tw_err err = {{0}};
        if (tw_plugin_host_open(&loop, &config->plugins[opened], dir,
                                config->metrics.interval_ms, &sink, &hosts[opened], &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            rc = 1;
            break;
        }
    }
    uv_timer_t poll;
    uv_timer_init(&loop, &poll);
    uv_timer_start(&poll, on_poll, 10, 10);
    for (bool done = rc != 0; !done;) {
        uv_run(&loop, UV_RUN_ONCE);
        done = true;
        for (size_t i = 0; i < opened; i++) {
            tw_plugin_stats s;
            tw_plugin_host_stats(hosts[i], &s);
            done = done && s.collects >= want;
        }
    }
    for (size_t i = 0; i < opened; i++) {
        tw_plugin_stats s;
        tw_plugin_host_stats(hosts[i], &s);
        printf("stats %s collects=%llu failures=%llu emitted=%llu rejected=%llu\n",
               tw_plugin_host_name(hosts[i]), (unsigned long long)s.collects,
               (unsigned long long)s.failures, (unsigned long long)s.emitted,
               (unsigned long long)s.rejected);
        tw_plugin_host_close(hosts[i], NULL, NULL);
    }
    uv_close((uv_handle_t *)&poll, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(hosts);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: plugin_probe CONFIG [COLLECTS]\n");
        return 2;
    }
    tw_log_init("plugin_probe", TW_LOG_INFO);
    setvbuf(stdout, NULL, _IOLBF, 0);
    tw_agent_config config;
    if (tw_agent_config_load(&config, argv[1]) != 0) {
        for (size_t i = 0; i < config.conf.n_errors; i++)
            fprintf(stderr, "%s\n", config.conf.errors[i]);
        tw_agent_config_free(&config);
        return 1;
    }
    int rc = run(&config, argc == 3 ? strtoull(argv[2], NULL, 10) : 1);
    tw_agent_config_free(&config);
    return rc;
}
