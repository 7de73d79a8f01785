/* sigv4_verify.c — verification of received SigV4 requests (spec §10):
 * Authorization header and presigned-query parsing, credential scope checks,
 * secret lookup, time checks, canonical request rebuilt from the request as
 * received, constant-time signature comparison, and the §10.1 error table. */
#include "sigv4_verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "encode.h"
#include "hash.h"
#include "mem.h"

#define MISMATCH_MESSAGE                                                                   \
    "The request signature we calculated does not match the signature you provided. "    \
    "Check your AWS Secret Access Key and signing method. Consult the service "           \
    "documentation for details."

/* Client-controlled text echoed in messages is capped so an error never
 * grows with an attacker's header. */
#define ECHO_MAX 2048

/* ---- outcome names and the §10.1 table --------------------------------- */

const char *tw_sigv4_outcome_name(tw_sigv4_outcome outcome)
{
    switch (outcome) {
    case TW_SIGV4_OK: return "ok";
    case TW_SIGV4_MISSING_AUTH: return "missing-auth";
    case TW_SIGV4_INCOMPLETE: return "incomplete-signature";
    case TW_SIGV4_UNKNOWN_KEY: return "unknown-key";
    case TW_SIGV4_SIGNATURE_MISMATCH: return "signature-mismatch";
    case TW_SIGV4_SCOPE_ERROR: return "scope-error";
    case TW_SIGV4_SKEW: return "clock-skew";
    case TW_SIGV4_PRESIGN_EXPIRED: return "presign-expired";
    case TW_SIGV4_EXPIRED_TOKEN: return "expired-token";
    case TW_SIGV4_ACCESS_DENIED: return "access-denied";
    }
    return "unknown-outcome";
}

tw_sigv4_error tw_sigv4_outcome_error(tw_sigv4_outcome outcome, tw_sigv4_protocol protocol)
{
    /* Columns: awsQuery, JSON (and CBOR), S3. */
    static const tw_sigv4_error table[][3] = {
        [TW_SIGV4_OK] = {{NULL, 200}, {NULL, 200}, {NULL, 200}},
        [TW_SIGV4_MISSING_AUTH] = {{"MissingAuthenticationToken", 403},
                                   {"MissingAuthenticationTokenException", 400},
                                   {"AccessDenied", 403}},
        [TW_SIGV4_INCOMPLETE] = {{"IncompleteSignature", 400},
                                 {"IncompleteSignatureException", 400},
                                 {"AuthorizationHeaderMalformed", 400}},
        [TW_SIGV4_UNKNOWN_KEY] = {{"InvalidClientTokenId", 403},
                                  {"UnrecognizedClientException", 400},
                                  {"InvalidAccessKeyId", 403}},
        [TW_SIGV4_SIGNATURE_MISMATCH] = {{"SignatureDoesNotMatch", 403},
                                         {"InvalidSignatureException", 400},
                                         {"SignatureDoesNotMatch", 403}},
        [TW_SIGV4_SCOPE_ERROR] = {{"SignatureDoesNotMatch", 403},
                                  {"InvalidSignatureException", 400},
                                  {"SignatureDoesNotMatch", 403}},
        [TW_SIGV4_SKEW] = {{"SignatureDoesNotMatch", 403},
                           {"InvalidSignatureException", 400},
                           {"RequestTimeTooSkewed", 403}},
        [TW_SIGV4_PRESIGN_EXPIRED] = {{"RequestExpired", 400},
                                      {"InvalidSignatureException", 400},
                                      {"AccessDenied", 403}},
        [TW_SIGV4_EXPIRED_TOKEN] = {{"ExpiredToken", 403},
                                    {"ExpiredTokenException", 400},
                                    {"ExpiredToken", 400}},
        [TW_SIGV4_ACCESS_DENIED] = {{"AccessDenied", 403},
                                    {"AccessDeniedException", 400},
                                    {"AccessDenied", 403}},
    };
    if ((unsigned)outcome >= sizeof table / sizeof table[0] || (unsigned)protocol > 2) {
        tw_sigv4_error internal = {"InternalFailure", 500};
        return internal;
    }
    return table[outcome][protocol];
}

