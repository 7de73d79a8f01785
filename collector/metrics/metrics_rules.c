/* metrics_rules.c — the validation rules and messages of PutMetricData,
 * GetMetricStatistics, GetMetricData and ListMetrics (metrics_rules.h). */
#include "metrics_rules.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "metrics_input.h"
#include "timefmt.h"

const char *const tw_metric_units[TW_METRIC_UNIT_COUNT] = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
};

/* How CloudWatch lists an enum in its messages: "[ A, B, C ]". */
#define UNIT_SET                                                                                   \
    "[ Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, "              \
    "Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, "      \
    "Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, "        \
    "Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None ]"
#define STATISTICS_SET "[ Minimum, Maximum, Average, SampleCount, Sum ]"
#define ID_PATTERN "^[a-z][a-zA-Z0-9_]*$"

int tw_metric_unit_parse(const char *name)
{
    for (int i = 0; i < TW_METRIC_UNIT_COUNT; i++)
        if (strcmp(name, tw_metric_units[i]) == 0)
            return i;
    return -1;
}

/* ---- shared rules ---- */

static bool has_non_space(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

/* CloudWatch's value range: [-2^360, 2^360], no NaN or infinities; and the
 * smallest magnitude it stores is 2^-360 (smaller non-zero values are
 * refused as well). */
static bool value_in_range(double d)
{
    static const double limit = 2.3485425827738332e108;     /* 2^360 */
    static const double smallest = 4.2580398711987502e-109; /* 2^-360 */
    return isfinite(d) && fabs(d) <= limit && (d == 0 || fabs(d) >= smallest);
}

static int get_value(tw_metrics_checker *c, const json_t *obj, const char *name, const char *path,
                     double *out)
{
    char text[64];
    int rc = tw_metrics_get_number(c, obj, name, path, out, text);
    if (rc == 1 && !value_in_range(*out)) {
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The value %s for parameter %s is invalid.", text, path);
        return -1;
    }
    return rc;
}

static int compare_dimensions(const void *a, const void *b)
{
    const tw_metric_dimension *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Dimension names and values: ASCII, printable, at least one non-space;
 * names do not start with ':' (MetricDatum / Dimension API reference). */
static void check_dimension_text(tw_metrics_checker *c, const char *text, const char *path,
                                 bool is_name)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                                 "The parameter %s must contain only printable ASCII characters.",
                                 path);
            return;
        }
    }
    if (!has_non_space(text))
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The parameter %s must contain at least one non-whitespace "
                             "character.",
                             path);
    else if (is_name && text[0] == ':')
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The parameter %s must not start with ':'.", path);
}

/* Dimensions of a metric (PutMetricData, GetMetricStatistics, MetricStat):
 * every Name and Value required; sorted into key. */
static void check_dimensions(tw_metrics_checker *c, const json_t *obj, const char *prefix,
                             tw_metric_key *key, bool strict_text)
{
    char path[160];
    const json_t *list;
    size_t n;
    snprintf(path, sizeof path, "%sDimensions", prefix);
    if (tw_metrics_get_list(c, obj, "Dimensions", path, &list, &n) <= 0)
        return;
    if (n > TW_METRICS_MAX_DIMENSIONS) {
        tw_metrics_fault_add(c->fault, c->invalid,
                             "The collection %s must not have a size greater than %d.", path,
                             TW_METRICS_MAX_DIMENSIONS);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(list, i);
        tw_metric_dimension dim = {NULL, NULL};
        char name_path[200], value_path[200];
        snprintf(name_path, sizeof name_path, "%s.member.%zu.Name", path, i + 1);
        snprintf(value_path, sizeof value_path, "%s.member.%zu.Value", path, i + 1);
        if (tw_metrics_get_string(c, d, "Name", name_path, true, &dim.name) == 1 &&
            tw_metrics_check_length(c, dim.name, name_path, 255) && strict_text)
            check_dimension_text(c, dim.name, name_path, true);
        if (tw_metrics_get_string(c, d, "Value", value_path, true, &dim.value) == 1 &&
            tw_metrics_check_length(c, dim.value, value_path, 1024) && strict_text)
            check_dimension_text(c, dim.value, value_path, false);
        if (!dim.name || !dim.value)
            continue;
        for (size_t j = 0; j < key->n_dims; j++) {
            if (strcmp(key->dims[j].name, dim.name) == 0) {
                tw_metrics_fault_add(c->fault, c->invalid,
                                     "The value %s for parameter %s is a duplicate dimension name.",
                                     dim.name, name_path);
                break;
            }
        }
        key->dims[key->n_dims++] = dim;
    }
    qsort(key->dims, key->n_dims, sizeof key->dims[0], compare_dimensions);
}

