/* test_sigv4_verify.c — server-side SigV4 verification: every signed request
 * of both official suites (read at test time from TW_TESTDATA_DIR by
 * sigv4_suite.c) verifies, and each way a request can be wrong fails with the
 * right outcome and the AWS message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "mem.h"
#include "sigv4.h"
#include "sigv4_suite.h"
#include "sigv4_verify.h"
#include "timefmt.h"

#define MINUTE_MS 60000LL
#define MISMATCH                                                                             \
    "The request signature we calculated does not match the signature you provided. Check " \
    "your AWS Secret Access Key and signing method. Consult the service documentation for " \
    "details."

/* ---- signed cases --------------------------------------------------------- */

typedef struct signed_case {
    const char *dir;
    sigv4_suite_form kind;
    bool s3;
    char *token; /* sent with the request (signed or not), NULL if none */
} signed_case;

/* A fresh copy of the case's signed request (and token). */
static void load_signed(const signed_case *c, sigv4_suite_request *r)
{
    sigv4_suite_read_signed(c->dir, c->kind, c->token, r);
}

/* ---- a fake credential store --------------------------------------------- */

typedef struct fake_keys {
    const char *secret;         /* of SIGV4_SUITE_AKID */
    const char *expired_token;  /* this token is reported expired */
    int calls;
    tw_buf seen_token;
} fake_keys;

static tw_sigv4_key_status fake_lookup(void *ctx, const char *akid, const char *token,
                                       tw_buf *secret)
{
    fake_keys *k = ctx;
    k->calls++;
    tw_buf_reset(&k->seen_token);
    if (token != NULL)
        tw_buf_puts(&k->seen_token, token);
    if (strcmp(akid, SIGV4_SUITE_AKID) != 0)
        return TW_SIGV4_KEY_UNKNOWN;
    if (token != NULL && k->expired_token != NULL && strcmp(token, k->expired_token) == 0)
        return TW_SIGV4_KEY_TOKEN_EXPIRED;
    tw_buf_puts(secret, k->secret);
    return TW_SIGV4_KEY_FOUND;
}

static const char *const suite_services[] = {"service", NULL};
static const char *const suite_regions[] = {"us-east-1", NULL};

static tw_sigv4_verify_config suite_config(fake_keys *keys)
{
    tw_sigv4_verify_config cfg = {0};
    cfg.services = suite_services;
    cfg.regions = suite_regions;
    cfg.lookup = fake_lookup;
    cfg.lookup_ctx = keys;
    return cfg;
}

/* ---- mutations ------------------------------------------------------------ */

typedef enum mutation {
    M_NONE, M_SIGNATURE_BYTE, M_HOST_VALUE, M_EXTRA_UNSIGNED_HEADER, M_REMOVE_HOST,
    M_HOST_NOT_SIGNED, M_WRONG_SECRET, M_UNKNOWN_KEY, M_REGION, M_SERVICE, M_TERMINATOR,
    M_CREDENTIAL_DATE, M_NO_CREDENTIAL, M_NO_SIGNED_HEADERS, M_NO_SIGNATURE, M_NO_AUTH,
    M_NOW_PLUS_15, M_NOW_MINUS_15, M_NOW_PLUS_16, M_NOW_MINUS_16, M_TOKEN_EXPIRED,
    M_DEBUG_MISMATCH, M_CACHED_THEN_ROTATED,
    /* query form only */
    M_QUERY_ITEM, M_EXPIRES_0, M_EXPIRES_604801, M_EXPIRES_JUNK, M_NO_QUERY_CREDENTIAL,
    M_ALGORITHM, M_PLUS_AUTH_HEADER, M_NOW_AT_EXPIRY, M_NOW_PAST_EXPIRY,
} mutation;

typedef struct expectation {
    mutation m;
    tw_sigv4_outcome outcome;
    const char *message; /* exact; "*" prefix: substring; NULL: not checked */
} expectation;

