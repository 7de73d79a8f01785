/* logs_call.c — what the CloudWatch Logs handlers share: the request of a
 * call, the readers of input members with AWS's validation messages, the
 * common errors (see logs_call.h). */
#include "logs_call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define NOT_FOUND "ResourceNotFoundException"

/* ---- the request's life ---- */

tw_logs_request *tw_logs_request_start(tw_call *call)
{
    tw_logs_request *r = tw_calloc(1, sizeof *r);
    r->scope.region = call->region;
    r->scope.account_id = call->identity.account_id;
    r->time.cutoff = INT64_MIN;
    call->state = r;
    return r;
}

void tw_logs_request_done(tw_call *call)
{
    tw_logs_request *r = call->state;
    if (r) {
        tw_buf_free(&r->group_buf);
        tw_buf_free(&r->token_name);
        free(r->events);
        free(r->stream_names);
        if (r->pattern)
            tw_filter_pattern_free(r->pattern);
        free(r);
        call->state = NULL;
    }
    tw_call_finish(call);
}

/* Runs the job when parsing succeeded, else answers the parse error. */
void tw_logs_run_write(tw_call *call, int parsed, int (*job)(tw_db *db, tw_call *call))
{
    if (parsed == 0)
        tw_call_write(call, job, tw_logs_request_done);
    else
        tw_logs_request_done(call);
}

void tw_logs_run_read(tw_call *call, int parsed, int (*job)(tw_db *db, tw_call *call))
{
    if (parsed == 0)
        tw_call_read(call, job, tw_logs_request_done);
    else
        tw_logs_request_done(call);
}

/* ---- errors ---- */

int tw_logs_fail_violations(tw_call *call, tw_logs_violations *v)
{
    tw_err err;
    int rc = tw_logs_violations_take(v, &err);
    tw_logs_violations_free(v);
    return rc < 0 ? tw_call_fail(call, TW_LOGS_INVALID, 400, "%s", err.msg) : 0;
}

int tw_logs_fail_store(tw_call *call, int err, const char *not_found)
{
    if (err == -ENOENT)
        return tw_call_fail(call, NOT_FOUND, 400, "%s", not_found);
    if (err == -E2BIG)
        return tw_call_fail(call, "TooManyTagsException", 400,
                            "A log group can have at most %d tags.", TW_LOGS_MAX_TAGS);
    return tw_call_fail(call, "ServiceUnavailableException", 500,
                        "The service cannot complete the request.");
}

/* ---- reading members ---- */

/* A string member: NULL when absent (a violation when required). Returns
 * -EINVAL when the call already failed (not a string). */
int tw_logs_read_string(tw_call *call, tw_logs_violations *v, const char *member, bool required,
                        const char **out)
{
    *out = NULL;
    int rc = tw_input_string(call, call->input, member, out);
    if (rc == -ENOENT) {
        *out = NULL;
        if (required)
            tw_logs_violation_add(v, NULL, 0, member, "not be null");
        return 0;
    }
    /* JSON may carry "\u0000"; a name cut at it would be another name. */
    json_t *value = json_object_get(call->input, member);
    if (rc == 0 && json_is_string(value) && json_string_length(value) != strlen(*out))
        return tw_call_fail(call, TW_LOGS_INVALID, 400, "The value of %s must not contain NUL.",
                            member);
    return rc;
}

int tw_logs_read_int(tw_call *call, const char *member, int64_t fallback, int64_t *out,
                     bool *present)
{
    int rc = tw_input_int(call, call->input, member, out);
    if (present)
        *present = rc == 0;
    if (rc == -ENOENT) {
        *out = fallback;
        return 0;
    }
    return rc;
}

int tw_logs_read_bool(tw_call *call, const char *member, bool *out)
{
    int rc = tw_input_bool(call, call->input, member, out);
    if (rc == -ENOENT) {
        *out = false;
        return 0;
    }
    return rc;
}

