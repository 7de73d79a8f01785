/* cwl_batch.h — PutLogEvents request bodies for one (log group, log stream),
 * built under every rule CloudWatch Logs sets (shared/spec/cloudwatch.md
 * §2.3), so AWS and the collector never refuse a whole batch we made.
 *
 * The caller adds events one at a time, in file order. tw_cwl_batch_add says
 * what became of each:
 *   TW_CWL_ADDED    in the batch being filled;
 *   TW_CWL_FULL     not added: it would break a batch limit. Take the batch
 *                   (tw_cwl_batch_take) and add the same event again: an
 *                   empty batch always has room for it, so the second add
 *                   never answers FULL. The caller therefore knows exactly
 *                   which events each body holds: those ADDED since the last
 *                   take;
 *   TW_CWL_TOO_OLD, TW_CWL_TOO_NEW, TW_CWL_EMPTY
 *                   dropped here and counted (see below): the event is in no
 *                   batch, so its file position counts as done together with
 *                   the batch being filled (at once when that is empty).
 *
 * Rules, each checked before the event is added:
 *   - at most 10,000 events per batch;
 *   - Σ(message bytes) + 26 bytes per event <= 1,048,576 (AWS's own count;
 *     the CloudWatch agent counts 200 per event, which only wastes room);
 *   - newest − oldest timestamp <= 24 hours (exactly 24 h is allowed), over
 *     all the events of the batch: older AWS releases measured the span over
 *     every event, the current one over the valid events only, so this is
 *     safe with both;
 *   - one event's message at most max_message bytes (default
 *     TW_CWL_MAX_MESSAGE = 1 MiB − 200, as the CloudWatch agent: AWS's limit
 *     is 1 MiB per event, 26 bytes of it overhead). A longer message is
 *     TRUNCATED, the way the CloudWatch agent does it: its first
 *     max_message − 14 bytes (cut back to a UTF-8 character boundary)
 *     followed by the marker "[Truncated...]", and counted in
 *     stats.truncated. The event is kept, never dropped;
 *   - events out of CloudWatch's time window are DROPPED here, counted
 *     (stats.too_old, stats.too_new) and logged (a warning on the 1st, 10th,
 *     100th ... drop of each kind, so a backlog cannot flood the log):
 *       too old  timestamp < now − 14 days (exactly 14 days is accepted),
 *                or negative (AWS requires timestamp >= 0);
 *       too new  timestamp > now + 2 hours (exactly 2 hours is accepted).
 *     Why drop rather than send: AWS stores none of them (it answers with
 *     rejectedLogEventsInfo indices), so sending them only spends batch room,
 *     bandwidth and spool space, and a backlog of old lines would still cost
 *     a full request per 10,000 events for nothing. Dropping here also lets
 *     the count name the stream and the reason exactly, as the CloudWatch
 *     agent does (it drops both kinds before queuing). Events that age past
 *     the window while spooled (an endpoint down for days) are still refused
 *     by the endpoint; cwl_requests.h counts those from
 *     rejectedLogEventsInfo. now_ms should be the endpoint's clock (the
 *     sender's clock offset applied) when known;
 *   - an empty message is DROPPED and counted (stats.empty): PutLogEvents
 *     refuses the whole call when any message is empty (Fluent Bit drops
 *     them too).
 *
 * Taking writes the JSON body: the events stable-sorted by timestamp (events
 * with one timestamp keep the order they were added in; input already in
 * order costs one comparison per event), every message byte escaped for
 * JSON (control characters as \b \f \n \r \t or \u00XX, '"' and '\\'
 * backslashed; everything else, U+2028/U+2029 included, as is). Messages
 * must be UTF-8 (log_parser.h promises it); a byte that is not part of a
 * valid UTF-8 sequence is replaced by '?' (same length, so the size rules
 * hold) rather than making the whole body undecodable.
 *
 * Memory: the builder keeps its arrays and text between batches; in steady
 * state adding and taking allocate nothing except the caller's body growing
 * to its largest size. About 2 × 16 bytes per event plus the escaped text.
 *
 * Ownership: tw_cwl_batch_new copies the names; add copies the message;
 * take appends to the caller's tw_buf. One thread at a time (the loop).
 */
