/* test_filter_pattern.c — the CloudWatch Logs filter-pattern language
 * (collector/logs/filter_pattern.h): AWS's documented examples and our
 * edge cases as a (pattern, message, expected) table, malformed patterns
 * with the sentence each one gets, concurrent matching from several
 * threads, inputs that would blow up a backtracking matcher, and a
 * throughput measurement over 1,000,000 messages (printed, not asserted). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "err.h"
#include "filter_pattern.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef struct match_case {
    const char *pattern;
    const char *message;
    bool expected;
} match_case;

typedef struct bad_case {
    const char *pattern;
    const char *message;
} bad_case;

/* The documentation's example events. */
#define E400 "[ERROR 400] BAD REQUEST"
#define E401 "[ERROR 401] UNAUTHORIZED REQUEST"
#define E419 "[ERROR 419] MISSING ARGUMENTS"
#define E420 "[ERROR 420] INVALID ARGUMENTS"
#define S200 "[SUCCESS 200] AUTHORIZED REQUEST"

#define TRAIL_JSON                                                                          \
    "{\"eventType\": \"UpdateTrail\", \"sourceIPAddress\": \"111.111.111.111\","           \
    " \"arrayKey\": [\"value\", \"another value\"], \"objectList\": [{\"name\": \"a\","     \
    " \"id\": 1}, {\"name\": \"b\", \"id\": 2}], \"SomeObject\": null, \"ThisFlag\": true}"

#define USERS_JSON                                                                          \
    "{\"user\": {\"id\": 1, \"email\": \"John.Stiles@example.com\"}, \"users\": [{\"id\": 2," \
    " \"email\": \"John.Doe@example.com\"}, {\"id\": 3, \"email\": \"Jane.Doe@example.com\"}]," \
    " \"actions\": [\"GET\", \"PUT\", \"DELETE\"], \"coordinates\": [[0, 1, 2], [4, 5, 6],"   \
    " [7, 8, 9]]}"

#define CLF_200 "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534"
#define CLF_500 "127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] \"GET /apache_pb.gif HTTP/1.0\" 500 5324"
#define CLF_404 "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534"
#define CLF_403 "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 403 1534"

