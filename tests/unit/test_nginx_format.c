/* test_nginx_format.c — nginx's log_format language
 * (plugins/parser_nginx/nginx_format.h): the compiler's errors name what is
 * wrong and the column, the nginx.conf directive form (quoted strings,
 * escape=json, ${var}), nginx's \xHH and JSON escapes undone without ever
 * producing invalid UTF-8, and request lines split into method, path and
 * protocol. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log_parser.h"
#include "nginx_format.h"
#include "parser_nginx.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- the log_format compiler -------------------------------------------- */

static void test_bad_log_formats_say_what_and_where(void **state)
{
    (void)state;
    static const struct {
        const char *format, *message;
    } cases[] = {
        {"$remote_addr - $", "log_format: \"$\" at column 16 is not followed by a variable name"},
        {"$remote_addr [$ time]",
         "log_format: \"$\" at column 15 is not followed by a variable name"},
        {"$remote_addr ${remote_user",
         "log_format: \"${\" at column 14 has no closing \"}\""},
        {"x ${} y", "log_format: \"${}\" at column 3 names no variable"},
        {"${remote-addr}", "log_format: the variable at column 1 has a \"-\" in its name "
                           "(names have letters, digits and _ only)"},
        {"", "log_format: the format is empty"},
        {"escape=json   ", "log_format: the format is empty"},
        {"[no variables here]", "log_format: the format has no variable (such as $remote_addr) "
                                "to read from a line"},
        {"$remote_addr $remote_user$request_uri",
         "log_format: \"$remote_user\" at column 14 is followed directly by \"$request_uri\"; "
         "with no text between them a line cannot be split (put a separator such as a space "
         "between them)"},
        {"escape=yaml $remote_addr", "log_format: unknown \"escape=yaml\" at column 1 (expected "
                                     "escape=default, escape=json or escape=none)"},
        {"log_format main '$remote_addr", "log_format: the string quoted at column 17 is not "
                                          "closed"},
        {"log_format main;", "log_format: the directive has no format string after its name"},
        {"log_format 'x'", "log_format: no format name at column 12 (expected log_format NAME "
                           "'format...';)"},
        {"log_format main '$a'; extra", "log_format: unexpected text at column 23 after the "
                                        "\";\""},
        {"log_format main escape=xml '$a';",
         "log_format: unknown \"escape=xml\" at column 17 (expected escape=default, escape=json "
         "or escape=none)"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_err err = {{0}};
        tw_nginx_format *f = (tw_nginx_format *)&err; /* must stay untouched */
        int rc = tw_nginx_format_compile(cases[i].format, strlen(cases[i].format), &f, &err);
        if (rc != -EINVAL || strcmp(err.msg, cases[i].message) != 0)
            fail_msg("format '%s': rc %d, message\n  %s\nexpected\n  %s", cases[i].format, rc,
                     err.msg, cases[i].message);
        assert_ptr_equal(f, (tw_nginx_format *)&err);
    }
    /* The parser's create reports the same sentence. */
    tw_log_parser_options options = {.section = "x", .log_format = "$remote_addr $"};
    void *parser = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_parser_nginx.create(&options, &parser, &err), -EINVAL);
    assert_string_equal(err.msg,
                        "log_format: \"$\" at column 14 is not followed by a variable name");
    assert_null(parser);
}

static void test_directive_form_with_escape_and_quoted_strings(void **state)
{
    (void)state;
    /* As in nginx.conf: several quoted strings joined, nginx's \" escape
     * inside them, ${var} and escape=json. */
    static const char text[] = "log_format  trail escape=json\n"
                               "  '{\"addr\":\"$remote_addr\",\"t\":\"${msec}\",'\n"
                               "  \"\\\"ua\\\":\\\"$http_user_agent\\\"}\" ;";
    tw_nginx_format *f = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_nginx_format_compile(text, strlen(text), &f, &err), 0);
    assert_int_equal(tw_nginx_format_escape(f), TW_NGINX_ESCAPE_JSON);
    assert_int_equal(tw_nginx_format_var_count(f), 3);
    assert_string_equal(tw_nginx_format_var(f, 0)->name, "remote_addr");
    assert_string_equal(tw_nginx_format_var(f, 1)->name, "msec");
    assert_int_equal(tw_nginx_format_var(f, 1)->kind, TW_NGINX_VAR_MSEC);
    static const char line[] = "{\"addr\":\"::1\",\"t\":\"1.5\",\"ua\":\"a \\\"b\\\"\"}";
    tw_nginx_span v[3];
    assert_true(tw_nginx_format_match(f, line, strlen(line), v));
    assert_int_equal(v[0].len, 3);
    assert_memory_equal(v[0].text, "::1", 3);
    assert_int_equal(v[2].len, 7);
    assert_memory_equal(v[2].text, "a \\\"b\\\"", 7);
    tw_nginx_format_free(f);
}

