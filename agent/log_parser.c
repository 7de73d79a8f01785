/* log_parser.c — the table of log parsers (format = NAME) and the record
 * helpers every parser uses; also the raw parser, which ships each line as
 * it is. */
#include "log_parser.h"

#include <string.h>

#include "mem.h"

/* Parsers live in plugins/parser_* (each one defines its ops). */
extern const tw_log_parser_ops tw_parser_nginx;
extern const tw_log_parser_ops tw_parser_nginx_error;
extern const tw_log_parser_ops tw_parser_rails;
extern const tw_log_parser_ops tw_parser_syslog;
extern const tw_log_parser_ops tw_parser_json;
static const tw_log_parser_ops raw_parser;

static const tw_log_parser_ops *const parsers[] = {
    &raw_parser,
    &tw_parser_rails,
    &tw_parser_nginx,
    &tw_parser_nginx_error,
    &tw_parser_syslog,
    &tw_parser_json,
};

const tw_log_parser_ops *tw_log_parser_find(const char *name)
{
    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
        if (strcmp(parsers[i]->name, name) == 0)
            return parsers[i];
    return NULL;
}

void tw_log_record_add(tw_log_record *record, const char *name, const char *value, size_t len)
{
    if (record->n_fields >= TW_LOG_MAX_FIELDS)
        return;
    record->fields[record->n_fields++] = (tw_log_field){name, value, len};
}

const char *tw_log_record_get(const tw_log_record *record, const char *name, size_t *len)
{
    for (unsigned i = 0; i < record->n_fields; i++) {
        if (strcmp(record->fields[i].name, name) == 0) {
            *len = record->fields[i].len;
            return record->fields[i].value;
        }
    }
    *len = 0;
    return NULL;
}

/* ---- raw: one line, one event, stamped with the read time ---------------- */

static int raw_create(const tw_log_parser_options *options, void **state, tw_err *err)
{
    (void)options;
    (void)err;
    *state = NULL;
    return 0;
}

static void raw_feed(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    (void)state;
    tw_log_record record = {
        .message = line->text,
        .message_len = line->len,
        .timestamp_ms = line->read_time_ms,
        .offset = line->offset,
        .end = line->end,
        .parsed = true,
    };
    emit(ctx, &record);
}

static void raw_destroy(void *state)
{
    (void)state;
}

static const tw_log_parser_ops raw_parser = {
    .name = "raw",
    .create = raw_create,
    .feed = raw_feed,
    .destroy = raw_destroy,
};
