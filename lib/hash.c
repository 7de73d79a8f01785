/* hash.c — SHA-256, HMAC-SHA256, MD5 and constant-time comparison over
 * OpenSSL 3's EVP interfaces (no deprecated low-level APIs). */
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "encode.h"

/* Like mem.h's out_of_memory: OpenSSL only fails here when allocation fails
 * (or the default provider is missing), and a daemon must not limp on. */
static void crypto_failure(const char *what)
{
    fprintf(stderr, "trailwatch: OpenSSL failed in %s (out of memory?); aborting\n", what);
    abort();
}

static struct evp_md_ctx_st *digest_new(const EVP_MD *md, const char *what)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
        crypto_failure(what);
    return ctx;
}

static void digest_update(struct evp_md_ctx_st *ctx, const void *data, size_t len,
                          const char *what)
{
    if (len > 0 && EVP_DigestUpdate(ctx, data, len) != 1)
        crypto_failure(what);
}

static void digest_final(struct evp_md_ctx_st *ctx, uint8_t *out, const char *what)
{
    if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        crypto_failure(what);
}

static void digest_oneshot(const EVP_MD *md, const void *data, size_t len, uint8_t *out,
                           const char *what)
{
    /* EVP_Digest accepts (NULL, 0) for the empty message. */
    if (EVP_Digest(len > 0 ? data : "", len, out, NULL, md, NULL) != 1)
        crypto_failure(what);
}

void tw_sha256(const void *data, size_t len, uint8_t out[TW_SHA256_LEN])
{
    digest_oneshot(EVP_sha256(), data, len, out, "SHA-256");
}

void tw_sha256_hex(const void *data, size_t len, char out[TW_SHA256_HEX_LEN + 1])
{
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(data, len, digest);
    tw_hex_encode(digest, sizeof digest, out);
}

void tw_sha256_init(tw_sha256_ctx *h)
{
    h->ctx = digest_new(EVP_sha256(), "SHA-256 init");
}

void tw_sha256_update(tw_sha256_ctx *h, const void *data, size_t len)
{
    digest_update(h->ctx, data, len, "SHA-256 update");
}

void tw_sha256_final(tw_sha256_ctx *h, uint8_t out[TW_SHA256_LEN])
{
    digest_final(h->ctx, out, "SHA-256 final");
}

void tw_sha256_free(tw_sha256_ctx *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void tw_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[TW_SHA256_LEN])
{
    size_t out_len = 0;
    /* EVP_Q_mac is the OpenSSL 3 one-shot over EVP_MAC ("HMAC" + digest). */
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_len > 0 ? key : "", key_len,
                  len > 0 ? data : "", len, out, TW_SHA256_LEN, &out_len) == NULL
        || out_len != TW_SHA256_LEN)
        crypto_failure("HMAC-SHA256");
}

void tw_md5(const void *data, size_t len, uint8_t out[TW_MD5_LEN])
{
    digest_oneshot(EVP_md5(), data, len, out, "MD5");
}

void tw_md5_init(tw_md5_ctx *h)
{
    h->ctx = digest_new(EVP_md5(), "MD5 init");
}

void tw_md5_update(tw_md5_ctx *h, const void *data, size_t len)
{
    digest_update(h->ctx, data, len, "MD5 update");
}

void tw_md5_final(tw_md5_ctx *h, uint8_t out[TW_MD5_LEN])
{
    digest_final(h->ctx, out, "MD5 final");
}

void tw_md5_free(tw_md5_ctx *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

bool tw_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
