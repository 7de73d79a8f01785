/* exec_parse.c — the exec output parsers' entry point and the trailwatch
 * format: dispatch per line, the helpers the formats share (words, numbers,
 * timestamps, emitting), and log-safe escaping. The collectd and Nagios
 * formats live in exec_parse_compat.c. See exec_parse.h and
 * docs/exec-plugins.md.
 */
#include "exec_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_parse_internal.h"
#include "mem.h"
#include "timefmt.h"

/* CloudWatch's window for datapoint timestamps (shared/spec/cloudwatch.md
 * §3.1): two weeks back, two hours ahead. */
#define PAST_LIMIT_MS (14LL * 24 * 3600 * 1000)
#define FUTURE_LIMIT_MS (2LL * 3600 * 1000)
/* @timestamps from this value on are milliseconds: as seconds it would be
 * the year 5138; as milliseconds anything below is before March 1973. */
#define EPOCH_MS_FROM 100000000000LL

static const char *const format_names[] = {
    [TW_EXEC_FORMAT_AUTO] = "auto",
    [TW_EXEC_FORMAT_TRAILWATCH] = "trailwatch",
    [TW_EXEC_FORMAT_COLLECTD] = "collectd",
    [TW_EXEC_FORMAT_NAGIOS] = "nagios",
};

int tw_exec_format_parse(const char *name, tw_exec_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (name && strcmp(name, format_names[i]) == 0) {
            *out = (tw_exec_format)i;
            return 0;
        }
    }
    return -EINVAL;
}

tw_exec_format tw_exec_format_from_name(const char *name)
{
    tw_exec_format format = TW_EXEC_FORMAT_AUTO;
    tw_exec_format_parse(name, &format);
    return format;
}

const char *tw_exec_format_name(tw_exec_format format)
{
    if ((size_t)format < sizeof format_names / sizeof format_names[0])
        return format_names[format];
    return "?";
}

const char *tw_exec_nagios_state_name(int state)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    return state >= 0 && state <= 3 ? names[state] : "UNKNOWN";
}

/* ---- shared helpers ----------------------------------------------------- */

