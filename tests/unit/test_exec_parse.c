/* test_exec_parse.c — what exec plugins' output lines become
 * (plugins/in_exec/exec_parse.h): a table of lines per format, the valid
 * ones with the samples they give and each kind of bad line with the reason
 * the user is told; Nagios multi-line output, auto detection, escaping of
 * lines for the log. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "exec_lines.h"
#include "exec_parse.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* 2023-11-14T22:13:20Z, the parser's "now" in every case. */
#define NOW_MS 1700000000000LL
/* The run's start: samples without a timestamp get it. */
#define START_MS 1699999990000LL

/* Every sample and notification, written as text:
 *   name value unit {k=v,k=v} @ms     (dims and time only when present/not
 *                                      the default) joined with "; "
 *   !severity: message                a PUTNOTIF */
typedef struct recorder {
    tw_buf text;
    int refuse; /* the sink's answer */
} recorder;

static void record_sep(recorder *r)
{
    if (r->text.len > 0)
        tw_buf_puts(&r->text, "; ");
}

static int record_sample(void *ctx, const tw_metric_sample *s)
{
    recorder *r = ctx;
    if (r->refuse)
        return r->refuse;
    record_sep(r);
    tw_buf_printf(&r->text, "%s %.10g %s", s->name, s->value, s->unit ? s->unit : "-");
    assert_null(s->namespace_);
    assert_int_equal(s->kind, TW_METRIC_GAUGE);
    if (s->n_dimensions > 0) {
        tw_buf_puts(&r->text, " {");
        for (size_t i = 0; i < s->n_dimensions; i++)
            tw_buf_printf(&r->text, "%s%s=%s", i ? "," : "", s->dimensions[i].name,
                          s->dimensions[i].value);
        tw_buf_puts(&r->text, "}");
    }
    if (s->time_ms != START_MS)
        tw_buf_printf(&r->text, " @%lld", (long long)s->time_ms);
    return 0;
}

static void record_notification(void *ctx, const char *severity, const char *message)
{
    recorder *r = ctx;
    record_sep(r);
    tw_buf_printf(&r->text, "!%s: %s", severity, message);
}

static void parser_setup(tw_exec_parser *p, recorder *r, tw_exec_format format,
                         bool stand_alone)
{
    tw_exec_parser_config config = {
        .format = format,
        .lines_stand_alone = stand_alone,
        .exec_name = "check",
        .hostname = "myhost",
        .sink = {record_sample, r},
        .notify = record_notification,
        .notify_ctx = r,
    };
    tw_exec_parser_init(p, &config);
    p->now_ms = NOW_MS;
    p->default_time_ms = START_MS;
}

typedef struct line_case {
    tw_exec_format format;
    const char *line;
    const char *samples; /* what the line gives, as recorded above */
    const char *error;   /* NULL: the line is good; else words of the reason */
} line_case;

#define TW TW_EXEC_FORMAT_TRAILWATCH
#define CD TW_EXEC_FORMAT_COLLECTD
#define NG TW_EXEC_FORMAT_NAGIOS
#define AU TW_EXEC_FORMAT_AUTO

