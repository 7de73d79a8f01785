/* exec_parse_internal.h — what the exec output parsers share between
 * exec_parse.c (the trailwatch format, the dispatch, escaping) and
 * exec_parse_compat.c (the collectd and Nagios formats). Not for other
 * modules: use exec_parse.h.
 *
 * Every function works on the parser's scratch copy of the line (mutable,
 * NUL-terminated), splits it in place, and reports a bad line by filling
 * why and returning -EINVAL.
 */
#ifndef TW_EXEC_PARSE_INTERNAL_H
#define TW_EXEC_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "exec_parse.h"

/* Writes the sentence into why and returns -EINVAL. */
int tw_exec_bad(char *why, size_t size, const char *fmt, ...) TW_PRINTF(3, 4);

static inline bool tw_exec_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Advances past spaces and tabs. */
char *tw_exec_skip_blanks(char *p);

/* One blank-separated word of a line. With quotes, a '"' right after the
 * word's first '=' (and, when quote_start, at its very beginning) opens a
 * quoted part that may hold blanks and ends at the next unescaped '"'; a
 * backslash inside takes the next byte as it is. value is NULL when the word
 * has no '=' outside quotes; otherwise the word is split there and value
 * points after the '=' (unquoted). quoted says a quoted part was read. */
typedef struct tw_exec_word {
    char *text;
    char *value;
    bool quoted;
} tw_exec_word;

/* Reads the word at *cursor (after any blanks), NUL-terminates it in place
 * and moves *cursor past it. Returns 1 for a word, 0 at the end of the line,
 * -EINVAL for an unterminated quote or text glued to a closing quote. */
int tw_exec_next_word(char **cursor, tw_exec_word *word, bool quote_start, char *why,
                      size_t size);

/* The length of the finite decimal at the start of s:
 * [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?, or 0. */
size_t tw_exec_scan_decimal(const char *s);

/* Parses exactly len bytes of s as such a decimal, within CloudWatch's
 * ±2^360; magnitudes under 2^-360 become 0, which CloudWatch also refuses
 * to store otherwise. what names the field in the sentence. */
int tw_exec_parse_number(const char *s, size_t len, double *out, const char *what, char *why,
                         size_t size);

/* Parses epoch seconds with an optional fraction ("1700000000.25"), or,
 * when allow_ms, a value of 100000000000 or more as epoch milliseconds;
 * then checks CloudWatch's window around parser->now_ms (14 days back,
 * 2 hours ahead). */
int tw_exec_parse_time(const tw_exec_parser *parser, const char *s, bool allow_ms,
                       int64_t *time_ms, char *why, size_t size);

/* Checks a sample against CloudWatch's rules (metric.h) and hands it to the
 * sink; time_ms 0 means parser->default_time_ms. */
int tw_exec_emit(tw_exec_parser *parser, const char *name, double value, const char *unit,
                 int64_t time_ms, const tw_dimension *dims, size_t n_dims, char *why,
                 size_t size);

/* Builds a metric name from the NULL-terminated list of parts joined with
 * '_', into out (TW_METRIC_NAME_MAX + 1 bytes). -EINVAL when too long. */
int tw_exec_join_name(char *out, const char *const *parts, char *why, size_t size);

/* The collectd and Nagios formats, on the scratch line (trimmed, not
 * blank). */
int tw_exec_parse_collectd(tw_exec_parser *parser, char *line, char *why, size_t size);
int tw_exec_parse_nagios(tw_exec_parser *parser, char *line, char *why, size_t size);
/* Whether the first word of line is PUTVAL or PUTNOTIF (any case). */
bool tw_exec_is_collectd_line(const char *line);

#endif
