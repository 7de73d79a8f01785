/* metrics_service.c — CloudWatch metrics ("monitoring"): the operation table,
 * the handlers of PutMetricData, GetMetricStatistics, GetMetricData and
 * ListMetrics, and the roll-up/expiry timer.
 *
 * The same operations arrive in three protocols (awsQuery from awscli 2.9 and
 * the CloudWatch agent, JSON 1.0 from newer botocore, Smithy RPC v2 CBOR from
 * newer Go/Ruby/JS SDKs); dispatch.c decodes them all into call->input and
 * call.c encodes call->output back in the request's protocol, using the
 * timestamp and map members listed in the table below.
 *
 * Every handler checks its input on the loop (metrics_rules.h: all of
 * CloudWatch's validation messages), then runs one store job
 * (metrics_db.h): PutMetricData a write job (one transaction for up to 1000
 * datums), the others read jobs that also build the output, so nothing
 * heavier than validation runs on the loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "log.h"
#include "mem.h"
#include "metric_math.h"
#include "metrics_db.h"
#include "metrics_rules.h"
#include "services.h"
#include "statistics.h"
#include "timefmt.h"

/* What a handler keeps between its stages (call->state). */
typedef struct metrics_call {
    tw_metrics_fault fault;
    tw_metric_put put;
    tw_metric_statistics_request statistics;
    tw_metric_data_request data;
    tw_metric_list_request list;
} metrics_call;

static metrics_call *call_state(tw_call *call)
{
    metrics_call *m = tw_calloc(1, sizeof *m);
    call->state = m;
    return m;
}

static void finish(tw_call *call)
{
    metrics_call *m = call->state;
    if (m) {
        tw_metrics_fault_free(&m->fault);
        tw_metric_put_free(&m->put);
        tw_metric_data_request_free(&m->data);
        free(m);
        call->state = NULL;
    }
    tw_call_finish(call);
}

/* Turns a rules fault into the call's error; returns -EINVAL. */
static int fail_with(tw_call *call, tw_metrics_fault *fault)
{
    return tw_call_fail_query(call, fault->code, fault->query_code, fault->status, "%s",
                              tw_buf_cstr(&fault->message));
}

static int fail_store(tw_call *call, const tw_err *err)
{
    tw_warn("monitoring %s: %s", call->operation->name, err->msg);
    return tw_call_fail_query(call, "InternalServiceFault", "InternalServiceError", 500,
                              "The metrics store failed; try again.");
}

/* The value of one statistic in a bucket; false when it has none (a
 * percentile without samples, or of negative values). */
static bool bucket_value(tw_metric_buckets *b, tw_metric_bucket *bucket, tw_statistic stat,
                         double *out)
{
    if (stat.kind != TW_STAT_PERCENTILE)
        return tw_stat_summary_value(&bucket->summary, stat.kind, out);
    if (!bucket->has_samples || bucket->n_pairs == 0)
        return false;
    return tw_stat_percentile(b->pairs.items + bucket->first_pair, bucket->n_pairs,
                              stat.percentile, out);
}

/* ---- PutMetricData ---- */

static int put_job(tw_db *db, tw_call *call)
{
    metrics_call *m = call->state;
    tw_err err;
    if (tw_metrics_db_put(db, &m->put, call->now_ms, &err) != 0)
        return fail_store(call, &err);
    return 0;
}

static void put_metric_data(tw_call *call)
{
    metrics_call *m = call_state(call);
    if (tw_metrics_check_put(call->input, call->now_ms, &m->put, &m->fault) != 0) {
        fail_with(call, &m->fault);
        finish(call);
        return;
    }
    tw_call_write(call, put_job, finish);
}

/* ---- GetMetricStatistics ---- */

