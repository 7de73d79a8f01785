/* fuzz_cbor_decode.c — libFuzzer target for the Smithy RPC v2 CBOR codec:
 * the input is a request body for tw_cbor_decode(). Nothing may crash, leak
 * or trip a sanitizer, whatever the bytes (deep nesting, huge claimed
 * lengths, broken indefinite items); and what decodes must re-encode to
 * definite-length CBOR that decodes to the same object, and must survive
 * the XML encoder.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const map_members[] = {"Tags", "ExtendedStatistics", NULL};
static const char *const timestamp_members[] = {"Timestamp", NULL};
static const tw_operation operation = {
    .name = "Fuzz",
    .timestamp_members = timestamp_members,
    .map_members = map_members,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = NULL;
    tw_err err;
    if (tw_cbor_decode(data, size, &input, &err) != 0)
        return 0;
    /* No timestamp members here: tag 1 would turn seconds into ms. */
    tw_buf cbor = TW_BUF_INIT;
    tw_cbor_encode_output(&cbor, NULL, input);
    json_t *again = NULL;
    if (tw_cbor_decode((const uint8_t *)cbor.data, cbor.len, &again, &err) != 0 ||
        !json_equal(again, input)) {
        fprintf(stderr, "CBOR round trip changed the object: %s\n", err.msg);
        abort();
    }
    json_decref(again);
    tw_buf_free(&cbor);

    tw_buf out = TW_BUF_INIT;
    tw_query_encode_response(&out, &operation, "urn:fuzz", input, "r");
    tw_cbor_encode_output(&out, &operation, input);
    tw_buf_free(&out);
    json_decref(input);
    return 0;
}
