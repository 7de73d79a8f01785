/* statsd_parse.h — the StatsD line protocol: splitting a datagram into lines
 * and reading one line into its parts, in place, without allocating.
 *
 * A line is   name:value[:value...]|type[|@rate][|#tag[:value][,tag...]]
 * (etsy statsd's metric_types.md, DogStatsD's datagram format, telegraf's
 * multi-value form "name:1:2:3|ms"). Several lines per datagram, separated
 * by "\n"; a trailing "\r" and blanks around a line are ignored, and so are
 * empty lines.
 *
 *   type   c counter · g gauge (a leading + or - makes the value relative to
 *          the current one) · ms timer · h histogram · d distribution · s set
 *          (a set's values are members, any text).
 *   @rate  the client's sample rate, 0 < rate <= 1: counters count value/rate,
 *          timers count each value 1/rate times; gauges and sets ignore it.
 *   #tags  DogStatsD tags; each becomes a CloudWatch dimension. A tag without
 *          ":value" gets the value "true" (what telegraf, hence the CloudWatch
 *          agent, does). Empty items ("a:1,,b:2") are skipped.
 *   other  a field starting with a letter is a DogStatsD extension
 *          ("|c:container-id", "|T1656581400", "|e:...", "|card:...") and is
 *          ignored; any other field makes the line bad.
 *
 * What makes a line bad (tw_statsd_reason), so that it is counted and logged
 * and never reaches the aggregator:
 *   format  no ":" before the first "|", no "|type", an unknown field, a field
 *           given twice
 *   name    empty, over 255 bytes, a control character, not UTF-8
 *   value   empty, not a decimal number, NaN/Inf, beyond ±2^360 (CloudWatch's
 *           range), a set member that is empty
 *   type    not one of the six above
 *   rate    not a number, or outside (0, 1]
 *   tags    a tag name empty, over 255 characters or not printable ASCII; a
 *           value given but empty, over 1024 characters or not printable
 *           ASCII (CloudWatch's dimension rules); more than 29 tags (the
 *           pipeline adds host); one name twice
 *   unsupported  a DogStatsD event ("_e{") or service check ("_sc|")
 * A line that parses therefore always makes samples CloudWatch accepts.
 *
 * Everything returned points into the caller's text, which must outlive the
 * tw_statsd_line. Any thread; no state.
 */
#ifndef TW_STATSD_PARSE_H
#define TW_STATSD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "metric.h"

/* One slot of CloudWatch's 30 dimensions stays free for host. */
#define TW_STATSD_MAX_TAGS (TW_METRIC_MAX_DIMENSIONS - 1)
/* A number longer than this is refused rather than copied without bound. */
#define TW_STATSD_NUMBER_MAX 63

typedef enum tw_statsd_type {
    TW_STATSD_COUNTER,
    TW_STATSD_GAUGE,
    TW_STATSD_TIMER,        /* ms */
    TW_STATSD_HISTOGRAM,    /* h */
    TW_STATSD_DISTRIBUTION, /* d */
    TW_STATSD_SET,
} tw_statsd_type;

typedef enum tw_statsd_reason {
    TW_STATSD_BAD_FORMAT,
    TW_STATSD_BAD_NAME,
    TW_STATSD_BAD_VALUE,
    TW_STATSD_BAD_TYPE,
    TW_STATSD_BAD_RATE,
    TW_STATSD_BAD_TAGS,
    TW_STATSD_BAD_UNSUPPORTED,
    TW_STATSD_REASONS /* how many reasons there are */
} tw_statsd_reason;

typedef struct tw_statsd_span {
    const char *ptr;
    size_t len;
} tw_statsd_span;

typedef struct tw_statsd_tag {
    tw_statsd_span name;
    tw_statsd_span value; /* "true" (static) for a tag given without a value */
} tw_statsd_tag;

/* One value of a line: a number (counters, gauges, timers) or a member
 * (sets: text only). relative: a gauge value written with a sign. */
typedef struct tw_statsd_value {
    tw_statsd_span text;
    double number;
    bool relative;
} tw_statsd_value;

typedef struct tw_statsd_line {
    tw_statsd_span name;
    tw_statsd_type type;
    tw_statsd_span values; /* "1" or "1:2:3": read them with tw_statsd_line_value */
    size_t n_values;       /* >= 1 */
    tw_statsd_value first; /* the first value, already read */
    double rate;           /* 1 when not given */
    size_t n_tags;
    tw_statsd_tag tags[TW_STATSD_MAX_TAGS]; /* sorted by name, names unique */
} tw_statsd_line;

typedef struct tw_statsd_error {
    tw_statsd_reason reason;
    const char *why; /* a static phrase: "the sample rate must be in (0, 1]" */
} tw_statsd_error;

/* Takes the next line of a datagram: *pos is where reading starts (0 at
 * first) and moves past the line and its "\n". Blanks and a "\r" around the
 * line are trimmed; empty lines are skipped. Returns false when the datagram
 * holds no more lines. */
bool tw_statsd_next_line(const char *packet, size_t len, size_t *pos, tw_statsd_span *line);

/* Reads one line (as tw_statsd_next_line gives it: no "\n"). Returns 0, or
 * -EINVAL with *err saying why (out is then unspecified). */
int tw_statsd_parse_line(const char *text, size_t len, tw_statsd_line *out, tw_statsd_error *err);

/* Reads value number i (0 <= i < n_values) of a parsed line, walking from
 * the previous one: call with *offset 0 for the first value, then keep
 * passing the same offset. Returns false after the last value. */
bool tw_statsd_line_value(const tw_statsd_line *line, size_t *offset, tw_statsd_value *out);

/* "format", "name", "value", "type", "rate", "tags", "unsupported". */
const char *tw_statsd_reason_name(tw_statsd_reason reason);

/* "c", "g", "ms", "h", "d", "s". */
const char *tw_statsd_type_name(tw_statsd_type type);

/* Writes text for a log line into out (always NUL-terminated): at most
 * max_chars of it, '"' and '\\' escaped with '\\', other bytes outside
 * printable ASCII as \xNN, and "..." when it was cut. */
void tw_statsd_escape(const char *text, size_t len, size_t max_chars, char *out, size_t out_size);

#endif