#ifndef TW_CWL_BATCH_H
#define TW_CWL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TW_CWL_MAX_EVENTS 10000
#define TW_CWL_MAX_BATCH_BYTES 1048576 /* Σ message bytes + TW_CWL_EVENT_OVERHEAD each */
#define TW_CWL_EVENT_OVERHEAD 26
#define TW_CWL_MAX_EVENT_BYTES 1048576 /* one event, overhead included */
#define TW_CWL_MAX_MESSAGE (1048576 - 200) /* the CloudWatch agent's cap */
#define TW_CWL_TRUNCATED_MARKER "[Truncated...]"
#define TW_CWL_MAX_SPAN_MS (24 * 3600 * 1000LL)
#define TW_CWL_MAX_AGE_MS (14 * 24 * 3600 * 1000LL)
#define TW_CWL_MAX_AHEAD_MS (2 * 3600 * 1000LL)

typedef struct tw_cwl_batch tw_cwl_batch;

typedef enum tw_cwl_add_result {
    TW_CWL_ADDED,
    TW_CWL_FULL,
    TW_CWL_TOO_OLD,
    TW_CWL_TOO_NEW,
    TW_CWL_EMPTY,
} tw_cwl_add_result;

typedef struct tw_cwl_batch_stats {
    uint64_t added;     /* events ADDED (truncated ones included) */
    uint64_t batches;   /* bodies taken */
    uint64_t truncated; /* events whose message was cut to max_message */
    uint64_t too_old, too_new, empty; /* events dropped */
} tw_cwl_batch_stats;

/* A builder for the named group and stream (copied; written into every
 * body, JSON-escaped). max_message: the largest message in bytes, marker
 * included; 0 means TW_CWL_MAX_MESSAGE, and values are kept within
 * [64, TW_CWL_MAX_EVENT_BYTES − 26] (262,118 suits a legacy 256 KB
 * endpoint). Cannot fail (allocation aborts). */
tw_cwl_batch *tw_cwl_batch_new(const char *group, const char *stream, size_t max_message);
void tw_cwl_batch_free(tw_cwl_batch *b);

/* Adds one event: message is len bytes of UTF-8 (borrowed for the call),
 * timestamp and now are epoch ms. See the top of this file for the answers. */
tw_cwl_add_result tw_cwl_batch_add(tw_cwl_batch *b, int64_t timestamp_ms, const char *message,
                                   size_t len, int64_t now_ms);

/* Appends the batch's PutLogEvents body to body and empties the builder.
 * Returns the number of events in it; 0 (nothing appended) when empty. */
size_t tw_cwl_batch_take(tw_cwl_batch *b, tw_buf *body);

/* The batch being filled: events, and bytes as AWS counts them. */
size_t tw_cwl_batch_count(const tw_cwl_batch *b);
size_t tw_cwl_batch_bytes(const tw_cwl_batch *b);

const char *tw_cwl_batch_group(const tw_cwl_batch *b);
const char *tw_cwl_batch_stream(const tw_cwl_batch *b);

/* Gives the memory kept for reuse back (up to ~8 MB after a batch of
 * control characters, ~1.5 MB after one of access lines) when the batch is
 * empty; a no-op otherwise. For streams gone quiet: the next add simply
 * allocates again. */
void tw_cwl_batch_trim(tw_cwl_batch *b);

/* Counters since tw_cwl_batch_new. */
void tw_cwl_batch_stats_get(const tw_cwl_batch *b, tw_cwl_batch_stats *out);

/* Appends text as the inside of a JSON string (no quotes), escaped as
 * described above; invalid UTF-8 bytes become '?'. For names and other
 * members of CloudWatch Logs bodies. */
void tw_cwl_json_escape(tw_buf *out, const char *text, size_t len);

#endif
