/* metric_math.c — parser (recursive descent into a node array) and
 * evaluator of GetMetricData metric math expressions (metric_math.h). */
#include "metric_math.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* ---- series and values ---- */

void tw_math_series_push(tw_math_series *s, int64_t ts, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->ts = tw_realloc(s->ts, s->cap * sizeof *s->ts);
        s->v = tw_realloc(s->v, s->cap * sizeof *s->v);
    }
    s->ts[s->n] = ts;
    s->v[s->n] = v;
    s->n++;
}

void tw_math_series_clear(tw_math_series *s)
{
    free(s->label);
    free(s->ts);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void tw_math_series_copy(tw_math_series *dst, const tw_math_series *src)
{
    memset(dst, 0, sizeof *dst);
    dst->label = src->label ? tw_strdup(src->label) : NULL;
    for (size_t i = 0; i < src->n; i++)
        tw_math_series_push(dst, src->ts[i], src->v[i]);
}

void tw_math_value_free(tw_math_value *v)
{
    for (size_t i = 0; i < v->n_series; i++)
        tw_math_series_clear(&v->series[i]);
    free(v->series);
    memset(v, 0, sizeof *v);
}

void tw_math_value_copy(tw_math_value *dst, const tw_math_value *src)
{
    *dst = *src;
    dst->series = src->n_series ? tw_calloc(src->n_series, sizeof *dst->series) : NULL;
    for (size_t i = 0; i < src->n_series; i++)
        tw_math_series_copy(&dst->series[i], &src->series[i]);
}

/* ---- the tree ---- */

typedef enum node_type { N_NUMBER, N_REF, N_STRING, N_NEGATE, N_BINARY, N_CALL, N_ARRAY } node_type;

typedef enum function_id {
    F_SUM, F_AVG, F_MIN, F_MAX, F_STDDEV, F_ABS, F_CEIL, F_FLOOR, F_LOG, F_LOG10, F_RATE, F_DIFF,
    F_METRICS,
    F_NEGATE, /* unary minus: not a name */
} function_id;

static const char *const function_names[] = {
    "SUM", "AVG", "MIN", "MAX", "STDDEV", "ABS", "CEIL", "FLOOR", "LOG", "LOG10", "RATE", "DIFF",
    "METRICS",
};

typedef struct node {
    node_type type;
    char op;         /* N_BINARY: + - * / ^ */
    function_id function;
    double number;
    char *text;      /* N_REF id, N_STRING text */
    size_t *args;    /* N_CALL arguments, N_ARRAY elements, N_BINARY/N_NEGATE operands */
    size_t n_args;
    size_t position; /* 1-based, for messages */
} node;

struct tw_math_expr {
    node *nodes;
    size_t n_nodes, cap;
    size_t root;
    char **refs;
    size_t n_refs;
};

typedef struct parser {
    const char *text;
    size_t pos;
    tw_math_expr *expr;
    tw_err *err;
    int depth;
} parser;

#define MAX_DEPTH 64

static size_t new_node(parser *p, node_type type, size_t position)
{
    tw_math_expr *e = p->expr;
    if (e->n_nodes == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->nodes = tw_realloc(e->nodes, e->cap * sizeof *e->nodes);
    }
    memset(&e->nodes[e->n_nodes], 0, sizeof e->nodes[0]);
    e->nodes[e->n_nodes].type = type;
    e->nodes[e->n_nodes].position = position + 1;
    return e->n_nodes++;
}

static void add_arg(parser *p, size_t parent, size_t child)
{
    node *n = &p->expr->nodes[parent];
    n->args = tw_realloc(n->args, (n->n_args + 1) * sizeof *n->args);
    n->args[n->n_args++] = child;
}

static void skip_space(parser *p)
{
    while (isspace((unsigned char)p->text[p->pos]))
        p->pos++;
}

static int syntax_error(parser *p, const char *expected)
{
    char c = p->text[p->pos];
    if (c == '\0')
        return tw_err_set(p->err, -EINVAL, "Syntax error: %s expected at the end of the expression",
                          expected);
    return tw_err_set(p->err, -EINVAL, "Syntax error at position %zu: %s expected, found '%c'",
                      p->pos + 1, expected, c);
}

static int parse_expression(parser *p, size_t *out);

static int parse_number(parser *p, size_t *out)
{
    const char *start = p->text + p->pos;
    char *end;
    double value = strtod(start, &end);
    if (end == start)
        return syntax_error(p, "a number");
    *out = new_node(p, N_NUMBER, p->pos);
    p->expr->nodes[*out].number = value;
    p->pos += (size_t)(end - start);
    return 0;
}

static int parse_string(parser *p, size_t *out)
{
    char quote = p->text[p->pos];
    size_t start = p->pos + 1, end = start;
    while (p->text[end] != '\0' && p->text[end] != quote)
        end++;
    if (p->text[end] != quote)
        return tw_err_set(p->err, -EINVAL,
                          "Syntax error at position %zu: the string is not closed", p->pos + 1);
    *out = new_node(p, N_STRING, p->pos);
    p->expr->nodes[*out].text = tw_strndup(p->text + start, end - start);
    p->pos = end + 1;
    return 0;
}

/* elements of "( a, b )" or "[ a, b ]" after the opening bracket */
static int parse_list(parser *p, size_t parent, char close)
{
    skip_space(p);
    if (p->text[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        size_t child;
        skip_space(p);
        int rc = p->text[p->pos] == '\'' || p->text[p->pos] == '"' ? parse_string(p, &child)
                                                                    : parse_expression(p, &child);
        if (rc < 0)
            return rc;
        add_arg(p, parent, child);
        skip_space(p);
        if (p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->text[p->pos] == close) {
            p->pos++;
            return 0;
        }
        return syntax_error(p, close == ')' ? "',' or ')'" : "',' or ']'");
    }
}

static int parse_call(parser *p, const char *name, size_t len, size_t position, size_t *out)
{
    for (size_t f = 0; f < sizeof function_names / sizeof function_names[0]; f++) {
        if (strlen(function_names[f]) == len && memcmp(function_names[f], name, len) == 0) {
            *out = new_node(p, N_CALL, position);
            p->expr->nodes[*out].function = (function_id)f;
            p->pos++; /* '(' */
            return parse_list(p, *out, ')');
        }
    }
    return tw_err_set(p->err, -EINVAL, "Unknown function at position %zu: %.*s", position + 1,
                      (int)len, name);
}

static int parse_name(parser *p, size_t *out)
{
    size_t start = p->pos;
    while (isalnum((unsigned char)p->text[p->pos]) || p->text[p->pos] == '_')
        p->pos++;
    size_t len = p->pos - start;
    size_t after = p->pos;
    skip_space(p);
    if (p->text[p->pos] == '(')
        return parse_call(p, p->text + start, len, start, out);
    p->pos = after;
    *out = new_node(p, N_REF, start);
    char *id = tw_strndup(p->text + start, len);
    p->expr->nodes[*out].text = id;
    tw_math_expr *e = p->expr;
    e->refs = tw_realloc(e->refs, (e->n_refs + 1) * sizeof *e->refs);
    e->refs[e->n_refs++] = id;
    return 0;
}

static int parse_primary(parser *p, size_t *out)
{
    skip_space(p);
    char c = p->text[p->pos];
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p->text[p->pos + 1])))
        return parse_number(p, out);
    if (isalpha((unsigned char)c) || c == '_')
        return parse_name(p, out);
    if (c == '(') {
        p->pos++;
        int rc = parse_expression(p, out);
        if (rc < 0)
            return rc;
        skip_space(p);
        if (p->text[p->pos] != ')')
            return syntax_error(p, "')'");
        p->pos++;
        return 0;
    }
    if (c == '[') {
        *out = new_node(p, N_ARRAY, p->pos);
        p->pos++;
        return parse_list(p, *out, ']');
    }
    return syntax_error(p, "a number, a metric id, a function or '('");
}

