/* test_parser_rails_bounds.c — the bounds of format = rails
 * (plugins/parser_rails): more than 1000 open requests, a request over
 * 1 MiB, more than 16 MiB held, too many interleaved requests without ids,
 * a request that never ends; and its cost: nothing allocated per line in
 * the steady state, lines/s for a few formats (printed, never asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc_count.h"
#include "log_parser.h"
#include "parser_rails.h"
#include "rails_fixture.h"


/* ---- bounds ------------------------------------------------------------------ */

typedef struct counter {
    size_t records, lines;
    size_t max_message;
} counter;

static void count_only(void *ctx, const tw_log_record *r)
{
    counter *c = ctx;
    c->records++;
    c->lines++;
    const char *p = r->message, *end = r->message + r->message_len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        c->lines++;
        p++;
    }
    if (r->message_len > c->max_message)
        c->max_message = r->message_len;
}

static tw_log_line synthetic(const char *text, uint64_t *offset, int64_t read_ms)
{
    tw_log_line l = {.text = text, .len = strlen(text), .offset = *offset, .read_time_ms = read_ms};
    *offset += l.len + 1;
    l.end = *offset;
    return l;
}

static void test_more_than_1000_open_requests_ship_the_oldest_early(void **state)
{
    (void)state;
    void *st = rails_test_parser(NULL, 5000);
    counter c = {0};
    uint64_t offset = 0, second = 0;
    char line[200];
    for (unsigned i = 0; i <= TW_PARSER_RAILS_MAX_GROUPS; i++) {
        snprintf(line, sizeof line,
                 "[%032x] Started GET \"/r/%u\" for 10.0.0.1 at 2024-01-02 03:04:05 +0000", i + 1,
                 i);
        if (i == 1)
            second = offset;
        tw_log_line l = synthetic(line, &offset, BASE_MS);
        tw_parser_rails.feed(st, &l, count_only, &c);
    }
    assert_int_equal(c.records, 1);
    assert_int_equal(tw_parser_rails.pending_offset(st), second);
    tw_parser_rails_stats stats;
    tw_parser_rails_get_stats(st, &stats);
    assert_int_equal(stats.evicted, 1);
    tw_parser_rails.flush(st, 0, true, count_only, &c);
    assert_int_equal(c.records, TW_PARSER_RAILS_MAX_GROUPS + 1);
    tw_parser_rails.destroy(st);
}

/* One request logging more than 1 MiB: cut into records of at most 1 MiB,
 * every line kept. And many large requests: at most 16 MiB held. */
static void test_huge_requests_are_cut_and_held_bytes_bounded(void **state)
{
    (void)state;
    void *st = rails_test_parser(NULL, 5000);
    counter c = {0};
    uint64_t offset = 0;
    char *line = malloc(1100);
    memcpy(line, "[0b25e636-3a45-4a4e-84af-04545328222e] ", 39);
    memset(line + 39, 'x', 1000);
    line[1039] = '\0';
    for (int i = 0; i < 2500; i++) {
        tw_log_line l = synthetic(line, &offset, BASE_MS);
        tw_parser_rails.feed(st, &l, count_only, &c);
    }
    tw_parser_rails.flush(st, 0, true, count_only, &c);
    assert_int_equal(c.lines, 2500);
    assert_int_equal(c.records, 3);
    assert_true(c.max_message <= TW_PARSER_RAILS_MAX_GROUP_BYTES);
    tw_parser_rails_stats stats;
    tw_parser_rails_get_stats(st, &stats);
    assert_int_equal(stats.split, 2);
    /* 30 interleaved requests of 900 lines of 1 KiB each: 27 MiB offered. */
    c = (counter){0};
    for (int i = 0; i < 900; i++)
        for (int k = 0; k < 30; k++) {
            snprintf(line, 40, "[%032x]", k + 1);
            line[34] = ' ';
            tw_log_line l = synthetic(line, &offset, BASE_MS);
            tw_parser_rails.feed(st, &l, count_only, &c);
        }
    tw_parser_rails_get_stats(st, &stats);
    assert_true(stats.evicted > 0);
    tw_parser_rails.flush(st, 0, true, count_only, &c);
    assert_int_equal(c.lines, 900 * 30);
    tw_parser_rails.destroy(st);
    free(line);
}

static void test_too_many_interleaved_requests_without_ids_ship_the_oldest(void **state)
{
    (void)state;
    void *st = rails_test_parser(NULL, 5000);
    counter c = {0};
    uint64_t offset = 0;
    for (int i = 0; i < TW_PARSER_RAILS_MAX_STACK + 2; i++) {
        tw_log_line l = synthetic("Started GET \"/\" for 1.2.3.4 at 2024-01-02 03:04:05 +0000",
                                  &offset, BASE_MS);
        tw_parser_rails.feed(st, &l, count_only, &c);
    }
    assert_int_equal(c.records, 2);
    assert_int_equal(tw_parser_rails.pending_offset(st),
                     2 * offset / (TW_PARSER_RAILS_MAX_STACK + 2));
    tw_parser_rails.destroy(st);
}

