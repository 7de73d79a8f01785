/* logs_rules.h — the pure rules of CloudWatch Logs (spec/cloudwatch.md §2):
 * name and tag constraints, retention values, the PutLogEvents batch rules
 * and the rejectedLogEventsInfo indices, and the opaque pagination tokens.
 *
 * Nothing here touches the store, the loop or a tw_call: every function is a
 * function of its arguments, so the rules are unit-tested on their own
 * (tests/unit/test_logs_rules.c) and used by logs_service.c on the loop and
 * in store jobs alike.
 *
 * Messages are AWS's own words. Model constraint failures are collected the
 * way AWS's request validation reports them:
 *   "1 validation error detected: Value 'x:y' at 'logGroupName' failed to
 *    satisfy constraint: Member must satisfy regular expression pattern: ..."
 *   "2 validation errors detected: Value '' at 'logGroupName' ...; Value ..."
 */
#ifndef TW_LOGS_RULES_H
#define TW_LOGS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TW_LOGS_MS_PER_HOUR 3600000LL
#define TW_LOGS_MS_PER_DAY 86400000LL
#define TW_LOGS_MAX_BATCH_EVENTS 10000
#define TW_LOGS_MAX_BATCH_BYTES 1048576 /* Σ message bytes + 26 per event */
#define TW_LOGS_EVENT_OVERHEAD 26
#define TW_LOGS_MAX_EVENT_BYTES 1048576 /* message + 26; was 262144 before 2025 */
#define TW_LOGS_MAX_EVENT_AGE_MS (14 * TW_LOGS_MS_PER_DAY)
#define TW_LOGS_MAX_EVENT_AHEAD_MS (2 * TW_LOGS_MS_PER_HOUR)
#define TW_LOGS_MAX_BATCH_SPAN_MS (24 * TW_LOGS_MS_PER_HOUR)
#define TW_LOGS_MAX_NAME 512
#define TW_LOGS_MAX_TAGS 50

/* ---- validation errors in AWS's words ---- */

typedef struct tw_logs_violations {
    int count;
    tw_buf text; /* "Value '..' at '..' failed to satisfy constraint: ..; ..." */
} tw_logs_violations;

#define TW_LOGS_VIOLATIONS_INIT                                                                    \
    {                                                                                              \
        0, TW_BUF_INIT                                                                             \
    }

/* Adds "Value '<value>' at '<member>' failed to satisfy constraint: Member
 * must <constraint>". value NULL prints "null" (AWS's spelling of absent). */
void tw_logs_violation_add(tw_logs_violations *v, const char *value, size_t value_len,
                           const char *member, const char *constraint);
/* "N validation error(s) detected: ..." into err; returns -EINVAL, or 0 when
 * there is no violation. */
int tw_logs_violations_take(tw_logs_violations *v, tw_err *err);
void tw_logs_violations_free(tw_logs_violations *v);

/* ---- names, tags, retention (§2.1, §2.7) ---- */

/* Log group name: 1-512 bytes of [\.\-_/#A-Za-z0-9]. Adds a violation per
 * broken constraint and returns false when there was one. */
bool tw_logs_check_group_name(tw_logs_violations *v, const char *member, const char *name,
                              size_t len);
/* logGroupNamePattern: 0-512 bytes of the same characters. */
bool tw_logs_check_group_pattern(tw_logs_violations *v, const char *member, const char *pattern,
                                 size_t len);
/* Log stream name: 1-512 bytes, no ':' and no '*'. */
bool tw_logs_check_stream_name(tw_logs_violations *v, const char *member, const char *name,
                               size_t len);
/* CreateLogGroup refuses names starting with "aws/" in any case. */
bool tw_logs_group_name_reserved(const char *name, size_t len);
#define TW_LOGS_RESERVED_MESSAGE "Log groups starting with AWS/ are reserved for AWS."

