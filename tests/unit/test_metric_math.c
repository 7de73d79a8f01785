/* test_metric_math.c — GetMetricData metric math: arithmetic between series
 * and scalars aligned on timestamps, precedence, aggregates over arrays,
 * per-value and per-series functions, and the error sentences. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metric_math.h"

#define MIN_MS 60000

typedef struct fixture {
    tw_math_value m1, m2, e1;
    tw_math_series metrics[2];
    int64_t grid[4];
    tw_math_env env;
} fixture;

static void make_series(tw_math_value *v, const char *label, const int64_t *ts, const double *x,
                        size_t n)
{
    memset(v, 0, sizeof *v);
    v->kind = TW_MATH_SERIES;
    v->n_series = 1;
    v->series = calloc(1, sizeof *v->series);
    v->series[0].label = strdup(label);
    for (size_t i = 0; i < n; i++)
        tw_math_series_push(&v->series[0], ts[i], x[i]);
}

static int lookup(void *ctx, const char *id, const tw_math_value **out, tw_err *err)
{
    fixture *f = ctx;
    if (strcmp(id, "m1") == 0)
        *out = &f->m1;
    else if (strcmp(id, "m2") == 0)
        *out = &f->m2;
    else if (strcmp(id, "e1") == 0)
        *out = &f->e1;
    else if (strcmp(id, "broken") == 0)
        return tw_err_set(err, -ELOOP, "Error in expression broken: Circular reference to broken");
    else
        return -ENOENT;
    return 0;
}

/* m1 = latency {0: 1, 1: 2, 2: 3} (minutes), m2 = errors {1: 10, 2: 20, 3: 30} */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    int64_t t1[] = {0, MIN_MS, 2 * MIN_MS}, t2[] = {MIN_MS, 2 * MIN_MS, 3 * MIN_MS};
    double v1[] = {1, 2, 3}, v2[] = {10, 20, 30};
    make_series(&f->m1, "latency", t1, v1, 3);
    make_series(&f->m2, "errors", t2, v2, 3);
    /* e1: an expression that returned an array */
    f->e1.kind = TW_MATH_ARRAY;
    f->e1.n_series = 2;
    f->e1.series = calloc(2, sizeof *f->e1.series);
    tw_math_series_copy(&f->e1.series[0], &f->m1.series[0]);
    tw_math_series_copy(&f->e1.series[1], &f->m2.series[0]);
    tw_math_series_copy(&f->metrics[0], &f->m1.series[0]);
    tw_math_series_copy(&f->metrics[1], &f->m2.series[0]);
    for (int i = 0; i < 4; i++)
        f->grid[i] = i * MIN_MS;
    f->env = (tw_math_env){.ctx = f, .lookup = lookup, .metrics = f->metrics, .n_metrics = 2,
                           .grid = f->grid, .n_grid = 4};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_math_value_free(&f->m1);
    tw_math_value_free(&f->m2);
    tw_math_value_free(&f->e1);
    tw_math_series_clear(&f->metrics[0]);
    tw_math_series_clear(&f->metrics[1]);
    free(f);
    return 0;
}

/* Evaluates text; fails the test on an error. */
static tw_math_value eval_ok(fixture *f, const char *text)
{
    tw_math_expr *expr = NULL;
    tw_err err = {{0}};
    tw_math_value v;
    if (tw_math_parse(text, &expr, &err) != 0)
        fail_msg("parse of '%s' failed: %s", text, err.msg);
    if (tw_math_eval(expr, &f->env, &v, &err) != 0)
        fail_msg("eval of '%s' failed: %s", text, err.msg);
    tw_math_expr_free(expr);
    return v;
}

/* Evaluates text expecting an error; returns its sentence. */
static const char *eval_error(fixture *f, const char *text, tw_err *err)
{
    tw_math_expr *expr = NULL;
    if (tw_math_parse(text, &expr, err) != 0)
        return err->msg;
    tw_math_value v;
    if (tw_math_eval(expr, &f->env, &v, err) == 0)
        fail_msg("'%s' evaluated without an error", text);
    tw_math_expr_free(expr);
    return err->msg;
}

/* Checks a one-series result against minute offsets and values. */
static void assert_series(const tw_math_value *v, const int *minutes, const double *values,
                          size_t n)
{
    assert_int_equal(v->kind, TW_MATH_SERIES);
    assert_int_equal(v->n_series, 1);
    assert_int_equal(v->series[0].n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v->series[0].ts[i], (int64_t)minutes[i] * MIN_MS);
        if (fabs(v->series[0].v[i] - values[i]) > 1e-9)
            fail_msg("point %zu: %.17g, expected %.17g", i, v->series[0].v[i], values[i]);
    }
}

static void check(fixture *f, const char *text, const int *minutes, const double *values, size_t n)
{
    tw_math_value v = eval_ok(f, text);
    assert_series(&v, minutes, values, n);
    tw_math_value_free(&v);
}

#define CHECK(text, mins, vals)                                                     \
    do {                                                                            \
        const int m_[] = mins;                                                      \
        const double v_[] = vals;                                                   \
        check(f, text, m_, v_, sizeof m_ / sizeof m_[0]);                           \
    } while (0)
