/* test_audit_json.c — the JSON writers of the audit path: string contents
 * escaped as jansson would and capped on characters (audit_json.h), and
 * Rails' logged params into JSON objects (rails_params.h). */
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
#include <jansson.h>

#include "audit_check.h"
#include "audit_json.h"
#include "rails_params.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_json_strings_escape_like_jansson_and_cap_on_characters(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len, cap;
        const char *out;
        size_t chars;
        bool exact;
    } cases[] = {
        {"plain text, long enough for words", 33, 100, "plain text, long enough for words", 33,
         true},
        {"q\"b\\/", 5, 100, "q\\\"b\\\\/", 5, true},
        {"\b\f\n\r\t\x01\x1f\x7f", 8, 100, "\\b\\f\\n\\r\\t\\u0001\\u001f\x7f", 8, true},
        {"\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", 9, 100, "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", 3, true},
        /* Not UTF-8 (a lone byte, overlong, surrogate, beyond U+10FFFF), NUL. */
        {"a\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\x00", 12, 100,
         "a\\\\xFF\\\\xC0\\\\xAF\\\\xED\\\\xA0\\\\x80\\\\xF4\\\\x90\\\\x80\\\\x80\\\\x00", 45, false},
        /* Caps count characters and never cut one. */
        {"abcdef", 6, 4, "abcd", 4, false},
        {"ab\xc3\xa9" "cd", 6, 3, "ab\xc3\xa9", 3, false},
        {"ab\xff", 3, 5, "ab", 2, false},
        {"ab\"", 3, 3, "ab\\\"", 3, true},
        {"", 0, 10, "", 0, true},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_buf out = TW_BUF_INIT;
        bool exact = true;
        size_t chars = tw_audit_json_escape(&out, cases[i].in, cases[i].len, cases[i].cap, &exact);
        if (strcmp(tw_buf_cstr(&out), cases[i].out) != 0 || chars != cases[i].chars
            || exact != cases[i].exact)
            fail_msg("case %zu: got \"%s\" (%zu chars, %s)", i, tw_buf_cstr(&out), chars,
                     exact ? "exact" : "altered");
        /* jansson reads it back as a string of that many characters. */
        tw_buf quoted = TW_BUF_INIT;
        tw_buf_printf(&quoted, "\"%s\"", tw_buf_cstr(&out));
        json_error_t jerr;
        json_t *v = json_loadb(quoted.data, quoted.len, JSON_DECODE_ANY, &jerr);
        if (!json_is_string(v))
            fail_msg("case %zu: jansson refuses %s: %s", i, quoted.data, jerr.text);
        json_decref(v);
        tw_buf_free(&quoted);
        tw_buf_free(&out);
    }
    /* Long runs cross the escaper's blocks intact. */
    tw_buf big = TW_BUF_INIT, out = TW_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        tw_buf_puts(&big, i % 7 ? "ab\xc3\xa9" : "\"\\");
    assert_int_equal(tw_audit_json_escape(&out, big.data, big.len, TW_AUDIT_JSON_NO_CAP, NULL),
                     3000 * 2 + (3000 - 429) * 1 + 0);
    json_error_t jerr;
    tw_buf_reset(&big);
    tw_buf_printf(&big, "\"%s\"", out.data);
    json_t *v = json_loadb(big.data, big.len, JSON_DECODE_ANY, &jerr);
    assert_true(json_is_string(v));
    json_decref(v);
    tw_buf_free(&big);
    tw_buf_free(&out);
    assert_true(tw_audit_json_valid_text("ok \xc3\xa9", 5));
    assert_false(tw_audit_json_valid_text("a\0b", 3));
    assert_false(tw_audit_json_valid_text("\xed\xa0\x80", 3));
}

static void assert_params(tw_rails_params *p, const char *ruby, const char *want)
{
    tw_buf out = TW_BUF_INIT;
    tw_buf_puts(&out, "<");
    int rc = tw_rails_params_to_json(p, ruby, strlen(ruby), &out, NULL);
    if (want == NULL) {
        if (rc != -EINVAL)
            fail_msg("%s: expected refusal, got %s", ruby, out.data);
        assert_string_equal(out.data, "<");
    } else {
        if (rc != 0 || strcmp(out.data + 1, want) != 0)
            fail_msg("%s:\n expected %s\n got      %s", ruby, want, out.data + 1);
        json_decref(audit_json(out.data + 1));
    }
    tw_buf_free(&out);
}

