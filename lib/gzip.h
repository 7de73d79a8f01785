/* gzip.h — gzip (RFC 1952) compression of a whole buffer in memory, for
 * request bodies (Content-Encoding: gzip) and delivered files.
 *
 * The caller owns the input and the output tw_buf. Compression cannot fail
 * except on allocation (which aborts, mem.h).
 */
#ifndef TW_GZIP_H
#define TW_GZIP_H

#include <stddef.h>

#include "buf.h"

/* Appends the gzip encoding of data to out. level: zlib's 1 (fast) to 9
 * (small); 6 is zlib's default. */
void tw_gzip_compress(const void *data, size_t len, int level, tw_buf *out);

#endif
