/* testutil.h — fixtures the unit tests share: a private temporary directory
 * per test, removing it again, writing a small text file, comparing a JSON
 * value with the expected text, and checking the errors a tw_conf collected.
 *
 * Everything here is test-only and links into each test program through the
 * tw_testutil library. Paths are borrowed; nothing returned is heap-owned. */
#ifndef TW_TESTUTIL_H
#define TW_TESTUTIL_H

#include <stddef.h>

#include <jansson.h>

#include "conf.h"

/* Creates a new directory "tw-test-<name>-<random>" in $TMPDIR or /tmp
 * (tw_make_temp_dir) and writes its path to out. Returns 0, or -1 if the path does not fit in size
 * or mkdtemp fails. */
int tw_test_mkdtemp(char *out, size_t size, const char *name);

/* Removes dir and everything below it without following symlinks. Returns 0
 * or -1 on the first entry that could not be removed. */
int tw_test_rm_rf(const char *dir);

/* Writes text to path, replacing it; fails the running test if it cannot. */
void tw_test_write_file(const char *path, const char *text);

/* Fails the running test, at the caller's line, unless got equals the JSON
 * in want_text; prints both on a mismatch. */
#define assert_json_equal(got, want_text) \
    tw_test_assert_json_equal((got), (want_text), __FILE__, __LINE__)
void tw_test_assert_json_equal(const json_t *got, const char *want_text, const char *file,
                               int line);

/* Prints every error conf collected, one per line, for a failing test. */
void tw_test_dump_conf_errors(const tw_conf *conf);

/* Fails the running test unless conf collected exactly n errors. */
#define assert_conf_error_count(conf, n) \
    tw_test_assert_conf_error_count((conf), (n), __FILE__, __LINE__)
void tw_test_assert_conf_error_count(const tw_conf *conf, size_t n, const char *src,
                                     int src_line);

/* Fails the running test unless errors[i] is exactly "file:line: text"
 * ("file: text" for line 0). */
#define assert_conf_error(conf, i, file, line, text) \
    tw_test_assert_conf_error((conf), (i), (file), (line), (text), __FILE__, __LINE__)
void tw_test_assert_conf_error(const tw_conf *conf, size_t i, const char *file, int line,
                               const char *text, const char *src, int src_line);

#endif
