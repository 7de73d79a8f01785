/* test_parser_nginx.c — format = nginx (plugins/parser_nginx): every real
 * access log in the shared test data is accounted for line by line (one
 * record per line, the line as its message, parsed or shipped raw), fields
 * hand-checked against the files, binary requests unescaped to valid UTF-8,
 * IPv6, "-", \x22 inside a request, custom formats (request_id,
 * request_time, upstream lists, escape=json, msec), and the parse speed
 * (printed, never asserted). The log_format compiler and the unescaping
 * themselves are pinned in test_nginx_format.c. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "log_parser.h"
#include "mem.h"
#include "nginx_format.h"
#include "parser_nginx.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define ACCESS_DIR   TW_TESTDATA_DIR "/logs/nginx-access"
/* When the tail read every line (epoch ms): what an unparsed record gets. */
#define READ_MS INT64_C(1700000000000)

/* The formats the sample files were written with. */
#define HOST_FORMAT "$host " TW_NGINX_COMBINED
#define MAIN_FORMAT TW_NGINX_COMBINED " \"$http_x_forwarded_for\""
/* Kubernetes ingress-nginx's "upstreaminfo". */
#define INGRESS_FORMAT                                                                      \
    TW_NGINX_COMBINED " $request_length $request_time [$proxy_upstream_name] "              \
                      "[$proxy_alternative_upstream_name] $upstream_addr "                  \
                      "$upstream_response_length $upstream_response_time $upstream_status " \
                      "$req_id"
/* Nginx Proxy Manager's "proxy" and "standard" formats. */
#define NPM_PROXY_FORMAT                                                                  \
    "[$time_local] $upstream_cache_status $upstream_status $status - $request_method "    \
    "$scheme $host \"$request_uri\" [Client $remote_addr] [Length $body_bytes_sent] "     \
    "[Gzip $gzip_ratio] [Sent-to $server] \"$http_user_agent\" \"$http_referer\""
#define NPM_STANDARD_FORMAT                                                               \
    "[$time_local] $status - $request_method $scheme $host \"$request_uri\" "             \
    "[Client $remote_addr] [Length $body_bytes_sent] [Gzip $gzip_ratio] "                 \
    "\"$http_user_agent\" \"$http_referer\""
#define NPMPLUS_FORMAT                                                                    \
    "[$time_local] $host $remote_addr $request_time \"$request\" $status $body_bytes_sent " \
    "$request_length $http_referer $http_user_agent"

/* ---- records kept past the emit callback ------------------------------- */

typedef struct saved_field {
    char *name, *value;
    size_t len;
} saved_field;

typedef struct saved_record {
    char *message;
    size_t message_len;
    int64_t timestamp_ms;
    uint64_t offset, end;
    bool parsed;
    unsigned n_fields;
    saved_field fields[TW_LOG_MAX_FIELDS];
} saved_record;

typedef struct collector {
    saved_record *records;
    size_t n, cap;
} collector;

static void collect(void *ctx, const tw_log_record *r)
{
    collector *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->records = tw_realloc(c->records, c->cap * sizeof *c->records);
    }
    saved_record *s = &c->records[c->n++];
    s->message = tw_memdup(r->message, r->message_len);
    s->message_len = r->message_len;
    s->timestamp_ms = r->timestamp_ms;
    s->offset = r->offset;
    s->end = r->end;
    s->parsed = r->parsed;
    assert_true(r->n_fields <= TW_LOG_MAX_FIELDS);
    s->n_fields = r->n_fields;
    for (unsigned i = 0; i < r->n_fields; i++) {
        assert_non_null(r->fields[i].name);
        s->fields[i].name = tw_strdup(r->fields[i].name);
        s->fields[i].value = tw_memdup(r->fields[i].value, r->fields[i].len);
        s->fields[i].len = r->fields[i].len;
    }
}

static void collector_free(collector *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->records[i].message);
        for (unsigned f = 0; f < c->records[i].n_fields; f++) {
            free(c->records[i].fields[f].name);
            free(c->records[i].fields[f].value);
        }
    }
    free(c->records);
    *c = (collector){NULL, 0, 0};
}

