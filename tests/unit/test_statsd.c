/* test_statsd.c — the StatsD line parser (plugins/in_statsd/statsd_parse.c)
 * against a table of lines from the etsy statsd and DogStatsD documents,
 * valid and bad for each reason, and the aggregator (statsd_agg.c): counter
 * sums with sample rates, gauge relative updates and persistence, set
 * uniqueness, timer distributions (exact, then bucketed within 1 %), the
 * series cap and expiry. Every emitted sample is also checked against
 * CloudWatch's rules (tw_metric_sample_check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "mem.h"
#include "metric.h"
#include "statsd_agg.h"
#include "statsd_parse.h"


/* ---- a sink that keeps copies ---------------------------------------------- */

typedef struct captured {
    char name[300], unit[32], dims[512], namespace_[64];
    double value, count;
    int64_t time_ms;
    tw_metric_kind kind;
} captured;

typedef struct capture {
    captured *items;
    size_t n, cap;
} capture;

static int capture_emit(void *ctx, const tw_metric_sample *s)
{
    char why[256];
    if (tw_metric_sample_check(s, why, sizeof why) != 0)
        fail_msg("a sample CloudWatch would refuse: %s", why);
    capture *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->items = tw_realloc(c->items, c->cap * sizeof *c->items);
    }
    captured *x = &c->items[c->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", s->name);
    snprintf(x->unit, sizeof x->unit, "%s", s->unit ? s->unit : "(null)");
    snprintf(x->namespace_, sizeof x->namespace_, "%s", s->namespace_ ? s->namespace_ : "");
    size_t used = 0;
    for (size_t i = 0; i < s->n_dimensions; i++)
        used += (size_t)snprintf(x->dims + used, sizeof x->dims - used, "%s%s=%s", i ? "," : "",
                                 s->dimensions[i].name, s->dimensions[i].value);
    x->value = s->value;
    x->count = s->count;
    x->time_ms = s->time_ms;
    x->kind = s->kind;
    return 0;
}

static void capture_reset(capture *c)
{
    c->n = 0;
}

static const captured *find(const capture *c, const char *name, const char *dims)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].name, name) == 0 && strcmp(c->items[i].dims, dims) == 0)
            return &c->items[i];
    return NULL;
}

/* ---- parser table ----------------------------------------------------------- */

typedef struct good_case {
    const char *line;
    const char *name;
    tw_statsd_type type;
    size_t n_values;
    double first;
    bool relative;
    double rate;
    const char *tags; /* "a=1,b=2", in the parsed (sorted) order */
} good_case;

