/* rails_params.c — Ruby's Hash#inspect (and JSON) into JSON (see
 * rails_params.h). A recursive-descent reader bounded in depth, writing
 * straight into the caller's buffer. */
#include "rails_params.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_json.h"
#include "mem.h"

#define INT_MAX_DIGITS 18 /* always fits an int64 (jansson refuses larger) */

typedef struct reader {
    tw_rails_params *p;
    const char *s;
    size_t len, pos;
    tw_buf *out;
    size_t floats;
    int depth;
} reader;

void tw_rails_params_free(tw_rails_params *p)
{
    tw_buf_free(&p->decoded);
    free(p->keys);
    memset(p, 0, sizeof *p);
}

static bool at_end(const reader *r)
{
    return r->pos >= r->len;
}

static char peek(const reader *r, size_t ahead)
{
    return r->pos + ahead < r->len ? r->s[r->pos + ahead] : '\0';
}

static void skip_blanks(reader *r)
{
    while (!at_end(r)) {
        char c = r->s[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->pos++;
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'
           || (unsigned char)c >= 0x80;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- strings ------------------------------------------------------------------ */

static void put_code_point(tw_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        cp = 0xfffd; /* not a character: the replacement character */
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    tw_buf_append(b, u, n);
}

/* Up to max hex digits at the cursor; -1 when there is none. */
static long read_hex(reader *r, size_t min, size_t max)
{
    long v = 0;
    size_t n = 0;
    while (n < max && hex_value(peek(r, 0)) >= 0) {
        v = v * 16 + hex_value(peek(r, 0));
        r->pos++;
        n++;
    }
    return n >= min ? v : -1;
}

/* \u escapes: \uHHHH (a JSON surrogate pair too) or Ruby's \u{X ...}. */
static void decode_unicode(reader *r, tw_buf *b)
{
    if (peek(r, 0) == '{') {
        r->pos++;
        for (;;) {
            while (peek(r, 0) == ' ')
                r->pos++;
            long cp = read_hex(r, 1, 6);
            if (cp < 0)
                break;
            put_code_point(b, (uint32_t)cp);
        }
        if (peek(r, 0) == '}')
            r->pos++;
        return;
    }
    long cp = read_hex(r, 4, 4);
    if (cp < 0) {
        tw_buf_putc(b, 'u');
        return;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && peek(r, 0) == '\\' && peek(r, 1) == 'u') {
        size_t save = r->pos;
        r->pos += 2;
        long low = read_hex(r, 4, 4);
        if (low >= 0xdc00 && low <= 0xdfff) {
            put_code_point(b, (uint32_t)(0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)));
            return;
        }
        r->pos = save;
    }
    put_code_point(b, (uint32_t)cp);
}

/* One escape after a backslash (the cursor is on the escaped character). */
static void decode_escape(reader *r, tw_buf *b)
{
    char c = r->s[r->pos++];
    static const char from[] = "ntrfvbaes0", to[] = "\n\t\r\f\v\b\a\x1b \0";
    const char *known = c != '\0' ? strchr(from, c) : NULL;
    if (c >= '0' && c <= '7') { /* octal: up to three digits */
        unsigned v = (unsigned)(c - '0');
        for (int k = 0; k < 2 && peek(r, 0) >= '0' && peek(r, 0) <= '7'; k++)
            v = v * 8 + (unsigned)(r->s[r->pos++] - '0');
        tw_buf_putc(b, (char)(v & 0xff));
    } else if (c == 'x') {
        long v = read_hex(r, 1, 2);
        tw_buf_putc(b, v >= 0 ? (char)v : 'x');
    } else if (c == 'u') {
        decode_unicode(r, b);
    } else if (known != NULL) {
        tw_buf_putc(b, to[known - from]);
    } else {
        tw_buf_putc(b, c); /* \" \\ \# \/ and the like */
    }
}

/* Reads a "quoted" string at the cursor into *text and *len: a span of the
 * input when it has no escape, else the decoded bytes in p->decoded. */
static bool read_string(reader *r, const char **text, size_t *len)
{
    size_t start = ++r->pos;
    while (!at_end(r) && r->s[r->pos] != '"' && r->s[r->pos] != '\\')
        r->pos++;
    if (at_end(r))
        return false;
    if (r->s[r->pos] == '"') {
        *text = r->s + start;
        *len = r->pos++ - start;
        return true;
    }
    tw_buf *b = &r->p->decoded;
    tw_buf_reset(b);
    tw_buf_append(b, r->s + start, r->pos - start);
    while (!at_end(r) && r->s[r->pos] != '"') {
        if (r->s[r->pos] == '\\') {
            r->pos++;
            if (at_end(r))
                return false;
            decode_escape(r, b);
        } else {
            size_t run = r->pos;
            while (!at_end(r) && r->s[r->pos] != '"' && r->s[r->pos] != '\\')
                r->pos++;
            tw_buf_append(b, r->s + run, r->pos - run);
        }
    }
    if (at_end(r))
        return false;
    r->pos++;
    *text = b->data != NULL ? b->data : "";
    *len = b->len;
    return true;
}

static void put_string(reader *r, const char *text, size_t len)
{
    tw_audit_json_string(r->out, text, len, TW_AUDIT_JSON_NO_CAP);
}

/* ---- spans that are not JSON: objects, ranges, symbols -------------------------- */

/* The end of an unquoted item at the cursor: up to a ',' '}' ']' (or "=>"
 * when in_key) outside brackets and quotes. Returns false at the end of the
 * text, which means the hash was cut. */
static bool scan_item(reader *r, bool in_key, size_t *end)
{
    int nesting = 0;
    size_t i = r->pos;
    for (; i < r->len; i++) {
        char c = r->s[i];
        if (c == '"') {
            for (i++; i < r->len && r->s[i] != '"'; i++)
                if (r->s[i] == '\\')
                    i++;
            if (i >= r->len)
                return false;
        } else if (c == '{' || c == '[' || c == '(' || (c == '<' && i > 0 && r->s[i - 1] == '#')) {
            nesting++;
        } else if (nesting > 0 && (c == '}' || c == ']' || c == ')' || c == '>')) {
            nesting--;
        } else if (nesting == 0 && (c == ',' || c == '}' || c == ']')) {
            break;
        } else if (nesting == 0 && in_key && c == '=' && i + 1 < r->len && r->s[i + 1] == '>') {
            break;
        }
    }
    if (i >= r->len)
        return false;
    while (i > r->pos && (r->s[i - 1] == ' ' || r->s[i - 1] == '\t'))
        i--;
    *end = i;
    return i > r->pos;
}

/* A JSON number at [start, end)? Sets *is_float. */
static bool json_number(const char *s, size_t len, bool *is_float)
{
    size_t i = 0;
    *is_float = false;
    if (i < len && s[i] == '-')
        i++;
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_digits = i - int_start;
    if (int_digits == 0 || (int_digits > 1 && s[int_start] == '0'))
        return false;
    if (i < len && s[i] == '.') {
        size_t frac = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == frac)
            return false;
        *is_float = true;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == exp)
            return false;
        *is_float = true;
    }
    return i == len && (*is_float || int_digits <= INT_MAX_DIGITS);
}

