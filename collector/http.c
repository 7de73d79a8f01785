/* http.c — the collector's HTTP server: libh2o 2.2.5 (libuv flavour) on the
 * collector's loop, one catch-all handler, requests copied out of h2o so that
 * they outlive a client that goes away (see http.h).
 *
 * What h2o 2.2.5 does and how this file lives with it:
 *   - HTTP/1 moves Host into req->input.authority and drops Content-Length,
 *     Transfer-Encoding, Expect and Upgrade from the header list; SigV4
 *     signs host (always) and content-length (some SDKs), so both are put
 *     back in front of the others, from the authority and the body length.
 *   - Bodies are read whole before the handler runs. Above
 *     globalconf.max_request_entity_size h2o answers 413 itself (text/plain,
 *     connection closed) without reading the body; that limit is set to
 *     max_body_bytes + BODY_SLACK, and bodies between the two are delivered
 *     with body_too_large (body dropped) so that dispatch can answer in the
 *     request's AWS protocol. Memory stays bounded by the h2o limit.
 *   - `Expect: 100-continue` is answered by h2o before it reads the body.
 *   - An HTTP/1 request stays alive until it is answered (h2o stops reading
 *     the connection while a request is processed), but HTTP/2 disposes a
 *     stream's request when the client resets it or goes away. A shared
 *     allocation in the request's pool tells us when h2o disposed it; a
 *     request answered after that is dropped. Since the tw_http_request is
 *     a copy (one heap block), it stays valid either way.
 *   - There is no API to close idle keep-alive connections; once nothing is
 *     in flight, tw_http_server_stop shuts the read side of every connection
 *     (shutdown(SHUT_RD)), which h2o sees as the client closing.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <h2o.h>
#include <h2o/http2.h>

#include "log.h"
#include "mem.h"

/* How far past max_body_bytes a body is still read to answer in AWS form. */
#define BODY_SLACK (1024 * 1024)
/* An idle keep-alive connection (or a slow request) is closed after this. */
#define REQUEST_TIMEOUT_MS 60000

typedef struct connection {
    uv_tcp_t tcp; /* first: h2o's close callback gives us the handle */
    struct tw_http_server *server;
    struct connection *prev, *next;
    bool read_shut;
} connection;

typedef struct catch_all_handler {
    h2o_handler_t super;
    struct tw_http_server *server;
} catch_all_handler;

typedef struct http_request {
    tw_http_request public; /* first: callers hold a tw_http_request * */
    struct tw_http_server *server;
    h2o_req_t *h2o;             /* NULL once h2o disposed of the request */
    struct http_request **slot; /* in h2o's pool; tells its dispose callback about us */
} http_request;

struct tw_http_server {
    uv_loop_t *loop;
    h2o_globalconf_t config;
    h2o_context_t context;
    h2o_accept_ctx_t accept;
    bool context_ready;
    SSL_CTX *ssl;
    uv_tcp_t listener;
    bool listener_open;
    size_t max_body_bytes;
    tw_http_handler handler;
    void *handler_ctx;
    char url[300];
    connection *connections;
    size_t in_flight;
    bool stopping, stopped;
    void (*on_stopped)(void *arg);
    void *stop_arg;
};

/* ---- requests ---------------------------------------------------------- */

