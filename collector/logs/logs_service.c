/* logs_service.c — CloudWatch Logs (AWS JSON 1.1, "Logs_20140328"): the
 * operation table, the handlers of groups, streams, retention and tags
 * (events: logs_events.c), and the retention sweep.
 *
 * Every handler reads and checks its input on the loop (logs_call.h,
 * logs_rules.h), then runs one store job (logs_db.h) that looks up the group
 * and stream, does the work and sets the output or the error. The group and
 * stream are looked up inside the job, in the same transaction as the work,
 * so a concurrent delete is never half-seen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "log.h"
#include "logs_call.h"
#include "mem.h"
#include "services.h"
#include "timefmt.h"

#define DEFAULT_PAGE 50

static void sweep_soon(tw_collector *collector);

/* After a change that leaves events to delete (a retention policy, a
 * deleted group or stream): the sweep runs in a moment, not in 5 minutes. */
static void sweep_soon_done(tw_call *call)
{
    if (call->error.code == NULL)
        sweep_soon(call->collector);
    tw_logs_request_done(call);
}

static void run_write_then_sweep(tw_call *call, int parsed, int (*job)(tw_db *db, tw_call *call))
{
    if (parsed == 0)
        tw_call_write(call, job, sweep_soon_done);
    else
        tw_logs_request_done(call);
}

/* ---- CreateLogGroup / DeleteLogGroup ---- */

static int create_group_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    int err = tw_logs_db_group_create(db, r->scope.region, r->group, call->now_ms, r->kms_key_id,
                                      r->group_class, r->tags);
    if (err == -EEXIST)
        return tw_call_fail(call, "ResourceAlreadyExistsException", 400,
                            "The specified log group already exists");
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}

static int parse_create_group(tw_call *call, tw_logs_request *r)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_group_name(call, r, &v);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "kmsKeyId", false, &r->kms_key_id);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "logGroupClass", false, &r->group_class);
    if (rc == 0)
        rc = tw_logs_read_tags(call, r, &v, false);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    if (r->group_class && strcmp(r->group_class, "STANDARD") != 0
        && strcmp(r->group_class, "INFREQUENT_ACCESS") != 0
        && strcmp(r->group_class, "DELIVERY") != 0)
        tw_logs_violation_add(&v, r->group_class, strlen(r->group_class), "logGroupClass",
                              "satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]");
    tw_logs_set_group_resource(call, r);
    if ((rc = tw_logs_fail_violations(call, &v)) < 0)
        return rc;
    if (tw_logs_group_name_reserved(r->group, strlen(r->group)))
        return tw_call_fail(call, TW_LOGS_INVALID, 400, TW_LOGS_RESERVED_MESSAGE);
    return 0;
}

static void create_log_group(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, parse_create_group(call, r), create_group_job);
}

static int delete_group_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    int err = tw_logs_db_group_delete(db, r->scope.region, r->group);
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}

static void delete_log_group(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    run_write_then_sweep(call, tw_logs_parse_group_request(call, r, false), delete_group_job);
}

/* ---- DescribeLogGroups ---- */

static int describe_groups_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group_query query = {r->prefix, r->pattern_text,
                                 r->has_token ? tw_buf_cstr(&r->token_name) : NULL, (int)r->limit};
    json_t *groups = json_array();
    bool more;
    int err = tw_logs_db_groups_describe(db, &r->scope, &query, groups, &more);
    if (err < 0) {
        json_decref(groups);
        return tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND);
    }
    call->output = json_pack("{s:o}", "logGroups", groups);
    if (more) {
        /* The token names the last group shown: stable across inserts. */
        json_t *last = json_array_get(groups, json_array_size(groups) - 1);
        tw_buf token = TW_BUF_INIT;
        tw_logs_name_token_encode('g', json_string_value(json_object_get(last, "logGroupName")),
                                  &token);
        json_object_set_new(call->output, "nextToken", json_string(tw_buf_cstr(&token)));
        tw_buf_free(&token);
    }
    return 0;
}

