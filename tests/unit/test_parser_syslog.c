/* test_parser_syslog.c — format = syslog (plugins/parser_syslog) against
 * every auth.log and syslog sample in TW_TESTDATA_DIR/logs (authlog/, and
 * other/lnav-logfile_syslog.3 and lnav-logfile_syslog_with_access_log.0):
 * one record per line, hand-checked headers, times and sshd/sudo fields for
 * lines of each file; then RFC 5424 lines (RFC 5424's own examples and
 * more), <PRI> decoding, the missing year (December read in January, Feb
 * 29), local time, lines that are not syslog, and client-chosen user names.
 * Prints lines/s (no assertion on it). Runs in TZ=UTC unless a test says
 * otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log_parser.h"
#include "parser_capture.h"
#include "parser_syslog.h"

#define LOGS TW_TESTDATA_DIR "/logs/"
/* 2024-06-15T12:00:00Z: lines dated after mid-June are last year's. */
#define READ_MS INT64_C(1718452800000)

typedef struct fixture {
    void *state;
    tw_test_capture capture;
} fixture;

static void set_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static int setup(void **state)
{
    set_zone("UTC");
    fixture *f = calloc(1, sizeof *f);
    tw_err err;
    assert_int_equal(tw_parser_syslog.create(&(tw_log_parser_options){.section = "test"},
                                             &f->state, &err),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_parser_syslog.destroy(f->state);
    tw_test_capture_free(&f->capture);
    free(f);
    set_zone("UTC");
    return 0;
}

static const tw_test_record *parse(fixture *f, const char *line, int64_t read_ms)
{
    return tw_test_parse_line(&tw_parser_syslog, f->state, line, read_ms, &f->capture);
}

/* Feeds a sample file; every line must give one record. Returns how many
 * records were parsed. */
static size_t feed_file(fixture *f, const char *name, size_t want_lines)
{
    size_t len;
    char *text = tw_test_read_file(name, &len);
    tw_test_capture_free(&f->capture);
    size_t lines = tw_test_feed_text(&tw_parser_syslog, f->state, text, len, READ_MS, &f->capture);
    free(text);
    assert_int_equal(lines, want_lines);
    assert_int_equal(f->capture.n, want_lines);
    size_t parsed = 0;
    for (size_t i = 0; i < f->capture.n; i++)
        parsed += f->capture.records[i].parsed;
    return parsed;
}

static const tw_test_record *line_of(const fixture *f, size_t i)
{
    assert_true(i < f->capture.n);
    return &f->capture.records[i];
}

static void assert_header(const tw_test_record *r, int64_t ms, const char *host,
                          const char *program, const char *pid)
{
    assert_true(r->parsed);
    assert_int_equal(r->timestamp_ms, ms);
    assert_field(r, "host", host);
    assert_field(r, "program", program);
    assert_field(r, "pid", pid);
}

/* ---- the sample files ------------------------------------------------------ */

static void test_beats_auth_log_logins_and_sudo(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "authlog/beats-system-auth-test.log", 10), 10);

    const tw_test_record *r = line_of(f, 0);
    assert_header(r, INT64_C(1708552484000), "localhost", "sshd", "3402");
    assert_no_field(r, "priority");
    assert_field(r, "auth_result", "accepted");
    assert_field(r, "auth_method", "publickey");
    assert_field(r, "user", "vagrant");
    assert_field(r, "remote_addr", "10.0.2.2");
    assert_field(r, "remote_port", "63673");
    assert_no_field(r, "invalid_user");

    r = line_of(f, 1);
    assert_field(r, "auth_result", "accepted");
    assert_field(r, "auth_method", "password");
    assert_field(r, "remote_addr", "192.168.33.1");

    r = line_of(f, 2); /* old OpenSSH: no port */
    assert_field(r, "message", "Invalid user test from 10.0.2.2");
    assert_field(r, "user", "test");
    assert_field(r, "remote_addr", "10.0.2.2");
    assert_no_field(r, "remote_port");
    assert_field(r, "invalid_user", "yes");
    assert_no_field(r, "auth_result");

    r = line_of(f, 3);
    assert_field(r, "host", "slave22");
    assert_field(r, "auth_result", "failed");
    assert_field(r, "auth_method", "password");
    assert_field(r, "user", "root");
    assert_field(r, "remote_addr", "216.160.83.57");
    assert_field(r, "remote_port", "29160");

    r = line_of(f, 4);
    assert_header(r, INT64_C(1708558533000), "localhost", "sudo", NULL);
    assert_field(r, "user", "vagrant");
    assert_field(r, "tty", "pts/0");
    assert_field(r, "pwd", "/home/vagrant");
    assert_field(r, "target_user", "root");
    assert_field(r, "command", "/bin/ls");
    assert_field(r, "sudo_result", "allowed");

    r = line_of(f, 5); /* an sshd line that is no login */
    assert_field(r, "message", "Did not receive identification string from 2.125.160.217");
    assert_no_field(r, "auth_result");
    assert_no_field(r, "remote_addr");

    assert_field(line_of(f, 6), "command", "/bin/cat /var/log/secure");

    r = line_of(f, 7); /* right-aligned user, denied */
    assert_field(r, "host", "precise32");
    assert_field(r, "user", "tsg");
    assert_field(r, "sudo_result", "user NOT in sudoers");
    assert_field(r, "target_user", "root");
    assert_field(r, "command", "/bin/ls");

    r = line_of(f, 8);
    assert_header(r, INT64_C(1708602425000), "localhost", "groupadd", "6991");
    assert_field(r, "message", "new group: name=apache, GID=48");
    assert_no_field(r, "user");
}

