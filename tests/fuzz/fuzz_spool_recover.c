/* fuzz_spool_recover.c — libFuzzer target for the spool's recovery: the input
 * becomes the files a previous run left in a spool directory (one or two
 * segment files, optionally a state file), which is then opened, read,
 * acknowledged, appended to, closed and opened again. Nothing may crash, leak
 * or trip a sanitizer, whatever the bytes; and what the spool itself wrote
 * must survive: after the first open repaired the directory, the second open
 * finds no torn tail and reads back both records appended in between.
 *
 * Input: byte 0 is a mode. Bit 0: the next byte is a length n and the n bytes
 * after it are the state file. Bit 1: the next byte says where (in 256ths) the
 * rest is split into segments 0000000000000001.seg and 0000000000000040.seg;
 * otherwise all of the rest is segment 0000000000000001.seg.
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
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "spool.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[256];
static char dir[300];

static void remove_base(void)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
    rmdir(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The spool reports every damaged byte range; that is the point here, not
     * something to print a million times. */
    tw_log_init("fuzz_spool_recover", TW_LOG_ERROR);
    /* tmpfs when there is one: the logic under test is ours, not the disk's,
     * and a disk makes every run wait for the filesystem's journal. */
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    if (tw_make_temp_dir(tmp, "tw-fuzz-spool", base, sizeof base, NULL) != 0)
        abort();
    snprintf(dir, sizeof dir, "%s/spool", base);
    atexit(remove_base);
    return 0;
}

static void clear_dir(void)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

static void put_file(const char *name, const uint8_t *data, size_t len)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (len > 0 && write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void lay_out(const uint8_t *data, size_t size)
{
    mkdir(dir, 0700);
    clear_dir();
    if (size == 0)
        return;
    uint8_t mode = data[0];
    data++, size--;
    if ((mode & 1) && size > 0) {
        size_t n = data[0] < size - 1 ? data[0] : size - 1;
        put_file("state", data + 1, n);
        data += 1 + n, size -= 1 + n;
    }
    if ((mode & 2) && size > 0) {
        size_t split = (size - 1) * data[0] / 256;
        put_file("0000000000000001.seg", data + 1, split);
        put_file("0000000000000040.seg", data + 1 + split, size - 1 - split);
    } else {
        put_file("0000000000000001.seg", data, size);
    }
}

static const char first_payload[] = "appended after recovery";
static const char second_payload[] = "and another one";

/* Reads everything after the cursor; acknowledges every other record. */
static void drain(tw_spool *s, bool ack)
{
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    tw_buf payload = TW_BUF_INIT;
    uint64_t id, previous = 0;
    while (tw_spool_read(s, &cursor, &id, &payload, NULL) == 0) {
        if (id <= previous)
            __builtin_trap(); /* ids only grow */
        if (ack && id % 2 == 0)
            tw_spool_ack(s, id);
        previous = id;
    }
    tw_buf_free(&payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lay_out(data, size);
    tw_spool_options options = {0, 4096, TW_SPOOL_FSYNC_NEVER};
    tw_spool_recovery recovery;
    tw_spool *s;
    int rc = tw_spool_open(dir, &options, &s, &recovery, NULL);
    tw_buf_free(&recovery.messages);
    if (rc != 0)
        return 0; /* e.g. a damaged directory entry we cannot open */
    drain(s, true);
    uint64_t first = 0, second = 0;
    if (tw_spool_append(s, first_payload, sizeof first_payload, &first, NULL, NULL) != 0 ||
        tw_spool_append(s, second_payload, sizeof second_payload, &second, NULL, NULL) != 0)
        __builtin_trap();
    drain(s, false);
    tw_spool_close(s);

    if (tw_spool_open(dir, &options, &s, &recovery, NULL) != 0)
        __builtin_trap();
    if (recovery.torn_bytes != 0)
        __builtin_trap();
    tw_buf_free(&recovery.messages);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    tw_buf payload = TW_BUF_INIT;
    uint64_t id;
    int found = 0;
    while (tw_spool_read(s, &cursor, &id, &payload, NULL) == 0) {
        if (id == first)
            found += payload.len == sizeof first_payload &&
                     memcmp(payload.data, first_payload, payload.len) == 0;
        if (id == second)
            found += payload.len == sizeof second_payload &&
                     memcmp(payload.data, second_payload, payload.len) == 0;
    }
    if (found != 2)
        __builtin_trap();
    tw_buf_free(&payload);
    tw_spool_close(s);
    return 0;
}
