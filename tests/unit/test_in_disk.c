/* test_in_disk.c — the disk input against /proc/self/mounts snapshots and
 * a fake statvfs: df's arithmetic by hand, pseudo filesystems left out,
 * mounts on top of mounts, escapes, filters, a table that changes, a stale
 * mount and a hung one (the others keep being reported; each is logged
 * once), garbage, and the machine's own mounts. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "in_disk.h"
#include "in_host_sink.h"
#include "log.h"

#define EPS 1e-6

typedef struct fake_fs {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool release;      /* lets a hung /mnt/nfs answer */
    bool stale_fixed;  /* /mnt/stale answers again */
    int hung_returned; /* hung calls that came back */
} fake_fs;

typedef struct fixture {
    host_proc proc;
    host_sink sink;
    tw_in_disk *disk;
    fake_fs fs;
    char log_path[400];
    int saved_stderr;
} fixture;

static void set(struct statvfs *out, unsigned long frsize, fsblkcnt_t blocks, fsblkcnt_t bfree,
                fsblkcnt_t bavail, fsfilcnt_t files, fsfilcnt_t ffree)
{
    out->f_bsize = out->f_frsize = frsize;
    out->f_blocks = blocks;
    out->f_bfree = bfree;
    out->f_bavail = bavail;
    out->f_files = files;
    out->f_ffree = ffree;
}

static int fake_statvfs(void *ctx, const char *path, struct statvfs *out)
{
    fake_fs *fs = ctx;
    memset(out, 0, sizeof *out);
    if (strcmp(path, "/") == 0)
        set(out, 4096, 2000000, 560000, 480000, 1000000, 750000);
    else if (strcmp(path, "/boot/efi") == 0)
        set(out, 512, 200000, 190000, 190000, 0, 0);
    else if (strcmp(path, "/data") == 0)
        set(out, 4096, 1000, 500, 500, 100, 50);
    else if (strcmp(path, "/mnt/my disk") == 0)
        set(out, 1024, 100, 100, 100, 10, 10);
    else if (strcmp(path, "/backup") == 0)
        set(out, 4096, 10, 5, 5, 0, 0);
    else if (strcmp(path, "/mnt/stale") == 0) {
        pthread_mutex_lock(&fs->lock);
        bool fixed = fs->stale_fixed;
        pthread_mutex_unlock(&fs->lock);
        if (!fixed)
            return -ESTALE;
        set(out, 4096, 10, 5, 5, 0, 0);
    } else if (strcmp(path, "/mnt/nfs") == 0) {
        /* A server that went away: the call blocks until the test lets it
         * go (10 s at most, so a broken test cannot hang forever). */
        struct timespec limit;
        clock_gettime(CLOCK_MONOTONIC, &limit);
        limit.tv_sec += 10;
        pthread_mutex_lock(&fs->lock);
        while (!fs->release &&
               pthread_cond_timedwait(&fs->cond, &fs->lock, &limit) != ETIMEDOUT) {
        }
        fs->hung_returned++;
        pthread_mutex_unlock(&fs->lock);
        set(out, 4096, 100, 50, 50, 0, 0);
    }
    return 0; /* anything else: 0 blocks, a pseudo filesystem */
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    host_proc_init(&f->proc, "in-disk");
    host_sink_init(&f->sink);
    pthread_mutex_init(&f->fs.lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&f->fs.cond, &attr);
    pthread_condattr_destroy(&attr);
    f->saved_stderr = -1;
    *state = f;
    return 0;
}

static void release_hung(fixture *f)
{
    pthread_mutex_lock(&f->fs.lock);
    f->fs.release = true;
    pthread_cond_broadcast(&f->fs.cond);
    pthread_mutex_unlock(&f->fs.lock);
}

static int teardown(void **state)
{
    fixture *f = *state;
    release_hung(f);
    tw_in_disk_close(f->disk);
    if (f->saved_stderr >= 0) {
        dup2(f->saved_stderr, 2);
        close(f->saved_stderr);
    }
    host_sink_free(&f->sink);
    host_proc_free(&f->proc);
    pthread_cond_destroy(&f->fs.cond);
    pthread_mutex_destroy(&f->fs.lock);
    free(f);
    return 0;
}

