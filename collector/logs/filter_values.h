/* filter_values.h — the values a CloudWatch Logs filter pattern compares
 * with, private to filter_pattern.c: strings with '*' wildcards, numbers in
 * AWS's grammar, and AWS's restricted regular expressions (%...%) translated
 * to POSIX extended regular expressions.
 *
 * Globs live in memory the caller gives and never allocate; regexes live in
 * a regex_t the caller owns (regfree it). Every function is
 * reentrant; a compiled glob or regex may be matched from several threads.
 */
#ifndef TW_FILTER_VALUES_H
#define TW_FILTER_VALUES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* A literal piece of a glob, as offset and length in tw_filter_glob.text. */
typedef struct tw_filter_span {
    size_t offset;
    size_t length;
} tw_filter_span;

/* "*abc*def" is segments {"abc", "def"} with star_first. A glob without any
 * '*' is one segment that must equal the whole subject. */
typedef struct tw_filter_glob {
    const char *text;
    const tw_filter_span *segments;
    size_t count;
    bool star_first;
    bool star_last;
} tw_filter_glob;

/* Builds a glob from the pattern's source bytes. With quoted, src is the
 * inside of a "..." string: \" and \\ stand for themselves and \* is a
 * literal star (any other backslash is kept as is). text must have room for
 * len bytes and segments for len + 1 spans; both are borrowed by the glob. */
void tw_filter_glob_init(tw_filter_glob *glob, const char *src, size_t len, bool quoted,
                         char *text, tw_filter_span *segments);
bool tw_filter_glob_match(const tw_filter_glob *glob, const char *subject, size_t len);

/* AWS's number grammar, over the whole span: an optional sign, digits with
 * an optional fraction (or a fraction alone), an optional exponent. */
bool tw_filter_number_parse(const char *text, size_t len, double *out);
/* The shortest text that reads back as value ("12.34", "400", "1e+21"). */
void tw_filter_number_format(double value, char *buf, size_t size);

/* Most regexes a pattern may hold (AWS's quota) and the largest repetition
 * count a regex may ask for (ours: keeps regcomp's automaton small). */
#define TW_FILTER_MAX_REGEXES 2
#define TW_FILTER_MAX_REPEAT 255

/* Result of tw_filter_regex_compile besides 0. */
#define TW_FILTER_REGEX_BAD_CHARACTER 1 /* outside AWS's allowed set */
#define TW_FILTER_REGEX_BAD_SYNTAX 2

/* Compiles the inside of %...% (REG_EXTENDED | REG_NOSUB). Only AWS's
 * characters are accepted: letters, digits, _ # = @ / ; , - : and the
 * operators ^ $ ? [ ] { } | \ * + . ; escapes \d \D \s \S \w \W \xhh and a
 * backslash before any symbol. On failure returns TW_FILTER_REGEX_BAD_* with
 * a reason in why (e.g. "'(' is not allowed"); re then holds nothing to free. */
int tw_filter_regex_compile(regex_t *re, const char *src, size_t len, char *why, size_t why_size);
/* Searches the whole subject (which may hold NUL bytes). Subjects of 4 KiB
 * or more are copied to the heap for the search (see the .c for why). */
bool tw_filter_regex_match(const regex_t *re, const char *subject, size_t len);

#endif
