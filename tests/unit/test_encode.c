/* test_encode.c — hex, base64, SigV4 UriEncode and quoting (lib/encode.h):
 * RFC 4648 vectors, the AWS UriEncode rules, and the rejection of bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "encode.h"
#include "err.h"

#define assert_message_contains(err, want) \
    assert_message_contains_((err), (want), __FILE__, __LINE__)

static void assert_message_contains_(const tw_err *err, const char *want, const char *file,
                                     int line)
{
    if (strstr(err->msg, want) == NULL) {
        print_error("error message \"%s\" does not contain \"%s\"\n", err->msg, want);
        _fail(file, line);
    }
}

typedef struct vector {
    const char *plain;
    const char *encoded;
} vector;

/* RFC 4648 §10. */
static const vector base64_vectors[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

/* RFC 4648 §10 (BASE16 is upper-case there; we write lower-case). */
static const vector hex_vectors[] = {
    {"", ""},           {"f", "66"},           {"fo", "666F"},         {"foo", "666F6F"},
    {"foob", "666F6F62"}, {"fooba", "666F6F6261"}, {"foobar", "666F6F626172"},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* ---- hex ---- */

static void test_hex_encode_matches_rfc4648_vectors_in_lower_case(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(hex_vectors); i++) {
        char want[32], got[32];
        strcpy(want, hex_vectors[i].encoded);
        lower(want);
        memset(got, 'x', sizeof got);
        tw_hex_encode(hex_vectors[i].plain, strlen(hex_vectors[i].plain), got);
        assert_string_equal(got, want);
    }
}

static void test_hex_encode_buf_appends_to_existing_content(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    tw_buf_puts(&b, "sha=");
    const unsigned char bytes[] = {0x00, 0x7f, 0x80, 0xff, 0xe3, 0xb0};
    tw_hex_encode_buf(bytes, sizeof bytes, &b);
    assert_string_equal(tw_buf_cstr(&b), "sha=007f80ffe3b0");
    assert_int_equal(b.len, 4 + 12);
    tw_buf_free(&b);
}

static void test_hex_decode_accepts_rfc4648_vectors_in_either_case(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    for (size_t i = 0; i < COUNT(hex_vectors); i++) {
        char text[32];
        strcpy(text, hex_vectors[i].encoded);
        tw_buf_reset(&b);
        assert_int_equal(tw_hex_decode(text, strlen(text), &b, NULL), 0);
        assert_int_equal(b.len, strlen(hex_vectors[i].plain));
        assert_memory_equal(tw_buf_cstr(&b), hex_vectors[i].plain, b.len);
        lower(text);
        tw_buf_reset(&b);
        assert_int_equal(tw_hex_decode(text, strlen(text), &b, NULL), 0);
        assert_memory_equal(tw_buf_cstr(&b), hex_vectors[i].plain, b.len);
    }
    tw_buf_free(&b);
}

static void test_hex_round_trips_every_byte_value(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char text[2 * sizeof all + 1];
    tw_hex_encode(all, sizeof all, text);
    assert_int_equal(strlen(text), 512);
    assert_memory_equal(text, "000102", 6);
    assert_string_equal(text + 500, "fafbfcfdfeff");
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_hex_decode(text, strlen(text), &b, NULL), 0);
    assert_int_equal(b.len, sizeof all);
    assert_memory_equal(b.data, all, sizeof all);
    tw_buf_free(&b);
}

static void test_hex_decode_rejects_odd_length_and_leaves_buffer_unchanged(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    tw_buf_puts(&b, "keep");
    tw_err err = {{0}};
    assert_int_equal(tw_hex_decode("abc", 3, &b, &err), -EINVAL);
    assert_message_contains(&err, "\"abc\": odd number of hex digits");
    assert_string_equal(tw_buf_cstr(&b), "keep");
    tw_buf_free(&b);
}

static void test_hex_decode_rejects_non_hex_character_naming_its_position(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    tw_err err = {{0}};
    assert_int_equal(tw_hex_decode("00g1", 4, &b, &err), -EINVAL);
    assert_message_contains(&err, "\"00g1\": character 3 is not a hex digit");
    assert_int_equal(b.len, 0);
    assert_int_equal(tw_hex_decode("0 ", 2, &b, NULL), -EINVAL);
    tw_buf_free(&b);
}

static void test_hex_decode_reads_only_len_bytes(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    /* "zz" after the first 4 bytes would fail if it were read. */
    assert_int_equal(tw_hex_decode("abcdzz", 4, &b, NULL), 0);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "\xab\xcd", 2);
    tw_buf_free(&b);
}

/* ---- base64 ---- */

