/* test_http.c — the collector's HTTP server (collector/http.c) with a test
 * handler, driven by libcurl from a client thread: what reaches the handler
 * (raw path and query, headers with host and content-length, the body), keep-
 * alive, Expect: 100-continue, bodies over the limit, late answers to clients
 * that left (HTTP/1 and HTTP/2 over TLS), and a graceful stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "http.h"
#include "log.h"
#include "mem.h"
#include "testutil.h"

#define MAX_SEEN 16

typedef struct seen {
    char method[16], path[256], query[256], peer[46];
    char headers[2048]; /* "name: value\n", in the order the handler got them */
    char body[64];
    size_t body_len;
    bool too_large, tls;
} seen;

typedef struct fixture fixture;
typedef void (*client_fn)(fixture *f);

struct fixture {
    uv_loop_t loop;
    tw_http_server *server;
    char url[300];
    uv_async_t client_done;
    pthread_t thread;
    client_fn client;
    seen seen[MAX_SEEN];
    size_t n_seen;
    int answered, stopped_calls;
    uint64_t stop_requested_at, stopped_at;
    /* What the client thread found; read after it was joined. */
    long status[MAX_SEEN];
    char response[MAX_SEEN][256];
    long http_version, new_connections;
    double elapsed[MAX_SEEN];
    int curl_result[MAX_SEEN];
};

typedef struct late_answer {
    uv_timer_t timer;
    tw_http_request *req;
    fixture *f;
} late_answer;

/* ---- the server side --------------------------------------------------- */

static void record(fixture *f, const tw_http_request *req)
{
    if (f->n_seen == MAX_SEEN)
        return;
    seen *s = &f->seen[f->n_seen++];
    snprintf(s->method, sizeof s->method, "%.*s", (int)req->method_len, req->method);
    snprintf(s->path, sizeof s->path, "%.*s", (int)req->path_len, req->path);
    snprintf(s->query, sizeof s->query, "%.*s", (int)req->query_len, req->query);
    size_t used = 0;
    for (size_t i = 0; i < req->header_count && used < sizeof s->headers; i++)
        used += (size_t)snprintf(s->headers + used, sizeof s->headers - used, "%.*s: %.*s\n",
                                 (int)req->headers[i].name_len, req->headers[i].name,
                                 (int)req->headers[i].value_len, req->headers[i].value);
    snprintf(s->body, sizeof s->body, "%.*s", (int)(req->body_len < 63 ? req->body_len : 63),
             (const char *)req->body);
    s->body_len = req->body_len;
    s->too_large = req->body_too_large;
    s->tls = req->tls;
    snprintf(s->peer, sizeof s->peer, "%s", req->peer_ip);
    /* The strings are NUL-terminated too. */
    assert_int_equal(req->path[req->path_len], '\0');
    assert_int_equal(req->query[req->query_len], '\0');
    assert_int_equal(req->body[req->body_len], 0);
}

static void answer(fixture *f, tw_http_request *req)
{
    size_t len;
    const char *status = tw_http_header(req, "x-test-status", &len);
    tw_http_response resp = {.status = status != NULL ? atoi(status) : 200,
                             .content_type = "application/x-amz-json-1.1"};
    tw_http_response_add_header(&resp, "x-amzn-RequestId", "test-request-id");
    tw_buf_printf(&resp.body, "{\"path\":\"%.*s\",\"body\":%zu}", (int)req->path_len, req->path,
                  req->body_len);
    f->answered++;
    tw_http_respond(req, &resp);
}

static void on_late_answer(uv_timer_t *timer)
{
    late_answer *late = timer->data;
    answer(late->f, late->req);
    uv_close((uv_handle_t *)timer, (uv_close_cb)free);
}

static void on_stopped(void *arg)
{
    fixture *f = arg;
    f->stopped_calls++;
    f->stopped_at = uv_now(&f->loop);
    uv_close((uv_handle_t *)&f->client_done, NULL);
    /* h2o's own handles keep the loop alive until tw_http_server_free. */
    uv_stop(&f->loop);
}

static void stop_server(fixture *f)
{
    f->stop_requested_at = uv_now(&f->loop);
    tw_http_server_stop(f->server, on_stopped, f);
}

