/* nginx_status.c — an example trailwatch plugin: nginx's connection and
 * request counters, from its stub_status page (ngx_http_stub_status_module).
 *
 * The page reads:
 *     Active connections: 291
 *     server accepts handled requests
 *      16630948 16630948 31070465
 *     Reading: 6 Writing: 179 Waiting: 106
 *
 * Metrics, every interval, with the dimension url (the page fetched):
 *   nginx_active                     open client connections          (Count)
 *   nginx_reading, nginx_writing,    connections reading a request,
 *   nginx_waiting                    writing a response, idle          (Count)
 *   nginx_accepts, nginx_handled,    connections accepted and handled, and
 *   nginx_requests                   requests, during the interval     (Count)
 * The last three are counters since nginx started; the plugin sends the
 * difference from the previous interval, so the first interval sends none
 * of them, and after an nginx restart (a counter went down) the new count.
 *
 * Configuration:
 *   [plugin nginx]
 *   library = nginx_status.so
 *   url     = http://127.0.0.1/nginx_status  ; optional; this is the default
 *   timeout = 5                              ; optional; seconds, at most 60
 * and in nginx:
 *   location = /nginx_status { stub_status; allow 127.0.0.1; deny all; }
 *
 * Built as an out-of-tree plugin is, with libcurl:
 *   cc -shared -fPIC $(pkg-config --cflags trailwatch-plugin libcurl) \
 *      nginx_status.c -o nginx_status.so $(pkg-config --libs libcurl)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <trailwatch/plugin.h>

#define DEFAULT_URL "http://127.0.0.1/nginx_status"
#define PAGE_MAX 4096 /* the page is ~110 bytes; anything this big is not it */

struct nginx_state {
    CURL *curl;    /* kept between intervals: the connection is reused */
    char url[1024];
    long timeout_ms;
    char page[PAGE_MAX];
    size_t page_len;
    bool page_too_long;
    bool have_previous; /* the counters below are from the last interval */
    uint64_t accepts, handled, requests;
};

static const char *const nginx_keys[] = {"url", "timeout", NULL};

/* "5", "2.5": seconds, more than 0 and at most 60. */
static int parse_timeout(const char *text, long *ms)
{
    char *end;
    errno = 0;
    double seconds = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(seconds > 0 && seconds <= 60))
        return -EINVAL;
    *ms = (long)(seconds * 1000);
    return 0;
}

/* libcurl hands the body over in pieces; keep them in state->page. */
static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
    struct nginx_state *s = arg;
    size_t n = size * count;
    if (n > sizeof s->page - 1 - s->page_len) {
        s->page_too_long = true;
        return 0; /* stops the transfer with CURLE_WRITE_ERROR */
    }
    memcpy(s->page + s->page_len, data, n);
    s->page_len += n;
    s->page[s->page_len] = '\0';
    return n;
}

static int nginx_init(trailwatch_host *host, const trailwatch_host_api *api, void **state)
{
    const char *url = api->config_get(host, "url");
    const char *timeout = api->config_get(host, "timeout");
    if (url == NULL)
        url = DEFAULT_URL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        api->log(host, TRAILWATCH_LOG_ERROR, "url: \"%.80s\" is not an http:// or https:// URL",
                 url);
        return -EINVAL;
    }
    struct nginx_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    if (snprintf(s->url, sizeof s->url, "%s", url) >= (int)sizeof s->url) {
        api->log(host, TRAILWATCH_LOG_ERROR, "url: longer than %zu characters", sizeof s->url - 1);
        free(s);
        return -EINVAL;
    }
    s->timeout_ms = 5000;
    if (timeout != NULL && parse_timeout(timeout, &s->timeout_ms) != 0) {
        api->log(host, TRAILWATCH_LOG_ERROR,
                 "timeout: \"%.40s\" is not a number of seconds between 0 and 60", timeout);
        free(s);
        return -EINVAL;
    }
    /* Reference-counted and thread-safe in libcurl >= 7.84; the agent
     * itself uses libcurl too. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->curl = curl_easy_init();
    if (s->curl == NULL) {
        curl_global_cleanup();
        free(s);
        return -ENOMEM;
    }
    curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    /* Threads and signals do not mix: without this, a DNS timeout would use
     * SIGALRM, in a process that is not ours to signal. */
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "trailwatch-nginx_status/1");
    *state = s;
    return 0;
}

