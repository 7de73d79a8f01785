/* test_in_cpu.c — the cpu input against /proc/stat snapshots with
 * hand-computed shares, hotplug, counters going backwards, garbage, and the
 * machine's own /proc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "in_cpu.h"
#include "in_host_sink.h"

#define EPS 1e-9

typedef struct fixture {
    host_proc proc;
    host_sink sink;
    tw_in_cpu *cpu;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    host_proc_init(&f->proc, "in-cpu");
    host_sink_init(&f->sink);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_in_cpu_close(f->cpu);
    host_sink_free(&f->sink);
    host_proc_free(&f->proc);
    free(f);
    return 0;
}

static void open_cpu(fixture *f, const tw_in_cpu_options *options)
{
    tw_err err = {{0}};
    int rc = tw_in_cpu_open(f->proc.root, NULL, options, &f->cpu, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
}

static void collect_ok(fixture *f, int64_t now_ms)
{
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    int rc = tw_in_cpu_collect(f->cpu, now_ms, &f->sink.sink, &err);
    if (rc != 0)
        fail_msg("collect: %s", err.msg);
}

static double usage(fixture *f, const char *state, const char *cpu)
{
    char name[64];
    snprintf(name, sizeof name, "cpu_usage_%s", state);
    return host_value(&f->sink, name, "Percent", "cpu", cpu);
}

static void test_cpu_first_collect_only_primes(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    assert_int_equal(f->sink.n, 0);
}

static void test_cpu_usage_is_share_of_interval_per_core_and_total(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t1", "stat");
    collect_ok(f, 11000);

    /* cpu-total: 2000 ticks, of which user 600 (guest 100 in it), nice 40
     * (guest_nice 20), system 200, idle 1000, iowait 100, irq 10, softirq
     * 30, steal 20. */
    assert_float_equal(usage(f, "user", "cpu-total"), 25.0, EPS);
    assert_float_equal(usage(f, "system", "cpu-total"), 10.0, EPS);
    assert_float_equal(usage(f, "idle", "cpu-total"), 50.0, EPS);
    assert_float_equal(usage(f, "nice", "cpu-total"), 1.0, EPS);
    assert_float_equal(usage(f, "iowait", "cpu-total"), 5.0, EPS);
    assert_float_equal(usage(f, "irq", "cpu-total"), 0.5, EPS);
    assert_float_equal(usage(f, "softirq", "cpu-total"), 1.5, EPS);
    assert_float_equal(usage(f, "steal", "cpu-total"), 1.0, EPS);
    assert_float_equal(usage(f, "guest", "cpu-total"), 5.0, EPS);
    assert_float_equal(usage(f, "guest_nice", "cpu-total"), 1.0, EPS);
    assert_float_equal(usage(f, "active", "cpu-total"), 50.0, EPS);

    /* cpu0: 1000 ticks: user 400 (guest 100), nice 40 (guest_nice 20),
     * system 100, idle 380, iowait 40, irq 10, softirq 20, steal 10. */
    assert_float_equal(usage(f, "user", "cpu0"), 30.0, EPS);
    assert_float_equal(usage(f, "nice", "cpu0"), 2.0, EPS);
    assert_float_equal(usage(f, "idle", "cpu0"), 38.0, EPS);
    assert_float_equal(usage(f, "guest", "cpu0"), 10.0, EPS);
    assert_float_equal(usage(f, "active", "cpu0"), 62.0, EPS);
    /* cpu1: 1000 ticks: user 200, system 100, idle 620, iowait 60,
     * softirq 10, steal 10. */
    assert_float_equal(usage(f, "user", "cpu1"), 20.0, EPS);
    assert_float_equal(usage(f, "idle", "cpu1"), 62.0, EPS);
    assert_float_equal(usage(f, "iowait", "cpu1"), 6.0, EPS);
    assert_float_equal(usage(f, "active", "cpu1"), 38.0, EPS);

    /* 11 usage_* per cpu, nothing else by default, all at now_ms. */
    assert_int_equal(f->sink.n, 33);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu-total"), 11);
    for (size_t i = 0; i < f->sink.n; i++) {
        assert_int_equal(f->sink.samples[i].time_ms, 11000);
        assert_int_equal(f->sink.samples[i].n_dims, 1);
    }
}

static void test_cpu_ten_states_add_up_to_100(void **state)
{
    fixture *f = *state;
    static const char *const states[] = {"user",    "system", "idle",  "nice",  "iowait",
                                         "irq",     "softirq", "steal", "guest", "guest_nice"};
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t1", "stat");
    collect_ok(f, 2000);
    const char *cpus[] = {"cpu-total", "cpu0", "cpu1"};
    for (int c = 0; c < 3; c++) {
        double sum = 0;
        for (int s = 0; s < 10; s++)
            sum += usage(f, states[s], cpus[c]);
        assert_float_equal(sum, 100.0, 1e-6);
    }
}

