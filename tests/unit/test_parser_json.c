/* test_parser_json.c — format = json (plugins/parser_json): member types,
 * escapes (\u0000, surrogate pairs, lone surrogates), numbers kept as
 * written however large, duplicate keys, nested values checked and kept as
 * raw text, the
 * timestamp keys and forms (ISO 8601 with and without zone, epoch s/ms/µs/ns
 * as numbers and strings), lines that are not one JSON object, the field
 * limit, the lograge sample (TW_TESTDATA_DIR/logs/lograge) and every other
 * sample file in TW_TESTDATA_DIR/logs fed through it (no crash, one record
 * per line). A steady stream of lines allocates nothing. Prints
 * lines/s (no assertion on it). Runs in TZ=UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alloc_count.h"
#include "log_parser.h"
#include "mem.h"
#include "parser_capture.h"
#include "parser_json.h"

#define LOGS TW_TESTDATA_DIR "/logs/"
#define READ_MS INT64_C(1718452800000) /* 2024-06-15T12:00:00Z */
#define T_2024_01_02 INT64_C(1704164645000) /* 2024-01-02T03:04:05Z */


/* ---- fixture ----------------------------------------------------------------- */

typedef struct fixture {
    void *state;
    tw_test_capture capture;
} fixture;

static int setup(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    fixture *f = calloc(1, sizeof *f);
    tw_err err;
    assert_int_equal(tw_parser_json.create(&(tw_log_parser_options){.section = "test"}, &f->state,
                                           &err),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_parser_json.destroy(f->state);
    tw_test_capture_free(&f->capture);
    free(f);
    return 0;
}

static const tw_test_record *parse(fixture *f, const char *line)
{
    return tw_test_parse_line(&tw_parser_json, f->state, line, READ_MS, &f->capture);
}

static void assert_field_bytes(const tw_test_record *r, const char *name, const char *want,
                               size_t want_len)
{
    const tw_test_field *field = tw_test_record_field(r, name);
    if (field == NULL)
        print_error("no field %s in %s\n", name, r->message);
    assert_non_null(field);
    assert_int_equal(field->len, want_len);
    assert_memory_equal(field->value, want, want_len);
}

/* ---- members ----------------------------------------------------------------- */

static void test_member_types_become_fields_in_line_order(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f,
                                    "{\"s\":\"text\",\"i\":42,\"f\":-1.50e3,\"t\":true,"
                                    "\"no\":false,\"n\":null,\"o\":{\"a\":[1,2]},"
                                    "\"a\":[{\"x\":\"}]\"}],\"e\":\"\",\"z\":0}");
    assert_true(r->parsed);
    static const char *const names[] = {"s", "i", "f", "t", "no", "o", "a", "e", "z"};
    assert_int_equal(r->n_fields, sizeof names / sizeof names[0]);
    for (unsigned i = 0; i < r->n_fields; i++)
        assert_string_equal(r->fields[i].name, names[i]);
    assert_field(r, "s", "text");
    assert_field(r, "i", "42");
    assert_field(r, "f", "-1.50e3"); /* as written, not 1500 */
    assert_field(r, "t", "true");
    assert_field(r, "no", "false");
    assert_no_field(r, "n");
    assert_field(r, "o", "{\"a\":[1,2]}");
    assert_field(r, "a", "[{\"x\":\"}]\"}]");
    assert_field(r, "e", "");
    assert_field(r, "z", "0");
    assert_int_equal(r->timestamp_ms, READ_MS); /* no time member */

    /* Blanks anywhere JSON allows them; nested text keeps its own. */
    r = parse(f, " \t{ \"a\" : { \"b\" : [ 1 , 2 ] } , \"c\" :\t\"d\" }  ");
    assert_true(r->parsed);
    assert_field(r, "a", "{ \"b\" : [ 1 , 2 ] }");
    assert_field(r, "c", "d");

    r = parse(f, "{}");
    assert_true(r->parsed);
    assert_int_equal(r->n_fields, 0);

    /* A byte order mark before the first line of a file. */
    r = parse(f, "\xEF\xBB\xBF{\"a\":1}");
    assert_true(r->parsed);
    assert_field(r, "a", "1");
}

