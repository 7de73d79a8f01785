/* in_statsd.h — the StatsD input: a UDP listener on the agent's libuv loop
 * that parses datagrams in place (statsd_parse.h), aggregates them
 * (statsd_agg.h: what each type becomes, expiry, the series cap) and hands
 * the samples to a tw_metric_sink at every flush.
 *
 * Receiving: one uv_udp_t opened with UV_UDP_RECVMMSG, so libuv reads up to
 * 20 datagrams per recvmmsg(2) into one buffer owned by the listener
 * (20 x 64 KiB, allocated once); lines are parsed where they lie and the
 * steady state allocates nothing. The kernel's socket buffer (SO_RCVBUF)
 * absorbs bursts while the loop does other work: it is set to
 * receive_buffer, and when net.core.rmem_max caps it lower the listener tries
 * SO_RCVBUFFORCE (root / CAP_NET_ADMIN) and otherwise warns, naming the
 * sysctl. Datagrams the kernel drops for want of room are counted by the
 * kernel (/proc/net/snmp Udp: RcvbufErrors), not here.
 *
 * Bad input: a bad line (statsd_parse.h lists the reasons) is counted under
 * its reason; the first TW_IN_STATSD_LOGGED_BAD_LINES are logged with the
 * reason, the sender and the line (cut to 200 characters, non-printables
 * escaped), later ones only in a summary line at each flush that had any. The
 * other lines of the same datagram are kept. Lines that would create a
 * series past max_series are dropped and counted, with a warning the first
 * time and a count at each flush that dropped any.
 *
 * Threads: everything here runs on the loop's thread (start, flush, stop,
 * stats); the sink is called on that thread.
 */
#ifndef TW_IN_STATSD_H
#define TW_IN_STATSD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "metric.h"
#include "statsd_parse.h"

#define TW_IN_STATSD_DEFAULT_LISTEN "127.0.0.1:8125"
#define TW_IN_STATSD_DEFAULT_FLUSH_MS 10000
#define TW_IN_STATSD_DEFAULT_RECEIVE_BUFFER (8u << 20)
#define TW_IN_STATSD_DEFAULT_MAX_SERIES 100000
#define TW_IN_STATSD_DEFAULT_EXPIRE_MS (5 * 60 * 1000)
#define TW_IN_STATSD_LOGGED_BAD_LINES 10

typedef struct tw_in_statsd tw_in_statsd;

/* Zero or NULL in any field means its default. */
typedef struct tw_in_statsd_options {
    const char *listen;        /* "host:port", "[v6]:port", ":port" (every address,
                                  IPv6 dual-stack); port 0 = any free port */
    int64_t flush_interval_ms; /* default 10 s, as the CloudWatch agent's statsd */
    size_t receive_buffer;     /* SO_RCVBUF bytes; default 8 MiB */
    size_t max_series;         /* default 100,000 */
    int64_t expire_after_ms;   /* a series without data this long is forgotten;
                                  default 5 min; negative: never */
    const char *namespace_;    /* borrowed; NULL: the [metrics] namespace */
} tw_in_statsd_options;

/* A struct tag without a typedef: the name tw_in_statsd_stats is the
 * function below. */
struct tw_in_statsd_stats {
    uint64_t packets;        /* datagrams received */
    uint64_t lines;          /* non-empty lines, good and bad */
    uint64_t bad_lines;      /* all reasons */
    uint64_t bad_by_reason[TW_STATSD_REASONS];
    uint64_t series;         /* series alive now */
    uint64_t dropped_lines;  /* lines of new series refused at max_series */
    uint64_t receive_errors; /* failed reads and truncated datagrams */
    uint64_t flushes;
    uint64_t samples;        /* samples the sink took */
    uint64_t rejected;       /* samples the sink refused */
    uint64_t expired_series;
};

/* Binds the socket, sets its receive buffer, starts receiving and the flush
 * timer. The sink is copied (its ctx is borrowed and must outlive the
 * listener). Returns 0 with *out set, or a negative errno (a UV_ error code)
 * with err naming the address and the cause ("cannot listen on
 * 127.0.0.1:8125: address already in use"); on failure any handle already
 * made closes when the loop next runs, and nothing else is left. A host name
 * in listen is resolved here, once (numeric addresses never block). */
int tw_in_statsd_start(uv_loop_t *loop, const tw_in_statsd_options *options,
                       const tw_metric_sink *sink, tw_in_statsd **out, tw_err *err);

/* The port bound (useful with port 0). */
int tw_in_statsd_port(const tw_in_statsd *listener);

/* Emits the interval's samples with time now_ms and starts a new interval.
 * The timer calls it every flush_interval_ms with the current time. */
void tw_in_statsd_flush(tw_in_statsd *listener, int64_t now_ms);

/* Stops receiving, reads what the kernel still holds for the socket (up to
 * 100,000 datagrams), flushes one last time, and closes the handles; once they
 * are closed the listener is freed and closed(ctx) is called (closed may be
 * NULL). The listener must not be used after this call. */
void tw_in_statsd_stop(tw_in_statsd *listener, void (*closed)(void *ctx), void *ctx);

/* The counters so far (series: now). */
void tw_in_statsd_stats(const tw_in_statsd *listener, struct tw_in_statsd_stats *out);

#endif