/* Tag key 1-128 and value 0-256 characters of letters, digits, white space
 * and _ . : / = + - @ (any non-ASCII UTF-8 counts as a letter). */
bool tw_logs_check_tag_key(tw_logs_violations *v, const char *member, const char *key, size_t len);
bool tw_logs_check_tag_value(tw_logs_violations *v, const char *member, const char *value,
                             size_t len);

/* The retention values PutRetentionPolicy accepts (1096 included, as the
 * current model has it). */
bool tw_logs_retention_valid(int64_t days);
void tw_logs_check_retention(tw_logs_violations *v, int64_t days);

/* An integer member within [min, max] ("limit" 1-50 ...). */
bool tw_logs_check_range(tw_logs_violations *v, const char *member, int64_t value, int64_t min,
                         int64_t max);

/* ---- PutLogEvents (§2.3) ---- */

typedef struct tw_logs_event {
    int64_t timestamp;   /* ms since the epoch */
    const char *message; /* borrowed; UTF-8, not NUL-terminated */
    size_t len;          /* bytes */
} tw_logs_event;

/* The whole-call rules, in the order AWS applies them: 1-10000 events,
 * timestamps >= 0, messages >= 1 byte, each event (message + 26 bytes) within
 * TW_LOGS_MAX_EVENT_BYTES, the batch (Σ message + 26 per event) within
 * 1,048,576 bytes, timestamps in non-decreasing order. Returns 0 or -EINVAL
 * with AWS's message in err. *batch_bytes gets Σ message bytes. */
int tw_logs_batch_check(const tw_logs_event *events, size_t n, uint64_t *batch_bytes, tw_err *err);

/* Which events of a checked (sorted) batch are stored. The rejected ones are
 * always a prefix (too old / expired) and a suffix (too new), so the indices
 * have AWS's meaning: events with index < too_old_end are more than 14 days
 * old, < expired_end older than the group's retention (exclusive ends);
 * events with index >= too_new_start are more than 2 hours ahead (inclusive
 * start). -1 = nothing rejected for that reason. */
typedef struct tw_logs_batch_window {
    size_t first, end; /* the stored events: [first, end) */
    long too_old_end, expired_end, too_new_start;
} tw_logs_batch_window;

/* retention_days 0 = the group never expires events. Fails (-EINVAL, AWS's
 * message) when the stored events span more than 24 hours: as the current
 * documentation says, the span is measured over the valid events only. */
int tw_logs_batch_window_compute(const tw_logs_event *events, size_t n, int64_t now_ms,
                                 int64_t retention_days, tw_logs_batch_window *out, tw_err *err);

/* The oldest timestamp a group with this retention still shows at now_ms
 * (INT64_MIN when retention_days is 0). */
int64_t tw_logs_retention_cutoff(int64_t now_ms, int64_t retention_days);

/* ---- opaque tokens (§1.5, §2.5) ---- */

/* A place in the order events are read in: by timestamp, then by event id
 * (ids grow with ingestion, so equal timestamps keep arrival order). */
typedef struct tw_logs_position {
    int64_t timestamp;
    int64_t id;
} tw_logs_position;

/* Position order: -1, 0, 1. */
int tw_logs_position_compare(tw_logs_position a, tw_logs_position b);
/* The positions just before and after p (ids are integers, so "key <= p" is
 * "key < after(p)"); saturating at 0 and INT64_MAX. */
tw_logs_position tw_logs_position_before(tw_logs_position p);
tw_logs_position tw_logs_position_after(tw_logs_position p);

/* "<kind>/<38 digits>": kind 'f' (GetLogEvents forward: events after p),
 * 'b' (backward: events before p), 'n' (FilterLogEvents: events after p),
 * 't' (DescribeLogStreams by LastEventTime: streams after p).
 * Timestamps and ids must be >= 0. */
#define TW_LOGS_TOKEN_SIZE 48
void tw_logs_token_encode(char kind, tw_logs_position p, char out[TW_LOGS_TOKEN_SIZE]);
/* Returns 0, or -EINVAL for anything tw_logs_token_encode cannot have
 * written (or another kind than one of kinds, e.g. "fb"). */
