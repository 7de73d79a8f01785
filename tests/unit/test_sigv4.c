/* test_sigv4.c — SigV4 signing against both official suites (read at test
 * time from TW_TESTDATA_DIR, never copied, by sigv4_suite.c), the spec's
 * worked examples, and the canonicalisation rules one by one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "hash.h"
#include "mem.h"
#include "sigv4.h"
#include "sigv4_suite.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *added_header(const tw_sigv4_signed *s, const char *name)
{
    for (size_t i = 0; i < s->header_count; i++)
        if (strcmp(s->headers[i].name, name) == 0)
            return s->headers[i].value;
    return NULL;
}

/* Notes a mismatch and keeps going, so one run names every failing case. */
static int check_equal(const char *what, const char *dir, const char *got, const char *want)
{
    if (got != NULL && want != NULL && strcmp(got, want) == 0)
        return 0;
    print_error("%s: %s differs\n--- got\n%s\n--- want\n%s\n", dir, what, got ? got : "(null)",
                want ? want : "(null)");
    return 1;
}

/* ---- the botocore suite (34 cases) --------------------------------------- */

static int sign_botocore_case(const char *dir, void *ctx)
{
    sigv4_suite_request r;
    sigv4_suite_read_unsigned(dir, SIGV4_SUITE_BOTOCORE, &r);
    char *creq = sigv4_suite_botocore_file(dir, "creq");
    char *sts = sigv4_suite_botocore_file(dir, "sts");
    char *authz = sigv4_suite_botocore_file(dir, "authz");
    tw_sigv4_request req = sigv4_suite_as_sigv4(&r);
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    bool omit = false;
    char *token = sigv4_suite_botocore_token(dir, &omit);
    p.session_token = token;
    p.omit_session_token = omit;
    tw_sigv4_signed out;
    tw_err err = {{0}};
    int failures = 0;
    if (tw_sigv4_sign_headers(&req, &p, &out, &err) != 0) {
        print_error("%s: signing failed: %s\n", dir, err.msg);
        failures++;
    } else {
        failures +=
            check_equal("canonical request", dir, tw_buf_cstr(&out.canonical_request), creq);
        failures += check_equal("string to sign", dir, tw_buf_cstr(&out.string_to_sign), sts);
        failures += check_equal("Authorization", dir, added_header(&out, "Authorization"), authz);
        failures +=
            check_equal("X-Amz-Date", dir, added_header(&out, "X-Amz-Date"), "20150830T123600Z");
        if (token != NULL)
            failures += check_equal("X-Amz-Security-Token", dir,
                                    added_header(&out, "X-Amz-Security-Token"), token);
        tw_sigv4_signed_free(&out);
    }
    free(token);
    sigv4_suite_free_request(&r);
    free(creq);
    free(sts);
    free(authz);
    return failures;
}

static void test_botocore_suite_all_34_cases_sign_byte_for_byte(void **state)
{
    (void)state;
    sigv4_suite_check_cases(SIGV4_SUITE_BOTOCORE_DIR, NULL, 34, sign_botocore_case, NULL);
}

/* ---- the aws-signing-test-suite-v4 (38 cases) ---------------------------- */

static void context_params(const sigv4_suite_context *c, tw_sigv4_sign_params *p)
{
    memset(p, 0, sizeof *p);
    p->access_key_id = c->akid;
    p->secret_access_key = c->secret;
    p->session_token = c->token;
    p->omit_session_token = c->omit_session_token;
    p->region = c->region;
    p->service = c->service;
    p->time_ms = c->time_ms;
    p->expires_s = c->expires_s;
}

