/* spool.c — the agent's on-disk queue of batches (see spool.h, docs/spool.md).
 *
 * Owns the spool directory: segment files "<first id as 16 hex>.seg", the
 * acknowledged-prefix file "state" and the lock "spool.lock". A segment is a
 * sequence of records, each a 32-byte header and the payload:
 *
 *   0  magic "TWS\x01"        16  append time, epoch ms (i64 LE)
 *   4  payload length (u32 LE) 24  crc32 of the payload (u32 LE)
 *   8  id (u64 LE)             28  crc32 of bytes 0..27 (u32 LE)
 *
 * The header has its own CRC so that a damaged length is never trusted, and
 * so that looking for the next intact record after damage costs a 32-byte
 * check per candidate magic, not a pass over a payload of up to 16 MiB.
 *
 * In memory each segment keeps one entry per id (offset and size, size 0 once
 * the record is acknowledged, dropped or missing); nothing else. Only the
 * newest segment is written, and it is never deleted, so its name and records
 * remember the highest id handed out even when every record was acknowledged.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "encode.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

#define HEADER_BYTES TW_SPOOL_RECORD_OVERHEAD
#define MAX_ID (UINT64_C(1) << 62) /* far beyond any real count; keeps id + 1 safe */
#define STATE_NAME "state"
#define STATE_TMP_NAME "state.tmp"
#define LOCK_NAME "spool.lock"
#define SEGMENT_SUFFIX ".seg"
#define MAX_MESSAGES 100
#define SCAN_CHUNK 65536

static const unsigned char record_magic[4] = {'T', 'W', 'S', 0x01};

typedef struct entry {
    uint32_t offset;
    uint32_t size; /* header + payload; 0 = not pending (acked, dropped or missing) */
} entry;

typedef struct segment {
    uint64_t name_id;  /* from the file name */
    uint64_t base_id;  /* id of entries[0] (meaningless while count == 0) */
    entry *entries;
    size_t count, cap;
    size_t first_pending; /* entries before it are all not pending */
    uint64_t pending, pending_bytes;
    uint64_t bytes; /* file size: where the next record goes */
} segment;

struct tw_spool {
    pthread_mutex_t lock; /* everything below but stats */
    char *dir;
    tw_spool_options options;
    int lock_fd;
    int write_fd;  /* the newest segment, O_RDWR */
    bool deferring; /* tw_spool_defer_sync: appends skip their fdatasync */
    bool unsynced;  /* ... and the write segment has some not yet synced */
    int64_t state_saved_ms; /* when acks last wrote the state file */
    segment *segments; /* oldest first; never empty once open */
    size_t nsegments, segments_cap;
    uint64_t next_id;
    uint64_t saved_through;   /* acknowledged prefix last written to "state" */
    uint64_t durable_through; /* ... and last fsync'd */
    bool state_write_failed;
    tw_spool_stats counters;

    pthread_mutex_t stats_lock; /* published: never held across I/O */
    tw_spool_stats published;
};

typedef struct record_header {
    uint32_t length;
    uint64_t id;
    int64_t time_ms;
    uint32_t payload_crc;
} record_header;

/* ---- encoding ---------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
    tw_le_put(p, v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
    tw_le_put(p, v, 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)tw_le_get(p, 4);
}

static uint64_t get64(const unsigned char *p)
{
    return tw_le_get(p, 8);
}

static uint32_t crc(uint32_t seed, const void *data, size_t len)
{
    return (uint32_t)crc32(seed, (const Bytef *)data, (uInt)len);
}

static void encode_header(unsigned char out[HEADER_BYTES], const record_header *h)
{
    memcpy(out, record_magic, 4);
    put32(out + 4, h->length);
    put64(out + 8, h->id);
    put64(out + 16, (uint64_t)h->time_ms);
    put32(out + 24, h->payload_crc);
    put32(out + 28, crc(0, out, 28));
}

/* True when the header is intact (magic, CRC) and plausible. */
static bool decode_header(const unsigned char in[HEADER_BYTES], record_header *h)
{
    if (memcmp(in, record_magic, 4) != 0 || get32(in + 28) != crc(0, in, 28))
        return false;
    h->length = get32(in + 4);
    h->id = get64(in + 8);
    h->time_ms = (int64_t)get64(in + 16);
    h->payload_crc = get32(in + 24);
    return h->length <= TW_SPOOL_MAX_RECORD_BYTES && h->id > 0 && h->id < MAX_ID;
}

/* ---- small helpers ----------------------------------------------------- */

static void segment_path(const tw_spool *s, uint64_t name_id, char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "%s/%016" PRIx64 SEGMENT_SUFFIX, s->dir, name_id);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* Syncs the directories above dir (best effort): tw_ensure_private_dir may
 * have just created them, and a new directory's name is only durable once its
 * parent is synced. */
