/* test_proto_cbor.c — the Smithy RPC v2 CBOR codec (collector/protocol.h):
 * what botocore's RpcV2CBORSerializer sends decodes to the model object;
 * every CBOR encoding a client may use (half/single/double floats,
 * indefinite lengths, tag 1, byte strings) is read; hostile bodies are
 * refused with exact sentences; outputs and errors encode as definite,
 * smallest-form CBOR with tag 1 timestamps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "encode.h"
#include "protocol.h"
#include "testutil.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- helpers ---- */

static void from_hex(const char *hex, tw_buf *out)
{
    tw_buf_reset(out);
    tw_err err;
    if (tw_hex_decode(hex, strlen(hex), out, &err) != 0) {
        print_error("bad test hex: %s\n", err.msg);
        fail();
    }
}

static json_t *decode_hex_ok(const char *hex)
{
    tw_buf bytes = TW_BUF_INIT;
    from_hex(hex, &bytes);
    json_t *out = NULL;
    tw_err err = {{0}};
    int rc = tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err);
    if (rc != 0)
        print_error("tw_cbor_decode(%s) failed: %s\n", hex, err.msg);
    assert_int_equal(rc, 0);
    tw_buf_free(&bytes);
    return out;
}

static void expect_decoded(const char *hex, const char *want)
{
    json_t *got = decode_hex_ok(hex);
    assert_json_equal(got, want);
    json_decref(got);
}

static void assert_hex_equal(const tw_buf *bytes, const char *want)
{
    tw_buf hex = TW_BUF_INIT;
    tw_hex_encode_buf(bytes->data, bytes->len, &hex);
    if (strcmp(hex.data ? hex.data : "", want) != 0) {
        print_error("got  %s\nwant %s\n", hex.data, want);
        fail();
    }
    tw_buf_free(&hex);
}

/* ---- requests as clients send them ---- */

/* botocore 1.43.11's RpcV2CBORSerializer for
 * put_metric_data(Namespace='MyApp', MetricData=[{MetricName: 'Lat',
 * Dimensions: [{Name: 'Host', Value: 'a b'}], Timestamp: 2024-01-01,
 * Values: [1.5, 2], Counts: [3, 4], Unit: 'Milliseconds', StorageResolution: 1},
 * {MetricName: 'X', StatisticValues: {2, 3, 1, 2}, Value: 0.25, Timestamp: ...}]). */
static const char botocore_put_metric_data[] =
    "a2694e616d657370616365654d794170706a4d65747269634461746182a76a4d65747269634e616d65634c61"
    "746a44696d656e73696f6e7381a2644e616d6564486f73746556616c7565636120626954696d657374616d70"
    "c11a659200806656616c75657382fb3ff8000000000000fb400000000000000066436f756e747382fb400800"
    "0000000000fb401000000000000064556e69746c4d696c6c697365636f6e64737153746f726167655265736f"
    "6c7574696f6e01a46a4d65747269634e616d6561586f53746174697374696356616c756573a46b53616d706c"
    "65436f756e74fb40000000000000006353756dfb4008000000000000674d696e696d756dfb3ff00000000000"
    "00674d6178696d756dfb40000000000000006556616c7565fb3fd00000000000006954696d657374616d70c1"
    "1a65920080";

static void test_botocore_put_metric_data_decodes_to_the_model_object(void **state)
{
    (void)state;
    expect_decoded(botocore_put_metric_data,
                   "{\"Namespace\":\"MyApp\",\"MetricData\":[{\"MetricName\":\"Lat\","
                   "\"Dimensions\":[{\"Name\":\"Host\",\"Value\":\"a b\"}],"
                   "\"Timestamp\":1704067200.0,\"Values\":[1.5,2.0],\"Counts\":[3.0,4.0],"
                   "\"Unit\":\"Milliseconds\",\"StorageResolution\":1},{\"MetricName\":\"X\","
                   "\"StatisticValues\":{\"SampleCount\":2.0,\"Sum\":3.0,\"Minimum\":1.0,"
                   "\"Maximum\":2.0},\"Value\":0.25,\"Timestamp\":1704067200.0}]}");
}

static void test_empty_body_is_an_empty_input(void **state)
{
    (void)state;
    json_t *out = NULL;
    assert_int_equal(tw_cbor_decode((const uint8_t *)"", 0, &out, NULL), 0);
    assert_json_equal(out, "{}");
    json_decref(out);
    expect_decoded("a0", "{}");
    expect_decoded("bfff", "{}");
}

