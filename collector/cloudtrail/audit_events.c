/* audit_events.c — PutAuditEvents' rules (audit_events.h, spec §6): the
 * request, the audit-event schema of eventData, and the stored record.
 *
 * Request-level problems fail the whole call (REST-JSON error with
 * x-amzn-ErrorType); problems of one event only put that event in "failed"
 * with the schema's error codes, the others are still ingested.
 */
#include "audit_events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "hash.h"
#include "mem.h"
#include "timefmt.h"

#define VALIDATION "ValidationException"
#define SHOWN_MAX 80

/* ---- request-level errors ---------------------------------------------------- */

/* The Coral sentence AWS answers for a model constraint. */
static int fail_constraint(tw_call *call, const char *value, const char *member,
                           const char *constraint)
{
    char shown[SHOWN_MAX + 4];
    size_t n = 0;
    for (const char *p = value; p != NULL && *p != '\0' && n < SHOWN_MAX; p++)
        shown[n++] = (unsigned char)*p < 0x20 ? '?' : *p;
    strcpy(shown + n, value != NULL && strlen(value) > SHOWN_MAX ? "..." : "");
    if (value == NULL)
        return tw_call_fail(call, VALIDATION, 400,
                            "1 validation error detected: Value null at '%s' failed to satisfy "
                            "constraint: Member must not be null",
                            member);
    return tw_call_fail(call, VALIDATION, 400,
                        "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                        "constraint: Member must %s",
                        shown, member, constraint);
}

static size_t utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static bool only_chars(const char *s, const char *allowed_punctuation)
{
    for (; *s != '\0'; s++) {
        char c = *s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && strchr(allowed_punctuation, c) == NULL)
            return false;
    }
    return true;
}

/* ---- the channel ------------------------------------------------------------ */

