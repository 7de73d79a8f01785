/* audit_config.c — the audit keys of [logs NAME] (see audit_config.h). */
#include "audit_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit_routes.h"
#include "encode.h"

#define AWS_SUFFIX ".amazonaws.com"

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '-' || c == '_' || c == '.';
}

static bool channel_id(const char *s, size_t len)
{
    if (len < 1 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!id_char(s[i]))
            return false;
    return true;
}

/* The parts of arn:PARTITION:cloudtrail:REGION:ACCOUNT:channel/ID. */
typedef struct channel_arn {
    const char *region, *account;
    size_t region_len;
} channel_arn;

static bool parse_arn(const char *v, channel_arn *out)
{
    const char *part[6];
    size_t len[6];
    const char *p = v;
    for (int i = 0; i < 6; i++) {
        const char *colon = i < 5 ? strchr(p, ':') : NULL;
        if (i < 5 && colon == NULL)
            return false;
        part[i] = p;
        len[i] = colon != NULL ? (size_t)(colon - p) : strlen(p);
        p = colon != NULL ? colon + 1 : p;
    }
    if (len[0] != 3 || memcmp(part[0], "arn", 3) != 0 || len[1] < 3
        || memcmp(part[1], "aws", 3) != 0 || len[2] != 10
        || memcmp(part[2], "cloudtrail", 10) != 0 || len[3] == 0 || len[4] != 12
        || strspn(part[4], "0123456789") < 12 || len[5] < 9
        || memcmp(part[5], "channel/", 8) != 0 || !channel_id(part[5] + 8, len[5] - 8))
        return false;
    out->region = part[3];
    out->region_len = len[3];
    out->account = part[4];
    return true;
}

int tw_audit_config_check_channel(const char *v, tw_err *err)
{
    channel_arn arn;
    if (strncmp(v, "arn:", 4) == 0 ? parse_arn(v, &arn) : channel_id(v, strlen(v)))
        return 0;
    return tw_err_set(err, -EINVAL,
                      "\"%.80s\" is neither a channel ARN (arn:aws:cloudtrail:REGION:ACCOUNT:"
                      "channel/ID) nor a channel id (1 to 128 letters, digits, . _ -)",
                      v);
}

int tw_audit_config_check_account(const char *v, tw_err *err)
{
    if (strlen(v) == 12 && strspn(v, "0123456789") == 12)
        return 0;
    return tw_err_set(err, -EINVAL, "\"%.40s\" is not an AWS account id (exactly 12 digits, "
                                    "like 123456789012)", v);
}

int tw_audit_config_check_routes(const char *v, tw_err *err)
{
    tw_audit_routes *routes;
    int rc = tw_audit_routes_new(v, &routes, err);
    if (rc == 0)
        tw_audit_routes_free(routes);
    return rc;
}

int tw_audit_config_check_data_paths(const char *v, tw_err *err)
{
    tw_audit_paths *paths;
    int rc = tw_audit_paths_new(v, &paths, err);
    if (rc == 0)
        tw_audit_paths_free(paths);
    return rc;
}

int tw_audit_config_check_user_field(const char *v, tw_err *err)
{
    size_t len = strlen(v);
    size_t ok = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (len == 0 || len > 64 || ok != len)
        return tw_err_set(err, -EINVAL, "\"%.80s\" is not a field name (letters, digits and _, "
                                        "like remote_user or http_x_user)", v);
    return 0;
}

static bool aws_source(const char *v)
{
    size_t len = strlen(v), suffix = strlen(AWS_SUFFIX);
    return len >= suffix && strcmp(v + len - suffix, AWS_SUFFIX) == 0;
}

int tw_audit_config_check_event_source(const char *v, tw_err *err)
{
    size_t chars = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return tw_err_set(err, -EINVAL, "contains a control character");
        chars += ((unsigned char)*p & 0xc0) != 0x80;
    }
    if (chars == 0 || chars > 1024)
        return tw_err_set(err, -EINVAL, "must be 1 to 1024 characters");
    if (aws_source(v))
        return tw_err_set(err, -EINVAL, "\"%.80s\" names an AWS service (*.amazonaws.com), "
                                        "which audit events may not: name your application, "
                                        "like shop.example.internal", v);
    return 0;
}

/* ---- rules between keys ------------------------------------------------------------ */

