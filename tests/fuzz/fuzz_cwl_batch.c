/* fuzz_cwl_batch.c — libFuzzer target for the PutLogEvents batch builder
 * (plugins/out_cloudwatch_logs/cwl_batch.c). The input is a program of
 * operations: add an event (small, huge, or many at once; timestamps near
 * now, far away or at the ends of int64; any bytes as the message), move the
 * clock, take the batch. A shadow copy of every event added is kept, and each
 * body taken must decode with jansson and obey every PutLogEvents rule
 * (1 to 10,000 events, Σ message bytes + 26 each <= 1,048,576, non-empty
 * messages of at most max_message bytes, timestamps sorted and spanning at
 * most 24 hours, each within the window of the clock it was added at), hold
 * exactly the events added since the last take in stable timestamp order,
 * with their messages intact (UTF-8 byte for byte; other bytes replaced one
 * for one; long ones cut with the marker). A FULL answer must be true and
 * the same event must then fit an empty batch. Nothing may crash or leak. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwl_batch.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW INT64_C(1700000000000)
#define MARKER_LEN (sizeof TW_CWL_TRUNCATED_MARKER - 1)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static uint64_t take_bytes(reader *r, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && r->left; i++, r->left--)
        v = v << 8 | *r->p++;
    return v;
}

typedef struct shadow_event {
    int64_t timestamp, now;
    size_t index;
    char *message;
    size_t len;
} shadow_event;

typedef struct harness {
    tw_cwl_batch *batch;
    size_t max_message;
    shadow_event *events;
    size_t n, cap, added;
    uint64_t bytes; /* as the builder should count them */
    int64_t oldest, newest;
} harness;

static int compare_shadow(const void *a, const void *b)
{
    const shadow_event *x = a, *y = b;
    if (x->timestamp != y->timestamp)
        return x->timestamp < y->timestamp ? -1 : 1;
    return x->index < y->index ? -1 : 1;
}

static bool ascii_equal_where_ascii(const char *in, const char *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] < 0x80 && in[i] != out[i])
            return false;
    return true;
}

/* The message the builder must have sent for e. */
static void check_message(const harness *h, const shadow_event *e, const char *got, size_t len)
{
    CHECK(len >= 1 && len <= h->max_message);
    json_t *valid = json_stringn(e->message, e->len); /* NULL: not UTF-8 */
    if (e->len <= h->max_message) {
        CHECK(len == e->len);
        if (valid)
            CHECK(memcmp(got, e->message, len) == 0);
        else
            CHECK(ascii_equal_where_ascii(e->message, got, len));
    } else {
        CHECK(len >= h->max_message - 3 && len <= h->max_message);
        CHECK(memcmp(got + len - MARKER_LEN, TW_CWL_TRUNCATED_MARKER, MARKER_LEN) == 0);
        size_t kept = len - MARKER_LEN;
        if (valid)
            CHECK(memcmp(got, e->message, kept) == 0);
        else
            CHECK(ascii_equal_where_ascii(e->message, got, kept));
    }
    json_decref(valid);
}

static void take_and_check(harness *h)
{
    tw_buf body = TW_BUF_INIT;
    size_t n = tw_cwl_batch_take(h->batch, &body);
    CHECK(n == h->n);
    CHECK(tw_cwl_batch_count(h->batch) == 0 && tw_cwl_batch_bytes(h->batch) == 0);
    if (n == 0) {
        CHECK(body.len == 0);
        tw_buf_free(&body);
        return;
    }
    json_error_t error;
    json_t *doc = json_loadb(body.data, body.len, JSON_ALLOW_NUL, &error);
    if (!doc)
        fprintf(stderr, "body does not decode: %s\n", error.text);
    CHECK(doc);
    CHECK(strcmp(json_string_value(json_object_get(doc, "logGroupName")), "/fuzz/group") == 0);
    CHECK(strcmp(json_string_value(json_object_get(doc, "logStreamName")), "stream") == 0);
    json_t *list = json_object_get(doc, "logEvents");
    CHECK(json_array_size(list) == n && n <= TW_CWL_MAX_EVENTS);
    qsort(h->events, n, sizeof *h->events, compare_shadow);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        json_t *ts = json_object_get(item, "timestamp");
        json_t *msg = json_object_get(item, "message");
        CHECK(json_is_integer(ts) && json_is_string(msg) && json_object_size(item) == 2);
        const shadow_event *e = &h->events[i];
        int64_t t = json_integer_value(ts);
        CHECK(t == e->timestamp && t >= 0);
        CHECK((__int128)e->now - t <= TW_CWL_MAX_AGE_MS &&
              (__int128)t - e->now <= TW_CWL_MAX_AHEAD_MS);
        check_message(h, e, json_string_value(msg), json_string_length(msg));
        total += json_string_length(msg) + TW_CWL_EVENT_OVERHEAD;
    }
    CHECK(total <= TW_CWL_MAX_BATCH_BYTES && total == h->bytes);
    CHECK((uint64_t)h->events[n - 1].timestamp - (uint64_t)h->events[0].timestamp <=
          (uint64_t)TW_CWL_MAX_SPAN_MS);
    for (size_t i = 0; i < n; i++)
        free(h->events[i].message);
    h->n = 0;
    h->bytes = 0;
    json_decref(doc);
    tw_buf_free(&body);
}

