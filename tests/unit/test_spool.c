/* test_spool.c — the on-disk spool: order, acknowledgements, restarts,
 * segments, the size cap, damage (torn tails, bit flips, foreign files), and a
 * real kill -9 of a process appending with fsync=always. Real files in a
 * private temporary directory per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "spool.h"
#include "testutil.h"
#include "timefmt.h"

typedef struct fixture {
    char root[256];
    char dir[300]; /* the spool directory (created by tw_spool_open) */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tw_test_mkdtemp(f->root, sizeof f->root, "spool") != 0)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/spool", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tw_test_rm_rf(f->root);
    free(f);
    return rc;
}

/* ---- helpers ------------------------------------------------------------ */

static tw_spool *open_spool(const char *dir, uint64_t max_bytes, uint64_t segment_bytes,
                            tw_spool_recovery *recovery)
{
    tw_spool_options options = {max_bytes, segment_bytes, TW_SPOOL_FSYNC_NEVER};
    tw_spool *s = NULL;
    tw_err err = {""};
    int rc = tw_spool_open(dir, &options, &s, recovery, &err);
    if (rc != 0)
        print_error("tw_spool_open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return s;
}

/* The payload a test stores for seed: len bytes anyone can recompute. */
static void fill(unsigned char *p, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)x;
    }
}

static uint64_t append(tw_spool *s, size_t len, uint64_t seed)
{
    unsigned char *p = malloc(len + 1);
    fill(p, len, seed);
    uint64_t id = 0;
    tw_err err = {""};
    int rc = tw_spool_append(s, p, len, &id, NULL, &err);
    if (rc != 0)
        print_error("tw_spool_append: %s\n", err.msg);
    assert_int_equal(rc, 0);
    free(p);
    return id;
}

static void expect_record(tw_spool *s, tw_spool_cursor *cursor, uint64_t want_id, size_t len,
                          uint64_t seed)
{
    tw_buf payload = TW_BUF_INIT;
    uint64_t id = 0;
    tw_err err = {""};
    int rc = tw_spool_read(s, cursor, &id, &payload, &err);
    if (rc != 0)
        print_error("tw_spool_read: %d %s\n", rc, err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(id, want_id);
    assert_int_equal(payload.len, len);
    unsigned char *want = malloc(len + 1);
    fill(want, len, seed);
    assert_memory_equal(payload.data, want, len);
    free(want);
    tw_buf_free(&payload);
}

static void expect_end(tw_spool *s, tw_spool_cursor *cursor)
{
    tw_buf payload = TW_BUF_INIT;
    uint64_t id = 0;
    assert_int_equal(tw_spool_read(s, cursor, &id, &payload, NULL), -ENOENT);
    tw_buf_free(&payload);
}

static void segment_file(const char *dir, uint64_t name_id, char *out, size_t size)
{
    snprintf(out, size, "%s/%016" PRIx64 ".seg", dir, name_id);
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len == 20 && strcmp(de->d_name + 16, ".seg") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void flip_bit(const char *path, off_t offset, int bit)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, offset), 1);
    c ^= (unsigned char)(1u << bit);
    assert_int_equal(pwrite(fd, &c, 1, offset), 1);
    close(fd);
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    tw_buf b = TW_BUF_INIT;
    assert_int_equal(tw_read_file(path, 64u << 20, &b, NULL), 0);
    *len = b.len;
    return (unsigned char *)tw_buf_steal(&b);
}

/* ---- order and acknowledgements ---------------------------------------- */

static void test_append_then_read_returns_records_in_id_order_with_their_bytes(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    size_t sizes[] = {10, 0, 70000, 1, 300};
    for (uint64_t i = 0; i < 5; i++)
        assert_int_equal(append(s, sizes[i], i + 1), i + 1);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    for (uint64_t i = 0; i < 5; i++)
        expect_record(s, &cursor, i + 1, sizes[i], i + 1);
    expect_end(s, &cursor);
    /* Later appends continue where the cursor stopped. */
    assert_int_equal(append(s, 5, 6), 6);
    expect_record(s, &cursor, 6, 5, 6);
    expect_end(s, &cursor);
    tw_spool_close(s);
}

