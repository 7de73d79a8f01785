/* procfile.c — kept-open kernel text files, in-place lines and fields, glob
 * lists (see procfile.h). */
#include "procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"

/* Far beyond any /proc file we read (diskstats with 10,000 devices is
 * ~1.5 MB): a bound so a file that never ends cannot eat the host. */
#define PROCFILE_MAX (64u << 20)

int tw_procfile_open(tw_procfile *pf, const char *root, const char *name, size_t initial_cap,
                     tw_err *err)
{
    memset(pf, 0, sizeof *pf);
    pf->fd = -1;
    tw_buf path = TW_BUF_INIT;
    tw_buf_printf(&path, "%s/%s", root ? root : "/proc", name);
    int fd = open(path.data, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = tw_err_set(err, -errno, "cannot open %s: %s", path.data, strerror(errno));
        tw_buf_free(&path);
        return rc;
    }
    pf->fd = fd;
    pf->path = tw_buf_steal(&path);
    pf->cap = initial_cap < 256 ? 256 : initial_cap;
    pf->buf = tw_malloc(pf->cap + 1);
    pf->buf[0] = '\0';
    return 0;
}

int tw_procfile_read(tw_procfile *pf, tw_err *err)
{
    size_t len = 0;
    for (;;) {
        if (len == pf->cap) {
            if (pf->cap >= PROCFILE_MAX)
                return tw_err_set(err, -EFBIG, "%s: larger than %u MiB, not a kernel file",
                                  pf->path, PROCFILE_MAX >> 20);
            pf->cap *= 2;
            pf->buf = tw_realloc(pf->buf, pf->cap + 1);
        }
        /* Consecutive offsets let seq_file continue where it stopped; a
         * read at 0 makes it start a new snapshot. */
        ssize_t n = pread(pf->fd, pf->buf + len, pf->cap - len, (off_t)len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            pf->len = 0;
            pf->buf[0] = '\0';
            return tw_err_set(err, -errno, "cannot read %s: %s", pf->path, strerror(errno));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    pf->len = len;
    pf->buf[len] = '\0';
    return 0;
}

void tw_procfile_close(tw_procfile *pf)
{
    if (pf->fd >= 0)
        close(pf->fd);
    pf->fd = -1;
    free(pf->path);
    free(pf->buf);
    pf->path = NULL;
    pf->buf = NULL;
    pf->cap = pf->len = 0;
}

void tw_proclines_init(tw_proclines *it, char *buf, size_t len)
{
    it->next = buf;
    it->end = buf + len;
    it->number = 0;
}

bool tw_proclines_next(tw_proclines *it, tw_procline *line)
{
    if (it->next >= it->end)
        return false;
    char *start = it->next;
    char *nl = memchr(start, '\n', (size_t)(it->end - start));
    char *stop = nl ? nl : it->end; /* *end is the buffer's NUL */
    *stop = '\0';
    it->next = nl ? nl + 1 : it->end;
    line->text = start;
    line->len = (size_t)(stop - start);
    line->number = ++it->number;
    return true;
}

/* NUL separates too: tw_procfields_cut leaves one after a field. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\0';
}

void tw_procfields_init(tw_procfields *f, const tw_procline *line)
{
    f->p = line->text;
    f->end = line->text + line->len;
}

bool tw_procfields_next(tw_procfields *f, char **start, size_t *len)
{
    while (f->p < f->end && is_blank(*f->p))
        f->p++;
    if (f->p >= f->end)
        return false;
    char *s = f->p;
    while (f->p < f->end && !is_blank(*f->p))
        f->p++;
    *start = s;
    *len = (size_t)(f->p - s);
    return true;
}

char *tw_procfields_cut(char *start, size_t len)
{
    start[len] = '\0';
    return start;
}

bool tw_proc_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool tw_proc_name_ok(const char *s, size_t len, size_t max_len)
{
    if (len == 0 || len > max_len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

int tw_procline_error(tw_err *err, const tw_procfile *pf, const tw_procline *line,
                      const char *what)
{
    char shown[64];
    size_t n = 0;
    for (size_t i = 0; i < line->len && n < 48; i++) {
        unsigned char c = (unsigned char)line->text[i];
        shown[n++] = (c >= ' ' && c < 0x7f && c != '"') ? (char)c : '?';
    }
    if (line->len > n) {
        memcpy(shown + n, "...", 3);
        n += 3;
    }
    shown[n] = '\0';
    return tw_err_set(err, -EINVAL, "%s line %u: expected %s, got \"%s\"", pf->path, line->number,
                      what, shown);
}

char **tw_globlist_copy(const char *const *globs)
{
    if (globs == NULL)
        return NULL;
    size_t n = 0;
    while (globs[n] != NULL)
        n++;
    char **copy = tw_calloc(n + 1, sizeof *copy);
    for (size_t i = 0; i < n; i++)
        copy[i] = tw_strdup(globs[i]);
    return copy;
}

void tw_globlist_free(char **globs)
{
    if (globs == NULL)
        return;
    for (size_t i = 0; globs[i] != NULL; i++)
        free(globs[i]);
    free(globs);
}

bool tw_globlist_match(char *const *globs, const char *name, int flags)
{
    if (globs == NULL)
        return false;
    for (size_t i = 0; globs[i] != NULL; i++)
        if (fnmatch(globs[i], name, flags) == 0)
            return true;
    return false;
}
