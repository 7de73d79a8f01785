/* tail_glob.h — which files a [logs] path names, and which directories to
 * watch for new ones.
 *
 * A path is one or more blank-separated patterns. Each is absolute; its
 * components may use fnmatch(3) wildcards (`*`, `?`, `[...]`, never matching
 * a `/` or a leading dot), and a component that is exactly `**` matches any
 * number of directories, zero included (components var, log, `**`, `*.log`
 * find every .log file below /var/log). Symbolic links to files are
 * followed; `**` does not descend through symbolic links to directories (no
 * loops) nor deeper than TW_GLOB_MAX_DEPTH.
 *
 * Results are regular files only, each path once, in sorted order;
 * directories are every existing directory whose entries decide a match
 * (where a new matching file would appear), for inotify.
 */
#ifndef TW_TAIL_GLOB_H
#define TW_TAIL_GLOB_H

#include <stddef.h>

#include "err.h"

#define TW_GLOB_MAX_DEPTH 16

typedef struct tw_glob_result {
    char **files;
    size_t n_files;
    char **dirs;
    size_t n_dirs;
} tw_glob_result;

/* Checks patterns (blank-separated): each must be absolute and not end in
 * a `/`. Returns 0 or -EINVAL with err naming the bad pattern. */
int tw_glob_check(const char *patterns, tw_err *err);

/* Expands patterns into *out (zeroed first; free with tw_glob_free).
 * Directories that cannot be read are skipped (a later scan may succeed);
 * the first such problem is described in err and -EACCES returned, with
 * *out still holding every match that was found. Returns 0 otherwise. */
int tw_glob_expand(const char *patterns, tw_glob_result *out, tw_err *err);

void tw_glob_free(tw_glob_result *r);

#endif