/* The field's value (NUL-terminated) or NULL. */
static const char *field(const saved_record *r, const char *name)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return r->fields[i].value;
    return NULL;
}

static const char *field_len(const saved_record *r, const char *name, size_t *len)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0) {
            *len = r->fields[i].len;
            return r->fields[i].value;
        }
    return NULL;
}

/* Checks "name=value" (exact) and "!name" (absent) expectations. */
static void assert_fields(const saved_record *r, const char *const *expected, const char *where)
{
    for (size_t i = 0; expected[i] != NULL; i++) {
        const char *e = expected[i];
        if (e[0] == '!') {
            if (field(r, e + 1) != NULL)
                fail_msg("%s: field %s should be absent, is \"%s\"", where, e + 1, field(r, e + 1));
            continue;
        }
        const char *eq = strchr(e, '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - e), e);
        const char *got = field(r, name);
        if (got == NULL || strcmp(got, eq + 1) != 0)
            fail_msg("%s: field %s is \"%s\", expected \"%s\"", where, name, got ? got : "(absent)",
                     eq + 1);
    }
}

/* ---- lines of a file, fed as the tail would ----------------------------- */

typedef struct lines {
    char *data;
    size_t n;
    size_t *start, *len;
} lines;

static void read_lines(const char *path, lines *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *data = NULL;
    size_t size = 0, cap = 0, got;
    do {
        if (size + 4096 > cap)
            data = tw_realloc(data, cap = (cap + 4096) * 2);
        got = fread(data + size, 1, 4096, f);
        size += got;
    } while (got > 0);
    fclose(f);
    *out = (lines){data, 0, NULL, NULL};
    for (size_t at = 0; at < size;) {
        char *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        out->start = tw_realloc(out->start, (out->n + 1) * sizeof *out->start);
        out->len = tw_realloc(out->len, (out->n + 1) * sizeof *out->len);
        out->start[out->n] = at;
        out->len[out->n] = end - at;
        out->n++;
        at = end + 1;
    }
}

static void lines_free(lines *l)
{
    free(l->data);
    free(l->start);
    free(l->len);
}

static void feed_text(void *state, const char *text, size_t len, uint64_t offset, collector *c)
{
    tw_log_line line = {text, len, offset, offset + len + 1, READ_MS, false};
    tw_parser_nginx.feed(state, &line, collect, c);
}

static void *create(const char *log_format)
{
    tw_log_parser_options options = {.section = "test", .log_format = log_format};
    void *state = NULL;
    tw_err err = {{0}};
    int rc = tw_parser_nginx.create(&options, &state, &err);
    if (rc != 0)
        fail_msg("log_format rejected: %s", err.msg);
    return state;
}

static void parse_file(const char *name, const char *log_format, lines *l, collector *c)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ACCESS_DIR, name);
    read_lines(path, l);
    void *state = create(log_format);
    for (size_t i = 0; i < l->n; i++)
        feed_text(state, l->data + l->start[i], l->len[i], l->start[i], c);
    tw_parser_nginx.destroy(state);
}

/* One line through a parser of that format. */
static void parse_one(const char *log_format, const char *text, collector *c)
{
    void *state = create(log_format);
    feed_text(state, text, strlen(text), 0, c);
    tw_parser_nginx.destroy(state);
    assert_int_equal(c->n, 1);
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        int second_min, second_max;
        size_t n = 1;
        second_min = 0x80, second_max = 0xBF;
        if (s[i] < 0x80) {
            i++;
            continue;
        } else if (s[i] >= 0xC2 && s[i] <= 0xDF) {
            n = 2;
        } else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
            n = 3;
            second_min = s[i] == 0xE0 ? 0xA0 : 0x80;
            second_max = s[i] == 0xED ? 0x9F : 0xBF;
        } else if (s[i] >= 0xF0 && s[i] <= 0xF4) {
            n = 4;
            second_min = s[i] == 0xF0 ? 0x90 : 0x80;
            second_max = s[i] == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (len - i < n || s[i + 1] < second_min || s[i + 1] > second_max)
            return false;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += n;
    }
    return true;
}

/* ---- every file, every line --------------------------------------------- */