static void handle(void *ctx, tw_http_request *req)
{
    fixture *f = ctx;
    record(f, req);
    if (tw_http_header(req, "x-test-stop", NULL) != NULL)
        stop_server(f);
    const char *delay = tw_http_header(req, "x-test-delay-ms", NULL);
    if (delay == NULL) {
        answer(f, req);
        return;
    }
    late_answer *late = tw_calloc(1, sizeof *late);
    late->req = req;
    late->f = f;
    uv_timer_init(&f->loop, &late->timer);
    late->timer.data = late;
    uv_timer_start(&late->timer, on_late_answer, (uint64_t)atoi(delay), 0);
}

static void on_client_done(uv_async_t *async)
{
    fixture *f = async->data;
    if (f->stop_requested_at == 0)
        stop_server(f);
}

static void *client_main(void *arg)
{
    fixture *f = arg;
    f->client(f);
    uv_async_send(&f->client_done);
    return NULL;
}

/* Starts a server with config, runs client in a thread until it is done and
 * the server stopped, then frees the server and checks every handle closed. */
static void run(fixture *f, const tw_http_server_config *config, client_fn client)
{
    assert_int_equal(uv_loop_init(&f->loop), 0);
    tw_err err;
    int rc = tw_http_server_start(&f->loop, config, handle, f, &f->server, &err);
    if (rc != 0)
        fail_msg("start: %s", err.msg);
    snprintf(f->url, sizeof f->url, "%s", tw_http_server_url(f->server));
    uv_async_init(&f->loop, &f->client_done, on_client_done);
    f->client_done.data = f;
    f->client = client;
    assert_int_equal(pthread_create(&f->thread, NULL, client_main, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    pthread_join(f->thread, NULL);
    assert_int_equal(f->stopped_calls, 1);
    tw_http_server_free(f->server);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* ---- the client side --------------------------------------------------- */

typedef struct sink {
    char *out;
    size_t size, used;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    size_t room = s->size - 1 - s->used;
    size_t take = len < room ? len : room;
    memcpy(s->out + s->used, data, take);
    s->used += take;
    s->out[s->used] = '\0';
    return len;
}

/* One request on handle h (reused for keep-alive); headers NULL-terminated. */
static void request(fixture *f, CURL *h, int i, const char *path, const char *body,
                    size_t body_len, const char *const *headers)
{
    char url[600];
    snprintf(url, sizeof url, "%s%s", f->url, path);
    struct curl_slist *list = NULL;
    for (size_t k = 0; headers != NULL && headers[k] != NULL; k++)
        list = curl_slist_append(list, headers[k]);
    sink s = {f->response[i], sizeof f->response[i], 0};
    f->response[i][0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    f->curl_result[i] = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status[i]);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &f->elapsed[i]);
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    f->new_connections += connects;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &f->http_version);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(list);
}

static const tw_http_server_config plain = {.listen = "127.0.0.1:0", .max_body_bytes = 1000};

/* ---- tests ------------------------------------------------------------- */

static void client_posts_a_signed_looking_request(fixture *f)
{
    CURL *h = curl_easy_init();
    const char *headers[] = {"X-Amz-Target: Logs_20140328.PutLogEvents",
                             "Content-Type: application/x-amz-json-1.1", "X-Custom: one",
                             "x-custom: two", NULL};
    request(f, h, 0, "/a%2Fb/c%20d?Action=List&x=%2F+y&empty=", "{\"hello\":1}", 11, headers);
    curl_easy_cleanup(h);
}

static void test_handler_gets_raw_path_query_headers_and_body(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_posts_a_signed_looking_request);
    assert_int_equal(f->n_seen, 1);
    seen *s = &f->seen[0];
    assert_string_equal(s->method, "POST");
    assert_string_equal(s->path, "/a%2Fb/c%20d");
    assert_string_equal(s->query, "Action=List&x=%2F+y&empty=");
    assert_string_equal(s->body, "{\"hello\":1}");
    assert_int_equal(s->body_len, 11);
    assert_false(s->too_large);
    assert_false(s->tls);
    assert_string_equal(s->peer, "127.0.0.1");
    /* host (from the authority) and content-length (h2o drops it) come first,
     * then the rest in arrival order with lower-case names. */
    char expected_start[400];
    snprintf(expected_start, sizeof expected_start, "host: %s\ncontent-length: 11\n",
             f->url + strlen("http://"));
    assert_memory_equal(s->headers, expected_start, strlen(expected_start));
    assert_non_null(strstr(s->headers, "x-amz-target: Logs_20140328.PutLogEvents\n"));
    assert_non_null(strstr(s->headers, "x-custom: one\nx-custom: two\n"));
    assert_null(strstr(s->headers, "X-Custom"));
    assert_int_equal(f->status[0], 200);
    assert_string_equal(f->response[0], "{\"path\":\"/a%2Fb/c%20d\",\"body\":11}");
    free(f);
}