static void check_unit(tw_metrics_checker *c, const json_t *obj, const char *path, int *unit)
{
    const char *name;
    if (tw_metrics_get_string(c, obj, "Unit", path, false, &name) != 1)
        return;
    *unit = tw_metric_unit_parse(name);
    if (*unit < 0)
        tw_metrics_fault_add(c->fault, c->invalid,
                             "The parameter %s must be a value in the set " UNIT_SET ".", path);
}

bool tw_metrics_period_valid(int64_t period_s)
{
    return period_s == 1 || period_s == 5 || period_s == 10 || period_s == 20 || period_s == 30 ||
           (period_s > 0 && period_s % 60 == 0);
}

static void check_period(tw_metrics_checker *c, const json_t *obj, const char *path, bool required,
                         int64_t *period)
{
    int rc = tw_metrics_get_integer(c, obj, "Period", path, period);
    if (rc == 0 && required)
        tw_metrics_fault_add(c->fault, c->missing, "The parameter %s is required.", path);
    if (rc != 1)
        return;
    if (*period <= 0)
        tw_metrics_fault_add(c->fault, c->invalid, "The parameter %s must be greater than 0.",
                             path);
    else if (!tw_metrics_period_valid(*period))
        tw_metrics_fault_add(c->fault, c->invalid,
                             "The parameter %s must be 1, 5, 10, 20, 30, or a multiple of 60.",
                             path);
}

static void check_time_range(tw_metrics_checker *c, const json_t *input, int64_t *start,
                             int64_t *end)
{
    int a = tw_metrics_get_time(c, input, "StartTime", "StartTime", true, start);
    int b = tw_metrics_get_time(c, input, "EndTime", "EndTime", true, end);
    if (a == 1 && b == 1 && *start >= *end)
        tw_metrics_fault_add(c->fault, c->invalid,
                             "The parameter StartTime must be less than the parameter EndTime.");
}

int64_t tw_metrics_round_start(int64_t start_ms, int64_t period_s, int64_t now_ms)
{
    int64_t age = now_ms - start_ms, step_s;
    if (period_s < 60)
        step_s = period_s;
    else if (age <= 15LL * 86400000)
        step_s = 60;
    else if (age <= 63LL * 86400000)
        step_s = 300;
    else
        step_s = 3600;
    int64_t step = step_s * 1000;
    int64_t r = start_ms % step;
    return start_ms - (r < 0 ? r + step : r);
}

bool tw_metrics_period_available(int64_t start_ms, int64_t period_s, int64_t now_ms)
{
    int64_t age = now_ms - start_ms;
    if (age > 63LL * 86400000)
        return period_s % 3600 == 0;
    if (age > 15LL * 86400000)
        return period_s % 300 == 0;
    if (age > 3LL * 3600000)
        return period_s % 60 == 0;
    return true;
}

/* ---- PutMetricData ---- */

static void check_namespace(tw_metrics_checker *c, const char *ns)
{
    if (!tw_metrics_check_length(c, ns, "Namespace", 255))
        return;
    bool ok = has_non_space(ns) && ns[0] != ':' && strncmp(ns, "AWS/", 4) != 0;
    for (const char *p = ns; *p && ok; p++)
        ok = isalnum((unsigned char)*p) || strchr(".-_/#: ", *p);
    if (!ok)
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The value %s for parameter Namespace is invalid.", ns);
}

