/* checkpoint.c — file identities, positions and the checkpoint file (see
 * checkpoint.h).
 *
 * The file is JSON, small and read once:
 *   {"version":1,"files":[{"key":"16 hex","dev":D,"ino":I,"fingerprint_len":N,
 *     "fingerprint":"16 hex","offset":O,"path":"...","seen_ms":T}, ...]}
 * Meta in requests is binary: per file key u64, dev u64, ino u64, fp_len
 * u32, fp_hash u64, offset u64, little-endian (44 bytes). */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

#define STATE_VERSION 1
#define FORGET_AFTER_MS (24 * 3600 * 1000LL)
#define META_ENTRY_BYTES 44
#define MAX_STATE_BYTES (64u << 20)

typedef struct entry {
    uint64_t key;
    tw_file_identity id;
    char *path;
    uint64_t acked, spooled;
    int64_t seen_ms;
} entry;

struct tw_checkpoint {
    pthread_mutex_t mutex;
    /* Held for a whole save: two threads saving at once (the save timer's
     * worker and the outbox's before_ack) would share the temporary file,
     * and a save that found nothing dirty could return before the other's
     * rename made the acks durable. */
    pthread_mutex_t save_mutex;
    char *path;
    entry *entries;
    size_t n, cap;
    bool dirty;
};

/* ---- identities ------------------------------------------------------------ */

static uint64_t fingerprint_hash(const void *data, size_t len)
{
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(data, len, digest);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | digest[i];
    return h;
}

/* Reads up to len bytes at the start of fd into buf; returns the count. */
static ssize_t read_head(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int tw_file_identity_read(int fd, const char *path, tw_file_identity *id, tw_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return tw_err_set(err, -errno, "%s: %s", path, strerror(errno));
    unsigned char head[TW_FINGERPRINT_MAX];
    size_t want = st.st_size < (off_t)sizeof head ? (size_t)st.st_size : sizeof head;
    ssize_t got = read_head(fd, head, want);
    if (got < 0)
        return tw_err_set(err, (int)got, "%s: reading its first bytes: %s", path,
                          strerror((int)-got));
    *id = (tw_file_identity){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino,
                             .fp_len = (uint32_t)got,
                             .fp_hash = fingerprint_hash(head, (size_t)got)};
    return 0;
}

bool tw_file_identity_matches(int fd, const tw_file_identity *id)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != id->dev || (uint64_t)st.st_ino != id->ino)
        return false;
    unsigned char head[TW_FINGERPRINT_MAX];
    if (id->fp_len > sizeof head)
        return false;
    ssize_t got = read_head(fd, head, id->fp_len);
    return got == (ssize_t)id->fp_len && fingerprint_hash(head, id->fp_len) == id->fp_hash;
}

/* ---- entries (mutex held) --------------------------------------------------- */

static entry *find_key(tw_checkpoint *cp, uint64_t key)
{
    for (size_t i = 0; i < cp->n; i++)
        if (cp->entries[i].key == key)
            return &cp->entries[i];
    return NULL;
}

static entry *find_inode(tw_checkpoint *cp, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < cp->n; i++)
        if (cp->entries[i].id.dev == dev && cp->entries[i].id.ino == ino)
            return &cp->entries[i];
    return NULL;
}

static uint64_t new_key(void)
{
    uint64_t key = 0;
    while (key == 0)
        if (getrandom(&key, sizeof key, 0) != (ssize_t)sizeof key)
            key = (uint64_t)tw_time_now_ms() * 2654435761u; /* never fails in practice */
    return key;
}

static entry *add(tw_checkpoint *cp, uint64_t key, const tw_file_identity *id,
                  const char *path)
{
    if (cp->n == cp->cap) {
        cp->cap = cp->cap ? cp->cap * 2 : 16;
        cp->entries = tw_realloc(cp->entries, cp->cap * sizeof *cp->entries);
    }
    entry *e = &cp->entries[cp->n++];
    *e = (entry){.key = key, .id = *id, .path = tw_strdup(path ? path : ""), .seen_ms = tw_time_now_ms()};
    cp->dirty = true;
    return e;
}

static void remove_at(tw_checkpoint *cp, size_t i)
{
    free(cp->entries[i].path);
    cp->entries[i] = cp->entries[--cp->n];
    cp->dirty = true;
}

