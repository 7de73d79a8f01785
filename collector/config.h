/* config.h — the collector's configuration model (collector.conf).
 *
 *   [server]      listen, data_dir, tls_cert, tls_key, max_body, debug_signatures
 *   [account]     id (12 digits), regions (comma/blank separated; first = home)
 *   [user NAME]   access_key_id, secret_access_key   (one section per user)
 *   [cloudtrail]  delivery_interval, digest_interval, event_history_days
 *
 * Loaded like the agent's (lib/conf.h: drop-ins in collector.conf.d/, ${ENV},
 * every error with file:line). The model owns its tw_conf; strings borrow
 * from it. Users can be re-read on SIGHUP without a restart.
 */
#ifndef TW_COLLECTOR_CONFIG_H
#define TW_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"

#define TW_COLLECTOR_DEFAULT_CONFIG "/etc/trailwatch/collector.conf"
#define TW_COLLECTOR_DEFAULT_LISTEN "127.0.0.1:4590"
#define TW_COLLECTOR_DEFAULT_DATA_DIR "/var/lib/trailwatch/collector"
#define TW_COLLECTOR_MAX_REGIONS 32

typedef struct tw_collector_user {
    const char *name; /* from [user NAME]: userIdentity.userName */
    const char *access_key_id;
    const char *secret_access_key;
    char arn[160];          /* arn:aws:iam::ACCOUNT:user/NAME */
    char principal_id[24];  /* stable "AIDA..." id derived from the key id */
} tw_collector_user;

typedef struct tw_collector_config {
    tw_conf conf;
    const char *listen;
    const char *data_dir;
    const char *tls_cert;
    const char *tls_key;
    uint64_t max_body_bytes;
    bool debug_signatures; /* add canonical request/string-to-sign to mismatch errors */
    const char *account_id;
    const char *regions[TW_COLLECTOR_MAX_REGIONS + 1]; /* NULL-terminated; [0] = home */
    size_t n_regions;
    tw_collector_user *users;
    size_t n_users;
    uint64_t delivery_interval_ms;
    uint64_t digest_interval_ms;
    int64_t event_history_days;
    char **derived; /* strings the model built itself */
    size_t n_derived;
    /* Configs whose users replaced ours on SIGHUP (they now hold our old
     * users): kept until this config is freed, because calls in flight may
     * still point at an old user. See tw_collector_config_take_users(). */
    struct tw_collector_config *retired;
} tw_collector_config;

/* Loads path and path.d/. listen_override / data_dir_override (NULL = none)
 * replace the file's values (the --listen and --data-dir options). Returns 0
 * or -EINVAL with every problem in config->conf.errors; call
 * tw_collector_config_free() either way. */
int tw_collector_config_load(tw_collector_config *config, const char *path,
                             const char *listen_override, const char *data_dir_override);
int tw_collector_config_load_string(tw_collector_config *config, const char *name,
                                    const char *text);
void tw_collector_config_free(tw_collector_config *config);

/* SIGHUP: puts the users of next (a heap-allocated config that loaded
 * without errors) into config, which keeps every other setting. config takes
 * next over (it is freed with config, and with it the users config had
 * before, which calls in flight may still hold). Loop thread only. */
void tw_collector_config_take_users(tw_collector_config *config, tw_collector_config *next);

/* Appends to out, comma-separated, the settings other than users that differ
 * between running and next ("[server] listen, [account] regions"): those a
 * reload cannot apply, because they need a restart. */
void tw_collector_config_restart_changes(const tw_collector_config *running,
                                         const tw_collector_config *next, tw_buf *out);

/* The user owning access_key_id, or NULL. */
const tw_collector_user *tw_collector_find_user(const tw_collector_config *config,
                                                const char *access_key_id);
bool tw_collector_has_region(const tw_collector_config *config, const char *region);

#endif
