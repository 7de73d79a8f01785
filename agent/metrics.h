/* metrics.h — the agent's metrics pipeline: every metric input, the
 * aggregator, and the CloudWatch metrics output, on the agent's loop.
 *
 * Started from the [metrics], [statsd], [plugin NAME] and [exec NAME]
 * sections. Host inputs (cpu, mem, net, disk, diskio) are read together
 * every interval, aligned to wall-clock multiples of it, on the thread pool
 * (a hung mount must not stall the loop); plugins, exec inputs and StatsD
 * run on their own schedules. Every flush_interval the aggregator is
 * emptied into PutMetricData requests pushed into the outbox the agent
 * gives (spool, then sender). The agent's own counters (batches sent,
 * retried, rejected, dropped, spool size, samples per input) are emitted
 * into the self namespace at each flush when [agent] self_metrics is on.
 *
 * Loop thread only. The pipeline borrows the config, the outbox and the
 * sender's stats; the agent owns and outlives them.
 */
#ifndef TW_METRICS_H
#define TW_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "err.h"
#include "outbox.h"
#include "sender.h"

typedef struct tw_metrics tw_metrics;

/* Where the pipeline reads the host's counters: "/proc" and "/sys", or a
 * fixture tree in tests. */
typedef struct tw_metrics_roots {
    const char *proc;
    const char *sys;
} tw_metrics_roots;

/* Starts every input of config. An input that cannot start (a StatsD port
 * in use, a plugin refused) is an error naming it: the caller decides
 * whether that stops the agent. sender may be NULL (no self metrics about
 * it). */
int tw_metrics_start(uv_loop_t *loop, const tw_agent_config *config,
                     const tw_metrics_roots *roots, tw_outbox *outbox, tw_sender *sender,
                     tw_metrics **out, tw_err *err);

/* Stops the inputs, flushes what was aggregated into the outbox, then runs
 * closed(ctx) once every handle is closed. */
void tw_metrics_stop(tw_metrics *m, void (*closed)(void *ctx), void *ctx);

/* The exec input's options for an [exec NAME] section (strings borrowed
 * from config), as tw_metrics_start uses them; for check-config too. */
struct tw_in_exec_options;
void tw_metrics_exec_options(const tw_exec_config *config, const char *hostname,
                             struct tw_in_exec_options *out);

/* Adds the pipeline's counters to obj (for `trailwatch status`). */
void tw_metrics_status(const tw_metrics *m, json_t *obj);

#endif
