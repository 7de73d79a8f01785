/* dispatch.c — from an HTTP request to a running operation handler.
 *
 * Per request, in this order:
 *   1. work out the protocol from the request's shape (spec/cloudwatch.md
 *      §1.3.1: Smithy-Protocol + path, then X-Amz-Target, then the REST
 *      path, then Action=), so that every later error, authentication
 *      errors included, comes in the envelope the client can parse;
 *   2. refuse a body over max_body (it cannot even be verified);
 *   3. verify SigV4 over the body as received (spec/sigv4.md §10): the
 *      served signing names, the configured regions and users;
 *   4. check that the credential scope's service is the one the request
 *      addresses (a Logs target signed for "monitoring" is a client
 *      misconfiguration worth a precise message);
 *   5. inflate a gzip body (after verification: the signature covers the
 *      compressed bytes), bounded against zip bombs;
 *   6. decode the input with the protocol's decoder and find the operation;
 *   7. the exactly-once batch check, then the handler.
 * Every failure becomes the call's error and goes out through
 * tw_call_finish(), which knows each protocol's envelope.
 */
#include "collector.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "encode.h"
#include "log.h"
#include "protocol.h"
#include "sigv4_verify.h"

#define MAX_SERVICES 16
#define DEFAULT_MAX_BODY (8u << 20)
#define INFLATE_RATIO 10 /* an inflated body may be max_body * 10 */
#define MAX_BATCH_ID_LEN 256

/* What the request's shape says before anything is verified. */
typedef struct route {
    tw_protocol protocol;
    const tw_service *service; /* NULL for awsQuery: the credential scope decides */
    const char *operation;     /* not NUL-terminated; NULL for awsQuery (in the body) */
    size_t operation_len;
    const char *target;        /* what to name in messages: the X-Amz-Target or path */
    size_t target_len;
    /* A request whose shape is wrong; reported once it is authenticated. */
    const char *error_code;
    char error_message[300];
} route;

const tw_service *tw_collector_find_service(const tw_collector *collector, const char *name)
{
    const tw_service *const *s = collector->services != NULL ? collector->services
                                                             : tw_collector_services;
    for (; *s != NULL; s++)
        if (strcmp((*s)->signing_name, name) == 0)
            return *s;
    return NULL;
}

/* ---- small helpers ---------------------------------------------------- */

static bool span_equals(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

static bool span_contains_nocase(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, needle, n) == 0)
            return true;
    return false;
}

/* The last dot-separated part: services may be named with their namespace
 * ("com.amazonaws.cloudwatch.GraniteServiceVersion20100801"). */
static void last_part(const char *s, size_t len, const char **part, size_t *part_len)
{
    const char *dot = memrchr(s, '.', len);
    *part = dot != NULL ? dot + 1 : s;
    *part_len = len - (size_t)(*part - s);
}

static bool prefix_matches(const char *s, size_t len, const char *prefix)
{
    if (prefix == NULL)
        return false;
    if (span_equals(s, len, prefix))
        return true;
    const char *a, *b;
    size_t a_len, b_len;
    last_part(s, len, &a, &a_len);
    last_part(prefix, strlen(prefix), &b, &b_len);
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static const tw_service *service_by_target_prefix(const tw_collector *c, const char *s, size_t len)
{
    for (const tw_service *const *svc = c->services; svc != NULL && *svc != NULL; svc++)
        if (prefix_matches(s, len, (*svc)->json_target_prefix))
            return *svc;
    return NULL;
}

static const tw_operation *find_operation(const tw_service *service, const char *name,
                                          size_t len)
{
    for (size_t i = 0; i < service->n_operations; i++)
        if (span_equals(name, len, service->operations[i].name))
            return &service->operations[i];
    return NULL;
}

/* Whether a form (query string or body) has the item name=... */
static bool form_has_item(const char *form, size_t len, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(form + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - form) : len;
        if (end - i > n && memcmp(form + i, name, n) == 0 && form[i + n] == '=')
            return true;
        i = end + 1;
    }
    return false;
}