const char *tw_http_header(const tw_http_request *req, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < req->header_count; i++) {
        const tw_sigv4_header *h = &req->headers[i];
        if (h->name_len == name_len && memcmp(h->name, name, name_len) == 0) {
            if (len != NULL)
                *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

void tw_http_response_add_header(tw_http_response *resp, const char *name, const char *value)
{
    if (resp->header_count == TW_HTTP_MAX_EXTRA_HEADERS) {
        tw_warn("http: response header %s dropped: more than %d extra headers", name,
                TW_HTTP_MAX_EXTRA_HEADERS);
        return;
    }
    resp->headers[resp->header_count].name = name;
    snprintf(resp->headers[resp->header_count].value,
             sizeof resp->headers[resp->header_count].value, "%s", value);
    resp->header_count++;
}

/* Appends a NUL-terminated copy of len bytes at *cursor; returns it. */
static char *put_text(char **cursor, const char *text, size_t len)
{
    char *out = *cursor;
    if (len > 0)
        memcpy(out, text, len);
    out[len] = '\0';
    *cursor += len + 1;
    return out;
}

static void put_header(tw_sigv4_header *h, char **cursor, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    h->name = put_text(cursor, name, name_len);
    h->name_len = name_len;
    h->value = put_text(cursor, value, value_len);
    h->value_len = value_len;
}

static bool header_is(const h2o_header_t *h, const char *name)
{
    size_t n = strlen(name);
    return h->name->len == n && memcmp(h->name->base, name, n) == 0;
}

static void peer_ip(h2o_req_t *req, char out[46])
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    out[0] = '\0';
    if (len == 0)
        return;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, 46);
    } else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        /* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; CloudTrail
         * shows them as a.b.c.d. */
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, 46);
        else
            inet_ntop(AF_INET6, a, out, 46);
    }
}

/* One heap block: the struct, the header array, every string (each also
 * NUL-terminated), and the body. */
static http_request *copy_request(tw_http_server *server, h2o_req_t *req)
{
    h2o_iovec_t method = req->input.method, path = req->input.path, host = req->input.authority;
    size_t path_len = req->input.query_at < path.len ? req->input.query_at : path.len;
    size_t query_len = path_len < path.len ? path.len - path_len - 1 : 0;
    const char *query = path_len < path.len ? path.base + path_len + 1 : "";
    bool has_host = false, has_length = false;
    size_t text = method.len + path_len + query_len + 3;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        has_host |= header_is(h, "host");
        has_length |= header_is(h, "content-length");
        text += h->name->len + h->value.len + 2;
    }
    char length[24] = "";
    bool add_length = req->entity.base != NULL && !has_length;
    if (add_length)
        snprintf(length, sizeof length, "%zu", req->entity.len);
    text += (has_host ? 0 : 5 + host.len + 1) + (add_length ? 15 + strlen(length) + 1 : 0);
    bool too_large = req->entity.len > server->max_body_bytes;
    size_t body_len = req->entity.base != NULL && !too_large ? req->entity.len : 0;
    size_t count = req->headers.size + !has_host + add_length;

    http_request *r = tw_malloc(sizeof *r + count * sizeof(tw_sigv4_header) + text + body_len + 1);
    memset(r, 0, sizeof *r);
    tw_sigv4_header *headers = (tw_sigv4_header *)(r + 1);
    char *cursor = (char *)(headers + count);
    tw_http_request *pub = &r->public;
    pub->method = put_text(&cursor, method.base, method.len);
    pub->method_len = method.len;
    pub->path = put_text(&cursor, path.base, path_len);
    pub->path_len = path_len;
    pub->query = put_text(&cursor, query, query_len);
    pub->query_len = query_len;
    size_t n = 0;
    if (!has_host)
        put_header(&headers[n++], &cursor, "host", 4, host.base, host.len);
    if (add_length)
        put_header(&headers[n++], &cursor, "content-length", 14, length, strlen(length));
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        put_header(&headers[n++], &cursor, h->name->base, h->name->len, h->value.base,
                   h->value.len);
    }
    pub->headers = headers;
    pub->header_count = n;
    pub->body = (const uint8_t *)put_text(&cursor, req->entity.base, body_len);
    pub->body_len = body_len;
    pub->body_too_large = too_large;
    peer_ip(req, pub->peer_ip);
    pub->tls = req->input.scheme == &H2O_URL_SCHEME_HTTPS;
    pub->server_private = r;
    r->server = server;
    r->h2o = req;
    return r;
}

/* h2o cleared the request's pool: it is gone (answered, or the client left). */
static void on_h2o_request_disposed(void *slot)
{
    http_request *r = *(http_request **)slot;
    if (r != NULL)
        r->h2o = NULL;
}