static void test_acks_in_any_order_hide_records_and_are_idempotent(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    for (uint64_t i = 1; i <= 5; i++)
        append(s, 100, i);
    assert_int_equal(tw_spool_ack(s, 4), 0);
    assert_int_equal(tw_spool_ack(s, 2), 0);
    assert_int_equal(tw_spool_ack(s, 2), -ENOENT); /* again: a no-op */
    assert_int_equal(tw_spool_ack(s, 999), -ENOENT);
    assert_int_equal(tw_spool_ack(s, 0), -ENOENT);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    expect_record(s, &cursor, 1, 100, 1);
    expect_record(s, &cursor, 3, 100, 3);
    expect_record(s, &cursor, 5, 100, 5);
    expect_end(s, &cursor);
    tw_spool_stats stats;
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.pending_records, 3);
    assert_int_equal(stats.pending_bytes, 3 * (100 + TW_SPOOL_RECORD_OVERHEAD));
    assert_int_equal(stats.acked_records, 2);
    assert_int_equal(stats.next_id, 6);
    tw_spool_close(s);
}

static void test_reopen_resumes_the_unacknowledged_records(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    for (uint64_t i = 1; i <= 6; i++)
        append(s, 50 * i, i);
    assert_int_equal(tw_spool_ack(s, 2), 0);
    assert_int_equal(tw_spool_ack(s, 1), 0);
    assert_int_equal(tw_spool_ack(s, 3), 0);
    assert_int_equal(tw_spool_ack(s, 5), 0); /* beyond the first unacknowledged one */
    tw_spool_close(s);

    tw_spool_recovery recovery;
    s = open_spool(f->dir, 0, 0, &recovery);
    assert_int_equal(recovery.records, 6);
    /* 4 and 6 were never acknowledged; 5 comes back because only the
     * acknowledged prefix (1..3) is remembered across a restart. */
    assert_int_equal(recovery.pending, 3);
    assert_int_equal(recovery.corrupt_records + recovery.torn_bytes, 0);
    tw_buf_free(&recovery.messages);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    expect_record(s, &cursor, 4, 200, 4);
    expect_record(s, &cursor, 5, 250, 5);
    expect_record(s, &cursor, 6, 300, 6);
    expect_end(s, &cursor);
    assert_int_equal(append(s, 1, 7), 7);
    tw_spool_close(s);
}

/* Group commit: deferred appends across segment boundaries, one sync, and
 * acknowledgements in one call: the same records come back after a
 * reopen as with one fdatasync per append. */
static void test_deferred_sync_and_ack_many_keep_every_record(void **state)
{
    fixture *f = *state;
    tw_spool_options options = {0, 4096, TW_SPOOL_FSYNC_ALWAYS};
    tw_spool *s = NULL;
    tw_err err = {""};
    assert_int_equal(tw_spool_open(f->dir, &options, &s, NULL, &err), 0);
    tw_spool_defer_sync(s);
    for (uint64_t i = 1; i <= 12; i++)
        append(s, 1000, i); /* 1,032 bytes each: four segments */
    assert_int_equal(tw_spool_sync(s, &err), 0);
    uint64_t ids[] = {1, 2, 3, 5, 99};
    assert_int_equal(tw_spool_ack_many(s, ids, 5), 4); /* 99 never existed */
    assert_int_equal(tw_spool_ack_many(s, ids, 5), 0); /* idempotent */
    tw_spool_stats st;
    tw_spool_stats_get(s, &st);
    assert_int_equal(st.pending_records, 8);
    assert_int_equal(st.acked_records, 4);
    tw_spool_close(s);

    tw_spool_recovery recovery;
    s = open_spool(f->dir, 0, 4096, &recovery);
    /* Acknowledged prefix 1..3 is remembered; 4..12 are read again. */
    assert_int_equal(recovery.pending, 9);
    tw_buf_free(&recovery.messages);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    for (uint64_t i = 4; i <= 12; i++)
        expect_record(s, &cursor, i, 1000, i);
    expect_end(s, &cursor);
    tw_spool_close(s);
}