static int parse_unary(parser *p, size_t *out);

/* power := primary ('^' unary)?   — right-associative, binds tighter than
 * unary minus on its left: -2^2 = -(2^2). */
static int parse_power(parser *p, size_t *out)
{
    size_t base;
    int rc = parse_primary(p, &base);
    if (rc < 0)
        return rc;
    skip_space(p);
    if (p->text[p->pos] != '^') {
        *out = base;
        return 0;
    }
    size_t position = p->pos++;
    size_t exponent;
    if ((rc = parse_unary(p, &exponent)) < 0)
        return rc;
    *out = new_node(p, N_BINARY, position);
    p->expr->nodes[*out].op = '^';
    add_arg(p, *out, base);
    add_arg(p, *out, exponent);
    return 0;
}

static int parse_unary(parser *p, size_t *out)
{
    if (++p->depth > MAX_DEPTH)
        return tw_err_set(p->err, -EINVAL, "The expression is nested too deeply");
    skip_space(p);
    int rc;
    if (p->text[p->pos] == '-' || p->text[p->pos] == '+') {
        bool negate = p->text[p->pos] == '-';
        size_t position = p->pos++;
        size_t operand;
        if ((rc = parse_unary(p, &operand)) < 0)
            return rc;
        if (negate) {
            *out = new_node(p, N_NEGATE, position);
            add_arg(p, *out, operand);
        } else {
            *out = operand;
        }
    } else {
        rc = parse_power(p, out);
    }
    p->depth--;
    return rc;
}

