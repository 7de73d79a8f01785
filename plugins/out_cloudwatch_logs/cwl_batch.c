/* cwl_batch.c — the PutLogEvents batch builder: limits, truncation, the time
 * window, JSON escaping and the stable sort (see cwl_batch.h).
 *
 * Messages are escaped into one text arena as they are added (the only pass
 * over their bytes); an entry per event keeps its timestamp and where its
 * escaped text lies. Taking sorts the entries and copies the text out. */
#include "cwl_batch.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "timefmt.h"
#include "utf8.h"

#define MARKER_LEN (sizeof TW_CWL_TRUNCATED_MARKER - 1)
#define MIN_MESSAGE 64
/* Short runs are put in order by insertion before merging: cheap, stable,
 * and linear on runs that are already sorted. */
#define INSERTION_RUN 32

typedef struct entry {
    int64_t timestamp;
    uint32_t offset; /* of the escaped message in text (< 7 MB) */
    uint32_t len;
} entry;

struct tw_cwl_batch {
    char *group, *stream;
    tw_buf prefix; /* {"logGroupName":"..","logStreamName":"..","logEvents":[ */
    size_t max_message;
    entry *entries, *scratch;
    size_t count, capacity;
    size_t bytes; /* Σ message bytes + 26 per event */
    int64_t oldest, newest;
    bool unsorted;
    tw_buf text; /* escaped messages, back to back */
    tw_cwl_batch_stats stats;
};

/* ---- JSON escaping ---------------------------------------------------------- */

/* 0: copied as is; 1: escaped; 2: the first byte of a multi-byte sequence
 * (or a stray byte), checked as UTF-8. */
static const unsigned char byte_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x90 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xa0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xb0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xc0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xd0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xe0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xf0 */
};

static bool continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}


/* Writes the escape for one byte of class 1 at p; returns its length. */
static size_t escape_byte(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    static const char short_form[32] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    };
    p[0] = '\\';
    if (c == '"' || c == '\\') {
        p[1] = (char)c;
        return 2;
    }
    if (short_form[c]) {
        p[1] = short_form[c];
        return 2;
    }
    memcpy(p + 1, "u00", 3);
    p[4] = hex[c >> 4];
    p[5] = hex[c & 15];
    return 6;
}

void tw_cwl_json_escape(tw_buf *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    /* Room for every byte copied once; escapes reserve their extra. */
    tw_buf_reserve(out, len + 6);
    char *p = out->data + out->len;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && byte_class[s[i]] == 0)
            i++;
        memcpy(p, s + start, i - start);
        p += i - start;
        if (i == len)
            break;
        if (byte_class[s[i]] == 1) {
            out->len = (size_t)(p - out->data);
            tw_buf_reserve(out, len - i + 6);
            p = out->data + out->len;
            p += escape_byte(p, s[i]);
            i++;
            continue;
        }
        size_t n = tw_utf8_sequence(s + i, len - i);
        if (n == 0) {
            *p++ = '?'; /* not UTF-8: keep the length, keep the body decodable */
            i++;
        } else {
            memcpy(p, s + i, n);
            p += n;
            i += n;
        }
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
}

/* ---- building ----------------------------------------------------------------- */

tw_cwl_batch *tw_cwl_batch_new(const char *group, const char *stream, size_t max_message)
{
    tw_cwl_batch *b = tw_calloc(1, sizeof *b);
    b->group = tw_strdup(group);
    b->stream = tw_strdup(stream);
    if (max_message == 0)
        max_message = TW_CWL_MAX_MESSAGE;
    if (max_message < MIN_MESSAGE)
        max_message = MIN_MESSAGE;
    if (max_message > TW_CWL_MAX_EVENT_BYTES - TW_CWL_EVENT_OVERHEAD)
        max_message = TW_CWL_MAX_EVENT_BYTES - TW_CWL_EVENT_OVERHEAD;
    b->max_message = max_message;
    tw_buf_puts(&b->prefix, "{\"logGroupName\":\"");
    tw_cwl_json_escape(&b->prefix, group, strlen(group));
    tw_buf_puts(&b->prefix, "\",\"logStreamName\":\"");
    tw_cwl_json_escape(&b->prefix, stream, strlen(stream));
    tw_buf_puts(&b->prefix, "\",\"logEvents\":[");
    return b;
}

void tw_cwl_batch_free(tw_cwl_batch *b)
{
    if (!b)
        return;
    free(b->group);
    free(b->stream);
    free(b->entries);
    free(b->scratch);
    tw_buf_free(&b->prefix);
    tw_buf_free(&b->text);
    free(b);
}

static int64_t saturating_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* A warning on the 1st, 10th, 100th ... event dropped or cut for one
 * reason: enough to notice, never a flood. */
