/* test_agent_config_errors.c — the agent's configuration model
 * (agent/config.h) refusing bad configs: a table of them, each pinned to its
 * exact line and message, the regex limits that still accept every pattern a
 * log format needs, and secret values never echoed in a message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "testutil.h"

#define ENV_SECRET "TW_TEST_AGENT_SECRET"
#define ENV_UNSET "TW_TEST_AGENT_UNSET"
#define SECRET_VALUE "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The environment the configs below refer to; nothing else is relied on. */
static int setup(void **state)
{
    (void)state;
    setenv(ENV_SECRET, SECRET_VALUE, 1);
    unsetenv(ENV_UNSET);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv(ENV_SECRET);
    return 0;
}

/* ---- bad configs -------------------------------------------------------- */

typedef struct bad_case {
    const char *text;
    int line;         /* of the first error */
    const char *want; /* in the first error's message */
    const char *also; /* also in it, or NULL */
    size_t count;     /* errors expected; 0 means exactly 1 */
} bad_case;

#define ROW(text_, line_, want_) {.text = (text_), .line = (line_), .want = (want_)}
#define ROW_ALSO(text_, line_, want_, also_) \
    {.text = (text_), .line = (line_), .want = (want_), .also = (also_)}
#define ROW_COUNT(text_, line_, want_, count_) \
    {.text = (text_), .line = (line_), .want = (want_), .count = (count_)}

