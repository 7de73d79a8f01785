/* test_audit_derive_logs.c — audit events from the real parsers
 * (tw_log_parser_find: nginx, syslog, rails) over every file of the shared
 * sample logs of their kind: every event accepted by the collector's own
 * validator, and hand-checked events for lines of each kind (a 404, an
 * X-Forwarded-For list, a +0330 time zone, a DELETE behind a route, a user,
 * ssh logins accepted and failed, sudo allowed and refused, a Rails request
 * with filtered params and a 500). A parser not registered yet skips its
 * test. */
#include <dirent.h>
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
#include <jansson.h>

#include "audit_check.h"
#include "audit_derive.h"
#include "log_parser.h"
#include "mem.h"

#define LOGS TW_TESTDATA_DIR "/logs"
#define COMBINED                                                                     \
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent " \
    "\"$http_referer\" \"$http_user_agent\""

/* ---- the real parsers over the sample logs ------------------------------------------ */

typedef struct derived {
    tw_audit_deriver *deriver;
    size_t records, events;
    char **data; /* every eventData, in order */
    uint64_t *offsets;
} derived;

static void derive_emit(void *ctx, const tw_log_record *record)
{
    derived *s = ctx;
    tw_buf out = TW_BUF_INIT;
    s->records++;
    if (tw_audit_derive(s->deriver, record, record->offset, &out) == 1) {
        audit_assert_accepted(out.data, out.len);
        s->data = tw_realloc(s->data, (s->events + 1) * sizeof *s->data);
        s->offsets = tw_realloc(s->offsets, (s->events + 1) * sizeof *s->offsets);
        s->offsets[s->events] = record->offset;
        s->data[s->events++] = tw_buf_steal(&out);
    }
    tw_buf_free(&out);
}

static void derived_free(derived *s)
{
    for (size_t i = 0; i < s->events; i++)
        free(s->data[i]);
    free(s->data);
    free(s->offsets);
    memset(s, 0, sizeof *s);
}

/* Feeds path through the parser format and derives every record. Returns
 * false (the test is skipped) when the parser is not registered yet. */
static bool derive_file(const char *format, const char *log_format, const char *path,
                        derived *s, tw_audit_derive_options *o)
{
    const tw_log_parser_ops *ops = tw_log_parser_find(format);
    if (ops == NULL)
        return false;
    tw_log_parser_options po = {.section = "test", .log_format = log_format,
                                .group_timeout_ms = 1000, .user_tag = NULL};
    void *state = NULL;
    tw_err err;
    if (ops->create(&po, &state, &err) != 0)
        fail_msg("%s parser refused: %s", format, err.msg);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    if (s->deriver == NULL)
        s->deriver = audit_deriver(o);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t offset = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n;
        uint64_t end = offset + len;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        tw_log_line l = {line, len, offset, end, AUDIT_T0, false};
        ops->feed(state, &l, derive_emit, s);
        offset = end;
    }
    if (ops->flush != NULL)
        ops->flush(state, AUDIT_T0 + 3600000, true, derive_emit, s);
    free(line);
    fclose(f);
    ops->destroy(state);
    return true;
}

/* The event derived from the record starting at offset, parsed. */
static json_t *event_at(const derived *s, uint64_t offset)
{
    for (size_t i = 0; i < s->events; i++)
        if (s->offsets[i] == offset)
            return audit_json(s->data[i]);
    fail_msg("no event from the record at offset %llu", (unsigned long long)offset);
    return NULL;
}

/* Offset of the line holding needle in path. */
static uint64_t offset_of(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t offset = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (strstr(line, needle) != NULL)
            break;
        offset += (uint64_t)n;
    }
    bool found = n > 0;
    free(line);
    fclose(f);
    if (!found)
        fail_msg("%s has no line with %s", path, needle);
    return offset;
}

