/* sigv4.c — SigV4 canonicalisation, string to sign, signing key (with its
 * cache) and the two signers (Authorization header, presigned query).
 * Verification of received requests lives in sigv4_verify.c. */
#include "sigv4.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "encode.h"
#include "hash.h"
#include "mem.h"
#include "timefmt.h"

tw_sigv4_header tw_sigv4_header_of(const char *name, const char *value)
{
    tw_sigv4_header h = {name, strlen(name), value, strlen(value)};
    return h;
}

/* ---- signing key and its cache ---------------------------------------- */

void tw_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                          const char *service, uint8_t out[TW_SIGV4_KEY_LEN])
{
    tw_buf k_secret = TW_BUF_INIT;
    tw_buf_puts(&k_secret, "AWS4");
    tw_buf_puts(&k_secret, secret);
    uint8_t k[TW_SIGV4_KEY_LEN];
    tw_hmac_sha256(k_secret.data, k_secret.len, date8, strlen(date8), k);
    tw_hmac_sha256(k, sizeof k, region, strlen(region), k);
    tw_hmac_sha256(k, sizeof k, service, strlen(service), k);
    tw_hmac_sha256(k, sizeof k, "aws4_request", 12, out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(k_secret.data, k_secret.len);
    tw_buf_free(&k_secret);
}

typedef struct key_cache_entry {
    char *access_key_id, *date8, *region, *service; /* NULL when the slot is empty */
    uint8_t secret_digest[TW_SHA256_LEN];
    uint8_t key[TW_SIGV4_KEY_LEN];
} key_cache_entry;

struct tw_sigv4_key_cache {
    key_cache_entry *entries;
    size_t capacity;
    size_t next; /* round-robin victim */
};

tw_sigv4_key_cache *tw_sigv4_key_cache_new(size_t capacity)
{
    tw_sigv4_key_cache *c = tw_calloc(1, sizeof *c);
    c->capacity = capacity > 0 ? capacity : 1;
    c->entries = tw_calloc(c->capacity, sizeof *c->entries);
    return c;
}

static void key_cache_entry_clear(key_cache_entry *e)
{
    free(e->access_key_id);
    free(e->date8);
    free(e->region);
    free(e->service);
    OPENSSL_cleanse(e, sizeof *e);
}

void tw_sigv4_key_cache_free(tw_sigv4_key_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->capacity; i++)
        key_cache_entry_clear(&cache->entries[i]);
    free(cache->entries);
    free(cache);
}

static bool key_cache_entry_matches(const key_cache_entry *e, const char *akid,
                                    const uint8_t digest[TW_SHA256_LEN], const char *date8,
                                    const char *region, const char *service)
{
    return e->access_key_id != NULL && strcmp(e->access_key_id, akid) == 0
           && strcmp(e->date8, date8) == 0 && strcmp(e->region, region) == 0
           && strcmp(e->service, service) == 0
           && tw_ct_equal(e->secret_digest, digest, TW_SHA256_LEN);
}

void tw_sigv4_signing_key_cached(tw_sigv4_key_cache *cache, const char *access_key_id,
                                 const char *secret, const char *date8, const char *region,
                                 const char *service, uint8_t out[TW_SIGV4_KEY_LEN])
{
    if (cache == NULL) {
        tw_sigv4_signing_key(secret, date8, region, service, out);
        return;
    }
    /* The secret is part of the key (a rotated secret must not hit), but only
     * as a digest so the cache never holds a usable secret. */
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(secret, strlen(secret), digest);
    for (size_t i = 0; i < cache->capacity; i++) {
        const key_cache_entry *e = &cache->entries[i];
        if (key_cache_entry_matches(e, access_key_id, digest, date8, region, service)) {
            memcpy(out, e->key, TW_SIGV4_KEY_LEN);
            return;
        }
    }
    tw_sigv4_signing_key(secret, date8, region, service, out);
    key_cache_entry *e = &cache->entries[cache->next];
    cache->next = (cache->next + 1) % cache->capacity;
    key_cache_entry_clear(e);
    e->access_key_id = tw_strdup(access_key_id);
    e->date8 = tw_strdup(date8);
    e->region = tw_strdup(region);
    e->service = tw_strdup(service);
    memcpy(e->secret_digest, digest, sizeof digest);
    memcpy(e->key, out, TW_SIGV4_KEY_LEN);
}

