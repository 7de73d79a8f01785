/* fuzz_logs_tokens.c — libFuzzer target for what CloudWatch Logs reads out
 * of opaque strings a client sends back (collector/logs/logs_rules.h,
 * logs_call.h): the nextToken of GetLogEvents ('f'/'b'), FilterLogEvents
 * ('n'), DescribeLogStreams ('t' by LastEventTime, 's' by name) and
 * DescribeLogGroups ('g'), and the log group ARN / identifier of
 * logGroupIdentifier and resourceArn.
 *
 * The whole input is the string. It goes through the decoders directly (on a
 * heap copy of exactly its length, so an over-read trips ASan) and through
 * the handlers' readers (tw_logs_read_token, tw_logs_read_group_or_identifier,
 * tw_logs_read_resource_arn) as the member of a call's input. Checked, beyond
 * "no crash, no leak, no sanitizer report":
 *   - a position token that decodes re-encodes to exactly the input, with a
 *     kind from the allowed ones and a position >= 0;
 *   - a name token that decodes re-encodes to the input (hex case aside),
 *     and a failed decode leaves the output empty;
 *   - an identifier that parses yields a name inside the input: the input
 *     itself, or the ARN's name field (no ':'), the ARN ending with it or
 *     with it and ":*";
 *   - the readers agree with the decoders: 0 with the decoded kind and name,
 *     or -EINVAL with an error on the call (status 400, a message);
 *   - encode then decode gives back positions and names made from the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logs_call.h"
#include "services.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The kinds each operation accepts (as logs_service.c / logs_events.c ask). */
static const struct {
    const char *kinds;
    char name_kind;
} readers[] = {
    {"fb", 0},   /* GetLogEvents */
    {"n", 0},    /* FilterLogEvents */
    {"t", 's'},  /* DescribeLogStreams */
    {NULL, 'g'}, /* DescribeLogGroups */
};

static void check_position_token(const char *text, size_t len, const char *kinds)
{
    char kind = 0;
    tw_logs_position p = {-1, -1};
    if (tw_logs_token_decode(text, len, kinds, &kind, &p) != 0)
        return;
    if (kind == '\0' || strchr(kinds, kind) == NULL || p.timestamp < 0 || p.id < 0)
        abort();
    char again[TW_LOGS_TOKEN_SIZE];
    tw_logs_token_encode(kind, p, again);
    if (strlen(again) != len || memcmp(again, text, len) != 0)
        abort();
}

static void check_name_token(const char *text, size_t len, char kind)
{
    tw_buf name = TW_BUF_INIT, again = TW_BUF_INIT;
    tw_buf_puts(&name, "left over");
    if (tw_logs_name_token_decode(text, len, kind, &name) != 0) {
        if (name.len != 0)
            abort();
    } else {
        if (strlen(tw_buf_cstr(&name)) != name.len)
            abort();
        tw_logs_name_token_encode(kind, tw_buf_cstr(&name), &again);
        if (again.len != len || memcmp(again.data, text, 2) != 0
            || strncasecmp(again.data + 2, text + 2, len - 2) != 0)
            abort();
    }
    tw_buf_free(&name);
    tw_buf_free(&again);
}

static void check_identifier(const char *text, size_t len)
{
    const char *name = NULL;
    size_t name_len = 0;
    if (tw_logs_group_identifier_name(text, len, &name, &name_len) != 0)
        return;
    if (name < text || name_len > len || name + name_len > text + len)
        abort();
    if (len < 4 || memcmp(text, "arn:", 4) != 0) {
        if (name != text || name_len != len)
            abort();
        return;
    }
    const char *end = name + name_len;
    if (name_len == 0 || memchr(name, ':', name_len) != NULL
        || !(end == text + len || (end + 2 == text + len && memcmp(end, ":*", 2) == 0)))
        abort();
}

/* Encode → decode on values made from the input. */
static void check_round_trips(const uint8_t *data, size_t size)
{
    int64_t v[2] = {0, 0};
    memcpy(v, data, size < sizeof v ? size : sizeof v);
    tw_logs_position p = {v[0] < 0 ? -(v[0] + 1) : v[0], v[1] < 0 ? -(v[1] + 1) : v[1]};
    char token[TW_LOGS_TOKEN_SIZE], kind;
    tw_logs_position back;
    tw_logs_token_encode('n', p, token);
    if (tw_logs_token_decode(token, strlen(token), "n", &kind, &back) != 0 || kind != 'n'
        || tw_logs_position_compare(p, back) != 0)
        abort();

    size_t name_len = strnlen((const char *)data, size);
    char *name = strndup((const char *)data, name_len);
    tw_buf encoded = TW_BUF_INIT, decoded = TW_BUF_INIT, arn = TW_BUF_INIT;
    tw_logs_name_token_encode('g', name, &encoded);
    if (tw_logs_name_token_decode(encoded.data, encoded.len, 'g', &decoded) != 0
        || decoded.len != name_len || memcmp(tw_buf_cstr(&decoded), name, name_len) != 0)
        abort();
    if (name_len > 0 && memchr(name, ':', name_len) == NULL) {
        for (int star = 0; star < 2; star++) {
            const char *got;
            size_t got_len;
            tw_buf_reset(&arn);
            tw_logs_group_arn(&arn, "us-east-1", "123456789012", name, star);
            if (tw_logs_group_identifier_name(arn.data, arn.len, &got, &got_len) != 0
                || got_len != name_len || memcmp(got, name, name_len) != 0)
                abort();
        }
    }
    free(name);
    tw_buf_free(&encoded);
    tw_buf_free(&decoded);
    tw_buf_free(&arn);
}