/* Our log lines go to fd 2: catch them in a file. */
static void capture_log(fixture *f)
{
    snprintf(f->log_path, sizeof f->log_path, "%s/log", f->proc.root);
    int fd = open(f->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    f->saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static size_t log_count(const fixture *f, const char *needle)
{
    static char text[16384];
    FILE *fp = fopen(f->log_path, "r");
    assert_non_null(fp);
    size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[len] = '\0';
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void open_disk(fixture *f, tw_in_disk_options *options)
{
    tw_in_disk_options defaults = {0};
    if (options == NULL)
        options = &defaults;
    options->statvfs_fn = fake_statvfs;
    options->statvfs_ctx = &f->fs;
    tw_err err = {{0}};
    int rc = tw_in_disk_open(f->proc.root, NULL, options, &f->disk, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
}

static void collect_ok(fixture *f, int64_t now_ms)
{
    tw_err err = {{0}};
    host_sink_clear(&f->sink);
    int rc = tw_in_disk_collect(f->disk, now_ms, &f->sink.sink, &err);
    if (rc != 0)
        fail_msg("collect: %s", err.msg);
}

static double value(fixture *f, const char *name, const char *unit, const char *path)
{
    return host_value(&f->sink, name, unit, "path", path);
}

static bool has_dims(const host_sample *h, const char *path, const char *device,
                     const char *fstype)
{
    return h->n_dims == 3 && strcmp(h->dim_name[0], "path") == 0 &&
           strcmp(h->dim_value[0], path) == 0 && strcmp(h->dim_name[1], "device") == 0 &&
           strcmp(h->dim_value[1], device) == 0 && strcmp(h->dim_name[2], "fstype") == 0 &&
           strcmp(h->dim_value[2], fstype) == 0;
}

static void test_disk_reports_space_and_inodes_with_df_arithmetic(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "self/mounts");
    open_disk(f, NULL);
    collect_ok(f, 7000); /* gauges: the first collect reports */
    /* /: 2000000 blocks of 4 KiB, 560000 free, 480000 available. */
    assert_float_equal(value(f, "disk_total", "Bytes", "/"), 2000000.0 * 4096, EPS);
    assert_float_equal(value(f, "disk_used", "Bytes", "/"), 1440000.0 * 4096, EPS);
    assert_float_equal(value(f, "disk_free", "Bytes", "/"), 480000.0 * 4096, EPS);
    assert_float_equal(value(f, "disk_used_percent", "Percent", "/"), 75.0, EPS);
    assert_float_equal(value(f, "disk_inodes_total", "Count", "/"), 1000000, EPS);
    assert_float_equal(value(f, "disk_inodes_free", "Count", "/"), 750000, EPS);
    assert_float_equal(value(f, "disk_inodes_used", "Count", "/"), 250000, EPS);
    assert_float_equal(value(f, "disk_used_percent", "Percent", "/boot/efi"), 5.0, EPS);
    assert_float_equal(value(f, "disk_total", "Bytes", "/boot/efi"), 200000.0 * 512, EPS);
    assert_float_equal(value(f, "disk_used_percent", "Percent", "/data"), 50.0, EPS);
    assert_float_equal(value(f, "disk_used_percent", "Percent", "/mnt/my disk"), 0.0, EPS);
    /* Dimensions as the CloudWatch agent sets them, device without /dev/;
     * /data is reported once, for the mount on top (sdc1). */
    assert_true(has_dims(host_sink_find(&f->sink, "disk_total", "path", "/"), "/", "nvme0n1p1",
                         "ext4"));
    assert_true(has_dims(host_sink_find(&f->sink, "disk_total", "path", "/data"), "/data", "sdc1",
                         "ext4"));
    /* Pseudo filesystems (sysfs, tmpfs, squashfs, overlay, autofs...) and
     * the 0-block fuse mount are left out: 4 mounts, 7 samples each. */
    assert_int_equal(f->sink.n, 4 * 7);
    for (size_t i = 0; i < f->sink.n; i++)
        assert_int_equal(f->sink.samples[i].time_ms, 7000);
}

static void test_disk_mount_table_change_is_picked_up(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "self/mounts");
    open_disk(f, NULL);
    collect_ok(f, 1000);
    collect_ok(f, 2000);
    assert_int_equal(f->sink.n, 28);
    host_proc_put(&f->proc, "t1", "self/mounts");
    collect_ok(f, 3000);
    assert_int_equal(f->sink.n, 35);
    assert_true(has_dims(host_sink_find(&f->sink, "disk_total", "path", "/backup"), "/backup",
                         "mapper/vg0-backup", "btrfs"));
}

static void test_disk_ignore_fs_list_replaces_the_default(void **state)
{
    fixture *f = *state;
    const char *const ignore[] = {"ext*", NULL};
    tw_in_disk_options options = {.ignore_fs = ignore};
    host_proc_put(&f->proc, "t0", "self/mounts");
    open_disk(f, &options);
    collect_ok(f, 1000);
    assert_int_equal(f->sink.n, 7);
    assert_non_null(host_sink_find(&f->sink, "disk_total", "path", "/boot/efi"));
}

static void test_disk_mount_point_globs(void **state)
{
    fixture *f = *state;
    const char *const paths[] = {"/", "/mnt/*", NULL};
    tw_in_disk_options options = {.mount_points = paths};
    host_proc_put(&f->proc, "t0", "self/mounts");
    open_disk(f, &options);
    collect_ok(f, 1000);
    assert_int_equal(f->sink.n, 14);
    assert_non_null(host_sink_find(&f->sink, "disk_total", "path", "/"));
    assert_non_null(host_sink_find(&f->sink, "disk_total", "path", "/mnt/my disk"));
}

static void test_disk_failing_mount_is_logged_once_and_the_others_reported(void **state)
{
    fixture *f = *state;
    capture_log(f);
    host_proc_write(&f->proc, "self/mounts", "/dev/vda1 / ext4 rw 0 0\n"
                                             "srv:/x /mnt/stale nfs4 rw 0 0\n"
                                             "/dev/sdc1 /data ext4 rw 0 0\n");
    open_disk(f, NULL);
    for (int i = 0; i < 3; i++) {
        collect_ok(f, 1000 * i);
        assert_int_equal(f->sink.n, 14);
        assert_null(host_sink_find(&f->sink, "disk_total", "path", "/mnt/stale"));
    }
    assert_int_equal(log_count(f, "cannot statvfs /mnt/stale (srv:/x, nfs4): Stale file handle"),
                     1);
    pthread_mutex_lock(&f->fs.lock);
    f->fs.stale_fixed = true;
    pthread_mutex_unlock(&f->fs.lock);
    collect_ok(f, 4000);
    collect_ok(f, 5000);
    assert_int_equal(f->sink.n, 21);
    assert_int_equal(log_count(f, "/mnt/stale (srv:/x, nfs4) answers statvfs again"), 1);
}

static void test_disk_hung_mount_does_not_stop_the_others(void **state)
{
    fixture *f = *state;
    capture_log(f);
    tw_in_disk_options options = {.timeout_ms = 100};
    host_proc_write(&f->proc, "self/mounts", "/dev/vda1 / ext4 rw 0 0\n"
                                             "srv:/x /mnt/nfs nfs4 rw,hard 0 0\n"
                                             "/dev/sdc1 /data ext4 rw 0 0\n");
    open_disk(f, &options);
    double t0 = host_now_us();
    collect_ok(f, 1000);
    double first = host_now_us() - t0;
    assert_true(first >= 90e3 && first < 2e6); /* waited for the timeout, not for the server */
    assert_int_equal(f->sink.n, 14);
    assert_non_null(host_sink_find(&f->sink, "disk_total", "path", "/data"));
    /* Still hung: skipped at once, not waited for again. */
    t0 = host_now_us();
    collect_ok(f, 2000);
    assert_true(host_now_us() - t0 < 50e3);
    assert_int_equal(f->sink.n, 14);
    assert_int_equal(log_count(f, "statvfs on /mnt/nfs (srv:/x, nfs4) did not answer within "
                                  "100 ms"),
                     1);
    /* The server comes back: the mount is reported again. */
    release_hung(f);
    bool back = false;
    for (int i = 0; i < 200 && !back; i++) {
        usleep(10000);
        collect_ok(f, 3000 + i);
        back = host_sink_find(&f->sink, "disk_total", "path", "/mnt/nfs") != NULL;
    }
    assert_true(back);
    assert_int_equal(f->sink.n, 21);
    assert_int_equal(log_count(f, "/mnt/nfs (srv:/x, nfs4) answers statvfs again"), 1);
}

static void test_disk_close_while_a_mount_is_hung(void **state)
{
    fixture *f = *state;
    capture_log(f);
    tw_in_disk_options options = {.timeout_ms = 50};
    host_proc_write(&f->proc, "self/mounts", "srv:/x /mnt/nfs nfs4 rw,hard 0 0\n"
                                             "/dev/vda1 / ext4 rw 0 0\n");
    open_disk(f, &options);
    collect_ok(f, 1000);
    assert_int_equal(f->sink.n, 7);
    tw_in_disk_close(f->disk); /* must not wait for the hung call */
    f->disk = NULL;
    release_hung(f);
    /* The abandoned thread frees its share once its call returns. */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&f->fs.lock);
        int returned = f->fs.hung_returned;
        pthread_mutex_unlock(&f->fs.lock);
        if (returned > 0)
            break;
        usleep(2000);
    }
    usleep(20000);
}