static const line_case cases[] = {
    /* trailwatch: good */
    {TW, "queue_depth 42 Count queue=emails host_role=worker",
     "queue_depth 42 Count {queue=emails,host_role=worker}", NULL},
    {TW, "x 1", "x 1 -", NULL},
    {TW, "x -1.5e3 Milliseconds", "x -1500 Milliseconds", NULL},
    {TW, "x +.5 Bytes/Second", "x 0.5 Bytes/Second", NULL},
    {TW, "x 7.", "x 7 -", NULL},
    {TW, "x 1 k=\"a b\"", "x 1 - {k=a b}", NULL},
    {TW, "x 1 k=\"say \\\"hi\\\" \\\\ o\"", "x 1 - {k=say \"hi\" \\ o}", NULL},
    {TW, "x 1 url=a=b", "x 1 - {url=a=b}", NULL},
    {TW, "x 1 @1700000000", "x 1 - @1700000000000", NULL},
    {TW, "x 1 @1699999999.25", "x 1 - @1699999999250", NULL},
    {TW, "x 1 @1700000000123", "x 1 - @1700000000123", NULL},
    {TW, "x 1 Count k=v @1700000000", "x 1 Count {k=v} @1700000000000", NULL},
    {TW, "x\t2\tPercent\tk=v", "x 2 Percent {k=v}", NULL},
    {TW, "  x 3  \r", "x 3 -", NULL},
    {TW, "x 1e-400", "x 0 -", NULL},
    {TW, "x 1e-200", "x 0 -", NULL}, /* under 2^-360: CloudWatch would refuse it */
    {TW, "caf\xc3\xa9_latency 1", "caf\xc3\xa9_latency 1 -", NULL},
    {TW, "# a comment", "", NULL},
    {TW, "   # indented comment", "", NULL},
    {TW, "", "", NULL},
    {TW, "   \t ", "", NULL},
    /* trailwatch: each kind of bad line */
    {TW, "x", "", "no value after the metric name"},
    {TW, "x abc", "", "value \"abc\" is not a decimal number"},
    {TW, "x 0x10", "", "value \"0x10\" is not a decimal number"},
    {TW, "x inf", "", "not a decimal number"},
    {TW, "x nan", "", "not a decimal number"},
    {TW, "x 1,5", "", "not a decimal number"},
    {TW, "x 1e", "", "not a decimal number"},
    {TW, "x -", "", "not a decimal number"},
    {TW, "x 1e400", "", "outside CloudWatch's range"},
    {TW, "x 1e109", "", "outside CloudWatch's range"},
    {TW, "x 1 bytes", "", "did you mean \"Bytes\"?"},
    {TW, "x 1 Furlongs", "", "unknown unit \"Furlongs\""},
    {TW, "x 1 k=", "", "dimension k has an empty value"},
    {TW, "x 1 k=\"\"", "", "dimension k has an empty value"},
    {TW, "x 1 =v", "", "has no name"},
    {TW, "x 1 k=v k=w", "", "dimension k is given twice"},
    {TW, "x 1 k=\"open", "", "never closed"},
    {TW, "x 1 k=\"a\"b", "", "text right after a closing quote"},
    {TW, "x 1 k=v Count", "", "the unit, if any, comes right after the value"},
    {TW, "x 1 @12ab", "", "is not epoch seconds or milliseconds"},
    {TW, "x 1 @", "", "is not epoch seconds or milliseconds"},
    {TW, "x 1 @1600000000", "", "more than 14 days old"},
    {TW, "x 1 @1700010000", "", "more than 2 hours ahead"},
    {TW, "x 1 @1700000000 k=v", "", "the @timestamp, which must come last"},
    {TW, "x 1 k=caf\xc3\xa9", "", "printable ASCII"},
    {TW, "x 1 :k=v", "", "must not start with ':'"},
    {TW, "x\001y 1", "", "control character"},
    /* collectd: good */
    {CD, "PUTVAL \"myhost/cpu-0/cpu-idle\" interval=10 N:95.5", "cpu_cpu_idle 95.5 - {instance=0}",
     NULL},
    {CD, "PUTVAL otherhost/interface-eth0/if_octets N:1:2",
     "interface_if_octets_rx 1 Bytes {instance=eth0,collectd_host=otherhost}; "
     "interface_if_octets_tx 2 Bytes {instance=eth0,collectd_host=otherhost}",
     NULL},
    {CD, "PUTVAL myhost/load/load 1700000000:0.5:0.4:0.3",
     "load_load_shortterm 0.5 - @1700000000000; load_load_midterm 0.4 - @1700000000000; "
     "load_load_longterm 0.3 - @1700000000000",
     NULL},
    {CD, "PUTVAL myhost/app/values N:1:U:3", "app_values_0 1 -; app_values_2 3 -", NULL},
    {CD, "PUTVAL myhost/app/gauge-queue N:U", "", NULL},
    {CD, "PUTVAL myhost/app/gauge N:1 interval=5 N:2", "app_gauge 1 -; app_gauge 2 -", NULL},
    {CD, "PUTVAL myhost/app-a-b/percent-used/x N:42",
     "app_percent_used/x 42 Percent {instance=a-b}", NULL},
    {CD, "putval myhost/app/gauge meta:note=\"a b\" N:1.5e2", "app_gauge 150 -", NULL},
    {CD, "PUTVAL myhost/app/gauge 1699999999.5:1", "app_gauge 1 - @1699999999500", NULL},
    {CD, "# collectd comment", "", NULL},
    {CD, "PUTNOTIF severity=warning time=1700000000 message=disk is almost full",
     "!warning: disk is almost full", NULL},
    {CD, "PUTNOTIF message=\"quoted message\" severity=okay time=1700000000.5",
     "!okay: quoted message", NULL},
    /* collectd: bad */
    {CD, "PUTVAL", "", "PUTVAL without an identifier"},
    {CD, "PUTVAL myhost/app N:1", "", "is not host/plugin[-instance]/type[-instance]"},
    {CD, "PUTVAL myhost//gauge N:1", "", "empty host, plugin or type"},
    {CD, "PUTVAL myhost/app/gauge", "", "PUTVAL without values"},
    {CD, "PUTVAL myhost/app/gauge N", "", "is not TIME:VALUE"},
    {CD, "PUTVAL myhost/app/gauge N:", "", "is not TIME:VALUE"},
    {CD, "PUTVAL myhost/app/gauge N:abc", "", "value \"abc\" is not a decimal number"},
    {CD, "PUTVAL myhost/app/gauge N:1 N:nan", "", "value \"nan\" is not a decimal number"},
    {CD, "PUTVAL myhost/interface/if_octets N:1", "", "type if_octets has 2 values, got 1"},
    {CD, "PUTVAL myhost/app/gauge interval=abc N:1", "", "is not a positive number of seconds"},
    {CD, "PUTVAL myhost/app/gauge 1600000000:1", "", "more than 14 days old"},
    {CD, "PUTVAL myhost/app/gauge 1700000000123:1", "", "more than 2 hours ahead"},
    {CD, "PUTVAL \"myhost/app/gauge N:1", "", "never closed"},
    {CD, "PUTVAL a=b N:1", "", "expected the identifier"},
    {CD, "GETVAL myhost/app/gauge", "", "not a collectd command (PUTVAL or PUTNOTIF)"},
    {CD, "x 1", "", "not a collectd command"},
    {CD, "PUTNOTIF message=x", "", "needs severity=, time= and message="},
    {CD, "PUTNOTIF severity=bad time=1 message=x", "", "is not failure, warning or okay"},
    {CD, "PUTNOTIF severity=okay time=1 oops message=x", "", "is not option=value"},
    /* nagios (each case is a first line) */
    {NG, "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968",
     "check_/ 2643 Megabytes", NULL},
    {NG, "OK - load | load1=0.5;1;2;0 load5=0.4;;;; 'my label'=3s",
     "check_load1 0.5 None; check_load5 0.4 None; check_my label 3 Seconds", NULL},
    {NG, "OK | 'it''s'=1%", "check_it's 1 Percent", NULL},
    {NG, "OK | t=0.01s m=3ms u=5us b=1234B k=3KB mb=2mb g=1GB t2=2TB c=5c",
     "check_t 0.01 Seconds; check_m 3 Milliseconds; check_u 5 Microseconds; check_b 1234 Bytes; "
     "check_k 3 Kilobytes; check_mb 2 Megabytes; check_g 1 Gigabytes; check_t2 2 Terabytes; "
     "check_c 5 Count",
     NULL},
    {NG, "OK | x=U;1;2", "", NULL},
    {NG, "OK - no performance data", "", NULL},
    {NG, "CRITICAL - a|b=1", "check_b 1 None", NULL},
    {NG, "OK | a=1 b=abc c=3", "check_a 1 None; check_c 3 None", "'b': value \"abc\" is not a"},
    {NG, "OK | a=1dBm", "", "unknown unit of measure \"dBm\""},
    {NG, "OK | novalue a=2", "check_a 2 None", "\"novalue\" is not label=value"},
    {NG, "OK | 'open=1 a=2", "", "has no closing quote"},
    {NG, "OK | 'q' =1", "", "has no '=' after the label"},
    {NG, "OK | =5", "", "empty label"},
    {NG, "OK | a=1e999", "", "outside CloudWatch's range"},
    /* auto: one format per line */
    {AU, "queue_depth 42 Count", "queue_depth 42 Count", NULL},
    {AU, "PUTVAL myhost/app/gauge N:1", "app_gauge 1 -", NULL},
    {AU, "PUTVAL myhost/app/gauge meta:x=\"a|b\" N:1", "app_gauge 1 -", NULL},
    {AU, "OK | a=1", "check_a 1 None", NULL},
    {AU, "# comment", "", NULL},
    {AU, "x 1 k=\"a|b\"", "", "is not label=value"},
};

