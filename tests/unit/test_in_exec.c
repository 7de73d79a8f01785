/* test_in_exec.c — exec plugins running real processes on a real libuv loop
 * (plugins/in_exec/in_exec.h): a script's metrics arrive; a hanging script
 * is killed at its timeout with its children; one ignoring SIGTERM gets
 * SIGKILL while the next intervals are skipped; a non-zero exit, stderr,
 * garbage and binary output are reported and counted; a command that cannot
 * start is reported once and retried; daemon mode reads lines as they come
 * and restarts a dying script with backoff; stop kills what runs. Also the
 * command splitting and the option checks.
 *
 * The agent's log (stderr) is captured in a file per test so the messages a
 * user reads are asserted too. Scripts live in tests/data/exec/. */
#include <errno.h>
#include <fcntl.h>
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
#include <uv.h>

#include "buf.h"
#include "exec_command.h"
#include "in_exec.h"
#include "log.h"
#include "mem.h"
#include "testutil.h"
#include "timefmt.h"

#define SCRIPTS TW_SOURCE_DIR "/tests/data/exec"
#define MAX_SAMPLES 4096

typedef struct sample {
    char text[512]; /* name value unit {dims} */
    int64_t time_ms;
} sample;

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t heartbeat;
    char dir[256];
    char log_path[320];
    int saved_stderr;
    sample *samples;
    size_t n_samples;
    tw_in_exec *exec;
    bool closed;
} fixture;

static int record(void *ctx, const tw_metric_sample *s)
{
    fixture *f = ctx;
    assert_true(f->n_samples < MAX_SAMPLES);
    sample *out = &f->samples[f->n_samples++];
    int n = snprintf(out->text, sizeof out->text, "%s %.10g %s", s->name, s->value,
                     s->unit ? s->unit : "-");
    for (size_t i = 0; i < s->n_dimensions; i++)
        n += snprintf(out->text + n, sizeof out->text - (size_t)n, "%s%s=%s", i ? "," : " {",
                      s->dimensions[i].name, s->dimensions[i].value);
    if (s->n_dimensions)
        snprintf(out->text + n, sizeof out->text - (size_t)n, "}");
    out->time_ms = s->time_ms;
    assert_null(s->namespace_);
    return 0;
}

static void on_heartbeat(uv_timer_t *timer)
{
    (void)timer; /* only wakes the loop so wait_for sees time pass */
}

static int setup(void **state)
{
    fixture *f = tw_calloc(1, sizeof *f);
    f->samples = tw_calloc(MAX_SAMPLES, sizeof *f->samples);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->heartbeat);
    uv_timer_start(&f->heartbeat, on_heartbeat, 10, 10);
    assert_int_equal(tw_test_mkdtemp(f->dir, sizeof f->dir, "in-exec"), 0);
    snprintf(f->log_path, sizeof f->log_path, "%s/agent.log", f->dir);
    fflush(stderr);
    f->saved_stderr = dup(STDERR_FILENO);
    int fd = open(f->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    tw_log_set_level(TW_LOG_INFO);
    *state = f;
    return 0;
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return tw_strdup("");
    tw_buf b = TW_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        tw_buf_append(&b, chunk, n);
    fclose(fp);
    return b.data ? tw_buf_steal(&b) : tw_strdup("");
}

static void on_closed(void *ctx)
{
    ((fixture *)ctx)->closed = true;
}

static bool wait_for(fixture *f, bool (*done)(fixture *), uint64_t max_ms)
{
    uv_update_time(&f->loop);
    uint64_t deadline = uv_now(&f->loop) + max_ms;
    while (!done(f) && uv_now(&f->loop) < deadline)
        uv_run(&f->loop, UV_RUN_ONCE);
    return done(f);
}

static bool is_closed(fixture *f)
{
    return f->closed;
}

static void stop_exec(fixture *f)
{
    if (f->exec == NULL)
        return;
    tw_in_exec_stop(f->exec, on_closed, f);
    assert_true(wait_for(f, is_closed, 10000));
    f->exec = NULL;
    f->closed = false;
}