typedef struct datum_values {
    bool has_value, has_values, has_stats;
    double value;
    double stats[4]; /* SampleCount, Sum, Minimum, Maximum */
} datum_values;

static void check_statistic_values(tw_metrics_checker *c, const json_t *d, const char *prefix,
                                   datum_values *dv)
{
    static const char *const names[4] = {"SampleCount", "Sum", "Minimum", "Maximum"};
    const json_t *set = tw_metrics_member(d, "StatisticValues");
    if (!set)
        return;
    dv->has_stats = true;
    bool complete = true;
    for (int i = 0; i < 4; i++) {
        char path[200];
        snprintf(path, sizeof path, "%sStatisticValues.%s", prefix, names[i]);
        int rc = get_value(c, set, names[i], path, &dv->stats[i]);
        if (rc == 0)
            tw_metrics_fault_add(c->fault, TW_METRICS_MISSING, "The parameter %s is required.",
                                 path);
        complete = complete && rc == 1;
    }
    if (!complete)
        return;
    if (dv->stats[3] < dv->stats[2])
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The parameter %sStatisticValues.Maximum must be greater than "
                             "%sStatisticValues.Minimum.",
                             prefix, prefix);
    if (!(dv->stats[0] > 0))
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The parameter %sStatisticValues.SampleCount must be greater than 0.",
                             prefix);
}

/* Values and Counts → samples in put->pairs. */
static void check_values(tw_metrics_checker *c, const json_t *d, const char *prefix,
                         tw_metric_put *put, datum_values *dv)
{
    char path[200], counts_path[200];
    const json_t *values, *counts;
    size_t n_values, n_counts;
    snprintf(path, sizeof path, "%sValues", prefix);
    snprintf(counts_path, sizeof counts_path, "%sCounts", prefix);
    int has_values = tw_metrics_get_list(c, d, "Values", path, &values, &n_values);
    int has_counts = tw_metrics_get_list(c, d, "Counts", counts_path, &counts, &n_counts);
    if (has_values < 0 || has_counts < 0)
        return;
    dv->has_values = n_values > 0;
    if (n_values > TW_METRICS_MAX_VALUES) {
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The collection %s must not have a size greater than %d.", path,
                             TW_METRICS_MAX_VALUES);
        return;
    }
    if (has_counts && n_counts != n_values) {
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The parameters %s and %s must be of the same size.", path,
                             counts_path);
        return;
    }
    for (size_t i = 0; i < n_values; i++) {
        json_t *holder = json_object();
        double v = 0, count = 1;
        char item[240];
        json_object_set(holder, "v", json_array_get(values, i));
        snprintf(item, sizeof item, "%s.member.%zu", path, i + 1);
        bool ok = get_value(c, holder, "v", item, &v) == 1;
        if (counts) {
            json_object_set(holder, "c", json_array_get(counts, i));
            snprintf(item, sizeof item, "%s.member.%zu", counts_path, i + 1);
            ok = get_value(c, holder, "c", item, &count) == 1 && ok;
            if (ok && count < 0) {
                char text[64];
                tw_metrics_format_number(count, text);
                tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                                     "The value %s for parameter %s is invalid.", text, item);
                ok = false;
            }
        }
        json_decref(holder);
        if (ok)
            tw_stat_pairs_push(&put->pairs, v, count);
    }
}

/* What the datum adds: StatisticValues win for SampleCount/Sum/Min/Max and
 * Values/Counts for percentiles (the CloudWatch agent sends both). */