static const expectation header_expectations[] = {
    {M_NONE, TW_SIGV4_OK, ""},
    {M_SIGNATURE_BYTE, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_HOST_VALUE, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_EXTRA_UNSIGNED_HEADER, TW_SIGV4_OK, ""},
    {M_REMOVE_HOST, TW_SIGV4_SIGNATURE_MISMATCH,
     "header 'host' is listed in SignedHeaders but not present in the request"},
    {M_HOST_NOT_SIGNED, TW_SIGV4_INCOMPLETE,
     "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
    {M_WRONG_SECRET, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_UNKNOWN_KEY, TW_SIGV4_UNKNOWN_KEY, "The security token included in the request is invalid."},
    {M_REGION, TW_SIGV4_SCOPE_ERROR,
     "Credential should be scoped to a valid region, not 'eu-west-9'."},
    {M_SERVICE, TW_SIGV4_SCOPE_ERROR, "Credential should be scoped to correct service: 'service'."},
    {M_TERMINATOR, TW_SIGV4_SCOPE_ERROR,
     "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesx'."},
    {M_CREDENTIAL_DATE, TW_SIGV4_SCOPE_ERROR,
     "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
     "HTTP: '20150829' != '20150830', from '20150830T123600Z'."},
    {M_NO_CREDENTIAL, TW_SIGV4_INCOMPLETE,
     "*Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 "},
    {M_NO_SIGNED_HEADERS, TW_SIGV4_INCOMPLETE,
     "*Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 "},
    {M_NO_SIGNATURE, TW_SIGV4_INCOMPLETE,
     "*Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 "},
    {M_NO_AUTH, TW_SIGV4_MISSING_AUTH, "Request is missing Authentication Token"},
    {M_NOW_PLUS_15, TW_SIGV4_OK, ""},
    {M_NOW_MINUS_15, TW_SIGV4_OK, ""},
    {M_NOW_PLUS_16, TW_SIGV4_SKEW,
     "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
     "(20150830T125200Z - 15 min.)"},
    {M_NOW_MINUS_16, TW_SIGV4_SKEW,
     "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z "
     "(20150830T122000Z + 15 min.)"},
    {M_TOKEN_EXPIRED, TW_SIGV4_EXPIRED_TOKEN,
     "The security token included in the request is expired"},
    {M_DEBUG_MISMATCH, TW_SIGV4_SIGNATURE_MISMATCH,
     "*\n\nThe Canonical String for this request should have been\n'"},
    {M_CACHED_THEN_ROTATED, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
};

static const expectation query_expectations[] = {
    {M_NONE, TW_SIGV4_OK, ""},
    {M_SIGNATURE_BYTE, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_HOST_VALUE, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_EXTRA_UNSIGNED_HEADER, TW_SIGV4_OK, ""},
    {M_REMOVE_HOST, TW_SIGV4_SIGNATURE_MISMATCH,
     "header 'host' is listed in SignedHeaders but not present in the request"},
    {M_WRONG_SECRET, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_UNKNOWN_KEY, TW_SIGV4_UNKNOWN_KEY, "The security token included in the request is invalid."},
    {M_REGION, TW_SIGV4_SCOPE_ERROR,
     "Credential should be scoped to a valid region, not 'eu-west-9'."},
    {M_CREDENTIAL_DATE, TW_SIGV4_SCOPE_ERROR,
     "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
     "HTTP: '20150829' != '20150830', from '20150830T123600Z'."},
    {M_QUERY_ITEM, TW_SIGV4_SIGNATURE_MISMATCH, MISMATCH},
    {M_EXPIRES_0, TW_SIGV4_INCOMPLETE,
     "X-Amz-Expires must be a whole number of seconds from 1 to 604800, not '0'."},
    {M_EXPIRES_604801, TW_SIGV4_INCOMPLETE,
     "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
    {M_EXPIRES_JUNK, TW_SIGV4_INCOMPLETE,
     "X-Amz-Expires must be a whole number of seconds from 1 to 604800, not '-5'."},
    {M_NO_QUERY_CREDENTIAL, TW_SIGV4_INCOMPLETE,
     "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
     "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
    {M_ALGORITHM, TW_SIGV4_INCOMPLETE,
     "The authorization mechanism you have provided is not supported. Please use "
     "AWS4-HMAC-SHA256."},
    {M_PLUS_AUTH_HEADER, TW_SIGV4_INCOMPLETE, "*Only one auth mechanism allowed"},
    {M_NOW_MINUS_15, TW_SIGV4_OK, ""},
    {M_NOW_MINUS_16, TW_SIGV4_SKEW,
     "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z "
     "(20150830T122000Z + 15 min.)"},
    {M_NOW_AT_EXPIRY, TW_SIGV4_OK, ""},
    {M_NOW_PAST_EXPIRY, TW_SIGV4_PRESIGN_EXPIRED,
     "Request has expired: X-Amz-Date 20150830T123600Z + X-Amz-Expires 3600 ended at "
     "20150830T133600Z; it is now 20150830T133601Z."},
    {M_TOKEN_EXPIRED, TW_SIGV4_EXPIRED_TOKEN,
     "The security token included in the request is expired"},
};

/* The auth text a mutation edits: the Authorization value, or the query. */
static tw_buf *auth_text(const signed_case *c, sigv4_suite_request *r)
{
    if (c->kind == SIGV4_SUITE_V4_QUERY)
        return &r->query;
    tw_buf *a = sigv4_suite_header(r, "Authorization");
    assert_non_null(a);
    return a;
}

static void flip_signature(const signed_case *c, sigv4_suite_request *r)
{
    tw_buf *a = auth_text(c, r);
    char *sig =
        strstr(a->data, c->kind == SIGV4_SUITE_V4_QUERY ? "X-Amz-Signature=" : "Signature=");
    assert_non_null(sig);
    sig = strchr(sig, '=') + 1;
    *sig = *sig == '0' ? '1' : '0';
}

/* Drops one ", Name=value" component of the Authorization header. */
static void drop_component(sigv4_suite_request *r, const char *name)
{
    tw_buf *a = sigv4_suite_header(r, "Authorization");
    char *start = strstr(a->data, name);
    assert_non_null(start);
    char *end = strchr(start, ',');
    size_t tail = end ? strlen(end + 1) : 0;
    if (end)
        memmove(start, end + 1, tail + 1);
    else
        *start = '\0';
    a->len = strlen(a->data);
}

/* Replaces the first `from` in b; false when absent. */
static bool replace_in(tw_buf *b, const char *from, const char *to)
{
    const char *s = tw_buf_cstr(b);
    const char *at = strstr(s, from);
    if (at == NULL)
        return false;
    tw_buf out = TW_BUF_INIT;
    tw_buf_append(&out, s, (size_t)(at - s));
    tw_buf_puts(&out, to);
    tw_buf_puts(&out, at + strlen(from));
    tw_buf_free(b);
    *b = out;
    return true;
}

static void unsign_host(const signed_case *c, sigv4_suite_request *r)
{
    tw_buf *a = auth_text(c, r);
    assert_true(replace_in(a, "SignedHeaders=host;", "SignedHeaders=")
                || replace_in(a, ";host;", ";") || replace_in(a, ";host,", ","));
}

static void must_replace(tw_buf *b, const char *from, const char *to)
{
    if (!replace_in(b, from, to))
        fail_msg("'%s' not found in '%s'", from, tw_buf_cstr(b));
}

/* Applies m to the request or to the verification settings. */
static void mutate(const signed_case *c, mutation m, sigv4_suite_request *r, fake_keys *keys,
                   tw_sigv4_verify_config *cfg, int64_t *now_ms)
{
    const char *cred = c->kind == SIGV4_SUITE_V4_QUERY ? "X-Amz-Credential=AKIDEXAMPLE%2F"
                                                       : "Credential=AKIDEXAMPLE/";
    const char *slash = c->kind == SIGV4_SUITE_V4_QUERY ? "%2F" : "/";
    char from[64], to[64];
    switch (m) {
    case M_NONE: case M_DEBUG_MISMATCH: case M_CACHED_THEN_ROTATED: break;
    case M_SIGNATURE_BYTE: flip_signature(c, r); break;
    case M_HOST_VALUE: must_replace(sigv4_suite_header(r, "Host"), ".com", ".con"); break;
    case M_EXTRA_UNSIGNED_HEADER:
        sigv4_suite_add_header(r, "User-Agent", "aws-cli/2.9.19");
        sigv4_suite_add_header(r, "X-Extra", "not signed");
        break;
    case M_REMOVE_HOST: sigv4_suite_remove_header(r, "Host"); break;
    case M_HOST_NOT_SIGNED: unsign_host(c, r); break;
    case M_WRONG_SECRET: keys->secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"; break;
    case M_UNKNOWN_KEY: must_replace(auth_text(c, r), "AKIDEXAMPLE", "AKIDOTHER"); break;
    case M_REGION:
        snprintf(from, sizeof from, "%sus-east-1%s", slash, slash);
        snprintf(to, sizeof to, "%seu-west-9%s", slash, slash);
        must_replace(auth_text(c, r), from, to);
        break;
    case M_SERVICE: must_replace(auth_text(c, r), "/service/", "/logs/"); break;
    case M_TERMINATOR: must_replace(auth_text(c, r), "aws4_request", "aws4_requesx"); break;
    case M_CREDENTIAL_DATE:
        snprintf(from, sizeof from, "%s20150830", cred);
        snprintf(to, sizeof to, "%s20150829", cred);
        must_replace(auth_text(c, r), from, to);
        break;
    case M_NO_CREDENTIAL: drop_component(r, "Credential="); break;
    case M_NO_SIGNED_HEADERS: drop_component(r, "SignedHeaders="); break;
    case M_NO_SIGNATURE: drop_component(r, "Signature="); break;
    case M_NO_AUTH: sigv4_suite_remove_header(r, "Authorization"); break;
    case M_NOW_PLUS_15: *now_ms += 15 * MINUTE_MS; break;
    case M_NOW_MINUS_15: *now_ms -= 15 * MINUTE_MS; break;
    case M_NOW_PLUS_16: *now_ms += 16 * MINUTE_MS; break;
    case M_NOW_MINUS_16: *now_ms -= 16 * MINUTE_MS; break;
    case M_TOKEN_EXPIRED: keys->expired_token = c->token; break;
    case M_QUERY_ITEM: must_replace(&r->query, "X-Amz-Expires=3600", "X-Amz-Expires=3599"); break;
    case M_EXPIRES_0: must_replace(&r->query, "X-Amz-Expires=3600", "X-Amz-Expires=0"); break;
    case M_EXPIRES_604801:
        must_replace(&r->query, "X-Amz-Expires=3600", "X-Amz-Expires=604801");
        break;
    case M_EXPIRES_JUNK: must_replace(&r->query, "X-Amz-Expires=3600", "X-Amz-Expires=-5"); break;
    case M_NO_QUERY_CREDENTIAL:
        must_replace(&r->query, "X-Amz-Credential=", "X-Amz-Kredential=");
        break;
    case M_ALGORITHM: must_replace(&r->query, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"); break;
    case M_PLUS_AUTH_HEADER:
        sigv4_suite_add_header(r, "Authorization",
                               "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
                               "us-east-1/service/aws4_request, SignedHeaders=host, "
                               "Signature=00");
        break;
    case M_NOW_AT_EXPIRY: *now_ms += 3600 * 1000; break;
    case M_NOW_PAST_EXPIRY: *now_ms += 3601 * 1000; break;
    }
    cfg->debug = m == M_DEBUG_MISMATCH;
    if (m == M_DEBUG_MISMATCH)
        flip_signature(c, r);
}

static bool message_matches(const char *got, const char *want)
{
    if (want == NULL)
        return true;
    if (want[0] == '*')
        return strstr(got, want + 1) != NULL;
    return strcmp(got, want) == 0;
}

/* Verifies the case's signed request after mutation e.m; returns 1 (and
 * prints why) when the outcome or message is not the expected one. */
static int run_expectation(const signed_case *c, const expectation *e, tw_sigv4_key_cache *cache)
{
    if (e->m == M_TOKEN_EXPIRED && c->token == NULL)
        return 0;
    sigv4_suite_request r;
    load_signed(c, &r);
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    tw_sigv4_verify_config cfg = suite_config(&keys);
    cfg.cache = cache;
    int64_t now = SIGV4_SUITE_TIME_MS;
    mutate(c, e->m, &r, &keys, &cfg, &now);
    tw_sigv4_request req = sigv4_suite_as_sigv4(&r);
    req.s3 = c->s3;
    tw_sigv4_verify_result res;
    if (e->m == M_CACHED_THEN_ROTATED) {
        /* Warm the cache with the right secret, then rotate it. */
        assert_int_equal(tw_sigv4_verify(&cfg, &req, now, &res), TW_SIGV4_OK);
        tw_sigv4_verify_result_free(&res);
        keys.secret = "rotated";
    }
    tw_sigv4_outcome o = tw_sigv4_verify(&cfg, &req, now, &res);
    int failed = o != e->outcome || res.outcome != o
                 || !message_matches(tw_buf_cstr(&res.message), e->message);
    if (failed)
        print_error("%s (%s) mutation %d: got %s \"%s\", want %s \"%s\"\n", c->dir,
                    c->kind == SIGV4_SUITE_V4_QUERY ? "query" : "header", (int)e->m,
                    tw_sigv4_outcome_name(o), tw_buf_cstr(&res.message),
                    tw_sigv4_outcome_name(e->outcome), e->message);
    if (!failed && o == TW_SIGV4_OK) {
        /* The identity of the signer, and the token went to the lookup. */
        failed = strcmp(res.access_key_id, SIGV4_SUITE_AKID) != 0 ||
                 strcmp(res.region, "us-east-1") != 0 || strcmp(res.service, "service") != 0 ||
                 strcmp(res.date, "20150830") != 0 ||
                 strcmp(res.amz_date, "20150830T123600Z") != 0 ||
                 res.presigned != (c->kind == SIGV4_SUITE_V4_QUERY) ||
                 keys.calls != 1 + (e->m == M_CACHED_THEN_ROTATED) ||
                 (c->token != NULL &&
                  (res.session_token == NULL || strcmp(res.session_token, c->token) != 0 ||
                   strcmp(tw_buf_cstr(&keys.seen_token), c->token) != 0)) ||
                 (c->token == NULL && res.session_token != NULL);
        if (failed)
            print_error("%s: identity wrong after success (mutation %d)\n", c->dir, (int)e->m);
    }
    tw_sigv4_verify_result_free(&res);
    tw_buf_free(&keys.seen_token);
    sigv4_suite_free_request(&r);
    return failed;
}

static int run_all(const signed_case *c, tw_sigv4_key_cache *cache)
{
    bool query = c->kind == SIGV4_SUITE_V4_QUERY;
    const expectation *list = query ? query_expectations : header_expectations;
    size_t n = query ? sizeof query_expectations / sizeof query_expectations[0]
                     : sizeof header_expectations / sizeof header_expectations[0];
    int failures = 0;
    for (size_t i = 0; i < n; i++)
        failures += run_expectation(c, &list[i], cache);
    return failures;
}

/* ctx: a signing-key cache for a second run over every expectation. */
static int verify_botocore_case(const char *dir, void *ctx)
{
    signed_case c = {.dir = dir, .kind = SIGV4_SUITE_BOTOCORE,
                     .token = sigv4_suite_botocore_token(dir, NULL)};
    int failures = run_all(&c, NULL);
    failures += run_all(&c, ctx);
    free(c.token);
    return failures;
}

static void test_botocore_suite_all_34_signed_requests_verify_and_mutations_fail(void **state)
{
    (void)state;
    tw_sigv4_key_cache *cache = tw_sigv4_key_cache_new(4);
    sigv4_suite_check_cases(SIGV4_SUITE_BOTOCORE_DIR, NULL, 34, verify_botocore_case, cache);
    tw_sigv4_key_cache_free(cache);
}

static int verify_v4_case(const char *dir, void *ctx)
{
    char *json = sigv4_suite_file(dir, "context.json");
    char *normalize = sigv4_suite_json_value(json, "normalize");
    assert_non_null(normalize);
    signed_case c = {.dir = dir, .s3 = strcmp(normalize, "false") == 0,
                     .token = sigv4_suite_json_value(json, "token")};
    c.kind = SIGV4_SUITE_V4_HEADER;
    int failures = run_all(&c, NULL);
    c.kind = SIGV4_SUITE_V4_QUERY;
    failures += run_all(&c, NULL);
    free(c.token);
    free(normalize);
    free(json);
    return failures;
}

static void test_v4_suite_all_38_header_and_query_requests_verify_and_mutations_fail(void **state)
{
    (void)state;
    sigv4_suite_check_cases(SIGV4_SUITE_V4_DIR, "context.json", 38, verify_v4_case, NULL);
}

/* ---- single behaviours ----------------------------------------------------- */

/* Verifies the request r at now; returns the outcome, message in *msg. */
static tw_sigv4_outcome verify_at(sigv4_suite_request *r, int64_t now, tw_sigv4_verify_config *cfg,
                                  tw_buf *msg)
{
    tw_sigv4_request req = sigv4_suite_as_sigv4(r);
    tw_sigv4_verify_result res;
    tw_sigv4_outcome o = tw_sigv4_verify(cfg, &req, now, &res);
    tw_buf_reset(msg);
    tw_buf_puts(msg, tw_buf_cstr(&res.message));
    tw_sigv4_verify_result_free(&res);
    return o;
}

static void test_debug_mismatch_message_carries_expected_canonical_request(void **state)
{
    (void)state;
    const char *dir = SIGV4_SUITE_BOTOCORE_DIR "/get-vanilla";
    signed_case c = {.dir = dir, .kind = SIGV4_SUITE_BOTOCORE};
    sigv4_suite_request r;
    load_signed(&c, &r);
    flip_signature(&c, &r);
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    tw_sigv4_verify_config cfg = suite_config(&keys);
    cfg.debug = true;
    tw_buf msg = TW_BUF_INIT, want = TW_BUF_INIT;
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_SIGNATURE_MISMATCH);
    char *creq = sigv4_suite_botocore_file(dir, "creq");
    char *sts = sigv4_suite_botocore_file(dir, "sts");
    tw_buf_printf(&want, "%s\n\nThe Canonical String for this request should have been\n'%s'\n\n"
                         "The String-to-Sign should have been\n'%s'\n", MISMATCH, creq, sts);
    assert_string_equal(tw_buf_cstr(&msg), tw_buf_cstr(&want));
    cfg.debug = false;
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_SIGNATURE_MISMATCH);
    assert_string_equal(tw_buf_cstr(&msg), MISMATCH);
    free(creq);
    free(sts);
    tw_buf_free(&msg);
    tw_buf_free(&want);
    sigv4_suite_free_request(&r);
}

static void test_authorization_parser_any_order_and_whitespace(void **state)
{
    (void)state;
    const char *v = "  AWS4-HMAC-SHA256   Signature=abc ,SignedHeaders=host;x-amz-date,,\t"
                    "Credential=AKID/20150830/us-east-1/logs/aws4_request , Extra=1 ";
    tw_sigv4_auth a;
    tw_buf msg = TW_BUF_INIT;
    assert_int_equal(tw_sigv4_parse_authorization(v, strlen(v), true, &a, &msg), TW_SIGV4_OK);
    assert_string_equal(a.credential, "AKID/20150830/us-east-1/logs/aws4_request");
    assert_string_equal(a.signed_headers, "host;x-amz-date");
    assert_string_equal(a.signature, "abc");
    assert_false(a.presigned);
    tw_sigv4_auth_free(&a);
    assert_int_equal(msg.len, 0);
    tw_buf_free(&msg);
}

static void test_authorization_parser_aws_incomplete_signature_messages(void **state)
{
    (void)state;
    tw_sigv4_auth a;
    tw_buf msg = TW_BUF_INIT;
    const char *v = "AWS4-HMAC-SHA256";
    assert_int_equal(tw_sigv4_parse_authorization(v, strlen(v), false, &a, &msg),
                     TW_SIGV4_INCOMPLETE);
    assert_string_equal(
        tw_buf_cstr(&msg),
        "Authorization header requires 'Credential' parameter. Authorization header "
        "requires 'Signature' parameter. Authorization header requires "
        "'SignedHeaders' parameter. Authorization header requires existence of "
        "either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256");
    tw_sigv4_auth_free(&a);
    tw_buf_reset(&msg);
    v = "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders, Signature=x";
    assert_int_equal(tw_sigv4_parse_authorization(v, strlen(v), true, &a, &msg),
                     TW_SIGV4_INCOMPLETE);
    assert_string_equal(tw_buf_cstr(&msg),
                        "'SignedHeaders' not a valid key=value pair (missing equal-sign) in "
                        "Authorization header: 'AWS4-HMAC-SHA256 Credential=a/b/c/d/e, "
                        "SignedHeaders, Signature=x'.");
    tw_sigv4_auth_free(&a);
    tw_buf_reset(&msg);
    v = "AWS4-HMAC-SHA256 Signature=a, Signature=b";
    assert_int_equal(tw_sigv4_parse_authorization(v, strlen(v), true, &a, &msg),
                     TW_SIGV4_INCOMPLETE);
    tw_sigv4_auth_free(&a);
    const char *others[] = {
        "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "AWS4-HMAC-SHA256X Credential=a",
        "AWS4-ECDSA-P256-SHA256 Credential=a", ""};
    for (size_t i = 0; i < 4; i++) {
        tw_buf_reset(&msg);
        assert_int_equal(tw_sigv4_parse_authorization(others[i], strlen(others[i]), true, &a, &msg),
                         TW_SIGV4_INCOMPLETE);
        assert_string_equal(tw_buf_cstr(&msg),
                            "The authorization mechanism you have provided is not "
                            "supported. Please use AWS4-HMAC-SHA256.");
        tw_sigv4_auth_free(&a);
    }
    tw_buf_free(&msg);
}

static void test_presigned_query_parser(void **state)
{
    (void)state;
    tw_sigv4_auth a;
    tw_buf msg = TW_BUF_INIT;
    const char *q =
        "Action=List&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2f20150830"
        "%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60"
        "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=a%2Bb%3D&X-Amz-Signature=ab";
    assert_int_equal(tw_sigv4_parse_presigned_query(q, strlen(q), &a, &msg), TW_SIGV4_OK);
    assert_true(a.presigned);
    assert_string_equal(a.credential, "AKID/20150830/us-east-1/service/aws4_request");
    assert_string_equal(a.session_token, "a+b=");
    assert_string_equal(a.expires, "60");
    assert_string_equal(a.amz_date, "20150830T123600Z");
    tw_sigv4_auth_free(&a);
    q = "Action=List&Version=1";
    assert_int_equal(tw_sigv4_parse_presigned_query(q, strlen(q), &a, &msg), TW_SIGV4_MISSING_AUTH);
    tw_sigv4_auth_free(&a);
    assert_int_equal(tw_sigv4_parse_presigned_query(NULL, 0, &a, &msg), TW_SIGV4_MISSING_AUTH);
    tw_sigv4_auth_free(&a);
    q = "X-Amz-Signature=a&X-Amz-Signature=b";
    assert_int_equal(tw_sigv4_parse_presigned_query(q, strlen(q), &a, &msg), TW_SIGV4_INCOMPLETE);
    assert_non_null(strstr(tw_buf_cstr(&msg), "'X-Amz-Signature' appears more than once"));
    tw_sigv4_auth_free(&a);
    tw_buf_reset(&msg);
    q = "X-Amz-Credential=%zz";
    assert_int_equal(tw_sigv4_parse_presigned_query(q, strlen(q), &a, &msg), TW_SIGV4_INCOMPLETE);
    tw_sigv4_auth_free(&a);
    tw_buf_free(&msg);
}

/* Signs a request with our signer at time t, then verifies it at now. */
static tw_sigv4_outcome sign_then_verify(int64_t t, int64_t now, const char *service,
                                         tw_sigv4_verify_config *cfg, tw_buf *msg)
{
    tw_sigv4_header h[8] = {tw_sigv4_header_of("Host", "127.0.0.1:18080"),
                            tw_sigv4_header_of("Content-Type", "application/x-amz-json-1.1")};
    tw_sigv4_request req = {.method = "POST", .method_len = 4, .path = "/", .path_len = 1,
                            .headers = h, .header_count = 2, .body = "{}", .body_len = 2};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    p.service = service;
    p.time_ms = t;
    tw_sigv4_signed s;
    assert_int_equal(tw_sigv4_sign_headers(&req, &p, &s, NULL), 0);
    for (size_t i = 0; i < s.header_count; i++)
        h[2 + i] = tw_sigv4_header_of(s.headers[i].name, s.headers[i].value);
    req.header_count = 2 + s.header_count;
    tw_sigv4_verify_result res;
    tw_sigv4_outcome o = tw_sigv4_verify(cfg, &req, now, &res);
    tw_buf_reset(msg);
    tw_buf_puts(msg, tw_buf_cstr(&res.message));
    tw_sigv4_verify_result_free(&res);
    tw_sigv4_signed_free(&s);
    return o;
}

static void test_skew_message_is_the_aws_one(void **state)
{
    (void)state;
    int64_t t = 0, now = 0;
    assert_int_equal(tw_time_parse_amz_date("20170111T204052Z", 16, &t, NULL), 0);
    assert_int_equal(tw_time_parse_amz_date("20170111T230949Z", 16, &now, NULL), 0);
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    static const char *const logs[] = {"logs", NULL};
    tw_sigv4_verify_config cfg = {.services = logs, .lookup = fake_lookup, .lookup_ctx = &keys};
    tw_buf msg = TW_BUF_INIT;
    assert_int_equal(sign_then_verify(t, now + 999, "logs", &cfg, &msg), TW_SIGV4_SKEW);
    assert_string_equal(tw_buf_cstr(&msg),
                        "Signature expired: 20170111T204052Z is now earlier than "
                        "20170111T225449Z (20170111T230949Z - 15 min.)");
    assert_int_equal(sign_then_verify(t, t + 900999, "logs", &cfg, &msg), TW_SIGV4_OK);
    assert_int_equal(sign_then_verify(t, t + 901000, "logs", &cfg, &msg), TW_SIGV4_SKEW);
    cfg.max_skew_ms = 5 * MINUTE_MS;
    assert_int_equal(sign_then_verify(t, t - 6 * MINUTE_MS, "logs", &cfg, &msg), TW_SIGV4_SKEW);
    assert_non_null(strstr(tw_buf_cstr(&msg), "(20170111T203452Z + 5 min.)"));
    assert_int_equal(sign_then_verify(t, t, "monitoring", &cfg, &msg), TW_SIGV4_SCOPE_ERROR);
    assert_string_equal(tw_buf_cstr(&msg),
                        "Credential should be scoped to correct service: 'logs'.");
    cfg.services = NULL; /* any service: the caller routes on result.service */
    assert_int_equal(sign_then_verify(t, t, "monitoring", &cfg, &msg), TW_SIGV4_OK);
    tw_buf_free(&msg);
}

static void test_date_header_instead_of_x_amz_date(void **state)
{
    (void)state;
    /* Hand-built signature over "date;host" with the Date header's time. */
    tw_sigv4_header h[3] = {tw_sigv4_header_of("Host", "example.amazonaws.com"),
                            tw_sigv4_header_of("Date", "Sun, 30 Aug 2015 12:36:00 GMT")};
    tw_sigv4_request req = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1,
                            .headers = h, .header_count = 2};
    tw_buf creq = TW_BUF_INIT, sts = TW_BUF_INIT, auth = TW_BUF_INIT, msg = TW_BUF_INIT;
    char scratch[65], sig[65];
    assert_int_equal(tw_sigv4_canonical_request(&creq, &req, "date;host", NULL,
                                                tw_sigv4_payload_hash(&req, scratch), NULL), 0);
    tw_sigv4_string_to_sign(&sts, "20150830T123600Z", "20150830/us-east-1/service/aws4_request",
                            creq.data, creq.len);
    uint8_t key[TW_SIGV4_KEY_LEN];
    tw_sigv4_signing_key(SIGV4_SUITE_SECRET, "20150830", "us-east-1", "service", key);
    tw_sigv4_signature(key, sts.data, sts.len, sig);
    tw_buf_printf(&auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=date;host, Signature=%s", sig);
    h[2] = tw_sigv4_header_of("Authorization", auth.data);
    req.header_count = 3;
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    tw_sigv4_verify_config cfg = suite_config(&keys);
    tw_sigv4_verify_result res;
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS, &res), TW_SIGV4_OK);
    assert_string_equal(res.amz_date, "20150830T123600Z");
    tw_sigv4_verify_result_free(&res);
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS + 16 * MINUTE_MS, &res),
                     TW_SIGV4_SKEW);
    tw_sigv4_verify_result_free(&res);
    h[1] = tw_sigv4_header_of("Date", "yesterday");
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS, &res), TW_SIGV4_INCOMPLETE);
    tw_sigv4_verify_result_free(&res);
    h[1] = tw_sigv4_header_of("X-Amz-Date", "2015-08-30T12:36:00Z");
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS, &res), TW_SIGV4_INCOMPLETE);
    assert_non_null(strstr(tw_buf_cstr(&res.message), "ISO8601 Long Format"));
    tw_sigv4_verify_result_free(&res);
    /* Neither header: IncompleteSignature, and the lookup is never asked. */
    h[1] = tw_sigv4_header_of("X-Other", "1");
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS, &res), TW_SIGV4_INCOMPLETE);
    assert_non_null(strstr(tw_buf_cstr(&res.message),
                           "either a 'X-Amz-Date' or a 'Date' header. "
                           "Authorization=AWS4-HMAC-SHA256 Credential="));
    tw_sigv4_verify_result_free(&res);
    assert_int_equal(keys.calls, 2);
    tw_buf_free(&creq);
    tw_buf_free(&sts);
    tw_buf_free(&auth);
    tw_buf_free(&msg);
    tw_buf_free(&keys.seen_token);
}