static void test_iso_timestamps_with_and_without_a_zone(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "authlog/beats-system-auth-timestamp.log", 2), 2);
    /* No zone: local time, UTC here. */
    const tw_test_record *r = line_of(f, 0);
    assert_header(r, INT64_C(1560508820912), "localhost", "sudo", NULL);
    assert_field(r, "message",
                 "pam_unix(sudo-i:session): session opened for user root by userauth3(uid=0)");
    assert_no_field(r, "user");
    r = line_of(f, 1);
    assert_header(r, INT64_C(1560511875412), "localhost", "pam", NULL);
    assert_field(r, "message", "user nobody logged out.");
}

static void test_pam_lines_of_december_read_in_june_are_last_years(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "authlog/crowdsec-pam-logs.log", 2), 2);
    const tw_test_record *r = line_of(f, 0);
    assert_header(r, INT64_C(1701960784000), "vskub1master01p", "sudo", NULL);
    assert_field(r, "message", "pam_tally2(sudo:auth): user zbadguy (4001) tally 6, deny 5");
    assert_no_field(r, "user");
    assert_int_equal(line_of(f, 1)->timestamp_ms, INT64_C(1701960779000));
}

static void test_crowdsec_sshd_variety(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "authlog/crowdsec-sshd-logs.log", 24), 24);

    const tw_test_record *r = line_of(f, 0);
    assert_field(r, "user", "pascal");
    assert_field(r, "remote_addr", "35.188.49.176");
    assert_field(r, "remote_port", "53502");
    assert_field(r, "invalid_user", "yes");

    r = line_of(f, 3); /* "Nov 2": day not padded */
    assert_header(r, INT64_C(1698939614000), "workshop", "sshd", "28179");
    r = line_of(f, 11); /* "Aug 03": zero-padded */
    assert_header(r, INT64_C(1691098760000), "hostname", "sshd", "69420");
    assert_no_field(r, "auth_result");
    r = line_of(f, 12); /* "Jun  8": space-padded, this year */
    assert_header(r, INT64_C(1717843476000), "server", "sshd", "3204729");
    /* The trailing space of the message is kept. */
    const tw_test_field *m = tw_test_record_field(r, "message");
    assert_non_null(m);
    assert_int_equal(m->value[m->len - 1], ' ');

    r = line_of(f, 16);
    assert_header(r, INT64_C(1699917642738), "myserver", "sshd", "1112652");

    r = line_of(f, 17);
    assert_field(r, "auth_result", "failed");
    assert_field(r, "auth_method", "password");
    assert_field(r, "user", "root");
    assert_field(r, "invalid_user", "yes");
    assert_field(r, "remote_addr", "192.168.1.2");
    assert_field(r, "remote_port", "51182");

    r = line_of(f, 20); /* OpenSSH 9.8 */
    assert_header(r, INT64_C(1707747024000), "sd-126005", "sshd-session", "16379");
    assert_field(r, "user", "pascal5");
    assert_field(r, "remote_addr", "192.168.1.3");
}

