/* lookup_bench.c — LookupEvents latency with a large event history.
 *
 *   lookup_bench [EVENTS] [DIR] [QUERIES]
 *       (defaults: 1000000 events, a temporary directory, 200 per kind)
 *
 * Fills DIR/collector.db with EVENTS CloudTrail records (~1 KB each, like
 * the collector writes: 40 event names, 12 users, 24 access keys, one log
 * group of 2,000 per event, 60% read-only, 5% data events, 10% in a second
 * region, spread over the last 89 days), then runs LookupEvents pages as
 * the handler does (tw_lookup_parse on the loop, tw_lookup_run as a store
 * read job) one at a time and prints the median and p99 latency per kind of
 * query and over all of them: the time from submitting the read job to its
 * done callback on the loop, i.e. what a request waits for the store.
 * Reopen an existing DIR (second run) to skip the fill; point a collector's
 * data_dir at it to measure over HTTP. Not a test: nothing is asserted. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit_ingest.h"
#include "event_history.h"
#include "fsutil.h"
#include "lookup_events.h"
#include "services.h"
#include "timefmt.h"

#define FILL_BATCH 10000
#define DAY_MS (86400 * INT64_C(1000))
#define N_NAMES 40
#define N_USERS 12
#define N_KEYS 24
#define N_GROUPS 2000

static const tw_migration *const lists[] = {tw_event_history_migrations,
                                            tw_audit_ingest_migrations, NULL};

typedef struct bench {
    uv_loop_t loop;
    tw_store *store;
    int64_t now_ms;
    long events;
    long next; /* fill: next event number */
    int pending;
    unsigned seed;
} bench;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

static void event_name(unsigned n, char *out, size_t size)
{
    static const char *const verbs[] = {"Create", "Delete", "Describe", "Put", "Get",
                                        "List",   "Tag",    "Untag"};
    static const char *const nouns[] = {"LogGroup", "LogStream", "RetentionPolicy", "Trail",
                                        "MetricAlarm"};
    snprintf(out, size, "%s%s", verbs[n % 8], nouns[(n / 8) % 5]);
}

/* One realistic record for event i (about 1 KB, as tw_event_history_build
 * writes for a Logs call). */
static int insert_event(tw_db *db, bench *b, long i, unsigned *seed)
{
    unsigned r = next_random(seed);
    char name[40], user[16], key[24], id[40], arn[160], record[2048], when[TW_ISO8601_SIZE];
    /* Skewed: low names are common, high ones rare. */
    event_name((r % N_NAMES) * (r % N_NAMES) / N_NAMES, name, sizeof name);
    snprintf(user, sizeof user, "user%u", (r >> 3) % N_USERS);
    snprintf(key, sizeof key, "AKIDBENCH%08u", (r >> 5) % N_KEYS);
    snprintf(id, sizeof id, "%08lx-0000-4000-8000-%012lx", (unsigned long)i, (unsigned long)r);
    const char *region = r % 10 == 0 ? "eu-west-2" : "us-east-1";
    snprintf(arn, sizeof arn, "arn:aws:logs:%s:123456789012:log-group:/bench/group-%u:*", region,
             (r >> 7) % N_GROUPS);
    int64_t time_ms = b->now_ms - 89 * DAY_MS + (89 * DAY_MS / b->events) * i;
    time_ms -= time_ms % 1000;
    tw_time_format_iso8601(time_ms, when);
    bool read_only = strncmp(name, "Describe", 8) == 0 || strncmp(name, "Get", 3) == 0
                     || strncmp(name, "List", 4) == 0 || r % 10 < 3;
    bool data = r % 20 == 7;
    snprintf(record, sizeof record,
             "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"
             "\"AIDABENCH%u\",\"arn\":\"arn:aws:iam::123456789012:user/%s\",\"accountId\":"
             "\"123456789012\",\"accessKeyId\":\"%s\",\"userName\":\"%s\"},\"eventTime\":\"%s\","
             "\"eventSource\":\"logs.amazonaws.com\",\"eventName\":\"%s\",\"awsRegion\":\"%s\","
             "\"sourceIPAddress\":\"192.0.2.%u\",\"userAgent\":\"aws-cli/2.9.19 Python/3.11.2 "
             "Linux/6.1.0 source/x86_64.debian.12 prompt/off command/logs.create-log-group\","
             "\"requestParameters\":{\"logGroupName\":\"/bench/group-%u\"},"
             "\"responseElements\":null,\"requestID\":\"%s\",\"eventID\":\"%s\",\"readOnly\":%s,"
             "\"resources\":[{\"ARN\":\"%s\",\"accountId\":\"123456789012\",\"type\":"
             "\"AWS::Logs::LogGroup\"}],\"eventType\":\"AwsApiCall\",\"managementEvent\":%s,"
             "\"recipientAccountId\":\"123456789012\",\"eventCategory\":\"%s\"}",
             (r >> 3) % N_USERS, user, key, user, when, name, region, r % 250,
             (r >> 7) % N_GROUPS, id, id, read_only ? "true" : "false", arn,
             data ? "false" : "true", data ? "Data" : "Management");
    json_t *resources = json_pack("[{s:s, s:s, s:s}]", "ARN", arn, "accountId", "123456789012",
                                  "type", "AWS::Logs::LogGroup");
    tw_event_row row = {
        .region = region,
        .time_ms = time_ms,
        .category = data ? "Data" : "Management",
        .lookup = !data,
        .event_id = id,
        .event_name = name,
        .event_source = "logs.amazonaws.com",
        .username = user,
        .access_key_id = key,
        .read_only = read_only ? "true" : "false",
        .resources = resources,
        .record = record,
        .record_len = strlen(record),
    };
    int rc = tw_event_history_insert(db, &row, NULL);
    json_decref(resources);
    return rc;
}