static int parse_binary_level(parser *p, size_t *out, const char *ops,
                              int (*next)(parser *, size_t *))
{
    int rc = next(p, out);
    if (rc < 0)
        return rc;
    for (;;) {
        skip_space(p);
        char c = p->text[p->pos];
        if (c == '\0' || !strchr(ops, c))
            return 0;
        size_t position = p->pos++;
        size_t rhs;
        if ((rc = next(p, &rhs)) < 0)
            return rc;
        size_t n = new_node(p, N_BINARY, position);
        p->expr->nodes[n].op = c;
        add_arg(p, n, *out);
        add_arg(p, n, rhs);
        *out = n;
    }
}

static int parse_term(parser *p, size_t *out)
{
    return parse_binary_level(p, out, "*/", parse_unary);
}

static int parse_expression(parser *p, size_t *out)
{
    if (++p->depth > MAX_DEPTH)
        return tw_err_set(p->err, -EINVAL, "The expression is nested too deeply");
    int rc = parse_binary_level(p, out, "+-", parse_term);
    p->depth--;
    return rc;
}

void tw_math_expr_free(tw_math_expr *expr)
{
    if (!expr)
        return;
    for (size_t i = 0; i < expr->n_nodes; i++) {
        if (expr->nodes[i].type != N_REF) /* refs' text is also in refs[] */
            free(expr->nodes[i].text);
        free(expr->nodes[i].args);
    }
    for (size_t i = 0; i < expr->n_refs; i++)
        free(expr->refs[i]);
    free(expr->refs);
    free(expr->nodes);
    free(expr);
}

int tw_math_parse(const char *text, tw_math_expr **out, tw_err *err)
{
    parser p = {.text = text, .expr = tw_calloc(1, sizeof(tw_math_expr)), .err = err};
    int rc = parse_expression(&p, &p.expr->root);
    if (rc == 0) {
        skip_space(&p);
        if (text[p.pos] != '\0')
            rc = syntax_error(&p, "an operator");
    }
    if (rc < 0) {
        tw_math_expr_free(p.expr);
        return rc;
    }
    *out = p.expr;
    return 0;
}

size_t tw_math_expr_ref_count(const tw_math_expr *expr)
{
    return expr->n_refs;
}

const char *tw_math_expr_ref(const tw_math_expr *expr, size_t i)
{
    return expr->refs[i];
}

/* ---- evaluation ---- */

typedef struct evaluator {
    const tw_math_expr *expr;
    const tw_math_env *env;
    tw_err *err;
} evaluator;

static int eval_node(evaluator *ev, size_t index, tw_math_value *out);

static void make_scalar(tw_math_value *v, double x)
{
    memset(v, 0, sizeof *v);
    v->kind = TW_MATH_SCALAR;
    v->scalar = x;
}