static void test_mtail_sftp_chroot_every_line(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "authlog/mtail-sftp_chroot.log", 236), 236);

    const tw_test_record *r = line_of(f, 0);
    assert_header(r, INT64_C(1692411278000), "upload", "sshd", "22442");
    assert_field(r, "message", "Connection from 192.168.0.1 port 32846");

    r = line_of(f, 8);
    assert_field(r, "auth_result", "failed");
    assert_field(r, "auth_method", "none");
    assert_field(r, "user", "user1");
    assert_field(r, "remote_port", "1195");
    r = line_of(f, 9);
    assert_field(r, "auth_result", "accepted");
    assert_field(r, "auth_method", "password");
    assert_field(r, "user", "user1");

    r = line_of(f, 12);
    assert_field(r, "program", "scponly");
    assert_field(r, "pid", "22480");
    r = line_of(f, 16);
    assert_field(r, "program", "sftp-server");
    assert_field(r, "message", "opendir \"/home/user1\"");

    size_t accepted = 0, failed = 0;
    for (size_t i = 0; i < f->capture.n; i++) {
        const tw_test_field *result = tw_test_record_field(line_of(f, i), "auth_result");
        if (result != NULL && strcmp(result->value, "accepted") == 0)
            accepted++;
        else if (result != NULL)
            failed++;
    }
    /* grep -c "sshd.*Accepted" / "sshd.*Failed" on the file */
    assert_int_equal(accepted, 4);
    assert_int_equal(failed, 4);
}

static void test_continuation_lines_are_kept_unparsed(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "other/lnav-logfile_syslog.3", 17), 7);
    const tw_test_record *r = line_of(f, 0);
    assert_header(r, INT64_C(1692144645000), "Tims-Air", "syslogd", "314");
    assert_field(r, "message", "ASL Sender Statistics");
    r = line_of(f, 3);
    assert_false(r->parsed);
    assert_int_equal(r->message[0], '\t');
    assert_true(line_of(f, 5)->parsed);
}

static void test_syslog_mixed_with_access_log_lines(void **state)
{
    fixture *f = *state;
    assert_int_equal(feed_file(f, LOGS "other/lnav-logfile_syslog_with_access_log.0", 5), 5);
    const tw_test_record *r = line_of(f, 0);
    assert_header(r, INT64_C(1704275222000), "veridian", "sudo", NULL);
    assert_field(r, "user", "timstack");
    assert_field(r, "pwd", "/auto/wstimstack/rpms/lbuild/test");
    assert_field(r, "command", "/usr/bin/tail /var/log/messages");

    r = line_of(f, 1);
    assert_field(r, "program", "tomcat.log");
    assert_field(r, "message",
                 "127.0.0.1 - - \"GET /includes/js/combined-javascript.js HTTP/1.1\" 200 65508 "
                 "4.386");
    r = line_of(f, 3);
    assert_field(r, "program", "automount");
    assert_field(r, "pid", "7999");

    /* syslogd writes this one without a host or tag. */
    r = line_of(f, 4);
    assert_header(r, INT64_C(1711290361000), NULL, NULL, NULL);
    assert_field(r, "message", "--- last message repeated 2 times ---");
}

/* ---- RFC 5424 ------------------------------------------------------------ */

static void test_rfc5424_examples(void **state)
{
    fixture *f = *state;
    /* RFC 5424 §6.5, example 1: no SD, a BOM before the message. */
    const tw_test_record *r = parse(f,
                                    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - "
                                    "ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
                                    READ_MS);
    assert_header(r, INT64_C(1065910455003), "mymachine.example.com", "su", NULL);
    assert_field(r, "priority", "34");
    assert_field(r, "facility", "auth");
    assert_field(r, "severity", "crit");
    assert_field(r, "msgid", "ID47");
    assert_no_field(r, "structured_data");
    assert_field(r, "message", "'su root' failed for lonvick on /dev/pts/8");

    /* Example 2: a zone offset and microseconds, a procid. */
    r = parse(f,
              "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to "
              "make the do-nuts.",
              READ_MS);
    assert_header(r, INT64_C(1061727255000), "192.0.2.1", "myproc", "8710");
    assert_field(r, "facility", "local4");
    assert_field(r, "severity", "notice");
    assert_no_field(r, "msgid");
    assert_field(r, "message", "%% It's time to make the do-nuts.");

    /* Examples 3 and 4: structured data, one or two elements, no message. */
    r = parse(f,
              "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
              "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
              "\xEF\xBB\xBF"
              "An application event log entry...",
              READ_MS);
    assert_field(r, "structured_data",
                 "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]");
    assert_field(r, "message", "An application event log entry...");
    r = parse(f,
              "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
              "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
              "[examplePriority@32473 class=\"high\"]",
              READ_MS);
    assert_true(r->parsed);
    assert_field(r, "structured_data",
                 "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
                 "[examplePriority@32473 class=\"high\"]");
    assert_no_field(r, "message");
}