static int sign_v4_case_headers(const char *dir, const sigv4_suite_context *c,
                                tw_sigv4_request req)
{
    char *creq = sigv4_suite_file(dir, "header-canonical-request.txt");
    char *sts = sigv4_suite_file(dir, "header-string-to-sign.txt");
    char *sig = sigv4_suite_file(dir, "header-signature.txt");
    sigv4_suite_request signed_req;
    sigv4_suite_read_signed(dir, SIGV4_SUITE_V4_HEADER, NULL, &signed_req);
    tw_sigv4_sign_params p;
    context_params(c, &p);
    tw_sigv4_signed out;
    tw_err err = {{0}};
    int failures = 0;
    if (tw_sigv4_sign_headers(&req, &p, &out, &err) != 0) {
        print_error("%s: header signing failed: %s\n", dir, err.msg);
        failures++;
    } else {
        failures +=
            check_equal("header canonical request", dir, tw_buf_cstr(&out.canonical_request), creq);
        failures +=
            check_equal("header string to sign", dir, tw_buf_cstr(&out.string_to_sign), sts);
        failures += check_equal("header signature", dir, out.signature, sig);
        failures += check_equal("Authorization", dir, added_header(&out, "Authorization"),
                                sigv4_suite_header_cstr(&signed_req, "Authorization"));
        if (c->sign_body)
            failures += check_equal("x-amz-content-sha256", dir,
                                    added_header(&out, "X-Amz-Content-SHA256"),
                                    sigv4_suite_header_cstr(&signed_req, "x-amz-content-sha256"));
        tw_sigv4_signed_free(&out);
    }
    sigv4_suite_free_request(&signed_req);
    free(creq);
    free(sts);
    free(sig);
    return failures;
}

/* The suite's signed URL and ours must carry the same items (their order
 * differs: ours is canonical). */
static int compare_presigned_query(const char *dir, const tw_sigv4_signed *out)
{
    sigv4_suite_request r;
    sigv4_suite_read_signed(dir, SIGV4_SUITE_V4_QUERY, NULL, &r);
    tw_buf want = TW_BUF_INIT, got = TW_BUF_INIT;
    assert_int_equal(
        tw_sigv4_canonical_query(&want, tw_buf_cstr(&r.query), r.query.len, NULL, NULL), 0);
    assert_int_equal(tw_sigv4_canonical_query(&got, out->query.data, out->query.len, NULL, NULL),
                     0);
    int failures = check_equal("presigned query items", dir, tw_buf_cstr(&got), tw_buf_cstr(&want));
    char tail[100];
    snprintf(tail, sizeof tail, "&X-Amz-Signature=%s", out->signature);
    const char *q = tw_buf_cstr(&out->query);
    failures +=
        check_equal("query ends with the signature", dir,
                    q + (out->query.len > strlen(tail) ? out->query.len - strlen(tail) : 0), tail);
    tw_buf_free(&want);
    tw_buf_free(&got);
    sigv4_suite_free_request(&r);
    return failures;
}

static int sign_v4_case_query(const char *dir, const sigv4_suite_context *c, tw_sigv4_request req)
{
    char *creq = sigv4_suite_file(dir, "query-canonical-request.txt");
    char *sts = sigv4_suite_file(dir, "query-string-to-sign.txt");
    char *sig = sigv4_suite_file(dir, "query-signature.txt");
    tw_sigv4_sign_params p;
    context_params(c, &p);
    tw_sigv4_signed out;
    tw_err err = {{0}};
    int failures = 0;
    if (tw_sigv4_presign(&req, &p, &out, &err) != 0) {
        print_error("%s: presigning failed: %s\n", dir, err.msg);
        failures++;
    } else {
        failures +=
            check_equal("query canonical request", dir, tw_buf_cstr(&out.canonical_request), creq);
        failures += check_equal("query string to sign", dir, tw_buf_cstr(&out.string_to_sign), sts);
        failures += check_equal("query signature", dir, out.signature, sig);
        failures += compare_presigned_query(dir, &out);
        tw_sigv4_signed_free(&out);
    }
    free(creq);
    free(sts);
    free(sig);
    return failures;
}

static int sign_v4_case(const char *dir, void *ctx)
{
    sigv4_suite_context c = {0};
    sigv4_suite_read_context(dir, &c);
    sigv4_suite_request r;
    sigv4_suite_read_unsigned(dir, SIGV4_SUITE_V4_HEADER, &r);
    tw_sigv4_request req = sigv4_suite_as_sigv4(&r);
    req.s3 = !c.normalize;
    req.sign_body = c.sign_body;
    int failures = sign_v4_case_headers(dir, &c, req);
    failures += sign_v4_case_query(dir, &c, req);
    sigv4_suite_free_request(&r);
    sigv4_suite_free_context(&c);
    return failures;
}

static void test_v4_suite_all_38_cases_sign_and_presign_byte_for_byte(void **state)
{
    (void)state;
    sigv4_suite_check_cases(SIGV4_SUITE_V4_DIR, "context.json", 38, sign_v4_case, NULL);
}

/* ---- spec §4 and §9 ------------------------------------------------------ */

