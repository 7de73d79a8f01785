/* proto_cbor.c — Smithy RPC v2 CBOR bodies (cloudwatch.md §1.3.4): a request
 * map into an input object, an output object or an error into a map.
 *
 * Decoding drives libcbor's streaming decoder (one callback per item head)
 * and builds the jansson tree itself with an explicit, bounded stack: no
 * libcbor item tree, so no recursion over attacker-chosen nesting and no
 * allocation sized by a length the input merely claims.
 */
#include <cbor.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"
#include "mem.h"
#include "protocol.h"

#define CBOR_MAX_DEPTH 64
/* About 9 bytes an item in a real PutMetricData; this bounds what an 8 MiB
 * body of one-byte items ("[[],[],...]") can make us allocate. */
#define CBOR_MAX_ITEMS 1000000

typedef struct cbor_frame {
    json_t *container; /* object or array */
    bool indefinite;
    uint64_t remaining; /* definite: items (keys and values) still to come */
    char *key;          /* maps: the key waiting for its value */
} cbor_frame;

typedef enum chunked_kind {
    CHUNKED_NONE,
    CHUNKED_TEXT,
    CHUNKED_BYTES,
} chunked_kind;

typedef struct cbor_decoder {
    cbor_frame stack[CBOR_MAX_DEPTH];
    size_t depth;
    json_t *root;          /* the top-level map once complete */
    size_t offset;         /* where the current item starts, for messages */
    size_t items;
    bool epoch_tag;        /* tag 1 seen; its number comes next */
    chunked_kind chunked;  /* inside an indefinite-length string */
    tw_buf chunks;
    int rc;
    tw_err *err;
} cbor_decoder;

#define CBOR_MALFORMED "Malformed CBOR body: "

static bool failed(cbor_decoder *dec)
{
    return dec->rc != 0;
}

static void fail(cbor_decoder *dec, const char *what)
{
    if (failed(dec))
        return;
    dec->rc = tw_err_set(dec->err, -EINVAL, CBOR_MALFORMED "%s at byte %zu", what, dec->offset);
}

static cbor_frame *top(cbor_decoder *dec)
{
    return dec->depth ? &dec->stack[dec->depth - 1] : NULL;
}

static bool expecting_key(cbor_decoder *dec)
{
    cbor_frame *frame = top(dec);
    return frame != NULL && json_is_object(frame->container) && frame->key == NULL;
}

/* Checks common to every item head: the item limit, and that it is not
 * where only a string chunk or a number may stand. */
static bool begin_item(cbor_decoder *dec)
{
    if (failed(dec))
        return false;
    if (++dec->items > CBOR_MAX_ITEMS) {
        fail(dec, "more than 1000000 items");
        return false;
    }
    if (dec->chunked != CHUNKED_NONE) {
        fail(dec, "an indefinite-length string holds an item that is not a string of its type");
        return false;
    }
    if (dec->depth == 0 && dec->root != NULL) {
        fail(dec, "trailing data after the top-level map");
        return false;
    }
    return true;
}

static void close_frames(cbor_decoder *dec);

/* A complete value (reference stolen) goes into the container on top. */
static void add_value(cbor_decoder *dec, json_t *value)
{
    cbor_frame *frame = top(dec);
    if (frame == NULL) {
        json_decref(value);
        fail(dec, "the body is not a CBOR map");
        return;
    }
    if (json_is_array(frame->container)) {
        json_array_append_new(frame->container, value);
    } else if (frame->key == NULL) {
        json_decref(value);
        fail(dec, "a map key is not a text string");
        return;
    } else {
        /* Null and undefined members are absent members (Smithy rpcv2Cbor). */
        if (json_is_null(value))
            json_decref(value);
        else
            json_object_set_new(frame->container, frame->key, value);
        free(frame->key);
        frame->key = NULL;
    }
    if (!frame->indefinite)
        frame->remaining--;
    close_frames(dec);
}