/* post-x-www-form-urlencoded signed with x-amz-content-sha256 (v4 suite). */
static void test_payload_hash_header_must_match_body(void **state)
{
    (void)state;
    signed_case c = {.dir = SIGV4_SUITE_V4_DIR "/post-x-www-form-urlencoded",
                     .kind = SIGV4_SUITE_V4_HEADER};
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    tw_sigv4_verify_config cfg = suite_config(&keys);
    tw_buf msg = TW_BUF_INIT;
    sigv4_suite_request r;
    load_signed(&c, &r);
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_OK);
    r.body[0] = 'X'; /* same length, different bytes */
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_SIGNATURE_MISMATCH);
    assert_string_equal(tw_buf_cstr(&msg), "The provided 'x-amz-content-sha256' header does not "
                                           "match what was computed.");
    sigv4_suite_free_request(&r);
    /* Without the header the body is hashed, so a changed body is a mismatch. */
    c.dir = SIGV4_SUITE_V4_DIR "/post-x-www-form-urlencoded-parameters";
    c.kind = SIGV4_SUITE_V4_QUERY;
    load_signed(&c, &r);
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_OK);
    r.body[0] = 'X';
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_SIGNATURE_MISMATCH);
    sigv4_suite_free_request(&r);
    /* UNSIGNED-PAYLOAD only where allowed. */
    c.dir = SIGV4_SUITE_V4_DIR "/get-vanilla";
    c.kind = SIGV4_SUITE_V4_HEADER;
    load_signed(&c, &r);
    sigv4_suite_add_header(&r, "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD");
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_INCOMPLETE);
    cfg.allow_unsigned_payload = true;
    /* Accepted as the payload line, so the (e3b0-signed) signature differs. */
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_SIGNATURE_MISMATCH);
    assert_string_equal(tw_buf_cstr(&msg), MISMATCH);
    sigv4_suite_free_request(&r);
    tw_buf_free(&msg);
    tw_buf_free(&keys.seen_token);
}