static void summarise_datum(tw_metric_datum *datum, tw_metric_put *put, const datum_values *dv)
{
    tw_stat_summary_init(&datum->summary);
    datum->has_samples = true;
    if (dv->has_value) {
        tw_stat_pairs_push(&put->pairs, dv->value, 1);
        datum->n_pairs = 1;
    } else {
        datum->n_pairs = put->pairs.n - datum->first_pair;
    }
    if (dv->has_stats) {
        const double *s = dv->stats;
        tw_stat_summary_add(&datum->summary, s[0], s[1], s[2], s[3]);
        tw_stat_pair pair;
        if (!dv->has_values && tw_stat_set_as_pair(s[0], s[1], s[2], s[3], &pair)) {
            tw_stat_pairs_push(&put->pairs, pair.value, pair.count);
            datum->n_pairs = 1;
        } else if (!dv->has_values) {
            datum->has_samples = false;
        }
    } else if (datum->n_pairs > 0) {
        tw_stat_summary_from_pairs(&datum->summary, put->pairs.items + datum->first_pair,
                                   datum->n_pairs);
    }
}

static void check_datum_values(tw_metrics_checker *c, const json_t *d, const char *prefix,
                               tw_metric_put *put, tw_metric_datum *datum)
{
    datum_values dv = {0};
    size_t faults_before = c->fault->message.len;
    char path[200];
    snprintf(path, sizeof path, "%sValue", prefix);
    dv.has_value = get_value(c, d, "Value", path, &dv.value) == 1 || tw_metrics_member(d, "Value");
    datum->first_pair = put->pairs.n;
    check_values(c, d, prefix, put, &dv);
    check_statistic_values(c, d, prefix, &dv);
    if (dv.has_value && dv.has_stats)
        tw_metrics_fault_add(
            c->fault, TW_METRICS_COMBINATION,
            "The parameters %sValue and %sStatisticValues are mutually exclusive and you have "
            "specified both.",
            prefix, prefix);
    else if (dv.has_value && dv.has_values)
        tw_metrics_fault_add(
            c->fault, TW_METRICS_COMBINATION,
            "The parameters %sValue and %sValues are mutually exclusive and you have specified "
            "both.",
            prefix, prefix);
    else if (!dv.has_value && !dv.has_values && !dv.has_stats)
        tw_metrics_fault_add(
            c->fault, TW_METRICS_COMBINATION,
            "At least one of the parameters %sValue and %sStatisticValues must be specified.",
            prefix, prefix);
    if (c->fault->message.len == faults_before && !c->fault->code)
        summarise_datum(datum, put, &dv);
}

static void check_datum(tw_metrics_checker *c, const json_t *d, size_t index, int64_t now_ms,
                        tw_metric_put *put, tw_metric_datum *datum)
{
    char prefix[64], path[200];
    snprintf(prefix, sizeof prefix, "MetricData.member.%zu.", index + 1);
    datum->key.namespace = put->namespace;
    snprintf(path, sizeof path, "%sMetricName", prefix);
    if (tw_metrics_get_string(c, d, "MetricName", path, true, &datum->key.name) == 1)
        tw_metrics_check_length(c, datum->key.name, path, 255);
    check_dimensions(c, d, prefix, &datum->key, true);

    snprintf(path, sizeof path, "%sTimestamp", prefix);
    datum->timestamp_ms = now_ms;
    if (tw_metrics_get_time(c, d, "Timestamp", path, false, &datum->timestamp_ms) == 1) {
        if (datum->timestamp_ms < now_ms - TW_METRICS_PAST_MS)
            tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                                 "The parameter %s must specify a time within the past two weeks.",
                                 path);
        else if (datum->timestamp_ms > now_ms + TW_METRICS_FUTURE_MS)
            tw_metrics_fault_add(
                c->fault, TW_METRICS_INVALID,
                "The parameter %s must specify a time no more than two hours in the future.", path);
    }
    snprintf(path, sizeof path, "%sUnit", prefix);
    datum->unit = TW_METRIC_UNIT_NONE;
    check_unit(c, d, path, &datum->unit);

    snprintf(path, sizeof path, "%sStorageResolution", prefix);
    int64_t resolution = 60;
    if (tw_metrics_get_integer(c, d, "StorageResolution", path, &resolution) == 1 &&
        resolution != 1 && resolution != 60)
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The parameter %s must be a value in the set [ 1, 60 ].", path);
    datum->resolution = resolution == 1 ? 1 : 60;
    check_datum_values(c, d, prefix, put, datum);
}