static void test_escapes_are_decoded_to_utf8(void **state)
{
    fixture *f = *state;
    const tw_test_record *r =
        parse(f, "{\"e\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\","
                 "\"u\":\"\\u00e9\\u20AC\\ud83d\\ude00\","
                 "\"nul\":\"a\\u0000b\","
                 "\"lone\":\"x\\ud800y\",\"lone_low\":\"\\udc00\",\"high_then_text\":\"\\ud83d\\u0041\","
                 "\"k\\u00e9y\":\"v\",\"raw\":\"é€😀\"}");
    assert_true(r->parsed);
    assert_field(r, "e", "a\"b\\c/d\b\f\n\r\t");
    assert_field(r, "u", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    assert_field_bytes(r, "nul", "a\0b", 3);
    assert_field(r, "lone", "x\xEF\xBF\xBDy");
    assert_field(r, "lone_low", "\xEF\xBF\xBD");
    assert_field(r, "high_then_text", "\xEF\xBF\xBD"
                                      "A");
    assert_field(r, "k\xC3\xA9y", "v");
    assert_field(r, "raw", "é€😀");

    static const char *const bad[] = {
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"x\ty\"}",
        "{\"a\":\"\\\"}",  "{\"a\\\":1}",      "{\"a\x01\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = parse(f, bad[i]);
        if (r->parsed)
            print_error("parsed: %s\n", bad[i]);
        assert_false(r->parsed);
    }
}

static void test_numbers_are_kept_exactly_as_written(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f,
                                    "{\"big\":123456789012345678901234567890,\"neg\":-0.000001,"
                                    "\"exp\":1E+400,\"tiny\":5e-324,\"d\":45.20,"
                                    "\"nested\":{\"id\":123456789012345678901234567890,"
                                    "\"e\":[1e400]}}");
    assert_true(r->parsed);
    assert_field(r, "big", "123456789012345678901234567890");
    assert_field(r, "neg", "-0.000001");
    assert_field(r, "exp", "1E+400");
    assert_field(r, "tiny", "5e-324");
    assert_field(r, "d", "45.20");
    assert_field(r, "nested", "{\"id\":123456789012345678901234567890,\"e\":[1e400]}");

    static const char *const bad[] = {
        "{\"a\":01}",  "{\"a\":1.}",  "{\"a\":.5}",      "{\"a\":+1}",  "{\"a\":-}",
        "{\"a\":1e}",  "{\"a\":1e+}", "{\"a\":0x10}",    "{\"a\":NaN}", "{\"a\":Infinity}",
        "{\"a\":-01}", "{\"a\":1 2}", "{\"a\":[01]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = parse(f, bad[i]);
        if (r->parsed)
            print_error("parsed: %s\n", bad[i]);
        assert_false(r->parsed);
    }
}

static void test_duplicate_keys_keep_first_place_and_last_value(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f, "{\"a\":1,\"b\":2,\"a\":\"x\"}");
    assert_int_equal(r->n_fields, 2);
    assert_string_equal(r->fields[0].name, "a");
    assert_field(r, "a", "x");
    assert_field(r, "b", "2");

    r = parse(f, "{\"a\":1,\"b\":2,\"a\":null}");
    assert_int_equal(r->n_fields, 1);
    assert_no_field(r, "a");
    assert_field(r, "b", "2");

    r = parse(f, "{\"a\":null,\"a\":[3]}");
    assert_field(r, "a", "[3]");

    /* The time is read from the last value too. */
    r = parse(f, "{\"time\":\"2020-01-01T00:00:00Z\",\"time\":\"2024-01-02T03:04:05Z\"}");
    assert_int_equal(r->timestamp_ms, T_2024_01_02);
}