static const match_case documented_cases[] = {
    /* Unstructured terms (AWS: "Matching terms in unstructured log events"). */
    {"ERROR", E400, true},
    {"ERROR", E420, true},
    {"ERROR", S200, false},
    {"ERROR ARGUMENTS", E419, true},
    {"ERROR ARGUMENTS", E400, false},
    {"?ERROR ?ARGUMENTS", E401, true},
    {"?ERROR ?ARGUMENTS", S200, false},
    {"ERROR -ARGUMENTS", E400, true},
    {"ERROR -ARGUMENTS", E420, false},
    {"\"INTERNAL SERVER ERROR\"", "[ERROR 500] INTERNAL SERVER ERROR", true},
    {"\"INTERNAL SERVER ERROR\"", "[ERROR 500] INTERNAL ERROR SERVER", false},
    {"ERROR -\"INVALID ARGUMENTS\"", E419, true},
    {"ERROR -\"INVALID ARGUMENTS\"", E420, false},
    {"\" \"", E400, true},
    {"%AUTHORIZED%", E401, true},
    {"%AUTHORIZED%", S200, true},
    {"%AUTHORIZED%", E400, false},
    /* The older page's examples. */
    {"\"ERROR\"", "[ERROR] A fatal exception has occurred", true},
    {"\"ERROR\"", "Exiting with ERRORCODE: -1", true},
    {"\"ERROR\" -\"Exiting\"", "Exiting with ERRORCODE: -1", false},
    {"ERROR Exception", "[ERROR] Caught IllegalArgumentException", true},
    {"Failed to process the request", "[WARN] Failed to process the request", true},
    {"Failed to process the request", "[WARN] Failed to process", false},
    {"?ERROR ?WARN", "WARN message", true},
    {"ERROR WARN", "ERROR message", false},
    {"ERROR WARN", "ERROR WARN message", true},
    {"ERROR -WARN", "ERROR message", true},
    {"ERROR -WARN", "ERROR WARN message", false},
    {"[w1=ERROR, w2]", "ERROR message", true},
    {"[w1=ERROR, w2]", "ERROR WARN message", false},
    {"[w1=ERROR || w1=WARN, w2]", "WARN message", true},
    {"[w1!=ERROR && w1!=WARN, w2]", "INFO message", true},
    {"[w1!=ERROR && w1!=WARN, w2]", "ERROR message", false},
    {"{$.foo = bar}", "{\"foo\": \"bar\"}", true},
    {"{$.foo = baz }", "{\"foo\": \"bar\"}", false},
    {"{$.foo = bar || $.foo = baz }", "{\"foo\": \"baz\"}", true},
    /* JSON events. */
    {"{ $.eventType = \"UpdateTrail\" }", TRAIL_JSON, true},
    {"{ $.eventType = \"DeleteTrail\" }", TRAIL_JSON, false},
    {"{ $.sourceIPAddress != 123.123.* }", TRAIL_JSON, true},
    {"{ $.sourceIPAddress != 111.111.* }", TRAIL_JSON, false},
    {"{ $.arrayKey[0] = \"value\" }", TRAIL_JSON, true},
    {"{ $.arrayKey[1] = \"value\" }", TRAIL_JSON, false},
    {"{ $.objectList[1].id = 2 }", TRAIL_JSON, true},
    {"{ $.objectList[0].id = 2 }", TRAIL_JSON, false},
    {"{ $.SomeObject IS NULL }", TRAIL_JSON, true},
    {"{ $.eventType IS NULL }", TRAIL_JSON, false},
    {"{ $.SomeOtherObject NOT EXISTS }", TRAIL_JSON, true},
    {"{ $.SomeObject NOT EXISTS }", TRAIL_JSON, false},
    {"{ $.ThisFlag IS TRUE }", TRAIL_JSON, true},
    {"{ $.ThisFlag IS FALSE }", TRAIL_JSON, false},
    {"{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", USERS_JSON, true},
    {"{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }",
     USERS_JSON, false},
    {"{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && "
     "$.actions[2] = nomatch }",
     USERS_JSON, true},
    {"{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch) && "
     "$.actions[2] = nomatch }",
     USERS_JSON, false},
    {"{ $.coordinates[2][0] = 7 }", USERS_JSON, true},
    {"{$.users = 1}", "{\"users\": [1, 2, 3]}", false},
    {"{$.users != 1}", "{\"users\": [1, 2, 3]}", false},
    {"{ $.latency >= 500 }", "{\"latency\": 500}", true},
    {"{ $.latency >= 500 }", "{\"latency\": 499.9}", false},
    {"{ $.numbers[0] < 10e3 }", "{\"numbers\": [9999]}", true},
    {"{ $.numbers[0] < 10e-3 }", "{\"numbers\": [0.001]}", true},
    {"{ $.numbers[0] < 10e-3 }", "{\"numbers\": [0.01]}", false},
    {"{ $.processes[4].averageRuntime <= 55.5 }",
     "{\"processes\": [{}, {}, {}, {}, {\"averageRuntime\": 55.5}]}", true},
    {"{ $.errorCode = 400 }", "{\"errorCode\": 400}", true},
    {"{ $.errorCode != 500 }", "{\"errorCode\": 400}", true},
    {"{ $.errorCode != 500 }", "{\"errorCode\": 500}", false},
    {"{ $.latency > +1000 }", "{\"latency\": 1001}", true},
    {"{ $.bandwidth > 75 }", "{\"bandwidth\": 75}", false},
    {"{ $.number[0] = 1e-3 }", "{\"number\": [0.001]}", true},
    {"{ $.number[0] != 1e+3 }", "{\"number\": [1000]}", false},
    {"{ $.latency = * }", "{\"latency\": 12}", true},
    {"{ $.latency = * }", "{\"other\": 12}", false},
    /* Space-delimited events. */
    {"[ip, user, username, timestamp, request, status_code, bytes]", CLF_200, true},
    {"[ip, user, username, timestamp, request, status_code, bytes > 1000]", CLF_200, true},
    {"[ip, user, username, timestamp, request, status_code, bytes > 2000]", CLF_200, false},
    {"[ip, user, username, timestamp, request, status_code = 200, bytes]", CLF_200, true},
    {"[ip, user, username, timestamp, request, status_code = 200, bytes]", CLF_500, false},
    {"[ip, user, username, timestamp, request, status_code = 4*, bytes]", CLF_404, true},
    {"[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", CLF_404, true},
    {"[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", CLF_200,
     false},
    {"[ip, user, username, timestamp, request, status_code = 4* || status_code = 5*, bytes]",
     CLF_500, true},
    {"[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
     CLF_404, true},
    {"[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
     CLF_403, false},
    {"[..., status_code, bytes]", CLF_200, true},
    {"[ip, user, ..., status_code, bytes]", CLF_200, true},
    {"[ip, user, ...]", CLF_200, true},
    {"[..., request=*.html*, status_code=4*,]", CLF_404, true},
    {"[ip, user, username]", CLF_200, false},
};