static const good_case good_lines[] = {
    /* etsy statsd docs/metric_types.md */
    {"gorets:1|c", "gorets", TW_STATSD_COUNTER, 1, 1, false, 1, ""},
    {"gorets:1|c|@0.1", "gorets", TW_STATSD_COUNTER, 1, 1, false, 0.1, ""},
    {"glork:320|ms", "glork", TW_STATSD_TIMER, 1, 320, false, 1, ""},
    {"glork:320|ms|@0.1", "glork", TW_STATSD_TIMER, 1, 320, false, 0.1, ""},
    {"gaugor:333|g", "gaugor", TW_STATSD_GAUGE, 1, 333, false, 1, ""},
    {"gaugor:-10|g", "gaugor", TW_STATSD_GAUGE, 1, -10, true, 1, ""},
    {"gaugor:+4|g", "gaugor", TW_STATSD_GAUGE, 1, 4, true, 1, ""},
    {"uniques:765|s", "uniques", TW_STATSD_SET, 1, 0, false, 1, ""},
    /* DogStatsD datagram format */
    {"page.views:1|c|#env:prod,region:us-east-1", "page.views", TW_STATSD_COUNTER, 1, 1, false,
     1, "env=prod,region=us-east-1"},
    {"users.online:1|c|@0.5|#country:china", "users.online", TW_STATSD_COUNTER, 1, 1, false,
     0.5, "country=china"},
    {"song.length:240|h|@0.5|#genre:rock", "song.length", TW_STATSD_HISTOGRAM, 1, 240, false,
     0.5, "genre=rock"},
    {"page.load:1.5|d|#page:home", "page.load", TW_STATSD_DISTRIBUTION, 1, 1.5, false, 1,
     "page=home"},
    {"users.uniques:1234|s|#country:fr", "users.uniques", TW_STATSD_SET, 1, 0, false, 1,
     "country=fr"},
    {"queue.size:12|g|#shard:1|c:83c0a99c0a54c0c187f461c7980e9b57f3f6a8b0c918c8d93df19a9de6f3fe1d",
     "queue.size", TW_STATSD_GAUGE, 1, 12, false, 1, "shard=1"},
    {"requests:3|c|T1656581400", "requests", TW_STATSD_COUNTER, 1, 3, false, 1, ""},
    /* telegraf's multi-value form, and values in every decimal spelling */
    {"my.metric:1:2:3|ms", "my.metric", TW_STATSD_TIMER, 3, 1, false, 1, ""},
    {"temp:1e3|g", "temp", TW_STATSD_GAUGE, 1, 1000, false, 1, ""},
    {"lat:.5|ms", "lat", TW_STATSD_TIMER, 1, 0.5, false, 1, ""},
    {"lat:5.|ms", "lat", TW_STATSD_TIMER, 1, 5, false, 1, ""},
    {"big:123456789012345678|c", "big", TW_STATSD_COUNTER, 1, 123456789012345678.0, false, 1,
     ""},
    {"dec:-2|c", "dec", TW_STATSD_COUNTER, 1, -2, false, 1, ""},
    {"users:alice:bob|s", "users", TW_STATSD_SET, 2, 0, false, 1, ""},
    /* tags: sorted, valueless = "true", ':' inside a value, empty items */
    {"t:1|c|#zone:b,app:web", "t", TW_STATSD_COUNTER, 1, 1, false, 1, "app=web,zone=b"},
    {"t:1|c|#canary", "t", TW_STATSD_COUNTER, 1, 1, false, 1, "canary=true"},
    {"t:1|c|#url:http://x:8080/a", "t", TW_STATSD_COUNTER, 1, 1, false, 1,
     "url=http://x:8080/a"},
    {"t:1|c|#a:1,,b:2,", "t", TW_STATSD_COUNTER, 1, 1, false, 1, "a=1,b=2"},
    {"t:1|c|#", "t", TW_STATSD_COUNTER, 1, 1, false, 1, ""},
    /* names as sent */
    {"name with space:1|c", "name with space", TW_STATSD_COUNTER, 1, 1, false, 1, ""},
    {"caf\xc3\xa9.latency:1|ms", "caf\xc3\xa9.latency", TW_STATSD_TIMER, 1, 1, false, 1, ""},
    {"a/b#c=d:1|c", "a/b#c=d", TW_STATSD_COUNTER, 1, 1, false, 1, ""},
    {"rate.one:1|c|@1", "rate.one", TW_STATSD_COUNTER, 1, 1, false, 1, ""},
};

typedef struct bad_case {
    const char *line;
    tw_statsd_reason reason;
} bad_case;

