/* metrics_input.c — reading members of any protocol's spelling and
 * collecting validation problems with CloudWatch's messages
 * (metrics_input.h). */
#include "metrics_input.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* ---- faults ---- */

static const struct {
    const char *code, *query_code;
} fault_codes[] = {
    [TW_METRICS_INVALID] = {"InvalidParameterValueException", "InvalidParameterValue"},
    [TW_METRICS_MISSING] = {"MissingRequiredParameterException", "MissingParameter"},
    [TW_METRICS_COMBINATION] = {"InvalidParameterCombinationException",
                                "InvalidParameterCombination"},
    [TW_METRICS_VALIDATION] = {"ValidationError", "ValidationError"},
};

static void vfault(tw_metrics_fault *f, tw_metrics_fault_kind kind, const char *fmt, va_list ap)
    TW_PRINTF(3, 0);

static void vfault(tw_metrics_fault *f, tw_metrics_fault_kind kind, const char *fmt, va_list ap)
{
    if (f->code && strcmp(f->code, fault_codes[kind].code) != 0)
        return; /* only problems of the first kind are reported together */
    if (f->code)
        tw_buf_putc(&f->message, '\n');
    f->code = fault_codes[kind].code;
    f->query_code = fault_codes[kind].query_code;
    f->status = 400;
    tw_buf_vprintf(&f->message, fmt, ap);
}

void tw_metrics_fault_add(tw_metrics_fault *f, tw_metrics_fault_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfault(f, kind, fmt, ap);
    va_end(ap);
}

void tw_metrics_fault_validation(tw_metrics_fault *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfault(f, TW_METRICS_VALIDATION, fmt, ap);
    va_end(ap);
}

void tw_metrics_fault_free(tw_metrics_fault *f)
{
    tw_buf_free(&f->message);
    f->code = NULL;
}

/* ---- reading members of any protocol ---- */

const json_t *tw_metrics_member(const json_t *obj, const char *name)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
    return json_is_null(v) ? NULL : v;
}

/* A string member: 1 present, 0 absent (or "" when required: then a
 * problem), -1 wrong type (a problem). */
int tw_metrics_get_string(tw_metrics_checker *c, const json_t *obj, const char *name,
                          const char *path, bool required, const char **out)
{
    const json_t *v = tw_metrics_member(obj, name);
    if (!v || (required && json_is_string(v) && json_string_length(v) == 0)) {
        if (required)
            tw_metrics_fault_add(c->fault, c->missing, "The parameter %s is required.", path);
        return 0;
    }
    if (!json_is_string(v)) {
        tw_metrics_fault_add(c->fault, c->invalid, "The parameter %s must be a string.", path);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* The shortest text that reads back as d: how a JSON number is quoted. */
void tw_metrics_format_number(double d, char text[64])
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, 64, "%.*g", precision, d);
        if (strtod(text, NULL) == d)
            return;
    }
}

/* A number: a JSON number or a string strtod reads whole ("1.5", "1.0E-5",
 * "NaN", "Infinity"). *text gets the text for messages. */
int tw_metrics_get_number(tw_metrics_checker *c, const json_t *obj, const char *name,
                          const char *path, double *out, char text[64])
{
    const json_t *v = tw_metrics_member(obj, name);
    if (!v)
        return 0;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        tw_metrics_format_number(*out, text);
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        snprintf(text, 64, "%s", s);
        if (*s != '\0' && !isspace((unsigned char)*s)) {
            double d = strtod(s, &end);
            if (*end == '\0') {
                *out = d;
                return 1;
            }
        }
    } else {
        snprintf(text, 64, "%s", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "?");
    }
    tw_metrics_fault_add(c->fault, c->invalid, "The value %s for parameter %s is invalid.", text,
                         path);
    return -1;
}

int tw_metrics_get_integer(tw_metrics_checker *c, const json_t *obj, const char *name,
                           const char *path, int64_t *out)
{
    double d;
    char text[64];
    int rc = tw_metrics_get_number(c, obj, name, path, &d, text);
    if (rc <= 0)
        return rc;
    if (d != floor(d) || fabs(d) > 9.0e15) {
        tw_metrics_fault_add(c->fault, c->invalid, "The value %s for parameter %s is invalid.",
                             text, path);
        return -1;
    }
    *out = (int64_t)d;
    return 1;
}

int tw_metrics_get_bool(tw_metrics_checker *c, const json_t *obj, const char *name,
                        const char *path, bool *out)
{
    const json_t *v = tw_metrics_member(obj, name);
    if (!v)
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *out = s[0] == 't';
        return 1;
    }
    tw_metrics_fault_add(c->fault, c->invalid, "The value %s for parameter %s is invalid.", s,
                         path);
    return -1;
}

/* ISO 8601 (query protocol) or epoch seconds (JSON 1.0, CBOR tag 1). */
int tw_metrics_get_time(tw_metrics_checker *c, const json_t *obj, const char *name,
                        const char *path, bool required, int64_t *out_ms)
{
    const json_t *v = tw_metrics_member(obj, name);
    if (!v) {
        if (required)
            tw_metrics_fault_add(c->fault, c->missing, "The parameter %s is required.", path);
        return 0;
    }
    if (json_is_number(v)) {
        double seconds = json_number_value(v);
        if (fabs(seconds) < 253402300800.0) { /* before year 10000 */
            *out_ms = (int64_t)llround(seconds * 1000.0);
            return 1;
        }
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (tw_time_parse_iso8601(s, strlen(s), out_ms, NULL) == 0)
            return 1;
        char *end;
        double seconds = strtod(s, &end); /* some SDKs send epoch seconds as text */
        if (*s != '\0' && *end == '\0' && fabs(seconds) < 253402300800.0) {
            *out_ms = (int64_t)llround(seconds * 1000.0);
            return 1;
        }
    }
    tw_metrics_fault_add(c->fault, c->invalid, "The value %s for parameter %s is invalid.",
                         json_is_string(v) ? json_string_value(v) : "?", path);
    return -1;
}

/* A list: a JSON array, or "" (an empty query list) → *out NULL, n 0. */
int tw_metrics_get_list(tw_metrics_checker *c, const json_t *obj, const char *name,
                        const char *path, const json_t **out, size_t *n)
{
    const json_t *v = tw_metrics_member(obj, name);
    *out = NULL;
    *n = 0;
    if (!v)
        return 0;
    if (json_is_array(v)) {
        *out = v;
        *n = json_array_size(v);
        return 1;
    }
    if (json_is_string(v) && json_string_length(v) == 0)
        return 1;
    tw_metrics_fault_add(c->fault, c->invalid, "The parameter %s must be a list.", path);
    return -1;
}

bool tw_metrics_check_length(tw_metrics_checker *c, const char *value, const char *path, size_t max)
{
    if (strlen(value) > max) {
        tw_metrics_fault_add(c->fault, c->invalid,
                             "The parameter %s must be shorter than %zu characters.", path,
                             max + 1);
        return false;
    }
    return true;
}