static void test_past_the_field_limit_the_first_names_are_kept(void **state)
{
    fixture *f = *state;
    char line[4096];
    size_t n = 0;
    n += (size_t)snprintf(line + n, sizeof line - n, "{");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "%s\"k%02d\":%d", i ? "," : "", i, i);
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"k00\":\"again\"}");
    const tw_test_record *r = parse(f, line);
    assert_true(r->parsed);
    assert_int_equal(r->n_fields, TW_LOG_MAX_FIELDS);
    assert_field(r, "k00", "again");
    assert_field(r, "k47", "47");
    assert_no_field(r, "k48");
}

static void test_nested_values_are_checked_and_kept_as_raw_text(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f,
                                    "{\"params\":{\"user\":{\"name\":\"John \\\"JD\\\" Doe\"}},"
                                    "\"list\":[1,\"two\",{\"3\":[]},\"]\\\\\"],\"after\":1}");
    assert_true(r->parsed);
    assert_field(r, "params", "{\"user\":{\"name\":\"John \\\"JD\\\" Doe\"}}");
    assert_field(r, "list", "[1,\"two\",{\"3\":[]},\"]\\\\\"]");
    assert_field(r, "after", "1");

    static const char *const bad[] = {
        "{\"a\":{\"b\":}}", "{\"a\":[1,,2]}", "{\"a\":[}",    "{\"a\":{\"b\":1]}",
        "{\"a\":[1,2}",     "{\"a\":{1:2}}",  "{\"a\":[\"x]}", "{\"a\":{\"b\":\"\\q\"}}",
        "{\"a\":[1,]}",     "{\"a\":{,}}",    "{\"a\":{\"b\"}}", "{\"a\":{\"b\" 1}}",
        "{\"a\":[tru]}",    "{\"a\":[\"\x01\"]}", "{\"a\":[\"\\u12\"]}", "{\"a\":[1]]}",
        "{\"a\":[[1]}",     "{\"a\":[nul]}",  "{\"a\":{\"b\":1,}}", "{\"a\":[1 2]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = parse(f, bad[i]);
        if (r->parsed)
            print_error("parsed: %s\n", bad[i]);
        assert_false(r->parsed);
    }

    /* Blanks, all scalar kinds, empty containers and escapes inside. */
    r = parse(f, "{\"a\": [ {\"b\" : [ ] , \"c\":{ }} , true,false ,null, -1.5e-3, "
                 "\"\\u00e9\\\"\\n\" ] }");
    assert_true(r->parsed);
    assert_field(r, "a", "[ {\"b\" : [ ] , \"c\":{ }} , true,false ,null, -1.5e-3, "
                         "\"\\u00e9\\\"\\n\" ]");

    /* 2048 levels inside the object are fine; deeper (jansson's limit) is
     * refused, not a crash. */
    char *ok = tw_malloc(2 * 2048 + 16);
    size_t k = (size_t)sprintf(ok, "{\"d\":");
    for (size_t i = 0; i < 2048; i++)
        ok[k++] = '[';
    for (size_t i = 0; i < 2048; i++)
        ok[k++] = ']';
    ok[k++] = '}';
    ok[k] = '\0';
    assert_true(parse(f, ok)->parsed);
    free(ok);

    size_t depth = 5000;
    char *deep = tw_malloc(2 * depth + 16);
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"d\":");
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    assert_false(parse(f, deep)->parsed);
    free(deep);
}

static void test_lines_that_are_not_one_object_stay_whole_and_unparsed(void **state)
{
    fixture *f = *state;
    static const char *const lines[] = {
        "",
        "   ",
        "[]",
        "[{\"a\":1}]",
        "\"text\"",
        "42",
        "null",
        "{",
        "{\"a\":1",
        "{\"a\":1}}",
        "{\"a\":1} {\"b\":2}",
        "{\"a\":1} x",
        "{a:1}",
        "{'a':1}",
        "{\"a\":tru}",
        "{\"a\":1,}",
        "{,\"a\":1}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{\"a\"}",
        "{1:2}",
        "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant",
        "2015-03-12T23:16:52.071:INFO:com.root:Response :",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const tw_test_record *r = parse(f, lines[i]);
        if (r->parsed)
            print_error("parsed: %s\n", lines[i]);
        assert_false(r->parsed);
        assert_string_equal(r->message, lines[i]);
    }
}

