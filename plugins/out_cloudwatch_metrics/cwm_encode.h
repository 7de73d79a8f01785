/* cwm_encode.h — PutMetricData request bodies in the query protocol
 * (Action=PutMetricData&Version=2010-08-01&..., form-encoded), which AWS
 * and the collector both accept (shared/spec/cloudwatch.md §1.3.2, §3.1).
 *
 * A tw_cwm_batcher takes datums one at a time and cuts bodies so that each
 * stays within every PutMetricData limit: one namespace, at most 1,000
 * datums, at most max_body_bytes bytes (the CloudWatch agent's 999,000:
 * under the 1 MB payload limit even uncompressed), at most 150 Values per
 * datum (a larger distribution is split over several datums of the same
 * identity, each with the StatisticValues of its own part). Each finished
 * body is handed to the callback, which takes it over.
 *
 * Numbers are written so that they parse back to the same double; times as
 * ISO 8601 UTC with milliseconds when they have them.
 */
#ifndef TW_CWM_ENCODE_H
#define TW_CWM_ENCODE_H

#include <stddef.h>

#include "buf.h"
#include "metric.h"

#define TW_CWM_MAX_BODY 999000

typedef struct tw_cwm_batcher tw_cwm_batcher;

/* A finished body: the callback takes body's memory (tw_buf_steal or keep
 * the struct) and must leave *body empty or reset; n_datums is how many
 * MetricData members it holds. */
typedef void (*tw_cwm_body_fn)(void *ctx, const char *namespace_, tw_buf *body,
                               size_t n_datums);

/* max_body_bytes 0 means TW_CWM_MAX_BODY. */
tw_cwm_batcher *tw_cwm_batcher_new(size_t max_body_bytes, tw_cwm_body_fn fn, void *ctx);
void tw_cwm_batcher_free(tw_cwm_batcher *b);

/* Adds one datum (all of it borrowed for the call); may finish bodies. */
void tw_cwm_batcher_add(tw_cwm_batcher *b, const char *namespace_, const tw_metric_datum *d);

/* Finishes the body being filled, if it holds anything. */
void tw_cwm_batcher_finish(tw_cwm_batcher *b);

/* Appends the shortest decimal form of v that reads back as v. */
void tw_cwm_format_double(tw_buf *out, double v);

#endif