static int teardown(void **state)
{
    fixture *f = *state;
    stop_exec(f);
    uv_close((uv_handle_t *)&f->heartbeat, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    /* Every handle of the input was closed. */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fflush(stderr);
    dup2(f->saved_stderr, STDERR_FILENO);
    close(f->saved_stderr);
    char *log = read_text(f->log_path);
    printf("---- agent log ----\n%s-------------------\n", log);
    free(log);
    tw_test_rm_rf(f->dir);
    free(f->samples);
    free(f);
    return 0;
}

static tw_in_exec_stats stats_of(const fixture *f)
{
    tw_in_exec_stats s;
    tw_in_exec_get_stats(f->exec, &s);
    return s;
}

static void start(fixture *f, tw_in_exec_options *o)
{
    tw_metric_sink sink = {record, f};
    if (o->name == NULL)
        o->name = "test";
    if (o->hostname == NULL)
        o->hostname = "testhost";
    tw_err err = {{0}};
    int rc = tw_in_exec_start(&f->loop, o, &sink, &f->exec, &err);
    if (rc != 0)
        print_error("tw_in_exec_start: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static const sample *find_sample(const fixture *f, const char *prefix)
{
    for (size_t i = 0; i < f->n_samples; i++)
        if (strncmp(f->samples[i].text, prefix, strlen(prefix)) == 0)
            return &f->samples[i];
    return NULL;
}

static void assert_sample(const fixture *f, const char *text)
{
    for (size_t i = 0; i < f->n_samples; i++)
        if (strcmp(f->samples[i].text, text) == 0)
            return;
    print_error("no sample \"%s\"; got:\n", text);
    for (size_t i = 0; i < f->n_samples; i++)
        print_error("  %s\n", f->samples[i].text);
    fail();
}

static size_t count_in(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The log has needle exactly times times (SOME: at least once). */
#define SOME SIZE_MAX
static void assert_log_has(const fixture *f, const char *needle, size_t times)
{
    char *log = read_text(f->log_path);
    size_t n = count_in(log, needle);
    free(log);
    bool ok = times == SOME ? n >= 1 : n == times;
    if (!ok)
        print_error("the log has \"%s\" %zu times\n", needle, n);
    assert_true(ok);
}

/* Gone: no /proc entry, or a zombie waiting for whoever adopted it. */
static bool process_gone(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = read_text(path);
    const char *paren = strrchr(stat, ')');
    bool gone = stat[0] == '\0' || (paren && (paren[2] == 'Z' || paren[2] == 'X'));
    free(stat);
    return gone;
}

/* Every pid the scripts wrote into DIR/pids is gone. Returns how many. */
static size_t assert_pids_gone(const fixture *f)
{
    char path[320];
    snprintf(path, sizeof path, "%s/pids", f->dir);
    char *text = read_text(path);
    size_t n = 0;
    for (char *p = text, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        n++;
        /* A killed process closes its files (our pipes see EOF) a moment
         * before it is a zombie: give it that moment. */
        for (int i = 0; i < 100 && !process_gone((pid_t)pid); i++)
            usleep(10000);
        if (!process_gone((pid_t)pid))
            print_error("process %ld is still there\n", pid);
        assert_true(process_gone((pid_t)pid));
    }
    free(text);
    return n;
}

static char *command(const fixture *f, const char *script)
{
    tw_buf b = TW_BUF_INIT;
    tw_buf_printf(&b, "%s/%s '%s'", SCRIPTS, script, f->dir);
    return tw_buf_steal(&b);
}

static bool first_run_ended(fixture *f)
{
    return stats_of(f).ended >= 1;
}

/* ---- periodic mode -------------------------------------------------------- */

static void test_script_metrics_arrive_with_the_run_start_time(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "metrics.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 60000};
    int leak[2];
    assert_int_equal(pipe(leak), 0); /* no O_CLOEXEC, as libcurl leaves its sockets */
    char leak_fd[16];
    snprintf(leak_fd, sizeof leak_fd, "%d", leak[1]);
    setenv("TW_TEST_LEAK_FD", leak_fd, 1);
    int64_t before = tw_time_now_ms();
    start(f, &o);
    unsetenv("TW_TEST_LEAK_FD");
    assert_true(wait_for(f, first_run_ended, 5000));
    int64_t after = tw_time_now_ms();

    assert_sample(f, "queue_depth 42 Count {queue=emails,host_role=worker}");
    assert_sample(f, "args_seen 1 Count");
    assert_sample(f, "interval_seen 60 Seconds");         /* COLLECTD_INTERVAL=60.000 */
    assert_sample(f, "app_gauge_jobs 7 - {instance=x}"); /* COLLECTD_HOSTNAME=testhost */
    assert_sample(f, "stdin_read_status 1 None");         /* stdin is /dev/null */
    assert_sample(f, "own_process_group 1 -");
    assert_sample(f, "no_newline_at_end 5 -");
    assert_sample(f, "inherited_fd 0 -");
    assert_int_equal(f->n_samples, 8);
    close(leak[0]);
    close(leak[1]);
    for (size_t i = 0; i < f->n_samples; i++) {
        assert_true(f->samples[i].time_ms >= before && f->samples[i].time_ms <= after);
        assert_int_equal(f->samples[i].time_ms, f->samples[0].time_ms);
    }
    tw_in_exec_stats s = stats_of(f);
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.lines, 10);
    assert_int_equal(s.bad_lines, 0);
    assert_int_equal(s.metrics, 8);
    assert_int_equal(s.exit_errors + s.signal_errors + s.timeouts + s.spawn_errors, 0);
    assert_false(s.running);
    assert_log_has(f, "exec test: notification (warning): queue is getting long", 1);
    free(cmd);
}

static bool has_before_hang(fixture *f)
{
    return find_sample(f, "before_hang ") != NULL;
}

static void test_hanging_script_is_killed_at_its_timeout_with_its_children(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "hang.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 30000, .timeout_ms = 500};
    start(f, &o);
    uv_update_time(&f->loop);
    uint64_t t0 = uv_now(&f->loop);
    assert_true(wait_for(f, first_run_ended, 5000));
    uint64_t took = uv_now(&f->loop) - t0;
    /* SIGTERM at 0.5 s was enough: no wait for the SIGKILL 2 s later. */
    assert_true(took >= 450 && took < 2000);

    assert_int_equal(assert_pids_gone(f), 2); /* the script and its `sleep 1000 &` */
    assert_sample(f, "before_hang 1 -");        /* printed before the kill: kept */
    tw_in_exec_stats s = stats_of(f);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.signal_errors, 0);
    assert_log_has(f, "exec test: timed out after 500ms: its process group was killed; 1 line "
                      "read before that is kept", 1);
    free(cmd);
}

static bool two_runs_ended(fixture *f)
{
    return stats_of(f).ended >= 2;
}

static void test_script_ignoring_sigterm_gets_sigkill_and_overlapping_intervals_are_skipped(
    void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "hang_ignoring_term.sh");
    tw_in_exec_options o = {
        .command = cmd, .interval_ms = 400, .timeout_ms = 400, .kill_grace_ms = 300};
    start(f, &o);
    assert_true(wait_for(f, two_runs_ended, 5000));
    stop_exec(f);
    /* Each run: SIGTERM at 0.4 s (ignored), SIGKILL at 0.7 s; the tick at
     * 0.4 s found it still running. */
    assert_true(assert_pids_gone(f) >= 4);
    char *log = read_text(f->log_path);
    assert_true(count_in(log, "timed out after 400ms") >= 1);
    assert_true(count_in(log, "the previous run is still going") >= 1);
    free(log);
    assert_true(f->n_samples >= 2);
    free(cmd);
}

static void test_skipped_intervals_are_counted(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "hang_ignoring_term.sh");
    tw_in_exec_options o = {
        .command = cmd, .interval_ms = 400, .timeout_ms = 400, .kill_grace_ms = 300};
    start(f, &o);
    assert_true(wait_for(f, two_runs_ended, 5000));
    tw_in_exec_stats s = stats_of(f);
    assert_true(s.skipped >= 1);
    assert_true(s.timeouts >= 2);
    /* Never two at once: every run but the current one ended. */
    assert_true(s.runs - s.ended <= 1);
    free(cmd);
}