static void test_base64_encode_matches_rfc4648_vectors(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    for (size_t i = 0; i < COUNT(base64_vectors); i++) {
        tw_buf_reset(&b);
        const char *plain = base64_vectors[i].plain;
        tw_base64_encode(plain, strlen(plain), &b);
        assert_string_equal(tw_buf_cstr(&b), base64_vectors[i].encoded);
        assert_int_equal(tw_base64_encoded_len(strlen(plain)), strlen(base64_vectors[i].encoded));
    }
    tw_buf_free(&b);
}

static void test_base64_decode_matches_rfc4648_vectors(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    for (size_t i = 0; i < COUNT(base64_vectors); i++) {
        tw_buf_reset(&b);
        const char *text = base64_vectors[i].encoded;
        assert_int_equal(tw_base64_decode(text, strlen(text), &b, NULL), 0);
        assert_int_equal(b.len, strlen(base64_vectors[i].plain));
        assert_memory_equal(tw_buf_cstr(&b), base64_vectors[i].plain, b.len);
    }
    tw_buf_free(&b);
}

static void test_base64_round_trips_binary_of_every_length_up_to_300(void **state)
{
    (void)state;
    unsigned char data[300];
    uint32_t x = 2463534242u; /* xorshift: deterministic bytes, all values */
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    tw_buf text = TW_BUF_INIT, back = TW_BUF_INIT;
    for (size_t len = 0; len <= sizeof data; len++) {
        tw_buf_reset(&text);
        tw_buf_reset(&back);
        tw_base64_encode(data, len, &text);
        assert_int_equal(text.len, tw_base64_encoded_len(len));
        assert_int_equal(tw_base64_decode(text.data, text.len, &back, NULL), 0);
        assert_int_equal(back.len, len);
        if (len > 0)
            assert_memory_equal(back.data, data, len);
    }
    tw_buf_free(&text);
    tw_buf_free(&back);
}

static void test_base64_decode_known_binary_value(void **state)
{
    (void)state;
    /* Content-MD5 of the empty body, as S3 clients send it. */
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_base64_decode("1B2M2Y8AsgTpgAmY7PhCfg==", 24, &b, NULL), 0);
    char hex[33];
    tw_hex_encode(b.data, b.len, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    tw_buf_free(&b);
}

static void test_base64_decode_rejects_malformed_input_with_reason(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"Zm9", "\"Zm9\": base64 length 3 is not a multiple of 4"},
        {"Zm9v\n", "length 5 is not a multiple of 4"},
        {"Zm 9", "\"Zm 9\": character 3 is not base64"},
        {"Zm=v", "character 3 is not base64"},
        {"Zm9vY===", "character 6 is not base64"},
        {"====", "character 1 is not base64"},
        {"Zm-_", "character 3 is not base64"},     /* base64url is not accepted */
        {"Zh==", "non-zero bits before the '=' padding"},
        {"Zm9=", "non-zero bits before the '=' padding"},
    };
    tw_buf b = TW_BUF_INIT;
    tw_buf_puts(&b, "keep");
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_err err = {{0}};
        assert_int_equal(tw_base64_decode(cases[i].text, strlen(cases[i].text), &b, &err),
                         -EINVAL);
        assert_message_contains(&err, cases[i].message);
        assert_string_equal(tw_buf_cstr(&b), "keep");
    }
    tw_buf_free(&b);
}

static void test_base64_decode_reads_only_len_bytes(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_base64_decode("Zm9vYmFy", 4, &b, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), "foo");
    tw_buf_free(&b);
}

/* ---- UriEncode ---- */

static const char *uri_encode(const char *s, size_t len, tw_uri_slash slash, tw_buf *b)
{
    tw_buf_reset(b);
    tw_uri_encode(s, len, slash, b);
    return tw_buf_cstr(b);
}

static void test_uri_encode_keeps_unreserved_characters(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    /* The SigV4 suite's get-vanilla-query-unreserved key. */
    const char *unreserved =
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    assert_string_equal(uri_encode(unreserved, strlen(unreserved), TW_URI_ENCODE_SLASH, &b),
                        unreserved);
    tw_buf_free(&b);
}

static void test_uri_encode_writes_space_as_percent_20_never_plus(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_string_equal(uri_encode("a b+c", 5, TW_URI_ENCODE_SLASH, &b), "a%20b%2Bc");
    tw_buf_free(&b);
}

static void test_uri_encode_slash_kept_in_paths_and_encoded_in_queries(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_string_equal(uri_encode("/example space/", 15, TW_URI_KEEP_SLASH, &b),
                        "/example%20space/");
    assert_string_equal(uri_encode("AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", 51,
                                   TW_URI_ENCODE_SLASH, &b),
                        "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request");
    tw_buf_free(&b);
}