/* ---- the file ---------------------------------------------------------------- */

static int load(tw_checkpoint *cp, const char *text, size_t len, tw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return tw_err_set(err, -EINVAL, "not JSON (line %d: %s)", jerr.line, jerr.text);
    int rc = 0;
    json_t *files = json_object_get(root, "files");
    json_t *version = json_object_get(root, "version");
    if (!json_is_integer(version) || json_integer_value(version) != STATE_VERSION ||
        !json_is_array(files)) {
        rc = tw_err_set(err, -EINVAL, "expected {\"version\":%d,\"files\":[...]}",
                        STATE_VERSION);
        goto out;
    }
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        json_int_t dev, ino, fp_len, offset, seen = 0;
        const char *fp = NULL, *path = "", *key = NULL;
        if (json_unpack(f, "{s:s,s:I,s:I,s:I,s:s,s:I,s?s,s?I}", "key", &key, "dev", &dev,
                        "ino", &ino,
                        "fingerprint_len", &fp_len, "fingerprint", &fp, "offset", &offset,
                        "path", &path, "seen_ms", &seen) != 0 ||
            fp_len < 0 || fp_len > TW_FINGERPRINT_MAX || offset < 0 || strlen(fp) != 16 || strlen(key) != 16) {
            rc = tw_err_set(err, -EINVAL, "files[%zu] is not a file position", i);
            goto out;
        }
        tw_file_identity id = {.dev = (uint64_t)dev, .ino = (uint64_t)ino,
                               .fp_len = (uint32_t)fp_len,
                               .fp_hash = strtoull(fp, NULL, 16)};
        uint64_t k = strtoull(key, NULL, 16);
        entry *e = find_key(cp, k) ? find_key(cp, k) : add(cp, k, &id, path);
        if ((uint64_t)offset > e->acked)
            e->acked = (uint64_t)offset;
        e->seen_ms = seen > 0 ? seen : tw_time_now_ms();
    }
out:
    json_decref(root);
    return rc;
}

int tw_checkpoint_open(const char *path, tw_checkpoint **out, tw_err *err)
{
    tw_err local;
    if (!err)
        err = &local; /* its message is logged below */
    tw_checkpoint *cp = tw_calloc(1, sizeof *cp);
    pthread_mutex_init(&cp->mutex, NULL);
    pthread_mutex_init(&cp->save_mutex, NULL);
    cp->path = tw_strdup(path);
    tw_buf text = TW_BUF_INIT;
    int rc = tw_read_file(path, MAX_STATE_BYTES, &text, err);
    if (rc == -ENOENT) {
        rc = 0;
    } else if (rc != 0) {
        tw_buf_free(&text);
        tw_checkpoint_close(cp);
        return rc;
    } else if (load(cp, text.data, text.len, err) != 0) {
        char aside[4096];
        snprintf(aside, sizeof aside, "%s.corrupt-%" PRId64, path, tw_time_now_ms() / 1000);
        tw_error("checkpoint %s is damaged (%s); it is moved to %s and every file is read as "
                 "if seen for the first time",
                 path, err->msg, aside);
        if (rename(path, aside) != 0)
            tw_warn("moving %s aside: %s", path, strerror(errno));
        for (size_t i = cp->n; i > 0; i--)
            remove_at(cp, i - 1);
        cp->dirty = false;
    }
    tw_buf_free(&text);
    *out = cp;
    return rc;
}

void tw_checkpoint_close(tw_checkpoint *cp)
{
    if (!cp)
        return;
    tw_err err;
    tw_checkpoint_save(cp, &err);
    for (size_t i = 0; i < cp->n; i++)
        free(cp->entries[i].path);
    free(cp->entries);
    free(cp->path);
    pthread_mutex_destroy(&cp->mutex);
    pthread_mutex_destroy(&cp->save_mutex);
    free(cp);
}

bool tw_checkpoint_dirty(tw_checkpoint *cp)
{
    pthread_mutex_lock(&cp->mutex);
    bool dirty = cp->dirty;
    pthread_mutex_unlock(&cp->mutex);
    return dirty;
}

