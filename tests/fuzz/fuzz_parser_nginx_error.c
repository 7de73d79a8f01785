/* fuzz_parser_nginx_error.c — libFuzzer target for format = nginx_error
 * (plugins/parser_nginx/parser_nginx_error.c): the input is lines, each
 * read a little later than the one before; a line's first byte also decides
 * whether an idle flush runs after it. Whatever the bytes, the records must
 * hand back every line exactly once and in order (their messages, joined
 * with '\n', are the input; their offsets tile it), pending_offset must be
 * where the next record will start, an unparsed record has no fields, and
 * every field's bytes are read (ASan catches a value outside the event). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_parser.h"
#include "parser_nginx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct expect {
    const char *text; /* the whole input */
    size_t size;
    uint64_t next; /* where the next record must start */
} expect;

static void check_record(void *ctx, const tw_log_record *r)
{
    expect *e = ctx;
    if (r->offset != e->next || r->message_len > e->size - r->offset ||
        memcmp(r->message, e->text + r->offset, r->message_len) != 0 ||
        r->end != r->offset + r->message_len + 1 || r->n_fields > TW_LOG_MAX_FIELDS)
        abort();
    if (!r->parsed && r->n_fields != 0)
        abort();
    volatile unsigned char sum = 0;
    for (unsigned i = 0; i < r->n_fields; i++)
        for (size_t k = 0; k < r->fields[i].len; k++)
            sum ^= (unsigned char)r->fields[i].value[k];
    (void)sum;
    e->next = r->end;
}

static void check_pending(const void *parser, const expect *e)
{
    uint64_t pending = tw_parser_nginx_error.pending_offset(parser);
    if (pending != TW_LOG_NO_PENDING && pending != e->next)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_log_parser_options options = {.section = "fuzz", .group_timeout_ms = 100};
    void *parser = NULL;
    if (tw_parser_nginx_error.create(&options, &parser, NULL) != 0)
        abort();
    const char *text = (const char *)data;
    expect e = {text, size, 0};
    int64_t now = 1700000000000;
    size_t pos = 0;
    while (pos < size) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) : size - pos;
        char *copy = malloc(len ? len : 1);
        memcpy(copy, text + pos, len);
        now += len > 0 ? (unsigned char)copy[0] % 64 : 7;
        tw_log_line line = {copy, len, pos, pos + len + 1, now, false};
        tw_parser_nginx_error.feed(parser, &line, check_record, &e);
        check_pending(parser, &e);
        if (len > 0 && copy[0] % 3 == 0)
            tw_parser_nginx_error.flush(parser, now + 50, false, check_record, &e);
        check_pending(parser, &e);
        free(copy);
        pos += len + 1;
    }
    tw_parser_nginx_error.flush(parser, now, true, check_record, &e);
    if (tw_parser_nginx_error.pending_offset(parser) != TW_LOG_NO_PENDING || e.next < size)
        abort();
    tw_parser_nginx_error.destroy(parser);
    return 0;
}