static void assert_key(const char *service, const char *want)
{
    uint8_t key[TW_SIGV4_KEY_LEN];
    char hex[2 * TW_SIGV4_KEY_LEN + 1];
    tw_sigv4_signing_key(SIGV4_SUITE_SECRET, "20150830", "us-east-1", service, key);
    tw_hex_encode(key, sizeof key, hex);
    assert_string_equal(hex, want);
}

static void test_signing_key_matches_spec_values(void **state)
{
    (void)state;
    assert_key("service", "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
    assert_key("logs", "e331900b4b6563bb0198f704189816ba9712a0a77fbd01a6d6c3a2550a853794");
}

static void test_key_cache_returns_same_key_and_never_a_stale_one(void **state)
{
    (void)state;
    tw_sigv4_key_cache *cache = tw_sigv4_key_cache_new(2);
    uint8_t plain[TW_SIGV4_KEY_LEN], cached[TW_SIGV4_KEY_LEN];
    tw_sigv4_signing_key(SIGV4_SUITE_SECRET, "20150830", "us-east-1", "logs", plain);
    for (int round = 0; round < 2; round++) {
        tw_sigv4_signing_key_cached(cache, SIGV4_SUITE_AKID, SIGV4_SUITE_SECRET, "20150830",
                                    "us-east-1", "logs", cached);
        assert_memory_equal(plain, cached, sizeof plain);
    }
    /* A rotated secret, another day, region or service: another key. */
    const char *variants[][4] = {{"other-secret", "20150830", "us-east-1", "logs"},
                                 {SIGV4_SUITE_SECRET, "20150831", "us-east-1", "logs"},
                                 {SIGV4_SUITE_SECRET, "20150830", "us-west-2", "logs"},
                                 {SIGV4_SUITE_SECRET, "20150830", "us-east-1", "monitoring"}};
    for (size_t i = 0; i < 4; i++) {
        uint8_t want[TW_SIGV4_KEY_LEN];
        tw_sigv4_signing_key(variants[i][0], variants[i][1], variants[i][2], variants[i][3], want);
        tw_sigv4_signing_key_cached(cache, SIGV4_SUITE_AKID, variants[i][0], variants[i][1],
                                    variants[i][2], variants[i][3], cached);
        assert_memory_equal(want, cached, sizeof want);
        assert_memory_not_equal(plain, cached, sizeof plain);
    }
    tw_sigv4_key_cache_free(cache);
}

static void test_spec_example_logs_put_log_events(void **state)
{
    (void)state;
    const char *body = "{\"logGroupName\": \"g\", \"logStreamName\": \"s\", \"logEvents\": "
                       "[{\"timestamp\": 1440938160000, \"message\": \"hello\"}]}";
    assert_int_equal(strlen(body), 108);
    tw_sigv4_header h[] = {
        tw_sigv4_header_of("Host", "logs.us-east-1.amazonaws.com"),
        tw_sigv4_header_of("Content-Type", "application/x-amz-json-1.1"),
        tw_sigv4_header_of("X-Amz-Target", "Logs_20140328.PutLogEvents"),
        tw_sigv4_header_of("User-Agent", "aws-cli/2.9.19"),
        tw_sigv4_header_of("Content-Length", "108"),
    };
    tw_sigv4_request req = {.method = "POST", .method_len = 4, .path = "/", .path_len = 1,
                            .headers = h, .header_count = 4, .body = body, .body_len = 108};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    p.service = "logs";
    tw_sigv4_signed out;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, NULL), 0);
    assert_string_equal(tw_buf_cstr(&out.canonical_request),
                        "POST\n/\n\n"
                        "content-type:application/x-amz-json-1.1\n"
                        "host:logs.us-east-1.amazonaws.com\n"
                        "x-amz-date:20150830T123600Z\n"
                        "x-amz-target:Logs_20140328.PutLogEvents\n\n"
                        "content-type;host;x-amz-date;x-amz-target\n"
                        "d2ebcc4e4ab7f64ecb7236247fda2809129cd5561bc82883269b43106ce0554c");
    assert_string_equal(tw_buf_cstr(&out.string_to_sign),
                        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/logs/aws4_request\n"
                        "abcdf06a90ffc59d3e4f0e236f95188b03e2589461c27a01a1d83e252590e80f");
    assert_string_equal(out.signature,
                        "3ce0966c20caedee2d83b5ef404c45340ce3656a01a61bf1a368a1bbd2dd4dbe");
    assert_string_equal(
        added_header(&out, "Authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/logs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=3ce0966c20caedee2d83b5ef404c45340ce3656a01a61bf1a368a1bbd2dd4dbe");
    tw_sigv4_signed_free(&out);
    /* User-Agent is never signed; Content-Length is (like aws-sdk-go). */
    req.header_count = 5;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, NULL), 0);
    assert_non_null(
        strstr(added_header(&out, "Authorization"),
               "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target,"));
    tw_sigv4_signed_free(&out);
}

