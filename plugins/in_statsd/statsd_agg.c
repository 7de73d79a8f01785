/* statsd_agg.c — StatsD series and their state between flushes (see
 * statsd_agg.h): an open-addressing table of series found by their key, and
 * per series a sum, a last value, a set of member hashes or a distribution
 * of values with counts. */
#include "statsd_agg.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mem.h"

/* The key: name NUL type-byte, then per tag (sorted) name NUL value NUL. */
#define KEY_MAX                                                                       \
    (TW_METRIC_NAME_MAX + 2 +                                                         \
     TW_STATSD_MAX_TAGS * (TW_METRIC_DIM_NAME_MAX + TW_METRIC_DIM_VALUE_MAX + 2))

/* Buckets are built for a slightly smaller error than promised, so that
 * rounding in log() and pow() never takes a value past 1 %. */
#define BUCKET_ALPHA (TW_STATSD_BUCKET_ERROR * 0.99)
#define BUCKET_BIAS ((int64_t)1 << 20) /* keeps every index positive */
#define BUCKET_NEGATIVE ((uint64_t)1 << 40)

typedef struct dist_slot {
    uint64_t key; /* exact: the value's bits; bucketed: sign and bucket index */
    double count; /* 0: the slot is free */
} dist_slot;

typedef struct dist {
    dist_slot *slots;
    size_t cap, used;
    bool bucketed;
} dist;

typedef struct member_set {
    uint64_t *slots; /* member hashes; 0: the slot is free */
    size_t cap, used;
} member_set;

typedef struct series {
    uint64_t hash;
    size_t index; /* in agg->all */
    tw_statsd_type type;
    bool touched;   /* data since the last flush */
    bool has_value; /* gauges: a value was ever set */
    unsigned idle;  /* flushes in a row without data */
    double value;   /* counters: the sum; gauges: the value */
    member_set set;
    dist dist;
    size_t key_len;
    size_t n_dims;
    tw_dimension *dims; /* into key */
    char *key;          /* the name is key itself (NUL-terminated) */
} series;

/* Logarithmic buckets: bucket i holds (gamma^(i-1), gamma^i]. */
typedef struct bucketing {
    double gamma, log_gamma;
} bucketing;

typedef struct table_slot {
    uint64_t hash;
    series *s; /* NULL: free */
} table_slot;

struct tw_statsd_agg {
    tw_statsd_agg_options options;
    uint64_t seed;
    table_slot *table;
    size_t table_cap;
    series **all;
    size_t n_all, cap_all;
    bucketing buckets;
    dist_slot convert[TW_STATSD_EXACT_VALUES];
    char key[KEY_MAX];
};

/* ---- hashing ------------------------------------------------------------ */

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Word-at-a-time multiply-xorshift, seeded per aggregator so that the layout
 * of the table is not the same in every process. */
static uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    return fmix64(h);
}

/* ---- distributions ------------------------------------------------------- */

static bucketing bucketing_make(void)
{
    bucketing b = {.gamma = (1 + BUCKET_ALPHA) / (1 - BUCKET_ALPHA)};
    b.log_gamma = log(b.gamma);
    return b;
}

static uint64_t bucket_key(const bucketing *b, double v)
{
    if (v == 0)
        return 0;
    double a = fabs(v);
    int64_t i = (int64_t)ceil(log(a) / b->log_gamma);
    return (uint64_t)(i + BUCKET_BIAS) | (v < 0 ? BUCKET_NEGATIVE : 0);
}

static double bucket_representative(const bucketing *b, uint64_t key)
{
    if (key == 0)
        return 0;
    int64_t i = (int64_t)(key & (BUCKET_NEGATIVE - 1)) - BUCKET_BIAS;
    /* The bucket is (gamma^(i-1), gamma^i]; this point is alpha from both ends. */
    double r = 2 * pow(b->gamma, (double)i) / (b->gamma + 1);
    return key & BUCKET_NEGATIVE ? -r : r;
}

