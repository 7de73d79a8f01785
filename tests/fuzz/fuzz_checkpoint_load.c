/* fuzz_checkpoint_load.c — libFuzzer target for the checkpoint file and the
 * request meta (agent/checkpoint.h). The input is written as a checkpoint
 * file and opened: whatever the bytes, open succeeds (a damaged file is
 * moved aside and the checkpoint starts empty), nothing crashes or leaks,
 * and what the checkpoint then writes it can read back: after an ack, a new
 * file and a forget, save, close and open again give the same entries (key,
 * identity, path, resume position) without the file being called damaged.
 * The same bytes (cut to whole 44-byte entries) go to the meta decoder: it
 * either refuses them without calling back, or calls back pairs that encode
 * back to the very same bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "checkpoint.h"
#include "fsutil.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_checkpoint_load: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#define META_ENTRY 44 /* key, dev, ino, fp_len (4), fp_hash, offset */

static char dir[512];
static char state[600];

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' || (de->d_name[1] && strcmp(de->d_name, "..") != 0))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

static int count_corrupt(void)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".corrupt-"))
            n++;
    closedir(d);
    return n;
}

static void remove_dir(void)
{
    empty_dir();
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A damaged file is logged as an error each time: the point here, not
     * something to print a million times. */
    tw_log_init("fuzz_checkpoint_load", (tw_log_level)(TW_LOG_ERROR - 1));
    /* tmpfs when there is one: every save fsyncs. */
    const char *parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    tw_err err;
    if (tw_make_temp_dir(parent, "tw-fuzz-checkpoint", dir, sizeof dir, &err) != 0) {
        fprintf(stderr, "fuzz_checkpoint_load: %s\n", err.msg);
        abort();
    }
    snprintf(state, sizeof state, "%s/cp.json", dir);
    atexit(remove_dir);
    return 0;
}

/* ---- the meta -------------------------------------------------------------------- */

typedef struct reencode {
    tw_buf out;
    size_t calls;
} reencode;

static void meta_pair(void *ctx, const tw_tracked_file *file, uint64_t offset)
{
    reencode *r = ctx;
    CHECK(file->key != 0);
    CHECK(file->id.fp_len <= TW_FINGERPRINT_MAX);
    tw_checkpoint_meta_add(&r->out, file, offset);
    r->calls++;
}

static void fuzz_meta(const uint8_t *data, size_t size)
{
    size_t whole = size - size % META_ENTRY;
    for (int pass = 0; pass < 2; pass++) {
        size_t len = pass == 0 ? size : whole;
        reencode r = {TW_BUF_INIT, 0};
        int rc = tw_checkpoint_meta_each(data, len, meta_pair, &r);
        CHECK(rc == 0 || rc == -EINVAL);
        if (rc == 0) {
            CHECK(r.calls == len / META_ENTRY);
            CHECK(r.out.len == len);
            CHECK(len == 0 || memcmp(r.out.data, data, len) == 0);
        } else {
            CHECK(r.calls == 0);
        }
        tw_buf_free(&r.out);
    }
}

/* ---- the file --------------------------------------------------------------------- */

typedef struct snap_entry {
    tw_tracked_file file;
    char *path;
    uint64_t resume;
} snap_entry;

typedef struct snapshot {
    snap_entry *v;
    size_t n, cap;
} snapshot;

static void snap_add(void *ctx, const tw_tracked_file *file, const char *path, uint64_t resume)
{
    snapshot *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        CHECK(s->v != NULL);
    }
    s->v[s->n++] = (snap_entry){*file, strdup(path), resume};
}

static void snap_free(snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].path);
    free(s->v);
    *s = (snapshot){0};
}

static const snap_entry *snap_find(const snapshot *s, uint64_t key)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].file.key == key)
            return &s->v[i];
    return NULL;
}

static bool same_entry(const snap_entry *a, const snap_entry *b)
{
    return a->file.key == b->file.key && a->file.id.dev == b->file.id.dev &&
           a->file.id.ino == b->file.id.ino && a->file.id.fp_len == b->file.id.fp_len &&
           a->file.id.fp_hash == b->file.id.fp_hash && a->resume == b->resume &&
           strcmp(a->path, b->path) == 0;
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    empty_dir();
    int fd = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, data, size) == (ssize_t)size);
    close(fd);

    tw_checkpoint *cp = NULL;
    tw_err err;
    CHECK(tw_checkpoint_open(state, &cp, &err) == 0);
    CHECK(cp != NULL);
    bool damaged = count_corrupt() > 0;
    CHECK(damaged == (access(state, F_OK) != 0));

    snapshot before = {0};
    tw_checkpoint_each(cp, snap_add, &before);
    tw_checkpoint_stats stats;
    tw_checkpoint_stats_get(cp, &stats);
    CHECK(stats.files == before.n);
    if (damaged)
        CHECK(before.n == 0);
    for (size_t i = 0; i < before.n; i++) {
        tw_tracked_file found;
        uint64_t resume;
        CHECK(tw_checkpoint_lookup(cp, before.v[i].file.id.dev, before.v[i].file.id.ino, &found,
                                   &resume));
    }

    /* What a run does: acks, a new file, a file replaced. */
    if (before.n > 0) {
        tw_checkpoint_note_acked(cp, &before.v[0].file, before.v[0].resume + 100);
        tw_checkpoint_forget(cp, before.v[before.n - 1].file.key);
    }
    tw_file_identity id = {.dev = 0xFFFFFFFFFFFFFFF0ull, .ino = size, .fp_len = 7,
                           .fp_hash = 0x0123456789ABCDEFull};
    tw_checkpoint_track(cp, &id, "/fuzz/new \"file\".log", 42);
    CHECK(tw_checkpoint_save(cp, &err) == 0);
    snapshot saved = {0};
    tw_checkpoint_each(cp, snap_add, &saved);
    tw_checkpoint_close(cp);

    /* What it wrote, it reads back as it was. */
    cp = NULL;
    CHECK(tw_checkpoint_open(state, &cp, &err) == 0);
    CHECK(access(state, F_OK) == 0); /* not moved aside as damaged */
    snapshot after = {0};
    tw_checkpoint_each(cp, snap_add, &after);
    CHECK(after.n == saved.n);
    for (size_t i = 0; i < saved.n; i++) {
        const snap_entry *a = snap_find(&after, saved.v[i].file.key);
        CHECK(a != NULL);
        CHECK(same_entry(a, &saved.v[i]));
    }
    tw_checkpoint_close(cp);
    snap_free(&before);
    snap_free(&saved);
    snap_free(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_meta(data, size);
    fuzz_file(data, size);
    return 0;
}