/* ---- canonical URI (§2.2) ---------------------------------------------- */

/* botocore's remove_dot_segments: RFC 3986 §5.2.4 on the segments, with
 * empty segments dropped (AWS collapses slash runs), a leading '/' kept, and
 * a trailing '/' kept unless nothing is left. */
static void normalize_path(tw_buf *out, const char *p, size_t len)
{
    if (len == 0) {
        tw_buf_putc(out, '/');
        return;
    }
    tw_buf joined = TW_BUF_INIT;
    size_t *starts = tw_malloc((len / 2 + 2) * sizeof *starts);
    size_t depth = 0;
    for (size_t i = 0; i <= len;) {
        const char *slash = memchr(p + i, '/', len - i);
        size_t end = slash ? (size_t)(slash - p) : len;
        const char *seg = p + i;
        size_t seg_len = end - i;
        i = end + 1;
        if (seg_len == 0 || (seg_len == 1 && seg[0] == '.'))
            continue;
        if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (depth > 0)
                joined.len = starts[--depth];
            continue;
        }
        starts[depth++] = joined.len;
        if (depth > 1)
            tw_buf_putc(&joined, '/');
        tw_buf_append(&joined, seg, seg_len);
    }
    if (p[0] == '/')
        tw_buf_putc(out, '/');
    tw_buf_append(out, joined.data ? joined.data : "", joined.len);
    if (p[len - 1] == '/' && depth > 0)
        tw_buf_putc(out, '/');
    free(starts);
    tw_buf_free(&joined);
}

int tw_sigv4_canonical_uri(tw_buf *out, const char *path, size_t len, bool s3, tw_err *err)
{
    if (len == 0) {
        tw_buf_putc(out, '/');
        return 0;
    }
    tw_buf tmp = TW_BUF_INIT;
    int rc = 0;
    if (s3) {
        /* S3: the object key as decoded, encoded once, no normalisation. */
        rc = tw_uri_decode(path, len, TW_URI_PLUS_LITERAL, &tmp, NULL);
        char quoted[TW_QUOTE_SIZE];
        if (rc < 0)
            tw_err_set(err, rc, "path %s has a malformed %%-escape", tw_quote(path, len, quoted));
    } else {
        /* Everyone else: normalise the path as sent, then encode it again
         * (so "%20" on the wire becomes "%2520"). */
        normalize_path(&tmp, path, len);
    }
    if (rc == 0)
        tw_uri_encode(tw_buf_cstr(&tmp), tmp.len, TW_URI_KEEP_SLASH, out);
    tw_buf_free(&tmp);
    return rc;
}

/* ---- canonical query string (§2.3) ------------------------------------- */

typedef struct query_item {
    size_t key_off, key_len, value_off, value_len; /* into the encoded buffer */
    const char *key, *value;
} query_item;

static int compare_query_items(const void *a, const void *b)
{
    const query_item *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0 || x->key_len != y->key_len)
        return c != 0 ? c : (x->key_len < y->key_len ? -1 : 1);
    n = x->value_len < y->value_len ? x->value_len : y->value_len;
    c = memcmp(x->value, y->value, n);
    if (c != 0 || x->value_len == y->value_len)
        return c;
    return x->value_len < y->value_len ? -1 : 1;
}

static bool key_excluded(const tw_buf *decoded_key, const char *const *exclude)
{
    for (size_t i = 0; exclude != NULL && exclude[i] != NULL; i++) {
        if (strlen(exclude[i]) == decoded_key->len &&
            memcmp(exclude[i], decoded_key->data ? decoded_key->data : "", decoded_key->len) == 0)
            return true;
    }
    return false;
}

