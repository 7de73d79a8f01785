/* test_checkpoint.c — file positions kept durably (agent/checkpoint.h):
 * identities (device, inode, fingerprint of the first bytes) and when they
 * stop matching (truncation, a rewrite of the first bytes, another inode),
 * the save/load round trip, the atomic write, a damaged file moved aside,
 * the acked/spooled high-water marks, fingerprints that grow under a fixed
 * key, forgetting, request meta and its refusal of garbage, entries unseen
 * for a day forgotten on save, and saves from several threads at once.
 * Real files in a private temporary directory per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "checkpoint.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "testutil.h"
#include "timefmt.h"

typedef struct fixture {
    char root[256];
    char state[320]; /* root/checkpoints/test.json */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tw_test_mkdtemp(f->root, sizeof f->root, "checkpoint") != 0)
        return -1;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/checkpoints", f->root);
    if (mkdir(dir, 0700) != 0)
        return -1;
    snprintf(f->state, sizeof f->state, "%s/test.json", dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/checkpoints", f->root);
    chmod(dir, 0700); /* a test may have made it read-only */
    int rc = tw_test_rm_rf(f->root);
    free(f);
    return rc;
}

/* ---- helpers ------------------------------------------------------------------------ */

static const char *file_at(const fixture *f, const char *name)
{
    static char paths[4][400];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", f->root, name);
    return p;
}

static int open_rw(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    return fd;
}

static void put(int fd, const char *text)
{
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
}

static uint64_t expected_hash(const void *data, size_t len)
{
    uint8_t d[TW_SHA256_LEN];
    tw_sha256(data, len, d);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | d[i];
    return h;
}

static tw_checkpoint *open_cp(const fixture *f)
{
    tw_checkpoint *cp = NULL;
    tw_err err = {""};
    int rc = tw_checkpoint_open(f->state, &cp, &err);
    if (rc != 0)
        print_message("open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(cp);
    return cp;
}

static void save_cp(tw_checkpoint *cp)
{
    tw_err err = {""};
    int rc = tw_checkpoint_save(cp, &err);
    if (rc != 0)
        print_message("save: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static tw_file_identity fake_id(uint64_t dev, uint64_t ino, uint32_t fp_len, uint64_t fp_hash)
{
    return (tw_file_identity){.dev = dev, .ino = ino, .fp_len = fp_len, .fp_hash = fp_hash};
}

/* Files in dir whose names start with prefix. */
static int count_prefixed(const char *dir, const char *prefix, char *first, size_t size)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            if (n++ == 0 && first)
                snprintf(first, size, "%s/%s", dir, de->d_name);
        }
    }
    closedir(d);
    return n;
}

static void checkpoint_dir(const fixture *f, char *out, size_t size)
{
    snprintf(out, size, "%s/checkpoints", f->root);
}

/* The saved file, parsed. */
static json_t *load_state(const fixture *f)
{
    json_error_t jerr;
    json_t *root = json_load_file(f->state, 0, &jerr);
    if (!root)
        print_message("state file: %s\n", jerr.text);
    assert_non_null(root);
    return root;
}

/* The offset the file on disk records for key, or -1. */
static int64_t saved_offset(const fixture *f, uint64_t key)
{
    json_t *root = load_state(f);
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64, key);
    int64_t found = -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "files"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "key")), want) == 0)
            found = json_integer_value(json_object_get(e, "offset"));
    }
    json_decref(root);
    return found;
}

typedef struct seen_entry {
    tw_tracked_file file;
    char path[256];
    uint64_t resume;
} seen_entry;

typedef struct seen_list {
    seen_entry v[16];
    size_t n;
} seen_list;

static void collect_entry(void *ctx, const tw_tracked_file *file, const char *path,
                          uint64_t resume)
{
    seen_list *l = ctx;
    assert_true(l->n < 16);
    seen_entry *e = &l->v[l->n++];
    e->file = *file;
    snprintf(e->path, sizeof e->path, "%s", path);
    e->resume = resume;
}

static const seen_entry *find_seen(const seen_list *l, uint64_t key)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].file.key == key)
            return &l->v[i];
    return NULL;
}

/* ---- identities ---------------------------------------------------------------------- */