#define L(...) {__VA_ARGS__}

static void test_series_combine_only_where_both_have_a_timestamp(void **state)
{
    fixture *f = *state;
    CHECK("m1 + m2", L(1, 2), L(12, 23));
    CHECK("m2 - m1", L(1, 2), L(8, 17));
    CHECK("m2 / m1", L(1, 2), L(5, 20.0 / 3));
    CHECK("m1*m2", L(1, 2), L(20, 60));
}

static void test_scalars_apply_to_every_value(void **state)
{
    fixture *f = *state;
    CHECK("m1 * 2", L(0, 1, 2), L(2, 4, 6));
    CHECK("100 * m1 / 4", L(0, 1, 2), L(25, 50, 75));
    CHECK("10 - m1", L(0, 1, 2), L(9, 8, 7));
    CHECK("m1 ^ 2", L(0, 1, 2), L(1, 4, 9));
    CHECK("2 ^ m1", L(0, 1, 2), L(2, 4, 8));
    CHECK("-m1", L(0, 1, 2), L(-1, -2, -3));
    CHECK("m1 * 1.5e1", L(0, 1, 2), L(15, 30, 45));
}

static void test_precedence_and_parentheses(void **state)
{
    fixture *f = *state;
    /* a scalar result is drawn on every timestamp of the request */
    CHECK("1 + 2 * 3", L(0, 1, 2, 3), L(7, 7, 7, 7));
    CHECK("(1 + 2) * 3", L(0, 1, 2, 3), L(9, 9, 9, 9));
    CHECK("-2 ^ 2", L(0, 1, 2, 3), L(-4, -4, -4, -4));
    CHECK("2 ^ 3 ^ 2", L(0, 1, 2, 3), L(512, 512, 512, 512));
    CHECK("8 / 4 / 2", L(0, 1, 2, 3), L(1, 1, 1, 1));
    CHECK("10 - 2 - 3", L(0, 1, 2, 3), L(5, 5, 5, 5));
    CHECK("(m1 + 1) * -2", L(0, 1, 2), L(-4, -6, -8));
    CHECK("  m1+m1*m1  ", L(0, 1, 2), L(2, 6, 12));
}

static void test_non_finite_results_are_no_value(void **state)
{
    fixture *f = *state;
    tw_math_value v = eval_ok(f, "m2 / 0");
    assert_int_equal(v.series[0].n, 0);
    tw_math_value_free(&v);
    CHECK("m1 / (m1 - 2)", L(0, 2), L(-1, 3)); /* minute 1 divides by zero */
    CHECK("LOG(m1 - 1)", L(1, 2), L(0, log(2)));
}

static void test_aggregates_of_an_array_give_one_series(void **state)
{
    fixture *f = *state;
    CHECK("SUM([m1, m2])", L(0, 1, 2, 3), L(1, 12, 23, 30));
    CHECK("AVG([m1, m2])", L(0, 1, 2, 3), L(1, 6, 11.5, 30));
    CHECK("MIN([m1, m2])", L(0, 1, 2, 3), L(1, 2, 3, 30));
    CHECK("MAX([m1, m2])", L(0, 1, 2, 3), L(1, 10, 20, 30));
    CHECK("STDDEV([m1, m2])", L(0, 1, 2, 3), L(0, 4, 8.5, 0));
    CHECK("SUM(METRICS())", L(0, 1, 2, 3), L(1, 12, 23, 30));
    CHECK("SUM(e1)", L(0, 1, 2, 3), L(1, 12, 23, 30));
}

static void test_aggregates_of_one_series_give_a_scalar(void **state)
{
    fixture *f = *state;
    CHECK("SUM(m1)", L(0, 1, 2, 3), L(6, 6, 6, 6));
    CHECK("m1 / SUM(m1)", L(0, 1, 2), L(1.0 / 6, 2.0 / 6, 3.0 / 6));
    CHECK("AVG(m2)", L(0, 1, 2, 3), L(20, 20, 20, 20));
    CHECK("MAX(m2) - MIN(m2)", L(0, 1, 2, 3), L(20, 20, 20, 20));
    CHECK("STDDEV(m1) * STDDEV(m1)", L(0, 1, 2, 3), L(2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3));
}

static void test_per_value_and_per_series_functions(void **state)
{
    fixture *f = *state;
    CHECK("ABS(-m1)", L(0, 1, 2), L(1, 2, 3));
    CHECK("CEIL(m1 / 2)", L(0, 1, 2), L(1, 1, 2));
    CHECK("FLOOR(m1 / 2)", L(0, 1, 2), L(0, 1, 1));
    CHECK("LOG10(m2)", L(1, 2, 3), L(1, log10(20), log10(30)));
    CHECK("RATE(m2)", L(2, 3), L(10.0 / 60, 10.0 / 60));
    CHECK("DIFF(m1 * m1)", L(1, 2), L(3, 5));
}

