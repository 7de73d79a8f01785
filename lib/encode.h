/* encode.h — byte encodings used on the AWS wire: hex, base64, the SigV4
 * flavour of percent-encoding (UriEncode), and quoting of untrusted bytes
 * for error messages.
 *
 * Ownership: every function borrows its input (which need not be
 * NUL-terminated: exactly len bytes are read) and writes into memory owned
 * by the caller: a char array of the stated size, or a tw_buf it appends to.
 * Nothing here allocates except through that tw_buf, and allocation failure
 * aborts (mem.h).
 *
 * Errors: the encoders cannot fail. The decoders return 0 or -EINVAL; on
 * -EINVAL the output buffer's content and length are as they were and
 * err (may be NULL) holds a sentence quoting the bad input and naming what
 * was expected.
 */
#ifndef TW_ENCODE_H
#define TW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* ---- little-endian integers (the agent's on-disk records) ---- */

/* Writes the low `bytes` bytes of v (1 to 8), least significant first. */
void tw_le_put(unsigned char *out, uint64_t v, int bytes);
/* The same, appended to out. */
void tw_le_append(tw_buf *out, uint64_t v, int bytes);
/* Reads what tw_le_put wrote. */
uint64_t tw_le_get(const unsigned char *in, int bytes);

/* ---- hex (RFC 4648 §8) ---- */

/* Writes 2 * len lower-case hex digits and a NUL into out, which must hold
 * 2 * len + 1 bytes (SigV4 hashes and signatures are lower-case hex; digests
 * go straight into stack arrays on the signing hot path). */
void tw_hex_encode(const void *data, size_t len, char *out);

/* The same, appended to a tw_buf. */
void tw_hex_encode_buf(const void *data, size_t len, tw_buf *out);

/* Decodes len hex digits (either case) and appends len / 2 bytes. Fails with
 * -EINVAL on an odd number of digits or a character that is not a hex digit. */
int tw_hex_decode(const char *hex, size_t len, tw_buf *out, tw_err *err);

/* ---- base64 (RFC 4648 §4, standard alphabet, with padding) ---- */

/* Number of characters tw_base64_encode appends for len input bytes. */
size_t tw_base64_encoded_len(size_t len);

void tw_base64_encode(const void *data, size_t len, tw_buf *out);

/* Decodes canonical padded base64 and appends the bytes. Fails with -EINVAL
 * on a length that is not a multiple of 4, a character outside the
 * alphabet (whitespace included), misplaced '=' padding, or non-zero bits
 * in the padding (which a correct encoder never produces). */
int tw_base64_decode(const char *text, size_t len, tw_buf *out, tw_err *err);

/* ---- percent-encoding as SigV4 defines it ---- */

/* What UriEncode does with '/': kept in a canonical URI path, encoded as
 * %2F in query keys and values. */
typedef enum tw_uri_slash {
    TW_URI_KEEP_SLASH,
    TW_URI_ENCODE_SLASH,
} tw_uri_slash;

/* AWS UriEncode: appends data with every byte except the RFC 3986
 * unreserved set (A-Z a-z 0-9 - _ . ~) as %XY with upper-case hex. Space
 * becomes %20 (never '+'); UTF-8 is encoded byte by byte ("ሴ" -> %E1%88%B4). */
void tw_uri_encode(const void *data, size_t len, tw_uri_slash slash, tw_buf *out);

/* What tw_uri_decode does with '+': SigV4 query strings keep it literally
 * (clients send a space as %20), HTML form bodies
 * (application/x-www-form-urlencoded, the query protocol) mean a space. */
typedef enum tw_uri_plus {
    TW_URI_PLUS_LITERAL,
    TW_URI_PLUS_IS_SPACE,
} tw_uri_plus;

/* Decodes %XY sequences (either case) and appends the bytes; other bytes are
 * copied as they are. The result may contain any byte, NUL included: use
 * out->len. Fails with -EINVAL on a '%' not followed by two hex digits. */
int tw_uri_decode(const char *text, size_t len, tw_uri_plus plus, tw_buf *out, tw_err *err);

/* ---- quoting untrusted input for error messages ---- */

/* Room for tw_quote's result: the quotes, up to TW_QUOTE_MAX_CHARS
 * characters of content, "..." and the NUL. */
#define TW_QUOTE_MAX_CHARS 60
#define TW_QUOTE_SIZE      (TW_QUOTE_MAX_CHARS + 6)

/* Writes data as a double-quoted, printable, one-line string for an error
 * sentence: '"' and '\\' are backslash-escaped, other bytes outside
 * printable ASCII become \xNN, and content longer than TW_QUOTE_MAX_CHARS
 * characters is cut and followed by "..." after the closing quote.
 * Returns out, so it can be an argument of tw_err_set. */
const char *tw_quote(const void *data, size_t len, char out[TW_QUOTE_SIZE]);

#endif