static void test_spec_example_put_metric_data_with_session_token(void **state)
{
    (void)state;
    const char *body = "Action=PutMetricData&Version=2010-08-01&Namespace=MyApp"
                       "&MetricData.member.1.MetricName=Lat&MetricData.member.1.Value=1.5";
    tw_sigv4_header h[] = {
        tw_sigv4_header_of("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        tw_sigv4_header_of("Host", "monitoring.us-east-1.amazonaws.com"),
    };
    tw_sigv4_request req = {.method = "POST",
                            .method_len = 4,
                            .path = "/",
                            .path_len = 1,
                            .headers = h,
                            .header_count = 2,
                            .body = body,
                            .body_len = strlen(body)};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    p.service = "monitoring";
    p.session_token = "SESSIONTOKEN";
    tw_sigv4_signed out;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, NULL), 0);
    assert_string_equal(tw_buf_cstr(&out.canonical_request),
                        "POST\n/\n\n"
                        "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                        "host:monitoring.us-east-1.amazonaws.com\n"
                        "x-amz-date:20150830T123600Z\n"
                        "x-amz-security-token:SESSIONTOKEN\n\n"
                        "content-type;host;x-amz-date;x-amz-security-token\n"
                        "6f3a9d9a53d096f8347a8f3db5b64d2b71184bb277cb0a27d7caae437efb88c4");
    const char *sts = tw_buf_cstr(&out.string_to_sign);
    assert_string_equal(sts + strlen(sts) - 64,
                        "349a0fe18eb9b041650c6a574e5dbb1a3ac12c8cbde63b88eefccdf5adf15ea2");
    assert_string_equal(out.signature,
                        "15153c482789b5ed97568a022c9a6bffa74b2228f5403093e73f7cb1c62e6dbf");
    assert_string_equal(added_header(&out, "X-Amz-Security-Token"), "SESSIONTOKEN");
    assert_int_equal(out.header_count, 3);
    tw_sigv4_signed_free(&out);
}

/* ---- canonicalisation rules ---------------------------------------------- */

static void assert_uri(const char *path, bool s3, const char *want)
{
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_sigv4_canonical_uri(&b, path, strlen(path), s3, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), want);
    tw_buf_free(&b);
}

static void test_canonical_uri_normalises_and_double_encodes(void **state)
{
    (void)state;
    assert_uri("", false, "/");
    assert_uri("/", false, "/");
    assert_uri("/example/..", false, "/");
    assert_uri("/example1/example2/../..", false, "/");
    assert_uri("/./", false, "/");
    assert_uri("/./example", false, "/example");
    assert_uri("//", false, "/");
    assert_uri("//example//", false, "/example/");
    assert_uri("/a/b/../../../c", false, "/c");
    assert_uri("/a/./b/.", false, "/a/b");
    assert_uri("/a/..b/c", false, "/a/..b/c");
    assert_uri("/my%20doc", false, "/my%2520doc");
    assert_uri("/example space/", false, "/example%20space/");
    assert_uri("/example/$delete", false, "/example/%24delete");
    assert_uri("/\xe1\x88\xb4", false, "/%E1%88%B4");
    assert_uri("/service/GraniteServiceVersion20100801/operation/PutMetricData", false,
               "/service/GraniteServiceVersion20100801/operation/PutMetricData");
}

static void test_canonical_uri_s3_keeps_path_and_encodes_once(void **state)
{
    (void)state;
    assert_uri("//example//", true, "//example//");
    assert_uri("/example/..", true, "/example/..");
    assert_uri("/my%20doc", true, "/my%20doc");
    assert_uri("/my%2bdoc+x", true, "/my%2Bdoc%2Bx");
    tw_buf b = TW_BUF_INIT;
    tw_err err = {{0}};
    assert_int_equal(tw_sigv4_canonical_uri(&b, "/bad%zz", 7, true, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "/bad%zz"));
    tw_buf_free(&b);
}

