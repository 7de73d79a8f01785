/* test_audit_config.c — the audit keys of [logs NAME] (agent/config.c with
 * plugins/out_cloudtrail/audit_config.h): every key read, the defaults the
 * deriver gets (channel, recipient account from the channel's ARN or the
 * bundled collector's), a route map over continuation lines, and each bad
 * value or combination refused with its line and a sentence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit_config.h"
#include "config.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ARN "arn:aws:cloudtrail:eu-west-2:210987654321:channel/0f1e2d3c-0001"

static void test_audit_keys_are_read_and_defaults_resolved(void **state)
{
    (void)state;
    tw_agent_config c;
    int rc = tw_agent_config_load_string(
        &c, "agent.conf",
        "[endpoint]\nregion = eu-west-2\n"
        "[logs shop]\npath = /var/log/nginx/access.log\nformat = nginx\naudit = yes\n"
        "event_source = shop.example.internal\n"
        "audit_channel = " ARN "\n"
        "audit_routes = POST /orders = CreateOrder\n"
        "    GET /orders/{id} = GetOrder\n"
        "    * /health = -\n"
        "data_paths = /files/**\n    /export/*.csv\n"
        "audit_user_field = http_x_user\n"
        "audit_trust_forwarded_for = yes\n"
        "audit_reads = no\n"
        "[logs auth]\npath = /var/log/auth.log\nformat = syslog\naudit = yes\n"
        "event_source = web-1.example\n");
    if (rc != 0)
        tw_test_dump_conf_errors(&c.conf);
    assert_int_equal(rc, 0);
    const tw_logs_config *shop = &c.logs[0], *auth = &c.logs[1];
    assert_string_equal(shop->audit_channel, ARN);
    assert_null(shop->audit_account_id);
    assert_string_equal(shop->audit_routes, "POST /orders = CreateOrder GET /orders/{id} = "
                                            "GetOrder * /health = -");
    assert_string_equal(shop->data_paths, "/files/** /export/*.csv");
    assert_string_equal(shop->audit_user_field, "http_x_user");
    assert_true(shop->audit_trust_forwarded_for);
    assert_false(shop->audit_reads);

    char account[TW_AUDIT_ACCOUNT_SIZE];
    tw_audit_derive_options o;
    tw_audit_config_options(shop, account, &o);
    assert_string_equal(o.recipient_account_id, "210987654321"); /* the channel's owner */
    assert_string_equal(o.format, "nginx");
    assert_string_equal(o.event_source, "shop.example.internal");
    assert_false(o.read_only_events);
    assert_true(o.trust_forwarded_for);
    assert_string_equal(tw_audit_config_channel(shop), ARN);
    tw_audit_deriver *d = NULL;
    tw_err err;
    assert_int_equal(tw_audit_deriver_new(&o, &d, &err), 0);
    tw_audit_deriver_free(d);

    /* Nothing said: the default channel id and the bundled collector's
     * account; every request, reads included. */
    assert_null(auth->audit_channel);
    assert_string_equal(tw_audit_config_channel(auth), "trailwatch");
    assert_true(auth->audit_reads);
    tw_audit_config_options(auth, account, &o);
    assert_string_equal(o.recipient_account_id, "123456789012");
    assert_null(o.routes);
    assert_null(o.user_field);
    tw_agent_config_free(&c);

    /* An explicit account wins over the default. */
    rc = tw_agent_config_load_string(&c, "agent.conf",
                                     "[logs a]\npath = /x\nformat = rails\naudit = yes\n"
                                     "audit_account_id = 111122223333\n");
    assert_int_equal(rc, 0);
    tw_audit_config_options(&c.logs[0], account, &o);
    assert_string_equal(o.recipient_account_id, "111122223333");
    tw_agent_config_free(&c);
}

typedef struct bad_case {
    const char *keys; /* after "[logs x]\npath = /x\n" (lines 1-2) */
    int line;
    const char *want;
} bad_case;

#define HEAD "[logs x]\npath = /x\n"

