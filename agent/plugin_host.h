/* plugin_host.h — runs one custom metric plugin (a [plugin NAME] section):
 * loads its shared object, checks its ABI and its keys, calls init, collect
 * on every interval, and shutdown, and delivers what it emits to a sink.
 *
 * The ABI is plugins/include/trailwatch/plugin.h; docs/plugins.md is the
 * guide for plugin authors. This header is the agent's side.
 *
 * Loading. `library` is looked up in the plugin directory unless it is an
 * absolute path; it is opened with dlopen(RTLD_NOW | RTLD_LOCAL), so a
 * missing symbol fails at load and plugins never see each other's symbols.
 * Its trailwatch_plugin_entry must return a description for this agent's
 * TRAILWATCH_PLUGIN_ABI_VERSION with every callback set; every key of the
 * section other than library and interval must be one of its config_keys.
 * Each failure is one sentence naming the section, the file and what to do.
 *
 * Threads. Everything here is called on the loop thread. init and shutdown
 * run on the loop thread; collect runs on the libuv thread pool
 * (uv_queue_work), never twice at once for one host: an interval that comes
 * while the previous collect still runs is skipped and counted, and a
 * warning is logged when that keeps happening. Metrics emitted during
 * collect are checked (tw_metric_sample_check) and copied into a buffer of
 * that call; they reach the sink on the loop thread after collect returns,
 * so the sink is only ever used on the loop thread. An emit outside collect
 * (in init, from another thread) is refused with -EPERM and logged.
 *
 * Ticks are aligned to wall-clock multiples of the interval (a 60 s plugin
 * collects at :00 of every minute), and samples without a timestamp carry
 * their tick's time, so they line up with the aggregation periods.
 *
 * The host owns a uv_timer_t, closed by tw_plugin_host_close: call it
 * before any uv_walk that closes every handle. A collect that never returns
 * cannot be interrupted (it is a thread in the plugin's code): its work
 * request keeps uv_run from returning, so the agent's last-resort stop must
 * uv_stop() the loop (or exit) rather than wait for the loop to empty.
 */
#ifndef TW_PLUGIN_HOST_H
#define TW_PLUGIN_HOST_H

#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "err.h"
#include "metric.h"
#include "trailwatch/plugin.h"

/* The agent's side of one [plugin NAME] section: what plugin.h calls
 * trailwatch_host, opaque to plugins and to the rest of the agent alike. */
typedef struct trailwatch_host tw_plugin_host;

/* Environment variable that overrides the plugin directory (tests, trying a
 * plugin without installing it). */
#define TW_PLUGIN_DIR_ENV "TRAILWATCH_PLUGIN_DIR"

/* The plugin directory the agent uses: $TRAILWATCH_PLUGIN_DIR when set and
 * non-empty; else, when the running program lies in the build tree it was
 * built in, that tree's lib/trailwatch/plugins (where the build puts the
 * example plugins); else the installed ${libdir}/trailwatch/plugins. The
 * string is static or from the environment: do not free it. */
const char *tw_plugin_host_default_dir(void);

typedef struct tw_plugin_stats {
    uint64_t collects;        /* collect calls that returned */
    uint64_t failures;        /* ... with a non-zero return */
    uint64_t emitted;         /* samples delivered to the sink */
    uint64_t rejected;        /* samples refused: CloudWatch rules, buffer full, sink */
    uint64_t skipped;         /* intervals skipped because collect still ran */
    uint64_t refused_emits;   /* emit calls outside collect */
    uint64_t last_collect_ms; /* how long the last collect took */
} tw_plugin_stats;

/* Loads config's library, checks it, and calls its init on this (the loop)
 * thread; the first collect comes at the next wall-clock multiple of the
 * interval (config->interval_ms, or default_interval_ms when that is 0).
 * plugin_dir resolves a relative library (tw_plugin_host_default_dir() in
 * the agent). config is only read during the call: the host keeps copies of
 * the section's keys. sink is borrowed until the closed callback of
 * tw_plugin_host_close, and only used on the loop thread. Returns 0 and
 * *out, or a negative errno with *out untouched, nothing left running and
 * err holding the sentence ("agent.conf:12: [plugin redis] ..."). */
int tw_plugin_host_open(uv_loop_t *loop, const tw_plugin_config *config, const char *plugin_dir,
                        uint64_t default_interval_ms, const tw_metric_sink *sink,
                        tw_plugin_host **out, tw_err *err);

/* Stops the host: no new collect starts; a collect that is running is
 * waited for (its samples are still delivered); then shutdown, dlclose, and
 * closed(arg) is called from the loop once everything is released (always
 * asynchronously; closed may be NULL). The host is gone after that. */
void tw_plugin_host_close(tw_plugin_host *host, void (*closed)(void *arg), void *arg);

/* The host's counters so far. Loop thread. */
void tw_plugin_host_stats(const tw_plugin_host *host, tw_plugin_stats *out);

/* The [plugin NAME] section's NAME. */
const char *tw_plugin_host_name(const tw_plugin_host *host);

/* What `check-config` does for a [plugin NAME] section: loads the library
 * as tw_plugin_host_open would, checks its ABI, callbacks and the section's
 * keys, and unloads it without calling anything but trailwatch_plugin_entry.
 * Returns 0, or a negative errno with err holding the sentence. Any thread
 * (it touches no loop). */
int tw_plugin_host_check(const tw_plugin_config *config, const char *plugin_dir, tw_err *err);

#endif
