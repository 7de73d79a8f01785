/* logs_events.c — the CloudWatch Logs operations on events: PutLogEvents
 * (spec/cloudwatch.md §2.3), GetLogEvents (§2.5) and FilterLogEvents (§2.6).
 *
 * The batch is checked on the loop (logs_rules.h) and the write job only
 * looks up the group and stream, works out the retention window and stores
 * the accepted events with one prepared statement. Reads apply the group's
 * retention cutoff themselves, so expired events never show before the
 * sweep removes them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs_call.h"
#include "mem.h"

#define MAX_READ_EVENTS 10000
#define MAX_READ_BYTES 1048576
/* FilterLogEvents looks at this many events before answering a page early
 * with a nextToken (AWS does the same: a page may be empty). */
#define FILTER_MAX_SCANNED 1000000

/* ---- PutLogEvents ---- */

/* The events as the rules see them: pointers into the input's strings,
 * which live as long as the call. */
static int read_events(tw_call *call, tw_logs_request *r, tw_logs_violations *v)
{
    json_t *list;
    int rc = tw_input_array(call, call->input, "logEvents", &list);
    if (rc == -ENOENT) {
        tw_logs_violation_add(v, NULL, 0, "logEvents", "not be null");
        return 0;
    }
    if (rc < 0)
        return rc;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    r->events = tw_calloc(n ? n : 1, sizeof *r->events);
    r->n_events = n;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        json_t *timestamp = json_object_get(item, "timestamp");
        json_t *message = json_object_get(item, "message");
        char member[64];
        if (!json_is_integer(timestamp)) {
            snprintf(member, sizeof member, "logEvents.%zu.member.timestamp", i + 1);
            if (timestamp && !json_is_null(timestamp))
                return tw_call_fail(call, TW_LOGS_INVALID, 400,
                                    "The value of %s must be an integer.", member);
            tw_logs_violation_add(v, NULL, 0, member, "not be null");
        }
        if (!json_is_string(message)) {
            snprintf(member, sizeof member, "logEvents.%zu.member.message", i + 1);
            if (message && !json_is_null(message))
                return tw_call_fail(call, TW_LOGS_INVALID, 400, "The value of %s must be a string.",
                                    member);
            tw_logs_violation_add(v, NULL, 0, member, "not be null");
        }
        r->events[i] = (tw_logs_event){json_integer_value(timestamp), json_string_value(message),
                                       json_string_length(message)};
    }
    return 0;
}

static int parse_put_events(tw_call *call, tw_logs_request *r)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_group_name(call, r, &v);
    if (rc == 0)
        rc = tw_logs_read_stream_name(call, r, &v);
    if (rc == 0)
        rc = read_events(call, r, &v);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    tw_logs_set_group_resource(call, r);
    /* The event history keeps where the events went, not 1 MB of them. */
    json_decref(call->event_request_parameters);
    call->event_request_parameters =
        json_pack("{s:s?, s:s?}", "logGroupName", r->group, "logStreamName", r->stream);
    if ((rc = tw_logs_fail_violations(call, &v)) < 0)
        return rc;
    /* The whole-call rules, checked here on the loop so the job only
     * writes (the window needs the group's retention: the job does it). */
    tw_err err;
    if (tw_logs_batch_check(r->events, r->n_events, NULL, &err) < 0)
        return tw_call_fail(call, TW_LOGS_INVALID, 400, "%s", err.msg);
    return 0;
}

static json_t *rejected_info(const tw_logs_batch_window *w)
{
    if (w->too_old_end < 0 && w->expired_end < 0 && w->too_new_start < 0)
        return NULL;
    json_t *info = json_object();
    if (w->too_new_start >= 0)
        json_object_set_new(info, "tooNewLogEventStartIndex", json_integer(w->too_new_start));
    if (w->too_old_end >= 0)
        json_object_set_new(info, "tooOldLogEventEndIndex", json_integer(w->too_old_end));
    if (w->expired_end >= 0)
        json_object_set_new(info, "expiredLogEventEndIndex", json_integer(w->expired_end));
    return info;
}

/* The group and the stream the call names; fails the call when either is
 * missing. */
