/* conf_schema.h — typed keys for a config section, described by a table.
 *
 * A config model (agent/config.c, collector/config.c) describes each section
 * kind as a table of tw_conf_key: the key's name, its type, where the parsed
 * value goes in the model's struct, its limits. tw_conf_apply() walks a
 * section's entries against the table, converts each value, and records one
 * clear error per bad entry in the tw_conf ("agent.conf:12: [metrics]
 * interval: ..."), including unknown keys with a "did you mean" hint, missing
 * required keys, and indented continuation lines on keys that take one line.
 *
 * String results borrow from the tw_conf (valid until tw_conf_free); numbers
 * and flags are stored in place. Fields of keys that are absent keep whatever
 * the caller put there, so callers set defaults before applying.
 */
#ifndef TW_CONF_SCHEMA_H
#define TW_CONF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

typedef enum tw_conf_type {
    TW_CONF_STRING,   /* const char *                                    */
    TW_CONF_BOOL,     /* bool: yes/no, true/false, on/off, 1/0           */
    TW_CONF_DURATION, /* uint64_t milliseconds, min/max in ms             */
    TW_CONF_SIZE,     /* uint64_t bytes, min/max in bytes                 */
    TW_CONF_INT,      /* int64_t, min/max                                 */
    TW_CONF_ENUM,     /* const char *, one of choices                     */
    TW_CONF_ABSPATH,  /* const char *, must start with "/"                */
} tw_conf_type;

enum {
    TW_CONF_REQUIRED = 1 << 0,
    TW_CONF_MULTILINE = 1 << 1, /* indented continuation lines allowed */
    TW_CONF_SECRET = 1 << 2,    /* never echo the value in a message */
};

typedef struct tw_conf_key {
    const char *name;
    tw_conf_type type;
    size_t offset; /* offsetof(model struct, field) */
    unsigned flags;
    int64_t min, max;            /* INT, DURATION (ms), SIZE (bytes); 0,0 = no limit */
    const char *const *choices;  /* ENUM: NULL-terminated */
    /* Extra check for STRING/ENUM/ABSPATH values; returns 0 or fills err. */
    int (*check)(const char *value, tw_err *err);
} tw_conf_key;

/* Applies section's entries to the struct at model. Keys not in the table
 * are errors unless allow_unknown (plugin sections pass their own keys on).
 * Returns the number of errors recorded. */
int tw_conf_apply(tw_conf *conf, const tw_conf_section *section, const tw_conf_key *keys,
                  size_t n_keys, void *model, bool allow_unknown);

/* Parses one boolean word. Returns 0 or -EINVAL. */
int tw_conf_parse_bool(const char *value, bool *out);

/* The candidate closest to word within an edit distance of 2, or NULL. */
const char *tw_conf_closest(const char *word, const char *const *candidates, size_t n);

/* ---- rules shared by the config models ---------------------------------- */

/* A section kind: [agent] (named false) or [logs NAME] (named true). */
typedef struct tw_conf_section_kind {
    const char *word;
    bool named;
} tw_conf_section_kind;

/* Works out which of kinds section is: "logs nginx" is the kind "logs" with
 * *name "nginx" (NULL for unnamed kinds). A NAME is one word of at most 64
 * letters, digits, '.', '_' or '-'. Records an error in conf and returns -1
 * for an unknown kind (with a "did you mean" hint, or the list of kinds), a
 * named kind without a name, an unnamed kind with one, or a bad name;
 * otherwise returns the kind's index. */
int tw_conf_classify_section(tw_conf *conf, const tw_conf_section *section,
                             const tw_conf_section_kind *kinds, size_t n_kinds,
                             const char **name);

/* A listen address: host:port, [IPv6]:port, or :port (every address). The
 * port goes from min_port (0 allows "any free port") to 65535; example_port
 * appears in the messages ("like 127.0.0.1:8125"). Returns 0 or -EINVAL
 * with err saying what is wrong. */
int tw_conf_check_listen(const char *value, int min_port, int example_port, tw_err *err);

/* An AWS region name: 2-32 lower-case letters, digits and hyphens, not
 * starting or ending with a hyphen ("us-east-1"; a local collector may use
 * any such name). Returns 0 or -EINVAL. */
int tw_conf_check_region(const char *value, tw_err *err);

#endif
