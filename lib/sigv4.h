/* sigv4.h — AWS Signature Version 4 (AWS4-HMAC-SHA256): the request model,
 * canonicalisation, string to sign, signing key, and signing in header form
 * (Authorization) and query form (presigned URL). The rules are those of
 * shared/spec/sigv4.md (§ numbers below refer to it). Server-side checking of
 * a received request is in sigv4_verify.h and shares the functions here.
 *
 * Ownership: a tw_sigv4_request only borrows its strings (nothing is copied
 * or freed). Output goes to caller-owned tw_buf / tw_sigv4_signed values that
 * the caller frees (tw_buf_free, tw_sigv4_signed_free). Secrets are borrowed
 * and never copied; the signing-key cache keeps derived keys and a digest of
 * the secret, and wipes them when freed.
 */
#ifndef TW_SIGV4_H
#define TW_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TW_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define TW_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define TW_SIGV4_KEY_LEN 32        /* kSigning, raw bytes */
#define TW_SIGV4_SIGNATURE_LEN 64  /* lower-case hex, without the NUL */
#define TW_SIGV4_EXPIRES_MAX 604800 /* X-Amz-Expires upper bound: 7 days */

/* One header as received or to be sent: name in any case, value raw
 * (surrounding whitespace allowed; canonicalisation trims it). Neither needs
 * a NUL terminator. */
typedef struct tw_sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} tw_sigv4_header;

/* An HTTP request as it is (or will be) on the wire. All pointers are
 * borrowed. The collector fills it from the request as received; the agent
 * fills it before sending.
 *
 * Payload: payload_hash (NUL-terminated, e.g. 64 lower-case hex digits) when
 * the caller already has it; otherwise the SHA-256 of body/body_len is used
 * (body may be NULL when body_len is 0). */
typedef struct tw_sigv4_request {
    const char *method;   /* "GET", "POST", exactly as sent */
    size_t method_len;
    const char *path;     /* raw path as on the wire, NOT percent-decoded; empty means "/" */
    size_t path_len;
    const char *query;    /* raw query string without '?'; NULL or "" when none */
    size_t query_len;
    const tw_sigv4_header *headers; /* in arrival order; duplicates allowed */
    size_t header_count;
    const char *payload_hash;
    const void *body;
    size_t body_len;
    /* S3 path rules (§2.2): no dot-segment/slash normalisation and single
     * encoding (the path is percent-decoded, then encoded once). The
     * aws-signing-test-suite-v4 "normalize": false cases. */
    bool s3;
    /* Signer, header mode only: add X-Amz-Content-SHA256 (the payload hash)
     * and sign it (S3 requires it; the suite's "sign_body": true). */
    bool sign_body;
    /* Signer: the payload hash is the literal UNSIGNED-PAYLOAD. */
    bool unsigned_payload;
} tw_sigv4_request;

/* Convenience for NUL-terminated strings (name and value are borrowed). */
tw_sigv4_header tw_sigv4_header_of(const char *name, const char *value);

/* A small cache of signing keys keyed by (access key id, secret, date,
 * region, service); the secret is kept only as its SHA-256. Owned by the
 * caller (tw_sigv4_key_cache_new / _free); not thread-safe: one per thread
 * or loop. Entries for old dates simply age out (round-robin replacement). */
typedef struct tw_sigv4_key_cache tw_sigv4_key_cache;

tw_sigv4_key_cache *tw_sigv4_key_cache_new(size_t capacity);
void tw_sigv4_key_cache_free(tw_sigv4_key_cache *cache);

/* §4: kSigning from the secret, date stamp (YYYYMMDD), region and service.
 * The _cached form looks in cache first (cache may be NULL). */
void tw_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                          const char *service, uint8_t out[TW_SIGV4_KEY_LEN]);
void tw_sigv4_signing_key_cached(tw_sigv4_key_cache *cache, const char *access_key_id,
                                 const char *secret, const char *date8, const char *region,
                                 const char *service, uint8_t out[TW_SIGV4_KEY_LEN]);

/* §2.2: appends the canonical URI of a raw path. Fails (-EINVAL, err says
 * why) only in S3 mode, for a path with a malformed %-escape. */
int tw_sigv4_canonical_uri(tw_buf *out, const char *path, size_t len, bool s3, tw_err *err);

/* §2.3: appends the canonical query string of a raw query: items split on
 * '&' (empty items skipped), percent-decoded ('+' stays '+'), re-encoded,
 * sorted by encoded key then encoded value. Items whose decoded key equals
 * one of exclude (NULL-terminated list, may be NULL) are left out.
 * Returns 0, or -EINVAL for a malformed %-escape. */
int tw_sigv4_canonical_query(tw_buf *out, const char *query, size_t len,
                             const char *const *exclude, tw_err *err);

/* §2.4: appends a header value trimmed, with every whitespace run (including
 * folded line breaks, and inside quotes) replaced by one space. */
void tw_sigv4_header_value(tw_buf *out, const char *value, size_t len);