static const struct access_file {
    const char *name;
    const char *log_format; /* NULL: combined */
    size_t lines, parsed;
} access_files[] = {
    {"beats-nginx-access-test.log", NULL, 7, 7},
    {"beats-nginx-access-test-with-host.log", HOST_FORMAT, 10, 10},
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 29, 29},
    {"crowdsec-ipv6-postoverflow.log", NULL, 2, 2},
    {"crowdsec-nginx-http-malformed.log", NULL, 12, 12},
    /* Standard-format, combined and error-log lines are not of this format. */
    {"crowdsec-nginx-proxy-manager-logs.log", NPM_PROXY_FORMAT, 14, 6},
    /* A line missing remote_user's field, and an error-log line. */
    {"crowdsec-nginx_http-logs.log", NULL, 9, 7},
    /* Two error-log lines. */
    {"crowdsec-npmplus-logs.log", NPMPLUS_FORMAT, 10, 8},
    {"lnav-logfile_shop_access_log.0", MAIN_FORMAT, 1000, 1000},
};

static const struct access_file *find_access_file(const char *name)
{
    for (size_t i = 0; i < COUNT(access_files); i++)
        if (strcmp(access_files[i].name, name) == 0)
            return &access_files[i];
    return NULL;
}

/* One record per line, in order, the line as its message and its offsets;
 * an unparsed record has no fields and the read time; a parsed one has its
 * time from the line and only valid UTF-8 in its fields. */
static size_t check_accounting(const char *name, const lines *l, const collector *c)
{
    if (c->n != l->n)
        fail_msg("%s: %zu records for %zu lines", name, c->n, l->n);
    size_t parsed = 0;
    for (size_t i = 0; i < l->n; i++) {
        const saved_record *r = &c->records[i];
        if (r->message_len != l->len[i] || memcmp(r->message, l->data + l->start[i], l->len[i]))
            fail_msg("%s:%zu: the message is not the line", name, i + 1);
        assert_int_equal(r->offset, l->start[i]);
        assert_int_equal(r->end, l->start[i] + l->len[i] + 1);
        if (!r->parsed) {
            assert_int_equal(r->n_fields, 0);
            assert_int_equal(r->timestamp_ms, READ_MS);
            continue;
        }
        parsed++;
        assert_true(r->timestamp_ms != READ_MS);
        for (unsigned f = 0; f < r->n_fields; f++)
            if (!valid_utf8((const unsigned char *)r->fields[f].value, r->fields[f].len))
                fail_msg("%s:%zu: field %s is not valid UTF-8", name, i + 1, r->fields[f].name);
    }
    return parsed;
}

static void test_every_access_log_line_is_accounted_for(void **state)
{
    (void)state;
    DIR *dir = opendir(ACCESS_DIR);
    assert_non_null(dir);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        const struct access_file *known = find_access_file(e->d_name);
        lines l;
        collector c = {NULL, 0, 0};
        parse_file(e->d_name, known ? known->log_format : NULL, &l, &c);
        size_t parsed = check_accounting(e->d_name, &l, &c);
        print_message("%-45s %4zu lines, %4zu parsed\n", e->d_name, l.n, parsed);
        if (known != NULL) {
            assert_int_equal(l.n, known->lines);
            assert_int_equal(parsed, known->parsed);
            files++;
        }
        collector_free(&c);
        lines_free(&l);
    }
    closedir(dir);
    assert_int_equal(files, COUNT(access_files));
}

/* ---- hand-checked lines ------------------------------------------------- */

typedef struct expected_line {
    const char *file;
    const char *log_format;
    size_t line;          /* 1-based */
    int64_t timestamp_ms; /* 0: not parsed */
    const char *fields[24];
} expected_line;

#define FIREFOX49 "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"

