/* logs_meta.c — the meta of a logs section's requests (see logs_meta.h). */
#include "logs_meta.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "encode.h"

#define MAGIC "TWLM"

void tw_logs_meta_begin(tw_buf *meta, size_t n_events, const char *group, const char *stream)
{
    tw_buf_append(meta, MAGIC, 4);
    tw_le_append(meta, n_events, 4);
    const char *names[2] = {group, stream};
    for (int i = 0; i < 2; i++) {
        size_t len = strlen(names[i]);
        tw_le_append(meta, len, 2);
        tw_buf_append(meta, names[i], len);
    }
}

int tw_logs_meta_read(const tw_buf *meta, tw_logs_meta *out)
{
    const unsigned char *p = (const unsigned char *)meta->data, *end = p + meta->len;
    if (meta->len < 8 || memcmp(p, MAGIC, 4) != 0)
        return -EINVAL;
    out->n_events = (size_t)tw_le_get(p + 4, 4);
    p += 8;
    char *names[2] = {out->group, out->stream};
    for (int i = 0; i < 2; i++) {
        if (end - p < 2)
            return -EINVAL;
        size_t len = (size_t)tw_le_get(p, 2);
        p += 2;
        if ((size_t)(end - p) < len || len >= sizeof out->group)
            return -EINVAL;
        memcpy(names[i], p, len);
        names[i][len] = '\0';
        p += len;
    }
    out->positions = p;
    out->positions_len = (size_t)(end - p);
    return 0;
}
