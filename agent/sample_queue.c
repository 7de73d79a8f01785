/* sample_queue.c — copy now, replay later (see sample_queue.h). */
#include "sample_queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

#define NONE SIZE_MAX

/* Offsets into the string buffer, not pointers: it moves as it grows. */
typedef struct queued_sample {
    size_t namespace_, name, unit;
    double value, count;
    int64_t time_ms;
    tw_metric_kind kind;
    size_t first_dimension, n_dimensions;
} queued_sample;

struct tw_sample_queue {
    size_t max_samples;
    tw_buf strings;
    queued_sample *samples;
    size_t n_samples, cap_samples;
    size_t *dimensions; /* name, value offsets in pairs */
    size_t n_dimensions, cap_dimensions;
};

static size_t keep(tw_sample_queue *q, const char *s)
{
    if (!s)
        return NONE;
    size_t at = q->strings.len;
    tw_buf_append(&q->strings, s, strlen(s) + 1);
    return at;
}

static const char *at(const tw_sample_queue *q, size_t offset)
{
    return offset == NONE ? NULL : q->strings.data + offset;
}

static int queue_emit(void *ctx, const tw_metric_sample *s)
{
    tw_sample_queue *q = ctx;
    if (q->n_samples == q->max_samples)
        return -ENOSPC;
    if (q->n_samples == q->cap_samples) {
        q->cap_samples = q->cap_samples ? q->cap_samples * 2 : 32;
        q->samples = tw_realloc(q->samples, q->cap_samples * sizeof *q->samples);
    }
    size_t need = q->n_dimensions + 2 * s->n_dimensions;
    if (need > q->cap_dimensions) {
        while (q->cap_dimensions < need)
            q->cap_dimensions = q->cap_dimensions ? q->cap_dimensions * 2 : 64;
        q->dimensions = tw_realloc(q->dimensions, q->cap_dimensions * sizeof *q->dimensions);
    }
    queued_sample *out = &q->samples[q->n_samples++];
    *out = (queued_sample){
        .namespace_ = keep(q, s->namespace_),
        .name = keep(q, s->name),
        .unit = keep(q, s->unit),
        .value = s->value,
        .count = s->count,
        .time_ms = s->time_ms,
        .kind = s->kind,
        .first_dimension = q->n_dimensions,
        .n_dimensions = s->n_dimensions,
    };
    for (size_t i = 0; i < s->n_dimensions; i++) {
        q->dimensions[q->n_dimensions++] = keep(q, s->dimensions[i].name);
        q->dimensions[q->n_dimensions++] = keep(q, s->dimensions[i].value);
    }
    return 0;
}

tw_sample_queue *tw_sample_queue_new(size_t max_samples)
{
    tw_sample_queue *q = tw_calloc(1, sizeof *q);
    q->max_samples = max_samples;
    return q;
}

void tw_sample_queue_free(tw_sample_queue *q)
{
    if (!q)
        return;
    tw_buf_free(&q->strings);
    free(q->samples);
    free(q->dimensions);
    free(q);
}

tw_metric_sink tw_sample_queue_sink(tw_sample_queue *q)
{
    return (tw_metric_sink){.emit = queue_emit, .ctx = q};
}

size_t tw_sample_queue_drain(tw_sample_queue *q, const tw_metric_sink *sink)
{
    size_t refused = 0;
    tw_dimension dims[TW_METRIC_MAX_DIMENSIONS];
    for (size_t i = 0; i < q->n_samples; i++) {
        const queued_sample *s = &q->samples[i];
        size_t n = s->n_dimensions < TW_METRIC_MAX_DIMENSIONS ? s->n_dimensions
                                                              : TW_METRIC_MAX_DIMENSIONS;
        for (size_t d = 0; d < n; d++) {
            dims[d].name = at(q, q->dimensions[s->first_dimension + 2 * d]);
            dims[d].value = at(q, q->dimensions[s->first_dimension + 2 * d + 1]);
        }
        tw_metric_sample sample = {
            .namespace_ = at(q, s->namespace_),
            .name = at(q, s->name),
            .unit = at(q, s->unit),
            .value = s->value,
            .count = s->count,
            .time_ms = s->time_ms,
            .kind = s->kind,
            .dimensions = dims,
            /* More than 30 is refused by the sink's check: keep the count honest. */
            .n_dimensions = s->n_dimensions,
        };
        if (s->n_dimensions > TW_METRIC_MAX_DIMENSIONS) {
            refused++;
            continue;
        }
        if (tw_metric_emit(sink, &sample) != 0)
            refused++;
    }
    tw_buf_reset(&q->strings);
    q->n_samples = 0;
    q->n_dimensions = 0;
    return refused;
}

size_t tw_sample_queue_length(const tw_sample_queue *q)
{
    return q->n_samples;
}
