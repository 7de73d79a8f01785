/* metric.h — the agent's metric model: what an input produces (a sample)
 * and what the CloudWatch metrics output sends (a datum).
 *
 * Inputs (cpu, mem, net, disk, diskio, plugins, exec, statsd, the agent's own
 * counters) hand samples to a tw_metric_sink; the sink belongs to the
 * pipeline (metric_agg.h), which aggregates samples of the same series
 * between flushes and turns them into datums for out_cloudwatch_metrics.
 *
 * A series is namespace + name + unit + the exact set of dimensions
 * (CloudWatch keeps data published with another unit separately, and
 * dimension order does not matter). The pipeline adds the `host` dimension
 * (first, as the CloudWatch agent does) and the configured ones; inputs give
 * only their own (`cpu`, `interface`, `path`, `device`, ...).
 *
 * Everything here is borrowed: a sink copies what it keeps before emit
 * returns, so inputs may pass stack buffers and reuse them.
 */
#ifndef TW_METRIC_H
#define TW_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CloudWatch limits (shared/spec/cloudwatch.md §3.1). */
#define TW_METRIC_MAX_DIMENSIONS 30
#define TW_METRIC_MAX_VALUES 150   /* Values/Counts per datum */
#define TW_METRIC_MAX_DATUMS 1000  /* per PutMetricData */
#define TW_METRIC_NAME_MAX 255
#define TW_METRIC_DIM_NAME_MAX 255
#define TW_METRIC_DIM_VALUE_MAX 1024

typedef struct tw_dimension {
    const char *name;
    const char *value;
} tw_dimension;

/* How samples of one series combine within a flush period. */
typedef enum tw_metric_kind {
    TW_METRIC_GAUGE,        /* each sample is an observation: SampleCount/Sum/Min/Max */
    TW_METRIC_DISTRIBUTION, /* keep the values too (Values/Counts): percentiles */
} tw_metric_kind;

/* One observation. unit is a CloudWatch StandardUnit name ("Percent",
 * "Bytes", "Bytes/Second", "Count", "Milliseconds", "None"); NULL means
 * "None". time_ms is epoch ms (0: the time of the emit). count is how many
 * observations value stands for (StatsD sample rates: 1/rate); 0 means 1. */
typedef struct tw_metric_sample {
    const char *namespace_; /* NULL: the [metrics] namespace */
    const char *name;
    const char *unit;
    double value;
    double count;
    int64_t time_ms;
    tw_metric_kind kind;
    const tw_dimension *dimensions;
    size_t n_dimensions;
} tw_metric_sample;

/* Where an input puts its samples. emit returns 0, or -EINVAL when the
 * sample breaks a CloudWatch rule (name empty or too long, unit unknown,
 * value NaN/infinite or beyond ±2^360, more than 29 dimensions of its own,
 * a dimension name or value empty or too long); the sink counts rejected
 * samples per input and logs the first few with the reason. */
typedef struct tw_metric_sink {
    int (*emit)(void *ctx, const tw_metric_sample *sample);
    void *ctx;
} tw_metric_sink;

static inline int tw_metric_emit(const tw_metric_sink *sink, const tw_metric_sample *sample)
{
    return sink->emit(sink->ctx, sample);
}

/* A gauge with n dimensions (0 allowed), as the host inputs emit them. A
 * rejected sample is counted and logged by the sink; inputs go on. */
static inline void tw_metric_emit_gauge(const tw_metric_sink *sink, const char *name,
                                        const char *unit, double value, int64_t time_ms,
                                        const tw_dimension *dimensions, size_t n_dimensions)
{
    tw_metric_sample s = {
        .name = name,
        .unit = unit,
        .value = value,
        .time_ms = time_ms,
        .kind = TW_METRIC_GAUGE,
        .dimensions = dimensions,
        .n_dimensions = n_dimensions,
    };
    (void)tw_metric_emit(sink, &s);
}

/* One MetricDatum of PutMetricData, as the aggregator produces it.
 * Exactly what is set is sent: a single observation goes as Value; more go
 * as StatisticValues, with Values/Counts too for distributions (the
 * encoder splits a distribution of more than 150 values over several datums
 * with the same identity, each with its own StatisticValues). */
typedef struct tw_metric_datum {
    const char *name;
    const char *unit; /* never NULL here: "None" at least */
    const tw_dimension *dimensions;
    size_t n_dimensions;
    int64_t time_ms;
    int storage_resolution; /* 1 or 60 */
    bool has_value;
    double value;
    bool has_statistics;
    double sample_count, sum, minimum, maximum;
    const double *values; /* n_values distinct values, with their counts */
    const double *counts;
    size_t n_values;
} tw_metric_datum;

/* The 27 StandardUnit names; returns the canonical spelling of name, or
 * NULL when it is not one (case-sensitive, as CloudWatch is). */
const char *tw_metric_unit_lookup(const char *name);

/* The same ignoring case, for "did you mean" hints ("percent" -> "Percent"). */
const char *tw_metric_unit_lookup_nocase(const char *name);

/* Checks a sample against the rules listed at tw_metric_sink.emit; on
 * failure returns -EINVAL and writes a short reason into why. */
int tw_metric_sample_check(const tw_metric_sample *sample, char *why, size_t why_size);

#endif
