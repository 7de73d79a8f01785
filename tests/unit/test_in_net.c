/* test_in_net.c — the net input against /proc/net/dev snapshots and a fake
 * sysfs (lo, eth0 on PCI, docker0 and a veth under devices/virtual):
 * deltas and rates computed by hand, filters, counter wrap, interfaces
 * coming and going, garbage, and the machine's own /proc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "in_host_sink.h"
#include "in_net.h"

#define EPS 1e-9

typedef struct fixture {
    host_proc proc;
    char sys[300];
    host_sink sink;
    tw_in_net *net;
} fixture;

static void link_iface(const fixture *f, const char *name, const char *devpath, const char *flags,
                       bool has_device)
{
    char rel[256], target[300], link[400];
    snprintf(rel, sizeof rel, "sys/%s/%s/flags", devpath, name);
    host_proc_write(&f->proc, rel, flags);
    if (has_device) {
        snprintf(link, sizeof link, "%s/sys/%s/%s/device", f->proc.root, devpath, name);
        assert_int_equal(symlink("../../../0000:00:03.0", link), 0);
    }
    snprintf(target, sizeof target, "../../%s/%s", devpath, name);
    snprintf(link, sizeof link, "%s/sys/class/net/%s", f->proc.root, name);
    assert_int_equal(symlink(target, link), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    host_proc_init(&f->proc, "in-net");
    host_sink_init(&f->sink);
    snprintf(f->sys, sizeof f->sys, "%s/sys", f->proc.root);
    host_proc_write(&f->proc, "sys/class/net/.keep", "");
    link_iface(f, "lo", "devices/virtual/net", "0x9\n", false);
    link_iface(f, "eth0", "devices/pci0000:00/0000:00:03.0/net", "0x1003\n", true);
    link_iface(f, "docker0", "devices/virtual/net", "0x1003\n", false);
    link_iface(f, "veth1a2b3c4", "devices/virtual/net", "0x1003\n", false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_in_net_close(f->net);
    host_sink_free(&f->sink);
    host_proc_free(&f->proc);
    free(f);
    return 0;
}

static void open_net(fixture *f, const char *sys, const tw_in_net_options *options)
{
    tw_err err = {{0}};
    int rc = tw_in_net_open(f->proc.root, sys, options, &f->net, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
}

static void collect_ok(fixture *f, int64_t now_ms)
{
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    int rc = tw_in_net_collect(f->net, now_ms, &f->sink.sink, &err);
    if (rc != 0)
        fail_msg("collect: %s", err.msg);
}

static double value(fixture *f, const char *name, const char *unit, const char *iface)
{
    return host_value(&f->sink, name, unit, "interface", iface);
}

/* t0 then t1, 5 seconds apart. */
static void two_snapshots(fixture *f, const char *sys, const tw_in_net_options *options)
{
    host_proc_put(&f->proc, "t0", "net/dev");
    open_net(f, sys, options);
    collect_ok(f, 100000);
    assert_int_equal(f->sink.n, 0); /* the first collect only primes */
    host_proc_put(&f->proc, "t1", "net/dev");
    collect_ok(f, 105000);
}

static void test_net_deltas_and_rates_per_interface(void **state)
{
    fixture *f = *state;
    two_snapshots(f, f->sys, NULL);
    /* eth0 in those 5 s: received 500000 bytes, 400 packets, 2 errors, 1
     * drop; sent 100000 bytes, 300 packets, 3 drops. */
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "eth0"), 500000, EPS);
    assert_float_equal(value(f, "net_bytes_sent", "Bytes", "eth0"), 100000, EPS);
    assert_float_equal(value(f, "net_packets_recv", "Count", "eth0"), 400, EPS);
    assert_float_equal(value(f, "net_packets_sent", "Count", "eth0"), 300, EPS);
    assert_float_equal(value(f, "net_err_in", "Count", "eth0"), 2, EPS);
    assert_float_equal(value(f, "net_err_out", "Count", "eth0"), 0, EPS);
    assert_float_equal(value(f, "net_drop_in", "Count", "eth0"), 1, EPS);
    assert_float_equal(value(f, "net_drop_out", "Count", "eth0"), 3, EPS);
    assert_float_equal(value(f, "net_bytes_recv_per_sec", "Bytes/Second", "eth0"), 100000, EPS);
    assert_float_equal(value(f, "net_bytes_sent_per_sec", "Bytes/Second", "eth0"), 20000, EPS);
    assert_float_equal(value(f, "net_packets_recv_per_sec", "Count/Second", "eth0"), 80, EPS);
    assert_float_equal(value(f, "net_packets_sent_per_sec", "Count/Second", "eth0"), 60, EPS);
    assert_float_equal(value(f, "net_err_in_per_sec", "Count/Second", "eth0"), 0.4, EPS);
    assert_float_equal(value(f, "net_drop_out_per_sec", "Count/Second", "eth0"), 0.6, EPS);
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "docker0"), 2500, EPS);
    assert_float_equal(value(f, "net_bytes_sent", "Bytes", "veth1a2b3c4"), 2500, EPS);
    /* 16 samples for each of eth0, docker0, veth; loopback left out. */
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "lo"), 0);
    assert_int_equal(f->sink.n, 3 * 16);
    for (size_t i = 0; i < f->sink.n; i++)
        assert_int_equal(f->sink.samples[i].time_ms, 105000);
}

