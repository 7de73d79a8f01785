/* cwm_encode.c — datums into PutMetricData query bodies (see cwm_encode.h). */
#include "cwm_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "mem.h"
#include "timefmt.h"

struct tw_cwm_batcher {
    size_t max_body;
    tw_cwm_body_fn fn;
    void *ctx;
    char *namespace_; /* of the body being filled */
    tw_buf body;
    size_t n_datums;
    tw_buf member; /* scratch: one datum's members */
};

void tw_cwm_format_double(tw_buf *out, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.15g", v);
    if (strtod(text, NULL) != v)
        snprintf(text, sizeof text, "%.17g", v);
    tw_buf_puts(out, text);
}

static void put_text(tw_buf *out, const char *text)
{
    tw_uri_encode(text, strlen(text), TW_URI_ENCODE_SLASH, out);
}

static void put_time(tw_buf *out, int64_t ms)
{
    if (ms % 1000 == 0) {
        char text[TW_ISO8601_SIZE];
        tw_time_format_iso8601(ms, text);
        put_text(out, text);
    } else {
        char text[TW_ISO8601_MS_SIZE];
        tw_time_format_iso8601_ms(ms, text);
        put_text(out, text);
    }
}

/* Writes "&MetricData.member.N.<what>" for the datum's members. */
static void encode_datum(tw_buf *out, size_t n, const tw_metric_datum *d, const double *values,
                         const double *counts, size_t n_values, const double stats[4])
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "&MetricData.member.%zu.", n);
    tw_buf_printf(out, "%sMetricName=", prefix);
    put_text(out, d->name);
    for (size_t i = 0; i < d->n_dimensions; i++) {
        tw_buf_printf(out, "%sDimensions.member.%zu.Name=", prefix, i + 1);
        put_text(out, d->dimensions[i].name);
        tw_buf_printf(out, "%sDimensions.member.%zu.Value=", prefix, i + 1);
        put_text(out, d->dimensions[i].value);
    }
    tw_buf_printf(out, "%sTimestamp=", prefix);
    put_time(out, d->time_ms);
    if (d->has_value) {
        tw_buf_printf(out, "%sValue=", prefix);
        tw_cwm_format_double(out, d->value);
    }
    if (stats) {
        static const char *const names[4] = {"SampleCount", "Sum", "Minimum", "Maximum"};
        for (int i = 0; i < 4; i++) {
            tw_buf_printf(out, "%sStatisticValues.%s=", prefix, names[i]);
            tw_cwm_format_double(out, stats[i]);
        }
    }
    for (size_t i = 0; i < n_values; i++) {
        tw_buf_printf(out, "%sValues.member.%zu=", prefix, i + 1);
        tw_cwm_format_double(out, values[i]);
        tw_buf_printf(out, "%sCounts.member.%zu=", prefix, i + 1);
        tw_cwm_format_double(out, counts[i]);
    }
    tw_buf_printf(out, "%sUnit=", prefix);
    put_text(out, d->unit);
    if (d->storage_resolution == 1)
        tw_buf_printf(out, "%sStorageResolution=1", prefix);
}

static void start_body(tw_cwm_batcher *b, const char *namespace_)
{
    free(b->namespace_);
    b->namespace_ = tw_strdup(namespace_);
    tw_buf_reset(&b->body);
    tw_buf_puts(&b->body, "Action=PutMetricData&Version=2010-08-01&Namespace=");
    put_text(&b->body, namespace_);
    b->n_datums = 0;
}

void tw_cwm_batcher_finish(tw_cwm_batcher *b)
{
    if (b->n_datums == 0)
        return;
    b->fn(b->ctx, b->namespace_, &b->body, b->n_datums);
    tw_buf_reset(&b->body);
    b->n_datums = 0;
}

/* Adds one encoded MetricData member, cutting the body first if it would
 * break a limit. */
static void add_member(tw_cwm_batcher *b, const char *namespace_, const tw_metric_datum *d,
                       const double *values, const double *counts, size_t n_values,
                       const double stats[4])
{
    if (b->n_datums > 0 && strcmp(b->namespace_, namespace_) != 0)
        tw_cwm_batcher_finish(b);
    if (b->n_datums == 0)
        start_body(b, namespace_);
    tw_buf_reset(&b->member);
    encode_datum(&b->member, b->n_datums + 1, d, values, counts, n_values, stats);
    if (b->n_datums == TW_METRIC_MAX_DATUMS || b->body.len + b->member.len > b->max_body) {
        tw_cwm_batcher_finish(b);
        start_body(b, namespace_);
        tw_buf_reset(&b->member);
        encode_datum(&b->member, 1, d, values, counts, n_values, stats);
    }
    tw_buf_append(&b->body, b->member.data, b->member.len);
    b->n_datums++;
}

void tw_cwm_batcher_add(tw_cwm_batcher *b, const char *namespace_, const tw_metric_datum *d)
{
    double whole[4] = {d->sample_count, d->sum, d->minimum, d->maximum};
    if (d->n_values <= TW_METRIC_MAX_VALUES) {
        add_member(b, namespace_, d, d->values, d->counts, d->n_values,
                   d->has_statistics ? whole : NULL);
        return;
    }
    /* More than 150 values: parts of 150, each with its own statistics so
     * that CloudWatch's sums over the parts equal the whole. */
    for (size_t first = 0; first < d->n_values; first += TW_METRIC_MAX_VALUES) {
        size_t n = d->n_values - first;
        if (n > TW_METRIC_MAX_VALUES)
            n = TW_METRIC_MAX_VALUES;
        double part[4] = {0, 0, d->values[first], d->values[first]};
        for (size_t i = first; i < first + n; i++) {
            part[0] += d->counts[i];
            part[1] += d->values[i] * d->counts[i];
            if (d->values[i] < part[2])
                part[2] = d->values[i];
            if (d->values[i] > part[3])
                part[3] = d->values[i];
        }
        add_member(b, namespace_, d, d->values + first, d->counts + first, n, part);
    }
}

tw_cwm_batcher *tw_cwm_batcher_new(size_t max_body_bytes, tw_cwm_body_fn fn, void *ctx)
{
    tw_cwm_batcher *b = tw_calloc(1, sizeof *b);
    b->max_body = max_body_bytes ? max_body_bytes : TW_CWM_MAX_BODY;
    b->fn = fn;
    b->ctx = ctx;
    return b;
}

void tw_cwm_batcher_free(tw_cwm_batcher *b)
{
    if (!b)
        return;
    tw_buf_free(&b->body);
    tw_buf_free(&b->member);
    free(b->namespace_);
    free(b);
}
