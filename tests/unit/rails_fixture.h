/* rails_fixture.h — what the tests of format = rails (test_parser_rails.c,
 * test_parser_rails_bounds.c) share: a log cut into lines as the tail cuts
 * them, a parser fed with them, every record copied out of the emit
 * callback, and the check that the records' lines are exactly the file's.
 *
 * Test-only. Everything returned is heap-owned by the rails_log or the
 * rails_sink it came from (rails_test_unload, rails_test_sink_free).
 * Failures fail the running cmocka test. */
#ifndef TW_RAILS_FIXTURE_H
#define TW_RAILS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log_parser.h"

#define LOGS TW_TESTDATA_DIR "/logs/"
/* The read time of a log's first line; each next line is read 1 ms later. */
#define BASE_MS INT64_C(1700000000000)

typedef struct rails_log {
    char *data;
    size_t size, n_lines;
    tw_log_line *lines;
} rails_log;

typedef struct rails_record {
    char *message;
    size_t message_len;
    int64_t timestamp_ms;
    uint64_t offset, end;
    bool parsed;
    unsigned n_fields;
    char *names[TW_LOG_MAX_FIELDS], *values[TW_LOG_MAX_FIELDS];
} rails_record;

typedef struct rails_sink {
    rails_record *items;
    size_t n, cap;
} rails_sink;

/* Fails unless the record's field is want (NULL: has no such field). */
#define assert_field(r, name, want)                                                                \
    do {                                                                                           \
        const char *got_ = rails_test_field((r), (name));                                          \
        if ((want) == NULL)                                                                        \
            assert_null(got_);                                                                     \
        else {                                                                                     \
            assert_non_null(got_);                                                                 \
            assert_string_equal(got_, (want));                                                     \
        }                                                                                          \
    } while (0)

void rails_test_load_text(rails_log *f, const char *text);
void rails_test_load_file(rails_log *f, const char *path);
void rails_test_unload(rails_log *f);

/* The emit callback: ctx is a rails_sink. */
void rails_test_collect(void *ctx, const tw_log_record *r);
void rails_test_sink_free(rails_sink *s);
/* The value of the record's field, or NULL. */
const char *rails_test_field(const rails_record *r, const char *name);
/* Lines in the record's message. */
size_t rails_test_lines(const rails_record *r);
/* A request: the record has a method or a controller. */
bool rails_test_is_request(const rails_record *r);
size_t rails_test_count_requests(const rails_sink *s);
/* The first record whose field name has the value; fails the test if none. */
const rails_record *rails_test_find(const rails_sink *s, const char *name, const char *value);

/* A parser with these options (section "app"). */
void *rails_test_parser(const char *user_tag, int64_t timeout_ms);
/* Feeds lines [from, to) of f into st, collecting into s. */
void rails_test_feed(void *st, const rails_log *f, size_t from, size_t to, rails_sink *s);
/* Feeds all of f into a new parser, flushes everything, checks nothing is
 * pending any more. */
void rails_test_parse_all(const rails_log *f, const char *user_tag, rails_sink *s);
/* Loads LOGS/name into f and parses it all into s. */
void rails_test_parse_sample(const char *name, const char *user_tag, rails_log *f, rails_sink *s);
/* The records' lines are the file's lines, each exactly once, and each
 * record's offset and end are those of its first and last line. */
void rails_test_assert_lines_accounted(const rails_log *f, const rails_sink *s, const char *name);

#endif
