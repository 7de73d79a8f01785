/* test_in_mem.c — the mem input against /proc/meminfo snapshots with
 * hand-computed values, a host without swap, a kernel without MemAvailable,
 * garbage, and the machine's own /proc/meminfo. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "in_host_sink.h"
#include "in_mem.h"

#define EPS 1e-9
#define KB 1024.0

typedef struct fixture {
    host_proc proc;
    host_sink sink;
    tw_in_mem *mem;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    host_proc_init(&f->proc, "in-mem");
    host_sink_init(&f->sink);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_in_mem_close(f->mem);
    host_sink_free(&f->sink);
    host_proc_free(&f->proc);
    free(f);
    return 0;
}

static void open_mem(fixture *f, const tw_in_mem_options *options)
{
    tw_err err = {{0}};
    int rc = tw_in_mem_open(f->proc.root, NULL, options, &f->mem, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
}

static int collect(fixture *f, int64_t now_ms, tw_err *err)
{
    host_sink_clear(&f->sink);
    return tw_in_mem_collect(f->mem, now_ms, &f->sink.sink, err);
}

static double bytes(fixture *f, const char *name)
{
    return host_value(&f->sink, name, "Bytes", NULL, NULL);
}

static double percent(fixture *f, const char *name)
{
    return host_value(&f->sink, name, "Percent", NULL, NULL);
}

static void test_mem_values_match_meminfo_as_the_cloudwatch_agent_computes_them(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_proc_put(&f->proc, "t0", "meminfo");
    open_mem(f, NULL);
    assert_int_equal(collect(f, 5000, &err), 0); /* gauges: the first collect reports */
    assert_float_equal(bytes(f, "mem_total"), 16000000 * KB, EPS);
    assert_float_equal(bytes(f, "mem_available"), 10000000 * KB, EPS);
    assert_float_equal(bytes(f, "mem_used"), 6000000 * KB, EPS); /* total - available */
    assert_float_equal(bytes(f, "mem_free"), 2000000 * KB, EPS);
    /* cached: Cached + SReclaimable */
    assert_float_equal(bytes(f, "mem_cached"), (7000000 + 400000) * KB, EPS);
    assert_float_equal(bytes(f, "mem_buffered"), 500000 * KB, EPS);
    assert_float_equal(bytes(f, "mem_active"), 6000000 * KB, EPS);
    assert_float_equal(bytes(f, "mem_inactive"), 5000000 * KB, EPS);
    assert_float_equal(bytes(f, "mem_shared"), 300000 * KB, EPS);
    assert_float_equal(percent(f, "mem_used_percent"), 37.5, EPS);
    assert_float_equal(percent(f, "mem_available_percent"), 62.5, EPS);
    assert_float_equal(bytes(f, "swap_used"), 1000000 * KB, EPS);
    assert_float_equal(bytes(f, "swap_free"), 3000000 * KB, EPS);
    assert_float_equal(percent(f, "swap_used_percent"), 25.0, EPS);
    assert_int_equal(f->sink.n, 14);
    for (size_t i = 0; i < f->sink.n; i++) {
        assert_int_equal(f->sink.samples[i].time_ms, 5000);
        assert_int_equal(f->sink.samples[i].n_dims, 0);
    }
}

static void test_mem_second_snapshot_and_host_without_swap(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_proc_put(&f->proc, "t0", "meminfo");
    open_mem(f, NULL);
    assert_int_equal(collect(f, 1000, &err), 0);
    host_proc_put(&f->proc, "t1", "meminfo"); /* swapoff happened */
    assert_int_equal(collect(f, 2000, &err), 0);
    assert_float_equal(percent(f, "mem_used_percent"), 50.0, EPS);
    assert_float_equal(percent(f, "mem_available_percent"), 50.0, EPS);
    assert_float_equal(bytes(f, "mem_cached"), (6200000 + 390000) * KB, EPS);
    assert_float_equal(bytes(f, "swap_used"), 0, EPS);
    assert_float_equal(percent(f, "swap_used_percent"), 0, EPS);
}

static void test_mem_no_swap_option_leaves_swap_out(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    tw_in_mem_options options = {.no_swap = true};
    host_proc_put(&f->proc, "t0", "meminfo");
    open_mem(f, &options);
    assert_int_equal(collect(f, 1000, &err), 0);
    assert_int_equal(f->sink.n, 11);
    assert_null(host_sink_find(&f->sink, "swap_used", NULL, NULL));
}

static void test_mem_kernel_without_memavailable_estimates_it(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_proc_write(&f->proc, "meminfo",
                    "MemTotal:        1000 kB\nMemFree:          100 kB\nBuffers:           50 kB\n"
                    "Cached:           250 kB\nSwapTotal:          0 kB\nSwapFree:           0 kB\n");
    open_mem(f, NULL);
    assert_int_equal(collect(f, 1000, &err), 0);
    assert_float_equal(bytes(f, "mem_available"), 400 * KB, EPS);
    assert_float_equal(percent(f, "mem_used_percent"), 60.0, EPS);
    assert_null(host_sink_find(&f->sink, "mem_shared", NULL, NULL)); /* no Shmem line */
}

