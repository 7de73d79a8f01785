/* statsd_parse.c — the StatsD line parser (see statsd_parse.h): splits a
 * datagram into lines and a line into name, values, type, rate and tags,
 * checking each against what CloudWatch will accept. */
#include "statsd_parse.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static const char tag_true[] = "true";

static int fail(tw_statsd_error *err, tw_statsd_reason reason, const char *why)
{
    if (err) {
        err->reason = reason;
        err->why = why;
    }
    return -EINVAL;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

bool tw_statsd_next_line(const char *packet, size_t len, size_t *pos, tw_statsd_span *line)
{
    while (*pos < len) {
        const char *start = packet + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - start) : len - *pos;
        *pos += n + (nl ? 1 : 0);
        while (n > 0 && is_blank(start[n - 1]))
            n--;
        while (n > 0 && is_blank(start[0])) {
            start++;
            n--;
        }
        if (n > 0) {
            *line = (tw_statsd_span){start, n};
            return true;
        }
    }
    return false;
}

/* ---- numbers ------------------------------------------------------------ */

/* A decimal number as statsd clients write it: [+-]digits[.digits][e[+-]digits]
 * (".5" and "5." too). strtod alone would also take "inf", "nan", hex and
 * leading blanks, which no client sends and CloudWatch refuses. */
static bool decimal_syntax(const char *p, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (p[i] == '+' || p[i] == '-'))
        i++;
    while (i < len && p[i] >= '0' && p[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && p[i] == '.') {
        i++;
        while (i < len && p[i] >= '0' && p[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < len && p[i] >= '0' && p[i] <= '9') {
            i++;
            exp_digits++;
        }
        if (exp_digits == 0)
            return false;
    }
    return i == len;
}

/* Most values are small integers: read them exactly without strtod (which
 * needs a NUL-terminated copy). Up to 15 digits fit a double exactly. */
static bool small_integer(const char *p, size_t len, double *out)
{
    size_t i = (len > 0 && (p[0] == '+' || p[0] == '-')) ? 1 : 0;
    if (len - i == 0 || len - i > 15)
        return false;
    int64_t n = 0;
    for (size_t k = i; k < len; k++) {
        if (p[k] < '0' || p[k] > '9')
            return false;
        n = n * 10 + (p[k] - '0');
    }
    *out = p[0] == '-' ? -(double)n : (double)n;
    return true;
}

static int parse_number(const char *p, size_t len, double *out, tw_statsd_error *err,
                        tw_statsd_reason reason)
{
    if (len == 0)
        return fail(err, reason, "a number is missing");
    if (small_integer(p, len, out))
        return 0;
    if (len > TW_STATSD_NUMBER_MAX)
        return fail(err, reason, "a number is longer than 63 characters");
    if (!decimal_syntax(p, len))
        return fail(err, reason, "not a decimal number");
    char copy[TW_STATSD_NUMBER_MAX + 1];
    memcpy(copy, p, len);
    copy[len] = '\0';
    /* The agent never calls setlocale: strtod reads "." as the C locale does. */
    double v = strtod(copy, NULL);
    if (!isfinite(v) || fabs(v) > 0x1p360)
        return fail(err, reason, "a number beyond CloudWatch's range of ±2^360");
    *out = v;
    return 0;
}

/* ---- names and tags ------------------------------------------------------ */

/* Metric names are kept as sent: CloudWatch takes any text of 1 to 255
 * characters, but the query encoding needs UTF-8, and control characters
 * have no business in a name (a NUL would also cut it short). */
static int check_name(const char *p, size_t len, tw_statsd_error *err)
{
    if (len == 0)
        return fail(err, TW_STATSD_BAD_NAME, "the metric name is empty");
    if (len > TW_METRIC_NAME_MAX)
        return fail(err, TW_STATSD_BAD_NAME, "the metric name is longer than 255 bytes");
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return fail(err, TW_STATSD_BAD_NAME, "the metric name has a control character");
        size_t n = tw_utf8_sequence(u + i, len - i);
        if (n == 0)
            return fail(err, TW_STATSD_BAD_NAME, "the metric name is not UTF-8");
        i += n;
    }
    return 0;
}

/* CloudWatch dimension text: printable ASCII, at least one non-blank. */
static bool dimension_text(const char *p, size_t len)
{
    bool non_blank = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c > 0x7e)
            return false;
        if (c != ' ')
            non_blank = true;
    }
    return non_blank;
}

static int span_cmp(tw_statsd_span a, tw_statsd_span b)
{
    int c = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);
    return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