static void test_nonzero_exit_is_reported_with_stderr_and_metrics_kept(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "fail.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 60000, .name = "failing"};
    start(f, &o);
    assert_true(wait_for(f, first_run_ended, 5000));
    assert_sample(f, "partial_metric 3 Count");
    tw_in_exec_stats s = stats_of(f);
    assert_int_equal(s.exit_errors, 1);
    assert_int_equal(s.stderr_lines, 12);
    assert_log_has(f, "exec failing: exited with status 2 after", 1);
    assert_log_has(f, "last stderr line: \"problem number 12\"", 1);
    assert_log_has(f, "exec failing: stderr: problem number", 10);
    assert_log_has(f, "exec failing: 2 more stderr lines in this run not logged", 1);
    free(cmd);
}

static bool five_runs_ended(fixture *f)
{
    return stats_of(f).ended >= 5;
}

/* Every 200 ms the same failure with 12 stderr lines: the log gets the first
 * run's 10 lines and one report, then counts until a minute has passed. */
static void test_command_failing_every_interval_does_not_flood_the_log(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "fail.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 200, .name = "flood"};
    start(f, &o);
    assert_true(wait_for(f, five_runs_ended, 5000));
    tw_in_exec_stats s = stats_of(f);
    assert_true(s.exit_errors >= 5);
    assert_true(s.stderr_lines >= 60);
    assert_log_has(f, "exec flood: stderr: problem number", 10);
    assert_log_has(f, "exec flood: exited with status 2", 1);
    assert_log_has(f, "not logged", 0);
    stop_exec(f);
    assert_log_has(f, "more stderr lines in the last ", 1);
    free(cmd);
}