/* ---- through the handlers' readers ---- */

static void call_init(tw_call *call, const char *member, const char *text, size_t len)
{
    memset(call, 0, sizeof *call);
    call->service = &tw_logs_service;
    call->region = "us-east-1";
    call->identity.account_id = "123456789012";
    call->input = json_object();
    /* Not checked for UTF-8: the CBOR decoder hands over text strings too. */
    json_object_set_new(call->input, member, json_stringn_nocheck(text, len));
}

static void call_free(tw_call *call)
{
    tw_logs_request *r = call->state;
    tw_buf_free(&r->group_buf);
    tw_buf_free(&r->token_name);
    free(r);
    json_decref(call->input);
    tw_buf_free(&call->error.message);
}

/* -EINVAL leaves an error on the call; 0 leaves none. */
static void check_outcome(const tw_call *call, int rc)
{
    if (rc == -EINVAL) {
        if (call->error.code == NULL || call->error.status != 400 || call->error.message.len == 0)
            abort();
    } else if (rc != 0 || call->error.code != NULL) {
        abort();
    }
}

static void read_token(const char *text, size_t len, const char *kinds, char name_kind)
{
    tw_call call;
    call_init(&call, "nextToken", text, len);
    tw_logs_request *r = tw_logs_request_start(&call);
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_token(&call, r, &v, kinds, name_kind);
    check_outcome(&call, rc);
    bool has_nul = memchr(text, '\0', len) != NULL;
    tw_buf name = TW_BUF_INIT;
    char kind = 0;
    tw_logs_position p = {0, 0};
    bool name_ok = name_kind && tw_logs_name_token_decode(text, len, name_kind, &name) == 0;
    bool position_ok = kinds && tw_logs_token_decode(text, len, kinds, &kind, &p) == 0;
    if (len == 0) {
        if (rc != 0 || r->has_token || v.count != 1)
            abort();
    } else if (has_nul || !(name_ok || position_ok)) {
        if (rc != -EINVAL)
            abort();
    } else if (rc != 0 || !r->has_token) {
        abort();
    } else if (name_ok) {
        if (r->token_kind != name_kind || r->token_name.len != name.len
            || memcmp(tw_buf_cstr(&r->token_name), tw_buf_cstr(&name), name.len) != 0)
            abort();
    } else if (r->token_kind != kind || tw_logs_position_compare(r->token, p) != 0) {
        abort();
    }
    tw_buf_free(&name);
    tw_logs_violations_free(&v);
    call_free(&call);
}

static void read_group(const char *text, size_t len, const char *member)
{
    tw_call call;
    call_init(&call, member, text, len);
    tw_logs_request *r = tw_logs_request_start(&call);
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    bool arn_member = strcmp(member, "resourceArn") == 0;
    int rc = arn_member ? tw_logs_read_resource_arn(&call, r, &v)
                        : tw_logs_read_group_or_identifier(&call, r, &v);
    check_outcome(&call, rc);
    const char *name = NULL;
    size_t name_len = 0;
    bool is_arn = len >= 4 && memcmp(text, "arn:", 4) == 0;
    bool parsed = memchr(text, '\0', len) == NULL
                  && tw_logs_group_identifier_name(text, len, &name, &name_len) == 0
                  && (!arn_member || is_arn);
    if (parsed != (rc == 0))
        abort();
    if (rc == 0 && (r->group == NULL || strlen(r->group) != name_len
                    || memcmp(r->group, name, name_len) != 0))
        abort();
    /* The name's own rules are violations, answered together later. */
    tw_logs_violations_free(&v);
    call_free(&call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: the decoders read len bytes, never a NUL after. */
    char *text = malloc(size > 0 ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    static const char *const kind_sets[] = {"fb", "f", "b", "n", "t", "fbnt"};
    for (size_t i = 0; i < sizeof kind_sets / sizeof kind_sets[0]; i++)
        check_position_token(text, size, kind_sets[i]);
    check_name_token(text, size, 'g');
    check_name_token(text, size, 's');
    check_identifier(text, size);
    free(text);
    check_round_trips(data, size);

    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        read_token((const char *)data, size, readers[i].kinds, readers[i].name_kind);
    read_group((const char *)data, size, "logGroupIdentifier");
    read_group((const char *)data, size, "resourceArn");
    return 0;
}