/* ---- timestamps -------------------------------------------------------------- */

static void test_timestamp_forms(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *line;
        int64_t ms;
    } cases[] = {
        {"{\"time\":\"2024-01-02T03:04:05Z\"}", T_2024_01_02},
        {"{\"timestamp\":\"2024-01-02T04:04:05.123+01:00\"}", T_2024_01_02 + 123},
        {"{\"@timestamp\":\"2024-01-02T03:04:05.123456\"}", T_2024_01_02 + 123}, /* local */
        {"{\"date\":\"2024-01-02 03:04:05Z\"}", T_2024_01_02},
        {"{\"ts\":1704164645}", T_2024_01_02},
        {"{\"ts\":1704164645.123}", T_2024_01_02 + 123},
        {"{\"ts\":1704164645.999999}", T_2024_01_02 + 999},
        {"{\"ts\":1704164645123}", T_2024_01_02 + 123},
        {"{\"ts\":1704164645123456}", T_2024_01_02 + 123},
        {"{\"ts\":1704164645123999999}", T_2024_01_02 + 123},
        {"{\"ts\":1.704164645e9}", T_2024_01_02},
        {"{\"time\":\"1704164645\"}", T_2024_01_02},
        {"{\"time\":\"1704164645123\"}", T_2024_01_02 + 123},
        {"{\"time\":\"1704164645.5\"}", T_2024_01_02 + 500},
        {"{\"ts\":-1}", INT64_C(-1000)},
        {"{\"ts\":0}", 0},
        /* The first key of the list wins over the first in the line... */
        {"{\"ts\":1,\"time\":\"2024-01-02T03:04:05Z\"}", T_2024_01_02},
        /* ...when it reads as a time. */
        {"{\"time\":\"yesterday\",\"ts\":1704164645}", T_2024_01_02},
        {"{\"time\":true,\"date\":\"2024-01-02T03:04:05Z\"}", T_2024_01_02},
        /* None does: the read time. */
        {"{\"time\":{\"s\":1704164645}}", READ_MS},
        {"{\"time\":\"2024-01-02T03:04:05 UTC\"}", READ_MS},
        {"{\"ts\":99999999999999999999}", READ_MS},
        {"{\"ts\":1e300}", READ_MS},
        {"{\"Time\":\"2024-01-02T03:04:05Z\"}", READ_MS},
        {"{\"msg\":\"2024-01-02T03:04:05Z\"}", READ_MS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tw_test_record *r = parse(f, cases[i].line);
        assert_true(r->parsed);
        if (r->timestamp_ms != cases[i].ms)
            print_error("%s: %lld, expected %lld\n", cases[i].line, (long long)r->timestamp_ms,
                        (long long)cases[i].ms);
        assert_int_equal(r->timestamp_ms, cases[i].ms);
    }
}

/* ---- sample files ------------------------------------------------------------ */

