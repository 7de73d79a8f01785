/* encode.c — hex, base64, SigV4 percent-encoding and error-message quoting
 * (see encode.h for the contracts). Table-driven: signing hashes every
 * request and the collector decodes every query string and Content-MD5. */
#include "encode.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* Value of a hex digit, or -1. Written out so the table is obviously right
 * and needs no initialisation at run time. */
static const int8_t hex_value[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x00 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x10 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x20 */
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  -1, -1, -1, -1, -1, -1, /* 0x30 '0'-'9' */
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x40 'A'-'F' */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x50 */
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x60 'a'-'f' */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x70 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x80 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0xf0 */
};

/* ---- little-endian integers ---- */

void tw_le_put(unsigned char *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

void tw_le_append(tw_buf *out, uint64_t v, int bytes)
{
    unsigned char b[8];
    tw_le_put(b, v, bytes);
    tw_buf_append(out, b, (size_t)bytes);
}

uint64_t tw_le_get(const unsigned char *in, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | in[i];
    return v;
}

/* ---- hex ---- */

void tw_hex_encode(const void *data, size_t len, char *out)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_lower[p[i] >> 4];
        out[2 * i + 1] = hex_lower[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void tw_hex_encode_buf(const void *data, size_t len, tw_buf *out)
{
    tw_buf_reserve(out, 2 * len);
    tw_hex_encode(data, len, out->data + out->len);
    out->len += 2 * len;
}

int tw_hex_decode(const char *hex, size_t len, tw_buf *out, tw_err *err)
{
    char quoted[TW_QUOTE_SIZE];
    if (len % 2 != 0)
        return tw_err_set(err, -EINVAL,
                          "%s: odd number of hex digits (%zu; expected pairs of 0-9, a-f)",
                          tw_quote(hex, len, quoted), len);
    const unsigned char *p = (const unsigned char *)hex;
    for (size_t i = 0; i < len; i++) {
        if (hex_value[p[i]] < 0)
            return tw_err_set(err, -EINVAL,
                              "%s: character %zu is not a hex digit (expected 0-9, a-f or A-F)",
                              tw_quote(hex, len, quoted), i + 1);
    }
    tw_buf_reserve(out, len / 2);
    unsigned char *dst = (unsigned char *)out->data + out->len;
    for (size_t i = 0; i < len; i += 2)
        dst[i / 2] = (unsigned char)(hex_value[p[i]] << 4 | hex_value[p[i + 1]]);
    out->len += len / 2;
    out->data[out->len] = '\0';
    return 0;
}

/* ---- base64 ---- */

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, -1 for anything else ('=' included: the
 * padding is checked separately). */
static const int8_t base64_value[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x00 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x10 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63, /* 0x20 '+' '/' */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1, /* 0x30 '0'-'9' */
    -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* 0x40 'A'- */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1, /* 0x50 -'Z' */
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60 'a'- */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1, /* 0x70 -'z' */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x80 */
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0xf0 */
};

size_t tw_base64_encoded_len(size_t len)
{
    return (len / 3 + (len % 3 != 0)) * 4;
}

void tw_base64_encode(const void *data, size_t len, tw_buf *out)
{
    const unsigned char *p = data;
    size_t n = tw_base64_encoded_len(len);
    tw_buf_reserve(out, n);
    char *dst = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *dst++ = base64_alphabet[v >> 18];
        *dst++ = base64_alphabet[(v >> 12) & 0x3f];
        *dst++ = base64_alphabet[(v >> 6) & 0x3f];
        *dst++ = base64_alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *dst++ = base64_alphabet[v >> 18];
        *dst++ = base64_alphabet[(v >> 12) & 0x3f];
        *dst++ = '=';
        *dst++ = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *dst++ = base64_alphabet[v >> 18];
        *dst++ = base64_alphabet[(v >> 12) & 0x3f];
        *dst++ = base64_alphabet[(v >> 6) & 0x3f];
        *dst++ = '=';
    }
    out->len += n;
    out->data[out->len] = '\0';
}

/* Checks text against the canonical padded form; returns the number of '='
 * at the end (0, 1 or 2), or -EINVAL with err set. */
static int base64_check(const char *text, size_t len, tw_err *err)
{
    char quoted[TW_QUOTE_SIZE];
    if (len % 4 != 0)
        return tw_err_set(err, -EINVAL,
                          "%s: base64 length %zu is not a multiple of 4 (expected padded "
                          "base64, A-Z a-z 0-9 + / and '=')",
                          tw_quote(text, len, quoted), len);
    size_t padding = 0;
    if (len > 0 && text[len - 1] == '=')
        padding = (len > 1 && text[len - 2] == '=') ? 2 : 1;
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < len - padding; i++) {
        if (base64_value[p[i]] < 0)
            return tw_err_set(err, -EINVAL,
                              "%s: character %zu is not base64 (expected A-Z a-z 0-9 + / "
                              "and '=' only at the end)",
                              tw_quote(text, len, quoted), i + 1);
    }
    /* The bits the padding stands for must be zero: otherwise two different
     * texts would decode to the same bytes (RFC 4648 §3.5). */
    if (padding > 0) {
        int last = base64_value[p[len - padding - 1]];
        int mask = padding == 1 ? 0x03 : 0x0f;
        if ((last & mask) != 0)
            return tw_err_set(err, -EINVAL,
                              "%s: non-zero bits before the '=' padding (not canonical base64)",
                              tw_quote(text, len, quoted));
    }
    return (int)padding;
}