/* ---- small helpers ------------------------------------------------------ */

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t'))
        (*s)++, (*len)--;
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static bool span_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

static void put_echo(tw_buf *msg, const char *s, size_t len)
{
    tw_buf_append(msg, s, len > ECHO_MAX ? ECHO_MAX : len);
    if (len > ECHO_MAX)
        tw_buf_puts(msg, "...");
}

static const tw_sigv4_header *find_header(const tw_sigv4_request *req, const char *lower,
                                          size_t *count)
{
    const tw_sigv4_header *first = NULL;
    size_t n = 0, want = strlen(lower);
    for (size_t i = 0; i < req->header_count; i++) {
        const tw_sigv4_header *h = &req->headers[i];
        if (h->name_len == want && strncasecmp(h->name, lower, want) == 0) {
            if (first == NULL)
                first = h;
            n++;
        }
    }
    if (count != NULL)
        *count = n;
    return first;
}

void tw_sigv4_auth_free(tw_sigv4_auth *auth)
{
    free(auth->credential);
    free(auth->signed_headers);
    free(auth->signature);
    free(auth->amz_date);
    free(auth->expires);
    free(auth->session_token);
    memset(auth, 0, sizeof *auth);
}

/* ---- Authorization header ---------------------------------------------- */

static tw_sigv4_outcome unsupported_algorithm(tw_buf *message)
{
    tw_buf_puts(message, "The authorization mechanism you have provided is not supported. "
                         "Please use " TW_SIGV4_ALGORITHM ".");
    return TW_SIGV4_INCOMPLETE;
}

/* Stores one "Name=value" component; other names are ignored. */
static tw_sigv4_outcome auth_component(const char *c, size_t len, const char *whole,
                                       size_t whole_len, tw_sigv4_auth *out, tw_buf *message)
{
    const char *eq = memchr(c, '=', len);
    if (eq == NULL) {
        tw_buf_putc(message, '\'');
        put_echo(message, c, len);
        tw_buf_puts(message, "' not a valid key=value pair (missing equal-sign) in "
                             "Authorization header: '");
        put_echo(message, whole, whole_len);
        tw_buf_puts(message, "'.");
        return TW_SIGV4_INCOMPLETE;
    }
    const char *name = c, *value = eq + 1;
    size_t name_len = (size_t)(eq - c), value_len = len - name_len - 1;
    trim(&name, &name_len);
    trim(&value, &value_len);
    char **slot = span_is(name, name_len, "Credential")      ? &out->credential
                  : span_is(name, name_len, "SignedHeaders") ? &out->signed_headers
                  : span_is(name, name_len, "Signature")     ? &out->signature
                                                             : NULL;
    if (slot == NULL)
        return TW_SIGV4_OK;
    if (*slot != NULL) {
        tw_buf_printf(message, "Authorization header has more than one '%.*s' parameter.",
                      (int)name_len, name);
        return TW_SIGV4_INCOMPLETE;
    }
    *slot = tw_strndup(value, value_len);
    return TW_SIGV4_OK;
}