static void test_cpu_times_option_reports_seconds_of_the_interval(void **state)
{
    fixture *f = *state;
    tw_in_cpu_options options = {.times = true, .no_per_cpu = true};
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, &options);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t1", "stat");
    collect_ok(f, 2000);
    double hz = (double)sysconf(_SC_CLK_TCK);
    assert_float_equal(host_value(&f->sink, "cpu_time_user", "None", "cpu", "cpu-total"),
                       600 / hz, EPS);
    assert_float_equal(host_value(&f->sink, "cpu_time_idle", "None", "cpu", "cpu-total"),
                       1000 / hz, EPS);
    assert_float_equal(host_value(&f->sink, "cpu_time_active", "None", "cpu", "cpu-total"),
                       1000 / hz, EPS);
    assert_float_equal(host_value(&f->sink, "cpu_time_guest", "None", "cpu", "cpu-total"),
                       100 / hz, EPS);
    assert_int_equal(f->sink.n, 22); /* total only: 11 usage + 11 time */
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu0"), 0);
}

static void test_cpu_no_total_reports_cores_only(void **state)
{
    fixture *f = *state;
    tw_in_cpu_options options = {.no_total = true};
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, &options);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "t1", "stat");
    collect_ok(f, 2000);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu-total"), 0);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu0"), 11);
}

static void test_cpu_backwards_iowait_counts_as_zero_and_offline_core_is_dropped(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t1", "stat");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    /* t2: iowait went down by 10 ticks, cpu0 went offline. */
    host_proc_put(&f->proc, "t2", "stat");
    collect_ok(f, 2000);
    assert_float_equal(usage(f, "iowait", "cpu-total"), 0.0, EPS);
    /* 550 ticks: user 100, system 50, idle 400. */
    assert_float_equal(usage(f, "idle", "cpu-total"), 400.0 / 550 * 100, 1e-9);
    assert_float_equal(usage(f, "user", "cpu-total"), 100.0 / 550 * 100, 1e-9);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu0"), 0);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu1"), 11);
}

static void test_cpu_core_back_online_primes_before_reporting(void **state)
{
    fixture *f = *state;
    host_proc_write(&f->proc, "stat", "cpu  100 0 100 100\ncpu0 50 0 50 50\ncpu1 50 0 50 50\n");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    host_proc_write(&f->proc, "stat", "cpu  200 0 200 200\ncpu1 150 0 150 150\n");
    collect_ok(f, 2000);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu1"), 11);
    host_proc_write(&f->proc, "stat",
                    "cpu  300 0 300 300\ncpu0 60 0 60 60\ncpu1 250 0 250 250\n");
    collect_ok(f, 3000);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu0"), 0);
    host_proc_write(&f->proc, "stat",
                    "cpu  400 0 400 400\ncpu0 70 0 70 70\ncpu1 350 0 350 350\n");
    collect_ok(f, 4000);
    assert_float_equal(usage(f, "user", "cpu0"), 100.0 / 3, 1e-9);
    /* Old kernels print 4 columns: the missing ones are 0. */
    assert_float_equal(usage(f, "steal", "cpu0"), 0.0, EPS);
}

static void test_cpu_total_going_backwards_is_a_reset_not_an_interval(void **state)
{
    fixture *f = *state;
    host_proc_write(&f->proc, "stat", "cpu  1000 0 1000 1000 0 0 0 0 0 0\n");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    host_proc_write(&f->proc, "stat", "cpu  10 0 10 10 0 0 0 0 0 0\n");
    collect_ok(f, 2000);
    assert_int_equal(f->sink.n, 0);
    host_proc_write(&f->proc, "stat", "cpu  20 0 20 30 0 0 0 0 0 0\n");
    collect_ok(f, 3000);
    assert_float_equal(usage(f, "idle", "cpu-total"), 50.0, EPS);
}

static void test_cpu_no_elapsed_tick_reports_nothing(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    collect_ok(f, 1001);
    assert_int_equal(f->sink.n, 0);
}

static void test_cpu_garbled_line_names_file_and_line_and_keeps_the_rest(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, NULL);
    collect_ok(f, 1000);
    host_proc_put(&f->proc, "garbled", "stat");
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    assert_int_equal(tw_in_cpu_collect(f->cpu, 2000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "/stat line 3: expected \"cpuN\" and 4 to 10 tick counts, "
                                    "got \"cpu1 5200 100 16x0 "));
    assert_float_equal(usage(f, "user", "cpu-total"), 25.0, EPS);
    assert_float_equal(usage(f, "user", "cpu0"), 30.0, EPS);
    assert_int_equal(host_sink_count_dim(&f->sink, "cpu", "cpu1"), 0);
}