static void test_identity_is_device_inode_and_hash_of_the_first_bytes(void **state)
{
    fixture *f = *state;
    int fd = open_rw(file_at(f, "a.log"));
    tw_file_identity id;
    tw_err err;
    assert_int_equal(tw_file_identity_read(fd, "a.log", &id, &err), 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(id.dev, (uint64_t)st.st_dev);
    assert_int_equal(id.ino, (uint64_t)st.st_ino);
    assert_int_equal(id.fp_len, 0); /* empty: nothing to hash yet */
    assert_int_equal(id.fp_hash, expected_hash("", 0));

    put(fd, "hello\n");
    assert_int_equal(tw_file_identity_read(fd, "a.log", &id, &err), 0);
    assert_int_equal(id.fp_len, 6);
    assert_int_equal(id.fp_hash, expected_hash("hello\n", 6));

    /* Past TW_FINGERPRINT_MAX only the first bytes count. */
    char big[3000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 23);
    assert_int_equal(pwrite(fd, big, sizeof big, 0), (ssize_t)sizeof big);
    assert_int_equal(tw_file_identity_read(fd, "a.log", &id, &err), 0);
    assert_int_equal(id.fp_len, TW_FINGERPRINT_MAX);
    assert_int_equal(id.fp_hash, expected_hash(big, TW_FINGERPRINT_MAX));
    close(fd);

    /* A descriptor that cannot be read: an error naming the path. */
    int wo = open(file_at(f, "a.log"), O_WRONLY | O_CLOEXEC);
    assert_true(wo >= 0);
    assert_true(tw_file_identity_read(wo, "/some/where/a.log", &id, &err) < 0);
    assert_non_null(strstr(err.msg, "/some/where/a.log"));
    close(wo);
}

static void test_identity_stops_matching_after_truncation_rewrite_or_another_inode(void **state)
{
    fixture *f = *state;
    int fd = open_rw(file_at(f, "m.log"));
    put(fd, "first line of the file\n");
    tw_file_identity id;
    tw_err err;
    assert_int_equal(tw_file_identity_read(fd, "m.log", &id, &err), 0);
    assert_true(tw_file_identity_matches(fd, &id));

    /* Appending keeps the file what it was. */
    put(fd, "second line\n");
    assert_true(tw_file_identity_matches(fd, &id));

    /* Truncated (copytruncate): shorter than the fingerprint. */
    assert_int_equal(ftruncate(fd, 5), 0);
    assert_false(tw_file_identity_matches(fd, &id));

    /* Truncated and rewritten to the same length with other bytes. */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, "FIRST LINE OF THE FILE\n", 23, 0), 23);
    assert_false(tw_file_identity_matches(fd, &id));

    /* One byte of the first ones rewritten in place. */
    assert_int_equal(pwrite(fd, "first line of the file\n", 23, 0), 23);
    assert_true(tw_file_identity_matches(fd, &id));
    assert_int_equal(pwrite(fd, "F", 1, 0), 1);
    assert_false(tw_file_identity_matches(fd, &id));
    assert_int_equal(pwrite(fd, "f", 1, 0), 1);
    assert_true(tw_file_identity_matches(fd, &id));

    /* Same bytes, another inode (a rotated-in copy). */
    int other = open_rw(file_at(f, "copy.log"));
    put(other, "first line of the file\nsecond line\n");
    assert_false(tw_file_identity_matches(other, &id));
    close(other);

    /* An identity taken while the file was empty matches whatever it holds
     * now (its fingerprint grows later). */
    int young = open_rw(file_at(f, "young.log"));
    tw_file_identity empty_id;
    assert_int_equal(tw_file_identity_read(young, "young.log", &empty_id, &err), 0);
    put(young, "anything\n");
    assert_true(tw_file_identity_matches(young, &empty_id));
    close(young);

    /* A fingerprint length no identity can have never matches. */
    tw_file_identity bad = id;
    bad.fp_len = TW_FINGERPRINT_MAX + 1;
    assert_false(tw_file_identity_matches(fd, &bad));
    close(fd);
}

/* ---- the file ------------------------------------------------------------------------- */

static void test_a_missing_file_starts_empty_and_nothing_is_written_for_nothing(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    seen_list l = {0};
    tw_checkpoint_each(cp, collect_entry, &l);
    assert_int_equal(l.n, 0);
    tw_checkpoint_stats st;
    tw_checkpoint_stats_get(cp, &st);
    assert_int_equal(st.files, 0);
    assert_false(tw_checkpoint_dirty(cp));
    tw_tracked_file file;
    uint64_t resume;
    assert_false(tw_checkpoint_lookup(cp, 1, 2, &file, &resume));
    tw_checkpoint_close(cp);
    assert_int_equal(access(f->state, F_OK), -1);
    tw_checkpoint_close(NULL);
}

