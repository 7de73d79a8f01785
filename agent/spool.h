/* spool.h — the agent's on-disk queue of batches waiting for an endpoint.
 *
 * One spool per destination: a private directory (e.g. state_dir/spool/metrics)
 * of append-only segment files. A record is an opaque payload (an encoded
 * batch); the spool gives it an id that only grows and stays the same across
 * restarts. The sender reads records in id order through its own cursor, sends
 * them, and acknowledges each one when the endpoint answered (in any order,
 * several may be in flight).
 *
 * Delivery is at least once: after a crash or a restart every record that was
 * not acknowledged is handed out again, and so may a few that were (acks beyond
 * the first unacknowledged record live in memory only). The batch id inside the
 * payload makes such a replay a no-op at the collector. A record whose append
 * returned 0 is never lost by a crash (with TW_SPOOL_FSYNC_ALWAYS not even by a
 * power loss); it disappears only when acknowledged, or when the size cap drops
 * it, which is logged as a warning and counted. Damaged records are skipped,
 * logged with their file and offset, and counted; they never stop the records
 * after them. docs/spool.md describes the format and the policies.
 *
 * Memory: no payload is kept; the index costs 8 bytes per spooled record.
 *
 * Threads: every function may be called from any thread; an internal mutex
 * serialises them. All of them except tw_spool_stats_get may do disk I/O or wait
 * for another thread's fsync, so the agent calls them from libuv worker
 * threads (uv_queue_work), never on the loop. tw_spool_stats_get only copies
 * counters under a mutex that is never held across I/O: it is loop-safe.
 */
#ifndef TW_SPOOL_H
#define TW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define TW_SPOOL_DEFAULT_MAX_BYTES (256ull << 20)
#define TW_SPOOL_DEFAULT_SEGMENT_BYTES (8ull << 20)
/* Largest segment_bytes accepted (offsets inside a segment are 32-bit). */
#define TW_SPOOL_MAX_SEGMENT_BYTES (1ull << 30)
/* Largest payload accepted by tw_spool_append (a PutMetricData or
 * PutLogEvents body is at most ~1.2 MB). */
#define TW_SPOOL_MAX_RECORD_BYTES (16u << 20)
/* Bytes each record takes on disk besides its payload. */
#define TW_SPOOL_RECORD_OVERHEAD 32u

typedef enum tw_spool_fsync {
    /* Every append is on stable storage when tw_spool_append returns
     * (fdatasync of the segment; the directory is synced when a segment is
     * created). The default. */
    TW_SPOOL_FSYNC_ALWAYS = 0,
    /* Nothing is synced: a crash of the agent loses nothing (the data is in the
     * kernel's page cache), a power loss may lose the last seconds of appends.
     * For tests and benchmarks. */
    TW_SPOOL_FSYNC_NEVER = 1,
} tw_spool_fsync;

typedef struct tw_spool_options {
    uint64_t max_bytes;     /* cap on the segment files' total size; 0 = 256 MiB */
    uint64_t segment_bytes; /* a segment is closed once it would grow past this;
                               0 = 8 MiB; at most TW_SPOOL_MAX_SEGMENT_BYTES */
    tw_spool_fsync fsync;
} tw_spool_options;

/* What tw_spool_open found. Every event counted here was also logged as a
 * warning, naming the file and offset; messages holds the same lines (one per
 * line, the first 100 events) for the caller. The caller owns messages and
 * frees it with tw_buf_free, also when tw_spool_open fails. */
typedef struct tw_spool_recovery {
    uint64_t segments;        /* segment files kept after opening */
    uint64_t records;         /* intact records found (pending or acknowledged) */
    uint64_t pending;         /* of which not acknowledged: they will be read again */
    uint64_t corrupt_records; /* damaged stretches skipped between intact records */
    uint64_t corrupt_bytes;   /* their size */
    uint64_t torn_bytes;      /* bytes after the last intact record of a segment
                                 (an append cut short), truncated */
    uint64_t ignored_files;   /* files in the directory that are not ours (left alone) */
    tw_buf messages;
} tw_spool_recovery;

/* What an append had to drop to stay under max_bytes (all zero when nothing). */
typedef struct tw_spool_dropped {
    uint64_t records;  /* unacknowledged records lost */
    uint64_t bytes;    /* their size on disk */
    uint64_t first_id; /* the oldest and newest of them */
    uint64_t last_id;
} tw_spool_dropped;

/* A reader's position. Each reader (normally the sender, one per spool) owns
 * one, starting from TW_SPOOL_CURSOR_INIT; a new cursor reads every
 * unacknowledged record again from the oldest. */
typedef struct tw_spool_cursor {
    uint64_t last_id; /* the id tw_spool_read returned last (0: none yet) */
} tw_spool_cursor;
#define TW_SPOOL_CURSOR_INIT {0}