/* Decodes one key or value and appends its SigV4 encoding to enc. */
static int reencode(tw_buf *enc, tw_buf *scratch, const char *s, size_t len, tw_err *err)
{
    tw_buf_reset(scratch);
    int rc = tw_uri_decode(s, len, TW_URI_PLUS_LITERAL, scratch, NULL);
    char quoted[TW_QUOTE_SIZE];
    if (rc < 0)
        return tw_err_set(err, rc, "query item %s has a malformed %%-escape",
                          tw_quote(s, len, quoted));
    tw_uri_encode(tw_buf_cstr(scratch), scratch->len, TW_URI_ENCODE_SLASH, enc);
    return 0;
}

/* Splits, decodes and re-encodes the items of query into enc/items. */
static int collect_query_items(const char *query, size_t len, const char *const *exclude,
                               tw_buf *enc, query_item **items_out, size_t *count_out,
                               tw_err *err)
{
    /* Non-empty items separated by '&' number at most (len + 1) / 2. */
    query_item *items = tw_malloc((len / 2 + 1) * sizeof *items);
    size_t count = 0;
    tw_buf scratch = TW_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - query) : len;
        const char *item = query + i;
        size_t item_len = end - i;
        i = end + 1;
        if (item_len == 0)
            continue;
        const char *eq = memchr(item, '=', item_len);
        size_t key_len = eq ? (size_t)(eq - item) : item_len;
        tw_buf_reset(&scratch);
        if ((rc = tw_uri_decode(item, key_len, TW_URI_PLUS_LITERAL, &scratch, NULL)) < 0) {
            char quoted[TW_QUOTE_SIZE];
            tw_err_set(err, rc, "query item %s has a malformed %%-escape",
                       tw_quote(item, item_len, quoted));
            break;
        }
        if (key_excluded(&scratch, exclude))
            continue;
        query_item *q = &items[count++];
        q->key_off = enc->len;
        rc = reencode(enc, &scratch, item, key_len, err);
        q->key_len = enc->len - q->key_off;
        q->value_off = enc->len;
        if (rc == 0 && eq != NULL)
            rc = reencode(enc, &scratch, eq + 1, item_len - key_len - 1, err);
        q->value_len = enc->len - q->value_off;
    }
    tw_buf_free(&scratch);
    *items_out = items;
    *count_out = count;
    return rc;
}

int tw_sigv4_canonical_query(tw_buf *out, const char *query, size_t len,
                             const char *const *exclude, tw_err *err)
{
    if (query == NULL || len == 0)
        return 0;
    tw_buf enc = TW_BUF_INIT;
    query_item *items = NULL;
    size_t count = 0;
    int rc = collect_query_items(query, len, exclude, &enc, &items, &count, err);
    if (rc == 0) {
        /* Pointers only now: enc no longer moves. */
        for (size_t i = 0; i < count; i++) {
            items[i].key = tw_buf_cstr(&enc) + items[i].key_off;
            items[i].value = tw_buf_cstr(&enc) + items[i].value_off;
        }
        qsort(items, count, sizeof *items, compare_query_items);
        for (size_t i = 0; i < count; i++) {
            if (i > 0)
                tw_buf_putc(out, '&');
            tw_buf_append(out, items[i].key, items[i].key_len);
            tw_buf_putc(out, '=');
            tw_buf_append(out, items[i].value, items[i].value_len);
        }
    }
    free(items);
    tw_buf_free(&enc);
    return rc;
}