static const bad_case bad_lines[] = {
    {"gorets", TW_STATSD_BAD_FORMAT},
    {"gorets:1", TW_STATSD_BAD_FORMAT},
    {"gorets|c", TW_STATSD_BAD_FORMAT},
    {"x:1|c|0.5", TW_STATSD_BAD_FORMAT},
    {"x:1|c|", TW_STATSD_BAD_FORMAT},
    {"x:1|c|@0.5|@0.5", TW_STATSD_BAD_FORMAT},
    {"x:1|c|#a:1|#b:2", TW_STATSD_BAD_FORMAT},
    {":1|c", TW_STATSD_BAD_NAME},
    {"a\x01b:1|c", TW_STATSD_BAD_NAME},
    {"a\x7f:1|c", TW_STATSD_BAD_NAME},
    {"\xff\xfe:1|c", TW_STATSD_BAD_NAME},
    {"\xc0\xaf:1|c", TW_STATSD_BAD_NAME}, /* overlong "/" */
    {"x:abc|c", TW_STATSD_BAD_VALUE},
    {"x:|c", TW_STATSD_BAD_VALUE},
    {"x:nan|g", TW_STATSD_BAD_VALUE},
    {"x:NaN|g", TW_STATSD_BAD_VALUE},
    {"x:inf|ms", TW_STATSD_BAD_VALUE},
    {"x:-Infinity|ms", TW_STATSD_BAD_VALUE},
    {"x:1e400|c", TW_STATSD_BAD_VALUE},
    {"x:1e109|c", TW_STATSD_BAD_VALUE}, /* beyond 2^360 ~ 2.3e108 */
    {"x:0x10|c", TW_STATSD_BAD_VALUE},
    {"x: 1|c", TW_STATSD_BAD_VALUE},
    {"x:1.2.3|c", TW_STATSD_BAD_VALUE},
    {"x:1e|c", TW_STATSD_BAD_VALUE},
    {"x:+-1|g", TW_STATSD_BAD_VALUE},
    {"x:1:|ms", TW_STATSD_BAD_VALUE},
    {"x:1::2|ms", TW_STATSD_BAD_VALUE},
    {"x:|s", TW_STATSD_BAD_VALUE},
    {"x:a::b|s", TW_STATSD_BAD_VALUE},
    {"x:1|q", TW_STATSD_BAD_TYPE},
    {"x:1|", TW_STATSD_BAD_TYPE},
    {"x:1|C", TW_STATSD_BAD_TYPE},
    {"x:1|msx", TW_STATSD_BAD_TYPE},
    {"x:1|c:2|c", TW_STATSD_BAD_TYPE},
    {"x:1|c|@0", TW_STATSD_BAD_RATE},
    {"x:1|c|@1.5", TW_STATSD_BAD_RATE},
    {"x:1|c|@-0.5", TW_STATSD_BAD_RATE},
    {"x:1|c|@abc", TW_STATSD_BAD_RATE},
    {"x:1|c|@", TW_STATSD_BAD_RATE},
    {"x:1|c|@nan", TW_STATSD_BAD_RATE},
    {"x:1|c|#:v", TW_STATSD_BAD_TAGS},
    {"x:1|c|#k:", TW_STATSD_BAD_TAGS},
    {"x:1|c|#a:1,a:2", TW_STATSD_BAD_TAGS},
    {"x:1|c|#k:caf\xc3\xa9", TW_STATSD_BAD_TAGS},
    {"x:1|c|#k:\x01", TW_STATSD_BAD_TAGS},
    {"x:1|c|#k:   ", TW_STATSD_BAD_TAGS},
    {"_e{5,4}:title|text", TW_STATSD_BAD_UNSUPPORTED},
    {"_sc|Redis connection|2|#env:dev", TW_STATSD_BAD_UNSUPPORTED},
};

static void tags_text(const tw_statsd_line *line, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < line->n_tags; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%.*s=%.*s", i ? "," : "",
                                 (int)line->tags[i].name.len, line->tags[i].name.ptr,
                                 (int)line->tags[i].value.len, line->tags[i].value.ptr);
}

static void test_valid_lines_parse_into_their_parts(void **state)
{
    for (size_t i = 0; i < sizeof good_lines / sizeof good_lines[0]; i++) {
        const good_case *c = &good_lines[i];
        tw_statsd_line line;
        tw_statsd_error e = {0};
        int rc = tw_statsd_parse_line(c->line, strlen(c->line), &line, &e);
        if (rc != 0)
            fail_msg("\"%s\" refused: %s: %s", c->line, tw_statsd_reason_name(e.reason), e.why);
        char name[300], tags[600];
        snprintf(name, sizeof name, "%.*s", (int)line.name.len, line.name.ptr);
        tags_text(&line, tags, sizeof tags);
        if (strcmp(name, c->name) != 0 || line.type != c->type || line.n_values != c->n_values ||
            line.rate != c->rate || strcmp(tags, c->tags) != 0 ||
            (c->type != TW_STATSD_SET &&
             (line.first.number != c->first || line.first.relative != c->relative)))
            fail_msg("\"%s\": got name \"%s\" type %s values %zu first %g%s rate %g tags \"%s\"",
                     c->line, name, tw_statsd_type_name(line.type), line.n_values,
                     line.first.number, line.first.relative ? " (relative)" : "", line.rate,
                     tags);
    }
}

static void test_each_kind_of_bad_line_is_refused_with_its_reason(void **state)
{
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        const bad_case *c = &bad_lines[i];
        tw_statsd_line line;
        tw_statsd_error e = {.reason = TW_STATSD_REASONS, .why = NULL};
        int rc = tw_statsd_parse_line(c->line, strlen(c->line), &line, &e);
        if (rc != -EINVAL || e.reason != c->reason || !e.why || !e.why[0])
            fail_msg("\"%s\": rc %d, reason %s (%s), expected %s", c->line, rc,
                     tw_statsd_reason_name(e.reason), e.why ? e.why : "-",
                     tw_statsd_reason_name(c->reason));
    }
}

