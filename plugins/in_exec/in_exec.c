/* in_exec.c — the exec input's runner: spawning the command on the libuv
 * loop in its own process group, reading its stdout and stderr line by line,
 * the timeout and kill sequence, periodic and daemon scheduling, failure
 * reports and counters. Line cutting is exec_lines.c's, parsing
 * exec_parse.c's, command splitting exec_command.c's. See in_exec.h.
 */
#include "in_exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "exec_command.h"
#include "exec_lines.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

extern char **environ;

/* How many stderr lines, bad lines and notifications are logged per log
 * window before the rest are only counted: a window is one run when the
 * interval is a minute or more, else a minute (so a command failing every
 * second does not flood the log). */
#define LOG_BUDGET 10
#define LOG_WINDOW_MS 60000
/* The same failure is logged again after this long at the earliest. */
#define REPORT_REPEAT_MS 60000
#define READ_BUFFER_SIZE 16384

typedef enum report_kind {
    REPORT_SPAWN,
    REPORT_EXIT,
    REPORT_SIGNAL,
    REPORT_TIMEOUT,
    REPORT_SKIP,
    REPORT_KINDS,
} report_kind;

/* The last report of one kind, for the once-a-minute limit. */
typedef struct report_memory {
    bool logged;
    int code;
    uint64_t at_ms;
    uint64_t suppressed;
} report_memory;

typedef struct exec_run exec_run;

struct tw_in_exec {
    uv_loop_t *loop;
    char *name;
    char **argv;
    char **env;
    uint64_t interval_ms, timeout_ms, grace_ms, restart_min_ms, restart_max_ms;
    uint64_t restart_delay_ms;
    tw_exec_mode mode;
    tw_exec_format format;
    tw_exec_parser parser;
    uv_timer_t tick;    /* periodic: each run; daemon: the log budget window */
    uv_timer_t restart; /* daemon: the backoff before the next start */
    exec_run *run;      /* the run whose output is being read, or NULL */
    size_t runs_alive;  /* runs not yet freed (their handles may be closing) */
    int timers_open;
    char *read_buffer;
    tw_in_exec_stats stats;
    /* Log budgets, per window. */
    bool window_open;
    uint64_t window_start_ms;
    unsigned stderr_logged, bad_logged, notes_logged;
    uint64_t stderr_dropped, bad_dropped, notes_dropped;
    /* Failure reports. */
    report_memory reports[REPORT_KINDS];
    uint64_t failures_in_a_row;
    bool stopping;
    bool leftovers_reported;
    void (*closed)(void *ctx);
    void *closed_ctx;
    char hostname[256];
};

struct exec_run {
    tw_in_exec *exec;
    uv_process_t process;
    uv_pipe_t out, err;
    uv_timer_t timer; /* the timeout, then the kill sequence */
    int open_handles;
    int64_t start_ms;       /* wall clock: the samples' time */
    uint64_t start_loop_ms; /* loop clock: durations */
    tw_exec_lines out_lines, err_lines;
    uint64_t line_no;
    bool exited, finished, timed_out, stop_requested;
    bool leftovers; /* exited, but what it started kept its output open */
    int kill_stage; /* 0 none, 1 SIGTERM sent, 2 SIGKILL sent, 3 pipes forced shut */
    int64_t exit_status;
    int term_signal;
    char last_stderr[TW_EXEC_ESCAPED_SIZE];
};

static void start_run(tw_in_exec *x);

/* ---- options ------------------------------------------------------------ */

static const char *const mode_names[] = {"periodic", "daemon"};