static void route_fail(route *r, const char *code, const char *fmt, ...) TW_PRINTF(3, 4);
static void route_fail(route *r, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error_message, sizeof r->error_message, fmt, ap);
    va_end(ap);
    r->error_code = code;
}

/* ---- 1. the protocol ----------------------------------------------------- */

/* Smithy RPC v2 CBOR: only the last four segments route,
 * {prefix}/service/{Service}/operation/{Operation}. */
static void route_cbor(const tw_collector *c, const tw_http_request *req, route *r)
{
    const char *seg[4];
    size_t seg_len[4];
    const char *end = req->path + req->path_len;
    int found = 0;
    while (found < 4) {
        const char *slash = memrchr(req->path, '/', (size_t)(end - req->path));
        if (slash == NULL)
            break;
        seg[3 - found] = slash + 1;
        seg_len[3 - found] = (size_t)(end - slash - 1);
        found++;
        end = slash;
    }
    r->target = req->path;
    r->target_len = req->path_len;
    if (found < 4 || !span_equals(seg[0], seg_len[0], "service")
        || !span_equals(seg[2], seg_len[2], "operation") || seg_len[3] == 0) {
        route_fail(r, "UnknownOperationException",
                   "An rpc-v2-cbor request must be sent to /service/<Service>/operation/"
                   "<Operation>, not %.*s.",
                   (int)(req->path_len > 200 ? 200 : req->path_len), req->path);
        return;
    }
    r->service = service_by_target_prefix(c, seg[1], seg_len[1]);
    r->operation = seg[3];
    r->operation_len = seg_len[3];
    if (r->service == NULL)
        route_fail(r, "UnknownOperationException", "No service named %.*s is served here.",
                   (int)(seg_len[1] > 200 ? 200 : seg_len[1]), seg[1]);
}

static void route_json(const tw_collector *c, const char *target, size_t len, route *r)
{
    r->target = target;
    r->target_len = len;
    const char *dot = memrchr(target, '.', len);
    if (dot == NULL || dot == target || dot + 1 == target + len) {
        route_fail(r, "UnknownOperationException",
                   "X-Amz-Target must be <Service>.<Operation>, not %.*s.",
                   (int)(len > 200 ? 200 : len), target);
        return;
    }
    r->service = service_by_target_prefix(c, target, (size_t)(dot - target));
    r->operation = dot + 1;
    r->operation_len = len - (size_t)(dot + 1 - target);
    if (r->service == NULL)
        route_fail(r, "UnknownOperationException", "No service answers X-Amz-Target %.*s here.",
                   (int)(len > 200 ? 200 : len), target);
}

/* REST-JSON (cloudtrail-data): POST /<Operation>, served by a service that
 * has neither a JSON target prefix nor a query namespace. */
static bool route_rest(const tw_collector *c, const tw_http_request *req, route *r)
{
    if (!span_equals(req->method, req->method_len, "POST") || req->path_len < 2
        || memchr(req->path + 1, '/', req->path_len - 1) != NULL)
        return false;
    for (const tw_service *const *s = c->services; s != NULL && *s != NULL; s++) {
        if ((*s)->json_target_prefix != NULL || (*s)->xml_namespace != NULL)
            continue;
        if (find_operation(*s, req->path + 1, req->path_len - 1) != NULL) {
            r->protocol = TW_PROTOCOL_REST_JSON;
            r->service = *s;
            r->operation = req->path + 1;
            r->operation_len = req->path_len - 1;
            r->target = req->path;
            r->target_len = req->path_len;
            return true;
        }
    }
    return false;
}