static void test_line_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(cases); i++) {
        const line_case *c = &cases[i];
        recorder r = {TW_BUF_INIT, 0};
        tw_exec_parser p;
        parser_setup(&p, &r, c->format, false);
        char why[TW_EXEC_WHY_SIZE] = "unset";
        int rc = tw_exec_parse_line(&p, c->line, strlen(c->line), why, sizeof why);
        const char *got = tw_buf_cstr(&r.text);
        bool ok = strcmp(got, c->samples) == 0 &&
                  (c->error ? rc == -EINVAL && strstr(why, c->error) != NULL : rc == 0);
        if (!ok)
            print_error("case %zu [%s] \"%s\":\n  rc %d why \"%s\"\n  got    \"%s\"\n  wanted "
                        "\"%s\" error \"%s\"\n",
                        i, tw_exec_format_name(c->format), c->line, rc, rc ? why : "",
                        got, c->samples, c->error ? c->error : "(none)");
        assert_true(ok);
        tw_buf_free(&r.text);
        tw_exec_parser_free(&p);
    }
}

/* Lines are bytes: a NUL inside, a name at the limits, too many dimensions. */
static void test_lines_at_the_limits(void **state)
{
    (void)state;
    recorder r = {TW_BUF_INIT, 0};
    tw_exec_parser p;
    parser_setup(&p, &r, TW, false);
    char why[TW_EXEC_WHY_SIZE];

    assert_int_equal(tw_exec_parse_line(&p, "x\0 1", 4, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "a NUL byte at offset 1"));

    /* The length given wins over a NUL-terminated C string. */
    assert_int_equal(tw_exec_parse_line(&p, "ab 12 Count trailing", 5, why, sizeof why), 0);
    assert_string_equal(tw_buf_cstr(&r.text), "ab 12 -");
    tw_buf_reset(&r.text);

    char line[2048];
    memset(line, 'n', 255);
    strcpy(line + 255, " 1");
    assert_int_equal(tw_exec_parse_line(&p, line, strlen(line), why, sizeof why), 0);
    memset(line, 'n', 256);
    strcpy(line + 256, " 1");
    assert_int_equal(tw_exec_parse_line(&p, line, strlen(line), why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "longer than 255 bytes"));

    size_t n = (size_t)sprintf(line, "x 1");
    for (int i = 0; i < 29; i++)
        n += (size_t)sprintf(line + n, " k%d=v", i);
    tw_buf_reset(&r.text);
    assert_int_equal(tw_exec_parse_line(&p, line, n, why, sizeof why), 0);
    assert_non_null(strstr(tw_buf_cstr(&r.text), "k28=v}"));
    sprintf(line + n, " k29=v");
    assert_int_equal(tw_exec_parse_line(&p, line, strlen(line), why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "more than 29 dimensions"));

    n = (size_t)sprintf(line, "x 1 k=");
    memset(line + n, 'v', 1025);
    line[n + 1025] = '\0';
    assert_int_equal(tw_exec_parse_line(&p, line, strlen(line), why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "1 to 1024"));

    assert_int_equal(p.metrics, 3);
    tw_buf_free(&r.text);
    tw_exec_parser_free(&p);
}