static const expected_line expected_lines[] = {
    {"beats-nginx-access-test.log", NULL, 1, INT64_C(1481105107000),
     {"remote_addr=10.0.0.2, 10.0.0.1, 127.0.0.1", "!remote_user",
      "time_local=07/Dec/2016:11:05:07 +0100", "request=GET /ocelot HTTP/1.1", "method=GET",
      "path=/ocelot", "protocol=HTTP/1.1", "status=200", "body_bytes_sent=571", "!http_referer",
      "http_user_agent=" FIREFOX49, NULL}},
    /* An extra trailing "-" after the user agent is not part of it. */
    {"beats-nginx-access-test.log", NULL, 2, INT64_C(1496084568000),
     {"remote_addr=172.17.0.1", "status=404", "path=/stringpatch",
      "http_user_agent=Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2",
      NULL}},
    {"beats-nginx-access-test.log", NULL, 5, INT64_C(1453468709000),
     {"remote_addr=\"10.5.102.222, 199.96.1.1, 204.246.1.1\" 10.2.1.185",
      "path=/assets/xxxx?q=100", "body_bytes_sent=25507", "http_user_agent=Amazon CloudFront",
      NULL}},
    {"beats-nginx-access-test.log", NULL, 6, INT64_C(1483080429000),
     {"remote_addr=2a03:0000:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121",
      "status=404", "body_bytes_sent=8571", "path=/test.html", NULL}},
    /* An empty request: no request, method or path; "0" bytes is a value. */
    {"beats-nginx-access-test.log", NULL, 7, INT64_C(1523519320000),
     {"remote_addr=127.0.0.1", "!request", "!method", "!path", "status=400",
      "body_bytes_sent=0", "!http_user_agent", NULL}},
    {"beats-nginx-access-test-with-host.log", HOST_FORMAT, 4, INT64_C(1481105107000),
     {"host=example.com:80", "remote_addr=81.2.69.143", "method=GET", NULL}},
    {"beats-nginx-access-test-with-host.log", HOST_FORMAT, 6, INT64_C(1483080429000),
     {"host=1.128.3.4", "remote_addr=2a02:cf40:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121",
      NULL}},
    /* A unix-socket client and a request line that is not HTTP. */
    {"beats-nginx-access-test-with-host.log", HOST_FORMAT, 8, INT64_C(1551191982000),
     {"host=example.com:80", "remote_addr=unix:", "request=hello", "!method", "!path",
      "status=400", "body_bytes_sent=173", NULL}},
    {"beats-nginx-access-test-with-host.log", HOST_FORMAT, 10, INT64_C(1496084568000),
     {"host=example.com", "remote_addr=localhost, localhost", "path=/test2", NULL}},
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 1, INT64_C(1581076131000),
     {"remote_addr=192.168.64.1", "method=POST", "path=/products", "status=200",
      "body_bytes_sent=59", "http_user_agent=curl/7.54.0", "request_length=89",
      "request_time=0.001", "proxy_upstream_name=default-web-8080",
      "!proxy_alternative_upstream_name", "upstream_addr=172.17.0.5:8080",
      "upstream_response_length=59", "upstream_response_time=0.000", "upstream_status=200",
      "req_id=529a007902362a5f51385a5fa7049884", NULL}},
    /* An invalid method: nginx answered 400 and never reached an upstream. */
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 5, INT64_C(1581076190000),
     {"method=PATCHp", "path=/products/42", "status=400", "!http_user_agent",
      "request_length=0", "!proxy_upstream_name", "!upstream_addr", "!upstream_status",
      "req_id=4c7d2079340e68353c7d0dfff00b904b", NULL}},
    /* Two upstreams tried: nginx's ", " lists inside space-separated fields. */
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 23, INT64_C(1581076962000),
     {"remote_addr=192.168.64.14", "path=/v2/some", "upstream_addr=172.17.0.6:8080, 172.17.0.7:8080",
      "upstream_response_length=61, 100", "upstream_response_time=0.100, 0.004",
      "upstream_status=200, 203", "req_id=835136ae24486dbb4156dcbe21f5d402", NULL}},
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 25, INT64_C(1661375057000),
     {"remote_addr=2a02:cf40::", "remote_user=remote_monitoring_user", "path=/_bulk",
      "upstream_addr=[2a02:cf40::]:9200", "proxy_upstream_name=esmon-esmon-es-http-9200", NULL}},
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 27, INT64_C(1661364341000),
     {"remote_addr=2a02:cf40::4e36", "protocol=HTTP/2.0",
      "upstream_addr=[2a02:cf40::7]:5000, [2a02:cf40::::::::4e36]:500000000",
      "upstream_status=502, 502", NULL}},
    {"beats-nginx-ingress-controller-test.log", INGRESS_FORMAT, 29, INT64_C(1581076962000),
     {"upstream_addr=172.17.0.6:8080, 172.17.0.7:8080", "!upstream_response_length",
      "upstream_response_time=0.100, -", "upstream_status=200, -", NULL}},
    {"crowdsec-ipv6-postoverflow.log", NULL, 1, INT64_C(1632917494000),
     {"remote_addr=2001:0db8:85a3:0000:0000:8a2e:0370:7334", "method=HEAD", "path=/",
      "status=200", "body_bytes_sent=0",
      "http_user_agent=Mozilla/5.00 (Nikto/2.1.5) (Evasions:None) (Test:Port Check)", NULL}},
    {"crowdsec-nginx-http-malformed.log", NULL, 5, INT64_C(1690651566000),
     {"request=HELP", "!method", "status=400", "body_bytes_sent=157", NULL}},
    {"crowdsec-nginx-http-malformed.log", NULL, 7, INT64_C(1690651567000),
     {"remote_addr=1.2.3.4", "request=batman", "!method", NULL}},
    {"crowdsec-nginx_http-logs.log", NULL, 4, INT64_C(1591603483000),
     {"remote_addr=www.crowdsec.net 192.168.1.1", "path=/solr/admin/info/system?wt=json",
      "status=500", NULL}},
    {"crowdsec-nginx_http-logs.log", NULL, 7, INT64_C(1591603483000),
     {"remote_user=user123", "path=/api/login", "http_user_agent=curl/7.68.0", NULL}},
    {"crowdsec-nginx_http-logs.log", NULL, 8, 0, {NULL}},
    {"crowdsec-nginx_http-logs.log", NULL, 9, 0, {NULL}},
    {"crowdsec-nginx-proxy-manager-logs.log", NPM_PROXY_FORMAT, 1, INT64_C(1643043062000),
     {"!upstream_cache_status", "upstream_status=404", "status=404", "request_method=GET",
      "scheme=http", "host=openresty.local", "request_uri=/sdfdsf", "remote_addr=1.2.3.4",
      "body_bytes_sent=192", "gzip_ratio=3.10", "server=openresty", "!http_referer",
      "method=GET", "path=/sdfdsf", "!protocol", NULL}},
    {"crowdsec-nginx-proxy-manager-logs.log", NPM_PROXY_FORMAT, 7, INT64_C(1759329135000),
     {"upstream_cache_status=HIT", "scheme=https", "host=example.com", "request_uri=/api/users",
      "remote_addr=192.168.1.100", "body_bytes_sent=1543", "server=10.0.0.15:8080",
      "http_referer=https://example.com/dashboard", NULL}},
    {"crowdsec-nginx-proxy-manager-logs.log", NPM_PROXY_FORMAT, 2, 0, {NULL}},
    {"crowdsec-nginx-proxy-manager-logs.log", NPM_PROXY_FORMAT, 3, 0, {NULL}},
    {"crowdsec-nginx-proxy-manager-logs.log", NPM_STANDARD_FORMAT, 3, INT64_C(1643031619000),
     {"status=444", "request_method=GET", "scheme=https", "host=4.3.2.1", "request_uri=/.env",
      "remote_addr=207.32.219.89", "body_bytes_sent=0", "!gzip_ratio", "!http_referer", NULL}},
    {"crowdsec-npmplus-logs.log", NPMPLUS_FORMAT, 3, INT64_C(1707596612000),
     {"host=mx.example.org", "remote_addr=192.168.1.100", "request_time=0.227",
      "method=REPORT", "path=/SOGo/dav/abc@example.org/Calendar/personal/", "protocol=HTTP/2.0",
      "status=207", "body_bytes_sent=125", "request_length=440", "!http_referer",
      "http_user_agent=Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 "
      "Thunderbird/123.0",
      NULL}},
    {"crowdsec-npmplus-logs.log", NPMPLUS_FORMAT, 10, INT64_C(1707596715000),
     {"http_referer=https://search.example.com/results?q=booking", "path=/dashboard", NULL}},
    {"crowdsec-npmplus-logs.log", NPMPLUS_FORMAT, 1, 0, {NULL}},
    {"lnav-logfile_shop_access_log.0", MAIN_FORMAT, 1, INT64_C(1548116774000),
     {"remote_addr=54.36.149.41", "status=200", "body_bytes_sent=30577",
      "path=/filter/27|13%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,27|%DA%A9%D9%85%D8"
      "%AA%D8%B1%20%D8%A7%D8%B2%205%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,p53",
      "http_user_agent=Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)",
      "!http_x_forwarded_for", NULL}},
    /* googleweblight: the proxy's client in X-Forwarded-For. */
    {"lnav-logfile_shop_access_log.0", MAIN_FORMAT, 648, INT64_C(1548116906000),
     {"remote_addr=66.249.83.1", "status=302", "http_x_forwarded_for=103.28.132.65", NULL}},
    {"lnav-logfile_shop_access_log.0", MAIN_FORMAT, 1000, INT64_C(1548116951000),
     {"remote_addr=89.47.79.75", "path=/static/images/search-category-arrow.png",
      "http_referer=https://znbl.ir/static/bundle-bundle_site_head.css", NULL}},
};