static void test_disk_garbled_line_names_file_and_line_and_keeps_the_rest(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "garbled", "self/mounts");
    open_disk(f, NULL);
    tw_err err = {{0}};
    assert_int_equal(tw_in_disk_collect(f->disk, 1000, &f->sink.sink, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "/self/mounts line 7: expected \"DEVICE /PATH FSTYPE OPTIONS "
                                    "0 0\", got \"this-is-not-a-mount-line\""));
    assert_int_equal(f->sink.n, 28);
}

static void test_disk_missing_mount_table_is_a_clear_open_error(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_disk_open(f->proc.root, NULL, NULL, &f->disk, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/self/mounts: No such file or directory"));
    f->disk = NULL;
}

static void test_disk_random_bytes_never_crash(void **state)
{
    fixture *f = *state;
    host_proc_put(&f->proc, "t0", "self/mounts");
    open_disk(f, NULL);
    uint64_t seed = 0x6a09e667f3bcc909u;
    static char text[8192];
    tw_log_level level = tw_log_get_level();
    tw_log_set_level(TW_LOG_ERROR); /* garbage mounts get warnings: not wanted here */
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(seed % sizeof text);
        host_random_text(&seed, text, len);
        if (i % 3 == 0)
            memcpy(text, "/dev/sda1 / ext4 rw 0 0\n/dev/x /\\040", len < 35 ? len : 35);
        host_proc_write_bytes(&f->proc, "self/mounts", text, len);
        tw_err err = {{0}};
        host_sink_clear(&f->sink);
        int rc = tw_in_disk_collect(f->disk, 1000 + i, &f->sink.sink, &err);
        if (rc != 0)
            assert_true(err.msg[0] != '\0');
    }
    tw_log_set_level(level);
}

