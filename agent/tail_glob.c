/* tail_glob.c — pattern expansion with `**` (see tail_glob.h). */
#include "tail_glob.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "mem.h"

typedef struct walk {
    tw_glob_result *out;
    size_t cap_files, cap_dirs;
    tw_err *err;
    int rc;
} walk;

static bool has_wildcard(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '*' || s[i] == '?' || s[i] == '[')
            return true;
    return false;
}

static void push(char ***list, size_t *n, size_t *cap, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], s) == 0)
            return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *list = tw_realloc(*list, *cap * sizeof **list);
    }
    (*list)[(*n)++] = tw_strdup(s);
}

static void note_unreadable(walk *w, const char *dir, int e)
{
    if (w->rc == 0) {
        w->rc = tw_err_set(w->err, -EACCES, "cannot read directory %s: %s", dir, strerror(e));
    }
}

/* Matches the components from `rest` (a '/'-separated tail of the pattern,
 * no leading '/') below directory `dir`. */
static void match_below(walk *w, const char *dir, const char *rest, int depth)
{
    const char *slash = strchr(rest, '/');
    size_t comp_len = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *next = slash ? slash + 1 : NULL;
    tw_buf path = TW_BUF_INIT;
    if (comp_len == 0) { /* "a//b": an empty component is the same directory */
        if (next)
            match_below(w, dir, next, depth);
        return;
    }
    if (!has_wildcard(rest, comp_len)) {
        tw_buf_printf(&path, "%s/%.*s", strcmp(dir, "/") == 0 ? "" : dir, (int)comp_len, rest);
        struct stat st;
        if (stat(path.data, &st) == 0) {
            if (next && S_ISDIR(st.st_mode)) {
                match_below(w, path.data, next, depth);
            } else if (!next && S_ISREG(st.st_mode)) {
                push(&w->out->files, &w->out->n_files, &w->cap_files, path.data);
            }
        } else if (errno == EACCES) {
            note_unreadable(w, dir, errno); /* not "no such file": we may not look */
        }
        /* The file may appear later: its directory decides. */
        push(&w->out->dirs, &w->out->n_dirs, &w->cap_dirs, dir);
        tw_buf_free(&path);
        return;
    }
    push(&w->out->dirs, &w->out->n_dirs, &w->cap_dirs, dir);
    bool globstar = comp_len == 2 && rest[0] == '*' && rest[1] == '*';
    if (globstar && next)
        match_below(w, dir, next, depth); /* ** matches zero directories */
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT)
            note_unreadable(w, dir, errno);
        tw_buf_free(&path);
        return;
    }
    char comp[1024];
    snprintf(comp, sizeof comp, "%.*s", (int)comp_len, rest);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        /* Never "." and "..", and hidden files only for a pattern that
         * starts with a literal dot, as in a shell glob (FNM_PERIOD). */
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            (de->d_name[0] == '.' && (globstar || comp[0] != '.')))
            continue;
        tw_buf_reset(&path);
        tw_buf_printf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, de->d_name);
        if (globstar) {
            struct stat lst;
            if (depth < TW_GLOB_MAX_DEPTH && lstat(path.data, &lst) == 0 &&
                S_ISDIR(lst.st_mode))
                match_below(w, path.data, rest, depth + 1);
            if (!next) { /* a trailing ** matches every file below */
                struct stat st;
                if (stat(path.data, &st) == 0 && S_ISREG(st.st_mode))
                    push(&w->out->files, &w->out->n_files, &w->cap_files, path.data);
            }
            continue;
        }
        if (fnmatch(comp, de->d_name, FNM_PERIOD) != 0)
            continue;
        struct stat st;
        if (stat(path.data, &st) != 0)
            continue;
        if (next && S_ISDIR(st.st_mode))
            match_below(w, path.data, next, depth + 1);
        else if (!next && S_ISREG(st.st_mode))
            push(&w->out->files, &w->out->n_files, &w->cap_files, path.data);
    }
    closedir(d);
    tw_buf_free(&path);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Calls fn for each blank-separated pattern; stops at the first nonzero. */
static int each_pattern(const char *patterns, int (*fn)(void *ctx, const char *pattern),
                        void *ctx)
{
    const char *p = patterns;
    char pattern[4096];
    while (*p) {
        p += strspn(p, " \t\r\n");
        size_t len = strcspn(p, " \t\r\n");
        if (len == 0)
            break;
        snprintf(pattern, sizeof pattern, "%.*s", (int)len, p);
        int rc = fn(ctx, pattern);
        if (rc != 0)
            return rc;
        p += len;
    }
    return 0;
}

static int check_one(void *ctx, const char *pattern)
{
    tw_err *err = ctx;
    size_t len = strlen(pattern);
    if (pattern[0] != '/')
        return tw_err_set(err, -EINVAL, "\"%s\" is not an absolute path", pattern);
    if (pattern[len - 1] == '/')
        return tw_err_set(err, -EINVAL, "\"%s\" names a directory; add the files, e.g. %s*.log",
                          pattern, pattern);
    if (len >= 4000)
        return tw_err_set(err, -EINVAL, "\"%.60s...\" is too long", pattern);
    return 0;
}

int tw_glob_check(const char *patterns, tw_err *err)
{
    if (patterns[strspn(patterns, " \t\r\n")] == '\0')
        return tw_err_set(err, -EINVAL, "no path given");
    return each_pattern(patterns, check_one, err);
}

static int expand_one(void *ctx, const char *pattern)
{
    walk *w = ctx;
    match_below(w, "/", pattern + 1, 0);
    return 0;
}

int tw_glob_expand(const char *patterns, tw_glob_result *out, tw_err *err)
{
    *out = (tw_glob_result){0};
    walk w = {.out = out, .err = err};
    each_pattern(patterns, expand_one, &w);
    if (out->n_files > 1)
        qsort(out->files, out->n_files, sizeof *out->files, by_name);
    return w.rc;
}

void tw_glob_free(tw_glob_result *r)
{
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i]);
    for (size_t i = 0; i < r->n_dirs; i++)
        free(r->dirs[i]);
    free(r->files);
    free(r->dirs);
    *r = (tw_glob_result){0};
}