static void test_ids_keep_growing_after_everything_was_acknowledged(void **state)
{
    fixture *f = *state;
    /* Two records per segment, so acknowledging deletes whole segments. */
    uint64_t seg = 2 * (100 + TW_SPOOL_RECORD_OVERHEAD);
    tw_spool *s = open_spool(f->dir, 0, seg, NULL);
    for (uint64_t i = 1; i <= 7; i++)
        append(s, 100, i);
    for (uint64_t i = 7; i >= 1; i--)
        assert_int_equal(tw_spool_ack(s, i), 0);
    /* Only the segment being written stays (it remembers the last id). */
    assert_int_equal(count_segments(f->dir), 1);
    tw_spool_close(s);

    tw_spool_recovery recovery;
    s = open_spool(f->dir, 0, seg, &recovery);
    assert_int_equal(recovery.pending, 0);
    tw_buf_free(&recovery.messages);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    expect_end(s, &cursor);
    assert_int_equal(append(s, 100, 8), 8);
    expect_record(s, &cursor, 8, 100, 8);
    tw_spool_close(s);
}

/* ---- segments and the cap ----------------------------------------------- */

static void test_segments_roll_over_and_go_once_every_record_is_acknowledged(void **state)
{
    fixture *f = *state;
    uint64_t record = 1000 + TW_SPOOL_RECORD_OVERHEAD;
    tw_spool *s = open_spool(f->dir, 0, 3 * record, NULL);
    for (uint64_t i = 1; i <= 10; i++)
        append(s, 1000, i);
    char path[400];
    uint64_t names[] = {1, 4, 7, 10};
    for (int i = 0; i < 4; i++) {
        segment_file(f->dir, names[i], path, sizeof path);
        assert_true(exists(path));
        assert_int_equal(file_size(path), i < 3 ? 3 * record : record);
    }
    assert_int_equal(count_segments(f->dir), 4);

    segment_file(f->dir, 1, path, sizeof path);
    assert_int_equal(tw_spool_ack(s, 3), 0);
    assert_int_equal(tw_spool_ack(s, 1), 0);
    assert_true(exists(path)); /* record 2 is still pending */
    assert_int_equal(tw_spool_ack(s, 2), 0);
    assert_false(exists(path));

    segment_file(f->dir, 7, path, sizeof path);
    for (uint64_t i = 7; i <= 9; i++)
        assert_int_equal(tw_spool_ack(s, i), 0);
    assert_false(exists(path)); /* deleted although 4..6 are still pending */

    segment_file(f->dir, 10, path, sizeof path);
    assert_int_equal(tw_spool_ack(s, 10), 0);
    assert_true(exists(path)); /* the segment being written stays */
    assert_int_equal(count_segments(f->dir), 2);

    tw_spool_stats stats;
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.pending_records, 3);
    assert_int_equal(stats.disk_bytes, 4 * record);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    for (uint64_t i = 4; i <= 6; i++)
        expect_record(s, &cursor, i, 1000, i);
    expect_end(s, &cursor);
    tw_spool_close(s);
}

static void test_a_full_spool_drops_the_oldest_segments_and_counts_them(void **state)
{
    fixture *f = *state;
    uint64_t record = 1000 + TW_SPOOL_RECORD_OVERHEAD;
    /* Segments of 2 records, room for 3 segments. */
    tw_spool *s = open_spool(f->dir, 6 * record, 2 * record, NULL);
    unsigned char data[1000];
    tw_spool_dropped dropped, total = {0};
    for (uint64_t i = 1; i <= 10; i++) {
        fill(data, sizeof data, i);
        uint64_t id;
        assert_int_equal(tw_spool_append(s, data, sizeof data, &id, &dropped, NULL), 0);
        assert_int_equal(id, i);
        if (dropped.records > 0) {
            if (total.records == 0)
                total.first_id = dropped.first_id;
            total.last_id = dropped.last_id;
        }
        total.records += dropped.records;
        total.bytes += dropped.bytes;
    }
    /* 7 and 9 started segments that needed room: 1-2, then 3-4 went. */
    assert_int_equal(total.records, 4);
    assert_int_equal(total.bytes, 4 * record);
    assert_int_equal(total.first_id, 1);
    assert_int_equal(total.last_id, 4);
    tw_spool_stats stats;
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.dropped_records, 4);
    assert_int_equal(stats.dropped_bytes, 4 * record);
    assert_int_equal(stats.pending_records, 6);
    assert_true(stats.disk_bytes <= 6 * record);
    assert_int_equal(tw_spool_ack(s, 2), -ENOENT); /* dropped: a no-op */
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    for (uint64_t i = 5; i <= 10; i++)
        expect_record(s, &cursor, i, 1000, i);
    expect_end(s, &cursor);
    tw_spool_close(s);
}

