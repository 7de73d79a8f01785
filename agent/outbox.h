/* outbox.h — one destination's way out: spool, then sender, then ack.
 *
 * An output (CloudWatch metrics, a log stream, audit events) pushes each
 * finished request into its outbox. The outbox appends the request's
 * encoding to its spool (on a worker thread: the fsync never stalls the
 * loop), reads spooled records back in order, keeps up to max_in_flight of
 * them at the sender, and acknowledges each in the spool once the endpoint
 * accepted it. After a restart it resumes with whatever the spool still
 * holds; a spool over its cap drops the oldest records and says so.
 *
 * Requests the endpoint refuses for good (a 4xx that is not throttling or
 * authentication) and those whose retry budget ran out are logged with the
 * AWS error, counted, and acknowledged so they do not block the rest; an
 * output that can repair the cause (a log stream that does not exist yet)
 * sees every outcome first through its result callback and may ask for the
 * request to be sent again.
 *
 * Loop thread only (disk work happens on uv worker threads internally).
 */
#ifndef TW_OUTBOX_H
#define TW_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "request.h"
#include "sender.h"
#include "spool.h"

typedef struct tw_outbox tw_outbox;

typedef enum tw_outbox_verdict {
    TW_OUTBOX_DONE,   /* acknowledge it in the spool (delivered, or given up) */
    TW_OUTBOX_RESEND, /* send it again (after a short pause) */
} tw_outbox_verdict;

/* Called on the loop for every final outcome (acked, rejected, expired;
 * not for cancellations at shutdown, which leave the record spooled). */
typedef tw_outbox_verdict (*tw_outbox_result_fn)(void *ctx, const tw_request *req,
                                                 const tw_send_result *result);

typedef struct tw_outbox_options {
    const char *name;          /* for messages and the status: "metrics" */
    const char *dir;           /* the spool directory */
    tw_spool_options spool;
    unsigned max_in_flight;    /* 0: 4 */
    tw_outbox_result_fn on_result; /* may be NULL */
    /* May be NULL. Called by tw_outbox_open, on the calling thread, once per
     * record the last run left pending, oldest first, before anything is
     * sent: a log output learns from the requests' meta which file positions
     * are already spooled. Reads the whole pending spool (startup only). */
    void (*on_recovered)(void *ctx, const tw_request *req);
    /* May be NULL. Called on a worker thread before a disk job acknowledges
     * records in the spool (acknowledged records may be deleted at once):
     * what must be durable before that, such as a checkpoint file recording
     * their delivery, is written here. */
    void (*before_ack)(void *ctx);
    /* May be NULL. Called on the loop after each disk job (requests were
     * spooled or acknowledged): a producer paused by a full queue looks
     * again. */
    void (*on_progress)(void *ctx);
    void *ctx;
} tw_outbox_options;

typedef struct tw_outbox_stats {
    uint64_t pushed, acked, rejected, expired, resent;
    uint64_t push_failures; /* the spool refused an append: the request is lost */
    unsigned in_flight;
    unsigned queued;       /* pushed, not yet in the spool */
    uint64_t queued_bytes; /* their encoded size: memory they hold */
    tw_spool_stats spool;
} tw_outbox_stats;

/* Opens (recovering) the spool and starts sending what it holds. */
int tw_outbox_open(uv_loop_t *loop, tw_sender *sender, const tw_outbox_options *options,
                   tw_outbox **out, tw_err *err);

/* Takes req over: spooled, then sent. */
void tw_outbox_push(tw_outbox *o, tw_request *req);

/* True when nothing waits to be spooled and nothing is at the sender (what
 * a graceful stop waits for). */
bool tw_outbox_idle(const tw_outbox *o);

/* Switches to another sender (the endpoint changed on reload). Close the
 * old sender afterwards: what it cancels is read from the spool again and
 * sent through the new one. */
void tw_outbox_set_sender(tw_outbox *o, tw_sender *sender);

/* Stops reading the spool; runs closed(ctx) once pending appends are
 * durable, disk work has finished and no request is at the sender any more
 * (close the sender: its cancellations leave the records in the spool for
 * the next start). */
void tw_outbox_close(tw_outbox *o, void (*closed)(void *ctx), void *ctx);

void tw_outbox_stats_get(const tw_outbox *o, tw_outbox_stats *out);

#endif
