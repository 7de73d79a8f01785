/* units.c — parsing and formatting of durations and sizes (see units.h).
 * Both are "number, unit" with the same grammar, so one parser serves both,
 * driven by a table describing each kind of quantity. */
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"

#define MAX_FRACTION_DIGITS 9

typedef struct unit {
    const char *name;
    uint64_t factor; /* milliseconds or bytes per unit */
} unit;

/* A spelling users try that we do not accept, and the unit they meant. */
typedef struct unit_alias {
    const char *spelling; /* compared ignoring case */
    const char *unit;
} unit_alias;

/* Everything that differs between durations and sizes. */
typedef struct quantity_kind {
    const char *noun;        /* "duration" */
    const unit *units;       /* largest first, for formatting */
    size_t unit_count;
    bool unit_ignores_case;
    const unit_alias *aliases;
    size_t alias_count;
    const char *unit_list;   /* "ms, s, m, h or d", for messages */
    const char *bare_unit;   /* the hint for a number without a unit */
    const char *example;     /* "60s" */
    const char *base_noun;   /* "milliseconds" */
    uint64_t max;
} quantity_kind;

static const unit duration_units[] = {
    {"d", UINT64_C(86400000)}, {"h", UINT64_C(3600000)}, {"m", UINT64_C(60000)},
    {"s", UINT64_C(1000)},     {"ms", UINT64_C(1)},
};

static const unit_alias duration_aliases[] = {
    {"msec", "ms"},   {"msecs", "ms"}, {"millisecond", "ms"}, {"milliseconds", "ms"},
    {"sec", "s"},     {"secs", "s"},   {"second", "s"},       {"seconds", "s"},
    {"min", "m"},     {"mins", "m"},   {"minute", "m"},       {"minutes", "m"},
    {"hr", "h"},      {"hrs", "h"},    {"hour", "h"},         {"hours", "h"},
    {"day", "d"},     {"days", "d"},   {"ms", "ms"},          {"s", "s"},
    {"h", "h"},       {"d", "d"},
};

static const unit size_units[] = {
    {"TiB", UINT64_C(1) << 40}, {"GiB", UINT64_C(1) << 30}, {"MiB", UINT64_C(1) << 20},
    {"KiB", UINT64_C(1) << 10}, {"B", UINT64_C(1)},
};