/* §2.4: appends the canonical headers block ("name:value\n" per name) for the
 * ';'-separated names of signed_headers, in that order, taking the values of
 * every header with that name (case-insensitive) in arrival order, joined by
 * ','. Returns 0; -EINVAL for an empty name in the list; -ENOENT when a
 * listed header is absent from headers (err names it). */
int tw_sigv4_canonical_headers(tw_buf *out, const tw_sigv4_header *headers, size_t count,
                               const char *signed_headers, tw_err *err);

/* §2.5: the payload hash of req: req->payload_hash, else UNSIGNED-PAYLOAD
 * when req->unsigned_payload, else the SHA-256 hex of the body written into
 * scratch. Returns a pointer to one of those (valid while they are). */
const char *tw_sigv4_payload_hash(const tw_sigv4_request *req, char scratch[65]);

/* §2: appends the canonical request of req for the given SignedHeaders
 * string and payload hash; query items named in query_exclude are left out.
 * Errors as tw_sigv4_canonical_uri/_query/_headers. */
int tw_sigv4_canonical_request(tw_buf *out, const tw_sigv4_request *req,
                               const char *signed_headers, const char *const *query_exclude,
                               const char *payload_hash, tw_err *err);

/* §3: appends the string to sign. amz_date is YYYYMMDDTHHMMSSZ; scope is
 * "<date8>/<region>/<service>/aws4_request". */
void tw_sigv4_string_to_sign(tw_buf *out, const char *amz_date, const char *scope,
                             const char *canonical_request, size_t len);

/* §4: lower-case hex HMAC-SHA256 of the string to sign under kSigning. */
void tw_sigv4_signature(const uint8_t key[TW_SIGV4_KEY_LEN], const char *string_to_sign,
                        size_t len, char out[TW_SIGV4_SIGNATURE_LEN + 1]);

/* What to sign with. Strings are NUL-terminated and borrowed. */
typedef struct tw_sigv4_sign_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;    /* NULL when not temporary credentials */
    const char *region;           /* "us-east-1" */
    const char *service;          /* signing name: "logs", "monitoring", "events" */
    int64_t time_ms;              /* request time, epoch ms (timefmt.h); ms are dropped */
    uint32_t expires_s;           /* presign only: X-Amz-Expires, 1..604800 */
    /* Legacy variant (suite post-sts-header-after): the token is sent but
     * not signed — not in SignedHeaders / not in the canonical query. */
    bool omit_session_token;
    tw_sigv4_key_cache *cache;    /* optional signing-key cache */
} tw_sigv4_sign_params;

/* A header the signer wants sent; name is a static string, value is owned
 * by the tw_sigv4_signed it sits in. */
typedef struct tw_sigv4_added_header {
    const char *name;
    char *value;
} tw_sigv4_added_header;

#define TW_SIGV4_MAX_ADDED_HEADERS 4

/* Result of signing. Zero-initialise (or let the sign functions do it), free
 * with tw_sigv4_signed_free. */
typedef struct tw_sigv4_signed {
    /* Header mode: headers to add to the request, in this order:
     * X-Amz-Date, X-Amz-Security-Token (with a token), X-Amz-Content-SHA256
     * (with sign_body), Authorization. */
    tw_sigv4_added_header headers[TW_SIGV4_MAX_ADDED_HEADERS];
    size_t header_count;
    /* Query mode: the query string to send, without '?': the canonical query
     * (the request's own items and the X-Amz-* auth items, sorted and
     * encoded), then X-Amz-Security-Token if omit_session_token, then
     * X-Amz-Signature. */
    tw_buf query;
    tw_buf canonical_request;
    tw_buf string_to_sign;
    char signature[TW_SIGV4_SIGNATURE_LEN + 1];
} tw_sigv4_signed;

/* Signs req in header mode. Signed headers: every header of req, lower-cased,
 * except authorization and those a proxy may rewrite (expect, user-agent,
 * x-amzn-trace-id, connection, keep-alive, proxy-authenticate,
 * proxy-authorization, te, trailer, transfer-encoding, upgrade), plus the
 * added ones. Headers of req named X-Amz-Date, and X-Amz-Security-Token
 * (with a token) or X-Amz-Content-SHA256 (with sign_body), are replaced by
 * the signer's own: do not send them alongside out->headers. req must have a
 * Host header. *out is (re)initialised; on error (-EINVAL, err says why) it
 * holds nothing to free. */
int tw_sigv4_sign_headers(const tw_sigv4_request *req, const tw_sigv4_sign_params *params,
                          tw_sigv4_signed *out, tw_err *err);

/* Signs req in query form (presigned URL, §5.2) with X-Amz-Expires
 * params->expires_s. Signed headers as above (X-Amz-Date and the token are
 * query items, not headers); sign_body is ignored. -EINVAL when the query
 * already holds an X-Amz-* authentication item (X-Amz-Date, ...). */
int tw_sigv4_presign(const tw_sigv4_request *req, const tw_sigv4_sign_params *params,
                     tw_sigv4_signed *out, tw_err *err);

void tw_sigv4_signed_free(tw_sigv4_signed *s);

#endif
