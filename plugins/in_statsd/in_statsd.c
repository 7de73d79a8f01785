/* in_statsd.c — the StatsD UDP listener (see in_statsd.h): the socket and
 * its receive buffer, the datagram callback that parses lines into the
 * aggregator, the flush timer, the counters and the log lines about bad
 * input, and closing. */
#include "in_statsd.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "mem.h"
#include "statsd_agg.h"
#include "timefmt.h"

/* libuv hands recvmmsg one 64 KiB slot per datagram and uses at most 20. */
#define DATAGRAM_SLOT (64 * 1024)
#define DATAGRAM_SLOTS 20
#define LOGGED_LINE_CHARS 200
#define LOGGED_RECEIVE_ERRORS 5
#define DRAIN_MAX 100000

struct tw_in_statsd {
    uv_udp_t udp;
    uv_timer_t timer;
    tw_metric_sink sink;
    tw_statsd_agg *agg;
    char *buffer; /* DATAGRAM_SLOTS x DATAGRAM_SLOT */
    char listen[300];
    int port;
    int open_handles;
    void (*closed)(void *ctx);
    void *closed_ctx;
    struct tw_in_statsd_stats stats;
    /* What the last flush's summary lines compare against. */
    uint64_t bad_logged;
    uint64_t bad_at_flush[TW_STATSD_REASONS];
    uint64_t bad_total_at_flush;
    uint64_t dropped_at_flush;
    int64_t last_flush_ms;
};

/* ---- bad input ------------------------------------------------------------ */

static void peer_name(const struct sockaddr *addr, char *out, size_t size)
{
    char ip[64] = "?";
    int port = 0;
    if (addr && addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, size, "%s:%d", ip, port);
    } else if (addr && addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, size, "[%s]:%d", ip, port);
    } else {
        snprintf(out, size, "an unknown sender");
    }
}

static void bad_line(tw_in_statsd *l, const tw_statsd_span *line, const tw_statsd_error *e,
                     const struct sockaddr *from)
{
    l->stats.bad_lines++;
    l->stats.bad_by_reason[e->reason]++;
    if (l->bad_logged >= TW_IN_STATSD_LOGGED_BAD_LINES)
        return;
    l->bad_logged++;
    char text[LOGGED_LINE_CHARS * 4 + 8], peer[96];
    tw_statsd_escape(line->ptr, line->len, LOGGED_LINE_CHARS, text, sizeof text);
    peer_name(from, peer, sizeof peer);
    tw_warn("statsd %s: bad line from %s (%s: %s): \"%s\"%s", l->listen, peer,
            tw_statsd_reason_name(e->reason), e->why, text,
            l->bad_logged == TW_IN_STATSD_LOGGED_BAD_LINES
                ? "; further bad lines are only counted, with a summary at each flush"
                : "");
}

static void dropped_line(tw_in_statsd *l, const tw_statsd_line *line)
{
    if (l->stats.dropped_lines++ > 0)
        return;
    char name[LOGGED_LINE_CHARS * 4 + 8];
    tw_statsd_escape(line->name.ptr, line->name.len, LOGGED_LINE_CHARS, name, sizeof name);
    tw_warn("statsd %s: %" PRIu64 " series exist, the limit (max_series): lines that would "
            "make a new series are dropped from now on (the first: \"%s\" of type %s with "
            "%zu tag%s); existing series go on. Send fewer distinct names or tag values, or "
            "raise max_series",
            l->listen, (uint64_t)tw_statsd_agg_series(l->agg), name, tw_statsd_type_name(line->type), line->n_tags,
            line->n_tags == 1 ? "" : "s");
}

/* ---- receiving ----------------------------------------------------------- */

static void process_datagram(tw_in_statsd *l, const char *data, size_t len,
                             const struct sockaddr *from)
{
    size_t pos = 0;
    tw_statsd_span span;
    tw_statsd_line line;
    tw_statsd_error e;
    while (tw_statsd_next_line(data, len, &pos, &span)) {
        l->stats.lines++;
        if (tw_statsd_parse_line(span.ptr, span.len, &line, &e) != 0)
            bad_line(l, &span, &e, from);
        else if (tw_statsd_agg_add(l->agg, &line) != 0)
            dropped_line(l, &line);
    }
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    tw_in_statsd *l = handle->data;
    /* The same buffer every time: libuv is done with it (every datagram
     * delivered) before it asks again. */
    *buf = uv_buf_init(l->buffer, DATAGRAM_SLOT * DATAGRAM_SLOTS);
}

