/* plugin_host.c — one custom metric plugin: loading and checking its shared
 * object, its lifecycle on the loop and the thread pool, and the emit
 * buffer between them (see plugin_host.h). */
#include "plugin_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf_schema.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

#ifndef TW_PLUGIN_DIR
#define TW_PLUGIN_DIR "/usr/local/lib/trailwatch/plugins"
#endif

/* A plugin emitting more than this per collect is broken (or a denial of
 * service); the buffer stops growing and the rest is counted as rejected. */
#define MAX_SAMPLES_PER_COLLECT 100000
/* How many refused emits and rejected samples are logged, per host; the
 * rest are only counted (a bad plugin must not flood the journal). */
#define MAX_LOGGED_REJECTS 5
#define MAX_LOGGED_REFUSALS 3

/* A sample as the plugin emitted it, its strings copied into the call's
 * string buffer. Offsets, not pointers: the buffer grows while filling. */
typedef struct buffered_sample {
    size_t name;
    size_t unit; /* NO_UNIT for NULL */
    double value;
    int64_t time_ms;
    size_t first_dimension, n_dimensions;
} buffered_sample;

typedef struct buffered_dimension {
    size_t name, value;
} buffered_dimension;

#define NO_UNIT SIZE_MAX

/* One collect: filled on the worker thread, drained on the loop thread
 * after it (uv_queue_work orders the two). Kept in the host and reused, so
 * a steady plugin allocates nothing per interval. */
typedef struct collect_call {
    int64_t tick_ms;    /* the interval this collect belongs to (epoch ms) */
    uint64_t duration_ms;
    int rc;
    tw_buf strings;
    buffered_sample *samples;
    size_t n_samples, cap_samples;
    buffered_dimension *dimensions;
    size_t n_dimensions, cap_dimensions;
    uint64_t rejected;
    bool overflow_logged;
} collect_call;

/* The loaded shared object and what it says it is. */
typedef struct loaded_library {
    void *handle;
    const trailwatch_plugin *plugin;
    const char *label; /* the library as configured, for messages */
} loaded_library;

struct trailwatch_host {
    uv_loop_t *loop;
    uv_thread_t loop_thread;
    uv_timer_t timer;
    uv_work_t work;
    char *name;
    char *label; /* library as configured */
    char **keys, **values;
    size_t n_entries;
    loaded_library lib;
    void *state;
    uint64_t interval_ms;
    tw_metric_sink sink;

    bool running; /* a collect is queued or running */
    collect_call call;
    uint64_t consecutive_skips;
    uint64_t consecutive_failures;
    int rejects_logged; /* touched only inside collect: one at a time */

    bool in_init;
    char init_error[1024]; /* the last error init logged */

    bool closing;
    bool timer_closed;
    void (*closed)(void *);
    void *closed_arg;

    tw_plugin_stats stats;
    atomic_uint_fast64_t refused_emits; /* from any thread */
};

/* The collect this thread is running, if any. emit uses it to tell a call
 * made from inside collect (accepted, into that call's buffer) from one
 * made anywhere else — init, shutdown, a thread the plugin started — which
 * it must refuse without touching a buffer another thread may be filling.
 * Thread-local by nature: only the worker running the collect sets it. */
static _Thread_local struct {
    tw_plugin_host *host;
    collect_call *call;
} current;

/* ---- the host API (what plugins call) ---------------------------------- */

static const char *api_config_get(trailwatch_host *host, const char *key)
{
    if (!host || !key)
        return NULL;
    for (size_t i = 0; i < host->n_entries; i++)
        if (strcmp(host->keys[i], key) == 0)
            return host->values[i];
    return NULL;
}

static const char *api_instance_name(trailwatch_host *host)
{
    return host ? host->name : NULL;
}

static tw_log_level plugin_level(int level)
{
    if (level <= TRAILWATCH_LOG_ERROR)
        return TW_LOG_ERROR;
    if (level >= TRAILWATCH_LOG_DEBUG)
        return TW_LOG_DEBUG;
    return (tw_log_level)level;
}