/* ---- canonical headers (§2.4) ------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void tw_sigv4_header_value(tw_buf *out, const char *value, size_t len)
{
    size_t i = 0;
    bool first = true;
    while (i < len) {
        while (i < len && is_space(value[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(value[i]))
            i++;
        if (i == start)
            break;
        if (!first)
            tw_buf_putc(out, ' ');
        tw_buf_append(out, value + start, i - start);
        first = false;
    }
}

int tw_sigv4_canonical_headers(tw_buf *out, const tw_sigv4_header *headers, size_t count,
                               const char *signed_headers, tw_err *err)
{
    const char *p = signed_headers;
    for (;;) {
        const char *semi = strchr(p, ';');
        size_t name_len = semi ? (size_t)(semi - p) : strlen(p);
        if (name_len == 0)
            return tw_err_set(err, -EINVAL, "SignedHeaders '%s' has an empty header name",
                              signed_headers);
        tw_buf_append(out, p, name_len);
        tw_buf_putc(out, ':');
        bool found = false;
        for (size_t i = 0; i < count; i++) {
            const tw_sigv4_header *h = &headers[i];
            if (h->name_len != name_len || strncasecmp(h->name, p, name_len) != 0)
                continue;
            if (found)
                tw_buf_putc(out, ',');
            tw_sigv4_header_value(out, h->value, h->value_len);
            found = true;
        }
        if (!found)
            return tw_err_set(
                err, -ENOENT,
                "header '%.*s' is listed in SignedHeaders but not present in the request",
                (int)name_len, p);
        tw_buf_putc(out, '\n');
        if (semi == NULL)
            return 0;
        p = semi + 1;
    }
}

/* ---- payload, canonical request, string to sign, signature ------------ */

const char *tw_sigv4_payload_hash(const tw_sigv4_request *req, char scratch[65])
{
    if (req->payload_hash != NULL)
        return req->payload_hash;
    if (req->unsigned_payload)
        return TW_SIGV4_UNSIGNED_PAYLOAD;
    tw_sha256_hex(req->body, req->body_len, scratch);
    return scratch;
}

int tw_sigv4_canonical_request(tw_buf *out, const tw_sigv4_request *req,
                               const char *signed_headers, const char *const *query_exclude,
                               const char *payload_hash, tw_err *err)
{
    tw_buf_append(out, req->method, req->method_len);
    tw_buf_putc(out, '\n');
    int rc = tw_sigv4_canonical_uri(out, req->path, req->path_len, req->s3, err);
    if (rc < 0)
        return rc;
    tw_buf_putc(out, '\n');
    rc = tw_sigv4_canonical_query(out, req->query, req->query_len, query_exclude, err);
    if (rc < 0)
        return rc;
    tw_buf_putc(out, '\n');
    rc = tw_sigv4_canonical_headers(out, req->headers, req->header_count, signed_headers, err);
    if (rc < 0)
        return rc;
    tw_buf_putc(out, '\n');
    tw_buf_puts(out, signed_headers);
    tw_buf_putc(out, '\n');
    tw_buf_puts(out, payload_hash);
    return 0;
}

