/* http.h — the collector's HTTP server: libh2o on the collector's libuv loop.
 *
 * The server accepts connections (HTTP/1.1 with keep-alive; TLS, and HTTP/2
 * over it, when a certificate is configured), reads each request and its
 * whole body, and hands it to one callback as a tw_http_request. The callback
 * answers exactly once, at once or later (after store work), from the loop
 * thread, with tw_http_respond(). Nothing here knows about AWS: protocols,
 * authentication and services live in dispatch.c and the service folders.
 *
 * Ownership: a tw_http_request and everything it points to belong to the
 * server and stay valid until tw_http_respond() is called for it; the
 * callback must not free them. If the client goes away first, the request
 * stays valid and the response is dropped when it finally comes. Every
 * string of a request (method, path, query, header names and values, and
 * the body) is also NUL-terminated after its length.
 */
#ifndef TW_COLLECTOR_HTTP_H
#define TW_COLLECTOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "err.h"
#include "sigv4.h"

typedef struct tw_http_server tw_http_server;

typedef struct tw_http_request {
    const char *method;
    size_t method_len;
    const char *path; /* raw, as on the wire (still percent-encoded), without the query */
    size_t path_len;
    const char *query; /* raw, without the '?'; "" when none */
    size_t query_len;
    /* Headers in arrival order, names lower-case. Always contains "host"
     * (taken from the request's authority when the parser moved it there),
     * because SigV4 signs it. */
    const tw_sigv4_header *headers;
    size_t header_count;
    const uint8_t *body; /* exactly as received (still gzip when Content-Encoding: gzip) */
    size_t body_len;
    bool body_too_large; /* the body exceeded max_body_bytes; body is empty */
    char peer_ip[46];    /* client address, no port: "127.0.0.1", "::1" */
    bool tls;
    void *server_private;
} tw_http_request;

/* The first header with this (lower-case) name, or NULL; *len gets its length. */
const char *tw_http_header(const tw_http_request *req, const char *name, size_t *len);

#define TW_HTTP_MAX_EXTRA_HEADERS 8

typedef struct tw_http_response {
    int status;
    const char *content_type; /* static string, or NULL for none */
    struct {
        const char *name; /* static strings */
        char value[160];
    } headers[TW_HTTP_MAX_EXTRA_HEADERS];
    size_t header_count;
    tw_buf body; /* taken over by tw_http_respond */
} tw_http_response;

void tw_http_response_add_header(tw_http_response *resp, const char *name, const char *value);

typedef struct tw_http_server_config {
    const char *listen;   /* "127.0.0.1:4590", "[::1]:0", ":4590"; port 0 = any free port */
    const char *tls_cert; /* PEM files; both NULL = plain HTTP */
    const char *tls_key;
    /* Larger bodies arrive with body_too_large, for dispatch to refuse in the
     * request's protocol, up to max_body_bytes + 1 MiB; beyond that h2o
     * answers 413 (text/plain) itself and closes the connection without
     * reading the body, so a huge upload costs no memory. */
    size_t max_body_bytes;
} tw_http_server_config;

/* Called on the loop thread for every request. */
typedef void (*tw_http_handler)(void *ctx, tw_http_request *req);

int tw_http_server_start(uv_loop_t *loop, const tw_http_server_config *config,
                         tw_http_handler handler, void *ctx, tw_http_server **out, tw_err *err);

/* "http://127.0.0.1:4590" with the port actually bound (after port 0). */
const char *tw_http_server_url(const tw_http_server *server);

/* Sends resp for req and releases req. Takes resp->body. Loop thread only. */
void tw_http_respond(tw_http_request *req, tw_http_response *resp);

/* Stops accepting, lets requests in flight finish (they may still respond),
 * then closes every handle; on_stopped runs on the loop when all is closed. */
void tw_http_server_stop(tw_http_server *server, void (*on_stopped)(void *arg), void *arg);

/* Frees a server after on_stopped ran (or one that never served), from
 * outside uv_run: h2o's context disposal runs the loop once by itself to
 * release its timers, which libuv does not allow inside a callback. NULL is
 * fine. */
void tw_http_server_free(tw_http_server *server);

#endif
