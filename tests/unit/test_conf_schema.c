/* test_conf_schema.c — typed key tables (lib/conf_schema.h) over parsed
 * configuration text: every value type converted, absent keys left alone,
 * each bad value reported on its line (secrets never shown), checks and
 * one-line keys enforced, and the boolean words and near-miss suggestions
 * users see. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_schema.h"
#include "err.h"
#include "testutil.h"

typedef struct model {
    const char *name;
    bool flag;
    uint64_t wait_ms;
    uint64_t size;
    int64_t count;
    const char *mode;
    const char *dir;
    const char *list;
    int64_t pin;
} model;

static int check_no_x(const char *value, tw_err *err)
{
    if (strchr(value, 'x') != NULL)
        return tw_err_set(err, -EINVAL, "\"%s\" contains an x", value);
    return 0;
}

static const char *const modes[] = {"fast", "slow", "off", NULL};

static const tw_conf_key model_keys[] = {
    {.name = "name", .type = TW_CONF_STRING, .offset = offsetof(model, name),
     .flags = TW_CONF_REQUIRED, .check = check_no_x},
    {.name = "flag", .type = TW_CONF_BOOL, .offset = offsetof(model, flag)},
    {.name = "wait", .type = TW_CONF_DURATION, .offset = offsetof(model, wait_ms), .min = 100,
     .max = 60000},
    {.name = "size", .type = TW_CONF_SIZE, .offset = offsetof(model, size), .min = 1024,
     .max = 1048576},
    {.name = "count", .type = TW_CONF_INT, .offset = offsetof(model, count), .min = -5,
     .max = 10},
    {.name = "mode", .type = TW_CONF_ENUM, .offset = offsetof(model, mode), .choices = modes},
    {.name = "dir", .type = TW_CONF_ABSPATH, .offset = offsetof(model, dir)},
    {.name = "list", .type = TW_CONF_STRING, .offset = offsetof(model, list),
     .flags = TW_CONF_MULTILINE},
    {.name = "pin", .type = TW_CONF_INT, .offset = offsetof(model, pin),
     .flags = TW_CONF_SECRET},
};

#define N_MODEL_KEYS (sizeof model_keys / sizeof model_keys[0])

static int apply_text(tw_conf *conf, const char *text, model *m, bool allow_unknown)
{
    tw_conf_init(conf);
    tw_conf_load_string(conf, "s.conf", text);
    const tw_conf_section *s = tw_conf_find_section(conf, "s");
    assert_non_null(s);
    return tw_conf_apply(conf, s, model_keys, N_MODEL_KEYS, m, allow_unknown);
}

static void test_apply_converts_every_type(void **state)
{
    (void)state;
    tw_conf conf;
    model m = {.count = 99};
    int n = apply_text(&conf,
                       "[s]\n"
                       "name = hello\n"
                       "flag = On\n"
                       "wait = 1.5s\n"
                       "size = 64KiB\n"
                       "count = -5\n"
                       "mode = slow\n"
                       "dir = /var/lib/x\n"
                       "list = a\n"
                       "  b\n"
                       "pin = 1234\n",
                       &m, false);
    assert_int_equal(n, 0);
    assert_conf_error_count(&conf, 0);
    assert_string_equal(m.name, "hello");
    assert_true(m.flag);
    assert_int_equal(m.wait_ms, 1500);
    assert_int_equal(m.size, 65536);
    assert_int_equal(m.count, -5);
    assert_string_equal(m.mode, "slow");
    assert_ptr_equal(m.mode, modes[1]); /* the table's string, not a copy */
    assert_string_equal(m.dir, "/var/lib/x");
    assert_string_equal(m.list, "a b");
    assert_int_equal(m.pin, 1234);
    tw_conf_free(&conf);
}

static void test_apply_leaves_absent_keys_alone(void **state)
{
    (void)state;
    tw_conf conf;
    model m = {.flag = true, .wait_ms = 777, .count = 3, .mode = "default"};
    assert_int_equal(apply_text(&conf, "[s]\nname = n\n", &m, false), 0);
    assert_true(m.flag);
    assert_int_equal(m.wait_ms, 777);
    assert_int_equal(m.count, 3);
    assert_string_equal(m.mode, "default");
    assert_null(m.dir);
    tw_conf_free(&conf);
}

