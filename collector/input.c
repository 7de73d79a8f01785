/* input.c — the tw_input_* helpers of call.h: reading one input member in
 * whatever spelling the request's protocol used (JSON numbers and booleans,
 * awsQuery strings, CBOR values), and failing with the service's own error
 * code and a message that names the member.
 *
 * Messages follow the service's style: CloudWatch (the query-protocol
 * service) says "The parameter Period must be an integer ..."; Logs and the
 * other JSON services use the Coral validation sentence "1 validation error
 * detected: Value 'x' at 'limit' failed to satisfy constraint: Member must
 * ...".
 */
#include "call.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "timefmt.h"

#define SHOWN_VALUE_MAX 100
/* Epoch seconds of 0000-01-01 and 9999-12-31T23:59:59: the range of
 * timefmt.h, so every accepted time can also be written back out. */
#define MIN_EPOCH_SECONDS (-62167219200.0)
#define MAX_EPOCH_SECONDS 253402300799.0

/* ---- messages ------------------------------------------------------------ */

static bool cloudwatch_style(const tw_call *call)
{
    return call->service != NULL && call->service->xml_namespace != NULL;
}

/* The value as the message shows it: strings as they are (control bytes
 * replaced, long ones cut), anything else as compact JSON. */
static void show_value(const json_t *value, char *out, size_t size)
{
    char *dumped = NULL;
    const char *text;
    size_t len;
    if (json_is_string(value)) {
        text = json_string_value(value);
        len = json_string_length(value);
    } else {
        dumped = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        text = dumped != NULL ? dumped : "?";
        len = strlen(text);
    }
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < size; i++) {
        if (n >= SHOWN_VALUE_MAX) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)text[i];
        out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
    free(dumped);
}

/* constraint: what the member must be, as a noun phrase ("an integer"). */
static int fail_invalid(tw_call *call, const char *member, const json_t *value,
                        const char *constraint)
{
    char shown[SHOWN_VALUE_MAX + 8];
    show_value(value, shown, sizeof shown);
    const tw_service *s = call->service;
    const char *code = s != NULL && s->invalid_parameter_code != NULL
                           ? s->invalid_parameter_code
                           : "ValidationException";
    const char *query_code = s != NULL ? s->invalid_parameter_query_code : NULL;
    if (cloudwatch_style(call))
        return tw_call_fail_query(call, code, query_code, 400,
                                  "The parameter %s must be %s; got '%s'.", member, constraint,
                                  shown);
    return tw_call_fail_query(call, code, query_code, 400,
                              "1 validation error detected: Value '%s' at '%s' failed to "
                              "satisfy constraint: Member must be %s",
                              shown, member, constraint);
}

static int fail_missing(tw_call *call, const char *member)
{
    const tw_service *s = call->service;
    const char *code = s != NULL && s->missing_parameter_code != NULL
                           ? s->missing_parameter_code
                           : "ValidationException";
    const char *query_code = s != NULL ? s->missing_parameter_query_code : NULL;
    if (cloudwatch_style(call))
        return tw_call_fail_query(call, code, query_code, 400, "The parameter %s is required.",
                                  member);
    return tw_call_fail_query(call, code, query_code, 400,
                              "1 validation error detected: Value null at '%s' failed to "
                              "satisfy constraint: Member must not be null",
                              member);
}

/* The member, or NULL when absent; JSON null counts as absent (AWS JSON
 * protocols treat a null member as not set). */
static json_t *member_of(json_t *obj, const char *member)
{
    json_t *value = json_is_object(obj) ? json_object_get(obj, member) : NULL;
    return json_is_null(value) ? NULL : value;
}

/* ---- numbers in text ------------------------------------------------------ */

/* A decimal integer: optional sign, digits, nothing else (no blanks, no hex,
 * no fraction). */
static bool parse_int_text(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    if (i == len)
        return false;
    uint64_t magnitude = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned digit = (unsigned)(s[i] - '0');
        if (magnitude > (limit - digit) / 10)
            return false;
        magnitude = magnitude * 10 + digit;
    }
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return true;
}

/* A decimal real as clients print them ("1.5", "2", "1.0E-5", "1e+100",
 * ".5"): sign, digits with at most one point, optional exponent. NaN,
 * Infinity, hex floats and blanks are refused before strtod sees them. */
static bool parse_double_text(const char *s, size_t len, double *out)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t exponent_digits = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            exponent_digits++;
        if (exponent_digits == 0)
            return false;
    }
    if (i != len || len > 512)
        return false;
    char text[520];
    memcpy(text, s, len);
    text[len] = '\0';
    double v = strtod(text, NULL);
    if (!isfinite(v)) /* "1e999" overflows to infinity */
        return false;
    *out = v;
    return true;
}

