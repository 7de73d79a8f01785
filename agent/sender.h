/* sender.h — delivers tw_requests to the endpoint: libcurl multi driven by
 * the libuv loop, SigV4 signing, retries.
 *
 * One sender per agent and endpoint. Transfers run concurrently over
 * reused keep-alive connections (at most max_connections to the host); no
 * call blocks the loop (curl's sockets are uv_poll handles, its timeout a
 * uv_timer).
 *
 * What happens to a request:
 *   2xx                                        acknowledged
 *   connection errors, timeouts, 5xx, 429,
 *   throttling codes                           retried with exponential
 *                                              backoff and full jitter, for as
 *                                              long as the retry budget allows
 *                                              (counted from the batch's creation)
 *   signature expired / request time skewed    the clock offset is taken from
 *                                              the server's Date header and the
 *                                              request re-signed at once
 *   authentication refused (unknown key,
 *   bad signature, expired token)              credentials are re-read and the
 *                                              request retried with backoff: a
 *                                              fixable setup problem never drops data
 *   any other 4xx                              rejected: handed back with the AWS
 *                                              error code and message, never retried
 * The endpoint going down and coming back is logged once each way, not
 * once per request.
 *
 * Loop thread only.
 */
#ifndef TW_SENDER_H
#define TW_SENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "request.h"

typedef struct tw_sender tw_sender;

typedef struct tw_sender_options {
    const tw_endpoint_config *endpoint; /* url, region, credentials, timeout (borrowed) */
    uint64_t retry_budget_ms;           /* 0: 14 days, as the CloudWatch agent */
    uint64_t backoff_base_ms;           /* 0: 500 ms */
    uint64_t backoff_cap_ms;            /* 0: 30 s */
    long max_connections;               /* 0: 8 */
    /* For tests: where credentials come from (NULL: the process environment). */
    const char *(*getenv)(const char *name, void *ctx);
    void *getenv_ctx;
} tw_sender_options;

typedef enum tw_send_status {
    TW_SEND_ACKED,
    TW_SEND_REJECTED,  /* 4xx the endpoint will never accept: not retried */
    TW_SEND_EXPIRED,   /* still failing when the retry budget ran out */
    TW_SEND_CANCELLED, /* the sender was closed first */
} tw_send_status;

typedef struct tw_send_result {
    tw_send_status status;
    long http_status;  /* of the last response; 0 when there was none */
    char code[128];    /* AWS error code of the last failure, or "" */
    char message[512]; /* its message, or the network error */
    const tw_buf *response; /* last response body; valid during the callback only */
    unsigned attempts;
} tw_send_result;

/* Runs on the loop thread, exactly once per submit, never inside submit. */
typedef void (*tw_send_done_fn)(void *ctx, tw_request *req, const tw_send_result *result);

typedef struct tw_sender_stats {
    uint64_t attempts, acked, retries, rejected, expired, bytes_sent;
    int64_t clock_offset_ms;
    bool endpoint_down;
} tw_sender_stats;

/* Resolves credentials (agent/credentials.h) and prepares the transfer
 * engine. Fails with a sentence when the URL is unusable. Missing
 * credentials are logged, not fatal: every attempt looks for them again,
 * and requests wait (retried like an endpoint that is down) until found. */
int tw_sender_new(uv_loop_t *loop, const tw_sender_options *options, tw_sender **out,
                  tw_err *err);

/* req stays the caller's; it must live until done runs. */
void tw_sender_submit(tw_sender *s, tw_request *req, tw_send_done_fn done, void *ctx);

/* Every pending request finishes with TW_SEND_CANCELLED, then the handles
 * close and closed(ctx) runs; free nothing before that. */
void tw_sender_close(tw_sender *s, void (*closed)(void *ctx), void *ctx);

void tw_sender_stats_get(const tw_sender *s, tw_sender_stats *out);

#endif
