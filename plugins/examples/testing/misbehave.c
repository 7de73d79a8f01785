/* misbehave.c — a test-only plugin whose `mode` key picks what it does, so
 * tests/unit/test_plugin_host.c can check how the agent copes:
 *
 *   good          emits test_value (key value, default 1) and test_collects
 *   bad_metrics   emits five metrics that break CloudWatch rules and one
 *                 good one; test_bad_rcs = how many emits returned -EINVAL
 *   init_fail     logs an error and refuses the section in init
 *   emit_in_init  emits in init; collect sends that emit's return code
 *                 as test_init_emit_rc
 *   thread_emit   emits from a thread of its own during collect; sends that
 *                 emit's return code as test_thread_emit_rc
 *   slow          sleeps sleep_ms (default 1000) in collect, then emits
 *   fail          collect returns -EIO
 *   flood         emits count (default 100005) metrics in one collect and
 *                 appends "last_rc N" (the last emit's return) to marker
 *   dims          emits test_dims with dimensions a=1 and b=two
 * shutdown appends "shutdown <name>" to the file named by key marker, if
 * set, so a test can see that it ran.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <trailwatch/plugin.h>

struct misbehave {
    char mode[32];
    double value;
    long sleep_ms;
    long count;
    int init_emit_rc;
    long collects;
    char marker[512];
    char name[128];
};

static const char *const misbehave_keys[] = {"mode", "value", "sleep_ms", "count", "marker",
                                             NULL};

static void put(trailwatch_host *host, const trailwatch_host_api *api, const char *name,
                double value)
{
    trailwatch_metric m = {.name = name, .unit = "Count", .value = value};
    api->emit(host, &m);
}

static int misbehave_init(trailwatch_host *host, const trailwatch_host_api *api, void **state)
{
    const char *mode = api->config_get(host, "mode");
    const char *value = api->config_get(host, "value");
    const char *sleep_ms = api->config_get(host, "sleep_ms");
    const char *count = api->config_get(host, "count");
    const char *marker = api->config_get(host, "marker");
    if (!mode)
        mode = "good";
    if (strcmp(mode, "init_fail") == 0) {
        api->log(host, TRAILWATCH_LOG_ERROR, "mode: init_fail refuses the section on purpose");
        return -EINVAL;
    }
    struct misbehave *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    snprintf(s->mode, sizeof s->mode, "%s", mode);
    snprintf(s->marker, sizeof s->marker, "%s", marker ? marker : "");
    snprintf(s->name, sizeof s->name, "%s", api->instance_name(host));
    s->value = value ? strtod(value, NULL) : 1;
    s->sleep_ms = sleep_ms ? strtol(sleep_ms, NULL, 10) : 1000;
    s->count = count ? strtol(count, NULL, 10) : 100005;
    if (strcmp(mode, "emit_in_init") == 0) {
        trailwatch_metric m = {.name = "in_init", .value = 1};
        s->init_emit_rc = api->emit(host, &m);
    }
    *state = s;
    return 0;
}

struct thread_emit {
    trailwatch_host *host;
    const trailwatch_host_api *api;
    int rc;
};

static void *emit_from_thread(void *arg)
{
    struct thread_emit *t = arg;
    trailwatch_metric m = {.name = "from_thread", .value = 1};
    t->rc = t->api->emit(t->host, &m);
    return NULL;
}

static int bad_metrics(trailwatch_host *host, const trailwatch_host_api *api)
{
    trailwatch_dimension many[30];
    for (int i = 0; i < 30; i++)
        many[i] = (trailwatch_dimension){"d", "v"};
    const trailwatch_metric bad[] = {
        {.name = "nan_value", .value = NAN},
        {.name = "", .value = 1},
        {.name = "kelvin", .unit = "Kelvin", .value = 1},
        {.name = "too_many_dims", .value = 1, .dimensions = many, .dimension_count = 30},
        {.name = "null_dims", .value = 1, .dimensions = NULL, .dimension_count = 1},
    };
    int einval = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (api->emit(host, &bad[i]) == -EINVAL)
            einval++;
    put(host, api, "test_bad_rcs", einval);
    return 0;
}

static int misbehave_collect(void *state, trailwatch_host *host, const trailwatch_host_api *api)
{
    struct misbehave *s = state;
    s->collects++;
    if (strcmp(s->mode, "bad_metrics") == 0)
        return bad_metrics(host, api);
    if (strcmp(s->mode, "fail") == 0)
        return -EIO;
    if (strcmp(s->mode, "emit_in_init") == 0) {
        put(host, api, "test_init_emit_rc", s->init_emit_rc);
        return 0;
    }
    if (strcmp(s->mode, "thread_emit") == 0) {
        struct thread_emit t = {host, api, 0};
        pthread_t thread;
        if (pthread_create(&thread, NULL, emit_from_thread, &t) != 0)
            return -EAGAIN;
        pthread_join(thread, NULL);
        put(host, api, "test_thread_emit_rc", t.rc);
        return 0;
    }
    if (strcmp(s->mode, "flood") == 0) {
        int rc = 0;
        for (long i = 0; i < s->count; i++) {
            trailwatch_metric m = {.name = "flood", .value = (double)i};
            rc = api->emit(host, &m);
        }
        /* The buffer is full by now: the return code goes to the marker. */
        FILE *f = s->marker[0] ? fopen(s->marker, "a") : NULL;
        if (f) {
            fprintf(f, "last_rc %d\n", rc);
            fclose(f);
        }
        return 0;
    }
    if (strcmp(s->mode, "dims") == 0) {
        trailwatch_dimension d[2] = {{"a", "1"}, {"b", "two"}};
        trailwatch_metric m = {.name = "test_dims", .unit = "Percent", .value = 42.5,
                               .dimensions = d, .dimension_count = 2,
                               .timestamp_ms = 1700000000123};
        api->emit(host, &m);
        return 0;
    }
    if (strcmp(s->mode, "slow") == 0) {
        struct timespec ts = {s->sleep_ms / 1000, (s->sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    put(host, api, "test_value", s->value);
    put(host, api, "test_collects", (double)s->collects);
    return 0;
}

static void misbehave_shutdown(void *state)
{
    struct misbehave *s = state;
    if (s->marker[0]) {
        FILE *f = fopen(s->marker, "a");
        if (f) {
            fprintf(f, "shutdown %s after %ld collects\n", s->name, s->collects);
            fclose(f);
        }
    }
    free(s);
}

static const trailwatch_plugin misbehave_plugin = {
    .abi_version = TRAILWATCH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(trailwatch_plugin),
    .name = "misbehave",
    .description = "a plugin that breaks the rules on request (tests only)",
    .config_keys = misbehave_keys,
    .init = misbehave_init,
    .collect = misbehave_collect,
    .shutdown = misbehave_shutdown,
};

TRAILWATCH_PLUGIN_DEFINE(misbehave_plugin)