static void test_lograge_sample_every_line(void **state)
{
    fixture *f = *state;
    size_t len;
    char *text = tw_test_read_file(LOGS "lograge/log_bench-development.log", &len);
    size_t lines = tw_test_feed_text(&tw_parser_json, f->state, text, len, READ_MS, &f->capture);
    free(text);
    assert_int_equal(lines, 16);
    assert_int_equal(f->capture.n, 16);
    for (size_t i = 0; i < f->capture.n; i++)
        assert_true(f->capture.records[i].parsed);

    const tw_test_record *r = &f->capture.records[0];
    assert_int_equal(r->timestamp_ms, INT64_C(1749107567532));
    assert_no_field(r, "user_id"); /* null */
    assert_field(r, "level", "DEBUG");
    const tw_test_field *message = tw_test_record_field(r, "message");
    assert_non_null(message);
    assert_memory_equal(message->value, "  \x1b[1m\x1b[36mUser Load (0.3ms)", 27);

    r = &f->capture.records[1];
    assert_field(r, "message", "  \xE2\x86\xB3 app/controllers/users_controller.rb:10:in "
                               "'UsersController#show'");

    r = &f->capture.records[2];
    assert_int_equal(r->timestamp_ms, INT64_C(1749107567580));
    assert_field(r, "method", "GET");
    assert_field(r, "path", "/users/1");
    assert_field(r, "params", "{\"id\":\"1\"}");
    assert_field(r, "status", "200");
    assert_field(r, "duration", "45.2");
    assert_field(r, "lograge", "true");
    assert_field(r, "user_id", "1");
    assert_field(r, "request_id", "req_123");

    r = &f->capture.records[5];
    assert_field(r, "params",
                 "{\"user\":{\"name\":\"John Doe\",\"email\":\"john@example.com\"}}");
}

/* Whatever a file holds (nginx, Rails, syslog, invalid UTF-8, CRLF), every
 * line becomes one record and nothing crashes. */
static void test_every_sample_file_is_accounted_for(void **state)
{
    fixture *f = *state;
    static const char *const dirs[] = {"nginx-access", "nginx-error", "rails",
                                       "lograge",      "authlog",     "other"};
    size_t files = 0, total = 0, parsed = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char path[512];
        snprintf(path, sizeof path, LOGS "%s", dirs[d]);
        DIR *dir = opendir(path);
        assert_non_null(dir);
        for (struct dirent *e; (e = readdir(dir)) != NULL;) {
            if (e->d_name[0] == '.')
                continue;
            char file[1024];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            size_t len;
            char *text = tw_test_read_file(file, &len);
            tw_test_capture_free(&f->capture);
            total += tw_test_feed_text(&tw_parser_json, f->state, text, len, READ_MS,
                                       &f->capture);
            for (size_t i = 0; i < f->capture.n; i++)
                parsed += f->capture.records[i].parsed;
            free(text);
            files++;
        }
        closedir(dir);
    }
    assert_true(files >= 30);
    assert_int_equal(parsed, 16); /* the lograge lines, and nothing else */
    printf("json parser: %zu sample files, %zu lines, %zu parsed\n", files, total, parsed);
}

/* ---- allocation and speed ---------------------------------------------------- */

static const char *const flat_lines[] = {
    "{\"level\":30,\"time\":1704164645123,\"pid\":4242,\"hostname\":\"web-1\",\"reqId\":\"req-7\","
    "\"msg\":\"request completed\",\"responseTime\":12.5,\"statusCode\":200}",
    "{\"ts\":1704164645.123456,\"level\":\"info\",\"logger\":\"http\",\"caller\":\"srv/main.go:88\","
    "\"msg\":\"served\",\"method\":\"GET\",\"path\":\"/api/v1/orders/123\",\"status\":200,"
    "\"duration\":0.0042}",
    "{\"time\":\"2024-01-02T03:04:05.123456789+01:00\",\"level\":\"WARN\",\"msg\":\"slow query "
    "\\\"orders\\\"\\ttook 1.2s\",\"user\":\"alice\",\"ok\":false}",
};

/* A lograge request line: nested params. */
static const char *const nested_lines[] = {
    "{\"method\":\"POST\",\"path\":\"/users\",\"format\":\"html\",\"params\":{\"user\":{\"name\":"
    "\"John Doe\",\"email\":\"john@example.com\"}},\"controller\":\"UsersController\","
    "\"action\":\"create\",\"status\":201,\"allocations\":23456,\"duration\":120.5,"
    "\"lograge\":true,\"process_id\":\"12345\",\"user_id\":\"1\",\"request_id\":\"req_456\","
    "\"timestamp\":\"2025-06-05T07:13:00.225Z\"}",
};

typedef struct counts {
    size_t fields, unparsed;
} counts;

