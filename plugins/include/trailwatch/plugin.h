/* trailwatch/plugin.h — the public ABI of trailwatch metric plugins.
 *
 * A plugin is a shared object loaded by trailwatch-agent with dlopen from
 * the plugin directory for each [plugin NAME] section of agent.conf:
 *
 *     [plugin redis]
 *     library  = redis.so      ; relative to the plugin directory, or absolute
 *     interval = 30s
 *     host     = 127.0.0.1     ; any other key is the plugin's own
 *
 * It exports one function, trailwatch_plugin_entry (write it with
 * TRAILWATCH_PLUGIN_DEFINE), which returns a description beginning with the
 * ABI version the plugin was built for. The agent refuses a plugin whose
 * abi_version differs from its own, or whose struct_size is smaller than it
 * needs, with a message naming both versions; nothing of the plugin runs.
 * It also refuses a description without a name or without any one of init,
 * collect and shutdown (all three are required), and a [plugin NAME]
 * section with a key that is not in config_keys.
 *
 * Versioning: the first two fields of both structs never move. Within one
 * abi_version, new members only take the place of reserved slots (so the
 * sizes stay the same) and a NULL/zero reserved slot keeps the old
 * behaviour; anything else bumps TRAILWATCH_PLUGIN_ABI_VERSION, and plugins
 * are rebuilt. The library is dlopen'ed with RTLD_NOW | RTLD_LOCAL: an
 * unresolved symbol fails at load, and plugins do not see each other.
 *
 * Lifecycle, for each [plugin NAME] section:
 *   init      once, on the agent's loop thread, after loading: read the
 *             section's keys with api->config_get, check them, allocate the
 *             plugin's state. A non-zero return (negative errno) refuses the
 *             section: the agent logs the plugin's message (api->log) and
 *             goes on without it. The last error init logged is also the
 *             reason `trailwatch check-config` and the agent's log give.
 *   collect   every interval, on a worker thread (it may block, for a
 *             network call, within its interval); never twice at once for
 *             the same state. Metrics are emitted with api->emit during the
 *             call; they belong to the interval of the call. A non-zero
 *             return is logged and counted; the next interval runs anyway.
 *   shutdown  once, on the loop thread, when the agent stops or a reload
 *             drops the section; free everything.
 * A plugin must not call exit(), install signal handlers, or keep threads
 * running after shutdown returns.
 *
 * Build an out-of-tree plugin against the installed SDK:
 *     cc -shared -fPIC $(pkg-config --cflags trailwatch-plugin) my.c -o my.so
 * See docs/plugins.md.
 */
#ifndef TRAILWATCH_PLUGIN_H
#define TRAILWATCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below changes incompatibly. */
#define TRAILWATCH_PLUGIN_ABI_VERSION 1u

/* One dimension (CloudWatch: name 1-255 chars, value 1-1024 chars). */
typedef struct trailwatch_dimension {
    const char *name;
    const char *value;
} trailwatch_dimension;

/* One metric observation. Strings and the dimension array are borrowed for
 * the duration of emit only. unit is a CloudWatch StandardUnit ("Count",
 * "Percent", "Bytes", "Milliseconds", "Bytes/Second", ...), NULL for "None".
 * timestamp_ms is milliseconds since the epoch, 0 for "now". The agent adds
 * the host dimension and the configured ones; a plugin gives at most 29. */
typedef struct trailwatch_metric {
    const char *name;
    const char *unit;
    double value;
    const trailwatch_dimension *dimensions;
    size_t dimension_count;
    int64_t timestamp_ms;
} trailwatch_metric;

/* The agent's side of one [plugin NAME] section; opaque to plugins. */
typedef struct trailwatch_host trailwatch_host;

enum trailwatch_log_level {
    TRAILWATCH_LOG_ERROR = 3,
    TRAILWATCH_LOG_WARNING = 4,
    TRAILWATCH_LOG_INFO = 6,
    TRAILWATCH_LOG_DEBUG = 7,
};

/* What the agent offers a plugin. Valid from init until shutdown returns. */
typedef struct trailwatch_host_api {
    uint32_t abi_version; /* the agent's TRAILWATCH_PLUGIN_ABI_VERSION */
    uint32_t struct_size; /* sizeof(trailwatch_host_api) in the agent */
    /* The value of key in this plugin's [plugin NAME] section, or NULL. The
     * string stays valid until shutdown. */
    const char *(*config_get)(trailwatch_host *host, const char *key);
    /* The section's NAME. */
    const char *(*instance_name)(trailwatch_host *host);
    /* Emits one metric; only during collect, on the thread running it.
     * Returns 0; -EINVAL when the metric breaks a CloudWatch rule (the agent
     * logs which, and counts it); -EPERM when called outside collect (from
     * init, shutdown, or a thread of the plugin's own); -ENOBUFS when this
     * collect already emitted 100000 metrics. The metric is copied. */
    int (*emit)(trailwatch_host *host, const trailwatch_metric *metric);
    /* Logs one line, prefixed with "plugin NAME: " (the section's NAME), at
     * a trailwatch_log_level; printf-style; lines longer than about 1000
     * bytes are cut. Any thread. */
    void (*log)(trailwatch_host *host, int level, const char *format, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    void *reserved[8];
} trailwatch_host_api;

/* What a plugin is. Lives in the plugin (usually a static const). */
typedef struct trailwatch_plugin {
    uint32_t abi_version; /* TRAILWATCH_PLUGIN_ABI_VERSION when built */
    uint32_t struct_size; /* sizeof(trailwatch_plugin) when built */
    const char *name;     /* short, e.g. "nginx_status" */
    const char *description;
    /* The keys the plugin reads from its section (NULL-terminated), besides
     * library and interval; the agent reports any other key as an error. */
    const char *const *config_keys;
    int (*init)(trailwatch_host *host, const trailwatch_host_api *api, void **state);
    int (*collect)(void *state, trailwatch_host *host, const trailwatch_host_api *api);
    void (*shutdown)(void *state);
    void *reserved[8];
} trailwatch_plugin;

#define TRAILWATCH_PLUGIN_ENTRY_SYMBOL "trailwatch_plugin_entry"
typedef const trailwatch_plugin *(*trailwatch_plugin_entry_fn)(uint32_t agent_abi_version);

#if defined(__GNUC__)
#define TRAILWATCH_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define TRAILWATCH_PLUGIN_EXPORT
#endif

/* Defines the entry point returning &plugin_description. */
#define TRAILWATCH_PLUGIN_DEFINE(plugin_description)                                          \
    TRAILWATCH_PLUGIN_EXPORT const trailwatch_plugin *trailwatch_plugin_entry(                \
        uint32_t agent_abi_version);                                                           \
    TRAILWATCH_PLUGIN_EXPORT const trailwatch_plugin *trailwatch_plugin_entry(                \
        uint32_t agent_abi_version)                                                            \
    {                                                                                          \
        (void)agent_abi_version;                                                               \
        return &(plugin_description);                                                          \
    }

#ifdef __cplusplus
}
#endif

#endif