static void make_series(tw_math_value *v, tw_math_kind kind, size_t n)
{
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->n_series = n;
    v->series = n ? tw_calloc(n, sizeof *v->series) : NULL;
}

static double apply_op(char op, double a, double b)
{
    switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    default: return pow(a, b);
    }
}

static void push_finite(tw_math_series *s, int64_t ts, double v)
{
    if (isfinite(v))
        tw_math_series_push(s, ts, v);
}

/* series op scalar (or scalar op series when scalar_left) */
static void series_with_scalar(tw_math_series *out, const tw_math_series *s, char op, double x,
                               bool scalar_left)
{
    out->label = s->label ? tw_strdup(s->label) : NULL;
    for (size_t i = 0; i < s->n; i++)
        push_finite(out, s->ts[i],
                    scalar_left ? apply_op(op, x, s->v[i]) : apply_op(op, s->v[i], x));
}

/* two series, aligned on the timestamps both have */
static void series_with_series(tw_math_series *out, const tw_math_series *a, char op,
                               const tw_math_series *b, const char *label)
{
    out->label = label ? tw_strdup(label) : NULL;
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        if (a->ts[i] < b->ts[j]) {
            i++;
        } else if (a->ts[i] > b->ts[j]) {
            j++;
        } else {
            push_finite(out, a->ts[i], apply_op(op, a->v[i], b->v[j]));
            i++, j++;
        }
    }
}

static int combine(evaluator *ev, const node *n, const tw_math_value *a, const tw_math_value *b,
                   tw_math_value *out)
{
    char op = n->op;
    if (a->kind == TW_MATH_SCALAR && b->kind == TW_MATH_SCALAR) {
        make_scalar(out, apply_op(op, a->scalar, b->scalar));
        return 0;
    }
    if (a->kind == TW_MATH_ARRAY && b->kind == TW_MATH_ARRAY)
        return tw_err_set(ev->err, -EINVAL,
                          "The operator '%c' at position %zu cannot combine two arrays of time "
                          "series", op, n->position);
    if (b->kind == TW_MATH_SCALAR || a->kind == TW_MATH_SCALAR) {
        bool scalar_left = a->kind == TW_MATH_SCALAR;
        const tw_math_value *s = scalar_left ? b : a;
        double x = scalar_left ? a->scalar : b->scalar;
        make_series(out, s->kind, s->n_series);
        for (size_t i = 0; i < s->n_series; i++)
            series_with_scalar(&out->series[i], &s->series[i], op, x, scalar_left);
        return 0;
    }
    /* series with series, or an array with one series (each element) */
    const tw_math_value *array = a->kind == TW_MATH_ARRAY ? a : b->kind == TW_MATH_ARRAY ? b : NULL;
    if (!array) {
        make_series(out, TW_MATH_SERIES, 1);
        series_with_series(&out->series[0], &a->series[0], op, &b->series[0], NULL);
        return 0;
    }
    make_series(out, TW_MATH_ARRAY, array->n_series);
    for (size_t i = 0; i < array->n_series; i++) {
        const tw_math_series *x = a == array ? &a->series[i] : &a->series[0];
        const tw_math_series *y = b == array ? &b->series[i] : &b->series[0];
        series_with_series(&out->series[i], x, op, y, array->series[i].label);
    }
    return 0;
}

static double apply_unary(function_id f, double x)
{
    switch (f) {
    case F_ABS: return fabs(x);
    case F_CEIL: return ceil(x);
    case F_FLOOR: return floor(x);
    case F_LOG: return x > 0 ? log(x) : NAN;
    case F_LOG10: return x > 0 ? log10(x) : NAN;
    default: return -x; /* F_NEGATE */
    }
}

static void map_values(tw_math_value *v, function_id f)
{
    if (v->kind == TW_MATH_SCALAR) {
        v->scalar = apply_unary(f, v->scalar);
        return;
    }
    for (size_t i = 0; i < v->n_series; i++) {
        tw_math_series *s = &v->series[i];
        size_t kept = 0;
        for (size_t j = 0; j < s->n; j++) {
            double x = apply_unary(f, s->v[j]);
            if (isfinite(x)) {
                s->ts[kept] = s->ts[j];
                s->v[kept++] = x;
            }
        }
        s->n = kept;
    }
}