static void test_integers_decode_at_every_width(void **state)
{
    (void)state;
    expect_decoded("ad61610061621761631818616418ff6165190100616619ffff61671a0001000061681b0000000100000000"
                   "61691b7fffffffffffffff616a20616b37616c3818616d3b7fffffffffffffff",
                   "{\"a\":0,\"b\":23,\"c\":24,\"d\":255,\"e\":256,\"f\":65535,\"g\":65536,"
                   "\"h\":4294967296,\"i\":9223372036854775807,\"j\":-1,\"k\":-24,\"l\":-25,"
                   "\"m\":-9223372036854775808}");
}

static void test_half_single_and_double_floats_decode(void **state)
{
    (void)state;
    /* 1.0, 65504 (largest half), 2^-24 (smallest half subnormal), -2.0,
     * 1.5 single, 0.1 double, -0.0 half. */
    json_t *got = decode_hex_ok("a76161f93c006162f97bff6163f900016164f9c0006165fa3fc000006166fb3fb999999999999a6167f98000");
    assert_true(json_real_value(json_object_get(got, "a")) == 1.0);
    assert_true(json_real_value(json_object_get(got, "b")) == 65504.0);
    assert_true(json_real_value(json_object_get(got, "c")) == 5.960464477539063e-08);
    assert_true(json_real_value(json_object_get(got, "d")) == -2.0);
    assert_true(json_real_value(json_object_get(got, "e")) == 1.5);
    assert_true(json_real_value(json_object_get(got, "f")) == 0.1);
    assert_true(json_is_real(json_object_get(got, "g")));
    json_decref(got);
}

static void test_nan_and_infinities_become_the_aws_json_strings(void **state)
{
    (void)state;
    /* Half, single and double spellings. */
    expect_decoded("a66161f97e006162f97c006163f9fc006164fa7fc000006165fb7ff00000000000006166fbfff0000000000000",
                   "{\"a\":\"NaN\",\"b\":\"Infinity\",\"c\":\"-Infinity\",\"d\":\"NaN\","
                   "\"e\":\"Infinity\",\"f\":\"-Infinity\"}");
}

static void test_indefinite_lengths_are_accepted_everywhere(void **state)
{
    (void)state;
    /* {_ "L": [_ 1, [_ ], {_ }], (_ "Ke", "y"): (_ "ab", "", "c"), "B": (_ h'01', h'0203')} */
    expect_decoded("bf614c9f019fffbfffff7f624b656179ff7f626162606163ff61425f4101420203ffff",
                   "{\"L\":[1,[],{}],\"Key\":\"abc\",\"B\":\"AQID\"}");
    expect_decoded("a1617f7fff", "{\"\x7f\":\"\"}");
}

static void test_byte_strings_become_base64_text(void **state)
{
    (void)state;
    expect_decoded("a3614140614241666143460001fffe7f80", "{\"A\":\"\",\"B\":\"Zg==\",\"C\":\"AAH//n+A\"}");
}

static void test_tag_1_wraps_epoch_seconds_as_integer_or_float(void **state)
{
    (void)state;
    json_t *got = decode_hex_ok("a36161c11a659200806162c1fb41d964802007df3b6163c13a00000001");
    assert_true(json_is_real(json_object_get(got, "a")));
    assert_true(json_real_value(json_object_get(got, "a")) == 1704067200.0);
    assert_true(json_real_value(json_object_get(got, "b")) == 1704067200.123);
    assert_true(json_real_value(json_object_get(got, "c")) == -2.0);
    json_decref(got);
}

static void test_null_and_undefined_members_are_absent_but_kept_in_lists(void **state)
{
    (void)state;
    expect_decoded("a46161f66162f76163f56164830af6f4", "{\"c\":true,\"d\":[10,null,false]}");
}

static void test_utf8_text_is_kept(void **state)
{
    (void)state;
    expect_decoded("a16461c3a96263e282ac", "{\"a\xc3\xa9\x62\":\"\xe2\x82\xac\"}");
}

/* ---- hostile input ---- */

typedef struct bad_body {
    const char *hex;
    const char *message;
} bad_body;

