/* statsd_bench.c — the StatsD listener (plugins/in_statsd) under a UDP flood
 * on loopback: how many datagrams per second it takes without losing any.
 *
 *   statsd_bench [--rate N] [--seconds S] [--senders N] [--flush-ms MS]
 *                [--receive-buffer BYTES] [--sweep] [--from N] [--step N] [--to N]
 *       (defaults: 200000 datagrams/s, 4 s, 1 sender thread, a flush every
 *        1000 ms, the listener's default receive buffer (8 MiB); --sweep runs
 *        from 100000 in steps of 50000 up to 600000 and stops at the first
 *        rate with loss, or the first the senders cannot reach)
 *
 * The listener runs in this process on its own libuv loop and thread, as in
 * the agent, with a sink that only counts samples. Sender threads, each with
 * its own connected socket, send pre-built datagrams of one metric each, a
 * mix of counters (50 %), timers (30 %, some sampled) and gauges (20 %) with
 * DogStatsD tags over a few hundred series, in sendmmsg batches of 32, paced
 * to the target rate. When they are done the bench waits for the listener to
 * drain the socket, stops it, and prints: datagrams sent and received, the
 * loss (and the kernel's Udp RcvbufErrors over the run, which is where lost
 * datagrams go), the rate achieved, the listener thread's CPU
 * (getrusage RUSAGE_THREAD: user+system over the run, as % of one core), the
 * process's VmRSS and VmHWM, and the samples flushed. Not a test: nothing is
 * asserted. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "in_statsd.h"
#include "log.h"
#include "mem.h"
#include "metric.h"

#define POOL 4096
#define BATCH 32

typedef struct settings {
    long rate;
    double seconds;
    int senders;
    long flush_ms;
    long receive_buffer;
} settings;

typedef struct listener_thread {
    pthread_t thread;
    long flush_ms;
    long receive_buffer;
    uv_loop_t loop;
    uv_async_t stop;
    uv_timer_t poll;
    tw_in_statsd *statsd;
    atomic_int port;            /* 0 until listening, -1 on failure */
    atomic_uint_fast64_t seen;  /* datagrams, copied from the stats every 10 ms */
    uint64_t samples;           /* counted by the sink (loop thread) */
    struct tw_in_statsd_stats final_stats;
    struct rusage usage_start, usage_end;
} listener_thread;

typedef struct sender {
    pthread_t thread;
    int port;
    long rate;
    double seconds;
    char (*pool)[128];
    size_t *lens;
    size_t offset;
    uint64_t sent;
} sender;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the listener ----------------------------------------------------------- */

static int counting_emit(void *ctx, const tw_metric_sample *s)
{
    (void)s;
    ((listener_thread *)ctx)->samples++;
    return 0;
}

static void on_listener_closed(void *ctx)
{
    listener_thread *t = ctx;
    uv_close((uv_handle_t *)&t->stop, NULL);
    uv_close((uv_handle_t *)&t->poll, NULL);
}

static void on_stop(uv_async_t *async)
{
    listener_thread *t = async->data;
    tw_in_statsd_stats(t->statsd, &t->final_stats);
    getrusage(RUSAGE_THREAD, &t->usage_end);
    tw_in_statsd_stop(t->statsd, on_listener_closed, t);
}

static void on_poll(uv_timer_t *timer)
{
    listener_thread *t = timer->data;
    struct tw_in_statsd_stats st;
    tw_in_statsd_stats(t->statsd, &st);
    atomic_store(&t->seen, st.packets);
}

static void *listener_main(void *arg)
{
    listener_thread *t = arg;
    uv_loop_init(&t->loop);
    tw_metric_sink sink = {counting_emit, t};
    tw_in_statsd_options o = {.listen = "127.0.0.1:0", .flush_interval_ms = t->flush_ms,
                              .receive_buffer = (size_t)t->receive_buffer};
    tw_err err = {{0}};
    if (tw_in_statsd_start(&t->loop, &o, &sink, &t->statsd, &err) != 0) {
        fprintf(stderr, "statsd_bench: %s\n", err.msg);
        atomic_store(&t->port, -1);
        uv_run(&t->loop, UV_RUN_DEFAULT);
        uv_loop_close(&t->loop);
        return NULL;
    }
    uv_async_init(&t->loop, &t->stop, on_stop);
    t->stop.data = t;
    uv_timer_init(&t->loop, &t->poll);
    t->poll.data = t;
    uv_timer_start(&t->poll, on_poll, 10, 10);
    getrusage(RUSAGE_THREAD, &t->usage_start);
    atomic_store(&t->port, tw_in_statsd_port(t->statsd));
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    return NULL;
}

/* ---- the senders --------------------------------------------------------------- */

static const char *const routes[] = {"/v1/orders", "/v1/orders/{id}", "/v1/users", "/v1/cart",
                                     "/v1/search", "/v1/login", "/health", "/v2/items"};