static void test_positions_survive_save_and_reopen(void **state)
{
    fixture *f = *state;
    int fa = open_rw(file_at(f, "a.log"));
    int fb = open_rw(file_at(f, "b.log"));
    put(fa, "aaaa\n");
    put(fb, "bbbbbbbb\n");
    tw_file_identity ida, idb;
    tw_err err;
    assert_int_equal(tw_file_identity_read(fa, "a", &ida, &err), 0);
    assert_int_equal(tw_file_identity_read(fb, "b", &idb, &err), 0);
    /* A path JSON must escape. */
    const char *odd = "/var/log/\"quoted\"\\back\nslash \xC3\xA9.log";

    tw_checkpoint *cp = open_cp(f);
    uint64_t ka = tw_checkpoint_track(cp, &ida, "/var/log/a.log", 0);
    uint64_t kb = tw_checkpoint_track(cp, &idb, odd, 3);
    assert_int_not_equal(ka, 0);
    assert_int_not_equal(kb, 0);
    assert_int_not_equal(ka, kb);
    assert_true(tw_checkpoint_dirty(cp));
    tw_tracked_file ta = {ka, ida}, tb = {kb, idb};
    tw_checkpoint_note_spooled(cp, &ta, 5);
    tw_checkpoint_note_acked(cp, &ta, 5);
    tw_checkpoint_note_spooled(cp, &tb, 9); /* spooled, not yet acknowledged */
    save_cp(cp);
    assert_false(tw_checkpoint_dirty(cp));
    tw_checkpoint_close(cp);

    struct stat st;
    assert_int_equal(stat(f->state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    cp = open_cp(f);
    tw_tracked_file got;
    uint64_t resume;
    assert_true(tw_checkpoint_lookup(cp, ida.dev, ida.ino, &got, &resume));
    assert_int_equal(got.key, ka);
    assert_int_equal(got.id.fp_len, ida.fp_len);
    assert_int_equal(got.id.fp_hash, ida.fp_hash);
    assert_int_equal(resume, 5);
    assert_true(tw_file_identity_matches(fa, &got.id));
    /* What was only spooled is not on disk: the next run's spool says it
     * again (note_spooled from on_recovered). */
    assert_true(tw_checkpoint_lookup(cp, idb.dev, idb.ino, &got, &resume));
    assert_int_equal(got.key, kb);
    assert_int_equal(resume, 3);
    seen_list l = {0};
    tw_checkpoint_each(cp, collect_entry, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(find_seen(&l, ka)->path, "/var/log/a.log");
    assert_string_equal(find_seen(&l, kb)->path, odd);
    assert_int_equal(find_seen(&l, kb)->resume, 3);
    tw_checkpoint_stats stats;
    tw_checkpoint_stats_get(cp, &stats);
    assert_int_equal(stats.files, 2);
    assert_int_equal(stats.acked_bytes_total, 5 + 3);
    tw_checkpoint_close(cp);
    close(fa);
    close(fb);
}

/* Inode and device numbers use all 64 bits (overlayfs with xino sets the
 * high ones): they must come back as they went in, and must not make the
 * whole file unreadable. */
static void test_64_bit_inode_and_device_numbers_round_trip(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    tw_file_identity big = fake_id(0x8000000000000003ull, 0xF00000000000002Aull, 100,
                                   0xFEDCBA9876543210ull);
    uint64_t key = tw_checkpoint_track(cp, &big, "/big.log", 77);
    tw_file_identity small = fake_id(8, 12, 10, 99);
    uint64_t key2 = tw_checkpoint_track(cp, &small, "/small.log", 5);
    save_cp(cp);
    tw_checkpoint_close(cp);
    cp = open_cp(f);
    tw_tracked_file got;
    uint64_t resume;
    bool found = tw_checkpoint_lookup(cp, big.dev, big.ino, &got, &resume);
    if (!found)
        print_message("the entry with a 64-bit inode is gone after reopening\n");
    assert_true(found);
    assert_int_equal(got.key, key);
    assert_int_equal(got.id.fp_hash, big.fp_hash);
    assert_int_equal(resume, 77);
    assert_true(tw_checkpoint_lookup(cp, small.dev, small.ino, &got, &resume));
    assert_int_equal(got.key, key2);
    tw_checkpoint_close(cp);
    char dir[300];
    checkpoint_dir(f, dir, sizeof dir);
    assert_int_equal(count_prefixed(dir, "test.json.corrupt-", NULL, 0), 0);
}

static void test_save_is_atomic_and_a_failed_save_is_retried(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    tw_file_identity id = fake_id(1, 2, 3, 4);
    uint64_t key = tw_checkpoint_track(cp, &id, "/x.log", 10);
    save_cp(cp);
    char dir[300];
    checkpoint_dir(f, dir, sizeof dir);
    /* Only the file itself: no temporary left next to it. */
    assert_int_equal(count_prefixed(dir, "", NULL, 0), 3); /* ".", "..", test.json */
    assert_int_equal(saved_offset(f, key), 10);

    /* The directory is made read-only: the save fails, says why, keeps the
     * old file whole, and the change is still pending. */
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0500), 0);
        tw_tracked_file t = {key, id};
        tw_checkpoint_note_acked(cp, &t, 20);
        tw_err err = {""};
        assert_true(tw_checkpoint_save(cp, &err) < 0);
        assert_non_null(strstr(err.msg, "test.json"));
        assert_true(tw_checkpoint_dirty(cp));
        assert_int_equal(saved_offset(f, key), 10);
        assert_int_equal(tw_checkpoint_save(cp, NULL) < 0, 1); /* NULL err is fine */
        assert_int_equal(chmod(dir, 0700), 0);
        save_cp(cp);
        assert_int_equal(saved_offset(f, key), 20);
    } else {
        print_message("running as root: a read-only directory does not stop us; "
                      "skipping the failed-save checks\n");
    }
    tw_checkpoint_close(cp);

    /* The state path is in a directory that does not exist: the same. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nowhere/cp.json", f->root);
    tw_checkpoint *cp2 = NULL;
    tw_err err = {""};
    assert_int_equal(tw_checkpoint_open(missing, &cp2, &err), 0);
    tw_checkpoint_track(cp2, &id, "/x.log", 1);
    assert_true(tw_checkpoint_save(cp2, &err) < 0);
    assert_non_null(strstr(err.msg, "nowhere"));
    assert_true(tw_checkpoint_dirty(cp2));
    tw_checkpoint_close(cp2);
}

typedef struct damaged_case {
    const char *what, *text;
} damaged_case;

static void test_a_damaged_file_is_moved_aside_and_the_checkpoint_starts_empty(void **state)
{
    fixture *f = *state;
    static const damaged_case cases[] = {
        {"not JSON", "{\"version\":1,\"files\":[{\"key\":"},
        {"empty", ""},
        {"binary", "\x00\xFF\xFE garbage"},
        {"another version", "{\"version\":2,\"files\":[]}"},
        {"files not a list", "{\"version\":1,\"files\":{}}"},
        {"entry without key",
         "{\"version\":1,\"files\":[{\"dev\":1,\"ino\":2,\"fingerprint_len\":3,"
         "\"fingerprint\":\"0000000000000004\",\"offset\":5}]}"},
        {"short fingerprint",
         "{\"version\":1,\"files\":[{\"key\":\"0000000000000001\",\"dev\":1,\"ino\":2,"
         "\"fingerprint_len\":3,\"fingerprint\":\"04\",\"offset\":5}]}"},
        {"fingerprint too long",
         "{\"version\":1,\"files\":[{\"key\":\"0000000000000001\",\"dev\":1,\"ino\":2,"
         "\"fingerprint_len\":1025,\"fingerprint\":\"0000000000000004\",\"offset\":5}]}"},
        {"negative offset",
         "{\"version\":1,\"files\":[{\"key\":\"0000000000000001\",\"dev\":1,\"ino\":2,"
         "\"fingerprint_len\":3,\"fingerprint\":\"0000000000000004\",\"offset\":-5}]}"},
        {"path not a string",
         "{\"version\":1,\"files\":[{\"key\":\"0000000000000001\",\"dev\":1,\"ino\":2,"
         "\"fingerprint_len\":3,\"fingerprint\":\"0000000000000004\",\"offset\":5,"
         "\"path\":7}]}"},
    };
    char dir[300];
    checkpoint_dir(f, dir, sizeof dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const damaged_case *c = &cases[i];
        size_t len = strcmp(c->what, "binary") == 0 ? 11 : strlen(c->text); /* NUL inside */
        int fd = open(f->state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, c->text, len), (ssize_t)len);
        close(fd);

        tw_checkpoint *cp = NULL;
        tw_err err = {""};
        /* Every other case passes no tw_err: NULL must be fine (err.h). */
        int rc = tw_checkpoint_open(f->state, &cp, i % 2 ? NULL : &err);
        if (rc != 0)
            print_message("%s: %s\n", c->what, err.msg);
        assert_int_equal(rc, 0);
        assert_non_null(cp);
        seen_list l = {0};
        tw_checkpoint_each(cp, collect_entry, &l);
        assert_int_equal(l.n, 0);
        assert_false(tw_checkpoint_dirty(cp));
        tw_checkpoint_close(cp);

        /* Moved aside whole, for a human to look at. */
        assert_int_equal(access(f->state, F_OK), -1);
        char aside[600];
        if (count_prefixed(dir, "test.json.corrupt-", aside, sizeof aside) != 1)
            print_message("%s: not moved aside\n", c->what);
        assert_int_equal(count_prefixed(dir, "test.json.corrupt-", aside, sizeof aside), 1);
        tw_buf kept = TW_BUF_INIT;
        assert_int_equal(tw_read_file(aside, 1 << 20, &kept, NULL), 0);
        assert_int_equal(kept.len, len);
        assert_memory_equal(kept.data, c->text, len);
        tw_buf_free(&kept);
        assert_int_equal(unlink(aside), 0);
    }

    /* A checkpoint path that cannot be read at all is an error, not an
     * empty start (it would re-read every file). */
    assert_int_equal(mkdir(f->state, 0700), 0);
    tw_checkpoint *cp = NULL;
    tw_err err = {""};
    assert_true(tw_checkpoint_open(f->state, &cp, &err) < 0);
    assert_non_null(strstr(err.msg, "test.json"));
    assert_int_equal(rmdir(f->state), 0);
}

