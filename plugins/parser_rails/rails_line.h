/* rails_line.h — reading one line of a Rails log, in place and without state:
 * the Logger::Formatter prefix, the tagged-logging tags, which line of a
 * request it is and the request fields it carries. The grouping of lines into
 * requests is parser_rails.c's job; lograge JSON lines are rails_json.c's.
 *
 * What is recognised (the message is what follows the prefix and the tags,
 * leading blanks ignored):
 *   prefix      "I, [2024-01-02T03:04:05.123456 #1234]  INFO -- progname: "
 *               (Ruby's Logger::Formatter; the time has no zone)
 *   tags        "[a] [b] " as ActiveSupport::TaggedLogging writes them
 *   started     Started GET "/path?q" for 1.2.3.4 at 2012-01-01 12:00:00 +0000
 *               (Rails 3.0 wrote the time without a zone)
 *   processing  Processing by Admin::UsersController#show as HTML  (Rails 3+)
 *   processing_old
 *               Processing UsersController#show [to xml] (for 1.2.3.4 at
 *               2008-08-14 21:16:25) [GET]                      (Rails 1.x, 2.x:
 *               the first line of a request)
 *   parameters  Parameters: {...}   (kept exactly as logged, "[FILTERED]" too)
 *   completed   Completed 200 OK in 12ms (Views: 1.2ms | ActiveRecord: 0.3ms ...)
 *               Completed in 614ms (View: 120, DB: 31) | 200 OK [http://h/p]  (2.2)
 *               Completed in 0.22699 (4 reqs/sec) | Rendering: 0.02667 (11%) |
 *               DB: 0.03057 (13%) | 200 OK [https://h/p]   (1.x, 2.0: seconds,
 *               converted to milliseconds)
 *   exception   NoMethodError (...):   ActionController::RoutingError (...):
 *               a constant that names an error ("::" in it, or ending in Error
 *               or Exception) followed by " (" — so that "CACHE (0.1ms)" and
 *               "TRANSACTION (0.2ms)" SQL lines are not mistaken for one
 *   lograge     method=GET path=/ format=html controller=X action=y status=200
 *               duration=1.2 view=0.4 db=0.1 [error='Class: msg'] [key=value...]
 *   blank       nothing but blanks, and no prefix or tag
 *
 * Everything in a rails_line points into the caller's text (or into the
 * rails_line itself for converted numbers), so it lives as long as both.
 * Any thread.
 */
#ifndef TW_RAILS_LINE_H
#define TW_RAILS_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAILS_MAX_TAGS 8
/* A request id is at most this long (UUIDs are 36). */
#define RAILS_REQUEST_ID_MAX 64

/* The named fields of a Rails record, in the order they are emitted. */
typedef enum rails_field_id {
    RAILS_F_METHOD,
    RAILS_F_PATH,
    RAILS_F_REMOTE_ADDR,
    RAILS_F_CONTROLLER,
    RAILS_F_ACTION,
    RAILS_F_FORMAT,
    RAILS_F_STATUS,
    RAILS_F_DURATION,
    RAILS_F_VIEW,
    RAILS_F_DB,
    RAILS_F_PARAMS,
    RAILS_F_REQUEST_ID,
    RAILS_F_USER,
    RAILS_F_ERROR,
    RAILS_F_LEVEL,
    RAILS_F_COUNT
} rails_field_id;

/* "method", "path", ... "level": the names records carry. */
extern const char *const rails_field_names[RAILS_F_COUNT];

typedef enum rails_kind {
    RAILS_LINE_OTHER,
    RAILS_LINE_BLANK,
    RAILS_LINE_STARTED,
    RAILS_LINE_PROCESSING,
    RAILS_LINE_PROCESSING_OLD,
    RAILS_LINE_PARAMETERS,
    RAILS_LINE_COMPLETED,
    RAILS_LINE_EXCEPTION,
    RAILS_LINE_LOGRAGE,
    RAILS_LINE_JSON, /* set by rails_json.c: a JSON object that is not lograge's */
} rails_kind;

/* Logger severities, most severe last (Ruby's UNKNOWN is written "ANY"). */
typedef enum rails_severity {
    RAILS_SEV_NONE,
    RAILS_SEV_DEBUG,
    RAILS_SEV_INFO,
    RAILS_SEV_WARN,
    RAILS_SEV_ERROR,
    RAILS_SEV_FATAL,
    RAILS_SEV_ANY,
} rails_severity;

typedef struct rails_text {
    const char *ptr; /* NULL: absent */
    size_t len;
} rails_text;

typedef struct rails_line {
    rails_kind kind;
    bool has_prefix;
    rails_severity severity;
    rails_text prefix_time; /* the Logger's time, no zone */
    rails_text pid;
    unsigned n_tags;
    rails_text tags[RAILS_MAX_TAGS];
    rails_text message;    /* after the prefix and the tags */
    rails_text event_time; /* Started ... at TIME; (for IP at TIME); lograge time */
    int status;            /* completed, lograge: the HTTP status; 0 unknown */
    rails_text fields[RAILS_F_COUNT];
    char numbers[6][32]; /* values computed rather than found in the text */
} rails_line;

/* Reads text (len bytes, no newline). user_key: the lograge key holding the
 * user (NULL: none). Never fails: a line it does not recognise is OTHER. */
void rails_line_read(const char *text, size_t len, const char *user_key, rails_line *out);

/* The field a lograge key (or a JSON formatter's key) fills: method, path,
 * format, controller, action, status, duration, view, db, params,
 * request_id, remote_ip / ip / remote_addr, error, level; time, timestamp
 * and @timestamp give RAILS_LOGRAGE_TIME; anything else -1. */
#define RAILS_LOGRAGE_TIME (-2)
int rails_lograge_field(const char *key, size_t len);

/* The exception class of lograge's error ("ActiveRecord::RecordNotFound:
 * Couldn't find User"): the text before ": ", or all of it. */
rails_text rails_error_class(rails_text error);

/* A tagged-logging tag that looks like a request id: 16 to 64 characters
 * of hex digits and dashes with at least 16 hex digits (UUIDs, 32-hex ids). */
bool rails_is_request_id(rails_text tag);

/* "DEBUG" ... "ANY", or NULL for RAILS_SEV_NONE. */
const char *rails_severity_name(rails_severity severity);

/* A cache of the host's UTC offset, so that zone-less times (the Logger's,
 * Rails 1.x-3.0's) cost one localtime_r per hour of log rather than per
 * line. Zero-initialise it. */
typedef struct rails_zone_cache {
    int64_t hour; /* the hour (local wall clock, counted as UTC) it holds */
    int64_t offset_ms;
    bool valid;
} rails_zone_cache;

/* Parses the times Rails writes: 2012-01-01 12:00:00 +0000 (also "UTC",
 * "+01:00", "Z"), 2021-11-26T00:04:44.292577, 2010-03-01 18:44:33,
 * 2025-06-05T07:12:47.580Z. A time without a zone is the host's local time,
 * which is what a Ruby process on this host wrote. Returns false (and leaves
 * *epoch_ms alone) for anything else. */
bool rails_time_parse(rails_text text, rails_zone_cache *zone, int64_t *epoch_ms);

#endif
