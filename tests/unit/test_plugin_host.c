/* test_plugin_host.c — custom metric plugins (agent/plugin_host.h) loaded
 * for real: the example plugins of plugins/examples (loadavg.so reading a
 * loadavg file, nginx_status.so fetching stub_status from a real HTTP
 * socket) and the test-only plugins of plugins/examples/testing, each
 * broken in one way, run on a real libuv loop and thread pool. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "config.h"
#include "mem.h"
#include "plugin_host.h"
#include "testutil.h"

#ifndef TW_PLUGIN_BUILD_DIR
#error "TW_PLUGIN_BUILD_DIR: the build tree's plugin directory"
#endif
#ifndef TW_TEST_PLUGIN_DIR
#error "TW_TEST_PLUGIN_DIR: where the test-only plugins are built"
#endif

/* ---- a sink that records what it is given ------------------------------ */

typedef struct recorded {
    char name[64];
    char unit[32];
    double value;
    int64_t time_ms;
    char dims[256]; /* "a=1,b=two" */
} recorded;

typedef struct fixture {
    char dir[256];
    uv_loop_t loop;
    uv_thread_t loop_thread;
    bool sink_off_loop; /* the sink was called on another thread */
    int sink_rc;        /* what the sink answers */
    recorded *samples;
    size_t n_samples, cap_samples;
    tw_agent_config config;
    bool config_loaded;
    tw_plugin_host *host;
    int closed;
    uint64_t target; /* for predicates: how many skipped intervals to wait for */
} fixture;

static int record(void *ctx, const tw_metric_sample *s)
{
    fixture *f = ctx;
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &f->loop_thread))
        f->sink_off_loop = true;
    if (f->sink_rc != 0)
        return f->sink_rc;
    if (f->n_samples == f->cap_samples) {
        f->cap_samples = f->cap_samples ? 2 * f->cap_samples : 16;
        f->samples = tw_realloc(f->samples, f->cap_samples * sizeof *f->samples);
    }
    recorded *r = &f->samples[f->n_samples++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", s->name);
    snprintf(r->unit, sizeof r->unit, "%s", s->unit ? s->unit : "(null)");
    r->value = s->value;
    r->time_ms = s->time_ms;
    size_t len = 0;
    for (size_t i = 0; i < s->n_dimensions && len < sizeof r->dims; i++)
        len += (size_t)snprintf(r->dims + len, sizeof r->dims - len, "%s%s=%s", i ? "," : "",
                                s->dimensions[i].name, s->dimensions[i].value);
    return 0;
}

static const recorded *find(const fixture *f, const char *name)
{
    for (size_t i = 0; i < f->n_samples; i++)
        if (strcmp(f->samples[i].name, name) == 0)
            return &f->samples[i];
    return NULL;
}

static size_t count_named(const fixture *f, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_samples; i++)
        n += strcmp(f->samples[i].name, name) == 0;
    return n;
}

static int setup(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "plugin-host") != 0)
        return -1;
    uv_loop_init(&f->loop);
    f->loop_thread = uv_thread_self();
    *state = f;
    return 0;
}

static void on_closed(void *arg)
{
    ((fixture *)arg)->closed++;
}

static void drain(uv_loop_t *loop)
{
    while (uv_run(loop, UV_RUN_NOWAIT) != 0)
        ;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->host && !f->closed) {
        tw_plugin_host_close(f->host, on_closed, f);
        drain(&f->loop);
    }
    int rc = uv_loop_close(&f->loop);
    if (f->config_loaded)
        tw_agent_config_free(&f->config);
    free(f->samples);
    tw_test_rm_rf(f->dir);
    free(f);
    return rc;
}

/* ---- helpers ------------------------------------------------------------ */

/* Loads text as "test.conf" and returns its first [plugin NAME] section,
 * with the interval set to interval_ms (config allows 1 s at least; tests
 * run faster). */
static tw_plugin_config *plugin_config(fixture *f, const char *text, uint64_t interval_ms)
{
    if (f->config_loaded)
        tw_agent_config_free(&f->config);
    int rc = tw_agent_config_load_string(&f->config, "test.conf", text);
    f->config_loaded = true;
    if (rc != 0)
        tw_test_dump_conf_errors(&f->config.conf);
    assert_int_equal(rc, 0);
    assert_true(f->config.n_plugins >= 1);
    f->config.plugins[0].interval_ms = interval_ms;
    return &f->config.plugins[0];
}