static void test_hand_checked_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(expected_lines); i++) {
        const expected_line *x = &expected_lines[i];
        lines l;
        collector c = {NULL, 0, 0};
        parse_file(x->file, x->log_format, &l, &c);
        assert_true(x->line <= c.n);
        const saved_record *r = &c.records[x->line - 1];
        char where[160];
        snprintf(where, sizeof where, "%s:%zu", x->file, x->line);
        if (r->parsed != (x->timestamp_ms != 0))
            fail_msg("%s: parsed is %d", where, r->parsed);
        if (x->timestamp_ms != 0 && r->timestamp_ms != x->timestamp_ms)
            fail_msg("%s: timestamp %lld, expected %lld", where, (long long)r->timestamp_ms,
                     (long long)x->timestamp_ms);
        assert_fields(r, x->fields, where);
        collector_free(&c);
        lines_free(&l);
    }
}

/* TLS and binary garbage sent to a plain-HTTP port: nginx logs it \xHH-escaped.
 * Bytes that form no UTF-8 stay escaped, the rest is unescaped. */
static void test_binary_requests_are_unescaped_to_valid_utf8(void **state)
{
    (void)state;
    lines l;
    collector c = {NULL, 0, 0};
    parse_file("crowdsec-nginx-http-malformed.log", NULL, &l, &c);
    const saved_record *r = &c.records[7]; /* "\x16\x03\x01\x00t\x01..." */
    assert_true(r->parsed);
    const char *request = field(r, "request");
    assert_non_null(request);
    static const char start[] = "\x16\x03\x01\x00t\x01\x00\x00p\x03\x01YF}\\xF6\x7F"
                                "3\xD3\xA2'O";
    assert_memory_equal(request, start, sizeof start - 1);
    assert_null(field(r, "method"));
    collector_free(&c);
    lines_free(&l);

    /* NPMplus: a ClientHello holding 0x22, which nginx wrote as \x22. */
    parse_file("crowdsec-npmplus-logs.log", NPMPLUS_FORMAT, &l, &c);
    r = &c.records[7];
    assert_true(r->parsed);
    assert_string_equal(field(r, "host"), "_");
    assert_string_equal(field(r, "status"), "400");
    size_t len = 0;
    request = field_len(r, "request", &len);
    assert_non_null(request);
    static const char quote[] = "\x1C=\"\\xE1\x1A";
    assert_non_null(memmem(request, len, quote, sizeof quote - 1));
    assert_null(field(r, "http_user_agent"));
    collector_free(&c);
    lines_free(&l);
}

