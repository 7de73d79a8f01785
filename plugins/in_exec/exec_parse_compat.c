/* exec_parse_compat.c — the formats of scripts users already have: the
 * collectd exec plain-text protocol (PUTVAL, PUTNOTIF; collectd-exec(5),
 * collectd-unixsock(5)) and Nagios plugin output (TEXT | perfdata, per the
 * Nagios plugin development guidelines). See exec_parse.h and
 * docs/exec-plugins.md for what each becomes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec_parse.h"
#include "exec_parse_internal.h"

/* ---- collectd ----------------------------------------------------------- */

/* More value lists (or values in one) on a single PUTVAL line are refused:
 * collectd's own types have at most a handful of values. */
#define MAX_VALUE_LISTS 64
#define MAX_VALUES 64

/* Types of collectd's types.db whose values get their data-source names as
 * suffixes (if_octets -> _rx, _tx) and a unit; any other type gets _0, _1,
 * ... when it has several values, and the unit None. */
typedef struct collectd_type {
    const char *name;
    const char *unit;
    size_t n_values;
    const char *ds[3];
} collectd_type;

static const collectd_type collectd_types[] = {
    {"load", NULL, 3, {"shortterm", "midterm", "longterm"}},
    {"if_octets", "Bytes", 2, {"rx", "tx"}},
    {"if_packets", "Count", 2, {"rx", "tx"}},
    {"if_errors", "Count", 2, {"rx", "tx"}},
    {"if_dropped", "Count", 2, {"rx", "tx"}},
    {"io_octets", "Bytes", 2, {"rx", "tx"}},
    {"io_packets", "Count", 2, {"rx", "tx"}},
    {"node_octets", "Bytes", 2, {"rx", "tx"}},
    {"disk_octets", "Bytes", 2, {"read", "write"}},
    {"disk_ops", "Count", 2, {"read", "write"}},
    {"disk_merged", "Count", 2, {"read", "write"}},
    {"disk_time", NULL, 2, {"read", "write"}},
    {"disk_io_time", NULL, 2, {"io_time", "weighted_io_time"}},
    {"ps_count", "Count", 2, {"processes", "threads"}},
    {"ps_cputime", NULL, 2, {"user", "syst"}},
    {"ps_disk_octets", "Bytes", 2, {"read", "write"}},
    {"ps_disk_ops", "Count", 2, {"read", "write"}},
    {"ps_pagefaults", "Count", 2, {"minflt", "majflt"}},
    {"df", "Bytes", 2, {"used", "free"}},
    {"percent", "Percent", 1, {NULL}},
    {"bytes", "Bytes", 1, {NULL}},
    {"memory", "Bytes", 1, {NULL}},
    {"df_complex", "Bytes", 1, {NULL}},
    {"count", "Count", 1, {NULL}},
    {"uptime", "Seconds", 1, {NULL}},
};

static const collectd_type *find_collectd_type(const char *name)
{
    for (size_t i = 0; i < sizeof collectd_types / sizeof collectd_types[0]; i++)
        if (strcmp(collectd_types[i].name, name) == 0)
            return &collectd_types[i];
    return NULL;
}

bool tw_exec_is_collectd_line(const char *line)
{
    size_t n = strcspn(line, " \t");
    return (n == 6 && strncasecmp(line, "PUTVAL", 6) == 0) ||
           (n == 8 && strncasecmp(line, "PUTNOTIF", 8) == 0);
}

typedef struct collectd_id {
    char *host, *plugin, *plugin_instance, *type, *type_instance;
} collectd_id;

/* host/plugin[-instance]/type[-instance], split as collectd does: the first
 * '/' ends the host, the next the plugin; the first '-' of each of plugin
 * and type starts its instance (the type instance may hold '-' and '/'). */
static int split_identifier(char *text, collectd_id *id, char *why, size_t size)
{
    char shown[64];
    snprintf(shown, sizeof shown, "%s", text);
    char *slash1 = strchr(text, '/');
    char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
    if (slash2 == NULL)
        return tw_exec_bad(why, size,
                           "identifier \"%s\" is not host/plugin[-instance]/type[-instance]",
                           shown);
    *slash1 = *slash2 = '\0';
    *id = (collectd_id){.host = text, .plugin = slash1 + 1, .type = slash2 + 1};
    char *dash = strchr(id->plugin, '-');
    if (dash) {
        *dash = '\0';
        id->plugin_instance = dash + 1;
    }
    dash = strchr(id->type, '-');
    if (dash) {
        *dash = '\0';
        id->type_instance = dash + 1;
    }
    if (id->host[0] == '\0' || id->plugin[0] == '\0' || id->type[0] == '\0')
        return tw_exec_bad(why, size, "identifier \"%s\" has an empty host, plugin or type",
                           shown);
    return 0;
}