static const match_case edge_cases[] = {
    /* Everything, nothing, case, quoting. */
    {"", "anything at all", true},
    {"", "", true},
    {"   ", "x", true},
    {"\"\"", "x", true},
    {"-\"\"", "x", false},
    {"error", "ERROR", false},
    {"\"say \\\"hi\\\"\"", "he said say \"hi\" to me", true},
    {"\"back\\\\slash\"", "a back\\slash b", true},
    {"\"ERROR\"", "", false},
    {"10.0.0.1", "client 10.0.0.1 refused", true},
    {"-ERROR", "all good", true},
    {"-ERROR", "ERROR here", false},
    {"?A ?B C", "C and B", true},
    {"?A ?B C", "A and B", false},
    {"?A ?B -C", "A only", true},
    {"?A ?B -C", "A and C", false},
    {"ERROR %^\\[ERROR%", E400, true},
    {"ERROR -%^\\[ERROR%", E400, false},
    /* Regular expressions. */
    {"%^\\[ERROR\\s4\\d{2}\\]%", E401, true},
    {"%^\\[ERROR\\s4\\d{2}\\]%", "[ERROR 500] X", false},
    {"%gray|grey%", "a grey cat", true},
    {"%gr[ae]y%", "a gray cat", true},
    {"%colou?r%", "color", true},
    {"%10\\.10\\.0\\.\\d+%", "from 10.10.0.17", true},
    {"%10\\.10\\.0\\.\\d+%", "from 10x10x0x17", false},
    {"%\\x28paren\\x29%", "a (paren) here", true},
    {"%[^a-z]%", "abc", false},
    {"%[]a]%", "x]", true},
    {"%[\\d-]%", "a-b", true},
    {"%[\\^]%", "a^b", true},
    {"%^ERROR$%", "ERROR", true},
    {"%^ERROR$%", "ERRORS", false},
    {"%a{2,}%", "baab", true},
    {"%a{2,}%", "bab", false},
    {"%xab+*?c%", "xac", true},
    {"%xab++c%", "xabbc", true},
    {"%xab++c%", "xac", false},
    {"%xab??c%", "xabbc", false},
    /* JSON edges. */
    {"{ $.a = 1 }", "a = 1", false},
    {"{ $.a = 1 }", "{\"a\": 1", false},
    {"{ $.a = 1 }", "[1]", false},
    {"{ $.a = 1 }", "  {\"a\": 1}\n", true},
    {"{ $.a = 1.0 }", "{\"a\": 1}", true},
    {"{ $.errorCode = 400 }", "{\"errorCode\": \"400\"}", false},
    {"{ $.errorCode > 1 }", "{\"errorCode\": \"400\"}", false},
    {"{ $.status = 4* }", "{\"status\": 404}", true},
    {"{ $.n = \"*\" }", "{\"n\": 1.5}", true},
    {"{ $.n = 1.5* }", "{\"n\": 1.5}", true},
    {"{ $.flag = true }", "{\"flag\": true}", true},
    {"{ $.x != \"a\" }", "{\"x\": null}", false},
    {"{ $.x IS NULL }", "{}", false},
    {"{ $.ip = 10.*.1 }", "{\"ip\": \"10.20.30.1\"}", true},
    {"{ $.ip = 10.*.1 }", "{\"ip\": \"10.20.30.12\"}", false},
    {"{ $.s = \"a\\*b\" }", "{\"s\": \"a*b\"}", true},
    {"{ $.s = \"a\\*b\" }", "{\"s\": \"axxb\"}", false},
    {"{ $.s = \"\" }", "{\"s\": \"\"}", true},
    {"{ $.['key with space'] = 1 }", "{\"key with space\": 1}", true},
    {"{ $.[\"dotted.key\"].x = \"v\" }", "{\"dotted.key\": {\"x\": \"v\"}}", true},
    {"{ $.a[*].id = 3 }", "{\"a\": [{\"id\": 1}, {\"id\": 3}]}", true},
    {"{ $.a[*].id = 4 }", "{\"a\": [{\"id\": 1}, {\"id\": 3}]}", false},
    {"{ $.a.*.id = 3 }", "{\"a\": {\"p\": {\"id\": 1}, \"q\": {\"id\": 3}}}", true},
    {"{ $.a[*] NOT EXISTS }", "{\"a\": []}", true},
    {"{ $.eventType = %Trail% }", TRAIL_JSON, true},
    {"{ $.eventType != %Trail% }", TRAIL_JSON, false},
    {"{ $.a = 1 || $.b = 1 && $.c = 1 }", "{\"a\": 1, \"b\": 0, \"c\": 0}", true},
    {"{ ($.a = 1 || $.b = 1) && $.c = 1 }", "{\"a\": 1, \"b\": 0, \"c\": 0}", false},
    {"{ $.n > 1e20 }", "{\"n\": 123456789012345678901234567890}", true},
    {"{ $.a.b = 1 }", "{\"a\": \"not an object\"}", false},
    {"{ $.a.b NOT EXISTS }", "{\"a\": \"not an object\"}", true},
    {"{ $.level is null }", "{\"level\": null}", true},
    /* Space-delimited edges. */
    {"[...]", "", true},
    {"[a]", "", false},
    {"[a, b]", "\"abc def", true},
    {"[a, b > 10]", "x 9", false},
    {"[a, b > 10]", "x 11", true},
    {"[a, b > 10]", "x abc", false},
    {"[a, b = 11]", "x 11.0", true},
    {"[a, b != 11]", "x abc", false},
    {"[ts = \"10/Oct/2000:13:25:15 -0700\", ...]", "[10/Oct/2000:13:25:15 -0700] GET", true},
    {"[..., request = *GET*, ..., bytes]", CLF_200, true},
    {"[..., request = *POST*, ..., bytes]", CLF_200, false},
    {"[ip, ..., request = %^GET\\s/apache%, status_code, bytes]", CLF_200, true},
    {"[w1 = %^E%, w2]", "ERROR message", true},
    {"[a, (b = 1 || b = 2) && b != 2, c]", "x 2 y", false},
    {"[a, (b = 1 || b = 2) && b != 2, c]", "x 1 y", true},
    {"[a, ..., b, ..., c = z]", "a b c d z", true},
    {"[a, ..., b = q, ..., c = z]", "a b c d z", false},
    {"[a,,c]", "x y z", true},
    {"[a,,c]", "x z", false},
    {"[a = x,]", "x y", true},
    {"[a = x,]", "x", false},
    {"[,,,,,,,,]", "1 2 3 4 5 6 7 8 9", true},
    {"[,,,,,,,,]", "1 2 3 4 5 6 7 8", false},
};