/* ---- the helpers ----------------------------------------------------------- */

int tw_input_string(tw_call *call, json_t *obj, const char *member, const char **out)
{
    json_t *value = member_of(obj, member);
    if (value == NULL)
        return -ENOENT;
    if (!json_is_string(value))
        return fail_invalid(call, member, value, "a string");
    *out = json_string_value(value);
    return 0;
}

int tw_input_required_string(tw_call *call, json_t *obj, const char *member, const char **out)
{
    int rc = tw_input_string(call, obj, member, out);
    return rc == -ENOENT ? fail_missing(call, member) : rc;
}

int tw_input_int(tw_call *call, json_t *obj, const char *member, int64_t *out)
{
    json_t *value = member_of(obj, member);
    if (value == NULL)
        return -ENOENT;
    if (json_is_integer(value)) {
        *out = (int64_t)json_integer_value(value);
        return 0;
    }
    if (json_is_real(value)) {
        /* 60.0 from an SDK that writes every number as a real. */
        double v = json_real_value(value);
        if (v == floor(v) && v >= -9.2e18 && v <= 9.2e18) {
            *out = (int64_t)v;
            return 0;
        }
    } else if (json_is_string(value)
               && parse_int_text(json_string_value(value), json_string_length(value), out)) {
        return 0;
    }
    return fail_invalid(call, member, value, "an integer");
}

int tw_input_double(tw_call *call, json_t *obj, const char *member, double *out)
{
    json_t *value = member_of(obj, member);
    if (value == NULL)
        return -ENOENT;
    if (json_is_number(value)) {
        *out = json_number_value(value);
        return 0;
    }
    if (json_is_string(value)
        && parse_double_text(json_string_value(value), json_string_length(value), out))
        return 0;
    return fail_invalid(call, member, value, "a finite number");
}

int tw_input_bool(tw_call *call, json_t *obj, const char *member, bool *out)
{
    json_t *value = member_of(obj, member);
    if (value == NULL)
        return -ENOENT;
    if (json_is_boolean(value)) {
        *out = json_is_true(value);
        return 0;
    }
    if (json_is_string(value)) {
        const char *s = json_string_value(value);
        if (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0) {
            *out = strcasecmp(s, "true") == 0;
            return 0;
        }
    }
    return fail_invalid(call, member, value, "a boolean (true or false)");
}

static bool seconds_to_ms(double seconds, int64_t *out_ms)
{
    if (!isfinite(seconds) || seconds < MIN_EPOCH_SECONDS || seconds > MAX_EPOCH_SECONDS)
        return false;
    *out_ms = (int64_t)llround(seconds * 1000.0);
    return true;
}

/* An ISO 8601 time; one without a zone is taken as UTC, as AWS does. */
static bool parse_time_text(const char *s, size_t len, int64_t *out_ms)
{
    if (tw_time_parse_iso8601(s, len, out_ms, NULL) == 0)
        return true;
    if (len > 0 && len < 64 && memchr(s, 'T', len) != NULL && s[len - 1] != 'Z') {
        char with_zone[66];
        memcpy(with_zone, s, len);
        with_zone[len] = 'Z';
        if (tw_time_parse_iso8601(with_zone, len + 1, out_ms, NULL) == 0)
            return true;
    }
    double seconds;
    return parse_double_text(s, len, &seconds) && seconds_to_ms(seconds, out_ms);
}

int tw_input_time(tw_call *call, json_t *obj, const char *member, int64_t *out_ms)
{
    json_t *value = member_of(obj, member);
    if (value == NULL)
        return -ENOENT;
    if (json_is_number(value) && seconds_to_ms(json_number_value(value), out_ms))
        return 0;
    if (json_is_string(value)
        && parse_time_text(json_string_value(value), json_string_length(value), out_ms))
        return 0;
    return fail_invalid(call, member, value,
                        "a timestamp (ISO 8601 such as 2024-01-01T00:00:00Z, or epoch seconds)");
}

int tw_input_array(tw_call *call, json_t *obj, const char *member, json_t **out)
{
    json_t *value = member_of(obj, member);
    if (value == NULL)
        return -ENOENT;
    if (json_is_array(value)) {
        *out = value;
        return 0;
    }
    if (json_is_string(value) && json_string_length(value) == 0) {
        /* awsQuery sends an empty list as "Member=": the caller gets a real
         * (empty) array, owned by obj like any member. */
        json_t *empty = json_array();
        json_object_set_new(obj, member, empty);
        *out = empty;
        return 0;
    }
    return fail_invalid(call, member, value, "a list");
}
