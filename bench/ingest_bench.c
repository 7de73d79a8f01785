/* ingest_bench.c — the running collector over HTTP: idle RSS, PutLogEvents
 * ingestion with concurrent clients, FilterLogEvents over what they wrote.
 *
 *   ingest_bench [--events N] [--clients N] [--batch N] [--size BYTES]
 *                [--collector PATH] [--keep DIR]
 *       (defaults: 1000000 events, 4 clients, at most 10000 events per batch,
 *        messages of ~120 bytes, the trailwatch-collector next to this
 *        program, a temporary directory removed at the end)
 *
 * Starts trailwatch-collector as a child (listen 127.0.0.1:0, one [user],
 * data in DIR/data; its log goes to our stderr, its URL is read from its
 * "listening on URL" line), then:
 *   1. its VmRSS after one idle second;
 *   2. PutLogEvents (JSON 1.1, SigV4 per request as a real client signs): the
 *      clients, each a thread with its own libcurl handle (keep-alive), post
 *      pre-built batches of nginx-like lines (timestamps sorted, within the
 *      last hour) to a stream each. A batch holds at most --batch events and
 *      at most 1,048,576 bytes counting 26 per event (AWS's limit: 10,000
 *      events of 120 bytes do not fit, so such batches hold ~7,300). Prints
 *      events/s, MiB/s of message bytes, batches/s, request latency, the
 *      collector's CPU (utime+stime) and its VmRSS (sampled) and VmHWM;
 *   3. FilterLogEvents over the group: a term in 1% of the lines, a term in
 *      none (a full scan), a space-delimited pattern on the status field;
 *      every page followed through nextToken; matches are compared with the
 *      counts taken while the lines were generated;
 *   4. a summary next to the targets of issue 3.
 * Any answer other than 200 (or a rejectedLogEventsInfo) stops the bench
 * with the answer shown. Not a test: nothing else is asserted. */
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_collector.h"
#include "buf.h"
#include "fsutil.h"
#include "mem.h"
#include "sigv4.h"
#include "timefmt.h"

#define ACCESS_KEY_ID "AKIDINGESTBENCH00001"
#define SECRET_ACCESS_KEY "ingest-bench-secret-0123456789abcdefghij"
#define REGION "us-east-1"
#define TARGET_PREFIX "Logs_20140328."
#define MAX_BATCH_BYTES 1048576 /* Σ (message + 26), PutLogEvents */
#define EVENT_OVERHEAD 26
#define TERM_1PCT "checkout"
#define TERM_NONE "NoSuchTermXyzzy"
#define DELIMITED "[ip, ident, user, timestamp, request, status=5*, bytes, ...]"
#define TARGET_EVENTS_S 200000.0
#define TARGET_IDLE_RSS_MIB 32.0

typedef struct options {
    long events;
    int clients;
    int batch;
    int size;
    const char *collector;
    const char *keep;
} options;

typedef struct batch {
    char *body;
    size_t len;
    size_t events;
    uint64_t message_bytes;
} batch;

typedef struct bench bench;

typedef struct client {
    bench *b;
    int index;
    char stream[32];
    batch *batches;
    size_t n_batches;
    double *latency_ms; /* one per batch */
    unsigned seed;
} client;

/* What the generator put in the lines: the filters' expected matches. */
typedef struct expected {
    long term, server_errors;
    uint64_t message_bytes;
} expected;

struct bench {
    options opt;
    char dir[PATH_MAX];
    char group[64];
    tw_bench_collector collector;
    client *clients;
    expected want;
};

/* One connection's worth of client state. */
typedef struct http_client {
    bench *b;
    CURL *curl;
    tw_sigv4_key_cache *cache;
    tw_buf response;
    char error[CURL_ERROR_SIZE];
} http_client;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path);
}