static void derive_every_file(const char *dir, const char *format, derived *all,
                              tw_audit_derive_options *o)
{
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        derived s = {.deriver = all->deriver};
        if (!derive_file(format, NULL, path, &s, o)) {
            closedir(dp);
            skip();
        }
        all->deriver = s.deriver;
        all->records += s.records;
        all->events += s.events;
        s.deriver = NULL;
        derived_free(&s);
    }
    closedir(dp);
}

static void test_real_nginx_logs_make_events_the_collector_accepts(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("nginx");
    derived all = {0};
    derive_every_file(LOGS "/nginx-access", "nginx", &all, &o);
    printf("nginx-access: %zu records, %zu audit events, all accepted\n", all.records,
           all.events);
    assert_true(all.events > 1000);
    tw_audit_deriver_free(all.deriver);

    const char *path = LOGS "/nginx-access/beats-nginx-access-test.log";
    derived s = {0};
    assert_true(derive_file("nginx", COMBINED, path, &s, &o));
    json_t *root = event_at(&s, offset_of(path, "/stringpatch"));
    assert_member(root, "eventName", "GET /stringpatch");
    assert_member(root, "eventTime", "2017-05-29T19:02:48Z");
    assert_member(root, "sourceIPAddress", "172.17.0.1");
    assert_member(root, "errorCode", "HTTP404");
    assert_member(root, "userAgent",
                  "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2");
    assert_member(root, "additionalEventData",
                  "{\"readOnly\":true,\"eventCategory\":\"Management\",\"httpStatus\":404,"
                  "\"bytesSent\":612}");
    json_decref(root);
    /* An XFF-style client list: its first address. */
    root = event_at(&s, 0);
    assert_member(root, "sourceIPAddress", "10.0.0.2");
    assert_member(root, "eventTime", "2016-12-07T10:05:07Z");
    json_decref(root);
    tw_audit_deriver_free(s.deriver);
    derived_free(&s);

    path = LOGS "/nginx-access/lnav-logfile_shop_access_log.0";
    assert_true(derive_file("nginx", COMBINED " \"$http_x_forwarded_for\"", path, &s, &o));
    assert_int_equal(s.records, 1000);
    assert_int_equal(s.events, 1000);
    root = event_at(&s, offset_of(path, "POST /m/updateVariation"));
    assert_member(root, "eventName", "POST /m/updateVariation");
    assert_member(root, "requestParameters.path", "/m/updateVariation"); /* no query */
    assert_member(root, "eventTime", "2019-01-22T00:26:26Z");            /* +0330 */
    assert_member(root, "additionalEventData.readOnly", "false");
    json_decref(root);
    tw_audit_deriver_free(s.deriver);
    derived_free(&s);
}

static void test_real_ingress_log_with_users_and_deletes(void **state)
{
    (void)state;
    const char *path = LOGS "/nginx-access/beats-nginx-ingress-controller-test.log";
    tw_audit_derive_options o = audit_options("nginx");
    o.routes = "DELETE /products/* = DeleteProduct";
    derived s = {0};
    if (!derive_file("nginx",
                     COMBINED " $request_length $request_time [$proxy_upstream_name] "
                              "[$proxy_alternative_upstream_name] $upstream_addr "
                              "$upstream_response_length $upstream_response_time "
                              "$upstream_status $req_id",
                     path, &s, &o))
        skip();
    json_t *root = event_at(&s, offset_of(path, "DELETE /products/42"));
    assert_member(root, "eventName", "DeleteProduct");
    assert_member(root, "sourceIPAddress", "192.168.64.1");
    assert_member(root, "userAgent", "curl/7.54.0");
    assert_member(root, "userIdentity.type", "Anonymous");
    json_decref(root);
    root = event_at(&s, offset_of(path, "remote_monitoring_user"));
    assert_member(root, "eventName", "POST /_bulk");
    assert_member(root, "userIdentity", "{\"type\":\"User\",\"principalId\":"
                                        "\"remote_monitoring_user\"}");
    assert_member(root, "sourceIPAddress", "2a02:cf40::");
    json_decref(root);
    tw_audit_deriver_free(s.deriver);
    derived_free(&s);
}

