/* test_log.c — our own log lines: one line per event, levels, journal prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

/* Runs fn with stderr redirected to a temporary file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    char path[512];
    int fd = tw_make_temp_file(NULL, "tw-test-log", path, sizeof path, NULL);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char out[8192];
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return out;
}

static void log_three_levels(void)
{
    tw_log_init("tw-test", TW_LOG_INFO);
    tw_error("disk %s", "full");
    tw_info("multi\nline");
    tw_debug("hidden at info");
}

static void test_lines_have_time_level_program_and_fold_newlines(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    char *out = capture_stderr(log_three_levels);
    assert_non_null(strstr(out, "Z error  tw-test: disk full\n"));
    assert_non_null(strstr(out, "Z info   tw-test: multi line\n"));
    assert_null(strstr(out, "hidden"));
    /* Exactly two lines: the embedded newline was folded. */
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
}

static void log_under_journal(void)
{
    /* Make JOURNAL_STREAM name our (redirected) stderr, as systemd does. */
    struct stat st;
    fstat(STDERR_FILENO, &st);
    char value[64];
    snprintf(value, sizeof value, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", value, 1);
    tw_log_init("tw-test", TW_LOG_DEBUG);
    tw_warn("careful");
    tw_debug("details");
    unsetenv("JOURNAL_STREAM");
}

static void test_journal_gets_priority_prefixes(void **state)
{
    (void)state;
    char *out = capture_stderr(log_under_journal);
    assert_string_equal(out, "<4>careful\n<7>details\n");
}

static void test_level_names_parse_and_reject_unknown(void **state)
{
    (void)state;
    tw_log_level level;
    assert_int_equal(tw_log_level_parse("debug", &level), 0);
    assert_int_equal(level, TW_LOG_DEBUG);
    assert_int_equal(tw_log_level_parse("warning", &level), 0);
    assert_int_equal(level, TW_LOG_WARN);
    assert_int_not_equal(tw_log_level_parse("verbose", &level), 0);
    assert_string_equal(tw_log_level_name(TW_LOG_NOTICE), "notice");
}

static void log_huge(void)
{
    tw_log_init("tw-test", TW_LOG_INFO);
    char big[10000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tw_info("%s", big);
}

static void test_overlong_message_is_cut_but_still_one_line(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    char *out = capture_stderr(log_huge);
    size_t len = strlen(out);
    assert_true(len <= 4096);
    assert_int_equal(out[len - 1], '\n');
    assert_null(memchr(out, '\n', len - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_have_time_level_program_and_fold_newlines),
        cmocka_unit_test(test_journal_gets_priority_prefixes),
        cmocka_unit_test(test_level_names_parse_and_reject_unknown),
        cmocka_unit_test(test_overlong_message_is_cut_but_still_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