static void on_receive(uv_udp_t *handle, ssize_t nread, const uv_buf_t *buf,
                       const struct sockaddr *from, unsigned flags)
{
    tw_in_statsd *l = handle->data;
    if (flags & UV_UDP_MMSG_FREE)
        return; /* the end of a recvmmsg batch; the buffer is ours to keep */
    if (nread < 0 || (flags & UV_UDP_PARTIAL)) {
        if (l->stats.receive_errors++ < LOGGED_RECEIVE_ERRORS)
            tw_warn("statsd %s: %s", l->listen,
                    nread < 0 ? uv_strerror((int)nread)
                              : "a datagram was cut to 64 KiB and is dropped");
        return;
    }
    if (!from)
        return; /* nothing more to read for now */
    l->stats.packets++;
    process_datagram(l, buf->base, (size_t)nread, from);
}

/* ---- flushing -------------------------------------------------------------- */

static void log_interval_summary(tw_in_statsd *l, int64_t now_ms)
{
    uint64_t bad = l->stats.bad_lines - l->bad_total_at_flush;
    uint64_t dropped = l->stats.dropped_lines - l->dropped_at_flush;
    double seconds = l->last_flush_ms ? (double)(now_ms - l->last_flush_ms) / 1000 : 0;
    /* The first bad lines were logged one by one; the summary is for the rest. */
    if (bad > 0 && l->bad_logged >= TW_IN_STATSD_LOGGED_BAD_LINES) {
        char by_reason[256] = "";
        size_t used = 0;
        for (int r = 0; r < TW_STATSD_REASONS; r++) {
            uint64_t n = l->stats.bad_by_reason[r] - l->bad_at_flush[r];
            if (n > 0 && used < sizeof by_reason)
                used += (size_t)snprintf(by_reason + used, sizeof by_reason - used, "%s%s %" PRIu64,
                                         used ? ", " : "", tw_statsd_reason_name(r), n);
        }
        tw_warn("statsd %s: %" PRIu64 " bad line%s in the last %.0f s (%s)", l->listen, bad,
                bad == 1 ? "" : "s", seconds, by_reason);
    }
    if (dropped > 0)
        tw_warn("statsd %s: %" PRIu64 " line%s of new series dropped in the last %.0f s: "
                "max_series (%" PRIu64 " series) reached",
                l->listen, dropped, dropped == 1 ? "" : "s", seconds,
                (uint64_t)tw_statsd_agg_series(l->agg));
    memcpy(l->bad_at_flush, l->stats.bad_by_reason, sizeof l->bad_at_flush);
    l->bad_total_at_flush = l->stats.bad_lines;
    l->dropped_at_flush = l->stats.dropped_lines;
    l->last_flush_ms = now_ms;
}

void tw_in_statsd_flush(tw_in_statsd *l, int64_t now_ms)
{
    tw_statsd_flush_result r;
    tw_statsd_agg_flush(l->agg, now_ms, &l->sink, &r);
    l->stats.flushes++;
    l->stats.samples += r.samples;
    l->stats.rejected += r.rejected;
    l->stats.expired_series += r.expired;
    l->stats.series = tw_statsd_agg_series(l->agg);
    log_interval_summary(l, now_ms);
}

static void on_timer(uv_timer_t *timer)
{
    tw_in_statsd_flush(timer->data, tw_time_now_ms());
}

/* ---- start and stop ------------------------------------------------------- */

static void on_closed(uv_handle_t *handle)
{
    tw_in_statsd *l = handle->data;
    if (--l->open_handles > 0)
        return;
    void (*closed)(void *) = l->closed;
    void *ctx = l->closed_ctx;
    tw_statsd_agg_free(l->agg);
    free(l->buffer);
    free(l);
    if (closed)
        closed(ctx);
}

static void close_handles(tw_in_statsd *l)
{
    l->open_handles = 0;
    if (l->timer.loop) { /* initialised */
        l->open_handles++;
        uv_close((uv_handle_t *)&l->timer, on_closed);
    }
    l->open_handles++;
    uv_close((uv_handle_t *)&l->udp, on_closed);
}

