/* nginx_format.h — nginx's own log_format language, compiled for matching
 * access-log lines: the format becomes a small program (a leading literal,
 * then one step per variable with the literal that follows it), and a line
 * is split by walking that program with memchr scans. No regex, no
 * allocation per line.
 *
 * The text given to the compiler is either
 *   - the format itself, optionally preceded by an escape parameter:
 *       $remote_addr - $remote_user [$time_local] "$request" ...
 *       escape=json {"addr":"$remote_addr","time":"$time_iso8601"}
 *   - or the directive as written in nginx.conf (quoted strings are
 *     concatenated, nginx's backslash escapes inside quotes are honoured):
 *       log_format main escape=json '{"addr":"$remote_addr",' '"t":"$msec"}';
 * Variables are $name or ${name}, name made of letters, digits and '_'.
 * (An agent.conf value continued on indented lines is joined with spaces:
 * write a format spread over several lines in the directive form.)
 *
 * Matching: a variable runs until the first occurrence of the literal that
 * follows it (nginx's default escaping writes '"' and '\' inside values as
 * \x22 and \x5C, so a quote always ends a quoted value); the last variable
 * runs to the end of the line; text after the format's last literal is
 * ignored (formats extended by a trailing field still match). Exceptions
 * that keep real logs apart:
 *   - list variables ($upstream_*, $http_x_forwarded_for) skip nginx's ", "
 *     and " : " separators when they look for a literal starting with a space;
 *   - with escape=json a '"' preceded by an odd number of '\' is not a quote;
 *   - two variables with no text between them ($host$request_uri) are split
 *     by what the first one can contain (digits for $status, a host name for
 *     $host, ...); a format where the first one can hold anything is refused
 *     at compile time.
 *
 * Values come out raw (still escaped, slices of the line); tw_nginx_unescape
 * undoes the format's escaping into a buffer the caller owns.
 *
 * Ownership: tw_nginx_format_compile allocates the format, the caller frees
 * it with tw_nginx_format_free. A compiled format is immutable: any number of
 * threads may match with it at once.
 */
#ifndef TW_NGINX_FORMAT_H
#define TW_NGINX_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* nginx's predefined "combined" format. */
#define TW_NGINX_COMBINED                                                                    \
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "       \
    "\"$http_referer\" \"$http_user_agent\""

/* More variables than this in one format is refused. */
#define TW_NGINX_MAX_VARS 256

/* How nginx escaped variable values (log_format's escape= parameter). */
typedef enum tw_nginx_escape {
    TW_NGINX_ESCAPE_DEFAULT, /* '"', '\', bytes < 0x20 and >= 0x7f as \xHH */
    TW_NGINX_ESCAPE_JSON,    /* JSON string escapes: \" \\ \n \u0001 ... */
    TW_NGINX_ESCAPE_NONE,    /* values written as they are */
} tw_nginx_escape;

/* What a variable means to the parser. */
typedef enum tw_nginx_var_kind {
    TW_NGINX_VAR_OTHER,
    TW_NGINX_VAR_REQUEST,      /* $request: "GET /a?b HTTP/1.1" */
    TW_NGINX_VAR_TIME_LOCAL,   /* $time_local: 10/Oct/2000:13:55:36 -0700 */
    TW_NGINX_VAR_TIME_ISO8601, /* $time_iso8601: 2000-10-10T13:55:36-07:00 */
    TW_NGINX_VAR_MSEC,         /* $msec: 971211336.123 */
} tw_nginx_var_kind;

typedef struct tw_nginx_var {
    const char *name; /* without '$', NUL-terminated, owned by the format */
    tw_nginx_var_kind kind;
} tw_nginx_var;

/* A slice of someone else's buffer. */
typedef struct tw_nginx_span {
    const char *text;
    size_t len;
} tw_nginx_span;

typedef struct tw_nginx_format tw_nginx_format;

/* Compiles len bytes of text (need not be NUL-terminated). Returns 0 and
 * sets *out, or -EINVAL with err saying what is wrong and at which column
 * (1-based, in text), e.g.
 *   log_format: "$" at column 17 is not followed by a variable name
 * *out is untouched on error. */
int tw_nginx_format_compile(const char *text, size_t len, tw_nginx_format **out, tw_err *err);

void tw_nginx_format_free(tw_nginx_format *format);

tw_nginx_escape tw_nginx_format_escape(const tw_nginx_format *format);

/* The variables, in the order they appear in the format (a variable used
 * twice is listed twice). */
size_t tw_nginx_format_var_count(const tw_nginx_format *format);
const tw_nginx_var *tw_nginx_format_var(const tw_nginx_format *format, size_t i);

/* Splits line (len bytes, not NUL-terminated) by the format. On a match
 * returns true and fills values[0 .. var_count - 1] with slices of line
 * (still escaped); otherwise returns false and values are unspecified. */
bool tw_nginx_format_match(const tw_nginx_format *format, const char *line, size_t len,
                           tw_nginx_span *values);

/* Undoes escape in len bytes of text, writing the value to out, which has
 * room for len bytes (a value is never longer than its escaped form).
 * Returns the number of bytes written. Escapes that would produce invalid
 * UTF-8 (\xAD alone, a lone \uD800) are kept as written, so a value
 * unescaped from valid UTF-8 is valid UTF-8; malformed escapes are kept too. */
size_t tw_nginx_unescape(tw_nginx_escape escape, const char *text, size_t len, char *out);

/* The parts of an HTTP request line, slices of it. */
typedef struct tw_nginx_request {
    tw_nginx_span method;   /* GET */
    tw_nginx_span path;     /* /a?b: the request target as sent, query included */
    tw_nginx_span protocol; /* HTTP/1.1; empty for an HTTP/0.9-style "GET /" */
} tw_nginx_request;

/* Splits "METHOD target[ HTTP/x.y]". Returns false (and clears *out) for
 * what is not a request line: "", "hello", a TLS handshake read as text. */
bool tw_nginx_split_request(const char *text, size_t len, tw_nginx_request *out);

#endif