static const bad_case bad_cases[] = {
    {"format = nginx\naudit = yes\naudit_channel = arn:aws:s3:::bucket\n", 5,
     "[logs x] audit_channel: \"arn:aws:s3:::bucket\" is neither a channel ARN (arn:aws:cloudtrail:"
     "REGION:ACCOUNT:channel/ID) nor a channel id (1 to 128 letters, digits, . _ -)"},
    {"format = nginx\naudit = yes\naudit_channel = my channel\n", 5,
     "[logs x] audit_channel: \"my channel\" is neither a channel ARN"},
    {"format = nginx\naudit = yes\naudit_account_id = 12345\n", 5,
     "[logs x] audit_account_id: \"12345\" is not an AWS account id (exactly 12 digits, like "
     "123456789012)"},
    {"format = nginx\naudit = yes\naudit_routes = POST /orders\n", 5,
     "[logs x] audit_routes: rule 1 (\"/orders\"): expected \" = NAME\" after the path pattern (with "
     "blanks around =)"},
    {"format = nginx\naudit = yes\naudit_routes = /a = A\n    post /b = B\n", 5,
     "[logs x] audit_routes: rule 2: \"post\" is neither a path pattern (starting with /) nor request "
     "methods"},
    {"format = nginx\naudit = yes\ndata_paths = files/*\n", 5,
     "[logs x] data_paths: \"files/*\" is not a path pattern (it must start with /)"},
    {"format = nginx\naudit = yes\naudit_user_field = x-user\n", 5,
     "[logs x] audit_user_field: \"x-user\" is not a field name (letters, digits and _, like "
     "remote_user or http_x_user)"},
    {"format = nginx\naudit = yes\nevent_source = cloudtrail.amazonaws.com\n", 5,
     "[logs x] event_source: \"cloudtrail.amazonaws.com\" names an AWS service (*.amazonaws.com), "
     "which audit events may not: name your application, like shop.example.internal"},
    {"format = nginx\naudit_routes = /a = A\n", 4,
     "[logs x] audit_routes is only used with audit = yes"},
    {"format = nginx\naudit = no\naudit_reads = no\n", 5,
     "[logs x] audit_reads is only used with audit = yes"},
    {"format = rails\naudit = yes\naudit_routes = /a = A\n", 5,
     "[logs x] audit_routes is only used with format = nginx (format is rails)"},
    {"format = syslog\naudit = yes\ndata_paths = /a\n", 5,
     "[logs x] data_paths is only used with format = nginx or rails (format is syslog)"},
    {"format = rails\naudit = yes\naudit_trust_forwarded_for = yes\n", 5,
     "[logs x] audit_trust_forwarded_for is only used with format = nginx (format is rails)"},
    {"format = nginx\naudit = yes\naudit_channel = " ARN "\n", 5,
     "[logs x] audit_channel is a channel of eu-west-2, but [endpoint] region is us-east-1: "
     "PutAuditEvents only finds channels of the region it is sent to"},
    {"format = nginx\naudit = yes\naudit_account_id = 111122223333\n"
     "audit_channel = arn:aws:cloudtrail:us-east-1:210987654321:channel/c\n",
     6,
     "[logs x] audit_channel belongs to account 210987654321 but audit_account_id is 111122223333: "
     "events must name the channel's owner as their recipient"},
};

static void test_bad_audit_keys_are_refused_with_their_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(bad_cases); i++) {
        char text[1024];
        snprintf(text, sizeof text, HEAD "%s", bad_cases[i].keys);
        tw_agent_config c;
        int rc = tw_agent_config_load_string(&c, "agent.conf", text);
        if (rc != -EINVAL || c.conf.n_errors != 1) {
            tw_test_dump_conf_errors(&c.conf);
            fail_msg("case %zu: expected one error, got %zu", i, c.conf.n_errors);
        }
        char prefix[32];
        snprintf(prefix, sizeof prefix, "agent.conf:%d: ", bad_cases[i].line);
        const char *got = c.conf.errors[0];
        if (strncmp(got, prefix, strlen(prefix)) != 0
            || strstr(got + strlen(prefix), bad_cases[i].want) != got + strlen(prefix))
            fail_msg("case %zu:\n got  %s\n want %s%s", i, got, prefix, bad_cases[i].want);
        tw_agent_config_free(&c);
    }
}

static void test_a_default_event_source_aws_refuses_is_reported(void **state)
{
    (void)state;
    tw_agent_config c;
    int rc = tw_agent_config_load_string(
        &c, "agent.conf",
        "[agent]\nhostname = ec2-192-0-2-1.compute-1.amazonaws.com\n"
        "[logs web]\npath = /x\nformat = nginx\naudit = yes\n");
    assert_int_equal(rc, -EINVAL);
    assert_conf_error_count(&c.conf, 1);
    assert_conf_error(&c.conf, 0, "agent.conf", 3,
                      "[logs web] audit = yes: the default event_source, the host name "
                      "ec2-192-0-2-1.compute-1.amazonaws.com, names an AWS service "
                      "(*.amazonaws.com), which audit events may not; set event_source");
    tw_agent_config_free(&c);
    /* Not auditing: the host name is fine. */
    rc = tw_agent_config_load_string(&c, "agent.conf",
                                     "[agent]\nhostname = ec2-192-0-2-1.compute-1.amazonaws.com\n"
                                     "[logs web]\npath = /x\nformat = nginx\n");
    assert_int_equal(rc, 0);
    tw_agent_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_keys_are_read_and_defaults_resolved),
        cmocka_unit_test(test_bad_audit_keys_are_refused_with_their_line),
        cmocka_unit_test(test_a_default_event_source_aws_refuses_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
