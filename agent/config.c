/* config.c — agent.conf into a tw_agent_config: key tables, value checks,
 * and the cross-section rules (see config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit_config.h"
#include "buf.h"
#include "conf_schema.h"
#include "cwl_requests.h"
#include "mem.h"
#include "units.h"

#define SECOND 1000ULL
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define KiB 1024LL
#define MiB (1024 * KiB)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- value checks ------------------------------------------------------ */

static int check_url(const char *v, tw_err *err)
{
    const char *rest;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    else
        return tw_err_set(err, -EINVAL, "\"%.80s\" must start with http:// or https://", v);
    size_t host_len = strcspn(rest, ":/?#");
    if (host_len == 0)
        return tw_err_set(err, -EINVAL, "\"%.80s\" has no host name", v);
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p) || !isprint((unsigned char)*p))
            return tw_err_set(err, -EINVAL, "\"%.80s\" contains a blank or control character", v);
    if (rest[host_len] == ':') {
        const char *port = rest + host_len + 1;
        size_t digits = strspn(port, "0123456789");
        long n = digits > 0 && digits <= 5 ? strtol(port, NULL, 10) : -1;
        if (n < 1 || n > 65535 || (port[digits] != '\0' && port[digits] != '/'))
            return tw_err_set(err, -EINVAL, "\"%.80s\" has a bad port (expected 1 to 65535)", v);
    }
    return 0;
}

/* CloudWatch: 1-255 printable ASCII, not starting with ':' or "AWS/". */
static int check_namespace(const char *v, tw_err *err)
{
    size_t n = strlen(v);
    if (n > 255)
        return tw_err_set(err, -EINVAL, "is %zu characters long (CloudWatch allows 255)", n);
    if (v[0] == ':' || strncmp(v, "AWS/", 4) == 0)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" is reserved: namespaces starting with \"AWS/\" or \":\" "
                          "belong to AWS",
                          v);
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)v[i]) || strchr("._#:/- ", v[i])))
            return tw_err_set(err, -EINVAL,
                              "\"%.80s\" contains '%c' (CloudWatch namespaces use letters, "
                              "digits and . _ # : / - and space)",
                              v, v[i]);
    return 0;
}

static const char *const placeholders[] = {"{hostname}", "{date}", "{file}", "{name}"};

/* Length of a placeholder at p, or 0. */
static size_t placeholder_at(const char *p)
{
    for (size_t i = 0; i < COUNT(placeholders); i++) {
        size_t n = strlen(placeholders[i]);
        if (strncmp(p, placeholders[i], n) == 0)
            return n;
    }
    return 0;
}

static int check_name_template(const char *v, const char *what, bool (*allowed)(char),
                               const char *rule, tw_err *err)
{
    for (const char *p = v; *p;) {
        size_t ph = placeholder_at(p);
        if (ph > 0) {
            p += ph;
            continue;
        }
        if (*p == '{')
            return tw_err_set(err, -EINVAL,
                              "unknown placeholder in \"%.80s\" (known: {hostname}, {date}, "
                              "{file}, {name})",
                              v);
        if (!allowed(*p))
            return tw_err_set(err, -EINVAL, "\"%.80s\" contains '%c': %s names allow %s", v, *p,
                              what, rule);
        p++;
    }
    if (strlen(v) > 512)
        return tw_err_set(err, -EINVAL, "is longer than the 512 characters CloudWatch allows");
    return 0;
}

static bool log_group_char(char c)
{
    return isalnum((unsigned char)c) || strchr("._-/#", c) != NULL;
}

static bool log_stream_char(char c)
{
    return c != ':' && c != '*' && (unsigned char)c >= 0x20;
}

static int check_log_group(const char *v, tw_err *err)
{
    if (strncasecmp(v, "aws/", 4) == 0)
        return tw_err_set(err, -EINVAL, "\"%.80s\": log groups starting with aws/ are reserved "
                                        "for AWS",
                          v);
    return check_name_template(v, "log group", log_group_char,
                               "letters, digits and . _ - / #", err);
}

static int check_log_stream(const char *v, tw_err *err)
{
    return check_name_template(v, "log stream", log_stream_char, "anything but : and *", err);
}

