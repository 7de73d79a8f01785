/* log.h — our programs' own log: one line per event, to stderr.
 *
 * Under systemd (stderr is the journal stream named by $JOURNAL_STREAM) each
 * line carries the kernel-style priority prefix ("<3>", "<4>", ...) so that
 * journald files it at the right level and adds its own timestamp; anywhere
 * else a line reads "2026-11-21T21:40:00.123Z warn  trailwatch-agent: ...".
 * Each line is written with one write(2), so lines from threads never mix.
 *
 * The level and program name are process-wide settings made once by main()
 * before any thread starts (the single exception to "no global mutable state").
 *
 * Never pass a secret to these functions: callers log access key ids at most.
 */
#ifndef TW_LOG_H
#define TW_LOG_H

#include "err.h"

typedef enum tw_log_level {
    TW_LOG_ERROR = 3, /* syslog priorities, so the journal prefix is the level */
    TW_LOG_WARN = 4,
    TW_LOG_NOTICE = 5,
    TW_LOG_INFO = 6,
    TW_LOG_DEBUG = 7,
} tw_log_level;

/* program: a static string such as "trailwatch-agent". */
void tw_log_init(const char *program, tw_log_level level);
void tw_log_set_level(tw_log_level level);
tw_log_level tw_log_get_level(void);
/* Parses "error", "warn", "notice", "info", "debug". Returns 0 or -EINVAL. */
int tw_log_level_parse(const char *name, tw_log_level *out);
/* The --log-level command-line option: text NULL (not given) means
 * TW_LOG_INFO. A bad value is a usage error, printed to stderr as
 * "PROGRAM: --log-level: ..."; returns 0 or -EINVAL. */
int tw_log_level_option(const char *program, const char *text, tw_log_level *out);
const char *tw_log_level_name(tw_log_level level);

void tw_log(tw_log_level level, const char *fmt, ...) TW_PRINTF(2, 3);

#define tw_error(...)  tw_log(TW_LOG_ERROR, __VA_ARGS__)
#define tw_warn(...)   tw_log(TW_LOG_WARN, __VA_ARGS__)
#define tw_notice(...) tw_log(TW_LOG_NOTICE, __VA_ARGS__)
#define tw_info(...)   tw_log(TW_LOG_INFO, __VA_ARGS__)
#define tw_debug(...)  tw_log(TW_LOG_DEBUG, __VA_ARGS__)

#endif