static int on_request(h2o_handler_t *self, h2o_req_t *req)
{
    tw_http_server *server = ((catch_all_handler *)self)->server;
    http_request *r = copy_request(server, req);
    r->slot = h2o_mem_alloc_shared(&req->pool, sizeof *r->slot, on_h2o_request_disposed);
    *r->slot = r;
    server->in_flight++;
    server->handler(server->handler_ctx, &r->public);
    return 0;
}

/* ---- responses --------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"}, {201, "Created"}, {204, "No Content"}, {206, "Partial Content"},
        {301, "Moved Permanently"}, {304, "Not Modified"}, {307, "Temporary Redirect"},
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {409, "Conflict"}, {411, "Length Required"},
        {412, "Precondition Failed"}, {413, "Payload Too Large"}, {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"}, {429, "Too Many Requests"},
        {500, "Internal Server Error"}, {501, "Not Implemented"}, {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

static void free_body(void *slot)
{
    free(*(char **)slot);
}

static void maybe_finish_stop(tw_http_server *server);

static void release_request(http_request *r)
{
    tw_http_server *server = r->server;
    free(r);
    server->in_flight--;
    maybe_finish_stop(server);
}

void tw_http_respond(tw_http_request *pub, tw_http_response *resp)
{
    http_request *r = pub->server_private;
    h2o_req_t *req = r->h2o;
    if (req == NULL) {
        tw_debug("http: %s %s from %s: the client went away before the answer (%d)",
                 pub->method, pub->path, pub->peer_ip, resp->status);
        tw_buf_free(&resp->body);
        release_request(r);
        return;
    }
    *r->slot = NULL;
    req->res.status = resp->status;
    req->res.reason = reason_phrase(resp->status);
    if (resp->content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       resp->content_type, strlen(resp->content_type));
    for (size_t i = 0; i < resp->header_count; i++) {
        /* HTTP/2 forbids upper-case names (a client resets the stream);
         * HTTP/1 keeps AWS's spelling ("x-amzn-RequestId"). */
        h2o_iovec_t name = h2o_strdup(&req->pool, resp->headers[i].name, SIZE_MAX);
        if (req->version >= 0x200)
            h2o_strtolower(name.base, name.len);
        h2o_iovec_t value = h2o_strdup(&req->pool, resp->headers[i].value, SIZE_MAX);
        h2o_add_header_by_str(&req->pool, &req->res.headers, name.base, name.len, 1, NULL,
                              value.base, value.len);
    }
    /* The body goes out without a copy; h2o frees it with the request. */
    size_t len = resp->body.len;
    char **body = h2o_mem_alloc_shared(&req->pool, sizeof *body, free_body);
    *body = tw_buf_steal(&resp->body);
    req->res.content_length = len;
    if (r->server->stopping)
        req->http1_is_persistent = 0;
    h2o_generator_t *generator = h2o_mem_alloc_pool(&req->pool, sizeof *generator);
    *generator = (h2o_generator_t){NULL, NULL};
    h2o_start_response(req, generator);
    h2o_iovec_t iov = h2o_iovec_init(*body != NULL ? *body : "", len);
    h2o_send(req, &iov, 1, H2O_SEND_STATE_FINAL);
    release_request(r);
}

/* ---- connections ------------------------------------------------------- */

static void on_connection_closed(uv_handle_t *handle)
{
    connection *c = (connection *)handle;
    tw_http_server *server = c->server;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else if (server->connections == c)
        server->connections = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
    maybe_finish_stop(server);
}

static void on_unaccepted_closed(uv_handle_t *handle)
{
    free(handle);
}