static bool format_is(const tw_logs_config *l, const char *a, const char *b)
{
    return strcmp(l->format, a) == 0 || (b != NULL && strcmp(l->format, b) == 0);
}

/* A key only some formats use; its error names the formats. */
static void check_format_key(tw_conf *conf, const tw_conf_section *s, const tw_logs_config *l,
                             const char *key, const char *a, const char *b)
{
    const tw_conf_entry *e = tw_conf_find(s, key);
    if (e == NULL || format_is(l, a, b))
        return;
    tw_conf_error(conf, e->file, e->line, "[%s] %s is only used with format = %s%s%s (format "
                                          "is %s)",
                  s->name, key, a, b != NULL ? " or " : "", b != NULL ? b : "", l->format);
}

static const char *const audit_keys[] = {
    "audit_channel", "audit_account_id", "audit_routes", "data_paths",
    "audit_user_field", "audit_trust_forwarded_for", "audit_reads",
};

void tw_audit_config_check_logs(tw_conf *conf, const tw_conf_section *s,
                                const tw_logs_config *l, const char *region)
{
    const tw_conf_entry *e;
    if (!l->audit) {
        for (size_t i = 0; i < sizeof audit_keys / sizeof audit_keys[0]; i++)
            if ((e = tw_conf_find(s, audit_keys[i])) != NULL)
                tw_conf_error(conf, e->file, e->line, "[%s] %s is only used with audit = yes",
                              s->name, audit_keys[i]);
        return;
    }
    check_format_key(conf, s, l, "audit_routes", "nginx", NULL);
    check_format_key(conf, s, l, "audit_trust_forwarded_for", "nginx", NULL);
    check_format_key(conf, s, l, "data_paths", "nginx", "rails");
    channel_arn arn;
    if (l->audit_channel != NULL && strncmp(l->audit_channel, "arn:", 4) == 0
        && parse_arn(l->audit_channel, &arn)) {
        e = tw_conf_find(s, "audit_channel");
        if (l->audit_account_id != NULL && strncmp(arn.account, l->audit_account_id, 12) != 0)
            tw_conf_error(conf, e->file, e->line,
                          "[%s] audit_channel belongs to account %.12s but audit_account_id is "
                          "%s: events must name the channel's owner as their recipient",
                          s->name, arn.account, l->audit_account_id);
        if (region != NULL
            && (strlen(region) != arn.region_len || strncmp(arn.region, region, arn.region_len)))
            tw_conf_error(conf, e->file, e->line,
                          "[%s] audit_channel is a channel of %.*s, but [endpoint] region is "
                          "%s: PutAuditEvents only finds channels of the region it is sent to",
                          s->name, (int)arn.region_len, arn.region, region);
    }
    if (tw_conf_find(s, "event_source") == NULL && l->event_source != NULL
        && aws_source(l->event_source))
        tw_conf_error(conf, s->file, s->line,
                      "[%s] audit = yes: the default event_source, the host name %.80s, names "
                      "an AWS service (*.amazonaws.com), which audit events may not; set "
                      "event_source",
                      s->name, l->event_source);
}

const char *tw_audit_config_channel(const tw_logs_config *l)
{
    return l->audit_channel != NULL ? l->audit_channel : TW_AUDIT_DEFAULT_CHANNEL;
}

void tw_audit_config_options(const tw_logs_config *l, char account[TW_AUDIT_ACCOUNT_SIZE],
                             tw_audit_derive_options *o)
{
    channel_arn arn;
    const char *channel = tw_audit_config_channel(l);
    if (l->audit_account_id != NULL)
        snprintf(account, TW_AUDIT_ACCOUNT_SIZE, "%s", l->audit_account_id);
    else if (strncmp(channel, "arn:", 4) == 0 && parse_arn(channel, &arn))
        snprintf(account, TW_AUDIT_ACCOUNT_SIZE, "%.12s", arn.account);
    else
        snprintf(account, TW_AUDIT_ACCOUNT_SIZE, "%s", TW_AUDIT_DEFAULT_ACCOUNT_ID);
    *o = (tw_audit_derive_options){
        .section = l->name,
        .format = l->format,
        .event_source = l->event_source,
        .recipient_account_id = account,
        .routes = l->audit_routes,
        .data_paths = l->data_paths,
        .user_field = l->audit_user_field,
        .trust_forwarded_for = l->audit_trust_forwarded_for,
        .read_only_events = l->audit_reads,
    };
}
