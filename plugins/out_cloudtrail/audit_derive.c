/* audit_derive.c — the deriver: which records make events and the eventData
 * of each (see audit_derive.h). JSON is written directly; the order of
 * members follows the schema table of spec §6. */
#include "audit_derive.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_json.h"
#include "audit_routes.h"
#include "mem.h"
#include "rails_params.h"
#include "timefmt.h"

/* Field caps of the audit-event schema (spec §6), in characters. */
#define CAP_TYPE 128
#define CAP_TEXT 1024 /* principalId, userAgent, eventName, UID */
#define CAP_ERROR 256 /* errorCode, errorMessage */
#define CAP_PATH 2048 /* a path inside requestParameters/additionalEventData */
#define CAP_RAW_PARAMS 8192
#define PARAMS_MAX_BYTES (100 * 1024)
/* jansson re-dumps a float with up to 17 significant digits and an
 * exponent: the most a float can grow by when the collector measures. */
#define FLOAT_GROWTH 24
#define IP_TEXT_MAX 64

typedef enum format { FORMAT_NGINX, FORMAT_RAILS, FORMAT_SYSLOG } format;

struct tw_audit_deriver {
    format format;
    char *user_field;
    bool trust_forwarded_for;
    bool read_only_events;
    tw_audit_routes *routes;
    tw_audit_paths *data_paths;
    tw_buf source_member;    /* ,"eventSource":"..." */
    tw_buf recipient_member; /* ,"recipientAccountId":"..." */
    int64_t cached_second;   /* eventTime of the last event, formatted */
    char cached_time[TW_ISO8601_SIZE];
    tw_audit_path path;
    tw_rails_params params;
};

typedef struct span {
    const char *p;
    size_t n;
} span;

/* The record's fields an event may use (p == NULL: absent). */
typedef struct fields {
    span method, path, protocol, status, remote_addr, forwarded_for, user_agent, request_id,
        bytes_sent, user;
    span request_method, request_uri, uri; /* custom nginx formats without $request */
    span controller, action, params, error;
    span program, host, auth_result, auth_method, remote_port, invalid_user, target_user,
        command, tty, pwd, sudo_result;
} fields;

static const char *const default_user_fields[] = {
    [FORMAT_NGINX] = "remote_user", [FORMAT_RAILS] = "user", [FORMAT_SYSLOG] = "user"};

/* ---- options ------------------------------------------------------------------- */

static bool valid_account(const char *id)
{
    return id != NULL && strlen(id) == 12 && strspn(id, "0123456789") == 12;
}

int tw_audit_deriver_new(const tw_audit_derive_options *o, tw_audit_deriver **out, tw_err *err)
{
    format f;
    if (o->format != NULL && strcmp(o->format, "nginx") == 0)
        f = FORMAT_NGINX;
    else if (o->format != NULL && strcmp(o->format, "rails") == 0)
        f = FORMAT_RAILS;
    else if (o->format != NULL && strcmp(o->format, "syslog") == 0)
        f = FORMAT_SYSLOG;
    else
        return tw_err_set(err, -EINVAL, "[%s] audit events come from nginx, rails or syslog "
                                        "logs, not %.40s",
                          o->section, o->format != NULL ? o->format : "(none)");
    if (o->event_source == NULL || o->event_source[0] == '\0')
        return tw_err_set(err, -EINVAL, "[%s] audit events need an event_source", o->section);
    if (!valid_account(o->recipient_account_id))
        return tw_err_set(err, -EINVAL, "[%s] the recipient account id \"%.40s\" is not 12 "
                                        "digits",
                          o->section, o->recipient_account_id ? o->recipient_account_id : "");
    tw_audit_deriver *d = tw_calloc(1, sizeof *d);
    d->format = f;
    d->trust_forwarded_for = o->trust_forwarded_for;
    d->read_only_events = o->read_only_events;
    d->cached_second = INT64_MIN;
    d->params = (tw_rails_params)TW_RAILS_PARAMS_INIT;
    d->user_field = tw_strdup(o->user_field != NULL ? o->user_field : default_user_fields[f]);
    if ((o->routes != NULL && tw_audit_routes_new(o->routes, &d->routes, err) < 0)
        || (o->data_paths != NULL && tw_audit_paths_new(o->data_paths, &d->data_paths, err) < 0)) {
        tw_err_prefix(err, "[%s] %s", o->section,
                      d->routes == NULL && o->routes != NULL ? "audit_routes" : "data_paths");
        tw_audit_deriver_free(d);
        return -EINVAL;
    }
    TW_AUDIT_JSON_LIT(&d->source_member, ",\"eventSource\":");
    tw_audit_json_string(&d->source_member, o->event_source, strlen(o->event_source), CAP_TEXT);
    TW_AUDIT_JSON_LIT(&d->recipient_member, ",\"recipientAccountId\":");
    tw_audit_json_string(&d->recipient_member, o->recipient_account_id, 12, 12);
    *out = d;
    return 0;
}