typedef struct fill_job {
    bench *b;
    long first, count;
} fill_job;

static int fill_fn(tw_db *db, void *arg)
{
    fill_job *j = arg;
    unsigned seed = (unsigned)j->first * 2654435761u;
    for (long i = j->first; i < j->first + j->count; i++)
        if (insert_event(db, j->b, i, &seed) < 0)
            return -EIO;
    return 0;
}

static void fill_done(void *arg, int status)
{
    fill_job *j = arg;
    if (status != 0)
        fprintf(stderr, "lookup_bench: a fill job failed (%d)\n", status);
    j->b->pending--;
    free(j);
}

static void fill(bench *b)
{
    double start = now_s();
    for (long i = 0; i < b->events; i += FILL_BATCH) {
        fill_job *j = malloc(sizeof *j);
        *j = (fill_job){b, i, b->events - i < FILL_BATCH ? b->events - i : FILL_BATCH};
        b->pending++;
        tw_store_write(b->store, fill_fn, fill_done, j);
        while (b->pending > 4)
            uv_run(&b->loop, UV_RUN_ONCE);
    }
    while (b->pending > 0)
        uv_run(&b->loop, UV_RUN_ONCE);
    double elapsed = now_s() - start;
    printf("filled %ld events in %.1f s (%.0f events/s)\n", b->events, elapsed,
           (double)b->events / elapsed);
}

/* ---- queries ---- */

typedef struct lookup_job {
    tw_lookup_query query;
    json_t *events;
    char *token;
    int status;
    bool done;
} lookup_job;

static int lookup_fn(tw_db *db, void *arg)
{
    lookup_job *j = arg;
    return tw_lookup_run(db, &j->query, j->events, &j->token);
}

static void lookup_done(void *arg, int status)
{
    lookup_job *j = arg;
    j->status = status;
    j->done = true;
}

/* One LookupEvents page for input: its latency in ms; *token (may be NULL)
 * gets the NextToken. */
static double one_lookup(bench *b, const char *input, size_t *n_events, char **token)
{
    tw_call call;
    memset(&call, 0, sizeof call);
    call.service = &tw_cloudtrail_service;
    call.region = "us-east-1";
    call.now_ms = b->now_ms;
    call.input = json_loads(input, 0, NULL);
    lookup_job j = {.events = json_array()};
    double start = now_s();
    if (tw_lookup_parse(&call, 90, &j.query) != 0) {
        fprintf(stderr, "lookup_bench: %s refused: %s\n", input, tw_buf_cstr(&call.error.message));
        exit(1);
    }
    tw_store_read(b->store, lookup_fn, lookup_done, &j);
    while (!j.done)
        uv_run(&b->loop, UV_RUN_ONCE);
    double ms = (now_s() - start) * 1000.0;
    if (j.status != 0)
        fprintf(stderr, "lookup_bench: %s failed\n", input);
    *n_events = json_array_size(j.events);
    if (token != NULL)
        *token = j.token;
    else
        free(j.token);
    json_decref(j.events);
    json_decref(call.input);
    tw_buf_free(&call.error.message);
    return ms;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n, double avg_events)
{
    qsort(ms, (size_t)n, sizeof *ms, compare_double);
    printf("  %-38s median %6.2f ms  p99 %6.2f ms  max %6.2f ms  (%.1f events/page)\n", what,
           ms[n / 2], ms[(n * 99) / 100], ms[n - 1], avg_events);
}