static json_t *datapoint(tw_metric_buckets *b, tw_metric_bucket *bucket,
                         const tw_metric_statistics_request *r)
{
    json_t *point = json_pack("{s:I}", "Timestamp", (json_int_t)bucket->ts_ms);
    json_t *extended = r->extended ? json_object() : NULL;
    size_t filled = 0;
    for (size_t i = 0; i < r->n_stats; i++) {
        double value;
        if (!bucket_value(b, bucket, r->stats[i], &value))
            continue;
        json_object_set_new(extended ? extended : point, r->stat_names[i], json_real(value));
        filled++;
    }
    json_object_set_new(point, "Unit", json_string(tw_metric_units[bucket->unit]));
    if (extended && json_object_size(extended) > 0)
        json_object_set_new(point, "ExtendedStatistics", extended);
    else
        json_decref(extended);
    if (filled == 0) { /* percentiles only, and none available */
        json_decref(point);
        return NULL;
    }
    return point;
}

static int statistics_job(tw_db *db, tw_call *call)
{
    metrics_call *m = call->state;
    tw_metric_statistics_request *r = &m->statistics;
    json_t *points = json_array();
    call->output = json_pack("{s:s,s:o}", "Label", r->key.name, "Datapoints", points);
    if (!tw_metrics_period_available(r->start_ms, r->period_s, call->now_ms))
        return 0; /* CloudWatch returns no datapoints for that (spec §3.2) */
    tw_metric_query q = {
        .key = &r->key, .unit = r->unit, .split_units = true, .want_samples = r->extended,
        .start_ms = tw_metrics_round_start(r->start_ms, r->period_s, call->now_ms),
        .end_ms = r->end_ms, .period_s = r->period_s, .now_ms = call->now_ms,
    };
    tw_metric_buckets buckets = {0};
    tw_err err;
    int rc = tw_metrics_db_query(db, &q, &buckets, &err);
    for (size_t i = 0; rc == 0 && i < buckets.n; i++) {
        json_t *point = datapoint(&buckets, &buckets.items[i], r);
        if (point)
            json_array_append_new(points, point);
    }
    tw_metric_buckets_free(&buckets);
    return rc == 0 ? 0 : fail_store(call, &err);
}

static void get_metric_statistics(tw_call *call)
{
    metrics_call *m = call_state(call);
    if (tw_metrics_check_get_statistics(call->input, &m->statistics, &m->fault) != 0) {
        fail_with(call, &m->fault);
        finish(call);
        return;
    }
    tw_call_read(call, statistics_job, finish);
}

/* ---- GetMetricData ---- */

typedef enum query_state { NOT_EVALUATED, EVALUATING, EVALUATED } query_state;

typedef struct data_job {
    tw_call *call;
    tw_metric_data_request *request;
    tw_math_value *values;  /* per query */
    query_state *states;
    tw_math_series *metrics; /* METRICS(): the MetricStat series */
    size_t n_metrics;
    int64_t *grid;
    size_t n_grid;
    tw_math_env env;
} data_job;

/* One MetricStat query → its series (ascending timestamps). */
static int read_metric_stat(tw_db *db, data_job *job, tw_metric_data_query *q,
                            tw_math_series *out, tw_err *err)
{
    const tw_metric_data_request *r = job->request;
    int64_t now = job->call->now_ms;
    out->label = tw_strdup(q->label ? q->label : q->key.name);
    if (!tw_metrics_period_available(r->start_ms, q->period_s, now))
        return 0;
    tw_metric_query mq = {
        .key = &q->key, .unit = q->unit, .split_units = false,
        .want_samples = q->stat.kind == TW_STAT_PERCENTILE,
        .start_ms = tw_metrics_round_start(r->start_ms, q->period_s, now),
        .end_ms = r->end_ms, .period_s = q->period_s, .now_ms = now,
    };
    tw_metric_buckets buckets = {0};
    int rc = tw_metrics_db_query(db, &mq, &buckets, err);
    for (size_t i = 0; rc == 0 && i < buckets.n; i++) {
        double value;
        if (bucket_value(&buckets, &buckets.items[i], q->stat, &value))
            tw_math_series_push(out, buckets.items[i].ts_ms, value);
    }
    tw_metric_buckets_free(&buckets);
    return rc;
}

