/* metric_agg.c — series table, time buckets, flush (see metric_agg.h). */
#include "metric_agg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

#define DEFAULT_MAX_SERIES 50000
#define IDLE_FLUSHES_BEFORE_FORGET 10
/* Distinct values kept per bucket of a distribution: StatsD already rounds
 * timer values to 1 % steps, which leaves at most a few thousand. */
#define MAX_DISTINCT_VALUES 3000
#define LOGGED_REJECTS 10

typedef struct value_count {
    double value;
    double count;
} value_count;

typedef struct bucket {
    int64_t time_ms;
    double count, sum, min, max;
    value_count *values;
    size_t n_values, cap_values;
} bucket;

typedef struct series {
    char *key; /* "ns\0name\0unit\0dim\0value\0..." — the pointers below point into it */
    size_t key_len;
    uint64_t hash;
    const char *namespace_;
    const char *name;
    const char *unit;
    tw_dimension dimensions[TW_METRIC_MAX_DIMENSIONS];
    size_t n_dimensions;
    tw_metric_kind kind;
    bucket *buckets;
    size_t n_buckets, cap_buckets;
    unsigned idle_flushes;
} series;

struct tw_metric_agg {
    char *namespace_;
    char *hostname;
    tw_dimension *dimensions; /* configured, owned copies */
    size_t n_dimensions;
    int64_t bucket_ms;
    int storage_resolution;
    size_t max_series;
    series **all; /* in creation order */
    size_t n_series, cap_series;
    series **table; /* open addressing, power-of-two size, NULL = empty */
    size_t table_size;
    tw_buf key; /* scratch, reused */
    tw_metric_agg_stats stats;
    uint64_t rejects_logged;
    struct agg_sink **sinks; /* handed out by tw_metric_agg_sink, freed with the aggregator */
    size_t n_sinks;
};

typedef struct agg_sink {
    tw_metric_agg *agg;
    const char *label;
} agg_sink;

/* ---- identity ------------------------------------------------------------ */

static uint64_t fnv1a(const char *data, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static bool has_dimension(const tw_dimension *dims, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(dims[i].name, name) == 0)
            return true;
    return false;
}

static int compare_dimension(const void *a, const void *b)
{
    return strcmp(((const tw_dimension *)a)->name, ((const tw_dimension *)b)->name);
}

/* The series' full dimension set: host first, then the configured and the
 * input's own sorted by name (an input's own wins over a configured one of
 * the same name). Returns the count, or -E2BIG beyond CloudWatch's 30. */
static int complete_dimensions(const tw_metric_agg *agg, const tw_metric_sample *s,
                               tw_dimension out[TW_METRIC_MAX_DIMENSIONS])
{
    size_t n = 0;
    if (agg->hostname && !has_dimension(s->dimensions, s->n_dimensions, "host"))
        out[n++] = (tw_dimension){"host", agg->hostname};
    size_t sorted_from = n;
    for (size_t i = 0; i < agg->n_dimensions; i++) {
        if (has_dimension(s->dimensions, s->n_dimensions, agg->dimensions[i].name))
            continue;
        if (n == TW_METRIC_MAX_DIMENSIONS)
            return -E2BIG;
        out[n++] = agg->dimensions[i];
    }
    for (size_t i = 0; i < s->n_dimensions; i++) {
        if (n == TW_METRIC_MAX_DIMENSIONS)
            return -E2BIG;
        out[n++] = s->dimensions[i];
    }
    qsort(out + sorted_from, n - sorted_from, sizeof *out, compare_dimension);
    return (int)n;
}

static void build_key(tw_buf *key, const char *ns, const char *name, const char *unit,
                      const tw_dimension *dims, size_t n)
{
    tw_buf_reset(key);
    tw_buf_append(key, ns, strlen(ns) + 1);
    tw_buf_append(key, name, strlen(name) + 1);
    tw_buf_append(key, unit, strlen(unit) + 1);
    for (size_t i = 0; i < n; i++) {
        tw_buf_append(key, dims[i].name, strlen(dims[i].name) + 1);
        tw_buf_append(key, dims[i].value, strlen(dims[i].value) + 1);
    }
}

/* ---- the table ----------------------------------------------------------- */

