/* parser_json.h — format = json: one JSON object per line (JSON Lines, the
 * output of bunyan, pino, zap, logrus, slog, lograge, Docker's json-file...).
 *
 * Fields: the object's top-level members, named by their keys, in the order
 * of the line:
 *   string       unescaped (\uHHHH and surrogate pairs to UTF-8; \u0000 is
 *                kept as a NUL byte inside the value: use len; a lone
 *                surrogate becomes U+FFFD as in WHATWG's decoders)
 *   number       its text exactly as written ("45.20", "12345678901234567890",
 *                "1e400"): no rounding through a double, no size limit
 *   true, false  "true", "false"
 *   object/array its raw JSON text, as written (checked, not decoded; up to
 *                2048 levels deep, as jansson)
 *   null         no field (and it removes an earlier member of that name)
 * A key given twice keeps its first position and its last value, as
 * JSON.parse and jansson do. Past TW_LOG_MAX_FIELDS names the rest are left
 * out (the message is the whole line anyway).
 *
 * Timestamp: the first of time, timestamp, @timestamp, ts, date whose value
 * reads as a time: ISO 8601 / RFC 3339 with or without fraction and zone (no
 * zone: this host's local time), or a number of seconds, milliseconds,
 * microseconds or nanoseconds since the epoch, as a JSON number or a string
 * of digits, told apart by magnitude (below 1e11: seconds, i.e. until year
 * 5138; below 1e14: milliseconds; below 1e17: microseconds; nanoseconds
 * above), fractions allowed. None: the read time.
 *
 * A line that is not exactly one JSON object (RFC 8259; blanks around it
 * and a byte order mark before it allowed) is a record with parsed = false
 * and no fields.
 *
 * Field names and unescaped values live in a scratch buffer of the parser's
 * state, valid until the next feed (longer than log_parser.h promises);
 * values without escapes point into the line. The buffer grows to the
 * longest line seen and is then reused: a steady stream allocates nothing.
 *
 * Why a scan and not jansson's json_loadb: json_loadb allocates a tree per
 * line (measured here: 2.2 us for a flat 150-byte line, and a nested value
 * alone cost 1.6 us, against about 0.25 us for the whole scan), turns
 * numbers into long long or double (so "45.20" would ship as
 * 45.200000000000003, and integers past 2^63 fail the line) and loses the
 * text as written. The scan accepts exactly what jansson accepts (the fuzz
 * target checks it line by line against jansson) but for what is said above
 * (numbers of any size, lone surrogates, a byte order mark) and NUL in keys.
 *
 * Holds nothing between lines (no flush, no pending_offset). One thread per
 * parser.
 */
#ifndef TW_PARSER_JSON_H
#define TW_PARSER_JSON_H

#include "log_parser.h"

extern const tw_log_parser_ops tw_parser_json;

#endif
