/* sigv4_verify.h — server-side verification of SigV4-signed requests (the
 * collector's side; shared/spec/sigv4.md §10).
 *
 * tw_sigv4_verify takes a request exactly as received (tw_sigv4_request from
 * sigv4.h: raw path, raw query, headers in arrival order, body or its hash)
 * and answers with an outcome, a message in AWS's wording, and on success the
 * caller's identity. Both the Authorization header form and the presigned
 * query form are accepted. The outcome maps onto the rows of the spec's
 * §10.1 table; tw_sigv4_outcome_error gives the protocol's error code.
 *
 * Ownership: the config and request are borrowed. The result owns its
 * strings and message; free it with tw_sigv4_verify_result_free. Secrets
 * obtained from the lookup callback are wiped and freed before returning.
 */
#ifndef TW_SIGV4_VERIFY_H
#define TW_SIGV4_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sigv4.h"
#include "timefmt.h"

#define TW_SIGV4_DEFAULT_SKEW_MS 900000 /* ±15 minutes */

/* Outcomes, with the §10.1 row each belongs to. */
typedef enum tw_sigv4_outcome {
    TW_SIGV4_OK = 0,
    TW_SIGV4_MISSING_AUTH,       /* "No auth at all" */
    TW_SIGV4_INCOMPLETE,         /* "Malformed / incomplete Authorization": a part missing,
                                  * bad syntax, unsupported algorithm, host not signed,
                                  * bad X-Amz-Date / X-Amz-Expires, two auth mechanisms */
    TW_SIGV4_UNKNOWN_KEY,        /* "Unknown access key" (or a token the lookup rejects) */
    TW_SIGV4_SIGNATURE_MISMATCH, /* "Wrong signature / wrong scope": the signature, a signed
                                  * header missing, payload hash header != body */
    TW_SIGV4_SCOPE_ERROR,        /* "Wrong signature / wrong scope": terminator, region,
                                  * service, or credential date != request date */
    TW_SIGV4_SKEW,               /* "Clock skew": expired or not yet current (±15 min) */
    TW_SIGV4_PRESIGN_EXPIRED,    /* "Clock skew" row: presigned URL past X-Amz-Expires */
    TW_SIGV4_EXPIRED_TOKEN,      /* "Expired session token" */
    TW_SIGV4_ACCESS_DENIED,      /* "Authenticated but not allowed": never returned by
                                  * tw_sigv4_verify; for the caller's own authorisation
                                  * step, so one table gives every auth error */
} tw_sigv4_outcome;

/* Short stable name ("signature-mismatch", ...) for logs and tests. */
const char *tw_sigv4_outcome_name(tw_sigv4_outcome outcome);

typedef enum tw_sigv4_protocol {
    TW_SIGV4_PROTO_QUERY, /* awsQuery (CloudWatch XML); also the x-amzn-query-error code */
    TW_SIGV4_PROTO_JSON,  /* AWS JSON 1.0/1.1 and rpcv2 CBOR: the __type */
    TW_SIGV4_PROTO_S3,    /* restXml <Error> */
} tw_sigv4_protocol;

typedef struct tw_sigv4_error {
    const char *code; /* static string, e.g. "InvalidSignatureException" */
    int http_status;
} tw_sigv4_error;

/* The §10.1 cell for an outcome (TW_SIGV4_OK gives {NULL, 200}). */
tw_sigv4_error tw_sigv4_outcome_error(tw_sigv4_outcome outcome, tw_sigv4_protocol protocol);

/* What the secret lookup says about an access key id. */
typedef enum tw_sigv4_key_status {
    TW_SIGV4_KEY_FOUND = 0,
    TW_SIGV4_KEY_UNKNOWN,       /* unknown key id, or a temporary key whose token is
                                 * missing or wrong -> TW_SIGV4_UNKNOWN_KEY */
    TW_SIGV4_KEY_TOKEN_EXPIRED, /* -> TW_SIGV4_EXPIRED_TOKEN */
} tw_sigv4_key_status;

/* Looks up the secret of access_key_id and appends it to secret (which the
 * verifier wipes and frees). session_token is the X-Amz-Security-Token the
 * request carries (header, or query item when presigned), NULL when none:
 * the callback validates it for temporary keys. Called at most once per
 * verification, only for well-formed requests with an acceptable scope. */
typedef tw_sigv4_key_status (*tw_sigv4_lookup_fn)(void *ctx, const char *access_key_id,
                                                  const char *session_token, tw_buf *secret);

