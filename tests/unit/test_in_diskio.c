/* test_in_diskio.c — the diskio input against /proc/diskstats snapshots
 * (sda, sda1, nvme0n1, dm-0, an idle sdb, loop and ram devices): deltas by
 * hand, which devices are reported, counter wrap, old kernel layouts,
 * garbage, and the machine's own /proc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "in_diskio.h"
#include "in_host_sink.h"

#define EPS 1e-9

typedef struct fixture {
    host_proc proc;
    host_sink sink;
    tw_in_diskio *diskio;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    host_proc_init(&f->proc, "in-diskio");
    host_sink_init(&f->sink);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_in_diskio_close(f->diskio);
    host_sink_free(&f->sink);
    host_proc_free(&f->proc);
    free(f);
    return 0;
}

static void open_diskio(fixture *f, const tw_in_diskio_options *options)
{
    tw_err err = {{0}};
    int rc = tw_in_diskio_open(f->proc.root, NULL, options, &f->diskio, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
}

static void collect_ok(fixture *f, int64_t now_ms)
{
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    int rc = tw_in_diskio_collect(f->diskio, now_ms, &f->sink.sink, &err);
    if (rc != 0)
        fail_msg("collect: %s", err.msg);
}

static double value(fixture *f, const char *name, const char *unit, const char *device)
{
    return host_value(&f->sink, name, unit, "name", device);
}

static void test_diskio_first_collect_reports_in_flight_only(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "diskstats");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    /* sda, sda1, nvme0n1, nvme0n1p1, dm-0: the gauge only. */
    assert_int_equal(f->sink.n, 5);
    assert_int_equal(host_sink_count_name(&f->sink, "diskio_iops_in_progress"), 5);
    assert_float_equal(value(f, "diskio_iops_in_progress", "Count", "nvme0n1"), 2, EPS);
}

static void test_diskio_deltas_per_device(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "diskstats");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t1", "diskstats");
    collect_ok(f, 61000);
    /* sda: 100 reads of 2048 sectors in 50 ms, 200 writes of 4096 sectors
     * in 300 ms, busy 400 ms, 3 in flight now. */
    assert_float_equal(value(f, "diskio_reads", "Count", "sda"), 100, EPS);
    assert_float_equal(value(f, "diskio_writes", "Count", "sda"), 200, EPS);
    assert_float_equal(value(f, "diskio_read_bytes", "Bytes", "sda"), 1048576, EPS);
    assert_float_equal(value(f, "diskio_write_bytes", "Bytes", "sda"), 2097152, EPS);
    assert_float_equal(value(f, "diskio_read_time", "Milliseconds", "sda"), 50, EPS);
    assert_float_equal(value(f, "diskio_write_time", "Milliseconds", "sda"), 300, EPS);
    assert_float_equal(value(f, "diskio_io_time", "Milliseconds", "sda"), 400, EPS);
    assert_float_equal(value(f, "diskio_iops_in_progress", "Count", "sda"), 3, EPS);
    assert_float_equal(value(f, "diskio_reads", "Count", "nvme0n1"), 1000, EPS);
    assert_float_equal(value(f, "diskio_write_bytes", "Bytes", "nvme0n1"), 16384.0 * 512, EPS);
    assert_float_equal(value(f, "diskio_reads", "Count", "sda1"), 100, EPS);
    assert_float_equal(value(f, "diskio_reads", "Count", "dm-0"), 0, EPS); /* active once: kept */
    /* sdb's first activity since boot is counted in full. */
    assert_float_equal(value(f, "diskio_reads", "Count", "sdb"), 5, EPS);
    assert_float_equal(value(f, "diskio_read_bytes", "Bytes", "sdb"), 40 * 512, EPS);
    assert_float_equal(value(f, "diskio_io_time", "Milliseconds", "sdb"), 7, EPS);
    /* loop0 (active), loop1, ram0: never. */
    assert_int_equal(host_sink_count_dim(&f->sink, "name", "loop0"), 0);
    assert_int_equal(host_sink_count_dim(&f->sink, "name", "loop1"), 0);
    assert_int_equal(host_sink_count_dim(&f->sink, "name", "ram0"), 0);
    assert_int_equal(f->sink.n, 6 * 8);
    for (size_t i = 0; i < f->sink.n; i++)
        assert_int_equal(f->sink.samples[i].time_ms, 61000);
}

