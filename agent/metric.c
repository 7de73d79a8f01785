/* metric.c — CloudWatch's rules for one metric sample (see metric.h). */
#include "metric.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"

/* shared/spec/cloudwatch.md §3.1: the 27 StandardUnit values. */
static const char *const standard_units[] = {
    "Seconds",          "Microseconds",     "Milliseconds",     "Bytes",
    "Kilobytes",        "Megabytes",        "Gigabytes",        "Terabytes",
    "Bits",             "Kilobits",         "Megabits",         "Gigabits",
    "Terabits",         "Percent",          "Count",            "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second",      "Kilobits/Second",  "Megabits/Second",  "Gigabits/Second",
    "Terabits/Second",  "Count/Second",     "None",
};

const char *tw_metric_unit_lookup(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof standard_units / sizeof standard_units[0]; i++)
        if (strcmp(name, standard_units[i]) == 0)
            return standard_units[i];
    return NULL;
}

const char *tw_metric_unit_lookup_nocase(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof standard_units / sizeof standard_units[0]; i++)
        if (strcasecmp(name, standard_units[i]) == 0)
            return standard_units[i];
    return NULL;
}

/* CloudWatch refuses |x| > 2^360, NaN and infinities (§3.1). */
static bool value_in_range(double v)
{
    static const double limit = 0x1p360;
    return isfinite(v) && v <= limit && v >= -limit;
}

/* Printable ASCII with at least one non-blank: dimension names and values
 * (§3.1 "ASCII only, at least one non-whitespace char, no control chars"). */
static bool printable_text(const char *s)
{
    bool non_blank = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p > 0x7e)
            return false;
        if (*p != ' ')
            non_blank = true;
    }
    return non_blank;
}

static int reject(char *why, size_t size, const char *fmt, ...) TW_PRINTF(3, 4);

static int reject(char *why, size_t size, const char *fmt, ...)
{
    if (why && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int check_dimension(const tw_dimension *d, char *why, size_t size)
{
    if (!d->name || !d->value)
        return reject(why, size, "a dimension has no %s", !d->name ? "name" : "value");
    size_t name_len = strlen(d->name), value_len = strlen(d->value);
    if (name_len == 0 || name_len > TW_METRIC_DIM_NAME_MAX || !printable_text(d->name))
        return reject(why, size,
                      "dimension name \"%.64s\"%s must be 1 to 255 printable ASCII characters",
                      d->name, name_len > 64 ? "..." : "");
    if (d->name[0] == ':')
        return reject(why, size, "dimension name \"%.64s\" must not start with ':'", d->name);
    if (value_len == 0 || value_len > TW_METRIC_DIM_VALUE_MAX || !printable_text(d->value))
        return reject(why, size,
                      "the value of dimension %.64s must be 1 to 1024 printable ASCII "
                      "characters",
                      d->name);
    return 0;
}

int tw_metric_sample_check(const tw_metric_sample *s, char *why, size_t size)
{
    size_t name_len = s->name ? strlen(s->name) : 0;
    if (name_len == 0 || name_len > TW_METRIC_NAME_MAX)
        return reject(why, size, "metric name \"%.64s\"%s must be 1 to 255 characters",
                      s->name ? s->name : "", name_len > 64 ? "..." : "");
    if (s->unit && !tw_metric_unit_lookup(s->unit))
        return reject(why, size,
                      "%s: unit \"%.40s\" is not a CloudWatch unit (Count, Percent, Bytes, "
                      "Seconds, Milliseconds, Bytes/Second, None, ...)",
                      s->name, s->unit);
    if (!value_in_range(s->value))
        return reject(why, size, "%s: value must be a finite number within ±2^360", s->name);
    if (s->count < 0 || !value_in_range(s->count))
        return reject(why, size, "%s: count must be a finite number, not negative", s->name);
    /* One slot stays free for the host dimension the pipeline adds. */
    if (s->n_dimensions > TW_METRIC_MAX_DIMENSIONS - 1)
        return reject(why, size, "%s: more than 29 dimensions", s->name);
    for (size_t i = 0; i < s->n_dimensions; i++)
        if (check_dimension(&s->dimensions[i], why, size) != 0)
            return -EINVAL;
    return 0;
}