static int parse_describe_groups(tw_call *call, tw_logs_request *r)
{
    if (json_object_get(call->input, "logGroupIdentifiers"))
        /* The CloudWatch agent falls back to logGroupNamePrefix on exactly
         * this answer (spec §2.4). */
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "Input filter on Log group identifiers is not supported.");
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_string(call, &v, "logGroupNamePrefix", false, &r->prefix);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "logGroupNamePattern", false, &r->pattern_text);
    if (rc == 0)
        rc = tw_logs_read_limit(call, r, &v, DEFAULT_PAGE, DEFAULT_PAGE);
    if (rc == 0)
        rc = tw_logs_read_token(call, r, &v, NULL, 'g');
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    if (r->prefix)
        tw_logs_check_group_name(&v, "logGroupNamePrefix", r->prefix, strlen(r->prefix));
    if (r->pattern_text)
        tw_logs_check_group_pattern(&v, "logGroupNamePattern", r->pattern_text,
                                    strlen(r->pattern_text));
    if ((rc = tw_logs_fail_violations(call, &v)) < 0)
        return rc;
    if (r->prefix && r->pattern_text)
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "logGroupNamePrefix and logGroupNamePattern are "
                            "mutually exclusive. Only one of these parameters "
                            "can be passed.");
    return 0;
}

static void describe_log_groups(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_read(call, parse_describe_groups(call, r), describe_groups_job);
}

/* ---- CreateLogStream / DeleteLogStream / DescribeLogStreams ---- */

static int create_stream_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    err = tw_logs_db_stream_create(db, group.id, r->stream, call->now_ms);
    if (err == -EEXIST)
        return tw_call_fail(call, "ResourceAlreadyExistsException", 400,
                            "The specified log stream already exists");
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}

static void create_log_stream(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, tw_logs_parse_group_request(call, r, true), create_stream_job);
}

static int delete_stream_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    err = tw_logs_db_stream_delete(db, group.id, r->stream);
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_STREAM_NOT_FOUND) : 0;
}

static void delete_log_stream(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    run_write_then_sweep(call, tw_logs_parse_group_request(call, r, true), delete_stream_job);
}

static int describe_streams_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    tw_logs_stream_query query = {
        .prefix = r->prefix,
        .by_last_event = r->by_last_event,
        .descending = r->descending,
        .after_name = r->has_token && r->token_kind == 's' ? tw_buf_cstr(&r->token_name) : NULL,
        .after = r->has_token && r->token_kind == 't' ? &r->token : NULL,
        .limit = (int)r->limit,
    };
    json_t *streams = json_array();
    bool more;
    tw_logs_position last = {0, 0};
    err = tw_logs_db_streams_describe(db, &r->scope, r->group, group.id, &query, streams, &more,
                                      &last);
    if (err < 0) {
        json_decref(streams);
        return tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND);
    }
    call->output = json_pack("{s:o}", "logStreams", streams);
    if (more) {
        tw_buf token = TW_BUF_INIT;
        if (r->by_last_event) {
            char text[TW_LOGS_TOKEN_SIZE];
            tw_logs_token_encode('t', last, text);
            tw_buf_puts(&token, text);
        } else {
            json_t *item = json_array_get(streams, json_array_size(streams) - 1);
            tw_logs_name_token_encode(
                's', json_string_value(json_object_get(item, "logStreamName")), &token);
        }
        json_object_set_new(call->output, "nextToken", json_string(tw_buf_cstr(&token)));
        tw_buf_free(&token);
    }
    return 0;
}

static int parse_describe_streams(tw_call *call, tw_logs_request *r)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    const char *order = NULL;
    int rc = tw_logs_read_group_or_identifier(call, r, &v);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "logStreamNamePrefix", false, &r->prefix);
    if (rc == 0)
        rc = tw_logs_read_string(call, &v, "orderBy", false, &order);
    if (rc == 0)
        rc = tw_logs_read_bool(call, "descending", &r->descending);
    if (rc == 0)
        rc = tw_logs_read_limit(call, r, &v, DEFAULT_PAGE, DEFAULT_PAGE);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    if (order && strcmp(order, "LastEventTime") == 0)
        r->by_last_event = true;
    else if (order && strcmp(order, "LogStreamName") != 0)
        tw_logs_violation_add(&v, order, strlen(order), "orderBy",
                              "satisfy enum value set: [LogStreamName, LastEventTime]");
    if (r->prefix)
        tw_logs_check_stream_name(&v, "logStreamNamePrefix", r->prefix, strlen(r->prefix));
    if ((rc = tw_logs_read_token(call, r, &v, r->by_last_event ? "t" : NULL,
                                 r->by_last_event ? 0 : 's'))
        < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    tw_logs_set_group_resource(call, r);
    if ((rc = tw_logs_fail_violations(call, &v)) < 0)
        return rc;
    if (r->by_last_event && r->prefix)
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "Cannot order by LastEventTime with a logStreamNamePrefix.");
    return 0;
}

static void describe_log_streams(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_read(call, parse_describe_streams(call, r), describe_streams_job);
}