/* host:port, [v6]:port, :port (the config model checked the form). */
static int split_listen(const char *listen, char *host, size_t host_size, char *port,
                        size_t port_size, tw_err *err)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return tw_err_set(err, -EINVAL, "statsd listen address \"%.80s\" has no port", listen);
    const char *h = listen;
    size_t host_len = (size_t)(colon - listen);
    bool bracketed = host_len >= 2 && h[0] == '[' && h[host_len - 1] == ']';
    if (bracketed) {
        h++;
        host_len -= 2;
    }
    if (!bracketed && (memchr(h, ':', host_len) || memchr(h, '[', host_len)))
        return tw_err_set(err, -EINVAL,
                          "statsd listen address \"%.80s\": an IPv6 address goes in brackets, "
                          "like [::1]:8125",
                          listen);
    size_t port_len = strlen(colon + 1);
    if (host_len >= host_size || port_len == 0 || port_len > 5 || port_len >= port_size ||
        strspn(colon + 1, "0123456789") != port_len || atoi(colon + 1) > 65535)
        return tw_err_set(err, -EINVAL,
                          "statsd listen address \"%.80s\" is not host:port (like %s)", listen,
                          TW_IN_STATSD_DEFAULT_LISTEN);
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    memcpy(port, colon + 1, port_len + 1);
    return 0;
}

/* An empty host means every address: IPv6 dual-stack first (it takes IPv4
 * too), IPv4 where IPv6 is off. */
static int bind_address(tw_in_statsd *l, const char *host, const char *port, tw_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &found);
    if (rc != 0)
        return tw_err_set(err, -EINVAL, "cannot listen for statsd on %s: %s", l->listen,
                          gai_strerror(rc));
    /* A name such as "localhost" may give ::1 and 127.0.0.1; statsd clients
     * mostly send over IPv4, so that comes first. */
    int preferred = host[0] ? AF_INET : AF_INET6;
    rc = UV_EADDRNOTAVAIL;
    for (int pass = 0; pass < 2 && rc != 0; pass++)
        for (struct addrinfo *ai = found; ai && rc != 0; ai = ai->ai_next)
            if (pass == 1 || ai->ai_family == preferred)
                rc = uv_udp_bind(&l->udp, ai->ai_addr, 0);
    freeaddrinfo(found);
    if (rc != 0)
        return tw_err_set(err, rc, "cannot listen for statsd on %s: %s", l->listen,
                          uv_strerror(rc));
    struct sockaddr_storage bound;
    int len = sizeof bound;
    rc = uv_udp_getsockname(&l->udp, (struct sockaddr *)&bound, &len);
    if (rc != 0)
        return tw_err_set(err, rc, "statsd %s: getsockname: %s", l->listen, uv_strerror(rc));
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    /* Log lines name the port really bound when "any free port" was asked. */
    if (atoi(port) == 0)
        snprintf(l->listen, sizeof l->listen, "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", l->port);
    return 0;
}

static long read_rmem_max(void)
{
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "re");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* Linux doubles what it is asked for (the other half is its bookkeeping) and
 * reports the doubled size; it silently caps the request at
 * net.core.rmem_max unless SO_RCVBUFFORCE is used with CAP_NET_ADMIN. */
static void set_receive_buffer(tw_in_statsd *l, size_t want)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&l->udp, &fd) != 0)
        return;
    int v = want > INT32_MAX / 2 ? INT32_MAX / 2 : (int)want;
    int got = 0;
    socklen_t len = sizeof got;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
    if ((size_t)got / 2 >= (size_t)v)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0) {
        len = sizeof got;
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
        if ((size_t)got / 2 >= (size_t)v)
            return;
    }
    long max = read_rmem_max();
    tw_warn("statsd %s: the socket's receive buffer is %d bytes, not the %d asked for: the "
            "kernel caps it at net.core.rmem_max (%ld); bursts beyond it are dropped by the "
            "kernel. Raise it with: sysctl -w net.core.rmem_max=%d",
            l->listen, got / 2, v, max, v);
}

static void apply_defaults(const tw_in_statsd_options *in, tw_in_statsd_options *o)
{
    *o = *in;
    if (!o->listen || !o->listen[0])
        o->listen = TW_IN_STATSD_DEFAULT_LISTEN;
    if (o->flush_interval_ms <= 0)
        o->flush_interval_ms = TW_IN_STATSD_DEFAULT_FLUSH_MS;
    if (o->receive_buffer == 0)
        o->receive_buffer = TW_IN_STATSD_DEFAULT_RECEIVE_BUFFER;
    if (o->max_series == 0)
        o->max_series = TW_IN_STATSD_DEFAULT_MAX_SERIES;
    if (o->expire_after_ms == 0)
        o->expire_after_ms = TW_IN_STATSD_DEFAULT_EXPIRE_MS;
}

