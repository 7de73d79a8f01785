/* audit_check.c — helpers of the audit tests (see audit_check.h). */
#include "audit_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit_events.h"
#include "mem.h"

tw_log_record audit_record(const char *const *pairs)
{
    tw_log_record r = {.message = "line", .message_len = 4, .timestamp_ms = AUDIT_T0, .parsed = true};
    for (size_t i = 0; pairs[i] != NULL; i += 2)
        tw_log_record_add(&r, pairs[i], pairs[i + 1], strlen(pairs[i + 1]));
    return r;
}

tw_audit_derive_options audit_options(const char *format)
{
    return (tw_audit_derive_options){.section = "test", .format = format,
                                     .event_source = AUDIT_SOURCE, .recipient_account_id = AUDIT_ACCOUNT,
                                     .read_only_events = true};
}

tw_audit_deriver *audit_deriver(const tw_audit_derive_options *o)
{
    tw_audit_deriver *d = NULL;
    tw_err err;
    if (tw_audit_deriver_new(o, &d, &err) != 0)
        fail_msg("deriver refused: %s", err.msg);
    return d;
}

/* The collector's PutAuditEvents validator, on one eventData. */
void audit_assert_accepted(const char *data, size_t len)
{
    tw_audit_event event = {.id = "x", .data = data, .data_len = len};
    tw_audit_check_event(&event, AUDIT_ACCOUNT);
    if (event.error_code != NULL)
        fail_msg("collector refused (%s: %s):\n%.*s", event.error_code, event.error_message,
                 (int)len, data);
    json_decref(event.parsed);
}

/* Derives record with key; returns the eventData as a new string (NULL when
 * there is no event), after checking it is accepted by the collector. */
char *audit_derive_pairs(tw_audit_deriver *d, const char *const *pairs, uint64_t key)
{
    tw_log_record r = audit_record(pairs);
    tw_buf out = TW_BUF_INIT;
    tw_buf_puts(&out, "prefix");
    int made = tw_audit_derive(d, &r, key, &out);
    assert_true(made == 0 || made == 1);
    if (made == 0) {
        assert_string_equal(tw_buf_cstr(&out), "prefix"); /* out untouched */
        tw_buf_free(&out);
        return NULL;
    }
    assert_memory_equal(out.data, "prefix", 6);
    char *data = tw_strdup(out.data + 6);
    tw_buf_free(&out);
    audit_assert_accepted(data, strlen(data));
    return data;
}

json_t *audit_json(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return v;
}

/* A member by path "a.b" as text (strings raw, others dumped). */
char *audit_member(json_t *root, const char *path)
{
    char copy[128];
    snprintf(copy, sizeof copy, "%s", path);
    json_t *v = root;
    for (char *save = NULL, *p = strtok_r(copy, ".", &save); p; p = strtok_r(NULL, ".", &save))
        v = json_object_get(v, p);
    if (v == NULL)
        return NULL;
    if (json_is_string(v))
        return tw_strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

void audit_check_member(json_t *root, const char *path, const char *want, int line)
{
    char *got = audit_member(root, path);
    bool ok = want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
    if (!ok)
        fail_msg("line %d: %s: expected %s, got %s", line, path, want ? want : "(absent)",
                 got ? got : "(absent)");
    free(got);
}