static bool valid_channel_id(const char *id, size_t len)
{
    if (len < 1 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static int fail_arn(tw_call *call, const char *arn, const char *why)
{
    char shown[TW_QUOTE_SIZE];
    return tw_call_fail(call, "InvalidChannelARN", 400,
                        "The specified channel ARN is not a valid channel ARN: %s (%s).",
                        tw_quote(arn, strlen(arn), shown), why);
}

/* arn:aws:cloudtrail:{region}:{account}:channel/{id}, or the id alone (the
 * model: "The ARN or ID (the ARN suffix) of a channel"). */
static int parse_channel(tw_call *call, const char *arn, tw_audit_request *req)
{
    const char *account = call->identity.account_id != NULL ? call->identity.account_id : "";
    const char *region = call->region != NULL ? call->region : "";
    if (strncmp(arn, "arn:", 4) != 0) {
        if (!valid_channel_id(arn, strlen(arn)))
            return fail_arn(call, arn, "expected arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID "
                                       "or a channel ID");
        tw_buf full = TW_BUF_INIT;
        tw_buf_printf(&full, "arn:aws:cloudtrail:%s:%s:channel/%s", region, account, arn);
        req->channel_arn = tw_buf_steal(&full);
        return 0;
    }
    const char *part[6];
    size_t part_len[6];
    const char *p = arn;
    for (int i = 0; i < 6; i++) {
        const char *colon = i < 5 ? strchr(p, ':') : NULL;
        part[i] = p;
        part_len[i] = colon != NULL ? (size_t)(colon - p) : strlen(p);
        if (i < 5 && colon == NULL)
            return fail_arn(call, arn, "an ARN has six colon-separated parts");
        p = colon != NULL ? colon + 1 : p;
    }
    if (part_len[1] < 3 || strncmp(part[1], "aws", 3) != 0)
        return fail_arn(call, arn, "the partition must be aws");
    if (part_len[2] != 10 || strncmp(part[2], "cloudtrail", 10) != 0)
        return fail_arn(call, arn, "the service must be cloudtrail");
    if (part_len[3] == 0 || part_len[4] != 12 || strspn(part[4], "0123456789") < 12)
        return fail_arn(call, arn, "a region and a 12-digit account id are required");
    if (part_len[5] < 9 || strncmp(part[5], "channel/", 8) != 0
        || !valid_channel_id(part[5] + 8, part_len[5] - 8))
        return fail_arn(call, arn, "the resource must be channel/ID");
    if (strncmp(part[4], account, 12) != 0 || strlen(account) != 12)
        return tw_call_fail(call, "ChannelInsufficientPermission", 400,
                            "The caller's account ID (%s) must be the same as the channel "
                            "owner's account ID (%.12s).",
                            account, part[4]);
    if (strlen(region) != part_len[3] || strncmp(part[3], region, part_len[3]) != 0)
        return tw_call_fail(call, "ChannelNotFound", 400,
                            "The channel could not be found: %.128s is a channel of %.*s, and "
                            "this request was sent to %s.",
                            arn, (int)part_len[3], part[3], region);
    req->channel_arn = tw_strdup(arn);
    return 0;
}

static int parse_external_id(tw_call *call, tw_audit_request *req)
{
    const char *external = NULL;
    int rc = tw_input_string(call, call->input, "externalId", &external);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    size_t len = utf8_length(external, strlen(external));
    if (len < 2 || len > 1224)
        return fail_constraint(call, external, "externalId",
                               "have length between 2 and 1224");
    if (!only_chars(external, "_+=,.@:/-"))
        return fail_constraint(call, external, "externalId",
                               "satisfy regular expression pattern: ^[\\w+=,.@:\\/-]*$");
    req->external_id = external;
    return 0;
}

/* ---- auditEvents ---------------------------------------------------------- */

static int read_entry(tw_call *call, json_t *item, size_t index, tw_audit_event *event)
{
    char member[64];
    if (!json_is_object(item)) {
        snprintf(member, sizeof member, "auditEvents.%zu.member", index + 1);
        return fail_constraint(call, "...", member, "be an AuditEvent object");
    }
    json_t *id = json_object_get(item, "id");
    json_t *data = json_object_get(item, "eventData");
    json_t *checksum = json_object_get(item, "eventDataChecksum");
    snprintf(member, sizeof member, "auditEvents.%zu.member.id", index + 1);
    if (!json_is_string(id))
        return fail_constraint(call, NULL, member, "");
    const char *text = json_string_value(id);
    size_t len = json_string_length(id);
    if (len < 1 || len > TW_AUDIT_ID_MAX || strlen(text) != len)
        return fail_constraint(call, text, member, "have length between 1 and 128");
    if (!only_chars(text, "-_"))
        return fail_constraint(call, text, member,
                               "satisfy regular expression pattern: ^[-_A-Za-z0-9]+$");
    snprintf(member, sizeof member, "auditEvents.%zu.member.eventData", index + 1);
    if (!json_is_string(data))
        return fail_constraint(call, NULL, member, "");
    snprintf(member, sizeof member, "auditEvents.%zu.member.eventDataChecksum", index + 1);
    if (checksum != NULL && !json_is_string(checksum))
        return fail_constraint(call, "...", member, "be a string");
    event->id = text;
    event->data = json_string_value(data);
    event->data_len = json_string_length(data);
    event->checksum = json_string_value(checksum);
    return 0;
}

static int read_events(tw_call *call, tw_audit_request *req)
{
    json_t *list = NULL;
    int rc = tw_input_array(call, call->input, "auditEvents", &list);
    if (rc == -ENOENT)
        return fail_constraint(call, NULL, "auditEvents", "");
    if (rc < 0)
        return rc;
    size_t n = json_array_size(list);
    if (n < 1 || n > TW_AUDIT_MAX_EVENTS) {
        char shown[32];
        snprintf(shown, sizeof shown, "[%zu events]", n);
        return fail_constraint(call, shown, "auditEvents", "have length between 1 and 100");
    }
    req->events = tw_calloc(n, sizeof *req->events);
    req->n_events = n;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if ((rc = read_entry(call, json_array_get(list, i), i, &req->events[i])) < 0)
            return rc;
        total += req->events[i].data_len + strlen(req->events[i].id);
    }
    if (total > TW_AUDIT_MAX_REQUEST_BYTES)
        return tw_call_fail(call, VALIDATION, 400,
                            "The audit events of one PutAuditEvents request must not exceed 1 MB "
                            "(%d bytes); these have %zu.",
                            TW_AUDIT_MAX_REQUEST_BYTES, total);
    return 0;
}

/* Ids must be unique within a request (spec §6): O(n^2) over at most 100. */
static int check_unique_ids(tw_call *call, const tw_audit_request *req)
{
    for (size_t i = 0; i < req->n_events; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(req->events[i].id, req->events[j].id) == 0)
                return tw_call_fail(call, "DuplicatedAuditEventId", 400,
                                    "Two or more entries in the request have the same event "
                                    "ID: %s.",
                                    req->events[i].id);
    return 0;
}

int tw_audit_parse(tw_call *call, tw_audit_request *req)
{
    memset(req, 0, sizeof *req);
    const char *arn = NULL;
    int rc = tw_input_string(call, call->input, "channelArn", &arn);
    if (rc == -ENOENT)
        return fail_constraint(call, NULL, "channelArn", "");
    if (rc < 0 || (rc = parse_channel(call, arn, req)) < 0
        || (rc = parse_external_id(call, req)) < 0 || (rc = read_events(call, req)) < 0
        || (rc = check_unique_ids(call, req)) < 0)
        return rc;
    for (size_t i = 0; i < req->n_events; i++)
        tw_audit_check_event(&req->events[i], call->identity.account_id);
    return 0;
}

void tw_audit_request_free(tw_audit_request *req)
{
    for (size_t i = 0; i < req->n_events; i++)
        json_decref(req->events[i].parsed);
    free(req->events);
    free(req->channel_arn);
    memset(req, 0, sizeof *req);
}

/* ---- eventData ------------------------------------------------------------- */

static void event_fail(tw_audit_event *event, const char *code, const char *fmt, ...)
    TW_PRINTF(3, 4);
static void event_fail(tw_audit_event *event, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(event->error_message, sizeof event->error_message, fmt, ap);
    va_end(ap);
    event->error_code = code;
}

typedef enum field_kind { FIELD_STRING, FIELD_OBJECT } field_kind;

typedef struct field_rule {
    const char *name;
    field_kind kind;
    bool required;
    size_t max; /* characters for strings, bytes of compact JSON for objects */
} field_rule;

/* The audit-event schema (spec §6 table), in the order problems are told. */
static const field_rule event_fields[] = {
    {"version", FIELD_STRING, true, 256},
    {"userIdentity", FIELD_OBJECT, true, 0},
    {"userAgent", FIELD_STRING, false, 1024},
    {"eventSource", FIELD_STRING, true, 1024},
    {"eventName", FIELD_STRING, true, 1024},
    {"eventTime", FIELD_STRING, true, 64},
    {"UID", FIELD_STRING, true, 1024},
    {"requestParameters", FIELD_OBJECT, false, 100 * 1024},
    {"responseElements", FIELD_OBJECT, false, 100 * 1024},
    {"errorCode", FIELD_STRING, false, 256},
    {"errorMessage", FIELD_STRING, false, 256},
    {"sourceIPAddress", FIELD_STRING, false, 64},
    {"recipientAccountId", FIELD_STRING, true, 0}, /* compared below */
    {"additionalEventData", FIELD_OBJECT, false, 28 * 1024},
};

static const field_rule identity_fields[] = {
    {"type", FIELD_STRING, true, 128},
    {"principalId", FIELD_STRING, true, 1024},
    {"details", FIELD_OBJECT, false, 100 * 1024},
};

static size_t field_size(const field_rule *rule, const json_t *value)
{
    if (rule->kind == FIELD_STRING)
        return utf8_length(json_string_value(value), json_string_length(value));
    return json_dumpb(value, NULL, 0, JSON_COMPACT);
}

/* Checks an object against rules; prefix names the object in messages
 * ("" or "userIdentity."). Returns false after event_fail(). */
static bool check_fields(tw_audit_event *event, const json_t *object, const field_rule *rules,
                         size_t n_rules, const char *prefix)
{
    for (size_t i = 0; i < n_rules; i++) {
        const field_rule *rule = &rules[i];
        json_t *value = json_object_get(object, rule->name);
        if (value == NULL) {
            if (rule->required) {
                event_fail(event, "FieldNotFound", "The required field %s%s is missing.", prefix,
                           rule->name);
                return false;
            }
            continue;
        }
        bool typed = rule->kind == FIELD_STRING ? json_is_string(value) : json_is_object(value);
        if (!typed) {
            event_fail(event, "InvalidData", "The field %s%s must be %s.", prefix, rule->name,
                       rule->kind == FIELD_STRING ? "a string" : "a JSON object");
            return false;
        }
        if (rule->max > 0 && field_size(rule, value) > rule->max) {
            event_fail(event, "FieldTooLong", "The field %s%s is longer than %zu %s.", prefix,
                       rule->name, rule->max,
                       rule->kind == FIELD_STRING ? "characters" : "bytes");
            return false;
        }
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value) {
        bool known = false;
        for (size_t i = 0; i < n_rules && !known; i++)
            known = strcmp(rules[i].name, key) == 0;
        if (!known) {
            event_fail(event, "InvalidData", "The field %s%.100s is not part of the audit event "
                       "schema.", prefix, key);
            return false;
        }
    }
    return true;
}

/* yyyy-MM-ddTHH:mm:ss, optionally with a fraction, in UTC (a trailing Z
 * or nothing; AWS's examples use Z). */
static bool parse_event_time(const char *text, size_t len, int64_t *out_ms)
{
    char with_zone[48];
    if (len < 19 || len > 40 || text[10] != 'T')
        return false;
    size_t body = text[len - 1] == 'Z' ? len - 1 : len;
    if (body > 19 && text[19] != '.')
        return false; /* an offset, or junk */
    memcpy(with_zone, text, body);
    with_zone[body] = 'Z';
    int64_t ms;
    if (tw_time_parse_iso8601(with_zone, body + 1, &ms, NULL) != 0)
        return false;
    *out_ms = ms - ((ms % 1000) + 1000) % 1000;
    return true;
}

static bool valid_ip(const char *text)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

static bool nonblank(const json_t *value)
{
    return json_string_length(value) > 0;
}

/* The rules beyond field types and lengths. */
static bool check_values(tw_audit_event *event, const json_t *data, const char *account_id)
{
    const json_t *identity = json_object_get(data, "userIdentity");
    if (!check_fields(event, identity, identity_fields,
                      sizeof identity_fields / sizeof identity_fields[0], "userIdentity."))
        return false;
    json_t *time = json_object_get(data, "eventTime");
    if (!parse_event_time(json_string_value(time), json_string_length(time), &event->time_ms)) {
        event_fail(event, "InvalidData", "The field eventTime must be a UTC time "
                                         "yyyy-MM-ddTHH:mm:ssZ, such as 2021-10-27T12:13:14Z.");
        return false;
    }
    json_t *ip = json_object_get(data, "sourceIPAddress");
    if (ip != NULL && !valid_ip(json_string_value(ip))) {
        event_fail(event, "InvalidData",
                   "The field sourceIPAddress must be an IPv4 or IPv6 address.");
        return false;
    }
    const char *names[] = {"eventName", "UID", "version"};
    for (size_t i = 0; i < 3; i++)
        if (!nonblank(json_object_get(data, names[i]))) {
            event_fail(event, "InvalidData", "The field %s must not be empty.", names[i]);
            return false;
        }
    const char *source = json_string_value(json_object_get(data, "eventSource"));
    size_t source_len = strlen(source);
    /* Integrations log their own applications, never an AWS service. */
    if (source_len == 0
        || (source_len >= 14 && strcmp(source + source_len - 14, ".amazonaws.com") == 0)) {
        event_fail(event, "InvalidEventSource",
                   "The eventSource %.100s is not valid: name your own application or partner "
                   "source, not an AWS service (*.amazonaws.com).",
                   source);
        return false;
    }
    const char *recipient = json_string_value(json_object_get(data, "recipientAccountId"));
    if (account_id == NULL || strcmp(recipient, account_id) != 0) {
        event_fail(event, "InvalidRecipient",
                   "The recipientAccountId %.20s is not the channel owner's account %s.",
                   recipient, account_id != NULL ? account_id : "?");
        return false;
    }
    return true;
}

static bool checksum_matches(const tw_audit_event *event)
{
    tw_buf decoded = TW_BUF_INIT;
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(event->data, event->data_len, digest);
    bool ok = tw_base64_decode(event->checksum, strlen(event->checksum), &decoded, NULL) == 0
              && decoded.len == TW_SHA256_LEN && memcmp(decoded.data, digest, TW_SHA256_LEN) == 0;
    tw_buf_free(&decoded);
    return ok;
}

void tw_audit_check_event(tw_audit_event *event, const char *account_id)
{
    event->error_code = NULL;
    event->error_message[0] = '\0';
    event->read_only = NULL;
    if (event->checksum != NULL && !checksum_matches(event)) {
        event_fail(event, "InvalidChecksum",
                   "The eventDataChecksum is not the base64 SHA-256 of eventData.");
        return;
    }
    if (event->data_len > TW_AUDIT_MAX_EVENT_BYTES) {
        event_fail(event, "FieldTooLong", "The eventData is longer than %d bytes.",
                   TW_AUDIT_MAX_EVENT_BYTES);
        return;
    }
    json_error_t jerr;
    json_t *data = json_loadb(event->data, event->data_len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (data == NULL || !json_is_object(data)) {
        if (data == NULL)
            event_fail(event, "InvalidData", "The eventData is not valid JSON: %.120s (line %d, "
                       "column %d).", jerr.text, jerr.line, jerr.column);
        else
            event_fail(event, "InvalidData", "The eventData must be a JSON object.");
        json_decref(data);
        return;
    }
    if (!check_fields(event, data, event_fields, sizeof event_fields / sizeof event_fields[0],
                      "")
        || !check_values(event, data, account_id)) {
        json_decref(data);
        return;
    }
    event->parsed = data;
    event->event_name = json_string_value(json_object_get(data, "eventName"));
    event->event_source = json_string_value(json_object_get(data, "eventSource"));
    event->principal_id =
        json_string_value(json_object_get(json_object_get(data, "userIdentity"), "principalId"));
    json_t *read_only = json_object_get(json_object_get(data, "additionalEventData"), "readOnly");
    if (json_is_boolean(read_only))
        event->read_only = json_is_true(read_only) ? "true" : "false";
}

/* ---- the stored record ------------------------------------------------------ */

static bool json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *tw_audit_record(const tw_audit_event *event, const char *event_id, const char *region,
                      const char *account_id, const char *channel_arn, int64_t now_ms,
                      size_t *len)
{
    char event_time[TW_ISO8601_SIZE], ingestion_time[TW_ISO8601_SIZE];
    if (tw_time_format_iso8601(event->time_ms, event_time) != 0)
        strcpy(event_time, "1970-01-01T00:00:00Z");
    if (tw_time_format_iso8601(now_ms, ingestion_time) != 0)
        strcpy(ingestion_time, "1970-01-01T00:00:00Z");
    json_t *head = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "eventVersion",
                             "1.08", "eventCategory", "ActivityAuditLog", "eventType",
                             "ActivityLog", "eventID", event_id, "eventTime", event_time,
                             "awsRegion", region, "recipientAccountId", account_id, "metadata",
                             "ingestionTime", ingestion_time, "channelARN", channel_arn);
    char *text = json_dumps(head, JSON_COMPACT);
    json_decref(head);
    /* eventData "as sent": its own bytes, spliced in (it parsed as one JSON
     * object, so the record stays valid JSON). */
    const char *data = event->data;
    size_t data_len = event->data_len;
    while (data_len > 0 && json_blank(data[0]))
        data++, data_len--;
    while (data_len > 0 && json_blank(data[data_len - 1]))
        data_len--;
    tw_buf record = TW_BUF_INIT;
    tw_buf_append(&record, text, strlen(text) - 1); /* without the closing brace */
    tw_buf_puts(&record, ",\"eventData\":");
    tw_buf_append(&record, data, data_len);
    tw_buf_putc(&record, '}');
    free(text);
    *len = record.len;
    return tw_buf_steal(&record);
}