static int open_host(fixture *f, const tw_plugin_config *pc, const char *dir, tw_err *err)
{
    tw_metric_sink sink = {record, f};
    return tw_plugin_host_open(&f->loop, pc, dir, 60000, &sink, &f->host, err);
}

static void on_poll(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until done(f) or timeout_ms; returns done(f). */
static bool run_until(fixture *f, bool (*done)(const fixture *), uint64_t timeout_ms)
{
    uv_timer_t poll;
    uv_timer_init(&f->loop, &poll);
    uv_timer_start(&poll, on_poll, 5, 5);
    uint64_t deadline = uv_hrtime() + timeout_ms * 1000000;
    while (!done(f) && uv_hrtime() < deadline)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&poll, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return done(f);
}

static tw_plugin_stats stats_of(const fixture *f)
{
    tw_plugin_stats s;
    tw_plugin_host_stats(f->host, &s);
    return s;
}

static bool one_collect(const fixture *f)
{
    return stats_of(f).collects >= 1;
}

static bool two_collects(const fixture *f)
{
    return stats_of(f).collects >= 2;
}

static bool three_collects(const fixture *f)
{
    return stats_of(f).collects >= 3;
}

static void close_host(fixture *f)
{
    tw_plugin_host_close(f->host, on_closed, f);
    drain(&f->loop);
    assert_int_equal(f->closed, 1);
}

static void assert_message(const tw_err *err, const char *want)
{
    if (strcmp(err->msg, want) != 0) {
        print_error("got:  %s\nwant: %s\n", err->msg, want);
        fail();
    }
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        print_error("\"%s\"\ndoes not contain \"%s\"\n", text, needle);
        fail();
    }
}

static char *read_text(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (fp) {
        size_t n = fread(buf, 1, size - 1, fp);
        buf[n] = '\0';
        fclose(fp);
    }
    return buf;
}

#define MISBEHAVE TW_TEST_PLUGIN_DIR "/misbehave.so"

/* ---- the example plugins ----------------------------------------------- */

static void test_loadavg_example_sends_five_metrics_read_from_its_file(void **state)
{
    fixture *f = *state;
    char path[300], text[512];
    snprintf(path, sizeof path, "%s/loadavg", f->dir);
    tw_test_write_file(path, "0.52 1.25 2.00 3/1234 56789\n");
    snprintf(text, sizeof text, "[plugin load]\nlibrary = loadavg.so\npath = %s\n", path);
    tw_err err = {{0}};
    assert_int_equal(open_host(f, plugin_config(f, text, 100), TW_PLUGIN_BUILD_DIR, &err), 0);
    assert_true(run_until(f, one_collect, 5000));
    close_host(f);

    assert_int_equal(f->n_samples, 5);
    static const struct {
        const char *name, *unit;
        double value;
    } want[] = {{"load1", "None", 0.52},        {"load5", "None", 1.25},
                {"load15", "None", 2.00},       {"procs_running", "Count", 3},
                {"procs_total", "Count", 1234}};
    for (size_t i = 0; i < 5; i++) {
        const recorded *r = find(f, want[i].name);
        assert_non_null(r);
        assert_string_equal(r->unit, want[i].unit);
        assert_float_equal(r->value, want[i].value, 1e-9);
        assert_string_equal(r->dims, "");
        /* Samples carry their interval's wall-clock tick. */
        assert_int_equal(r->time_ms % 100, 0);
    }
    assert_false(f->sink_off_loop);
}

static void test_loadavg_example_reads_the_real_proc_loadavg(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    const tw_plugin_config *pc = plugin_config(f, "[plugin load]\nlibrary = loadavg.so\n", 100);
    assert_int_equal(open_host(f, pc, TW_PLUGIN_BUILD_DIR, &err), 0);
    assert_true(run_until(f, one_collect, 5000));
    const recorded *total = find(f, "procs_total");
    assert_non_null(total);
    assert_true(total->value >= 1); /* this test's own thread exists */
    assert_true(find(f, "load1")->value >= 0);
    tw_plugin_stats s = stats_of(f);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.emitted, 5);
    close_host(f);
}