/* host:port, [v6]:port or :port; port 1-65535. */
static int check_listen(const char *v, tw_err *err)
{
    return tw_conf_check_listen(v, 1, 8125, err);
}

/* glibc's regcomp can take the machine down on a short pattern. It makes a
 * copy of a repeated piece per count (two for "+") and its memory grows
 * faster than the copies: "a{1,32767}" takes 8 GB, nested bounds
 * ("((a{1,255}){1,255}){1,255}") more. And its time grows exponentially with
 * repetitions applied to repetitions: "^a**++++" or "^(((((a*)+)+)+)+)+"
 * never finish. A pattern that starts a log event needs neither, so both are
 * measured before regcomp and a pattern beyond these limits is refused. */
#define REGEX_MAX_COPIES 1000
#define REGEX_MAX_NESTING 3

typedef struct regex_cost {
    uint64_t copies; /* clamped to REGEX_MAX_COPIES + 1 */
    int nesting;     /* most repetitions applied around one atom */
} regex_cost;

static uint64_t clamp_copies(uint64_t n)
{
    return n > REGEX_MAX_COPIES ? REGEX_MAX_COPIES + 1 : n;
}

/* *p is just after "["; leaves it after the closing "]". */
static void skip_bracket(const char **p)
{
    if (**p == '^')
        (*p)++;
    if (**p == ']')
        (*p)++;
    while (**p != '\0' && **p != ']') {
        char kind = (*p)[1];
        if (**p == '[' && (kind == ':' || kind == '.' || kind == '=')) {
            const char *end = *p + 2;
            while (*end != '\0' && !(end[0] == kind && end[1] == ']'))
                end++;
            *p = *end != '\0' ? end + 2 : end;
        } else {
            (*p)++;
        }
    }
    if (**p == ']')
        (*p)++;
}

/* A bound's count ("{3}" 3, "{2,5}" 5, "{2,}" 3); *p is just after "{". */
static uint64_t parse_bound(const char **p)
{
    uint64_t low = 0, high = 0;
    while (isdigit((unsigned char)**p))
        low = clamp_copies(low * 10 + (uint64_t)(*(*p)++ - '0'));
    high = low;
    if (**p == ',') {
        (*p)++;
        high = low + 1;
        if (isdigit((unsigned char)**p))
            high = 0;
        while (isdigit((unsigned char)**p))
            high = clamp_copies(high * 10 + (uint64_t)(*(*p)++ - '0'));
    }
    if (**p == '}')
        (*p)++;
    return high > 0 ? high : 1;
}

/* The cost of the pattern from *p to the ")" closing the group (or the end);
 * *p is left after it. It errs on the side of counting: whatever glibc might
 * take as a literal counts as one. */
static regex_cost measure_regex(const char **p, int depth)
{
    regex_cost total = {0, 0};
    uint64_t last = 0; /* copies of the piece a repetition would apply to */
    int nesting = 0;   /* repetitions already around that piece */
    while (**p != '\0') {
        char c = *(*p)++;
        if (c == ')' && depth > 0)
            break; /* an unmatched ")" is a literal for glibc */
        if (last > 0 && (c == '*' || c == '+' || c == '?' || c == '{')) {
            total.copies -= last;
            if (c == '{')
                last = clamp_copies(last * parse_bound(p));
            else if (c == '+')
                last = clamp_copies(last * 2); /* glibc writes "a+" as "aa*" */
            nesting++;
        } else if (c == '(') {
            regex_cost inner = measure_regex(p, depth + 1);
            last = inner.copies > 0 ? inner.copies : 1;
            nesting = inner.nesting;
        } else if (c == '|') {
            last = 0;
            nesting = 0;
            continue;
        } else {
            if (c == '\\' && **p != '\0')
                (*p)++;
            else if (c == '[')
                skip_bracket(p);
            last = 1;
            nesting = 0;
        }
        total.copies = clamp_copies(total.copies + last);
        if (nesting > total.nesting)
            total.nesting = nesting;
    }
    return total;
}

