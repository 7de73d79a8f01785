/* test_agent_config.c — the agent's configuration model (agent/config.h) and
 * `--check-config` (agent/check_config.h): a complete config with every key,
 * the defaults, drop-ins on disk, and a table of bad configs, each pinned to
 * its exact line and message. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "check_config.h"
#include "config.h"

#define ENV_SECRET "TW_TEST_AGENT_SECRET"
#define ENV_UNSET "TW_TEST_AGENT_UNSET"
#define SECRET_VALUE "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------ */

static void dump_errors(const tw_agent_config *c)
{
    for (size_t i = 0; i < c->conf.n_errors; i++)
        print_error("  error %zu: %s\n", i, c->conf.errors[i]);
}

#define assert_no_errors(c) assert_no_errors_((c), __FILE__, __LINE__)

static void assert_no_errors_(const tw_agent_config *c, const char *src, int src_line)
{
    if (c->conf.n_errors != 0) {
        print_error("expected no errors, got %zu:\n", c->conf.n_errors);
        dump_errors(c);
        _fail(src, src_line);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

typedef struct fixture {
    char dir[256];
    char path[300];   /* dir/agent.conf */
    char dropin[300]; /* dir/agent.conf.d */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/tw-test-agent-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/agent.conf", f->dir);
    snprintf(f->dropin, sizeof f->dropin, "%s/agent.conf.d", f->dir);
    setenv(ENV_SECRET, SECRET_VALUE, 1);
    unsetenv(ENV_UNSET);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    unsetenv(ENV_SECRET);
    free(f);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void write_dropin(fixture *f, const char *name, const char *text, char *path,
                         size_t size)
{
    mkdir(f->dropin, 0700);
    snprintf(path, size, "%s/%s", f->dropin, name);
    write_file(path, text);
}

/* ---- a complete config -------------------------------------------------- */

static const char full_config[] =
    "; every section and every key\n"                           /* 1 */
    "[agent]\n"                                                 /* 2 */
    "state_dir = /srv/trailwatch/state\n"                       /* 3 */
    "hostname = web-01.example\n"                               /* 4 */
    "log_level = debug\n"                                       /* 5 */
    "stop_timeout = 30s\n"                                      /* 6 */
    "\n"                                                        /* 7 */
    "[endpoint]\n"                                              /* 8 */
    "url = https://logs.example.com:8443/base\n"                /* 9 */
    "region = eu-west-2\n"                                      /* 10 */
    "access_key_id = AKIAIOSFODNN7EXAMPLE\n"                    /* 11 */
    "secret_access_key = ${" ENV_SECRET "}\n"                   /* 12 */
    "session_token = FQoGZXIvYXdzEXAMPLE\n"                     /* 13 */
    "timeout = 45s\n"                                           /* 14 */
    "\n"                                                        /* 15 */
    "[metrics]\n"                                               /* 16 */
    "namespace = Trailwatch/Test\n"                             /* 17 */
    "interval = 10s\n"                                          /* 18 */
    "cpu = no\n"                                                /* 19 */
    "mem = off\n"                                               /* 20 */
    "net = false\n"                                             /* 21 */
    "disk = 0\n"                                                /* 22 */
    "diskio = yes\n"                                            /* 23 */
    "\n"                                                        /* 24 */
    "[statsd]\n"                                                /* 25 */
    "listen = [::1]:9125\n"                                     /* 26 */
    "\n"                                                        /* 27 */
    "[logs nginx-access]\n"                                     /* 28 */
    "path = /var/log/nginx/access.log\n"                        /* 29 */
    "    /var/log/nginx/access.log.1\n"                         /* 30 */
    "format = nginx\n"                                          /* 31 */
    "log_format = $remote_addr - $remote_user [$time_local]\n"  /* 32 */
    "    \"$request\" $status $body_bytes_sent\n"               /* 33 */
    "log_group = /trailwatch/{hostname}/nginx\n"                /* 34 */
    "log_stream = {hostname}-{file}\n"                          /* 35 */
    "read_from = head\n"                                        /* 36 */
    "multiline_start = ^([0-9]{4}-)+\n"                         /* 37 */
    "multiline_timeout = 500ms\n"                               /* 38 */
    "max_line_size = 64KiB\n"                                   /* 39 */
    "retention_days = 30\n"                                     /* 40 */
    "audit = yes\n"                                             /* 41 */
    "event_source = nginx.example\n"                            /* 42 */
    "\n"                                                        /* 43 */
    "[logs app]\n"                                              /* 44 */
    "path = /var/log/app/*.json\n"                              /* 45 */
    "format = json\n"                                           /* 46 */
    "\n"                                                        /* 47 */
    "[plugin redis]\n"                                          /* 48 */
    "library = redis.so\n"                                      /* 49 */
    "interval = 15s\n"                                          /* 50 */
    "host = 127.0.0.1:6379\n"                                   /* 51 */
    "\n"                                                        /* 52 */
    "[plugin custom]\n"                                         /* 53 */
    "library = /opt/trailwatch/custom.so\n"                     /* 54 */
    "\n"                                                        /* 55 */
    "[exec queue-depth]\n"                                      /* 56 */
    "command = /usr/local/bin/queue-depth\n"                    /* 57 */
    "    --queue jobs\n"                                        /* 58 */
    "interval = 30s\n"                                          /* 59 */
    "timeout = 5s\n"                                            /* 60 */
    "\n"                                                        /* 61 */
    "[exec quick]\n"                                            /* 62 */
    "command = /bin/true\n"                                     /* 63 */
    "timeout = 2s\n";                                           /* 64 */

static void test_complete_config_loads_every_key_typed(void **state)
{
    (void)state;
    tw_agent_config c;
    assert_int_equal(tw_agent_config_load_string(&c, "full.conf", full_config), 0);
    assert_no_errors(&c);

    assert_string_equal(c.agent.state_dir, "/srv/trailwatch/state");
    assert_string_equal(c.agent.hostname, "web-01.example");
    assert_string_equal(c.agent.log_level, "debug");
    assert_int_equal(c.agent.stop_timeout_ms, 30000);

    assert_string_equal(c.endpoint.url, "https://logs.example.com:8443/base");
    assert_string_equal(c.endpoint.region, "eu-west-2");
    assert_string_equal(c.endpoint.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(c.endpoint.secret_access_key, SECRET_VALUE);
    assert_string_equal(c.endpoint.session_token, "FQoGZXIvYXdzEXAMPLE");
    assert_null(c.endpoint.profile);
    assert_null(c.endpoint.credentials_file);
    assert_int_equal(c.endpoint.timeout_ms, 45000);

    assert_true(c.metrics.enabled);
    assert_string_equal(c.metrics.namespace_, "Trailwatch/Test");
    assert_int_equal(c.metrics.interval_ms, 10000);
    assert_false(c.metrics.cpu);
    assert_false(c.metrics.mem);
    assert_false(c.metrics.net);
    assert_false(c.metrics.disk);
    assert_true(c.metrics.diskio);

    assert_true(c.statsd.enabled);
    assert_string_equal(c.statsd.listen, "[::1]:9125");

    assert_int_equal(c.n_logs, 2);
    const tw_logs_config *l = &c.logs[0];
    assert_string_equal(l->name, "nginx-access");
    assert_string_equal(l->file, "full.conf");
    assert_int_equal(l->line, 28);
    assert_string_equal(l->path, "/var/log/nginx/access.log /var/log/nginx/access.log.1");
    assert_string_equal(l->format, "nginx");
    assert_string_equal(l->log_format,
                        "$remote_addr - $remote_user [$time_local] \"$request\" $status "
                        "$body_bytes_sent");
    assert_string_equal(l->log_group, "/trailwatch/{hostname}/nginx");
    assert_string_equal(l->log_stream, "{hostname}-{file}");
    assert_string_equal(l->read_from, "head");
    assert_string_equal(l->multiline_start, "^([0-9]{4}-)+");
    assert_int_equal(l->multiline_timeout_ms, 500);
    assert_int_equal(l->max_line_size, 65536);
    assert_int_equal(l->retention_days, 30);
    assert_true(l->audit);
    assert_string_equal(l->event_source, "nginx.example");

    l = &c.logs[1];
    assert_string_equal(l->name, "app");
    assert_int_equal(l->line, 44);
    assert_string_equal(l->path, "/var/log/app/*.json");
    assert_string_equal(l->format, "json");
    assert_string_equal(l->log_group, "/trailwatch/app");
    /* event_source defaults to the configured hostname. */
    assert_string_equal(l->event_source, "web-01.example");

    assert_int_equal(c.n_plugins, 2);
    assert_string_equal(c.plugins[0].name, "redis");
    assert_int_equal(c.plugins[0].line, 48);
    assert_string_equal(c.plugins[0].library, "redis.so");
    assert_int_equal(c.plugins[0].interval_ms, 15000);
    /* The plugin's own keys are passed on untouched. */
    assert_non_null(c.plugins[0].section);
    const tw_conf_entry *host = tw_conf_find(c.plugins[0].section, "host");
    assert_non_null(host);
    assert_string_equal(host->value, "127.0.0.1:6379");
    assert_int_equal(host->line, 51);
    assert_string_equal(c.plugins[1].name, "custom");
    assert_string_equal(c.plugins[1].library, "/opt/trailwatch/custom.so");
    assert_int_equal(c.plugins[1].interval_ms, 10000); /* [metrics] interval */

    assert_int_equal(c.n_execs, 2);
    assert_string_equal(c.execs[0].name, "queue-depth");
    assert_int_equal(c.execs[0].line, 56);
    assert_string_equal(c.execs[0].command, "/usr/local/bin/queue-depth --queue jobs");
    assert_int_equal(c.execs[0].interval_ms, 30000);
    assert_int_equal(c.execs[0].timeout_ms, 5000);
    assert_string_equal(c.execs[1].name, "quick");
    assert_string_equal(c.execs[1].command, "/bin/true");
    assert_int_equal(c.execs[1].interval_ms, 10000); /* [metrics] interval */
    assert_int_equal(c.execs[1].timeout_ms, 2000);

    tw_agent_config_free(&c);
    /* free leaves a zeroed struct: freeing twice is harmless. */
    assert_int_equal(c.n_logs, 0);
    assert_null(c.logs);
    tw_agent_config_free(&c);
}

static void test_profile_and_credentials_file_load(void **state)
{
    (void)state;
    tw_agent_config c;
    assert_int_equal(tw_agent_config_load_string(&c, "t.conf",
                                                 "[endpoint]\n"
                                                 "url = http://127.0.0.1:4590\n"
                                                 "profile = prod-eu_1.x\n"
                                                 "credentials_file = /etc/trailwatch/creds\n"),
                     0);
    assert_no_errors(&c);
    assert_string_equal(c.endpoint.profile, "prod-eu_1.x");
    assert_string_equal(c.endpoint.credentials_file, "/etc/trailwatch/creds");
    assert_null(c.endpoint.access_key_id);
    assert_null(c.endpoint.secret_access_key);
    tw_agent_config_free(&c);
}

/* ---- defaults ----------------------------------------------------------- */

static void test_empty_config_has_the_documented_defaults(void **state)
{
    (void)state;
    const char *texts[] = {"", "; nothing but a comment\n\n"};
    for (size_t i = 0; i < COUNT(texts); i++) {
        tw_agent_config c;
        assert_int_equal(tw_agent_config_load_string(&c, "t.conf", texts[i]), 0);
        assert_no_errors(&c);

        char hostname[256] = "";
        if (gethostname(hostname, sizeof hostname - 1) != 0)
            strcpy(hostname, "localhost");
        assert_string_equal(c.agent.state_dir, TW_AGENT_DEFAULT_STATE_DIR);
        assert_string_equal(c.agent.state_dir, "/var/lib/trailwatch/agent");
        assert_string_equal(c.agent.hostname, hostname);
        assert_string_equal(c.agent.log_level, "info");
        assert_int_equal(c.agent.stop_timeout_ms, 10000);

        assert_string_equal(c.endpoint.url, "http://127.0.0.1:4590");
        assert_string_equal(c.endpoint.region, "us-east-1");
        assert_null(c.endpoint.access_key_id);
        assert_null(c.endpoint.secret_access_key);
        assert_null(c.endpoint.session_token);
        assert_null(c.endpoint.profile);
        assert_null(c.endpoint.credentials_file);
        assert_int_equal(c.endpoint.timeout_ms, 30000);

        assert_false(c.metrics.enabled);
        assert_string_equal(c.metrics.namespace_, "CWAgent");
        assert_int_equal(c.metrics.interval_ms, 60000);
        assert_true(c.metrics.cpu);
        assert_true(c.metrics.mem);
        assert_true(c.metrics.net);
        assert_true(c.metrics.disk);
        assert_false(c.metrics.diskio);

        assert_false(c.statsd.enabled);
        assert_string_equal(c.statsd.listen, "127.0.0.1:8125");

        assert_int_equal(c.n_logs, 0);
        assert_int_equal(c.n_plugins, 0);
        assert_int_equal(c.n_execs, 0);
        tw_agent_config_free(&c);
    }
}

static void test_sections_with_few_keys_get_defaults(void **state)
{
    (void)state;
    tw_agent_config c;
    int rc = tw_agent_config_load_string(&c, "t.conf",
                                         "[logs syslog]\n"
                                         "path = /var/log/syslog\n"
                                         "[plugin p]\n"
                                         "library = p.so\n"
                                         "[exec e]\n"
                                         "command = /bin/e\n"
                                         "[metrics]\n"
                                         "[statsd]\n");
    assert_int_equal(rc, 0);
    assert_no_errors(&c);

    assert_true(c.metrics.enabled);
    assert_int_equal(c.metrics.interval_ms, 60000);
    assert_true(c.metrics.cpu);
    assert_false(c.metrics.diskio);
    assert_true(c.statsd.enabled);
    assert_string_equal(c.statsd.listen, "127.0.0.1:8125");

    assert_int_equal(c.n_logs, 1);
    const tw_logs_config *l = &c.logs[0];
    assert_string_equal(l->name, "syslog");
    assert_string_equal(l->file, "t.conf");
    assert_int_equal(l->line, 1);
    assert_string_equal(l->path, "/var/log/syslog");
    assert_string_equal(l->format, "raw");
    assert_null(l->log_format);
    assert_string_equal(l->log_group, "/trailwatch/syslog");
    assert_string_equal(l->log_stream, "{hostname}");
    assert_string_equal(l->read_from, "tail");
    assert_null(l->multiline_start);
    assert_int_equal(l->multiline_timeout_ms, 1000);
    assert_int_equal(l->max_line_size, 256 * 1024);
    assert_int_equal(l->retention_days, 0);
    assert_false(l->audit);
    assert_string_equal(l->event_source, c.agent.hostname);

    assert_int_equal(c.n_plugins, 1);
    assert_string_equal(c.plugins[0].library, "p.so");
    assert_int_equal(c.plugins[0].interval_ms, 60000);
    assert_int_equal(c.n_execs, 1);
    assert_int_equal(c.execs[0].interval_ms, 60000);
    assert_int_equal(c.execs[0].timeout_ms, 10000);
    tw_agent_config_free(&c);
}

/* [metrics] interval is the default for plugins and exec inputs even when
 * [metrics] comes after them in the file. */
static void test_metrics_interval_is_the_default_whatever_the_order(void **state)
{
    (void)state;
    tw_agent_config c;
    int rc = tw_agent_config_load_string(&c, "t.conf",
                                         "[plugin p]\n"
                                         "library = p.so\n"
                                         "[exec e]\n"
                                         "command = /bin/e\n"
                                         "timeout = 1s\n"
                                         "[metrics]\n"
                                         "interval = 20s\n");
    assert_int_equal(rc, 0);
    assert_no_errors(&c);
    assert_int_equal(c.plugins[0].interval_ms, 20000);
    assert_int_equal(c.execs[0].interval_ms, 20000);
    tw_agent_config_free(&c);
}

/* The agent moves a loaded config by value (reload swaps in the new one):
 * nothing in it may point into the struct itself. */
static void test_config_can_be_moved_by_value(void **state)
{
    (void)state;
    char hostname[256] = "";
    if (gethostname(hostname, sizeof hostname - 1) != 0)
        strcpy(hostname, "localhost");
    tw_agent_config *loaded = malloc(sizeof *loaded);
    assert_non_null(loaded);
    assert_int_equal(tw_agent_config_load_string(loaded, "t.conf",
                                                 "[logs a]\npath = /var/log/a.log\n"),
                     0);
    tw_agent_config moved = *loaded;
    memset(loaded, 0xA5, sizeof *loaded);
    free(loaded);
    assert_string_equal(moved.agent.hostname, hostname);
    assert_string_equal(moved.logs[0].event_source, hostname);
    assert_string_equal(moved.logs[0].path, "/var/log/a.log");
    tw_agent_config_free(&moved);
}

/* ---- drop-ins on disk --------------------------------------------------- */

static void test_dropins_override_and_add_sections(void **state)
{
    fixture *f = *state;
    write_file(f->path, "[agent]\n"
                        "state_dir = /var/lib/main\n"
                        "log_level = warn\n"
                        "[metrics]\n"
                        "interval = 60s\n"
                        "[logs a]\n"
                        "path = /var/log/a.log\n");
    char d1[512], d2[512], ignored[512];
    write_dropin(f, "20-logs.conf", "[logs b]\npath = /var/log/b.log\n", d2, sizeof d2);
    write_dropin(f, "10-fleet.conf",
                 "; fleet settings\n"
                 "[agent]\n"
                 "state_dir = /srv/fleet\n"
                 "[metrics]\n"
                 "interval = 30s\n",
                 d1, sizeof d1);
    write_dropin(f, "disabled.conf.off", "[nonsense\n", ignored, sizeof ignored); /* not read */

    tw_agent_config c;
    assert_int_equal(tw_agent_config_load(&c, f->path), 0);
    assert_no_errors(&c);
    assert_int_equal(c.conf.n_files, 3);
    assert_string_equal(c.conf.files[1], d1);
    assert_string_equal(c.conf.files[2], d2);
    assert_string_equal(c.agent.state_dir, "/srv/fleet");
    assert_string_equal(c.agent.log_level, "warn");
    assert_int_equal(c.metrics.interval_ms, 30000);
    assert_int_equal(c.n_logs, 2);
    assert_string_equal(c.logs[0].name, "a");
    assert_string_equal(c.logs[0].file, f->path);
    assert_string_equal(c.logs[1].name, "b");
    assert_string_equal(c.logs[1].file, d2);
    assert_int_equal(c.logs[1].line, 1);
    tw_agent_config_free(&c);
}

static void test_errors_in_dropins_name_the_dropin_and_line(void **state)
{
    fixture *f = *state;
    write_file(f->path, "[logs a]\npath = /var/log/a.log\n");
    char d[512];
    write_dropin(f, "x.conf",
                 "[logs b]\n"
                 "path = /var/log/b.log\n"
                 "\n"
                 "format = ngnix\n"
                 "[logs a]\n"
                 "path = /var/log/b.log\n",
                 d, sizeof d);

    tw_agent_config c;
    assert_int_equal(tw_agent_config_load(&c, f->path), -EINVAL);
    if (c.conf.n_errors != 2)
        dump_errors(&c);
    assert_int_equal(c.conf.n_errors, 2);
    char want[1024];
    /* Errors come in file and line order. [logs a] is now read from the
     * drop-in's path, which [logs b] reads too: reported on [logs b]'s path
     * line, naming where [logs a] starts. */
    snprintf(want, sizeof want,
             "%s:2: [logs b] path \"/var/log/b.log\" is already read by [logs a] (%s:1); a "
             "file read twice is shipped twice",
             d, f->path);
    assert_string_equal(c.conf.errors[0], want);
    snprintf(want, sizeof want,
             "%s:4: [logs b] format: \"ngnix\" is not one of nginx, nginx_error, rails, json, "
             "syslog or raw",
             d);
    assert_string_equal(c.conf.errors[1], want);
    tw_agent_config_free(&c);
}

static void test_shipped_agent_conf_is_valid(void **state)
{
    (void)state;
    unsetenv("TRAILWATCH_ENDPOINT");
    unsetenv("TRAILWATCH_REGION");
    tw_agent_config c;
    int rc = tw_agent_config_load(&c, TW_SOURCE_DIR "/conf/agent.conf");
    assert_no_errors(&c);
    assert_int_equal(rc, 0);
    assert_string_equal(c.endpoint.url, "http://127.0.0.1:4590");
    assert_string_equal(c.endpoint.region, "us-east-1");
    tw_agent_config_free(&c);
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
        "disk, diskio)"),
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
    ROW("[logs a]\npath = /x\nformat = json\naudit = yes\n", 4,
        "[logs a] audit = yes needs format nginx, rails or syslog (format is json)"),
    ROW("[logs a]\npath = /var/log/x.log\n[logs b]\n\npath = /var/log/x.log\n", 5,
        "[logs b] path \"/var/log/x.log\" is already read by [logs a] (t.conf:1); a file read "
        "twice is shipped twice"),
    /* exec, plugin: rules and required keys */
    ROW("[exec e]\ncommand = /bin/e\ninterval = 5s\ntimeout = 5s\n", 4,
        "[exec e] timeout (5s) must be shorter than interval (5s), or runs would pile up"),
    ROW("[metrics]\ninterval = 5s\n[exec e]\ncommand = /bin/e\n", 3,
        "[exec e] timeout (10s, the default) must be shorter than interval (5s, from [metrics])"),
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
            dump_errors(&c);
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
        assert_no_errors(&c);
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
            dump_errors(&c);
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

/* ---- --check-config ----------------------------------------------------- */

typedef struct captured {
    char *out, *err;
    size_t out_len, err_len;
} captured;

static int check(const char *path, captured *cap)
{
    FILE *out = open_memstream(&cap->out, &cap->out_len);
    FILE *err = open_memstream(&cap->err, &cap->err_len);
    assert_non_null(out);
    assert_non_null(err);
    int rc = tw_agent_check_config(path, out, err);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(fclose(err), 0);
    return rc;
}

static void captured_free(captured *cap)
{
    free(cap->out);
    free(cap->err);
}

static void test_check_config_prints_every_error_and_the_count(void **state)
{
    fixture *f = *state;
    write_file(f->path, "[agent]\n"
                        "state_dir = relative\n"
                        "[metrics]\n"
                        "interval = 60\n");
    char d[512];
    write_dropin(f, "x.conf", "[logs a]\nformat = json\n", d, sizeof d);

    captured cap = {0};
    assert_int_equal(check(f->path, &cap), 1);
    assert_string_equal(cap.out, "");
    /* The units message is units.c's; the lines around it are pinned. */
    char *second = strchr(cap.err, '\n');
    assert_non_null(second);
    second++;
    char want[2048];
    snprintf(want, sizeof want, "%s:2: [agent] state_dir: \"relative\" must be an absolute path\n",
             f->path);
    assert_memory_equal(cap.err, want, strlen(want));
    snprintf(want, sizeof want, "%s:4: [metrics] interval: \"60\"", f->path);
    assert_memory_equal(second, want, strlen(want));
    char *third = strchr(second, '\n');
    assert_non_null(third);
    third++;
    snprintf(want, sizeof want,
             "%s:1: [logs a] needs a \"path\" key\n"
             "%s: 3 errors; configuration NOT valid\n",
             d, f->path);
    assert_string_equal(third, want);
    captured_free(&cap);
}

static void test_check_config_counts_one_error_in_the_singular(void **state)
{
    fixture *f = *state;
    captured cap = {0};
    assert_int_equal(check(f->path, &cap), 1); /* no such file */
    char want[2048];
    snprintf(want, sizeof want,
             "%s: cannot open: No such file or directory\n"
             "%s: 1 error; configuration NOT valid\n",
             f->path, f->path);
    assert_string_equal(cap.err, want);
    assert_string_equal(cap.out, "");
    captured_free(&cap);
}

static void test_check_config_summarises_a_valid_config(void **state)
{
    fixture *f = *state;
    write_file(f->path, "[agent]\n"
                        "state_dir = /srv/tw\n"
                        "[endpoint]\n"
                        "url = http://127.0.0.1:4590\n"
                        "region = eu-west-2\n"
                        "[metrics]\n"
                        "interval = 30s\n"
                        "net = no\n"
                        "diskio = yes\n"
                        "[logs nginx]\n"
                        "path = /var/log/nginx/access.log\n"
                        "format = nginx\n"
                        "audit = yes\n"
                        "[plugin redis]\n"
                        "library = redis.so\n"
                        "[exec depth]\n"
                        "command = /usr/bin/depth\n"
                        "timeout = 1s\n"
                        "[statsd]\n"
                        "listen = 127.0.0.1:8125\n");
    char d[512];
    write_dropin(f, "50-app.conf", "[logs app]\npath = /var/log/app.json\nformat = json\n", d,
                 sizeof d);

    captured cap = {0};
    assert_int_equal(check(f->path, &cap), 0);
    assert_string_equal(cap.err, "");
    char want[4096];
    snprintf(want, sizeof want,
             "%s: configuration valid\n"
             "  read %s\n"
             "  read %s\n"
             "  state_dir /srv/tw\n"
             "  endpoint  http://127.0.0.1:4590 (region eu-west-2)\n"
             "  metrics   namespace CWAgent every 30s: cpu mem disk diskio\n"
             "  logs      nginx: /var/log/nginx/access.log (nginx) -> /trailwatch/nginx + audit "
             "events\n"
             "  logs      app: /var/log/app.json (json) -> /trailwatch/app\n"
             "  plugin    redis: redis.so\n"
             "  exec      depth: /usr/bin/depth\n"
             "  statsd    127.0.0.1:8125\n",
             f->path, f->path, d);
    assert_string_equal(cap.out, want);
    captured_free(&cap);
}

int main(void)
{
#define T(name) cmocka_unit_test(name)
#define TF(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        TF(test_complete_config_loads_every_key_typed),
        T(test_profile_and_credentials_file_load),
        T(test_empty_config_has_the_documented_defaults),
        T(test_sections_with_few_keys_get_defaults),
        T(test_metrics_interval_is_the_default_whatever_the_order),
        T(test_config_can_be_moved_by_value),
        TF(test_dropins_override_and_add_sections),
        TF(test_errors_in_dropins_name_the_dropin_and_line),
        T(test_shipped_agent_conf_is_valid),
        TF(test_bad_configs_give_one_error_on_the_right_line),
        T(test_multiline_start_at_the_limits_is_accepted),
        TF(test_secret_values_are_never_echoed),
        TF(test_check_config_prints_every_error_and_the_count),
        TF(test_check_config_counts_one_error_in_the_singular),
        TF(test_check_config_summarises_a_valid_config),
    };
#undef T
#undef TF
    return cmocka_run_group_tests(tests, NULL, NULL);
}