/* ---- retention ---- */

static int retention_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    err = tw_logs_db_group_set_retention(db, group.id, r->retention);
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}

static int parse_put_retention(tw_call *call, tw_logs_request *r)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    bool present;
    int rc = tw_logs_read_group_name(call, r, &v);
    if (rc == 0)
        rc = tw_logs_read_int(call, "retentionInDays", 0, &r->retention, &present);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    if (!present)
        tw_logs_violation_add(&v, NULL, 0, "retentionInDays", "not be null");
    else
        tw_logs_check_retention(&v, r->retention);
    tw_logs_set_group_resource(call, r);
    return tw_logs_fail_violations(call, &v);
}

static void put_retention_policy(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    run_write_then_sweep(call, parse_put_retention(call, r), retention_job);
}

static void delete_retention_policy(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    r->retention = 0;
    run_write_then_sweep(call, tw_logs_parse_group_request(call, r, false), retention_job);
}

/* ---- tags ---- */

static int tag_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    err = tw_logs_db_tags_set(db, group.id, r->tags);
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}

static int untag_job(tw_db *db, tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    err = tw_logs_db_tags_remove(db, group.id, r->tags);
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}

static int list_tags_job(tw_db *db, tw_call *call)
{
    tw_logs_group group;
    int err = tw_logs_find_group(db, call, &group);
    if (err < 0)
        return err;
    json_t *tags = json_object();
    if ((err = tw_logs_db_tags_list(db, group.id, tags)) < 0) {
        json_decref(tags);
        return tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND);
    }
    call->output = json_pack("{s:o}", "tags", tags);
    return 0;
}

typedef enum tag_op { TAG_SET, TAG_REMOVE, TAG_LIST } tag_op;

/* TagLogGroup/UntagLogGroup/ListTagsLogGroup name the group;
 * TagResource/UntagResource/ListTagsForResource give its ARN. */
static int parse_tags(tw_call *call, tw_logs_request *r, tag_op op, bool by_arn)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = by_arn ? tw_logs_read_resource_arn(call, r, &v) : tw_logs_read_group_name(call, r, &v);
    if (rc == 0 && op == TAG_SET)
        rc = tw_logs_read_tags(call, r, &v, true);
    if (rc == 0 && op == TAG_REMOVE)
        rc = tw_logs_read_tag_keys(call, r, &v, by_arn ? "tagKeys" : "tags");
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    tw_logs_set_group_resource(call, r);
    return tw_logs_fail_violations(call, &v);
}

static void tag_log_group(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, parse_tags(call, r, TAG_SET, false), tag_job);
}

static void untag_log_group(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, parse_tags(call, r, TAG_REMOVE, false), untag_job);
}

static void list_tags_log_group(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_read(call, parse_tags(call, r, TAG_LIST, false), list_tags_job);
}

static void tag_resource(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, parse_tags(call, r, TAG_SET, true), tag_job);
}

static void untag_resource(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_write(call, parse_tags(call, r, TAG_REMOVE, true), untag_job);
}

static void list_tags_for_resource(tw_call *call)
{
    tw_logs_request *r = tw_logs_request_start(call);
    tw_logs_run_read(call, parse_tags(call, r, TAG_LIST, true), list_tags_job);
}

/* ---- the retention sweep ---- */

/* Events older than their group's retention are never read (the readers
 * apply the cutoff); this removes them from disk, a bounded chunk per write
 * job so ingestion never waits long behind it. AWS itself deletes lazily
 * (up to 72 h). */
#define SWEEP_FIRST_MS (10 * 1000)
#define SWEEP_INTERVAL_MS (5 * 60 * 1000)
#define SWEEP_AGAIN_MS 200 /* more work left: the next chunk soon */
#define SWEEP_SOON_MS 500
#define SWEEP_BUDGET 50000

typedef struct logs_sweeper {
    tw_collector *collector;
    uv_timer_t timer;
    bool job_running, stopping, closed;
    bool again; /* asked for while a sweep was running */
    /* written by the job, read by its done callback */
    size_t deleted;
    bool more;
} logs_sweeper;

static void sweeper_free_if_done(logs_sweeper *s)
{
    if (s->closed && !s->job_running)
        free(s);
}

static int sweep_job(tw_db *db, void *arg)
{
    logs_sweeper *s = arg;
    return tw_logs_db_sweep(db, tw_time_now_ms(), SWEEP_BUDGET, &s->deleted, &s->more);
}

static void sweep_tick(uv_timer_t *timer);

