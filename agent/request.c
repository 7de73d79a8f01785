/* request.c — building requests and their spool encoding (see request.h).
 *
 * Encoding, all integers little-endian:
 *   "TWRQ" u8 version=1 u8 flags(bit0 gzip) i64 created_ms
 *   then six strings, each u32 length + bytes: batch_id service path
 *   content_type target label (an absent target has length 0xffffffff)
 *   then u32 body length + body,
 *   and from version 2 on: u32 meta length + meta.
 * Version 1 records (no meta) are still read.
 * The spool's CRC already guards the bytes; this layer checks the shape so
 * that a record from another version is refused with a sentence. */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "encode.h"
#include "gzip.h"
#include "mem.h"
#include "timefmt.h"

#define MAGIC "TWRQ"
#define VERSION 2
#define OLDEST_VERSION 1
#define ABSENT 0xffffffffu
/* Below this, gzip's header and trailer eat the gain. */
#define GZIP_MIN_BYTES 1024

static void random_batch_id(char out[TW_BATCH_ID_SIZE])
{
    unsigned char bytes[16];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            abort(); /* no kernel randomness: nothing sensible to do */
    }
    tw_hex_encode(bytes, sizeof bytes, out);
}

tw_request *tw_request_new(const char *service, const char *path, const char *content_type,
                           const char *target, const char *label)
{
    tw_request *req = tw_calloc(1, sizeof *req);
    req->service = tw_strdup(service);
    req->path = tw_strdup(path);
    req->content_type = tw_strdup(content_type);
    req->target = target ? tw_strdup(target) : NULL;
    req->label = tw_strdup(label);
    req->created_ms = tw_time_now_ms();
    random_batch_id(req->batch_id);
    return req;
}

void tw_request_set_body(tw_request *req, const void *data, size_t len)
{
    tw_buf_reset(&req->body);
    req->gzip = false;
    if (len >= GZIP_MIN_BYTES) {
        tw_gzip_compress(data, len, 6, &req->body);
        if (req->body.len < len) {
            req->gzip = true;
            return;
        }
        tw_buf_reset(&req->body);
    }
    tw_buf_append(&req->body, data, len);
}

void tw_request_free(tw_request *req)
{
    if (!req)
        return;
    free(req->service);
    free(req->path);
    free(req->content_type);
    free(req->target);
    free(req->label);
    tw_buf_free(&req->body);
    tw_buf_free(&req->meta);
    free(req);
}

/* ---- spool encoding -------------------------------------------------------- */

static void put_string(tw_buf *out, const char *s)
{
    if (!s) {
        tw_le_append(out, ABSENT, 4);
        return;
    }
    size_t len = strlen(s);
    tw_le_append(out, (uint32_t)len, 4);
    tw_buf_append(out, s, len);
}

void tw_request_encode(const tw_request *req, tw_buf *out)
{
    tw_buf_append(out, MAGIC, 4);
    unsigned char head[2] = {VERSION, req->gzip ? 1 : 0};
    tw_buf_append(out, head, 2);
    uint64_t created = (uint64_t)req->created_ms;
    tw_le_append(out, (uint32_t)created, 4);
    tw_le_append(out, (uint32_t)(created >> 32), 4);
    put_string(out, req->batch_id);
    put_string(out, req->service);
    put_string(out, req->path);
    put_string(out, req->content_type);
    put_string(out, req->target);
    put_string(out, req->label);
    tw_le_append(out, (uint32_t)req->body.len, 4);
    tw_buf_append(out, req->body.data, req->body.len);
    tw_le_append(out, (uint32_t)req->meta.len, 4);
    tw_buf_append(out, req->meta.data, req->meta.len);
}

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static int get_u32(reader *r, uint32_t *v)
{
    if (r->end - r->p < 4)
        return -EINVAL;
    *v = (uint32_t)tw_le_get(r->p, 4);
    r->p += 4;
    return 0;
}

/* A string field; *out is NULL for an absent one when allow_absent. */
static int get_string(reader *r, bool allow_absent, char **out)
{
    uint32_t len;
    *out = NULL;
    if (get_u32(r, &len) != 0)
        return -EINVAL;
    if (len == ABSENT)
        return allow_absent ? 0 : -EINVAL;
    if ((size_t)(r->end - r->p) < len || memchr(r->p, '\0', len))
        return -EINVAL;
    *out = tw_malloc((size_t)len + 1);
    memcpy(*out, r->p, len);
    (*out)[len] = '\0';
    r->p += len;
    return 0;
}

int tw_request_decode(const void *data, size_t len, tw_request **out, tw_err *err)
{
    reader r = {data, (const unsigned char *)data + len};
    if (len < 6 || memcmp(data, MAGIC, 4) != 0)
        return tw_err_set(err, -EINVAL, "not a trailwatch request record (bad magic)");
    unsigned version = r.p[4];
    if (version < OLDEST_VERSION || version > VERSION)
        return tw_err_set(err, -EINVAL,
                          "request record version %u; this agent reads version %u (was the "
                          "spool written by a newer trailwatch?)",
                          version, VERSION);
    tw_request *req = tw_calloc(1, sizeof *req);
    req->gzip = r.p[5] & 1;
    r.p += 6;
    uint32_t lo, hi, body_len;
    char *batch_id = NULL;
    int rc = get_u32(&r, &lo) || get_u32(&r, &hi) || get_string(&r, false, &batch_id) ||
             get_string(&r, false, &req->service) || get_string(&r, false, &req->path) ||
             get_string(&r, false, &req->content_type) || get_string(&r, true, &req->target) ||
             get_string(&r, false, &req->label) || get_u32(&r, &body_len);
    if (rc == 0 && (batch_id == NULL || strlen(batch_id) != TW_BATCH_ID_SIZE - 1))
        rc = -1;
    const unsigned char *body = r.p;
    uint32_t meta_len = 0;
    if (rc == 0 && (size_t)(r.end - r.p) < body_len)
        rc = -1;
    if (rc == 0) {
        r.p += body_len;
        if (version >= 2 && get_u32(&r, &meta_len) != 0)
            rc = -1;
        if (rc == 0 && (size_t)(r.end - r.p) != meta_len)
            rc = -1;
    }
    if (rc != 0) {
        free(batch_id);
        tw_request_free(req);
        return tw_err_set(err, -EINVAL, "request record is truncated or malformed");
    }
    req->created_ms = (int64_t)((uint64_t)hi << 32 | lo);
    memcpy(req->batch_id, batch_id, TW_BATCH_ID_SIZE);
    free(batch_id);
    tw_buf_append(&req->body, body, body_len);
    tw_buf_append(&req->meta, r.p, meta_len);
    *out = req;
    return 0;
}