typedef struct value_list {
    int64_t time_ms; /* 0: "N", now */
    size_t n;
    double values[MAX_VALUES];
    bool known[MAX_VALUES]; /* false for "U" */
} value_list;

/* TIME:V1[:V2...]; TIME is N or epoch seconds, a value U is unknown. */
static int parse_value_list(const tw_exec_parser *p, char *text, value_list *vl, char *why,
                            size_t size)
{
    char *field = text, *colon = strchr(text, ':');
    if (colon == NULL || colon[1] == '\0')
        return tw_exec_bad(why, size, "\"%.40s\" is not TIME:VALUE[:VALUE...] (e.g. N:42)",
                           text);
    *colon = '\0';
    vl->time_ms = 0;
    if (strcmp(field, "N") != 0 && tw_exec_parse_time(p, field, false, &vl->time_ms, why, size))
        return -EINVAL;
    *colon = ':';
    vl->n = 0;
    for (field = colon + 1;; field = colon + 1) {
        colon = strchr(field, ':');
        size_t len = colon ? (size_t)(colon - field) : strlen(field);
        if (vl->n == MAX_VALUES)
            return tw_exec_bad(why, size, "more than %d values in one value list", MAX_VALUES);
        vl->known[vl->n] = !(len == 1 && field[0] == 'U');
        if (vl->known[vl->n] &&
            tw_exec_parse_number(field, len, &vl->values[vl->n], "value", why, size) != 0)
            return -EINVAL;
        vl->n++;
        if (colon == NULL)
            return 0;
    }
}

static int emit_value_list(tw_exec_parser *p, const collectd_id *id, const collectd_type *type,
                           const value_list *vl, char *why, size_t size)
{
    tw_dimension dims[2];
    size_t n_dims = 0;
    if (id->plugin_instance && id->plugin_instance[0])
        dims[n_dims++] = (tw_dimension){"instance", id->plugin_instance};
    if (p->config.hostname && strcmp(p->config.hostname, id->host) != 0)
        dims[n_dims++] = (tw_dimension){"collectd_host", id->host};
    for (size_t i = 0; i < vl->n; i++) {
        if (!vl->known[i])
            continue;
        char index[24], name[TW_METRIC_NAME_MAX + 1];
        const char *suffix = NULL;
        if (type && type->ds[0])
            suffix = type->ds[i];
        else if (vl->n > 1)
            snprintf(index, sizeof index, "%zu", i), suffix = index;
        const char *parts[5] = {id->plugin, id->type, NULL, NULL, NULL};
        size_t k = 2;
        if (id->type_instance && id->type_instance[0])
            parts[k++] = id->type_instance;
        parts[k] = suffix;
        if (tw_exec_join_name(name, parts, why, size) != 0)
            return -EINVAL;
        if (tw_exec_emit(p, name, vl->values[i], type ? type->unit : NULL, vl->time_ms, dims,
                         n_dims, why, size) != 0)
            return -EINVAL;
    }
    return 0;
}

/* PUTVAL Identifier [OptionList] Valuelist [Valuelist ...]: every value
 * list is checked before the first sample goes out, so a bad line emits
 * nothing. Options (interval=, meta:key=) are accepted and not used: the
 * pipeline aggregates on its own interval. */
static int parse_putval(tw_exec_parser *p, char *c, char *why, size_t size)
{
    tw_exec_word w;
    int rc = tw_exec_next_word(&c, &w, true, why, size);
    if (rc <= 0)
        return rc < 0 ? rc : tw_exec_bad(why, size, "PUTVAL without an identifier");
    if (w.value != NULL)
        return tw_exec_bad(why, size, "PUTVAL: expected the identifier host/plugin/type, got "
                                      "an option");
    collectd_id id = {0};
    if (split_identifier(w.text, &id, why, size) != 0)
        return -EINVAL;
    const collectd_type *type = find_collectd_type(id.type);

    char *lists[MAX_VALUE_LISTS];
    size_t n_lists = 0;
    while ((rc = tw_exec_next_word(&c, &w, true, why, size)) == 1) {
        if (w.value != NULL) {
            double interval;
            if (strcasecmp(w.text, "interval") == 0 &&
                (tw_exec_parse_number(w.value, strlen(w.value), &interval, "interval", why,
                                      size) != 0 ||
                 interval <= 0))
                return tw_exec_bad(why, size, "interval=\"%.40s\" is not a positive number of "
                                              "seconds",
                                   w.value);
            continue;
        }
        if (n_lists == MAX_VALUE_LISTS)
            return tw_exec_bad(why, size, "more than %d value lists", MAX_VALUE_LISTS);
        lists[n_lists++] = w.text;
    }
    if (rc < 0)
        return -EINVAL;
    if (n_lists == 0)
        return tw_exec_bad(why, size, "PUTVAL without values (expected TIME:VALUE, e.g. N:42)");

    value_list vl;
    for (size_t i = 0; i < n_lists; i++) {
        if (parse_value_list(p, lists[i], &vl, why, size) != 0)
            return -EINVAL;
        if (type && vl.n != type->n_values)
            return tw_exec_bad(why, size, "type %s has %zu value%s, got %zu", type->name,
                               type->n_values, type->n_values == 1 ? "" : "s", vl.n);
    }
    for (size_t i = 0; i < n_lists; i++) {
        parse_value_list(p, lists[i], &vl, why, size);
        if (emit_value_list(p, &id, type, &vl, why, size) != 0)
            return -EINVAL;
    }
    return 0;
}