/* ---- positions ------------------------------------------------------------------------ */

static void test_acked_and_spooled_are_high_water_marks(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    tw_file_identity id = fake_id(3, 4, 5, 6);
    tw_tracked_file t = {tw_checkpoint_track(cp, &id, "/h.log", 0), id};
    tw_tracked_file got;
    uint64_t resume;

    tw_checkpoint_note_acked(cp, &t, 100);
    tw_checkpoint_note_acked(cp, &t, 50); /* acknowledged out of order */
    assert_true(tw_checkpoint_lookup(cp, 3, 4, &got, &resume));
    assert_int_equal(resume, 100);

    tw_checkpoint_note_spooled(cp, &t, 300);
    tw_checkpoint_note_spooled(cp, &t, 200);
    assert_true(tw_checkpoint_lookup(cp, 3, 4, &got, &resume));
    assert_int_equal(resume, 300); /* max(acked, spooled) */

    tw_checkpoint_note_acked(cp, &t, 400);
    assert_true(tw_checkpoint_lookup(cp, 3, 4, &got, &resume));
    assert_int_equal(resume, 400);
    save_cp(cp);
    assert_int_equal(saved_offset(f, t.key), 400);

    /* A later, lower ack never moves the file on disk back. */
    tw_checkpoint_note_acked(cp, &t, 350);
    save_cp(cp);
    assert_int_equal(saved_offset(f, t.key), 400);

    /* Acks for a file the checkpoint does not know change nothing. */
    tw_tracked_file unknown = {0x1234, fake_id(9, 9, 0, 0)};
    tw_checkpoint_note_acked(cp, &unknown, 10);
    assert_false(tw_checkpoint_lookup(cp, 9, 9, &got, &resume));
    tw_checkpoint_close(cp);
}