static void test_rfc5424_nilvalues_escapes_and_logins(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f, "<13>1 - - - - - -", READ_MS);
    assert_true(r->parsed);
    assert_int_equal(r->timestamp_ms, READ_MS); /* no time in the line */
    assert_int_equal(r->n_fields, 3);
    assert_field(r, "facility", "user");
    assert_field(r, "severity", "notice");

    /* '"' and ']' escaped inside a value; the message after it. */
    r = parse(f, "<13>1 2024-01-02T03:04:05.123+01:00 h app 77 m1 [x@1 a=\"q\\\"b\\]c\" d=\"\"] hi",
              READ_MS);
    assert_header(r, INT64_C(1704161045123), "h", "app", "77");
    assert_field(r, "structured_data", "[x@1 a=\"q\\\"b\\]c\" d=\"\"]");
    assert_field(r, "message", "hi");

    r = parse(f,
              "<38>1 2024-01-02T03:04:05.123456+01:00 bastion sshd 4242 - - Accepted publickey "
              "for alice from 2001:db8::1 port 50022 ssh2: ED25519 SHA256:abc",
              READ_MS);
    assert_field(r, "facility", "auth");
    assert_field(r, "severity", "info");
    assert_field(r, "auth_result", "accepted");
    assert_field(r, "user", "alice");
    assert_field(r, "remote_addr", "2001:db8::1");
    assert_field(r, "remote_port", "50022");

    static const char *const bad[] = {
        "<34>1 2003-10-11T22:14:15.003Z host",                   /* fields missing */
        "<34>1 2003-10-11T22:14:15.003Z h a p m [bad",           /* SD not closed */
        "<34>1 2003-10-11T22:14:15.003Z h a p m [id k=\"v] x",   /* value not closed */
        "<34>1 2003-10-11T22:14:15.003Z h a p m [id k=v] x",     /* value not quoted */
        "<34>1 2003-10-11T22:14:15.003Z h a p m x",              /* SD neither - nor [ */
        "<34>1 2003-10-11T22:14:15.003Z h a p m -x",             /* no space after SD */
        "<34>1 yesterday h a p m - x",                           /* not a time */
        "<34>1  2003-10-11T22:14:15.003Z h a p m - x",           /* two spaces */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = parse(f, bad[i], READ_MS);
        if (r->parsed)
            print_error("parsed: %s\n", bad[i]);
        assert_false(r->parsed);
    }
}

/* ---- <PRI>, years, zones ------------------------------------------------- */

