/* cwl_names.h — log group and log stream names from the config's patterns:
 * placeholder expansion and CloudWatch's name rules (shared/spec/
 * cloudwatch.md §2.1).
 *
 * Placeholders (the set agent/config.c accepts in log_group / log_stream):
 *   {hostname}  the host name
 *   {date}      the UTC day of now_ms, YYYY-MM-DD (the CloudWatch agent's
 *               {date}); a stream named with it changes at midnight UTC
 *   {file}      the base name of the file the events come from
 *   {name}      the [logs NAME] section's name
 *
 * A value is sanitised to fit the kind of name it goes into, so a host or
 * file name never makes the name invalid: in a stream name ':' and '*' (the
 * two characters CloudWatch forbids there), control characters and bytes
 * that are not UTF-8 become '_'; in a group name every byte outside
 * [.-_/#A-Za-z0-9] becomes '_'. The pattern's own text is not changed:
 * agent/config.c checked it when the config was loaded, and the result is
 * checked here again against the rules:
 *   group   1-512 characters of [.-_/#A-Za-z0-9], not starting with "aws/"
 *           (any case: reserved for AWS);
 *   stream  1-512 characters, no ':' or '*' (and, as agent/config.c
 *           insists, no control characters).
 * Characters are counted as AWS does (UTF-16 code units).
 *
 * Pure functions; any thread. Nothing is allocated except in out.
 */
#ifndef TW_CWL_NAMES_H
#define TW_CWL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TW_CWL_MAX_NAME 512

typedef enum tw_cwl_name_kind {
    TW_CWL_LOG_GROUP,
    TW_CWL_LOG_STREAM,
} tw_cwl_name_kind;

typedef struct tw_cwl_name_vars {
    tw_cwl_name_kind kind; /* which rules the name must meet */
    const char *hostname;  /* {hostname}; NULL: the pattern may not use it */
    const char *file;      /* {file}: a path, its base name is used; NULL: not allowed */
    const char *name;      /* {name}; NULL: not allowed */
    int64_t now_ms;        /* {date} */
} tw_cwl_name_vars;

/* Replaces out's content with the pattern expanded. Returns 0, or -EINVAL
 * with a sentence in err (naming the pattern, what it became and the rule
 * broken) for an unknown placeholder, a placeholder without a value, or a
 * result that breaks the rules above; out is then empty. */
int tw_cwl_expand_name(const char *pattern, const tw_cwl_name_vars *vars, tw_buf *out,
                       tw_err *err);

/* Checks a finished name against the rules above (len bytes). Returns 0 or
 * -EINVAL with a sentence in err. */
int tw_cwl_check_name(tw_cwl_name_kind kind, const char *name, size_t len, tw_err *err);

#endif
