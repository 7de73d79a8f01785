/* parser_json.c — format = json: a scan of one JSON object per line into
 * fields, and its timestamp (see parser_json.h). A scan rather than
 * jansson's json_loadb: numbers stay as written and nothing is allocated
 * per line; fuzz_parser_json holds every verdict to jansson's. */
#include "parser_json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_localtime.h"
#include "mem.h"
#include "timefmt.h"

/* The first and last instants timefmt can write: 0000-01-01, 9999-12-31. */
#define MIN_TIME_MS INT64_C(-62167219200000)
#define MAX_TIME_MS INT64_C(253402300799999)

typedef enum value_kind {
    KIND_STRING,
    KIND_NUMBER,
    KIND_OTHER, /* true, false, object, array */
} value_kind;

typedef struct json_state {
    tw_log_localtime localtime;
    /* Field names and unescaped strings. Sized to the line before the
     * scan: unescaping never makes text longer, and each name's NUL is paid
     * for by its quotes, so the scan never outgrows it. */
    char *scratch;
    size_t scratch_size;
    /* Of record.fields[i]: comparing lengths first keeps the duplicate
     * check (every name against the ones before) off strcmp. */
    value_kind kinds[TW_LOG_MAX_FIELDS];
    size_t name_lens[TW_LOG_MAX_FIELDS];
} json_state;