static void test_pri_decodes_into_facility_and_severity(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *line, *priority, *facility, *severity;
    } cases[] = {
        {"<0>Oct 11 22:14:15 host kernel: panic", "0", "kern", "emerg"},
        {"<13>Oct 11 22:14:15 host prog: m", "13", "user", "notice"},
        {"<86>Oct 11 22:14:15 host sshd[1]: m", "86", "authpriv", "info"},
        {"<78>Oct 11 22:14:15 host CRON[2]: m", "78", "cron", "info"},
        {"<191>Oct 11 22:14:15 host prog: m", "191", "local7", "debug"},
        {"<134>2024-01-02T03:04:05Z host prog: m", "134", "local0", "info"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tw_test_record *r = parse(f, cases[i].line, READ_MS);
        assert_true(r->parsed);
        assert_field(r, "priority", cases[i].priority);
        assert_field(r, "facility", cases[i].facility);
        assert_field(r, "severity", cases[i].severity);
        assert_field(r, "host", "host");
    }
    static const char *const bad[] = {"<192>Oct 11 22:14:15 host prog: m", "<>Oct 11 22:14:15 h",
                                      "<1234>Oct 11 22:14:15 h", "<34Oct 11 22:14:15 h",
                                      "<-1>Oct 11 22:14:15 h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(parse(f, bad[i], READ_MS)->parsed);
}

static void test_year_rolls_back_for_lines_ahead_of_the_read_time(void **state)
{
    fixture *f = *state;
    const int64_t new_year = INT64_C(1735691400000); /* 2025-01-01T00:30:00Z */
    assert_int_equal(parse(f, "Dec 31 23:59:59 h p: m", new_year)->timestamp_ms,
                     INT64_C(1735689599000)); /* 2024 */
    assert_int_equal(parse(f, "Jan  1 00:10:00 h p: m", new_year)->timestamp_ms,
                     INT64_C(1735690200000)); /* 2025 */
    /* Less than a day ahead: a clock a little off, still this year. */
    assert_int_equal(parse(f, "Jan  2 00:10:00 h p: m", new_year)->timestamp_ms,
                     INT64_C(1735776600000));
    /* More than a day ahead: last year. */
    assert_int_equal(parse(f, "Jan  3 00:00:00 h p: m", new_year)->timestamp_ms,
                     INT64_C(1704240000000));
    /* Feb 29 read in 2025 is 2024's. */
    assert_int_equal(parse(f, "Feb 29 12:00:00 h p: m", INT64_C(1740787200000))->timestamp_ms,
                     INT64_C(1709208000000));
    /* A day no year has stays unparsed. */
    assert_false(parse(f, "Feb 30 12:00:00 h p: m", new_year)->parsed);
}

static void test_times_without_a_zone_are_local_time(void **state)
{
    fixture *f = *state;
    set_zone("CET-1CEST,M3.5.0,M10.5.0/3"); /* Central Europe, no tzdata needed */
    tw_parser_syslog.destroy(f->state);
    tw_err err;
    assert_int_equal(tw_parser_syslog.create(&(tw_log_parser_options){0}, &f->state, &err), 0);
    const int64_t july2 = INT64_C(1719878400000);
    /* Summer: UTC+2. */
    assert_int_equal(parse(f, "Jul  1 12:00:00 h p: m", july2)->timestamp_ms,
                     INT64_C(1719828000000));
    assert_int_equal(parse(f, "2024-07-01T12:00:00 h p: m", july2)->timestamp_ms,
                     INT64_C(1719828000000));
    /* Winter: UTC+1, with the cache warm from summer. */
    assert_int_equal(parse(f, "Jan 15 12:00:00 h p: m", july2)->timestamp_ms,
                     INT64_C(1705316400000));
    /* An hour before the spring change (02:00 local on Mar 31). */
    assert_int_equal(parse(f, "Mar 31 01:59:00 h p: m", july2)->timestamp_ms,
                     INT64_C(1711846740000));
    /* A zone in the line wins over the local one. */
    assert_int_equal(parse(f, "2024-07-01T12:00:00Z h p: m", july2)->timestamp_ms,
                     INT64_C(1719835200000));
}

/* ---- headers and messages ------------------------------------------------ */

static void test_host_and_tag_may_be_missing(void **state)
{
    fixture *f = *state;
    const tw_test_record *r =
        parse(f, "Oct 11 22:14:15 sshd[123]: Failed password for bob from 1.2.3.4 port 22 ssh2",
              READ_MS);
    assert_header(r, INT64_C(1697062455000), NULL, "sshd", "123");
    assert_field(r, "user", "bob");

    r = parse(f, "Oct 11 22:14:15 host just some text", READ_MS);
    assert_header(r, INT64_C(1697062455000), "host", NULL, NULL);
    assert_field(r, "message", "just some text");

    r = parse(f, "Oct 11 22:14:15 host kernel: [12345.678] eth0: link up", READ_MS);
    assert_header(r, INT64_C(1697062455000), "host", "kernel", NULL);
    assert_field(r, "message", "[12345.678] eth0: link up");

    r = parse(f, "Oct 11 22:14:15.123456 host prog:", READ_MS); /* fraction; empty message */
    assert_header(r, INT64_C(1697062455123), "host", "prog", NULL);
    assert_field(r, "message", "");

    r = parse(f, "Oct 11 22:14:15 router/10.0.0.1 prog[x-1]: m", READ_MS);
    assert_header(r, INT64_C(1697062455000), "router/10.0.0.1", "prog", "x-1");
}

static void test_lines_that_are_not_syslog_stay_whole_and_unparsed(void **state)
{
    fixture *f = *state;
    static const char *const lines[] = {
        "",
        "hello",
        "\tcontinuation of the line before",
        "Oct 11 22:14",
        "Oct 11 22:14:15host prog: m",
        "Foo 11 22:14:15 host prog: m",
        "Oct 111 22:14:15 host prog: m",
        "2024-13-02T03:04:05Z host prog: m",
        "2015-03-12T23:16:52.071:INFO:com.root:Response :",
        "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326",
        "{\"time\":\"2024-01-02T03:04:05Z\"}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const tw_test_record *r = parse(f, lines[i], READ_MS);
        if (r->parsed)
            print_error("parsed: %s\n", lines[i]);
        assert_false(r->parsed);
        assert_string_equal(r->message, lines[i]);
    }
}

static void test_client_chosen_user_names_cannot_move_the_address(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f,
                                    "Oct 11 22:14:15 h sshd[1]: Failed password for invalid user "
                                    "a from 6.6.6.6 port 1 from 9.9.9.9 port 22 ssh2",
                                    READ_MS);
    assert_field(r, "user", "a from 6.6.6.6 port 1");
    assert_field(r, "remote_addr", "9.9.9.9");
    assert_field(r, "remote_port", "22");

    r = parse(f, "Oct 11 22:14:15 h sshd[1]: Invalid user  from 1.2.3.4 port 22", READ_MS);
    assert_field(r, "user", "");
    assert_field(r, "remote_addr", "1.2.3.4");

    r = parse(f, "Oct 11 22:14:15 h sshd[1]: Invalid user x y z from fe80::1%eth0 port 22 [preauth]",
              READ_MS);
    assert_field(r, "user", "x y z");
    assert_field(r, "remote_addr", "fe80::1%eth0");

    r = parse(f,
              "Oct 11 22:14:15 h sshd[1]: Accepted keyboard-interactive/pam for carol from "
              "host.example.com port 2222 ssh2",
              READ_MS);
    assert_field(r, "auth_method", "keyboard-interactive/pam");
    assert_field(r, "remote_addr", "host.example.com");

    /* rsyslog's repeated-message reduction keeps the attempts countable. */
    r = parse(f,
              "Oct 11 22:14:15 h sshd[1]: message repeated 3 times: [ Failed password for invalid "
              "user admin from 203.0.113.9 port 5555 ssh2]",
              READ_MS);
    assert_field(r, "repeated", "3");
    assert_field(r, "auth_result", "failed");
    assert_field(r, "user", "admin");
    assert_field(r, "remote_addr", "203.0.113.9");
    assert_field(r, "remote_port", "5555");
    r = parse(f, "Oct 11 22:14:15 h sshd[1]: message repeated 3 times: [ Server listening]",
              READ_MS);
    assert_field(r, "repeated", "3");
    assert_no_field(r, "auth_result");

    /* Not the shapes: no fields. */
    r = parse(f, "Oct 11 22:14:15 h sshd[1]: Accepted for from", READ_MS);
    assert_no_field(r, "auth_result");
    r = parse(f, "Oct 11 22:14:15 h sshd[1]: Failed password for root from 1.2.3.4 port x ssh2",
              READ_MS);
    assert_no_field(r, "auth_result");
    r = parse(f, "Oct 11 22:14:15 h notsshd[1]: Accepted password for a from 1.2.3.4 port 1 ssh2",
              READ_MS);
    assert_no_field(r, "auth_result");
}