tw_sigv4_outcome tw_sigv4_parse_authorization(const char *value, size_t len,
                                              bool date_header_present, tw_sigv4_auth *out,
                                              tw_buf *message)
{
    memset(out, 0, sizeof *out);
    trim(&value, &len);
    size_t alg_len = strlen(TW_SIGV4_ALGORITHM);
    if (len < alg_len || memcmp(value, TW_SIGV4_ALGORITHM, alg_len) != 0
        || (len > alg_len && value[alg_len] != ' ' && value[alg_len] != '\t'))
        return unsupported_algorithm(message);
    for (size_t i = alg_len; i < len;) {
        const char *comma = memchr(value + i, ',', len - i);
        size_t end = comma ? (size_t)(comma - value) : len;
        const char *c = value + i;
        size_t c_len = end - i;
        i = end + 1;
        trim(&c, &c_len);
        if (c_len == 0)
            continue; /* tolerate ", ," and a trailing comma */
        tw_sigv4_outcome o = auth_component(c, c_len, value, len, out, message);
        if (o != TW_SIGV4_OK)
            return o;
    }
    if (out->credential && out->signed_headers && out->signature && date_header_present)
        return TW_SIGV4_OK;
    /* AWS lists every missing requirement, then echoes the header. */
    static const char *const parts[] = {"Credential", "Signature", "SignedHeaders"};
    const char *const have[] = {out->credential, out->signature, out->signed_headers};
    for (size_t i = 0; i < 3; i++)
        if (have[i] == NULL)
            tw_buf_printf(message, "Authorization header requires '%s' parameter. ", parts[i]);
    if (!date_header_present)
        tw_buf_puts(message, "Authorization header requires existence of either a "
                             "'X-Amz-Date' or a 'Date' header. ");
    tw_buf_puts(message, "Authorization=");
    put_echo(message, value, len);
    return TW_SIGV4_INCOMPLETE;
}

/* ---- presigned query ----------------------------------------------------- */

/* The auth field a decoded query key goes to, or NULL for other keys. */
static char **query_slot(tw_sigv4_auth *out, char **algorithm, const tw_buf *key)
{
    static const char *const names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                        "X-Amz-SignedHeaders", "X-Amz-Signature",
                                        "X-Amz-Date",          "X-Amz-Expires",
                                        "X-Amz-Security-Token"};
    char **slots[] = {algorithm,      &out->credential, &out->signed_headers, &out->signature,
                      &out->amz_date, &out->expires,    &out->session_token};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (span_is(tw_buf_cstr(key), key->len, names[i]))
            return slots[i];
    return NULL;
}

static tw_sigv4_outcome query_item(const char *item, size_t len, tw_sigv4_auth *out,
                                   char **algorithm, tw_buf *message)
{
    const char *eq = memchr(item, '=', len);
    size_t key_len = eq ? (size_t)(eq - item) : len;
    tw_buf key = TW_BUF_INIT, value = TW_BUF_INIT;
    tw_sigv4_outcome o = TW_SIGV4_OK;
    char **slot = NULL;
    if (tw_uri_decode(item, key_len, TW_URI_PLUS_LITERAL, &key, NULL) == 0)
        slot = query_slot(out, algorithm, &key);
    if (slot != NULL && *slot != NULL) {
        tw_buf_printf(message, "The query parameter '%s' appears more than once.",
                      tw_buf_cstr(&key));
        o = TW_SIGV4_INCOMPLETE;
    } else if (slot != NULL && eq != NULL
               && tw_uri_decode(eq + 1, len - key_len - 1, TW_URI_PLUS_LITERAL, &value, NULL) < 0) {
        tw_buf_printf(message, "The query parameter '%s' has a malformed %%-escape.",
                      tw_buf_cstr(&key));
        o = TW_SIGV4_INCOMPLETE;
    } else if (slot != NULL) {
        *slot = tw_strndup(tw_buf_cstr(&value), value.len);
    }
    tw_buf_free(&key);
    tw_buf_free(&value);
    return o;
}