/* A bare item: nil, true, false, a number, or its text as a string. */
static void put_bare(reader *r, const char *text, size_t len)
{
    bool is_float;
    if ((len == 3 && memcmp(text, "nil", 3) == 0) || (len == 4 && memcmp(text, "null", 4) == 0)) {
        TW_AUDIT_JSON_LIT(r->out, "null");
    } else if ((len == 4 && memcmp(text, "true", 4) == 0)
               || (len == 5 && memcmp(text, "false", 5) == 0)) {
        tw_buf_append(r->out, text, len);
    } else if (json_number(text, len, &is_float)) {
        tw_buf_append(r->out, text, len);
        r->floats += is_float;
    } else {
        put_string(r, text, len);
    }
}

/* ---- values ------------------------------------------------------------------- */

static bool read_value(reader *r);

static bool read_array(reader *r)
{
    r->pos++;
    tw_buf_putc(r->out, '[');
    skip_blanks(r);
    if (peek(r, 0) == ']') {
        r->pos++;
        tw_buf_putc(r->out, ']');
        return true;
    }
    for (bool first = true;; first = false) {
        if (!first)
            tw_buf_putc(r->out, ',');
        if (!read_value(r))
            return false;
        skip_blanks(r);
        char c = peek(r, 0);
        r->pos++;
        if (c == ']')
            break;
        if (c != ',')
            return false;
    }
    tw_buf_putc(r->out, ']');
    return true;
}

/* Symbols (:name, :"quoted name") and Ruby 3.4 labels (name: value) are
 * strings; *label says the ':' of a label was consumed. */
static bool read_key_text(reader *r, const char **text, size_t *len, bool *label)
{
    *label = false;
    char c = peek(r, 0);
    if (c == '"')
        return read_string(r, text, len);
    if (c == ':' && peek(r, 1) == '"') {
        r->pos++;
        return read_string(r, text, len);
    }
    size_t start = r->pos + (c == ':');
    size_t i = start;
    while (i < r->len && (ident_char(r->s[i]) || r->s[i] == '?' || r->s[i] == '!'))
        i++;
    if (c != ':' && i > start && i < r->len && r->s[i] == ':' && (i + 1 >= r->len || r->s[i + 1] != ':')) {
        *text = r->s + start;
        *len = i - start;
        r->pos = i + 1;
        *label = true;
        return true;
    }
    size_t end;
    if (!scan_item(r, true, &end))
        return false;
    *text = r->s + start;
    *len = end - start;
    r->pos = end;
    return *len > 0;
}

