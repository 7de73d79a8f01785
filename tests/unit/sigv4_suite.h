/* sigv4_suite.h — test-only reader for the two official SigV4 test suites,
 * shared by test_sigv4.c (signing) and test_sigv4_verify.c (verification).
 *
 * It owns everything about reading the suites as they stand under
 * TW_TESTDATA_DIR (never copied into the tree): their locations and the
 * credentials and time they are signed with; finding the case directories
 * (botocore aws4_testsuite "X/X.req" layout and aws-c-auth
 * aws-signing-test-suite-v4 "context.json" layout) and running a check over
 * each; reading a case's files; parsing the suites' request format (harness
 * notes of shared/spec/sigv4.md §8) into a request that can be edited and
 * handed to the signer or verifier; and the few flat keys of context.json.
 *
 * What each test checks stays in the test. Failures to read a suite fail the
 * running cmocka test (an absent suite never passes), so call these only from
 * inside a test. Ownership: every char * returned is malloc'd and the caller
 * free()s it; a sigv4_suite_request or sigv4_suite_context is released with
 * its matching _free function. A tw_sigv4_request from sigv4_suite_as_sigv4
 * borrows from the sigv4_suite_request it came from (call it again after
 * editing the request).
 */
#ifndef TW_TESTS_SIGV4_SUITE_H
#define TW_TESTS_SIGV4_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sigv4.h"

#define SIGV4_SUITE_BOTOCORE_DIR TW_TESTDATA_DIR "/sigv4/aws4_testsuite"
#define SIGV4_SUITE_V4_DIR TW_TESTDATA_DIR "/sigv4/aws-signing-test-suite-v4"
#define SIGV4_SUITE_AKID "AKIDEXAMPLE"
#define SIGV4_SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SIGV4_SUITE_TIME_MS 1440938160000LL /* 20150830T123600Z */
#define SIGV4_SUITE_MAX_HEADERS 32

/* ---- files and case discovery -------------------------------------------- */

/* dir/file's contents; fails the test when it cannot be read. */
char *sigv4_suite_file(const char *dir, const char *file);
/* A botocore case's dir/X.suffix (X: the directory's own name). */
char *sigv4_suite_botocore_file(const char *dir, const char *suffix);

/* Runs a whole suite: finds the directories under dir, recursively, that
 * hold a case (botocore "X/X.req" when marker is NULL, else a file named
 * marker), asserts there are exactly `count` of them, calls check on each in
 * sorted order, and asserts that the failures check returns (printing each
 * one as it goes, so one run names every failing case) add up to 0. */
void sigv4_suite_check_cases(const char *dir, const char *marker, size_t count,
                             int (*check)(const char *case_dir, void *ctx), void *ctx);

/* ---- requests -------------------------------------------------------------- */

/* A parsed suite request. Headers are kept in arrival order as names[] and
 * values[] (editable); headers[] is filled from them by sigv4_suite_as_sigv4. */
typedef struct sigv4_suite_request {
    char *method, *path;
    tw_buf query; /* without the '?'; empty when none */
    tw_buf names[SIGV4_SUITE_MAX_HEADERS], values[SIGV4_SUITE_MAX_HEADERS];
    tw_sigv4_header headers[SIGV4_SUITE_MAX_HEADERS];
    size_t header_count;
    char *body;
    size_t body_len;
} sigv4_suite_request;

/* How a case's request is read: a botocore case, or an
 * aws-signing-test-suite-v4 case signed in header or query form. */
typedef enum sigv4_suite_form {
    SIGV4_SUITE_BOTOCORE,
    SIGV4_SUITE_V4_HEADER,
    SIGV4_SUITE_V4_QUERY,
} sigv4_suite_form;

/* The suites' request format: "METHOD target HTTP/1.1", then "Name:value"
 * lines (no space after the colon: values may start with blanks), indented
 * continuation lines, an empty line, the body. get-space's request line holds
 * a raw space, so the target ends at the last " HTTP/". Overwrites *r. */
void sigv4_suite_parse_request(const char *text, sigv4_suite_request *r);
void sigv4_suite_free_request(sigv4_suite_request *r);
/* A fresh copy of the case's request before signing: botocore X.req, v4
 * request.txt (either v4 form). */
void sigv4_suite_read_unsigned(const char *dir, sigv4_suite_form form, sigv4_suite_request *r);
/* A fresh copy of the case's signed request. botocore: X.req plus X.authz as
 * Authorization (its .sreq files are not all current) and token, when not
 * NULL and the request has none, as X-Amz-Security-Token; v4: the
 * header-signed-request.txt or query-signed-request.txt of that form. */
void sigv4_suite_read_signed(const char *dir, sigv4_suite_form form, const char *token,
                             sigv4_suite_request *r);
/* The request as the signer and verifier take it (borrowing from r). */
tw_sigv4_request sigv4_suite_as_sigv4(sigv4_suite_request *r);

/* First value of a header (name in any case), or NULL. */
tw_buf *sigv4_suite_header(sigv4_suite_request *r, const char *name);
const char *sigv4_suite_header_cstr(sigv4_suite_request *r, const char *name);
void sigv4_suite_add_header(sigv4_suite_request *r, const char *name, const char *value);
/* Removes every header of that name (any case). */
void sigv4_suite_remove_header(sigv4_suite_request *r, const char *name);

/* ---- credentials ------------------------------------------------------------ */

/* Both suites' credentials, region us-east-1, service "service", time
 * SIGV4_SUITE_TIME_MS; everything else zero. */
tw_sigv4_sign_params sigv4_suite_sign_params(void);

/* A botocore case's session token, or NULL: signed when its .creq lists one,
 * else (post-sts-header-after) the one its .sreq sends after signing, which
 * sets *sent_after (when not NULL). */
char *sigv4_suite_botocore_token(const char *dir, bool *sent_after);

/* ---- context.json (aws-signing-test-suite-v4) ---------------------------- */

/* context.json holds a handful of flat keys; a full JSON parser is not
 * needed to read them. Returns the raw value text after "key": (a string
 * without its quotes), or NULL. */
char *sigv4_suite_json_value(const char *json, const char *key);

typedef struct sigv4_suite_context {
    char *akid, *secret, *token, *region, *service;
    bool normalize, sign_body, omit_session_token;
    int64_t time_ms;
    uint32_t expires_s;
} sigv4_suite_context;

/* Reads dir/context.json; fails the test when a required key is missing. */
void sigv4_suite_read_context(const char *dir, sigv4_suite_context *c);
void sigv4_suite_free_context(sigv4_suite_context *c);

#endif