/* ---- escapes ------------------------------------------------------------ */

static void assert_unescapes(tw_nginx_escape escape, const char *in, const char *want,
                             size_t want_len)
{
    char out[256];
    size_t n = tw_nginx_unescape(escape, in, strlen(in), out);
    assert_true(n <= strlen(in));
    if (n != want_len || memcmp(out, want, n) != 0)
        fail_msg("unescaping '%s' gave '%.*s' (%zu bytes)", in, (int)n, out, n);
}

#define UNESCAPES(escape, in, want) assert_unescapes(escape, in, want, sizeof want - 1)

static void test_default_escapes_become_bytes_when_they_are_utf8(void **state)
{
    (void)state;
    const tw_nginx_escape d = TW_NGINX_ESCAPE_DEFAULT;
    UNESCAPES(d, "GET /a\\x22b\\x5Cc HTTP/1.1", "GET /a\"b\\c HTTP/1.1");
    UNESCAPES(d, "\\xD9\\x85\\xDA\\xAF", "\xD9\x85\xDA\xAF");           /* Persian */
    UNESCAPES(d, "x\\xe2\\x80\\x94y", "x\xE2\x80\x94y");                /* lower-case hex */
    UNESCAPES(d, "\\xF0\\x9F\\x98\\x80", "\xF0\x9F\x98\x80");           /* 4 bytes */
    UNESCAPES(d, "\\x16\\x03\\x01\\x00t", "\x16\x03\x01\x00t");         /* NUL is a byte */
    UNESCAPES(d, "\\xAD\\x00", "\\xAD\x00");                            /* no lead byte */
    UNESCAPES(d, "\\xC5\\x1A", "\\xC5\x1A");                            /* no continuation */
    UNESCAPES(d, "\\xE2\\x80", "\\xE2\\x80");                           /* cut short */
    UNESCAPES(d, "\\xED\\xA0\\x80", "\\xED\\xA0\\x80");                 /* a surrogate */
    UNESCAPES(d, "\\xC0\\xAF", "\\xC0\\xAF");                           /* overlong '/' */
    UNESCAPES(d, "a\\b\\x4\\xZZ\\", "a\\b\\x4\\xZZ\\");                 /* not escapes */
    UNESCAPES(TW_NGINX_ESCAPE_NONE, "a\\x22", "a\\x22");
}

static void test_json_escapes_are_undone(void **state)
{
    (void)state;
    const tw_nginx_escape j = TW_NGINX_ESCAPE_JSON;
    UNESCAPES(j, "\\\"a\\\\b\\/c\\n\\t\\r\\b\\f", "\"a\\b/c\n\t\r\b\f");
    UNESCAPES(j, "\\u00e9\\u0001\\u20AC", "\xC3\xA9\x01\xE2\x82\xAC");
    UNESCAPES(j, "\\ud83d\\ude00", "\xF0\x9F\x98\x80");
    UNESCAPES(j, "\\ud800x\\udc00\\q\\u12", "\\ud800x\\udc00\\q\\u12");
}

static void test_request_lines_are_split(void **state)
{
    (void)state;
    static const struct {
        const char *line, *method, *path, *protocol;
    } cases[] = {
        {"GET /a?b=c HTTP/1.1", "GET", "/a?b=c", "HTTP/1.1"},
        {"POST https://example.com/12&3.html", "POST", "https://example.com/12&3.html", ""},
        {"GET /a b HTTP/1.0", "GET", "/a b", "HTTP/1.0"},
        {"M-SEARCH * HTTP/1.1", "M-SEARCH", "*", "HTTP/1.1"},
        {"hello", NULL, NULL, NULL},
        {"GET ", NULL, NULL, NULL},
        {"GET  HTTP/1.1", NULL, NULL, NULL},
        {"\x16\x03\x01 x", NULL, NULL, NULL},
        {"", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_nginx_request r;
        bool ok = tw_nginx_split_request(cases[i].line, strlen(cases[i].line), &r);
        if (ok != (cases[i].method != NULL))
            fail_msg("'%s': split %d", cases[i].line, ok);
        if (!ok)
            continue;
        assert_int_equal(r.method.len, strlen(cases[i].method));
        assert_memory_equal(r.method.text, cases[i].method, r.method.len);
        assert_int_equal(r.path.len, strlen(cases[i].path));
        assert_memory_equal(r.path.text, cases[i].path, r.path.len);
        assert_int_equal(r.protocol.len, strlen(cases[i].protocol));
        if (r.protocol.len > 0)
            assert_memory_equal(r.protocol.text, cases[i].protocol, r.protocol.len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_log_formats_say_what_and_where),
        cmocka_unit_test(test_directive_form_with_escape_and_quoted_strings),
        cmocka_unit_test(test_default_escapes_become_bytes_when_they_are_utf8),
        cmocka_unit_test(test_json_escapes_are_undone),
        cmocka_unit_test(test_request_lines_are_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