int tw_logs_token_decode(const char *token, size_t len, const char *kinds, char *kind,
                         tw_logs_position *p);

/* "<kind>/<hex of name>": DescribeLogGroups ('g') and DescribeLogStreams by
 * name ('s') continue after a name. */
void tw_logs_name_token_encode(char kind, const char *name, tw_buf *out);
/* Appends the name to out (cleared first); -EINVAL when not such a token. */
int tw_logs_name_token_decode(const char *token, size_t len, char kind, tw_buf *out);

#define TW_LOGS_INVALID_TOKEN_MESSAGE "The specified nextToken is invalid."

/* ---- reading ranges of events (§2.5, §2.6) ---- */

/* The exclusive position bounds (after, before) of a time range: startTime
 * inclusive; endTime exclusive (GetLogEvents) or inclusive (FilterLogEvents:
 * "events with a timestamp later than endTime are not returned"); and never
 * below the retention cutoff (INT64_MIN = none), so reads skip expired events
 * the sweep has not removed yet. */
typedef struct tw_logs_time_range {
    bool has_start, has_end, end_inclusive;
    int64_t start, end, cutoff;
} tw_logs_time_range;

void tw_logs_time_bounds(const tw_logs_time_range *range, tw_logs_position *after,
                         tw_logs_position *before);

/* GetLogEvents: where a page is read from. A token "f/P" reads forward from
 * just after P, "b/P" backward from just before P; without a token the first
 * page is the earliest (startFromHead) or the latest one. */
typedef struct tw_logs_get_plan {
    tw_logs_position after, before; /* exclusive bounds of the read */
    bool forward;
    char token_kind; /* 'f', 'b', or 0 for no token */
    tw_logs_position token;
} tw_logs_get_plan;

void tw_logs_get_plan_make(const tw_logs_time_range *range, char token_kind, tw_logs_position token,
                           bool start_from_head, tw_logs_get_plan *plan);

/* The nextForwardToken and nextBackwardToken of a page of count events from
 * first to last. Both are always set; an empty page answers the very token
 * it was given (that is how clients see the end of the stream). */
void tw_logs_get_tokens(const tw_logs_get_plan *plan, size_t count, tw_logs_position first,
                        tw_logs_position last, char forward[TW_LOGS_TOKEN_SIZE],
                        char backward[TW_LOGS_TOKEN_SIZE]);

/* FilterLogEvents eventId: the event's id as a 56-digit decimal string, the
 * shape of AWS's ids; unique and stable for as long as the event exists. */
#define TW_LOGS_EVENT_ID_SIZE 57
void tw_logs_event_id(int64_t id, char out[TW_LOGS_EVENT_ID_SIZE]);

/* PutLogEvents nextSequenceToken / DescribeLogStreams uploadSequenceToken:
 * 56 digits from the stream id and its batch count. Clients only store and
 * resend it; it is never checked (spec §2.3). */
#define TW_LOGS_SEQUENCE_TOKEN_SIZE 57
void tw_logs_sequence_token(int64_t stream_id, int64_t sequence,
                            char out[TW_LOGS_SEQUENCE_TOKEN_SIZE]);

/* ---- ARNs (§2.1) ---- */

/* arn:aws:logs:REGION:ACCOUNT:log-group:NAME:* (with_star) or without ":*". */
void tw_logs_group_arn(tw_buf *out, const char *region, const char *account, const char *name,
                       bool with_star);
/* The group name of a log group ARN (with or without the ":*"), or of a
 * plain name (logGroupIdentifier accepts both). Returns 0 with
 * [*name, *name + *name_len), or -EINVAL for an ARN of something else. */
int tw_logs_group_identifier_name(const char *identifier, size_t len, const char **name,
                                  size_t *name_len);

#endif