void tw_audit_deriver_free(tw_audit_deriver *d)
{
    if (d == NULL)
        return;
    free(d->user_field);
    tw_audit_routes_free(d->routes);
    tw_audit_paths_free(d->data_paths);
    tw_buf_free(&d->source_member);
    tw_buf_free(&d->recipient_member);
    tw_rails_params_free(&d->params);
    free(d);
}

void tw_audit_event_id(uint64_t key, char out[TW_AUDIT_EVENT_ID_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[key & 0xf];
        key >>= 4;
    }
    out[16] = '\0';
}

/* ---- reading the record ---------------------------------------------------------- */

static bool is(const char *name, const char *want)
{
    return strcmp(name, want) == 0;
}

/* The slot of a known field name, or NULL. A switch on the first letter
 * keeps this to one or two comparisons per field. */
static span *slot_of(fields *f, const char *n)
{
    switch (n[0]) {
    case 'a':
        return is(n, "action") ? &f->action : is(n, "auth_result") ? &f->auth_result
               : is(n, "auth_method")                            ? &f->auth_method
                                                                 : NULL;
    case 'b':
        return is(n, "body_bytes_sent") ? &f->bytes_sent : NULL;
    case 'c':
        return is(n, "controller") ? &f->controller : is(n, "command") ? &f->command : NULL;
    case 'e':
        return is(n, "error") ? &f->error : NULL;
    case 'h':
        return is(n, "http_user_agent") ? &f->user_agent
               : is(n, "http_x_forwarded_for") ? &f->forwarded_for
               : is(n, "host")                 ? &f->host
                                               : NULL;
    case 'i':
        return is(n, "invalid_user") ? &f->invalid_user : NULL;
    case 'm':
        return is(n, "method") ? &f->method : NULL;
    case 'p':
        return is(n, "path")       ? &f->path
               : is(n, "protocol") ? &f->protocol
               : is(n, "params")   ? &f->params
               : is(n, "program")  ? &f->program
               : is(n, "pwd")      ? &f->pwd
                                   : NULL;
    case 'r':
        return is(n, "remote_addr")      ? &f->remote_addr
               : is(n, "request_id")     ? &f->request_id
               : is(n, "remote_port")    ? &f->remote_port
               : is(n, "request_method") ? &f->request_method
               : is(n, "request_uri")    ? &f->request_uri
                                         : NULL;
    case 's':
        return is(n, "status") ? &f->status : is(n, "sudo_result") ? &f->sudo_result : NULL;
    case 't':
        return is(n, "target_user") ? &f->target_user : is(n, "tty") ? &f->tty : NULL;
    case 'u':
        return is(n, "uri") ? &f->uri : NULL;
    default:
        return NULL;
    }
}

static void read_fields(const tw_audit_deriver *d, const tw_log_record *rec, fields *f)
{
    memset(f, 0, sizeof *f);
    for (unsigned i = 0; i < rec->n_fields; i++) {
        const tw_log_field *field = &rec->fields[i];
        bool user = field->name[0] == d->user_field[0] && is(field->name, d->user_field);
        span *slot = user ? &f->user : slot_of(f, field->name);
        if (slot != NULL && slot->p == NULL && field->value != NULL)
            *slot = (span){field->value, field->len};
    }
    if (f->method.p == NULL)
        f->method = f->request_method;
    if (f->path.p == NULL)
        f->path = f->request_uri.p != NULL ? f->request_uri : f->uri;
}

/* Present and not nginx's "-" for "none". */
static bool given(span s)
{
    return s.p != NULL && s.n > 0 && !(s.n == 1 && s.p[0] == '-');
}

