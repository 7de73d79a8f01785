/* fuzz_statsd_line.c — libFuzzer target for the StatsD input's parser and
 * aggregator (plugins/in_statsd): the input is one datagram. It is split
 * into lines; each line is parsed; what parses must hold the parser's
 * promises (a name of 1 to 255 bytes, at most 29 tags sorted with unique
 * names, as many values as it says, a rate in (0, 1]) and goes into an
 * aggregator, which is flushed twice into a sink that aborts on any sample
 * CloudWatch would refuse (tw_metric_sample_check) for another reason than
 * a sum grown past CloudWatch's range. Bad lines get a reason
 * and a phrase, and are escaped for the log as the listener does. Nothing
 * may crash, leak or trip a sanitizer, whatever the bytes. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric.h"
#include "statsd_agg.h"
#include "statsd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_range(double v)
{
    return isfinite(v) && fabs(v) <= 0x1p360;
}

/* The one refusal allowed: sums that outgrew CloudWatch's range (two values
 * near 2^360, or a tiny sample rate such as @1e-300 scaling a counter). The
 * real sink refuses those too, and the listener counts them. */
static int checking_emit(void *ctx, const tw_metric_sample *s)
{
    char why[256];
    if (tw_metric_sample_check(s, why, sizeof why) != 0) {
        if (!in_range(s->value) || !in_range(s->count))
            return -EINVAL;
        fprintf(stderr, "sample refused: %s\n", why);
        abort();
    }
    if (s->kind == TW_METRIC_DISTRIBUTION && !(s->count > 0))
        abort();
    (*(size_t *)ctx)++;
    return 0;
}

static void check_line(const tw_statsd_line *line)
{
    if (line->name.len == 0 || line->name.len > TW_METRIC_NAME_MAX)
        abort();
    if (line->n_tags > TW_STATSD_MAX_TAGS || line->n_values == 0)
        abort();
    if (!(line->rate > 0 && line->rate <= 1))
        abort();
    for (size_t i = 1; i < line->n_tags; i++) {
        const tw_statsd_span *a = &line->tags[i - 1].name, *b = &line->tags[i].name;
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->ptr, b->ptr, n);
        if (c > 0 || (c == 0 && a->len >= b->len))
            abort();
    }
    size_t offset = 0, n = 0;
    tw_statsd_value v;
    while (tw_statsd_line_value(line, &offset, &v))
        n++;
    if (n != line->n_values)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_statsd_agg_options o = {.max_series = 64, .expire_flushes = 1};
    tw_statsd_agg *agg = tw_statsd_agg_new(&o);
    tw_metric_sink sink;
    size_t samples = 0;
    sink.emit = checking_emit;
    sink.ctx = &samples;
    const char *packet = (const char *)data;
    size_t pos = 0;
    tw_statsd_span span;
    while (tw_statsd_next_line(packet, size, &pos, &span)) {
        tw_statsd_line line;
        tw_statsd_error e = {TW_STATSD_REASONS, NULL};
        if (tw_statsd_parse_line(span.ptr, span.len, &line, &e) == 0) {
            check_line(&line);
            tw_statsd_agg_add(agg, &line);
        } else {
            if ((unsigned)e.reason >= TW_STATSD_REASONS || !e.why || !e.why[0])
                abort();
            char text[200 * 4 + 8];
            tw_statsd_escape(span.ptr, span.len, 200, text, sizeof text);
        }
    }
    tw_statsd_agg_flush(agg, 1700000000000, &sink, NULL);
    tw_statsd_agg_flush(agg, 1700000010000, &sink, NULL);
    tw_statsd_agg_free(agg);
    return 0;
}