/* Datagrams as an instrumented web service sends them. */
static void build_pool(char (*pool)[128], size_t *lens)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < POOL; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *route = routes[x % 8];
        int kind = (int)((x >> 8) % 10), n;
        if (kind < 5)
            n = snprintf(pool[i], 128, "api.requests:1|c|#env:prod,route:%s,status:%d", route,
                         (int)(x >> 16) % 50 == 0 ? 500 : 200);
        else if (kind < 7)
            n = snprintf(pool[i], 128, "api.latency:%.3f|ms|#env:prod,route:%s",
                         0.5 + (double)((x >> 20) % 250000) / 1000.0, route);
        else if (kind < 8)
            n = snprintf(pool[i], 128, "db.query:%.2f|ms|@0.5|#table:t%d",
                         (double)((x >> 20) % 5000) / 100.0, (int)(x >> 40) % 12);
        else
            n = snprintf(pool[i], 128, "queue.depth:%d|g|#queue:q%d", (int)((x >> 24) % 1000),
                         (int)(x >> 44) % 16);
        lens[i] = (size_t)n;
    }
}

static void *sender_main(void *arg)
{
    sender *s = arg;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        perror("statsd_bench: sender socket");
        return NULL;
    }
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint64_t total = (uint64_t)((double)s->rate * s->seconds);
    double start = now_s();
    size_t next = s->offset;
    while (s->sent < total) {
        unsigned n = total - s->sent < BATCH ? (unsigned)(total - s->sent) : BATCH;
        for (unsigned i = 0; i < n; i++) {
            iov[i] = (struct iovec){s->pool[next], s->lens[next]};
            msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
            next = (next + 1) % POOL;
        }
        int done = sendmmsg(fd, msgs, n, 0);
        if (done < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)
                continue;
            perror("statsd_bench: sendmmsg");
            break;
        }
        s->sent += (uint64_t)done;
        /* Pace: wait until the time these datagrams were due. */
        double due = start + (double)s->sent / (double)s->rate;
        double ahead = due - now_s();
        if (ahead > 0) {
            struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    close(fd);
    return NULL;
}

/* ---- figures ------------------------------------------------------------------- */

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Udp: RcvbufErrors from /proc/net/snmp: datagrams the kernel dropped
 * because a socket's receive buffer was full. */
