/* utf8.h — UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates,
 * nothing above U+10FFFF), which is also what JSON decoders such as jansson
 * accept. Pure functions; any thread. */
#ifndef TW_UTF8_H
#define TW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1 to 4) of the valid UTF-8 sequence at the start of the avail
 * bytes at p, or 0 when they do not start one (or avail is 0). */
size_t tw_utf8_sequence(const void *p, size_t avail);

/* True when all len bytes are valid UTF-8 (ASCII is checked eight bytes at
 * a time: most log text is ASCII). */
bool tw_utf8_valid(const void *data, size_t len);

#endif
