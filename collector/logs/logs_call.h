/* logs_call.h — what the CloudWatch Logs handlers share (logs_service.c,
 * logs_events.c): the parsed request of a call, the readers of input
 * members with AWS's validation messages, and the common error answers.
 *
 * A handler calls tw_logs_request_start() (the request becomes call->state),
 * reads its members with the tw_logs_read_* functions (model constraint
 * failures are collected in a tw_logs_violations and answered together by
 * tw_logs_fail_violations(), as AWS does), then tw_logs_run_write() or
 * tw_logs_run_read() with its store job. tw_logs_request_done() frees the
 * request and finishes the call; it is the done callback of every job.
 *
 * The readers return 0, or -EINVAL when they already failed the call (a
 * member of the wrong type); strings they return borrow from call->input.
 */
#ifndef TW_LOGS_CALL_H
#define TW_LOGS_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "filter_pattern.h"
#include "logs_db.h"
#include "logs_rules.h"

#define TW_LOGS_INVALID "InvalidParameterException"
#define TW_LOGS_GROUP_NOT_FOUND "The specified log group does not exist."
#define TW_LOGS_STREAM_NOT_FOUND "The specified log stream does not exist."

/* What a call asked for, parsed on the loop; its job reads it. One struct
 * for every operation: each uses the fields it needs. Owned by the call
 * (call->state) until tw_logs_request_done(). */
typedef struct tw_logs_request {
    tw_logs_scope scope;
    const char *group;  /* the group's name (from logGroupName, an identifier or an ARN) */
    tw_buf group_buf;   /* owns the name when it was cut out of an ARN */
    const char *stream; /* logStreamName */
    /* CreateLogGroup */
    const char *kms_key_id, *group_class;
    json_t *tags;      /* borrowed from the input: a map, or a list of keys */
    int64_t retention; /* PutRetentionPolicy */
    /* listing */
    const char *prefix, *pattern_text;
    int64_t limit;
    bool by_last_event, descending, start_from_head;
    bool has_token;
    char token_kind;
    tw_logs_position token;
    tw_buf token_name;
    /* events */
    tw_logs_event *events; /* owned; messages borrow from the input */
    size_t n_events;
    tw_logs_time_range time;
    const char **stream_names; /* owned array of borrowed strings */
    size_t n_stream_names;
    tw_filter_pattern *pattern; /* owned */
} tw_logs_request;

tw_logs_request *tw_logs_request_start(tw_call *call);
void tw_logs_request_done(tw_call *call);
/* Runs the job when parsed is 0, else answers the error parsing set. */
void tw_logs_run_write(tw_call *call, int parsed, int (*job)(tw_db *db, tw_call *call));
void tw_logs_run_read(tw_call *call, int parsed, int (*job)(tw_db *db, tw_call *call));

/* Fails the call with the collected violations (and frees them); 0 when
 * there were none. */
int tw_logs_fail_violations(tw_call *call, tw_logs_violations *v);
/* A logs_db error as AWS answers it: -ENOENT → ResourceNotFoundException
 * with not_found, -E2BIG → TooManyTagsException, else
 * ServiceUnavailableException. Returns -EINVAL. */
int tw_logs_fail_store(tw_call *call, int err, const char *not_found);

/* *out = NULL when absent; a "must not be null" violation when required. */
int tw_logs_read_string(tw_call *call, tw_logs_violations *v, const char *member, bool required,
                        const char **out);
/* *out = fallback when absent; *present (may be NULL) says which. */
int tw_logs_read_int(tw_call *call, const char *member, int64_t fallback, int64_t *out,
                     bool *present);
int tw_logs_read_bool(tw_call *call, const char *member, bool *out);
int tw_logs_read_group_name(tw_call *call, tw_logs_request *r, tw_logs_violations *v);
int tw_logs_read_stream_name(tw_call *call, tw_logs_request *r, tw_logs_violations *v);
/* logGroupName or logGroupIdentifier (a name or an ARN): exactly one. */
int tw_logs_read_group_or_identifier(tw_call *call, tw_logs_request *r, tw_logs_violations *v);
/* resourceArn: a log group ARN (TagResource...). */
int tw_logs_read_resource_arn(tw_call *call, tw_logs_request *r, tw_logs_violations *v);
int tw_logs_read_limit(tw_call *call, tw_logs_request *r, tw_logs_violations *v, int64_t fallback,
                       int64_t max);
/* nextToken: a position token of one of kinds, or a name token of
 * name_kind (0 = none); a token of any other shape fails the call. */
int tw_logs_read_token(tw_call *call, tw_logs_request *r, tw_logs_violations *v, const char *kinds,
                       char name_kind);
/* "tags": a map of 1-50 key → value. */
int tw_logs_read_tags(tw_call *call, tw_logs_request *r, tw_logs_violations *v, bool required);
/* A list of 1-50 tag keys. */
int tw_logs_read_tag_keys(tw_call *call, tw_logs_request *r, tw_logs_violations *v,
                          const char *member);

/* The call's CloudTrail resources: the log group's ARN. */
void tw_logs_set_group_resource(tw_call *call, const tw_logs_request *r);
/* The common request of just logGroupName (and logStreamName). */
int tw_logs_parse_group_request(tw_call *call, tw_logs_request *r, bool with_stream);

/* Inside a job: the request's group, or the call failed (-EINVAL). */
int tw_logs_find_group(tw_db *db, tw_call *call, tw_logs_group *group);

/* logs_events.c: the handlers of PutLogEvents, GetLogEvents, FilterLogEvents. */
void tw_logs_put_log_events(tw_call *call);
void tw_logs_get_log_events(tw_call *call);
void tw_logs_filter_log_events(tw_call *call);

#endif