static void table_insert(tw_metric_agg *agg, series *s)
{
    size_t mask = agg->table_size - 1;
    size_t i = s->hash & mask;
    while (agg->table[i])
        i = (i + 1) & mask;
    agg->table[i] = s;
}

static void table_rebuild(tw_metric_agg *agg, size_t size)
{
    free(agg->table);
    agg->table_size = size;
    agg->table = tw_calloc(size, sizeof *agg->table);
    for (size_t i = 0; i < agg->n_series; i++)
        table_insert(agg, agg->all[i]);
}

static series *table_find(const tw_metric_agg *agg, const tw_buf *key, uint64_t hash)
{
    size_t mask = agg->table_size - 1;
    for (size_t i = hash & mask; agg->table[i]; i = (i + 1) & mask) {
        series *s = agg->table[i];
        if (s->hash == hash && s->key_len == key->len && memcmp(s->key, key->data, key->len) == 0)
            return s;
    }
    return NULL;
}

static series *series_new(tw_metric_agg *agg, const tw_buf *key, uint64_t hash,
                          tw_metric_kind kind)
{
    series *s = tw_calloc(1, sizeof *s);
    s->key = tw_malloc(key->len);
    memcpy(s->key, key->data, key->len);
    s->key_len = key->len;
    s->hash = hash;
    s->kind = kind;
    const char *p = s->key, *end = s->key + s->key_len;
    s->namespace_ = p;
    p += strlen(p) + 1;
    s->name = p;
    p += strlen(p) + 1;
    s->unit = p;
    p += strlen(p) + 1;
    while (p < end && s->n_dimensions < TW_METRIC_MAX_DIMENSIONS) {
        tw_dimension *d = &s->dimensions[s->n_dimensions++];
        d->name = p;
        p += strlen(p) + 1;
        d->value = p;
        p += strlen(p) + 1;
    }
    if (agg->n_series == agg->cap_series) {
        agg->cap_series = agg->cap_series ? agg->cap_series * 2 : 64;
        agg->all = tw_realloc(agg->all, agg->cap_series * sizeof *agg->all);
    }
    agg->all[agg->n_series++] = s;
    if (agg->n_series * 2 > agg->table_size)
        table_rebuild(agg, agg->table_size * 2);
    else
        table_insert(agg, s);
    return s;
}

static void series_free(series *s)
{
    for (size_t i = 0; i < s->cap_buckets; i++)
        free(s->buckets[i].values);
    free(s->buckets);
    free(s->key);
    free(s);
}

/* ---- folding samples ----------------------------------------------------- */

static bucket *bucket_for(series *s, int64_t time_ms)
{
    for (size_t i = s->n_buckets; i-- > 0;)
        if (s->buckets[i].time_ms == time_ms)
            return &s->buckets[i];
    if (s->n_buckets == s->cap_buckets) {
        size_t cap = s->cap_buckets ? s->cap_buckets * 2 : 2;
        s->buckets = tw_realloc(s->buckets, cap * sizeof *s->buckets);
        memset(s->buckets + s->cap_buckets, 0, (cap - s->cap_buckets) * sizeof *s->buckets);
        s->cap_buckets = cap;
    }
    bucket *b = &s->buckets[s->n_buckets++];
    b->time_ms = time_ms;
    b->count = 0;
    b->n_values = 0; /* values keeps its capacity across flushes */
    return b;
}

static void add_value(bucket *b, double value, double count)
{
    for (size_t i = b->n_values; i-- > 0;)
        if (b->values[i].value == value) {
            b->values[i].count += count;
            return;
        }
    if (b->n_values == MAX_DISTINCT_VALUES)
        return; /* the statistics still count it; only the percentile detail is capped */
    if (b->n_values == b->cap_values) {
        b->cap_values = b->cap_values ? b->cap_values * 2 : 16;
        b->values = tw_realloc(b->values, b->cap_values * sizeof *b->values);
    }
    b->values[b->n_values++] = (value_count){value, count};
}