static void test_loadavg_example_refuses_a_missing_file_in_init(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    const tw_plugin_config *pc = plugin_config(
        f, "[plugin load]\nlibrary = loadavg.so\npath = /nonexistent/loadavg\n", 100);
    assert_int_equal(open_host(f, pc, TW_PLUGIN_BUILD_DIR, &err), -ENOENT);
    assert_message(&err, "test.conf:1: [plugin load] loadavg.so refused the section in init: "
                         "path: cannot open /nonexistent/loadavg: No such file or directory");
    assert_null(f->host);
}

/* A tiny HTTP server on a real loopback socket: answers each request with
 * the next page of pages[] (the last one repeats). */
typedef struct http_server {
    int fd;
    int port;
    pthread_t thread;
    const char *const *pages;
    size_t n_pages;
    int status;
    int requests;
} http_server;

static void *serve(void *arg)
{
    http_server *h = arg;
    for (;;) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[2048];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t n = read(c, req + got, sizeof req - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n")) {
                const char *page = h->pages[h->requests < (int)h->n_pages ? h->requests
                                                                          : (int)h->n_pages - 1];
                h->requests++;
                char resp[1024];
                int len = snprintf(resp, sizeof resp,
                                   "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: %zu\r\n\r\n%s",
                                   h->status, strlen(page), page);
                if (write(c, resp, (size_t)len) != len)
                    break;
                got = 0;
            }
        }
        close(c);
    }
}

static void http_start(http_server *h, const char *const *pages, size_t n, int status)
{
    *h = (http_server){.pages = pages, .n_pages = n, .status = status};
    h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(h->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(h->fd, 8), 0);
    socklen_t len = sizeof a;
    getsockname(h->fd, (struct sockaddr *)&a, &len);
    h->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&h->thread, NULL, serve, h), 0);
}

static void http_stop(http_server *h)
{
    shutdown(h->fd, SHUT_RDWR);
    pthread_join(h->thread, NULL);
    close(h->fd);
}

static void test_nginx_example_sends_gauges_and_counter_increases(void **state)
{
    fixture *f = *state;
    static const char *const pages[] = {
        "Active connections: 291 \nserver accepts handled requests\n 1000 998 5000 \n"
        "Reading: 6 Writing: 179 Waiting: 106 \n",
        "Active connections: 12 \nserver accepts handled requests\n 1030 1027 5100 \n"
        "Reading: 1 Writing: 2 Waiting: 9 \n",
    };
    http_server h;
    http_start(&h, pages, 2, 200);
    char text[512], url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nginx_status", h.port);
    snprintf(text, sizeof text,
             "[plugin nginx]\nlibrary = nginx_status.so\nurl = %s\ntimeout = 2\n", url);
    tw_err err = {{0}};
    assert_int_equal(open_host(f, plugin_config(f, text, 100), TW_PLUGIN_BUILD_DIR, &err), 0);
    assert_true(run_until(f, two_collects, 5000));
    close_host(f);
    http_stop(&h);

    /* First interval: 4 gauges, no increases yet; second: 4 + 3. */
    assert_int_equal(f->n_samples, 11);
    assert_int_equal(count_named(f, "nginx_active"), 2);
    assert_int_equal(count_named(f, "nginx_accepts"), 1);
    assert_float_equal(f->samples[0].value, 291, 0);
    assert_string_equal(f->samples[0].name, "nginx_active");
    char dim[200];
    snprintf(dim, sizeof dim, "url=%s", url);
    assert_string_equal(f->samples[0].dims, dim);
    assert_string_equal(f->samples[0].unit, "Count");
    assert_float_equal(find(f, "nginx_waiting")->value, 106, 0);
    assert_float_equal(f->samples[4].value, 12, 0); /* second nginx_active */
    assert_float_equal(find(f, "nginx_accepts")->value, 30, 0);
    assert_float_equal(find(f, "nginx_handled")->value, 29, 0);
    assert_float_equal(find(f, "nginx_requests")->value, 100, 0);
}