static int find_group_and_stream(tw_db *db, tw_call *call, tw_logs_group *group,
                                 int64_t *stream_id)
{
    tw_logs_request *r = call->state;
    int err = tw_logs_find_group(db, call, group);
    if (err < 0)
        return err;
    if ((err = tw_logs_db_stream_find(db, group->id, r->stream, stream_id)) < 0)
        return tw_logs_fail_store(call, err, TW_LOGS_STREAM_NOT_FOUND);
    return 0;
}

static int put_events_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int64_t stream_id;
    int err = find_group_and_stream(db, call, &group, &stream_id);
    if (err < 0)
        return err;
    tw_logs_batch_window w;
    tw_err msg;
    if (tw_logs_batch_window_compute(r->events, r->n_events, call->now_ms, group.retention_days, &w,
                                     &msg)
        < 0)
        return tw_call_fail(call, TW_LOGS_INVALID, 400, "%s", msg.msg);
    uint64_t bytes = 0;
    for (size_t i = w.first; i < w.end; i++)
        bytes += r->events[i].len;
    int64_t sequence = 0;
    err = tw_logs_db_events_put(db, group.id, stream_id, r->events + w.first, w.end - w.first,
                                call->now_ms, bytes, &sequence);
    if (err < 0)
        return tw_logs_fail_store(call, err, TW_LOGS_STREAM_NOT_FOUND);
    char token[TW_LOGS_SEQUENCE_TOKEN_SIZE];
    tw_logs_sequence_token(stream_id, sequence + 1, token);
    call->output = json_pack("{s:s}", "nextSequenceToken", token);
    json_t *info = rejected_info(&w);
    if (info)
        json_object_set_new(call->output, "rejectedLogEventsInfo", info);
    return 0;
}

void tw_logs_put_log_events(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, parse_put_events(call, r), put_events_job);
}

/* ---- GetLogEvents ---- */

static int read_time_range(tw_call *call, tw_logs_request *r, bool end_inclusive)
{
    int rc = tw_logs_read_int(call, "startTime", 0, &r->time.start, &r->time.has_start);
    if (rc == 0)
        rc = tw_logs_read_int(call, "endTime", 0, &r->time.end, &r->time.has_end);
    r->time.end_inclusive = end_inclusive;
    return rc;
}

static int get_events_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int64_t stream_id;
    int err = find_group_and_stream(db, call, &group, &stream_id);
    if (err < 0)
        return err;
    r->time.cutoff = tw_logs_retention_cutoff(call->now_ms, group.retention_days);
    tw_logs_get_plan plan;
    tw_logs_get_plan_make(&r->time, r->has_token ? r->token_kind : 0, r->token, r->start_from_head,
                          &plan);
    tw_logs_range range = {plan.after, plan.before, plan.forward, (size_t)r->limit, MAX_READ_BYTES};
    json_t *events = json_array();
    size_t count = 0;
    tw_logs_position first = {0, 0}, last = {0, 0};
    if (tw_logs_position_compare(range.after, range.before) < 0
        && (err = tw_logs_db_events_get(db, stream_id, &range, events, &count, &first, &last))
               < 0) {
        json_decref(events);
        return tw_logs_fail_store(call, err, TW_LOGS_STREAM_NOT_FOUND);
    }
    char forward[TW_LOGS_TOKEN_SIZE], backward[TW_LOGS_TOKEN_SIZE];
    tw_logs_get_tokens(&plan, count, first, last, forward, backward);
    call->output = json_pack("{s:o, s:s, s:s}", "events", events, "nextForwardToken", forward,
                             "nextBackwardToken", backward);
    return 0;
}

static int parse_get_events(tw_call *call, tw_logs_request *r)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_group_or_identifier(call, r, &v);
    if (rc == 0)
        rc = tw_logs_read_stream_name(call, r, &v);
    if (rc == 0)
        rc = read_time_range(call, r, false);
    if (rc == 0)
        rc = tw_logs_read_limit(call, r, &v, MAX_READ_EVENTS, MAX_READ_EVENTS);
    if (rc == 0)
        rc = tw_logs_read_bool(call, "startFromHead", &r->start_from_head);
    if (rc == 0)
        rc = tw_logs_read_token(call, r, &v, "fb", 0);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    tw_logs_set_group_resource(call, r);
    return tw_logs_fail_violations(call, &v);
}

void tw_logs_get_log_events(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_read(call, parse_get_events(call, r), get_events_job);
}

/* ---- FilterLogEvents ---- */