/* Writes "key": unless the hash has it already (then returns false with
 * out unchanged). level is the hash's first entry in p->keys. */
static bool put_new_key(reader *r, size_t level, const char *text, size_t len)
{
    tw_rails_params *p = r->p;
    size_t start = r->out->len;
    put_string(r, text, len);
    size_t key_len = r->out->len - start;
    for (size_t k = level; k < p->n_keys; k++) {
        if (p->keys[2 * k + 1] == key_len
            && memcmp(r->out->data + p->keys[2 * k], r->out->data + start, key_len) == 0) {
            r->out->len = start;
            r->out->data[start] = '\0';
            return false;
        }
    }
    if (p->n_keys == p->cap_keys) {
        p->cap_keys = p->cap_keys ? p->cap_keys * 2 : 32;
        p->keys = tw_realloc(p->keys, p->cap_keys * 2 * sizeof *p->keys);
    }
    p->keys[2 * p->n_keys] = start;
    p->keys[2 * p->n_keys + 1] = key_len;
    p->n_keys++;
    tw_buf_putc(r->out, ':');
    return true;
}

static bool read_pair(reader *r, size_t level, bool first)
{
    const char *text;
    size_t len;
    bool label;
    skip_blanks(r);
    if (!read_key_text(r, &text, &len, &label))
        return false;
    skip_blanks(r);
    if (!label) {
        if (peek(r, 0) == '=' && peek(r, 1) == '>')
            r->pos += 2;
        else if (peek(r, 0) == ':') /* JSON, and Ruby 3.4's "quoted": */
            r->pos++;
        else
            return false;
    }
    size_t mark = r->out->len;
    if (!first)
        tw_buf_putc(r->out, ',');
    bool fresh = put_new_key(r, level, text, len);
    bool ok = read_value(r);
    if (!fresh || !ok) { /* a repeated key keeps its first value */
        r->out->len = mark;
        r->out->data[mark] = '\0';
    }
    return ok;
}

static bool read_hash(reader *r)
{
    r->pos++;
    size_t level = r->p->n_keys;
    tw_buf_putc(r->out, '{');
    skip_blanks(r);
    bool ok = true;
    if (peek(r, 0) == '}') {
        r->pos++;
    } else {
        for (;;) {
            size_t before = r->p->n_keys;
            if (!read_pair(r, level, before == level)
                || r->p->n_keys - level > TW_RAILS_PARAMS_MAX_KEYS) {
                ok = false;
                break;
            }
            skip_blanks(r);
            char c = peek(r, 0);
            r->pos++;
            if (c == '}')
                break;
            if (c != ',') {
                ok = false;
                break;
            }
        }
    }
    r->p->n_keys = level;
    tw_buf_putc(r->out, '}');
    return ok;
}

static bool read_value(reader *r)
{
    skip_blanks(r);
    if (at_end(r) || r->depth >= TW_RAILS_PARAMS_MAX_DEPTH)
        return false;
    char c = r->s[r->pos];
    bool ok;
    const char *text;
    size_t len, end;
    if (c == '{' || c == '[') {
        r->depth++;
        ok = c == '{' ? read_hash(r) : read_array(r);
        r->depth--;
        return ok;
    }
    if (c == '"' || (c == ':' && peek(r, 1) == '"')) {
        r->pos += c == ':';
        if (!read_string(r, &text, &len))
            return false;
        put_string(r, text, len);
        return true;
    }
    if (!scan_item(r, false, &end))
        return false;
    size_t start = r->pos + (c == ':' && end > r->pos + 1); /* :symbol -> "symbol" */
    r->pos = end;
    if (c == ':')
        put_string(r, r->s + start, end - start);
    else
        put_bare(r, r->s + start, end - start);
    return true;
}

int tw_rails_params_to_json(tw_rails_params *p, const char *text, size_t len, tw_buf *out,
                            size_t *floats)
{
    reader r = {p, text, len, 0, out, 0, 0};
    size_t mark = out->len;
    p->n_keys = 0;
    skip_blanks(&r);
    bool ok = peek(&r, 0) == '{' && read_value(&r);
    skip_blanks(&r);
    if (!ok || !at_end(&r)) {
        tw_buf_reserve(out, 0);
        out->len = mark;
        out->data[mark] = '\0';
        return -EINVAL;
    }
    if (floats != NULL)
        *floats = r.floats;
    return 0;
}