static void test_presigned_s3_unsigned_payload_round_trip(void **state)
{
    (void)state;
    tw_sigv4_header h[] = {tw_sigv4_header_of("Host", "bucket.s3.amazonaws.com")};
    tw_sigv4_request req = {.method = "GET", .method_len = 3, .path = "/a//b/../c%20d",
                            .path_len = 14, .headers = h, .header_count = 1, .s3 = true,
                            .unsigned_payload = true};
    tw_sigv4_sign_params p = sigv4_suite_sign_params();
    p.session_token = "tok/en+=";
    p.service = "s3";
    p.expires_s = 60;
    tw_sigv4_signed s;
    assert_int_equal(tw_sigv4_presign(&req, &p, &s, NULL), 0);
    assert_non_null(strstr(tw_buf_cstr(&s.canonical_request), "\n/a//b/../c%20d\n"));
    req.query = s.query.data;
    req.query_len = s.query.len;
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    tw_sigv4_verify_config cfg = {.lookup = fake_lookup, .lookup_ctx = &keys};
    tw_sigv4_verify_result res;
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS + 60000, &res), TW_SIGV4_OK);
    assert_string_equal(res.session_token, "tok/en+=");
    assert_string_equal(res.service, "s3");
    tw_sigv4_verify_result_free(&res);
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS + 61000, &res),
                     TW_SIGV4_PRESIGN_EXPIRED);
    tw_sigv4_verify_result_free(&res);
    req.unsigned_payload = false; /* the verifier would hash the (empty) body */
    assert_int_equal(tw_sigv4_verify(&cfg, &req, SIGV4_SUITE_TIME_MS, &res),
                     TW_SIGV4_SIGNATURE_MISMATCH);
    tw_sigv4_verify_result_free(&res);
    tw_sigv4_signed_free(&s);
    tw_buf_free(&keys.seen_token);
}