static const bad_case bad_cases[] = {
    /* sections */
    ROW("[agent]\n[metric]\ninterval = 5s\n", 2,
        "unknown section [metric] (did you mean [metrics]?)"),
    ROW("[frobnicate]\nkey = 1\n", 1,
        "unknown section [frobnicate] (expected agent, endpoint, metrics, statsd, logs NAME, "
        "plugin NAME or exec NAME)"),
    ROW("\n[log nginx]\npath = /x\n", 2, "unknown section [log nginx] (did you mean [logs nginx]?)"),
    ROW("[logs]\npath = /var/log/x\n", 1, "[logs] needs a name: write [logs NAME]"),
    ROW("[exec]\ncommand = /bin/x\n", 1, "[exec] needs a name: write [exec NAME]"),
    ROW("[metrics x]\n", 1, "[metrics x]: [metrics] takes no name"),
    ROW("[agent]\n[endpoint prod]\n", 2, "[endpoint prod]: [endpoint] takes no name"),
    ROW("[logs ng!nx]\npath = /x\n", 1,
        "[logs ng!nx]: the name \"ng!nx\" must be one word of at most 64 letters, digits, '.', '_' "
        "or '-'"),
    ROW("[plugin two words]\nlibrary = x.so\n", 1, "the name \"two words\" must be one word"),
    ROW("[exec aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n"
        "command = /x\n",
        1, "must be one word of at most 64"),
    /* unknown keys */
    ROW("[metrics]\nintervall = 5s\n", 2,
        "[metrics] unknown key \"intervall\" (did you mean \"interval\"?)"),
    ROW("[metrics]\nfrequency = 5s\n", 2,
        "[metrics] unknown key \"frequency\" (known keys: namespace, interval, cpu, mem, net, "
        "disk, diskio, flush_interval, dimensions, max_series, net_include_loopback, "
        "net_interfaces, disk_mount_points)"),
    ROW("[logs a]\npath = /x\nlog_grup = /g\n", 3,
        "[logs a] unknown key \"log_grup\" (did you mean \"log_group\"?)"),
    /* typed values */
    ROW("[metrics]\ncpu = maybe\n", 2,
        "[metrics] cpu: \"maybe\" is not a boolean (expected yes/no, true/false, on/off or 1/0)"),
    ROW("[logs a]\npath = /x\naudit = y\n", 3, "[logs a] audit: \"y\" is not a boolean"),
    ROW_ALSO("[metrics]\ninterval = 60\n", 2, "[metrics] interval: \"60\"", "unit"),
    ROW("[metrics]\ninterval = 2d\n", 2, "[metrics] interval: \"2d\" is out of range (1s to 1d)"),
    ROW("[agent]\nstop_timeout = 500ms\n", 2,
        "[agent] stop_timeout: \"500ms\" is out of range (1s to 10m)"),
    ROW("[exec e]\ncommand = /x\ntimeout = 2h\n", 3,
        "[exec e] timeout: \"2h\" is out of range (100ms to 1h)"),
    ROW_ALSO("[logs a]\npath = /x\nmax_line_size = 64KB\n", 3,
        "[logs a] max_line_size: \"64KB\"", "KiB"),
    ROW("[logs a]\npath = /x\nmax_line_size = 2MiB\n", 3,
        "[logs a] max_line_size: \"2MiB\" is out of range (1KiB to 1MiB)"),
    ROW("[logs a]\npath = /x\nretention_days = 5000\n", 3,
        "[logs a] retention_days: 5000 is out of range (1 to 3653)"),
    ROW("[logs a]\npath = /x\nretention_days = 0\n", 3,
        "[logs a] retention_days: 0 is out of range (1 to 3653)"),
    ROW("[logs a]\npath = /x\nretention_days = 7d\n", 3,
        "[logs a] retention_days: \"7d\" is not a whole number"),
    ROW("[logs a]\npath = /x\nretention_days = 2\n", 3,
        "[logs a] retention_days: CloudWatch Logs does not offer 2 days (allowed: 1, 3, 5, 7, 14, "
        "30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, "
        "3653)"),
    ROW("[logs a]\npath = /x\nformat = ngnix\n", 3,
        "[logs a] format: \"ngnix\" is not one of nginx, nginx_error, rails, json, syslog or raw"),
    ROW("[logs a]\npath = /x\nread_from = start\n", 3,
        "[logs a] read_from: \"start\" is not one of head or tail"),
    ROW("[agent]\nlog_level = verbose\n", 2,
        "[agent] log_level: \"verbose\" is not one of error, warn, notice, info or debug"),
    ROW("[agent]\nlog_level = INFO\n", 2, "[agent] log_level: \"INFO\" is not one of"),
    ROW("[agent]\nstate_dir = var/lib/trailwatch\n", 2,
        "[agent] state_dir: \"var/lib/trailwatch\" must be an absolute path"),
    ROW("[agent]\nstate_dir =\n", 2, "[agent] state_dir: is empty"),
    ROW("[endpoint]\ncredentials_file = ~/.aws/credentials\n", 2,
        "[endpoint] credentials_file: \"~/.aws/credentials\" must be an absolute path"),
    /* endpoint */
    ROW("[endpoint]\nurl = ftp://collector:4590\n", 2,
        "[endpoint] url: \"ftp://collector:4590\" must start with http:// or https://"),
    ROW("[endpoint]\nurl = 127.0.0.1:4590\n", 2, "must start with http:// or https://"),
    ROW("[endpoint]\nurl = http://collector:0\n", 2,
        "[endpoint] url: \"http://collector:0\" has a bad port (expected 1 to 65535)"),
    ROW("[endpoint]\nurl = http://collector:65536/\n", 2, "has a bad port (expected 1 to 65535)"),
    ROW("[endpoint]\nurl = http://collector:80x\n", 2, "has a bad port"),
    ROW("[endpoint]\nurl = https://:443\n", 2, "[endpoint] url: \"https://:443\" has no host name"),
    ROW("[endpoint]\nurl = http://col lector\n", 2,
        "[endpoint] url: \"http://col lector\" contains a blank or control character"),
    ROW("[endpoint]\nregion = US-East-1\n", 2,
        "[endpoint] region: \"US-East-1\" is not a region name (lower-case letters, digits and "
        "hyphens, like us-east-1)"),
    ROW("[endpoint]\nregion = us-east-1-\n", 2, "\"us-east-1-\" is not a region name"),
    ROW("[endpoint]\nregion = us_east_1\n", 2, "\"us_east_1\" is not a region name"),
    ROW("[endpoint]\naccess_key_id = AKIA/EXAMPLE\nsecret_access_key = s\n", 2,
        "[endpoint] access_key_id: \"AKIA/EXAMPLE\" contains '/' (letters, digits, . _ -)"),
    ROW("[endpoint]\nregion = us-east-1\naccess_key_id = AKIAEXAMPLE\n", 1,
        "[endpoint] access_key_id and secret_access_key go together: set both, or neither to use "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the shared credentials file"),
    ROW("[endpoint]\nsecret_access_key = abc\n", 1,
        "access_key_id and secret_access_key go together"),
    ROW("[endpoint]\nsession_token = FQoGZXIvYXdz\n", 1,
        "[endpoint] session_token needs access_key_id and secret_access_key"),
    ROW("[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key = s\nprofile = prod\n", 1,
        "[endpoint] give either keys or profile/credentials_file, not both"),
    ROW("[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key = s\n"
        "credentials_file = /c\n",
        1,
        "[endpoint] give either keys or profile/credentials_file, not both"),
    ROW("[endpoint]\nprofile = my profile\n", 2, "[endpoint] profile: \"my profile\" contains ' '"),
    /* metrics */
    ROW("[metrics]\nnamespace = AWS/EC2\n", 2,
        "[metrics] namespace: \"AWS/EC2\" is reserved: namespaces starting with \"AWS/\" or \":\" "
        "belong to AWS"),
    ROW("[metrics]\nnamespace = :private\n", 2, "\":private\" is reserved"),
    ROW("[metrics]\nnamespace = my!app\n", 2,
        "[metrics] namespace: \"my!app\" contains '!' (CloudWatch namespaces use letters, digits "
        "and . _ # : / - and space)"),
    /* logs names */
    ROW("[logs a]\npath = /x\nlog_group = aws/lambda/x\n", 3,
        "[logs a] log_group: \"aws/lambda/x\": log groups starting with aws/ are reserved for AWS"),
    ROW("[logs a]\npath = /x\nlog_group = AWS/x\n", 3,
        "log groups starting with aws/ are reserved"),
    ROW("[logs a]\npath = /x\nlog_group = /app logs\n", 3,
        "[logs a] log_group: \"/app logs\" contains ' ': log group names allow letters, digits and "
        ". _ - / #"),
    ROW("[logs a]\npath = /x\nlog_group = /app/{host}\n", 3,
        "[logs a] log_group: unknown placeholder in \"/app/{host}\" (known: {hostname}, {date}, "
        "{file}, {name})"),
    ROW("[logs a]\npath = /x\nlog_stream = {hostname}/{pid}\n", 3,
        "[logs a] log_stream: unknown placeholder in \"{hostname}/{pid}\""),
    ROW("[logs a]\npath = /x\nlog_stream = web:01\n", 3,
        "[logs a] log_stream: \"web:01\" contains ':': log stream names allow anything but : "
        "and *"),
    ROW("[logs a]\npath = /x\nlog_stream = web*\n", 3, "\"web*\" contains '*'"),
    /* statsd */
    ROW("[statsd]\nlisten = 8125\n", 2,
        "[statsd] listen: \"8125\" needs a port (expected host:port, like 127.0.0.1:8125)"),
    ROW("[statsd]\nlisten = 127.0.0.1:99999\n", 2,
        "[statsd] listen: \"127.0.0.1:99999\" has a bad port (expected 1 to 65535)"),
    ROW("[statsd]\nlisten = 127.0.0.1:0\n", 2, "has a bad port (expected 1 to 65535)"),
    ROW("[statsd]\nlisten = localhost:\n", 2, "\"localhost:\" has a bad port"),
    ROW("[statsd]\nlisten = ::1:8125\n", 2,
        "[statsd] listen: \"::1:8125\": an IPv6 address goes in brackets, like [::1]:8125"),
    ROW("[statsd]\nlisten = [::1:8125\n", 2, "\"[::1:8125\": an IPv6 address goes in brackets"),
    ROW("[statsd]\nlisten = [::1]\n", 2, "\"[::1]\" needs a port"),
    /* logs rules */
    ROW("[logs a]\npath = /x\nmultiline_start = ^(\\d+\n", 3,
        "[logs a] multiline_start: \"^(\\d+\" is not a valid extended regular expression"),
    /* regcomp would take gigabytes for these */
    ROW("[logs a]\npath = /x\nmultiline_start = a{1,32767}\n", 3,
        "[logs a] multiline_start: \"a{1,32767}\" repeats too much: its {m,n} bounds and + "
        "signs, multiplied where nested, make over 1000 copies of its parts"),
    ROW("[logs a]\npath = /x\nmultiline_start = ^a++++++++++b\n", 3,
        "\"^a++++++++++b\" repeats too much"),
    ROW("[logs a]\npath = /x\nmultiline_start = ^((x{1,255}){1,255}){1,255}\n", 3,
        "\"^((x{1,255}){1,255}){1,255}\" repeats too much"),
    ROW("[logs a]\npath = /x\nmultiline_start = 55}){,25150}\n", 3,
        "\"55}){,25150}\" repeats too much"), /* glibc: ")" is a literal */
    ROW("[logs a]\npath = /x\nmultiline_start = x*{2000}\n", 3, "\"x*{2000}\" repeats too much"),
    ROW("[logs a]\npath = /x\nmultiline_start = ^[[:digit:]{]{1,2000}\n", 3,
        "\"^[[:digit:]{]{1,2000}\" repeats too much"),
    /* ... and glibc's regcomp never returns for these */
    ROW("[logs a]\npath = /x\nmultiline_start = ^a**++++\n", 3,
        "[logs a] multiline_start: \"^a**++++\" applies 6 repetitions (*, +, ?, {m,n}) one "
        "around another; at most 3 are supported"),
    ROW("[logs a]\npath = /x\nmultiline_start = ^(((((a*)+)+)+)+)+\n", 3,
        "\"^(((((a*)+)+)+)+)+\" applies 6 repetitions"),
    ROW("[logs a]\npath = /x\nmultiline_timeout = 2s\n", 3,
        "[logs a] multiline_timeout needs multiline_start (the pattern that begins an event)"),
    ROW("[logs a]\npath = /x\nformat = json\nlog_format = $remote_addr\n", 4,
        "[logs a] log_format is only used with format = nginx (format is json)"),
    ROW("[logs a]\npath = /x\nlog_format = $remote_addr\n", 3,
        "[logs a] log_format is only used with format = nginx (format is raw)"),
    ROW("[logs a]\npath = /x\nformat = nginx\nuser_tag = 2\n", 4,
        "[logs a] user_tag is only used with format = rails (format is nginx)"),
    ROW("[logs a]\npath = /x\nformat = rails\nuser_tag = 9\n", 4,
        "tag index 9 is out of range: Rails tags are counted from 1, at most 8"),
    ROW("[logs a]\npath = /x\nformat = rails\nuser_tag = user id\n", 4,
        "\"user id\" is neither a tag index (1-8) nor a key name"),
    ROW("[logs a]\npath = /x\nformat = json\naudit = yes\n", 4,
        "[logs a] audit = yes needs format nginx, rails or syslog (format is json)"),
    ROW("[logs a]\npath = /var/log/x.log\n[logs b]\n\npath = /var/log/x.log\n", 5,
        "[logs b] path \"/var/log/x.log\" is already read by [logs a] (t.conf:1); a file read "
        "twice is shipped twice"),
    /* exec, plugin: rules and required keys */
    ROW("[exec e]\ncommand = /bin/e\ninterval = 5s\ntimeout = 6s\n", 4,
        "[exec e] timeout (6s) must not be longer than interval (5s), or runs would pile up"),
    ROW("[metrics]\ninterval = 5s\n[exec e]\ncommand = /bin/e\ntimeout = 10s\n", 5,
        "[exec e] timeout (10s) must not be longer than interval (5s, from [metrics])"),
    ROW("[logs a]\nformat = json\n", 1, "[logs a] needs a \"path\" key"),
    /* Indented keys under a multi-line key would silently become its value. */
    ROW("[logs a]\n  path = /var/log/a.log\n  format = nginx\n", 3,
        "[logs a] path: this indented line (\"format = ...\") continues the value of \"path\" "
        "from line 2; remove the indentation"),
    ROW("[exec e]\ninterval = 1m\n", 1, "[exec e] needs a \"command\" key"),
    ROW("[plugin p]\ninterval = 1m\n", 1, "[plugin p] needs a \"library\" key"),
    ROW("[plugin p]\nlibrary = plugins/p.so\n", 2,
        "[plugin p] library: \"plugins/p.so\": give a file name (looked up in the plugin "
        "directory) or an absolute path"),
    ROW_ALSO("[plugin p]\nlibrary = p.so\ninterval = 10\n", 3,
        "[plugin p] interval: \"10\"", "unit"),
    /* continuation lines */
    ROW("[agent]\nstate_dir = /var/lib\n  /trailwatch\n", 3,
        "[agent] state_dir: this indented line continues the value of \"state_dir\" (line 2), "
        "which takes one line; remove the indentation if it is a key of its own"),
    ROW("[metrics]\ninterval = 60s\n    cpu = yes\n", 3,
        "this indented line continues the value of \"interval\" (line 2)"),
    /* file syntax, through the model */
    ROW("[agent]\nstate_dir\n", 2, "expected \"key = value\", found \"state_dir\""),
    ROW("state_dir = /x\n[agent]\n", 1, "\"state_dir\" is outside any section"),
    ROW("[agent\nstate_dir = /x\n", 1, "unterminated section header \"[agent\""),
    ROW("[agent]\nstate_dir = /a\nstate_dir = /b\n", 3,
        "[agent] state_dir is set twice (first at line 2); remove one"),
    /* keys inside an unknown section are not reported one by one */
    ROW("[metrix]\nnamespace = x\ninterval = y\nfoo = bar\n", 1, "unknown section [metrix]"),
    /* one problem, one error: no follow-on error judged on a default */
    ROW("[logs a]\npath = /x\nformat = ngnix\naudit = yes\nlog_format = $a\n", 3,
        "format: \"ngnix\" is not one of"),
    ROW("[logs a]\npath = /x\nmultiline_start = (a\nmultiline_timeout = 1s\n", 3,
        "multiline_start: \"(a\" is not a valid extended regular expression"),
    ROW("[endpoint]\naccess_key_id = AKIA EXAMPLE\nsecret_access_key = s\n", 2,
        "access_key_id: \"AKIA EXAMPLE\" contains ' '"),
    /* stated counts: every error is found, not just the first */
    /* One error: the empty value left behind is not reported again. */
    ROW_COUNT("[agent]\nstate_dir = ${" ENV_UNSET "}\n", 2,
        "[agent] state_dir: environment variable " ENV_UNSET " is not set", 1),
    ROW_COUNT("[metrics]\ncpu = 2\nmem = 3\n[statsd]\nlisten = x\n", 2, "[metrics] cpu: \"2\"", 3),
    ROW_COUNT("[logs a]\n[logs b]\n[exec c]\n[plugin d]\n", 1, "[logs a] needs a \"path\" key", 4),

};

static void test_bad_configs_give_one_error_on_the_right_line(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < COUNT(bad_cases); i++) {
        const bad_case *b = &bad_cases[i];
        size_t count = b->count ? b->count : 1;
        tw_agent_config c;
        int rc = tw_agent_config_load_string(&c, "t.conf", b->text);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "t.conf:%d: ", b->line);
        const char *first = c.conf.n_errors > 0 ? c.conf.errors[0] : "";
        bool ok = rc == -EINVAL && c.conf.n_errors == count &&
                  strncmp(first, prefix, strlen(prefix)) == 0 && strstr(first, b->want) &&
                  (b->also == NULL || strstr(first, b->also));
        if (!ok) {
            failures++;
            print_error("case %zu: rc %d, %zu error(s); expected %zu, the first starting "
                        "\"%s\" and containing \"%s\"%s%s%s\n--- config:\n%s---\n",
                        i, rc, c.conf.n_errors, count, prefix, b->want,
                        b->also ? " and \"" : "", b->also ? b->also : "", b->also ? "\"" : "",
                        b->text);
            tw_test_dump_conf_errors(&c.conf);
        }
        tw_agent_config_free(&c);
    }
    assert_int_equal(failures, 0);
    assert_true(COUNT(bad_cases) >= 25);
}