static void test_diskio_idle_device_is_not_reported(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "diskstats");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    collect_ok(f, 2000);
    assert_int_equal(host_sink_count_dim(&f->sink, "name", "sdb"), 0);
    assert_int_equal(host_sink_count_dim(&f->sink, "name", "sda"), 8);
}

static void test_diskio_device_globs_choose_exactly_even_idle_and_loop(void **state)
{
    fixture *f = *state;
    const char *const globs[] = {"loop*", "sdb", NULL};
    tw_in_diskio_options options = {.devices = globs};
    host_proc_put(&f->proc, "t0", "diskstats");
    open_diskio(f, &options);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t1", "diskstats");
    collect_ok(f, 2000);
    assert_float_equal(value(f, "diskio_reads", "Count", "loop0"), 10, EPS);
    assert_float_equal(value(f, "diskio_reads", "Count", "loop1"), 0, EPS);
    assert_float_equal(value(f, "diskio_reads", "Count", "sdb"), 5, EPS);
    assert_int_equal(f->sink.n, 3 * 8);
}

static void test_diskio_counter_going_down_gives_no_sample_for_that_interval(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t1", "diskstats");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t2", "diskstats"); /* sda's io_time went from 30400 to 12 */
    collect_ok(f, 2000);
    assert_null(host_sink_find(&f->sink, "diskio_io_time", "name", "sda"));
    assert_float_equal(value(f, "diskio_reads", "Count", "sda"), 10, EPS);
    assert_float_equal(value(f, "diskio_io_time", "Milliseconds", "sda1"), 0, EPS);
    for (size_t i = 0; i < f->sink.n; i++)
        assert_true(f->sink.samples[i].value >= 0 && f->sink.samples[i].value < 1e9);
}

static void test_diskio_old_kernel_layout_and_in_flight_underflow(void **state)
{
    fixture *f = *state;
    /* Linux < 4.18: 11 counters; a kernel bug shows in-flight as 2^32 - 1. */
    host_proc_write(&f->proc, "diskstats",
                    " 202 0 xvda 10 0 80 5 20 0 160 9 4294967295 12 14\n");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    assert_int_equal(f->sink.n, 0);
    host_proc_write(&f->proc, "diskstats",
                    " 202 0 xvda 11 0 88 6 22 0 176 10 1 13 16\n");
    collect_ok(f, 2000);
    assert_float_equal(value(f, "diskio_reads", "Count", "xvda"), 1, EPS);
    assert_float_equal(value(f, "diskio_write_bytes", "Bytes", "xvda"), 16 * 512, EPS);
    assert_float_equal(value(f, "diskio_iops_in_progress", "Count", "xvda"), 1, EPS);
}

static void test_diskio_device_that_comes_back_primes_again(void **state)
{
    fixture *f = *state;
    host_proc_write(&f->proc, "diskstats", " 8 0 sda 10 0 80 5 20 0 160 9 0 12 14\n"
                                           " 8 16 sdb 10 0 80 5 20 0 160 9 0 12 14\n");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    host_proc_write(&f->proc, "diskstats", " 8 0 sda 10 0 80 5 20 0 160 9 0 12 14\n");
    collect_ok(f, 2000);
    host_proc_write(&f->proc, "diskstats", " 8 0 sda 10 0 80 5 20 0 160 9 0 12 14\n"
                                           " 8 16 sdb 1 0 8 5 2 0 16 9 0 12 14\n");
    collect_ok(f, 3000);
    assert_null(host_sink_find(&f->sink, "diskio_reads", "name", "sdb"));
    assert_float_equal(value(f, "diskio_iops_in_progress", "Count", "sdb"), 0, EPS);
}