static void test_outcome_maps_to_the_error_table(void **state)
{
    (void)state;
    struct { tw_sigv4_outcome o; tw_sigv4_protocol p; const char *code; int status; } rows[] = {
        {TW_SIGV4_MISSING_AUTH, TW_SIGV4_PROTO_QUERY, "MissingAuthenticationToken", 403},
        {TW_SIGV4_MISSING_AUTH, TW_SIGV4_PROTO_JSON, "MissingAuthenticationTokenException", 400},
        {TW_SIGV4_INCOMPLETE, TW_SIGV4_PROTO_QUERY, "IncompleteSignature", 400},
        {TW_SIGV4_INCOMPLETE, TW_SIGV4_PROTO_S3, "AuthorizationHeaderMalformed", 400},
        {TW_SIGV4_UNKNOWN_KEY, TW_SIGV4_PROTO_QUERY, "InvalidClientTokenId", 403},
        {TW_SIGV4_UNKNOWN_KEY, TW_SIGV4_PROTO_JSON, "UnrecognizedClientException", 400},
        {TW_SIGV4_SIGNATURE_MISMATCH, TW_SIGV4_PROTO_QUERY, "SignatureDoesNotMatch", 403},
        {TW_SIGV4_SCOPE_ERROR, TW_SIGV4_PROTO_JSON, "InvalidSignatureException", 400},
        {TW_SIGV4_SKEW, TW_SIGV4_PROTO_JSON, "InvalidSignatureException", 400},
        {TW_SIGV4_SKEW, TW_SIGV4_PROTO_S3, "RequestTimeTooSkewed", 403},
        {TW_SIGV4_PRESIGN_EXPIRED, TW_SIGV4_PROTO_S3, "AccessDenied", 403},
        {TW_SIGV4_EXPIRED_TOKEN, TW_SIGV4_PROTO_QUERY, "ExpiredToken", 403},
        {TW_SIGV4_EXPIRED_TOKEN, TW_SIGV4_PROTO_JSON, "ExpiredTokenException", 400},
        {TW_SIGV4_ACCESS_DENIED, TW_SIGV4_PROTO_JSON, "AccessDeniedException", 400},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tw_sigv4_error e = tw_sigv4_outcome_error(rows[i].o, rows[i].p);
        assert_string_equal(e.code, rows[i].code);
        assert_int_equal(e.http_status, rows[i].status);
    }
    assert_null(tw_sigv4_outcome_error(TW_SIGV4_OK, TW_SIGV4_PROTO_JSON).code);
    assert_string_equal(tw_sigv4_outcome_name(TW_SIGV4_SKEW), "clock-skew");
}