/* A cursor over the line; out is where the next unescaped byte goes. */
typedef struct scan {
    const char *p;
    const char *end;
    char *out;
} scan;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void skip_blanks(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool eat(scan *s, char c)
{
    if (s->p >= s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

/* ---- strings ------------------------------------------------------------ */

static bool hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (is_digit(c))
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* p is after "\u"; reads one code point, a surrogate pair being one. A
 * surrogate without its other half is U+FFFD (6 bytes in, 3 out). */
static bool unicode_escape(const char **p, const char *end, unsigned *cp)
{
    if (!hex4(*p, end, cp))
        return false;
    *p += 4;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
        *cp = 0xFFFD;
    } else if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        unsigned low;
        if (end - *p >= 6 && (*p)[0] == '\\' && (*p)[1] == 'u' && hex4(*p + 2, end, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
            *p += 6;
        } else {
            *cp = 0xFFFD;
        }
    }
    return true;
}

/* Unescapes the string whose text starts at from (after the opening quote)
 * into s->out; leaves s->p after the closing quote. */
static bool unescape(scan *s, const char *from, const char **value, size_t *len)
{
    const char *p = from;
    char *o = s->out;
    for (;;) {
        if (p >= s->end)
            return false;
        unsigned char c = (unsigned char)*p++;
        if (c == '"')
            break;
        if (c < 0x20) /* RFC 8259: control characters must be escaped */
            return false;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (p >= s->end)
            return false;
        unsigned cp;
        switch (*p++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (!unicode_escape(&p, s->end, &cp))
                return false;
            o = put_utf8(o, cp);
            break;
        default:
            return false;
        }
    }
    *value = s->out;
    *len = (size_t)(o - s->out);
    s->out = o;
    s->p = p;
    return true;
}

/* A string value at s->p (the opening quote): in place when it has no
 * escapes, else unescaped into the scratch buffer. */
static bool scan_string(scan *s, const char **value, size_t *len)
{
    const char *start = ++s->p;
    for (const char *p = start; p < s->end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *value = start;
            *len = (size_t)(p - start);
            s->p = p + 1;
            return true;
        }
        if (c == '\\' || c < 0x20)
            return unescape(s, start, value, len);
    }
    return false;
}

/* A member name: always copied, NUL-terminated (tw_log_record_get compares
 * names with strcmp; a name holding \u0000 ends there). */
static bool scan_name(scan *s, const char **name, size_t *len)
{
    if (!eat(s, '"') || !unescape(s, s->p, name, len))
        return false;
    *s->out++ = '\0';
    return true;
}

/* ---- numbers, literals, nested values ------------------------------------- */

static void skip_digits(scan *s)
{
    while (s->p < s->end && is_digit(*s->p))
        s->p++;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(scan *s)
{
    eat(s, '-');
    if (s->p >= s->end || !is_digit(*s->p))
        return false;
    if (!eat(s, '0'))
        skip_digits(s);
    if (eat(s, '.')) {
        if (s->p >= s->end || !is_digit(*s->p))
            return false;
        skip_digits(s);
    }
    if (eat(s, 'e') || eat(s, 'E')) {
        if (!eat(s, '+'))
            eat(s, '-');
        if (s->p >= s->end || !is_digit(*s->p))
            return false;
        skip_digits(s);
    }
    return true;
}

static bool scan_literal(scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* A string at s->p (the opening quote), checked but not decoded: escapes
 * as unescape() takes them, no raw control characters. */
static bool skip_string(scan *s)
{
    const char *p = s->p + 1;
    while (p < s->end) {
        unsigned char c = (unsigned char)*p++;
        if (c == '"') {
            s->p = p;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (p >= s->end)
            return false;
        char e = *p++;
        unsigned cp;
        if (e == 'u') {
            if (!hex4(p, s->end, &cp))
                return false;
            p += 4;
        } else if (e == '\0' || !strchr("\"\\/bfnrt", e)) {
            return false;
        }
    }
    return false;
}

static bool skip_scalar(scan *s)
{
    if (s->p >= s->end)
        return false;
    char c = *s->p;
    if (c == '"')
        return skip_string(s);
    if (c == '-' || is_digit(c))
        return scan_number(s);
    return scan_literal(s, "true") || scan_literal(s, "false") || scan_literal(s, "null");
}

/* "name" : inside a nested object. */
static bool skip_key(scan *s)
{
    if (s->p >= s->end || *s->p != '"' || !skip_string(s))
        return false;
    skip_blanks(s);
    return eat(s, ':');
}

/* One bit per open container (1: object), as deep as jansson goes. */
#define MAX_NESTING 2048

/* An object or array at s->p, checked against RFC 8259 without building
 * anything (a jansson tree here cost more than the whole rest of the line)
 * and kept as raw text. The fuzz target holds it to jansson's verdicts. */
static bool scan_nested(scan *s)
{
    unsigned char is_object[MAX_NESTING / 8];
    size_t depth = 0;
    for (;;) {
        skip_blanks(s);
        if (s->p < s->end && (*s->p == '{' || *s->p == '[')) {
            bool object = *s->p++ == '{';
            if (depth == MAX_NESTING)
                return false;
            if (object)
                is_object[depth / 8] |= (unsigned char)(1u << depth % 8);
            else
                is_object[depth / 8] &= (unsigned char)~(1u << depth % 8);
            depth++;
            skip_blanks(s);
            if (!eat(s, object ? '}' : ']')) {
                if (object && !skip_key(s))
                    return false;
                continue; /* the first value */
            }
            depth--;
        } else if (!skip_scalar(s)) {
            return false;
        }
        /* A value ended: a ',' and the next one, or the containers it ends. */
        for (;;) {
            if (depth == 0)
                return true;
            bool object = is_object[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
            skip_blanks(s);
            if (eat(s, ',')) {
                skip_blanks(s);
                if (object && !skip_key(s))
                    return false;
                break;
            }
            if (!eat(s, object ? '}' : ']'))
                return false;
            depth--;
        }
    }
}

/* ---- fields ------------------------------------------------------------- */

static void remove_field(json_state *st, tw_log_record *r, unsigned i)
{
    r->n_fields--;
    memmove(&r->fields[i], &r->fields[i + 1], (r->n_fields - i) * sizeof r->fields[0]);
    memmove(&st->kinds[i], &st->kinds[i + 1], (r->n_fields - i) * sizeof st->kinds[0]);
    memmove(&st->name_lens[i], &st->name_lens[i + 1], (r->n_fields - i) * sizeof st->name_lens[0]);
}

static bool same_name(const json_state *st, const tw_log_record *r, unsigned i, const char *name,
                      size_t name_len)
{
    return st->name_lens[i] == name_len && memcmp(r->fields[i].name, name, name_len) == 0;
}

/* Last value wins, first position stays; value NULL is JSON null. */
static void set_field(json_state *st, tw_log_record *r, const char *name, size_t name_len,
                      const char *value, size_t len, value_kind kind)
{
    for (unsigned i = 0; i < r->n_fields; i++) {
        if (!same_name(st, r, i, name, name_len))
            continue;
        if (value == NULL) {
            remove_field(st, r, i);
        } else {
            r->fields[i].value = value;
            r->fields[i].len = len;
            st->kinds[i] = kind;
        }
        return;
    }
    if (value == NULL || r->n_fields >= TW_LOG_MAX_FIELDS)
        return;
    st->kinds[r->n_fields] = kind;
    st->name_lens[r->n_fields] = name_len;
    tw_log_record_add(r, name, value, len);
}

/* One "name": value member at s->p. */
static bool scan_member(json_state *st, scan *s, tw_log_record *r)
{
    const char *name;
    size_t name_len;
    if (!scan_name(s, &name, &name_len))
        return false;
    skip_blanks(s);
    if (!eat(s, ':'))
        return false;
    skip_blanks(s);
    if (s->p >= s->end)
        return false;
    const char *value = s->p;
    size_t len;
    value_kind kind = KIND_OTHER;
    char c = *s->p;
    if (c == '"') {
        if (!scan_string(s, &value, &len))
            return false;
        kind = KIND_STRING;
    } else if (c == '-' || is_digit(c)) {
        if (!scan_number(s))
            return false;
        kind = KIND_NUMBER;
    } else if (c == '{' || c == '[') {
        if (!scan_nested(s))
            return false;
    } else if (c == 'n') {
        if (!scan_literal(s, "null"))
            return false;
        value = NULL;
    } else if (!scan_literal(s, "true") && !scan_literal(s, "false")) {
        return false;
    }
    if (kind != KIND_STRING)
        len = value ? (size_t)(s->p - value) : 0;
    set_field(st, r, name, name_len, value, len, kind);
    return true;
}

/* The whole line: one object and nothing else (a byte order mark before
 * it, as the first line of a file written by some Windows tools has, is
 * let go as RFC 8259 §8.1 allows). */
static bool scan_object(json_state *st, scan *s, tw_log_record *r)
{
    if (s->end - s->p >= 3 && memcmp(s->p, "\xEF\xBB\xBF", 3) == 0)
        s->p += 3;
    skip_blanks(s);
    if (!eat(s, '{'))
        return false;
    skip_blanks(s);
    if (!eat(s, '}')) {
        do {
            skip_blanks(s);
            if (!scan_member(st, s, r))
                return false;
            skip_blanks(s);
        } while (eat(s, ','));
        if (!eat(s, '}'))
            return false;
    }
    skip_blanks(s);
    return s->p == s->end;
}

/* ---- timestamps --------------------------------------------------------- */

/* ms from a count of seconds, ms, µs or ns, told apart by magnitude
 * (parser_json.h). */
static int64_t scale_to_ms(uint64_t whole, uint32_t fraction_ns)
{
    if (whole < UINT64_C(100000000000))
        return (int64_t)(whole * 1000 + fraction_ns / 1000000);
    if (whole < UINT64_C(100000000000000))
        return (int64_t)whole;
    if (whole < UINT64_C(100000000000000000))
        return (int64_t)(whole / 1000);
    return (int64_t)(whole / 1000000);
}

/* [-]digits[.digits] in integers, so "1700000000.123" is exactly ...123 ms
 * (a double would make it ...122.99). Leading zeros are allowed: strings
 * may have them. Numbers with an exponent go through a double. */
static bool epoch_time(const char *text, size_t len, int64_t *out)
{
    const char *p = text, *end = text + len;
    bool negative = p < end && *p == '-';
    p += negative;
    uint64_t whole = 0;
    uint32_t fraction_ns = 0;
    const char *digits = p;
    for (; p < end && is_digit(*p); p++) {
        if (p - digits >= 19) /* past 10^19: no time in any unit */
            return false;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (p == digits)
        return false;
    if (p < end && *p == '.') {
        const char *first = ++p;
        for (uint32_t scale = 100000000; p < end && is_digit(*p); p++, scale /= 10)
            fraction_ns += (uint32_t)(*p - '0') * scale;
        if (p == first)
            return false;
    }
    int64_t ms;
    if (p == end) {
        ms = scale_to_ms(whole, fraction_ns);
        if (negative)
            ms = -ms;
    } else if (*p == 'e' || *p == 'E') {
        char copy[64];
        if (len >= sizeof copy)
            return false;
        memcpy(copy, text, len);
        copy[len] = '\0';
        char *stop;
        double v = strtod(copy, &stop), magnitude = v < 0 ? -v : v;
        if (*stop != '\0' || !(magnitude < 1e20))
            return false;
        double scaled = magnitude < 1e11   ? v * 1e3
                        : magnitude < 1e14 ? v
                        : magnitude < 1e17 ? v / 1e3
                                           : v / 1e6;
        ms = (int64_t)scaled;
    } else {
        return false;
    }
    if (ms < MIN_TIME_MS || ms > MAX_TIME_MS)
        return false;
    *out = ms;
    return true;
}

static bool field_time(json_state *st, value_kind kind, const char *text, size_t len,
                       int64_t *out)
{
    if (kind == KIND_STRING && len >= 10 && text[4] == '-') {
        int64_t ms;
        bool has_zone;
        if (tw_time_parse_iso8601_maybe_local(text, len, &ms, &has_zone, NULL) != 0)
            return false;
        *out = has_zone ? ms : tw_log_localtime_to_epoch(&st->localtime, ms);
        return true;
    }
    if (kind == KIND_STRING || kind == KIND_NUMBER)
        return epoch_time(text, len, out);
    return false;
}

static void find_timestamp(json_state *st, tw_log_record *r)
{
    static const char *const keys[] = {"time", "timestamp", "@timestamp", "ts", "date"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t key_len = strlen(keys[k]);
        for (unsigned i = 0; i < r->n_fields; i++) {
            if (!same_name(st, r, i, keys[k], key_len))
                continue;
            if (field_time(st, st->kinds[i], r->fields[i].value, r->fields[i].len,
                           &r->timestamp_ms))
                return;
            break;
        }
    }
}

/* ---- the parser --------------------------------------------------------- */

static int json_create(const tw_log_parser_options *options, void **state, tw_err *err)
{
    (void)options;
    (void)err;
    json_state *st = tw_calloc(1, sizeof *st);
    tw_log_localtime_init(&st->localtime);
    *state = st;
    return 0;
}

static void json_feed(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    json_state *st = state;
    if (st->scratch_size < line->len + 1) {
        /* Exactly: an overrun would then be a sanitizer's finding. */
        free(st->scratch);
        st->scratch_size = line->len + 1;
        st->scratch = tw_malloc(st->scratch_size);
    }
    tw_log_record record; /* fields[] past n_fields stay unwritten: 1 KiB saved per line */
    record.message = line->text;
    record.message_len = line->len;
    record.timestamp_ms = line->read_time_ms;
    record.offset = line->offset;
    record.end = line->end;
    record.n_fields = 0;
    scan s = {line->text, line->text + line->len, st->scratch};
    record.parsed = scan_object(st, &s, &record);
    if (record.parsed)
        find_timestamp(st, &record);
    else
        record.n_fields = 0;
    emit(ctx, &record);
}

static void json_destroy(void *state)
{
    json_state *st = state;
    if (st == NULL)
        return;
    free(st->scratch);
    free(st);
}

const tw_log_parser_ops tw_parser_json = {
    .name = "json",
    .create = json_create,
    .feed = json_feed,
    .destroy = json_destroy,
};