int tw_metrics_check_put(const json_t *input, int64_t now_ms, tw_metric_put *out,
                         tw_metrics_fault *f)
{
    tw_metrics_checker c = {
        .fault = f, .missing = TW_METRICS_MISSING, .invalid = TW_METRICS_INVALID};
    const json_t *data;
    size_t n;
    memset(out, 0, sizeof *out);
    int has_ns = tw_metrics_get_string(&c, input, "Namespace", "Namespace", true, &out->namespace);
    int has_data = tw_metrics_get_list(&c, input, "MetricData", "MetricData", &data, &n);
    if (has_data == 0 || (has_data == 1 && n == 0))
        tw_metrics_fault_add(f, TW_METRICS_MISSING, "The parameter MetricData is required.");
    if (f->code)
        return -EINVAL;
    if (n > TW_METRICS_MAX_DATUMS) {
        tw_metrics_fault_add(f, TW_METRICS_INVALID,
                             "The collection MetricData must not have a size greater than %d.",
                             TW_METRICS_MAX_DATUMS);
        return -EINVAL;
    }
    if (has_ns == 1)
        check_namespace(&c, out->namespace);
    out->data = tw_calloc(n, sizeof *out->data);
    out->n_data = n;
    for (size_t i = 0; i < n; i++)
        check_datum(&c, json_array_get(data, i), i, now_ms, out, &out->data[i]);
    return f->code ? -EINVAL : 0;
}

void tw_metric_put_free(tw_metric_put *put)
{
    free(put->data);
    tw_stat_pairs_free(&put->pairs);
    memset(put, 0, sizeof *put);
}

/* ---- GetMetricStatistics ---- */

static void check_statistics_lists(tw_metrics_checker *c, const json_t *input,
                                   tw_metric_statistics_request *out)
{
    const json_t *basic, *extended;
    size_t n_basic, n_extended;
    tw_metrics_get_list(c, input, "Statistics", "Statistics", &basic, &n_basic);
    tw_metrics_get_list(c, input, "ExtendedStatistics", "ExtendedStatistics", &extended,
                        &n_extended);
    if (n_basic == 0 && n_extended == 0) {
        tw_metrics_fault_add(c->fault, TW_METRICS_COMBINATION,
                             "At least one of the parameters Statistics and "
                             "ExtendedStatistics must be specified.");
        return;
    }
    if (n_basic > 0 && n_extended > 0) {
        tw_metrics_fault_add(c->fault, TW_METRICS_COMBINATION,
                             "The parameters Statistics and ExtendedStatistics are "
                             "mutually exclusive and you have specified both.");
        return;
    }
    out->extended = n_extended > 0;
    const json_t *list = out->extended ? extended : basic;
    size_t n = out->extended ? n_extended : n_basic;
    const char *name = out->extended ? "ExtendedStatistics" : "Statistics";
    size_t max = out->extended ? TW_METRICS_MAX_EXTENDED : TW_METRICS_MAX_STATISTICS;
    if (n > max) {
        tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                             "The collection %s must not have a size greater than %zu.", name, max);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(list, i);
        const char *text = json_is_string(item) ? json_string_value(item) : "";
        tw_statistic stat;
        if (out->extended && tw_statistic_parse_percentile(text, &stat) != 0) {
            tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                                 "The value %s for parameter ExtendedStatistics.member.%zu is "
                                 "not a valid percentile statistic.",
                                 text, i + 1);
            continue;
        }
        if (!out->extended && tw_statistic_parse_basic(text, &stat) != 0) {
            tw_metrics_fault_add(c->fault, TW_METRICS_INVALID,
                                 "The parameter Statistics.member.%zu must be a value in the "
                                 "set " STATISTICS_SET ".",
                                 i + 1);
            continue;
        }
        out->stats[out->n_stats] = stat;
        out->stat_names[out->n_stats++] = text;
    }
}

