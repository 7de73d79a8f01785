/* fuzz_json_request.c — libFuzzer target for what an AWS JSON request body
 * goes through before a handler sees it: tw_json_decode, then every
 * tw_input_* helper on every member (at the top level and inside nested
 * objects and lists), then the encoder on the decoded object.
 *
 * The first byte picks the service style (its low bit: Logs-like JSON 1.1 or
 * CloudWatch-like JSON 1.0, which changes the error codes and messages); the
 * rest is the body. Checked, beyond "no crash, no leak, no sanitizer report":
 *   - every helper returns 0, -ENOENT or -EINVAL; -EINVAL leaves an error
 *     code and a message on the call, 0 and -ENOENT leave none;
 *   - encoding the decoded input (Logs style, no conversions) and decoding
 *     it again gives back an equal object: the codec loses nothing;
 *   - the epoch-seconds encoding of the same object is valid JSON.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VISITS 256

static const tw_service logs_like = {
    .signing_name = "logs",
    .json_target_prefix = "Logs_20140328",
    .invalid_parameter_code = "InvalidParameterException",
    .missing_parameter_code = "InvalidParameterException",
};
static const tw_service cloudwatch_like = {
    .signing_name = "monitoring",
    .json_target_prefix = "GraniteServiceVersion20100801",
    .xml_namespace = "http://monitoring.amazonaws.com/doc/2010-08-01/",
    .invalid_parameter_code = "InvalidParameterValueException",
    .invalid_parameter_query_code = "InvalidParameterValue",
    .missing_parameter_code = "MissingRequiredParameterException",
    .missing_parameter_query_code = "MissingParameter",
};

/* Member names the encoder treats as times, some of which seeds use. */
static const char *const time_members[] = {"Timestamp", "StartTime", "EndTime", "EventTime",
                                           "timestamp", NULL};
static const tw_operation op = {.name = "FuzzOperation", .timestamp_members = time_members};

static void check_outcome(tw_call *call, int rc)
{
    if (rc == -EINVAL) {
        if (call->error.code == NULL || call->error.message.len == 0 || call->error.status != 400)
            abort();
        call->error.code = NULL;
        call->error.query_code = NULL;
        tw_buf_reset(&call->error.message);
        return;
    }
    if ((rc != 0 && rc != -ENOENT) || call->error.code != NULL)
        abort();
}

static void read_member(tw_call *call, json_t *obj, const char *key)
{
    const char *s;
    int64_t i;
    double d;
    bool b;
    json_t *list;
    check_outcome(call, tw_input_string(call, obj, key, &s));
    check_outcome(call, tw_input_required_string(call, obj, key, &s));
    check_outcome(call, tw_input_int(call, obj, key, &i));
    check_outcome(call, tw_input_double(call, obj, key, &d));
    check_outcome(call, tw_input_bool(call, obj, key, &b));
    check_outcome(call, tw_input_time(call, obj, key, &i));
    /* Last: it may turn "" into [] (the empty query list). */
    check_outcome(call, tw_input_array(call, obj, key, &list));
}

/* Reads every member of every object reachable from value, up to a budget
 * (a hostile body can hold millions of members). */
static void visit(tw_call *call, json_t *value, int *budget)
{
    if (--*budget < 0)
        return;
    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        void *tmp;
        json_object_foreach_safe(value, tmp, key, member) {
            read_member(call, value, key);
            visit(call, json_object_get(value, key), budget);
        }
        check_outcome(call, tw_input_required_string(call, value, "absent member", &key));
    } else if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) visit(call, item, budget);
    }
}

static void check_round_trip(json_t *input)
{
    tw_buf text = TW_BUF_INIT;
    tw_json_encode_output(&text, &op, input, false);
    json_t *back = NULL;
    if (tw_json_decode((const uint8_t *)text.data, text.len, &back, NULL) != 0
        || !json_equal(back, input))
        abort();
    json_decref(back);
    tw_buf_reset(&text);
    tw_json_encode_output(&text, &op, input, true);
    if (tw_json_decode((const uint8_t *)text.data, text.len, &back, NULL) != 0)
        abort();
    json_decref(back);
    tw_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    tw_call call;
    memset(&call, 0, sizeof call);
    call.service = (data[0] & 1) ? &cloudwatch_like : &logs_like;
    call.protocol = (data[0] & 1) ? TW_PROTOCOL_JSON_1_0 : TW_PROTOCOL_JSON_1_1;
    json_t *input = NULL;
    tw_err err;
    if (tw_json_decode(data + 1, size - 1, &input, &err) != 0) {
        if (err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (!json_is_object(input))
        abort();
    check_round_trip(input);
    int budget = MAX_VISITS;
    visit(&call, input, &budget);
    json_decref(input);
    tw_buf_free(&call.error.message);
    return 0;
}