static void test_duplicate_authorization_and_malformed_credential(void **state)
{
    (void)state;
    signed_case c = {.dir = SIGV4_SUITE_BOTOCORE_DIR "/get-vanilla", .kind = SIGV4_SUITE_BOTOCORE};
    fake_keys keys = {.secret = SIGV4_SUITE_SECRET};
    tw_sigv4_verify_config cfg = suite_config(&keys);
    tw_buf msg = TW_BUF_INIT;
    sigv4_suite_request r;
    load_signed(&c, &r);
    sigv4_suite_add_header(&r, "authorization",
                           tw_buf_cstr(sigv4_suite_header(&r, "Authorization")));
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_INCOMPLETE);
    sigv4_suite_free_request(&r);
    load_signed(&c, &r);
    must_replace(sigv4_suite_header(&r, "Authorization"), "/us-east-1/service", "/us-east-1");
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_INCOMPLETE);
    assert_string_equal(tw_buf_cstr(&msg),
                        "Credential must have exactly 5 slash-delimited elements, "
                        "e.g. keyid/date/region/service/term, got "
                        "'AKIDEXAMPLE/20150830/us-east-1/aws4_request'");
    sigv4_suite_free_request(&r);
    load_signed(&c, &r);
    must_replace(sigv4_suite_header(&r, "Authorization"), "/20150830/", "/2015083x/");
    assert_int_equal(verify_at(&r, SIGV4_SUITE_TIME_MS, &cfg, &msg), TW_SIGV4_SCOPE_ERROR);
    sigv4_suite_free_request(&r);
    assert_int_equal(keys.calls, 0);
    tw_buf_free(&msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_suite_all_34_signed_requests_verify_and_mutations_fail),
        cmocka_unit_test(test_v4_suite_all_38_header_and_query_requests_verify_and_mutations_fail),
        cmocka_unit_test(test_debug_mismatch_message_carries_expected_canonical_request),
        cmocka_unit_test(test_authorization_parser_any_order_and_whitespace),
        cmocka_unit_test(test_authorization_parser_aws_incomplete_signature_messages),
        cmocka_unit_test(test_presigned_query_parser),
        cmocka_unit_test(test_skew_message_is_the_aws_one),
        cmocka_unit_test(test_date_header_instead_of_x_amz_date),
        cmocka_unit_test(test_payload_hash_header_must_match_body),
        cmocka_unit_test(test_presigned_s3_unsigned_payload_round_trip),
        cmocka_unit_test(test_outcome_maps_to_the_error_table),
        cmocka_unit_test(test_duplicate_authorization_and_malformed_credential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
