/* fuzz_sigv4_auth.c — libFuzzer target for the SigV4 verifier's input side.
 *
 * The first byte picks what the rest feeds (its low two bits) and a flag or
 * two (higher bits):
 *   0  tw_sigv4_parse_authorization (an Authorization header value)
 *   1  tw_sigv4_parse_presigned_query, tw_sigv4_canonical_query and
 *      tw_sigv4_canonical_uri (a raw query string / path)
 *   2  a whole request ("METHOD target" line, "Name:value" lines, empty line,
 *      body) through tw_sigv4_verify; then, when the request is one the
 *      signer accepts, sign it (header and query form) and check that the
 *      verifier accepts what the signer produced — any disagreement aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sigv4.h"
#include "sigv4_verify.h"

#define FUZZ_TIME_MS 1440938160000LL /* 20150830T123600Z, the suites' time */
#define MAX_HEADERS 48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tw_sigv4_key_status lookup(void *ctx, const char *akid, const char *token, tw_buf *secret)
{
    (void)ctx;
    if (strcmp(akid, "AKIDEXAMPLE") != 0)
        return TW_SIGV4_KEY_UNKNOWN;
    if (token != NULL && strcmp(token, "expired") == 0)
        return TW_SIGV4_KEY_TOKEN_EXPIRED;
    tw_buf_puts(secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    return TW_SIGV4_KEY_FOUND;
}

static void fuzz_authorization(const char *s, size_t len, bool date_present)
{
    tw_sigv4_auth auth;
    tw_buf msg = TW_BUF_INIT;
    tw_sigv4_outcome o = tw_sigv4_parse_authorization(s, len, date_present, &auth, &msg);
    if (o == TW_SIGV4_OK && (auth.credential == NULL || auth.signature == NULL
                             || auth.signed_headers == NULL || msg.len != 0))
        abort();
    if (o != TW_SIGV4_OK && o != TW_SIGV4_INCOMPLETE)
        abort();
    tw_sigv4_auth_free(&auth);
    tw_buf_free(&msg);
}

static void fuzz_query(const char *s, size_t len, bool s3)
{
    tw_sigv4_auth auth;
    tw_buf out = TW_BUF_INIT;
    tw_sigv4_outcome o = tw_sigv4_parse_presigned_query(s, len, &auth, &out);
    if (o == TW_SIGV4_OK && (auth.credential == NULL || auth.amz_date == NULL))
        abort();
    tw_sigv4_auth_free(&auth);
    tw_buf_reset(&out);
    static const char *const exclude[] = {"X-Amz-Signature", NULL};
    tw_sigv4_canonical_query(&out, s, len, exclude, NULL);
    tw_buf_reset(&out);
    tw_sigv4_canonical_uri(&out, s, len, s3, NULL);
    tw_buf_free(&out);
}

/* A request parsed from the fuzz input; strings point into it. */
typedef struct fuzz_request {
    tw_sigv4_header headers[MAX_HEADERS + TW_SIGV4_MAX_ADDED_HEADERS];
    tw_sigv4_request req;
} fuzz_request;

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static void parse_request(const char *s, size_t len, bool s3, fuzz_request *f)
{
    memset(f, 0, sizeof *f);
    const char *end = s + len, *eol = line_end(s, end);
    const char *sp = memchr(s, ' ', (size_t)(eol - s));
    const char *target = sp ? sp + 1 : eol;
    f->req.method = s;
    f->req.method_len = (size_t)((sp ? sp : eol) - s);
    const char *q = memchr(target, '?', (size_t)(eol - target));
    f->req.path = target;
    f->req.path_len = (size_t)((q ? q : eol) - target);
    f->req.query = q ? q + 1 : NULL;
    f->req.query_len = q ? (size_t)(eol - q - 1) : 0;
    f->req.s3 = s3;
    f->req.headers = f->headers;
    const char *p = eol < end ? eol + 1 : end;
    while (p < end) {
        eol = line_end(p, end);
        if (eol == p) {
            f->req.body = p + 1 < end ? p + 1 : NULL;
            f->req.body_len = p + 1 < end ? (size_t)(end - p - 1) : 0;
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL && f->req.header_count < MAX_HEADERS) {
            tw_sigv4_header *h = &f->headers[f->req.header_count++];
            h->name = p;
            h->name_len = (size_t)(colon - p);
            h->value = colon + 1;
            h->value_len = (size_t)(eol - colon - 1);
        }
        p = eol < end ? eol + 1 : end;
    }
}

static bool has_header(const tw_sigv4_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name_len == strlen(name)
            && strncasecmp(req->headers[i].name, name, req->headers[i].name_len) == 0)
            return true;
    return false;
}

