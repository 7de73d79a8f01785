/* test_parser_rails.c — format = rails (plugins/parser_rails) against every
 * Rails and lograge sample in the shared test data: no line lost or
 * duplicated (the lines of the records are exactly the file's lines), the
 * number of request records counted by hand with grep, hand-checked fields
 * and groupings for several requests per file, interleaved requests (by
 * request id, by pid, and without either), a request without Completed
 * shipped by the timeout, pending_offset, "[FILTERED]" kept, user_tag, and
 * the grouping rules on small logs written here. Bounds and cost are in
 * test_parser_rails_bounds.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log_parser.h"
#include "parser_rails.h"
#include "rails_fixture.h"

/* Requests per file, counted by hand: Started/Processing lines (by distinct
 * request id where there are ids), lograge's "lograge":true lines. */
static const struct {
    const char *file;
    size_t requests;
} hand_counts[] = {
    {"rails/lichtbit-example.log", 7}, /* 6 Started + 1 Processing-only */
    {"rails/lichtbit-example2.log", 11},
    {"rails/rla-rails3_failure.log", 1},
    {"rails/rla-rails_1x.log", 4},
    {"rails/rla-rails_22.log", 1},
    {"rails/rla-rails_3_partials.log", 2},
    {"rails/rla-rails_unordered.log", 2},
    {"rails/select_rails_log-overlapped.log", 3},
    {"rails/select_rails_log-simple.log", 7},
    {"lograge/log_bench-development.log", 5},
};

static size_t check_directory(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, LOGS "%s", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char name[300];
        snprintf(name, sizeof name, "%s/%s", dir, e->d_name);
        rails_log f;
        rails_sink s = {0};
        rails_test_parse_sample(name, "2", &f, &s);
        rails_test_assert_lines_accounted(&f, &s, name);
        size_t want = SIZE_MAX;
        for (size_t i = 0; i < sizeof hand_counts / sizeof hand_counts[0]; i++)
            if (strcmp(hand_counts[i].file, name) == 0)
                want = hand_counts[i].requests;
        if (want == SIZE_MAX)
            fail_msg("%s: a new sample; count its requests by hand and add it", name);
        if (rails_test_count_requests(&s) != want)
            fail_msg("%s: %zu request records, %zu requests in the file", name,
                     rails_test_count_requests(&s), want);
        rails_test_sink_free(&s);
        rails_test_unload(&f);
        files++;
    }
    closedir(d);
    return files;
}

static void test_every_sample_keeps_every_line_once_and_counts_its_requests(void **state)
{
    (void)state;
    assert_true(check_directory("rails") >= 9);
    assert_true(check_directory("lograge") >= 1);
}

/* ---- Rails 1.x / 2.x ------------------------------------------------------------- */

static void test_rails_1x_requests_with_seconds_converted_and_session_lines_kept(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/rla-rails_1x.log", NULL, &f, &s);
    const rails_record *r = rails_test_find(&s, "controller", "DashboardController");
    assert_field(r, "action", "index");
    assert_field(r, "method", "GET");
    assert_field(r, "remote_addr", "1.1.1.1");
    assert_field(r, "path", "/");
    assert_field(r, "status", "200");
    assert_field(r, "duration_ms", "226.99"); /* "Completed in 0.22699" seconds */
    assert_field(r, "view_ms", "26.67");
    assert_field(r, "db_ms", "30.57");
    assert_field(r, "params", "{\"action\"=>\"index\", \"controller\"=>\"dashboard\"}");
    assert_int_equal(r->timestamp_ms, INT64_C(1218748585000)); /* 2008-08-14 21:16:25 */
    assert_int_equal(rails_test_lines(r), 13); /* the wrapped Session ID lines are in it */
    assert_non_null(
        strstr(r->message, "\nQzonQWN0aW9uQ29udHJvbGxlcjo6Rmxhc2g6OkZsYXNoSGFzaHsABjoKQHVz\n"));
    r = rails_test_find(&s, "status", "302");
    assert_field(r, "path", "/people?q=gaby&commit=Zoek");
    assert_field(r, "action", "index");
    assert_null(rails_test_field(r, "view_ms")); /* that request did not render */
    r = rails_test_find(&s, "action", "picture");
    assert_field(r, "path", "/people/2545/picture");
    assert_int_equal(rails_test_lines(r), 13); /* the last line has no newline */
    /* The blank lines between requests: records of their own, not unparsed. */
    size_t blanks = 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.items[i].message_len == 0) {
            blanks++;
            assert_true(s.items[i].parsed);
        }
    assert_int_equal(blanks, 6);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

