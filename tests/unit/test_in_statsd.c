/* test_in_statsd.c — the StatsD listener (plugins/in_statsd/in_statsd.c) on
 * a real libuv loop and a real UDP socket on loopback: datagrams sent with
 * sendto() arrive as samples at the flush, bad lines are counted per reason
 * without losing the good lines beside them, the flush timer fires, stop
 * reads what the kernel still holds, flushes it and calls back once closed, a port in use and a
 * bad address are refused with a sentence, IPv6 works, and a burst of
 * thousands of datagrams is counted to the last one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "fsutil.h"
#include "in_statsd.h"
#include "mem.h"
#include "metric.h"
#include "timefmt.h"

typedef struct captured {
    char name[128], unit[32], dims[256];
    double value, count;
    int64_t time_ms;
    tw_metric_kind kind;
} captured;

typedef struct capture {
    captured items[256];
    size_t n;
    int closed_calls;
} capture;

static int capture_emit(void *ctx, const tw_metric_sample *s)
{
    char why[256];
    if (tw_metric_sample_check(s, why, sizeof why) != 0)
        fail_msg("a sample CloudWatch would refuse: %s", why);
    capture *c = ctx;
    if (c->n == sizeof c->items / sizeof c->items[0])
        fail_msg("more samples than the test expects");
    captured *x = &c->items[c->n++];
    snprintf(x->name, sizeof x->name, "%s", s->name);
    snprintf(x->unit, sizeof x->unit, "%s", s->unit);
    size_t used = 0;
    x->dims[0] = '\0';
    for (size_t i = 0; i < s->n_dimensions; i++)
        used += (size_t)snprintf(x->dims + used, sizeof x->dims - used, "%s%s=%s", i ? "," : "",
                                 s->dimensions[i].name, s->dimensions[i].value);
    x->value = s->value;
    x->count = s->count;
    x->time_ms = s->time_ms;
    x->kind = s->kind;
    return 0;
}

static const captured *find(const capture *c, const char *name, const char *dims)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].name, name) == 0 && strcmp(c->items[i].dims, dims) == 0)
            return &c->items[i];
    return NULL;
}

static void on_closed(void *ctx)
{
    ((capture *)ctx)->closed_calls++;
}

/* Sends each datagram from a fresh socket to the listener's port. */
static void send_to(int family, int port, const char *const *datagrams, size_t n)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_storage to = {0};
    socklen_t to_len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&to;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to_len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_loopback;
        to_len = sizeof *a;
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sendto(fd, datagrams[i], strlen(datagrams[i]), 0,
                                (struct sockaddr *)&to, to_len),
                         (ssize_t)strlen(datagrams[i]));
    close(fd);
}

/* Runs the loop until the listener has seen `packets` datagrams (or 5 s). */
static void run_until_packets(uv_loop_t *loop, tw_in_statsd *l, uint64_t packets)
{
    int64_t deadline = tw_time_now_ms() + 5000;
    struct tw_in_statsd_stats st;
    do {
        uv_run(loop, UV_RUN_NOWAIT);
        tw_in_statsd_stats(l, &st);
        if (st.packets >= packets)
            return;
        usleep(1000);
    } while (tw_time_now_ms() < deadline);
    fail_msg("only %llu of %llu datagrams arrived", (unsigned long long)st.packets,
             (unsigned long long)packets);
}