static bool three_runs_ended(fixture *f)
{
    return stats_of(f).ended >= 3;
}

static void test_recovery_after_a_failure_is_logged(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "flaky.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 150};
    start(f, &o);
    assert_true(wait_for(f, three_runs_ended, 5000));
    assert_int_equal(stats_of(f).exit_errors, 1);
    assert_true(f->n_samples >= 2);
    assert_log_has(f, "exec test: exited with status 1", 1);
    assert_log_has(f, "exec test: ran successfully again after 1 run that did not", 1);
    free(cmd);
}

static void test_garbage_and_binary_lines_are_counted_and_the_rest_kept(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "garbage.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 60000};
    start(f, &o);
    assert_true(wait_for(f, first_run_ended, 5000));
    assert_sample(f, "good_one 1 -");
    assert_sample(f, "good_two 2 -");
    assert_int_equal(f->n_samples, 2);
    tw_in_exec_stats s = stats_of(f);
    assert_int_equal(s.lines, 21);
    assert_int_equal(s.bad_lines, 19);
    assert_int_equal(s.exit_errors, 0);
    assert_log_has(f, "line 2: value \"a\" is not a decimal number: \"not a metric line\"", 1);
    assert_log_has(f, "line 3: value \"binary\" is not a decimal number: "
                      "\"\\x01\\x02\\xff\\xfe binary\"",
                   1);
    assert_log_has(f, "line 4: a NUL byte at offset 3: \"nul\\x00inside 1\"", 1);
    assert_log_has(f, "line 5: longer than 65536 bytes: cut and not parsed: \"aaaa", 1);
    assert_log_has(f, "exec test: 9 more bad lines in this run not logged", 1);
    free(cmd);
}

static bool three_spawn_errors(fixture *f)
{
    return stats_of(f).spawn_errors >= 3;
}

static void assert_cannot_start(fixture *f, const char *cmd, const char *why)
{
    tw_in_exec_options o = {.command = cmd, .interval_ms = 150, .name = "broken"};
    start(f, &o);
    assert_true(wait_for(f, three_spawn_errors, 5000));
    tw_in_exec_stats s = stats_of(f);
    assert_int_equal(s.runs, 0);
    stop_exec(f);
    /* Reported at the first failure, then at most once a minute. */
    assert_log_has(f, why, 1);
}