static void api_log(trailwatch_host *host, int level, const char *format, ...)
    TW_PRINTF(3, 4);

static void api_log(trailwatch_host *host, int level, const char *format, ...)
{
    if (!host || !format)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    /* The reason init gives for refusing the section. in_init is only
     * written on the loop thread, so only the loop thread reads it. */
    uv_thread_t self = uv_thread_self();
    if (level <= TRAILWATCH_LOG_ERROR && uv_thread_equal(&self, &host->loop_thread) &&
        host->in_init)
        snprintf(host->init_error, sizeof host->init_error, "%s", line);
    tw_log(plugin_level(level), "plugin %s: %s", host->name, line);
}

static size_t keep_string(collect_call *call, const char *s)
{
    size_t offset = call->strings.len;
    tw_buf_append(&call->strings, s, strlen(s) + 1);
    return offset;
}

static void buffer_sample(collect_call *call, const tw_metric_sample *s)
{
    if (call->n_samples == call->cap_samples) {
        call->cap_samples = call->cap_samples ? 2 * call->cap_samples : 64;
        call->samples = tw_realloc(call->samples, call->cap_samples * sizeof *call->samples);
    }
    if (call->n_dimensions + s->n_dimensions > call->cap_dimensions) {
        while (call->n_dimensions + s->n_dimensions > call->cap_dimensions)
            call->cap_dimensions = call->cap_dimensions ? 2 * call->cap_dimensions : 64;
        call->dimensions =
            tw_realloc(call->dimensions, call->cap_dimensions * sizeof *call->dimensions);
    }
    buffered_sample *b = &call->samples[call->n_samples++];
    b->name = keep_string(call, s->name);
    b->unit = s->unit ? keep_string(call, s->unit) : NO_UNIT;
    b->value = s->value;
    b->time_ms = s->time_ms;
    b->first_dimension = call->n_dimensions;
    b->n_dimensions = s->n_dimensions;
    for (size_t i = 0; i < s->n_dimensions; i++) {
        buffered_dimension *d = &call->dimensions[call->n_dimensions++];
        d->name = keep_string(call, s->dimensions[i].name);
        d->value = keep_string(call, s->dimensions[i].value);
    }
}

static int refuse_emit(tw_plugin_host *host, const trailwatch_metric *metric)
{
    uint_fast64_t n = atomic_fetch_add(&host->refused_emits, 1) + 1;
    if (n <= MAX_LOGGED_REFUSALS)
        tw_error("plugin %s: emit of \"%.64s\" refused: a plugin emits only from inside its "
                 "collect callback, on the thread running it%s",
                 host->name, metric && metric->name ? metric->name : "(null)",
                 n == MAX_LOGGED_REFUSALS ? " (further refusals are only counted)" : "");
    return -EPERM;
}

static int reject_sample(tw_plugin_host *host, collect_call *call, const char *why)
{
    call->rejected++;
    if (host->rejects_logged < MAX_LOGGED_REJECTS) {
        host->rejects_logged++;
        tw_warn("plugin %s: metric refused: %s%s", host->name, why,
                host->rejects_logged == MAX_LOGGED_REJECTS ? " (further ones are only counted)"
                                                           : "");
    }
    return -EINVAL;
}