static int lookup_query(void *ctx, const char *id, const tw_math_value **out, tw_err *err);

static int evaluate_query(data_job *job, size_t i, tw_err *err)
{
    tw_metric_data_query *q = &job->request->queries[i];
    if (job->states[i] == EVALUATED)
        return 0;
    if (job->states[i] == EVALUATING)
        return tw_err_set(err, -ELOOP, "Error in expression %s: Circular reference to %s",
                          q->id, q->id);
    job->states[i] = EVALUATING;
    tw_err inner;
    int rc = tw_math_eval(q->parsed, &job->env, &job->values[i], &inner);
    if (rc < 0) {
        /* errors of referenced expressions keep their own prefix */
        if (strncmp(inner.msg, "Error in expression ", 20) == 0)
            return tw_err_set(err, rc, "%s", inner.msg);
        return tw_err_set(err, rc, "Error in expression %s: %s", q->id, inner.msg);
    }
    job->states[i] = EVALUATED;
    return 0;
}

static int lookup_query(void *ctx, const char *id, const tw_math_value **out, tw_err *err)
{
    data_job *job = ctx;
    for (size_t i = 0; i < job->request->n_queries; i++) {
        if (strcmp(job->request->queries[i].id, id) != 0)
            continue;
        int rc = evaluate_query(job, i, err);
        *out = &job->values[i];
        return rc;
    }
    return -ENOENT;
}

