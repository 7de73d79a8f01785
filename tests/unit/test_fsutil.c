/* test_fsutil.c — private directories and atomic file replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "testutil.h"

static char root[256];

static int setup(void **state)
{
    (void)state;
    return tw_test_mkdtemp(root, sizeof root, "fs");
}

static int teardown(void **state)
{
    (void)state;
    return tw_test_rm_rf(root);
}

static void test_mkdir_p_creates_parents_and_accepts_existing(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/a/b/c", root);
    assert_int_equal(tw_mkdir_p(path, 0700, NULL), 0);
    assert_int_equal(tw_mkdir_p(path, 0700, NULL), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_mkdir_p_over_a_file_says_not_a_directory(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/file", root);
    FILE *f = fopen(path, "w");
    fclose(f);
    tw_err err;
    assert_int_equal(tw_mkdir_p(path, 0700, &err), -ENOTDIR);
    assert_non_null(strstr(err.msg, "is not a directory"));
}

static void test_private_dir_is_tightened(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/state", root);
    mkdir(path, 0777);
    chmod(path, 0777);
    assert_int_equal(tw_ensure_private_dir(path, NULL), 0);
    struct stat st;
    stat(path, &st);
    assert_int_equal(st.st_mode & 077, 0);
}

static void test_atomic_write_replaces_content_and_leaves_no_temp(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/positions", root);
    assert_int_equal(tw_write_file_atomic(path, "one", 3, 0600, NULL), 0);
    assert_int_equal(tw_write_file_atomic(path, "second", 6, 0600, NULL), 0);
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_read_file(path, 100, &b, NULL), 0);
    assert_string_equal(b.data, "second");
    tw_buf_free(&b);
    struct stat st;
    stat(path, &st);
    assert_int_equal(st.st_mode & 0777, 0600);
    char tmp[340];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
}

static void test_read_file_refuses_files_over_the_limit(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/big", root);
    assert_int_equal(tw_write_file_atomic(path, "0123456789", 10, 0600, NULL), 0);
    tw_buf b = TW_BUF_INIT;
    tw_err err;
    assert_int_equal(tw_read_file(path, 5, &b, &err), -EFBIG);
    assert_non_null(strstr(err.msg, "larger than 5 bytes"));
    tw_buf_free(&b);
}

static void test_atomic_write_into_missing_directory_fails_clearly(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/missing/dir/file", root);
    tw_err err;
    assert_int_equal(tw_write_file_atomic(path, "x", 1, 0600, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "cannot create"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mkdir_p_creates_parents_and_accepts_existing),
        cmocka_unit_test(test_mkdir_p_over_a_file_says_not_a_directory),
        cmocka_unit_test(test_private_dir_is_tightened),
        cmocka_unit_test(test_atomic_write_replaces_content_and_leaves_no_temp),
        cmocka_unit_test(test_read_file_refuses_files_over_the_limit),
        cmocka_unit_test(test_atomic_write_into_missing_directory_fails_clearly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
