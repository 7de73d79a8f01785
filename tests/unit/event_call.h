/* event_call.h — test-only calls as dispatch.c would make them, shared by
 * test_event_record.c (the record built for a call) and test_event_history.c
 * (the record stored and looked up).
 *
 * A test_call owns its tw_call and the HTTP request behind it; call_init
 * fills both for alice in eu-west-2 at T0 with the given JSON input, and
 * call_free releases every JSON value and buffer the call came to hold. */
#ifndef TW_TEST_EVENT_CALL_H
#define TW_TEST_EVENT_CALL_H

#include <stdint.h>

#include "call.h"
#include "services.h"

#define ACCOUNT "123456789012"
#define T0 INT64_C(1704067651123) /* 2024-01-01T00:07:31.123Z */
#define DAY_MS (86400 * INT64_C(1000))

extern const tw_operation op_create; /* CreateLogGroup */
extern const tw_service logs;

typedef struct test_call {
    tw_call call;
    tw_http_request http;
} test_call;

/* Fails the running test if input is not JSON. */
void call_init(test_call *t, const tw_service *service, const tw_operation *op,
               const char *input);
void call_free(test_call *t);
/* The record tw_event_history_build makes for call, as compact JSON text the
 * caller frees. */
char *build_text(const tw_call *call);

#endif
