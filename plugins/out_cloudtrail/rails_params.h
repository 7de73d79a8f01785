/* rails_params.h — Rails' "Parameters: {...}" into a JSON object, for the
 * requestParameters of audit events derived from Rails logs.
 *
 * Rails logs params with Ruby's Hash#inspect: {"a"=>"b", "n"=>{"0"=>"4"}}
 * (Ruby 3.4: {"a" => "b"}, symbol keys as {a: 1} or {:a=>1}), with nil,
 * true/false, numbers, arrays, and objects as #<ActionDispatch::Http::
 * UploadedFile ...>. lograge logs the same params as JSON, which this reads
 * too. The conversion keeps every value it can represent:
 *   strings        decoded from Ruby's escapes (\n \t \e \xHH \u{...} \#
 *                  octal ...); filtered values stay the text "[FILTERED]"
 *   symbols        their name as a string
 *   nil true false null true false
 *   integers       numbers when they fit 18 digits, else strings
 *   floats         numbers when they are JSON numbers (1.5, 1.0e+20), else
 *                  strings (Infinity, NaN)
 *   keys           any key as its text ({1=>2} -> {"1":2}); a key seen twice
 *                  in one hash keeps its first value (the collector, like
 *                  AWS, refuses duplicate members)
 *   anything else  (objects, ranges, BigDecimal...) its inspect text as a
 *                  string
 * Text it cannot read as a hash (a cut line, "{...}") is refused as a whole:
 * the caller then keeps it as one string.
 *
 * Ownership: a tw_rails_params is scratch memory the caller keeps between
 * calls (so that steady state allocates nothing) and releases with
 * tw_rails_params_free. One thread at a time per tw_rails_params.
 */
#ifndef TW_RAILS_PARAMS_H
#define TW_RAILS_PARAMS_H

#include <stddef.h>

#include "buf.h"

#define TW_RAILS_PARAMS_MAX_DEPTH 32
#define TW_RAILS_PARAMS_MAX_KEYS 1000 /* per hash: keys are compared pairwise */

typedef struct tw_rails_params {
    tw_buf decoded; /* a string with escapes, decoded */
    size_t *keys;   /* (offset, length) in out of the keys of the open hashes */
    size_t n_keys, cap_keys;
} tw_rails_params;

#define TW_RAILS_PARAMS_INIT {TW_BUF_INIT, NULL, 0, 0}

void tw_rails_params_free(tw_rails_params *p);

/* Appends the JSON object for the len bytes of text. Returns 0, or -EINVAL
 * when text is not a hash this reads, is nested deeper than
 * TW_RAILS_PARAMS_MAX_DEPTH or has a hash with more than
 * TW_RAILS_PARAMS_MAX_KEYS keys (out is then as it was). *floats (may be
 * NULL) gets the number of floats written: the collector re-dumps each with
 * up to 17 significant digits, so a caller checking a size limit counts
 * them. */
int tw_rails_params_to_json(tw_rails_params *p, const char *text, size_t len, tw_buf *out,
                            size_t *floats);

#endif