static int add_tag(tw_statsd_line *out, const char *p, size_t len, tw_statsd_error *err)
{
    const char *colon = memchr(p, ':', len);
    tw_statsd_tag tag;
    tag.name = (tw_statsd_span){p, colon ? (size_t)(colon - p) : len};
    if (colon)
        tag.value = (tw_statsd_span){colon + 1, len - tag.name.len - 1};
    else
        tag.value = (tw_statsd_span){tag_true, sizeof tag_true - 1};
    if (tag.name.len == 0)
        return fail(err, TW_STATSD_BAD_TAGS, "a tag has no name");
    if (tag.name.len > TW_METRIC_DIM_NAME_MAX || !dimension_text(tag.name.ptr, tag.name.len))
        return fail(err, TW_STATSD_BAD_TAGS,
                    "a tag name must be 1 to 255 printable ASCII characters");
    if (tag.value.len == 0)
        return fail(err, TW_STATSD_BAD_TAGS, "a tag has \":\" but no value");
    if (tag.value.len > TW_METRIC_DIM_VALUE_MAX ||
        !dimension_text(tag.value.ptr, tag.value.len))
        return fail(err, TW_STATSD_BAD_TAGS,
                    "a tag value must be 1 to 1024 printable ASCII characters");
    if (out->n_tags == TW_STATSD_MAX_TAGS)
        return fail(err, TW_STATSD_BAD_TAGS, "more than 29 tags");
    /* Insertion sort: a series is the same whatever order its tags came in. */
    size_t i = out->n_tags++;
    while (i > 0 && span_cmp(out->tags[i - 1].name, tag.name) > 0) {
        out->tags[i] = out->tags[i - 1];
        i--;
    }
    if (i > 0 && span_cmp(out->tags[i - 1].name, tag.name) == 0)
        return fail(err, TW_STATSD_BAD_TAGS, "a tag name is given twice");
    out->tags[i] = tag;
    return 0;
}

static int parse_tags(const char *p, size_t len, tw_statsd_line *out, tw_statsd_error *err)
{
    while (len > 0) {
        const char *comma = memchr(p, ',', len);
        size_t n = comma ? (size_t)(comma - p) : len;
        if (n > 0 && add_tag(out, p, n, err) != 0)
            return -EINVAL;
        p += n;
        len -= n;
        if (comma) {
            p++;
            len--;
        }
    }
    return 0;
}

/* ---- the line ----------------------------------------------------------- */

static int parse_type(const char *p, size_t len, tw_statsd_type *type, tw_statsd_error *err)
{
    if (len == 1 && p[0] == 'c')
        *type = TW_STATSD_COUNTER;
    else if (len == 1 && p[0] == 'g')
        *type = TW_STATSD_GAUGE;
    else if (len == 2 && p[0] == 'm' && p[1] == 's')
        *type = TW_STATSD_TIMER;
    else if (len == 1 && p[0] == 'h')
        *type = TW_STATSD_HISTOGRAM;
    else if (len == 1 && p[0] == 'd')
        *type = TW_STATSD_DISTRIBUTION;
    else if (len == 1 && p[0] == 's')
        *type = TW_STATSD_SET;
    else if (len == 0)
        return fail(err, TW_STATSD_BAD_TYPE, "the type after \"|\" is empty");
    else
        return fail(err, TW_STATSD_BAD_TYPE, "the type is not one of c, g, ms, h, d, s");
    return 0;
}

static int read_value(tw_statsd_type type, const char *p, size_t len, tw_statsd_value *out,
                      tw_statsd_error *err)
{
    out->text = (tw_statsd_span){p, len};
    out->number = 0;
    out->relative = false;
    if (type == TW_STATSD_SET)
        return len > 0 ? 0 : fail(err, TW_STATSD_BAD_VALUE, "a set member is empty");
    if (len == 0)
        return fail(err, TW_STATSD_BAD_VALUE, "the value is empty");
    if (parse_number(p, len, &out->number, err, TW_STATSD_BAD_VALUE) != 0)
        return -EINVAL;
    out->relative = type == TW_STATSD_GAUGE && (p[0] == '+' || p[0] == '-');
    return 0;
}

bool tw_statsd_line_value(const tw_statsd_line *line, size_t *offset, tw_statsd_value *out)
{
    if (*offset > line->values.len)
        return false;
    const char *p = line->values.ptr + *offset;
    size_t rest = line->values.len - *offset;
    const char *colon = memchr(p, ':', rest);
    size_t n = colon ? (size_t)(colon - p) : rest;
    *offset += n + 1; /* past the ":"; past the end after the last value */
    return read_value(line->type, p, n, out, NULL) == 0;
}

/* Every value is read now, so that a bad one refuses the whole line before
 * any of it is counted. */
static int check_values(tw_statsd_line *out, tw_statsd_error *err)
{
    const char *p = out->values.ptr;
    size_t len = out->values.len;
    out->n_values = 0;
    for (;;) {
        const char *colon = memchr(p, ':', len);
        size_t n = colon ? (size_t)(colon - p) : len;
        tw_statsd_value v;
        if (read_value(out->type, p, n, &v, err) != 0)
            return -EINVAL;
        if (out->n_values++ == 0)
            out->first = v;
        if (!colon)
            return 0;
        p += n + 1;
        len -= n + 1;
    }
}