static void test_cpu_file_without_cpu_lines_is_an_error(void **state)
{
    fixture *f = *state;
    host_proc_write(&f->proc, "stat", "intr 1 2 3\nctxt 4\n");
    open_cpu(f, NULL);
    tw_err err = {{0}};
    assert_int_equal(tw_in_cpu_collect(f->cpu, 1000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "no \"cpu\" line"));
    host_proc_write(&f->proc, "stat", "");
    assert_int_equal(tw_in_cpu_collect(f->cpu, 2000, &f->sink.sink, &err), -EINVAL);
    host_proc_write(&f->proc, "stat", "cpu0 1 2 3 4\ncpu0 1 2 3 4\ncpuX 1 2 3 4\n");
    assert_int_equal(tw_in_cpu_collect(f->cpu, 3000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "line 2: expected each cpu line once"));
}

static void test_cpu_missing_file_is_a_clear_open_error(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_cpu_open(f->proc.root, NULL, NULL, &f->cpu, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "cannot open "));
    assert_non_null(strstr(err.msg, "/stat: No such file or directory"));
    f->cpu = NULL;
}

static void test_cpu_random_bytes_never_crash(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "stat");
    open_cpu(f, NULL);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    static char text[8192];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(seed % sizeof text);
        host_random_text(&seed, text, len);
        if (i % 3 == 0) /* keep a plausible prefix so the parser goes deep */
            memcpy(text, "cpu  1 2 3 4 5 ", len < 15 ? len : 15);
        host_proc_write_bytes(&f->proc, "stat", text, len);
        tw_err err = {{0}};
        host_sink_clear(&f->sink);
        int rc = tw_in_cpu_collect(f->cpu, 1000 + i, &f->sink.sink, &err);
        if (rc != 0)
            assert_true(err.msg[0] != '\0');
        for (size_t s = 0; s < f->sink.n; s++)
            assert_true(f->sink.samples[s].value >= 0 && f->sink.samples[s].value <= 100);
    }
}

static void test_cpu_real_proc_gives_sane_shares(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_cpu_open("/proc", "/sys", NULL, &f->cpu, &err), 0);
    collect_ok(f, 1000);
    usleep(250 * 1000);
    collect_ok(f, 1250);
    assert_true(f->sink.n >= 11);
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(host_sink_count_name(&f->sink, "cpu_usage_idle"), (size_t)n_cpus + 1);
    for (size_t i = 0; i < f->sink.n; i++) {
        assert_true(f->sink.samples[i].value >= 0.0);
        assert_true(f->sink.samples[i].value <= 100.0 + 1e-9);
    }
    double idle = usage(f, "idle", "cpu-total");
    double active = usage(f, "active", "cpu-total");
    assert_float_equal(idle + active, 100.0, 1e-6);
}

/* Collects 11 ms apart (a tick of USER_HZ passes, so every collect
 * computes and emits); only the collect calls are timed. */
static void test_cpu_cost_per_collect_on_real_proc(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_count_sink counter;
    host_count_sink_init(&counter);
    tw_alloc_self_check();
    assert_int_equal(tw_in_cpu_open("/proc", "/sys", NULL, &f->cpu, &err), 0);
    assert_int_equal(tw_in_cpu_collect(f->cpu, 0, &counter.sink, &err), 0);
    enum { N = 100 };
    size_t calls, bytes;
    double wall = 0, cpu = 0;
    tw_alloc_begin();
    for (int i = 1; i <= N; i++) {
        usleep(11000);
        double t0 = host_now_us(), c0 = host_cpu_us();
        assert_int_equal(tw_in_cpu_collect(f->cpu, i * 1000, &counter.sink, &err), 0);
        wall += host_now_us() - t0;
        cpu += host_cpu_us() - c0;
    }
    tw_alloc_end(&calls, &bytes);
    wall /= N;
    cpu /= N;
    print_message("cpu: %.1f us wall, %.1f us CPU per collect, %zu samples, %zu allocations "
                  "(%zu bytes) in %d collects%s\n",
                  wall, cpu, counter.n / N, calls, bytes, N,
                  tw_alloc_counting() ? "" : " (not counted under sanitizers)");
    assert_int_equal(calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cpu_first_collect_only_primes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_usage_is_share_of_interval_per_core_and_total,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_ten_states_add_up_to_100, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_times_option_reports_seconds_of_the_interval,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_no_total_reports_cores_only, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_cpu_backwards_iowait_counts_as_zero_and_offline_core_is_dropped, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_cpu_core_back_online_primes_before_reporting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cpu_total_going_backwards_is_a_reset_not_an_interval,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_no_elapsed_tick_reports_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_cpu_garbled_line_names_file_and_line_and_keeps_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_file_without_cpu_lines_is_an_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cpu_missing_file_is_a_clear_open_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cpu_random_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_real_proc_gives_sane_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_cost_per_collect_on_real_proc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