/* Definite containers whose last item arrived are complete values of their
 * parent; this may complete the parent too. */
static void close_frames(cbor_decoder *dec)
{
    cbor_frame *frame = top(dec);
    if (failed(dec) || frame == NULL || frame->indefinite || frame->remaining > 0)
        return;
    json_t *container = frame->container;
    dec->depth--;
    if (dec->depth == 0)
        dec->root = container;
    else
        add_value(dec, container);
}

/* A scalar (reference stolen); tag 1 turns a number into epoch seconds. */
static void scalar(cbor_decoder *dec, json_t *value)
{
    if (!begin_item(dec)) {
        json_decref(value);
        return;
    }
    if (dec->epoch_tag) {
        dec->epoch_tag = false;
        if (!json_is_number(value)) {
            json_decref(value);
            fail(dec, "tag 1 (epoch time) does not wrap a number");
            return;
        }
        double seconds = json_number_value(value);
        json_decref(value);
        value = json_real(seconds);
    }
    add_value(dec, value);
}

static void text_complete(cbor_decoder *dec, const char *data, size_t len)
{
    if (expecting_key(dec)) {
        if (memchr(data, '\0', len) != NULL) {
            fail(dec, "a map key holds a NUL character");
            return;
        }
        json_t *key = json_stringn(data, len);
        if (key == NULL) {
            fail(dec, "a map key is not valid UTF-8");
            return;
        }
        cbor_frame *frame = top(dec);
        if (json_object_get(frame->container, json_string_value(key)) != NULL) {
            json_decref(key);
            fail(dec, "a map has the same key twice");
            return;
        }
        frame->key = tw_strdup(json_string_value(key));
        json_decref(key);
        if (!frame->indefinite)
            frame->remaining--;
        return;
    }
    json_t *value = json_stringn(data, len);
    if (value == NULL) {
        fail(dec, "a text string is not valid UTF-8");
        return;
    }
    add_value(dec, value);
}

static void bytes_complete(cbor_decoder *dec, const unsigned char *data, size_t len)
{
    tw_buf text = TW_BUF_INIT;
    tw_base64_encode(data, len, &text);
    json_t *value = json_stringn(text.data ? text.data : "", text.len);
    tw_buf_free(&text);
    add_value(dec, value);
}

/* String heads: a whole definite string, or a chunk of an indefinite one. */
static bool begin_string(cbor_decoder *dec, chunked_kind kind)
{
    if (failed(dec))
        return false;
    if (dec->chunked == kind)
        return true; /* a chunk: its pieces were checked at the start */
    if (!begin_item(dec))
        return false;
    if (dec->epoch_tag) {
        fail(dec, "tag 1 (epoch time) does not wrap a number");
        return false;
    }
    if (kind == CHUNKED_BYTES && expecting_key(dec)) {
        fail(dec, "a map key is not a text string");
        return false;
    }
    return true;
}

static void on_string(void *ctx, cbor_data data, size_t len)
{
    cbor_decoder *dec = ctx;
    if (!begin_string(dec, CHUNKED_TEXT))
        return;
    if (dec->chunked == CHUNKED_TEXT)
        tw_buf_append(&dec->chunks, data, len);
    else
        text_complete(dec, (const char *)data, len);
}

static void on_byte_string(void *ctx, cbor_data data, size_t len)
{
    cbor_decoder *dec = ctx;
    if (!begin_string(dec, CHUNKED_BYTES))
        return;
    if (dec->chunked == CHUNKED_BYTES)
        tw_buf_append(&dec->chunks, data, len);
    else
        bytes_complete(dec, data, len);
}

static void start_chunked(cbor_decoder *dec, chunked_kind kind)
{
    if (dec->chunked != CHUNKED_NONE) {
        fail(dec, "an indefinite-length string is nested in another");
        return;
    }
    if (!begin_string(dec, kind))
        return;
    dec->chunked = kind;
    tw_buf_reset(&dec->chunks);
}