static void detect_protocol(const tw_collector *c, const tw_http_request *req, route *r)
{
    size_t target_len = 0, type_len = 0, smithy_len = 0;
    const char *target = tw_http_header(req, "x-amz-target", &target_len);
    const char *type = tw_http_header(req, "content-type", &type_len);
    const char *smithy = tw_http_header(req, "smithy-protocol", &smithy_len);
    memset(r, 0, sizeof *r);
    r->protocol = TW_PROTOCOL_JSON_1_1;
    if (smithy != NULL && span_contains_nocase(smithy, smithy_len, "rpc-v2-cbor")) {
        r->protocol = TW_PROTOCOL_CBOR;
        route_cbor(c, req, r);
        /* Smithy rpcv2Cbor: servers must reject a request carrying both. */
        if (r->error_code == NULL && target != NULL)
            route_fail(r, "SerializationException",
                       "An rpc-v2-cbor request must not carry X-Amz-Target.");
        return;
    }
    if (target != NULL) {
        if (type != NULL && span_contains_nocase(type, type_len, "application/x-amz-json-1.0"))
            r->protocol = TW_PROTOCOL_JSON_1_0;
        route_json(c, target, target_len, r);
        return;
    }
    if (route_rest(c, req, r))
        return;
    bool form = type != NULL
                && span_contains_nocase(type, type_len, "application/x-www-form-urlencoded");
    if (form || form_has_item(req->query, req->query_len, "Action")
        || form_has_item(req->query, req->query_len, "Operation")) {
        r->protocol = TW_PROTOCOL_QUERY;
        return;
    }
    route_fail(r, "UnknownOperationException",
               "The request names no operation: send X-Amz-Target (AWS JSON), Action= "
               "(awsQuery), Smithy-Protocol: rpc-v2-cbor, or POST /PutAuditEvents.");
}

/* ---- 2. size ---------------------------------------------------------------- */

static uint64_t max_body(const tw_collector *c)
{
    return c->config->max_body_bytes > 0 ? c->config->max_body_bytes : DEFAULT_MAX_BODY;
}

/* CloudWatch answers RequestEntityTooLarge (413, "Request size N exceeded M
 * bytes"); JSON clients get the same status and code with Exception. */
