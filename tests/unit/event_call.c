/* event_call.c — the test-only calls declared in event_call.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event_call.h"
#include "event_history.h"

const tw_operation op_create = {"CreateLogGroup", NULL, 0, NULL, NULL};
const tw_service logs = {.signing_name = "logs", .event_source = "logs.amazonaws.com"};

static tw_collector_user alice = {
    .name = "alice",
    .access_key_id = "AKIAEXAMPLE",
    .arn = "arn:aws:iam::" ACCOUNT ":user/alice",
    .principal_id = "AIDAEXAMPLE",
};

#define HEADER(n, v) {n, sizeof n - 1, v, sizeof v - 1}
static const tw_sigv4_header plain_headers[] = {
    HEADER("host", "logs.eu-west-2.amazonaws.com"),
    HEADER("user-agent", "aws-cli/2.9.19 Python/3.11.2"),
};

void call_init(test_call *t, const tw_service *service, const tw_operation *op,
               const char *input)
{
    memset(t, 0, sizeof *t);
    t->http.headers = plain_headers;
    t->http.header_count = 2;
    strcpy(t->http.peer_ip, "192.0.2.7");
    tw_call *c = &t->call;
    c->http = &t->http;
    c->protocol = TW_PROTOCOL_JSON_1_1;
    c->service = service;
    c->operation = op;
    c->region = "eu-west-2";
    c->identity.user = &alice;
    c->identity.access_key_id = "AKIAEXAMPLE";
    c->identity.account_id = ACCOUNT;
    strcpy(c->request_id, "5d40662a-49f7-41e6-97e4-d9cb6ff7d6a3");
    strcpy(c->event_id, "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f");
    c->now_ms = T0;
    json_error_t jerr;
    c->input = json_loads(input, 0, &jerr);
    if (c->input == NULL)
        fail_msg("bad test input %s: %s", input, jerr.text);
}

void call_free(test_call *t)
{
    tw_call *c = &t->call;
    json_decref(c->input);
    json_decref(c->output);
    json_decref(c->event_request_parameters);
    json_decref(c->event_response_elements);
    json_decref(c->event_resources);
    tw_buf_free(&c->error.message);
}

char *build_text(const tw_call *call)
{
    json_t *record = tw_event_history_build(call);
    char *text = json_dumps(record, JSON_COMPACT);
    json_decref(record);
    return text;
}