static void test_rails_22_completed_in_ms_with_view_and_db(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/rla-rails_22.log", NULL, &f, &s);
    assert_int_equal(s.n, 1);
    const rails_record *r = &s.items[0];
    assert_field(r, "controller", "PageController");
    assert_field(r, "action", "demo");
    assert_field(r, "status", "200");
    assert_field(r, "duration_ms", "614");
    assert_field(r, "view_ms", "120");
    assert_field(r, "db_ms", "31");
    assert_field(r, "path", "/demo");
    assert_int_equal(rails_test_lines(r), 12);
    assert_int_equal(r->offset, 0);
    assert_int_equal(r->end, f.size);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* Two processes' requests interleaved with neither request id nor pid: the
 * second one's Completed comes first. Each Completed ends the request it
 * belongs to (the newest open one), so both get their own status line. */
static void test_unordered_requests_each_keep_their_completed_line(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/rla-rails_unordered.log", NULL, &f, &s);
    assert_int_equal(s.n, 2);
    const rails_record *projects = rails_test_find(&s, "controller", "ProjectsController");
    assert_field(projects, "action", "new");
    assert_field(projects, "duration_ms", "36");
    assert_field(projects, "path", "/projects/new");
    assert_int_equal(rails_test_lines(projects), 14);
    const rails_record *account = rails_test_find(&s, "controller", "AccountController");
    assert_field(account, "duration_ms", "50");
    assert_field(account, "path", "/dashboard?first_use=true");
    assert_int_equal(rails_test_lines(account), 10);
    assert_int_equal(account->offset, 0);
    assert_non_null(strstr(account->message, "\"first_use\"=>\"true\"}\nLogging in from session"));
    const char *tail = account->message + account->message_len - strlen(f.lines[23].text);
    assert_string_equal(tail, f.lines[23].text); /* Completed in 50ms ... */
    assert_int_equal(account->timestamp_ms, INT64_C(1230104209000));
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* ---- Rails 3 ---------------------------------------------------------------------- */

/* Rails 3.0 beta logged no Completed for a failed request: the request is
 * held until it has been idle for the group timeout, then shipped whole. */
static void test_request_without_completed_ships_after_the_timeout(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_file(&f, LOGS "rails/rla-rails3_failure.log");
    rails_sink s = {0};
    void *st = rails_test_parser(NULL, 2000);
    rails_test_feed(st, &f, 0, f.n_lines, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(tw_parser_rails.pending_offset(st), 0);
    int64_t last = f.lines[f.n_lines - 1].read_time_ms;
    tw_parser_rails.flush(st, last + 1999, false, rails_test_collect, &s);
    assert_int_equal(s.n, 0);
    tw_parser_rails.flush(st, last + 2000, false, rails_test_collect, &s);
    assert_int_equal(s.n, 1);
    assert_true(tw_parser_rails.pending_offset(st) == TW_LOG_NO_PENDING);
    const rails_record *r = &s.items[0];
    assert_int_equal(rails_test_lines(r), 19);
    assert_field(r, "method", "POST");
    assert_field(r, "path", "/queries/397638749/execute.csv");
    assert_field(r, "controller", "QueriesController");
    assert_field(r, "format", "CSV");
    assert_field(r, "error", "ActionView::Template::Error");
    assert_null(rails_test_field(r, "status"));
    assert_true(strncmp(rails_test_field(r, "params"), "{\"commit\"=>\"Run query\", ", 23) == 0);
    assert_int_equal(r->timestamp_ms, INT64_C(1267469073000)); /* no zone: local (UTC here) */
    tw_parser_rails_stats stats;
    tw_parser_rails_get_stats(st, &stats);
    assert_int_equal(stats.timed_out, 1);
    tw_parser_rails.destroy(st);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

static void test_rails_3_partials_with_zone_offset(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/rla-rails_3_partials.log", NULL, &f, &s);
    assert_int_equal(s.n, 4); /* two requests, two blank lines */
    const rails_record *r = &s.items[0];
    assert_int_equal(rails_test_lines(r), 6);
    assert_field(r, "format", "*/*");
    assert_field(r, "view_ms", "44.6");
    assert_field(r, "db_ms", "0.0");
    assert_int_equal(r->timestamp_ms, INT64_C(1353507673000)); /* 15:21:13 +0100 */
    r = &s.items[3];
    assert_int_equal(rails_test_lines(r), 5);
    assert_field(r, "duration_ms", "2");
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* ---- Rails 5-7 production: Logger prefix and request-id tags --------------------- */

static void test_lichtbit_errors_stay_with_their_request(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/lichtbit-example.log", NULL, &f, &s);
    /* A 500 whose exception follows Completed, then the exceptions app. */
    const rails_record *r =
        rails_test_find(&s, "request_id", "55cd4db0-7439-468a-8613-0065179df175");
    assert_int_equal(rails_test_lines(r), 10);
    assert_field(r, "method", "GET");
    assert_field(r, "path", "/centers?locality=[FILTERED]&vaccine%5B0%5D=4");
    assert_field(r, "controller", "Public::CentersController"); /* not ErrorsController */
    assert_field(r, "status", "500");
    assert_field(r, "error", "ActionController::UnfilteredParameters");
    assert_field(r, "params", "{\"locality\"=>\"[FILTERED]\", \"vaccine\"=>{\"0\"=>\"4\"}}");
    assert_field(r, "level", "FATAL");
    assert_int_equal(r->timestamp_ms, INT64_C(1637885084000));
    assert_non_null(strstr(r->message, "Processing by ErrorsController#internal_server_error"));
    /* A routing error: backtrace lines tagged with the id only, no prefix. */
    r = rails_test_find(&s, "request_id", "5a671a79-df26-48df-8093-983388f8e482");
    assert_int_equal(rails_test_lines(r), 30);
    assert_field(r, "method", "OPTIONS"); /* the sample's Started line is cut short */
    assert_field(r, "error", "ActionController::RoutingError");
    assert_field(r, "status", "422");
    assert_non_null(strstr(r->message, "unicorn (6.0.0) bin/unicorn:128:in `<top (required)>'"));
    /* The PG error's message lines carry neither prefix nor tag. */
    r = rails_test_find(&s, "request_id", "ea517b3d-0397-465f-85de-b100a6ff9287");
    assert_int_equal(rails_test_lines(r), 27);
    assert_field(r, "error", "ActionView::Template::Error");
    assert_field(r, "remote_addr", "22.26");
    assert_non_null(strstr(r->message, "\nLINE 1: ...D \"foos\".\"discharged\""));
    assert_non_null(strstr(r->message, "\n: SELECT  \"foos\".* FROM"));
    /* FATAL lines of a request whose start is not in the sample. */
    r = rails_test_find(&s, "request_id", "9e488fa2-bbb2-4b67-b98e-93cb9cfc2fcc");
    assert_int_equal(rails_test_lines(r), 5);
    assert_field(r, "error", "ActiveModel::MissingAttributeError");
    assert_false(rails_test_is_request(r));
    assert_int_equal(r->timestamp_ms, INT64_C(1637912207167)); /* the Logger's time */
    /* delayed_job and ActiveJob lines: outside any request, one record each. */
    size_t jobs = 0;
    for (size_t i = 0; i < s.n; i++)
        if (strstr(s.items[i].message, "delayed_job host:example-production") != NULL) {
            assert_int_equal(rails_test_lines(&s.items[i]), 1);
            assert_field(&s.items[i], "level", "INFO");
            jobs++;
        }
    assert_int_equal(jobs, 8);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

static void test_lichtbit2_two_workers_interleaved_by_request_id(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/lichtbit-example2.log", NULL, &f, &s);
    assert_int_equal(s.n, 11);
    const rails_record *ok =
        rails_test_find(&s, "request_id", "89e7f78e-69e1-4330-85eb-067e4622cd90");
    assert_int_equal(rails_test_lines(ok), 6);
    assert_field(ok, "status", "200");
    assert_field(ok, "view_ms", "487.2");
    assert_field(ok, "db_ms", "99.5");
    const rails_record *failed =
        rails_test_find(&s, "request_id", "e0ffe6c7-d86f-4914-bb43-0311873e6d99");
    assert_int_equal(rails_test_lines(failed), 31);
    assert_field(failed, "controller", "Series::RoundsController");
    assert_field(failed, "status", "500");
    assert_field(failed, "duration_ms", "221");
    assert_null(rails_test_field(failed, "view_ms")); /* not the exceptions app's Views: 16.5 */
    assert_field(failed, "error", "ActionView::Template::Error");
    assert_int_equal(failed->timestamp_ms, INT64_C(1678786935000)); /* 10:42:15 +0100 */
    assert_non_null(
        strstr(failed->message, "\n):\n[e0ffe6c7-d86f-4914-bb43-0311873e6d99]     1: "));
    /* The interleaved request's lines are in neither order's wrong record. */
    assert_null(strstr(ok->message, "e0ffe6c7"));
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

static void test_select_rails_log_simple_filtered_params_kept_exactly(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/select_rails_log-simple.log", NULL, &f, &s);
    const rails_record *r =
        rails_test_find(&s, "request_id", "64cb3ea6-fa8a-4a60-98f9-97ca9c1f7ede");
    const char *line = f.lines[13].text, *params = strstr(line, "Parameters: ") + 12;
    size_t params_len = f.lines[13].len - (size_t)(params - line);
    assert_int_equal(strlen(rails_test_field(r, "params")), params_len);
    assert_memory_equal(rails_test_field(r, "params"), params, params_len);
    assert_non_null(strstr(rails_test_field(r, "params"), "\"password\"=>\"[FILTERED]\""));
    assert_field(r, "format", "TURBO_STREAM");
    assert_field(r, "status", "302");
    assert_field(r, "level", "INFO"); /* the most severe of DEBUG and INFO lines */
    assert_null(rails_test_field(r, "view_ms"));
    assert_int_equal(rails_test_lines(r), 13);
    assert_non_null(strstr(r->message, "\x1b[1m\x1b[36mUser Load (0.3ms)\x1b[0m"));
    r = rails_test_find(&s, "request_id", "d52d405c-01c6-481e-95f7-a48265c7cd16");
    assert_int_equal(rails_test_lines(r), 53);
    assert_field(r, "path", "/users/1");
    assert_field(r, "params", "{\"id\"=>\"1\"}");
    r = rails_test_find(&s, "method", "DELETE");
    assert_field(r, "path", "/logout");
    assert_field(r, "status", "303");
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* Three requests whose lines interleave, told apart by their request ids
 * only; the Started line's time wins over the Logger's. */
static void test_select_rails_log_overlapped_grouped_by_request_id(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("rails/select_rails_log-overlapped.log", NULL, &f, &s);
    const rails_record *a =
        rails_test_find(&s, "request_id", "5989416a-5d9a-49b1-92e5-54ef00e0e38c");
    const rails_record *b =
        rails_test_find(&s, "request_id", "88a6d51e-f6cd-4969-bdc9-f2cebdfbea98");
    const rails_record *c =
        rails_test_find(&s, "request_id", "06df5c81-c6dc-48f2-957c-7550a854ad00");
    assert_int_equal(rails_test_lines(a), 9);
    assert_int_equal(rails_test_lines(b), 9);
    assert_int_equal(rails_test_lines(c), 14); /* a blank line that followed its Started */
    assert_int_equal(b->offset, f.lines[1].offset);
    assert_int_equal(b->end, f.lines[20].end);
    assert_int_equal(b->timestamp_ms, INT64_C(1734270461000)); /* at 22:47:41 +0900 */
    assert_field(c, "method", "POST");
    assert_field(c, "action", "create");
    assert_field(c, "duration_ms", "471");
    assert_null(strstr(a->message, "88a6d51e"));
    assert_null(strstr(b->message, "5989416a"));
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* Fed line by line, pending_offset is always the offset of the oldest line
 * the parser holds. */
static void test_pending_offset_follows_the_oldest_held_line(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_file(&f, LOGS "rails/select_rails_log-overlapped.log");
    rails_sink s = {0};
    void *st = rails_test_parser(NULL, 5000);
    assert_true(tw_parser_rails.pending_offset(st) == TW_LOG_NO_PENDING);
    rails_test_feed(st, &f, 0, 13, &s); /* requests a and b open */
    assert_int_equal(s.n, 0);
    assert_int_equal(tw_parser_rails.pending_offset(st), 0);
    rails_test_feed(st, &f, 13, 14, &s); /* a completes */
    assert_int_equal(s.n, 1);
    assert_int_equal(tw_parser_rails.pending_offset(st), f.lines[1].offset);
    rails_test_feed(st, &f, 14, 21, &s); /* b completes; c and its blank line stay */
    assert_int_equal(tw_parser_rails.pending_offset(st), f.lines[15].offset);
    rails_test_feed(st, &f, 21, 35, &s); /* c completes */
    assert_true(tw_parser_rails.pending_offset(st) == TW_LOG_NO_PENDING);
    tw_parser_rails.destroy(st);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* ---- lograge ---------------------------------------------------------------------- */

static void test_lograge_json_requests_and_message_lines(void **state)
{
    (void)state;
    rails_log f;
    rails_sink s = {0};
    rails_test_parse_sample("lograge/log_bench-development.log", "user_id", &f, &s);
    assert_int_equal(s.n, f.n_lines); /* one line, one record */
    const rails_record *r = rails_test_find(&s, "method", "PATCH");
    assert_field(r, "path", "/posts/5");
    assert_field(r, "controller", "PostsController");
    assert_field(r, "action", "update");
    assert_field(r, "status", "200");
    assert_field(r, "duration_ms", "95.7");
    assert_field(r, "params", "{\"id\":\"5\",\"post\":{\"title\":\"Updated Title\"}}");
    assert_field(r, "request_id", "req_999");
    assert_field(r, "user", "1");
    assert_int_equal(r->timestamp_ms, INT64_C(1749107640250));
    assert_true(r->parsed);
    /* An SQL line logged as JSON: its own record, user_id null is no user. */
    r = &s.items[0];
    assert_false(rails_test_is_request(r));
    assert_field(r, "request_id", "req_123");
    assert_field(r, "level", "DEBUG");
    assert_null(rails_test_field(r, "user"));
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

static void test_lograge_key_value_lines_with_tags_and_error(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_text(
        &f, "method=GET path=/users/1 format=html controller=UsersController action=show "
            "status=200 duration=45.20 view=30.10 db=2.50 user_id=7\n"
            "I, [2024-01-02T03:04:05.123456 #99]  INFO -- : "
            "[0b25e636-3a45-4a4e-84af-04545328222e] [alice] method=POST path=/orders "
            "format=json controller=OrdersController action=create status=500 "
            "error='ActiveRecord::RecordInvalid: Validation failed: Name can't be blank' "
            "duration=12.00 view=0.00 db=3.10\n");
    rails_sink s = {0};
    rails_test_parse_all(&f, "user_id", &s);
    assert_int_equal(s.n, 2);
    const rails_record *r = &s.items[0];
    assert_field(r, "method", "GET");
    assert_field(r, "path", "/users/1");
    assert_field(r, "duration_ms", "45.20");
    assert_field(r, "view_ms", "30.10");
    assert_field(r, "db_ms", "2.50");
    assert_field(r, "user", "7");
    assert_int_equal(r->timestamp_ms, BASE_MS); /* no time in the line: read time */
    r = &s.items[1];
    assert_field(r, "status", "500");
    assert_field(r, "error", "ActiveRecord::RecordInvalid");
    assert_field(r, "duration_ms", "12.00");
    assert_field(r, "request_id", "0b25e636-3a45-4a4e-84af-04545328222e");
    assert_null(rails_test_field(r, "user")); /* user_id is not in that line */
    assert_int_equal(r->timestamp_ms, INT64_C(1704164645123));
    rails_test_sink_free(&s);
    rails_sink s2 = {0};
    rails_test_parse_all(&f, "2", &s2);
    assert_field(&s2.items[1], "user", "alice");
    assert_null(rails_test_field(&s2.items[0], "user"));
    rails_test_sink_free(&s2);
    rails_test_unload(&f);
}

/* ---- behaviours on small logs written here ----------------------------------- */

/* Rails 4-6 without tags: the exception is written after "Completed 500",
 * so the request stays open until the next request starts. */
static void test_bare_log_exception_after_completed_joins_its_request(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_text(
        &f, "Started GET \"/boom/1\" for 10.0.0.1 at 2015-06-01 10:00:00 +0000\n"
            "Processing by BoomController#show as HTML\n"
            "  Parameters: {\"id\"=>\"1\", \"password\"=>\"[FILTERED]\"}\n"
            "Completed 500 Internal Server Error in 3ms (ActiveRecord: 0.5ms)\n"
            "\n"
            "NoMethodError (undefined method `name' for nil:NilClass):\n"
            "  app/controllers/boom_controller.rb:12:in `show'\n"
            "\n"
            "Started GET \"/nope\" for 10.0.0.2 at 2015-06-01 10:00:01 +0000\n"
            "\n"
            "ActionController::RoutingError (No route matches [GET] \"/nope\"):\n"
            "  actionpack (4.2.0) lib/action_dispatch/middleware/debug_exceptions.rb:21\n"
            "Started GET \"/ok\" for 10.0.0.1 at 2015-06-01 10:00:02 +0000\n"
            "Processing by OkController#index as HTML\n"
            "Completed 200 OK in 1ms (Views: 0.4ms | ActiveRecord: 0.0ms)\n");
    rails_sink s = {0};
    void *st = rails_test_parser(NULL, 5000);
    rails_test_feed(st, &f, 0, 8, &s);
    assert_int_equal(s.n, 0);
    rails_test_feed(st, &f, 8, 13, &s);
    assert_int_equal(s.n, 2);
    const rails_record *boom = &s.items[0];
    assert_int_equal(rails_test_lines(boom), 8);
    assert_field(boom, "status", "500");
    assert_field(boom, "error", "NoMethodError");
    assert_field(boom, "params", "{\"id\"=>\"1\", \"password\"=>\"[FILTERED]\"}");
    assert_int_equal(boom->timestamp_ms, INT64_C(1433152800000));
    const rails_record *nope = &s.items[1];
    assert_int_equal(rails_test_lines(nope), 4);
    assert_field(nope, "error", "ActionController::RoutingError");
    assert_field(nope, "path", "/nope");
    assert_null(rails_test_field(nope, "controller"));
    rails_test_feed(st, &f, 13, 15, &s);
    assert_int_equal(s.n, 3);
    assert_field(&s.items[2], "status", "200");
    assert_true(tw_parser_rails.pending_offset(st) == TW_LOG_NO_PENDING);
    tw_parser_rails.destroy(st);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* A Logger prefix but no tags (e.g. two unicorn workers): grouped by pid. */
static void test_prefixed_untagged_requests_grouped_by_pid(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_text(
        &f,
        "I, [2024-01-02T03:04:05.000001 #100]  INFO -- : Started GET \"/a\" for 1.1.1.1 at "
        "2024-01-02 03:04:05 +0000\n"
        "I, [2024-01-02T03:04:05.000002 #200]  INFO -- : Started GET \"/b\" for 2.2.2.2 at "
        "2024-01-02 03:04:05 +0000\n"
        "I, [2024-01-02T03:04:05.000003 #100]  INFO -- : Processing by AController#index as HTML\n"
        "I, [2024-01-02T03:04:05.000004 #200]  INFO -- : Processing by BController#index as JSON\n"
        "I, [2024-01-02T03:04:05.000005 #200]  INFO -- : Completed 200 OK in 2ms (Views: 1.0ms | "
        "ActiveRecord: 0.1ms)\n"
        "I, [2024-01-02T03:04:05.000006 #100]  INFO -- : Completed 201 Created in 3ms (Views: "
        "1.0ms | ActiveRecord: 0.1ms)\n");
    rails_sink s = {0};
    rails_test_parse_all(&f, NULL, &s);
    assert_int_equal(s.n, 2);
    assert_field(&s.items[0], "path", "/b");
    assert_field(&s.items[0], "controller", "BController");
    assert_field(&s.items[0], "format", "JSON");
    assert_int_equal(rails_test_lines(&s.items[0]), 3);
    assert_field(&s.items[1], "path", "/a");
    assert_field(&s.items[1], "status", "201");
    assert_int_equal(s.items[1].offset, 0);
    assert_int_equal(s.items[1].end, f.size);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

/* A prefixed message outside any request keeps its unprefixed lines. */
static void test_multiline_message_outside_requests_is_one_record(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_text(
        &f, "E, [2024-01-02T03:04:05.123456 #42] ERROR -- : Redis::CannotConnectError: refused\n"
            "/app/lib/cache.rb:10:in `get'\n"
            "/app/lib/cache.rb:20:in `fetch'\n"
            "I, [2024-01-02T03:04:06.000000 #42]  INFO -- : Booted\n"
            "a bare line\n");
    rails_sink s = {0};
    void *st = rails_test_parser(NULL, 5000);
    rails_test_feed(st, &f, 0, 4, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(rails_test_lines(&s.items[0]), 3);
    assert_field(&s.items[0], "level", "ERROR");
    assert_int_equal(s.items[0].timestamp_ms, INT64_C(1704164645123));
    assert_int_equal(tw_parser_rails.pending_offset(st), f.lines[3].offset);
    rails_test_feed(st, &f, 4, 5, &s); /* continues "Booted" */
    tw_parser_rails.flush(st, 0, true, rails_test_collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(rails_test_lines(&s.items[1]), 2);
    tw_parser_rails.destroy(st);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
    /* In a bare log, a line outside any request is shipped as is. */
    rails_test_load_text(&f, "a bare line\n");
    rails_test_parse_all(&f, NULL, &s);
    assert_int_equal(s.n, 1);
    assert_false(s.items[0].parsed);
    assert_int_equal(s.items[0].timestamp_ms, BASE_MS);
    rails_test_sink_free(&s);
    rails_test_unload(&f);
}

static void test_user_tag_index_and_bad_values(void **state)
{
    (void)state;
    rails_log f;
    rails_test_load_text(
        &f,
        "[0b25e636-3a45-4a4e-84af-04545328222e] [alice] Started GET \"/me\" for ::1 at "
        "2024-01-02 03:04:05 UTC\n"
        "[0b25e636-3a45-4a4e-84af-04545328222e] [alice] Processing by MeController#show as HTML\n"
        "[0b25e636-3a45-4a4e-84af-04545328222e] [alice] Completed 200 OK in 1ms\n");
    const char *tags[] = {"2", NULL, "3", "1"};
    const char *users[] = {"alice", NULL, NULL, "0b25e636-3a45-4a4e-84af-04545328222e"};
    for (size_t i = 0; i < 4; i++) {
        rails_sink s = {0};
        rails_test_parse_all(&f, tags[i], &s);
        assert_int_equal(s.n, 1);
        assert_field(&s.items[0], "user", users[i]);
        assert_field(&s.items[0], "remote_addr", "::1");
        assert_int_equal(s.items[0].timestamp_ms, INT64_C(1704164645000));
        rails_test_sink_free(&s);
    }
    rails_test_unload(&f);
    const char *bad[] = {"0", "9", "12345", "user id", "x\"y"};
    for (size_t i = 0; i < 5; i++) {
        tw_log_parser_options o = {.section = "app", .user_tag = bad[i]};
        void *st = NULL;
        tw_err err = {{0}};
        assert_int_equal(tw_parser_rails.create(&o, &st, &err), -EINVAL);
        assert_null(st);
        assert_non_null(strstr(err.msg, "[logs app] user_tag: "));
    }
}

int main(void)
{
    /* Zone-less times are the host's local time: pin it. */
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sample_keeps_every_line_once_and_counts_its_requests),
        cmocka_unit_test(test_rails_1x_requests_with_seconds_converted_and_session_lines_kept),
        cmocka_unit_test(test_rails_22_completed_in_ms_with_view_and_db),
        cmocka_unit_test(test_unordered_requests_each_keep_their_completed_line),
        cmocka_unit_test(test_request_without_completed_ships_after_the_timeout),
        cmocka_unit_test(test_rails_3_partials_with_zone_offset),
        cmocka_unit_test(test_lichtbit_errors_stay_with_their_request),
        cmocka_unit_test(test_lichtbit2_two_workers_interleaved_by_request_id),
        cmocka_unit_test(test_select_rails_log_simple_filtered_params_kept_exactly),
        cmocka_unit_test(test_select_rails_log_overlapped_grouped_by_request_id),
        cmocka_unit_test(test_pending_offset_follows_the_oldest_held_line),
        cmocka_unit_test(test_lograge_json_requests_and_message_lines),
        cmocka_unit_test(test_lograge_key_value_lines_with_tags_and_error),
        cmocka_unit_test(test_bare_log_exception_after_completed_joins_its_request),
        cmocka_unit_test(test_prefixed_untagged_requests_grouped_by_pid),
        cmocka_unit_test(test_multiline_message_outside_requests_is_one_record),
        cmocka_unit_test(test_user_tag_index_and_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