static void test_acknowledged_segments_are_not_counted_as_dropped(void **state)
{
    fixture *f = *state;
    uint64_t record = 1000 + TW_SPOOL_RECORD_OVERHEAD;
    tw_spool *s = open_spool(f->dir, 4 * record, 2 * record, NULL);
    for (uint64_t i = 1; i <= 4; i++)
        append(s, 1000, i);
    assert_int_equal(tw_spool_ack(s, 1), 0);
    unsigned char data[1000] = {0};
    tw_spool_dropped dropped;
    assert_int_equal(tw_spool_append(s, data, sizeof data, NULL, &dropped, NULL), 0);
    /* Segment 1-2 went to make room, but only 2 was still unacknowledged. */
    assert_int_equal(dropped.records, 1);
    assert_int_equal(dropped.first_id, 2);
    assert_int_equal(dropped.last_id, 2);
    tw_spool_close(s);
}

static void test_a_cap_below_one_segment_keeps_only_the_newest_record(void **state)
{
    fixture *f = *state;
    uint64_t record = 1000 + TW_SPOOL_RECORD_OVERHEAD;
    tw_spool *s = open_spool(f->dir, record + record / 2, 0, NULL);
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(append(s, 1000, i), i);
    tw_spool_stats stats;
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.dropped_records, 4);
    assert_int_equal(stats.pending_records, 1);
    assert_int_equal(count_segments(f->dir), 1);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    expect_record(s, &cursor, 5, 1000, 5);
    expect_end(s, &cursor);
    tw_spool_close(s);
}

static void test_a_record_larger_than_the_cap_is_refused_with_a_clear_error(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 1000, 0, NULL);
    unsigned char data[2000] = {0};
    tw_err err;
    uint64_t id = 77;
    assert_int_equal(tw_spool_append(s, data, sizeof data, &id, NULL, &err), -EFBIG);
    assert_int_equal(id, 77);
    assert_non_null(strstr(err.msg, "2032 bytes"));
    assert_non_null(strstr(err.msg, "max_bytes of 1000 bytes"));
    assert_non_null(strstr(err.msg, f->dir));
    /* The spool is still usable. */
    assert_int_equal(append(s, 10, 1), 1);
    tw_spool_close(s);
}

static void test_a_record_over_the_record_limit_is_refused(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    size_t len = TW_SPOOL_MAX_RECORD_BYTES + 1;
    unsigned char *data = calloc(1, len);
    tw_err err;
    assert_int_equal(tw_spool_append(s, data, len, NULL, NULL, &err), -EMSGSIZE);
    assert_non_null(strstr(err.msg, "larger than"));
    assert_int_equal(tw_spool_append(s, data, len - 1, NULL, NULL, &err), 0);
    free(data);
    tw_spool_close(s);
}

static void test_bad_options_are_refused(void **state)
{
    fixture *f = *state;
    tw_spool_options options = {0, TW_SPOOL_MAX_SEGMENT_BYTES + 1, TW_SPOOL_FSYNC_ALWAYS};
    tw_spool *s = NULL;
    tw_err err;
    assert_int_equal(tw_spool_open(f->dir, &options, &s, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "segment_bytes"));
    assert_null(s);
}

static void test_a_second_open_of_the_same_directory_is_refused(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    tw_spool *again = NULL;
    tw_err err;
    assert_int_equal(tw_spool_open(f->dir, NULL, &again, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "in use"));
    tw_spool_close(s);
    again = open_spool(f->dir, 0, 0, NULL);
    tw_spool_close(again);
}

static void test_the_directory_is_private(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    struct stat st;
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    tw_spool_close(s);
}