static const unit_alias size_aliases[] = {
    {"k", "KiB"},  {"kb", "KiB"},  {"kilobyte", "KiB"}, {"kilobytes", "KiB"},
    {"m", "MiB"},  {"mb", "MiB"},  {"megabyte", "MiB"}, {"megabytes", "MiB"},
    {"g", "GiB"},  {"gb", "GiB"},  {"gigabyte", "GiB"}, {"gigabytes", "GiB"},
    {"t", "TiB"},  {"tb", "TiB"},  {"terabyte", "TiB"}, {"terabytes", "TiB"},
    {"byte", "B"}, {"bytes", "B"},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const quantity_kind duration_kind = {
    "duration",       duration_units, COUNT(duration_units), false, duration_aliases,
    COUNT(duration_aliases), "ms, s, m, h or d", "s", "60s", "milliseconds", INT64_MAX,
};

static const quantity_kind size_kind = {
    "size",       size_units, COUNT(size_units), true, size_aliases,
    COUNT(size_aliases), "B, KiB, MiB, GiB or TiB", "B", "64KiB", "bytes", UINT64_MAX,
};

/* The text split into its parts; every pointer is into the caller's bytes. */
typedef struct quantity_text {
    const char *number; /* digits, optional ".digits" */
    size_t number_len;
    const char *unit;   /* the rest, blanks trimmed */
    size_t unit_len;
    uint64_t whole;
    bool whole_overflows;
    uint32_t fraction; /* the digits after '.', as an integer */
    size_t fraction_digits;
} quantity_text;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ASCII only: strncasecmp follows the locale (a Turkish locale folds 'I'
 * to a dotless i), and unit names must not. */
static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool equals_ignoring_case(const char *name, const char *text, size_t len)
{
    if (strlen(name) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (ascii_lower(name[i]) != ascii_lower(text[i]))
            return false;
    return true;
}

static const unit *find_unit(const quantity_kind *kind, const char *name, size_t len)
{
    for (size_t i = 0; i < kind->unit_count; i++) {
        const unit *u = &kind->units[i];
        bool same = kind->unit_ignores_case
                        ? equals_ignoring_case(u->name, name, len)
                        : strlen(u->name) == len && memcmp(u->name, name, len) == 0;
        if (same)
            return u;
    }
    return NULL;
}

static const char *find_alias(const quantity_kind *kind, const char *name, size_t len)
{
    for (size_t i = 0; i < kind->alias_count; i++) {
        const unit_alias *a = &kind->aliases[i];
        if (equals_ignoring_case(a->spelling, name, len))
            return a->unit;
    }
    return NULL;
}

/* Splits text into number and unit. Returns NULL, or why it cannot be split. */
static const char *split_quantity(const char *text, size_t len, quantity_text *q)
{
    size_t start = 0, end = len;
    while (start < end && is_blank(text[start]))
        start++;
    while (end > start && is_blank(text[end - 1]))
        end--;
    if (start == end)
        return "is empty";
    if (text[start] == '-')
        return "cannot be negative";
    if (!is_digit(text[start]))
        return "does not start with a number";

    size_t i = start;
    q->whole = 0;
    q->whole_overflows = false;
    for (; i < end && is_digit(text[i]); i++) {
        unsigned digit = (unsigned)(text[i] - '0');
        if (q->whole > (UINT64_MAX - digit) / 10)
            q->whole_overflows = true;
        else
            q->whole = q->whole * 10 + digit;
    }
    q->fraction = 0;
    q->fraction_digits = 0;
    if (i < end && text[i] == '.') {
        i++;
        for (; i < end && is_digit(text[i]); i++) {
            if (q->fraction_digits == MAX_FRACTION_DIGITS)
                return "has more than 9 digits after the '.'";
            q->fraction = q->fraction * 10 + (uint32_t)(text[i] - '0');
            q->fraction_digits++;
        }
        if (q->fraction_digits == 0)
            return "has no digits after the '.'";
    }
    q->number = text + start;
    q->number_len = i - start;
    while (i < end && is_blank(text[i]))
        i++;
    q->unit = text + i;
    q->unit_len = end - i;
    return NULL;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* whole.fraction * factor, exactly. Returns 0, -ERANGE (above max) or
 * -EDOM (not a whole number of the base unit). */
static int scale_quantity(const quantity_text *q, uint64_t factor, uint64_t max, uint64_t *out)
{
    if (q->whole_overflows || (q->whole != 0 && q->whole > max / factor))
        return -ERANGE;
    uint64_t value = q->whole * factor;

    uint64_t power = 1;
    for (size_t i = 0; i < q->fraction_digits; i++)
        power *= 10;
    /* fraction * factor / power must be an integer. Dividing by the common
     * part first keeps every intermediate below factor: no overflow. */
    uint64_t common = gcd(factor, power);
    uint64_t step = power / common;
    if (q->fraction % step != 0)
        return -EDOM;
    uint64_t part = q->fraction / step * (factor / common);
    if (part > max - value)
        return -ERANGE;
    *out = value + part;
    return 0;
}

static int parse_quantity(const quantity_kind *kind, const char *text, size_t len, uint64_t *out,
                          tw_err *err)
{
    char quoted[TW_QUOTE_SIZE];
    quantity_text q;
    const char *why = split_quantity(text, len, &q);
    if (why != NULL)
        return tw_err_set(err, -EINVAL,
                          "%s: the %s %s (expected a number and a unit: %s, e.g. \"%s\")",
                          tw_quote(text, len, quoted), kind->noun, why, kind->unit_list,
                          kind->example);

    /* Hints repeat the number; a very long one would crowd out the rest. */
    bool can_hint = q.number_len <= 40;
    if (q.unit_len == 0 && can_hint)
        return tw_err_set(err, -EINVAL,
                          "%s: a %s needs a unit (expected %s); did you mean \"%.*s%s\"?",
                          tw_quote(text, len, quoted), kind->noun, kind->unit_list,
                          (int)q.number_len, q.number, kind->bare_unit);
    if (q.unit_len == 0)
        return tw_err_set(err, -EINVAL, "%s: a %s needs a unit (expected %s)",
                          tw_quote(text, len, quoted), kind->noun, kind->unit_list);

    const unit *u = find_unit(kind, q.unit, q.unit_len);
    if (u == NULL) {
        char quoted_unit[TW_QUOTE_SIZE];
        tw_quote(q.unit, q.unit_len, quoted_unit);
        const char *meant = find_alias(kind, q.unit, q.unit_len);
        if (meant != NULL && can_hint)
            return tw_err_set(err, -EINVAL,
                              "%s: unknown %s unit %s (expected %s); did you mean \"%.*s%s\"?",
                              tw_quote(text, len, quoted), kind->noun, quoted_unit,
                              kind->unit_list, (int)q.number_len, q.number, meant);
        return tw_err_set(err, -EINVAL, "%s: unknown %s unit %s (expected %s)",
                          tw_quote(text, len, quoted), kind->noun, quoted_unit, kind->unit_list);
    }

    uint64_t value;
    int rc = scale_quantity(&q, u->factor, kind->max, &value);
    if (rc == -ERANGE)
        return tw_err_set(err, -ERANGE, "%s: %s too large (at most %" PRIu64 " %s)",
                          tw_quote(text, len, quoted), kind->noun, kind->max, kind->base_noun);
    if (rc == -EDOM)
        return tw_err_set(err, -EINVAL, "%s: not a whole number of %s (use a smaller unit)",
                          tw_quote(text, len, quoted), kind->base_noun);
    *out = value;
    return 0;
}

static int format_quantity(const quantity_kind *kind, uint64_t value, char *out, size_t size)
{
    /* The smallest unit has factor 1, so the loop always finds one. */
    const unit *u = &kind->units[kind->unit_count - 1];
    if (value != 0) {
        for (size_t i = 0; i < kind->unit_count; i++) {
            if (value % kind->units[i].factor == 0) {
                u = &kind->units[i];
                break;
            }
        }
    }
    int n = snprintf(out, size, "%" PRIu64 "%s", value / u->factor, u->name);
    return n >= 0 && (size_t)n < size ? 0 : -ERANGE;
}

int tw_duration_parse(const char *text, uint64_t *ms, tw_err *err)
{
    return parse_quantity(&duration_kind, text, strlen(text), ms, err);
}

int tw_duration_format(uint64_t ms, char *out, size_t size)
{
    if (ms == 0) {
        /* "0s" reads better than "0ms" in a config dump. */
        int n = snprintf(out, size, "0s");
        return n >= 0 && (size_t)n < size ? 0 : -ERANGE;
    }
    return format_quantity(&duration_kind, ms, out, size);
}

int tw_size_parse(const char *text, uint64_t *bytes, tw_err *err)
{
    return parse_quantity(&size_kind, text, strlen(text), bytes, err);
}

int tw_size_format(uint64_t bytes, char *out, size_t size)
{
    return format_quantity(&size_kind, bytes, out, size);
}