static uint64_t exact_key(double v)
{
    if (v == 0)
        v = 0; /* -0 and +0 are one value */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

static double exact_value(uint64_t key)
{
    double v;
    memcpy(&v, &key, sizeof v);
    return v;
}

static dist_slot *dist_find(dist *d, uint64_t key)
{
    size_t mask = d->cap - 1;
    for (size_t i = fmix64(key) & mask;; i = (i + 1) & mask)
        if (d->slots[i].count == 0 || d->slots[i].key == key)
            return &d->slots[i];
}

static void dist_grow(dist *d)
{
    dist old = *d;
    d->cap = old.cap ? old.cap * 2 : 16;
    d->slots = tw_calloc(d->cap, sizeof *d->slots);
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].count != 0)
            *dist_find(d, old.slots[i].key) = old.slots[i];
    free(old.slots);
}

/* Adds count to key's slot (which may be new). */
static void dist_put(dist *d, uint64_t key, double count)
{
    if ((d->used + 1) * 2 > d->cap)
        dist_grow(d);
    dist_slot *slot = dist_find(d, key);
    if (slot->count == 0) {
        slot->key = key;
        d->used++;
    }
    slot->count += count;
}

/* Past TW_STATSD_EXACT_VALUES distinct values, the exact values go into
 * their buckets, and so does everything else until the next flush. */
static void dist_to_buckets(tw_statsd_agg *agg, dist *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].count != 0)
            agg->convert[n++] = d->slots[i];
    memset(d->slots, 0, d->cap * sizeof *d->slots);
    d->used = 0;
    d->bucketed = true;
    for (size_t i = 0; i < n; i++)
        dist_put(d, bucket_key(&agg->buckets, exact_value(agg->convert[i].key)),
                 agg->convert[i].count);
}

static void dist_add(tw_statsd_agg *agg, dist *d, double v, double count)
{
    if (!d->bucketed) {
        uint64_t key = exact_key(v);
        if (d->used < TW_STATSD_EXACT_VALUES || (d->cap && dist_find(d, key)->count != 0)) {
            dist_put(d, key, count);
            return;
        }
        dist_to_buckets(agg, d);
    }
    dist_put(d, bucket_key(&agg->buckets, v), count);
}

static void dist_reset(dist *d)
{
    if (d->used)
        memset(d->slots, 0, d->cap * sizeof *d->slots);
    d->used = 0;
    d->bucketed = false;
}

double tw_statsd_bucket_value(double v)
{
    bucketing b = bucketing_make();
    return bucket_representative(&b, bucket_key(&b, v));
}

/* ---- sets ---------------------------------------------------------------- */

static uint64_t *set_find(member_set *s, uint64_t h)
{
    size_t mask = s->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask)
        if (s->slots[i] == 0 || s->slots[i] == h)
            return &s->slots[i];
}

static void set_add(member_set *s, uint64_t h)
{
    if (h == 0)
        h = 1; /* 0 marks a free slot */
    if ((s->used + 1) * 2 > s->cap) {
        member_set old = *s;
        s->cap = old.cap ? old.cap * 2 : 16;
        s->slots = tw_calloc(s->cap, sizeof *s->slots);
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i] != 0)
                *set_find(s, old.slots[i]) = old.slots[i];
        free(old.slots);
    }
    uint64_t *slot = set_find(s, h);
    if (*slot == 0) {
        *slot = h;
        s->used++;
    }
}

static void set_reset(member_set *s)
{
    if (s->used)
        memset(s->slots, 0, s->cap * sizeof *s->slots);
    s->used = 0;
}

/* ---- the series table ---------------------------------------------------- */

static size_t build_key(char *out, const tw_statsd_line *line)
{
    size_t n = 0;
    memcpy(out, line->name.ptr, line->name.len);
    n += line->name.len;
    out[n++] = '\0';
    out[n++] = (char)('A' + line->type);
    for (size_t i = 0; i < line->n_tags; i++) {
        memcpy(out + n, line->tags[i].name.ptr, line->tags[i].name.len);
        n += line->tags[i].name.len;
        out[n++] = '\0';
        memcpy(out + n, line->tags[i].value.ptr, line->tags[i].value.len);
        n += line->tags[i].value.len;
        out[n++] = '\0';
    }
    return n;
}

static table_slot *table_find(tw_statsd_agg *agg, uint64_t hash, const char *key, size_t len)
{
    size_t mask = agg->table_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        table_slot *t = &agg->table[i];
        if (!t->s || (t->hash == hash && t->s->key_len == len && memcmp(t->s->key, key, len) == 0))
            return t;
    }
}