static void test_command_that_cannot_start_is_reported_and_retried(void **state)
{
    fixture *f = *state;
    char path[320];
    snprintf(path, sizeof path, "%s/not-executable.sh", f->dir);
    tw_test_write_file(path, "#!/bin/sh\necho x 1\n");
    chmod(path, 0644);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "'%s'", path);
    char why[500];
    snprintf(why, sizeof why, "exec broken: cannot start %s: permission denied", path);
    assert_cannot_start(f, cmd, why);
    assert_cannot_start(f, "/nonexistent/tw-command --flag",
                        "exec broken: cannot start /nonexistent/tw-command: no such file");
    assert_cannot_start(f, "tw-no-such-command-here",
                        "exec broken: cannot start tw-no-such-command-here: not found in PATH");
}

static void test_nagios_check_exit_status_is_a_metric(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "nagios_check.sh");
    tw_in_exec_options o = {
        .command = cmd, .interval_ms = 60000, .name = "disk", .format = TW_EXEC_FORMAT_NAGIOS};
    start(f, &o);
    assert_true(wait_for(f, first_run_ended, 5000));
    assert_sample(f, "disk_/ 900 Megabytes");
    assert_sample(f, "disk_status 1 None");
    assert_int_equal(f->n_samples, 2);
    assert_int_equal(f->samples[0].time_ms, f->samples[1].time_ms);
    assert_int_equal(stats_of(f).exit_errors, 1);
    assert_log_has(f, "exec disk: check is WARNING (exit status 1): DISK WARNING - free space: "
                      "/ 100 MB (10%)",
                   1);
    free(cmd);
}

static bool one_spawn_error(fixture *f)
{
    return stats_of(f).spawn_errors >= 1;
}

/* A check that hangs is CRITICAL (as Nagios has it by default); one that
 * cannot start is UNKNOWN. */
static void test_nagios_status_of_a_timeout_and_of_a_failed_start(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "hang.sh");
    tw_in_exec_options o = {.command = cmd,
                            .interval_ms = 30000,
                            .timeout_ms = 300,
                            .name = "hung",
                            .format = TW_EXEC_FORMAT_NAGIOS};
    start(f, &o);
    assert_true(wait_for(f, first_run_ended, 5000));
    assert_int_equal(f->n_samples, 1); /* "before_hang 1" is the check's text */
    assert_sample(f, "hung_status 2 None");
    stop_exec(f);
    assert_int_equal(assert_pids_gone(f), 2);

    f->n_samples = 0;
    o.command = "/nonexistent/check_nothing";
    start(f, &o);
    assert_true(wait_for(f, one_spawn_error, 5000));
    assert_int_equal(f->n_samples, 1);
    assert_sample(f, "hung_status 3 None");
    free(cmd);
}

static void test_background_process_holding_the_output_is_killed_at_the_timeout(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "leftover.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 30000, .timeout_ms = 500};
    start(f, &o);
    assert_true(wait_for(f, first_run_ended, 5000));
    assert_sample(f, "printed_before_exit 1 -");
    assert_int_equal(assert_pids_gone(f), 1);
    assert_int_equal(stats_of(f).timeouts, 1);
    assert_log_has(f, "processes it left in the background kept its output open", 1);
    free(cmd);
}

static void test_stop_kills_the_running_process_and_calls_closed(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "hang.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 30000};
    start(f, &o);
    assert_true(wait_for(f, has_before_hang, 5000));
    assert_true(stats_of(f).running);
    uv_update_time(&f->loop);
    uint64_t t0 = uv_now(&f->loop);
    tw_in_exec_stop(f->exec, on_closed, f);
    assert_true(wait_for(f, is_closed, 5000));
    f->exec = NULL;
    f->closed = false;
    assert_true(uv_now(&f->loop) - t0 < 2000); /* SIGTERM was enough */
    assert_int_equal(assert_pids_gone(f), 2);
    assert_log_has(f, "timed out", 0);
    assert_log_has(f, "killed by signal", 0);
    free(cmd);
}