static tw_filter_pattern *compile_ok(const char *text)
{
    tw_err err = {{0}};
    tw_filter_pattern *pattern = NULL;
    int rc = tw_filter_pattern_compile(text, strlen(text), &pattern, &err);
    if (rc != 0)
        print_error("pattern \"%s\" rejected: %s\n", text, err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(pattern);
    return pattern;
}

static void assert_table(const match_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        tw_filter_pattern *pattern = compile_ok(cases[i].pattern);
        bool got = tw_filter_pattern_match(pattern, cases[i].message, strlen(cases[i].message));
        if (got != cases[i].expected)
            print_error("pattern \"%s\" on \"%s\": got %d, expected %d\n", cases[i].pattern,
                        cases[i].message, got, cases[i].expected);
        assert_int_equal(got, cases[i].expected);
        tw_filter_pattern_free(pattern);
    }
}

static void test_documented_examples_match_as_aws_says(void **state)
{
    (void)state;
    assert_table(documented_cases, COUNT(documented_cases));
}

static void test_edge_cases_match_as_decided(void **state)
{
    (void)state;
    assert_table(edge_cases, COUNT(edge_cases));
}

static void test_messages_with_nul_bytes_are_searched_whole(void **state)
{
    (void)state;
    static const char text[] = "head\0tail ERROR";
    static const char json[] = "{\"a\": \"x\\u0000y\", \"b\": 1}";
    tw_filter_pattern *term = compile_ok("ERROR");
    assert_true(tw_filter_pattern_match(term, text, sizeof text - 1));
    assert_false(tw_filter_pattern_match(term, text, 4));
    tw_filter_pattern_free(term);
    tw_filter_pattern *regex = compile_ok("%tail%");
    assert_true(tw_filter_pattern_match(regex, text, sizeof text - 1));
    tw_filter_pattern_free(regex);
    tw_filter_pattern *glob = compile_ok("{ $.a = x*y && $.b = 1 }");
    assert_true(tw_filter_pattern_match(glob, json, sizeof json - 1));
    tw_filter_pattern_free(glob);
    tw_filter_pattern *all = compile_ok("");
    assert_true(tw_filter_pattern_match(all, NULL, 0));
    tw_filter_pattern_free(all);
}

