/* loadavg.c — an example trailwatch plugin: the load averages and the
 * number of runnable and existing threads, from /proc/loadavg.
 *
 * Metrics, every interval:
 *   load1, load5, load15   the 1, 5 and 15 minute load averages  (None)
 *   procs_running          runnable scheduling entities (threads) (Count)
 *   procs_total            existing scheduling entities (threads) (Count)
 *
 * Configuration:
 *   [plugin load]
 *   library = loadavg.so
 *   path    = /proc/loadavg     ; optional: the file to read (for tests)
 *
 * It is written as an out-of-tree plugin is: it includes only
 * trailwatch/plugin.h and the C library, and builds with
 *   cc -shared -fPIC $(pkg-config --cflags trailwatch-plugin) loadavg.c -o loadavg.so
 * docs/plugins.md walks through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trailwatch/plugin.h>

/* What one [plugin NAME] section owns: made by init, freed by shutdown. */
struct loadavg_state {
    int fd; /* kept open: each collect re-reads it with pread, no open/close */
};

/* The keys this plugin reads from its section (besides library and interval,
 * which the agent handles). Any other key is reported as an error before
 * init runs, so a typo like "paht" never goes unnoticed. */
static const char *const loadavg_keys[] = {"path", NULL};

/* Runs once, on the agent's loop thread: check the configuration, open what
 * collect needs, and fail now rather than on every interval. It must not
 * block for long (the loop thread serves the whole agent). */
static int loadavg_init(trailwatch_host *host, const trailwatch_host_api *api, void **state)
{
    const char *path = api->config_get(host, "path");
    if (path == NULL)
        path = "/proc/loadavg";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        /* Logged at error level during init, this line is the reason the
         * agent (and check-config) gives for refusing the section. */
        api->log(host, TRAILWATCH_LOG_ERROR, "path: cannot open %s: %s", path, strerror(e));
        return -e;
    }
    struct loadavg_state *s = malloc(sizeof *s);
    if (s == NULL) {
        close(fd);
        return -ENOMEM;
    }
    s->fd = fd;
    *state = s;
    return 0;
}

/* Emits one metric without dimensions. The strings are only borrowed for
 * the call: the agent copies what it keeps. */
static void emit(trailwatch_host *host, const trailwatch_host_api *api, const char *name,
                 const char *unit, double value)
{
    trailwatch_metric m = {
        .name = name,
        .unit = unit,
        .value = value,
        .dimensions = NULL,
        .dimension_count = 0,
        .timestamp_ms = 0, /* 0: the time of this interval */
    };
    /* emit returns -EINVAL when the metric breaks a CloudWatch rule; the
     * agent has already logged why, so there is nothing more to do here. */
    api->emit(host, &m);
}

/* Runs every interval on a worker thread, so blocking here is fine (within
 * the interval). /proc/loadavg reads like "0.52 0.58 0.59 2/1234 56789". */
static int loadavg_collect(void *state, trailwatch_host *host, const trailwatch_host_api *api)
{
    struct loadavg_state *s = state;
    char text[128];
    ssize_t n = pread(s->fd, text, sizeof text - 1, 0);
    if (n < 0) {
        int e = errno;
        api->log(host, TRAILWATCH_LOG_WARNING, "cannot read the load averages: %s", strerror(e));
        return -e;
    }
    text[n] = '\0';
    double load1, load5, load15;
    unsigned long running, total;
    if (sscanf(text, "%lf %lf %lf %lu/%lu", &load1, &load5, &load15, &running, &total) != 5) {
        api->log(host, TRAILWATCH_LOG_WARNING, "unexpected load average line \"%.60s\"", text);
        return -EINVAL;
    }
    emit(host, api, "load1", "None", load1);
    emit(host, api, "load5", "None", load5);
    emit(host, api, "load15", "None", load15);
    emit(host, api, "procs_running", "Count", (double)running);
    emit(host, api, "procs_total", "Count", (double)total);
    return 0;
}

/* Runs once on the loop thread when the agent stops or drops the section. */
static void loadavg_shutdown(void *state)
{
    struct loadavg_state *s = state;
    close(s->fd);
    free(s);
}

static const trailwatch_plugin loadavg_plugin = {
    .abi_version = TRAILWATCH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(trailwatch_plugin),
    .name = "loadavg",
    .description = "load averages and runnable threads from /proc/loadavg",
    .config_keys = loadavg_keys,
    .init = loadavg_init,
    .collect = loadavg_collect,
    .shutdown = loadavg_shutdown,
};

TRAILWATCH_PLUGIN_DEFINE(loadavg_plugin)
