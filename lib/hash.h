/* hash.h — SHA-256, HMAC-SHA256, MD5 and constant-time comparison (OpenSSL 3).
 *
 * Thin wrappers over OpenSSL's EVP interfaces, used by SigV4 (sigv4.h) and
 * by anything that needs a digest of a body. One-shot functions write into
 * caller-provided arrays and allocate nothing. The streaming contexts own an
 * OpenSSL context: tw_*_init allocates it, tw_*_free releases it (safe to
 * call twice, and on a context whose init was never called if it was zeroed).
 *
 * Failures: OpenSSL can only fail here by running out of memory (or a broken
 * installation without the default provider); like mem.h, that prints one
 * line and aborts, so nothing returns an error.
 */
#ifndef TW_HASH_H
#define TW_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_SHA256_LEN 32
#define TW_SHA256_HEX_LEN 64 /* without the NUL */
#define TW_MD5_LEN 16
#define TW_MD5_HEX_LEN 32

struct evp_md_ctx_st; /* OpenSSL's EVP_MD_CTX */

/* A streaming digest. Zero-initialise or call init before use. */
typedef struct tw_sha256_ctx {
    struct evp_md_ctx_st *ctx;
} tw_sha256_ctx;

typedef struct tw_md5_ctx {
    struct evp_md_ctx_st *ctx;
} tw_md5_ctx;

void tw_sha256(const void *data, size_t len, uint8_t out[TW_SHA256_LEN]);
/* Lower-case hex digest, NUL-terminated. */
void tw_sha256_hex(const void *data, size_t len, char out[TW_SHA256_HEX_LEN + 1]);

/* init allocates the context (the caller owns it until free); update may be
 * called any number of times; final writes the digest, after which the only
 * valid call is free. To hash another message, free and init again. */
void tw_sha256_init(tw_sha256_ctx *h);
void tw_sha256_update(tw_sha256_ctx *h, const void *data, size_t len);
void tw_sha256_final(tw_sha256_ctx *h, uint8_t out[TW_SHA256_LEN]);
void tw_sha256_free(tw_sha256_ctx *h);

/* HMAC-SHA256 (RFC 2104) of data under key. */
void tw_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[TW_SHA256_LEN]);

/* MD5 is for interoperability only (Content-MD5, ETags), never security. */
void tw_md5(const void *data, size_t len, uint8_t out[TW_MD5_LEN]);
void tw_md5_init(tw_md5_ctx *h);
void tw_md5_update(tw_md5_ctx *h, const void *data, size_t len);
void tw_md5_final(tw_md5_ctx *h, uint8_t out[TW_MD5_LEN]);
void tw_md5_free(tw_md5_ctx *h);

/* True when the len bytes at a and b are equal; the time taken does not
 * depend on where they differ (for comparing signatures and MACs). */
bool tw_ct_equal(const void *a, const void *b, size_t len);

#endif
