/* sender.c — libcurl multi on the libuv loop, signing, classification of
 * answers, retries (see sender.h).
 *
 * The curl/libuv wiring is the shape of curl's multi-uv example:
 * CURLMOPT_SOCKETFUNCTION maps each socket curl wants watched to a uv_poll_t,
 * CURLMOPT_TIMERFUNCTION to one uv_timer_t, and both call
 * curl_multi_socket_action; finished transfers are collected with
 * curl_multi_info_read. Each submitted request is a "job" that lives until
 * its done callback ran and its retry timer closed. */
#include "sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "credentials.h"
#include "log.h"
#include "mem.h"
#include "sigv4.h"
#include "timefmt.h"

#define DAY_MS (86400 * UINT64_C(1000))
#define DEFAULT_BUDGET_MS (14 * DAY_MS)
#define DEFAULT_BACKOFF_BASE_MS 500
#define DEFAULT_BACKOFF_CAP_MS 30000
#define DEFAULT_MAX_CONNECTIONS 8
#define CONNECT_TIMEOUT_MS 10000
#define DOWN_REMINDER_MS (5 * 60 * 1000)
#define MAX_RESPONSE_BYTES (4 * 1024 * 1024)

typedef struct job job;

struct tw_sender {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t curl_timer;
    char *base_url; /* without a trailing '/' */
    char *host;     /* Host header value: host[:port] as in the URL */
    char *region;
    uint64_t timeout_ms;
    uint64_t budget_ms, backoff_base_ms, backoff_cap_ms;
    const tw_endpoint_config *endpoint;
    tw_credentials_env_fn getenv;
    void *getenv_ctx;
    tw_credentials *credentials;
    tw_sigv4_key_cache *key_cache;
    int64_t clock_offset_ms;
    job *jobs; /* every live job, doubly linked */
    struct poll_ctx *polls; /* every socket curl asked us to watch */
    bool closing;
    int open_handles; /* uv handles still to close before closed() */
    void (*closed)(void *ctx);
    void *closed_ctx;
    /* Endpoint health, for logging a state change once. */
    bool down;
    int64_t down_since_ms, down_reminded_ms;
    char down_reason[256];
    tw_sender_stats stats;
};

typedef struct poll_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    tw_sender *sender;
    struct poll_ctx *prev, *next; /* the sender's list: closed on close */
} poll_ctx;

struct job {
    tw_sender *sender;
    job *prev, *next;
    tw_request *req;
    tw_send_done_fn done;
    void *done_ctx;
    CURL *easy; /* while a transfer runs */
    struct curl_slist *headers;
    tw_buf response;
    char date_header[64];
    char query_error[160]; /* x-amzn-query-error, or x-amzn-ErrorType */
    char curl_error[CURL_ERROR_SIZE];
    unsigned attempts;
    uint64_t next_backoff_ms;
    uv_timer_t retry_timer;
    bool finished;
};

/* ---- small helpers --------------------------------------------------------- */