static void test_nginx_example_counts_http_errors_as_failed_collects(void **state)
{
    fixture *f = *state;
    static const char *const pages[] = {"not found\n"};
    http_server h;
    http_start(&h, pages, 1, 404);
    char text[512];
    snprintf(text, sizeof text,
             "[plugin nginx]\nlibrary = nginx_status.so\nurl = http://127.0.0.1:%d/x\n", h.port);
    tw_err err = {{0}};
    assert_int_equal(open_host(f, plugin_config(f, text, 100), TW_PLUGIN_BUILD_DIR, &err), 0);
    assert_true(run_until(f, two_collects, 5000));
    tw_plugin_stats s = stats_of(f);
    close_host(f);
    http_stop(&h);
    assert_int_equal(s.failures, s.collects);
    assert_int_equal(f->n_samples, 0);
}

static void test_nginx_example_refuses_a_bad_timeout(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    const tw_plugin_config *pc =
        plugin_config(f, "[plugin nginx]\nlibrary = nginx_status.so\ntimeout = 5m\n", 100);
    assert_int_equal(open_host(f, pc, TW_PLUGIN_BUILD_DIR, &err), -EINVAL);
    assert_message(&err, "test.conf:1: [plugin nginx] nginx_status.so refused the section in "
                         "init: timeout: \"5m\" is not a number of seconds between 0 and 60");
}

/* ---- refusing what cannot be loaded ------------------------------------ */

static void assert_refused(fixture *f, const char *library, int want_rc, const char *want)
{
    char text[512];
    snprintf(text, sizeof text, "[plugin p]\nlibrary = %s\n", library);
    const tw_plugin_config *pc = plugin_config(f, text, 1000);
    tw_err err = {{0}};
    assert_int_equal(tw_plugin_host_check(pc, TW_TEST_PLUGIN_DIR, &err), want_rc);
    if (want[0] == '~')
        assert_contains(err.msg, want + 1);
    else
        assert_message(&err, want);
    /* open refuses it the same way, before running anything. */
    tw_err err2 = {{0}};
    assert_int_equal(open_host(f, pc, TW_TEST_PLUGIN_DIR, &err2), want_rc);
    assert_string_equal(err2.msg, err.msg);
    assert_null(f->host);
}

static void test_plugin_built_for_another_abi_is_refused_naming_both(void **state)
{
    assert_refused(*state, "bad_abi99.so", -EPROTO,
                   "test.conf:1: [plugin p] bad_abi99.so was built for plugin ABI 99; this "
                   "agent speaks ABI 1: rebuild it against trailwatch-plugin 0.1");
}

static void test_library_without_entry_symbol_is_refused(void **state)
{
    assert_refused(*state, "bad_noentry.so", -ENOEXEC,
                   "test.conf:1: [plugin p] bad_noentry.so does not export "
                   "trailwatch_plugin_entry: it is not a trailwatch plugin (a plugin defines "
                   "it with TRAILWATCH_PLUGIN_DEFINE from trailwatch/plugin.h)");
}

static void test_entry_returning_null_is_refused(void **state)
{
    assert_refused(*state, "bad_nullentry.so", -EINVAL,
                   "test.conf:1: [plugin p] bad_nullentry.so: trailwatch_plugin_entry returned "
                   "NULL");
}

static void test_truncated_description_is_refused(void **state)
{
    assert_refused(*state, "bad_small.so", -EPROTO,
                   "~bad_small.so describes itself in 8 bytes, fewer than plugin ABI 1's");
}

static void test_description_without_name_is_refused(void **state)
{
    assert_refused(*state, "bad_noname.so", -EINVAL,
                   "test.conf:1: [plugin p] bad_noname.so: its trailwatch_plugin description "
                   "has no name");
}

static void test_description_without_shutdown_is_refused(void **state)
{
    assert_refused(*state, "bad_noshutdown.so", -EINVAL,
                   "test.conf:1: [plugin p] bad_noshutdown.so (plugin bad) has no shutdown "
                   "callback: init, collect and shutdown are all required");
}

static void test_missing_library_names_the_plugin_directory(void **state)
{
    assert_refused(*state, "redis.so", -ENOENT,
                   "test.conf:1: [plugin p] library redis.so: " TW_TEST_PLUGIN_DIR
                   "/redis.so does not exist (a library without a '/' is looked up in the "
                   "plugin directory " TW_TEST_PLUGIN_DIR ")");
}

