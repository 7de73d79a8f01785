/* checkpoint.h — how far each tailed file has been shipped, durably.
 *
 * One checkpoint per [logs] section, kept in state_dir/checkpoints/NAME.json.
 * A file is known by its identity: device, inode and a fingerprint (a hash
 * of its first bytes, up to TW_FINGERPRINT_MAX), so a path that now names
 * another file (rotation), an inode the filesystem handed to a new file
 * (inode reuse) and a file truncated and rewritten are all told apart.
 *
 * Each entry has three positions:
 *   acked   — every line before it was acknowledged by the endpoint; this is
 *             what the file on disk records;
 *   spooled — every line before it is in a spooled request (the requests'
 *             meta carries positions, so after a crash the spool itself says
 *             how far it got: tw_checkpoint_note_spooled from on_recovered);
 *   read    — how far the tail has read (memory only).
 * A restart resumes reading at max(acked, spooled): lines in the spool are
 * sent from there, never read and sent twice; lines not in it are read
 * again. acked only ever grows, and the file records it before the spool
 * forgets the requests (tw_checkpoint_save from the outbox's before_ack).
 *
 * Threads: every function takes the checkpoint's mutex; tw_checkpoint_save
 * writes and fsyncs (worker threads only), the others never do I/O.
 */
#ifndef TW_CHECKPOINT_H
#define TW_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Bytes at the start of a file that its fingerprint covers (fewer while the
 * file is shorter; the fingerprint grows with it until this length). */
#define TW_FINGERPRINT_MAX 1024u

typedef struct tw_file_identity {
    uint64_t dev, ino;
    uint32_t fp_len;  /* bytes hashed: min(file size, TW_FINGERPRINT_MAX) */
    uint64_t fp_hash; /* first 8 bytes of the SHA-256 of those bytes */
} tw_file_identity;

/* Fills id from an open file: fstat and a pread of its first bytes.
 * Returns 0 or a negative errno (err filled, naming path). */
int tw_file_identity_read(int fd, const char *path, tw_file_identity *id, tw_err *err);

/* True when the open file fd is the file id was taken from: same device and
 * inode, and its first id->fp_len bytes still hash to id->fp_hash (false
 * also when the file is now shorter than that). */
bool tw_file_identity_matches(int fd, const tw_file_identity *id);

typedef struct tw_checkpoint tw_checkpoint;

/* A tracked file: its entry's key (random, fixed for the entry's life: the
 * fingerprint grows while the file is young, the key does not) and the
 * identity it was last seen with. */
typedef struct tw_tracked_file {
    uint64_t key;
    tw_file_identity id;
} tw_tracked_file;

/* Loads (or starts) the checkpoint kept at path. A file that cannot be
 * parsed is renamed to path.corrupt-<time> with an error saying so, and the
 * checkpoint starts empty (files are then read as if seen for the first
 * time). Returns 0 and *out, or a negative errno when the file cannot be
 * read at all (err filled). */
int tw_checkpoint_open(const char *path, tw_checkpoint **out, tw_err *err);

/* Writes what changed, then frees. NULL is fine. */
void tw_checkpoint_close(tw_checkpoint *cp);

/* The entry for the inode (dev, ino), if any: *file gets its key and the
 * identity recorded, *resume where reading resumes (max of acked and
 * spooled). The caller checks with tw_file_identity_matches that the file
 * is still that one (inode reuse) and tw_checkpoint_forget's it if not. */
bool tw_checkpoint_lookup(tw_checkpoint *cp, uint64_t dev, uint64_t ino, tw_tracked_file *file,
                          uint64_t *resume);

/* Tracks the file with identity id from now on (creating its entry with
 * acked = position when new; an existing entry takes the longer
 * fingerprint and path) and returns its key. Entries not tracked or looked
 * up for a day are forgotten on save. */
uint64_t tw_checkpoint_track(tw_checkpoint *cp, const tw_file_identity *id, const char *path,
                             uint64_t position);

/* Lines of the file before offset are in a spooled request. Called for new
 * requests and, through the outbox's on_recovered, for those the last run
 * spooled (an entry the file on disk does not have yet is made from the
 * meta's identity). */
void tw_checkpoint_note_spooled(tw_checkpoint *cp, const tw_tracked_file *file, uint64_t offset);

/* The endpoint acknowledged a request holding the file's lines up to
 * offset. */
void tw_checkpoint_note_acked(tw_checkpoint *cp, const tw_tracked_file *file, uint64_t offset);

/* Forgets the entry (its inode now holds another file). */
void tw_checkpoint_forget(tw_checkpoint *cp, uint64_t key);

/* Calls fn for every entry: its file, the path it was last seen at, and
 * where reading would resume (the tail uses it at startup to find files
 * rotated away while the agent was not running). fn must not call back
 * into the checkpoint. */
void tw_checkpoint_each(tw_checkpoint *cp,
                        void (*fn)(void *ctx, const tw_tracked_file *file, const char *path,
                                   uint64_t resume),
                        void *ctx);

/* True when something changed since the last save. */
bool tw_checkpoint_dirty(tw_checkpoint *cp);

/* Writes the file if anything changed since the last save (atomic and
 * durable: temp, fsync, rename, fsync of the directory). Worker threads or
 * shutdown only. Returns 0 or a negative errno (logged, err filled). */
int tw_checkpoint_save(tw_checkpoint *cp, tw_err *err);

/* The meta a request carries: (file, offset) pairs. */
void tw_checkpoint_meta_add(tw_buf *meta, const tw_tracked_file *file, uint64_t offset);

/* Calls fn for each pair in meta; returns -EINVAL for bytes that are not
 * meta (nothing is called then). */
int tw_checkpoint_meta_each(const void *meta, size_t len,
                            void (*fn)(void *ctx, const tw_tracked_file *file, uint64_t offset),
                            void *ctx);

typedef struct tw_checkpoint_stats {
    size_t files;
    uint64_t acked_bytes_total; /* sum of acked offsets, for the status */
} tw_checkpoint_stats;
void tw_checkpoint_stats_get(tw_checkpoint *cp, tw_checkpoint_stats *out);

#endif
