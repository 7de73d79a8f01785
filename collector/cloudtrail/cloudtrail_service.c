/* cloudtrail_service.c — CloudTrail's management API (AWS JSON 1.1,
 * "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"): the operation
 * table, the LookupEvents handler, and the event history's retention sweep.
 *
 * Trail management (CreateTrail ... GetTrailStatus, ListPublicKeys) comes
 * with issue 6: each is one more row in cloudtrail_operations with its
 * handler, flags and timestamp members.
 */
#include <errno.h>
#include <stdlib.h>

#include "audit_ingest.h"
#include "collector.h"
#include "event_history.h"
#include "log.h"
#include "lookup_events.h"
#include "mem.h"
#include "services.h"
#include "timefmt.h"

#define DEFAULT_HISTORY_DAYS 90

static int64_t history_days(const tw_collector *collector)
{
    if (collector == NULL || collector->config == NULL || collector->config->event_history_days < 1)
        return DEFAULT_HISTORY_DAYS;
    return collector->config->event_history_days;
}

/* ---- LookupEvents ---- */

static int lookup_job(tw_db *db, tw_call *call)
{
    const tw_lookup_query *query = call->state;
    json_t *events = json_array();
    char *token = NULL;
    int rc = tw_lookup_run(db, query, events, &token);
    if (rc < 0) {
        json_decref(events);
        return rc;
    }
    call->output = json_pack("{s:o}", "Events", events);
    /* Absent on the last page: the CLI paginates until it disappears. */
    if (token != NULL)
        json_object_set_new(call->output, "NextToken", json_string(token));
    free(token);
    return 0;
}

static void lookup_done(tw_call *call)
{
    free(call->state);
    call->state = NULL;
    tw_call_finish(call);
}

static void lookup_events(tw_call *call)
{
    tw_lookup_query *query = tw_malloc(sizeof *query);
    if (tw_lookup_parse(call, history_days(call->collector), query) < 0) {
        free(query);
        tw_call_finish(call);
        return;
    }
    call->state = query;
    tw_call_read(call, lookup_job, lookup_done);
}

/* ---- the retention sweep ---- */

/* Hourly, in bounded chunks so that calls never wait long behind it; the
 * lookups apply the cutoff themselves, so the sweep only frees space. */
#define SWEEP_FIRST_MS (30 * 1000)
#define SWEEP_INTERVAL_MS (60 * 60 * 1000)
#define SWEEP_AGAIN_MS 200
#define SWEEP_BUDGET 20000

typedef struct history_sweeper {
    tw_collector *collector;
    uv_timer_t timer;
    bool job_running, stopping, closed;
    int64_t days; /* read on the loop, for the job */
    /* written by the job, read by its done callback */
    size_t deleted, ids_deleted;
    bool more;
} history_sweeper;

static void sweeper_free_if_done(history_sweeper *s)
{
    if (s->closed && !s->job_running)
        free(s);
}

static int sweep_job(tw_db *db, void *arg)
{
    history_sweeper *s = arg;
    int64_t now = tw_time_now_ms();
    bool more_events = false, more_ids = false;
    int rc = tw_event_history_expire(db, now, s->days, SWEEP_BUDGET, &s->deleted, &more_events);
    if (rc == 0)
        rc = tw_audit_ingest_expire(db, now, SWEEP_BUDGET, &s->ids_deleted, &more_ids);
    s->more = more_events || more_ids;
    return rc;
}

static void sweep_tick(uv_timer_t *timer);

static void sweep_done(void *arg, int status)
{
    history_sweeper *s = arg;
    s->job_running = false;
    if (status == 0 && (s->deleted > 0 || s->ids_deleted > 0))
        tw_debug("cloudtrail: retention sweep removed %zu events older than %lld days and %zu "
                 "audit event ids older than 24 h",
                 s->deleted, (long long)s->days, s->ids_deleted);
    else if (status != 0)
        tw_warn("cloudtrail: event history retention sweep failed (%d); retrying later", status);
    if (s->stopping) {
        sweeper_free_if_done(s);
        return;
    }
    uv_timer_start(&s->timer, sweep_tick,
                   status == 0 && s->more ? SWEEP_AGAIN_MS : SWEEP_INTERVAL_MS,
                   SWEEP_INTERVAL_MS);
}

static void sweep_tick(uv_timer_t *timer)
{
    history_sweeper *s = timer->data;
    if (s->job_running || s->stopping)
        return;
    s->job_running = true;
    s->days = history_days(s->collector);
    tw_store_write(s->collector->store, sweep_job, sweep_done, s);
}

static void *cloudtrail_start(tw_collector *collector)
{
    history_sweeper *s = tw_calloc(1, sizeof *s);
    s->collector = collector;
    uv_timer_init(collector->loop, &s->timer);
    s->timer.data = s;
    uv_unref((uv_handle_t *)&s->timer); /* the sweep alone never keeps the loop alive */
    uv_timer_start(&s->timer, sweep_tick, SWEEP_FIRST_MS, SWEEP_INTERVAL_MS);
    return s;
}

static void sweeper_closed(uv_handle_t *handle)
{
    history_sweeper *s = handle->data;
    s->closed = true;
    sweeper_free_if_done(s);
}

static void cloudtrail_stop(void *state)
{
    history_sweeper *s = state;
    if (s == NULL)
        return;
    s->stopping = true;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, sweeper_closed);
}

/* ---- the service ---- */

static const char *const lookup_times[] = {"EventTime", NULL};

/* Sorted by name; trail management (issue 6) adds its rows here. */
static const tw_operation cloudtrail_operations[] = {
    {"LookupEvents", lookup_events, TW_OP_READ_ONLY, lookup_times, NULL},
};

const tw_service tw_cloudtrail_service = {
    .signing_name = "cloudtrail",
    .event_source = "cloudtrail.amazonaws.com",
    .json_target_prefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
    .xml_namespace = NULL,
    .operations = cloudtrail_operations,
    .n_operations = sizeof cloudtrail_operations / sizeof cloudtrail_operations[0],
    .migrations = NULL, /* the event tables are tw_event_history_migrations */
    .invalid_parameter_code = "InvalidParameterException",
    .missing_parameter_code = "InvalidParameterException",
    .start = cloudtrail_start,
    .stop = cloudtrail_stop,
};