static void client_gets_without_query(fixture *f)
{
    CURL *h = curl_easy_init();
    request(f, h, 0, "/", NULL, 0, NULL);
    curl_easy_cleanup(h);
}

static void test_request_without_query_or_body_has_empty_ones(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_gets_without_query);
    seen *s = &f->seen[0];
    assert_string_equal(s->method, "GET");
    assert_string_equal(s->path, "/");
    assert_string_equal(s->query, "");
    assert_int_equal(s->body_len, 0);
    assert_null(strstr(s->headers, "content-length"));
    free(f);
}

static void client_sends_three_on_one_connection(fixture *f)
{
    CURL *h = curl_easy_init();
    request(f, h, 0, "/one", "a", 1, NULL);
    request(f, h, 1, "/two", NULL, 0, NULL);
    const char *headers[] = {"X-Test-Status: 400", NULL};
    request(f, h, 2, "/three", "b", 1, headers);
    curl_easy_cleanup(h);
}

static void test_keep_alive_serves_requests_on_one_connection(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_sends_three_on_one_connection);
    assert_int_equal(f->n_seen, 3);
    assert_int_equal(f->new_connections, 1);
    assert_int_equal(f->status[0], 200);
    assert_int_equal(f->status[1], 200);
    assert_int_equal(f->status[2], 400);
    assert_string_equal(f->seen[2].path, "/three");
    free(f);
}

static void client_expects_100_continue(fixture *f)
{
    CURL *h = curl_easy_init();
    char *body = tw_malloc(900);
    memset(body, 'x', 900);
    const char *headers[] = {"Expect: 100-continue", NULL};
    /* curl waits up to 1 s for "100 Continue" before sending anyway. */
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 5000L);
    request(f, h, 0, "/expect", body, 900, headers);
    free(body);
    curl_easy_cleanup(h);
}

static void test_expect_100_continue_is_answered(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_expects_100_continue);
    assert_int_equal(f->status[0], 200);
    assert_int_equal(f->seen[0].body_len, 900);
    assert_true(f->elapsed[0] < 2.0);
    free(f);
}

static void client_sends_bodies_around_the_limit(fixture *f)
{
    CURL *h = curl_easy_init();
    size_t big = 1000 + 1024 * 1024 + 1;
    char *body = tw_malloc(big);
    memset(body, 'x', big);
    request(f, h, 0, "/at-limit", body, 1000, NULL);
    request(f, h, 1, "/over-limit", body, 1001, NULL);
    request(f, h, 2, "/far-over", body, big, NULL);
    free(body);
    curl_easy_cleanup(h);
}

static void test_body_over_the_limit_arrives_flagged_and_empty(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_sends_bodies_around_the_limit);
    assert_int_equal(f->seen[0].body_len, 1000);
    assert_false(f->seen[0].too_large);
    assert_int_equal(f->seen[1].body_len, 0);
    assert_true(f->seen[1].too_large);
    assert_non_null(strstr(f->seen[1].headers, "content-length: 1001\n"));
    /* Beyond max_body + 1 MiB, h2o refuses before reading: no handler. */
    assert_int_equal(f->n_seen, 2);
    assert_int_equal(f->status[2], 413);
    free(f);
}

static void client_leaves_before_the_answer(fixture *f)
{
    CURL *h = curl_easy_init();
    const char *slow[] = {"X-Test-Delay-Ms: 300", NULL};
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 100L);
    request(f, h, 0, "/slow", "x", 1, slow);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
    usleep(400 * 1000); /* the late answer goes to a closed connection */
    request(f, h, 1, "/after", "y", 1, NULL);
    curl_easy_cleanup(h);
}