static int parse_field(const char *p, size_t len, tw_statsd_line *out, bool *seen_rate,
                       bool *seen_tags, tw_statsd_error *err)
{
    if (len > 0 && p[0] == '@') {
        if (*seen_rate)
            return fail(err, TW_STATSD_BAD_FORMAT, "the sample rate is given twice");
        *seen_rate = true;
        if (parse_number(p + 1, len - 1, &out->rate, err, TW_STATSD_BAD_RATE) != 0)
            return -EINVAL;
        if (!(out->rate > 0 && out->rate <= 1))
            return fail(err, TW_STATSD_BAD_RATE, "the sample rate must be in (0, 1]");
        return 0;
    }
    if (len > 0 && p[0] == '#') {
        if (*seen_tags)
            return fail(err, TW_STATSD_BAD_FORMAT, "the tags are given twice");
        *seen_tags = true;
        return parse_tags(p + 1, len - 1, out, err);
    }
    /* DogStatsD extensions (container id, timestamp, external data,
     * cardinality): nothing CloudWatch has a place for. */
    if (len > 0 && ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return 0;
    return fail(err, TW_STATSD_BAD_FORMAT, "a field after the type is not @rate or #tags");
}

int tw_statsd_parse_line(const char *text, size_t len, tw_statsd_line *out, tw_statsd_error *err)
{
    if ((len >= 3 && memcmp(text, "_e{", 3) == 0) || (len >= 4 && memcmp(text, "_sc|", 4) == 0))
        return fail(err, TW_STATSD_BAD_UNSUPPORTED,
                    "DogStatsD events and service checks are not metrics");
    const char *bar = memchr(text, '|', len);
    if (!bar)
        return fail(err, TW_STATSD_BAD_FORMAT, "no \"|type\"");
    size_t head = (size_t)(bar - text);
    const char *colon = memchr(text, ':', head);
    if (!colon)
        return fail(err, TW_STATSD_BAD_FORMAT, "no \":\" between the name and the value");
    out->name = (tw_statsd_span){text, (size_t)(colon - text)};
    out->values = (tw_statsd_span){colon + 1, head - out->name.len - 1};
    out->rate = 1;
    out->n_tags = 0;
    if (check_name(out->name.ptr, out->name.len, err) != 0)
        return -EINVAL;

    const char *p = bar + 1, *end = text + len;
    const char *next = memchr(p, '|', (size_t)(end - p));
    if (parse_type(p, (size_t)((next ? next : end) - p), &out->type, err) != 0)
        return -EINVAL;
    bool seen_rate = false, seen_tags = false;
    while (next) {
        p = next + 1;
        next = memchr(p, '|', (size_t)(end - p));
        if (parse_field(p, (size_t)((next ? next : end) - p), out, &seen_rate, &seen_tags,
                        err) != 0)
            return -EINVAL;
    }
    return check_values(out, err);
}

const char *tw_statsd_reason_name(tw_statsd_reason reason)
{
    static const char *const names[TW_STATSD_REASONS] = {
        [TW_STATSD_BAD_FORMAT] = "format", [TW_STATSD_BAD_NAME] = "name",
        [TW_STATSD_BAD_VALUE] = "value",   [TW_STATSD_BAD_TYPE] = "type",
        [TW_STATSD_BAD_RATE] = "rate",     [TW_STATSD_BAD_TAGS] = "tags",
        [TW_STATSD_BAD_UNSUPPORTED] = "unsupported",
    };
    return (unsigned)reason < TW_STATSD_REASONS ? names[reason] : "unknown";
}

const char *tw_statsd_type_name(tw_statsd_type type)
{
    static const char *const names[] = {
        [TW_STATSD_COUNTER] = "c", [TW_STATSD_GAUGE] = "g",        [TW_STATSD_TIMER] = "ms",
        [TW_STATSD_HISTOGRAM] = "h", [TW_STATSD_DISTRIBUTION] = "d", [TW_STATSD_SET] = "s",
    };
    return (unsigned)type <= TW_STATSD_SET ? names[type] : "?";
}

void tw_statsd_escape(const char *text, size_t len, size_t max_chars, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    size_t o = 0, i = 0;
    for (; i < len && i < max_chars; i++) {
        unsigned char c = (unsigned char)text[i];
        char piece[5];
        int n;
        if (c == '"' || c == '\\')
            n = snprintf(piece, sizeof piece, "\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            n = snprintf(piece, sizeof piece, "\\x%02x", c);
        else
            n = snprintf(piece, sizeof piece, "%c", c);
        if (o + (size_t)n + 4 > out_size) /* room for "..." and the NUL */
            break;
        memcpy(out + o, piece, (size_t)n);
        o += (size_t)n;
    }
    if (i < len && o + 4 <= out_size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