static void test_rails_params_become_json(void **state)
{
    (void)state;
    tw_rails_params p = TW_RAILS_PARAMS_INIT;
    assert_params(&p, "{\"locality\"=>\"[FILTERED]\", \"vaccine\"=>{\"0\"=>\"4\"}}",
                  "{\"locality\":\"[FILTERED]\",\"vaccine\":{\"0\":\"4\"}}");
    assert_params(&p, "{\"groupings\"=>[{\"89941177\"=>nil}, {\"361892410\"=>nil}], "
                      "\"id\"=>\"397638749\"}",
                  "{\"groupings\":[{\"89941177\":null},{\"361892410\":null}],"
                  "\"id\":\"397638749\"}");
    /* Ruby 3.4's inspect, symbols old and new. */
    assert_params(&p, "{\"a\" => 1, b: :sym, \"c d\": nil, :e=>true, f: [], \"g\" => {}}",
                  "{\"a\":1,\"b\":\"sym\",\"c d\":null,\"e\":true,\"f\":[],\"g\":{}}");
    assert_params(&p, "{\"s\"=>\"l1\\nl2 \\\"q\\\" \\\\ \\#{x} \\u00e9\\u{1F600} \\xFF \\e\\t\\0\"}",
                  "{\"s\":\"l1\\nl2 \\\"q\\\" \\\\ #{x} \xc3\xa9\xf0\x9f\x98\x80 \\\\xFF "
                  "\\u001b\\t\\\\x00\"}");
    assert_params(&p, "{\"i\"=>12, \"big\"=>123456789012345678901, \"f\"=>1.5, "
                      "\"e\"=>1.0e+20, \"inf\"=>Infinity, \"neg\"=>-3, \"bd\"=>0.1e1, "
                      "\"r\"=>1..5, \"z\"=>007}",
                  "{\"i\":12,\"big\":\"123456789012345678901\",\"f\":1.5,\"e\":1.0e+20,"
                  "\"inf\":\"Infinity\",\"neg\":-3,\"bd\":0.1e1,\"r\":\"1..5\",\"z\":\"007\"}");
    assert_params(&p, "{\"file\"=>#<ActionDispatch::Http::UploadedFile:0x0000 "
                      "@tempfile=#<Tempfile:/tmp/x>, @original_filename=\"a, b}.png\">, "
                      "\"n\"=>1}",
                  "{\"file\":\"#<ActionDispatch::Http::UploadedFile:0x0000 "
                  "@tempfile=#<Tempfile:/tmp/x>, @original_filename=\\\"a, b}.png\\\">\","
                  "\"n\":1}");
    /* A key seen twice keeps its first value: the collector refuses
     * duplicates. */
    assert_params(&p, "{1=>\"a\", \"1\"=>\"b\", :\"1\"=>{\"x\"=>1}, \"k\"=>{\"1\"=>2, 1=>3}}",
                  "{\"1\":\"a\",\"k\":{\"1\":2}}");
    /* lograge logs JSON: the same reader, JSON escapes included. */
    assert_params(&p, "{\"a\":\"b\\/c\",\"n\":[1,2.5,{\"c\":null}],\"u\":\"\\ud83d\\ude00\"}",
                  "{\"a\":\"b/c\",\"n\":[1,2.5,{\"c\":null}],\"u\":\"\xf0\x9f\x98\x80\"}");
    assert_params(&p, "  {}  ", "{}");
    /* Cut, elided or not a hash: refused, out untouched. */
    const char *bad[] = {"{....", "{\"a\"=>\"b\"", "[\"a\"]", "{\"a\"=>}", "{\"a\"=>\"b\"} x",
                         "{\"a\" \"b\"}", "", "{\"a\"=>\"b\", }", "{a}"};
    for (size_t i = 0; i < COUNT(bad); i++)
        assert_params(&p, bad[i], NULL);
    /* Depth is bounded. */
    char deep[400] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "{\"a\"=>");
    strcat(deep, "1");
    for (int i = 0; i < 40; i++)
        strcat(deep, "}");
    assert_params(&p, deep, NULL);
    tw_rails_params_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_strings_escape_like_jansson_and_cap_on_characters),
        cmocka_unit_test(test_rails_params_become_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
