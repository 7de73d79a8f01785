/* test_cwl_names.c — log group and stream names from the config's patterns
 * (plugins/out_cloudwatch_logs/cwl_names.c): the placeholders, the
 * sanitising of their values, and CloudWatch's name rules with their
 * errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cwl_names.h"

#define NOW INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */

static tw_cwl_name_vars vars_for(tw_cwl_name_kind kind)
{
    return (tw_cwl_name_vars){
        .kind = kind,
        .hostname = "web-1.example.com",
        .file = "/var/log/nginx/access.log",
        .name = "nginx-access",
        .now_ms = NOW,
    };
}

static void expect_name(const char *pattern, const tw_cwl_name_vars *vars, const char *want)
{
    tw_buf out = TW_BUF_INIT;
    tw_err err = {{0}};
    int rc = tw_cwl_expand_name(pattern, vars, &out, &err);
    if (rc != 0)
        print_error("%s: %s\n", pattern, err.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(tw_buf_cstr(&out), want);
    tw_buf_free(&out);
}

static void expect_error(const char *pattern, const tw_cwl_name_vars *vars, const char *want)
{
    tw_buf out = TW_BUF_INIT;
    tw_buf_puts(&out, "stale");
    tw_err err = {{0}};
    assert_int_equal(tw_cwl_expand_name(pattern, vars, &out, &err), -EINVAL);
    assert_int_equal(out.len, 0);
    if (strcmp(err.msg, want) != 0)
        print_error("got      %s\nexpected %s\n", err.msg, want);
    assert_string_equal(err.msg, want);
    tw_buf_free(&out);
}

static void test_placeholders_expand(void **state)
{
    (void)state;
    tw_cwl_name_vars group = vars_for(TW_CWL_LOG_GROUP);
    tw_cwl_name_vars stream = vars_for(TW_CWL_LOG_STREAM);
    expect_name("/trailwatch/nginx/access", &group, "/trailwatch/nginx/access");
    expect_name("/trailwatch/{name}", &group, "/trailwatch/nginx-access");
    expect_name("{hostname}", &stream, "web-1.example.com");
    expect_name("{hostname}/{file}/{date}", &stream, "web-1.example.com/access.log/2023-11-14");
    expect_name("/hosts/{hostname}/{date}", &group, "/hosts/web-1.example.com/2023-11-14");
    expect_name("{file}{file}", &stream, "access.logaccess.log");
}

static void test_date_is_the_utc_day(void **state)
{
    (void)state;
    tw_cwl_name_vars v = vars_for(TW_CWL_LOG_STREAM);
    v.now_ms = INT64_C(1700006399999); /* 2023-11-14T23:59:59.999Z */
    expect_name("{date}", &v, "2023-11-14");
    v.now_ms++;
    expect_name("{date}", &v, "2023-11-15");
    v.now_ms = 0;
    expect_name("day {date}", &v, "day 1970-01-01");
}

static void test_values_are_sanitised_for_the_kind_of_name(void **state)
{
    (void)state;
    tw_cwl_name_vars v = vars_for(TW_CWL_LOG_STREAM);
    v.file = "/srv/app/logs/worker:3*.log";
    v.hostname = "host\tname\x7f\xff";
    expect_name("{file}", &v, "worker_3_.log");
    expect_name("{hostname}", &v, "host_name__");
    v.file = "caf\xc3\xa9 \xf0\x9f\x98\x80.log"; /* UTF-8 is fine in a stream name */
    expect_name("{file}", &v, "caf\xc3\xa9 \xf0\x9f\x98\x80.log");
    v.kind = TW_CWL_LOG_GROUP; /* but not in a group name */
    expect_name("/app/{file}", &v, "/app/caf_______.log");
    v.hostname = "web 1:80";
    expect_name("/hosts/{hostname}", &v, "/hosts/web_1_80");
    v.file = "access.log"; /* no directory */
    expect_name("{file}", &v, "access.log");
}

static void test_unknown_and_unset_placeholders_are_errors(void **state)
{
    (void)state;
    tw_cwl_name_vars v = vars_for(TW_CWL_LOG_STREAM);
    expect_error("{host}-x", &v,
                 "log stream \"{host}-x\": unknown placeholder at \"{host}\" (known: {hostname}, "
                 "{date}, {file}, {name})");
    expect_error("a{b", &v,
                 "log stream \"a{b\": unknown placeholder at \"{b\" (known: {hostname}, {date}, "
                 "{file}, {name})");
    v.file = NULL;
    expect_error("{hostname}-{file}", &v, "log stream \"{hostname}-{file}\": {file} has no value "
                                          "here");
    v = vars_for(TW_CWL_LOG_GROUP);
    v.hostname = NULL;
    expect_error("/h/{hostname}", &v, "log group \"/h/{hostname}\": {hostname} has no value here");
}

static void test_results_must_meet_the_name_rules(void **state)
{
    (void)state;
    tw_cwl_name_vars v = vars_for(TW_CWL_LOG_GROUP);
    expect_error("my group", &v,
                 "log group \"my group\": a space is not allowed (log group names use letters, "
                 "digits and . _ - / #)");
    v.name = "aws";
    expect_error("{name}/x", &v,
                 "log group pattern \"{name}/x\" expands to \"aws/x\": log group \"aws/x\": log "
                 "groups starting with aws/ are reserved for AWS");
    expect_error("AWS/x", &v,
                 "log group \"AWS/x\": log groups starting with aws/ are reserved for AWS");
    v = vars_for(TW_CWL_LOG_STREAM);
    expect_error("a:b", &v,
                 "log stream \"a:b\": ':' is not allowed (log stream names may hold anything but "
                 ": * and control characters)");
    expect_error("", &v, "log stream name is empty (CloudWatch needs 1 to 512 characters)");
    v.file = "/var/log/";
    expect_error("{file}", &v,
                 "log stream pattern \"{file}\" expands to \"\": log stream name is empty "
                 "(CloudWatch needs 1 to 512 characters)");
}

static void test_length_is_counted_as_aws_counts_it(void **state)
{
    (void)state;
    tw_cwl_name_vars v = vars_for(TW_CWL_LOG_STREAM);
    char name[2100];
    /* 512 'é' (1024 bytes, 512 characters): allowed. */
    name[0] = '\0';
    for (int i = 0; i < 512; i++)
        strcat(name, "\xc3\xa9");
    expect_name(name, &v, name);
    /* 256 emoji are 512 UTF-16 units; 257 are 514. */
    name[0] = '\0';
    for (int i = 0; i < 256; i++)
        strcat(name, "\xf0\x9f\x98\x80");
    expect_name(name, &v, name);
    strcat(name, "\xf0\x9f\x98\x80");
    tw_err err = {{0}};
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_STREAM, name, strlen(name), &err), -EINVAL);
    assert_non_null(strstr(err.msg, "is 514 characters long (CloudWatch allows 512)"));

    /* A host name that makes the group too long. */
    tw_cwl_name_vars g = vars_for(TW_CWL_LOG_GROUP);
    char host[600];
    memset(host, 'h', 510);
    host[510] = '\0';
    g.hostname = host;
    tw_buf out = TW_BUF_INIT;
    assert_int_equal(tw_cwl_expand_name("/a/{hostname}/bc", &g, &out, &err), -EINVAL);
    assert_int_equal(out.len, 0);
    assert_non_null(strstr(err.msg, "log group pattern \"/a/{hostname}/bc\" expands to \"/a/hhh"));
    assert_non_null(strstr(err.msg, "is 516 characters long (CloudWatch allows 512)"));
    host[506] = '\0'; /* 512 exactly */
    assert_int_equal(tw_cwl_expand_name("/a/{hostname}/bc", &g, &out, &err), 0);
    assert_int_equal(out.len, 512);
    tw_buf_free(&out);
}

static void test_check_name_refuses_what_aws_refuses(void **state)
{
    (void)state;
    tw_err err = {{0}};
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_GROUP, "/a/b-c_d.e#f", 12, NULL), 0);
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_GROUP, "/a\0b", 4, &err), -EINVAL);
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_STREAM, "a\xff", 2, &err), -EINVAL);
    assert_string_equal(err.msg, "log stream \"a\\xFF\" is not valid UTF-8");
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_STREAM, "a*", 2, &err), -EINVAL);
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_STREAM, "a\nb", 3, &err), -EINVAL);
    assert_int_equal(tw_cwl_check_name(TW_CWL_LOG_STREAM, "any thing/#!é", 14, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders_expand),
        cmocka_unit_test(test_date_is_the_utc_day),
        cmocka_unit_test(test_values_are_sanitised_for_the_kind_of_name),
        cmocka_unit_test(test_unknown_and_unset_placeholders_are_errors),
        cmocka_unit_test(test_results_must_meet_the_name_rules),
        cmocka_unit_test(test_length_is_counted_as_aws_counts_it),
        cmocka_unit_test(test_check_name_refuses_what_aws_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