static int api_emit(trailwatch_host *host, const trailwatch_metric *metric)
{
    if (!host)
        return -EINVAL;
    if (current.host != host)
        return refuse_emit(host, metric);
    collect_call *call = current.call;
    if (!metric)
        return reject_sample(host, call, "emit was given NULL");
    if (metric->dimension_count > 0 && !metric->dimensions)
        return reject_sample(host, call, "dimension_count is not 0 but dimensions is NULL");
    if (call->n_samples >= MAX_SAMPLES_PER_COLLECT) {
        call->rejected++;
        if (!call->overflow_logged)
            tw_warn("plugin %s: more than %d metrics in one collect; the rest of this collect "
                    "is dropped and counted",
                    host->name, MAX_SAMPLES_PER_COLLECT);
        call->overflow_logged = true;
        return -ENOBUFS;
    }
    /* trailwatch_dimension and tw_dimension are separate types (the public
     * ABI must not depend on the agent's); 30 is one more than allowed, so
     * the check below still sees "too many". */
    tw_dimension dims[TW_METRIC_MAX_DIMENSIONS];
    size_t n = metric->dimension_count;
    if (n > TW_METRIC_MAX_DIMENSIONS)
        n = TW_METRIC_MAX_DIMENSIONS;
    for (size_t i = 0; i < n; i++)
        dims[i] = (tw_dimension){metric->dimensions[i].name, metric->dimensions[i].value};
    tw_metric_sample s = {
        .name = metric->name,
        .unit = metric->unit,
        .value = metric->value,
        .time_ms = metric->timestamp_ms ? metric->timestamp_ms : call->tick_ms,
        .kind = TW_METRIC_GAUGE,
        .dimensions = dims,
        .n_dimensions = n,
    };
    char why[256];
    if (tw_metric_sample_check(&s, why, sizeof why) != 0)
        return reject_sample(host, call, why);
    buffer_sample(call, &s);
    return 0;
}

static const trailwatch_host_api host_api = {
    .abi_version = TRAILWATCH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(trailwatch_host_api),
    .config_get = api_config_get,
    .instance_name = api_instance_name,
    .emit = api_emit,
    .log = api_log,
};

/* ---- loading and checking ---------------------------------------------- */

const char *tw_plugin_host_default_dir(void)
{
    const char *env = getenv(TW_PLUGIN_DIR_ENV);
    if (env && *env)
        return env;
#if defined(TW_BUILD_DIR) && defined(TW_BUILD_PLUGIN_DIR)
    /* A program run from the build tree loads the plugins built beside it,
     * so `build/bin/trailwatch-agent` works before `make install`. */
    char exe[PATH_MAX], build[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0 && realpath(TW_BUILD_DIR, build)) {
        exe[len] = '\0';
        size_t n = strlen(build);
        if (strncmp(exe, build, n) == 0 && exe[n] == '/')
            return TW_BUILD_PLUGIN_DIR;
    }
#endif
    return TW_PLUGIN_DIR;
}

/* "0.1" of "0.1.0": the SDK release a plugin author rebuilds against. */
static void sdk_release(char *out, size_t size)
{
    snprintf(out, size, "%s", TW_VERSION);
    char *dot = strchr(out, '.');
    if (dot && (dot = strchr(dot + 1, '.')))
        *dot = '\0';
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void unload(loaded_library *lib)
{
    if (lib->handle)
        dlclose(lib->handle);
    lib->handle = NULL;
    lib->plugin = NULL;
}

static int open_library(const tw_plugin_config *config, const char *plugin_dir,
                        loaded_library *lib, tw_err *err)
{
    char path[PATH_MAX];
    const char *library = config->library;
    if (!library || !*library)
        return tw_err_set(err, -EINVAL, "library is not set: give the plugin's shared object");
    if (library[0] == '/')
        snprintf(path, sizeof path, "%s", library);
    else if (snprintf(path, sizeof path, "%s/%s", plugin_dir, library) >= (int)sizeof path)
        return tw_err_set(err, -ENAMETOOLONG, "library %s: the path is too long", library);
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT && library[0] != '/')
            return tw_err_set(err, -ENOENT,
                              "library %s: %s does not exist (a library without a '/' is looked "
                              "up in the plugin directory %s)",
                              library, path, plugin_dir);
        return tw_err_set(err, -e, "library %s: %s: %s", library, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode))
        return tw_err_set(err, -EINVAL, "library %s: %s is not a regular file", library, path);
    dlerror();
    lib->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle) {
        const char *why = dlerror();
        return tw_err_set(err, -ENOEXEC, "library %s: cannot load it as a shared object: %s",
                          library, why ? why : "unknown dlopen error");
    }
    return 0;
}