/* The limits that keep regcomp from taking the machine down leave room for
 * any pattern a log format needs. */
static void test_multiline_start_at_the_limits_is_accepted(void **state)
{
    (void)state;
    const char *patterns[] = {
        "^x{1,999}",                        /* 1000 parts: ^ and 999 x */
        "^((a*)+){3}",                      /* three repetitions nested */
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]",  /* ISO 8601 */
        "^\\[[[:digit:]]{2}/[A-Z][a-z]{2}/", /* [21/Nov/ */
        "^(ab|cd){1,249}",                  /* ^, and 4 parts 249 times */
        "^[^ ]+ [^ ]+ [^ ]+ \\[",           /* a syslog-ish start */
        "a)b{3}",                           /* an unmatched ")" is a literal */
    };
    for (size_t i = 0; i < COUNT(patterns); i++) {
        char text[256];
        snprintf(text, sizeof text, "[logs a]\npath = /x\nmultiline_start = %s\n", patterns[i]);
        tw_agent_config c;
        int rc = tw_agent_config_load_string(&c, "t.conf", text);
        if (rc != 0)
            print_error("pattern %s:\n", patterns[i]);
        assert_conf_error_count(&c.conf, 0);
        assert_string_equal(c.logs[0].multiline_start, patterns[i]);
        tw_agent_config_free(&c);
    }
}