tw_sigv4_outcome tw_sigv4_parse_presigned_query(const char *query, size_t len,
                                                tw_sigv4_auth *out, tw_buf *message)
{
    memset(out, 0, sizeof *out);
    out->presigned = true;
    char *algorithm = NULL;
    tw_sigv4_outcome o = TW_SIGV4_OK;
    for (size_t i = 0; query != NULL && i < len && o == TW_SIGV4_OK;) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - query) : len;
        if (end > i)
            o = query_item(query + i, end - i, out, &algorithm, message);
        i = end + 1;
    }
    if (o == TW_SIGV4_OK && algorithm == NULL && out->credential == NULL
        && out->signature == NULL)
        o = TW_SIGV4_MISSING_AUTH;
    else if (o == TW_SIGV4_OK && algorithm != NULL && strcmp(algorithm, TW_SIGV4_ALGORITHM) != 0)
        o = unsupported_algorithm(message);
    else if (o == TW_SIGV4_OK
             && (algorithm == NULL || out->credential == NULL || out->signature == NULL
                 || out->amz_date == NULL || out->signed_headers == NULL
                 || out->expires == NULL)) {
        tw_buf_puts(message, "Query-string authentication version 4 requires the "
                             "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
                             "X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
        o = TW_SIGV4_INCOMPLETE;
    }
    free(algorithm);
    return o;
}

/* ---- verification steps -------------------------------------------------- */

/* State of one verification; every step reads and fills it. */
typedef struct verify_state {
    const tw_sigv4_verify_config *cfg;
    const tw_sigv4_request *req;
    tw_sigv4_verify_result *res;
    tw_sigv4_auth auth;
    int64_t now_ms;  /* whole seconds */
    int64_t skew_ms;
    tw_buf secret;
    tw_buf payload_header;   /* trimmed X-Amz-Content-SHA256 */
    char payload_scratch[65];
    const char *payload_hash;
} verify_state;

static tw_sigv4_outcome fail(verify_state *st, tw_sigv4_outcome o, const char *fmt, ...)
    TW_PRINTF(3, 4);

static tw_sigv4_outcome fail(verify_state *st, tw_sigv4_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_buf_vprintf(&st->res->message, fmt, ap);
    va_end(ap);
    return o;
}