static void sync_ancestors(const char *dir)
{
    char *path = tw_strdup(dir);
    for (char *slash = strrchr(path, '/'); slash != NULL; slash = strrchr(path, '/')) {
        *slash = '\0';
        (void)sync_dir(slash == path ? "/" : path);
    }
    free(path);
}

static int pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ENODATA; /* the file is shorter than the index says */
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static int pwritev_full(int fd, struct iovec *iov, int iovcnt, uint64_t offset)
{
    while (iovcnt > 0) {
        ssize_t n = pwritev(fd, iov, iovcnt, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        offset += (uint64_t)n;
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

static void publish_stats(tw_spool *s)
{
    pthread_mutex_lock(&s->stats_lock);
    s->published = s->counters;
    s->published.next_id = s->next_id;
    pthread_mutex_unlock(&s->stats_lock);
}

static segment *newest(tw_spool *s)
{
    return &s->segments[s->nsegments - 1];
}

/* ---- the index --------------------------------------------------------- */

static segment *add_segment(tw_spool *s, uint64_t name_id)
{
    if (s->nsegments == s->segments_cap) {
        s->segments_cap = s->segments_cap ? 2 * s->segments_cap : 8;
        s->segments = tw_realloc(s->segments, s->segments_cap * sizeof *s->segments);
    }
    segment *seg = &s->segments[s->nsegments++];
    memset(seg, 0, sizeof *seg);
    seg->name_id = name_id;
    return seg;
}

/* Adds the entry for id (ids only grow within a segment; missing ids between
 * become not-pending entries). pending: false for an acknowledged record. */
static void add_entry(tw_spool *s, segment *seg, uint64_t id, uint64_t offset, uint32_t size,
                      bool pending)
{
    if (seg->count == 0)
        seg->base_id = id;
    size_t index = (size_t)(id - seg->base_id);
    if (index >= seg->cap) {
        while (seg->cap <= index)
            seg->cap = seg->cap ? 2 * seg->cap : 16;
        seg->entries = tw_realloc(seg->entries, seg->cap * sizeof *seg->entries);
    }
    for (size_t i = seg->count; i < index; i++)
        seg->entries[i] = (entry){0, 0};
    seg->entries[index] = (entry){(uint32_t)offset, pending ? size : 0};
    seg->count = index + 1;
    if (pending) {
        seg->pending++;
        seg->pending_bytes += size;
        s->counters.pending_records++;
        s->counters.pending_bytes += size;
    }
}

/* The entry of id, or NULL when id is not in the index. */
static entry *find_entry(tw_spool *s, uint64_t id, segment **seg_out)
{
    for (size_t i = s->nsegments; i-- > 0;) {
        segment *seg = &s->segments[i];
        if (seg->count == 0 || id < seg->base_id)
            continue;
        if (id - seg->base_id >= seg->count)
            return NULL;
        *seg_out = seg;
        return &seg->entries[id - seg->base_id];
    }
    return NULL;
}

/* The oldest pending record at or after id: its segment and index. */
static bool first_pending_from(tw_spool *s, uint64_t id, segment **seg_out, size_t *index)
{
    for (size_t i = 0; i < s->nsegments; i++) {
        segment *seg = &s->segments[i];
        if (seg->pending == 0 || seg->base_id + seg->count <= id)
            continue;
        size_t k = id > seg->base_id ? (size_t)(id - seg->base_id) : 0;
        if (k < seg->first_pending)
            k = seg->first_pending;
        for (; k < seg->count; k++) {
            if (seg->entries[k].size != 0) {
                *seg_out = seg;
                *index = k;
                return true;
            }
        }
    }
    return false;
}

/* Every id at or below this is acknowledged, dropped or never existed. */
static uint64_t done_through(tw_spool *s)
{
    for (size_t i = 0; i < s->nsegments; i++) {
        segment *seg = &s->segments[i];
        if (seg->pending == 0)
            continue;
        while (seg->entries[seg->first_pending].size == 0)
            seg->first_pending++;
        return seg->base_id + seg->first_pending - 1;
    }
    return s->next_id - 1;
}

/* Marks a pending entry as gone (acknowledged, damaged or dropped). */
static void forget_entry(tw_spool *s, segment *seg, entry *e)
{
    seg->pending--;
    seg->pending_bytes -= e->size;
    s->counters.pending_records--;
    s->counters.pending_bytes -= e->size;
    e->size = 0;
}

/* ---- state file: the acknowledged prefix ------------------------------ */

static int format_state(uint64_t through, char *out, size_t size)
{
    char body[64];
    int n = snprintf(body, sizeof body, "trailwatch-spool-state 1 acked_through=%" PRIu64,
                     through);
    return snprintf(out, size, "%s crc32=%08" PRIx32 "\n", body, crc(0, body, (size_t)n));
}

/* 0 and *through, -ENOENT when there is no state yet, -EINVAL when damaged. */
static int load_state(const tw_spool *s, uint64_t *through)
{
    char path[PATH_MAX], expected[128];
    snprintf(path, sizeof path, "%s/" STATE_NAME, s->dir);
    tw_buf text = TW_BUF_INIT;
    int rc = tw_read_file(path, 256, &text, NULL);
    if (rc == 0) {
        uint64_t value = 0;
        rc = -EINVAL;
        if (sscanf(tw_buf_cstr(&text), "trailwatch-spool-state 1 acked_through=%" SCNu64,
                   &value) == 1 &&
            value < MAX_ID) {
            format_state(value, expected, sizeof expected);
            if (strcmp(expected, tw_buf_cstr(&text)) == 0 && text.len == strlen(expected)) {
                *through = value;
                rc = 0;
            }
        }
    }
    tw_buf_free(&text);
    return rc;
}

static int write_state_quickly(const char *tmp, const char *path, const char *text, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    return rc;
}

/* Writes the acknowledged prefix when it moved. Without fsync unless durable:
 * a rename is atomic, so after a crash of the agent "state" is the old or the
 * new prefix; after a power loss it may be older or empty, which only means
 * records are sent twice. */
#define STATE_SAVE_MS 500

static void save_state(tw_spool *s, bool durable)
{
    uint64_t through = done_through(s);
    if (through == s->saved_through && (!durable || through == s->durable_through))
        return;
    char path[PATH_MAX], tmp[PATH_MAX], text[128];
    snprintf(path, sizeof path, "%s/" STATE_NAME, s->dir);
    snprintf(tmp, sizeof tmp, "%s/" STATE_TMP_NAME, s->dir);
    int len = format_state(through, text, sizeof text);
    tw_err err;
    int rc;
    if (durable) {
        rc = tw_write_file_atomic(path, text, (size_t)len, 0600, &err);
    } else {
        rc = write_state_quickly(tmp, path, text, (size_t)len);
        if (rc != 0)
            tw_err_set(&err, rc, "cannot write %s: %s", path, strerror(-rc));
    }
    if (rc != 0) {
        if (!s->state_write_failed)
            tw_warn("%s (records acknowledged since may be sent again after a restart)",
                    err.msg);
        s->state_write_failed = true;
        return;
    }
    s->state_write_failed = false;
    s->saved_through = through;
    if (durable)
        s->durable_through = through;
}

/* ---- segments ---------------------------------------------------------- */

static void refresh_oldest_time(tw_spool *s)
{
    segment *seg;
    size_t k;
    s->counters.oldest_pending_ms = 0;
    if (!first_pending_from(s, 0, &seg, &k))
        return;
    char path[PATH_MAX];
    segment_path(s, seg->name_id, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char raw[HEADER_BYTES];
    record_header h;
    if (fd >= 0 && pread_full(fd, raw, sizeof raw, seg->entries[k].offset) == 0 &&
        decode_header(raw, &h))
        s->counters.oldest_pending_ms = h.time_ms;
    if (fd >= 0)
        close(fd);
}

/* Deletes segment i (never the newest) and forgets its records. */
static void delete_segment(tw_spool *s, size_t i)
{
    segment *seg = &s->segments[i];
    char path[PATH_MAX];
    segment_path(s, seg->name_id, path);
    if (unlink(path) != 0 && errno != ENOENT)
        tw_warn("cannot delete spool segment %s: %s (its records may be sent again after a "
                "restart)",
                path, strerror(errno));
    s->counters.pending_records -= seg->pending;
    s->counters.pending_bytes -= seg->pending_bytes;
    s->counters.disk_bytes -= seg->bytes;
    free(seg->entries);
    memmove(seg, seg + 1, (s->nsegments - i - 1) * sizeof *seg);
    s->nsegments--;
}

/* Starts a new newest segment named after the next id. */
static int roll_segment(tw_spool *s, tw_err *err)
{
    char path[PATH_MAX];
    segment_path(s, s->next_id, path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return tw_err_set(err, -errno, "cannot create spool segment %s: %s", path,
                          strerror(errno));
    /* The directory entry must be durable before a record in the file is
     * reported durable: fdatasync of the file does not cover its name. */
    int rc = s->options.fsync == TW_SPOOL_FSYNC_ALWAYS ? sync_dir(s->dir) : 0;
    if (rc != 0) {
        close(fd);
        unlink(path);
        return tw_err_set(err, rc, "cannot sync spool directory %s: %s", s->dir, strerror(-rc));
    }
    if (s->write_fd >= 0 && s->unsynced) {
        /* Deferred appends in the segment being closed: synced now. */
        if (fdatasync(s->write_fd) != 0) {
            rc = -errno;
            close(fd);
            unlink(path);
            return tw_err_set(err, rc, "cannot sync spool segment before %s: %s", path,
                              strerror(-rc));
        }
        s->unsynced = false;
    }
    if (s->write_fd >= 0)
        close(s->write_fd);
    s->write_fd = fd;
    add_segment(s, s->next_id);
    /* The old newest was kept only because appends went there. */
    if (s->nsegments >= 2 && s->segments[s->nsegments - 2].pending == 0)
        delete_segment(s, s->nsegments - 2);
    return 0;
}

/* Deletes the oldest segments until size more bytes fit under the cap. */
static int make_room(tw_spool *s, uint64_t size, tw_spool_dropped *dropped, tw_err *err)
{
    while (s->counters.disk_bytes + size > s->options.max_bytes) {
        if (s->nsegments == 1) {
            if (newest(s)->bytes == 0)
                break;
            int rc = roll_segment(s, err);
            if (rc != 0)
                return rc;
            continue;
        }
        segment *seg = &s->segments[0];
        for (size_t j = seg->first_pending; j < seg->count; j++) {
            if (seg->entries[j].size == 0)
                continue;
            if (dropped->records++ == 0)
                dropped->first_id = seg->base_id + j;
            dropped->last_id = seg->base_id + j;
            dropped->bytes += seg->entries[j].size;
        }
        delete_segment(s, 0);
    }
    return 0;
}

/* ---- append, read, ack ------------------------------------------------- */

static int write_record(tw_spool *s, const void *data, size_t len, tw_err *err)
{
    segment *seg = newest(s);
    record_header h = {(uint32_t)len, s->next_id, tw_time_now_ms(), crc(0, data, len)};
    unsigned char header[HEADER_BYTES];
    encode_header(header, &h);
    struct iovec iov[2] = {{header, sizeof header}, {(void *)data, len}};
    int rc = pwritev_full(s->write_fd, iov, 2, seg->bytes);
    if (rc == 0 && s->options.fsync == TW_SPOOL_FSYNC_ALWAYS) {
        if (s->deferring)
            s->unsynced = true;
        else if (fdatasync(s->write_fd) != 0)
            rc = -errno;
    }
    if (rc != 0) {
        char path[PATH_MAX];
        segment_path(s, seg->name_id, path);
        /* Leave no half record behind for the next append to follow. */
        if (ftruncate(s->write_fd, (off_t)seg->bytes) != 0)
            tw_debug("cannot truncate %s after a failed append: %s", path, strerror(errno));
        return tw_err_set(err, rc, "cannot append to spool segment %s: %s", path,
                          strerror(-rc));
    }
    uint32_t size = (uint32_t)(HEADER_BYTES + len);
    if (s->counters.pending_records == 0)
        s->counters.oldest_pending_ms = h.time_ms;
    add_entry(s, seg, s->next_id, seg->bytes, size, true);
    seg->bytes += size;
    s->counters.disk_bytes += size;
    s->counters.appended_records++;
    s->next_id++;
    return 0;
}

int tw_spool_append(tw_spool *s, const void *data, size_t len, uint64_t *id,
                    tw_spool_dropped *dropped, tw_err *err)
{
    tw_spool_dropped local;
    if (dropped == NULL)
        dropped = &local;
    memset(dropped, 0, sizeof *dropped);
    if (len > TW_SPOOL_MAX_RECORD_BYTES)
        return tw_err_set(err, -EMSGSIZE,
                          "spool %s: a record of %zu bytes is larger than the %u bytes a "
                          "record may hold",
                          s->dir, len, TW_SPOOL_MAX_RECORD_BYTES);
    uint64_t size = HEADER_BYTES + (uint64_t)len;
    if (size > s->options.max_bytes)
        return tw_err_set(err, -EFBIG,
                          "spool %s: a record of %" PRIu64 " bytes (with its header) does "
                          "not fit in the spool's max_bytes of %" PRIu64 " bytes",
                          s->dir, size, s->options.max_bytes);
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    segment *seg = newest(s);
    /* A segment's ids never skip (recovery relies on it): when the next id is
     * not the one after the segment's last (the state said more was
     * acknowledged than the segment holds), the record starts a new one. */
    bool gap = seg->count > 0 && seg->base_id + seg->count != s->next_id;
    if (seg->bytes > 0 && (gap || seg->bytes + size > s->options.segment_bytes))
        rc = roll_segment(s, err);
    if (rc == 0)
        rc = make_room(s, size, dropped, err);
    if (dropped->records > 0) {
        s->counters.dropped_records += dropped->records;
        s->counters.dropped_bytes += dropped->bytes;
        tw_warn("spool %s is full (max_bytes %" PRIu64 "): dropped %" PRIu64
                " unacknowledged records (%" PRIu64 " bytes, ids %" PRIu64 "..%" PRIu64
                "), oldest first",
                s->dir, s->options.max_bytes, dropped->records, dropped->bytes,
                dropped->first_id, dropped->last_id);
        save_state(s, false);
        refresh_oldest_time(s);
    }
    if (rc == 0) {
        uint64_t assigned = s->next_id;
        rc = write_record(s, data, len, err);
        if (rc == 0 && id != NULL)
            *id = assigned;
    }
    publish_stats(s);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Reads and checks the record of entry e; 1 when it is damaged. */
static int load_record(tw_spool *s, segment *seg, const entry *e, uint64_t id, tw_buf *payload,
                       tw_err *err)
{
    char path[PATH_MAX];
    segment_path(s, seg->name_id, path);
    int fd = seg == newest(s) ? s->write_fd : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tw_err_set(err, -errno, "cannot open spool segment %s: %s", path,
                          strerror(errno));
    unsigned char raw[HEADER_BYTES];
    record_header h;
    size_t len = e->size - HEADER_BYTES;
    int rc = pread_full(fd, raw, sizeof raw, e->offset);
    if (rc == 0) {
        tw_buf_reset(payload);
        tw_buf_reserve(payload, len);
        rc = pread_full(fd, payload->data, len, e->offset + HEADER_BYTES);
    }
    if (fd != s->write_fd)
        close(fd);
    if (rc == -ENODATA || (rc == 0 && (!decode_header(raw, &h) || h.id != id || h.length != len ||
                                       h.payload_crc != crc(0, payload->data, len)))) {
        tw_warn("spool segment %s: offset %" PRIu32 ": record %" PRIu64
                " is damaged (checksum mismatch or cut short): skipped",
                path, e->offset, id);
        return 1;
    }
    if (rc != 0)
        return tw_err_set(err, rc, "cannot read spool segment %s: %s", path, strerror(-rc));
    payload->len = len;
    payload->data[len] = '\0';
    return 0;
}

int tw_spool_read(tw_spool *s, tw_spool_cursor *cursor, uint64_t *id, tw_buf *payload,
                  tw_err *err)
{
    pthread_mutex_lock(&s->lock);
    int rc;
    for (;;) {
        segment *seg;
        size_t k;
        if (!first_pending_from(s, cursor->last_id + 1, &seg, &k)) {
            rc = -ENOENT;
            break;
        }
        uint64_t found = seg->base_id + k;
        rc = load_record(s, seg, &seg->entries[k], found, payload, err);
        if (rc <= 0) {
            if (rc == 0) {
                *id = found;
                cursor->last_id = found;
            }
            break;
        }
        s->counters.corrupt_records++;
        forget_entry(s, seg, &seg->entries[k]);
        cursor->last_id = found;
        if (seg->pending == 0 && seg != newest(s))
            delete_segment(s, (size_t)(seg - s->segments));
        save_state(s, false);
        refresh_oldest_time(s);
    }
    publish_stats(s);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Forgets record id (lock held); true when the acknowledged prefix grew. */
static int ack_locked(tw_spool *s, uint64_t id, bool *prefix_grew)
{
    segment *seg;
    entry *e = find_entry(s, id, &seg);
    if (e == NULL || e->size == 0)
        return -ENOENT;
    uint64_t before = done_through(s);
    forget_entry(s, seg, e);
    s->counters.acked_records++;
    if (seg->pending == 0 && seg != newest(s))
        delete_segment(s, (size_t)(seg - s->segments));
    if (done_through(s) != before)
        *prefix_grew = true;
    return 0;
}

int tw_spool_ack(tw_spool *s, uint64_t id)
{
    return tw_spool_ack_many(s, &id, 1) == 1 ? 0 : -ENOENT;
}

size_t tw_spool_ack_many(tw_spool *s, const uint64_t *ids, size_t n)
{
    pthread_mutex_lock(&s->lock);
    bool prefix_grew = false;
    size_t acked = 0;
    for (size_t i = 0; i < n; i++)
        if (ack_locked(s, ids[i], &prefix_grew) == 0)
            acked++;
    if (prefix_grew)
        refresh_oldest_time(s);
    /* The state file only spares a restart from sending acknowledged
     * records again (which the batch id makes harmless): writing it, a new
     * file and a rename, at most every STATE_SAVE_MS keeps a stream of small
     * acknowledgements from costing an inode each. Close writes it last. */
    int64_t now = tw_time_now_ms();
    if (prefix_grew && now - s->state_saved_ms >= STATE_SAVE_MS) {
        save_state(s, false);
        s->state_saved_ms = now;
    }
    publish_stats(s);
    pthread_mutex_unlock(&s->lock);
    return acked;
}

void tw_spool_defer_sync(tw_spool *s)
{
    pthread_mutex_lock(&s->lock);
    s->deferring = true;
    pthread_mutex_unlock(&s->lock);
}

int tw_spool_sync(tw_spool *s, tw_err *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (s->unsynced && s->write_fd >= 0 && fdatasync(s->write_fd) != 0)
        rc = tw_err_set(err, -errno, "cannot sync spool %s: %s", s->dir, strerror(errno));
    s->unsynced = false;
    s->deferring = false;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void tw_spool_stats_get(const tw_spool *s, tw_spool_stats *out)
{
    /* The stats mutex is the one thing a reader of a const spool changes. */
    tw_spool *mutable_spool = (tw_spool *)s;
    pthread_mutex_lock(&mutable_spool->stats_lock);
    *out = s->published;
    pthread_mutex_unlock(&mutable_spool->stats_lock);
}

static void free_spool(tw_spool *s)
{
    for (size_t i = 0; i < s->nsegments; i++)
        free(s->segments[i].entries);
    free(s->segments);
    if (s->write_fd >= 0)
        close(s->write_fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->stats_lock);
    free(s->dir);
    free(s);
}

void tw_spool_close(tw_spool *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    save_state(s, s->options.fsync == TW_SPOOL_FSYNC_ALWAYS);
    pthread_mutex_unlock(&s->lock);
    free_spool(s);
}

/* ---- opening: recovery ------------------------------------------------- */

typedef struct recovery_scan {
    tw_spool *s;
    tw_spool_recovery *report;
    uint64_t acked_through;   /* from "state" */
    uint64_t last_id;         /* of the last intact record seen, any segment */
    unsigned char *window;    /* SCAN_CHUNK bytes for looking for magics */
    unsigned char *crc_chunk; /* SCAN_CHUNK bytes for payload CRCs */
    size_t events;
} recovery_scan;

static void report_event(recovery_scan *scan, const char *fmt, ...) TW_PRINTF(2, 3);

static void report_event(recovery_scan *scan, const char *fmt, ...)
{
    char line[TW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    tw_warn("%s", line);
    if (scan->events++ < MAX_MESSAGES)
        tw_buf_printf(&scan->report->messages, "%s\n", line);
    else if (scan->events == MAX_MESSAGES + 1)
        tw_buf_puts(&scan->report->messages, "(more events in the log)\n");
}

/* 1 when an intact record that may follow the index starts at offset, 0 when
 * not, or a negative errno when the file cannot be read (never taken for
 * damage: that would truncate good records on a passing I/O error). */
static int record_at(recovery_scan *scan, int fd, const segment *seg, uint64_t offset,
                     uint64_t end, record_header *h)
{
    unsigned char raw[HEADER_BYTES];
    if (end - offset < HEADER_BYTES)
        return 0;
    int rc = pread_full(fd, raw, sizeof raw, offset);
    if (rc != 0)
        return rc;
    if (!decode_header(raw, h) || h->length > end - offset - HEADER_BYTES ||
        h->id <= scan->last_id || h->id < seg->name_id)
        return 0;
    /* Ids only skip where damage took their bytes (each record takes at least
     * a header), which also bounds the index a forged file could make us grow. */
    if (seg->count > 0 &&
        (h->id - seg->base_id) > (offset - seg->entries[0].offset) / HEADER_BYTES)
        return 0;
    uint32_t sum = crc(0, NULL, 0);
    for (uint64_t done = 0; done < h->length;) {
        size_t n = h->length - done < SCAN_CHUNK ? (size_t)(h->length - done) : SCAN_CHUNK;
        rc = pread_full(fd, scan->crc_chunk, n, offset + HEADER_BYTES + done);
        if (rc != 0)
            return rc;
        sum = crc(sum, scan->crc_chunk, n);
        done += n;
    }
    return sum == h->payload_crc;
}

/* Sets *next to the offset of the first intact record after offset, or to end. */
static int next_record(recovery_scan *scan, int fd, const segment *seg, uint64_t offset,
                       uint64_t end, record_header *h, uint64_t *next)
{
    *next = end;
    while (end - offset >= HEADER_BYTES) {
        size_t want = end - offset < SCAN_CHUNK ? (size_t)(end - offset) : SCAN_CHUNK;
        int rc = pread_full(fd, scan->window, want, offset);
        if (rc != 0)
            return rc;
        for (size_t i = 0; i + 4 <= want; i++) {
            if (scan->window[i] != record_magic[0] ||
                memcmp(scan->window + i, record_magic, 4) != 0)
                continue;
            rc = record_at(scan, fd, seg, offset + i, end, h);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                *next = offset + i;
                return 0;
            }
        }
        offset += want - 3; /* a magic may straddle two windows */
    }
    return 0;
}

static void report_damage(recovery_scan *scan, const char *path, uint64_t offset,
                          uint64_t next, uint64_t next_id)
{
    scan->report->corrupt_records++;
    scan->report->corrupt_bytes += next - offset;
    scan->s->counters.corrupt_records++;
    char lost[96] = "";
    if (next_id > scan->last_id + 1)
        snprintf(lost, sizeof lost, "; records %" PRIu64 "..%" PRIu64 " are lost",
                 scan->last_id + 1, next_id - 1);
    report_event(scan, "spool segment %s: offset %" PRIu64 ": %" PRIu64
                 " damaged bytes skipped (reading resumes at offset %" PRIu64 ")%s",
                 path, offset, next - offset, next, lost);
}

/* Indexes the intact records of one segment file, skipping damage and
 * truncating a torn tail. Fails only when the file cannot be read. */
static int scan_segment(recovery_scan *scan, segment *seg, int fd, const char *path,
                        uint64_t end)
{
    uint64_t offset = 0;
    record_header h;
    while (offset < end) {
        int rc = record_at(scan, fd, seg, offset, end, &h);
        if (rc == 1) {
            add_entry(scan->s, seg, h.id, offset, HEADER_BYTES + h.length,
                      h.id > scan->acked_through);
            scan->report->records++;
            scan->last_id = h.id;
            offset += HEADER_BYTES + h.length;
            continue;
        }
        uint64_t next = end;
        if (rc == 0)
            rc = next_record(scan, fd, seg, offset + 1, end, &h, &next);
        if (rc < 0)
            return rc;
        if (next < end) {
            report_damage(scan, path, offset, next, h.id);
            offset = next;
            continue;
        }
        report_event(scan, "spool segment %s: offset %" PRIu64 ": the last %" PRIu64
                     " bytes are not a whole record (an append cut short by a crash?): "
                     "truncated",
                     path, offset, end - offset);
        scan->report->torn_bytes += end - offset;
        if (ftruncate(fd, (off_t)offset) != 0)
            return -errno;
        end = offset;
    }
    seg->bytes = end;
    return 0;
}

/* 1 and *id when name is "<16 hex>.seg". */
static int segment_name_id(const char *name, uint64_t *id)
{
    if (strlen(name) != 16 + strlen(SEGMENT_SUFFIX) || strcmp(name + 16, SEGMENT_SUFFIX) != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return 0;
        v = (v << 4) | (uint64_t)digit;
    }
    *id = v;
    return v < MAX_ID;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists our segments (sorted into *ids) and warns about everything else. */
static int list_segments(recovery_scan *scan, uint64_t **ids, size_t *count, tw_err *err)
{
    tw_spool *s = scan->s;
    DIR *d = opendir(s->dir);
    if (d == NULL)
        return tw_err_set(err, -errno, "cannot list spool directory %s: %s", s->dir,
                          strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        struct stat st;
        uint64_t id;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, LOCK_NAME) == 0 ||
            strcmp(name, STATE_NAME) == 0)
            continue;
        bool regular = fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                       S_ISREG(st.st_mode);
        if (regular && (strcmp(name, STATE_TMP_NAME) == 0 ||
                        strncmp(name, STATE_NAME ".tmp.", strlen(STATE_NAME ".tmp.")) == 0)) {
            unlinkat(dirfd(d), name, 0); /* our own interrupted state write */
            continue;
        }
        if (!regular || !segment_name_id(name, &id) || (uint64_t)st.st_size > UINT32_MAX) {
            scan->report->ignored_files++;
            report_event(scan, "spool directory %s: ignoring %s: not a spool file (left alone)",
                         s->dir, name);
            continue;
        }
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            *ids = tw_realloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*count)++] = id;
    }
    closedir(d);
    if (*count > 0)
        qsort(*ids, *count, sizeof **ids, compare_u64);
    return 0;
}

static int load_segments(recovery_scan *scan, tw_err *err)
{
    tw_spool *s = scan->s;
    uint64_t *ids = NULL;
    size_t count = 0;
    int rc = list_segments(scan, &ids, &count, err);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char path[PATH_MAX];
        segment_path(s, ids[i], path);
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            rc = tw_err_set(err, -errno, "cannot open spool segment %s: %s", path,
                            strerror(errno));
            if (fd >= 0)
                close(fd);
            break;
        }
        segment *seg = add_segment(s, ids[i]);
        rc = scan_segment(scan, seg, fd, path, (uint64_t)st.st_size);
        if (rc != 0)
            tw_err_set(err, rc, "cannot read spool segment %s: %s", path, strerror(-rc));
        s->counters.disk_bytes += seg->bytes;
        close(fd);
    }
    free(ids);
    return rc;
}

/* After the scan: where ids continue, which segments go, the newest's fd. */
static int finish_open(recovery_scan *scan, tw_err *err)
{
    tw_spool *s = scan->s;
    s->next_id = scan->acked_through + 1;
    if (scan->last_id + 1 > s->next_id)
        s->next_id = scan->last_id + 1;
    if (s->nsegments > 0 && newest(s)->name_id > s->next_id)
        s->next_id = newest(s)->name_id;
    for (size_t i = 0; i + 1 < s->nsegments;) {
        if (s->segments[i].pending == 0)
            delete_segment(s, i);
        else
            i++;
    }
    if (s->nsegments == 0)
        return roll_segment(s, err);
    char path[PATH_MAX];
    segment_path(s, newest(s)->name_id, path);
    s->write_fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (s->write_fd < 0)
        return tw_err_set(err, -errno, "cannot open spool segment %s: %s", path,
                          strerror(errno));
    return 0;
}

static int check_options(const char *dir, const tw_spool_options *in, tw_spool_options *out,
                         tw_err *err)
{
    *out = in ? *in : (tw_spool_options){0};
    if (out->max_bytes == 0)
        out->max_bytes = TW_SPOOL_DEFAULT_MAX_BYTES;
    if (out->segment_bytes == 0)
        out->segment_bytes = TW_SPOOL_DEFAULT_SEGMENT_BYTES;
    if (out->segment_bytes > TW_SPOOL_MAX_SEGMENT_BYTES)
        return tw_err_set(err, -EINVAL,
                          "spool %s: segment_bytes %" PRIu64 " is over the maximum of %llu",
                          dir, out->segment_bytes, TW_SPOOL_MAX_SEGMENT_BYTES);
    if (out->fsync != TW_SPOOL_FSYNC_ALWAYS && out->fsync != TW_SPOOL_FSYNC_NEVER)
        return tw_err_set(err, -EINVAL, "spool %s: unknown fsync policy %d", dir,
                          (int)out->fsync);
    if (strlen(dir) + 32 >= PATH_MAX)
        return tw_err_set(err, -ENAMETOOLONG, "spool directory name too long: %s", dir);
    return 0;
}

static int open_locked(recovery_scan *scan, tw_err *err)
{
    tw_spool *s = scan->s;
    if (s->options.fsync == TW_SPOOL_FSYNC_ALWAYS)
        sync_ancestors(s->dir);
    int rc = load_state(s, &scan->acked_through);
    bool state_damaged = rc != 0 && rc != -ENOENT;
    if (state_damaged)
        report_event(scan, "spool %s: %s/" STATE_NAME " is %s; every record on disk will be "
                     "sent again",
                     s->dir, s->dir, rc == -EINVAL ? "damaged" : strerror(-rc));
    scan->window = tw_malloc(SCAN_CHUNK);
    scan->crc_chunk = tw_malloc(SCAN_CHUNK);
    rc = load_segments(scan, err);
    free(scan->window);
    free(scan->crc_chunk);
    if (rc == 0)
        rc = finish_open(scan, err);
    if (rc != 0)
        return rc;
    s->saved_through = s->durable_through = scan->acked_through;
    if (state_damaged)
        s->saved_through = s->durable_through = UINT64_MAX; /* rewrite it now */
    save_state(s, false);
    refresh_oldest_time(s);
    scan->report->segments = s->nsegments;
    scan->report->pending = s->counters.pending_records;
    if (scan->report->records > 0 || scan->events > 0)
        tw_info("spool %s: %" PRIu64 " records waiting to be sent (%" PRIu64 " bytes)", s->dir,
                s->counters.pending_records, s->counters.pending_bytes);
    return 0;
}

int tw_spool_open(const char *dir, const tw_spool_options *options, tw_spool **out,
                  tw_spool_recovery *recovery, tw_err *err)
{
    tw_spool_recovery local = {0};
    tw_spool_recovery *report = recovery ? recovery : &local;
    memset(report, 0, sizeof *report);
    tw_spool_options checked;
    int rc = check_options(dir, options, &checked, err);
    if (rc == 0)
        rc = tw_ensure_private_dir(dir, err);
    if (rc != 0)
        return rc;
    tw_spool *s = tw_calloc(1, sizeof *s);
    s->dir = tw_strdup(dir);
    s->options = checked;
    s->write_fd = -1;
    s->lock_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->stats_lock, NULL);
    rc = tw_lock_dir(dir, LOCK_NAME, &s->lock_fd, NULL, err);
    if (rc != 0) {
        tw_err_prefix(err, "cannot open spool");
    } else {
        recovery_scan scan = {.s = s, .report = report};
        rc = open_locked(&scan, err);
    }
    if (rc != 0) {
        free_spool(s);
        if (report == &local)
            tw_buf_free(&local.messages);
        return rc;
    }
    if (report == &local)
        tw_buf_free(&local.messages);
    publish_stats(s);
    *out = s;
    return 0;
}