typedef struct tw_spool_stats {
    uint64_t pending_records;   /* records not acknowledged (in flight included) */
    uint64_t pending_bytes;     /* their size on disk */
    uint64_t disk_bytes;        /* total size of the segment files */
    int64_t oldest_pending_ms;  /* append time (epoch ms) of the oldest pending
                                   record; 0 when none */
    uint64_t appended_records;  /* since open */
    uint64_t acked_records;     /* since open */
    uint64_t dropped_records;   /* by the cap, since open */
    uint64_t dropped_bytes;
    uint64_t corrupt_records;   /* skipped while opening or reading, since open */
    uint64_t next_id;           /* the id the next append will get */
} tw_spool_stats;

typedef struct tw_spool tw_spool;

/* Opens the spool in dir, creating dir (mode 0700, see tw_ensure_private_dir)
 * if needed, and recovers what a previous run left: intact records become
 * pending again, damaged ones are skipped, a torn tail is truncated, fully
 * acknowledged segments are deleted, files that are not ours are left alone.
 * options may be NULL (defaults). recovery may be NULL; if not, it is filled
 * (see tw_spool_recovery). Takes an exclusive lock on dir/spool.lock: a second
 * open of the same directory, in this or another process, fails with -EBUSY.
 * Returns 0 and sets *out (free it with tw_spool_close), or a negative errno
 * with err filled (bad options: -EINVAL; I/O errors: their errno). */
int tw_spool_open(const char *dir, const tw_spool_options *options, tw_spool **out,
                  tw_spool_recovery *recovery, tw_err *err);

/* Appends a copy of data (len bytes; the caller keeps its buffer) as a new
 * record, durable per the fsync policy when this returns 0; sets *id (may be
 * NULL). If the spool would grow over max_bytes, the oldest whole segments
 * (never the one being written) are deleted first, whether or not their
 * records were acknowledged: what was lost is logged as a warning, counted in
 * the stats and reported in *dropped (may be NULL; zeroed otherwise).
 * Fails with -EMSGSIZE when len > TW_SPOOL_MAX_RECORD_BYTES, -EFBIG when the
 * record alone is larger than max_bytes, or an I/O errno (e.g. -ENOSPC); on
 * failure nothing was appended and the spool is still usable. */
int tw_spool_append(tw_spool *s, const void *data, size_t len, uint64_t *id,
                    tw_spool_dropped *dropped, tw_err *err);

/* Reads the first pending record whose id is greater than cursor->last_id:
 * sets *id, replaces payload's contents with the record's bytes, and moves the
 * cursor past it. Acknowledged records and those dropped by the cap are
 * skipped. A record found damaged now (its checksum no longer matches) is
 * logged, counted, forgotten, and the next one is read instead.
 * Returns 0, -ENOENT when there is no pending record after the cursor (more
 * may come with later appends), or an I/O errno with err filled (the cursor
 * then stays where it was). */
int tw_spool_read(tw_spool *s, tw_spool_cursor *cursor, uint64_t *id, tw_buf *payload,
                  tw_err *err);

/* Acknowledges record id: it will not be read again, even after a restart
 * once every older record is acknowledged too. Deletes a segment once all its
 * records are acknowledged (except the one being written) and records the
 * acknowledged prefix in dir/state (at most every half second, and at
 * close). Idempotent: returns 0 when the record was pending, -ENOENT (a
 * no-op) when it was already acknowledged, dropped, or
 * never existed. Disk errors here are logged, never returned: they can only
 * cause a record to be sent twice. */
int tw_spool_ack(tw_spool *s, uint64_t id);

/* tw_spool_ack for n records at once, recording the acknowledged prefix
 * once for all of them. Returns how many were pending. */
size_t tw_spool_ack_many(tw_spool *s, const uint64_t *ids, size_t n);

/* Group commit. After tw_spool_defer_sync, appends skip their own
 * fdatasync (under TW_SPOOL_FSYNC_ALWAYS); tw_spool_sync then makes all of
 * them durable with one (segments closed in between were synced when they
 * were closed) and ends the deferral. An append is durable only once
 * tw_spool_sync returned 0. Returns 0 or a negative errno (err filled). */
void tw_spool_defer_sync(tw_spool *s);
int tw_spool_sync(tw_spool *s, tw_err *err);

/* Copies the counters into *out. Never waits for disk I/O. */
void tw_spool_stats_get(const tw_spool *s, tw_spool_stats *out);

/* Records the acknowledged prefix (durably under TW_SPOOL_FSYNC_ALWAYS: one
 * small file written and synced, so call it where that wait is acceptable,
 * e.g. at shutdown), closes the files, releases the lock and frees s. NULL is
 * fine. Pending records stay on disk for the next tw_spool_open. */
void tw_spool_close(tw_spool *s);

#endif