/* The caller may free its pattern text as soon as the compile returns. */
static void test_compiled_pattern_keeps_no_pointer_into_the_text(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "ERROR ?WARN -DEBUG \"a phrase\" %re+x%",
        "{ $.['k'].a[*] = \"v*\" && $.n > 1 || $.b = w* }",
        "[a = x*, ..., b = %y%, c != z]",
    };
    static const char *const messages[] = {
        "ERROR WARN a phrase reex", "{\"k\": {\"a\": [\"v1\"]}, \"n\": 2}", "x1 q r yy zz"};
    for (size_t i = 0; i < COUNT(texts); i++) {
        char *copy = strdup(texts[i]);
        assert_non_null(copy);
        tw_filter_pattern *pattern = compile_ok(copy);
        memset(copy, '#', strlen(copy));
        free(copy);
        assert_true(tw_filter_pattern_match(pattern, messages[i], strlen(messages[i])));
        tw_filter_pattern_free(pattern);
    }
}

static const bad_case bad_cases[] = {
    {"ERROR,", "Invalid character(s) in term 'ERROR,' at position 1"},
    {"ok ERROR\"x\"", "Invalid character(s) in term 'ERROR\"x\"' at position 4"},
    {"caf\xc3\xa9", "Invalid character(s) in term 'caf?\?'"},
    {"\"unclosed", "Invalid filter pattern: the '\"' is never closed at position 1"},
    {"ERROR ?", "Invalid filter pattern: '?' must be followed by a term at position 7"},
    {"- ERROR", "'-' must be followed by a term at position 1"},
    {"\"a\"\"b\"", "expected a space after the term at position 4, found '\"'"},
    {"%unclosed", "the '%' opening a regular expression is never closed at position 1"},
    {"%%", "invalid regular expression: the regular expression is empty at position 1"},
    {"%a(b)%", "Invalid character(s) in term '%a(b)%' at position 1: '(' is not allowed"},
    {"%a b%", "Invalid character(s) in term '%a b%' at position 1"},
    {"%\xc3\xa9%", "Invalid character(s) in term '%?\?%' at position 1: byte 0xc3 is not allowed"},
    {"%a% %b% %c%", "at most 2 regular expressions at position 9"},
    {"%\\q%", "'\\q' is not a supported escape"},
    {"%\\x00%", "'\\x00' is not allowed"},
    {"%a{3}{2}%", "'{' cannot repeat a repetition"},
    {"%a{1000}%", "repetition counts are limited to 255"},
    {"%a{5,2}%", "repetition {5,2} is out of order"},
    {"%*a%", "'*' has nothing to repeat"},
    {"%[z-a]%", "range 'z-a' is out of order"},
    {"%[abc%", "'[' is never closed"},
    {"%[\\D]%", "'\\D' is not supported inside [...]"},
    {"{ $.a = 1 ", "expected '&&', '||' or '}' at position 11, found the end of the pattern"},
    {"{}", "expected a selector such as $.field at position 2, found '}'"},
    {"{ a = 1 }", "expected a selector such as $.field at position 3, found 'a'"},
    {"{ $a = 1 }", "expected '.' after '$' at position 4, found 'a'"},
    {"{ $. = 1 }", "expected a property name after '.' (other names are quoted: $.['name']) at position 5"},
    {"{ $.a > \"x\" }", "'>' compares numbers, so a number was expected, not a quoted string"},
    {"{ $.a <= abc }", "'<=' compares numbers, so a number was expected, not a string"},
    {"{ $.a >= %x% }", "not a regular expression"},
    {"{ $.a = }", "expected a value after '=' at position 9, found '}'"},
    {"{ $.a IS MAYBE }", "expected NULL, TRUE or FALSE after IS at position 10, found 'M'"},
    {"{ $.a NOT THERE }", "expected EXISTS after NOT at position 11"},
    {"{ $.a ~ 1 }", "expected an operator (=, !=, <, >, <=, >=, IS or NOT EXISTS) at position 7"},
    {"{ ($.a = 1 }", "expected '&&', '||' or ')' at position 12, found '}'"},
    {"{ $.a = 1 } extra", "nothing may follow the closing '}' at position 13"},
    {"{ $.a = 1 && }", "expected a selector such as $.field at position 14"},
    {"{ $.a = x@y }", "Invalid character(s) in term 'x@y' at position 9"},
    {"{ $.a[x] = 1 }", "expected an array index, '*' or a quoted property name after '['"},
    {"{ $.a[1 = 1 }", "expected ']' at position 8"},
    {"{ $.a[9999999999] = 1 }", "the array index is too large"},
    {"{ $.['open = 1 }", "the quote opening a property name is never closed"},
    {"{ $.a[*].b[*] = 1 }", "a selector may hold only one '*' wildcard"},
    {"{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",
     "at most 3 wildcard selectors at position 45"},
    {"[a, b", "expected ',', ']', '&&' or '||' at position 6, found the end of the pattern"},
    {"[]", "expected a field name at position 2, found ']'"},
    {"[a > x]", "'>' compares numbers"},
    {"[a b]", "expected ',', ']', '&&' or '||' at position 4, found 'b'"},
    {"[a = b] x", "nothing may follow the closing ']' at position 9"},
    {"[a IS NULL]", "expected ',', ']', '&&' or '||' at position 4, found 'I'"},
    {"[a = (b)]", "Invalid character(s) in term '(b'"},
};