int tw_exec_mode_parse(const char *name, tw_exec_mode *out)
{
    for (size_t i = 0; i < 2; i++) {
        if (name && strcmp(name, mode_names[i]) == 0) {
            *out = (tw_exec_mode)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *tw_exec_mode_name(tw_exec_mode mode)
{
    return (size_t)mode < 2 ? mode_names[mode] : "?";
}

static void format_duration(uint64_t ms, char *out, size_t size)
{
    if (ms < 1000)
        snprintf(out, size, "%llums", (unsigned long long)ms);
    else if (ms % 1000 == 0)
        snprintf(out, size, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(out, size, "%.1fs", (double)ms / 1000.0);
}

static uint64_t or_default(uint64_t value, uint64_t fallback)
{
    return value != 0 ? value : fallback;
}

int tw_in_exec_check_options(const tw_in_exec_options *o, tw_err *err)
{
    const char *name = o->name ? o->name : "";
    if (name[0] == '\0')
        return tw_err_set(err, -EINVAL, "an exec input needs a name");
    char **argv;
    if (tw_exec_command_split(o->command, &argv, err) != 0)
        return -EINVAL;
    tw_exec_command_free(argv);
    uint64_t interval = or_default(o->interval_ms, TW_IN_EXEC_DEFAULT_INTERVAL_MS);
    if (o->timeout_ms > interval) {
        char timeout[32], every[32];
        format_duration(o->timeout_ms, timeout, sizeof timeout);
        format_duration(interval, every, sizeof every);
        return tw_err_set(err, -EINVAL,
                          "timeout: %s is longer than the interval (%s): a run must end "
                          "before the next one starts",
                          timeout, every);
    }
    if ((unsigned)o->mode > TW_EXEC_MODE_DAEMON || (unsigned)o->format > TW_EXEC_FORMAT_NAGIOS)
        return tw_err_set(err, -EINVAL, "unknown mode or format");
    if (o->mode == TW_EXEC_MODE_DAEMON && o->format == TW_EXEC_FORMAT_NAGIOS)
        return tw_err_set(err, -EINVAL,
                          "format: nagios needs mode = periodic: a Nagios check reports "
                          "through its exit status, once per run");
    return 0;
}

/* The agent's environment, with collectd's two variables set as collectd
 * sets them ("%.3f" seconds, the host name). */
static char **build_env(const tw_in_exec *x)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **env = tw_calloc(n + 3, sizeof *env);
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "COLLECTD_INTERVAL=", 18) != 0 &&
            strncmp(*e, "COLLECTD_HOSTNAME=", 18) != 0)
            env[k++] = tw_strdup(*e);
    tw_buf b = TW_BUF_INIT;
    tw_buf_printf(&b, "COLLECTD_INTERVAL=%.3f", (double)x->interval_ms / 1000.0);
    env[k++] = tw_buf_steal(&b);
    tw_buf_printf(&b, "COLLECTD_HOSTNAME=%s", x->hostname);
    env[k++] = tw_buf_steal(&b);
    env[k] = NULL;
    return env;
}

/* ---- logging ------------------------------------------------------------ */

/* Logs a failure unless the same one was logged less than a minute ago;
 * those are counted and mentioned with the next report. */
static void report(tw_in_exec *x, tw_log_level level, report_kind kind, int code,
                   const char *fmt, ...) TW_PRINTF(5, 6);

static void report(tw_in_exec *x, tw_log_level level, report_kind kind, int code,
                   const char *fmt, ...)
{
    report_memory *last = &x->reports[kind];
    uint64_t now = uv_now(x->loop);
    if (last->logged && last->code == code && now - last->at_ms < REPORT_REPEAT_MS) {
        last->suppressed++;
        return;
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (last->suppressed > 0)
        tw_log(level, "exec %s: %s (%llu similar report%s in between not logged)", x->name, text,
               (unsigned long long)last->suppressed, last->suppressed == 1 ? "" : "s");
    else
        tw_log(level, "exec %s: %s", x->name, text);
    *last = (report_memory){.logged = true, .code = code, .at_ms = now};
}

static void open_log_window(tw_in_exec *x)
{
    if (!x->window_open) {
        x->window_open = true;
        x->window_start_ms = uv_now(x->loop);
    }
}

static uint64_t log_window_age(const tw_in_exec *x)
{
    return x->window_open ? uv_now(x->loop) - x->window_start_ms : 0;
}

/* Says how many lines the budget kept out of the log, and closes the
 * window: the next line opens a new one. */
static void close_log_window(tw_in_exec *x, bool one_run)
{
    if (!x->window_open)
        return;
    char period[48] = "in this run";
    if (!one_run) {
        char age[32];
        format_duration(log_window_age(x), age, sizeof age);
        snprintf(period, sizeof period, "in the last %s", age);
    }
    static const char *const what[] = {"stderr line", "bad line", "notification"};
    const uint64_t dropped[] = {x->stderr_dropped, x->bad_dropped, x->notes_dropped};
    for (size_t i = 0; i < 3; i++)
        if (dropped[i] > 0)
            tw_warn("exec %s: %llu more %s%s %s not logged", x->name,
                    (unsigned long long)dropped[i], what[i], dropped[i] == 1 ? "" : "s", period);
    x->stderr_logged = x->bad_logged = x->notes_logged = 0;
    x->stderr_dropped = x->bad_dropped = x->notes_dropped = 0;
    x->window_open = false;
}

static void bad_line(exec_run *run, const char *why, const char *line, size_t len)
{
    tw_in_exec *x = run->exec;
    x->stats.bad_lines++;
    open_log_window(x);
    if (x->bad_logged >= LOG_BUDGET) {
        x->bad_dropped++;
        return;
    }
    x->bad_logged++;
    char shown[TW_EXEC_ESCAPED_SIZE];
    tw_exec_escape(line, len, shown, sizeof shown);
    tw_warn("exec %s: line %llu: %s: \"%s\"", x->name, (unsigned long long)run->line_no, why,
            shown);
}

static void on_notification(void *ctx, const char *severity, const char *message)
{
    tw_in_exec *x = ctx;
    open_log_window(x);
    if (x->notes_logged >= LOG_BUDGET) {
        x->notes_dropped++;
        return;
    }
    x->notes_logged++;
    char shown[TW_EXEC_ESCAPED_SIZE];
    tw_exec_escape(message, strlen(message), shown, sizeof shown);
    tw_log_level level = strcasecmp(severity, "okay") == 0     ? TW_LOG_INFO
                         : strcasecmp(severity, "warning") == 0 ? TW_LOG_WARN
                                                                : TW_LOG_ERROR;
    tw_log(level, "exec %s: notification (%s): %s", x->name, severity, shown);
}

/* ---- reading ------------------------------------------------------------ */

static void on_stdout_line(void *ctx, const char *line, size_t len, bool cut)
{
    exec_run *run = ctx;
    tw_in_exec *x = run->exec;
    x->stats.lines++;
    run->line_no++;
    if (cut) {
        bad_line(run, "longer than 65536 bytes: cut and not parsed", line, len);
        return;
    }
    x->parser.now_ms = tw_time_now_ms();
    if (x->mode == TW_EXEC_MODE_DAEMON)
        x->parser.default_time_ms = x->parser.now_ms;
    char why[TW_EXEC_WHY_SIZE];
    if (tw_exec_parse_line(&x->parser, line, len, why, sizeof why) != 0)
        bad_line(run, why, line, len);
}

static void on_stderr_line(void *ctx, const char *line, size_t len, bool cut)
{
    exec_run *run = ctx;
    tw_in_exec *x = run->exec;
    x->stats.stderr_lines++;
    while (len > 0 && line[len - 1] == '\r')
        len--;
    tw_exec_escape(line, len, run->last_stderr, sizeof run->last_stderr);
    open_log_window(x);
    if (x->stderr_logged >= LOG_BUDGET) {
        x->stderr_dropped++;
        return;
    }
    x->stderr_logged++;
    tw_warn("exec %s: stderr: %s%s", x->name, run->last_stderr, cut ? " (cut at 64 KiB)" : "");
}

static void maybe_finish(exec_run *run);

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    exec_run *run = handle->data;
    *buf = uv_buf_init(run->exec->read_buffer, READ_BUFFER_SIZE);
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    exec_run *run = stream->data;
    bool is_out = stream == (uv_stream_t *)&run->out;
    tw_exec_lines *r = is_out ? &run->out_lines : &run->err_lines;
    tw_exec_line_fn *fn = is_out ? on_stdout_line : on_stderr_line;
    if (n > 0) {
        tw_exec_lines_feed(r, buf->base, (size_t)n, fn, run);
    } else if (n < 0) {
        /* UV_EOF, or a read error, which ends the stream all the same. */
        uv_read_stop(stream);
        tw_exec_lines_end(r, fn, run);
        maybe_finish(run);
    }
}

/* ---- the kill sequence --------------------------------------------------- */

static void kill_group(exec_run *run, int sig)
{
    /* kill(0 or -1, ...) would hit the agent's own group, or everything. */
    if (run->process.pid <= 1)
        return;
    /* With UV_PROCESS_DETACHED the child called setsid(): its pid is the
     * group id of everything it started that did not leave the group (the
     * id stays taken while any member lives, even after the leader). */
    if (kill(-run->process.pid, sig) != 0 && errno != ESRCH)
        tw_warn("exec %s: kill(-%d, %s): %s", run->exec->name, run->process.pid,
                sig == SIGKILL ? "SIGKILL" : "SIGTERM", strerror(errno));
}

static void on_run_timer(uv_timer_t *timer)
{
    exec_run *run = timer->data;
    tw_in_exec *x = run->exec;
    switch (run->kill_stage) {
    case 0:
        if (!run->stop_requested && run->exited)
            run->leftovers = true;
        else if (!run->stop_requested)
            run->timed_out = true;
        kill_group(run, SIGTERM);
        run->kill_stage = 1;
        uv_timer_start(&run->timer, on_run_timer, x->grace_ms, 0);
        break;
    case 1:
        kill_group(run, SIGKILL);
        run->kill_stage = 2;
        uv_timer_start(&run->timer, on_run_timer, x->grace_ms, 0);
        break;
    default:
        /* Whatever still holds the pipes left the process group (setsid):
         * stop waiting for it. */
        run->kill_stage = 3;
        uv_read_stop((uv_stream_t *)&run->out);
        uv_read_stop((uv_stream_t *)&run->err);
        tw_exec_lines_end(&run->out_lines, on_stdout_line, run);
        tw_exec_lines_end(&run->err_lines, on_stderr_line, run);
        maybe_finish(run);
        break;
    }
}

static void kill_run(exec_run *run)
{
    run->stop_requested = true;
    if (run->kill_stage == 0) {
        uv_timer_stop(&run->timer);
        on_run_timer(&run->timer);
    }
}

/* ---- the end of a run ---------------------------------------------------- */

static void maybe_closed(tw_in_exec *x)
{
    if (!x->stopping || x->runs_alive > 0 || x->timers_open > 0)
        return;
    void (*closed)(void *) = x->closed;
    void *ctx = x->closed_ctx;
    tw_exec_parser_free(&x->parser);
    tw_exec_command_free(x->argv);
    tw_exec_command_free(x->env);
    free(x->read_buffer);
    free(x->name);
    free(x);
    if (closed)
        closed(ctx);
}

static void on_run_handle_closed(uv_handle_t *handle)
{
    exec_run *run = handle->data;
    if (--run->open_handles > 0)
        return;
    tw_in_exec *x = run->exec;
    tw_exec_lines_free(&run->out_lines);
    tw_exec_lines_free(&run->err_lines);
    free(run);
    x->runs_alive--;
    maybe_closed(x);
}

static void close_run(exec_run *run)
{
    uv_close((uv_handle_t *)&run->process, on_run_handle_closed);
    uv_close((uv_handle_t *)&run->out, on_run_handle_closed);
    uv_close((uv_handle_t *)&run->err, on_run_handle_closed);
    uv_close((uv_handle_t *)&run->timer, on_run_handle_closed);
}

static void emit_nagios_status(tw_in_exec *x, const exec_run *run, int state)
{
    if (x->mode != TW_EXEC_MODE_PERIODIC)
        return;
    if (x->format != TW_EXEC_FORMAT_NAGIOS && !x->parser.nagios_seen)
        return;
    char why[TW_EXEC_WHY_SIZE];
    if (tw_exec_parser_emit_status(&x->parser, state, run->start_ms, why, sizeof why) != 0)
        tw_warn("exec %s: the Nagios status metric: %s", x->name, why);
}

static void on_restart_timer(uv_timer_t *timer)
{
    tw_in_exec *x = timer->data;
    if (x->stopping || x->run != NULL)
        return;
    x->stats.restarts++;
    start_run(x);
}

/* Daemon mode: returns the delay before the next start. */
static uint64_t schedule_restart(tw_in_exec *x, uint64_t ran_ms)
{
    /* A process that lived longer than the longest delay was healthy: the
     * backoff starts over. */
    if (ran_ms >= x->restart_max_ms)
        x->restart_delay_ms = x->restart_min_ms;
    uint64_t delay = x->restart_delay_ms;
    x->restart_delay_ms = delay * 2 < x->restart_max_ms ? delay * 2 : x->restart_max_ms;
    uv_timer_start(&x->restart, on_restart_timer, delay, 0);
    return delay;
}

/* Reports how a run ended that did not end well; returns the Nagios state
 * it stands for. */
static int report_failure(tw_in_exec *x, const exec_run *run, const char *took,
                          const char *then)
{
    char stderr_note[TW_EXEC_ESCAPED_SIZE + 32] = "";
    if (run->last_stderr[0])
        snprintf(stderr_note, sizeof stderr_note, "; last stderr line: \"%s\"", run->last_stderr);
    x->failures_in_a_row++;
    if (run->timed_out) {
        x->stats.timeouts++;
        char limit[32];
        format_duration(x->timeout_ms, limit, sizeof limit);
        report(x, TW_LOG_WARN, REPORT_TIMEOUT, 0,
               "timed out after %s: its process group was killed; %llu line%s read before "
               "that %s kept%s",
               limit, (unsigned long long)run->line_no, run->line_no == 1 ? "" : "s",
               run->line_no == 1 ? "is" : "are", stderr_note);
        return TW_NAGIOS_CRITICAL;
    }
    if (run->term_signal != 0) {
        x->stats.signal_errors++;
        report(x, TW_LOG_WARN, REPORT_SIGNAL, run->term_signal,
               "killed by signal %d (%s) after %s%s%s", run->term_signal,
               strsignal(run->term_signal), took, stderr_note, then);
        return TW_NAGIOS_UNKNOWN;
    }
    int status = (int)run->exit_status;
    if (status != 0)
        x->stats.exit_errors++;
    bool nagios = x->mode == TW_EXEC_MODE_PERIODIC &&
                  (x->format == TW_EXEC_FORMAT_NAGIOS || x->parser.nagios_seen);
    if (nagios && status >= 0 && status <= 3) {
        /* A check saying WARNING or CRITICAL works as designed: its state
         * is the NAME_status metric; the log gets a notice. */
        report(x, TW_LOG_NOTICE, REPORT_EXIT, status, "check is %s (exit status %d): %s",
               tw_exec_nagios_state_name(status), status,
               x->parser.nagios_text[0] ? x->parser.nagios_text : "(no output)");
        return status;
    }
    report(x, TW_LOG_WARN, REPORT_EXIT, status, "exited with status %d after %s%s%s", status, took,
           stderr_note, then);
    return TW_NAGIOS_UNKNOWN;
}

static void finish_run(exec_run *run)
{
    tw_in_exec *x = run->exec;
    x->run = NULL;
    x->stats.ended++;
    uint64_t ran_ms = uv_now(x->loop) - run->start_loop_ms;
    char took[32], then[64] = "";
    format_duration(ran_ms, took, sizeof took);
    bool daemon = x->mode == TW_EXEC_MODE_DAEMON;
    if (daemon && !x->stopping) {
        char delay[32];
        format_duration(schedule_restart(x, ran_ms), delay, sizeof delay);
        snprintf(then, sizeof then, "; starting it again in %s", delay);
    }
    if (run->leftovers) {
        x->stats.timeouts += !daemon;
        if (!x->leftovers_reported)
            tw_warn("exec %s: exited, but processes it left in the background kept its output "
                    "open; they were killed (its process group) after %s. Redirect their "
                    "output (>/dev/null 2>&1) if they are meant to outlive it",
                    x->name, took);
        x->leftovers_reported = true;
    }
    bool clean = !run->timed_out && run->term_signal == 0 && run->exit_status == 0;
    if (run->stop_requested && !run->timed_out) {
        tw_debug("exec %s: stopped after %s", x->name, took);
    } else if (clean && !daemon) {
        emit_nagios_status(x, run, TW_NAGIOS_OK);
        bool nagios = x->format == TW_EXEC_FORMAT_NAGIOS || x->parser.nagios_seen;
        if (x->failures_in_a_row > 0)
            tw_info("exec %s: %s again after %llu run%s that %s not", x->name,
                    nagios ? "check is OK" : "ran successfully",
                    (unsigned long long)x->failures_in_a_row, x->failures_in_a_row == 1 ? "" : "s",
                    nagios ? "were" : "did");
        x->failures_in_a_row = 0;
        /* The next failure is news again. */
        memset(x->reports, 0, sizeof x->reports);
    } else if (clean) {
        report(x, TW_LOG_WARN, REPORT_EXIT, 0, "exited with status 0 after %s%s", took, then);
    } else {
        emit_nagios_status(x, run, report_failure(x, run, took, then));
    }
    /* Periodic: the window ends with the run when runs are a minute apart,
     * else once the next run would start past its minute. Daemon mode: the
     * tick closes it. */
    if (!daemon && x->interval_ms >= LOG_WINDOW_MS)
        close_log_window(x, true);
    else if (!daemon && log_window_age(x) + x->interval_ms >= LOG_WINDOW_MS)
        close_log_window(x, false);
    close_run(run);
}

static void maybe_finish(exec_run *run)
{
    if (run->finished || !run->exited || !run->out_lines.eof || !run->err_lines.eof)
        return;
    run->finished = true;
    uv_timer_stop(&run->timer);
    finish_run(run);
}

static void on_process_exit(uv_process_t *process, int64_t status, int term_signal)
{
    exec_run *run = process->data;
    run->exited = true;
    run->exit_status = status;
    run->term_signal = term_signal;
    /* Daemon mode has no timeout: if something the process started still
     * holds its output, give it the grace period, then kill the group. */
    if (run->exec->mode == TW_EXEC_MODE_DAEMON && run->kill_stage == 0 &&
        (!run->out_lines.eof || !run->err_lines.eof))
        uv_timer_start(&run->timer, on_run_timer, run->exec->grace_ms, 0);
    maybe_finish(run);
}

/* ---- starting a run ------------------------------------------------------ */

static void spawn_failed(tw_in_exec *x, exec_run *run, int rc)
{
    x->stats.spawn_errors++;
    x->failures_in_a_row++;
    const char *program = x->argv[0];
    char why[512];
    if (rc == UV_ENOENT && strchr(program, '/') == NULL)
        snprintf(why, sizeof why, "not found in PATH (%s)",
                 getenv("PATH") ? getenv("PATH") : "unset");
    else if (rc == UV_ENOENT)
        snprintf(why, sizeof why, "no such file");
    else if (rc == UV_EACCES)
        snprintf(why, sizeof why,
                 "permission denied (it must be an executable file the agent's user may run, "
                 "in directories it may search)");
    else
        snprintf(why, sizeof why, "%s", uv_strerror(rc));
    char then[64] = "";
    if (x->mode == TW_EXEC_MODE_DAEMON && !x->stopping) {
        char delay[32];
        format_duration(schedule_restart(x, 0), delay, sizeof delay);
        snprintf(then, sizeof then, "; trying again in %s", delay);
    }
    report(x, TW_LOG_ERROR, REPORT_SPAWN, -rc, "cannot start %s: %s%s", program, why, then);
    emit_nagios_status(x, run, TW_NAGIOS_UNKNOWN);
    run->finished = true;
    close_run(run);
}

/* libuv gives the child every descriptor not marked close-on-exec, and
 * libcurl (its sockets, its multi wakeup pair) does not mark its own: a
 * command would hold the agent's connections open, and anything it leaves
 * running would keep holding them. So every descriptor from 3 up is marked
 * before a spawn; the agent itself execs nothing else. */
static void mark_descriptors_cloexec(void)
{
#ifdef CLOSE_RANGE_CLOEXEC
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
#endif
    DIR *dir = opendir("/proc/self/fd"); /* kernels before 5.11 */
    if (dir == NULL)
        return;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end != '\0' || end == e->d_name || fd < 3 || fd == dirfd(dir))
            continue;
        int flags = fcntl((int)fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
            fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
}

static void start_run(tw_in_exec *x)
{
    exec_run *run = tw_calloc(1, sizeof *run);
    run->exec = x;
    x->runs_alive++;
    uv_pipe_init(x->loop, &run->out, 0);
    uv_pipe_init(x->loop, &run->err, 0);
    uv_timer_init(x->loop, &run->timer);
    run->open_handles = 4;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, /* libuv opens /dev/null for it */
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&run->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&run->err},
    };
    uv_process_options_t options = {
        .exit_cb = on_process_exit,
        .file = x->argv[0],
        .args = x->argv,
        .env = x->env,
        .flags = UV_PROCESS_DETACHED, /* setsid(): a group of its own to kill */
        .stdio_count = 3,
        .stdio = stdio,
    };
    uv_update_time(x->loop);
    run->start_ms = tw_time_now_ms();
    run->start_loop_ms = uv_now(x->loop);
    tw_exec_parser_reset(&x->parser);
    x->parser.default_time_ms = run->start_ms;
    mark_descriptors_cloexec();
    int rc = uv_spawn(x->loop, &run->process, &options);
    run->process.data = run->out.data = run->err.data = run->timer.data = run;
    if (rc != 0) {
        spawn_failed(x, run, rc);
        return;
    }
    x->stats.runs++;
    x->run = run;
    uv_read_start((uv_stream_t *)&run->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&run->err, on_alloc, on_read);
    if (x->mode == TW_EXEC_MODE_PERIODIC)
        uv_timer_start(&run->timer, on_run_timer, x->timeout_ms, 0);
}

