/* exec_parse.h — the line parsers of exec plugins: what a command prints on
 * stdout, one metric per line, turned into tw_metric_sample values.
 *
 * Three formats (docs/exec-plugins.md is the user's reference):
 *   trailwatch  name value [unit] [key=value ...] [@timestamp]
 *   collectd    PUTVAL "host/plugin-instance/type-instance" [interval=10] N:42[:43...]
 *               PUTNOTIF severity=warning time=... message=...
 *   nagios      TEXT | label=value[UOM];warn;crit;min;max ...
 * and auto, which picks one per line: PUTVAL/PUTNOTIF -> collectd, a line
 * holding '|' -> nagios, anything else -> trailwatch. In a periodic run a
 * Nagios line makes the rest of the output Nagios (long text, then the
 * perfdata after a second '|', as the Nagios plugin guidelines define).
 *
 * A parser is a plain struct the caller owns (usually inside its runner),
 * set up with tw_exec_parser_init and released with tw_exec_parser_free; it
 * keeps one scratch buffer that grows to the longest line seen, so parsing
 * allocates nothing per line. Samples go to the sink given at init, during
 * tw_exec_parse_line; everything they point to is valid only during emit.
 * Single-threaded: one parser belongs to one thread (the loop's).
 */
#ifndef TW_EXEC_PARSE_H
#define TW_EXEC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metric.h"

/* Lines longer than this are cut by the runner and reported, never parsed. */
#define TW_EXEC_LINE_MAX 65536
/* How much of a bad line a log message shows, before escaping. */
#define TW_EXEC_SHOW_MAX 200
/* Room tw_exec_escape needs for TW_EXEC_SHOW_MAX bytes: each may become
 * "\xNN", plus "..." and the NUL. */
#define TW_EXEC_ESCAPED_SIZE (TW_EXEC_SHOW_MAX * 4 + 4)
/* Room for the reason tw_exec_parse_line gives for a bad line. */
#define TW_EXEC_WHY_SIZE 512

typedef enum tw_exec_format {
    TW_EXEC_FORMAT_AUTO,
    TW_EXEC_FORMAT_TRAILWATCH,
    TW_EXEC_FORMAT_COLLECTD,
    TW_EXEC_FORMAT_NAGIOS,
} tw_exec_format;

/* "auto", "trailwatch", "collectd", "nagios" <-> the enum. parse returns 0
 * or -EINVAL for any other name (case-sensitive, as config values are). */
int tw_exec_format_parse(const char *name, tw_exec_format *out);
const char *tw_exec_format_name(tw_exec_format format);
/* The same for a name already checked by the config: NULL or an unknown
 * name gives TW_EXEC_FORMAT_AUTO. */
tw_exec_format tw_exec_format_from_name(const char *name);

/* Nagios plugin return codes (the exit status of a check). */
#define TW_NAGIOS_OK 0
#define TW_NAGIOS_WARNING 1
#define TW_NAGIOS_CRITICAL 2
#define TW_NAGIOS_UNKNOWN 3
/* "OK", "WARNING", "CRITICAL", "UNKNOWN" for 0..3, else "UNKNOWN". */
const char *tw_exec_nagios_state_name(int state);

/* A collectd PUTNOTIF line: severity is "failure", "warning" or "okay";
 * both strings are borrowed for the duration of the call. */
typedef void tw_exec_notify_fn(void *ctx, const char *severity, const char *message);

typedef struct tw_exec_parser_config {
    tw_exec_format format;
    /* Daemon mode: every line stands alone; a Nagios line is read as a
     * first line ("TEXT | perfdata") and never starts the long-text part. */
    bool lines_stand_alone;
    /* The exec's name: Nagios perfdata are published as NAME_label. Borrowed
     * for the parser's lifetime. */
    const char *exec_name;
    /* The agent's host name, as given to scripts in COLLECTD_HOSTNAME; a
     * PUTVAL for another host gets a collectd_host dimension. Borrowed;
     * NULL: never add it. */
    const char *hostname;
    tw_metric_sink sink;
    tw_exec_notify_fn *notify; /* NULL: notifications are dropped */
    void *notify_ctx;
} tw_exec_parser_config;

typedef struct tw_exec_parser {
    tw_exec_parser_config config;
    /* Set by the caller before a line, both epoch ms: the time of samples
     * that carry none, and "now" for the CloudWatch timestamp window
     * (14 days back, 2 hours ahead). */
    int64_t default_time_ms;
    int64_t now_ms;
    /* Per run (tw_exec_parser_reset clears them). */
    int nagios_part;     /* 0: no Nagios line yet; 1: long text; 2: perfdata lines */
    bool nagios_seen;    /* some line of this run was a Nagios line */
    char nagios_text[TW_EXEC_ESCAPED_SIZE]; /* the first line's text, escaped */
    uint64_t metrics;    /* samples the sink accepted */
    /* Owned scratch: the line being parsed, split in place. */
    char *scratch;
    size_t scratch_size;
} tw_exec_parser;

/* Copies config (its strings stay borrowed). Cannot fail. */
void tw_exec_parser_init(tw_exec_parser *parser, const tw_exec_parser_config *config);
/* Forgets the per-run state: call before each run's first line. */
void tw_exec_parser_reset(tw_exec_parser *parser);
void tw_exec_parser_free(tw_exec_parser *parser);

/* Parses one line of len bytes (without its '\n'; a trailing '\r' is
 * ignored; the bytes need no NUL and may hold any value). Returns 0 when the
 * line was used or is to be ignored (blank, comment, Nagios text, a value
 * of "U"), or -EINVAL when it is bad, with a sentence in why (at most
 * why_size bytes with the NUL; TW_EXEC_WHY_SIZE is enough). A Nagios line
 * with some bad perfdata still emits the good ones, and is bad. A sample
 * the sink refuses makes the line bad too, with the sink's reason. */
int tw_exec_parse_line(tw_exec_parser *parser, const char *line, size_t len, char *why,
                       size_t why_size);

/* Emits NAME_status = state (unit None, time time_ms, no dimension): the
 * exit status of a Nagios check. Returns 0, or -EINVAL with why filled when
 * the name is too long or the sink refuses it. */
int tw_exec_parser_emit_status(tw_exec_parser *parser, int state, int64_t time_ms, char *why,
                               size_t why_size);

/* Writes a log-safe copy of at most the first TW_EXEC_SHOW_MAX bytes of
 * text into out: well-formed UTF-8 is kept, '\\' becomes "\\\\", other
 * control and invalid bytes become "\xNN", and "..." marks a cut. out_size
 * TW_EXEC_ESCAPED_SIZE is always enough; a smaller out is cut short. */
void tw_exec_escape(const char *text, size_t len, char *out, size_t out_size);

#endif