static void test_limits_of_names_and_tags(void **state)
{
    char text[40000];
    tw_statsd_line line;
    tw_statsd_error e;
    /* A name of 255 bytes is CloudWatch's longest; 256 is refused. */
    memset(text, 'n', 255);
    strcpy(text + 255, ":1|c");
    assert_int_equal(tw_statsd_parse_line(text, strlen(text), &line, &e), 0);
    memset(text, 'n', 256);
    strcpy(text + 256, ":1|c");
    assert_int_equal(tw_statsd_parse_line(text, strlen(text), &line, &e), -EINVAL);
    assert_int_equal(e.reason, TW_STATSD_BAD_NAME);

    /* 29 tags (host takes the 30th dimension) pass; 30 do not. */
    size_t n = (size_t)sprintf(text, "x:1|c|#");
    for (int i = 0; i < 29; i++)
        n += (size_t)sprintf(text + n, "%st%02d:v", i ? "," : "", i);
    assert_int_equal(tw_statsd_parse_line(text, n, &line, &e), 0);
    assert_int_equal(line.n_tags, 29);
    n += (size_t)sprintf(text + n, ",t29:v");
    assert_int_equal(tw_statsd_parse_line(text, n, &line, &e), -EINVAL);
    assert_int_equal(e.reason, TW_STATSD_BAD_TAGS);

    /* A tag value of 1024 characters passes, 1025 does not; names stop at 255. */
    n = (size_t)sprintf(text, "x:1|c|#k:");
    memset(text + n, 'v', 1024);
    assert_int_equal(tw_statsd_parse_line(text, n + 1024, &line, &e), 0);
    memset(text + n, 'v', 1025);
    assert_int_equal(tw_statsd_parse_line(text, n + 1025, &line, &e), -EINVAL);
    n = (size_t)sprintf(text, "x:1|c|#");
    memset(text + n, 'k', 256);
    assert_int_equal(tw_statsd_parse_line(text, n + 256, &line, &e), -EINVAL);
    assert_int_equal(e.reason, TW_STATSD_BAD_TAGS);

    /* Numbers: 63 characters are read, 64 refused rather than copied. */
    n = (size_t)sprintf(text, "x:0.");
    memset(text + n, '1', 61);
    n += 61;
    n += (size_t)sprintf(text + n, "|ms");
    assert_int_equal(tw_statsd_parse_line(text, n, &line, &e), 0);
    assert_true(fabs(line.first.number - 0.11111111111) < 1e-9);
    n = (size_t)sprintf(text, "x:0.");
    memset(text + n, '1', 62);
    n += 62;
    n += (size_t)sprintf(text + n, "|ms");
    assert_int_equal(tw_statsd_parse_line(text, n, &line, &e), -EINVAL);
    assert_int_equal(e.reason, TW_STATSD_BAD_VALUE);
}

static void test_multi_values_are_read_one_by_one(void **state)
{
    const char *text = "lat:1:2.5:-3:4e1|ms";
    tw_statsd_line line;
    tw_statsd_error e;
    assert_int_equal(tw_statsd_parse_line(text, strlen(text), &line, &e), 0);
    double want[] = {1, 2.5, -3, 40};
    size_t offset = 0, i = 0;
    tw_statsd_value v;
    while (tw_statsd_line_value(&line, &offset, &v)) {
        assert_true(i < 4);
        assert_true(v.number == want[i]);
        i++;
    }
    assert_int_equal(i, 4);
    assert_int_equal(line.n_values, 4);
}

static void test_datagram_splits_into_trimmed_lines(void **state)
{
    const char packet[] = "a:1|c\r\n\n  b:2|c \n\t\nlast:3|g";
    const char *want[] = {"a:1|c", "b:2|c", "last:3|g"};
    size_t pos = 0, i = 0;
    tw_statsd_span line;
    while (tw_statsd_next_line(packet, sizeof packet - 1, &pos, &line)) {
        assert_true(i < 3);
        assert_int_equal(line.len, strlen(want[i]));
        assert_memory_equal(line.ptr, want[i], line.len);
        i++;
    }
    assert_int_equal(i, 3);
    pos = 0;
    assert_false(tw_statsd_next_line("\n\r\n", 3, &pos, &line));
}

static void test_escape_for_logs_cuts_and_shows_bytes(void **state)
{
    char out[64];
    tw_statsd_escape("a\"b\\c\x01\xff", 7, 100, out, sizeof out);
    assert_string_equal(out, "a\\\"b\\\\c\\x01\\xff");
    tw_statsd_escape("abcdefghij", 10, 4, out, sizeof out);
    assert_string_equal(out, "abcd...");
    tw_statsd_escape("abcdefghij", 10, 100, out, 8); /* 7 characters and the NUL */
    assert_string_equal(out, "abcd...");
}