static void test_diskio_garbled_line_names_file_and_line_and_keeps_the_rest(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "diskstats");
    open_diskio(f, NULL);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "garbled", "diskstats");
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    assert_int_equal(tw_in_diskio_collect(f->diskio, 2000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "/diskstats line 4: expected \"MAJOR MINOR NAME\" and 11 to "
                                    "17 counters, got \"   8       1 sda1 12000 garbage\""));
    assert_float_equal(value(f, "diskio_reads", "Count", "sda"), 100, EPS);
    assert_float_equal(value(f, "diskio_reads", "Count", "nvme0n1"), 1000, EPS);
    assert_int_equal(host_sink_count_dim(&f->sink, "name", "sda1"), 0);

    host_proc_write(&f->proc, "diskstats", "8 0\n8 0 sda 1 2 3\nx y z 1 2 3 4 5 6 7 8 9 10 11\n");
    assert_int_equal(tw_in_diskio_collect(f->diskio, 3000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "line 1: expected"));
}

static void test_diskio_missing_file_is_a_clear_open_error(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_diskio_open(f->proc.root, NULL, NULL, &f->diskio, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/diskstats: No such file or directory"));
    f->diskio = NULL;
}

static void test_diskio_random_bytes_never_crash(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "diskstats");
    open_diskio(f, NULL);
    uint64_t seed = 0x853c49e6748fea9bu;
    static char text[8192];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(seed % sizeof text);
        host_random_text(&seed, text, len);
        if (i % 3 == 0)
            memcpy(text, " 8 0 sda 1 2 3 ", len < 15 ? len : 15);
        host_proc_write_bytes(&f->proc, "diskstats", text, len);
        tw_err err = {{0}};
        host_sink_clear(&f->sink);
        int rc = tw_in_diskio_collect(f->diskio, 1000 + i, &f->sink.sink, &err);
        if (rc != 0)
            assert_true(err.msg[0] != '\0');
        for (size_t s = 0; s < f->sink.n; s++)
            assert_true(f->sink.samples[s].value >= 0);
    }
}

static void test_diskio_real_proc_gives_sane_values(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_diskio_open("/proc", "/sys", NULL, &f->diskio, &err), 0);
    collect_ok(f, 1000);
    size_t devices = f->sink.n; /* one gauge per active device */
    collect_ok(f, 2000);
    assert_int_equal(f->sink.n, devices * 8);
    for (size_t i = 0; i < f->sink.n; i++) {
        assert_true(f->sink.samples[i].value >= 0);
        assert_true(strncmp(f->sink.samples[i].dim_value[0], "loop", 4) != 0);
    }
}

static void test_diskio_cost_per_collect_on_real_proc(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_count_sink counter;
    host_count_sink_init(&counter);
    tw_alloc_self_check();
    assert_int_equal(tw_in_diskio_open("/proc", "/sys", NULL, &f->diskio, &err), 0);
    assert_int_equal(tw_in_diskio_collect(f->diskio, 0, &counter.sink, &err), 0);
    enum { N = 2000 };
    size_t calls, bytes;
    counter.n = 0;
    double t0 = host_now_us(), c0 = host_cpu_us();
    tw_alloc_begin();
    for (int i = 1; i <= N; i++)
        assert_int_equal(tw_in_diskio_collect(f->diskio, i * 1000, &counter.sink, &err), 0);
    tw_alloc_end(&calls, &bytes);
    double wall = (host_now_us() - t0) / N, cpu = (host_cpu_us() - c0) / N;
    print_message("diskio: %.1f us wall, %.1f us CPU per collect, %zu samples, %zu allocations "
                  "(%zu bytes) in %d collects%s\n",
                  wall, cpu, counter.n / N, calls, bytes, N,
                  tw_alloc_counting() ? "" : " (not counted under sanitizers)");
    assert_int_equal(calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_diskio_first_collect_reports_in_flight_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_diskio_deltas_per_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskio_idle_device_is_not_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_diskio_device_globs_choose_exactly_even_idle_and_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_diskio_counter_going_down_gives_no_sample_for_that_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskio_old_kernel_layout_and_in_flight_underflow,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskio_device_that_comes_back_primes_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_diskio_garbled_line_names_file_and_line_and_keeps_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskio_missing_file_is_a_clear_open_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_diskio_random_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskio_real_proc_gives_sane_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskio_cost_per_collect_on_real_proc, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