int tw_exec_bad(char *why, size_t size, const char *fmt, ...)
{
    if (why && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

char *tw_exec_skip_blanks(char *p)
{
    while (tw_exec_is_blank(*p))
        p++;
    return p;
}

/* Copies a quoted part starting after its opening '"' at *src down to *dst,
 * undoing backslash escapes; leaves *src after the closing quote. */
static int read_quoted(char **src, char **dst)
{
    char *s = *src, *d = *dst;
    for (;;) {
        if (*s == '\0')
            return -EINVAL;
        if (*s == '"')
            break;
        if (*s == '\\' && s[1] != '\0')
            s++;
        *d++ = *s++;
    }
    *src = s + 1;
    *dst = d;
    return 0;
}

int tw_exec_next_word(char **cursor, tw_exec_word *word, bool quote_start, char *why,
                      size_t size)
{
    char *s = tw_exec_skip_blanks(*cursor);
    *word = (tw_exec_word){.text = s};
    if (*s == '\0') {
        *cursor = s;
        return 0;
    }
    char *d = s;
    bool at_value_start = quote_start;
    while (*s != '\0' && !tw_exec_is_blank(*s)) {
        if (*s == '"' && at_value_start) {
            s++;
            if (read_quoted(&s, &d) != 0)
                return word->value ? tw_exec_bad(why, size,
                                                 "the quoted value of %.64s is never closed",
                                                 word->text)
                                   : tw_exec_bad(why, size, "a double quote is never closed");
            word->quoted = true;
            if (*s != '\0' && !tw_exec_is_blank(*s))
                return tw_exec_bad(why, size, "text right after a closing quote (\"%.20s\")",
                                   s);
            break;
        }
        at_value_start = false;
        if (*s == '=' && word->value == NULL) {
            *d++ = '\0';
            s++;
            word->value = d;
            at_value_start = true;
            continue;
        }
        *d++ = *s++;
    }
    if (*s != '\0')
        s++; /* past the blank; d is at or before it */
    *d = '\0';
    *cursor = s;
    return 1;
}

size_t tw_exec_scan_decimal(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (s[j] >= '0' && s[j] <= '9') {
            while (s[j] >= '0' && s[j] <= '9')
                j++;
            i = j;
        }
    }
    return i;
}

int tw_exec_parse_number(const char *s, size_t len, double *out, const char *what, char *why,
                         size_t size)
{
    char copy[128];
    if (len == 0 || tw_exec_scan_decimal(s) != len)
        return tw_exec_bad(why, size, "%s \"%.*s\" is not a decimal number", what,
                           (int)(len > 40 ? 40 : len), s);
    if (len >= sizeof copy)
        return tw_exec_bad(why, size, "%s \"%.40s...\" is longer than %zu characters", what, s,
                           sizeof copy - 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    /* strtod also reads hex, "inf" and "nan": the scan above already kept
     * those out, and the copy stops it reading past the field. */
    double v = strtod(copy, NULL);
    if (!isfinite(v) || fabs(v) > 0x1p360)
        return tw_exec_bad(why, size, "%s %s is outside CloudWatch's range of ±2^360", what,
                           copy);
    if (fabs(v) < 0x1p-360)
        v = 0;
    *out = v;
    return 0;
}

static int check_time_window(const tw_exec_parser *p, const char *text, int64_t ms, char *why,
                             size_t size)
{
    bool old = ms < p->now_ms - PAST_LIMIT_MS;
    if (!old && ms <= p->now_ms + FUTURE_LIMIT_MS)
        return 0;
    char when[TW_ISO8601_MS_SIZE];
    if (tw_time_format_iso8601_ms(ms, when) != 0)
        snprintf(when, sizeof when, "%s", old ? "before 1970" : "after 9999");
    return tw_exec_bad(why, size, "timestamp %.40s (%s) is more than %s: CloudWatch refuses it",
                       text, when, old ? "14 days old" : "2 hours ahead");
}

int tw_exec_parse_time(const tw_exec_parser *p, const char *s, bool allow_ms, int64_t *time_ms,
                       char *why, size_t size)
{
    const char *c = s;
    int64_t whole = 0;
    size_t digits = 0;
    for (; *c >= '0' && *c <= '9'; c++, digits++) {
        if (digits == 15)
            return tw_exec_bad(why, size, "timestamp \"%.40s\" is too large", s);
        whole = whole * 10 + (*c - '0');
    }
    int64_t frac_ms = 0;
    if (*c == '.') {
        int scale = 100;
        for (c++; *c >= '0' && *c <= '9'; c++, scale /= 10)
            frac_ms += scale > 0 ? (*c - '0') * scale : 0;
    }
    if (digits == 0 || *c != '\0')
        return tw_exec_bad(why, size,
                           "timestamp \"%.40s\" is not epoch seconds%s (digits, optionally "
                           "with a fraction)",
                           s, allow_ms ? " or milliseconds" : "");
    int64_t ms = allow_ms && whole >= EPOCH_MS_FROM ? whole : whole * 1000 + frac_ms;
    if (check_time_window(p, s, ms, why, size) != 0)
        return -EINVAL;
    *time_ms = ms;
    return 0;
}

int tw_exec_emit(tw_exec_parser *p, const char *name, double value, const char *unit,
                 int64_t time_ms, const tw_dimension *dims, size_t n_dims, char *why,
                 size_t size)
{
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return tw_exec_bad(why, size, "metric name holds a control character (0x%02x)", *c);
    tw_metric_sample sample = {
        .name = name,
        .unit = unit,
        .value = value,
        .time_ms = time_ms != 0 ? time_ms : p->default_time_ms,
        .kind = TW_METRIC_GAUGE,
        .dimensions = dims,
        .n_dimensions = n_dims,
    };
    if (tw_metric_sample_check(&sample, why, size) != 0)
        return -EINVAL;
    int rc = tw_metric_emit(&p->config.sink, &sample);
    if (rc != 0)
        return tw_exec_bad(why, size, "the metrics pipeline refused %.64s (%s)", name,
                           strerror(rc < 0 ? -rc : rc));
    p->metrics++;
    return 0;
}

int tw_exec_join_name(char *out, const char *const *parts, char *why, size_t size)
{
    size_t len = 0;
    for (size_t i = 0; parts[i] != NULL; i++) {
        size_t n = strlen(parts[i]);
        if (len + (i > 0) + n > TW_METRIC_NAME_MAX)
            return tw_exec_bad(why, size, "the metric name %s_%s... is longer than %d bytes",
                               parts[0], parts[1] ? parts[1] : "", TW_METRIC_NAME_MAX);
        if (i > 0)
            out[len++] = '_';
        memcpy(out + len, parts[i], n);
        len += n;
    }
    out[len] = '\0';
    return 0;
}

/* ---- the trailwatch format ---------------------------------------------- */

/* A unit that differs from a StandardUnit name only by case gets a hint:
 * CloudWatch compares units exactly. */
static int bad_unit(const char *unit, char *why, size_t size)
{
    const char *canonical = tw_metric_unit_lookup_nocase(unit);
    if (canonical)
        return tw_exec_bad(why, size,
                           "unknown unit \"%.40s\": units are case-sensitive, did you mean "
                           "\"%s\"?",
                           unit, canonical);
    return tw_exec_bad(why, size,
                       "unknown unit \"%.40s\" (a CloudWatch unit such as Count, Percent, "
                       "Bytes, Seconds, Milliseconds, Bytes/Second or None; dimensions are "
                       "key=value)",
                       unit);
}

static int add_dimension(tw_dimension *dims, size_t *n, const tw_exec_word *w, char *why,
                         size_t size)
{
    if (w->text[0] == '\0')
        return tw_exec_bad(why, size, "dimension \"=%.40s\" has no name", w->value);
    if (w->value[0] == '\0')
        return tw_exec_bad(why, size, "dimension %.64s has an empty value", w->text);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(dims[i].name, w->text) == 0)
            return tw_exec_bad(why, size, "dimension %.64s is given twice", w->text);
    /* One of CloudWatch's 30 stays free for the host dimension. */
    if (*n == TW_METRIC_MAX_DIMENSIONS - 1)
        return tw_exec_bad(why, size, "more than %d dimensions", TW_METRIC_MAX_DIMENSIONS - 1);
    dims[(*n)++] = (tw_dimension){w->text, w->value};
    return 0;
}

/* name value [unit] [key=value ...] [@timestamp] */
static int parse_trailwatch(tw_exec_parser *p, char *line, char *why, size_t size)
{
    char *name = line, *c = line;
    while (*c != '\0' && !tw_exec_is_blank(*c))
        c++;
    if (c - name > TW_METRIC_NAME_MAX)
        return tw_exec_bad(why, size, "metric name is longer than %d bytes",
                           TW_METRIC_NAME_MAX);
    if (*c == '\0')
        return tw_exec_bad(why, size, "no value after the metric name (expected \"name value "
                                      "[unit] [key=value ...] [@timestamp]\")");
    *c++ = '\0';
    c = tw_exec_skip_blanks(c);
    char *value_text = c;
    while (*c != '\0' && !tw_exec_is_blank(*c))
        c++;
    if (*c != '\0')
        *c++ = '\0';
    double value;
    if (tw_exec_parse_number(value_text, strlen(value_text), &value, "value", why, size) != 0)
        return -EINVAL;

    const char *unit = NULL;
    tw_dimension dims[TW_METRIC_MAX_DIMENSIONS];
    size_t n_dims = 0;
    int64_t time_ms = 0;
    bool has_time = false, first = true;
    tw_exec_word w;
    int rc;
    while ((rc = tw_exec_next_word(&c, &w, false, why, size)) == 1) {
        if (has_time)
            return tw_exec_bad(why, size, "\"%.40s\" after the @timestamp, which must come last",
                               w.text);
        if (w.value != NULL) {
            if (add_dimension(dims, &n_dims, &w, why, size) != 0)
                return -EINVAL;
        } else if (w.text[0] == '@') {
            if (tw_exec_parse_time(p, w.text + 1, true, &time_ms, why, size) != 0)
                return -EINVAL;
            has_time = true;
        } else if (first) {
            unit = tw_metric_unit_lookup(w.text);
            if (unit == NULL)
                return bad_unit(w.text, why, size);
        } else {
            return tw_exec_bad(why, size,
                               "\"%.40s\" is not key=value (the unit, if any, comes right "
                               "after the value)",
                               w.text);
        }
        first = false;
    }
    if (rc < 0)
        return -EINVAL;
    return tw_exec_emit(p, name, value, unit, time_ms, dims, n_dims, why, size);
}

/* ---- dispatch ----------------------------------------------------------- */

void tw_exec_parser_init(tw_exec_parser *p, const tw_exec_parser_config *config)
{
    *p = (tw_exec_parser){.config = *config};
    p->now_ms = tw_time_now_ms();
    p->default_time_ms = p->now_ms;
}

void tw_exec_parser_reset(tw_exec_parser *p)
{
    p->nagios_part = 0;
    p->nagios_seen = false;
    p->nagios_text[0] = '\0';
}

void tw_exec_parser_free(tw_exec_parser *p)
{
    free(p->scratch);
    p->scratch = NULL;
    p->scratch_size = 0;
}

/* Copies the line into the scratch buffer without trailing blanks and
 * '\r'; a NUL byte inside makes it bad (C strings, and CloudWatch, cannot
 * carry one). */
static int load_scratch(tw_exec_parser *p, const char *line, size_t len, char *why, size_t size)
{
    const char *nul = memchr(line, '\0', len);
    if (nul != NULL)
        return tw_exec_bad(why, size, "a NUL byte at offset %zu", (size_t)(nul - line));
    while (len > 0 && (line[len - 1] == '\r' || tw_exec_is_blank(line[len - 1])))
        len--;
    if (len + 1 > p->scratch_size) {
        size_t want = p->scratch_size ? p->scratch_size : 256;
        while (want < len + 1)
            want *= 2;
        p->scratch = tw_realloc(p->scratch, want);
        p->scratch_size = want;
    }
    memcpy(p->scratch, line, len);
    p->scratch[len] = '\0';
    return 0;
}

static bool nagios_takes_line(const tw_exec_parser *p, const char *line)
{
    switch (p->config.format) {
    case TW_EXEC_FORMAT_NAGIOS:
        return true;
    case TW_EXEC_FORMAT_AUTO:
        if (p->nagios_part > 0 && !p->config.lines_stand_alone)
            return true;
        return strchr(line, '|') != NULL && !tw_exec_is_collectd_line(line);
    default:
        return false;
    }
}

int tw_exec_parse_line(tw_exec_parser *p, const char *line, size_t len, char *why,
                       size_t why_size)
{
    if (why_size > 0)
        why[0] = '\0';
    if (load_scratch(p, line, len, why, why_size) != 0)
        return -EINVAL;
    char *text = tw_exec_skip_blanks(p->scratch);
    if (*text == '\0')
        return 0;
    if (nagios_takes_line(p, text))
        return tw_exec_parse_nagios(p, p->scratch, why, why_size);
    if (*text == '#')
        return 0;
    if (p->config.format == TW_EXEC_FORMAT_COLLECTD ||
        (p->config.format == TW_EXEC_FORMAT_AUTO && tw_exec_is_collectd_line(text)))
        return tw_exec_parse_collectd(p, text, why, why_size);
    return parse_trailwatch(p, text, why, why_size);
}

int tw_exec_parser_emit_status(tw_exec_parser *p, int state, int64_t time_ms, char *why,
                               size_t why_size)
{
    char name[TW_METRIC_NAME_MAX + 1];
    const char *parts[] = {p->config.exec_name, "status", NULL};
    if (tw_exec_join_name(name, parts, why, why_size) != 0)
        return -EINVAL;
    return tw_exec_emit(p, name, state, "None", time_ms, NULL, 0, why, why_size);
}

/* ---- escaping ----------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence of a printable code point
 * (U+00A0 and up, no surrogates, no overlong forms) at s, or 0. */
static size_t utf8_printable(const unsigned char *s, size_t avail)
{
    size_t n;
    uint32_t cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[] = {0, 0, 0xa0, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void tw_exec_escape(const char *text, size_t len, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    const unsigned char *s = (const unsigned char *)text;
    size_t shown = len > TW_EXEC_SHOW_MAX ? TW_EXEC_SHOW_MAX : len;
    size_t o = 0, i = 0;
    /* Room for the longest piece ("\xNN") plus "..." and the NUL. */
    while (i < shown && o + 8 <= out_size) {
        size_t n = s[i] >= 0x80 ? utf8_printable(s + i, shown - i) : 0;
        if (n > 0) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else if (s[i] == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
            i++;
        } else if (s[i] < 0x20 || s[i] >= 0x7f) {
            o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", s[i]);
            i++;
        } else {
            out[o++] = (char)s[i++];
        }
    }
    if (i < len && o + 4 <= out_size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < out_size ? o : out_size - 1] = '\0';
}