static void on_string_start(void *ctx)
{
    start_chunked(ctx, CHUNKED_TEXT);
}

static void on_byte_string_start(void *ctx)
{
    start_chunked(ctx, CHUNKED_BYTES);
}

static void open_container(cbor_decoder *dec, bool map, bool indefinite, uint64_t count)
{
    if (!begin_item(dec))
        return;
    if (dec->epoch_tag) {
        fail(dec, "tag 1 (epoch time) does not wrap a number");
        return;
    }
    if (expecting_key(dec)) {
        fail(dec, "a map key is not a text string");
        return;
    }
    if (dec->depth == 0 && !map) {
        fail(dec, "the body is not a CBOR map");
        return;
    }
    if (dec->depth == CBOR_MAX_DEPTH) {
        fail(dec, "items are nested deeper than 64 levels");
        return;
    }
    cbor_frame *frame = &dec->stack[dec->depth++];
    memset(frame, 0, sizeof *frame);
    frame->container = map ? json_object() : json_array();
    frame->indefinite = indefinite;
    /* A map of n pairs is 2n items; n above 2^63 cannot be in any body. */
    frame->remaining = map ? (count > UINT64_MAX / 2 ? UINT64_MAX : count * 2) : count;
    close_frames(dec); /* empty definite containers are complete at once */
}

static void on_array_start(void *ctx, size_t count)
{
    open_container(ctx, false, false, count);
}

static void on_indef_array_start(void *ctx)
{
    open_container(ctx, false, true, 0);
}

static void on_map_start(void *ctx, size_t count)
{
    open_container(ctx, true, false, count);
}

static void on_indef_map_start(void *ctx)
{
    open_container(ctx, true, true, 0);
}

static void on_break(void *ctx)
{
    cbor_decoder *dec = ctx;
    if (failed(dec))
        return;
    if (dec->chunked != CHUNKED_NONE) {
        chunked_kind kind = dec->chunked;
        dec->chunked = CHUNKED_NONE;
        const char *data = dec->chunks.data ? dec->chunks.data : "";
        if (kind == CHUNKED_TEXT)
            text_complete(dec, data, dec->chunks.len);
        else
            bytes_complete(dec, (const unsigned char *)data, dec->chunks.len);
        return;
    }
    cbor_frame *frame = top(dec);
    if (dec->epoch_tag || frame == NULL || !frame->indefinite) {
        fail(dec, "a break (0xff) ends no indefinite-length item");
        return;
    }
    if (frame->key != NULL) {
        fail(dec, "a map ends between a key and its value");
        return;
    }
    frame->indefinite = false;
    frame->remaining = 0;
    close_frames(dec);
}

static void on_uint(cbor_decoder *dec, uint64_t value)
{
    if (value > INT64_MAX) {
        if (begin_item(dec))
            fail(dec, "an integer is larger than 2^63-1");
        return;
    }
    scalar(dec, json_integer((json_int_t)value));
}

/* CBOR's negative integer n is -1 - n. */
static void on_negint(cbor_decoder *dec, uint64_t value)
{
    if (value > INT64_MAX) {
        if (begin_item(dec))
            fail(dec, "an integer is smaller than -2^63");
        return;
    }
    scalar(dec, json_integer(-1 - (json_int_t)value));
}

static void on_uint8(void *ctx, uint8_t value) { on_uint(ctx, value); }
static void on_uint16(void *ctx, uint16_t value) { on_uint(ctx, value); }
static void on_uint32(void *ctx, uint32_t value) { on_uint(ctx, value); }
static void on_uint64(void *ctx, uint64_t value) { on_uint(ctx, value); }
static void on_negint8(void *ctx, uint8_t value) { on_negint(ctx, value); }
static void on_negint16(void *ctx, uint16_t value) { on_negint(ctx, value); }
static void on_negint32(void *ctx, uint32_t value) { on_negint(ctx, value); }
static void on_negint64(void *ctx, uint64_t value) { on_negint(ctx, value); }

