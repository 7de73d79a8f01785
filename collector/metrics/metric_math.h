/* metric_math.h — GetMetricData's metric math expressions.
 *
 * The subset of CloudWatch metric math the collector evaluates
 * (spec/cloudwatch.md §3.4; "Metric math syntax and functions" in the
 * CloudWatch user guide):
 *
 *   numbers       1, 2.5, 1e3
 *   references    the Id of another query: m1, errors_5xx   (^[a-z][a-zA-Z0-9_]*$)
 *   arrays        [m1, m2], METRICS(), METRICS('substring of a label')
 *   operators     + - * / ^ (power, right-associative), unary minus, ( )
 *                 between scalars, time series and arrays of time series;
 *                 two series combine where both have a value at the same
 *                 timestamp; a non-finite result (x/0, LOG(-1)) is no value
 *   aggregates    SUM AVG MIN MAX STDDEV: of an array → one series (per
 *                 timestamp, over the series that have a value there); of a
 *                 single series → a scalar over all its values (as CloudWatch
 *                 does); STDDEV is the population standard deviation
 *   per value     ABS CEIL FLOOR LOG LOG10
 *   per series    RATE (change per second between consecutive values),
 *                 DIFF (change between consecutive values)
 *
 * Parsing and evaluating are separate so the service can reject every bad
 * expression before it reads data. Error sentences (tw_err) name the
 * problem and the 1-based character position where one applies; the
 * service puts "Error in expression <Id>: " in front.
 *
 * Ownership: tw_math_parse returns a tree the caller frees with
 * tw_math_expr_free. Values (tw_math_value) own their series; free them with
 * tw_math_value_free. The env's lookup hands out borrowed values.
 */
#ifndef TW_METRICS_METRIC_MATH_H
#define TW_METRICS_METRIC_MATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TW_MATH_MAX_EXPRESSION 2048

typedef struct tw_math_series {
    char *label; /* owned, NULL = none */
    size_t n, cap;
    int64_t *ts; /* ascending, epoch ms */
    double *v;
} tw_math_series;

typedef enum tw_math_kind {
    TW_MATH_SCALAR,
    TW_MATH_SERIES, /* n_series == 1 */
    TW_MATH_ARRAY,  /* n_series >= 0 */
} tw_math_kind;

typedef struct tw_math_value {
    tw_math_kind kind;
    double scalar;
    tw_math_series *series;
    size_t n_series;
} tw_math_value;

/* Appends a point; timestamps must be pushed in ascending order. */
void tw_math_series_push(tw_math_series *s, int64_t ts, double v);
/* Frees the series' arrays and label (not s itself). */
void tw_math_series_clear(tw_math_series *s);
void tw_math_series_copy(tw_math_series *dst, const tw_math_series *src);
void tw_math_value_free(tw_math_value *v);
void tw_math_value_copy(tw_math_value *dst, const tw_math_value *src);

typedef struct tw_math_env {
    void *ctx;
    /* The value of query `id`: 0 with *out borrowed until the evaluation
     * ends; -ENOENT when no query has that Id (err untouched); any other
     * negative code with err set (a cycle, an error in that query). */
    int (*lookup)(void *ctx, const char *id, const tw_math_value **out, tw_err *err);
    const tw_math_series *metrics; /* METRICS(): every MetricStat query's series */
    size_t n_metrics;
    const int64_t *grid; /* where a scalar result is drawn (ascending) */
    size_t n_grid;
} tw_math_env;

typedef struct tw_math_expr tw_math_expr;

/* Returns 0 with *out, or -EINVAL with err set. */
int tw_math_parse(const char *text, tw_math_expr **out, tw_err *err);
void tw_math_expr_free(tw_math_expr *expr);

/* The Ids the expression refers to, in order of appearance (with repeats). */
size_t tw_math_expr_ref_count(const tw_math_expr *expr);
const char *tw_math_expr_ref(const tw_math_expr *expr, size_t i);

/* Evaluates; *out is a series or an array (a scalar is drawn on env->grid).
 * Returns 0, or a negative code with err set (lookup errors pass through). */
int tw_math_eval(const tw_math_expr *expr, const tw_math_env *env, tw_math_value *out,
                 tw_err *err);

#endif