/* The input of query kind k, variant v. */
static void make_input(int kind, int v, bench *b, char *out, size_t size)
{
    char name[40];
    event_name((unsigned)v, name, sizeof name);
    int64_t mid = b->now_ms / 1000 - (v % 80 + 2) * 86400;
#define ATTR(k, val) "\"LookupAttributes\":[{\"AttributeKey\":\"" k "\",\"AttributeValue\":\"" val "\"}]"
    switch (kind) {
    case 0: snprintf(out, size, "{}"); break;
    case 1: snprintf(out, size, "{" ATTR("EventName", "%s") "}", name); break;
    case 2: snprintf(out, size, "{" ATTR("Username", "user%d") "}", v % N_USERS); break;
    case 3: snprintf(out, size, "{" ATTR("AccessKeyId", "AKIDBENCH%08d") "}", v % N_KEYS); break;
    case 4: snprintf(out, size, "{" ATTR("ReadOnly", "%s") "}", v % 2 ? "true" : "false"); break;
    case 5: snprintf(out, size, "{" ATTR("EventSource", "logs.amazonaws.com") "}"); break;
    case 6:
        snprintf(out, size, "{" ATTR("EventId", "%08lx-0000-4000-8000-%012x") "}",
                 (unsigned long)(v * 4999 % b->events), 0);
        break;
    case 7: snprintf(out, size, "{" ATTR("ResourceType", "AWS::Logs::LogGroup") "}"); break;
    case 8: snprintf(out, size, "{" ATTR("ResourceName", "/bench/group-%d") "}", v % N_GROUPS); break;
    case 9:
        snprintf(out, size, "{" ATTR("EventName", "%s") ",\"StartTime\":%lld,\"EndTime\":%lld}",
                 name, (long long)mid, (long long)(mid + 3600));
        break;
    case 10:
        snprintf(out, size, "{" ATTR("EventName", "NoSuchCall%d") "}", v);
        break;
    default:
        snprintf(out, size, "{\"StartTime\":%lld,\"EndTime\":%lld,\"MaxResults\":50}",
                 (long long)mid, (long long)(mid + 600));
    }
#undef ATTR
}

static const char *const kind_names[] = {
    "no attribute (newest 50)",   "EventName",           "Username",
    "AccessKeyId",                "ReadOnly",            "EventSource",
    "EventId (point lookup)",  "ResourceType",        "ResourceName",
    "EventName + 1 h window",     "EventName, no match", "no attribute + 10 min window",
};
#define N_KINDS (int)(sizeof kind_names / sizeof kind_names[0])

static void run_queries(bench *b, int per_kind)
{
    double *all = malloc(sizeof(double) * (size_t)(per_kind * (N_KINDS + 1)));
    double *ms = malloc(sizeof(double) * (size_t)per_kind);
    int n_all = 0;
    char input[512];
    printf("LookupEvents, one page per request, %d requests per kind:\n", per_kind);
    for (int kind = 0; kind < N_KINDS; kind++) {
        size_t total = 0;
        for (int v = 0; v < per_kind; v++) {
            size_t n;
            make_input(kind, v, b, input, sizeof input);
            ms[v] = one_lookup(b, input, &n, NULL);
            all[n_all++] = ms[v];
            total += n;
        }
        report(kind_names[kind], ms, per_kind, (double)total / per_kind);
    }
    /* Following NextToken deep into the history. */
    char *token = NULL;
    size_t total = 0;
    for (int v = 0; v < per_kind; v++) {
        size_t n;
        if (token != NULL)
            snprintf(input, sizeof input,
                     "{\"LookupAttributes\":[{\"AttributeKey\":\"Username\",\"AttributeValue\":"
                     "\"user3\"}],\"NextToken\":\"%s\"}",
                     token);
        else
            snprintf(input, sizeof input,
                     "{\"LookupAttributes\":[{\"AttributeKey\":\"Username\",\"AttributeValue\":"
                     "\"user3\"}]}");
        free(token);
        token = NULL;
        ms[v] = one_lookup(b, input, &n, &token);
        all[n_all++] = ms[v];
        total += n;
    }
    free(token);
    report("Username, next pages (NextToken)", ms, per_kind, (double)total / per_kind);
    report("ALL", all, n_all, 0);
    free(ms);
    free(all);
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    b.events = argc > 1 ? atol(argv[1]) : 1000000;
    char dir[256];
    const char *base = argc > 2 ? argv[2]
                       : tw_make_temp_dir(NULL, "tw-lookup-bench", dir, sizeof dir, NULL) == 0
                           ? dir
                           : NULL;
    int per_kind = argc > 3 ? atoi(argv[3]) : 200;
    if (base == NULL || b.events < 1 || per_kind < 1) {
        fprintf(stderr, "usage: lookup_bench [EVENTS] [DIR] [QUERIES]\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/collector.db", base);
    struct stat st;
    bool existing = stat(path, &st) == 0;
    uv_loop_init(&b.loop);
    tw_err err;
    if (tw_store_open(&b.loop, path, lists, &b.store, &err) != 0) {
        fprintf(stderr, "lookup_bench: %s\n", err.msg);
        return 1;
    }
    b.now_ms = tw_time_now_ms();
    printf("database %s\n", path);
    if (!existing)
        fill(&b);
    else
        printf("reusing the events already in it\n");
    run_queries(&b, per_kind);
    tw_store_close(b.store);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    return 0;
}