static void test_adjacent_variables_split_by_what_they_hold(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one("$scheme://$host$request_uri $status$body_bytes_sent",
              "https://example.com:8443/a/b?c=d 200", &c);
    assert_true(c.records[0].parsed);
    static const char *const want[] = {"scheme=https", "host=example.com:8443",
                                       "request_uri=/a/b?c=d", "status=200",
                                       "!body_bytes_sent", NULL};
    assert_fields(&c.records[0], want, "adjacent");
    collector_free(&c);
}

/* ---- parsing lines ------------------------------------------------------ */

static void test_quote_escaped_inside_request_stays_inside(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one(NULL,
              "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /q?s=\\x22hi\\x22 HTTP/1.1\" 200 5 "
              "\"-\" \"curl/8.0 \\x22x\\x22\"",
              &c);
    const saved_record *r = &c.records[0];
    assert_true(r->parsed);
    assert_int_equal(r->timestamp_ms, INT64_C(971211336000));
    static const char *const want[] = {"request=GET /q?s=\"hi\" HTTP/1.1", "method=GET",
                                       "path=/q?s=\"hi\"", "protocol=HTTP/1.1", "status=200",
                                       "http_user_agent=curl/8.0 \"x\"", NULL};
    assert_fields(r, want, "x22");
    collector_free(&c);
}