static void warn_sometimes(const tw_cwl_batch *b, uint64_t count, const char *what,
                           int64_t timestamp_ms)
{
    uint64_t n = count;
    while (n % 10 == 0)
        n /= 10;
    if (n != 1)
        return;
    char when[TW_ISO8601_MS_SIZE];
    if (tw_time_format_iso8601_ms(timestamp_ms, when) != 0)
        strcpy(when, "a time out of range");
    tw_warn("CloudWatch Logs %s %s: %s (%" PRIu64 " so far; the latest stamped %s)", b->group,
            b->stream, what, count, when);
}

static tw_cwl_add_result drop(tw_cwl_batch *b, tw_cwl_add_result why, int64_t timestamp_ms)
{
    switch (why) {
    case TW_CWL_TOO_OLD:
        warn_sometimes(b, ++b->stats.too_old,
                       "dropped events older than 14 days, which CloudWatch refuses",
                       timestamp_ms);
        break;
    case TW_CWL_TOO_NEW:
        warn_sometimes(b, ++b->stats.too_new,
                       "dropped events more than 2 hours in the future, which CloudWatch refuses",
                       timestamp_ms);
        break;
    default:
        b->stats.empty++; /* blank lines: common and harmless, counted only */
        break;
    }
    return why;
}

/* Bytes of message kept when it is cut to max bytes, marker included: cut
 * back to the start of a UTF-8 character so no valid one is split. */
static size_t truncated_length(const char *message, size_t max)
{
    size_t cut = max - MARKER_LEN;
    for (int back = 0; back < 3 && cut > 0 && continuation((unsigned char)message[cut]); back++)
        cut--;
    return cut;
}

static bool fits(const tw_cwl_batch *b, int64_t timestamp_ms, size_t message_bytes)
{
    if (b->count == 0)
        return true;
    if (b->count >= TW_CWL_MAX_EVENTS ||
        b->bytes + message_bytes + TW_CWL_EVENT_OVERHEAD > TW_CWL_MAX_BATCH_BYTES)
        return false;
    int64_t oldest = timestamp_ms < b->oldest ? timestamp_ms : b->oldest;
    int64_t newest = timestamp_ms > b->newest ? timestamp_ms : b->newest;
    /* Unsigned: the difference of any two int64 fits. */
    return (uint64_t)newest - (uint64_t)oldest <= (uint64_t)TW_CWL_MAX_SPAN_MS;
}

static void grow_entries(tw_cwl_batch *b)
{
    size_t capacity = b->capacity ? b->capacity * 2 : 256;
    if (capacity > TW_CWL_MAX_EVENTS)
        capacity = TW_CWL_MAX_EVENTS;
    b->entries = tw_realloc(b->entries, capacity * sizeof *b->entries);
    b->scratch = tw_realloc(b->scratch, capacity * sizeof *b->scratch);
    b->capacity = capacity;
}

tw_cwl_add_result tw_cwl_batch_add(tw_cwl_batch *b, int64_t timestamp_ms, const char *message,
                                   size_t len, int64_t now_ms)
{
    if (len == 0)
        return drop(b, TW_CWL_EMPTY, timestamp_ms);
    if (timestamp_ms < 0 || timestamp_ms < saturating_add(now_ms, -TW_CWL_MAX_AGE_MS))
        return drop(b, TW_CWL_TOO_OLD, timestamp_ms);
    if (timestamp_ms > saturating_add(now_ms, TW_CWL_MAX_AHEAD_MS))
        return drop(b, TW_CWL_TOO_NEW, timestamp_ms);

    size_t kept = len, message_bytes = len;
    bool truncated = len > b->max_message;
    if (truncated) {
        kept = truncated_length(message, b->max_message);
        message_bytes = kept + MARKER_LEN;
    }
    if (!fits(b, timestamp_ms, message_bytes))
        return TW_CWL_FULL;

    if (b->count == b->capacity)
        grow_entries(b);
    entry *e = &b->entries[b->count];
    e->timestamp = timestamp_ms;
    e->offset = (uint32_t)b->text.len;
    tw_cwl_json_escape(&b->text, message, kept);
    if (truncated)
        tw_buf_append(&b->text, TW_CWL_TRUNCATED_MARKER, MARKER_LEN);
    e->len = (uint32_t)(b->text.len - e->offset);

    if (b->count == 0) {
        b->oldest = b->newest = timestamp_ms;
    } else {
        if (timestamp_ms < b->newest)
            b->unsorted = true;
        if (timestamp_ms < b->oldest)
            b->oldest = timestamp_ms;
        if (timestamp_ms > b->newest)
            b->newest = timestamp_ms;
    }
    b->count++;
    b->bytes += message_bytes + TW_CWL_EVENT_OVERHEAD;
    b->stats.added++;
    if (truncated)
        warn_sometimes(b, ++b->stats.truncated,
                       "cut messages longer than the CloudWatch event size limit", timestamp_ms);
    return TW_CWL_ADDED;
}

