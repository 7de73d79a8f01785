/* fuzz_query_decode.c — libFuzzer target for the awsQuery codec: the input
 * is a form body (or URL query string) for tw_query_decode(). Nothing may
 * crash, leak or trip a sanitizer, whatever the bytes; and what decodes
 * must survive the encoders: the object is written as XML (every string
 * goes through the escaper) and as CBOR, and the CBOR must decode back to
 * the same object.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names the seeds use, so the time and map paths of the encoder run too. */
static const char *const timestamp_members[] = {"Timestamp", "StartTime", NULL};
static const char *const map_members[] = {"Tags", "ExtendedStatistics", NULL};
static const tw_operation operation = {
    .name = "Fuzz",
    .timestamp_members = timestamp_members,
    .map_members = map_members,
};

static void check_cbor_round_trip(const json_t *input)
{
    tw_buf cbor = TW_BUF_INIT;
    tw_cbor_encode_output(&cbor, NULL, input);
    json_t *again = NULL;
    tw_err err;
    if (tw_cbor_decode((const uint8_t *)cbor.data, cbor.len, &again, &err) != 0 ||
        !json_equal(again, input)) {
        fprintf(stderr, "CBOR round trip changed the object: %s\n", err.msg);
        abort();
    }
    json_decref(again);
    tw_buf_free(&cbor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = NULL;
    char *action = NULL, *version = NULL;
    tw_err err;
    if (tw_query_decode((const char *)data, size, &input, &action, &version, &err) != 0)
        return 0;
    tw_buf xml = TW_BUF_INIT;
    tw_query_encode_response(&xml, &operation, "urn:fuzz", input, action);
    tw_query_encode_error(&xml, "urn:fuzz", action, version ? version : "", false, action);
    tw_buf_free(&xml);
    check_cbor_round_trip(input);
    json_decref(input);
    free(action);
    free(version);
    return 0;
}