static int check_regex(const char *v, tw_err *err)
{
    const char *p = v;
    regex_cost cost = measure_regex(&p, 0);
    if (cost.copies > REGEX_MAX_COPIES)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" repeats too much: its {m,n} bounds and + signs, "
                          "multiplied where nested, make over %d copies of its parts",
                          v, REGEX_MAX_COPIES);
    if (cost.nesting > REGEX_MAX_NESTING)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" applies %d repetitions (*, +, ?, {m,n}) one around "
                          "another; at most %d are supported",
                          v, cost.nesting, REGEX_MAX_NESTING);
    regex_t re;
    int rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &re, why, sizeof why);
        return tw_err_set(err, -EINVAL, "\"%.80s\" is not a valid extended regular expression: %s",
                          v, why);
    }
    regfree(&re);
    return 0;
}

static int check_library(const char *v, tw_err *err)
{
    if (v[0] != '/' && strchr(v, '/') != NULL)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\": give a file name (looked up in the plugin directory) or "
                          "an absolute path",
                          v);
    return 0;
}

static int check_identifier(const char *v, tw_err *err)
{
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
            return tw_err_set(err, -EINVAL, "\"%.80s\" contains '%c' (letters, digits, . _ -)", v,
                              *p);
    return 0;
}

/* ---- key tables -------------------------------------------------------- */

static const char *const log_levels[] = {"error", "warn", "notice", "info", "debug", NULL};
static const char *const log_formats[] = {"nginx", "nginx_error", "rails", "json",
                                          "syslog", "raw", NULL};
static const char *const read_from_choices[] = {"head", "tail", NULL};
static const char *const exec_modes[] = {"periodic", "daemon", NULL};
static const char *const exec_formats[] = {"auto", "trailwatch", "collectd", "nagios", NULL};

/* "name=value, name=value": CloudWatch dimension rules, at most 28 (the host
 * dimension and one of the input's own must still fit under 30). */
static int check_dimensions(const char *v, tw_err *err)
{
    char copy[4096];
    const char *names[29], *values[29];
    if (strlen(v) >= sizeof copy)
        return tw_err_set(err, -EINVAL, "is too long (at most %zu characters)", sizeof copy - 1);
    size_t n = tw_agent_config_dimensions(v, copy, sizeof copy, names, values, 29);
    if (n == 0)
        return tw_err_set(err, -EINVAL, "expected name=value pairs separated by commas");
    if (n > 28)
        return tw_err_set(err, -EINVAL, "at most 28 dimensions (CloudWatch allows 30, and "
                                        "host and the input's own need room)");
    for (size_t i = 0; i < n; i++) {
        if (!names[i][0] || !values[i] || !values[i][0])
            return tw_err_set(err, -EINVAL,
                              "\"%.80s\" is not name=value (expected e.g. "
                              "\"role=web, team=payments\")",
                              names[i]);
        for (const char *p = names[i]; *p; p++)
            if (*p < 0x21 || *p > 0x7e)
                return tw_err_set(err, -EINVAL, "dimension name \"%.80s\" must be printable "
                                  "ASCII without blanks", names[i]);
        if (strcmp(names[i], "host") == 0)
            return tw_err_set(err, -EINVAL, "host is added by the agent (set [agent] hostname "
                                            "to change its value)");
    }
    return 0;
}

/* KEY(name, type, struct, field, optional designated initializers...) */
#define KEY(n, t, st, f, ...) {.name = n, .type = t, .offset = offsetof(st, f), __VA_ARGS__}

static const tw_conf_key agent_keys[] = {
    KEY("state_dir", TW_CONF_ABSPATH, tw_agent_settings, state_dir),
    KEY("hostname", TW_CONF_STRING, tw_agent_settings, hostname),
    KEY("log_level", TW_CONF_ENUM, tw_agent_settings, log_level, .choices = log_levels),
    KEY("stop_timeout", TW_CONF_DURATION, tw_agent_settings, stop_timeout_ms,
        .min = 1 * SECOND, .max = 10 * MINUTE),
    KEY("spool_max_size", TW_CONF_SIZE, tw_agent_settings, spool_max_size, .min = 1 * MiB,
        .max = 1024 * 1024 * MiB),
    KEY("self_metrics", TW_CONF_BOOL, tw_agent_settings, self_metrics),
    KEY("self_namespace", TW_CONF_STRING, tw_agent_settings, self_namespace,
        .check = check_namespace),
};

