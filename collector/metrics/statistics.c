/* statistics.c — the five basic statistics and weighted nearest-rank
 * percentiles of CloudWatch datapoints (see statistics.h for the
 * definitions and where they come from). */
#include "statistics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const char *const basic_names[] = {
    [TW_STAT_SAMPLE_COUNT] = "SampleCount", [TW_STAT_AVERAGE] = "Average",
    [TW_STAT_SUM] = "Sum",                  [TW_STAT_MINIMUM] = "Minimum",
    [TW_STAT_MAXIMUM] = "Maximum",
};

int tw_statistic_parse_basic(const char *text, tw_statistic *out)
{
    for (int k = TW_STAT_SAMPLE_COUNT; k <= TW_STAT_MAXIMUM; k++) {
        if (strcmp(text, basic_names[k]) == 0) {
            out->kind = (tw_statistic_kind)k;
            out->percentile = 0;
            return 0;
        }
    }
    return -EINVAL;
}

/* Digits are read by hand so that "p 9", "p+9", "p9e1" and "p0x1" (which
 * strtod would take) are refused. */
int tw_statistic_parse_percentile(const char *text, tw_statistic *out)
{
    if (text[0] != 'p')
        return -EINVAL;
    const char *s = text + 1;
    double whole = 0, fraction = 0, scale = 1;
    int int_digits = 0, frac_digits = 0;
    while (*s >= '0' && *s <= '9' && int_digits < 4) {
        whole = whole * 10 + (*s++ - '0');
        int_digits++;
    }
    if (int_digits == 0 || int_digits > 3)
        return -EINVAL;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9' && frac_digits < 3) {
            scale /= 10;
            fraction += (*s++ - '0') * scale;
            frac_digits++;
        }
        if (frac_digits == 0 || frac_digits > 2)
            return -EINVAL;
    }
    double p = whole + fraction;
    if (*s != '\0' || p > 100)
        return -EINVAL;
    out->kind = TW_STAT_PERCENTILE;
    out->percentile = p;
    return 0;
}

int tw_statistic_parse(const char *text, tw_statistic *out)
{
    if (tw_statistic_parse_basic(text, out) == 0)
        return 0;
    return tw_statistic_parse_percentile(text, out);
}

const char *tw_statistic_basic_name(tw_statistic_kind kind)
{
    return kind <= TW_STAT_MAXIMUM ? basic_names[kind] : NULL;
}

void tw_stat_summary_init(tw_stat_summary *s)
{
    s->count = 0;
    s->sum = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
}

void tw_stat_summary_add(tw_stat_summary *s, double count, double sum, double min, double max)
{
    if (!(count > 0))
        return;
    s->count += count;
    s->sum += sum;
    if (min < s->min)
        s->min = min;
    if (max > s->max)
        s->max = max;
}

void tw_stat_summary_merge(tw_stat_summary *into, const tw_stat_summary *from)
{
    tw_stat_summary_add(into, from->count, from->sum, from->min, from->max);
}

bool tw_stat_summary_value(const tw_stat_summary *s, tw_statistic_kind kind, double *out)
{
    if (!(s->count > 0))
        return false;
    switch (kind) {
    case TW_STAT_SAMPLE_COUNT: *out = s->count; return true;
    case TW_STAT_SUM: *out = s->sum; return true;
    case TW_STAT_AVERAGE: *out = s->sum / s->count; return true;
    case TW_STAT_MINIMUM: *out = s->min; return true;
    case TW_STAT_MAXIMUM: *out = s->max; return true;
    case TW_STAT_PERCENTILE: return false;
    }
    return false;
}

void tw_stat_pairs_push(tw_stat_pairs *v, double value, double count)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = tw_realloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n].value = value;
    v->items[v->n].count = count;
    v->n++;
}

void tw_stat_pairs_clear(tw_stat_pairs *v)
{
    v->n = 0;
}

void tw_stat_pairs_free(tw_stat_pairs *v)
{
    free(v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}

static void put_double_le(uint8_t *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(bits >> (8 * i));
}

static double get_double_le(const uint8_t *p)
{
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)p[i] << (8 * i);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

void tw_stat_pairs_encode(const tw_stat_pair *pairs, size_t n, tw_buf *out)
{
    tw_buf_reserve(out, n * 16);
    for (size_t i = 0; i < n; i++) {
        uint8_t bytes[16];
        put_double_le(bytes, pairs[i].value);
        put_double_le(bytes + 8, pairs[i].count);
        tw_buf_append(out, bytes, sizeof bytes);
    }
}

int tw_stat_pairs_append_blob(tw_stat_pairs *v, const void *blob, size_t len)
{
    if (len % 16 != 0)
        return -EINVAL;
    const uint8_t *p = blob;
    for (size_t off = 0; off < len; off += 16)
        tw_stat_pairs_push(v, get_double_le(p + off), get_double_le(p + off + 8));
    return 0;
}

static int compare_pairs(const void *a, const void *b)
{
    double x = ((const tw_stat_pair *)a)->value, y = ((const tw_stat_pair *)b)->value;
    return (x > y) - (x < y);
}

size_t tw_stat_pairs_compact(tw_stat_pair *pairs, size_t n)
{
    if (n == 0)
        return 0;
    qsort(pairs, n, sizeof *pairs, compare_pairs);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].count == 0)
            continue;
        if (out > 0 && pairs[out - 1].value == pairs[i].value)
            pairs[out - 1].count += pairs[i].count;
        else
            pairs[out++] = pairs[i];
    }
    return out;
}

void tw_stat_summary_from_pairs(tw_stat_summary *s, const tw_stat_pair *pairs, size_t n)
{
    tw_stat_summary_init(s);
    for (size_t i = 0; i < n; i++) {
        double c = pairs[i].count, v = pairs[i].value;
        tw_stat_summary_add(s, c, v * c, v, v);
    }
}

bool tw_stat_percentile(tw_stat_pair *pairs, size_t n, double p, double *out)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].value < 0 && pairs[i].count > 0)
            return false;
        if (pairs[i].count > 0)
            total += pairs[i].count;
    }
    if (!(total > 0))
        return false;
    qsort(pairs, n, sizeof *pairs, compare_pairs);
    /* The rank threshold, with a little slack so that 0.95 * 20 computed as
     * 19.000000000000004 still picks the 19th sample. */
    double threshold = p / 100.0 * total;
    threshold -= total * 1e-12;
    double cumulative = 0;
    const tw_stat_pair *last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(pairs[i].count > 0))
            continue;
        cumulative += pairs[i].count;
        last = &pairs[i];
        if (cumulative >= threshold) {
            *out = pairs[i].value;
            return true;
        }
    }
    *out = last->value; /* rounding left the threshold just above the total */
    return true;
}

bool tw_stat_set_as_pair(double count, double sum, double min, double max, tw_stat_pair *pair)
{
    if (!(count > 0))
        return false;
    if (min == max) {
        pair->value = min;
        pair->count = count;
        return true;
    }
    if (count == 1) {
        pair->value = sum;
        pair->count = 1;
        return true;
    }
    return false;
}