static void table_grow(tw_statsd_agg *agg)
{
    table_slot *old = agg->table;
    size_t old_cap = agg->table_cap;
    agg->table_cap = old_cap * 2;
    agg->table = tw_calloc(agg->table_cap, sizeof *agg->table);
    size_t mask = agg->table_cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].s)
            continue;
        size_t j = old[i].hash & mask;
        while (agg->table[j].s)
            j = (j + 1) & mask;
        agg->table[j] = old[i];
    }
    free(old);
}

/* Linear probing deletes by moving later entries of the same run back, so
 * that no lookup stops early at the hole (no tombstones to clean up). */
static void table_remove(tw_statsd_agg *agg, const series *s)
{
    size_t mask = agg->table_cap - 1;
    size_t i = s->hash & mask;
    while (agg->table[i].s != s)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; agg->table[j].s; j = (j + 1) & mask) {
        size_t home = agg->table[j].hash & mask;
        /* Move j into the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            agg->table[i] = agg->table[j];
            i = j;
        }
    }
    agg->table[i] = (table_slot){0, NULL};
}

static series *series_new(tw_statsd_agg *agg, uint64_t hash, size_t key_len, size_t n_tags,
                          tw_statsd_type type)
{
    size_t size = sizeof(series) + n_tags * sizeof(tw_dimension) + key_len;
    series *s = tw_calloc(1, size);
    s->hash = hash;
    s->type = type;
    s->n_dims = n_tags;
    s->dims = (tw_dimension *)(s + 1);
    s->key = (char *)(s->dims + n_tags);
    s->key_len = key_len;
    memcpy(s->key, agg->key, key_len);
    const char *p = s->key + strlen(s->key) + 2; /* past the name's NUL and the type byte */
    for (size_t i = 0; i < n_tags; i++) {
        s->dims[i].name = p;
        p += strlen(p) + 1;
        s->dims[i].value = p;
        p += strlen(p) + 1;
    }
    if (agg->n_all == agg->cap_all) {
        agg->cap_all = agg->cap_all ? agg->cap_all * 2 : 64;
        agg->all = tw_realloc(agg->all, agg->cap_all * sizeof *agg->all);
    }
    s->index = agg->n_all;
    agg->all[agg->n_all++] = s;
    return s;
}

static void series_free(series *s)
{
    free(s->set.slots);
    free(s->dist.slots);
    free(s);
}

static series *lookup(tw_statsd_agg *agg, const tw_statsd_line *line)
{
    size_t len = build_key(agg->key, line);
    uint64_t hash = hash_bytes(agg->key, len, agg->seed);
    table_slot *t = table_find(agg, hash, agg->key, len);
    if (t->s)
        return t->s;
    if (agg->options.max_series && agg->n_all >= agg->options.max_series)
        return NULL;
    series *s = series_new(agg, hash, len, line->n_tags, line->type);
    *t = (table_slot){hash, s};
    if ((agg->n_all * 2) > agg->table_cap)
        table_grow(agg);
    return s;
}

/* ---- public --------------------------------------------------------------- */

tw_statsd_agg *tw_statsd_agg_new(const tw_statsd_agg_options *options)
{
    tw_statsd_agg *agg = tw_calloc(1, sizeof *agg);
    agg->options = *options;
    if (getrandom(&agg->seed, sizeof agg->seed, GRND_NONBLOCK) != sizeof agg->seed)
        agg->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)agg;
    agg->table_cap = 64;
    agg->table = tw_calloc(agg->table_cap, sizeof *agg->table);
    agg->buckets = bucketing_make();
    return agg;
}

void tw_statsd_agg_free(tw_statsd_agg *agg)
{
    if (!agg)
        return;
    for (size_t i = 0; i < agg->n_all; i++)
        series_free(agg->all[i]);
    free(agg->all);
    free(agg->table);
    free(agg);
}