static const bad_body bad_bodies[] = {
    {"80", "Malformed CBOR body: the body is not a CBOR map at byte 0"},
    {"01", "Malformed CBOR body: the body is not a CBOR map at byte 0"},
    {"6161", "Malformed CBOR body: the body is not a CBOR map at byte 0"},
    {"f6", "Malformed CBOR body: the body is not a CBOR map at byte 0"},
    {"c1a0", "Malformed CBOR body: tag 1 (epoch time) does not wrap a number at byte 1"},
    {"a0a0", "Malformed CBOR body: trailing data after the top-level map at byte 1"},
    {"a000", "Malformed CBOR body: trailing data after the top-level map at byte 1"},
    {"a0ff", "Malformed CBOR body: trailing data after the top-level map at byte 1"},
    {"a1", "Malformed CBOR body: the body ends inside an item at byte 1"},
    {"a16161", "Malformed CBOR body: the body ends inside an item at byte 3"},
    {"a1616119", "Malformed CBOR body: the body ends inside an item at byte 3"},
    {"a1616164616263", "Malformed CBOR body: the body ends inside an item at byte 3"},
    {"a161615bffffffffffffffff00", "Malformed CBOR body: the body ends inside an item at byte 3"},
    {"a161619bffffffffffffffff", "Malformed CBOR body: the body ends inside an item at byte 12"},
    {"bf", "Malformed CBOR body: the body ends inside an item at byte 1"},
    {"a161617f", "Malformed CBOR body: the body ends inside an item at byte 4"},
    {"a16161c1", "Malformed CBOR body: the body ends inside an item at byte 4"},
    {"a10102", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1410102", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a15f4101ff02", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1c1616102", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1800102", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1a00102", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1f602", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1f502", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a1fb3ff000000000000002", "Malformed CBOR body: a map key is not a text string at byte 1"},
    {"a2616101616102", "Malformed CBOR body: a map has the same key twice at byte 4"},
    {"a16161ff", "Malformed CBOR body: a break (0xff) ends no indefinite-length item at byte 3"},
    {"bf6161ff", "Malformed CBOR body: a map ends between a key and its value at byte 3"},
    {"a1616162c328", "Malformed CBOR body: a text string is not valid UTF-8 at byte 3"},
    {"a162c32801", "Malformed CBOR body: a map key is not valid UTF-8 at byte 1"},
    {"a16200410102", "Malformed CBOR body: a map key holds a NUL character at byte 1"},
    {"a161617f617f7fffff", "Malformed CBOR body: an indefinite-length string is nested in another "
                           "at byte 6"},
    {"a161617f4101ff",
     "Malformed CBOR body: an indefinite-length string holds an item that is not a string of its "
     "type at byte 4"},
    {"a161617f01ff",
     "Malformed CBOR body: an indefinite-length string holds an item that is not a string of its "
     "type at byte 4"},
    {"a16161c06130", "Malformed CBOR body: only tag 1 (epoch time) is allowed at byte 3"},
    {"a16161d8200a", "Malformed CBOR body: only tag 1 (epoch time) is allowed at byte 3"},
    {"a16161c1c101", "Malformed CBOR body: tag 1 (epoch time) wraps another tag at byte 4"},
    {"a16161c16131", "Malformed CBOR body: tag 1 (epoch time) does not wrap a number at byte 4"},
    {"a16161c1f6", "Malformed CBOR body: tag 1 (epoch time) does not wrap a number at byte 4"},
    {"a16161c180", "Malformed CBOR body: tag 1 (epoch time) does not wrap a number at byte 4"},
    {"a16161c1f97e00", "Malformed CBOR body: tag 1 (epoch time) wraps a NaN or an infinity at "
                       "byte 4"},
    {"a16161c1ff", "Malformed CBOR body: a break (0xff) ends no indefinite-length item at byte 4"},
    {"a161611b8000000000000000", "Malformed CBOR body: an integer is larger than 2^63-1 at byte 3"},
    {"a161613b8000000000000000", "Malformed CBOR body: an integer is smaller than -2^63 at byte 3"},
    {"a161611c", "Malformed CBOR body: reserved or unsupported initial byte 0x1c at byte 3"},
    {"a161615c", "Malformed CBOR body: reserved or unsupported initial byte 0x5c at byte 3"},
    {"a16161e0", "Malformed CBOR body: reserved or unsupported initial byte 0xe0 at byte 3"},
    {"a16161f820", "Malformed CBOR body: reserved or unsupported initial byte 0xf8 at byte 3"},
    {"a16161fc", "Malformed CBOR body: reserved or unsupported initial byte 0xfc at byte 3"},
};