static void test_net_include_loopback(void **state)
{
    fixture *f = *state;
    tw_in_net_options options = {.include_loopback = true};
    two_snapshots(f, f->sys, &options);
    assert_float_equal(value(f, "net_bytes_sent", "Bytes", "lo"), 1000, EPS);
    assert_int_equal(f->sink.n, 4 * 16);
}

static void test_net_exclude_virtual_keeps_physical_only(void **state)
{
    fixture *f = *state;
    tw_in_net_options options = {.exclude_virtual = true};
    two_snapshots(f, f->sys, &options);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "eth0"), 16);
    assert_int_equal(f->sink.n, 16);
}

static void test_net_interface_globs_choose_exactly(void **state)
{
    fixture *f = *state;
    const char *const globs[] = {"lo", "veth*", NULL};
    tw_in_net_options options = {.interfaces = globs, .exclude_virtual = true};
    two_snapshots(f, f->sys, &options);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "lo"), 16);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "veth1a2b3c4"), 16);
    assert_int_equal(f->sink.n, 32);
}

static void test_net_without_sysfs_lo_is_loopback_by_name(void **state)
{
    fixture *f = *state;
    tw_in_net_options options = {.exclude_virtual = true};
    two_snapshots(f, NULL, &options);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "lo"), 0);
    assert_int_equal(f->sink.n, 3 * 16); /* nothing is known to be virtual */
}

static void test_net_counter_going_down_gives_no_sample_for_that_interval(void **state)
{
    fixture *f = *state;
    two_snapshots(f, f->sys, NULL);
    host_proc_put(&f->proc, "t2", "net/dev"); /* eth0's bytes sent went from 4818400 to 4096 */
    collect_ok(f, 110000);
    assert_null(host_sink_find(&f->sink, "net_bytes_sent", "interface", "eth0"));
    assert_null(host_sink_find(&f->sink, "net_bytes_sent_per_sec", "interface", "eth0"));
    assert_float_equal(value(f, "net_packets_sent", "Count", "eth0"), 20, EPS);
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "eth0"), 1000, EPS);
    for (size_t i = 0; i < f->sink.n; i++)
        assert_true(f->sink.samples[i].value >= 0 && f->sink.samples[i].value < 1e7);
    /* From the wrapped value on, deltas are right again. */
    host_proc_put(&f->proc, "t2", "net/dev");
    collect_ok(f, 115000);
    assert_float_equal(value(f, "net_bytes_sent", "Bytes", "eth0"), 0, EPS);
}

static const char header[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n";

static void write_dev(fixture *f, const char *lines)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", header, lines);
    host_proc_write(&f->proc, "net/dev", text);
}

static void test_net_interface_that_comes_back_primes_again(void **state)
{
    fixture *f = *state;
    write_dev(f, "  eth0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n"
                 "  tun0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n");
    open_net(f, NULL, NULL);
    collect_ok(f, 1000);
    write_dev(f, "  eth0: 150 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n");
    collect_ok(f, 2000);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "tun0"), 0);
    write_dev(f, "  eth0: 160 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n"
                 "  tun0: 5 1 0 0 0 0 0 0 7 2 0 0 0 0 0 0\n");
    collect_ok(f, 3000);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "tun0"), 0);
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "eth0"), 10, EPS);
    write_dev(f, "  eth0: 170 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n"
                 "  tun0: 25 1 0 0 0 0 0 0 7 2 0 0 0 0 0 0\n");
    collect_ok(f, 4000);
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "tun0"), 20, EPS);
}

static void test_net_old_kernel_layout_and_same_time_give_no_rates(void **state)
{
    fixture *f = *state;
    /* Linux 2.6 printed "%6s:%8lu": a long counter touches the colon. */
    write_dev(f, "  eth0:123456789012 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n");
    open_net(f, NULL, NULL);
    collect_ok(f, 1000);
    write_dev(f, "  eth0:123456789112 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n");
    collect_ok(f, 1000);
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "eth0"), 100, EPS);
    assert_null(host_sink_find(&f->sink, "net_bytes_recv_per_sec", "interface", "eth0"));
    assert_int_equal(f->sink.n, 8);
}

