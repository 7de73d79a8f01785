/* logs.h — the logs pipeline of one [logs] section: tail → parser →
 * PutLogEvents batches per log stream (and audit events) → outbox, and
 * acknowledgements back into the section's checkpoint.
 *
 * Owns, per section: the checkpoint (state_dir/checkpoints/NAME.json), the
 * outbox and its spool (state_dir/spool/logs/NAME), the tail, one parser
 * per followed file, one batch per log stream. A file's checkpoint advances
 * only as far as lines that are in an acknowledged request (or dropped
 * loudly); lines in the spool are never read again after a restart, lines
 * not yet in it always are (see checkpoint.h).
 *
 * Log groups and streams are created on demand (the first PutLogEvents that
 * meets ResourceNotFoundException creates them and is sent again), with the
 * section's retention when set.
 *
 * Loop thread only.
 */
#ifndef TW_LOGS_H
#define TW_LOGS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "err.h"
#include "sender.h"

typedef struct tw_logs tw_logs;

typedef struct tw_logs_stats {
    uint64_t lines, records, unparsed;
    uint64_t batches, events_dropped, events_rejected, truncated;
    uint64_t audit_events, audit_failed;
    unsigned files;
    uint64_t spool_pending_records;
    bool paused;
} tw_logs_stats;

/* Starts the pipeline of config->logs[index] (state under
 * config->agent.state_dir). Returns 0 and *out, or a negative errno with err
 * saying what is wrong (spool or checkpoint unusable, a bad log_format). */
int tw_logs_start(uv_loop_t *loop, const tw_agent_config *config, size_t index,
                  tw_sender *sender, tw_logs **out, tw_err *err);

/* The configuration was reloaded with this section unchanged: the pipeline
 * now borrows its settings from config (the old one is about to be freed). */
void tw_logs_rebind(tw_logs *l, const tw_agent_config *config, size_t index);

/* The endpoint changed (reload): requests go through the new sender. */
void tw_logs_set_sender(tw_logs *l, tw_sender *sender);

/* Stops reading, ships what was already parsed into the spool, and frees
 * the pipeline once the spool is consistent and nothing is at the sender
 * (close the sender alongside: its cancellations stay spooled). Lines held
 * by a parser are read again at the next start. */
void tw_logs_stop(tw_logs *l, void (*stopped)(void *ctx), void *ctx);

/* True when nothing is waiting to be spooled or at the sender. */
bool tw_logs_idle(const tw_logs *l);

void tw_logs_stats_get(const tw_logs *l, tw_logs_stats *out);
const char *tw_logs_name(const tw_logs *l);

#endif
