/* lookup_events.h — CloudTrail LookupEvents (spec/cloudtrail.md §5.4): the
 * request's rules and the query over the event history (event_history.h).
 *
 * tw_lookup_parse() checks a call's input on the loop and fails the call
 * with CloudTrail's exact error code; tw_lookup_run() reads one page on a
 * store reader. Pages are keyset pages over (eventTime, seq), newest first,
 * so a page costs the same at the millionth event as at the first.
 *
 * NextToken is opaque to clients: base64 of "1:<time_ms>:<seq>:<fingerprint>"
 * where the fingerprint hashes the parameters that define the result
 * (region, attribute, value, StartTime, EndTime, EventCategory; not
 * MaxResults, which the CLI may change between pages): a token used with
 * other parameters is InvalidNextTokenException.
 */
#ifndef TW_LOOKUP_EVENTS_H
#define TW_LOOKUP_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "store.h"

#define TW_LOOKUP_MAX_RESULTS 50
#define TW_LOOKUP_VALUE_MAX 2000

typedef enum tw_lookup_attribute {
    TW_LOOKUP_NONE,
    TW_LOOKUP_EVENT_ID,
    TW_LOOKUP_EVENT_NAME,
    TW_LOOKUP_READ_ONLY,
    TW_LOOKUP_USERNAME,
    TW_LOOKUP_RESOURCE_TYPE,
    TW_LOOKUP_RESOURCE_NAME,
    TW_LOOKUP_EVENT_SOURCE,
    TW_LOOKUP_ACCESS_KEY_ID,
} tw_lookup_attribute;

/* A parsed request. Strings are borrowed from the call (its region and
 * input), so the query lives no longer than the call. */
typedef struct tw_lookup_query {
    const char *region;
    tw_lookup_attribute attribute;
    const char *value; /* NULL for TW_LOOKUP_NONE */
    int64_t start_ms;  /* inclusive; never before the retention cutoff */
    int64_t end_ms;    /* inclusive */
    int max_results;   /* 1..50 */
    bool insight;      /* EventCategory=insight: there are no Insights events */
    bool has_token;
    int64_t token_time_ms, token_seq; /* the last event of the previous page */
    char fingerprint[17];
} tw_lookup_query;

/* Reads and checks call->input (LookupAttributes, StartTime, EndTime,
 * EventCategory, MaxResults, NextToken) for a lookup in call->region at
 * call->now_ms, keeping retention_days of history. Returns 0, or -EINVAL
 * after tw_call_fail() with InvalidLookupAttributesException,
 * InvalidTimeRangeException, InvalidMaxResultsException,
 * InvalidNextTokenException, InvalidEventCategoryException or the
 * service's InvalidParameterException (a member of the wrong type). */
int tw_lookup_parse(tw_call *call, int64_t retention_days, tw_lookup_query *query);

/* One page: appends the Events (Event shapes, EventTime in epoch ms) to
 * events and sets *next_token (malloc'd; NULL on the last page). Runs on a
 * store thread. Returns 0 or -EIO. */
int tw_lookup_run(tw_db *db, const tw_lookup_query *query, json_t *events, char **next_token);

/* The attribute named key ("EventName"...), or -1 when the key is unknown. */
int tw_lookup_attribute_from_name(const char *key);

#endif
