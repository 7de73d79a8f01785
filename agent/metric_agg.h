/* metric_agg.h — the metric pipeline between inputs and the CloudWatch
 * metrics output: per-series aggregation between flushes.
 *
 * Inputs emit tw_metric_sample values through tw_metric_agg_sink(). The
 * aggregator checks each sample (metric.h rules; a bad one is counted and
 * the first few are logged with the input's name), completes its identity
 * (namespace, `host` dimension first as the CloudWatch agent does, then the
 * configured dimensions, then the input's, sorted by name) and folds it into
 * the series' bucket for its time: buckets are 1 s wide at high resolution
 * and 60 s wide at standard resolution, so a 1-second interval keeps every
 * second and a 10-second StatsD flush folds into the minute. Each bucket
 * keeps SampleCount, Sum, Minimum, Maximum, and for distributions the
 * distinct values with their counts.
 *
 * tw_metric_agg_flush() hands every bucket to a callback as a
 * tw_metric_datum (one observation as Value; more as StatisticValues, plus
 * Values/Counts for distributions) and forgets them. Series idle for a while
 * are forgotten too; at most max_series live at once and new ones beyond
 * that are dropped and counted (a cardinality guard: a StatsD client that
 * puts request ids in names must not eat the machine).
 *
 * Loop thread only. The aggregator owns copies of everything it keeps.
 */
#ifndef TW_METRIC_AGG_H
#define TW_METRIC_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "metric.h"

typedef struct tw_metric_agg tw_metric_agg;

typedef struct tw_metric_agg_options {
    const char *namespace_;          /* for samples without one; required */
    const char *hostname;            /* value of the host dimension; NULL: none */
    const tw_dimension *dimensions;  /* added to every series (copied) */
    size_t n_dimensions;
    int storage_resolution;          /* 1 or 60 */
    size_t max_series;               /* 0: 50,000 */
} tw_metric_agg_options;

typedef struct tw_metric_agg_stats {
    uint64_t samples;         /* accepted */
    uint64_t rejected;        /* broke a CloudWatch rule */
    uint64_t dropped_series;  /* samples dropped by the max_series guard */
    uint64_t datums;          /* handed to flush callbacks */
    size_t series;            /* live now */
} tw_metric_agg_stats;

tw_metric_agg *tw_metric_agg_new(const tw_metric_agg_options *options);
void tw_metric_agg_free(tw_metric_agg *agg);

/* A sink for one input: label names the input in messages ("cpu",
 * "exec queue-depth"); it is borrowed and must outlive the sink's use. The
 * returned sink borrows agg. */
tw_metric_sink tw_metric_agg_sink(tw_metric_agg *agg, const char *label);

/* Called once per datum; the datum and the strings it points to are valid
 * only during the call. Datums of one namespace come together, ordered by
 * series then time. */
typedef void (*tw_metric_datum_fn)(void *ctx, const char *namespace_,
                                   const tw_metric_datum *datum);

/* Hands out every bucket and empties them. */
void tw_metric_agg_flush(tw_metric_agg *agg, tw_metric_datum_fn fn, void *ctx);

void tw_metric_agg_stats_get(const tw_metric_agg *agg, tw_metric_agg_stats *out);

#endif