int tw_logs_read_group_name(tw_call *call, tw_logs_request *r, tw_logs_violations *v)
{
    int rc = tw_logs_read_string(call, v, "logGroupName", true, &r->group);
    if (rc == 0 && r->group)
        tw_logs_check_group_name(v, "logGroupName", r->group, strlen(r->group));
    return rc;
}

int tw_logs_read_stream_name(tw_call *call, tw_logs_request *r, tw_logs_violations *v)
{
    int rc = tw_logs_read_string(call, v, "logStreamName", true, &r->stream);
    if (rc == 0 && r->stream)
        tw_logs_check_stream_name(v, "logStreamName", r->stream, strlen(r->stream));
    return rc;
}

/* A log group ARN (with or without ":*") or, for identifiers, a name. */
static int take_group_from(tw_call *call, tw_logs_request *r, tw_logs_violations *v,
                           const char *member, const char *text)
{
    const char *name;
    size_t len;
    if (tw_logs_group_identifier_name(text, strlen(text), &name, &len) < 0)
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "The value of %s is not a log group ARN: %s", member, text);
    tw_buf_reset(&r->group_buf);
    tw_buf_append(&r->group_buf, name, len);
    r->group = tw_buf_cstr(&r->group_buf);
    tw_logs_check_group_name(v, member, r->group, len);
    return 0;
}

/* logGroupName or logGroupIdentifier: exactly one (GetLogEvents,
 * FilterLogEvents, DescribeLogStreams). */
int tw_logs_read_group_or_identifier(tw_call *call, tw_logs_request *r, tw_logs_violations *v)
{
    const char *identifier;
    int rc = tw_logs_read_string(call, v, "logGroupName", false, &r->group);
    if (rc == 0)
        rc = tw_logs_read_string(call, v, "logGroupIdentifier", false, &identifier);
    if (rc < 0)
        return rc;
    if ((r->group == NULL) == (identifier == NULL))
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "You must include either logGroupIdentifier or "
                            "logGroupName, but not both.");
    if (identifier)
        return take_group_from(call, r, v, "logGroupIdentifier", identifier);
    tw_logs_check_group_name(v, "logGroupName", r->group, strlen(r->group));
    return 0;
}

int tw_logs_read_resource_arn(tw_call *call, tw_logs_request *r, tw_logs_violations *v)
{
    const char *arn;
    int rc = tw_logs_read_string(call, v, "resourceArn", true, &arn);
    if (rc < 0 || arn == NULL)
        return rc;
    if (strncmp(arn, "arn:", 4) != 0)
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "The value of resourceArn is not an ARN: %s", arn);
    return take_group_from(call, r, v, "resourceArn", arn);
}

int tw_logs_read_limit(tw_call *call, tw_logs_request *r, tw_logs_violations *v, int64_t fallback,
                       int64_t max)
{
    bool present;
    int rc = tw_logs_read_int(call, "limit", fallback, &r->limit, &present);
    if (rc == 0 && present)
        tw_logs_check_range(v, "limit", r->limit, 1, max);
    return rc;
}

/* nextToken: decoded into r->token / r->token_name by kind. */
int tw_logs_read_token(tw_call *call, tw_logs_request *r, tw_logs_violations *v, const char *kinds,
                       char name_kind)
{
    const char *token;
    int rc = tw_logs_read_string(call, v, "nextToken", false, &token);
    if (rc < 0 || token == NULL)
        return rc;
    size_t len = strlen(token);
    if (len == 0) {
        tw_logs_violation_add(v, "", 0, "nextToken", "have length greater than or equal to 1");
        return 0;
    }
    r->has_token = true;
    if (name_kind && tw_logs_name_token_decode(token, len, name_kind, &r->token_name) == 0) {
        r->token_kind = name_kind;
        return 0;
    }
    if (kinds && tw_logs_token_decode(token, len, kinds, &r->token_kind, &r->token) == 0)
        return 0;
    return tw_call_fail(call, TW_LOGS_INVALID, 400, TW_LOGS_INVALID_TOKEN_MESSAGE);
}