/* Step 1: which mechanism, and its parameters. */
static tw_sigv4_outcome find_auth(verify_state *st)
{
    const tw_sigv4_request *req = st->req;
    tw_buf *msg = &st->res->message;
    size_t n_auth = 0;
    const tw_sigv4_header *auth = find_header(req, "authorization", &n_auth);
    tw_sigv4_outcome q = tw_sigv4_parse_presigned_query(req->query, req->query_len, &st->auth,
                                                        msg);
    if (auth != NULL && q != TW_SIGV4_MISSING_AUTH) {
        tw_buf_reset(msg);
        return fail(st, TW_SIGV4_INCOMPLETE,
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                    "parameter, Signature query string parameter or the Authorization "
                    "header should be specified");
    }
    if (auth == NULL && q == TW_SIGV4_MISSING_AUTH)
        return fail(st, TW_SIGV4_MISSING_AUTH, "Request is missing Authentication Token");
    if (auth == NULL) {
        st->res->presigned = true;
        return q;
    }
    tw_sigv4_auth_free(&st->auth);
    if (n_auth > 1)
        return fail(st, TW_SIGV4_INCOMPLETE, "The request has more than one Authorization header.");
    bool have_date = find_header(req, "x-amz-date", NULL) || find_header(req, "date", NULL);
    return tw_sigv4_parse_authorization(auth->value, auth->value_len, have_date, &st->auth, msg);
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Step 2: AKID/date/region/service/aws4_request. */
static tw_sigv4_outcome check_credential(verify_state *st)
{
    const char *cred = st->auth.credential;
    const char *part[5];
    size_t len[5], n = 0;
    for (const char *p = cred;; p++) {
        const char *slash = strchr(p, '/');
        if (n < 5) {
            part[n] = p;
            len[n] = slash ? (size_t)(slash - p) : strlen(p);
        }
        n++;
        if (slash == NULL)
            break;
        p = slash;
    }
    if (n != 5)
        return fail(st, TW_SIGV4_INCOMPLETE,
                    "Credential must have exactly 5 slash-delimited elements, e.g. "
                    "keyid/date/region/service/term, got '%.*s'",
                    ECHO_MAX, cred);
    if (len[1] != 8 || strspn(part[1], "0123456789") < 8)
        return fail(st, TW_SIGV4_SCOPE_ERROR,
                    "Credential should be scoped to a valid date (YYYYMMDD), not '%.*s'.",
                    (int)(len[1] > 200 ? 200 : len[1]), part[1]);
    tw_sigv4_verify_result *res = st->res;
    res->access_key_id = tw_strndup(part[0], len[0]);
    memcpy(res->date, part[1], 8);
    res->region = tw_strndup(part[2], len[2]);
    res->service = tw_strndup(part[3], len[3]);
    if (!span_is(part[4], len[4], "aws4_request"))
        return fail(st, TW_SIGV4_SCOPE_ERROR,
                    "Credential should be scoped with a valid terminator: 'aws4_request', "
                    "not '%.*s'.", (int)(len[4] > 200 ? 200 : len[4]), part[4]);
    if (st->cfg->regions != NULL && !in_list(st->cfg->regions, res->region))
        return fail(st, TW_SIGV4_SCOPE_ERROR,
                    "Credential should be scoped to a valid region, not '%.200s'.", res->region);
    if (st->cfg->services != NULL && !in_list(st->cfg->services, res->service))
        return fail(st, TW_SIGV4_SCOPE_ERROR,
                    "Credential should be scoped to correct service: '%s'.",
                    st->cfg->services[0] ? st->cfg->services[0] : "");
    return TW_SIGV4_OK;
}

/* A captured signature must not be replayable against another host. */
static tw_sigv4_outcome check_host_signed(verify_state *st)
{
    const char *p = st->auth.signed_headers;
    for (;;) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if ((n == 4 && strncasecmp(p, "host", 4) == 0)
            || (n == 10 && strncasecmp(p, ":authority", 10) == 0))
            return TW_SIGV4_OK;
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    return fail(st, TW_SIGV4_INCOMPLETE,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

/* The request time: X-Amz-Date (query item or header), else the Date header. */
static tw_sigv4_outcome request_time(verify_state *st)
{
    tw_sigv4_verify_result *res = st->res;
    const char *s = st->auth.amz_date;
    size_t len = s ? strlen(s) : 0;
    const tw_sigv4_header *h = NULL;
    if (s == NULL && (h = find_header(st->req, "x-amz-date", NULL)) != NULL) {
        s = h->value;
        len = h->value_len;
        trim(&s, &len);
    }
    if (s != NULL) {
        if (tw_time_parse_amz_date(s, len, &res->request_time_ms, NULL) < 0)
            return fail(st, TW_SIGV4_INCOMPLETE,
                        "X-Amz-Date must be in the ISO8601 Long Format "
                        "\"yyyyMMdd'T'HHmmss'Z'\", not '%.*s'.",
                        (int)(len > 200 ? 200 : len), s);
        memcpy(res->amz_date, s, TW_AMZ_DATE_SIZE - 1);
        return TW_SIGV4_OK;
    }
    h = find_header(st->req, "date", NULL);
    s = h->value; /* present: find_auth required X-Amz-Date or Date */
    len = h->value_len;
    trim(&s, &len);
    if (tw_time_parse_http_date(s, len, &res->request_time_ms, NULL) < 0)
        return fail(st, TW_SIGV4_INCOMPLETE,
                    "Date header must be an HTTP date such as 'Sun, 30 Aug 2015 12:36:00 GMT', "
                    "not '%.*s'.", (int)(len > 200 ? 200 : len), s);
    tw_time_format_amz_date(res->request_time_ms, res->amz_date);
    return TW_SIGV4_OK;
}

static const char *session_token(verify_state *st, tw_buf *scratch)
{
    if (st->auth.presigned)
        return st->auth.session_token;
    const tw_sigv4_header *h = find_header(st->req, "x-amz-security-token", NULL);
    if (h == NULL)
        return NULL;
    const char *v = h->value;
    size_t len = h->value_len;
    trim(&v, &len);
    tw_buf_append(scratch, v, len);
    return tw_buf_cstr(scratch);
}

/* Step 3: the secret, through the caller's callback. */
static tw_sigv4_outcome lookup_secret(verify_state *st)
{
    tw_buf token = TW_BUF_INIT;
    const char *t = session_token(st, &token);
    if (t != NULL)
        st->res->session_token = tw_strdup(t);
    tw_buf_free(&token);
    tw_sigv4_key_status s = TW_SIGV4_KEY_UNKNOWN;
    if (st->cfg->lookup != NULL)
        s = st->cfg->lookup(st->cfg->lookup_ctx, st->res->access_key_id,
                            st->res->session_token, &st->secret);
    if (s == TW_SIGV4_KEY_FOUND)
        return TW_SIGV4_OK;
    if (s == TW_SIGV4_KEY_TOKEN_EXPIRED)
        return fail(st, TW_SIGV4_EXPIRED_TOKEN,
                    "The security token included in the request is expired");
    return fail(st, TW_SIGV4_UNKNOWN_KEY,
                "The security token included in the request is invalid.");
}

static void skew_text(char out[32], int64_t skew_ms)
{
    if (skew_ms % 60000 == 0)
        snprintf(out, 32, "%lld min.", (long long)(skew_ms / 60000));
    else
        snprintf(out, 32, "%lld sec.", (long long)(skew_ms / 1000));
}

static tw_sigv4_outcome not_yet_current(verify_state *st, const char *t, char *skew)
{
    char now[TW_AMZ_DATE_SIZE], limit[TW_AMZ_DATE_SIZE];
    tw_time_format_amz_date(st->now_ms, now);
    tw_time_format_amz_date(st->now_ms + st->skew_ms, limit);
    return fail(st, TW_SIGV4_SKEW, "Signature not yet current: %s is still later than %s (%s + %s)",
                t, limit, now, skew);
}

static tw_sigv4_outcome check_expires(verify_state *st, int64_t *expires)
{
    const char *e = st->auth.expires;
    size_t n = strlen(e);
    bool digits = n > 0 && n <= 10 && strspn(e, "0123456789") == n;
    *expires = digits ? strtoll(e, NULL, 10) : -1;
    if (digits && *expires > TW_SIGV4_EXPIRES_MAX)
        return fail(st, TW_SIGV4_INCOMPLETE,
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800");
    if (*expires < 1)
        return fail(st, TW_SIGV4_INCOMPLETE,
                    "X-Amz-Expires must be a whole number of seconds from 1 to 604800, "
                    "not '%.200s'.", e);
    return TW_SIGV4_OK;
}

/* Step 4: |now - t| <= skew (header form); t - skew <= now <= t + expires
 * (presigned); and the credential date is the request's date. */
static tw_sigv4_outcome check_time(verify_state *st)
{
    tw_sigv4_verify_result *res = st->res;
    int64_t t = res->request_time_ms, now = st->now_ms;
    char skew[32], now_text[TW_AMZ_DATE_SIZE], limit[TW_AMZ_DATE_SIZE];
    skew_text(skew, st->skew_ms);
    tw_time_format_amz_date(now, now_text);
    if (res->presigned) {
        int64_t expires = 0;
        tw_sigv4_outcome o = check_expires(st, &expires);
        if (o != TW_SIGV4_OK)
            return o;
        if (t > now + st->skew_ms)
            return not_yet_current(st, res->amz_date, skew);
        if (now > t + expires * 1000) {
            tw_time_format_amz_date(t + expires * 1000, limit);
            return fail(st, TW_SIGV4_PRESIGN_EXPIRED,
                        "Request has expired: X-Amz-Date %s + X-Amz-Expires %lld ended at %s; "
                        "it is now %s.", res->amz_date, (long long)expires, limit, now_text);
        }
    } else if (t < now - st->skew_ms) {
        tw_time_format_amz_date(now - st->skew_ms, limit);
        return fail(st, TW_SIGV4_SKEW, "Signature expired: %s is now earlier than %s (%s - %s)",
                    res->amz_date, limit, now_text, skew);
    } else if (t > now + st->skew_ms) {
        return not_yet_current(st, res->amz_date, skew);
    }
    if (memcmp(res->date, res->amz_date, 8) != 0)
        return fail(st, TW_SIGV4_SCOPE_ERROR,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '%s' != '%.8s', from '%s'.",
                    res->date, res->amz_date, res->amz_date);
    return TW_SIGV4_OK;
}

static bool is_lower_hex64(const char *s, size_t len)
{
    return len == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Step 6 (payload line): X-Amz-Content-SHA256 when sent, checked against the
 * body; else UNSIGNED-PAYLOAD when the caller says so (S3 presigned URLs);
 * else the body's hash. */
static tw_sigv4_outcome payload_hash(verify_state *st)
{
    const tw_sigv4_request *req = st->req;
    const char *body_hash = req->payload_hash;
    if (body_hash == NULL) {
        tw_sha256_hex(req->body, req->body_len, st->payload_scratch);
        body_hash = st->payload_scratch;
    }
    const tw_sigv4_header *h = find_header(req, "x-amz-content-sha256", NULL);
    if (h == NULL) {
        st->payload_hash = req->unsigned_payload ? TW_SIGV4_UNSIGNED_PAYLOAD : body_hash;
        return TW_SIGV4_OK;
    }
    tw_sigv4_header_value(&st->payload_header, h->value, h->value_len);
    const char *v = tw_buf_cstr(&st->payload_header);
    st->payload_hash = v;
    if (strcmp(v, TW_SIGV4_UNSIGNED_PAYLOAD) == 0 && st->cfg->allow_unsigned_payload)
        return TW_SIGV4_OK;
    if (strcmp(v, TW_SIGV4_UNSIGNED_PAYLOAD) == 0 || !is_lower_hex64(v, st->payload_header.len))
        return fail(st, TW_SIGV4_INCOMPLETE,
                    "x-amz-content-sha256 '%.100s' is not accepted here: send the lower-case "
                    "hex SHA-256 of the body.", v);
    if (strcmp(v, body_hash) != 0)
        return fail(st, TW_SIGV4_SIGNATURE_MISMATCH,
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.");
    return TW_SIGV4_OK;
}

/* Canonical request, string to sign and signature for one query exclusion
 * list; returns true when the signature matches. */
static bool signature_matches(verify_state *st, const uint8_t key[TW_SIGV4_KEY_LEN],
                              const char *const *exclude, const char *scope, tw_buf *creq,
                              tw_buf *sts, int *rc, tw_err *err)
{
    tw_buf_reset(creq);
    tw_buf_reset(sts);
    *rc = tw_sigv4_canonical_request(creq, st->req, st->auth.signed_headers, exclude,
                                     st->payload_hash, err);
    if (*rc < 0)
        return false;
    tw_sigv4_string_to_sign(sts, st->res->amz_date, scope, creq->data, creq->len);
    char expected[TW_SIGV4_SIGNATURE_LEN + 1];
    tw_sigv4_signature(key, sts->data, sts->len, expected);
    const char *given = st->auth.signature;
    return strlen(given) == TW_SIGV4_SIGNATURE_LEN
           && tw_ct_equal(given, expected, TW_SIGV4_SIGNATURE_LEN);
}

static tw_sigv4_outcome mismatch(verify_state *st, const tw_buf *creq, const tw_buf *sts)
{
    fail(st, TW_SIGV4_SIGNATURE_MISMATCH, "%s", MISMATCH_MESSAGE);
    if (st->cfg->debug)
        tw_buf_printf(&st->res->message,
                      "\n\nThe Canonical String for this request should have been\n'%s'\n\n"
                      "The String-to-Sign should have been\n'%s'\n",
                      tw_buf_cstr(creq), tw_buf_cstr(sts));
    return TW_SIGV4_SIGNATURE_MISMATCH;
}

/* Steps 5-7: rebuild the canonical request and compare signatures. */
static tw_sigv4_outcome check_signature(verify_state *st)
{
    static const char *const presign_exclude[] = {"X-Amz-Signature", NULL};
    static const char *const legacy_exclude[] = {"X-Amz-Signature", "X-Amz-Security-Token",
                                                 NULL};
    tw_sigv4_verify_result *res = st->res;
    uint8_t key[TW_SIGV4_KEY_LEN];
    tw_sigv4_signing_key_cached(st->cfg->cache, res->access_key_id, tw_buf_cstr(&st->secret),
                                res->date, res->region, res->service, key);
    tw_buf scope = TW_BUF_INIT, creq = TW_BUF_INIT, sts = TW_BUF_INIT;
    tw_buf other_creq = TW_BUF_INIT, other_sts = TW_BUF_INIT;
    tw_buf_printf(&scope, "%s/%s/%s/aws4_request", res->date, res->region, res->service);
    tw_err err;
    int rc = 0;
    bool presigned = st->auth.presigned;
    bool ok = signature_matches(st, key, presigned ? presign_exclude : NULL,
                                tw_buf_cstr(&scope), &creq, &sts, &rc, &err);
    /* Legacy presigned form: the token was appended after signing. */
    if (!ok && rc == 0 && presigned && st->auth.session_token != NULL)
        ok = signature_matches(st, key, legacy_exclude, tw_buf_cstr(&scope), &other_creq,
                               &other_sts, &rc, &err);
    tw_sigv4_outcome o = TW_SIGV4_OK;
    if (rc == -ENOENT)
        o = fail(st, TW_SIGV4_SIGNATURE_MISMATCH, "%s", err.msg);
    else if (rc < 0)
        o = fail(st, TW_SIGV4_INCOMPLETE, "%s", err.msg);
    else if (!ok)
        o = mismatch(st, &creq, &sts);
    OPENSSL_cleanse(key, sizeof key);
    tw_buf_free(&scope);
    tw_buf_free(&creq);
    tw_buf_free(&sts);
    tw_buf_free(&other_creq);
    tw_buf_free(&other_sts);
    return o;
}

tw_sigv4_outcome tw_sigv4_verify(const tw_sigv4_verify_config *cfg, const tw_sigv4_request *req,
                                 int64_t now_ms, tw_sigv4_verify_result *res)
{
    memset(res, 0, sizeof *res);
    verify_state st;
    memset(&st, 0, sizeof st);
    st.cfg = cfg;
    st.req = req;
    st.res = res;
    /* AWS times are whole seconds; so is "now", rounded towards the past. */
    st.now_ms = now_ms - ((now_ms % 1000) + 1000) % 1000;
    st.skew_ms = cfg->max_skew_ms > 0 ? cfg->max_skew_ms : TW_SIGV4_DEFAULT_SKEW_MS;
    tw_sigv4_outcome (*const steps[])(verify_state *) = {
        find_auth,    check_credential, check_host_signed, request_time,
        lookup_secret, check_time,      payload_hash,      check_signature,
    };
    tw_sigv4_outcome o = TW_SIGV4_OK;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && o == TW_SIGV4_OK; i++)
        o = steps[i](&st);
    res->outcome = o;
    if (o == TW_SIGV4_OK)
        tw_buf_reset(&res->message);
    tw_sigv4_auth_free(&st.auth);
    if (st.secret.data != NULL)
        OPENSSL_cleanse(st.secret.data, st.secret.cap);
    tw_buf_free(&st.secret);
    tw_buf_free(&st.payload_header);
    return o;
}

void tw_sigv4_verify_result_free(tw_sigv4_verify_result *res)
{
    tw_buf_free(&res->message);
    free(res->access_key_id);
    free(res->region);
    free(res->service);
    free(res->session_token);
    memset(res, 0, sizeof *res);
}