static void on_connection(uv_stream_t *listener, int status)
{
    tw_http_server *server = listener->data;
    if (status != 0) {
        tw_warn("http: accepting a connection failed: %s", uv_strerror(status));
        return;
    }
    connection *c = tw_calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    int rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (rc != 0 || server->stopping) {
        if (rc != 0)
            tw_warn("http: accepting a connection failed: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)&c->tcp, on_unaccepted_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->server = server;
    c->next = server->connections;
    if (c->next != NULL)
        c->next->prev = c;
    server->connections = c;
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_connection_closed);
    h2o_accept(&server->accept, sock);
}

/* ---- start ------------------------------------------------------------- */

typedef struct listen_address {
    char host[256]; /* "" = every address */
    char port[8];
} listen_address;

static int parse_listen(const char *listen, listen_address *out, tw_err *err)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL)
        return tw_err_set(err, -EINVAL, "listen address \"%.80s\" has no port", listen);
    const char *host = listen;
    size_t host_len = (size_t)(colon - listen);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    size_t port_len = strlen(colon + 1);
    if (host_len >= sizeof out->host || port_len == 0 || port_len >= sizeof out->port ||
        strspn(colon + 1, "0123456789") != port_len)
        return tw_err_set(err, -EINVAL, "listen address \"%.80s\" is not host:port", listen);
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    memcpy(out->port, colon + 1, port_len + 1);
    return 0;
}

static bool is_wildcard(const char *host)
{
    return host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* Binds and listens; an empty host means every address (IPv6 dual-stack,
 * or IPv4 where IPv6 is off). */
static int bind_listener(tw_http_server *server, const listen_address *a, tw_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(a->host[0] ? a->host : NULL, a->port, &hints, &found);
    if (rc != 0)
        return tw_err_set(err, -EINVAL, "cannot listen on %s:%s: %s", a->host, a->port,
                          gai_strerror(rc));
    rc = UV_EINVAL;
    /* AI_PASSIVE lists 0.0.0.0 before ::; prefer :: (it takes IPv4 too). */
    for (int pass = 0; pass < 2 && rc != 0; pass++) {
        for (struct addrinfo *ai = found; ai != NULL && rc != 0; ai = ai->ai_next) {
            if (pass == 0 && a->host[0] == '\0' && ai->ai_family != AF_INET6)
                continue;
            rc = uv_tcp_bind(&server->listener, ai->ai_addr, 0);
            if (rc == 0)
                rc = uv_listen((uv_stream_t *)&server->listener, 512, on_connection);
        }
    }
    freeaddrinfo(found);
    if (rc != 0)
        return tw_err_set(err, rc, "cannot listen on %s%s%s:%s: %s", strchr(a->host, ':') ? "[" : "",
                          a->host, strchr(a->host, ':') ? "]" : "", a->port, uv_strerror(rc));
    return 0;
}

static void make_url(tw_http_server *server, const listen_address *a)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int port = 0;
    if (uv_tcp_getsockname(&server->listener, (struct sockaddr *)&ss, &len) == 0)
        port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    const char *host = is_wildcard(a->host) ? "127.0.0.1" : a->host;
    bool v6 = strchr(host, ':') != NULL;
    snprintf(server->url, sizeof server->url, "%s://%s%s%s:%d", server->ssl ? "https" : "http",
             v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static int tls_error(tw_err *err, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char why[256] = "unknown error";
    if (e != 0)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return tw_err_set(err, -EINVAL, "%s %s: %s", what, path, why);
}

static int setup_tls(tw_http_server *server, const char *cert, const char *key, tw_err *err)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    if (ssl == NULL)
        return tls_error(err, "cannot set up TLS for", cert);
    server->ssl = ssl;
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ssl, cert) != 1)
        return tls_error(err, "cannot use the certificate", cert);
    if (SSL_CTX_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) != 1)
        return tls_error(err, "cannot use the private key", key);
    if (SSL_CTX_check_private_key(ssl) != 1)
        return tls_error(err, "the private key does not match the certificate", key);
    h2o_ssl_register_alpn_protocols(ssl, h2o_http2_alpn_protocols);
    return 0;
}