/* ---- daemon mode ------------------------------------------------------------ */

static bool five_samples(fixture *f)
{
    return f->n_samples >= 5;
}

static void test_daemon_lines_are_parsed_as_they_come(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "daemon_loop.sh");
    tw_in_exec_options o = {.command = cmd, .interval_ms = 1000, .mode = TW_EXEC_MODE_DAEMON};
    start(f, &o);
    assert_true(wait_for(f, five_samples, 5000));
    for (size_t i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "loop_counter %zu -", i);
        assert_string_equal(f->samples[i].text, want);
        if (i > 0)
            assert_true(f->samples[i].time_ms >= f->samples[i - 1].time_ms);
    }
    /* Stamped when each line came, 0.1 s apart, not all at the start. */
    assert_true(f->samples[4].time_ms - f->samples[0].time_ms >= 300);
    tw_in_exec_stats s = stats_of(f);
    assert_int_equal(s.runs, 1);
    assert_true(s.running);

    char path[320];
    snprintf(path, sizeof path, "%s/daemon.pid", f->dir);
    char *pid_text = read_text(path);
    pid_t pid = (pid_t)atol(pid_text);
    free(pid_text);
    assert_true(pid > 0 && !process_gone(pid));
    stop_exec(f);
    assert_true(process_gone(pid));
    assert_log_has(f, "exited", 0);
    free(cmd);
}

static bool five_starts(fixture *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_samples; i++)
        n += strcmp(f->samples[i].text, "started 1 -") == 0;
    return n >= 5;
}

static void test_dying_daemon_is_restarted_with_backoff(void **state)
{
    fixture *f = *state;
    char *cmd = command(f, "daemon_die.sh");
    tw_in_exec_options o = {.command = cmd,
                            .interval_ms = 1000,
                            .mode = TW_EXEC_MODE_DAEMON,
                            .restart_min_ms = 100,
                            .restart_max_ms = 400};
    start(f, &o);
    assert_true(wait_for(f, five_starts, 5000));
    /* Delays 0.1, 0.2, 0.4, then 0.4 again (the cap). */
    int64_t gap[4];
    for (size_t i = 0; i < 4; i++) {
        gap[i] = f->samples[i + 1].time_ms - f->samples[i].time_ms;
        printf("gap %zu: %lld ms\n", i, (long long)gap[i]);
    }
    assert_true(gap[0] >= 95 && gap[0] < 350);
    assert_true(gap[1] >= 195 && gap[1] < 450);
    assert_true(gap[2] >= 395 && gap[2] < 650);
    assert_true(gap[3] >= 395 && gap[3] < 650);
    tw_in_exec_stats s = stats_of(f);
    assert_true(s.runs >= 5);
    assert_int_equal(s.restarts, s.runs - 1);
    assert_true(s.exit_errors >= 4);
    assert_log_has(f, "exec test: exited with status 3 after", 1);
    assert_log_has(f, "last stderr line: \"dying\"; starting it again in 100ms", 1);
    free(cmd);
}

/* ---- commands and options ---------------------------------------------------- */

