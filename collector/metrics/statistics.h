/* statistics.h — CloudWatch's statistics over metric samples.
 *
 * What a datapoint of GetMetricStatistics / GetMetricData is made of: the
 * five basic statistics (SampleCount, Sum, Minimum, Maximum, Average =
 * Sum/SampleCount) kept as a running summary, and percentiles (pNN.NN)
 * computed from weighted samples — (value, count) pairs, which is what
 * PutMetricData's Value (count 1), Values+Counts and percentile-usable
 * StatisticValues turn into (spec/cloudwatch.md §3.1, §3.3).
 *
 * Percentile definition (nearest rank, weighted): pP is the smallest sample
 * value v such that the samples <= v carry at least P% of the total count.
 * CloudWatch documents pNN as "95 percent of the data within the period is
 * lower than this value and 5 percent of the data is higher than this value"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html)
 * and does not document interpolation; nearest rank returns a value that was
 * actually observed (as CloudWatch's answers are) and extends to fractional
 * Counts. p0 is the minimum, p100 the maximum. "Percentile statistics are not
 * available for metrics when any of the metric values are negative numbers"
 * (GetMetricStatistics API reference): such samples yield no percentile.
 *
 * Everything here is pure; nothing allocates except the tw_stat_pairs vector
 * (its owner frees it with tw_stat_pairs_free).
 */
#ifndef TW_METRICS_STATISTICS_H
#define TW_METRICS_STATISTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum tw_statistic_kind {
    TW_STAT_SAMPLE_COUNT,
    TW_STAT_AVERAGE,
    TW_STAT_SUM,
    TW_STAT_MINIMUM,
    TW_STAT_MAXIMUM,
    TW_STAT_PERCENTILE,
} tw_statistic_kind;

typedef struct tw_statistic {
    tw_statistic_kind kind;
    double percentile; /* 0..100, for TW_STAT_PERCENTILE */
} tw_statistic;

/* "SampleCount", "Average", "Sum", "Minimum", "Maximum" (exact case).
 * Returns 0, or -EINVAL. */
int tw_statistic_parse_basic(const char *text, tw_statistic *out);
/* "p99", "p99.9", "p0", "p100", "p50.25": 'p', 1 to 3 integer digits, at
 * most two decimals, 0 <= P <= 100 (the GetMetricStatistics ExtendedStatistic
 * form pNN.NN). Returns 0, or -EINVAL. */
int tw_statistic_parse_percentile(const char *text, tw_statistic *out);
/* Either form (GetMetricData's MetricStat.Stat). */
int tw_statistic_parse(const char *text, tw_statistic *out);
/* "SampleCount" ... "Maximum"; NULL for TW_STAT_PERCENTILE. */
const char *tw_statistic_basic_name(tw_statistic_kind kind);

/* ---- the running summary ---- */

typedef struct tw_stat_summary {
    double count; /* SampleCount; 0 = no data */
    double sum;
    double min;
    double max;
} tw_stat_summary;

void tw_stat_summary_init(tw_stat_summary *s);
/* Adds a statistic set (one Value is the set {1, v, v, v}). A set with
 * count 0 adds nothing. */
void tw_stat_summary_add(tw_stat_summary *s, double count, double sum, double min, double max);
void tw_stat_summary_merge(tw_stat_summary *into, const tw_stat_summary *from);
/* The value of a basic statistic; false for an empty summary or a
 * percentile (those need samples: tw_stat_percentile). */
bool tw_stat_summary_value(const tw_stat_summary *s, tw_statistic_kind kind, double *out);

/* ---- weighted samples ---- */

typedef struct tw_stat_pair {
    double value;
    double count;
} tw_stat_pair;

/* A growable vector of pairs. Zero-initialise; free with tw_stat_pairs_free. */
typedef struct tw_stat_pairs {
    tw_stat_pair *items;
    size_t n, cap;
} tw_stat_pairs;

void tw_stat_pairs_push(tw_stat_pairs *v, double value, double count);
void tw_stat_pairs_clear(tw_stat_pairs *v);
void tw_stat_pairs_free(tw_stat_pairs *v);

/* Storage form: 16 bytes a pair, each double as little-endian IEEE 754. */
void tw_stat_pairs_encode(const tw_stat_pair *pairs, size_t n, tw_buf *out);
/* Appends the pairs of a stored blob. -EINVAL (v unchanged) when len is not
 * a multiple of 16. */
int tw_stat_pairs_append_blob(tw_stat_pairs *v, const void *blob, size_t len);

/* Sorts by value, merges equal values (adding their counts) and drops pairs
 * whose count is 0. Returns the new length. */
size_t tw_stat_pairs_compact(tw_stat_pair *pairs, size_t n);

/* The summary of weighted samples: SampleCount = sum of counts, Sum = sum of
 * value x count, Minimum/Maximum over values whose count is not 0. */
void tw_stat_summary_from_pairs(tw_stat_summary *s, const tw_stat_pair *pairs, size_t n);

/* pP (0 <= p <= 100) of the samples, nearest rank as above. Sorts pairs by
 * value in place. False when there is no percentile: no samples, a total
 * count of 0, or a negative value among the samples. */
bool tw_stat_percentile(tw_stat_pair *pairs, size_t n, double p, double *out);

/* Whether a StatisticSet can stand for its samples in percentiles: CloudWatch
 * "can only retrieve percentile statistics for this data if ... the
 * SampleCount value of the statistic set is 1 [or] the Min and the Max
 * values of the statistic set are equal" (GetMetricStatistics API
 * reference). When true, *pair is the set as one weighted sample. */
bool tw_stat_set_as_pair(double count, double sum, double min, double max, tw_stat_pair *pair);

#endif