static void setup_h2o(tw_http_server *server)
{
    h2o_config_init(&server->config);
    server->config.server_name = h2o_iovec_init("", 0);
    server->config.max_request_entity_size = server->max_body_bytes + BODY_SLACK;
    server->config.http1.req_timeout = REQUEST_TIMEOUT_MS;
    server->config.http2.idle_timeout = REQUEST_TIMEOUT_MS;
    h2o_hostconf_t *host =
        h2o_config_register_host(&server->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    catch_all_handler *handler = (catch_all_handler *)h2o_create_handler(path, sizeof *handler);
    handler->super.on_req = on_request;
    handler->server = server;
    h2o_context_init(&server->context, server->loop, &server->config);
    server->context_ready = true;
    server->accept.ctx = &server->context;
    server->accept.hosts = server->config.hosts;
    server->accept.ssl_ctx = server->ssl;
}

static void on_listener_closed(uv_handle_t *handle)
{
    tw_http_server *server = handle->data;
    server->listener_open = false;
    maybe_finish_stop(server);
}

/* h2o's context (whose disposal runs the loop once), its config, TLS. */
static void release_h2o(tw_http_server *server)
{
    if (server->context_ready) {
        h2o_context_dispose(&server->context);
        h2o_config_dispose(&server->config);
        server->context_ready = false;
    }
    if (server->ssl != NULL)
        SSL_CTX_free(server->ssl);
    server->ssl = NULL;
}

static void on_listener_closed_free(uv_handle_t *handle)
{
    tw_http_server *server = handle->data;
    release_h2o(server);
    free(server);
}

int tw_http_server_start(uv_loop_t *loop, const tw_http_server_config *config,
                         tw_http_handler handler, void *ctx, tw_http_server **out, tw_err *err)
{
    listen_address address;
    int rc = parse_listen(config->listen, &address, err);
    if (rc != 0)
        return rc;
    tw_http_server *server = tw_calloc(1, sizeof *server);
    server->loop = loop;
    server->handler = handler;
    server->handler_ctx = ctx;
    server->max_body_bytes = config->max_body_bytes;
    if ((config->tls_cert != NULL) != (config->tls_key != NULL)) {
        free(server);
        return tw_err_set(err, -EINVAL, "TLS needs both a certificate and a key");
    }
    if (config->tls_cert != NULL && (rc = setup_tls(server, config->tls_cert, config->tls_key,
                                                    err)) != 0) {
        release_h2o(server);
        free(server);
        return rc;
    }
    uv_tcp_init(loop, &server->listener);
    server->listener.data = server;
    server->listener_open = true;
    if ((rc = bind_listener(server, &address, err)) != 0) {
        /* The handle is freed on the loop's next turn (the caller's cleanup). */
        uv_close((uv_handle_t *)&server->listener, on_listener_closed_free);
        return rc;
    }
    make_url(server, &address);
    setup_h2o(server);
    *out = server;
    return 0;
}

const char *tw_http_server_url(const tw_http_server *server)
{
    return server->url;
}

/* ---- stop -------------------------------------------------------------- */

static void shut_idle_connections(tw_http_server *server)
{
    for (connection *c = server->connections; c != NULL; c = c->next) {
        uv_os_fd_t fd;
        if (c->read_shut || uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
            continue;
        c->read_shut = true;
        shutdown(fd, SHUT_RD);
    }
}

static void maybe_finish_stop(tw_http_server *server)
{
    if (!server->stopping || server->stopped || server->in_flight > 0)
        return;
    shut_idle_connections(server);
    if (server->listener_open || server->connections != NULL)
        return;
    server->stopped = true;
    if (server->on_stopped != NULL)
        server->on_stopped(server->stop_arg);
}

void tw_http_server_stop(tw_http_server *server, void (*on_stopped)(void *arg), void *arg)
{
    if (server->stopping)
        return;
    server->stopping = true;
    server->on_stopped = on_stopped;
    server->stop_arg = arg;
    uv_close((uv_handle_t *)&server->listener, on_listener_closed);
    /* HTTP/1 requests from now on are answered with "Connection: close".
     * (Not h2o_context_request_shutdown(): for HTTP/2 it links a one-second
     * GOAWAY timer that h2o_context_dispose() then asserts on; HTTP/2
     * connections are closed like idle ones, once nothing is in flight.) */
    server->context.shutdown_requested = 1;
    maybe_finish_stop(server);
}

void tw_http_server_free(tw_http_server *server)
{
    if (server == NULL)
        return;
    release_h2o(server);
    if (server->listener_open) /* never stopped: freed on the loop's next turn */
        uv_close((uv_handle_t *)&server->listener, on_listener_closed_free);
    else
        free(server);
}
