/* audit_json.c — JSON string contents for audit events (see audit_json.h). */
#include "audit_json.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* Input bytes handled per reservation: the output of one byte is at most
 * six bytes (\u00XX), a UTF-8 sequence started at the end of a block may
 * read three more. */
#define BLOCK 4096
#define WORST_PER_BYTE 6
#define SLACK 16

static const char hex_digits[] = "0123456789abcdef";
static const char upper_hex[] = "0123456789ABCDEF";

/* The escape of an ASCII byte that needs one, written at w; returns the
 * end. */
static char *escape_ascii(char *w, unsigned char c)
{
    *w++ = '\\';
    switch (c) {
    case '"': *w++ = '"'; break;
    case '\\': *w++ = '\\'; break;
    case '\b': *w++ = 'b'; break;
    case '\f': *w++ = 'f'; break;
    case '\n': *w++ = 'n'; break;
    case '\r': *w++ = 'r'; break;
    case '\t': *w++ = 't'; break;
    default:
        *w++ = 'u';
        *w++ = '0';
        *w++ = '0';
        *w++ = hex_digits[c >> 4];
        *w++ = hex_digits[c & 0xf];
        break;
    }
    return w;
}

/* Whether 8 bytes are all printable ASCII other than '"' and '\\' (SWAR: a
 * byte below 0x20, at or above 0x80, or equal to either sets its top bit in
 * the result). */
static bool plain_word(const unsigned char *p)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t w;
    memcpy(&w, p, sizeof w);
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t special = ((w - ones * 0x20) & ~w) | w | ((quote - ones) & ~quote)
                       | ((backslash - ones) & ~backslash);
    return (special & high) == 0;
}

/* Bytes that need more than a copy or a backslash: control characters
 * and everything from 0x80 (UTF-8 to check). */
static const uint8_t slow[256] = {
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    R16(1), R16(1), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
    R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1),
#undef R16
};

/* One character that is slow, at s[*i], written at w. Returns the end,
 * or NULL when it would take the text over max_chars. */
static char *escape_one(const unsigned char *s, size_t len, size_t *i, char *w, size_t *chars,
                        size_t max_chars, bool *altered)
{
    unsigned char c = s[*i];
    if (c < 0x80 && c != 0) { /* a control character */
        *i += 1;
        *chars += 1;
        return escape_ascii(w, c);
    }
    size_t n = c >= 0x80 ? tw_utf8_sequence(s + *i, len - *i) : 0;
    if (n > 0) {
        memcpy(w, s + *i, n);
        *i += n;
        *chars += 1;
        return w + n;
    }
    if (*chars + 4 > max_chars) /* NUL, or not UTF-8: \xHH as text */
        return NULL;
    *w++ = '\\';
    *w++ = '\\';
    *w++ = 'x';
    *w++ = upper_hex[c >> 4];
    *w++ = upper_hex[c & 0xf];
    *i += 1;
    *chars += 4;
    *altered = true;
    return w;
}

size_t tw_audit_json_escape(tw_buf *out, const void *src, size_t len, size_t max_chars,
                            bool *exact)
{
    const unsigned char *s = src;
    size_t i = 0, chars = 0;
    bool altered = false, capped = false;
    while (i < len && !capped) {
        size_t end = len - i > BLOCK ? i + BLOCK : len;
        tw_buf_reserve(out, (end - i) * WORST_PER_BYTE + SLACK);
        char *w = out->data + out->len;
        while (i < end) {
            /* Printable ASCII, one character per byte: copied, '"' and '\\'
             * behind a backslash, without a branch for either. */
            size_t stop = max_chars - chars < end - i ? i + (max_chars - chars) : end;
            size_t start = i;
            while (i < stop) {
                if (stop - i >= 8 && plain_word(s + i)) {
                    memcpy(w, s + i, 8);
                    w += 8;
                    i += 8;
                    continue;
                }
                unsigned char c = s[i];
                if (slow[c])
                    break;
                i++;
                *w = '\\';
                w += c == '"' || c == '\\';
                *w++ = (char)c;
            }
            chars += i - start;
            if (i >= end)
                break;
            if (chars >= max_chars) {
                capped = true;
                break;
            }
            if (!slow[s[i]])
                continue;
            char *next = escape_one(s, len, &i, w, &chars, max_chars, &altered);
            if (next == NULL) {
                capped = true;
                break;
            }
            w = next;
        }
        out->len = (size_t)(w - out->data);
        out->data[out->len] = '\0';
    }
    if (out->data == NULL) { /* nothing written: still a C string */
        tw_buf_reserve(out, 0);
        out->data[out->len] = '\0';
    }
    if ((altered || i < len) && exact != NULL)
        *exact = false;
    return chars;
}

void tw_audit_json_int(tw_buf *out, int64_t value)
{
    char text[24], *p = text + sizeof text;
    uint64_t v = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (value < 0)
        *--p = '-';
    tw_audit_json_raw(out, p, (size_t)(text + sizeof text - p));
}

void tw_audit_json_string(tw_buf *out, const void *s, size_t len, size_t max_chars)
{
    tw_audit_json_char(out, '"');
    tw_audit_json_escape(out, s, len, max_chars, NULL);
    tw_audit_json_char(out, '"');
}

bool tw_audit_json_valid_text(const void *src, size_t len)
{
    const unsigned char *s = src;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? tw_utf8_sequence(s + i, len - i) : 0;
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