int tw_metrics_check_get_statistics(const json_t *input, tw_metric_statistics_request *out,
                                    tw_metrics_fault *f)
{
    tw_metrics_checker c = {
        .fault = f, .missing = TW_METRICS_MISSING, .invalid = TW_METRICS_INVALID};
    memset(out, 0, sizeof *out);
    out->unit = -1;
    tw_metrics_get_string(&c, input, "Namespace", "Namespace", true, &out->key.namespace);
    tw_metrics_get_string(&c, input, "MetricName", "MetricName", true, &out->key.name);
    check_time_range(&c, input, &out->start_ms, &out->end_ms);
    check_period(&c, input, "Period", true, &out->period_s);
    check_dimensions(&c, input, "", &out->key, false);
    check_statistics_lists(&c, input, out);
    check_unit(&c, input, "Unit", &out->unit);
    if (f->code)
        return -EINVAL;
    int64_t span = out->end_ms - out->start_ms, period_ms = out->period_s * 1000;
    int64_t requested = (span + period_ms - 1) / period_ms;
    if (requested > TW_METRICS_MAX_DATAPOINTS) {
        tw_metrics_fault_add(
            f, TW_METRICS_COMBINATION,
            "You have requested up to %lld datapoints, which exceeds the limit "
            "of %d. You may reduce the datapoints requested by increasing Period, or decreasing "
            "the time range.",
            (long long)requested, TW_METRICS_MAX_DATAPOINTS);
        return -EINVAL;
    }
    return 0;
}

/* ---- GetMetricData ---- */

static bool id_valid(const char *id)
{
    if (!(id[0] >= 'a' && id[0] <= 'z'))
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

static void check_metric_stat(tw_metrics_checker *c, const json_t *stat, const char *prefix,
                              tw_metric_data_query *q)
{
    char path[200];
    const json_t *metric = tw_metrics_member(stat, "Metric");
    snprintf(path, sizeof path, "%sMetricStat.Metric", prefix);
    if (!metric) {
        tw_metrics_fault_add(c->fault, c->missing, "The parameter %s is required.", path);
    } else {
        char sub[220];
        snprintf(sub, sizeof sub, "%s.Namespace", path);
        tw_metrics_get_string(c, metric, "Namespace", sub, true, &q->key.namespace);
        snprintf(sub, sizeof sub, "%s.MetricName", path);
        tw_metrics_get_string(c, metric, "MetricName", sub, true, &q->key.name);
        snprintf(sub, sizeof sub, "%s.", path);
        check_dimensions(c, metric, sub, &q->key, false);
    }
    snprintf(path, sizeof path, "%sMetricStat.Period", prefix);
    check_period(c, stat, path, true, &q->period_s);
    snprintf(path, sizeof path, "%sMetricStat.Stat", prefix);
    if (tw_metrics_get_string(c, stat, "Stat", path, true, &q->stat_name) == 1 &&
        tw_statistic_parse(q->stat_name, &q->stat) != 0)
        tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION,
                             "The value %s for parameter %s is not a valid statistic.",
                             q->stat_name, path);
    snprintf(path, sizeof path, "%sMetricStat.Unit", prefix);
    check_unit(c, stat, path, &q->unit);
}

static void check_expression(tw_metrics_checker *c, const json_t *query, const char *prefix,
                             tw_metric_data_query *q)
{
    char path[200];
    snprintf(path, sizeof path, "%sExpression", prefix);
    if (strlen(q->expression) > TW_MATH_MAX_EXPRESSION) {
        tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION,
                             "The parameter %s must be shorter than %d characters.", path,
                             TW_MATH_MAX_EXPRESSION + 1);
        return;
    }
    tw_err err;
    if (tw_math_parse(q->expression, &q->parsed, &err) != 0)
        tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION, "Error in expression %s: %s",
                             q->id ? q->id : "?", err.msg);
    snprintf(path, sizeof path, "%sPeriod", prefix);
    check_period(c, query, path, false, &q->period_s);
}