/* After a crash, the spool's requests name files the checkpoint file does
 * not have yet: their entries are made from the meta's identity. */
static void test_spooled_positions_of_an_unknown_file_make_its_entry(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    tw_tracked_file t = {0xABCDEF0123456789ull, fake_id(21, 22, 23, 24)};
    tw_checkpoint_note_spooled(cp, &t, 700);
    tw_checkpoint_note_spooled(cp, &t, 900);
    tw_tracked_file got;
    uint64_t resume;
    assert_true(tw_checkpoint_lookup(cp, 21, 22, &got, &resume));
    assert_int_equal(got.key, t.key);
    assert_int_equal(got.id.fp_len, 23);
    assert_int_equal(got.id.fp_hash, 24);
    assert_int_equal(resume, 900);
    /* Tracking the file now keeps that key and position. */
    assert_int_equal(tw_checkpoint_track(cp, &t.id, "/now/here.log", 0), t.key);
    assert_true(tw_checkpoint_lookup(cp, 21, 22, &got, &resume));
    assert_int_equal(resume, 900);
    seen_list l = {0};
    tw_checkpoint_each(cp, collect_entry, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].path, "/now/here.log");
    tw_checkpoint_close(cp);
}

static void test_a_growing_fingerprint_keeps_the_key(void **state)
{
    fixture *f = *state;
    int fd = open_rw(file_at(f, "g.log"));
    put(fd, "12345");
    tw_file_identity young, grown;
    tw_err err;
    assert_int_equal(tw_file_identity_read(fd, "g", &young, &err), 0);
    tw_checkpoint *cp = open_cp(f);
    uint64_t key = tw_checkpoint_track(cp, &young, "/g.log", 0);
    save_cp(cp);
    put(fd, "6789012345\n");
    assert_int_equal(tw_file_identity_read(fd, "g", &grown, &err), 0);
    assert_int_equal(grown.fp_len, 16);
    assert_int_equal(tw_checkpoint_track(cp, &grown, "/g.log", 0), key);
    assert_true(tw_checkpoint_dirty(cp)); /* the longer fingerprint must be saved */
    tw_tracked_file got;
    uint64_t resume;
    assert_true(tw_checkpoint_lookup(cp, grown.dev, grown.ino, &got, &resume));
    assert_int_equal(got.id.fp_len, 16);
    assert_int_equal(got.id.fp_hash, grown.fp_hash);
    /* A shorter fingerprint (an older identity) does not replace it. */
    assert_int_equal(tw_checkpoint_track(cp, &young, "/g.log", 0), key);
    assert_true(tw_checkpoint_lookup(cp, grown.dev, grown.ino, &got, &resume));
    assert_int_equal(got.id.fp_len, 16);
    /* Position only counts for a new entry. */
    tw_tracked_file t = {key, grown};
    tw_checkpoint_note_acked(cp, &t, 8);
    assert_int_equal(tw_checkpoint_track(cp, &grown, "/renamed/g.log", 1000), key);
    assert_true(tw_checkpoint_lookup(cp, grown.dev, grown.ino, &got, &resume));
    assert_int_equal(resume, 8);
    save_cp(cp);
    tw_checkpoint_close(cp);

    cp = open_cp(f);
    assert_true(tw_checkpoint_lookup(cp, grown.dev, grown.ino, &got, &resume));
    assert_int_equal(got.key, key);
    assert_int_equal(got.id.fp_len, 16);
    assert_true(tw_file_identity_matches(fd, &got.id));
    seen_list l = {0};
    tw_checkpoint_each(cp, collect_entry, &l);
    assert_string_equal(l.v[0].path, "/renamed/g.log");
    /* A new file starts where it is told to (read_from = tail). */
    tw_file_identity other = fake_id(grown.dev, grown.ino + 1000000, 0, 0);
    uint64_t k2 = tw_checkpoint_track(cp, &other, "/other.log", 4096);
    assert_int_not_equal(k2, key);
    assert_true(tw_checkpoint_lookup(cp, other.dev, other.ino, &got, &resume));
    assert_int_equal(resume, 4096);
    tw_checkpoint_close(cp);
    close(fd);
}