/* Headers the signer owns: sending the caller's alongside would be a
 * caller error the round trip is not about. */
static bool round_trip_applies(const tw_sigv4_request *req)
{
    static const char *const owned[] = {"authorization", "x-amz-date", "x-amz-security-token",
                                        "x-amz-content-sha256"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (has_header(req, owned[i]))
            return false;
    tw_sigv4_auth auth;
    tw_buf msg = TW_BUF_INIT;
    tw_sigv4_outcome o = tw_sigv4_parse_presigned_query(req->query, req->query_len, &auth, &msg);
    tw_sigv4_auth_free(&auth);
    tw_buf_free(&msg);
    return o == TW_SIGV4_MISSING_AUTH;
}

static void expect_ok(const tw_sigv4_verify_config *cfg, const tw_sigv4_request *req)
{
    tw_sigv4_verify_result res;
    if (tw_sigv4_verify(cfg, req, FUZZ_TIME_MS, &res) != TW_SIGV4_OK)
        abort(); /* the verifier rejects what the signer produced */
    tw_sigv4_verify_result_free(&res);
}

static void round_trip(fuzz_request *f, const tw_sigv4_verify_config *cfg, bool token)
{
    tw_sigv4_sign_params p = {.access_key_id = "AKIDEXAMPLE",
                              .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              .session_token = token ? "tok/en+=" : NULL,
                              .region = "us-east-1", .service = "service",
                              .time_ms = FUZZ_TIME_MS, .expires_s = 300};
    tw_sigv4_signed s;
    size_t n = f->req.header_count;
    if (tw_sigv4_sign_headers(&f->req, &p, &s, NULL) == 0) {
        tw_sigv4_request signed_req = f->req;
        for (size_t i = 0; i < s.header_count; i++)
            f->headers[n + i] = tw_sigv4_header_of(s.headers[i].name, s.headers[i].value);
        signed_req.header_count = n + s.header_count;
        expect_ok(cfg, &signed_req);
        tw_sigv4_signed_free(&s);
    }
    if (tw_sigv4_presign(&f->req, &p, &s, NULL) == 0) {
        tw_sigv4_request signed_req = f->req;
        signed_req.query = s.query.data;
        signed_req.query_len = s.query.len;
        expect_ok(cfg, &signed_req);
        tw_sigv4_signed_free(&s);
    }
}

static void fuzz_request_bytes(const char *s, size_t len, uint8_t flags)
{
    fuzz_request f;
    parse_request(s, len, flags & 4, &f);
    static const char *const services[] = {"service", "logs", NULL};
    tw_sigv4_verify_config cfg = {.services = (flags & 8) ? services : NULL,
                                  .lookup = lookup,
                                  .debug = flags & 16,
                                  .allow_unsigned_payload = flags & 32};
    tw_sigv4_verify_result res;
    tw_sigv4_outcome o = tw_sigv4_verify(&cfg, &f.req, FUZZ_TIME_MS, &res);
    if ((o == TW_SIGV4_OK) != (res.message.len == 0) || o == TW_SIGV4_ACCESS_DENIED)
        abort();
    if (o == TW_SIGV4_OK && (res.access_key_id == NULL || res.region == NULL))
        abort();
    tw_sigv4_verify_result_free(&res);
    if (round_trip_applies(&f.req))
        round_trip(&f, &cfg, flags & 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    switch (mode & 3) {
    case 0: fuzz_authorization(s, len, mode & 4); break;
    case 1: fuzz_query(s, len, mode & 4); break;
    default: fuzz_request_bytes(s, len, mode); break;
    }
    return 0;
}
