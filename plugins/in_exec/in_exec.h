/* in_exec.h — exec plugins: one [exec NAME] section runs a command on the
 * agent's libuv loop and turns the lines it prints into metric samples
 * (exec_parse.h; docs/exec-plugins.md is the user's reference).
 *
 * periodic mode  the command runs once per interval and is waited for; at
 *                its timeout its process group gets SIGTERM, then SIGKILL
 *                2 s later, and the lines printed before are kept. An
 *                interval that comes while a run is still going is skipped
 *                and counted: never two runs at once.
 * daemon mode    one long-running process whose lines are parsed as they
 *                come; when it exits it is started again after 1 s,
 *                doubling up to 60 s while it keeps dying young (collectd's
 *                exec scripts loop forever this way).
 *
 * The command is split into words with shell-like quoting (exec_command.h)
 * but no shell runs it. The process gets its own session and process group
 * (setsid), stdin from /dev/null, the agent's environment plus
 * COLLECTD_INTERVAL and COLLECTD_HOSTNAME, pipes for stdout and stderr read
 * on the loop, and no other descriptor of the agent's (before each spawn,
 * every descriptor from 3 up is marked close-on-exec, process-wide: libcurl
 * leaves its sockets inheritable). stderr lines are logged as warnings prefixed with the
 * exec's name, 10 per run (per minute when runs are closer than that, and
 * in daemon mode), then only counted; bad output lines likewise. Failures
 * (cannot start, non-zero exit, killed by a signal, timed out) are logged
 * with what happened and counted; the same failure is logged at most once a
 * minute. Nothing here stops the agent.
 *
 * Everything runs on the loop's thread; no call blocks.
 */
#ifndef TW_IN_EXEC_H
#define TW_IN_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "err.h"
#include "exec_parse.h"
#include "metric.h"

typedef enum tw_exec_mode {
    TW_EXEC_MODE_PERIODIC,
    TW_EXEC_MODE_DAEMON,
} tw_exec_mode;

/* "periodic", "daemon" <-> the enum; parse returns 0 or -EINVAL. */
int tw_exec_mode_parse(const char *name, tw_exec_mode *out);
const char *tw_exec_mode_name(tw_exec_mode mode);

#define TW_IN_EXEC_DEFAULT_INTERVAL_MS 60000
#define TW_IN_EXEC_KILL_GRACE_MS 2000
#define TW_IN_EXEC_RESTART_MIN_MS 1000
#define TW_IN_EXEC_RESTART_MAX_MS 60000

/* One [exec NAME] section. Strings are borrowed during tw_in_exec_start
 * only (it copies them). */
typedef struct tw_in_exec_options {
    const char *name;     /* NAME: prefixes every log line; Nagios metrics NAME_... */
    const char *command;  /* required: program and arguments */
    uint64_t interval_ms; /* 0: 60 s (the config passes [metrics] interval when unset) */
    uint64_t timeout_ms;  /* periodic mode; 0: the interval; more than it is refused */
    tw_exec_mode mode;
    tw_exec_format format;
    const char *hostname; /* COLLECTD_HOSTNAME; NULL: gethostname() */
    /* For tests; 0 means the default above. */
    uint64_t kill_grace_ms;
    uint64_t restart_min_ms;
    uint64_t restart_max_ms;
} tw_in_exec_options;

/* Checks options as tw_in_exec_start will (command splits into words, the
 * timeout fits in the interval, format nagios needs periodic mode), for
 * `trailwatch check-config`. Returns 0 or -EINVAL with a sentence in err. */
int tw_in_exec_check_options(const tw_in_exec_options *options, tw_err *err);

typedef struct tw_in_exec tw_in_exec;

/* Starts the exec input on loop: in periodic mode the first run starts at
 * once, then one every interval; in daemon mode the process starts at once.
 * Samples go to sink (namespace NULL: the pipeline's), which must stay valid
 * until the closed callback of tw_in_exec_stop has run. Returns 0 and *out
 * (owned by the caller, released only through tw_in_exec_stop), or -EINVAL
 * (bad options) with a sentence in err. A command that cannot be started
 * is not an error here: it is reported and retried at each interval. */
int tw_in_exec_start(uv_loop_t *loop, const tw_in_exec_options *options,
                     const tw_metric_sink *sink, tw_in_exec **out, tw_err *err);

/* Stops: no new run starts; a running process group gets SIGTERM, then
 * SIGKILL after 2 s; lines it prints until its output closes are still
 * parsed. When every handle is closed, exec is freed and closed(ctx) is
 * called (later, from the loop; closed may be NULL). Call once. */
void tw_in_exec_stop(tw_in_exec *exec, void (*closed)(void *ctx), void *ctx);

typedef struct tw_in_exec_stats {
    uint64_t runs;          /* processes started */
    uint64_t ended;         /* runs over: exited (or killed) and output read to the end */
    uint64_t skipped;       /* periodic: intervals skipped, the previous run still going */
    uint64_t restarts;      /* daemon: starts after an exit or a failed start */
    uint64_t spawn_errors;  /* could not start the command */
    uint64_t exit_errors;   /* exited with a non-zero status */
    uint64_t signal_errors; /* killed by a signal it did not get from us */
    uint64_t timeouts;      /* killed at the timeout */
    uint64_t lines;         /* stdout lines */
    uint64_t bad_lines;
    uint64_t metrics;       /* samples the sink accepted */
    uint64_t stderr_lines;
    bool running;           /* a process is running now */
} tw_in_exec_stats;

/* The counters since start. (Named _get_stats: C does not let a function
 * share the name tw_in_exec_stats with the type.) */
void tw_in_exec_get_stats(const tw_in_exec *exec, tw_in_exec_stats *stats);

#endif
