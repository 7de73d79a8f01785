/* fsutil.c — careful directory and file operations (see fsutil.h). */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

int tw_mkdir_p(const char *path, mode_t mode, tw_err *err)
{
    char *copy = tw_strdup(path);
    int rc = 0;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST) {
            rc = tw_err_set(err, -errno, "cannot create directory %s: %s", copy, strerror(errno));
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            rc = tw_err_set(err, -errno, "cannot create directory %s: %s", path, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
            rc = tw_err_set(err, -ENOTDIR, "%s exists and is not a directory", path);
    }
    free(copy);
    return rc;
}

int tw_ensure_private_dir(const char *dir, tw_err *err)
{
    int rc = tw_mkdir_p(dir, 0700, err);
    if (rc != 0)
        return rc;
    struct stat st;
    if (stat(dir, &st) != 0)
        return tw_err_set(err, -errno, "cannot inspect %s: %s", dir, strerror(errno));
    if (st.st_uid != geteuid())
        return tw_err_set(err, -EPERM,
                          "%s belongs to uid %u, not to us (uid %u): another user could change "
                          "our state; fix its owner",
                          dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if ((st.st_mode & 022) != 0 && chmod(dir, st.st_mode & ~(mode_t)077) != 0)
        return tw_err_set(err, -errno, "%s is writable by others and cannot be fixed: %s", dir,
                          strerror(errno));
    if (access(dir, W_OK | X_OK) != 0)
        return tw_err_set(err, -errno, "%s is not writable: %s", dir, strerror(errno));
    return 0;
}

int tw_lock_dir(const char *dir, const char *lock_name, int *fd, long *holder, tw_err *err)
{
    if (holder != NULL)
        *holder = 0;
    tw_buf path = TW_BUF_INIT;
    tw_buf_printf(&path, "%s/%s", dir, lock_name);
    int lock_fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
        int rc = tw_err_set(err, -errno, "cannot open %s: %s", path.data, strerror(errno));
        tw_buf_free(&path);
        return rc;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char text[32] = "";
        ssize_t n = pread(lock_fd, text, sizeof text - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        long pid = strtol(text, NULL, 10);
        if (holder != NULL)
            *holder = pid > 0 ? pid : 0;
        close(lock_fd);
        tw_buf_free(&path);
        if (pid > 0)
            return tw_err_set(err, -EBUSY, "%s is in use by process %ld", dir, pid);
        return tw_err_set(err, -EBUSY, "%s is in use by another process", dir);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(lock_fd, 0) != 0 || pwrite(lock_fd, pid, (size_t)len, 0) != len)
        tw_log(TW_LOG_WARN, "cannot write our pid to %s: %s", path.data, strerror(errno));
    tw_buf_free(&path);
    *fd = lock_fd;
    return 0;
}

int tw_claim_daemon_dir(const char *dir, const char *program, const char *dir_kind,
                        const char *option, int *fd, tw_err *err)
{
    int rc = tw_ensure_private_dir(dir, err);
    if (rc != 0)
        return rc;
    char lock_name[64];
    snprintf(lock_name, sizeof lock_name, "%s.lock", program);
    long holder;
    rc = tw_lock_dir(dir, lock_name, fd, &holder, err);
    if (rc == -EBUSY) {
        char pid[40] = "";
        if (holder > 0)
            snprintf(pid, sizeof pid, " (pid %ld)", holder);
        return tw_err_set(err, rc,
                          "another trailwatch-%s%s is using the %s %s; give each %s its own %s",
                          program, pid, dir_kind, dir, program, option);
    }
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_parent(const char *path)
{
    char *copy = tw_strdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int tw_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         tw_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return tw_err_set(err, -ENAMETOOLONG, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return tw_err_set(err, -errno, "cannot create %s: %s", tmp, strerror(errno));
    int rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return tw_err_set(err, rc, "cannot write %s: %s", path, strerror(-rc));
    }
    rc = fsync_parent(path);
    if (rc != 0)
        return tw_err_set(err, rc, "cannot sync the directory of %s: %s", path, strerror(-rc));
    return 0;
}

int tw_read_file(const char *path, size_t max_len, tw_buf *out, tw_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tw_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
    size_t total = 0;
    int rc = 0;
    for (;;) {
        tw_buf_reserve(out, 65536);
        ssize_t n = read(fd, out->data + out->len, 65536);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = tw_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        if (total > max_len) {
            rc = tw_err_set(err, -EFBIG, "%s is larger than %zu bytes", path, max_len);
            break;
        }
    }
    close(fd);
    return rc;
}

/* "parent/prefix-" plus mkdtemp's six placeholder characters into out, the template mkdtemp and mkstemp fill. */
static int temp_template(const char *parent, const char *prefix, char *out, size_t size,
                         tw_err *err)
{
    if (parent == NULL || *parent == '\0') {
        parent = getenv("TMPDIR");
        if (parent == NULL || *parent == '\0')
            parent = "/tmp";
    }
    /* mkdtemp(3) and mkstemp(3) want the name to end in six 'X', which
     * they replace. */
    enum { PLACEHOLDERS = 6 };
    int n = snprintf(out, size, "%s/%s-", parent, prefix);
    if (n < 0 || (size_t)n + PLACEHOLDERS >= size)
        return tw_err_set(err, -ENAMETOOLONG, "temporary path under %s is too long", parent);
    memset(out + n, 'X', PLACEHOLDERS);
    out[n + PLACEHOLDERS] = '\0';
    return 0;
}

int tw_make_temp_dir(const char *parent, const char *prefix, char *out, size_t size,
                     tw_err *err)
{
    int rc = temp_template(parent, prefix, out, size, err);
    if (rc == 0 && mkdtemp(out) == NULL)
        rc = tw_err_set(err, -errno, "cannot create a directory %s: %s", out, strerror(errno));
    return rc;
}

int tw_make_temp_file(const char *parent, const char *prefix, char *out, size_t size,
                      tw_err *err)
{
    int rc = temp_template(parent, prefix, out, size, err);
    if (rc != 0)
        return rc;
    int fd = mkstemp(out);
    if (fd < 0)
        return tw_err_set(err, -errno, "cannot create a file %s: %s", out, strerror(errno));
    return fd;
}