static int filter_events_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    r->time.cutoff = tw_logs_retention_cutoff(call->now_ms, group.retention_days);
    tw_logs_filter filter = {
        .group_id = group.id,
        .range = {.forward = true, .limit = (size_t)r->limit, .max_bytes = MAX_READ_BYTES},
        .stream_names = r->stream_names,
        .n_stream_names = r->n_stream_names,
        .stream_prefix = r->prefix,
        .pattern = r->pattern,
        .max_scanned = FILTER_MAX_SCANNED,
    };
    tw_logs_time_bounds(&r->time, &filter.range.after, &filter.range.before);
    if (r->has_token && tw_logs_position_compare(r->token, filter.range.after) > 0)
        filter.range.after = r->token;
    json_t *events = json_array();
    bool more = false;
    tw_logs_position resume = filter.range.after;
    if (tw_logs_position_compare(filter.range.after, filter.range.before) < 0
        && (err = tw_logs_db_events_filter(db, &filter, events, &more, &resume)) < 0) {
        json_decref(events);
        return tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND);
    }
    call->output = json_pack("{s:o, s:[]}", "events", events, "searchedLogStreams");
    if (more) {
        /* Omitted at the end: the CLI paginator and `aws logs tail` stop
         * on a missing token (spec §1.5). */
        char token[TW_LOGS_TOKEN_SIZE];
        tw_logs_token_encode('n', resume, token);
        json_object_set_new(call->output, "nextToken", json_string(token));
    }
    return 0;
}

static int read_stream_names(tw_call *call, tw_logs_request *r, tw_logs_violations *v)
{
    json_t *names;
    int rc = tw_input_array(call, call->input, "logStreamNames", &names);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    size_t n = json_is_array(names) ? json_array_size(names) : 0;
    if (n < 1 || n > 100) {
        tw_logs_violation_add(v, "[]", 2, "logStreamNames",
                              n < 1 ? "have length greater than or equal to 1"
                                    : "have length less than or equal to 100");
        return 0;
    }
    r->stream_names = tw_calloc(n, sizeof *r->stream_names);
    r->n_stream_names = n;
    for (size_t i = 0; i < n; i++) {
        json_t *name = json_array_get(names, i);
        if (!json_is_string(name))
            return tw_call_fail(call, TW_LOGS_INVALID, 400,
                                "The values of logStreamNames must be strings.");
        r->stream_names[i] = json_string_value(name);
        tw_logs_check_stream_name(v, "logStreamNames", r->stream_names[i],
                                  json_string_length(name));
    }
    return 0;
}

static int parse_filter_events(tw_call *call, tw_logs_request *r)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_group_or_identifier(call, r, &v);
    if (rc == 0)
        rc = read_stream_names(call, r, &v);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "logStreamNamePrefix", false, &r->prefix);
    if (rc == 0)
        rc = read_time_range(call, r, true);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "filterPattern", false, &r->pattern_text);
    if (rc == 0)
        rc = tw_logs_read_limit(call, r, &v, MAX_READ_EVENTS, MAX_READ_EVENTS);
    if (rc == 0)
        rc = tw_logs_read_token(call, r, &v, "n", 0);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    if (r->prefix)
        tw_logs_check_stream_name(&v, "logStreamNamePrefix", r->prefix, strlen(r->prefix));
    if (r->pattern_text && strlen(r->pattern_text) > 1024)
        tw_logs_violation_add(&v, r->pattern_text, strlen(r->pattern_text), "filterPattern",
                              "have length less than or equal to 1024");
    tw_logs_set_group_resource(call, r);
    if ((rc = tw_logs_fail_violations(call, &v)) < 0)
        return rc;
    if (r->stream_names && r->prefix)
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "logStreamNames and logStreamNamePrefix are "
                            "mutually exclusive parameters.");
    /* Compiled once here; matching happens on the reader thread (a
     * compiled pattern is immutable and thread-safe). */
    tw_err err;
    if (r->pattern_text && *r->pattern_text
        && tw_filter_pattern_compile(r->pattern_text, strlen(r->pattern_text), &r->pattern, &err)
               < 0)
        return tw_call_fail(call, TW_LOGS_INVALID, 400, "%s", err.msg);
    return 0;
}

void tw_logs_filter_log_events(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_read(call, parse_filter_events(call, r), filter_events_job);
}
