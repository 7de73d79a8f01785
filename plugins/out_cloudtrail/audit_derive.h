/* audit_derive.h — log records into CloudTrail audit events: the eventData
 * of cloudtrail-data PutAuditEvents (spec/cloudtrail.md §6), one deriver
 * per [logs NAME] section with audit = yes.
 *
 * What becomes an event (docs/configuration.md, "Audit events"):
 *   nginx   every request with a method and a path. eventName from the
 *           route map, else "METHOD /path" with ids replaced by {id};
 *           userIdentity from remote_user (or user_field), anonymous when
 *           absent or "-"; sourceIPAddress remote_addr, or the first address
 *           of X-Forwarded-For when trust_forwarded_for; userAgent;
 *           requestParameters {httpMethod, path, protocol} (no query
 *           string: it often carries tokens); errorCode "HTTP404" and the
 *           reason phrase for 4xx/5xx; additionalEventData {readOnly (GET,
 *           HEAD, OPTIONS), eventCategory (Data for data_paths, else
 *           Management), httpStatus, bytesSent}.
 *   rails   every request with a controller and action (eventName
 *           "Controller#action") or else a method and path (named as for
 *           nginx); the user from user_field (default "user", what the
 *           parser's user_tag fills); params as requestParameters
 *           (rails_params.h; [FILTERED] stays "[FILTERED]"); errorCode
 *           "HTTP500" and the exception for failures.
 *   syslog  sshd logins (auth_result accepted|failed): eventName
 *           "SshLogin", responseElements {"SshLogin": "Success"|"Failure"};
 *           sudo commands: eventName "Sudo" with the target user and
 *           command. Other lines make no event.
 * Unparsed records make no event; neither do read-only requests when
 * read_only_events is false, nor routes named "-".
 *
 * Every field stays within the schema's limits (long text is cut at a
 * character boundary; requestParameters over 100 KB become
 * {"omitted": true}), and only schema members are written, so the
 * collector and AWS accept every event derived here.
 *
 * Ids: the caller passes a 64-bit key identifying the record (a hash of
 * the file's identity and the record's offset); the event's id is
 * tw_audit_event_id(key), so an event derived again after a crash has the
 * id it had, and the collector's (channel, id) dedupe drops the copy.
 *
 * Ownership and threads: a deriver owns copies of its options' strings;
 * tw_audit_deriver_free releases it. One thread at a time per deriver
 * (it keeps scratch buffers, so steady state allocates nothing but growth
 * of the caller's buffer).
 */
#ifndef TW_AUDIT_DERIVE_H
#define TW_AUDIT_DERIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "log_parser.h"

#define TW_AUDIT_EVENT_ID_SIZE 17 /* 16 hex digits and a NUL */
#define TW_AUDIT_EVENT_VERSION "1.0"
typedef struct tw_audit_derive_options {
    const char *section;      /* [logs NAME], for messages */
    const char *format;       /* "nginx", "rails" or "syslog" */
    const char *event_source; /* eventSource */
    const char *recipient_account_id; /* 12 digits: the channel owner */
    const char *routes;       /* route map (audit_routes.h), or NULL */
    const char *data_paths;   /* path patterns of Data events, or NULL */
    const char *user_field;   /* record field of the user; NULL: per format */
    bool trust_forwarded_for; /* nginx: sourceIPAddress from X-Forwarded-For */
    bool read_only_events;    /* also GET/HEAD/OPTIONS requests */
} tw_audit_derive_options;

typedef struct tw_audit_deriver tw_audit_deriver;
/* Returns 0 and a new deriver in *out, or -EINVAL with err saying which
 * option is wrong (an unknown format, a bad route map or pattern, a
 * recipient that is not 12 digits, an empty event source). */
int tw_audit_deriver_new(const tw_audit_derive_options *options, tw_audit_deriver **out,
                         tw_err *err);
void tw_audit_deriver_free(tw_audit_deriver *deriver);

/* Appends the eventData of record's audit event (one JSON object, no
 * newline) to out and returns 1, or returns 0 with out unchanged when the
 * record makes no event. Cannot fail. */
int tw_audit_derive(tw_audit_deriver *deriver, const tw_log_record *record, uint64_t key,
                    tw_buf *out);

/* The PutAuditEvents id (and the UID when the log has no request id) of
 * the event derived with key: 16 lower-case hex digits. */
void tw_audit_event_id(uint64_t key, char out[TW_AUDIT_EVENT_ID_SIZE]);

#endif