static void check_query(tw_metrics_checker *c, const json_t *query, size_t index,
                        tw_metric_data_query *q)
{
    char prefix[64], path[200];
    snprintf(prefix, sizeof prefix, "MetricDataQueries.member.%zu.", index + 1);
    q->unit = -1;
    q->return_data = true;
    snprintf(path, sizeof path, "%sId", prefix);
    if (tw_metrics_get_string(c, query, "Id", path, true, &q->id) == 1 &&
        tw_metrics_check_length(c, q->id, path, 255) && !id_valid(q->id))
        tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION,
                             "The value %s for parameter %s is not matching the expected "
                             "pattern " ID_PATTERN ".",
                             q->id, path);
    snprintf(path, sizeof path, "%sLabel", prefix);
    tw_metrics_get_string(c, query, "Label", path, false, &q->label);
    snprintf(path, sizeof path, "%sReturnData", prefix);
    tw_metrics_get_bool(c, query, "ReturnData", path, &q->return_data);
    const json_t *stat = tw_metrics_member(query, "MetricStat");
    snprintf(path, sizeof path, "%sExpression", prefix);
    int has_expression = tw_metrics_get_string(c, query, "Expression", path, false, &q->expression);
    if (stat && has_expression == 1) {
        tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION,
                             "The parameters %sMetricStat and %sExpression are mutually "
                             "exclusive and you have specified both.",
                             prefix, prefix);
    } else if (stat) {
        check_metric_stat(c, stat, prefix, q);
    } else if (has_expression == 1) {
        check_expression(c, query, prefix, q);
    } else if (has_expression == 0) {
        tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION,
                             "The parameter %sMetricStat is required.", prefix);
    }
}

static void check_unique_ids(tw_metrics_checker *c, const tw_metric_data_request *r)
{
    for (size_t i = 1; i < r->n_queries; i++) {
        for (size_t j = 0; j < i && r->queries[i].id; j++) {
            if (r->queries[j].id && strcmp(r->queries[i].id, r->queries[j].id) == 0) {
                tw_metrics_fault_add(c->fault, TW_METRICS_VALIDATION,
                                     "The value %s for parameter "
                                     "MetricDataQueries.member.%zu.Id is already used by "
                                     "MetricDataQueries.member.%zu.Id.",
                                     r->queries[i].id, i + 1, j + 1);
                break;
            }
        }
    }
}