static void test_forget_removes_the_entry_for_good(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    tw_file_identity a = fake_id(1, 10, 0, 0), b = fake_id(1, 11, 0, 0);
    uint64_t ka = tw_checkpoint_track(cp, &a, "/a", 5);
    uint64_t kb = tw_checkpoint_track(cp, &b, "/b", 6);
    save_cp(cp);
    tw_checkpoint_forget(cp, ka);
    assert_true(tw_checkpoint_dirty(cp));
    tw_checkpoint_forget(cp, 0x5555); /* unknown: nothing */
    tw_tracked_file got;
    uint64_t resume;
    assert_false(tw_checkpoint_lookup(cp, 1, 10, &got, &resume));
    assert_true(tw_checkpoint_lookup(cp, 1, 11, &got, &resume));
    save_cp(cp);
    tw_checkpoint_close(cp);
    cp = open_cp(f);
    assert_false(tw_checkpoint_lookup(cp, 1, 10, &got, &resume));
    assert_true(tw_checkpoint_lookup(cp, 1, 11, &got, &resume));
    assert_int_equal(got.key, kb);
    /* The inode now holds another file: a new entry with a new key. */
    uint64_t ka2 = tw_checkpoint_track(cp, &a, "/a", 0);
    assert_int_not_equal(ka2, ka);
    tw_checkpoint_close(cp);
}

/* Writes a checkpoint file by hand: entries (key, ino, offset, seen_ms). */
static void write_state(const fixture *f, const uint64_t (*entries)[4], size_t n)
{
    tw_buf text = TW_BUF_INIT;
    tw_buf_puts(&text, "{\"version\":1,\"files\":[");
    for (size_t i = 0; i < n; i++)
        tw_buf_printf(&text,
                      "%s{\"key\":\"%016" PRIx64 "\",\"dev\":7,\"ino\":%" PRIu64
                      ",\"fingerprint_len\":0,\"fingerprint\":\"0000000000000000\",\"offset\":%" PRIu64
                      ",\"path\":\"/f%zu.log\",\"seen_ms\":%" PRIu64 "}",
                      i ? "," : "", entries[i][0], entries[i][1], entries[i][2], i,
                      entries[i][3]);
    tw_buf_puts(&text, "]}");
    assert_int_equal(tw_write_file_atomic(f->state, text.data, text.len, 0600, NULL), 0);
    tw_buf_free(&text);
}

