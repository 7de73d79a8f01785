/* http_endpoint.c — the test HTTP/1.1 endpoint declared in http_endpoint.h:
 * one poll() thread, blocking sockets read only when poll says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_endpoint.h"

#define MAX_CONNS 64
#define MAX_REQUEST_BYTES (16u << 20)

typedef struct rule {
    char *needle; /* NULL: any */
    unsigned left;
    tw_test_answer answer;
    char code[128], message[256];
} rule;

typedef struct conn {
    int fd;
    char *in;
    size_t len, cap;
    bool hung;
} conn;

struct tw_test_endpoint {
    pthread_t thread;
    pthread_mutex_t lock; /* guards what follows `url`'s line */
    int listen_fd, wake[2];
    char url[64];
    tw_test_answer fallback;
    rule *rules;
    size_t n_rules;
    tw_test_request *reqs;
    size_t n_reqs, cap_reqs;
    /* thread-only */
    conn conns[MAX_CONNS];
    size_t n_conns;
};

static void conn_close(tw_test_endpoint *e, size_t i)
{
    close(e->conns[i].fd);
    free(e->conns[i].in);
    e->conns[i] = e->conns[--e->n_conns];
}

/* Copies the value of header `name` from the head's lines into out. */
static void header_value(const char *head, size_t head_len, const char *name, char *out,
                         size_t size)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    const char *p = memchr(head, '\n', head_len), *end = head + head_len;
    while (p && ++p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && *v == ' ')
                v++;
            size_t vl = (size_t)(eol - v);
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            snprintf(out, size, "%.*s", (int)vl, v);
            return;
        }
        p = eol;
    }
}

/* Records the request and picks its answer (under the lock). */
static tw_test_answer record(tw_test_endpoint *e, const char *head, size_t head_len,
                             const char *body, size_t body_len, char *code, char *message)
{
    tw_test_request r = {0};
    sscanf(head, "%15s %255s", r.method, r.path);
    header_value(head, head_len, "X-Trailwatch-Batch-Id", r.batch_id, sizeof r.batch_id);
    header_value(head, head_len, "X-Amz-Target", r.target, sizeof r.target);
    r.body_len = body_len;
    memcpy(r.body, body, body_len < sizeof r.body - 1 ? body_len : sizeof r.body - 1);
    pthread_mutex_lock(&e->lock);
    r.answer = e->fallback;
    snprintf(code, 128, "ValidationException");
    snprintf(message, 256, "the test endpoint refuses this request");
    for (size_t i = 0; i < e->n_rules; i++) {
        rule *ru = &e->rules[i];
        if (ru->left == 0 || (ru->needle && !memmem(body, body_len, ru->needle,
                                                     strlen(ru->needle))))
            continue;
        ru->left--;
        r.answer = ru->answer;
        if (ru->code[0])
            snprintf(code, 128, "%s", ru->code);
        if (ru->message[0])
            snprintf(message, 256, "%s", ru->message);
        break;
    }
    if (e->n_reqs == e->cap_reqs) {
        e->cap_reqs = e->cap_reqs ? e->cap_reqs * 2 : 64;
        e->reqs = realloc(e->reqs, e->cap_reqs * sizeof *e->reqs);
        if (!e->reqs)
            abort();
    }
    e->reqs[e->n_reqs++] = r;
    pthread_mutex_unlock(&e->lock);
    return r.answer;
}

static void respond(int fd, tw_test_answer answer, const char *code, const char *message)
{
    int status = 200;
    char body[512] = "{}";
    if (answer == TW_TEST_ANSWER_400) {
        status = 400;
        snprintf(body, sizeof body, "{\"__type\":\"%s\",\"message\":\"%s\"}", code, message);
    } else if (answer == TW_TEST_ANSWER_500) {
        status = 500;
        snprintf(body, sizeof body,
                 "{\"__type\":\"InternalFailure\",\"message\":\"the test endpoint failed\"}");
    }
    char out[1024];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, status == 200 ? "OK" : status == 400 ? "Bad Request" : "Error",
                     strlen(body), body);
    /* A client that left is no error here: its request is recorded. */
    for (int off = 0; off < n;) {
        ssize_t w = send(fd, out + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w <= 0)
            return;
        off += (int)w;
    }
}

/* Answers every complete request in the connection's buffer. Returns false
 * when the connection is to be closed. */
