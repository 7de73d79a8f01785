/* collector.h — the running collector: what every part of it shares.
 *
 * One tw_collector per process, created by main.c: the loop, the
 * configuration (users, regions, account), the store, the HTTP server and the
 * table of services. Handlers reach it through call->collector. Only the
 * loop thread touches it, except the read-only config fields that store jobs
 * may read (account id, regions), which never change while jobs run.
 */
#ifndef TW_COLLECTOR_COLLECTOR_H
#define TW_COLLECTOR_COLLECTOR_H

#include <uv.h>

#include "call.h"
#include "config.h"
#include "http.h"
#include "sigv4.h"
#include "store.h"

#define TW_COLLECTOR_MAX_SERVICES 8

struct tw_collector {
    uv_loop_t *loop;
    tw_collector_config *config; /* replaced on SIGHUP (users only) */
    tw_store *store;
    tw_http_server *http;
    tw_sigv4_key_cache *key_cache;
    const tw_service *const *services; /* NULL-terminated */
    unsigned long long calls, failed_calls, auth_failures;
    int64_t batches_pruned_ms; /* call.c: when old batch ids were last pruned (0 = never) */
    /* What each service's start() returned, by index in services (see
     * tw_service.start in call.h). */
    void *service_states[TW_COLLECTOR_MAX_SERVICES];
};

/* Every service the collector serves, NULL-terminated (services.c). */
extern const tw_service *const tw_collector_services[];

/* The service with this SigV4 signing name, or NULL. */
const tw_service *tw_collector_find_service(const tw_collector *collector, const char *name);

/* dispatch.c: the tw_http_handler that authenticates, decodes and routes. */
void tw_collector_handle_request(void *collector, tw_http_request *req);

#endif