/* RATE / DIFF: from the second value of each series on. */
static void map_changes(tw_math_value *v, function_id f)
{
    for (size_t i = 0; i < v->n_series; i++) {
        tw_math_series *s = &v->series[i];
        size_t kept = 0;
        for (size_t j = 1; j < s->n; j++) {
            double change = s->v[j] - s->v[j - 1];
            if (f == F_RATE)
                change /= (double)(s->ts[j] - s->ts[j - 1]) / 1000.0;
            if (isfinite(change)) {
                s->ts[kept] = s->ts[j];
                s->v[kept++] = change;
            }
        }
        s->n = kept;
    }
}

typedef struct accumulator {
    double n, sum, sum_sq, min, max;
} accumulator;

static void acc_add(accumulator *a, double x)
{
    if (a->n == 0 || x < a->min)
        a->min = x;
    if (a->n == 0 || x > a->max)
        a->max = x;
    a->n++;
    a->sum += x;
    a->sum_sq += x * x;
}

static double acc_result(const accumulator *a, function_id f)
{
    switch (f) {
    case F_SUM: return a->sum;
    case F_AVG: return a->sum / a->n;
    case F_MIN: return a->min;
    case F_MAX: return a->max;
    default: {
        double mean = a->sum / a->n, variance = a->sum_sq / a->n - mean * mean;
        return sqrt(variance > 0 ? variance : 0);
    }
    }
}

typedef struct point {
    int64_t ts;
    double v;
} point;

static int compare_points(const void *x, const void *y)
{
    int64_t a = ((const point *)x)->ts, b = ((const point *)y)->ts;
    return (a > b) - (a < b);
}

static void aggregate(tw_math_value *out, const tw_math_value *in, function_id f)
{
    if (in->kind == TW_MATH_SERIES) {
        accumulator a = {0};
        for (size_t i = 0; i < in->series[0].n; i++)
            acc_add(&a, in->series[0].v[i]);
        make_scalar(out, a.n > 0 ? acc_result(&a, f) : NAN);
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < in->n_series; i++)
        total += in->series[i].n;
    point *points = tw_malloc((total ? total : 1) * sizeof *points);
    size_t k = 0;
    for (size_t i = 0; i < in->n_series; i++)
        for (size_t j = 0; j < in->series[i].n; j++)
            points[k++] = (point){in->series[i].ts[j], in->series[i].v[j]};
    qsort(points, total, sizeof *points, compare_points);
    make_series(out, TW_MATH_SERIES, 1);
    for (size_t i = 0; i < total;) {
        accumulator a = {0};
        size_t j = i;
        while (j < total && points[j].ts == points[i].ts)
            acc_add(&a, points[j++].v);
        push_finite(&out->series[0], points[i].ts, acc_result(&a, f));
        i = j;
    }
    free(points);
}

static int eval_metrics(evaluator *ev, const node *n, tw_math_value *out)
{
    const char *filter = NULL;
    if (n->n_args > 1 || (n->n_args == 1 && ev->expr->nodes[n->args[0]].type != N_STRING))
        return tw_err_set(ev->err, -EINVAL,
                          "METRICS at position %zu takes no argument or one quoted string",
                          n->position);
    if (n->n_args == 1)
        filter = ev->expr->nodes[n->args[0]].text;
    make_series(out, TW_MATH_ARRAY, 0);
    for (size_t i = 0; i < ev->env->n_metrics; i++) {
        const tw_math_series *s = &ev->env->metrics[i];
        if (filter && (!s->label || !strstr(s->label, filter)))
            continue;
        out->series = tw_realloc(out->series, (out->n_series + 1) * sizeof *out->series);
        tw_math_series_copy(&out->series[out->n_series++], s);
    }
    return 0;
}