/* The temporary directory goes; a --keep DIR stays. */
static void remove_dir(const bench *b)
{
    if (b->opt.keep == NULL)
        nftw(b->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    else
        printf("kept %s (group %s)\n", b->dir, b->group);
}

/* Stops everything: the collector first, so it never outlives the bench. */
static void die(bench *b, const char *fmt, ...) TW_PRINTF(2, 3);
static void die(bench *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ingest_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (b != NULL)
        tw_bench_collector_stop(&b->collector);
    if (b != NULL && b->dir[0] != '\0')
        remove_dir(b);
    exit(1);
}

/* This process: the clients (signing, curl, JSON). */
static double own_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
           + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- HTTP: one signed JSON 1.1 call ---- */

static size_t collect(char *data, size_t size, size_t count, void *arg)
{
    tw_buf_append(arg, data, size * count);
    return size * count;
}

static void http_client_init(http_client *c, bench *b)
{
    memset(c, 0, sizeof *c);
    c->b = b;
    c->curl = curl_easy_init();
    c->cache = tw_sigv4_key_cache_new(4);
    if (c->curl == NULL)
        die(b, "curl_easy_init failed");
    curl_easy_setopt(c->curl, CURLOPT_URL, b->collector.url);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->response);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->error);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 300L);
}

static void http_client_free(http_client *c)
{
    curl_easy_cleanup(c->curl);
    tw_sigv4_key_cache_free(c->cache);
    tw_buf_free(&c->response);
}

/* Signs (the payload hash included, as the SDKs do) and posts one call;
 * returns the HTTP status with the answer in c->response, *ms the round
 * trip (curl only). A transport failure stops the bench. */