/* A map of tag key → value (CreateLogGroup, TagLogGroup, TagResource). */
int tw_logs_read_tags(tw_call *call, tw_logs_request *r, tw_logs_violations *v, bool required)
{
    json_t *tags = json_object_get(call->input, "tags");
    if (tags == NULL || json_is_null(tags)) {
        if (required)
            tw_logs_violation_add(v, NULL, 0, "tags", "not be null");
        return 0;
    }
    if (!json_is_object(tags))
        return tw_call_fail(call, TW_LOGS_INVALID, 400,
                            "The value of tags must be a map of strings.");
    size_t n = json_object_size(tags);
    if (n < 1 || n > TW_LOGS_MAX_TAGS) {
        char shown[24];
        snprintf(shown, sizeof shown, "%zu tags", n);
        tw_logs_violation_add(v, shown, strlen(shown), "tags",
                              n < 1 ? "have length greater than or equal to 1"
                                    : "have length less than or equal to 50");
    }
    const char *key;
    json_t *value;
    json_object_foreach(tags, key, value)
    {
        if (!json_is_string(value))
            return tw_call_fail(call, TW_LOGS_INVALID, 400, "The value of tag %s must be a string.",
                                key);
        tw_logs_check_tag_key(v, "tags", key, strlen(key));
        tw_logs_check_tag_value(v, "tags", json_string_value(value), json_string_length(value));
    }
    r->tags = tags;
    return 0;
}

/* A list of tag keys (UntagLogGroup "tags", UntagResource "tagKeys"). */
int tw_logs_read_tag_keys(tw_call *call, tw_logs_request *r, tw_logs_violations *v,
                          const char *member)
{
    json_t *keys;
    int rc = tw_input_array(call, call->input, member, &keys);
    if (rc == -ENOENT) {
        tw_logs_violation_add(v, NULL, 0, member, "not be null");
        return 0;
    }
    if (rc < 0)
        return rc;
    if (!json_is_array(keys) || json_array_size(keys) < 1 || json_array_size(keys) > 50) {
        tw_logs_violation_add(v, "[]", 2, member,
                              json_array_size(keys) > 50
                                  ? "have length less than or equal to 50"
                                  : "have length greater than or equal to 1");
        return 0;
    }
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key)
    {
        if (!json_is_string(key))
            return tw_call_fail(call, TW_LOGS_INVALID, 400, "The values of %s must be strings.",
                                member);
        tw_logs_check_tag_key(v, member, json_string_value(key), json_string_length(key));
    }
    r->tags = keys;
    return 0;
}

/* ---- CloudTrail resources ---- */

void tw_logs_set_group_resource(tw_call *call, const tw_logs_request *r)
{
    if (r->group == NULL || r->scope.region == NULL || r->scope.account_id == NULL)
        return;
    tw_buf arn = TW_BUF_INIT;
    tw_logs_group_arn(&arn, r->scope.region, r->scope.account_id, r->group, true);
    json_decref(call->event_resources);
    call->event_resources = json_pack("[{s:s, s:s, s:s}]", "ARN", tw_buf_cstr(&arn), "accountId",
                                      r->scope.account_id, "type", "AWS::Logs::LogGroup");
    tw_buf_free(&arn);
}

/* Parses the common "a group (and maybe a stream)" request. */
int tw_logs_parse_group_request(tw_call *call, tw_logs_request *r, bool with_stream)
{
    tw_logs_violations v = TW_LOGS_VIOLATIONS_INIT;
    int rc = tw_logs_read_group_name(call, r, &v);
    if (rc == 0 && with_stream)
        rc = tw_logs_read_stream_name(call, r, &v);
    if (rc < 0) {
        tw_logs_violations_free(&v);
        return rc;
    }
    tw_logs_set_group_resource(call, r);
    return tw_logs_fail_violations(call, &v);
}

/* The group of the request, inside a job. */
int tw_logs_find_group(tw_db *db, tw_call *call, tw_logs_group *group)
{
    tw_logs_request *r = call->state;
    int err = tw_logs_db_group_find(db, r->scope.region, r->group, group);
    return err < 0 ? tw_logs_fail_store(call, err, TW_LOGS_GROUP_NOT_FOUND) : 0;
}