static void fail_too_large(tw_call *call, const char *fmt, ...) TW_PRINTF(2, 3);
static void fail_too_large(tw_call *call, const char *fmt, ...)
{
    char message[TW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    tw_call_fail_query(call, "RequestEntityTooLargeException", "RequestEntityTooLarge", 413,
                       "%s", message);
}

/* A body we cannot read: JSON-family clients know SerializationException;
 * awsQuery's own word for a malformed request is InvalidQueryParameter. */
static void fail_body(tw_call *call, const char *fmt, ...) TW_PRINTF(2, 3);
static void fail_body(tw_call *call, const char *fmt, ...)
{
    char message[TW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (call->protocol == TW_PROTOCOL_QUERY)
        tw_call_fail(call, "InvalidQueryParameter", 400, "%s", message);
    else
        tw_call_fail(call, "SerializationException", 400, "%s", message);
}

/* ---- 3. and 4. authentication ------------------------------------------------ */

static tw_sigv4_key_status lookup_secret(void *ctx, const char *access_key_id,
                                         const char *session_token, tw_buf *secret)
{
    (void)session_token; /* users are long-term keys; a token adds nothing to check */
    const tw_collector *c = ctx;
    const tw_collector_user *user = tw_collector_find_user(c->config, access_key_id);
    if (user == NULL)
        return TW_SIGV4_KEY_UNKNOWN;
    tw_buf_puts(secret, user->secret_access_key);
    return TW_SIGV4_KEY_FOUND;
}

static void fail_auth(tw_call *call, tw_sigv4_outcome outcome, const char *fmt, ...)
    TW_PRINTF(3, 4);
static void fail_auth(tw_call *call, tw_sigv4_outcome outcome, const char *fmt, ...)
{
    tw_sigv4_error json = tw_sigv4_outcome_error(outcome, TW_SIGV4_PROTO_JSON);
    tw_sigv4_error query = tw_sigv4_outcome_error(outcome, TW_SIGV4_PROTO_QUERY);
    tw_sigv4_error s3 = tw_sigv4_outcome_error(outcome, TW_SIGV4_PROTO_S3);
    const char *code = json.code, *query_code = query.code;
    int status = json.http_status;
    if (call->protocol == TW_PROTOCOL_QUERY) {
        status = query.http_status;
    } else if (call->protocol == TW_PROTOCOL_S3) {
        code = query_code = s3.code;
        status = s3.http_status;
    }
    char message[TW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    tw_call_fail_query(call, code, query_code, status, "%s", message);
    call->collector->auth_failures++;
}

/* Verifies the signature; on success sets the call's identity and region,
 * and *signed_for to the served service the credential scope names. */
static bool authenticate(tw_collector *c, tw_http_request *req, tw_call *call,
                         const tw_service **signed_for)
{
    const char *services[MAX_SERVICES + 1];
    size_t n = 0;
    for (const tw_service *const *s = c->services; s != NULL && *s != NULL && n < MAX_SERVICES;
         s++)
        services[n++] = (*s)->signing_name;
    services[n] = NULL;
    tw_sigv4_verify_config cfg = {
        .services = services,
        .regions = c->config->regions,
        .lookup = lookup_secret,
        .lookup_ctx = c,
        .debug = c->config->debug_signatures,
        .cache = c->key_cache,
    };
    tw_sigv4_request sreq = {
        .method = req->method, .method_len = req->method_len,
        .path = req->path, .path_len = req->path_len,
        .query = req->query, .query_len = req->query_len,
        .headers = req->headers, .header_count = req->header_count,
        .body = req->body, .body_len = req->body_len,
        .s3 = call->protocol == TW_PROTOCOL_S3,
    };
    tw_sigv4_verify_result res;
    tw_sigv4_outcome outcome = tw_sigv4_verify(&cfg, &sreq, call->now_ms, &res);
    if (outcome != TW_SIGV4_OK) {
        if (res.access_key_id != NULL)
            call->identity.access_key_id = tw_call_keep(call, res.access_key_id,
                                                        strlen(res.access_key_id));
        fail_auth(call, outcome, "%s",
                  res.message.len > 0 ? tw_buf_cstr(&res.message)
                                      : "The request could not be authenticated.");
        tw_sigv4_verify_result_free(&res);
        return false;
    }
    const tw_collector_user *user = tw_collector_find_user(c->config, res.access_key_id);
    if (user == NULL) { /* the lookup just found it; only a bug gets here */
        fail_auth(call, TW_SIGV4_UNKNOWN_KEY, "The security token included in the request is "
                                              "invalid.");
        tw_sigv4_verify_result_free(&res);
        return false;
    }
    tw_call_set_identity(call, user, res.access_key_id, res.session_token,
                         c->config->account_id);
    call->region = tw_call_keep(call, res.region, strlen(res.region));
    *signed_for = tw_collector_find_service(c, res.service);
    tw_sigv4_verify_result_free(&res);
    return true;
}

/* The service the request addresses must be the one it was signed for. */
static bool check_scope_service(tw_call *call, const route *r, const tw_service *signed_for)
{
    const char *signed_name = signed_for != NULL ? signed_for->signing_name : "?";
    if (call->protocol == TW_PROTOCOL_QUERY) {
        if (signed_for != NULL && signed_for->xml_namespace != NULL) {
            call->service = signed_for;
            return true;
        }
        const char *query_service = "monitoring";
        for (const tw_service *const *s = call->collector->services; s && *s; s++)
            if ((*s)->xml_namespace != NULL) {
                query_service = (*s)->signing_name;
                break;
            }
        fail_auth(call, TW_SIGV4_SCOPE_ERROR,
                  "Credential should be scoped to correct service: '%s'. This awsQuery "
                  "request was signed for '%s'.",
                  query_service, signed_name);
        return false;
    }
    call->service = r->service;
    if (signed_for == r->service)
        return true;
    fail_auth(call, TW_SIGV4_SCOPE_ERROR,
              "Credential should be scoped to correct service: '%s'. This request (%.*s) was "
              "signed for '%s': sign it with the service name '%s'.",
              r->service->signing_name, (int)(r->target_len > 200 ? 200 : r->target_len),
              r->target, signed_name, r->service->signing_name);
    return false;
}

/* ---- 5. gzip ------------------------------------------------------------------- */

/* Inflates body into out (gzip, windowBits 15+16, concatenated members
 * allowed as gzip(1) writes them). Returns 0, or fails the call. */
static int inflate_body(tw_call *call, const uint8_t *body, size_t len, uint64_t limit,
                        tw_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        tw_call_fail(call, "InternalFailure", 500, "zlib could not be initialised.");
        return -ENOMEM;
    }
    zs.next_in = (Bytef *)body;
    zs.avail_in = (uInt)len;
    int rc = Z_OK;
    for (;;) {
        if (out->len >= limit) {
            fail_too_large(call,
                           "The request body (Content-Encoding: gzip) inflates to more than "
                           "%llu bytes.",
                           (unsigned long long)limit);
            rc = Z_MEM_ERROR;
            break;
        }
        size_t room = limit - out->len < 65536 ? (size_t)(limit - out->len) : 65536;
        tw_buf_reserve(out, room);
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)room;
        rc = inflate(&zs, Z_NO_FLUSH);
        out->len += room - zs.avail_out;
        out->data[out->len] = '\0';
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            inflateReset(&zs); /* another gzip member follows */
            continue;
        }
        if (rc == Z_OK)
            continue;
        /* Z_BUF_ERROR with all input used: the stream stops mid-way. */
        if (rc == Z_BUF_ERROR && zs.avail_in == 0)
            fail_body(call, "The gzip request body is truncated (Content-Encoding: gzip).");
        else
            fail_body(call,
                      "The request body is not valid gzip data (Content-Encoding: gzip): %s.",
                      zs.msg != NULL ? zs.msg : "corrupt stream");
        break;
    }
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -EINVAL;
}

