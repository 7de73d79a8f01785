/* log_parser.h — the contract between the tail and the log parsers.
 *
 * The tail (agent/tail*.c) reads a file, cuts it into lines and hands each
 * line to the parser of its [logs] section, which turns lines into log
 * records: the text shipped as the CloudWatch Logs message, the event's
 * timestamp and named fields (which audit events are derived from).
 *
 * A parser may hold lines back to group them into one record (a Rails
 * request from Started to Completed, nginx error continuation lines). So
 * that a file's checkpoint never passes a line that is held and not yet
 * shipped, a parser reports the file offset of the oldest line it holds
 * (pending_offset), and flushes what it holds when asked (a quiet period
 * went by, the file was let go, the agent stops).
 *
 * Lines are what the tail produced: no newline, no trailing CR, at most
 * max_line_size bytes of the file, and valid UTF-8 (the tail escaped each
 * invalid byte as the four characters \xHH, so a repaired line may be up
 * to four times longer).
 *
 * A line that does not match the format is never dropped: it becomes a
 * record with parsed = false, its text as the message, the read time as its
 * timestamp, and it is counted.
 *
 * Records, fields and their strings are borrowed: they are valid only for
 * the duration of the emit callback. Parser state is owned by the caller of
 * create and released with destroy. All calls for one parser come from one
 * thread.
 */
#ifndef TW_LOG_PARSER_H
#define TW_LOG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A record never has more fields than this; a parser that finds more keeps
 * the first ones (and the message is complete anyway). */
#define TW_LOG_MAX_FIELDS 48

/* Offset of "no line held" for pending_offset. */
#define TW_LOG_NO_PENDING UINT64_MAX

typedef struct tw_log_line {
    const char *text; /* not NUL-terminated */
    size_t len;
    uint64_t offset;      /* where the line starts in its file */
    uint64_t end;         /* where the next line starts (after the newline) */
    int64_t read_time_ms; /* when the tail read it (epoch ms) */
    bool truncated;       /* the line was longer than max_line_size */
} tw_log_line;

typedef struct tw_log_field {
    const char *name; /* a static string, e.g. "remote_addr" (json: the
                         member's key, NUL-terminated, valid like value) */
    const char *value;
    size_t len;
} tw_log_field;

typedef struct tw_log_record {
    const char *message; /* what is shipped: the line, or the lines of a group
                            joined with '\n' */
    size_t message_len;
    int64_t timestamp_ms; /* from the text; the read time when it has none */
    uint64_t offset;      /* offset of the first line of the record */
    uint64_t end;         /* end of the last line of the record */
    bool parsed;          /* false: shipped as-is, counted as unparsed */
    unsigned n_fields;
    tw_log_field fields[TW_LOG_MAX_FIELDS];
} tw_log_record;

typedef void (*tw_log_emit_fn)(void *ctx, const tw_log_record *record);

/* What a [logs] section tells its parser. Strings are borrowed for the
 * parser's lifetime (the config outlives it). */
typedef struct tw_log_parser_options {
    const char *section;    /* [logs NAME], for messages */
    const char *log_format; /* nginx: a log_format in nginx syntax; NULL = combined */
    int64_t group_timeout_ms; /* grouping parsers: emit a group idle this long */
    const char *user_tag;   /* rails: which tagged-logging tag holds the user (NULL: none) */
} tw_log_parser_options;

typedef struct tw_log_parser_ops {
    const char *name; /* the config's format = NAME */
    /* Returns 0 and sets *state, or -EINVAL with err saying what is wrong
     * in the options (e.g. a log_format that cannot be compiled). */
    int (*create)(const tw_log_parser_options *options, void **state, tw_err *err);
    /* Consumes one line; emits zero or more records. */
    void (*feed)(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx);
    /* Emits held groups idle since before now_ms - group_timeout_ms, or all
     * of them when all is true. NULL for parsers that hold nothing. */
    void (*flush)(void *state, int64_t now_ms, bool all, tw_log_emit_fn emit, void *ctx);
    /* Offset of the oldest line held, or TW_LOG_NO_PENDING. NULL for
     * parsers that hold nothing. */
    uint64_t (*pending_offset)(const void *state);
    void (*destroy)(void *state);
} tw_log_parser_ops;

/* The parser for format = name, or NULL. */
const tw_log_parser_ops *tw_log_parser_find(const char *name);

/* Helpers for parsers. */

/* Appends a field when there is room (silently keeps the first
 * TW_LOG_MAX_FIELDS). */
void tw_log_record_add(tw_log_record *record, const char *name, const char *value, size_t len);

/* The field's value, or NULL (and *len = 0) when the record has none. */
const char *tw_log_record_get(const tw_log_record *record, const char *name, size_t *len);

#endif