static void test_answer_after_the_client_left_is_dropped(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_leaves_before_the_answer);
    assert_int_equal(f->curl_result[0], CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(f->answered, 2);
    assert_int_equal(f->status[1], 200);
    free(f);
}

static void client_uses_http2_and_leaves(fixture *f)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    request(f, h, 0, "/h2?q=1", "{}", 2, NULL);
    long version = f->http_version;
    const char *slow[] = {"X-Test-Delay-Ms: 300", NULL};
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 100L);
    request(f, h, 1, "/h2-slow", "x", 1, slow);
    curl_easy_cleanup(h);
    usleep(400 * 1000);
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    request(f, h, 2, "/h2-after", "y", 1, NULL);
    curl_easy_cleanup(h);
    f->http_version = version;
}

static char cert_dir[256], cert_path[300], key_path[300];

/* A throwaway self-signed certificate for localhost. */
static void make_certificate(void)
{
    assert_int_equal(tw_test_mkdtemp(cert_dir, sizeof cert_dir, "http"), 0);
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", cert_dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", cert_dir);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                               -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    FILE *out = fopen(cert_path, "w");
    PEM_write_X509(out, x);
    fclose(out);
    out = fopen(key_path, "w");
    PEM_write_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL);
    fclose(out);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void remove_certificate(void)
{
    tw_test_rm_rf(cert_dir);
}

static void test_tls_serves_http2_and_drops_answers_to_reset_streams(void **state)
{
    make_certificate();
    tw_http_server_config tls = {.listen = "127.0.0.1:0", .tls_cert = cert_path,
                                 .tls_key = key_path, .max_body_bytes = 1000};
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &tls, client_uses_http2_and_leaves);
    remove_certificate();
    assert_memory_equal(f->url, "https://127.0.0.1:", 18);
    assert_int_equal(f->http_version, CURL_HTTP_VERSION_2_0);
    assert_int_equal(f->status[0], 200);
    assert_true(f->seen[0].tls);
    assert_string_equal(f->seen[0].path, "/h2");
    assert_string_equal(f->seen[0].query, "q=1");
    /* HTTP/2 has :authority, no Host: the host header is made from it. */
    char host[400];
    snprintf(host, sizeof host, "host: %s\n", f->url + strlen("https://"));
    assert_non_null(strstr(f->seen[0].headers, host));
    assert_int_equal(f->curl_result[1], CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(f->status[2], 200);
    assert_int_equal(f->answered, 3);
    free(f);
}

static void test_bad_certificate_is_refused_with_the_reason(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    tw_http_server_config tls = {.listen = "127.0.0.1:0", .tls_cert = "/nonexistent/cert.pem",
                                 .tls_key = "/nonexistent/key.pem", .max_body_bytes = 1000};
    tw_http_server *server = NULL;
    tw_err err;
    assert_int_not_equal(tw_http_server_start(&loop, &tls, handle, NULL, &server, &err), 0);
    assert_non_null(strstr(err.msg, "cannot use the certificate /nonexistent/cert.pem"));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void client_asks_for_a_stop_mid_request(fixture *f)
{
    CURL *idle = curl_easy_init();
    request(f, idle, 0, "/idle-keep-alive", NULL, 0, NULL);
    CURL *h = curl_easy_init();
    const char *headers[] = {"X-Test-Stop: yes", "X-Test-Delay-Ms: 200", NULL};
    request(f, h, 1, "/stop", "x", 1, headers);
    curl_easy_cleanup(h);
    /* The listener is closed: a new connection is refused. */
    h = curl_easy_init();
    request(f, h, 2, "/refused", NULL, 0, NULL);
    curl_easy_cleanup(h);
    curl_easy_cleanup(idle);
}

static void test_stop_finishes_requests_in_flight_and_closes_idle_connections(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &plain, client_asks_for_a_stop_mid_request);
    assert_int_equal(f->status[1], 200);
    assert_string_equal(f->response[1], "{\"path\":\"/stop\",\"body\":1}");
    assert_int_equal(f->curl_result[2], CURLE_COULDNT_CONNECT);
    /* Done once the late answer went out, not after the idle connection's
     * 60 s keep-alive timeout. */
    assert_true(f->stopped_at - f->stop_requested_at >= 190);
    assert_true(f->stopped_at - f->stop_requested_at < 2000);
    free(f);
}