static void test_uri_encode_encodes_utf8_byte_by_byte_with_upper_case_hex(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_string_equal(uri_encode("\xe1\x88\xb4", 3, TW_URI_ENCODE_SLASH, &b), "%E1%88%B4");
    assert_string_equal(uri_encode("ሴ", strlen("ሴ"), TW_URI_KEEP_SLASH, &b), "%E1%88%B4");
    assert_string_equal(uri_encode("/example/$delete", 16, TW_URI_KEEP_SLASH, &b),
                        "/example/%24delete");
    assert_string_equal(uri_encode("\xff\xfe", 2, TW_URI_KEEP_SLASH, &b), "%FF%FE");
    tw_buf_free(&b);
}

static void test_uri_encode_encodes_reserved_percent_and_nul(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_string_equal(uri_encode("%20", 3, TW_URI_KEEP_SLASH, &b), "%2520");
    assert_string_equal(uri_encode("a=b&c*d", 7, TW_URI_ENCODE_SLASH, &b), "a%3Db%26c%2Ad");
    assert_string_equal(uri_encode("a\0b", 3, TW_URI_ENCODE_SLASH, &b), "a%00b");
    tw_buf_free(&b);
}

static void test_uri_encode_appends_to_existing_content(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    tw_buf_puts(&b, "Param=");
    tw_uri_encode("a b", 3, TW_URI_ENCODE_SLASH, &b);
    assert_string_equal(tw_buf_cstr(&b), "Param=a%20b");
    tw_buf_free(&b);
}

/* ---- decoding ---- */

static void test_uri_decode_reverses_encode_in_either_hex_case(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_uri_decode("%e1%88%B4x%20y", 14, TW_URI_PLUS_LITERAL, &b, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), "\xe1\x88\xb4x y");
    tw_buf_free(&b);
}

static void test_uri_decode_plus_is_literal_in_sigv4_queries_and_space_in_forms(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_uri_decode("a+b%2B", 6, TW_URI_PLUS_LITERAL, &b, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), "a+b+");
    tw_buf_reset(&b);
    assert_int_equal(tw_uri_decode("a+b%2B", 6, TW_URI_PLUS_IS_SPACE, &b, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), "a b+");
    tw_buf_free(&b);
}

static void test_uri_decode_keeps_nul_bytes_and_reports_length(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_uri_decode("a%00b", 5, TW_URI_PLUS_LITERAL, &b, NULL), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    tw_buf_free(&b);
}

static void test_uri_decode_round_trips_every_byte_value(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    tw_buf text = TW_BUF_INIT, back = TW_BUF_INIT;
    tw_uri_encode(all, sizeof all, TW_URI_ENCODE_SLASH, &text);
    assert_int_equal(tw_uri_decode(text.data, text.len, TW_URI_PLUS_IS_SPACE, &back, NULL), 0);
    assert_int_equal(back.len, sizeof all);
    assert_memory_equal(back.data, all, sizeof all);
    tw_buf_free(&text);
    tw_buf_free(&back);
}

static void test_uri_decode_rejects_bad_percent_sequences(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"%", "\"%\": '%' at character 1 is not followed by two hex digits"},
        {"abc%", "'%' at character 4 is not followed by two hex digits"},
        {"%2", "'%' at character 1 is not followed"},
        {"%G0", "'%' at character 1 is not followed"},
        {"%0g", "'%' at character 1 is not followed"},
        {"ok%20%%41", "'%' at character 6 is not followed"},
        {"%-1", "'%' at character 1 is not followed"},
        {"x% 20", "'%' at character 2 is not followed"},
    };
    tw_buf b = TW_BUF_INIT;
    tw_buf_puts(&b, "keep");
    for (size_t i = 0; i < COUNT(cases); i++) {
        tw_err err = {{0}};
        assert_int_equal(tw_uri_decode(cases[i].text, strlen(cases[i].text), TW_URI_PLUS_LITERAL,
                                       &b, &err),
                         -EINVAL);
        assert_message_contains(&err, cases[i].message);
        assert_message_contains(&err, "expected %XY");
        assert_string_equal(tw_buf_cstr(&b), "keep");
        assert_int_equal(b.len, 4);
    }
    tw_buf_free(&b);
}

static void test_uri_decode_does_not_read_past_len_to_complete_a_sequence(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    /* The bytes "20" follow in memory but are outside len. */
    assert_int_equal(tw_uri_decode("a%20", 2, TW_URI_PLUS_LITERAL, &b, NULL), -EINVAL);
    assert_int_equal(tw_uri_decode("a%20", 3, TW_URI_PLUS_LITERAL, &b, NULL), -EINVAL);
    assert_int_equal(tw_uri_decode("a%20", 4, TW_URI_PLUS_LITERAL, &b, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), "a ");
    tw_buf_free(&b);
}