static void on_tick(uv_timer_t *timer)
{
    tw_in_exec *x = timer->data;
    if (x->mode == TW_EXEC_MODE_DAEMON) {
        if (log_window_age(x) >= LOG_WINDOW_MS)
            close_log_window(x, false);
        return;
    }
    if (x->run != NULL) {
        x->stats.skipped++;
        char running[32];
        format_duration(uv_now(x->loop) - x->run->start_loop_ms, running, sizeof running);
        report(x, TW_LOG_WARN, REPORT_SKIP, 0,
               "the previous run is still going (for %s): this interval's run is skipped",
               running);
        return;
    }
    start_run(x);
}

/* ---- the input ------------------------------------------------------------ */

int tw_in_exec_start(uv_loop_t *loop, const tw_in_exec_options *o, const tw_metric_sink *sink,
                     tw_in_exec **out, tw_err *err)
{
    if (tw_in_exec_check_options(o, err) != 0)
        return -EINVAL;
    if (sink == NULL || sink->emit == NULL)
        return tw_err_set(err, -EINVAL, "no metric sink");
    tw_in_exec *x = tw_calloc(1, sizeof *x);
    x->loop = loop;
    x->name = tw_strdup(o->name);
    tw_exec_command_split(o->command, &x->argv, NULL);
    x->mode = o->mode;
    x->format = o->format;
    x->interval_ms = or_default(o->interval_ms, TW_IN_EXEC_DEFAULT_INTERVAL_MS);
    x->timeout_ms = or_default(o->timeout_ms, x->interval_ms);
    x->grace_ms = or_default(o->kill_grace_ms, TW_IN_EXEC_KILL_GRACE_MS);
    x->restart_min_ms = or_default(o->restart_min_ms, TW_IN_EXEC_RESTART_MIN_MS);
    x->restart_max_ms = or_default(o->restart_max_ms, TW_IN_EXEC_RESTART_MAX_MS);
    if (x->restart_max_ms < x->restart_min_ms)
        x->restart_max_ms = x->restart_min_ms;
    x->restart_delay_ms = x->restart_min_ms;
    if (o->hostname)
        snprintf(x->hostname, sizeof x->hostname, "%s", o->hostname);
    else if (gethostname(x->hostname, sizeof x->hostname - 1) != 0)
        snprintf(x->hostname, sizeof x->hostname, "%s", "localhost");
    x->env = build_env(x);
    x->read_buffer = tw_malloc(READ_BUFFER_SIZE);
    tw_exec_parser_config pc = {
        .format = o->format,
        .lines_stand_alone = o->mode == TW_EXEC_MODE_DAEMON,
        .exec_name = x->name,
        .hostname = x->hostname,
        .sink = *sink,
        .notify = on_notification,
        .notify_ctx = x,
    };
    tw_exec_parser_init(&x->parser, &pc);
    uv_timer_init(loop, &x->tick);
    uv_timer_init(loop, &x->restart);
    x->tick.data = x->restart.data = x;
    x->timers_open = 2;
    if (x->mode == TW_EXEC_MODE_PERIODIC) {
        uv_timer_start(&x->tick, on_tick, 0, x->interval_ms);
    } else {
        uv_timer_start(&x->tick, on_tick, x->interval_ms, x->interval_ms);
        start_run(x);
    }
    *out = x;
    return 0;
}

static void on_timer_closed(uv_handle_t *handle)
{
    tw_in_exec *x = handle->data;
    x->timers_open--;
    maybe_closed(x);
}

void tw_in_exec_stop(tw_in_exec *x, void (*closed)(void *ctx), void *ctx)
{
    x->stopping = true;
    x->closed = closed;
    x->closed_ctx = ctx;
    close_log_window(x, false);
    uv_close((uv_handle_t *)&x->tick, on_timer_closed);
    uv_close((uv_handle_t *)&x->restart, on_timer_closed);
    if (x->run != NULL)
        kill_run(x->run);
}

void tw_in_exec_get_stats(const tw_in_exec *x, tw_in_exec_stats *stats)
{
    *stats = x->stats;
    stats->metrics = x->parser.metrics;
    stats->running = x->run != NULL && !x->run->exited;
}