static bool equals(span s, const char *text)
{
    size_t n = strlen(text);
    return s.n == n && memcmp(s.p, text, n) == 0;
}

static bool truthy(span s)
{
    return given(s) && !equals(s, "false") && !equals(s, "no") && !equals(s, "0");
}

/* A decimal of at most 18 digits, or -1. */
static int64_t number(span s)
{
    if (s.p == NULL || s.n == 0 || s.n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

/* ---- writing ---------------------------------------------------------------------- */

static void put_string(tw_buf *out, span s, size_t cap)
{
    tw_audit_json_string(out, s.p, s.n, cap);
}

/* {"version":...,"userIdentity":{"type":...,"principalId":... (left open
 * for details) */
static void put_head_open(tw_buf *out, const char *type, span principal)
{
    TW_AUDIT_JSON_LIT(out, "{\"version\":\"" TW_AUDIT_EVENT_VERSION "\",\"userIdentity\":{");
    TW_AUDIT_JSON_LIT(out, "\"type\":");
    tw_audit_json_string(out, type, strlen(type), CAP_TYPE);
    TW_AUDIT_JSON_LIT(out, ",\"principalId\":");
    put_string(out, principal, CAP_TEXT);
}

static void put_head(tw_buf *out, const char *type, span principal)
{
    put_head_open(out, type, principal);
    tw_audit_json_char(out, '}');
}

/* userIdentity of a web request: the user, or anonymous. */
static void put_web_identity(tw_buf *out, span user)
{
    if (given(user))
        put_head(out, "User", user);
    else
        put_head(out, "Anonymous", (span){"anonymous", 9});
}

/* The years ISO 8601's four digits can write (timefmt.h). */
#define FIRST_MS INT64_C(-62167219200000) /* 0000-01-01T00:00:00Z */
#define LAST_MS INT64_C(253402300799999)  /* 9999-12-31T23:59:59.999Z */

static void put_event_time(tw_audit_deriver *d, tw_buf *out, int64_t ms)
{
    if (ms < FIRST_MS || ms > LAST_MS)
        ms = 0; /* a parser's nonsense: the epoch, rather than no event */
    int64_t second = ms / 1000 - (ms % 1000 < 0);
    if (second != d->cached_second) {
        tw_time_format_iso8601(second * 1000, d->cached_time);
        d->cached_second = second;
    }
    TW_AUDIT_JSON_LIT(out, ",\"eventTime\":\"");
    tw_audit_json_raw(out, d->cached_time, strlen(d->cached_time));
    tw_audit_json_char(out, '"');
}

static void put_uid(tw_buf *out, span request_id, const char *id)
{
    TW_AUDIT_JSON_LIT(out, ",\"UID\":");
    if (given(request_id))
        put_string(out, request_id, CAP_TEXT);
    else
        tw_audit_json_string(out, id, strlen(id), CAP_TEXT);
}

/* The first address of a list ("a, b" or "a b"), without [brackets], when
 * it is an IPv4 or IPv6 address (the schema accepts nothing else). */
static bool first_address(span list, char text[IP_TEXT_MAX])
{
    if (list.p == NULL)
        return false;
    size_t i = 0;
    while (i < list.n && (list.p[i] == ' ' || list.p[i] == '"'))
        i++;
    size_t start = i;
    while (i < list.n && list.p[i] != ',' && list.p[i] != ' ' && list.p[i] != '"')
        i++;
    size_t len = i - start;
    const char *p = list.p + start;
    if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
        p++;
        len -= 2;
    }
    if (len == 0 || len >= IP_TEXT_MAX)
        return false;
    memcpy(text, p, len);
    text[len] = '\0';
    unsigned char addr[16];
    return inet_pton(strchr(text, ':') != NULL ? AF_INET6 : AF_INET, text, addr) == 1;
}

static void put_source_ip(tw_buf *out, const char *ip)
{
    TW_AUDIT_JSON_LIT(out, ",\"sourceIPAddress\":\"");
    tw_audit_json_raw(out, ip, strlen(ip)); /* an address: nothing to escape */
    tw_audit_json_char(out, '"');
}

static const struct reason {
    int status;
    const char *phrase;
} reasons[] = {
    {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"},
    {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
    {406, "Not Acceptable"}, {408, "Request Timeout"}, {409, "Conflict"}, {410, "Gone"},
    {411, "Length Required"}, {412, "Precondition Failed"}, {413, "Content Too Large"},
    {414, "URI Too Long"}, {415, "Unsupported Media Type"}, {416, "Range Not Satisfiable"},
    {422, "Unprocessable Content"}, {429, "Too Many Requests"},
    {444, "Connection Closed Without Response"}, {494, "Request Header Too Large"},
    {495, "SSL Certificate Error"}, {496, "SSL Certificate Required"},
    {497, "HTTP Request Sent to HTTPS Port"}, {499, "Client Closed Request"},
    {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
    {503, "Service Unavailable"}, {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"}, {507, "Insufficient Storage"},
};

/* errorCode "HTTP404", errorMessage the reason phrase (or message, when
 * the log said more: a Rails exception). */
static void put_http_error(tw_buf *out, int64_t status, span message)
{
    TW_AUDIT_JSON_LIT(out, ",\"errorCode\":\"HTTP");
    tw_audit_json_int(out, status); /* 400 to 999: three digits */
    TW_AUDIT_JSON_LIT(out, "\",\"errorMessage\":");
    if (given(message)) {
        put_string(out, message, CAP_ERROR);
        return;
    }
    const char *phrase = status < 500 ? "Client Error" : "Server Error";
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            phrase = reasons[i].phrase;
    tw_audit_json_string(out, phrase, strlen(phrase), CAP_ERROR);
}

static void put_tail_flags(tw_buf *out, bool read_only, bool data)
{
    if (read_only)
        TW_AUDIT_JSON_LIT(out, "\"readOnly\":true,\"eventCategory\":");
    else
        TW_AUDIT_JSON_LIT(out, "\"readOnly\":false,\"eventCategory\":");
    if (data)
        TW_AUDIT_JSON_LIT(out, "\"Data\"");
    else
        TW_AUDIT_JSON_LIT(out, "\"Management\"");
}

static bool read_only_method(span method)
{
    return equals(method, "GET") || equals(method, "HEAD") || equals(method, "OPTIONS");
}

/* An HTTP method token as logged (a garbage request line has none). */
static bool valid_method(span m)
{
    if (m.p == NULL || m.n == 0 || m.n > 32)
        return false;
    for (size_t i = 0; i < m.n; i++) {
        char c = m.p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* eventName for method and the split path: the route map's, else the
 * default. Returns false for a route named "-". */
static bool put_request_name(tw_audit_deriver *d, tw_buf *out, span method)
{
    TW_AUDIT_JSON_LIT(out, ",\"eventName\":\"");
    size_t name_len = 0;
    const char *name = d->routes != NULL
                           ? tw_audit_routes_match(d->routes, method.p, method.n, &d->path,
                                                   &name_len)
                           : NULL;
    if (name != NULL && name_len == 1 && name[0] == '-')
        return false;
    if (name != NULL)
        tw_audit_json_escape(out, name, name_len, CAP_TEXT, NULL);
    else
        tw_audit_default_name(out, method.p, method.n, &d->path, CAP_TEXT);
    tw_audit_json_char(out, '"');
    return true;
}

/* ---- nginx ---------------------------------------------------------------------- */

static int derive_nginx(tw_audit_deriver *d, const tw_log_record *rec, const fields *f,
                        const char *id, tw_buf *out)
{
    if (!valid_method(f->method) || !given(f->path))
        return 0;
    bool read_only = read_only_method(f->method);
    if (read_only && !d->read_only_events)
        return 0;
    tw_audit_path_split(f->path.p, f->path.n, &d->path);
    size_t mark = out->len;
    put_web_identity(out, f->user);
    if (given(f->user_agent)) {
        TW_AUDIT_JSON_LIT(out, ",\"userAgent\":");
        put_string(out, f->user_agent, CAP_TEXT);
    }
    tw_audit_json_raw(out, d->source_member.data, d->source_member.len);
    if (!put_request_name(d, out, f->method)) {
        out->len = mark;
        out->data[mark] = '\0';
        return 0;
    }
    put_event_time(d, out, rec->timestamp_ms);
    put_uid(out, f->request_id, id);
    TW_AUDIT_JSON_LIT(out, ",\"requestParameters\":{\"httpMethod\":");
    put_string(out, f->method, 32);
    TW_AUDIT_JSON_LIT(out, ",\"path\":");
    tw_audit_json_string(out, d->path.text, d->path.len, CAP_PATH);
    if (given(f->protocol)) {
        TW_AUDIT_JSON_LIT(out, ",\"protocol\":");
        put_string(out, f->protocol, 64);
    }
    tw_audit_json_char(out, '}');
    int64_t status = number(f->status);
    if (status >= 400 && status <= 999)
        put_http_error(out, status, (span){NULL, 0});
    char ip[IP_TEXT_MAX];
    bool forwarded = d->trust_forwarded_for && first_address(f->forwarded_for, ip);
    if (forwarded || first_address(f->remote_addr, ip))
        put_source_ip(out, ip);
    tw_audit_json_raw(out, d->recipient_member.data, d->recipient_member.len);
    TW_AUDIT_JSON_LIT(out, ",\"additionalEventData\":{");
    put_tail_flags(out, read_only, d->data_paths != NULL
                                       && tw_audit_paths_match(d->data_paths, &d->path));
    if (status >= 0) {
        TW_AUDIT_JSON_LIT(out, ",\"httpStatus\":");
        tw_audit_json_int(out, status);
    }
    int64_t bytes = number(f->bytes_sent);
    if (bytes >= 0) {
        TW_AUDIT_JSON_LIT(out, ",\"bytesSent\":");
        tw_audit_json_int(out, bytes);
    }
    if (!forwarded && given(f->forwarded_for)) { /* kept, not trusted */
        TW_AUDIT_JSON_LIT(out, ",\"forwardedFor\":");
        put_string(out, f->forwarded_for, CAP_TEXT);
    }
    TW_AUDIT_JSON_LIT(out, "}}");
    return 1;
}

/* ---- rails ------------------------------------------------------------------------ */

/* Rails' own REST actions that only read. */
static bool read_only_action(span action)
{
    return equals(action, "index") || equals(action, "show") || equals(action, "new")
           || equals(action, "edit");
}

/* params as requestParameters: converted, or kept as one string when they
 * cannot be read, or {"omitted":true} when over the schema's 100 KB. */
static void put_rails_params(tw_audit_deriver *d, tw_buf *out, span params)
{
    TW_AUDIT_JSON_LIT(out, ",\"requestParameters\":");
    size_t start = out->len, floats = 0;
    if (tw_rails_params_to_json(&d->params, params.p, params.n, out, &floats) < 0) {
        TW_AUDIT_JSON_LIT(out, "{\"rawParameters\":");
        put_string(out, params, CAP_RAW_PARAMS);
        tw_audit_json_char(out, '}');
    }
    if (out->len - start + floats * FLOAT_GROWTH > PARAMS_MAX_BYTES) {
        out->len = start;
        out->data[start] = '\0';
        TW_AUDIT_JSON_LIT(out, "{\"omitted\":true}");
    }
}

/* errorCode for an exception without a status: its class name. */
static span exception_class(span error)
{
    size_t n = 0;
    while (n < error.n && error.p[n] != ' ' && error.p[n] != '(' && error.p[n] != ',')
        n++;
    if (n > 0 && error.p[n - 1] == ':')
        n--;
    return (span){error.p, n};
}

static int derive_rails(tw_audit_deriver *d, const tw_log_record *rec, const fields *f,
                        const char *id, tw_buf *out)
{
    bool named = given(f->controller) && given(f->action);
    bool request = valid_method(f->method) && given(f->path);
    if (!named && !request)
        return 0;
    bool read_only = f->method.p != NULL ? read_only_method(f->method)
                                         : read_only_action(f->action);
    if (read_only && !d->read_only_events)
        return 0;
    tw_audit_path_split(given(f->path) ? f->path.p : "", given(f->path) ? f->path.n : 0,
                        &d->path);
    put_web_identity(out, f->user);
    tw_audit_json_raw(out, d->source_member.data, d->source_member.len);
    if (named) {
        TW_AUDIT_JSON_LIT(out, ",\"eventName\":\"");
        size_t chars = tw_audit_json_escape(out, f->controller.p, f->controller.n, CAP_TEXT - 1,
                                            NULL);
        tw_audit_json_char(out, '#');
        tw_audit_json_escape(out, f->action.p, f->action.n, CAP_TEXT - 1 - chars, NULL);
        tw_audit_json_char(out, '"');
    } else {
        put_request_name(d, out, f->method); /* data_paths only: no routes for rails */
    }
    put_event_time(d, out, rec->timestamp_ms);
    put_uid(out, f->request_id, id);
    if (given(f->params))
        put_rails_params(d, out, f->params);
    int64_t status = number(f->status);
    if (status >= 400 && status <= 999) {
        put_http_error(out, status, f->error);
    } else if (given(f->error)) {
        TW_AUDIT_JSON_LIT(out, ",\"errorCode\":");
        put_string(out, exception_class(f->error), CAP_ERROR);
        TW_AUDIT_JSON_LIT(out, ",\"errorMessage\":");
        put_string(out, f->error, CAP_ERROR);
    }
    char ip[IP_TEXT_MAX];
    if (first_address(f->remote_addr, ip))
        put_source_ip(out, ip);
    tw_audit_json_raw(out, d->recipient_member.data, d->recipient_member.len);
    TW_AUDIT_JSON_LIT(out, ",\"additionalEventData\":{");
    put_tail_flags(out, read_only, d->data_paths != NULL
                                       && tw_audit_paths_match(d->data_paths, &d->path));
    if (status >= 0) {
        TW_AUDIT_JSON_LIT(out, ",\"httpStatus\":");
        tw_audit_json_int(out, status);
    }
    if (valid_method(f->method)) {
        TW_AUDIT_JSON_LIT(out, ",\"httpMethod\":");
        put_string(out, f->method, 32);
    }
    if (given(f->path)) {
        TW_AUDIT_JSON_LIT(out, ",\"path\":");
        tw_audit_json_string(out, d->path.text, d->path.len, CAP_PATH);
    }
    TW_AUDIT_JSON_LIT(out, "}}");
    return 1;
}

/* ---- syslog: logins and sudo ---------------------------------------------------------- */

/* ,"additionalEventData":{"readOnly":false,"eventCategory":"Management","host":...} */
static void put_syslog_tail(tw_audit_deriver *d, tw_buf *out, const fields *f)
{
    tw_audit_json_raw(out, d->recipient_member.data, d->recipient_member.len);
    TW_AUDIT_JSON_LIT(out, ",\"additionalEventData\":{");
    put_tail_flags(out, false, false);
    if (given(f->host)) {
        TW_AUDIT_JSON_LIT(out, ",\"host\":");
        put_string(out, f->host, 255);
    }
    if (given(f->program)) {
        TW_AUDIT_JSON_LIT(out, ",\"program\":");
        put_string(out, f->program, 255);
    }
    TW_AUDIT_JSON_LIT(out, "}}");
}

static void put_optional(tw_buf *out, const char *member, span value, size_t cap, bool *first)
{
    if (!given(value))
        return;
    if (!*first)
        tw_audit_json_char(out, ',');
    *first = false;
    tw_audit_json_char(out, '"');
    tw_buf_puts(out, member);
    TW_AUDIT_JSON_LIT(out, "\":");
    put_string(out, value, cap);
}

static int derive_login(tw_audit_deriver *d, const tw_log_record *rec, const fields *f,
                        const char *id, tw_buf *out)
{
    bool success = equals(f->auth_result, "accepted");
    bool invalid = truthy(f->invalid_user);
    span user = given(f->user) ? f->user : (span){"unknown", 7};
    put_head_open(out, invalid ? "Unknown" : "UnixUser", user);
    TW_AUDIT_JSON_LIT(out, ",\"details\":{\"invalidUser\":");
    if (invalid)
        TW_AUDIT_JSON_LIT(out, "true}}");
    else
        TW_AUDIT_JSON_LIT(out, "false}}");
    tw_audit_json_raw(out, d->source_member.data, d->source_member.len);
    TW_AUDIT_JSON_LIT(out, ",\"eventName\":\"SshLogin\"");
    put_event_time(d, out, rec->timestamp_ms);
    put_uid(out, (span){NULL, 0}, id);
    TW_AUDIT_JSON_LIT(out, ",\"requestParameters\":{");
    bool first = true;
    put_optional(out, "userName", user, CAP_TEXT, &first);
    put_optional(out, "authMethod", f->auth_method, 64, &first);
    int64_t port = number(f->remote_port);
    if (port >= 0 && port <= 65535) {
        if (!first)
            tw_audit_json_char(out, ',');
        TW_AUDIT_JSON_LIT(out, "\"sourcePort\":");
        tw_audit_json_int(out, port);
    }
    tw_audit_json_char(out, '}');
    if (success) {
        TW_AUDIT_JSON_LIT(out, ",\"responseElements\":{\"SshLogin\":\"Success\"}");
    } else {
        TW_AUDIT_JSON_LIT(out, ",\"responseElements\":{\"SshLogin\":\"Failure\"},"
                               "\"errorCode\":\"AuthenticationFailed\",\"errorMessage\":");
        tw_buf *b = &d->params.decoded; /* scratch */
        tw_buf_reset(b);
        tw_buf_puts(b, "Failed ");
        if (given(f->auth_method))
            tw_buf_append(b, f->auth_method.p, f->auth_method.n < 64 ? f->auth_method.n : 64);
        else
            tw_buf_puts(b, "authentication");
        tw_buf_puts(b, invalid ? " for invalid user" : " for user");
        tw_audit_json_string(out, b->data, b->len, CAP_ERROR);
    }
    char ip[IP_TEXT_MAX];
    if (first_address(f->remote_addr, ip))
        put_source_ip(out, ip);
    put_syslog_tail(d, out, f);
    return 1;
}

/* sudo_result: absent (the command ran) or a word for success; anything
 * else ("user NOT in sudoers", "3 incorrect password attempts") is the
 * reason it was refused. */
static bool sudo_allowed(span result)
{
    return !given(result) || equals(result, "allowed") || equals(result, "accepted")
           || equals(result, "success") || equals(result, "ok");
}

static int derive_sudo(tw_audit_deriver *d, const tw_log_record *rec, const fields *f,
                       const char *id, tw_buf *out)
{
    put_head(out, "UnixUser", given(f->user) ? f->user : (span){"unknown", 7});
    tw_audit_json_raw(out, d->source_member.data, d->source_member.len);
    TW_AUDIT_JSON_LIT(out, ",\"eventName\":\"Sudo\"");
    put_event_time(d, out, rec->timestamp_ms);
    put_uid(out, (span){NULL, 0}, id);
    TW_AUDIT_JSON_LIT(out, ",\"requestParameters\":{");
    bool first = true;
    put_optional(out, "targetUser", f->target_user, CAP_TEXT, &first);
    put_optional(out, "command", f->command, 4096, &first);
    put_optional(out, "tty", f->tty, 255, &first);
    put_optional(out, "pwd", f->pwd, 4096, &first);
    tw_audit_json_char(out, '}');
    if (sudo_allowed(f->sudo_result)) {
        TW_AUDIT_JSON_LIT(out, ",\"responseElements\":{\"Sudo\":\"Success\"}");
    } else {
        TW_AUDIT_JSON_LIT(out, ",\"responseElements\":{\"Sudo\":\"Failure\"},"
                               "\"errorCode\":\"SudoRefused\",\"errorMessage\":");
        put_string(out, f->sudo_result, CAP_ERROR);
    }
    put_syslog_tail(d, out, f);
    return 1;
}

static int derive_syslog(tw_audit_deriver *d, const tw_log_record *rec, const fields *f,
                         const char *id, tw_buf *out)
{
    if (equals(f->auth_result, "accepted") || equals(f->auth_result, "failed"))
        return derive_login(d, rec, f, id, out);
    if (equals(f->program, "sudo") && given(f->sudo_result))
        return derive_sudo(d, rec, f, id, out);
    return 0;
}

/* ---- entry ----------------------------------------------------------------------- */

int tw_audit_derive(tw_audit_deriver *d, const tw_log_record *rec, uint64_t key, tw_buf *out)
{
    if (!rec->parsed || rec->n_fields == 0)
        return 0;
    fields f;
    read_fields(d, rec, &f);
    char id[TW_AUDIT_EVENT_ID_SIZE];
    tw_audit_event_id(key, id);
    size_t mark = out->len;
    tw_buf_reserve(out, 1024);
    int made;
    switch (d->format) {
    case FORMAT_NGINX:
        made = derive_nginx(d, rec, &f, id, out);
        break;
    case FORMAT_RAILS:
        made = derive_rails(d, rec, &f, id, out);
        break;
    default:
        made = derive_syslog(d, rec, &f, id, out);
        break;
    }
    if (made == 0) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return made;
}