static void feed(tw_exec_parser *p, const char *const *lines, size_t n, int *bad)
{
    char why[TW_EXEC_WHY_SIZE];
    *bad = 0;
    for (size_t i = 0; i < n; i++)
        if (tw_exec_parse_line(p, lines[i], strlen(lines[i]), why, sizeof why) != 0)
            (*bad)++;
}

/* Nagios plugin guidelines: TEXT | PERFDATA, long text lines, and after a
 * second '|' every line is perfdata. */
static void test_nagios_multiline_output(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "PING OK - Packet loss = 0%, RTA = 0.80 ms | percent_packet_loss=0 rta=0.80ms",
        "long text line 1, with = signs and 3 numbers",
        "long text line 2 | extra=1",
        "more=2 evenmore=3s",
        "",
        "last=4c",
    };
    recorder r = {TW_BUF_INIT, 0};
    tw_exec_parser p;
    parser_setup(&p, &r, NG, false);
    int bad;
    feed(&p, lines, COUNT(lines), &bad);
    assert_int_equal(bad, 0);
    assert_string_equal(tw_buf_cstr(&r.text),
                        "check_percent_packet_loss 0 None; check_rta 0.8 Milliseconds; "
                        "check_extra 1 None; check_more 2 None; check_evenmore 3 Seconds; "
                        "check_last 4 Count");
    assert_string_equal(p.nagios_text, "PING OK - Packet loss = 0%, RTA = 0.80 ms");
    assert_true(p.nagios_seen);

    /* A new run starts over: its first line is text again. */
    tw_exec_parser_reset(&p);
    tw_buf_reset(&r.text);
    static const char *const second[] = {"WARNING - slow", "text=only | a=1"};
    feed(&p, second, COUNT(second), &bad);
    assert_int_equal(bad, 0);
    assert_string_equal(tw_buf_cstr(&r.text), "check_a 1 None");
    assert_string_equal(p.nagios_text, "WARNING - slow");

    /* The status of a check is a metric. */
    tw_buf_reset(&r.text);
    char why[TW_EXEC_WHY_SIZE];
    assert_int_equal(tw_exec_parser_emit_status(&p, TW_NAGIOS_CRITICAL, NOW_MS, why, sizeof why),
                     0);
    assert_string_equal(tw_buf_cstr(&r.text), "check_status 2 None @1700000000000");
    assert_string_equal(tw_exec_nagios_state_name(2), "CRITICAL");
    assert_string_equal(tw_exec_nagios_state_name(7), "UNKNOWN");
    tw_buf_free(&r.text);
    tw_exec_parser_free(&p);
}