/* The body to decode: as received, or inflated into scratch. */
static int body_to_decode(tw_call *call, const tw_http_request *req, tw_buf *scratch,
                          const uint8_t **body, size_t *len)
{
    size_t enc_len = 0;
    const char *enc = tw_http_header(req, "content-encoding", &enc_len);
    while (enc != NULL && enc_len > 0 && (enc[enc_len - 1] == ' ' || enc[enc_len - 1] == '\t'))
        enc_len--;
    while (enc != NULL && enc_len > 0 && (enc[0] == ' ' || enc[0] == '\t'))
        enc++, enc_len--;
    *body = req->body;
    *len = req->body_len;
    if (enc == NULL || enc_len == 0 || (enc_len == 8 && strncasecmp(enc, "identity", 8) == 0))
        return 0;
    if (!((enc_len == 4 && strncasecmp(enc, "gzip", 4) == 0)
          || (enc_len == 6 && strncasecmp(enc, "x-gzip", 6) == 0))) {
        fail_body(call, "Content-Encoding %.*s is not supported: send gzip or no encoding.",
                  (int)(enc_len > 60 ? 60 : enc_len), enc);
        return -EINVAL;
    }
    if (req->body_len == 0)
        return 0;
    int rc = inflate_body(call, req->body, req->body_len, max_body(call->collector) * INFLATE_RATIO,
                          scratch);
    *body = (const uint8_t *)scratch->data;
    *len = scratch->len;
    return rc;
}

/* ---- 6. input and operation ---------------------------------------------------- */

static bool fail_unknown_operation(tw_call *call, const char *name, size_t len,
                                   const char *version)
{
    int shown = (int)(len > 100 ? 100 : len);
    if (call->protocol == TW_PROTOCOL_QUERY)
        tw_call_fail_query(call, "UnknownOperationException", "InvalidAction", 400,
                           "Could not find operation %.*s for version %s.", shown, name,
                           version != NULL ? version : "2010-08-01");
    else
        tw_call_fail_query(call, "UnknownOperationException", "InvalidAction", 400,
                           "The operation %.*s is not known to %s.", shown, name,
                           call->service->json_target_prefix != NULL
                               ? call->service->json_target_prefix
                               : call->service->signing_name);
    return false;
}