static const tw_conf_key endpoint_keys[] = {
    KEY("url", TW_CONF_STRING, tw_endpoint_config, url, .check = check_url),
    KEY("region", TW_CONF_STRING, tw_endpoint_config, region, .check = tw_conf_check_region),
    KEY("access_key_id", TW_CONF_STRING, tw_endpoint_config, access_key_id,
        .check = check_identifier),
    KEY("secret_access_key", TW_CONF_STRING, tw_endpoint_config, secret_access_key,
        .flags = TW_CONF_SECRET),
    KEY("session_token", TW_CONF_STRING, tw_endpoint_config, session_token,
        .flags = TW_CONF_SECRET),
    KEY("profile", TW_CONF_STRING, tw_endpoint_config, profile, .check = check_identifier),
    KEY("credentials_file", TW_CONF_ABSPATH, tw_endpoint_config, credentials_file),
    KEY("timeout", TW_CONF_DURATION, tw_endpoint_config, timeout_ms, .min = 1 * SECOND,
        .max = 10 * MINUTE),
};

static const tw_conf_key metrics_keys[] = {
    KEY("namespace", TW_CONF_STRING, tw_metrics_config, namespace_, .check = check_namespace),
    KEY("interval", TW_CONF_DURATION, tw_metrics_config, interval_ms, .min = 1 * SECOND,
        .max = 1 * DAY),
    KEY("cpu", TW_CONF_BOOL, tw_metrics_config, cpu),
    KEY("mem", TW_CONF_BOOL, tw_metrics_config, mem),
    KEY("net", TW_CONF_BOOL, tw_metrics_config, net),
    KEY("disk", TW_CONF_BOOL, tw_metrics_config, disk),
    KEY("diskio", TW_CONF_BOOL, tw_metrics_config, diskio),
    KEY("flush_interval", TW_CONF_DURATION, tw_metrics_config, flush_interval_ms,
        .min = 1 * SECOND, .max = 1 * HOUR),
    KEY("dimensions", TW_CONF_STRING, tw_metrics_config, dimensions, .check = check_dimensions),
    KEY("max_series", TW_CONF_INT, tw_metrics_config, max_series, .min = 100, .max = 10000000),
    KEY("net_include_loopback", TW_CONF_BOOL, tw_metrics_config, net_include_loopback),
    KEY("net_interfaces", TW_CONF_STRING, tw_metrics_config, net_interfaces),
    KEY("disk_mount_points", TW_CONF_STRING, tw_metrics_config, disk_mount_points),
};

static const tw_conf_key statsd_keys[] = {
    KEY("listen", TW_CONF_STRING, tw_statsd_config, listen, .check = check_listen),
    KEY("flush_interval", TW_CONF_DURATION, tw_statsd_config, flush_interval_ms,
        .min = 1 * SECOND, .max = 1 * HOUR),
    KEY("receive_buffer", TW_CONF_SIZE, tw_statsd_config, receive_buffer, .min = 64 * KiB,
        .max = 1024 * MiB),
    KEY("max_series", TW_CONF_INT, tw_statsd_config, max_series, .min = 100, .max = 10000000),
};

/* rails: which tag (1-8) or lograge/JSON key holds the user (the parser
 * says the same when it is created; here it gets the file and line). */
static int check_user_tag(const char *v, tw_err *err)
{
    size_t len = strlen(v);
    if (len == 0)
        return tw_err_set(err, -EINVAL, "empty (give a tag index 1-8 or a key name)");
    if (strspn(v, "0123456789") == len) {
        if (len > 1 || v[0] < '1' || v[0] > '8')
            return tw_err_set(err, -EINVAL,
                              "tag index %s is out of range: Rails tags are counted from 1, at "
                              "most 8",
                              v);
        return 0;
    }
    if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@") != len)
        return tw_err_set(err, -EINVAL,
                          "\"%.60s\" is neither a tag index (1-8) nor a key name (letters, "
                          "digits, _ . @)",
                          v);
    return 0;
}

