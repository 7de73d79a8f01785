/* fuzz_exec_output.c — libFuzzer target for what exec plugins print
 * (plugins/in_exec/exec_parse.h) and for their command lines
 * (exec_command.h). Nothing may crash, leak or trip a sanitizer, whatever
 * the bytes; every sample that reaches the sink must pass CloudWatch's
 * rules and have a time in the window; a bad line must come with a reason.
 *
 * The whole input is one program's output, cut into lines by exec_lines
 * as the runner does (fed in chunks whose size the first byte picks), and
 * parsed in every format, both as a periodic run and as daemon lines. The
 * seeds are in tests/fuzz/corpus/exec_output/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec_command.h"
#include "exec_lines.h"
#include "exec_parse.h"

#define NOW_MS 1700000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_sample(void *ctx, const tw_metric_sample *s)
{
    (void)ctx;
    char why[256];
    if (tw_metric_sample_check(s, why, sizeof why) != 0)
        abort();
    if (s->time_ms < NOW_MS - 15LL * 86400000 || s->time_ms > NOW_MS + 3LL * 3600000)
        abort();
    return 0;
}

static void on_notification(void *ctx, const char *severity, const char *message)
{
    (void)ctx;
    if (severity == NULL || message == NULL || message[0] == '\0')
        abort();
}

static void on_line(void *ctx, const char *line, size_t len, bool cut)
{
    tw_exec_parser *p = ctx;
    if (cut && len > TW_EXEC_SHOW_MAX)
        abort();
    if (!cut && len > TW_EXEC_LINE_MAX)
        abort();
    char shown[TW_EXEC_ESCAPED_SIZE];
    tw_exec_escape(line, len, shown, sizeof shown);
    if (strlen(shown) >= sizeof shown)
        abort();
    if (cut)
        return;
    char why[TW_EXEC_WHY_SIZE];
    if (tw_exec_parse_line(p, line, len, why, sizeof why) != 0 && why[0] == '\0')
        abort();
}

static void parse_all(const uint8_t *data, size_t size, size_t chunk, tw_exec_format format,
                      bool stand_alone)
{
    tw_exec_parser_config config = {
        .format = format,
        .lines_stand_alone = stand_alone,
        .exec_name = "fuzz",
        .hostname = "fuzzhost",
        .sink = {check_sample, NULL},
        .notify = on_notification,
    };
    tw_exec_parser p;
    tw_exec_parser_init(&p, &config);
    p.now_ms = NOW_MS;
    p.default_time_ms = NOW_MS;
    tw_exec_lines lines = {0};
    for (size_t at = 0; at < size; at += chunk)
        tw_exec_lines_feed(&lines, (const char *)data + at, size - at < chunk ? size - at : chunk,
                           on_line, &p);
    tw_exec_lines_end(&lines, on_line, &p);
    tw_exec_lines_free(&lines);
    if (format == TW_EXEC_FORMAT_NAGIOS || p.nagios_seen) {
        char why[TW_EXEC_WHY_SIZE];
        tw_exec_parser_emit_status(&p, TW_NAGIOS_UNKNOWN, NOW_MS, why, sizeof why);
    }
    tw_exec_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const tw_exec_format formats[] = {TW_EXEC_FORMAT_AUTO, TW_EXEC_FORMAT_TRAILWATCH,
                                             TW_EXEC_FORMAT_COLLECTD, TW_EXEC_FORMAT_NAGIOS};
    size_t chunk = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        parse_all(data, size, i == 0 ? chunk : size + 1, formats[i], false);
        parse_all(data, size, size + 1, formats[i], true);
    }

    /* The same bytes as an exec command (up to the first NUL). */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char **argv;
    if (tw_exec_command_split(text, &argv, NULL) == 0) {
        if (argv[0] == NULL || argv[0][0] == '\0')
            abort();
        tw_exec_command_free(argv);
    }
    free(text);
    return 0;
}
