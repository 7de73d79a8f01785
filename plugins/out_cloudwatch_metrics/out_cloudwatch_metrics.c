/* out_cloudwatch_metrics.c — flush → PutMetricData requests → outbox (see
 * out_cloudwatch_metrics.h). */
#include "out_cloudwatch_metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "cwm_encode.h"
#include "mem.h"

/* The query protocol: what AWS, the CloudWatch agent and the collector
 * all speak (shared/spec/cloudwatch.md §1.3.2). */
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

struct tw_out_cwm {
    tw_outbox *outbox;
    tw_cwm_batcher *batcher;
    size_t datums;
    size_t requests;
};

static void on_body(void *ctx, const char *namespace_, tw_buf *body, size_t n_datums)
{
    tw_out_cwm *out = ctx;
    char label[320];
    snprintf(label, sizeof label, "PutMetricData %s (%zu datum%s)", namespace_, n_datums,
             n_datums == 1 ? "" : "s");
    tw_request *req = tw_request_new("monitoring", "/", CONTENT_TYPE, NULL, label);
    tw_request_set_body(req, body->data, body->len);
    tw_buf_reset(body);
    out->requests++;
    tw_outbox_push(out->outbox, req);
}

static void on_datum(void *ctx, const char *namespace_, const tw_metric_datum *datum)
{
    tw_out_cwm *out = ctx;
    out->datums++;
    tw_cwm_batcher_add(out->batcher, namespace_, datum);
}

tw_out_cwm *tw_out_cwm_new(tw_outbox *outbox)
{
    tw_out_cwm *out = tw_calloc(1, sizeof *out);
    out->outbox = outbox;
    out->batcher = tw_cwm_batcher_new(0, on_body, out);
    return out;
}

void tw_out_cwm_free(tw_out_cwm *out)
{
    if (!out)
        return;
    tw_cwm_batcher_free(out->batcher);
    free(out);
}

size_t tw_out_cwm_flush(tw_out_cwm *out, tw_metric_agg *agg)
{
    size_t before = out->datums;
    tw_metric_agg_flush(agg, on_datum, out);
    tw_cwm_batcher_finish(out->batcher);
    return out->datums - before;
}

size_t tw_out_cwm_requests(const tw_out_cwm *out)
{
    return out->requests;
}