/* One query item "key=value" as an input member (a later item with the same
 * key wins). Fails the call on a bad escape or a value that is not UTF-8. */
static bool add_query_item(tw_call *call, const char *item, size_t len)
{
    const char *eq = memchr(item, '=', len);
    size_t key_len = eq != NULL ? (size_t)(eq - item) : len;
    /* Presigned requests carry their signature here: not a member. */
    if (key_len == 0 || (key_len >= 6 && strncasecmp(item, "X-Amz-", 6) == 0))
        return true;
    tw_buf key = TW_BUF_INIT, value = TW_BUF_INIT;
    tw_err err;
    int rc = tw_uri_decode(item, key_len, TW_URI_PLUS_LITERAL, &key, &err);
    if (rc == 0 && eq != NULL)
        rc = tw_uri_decode(eq + 1, len - key_len - 1, TW_URI_PLUS_LITERAL, &value, &err);
    json_t *str = rc == 0 ? json_stringn(tw_buf_cstr(&value), value.len) : NULL;
    if (rc == 0 && str == NULL)
        tw_err_set(&err, -EINVAL, "the value of %.*s is not UTF-8.",
                   (int)(key_len > 60 ? 60 : key_len), item);
    if (str != NULL && strlen(tw_buf_cstr(&key)) != key.len) {
        json_decref(str);
        str = NULL;
        tw_err_set(&err, -EINVAL, "a parameter name holds a NUL byte.");
    } else if (str != NULL && json_object_set_new(call->input, tw_buf_cstr(&key), str) < 0) {
        str = NULL; /* json_object_set_new frees the value when it fails */
        tw_err_set(&err, -EINVAL, "a parameter name is not UTF-8.");
    }
    tw_buf_free(&key);
    tw_buf_free(&value);
    if (str == NULL) {
        fail_body(call, "The query string is not valid: %s", err.msg);
        return false;
    }
    return true;
}

/* REST-JSON members bound to the query string (PutAuditEvents channelArn,
 * externalId) join the body's members. */
static bool add_query_members(tw_call *call, const char *query, size_t len)
{
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - query) : len;
        if (!add_query_item(call, query + i, end - i))
            return false;
        i = end + 1;
    }
    return true;
}

static bool decode_query(tw_call *call, const tw_http_request *req, const uint8_t *body,
                         size_t len)
{
    /* CloudWatch takes parameters from the URL and the form body alike. */
    tw_buf form = TW_BUF_INIT;
    tw_buf_append(&form, req->query, req->query_len);
    if (len > 0) {
        if (form.len > 0)
            tw_buf_putc(&form, '&');
        tw_buf_append(&form, body, len);
    }
    if (!form_has_item(form.data, form.len, "Action")
        && !form_has_item(form.data, form.len, "Operation")) {
        tw_buf_free(&form);
        tw_call_fail_query(call, "MissingAction", "MissingAction", 400,
                           "The request must contain the parameter Action.");
        return false;
    }
    json_t *input = NULL;
    char *action = NULL, *version = NULL;
    tw_err err;
    int rc = tw_query_decode(tw_buf_cstr(&form), form.len, &input, &action, &version, &err);
    tw_buf_free(&form);
    if (rc < 0) {
        fail_body(call, "%s", err.msg);
        return false;
    }
    json_decref(call->input);
    call->input = input;
    const tw_operation *op = find_operation(call->service, action, strlen(action));
    bool found = op != NULL || fail_unknown_operation(call, action, strlen(action), version);
    call->operation = op;
    free(action);
    free(version);
    return found;
}

