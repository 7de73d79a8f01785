/* fuzz_parser_json.c — libFuzzer target for format = json
 * (plugins/parser_json), checked against jansson. The input is cut into
 * lines at '\n'; each line must give exactly one record with the line as
 * its message and its offsets, no fields and the read time when unparsed,
 * NUL-terminated non-NULL names. Then:
 *   - a line jansson reads as an object (after a byte order mark the parser
 *     lets go; lines with a raw NUL byte left out: jansson skips one after a
 *     number) must be parsed, and each member must be there with the same
 *     value: strings byte for byte, numbers as the
 *     same double, true/false, nested values equal (json_equal) once their
 *     raw text is loaded; nulls absent; as many fields as non-null members
 *     (up to TW_LOG_MAX_FIELDS);
 *   - a line the parser accepts must be one jansson accepts, except for
 *     what parser_json.h says it does differently: numbers beyond a double,
 *     lone surrogates, NUL in a key, bytes that are not UTF-8 (the tail
 *     never hands those over), and the nesting limit counted one deeper.
 * Nothing may crash, leak or trip a sanitizer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log_parser.h"
#include "parser_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define READ_MS INT64_C(1718452800000)
#define MIN_TIME_MS INT64_C(-62167219200000)
#define MAX_TIME_MS INT64_C(253402300799999)
#define FLAGS (JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL)

typedef struct expect {
    tw_log_line line;
    size_t records;
} expect;

static const tw_log_field *find(const tw_log_record *r, const char *name)
{
    for (unsigned i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return &r->fields[i];
    return NULL;
}

static bool same_value(const tw_log_field *f, json_t *want)
{
    switch (json_typeof(want)) {
    case JSON_STRING:
        return f->len == json_string_length(want) &&
               memcmp(f->value, json_string_value(want), f->len) == 0;
    case JSON_TRUE:
        return f->len == 4 && memcmp(f->value, "true", 4) == 0;
    case JSON_FALSE:
        return f->len == 5 && memcmp(f->value, "false", 5) == 0;
    case JSON_REAL:
    case JSON_INTEGER: {
        char copy[512];
        if (f->len >= sizeof copy)
            return true; /* a very long number: its grammar was checked */
        memcpy(copy, f->value, f->len);
        copy[f->len] = '\0';
        return strtod(copy, NULL) == json_number_value(want);
    }
    case JSON_OBJECT:
    case JSON_ARRAY: {
        json_error_t error;
        json_t *got = json_loadb(f->value, f->len, FLAGS, &error);
        bool same = got != NULL && json_equal(got, want);
        json_decref(got);
        return same;
    }
    case JSON_NULL:
        return false;
    }
    return false;
}

static void compare_with_jansson(const tw_log_record *r, json_t *object)
{
    if (!r->parsed)
        abort();
    size_t members = 0;
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        const tw_log_field *f = find(r, key);
        if (json_is_null(value)) {
            if (f != NULL)
                abort();
            continue;
        }
        members++;
        if (f == NULL) {
            if (json_object_size(object) <= TW_LOG_MAX_FIELDS)
                abort();
            continue;
        }
        if (!same_value(f, value))
            abort();
    }
    if (json_object_size(object) <= TW_LOG_MAX_FIELDS && r->n_fields != members)
        abort();
}

static bool known_difference(const char *why)
{
    static const char *const texts[] = {"real number overflow", "invalid Unicode",
                                        "NUL byte in object key", "unable to decode byte",
                                        "maximum parsing depth"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strstr(why, texts[i]) != NULL)
            return true;
    return false;
}

static void check_record(void *ctx, const tw_log_record *r)
{
    expect *e = ctx;
    const tw_log_line *line = &e->line;
    e->records++;
    if (r->message != line->text || r->message_len != line->len || r->offset != line->offset ||
        r->end != line->end || r->n_fields > TW_LOG_MAX_FIELDS)
        abort();
    if (!r->parsed && (r->n_fields != 0 || r->timestamp_ms != line->read_time_ms))
        abort();
    if (r->parsed && r->timestamp_ms != line->read_time_ms &&
        (r->timestamp_ms < MIN_TIME_MS || r->timestamp_ms > MAX_TIME_MS))
        abort();
    for (unsigned i = 0; i < r->n_fields; i++)
        if (r->fields[i].name == NULL || r->fields[i].value == NULL)
            abort();

    /* The parser lets a byte order mark go before the object; jansson does
     * not, so it is shown the line after it. */
    const char *text = line->text;
    size_t len = line->len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    json_error_t error;
    json_t *v = json_loadb(text, len, FLAGS, &error);
    /* jansson takes a raw NUL byte after a number for the end of the
     * number ({"a":1<NUL>} loads); JSON has no such byte outside strings. */
    bool raw_nul = memchr(line->text, '\0', line->len) != NULL;
    if (v != NULL && json_is_object(v) && !raw_nul)
        compare_with_jansson(r, v);
    else if (r->parsed && v == NULL && !known_difference(error.text)) {
        fprintf(stderr, "parsed, but jansson says: %s\n", error.text);
        abort();
    } else if (r->parsed && v != NULL) {
        abort(); /* an array */
    }
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *state;
    tw_err err;
    if (tw_parser_json.create(&(tw_log_parser_options){.section = "fuzz"}, &state, &err) != 0)
        abort();
    const char *text = (const char *)data;
    size_t start = 0;
    while (start < size) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t stop = nl ? (size_t)(nl - text) : size;
        size_t next = nl ? stop + 1 : size;
        expect e = {{text + start, stop - start, start, next, READ_MS, false}, 0};
        tw_parser_json.feed(state, &e.line, check_record, &e);
        if (e.records != 1)
            abort();
        start = next;
    }
    tw_parser_json.destroy(state);
    return 0;
}