int tw_checkpoint_save(tw_checkpoint *cp, tw_err *err)
{
    tw_err local;
    if (!err)
        err = &local; /* its message is logged below */
    pthread_mutex_lock(&cp->save_mutex);
    pthread_mutex_lock(&cp->mutex);
    if (!cp->dirty) {
        pthread_mutex_unlock(&cp->mutex);
        pthread_mutex_unlock(&cp->save_mutex);
        return 0;
    }
    int64_t now = tw_time_now_ms();
    for (size_t i = cp->n; i > 0; i--) {
        entry *e = &cp->entries[i - 1];
        if (now - e->seen_ms > FORGET_AFTER_MS && e->spooled <= e->acked)
            remove_at(cp, i - 1);
    }
    /* dev and ino are written as the signed 64-bit integers jansson reads
     * (and load casts back): a number above INT64_MAX (overlayfs sets high
     * inode bits) would make the whole file unreadable. */
    tw_buf text = TW_BUF_INIT;
    tw_buf_printf(&text, "{\"version\":%d,\"files\":[", STATE_VERSION);
    for (size_t i = 0; i < cp->n; i++) {
        const entry *e = &cp->entries[i];
        json_t *p = json_string(e->path); /* paths need JSON escaping */
        char *path_json = p ? json_dumps(p, JSON_ENCODE_ANY) : NULL;
        tw_buf_printf(&text,
                      "%s\n{\"key\":\"%016" PRIx64 "\",\"dev\":%" PRId64 ",\"ino\":%" PRId64 ",\"fingerprint_len\":%" PRIu32
                      ",\"fingerprint\":\"%016" PRIx64 "\",\"offset\":%" PRIu64
                      ",\"path\":%s,\"seen_ms\":%" PRId64 "}",
                      i ? "," : "", e->key, (int64_t)e->id.dev, (int64_t)e->id.ino, e->id.fp_len, e->id.fp_hash, e->acked,
                      path_json ? path_json : "\"\"", e->seen_ms);
        free(path_json);
        json_decref(p);
    }
    tw_buf_puts(&text, "\n]}\n");
    cp->dirty = false;
    pthread_mutex_unlock(&cp->mutex);
    int rc = tw_write_file_atomic(cp->path, text.data, text.len, 0600, err);
    tw_buf_free(&text);
    if (rc != 0) {
        pthread_mutex_lock(&cp->mutex);
        cp->dirty = true; /* try again next time */
        pthread_mutex_unlock(&cp->mutex);
        tw_error("writing checkpoint %s: %s", cp->path, err->msg);
    }
    pthread_mutex_unlock(&cp->save_mutex);
    return rc;
}

/* ---- positions ---------------------------------------------------------------- */

bool tw_checkpoint_lookup(tw_checkpoint *cp, uint64_t dev, uint64_t ino, tw_tracked_file *file,
                          uint64_t *resume)
{
    pthread_mutex_lock(&cp->mutex);
    entry *e = find_inode(cp, dev, ino);
    if (e) {
        file->key = e->key;
        file->id = e->id;
        *resume = e->acked > e->spooled ? e->acked : e->spooled;
        e->seen_ms = tw_time_now_ms();
    }
    pthread_mutex_unlock(&cp->mutex);
    return e != NULL;
}

uint64_t tw_checkpoint_track(tw_checkpoint *cp, const tw_file_identity *id, const char *path,
                             uint64_t position)
{
    pthread_mutex_lock(&cp->mutex);
    entry *e = find_inode(cp, id->dev, id->ino);
    if (!e) {
        e = add(cp, new_key(), id, path);
        /* Lines before position are not to be shipped (read_from = tail):
         * nothing waits for them, so they count as delivered. */
        e->acked = position;
    }
    if (id->fp_len > e->id.fp_len) {
        e->id = *id;
        cp->dirty = true;
    }
    if (path && strcmp(e->path, path) != 0) {
        free(e->path);
        e->path = tw_strdup(path);
        cp->dirty = true;
    }
    e->seen_ms = tw_time_now_ms();
    uint64_t key = e->key;
    pthread_mutex_unlock(&cp->mutex);
    return key;
}