int tw_base64_decode(const char *text, size_t len, tw_buf *out, tw_err *err)
{
    int padding = base64_check(text, len, err);
    if (padding < 0)
        return padding;
    const unsigned char *p = (const unsigned char *)text;
    size_t n = len / 4 * 3 - (size_t)padding;
    tw_buf_reserve(out, n);
    unsigned char *dst = (unsigned char *)out->data + out->len;
    size_t full = padding > 0 ? len - 4 : len;
    size_t i = 0;
    for (; i < full; i += 4) {
        uint32_t v = (uint32_t)base64_value[p[i]] << 18 | (uint32_t)base64_value[p[i + 1]] << 12 |
                     (uint32_t)base64_value[p[i + 2]] << 6 | (uint32_t)base64_value[p[i + 3]];
        *dst++ = (unsigned char)(v >> 16);
        *dst++ = (unsigned char)(v >> 8);
        *dst++ = (unsigned char)v;
    }
    if (padding > 0) {
        uint32_t v = (uint32_t)base64_value[p[i]] << 18 | (uint32_t)base64_value[p[i + 1]] << 12;
        if (padding == 1)
            v |= (uint32_t)base64_value[p[i + 2]] << 6;
        *dst++ = (unsigned char)(v >> 16);
        if (padding == 1)
            *dst++ = (unsigned char)(v >> 8);
    }
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* ---- percent-encoding ---- */

/* RFC 3986 unreserved characters: A-Z a-z 0-9 - _ . ~ */
static bool uri_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void tw_uri_encode(const void *data, size_t len, tw_uri_slash slash, tw_buf *out)
{
    const unsigned char *p = data;
    /* Worst case every byte becomes three characters; one reservation keeps
     * the loop free of growth checks. */
    tw_buf_reserve(out, 3 * len);
    char *dst = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (uri_unreserved(c) || (c == '/' && slash == TW_URI_KEEP_SLASH)) {
            *dst++ = (char)c;
        } else {
            *dst++ = '%';
            *dst++ = hex_upper[c >> 4];
            *dst++ = hex_upper[c & 0x0f];
        }
    }
    out->len = (size_t)(dst - out->data);
    out->data[out->len] = '\0';
}

int tw_uri_decode(const char *text, size_t len, tw_uri_plus plus, tw_buf *out, tw_err *err)
{
    const unsigned char *p = (const unsigned char *)text;
    tw_buf_reserve(out, len);
    char *dst = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '%') {
            if (len - i < 3 || hex_value[p[i + 1]] < 0 || hex_value[p[i + 2]] < 0) {
                /* out->len has not moved; only the terminator was overwritten. */
                char quoted[TW_QUOTE_SIZE];
                out->data[out->len] = '\0';
                return tw_err_set(err, -EINVAL,
                                  "%s: '%%' at character %zu is not followed by two hex digits "
                                  "(expected %%XY, e.g. %%20)",
                                  tw_quote(text, len, quoted), i + 1);
            }
            *dst++ = (char)(hex_value[p[i + 1]] << 4 | hex_value[p[i + 2]]);
            i += 2;
        } else if (c == '+' && plus == TW_URI_PLUS_IS_SPACE) {
            *dst++ = ' ';
        } else {
            *dst++ = (char)c;
        }
    }
    out->len = (size_t)(dst - out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* ---- quoting ---- */

const char *tw_quote(const void *data, size_t len, char out[TW_QUOTE_SIZE])
{
    const unsigned char *p = data;
    size_t n = 0;
    out[n++] = '"';
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = p[i];
        size_t width = (c == '"' || c == '\\') ? 2 : (c >= 0x20 && c < 0x7f) ? 1 : 4;
        if (n - 1 + width > TW_QUOTE_MAX_CHARS)
            break;
        if (width == 1) {
            out[n++] = (char)c;
        } else if (width == 2) {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex_upper[c >> 4];
            out[n++] = hex_upper[c & 0x0f];
        }
    }
    out[n++] = '"';
    if (i < len) {
        out[n++] = '.';
        out[n++] = '.';
        out[n++] = '.';
    }
    out[n] = '\0';
    return out;
}