static void fold(series *s, bucket *b, const tw_metric_sample *sample)
{
    double count = sample->count > 0 ? sample->count : 1;
    double v = sample->value;
    if (b->count == 0) {
        b->min = b->max = v;
        b->sum = 0;
    }
    b->count += count;
    b->sum += v * count;
    if (v < b->min)
        b->min = v;
    if (v > b->max)
        b->max = v;
    if (s->kind == TW_METRIC_DISTRIBUTION)
        add_value(b, v, count);
}

static void note_reject(tw_metric_agg *agg, const char *label, const char *why)
{
    agg->stats.rejected++;
    if (agg->rejects_logged < LOGGED_REJECTS || agg->stats.rejected % 1000 == 0) {
        agg->rejects_logged++;
        tw_warn("%s: metric dropped: %s (%llu dropped so far)", label, why,
                (unsigned long long)agg->stats.rejected);
    }
}

static int agg_emit(void *ctx, const tw_metric_sample *sample)
{
    agg_sink *sink = ctx;
    tw_metric_agg *agg = sink->agg;
    char why[256];
    if (tw_metric_sample_check(sample, why, sizeof why) != 0) {
        note_reject(agg, sink->label, why);
        return -EINVAL;
    }
    tw_dimension dims[TW_METRIC_MAX_DIMENSIONS];
    int n = complete_dimensions(agg, sample, dims);
    if (n < 0) {
        note_reject(agg, sink->label,
                    "more than 30 dimensions with the host and configured ones added");
        return -EINVAL;
    }
    const char *ns = sample->namespace_ ? sample->namespace_ : agg->namespace_;
    const char *unit = sample->unit ? tw_metric_unit_lookup(sample->unit) : "None";
    build_key(&agg->key, ns, sample->name, unit, dims, (size_t)n);
    uint64_t hash = fnv1a(agg->key.data, agg->key.len);
    series *s = table_find(agg, &agg->key, hash);
    if (!s) {
        if (agg->n_series >= agg->max_series) {
            if (agg->stats.dropped_series++ % 10000 == 0)
                tw_warn("%s: metric %s dropped: already %zu series (max_series); "
                        "%llu samples of new series dropped so far",
                        sink->label, sample->name, agg->n_series,
                        (unsigned long long)agg->stats.dropped_series);
            return -ENOSPC;
        }
        s = series_new(agg, &agg->key, hash, sample->kind);
    }
    int64_t t = sample->time_ms > 0 ? sample->time_ms : tw_time_now_ms();
    int64_t start = t - ((t % agg->bucket_ms) + agg->bucket_ms) % agg->bucket_ms;
    fold(s, bucket_for(s, start), sample);
    s->idle_flushes = 0;
    agg->stats.samples++;
    return 0;
}

tw_metric_sink tw_metric_agg_sink(tw_metric_agg *agg, const char *label)
{
    /* Sinks are few (one per input) and live as long as the aggregator: they
     * are kept in a list freed with it. */
    agg_sink *sink = tw_calloc(1, sizeof *sink);
    sink->agg = agg;
    sink->label = label;
    agg->sinks = tw_realloc(agg->sinks, (agg->n_sinks + 1) * sizeof *agg->sinks);
    agg->sinks[agg->n_sinks++] = sink;
    return (tw_metric_sink){.emit = agg_emit, .ctx = sink};
}

/* ---- flush --------------------------------------------------------------- */

static int compare_value(const void *a, const void *b)
{
    double x = ((const value_count *)a)->value, y = ((const value_count *)b)->value;
    return (x > y) - (x < y);
}

static void flush_bucket(tw_metric_agg *agg, const series *s, bucket *b, tw_metric_datum_fn fn,
                         void *ctx)
{
    tw_metric_datum d = {
        .name = s->name,
        .unit = s->unit,
        .dimensions = s->dimensions,
        .n_dimensions = s->n_dimensions,
        .time_ms = b->time_ms,
        .storage_resolution = agg->storage_resolution,
    };
    double values[MAX_DISTINCT_VALUES], counts[MAX_DISTINCT_VALUES];
    if (s->kind == TW_METRIC_GAUGE && b->count == 1) {
        d.has_value = true;
        d.value = b->sum;
    } else {
        d.has_statistics = true;
        d.sample_count = b->count;
        d.sum = b->sum;
        d.minimum = b->min;
        d.maximum = b->max;
    }
    if (s->kind == TW_METRIC_DISTRIBUTION && b->n_values > 0) {
        qsort(b->values, b->n_values, sizeof *b->values, compare_value);
        for (size_t i = 0; i < b->n_values; i++) {
            values[i] = b->values[i].value;
            counts[i] = b->values[i].count;
        }
        d.values = values;
        d.counts = counts;
        d.n_values = b->n_values;
    }
    agg->stats.datums++;
    fn(ctx, s->namespace_, &d);
}