/* ---- aggregation ---------------------------------------------------------------- */

static void add(tw_statsd_agg *agg, const char *text)
{
    tw_statsd_line line;
    tw_statsd_error e;
    if (tw_statsd_parse_line(text, strlen(text), &line, &e) != 0)
        fail_msg("\"%s\" refused: %s", text, e.why);
    assert_int_equal(tw_statsd_agg_add(agg, &line), 0);
}

static void flush(tw_statsd_agg *agg, capture *c, int64_t now_ms)
{
    tw_metric_sink sink = {capture_emit, c};
    capture_reset(c);
    tw_statsd_flush_result r;
    tw_statsd_agg_flush(agg, now_ms, &sink, &r);
    assert_int_equal(r.samples, c->n);
    assert_int_equal(r.rejected, 0);
}

static void test_counters_sum_values_over_rates_and_reset(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100, .namespace_ = "StatsD"};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    add(agg, "hits:1|c");
    add(agg, "hits:2|c|@0.5");  /* stands for 4 */
    add(agg, "hits:1:1|c|@0.1"); /* 20 */
    add(agg, "hits:-1|c");
    add(agg, "hits:1|c|#b:2,a:1");
    add(agg, "hits:1|c|#a:1,b:2"); /* the same series: tag order does not matter */
    flush(agg, &c, 1000);
    assert_int_equal(c.n, 2);
    const captured *x = find(&c, "hits", "");
    assert_non_null(x);
    assert_true(fabs(x->value - 24) < 1e-9);
    assert_string_equal(x->unit, "Count");
    assert_int_equal(x->kind, TW_METRIC_GAUGE);
    assert_int_equal(x->time_ms, 1000);
    assert_string_equal(x->namespace_, "StatsD");
    x = find(&c, "hits", "a=1,b=2");
    assert_non_null(x);
    assert_true(x->value == 2);
    /* An interval without data emits nothing for a counter. */
    flush(agg, &c, 2000);
    assert_int_equal(c.n, 0);
    add(agg, "hits:5|c");
    flush(agg, &c, 3000);
    assert_int_equal(c.n, 1);
    assert_true(c.items[0].value == 5);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static void test_gauges_take_relative_updates_and_are_emitted_again(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    add(agg, "temp:10|g");
    add(agg, "temp:+5|g");
    add(agg, "temp:-3|g|@0.5"); /* the rate does not scale gauges */
    add(agg, "fresh:-4|g");     /* relative with nothing before: from 0 */
    flush(agg, &c, 1000);
    assert_int_equal(c.n, 2);
    assert_true(find(&c, "temp", "")->value == 12);
    assert_string_equal(find(&c, "temp", "")->unit, "None");
    assert_true(find(&c, "fresh", "")->value == -4);
    /* Not updated: the last value again (etsy statsd, deleteGauges false). */
    flush(agg, &c, 2000);
    assert_int_equal(c.n, 2);
    assert_true(find(&c, "temp", "")->value == 12);
    assert_int_equal(find(&c, "temp", "")->time_ms, 2000);
    add(agg, "temp:-1|g");
    add(agg, "fresh:7|g"); /* unsigned: replaces */
    add(agg, "multi:1:+2:+3|g");
    flush(agg, &c, 3000);
    assert_true(find(&c, "temp", "")->value == 11);
    assert_true(find(&c, "fresh", "")->value == 7);
    assert_true(find(&c, "multi", "")->value == 6);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static void test_sets_count_distinct_members_per_interval(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    add(agg, "users:alice|s");
    add(agg, "users:bob|s");
    add(agg, "users:alice|s");
    add(agg, "users:carol:dave:alice|s");
    add(agg, "users:42|s|#app:web");
    char line[64];
    for (int i = 0; i < 5000; i++) { /* forces the member table to grow */
        snprintf(line, sizeof line, "many:m%d|s", i % 2500);
        add(agg, line);
    }
    flush(agg, &c, 1000);
    assert_int_equal(c.n, 3);
    assert_true(find(&c, "users", "")->value == 4);
    assert_string_equal(find(&c, "users", "")->unit, "Count");
    assert_true(find(&c, "users", "app=web")->value == 1);
    assert_true(find(&c, "many", "")->value == 2500);
    flush(agg, &c, 2000);
    assert_int_equal(c.n, 0);
    add(agg, "users:alice|s");
    flush(agg, &c, 3000);
    assert_true(find(&c, "users", "")->value == 1);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static double count_of(const capture *c, const char *name, double value)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].name, name) == 0 && c->items[i].value == value)
            return c->items[i].count;
    return 0;
}