static uint64_t random_below(uint64_t n)
{
    uint64_t r = 0;
    if (n == 0 || getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        return n / 2;
    return r % n;
}

static int64_t signing_time_ms(const tw_sender *s)
{
    return tw_time_now_ms() + s->clock_offset_ms;
}

/* "http://host:port/x" -> Host header "host:port", base URL without '/'. */
static int split_url(tw_sender *s, const char *url, tw_err *err)
{
    const char *rest = strstr(url, "://");
    if (!rest)
        return tw_err_set(err, -EINVAL, "endpoint url \"%s\" has no scheme", url);
    rest += 3;
    size_t host_len = strcspn(rest, "/?#");
    if (host_len == 0)
        return tw_err_set(err, -EINVAL, "endpoint url \"%s\" has no host", url);
    s->host = tw_malloc(host_len + 1);
    memcpy(s->host, rest, host_len);
    s->host[host_len] = '\0';
    /* SigV4 signs Host as sent; curl leaves out a default port, so do we. */
    size_t hl = strlen(s->host);
    bool https = strncmp(url, "https://", 8) == 0;
    const char *default_port = https ? ":443" : ":80";
    size_t dl = strlen(default_port);
    if (hl > dl && strcmp(s->host + hl - dl, default_port) == 0)
        s->host[hl - dl] = '\0';
    s->base_url = tw_strdup(url);
    size_t ul = strlen(s->base_url);
    while (ul > 0 && s->base_url[ul - 1] == '/')
        s->base_url[--ul] = '\0';
    return 0;
}

static const char *credentials_env(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int resolve_credentials(tw_sender *s, tw_err *err)
{
    tw_credentials *fresh = tw_calloc(1, sizeof *fresh);
    int rc = tw_credentials_resolve(s->endpoint, s->getenv, s->getenv_ctx, fresh, err);
    if (rc != 0) {
        tw_credentials_wipe(fresh);
        free(fresh);
        return rc;
    }
    if (s->credentials) {
        tw_credentials_wipe(s->credentials);
        free(s->credentials);
    }
    s->credentials = fresh;
    return 0;
}

/* Before each signature: pick up rotated keys in the shared files. */
static void refresh_credentials_if_changed(tw_sender *s)
{
    if (!s->credentials || !tw_credentials_changed(s->credentials))
        return;
    tw_err err;
    if (resolve_credentials(s, &err) == 0)
        tw_info("AWS credentials re-read from %s", s->credentials->source);
    else
        tw_warn("AWS credentials changed but could not be re-read (%s); still signing with "
                "the previous ones",
                err.msg);
}

/* ---- endpoint health ------------------------------------------------------- */

static void note_failure(tw_sender *s, const tw_request *req, const char *why, uint64_t delay)
{
    int64_t now = tw_time_now_ms();
    if (!s->down) {
        s->down = true;
        s->down_since_ms = s->down_reminded_ms = now;
        snprintf(s->down_reason, sizeof s->down_reason, "%s", why);
        tw_warn("%s: %s: %s; retrying with backoff (next in %" PRIu64 " ms), data is kept "
                "in the spool until it is delivered",
                req->label, s->base_url, why, delay);
    } else if (now - s->down_reminded_ms >= DOWN_REMINDER_MS) {
        s->down_reminded_ms = now;
        tw_warn("%s still failing for %" PRId64 " s: %s; %" PRIu64 " retries so far", s->base_url,
                (now - s->down_since_ms) / 1000, why, s->stats.retries);
    }
}

static void note_success(tw_sender *s)
{
    if (!s->down)
        return;
    s->down = false;
    tw_notice("%s answers again after %" PRId64 " s (it failed with: %s); sending what waited",
              s->base_url, (tw_time_now_ms() - s->down_since_ms) / 1000, s->down_reason);
}

/* ---- job lifetime ---------------------------------------------------------- */

static void job_unlink(job *j)
{
    tw_sender *s = j->sender;
    if (j->prev)
        j->prev->next = j->next;
    else
        s->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

static void maybe_closed(tw_sender *s);

static void job_timer_closed(uv_handle_t *handle)
{
    job *j = handle->data;
    tw_sender *s = j->sender;
    tw_buf_free(&j->response);
    free(j);
    s->open_handles--;
    maybe_closed(s);
}

static void end_transfer(job *j)
{
    if (j->easy) {
        curl_multi_remove_handle(j->sender->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
    }
    curl_slist_free_all(j->headers);
    j->headers = NULL;
}

/* Hands the request back once and schedules the job's memory to go. */
static void job_finish(job *j, tw_send_status status, long http_status, const char *code,
                       const char *message)
{
    tw_sender *s = j->sender;
    if (j->finished)
        return;
    j->finished = true;
    end_transfer(j);
    uv_timer_stop(&j->retry_timer);
    job_unlink(j);
    tw_send_result result = {
        .status = status,
        .http_status = http_status,
        .response = &j->response,
        .attempts = j->attempts,
    };
    snprintf(result.code, sizeof result.code, "%s", code ? code : "");
    snprintf(result.message, sizeof result.message, "%s", message ? message : "");
    switch (status) {
    case TW_SEND_ACKED: s->stats.acked++; break;
    case TW_SEND_REJECTED: s->stats.rejected++; break;
    case TW_SEND_EXPIRED: s->stats.expired++; break;
    case TW_SEND_CANCELLED: break;
    }
    j->done(j->done_ctx, j->req, &result);
    uv_close((uv_handle_t *)&j->retry_timer, job_timer_closed);
}

/* ---- one attempt ----------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    job *j = userp;
    size_t len = size * n;
    if (j->response.len + len > MAX_RESPONSE_BYTES)
        return 0; /* a runaway answer: fail the transfer */
    tw_buf_append(&j->response, data, len);
    return len;
}

static void copy_header_value(char *out, size_t size, const char *value, size_t len)
{
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
        len--;
    while (len > 0 && *value == ' ') {
        value++;
        len--;
    }
    if (len >= size)
        len = size - 1;
    memcpy(out, value, len);
    out[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    job *j = userp;
    size_t len = size * n;
    static const struct {
        const char *name;
        size_t offset, size;
    } wanted[] = {
        {"date:", offsetof(job, date_header), sizeof(((job *)0)->date_header)},
        {"x-amzn-query-error:", offsetof(job, query_error), sizeof(((job *)0)->query_error)},
        {"x-amzn-errortype:", offsetof(job, query_error), sizeof(((job *)0)->query_error)},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t nl = strlen(wanted[i].name);
        if (len > nl && strncasecmp(data, wanted[i].name, nl) == 0) {
            char *field = (char *)j + wanted[i].offset;
            if (field[0] == '\0' || wanted[i].offset == offsetof(job, date_header))
                copy_header_value(field, wanted[i].size, data + nl, len - nl);
        }
    }
    return len;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name,
                                     const char *value)
{
    char line[8192];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *next = curl_slist_append(list, line);
    if (!next)
        abort(); /* out of memory */
    return next;
}

/* Signs and starts one transfer. */
static int start_attempt(job *j, tw_err *err)
{
    tw_sender *s = j->sender;
    tw_request *req = j->req;
    refresh_credentials_if_changed(s);

    if (!s->credentials && resolve_credentials(s, err) != 0)
        return -EAGAIN; /* retried like an endpoint that is down: nothing is dropped */
    tw_sigv4_header headers[6];
    size_t n = 0;
    headers[n++] = tw_sigv4_header_of("Host", s->host);
    headers[n++] = tw_sigv4_header_of("Content-Type", req->content_type);
    if (req->target)
        headers[n++] = tw_sigv4_header_of("X-Amz-Target", req->target);
    if (req->gzip)
        headers[n++] = tw_sigv4_header_of("Content-Encoding", "gzip");
    headers[n++] = tw_sigv4_header_of("X-Trailwatch-Batch-Id", req->batch_id);
    const char *path = req->path;
    const char *query = strchr(path, '?');
    tw_sigv4_request sreq = {
        .method = "POST",
        .method_len = 4,
        .path = path,
        .path_len = query ? (size_t)(query - path) : strlen(path),
        .query = query ? query + 1 : NULL,
        .query_len = query ? strlen(query + 1) : 0,
        .headers = headers,
        .header_count = n,
        .body = req->body.data,
        .body_len = req->body.len,
    };
    tw_sigv4_sign_params params = {
        .access_key_id = s->credentials->access_key_id,
        .secret_access_key = s->credentials->secret_access_key,
        .session_token = s->credentials->session_token[0] ? s->credentials->session_token : NULL,
        .region = s->region,
        .service = req->service,
        .time_ms = signing_time_ms(s),
        .cache = s->key_cache,
    };
    tw_sigv4_signed sig = {0};
    if (tw_sigv4_sign_headers(&sreq, &params, &sig, err) != 0)
        return -EINVAL;

    struct curl_slist *list = NULL;
    for (size_t i = 1; i < n; i++) /* curl writes Host itself, from the URL */
        list = add_header(list, headers[i].name, headers[i].value);
    for (size_t i = 0; i < sig.header_count; i++)
        list = add_header(list, sig.headers[i].name, sig.headers[i].value);
    list = add_header(list, "Expect", ""); /* no 100-continue round trip */
    tw_sigv4_signed_free(&sig);

    char url[4096];
    snprintf(url, sizeof url, "%s%s", s->base_url, path);
    CURL *easy = curl_easy_init();
    if (!easy) {
        curl_slist_free_all(list);
        return tw_err_set(err, -ENOMEM, "curl_easy_init failed");
    }
    tw_buf_reset(&j->response);
    j->date_header[0] = j->query_error[0] = j->curl_error[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body.data ? req->body.data : "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "trailwatch-agent/" TW_VERSION);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, j->curl_error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, j);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    j->easy = easy;
    j->headers = list;
    j->attempts++;
    s->stats.attempts++;
    s->stats.bytes_sent += req->body.len;
    curl_multi_add_handle(s->multi, easy);
    return 0;
}

/* ---- answers --------------------------------------------------------------- */

/* The AWS error code and message of a failed response, in whichever protocol
 * it came: JSON ({"__type": "ns#Code", "message": ...}), query XML
 * (<Code>/<Message>), or the x-amzn-query-error / x-amzn-ErrorType header. */
static void parse_error(const job *j, char *code, size_t code_size, char *message,
                        size_t message_size)
{
    code[0] = message[0] = '\0';
    const tw_buf *r = &j->response;
    json_t *doc = r->len ? json_loadb(r->data, r->len, 0, NULL) : NULL;
    if (json_is_object(doc)) {
        const char *type = json_string_value(json_object_get(doc, "__type"));
        if (!type)
            type = json_string_value(json_object_get(doc, "code"));
        const char *msg = json_string_value(json_object_get(doc, "message"));
        if (!msg)
            msg = json_string_value(json_object_get(doc, "Message"));
        if (type) {
            const char *hash = strrchr(type, '#');
            snprintf(code, code_size, "%s", hash ? hash + 1 : type);
        }
        if (msg)
            snprintf(message, message_size, "%s", msg);
    } else if (r->len) {
        const char *c = strstr(r->data, "<Code>"), *m = strstr(r->data, "<Message>");
        if (c)
            snprintf(code, code_size, "%.*s", (int)strcspn(c + 6, "<"), c + 6);
        if (m)
            snprintf(message, message_size, "%.*s", (int)strcspn(m + 9, "<"), m + 9);
    }
    json_decref(doc);
    if (code[0] == '\0' && j->query_error[0]) /* "Code;Sender" or "Code:..." */
        snprintf(code, code_size, "%.*s", (int)strcspn(j->query_error, ";:"), j->query_error);
}

static bool code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return true;
    return false;
}

static const char *const throttling_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException",
    "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout",
    "RequestTimeoutException", "InternalFailure", "InternalServiceError", NULL,
};

static const char *const auth_codes[] = {
    "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch",
    "InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken",
    "MissingAuthenticationTokenException", "ExpiredToken", "ExpiredTokenException",
    "AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "AuthFailure", NULL,
};

static bool is_clock_skew(const char *code, const char *message)
{
    return strcmp(code, "RequestTimeTooSkewed") == 0 || strcmp(code, "RequestExpired") == 0 ||
           strstr(message, "Signature expired") != NULL ||
           strstr(message, "Signature not yet current") != NULL;
}

/* Takes the endpoint's clock from its Date header. Returns whether it moved. */
static bool correct_clock(tw_sender *s, const job *j)
{
    int64_t server_ms;
    if (!j->date_header[0] ||
        tw_time_parse_http_date(j->date_header, strlen(j->date_header), &server_ms, NULL) != 0)
        return false;
    int64_t offset = server_ms - tw_time_now_ms();
    if (llabs(offset - s->clock_offset_ms) < 1000)
        return false;
    tw_warn("this machine's clock is %+" PRId64 " s off %s's (Date: %s); signing with the "
            "endpoint's time. Fix the clock (is NTP running?)",
            -offset / 1000, s->base_url, j->date_header);
    s->clock_offset_ms = offset;
    return true;
}

static void retry_now_or_later(job *j, uint64_t delay_ms);

static void schedule_retry(job *j, long http_status, const char *code, const char *why);

static void on_retry_timer(uv_timer_t *timer)
{
    job *j = timer->data;
    tw_err err;
    int rc = start_attempt(j, &err);
    if (rc == -EAGAIN)
        schedule_retry(j, 0, "NoCredentials", err.msg);
    else if (rc != 0)
        job_finish(j, TW_SEND_REJECTED, 0, "SigningFailed", err.msg);
}

static void retry_now_or_later(job *j, uint64_t delay_ms)
{
    uv_timer_start(&j->retry_timer, on_retry_timer, delay_ms, 0);
}

/* Schedules the next attempt after a transient failure, or gives up when
 * the budget is spent. */
static void schedule_retry(job *j, long http_status, const char *code, const char *why)
{
    tw_sender *s = j->sender;
    uint64_t cap = j->next_backoff_ms ? j->next_backoff_ms : s->backoff_base_ms;
    /* Full jitter over the upper half: spread the herd, never retry at once. */
    uint64_t delay = cap / 2 + random_below(cap / 2 + 1);
    j->next_backoff_ms = cap * 2 > s->backoff_cap_ms ? s->backoff_cap_ms : cap * 2;
    int64_t deadline = j->req->created_ms + (int64_t)s->budget_ms;
    if (tw_time_now_ms() + (int64_t)delay > deadline) {
        job_finish(j, TW_SEND_EXPIRED, http_status, code, why);
        return;
    }
    note_failure(s, j->req, why, delay);
    s->stats.retries++;
    retry_now_or_later(j, delay);
}

static void classify(job *j, CURLcode result, long http_status)
{
    tw_sender *s = j->sender;
    end_transfer(j);
    if (result != CURLE_OK) {
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s", j->curl_error[0] ? j->curl_error
                                                          : curl_easy_strerror(result));
        schedule_retry(j, 0, "", why);
        return;
    }
    if (http_status >= 200 && http_status < 300) {
        note_success(s);
        job_finish(j, TW_SEND_ACKED, http_status, NULL, NULL);
        return;
    }
    char code[128], message[512], why[768];
    parse_error(j, code, sizeof code, message, sizeof message);
    snprintf(why, sizeof why, "HTTP %ld %s%s%s", http_status, code[0] ? code : "(no error code)",
             message[0] ? ": " : "", message);
    if (is_clock_skew(code, message) && correct_clock(s, j)) {
        retry_now_or_later(j, 0);
        return;
    }
    if (http_status >= 500 || http_status == 429 || code_in(code, throttling_codes)) {
        schedule_retry(j, http_status, code, why);
        return;
    }
    if (http_status == 401 || http_status == 403 || code_in(code, auth_codes)) {
        /* A setup problem the operator can fix (keys, clock, permissions):
         * keep the data and keep trying with fresh credentials. */
        tw_err err;
        if (resolve_credentials(s, &err) != 0)
            tw_warn("re-reading AWS credentials failed: %s", err.msg);
        schedule_retry(j, http_status, code, why);
        return;
    }
    note_success(s); /* the endpoint answered: it is up */
    job_finish(j, TW_SEND_REJECTED, http_status, code[0] ? code : "HTTP", message[0] ? message : why);
}

static void collect_finished(tw_sender *s)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *private_ptr = NULL;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &private_ptr);
        job *j = (job *)private_ptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        classify(j, msg->data.result, status);
    }
}