static long long rcvbuf_errors(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    char names[1024], values[1024];
    long long result = -1;
    while (f && fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
        if (strncmp(names, "Udp:", 4) != 0)
            continue;
        char *ns = NULL, *vs = NULL;
        char *n = strtok_r(names, " \n", &ns), *v = strtok_r(values, " \n", &vs);
        while (n && v) {
            if (strcmp(n, "RcvbufErrors") == 0)
                result = atoll(v);
            n = strtok_r(NULL, " \n", &ns);
            v = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    if (f)
        fclose(f);
    return result;
}

static double cpu_seconds(const struct rusage *a, const struct rusage *b)
{
    return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) +
           (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec) / 1e6 +
           (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec) +
           (double)(b->ru_stime.tv_usec - a->ru_stime.tv_usec) / 1e6;
}

/* One run at one rate; returns the datagrams lost (-1: could not run) and
 * the rate the senders achieved. */
static long long run(const settings *cfg, char (*pool)[128], size_t *lens, double *achieved)
{
    listener_thread *t = tw_calloc(1, sizeof *t);
    t->flush_ms = cfg->flush_ms;
    t->receive_buffer = cfg->receive_buffer;
    pthread_create(&t->thread, NULL, listener_main, t);
    while (atomic_load(&t->port) == 0)
        usleep(1000);
    if (atomic_load(&t->port) < 0) {
        pthread_join(t->thread, NULL);
        free(t);
        return -1;
    }
    long long drops_before = rcvbuf_errors();
    sender *senders = tw_calloc((size_t)cfg->senders, sizeof *senders);
    double start = now_s();
    for (int i = 0; i < cfg->senders; i++) {
        senders[i] = (sender){.port = atomic_load(&t->port), .rate = cfg->rate / cfg->senders,
                              .seconds = cfg->seconds, .pool = pool, .lens = lens,
                              .offset = (size_t)i * (POOL / (size_t)cfg->senders)};
        pthread_create(&senders[i].thread, NULL, sender_main, &senders[i]);
    }
    uint64_t sent = 0;
    for (int i = 0; i < cfg->senders; i++) {
        pthread_join(senders[i].thread, NULL);
        sent += senders[i].sent;
    }
    double send_time = now_s() - start;
    *achieved = (double)sent / send_time;
    /* Let the listener drain the socket: until everything arrived, or the
     * count stands still for 300 ms. */
    uint64_t last = 0;
    double still_since = now_s();
    for (;;) {
        uint64_t seen = atomic_load(&t->seen);
        if (seen >= sent)
            break;
        if (seen != last) {
            last = seen;
            still_since = now_s();
        } else if (now_s() - still_since > 0.3)
            break;
        usleep(2000);
    }
    double wall = now_s() - start;
    uv_async_send(&t->stop);
    pthread_join(t->thread, NULL);
    long long drops = rcvbuf_errors() - drops_before;
    uint64_t got = t->final_stats.packets;
    long long lost = (long long)sent - (long long)got;
    double cpu = cpu_seconds(&t->usage_start, &t->usage_end);
    printf("rate %7ld/s target: sent %9" PRIu64 " in %.2f s (%8.0f/s), received %9" PRIu64
           ", lost %lld (%.3f %%; kernel RcvbufErrors +%lld); listener CPU %.2f s = %.1f %% of "
           "one core (%.2f us/datagram); bad lines %" PRIu64 ", series %" PRIu64
           ", samples flushed %" PRIu64 "; VmRSS %ld KiB, VmHWM %ld KiB\n",
           cfg->rate, sent, send_time, (double)sent / send_time, got, lost,
           sent ? 100.0 * (double)lost / (double)sent : 0.0, drops, cpu, 100 * cpu / wall,
           got ? cpu * 1e6 / (double)got : 0.0, t->final_stats.bad_lines,
           t->final_stats.series, t->samples, status_kib("VmRSS"), status_kib("VmHWM"));
    fflush(stdout);
    free(senders);
    free(t);
    return lost;
}

static void usage(void)
{
    fprintf(stderr, "usage: statsd_bench [--rate N] [--seconds S] [--senders N] [--flush-ms MS]\n"
                    "                    [--receive-buffer BYTES] [--sweep] [--from N] [--step N]\n"
                    "                    [--to N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    settings cfg = {.rate = 200000, .seconds = 4, .senders = 1, .flush_ms = 1000};
    bool sweep = false;
    long from = 100000, step = 50000, to = 600000;
    static const struct option options[] = {
        {"rate", required_argument, NULL, 'r'},    {"seconds", required_argument, NULL, 's'},
        {"senders", required_argument, NULL, 'n'}, {"flush-ms", required_argument, NULL, 'f'},
        {"sweep", no_argument, NULL, 'w'},         {"from", required_argument, NULL, 'a'},
        {"step", required_argument, NULL, 'b'},    {"to", required_argument, NULL, 'c'},
        {"receive-buffer", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'r': cfg.rate = atol(optarg); break;
        case 's': cfg.seconds = atof(optarg); break;
        case 'n': cfg.senders = atoi(optarg); break;
        case 'f': cfg.flush_ms = atol(optarg); break;
        case 'w': sweep = true; break;
        case 'a': from = atol(optarg); break;
        case 'b': step = atol(optarg); break;
        case 'c': to = atol(optarg); break;
        case 'm': cfg.receive_buffer = atol(optarg); break;
        default: usage();
        }
    }
    if (cfg.rate <= 0 || cfg.seconds <= 0 || cfg.senders <= 0 || cfg.flush_ms <= 0 ||
        cfg.receive_buffer < 0 || from <= 0 || step <= 0)
        usage();
    tw_log_init("statsd_bench", TW_LOG_WARN);
    char (*pool)[128] = tw_malloc(POOL * sizeof *pool);
    size_t *lens = tw_malloc(POOL * sizeof *lens);
    build_pool(pool, lens);
    printf("statsd_bench: %d sender thread%s, %.1f s per run, flush every %ld ms, receive "
           "buffer %ld bytes, %ld CPUs\n",
           cfg.senders, cfg.senders == 1 ? "" : "s", cfg.seconds, cfg.flush_ms,
           cfg.receive_buffer ? cfg.receive_buffer : (long)TW_IN_STATSD_DEFAULT_RECEIVE_BUFFER,
           sysconf(_SC_NPROCESSORS_ONLN));
    double achieved = 0;
    if (!sweep) {
        long long lost = run(&cfg, pool, lens, &achieved);
        free(pool);
        free(lens);
        return lost < 0 ? 1 : 0;
    }
    /* A rate counts only if the senders reached it (within 5 %): beyond
     * that the bench measures the senders, not the listener. */
    double best = 0;
    for (long rate = from; rate <= to; rate += step) {
        cfg.rate = rate;
        long long lost = run(&cfg, pool, lens, &achieved);
        if (lost != 0)
            break;
        if (achieved < 0.95 * (double)rate) {
            printf("the senders reach only %.0f/s: add --senders for higher rates\n", achieved);
            if (achieved > best)
                best = achieved;
            break;
        }
        best = achieved;
    }
    printf("highest loss-free rate: %.0f datagrams/s\n", best);
    free(pool);
    free(lens);
    return 0;
}
