/* conf.h — reading our INI configuration: a main file plus drop-ins.
 *
 * tw_conf_load() reads FILE and then every "*.conf" in FILE.d in name order (the
 * directory fleet tools drop files into), with inih doing the line syntax.
 * On top of inih this module adds what users need from a config file:
 *   - every error tied to "file:line:", and all errors collected, not just the
 *     first (inih reports only the first line number);
 *   - ${NAME} and ${NAME:-default} replaced from the environment in values
 *     ("$${" writes a literal "${"; a lone "$" stays as is, so nginx
 *     log_format strings need no escaping);
 *   - multi-line values: an indented line continues the previous key (inih's
 *     configparser style) and is joined to it with one space;
 *   - inih's line limit (200 bytes with the line end) reported clearly;
 *   - sections and keys merged across files: a drop-in's key replaces the
 *     main file's; the same key twice in one file is an error.
 *
 * The result is a list of sections with their entries, in order of first
 * appearance. Config models (agent/config.c, collector/config.c) interpret it
 * and add their own errors with tw_conf_error(). The tw_conf owns everything
 * it points to; tw_conf_free() releases it.
 */
#ifndef TW_CONF_H
#define TW_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* inih's default INI_MAX_LINE (200) includes "\r\n\0". */
#define TW_CONF_MAX_LINE 197

typedef struct tw_conf_entry {
    char *key;
    char *value;           /* after ${ENV} substitution and continuation joins */
    const char *file;      /* borrowed from tw_conf.files */
    int line;              /* the key's line */
    int continuation_line; /* first indented continuation line, or 0 */
    /* When a continuation line reads like "name = ..." (usually a key indented
     * by mistake), that name; config models report it when it is one of the
     * section's keys. Empty otherwise. */
    char continuation_key[64];
    bool invalid; /* its value could not be built (an ${ENV} error, reported) */
} tw_conf_entry;

typedef struct tw_conf_section {
    char *name; /* full text between the brackets, trimmed: "logs nginx" */
    const char *file;
    int line;   /* first appearance */
    tw_conf_entry *entries;
    size_t n_entries, cap_entries;
} tw_conf_section;

typedef struct tw_conf {
    tw_conf_section *sections;
    size_t n_sections, cap_sections;
    char **files; /* every file read, in order */
    size_t n_files, cap_files;
    char **errors; /* "file:line: sentence", in the order found (see tw_conf_sort_errors) */
    size_t n_errors, cap_errors;
    struct tw_conf_error_position {
        long file; /* index in files, -1 for paths that are not config files */
        int line;
    } *error_positions; /* parallel to errors */
} tw_conf;

void tw_conf_init(tw_conf *conf);
void tw_conf_free(tw_conf *conf);

/* Reads path, then (when dropin_dir is non-NULL) every regular file in
 * dropin_dir whose name ends in ".conf" and does not start with ".", in
 * strcmp order. A missing dropin_dir is fine; a missing main file is an
 * error. Returns 0 when no error was recorded, else -EINVAL (the errors are
 * in conf->errors). */
int tw_conf_load(tw_conf *conf, const char *path, const char *dropin_dir);

/* tw_conf_load() of path with its drop-in directory, path + ".d": how both
 * daemons read their configuration file. */
int tw_conf_load_with_dropins(tw_conf *conf, const char *path);

/* Logs every recorded error, then "not starting: N configuration error(s)":
 * what a daemon says before it exits on a bad configuration. */
void tw_conf_log_startup_errors(const tw_conf *conf);

/* Parses text as if it were a file called name (tests, fuzzing). */
int tw_conf_load_string(tw_conf *conf, const char *name, const char *text);

/* Records "file:line: sentence". line 0 leaves out the line. */
void tw_conf_error(tw_conf *conf, const char *file, int line, const char *fmt, ...)
    TW_PRINTF(4, 5);

/* Orders the errors by file (in reading order) and line, keeping the order
 * of errors on the same line, so a person reads them top to bottom. */
void tw_conf_sort_errors(tw_conf *conf);

const tw_conf_section *tw_conf_find_section(const tw_conf *conf, const char *name);
const tw_conf_entry *tw_conf_find(const tw_conf_section *section, const char *key);

#endif