static const tw_conf_key logs_keys[] = {
    KEY("path", TW_CONF_STRING, tw_logs_config, path,
        .flags = TW_CONF_REQUIRED | TW_CONF_MULTILINE),
    KEY("format", TW_CONF_ENUM, tw_logs_config, format, .choices = log_formats),
    KEY("log_format", TW_CONF_STRING, tw_logs_config, log_format, .flags = TW_CONF_MULTILINE),
    KEY("log_group", TW_CONF_STRING, tw_logs_config, log_group, .check = check_log_group),
    KEY("log_stream", TW_CONF_STRING, tw_logs_config, log_stream, .check = check_log_stream),
    KEY("read_from", TW_CONF_ENUM, tw_logs_config, read_from, .choices = read_from_choices),
    KEY("multiline_start", TW_CONF_STRING, tw_logs_config, multiline_start,
        .check = check_regex),
    KEY("multiline_timeout", TW_CONF_DURATION, tw_logs_config, multiline_timeout_ms,
        .min = 100, .max = 1 * MINUTE),
    KEY("max_line_size", TW_CONF_SIZE, tw_logs_config, max_line_size, .min = 1 * KiB,
        .max = 1 * MiB),
    KEY("retention_days", TW_CONF_INT, tw_logs_config, retention_days, .min = 1, .max = 3653),
    KEY("audit", TW_CONF_BOOL, tw_logs_config, audit),
    KEY("event_source", TW_CONF_STRING, tw_logs_config, event_source,
        .check = tw_audit_config_check_event_source),
    KEY("audit_channel", TW_CONF_STRING, tw_logs_config, audit_channel,
        .check = tw_audit_config_check_channel),
    KEY("audit_account_id", TW_CONF_STRING, tw_logs_config, audit_account_id,
        .check = tw_audit_config_check_account),
    KEY("audit_routes", TW_CONF_STRING, tw_logs_config, audit_routes,
        .flags = TW_CONF_MULTILINE, .check = tw_audit_config_check_routes),
    KEY("data_paths", TW_CONF_STRING, tw_logs_config, data_paths, .flags = TW_CONF_MULTILINE,
        .check = tw_audit_config_check_data_paths),
    KEY("audit_user_field", TW_CONF_STRING, tw_logs_config, audit_user_field,
        .check = tw_audit_config_check_user_field),
    KEY("audit_trust_forwarded_for", TW_CONF_BOOL, tw_logs_config, audit_trust_forwarded_for),
    KEY("audit_reads", TW_CONF_BOOL, tw_logs_config, audit_reads),
    KEY("user_tag", TW_CONF_STRING, tw_logs_config, user_tag, .check = check_user_tag),
};

static const tw_conf_key plugin_keys[] = {
    KEY("library", TW_CONF_STRING, tw_plugin_config, library, .flags = TW_CONF_REQUIRED,
        .check = check_library),
    KEY("interval", TW_CONF_DURATION, tw_plugin_config, interval_ms, .min = 1 * SECOND,
        .max = 1 * DAY),
};

static const tw_conf_key exec_keys[] = {
    KEY("command", TW_CONF_STRING, tw_exec_config, command,
        .flags = TW_CONF_REQUIRED | TW_CONF_MULTILINE),
    KEY("interval", TW_CONF_DURATION, tw_exec_config, interval_ms, .min = 1 * SECOND,
        .max = 1 * DAY),
    KEY("timeout", TW_CONF_DURATION, tw_exec_config, timeout_ms, .min = 100, .max = 1 * HOUR),
    KEY("mode", TW_CONF_ENUM, tw_exec_config, mode, .choices = exec_modes),
    KEY("format", TW_CONF_ENUM, tw_exec_config, format, .choices = exec_formats),
};

/* ---- sections ---------------------------------------------------------- */

typedef enum { KIND_AGENT, KIND_ENDPOINT, KIND_METRICS, KIND_STATSD, KIND_LOGS, KIND_PLUGIN,
               KIND_EXEC } section_kind;

static const tw_conf_section_kind kinds[] = {
    [KIND_AGENT] = {"agent", false},   [KIND_ENDPOINT] = {"endpoint", false},
    [KIND_METRICS] = {"metrics", false}, [KIND_STATSD] = {"statsd", false},
    [KIND_LOGS] = {"logs", true},      [KIND_PLUGIN] = {"plugin", true},
    [KIND_EXEC] = {"exec", true},
};

static const char *keep_string(tw_agent_config *c, char *str);