static void test_malformed_patterns_say_what_was_expected_where(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(bad_cases); i++) {
        tw_err err = {{0}};
        tw_filter_pattern *pattern = (tw_filter_pattern *)&err; /* must stay untouched */
        const char *text = bad_cases[i].pattern;
        int rc = tw_filter_pattern_compile(text, strlen(text), &pattern, &err);
        if (rc != -EINVAL || strstr(err.msg, bad_cases[i].message) == NULL)
            print_error("pattern \"%s\": rc %d, message \"%s\", wanted \"%s\"\n", text, rc,
                        err.msg, bad_cases[i].message);
        assert_int_equal(rc, -EINVAL);
        assert_non_null(strstr(err.msg, bad_cases[i].message));
        assert_ptr_equal(pattern, (tw_filter_pattern *)&err);
        assert_int_equal(tw_filter_pattern_compile(text, strlen(text), &pattern, NULL), -EINVAL);
    }
}

static void test_length_limit_is_1024_bytes(void **state)
{
    (void)state;
    char text[1026];
    memset(text, 'a', sizeof text);
    tw_err err = {{0}};
    tw_filter_pattern *pattern = NULL;
    assert_int_equal(tw_filter_pattern_compile(text, 1025, &pattern, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "Invalid filter pattern: it is 1025 bytes long, at most 1024"));
    assert_int_equal(tw_filter_pattern_compile(text, 1024, &pattern, &err), 0);
    assert_true(tw_filter_pattern_match(pattern, text, 1024));
    assert_false(tw_filter_pattern_match(pattern, text, 1023));
    tw_filter_pattern_free(pattern);
    assert_int_equal(tw_filter_pattern_compile("a\0b", 3, &pattern, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "Invalid filter pattern: NUL byte at position 2"));
}