/* What an event costs in the batch, per the rules (the builder's cut may
 * keep up to 3 bytes less; FULL is checked against the upper bound). */
static size_t cost_bound(const harness *h, size_t len)
{
    return (len > h->max_message ? h->max_message : len) + TW_CWL_EVENT_OVERHEAD;
}

static void record(harness *h, int64_t t, const char *message, size_t len, int64_t now)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->events = realloc(h->events, h->cap * sizeof *h->events);
    }
    char *copy = malloc(len);
    memcpy(copy, message, len);
    h->events[h->n++] = (shadow_event){t, now, h->added++, copy, len};
    h->bytes = tw_cwl_batch_bytes(h->batch);
    if (h->n == 1)
        h->oldest = h->newest = t;
    if (t < h->oldest)
        h->oldest = t;
    if (t > h->newest)
        h->newest = t;
}

static void add(harness *h, int64_t t, const char *message, size_t len, int64_t now)
{
    size_t before = tw_cwl_batch_bytes(h->batch);
    tw_cwl_add_result r = tw_cwl_batch_add(h->batch, t, message, len, now);
    switch (r) {
    case TW_CWL_ADDED:
        CHECK(len > 0 && t >= 0);
        CHECK(tw_cwl_batch_bytes(h->batch) - before <= cost_bound(h, len));
        record(h, t, message, len, now);
        return;
    case TW_CWL_FULL: {
        CHECK(h->n > 0);
        int64_t lo = t < h->oldest ? t : h->oldest, hi = t > h->newest ? t : h->newest;
        CHECK(h->n == TW_CWL_MAX_EVENTS || before + cost_bound(h, len) > TW_CWL_MAX_BATCH_BYTES ||
              (uint64_t)hi - (uint64_t)lo > (uint64_t)TW_CWL_MAX_SPAN_MS);
        take_and_check(h);
        CHECK(tw_cwl_batch_add(h->batch, t, message, len, now) == TW_CWL_ADDED);
        record(h, t, message, len, now);
        return;
    }
    case TW_CWL_EMPTY:
        CHECK(len == 0);
        return;
    case TW_CWL_TOO_OLD:
        CHECK(t < 0 || (now > INT64_MIN + TW_CWL_MAX_AGE_MS && t < now - TW_CWL_MAX_AGE_MS));
        return;
    case TW_CWL_TOO_NEW:
        CHECK(now < INT64_MAX - TW_CWL_MAX_AHEAD_MS && t > now + TW_CWL_MAX_AHEAD_MS);
        return;
    }
    CHECK(!"unknown answer");
}

static int64_t some_timestamp(reader *r, int64_t now, uint64_t kind);

/* Two's complement addition without undefined behaviour: times wrap. */
static int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* A timestamp near now, near the window's or the span's edges, or at the
 * ends of int64; last is the previous one made. */