static int check_description(const loaded_library *lib, tw_err *err)
{
    const trailwatch_plugin *p = lib->plugin;
    const char *label = base_name(lib->label);
    char release[32];
    sdk_release(release, sizeof release);
    if (!p)
        return tw_err_set(err, -EINVAL, "%s: trailwatch_plugin_entry returned NULL", label);
    /* abi_version and struct_size are the two fields every ABI keeps first. */
    if (p->abi_version != TRAILWATCH_PLUGIN_ABI_VERSION)
        return tw_err_set(err, -EPROTO,
                          "%s was built for plugin ABI %u; this agent speaks ABI %u: rebuild it "
                          "against trailwatch-plugin %s",
                          label, (unsigned)p->abi_version, TRAILWATCH_PLUGIN_ABI_VERSION, release);
    if (p->struct_size < offsetof(trailwatch_plugin, reserved))
        return tw_err_set(err, -EPROTO,
                          "%s describes itself in %u bytes, fewer than plugin ABI %u's %zu: it "
                          "was not built with trailwatch/plugin.h; rebuild it against "
                          "trailwatch-plugin %s",
                          label, (unsigned)p->struct_size, TRAILWATCH_PLUGIN_ABI_VERSION,
                          offsetof(trailwatch_plugin, reserved), release);
    if (!p->name || !*p->name)
        return tw_err_set(err, -EINVAL, "%s: its trailwatch_plugin description has no name",
                          label);
    const char *missing = !p->init ? "init" : !p->collect ? "collect" : !p->shutdown ? "shutdown"
                                                                                     : NULL;
    if (missing)
        return tw_err_set(err, -EINVAL,
                          "%s (plugin %s) has no %s callback: init, collect and shutdown are "
                          "all required",
                          label, p->name, missing);
    return 0;
}