static void test_arrays_keep_their_labels_through_operators(void **state)
{
    fixture *f = *state;
    tw_math_value v = eval_ok(f, "METRICS() * 2");
    assert_int_equal(v.kind, TW_MATH_ARRAY);
    assert_int_equal(v.n_series, 2);
    assert_string_equal(v.series[0].label, "latency");
    assert_string_equal(v.series[1].label, "errors");
    assert_true(v.series[1].v[2] == 60);
    tw_math_value_free(&v);

    v = eval_ok(f, "METRICS('err')");
    assert_int_equal(v.n_series, 1);
    assert_string_equal(v.series[0].label, "errors");
    tw_math_value_free(&v);

    v = eval_ok(f, "[m1, m2] / m1"); /* each element with the series */
    assert_int_equal(v.n_series, 2);
    assert_int_equal(v.series[0].n, 3);
    assert_int_equal(v.series[1].n, 2);
    assert_true(v.series[1].v[0] == 5);
    tw_math_value_free(&v);

    v = eval_ok(f, "ABS(METRICS('nothing matches'))");
    assert_int_equal(v.kind, TW_MATH_ARRAY);
    assert_int_equal(v.n_series, 0);
    tw_math_value_free(&v);
}

static void test_parse_lists_the_ids_referred_to(void **state)
{
    (void)state;
    tw_math_expr *expr;
    tw_err err;
    assert_int_equal(tw_math_parse("SUM([m1, errors_5xx]) / m1", &expr, &err), 0);
    assert_int_equal(tw_math_expr_ref_count(expr), 3);
    assert_string_equal(tw_math_expr_ref(expr, 0), "m1");
    assert_string_equal(tw_math_expr_ref(expr, 1), "errors_5xx");
    assert_string_equal(tw_math_expr_ref(expr, 2), "m1");
    tw_math_expr_free(expr);
}

static void test_syntax_errors_say_what_and_where(void **state)
{
    fixture *f = *state;
    tw_err err;
    assert_string_equal(eval_error(f, "m1 +", &err),
                        "Syntax error: a number, a metric id, a function or '(' expected at the "
                        "end of the expression");
    assert_string_equal(eval_error(f, "m1 m2", &err),
                        "Syntax error at position 4: an operator expected, found 'm'");
    assert_string_equal(eval_error(f, "(m1 + 1", &err),
                        "Syntax error: ')' expected at the end of the expression");
    assert_string_equal(eval_error(f, "SUM([m1, m2)", &err),
                        "Syntax error at position 12: ',' or ']' expected, found ')'");
    assert_string_equal(eval_error(f, "m1 % 2", &err),
                        "Syntax error at position 4: an operator expected, found '%'");
    assert_string_equal(eval_error(f, "FOO(m1)", &err), "Unknown function at position 1: FOO");
    assert_string_equal(eval_error(f, "METRICS('x)", &err),
                        "Syntax error at position 9: the string is not closed");
    assert_string_equal(eval_error(f, "", &err),
                        "Syntax error: a number, a metric id, a function or '(' expected at the "
                        "end of the expression");
    char deep[300];
    memset(deep, '(', 200);
    strcpy(deep + 200, "1");
    assert_string_equal(eval_error(f, deep, &err), "The expression is nested too deeply");
}

static void test_evaluation_errors_name_the_problem(void **state)
{
    fixture *f = *state;
    tw_err err;
    assert_string_equal(eval_error(f, "m1 + m9", &err),
                        "Unrecognized metric id at position 6: m9");
    assert_string_equal(eval_error(f, "SUM(1)", &err),
                        "SUM at position 1 needs a time series or an array of time series");
    assert_string_equal(eval_error(f, "ABS(m1, m2)", &err),
                        "ABS at position 1 takes exactly one argument");
    assert_string_equal(eval_error(f, "[m1, 2]", &err),
                        "The array at position 1 can hold only time series");
    assert_string_equal(eval_error(f, "[m1] + [m2]", &err),
                        "The operator '+' at position 6 cannot combine two arrays of time series");
    assert_string_equal(eval_error(f, "METRICS(m1)", &err),
                        "METRICS at position 1 takes no argument or one quoted string");
    assert_string_equal(eval_error(f, "ABS('x')", &err),
                        "A string at position 5 is allowed only in METRICS()");
    assert_string_equal(eval_error(f, "m1 + 'x'", &err),
                        "Syntax error at position 6: a number, a metric id, a function or '(' "
                        "expected, found '\''");
    /* a lookup's own error passes through */
    assert_string_equal(eval_error(f, "broken * 2", &err),
                        "Error in expression broken: Circular reference to broken");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_series_combine_only_where_both_have_a_timestamp,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalars_apply_to_every_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence_and_parentheses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_finite_results_are_no_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregates_of_an_array_give_one_series, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aggregates_of_one_series_give_a_scalar, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_per_value_and_per_series_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrays_keep_their_labels_through_operators, setup,
                                        teardown),
        cmocka_unit_test(test_parse_lists_the_ids_referred_to),
        cmocka_unit_test_setup_teardown(test_syntax_errors_say_what_and_where, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evaluation_errors_name_the_problem, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
