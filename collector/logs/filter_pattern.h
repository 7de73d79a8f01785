/* filter_pattern.h — CloudWatch Logs filter patterns (FilterLogEvents,
 * metric and subscription filters): compile once, match many messages.
 *
 * The language (spec/cloudwatch.md §2.6 and AWS's "Filter pattern syntax"):
 *   terms and "quoted phrases" (AND), ?term (OR), -term / -"phrase" (NOT),
 *   %regex%, the empty pattern (matches everything);
 *   JSON patterns { $.a.b[0] = "x*" && ($.n > 5 || $.f IS TRUE) } with
 *   = != < > <= >=, IS NULL / NOT EXISTS / IS TRUE / IS FALSE;
 *   space-delimited patterns [ip, user, ..., status = 4* || status = 5*, bytes].
 *
 * A compiled pattern is immutable: tw_filter_pattern_match() may be called
 * from several threads at once. The caller owns the pattern and frees it.
 */
#ifndef TW_FILTER_PATTERN_H
#define TW_FILTER_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct tw_filter_pattern tw_filter_pattern;

/* Returns 0, or -EINVAL with err holding the reason in AWS's words
 * ("Invalid character(s) in term '...'" style), never crashing on any input.
 * At most 1024 bytes, as AWS allows. */
int tw_filter_pattern_compile(const char *pattern, size_t len, tw_filter_pattern **out,
                              tw_err *err);
bool tw_filter_pattern_match(const tw_filter_pattern *pattern, const char *message, size_t len);
void tw_filter_pattern_free(tw_filter_pattern *pattern);

#endif