static bool serve(tw_test_endpoint *e, conn *c)
{
    for (;;) {
        char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
        if (!end)
            return c->len < MAX_REQUEST_BYTES;
        size_t head_len = (size_t)(end - c->in) + 4;
        char length[32];
        header_value(c->in, head_len, "Content-Length", length, sizeof length);
        size_t body_len = strtoul(length, NULL, 10);
        if (body_len > MAX_REQUEST_BYTES)
            return false;
        if (c->len < head_len + body_len)
            return true;
        char code[128], message[256];
        c->in[head_len - 1] = '\0'; /* sscanf stops at the head's end */
        tw_test_answer a = record(e, c->in, head_len, c->in + head_len, body_len, code, message);
        memmove(c->in, c->in + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
        if (a == TW_TEST_ANSWER_CLOSE)
            return false;
        if (a == TW_TEST_ANSWER_HANG) {
            c->hung = true;
            return true;
        }
        respond(c->fd, a, code, message);
    }
}

/* Reads what arrived on connection i; false when it is finished. */
static bool conn_read(tw_test_endpoint *e, conn *c)
{
    if (c->cap - c->len < 65536) {
        c->cap = c->cap ? c->cap * 2 : 131072;
        c->in = realloc(c->in, c->cap);
        if (!c->in)
            abort();
    }
    ssize_t n = read(c->fd, c->in + c->len, c->cap - c->len);
    if (n <= 0)
        return n < 0 && errno == EINTR;
    if (c->hung)
        return true; /* waits for the client to leave */
    c->len += (size_t)n;
    return serve(e, c);
}

static void *endpoint_main(void *arg)
{
    tw_test_endpoint *e = arg;
    struct pollfd fds[MAX_CONNS + 2];
    for (;;) {
        size_t n = e->n_conns;
        fds[0] = (struct pollfd){.fd = e->wake[0], .events = POLLIN};
        fds[1] = (struct pollfd){.fd = e->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            fds[i + 2] = (struct pollfd){.fd = e->conns[i].fd, .events = POLLIN};
        if (poll(fds, n + 2, -1) < 0)
            continue; /* EINTR */
        if (fds[0].revents)
            break;
        /* Backwards: closing i moves the last connection into its place. */
        for (size_t i = n; i-- > 0;)
            if (fds[i + 2].revents && !conn_read(e, &e->conns[i]))
                conn_close(e, i);
        if ((fds[1].revents & POLLIN) && e->n_conns < MAX_CONNS) {
            int fd = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                e->conns[e->n_conns++] = (conn){.fd = fd};
        }
    }
    while (e->n_conns > 0)
        conn_close(e, e->n_conns - 1);
    return NULL;
}

tw_test_endpoint *tw_test_endpoint_start(void)
{
    tw_test_endpoint *e = calloc(1, sizeof *e);
    assert_non_null(e);
    pthread_mutex_init(&e->lock, NULL);
    e->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(e->listen_fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(e->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(e->listen_fd, 64), 0);
    assert_int_equal(getsockname(e->listen_fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    assert_int_equal(pipe2(e->wake, O_CLOEXEC), 0);
    assert_int_equal(pthread_create(&e->thread, NULL, endpoint_main, e), 0);
    return e;
}

const char *tw_test_endpoint_url(const tw_test_endpoint *e)
{
    return e->url;
}

void tw_test_endpoint_default(tw_test_endpoint *e, tw_test_answer answer)
{
    pthread_mutex_lock(&e->lock);
    e->fallback = answer;
    pthread_mutex_unlock(&e->lock);
}

void tw_test_endpoint_rule(tw_test_endpoint *e, const char *needle, unsigned times,
                           tw_test_answer answer, const char *code, const char *message)
{
    pthread_mutex_lock(&e->lock);
    e->rules = realloc(e->rules, (e->n_rules + 1) * sizeof *e->rules);
    if (!e->rules)
        abort();
    rule *r = &e->rules[e->n_rules++];
    *r = (rule){.needle = needle ? strdup(needle) : NULL, .left = times, .answer = answer};
    snprintf(r->code, sizeof r->code, "%s", code ? code : "");
    snprintf(r->message, sizeof r->message, "%s", message ? message : "");
    pthread_mutex_unlock(&e->lock);
}

size_t tw_test_endpoint_count(tw_test_endpoint *e)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->n_reqs;
    pthread_mutex_unlock(&e->lock);
    return n;
}

size_t tw_test_endpoint_count_batch(tw_test_endpoint *e, const char *batch_id)
{
    size_t n = 0;
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->n_reqs; i++)
        n += strcmp(e->reqs[i].batch_id, batch_id) == 0;
    pthread_mutex_unlock(&e->lock);
    return n;
}

void tw_test_endpoint_request(tw_test_endpoint *e, size_t i, tw_test_request *out)
{
    pthread_mutex_lock(&e->lock);
    bool found = i < e->n_reqs;
    if (found)
        *out = e->reqs[i];
    pthread_mutex_unlock(&e->lock);
    if (!found)
        fail_msg("the test endpoint got no request %zu", i);
}

void tw_test_endpoint_stop(tw_test_endpoint *e)
{
    if (!e)
        return;
    if (write(e->wake[1], "x", 1) != 1)
        abort();
    pthread_join(e->thread, NULL);
    close(e->wake[0]);
    close(e->wake[1]);
    close(e->listen_fd);
    for (size_t i = 0; i < e->n_rules; i++)
        free(e->rules[i].needle);
    free(e->rules);
    free(e->reqs);
    pthread_mutex_destroy(&e->lock);
    free(e);
}