static void counting_emit(void *ctx, const tw_log_record *record)
{
    counts *c = ctx;
    c->fields += record->n_fields;
    c->unparsed += !record->parsed;
}

static void feed_all(void *state, const char *const *lines, size_t n, counts *c)
{
    for (size_t i = 0; i < n; i++) {
        tw_log_line l = {lines[i], strlen(lines[i]), 0, 0, READ_MS, false};
        tw_parser_json.feed(state, &l, counting_emit, c);
    }
}

static void test_a_steady_stream_allocates_nothing(void **state)
{
    fixture *f = *state;
    counts c = {0, 0};
    const size_t n_flat = sizeof flat_lines / sizeof flat_lines[0];
    const size_t n_nested = sizeof nested_lines / sizeof nested_lines[0];
    /* warm up: scratch sized, zone loaded */
    feed_all(f->state, flat_lines, n_flat, &c);
    feed_all(f->state, nested_lines, n_nested, &c);
    size_t calls;
    tw_alloc_begin();
    for (int k = 0; k < 1000; k++) {
        feed_all(f->state, flat_lines, n_flat, &c);
        feed_all(f->state, nested_lines, n_nested, &c);
    }
    tw_alloc_end(&calls, NULL);
    assert_int_equal(calls, 0);
    assert_int_equal(c.fields, 1001 * (8 + 9 + 5 + 14));
    assert_int_equal(c.unparsed, 0);
}

static double lines_per_second(void *state, const char *const *lines, size_t n, size_t rounds,
                               double *mib_per_second)
{
    size_t lens[8], bytes = 0;
    counts c = {0, 0};
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(lines[i]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t k = 0; k < rounds; k++) {
        for (size_t i = 0; i < n; i++) {
            tw_log_line l = {lines[i], lens[i], 0, lens[i] + 1, READ_MS, false};
            tw_parser_json.feed(state, &l, counting_emit, &c);
            bytes += lens[i];
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(c.fields > 0);
    assert_int_equal(c.unparsed, 0);
    *mib_per_second = (double)bytes / seconds / 1048576.0;
    return (double)(n * rounds) / seconds;
}

static void test_prints_lines_per_second(void **state)
{
    fixture *f = *state;
    double mib;
    double flat = lines_per_second(f->state, flat_lines,
                                   sizeof flat_lines / sizeof flat_lines[0], 200000, &mib);
    printf("json parser, flat lines:  %.0f lines/s, %.1f MiB/s, %.0f ns/line\n", flat, mib,
           1e9 / flat);
    double with_nested = lines_per_second(f->state, nested_lines, 1, 200000, &mib);
    printf("json parser, lograge line with nested params: %.0f lines/s, "
           "%.1f MiB/s, %.0f ns/line\n",
           with_nested, mib, 1e9 / with_nested);

    /* For comparison: json_loadb of the same flat lines, as a whole-line
     * jansson parse would cost (tree built and freed; no fields made). */
    struct timespec t0, t1;
    size_t rounds = 200000, n = sizeof flat_lines / sizeof flat_lines[0];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t k = 0; k < rounds; k++) {
        for (size_t i = 0; i < n; i++) {
            json_error_t error;
            json_t *v = json_loadb(flat_lines[i], strlen(flat_lines[i]), 0, &error);
            assert_non_null(v);
            json_decref(v);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("jansson json_loadb alone, flat lines: %.0f lines/s, %.0f ns/line\n",
           (double)(n * rounds) / seconds, seconds * 1e9 / (double)(n * rounds));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_member_types_become_fields_in_line_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_escapes_are_decoded_to_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_are_kept_exactly_as_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_keep_first_place_and_last_value,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_the_field_limit_the_first_names_are_kept,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_values_are_checked_and_kept_as_raw_text,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_that_are_not_one_object_stay_whole_and_unparsed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lograge_sample_every_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_sample_file_is_accounted_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_steady_stream_allocates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prints_lines_per_second, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