static void test_hostile_bodies_are_refused_with_a_sentence(void **state)
{
    (void)state;
    tw_buf bytes = TW_BUF_INIT;
    for (size_t i = 0; i < COUNT(bad_bodies); i++) {
        tw_buf clean = TW_BUF_INIT;
        for (const char *p = bad_bodies[i].hex; *p; p++)
            if (*p != ' ')
                tw_buf_putc(&clean, *p);
        from_hex(clean.data, &bytes);
        tw_buf_free(&clean);
        json_t *out = (json_t *)0x1;
        tw_err err = {{0}};
        int rc = tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err);
        if (rc != -EINVAL || strcmp(err.msg, bad_bodies[i].message) != 0) {
            print_error("body %s\n got  %d \"%s\"\n want \"%s\"\n", bad_bodies[i].hex, rc, err.msg,
                        bad_bodies[i].message);
            fail();
        }
        assert_ptr_equal(out, (json_t *)0x1);
    }
    tw_buf_free(&bytes);
}

/* The top-level map is level 1: 63 arrays inside it are fine, 64 are not. */
static void test_nesting_is_limited_to_64_levels(void **state)
{
    (void)state;
    tw_buf bytes = TW_BUF_INIT;
    tw_buf_puts(&bytes, "\xa1\x61\x61");
    for (int i = 0; i < 63; i++)
        tw_buf_putc(&bytes, (char)0x81);
    tw_buf_putc(&bytes, 0x01);
    json_t *out = NULL;
    tw_err err;
    assert_int_equal(tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err), 0);
    json_decref(out);

    tw_buf_reset(&bytes);
    tw_buf_puts(&bytes, "\xa1\x61\x61");
    for (int i = 0; i < 64; i++)
        tw_buf_putc(&bytes, (char)0x81);
    tw_buf_putc(&bytes, 0x01);
    assert_int_equal(tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err), -EINVAL);
    assert_string_equal(err.msg,
                        "Malformed CBOR body: items are nested deeper than 64 levels at byte 66");

    /* 8 MiB of indefinite arrays: refused at the limit, not by the stack. */
    tw_buf_reset(&bytes);
    tw_buf_puts(&bytes, "\xa1\x61\x61");
    for (int i = 0; i < 8 << 20; i++)
        tw_buf_putc(&bytes, (char)0x9f);
    assert_int_equal(tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err), -EINVAL);
    assert_string_equal(err.msg,
                        "Malformed CBOR body: items are nested deeper than 64 levels at byte 66");
    tw_buf_free(&bytes);
}

static void test_more_than_a_million_items_are_refused(void **state)
{
    (void)state;
    tw_buf bytes = TW_BUF_INIT;
    /* {"a": [_ 0 x 999997]} is 1 + 1 + 1 + 999997 = 1,000,000 items. */
    tw_buf_puts(&bytes, "\xa1\x61\x61\x9f");
    for (int i = 0; i < 999997; i++)
        tw_buf_putc(&bytes, 0x00);
    tw_buf_putc(&bytes, (char)0xff);
    json_t *out = NULL;
    tw_err err;
    assert_int_equal(tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err), 0);
    assert_int_equal(json_array_size(json_object_get(out, "a")), 999997);
    json_decref(out);
    bytes.len--;
    tw_buf_putc(&bytes, 0x00);
    tw_buf_putc(&bytes, (char)0xff);
    assert_int_equal(tw_cbor_decode((const uint8_t *)bytes.data, bytes.len, &out, &err), -EINVAL);
    assert_string_equal(err.msg, "Malformed CBOR body: more than 1000000 items at byte 1000001");
    tw_buf_free(&bytes);
}

/* ---- encoding ---- */

static const char *const gms_timestamps[] = {"Timestamp", "Timestamps", NULL};
static const char *const gms_maps[] = {"ExtendedStatistics", NULL};
static const tw_operation get_metric_statistics = {
    .name = "GetMetricStatistics",
    .timestamp_members = gms_timestamps,
    .map_members = gms_maps,
};