static void test_real_auth_logs_make_login_and_sudo_events(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("syslog");
    derived all = {0};
    derive_every_file(LOGS "/authlog", "syslog", &all, &o);
    printf("authlog: %zu records, %zu audit events\n", all.records, all.events);
    tw_audit_deriver_free(all.deriver);

    const char *path = LOGS "/authlog/beats-system-auth-test.log";
    derived s = {0};
    assert_true(derive_file("syslog", NULL, path, &s, &o));
    assert_int_equal(s.events, 6); /* 2 accepted, 1 failed, 3 sudo */
    json_t *root = event_at(&s, 0);
    assert_member(root, "eventName", "SshLogin");
    assert_member(root, "userIdentity.principalId", "vagrant");
    assert_member(root, "requestParameters",
                  "{\"userName\":\"vagrant\",\"authMethod\":\"publickey\",\"sourcePort\":63673}");
    assert_member(root, "sourceIPAddress", "10.0.2.2");
    assert_member(root, "responseElements.SshLogin", "Success");
    assert_member(root, "additionalEventData.host", "localhost");
    json_decref(root);
    root = event_at(&s, offset_of(path, "Failed password for root"));
    assert_member(root, "responseElements.SshLogin", "Failure");
    assert_member(root, "userIdentity.principalId", "root");
    assert_member(root, "sourceIPAddress", "216.160.83.57");
    json_decref(root);
    root = event_at(&s, offset_of(path, "COMMAND=/bin/cat /var/log/secure"));
    assert_member(root, "eventName", "Sudo");
    assert_member(root, "requestParameters.command", "/bin/cat /var/log/secure");
    assert_member(root, "requestParameters.targetUser", "root");
    json_decref(root);
    root = event_at(&s, offset_of(path, "NOT in sudoers"));
    assert_member(root, "userIdentity.principalId", "tsg");
    assert_member(root, "errorMessage", "user NOT in sudoers");
    json_decref(root);
    tw_audit_deriver_free(s.deriver);
    derived_free(&s);
}

static void test_real_rails_logs_make_controller_events(void **state)
{
    (void)state;
    tw_audit_derive_options o = audit_options("rails");
    derived all = {0};
    derive_every_file(LOGS "/rails", "rails", &all, &o);
    printf("rails: %zu records, %zu audit events\n", all.records, all.events);
    assert_true(all.events > 10);
    tw_audit_deriver_free(all.deriver);

    const char *path = LOGS "/rails/lichtbit-example.log";
    derived s = {0};
    assert_true(derive_file("rails", NULL, path, &s, &o));
    json_t *found = NULL;
    for (size_t i = 0; i < s.events && found == NULL; i++) {
        json_t *root = audit_json(s.data[i]);
        char *uid = audit_member(root, "UID");
        if (uid != NULL && strcmp(uid, "55cd4db0-7439-468a-8613-0065179df175") == 0)
            found = root;
        else
            json_decref(root);
        free(uid);
    }
    if (found == NULL)
        fail_msg("no event for request 55cd4db0-7439-468a-8613-0065179df175");
    assert_member(found, "eventName", "Public::CentersController#index");
    assert_member(found, "requestParameters",
                  "{\"locality\":\"[FILTERED]\",\"vaccine\":{\"0\":\"4\"}}");
    assert_member(found, "errorCode", "HTTP500");
    assert_member(found, "additionalEventData.readOnly", "true");
    json_decref(found);
    tw_audit_deriver_free(s.deriver);
    derived_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_nginx_logs_make_events_the_collector_accepts),
        cmocka_unit_test(test_real_ingress_log_with_users_and_deletes),
        cmocka_unit_test(test_real_auth_logs_make_login_and_sudo_events),
        cmocka_unit_test(test_real_rails_logs_make_controller_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