static void test_deep_parentheses_are_refused_not_recursed(void **state)
{
    (void)state;
    char text[300] = "{ ";
    for (int i = 0; i < 70; i++)
        strcat(text, "(");
    strcat(text, "$.a = 1 }");
    tw_err err = {{0}};
    tw_filter_pattern *pattern = NULL;
    assert_int_equal(tw_filter_pattern_compile(text, strlen(text), &pattern, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "parentheses nest deeper than 64 levels"));
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A matcher that backtracks would take years on these; ours must answer at
 * once (the bound is generous so a loaded sanitizer build still passes). */
static void test_adversarial_inputs_match_in_linear_time(void **state)
{
    (void)state;
    size_t len = 200000;
    char *as = malloc(len + 16);
    assert_non_null(as);
    memcpy(as, "{\"s\": \"", 7);
    memset(as + 7, 'a', len);
    memcpy(as + 7 + len, "\"}", 3);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    tw_filter_pattern *glob = compile_ok("{ $.s = *a*a*a*a*a*a*a*a*a*a*a*a*b }");
    assert_false(tw_filter_pattern_match(glob, as, len + 9));
    tw_filter_pattern_free(glob);
    tw_filter_pattern *regex = compile_ok("%a*a*a*a*a*a*a*a*a*a*a*a*b%");
    assert_false(tw_filter_pattern_match(regex, as + 7, len));
    tw_filter_pattern_free(regex);
    for (size_t i = 0; i < len; i += 2)
        as[7 + i] = ' ';
    tw_filter_pattern *fields = compile_ok("[..., a = b, ..., a = c, ..., a = d]");
    assert_false(tw_filter_pattern_match(fields, as + 7, len));
    tw_filter_pattern_free(fields);
    double took = seconds_since(&start);
    print_message("adversarial inputs: %.3f s\n", took);
    assert_true(took < 10.0);
    free(as);
}

/* Several threads share compiled patterns, as the store's reader threads do. */
typedef struct worker {
    tw_filter_pattern **patterns;
    size_t mismatches;
} worker;

static void *match_many(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < 200; round++)
        for (size_t i = 0; i < COUNT(documented_cases); i++) {
            const match_case *c = &documented_cases[i];
            if (tw_filter_pattern_match(w->patterns[i], c->message, strlen(c->message)) !=
                c->expected)
                w->mismatches++;
        }
    return NULL;
}