static void test_sudo_failures_groups_and_commands_with_semicolons(void **state)
{
    fixture *f = *state;
    const tw_test_record *r = parse(f,
                                    "Oct 11 22:14:15 h sudo:    alice : 3 incorrect password "
                                    "attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
                                    "COMMAND=/bin/ls -l",
                                    READ_MS);
    assert_field(r, "user", "alice");
    assert_field(r, "sudo_result", "3 incorrect password attempts");
    assert_field(r, "tty", "pts/0");
    assert_field(r, "command", "/bin/ls -l");

    r = parse(f,
              "Oct 11 22:14:15 h sudo[99]: bob : TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh -c "
              "echo a ; echo b",
              READ_MS);
    assert_field(r, "sudo_result", "allowed");
    assert_field(r, "command", "/bin/sh -c echo a ; echo b");

    r = parse(f,
              "Oct 11 22:14:15 h sudo: carol : command not allowed ; TTY=pts/2 ; PWD=/srv ; "
              "USER=www ; GROUP=www ; ENV=A=1 ; COMMAND=/usr/bin/id",
              READ_MS);
    assert_field(r, "sudo_result", "command not allowed");
    assert_field(r, "target_user", "www");
    assert_field(r, "target_group", "www");
    assert_field(r, "command", "/usr/bin/id");

    r = parse(f,
              "Oct 11 22:14:15 h sudo: pam_unix(sudo:session): session opened for user root by "
              "vagrant(uid=0)",
              READ_MS);
    assert_no_field(r, "user");
    assert_no_field(r, "sudo_result");
}

