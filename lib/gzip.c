/* gzip.c — whole-buffer gzip with zlib (see gzip.h). */
#include "gzip.h"

#include <stdlib.h>
#include <zlib.h>

void tw_gzip_compress(const void *data, size_t len, int level, tw_buf *out)
{
    z_stream zs = {0};
    /* windowBits 15 + 16: a gzip header and trailer rather than zlib's. */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort(); /* only on bad arguments or no memory */
    uLong bound = deflateBound(&zs, (uLong)len);
    tw_buf_reserve(out, bound + 1);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    if (rc != Z_STREAM_END)
        abort(); /* deflateBound guarantees room for everything */
    out->len += zs.total_out;
    out->data[out->len] = '\0';
    deflateEnd(&zs);
}