static void set_defaults(tw_agent_config *c)
{
    if (gethostname(c->hostname_buf, sizeof c->hostname_buf - 1) != 0)
        strcpy(c->hostname_buf, "localhost");
    c->agent = (tw_agent_settings){
        .state_dir = TW_AGENT_DEFAULT_STATE_DIR,
        /* A copy on the heap, not hostname_buf itself: a tw_agent_config is
         * moved by value (agent.c's reload), which would leave the hostname
         * and every logs event_source pointing into the old struct. */
        .hostname = keep_string(c, tw_strdup(c->hostname_buf)),
        .log_level = "info",
        .stop_timeout_ms = 10 * SECOND,
        .spool_max_size = 256 * MiB,
        .self_metrics = true,
        .self_namespace = "Trailwatch/Agent",
    };
    c->endpoint = (tw_endpoint_config){
        .url = TW_AGENT_DEFAULT_ENDPOINT,
        .region = "us-east-1",
        .timeout_ms = 30 * SECOND,
    };
    c->metrics = (tw_metrics_config){
        .namespace_ = "CWAgent",
        .interval_ms = 60 * SECOND,
        .max_series = 50000,
        .cpu = true, .mem = true, .net = true, .disk = true, .diskio = false,
    };
    c->statsd = (tw_statsd_config){.listen = "127.0.0.1:8125", .flush_interval_ms = 10 * SECOND,
                                   .receive_buffer = 8 * MiB, .max_series = 100000};
}

static void check_logs(tw_agent_config *c, const tw_conf_section *s, tw_logs_config *l)
{
    tw_conf *conf = &c->conf;
    const tw_conf_entry *e;
    /* Rules that depend on a key are checked only when the key itself was
     * good: its own error already said what is wrong, and a rule judged on
     * the default instead ("format is raw") would send the user elsewhere. */
    e = tw_conf_find(s, "format");
    bool format_ok = e == NULL || strcmp(e->value, l->format) == 0;
    if (format_ok && l->log_format != NULL && strcmp(l->format, "nginx") != 0) {
        e = tw_conf_find(s, "log_format");
        tw_conf_error(conf, e->file, e->line,
                      "[%s] log_format is only used with format = nginx (format is %s)", s->name,
                      l->format);
    }
    if (format_ok && l->audit && strcmp(l->format, "nginx") != 0 &&
        strcmp(l->format, "rails") != 0 && strcmp(l->format, "syslog") != 0) {
        e = tw_conf_find(s, "audit");
        tw_conf_error(conf, e->file, e->line,
                      "[%s] audit = yes needs format nginx, rails or syslog (format is %s)",
                      s->name, l->format);
    }
    if (format_ok)
        tw_audit_config_check_logs(conf, s, l, c->endpoint.region);
    if (format_ok && l->user_tag != NULL && strcmp(l->format, "rails") != 0) {
        e = tw_conf_find(s, "user_tag");
        tw_conf_error(conf, e->file, e->line,
                      "[%s] user_tag is only used with format = rails (format is %s)", s->name,
                      l->format);
    }
    if ((e = tw_conf_find(s, "multiline_timeout")) != NULL &&
        tw_conf_find(s, "multiline_start") == NULL)
        tw_conf_error(conf, e->file, e->line,
                      "[%s] multiline_timeout needs multiline_start (the pattern that begins "
                      "an event)",
                      s->name);
    if ((e = tw_conf_find(s, "retention_days")) != NULL && l->retention_days != 0 &&
        !tw_cwl_retention_allowed(l->retention_days))
        tw_conf_error(conf, e->file, e->line,
                      "[%s] retention_days: CloudWatch Logs does not offer %lld days "
                      "(allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, "
                      "731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)",
                      s->name, (long long)l->retention_days);
    for (size_t i = 0; i + 1 < c->n_logs; i++) {
        if (l->path != NULL && c->logs[i].path != NULL && strcmp(c->logs[i].path, l->path) == 0) {
            e = tw_conf_find(s, "path");
            tw_conf_error(conf, e->file, e->line,
                          "[%s] path \"%.80s\" is already read by [logs %s] (%s:%d); a file "
                          "read twice is shipped twice",
                          s->name, l->path, c->logs[i].name, c->logs[i].file, c->logs[i].line);
        }
    }
}

/* Takes ownership of a string the model derived itself (a default built from
 * a section name) so that it lives as long as the config. */