static bool decode_input(tw_call *call, const route *r, const tw_http_request *req,
                         const uint8_t *body, size_t len)
{
    if (call->protocol == TW_PROTOCOL_QUERY)
        return decode_query(call, req, body, len);
    call->operation = find_operation(call->service, r->operation, r->operation_len);
    if (call->operation == NULL)
        return fail_unknown_operation(call, r->operation, r->operation_len, NULL);
    json_t *input = NULL;
    tw_err err;
    int rc;
    if (call->protocol == TW_PROTOCOL_CBOR && len == 0) /* inputless: no body at all */
        rc = (input = json_object()) != NULL ? 0 : -ENOMEM;
    else if (call->protocol == TW_PROTOCOL_CBOR)
        rc = tw_cbor_decode(body, len, &input, &err);
    else
        rc = tw_json_decode(body, len, &input, &err);
    if (rc < 0) {
        fail_body(call, "%s", err.msg);
        return false;
    }
    json_decref(call->input);
    call->input = input;
    if (call->protocol == TW_PROTOCOL_REST_JSON)
        return add_query_members(call, req->query, req->query_len);
    return true;
}

/* ---- 7. batch id and handler ------------------------------------------------- */

static bool read_batch_id(tw_call *call, const tw_http_request *req)
{
    size_t len = 0;
    const char *id = tw_http_header(req, "x-trailwatch-batch-id", &len);
    if (id == NULL)
        return true;
    bool valid = len > 0 && len <= MAX_BATCH_ID_LEN;
    for (size_t i = 0; valid && i < len; i++)
        valid = id[i] > ' ' && id[i] < 0x7f;
    if (!valid) {
        const tw_service *s = call->service;
        tw_call_fail_query(call, s->invalid_parameter_code != NULL ? s->invalid_parameter_code
                                                                   : "ValidationException",
                           s->invalid_parameter_query_code, 400,
                           "X-Trailwatch-Batch-Id must be 1 to %d printable ASCII characters "
                           "without blanks.",
                           MAX_BATCH_ID_LEN);
        return false;
    }
    call->batch_id = tw_call_keep(call, id, len);
    return true;
}

static void run_handler(tw_call *call)
{
    if (call->operation->handler == NULL) {
        tw_call_fail(call, "InternalFailure", 500, "%s has no handler.", call->operation->name);
        tw_call_finish(call);
        return;
    }
    call->operation->handler(call);
}

static bool prepare_call(tw_collector *c, tw_http_request *req, tw_call *call, const route *r)
{
    if (req->body_too_large) {
        size_t len = 0;
        const char *declared = tw_http_header(req, "content-length", &len);
        if (declared != NULL && len > 0 && len <= 20)
            fail_too_large(call, "Request size %.*s exceeded %llu bytes.", (int)len, declared,
                           (unsigned long long)max_body(c));
        else
            fail_too_large(call, "The request body exceeded %llu bytes.",
                           (unsigned long long)max_body(c));
        return false;
    }
    const tw_service *signed_for = NULL;
    if (!authenticate(c, req, call, &signed_for))
        return false;
    if (r->error_code != NULL) {
        tw_call_fail_query(call, r->error_code,
                           strcmp(r->error_code, "UnknownOperationException") == 0
                               ? "InvalidAction"
                               : NULL,
                           400, "%s", r->error_message);
        return false;
    }
    if (!check_scope_service(call, r, signed_for))
        return false;
    tw_buf scratch = TW_BUF_INIT;
    const uint8_t *body;
    size_t len;
    bool ok = body_to_decode(call, req, &scratch, &body, &len) == 0
              && decode_input(call, r, req, body, len) && read_batch_id(call, req);
    tw_buf_free(&scratch);
    return ok;
}

void tw_collector_handle_request(void *ctx, tw_http_request *req)
{
    tw_collector *c = ctx;
    route r;
    detect_protocol(c, req, &r);
    tw_call *call = tw_call_new(c, req, r.protocol);
    call->service = r.service;
    if (!prepare_call(c, req, call, &r)) {
        tw_call_finish(call);
        return;
    }
    tw_call_check_batch(call, run_handler);
}
