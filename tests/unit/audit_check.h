/* audit_check.h — what the audit tests share (test_audit_derive.c,
 * test_audit_derive_logs.c): deriver options as a [logs] section gives
 * them, records built from name/value pairs, the collector's own
 * PutAuditEvents validator as the judge of every event, and members of the
 * event read back with jansson.
 *
 * Test-only; failures fail the running cmocka test. Strings returned are
 * malloc'd (free them); JSON values are new references (json_decref). */
#ifndef TW_AUDIT_CHECK_H
#define TW_AUDIT_CHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_derive.h"
#include "log_parser.h"

#define AUDIT_ACCOUNT "123456789012"
#define AUDIT_SOURCE "shop.example.internal"
#define AUDIT_T0 INT64_C(1704067205123) /* 2024-01-01T00:00:05.123Z */

/* A parsed record at AUDIT_T0 with the fields of pairs (name, value, ...,
 * NULL), borrowed from pairs. */
tw_log_record audit_record(const char *const *pairs);

/* Options for format with AUDIT_SOURCE, AUDIT_ACCOUNT, reads included. */
tw_audit_derive_options audit_options(const char *format);

/* A deriver, or the test fails with the refusal. */
tw_audit_deriver *audit_deriver(const tw_audit_derive_options *options);

/* Fails the test unless the collector's validator accepts the eventData. */
void audit_assert_accepted(const char *data, size_t len);

/* Derives the record of pairs with key: the eventData (checked by the
 * collector), or NULL when there is no event (and then checks the output
 * buffer was left alone). */
char *audit_derive_pairs(tw_audit_deriver *d, const char *const *pairs, uint64_t key);

/* text as JSON (duplicates refused), or the test fails. */
json_t *audit_json(const char *text);

/* The member at "a.b" as text (strings raw, others compact JSON), or NULL. */
char *audit_member(json_t *root, const char *path);

/* Fails the test unless the member is want (NULL: absent). */
#define assert_member(root, path, want) audit_check_member((root), (path), (want), __LINE__)
void audit_check_member(json_t *root, const char *path, const char *want, int line);

#endif