static void assert_query(const char *query, const char *const *exclude, const char *want)
{
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_sigv4_canonical_query(&b, query, strlen(query), exclude, NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), want);
    tw_buf_free(&b);
}

static void test_canonical_query_sorts_pairs_after_encoding(void **state)
{
    (void)state;
    assert_query("", NULL, "");
    assert_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", NULL,
                 "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
    assert_query("Param1=value2&Param1=Value1", NULL, "Param1=Value1&Param1=value2");
    assert_query("Param2=value2&Param1=value1", NULL, "Param1=value1&Param2=value2");
    assert_query("\xe1\x88\xb4=bar", NULL, "%E1%88%B4=bar");
    assert_query("flag&b=&a", NULL, "a=&b=&flag=");
    assert_query("a=1&&b=2&", NULL, "a=1&b=2");
    /* Decoded then re-encoded: lower-case escapes and needless escapes
     * canonicalise; '+' stays a plus. */
    assert_query("k=%7e%2fx&s=a+b%20c", NULL, "k=~%2Fx&s=a%2Bb%20c");
    static const char *const exclude[] = {"X-Amz-Signature", NULL};
    assert_query("X-Amz-Signature=abc&X-Amz-Date=1&X-Amz-%53ignature=def", exclude, "X-Amz-Date=1");
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_sigv4_canonical_query(&b, "a=%G0", 5, NULL, NULL), -EINVAL);
    tw_buf_free(&b);
}

static void test_header_value_trims_and_collapses_whitespace(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {" value1", "value1"},        {"\"a   b   c\"", "\"a b c\""},
        {"value1\n  value2\n     value3", "value1 value2 value3"},
        {"  \t ", ""},                {"a\tb\r\nc", "a b c"},
    };
    for (size_t i = 0; i < 5; i++) {
        tw_buf b = TW_BUF_INIT;
        tw_sigv4_header_value(&b, cases[i][0], strlen(cases[i][0]));
        assert_string_equal(tw_buf_cstr(&b), cases[i][1]);
        tw_buf_free(&b);
    }
}

static void test_canonical_headers_joins_duplicates_in_arrival_order(void **state)
{
    (void)state;
    tw_sigv4_header h[] = {
        tw_sigv4_header_of("My-Header1", "value4"), tw_sigv4_header_of("host", "h"),
        tw_sigv4_header_of("MY-HEADER1", " value1 "), tw_sigv4_header_of("my-header1", "value3"),
    };
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_sigv4_canonical_headers(&b, h, 4, "host;my-header1", NULL), 0);
    assert_string_equal(tw_buf_cstr(&b), "host:h\nmy-header1:value4,value1,value3\n");
    tw_buf_reset(&b);
    tw_err err = {{0}};
    assert_int_equal(tw_sigv4_canonical_headers(&b, h, 4, "host;x-amz-date", &err), -ENOENT);
    assert_non_null(strstr(err.msg, "'x-amz-date'"));
    assert_int_equal(tw_sigv4_canonical_headers(&b, h, 4, "host;;my-header1", NULL), -EINVAL);
    tw_buf_free(&b);
}

static void test_signer_skips_hop_by_hop_headers_and_replaces_its_own(void **state)
{
    (void)state;
    tw_sigv4_header h[] = {
        tw_sigv4_header_of("Host", "example.amazonaws.com"),
        tw_sigv4_header_of("User-Agent", "x"),
        tw_sigv4_header_of("Expect", "100-continue"),
        tw_sigv4_header_of("Connection", "close"),
        tw_sigv4_header_of("Transfer-Encoding", "chunked"),
        tw_sigv4_header_of("X-Amzn-Trace-Id", "t"),
        tw_sigv4_header_of("Authorization", "old"),
        tw_sigv4_header_of("X-Amz-Date", "19990101T000000Z"),
        tw_sigv4_header_of("X-Amz-Content-SHA256", "stale"),
    };
    tw_sigv4_request req = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1,
                            .headers = h, .header_count = 9, .sign_body = true};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    tw_sigv4_signed out;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, NULL), 0);
    assert_string_equal(
        tw_buf_cstr(&out.canonical_request),
        "GET\n/\n\nhost:example.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20150830T123600Z\n\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(out.header_count, 3);
    assert_string_equal(out.headers[0].name, "X-Amz-Date");
    assert_string_equal(out.headers[1].name, "X-Amz-Content-SHA256");
    assert_string_equal(out.headers[2].name, "Authorization");
    tw_sigv4_signed_free(&out);
}