int tw_metrics_check_get_data(const json_t *input, tw_metric_data_request *out, tw_metrics_fault *f)
{
    tw_metrics_checker c = {
        .fault = f, .missing = TW_METRICS_VALIDATION, .invalid = TW_METRICS_VALIDATION};
    const json_t *queries;
    size_t n;
    memset(out, 0, sizeof *out);
    out->max_datapoints = TW_METRICS_DEFAULT_MAX_DATAPOINTS;
    if (tw_metrics_get_list(&c, input, "MetricDataQueries", "MetricDataQueries", &queries, &n) ==
            0 ||
        (n == 0 && !f->code))
        tw_metrics_fault_add(f, TW_METRICS_VALIDATION,
                             "The parameter MetricDataQueries is required.");
    if (n > TW_METRICS_MAX_QUERIES) {
        tw_metrics_fault_add(f, TW_METRICS_VALIDATION,
                             "The collection MetricDataQueries must not have a size greater than "
                             "%d.",
                             TW_METRICS_MAX_QUERIES);
        return -EINVAL;
    }
    check_time_range(&c, input, &out->start_ms, &out->end_ms);
    const char *scan_by;
    if (tw_metrics_get_string(&c, input, "ScanBy", "ScanBy", false, &scan_by) == 1) {
        out->ascending = strcmp(scan_by, "TimestampAscending") == 0;
        if (!out->ascending && strcmp(scan_by, "TimestampDescending") != 0)
            tw_metrics_fault_add(f, TW_METRICS_VALIDATION,
                                 "The parameter ScanBy must be a value in the set "
                                 "[ TimestampDescending, TimestampAscending ].");
    }
    if (tw_metrics_get_integer(&c, input, "MaxDatapoints", "MaxDatapoints", &out->max_datapoints) ==
            1 &&
        out->max_datapoints <= 0)
        tw_metrics_fault_add(f, TW_METRICS_VALIDATION,
                             "The parameter MaxDatapoints must be greater than 0.");
    tw_metrics_get_string(&c, input, "NextToken", "NextToken", false, &out->next_token);
    out->queries = n ? tw_calloc(n, sizeof *out->queries) : NULL;
    out->n_queries = n;
    for (size_t i = 0; i < n; i++)
        check_query(&c, json_array_get(queries, i), i, &out->queries[i]);
    check_unique_ids(&c, out);
    return f->code ? -EINVAL : 0;
}

void tw_metric_data_request_free(tw_metric_data_request *request)
{
    for (size_t i = 0; i < request->n_queries; i++)
        tw_math_expr_free(request->queries[i].parsed);
    free(request->queries);
    memset(request, 0, sizeof *request);
}

/* ---- ListMetrics ---- */

int tw_metrics_check_list(const json_t *input, tw_metric_list_request *out, tw_metrics_fault *f)
{
    tw_metrics_checker c = {
        .fault = f, .missing = TW_METRICS_MISSING, .invalid = TW_METRICS_INVALID};
    const json_t *filters;
    size_t n;
    memset(out, 0, sizeof *out);
    if (tw_metrics_get_string(&c, input, "Namespace", "Namespace", false, &out->namespace) == 1)
        tw_metrics_check_length(&c, out->namespace, "Namespace", 255);
    if (tw_metrics_get_string(&c, input, "MetricName", "MetricName", false, &out->metric_name) == 1)
        tw_metrics_check_length(&c, out->metric_name, "MetricName", 255);
    tw_metrics_get_string(&c, input, "NextToken", "NextToken", false, &out->next_token);
    tw_metrics_get_bool(&c, input, "IncludeLinkedAccounts", "IncludeLinkedAccounts",
                        &out->include_linked);
    const char *recent;
    if (tw_metrics_get_string(&c, input, "RecentlyActive", "RecentlyActive", false, &recent) == 1) {
        out->recently_active = strcmp(recent, "PT3H") == 0;
        if (!out->recently_active)
            tw_metrics_fault_add(
                f, TW_METRICS_INVALID,
                "The parameter RecentlyActive must be a value in the set [ PT3H ].");
    }
    if (tw_metrics_get_list(&c, input, "Dimensions", "Dimensions", &filters, &n) == 1 &&
        n > TW_METRICS_MAX_FILTERS) {
        tw_metrics_fault_add(f, TW_METRICS_INVALID,
                             "The collection Dimensions must not have a size greater than %d.",
                             TW_METRICS_MAX_FILTERS);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(filters, i);
        char path[64];
        tw_metric_dimension *dim = &out->filters[out->n_filters++];
        snprintf(path, sizeof path, "Dimensions.member.%zu.Name", i + 1);
        if (tw_metrics_get_string(&c, d, "Name", path, true, &dim->name) == 1)
            tw_metrics_check_length(&c, dim->name, path, 255);
        snprintf(path, sizeof path, "Dimensions.member.%zu.Value", i + 1);
        if (tw_metrics_get_string(&c, d, "Value", path, false, &dim->value) == 1)
            tw_metrics_check_length(&c, dim->value, path, 1024);
    }
    return f->code ? -EINVAL : 0;
}