/* A request that never completes but keeps receiving lines still ships
 * once it is older than ten timeouts (a minute at least), so the file's
 * checkpoint is not held back forever. */
static void test_open_request_ships_after_max_age_even_if_busy(void **state)
{
    (void)state;
    void *st = rails_test_parser(NULL, 2000);
    counter c = {0};
    uint64_t offset = 0;
    tw_log_line l = synthetic("Started GET \"/slow\" for 1.2.3.4 at 2024-01-02 03:04:05 +0000",
                              &offset, BASE_MS);
    tw_parser_rails.feed(st, &l, count_only, &c);
    int64_t t = BASE_MS;
    while (c.records == 0 && t < BASE_MS + 120000) {
        t += 1000;
        l = synthetic("  Rendered x.html.erb (1.0ms)", &offset, t);
        tw_parser_rails.feed(st, &l, count_only, &c);
        tw_parser_rails.flush(st, t, false, count_only, &c);
    }
    assert_int_equal(c.records, 1);
    assert_int_equal(t, BASE_MS + 60000);
    tw_parser_rails.destroy(st);
}

/* ---- cost ---------------------------------------------------------------------- */

static void test_steady_state_allocates_nothing_per_line(void **state)
{
    (void)state;
    if (!tw_alloc_counting())
        skip();
    rails_log f;
    rails_test_load_file(&f, LOGS "rails/lichtbit-example2.log");
    void *st = rails_test_parser("1", 5000);
    counter c = {0};
    for (int pass = 0; pass < 3; pass++) { /* warm the pool and the buffers */
        for (size_t i = 0; i < f.n_lines; i++)
            tw_parser_rails.feed(st, &f.lines[i], count_only, &c);
        (void)pass;
    }
    c = (counter){0};
    size_t calls;
    tw_alloc_begin();
    for (int pass = 0; pass < 20; pass++)
        for (size_t i = 0; i < f.n_lines; i++)
            tw_parser_rails.feed(st, &f.lines[i], count_only, &c);
    tw_alloc_end(&calls, NULL);
    assert_int_equal(calls, 0);
    assert_int_equal(c.lines, 20 * f.n_lines);
    tw_parser_rails.destroy(st);
    rails_test_unload(&f);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void measure(const char *label, const char *path, const char *text, size_t repeat)
{
    rails_log f;
    if (path != NULL)
        rails_test_load_file(&f, path);
    else
        rails_test_load_text(&f, text);
    void *st = rails_test_parser(NULL, 5000);
    counter c = {0};
    double start = seconds_now();
    for (size_t r = 0; r < repeat; r++)
        for (size_t i = 0; i < f.n_lines; i++)
            tw_parser_rails.feed(st, &f.lines[i], count_only, &c);
    tw_parser_rails.flush(st, 0, true, count_only, &c);
    double elapsed = seconds_now() - start;
    double lines = (double)(repeat * f.n_lines);
    printf("parser_rails %-34s %10.0f lines/s %7.1f MiB/s (%.0f ns/line)\n", label, lines / elapsed,
           (double)(repeat * f.size) / elapsed / (1 << 20), elapsed / lines * 1e9);
    assert_int_equal(c.lines, (size_t)lines);
    tw_parser_rails.destroy(st);
    rails_test_unload(&f);
}

static void test_speed_is_printed(void **state)
{
    (void)state;
    measure("tagged production (lichtbit2)", LOGS "rails/lichtbit-example2.log", NULL, 5000);
    measure("tagged debug (select_rails_log)", LOGS "rails/select_rails_log-simple.log", NULL,
            2000);
    measure("bare Rails 2 (rla-rails_1x)", LOGS "rails/rla-rails_1x.log", NULL, 5000);
    measure(
        "lograge key=value", NULL,
        "I, [2024-01-02T03:04:05.123456 #99]  INFO -- : [0b25e636-3a45-4a4e-84af-04545328222e] "
        "method=GET path=/users/1 format=html controller=UsersController action=show status=200 "
        "duration=45.20 view=30.10 db=2.50\n",
        300000);
    measure("lograge JSON (log_bench)", LOGS "lograge/log_bench-development.log", NULL, 20000);
}

int main(void)
{
    /* Zone-less times are the host's local time: pin it. */
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_more_than_1000_open_requests_ship_the_oldest_early),
        cmocka_unit_test(test_huge_requests_are_cut_and_held_bytes_bounded),
        cmocka_unit_test(test_too_many_interleaved_requests_without_ids_ship_the_oldest),
        cmocka_unit_test(test_open_request_ships_after_max_age_even_if_busy),
        cmocka_unit_test(test_steady_state_allocates_nothing_per_line),
        cmocka_unit_test(test_speed_is_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