static long call(http_client *c, const char *operation, const char *body, size_t len, double *ms)
{
    char target[96];
    snprintf(target, sizeof target, TARGET_PREFIX "%s", operation);
    tw_sigv4_header headers[] = {
        tw_sigv4_header_of("Host", c->b->collector.host),
        tw_sigv4_header_of("Content-Type", "application/x-amz-json-1.1"),
        tw_sigv4_header_of("X-Amz-Target", target),
    };
    tw_sigv4_request req = {.method = "POST", .method_len = 4, .path = "/", .path_len = 1,
                            .headers = headers, .header_count = 3, .body = body,
                            .body_len = len};
    tw_sigv4_sign_params params = {.access_key_id = ACCESS_KEY_ID,
                                   .secret_access_key = SECRET_ACCESS_KEY,
                                   .region = REGION, .service = "logs",
                                   .time_ms = tw_time_now_ms(), .cache = c->cache};
    tw_sigv4_signed sig;
    tw_err err;
    if (tw_sigv4_sign_headers(&req, &params, &sig, &err) != 0)
        die(c->b, "signing %s: %s", operation, err.msg);
    struct curl_slist *list = NULL;
    tw_buf line = TW_BUF_INIT;
    for (size_t i = 0; i < 3; i++) {
        tw_buf_reset(&line);
        tw_buf_printf(&line, "%s: %s", headers[i].name, headers[i].value);
        list = curl_slist_append(list, tw_buf_cstr(&line));
    }
    for (size_t i = 0; i < sig.header_count; i++) {
        tw_buf_reset(&line);
        tw_buf_printf(&line, "%s: %s", sig.headers[i].name, sig.headers[i].value);
        list = curl_slist_append(list, tw_buf_cstr(&line));
    }
    list = curl_slist_append(list, "Expect:"); /* no 100-continue round trip */
    tw_buf_free(&line);
    tw_sigv4_signed_free(&sig);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    tw_buf_reset(&c->response);
    double start = now_s();
    CURLcode rc = curl_easy_perform(c->curl);
    *ms = (now_s() - start) * 1000.0;
    curl_slist_free_all(list);
    if (rc != CURLE_OK)
        die(c->b, "%s to %s: %s", operation, c->b->collector.url,
            c->error[0] ? c->error : curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* A call that must answer 200; takes input's reference and returns the
 * parsed answer (the caller decrefs it). */
static json_t *call_ok(http_client *c, const char *operation, json_t *input)
{
    char *body = json_dumps(input, JSON_COMPACT);
    json_decref(input);
    double ms;
    long status = call(c, operation, body, strlen(body), &ms);
    free(body);
    if (status != 200)
        die(c->b, "%s answered %ld: %s", operation, status, tw_buf_cstr(&c->response));
    json_t *answer = json_loadb(c->response.data, c->response.len, 0, NULL);
    if (answer == NULL)
        die(c->b, "%s answered 200 with something that is not JSON: %.200s", operation,
            tw_buf_cstr(&c->response));
    return answer;
}

/* ---- nginx-like lines ---- */

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

static const char *const user_agents[] = {
    "curl/7.88.1",
    "Wget/1.21.3",
    "okhttp/4.12.0",
    "kube-probe/1.28",
    "Prometheus/2.47.0",
    "Go-http-client/1.1",
    "ELB-HealthChecker/2.0",
    "python-requests/2.31.0",
    "facebookexternalhit/1.1",
    "Slackbot-LinkExpanding 1.0",
    "nginx-ingress-controller/v1.9.4",
    "Apache-HttpClient/4.5.14 (Java/17.0.8)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7)",
    "aws-sdk-go-v2/1.21.2 os/linux lang/go#1.21.3",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
};
#define N_AGENTS (sizeof user_agents / sizeof user_agents[0])

static const char *const referers[] = {"https://shop.example.com/", "https://www.google.com/",
                                       "https://shop.example.com/cart"};

static int pick_status(unsigned r)
{
    unsigned x = r % 1000;
    static const int server_errors[] = {500, 502, 503, 504};
    if (x < 20)
        return server_errors[x % 4];
    return x < 60 ? 404 : x < 90 ? 304 : x < 110 ? 301 : x < 120 ? 401 : 200;
}

static void append_request(tw_buf *line, long i, unsigned r)
{
    static const char *const methods[] = {"GET", "GET", "GET", "POST", "GET", "PUT", "GET",
                                          "DELETE"};
    tw_buf_printf(line, "\"%s ", methods[r % 8]);
    if (i % 100 == 37) /* the 1% term */
        tw_buf_puts(line, "/" TERM_1PCT "/confirm");
    else
        switch ((r >> 4) % 6) {
        case 0: tw_buf_printf(line, "/api/v1/items/%u", r % 100000); break;
        case 1: tw_buf_printf(line, "/api/v1/users/%u/orders", r % 5000); break;
        case 2: tw_buf_printf(line, "/static/js/app.%06x.js", r % 0xffffff); break;
        case 3: tw_buf_printf(line, "/images/products/%u.jpg", r % 20000); break;
        case 4: tw_buf_printf(line, "/search?q=item%u&page=%u", r % 900, r % 7 + 1); break;
        default: tw_buf_puts(line, "/"); break;
        }
    tw_buf_puts(line, " HTTP/1.1\"");
}

/* Line i of a client: combined log format; the referer and user agent are
 * picked so the line comes close to the target size (±15 bytes). */
static void make_line(tw_buf *line, long i, int64_t time_ms, int size, unsigned *seed)
{
    unsigned r = next_random(seed);
    time_t t = (time_t)(time_ms / 1000);
    struct tm tm;
    char when[40];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    tw_buf_reset(line);
    if (r % 3)
        tw_buf_printf(line, "10.%u.%u.%u", r % 8, (r >> 3) % 256, (r >> 11) % 254 + 1);
    else
        tw_buf_printf(line, "203.0.113.%u", (r >> 5) % 254 + 1);
    tw_buf_printf(line, " - %s [%s] ", r % 17 == 0 ? "alice" : "-", when);
    append_request(line, i, r);
    int status = pick_status(next_random(seed));
    tw_buf_printf(line, " %d %u", status, status == 304 ? 0 : (r >> 2) % 40000);
    long room = (long)size + (long)(r % 31) - 15 - (long)line->len - 6; /* ` "" ""` */
    if (room < 2)
        return;
    const char *referer = (r >> 6) % 3 == 0 && room > 40 ? referers[(r >> 9) % 3] : "-";
    room -= (long)strlen(referer);
    const char *agent = "-";
    for (size_t k = 0; k < N_AGENTS; k++) /* the longest that fits */
        if ((long)strlen(user_agents[k]) <= room && strlen(user_agents[k]) > strlen(agent))
            agent = user_agents[k];
    tw_buf_printf(line, " \"%s\" \"%s\"", referer, agent);
}

/* ---- batches ---- */

static void add_batch(client *c, json_t *events, uint64_t message_bytes)
{
    bench *b = c->b;
    json_t *input = json_pack("{s:s, s:s, s:O}", "logGroupName", b->group, "logStreamName",
                              c->stream, "logEvents", events);
    c->batches = tw_realloc(c->batches, (c->n_batches + 1) * sizeof *c->batches);
    batch *out = &c->batches[c->n_batches++];
    out->body = json_dumps(input, JSON_COMPACT);
    out->len = strlen(out->body);
    out->events = json_array_size(events);
    out->message_bytes = message_bytes;
    json_decref(input);
    json_array_clear(events);
}

/* Builds the client's batches: its share of the events, timestamps spread
 * evenly (sorted) over the hour before now, batches cut at --batch events
 * or at AWS's 1 MiB, whichever comes first. */
static void build_batches(client *c, long count, int64_t now_ms)
{
    bench *b = c->b;
    json_t *events = json_array();
    tw_buf line = TW_BUF_INIT;
    uint64_t bytes = 0, message_bytes = 0;
    int64_t first = now_ms - 55 * 60 * INT64_C(1000), span = 50 * 60 * INT64_C(1000);
    for (long i = 0; i < count; i++) {
        int64_t ts = first + (int64_t)((double)span * (double)i / (double)count);
        make_line(&line, i, ts, b->opt.size, &c->seed);
        if (json_array_size(events) == (size_t)b->opt.batch
            || bytes + line.len + EVENT_OVERHEAD > MAX_BATCH_BYTES) {
            add_batch(c, events, message_bytes);
            bytes = message_bytes = 0;
        }
        json_array_append_new(events, json_pack("{s:I, s:s%}", "timestamp", (json_int_t)ts,
                                                "message", line.data, line.len));
        bytes += line.len + EVENT_OVERHEAD;
        message_bytes += line.len;
        b->want.message_bytes += line.len;
        if (memmem(line.data, line.len, TERM_1PCT, strlen(TERM_1PCT)) != NULL)
            b->want.term++;
        const char *status = strstr(line.data, "\" ");
        if (status != NULL && status[2] == '5')
            b->want.server_errors++;
    }
    if (json_array_size(events) > 0)
        add_batch(c, events, message_bytes);
    json_decref(events);
    tw_buf_free(&line);
}

/* ---- phases ---- */

static void create_group_and_streams(bench *b)
{
    http_client h;
    http_client_init(&h, b);
    json_decref(call_ok(&h, "CreateLogGroup", json_pack("{s:s}", "logGroupName", b->group)));
    for (int i = 0; i < b->opt.clients; i++)
        json_decref(call_ok(&h, "CreateLogStream",
                            json_pack("{s:s, s:s}", "logGroupName", b->group, "logStreamName",
                                      b->clients[i].stream)));
    http_client_free(&h);
}

static void *run_client(void *arg)
{
    client *c = arg;
    http_client h;
    http_client_init(&h, c->b);
    for (size_t i = 0; i < c->n_batches; i++) {
        long status = call(&h, "PutLogEvents", c->batches[i].body, c->batches[i].len,
                           &c->latency_ms[i]);
        if (status != 200 || strstr(tw_buf_cstr(&h.response), "rejectedLogEventsInfo") != NULL)
            die(c->b, "PutLogEvents (client %d, batch %zu of %zu events) answered %ld: %.2000s",
                c->index, i, c->batches[i].events, status, tw_buf_cstr(&h.response));
    }
    http_client_free(&h);
    return NULL;
}

static int compare_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

typedef struct ingest_result {
    double events_s, mib_s, batches_s, p50_ms, p99_ms, max_ms, cpu_pct, own_cpu_pct, other_pct;
    double rss_max_mib, hwm_mib, rss_after_mib, seconds;
    size_t batches;
} ingest_result;

static void ingest(bench *b, ingest_result *out)
{
    size_t n_batches = 0;
    for (int i = 0; i < b->opt.clients; i++)
        n_batches += b->clients[i].n_batches;
    pthread_t *threads = tw_calloc((size_t)b->opt.clients, sizeof *threads);
    tw_bench_rss_sampler sampler;
    double cpu0 = tw_bench_proc_cpu_s(b->collector.pid), own0 = own_cpu_s();
    double machine0 = tw_bench_machine_cpu_s();
    tw_bench_rss_sampler_start(&sampler, b->collector.pid);
    double start = now_s();
    for (int i = 0; i < b->opt.clients; i++)
        pthread_create(&threads[i], NULL, run_client, &b->clients[i]);
    for (int i = 0; i < b->opt.clients; i++)
        pthread_join(threads[i], NULL);
    double seconds = now_s() - start;
    out->rss_max_mib = tw_bench_rss_sampler_stop(&sampler);
    out->cpu_pct = (tw_bench_proc_cpu_s(b->collector.pid) - cpu0) / seconds * 100.0;
    out->own_cpu_pct = (own_cpu_s() - own0) / seconds * 100.0;
    out->other_pct = (tw_bench_machine_cpu_s() - machine0) / seconds * 100.0 - out->cpu_pct
                     - out->own_cpu_pct;
    out->hwm_mib = tw_bench_proc_mib(b->collector.pid, "VmHWM");
    out->rss_after_mib = tw_bench_proc_mib(b->collector.pid, "VmRSS");
    double *all = tw_calloc(n_batches, sizeof *all);
    size_t k = 0;
    for (int i = 0; i < b->opt.clients; i++)
        for (size_t j = 0; j < b->clients[i].n_batches; j++)
            all[k++] = b->clients[i].latency_ms[j];
    qsort(all, n_batches, sizeof *all, compare_double);
    out->seconds = seconds;
    out->batches = n_batches;
    out->events_s = (double)b->opt.events / seconds;
    out->mib_s = (double)b->want.message_bytes / (1024.0 * 1024.0) / seconds;
    out->batches_s = (double)n_batches / seconds;
    out->p50_ms = all[n_batches / 2];
    out->p99_ms = all[n_batches * 99 / 100 < n_batches ? n_batches * 99 / 100 : n_batches - 1];
    out->max_ms = all[n_batches - 1];
    free(all);
    free(threads);
}

typedef struct filter_result {
    const char *what, *pattern;
    long expected, matches, pages;
    double seconds;
} filter_result;

/* Every page of a FilterLogEvents over the whole group. */
static void filter(bench *b, http_client *h, filter_result *f)
{
    char *token = NULL;
    double start = now_s();
    do {
        json_t *input = json_pack("{s:s, s:s}", "logGroupName", b->group, "filterPattern",
                                  f->pattern);
        if (token != NULL)
            json_object_set_new(input, "nextToken", json_string(token));
        json_t *answer = call_ok(h, "FilterLogEvents", input);
        free(token);
        token = NULL;
        f->pages++;
        f->matches += (long)json_array_size(json_object_get(answer, "events"));
        const char *next = json_string_value(json_object_get(answer, "nextToken"));
        if (next != NULL)
            token = tw_strdup(next);
        json_decref(answer);
    } while (token != NULL);
    f->seconds = now_s() - start;
}

/* ---- setup and report ---- */

static void usage(void)
{
    fprintf(stderr, "usage: ingest_bench [--events N] [--clients N] [--batch N] [--size BYTES]\n"
                    "                    [--collector PATH] [--keep DIR]\n");
    exit(2);
}

static void parse_options(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"events", required_argument, NULL, 'e'}, {"clients", required_argument, NULL, 'c'},
        {"batch", required_argument, NULL, 'b'},  {"size", required_argument, NULL, 's'},
        {"collector", required_argument, NULL, 'C'}, {"keep", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (options){.events = 1000000, .clients = 4, .batch = 10000, .size = 120};
    int opt;
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (opt) {
        case 'e': o->events = atol(optarg); break;
        case 'c': o->clients = atoi(optarg); break;
        case 'b': o->batch = atoi(optarg); break;
        case 's': o->size = atoi(optarg); break;
        case 'C': o->collector = optarg; break;
        case 'k': o->keep = optarg; break;
        default: usage();
        }
    }
    if (optind != argc || o->events < 1 || o->clients < 1 || o->clients > 64 || o->batch < 1
        || o->batch > 10000 || o->size < 40 || o->size > 8192 || o->events < o->clients)
        usage();
}

/* The collector next to this program (build/bin). */
static void find_collector(options *o, char *buf, size_t size)
{
    if (o->collector != NULL)
        return;
    ssize_t n = readlink("/proc/self/exe", buf, size - 32);
    if (n <= 0) {
        fprintf(stderr, "ingest_bench: cannot find myself; give --collector PATH\n");
        exit(2);
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    strcpy(slash + 1, "trailwatch-collector");
    o->collector = buf;
}

static void make_dir(bench *b)
{
    if (b->opt.keep != NULL) {
        if (mkdir(b->opt.keep, 0700) != 0 && errno != EEXIST)
            die(NULL, "%s: %s", b->opt.keep, strerror(errno));
        if (realpath(b->opt.keep, b->dir) == NULL)
            die(NULL, "%s: %s", b->opt.keep, strerror(errno));
        return;
    }
    tw_err err;
    if (tw_make_temp_dir(NULL, "tw-ingest-bench", b->dir, sizeof b->dir, &err) != 0)
        die(NULL, "%s", err.msg);
}

static void prepare(bench *b)
{
    b->clients = tw_calloc((size_t)b->opt.clients, sizeof *b->clients);
    int64_t now_ms = tw_time_now_ms();
    /* A new group per run, so --keep DIR can be run again. */
    snprintf(b->group, sizeof b->group, "/bench/ingest-%" PRId64, now_ms / 1000);
    double start = now_s();
    size_t n_batches = 0;
    for (int i = 0; i < b->opt.clients; i++) {
        client *c = &b->clients[i];
        c->b = b;
        c->index = i;
        c->seed = 7919u * (unsigned)(i + 1);
        snprintf(c->stream, sizeof c->stream, "client-%d", i);
        long count = b->opt.events / b->opt.clients + (i < b->opt.events % b->opt.clients);
        build_batches(c, count, now_ms);
        c->latency_ms = tw_calloc(c->n_batches, sizeof *c->latency_ms);
        n_batches += c->n_batches;
    }
    printf("prepared %ld events in %zu batches (%.0f events per batch, messages %.1f bytes on "
           "average) in %.1f s\n",
           b->opt.events, n_batches, (double)b->opt.events / (double)n_batches,
           (double)b->want.message_bytes / (double)b->opt.events, now_s() - start);
}

static void free_clients(bench *b)
{
    for (int i = 0; i < b->opt.clients; i++) {
        client *c = &b->clients[i];
        for (size_t j = 0; j < c->n_batches; j++)
            free(c->batches[j].body);
        free(c->batches);
        free(c->latency_ms);
    }
    free(b->clients);
}

static void print_ingest(const bench *b, const ingest_result *r)
{
    printf("PutLogEvents, %d clients, %zu batches, %ld events, %.1f MiB of messages:\n",
           b->opt.clients, r->batches, b->opt.events,
           (double)b->want.message_bytes / (1024.0 * 1024.0));
    printf("  %.2f s: %.0f events/s, %.1f MiB/s, %.1f batches/s\n", r->seconds, r->events_s,
           r->mib_s, r->batches_s);
    printf("  request latency: median %.1f ms, p99 %.1f ms, max %.1f ms\n", r->p50_ms, r->p99_ms,
           r->max_ms);
    printf("  collector CPU %.0f%% of one core; the clients %.0f%%; other processes %.0f%% "
           "(of %ld cores)\n",
           r->cpu_pct, r->own_cpu_pct, r->other_pct, sysconf(_SC_NPROCESSORS_ONLN));
    if (r->other_pct > 20)
        printf("  NOTE: other processes used %.0f%% of a core during the run: the figures are "
               "low\n",
               r->other_pct);
    printf("  collector VmRSS max %.1f MiB (sampled every 20 ms), VmHWM %.1f MiB, VmRSS after "
           "%.1f MiB\n",
           r->rss_max_mib, r->hwm_mib, r->rss_after_mib);
}

static void print_filter(const bench *b, const filter_result *f)
{
    printf("  %-34s %6.2f s  %9.0f events scanned/s  %6ld matches (expected %ld)  %3ld "
           "page%s\n",
           f->what, f->seconds, (double)b->opt.events / f->seconds, f->matches, f->expected,
           f->pages, f->pages == 1 ? "" : "s");
}

static void db_size(const bench *b, char *out, size_t size)
{
    char path[PATH_MAX + 32];
    struct stat st;
    double mib = 0;
    static const char *const names[] = {"collector.db", "collector.db-wal"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/data/%s", b->dir, names[i]);
        if (stat(path, &st) == 0)
            mib += (double)st.st_size / (1024.0 * 1024.0);
    }
    snprintf(out, size, "%.0f MiB", mib);
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    char self[PATH_MAX];
    setvbuf(stdout, NULL, _IOLBF, 0); /* in order with the collector's log */
    parse_options(argc, argv, &b.opt);
    find_collector(&b.opt, self, sizeof self);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    make_dir(&b);
    prepare(&b);

    tw_err err;
    if (tw_bench_collector_start(&b.collector, b.opt.collector, b.dir, REGION, ACCESS_KEY_ID,
                                 SECRET_ACCESS_KEY, &err)
        != 0)
        die(&b, "%s", err.msg);
    printf("collector %s (pid %d) at %s, data in %s/data\n", b.opt.collector,
           (int)b.collector.pid, b.collector.url, b.dir);
    sleep(1);
    double idle_mib = tw_bench_proc_mib(b.collector.pid, "VmRSS");
    printf("idle VmRSS after 1 s: %.1f MiB\n", idle_mib);

    create_group_and_streams(&b);
    ingest_result in;
    ingest(&b, &in);
    print_ingest(&b, &in);

    filter_result filters[] = {
        {"term in 1% (" TERM_1PCT ")", TERM_1PCT, b.want.term, 0, 0, 0},
        {"term in none (full scan)", TERM_NONE, 0, 0, 0, 0},
        {"space-delimited, status=5*", DELIMITED, b.want.server_errors, 0, 0, 0},
    };
    http_client h;
    http_client_init(&h, &b);
    tw_bench_rss_sampler sampler;
    tw_bench_rss_sampler_start(&sampler, b.collector.pid);
    printf("FilterLogEvents over the %ld events of %s, every page:\n", b.opt.events, b.group);
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        filter(&b, &h, &filters[i]);
        print_filter(&b, &filters[i]);
    }
    printf("  pattern of the last: %s\n", DELIMITED);
    double filter_rss = tw_bench_rss_sampler_stop(&sampler);
    http_client_free(&h);
    double hwm = tw_bench_proc_mib(b.collector.pid, "VmHWM");
    char size[32];
    db_size(&b, size, sizeof size);

    printf("\n== summary (issue 3 targets; %ld CPUs) ==\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("  PutLogEvents ingestion   %9.0f events/s  %5.1f MiB/s   target >= 200000 events/s  "
           "%s\n",
           in.events_s, in.mib_s, in.events_s >= TARGET_EVENTS_S ? "met" : "MISSED");
    printf("  CPU while ingesting      collector %.0f%%, clients %.0f%%, other processes %.0f%% "
           "(100%% = one core)\n",
           in.cpu_pct, in.own_cpu_pct, in.other_pct);
    printf("  idle RSS                 %9.1f MiB                  target <= 32 MiB            "
           "%s\n",
           idle_mib, idle_mib <= TARGET_IDLE_RSS_MIB ? "met" : "MISSED");
    printf("  RSS under load           %9.1f MiB ingesting, %.1f MiB filtering (VmHWM %.1f MiB)\n",
           in.rss_max_mib, filter_rss, hwm);
    printf("  PutLogEvents latency     median %.1f ms, p99 %.1f ms (batches of %.0f events)\n",
           in.p50_ms, in.p99_ms, (double)b.opt.events / (double)in.batches);
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        printf("  FilterLogEvents %-27s %6.2f s (%.0f events/s, %ld matches, %ld page%s)\n",
               filters[i].what, filters[i].seconds, (double)b.opt.events / filters[i].seconds,
               filters[i].matches, filters[i].pages, filters[i].pages == 1 ? "" : "s");
    printf("  LookupEvents p99         see lookup_bench        target <= 20 ms\n");
    printf("  database                 %s for %ld events\n", size, b.opt.events);

    int status = tw_bench_collector_stop(&b.collector);
    if (status != 0)
        fprintf(stderr, "ingest_bench: the collector ended with wait status 0x%x\n", status);
    remove_dir(&b);
    free_clients(&b);
    curl_global_cleanup();
    return 0;
}