/* PUTNOTIF [options] message=Message: severity, time and message are
 * required, as in collectd; message takes the rest of the line unless it is
 * quoted. The notification goes to the runner's log, not to metrics. */
static int parse_putnotif(tw_exec_parser *p, char *c, char *why, size_t size)
{
    const char *severity = NULL, *message = NULL;
    bool has_time = false;
    for (;;) {
        c = tw_exec_skip_blanks(c);
        if (*c == '\0')
            break;
        if (strncasecmp(c, "message=", 8) == 0 && c[8] != '"') {
            message = c + 8;
            break;
        }
        tw_exec_word w;
        int rc = tw_exec_next_word(&c, &w, false, why, size);
        if (rc < 0)
            return -EINVAL;
        if (w.value == NULL)
            return tw_exec_bad(why, size, "PUTNOTIF: \"%.40s\" is not option=value", w.text);
        if (strcasecmp(w.text, "message") == 0) {
            message = w.value;
        } else if (strcasecmp(w.text, "severity") == 0) {
            if (strcasecmp(w.value, "failure") && strcasecmp(w.value, "warning") &&
                strcasecmp(w.value, "okay"))
                return tw_exec_bad(why, size,
                                   "PUTNOTIF: severity \"%.40s\" is not failure, warning or "
                                   "okay",
                                   w.value);
            severity = w.value;
        } else if (strcasecmp(w.text, "time") == 0) {
            double t;
            if (tw_exec_parse_number(w.value, strlen(w.value), &t, "time", why, size) != 0)
                return -EINVAL;
            has_time = true;
        }
    }
    if (severity == NULL || !has_time || message == NULL || message[0] == '\0')
        return tw_exec_bad(why, size, "PUTNOTIF needs severity=, time= and message=");
    if (p->config.notify)
        p->config.notify(p->config.notify_ctx, severity, message);
    return 0;
}

int tw_exec_parse_collectd(tw_exec_parser *p, char *line, char *why, size_t size)
{
    size_t n = strcspn(line, " \t");
    if (n == 6 && strncasecmp(line, "PUTVAL", 6) == 0)
        return parse_putval(p, line + n, why, size);
    if (n == 8 && strncasecmp(line, "PUTNOTIF", 8) == 0)
        return parse_putnotif(p, line + n, why, size);
    return tw_exec_bad(why, size, "\"%.*s\" is not a collectd command (PUTVAL or PUTNOTIF)",
                       (int)(n > 40 ? 40 : n), line);
}

/* ---- Nagios ------------------------------------------------------------- */

/* Units of measure of the guidelines, and GB which plugins print too. */
static const char *nagios_unit(const char *uom)
{
    static const struct {
        const char *uom, *unit;
        bool any_case;
    } units[] = {
        {"", "None", false},          {"s", "Seconds", false},   {"ms", "Milliseconds", false},
        {"us", "Microseconds", false}, {"%", "Percent", false},  {"c", "Count", false},
        {"B", "Bytes", true},         {"KB", "Kilobytes", true}, {"MB", "Megabytes", true},
        {"GB", "Gigabytes", true},    {"TB", "Terabytes", true},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].any_case ? strcasecmp(uom, units[i].uom) == 0
                              : strcmp(uom, units[i].uom) == 0)
            return units[i].unit;
    return NULL;
}