static int eval_call(evaluator *ev, const node *n, tw_math_value *out)
{
    function_id f = n->function;
    if (f == F_METRICS)
        return eval_metrics(ev, n, out);
    if (n->n_args != 1)
        return tw_err_set(ev->err, -EINVAL, "%s at position %zu takes exactly one argument",
                          function_names[f], n->position);
    tw_math_value arg;
    int rc = eval_node(ev, n->args[0], &arg);
    if (rc < 0)
        return rc;
    if (f <= F_STDDEV || f == F_RATE || f == F_DIFF) {
        if (arg.kind == TW_MATH_SCALAR) {
            tw_math_value_free(&arg);
            return tw_err_set(ev->err, -EINVAL,
                              "%s at position %zu needs a time series or an array of time series",
                              function_names[f], n->position);
        }
        if (f == F_RATE || f == F_DIFF) {
            map_changes(&arg, f);
            *out = arg;
            return 0;
        }
        aggregate(out, &arg, f);
        tw_math_value_free(&arg);
        return 0;
    }
    map_values(&arg, f);
    *out = arg;
    return 0;
}

static int eval_array(evaluator *ev, const node *n, tw_math_value *out)
{
    make_series(out, TW_MATH_ARRAY, 0);
    for (size_t i = 0; i < n->n_args; i++) {
        tw_math_value element;
        int rc = eval_node(ev, n->args[i], &element);
        if (rc < 0) {
            tw_math_value_free(out);
            return rc;
        }
        if (element.kind == TW_MATH_SCALAR) {
            tw_math_value_free(out);
            return tw_err_set(ev->err, -EINVAL,
                              "The array at position %zu can hold only time series", n->position);
        }
        out->series = tw_realloc(out->series,
                                 (out->n_series + element.n_series) * sizeof *out->series);
        memcpy(out->series + out->n_series, element.series,
               element.n_series * sizeof *element.series);
        out->n_series += element.n_series;
        free(element.series);
    }
    return 0;
}

static int eval_node(evaluator *ev, size_t index, tw_math_value *out)
{
    const node *n = &ev->expr->nodes[index];
    switch (n->type) {
    case N_NUMBER:
        make_scalar(out, n->number);
        return 0;
    case N_STRING:
        return tw_err_set(ev->err, -EINVAL, "A string at position %zu is allowed only in METRICS()",
                          n->position);
    case N_REF: {
        const tw_math_value *value;
        int rc = ev->env->lookup(ev->env->ctx, n->text, &value, ev->err);
        if (rc == -ENOENT)
            return tw_err_set(ev->err, -EINVAL, "Unrecognized metric id at position %zu: %s",
                              n->position, n->text);
        if (rc < 0)
            return rc;
        tw_math_value_copy(out, value);
        return 0;
    }
    case N_NEGATE: {
        int rc = eval_node(ev, n->args[0], out);
        if (rc == 0)
            map_values(out, F_NEGATE);
        return rc;
    }
    case N_BINARY: {
        tw_math_value a, b;
        int rc = eval_node(ev, n->args[0], &a);
        if (rc < 0)
            return rc;
        if ((rc = eval_node(ev, n->args[1], &b)) < 0) {
            tw_math_value_free(&a);
            return rc;
        }
        rc = combine(ev, n, &a, &b, out);
        tw_math_value_free(&a);
        tw_math_value_free(&b);
        return rc;
    }
    case N_CALL:
        return eval_call(ev, n, out);
    case N_ARRAY:
        return eval_array(ev, n, out);
    }
    return -EINVAL;
}

int tw_math_eval(const tw_math_expr *expr, const tw_math_env *env, tw_math_value *out,
                 tw_err *err)
{
    evaluator ev = {.expr = expr, .env = env, .err = err};
    tw_math_value v;
    int rc = eval_node(&ev, expr->root, &v);
    if (rc < 0)
        return rc;
    if (v.kind == TW_MATH_SCALAR) {
        double x = v.scalar;
        make_series(out, TW_MATH_SERIES, 1);
        for (size_t i = 0; i < env->n_grid && isfinite(x); i++)
            tw_math_series_push(&out->series[0], env->grid[i], x);
        return 0;
    }
    *out = v;
    return 0;
}