static void test_cron_jobs_give_user_and_command(void **state)
{
    fixture *f = *state;
    const tw_test_record *r =
        parse(f,
              "Oct 11 22:17:01 web1 CRON[31337]: (root) CMD (   cd / && run-parts --report "
              "/etc/cron.hourly)",
              READ_MS);
    assert_header(r, INT64_C(1697062621000), "web1", "CRON", "31337");
    assert_field(r, "user", "root");
    assert_field(r, "command", "   cd / && run-parts --report /etc/cron.hourly");

    r = parse(f, "Oct 11 22:17:01 web1 crond[7]: (www-data) CMD (php /srv/app/cron.php (x))",
              READ_MS);
    assert_field(r, "user", "www-data");
    assert_field(r, "command", "php /srv/app/cron.php (x)");

    r = parse(f,
              "Oct 11 22:17:01 web1 CRON[8]: (root) MAIL (mailed 1 byte of output; but got "
              "status 0x004b, #012)",
              READ_MS);
    assert_no_field(r, "user");
    r = parse(f,
              "Oct 11 22:17:01 web1 CRON[8]: pam_unix(cron:session): session opened for user "
              "root(uid=0) by (uid=0)",
              READ_MS);
    assert_no_field(r, "user");
}

/* ---- speed ----------------------------------------------------------------- */

static size_t count_emit_calls;

static void counting_emit(void *ctx, const tw_log_record *record)
{
    (void)ctx;
    count_emit_calls += record->n_fields;
}

static void test_prints_lines_per_second(void **state)
{
    fixture *f = *state;
    static const char *const lines[] = {
        "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 "
        "port 63673 ssh2: RSA 39:33:99:e9:a0:dc:f2:33:a3:e5:72:3b:7c:3a:56:84",
        "Feb 21 23:35:33 localhost sudo: vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; "
        "COMMAND=/bin/ls",
        "Aug 19 02:16:40 upload sftp-server[22480]: session opened for local user user1 from "
        "[UNKNOWN]",
        "2023-11-14T00:20:42.738197+01:00 myserver systemd[1]: Started Session 42 of user root.",
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event",
    };
    const size_t n = sizeof lines / sizeof lines[0], rounds = 200000;
    size_t lens[sizeof lines / sizeof lines[0]], bytes = 0;
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(lines[i]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t k = 0; k < rounds; k++) {
        for (size_t i = 0; i < n; i++) {
            tw_log_line line = {lines[i], lens[i], 0, lens[i] + 1, READ_MS, false};
            tw_parser_syslog.feed(f->state, &line, counting_emit, NULL);
            bytes += lens[i];
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("syslog parser: %.0f lines/s, %.1f MiB/s, %.0f ns/line (%zu fields)\n",
           (double)(n * rounds) / seconds, (double)bytes / seconds / 1048576.0,
           seconds * 1e9 / (double)(n * rounds), count_emit_calls);
    assert_true(count_emit_calls > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_beats_auth_log_logins_and_sudo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iso_timestamps_with_and_without_a_zone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pam_lines_of_december_read_in_june_are_last_years,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_crowdsec_sshd_variety, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mtail_sftp_chroot_every_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_lines_are_kept_unparsed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_syslog_mixed_with_access_log_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc5424_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc5424_nilvalues_escapes_and_logins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pri_decodes_into_facility_and_severity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_year_rolls_back_for_lines_ahead_of_the_read_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_times_without_a_zone_are_local_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_host_and_tag_may_be_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_that_are_not_syslog_stay_whole_and_unparsed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_chosen_user_names_cannot_move_the_address,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sudo_failures_groups_and_commands_with_semicolons,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cron_jobs_give_user_and_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prints_lines_per_second, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