static void stop_and_close(uv_loop_t *loop, tw_in_statsd *l, capture *c)
{
    tw_in_statsd_stop(l, on_closed, c);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(c->closed_calls, 1);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_datagrams_on_loopback_become_samples_at_the_flush(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0", .flush_interval_ms = 3600 * 1000};
    tw_in_statsd *l = NULL;
    tw_err err = {{0}};
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &l, &err), 0);
    int port = tw_in_statsd_port(l);
    assert_true(port > 0 && port < 65536);

    const char *const datagrams[] = {
        "hits:1|c|#route:/a\nhits:2|c|#route:/a\nthis is not statsd\nlat:12|ms\n",
        "temp:21.5|g",
        "",
        "users:ann|s\nusers:bob|s\nusers:ann|s\nlat:12:30|ms|@0.5\nx:1|c|@7\nx:nan|g",
    };
    send_to(AF_INET, port, datagrams, 4);
    run_until_packets(&loop, l, 4);
    tw_in_statsd_flush(l, 1700000000123);

    assert_int_equal(c->n, 5);
    const captured *x = find(c, "hits", "route=/a");
    assert_non_null(x);
    assert_true(x->value == 3);
    assert_string_equal(x->unit, "Count");
    assert_int_equal(x->time_ms, 1700000000123);
    x = find(c, "temp", "");
    assert_non_null(x);
    assert_true(x->value == 21.5);
    assert_string_equal(x->unit, "None");
    x = find(c, "users", "");
    assert_non_null(x);
    assert_true(x->value == 2);
    /* lat: 12 once at rate 1 and once at 0.5 (3 in all), 30 at 0.5 (2). */
    double c12 = 0, c30 = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->items[i].name, "lat") != 0)
            continue;
        assert_int_equal(c->items[i].kind, TW_METRIC_DISTRIBUTION);
        assert_string_equal(c->items[i].unit, "Milliseconds");
        if (c->items[i].value == 12)
            c12 = c->items[i].count;
        if (c->items[i].value == 30)
            c30 = c->items[i].count;
    }
    assert_true(c12 == 3 && c30 == 2);

    struct tw_in_statsd_stats st;
    tw_in_statsd_stats(l, &st);
    assert_int_equal(st.packets, 4);
    assert_int_equal(st.lines, 11);
    assert_int_equal(st.bad_lines, 3);
    assert_int_equal(st.bad_by_reason[TW_STATSD_BAD_FORMAT], 1);
    assert_int_equal(st.bad_by_reason[TW_STATSD_BAD_RATE], 1);
    assert_int_equal(st.bad_by_reason[TW_STATSD_BAD_VALUE], 1);
    assert_int_equal(st.series, 4);
    assert_int_equal(st.samples, 5);
    assert_int_equal(st.receive_errors, 0);

    /* What arrives after the last flush is flushed by stop. */
    const char *const late[] = {"hits:7|c|#route:/a"};
    send_to(AF_INET, port, late, 1);
    run_until_packets(&loop, l, 5);
    c->n = 0;
    stop_and_close(&loop, l, c);
    x = find(c, "hits", "route=/a");
    assert_non_null(x);
    assert_true(x->value == 7);
    free(c);
}

static void test_stop_reads_what_the_kernel_holds_before_the_last_flush(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0"};
    tw_in_statsd *l = NULL;
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &l, NULL), 0);
    /* Sent, but the loop never runs before the stop. */
    enum { N = 100 };
    static const char *d[N];
    for (int i = 0; i < N; i++)
        d[i] = i % 2 ? "orders:2|c" : "orders:1|c\nspeed:3|g";
    send_to(AF_INET, tw_in_statsd_port(l), d, N);
    stop_and_close(&loop, l, c);
    const captured *x = find(c, "orders", "");
    assert_non_null(x);
    assert_true(x->value == 150);
    assert_non_null(find(c, "speed", ""));
    free(c);
}

static void test_flush_timer_emits_without_being_asked(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0", .flush_interval_ms = 50};
    tw_in_statsd *l = NULL;
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &l, NULL), 0);
    const char *const d[] = {"ticks:1|c"};
    send_to(AF_INET, tw_in_statsd_port(l), d, 1);
    int64_t start = tw_time_now_ms();
    while (c->n == 0 && tw_time_now_ms() - start < 5000)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->items[0].name, "ticks");
    /* The flush time is the wall clock's, not the loop's. */
    assert_true(llabs(c->items[0].time_ms - tw_time_now_ms()) < 5000);
    c->n = 0;
    stop_and_close(&loop, l, c);
    assert_int_equal(c->n, 0); /* the counter was already flushed */
    free(c);
}

static void test_ipv6_loopback_is_served(void **state)
{
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    if (probe < 0)
        skip();
    close(probe);
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "[::1]:0"};
    tw_in_statsd *l = NULL;
    tw_err err = {{0}};
    int rc = tw_in_statsd_start(&loop, &o, &sink, &l, &err);
    if (rc == UV_EADDRNOTAVAIL) { /* no ::1 on this host */
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        free(c);
        skip();
    }
    assert_int_equal(rc, 0);
    const char *const d[] = {"v6:2|c|#ip:six"};
    send_to(AF_INET6, tw_in_statsd_port(l), d, 1);
    run_until_packets(&loop, l, 1);
    stop_and_close(&loop, l, c);
    const captured *x = find(c, "v6", "ip=six");
    assert_non_null(x);
    assert_true(x->value == 2);
    free(c);
}

static void test_port_in_use_and_bad_address_are_refused_with_a_sentence(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0"};
    tw_in_statsd *first = NULL, *second = NULL;
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &first, NULL), 0);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", tw_in_statsd_port(first));
    o.listen = taken;
    tw_err err = {{0}};
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &second, &err), UV_EADDRINUSE);
    assert_null(second);
    assert_non_null(strstr(err.msg, taken));
    assert_non_null(strstr(err.msg, "address already in use"));

    o.listen = "127.0.0.1";
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &second, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"127.0.0.1\" has no port"));
    o.listen = "127.0.0.1:99999";
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &second, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"127.0.0.1:99999\" is not host:port"));
    o.listen = "[::1:8125";
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &second, &err), -EINVAL);
    assert_null(second);
    stop_and_close(&loop, first, c);
    free(c);
}