/* ---- curl <-> libuv -------------------------------------------------------- */

static void on_poll(uv_poll_t *handle, int status, int events)
{
    poll_ctx *ctx = handle->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(ctx->sender->multi, ctx->fd, flags, &running);
    collect_finished(ctx->sender);
}

static void poll_closed(uv_handle_t *handle)
{
    poll_ctx *ctx = handle->data;
    tw_sender *s = ctx->sender;
    free(ctx);
    s->open_handles--;
    maybe_closed(s);
}

static void poll_unlink(poll_ctx *ctx)
{
    tw_sender *s = ctx->sender;
    if (ctx->prev)
        ctx->prev->next = ctx->next;
    else
        s->polls = ctx->next;
    if (ctx->next)
        ctx->next->prev = ctx->prev;
    ctx->prev = ctx->next = NULL;
}

static void poll_forget(poll_ctx *ctx)
{
    poll_unlink(ctx);
    uv_poll_stop(&ctx->poll);
    uv_close((uv_handle_t *)&ctx->poll, poll_closed);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    tw_sender *s = userp;
    poll_ctx *ctx = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ctx) {
            curl_multi_assign(s->multi, fd, NULL);
            poll_forget(ctx);
        }
        return 0;
    }
    if (!ctx) {
        ctx = tw_calloc(1, sizeof *ctx);
        ctx->fd = fd;
        ctx->sender = s;
        if (uv_poll_init_socket(s->loop, &ctx->poll, fd) != 0) {
            free(ctx);
            return -1;
        }
        ctx->poll.data = ctx;
        s->open_handles++;
        ctx->next = s->polls;
        if (s->polls)
            s->polls->prev = ctx;
        s->polls = ctx;
        curl_multi_assign(s->multi, fd, ctx);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&ctx->poll, events, on_poll);
    return 0;
}