/* auto: a Nagios line turns the rest of a periodic run into Nagios output;
 * in daemon mode every line stands alone. */
static void test_auto_detection_per_line(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "a 1 Count", "PUTVAL myhost/app/gauge N:2", "OK | b=3", "c 4", "more text | d=5", "e=6",
    };
    recorder r = {TW_BUF_INIT, 0};
    tw_exec_parser p;
    parser_setup(&p, &r, AU, false);
    int bad;
    feed(&p, lines, COUNT(lines), &bad);
    assert_int_equal(bad, 0);
    assert_string_equal(tw_buf_cstr(&r.text), "a 1 Count; app_gauge 2 -; check_b 3 None; "
                                              "check_d 5 None; check_e 6 None");
    tw_exec_parser_free(&p);

    tw_buf_reset(&r.text);
    parser_setup(&p, &r, AU, true);
    feed(&p, lines, COUNT(lines), &bad);
    assert_int_equal(bad, 1); /* "e=6" is not a trailwatch line */
    assert_string_equal(tw_buf_cstr(&r.text), "a 1 Count; app_gauge 2 -; check_b 3 None; "
                                              "c 4 -; check_d 5 None");
    tw_buf_free(&r.text);
    tw_exec_parser_free(&p);
}

/* A sample the pipeline refuses makes the line bad, with a reason. */
static void test_sink_refusal_is_a_bad_line(void **state)
{
    (void)state;
    recorder r = {TW_BUF_INIT, -EINVAL};
    tw_exec_parser p;
    parser_setup(&p, &r, TW, false);
    char why[TW_EXEC_WHY_SIZE];
    assert_int_equal(tw_exec_parse_line(&p, "x 1", 3, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "the metrics pipeline refused x"));
    assert_int_equal(p.metrics, 0);
    tw_buf_free(&r.text);
    tw_exec_parser_free(&p);
}