static void test_apply_reports_each_bad_value_on_its_line(void **state)
{
    (void)state;
    tw_conf conf;
    model m = {0};
    int n = apply_text(&conf,
                       "[s]\n"                 /* 1: name is missing */
                       "flag = yep\n"          /* 2 */
                       "wait = 50ms\n"         /* 3 */
                       "size = 2MiB\n"         /* 4 */
                       "count = 11\n"          /* 5 */
                       "mode = medium\n"       /* 6 */
                       "dir = relative/dir\n"  /* 7 */
                       "count2 = 1\n"          /* 8 */
                       "zzzzzz = 1\n"          /* 9 */
                       "pin = 12ab34\n"        /* 10 */
                       "wait2 = 1s\n",         /* 11 */
                       &m, false);
    assert_int_equal(n, 11);
    assert_conf_error_count(&conf, 11);
    assert_conf_error(&conf, 0, "s.conf", 2,
                 "[s] flag: \"yep\" is not a boolean (expected yes/no, true/false, on/off or "
                 "1/0)");
    assert_conf_error(&conf, 1, "s.conf", 3, "[s] wait: \"50ms\" is out of range (100ms to 1m)");
    assert_conf_error(&conf, 2, "s.conf", 4, "[s] size: \"2MiB\" is out of range (1KiB to 1MiB)");
    assert_conf_error(&conf, 3, "s.conf", 5, "[s] count: 11 is out of range (-5 to 10)");
    assert_conf_error(&conf, 4, "s.conf", 6,
                 "[s] mode: \"medium\" is not one of fast, slow or off");
    assert_conf_error(&conf, 5, "s.conf", 7, "[s] dir: \"relative/dir\" must be an absolute path");
    assert_conf_error(&conf, 6, "s.conf", 8, "[s] unknown key \"count2\" (did you mean \"count\"?)");
    assert_conf_error(&conf, 7, "s.conf", 9,
                 "[s] unknown key \"zzzzzz\" (known keys: name, flag, wait, size, count, mode, "
                 "dir, list, pin)");
    /* A secret's value never appears in a message. */
    assert_conf_error(&conf, 8, "s.conf", 10, "[s] pin: is not valid (value not shown: secret)");
    assert_null(strstr(conf.errors[8], "12ab34"));
    assert_conf_error(&conf, 9, "s.conf", 11, "[s] unknown key \"wait2\" (did you mean \"wait\"?)");
    assert_conf_error(&conf, 10, "s.conf", 1, "[s] needs a \"name\" key");
    /* Bad values leave the fields alone. */
    assert_false(m.flag);
    assert_int_equal(m.count, 0);
    assert_null(m.mode);
    assert_null(m.dir);
    tw_conf_free(&conf);
}

static void test_apply_runs_checks_and_rejects_empty_strings(void **state)
{
    (void)state;
    tw_conf conf;
    model m = {0};
    int n = apply_text(&conf, "[s]\nname = box\ndir =\n", &m, false);
    assert_int_equal(n, 2);
    assert_conf_error(&conf, 0, "s.conf", 2, "[s] name: \"box\" contains an x");
    assert_conf_error(&conf, 1, "s.conf", 3, "[s] dir: is empty");
    assert_null(m.name);
    tw_conf_free(&conf);
}

static void test_apply_rejects_continuation_on_a_one_line_key(void **state)
{
    (void)state;
    tw_conf conf;
    model m = {0};
    int n = apply_text(&conf, "[s]\nname = a\n  b\nlist = c\n  d\n", &m, false);
    assert_int_equal(n, 1);
    assert_conf_error(&conf, 0, "s.conf", 3,
                 "[s] name: this indented line continues the value of \"name\" (line 2), which "
                 "takes one line; remove the indentation if it is a key of its own");
    assert_string_equal(m.list, "c d");
    tw_conf_free(&conf);
}

static void test_apply_allows_unknown_keys_when_asked(void **state)
{
    (void)state;
    tw_conf conf;
    model m = {0};
    assert_int_equal(apply_text(&conf, "[s]\nname = n\nplugin_key = 1\n", &m, true), 0);
    assert_conf_error_count(&conf, 0);
    tw_conf_free(&conf);
}

static void test_parse_bool_words(void **state)
{
    (void)state;
    const char *yes[] = {"yes", "true", "on", "1", "YES", "True", "ON"};
    const char *no[] = {"no", "false", "off", "0", "NO", "False", "Off"};
    const char *bad[] = {"", "y", "n", "2", "yes ", "enable", "nope"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        bool v = false;
        assert_int_equal(tw_conf_parse_bool(yes[i], &v), 0);
        assert_true(v);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        bool v = true;
        assert_int_equal(tw_conf_parse_bool(no[i], &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool v = true;
        assert_int_equal(tw_conf_parse_bool(bad[i], &v), -EINVAL);
        assert_true(v);
    }
}

static void test_closest_finds_near_misses_only(void **state)
{
    (void)state;
    const char *words[] = {"interval", "namespace", "disk", "diskio"};
    assert_string_equal(tw_conf_closest("intervall", words, 4), "interval");
    assert_string_equal(tw_conf_closest("namespcae", words, 4), "namespace");
    assert_string_equal(tw_conf_closest("dsk", words, 4), "disk");
    assert_string_equal(tw_conf_closest("diskioo", words, 4), "diskio");
    assert_null(tw_conf_closest("frobnicate", words, 4));
    assert_null(tw_conf_closest("int", words, 4));
    assert_null(tw_conf_closest("x", words, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_converts_every_type),
        cmocka_unit_test(test_apply_leaves_absent_keys_alone),
        cmocka_unit_test(test_apply_reports_each_bad_value_on_its_line),
        cmocka_unit_test(test_apply_runs_checks_and_rejects_empty_strings),
        cmocka_unit_test(test_apply_rejects_continuation_on_a_one_line_key),
        cmocka_unit_test(test_apply_allows_unknown_keys_when_asked),
        cmocka_unit_test(test_parse_bool_words),
        cmocka_unit_test(test_closest_finds_near_misses_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