static void sweep_done(void *arg, int status)
{
    logs_sweeper *s = arg;
    s->job_running = false;
    if (status == 0 && s->deleted > 0)
        tw_debug("logs: retention sweep removed %zu events", s->deleted);
    else if (status != 0)
        tw_warn("logs: retention sweep failed (%d); retrying later", status);
    if (s->stopping) {
        sweeper_free_if_done(s);
        return;
    }
    bool soon = (status == 0 && s->more) || s->again;
    s->again = false;
    uv_timer_start(&s->timer, sweep_tick, soon ? SWEEP_AGAIN_MS : SWEEP_INTERVAL_MS,
                   SWEEP_INTERVAL_MS);
}

static void sweep_tick(uv_timer_t *timer)
{
    logs_sweeper *s = timer->data;
    if (s->job_running || s->stopping)
        return;
    s->job_running = true;
    tw_store_write(s->collector->store, sweep_job, sweep_done, s);
}

static void sweep_soon(tw_collector *collector)
{
    logs_sweeper *s = NULL;
    for (size_t i = 0; collector->services && collector->services[i]
                       && i < TW_COLLECTOR_MAX_SERVICES;
         i++)
        if (collector->services[i] == &tw_logs_service)
            s = collector->service_states[i];
    if (s == NULL || s->stopping)
        return;
    if (s->job_running)
        s->again = true;
    else
        uv_timer_start(&s->timer, sweep_tick, SWEEP_SOON_MS, SWEEP_INTERVAL_MS);
}

static void *logs_start(tw_collector *collector)
{
    logs_sweeper *s = tw_calloc(1, sizeof *s);
    s->collector = collector;
    uv_timer_init(collector->loop, &s->timer);
    s->timer.data = s;
    /* The sweep alone never keeps the loop alive. */
    uv_unref((uv_handle_t *)&s->timer);
    uv_timer_start(&s->timer, sweep_tick, SWEEP_FIRST_MS, SWEEP_INTERVAL_MS);
    return s;
}

static void sweeper_closed(uv_handle_t *handle)
{
    logs_sweeper *s = handle->data;
    s->closed = true;
    sweeper_free_if_done(s);
}

static void logs_stop(void *state)
{
    logs_sweeper *s = state;
    if (s == NULL)
        return;
    s->stopping = true;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, sweeper_closed);
}

/* ---- the service ---- */

static const char *const tags_maps[] = {"tags", NULL};

/* Sorted by name. */
static const tw_operation logs_operations[] = {
    {"CreateLogGroup", create_log_group, 0, NULL, NULL},
    {"CreateLogStream", create_log_stream, 0, NULL, NULL},
    {"DeleteLogGroup", delete_log_group, 0, NULL, NULL},
    {"DeleteLogStream", delete_log_stream, 0, NULL, NULL},
    {"DeleteRetentionPolicy", delete_retention_policy, 0, NULL, NULL},
    {"DescribeLogGroups", describe_log_groups, TW_OP_READ_ONLY, NULL, NULL},
    {"DescribeLogStreams", describe_log_streams, TW_OP_READ_ONLY, NULL, NULL},
    {"FilterLogEvents", tw_logs_filter_log_events, TW_OP_READ_ONLY, NULL, NULL},
    {"GetLogEvents", tw_logs_get_log_events, TW_OP_READ_ONLY, NULL, NULL},
    {"ListTagsForResource", list_tags_for_resource, TW_OP_READ_ONLY, NULL, tags_maps},
    {"ListTagsLogGroup", list_tags_log_group, TW_OP_READ_ONLY, NULL, tags_maps},
    {"PutLogEvents", tw_logs_put_log_events, TW_OP_DATA_EVENT, NULL, NULL},
    {"PutRetentionPolicy", put_retention_policy, 0, NULL, NULL},
    {"TagLogGroup", tag_log_group, 0, NULL, NULL},
    {"TagResource", tag_resource, 0, NULL, NULL},
    {"UntagLogGroup", untag_log_group, 0, NULL, NULL},
    {"UntagResource", untag_resource, 0, NULL, NULL},
};

const tw_service tw_logs_service = {
    .signing_name = "logs",
    .event_source = "logs.amazonaws.com",
    .json_target_prefix = "Logs_20140328",
    .xml_namespace = NULL,
    .operations = logs_operations,
    .n_operations = sizeof logs_operations / sizeof logs_operations[0],
    .migrations = tw_logs_migrations,
    .invalid_parameter_code = "InvalidParameterException",
    .missing_parameter_code = "InvalidParameterException",
    .start = logs_start,
    .stop = logs_stop,
};