static void test_stats_show_pending_bytes_and_the_oldest_append_time(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    tw_spool_stats stats;
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.pending_records, 0);
    assert_int_equal(stats.oldest_pending_ms, 0);
    int64_t before = tw_time_now_ms();
    append(s, 10, 1);
    int64_t after = tw_time_now_ms();
    append(s, 20, 2);
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.pending_records, 2);
    assert_int_equal(stats.pending_bytes, 30 + 2 * TW_SPOOL_RECORD_OVERHEAD);
    assert_true(stats.oldest_pending_ms >= before && stats.oldest_pending_ms <= after);
    assert_int_equal(stats.appended_records, 2);
    tw_spool_ack(s, 1);
    tw_spool_stats_get(s, &stats);
    assert_true(stats.oldest_pending_ms >= before); /* now record 2's time */
    tw_spool_ack(s, 2);
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.oldest_pending_ms, 0);
    assert_int_equal(stats.pending_bytes, 0);
    tw_spool_close(s);
}

/* ---- damage ----------------------------------------------------------------- */

/* Writes records of 100, 200 and 300 bytes and returns the segment's bytes. */
static unsigned char *three_records(const fixture *f, size_t *len)
{
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    append(s, 100, 1);
    append(s, 200, 2);
    append(s, 300, 3);
    tw_spool_close(s);
    char path[400];
    segment_file(f->dir, 1, path, sizeof path);
    return read_whole(path, len);
}

static void reset_spool_dir(const fixture *f, const unsigned char *segment, size_t len)
{
    assert_int_equal(tw_test_rm_rf(f->dir), 0);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    char path[400];
    segment_file(f->dir, 1, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, segment, len), (ssize_t)len);
    close(fd);
}

static void test_a_torn_tail_at_every_offset_is_truncated_and_earlier_records_kept(void **state)
{
    fixture *f = *state;
    size_t len;
    unsigned char *segment = three_records(f, &len);
    size_t last = 2 * TW_SPOOL_RECORD_OVERHEAD + 300;
    assert_int_equal(len, last + TW_SPOOL_RECORD_OVERHEAD + 300);
    char path[400];
    segment_file(f->dir, 1, path, sizeof path);
    for (size_t cut = last; cut < len; cut++) {
        reset_spool_dir(f, segment, cut);
        tw_spool_recovery recovery;
        tw_spool *s = open_spool(f->dir, 0, 0, &recovery);
        assert_int_equal(recovery.records, 2);
        assert_int_equal(recovery.torn_bytes, cut - last);
        assert_int_equal(recovery.corrupt_records, 0);
        if (cut > last)
            assert_non_null(strstr(tw_buf_cstr(&recovery.messages), path));
        tw_buf_free(&recovery.messages);
        assert_int_equal(file_size(path), last);
        tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
        expect_record(s, &cursor, 1, 100, 1);
        expect_record(s, &cursor, 2, 200, 2);
        expect_end(s, &cursor);
        /* Appends go on cleanly after the cut. */
        assert_int_equal(append(s, 30, 3), 3);
        tw_spool_close(s);
        s = open_spool(f->dir, 0, 0, &recovery);
        assert_int_equal(recovery.records, 3);
        assert_int_equal(recovery.torn_bytes, 0);
        tw_buf_free(&recovery.messages);
        tw_spool_close(s);
    }
    free(segment);
}

static void test_a_bit_flip_anywhere_in_a_middle_record_skips_only_that_record(void **state)
{
    fixture *f = *state;
    size_t len;
    unsigned char *segment = three_records(f, &len);
    size_t start = TW_SPOOL_RECORD_OVERHEAD + 100, end = start + TW_SPOOL_RECORD_OVERHEAD + 200;
    char path[400], where[64];
    segment_file(f->dir, 1, path, sizeof path);
    snprintf(where, sizeof where, "offset %zu:", start);
    for (size_t offset = start; offset < end; offset++) {
        reset_spool_dir(f, segment, len);
        flip_bit(path, (off_t)offset, (int)(offset % 8));
        tw_spool_recovery recovery;
        tw_spool *s = open_spool(f->dir, 0, 0, &recovery);
        assert_int_equal(recovery.records, 2);
        assert_int_equal(recovery.corrupt_records, 1);
        assert_int_equal(recovery.corrupt_bytes, end - start);
        assert_int_equal(recovery.torn_bytes, 0);
        const char *text = tw_buf_cstr(&recovery.messages);
        assert_non_null(strstr(text, path));
        assert_non_null(strstr(text, where));
        assert_non_null(strstr(text, "records 2..2 are lost"));
        tw_buf_free(&recovery.messages);
        tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
        expect_record(s, &cursor, 1, 100, 1);
        expect_record(s, &cursor, 3, 300, 3);
        expect_end(s, &cursor);
        tw_spool_stats stats;
        tw_spool_stats_get(s, &stats);
        assert_int_equal(stats.corrupt_records, 1);
        assert_int_equal(stats.pending_records, 2);
        assert_int_equal(append(s, 5, 4), 4);
        tw_spool_close(s);
    }
    free(segment);
}