static void test_ipv6_and_dash_fields(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one(NULL,
              "2001:db8::1 - alice [10/Oct/2000:13:55:36 -0700] \"DELETE /orders/123 HTTP/2.0\" "
              "204 - \"-\" \"-\"",
              &c);
    static const char *const want[] = {"remote_addr=2001:db8::1", "remote_user=alice",
                                       "method=DELETE", "path=/orders/123", "status=204",
                                       "!body_bytes_sent", "!http_referer", "!http_user_agent",
                                       NULL};
    assert_fields(&c.records[0], want, "ipv6");
    assert_int_equal(c.records[0].n_fields, 8);
    collector_free(&c);
}

static void test_custom_format_with_request_id_and_request_time(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one("$remote_addr [$time_local] \"$request\" $status $request_time $request_id "
              "\"$http_x_forwarded_for\" $upstream_response_time",
              "10.1.2.3 [10/Oct/2000:13:55:36 -0700] \"POST /orders?x=1 HTTP/1.1\" 201 0.045 "
              "9f1c2d3e4b5a69788796a5b4c3d2e1f0 \"203.0.113.7, 10.0.0.1\" 0.040 : 0.002",
              &c);
    const saved_record *r = &c.records[0];
    assert_true(r->parsed);
    assert_int_equal(r->timestamp_ms, INT64_C(971211336000));
    static const char *const want[] = {
        "remote_addr=10.1.2.3", "method=POST", "path=/orders?x=1", "status=201",
        "request_time=0.045", "request_id=9f1c2d3e4b5a69788796a5b4c3d2e1f0",
        "http_x_forwarded_for=203.0.113.7, 10.0.0.1", "upstream_response_time=0.040 : 0.002",
        NULL};
    assert_fields(r, want, "custom");
    collector_free(&c);
}

static void test_upstream_lists_keep_their_separators(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one("$upstream_addr $upstream_status $request_time",
              "10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80 502, 502 : 200 0.5", &c);
    static const char *const want[] = {"upstream_addr=10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80",
                                       "upstream_status=502, 502 : 200", "request_time=0.5",
                                       NULL};
    assert_fields(&c.records[0], want, "lists");
    assert_int_equal(c.records[0].timestamp_ms, READ_MS); /* no time in the format */
    assert_true(c.records[0].parsed);
    collector_free(&c);
}

static void test_json_escape_mode_line(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one("log_format json escape=json '{\"time\":\"$time_iso8601\",'\n"
              "  '\"remote_addr\":\"$remote_addr\",\"request\":\"$request\",\"status\":$status,'\n"
              "  '\"ua\":\"$http_user_agent\",\"user\":\"$remote_user\"}';",
              "{\"time\":\"2000-10-10T13:55:36-07:00\",\"remote_addr\":\"10.0.0.1\","
              "\"request\":\"GET /q?x=\\\"a\\\\b\\\" HTTP/1.1\",\"status\":200,"
              "\"ua\":\"Mozilla \\\"quoted\\\" \\u00e9\\n\",\"user\":\"C:\\\\\"}",
              &c);
    const saved_record *r = &c.records[0];
    assert_true(r->parsed);
    assert_int_equal(r->timestamp_ms, INT64_C(971211336000));
    static const char *const want[] = {"request=GET /q?x=\"a\\b\" HTTP/1.1", "path=/q?x=\"a\\b\"",
                                       "status=200", "http_user_agent=Mozilla \"quoted\" \xC3\xA9\n",
                                       "remote_user=C:\\", NULL};
    assert_fields(r, want, "json");
    collector_free(&c);
}

