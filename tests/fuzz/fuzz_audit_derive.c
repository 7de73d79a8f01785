/* fuzz_audit_derive.c — libFuzzer target for audit events derived from log
 * records (plugins/out_cloudtrail/audit_derive.h), with the route map and
 * data_paths parsers and Rails' params reader on the way.
 *
 * Input:
 *   byte 0      format (% 3: nginx, rails, syslog) and flags: bit 2 trust
 *               X-Forwarded-For, bit 3 read-only events, bit 4 a route map
 *               and bit 5 data_paths (the first segments), bit 6 the user in
 *               "http_x_user"
 *   bytes 1-8   the record's timestamp (epoch ms, any int64)
 *   the rest    segments separated by '\n': a route map, data_paths (when
 *               flagged), then fields, each a name index byte and a value
 * Checked, beyond "no crash, no leak, no sanitizer report":
 *   - an event is one valid JSON object, and the collector's own
 *     PutAuditEvents validator accepts it (every field within the schema);
 *   - no event leaves the output buffer exactly as it was;
 *   - the same record and key derive the same bytes again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit_derive.h"
#include "audit_events.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ACCOUNT "123456789012"

static const char *const names[] = {
    "method", "path", "protocol", "status", "remote_addr", "remote_user",
    "http_x_forwarded_for", "http_user_agent", "request_id", "body_bytes_sent",
    "controller", "action", "params", "error", "user", "program", "host",
    "auth_result", "auth_method", "remote_port", "invalid_user", "target_user",
    "command", "tty", "pwd", "sudo_result", "http_x_user", "request_method",
    "request_uri", "uri", "time_local",
};

/* The next '\n'-separated segment of [*p, end), NUL-terminated in a copy. */
static char *segment(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl != NULL ? nl : end;
    *len = (size_t)(stop - *p);
    char *copy = tw_memdup(*p, *len);
    *p = nl != NULL ? nl + 1 : end;
    return copy;
}

static void check_event(const tw_buf *out, size_t mark)
{
    json_error_t jerr;
    json_t *root = json_loadb(out->data + mark, out->len - mark, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        fprintf(stderr, "not a JSON object (%s): %s\n", jerr.text, out->data + mark);
        abort();
    }
    json_decref(root);
    tw_audit_event event = {.id = "x", .data = out->data + mark, .data_len = out->len - mark};
    tw_audit_check_event(&event, ACCOUNT);
    if (event.error_code != NULL) {
        fprintf(stderr, "collector refused: %s: %s\n%s\n", event.error_code,
                event.error_message, out->data + mark);
        abort();
    }
    json_decref(event.parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    static const char *const formats[] = {"nginx", "rails", "syslog"};
    uint8_t flags = data[0];
    int64_t timestamp;
    memcpy(&timestamp, data + 1, sizeof timestamp);
    const uint8_t *p = data + 9, *end = data + size;
    char *routes = NULL, *paths = NULL;
    size_t len;
    if (flags & 16)
        routes = segment(&p, end, &len);
    if (flags & 32)
        paths = segment(&p, end, &len);
    tw_audit_derive_options o = {
        .section = "fuzz", .format = formats[flags % 3], .event_source = "app.example",
        .recipient_account_id = ACCOUNT, .routes = routes, .data_paths = paths,
        .user_field = (flags & 64) ? "http_x_user" : NULL,
        .trust_forwarded_for = (flags & 4) != 0, .read_only_events = (flags & 8) != 0,
    };
    tw_audit_deriver *d = NULL;
    tw_err err;
    if (tw_audit_deriver_new(&o, &d, &err) != 0) {
        if (err.msg[0] == '\0')
            abort(); /* a refusal says why */
        free(routes);
        free(paths);
        return 0;
    }
    tw_log_record r = {.message = "m", .message_len = 1, .timestamp_ms = timestamp,
                       .parsed = true};
    char *values[TW_LOG_MAX_FIELDS];
    unsigned n = 0;
    while (p < end && n < TW_LOG_MAX_FIELDS) {
        values[n] = segment(&p, end, &len);
        if (len == 0) {
            free(values[n]);
            continue;
        }
        const char *name = names[(uint8_t)values[n][0] % (sizeof names / sizeof names[0])];
        tw_log_record_add(&r, name, values[n] + 1, len - 1);
        n++;
    }
    tw_buf out = TW_BUF_INIT, again = TW_BUF_INIT;
    tw_buf_puts(&out, "keep");
    int made = tw_audit_derive(d, &r, (uint64_t)timestamp, &out);
    if (made == 1) {
        check_event(&out, 4);
        tw_audit_derive(d, &r, (uint64_t)timestamp, &again);
        if (again.len != out.len - 4 || memcmp(again.data, out.data + 4, again.len) != 0)
            abort(); /* not deterministic */
    } else if (made != 0 || out.len != 4 || memcmp(out.data, "keep", 4) != 0) {
        abort();
    }
    tw_buf_free(&out);
    tw_buf_free(&again);
    for (unsigned i = 0; i < n; i++)
        free(values[i]);
    tw_audit_deriver_free(d);
    free(routes);
    free(paths);
    return 0;
}