static void test_net_garbled_line_names_file_and_line_and_keeps_the_rest(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "net/dev");
    open_net(f, f->sys, NULL);
    collect_ok(f, 100000);
    host_proc_put(&f->proc, "garbled", "net/dev");
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    assert_int_equal(tw_in_net_collect(f->net, 105000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "/net/dev line 5: expected 16 counters after the interface "
                                    "name, got \"docker0: 1051076    2005    0    0    0\""));
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "eth0"), 500000, EPS);
    assert_float_equal(value(f, "net_bytes_recv", "Bytes", "veth1a2b3c4"), 5000, EPS);
    assert_int_equal(host_sink_count_dim(&f->sink, "interface", "docker0"), 0);

    write_dev(f, "  eth0 100 1 0 0\n bad name: 1 2 3\n");
    assert_int_equal(tw_in_net_collect(f->net, 110000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "line 3: expected \"NAME: <16 counters>\", got \"  eth0 "));
}

static void test_net_missing_file_is_a_clear_open_error(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_net_open(f->proc.root, f->sys, NULL, &f->net, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/net/dev: No such file or directory"));
    f->net = NULL;
}

static void test_net_random_bytes_never_crash(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "net/dev");
    open_net(f, f->sys, NULL);
    uint64_t seed = 0xda942042e4dd58b5u;
    static char text[8192];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(seed % sizeof text);
        host_random_text(&seed, text, len);
        if (i % 3 == 0)
            memcpy(text, "eth0: 1 2 3 ", len < 12 ? len : 12);
        host_proc_write_bytes(&f->proc, "net/dev", text, len);
        tw_err err = {{0}};
        host_sink_clear(&f->sink);
        int rc = tw_in_net_collect(f->net, 1000 + i, &f->sink.sink, &err);
        if (rc != 0)
            assert_true(err.msg[0] != '\0');
        for (size_t s = 0; s < f->sink.n; s++)
            assert_true(f->sink.samples[s].value >= 0);
    }
}

static void test_net_real_proc_gives_sane_values(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    tw_in_net_options options = {.include_loopback = true};
    assert_int_equal(tw_in_net_open("/proc", "/sys", &options, &f->net, &err), 0);
    collect_ok(f, 1000);
    assert_int_equal(f->sink.n, 0);
    usleep(100 * 1000);
    collect_ok(f, 1100);
    assert_true(f->sink.n >= 16); /* lo at least */
    assert_true(f->sink.n % 16 == 0);
    assert_non_null(host_sink_find(&f->sink, "net_bytes_recv", "interface", "lo"));
    for (size_t i = 0; i < f->sink.n; i++)
        assert_true(f->sink.samples[i].value >= 0);
}

static void test_net_cost_per_collect_on_real_proc(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_count_sink counter;
    host_count_sink_init(&counter);
    tw_alloc_self_check();
    assert_int_equal(tw_in_net_open("/proc", "/sys", NULL, &f->net, &err), 0);
    assert_int_equal(tw_in_net_collect(f->net, 0, &counter.sink, &err), 0);
    enum { N = 2000 };
    size_t calls, bytes;
    double t0 = host_now_us(), c0 = host_cpu_us();
    tw_alloc_begin();
    for (int i = 1; i <= N; i++)
        assert_int_equal(tw_in_net_collect(f->net, i * 1000, &counter.sink, &err), 0);
    tw_alloc_end(&calls, &bytes);
    double wall = (host_now_us() - t0) / N, cpu = (host_cpu_us() - c0) / N;
    print_message("net: %.1f us wall, %.1f us CPU per collect, %zu samples, %zu allocations "
                  "(%zu bytes) in %d collects%s\n",
                  wall, cpu, counter.n / N, calls, bytes, N,
                  tw_alloc_counting() ? "" : " (not counted under sanitizers)");
    assert_int_equal(calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_net_deltas_and_rates_per_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_include_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_exclude_virtual_keeps_physical_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_interface_globs_choose_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_without_sysfs_lo_is_loopback_by_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_net_counter_going_down_gives_no_sample_for_that_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_interface_that_comes_back_primes_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_old_kernel_layout_and_same_time_give_no_rates,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_net_garbled_line_names_file_and_line_and_keeps_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_missing_file_is_a_clear_open_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_net_random_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_real_proc_gives_sane_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_cost_per_collect_on_real_proc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
