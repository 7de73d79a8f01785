/* parser_capture.h — feeding a log parser (log_parser.h) in the tests of the
 * syslog and json parsers: text cut into lines as the tail cuts it, and
 * every emitted record copied (records are borrowed only for the emit), so
 * a test can look at them afterwards and check each field.
 *
 * Test-only. A capture owns its copies; tw_test_capture_free releases them.
 * Failures fail the running cmocka test at the caller's line. */
#ifndef TW_PARSER_CAPTURE_H
#define TW_PARSER_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log_parser.h"

typedef struct tw_test_field {
    char *name;
    char *value; /* NUL-terminated copy; len counts NULs inside */
    size_t len;
} tw_test_field;

typedef struct tw_test_record {
    char *message;
    size_t message_len;
    int64_t timestamp_ms;
    uint64_t offset, end;
    bool parsed;
    unsigned n_fields;
    tw_test_field fields[TW_LOG_MAX_FIELDS];
} tw_test_record;

typedef struct tw_test_capture {
    tw_test_record *records;
    size_t n, cap;
} tw_test_capture;

/* The emit callback; ctx is a tw_test_capture. */
void tw_test_capture_emit(void *ctx, const tw_log_record *record);
/* Drops the records (the capture can be used again). */
void tw_test_capture_free(tw_test_capture *c);

/* Cuts text into lines as the tail does (at '\n', a trailing '\r' removed,
 * a last line without '\n' kept), feeds each with its offsets and
 * read_time_ms, and returns the number of lines. Also checks what every
 * parser must do for each line: one record per line here (no grouping
 * parser is fed by these tests), the line as the message, its offsets, and
 * for an unparsed line no fields and the read time. */
size_t tw_test_feed_text(const tw_log_parser_ops *ops, void *state, const char *text, size_t len,
                         int64_t read_time_ms, tw_test_capture *c);

/* Feeds one line (a C string) into a fresh capture; returns its record. */
const tw_test_record *tw_test_parse_line(const tw_log_parser_ops *ops, void *state,
                                         const char *line, int64_t read_time_ms,
                                         tw_test_capture *c);

/* The whole file (malloc'd, NUL-terminated; free it); fails the test if it
 * cannot be read. */
char *tw_test_read_file(const char *path, size_t *len);

/* The field's value or NULL. */
const tw_test_field *tw_test_record_field(const tw_test_record *r, const char *name);

#define assert_field(record, name, want) \
    tw_test_assert_field((record), (name), (want), __FILE__, __LINE__)
void tw_test_assert_field(const tw_test_record *r, const char *name, const char *want,
                          const char *file, int line);
#define assert_no_field(record, name) \
    tw_test_assert_field((record), (name), NULL, __FILE__, __LINE__)

#endif