static int64_t timestamp_from(reader *r, int64_t now, int64_t *last)
{
    int64_t t = 0;
    switch (take_bytes(r, 1) % 10) {
    case 8: /* about 24 hours after or before the last one */
        t = wrap_add(*last, TW_CWL_MAX_SPAN_MS + (int64_t)take_bytes(r, 1) - 128);
        break;
    case 9:
        t = wrap_add(*last, -TW_CWL_MAX_SPAN_MS + (int64_t)take_bytes(r, 1) - 128);
        break;
    default:
        t = some_timestamp(r, now, take_bytes(r, 1) % 8);
        break;
    }
    *last = t;
    return t;
}

static int64_t some_timestamp(reader *r, int64_t now, uint64_t kind)
{
    switch (kind) {
    case 0:
        return INT64_MIN + (int64_t)take_bytes(r, 1);
    case 1:
        return INT64_MAX - (int64_t)take_bytes(r, 1);
    case 2:
        return -(int64_t)take_bytes(r, 2);
    case 3: /* around the window's edges */
        return wrap_add(now, -TW_CWL_MAX_AGE_MS + (int64_t)take_bytes(r, 1) - 128);
    case 4:
        return wrap_add(now, TW_CWL_MAX_AHEAD_MS + (int64_t)take_bytes(r, 1) - 128);
    case 5: /* hours around now */
        return wrap_add(now, ((int64_t)take_bytes(r, 2) - 32768) * 60000);
    default: /* milliseconds around now */
        return wrap_add(now, (int64_t)take_bytes(r, 2) - 32768);
    }
}

static void run(reader *r)
{
    harness h = {0};
    size_t choice = (size_t)take_bytes(r, 1) % 4;
    static const size_t maxes[] = {0, 64, 100, 262118};
    h.batch = tw_cwl_batch_new("/fuzz/group", "stream", maxes[choice]);
    h.max_message = choice == 0 ? TW_CWL_MAX_MESSAGE : maxes[choice];
    int64_t now = NOW, last = NOW;
    char *big = NULL;
    while (r->left) {
        switch (take_bytes(r, 1) % 6) {
        case 0: { /* one event, its bytes from the input */
            int64_t t = timestamp_from(r, now, &last);
            size_t len = (size_t)take_bytes(r, 1);
            if (len > r->left)
                len = r->left;
            add(&h, t, (const char *)r->p, len, now);
            r->p += len;
            r->left -= len;
            break;
        }
        case 1: { /* a large event: a pattern repeated */
            /* Now and then past the default 1 MiB − 200 limit; mostly past
             * the smaller ones only, which is far cheaper to check. */
            size_t len = (size_t)take_bytes(r, 2);
            if ((len & 7) == 0)
                len *= 20;
            else if ((len & 7) == 1) /* at the truncation limit, give or take */
                len = h.max_message - 64 + (len >> 3) % 128;
            else
                len %= 4096;
            size_t plen = 1 + (size_t)take_bytes(r, 1) % 8;
            uint8_t pattern[8] = {0};
            for (size_t i = 0; i < plen; i++)
                pattern[i] = (uint8_t)take_bytes(r, 1);
            big = realloc(big, len ? len : 1);
            for (size_t i = 0; i < len; i++)
                big[i] = (char)pattern[i % plen];
            add(&h, timestamp_from(r, now, &last), big, len, now);
            break;
        }
        case 2: { /* many small events */
            /* Now and then enough to fill a batch; mostly a few. */
            size_t count = (size_t)take_bytes(r, 2);
            count = (count & 7) == 0 ? count % 12000 : count % 300;
            int64_t t = timestamp_from(r, now, &last), step = (int64_t)take_bytes(r, 1) - 128;
            for (size_t i = 0; i < count; i++) {
                char text[32];
                int len = snprintf(text, sizeof text, "event %zu", i);
                add(&h, wrap_add(t, step * (int64_t)(i % 1000)), text, (size_t)len, now);
            }
            break;
        }
        case 3:
            take_and_check(&h);
            break;
        case 4: /* the clock moves (hours either way) */
            now = wrap_add(now, ((int64_t)take_bytes(r, 1) - 128) * 3600000);
            break;
        default:
            now = (int64_t)take_bytes(r, 8);
            break;
        }
    }
    take_and_check(&h);
    free(big);
    free(h.events);
    tw_cwl_batch_free(h.batch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tw_log_set_level(TW_LOG_ERROR); /* the drop warnings are expected here */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    run(&r);
    return 0;
}
