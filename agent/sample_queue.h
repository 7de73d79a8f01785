/* sample_queue.h — samples emitted on a worker thread, replayed on the loop.
 *
 * Inputs whose collect may block (statvfs on a hung NFS mount, a plugin's
 * network call) run on the libuv thread pool, but the pipeline's sink is
 * loop-only. A tw_sample_queue is the sink they emit into there: it copies
 * each sample (strings included) into memory it reuses from one collect to
 * the next, and tw_sample_queue_drain replays them into the real sink on
 * the loop after the work is done.
 *
 * One producer at a time; the uv_queue_work handoff orders producer and
 * drain. The queue owns its memory; free it with tw_sample_queue_free.
 */
#ifndef TW_SAMPLE_QUEUE_H
#define TW_SAMPLE_QUEUE_H

#include <stddef.h>

#include "metric.h"

typedef struct tw_sample_queue tw_sample_queue;

/* max_samples bounds one collect (further emits fail with -ENOSPC). */
tw_sample_queue *tw_sample_queue_new(size_t max_samples);
void tw_sample_queue_free(tw_sample_queue *q);

/* The sink to emit into (valid as long as q). */
tw_metric_sink tw_sample_queue_sink(tw_sample_queue *q);

/* Replays every queued sample into sink, in order, then empties q.
 * Returns how many the sink refused. */
size_t tw_sample_queue_drain(tw_sample_queue *q, const tw_metric_sink *sink);

size_t tw_sample_queue_length(const tw_sample_queue *q);

#endif