static const char *keep_string(tw_agent_config *c, char *str)
{
    c->derived = tw_realloc(c->derived, (c->n_derived + 1) * sizeof *c->derived);
    c->derived[c->n_derived++] = str;
    return str;
}

static void add_logs(tw_agent_config *c, const tw_conf_section *s, const char *name)
{
    c->logs = tw_realloc(c->logs, (c->n_logs + 1) * sizeof *c->logs);
    tw_logs_config *l = &c->logs[c->n_logs++];
    *l = (tw_logs_config){
        .name = name, .file = s->file, .line = s->line,
        .format = "raw", .log_stream = "{hostname}", .read_from = "tail",
        .multiline_timeout_ms = 1 * SECOND, .max_line_size = 256 * KiB,
        .event_source = c->agent.hostname, .audit_reads = true,
    };
    tw_conf_apply(&c->conf, s, logs_keys, COUNT(logs_keys), l, false);
    if (l->log_group == NULL) {
        tw_buf group = TW_BUF_INIT;
        tw_buf_printf(&group, "/trailwatch/%s", name); /* NAME is a valid group suffix */
        l->log_group = keep_string(c, tw_buf_steal(&group));
    }
    check_logs(c, s, l);
}

static void add_plugin(tw_agent_config *c, const tw_conf_section *s, const char *name)
{
    c->plugins = tw_realloc(c->plugins, (c->n_plugins + 1) * sizeof *c->plugins);
    tw_plugin_config *p = &c->plugins[c->n_plugins++];
    *p = (tw_plugin_config){.name = name, .file = s->file, .line = s->line,
                            .interval_ms = c->metrics.interval_ms, .section = s};
    /* Other keys belong to the plugin, which checks them in its init. */
    tw_conf_apply(&c->conf, s, plugin_keys, COUNT(plugin_keys), p, true);
}

static void add_exec(tw_agent_config *c, const tw_conf_section *s, const char *name)
{
    c->execs = tw_realloc(c->execs, (c->n_execs + 1) * sizeof *c->execs);
    tw_exec_config *x = &c->execs[c->n_execs++];
    *x = (tw_exec_config){.name = name, .file = s->file, .line = s->line,
                          .interval_ms = c->metrics.interval_ms, .mode = "periodic",
                          .format = "auto"};
    if (tw_conf_apply(&c->conf, s, exec_keys, COUNT(exec_keys), x, false) != 0)
        return;
    if (x->timeout_ms == 0) /* default: 10 s, never beyond the interval */
        x->timeout_ms = x->interval_ms < 10 * SECOND ? x->interval_ms : 10 * SECOND;
    if (x->timeout_ms > x->interval_ms) {
        const tw_conf_entry *e = tw_conf_find(s, "timeout");
        char timeout[32], interval[32];
        tw_duration_format(x->timeout_ms, timeout, sizeof timeout);
        tw_duration_format(x->interval_ms, interval, sizeof interval);
        tw_conf_error(&c->conf, e ? e->file : s->file, e ? e->line : s->line,
                      "[%s] timeout (%s%s) must not be longer than interval (%s%s), or runs "
                      "would pile up",
                      s->name, timeout, e ? "" : ", the default", interval,
                      tw_conf_find(s, "interval") ? "" : ", from [metrics]");
    }
}

static void check_endpoint(tw_agent_config *c)
{
    const tw_conf_section *s = tw_conf_find_section(&c->conf, "endpoint");
    if (s == NULL)
        return;
    /* Judged on which keys are present, not on which values were good: a bad
     * access_key_id has its own error and is not also "missing". */
    bool key_id = tw_conf_find(s, "access_key_id") != NULL;
    bool secret = tw_conf_find(s, "secret_access_key") != NULL;
    bool token = tw_conf_find(s, "session_token") != NULL;
    bool profile = tw_conf_find(s, "profile") != NULL;
    bool credentials_file = tw_conf_find(s, "credentials_file") != NULL;
    if (key_id != secret)
        tw_conf_error(&c->conf, s->file, s->line,
                      "[endpoint] access_key_id and secret_access_key go together: set both, "
                      "or neither to use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the "
                      "shared credentials file");
    if (token && !key_id)
        tw_conf_error(&c->conf, s->file, s->line,
                      "[endpoint] session_token needs access_key_id and secret_access_key");
    if (key_id && (profile || credentials_file))
        tw_conf_error(&c->conf, s->file, s->line,
                      "[endpoint] give either keys or profile/credentials_file, not both");
}