static void test_timers_emit_each_distinct_value_with_its_count(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    add(agg, "lat:10|ms");
    add(agg, "lat:10|ms");
    add(agg, "lat:20|ms|@0.5"); /* seen once, stands for 2 */
    add(agg, "lat:0|ms");
    add(agg, "lat:-0|ms"); /* the same value as 0 */
    add(agg, "lat:1:2:2|ms");
    add(agg, "size:512|h");
    add(agg, "load:1.5|d");
    flush(agg, &c, 1000);
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(c.items[i].kind, TW_METRIC_DISTRIBUTION);
    assert_true(count_of(&c, "lat", 10) == 2);
    assert_true(count_of(&c, "lat", 20) == 2);
    assert_true(count_of(&c, "lat", 0) == 2);
    assert_true(count_of(&c, "lat", 1) == 1);
    assert_true(count_of(&c, "lat", 2) == 2);
    assert_string_equal(find(&c, "lat", "")->unit, "Milliseconds");
    assert_string_equal(find(&c, "size", "")->unit, "None");
    assert_string_equal(find(&c, "load", "")->unit, "None");
    assert_int_equal(c.n, 7);
    flush(agg, &c, 2000);
    assert_int_equal(c.n, 0);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static void test_timer_keeps_150_distinct_values_exact(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    char line[64];
    for (int i = 0; i < TW_STATSD_EXACT_VALUES; i++) {
        snprintf(line, sizeof line, "lat:%d.001|ms", 1000 + i);
        add(agg, line);
    }
    flush(agg, &c, 1000);
    assert_int_equal(c.n, TW_STATSD_EXACT_VALUES);
    for (int i = 0; i < TW_STATSD_EXACT_VALUES; i++) {
        snprintf(line, sizeof line, "%d.001", 1000 + i);
        assert_true(count_of(&c, "lat", strtod(line, NULL)) == 1);
    }
    /* One more distinct value: the interval goes to buckets, and the values
     * 1000..1150 (within 15 % of each other) share a handful of them. */
    for (int i = 0; i <= TW_STATSD_EXACT_VALUES; i++) {
        snprintf(line, sizeof line, "lat:%d.001|ms", 1000 + i);
        add(agg, line);
    }
    flush(agg, &c, 2000);
    assert_true(c.n > 1 && c.n < 15);
    double total = 0;
    for (size_t i = 0; i < c.n; i++)
        total += c.items[i].count;
    assert_true(total == TW_STATSD_EXACT_VALUES + 1);
    /* A new interval starts exact again. */
    add(agg, "lat:1000.001|ms");
    flush(agg, &c, 3000);
    assert_int_equal(c.n, 1);
    assert_true(c.items[0].value == 1000.001);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile as CloudWatch takes it from Values/Counts: the
 * smallest value whose cumulative count reaches p % of the total. */
static double percentile_of(const capture *c, double p)
{
    double *pairs = tw_malloc(c->n * 2 * sizeof *pairs);
    double total = 0;
    for (size_t i = 0; i < c->n; i++) {
        pairs[2 * i] = c->items[i].value;
        pairs[2 * i + 1] = c->items[i].count;
        total += c->items[i].count;
    }
    qsort(pairs, c->n, 2 * sizeof *pairs, by_value);
    double seen = 0, v = pairs[2 * (c->n - 1)];
    for (size_t i = 0; i < c->n; i++) {
        seen += pairs[2 * i + 1];
        if (seen >= p / 100 * total) {
            v = pairs[2 * i];
            break;
        }
    }
    free(pairs);
    return v;
}

static void test_many_timer_values_are_bucketed_within_one_percent(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    enum { N = 20000 };
    double *values = tw_malloc(N * sizeof *values);
    uint64_t x = 88172645463325252ULL;
    char line[64];
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* log-uniform over 0.01 ms .. 100 s, printed to 6 significant digits */
        double v = pow(10, -2 + 7 * (double)(x >> 11) / 9007199254740992.0);
        snprintf(line, sizeof line, "lat:%.6g|ms", v);
        values[i] = strtod(line + 4, NULL);
        add(agg, line);
        double b = tw_statsd_bucket_value(values[i]);
        if (fabs(b - values[i]) > TW_STATSD_BUCKET_ERROR * values[i])
            fail_msg("%.17g is reported as %.17g", values[i], b);
    }
    flush(agg, &c, 1000);
    /* 7 decades at 1 %: about 800 buckets, far fewer than the values. */
    assert_true(c.n > 500 && c.n < 1000);
    double total = 0, sum = 0, exact_sum = 0;
    for (size_t i = 0; i < c.n; i++) {
        total += c.items[i].count;
        sum += c.items[i].value * c.items[i].count;
    }
    for (int i = 0; i < N; i++)
        exact_sum += values[i];
    assert_true(total == N);
    assert_true(fabs(sum - exact_sum) <= TW_STATSD_BUCKET_ERROR * exact_sum);
    qsort(values, N, sizeof *values, by_value);
    const double ps[] = {50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double exact = values[(size_t)ceil(ps[i] / 100 * N) - 1];
        double got = percentile_of(&c, ps[i]);
        if (fabs(got - exact) > TW_STATSD_BUCKET_ERROR * exact)
            fail_msg("p%g: %.6g from the buckets, %.6g exact", ps[i], got, exact);
    }
    /* Negative values and zero keep their sign and place too. */
    assert_true(tw_statsd_bucket_value(0) == 0);
    assert_true(fabs(tw_statsd_bucket_value(-250) + 250) <= 2.5);
    assert_true(fabs(tw_statsd_bucket_value(1e-300) - 1e-300) <= 1e-302);
    assert_true(fabs(tw_statsd_bucket_value(1e108) - 1e108) <= 1e106);
    free(values);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static void test_series_cap_refuses_new_series_only(void **state)
{
    tw_statsd_agg_options o = {.max_series = 2};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    add(agg, "a:1|c");
    add(agg, "a:1|c|#k:v");
    tw_statsd_line line;
    tw_statsd_error e;
    const char *third = "a:1|g"; /* another type is another series */
    assert_int_equal(tw_statsd_parse_line(third, strlen(third), &line, &e), 0);
    assert_int_equal(tw_statsd_agg_add(agg, &line), -ENOSPC);
    add(agg, "a:1|c"); /* existing series go on */
    assert_int_equal(tw_statsd_agg_series(agg), 2);
    flush(agg, &c, 1000);
    assert_int_equal(c.n, 2);
    assert_true(find(&c, "a", "")->value == 2);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static void test_idle_series_expire_and_gauges_start_again_from_zero(void **state)
{
    tw_statsd_agg_options o = {.max_series = 1000, .expire_flushes = 2};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    add(agg, "g:5|g");
    add(agg, "c:1|c");
    char line[64];
    for (int i = 0; i < 300; i++) { /* enough to move entries around the table */
        snprintf(line, sizeof line, "churn.%d:1|c", i);
        add(agg, line);
    }
    flush(agg, &c, 1000);
    assert_int_equal(c.n, 302);
    add(agg, "c:1|c"); /* keeps c alive */
    flush(agg, &c, 2000);
    assert_int_equal(c.n, 2); /* g again, c */
    assert_int_equal(tw_statsd_agg_series(agg), 302);
    add(agg, "c:1|c");
    tw_statsd_flush_result r;
    tw_metric_sink sink = {capture_emit, &c};
    capture_reset(&c);
    tw_statsd_agg_flush(agg, 3000, &sink, &r);
    assert_int_equal(r.expired, 301); /* g and the churn: two flushes without data */
    assert_int_equal(tw_statsd_agg_series(agg), 1);
    flush(agg, &c, 4000);
    assert_int_equal(c.n, 0);
    add(agg, "g:+1|g");
    for (int i = 0; i < 300; i++) { /* the survivors are still found after the removals */
        snprintf(line, sizeof line, "churn.%d:2|c", i);
        add(agg, line);
    }
    add(agg, "c:3|c");
    flush(agg, &c, 5000);
    assert_true(find(&c, "g", "")->value == 1);
    assert_true(find(&c, "c", "")->value == 3);
    assert_true(find(&c, "churn.299", "")->value == 2);
    assert_int_equal(tw_statsd_agg_series(agg), 302);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static void test_many_series_are_all_kept_apart(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100000};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    char line[96];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 20000; i++) {
            snprintf(line, sizeof line, "req:%d|c|#host_id:h%d,route:/r%d", i, i % 100, i);
            add(agg, line);
        }
    assert_int_equal(tw_statsd_agg_series(agg), 20000);
    flush(agg, &c, 1000);
    assert_int_equal(c.n, 20000);
    const captured *x = find(&c, "req", "host_id=h42,route=/r12342");
    assert_non_null(x);
    assert_true(x->value == 2 * 12342);
    free(c.items);
    tw_statsd_agg_free(agg);
}

static int refusing_emit(void *ctx, const tw_metric_sample *s)
{
    (*(int *)ctx)++;
    return tw_metric_sample_check(s, NULL, 0);
}

static void test_sums_beyond_cloudwatch_range_are_refused_and_counted(void **state)
{
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    add(agg, "huge:1e108|c|@1e-10"); /* 1e118: past 2^360 */
    add(agg, "lat:1|ms|@1e-300");
    add(agg, "lat:1|ms|@1e-300");    /* a count of 2e300... */
    add(agg, "lat:1:1:1:1|ms|@1e-308"); /* ...then past the largest double */
    add(agg, "fine:1|c");
    int calls = 0;
    tw_metric_sink sink = {refusing_emit, &calls};
    tw_statsd_flush_result r;
    tw_statsd_agg_flush(agg, 1000, &sink, &r);
    assert_int_equal(calls, 3);
    assert_int_equal(r.samples, 1);
    assert_int_equal(r.rejected, 2);
    tw_statsd_agg_free(agg);
}

/* One interval of a web service's traffic: counters, gauges, sets and a
 * timer with enough distinct values to be bucketed. */
static void steady_interval(tw_statsd_agg *agg, capture *c, int64_t now_ms)
{
    static const char *const lines[] = {
        "api.requests:1|c|#env:prod,route:/v1/orders,status:200",
        "api.requests:1|c|#route:/v1/orders,status:200,env:prod",
        "api.requests:2|c|@0.5|#env:prod,route:/v1/users,status:500",
        "queue.depth:+3|g|#queue:q1",
        "queue.depth:17|g|#queue:q2",
        "users:alice:bob|s",
        "db.query:1.5:2.5|ms|@0.25|#table:orders",
    };
    char line[64];
    for (int i = 0; i < 2000; i++) {
        add(agg, lines[i % 7]);
        snprintf(line, sizeof line, "api.latency:%d.%02d|ms|#route:/v1", i % 400, i % 7);
        add(agg, line);
    }
    flush(agg, c, now_ms);
}

static void test_known_series_allocate_nothing_in_the_steady_state(void **state)
{
    if (!tw_alloc_counting())
        skip();
    tw_statsd_agg_options o = {.max_series = 100};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    capture c = {0};
    size_t calls;
    tw_alloc_begin();
    steady_interval(agg, &c, 1000); /* tables grow to what the traffic needs */
    steady_interval(agg, &c, 2000);
    tw_alloc_end(&calls, NULL);
    assert_true(calls > 0); /* the counting works: new series allocated */
    tw_alloc_begin();
    for (int i = 0; i < 5; i++)
        steady_interval(agg, &c, 3000 + i * 1000);
    tw_alloc_end(&calls, NULL);
    assert_int_equal(calls, 0);
    assert_true(c.n > 150); /* the timer went to buckets, and all were emitted */
    free(c.items);
    tw_statsd_agg_free(agg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_lines_parse_into_their_parts),
        cmocka_unit_test(test_each_kind_of_bad_line_is_refused_with_its_reason),
        cmocka_unit_test(test_limits_of_names_and_tags),
        cmocka_unit_test(test_multi_values_are_read_one_by_one),
        cmocka_unit_test(test_datagram_splits_into_trimmed_lines),
        cmocka_unit_test(test_escape_for_logs_cuts_and_shows_bytes),
        cmocka_unit_test(test_counters_sum_values_over_rates_and_reset),
        cmocka_unit_test(test_gauges_take_relative_updates_and_are_emitted_again),
        cmocka_unit_test(test_sets_count_distinct_members_per_interval),
        cmocka_unit_test(test_timers_emit_each_distinct_value_with_its_count),
        cmocka_unit_test(test_timer_keeps_150_distinct_values_exact),
        cmocka_unit_test(test_many_timer_values_are_bucketed_within_one_percent),
        cmocka_unit_test(test_series_cap_refuses_new_series_only),
        cmocka_unit_test(test_idle_series_expire_and_gauges_start_again_from_zero),
        cmocka_unit_test(test_many_series_are_all_kept_apart),
        cmocka_unit_test(test_sums_beyond_cloudwatch_range_are_refused_and_counted),
        cmocka_unit_test(test_known_series_allocate_nothing_in_the_steady_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