/* ---- quoting ---- */

static void test_quote_escapes_quotes_backslashes_and_control_bytes(void **state)
{
    (void)state;
    char q[TW_QUOTE_SIZE];
    assert_string_equal(tw_quote("a\"b\\c\n\x01\xe1", 8, q), "\"a\\\"b\\\\c\\x0A\\x01\\xE1\"");
    assert_string_equal(tw_quote("", 0, q), "\"\"");
}

static void test_quote_truncates_long_input_with_ellipsis(void **state)
{
    (void)state;
    char long_text[200];
    memset(long_text, 'a', sizeof long_text);
    char q[TW_QUOTE_SIZE];
    tw_quote(long_text, sizeof long_text, q);
    assert_int_equal(strlen(q), 1 + TW_QUOTE_MAX_CHARS + 1 + 3);
    assert_string_equal(q + 1 + TW_QUOTE_MAX_CHARS, "\"...");
    /* An escape is never cut in half. */
    memset(long_text, '\x01', sizeof long_text);
    tw_quote(long_text, sizeof long_text, q);
    size_t len = strlen(q);
    assert_string_equal(q + len - 8, "\\x01\"...");
    assert_true(len <= TW_QUOTE_SIZE - 1);
}

static void test_little_endian_round_trips_and_appends(void **state)
{
    (void)state;
    unsigned char b[8];
    tw_le_put(b, 0x0102030405060708ull, 8);
    assert_int_equal(b[0], 0x08);
    assert_int_equal(b[7], 0x01);
    assert_true(tw_le_get(b, 8) == 0x0102030405060708ull);
    assert_int_equal(tw_le_get(b, 2), 0x0708);
    tw_buf out = TW_BUF_INIT;
    tw_le_append(&out, 0xfffe, 2);
    tw_le_append(&out, 7, 4);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "\xfe\xff\x07\x00\x00\x00", 6);
    tw_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_little_endian_round_trips_and_appends),
        cmocka_unit_test(test_hex_encode_matches_rfc4648_vectors_in_lower_case),
        cmocka_unit_test(test_hex_encode_buf_appends_to_existing_content),
        cmocka_unit_test(test_hex_decode_accepts_rfc4648_vectors_in_either_case),
        cmocka_unit_test(test_hex_round_trips_every_byte_value),
        cmocka_unit_test(test_hex_decode_rejects_odd_length_and_leaves_buffer_unchanged),
        cmocka_unit_test(test_hex_decode_rejects_non_hex_character_naming_its_position),
        cmocka_unit_test(test_hex_decode_reads_only_len_bytes),
        cmocka_unit_test(test_base64_encode_matches_rfc4648_vectors),
        cmocka_unit_test(test_base64_decode_matches_rfc4648_vectors),
        cmocka_unit_test(test_base64_round_trips_binary_of_every_length_up_to_300),
        cmocka_unit_test(test_base64_decode_known_binary_value),
        cmocka_unit_test(test_base64_decode_rejects_malformed_input_with_reason),
        cmocka_unit_test(test_base64_decode_reads_only_len_bytes),
        cmocka_unit_test(test_uri_encode_keeps_unreserved_characters),
        cmocka_unit_test(test_uri_encode_writes_space_as_percent_20_never_plus),
        cmocka_unit_test(test_uri_encode_slash_kept_in_paths_and_encoded_in_queries),
        cmocka_unit_test(test_uri_encode_encodes_utf8_byte_by_byte_with_upper_case_hex),
        cmocka_unit_test(test_uri_encode_encodes_reserved_percent_and_nul),
        cmocka_unit_test(test_uri_encode_appends_to_existing_content),
        cmocka_unit_test(test_uri_decode_reverses_encode_in_either_hex_case),
        cmocka_unit_test(test_uri_decode_plus_is_literal_in_sigv4_queries_and_space_in_forms),
        cmocka_unit_test(test_uri_decode_keeps_nul_bytes_and_reports_length),
        cmocka_unit_test(test_uri_decode_round_trips_every_byte_value),
        cmocka_unit_test(test_uri_decode_rejects_bad_percent_sequences),
        cmocka_unit_test(test_uri_decode_does_not_read_past_len_to_complete_a_sequence),
        cmocka_unit_test(test_quote_escapes_quotes_backslashes_and_control_bytes),
        cmocka_unit_test(test_quote_truncates_long_input_with_ellipsis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
