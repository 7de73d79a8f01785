/* spool_bench.c — how fast the agent's spool takes batches, for 100 KB and
 * 1 MB records, with fsync=always (the default: every append on stable
 * storage when it returns) and fsync=never. For each it also times a reopen
 * (the recovery scan a restart does, checksumming every record) and reading
 * plus acknowledging everything back.
 *
 *   spool_bench [DIR] [SECONDS]
 *
 * DIR (default $TMPDIR or /var/tmp) should be on the filesystem of the
 * agent's state_dir: fsync costs are the filesystem's and the device's. Each
 * case appends for SECONDS (default 3) or up to 1 GiB, in a fresh spool
 * under DIR that is removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "spool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void remove_spool(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

static tw_spool *open_or_die(const char *dir, const tw_spool_options *options)
{
    tw_spool *s;
    tw_err err;
    if (tw_spool_open(dir, options, &s, NULL, &err) != 0) {
        fprintf(stderr, "spool_bench: %s\n", err.msg);
        exit(1);
    }
    return s;
}

static void run_case(const char *base, size_t record, tw_spool_fsync fsync, double seconds)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/spool", base);
    tw_spool_options options = {2ull << 30, 0, fsync};
    tw_spool *s = open_or_die(dir, &options);
    unsigned char *data = malloc(record);
    for (size_t i = 0; i < record; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    uint64_t n = 0, limit = (1ull << 30) / record;
    double start = now_s(), elapsed = 0;
    while (elapsed < seconds && n < limit) {
        tw_err err;
        if (tw_spool_append(s, data, record, NULL, NULL, &err) != 0) {
            fprintf(stderr, "spool_bench: %s\n", err.msg);
            exit(1);
        }
        n++;
        elapsed = now_s() - start;
    }
    tw_spool_close(s);
    double mb = (double)n * (double)record / 1e6;

    double t0 = now_s();
    s = open_or_die(dir, &options);
    double reopen = now_s() - t0;

    t0 = now_s();
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    tw_buf payload = TW_BUF_INIT;
    uint64_t id, drained = 0;
    while (tw_spool_read(s, &cursor, &id, &payload, NULL) == 0) {
        tw_spool_ack(s, id);
        drained++;
    }
    double drain = now_s() - t0;
    tw_buf_free(&payload);
    tw_spool_close(s);
    remove_spool(dir);
    free(data);
    if (drained != n) {
        fprintf(stderr, "spool_bench: appended %" PRIu64 " records but read back %" PRIu64 "\n",
                n, drained);
        exit(1);
    }
    printf("%5zu KB  %-6s  %9.0f  %8.1f  %8" PRIu64 "  %10.0f  %12.0f\n", record / 1000,
           fsync == TW_SPOOL_FSYNC_ALWAYS ? "always" : "never", (double)n / elapsed,
           mb / elapsed, n, mb / reopen, (double)drained / drain);
}

int main(int argc, char **argv)
{
    tw_log_init("spool_bench", TW_LOG_WARN);
    const char *tmp = getenv("TMPDIR");
    const char *parent = argc > 1 ? argv[1] : tmp && *tmp ? tmp : "/var/tmp";
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    char base[4096];
    tw_err err;
    if (tw_make_temp_dir(parent, "tw-spool-bench", base, sizeof base, &err) != 0) {
        fprintf(stderr, "spool_bench: %s\n", err.msg);
        return 1;
    }
    struct statfs fs;
    statfs(base, &fs);
    printf("spool_bench: %s (filesystem magic 0x%lx), %.0f s per case\n", base,
           (unsigned long)fs.f_type, seconds);
    printf("  record  fsync   appends/s      MB/s   records  reopen MB/s  read+ack/s\n");
    size_t sizes[] = {100 * 1000, 1000 * 1000};
    for (int i = 0; i < 2; i++) {
        run_case(base, sizes[i], TW_SPOOL_FSYNC_ALWAYS, seconds);
        run_case(base, sizes[i], TW_SPOOL_FSYNC_NEVER, seconds);
    }
    rmdir(base);
    return 0;
}