static void test_mem_garbled_value_names_the_line_and_keeps_the_rest(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_proc_put(&f->proc, "garbled", "meminfo");
    open_mem(f, NULL);
    assert_int_equal(collect(f, 1000, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "/meminfo line 2: expected \"Name: <number> kB\", got "
                                    "\"MemFree:             abc kB\""));
    assert_null(host_sink_find(&f->sink, "mem_free", NULL, NULL));
    assert_float_equal(percent(f, "mem_used_percent"), 50.0, EPS);
    assert_float_equal(bytes(f, "mem_total"), 16000000 * KB, EPS);
}

static void test_mem_inconsistent_or_missing_values_are_errors_not_nonsense(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_proc_write(&f->proc, "meminfo",
                    "MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable: 200 kB\nSwapTotal: 5 kB\n"
                    "SwapFree: 9 kB\n");
    open_mem(f, NULL);
    assert_int_equal(collect(f, 1000, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "MemAvailable larger than MemTotal"));
    assert_null(host_sink_find(&f->sink, "mem_used_percent", NULL, NULL));
    assert_null(host_sink_find(&f->sink, "swap_used", NULL, NULL));

    host_proc_write(&f->proc, "meminfo", "Something: 1 kB\n");
    assert_int_equal(collect(f, 2000, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "no MemTotal line"));
    assert_int_equal(f->sink.n, 0);

    host_proc_write(&f->proc, "meminfo", "MemTotal: 100 MB\nMemTotal: 99999999999999999999 kB\n");
    assert_int_equal(collect(f, 3000, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "line 1: expected"));
}

static void test_mem_missing_file_is_a_clear_open_error(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_mem_open(f->proc.root, NULL, NULL, &f->mem, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/meminfo: No such file or directory"));
    f->mem = NULL;
}

static void test_mem_random_bytes_never_crash(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "meminfo");
    open_mem(f, NULL);
    uint64_t seed = 0x2545f4914f6cdd1du;
    static char text[8192];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(seed % sizeof text);
        host_random_text(&seed, text, len);
        if (i % 3 == 0)
            memcpy(text, "MemTotal: 7", len < 11 ? len : 11);
        host_proc_write_bytes(&f->proc, "meminfo", text, len);
        tw_err err = {{0}};
        int rc = collect(f, 1000 + i, &err);
        if (rc != 0)
            assert_true(err.msg[0] != '\0');
    }
}

/* What the check does: mem_used_percent within 2 points of the
 * value computed from /proc/meminfo by hand. */
static void test_mem_real_proc_agrees_with_meminfo(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_mem_open("/proc", "/sys", NULL, &f->mem, &err), 0);
    assert_int_equal(collect(f, 1000, &err), 0);
    FILE *fp = fopen("/proc/meminfo", "r");
    assert_non_null(fp);
    char line[256];
    double total = 0, available = 0;
    while (fgets(line, sizeof line, fp)) {
        sscanf(line, "MemTotal: %lf kB", &total);
        sscanf(line, "MemAvailable: %lf kB", &available);
    }
    fclose(fp);
    assert_true(total > 0);
    double expected = (total - available) / total * 100;
    double got = percent(f, "mem_used_percent");
    assert_true(got >= 0 && got <= 100);
    assert_true(got > expected - 2 && got < expected + 2);
    assert_float_equal(got + percent(f, "mem_available_percent"), 100.0, 1e-9);
    assert_float_equal(bytes(f, "mem_total"), total * KB, EPS);
    double swap = percent(f, "swap_used_percent");
    assert_true(swap >= 0 && swap <= 100);
}

static void test_mem_cost_per_collect_on_real_proc(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_count_sink counter;
    host_count_sink_init(&counter);
    tw_alloc_self_check();
    assert_int_equal(tw_in_mem_open("/proc", "/sys", NULL, &f->mem, &err), 0);
    assert_int_equal(tw_in_mem_collect(f->mem, 0, &counter.sink, &err), 0);
    enum { N = 2000 };
    size_t calls, bytes_;
    counter.n = 0;
    double t0 = host_now_us(), c0 = host_cpu_us();
    tw_alloc_begin();
    for (int i = 1; i <= N; i++)
        assert_int_equal(tw_in_mem_collect(f->mem, i * 1000, &counter.sink, &err), 0);
    tw_alloc_end(&calls, &bytes_);
    double wall = (host_now_us() - t0) / N, cpu = (host_cpu_us() - c0) / N;
    print_message("mem: %.1f us wall, %.1f us CPU per collect, %zu samples, %zu allocations "
                  "(%zu bytes) in %d collects%s\n",
                  wall, cpu, counter.n / N, calls, bytes_, N,
                  tw_alloc_counting() ? "" : " (not counted under sanitizers)");
    assert_int_equal(calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_mem_values_match_meminfo_as_the_cloudwatch_agent_computes_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_second_snapshot_and_host_without_swap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mem_no_swap_option_leaves_swap_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_kernel_without_memavailable_estimates_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mem_garbled_value_names_the_line_and_keeps_the_rest,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_mem_inconsistent_or_missing_values_are_errors_not_nonsense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_missing_file_is_a_clear_open_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mem_random_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_real_proc_agrees_with_meminfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_cost_per_collect_on_real_proc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