/* ---- sorting and writing ---------------------------------------------------- */

static void insertion_sort(entry *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (a[i - 1].timestamp <= a[i].timestamp)
            continue;
        entry e = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1].timestamp > e.timestamp) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = e;
    }
}

/* Merges the sorted runs a[lo, mid) and a[mid, hi); ties take the left
 * run's entry first, which keeps the sort stable. */
static void merge(entry *a, size_t lo, size_t mid, size_t hi, entry *tmp)
{
    size_t n_left = mid - lo;
    memcpy(tmp, a + lo, n_left * sizeof *a);
    size_t i = 0, j = mid, k = lo;
    while (i < n_left && j < hi)
        a[k++] = tmp[i].timestamp <= a[j].timestamp ? tmp[i++] : a[j++];
    while (i < n_left)
        a[k++] = tmp[i++];
}

/* Stable merge sort, bottom up. Merges of runs already in order are
 * skipped, so nearly sorted input (lines of one file, a few out of place)
 * costs little more than one pass. */
static void sort_entries(entry *a, size_t n, entry *tmp)
{
    for (size_t lo = 0; lo < n; lo += INSERTION_RUN)
        insertion_sort(a + lo, n - lo < INSERTION_RUN ? n - lo : INSERTION_RUN);
    for (size_t width = INSERTION_RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo + width < n; lo += 2 * width) {
            size_t mid = lo + width, hi = mid + width < n ? mid + width : n;
            if (a[mid - 1].timestamp > a[mid].timestamp)
                merge(a, lo, mid, hi, tmp);
        }
    }
}

/* Decimal digits of a timestamp (>= 0 here) without snprintf. */
static size_t format_u64(char *out, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

#define EVENT_HEAD "{\"timestamp\":"
#define EVENT_MESSAGE ",\"message\":\""
#define EVENT_TAIL "\"}"

size_t tw_cwl_batch_take(tw_cwl_batch *b, tw_buf *body)
{
    size_t n = b->count;
    if (n == 0)
        return 0;
    if (b->unsorted)
        sort_entries(b->entries, n, b->scratch);
    size_t per_event = sizeof EVENT_HEAD + 20 + sizeof EVENT_MESSAGE + sizeof EVENT_TAIL;
    tw_buf_reserve(body, b->prefix.len + b->text.len + n * per_event + 4);
    char *p = body->data + body->len;
    memcpy(p, b->prefix.data, b->prefix.len);
    p += b->prefix.len;
    for (size_t i = 0; i < n; i++) {
        const entry *e = &b->entries[i];
        if (i > 0)
            *p++ = ',';
        memcpy(p, EVENT_HEAD, sizeof EVENT_HEAD - 1);
        p += sizeof EVENT_HEAD - 1;
        p += format_u64(p, (uint64_t)e->timestamp);
        memcpy(p, EVENT_MESSAGE, sizeof EVENT_MESSAGE - 1);
        p += sizeof EVENT_MESSAGE - 1;
        memcpy(p, b->text.data + e->offset, e->len);
        p += e->len;
        memcpy(p, EVENT_TAIL, sizeof EVENT_TAIL - 1);
        p += sizeof EVENT_TAIL - 1;
    }
    memcpy(p, "]}", 2);
    p += 2;
    body->len = (size_t)(p - body->data);
    body->data[body->len] = '\0';

    b->count = 0;
    b->bytes = 0;
    b->unsorted = false;
    tw_buf_reset(&b->text);
    b->stats.batches++;
    return n;
}

size_t tw_cwl_batch_count(const tw_cwl_batch *b)
{
    return b->count;
}

size_t tw_cwl_batch_bytes(const tw_cwl_batch *b)
{
    return b->bytes;
}

const char *tw_cwl_batch_group(const tw_cwl_batch *b)
{
    return b->group;
}

const char *tw_cwl_batch_stream(const tw_cwl_batch *b)
{
    return b->stream;
}

void tw_cwl_batch_trim(tw_cwl_batch *b)
{
    if (b->count > 0)
        return;
    free(b->entries);
    free(b->scratch);
    b->entries = b->scratch = NULL;
    b->capacity = 0;
    tw_buf_free(&b->text);
}

void tw_cwl_batch_stats_get(const tw_cwl_batch *b, tw_cwl_batch_stats *out)
{
    *out = b->stats;
}