static void test_entries_unseen_for_a_day_are_forgotten_on_save(void **state)
{
    fixture *f = *state;
    uint64_t now = (uint64_t)tw_time_now_ms();
    uint64_t day = 24 * 3600 * 1000ull;
    const uint64_t entries[][4] = {
        {0x1001, 1, 100, now - 2 * day},       /* old, untouched: forgotten */
        {0x1002, 2, 200, now - 3600 * 1000},   /* an hour ago: kept */
        {0x1003, 3, 300, now - 2 * day},       /* old but looked up now: kept */
        {0x1004, 4, 400, now - 2 * day},       /* old, tracked now: kept */
        {0x1005, 5, 500, now - 2 * day},       /* old, lines still in the spool: kept */
        {0x1006, 6, 600, now - day + 60000},   /* a minute short of a day: kept */
    };
    write_state(f, entries, 6);
    tw_checkpoint *cp = open_cp(f);
    seen_list l = {0};
    tw_checkpoint_each(cp, collect_entry, &l);
    assert_int_equal(l.n, 6);
    assert_string_equal(find_seen(&l, 0x1004)->path, "/f3.log");
    assert_int_equal(find_seen(&l, 0x1006)->resume, 600);
    tw_tracked_file got;
    uint64_t resume;
    assert_true(tw_checkpoint_lookup(cp, 7, 3, &got, &resume));
    assert_int_equal(got.key, 0x1003);
    assert_int_equal(resume, 300);
    tw_file_identity id4 = fake_id(7, 4, 0, 0);
    assert_int_equal(tw_checkpoint_track(cp, &id4, "/f3.log", 0), 0x1004);
    tw_tracked_file t5 = {0x1005, fake_id(7, 5, 0, 0)};
    tw_checkpoint_note_spooled(cp, &t5, 550);
    tw_tracked_file t2 = {0x1002, fake_id(7, 2, 0, 0)};
    tw_checkpoint_note_acked(cp, &t2, 250); /* something to save */
    save_cp(cp);
    tw_checkpoint_close(cp);

    assert_int_equal(saved_offset(f, 0x1001), -1);
    assert_int_equal(saved_offset(f, 0x1002), 250);
    assert_int_equal(saved_offset(f, 0x1003), 300);
    assert_int_equal(saved_offset(f, 0x1004), 400);
    assert_int_equal(saved_offset(f, 0x1005), 500);
    assert_int_equal(saved_offset(f, 0x1006), 600);
    cp = open_cp(f);
    assert_false(tw_checkpoint_lookup(cp, 7, 1, &got, &resume));
    tw_checkpoint_close(cp);
}

/* ---- meta ---------------------------------------------------------------------------- */

typedef struct meta_pair {
    tw_tracked_file file;
    uint64_t offset;
} meta_pair;

typedef struct meta_list {
    meta_pair v[8];
    size_t n;
} meta_list;

static void collect_meta(void *ctx, const tw_tracked_file *file, uint64_t offset)
{
    meta_list *l = ctx;
    assert_true(l->n < 8);
    l->v[l->n++] = (meta_pair){*file, offset};
}

static void test_meta_round_trips_and_refuses_garbage(void **state)
{
    (void)state;
    tw_tracked_file a = {0x0102030405060708ull, fake_id(0xFFFFFFFFFFFFFFFFull, 42, 1024,
                                                        0x8877665544332211ull)};
    tw_tracked_file b = {1, fake_id(0, 0, 0, 0)};
    tw_buf meta = TW_BUF_INIT;
    tw_checkpoint_meta_add(&meta, &a, 0xFFFFFFFFFFFFFFFEull);
    tw_checkpoint_meta_add(&meta, &b, 0);
    meta_list l = {0};
    assert_int_equal(tw_checkpoint_meta_each(meta.data, meta.len, collect_meta, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].file.key, a.key);
    assert_int_equal(l.v[0].file.id.dev, a.id.dev);
    assert_int_equal(l.v[0].file.id.ino, a.id.ino);
    assert_int_equal(l.v[0].file.id.fp_len, a.id.fp_len);
    assert_int_equal(l.v[0].file.id.fp_hash, a.id.fp_hash);
    assert_int_equal(l.v[0].offset, 0xFFFFFFFFFFFFFFFEull);
    assert_int_equal(l.v[1].file.key, 1);
    assert_int_equal(l.v[1].offset, 0);

    /* Nothing at all is fine: a request without file positions. */
    l.n = 0;
    assert_int_equal(tw_checkpoint_meta_each("", 0, collect_meta, &l), 0);
    assert_int_equal(l.n, 0);

    /* A cut entry, a zero key, an impossible fingerprint length: refused
     * whole, nothing called (not even for the good first pair). */
    size_t one = meta.len / 2;
    for (size_t len = 1; len < meta.len; len++) {
        if (len == one)
            continue;
        assert_int_equal(tw_checkpoint_meta_each(meta.data, len, collect_meta, &l), -EINVAL);
    }
    tw_buf bad = TW_BUF_INIT;
    tw_buf_append(&bad, meta.data, meta.len);
    memset(bad.data + one, 0, 8); /* second key = 0 */
    assert_int_equal(tw_checkpoint_meta_each(bad.data, bad.len, collect_meta, &l), -EINVAL);
    tw_buf_reset(&bad);
    tw_buf_append(&bad, meta.data, meta.len);
    tw_tracked_file c = b;
    c.id.fp_len = TW_FINGERPRINT_MAX + 1;
    tw_buf_reset(&bad);
    tw_buf_append(&bad, meta.data, one);
    tw_checkpoint_meta_add(&bad, &c, 5);
    assert_int_equal(tw_checkpoint_meta_each(bad.data, bad.len, collect_meta, &l), -EINVAL);
    assert_int_equal(l.n, 0);
    tw_buf_free(&bad);
    tw_buf_free(&meta);
}