static void apply(tw_statsd_agg *agg, series *s, const tw_statsd_value *v, double rate)
{
    switch (s->type) {
    case TW_STATSD_COUNTER:
        s->value += v->number / rate;
        break;
    case TW_STATSD_GAUGE:
        s->value = v->relative && s->has_value ? s->value + v->number : v->number;
        s->has_value = true;
        break;
    case TW_STATSD_SET:
        set_add(&s->set, hash_bytes(v->text.ptr, v->text.len, agg->seed));
        break;
    case TW_STATSD_TIMER:
    case TW_STATSD_HISTOGRAM:
    case TW_STATSD_DISTRIBUTION:
        dist_add(agg, &s->dist, v->number, 1 / rate);
        break;
    }
}

int tw_statsd_agg_add(tw_statsd_agg *agg, const tw_statsd_line *line)
{
    series *s = lookup(agg, line);
    if (!s)
        return -ENOSPC;
    s->touched = true;
    if (line->n_values == 1) {
        apply(agg, s, &line->first, line->rate);
        return 0;
    }
    size_t offset = 0;
    tw_statsd_value v;
    while (tw_statsd_line_value(line, &offset, &v))
        apply(agg, s, &v, line->rate);
    return 0;
}

typedef struct flush_ctx {
    tw_statsd_agg *agg;
    const tw_metric_sink *sink;
    int64_t now_ms;
    tw_statsd_flush_result *result;
} flush_ctx;

static void emit(const flush_ctx *f, const series *s, const char *unit, tw_metric_kind kind,
                 double value, double count)
{
    tw_metric_sample sample = {
        .namespace_ = f->agg->options.namespace_,
        .name = s->key,
        .unit = unit,
        .value = value,
        .count = count,
        .time_ms = f->now_ms,
        .kind = kind,
        .dimensions = s->dims,
        .n_dimensions = s->n_dims,
    };
    if (tw_metric_emit(f->sink, &sample) == 0)
        f->result->samples++;
    else
        f->result->rejected++;
}

static void emit_distribution(const flush_ctx *f, series *s)
{
    const char *unit = s->type == TW_STATSD_TIMER ? "Milliseconds" : "None";
    dist *d = &s->dist;
    for (size_t i = 0; i < d->cap; i++) {
        if (d->slots[i].count == 0)
            continue;
        double v = d->bucketed ? bucket_representative(&f->agg->buckets, d->slots[i].key)
                               : exact_value(d->slots[i].key);
        emit(f, s, unit, TW_METRIC_DISTRIBUTION, v, d->slots[i].count);
    }
    dist_reset(d);
}

static void flush_series(const flush_ctx *f, series *s)
{
    switch (s->type) {
    case TW_STATSD_COUNTER:
        if (s->touched)
            emit(f, s, "Count", TW_METRIC_GAUGE, s->value, 1);
        s->value = 0;
        break;
    case TW_STATSD_GAUGE:
        if (s->has_value)
            emit(f, s, "None", TW_METRIC_GAUGE, s->value, 1);
        break;
    case TW_STATSD_SET:
        if (s->touched)
            emit(f, s, "Count", TW_METRIC_GAUGE, (double)s->set.used, 1);
        set_reset(&s->set);
        break;
    case TW_STATSD_TIMER:
    case TW_STATSD_HISTOGRAM:
    case TW_STATSD_DISTRIBUTION:
        if (s->touched)
            emit_distribution(f, s);
        break;
    }
}

static void remove_series(tw_statsd_agg *agg, series *s)
{
    table_remove(agg, s);
    series *last = agg->all[--agg->n_all];
    agg->all[s->index] = last;
    last->index = s->index;
    series_free(s);
}

void tw_statsd_agg_flush(tw_statsd_agg *agg, int64_t now_ms, const tw_metric_sink *sink,
                         tw_statsd_flush_result *result)
{
    tw_statsd_flush_result ignored;
    if (!result)
        result = &ignored;
    *result = (tw_statsd_flush_result){0};
    flush_ctx f = {agg, sink, now_ms, result};
    /* Downwards, so that removing (which moves the last series into the
     * hole) never skips one. */
    for (size_t i = agg->n_all; i-- > 0;) {
        series *s = agg->all[i];
        flush_series(&f, s);
        s->idle = s->touched ? 0 : s->idle + 1;
        s->touched = false;
        if (agg->options.expire_flushes && s->idle >= agg->options.expire_flushes) {
            remove_series(agg, s);
            result->expired++;
        }
    }
}

size_t tw_statsd_agg_series(const tw_statsd_agg *agg)
{
    return agg->n_all;
}
