/* test_agent_config.c — the agent's configuration model (agent/config.h) and
 * `--check-config` (agent/check_config.h): a complete config with every key,
 * the defaults, drop-ins on disk, and what --check-config prints. The table
 * of bad configs is in test_agent_config_errors.c. */
#include <errno.h>
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
#include "testutil.h"

#define ENV_SECRET "TW_TEST_AGENT_SECRET"
#define ENV_UNSET "TW_TEST_AGENT_UNSET"
#define SECRET_VALUE "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------ */

#define assert_no_errors(c) assert_no_errors_((c), __FILE__, __LINE__)

static void assert_no_errors_(const tw_agent_config *c, const char *src, int src_line)
{
    if (c->conf.n_errors != 0) {
        print_error("expected no errors, got %zu:\n", c->conf.n_errors);
        tw_test_dump_conf_errors(&c->conf);
        _fail(src, src_line);
    }
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
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "agent-config") != 0) {
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
    int rc = tw_test_rm_rf(f->dir);
    unsetenv(ENV_SECRET);
    free(f);
    return rc;
}

static void write_dropin(fixture *f, const char *name, const char *text, char *path,
                         size_t size)
{
    mkdir(f->dropin, 0700);
    snprintf(path, size, "%s/%s", f->dropin, name);
    tw_test_write_file(path, text);
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
    tw_test_write_file(f->path, "[agent]\n"
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
    tw_test_write_file(f->path, "[logs a]\npath = /var/log/a.log\n");
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
        tw_test_dump_conf_errors(&c.conf);
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
    tw_test_write_file(f->path, "[agent]\n"
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
    tw_test_write_file(f->path, "[agent]\n"
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
                        "library = loadavg.so\n"
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
             "  plugin    redis: loadavg.so\n"
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
        TF(test_check_config_prints_every_error_and_the_count),
        TF(test_check_config_counts_one_error_in_the_singular),
        TF(test_check_config_summarises_a_valid_config),
    };
#undef T
#undef TF
    return cmocka_run_group_tests(tests, NULL, NULL);
}