typedef struct tw_sigv4_verify_config {
    /* Accepted signing names, NULL-terminated ("logs", "monitoring"); NULL
     * accepts any (the caller routes on result.service). */
    const char *const *services;
    /* Accepted regions, NULL-terminated; NULL accepts any. */
    const char *const *regions;
    tw_sigv4_lookup_fn lookup;
    void *lookup_ctx;
    int64_t max_skew_ms;         /* 0 means TW_SIGV4_DEFAULT_SKEW_MS */
    /* Accept X-Amz-Content-SHA256: UNSIGNED-PAYLOAD (the body is then not
     * covered by the signature). */
    bool allow_unsigned_payload;
    /* Append the expected canonical request and string to sign to the
     * mismatch message, as AWS JSON services do. Never in production: it
     * helps an attacker as much as a developer. */
    bool debug;
    tw_sigv4_key_cache *cache;   /* optional signing-key cache */
} tw_sigv4_verify_config;

/* Zero-initialised by tw_sigv4_verify; free with tw_sigv4_verify_result_free.
 * On success every identity field is set; on failure they hold what was
 * parsed before the failure (NULL / empty otherwise), handy for logging the
 * key id of a rejected request. */
typedef struct tw_sigv4_verify_result {
    tw_sigv4_outcome outcome;
    tw_buf message;          /* AWS wording; empty on success */
    bool presigned;          /* query-string form */
    char *access_key_id;
    char *region;
    char *service;
    char *session_token;     /* NULL when the request carried none */
    char date[9];            /* credential scope date, YYYYMMDD */
    char amz_date[TW_AMZ_DATE_SIZE]; /* request time as signed */
    int64_t request_time_ms;
} tw_sigv4_verify_result;

/* Verifies req at time now_ms (epoch ms: tw_time_now_ms(); compared in whole
 * seconds). req->s3 selects S3 path rules; sign_body is ignored. The payload
 * hash is X-Amz-Content-SHA256 when sent (checked against req->payload_hash
 * or the SHA-256 of the body; UNSIGNED-PAYLOAD only if the config allows
 * it); else UNSIGNED-PAYLOAD when req->unsigned_payload (S3 presigned URLs);
 * else req->payload_hash or the SHA-256 of the body. A presigned request
 * that carries X-Amz-Security-Token is also accepted when the token was not
 * signed (the legacy form of §6, the suite's post-sts-header-after), as the
 * header form accepts a token header missing from SignedHeaders.
 * Returns res->outcome. */
tw_sigv4_outcome tw_sigv4_verify(const tw_sigv4_verify_config *cfg, const tw_sigv4_request *req,
                                 int64_t now_ms, tw_sigv4_verify_result *res);

void tw_sigv4_verify_result_free(tw_sigv4_verify_result *res);

/* The authentication parameters of a request, as sent (query items decoded).
 * Owned strings, NULL when absent; free with tw_sigv4_auth_free. */
typedef struct tw_sigv4_auth {
    bool presigned;
    char *credential;     /* "AKID/20150830/us-east-1/service/aws4_request" */
    char *signed_headers; /* "host;x-amz-date" */
    char *signature;
    char *amz_date;       /* presigned: X-Amz-Date */
    char *expires;        /* presigned: X-Amz-Expires */
    char *session_token;  /* presigned: X-Amz-Security-Token */
} tw_sigv4_auth;

/* Parses an Authorization header value: "AWS4-HMAC-SHA256" then the
 * Credential, SignedHeaders and Signature components separated by ',' with
 * any whitespace, in any order (unknown components are ignored). All three
 * are required; date_header_present says whether the request has X-Amz-Date
 * or Date, whose absence AWS reports in the same IncompleteSignature
 * message. Returns TW_SIGV4_OK or TW_SIGV4_INCOMPLETE with the AWS message
 * appended to message. *out is initialised either way. */
tw_sigv4_outcome tw_sigv4_parse_authorization(const char *value, size_t len,
                                              bool date_header_present, tw_sigv4_auth *out,
                                              tw_buf *message);

/* Parses the X-Amz-* items of a raw query string. Returns
 * TW_SIGV4_MISSING_AUTH when none of X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-Signature is present (not a presigned request); TW_SIGV4_INCOMPLETE
 * (message appended) when one is duplicated, undecodable or missing, or the
 * algorithm is not AWS4-HMAC-SHA256; TW_SIGV4_OK otherwise. X-Amz-Expires is
 * required but checked for range by tw_sigv4_verify. */
tw_sigv4_outcome tw_sigv4_parse_presigned_query(const char *query, size_t len,
                                                tw_sigv4_auth *out, tw_buf *message);

void tw_sigv4_auth_free(tw_sigv4_auth *auth);

#endif