void tw_sigv4_string_to_sign(tw_buf *out, const char *amz_date, const char *scope,
                             const char *canonical_request, size_t len)
{
    char hash[TW_SHA256_HEX_LEN + 1];
    tw_sha256_hex(canonical_request, len, hash);
    tw_buf_printf(out, TW_SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
}

void tw_sigv4_signature(const uint8_t key[TW_SIGV4_KEY_LEN], const char *string_to_sign,
                        size_t len, char out[TW_SIGV4_SIGNATURE_LEN + 1])
{
    uint8_t mac[TW_SHA256_LEN];
    tw_hmac_sha256(key, TW_SIGV4_KEY_LEN, string_to_sign, len, mac);
    tw_hex_encode(mac, sizeof mac, out);
}

/* ---- signing ------------------------------------------------------------ */

/* Never signed: a proxy may add, drop or rewrite them (botocore's list plus
 * the hop-by-hop headers, §2.4), and the Authorization header itself. */
static const char *const never_signed[] = {
    "authorization", "expect", "user-agent", "x-amzn-trace-id", "connection", "keep-alive",
    "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding",
    "upgrade", NULL,
};

static bool name_is(const tw_sigv4_header *h, const char *lower)
{
    return h->name_len == strlen(lower) && strncasecmp(h->name, lower, h->name_len) == 0;
}

static bool never_signed_name(const tw_sigv4_header *h)
{
    for (size_t i = 0; never_signed[i] != NULL; i++)
        if (name_is(h, never_signed[i]))
            return true;
    return false;
}

/* An HTTP token (RFC 9110) is all a header name may be; ';' or ':' would
 * corrupt SignedHeaders and the canonical headers. */
static bool valid_header_name(const tw_sigv4_header *h)
{
    if (h->name_len == 0)
        return false;
    for (size_t i = 0; i < h->name_len; i++) {
        unsigned char c = (unsigned char)h->name[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
            return false;
    }
    return true;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SignedHeaders: the lower-cased names of headers, sorted, without
 * duplicates or never-signed names, joined by ';'. */
static int choose_signed_headers(tw_buf *out, const tw_sigv4_header *headers, size_t count,
                                 tw_err *err)
{
    char **names = tw_malloc((count + 1) * sizeof *names);
    size_t n = 0;
    bool have_host = false;
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        if (!valid_header_name(&headers[i])) {
            char quoted[TW_QUOTE_SIZE];
            rc = tw_err_set(err, -EINVAL, "header name %s is not a valid HTTP token",
                            tw_quote(headers[i].name, headers[i].name_len, quoted));
            break;
        }
        if (never_signed_name(&headers[i]))
            continue;
        have_host = have_host || name_is(&headers[i], "host");
        char *lower = tw_strndup(headers[i].name, headers[i].name_len);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        names[n++] = lower;
    }
    if (rc == 0 && !have_host)
        rc = tw_err_set(err, -EINVAL, "SigV4 needs a Host header to sign; the request has none");
    if (rc == 0) {
        qsort(names, n, sizeof *names, compare_strings);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
                continue;
            if (out->len > 0)
                tw_buf_putc(out, ';');
            tw_buf_puts(out, names[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int check_params(const tw_sigv4_sign_params *p, tw_err *err)
{
    const char *missing = p->access_key_id == NULL || p->access_key_id[0] == '\0' ? "access key id"
                          : p->secret_access_key == NULL ? "secret access key"
                          : p->region == NULL || p->region[0] == '\0'   ? "region"
                          : p->service == NULL || p->service[0] == '\0' ? "service"
                                                                        : NULL;
    if (missing != NULL)
        return tw_err_set(err, -EINVAL, "SigV4 signing needs a %s", missing);
    char amz_date[TW_AMZ_DATE_SIZE];
    if (tw_time_format_amz_date(p->time_ms, amz_date) < 0)
        return tw_err_set(err, -EINVAL, "SigV4 request time %lld ms is outside years 0-9999",
                          (long long)p->time_ms);
    /* '/' separates the parts of the credential scope. */
    const char *slashed = strchr(p->access_key_id, '/') ? "access key id"
                          : strchr(p->region, '/')      ? "region"
                          : strchr(p->service, '/')     ? "service"
                                                        : NULL;
    if (slashed != NULL)
        return tw_err_set(err, -EINVAL, "SigV4 %s must not contain '/'", slashed);
    return 0;
}

/* What both signers share: the date, scope and payload hash. */
typedef struct sign_context {
    char amz_date[TW_AMZ_DATE_SIZE];
    char date8[9];
    tw_buf scope;
    tw_buf signed_headers;
    char payload_scratch[65];
    const char *payload_hash;
    tw_buf payload_header; /* a request's own X-Amz-Content-SHA256, trimmed */
} sign_context;

static void sign_context_init(sign_context *c, const tw_sigv4_request *req,
                              const tw_sigv4_sign_params *p, bool header_mode)
{
    memset(c, 0, sizeof *c);
    tw_time_format_amz_date(p->time_ms, c->amz_date);
    memcpy(c->date8, c->amz_date, 8);
    tw_buf_printf(&c->scope, "%s/%s/%s/aws4_request", c->date8, p->region, p->service);
    c->payload_hash = tw_sigv4_payload_hash(req, c->payload_scratch);
    if (!header_mode || req->sign_body || req->payload_hash != NULL)
        return;
    /* Like botocore: a given X-Amz-Content-SHA256 is the payload hash. */
    for (size_t i = 0; i < req->header_count; i++) {
        if (name_is(&req->headers[i], "x-amz-content-sha256")) {
            tw_sigv4_header_value(&c->payload_header, req->headers[i].value,
                                  req->headers[i].value_len);
            c->payload_hash = tw_buf_cstr(&c->payload_header);
            break;
        }
    }
}

static void sign_context_free(sign_context *c)
{
    tw_buf_free(&c->scope);
    tw_buf_free(&c->signed_headers);
    tw_buf_free(&c->payload_header);
}

/* Canonical request, string to sign and signature of req into out. */
static int sign_request(const tw_sigv4_request *req, const tw_sigv4_sign_params *p,
                        sign_context *c, tw_sigv4_signed *out, tw_err *err)
{
    int rc = tw_sigv4_canonical_request(&out->canonical_request, req,
                                        tw_buf_cstr(&c->signed_headers), NULL, c->payload_hash,
                                        err);
    if (rc < 0)
        return rc;
    tw_sigv4_string_to_sign(&out->string_to_sign, c->amz_date, tw_buf_cstr(&c->scope),
                            out->canonical_request.data, out->canonical_request.len);
    uint8_t key[TW_SIGV4_KEY_LEN];
    tw_sigv4_signing_key_cached(p->cache, p->access_key_id, p->secret_access_key, c->date8,
                                p->region, p->service, key);
    tw_sigv4_signature(key, out->string_to_sign.data, out->string_to_sign.len, out->signature);
    OPENSSL_cleanse(key, sizeof key);
    return 0;
}

static void add_header(tw_sigv4_signed *out, const char *name, char *value)
{
    out->headers[out->header_count].name = name;
    out->headers[out->header_count].value = value;
    out->header_count++;
}

/* The request's headers minus those the signer replaces, plus the signer's. */
static tw_sigv4_header *header_mode_headers(const tw_sigv4_request *req,
                                            const tw_sigv4_sign_params *p,
                                            const sign_context *c, size_t *count)
{
    tw_sigv4_header *h = tw_malloc((req->header_count + 3) * sizeof *h);
    size_t n = 0;
    bool token = p->session_token != NULL;
    for (size_t i = 0; i < req->header_count; i++) {
        const tw_sigv4_header *in = &req->headers[i];
        if (name_is(in, "x-amz-date") || (token && name_is(in, "x-amz-security-token"))
            || (req->sign_body && name_is(in, "x-amz-content-sha256")))
            continue;
        h[n++] = *in;
    }
    h[n++] = tw_sigv4_header_of("X-Amz-Date", c->amz_date);
    if (token && !p->omit_session_token)
        h[n++] = tw_sigv4_header_of("X-Amz-Security-Token", p->session_token);
    if (req->sign_body)
        h[n++] = tw_sigv4_header_of("X-Amz-Content-SHA256", c->payload_hash);
    *count = n;
    return h;
}

int tw_sigv4_sign_headers(const tw_sigv4_request *req, const tw_sigv4_sign_params *params,
                          tw_sigv4_signed *out, tw_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_params(params, err);
    if (rc < 0)
        return rc;
    sign_context c;
    sign_context_init(&c, req, params, true);
    tw_sigv4_request signing = *req;
    size_t count = 0;
    tw_sigv4_header *headers = header_mode_headers(req, params, &c, &count);
    signing.headers = headers;
    signing.header_count = count;
    rc = choose_signed_headers(&c.signed_headers, headers, count, err);
    if (rc == 0)
        rc = sign_request(&signing, params, &c, out, err);
    if (rc == 0) {
        add_header(out, "X-Amz-Date", tw_strdup(c.amz_date));
        if (params->session_token != NULL)
            add_header(out, "X-Amz-Security-Token", tw_strdup(params->session_token));
        if (req->sign_body)
            add_header(out, "X-Amz-Content-SHA256", tw_strdup(c.payload_hash));
        tw_buf auth = TW_BUF_INIT;
        tw_buf_printf(&auth, TW_SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                      params->access_key_id, tw_buf_cstr(&c.scope),
                      tw_buf_cstr(&c.signed_headers), out->signature);
        add_header(out, "Authorization", tw_buf_steal(&auth));
    }
    free(headers);
    sign_context_free(&c);
    if (rc < 0)
        tw_sigv4_signed_free(out);
    return rc;
}

static void put_query_item(tw_buf *q, const char *key, const char *value)
{
    if (q->len > 0)
        tw_buf_putc(q, '&');
    tw_buf_puts(q, key);
    tw_buf_putc(q, '=');
    tw_uri_encode(value, strlen(value), TW_URI_ENCODE_SLASH, q);
}

/* The request's query plus the X-Amz-* auth items (encoded). */
static void presign_query(tw_buf *q, const tw_sigv4_request *req,
                          const tw_sigv4_sign_params *p, const sign_context *c)
{
    if (req->query != NULL)
        tw_buf_append(q, req->query, req->query_len);
    tw_buf credential = TW_BUF_INIT;
    tw_buf_printf(&credential, "%s/%s", p->access_key_id, tw_buf_cstr(&c->scope));
    char expires[16];
    snprintf(expires, sizeof expires, "%u", (unsigned)p->expires_s);
    put_query_item(q, "X-Amz-Algorithm", TW_SIGV4_ALGORITHM);
    put_query_item(q, "X-Amz-Credential", tw_buf_cstr(&credential));
    put_query_item(q, "X-Amz-Date", c->amz_date);
    put_query_item(q, "X-Amz-Expires", expires);
    put_query_item(q, "X-Amz-SignedHeaders", tw_buf_cstr(&c->signed_headers));
    if (p->session_token != NULL && !p->omit_session_token)
        put_query_item(q, "X-Amz-Security-Token", p->session_token);
    tw_buf_free(&credential);
}

/* True when query already carries an item presigning adds (a verifier would
 * see it twice). */
static bool query_has_auth_item(const char *query, size_t len)
{
    static const char *const auth_keys[] = {
        "X-Amz-Algorithm", "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature", NULL,
    };
    tw_buf key = TW_BUF_INIT;
    bool found = false;
    for (size_t i = 0; query != NULL && i < len && !found;) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - query) : len;
        const char *eq = memchr(query + i, '=', end - i);
        size_t key_end = eq ? (size_t)(eq - query) : end;
        tw_buf_reset(&key);
        if (tw_uri_decode(query + i, key_end - i, TW_URI_PLUS_LITERAL, &key, NULL) == 0)
            found = key_excluded(&key, auth_keys);
        i = end + 1;
    }
    tw_buf_free(&key);
    return found;
}

int tw_sigv4_presign(const tw_sigv4_request *req, const tw_sigv4_sign_params *params,
                     tw_sigv4_signed *out, tw_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_params(params, err);
    if (rc < 0)
        return rc;
    if (query_has_auth_item(req->query, req->query_len))
        return tw_err_set(err, -EINVAL, "the query to presign already has X-Amz-* "
                                        "authentication items");
    if (params->expires_s < 1 || params->expires_s > TW_SIGV4_EXPIRES_MAX)
        return tw_err_set(err, -EINVAL, "X-Amz-Expires must be 1..%d seconds, not %u",
                          TW_SIGV4_EXPIRES_MAX, (unsigned)params->expires_s);
    sign_context c;
    sign_context_init(&c, req, params, false);
    tw_buf query = TW_BUF_INIT;
    rc = choose_signed_headers(&c.signed_headers, req->headers, req->header_count, err);
    if (rc == 0) {
        presign_query(&query, req, params, &c);
        tw_sigv4_request signing = *req;
        signing.query = query.data;
        signing.query_len = query.len;
        rc = sign_request(&signing, params, &c, out, err);
    }
    if (rc == 0) {
        tw_sigv4_canonical_query(&out->query, query.data, query.len, NULL, NULL);
        if (params->session_token != NULL && params->omit_session_token)
            put_query_item(&out->query, "X-Amz-Security-Token", params->session_token);
        put_query_item(&out->query, "X-Amz-Signature", out->signature);
    }
    tw_buf_free(&query);
    sign_context_free(&c);
    if (rc < 0)
        tw_sigv4_signed_free(out);
    return rc;
}

void tw_sigv4_signed_free(tw_sigv4_signed *s)
{
    for (size_t i = 0; i < s->header_count; i++)
        free(s->headers[i].value);
    s->header_count = 0;
    tw_buf_free(&s->query);
    tw_buf_free(&s->canonical_request);
    tw_buf_free(&s->string_to_sign);
    s->signature[0] = '\0';
}