static void test_file_that_is_not_a_shared_object_gives_dlerror_text(void **state)
{
    fixture *f = *state;
    char path[300], want[1024];
    snprintf(path, sizeof path, "%s/fake.so", f->dir);
    tw_test_write_file(path, "#!/bin/sh\necho not a library, but long enough for an ELF "
                             "header check to read it all\n");
    snprintf(want, sizeof want,
             "test.conf:1: [plugin p] library %s: cannot load it as a shared object: %s: "
             "invalid ELF header",
             path, path);
    assert_refused(f, path, -ENOEXEC, want);
}

static void test_absolute_library_path_is_used_as_is(void **state)
{
    fixture *f = *state;
    const tw_plugin_config *pc = plugin_config(f, "[plugin m]\nlibrary = " MISBEHAVE "\n", 1000);
    tw_err err = {{0}};
    /* The plugin directory given does not matter for an absolute path. */
    assert_int_equal(tw_plugin_host_check(pc, "/nonexistent", &err), 0);
}

static void test_unknown_keys_are_reported_with_file_and_line(void **state)
{
    fixture *f = *state;
    const tw_plugin_config *pc = plugin_config(f,
                                               "[plugin m]\n"              /* 1 */
                                               "library = " MISBEHAVE "\n" /* 2 */
                                               "mdoe = good\n"             /* 3 */
                                               "interval = 10s\n"          /* 4 */
                                               "colour = blue\n",          /* 5 */
                                               1000);
    tw_err err = {{0}};
    assert_int_equal(tw_plugin_host_check(pc, NULL, &err), -EINVAL);
    assert_message(&err, "test.conf:3: [plugin m] unknown key \"mdoe\" (did you mean \"mode\"?); "
                         "test.conf:5: [plugin m] unknown key \"colour\" (misbehave.so reads: "
                         "mode, value, sleep_ms, count, marker, library, interval)");
    tw_err err2 = {{0}};
    assert_int_equal(open_host(f, pc, NULL, &err2), -EINVAL);
    assert_string_equal(err2.msg, err.msg);
}

static void test_plugin_dir_comes_from_env_else_the_build_tree(void **state)
{
    (void)state;
    setenv(TW_PLUGIN_DIR_ENV, "/opt/plugins", 1);
    assert_string_equal(tw_plugin_host_default_dir(), "/opt/plugins");
    setenv(TW_PLUGIN_DIR_ENV, "", 1);
    /* This test program runs from the build tree. */
    assert_string_equal(tw_plugin_host_default_dir(), TW_PLUGIN_BUILD_DIR);
    unsetenv(TW_PLUGIN_DIR_ENV);
    assert_string_equal(tw_plugin_host_default_dir(), TW_PLUGIN_BUILD_DIR);
}

/* ---- misbehaviour at run time ------------------------------------------ */