static int compare_ts(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Every timestamp any MetricStat query has: where a constant is drawn. */
static void build_grid(data_job *job)
{
    size_t total = 0;
    for (size_t i = 0; i < job->n_metrics; i++)
        total += job->metrics[i].n;
    job->grid = tw_malloc((total ? total : 1) * sizeof *job->grid);
    for (size_t i = 0; i < job->n_metrics; i++)
        for (size_t k = 0; k < job->metrics[i].n; k++)
            job->grid[job->n_grid++] = job->metrics[i].ts[k];
    qsort(job->grid, job->n_grid, sizeof *job->grid, compare_ts);
    size_t unique = 0;
    for (size_t i = 0; i < job->n_grid; i++)
        if (unique == 0 || job->grid[unique - 1] != job->grid[i])
            job->grid[unique++] = job->grid[i];
    job->n_grid = unique;
}

static int read_all_metric_stats(tw_db *db, data_job *job, tw_err *err)
{
    tw_metric_data_request *r = job->request;
    job->metrics = tw_calloc(r->n_queries ? r->n_queries : 1, sizeof *job->metrics);
    for (size_t i = 0; i < r->n_queries; i++) {
        tw_metric_data_query *q = &r->queries[i];
        if (q->expression)
            continue;
        tw_math_value *v = &job->values[i];
        v->kind = TW_MATH_SERIES;
        v->n_series = 1;
        v->series = tw_calloc(1, sizeof *v->series);
        int rc = read_metric_stat(db, job, q, v->series, err);
        if (rc < 0)
            return rc;
        tw_math_series_copy(&job->metrics[job->n_metrics++], v->series);
        job->states[i] = EVALUATED;
    }
    build_grid(job);
    return 0;
}

/* ---- GetMetricData output, MaxDatapoints pages ---- */

typedef struct page {
    int64_t offset, limit, seen; /* points before this page, page size, points walked */
    bool ascending;
} page;

static void add_result(json_t *results, page *p, const char *id, const char *label,
                       const tw_math_series *s)
{
    int64_t first = p->seen, n = (int64_t)s->n;
    p->seen += n;
    int64_t from = p->offset > first ? p->offset - first : 0;
    int64_t to = p->offset + p->limit - first;
    if (to > n)
        to = n;
    bool empty_first_page = n == 0 && p->offset == 0;
    if (from >= to && !empty_first_page)
        return; /* on an earlier or a later page */
    json_t *timestamps = json_array(), *values = json_array();
    for (int64_t k = from; k < to; k++) {
        size_t idx = p->ascending ? (size_t)k : (size_t)(n - 1 - k);
        json_array_append_new(timestamps, json_integer((json_int_t)s->ts[idx]));
        json_array_append_new(values, json_real(s->v[idx]));
    }
    json_array_append_new(results,
                          json_pack("{s:s,s:s,s:o,s:o,s:s}", "Id", id, "Label", label,
                                    "Timestamps", timestamps, "Values", values, "StatusCode",
                                    to < n ? "PartialData" : "Complete"));
}

static void build_data_output(data_job *job, int64_t offset)
{
    tw_metric_data_request *r = job->request;
    page p = {.offset = offset, .limit = r->max_datapoints, .ascending = r->ascending};
    json_t *results = json_array();
    for (size_t i = 0; i < r->n_queries; i++) {
        tw_metric_data_query *q = &r->queries[i];
        if (!q->return_data)
            continue;
        const tw_math_value *v = &job->values[i];
        for (size_t k = 0; k < v->n_series; k++) {
            const char *label = q->label ? q->label
                                : v->kind == TW_MATH_ARRAY && v->series[k].label
                                    ? v->series[k].label
                                : q->expression ? q->id
                                                : q->key.name;
            add_result(results, &p, q->id, label, &v->series[k]);
        }
    }
    job->call->output = json_pack("{s:o}", "MetricDataResults", results);
    if (p.seen > offset + r->max_datapoints) {
        char token[32];
        snprintf(token, sizeof token, "gmd1-%" PRId64, offset + r->max_datapoints);
        json_object_set_new(job->call->output, "NextToken", json_string(token));
    }
}

/* NextToken: "gmd1-<points already returned>". */
static bool parse_data_token(const char *token, int64_t *offset)
{
    if (!token)
        return (*offset = 0), true;
    if (strncmp(token, "gmd1-", 5) != 0 || token[5] == '\0')
        return false;
    char *end;
    long long v = strtoll(token + 5, &end, 10);
    if (*end != '\0' || v < 0 || token[5] == '-' || token[5] == '+')
        return false;
    *offset = v;
    return true;
}

static void data_job_free(data_job *job)
{
    for (size_t i = 0; i < job->request->n_queries; i++)
        tw_math_value_free(&job->values[i]);
    for (size_t i = 0; i < job->n_metrics; i++)
        tw_math_series_clear(&job->metrics[i]);
    free(job->values);
    free(job->states);
    free(job->metrics);
    free(job->grid);
}

static int data_job_run(tw_db *db, tw_call *call)
{
    metrics_call *m = call->state;
    data_job job = {.call = call, .request = &m->data};
    size_t n = m->data.n_queries;
    job.values = tw_calloc(n, sizeof *job.values);
    job.states = tw_calloc(n, sizeof *job.states);
    tw_err err;
    int rc = read_all_metric_stats(db, &job, &err);
    if (rc < 0) {
        data_job_free(&job);
        return fail_store(call, &err);
    }
    job.env = (tw_math_env){.ctx = &job, .lookup = lookup_query, .metrics = job.metrics,
                            .n_metrics = job.n_metrics, .grid = job.grid, .n_grid = job.n_grid};
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = evaluate_query(&job, i, &err);
    if (rc < 0) {
        tw_metrics_fault_validation(&m->fault, "%s", err.msg);
        data_job_free(&job);
        return fail_with(call, &m->fault);
    }
    int64_t offset;
    parse_data_token(m->data.next_token, &offset);
    build_data_output(&job, offset);
    data_job_free(&job);
    return 0;
}

static void get_metric_data(tw_call *call)
{
    metrics_call *m = call_state(call);
    int64_t offset;
    if (tw_metrics_check_get_data(call->input, &m->data, &m->fault) != 0) {
        fail_with(call, &m->fault);
    } else if (!parse_data_token(m->data.next_token, &offset)) {
        tw_call_fail_query(call, "InvalidNextToken", "InvalidNextToken", 400,
                           "The service couldn't process the NextToken %s.", m->data.next_token);
    } else {
        tw_call_read(call, data_job_run, finish);
        return;
    }
    finish(call);
}

/* ---- ListMetrics ---- */

static bool parse_list_token(const char *token, int64_t *after_id)
{
    *after_id = 0;
    if (!token)
        return true;
    if (token[0] < '1' || token[0] > '9' || strlen(token) > 18)
        return false;
    for (const char *p = token; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *after_id = strtoll(token, NULL, 10);
    return true;
}

static int list_job(tw_db *db, tw_call *call)
{
    metrics_call *m = call->state;
    int64_t after_id, next_id;
    parse_list_token(m->list.next_token, &after_id);
    json_t *metrics = json_array();
    call->output = json_pack("{s:o}", "Metrics", metrics);
    tw_err err;
    if (tw_metrics_db_list(db, &m->list, call->now_ms, after_id, metrics, &next_id, &err) != 0)
        return fail_store(call, &err);
    if (m->list.include_linked) {
        json_t *owners = json_array();
        for (size_t i = 0; i < json_array_size(metrics); i++)
            json_array_append_new(owners, json_string(call->identity.account_id));
        json_object_set_new(call->output, "OwningAccounts", owners);
    }
    if (next_id > 0) {
        char token[24];
        snprintf(token, sizeof token, "%" PRId64, next_id);
        json_object_set_new(call->output, "NextToken", json_string(token));
    }
    return 0;
}

static void list_metrics(tw_call *call)
{
    metrics_call *m = call_state(call);
    int64_t after_id;
    if (tw_metrics_check_list(call->input, &m->list, &m->fault) != 0) {
        fail_with(call, &m->fault);
    } else if (!parse_list_token(m->list.next_token, &after_id)) {
        tw_call_fail_query(call, "InvalidParameterValueException", "InvalidParameterValue", 400,
                           "The value %s for parameter NextToken is invalid.",
                           m->list.next_token);
    } else {
        tw_call_read(call, list_job, finish);
        return;
    }
    finish(call);
}

/* ---- roll-up and expiry ---- */

#define MAINTENANCE_FIRST_MS (30 * 1000)
#define MAINTENANCE_INTERVAL_MS (5 * 60 * 1000)
#define MAINTENANCE_AGAIN_MS 200 /* more metrics left: the next chunk soon */
#define MAINTENANCE_BUDGET 200   /* metrics per write job */

typedef struct metrics_maintenance {
    tw_collector *collector;
    uv_timer_t timer;
    bool job_running, stopping, closed;
    int64_t pass_now_ms; /* the pass's clock, kept across its chunks */
    int64_t resume_id;   /* 0 = the next chunk starts a new pass */
    tw_metrics_maintenance_stats stats;
    tw_err err;
} metrics_maintenance;

static void maintenance_free_if_done(metrics_maintenance *mm)
{
    if (mm->closed && !mm->job_running)
        free(mm);
}

static int maintenance_job(tw_db *db, void *arg)
{
    metrics_maintenance *mm = arg;
    return tw_metrics_db_maintain(db, mm->pass_now_ms, &mm->resume_id, MAINTENANCE_BUDGET,
                                  &mm->stats, &mm->err);
}

static void maintenance_tick(uv_timer_t *timer);

static void maintenance_done(void *arg, int status)
{
    metrics_maintenance *mm = arg;
    mm->job_running = false;
    if (status != 0) {
        tw_warn("metrics: roll-up and expiry failed (%s); retrying later",
                mm->err.msg[0] ? mm->err.msg : "the transaction was not committed");
        mm->resume_id = 0;
    } else if (mm->resume_id == 0) {
        tw_debug("metrics: roll-up pass over %llu metrics: %llu rows rolled up, %llu rows and "
                 "%llu metrics expired", mm->stats.metrics_visited, mm->stats.rows_rolled_up,
                 mm->stats.rows_deleted, mm->stats.metrics_deleted);
    }
    if (mm->stopping) {
        maintenance_free_if_done(mm);
        return;
    }
    uv_timer_start(&mm->timer, maintenance_tick,
                   status == 0 && mm->resume_id != 0 ? MAINTENANCE_AGAIN_MS
                                                     : MAINTENANCE_INTERVAL_MS,
                   MAINTENANCE_INTERVAL_MS);
}

static void maintenance_tick(uv_timer_t *timer)
{
    metrics_maintenance *mm = timer->data;
    if (mm->job_running || mm->stopping)
        return;
    if (mm->resume_id == 0) {
        mm->pass_now_ms = tw_time_now_ms();
        memset(&mm->stats, 0, sizeof mm->stats);
    }
    tw_err_clear(&mm->err);
    mm->job_running = true;
    tw_store_write(mm->collector->store, maintenance_job, maintenance_done, mm);
}

static void *metrics_start(tw_collector *collector)
{
    metrics_maintenance *mm = tw_calloc(1, sizeof *mm);
    mm->collector = collector;
    uv_timer_init(collector->loop, &mm->timer);
    mm->timer.data = mm;
    uv_unref((uv_handle_t *)&mm->timer); /* never keeps the loop alive by itself */
    uv_timer_start(&mm->timer, maintenance_tick, MAINTENANCE_FIRST_MS, MAINTENANCE_INTERVAL_MS);
    return mm;
}

static void maintenance_closed(uv_handle_t *handle)
{
    metrics_maintenance *mm = handle->data;
    mm->closed = true;
    maintenance_free_if_done(mm);
}

static void metrics_stop(void *state)
{
    metrics_maintenance *mm = state;
    if (!mm)
        return;
    mm->stopping = true;
    uv_timer_stop(&mm->timer);
    uv_close((uv_handle_t *)&mm->timer, maintenance_closed);
}

/* ---- the service ---- */

static const char *const statistics_times[] = {"Timestamp", NULL};
static const char *const statistics_maps[] = {"ExtendedStatistics", NULL};
static const char *const data_times[] = {"Timestamps", NULL};

/* Sorted by name. The reads are data-plane calls in CloudTrail too. */
static const tw_operation monitoring_operations[] = {
    {"GetMetricData", get_metric_data, TW_OP_READ_ONLY | TW_OP_DATA_EVENT, data_times, NULL},
    {"GetMetricStatistics", get_metric_statistics, TW_OP_READ_ONLY | TW_OP_DATA_EVENT,
     statistics_times, statistics_maps},
    {"ListMetrics", list_metrics, TW_OP_READ_ONLY | TW_OP_DATA_EVENT, NULL, NULL},
    {"PutMetricData", put_metric_data, TW_OP_DATA_EVENT, NULL, NULL},
};

const tw_service tw_monitoring_service = {
    .signing_name = "monitoring",
    .event_source = "monitoring.amazonaws.com",
    .json_target_prefix = "GraniteServiceVersion20100801",
    .xml_namespace = "http://monitoring.amazonaws.com/doc/2010-08-01/",
    .operations = monitoring_operations,
    .n_operations = sizeof monitoring_operations / sizeof monitoring_operations[0],
    .migrations = tw_metrics_migrations,
    .invalid_parameter_code = "InvalidParameterValueException",
    .invalid_parameter_query_code = "InvalidParameterValue",
    .missing_parameter_code = "MissingRequiredParameterException",
    .missing_parameter_query_code = "MissingParameter",
    .start = metrics_start,
    .stop = metrics_stop,
};