static void test_compiled_patterns_are_shared_by_threads(void **state)
{
    (void)state;
    tw_filter_pattern *patterns[COUNT(documented_cases)];
    for (size_t i = 0; i < COUNT(documented_cases); i++)
        patterns[i] = compile_ok(documented_cases[i].pattern);
    pthread_t threads[4];
    worker workers[4];
    for (int t = 0; t < 4; t++) {
        workers[t] = (worker){.patterns = patterns};
        assert_int_equal(pthread_create(&threads[t], NULL, match_many, &workers[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        assert_int_equal(workers[t].mismatches, 0);
    }
    for (size_t i = 0; i < COUNT(documented_cases); i++)
        tw_filter_pattern_free(patterns[i]);
}

/* FilterLogEvents scans up to millions of events: print how fast each kind
 * of pattern goes over 1,000,000 messages of ~120 bytes. */
static void measure(const char *name, const char *text, char **messages, size_t distinct)
{
    const size_t total = 1000000;
    tw_filter_pattern *pattern = compile_ok(text);
    size_t matched = 0, bytes = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (size_t i = 0; i < total; i++) {
        const char *m = messages[i % distinct];
        size_t len = strlen(m);
        bytes += len;
        matched += tw_filter_pattern_match(pattern, m, len);
    }
    double took = seconds_since(&start);
    print_message("%-9s %-48s %9.0f messages/s %7.1f MiB/s (%zu of %zu matched)\n", name, text,
                  (double)total / took, (double)bytes / took / 1048576.0, matched, total);
    assert_true(matched > 0 && matched < total);
    tw_filter_pattern_free(pattern);
}

static void test_throughput_over_a_million_messages(void **state)
{
    (void)state;
    enum { DISTINCT = 1000 };
    char *text[DISTINCT], *json[DISTINCT];
    for (int i = 0; i < DISTINCT; i++) {
        int status = i % 10 == 0 ? 500 : 200;
        text[i] = malloc(160);
        json[i] = malloc(200);
        assert_non_null(text[i]);
        assert_non_null(json[i]);
        snprintf(text[i], 160,
                 "10.0.%d.%d - - [10/Oct/2000:13:55:36 -0700] \"GET /api/item/%d HTTP/1.1\" %d "
                 "%d %s",
                 i % 256, i % 7, i, status, 1000 + i, i % 10 == 0 ? "ERROR" : "ok");
        snprintf(json[i], 200,
                 "{\"level\":\"%s\",\"path\":\"/api/item/%d\",\"status\":%d,\"latency\":%d,"
                 "\"user\":{\"id\":%d,\"name\":\"user-%d\"}}",
                 status == 500 ? "ERROR" : "INFO", i, status, i % 300, i, i);
    }
    measure("term", "ERROR", text, DISTINCT);
    measure("terms", "?ERROR ?WARN -DEBUG \"GET /api\"", text, DISTINCT);
    measure("regex", "%HTTP/1\\.1\\x22\\s5\\d\\d%", text, DISTINCT);
    measure("json", "{ $.status >= 500 && $.path = \"/api/*\" }", json, DISTINCT);
    measure("delimited", "[ip, ..., status = 5*, bytes, level]", text, DISTINCT);
    for (int i = 0; i < DISTINCT; i++) {
        free(text[i]);
        free(json[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_examples_match_as_aws_says),
        cmocka_unit_test(test_edge_cases_match_as_decided),
        cmocka_unit_test(test_messages_with_nul_bytes_are_searched_whole),
        cmocka_unit_test(test_compiled_pattern_keeps_no_pointer_into_the_text),
        cmocka_unit_test(test_malformed_patterns_say_what_was_expected_where),
        cmocka_unit_test(test_length_limit_is_1024_bytes),
        cmocka_unit_test(test_deep_parentheses_are_refused_not_recursed),
        cmocka_unit_test(test_adversarial_inputs_match_in_linear_time),
        cmocka_unit_test(test_compiled_patterns_are_shared_by_threads),
        cmocka_unit_test(test_throughput_over_a_million_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