static void on_curl_timeout(uv_timer_t *timer)
{
    tw_sender *s = timer->data;
    int running;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_finished(s);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    tw_sender *s = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&s->curl_timer);
    else /* even 0: curl must not be re-entered from its own callback */
        uv_timer_start(&s->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- public ---------------------------------------------------------------- */

int tw_sender_new(uv_loop_t *loop, const tw_sender_options *options, tw_sender **out,
                  tw_err *err)
{
    static bool curl_ready; /* curl_global_init is process-wide by nature */
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
            return tw_err_set(err, -EIO, "libcurl could not be initialised");
        curl_ready = true;
    }
    tw_sender *s = tw_calloc(1, sizeof *s);
    s->loop = loop;
    s->endpoint = options->endpoint;
    s->getenv = options->getenv ? options->getenv : credentials_env;
    s->getenv_ctx = options->getenv_ctx;
    s->budget_ms = options->retry_budget_ms ? options->retry_budget_ms : DEFAULT_BUDGET_MS;
    s->backoff_base_ms =
        options->backoff_base_ms ? options->backoff_base_ms : DEFAULT_BACKOFF_BASE_MS;
    s->backoff_cap_ms = options->backoff_cap_ms ? options->backoff_cap_ms : DEFAULT_BACKOFF_CAP_MS;
    s->timeout_ms = s->endpoint->timeout_ms ? s->endpoint->timeout_ms : 30000;
    s->region = tw_strdup(s->endpoint->region);
    int rc = split_url(s, s->endpoint->url, err);
    if (rc == 0 && resolve_credentials(s, err) != 0) {
        /* Not fatal: batches wait in the spool and each attempt looks again
         * (a credentials file written after the agent started is found). */
        tw_error("%s; batches are kept in the spool until credentials are found", err->msg);
    }
    if (rc != 0) {
        free(s->host);
        free(s->base_url);
        free(s->region);
        free(s);
        return rc;
    }
    s->key_cache = tw_sigv4_key_cache_new(8);
    s->multi = curl_multi_init();
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      options->max_connections ? options->max_connections
                                               : (long)DEFAULT_MAX_CONNECTIONS);
    uv_timer_init(loop, &s->curl_timer);
    s->curl_timer.data = s;
    s->open_handles = 1;
    if (s->credentials)
        tw_info("sending to %s (region %s) with AWS credentials from %s", s->base_url,
                s->region, s->credentials->source);
    *out = s;
    return 0;
}

