/* fuzz_parser_nginx.c — libFuzzer target for format = nginx
 * (plugins/parser_nginx/parser_nginx.c): the first byte picks one of the
 * formats real servers use (combined, combined + X-Forwarded-For,
 * ingress-nginx, escape=json, msec/iso8601 times, adjacent variables), the
 * rest is lines. Every line must give exactly one record whose message is
 * the line; an unparsed record has no fields and the read time; every
 * field's bytes are read, so a value pointing outside the line or the
 * parser's scratch buffer trips ASan. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_parser.h"
#include "nginx_format.h"
#include "parser_nginx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const formats[] = {
    NULL,
    TW_NGINX_COMBINED " \"$http_x_forwarded_for\"",
    TW_NGINX_COMBINED " $request_length $request_time [$proxy_upstream_name] "
                      "[$proxy_alternative_upstream_name] $upstream_addr "
                      "$upstream_response_length $upstream_response_time $upstream_status $req_id",
    "escape=json {\"t\":\"$time_iso8601\",\"a\":\"$remote_addr\",\"r\":\"$request\","
    "\"s\":$status,\"u\":\"$http_user_agent\"}",
    "$msec $remote_addr \"$request\" $status $request_time $request_id",
    "[$time_local] $host $remote_addr $request_time \"$request\" $status $body_bytes_sent "
    "$request_length $http_referer $http_user_agent",
    "escape=none $scheme://$host$request_uri $status$body_bytes_sent \"$request\"",
    "$host $remote_addr - $remote_user [$time_local] \"$request\" $status",
};

typedef struct expect {
    const tw_log_line *line;
    unsigned records;
} expect;

static void check_record(void *ctx, const tw_log_record *r)
{
    expect *e = ctx;
    e->records++;
    if (r->message != e->line->text || r->message_len != e->line->len ||
        r->offset != e->line->offset || r->end != e->line->end ||
        r->n_fields > TW_LOG_MAX_FIELDS)
        abort();
    if (!r->parsed && (r->n_fields != 0 || r->timestamp_ms != e->line->read_time_ms))
        abort();
    volatile unsigned char sum = 0;
    for (unsigned i = 0; i < r->n_fields; i++) {
        if (r->fields[i].name == NULL || r->fields[i].len == 0)
            abort();
        for (size_t k = 0; k < r->fields[i].len; k++)
            sum ^= (unsigned char)r->fields[i].value[k];
    }
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    tw_log_parser_options options = {
        .section = "fuzz", .log_format = formats[data[0] % (sizeof formats / sizeof formats[0])]};
    void *parser = NULL;
    tw_err err;
    if (tw_parser_nginx.create(&options, &parser, &err) != 0)
        abort();
    const char *text = (const char *)data + 1;
    size_t n = size - 1, pos = 0;
    while (pos < n) {
        const char *nl = memchr(text + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) : n - pos;
        char *copy = malloc(len ? len : 1);
        memcpy(copy, text + pos, len);
        tw_log_line line = {copy, len, pos, pos + len + 1, 1700000000000, false};
        expect e = {&line, 0};
        tw_parser_nginx.feed(parser, &line, check_record, &e);
        if (e.records != 1)
            abort();
        free(copy);
        pos += len + 1;
    }
    tw_parser_nginx.destroy(parser);
    return 0;
}