static unsigned expire_flushes(const tw_in_statsd_options *o)
{
    if (o->expire_after_ms < 0)
        return 0;
    int64_t n = (o->expire_after_ms + o->flush_interval_ms - 1) / o->flush_interval_ms;
    return n < 1 ? 1 : n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

int tw_in_statsd_start(uv_loop_t *loop, const tw_in_statsd_options *options,
                       const tw_metric_sink *sink, tw_in_statsd **out, tw_err *err)
{
    tw_in_statsd_options o;
    apply_defaults(options, &o);
    char host[256], port[8];
    int rc = split_listen(o.listen, host, sizeof host, port, sizeof port, err);
    if (rc != 0)
        return rc;

    tw_in_statsd *l = tw_calloc(1, sizeof *l);
    snprintf(l->listen, sizeof l->listen, "%s", o.listen);
    l->sink = *sink;
    rc = uv_udp_init_ex(loop, &l->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
    if (rc != 0) {
        free(l);
        return tw_err_set(err, rc, "statsd %s: %s", o.listen, uv_strerror(rc));
    }
    l->udp.data = l;
    rc = bind_address(l, host, port, err);
    if (rc == 0) {
        rc = uv_timer_init(loop, &l->timer);
        if (rc != 0)
            tw_err_set(err, rc, "statsd %s: %s", o.listen, uv_strerror(rc));
    }
    l->timer.data = l;
    if (rc != 0) {
        close_handles(l);
        return rc;
    }
    set_receive_buffer(l, o.receive_buffer);
    l->buffer = tw_malloc(DATAGRAM_SLOT * DATAGRAM_SLOTS);
    tw_statsd_agg_options agg_options = {.max_series = o.max_series,
                                         .expire_flushes = expire_flushes(&o),
                                         .namespace_ = o.namespace_};
    l->agg = tw_statsd_agg_new(&agg_options);
    rc = uv_udp_recv_start(&l->udp, on_alloc, on_receive);
    if (rc != 0) {
        tw_err_set(err, rc, "statsd %s: cannot receive: %s", o.listen, uv_strerror(rc));
        close_handles(l);
        return rc;
    }
    l->last_flush_ms = tw_time_now_ms();
    uv_timer_start(&l->timer, on_timer, (uint64_t)o.flush_interval_ms,
                   (uint64_t)o.flush_interval_ms);
    tw_info("statsd: listening on UDP %s, flushing every %" PRId64 " ms", l->listen,
            o.flush_interval_ms);
    *out = l;
    return 0;
}

int tw_in_statsd_port(const tw_in_statsd *l)
{
    return l->port;
}

/* What the kernel already holds when the agent stops is read here, so that
 * the last flush has it: the loop may not have run since it arrived. At most
 * DRAIN_MAX datagrams, so that a sender that never pauses cannot hold up the
 * stop. */
static void drain_socket(tw_in_statsd *l)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&l->udp, &fd) != 0)
        return;
    struct mmsghdr msgs[DATAGRAM_SLOTS];
    struct iovec iov[DATAGRAM_SLOTS];
    struct sockaddr_storage from[DATAGRAM_SLOTS];
    for (size_t total = 0; total < DRAIN_MAX;) {
        for (int i = 0; i < DATAGRAM_SLOTS; i++) {
            iov[i] = (struct iovec){l->buffer + (size_t)i * DATAGRAM_SLOT, DATAGRAM_SLOT};
            msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
                                                   .msg_namelen = sizeof from[i],
                                                   .msg_iov = &iov[i],
                                                   .msg_iovlen = 1}};
        }
        int n = recvmmsg(fd, msgs, DATAGRAM_SLOTS, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            l->stats.packets++;
            process_datagram(l, iov[i].iov_base, msgs[i].msg_len,
                             (const struct sockaddr *)&from[i]);
        }
        total += (size_t)n;
    }
}

void tw_in_statsd_stop(tw_in_statsd *l, void (*closed)(void *ctx), void *ctx)
{
    uv_udp_recv_stop(&l->udp);
    uv_timer_stop(&l->timer);
    drain_socket(l);
    tw_in_statsd_flush(l, tw_time_now_ms());
    l->closed = closed;
    l->closed_ctx = ctx;
    close_handles(l);
}

void tw_in_statsd_stats(const tw_in_statsd *l, struct tw_in_statsd_stats *out)
{
    *out = l->stats;
    out->series = tw_statsd_agg_series(l->agg);
}
