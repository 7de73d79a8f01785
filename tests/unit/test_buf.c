/* test_buf.c — tw_buf and tw_err behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

static void test_empty_buffer_reads_as_empty_string(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    assert_string_equal(tw_buf_cstr(&b), "");
    char *s = tw_buf_steal(&b);
    assert_string_equal(s, "");
    free(s);
}

static void test_appends_grow_and_stay_nul_terminated(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        tw_buf_putc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.data[10000], '\0');
    assert_int_equal(b.data[9999], 'a' + 9999 % 26);
    tw_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(tw_buf_cstr(&b), "");
    tw_buf_free(&b);
}

static void test_printf_handles_output_longer_than_stack_buffer(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tw_buf b = TW_BUF_INIT;
    tw_buf_puts(&b, "<");
    tw_buf_printf(&b, "%s|%d", big, 42);
    assert_int_equal(b.len, 1 + 999 + 3);
    assert_memory_equal(b.data + b.len - 3, "|42", 3);
    tw_buf_free(&b);
}

static void test_binary_data_keeps_length(void **state)
{
    (void)state;
    tw_buf b = TW_BUF_INIT;
    tw_buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    tw_buf_free(&b);
}

static void test_err_set_returns_code_and_prefix_prepends(void **state)
{
    (void)state;
    tw_err err;
    assert_int_equal(tw_err_set(&err, -EINVAL, "bad %s", "thing"), -EINVAL);
    tw_err_prefix(&err, "agent.conf:%d", 3);
    assert_string_equal(err.msg, "agent.conf:3: bad thing");
    assert_int_equal(tw_err_set(NULL, -ENOENT, "ignored"), -ENOENT);
}

static void test_err_prefix_truncates_long_messages_safely(void **state)
{
    (void)state;
    tw_err err;
    char long_msg[2 * TW_ERR_MAX];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    tw_err_set(&err, -1, "%s", long_msg);
    assert_int_equal(strlen(err.msg), TW_ERR_MAX - 1);
    tw_err_prefix(&err, "prefix");
    assert_int_equal(strlen(err.msg), TW_ERR_MAX - 1);
    assert_memory_equal(err.msg, "prefix: mmm", 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_buffer_reads_as_empty_string),
        cmocka_unit_test(test_appends_grow_and_stay_nul_terminated),
        cmocka_unit_test(test_printf_handles_output_longer_than_stack_buffer),
        cmocka_unit_test(test_binary_data_keeps_length),
        cmocka_unit_test(test_err_set_returns_code_and_prefix_prepends),
        cmocka_unit_test(test_err_prefix_truncates_long_messages_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