static void open_misbehave(fixture *f, const char *keys, uint64_t interval_ms)
{
    char text[1024];
    snprintf(text, sizeof text, "[plugin m]\nlibrary = misbehave.so\n%s", keys);
    tw_err err = {{0}};
    int rc = open_host(f, plugin_config(f, text, interval_ms), TW_TEST_PLUGIN_DIR, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void test_init_failure_gives_the_plugins_reason(void **state)
{
    fixture *f = *state;
    const tw_plugin_config *pc =
        plugin_config(f, "\n[plugin m]\nlibrary = misbehave.so\nmode = init_fail\n", 1000);
    tw_err err = {{0}};
    assert_int_equal(open_host(f, pc, TW_TEST_PLUGIN_DIR, &err), -EINVAL);
    assert_message(&err, "test.conf:2: [plugin m] misbehave.so refused the section in init: "
                         "mode: init_fail refuses the section on purpose");
    assert_null(f->host);
}

static void test_emit_during_init_is_refused_with_eperm(void **state)
{
    fixture *f = *state;
    open_misbehave(f, "mode = emit_in_init\n", 50);
    assert_true(run_until(f, one_collect, 5000));
    assert_float_equal(find(f, "test_init_emit_rc")->value, -EPERM, 0);
    assert_null(find(f, "in_init"));
    assert_int_equal(stats_of(f).refused_emits, 1);
    close_host(f);
}

static void test_emit_from_a_plugin_thread_is_refused_with_eperm(void **state)
{
    fixture *f = *state;
    open_misbehave(f, "mode = thread_emit\n", 50);
    assert_true(run_until(f, one_collect, 5000));
    assert_float_equal(find(f, "test_thread_emit_rc")->value, -EPERM, 0);
    assert_null(find(f, "from_thread"));
    assert_int_equal(stats_of(f).refused_emits, 1);
    close_host(f);
}

static void test_metrics_breaking_cloudwatch_rules_are_rejected_and_counted(void **state)
{
    fixture *f = *state;
    open_misbehave(f, "mode = bad_metrics\n", 50);
    assert_true(run_until(f, one_collect, 5000));
    tw_plugin_stats s = stats_of(f);
    close_host(f);
    /* Five bad ones, each refused with -EINVAL; the one good one goes on. */
    assert_int_equal(s.rejected, 5 * s.collects);
    assert_int_equal(s.emitted, s.collects);
    assert_int_equal(f->n_samples, s.collects);
    assert_float_equal(find(f, "test_bad_rcs")->value, 5, 0);
    assert_false(f->sink_off_loop);
}

static void test_dimensions_units_and_timestamps_pass_through(void **state)
{
    fixture *f = *state;
    open_misbehave(f, "mode = dims\n", 50);
    assert_true(run_until(f, one_collect, 5000));
    close_host(f);
    assert_true(f->n_samples >= 1);
    assert_string_equal(f->samples[0].name, "test_dims");
    assert_string_equal(f->samples[0].unit, "Percent");
    assert_string_equal(f->samples[0].dims, "a=1,b=two");
    assert_float_equal(f->samples[0].value, 42.5, 0);
    assert_int_equal(f->samples[0].time_ms, 1700000000123);
}

static void test_failing_collect_is_counted_and_runs_again(void **state)
{
    fixture *f = *state;
    open_misbehave(f, "mode = fail\n", 50);
    assert_true(run_until(f, three_collects, 5000));
    tw_plugin_stats s = stats_of(f);
    assert_int_equal(s.failures, s.collects);
    assert_int_equal(s.emitted, 0);
    close_host(f);
}

static bool skipped_enough(const fixture *f)
{
    return stats_of(f).skipped >= f->target;
}

static void test_slow_collect_skips_intervals_and_never_overlaps(void **state)
{
    fixture *f = *state;
    char keys[400];
    snprintf(keys, sizeof keys, "mode = slow\nsleep_ms = 400\nmarker = %s/marker\n", f->dir);
    open_misbehave(f, keys, 50);
    f->target = 3;
    assert_true(run_until(f, skipped_enough, 5000));
    /* Still inside the first collect: nothing ran twice. */
    assert_int_equal(stats_of(f).collects, 0);
    assert_true(run_until(f, one_collect, 5000));
    tw_plugin_stats s = stats_of(f);
    assert_int_equal(s.collects, 1);
    assert_true(s.skipped >= 3);
    assert_true(s.last_collect_ms >= 400);
    /* test_collects counts calls as the plugin saw them: 1, never 2 at once. */
    assert_float_equal(find(f, "test_collects")->value, 1, 0);

    /* Skipped intervals mean the second collect is running: close now. It
     * waits for that collect, delivers its samples, then runs shutdown
     * (which, running early, would free the state under the sleeping
     * collect: ASan would say so). */
    f->target = s.skipped + 2;
    assert_true(run_until(f, skipped_enough, 5000));
    assert_int_equal(stats_of(f).collects, 1);
    tw_plugin_host_close(f->host, on_closed, f);
    drain(&f->loop);
    assert_int_equal(f->closed, 1);
    assert_int_equal(count_named(f, "test_value"), 2);
    char path[300], text[256];
    snprintf(path, sizeof path, "%s/marker", f->dir);
    assert_string_equal(read_text(path, text, sizeof text), "shutdown m after 2 collects\n");
}

static void test_flood_of_metrics_is_capped_per_collect(void **state)
{
    fixture *f = *state;
    char keys[400];
    snprintf(keys, sizeof keys, "mode = flood\ncount = 100007\nmarker = %s/marker\n", f->dir);
    open_misbehave(f, keys, 1000);
    assert_true(run_until(f, one_collect, 10000));
    tw_plugin_stats s = stats_of(f);
    close_host(f);
    assert_int_equal(s.emitted, 100000);
    assert_int_equal(s.rejected, 7);
    char path[300], text[256];
    snprintf(path, sizeof path, "%s/marker", f->dir);
    assert_string_equal(read_text(path, text, sizeof text),
                        "last_rc -105\nshutdown m after 1 collects\n");
}

static void test_samples_the_sink_refuses_are_counted(void **state)
{
    fixture *f = *state;
    f->sink_rc = -EINVAL;
    open_misbehave(f, "mode = good\n", 50);
    assert_true(run_until(f, one_collect, 5000));
    tw_plugin_stats s = stats_of(f);
    close_host(f);
    assert_int_equal(s.emitted, 0);
    assert_int_equal(s.rejected, 2 * s.collects);
}

static void test_two_sections_of_one_library_run_separately(void **state)
{
    fixture *f = *state;
    const tw_plugin_config *pc = plugin_config(f,
                                               "[plugin a]\nlibrary = misbehave.so\nvalue = 1\n"
                                               "[plugin b]\nlibrary = misbehave.so\nvalue = 2\n",
                                               50);
    f->config.plugins[1].interval_ms = 50;
    tw_metric_sink sink = {record, f};
    tw_err err = {{0}};
    tw_plugin_host *a, *b;
    assert_int_equal(tw_plugin_host_open(&f->loop, pc, TW_TEST_PLUGIN_DIR, 0, &sink, &a, &err), 0);
    assert_int_equal(tw_plugin_host_open(&f->loop, &f->config.plugins[1], TW_TEST_PLUGIN_DIR, 0,
                                         &sink, &b, &err),
                     0);
    assert_string_equal(tw_plugin_host_name(a), "a");
    assert_string_equal(tw_plugin_host_name(b), "b");
    f->host = a;
    assert_true(run_until(f, one_collect, 5000));
    /* Closing a unloads nothing b needs (dlopen counts references). */
    tw_plugin_host_close(a, on_closed, f);
    f->host = b;
    size_t before = f->n_samples;
    assert_true(run_until(f, three_collects, 5000));
    assert_true(f->n_samples > before);
    tw_plugin_host_close(b, on_closed, f);
    drain(&f->loop);
    assert_int_equal(f->closed, 2);
    bool one = false, two = false;
    for (size_t i = 0; i < f->n_samples; i++)
        if (strcmp(f->samples[i].name, "test_value") == 0) {
            one |= f->samples[i].value == 1;
            two |= f->samples[i].value == 2;
        }
    assert_true(one && two);
}

int main(void)
{
    tw_log_init("test_plugin_host", TW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loadavg_example_sends_five_metrics_read_from_its_file,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_loadavg_example_reads_the_real_proc_loadavg, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_loadavg_example_refuses_a_missing_file_in_init,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nginx_example_sends_gauges_and_counter_increases,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nginx_example_counts_http_errors_as_failed_collects,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nginx_example_refuses_a_bad_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plugin_built_for_another_abi_is_refused_naming_both,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_without_entry_symbol_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_entry_returning_null_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_description_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_description_without_name_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_description_without_shutdown_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_library_names_the_plugin_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_that_is_not_a_shared_object_gives_dlerror_text,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_absolute_library_path_is_used_as_is, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_are_reported_with_file_and_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plugin_dir_comes_from_env_else_the_build_tree,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_failure_gives_the_plugins_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_emit_during_init_is_refused_with_eperm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_emit_from_a_plugin_thread_is_refused_with_eperm,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_metrics_breaking_cloudwatch_rules_are_rejected_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dimensions_units_and_timestamps_pass_through, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failing_collect_is_counted_and_runs_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_collect_skips_intervals_and_never_overlaps,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_of_metrics_is_capped_per_collect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_samples_the_sink_refuses_are_counted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_sections_of_one_library_run_separately, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
