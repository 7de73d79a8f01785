/* protocol.h — the wire encodings of the AWS protocols the collector speaks,
 * between bytes and model objects (jansson trees whose members are the AWS
 * model's member names).
 *
 * Decoders turn a request body into the input object; encoders turn an
 * operation's output object (or an error) into a response body. Output
 * timestamps are epoch milliseconds integers in the object; the operation's
 * timestamp_members tell the encoders which members to turn into ISO 8601
 * (query XML), epoch seconds (JSON 1.0 / CloudTrail JSON 1.1) or CBOR tag 1;
 * its map_members which objects are maps (XML <entry><key/><value/></entry>).
 *
 * All functions are pure (no I/O, no globals) and safe on hostile input:
 * every decoder has a fuzz target. Ownership: decoders return a new reference
 * (*out) the caller json_decref()s; encoders append to a caller's tw_buf.
 */
#ifndef TW_COLLECTOR_PROTOCOL_H
#define TW_COLLECTOR_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "call.h"
#include "err.h"

/* ---- awsQuery (form-encoded requests, XML responses) ---- */

/* Decodes an application/x-www-form-urlencoded body (or a URL query string):
 * "Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.1.MetricName=B"
 * → *action "PutMetricData" (caller frees), *version, and *out
 * {"Namespace":"A","MetricData":[{"MetricName":"B"}]}. Lists "X.member.N"
 * become arrays ordered by N (gaps closed), maps "X.entry.N.key/value" become
 * objects, every leaf is a string, "X=" (an empty list) stays "". "Operation"
 * is accepted for "Action". Errors: malformed percent-encoding, N not a
 * positive integer, a name both a leaf and a parent, N over 10000, a missing
 * Action.
 * Also: '+' is a space; *version is NULL when there is no Version (version
 * may be NULL: not wanted); SigV4 presigned-URL parameters (X-Amz-Algorithm,
 * -Credential, -Date, -Expires, -SignedHeaders, -Signature, -Security-Token)
 * are not members; empty pairs ("a=1&&b=2") are skipped. Further errors:
 * the same name twice, a name used as two kinds of container, a map entry
 * without its key or value or with a key seen before, names that are not
 * UTF-8 or hold NUL, values that are not UTF-8, more than 100000 pairs,
 * nesting deeper than 32. On error nothing is stored in *out, *action or
 * *version. Time: O(n log n) in the pairs, whatever the input. */
int tw_query_decode(const char *form, size_t len, json_t **out, char **action, char **version,
                    tw_err *err);

/* <OpResponse xmlns=NS><OpResult>...</OpResult><ResponseMetadata><RequestId>
 * ...</RequestId></ResponseMetadata></OpResponse>; no Result element when
 * output is NULL. Arrays → <member>, maps → <entry>, reals as the shortest
 * round-tripping decimal, booleans true/false, timestamps ISO 8601 with ms
 * when not whole seconds. */
void tw_query_encode_response(tw_buf *out, const tw_operation *op, const char *xml_namespace,
                              const json_t *output, const char *request_id);
void tw_query_encode_error(tw_buf *out, const char *xml_namespace, const char *code,
                           const char *message, bool server_fault, const char *request_id);

/* ---- AWS JSON 1.0 / 1.1 and REST-JSON ---- */

/* Parses a JSON object body (an empty body is {}); anything else is an error
 * (SerializationException). */
int tw_json_decode(const uint8_t *body, size_t len, json_t **out, tw_err *err);
/* The output object as JSON ({} for NULL); timestamp members converted from
 * ms to epoch seconds when epoch_seconds (CloudWatch JSON 1.0, CloudTrail);
 * Logs keeps its ms integers (pass false). */
void tw_json_encode_output(tw_buf *out, const tw_operation *op, const json_t *output,
                           bool epoch_seconds);
/* {"__type":"<type>","message":"<message>"} */
void tw_json_encode_error(tw_buf *out, const char *type, const char *message);

/* ---- Smithy RPC v2 CBOR ---- */

/* A CBOR map → object. Text strings, integers, floats (half, single,
 * double), booleans, null/undefined (member dropped), arrays, maps with text
 * keys, byte strings (→ base64 string), tag 1 (→ epoch seconds as a real),
 * indefinite lengths. Depth limited (64).
 * Also: an empty body is {}; NaN and infinities become the AWS JSON strings
 * "NaN", "Infinity", "-Infinity"; null inside a list stays null. Errors: a
 * body that is not one map, trailing bytes, truncation, non-text or
 * duplicate keys, invalid UTF-8, tags other than 1, integers outside
 * int64, reserved bytes, more than 1,000,000 items. */
int tw_cbor_decode(const uint8_t *data, size_t len, json_t **out, tw_err *err);
/* The output object as a CBOR map (an empty map for NULL); timestamp members
 * as tag 1 around epoch seconds (integer when whole, else double). */
void tw_cbor_encode_output(tw_buf *out, const tw_operation *op, const json_t *output);
/* {"__type": type, "message": message} as CBOR. */
void tw_cbor_encode_error(tw_buf *out, const char *type, const char *message);

#endif
