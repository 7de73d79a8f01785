/* statsd_agg.h — StatsD aggregation between flushes: one series per
 * name + type + sorted tags, each turned into samples at every flush.
 *
 * What a flush emits (time_ms = the flush time; the tags as dimensions, in
 * name order):
 *   c    counter: one sample, the sum of value/rate over the interval; unit
 *        Count. Reset at every flush; nothing is emitted for an interval
 *        without data (CloudWatch has no use for the zeros etsy statsd sends).
 *   g    gauge: the last value; unit None. A signed value ("+3", "-3") adds
 *        to the current one (0 when there is none). Kept across flushes and
 *        emitted again at every flush, as etsy statsd does by default
 *        (deleteGauges false), so that a gauge reported less often than the
 *        flush interval still has a datapoint in every period, until the
 *        series expires (below).
 *   s    set: the number of distinct members seen in the interval; unit
 *        Count. Reset at every flush. Members are told apart by a 64-bit
 *        hash: two members colliding (odds ~n²/2^65) count once.
 *   ms   timer, h histogram, d distribution: a distribution, emitted as
 *        TW_METRIC_DISTRIBUTION samples, one per distinct value with the
 *        number of times it was seen (1/rate per observation), so that the
 *        pipeline sends Values/Counts and CloudWatch computes percentiles
 *        (p50, p90, p99...) as it does for the CloudWatch agent's statsd
 *        timers. Up to TW_STATSD_EXACT_VALUES distinct values in an interval
 *        are kept exactly; past that, values go into logarithmic buckets
 *        whose representative is within TW_STATSD_BUCKET_ERROR (1 %) of every
 *        value in the bucket, so sums, minimum, maximum and every percentile
 *        are within 1 % as well. Unit Milliseconds for ms; None for h and d,
 *        whose values need not be durations. Reset at every flush.
 *
 * Expiry: a series that received nothing for expire_flushes flushes in a row
 * is forgotten (its memory freed, its slot under max_series returned); a
 * gauge then stops being emitted and a later relative update starts from 0.
 * 0 keeps series forever.
 *
 * Cardinality: at most max_series series exist; a line that would create
 * another is refused (tw_statsd_agg_add returns -ENOSPC) and the caller counts
 * it. Existing series keep working.
 *
 * Memory: each series is one allocation made when it is created (key, name,
 * dimensions, state); sets and distributions keep their tables' size across
 * flushes, so a steady stream of known series allocates nothing.
 *
 * One thread at a time (the listener's loop thread); the caller owns the
 * tw_statsd_agg and frees it with tw_statsd_agg_free.
 */
#ifndef TW_STATSD_AGG_H
#define TW_STATSD_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "metric.h"
#include "statsd_parse.h"

#define TW_STATSD_EXACT_VALUES 150   /* one PutMetricData datum's worth */
#define TW_STATSD_BUCKET_ERROR 0.01  /* relative error of a bucketed value */

typedef struct tw_statsd_agg tw_statsd_agg;

typedef struct tw_statsd_agg_options {
    size_t max_series;       /* 0: no limit */
    unsigned expire_flushes; /* 0: series never expire */
    const char *namespace_;  /* put in every sample; NULL: the [metrics] one */
} tw_statsd_agg_options;

typedef struct tw_statsd_flush_result {
    uint64_t samples;  /* emitted and accepted by the sink */
    uint64_t rejected; /* emitted and refused by the sink */
    uint64_t expired;  /* series forgotten at this flush */
} tw_statsd_flush_result;

/* Never fails (allocation failures abort, mem.h). The options are copied;
 * namespace_ is borrowed and must outlive the aggregator. */
tw_statsd_agg *tw_statsd_agg_new(const tw_statsd_agg_options *options);
void tw_statsd_agg_free(tw_statsd_agg *agg);

/* Adds a parsed line. Returns 0, or -ENOSPC when its series is new and
 * max_series already exist (the line is then dropped). */
int tw_statsd_agg_add(tw_statsd_agg *agg, const tw_statsd_line *line);

/* Emits every series' samples for the interval that ends now (see above),
 * resets counters, sets and distributions, expires idle series. result may
 * be NULL. */
void tw_statsd_agg_flush(tw_statsd_agg *agg, int64_t now_ms, const tw_metric_sink *sink,
                         tw_statsd_flush_result *result);

/* How many series exist now. */
size_t tw_statsd_agg_series(const tw_statsd_agg *agg);

/* The value a bucketed distribution reports for v (exposed for tests). */
double tw_statsd_bucket_value(double v);

#endif
