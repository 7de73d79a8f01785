/* proto_json.c — the JSON half of protocol.h: AWS JSON 1.0 / 1.1 and
 * REST-JSON request bodies to model objects, and model objects (outputs,
 * errors) back to JSON text.
 *
 * Decoding is jansson's parser; encoding is our own small writer because the
 * output needs two things jansson's dumper cannot do: timestamp members
 * (epoch ms in the model) written as epoch seconds for CloudWatch JSON 1.0
 * and CloudTrail, and reals printed as the shortest decimal that reads back
 * as the same double (the value a client sees is the value we stored).
 */
#include "protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- decoding ----------------------------------------------------------- */

/* AWS JSON protocols treat a null member as an absent one; dropping them here
 * means handlers never have to tell the two apart. Depth is bounded by
 * jansson's parser (JSON_PARSER_MAX_DEPTH). */
static void drop_null_members(json_t *value)
{
    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        void *tmp;
        json_object_foreach_safe(value, tmp, key, member) {
            if (json_is_null(member))
                json_object_del(value, key);
            else
                drop_null_members(member);
        }
    } else if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) drop_null_members(item);
    }
}

static bool is_blank(const uint8_t *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
            return false;
    return true;
}

static const char *json_kind(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

int tw_json_decode(const uint8_t *body, size_t len, json_t **out, tw_err *err)
{
    /* botocore sends no body at all for some inputless operations. */
    if (len == 0 || is_blank(body, len)) {
        *out = json_object();
        return 0;
    }
    json_error_t jerr;
    /* JSON_ALLOW_NUL: a log line may hold a NUL escaped as \u0000; refusing
     * it would refuse the whole batch around it. */
    json_t *value = json_loadb((const char *)body, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (value == NULL)
        return tw_err_set(err, -EINVAL,
                          "The request body is not valid JSON: %s (line %d, column %d).",
                          jerr.text, jerr.line, jerr.column);
    if (!json_is_object(value)) {
        tw_err_set(err, -EINVAL, "The request body must be a JSON object, not %s.",
                   json_kind(value));
        json_decref(value);
        return -EINVAL;
    }
    drop_null_members(value);
    *out = value;
    return 0;
}

/* ---- encoding ----------------------------------------------------------- */

static void put_string(tw_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    tw_buf_putc(out, '"');
    size_t run = 0; /* bytes copied as they are, flushed in one append */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *escape = NULL;
        char u[7];
        switch (c) {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                escape = u;
            }
        }
        if (escape == NULL) {
            run++;
            continue;
        }
        tw_buf_append(out, s + i - run, run);
        run = 0;
        tw_buf_puts(out, escape);
    }
    tw_buf_append(out, s + len - run, run);
    tw_buf_putc(out, '"');
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v: %.15g is exact
 * for every value with at most 15 significant digits (and %g drops trailing
 * zeros, so 0.1 stays "0.1"); 17 digits always round-trip. A result that
 * looks like an integer gets ".0" so that it stays a real for the reader. */
static void put_real(tw_buf *out, double v)
{
    char text[40];
    if (!isfinite(v)) {
        /* jansson cannot hold these, so only a handler bug gets here; JSON
         * has no spelling for them. */
        tw_buf_puts(out, "null");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, v);
        if (strtod(text, NULL) == v)
            break;
    }
    tw_buf_puts(out, text);
    if (strpbrk(text, ".eE") == NULL)
        tw_buf_puts(out, ".0");
}

/* Epoch ms as epoch seconds: an integer when whole, else up to 3 decimals. */
static void put_seconds(tw_buf *out, int64_t ms)
{
    /* Work on the magnitude in unsigned arithmetic: -INT64_MIN overflows. */
    uint64_t magnitude = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    if (ms < 0)
        tw_buf_putc(out, '-');
    tw_buf_printf(out, "%" PRIu64, magnitude / 1000);
    unsigned fraction = (unsigned)(magnitude % 1000);
    if (fraction == 0)
        return;
    char digits[5];
    snprintf(digits, sizeof digits, ".%03u", fraction);
    size_t n = strlen(digits);
    while (digits[n - 1] == '0')
        n--;
    tw_buf_append(out, digits, n);
}

static bool in_list(const char *const *list, const char *name)
{
    for (; list != NULL && *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static void put_value(tw_buf *out, const json_t *value, const tw_operation *op,
                      bool epoch_seconds, bool is_time);

/* A timestamp member: integers are epoch ms (reals too, if a handler used
 * one); lists of times convert element by element (GetMetricData Timestamps). */
static void put_time(tw_buf *out, const json_t *value, const tw_operation *op)
{
    if (json_is_integer(value))
        put_seconds(out, (int64_t)json_integer_value(value));
    else if (json_is_real(value))
        put_real(out, json_real_value(value) / 1000.0);
    else
        put_value(out, value, op, true, false);
}

static void put_object(tw_buf *out, const json_t *object, const tw_operation *op,
                       bool epoch_seconds)
{
    const char *key;
    json_t *member;
    bool first = true;
    tw_buf_putc(out, '{');
    json_object_foreach((json_t *)object, key, member) {
        if (!first)
            tw_buf_putc(out, ',');
        first = false;
        put_string(out, key, strlen(key));
        tw_buf_putc(out, ':');
        bool is_time = epoch_seconds && op != NULL && in_list(op->timestamp_members, key);
        put_value(out, member, op, epoch_seconds, is_time);
    }
    tw_buf_putc(out, '}');
}

static void put_value(tw_buf *out, const json_t *value, const tw_operation *op,
                      bool epoch_seconds, bool is_time)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        put_object(out, value, op, epoch_seconds);
        return;
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        tw_buf_putc(out, '[');
        json_array_foreach((json_t *)value, i, item) {
            if (i > 0)
                tw_buf_putc(out, ',');
            if (is_time)
                put_time(out, item, op);
            else
                put_value(out, item, op, epoch_seconds, false);
        }
        tw_buf_putc(out, ']');
        return;
    }
    case JSON_STRING:
        put_string(out, json_string_value(value), json_string_length(value));
        return;
    case JSON_INTEGER:
        if (is_time)
            put_time(out, value, op);
        else
            tw_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        return;
    case JSON_REAL:
        if (is_time)
            put_time(out, value, op);
        else
            put_real(out, json_real_value(value));
        return;
    case JSON_TRUE: tw_buf_puts(out, "true"); return;
    case JSON_FALSE: tw_buf_puts(out, "false"); return;
    case JSON_NULL: tw_buf_puts(out, "null"); return;
    }
}

void tw_json_encode_output(tw_buf *out, const tw_operation *op, const json_t *output,
                           bool epoch_seconds)
{
    if (output == NULL || !json_is_object(output)) {
        tw_buf_puts(out, "{}");
        return;
    }
    put_object(out, output, op, epoch_seconds);
}

void tw_json_encode_error(tw_buf *out, const char *type, const char *message)
{
    tw_buf_puts(out, "{\"__type\":");
    put_string(out, type, strlen(type));
    tw_buf_puts(out, ",\"message\":");
    put_string(out, message, strlen(message));
    tw_buf_putc(out, '}');
}