static void test_a_burst_of_datagrams_is_counted_to_the_last_one(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0", .flush_interval_ms = 3600 * 1000};
    tw_in_statsd *l = NULL;
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &l, NULL), 0);
    /* Sent before the loop reads any: the socket buffer holds them all, and
     * the listener then reads them in recvmmsg batches. */
    enum { N = 3000 };
    static const char *d[N];
    static char text[N][48];
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "burst:%d|c|#kind:%s", i % 3 + 1,
                 i % 2 ? "odd" : "even");
        d[i] = text[i];
    }
    send_to(AF_INET, tw_in_statsd_port(l), d, N);
    run_until_packets(&loop, l, N);
    tw_in_statsd_flush(l, tw_time_now_ms());
    double odd = 0, even = 0;
    for (int i = 0; i < N; i++)
        *(i % 2 ? &odd : &even) += i % 3 + 1;
    assert_true(find(c, "burst", "kind=odd")->value == odd);
    assert_true(find(c, "burst", "kind=even")->value == even);
    struct tw_in_statsd_stats st;
    tw_in_statsd_stats(l, &st);
    assert_int_equal(st.packets, N);
    assert_int_equal(st.lines, N);
    assert_int_equal(st.bad_lines, 0);
    stop_and_close(&loop, l, c);
    free(c);
}

static void test_series_cap_drops_new_series_and_counts_them(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0", .max_series = 2,
                              .flush_interval_ms = 3600 * 1000};
    tw_in_statsd *l = NULL;
    assert_int_equal(tw_in_statsd_start(&loop, &o, &sink, &l, NULL), 0);
    const char *const d[] = {"a:1|c\nb:1|c\nc:1|c\nd:1|c", "a:1|c"};
    send_to(AF_INET, tw_in_statsd_port(l), d, 2);
    run_until_packets(&loop, l, 2);
    struct tw_in_statsd_stats st;
    tw_in_statsd_stats(l, &st);
    assert_int_equal(st.dropped_lines, 2);
    assert_int_equal(st.series, 2);
    stop_and_close(&loop, l, c);
    assert_int_equal(c->n, 2);
    assert_true(find(c, "a", "")->value == 2);
    free(c);
}

static long rmem_max(void)
{
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* The child: without CAP_NET_ADMIN (SO_RCVBUFFORCE then fails, as for any
 * unprivileged agent), asks for more than rmem_max with stderr in a file. */
static int capped_buffer_child(const char *log_path, size_t want)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) == 0) {
        data[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
        if (syscall(SYS_capset, &header, data) != 0)
            return 10;
    }
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
        return 11;
    uv_loop_t loop;
    uv_loop_init(&loop);
    capture *c = tw_calloc(1, sizeof *c);
    tw_metric_sink sink = {capture_emit, c};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0", .receive_buffer = want};
    tw_in_statsd *l = NULL;
    if (tw_in_statsd_start(&loop, &o, &sink, &l, NULL) != 0)
        return 12;
    tw_in_statsd_stop(l, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 ? 0 : 13;
}

static void test_receive_buffer_capped_by_rmem_max_is_a_warning_naming_the_sysctl(void **state)
{
    long max = rmem_max();
    if (max <= 0)
        skip();
    char path[512];
    int fd = tw_make_temp_file(NULL, "tw-test-statsd-rcvbuf", path, sizeof path, NULL);
    assert_true(fd >= 0);
    close(fd);
    size_t want = (size_t)max + (1u << 20);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(capped_buffer_child(path, want));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char log[4096] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(log, 1, sizeof log - 1, f);
    log[n] = '\0';
    fclose(f);
    unlink(path);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char want_text[128];
    snprintf(want_text, sizeof want_text, "not the %zu asked for", want);
    if (!strstr(log, want_text) || !strstr(log, "net.core.rmem_max"))
        fail_msg("no warning about the capped receive buffer in:\n%s", log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datagrams_on_loopback_become_samples_at_the_flush),
        cmocka_unit_test(test_stop_reads_what_the_kernel_holds_before_the_last_flush),
        cmocka_unit_test(test_flush_timer_emits_without_being_asked),
        cmocka_unit_test(test_ipv6_loopback_is_served),
        cmocka_unit_test(test_port_in_use_and_bad_address_are_refused_with_a_sentence),
        cmocka_unit_test(test_a_burst_of_datagrams_is_counted_to_the_last_one),
        cmocka_unit_test(test_series_cap_drops_new_series_and_counts_them),
        cmocka_unit_test(test_receive_buffer_capped_by_rmem_max_is_a_warning_naming_the_sysctl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