void tw_checkpoint_note_spooled(tw_checkpoint *cp, const tw_tracked_file *file, uint64_t offset)
{
    pthread_mutex_lock(&cp->mutex);
    entry *e = find_key(cp, file->key);
    if (!e)
        e = add(cp, file->key, &file->id, NULL);
    if (offset > e->spooled)
        e->spooled = offset;
    e->seen_ms = tw_time_now_ms();
    pthread_mutex_unlock(&cp->mutex);
}

void tw_checkpoint_note_acked(tw_checkpoint *cp, const tw_tracked_file *file, uint64_t offset)
{
    pthread_mutex_lock(&cp->mutex);
    entry *e = find_key(cp, file->key);
    /* Requests of one file can be acknowledged out of order; acked is a
     * high-water mark of what is no longer needed from the file, because
     * every earlier request is in the spool and will be acknowledged in
     * its turn, or is dropped loudly. */
    if (e && offset > e->acked) {
        e->acked = offset;
        e->seen_ms = tw_time_now_ms();
        cp->dirty = true;
    }
    pthread_mutex_unlock(&cp->mutex);
}

void tw_checkpoint_forget(tw_checkpoint *cp, uint64_t key)
{
    pthread_mutex_lock(&cp->mutex);
    for (size_t i = 0; i < cp->n; i++) {
        if (cp->entries[i].key == key) {
            remove_at(cp, i);
            break;
        }
    }
    pthread_mutex_unlock(&cp->mutex);
}

void tw_checkpoint_each(tw_checkpoint *cp,
                        void (*fn)(void *ctx, const tw_tracked_file *file, const char *path,
                                   uint64_t resume),
                        void *ctx)
{
    pthread_mutex_lock(&cp->mutex);
    size_t n = cp->n;
    entry *copy = tw_malloc((n ? n : 1) * sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        copy[i] = cp->entries[i];
        copy[i].path = tw_strdup(cp->entries[i].path);
    }
    pthread_mutex_unlock(&cp->mutex);
    for (size_t i = 0; i < n; i++) {
        tw_tracked_file file = {copy[i].key, copy[i].id};
        fn(ctx, &file, copy[i].path, copy[i].acked > copy[i].spooled ? copy[i].acked
                                                                     : copy[i].spooled);
        free(copy[i].path);
    }
    free(copy);
}

void tw_checkpoint_stats_get(tw_checkpoint *cp, tw_checkpoint_stats *out)
{
    pthread_mutex_lock(&cp->mutex);
    *out = (tw_checkpoint_stats){.files = cp->n};
    for (size_t i = 0; i < cp->n; i++)
        out->acked_bytes_total += cp->entries[i].acked;
    pthread_mutex_unlock(&cp->mutex);
}

/* ---- meta ---------------------------------------------------------------------- */

void tw_checkpoint_meta_add(tw_buf *meta, const tw_tracked_file *file, uint64_t offset)
{
    tw_le_append(meta, file->key, 8);
    tw_le_append(meta, file->id.dev, 8);
    tw_le_append(meta, file->id.ino, 8);
    tw_le_append(meta, file->id.fp_len, 4);
    tw_le_append(meta, file->id.fp_hash, 8);
    tw_le_append(meta, offset, 8);
}

int tw_checkpoint_meta_each(const void *meta, size_t len,
                            void (*fn)(void *ctx, const tw_tracked_file *file, uint64_t offset),
                            void *ctx)
{
    if (len % META_ENTRY_BYTES != 0)
        return -EINVAL;
    const unsigned char *p = meta;
    for (size_t at = 0; at < len; at += META_ENTRY_BYTES) {
        if (tw_le_get(p + at + 24, 4) > TW_FINGERPRINT_MAX || tw_le_get(p + at, 8) == 0)
            return -EINVAL;
    }
    for (size_t at = 0; at < len; at += META_ENTRY_BYTES) {
        tw_tracked_file file = {
            .key = tw_le_get(p + at, 8),
            .id = {.dev = tw_le_get(p + at + 8, 8), .ino = tw_le_get(p + at + 16, 8),
                   .fp_len = (uint32_t)tw_le_get(p + at + 24, 4), .fp_hash = tw_le_get(p + at + 28, 8)}};
        fn(ctx, &file, tw_le_get(p + at + 36, 8));
    }
    return 0;
}