void tw_sender_submit(tw_sender *s, tw_request *req, tw_send_done_fn done, void *ctx)
{
    job *j = tw_calloc(1, sizeof *j);
    j->sender = s;
    j->req = req;
    j->done = done;
    j->done_ctx = ctx;
    uv_timer_init(s->loop, &j->retry_timer);
    j->retry_timer.data = j;
    s->open_handles++;
    j->next = s->jobs;
    if (s->jobs)
        s->jobs->prev = j;
    s->jobs = j;
    if (s->closing) {
        job_finish(j, TW_SEND_CANCELLED, 0, NULL, "the sender is stopping");
        return;
    }
    /* Start from the loop, never inside the caller's stack: done must not
     * run within submit, and signing belongs to the attempt. */
    retry_now_or_later(j, 0);
}

static void curl_timer_closed(uv_handle_t *handle)
{
    tw_sender *s = handle->data;
    s->open_handles--;
    maybe_closed(s);
}

static void maybe_closed(tw_sender *s)
{
    if (!s->closing || s->open_handles > 0)
        return;
    void (*closed)(void *) = s->closed;
    void *ctx = s->closed_ctx;
    tw_sigv4_key_cache_free(s->key_cache);
    if (s->credentials) {
        tw_credentials_wipe(s->credentials);
        free(s->credentials);
    }
    free(s->host);
    free(s->base_url);
    free(s->region);
    free(s);
    if (closed)
        closed(ctx);
}

void tw_sender_close(tw_sender *s, void (*closed)(void *ctx), void *ctx)
{
    s->closing = true;
    s->closed = closed;
    s->closed_ctx = ctx;
    while (s->jobs)
        job_finish(s->jobs, TW_SEND_CANCELLED, 0, NULL, "the agent is stopping");
    /* With every transfer removed, cleanup closes the connections; curl
     * tells on_socket to forget each socket as it goes. */
    curl_multi_cleanup(s->multi);
    s->multi = NULL;
    while (s->polls) /* sockets curl closed without telling on_socket */
        poll_forget(s->polls);
    uv_timer_stop(&s->curl_timer);
    uv_close((uv_handle_t *)&s->curl_timer, curl_timer_closed);
}

void tw_sender_stats_get(const tw_sender *s, tw_sender_stats *out)
{
    *out = s->stats;
    out->clock_offset_ms = s->clock_offset_ms;
    out->endpoint_down = s->down;
}
