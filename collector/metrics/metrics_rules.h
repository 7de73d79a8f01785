/* metrics_rules.h — CloudWatch metrics' request rules: input object → a
 * checked request, or the AWS error with CloudWatch's own messages.
 *
 * Inputs are the decoded model objects of call.h (whatever the protocol:
 * numbers may be JSON numbers or query strings such as "1.5" or "1.0E-5",
 * timestamps ISO 8601 strings or epoch seconds, lists JSON arrays or "" for
 * an empty query list). The rules are spec/cloudwatch.md §3 with the
 * messages real CloudWatch sends (quoted there and in public captures);
 * where AWS's exact text is not known the message follows the same pattern
 * ("The parameter X ...", "The value V for parameter X is invalid.").
 * Problems of one kind are all reported, joined with '\n', as CloudWatch
 * does ("The parameter MetricData.member.1.Timestamp must specify a time
 * within the past two weeks.\nThe parameter MetricData.member.2.Timestamp
 * ..."); the first problem's kind decides the code.
 *
 * These functions are pure (no I/O, no clock: now_ms is passed in) so the
 * rules are unit-tested without a server (tests/unit/test_metrics_rules.c).
 * They do not use call.h's tw_input_* helpers because those fail the call
 * at the first problem, and CloudWatch reports them all.
 *
 * Ownership: checked requests borrow strings from the input object (keep it
 * alive while using them) and own their arrays: free them with the matching
 * _free function, also after a failure. A fault owns its message buffer:
 * tw_metrics_fault_free.
 */
#ifndef TW_METRICS_RULES_H
#define TW_METRICS_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "metric_math.h"
#include "statistics.h"

#define TW_METRICS_MAX_DATUMS 1000    /* MetricData per PutMetricData */
#define TW_METRICS_MAX_DIMENSIONS 30  /* per metric */
#define TW_METRICS_MAX_FILTERS 10     /* ListMetrics DimensionFilters */
#define TW_METRICS_MAX_VALUES 150     /* Values per datum */
#define TW_METRICS_MAX_DATAPOINTS 1440 /* GetMetricStatistics */
#define TW_METRICS_MAX_QUERIES 500    /* GetMetricData */
#define TW_METRICS_DEFAULT_MAX_DATAPOINTS 100800
#define TW_METRICS_MAX_STATISTICS 5
#define TW_METRICS_MAX_EXTENDED 10
#define TW_METRICS_PAST_MS (14LL * 24 * 3600 * 1000)  /* oldest accepted Timestamp */
#define TW_METRICS_FUTURE_MS (2LL * 3600 * 1000)      /* newest accepted Timestamp */

/* The 27 StandardUnit names; the index is the stored unit id. */
#define TW_METRIC_UNIT_COUNT 27
#define TW_METRIC_UNIT_NONE 26
extern const char *const tw_metric_units[TW_METRIC_UNIT_COUNT];
/* The unit id of name, or -1. */
int tw_metric_unit_parse(const char *name);

typedef struct tw_metrics_fault {
    const char *code;       /* shape name (JSON/CBOR __type); NULL = no fault */
    const char *query_code; /* awsQuery <Code> and x-amzn-query-error */
    int status;
    tw_buf message;
} tw_metrics_fault;

void tw_metrics_fault_free(tw_metrics_fault *fault);
/* Adds a ValidationError problem (GetMetricData's code for its checks); used
 * by the service for expression errors found while evaluating. */
void tw_metrics_fault_validation(tw_metrics_fault *fault, const char *fmt, ...) TW_PRINTF(2, 3);

typedef struct tw_metric_dimension {
    const char *name;
    const char *value; /* NULL in a name-only ListMetrics filter */
} tw_metric_dimension;

/* A metric's identity: namespace, name and its dimensions sorted by name. */
typedef struct tw_metric_key {
    const char *namespace;
    const char *name;
    tw_metric_dimension dims[TW_METRICS_MAX_DIMENSIONS];
    size_t n_dims;
} tw_metric_key;

/* ---- PutMetricData ---- */

