/* config.h — the agent's configuration model.
 *
 * agent.conf plus the *.conf files in agent.conf.d (lib/conf.h: file syntax),
 * interpreted into typed settings with every problem reported as
 * "file:line: [section] key: sentence". The sections are those of
 * docs/configuration.md:
 *   [agent] [endpoint] [metrics] [statsd]     at most one each
 *   [logs NAME] [plugin NAME] [exec NAME]     any number, NAME unique per kind
 *
 * A tw_agent_config owns its tw_conf; every string in it either borrows from
 * that tw_conf or is a static default, so tw_agent_config_free() releases
 * everything at once. A config with errors is never used to run.
 */
#ifndef TW_AGENT_CONFIG_H
#define TW_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "log.h"

#define TW_AGENT_DEFAULT_CONFIG "/etc/trailwatch/agent.conf"
#define TW_AGENT_DEFAULT_STATE_DIR "/var/lib/trailwatch/agent"
#define TW_AGENT_DEFAULT_ENDPOINT "http://127.0.0.1:4590"

typedef struct tw_agent_settings {
    const char *state_dir;
    const char *hostname;  /* default: gethostname() */
    const char *log_level; /* error | warn | notice | info | debug */
    uint64_t stop_timeout_ms;
    uint64_t spool_max_size; /* bytes, per destination */
    bool self_metrics;       /* the agent's own counters as metrics */
    const char *self_namespace;
} tw_agent_settings;

typedef struct tw_endpoint_config {
    const char *url;
    const char *region;
    const char *access_key_id; /* credentials here, else AWS_* env, else shared file */
    const char *secret_access_key;
    const char *session_token;
    const char *profile;
    const char *credentials_file;
    uint64_t timeout_ms;
} tw_endpoint_config;

typedef struct tw_metrics_config {
    bool enabled; /* the [metrics] section is present */
    const char *namespace_;
    uint64_t interval_ms;
    uint64_t flush_interval_ms; /* how often datums are sent */
    const char *dimensions;     /* "name=value, name=value": added to every metric */
    int64_t max_series;
    bool cpu, mem, net, disk, diskio;
    bool net_include_loopback;
    const char *net_interfaces;    /* blank-separated globs; NULL = all */
    const char *disk_mount_points; /* blank-separated globs; NULL = all real filesystems */
} tw_metrics_config;

typedef struct tw_logs_config {
    const char *name; /* from [logs NAME] */
    const char *file; /* where the section starts, for messages */
    int line;
    const char *path; /* one or more globs, separated by blanks */
    const char *format;
    const char *log_format; /* nginx log_format, in nginx's syntax */
    const char *log_group;
    const char *log_stream;
    const char *read_from; /* head | tail */
    const char *multiline_start;
    uint64_t multiline_timeout_ms;
    uint64_t max_line_size;
    int64_t retention_days; /* 0 = leave the group's retention alone */
    bool audit;
    const char *event_source; /* audit eventSource; default: hostname */
    /* Audit events (plugins/out_cloudtrail/audit_config.h resolves the
     * defaults: tw_audit_config_channel, tw_audit_config_options). */
    const char *audit_channel;    /* channel ARN or id; NULL: "trailwatch" */
    const char *audit_account_id; /* recipient; NULL: the channel ARN's account,
                                     else the bundled collector's 123456789012 */
    const char *audit_routes;     /* route map, or NULL */
    const char *data_paths;       /* path patterns of Data events, or NULL */
    const char *audit_user_field; /* NULL: the format's own */
    bool audit_trust_forwarded_for;
    bool audit_reads; /* also GET/HEAD/OPTIONS requests (default yes) */
    const char *user_tag; /* rails: tag index 1-8 or lograge key holding the user */
} tw_logs_config;

typedef struct tw_plugin_config {
    const char *name;
    const char *file;
    int line;
    const char *library;
    uint64_t interval_ms;
    const tw_conf_section *section; /* every key, for the plugin's init */
} tw_plugin_config;

typedef struct tw_exec_config {
    const char *name;
    const char *file;
    int line;
    const char *command;
    uint64_t interval_ms;
    uint64_t timeout_ms;
    const char *mode;   /* periodic | daemon */
    const char *format; /* auto | trailwatch | collectd | nagios */
} tw_exec_config;

typedef struct tw_statsd_config {
    bool enabled; /* the [statsd] section is present */
    const char *listen;
    uint64_t flush_interval_ms;
    uint64_t receive_buffer;
    int64_t max_series;
} tw_statsd_config;

typedef struct tw_agent_config {
    tw_conf conf; /* owns the strings; conf.errors lists every problem */
    char hostname_buf[256];
    tw_agent_settings agent;
    tw_endpoint_config endpoint;
    tw_metrics_config metrics;
    tw_statsd_config statsd;
    tw_logs_config *logs;
    size_t n_logs;
    tw_plugin_config *plugins;
    size_t n_plugins;
    tw_exec_config *execs;
    size_t n_execs;
    char **derived; /* strings the model built itself (defaults from names) */
    size_t n_derived;
} tw_agent_config;

/* Loads path and path.d/ into *config (which the caller owns, uninitialised
 * is fine). Returns 0, or -EINVAL when config->conf.n_errors > 0. Either way
 * the caller calls tw_agent_config_free(). */
int tw_agent_config_load(tw_agent_config *config, const char *path);
/* The same from a string, as if it were a file called name. */
int tw_agent_config_load_string(tw_agent_config *config, const char *name, const char *text);
void tw_agent_config_free(tw_agent_config *config);

/* Splits [metrics] dimensions ("name=value, name=value") into at most max
 * pairs pointing into buf (a copy the caller provides, size bytes).
 * Returns the count; the value was checked when the config was loaded. */
size_t tw_agent_config_dimensions(const char *text, char *buf, size_t size,
                                  const char **names, const char **values, size_t max);

#endif