static void test_escape_for_the_log(void **state)
{
    (void)state;
    char out[TW_EXEC_ESCAPED_SIZE];
    const char raw[] = "a\001b\\c\xc3\xa9\xff\xc2\x85\t\x7f";
    tw_exec_escape(raw, sizeof raw - 1, out, sizeof out);
    assert_string_equal(out, "a\\x01b\\\\c\xc3\xa9\\xff\\xc2\\x85\\x09\\x7f");

    char long_line[300];
    memset(long_line, 'z', sizeof long_line);
    tw_exec_escape(long_line, sizeof long_line, out, sizeof out);
    assert_int_equal(strlen(out), TW_EXEC_SHOW_MAX + 3);
    assert_string_equal(out + TW_EXEC_SHOW_MAX, "...");

    /* The worst case fits the documented size. */
    char binary[TW_EXEC_SHOW_MAX + 50];
    memset(binary, 0x80, sizeof binary);
    tw_exec_escape(binary, sizeof binary, out, sizeof out);
    assert_int_equal(strlen(out), TW_EXEC_SHOW_MAX * 4 + 3);

    /* A small buffer is cut, never overrun. */
    char small[10];
    tw_exec_escape(raw, sizeof raw - 1, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

/* What tw_exec_lines hands over, as "len:first-bytes[cut]|" per line. */
static void collect_line(void *ctx, const char *line, size_t len, bool cut)
{
    tw_buf *out = ctx;
    tw_buf_printf(out, "%zu:%.*s%s|", len, (int)(len < 8 ? len : 8), line, cut ? "[cut]" : "");
}

static void split_in_chunks(const char *data, size_t len, size_t chunk, tw_buf *out)
{
    tw_exec_lines r = {TW_BUF_INIT, false, false};
    for (size_t at = 0; at < len; at += chunk)
        tw_exec_lines_feed(&r, data + at, len - at < chunk ? len - at : chunk, collect_line, out);
    tw_exec_lines_end(&r, collect_line, out);
    tw_exec_lines_end(&r, collect_line, out); /* twice: nothing more */
    tw_exec_lines_free(&r);
}

/* The runner's line cutting: the same lines whatever the pipe's chunks;
 * a line over 64 KiB handed over once, cut, and the rest of it skipped; the
 * last line without its newline kept. */
static void test_output_is_cut_into_lines_whatever_the_chunks(void **state)
{
    (void)state;
    tw_buf stream = TW_BUF_INIT;
    tw_buf_puts(&stream, "a 1\n\nbb 2\r\n");
    for (int i = 0; i < TW_EXEC_LINE_MAX + 10; i++)
        tw_buf_putc(&stream, 'x');
    tw_buf_puts(&stream, "\nexact ");
    for (int i = 0; i < TW_EXEC_LINE_MAX - 6; i++)
        tw_buf_putc(&stream, 'y');
    tw_buf_puts(&stream, "\nlast 3");
    char want[256];
    snprintf(want, sizeof want, "3:a 1|0:|5:bb 2\r|%d:xxxxxxxx[cut]|%d:exact yy|6:last 3|",
             TW_EXEC_SHOW_MAX, TW_EXEC_LINE_MAX);
    static const size_t chunks[] = {1, 2, 3, 7, 100, 4096, 65536, 1 << 20};
    for (size_t i = 0; i < COUNT(chunks); i++) {
        tw_buf got = TW_BUF_INIT;
        split_in_chunks(stream.data, stream.len, chunks[i], &got);
        if (strcmp(tw_buf_cstr(&got), want) != 0)
            print_error("chunks of %zu: %s\n", chunks[i], tw_buf_cstr(&got));
        assert_string_equal(tw_buf_cstr(&got), want);
        tw_buf_free(&got);
    }
    tw_buf_free(&stream);
}

static void test_format_names(void **state)
{
    (void)state;
    tw_exec_format f;
    assert_int_equal(tw_exec_format_parse("collectd", &f), 0);
    assert_int_equal(f, TW_EXEC_FORMAT_COLLECTD);
    assert_int_equal(tw_exec_format_parse("Nagios", &f), -EINVAL);
    assert_int_equal(tw_exec_format_parse(NULL, &f), -EINVAL);
    assert_string_equal(tw_exec_format_name(TW_EXEC_FORMAT_NAGIOS), "nagios");
    assert_int_equal(tw_exec_format_from_name("trailwatch"), TW_EXEC_FORMAT_TRAILWATCH);
    assert_int_equal(tw_exec_format_from_name(NULL), TW_EXEC_FORMAT_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_table),
        cmocka_unit_test(test_lines_at_the_limits),
        cmocka_unit_test(test_nagios_multiline_output),
        cmocka_unit_test(test_auto_detection_per_line),
        cmocka_unit_test(test_sink_refusal_is_a_bad_line),
        cmocka_unit_test(test_escape_for_the_log),
        cmocka_unit_test(test_output_is_cut_into_lines_whatever_the_chunks),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