static void assert_split(const char *command_text, const char *const *want)
{
    char **argv;
    tw_err err = {{0}};
    int rc = tw_exec_command_split(command_text, &argv, &err);
    if (rc != 0)
        print_error("%s: %s\n", command_text, err.msg);
    assert_int_equal(rc, 0);
    size_t i = 0;
    for (; want[i]; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
    tw_exec_command_free(argv);
}

static void assert_split_fails(const char *command_text, const char *message)
{
    char **argv = (char **)1;
    tw_err err = {{0}};
    assert_int_equal(tw_exec_command_split(command_text, &argv, &err), -EINVAL);
    assert_null(argv);
    if (strstr(err.msg, message) == NULL)
        print_error("%s: \"%s\", wanted \"%s\"\n", command_text, err.msg, message);
    assert_non_null(strstr(err.msg, message));
}

static void test_command_is_split_like_a_shell_without_one(void **state)
{
    (void)state;
    assert_split("/bin/echo a  b", (const char *const[]){"/bin/echo", "a", "b", NULL});
    assert_split("cmd 'a b' \"c \\\"d\\\" \\$x \\n\" e\\ f",
                 (const char *const[]){"cmd", "a b", "c \"d\" $x \\n", "e f", NULL});
    assert_split("cmd '' x\"y\"'z'", (const char *const[]){"cmd", "", "xyz", NULL});
    assert_split("cmd $HOME '*' ~", (const char *const[]){"cmd", "$HOME", "*", "~", NULL});
    assert_split("cmd \\\n  --next\n  --line",
                 (const char *const[]){"cmd", "--next", "--line", NULL});
    assert_split("sh -c 'df -P | tail -1'", (const char *const[]){"sh", "-c", "df -P | tail -1",
                                                                    NULL});
    assert_split("grep '|' file", (const char *const[]){"grep", "|", "file", NULL});
    assert_split_fails("", "command: empty");
    assert_split_fails("   \n ", "command: empty");
    assert_split_fails("cmd 'open", "single quote is never closed");
    assert_split_fails("cmd \"open", "double quote is never closed");
    assert_split_fails("cmd \\", "a backslash ends it");
    assert_split_fails("df -P | tail -1", "\"|\" would reach the program as an argument");
    assert_split_fails("cmd > /tmp/x", "use sh -c '...'");
    assert_split_fails("cmd 2>&1", "\"2>&1\"");
    assert_split_fails("'' x", "the program name is empty");
}

static void test_options_are_checked(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    tw_in_exec_options o = {.name = "x", .command = "/bin/true", .interval_ms = 60000,
                            .timeout_ms = 90000};
    assert_int_equal(tw_in_exec_check_options(&o, &err), -EINVAL);
    assert_string_equal(err.msg, "timeout: 90s is longer than the interval (60s): a run must "
                                 "end before the next one starts");
    o.timeout_ms = 0;
    assert_int_equal(tw_in_exec_check_options(&o, &err), 0);
    o.mode = TW_EXEC_MODE_DAEMON;
    o.format = TW_EXEC_FORMAT_NAGIOS;
    assert_int_equal(tw_in_exec_check_options(&o, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "format: nagios needs mode = periodic"));
    o.format = TW_EXEC_FORMAT_COLLECTD;
    o.command = "a | b";
    tw_metric_sink sink = {record, f};
    tw_in_exec *exec = NULL;
    assert_int_equal(tw_in_exec_start(&f->loop, &o, &sink, &exec, &err), -EINVAL);
    assert_null(exec);
    assert_non_null(strstr(err.msg, "command: \"|\""));

    tw_exec_mode m;
    assert_int_equal(tw_exec_mode_parse("daemon", &m), 0);
    assert_int_equal(m, TW_EXEC_MODE_DAEMON);
    assert_int_equal(tw_exec_mode_parse("cron", &m), -EINVAL);
    assert_string_equal(tw_exec_mode_name(TW_EXEC_MODE_PERIODIC), "periodic");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_script_metrics_arrive_with_the_run_start_time),
        T(test_hanging_script_is_killed_at_its_timeout_with_its_children),
        T(test_script_ignoring_sigterm_gets_sigkill_and_overlapping_intervals_are_skipped),
        T(test_skipped_intervals_are_counted),
        T(test_nonzero_exit_is_reported_with_stderr_and_metrics_kept),
        T(test_command_failing_every_interval_does_not_flood_the_log),
        T(test_recovery_after_a_failure_is_logged),
        T(test_garbage_and_binary_lines_are_counted_and_the_rest_kept),
        T(test_command_that_cannot_start_is_reported_and_retried),
        T(test_nagios_check_exit_status_is_a_metric),
        T(test_nagios_status_of_a_timeout_and_of_a_failed_start),
        T(test_background_process_holding_the_output_is_killed_at_the_timeout),
        T(test_stop_kills_the_running_process_and_calls_closed),
        T(test_daemon_lines_are_parsed_as_they_come),
        T(test_dying_daemon_is_restarted_with_backoff),
        T(test_command_is_split_like_a_shell_without_one),
        T(test_options_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