static void test_disk_real_mounts_give_sane_values(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    assert_int_equal(tw_in_disk_open("/proc", "/sys", NULL, &f->disk, &err), 0);
    collect_ok(f, 1000);
    assert_true(f->sink.n % 7 == 0);
    for (size_t i = 0; i < f->sink.n; i++) {
        const host_sample *h = &f->sink.samples[i];
        assert_true(h->value >= 0);
        if (strcmp(h->name, "disk_used_percent") == 0)
            assert_true(h->value <= 100);
    }
    const host_sample *root = host_sink_find(&f->sink, "disk_total", "path", "/");
    struct statvfs sv;
    if (root != NULL && statvfs("/", &sv) == 0)
        assert_float_equal(root->value, (double)sv.f_blocks * (double)sv.f_frsize, EPS);
    print_message("disk: %zu mounts reported on this machine\n", f->sink.n / 7);
}

static void test_disk_cost_per_collect_on_real_mounts(void **state)
{
    fixture *f = *state;
    tw_err err = {{0}};
    host_count_sink counter;
    host_count_sink_init(&counter);
    tw_alloc_self_check();
    assert_int_equal(tw_in_disk_open("/proc", "/sys", NULL, &f->disk, &err), 0);
    assert_int_equal(tw_in_disk_collect(f->disk, 0, &counter.sink, &err), 0);
    enum { N = 2000 };
    size_t calls, bytes;
    counter.n = 0;
    double t0 = host_now_us(), c0 = host_cpu_us();
    tw_alloc_begin();
    for (int i = 1; i <= N; i++)
        assert_int_equal(tw_in_disk_collect(f->disk, i * 1000, &counter.sink, &err), 0);
    tw_alloc_end(&calls, &bytes);
    double wall = (host_now_us() - t0) / N, cpu = (host_cpu_us() - c0) / N;
    print_message("disk: %.1f us wall, %.1f us CPU per collect (helper thread included), %zu "
                  "samples, %zu allocations (%zu bytes) in %d collects%s\n",
                  wall, cpu, counter.n / N, calls, bytes, N,
                  tw_alloc_counting() ? "" : " (not counted under sanitizers)");
    assert_int_equal(calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_reports_space_and_inodes_with_df_arithmetic,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_mount_table_change_is_picked_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disk_ignore_fs_list_replaces_the_default, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disk_mount_point_globs, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_disk_failing_mount_is_logged_once_and_the_others_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_hung_mount_does_not_stop_the_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disk_close_while_a_mount_is_hung, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_disk_garbled_line_names_file_and_line_and_keeps_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_missing_mount_table_is_a_clear_open_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_random_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_real_mounts_give_sane_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_cost_per_collect_on_real_mounts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