static void test_damage_that_appears_after_opening_is_skipped_when_read(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    append(s, 100, 1);
    append(s, 200, 2);
    append(s, 300, 3);
    char path[400];
    segment_file(f->dir, 1, path, sizeof path);
    flip_bit(path, 2 * TW_SPOOL_RECORD_OVERHEAD + 100 + 50, 3);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    expect_record(s, &cursor, 1, 100, 1);
    expect_record(s, &cursor, 3, 300, 3);
    expect_end(s, &cursor);
    tw_spool_stats stats;
    tw_spool_stats_get(s, &stats);
    assert_int_equal(stats.corrupt_records, 1);
    assert_int_equal(stats.pending_records, 2);
    assert_int_equal(tw_spool_ack(s, 2), -ENOENT);
    tw_spool_close(s);
}

static void test_files_that_are_not_ours_are_reported_and_left_alone(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(f->dir, 0700), 0);
    const char *names[] = {"notes.txt", "1.seg", "0000000000000001.seg.bak", "subdir"};
    char path[400];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, names[i]);
        tw_test_write_file(path, "not a spool file\n");
    }
    snprintf(path, sizeof path, "%s/subdir", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    tw_spool_recovery recovery;
    tw_spool *s = open_spool(f->dir, 0, 1, &recovery);
    assert_int_equal(recovery.ignored_files, 4);
    for (int i = 0; i < 4; i++)
        assert_non_null(strstr(tw_buf_cstr(&recovery.messages), names[i]));
    tw_buf_free(&recovery.messages);
    /* One record per segment: appends and acks create and delete segments. */
    for (uint64_t i = 1; i <= 3; i++)
        append(s, 10, i);
    for (uint64_t i = 1; i <= 3; i++)
        tw_spool_ack(s, i);
    tw_spool_close(s);
    s = open_spool(f->dir, 0, 1, NULL);
    tw_spool_close(s);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, names[i]);
        assert_true(exists(path));
    }
}

static void test_a_damaged_state_file_means_every_record_is_sent_again(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    for (uint64_t i = 1; i <= 3; i++)
        append(s, 10, i);
    tw_spool_ack(s, 1);
    tw_spool_ack(s, 2);
    tw_spool_close(s);
    char path[400];
    snprintf(path, sizeof path, "%s/state", f->dir);
    size_t len;
    unsigned char *text = read_whole(path, &len);
    assert_non_null(strstr((char *)text, "acked_through=2"));
    free(text);
    tw_test_write_file(path, "trailwatch-spool-state 1 acked_through=3 crc32=00000000\n");
    tw_spool_recovery recovery;
    s = open_spool(f->dir, 0, 0, &recovery);
    assert_int_equal(recovery.pending, 3);
    assert_non_null(strstr(tw_buf_cstr(&recovery.messages), "state is damaged"));
    tw_buf_free(&recovery.messages);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    for (uint64_t i = 1; i <= 3; i++)
        expect_record(s, &cursor, i, 10, i);
    tw_spool_close(s);
    /* It was rewritten: the next start does not complain again. */
    s = open_spool(f->dir, 0, 0, &recovery);
    assert_null(strstr(tw_buf_cstr(&recovery.messages), "state"));
    tw_buf_free(&recovery.messages);
    tw_spool_close(s);
}

static void test_an_empty_segment_left_by_a_crash_while_rolling_over_is_fine(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    append(s, 10, 1);
    append(s, 10, 2);
    tw_spool_close(s);
    char path[400];
    segment_file(f->dir, 3, path, sizeof path);
    tw_test_write_file(path, "");
    tw_spool_recovery recovery;
    s = open_spool(f->dir, 0, 0, &recovery);
    assert_int_equal(recovery.pending, 2);
    assert_int_equal(recovery.segments, 2);
    tw_buf_free(&recovery.messages);
    assert_int_equal(append(s, 10, 3), 3);
    assert_int_equal(file_size(path), 10 + TW_SPOOL_RECORD_OVERHEAD);
    tw_spool_close(s);
}