static void test_output_encodes_definite_smallest_form_with_tag_1_times(void **state)
{
    (void)state;
    json_t *output = json_loads(
        "{\"Label\":\"Lat\",\"Datapoints\":[{\"Timestamp\":1704067200000,\"SampleCount\":2.0,"
        "\"ExtendedStatistics\":{\"p99\":2.5}},{\"Timestamp\":1704067200123,\"Sum\":-1}],"
        "\"NextToken\":null,\"Timestamps\":[0,-1000],\"Big\":4294967296,\"Ok\":true,\"No\":false,"
        "\"Neg\":-300}",
        0, NULL);
    assert_non_null(output);
    tw_buf out = TW_BUF_INIT;
    tw_cbor_encode_output(&out, &get_metric_statistics, output);
    assert_hex_equal(&out,
                     "a7"                                   /* 7 members: NextToken left out */
                     "654c6162656c634c6174"                 /* Label: "Lat" */
                     "6a44617461706f696e747382"             /* Datapoints: [2] */
                     "a3" "6954696d657374616d70c11a65920080" /* Timestamp: 1(1704067200) */
                     "6b53616d706c65436f756e74fb4000000000000000" /* SampleCount: 2.0 */
                     "72457874656e646564537461746973746963" "73a1" "63703939fb4004000000000000"
                     "a2" "6954696d657374616d70c1fb41d964802007df3b" /* 1(1704067200.123) */
                     "6353756d20"                           /* Sum: -1 */
                     "6a54696d657374616d707382c100c120"     /* Timestamps: [1(0), 1(-1)] */
                     "63426967" "1b0000000100000000"        /* Big: 2^32 */
                     "624f6bf5" "624e6ff4"                  /* Ok: true, No: false */
                     "634e656739012b");
    json_decref(output);
    tw_buf_free(&out);
}

static void test_no_output_is_an_empty_map(void **state)
{
    (void)state;
    tw_buf out = TW_BUF_INIT;
    tw_cbor_encode_output(&out, &get_metric_statistics, NULL);
    assert_hex_equal(&out, "a0");
    tw_buf_free(&out);
}

static void test_error_is_a_map_of_type_and_message(void **state)
{
    (void)state;
    tw_buf out = TW_BUF_INIT;
    tw_cbor_encode_error(&out, "com.amazonaws.cloudwatch#ResourceNotFound", "gone");
    json_t *got = NULL;
    assert_int_equal(tw_cbor_decode((const uint8_t *)out.data, out.len, &got, NULL), 0);
    assert_json_equal(got, "{\"__type\":\"com.amazonaws.cloudwatch#ResourceNotFound\","
                           "\"message\":\"gone\"}");
    assert_int_equal((unsigned char)out.data[0], 0xa2);
    json_decref(got);
    tw_buf_free(&out);
}

static void test_encoded_output_decodes_back_with_times_in_seconds(void **state)
{
    (void)state;
    static const char *const times[] = {"Timestamps", NULL};
    static const tw_operation op = {.name = "GetMetricData", .timestamp_members = times};
    json_t *output = json_loads(
        "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Label\":\"l\\u00e9\",\"Timestamps\":"
        "[1704067200000,1704067260500],\"Values\":[1.5,0.1,1e300,-0.0],\"StatusCode\":\"Complete\","
        "\"Messages\":[]}],\"Messages\":[{\"Code\":\"c\",\"Value\":\"v\"}],\"Long\":"
        "\"" "0123456789012345678901234567890123456789" "\"}",
        0, NULL);
    tw_buf out = TW_BUF_INIT;
    tw_cbor_encode_output(&out, &op, output);
    json_t *got = NULL;
    assert_int_equal(tw_cbor_decode((const uint8_t *)out.data, out.len, &got, NULL), 0);
    json_t *want_times = json_pack("[f,f]", 1704067200.0, 1704067260.5);
    json_object_set(json_array_get(json_object_get(output, "MetricDataResults"), 0), "Timestamps",
                    want_times);
    json_decref(want_times);
    assert_true(json_equal(got, output));
    json_decref(got);
    json_decref(output);
    tw_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_put_metric_data_decodes_to_the_model_object),
        cmocka_unit_test(test_empty_body_is_an_empty_input),
        cmocka_unit_test(test_integers_decode_at_every_width),
        cmocka_unit_test(test_half_single_and_double_floats_decode),
        cmocka_unit_test(test_nan_and_infinities_become_the_aws_json_strings),
        cmocka_unit_test(test_indefinite_lengths_are_accepted_everywhere),
        cmocka_unit_test(test_byte_strings_become_base64_text),
        cmocka_unit_test(test_tag_1_wraps_epoch_seconds_as_integer_or_float),
        cmocka_unit_test(test_null_and_undefined_members_are_absent_but_kept_in_lists),
        cmocka_unit_test(test_utf8_text_is_kept),
        cmocka_unit_test(test_hostile_bodies_are_refused_with_a_sentence),
        cmocka_unit_test(test_nesting_is_limited_to_64_levels),
        cmocka_unit_test(test_more_than_a_million_items_are_refused),
        cmocka_unit_test(test_output_encodes_definite_smallest_form_with_tag_1_times),
        cmocka_unit_test(test_no_output_is_an_empty_map),
        cmocka_unit_test(test_error_is_a_map_of_type_and_message),
        cmocka_unit_test(test_encoded_output_decodes_back_with_times_in_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
