/* metrics_input.h — reading CloudWatch request members in any protocol's
 * spelling, and collecting CloudWatch's validation problems (used by
 * metrics_rules.c).
 *
 * A member may be a JSON value (JSON 1.0, CBOR) or a query-protocol string:
 * numbers "1.5" / "1.0E-5" / "NaN", booleans "true", timestamps ISO 8601 or
 * epoch seconds, an empty list as "". Unlike call.h's tw_input_* helpers,
 * which fail the call at the first problem, these add every problem to a
 * tw_metrics_fault, because CloudWatch reports them all (joined with '\n').
 * Messages use CloudWatch's own sentences: "The parameter X is required.",
 * "The value V for parameter X is invalid.", "The parameter X must be
 * shorter than N characters.".
 *
 * Nothing allocates except the fault's message buffer (metrics_rules.h).
 */
#ifndef TW_METRICS_INPUT_H
#define TW_METRICS_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics_rules.h"

typedef enum tw_metrics_fault_kind {
    TW_METRICS_INVALID,     /* InvalidParameterValue */
    TW_METRICS_MISSING,     /* MissingParameter */
    TW_METRICS_COMBINATION, /* InvalidParameterCombination */
    TW_METRICS_VALIDATION,  /* ValidationError (GetMetricData) */
} tw_metrics_fault_kind;

/* Adds a problem. Only problems of the fault's first kind are kept (the
 * first decides the code); the next ones join the message after a '\n'. */
void tw_metrics_fault_add(tw_metrics_fault *f, tw_metrics_fault_kind kind, const char *fmt, ...)
    TW_PRINTF(3, 4);

/* Where problems go, and which kind a missing or malformed member is. */
typedef struct tw_metrics_checker {
    tw_metrics_fault *fault;
    tw_metrics_fault_kind missing, invalid;
} tw_metrics_checker;

/* The member, or NULL when absent or JSON null. */
const json_t *tw_metrics_member(const json_t *obj, const char *name);

/* Each reader returns 1 when the member is present and valid (*out set), 0
 * when absent, -1 after adding a problem. path names the member in
 * messages ("MetricData.member.1.Value"). */
int tw_metrics_get_string(tw_metrics_checker *c, const json_t *obj, const char *name,
                          const char *path, bool required, const char **out);
/* text receives the value as written, for messages. */
int tw_metrics_get_number(tw_metrics_checker *c, const json_t *obj, const char *name,
                          const char *path, double *out, char text[64]);
int tw_metrics_get_integer(tw_metrics_checker *c, const json_t *obj, const char *name,
                           const char *path, int64_t *out);
int tw_metrics_get_bool(tw_metrics_checker *c, const json_t *obj, const char *name,
                        const char *path, bool *out);
int tw_metrics_get_time(tw_metrics_checker *c, const json_t *obj, const char *name,
                        const char *path, bool required, int64_t *out_ms);
/* A list: *out the array, or NULL with *n 0 for an empty query list. */
int tw_metrics_get_list(tw_metrics_checker *c, const json_t *obj, const char *name,
                        const char *path, const json_t **out, size_t *n);
/* False (after adding a problem) when value is longer than max. */
bool tw_metrics_check_length(tw_metrics_checker *c, const char *value, const char *path,
                             size_t max);
/* The shortest text that reads back as d. */
void tw_metrics_format_number(double d, char text[64]);

#endif