/* JSON has no NaN or infinities; the AWS JSON protocols spell them as these
 * strings, which the input helpers read (and the handlers then reject). */
static void on_double(void *ctx, double value)
{
    cbor_decoder *dec = ctx;
    if (isfinite(value)) {
        scalar(dec, json_real(value));
        return;
    }
    if (dec->epoch_tag) {
        if (begin_item(dec))
            fail(dec, "tag 1 (epoch time) wraps a NaN or an infinity");
        return;
    }
    scalar(dec, json_string(isnan(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity"));
}

static void on_float(void *ctx, float value)
{
    on_double(ctx, (double)value);
}

static void on_tag(void *ctx, uint64_t tag)
{
    cbor_decoder *dec = ctx;
    if (!begin_item(dec))
        return;
    dec->items--; /* the tag and its number are one value */
    if (expecting_key(dec))
        fail(dec, "a map key is not a text string");
    else if (tag != 1)
        fail(dec, "only tag 1 (epoch time) is allowed");
    else if (dec->epoch_tag)
        fail(dec, "tag 1 (epoch time) wraps another tag");
    else
        dec->epoch_tag = true;
}

static void on_null(void *ctx)
{
    scalar(ctx, json_null());
}

static void on_boolean(void *ctx, bool value)
{
    scalar(ctx, json_boolean(value));
}

static const struct cbor_callbacks decode_callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_negint8,
    .negint16 = on_negint16,
    .negint32 = on_negint32,
    .negint64 = on_negint64,
    .byte_string_start = on_byte_string_start,
    .byte_string = on_byte_string,
    .string = on_string,
    .string_start = on_string_start,
    .indef_array_start = on_indef_array_start,
    .array_start = on_array_start,
    .indef_map_start = on_indef_map_start,
    .map_start = on_map_start,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_null,
    .null = on_null,
    .boolean = on_boolean,
    .indef_break = on_break,
};

static void free_decoder(cbor_decoder *dec)
{
    for (size_t i = 0; i < dec->depth; i++) {
        json_decref(dec->stack[i].container);
        free(dec->stack[i].key);
    }
    tw_buf_free(&dec->chunks);
}

int tw_cbor_decode(const uint8_t *data, size_t len, json_t **out, tw_err *err)
{
    if (len == 0) { /* operations without input send no body */
        *out = json_object();
        return 0;
    }
    cbor_decoder dec = {.err = err};
    size_t pos = 0;
    while (pos < len && !failed(&dec)) {
        dec.offset = pos;
        if (dec.root != NULL) {
            fail(&dec, "trailing data after the top-level map");
            break;
        }
        struct cbor_decoder_result result = cbor_stream_decode(data + pos, len - pos,
                                                               &decode_callbacks, &dec);
        if (result.status == CBOR_DECODER_NEDATA) {
            fail(&dec, "the body ends inside an item");
        } else if (result.status == CBOR_DECODER_ERROR) {
            char what[64];
            snprintf(what, sizeof what, "reserved or unsupported initial byte 0x%02x", data[pos]);
            fail(&dec, what);
        }
        pos += result.read;
    }
    if (!failed(&dec) && dec.root == NULL) {
        dec.offset = len;
        fail(&dec, dec.depth || dec.chunked || dec.epoch_tag ? "the body ends inside an item"
                                                             : "the body is not a CBOR map");
    }
    free_decoder(&dec);
    if (failed(&dec)) {
        json_decref(dec.root);
        return dec.rc;
    }
    *out = dec.root;
    return 0;
}

/* ---- encoding ---- */

/* libcbor writes an item head (at most 9 bytes) into a caller's array. */
typedef unsigned char cbor_head[9];

static void put_text(tw_buf *out, const char *text, size_t len)
{
    cbor_head head;
    tw_buf_append(out, head, cbor_encode_string_start(len, head, sizeof head));
    tw_buf_append(out, text, len);
}

/* Smallest encoding: libcbor picks it from the value. */
static void put_int(tw_buf *out, int64_t value)
{
    cbor_head head;
    size_t n = value >= 0 ? cbor_encode_uint((uint64_t)value, head, sizeof head)
                          : cbor_encode_negint((uint64_t)(-1 - value), head, sizeof head);
    tw_buf_append(out, head, n);
}

static void put_double(tw_buf *out, double value)
{
    cbor_head head;
    tw_buf_append(out, head, cbor_encode_double(value, head, sizeof head));
}

/* Tag 1 around epoch seconds: an integer when the time is whole seconds,
 * else a double with the milliseconds (Smithy timestamp rules). */
static void put_time(tw_buf *out, double ms)
{
    cbor_head head;
    tw_buf_append(out, head, cbor_encode_tag(1, head, sizeof head));
    double seconds = ms / 1000.0;
    if (fabs(seconds) < 9e15 && seconds == floor(seconds))
        put_int(out, (int64_t)seconds);
    else
        put_double(out, seconds);
}

static bool listed(const char *const *names, const char *name)
{
    for (; names != NULL && *names != NULL; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static void put_value(tw_buf *out, const tw_operation *op, const json_t *value, bool is_time);

/* Absent (null) members are left out, not sent as null. */
static void put_map(tw_buf *out, const tw_operation *op, const json_t *object)
{
    size_t present = 0;
    const char *key;
    json_t *member;
    json_object_foreach((json_t *)object, key, member) {
        if (!json_is_null(member))
            present++;
    }
    cbor_head head;
    tw_buf_append(out, head, cbor_encode_map_start(present, head, sizeof head));
    json_object_foreach((json_t *)object, key, member) {
        if (json_is_null(member))
            continue;
        put_text(out, key, strlen(key));
        put_value(out, op, member, listed(op ? op->timestamp_members : NULL, key));
    }
}

static void put_value(tw_buf *out, const tw_operation *op, const json_t *value, bool is_time)
{
    cbor_head head;
    switch (json_typeof(value)) {
    case JSON_OBJECT: put_map(out, op, value); break;
    case JSON_ARRAY:
        tw_buf_append(out, head, cbor_encode_array_start(json_array_size(value), head, sizeof head));
        for (size_t i = 0; i < json_array_size(value); i++)
            put_value(out, op, json_array_get(value, i), is_time);
        break;
    case JSON_STRING: put_text(out, json_string_value(value), json_string_length(value)); break;
    case JSON_INTEGER:
        if (is_time)
            put_time(out, (double)json_integer_value(value));
        else
            put_int(out, json_integer_value(value));
        break;
    case JSON_REAL:
        if (is_time)
            put_time(out, json_real_value(value));
        else
            put_double(out, json_real_value(value));
        break;
    case JSON_TRUE: tw_buf_append(out, head, cbor_encode_bool(true, head, sizeof head)); break;
    case JSON_FALSE: tw_buf_append(out, head, cbor_encode_bool(false, head, sizeof head)); break;
    case JSON_NULL: tw_buf_append(out, head, cbor_encode_null(head, sizeof head)); break;
    }
}

void tw_cbor_encode_output(tw_buf *out, const tw_operation *op, const json_t *output)
{
    if (output == NULL || !json_is_object(output)) {
        cbor_head head;
        tw_buf_append(out, head, cbor_encode_map_start(0, head, sizeof head));
        return;
    }
    put_map(out, op, output);
}

void tw_cbor_encode_error(tw_buf *out, const char *type, const char *message)
{
    cbor_head head;
    message = message ? message : "";
    tw_buf_append(out, head, cbor_encode_map_start(2, head, sizeof head));
    put_text(out, "__type", 6);
    put_text(out, type, strlen(type));
    put_text(out, "message", 7);
    put_text(out, message, strlen(message));
}