static bool plugin_reads(const trailwatch_plugin *p, const char *key)
{
    if (strcmp(key, "library") == 0 || strcmp(key, "interval") == 0)
        return true;
    for (const char *const *k = p->config_keys; k && *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

/* Every key of the section the plugin does not read, one sentence each with
 * its file:line, joined with "; " (a tw_err holds one message). */
static int check_keys(const tw_plugin_config *config, const loaded_library *lib, tw_err *err)
{
    const tw_conf_section *s = config->section;
    if (!s)
        return 0;
    const trailwatch_plugin *p = lib->plugin;
    const char *known[64];
    size_t n_known = 0;
    for (const char *const *k = p->config_keys; k && *k && n_known < 62; k++)
        known[n_known++] = *k;
    known[n_known++] = "library";
    known[n_known++] = "interval";
    tw_buf out = TW_BUF_INIT;
    int bad = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        const tw_conf_entry *e = &s->entries[i];
        if (plugin_reads(p, e->key))
            continue;
        tw_buf_printf(&out, "%s%s:%d: [%s] unknown key \"%s\"", bad ? "; " : "", e->file, e->line,
                      s->name, e->key);
        const char *hint = tw_conf_closest(e->key, known, n_known);
        if (hint) {
            tw_buf_printf(&out, " (did you mean \"%s\"?)", hint);
        } else {
            tw_buf_printf(&out, " (%s reads:", base_name(lib->label));
            for (size_t k = 0; k < n_known; k++)
                tw_buf_printf(&out, "%s %s", k ? "," : "", known[k]);
            tw_buf_puts(&out, ")");
        }
        bad++;
    }
    int rc = 0;
    if (bad)
        rc = tw_err_set(err, -EINVAL, "%s", tw_buf_cstr(&out));
    tw_buf_free(&out);
    return rc;
}

/* Opens, finds the entry, checks the description and the keys. On failure
 * nothing stays loaded. Errors other than unknown keys (which carry their
 * own positions) get the section's "file:line: [plugin NAME] " prefix. */
static int load_checked(const tw_plugin_config *config, const char *plugin_dir,
                        loaded_library *lib, tw_err *err)
{
    *lib = (loaded_library){.label = config->library ? config->library : "(none)"};
    if (!plugin_dir)
        plugin_dir = tw_plugin_host_default_dir();
    tw_err why = {{0}};
    int rc = open_library(config, plugin_dir, lib, &why);
    if (rc == 0) {
        dlerror();
        void *sym = dlsym(lib->handle, TRAILWATCH_PLUGIN_ENTRY_SYMBOL);
        if (!sym) {
            rc = tw_err_set(&why, -ENOEXEC,
                            "%s does not export " TRAILWATCH_PLUGIN_ENTRY_SYMBOL
                            ": it is not a trailwatch plugin (a plugin defines it with "
                            "TRAILWATCH_PLUGIN_DEFINE from trailwatch/plugin.h)",
                            base_name(lib->label));
        } else {
            trailwatch_plugin_entry_fn entry;
            /* POSIX guarantees a function pointer survives void * (dlsym). */
            memcpy(&entry, &sym, sizeof entry);
            lib->plugin = entry(TRAILWATCH_PLUGIN_ABI_VERSION);
            rc = check_description(lib, &why);
        }
    }
    if (rc != 0)
        tw_err_set(err, rc, "%s:%d: [plugin %s] %s", config->file ? config->file : "(config)",
                   config->line, config->name ? config->name : "?", why.msg);
    else
        rc = check_keys(config, lib, err);
    if (rc != 0)
        unload(lib);
    return rc;
}

int tw_plugin_host_check(const tw_plugin_config *config, const char *plugin_dir, tw_err *err)
{
    loaded_library lib;
    int rc = load_checked(config, plugin_dir, &lib, err);
    if (rc == 0)
        unload(&lib);
    return rc;
}

/* ---- the lifecycle ------------------------------------------------------ */

static void reset_call(collect_call *call)
{
    tw_buf_reset(&call->strings);
    call->n_samples = 0;
    call->n_dimensions = 0;
    call->rejected = 0;
    call->overflow_logged = false;
    call->rc = 0;
    call->duration_ms = 0;
}

static void free_host(tw_plugin_host *host)
{
    for (size_t i = 0; i < host->n_entries; i++) {
        free(host->keys[i]);
        free(host->values[i]);
    }
    free(host->keys);
    free(host->values);
    free(host->name);
    free(host->label);
    tw_buf_free(&host->call.strings);
    free(host->call.samples);
    free(host->call.dimensions);
    free(host);
}

/* Milliseconds from now to the next wall-clock multiple of the interval. */
static uint64_t until_next_multiple(int64_t now, int64_t interval)
{
    return (uint64_t)((now / interval + 1) * interval - now);
}

/* The multiple a tick that fires now belongs to. libuv's timers run on the
 * monotonic clock and the multiples are on the wall clock, so a tick may
 * come a little before its multiple as well as after it: a quarter of an
 * interval either way counts as that multiple. */
static int64_t tick_of(int64_t now, int64_t interval)
{
    return (now + interval / 4) / interval * interval;
}

static void on_tick(uv_timer_t *timer);

static void arm_timer(tw_plugin_host *host)
{
    uv_timer_start(&host->timer, on_tick,
                   until_next_multiple(tw_time_now_ms(), (int64_t)host->interval_ms), 0);
}

/* Warn when a collect has overrun 3 intervals, then at 6, 12, 24...: often
 * enough to notice, rarely enough not to flood. */
static bool worth_a_warning(uint64_t skips)
{
    uint64_t m = skips / 3;
    return skips >= 3 && skips % 3 == 0 && (m & (m - 1)) == 0;
}

static void run_collect(uv_work_t *work)
{
    tw_plugin_host *host = work->data;
    collect_call *call = &host->call;
    current.host = host;
    current.call = call;
    uint64_t start = uv_hrtime();
    call->rc = host->lib.plugin->collect(host->state, host, &host_api);
    call->duration_ms = (uv_hrtime() - start) / 1000000;
    current.host = NULL;
    current.call = NULL;
}

static void deliver(tw_plugin_host *host, collect_call *call)
{
    const char *strings = call->strings.data;
    for (size_t i = 0; i < call->n_samples; i++) {
        const buffered_sample *b = &call->samples[i];
        tw_dimension dims[TW_METRIC_MAX_DIMENSIONS];
        for (size_t d = 0; d < b->n_dimensions; d++) {
            const buffered_dimension *bd = &call->dimensions[b->first_dimension + d];
            dims[d] = (tw_dimension){strings + bd->name, strings + bd->value};
        }
        tw_metric_sample s = {
            .name = strings + b->name,
            .unit = b->unit == NO_UNIT ? NULL : strings + b->unit,
            .value = b->value,
            .time_ms = b->time_ms,
            .kind = TW_METRIC_GAUGE,
            .dimensions = dims,
            .n_dimensions = b->n_dimensions,
        };
        if (tw_metric_emit(&host->sink, &s) == 0)
            host->stats.emitted++;
        else
            host->stats.rejected++;
    }
}

static void note_result(tw_plugin_host *host, const collect_call *call)
{
    host->stats.collects++;
    host->stats.last_collect_ms = call->duration_ms;
    if (call->rc != 0) {
        host->stats.failures++;
        host->consecutive_failures++;
        /* The first failure of a run, then one line an hour at a 1 min
         * interval: enough to see it is still broken, not a flood. */
        if (host->consecutive_failures == 1 || host->consecutive_failures % 60 == 0)
            tw_warn("plugin %s: collect failed (%s)%s; it runs again next interval", host->name,
                    call->rc < 0 ? strerror(-call->rc) : "non-zero return",
                    host->consecutive_failures > 1 ? " again" : "");
    } else if (host->consecutive_failures > 0) {
        tw_info("plugin %s: collect works again after %llu failed interval%s", host->name,
                (unsigned long long)host->consecutive_failures,
                host->consecutive_failures == 1 ? "" : "s");
        host->consecutive_failures = 0;
    }
    if (host->consecutive_skips > 0) {
        tw_info("plugin %s: collect took %llu ms, longer than its %llu ms interval; %llu "
                "interval%s skipped",
                host->name, (unsigned long long)call->duration_ms,
                (unsigned long long)host->interval_ms, (unsigned long long)host->consecutive_skips,
                host->consecutive_skips == 1 ? " was" : "s were");
        host->consecutive_skips = 0;
    }
}

static void finish_close_when_idle(tw_plugin_host *host);

static void collect_done(uv_work_t *work, int status)
{
    tw_plugin_host *host = work->data;
    collect_call *call = &host->call;
    host->running = false;
    if (status == 0) {
        note_result(host, call);
        deliver(host, call);
        host->stats.rejected += call->rejected;
    }
    reset_call(call);
    if (host->closing)
        finish_close_when_idle(host);
}

static void on_tick(uv_timer_t *timer)
{
    tw_plugin_host *host = timer->data;
    if (host->closing)
        return;
    int64_t now = tw_time_now_ms(), interval = (int64_t)host->interval_ms;
    int64_t tick = tick_of(now, interval);
    uv_timer_start(&host->timer, on_tick, (uint64_t)(tick + interval - now), 0);
    if (host->running) {
        host->stats.skipped++;
        uint64_t n = ++host->consecutive_skips;
        if (worth_a_warning(n))
            tw_warn("plugin %s: collect has been running for over %llu intervals of %llu ms; "
                    "skipping intervals until it returns (%llu skipped so far)",
                    host->name, (unsigned long long)n, (unsigned long long)host->interval_ms,
                    (unsigned long long)host->stats.skipped);
        return;
    }
    host->call.tick_ms = tick;
    host->running = true;
    int rc = uv_queue_work(host->loop, &host->work, run_collect, collect_done);
    if (rc != 0) {
        host->running = false;
        tw_error("plugin %s: cannot queue collect: %s", host->name, uv_strerror(rc));
    }
}

static void copy_section(tw_plugin_host *host, const tw_plugin_config *config)
{
    const tw_conf_section *s = config->section;
    size_t n = s ? s->n_entries : 0;
    host->keys = tw_calloc(n ? n : 1, sizeof *host->keys);
    host->values = tw_calloc(n ? n : 1, sizeof *host->values);
    for (size_t i = 0; i < n; i++) {
        host->keys[i] = tw_strdup(s->entries[i].key);
        host->values[i] = tw_strdup(s->entries[i].value ? s->entries[i].value : "");
    }
    host->n_entries = n;
}

int tw_plugin_host_open(uv_loop_t *loop, const tw_plugin_config *config, const char *plugin_dir,
                        uint64_t default_interval_ms, const tw_metric_sink *sink,
                        tw_plugin_host **out, tw_err *err)
{
    uint64_t interval = config->interval_ms ? config->interval_ms : default_interval_ms;
    if (interval == 0)
        return tw_err_set(err, -EINVAL, "%s:%d: [plugin %s] no interval: set interval",
                          config->file ? config->file : "(config)", config->line,
                          config->name ? config->name : "?");
    loaded_library lib;
    int rc = load_checked(config, plugin_dir, &lib, err);
    if (rc != 0)
        return rc;
    tw_plugin_host *host = tw_calloc(1, sizeof *host);
    host->loop = loop;
    host->loop_thread = uv_thread_self();
    host->name = tw_strdup(config->name ? config->name : lib.plugin->name);
    host->label = tw_strdup(lib.label);
    host->lib = lib;
    host->lib.label = host->label;
    host->interval_ms = interval;
    host->sink = *sink;
    atomic_init(&host->refused_emits, 0);
    copy_section(host, config);

    host->in_init = true;
    rc = lib.plugin->init(host, &host_api, &host->state);
    host->in_init = false;
    if (rc != 0) {
        int code = rc < 0 ? rc : -EINVAL;
        tw_err_set(err, code, "%s:%d: [plugin %s] %s refused the section in init: %s",
                   config->file ? config->file : "(config)", config->line, host->name,
                   base_name(host->label),
                   host->init_error[0] ? host->init_error
                                       : (rc < 0 ? strerror(-rc) : "non-zero return"));
        unload(&host->lib);
        free_host(host);
        return code;
    }
    uv_timer_init(loop, &host->timer);
    host->timer.data = host;
    host->work.data = host;
    arm_timer(host);
    tw_info("plugin %s: %s (%s) loaded, collecting every %llu ms", host->name,
            base_name(host->label), lib.plugin->name, (unsigned long long)interval);
    *out = host;
    return 0;
}

/* The last step of a close, once the timer is closed and no collect runs
 * (called from whichever of the two callbacks comes last). */
static void finish_close_when_idle(tw_plugin_host *host)
{
    if (host->running || !host->timer_closed)
        return;
    host->lib.plugin->shutdown(host->state);
    host->state = NULL;
    unload(&host->lib);
    void (*closed)(void *) = host->closed;
    void *arg = host->closed_arg;
    free_host(host);
    if (closed)
        closed(arg);
}

static void on_timer_closed(uv_handle_t *handle)
{
    tw_plugin_host *host = handle->data;
    host->timer_closed = true;
    finish_close_when_idle(host);
}

void tw_plugin_host_close(tw_plugin_host *host, void (*closed)(void *arg), void *arg)
{
    if (!host || host->closing)
        return;
    host->closing = true;
    host->closed = closed;
    host->closed_arg = arg;
    /* The timer is closed at once, so that a uv_walk closing every handle
     * later in the agent's stop never meets it open. */
    uv_close((uv_handle_t *)&host->timer, on_timer_closed);
    /* A queued collect is cancelled; a running one is waited for (its
     * samples are still delivered): collect_done then finishes the close. */
    if (host->running)
        uv_cancel((uv_req_t *)&host->work);
}

void tw_plugin_host_stats(const tw_plugin_host *host, tw_plugin_stats *out)
{
    *out = host->stats;
    out->refused_emits = atomic_load(&((tw_plugin_host *)host)->refused_emits);
}

const char *tw_plugin_host_name(const tw_plugin_host *host)
{
    return host->name;
}
