/* units.h — durations and sizes as users write them in configuration
 * ("500ms", "60s", "5m", "64KiB", "1MiB"), parsed and formatted.
 *
 * Syntax: optional blanks, a non-negative decimal number, optional blanks, a
 * unit, optional blanks. The number may have a fraction of up to 9 digits
 * ("1.5h", "0.5MiB") when the result is a whole number of milliseconds or
 * bytes. The unit is required: "60" alone is ambiguous (seconds? ms?) and
 * is rejected with a hint.
 *
 *   durations: ms, s, m, h, d            (case-sensitive: "M" is not a minute)
 *   sizes:     B, KiB, MiB, GiB, TiB     (powers of 1024; case-insensitive)
 *
 * Decimal or ambiguous size units ("KB", "k", "M") are rejected with a hint
 * naming the binary unit, because a user who writes 64KB nearly always means
 * 64KiB and silently picking either reading would surprise half of them.
 *
 * Errors: parsers read a NUL-terminated string (config values) and return 0,
 * -EINVAL for malformed text, or -ERANGE for a value too large; err (may be
 * NULL) then holds a sentence quoting the input and saying what was
 * expected, and *out is untouched. Nothing allocates.
 */
#ifndef TW_UNITS_H
#define TW_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Room for any formatted duration or size, NUL included. */
#define TW_UNITS_FORMAT_SIZE 32

/* Parses a NUL-terminated duration into milliseconds. The result is at most
 * INT64_MAX, so it converts to int64_t and can be added to an epoch-ms time
 * (timefmt.h) after a range check. */
int tw_duration_parse(const char *text, uint64_t *ms, tw_err *err);

/* Writes ms with the largest unit that represents it exactly ("5m", "90s",
 * "1500ms", "0s"); tw_duration_parse reads the result back to the same value
 * (for ms up to INT64_MAX). Returns 0, or -ERANGE if size is too small
 * (the text is then cut but still NUL-terminated when size > 0);
 * TW_UNITS_FORMAT_SIZE is always enough. */
int tw_duration_format(uint64_t ms, char *out, size_t size);

/* Parses a NUL-terminated size into bytes (up to UINT64_MAX). */
int tw_size_parse(const char *text, uint64_t *bytes, tw_err *err);

/* Writes bytes with the largest binary unit that represents it exactly
 * ("64KiB", "1536KiB", "1000B", "0B"); tw_size_parse reads it back. Returns
 * as tw_duration_format. */
int tw_size_format(uint64_t bytes, char *out, size_t size);

#endif