/* Singletons are applied first so that [metrics] interval is known as the
 * default interval of plugins and exec inputs, whatever the file order. */
static void interpret(tw_agent_config *c)
{
    set_defaults(c);
    tw_conf *conf = &c->conf;
    int *kind_of = tw_calloc(conf->n_sections, sizeof *kind_of);
    const char **names = tw_calloc(conf->n_sections, sizeof *names);
    for (size_t i = 0; i < conf->n_sections; i++)
        kind_of[i] = tw_conf_classify_section(conf, &conf->sections[i], kinds, COUNT(kinds),
                                              &names[i]);
    for (size_t i = 0; i < conf->n_sections; i++) {
        const tw_conf_section *s = &conf->sections[i];
        switch (kind_of[i]) {
        case KIND_AGENT:
            tw_conf_apply(conf, s, agent_keys, COUNT(agent_keys), &c->agent, false);
            break;
        case KIND_ENDPOINT:
            tw_conf_apply(conf, s, endpoint_keys, COUNT(endpoint_keys), &c->endpoint, false);
            break;
        case KIND_METRICS:
            c->metrics.enabled = true;
            tw_conf_apply(conf, s, metrics_keys, COUNT(metrics_keys), &c->metrics, false);
            break;
        case KIND_STATSD:
            c->statsd.enabled = true;
            tw_conf_apply(conf, s, statsd_keys, COUNT(statsd_keys), &c->statsd, false);
            break;
        default:
            break;
        }
    }
    check_endpoint(c);
    if (c->metrics.flush_interval_ms == 0) { /* the interval, within 10 s .. 60 s */
        uint64_t every = c->metrics.interval_ms;
        c->metrics.flush_interval_ms = every < 10 * SECOND ? 10 * SECOND
                                       : every > MINUTE    ? MINUTE
                                                           : every;
    }
    for (size_t i = 0; i < conf->n_sections; i++) {
        const tw_conf_section *s = &conf->sections[i];
        if (kind_of[i] == KIND_LOGS)
            add_logs(c, s, names[i]);
        else if (kind_of[i] == KIND_PLUGIN)
            add_plugin(c, s, names[i]);
        else if (kind_of[i] == KIND_EXEC)
            add_exec(c, s, names[i]);
    }
    free(kind_of);
    free(names);
    tw_conf_sort_errors(conf);
}

static void reset(tw_agent_config *c)
{
    memset(c, 0, sizeof *c);
    tw_conf_init(&c->conf);
}

size_t tw_agent_config_dimensions(const char *text, char *buf, size_t size,
                                  const char **names, const char **values, size_t max)
{
    snprintf(buf, size, "%s", text);
    size_t n = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*item))
            item++;
        char *end = item + strlen(item);
        while (end > item && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*item == '\0')
            continue;
        if (n == max)
            return max + 1;
        char *eq = strchr(item, '=');
        names[n] = item;
        values[n] = NULL;
        if (eq) {
            char *name_end = eq;
            while (name_end > item && isspace((unsigned char)name_end[-1]))
                name_end--;
            *name_end = '\0';
            char *value = eq + 1;
            while (isspace((unsigned char)*value))
                value++;
            values[n] = value;
        }
        n++;
    }
    return n;
}

int tw_agent_config_load(tw_agent_config *config, const char *path)
{
    reset(config);
    tw_conf_load_with_dropins(&config->conf, path);
    interpret(config);
    return config->conf.n_errors == 0 ? 0 : -EINVAL;
}

int tw_agent_config_load_string(tw_agent_config *config, const char *name, const char *text)
{
    reset(config);
    tw_conf_load_string(&config->conf, name, text);
    interpret(config);
    return config->conf.n_errors == 0 ? 0 : -EINVAL;
}

void tw_agent_config_free(tw_agent_config *config)
{
    free(config->logs);
    free(config->plugins);
    free(config->execs);
    for (size_t i = 0; i < config->n_derived; i++)
        free(config->derived[i]);
    free(config->derived);
    tw_conf_free(&config->conf);
    memset(config, 0, sizeof *config);
}