/* The number after label in page ("Active connections: 291"). */
static int number_after(const char *page, const char *label, uint64_t *out)
{
    const char *p = strstr(page, label);
    if (p == NULL)
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p + strlen(label), &end, 10);
    if (errno != 0 || end == p + strlen(label))
        return -EINVAL;
    *out = v;
    return 0;
}

struct status {
    uint64_t active, accepts, handled, requests, reading, writing, waiting;
};

static int parse_page(const char *page, struct status *st)
{
    const char *counters = strstr(page, "server accepts handled requests");
    if (number_after(page, "Active connections:", &st->active) != 0 || counters == NULL ||
        sscanf(counters + strlen("server accepts handled requests"), "%" SCNu64 " %" SCNu64
               " %" SCNu64, &st->accepts, &st->handled, &st->requests) != 3 ||
        number_after(page, "Reading:", &st->reading) != 0 ||
        number_after(page, "Writing:", &st->writing) != 0 ||
        number_after(page, "Waiting:", &st->waiting) != 0)
        return -EINVAL;
    return 0;
}

static void emit(trailwatch_host *host, const trailwatch_host_api *api, const char *url,
                 const char *name, uint64_t value)
{
    trailwatch_dimension dimension = {.name = "url", .value = url};
    trailwatch_metric m = {.name = name, .unit = "Count", .value = (double)value,
                           .dimensions = &dimension, .dimension_count = 1};
    api->emit(host, &m);
}

/* A counter's increase since the last interval; after a restart of nginx
 * (it went down) everything counted since the restart. */
static uint64_t increase(uint64_t now, uint64_t before)
{
    return now >= before ? now - before : now;
}

/* On a worker thread: a blocking fetch is fine, bounded by the timeout. */
static int nginx_collect(void *state, trailwatch_host *host, const trailwatch_host_api *api)
{
    struct nginx_state *s = state;
    s->page_len = 0;
    s->page[0] = '\0';
    s->page_too_long = false;
    CURLcode rc = curl_easy_perform(s->curl);
    if (rc != CURLE_OK) {
        api->log(host, TRAILWATCH_LOG_WARNING, "%s: %s", s->url,
                 s->page_too_long ? "the page is too long for a stub_status page"
                                  : curl_easy_strerror(rc));
        return -EIO;
    }
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        api->log(host, TRAILWATCH_LOG_WARNING, "%s: HTTP status %ld (expected 200)", s->url,
                 code);
        return -EIO;
    }
    struct status st;
    if (parse_page(s->page, &st) != 0) {
        api->log(host, TRAILWATCH_LOG_WARNING,
                 "%s: not an nginx stub_status page (it starts \"%.40s\")", s->url, s->page);
        return -EINVAL;
    }
    emit(host, api, s->url, "nginx_active", st.active);
    emit(host, api, s->url, "nginx_reading", st.reading);
    emit(host, api, s->url, "nginx_writing", st.writing);
    emit(host, api, s->url, "nginx_waiting", st.waiting);
    if (s->have_previous) {
        emit(host, api, s->url, "nginx_accepts", increase(st.accepts, s->accepts));
        emit(host, api, s->url, "nginx_handled", increase(st.handled, s->handled));
        emit(host, api, s->url, "nginx_requests", increase(st.requests, s->requests));
    }
    s->accepts = st.accepts;
    s->handled = st.handled;
    s->requests = st.requests;
    s->have_previous = true;
    return 0;
}

static void nginx_shutdown(void *state)
{
    struct nginx_state *s = state;
    curl_easy_cleanup(s->curl);
    curl_global_cleanup();
    free(s);
}

static const trailwatch_plugin nginx_status_plugin = {
    .abi_version = TRAILWATCH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(trailwatch_plugin),
    .name = "nginx_status",
    .description = "nginx connections and requests from its stub_status page",
    .config_keys = nginx_keys,
    .init = nginx_init,
    .collect = nginx_collect,
    .shutdown = nginx_shutdown,
};

TRAILWATCH_PLUGIN_DEFINE(nginx_status_plugin)