static void client_keeps_an_http2_connection_while_stopping(fixture *f)
{
    CURL *idle = curl_easy_init();
    curl_easy_setopt(idle, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    request(f, idle, 0, "/h2-idle", NULL, 0, NULL);
    long version = f->http_version;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    const char *headers[] = {"X-Test-Stop: yes", "X-Test-Delay-Ms: 100", NULL};
    request(f, h, 1, "/h2-stop", "x", 1, headers);
    f->http_version = version;
    usleep(500 * 1000); /* the server closes the idle connection meanwhile */
    curl_easy_cleanup(h);
    curl_easy_cleanup(idle);
}

static void test_stop_closes_idle_http2_connections(void **state)
{
    make_certificate();
    tw_http_server_config tls = {.listen = "127.0.0.1:0", .tls_cert = cert_path,
                                 .tls_key = key_path, .max_body_bytes = 1000};
    fixture *f = tw_calloc(1, sizeof *f);
    run(f, &tls, client_keeps_an_http2_connection_while_stopping);
    remove_certificate();
    assert_int_equal(f->http_version, CURL_HTTP_VERSION_2_0);
    assert_int_equal(f->status[1], 200);
    assert_true(f->stopped_at - f->stop_requested_at < 450);
    free(f);
}

static void test_listen_addresses_and_the_url_with_the_real_port(void **state)
{
    static const struct {
        const char *listen, *url_prefix;
    } cases[] = {
        {"127.0.0.1:0", "http://127.0.0.1:"},
        {":0", "http://127.0.0.1:"},
        {"[::1]:0", "http://[::1]:"},
        {"localhost:0", "http://localhost:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        tw_http_server_config c = {.listen = cases[i].listen, .max_body_bytes = 1000};
        tw_http_server *server;
        tw_err err;
        int rc = tw_http_server_start(&loop, &c, handle, NULL, &server, &err);
        if (rc != 0 && strchr(cases[i].listen, '[') != NULL) {
            uv_run(&loop, UV_RUN_DEFAULT); /* no IPv6 on this machine */
            uv_loop_close(&loop);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: %s", cases[i].listen, err.msg);
        const char *url = tw_http_server_url(server);
        size_t n = strlen(cases[i].url_prefix);
        assert_memory_equal(url, cases[i].url_prefix, n);
        assert_true(atoi(url + n) > 0);
        tw_http_server_free(server); /* a server that never served */
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&loop), 0);
    }
}

static void test_taken_port_is_refused(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    tw_http_server_config c = {.listen = "127.0.0.1:0", .max_body_bytes = 1000};
    tw_http_server *first, *second = NULL;
    tw_err err;
    assert_int_equal(tw_http_server_start(&loop, &c, handle, NULL, &first, &err), 0);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", strrchr(tw_http_server_url(first), ':') + 1);
    c.listen = listen;
    assert_int_not_equal(tw_http_server_start(&loop, &c, handle, NULL, &second, &err), 0);
    assert_non_null(strstr(err.msg, "cannot listen on 127.0.0.1:"));
    assert_non_null(strstr(err.msg, "address already in use"));
    tw_http_server_free(first);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tw_log_init("test_http", getenv("TW_TEST_DEBUG") ? TW_LOG_DEBUG : TW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_gets_raw_path_query_headers_and_body),
        cmocka_unit_test(test_request_without_query_or_body_has_empty_ones),
        cmocka_unit_test(test_keep_alive_serves_requests_on_one_connection),
        cmocka_unit_test(test_expect_100_continue_is_answered),
        cmocka_unit_test(test_body_over_the_limit_arrives_flagged_and_empty),
        cmocka_unit_test(test_answer_after_the_client_left_is_dropped),
        cmocka_unit_test(test_tls_serves_http2_and_drops_answers_to_reset_streams),
        cmocka_unit_test(test_bad_certificate_is_refused_with_the_reason),
        cmocka_unit_test(test_stop_finishes_requests_in_flight_and_closes_idle_connections),
        cmocka_unit_test(test_stop_closes_idle_http2_connections),
        cmocka_unit_test(test_listen_addresses_and_the_url_with_the_real_port),
        cmocka_unit_test(test_taken_port_is_refused),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