/* With fsync=never a power loss can keep the state (acknowledged through 10)
 * but lose the segment's last records: ids then resume after 10, and the record
 * appended next must not look like damage to the following open. */
static void test_records_after_a_lost_segment_tail_survive_the_next_open(void **state)
{
    fixture *f = *state;
    tw_spool *s = open_spool(f->dir, 0, 0, NULL);
    for (uint64_t i = 1; i <= 10; i++)
        append(s, 100, i);
    for (uint64_t i = 1; i <= 10; i++)
        tw_spool_ack(s, i);
    tw_spool_close(s);
    char path[400];
    segment_file(f->dir, 1, path, sizeof path);
    assert_int_equal(truncate(path, 100 + TW_SPOOL_RECORD_OVERHEAD), 0);
    s = open_spool(f->dir, 0, 0, NULL);
    assert_int_equal(append(s, 100, 11), 11);
    tw_spool_close(s);
    tw_spool_recovery recovery;
    s = open_spool(f->dir, 0, 0, &recovery);
    assert_int_equal(recovery.corrupt_records + recovery.torn_bytes, 0);
    assert_int_equal(recovery.pending, 1);
    tw_buf_free(&recovery.messages);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    expect_record(s, &cursor, 11, 100, 11);
    expect_end(s, &cursor);
    tw_spool_close(s);
}

/* ---- kill -9 ---------------------------------------------------------------- */

typedef struct event {
    char kind; /* 'A': append returned; 'K': about to acknowledge */
    uint64_t id;
} event;

static size_t crash_payload_len(uint64_t id)
{
    return (size_t)((id * 7919) % 60000);
}

static void crash_child(const char *dir, int fd, tw_spool_fsync fsync)
{
    tw_log_set_level(TW_LOG_ERROR);
    tw_spool_options options = {0, 256 * 1024, fsync};
    tw_spool *s;
    if (tw_spool_open(dir, &options, &s, NULL, NULL) != 0)
        _exit(2);
    unsigned char *data = malloc(60000);
    for (;;) {
        uint64_t id = 0;
        tw_spool_stats stats;
        tw_spool_stats_get(s, &stats);
        size_t len = crash_payload_len(stats.next_id);
        fill(data, len, stats.next_id);
        if (tw_spool_append(s, data, len, &id, NULL, NULL) != 0)
            _exit(3);
        event e = {'A', id};
        if (write(fd, &e, sizeof e) != sizeof e)
            _exit(4);
        if (id % 3 == 0) { /* acknowledge out of order, behind the head */
            e = (event){'K', id - 1};
            if (write(fd, &e, sizeof e) != sizeof e)
                _exit(4);
            tw_spool_ack(s, id - 1);
        }
    }
}

