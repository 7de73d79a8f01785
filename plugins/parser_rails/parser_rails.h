/* parser_rails.h — format = rails: a Rails application's log, one record per
 * request, and lograge's one-line forms.
 *
 * Line formats (rails_line.h has the details): the default Rails logger of
 * Rails 3 to 7 (Started / Processing by / Parameters / Rendered / Completed),
 * Rails 1.x and 2.x (Processing X#y (for IP at T) [GET] ... Completed in ...),
 * with or without Ruby's Logger::Formatter prefix ("I, [T #pid]  INFO -- : ")
 * and TaggedLogging tags ("[request-id] [user] "); lograge's key=value line
 * and lograge's (or any JSON formatter's) JSON line (rails_json.h).
 *
 * Grouping. The lines of one request become one record whose message is
 * those lines joined with '\n'. Which request a line belongs to:
 *   - its first tag, when that looks like a request id (rails_is_request_id):
 *     exact, even when requests of several processes and threads interleave;
 *   - else its Logger prefix's pid;
 *   - else (a bare log: no prefix, no id) the request being logged, in order.
 * A line with neither prefix nor id tag that follows a prefixed or tagged
 * line (an exception message's second line, a backtrace line) joins that
 * line's record. Stack traces, exception lines and the exceptions app's
 * "Processing by ErrorsController" stay with their request.
 * A request ends (its record is emitted) at its Completed line when the
 * status is below 400; at 400 and above Rails writes the exception after
 * Completed, so the request stays open for it and ends at its second
 * Completed (the exceptions app's), at the next request of the same pid or
 * of a bare log, or when idle. Requests without a request id that
 * interleave (Started twice before a Completed) are kept as a stack: lines
 * go to the newest, a Completed ends the newest (rla-rails_unordered.log).
 * Lines outside any request are records on their own; a prefixed one keeps
 * the unprefixed lines that follow it (a multi-line message) and is emitted
 * when the next prefixed or tagged line arrives. Lograge and JSON lines are
 * always records on their own.
 *
 * Fields (any may be missing): method, path (with the query string, as
 * logged), remote_addr, controller (Admin::UsersController), action, format,
 * status, duration_ms, view_ms, db_ms (Rails 1.x/2.0 seconds converted to
 * milliseconds), params (the Parameters text exactly as logged: filtered
 * values stay "[FILTERED]"; lograge JSON's params object as compact JSON),
 * request_id (the first tag when it looks like a request id; lograge's
 * request_id key), user (see user_tag), error (the exception class of a
 * failed request: "ActionController::RoutingError"), level (the most
 * severe Logger level among the lines). When a request logs a field twice
 * (the exceptions app's Processing and Completed) the first one is kept.
 *
 * options->user_tag: NULL or "" — no user; digits "N" (1 to 8) — the N-th
 * tag (1-based) of the request's tagged lines, e.g. "2" for
 * config.log_tags = [:request_id, ->(req) { user_of(req) }]; anything else
 * is the name of the lograge key=value or JSON key holding the user, e.g.
 * "user_id". create fails with -EINVAL for an index outside 1-8 or a key
 * with characters other than letters, digits, '_', '.', '@'.
 *
 * Timestamp: the Started line's time ("at 2012-01-01 12:00:00 +0000"; Rails
 * 1.x/2.x: the Processing line's), else the Logger prefix's time of the
 * first line that has one, else the lograge/JSON "time"/"timestamp"/
 * "@timestamp" key, else the read time of the first line. Times without a
 * zone (the Logger's, Rails 1.x-3.0's) are the host's local time.
 *
 * parsed = false only for a bare line outside any request (neither prefix,
 * tag nor request line; blank lines excepted): such a line is shipped as is.
 *
 * Holding and bounds. flush(now, all) emits a request idle for
 * options->group_timeout_ms (TW_PARSER_RAILS_DEFAULT_TIMEOUT_MS when 0 or
 * less), or open for TW_PARSER_RAILS_MAX_AGE_FACTOR times that (at least a
 * minute) even if lines keep coming, so a request that never completes
 * cannot hold the file's checkpoint back forever. pending_offset is the
 * offset of the first line of the oldest open request. At most
 * TW_PARSER_RAILS_MAX_GROUPS requests are open and TW_PARSER_RAILS_MAX_HELD
 * bytes held (beyond: the oldest is emitted early), a request holds at most
 * TW_PARSER_RAILS_MAX_GROUP_BYTES (beyond: what it holds is emitted and the
 * rest of it makes a further record) and at most TW_PARSER_RAILS_MAX_STACK
 * interleaved requests share a key; each of these is counted. Open requests'
 * buffers are reused: the steady state allocates nothing per line (lograge
 * JSON excepted: jansson builds each line's tree).
 *
 * One parser state per file (offsets are the file's). All calls for one
 * state come from one thread. destroy drops whatever is still held: call
 * flush(now, true) first.
 */
#ifndef TW_PARSER_RAILS_H
#define TW_PARSER_RAILS_H

#include <stdint.h>

#include "log_parser.h"

#define TW_PARSER_RAILS_DEFAULT_TIMEOUT_MS 5000
#define TW_PARSER_RAILS_MAX_AGE_FACTOR 10
#define TW_PARSER_RAILS_MAX_GROUPS 1000
#define TW_PARSER_RAILS_MAX_GROUP_BYTES (1u << 20)
#define TW_PARSER_RAILS_MAX_HELD (16u << 20)
#define TW_PARSER_RAILS_MAX_STACK 8

/* format = rails */
extern const tw_log_parser_ops tw_parser_rails;

typedef struct tw_parser_rails_stats {
    uint64_t lines;     /* fed */
    uint64_t records;   /* emitted */
    uint64_t requests;  /* records with a method or a controller */
    uint64_t unparsed;  /* records with parsed = false */
    uint64_t timed_out; /* requests emitted by flush(now, false) */
    uint64_t evicted;   /* requests emitted early: too many open, too many
                           bytes held, too many interleaved on one key */
    uint64_t split;     /* requests cut at TW_PARSER_RAILS_MAX_GROUP_BYTES */
} tw_parser_rails_stats;

/* Copies the counters of a state made by tw_parser_rails.create. */
void tw_parser_rails_get_stats(const void *state, tw_parser_rails_stats *out);

#endif