typedef struct tw_metric_datum {
    tw_metric_key key;
    int64_t timestamp_ms;
    int unit;       /* tw_metric_units index */
    int resolution; /* 1 or 60 seconds */
    tw_stat_summary summary; /* what the datum adds to SampleCount/Sum/Min/Max */
    size_t first_pair, n_pairs; /* its samples in tw_metric_put.pairs */
    bool has_samples;           /* false: a StatisticSet percentiles cannot use */
} tw_metric_datum;

typedef struct tw_metric_put {
    const char *namespace;
    tw_metric_datum *data;
    size_t n_data;
    tw_stat_pairs pairs;
} tw_metric_put;

int tw_metrics_check_put(const json_t *input, int64_t now_ms, tw_metric_put *out,
                         tw_metrics_fault *fault);
void tw_metric_put_free(tw_metric_put *put);

/* ---- GetMetricStatistics ---- */

typedef struct tw_metric_statistics_request {
    tw_metric_key key;
    int64_t start_ms, end_ms;
    int64_t period_s;
    tw_statistic stats[TW_METRICS_MAX_EXTENDED];
    const char *stat_names[TW_METRICS_MAX_EXTENDED]; /* as requested: "Sum", "p99.9" */
    size_t n_stats;
    bool extended; /* ExtendedStatistics rather than Statistics */
    int unit;      /* -1 = every unit */
} tw_metric_statistics_request;

int tw_metrics_check_get_statistics(const json_t *input, tw_metric_statistics_request *out,
                                    tw_metrics_fault *fault);

/* ---- GetMetricData ---- */

typedef struct tw_metric_data_query {
    const char *id;
    const char *label; /* NULL = the default */
    bool return_data;
    const char *expression;  /* NULL for a MetricStat query */
    tw_math_expr *parsed;    /* the parsed expression */
    tw_metric_key key;       /* MetricStat.Metric */
    int64_t period_s;        /* MetricStat.Period, or the expression's Period (0 = none) */
    tw_statistic stat;
    const char *stat_name;
    int unit;                /* -1 = every unit */
} tw_metric_data_query;

typedef struct tw_metric_data_request {
    tw_metric_data_query *queries;
    size_t n_queries;
    int64_t start_ms, end_ms;
    bool ascending;          /* ScanBy TimestampAscending */
    int64_t max_datapoints;
    const char *next_token;  /* NULL = first page */
} tw_metric_data_request;

int tw_metrics_check_get_data(const json_t *input, tw_metric_data_request *out,
                              tw_metrics_fault *fault);
void tw_metric_data_request_free(tw_metric_data_request *request);

/* ---- ListMetrics ---- */

typedef struct tw_metric_list_request {
    const char *namespace;   /* NULL = any */
    const char *metric_name; /* NULL = any */
    tw_metric_dimension filters[TW_METRICS_MAX_FILTERS];
    size_t n_filters;
    bool recently_active;    /* RecentlyActive PT3H */
    bool include_linked;     /* IncludeLinkedAccounts */
    const char *next_token;
} tw_metric_list_request;

int tw_metrics_check_list(const json_t *input, tw_metric_list_request *out,
                          tw_metrics_fault *fault);

/* ---- shared by the service ---- */

/* Period rules for high-resolution queries: 1, 5, 10, 20, 30 or a multiple
 * of 60 (spec §3.2). */
bool tw_metrics_period_valid(int64_t period_s);
/* The first bucket's start as CloudWatch rounds StartTime by its age:
 * to the period within the minute for periods under 60 s, else to the
 * minute (< 15 days old), 5 minutes (15–63 days) or the hour (older). */
int64_t tw_metrics_round_start(int64_t start_ms, int64_t period_s, int64_t now_ms);
/* Whether data that old can be answered at that period (spec §3.2: > 3 h
 * needs a multiple of 60, > 15 days of 300, > 63 days of 3600; otherwise
 * CloudWatch returns no datapoints). */
bool tw_metrics_period_available(int64_t start_ms, int64_t period_s, int64_t now_ms);

#endif