static void test_signer_unsigned_payload_and_given_hash(void **state)
{
    (void)state;
    tw_sigv4_header h[] = {tw_sigv4_header_of("Host", "h")};
    tw_sigv4_request req = {.method = "PUT", .method_len = 3, .path = "/k", .path_len = 2,
                            .headers = h, .header_count = 1, .body = "x", .body_len = 1,
                            .unsigned_payload = true, .sign_body = true};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    tw_sigv4_signed out;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, NULL), 0);
    const char *creq = tw_buf_cstr(&out.canonical_request);
    assert_string_equal(creq + strlen(creq) - 17, "\nUNSIGNED-PAYLOAD");
    assert_string_equal(added_header(&out, "X-Amz-Content-SHA256"), "UNSIGNED-PAYLOAD");
    tw_sigv4_signed_free(&out);
    req.unsigned_payload = false;
    req.sign_body = false;
    req.payload_hash = "0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, NULL), 0);
    creq = tw_buf_cstr(&out.canonical_request);
    assert_string_equal(creq + strlen(creq) - 65,
                        "\n0000000000000000000000000000000000000000000000000000000000000000");
    tw_sigv4_signed_free(&out);
}

static void test_signer_rejects_bad_input_with_a_sentence(void **state)
{
    (void)state;
    tw_sigv4_header no_host[] = {tw_sigv4_header_of("X-Foo", "1")};
    tw_sigv4_header bad_name[] = {tw_sigv4_header_of("Host", "h"),
                                  tw_sigv4_header_of("X;Foo", "1")};
    tw_sigv4_request req = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1,
                            .headers = no_host, .header_count = 1};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    tw_sigv4_signed out;
    tw_err err = {{0}};
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "Host"));
    req.headers = bad_name;
    req.header_count = 2;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "X;Foo"));
    req.header_count = 1;
    p.expires_s = 0;
    assert_int_equal(tw_sigv4_presign(&req, &p, &out, &err), -EINVAL);
    p.expires_s = TW_SIGV4_EXPIRES_MAX + 1;
    assert_int_equal(tw_sigv4_presign(&req, &p, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "604800"));
    p.expires_s = TW_SIGV4_EXPIRES_MAX;
    assert_int_equal(tw_sigv4_presign(&req, &p, &out, &err), 0);
    assert_non_null(strstr(tw_buf_cstr(&out.query), "X-Amz-Expires=604800&"));
    tw_sigv4_signed_free(&out);
    /* A query that already carries auth items would reach the verifier twice. */
    req.query = "a=1&X-Amz-%44ate=20150830T123600Z";
    req.query_len = strlen(req.query);
    assert_int_equal(tw_sigv4_presign(&req, &p, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "X-Amz-*"));
    req.query = NULL;
    req.query_len = 0;
    p.service = "logs/x";
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "service must not contain '/'"));
    p.region = NULL;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "region"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_suite_all_34_cases_sign_byte_for_byte),
        cmocka_unit_test(test_v4_suite_all_38_cases_sign_and_presign_byte_for_byte),
        cmocka_unit_test(test_signing_key_matches_spec_values),
        cmocka_unit_test(test_key_cache_returns_same_key_and_never_a_stale_one),
        cmocka_unit_test(test_spec_example_logs_put_log_events),
        cmocka_unit_test(test_spec_example_put_metric_data_with_session_token),
        cmocka_unit_test(test_canonical_uri_normalises_and_double_encodes),
        cmocka_unit_test(test_canonical_uri_s3_keeps_path_and_encodes_once),
        cmocka_unit_test(test_canonical_query_sorts_pairs_after_encoding),
        cmocka_unit_test(test_header_value_trims_and_collapses_whitespace),
        cmocka_unit_test(test_canonical_headers_joins_duplicates_in_arrival_order),
        cmocka_unit_test(test_signer_skips_hop_by_hop_headers_and_replaces_its_own),
        cmocka_unit_test(test_signer_unsigned_payload_and_given_hash),
        cmocka_unit_test(test_signer_rejects_bad_input_with_a_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