/* Reads a label quoted with '...' ('' is a quote) at *c, in place. */
static int read_quoted_label(char **c, char **label)
{
    char *s = *c + 1, *d = s;
    *label = s;
    for (;;) {
        if (*s == '\0')
            return -EINVAL;
        if (*s == '\'') {
            if (s[1] != '\'')
                break;
            s++;
        }
        *d++ = *s++;
    }
    *c = s + 1;
    *d = '\0';
    return 0;
}

/* One 'label'=value[UOM];[warn];[crit];[min];[max], label already read,
 * value at v (NUL-terminated item). Thresholds are not published. */
static int perfdata_item(tw_exec_parser *p, const char *label, char *v, char *why, size_t size)
{
    char *semicolon = strchr(v, ';');
    if (semicolon)
        *semicolon = '\0';
    if (strcmp(v, "U") == 0)
        return 0; /* the plugin could not determine the value */
    if (label[0] == '\0')
        return tw_exec_bad(why, size, "perfdata with an empty label (=%.40s)", v);
    size_t n = tw_exec_scan_decimal(v);
    const char *unit = nagios_unit(v + n);
    if (n == 0)
        return tw_exec_bad(why, size, "perfdata '%.64s': value \"%.40s\" is not a number",
                           label, v);
    if (unit == NULL)
        return tw_exec_bad(why, size,
                           "perfdata '%.64s': unknown unit of measure \"%.20s\" (Nagios units: "
                           "s ms us %% B KB MB GB TB c, or none)",
                           label, v + n);
    double value;
    if (tw_exec_parse_number(v, n, &value, "value", why, size) != 0)
        return -EINVAL;
    char name[TW_METRIC_NAME_MAX + 1];
    const char *parts[] = {p->config.exec_name, label, NULL};
    if (tw_exec_join_name(name, parts, why, size) != 0)
        return -EINVAL;
    return tw_exec_emit(p, name, value, unit, 0, NULL, 0, why, size);
}

/* Space-separated items; a bad one is reported (the first reason) while the
 * others are still emitted. */
static int parse_perfdata(tw_exec_parser *p, char *c, char *why, size_t size)
{
    int result = 0;
    char item_why[TW_EXEC_WHY_SIZE];
    for (;;) {
        c = tw_exec_skip_blanks(c);
        if (*c == '\0')
            return result;
        char *label;
        int rc = 0;
        if (*c == '\'') {
            if (read_quoted_label(&c, &label) != 0) {
                /* The rest of the line is inside the quote. */
                if (result == 0)
                    tw_exec_bad(why, size, "perfdata label %.40s... has no closing quote", c);
                return -EINVAL;
            }
            if (*c != '=')
                rc = tw_exec_bad(item_why, sizeof item_why,
                                 "perfdata '%.64s' has no '=' after the label", label);
        } else {
            label = c;
            c += strcspn(c, "= \t");
            if (*c != '=')
                rc = tw_exec_bad(item_why, sizeof item_why,
                                 "perfdata \"%.*s\" is not label=value", (int)(c - label),
                                 label);
        }
        if (rc == 0) {
            *c++ = '\0';
            char *value = c;
            c += strcspn(c, " \t");
            if (*c != '\0')
                *c++ = '\0';
            rc = perfdata_item(p, label, value, item_why, sizeof item_why);
        } else {
            c += strcspn(c, " \t"); /* resynchronise at the next blank */
        }
        if (rc != 0 && result == 0) {
            result = -EINVAL;
            snprintf(why, size, "%s", item_why);
        }
    }
}

/* The first line is TEXT | PERFDATA; later lines are long text until one
 * holds a '|', after which that line's rest and every following line are
 * perfdata (Nagios plugin guidelines, "Plugin Output"). */
int tw_exec_parse_nagios(tw_exec_parser *p, char *line, char *why, size_t size)
{
    char *perfdata = NULL;
    p->nagios_seen = true;
    if (p->nagios_part == 0 || p->config.lines_stand_alone) {
        char *bar = strchr(line, '|');
        if (bar) {
            *bar = '\0';
            perfdata = bar + 1;
        }
        if (p->nagios_part == 0) {
            char *text = tw_exec_skip_blanks(line);
            size_t len = strlen(text);
            while (len > 0 && tw_exec_is_blank(text[len - 1]))
                len--;
            tw_exec_escape(text, len, p->nagios_text, sizeof p->nagios_text);
        }
        if (!p->config.lines_stand_alone)
            p->nagios_part = 1;
    } else if (p->nagios_part == 1) {
        char *bar = strchr(line, '|');
        if (bar == NULL)
            return 0;
        perfdata = bar + 1;
        p->nagios_part = 2;
    } else {
        perfdata = line;
    }
    return perfdata ? parse_perfdata(p, perfdata, why, size) : 0;
}
