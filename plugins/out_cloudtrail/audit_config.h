/* audit_config.h — the audit keys of a [logs NAME] section (agent/config.c
 * calls these; docs/configuration.md, "Audit events", is the user's side):
 * value checks for the key table, the rules between keys, and the deriver
 * options a section gives.
 *
 *   audit_channel             channel ARN (arn:aws:cloudtrail:REGION:ACCOUNT:
 *                             channel/ID) or id; default "trailwatch"
 *   audit_account_id          recipientAccountId, 12 digits; default the
 *                             channel ARN's account, else 123456789012 (the
 *                             bundled collector's default [account] id)
 *   audit_routes              route map (audit_routes.h), nginx only
 *   data_paths                path patterns of Data events, nginx and rails
 *   audit_user_field          which record field holds the user
 *   audit_trust_forwarded_for nginx: sourceIPAddress from X-Forwarded-For
 *   audit_reads               also GET/HEAD/OPTIONS requests (default yes)
 *   event_source              (existing key) checked here too
 *
 * Pure functions; strings are borrowed.
 */
#ifndef TW_AUDIT_CONFIG_H
#define TW_AUDIT_CONFIG_H

#include "audit_derive.h"
#include "conf.h"
#include "config.h"
#include "err.h"

#define TW_AUDIT_DEFAULT_CHANNEL "trailwatch"
#define TW_AUDIT_DEFAULT_ACCOUNT_ID "123456789012"
#define TW_AUDIT_ACCOUNT_SIZE 13

/* Key checks (tw_conf_key.check): 0 or -EINVAL with err. */
int tw_audit_config_check_channel(const char *value, tw_err *err);
int tw_audit_config_check_account(const char *value, tw_err *err);
int tw_audit_config_check_routes(const char *value, tw_err *err);
int tw_audit_config_check_data_paths(const char *value, tw_err *err);
int tw_audit_config_check_user_field(const char *value, tw_err *err);
int tw_audit_config_check_event_source(const char *value, tw_err *err);

/* The rules between keys, recorded in conf against section s: audit keys
 * without audit = yes, keys of another format, an account that is not the
 * channel's, a channel of another region than [endpoint] region, a default
 * event_source (the host name) that AWS would refuse. */
void tw_audit_config_check_logs(tw_conf *conf, const tw_conf_section *s,
                                const tw_logs_config *logs, const char *region);

/* The deriver options of a section, with its defaults resolved (account
 * holds the recipient). Strings are borrowed from logs and account. */
void tw_audit_config_options(const tw_logs_config *logs, char account[TW_AUDIT_ACCOUNT_SIZE],
                             tw_audit_derive_options *options);

/* The channel of a section: audit_channel or the default. */
const char *tw_audit_config_channel(const tw_logs_config *logs);

#endif
