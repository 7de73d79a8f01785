/* test_multiline.c — start-pattern grouping (agent/multiline.h): groups end
 * at the next start line, at the size cap, and on flush; offsets span the
 * group's lines; what is held is reported for checkpoints. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "multiline.h"

typedef struct out {
    char text[8][128];
    uint64_t offset[8], end[8];
    int n;
} out;

static void collect(void *ctx, const tw_log_line *line)
{
    out *o = ctx;
    assert_true(o->n < 8);
    snprintf(o->text[o->n], sizeof o->text[o->n], "%.*s", (int)line->len, line->text);
    o->offset[o->n] = line->offset;
    o->end[o->n] = line->end;
    o->n++;
}

/* Feeds text's lines at their file offsets. */
static void feed(tw_multiline *m, const char *text, out *o)
{
    uint64_t at = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p);
        tw_log_line line = {.text = p, .len = len, .offset = at, .end = at + len + 1,
                            .read_time_ms = 1000};
        tw_multiline_add(m, &line, collect, o);
        at += len + 1;
        p = nl + 1;
    }
}

static void test_groups_end_at_the_next_start_and_on_flush(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9]", REG_EXTENDED | REG_NOSUB), 0);
    tw_multiline m;
    tw_multiline_init(&m, &re, 1024);
    out o = {0};
    assert_true(tw_multiline_pending(&m) == TW_LOG_NO_PENDING);
    feed(&m, "1 boom\n  at a\n  at b\n2 fine\n3 again\n  at c\n", &o);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.text[0], "1 boom\n  at a\n  at b");
    assert_int_equal(o.offset[0], 0);
    assert_int_equal(o.end[0], 21);
    assert_string_equal(o.text[1], "2 fine");
    assert_int_equal(tw_multiline_pending(&m), 28); /* "3 again" is held */
    tw_multiline_flush(&m, collect, &o);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.text[2], "3 again\n  at c");
    assert_int_equal(o.end[2], 43);
    assert_true(tw_multiline_pending(&m) == TW_LOG_NO_PENDING);
    tw_multiline_free(&m);
    regfree(&re);
}

static void test_a_group_never_outgrows_its_cap_and_no_line_is_lost(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^START", REG_EXTENDED | REG_NOSUB), 0);
    tw_multiline m;
    tw_multiline_init(&m, &re, 20);
    out o = {0};
    /* Continuation lines before any start line form a group of their own. */
    feed(&m, "orphan\nSTART 1\n0123456789\n0123456789\n", &o);
    tw_multiline_flush(&m, collect, &o);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.text[0], "orphan");
    assert_string_equal(o.text[1], "START 1\n0123456789");
    assert_string_equal(o.text[2], "0123456789");
    tw_multiline_free(&m);
    regfree(&re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_end_at_the_next_start_and_on_flush),
        cmocka_unit_test(test_a_group_never_outgrows_its_cap_and_no_line_is_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
