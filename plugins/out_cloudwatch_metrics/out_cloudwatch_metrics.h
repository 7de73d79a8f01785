/* out_cloudwatch_metrics.h — the CloudWatch metrics output: what the
 * aggregator hands out at each flush becomes PutMetricData requests
 * (cwm_encode.h) pushed into the metrics outbox (spool, then sender).
 *
 * Loop thread only. The output borrows the outbox; the caller owns both.
 */
#ifndef TW_OUT_CLOUDWATCH_METRICS_H
#define TW_OUT_CLOUDWATCH_METRICS_H

#include <stddef.h>

#include "metric_agg.h"
#include "outbox.h"

typedef struct tw_out_cwm tw_out_cwm;

tw_out_cwm *tw_out_cwm_new(tw_outbox *outbox);
void tw_out_cwm_free(tw_out_cwm *out);

/* Empties agg into requests; returns how many datums went out. */
size_t tw_out_cwm_flush(tw_out_cwm *out, tw_metric_agg *agg);

/* Requests made so far. */
size_t tw_out_cwm_requests(const tw_out_cwm *out);

#endif