static void crash_round(const fixture *f, unsigned round, unsigned delay_ms, tw_spool_fsync fsync)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/crash-%u", f->root, round);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(dir, fds[1], fsync);
    }
    close(fds[1]);
    size_t cap = 1024, n = 0;
    event *events = malloc(cap * sizeof *events);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool killed = false;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (!killed && elapsed >= (long)delay_ms) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        poll(&p, 1, killed ? 1000 : 5);
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        if (n == cap)
            events = realloc(events, (cap *= 2) * sizeof *events);
        ssize_t got = read(fds[0], &events[n], sizeof *events);
        if (got == 0)
            break;
        assert_int_equal(got, sizeof *events);
        n++;
    }
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    uint64_t last_appended = 0;
    size_t max_id = 1;
    for (size_t i = 0; i < n; i++)
        if (events[i].kind == 'A' && events[i].id > last_appended)
            last_appended = events[i].id;
    max_id = (size_t)last_appended + 2;
    char *expected = calloc(max_id, 1); /* 1: must be there, 2: may be there */
    for (size_t i = 0; i < n; i++)
        if (events[i].kind == 'A')
            expected[events[i].id] = 1;
    for (size_t i = 0; i < n; i++)
        if (events[i].kind == 'K')
            expected[events[i].id] = 2;
    expected[last_appended + 1] = 2; /* the append in progress when killed */

    tw_spool_recovery recovery;
    tw_spool *s = open_spool(dir, 0, 256 * 1024, &recovery);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    tw_buf payload = TW_BUF_INIT;
    uint64_t id, previous = 0;
    size_t found = 0;
    while (tw_spool_read(s, &cursor, &id, &payload, NULL) == 0) {
        assert_true(id > previous);
        assert_true(id < max_id && expected[id] != 0);
        size_t len = crash_payload_len(id);
        unsigned char *want = malloc(len + 1);
        fill(want, len, id);
        assert_int_equal(payload.len, len);
        assert_memory_equal(payload.data, want, len);
        free(want);
        if (expected[id] == 1)
            found++;
        expected[id] = 0;
        previous = id;
    }
    size_t missing = 0;
    for (size_t i = 0; i < max_id; i++)
        if (expected[i] == 1)
            missing++;
    if (missing > 0 || getenv("TW_TEST_VERBOSE"))
        print_message("crash round %u (fsync=%s) after %u ms: %" PRIu64 " appends returned, "
                      "%zu found, %zu missing, %" PRIu64 " torn bytes\n",
                      round, fsync == TW_SPOOL_FSYNC_ALWAYS ? "always" : "never", delay_ms,
                      last_appended, found, missing, recovery.torn_bytes);
    assert_int_equal(missing, 0);
    assert_int_equal(recovery.corrupt_records, 0);
    assert_true(last_appended > 0);
    tw_buf_free(&recovery.messages);
    tw_buf_free(&payload);
    tw_spool_close(s);
    free(expected);
    free(events);
}

static void test_kill_9_at_a_random_moment_loses_no_record_whose_append_returned(void **state)
{
    fixture *f = *state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (unsigned round = 0; round < 8; round++)
        crash_round(f, round, 100 + (unsigned)(rand() % 400), TW_SPOOL_FSYNC_ALWAYS);
}

/* Without fsync the child spends its time in write(), so the kill often
 * lands in the middle of an append; the page cache outlives the process. */
static void test_kill_9_without_fsync_loses_no_record_whose_append_returned(void **state)
{
    fixture *f = *state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (unsigned round = 0; round < 6; round++)
        crash_round(f, round, 20 + (unsigned)(rand() % 200), TW_SPOOL_FSYNC_NEVER);
}

int main(void)
{
    tw_log_init("test_spool", TW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_append_then_read_returns_records_in_id_order_with_their_bytes),
        T(test_acks_in_any_order_hide_records_and_are_idempotent),
        T(test_reopen_resumes_the_unacknowledged_records),
        T(test_deferred_sync_and_ack_many_keep_every_record),
        T(test_ids_keep_growing_after_everything_was_acknowledged),
        T(test_segments_roll_over_and_go_once_every_record_is_acknowledged),
        T(test_a_full_spool_drops_the_oldest_segments_and_counts_them),
        T(test_acknowledged_segments_are_not_counted_as_dropped),
        T(test_a_cap_below_one_segment_keeps_only_the_newest_record),
        T(test_a_record_larger_than_the_cap_is_refused_with_a_clear_error),
        T(test_a_record_over_the_record_limit_is_refused),
        T(test_bad_options_are_refused),
        T(test_a_second_open_of_the_same_directory_is_refused),
        T(test_the_directory_is_private),
        T(test_stats_show_pending_bytes_and_the_oldest_append_time),
        T(test_a_torn_tail_at_every_offset_is_truncated_and_earlier_records_kept),
        T(test_a_bit_flip_anywhere_in_a_middle_record_skips_only_that_record),
        T(test_damage_that_appears_after_opening_is_skipped_when_read),
        T(test_files_that_are_not_ours_are_reported_and_left_alone),
        T(test_a_damaged_state_file_means_every_record_is_sent_again),
        T(test_an_empty_segment_left_by_a_crash_while_rolling_over_is_fine),
        T(test_records_after_a_lost_segment_tail_survive_the_next_open),
        T(test_kill_9_at_a_random_moment_loses_no_record_whose_append_returned),
        T(test_kill_9_without_fsync_loses_no_record_whose_append_returned),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
