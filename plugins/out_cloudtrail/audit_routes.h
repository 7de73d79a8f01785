/* audit_routes.h — request paths for audit events: the route map that
 * names events ([logs] audit_routes), the path patterns of data_paths, and
 * the default event name ("POST /orders/123" -> "POST /orders/{id}").
 *
 * Path patterns (both keys) match a request path segment by segment; the
 * query string and fragment are dropped and empty segments ignored, so
 * "/orders//12/?x=1" is the path /orders/12:
 *   /orders/new      a literal segment matches itself (case-sensitive)
 *   *  or  {name}    any one segment
 *   **               any number of segments, none included
 *   *.csv  v?        within a segment, * is any run of characters and ?
 *                    one character
 * A pattern has at most TW_AUDIT_PATTERN_MAX_SEGMENTS segments; matching is
 * a set-of-states walk (time linear in the segments of the path times those
 * of the pattern), so no pattern can make a request expensive.
 *
 * Route map text: rules "[METHODS] PATTERN = NAME", blank-separated (the
 * config joins continuation lines with a space), the first match wins.
 * METHODS is "*" (the default: any method) or upper-case methods separated
 * by commas ("PUT,PATCH"); NAME is a word or a "double-quoted text", at most
 * 1024 characters; the NAME "-" means "no audit event" (health checks).
 *
 * Ownership: tw_audit_routes and tw_audit_paths own a copy of their text;
 * free them with their _free. A tw_audit_path borrows the path it splits.
 * All functions may be called from any thread; a parsed map is read-only.
 */
#ifndef TW_AUDIT_ROUTES_H
#define TW_AUDIT_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TW_AUDIT_PATTERN_MAX_SEGMENTS 32
#define TW_AUDIT_PATH_MAX_SEGMENTS 64
#define TW_AUDIT_ROUTES_MAX 256
#define TW_AUDIT_NAME_MAX_CHARS 1024 /* eventName (spec §6) */

/* A request path cut into segments (offsets into text). */
typedef struct tw_audit_path {
    const char *text; /* the path as logged, without query and fragment */
    size_t len;
    unsigned n;
    bool too_deep; /* more than TW_AUDIT_PATH_MAX_SEGMENTS: no pattern matches */
    uint32_t start[TW_AUDIT_PATH_MAX_SEGMENTS];
    uint32_t seg_len[TW_AUDIT_PATH_MAX_SEGMENTS];
} tw_audit_path;

/* Splits path (len bytes, a request target as logged: "/a/b?q", or an
 * absolute "http://host/a/b") into *out. Cannot fail. */
void tw_audit_path_split(const char *path, size_t len, tw_audit_path *out);

/* ---- the route map ---- */

typedef struct tw_audit_routes tw_audit_routes;

/* Parses a route map. Returns 0 and *out, or -EINVAL with err naming the
 * rule and what was expected (*out untouched). */
int tw_audit_routes_new(const char *text, tw_audit_routes **out, tw_err *err);
void tw_audit_routes_free(tw_audit_routes *routes);

/* The NAME of the first rule matching method and path, or NULL (*name_len
 * set when found). A returned "-" means the request makes no event. */
const char *tw_audit_routes_match(const tw_audit_routes *routes, const char *method,
                                  size_t method_len, const tw_audit_path *path,
                                  size_t *name_len);

/* ---- data_paths ---- */

typedef struct tw_audit_paths tw_audit_paths;

/* Parses blank-separated path patterns. Returns 0 and *out, or -EINVAL
 * with err naming the pattern. */
int tw_audit_paths_new(const char *text, tw_audit_paths **out, tw_err *err);
void tw_audit_paths_free(tw_audit_paths *paths);
bool tw_audit_paths_match(const tw_audit_paths *paths, const tw_audit_path *path);

/* ---- the default name ---- */

/* Appends, as JSON string content (audit_json.h), "METHOD /a/{id}/b": the
 * path's segments with those that look like ids — all digits, a UUID, or
 * 16 or more hex digits, optionally followed by an extension of 1 to 8
 * letters or digits ("{id}.json") — replaced by {id}; "/" for an empty
 * path. At most max_chars characters. */
void tw_audit_default_name(tw_buf *out, const char *method, size_t method_len,
                           const tw_audit_path *path, size_t max_chars);

#endif
