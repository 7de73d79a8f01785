/* audit_json.h — the JSON text of the audit path, written directly into a
 * caller's tw_buf (no jansson trees on the hot path): string contents with
 * CloudTrail's per-field character caps.
 *
 * Escaping is jansson's compact dump (\" \\ \b \f \n \r \t, other control
 * characters as \u00XX, everything else as it is), so a size measured here
 * is the size the collector measures after parsing and dumping. Output is
 * always valid UTF-8 that jansson accepts: a byte that is not part of valid
 * UTF-8 (and NUL, which jansson refuses inside strings) becomes the four
 * characters \xHH as text — nothing is lost and nothing is rejected.
 *
 * Pure functions: no state, any thread. They allocate only by growing the
 * caller's tw_buf (mem.h: aborts on OOM).
 */
#ifndef TW_AUDIT_JSON_H
#define TW_AUDIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* No cap on a string's length. */
#define TW_AUDIT_JSON_NO_CAP ((size_t)-1)

/* Appends len bytes of s as the content of a JSON string (no quotes),
 * stopping before the decoded string would exceed max_chars characters
 * (Unicode code points, as AWS counts them), never inside a character or
 * an \xHH. Returns the number of characters written. *exact (may be NULL)
 * becomes false when a byte was replaced by \xHH or the text was cut, and
 * is left alone otherwise. */
size_t tw_audit_json_escape(tw_buf *out, const void *s, size_t len, size_t max_chars,
                            bool *exact);

/* The same between double quotes. */
void tw_audit_json_string(tw_buf *out, const void *s, size_t len, size_t max_chars);

/* Appends len bytes as they are (JSON punctuation, member names, text
 * already escaped). Inline: the audit path makes many short appends. */
static inline void tw_audit_json_raw(tw_buf *out, const char *text, size_t len)
{
    if (out->len + len + 1 > out->cap) {
        tw_buf_append(out, text, len);
        return;
    }
    memcpy(out->data + out->len, text, len);
    out->len += len;
    out->data[out->len] = '\0';
}
#define TW_AUDIT_JSON_LIT(out, literal) tw_audit_json_raw((out), (literal), sizeof(literal) - 1)

static inline void tw_audit_json_char(tw_buf *out, char c)
{
    tw_audit_json_raw(out, &c, 1);
}

/* Appends a decimal integer. */
void tw_audit_json_int(tw_buf *out, int64_t value);

/* Whether len bytes are valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) without NUL: text tw_audit_json_escape keeps
 * byte for byte. */
bool tw_audit_json_valid_text(const void *s, size_t len);

#endif
