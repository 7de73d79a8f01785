/* test_hash.c — SHA-256 (FIPS 180-2 examples), HMAC-SHA256 (RFC 4231),
 * MD5 (RFC 1321 test suite), streaming == one-shot, constant-time compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "hash.h"

static void hex(const uint8_t *digest, size_t len, char *out)
{
    tw_hex_encode(digest, len, out);
}

static void assert_sha256(const char *msg, size_t len, const char *want)
{
    uint8_t d[TW_SHA256_LEN];
    char h[TW_SHA256_HEX_LEN + 1];
    tw_sha256(msg, len, d);
    hex(d, sizeof d, h);
    assert_string_equal(h, want);
    tw_sha256_hex(msg, len, h);
    assert_string_equal(h, want);
}

static void test_sha256_abc(void **state)
{
    (void)state;
    assert_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_empty_message(void **state)
{
    (void)state;
    assert_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_sha256(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_448_bit_message(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(m) * 8, 448);
    assert_sha256(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_streaming_million_a_equals_vector(void **state)
{
    (void)state;
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    tw_sha256_ctx ctx;
    tw_sha256_init(&ctx);
    for (int i = 0; i < 1000; i++)
        tw_sha256_update(&ctx, chunk, sizeof chunk);
    uint8_t d[TW_SHA256_LEN];
    tw_sha256_final(&ctx, d);
    tw_sha256_free(&ctx);
    tw_sha256_free(&ctx); /* second free is harmless */
    char h[TW_SHA256_HEX_LEN + 1];
    hex(d, sizeof d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_streaming_equals_one_shot_for_every_split(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq-and-some-more";
    size_t len = strlen(m);
    uint8_t want[TW_SHA256_LEN], got[TW_SHA256_LEN];
    tw_sha256(m, len, want);
    for (size_t split = 0; split <= len; split++) {
        tw_sha256_ctx ctx;
        tw_sha256_init(&ctx);
        tw_sha256_update(&ctx, m, split);
        tw_sha256_update(&ctx, m + split, len - split);
        tw_sha256_final(&ctx, got);
        tw_sha256_free(&ctx);
        assert_memory_equal(got, want, sizeof want);
    }
}

static void assert_hmac(const uint8_t *key, size_t key_len, const char *data, size_t len,
                        const char *want)
{
    uint8_t mac[TW_SHA256_LEN];
    char h[TW_SHA256_HEX_LEN + 1];
    tw_hmac_sha256(key, key_len, data, len, mac);
    hex(mac, sizeof mac, h);
    assert_string_equal(h, want);
}

static void test_hmac_sha256_rfc4231_cases_1_to_4(void **state)
{
    (void)state;
    uint8_t key[25];
    char data[50];

    memset(key, 0x0b, 20);
    assert_hmac(key, 20, "Hi There", 8,
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    assert_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    assert_hmac(key, 20, data, 50,
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

    for (int i = 0; i < 25; i++)
        key[i] = (uint8_t)(i + 1);
    memset(data, 0xcd, 50);
    assert_hmac(key, 25, data, 50,
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

static void test_hmac_sha256_rfc4231_cases_6_7_long_key(void **state)
{
    (void)state;
    uint8_t key[131];
    memset(key, 0xaa, sizeof key);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_hmac(key, sizeof key, d6, strlen(d6),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *d7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    assert_hmac(key, sizeof key, d7, strlen(d7),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_hmac_sha256_empty_key_and_data(void **state)
{
    (void)state;
    /* HMAC-SHA256("", "") — well-known value. */
    assert_hmac(NULL, 0, NULL, 0,
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_md5_rfc1321_suite(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
         "0",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t d[TW_MD5_LEN];
        char h[TW_MD5_HEX_LEN + 1];
        tw_md5(cases[i][0], strlen(cases[i][0]), d);
        hex(d, sizeof d, h);
        assert_string_equal(h, cases[i][1]);
    }
}

static void test_md5_streaming_equals_one_shot(void **state)
{
    (void)state;
    const char *m =
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
    size_t len = strlen(m);
    uint8_t want[TW_MD5_LEN], got[TW_MD5_LEN];
    tw_md5(m, len, want);
    for (size_t split = 0; split <= len; split += 7) {
        tw_md5_ctx ctx = {0};
        tw_md5_init(&ctx);
        tw_md5_update(&ctx, m, split);
        tw_md5_update(&ctx, m + split, len - split);
        tw_md5_final(&ctx, got);
        tw_md5_free(&ctx);
        assert_memory_equal(got, want, sizeof want);
    }
    char h[TW_MD5_HEX_LEN + 1];
    hex(got, sizeof got, h);
    assert_string_equal(h, "57edf4a22be3c955ac49da2e2107b67a");
}

static void test_ct_equal_detects_any_differing_byte(void **state)
{
    (void)state;
    char a[64], b[64];
    memset(a, 'x', sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(tw_ct_equal(a, b, sizeof a));
    assert_true(tw_ct_equal(a, b, 0));
    for (size_t i = 0; i < sizeof b; i++) {
        b[i] ^= 1;
        assert_false(tw_ct_equal(a, b, sizeof a));
        b[i] ^= 1;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_abc),
        cmocka_unit_test(test_sha256_empty_message),
        cmocka_unit_test(test_sha256_448_bit_message),
        cmocka_unit_test(test_sha256_streaming_million_a_equals_vector),
        cmocka_unit_test(test_sha256_streaming_equals_one_shot_for_every_split),
        cmocka_unit_test(test_hmac_sha256_rfc4231_cases_1_to_4),
        cmocka_unit_test(test_hmac_sha256_rfc4231_cases_6_7_long_key),
        cmocka_unit_test(test_hmac_sha256_empty_key_and_data),
        cmocka_unit_test(test_md5_rfc1321_suite),
        cmocka_unit_test(test_md5_streaming_equals_one_shot),
        cmocka_unit_test(test_ct_equal_detects_any_differing_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