/* ---- threads ------------------------------------------------------------------------- */

typedef struct saver {
    const fixture *f;
    tw_checkpoint *cp;
    tw_tracked_file file;
    atomic_uint_fast64_t *counter;
    int failures;
    char why[256];
} saver;

/* What the outbox does on its worker: note an ack, save (before_ack), and
 * rely on the file holding it when the save returns. */
static void *save_loop(void *arg)
{
    saver *s = arg;
    for (int i = 0; i < 150 && s->failures == 0; i++) {
        uint64_t v = atomic_fetch_add(s->counter, 1) + 1;
        tw_checkpoint_note_acked(s->cp, &s->file, v);
        tw_err err = {""};
        int rc = tw_checkpoint_save(s->cp, &err);
        if (rc != 0) {
            s->failures++;
            snprintf(s->why, sizeof s->why, "save: %s", err.msg);
            break;
        }
        tw_buf text = TW_BUF_INIT;
        json_t *root = NULL;
        if (tw_read_file(s->f->state, 1 << 20, &text, NULL) == 0)
            root = json_loadb(text.data, text.len, 0, NULL);
        json_t *e = root ? json_array_get(json_object_get(root, "files"), 0) : NULL;
        json_int_t on_disk = e ? json_integer_value(json_object_get(e, "offset")) : -1;
        if ((uint64_t)on_disk < v || on_disk < 0) {
            s->failures++;
            snprintf(s->why, sizeof s->why,
                     "ack %" PRIu64 " noted, save returned, file says %lld (%.80s)", v,
                     (long long)on_disk, text.data ? text.data : "");
        }
        json_decref(root);
        tw_buf_free(&text);
    }
    return NULL;
}

static void test_a_save_that_returns_has_written_every_earlier_ack(void **state)
{
    fixture *f = *state;
    tw_checkpoint *cp = open_cp(f);
    tw_file_identity id = fake_id(1, 1, 0, 0);
    tw_tracked_file file = {tw_checkpoint_track(cp, &id, "/c.log", 0), id};
    save_cp(cp);
    atomic_uint_fast64_t counter = 0;
    enum { N = 4 };
    saver s[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        s[i] = (saver){.f = f, .cp = cp, .file = file, .counter = &counter};
        assert_int_equal(pthread_create(&th[i], NULL, save_loop, &s[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (s[i].failures) {
            print_message("thread %d: %s\n", i, s[i].why);
            failures++;
        }
    }
    tw_checkpoint_close(cp);
    assert_int_equal(failures, 0);
    assert_int_equal(saved_offset(f, file.key), (int64_t)atomic_load(&counter));
}

int main(void)
{
    tw_log_init("test_checkpoint", (tw_log_level)(TW_LOG_ERROR - 1)); /* damage is expected */
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_identity_is_device_inode_and_hash_of_the_first_bytes),
        T(test_identity_stops_matching_after_truncation_rewrite_or_another_inode),
        T(test_a_missing_file_starts_empty_and_nothing_is_written_for_nothing),
        T(test_positions_survive_save_and_reopen),
        T(test_64_bit_inode_and_device_numbers_round_trip),
        T(test_save_is_atomic_and_a_failed_save_is_retried),
        T(test_a_damaged_file_is_moved_aside_and_the_checkpoint_starts_empty),
        T(test_acked_and_spooled_are_high_water_marks),
        T(test_spooled_positions_of_an_unknown_file_make_its_entry),
        T(test_a_growing_fingerprint_keeps_the_key),
        T(test_forget_removes_the_entry_for_good),
        T(test_entries_unseen_for_a_day_are_forgotten_on_save),
        T(test_meta_round_trips_and_refuses_garbage),
        T(test_a_save_that_returns_has_written_every_earlier_ack),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