/* Values of secret keys never appear in a message, whatever is wrong. */
static void test_secret_values_are_never_echoed(void **state)
{
    (void)state;
    const char *texts[] = {
        "[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key = wJalrXUtnFEMI\n"
        "  K7MDENGbPxRfiCY\n",
        "[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key = wJalrXUtnFEMI\n"
        "session_token = K7MDENGbPxRfiCY\n  more\n",
        "[endpoint]\nsecret_access_key = wJalrXUtnFEMI${" ENV_UNSET "}\n",
        "[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key = ${" ENV_SECRET "}\n"
        "profile = p\n",
        "[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key = ${" ENV_SECRET "}\n"
        "  ${" ENV_SECRET "}\n",
    };
    const size_t counts[] = {1, 1, 2, 1, 1};
    for (size_t i = 0; i < COUNT(texts); i++) {
        tw_agent_config c;
        assert_int_equal(tw_agent_config_load_string(&c, "t.conf", texts[i]), -EINVAL);
        if (c.conf.n_errors != counts[i])
            tw_test_dump_conf_errors(&c.conf);
        assert_int_equal(c.conf.n_errors, counts[i]);
        for (size_t j = 0; j < c.conf.n_errors; j++) {
            const char *m = c.conf.errors[j];
            assert_null(strstr(m, "wJalr"));
            assert_null(strstr(m, "K7MDENG"));
            assert_null(strstr(m, SECRET_VALUE));
        }
        tw_agent_config_free(&c);
    }

    tw_agent_config c;
    tw_agent_config_load_string(&c, "t.conf",
                                "[endpoint]\naccess_key_id = AKIAEXAMPLE\nsecret_access_key =\n");
    assert_int_equal(c.conf.n_errors, 1);
    assert_string_equal(c.conf.errors[0], "t.conf:3: [endpoint] secret_access_key: is empty");
    tw_agent_config_free(&c);
}

int main(void)
{
#define T(name) cmocka_unit_test(name)
#define TF(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        TF(test_bad_configs_give_one_error_on_the_right_line),
        T(test_multiline_start_at_the_limits_is_accepted),
        TF(test_secret_values_are_never_echoed),
    };
#undef T
#undef TF
    return cmocka_run_group_tests(tests, NULL, NULL);
}