static void test_msec_gives_milliseconds(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_one("$msec [$time_local] $remote_addr",
              "971211336.123 [10/Oct/2000:13:55:36 -0700] 1.2.3.4", &c);
    assert_true(c.records[0].parsed);
    assert_int_equal(c.records[0].timestamp_ms, INT64_C(971211336123));
    collector_free(&c);
}

/* A line the format does not describe goes out as it is, unparsed, stamped
 * with the read time: a line that does not match, and one whose time is no
 * time. */
static void test_lines_not_of_the_format_are_shipped_raw(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "2021/12/01 13:53:33 [error] 31#31: *46 \"/x\" is not found, client: 172.17.0.1",
        "1.2.3.4 - - [yesterday] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
        "1.2.3.4 - - [32/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
        "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1",
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        collector c = {NULL, 0, 0};
        parse_one(NULL, bad[i], &c);
        const saved_record *r = &c.records[0];
        if (r->parsed)
            fail_msg("'%s' parsed", bad[i]);
        assert_int_equal(r->n_fields, 0);
        assert_int_equal(r->timestamp_ms, READ_MS);
        assert_int_equal(r->message_len, strlen(bad[i]));
        assert_memory_equal(r->message, bad[i], r->message_len);
        collector_free(&c);
    }
}

static void test_parsers_are_in_the_table(void **state)
{
    (void)state;
    assert_ptr_equal(tw_log_parser_find("nginx"), &tw_parser_nginx);
    assert_ptr_equal(tw_log_parser_find("nginx_error"), &tw_parser_nginx_error);
    assert_null(tw_parser_nginx.flush);
    assert_null(tw_parser_nginx.pending_offset);
}

/* ---- speed -------------------------------------------------------------- */

static void count_records(void *ctx, const tw_log_record *r)
{
    (*(size_t *)ctx) += r->parsed;
}

/* CPU time of this thread: the rate stays meaningful on a busy machine. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void measure(const char *label, const char *log_format, const lines *l)
{
    void *p = create(log_format);
    size_t parsed = 0, fed = 0, bytes = 0;
    double start = cpu_seconds(), elapsed;
    do {
        for (size_t i = 0; i < l->n; i++) {
            tw_log_line line = {l->data + l->start[i], l->len[i], 0, 0, READ_MS, false};
            tw_parser_nginx.feed(p, &line, count_records, &parsed);
            bytes += l->len[i] + 1;
        }
        fed += l->n;
        elapsed = cpu_seconds() - start;
    } while (elapsed < 0.5);
    tw_parser_nginx.destroy(p);
    assert_int_equal(parsed, fed);
    print_message("%s: %.2f M lines/s, %.0f MiB/s per CPU second (%zu lines of %.0f bytes)\n",
                  label, (double)fed / elapsed / 1e6, (double)bytes / elapsed / 1048576.0, fed,
                  (double)bytes / (double)fed);
}

static void test_parse_speed(void **state)
{
    (void)state;
    lines l;
    collector c = {NULL, 0, 0};
    parse_file("lnav-logfile_shop_access_log.0", MAIN_FORMAT, &l, &c);
    collector_free(&c);
    measure("combined", NULL, &l);
    measure("combined + x_forwarded_for", MAIN_FORMAT, &l);
    lines_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_access_log_line_is_accounted_for),
        cmocka_unit_test(test_hand_checked_fields),
        cmocka_unit_test(test_binary_requests_are_unescaped_to_valid_utf8),
        cmocka_unit_test(test_adjacent_variables_split_by_what_they_hold),
        cmocka_unit_test(test_quote_escaped_inside_request_stays_inside),
        cmocka_unit_test(test_ipv6_and_dash_fields),
        cmocka_unit_test(test_custom_format_with_request_id_and_request_time),
        cmocka_unit_test(test_upstream_lists_keep_their_separators),
        cmocka_unit_test(test_json_escape_mode_line),
        cmocka_unit_test(test_msec_gives_milliseconds),
        cmocka_unit_test(test_lines_not_of_the_format_are_shipped_raw),
        cmocka_unit_test(test_parsers_are_in_the_table),
        cmocka_unit_test(test_parse_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