/* Series that saw nothing for a while go, so that the table tracks what is
 * live rather than everything ever seen. */
static void forget_idle(tw_metric_agg *agg)
{
    size_t kept = 0;
    for (size_t i = 0; i < agg->n_series; i++) {
        series *s = agg->all[i];
        if (s->idle_flushes > IDLE_FLUSHES_BEFORE_FORGET)
            series_free(s);
        else
            agg->all[kept++] = s;
    }
    if (kept != agg->n_series) {
        agg->n_series = kept;
        table_rebuild(agg, agg->table_size);
    }
}

void tw_metric_agg_flush(tw_metric_agg *agg, tw_metric_datum_fn fn, void *ctx)
{
    /* Namespaces are few: one pass per namespace keeps each one's datums
     * together without sorting the series. */
    for (size_t first = 0; first < agg->n_series; first++) {
        const char *ns = agg->all[first]->namespace_;
        bool seen = false;
        for (size_t j = 0; j < first && !seen; j++)
            seen = strcmp(agg->all[j]->namespace_, ns) == 0;
        if (seen)
            continue;
        for (size_t i = first; i < agg->n_series; i++) {
            series *s = agg->all[i];
            if (strcmp(s->namespace_, ns) != 0)
                continue;
            for (size_t k = 0; k < s->n_buckets; k++)
                flush_bucket(agg, s, &s->buckets[k], fn, ctx);
        }
    }
    for (size_t i = 0; i < agg->n_series; i++) {
        series *s = agg->all[i];
        if (s->n_buckets == 0)
            s->idle_flushes++;
        s->n_buckets = 0;
    }
    forget_idle(agg);
}

/* ---- lifetime ------------------------------------------------------------ */

tw_metric_agg *tw_metric_agg_new(const tw_metric_agg_options *options)
{
    tw_metric_agg *agg = tw_calloc(1, sizeof *agg);
    agg->namespace_ = tw_strdup(options->namespace_);
    agg->hostname = options->hostname ? tw_strdup(options->hostname) : NULL;
    agg->n_dimensions = options->n_dimensions;
    agg->dimensions = tw_calloc(options->n_dimensions ? options->n_dimensions : 1,
                                sizeof *agg->dimensions);
    for (size_t i = 0; i < options->n_dimensions; i++) {
        agg->dimensions[i].name = tw_strdup(options->dimensions[i].name);
        agg->dimensions[i].value = tw_strdup(options->dimensions[i].value);
    }
    agg->storage_resolution = options->storage_resolution == 1 ? 1 : 60;
    agg->bucket_ms = agg->storage_resolution * INT64_C(1000);
    agg->max_series = options->max_series ? options->max_series : DEFAULT_MAX_SERIES;
    agg->table_size = 256;
    agg->table = tw_calloc(agg->table_size, sizeof *agg->table);
    return agg;
}

void tw_metric_agg_free(tw_metric_agg *agg)
{
    if (!agg)
        return;
    for (size_t i = 0; i < agg->n_series; i++)
        series_free(agg->all[i]);
    for (size_t i = 0; i < agg->n_dimensions; i++) {
        free((char *)agg->dimensions[i].name);
        free((char *)agg->dimensions[i].value);
    }
    for (size_t i = 0; i < agg->n_sinks; i++)
        free(agg->sinks[i]);
    free(agg->sinks);
    free(agg->dimensions);
    free(agg->all);
    free(agg->table);
    tw_buf_free(&agg->key);
    free(agg->hostname);
    free(agg->namespace_);
    free(agg);
}

void tw_metric_agg_stats_get(const tw_metric_agg *agg, tw_metric_agg_stats *out)
{
    *out = agg->stats;
    out->series = agg->n_series;
}
