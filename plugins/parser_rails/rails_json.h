/* rails_json.h — lograge's JSON lines, and the JSON lines of a Rails app
 * whose logger writes JSON, read into a rails_line.
 *
 * A line that is a JSON object becomes one record on its own: a request
 * (kind RAILS_LINE_LOGRAGE) when it has "method" and one of "path",
 * "controller", "status"; otherwise a plain JSON log line (RAILS_LINE_JSON)
 * whose timestamp, level and request_id are still read. Keys follow
 * rails_lograge_field; the user comes from the key named user_key. Strings
 * are taken as jansson decoded them; numbers are written back in decimal
 * ("status":200 -> "200", "duration":45.2 -> "45.2"); a params object or
 * array is written back as compact JSON, filtered values ("[FILTERED]")
 * untouched.
 *
 * jansson builds a tree per line (the brief's rule: no hand-written JSON
 * parser); lograge writes one line per request, so this is not the hot path
 * the text format is.
 */
#ifndef TW_RAILS_JSON_H
#define TW_RAILS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "rails_line.h"

/* Returns false (nothing allocated, *out untouched) unless text is a JSON
 * object. On true, *root holds the parsed object and out's texts point into
 * it, into out itself and into scratch (which it overwrites): the caller uses
 * out, then json_decref(*root). */
bool rails_json_read(const char *text, size_t len, const char *user_key, tw_buf *scratch,
                     rails_line *out, json_t **root);

#endif
