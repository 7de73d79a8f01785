/* test_tail_glob.c — which files a [logs] path names (agent/tail_glob.h):
 * `*`, `?` and `[...]` in file and directory components, `**` over zero or
 * more directories, hidden files, symbolic links (to files followed, to
 * directories not under `**`, loops included), the depth limit, unreadable
 * directories (-EACCES, with every match found elsewhere kept), the
 * directories to watch (including where a file not created yet would
 * appear), sorted unique results, and tw_glob_check. Real trees in a private
 * temporary directory per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tail_glob.h"
#include "testutil.h"

typedef struct fixture {
    char root[256];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tw_test_mkdtemp(f->root, sizeof f->root, "glob") != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    /* The directories a test made unreadable are opened up to be removed. */
    static const char *const locked[] = {"u/closed", "u/xonly"};
    for (size_t i = 0; i < sizeof locked / sizeof locked[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", f->root, locked[i]);
        chmod(path, 0755);
    }
    int rc = tw_test_rm_rf(f->root);
    free(f);
    return rc;
}

/* ---- helpers --------------------------------------------------------------------- */

static const char *at(const fixture *f, const char *rel)
{
    static char paths[8][600];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s%s%s", f->root, *rel ? "/" : "", rel);
    return p;
}

static void mkdirs(const fixture *f, const char *rel)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", f->root, rel);
    for (char *p = path + strlen(f->root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
            *p = '/';
        }
    }
    assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/* Creates the file rel (and its directories). */
static void touch(const fixture *f, const char *rel)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s", rel);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(f, dir);
    }
    tw_test_write_file(at(f, rel), "line\n");
}

static void link_to(const fixture *f, const char *target, const char *rel)
{
    assert_int_equal(symlink(target, at(f, rel)), 0);
}

/* Expands the patterns, with "@" standing for the fixture's root. */
static int expand(const fixture *f, const char *patterns, tw_glob_result *r, tw_err *err)
{
    char text[4096];
    size_t n = 0;
    for (const char *p = patterns; *p && n + 300 < sizeof text; p++) {
        if (*p == '@')
            n += (size_t)snprintf(text + n, sizeof text - n, "%s", f->root);
        else
            text[n++] = *p;
    }
    text[n] = '\0';
    err->msg[0] = '\0';
    return tw_glob_expand(text, r, err);
}

static void print_result(const tw_glob_result *r)
{
    print_message("files (%zu):\n", r->n_files);
    for (size_t i = 0; i < r->n_files; i++)
        print_message("  %s\n", r->files[i]);
    print_message("dirs (%zu):\n", r->n_dirs);
    for (size_t i = 0; i < r->n_dirs; i++)
        print_message("  %s\n", r->dirs[i]);
}

/* Fails unless the files are exactly want (relative to the root; a
 * NULL-terminated list given in sorted order), and checks they are sorted
 * and unique. */
static void assert_files(const fixture *f, const tw_glob_result *r, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    bool ok = r->n_files == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(r->files[i], at(f, want[i])) == 0;
    if (!ok) {
        print_message("want (%zu):\n", n);
        for (size_t i = 0; i < n; i++)
            print_message("  %s\n", at(f, want[i]));
        print_result(r);
        fail();
    }
    for (size_t i = 1; i < r->n_files; i++)
        assert_true(strcmp(r->files[i - 1], r->files[i]) < 0);
}

static bool has_dir(const fixture *f, const tw_glob_result *r, const char *rel)
{
    const char *want = at(f, rel);
    for (size_t i = 0; i < r->n_dirs; i++)
        if (strcmp(r->dirs[i], want) == 0)
            return true;
    return false;
}

static void assert_dirs_unique(const tw_glob_result *r)
{
    for (size_t i = 0; i < r->n_dirs; i++)
        for (size_t j = i + 1; j < r->n_dirs; j++)
            assert_string_not_equal(r->dirs[i], r->dirs[j]);
}

#define FILES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_FILES ((const char *const[]){NULL})

/* ---- wildcards ----------------------------------------------------------------------- */

static void test_star_question_mark_and_brackets_match_file_names(void **state)
{
    fixture *f = *state;
    const char *names[] = {"a.log", "b.log", "ab.log", "c.txt", "x1.log", "x2.log", "xa.log",
                           "a.log.1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        touch(f, names[i]);
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/*.log", &r, &err), 0);
    assert_files(f, &r, FILES("a.log", "ab.log", "b.log", "x1.log", "x2.log", "xa.log"));
    assert_true(has_dir(f, &r, ""));
    tw_glob_free(&r);
    assert_int_equal(r.n_files, 0);
    assert_null(r.files);

    assert_int_equal(expand(f, "@/?.log", &r, &err), 0);
    assert_files(f, &r, FILES("a.log", "b.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/x[0-9].log", &r, &err), 0);
    assert_files(f, &r, FILES("x1.log", "x2.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/x[!0-9].log", &r, &err), 0);
    assert_files(f, &r, FILES("xa.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/a.log*", &r, &err), 0);
    assert_files(f, &r, FILES("a.log", "a.log.1"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/*.nothing", &r, &err), 0);
    assert_files(f, &r, NO_FILES);
    tw_glob_free(&r);
}

static void test_wildcards_in_directory_components(void **state)
{
    fixture *f = *state;
    touch(f, "srv/app1/out.log");
    touch(f, "srv/app2/out.log");
    touch(f, "srv/other/out.log");
    touch(f, "srv/app1/deeper/out.log");
    mkdirs(f, "srv/app3"); /* no out.log yet */
    touch(f, "srv/app4.log");  /* a file where a directory is expected */
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/srv/app*/out.log", &r, &err), 0);
    assert_files(f, &r, FILES("srv/app1/out.log", "srv/app2/out.log"));
    /* Where an out.log would appear, and where a new app directory would. */
    assert_true(has_dir(f, &r, "srv"));
    assert_true(has_dir(f, &r, "srv/app1"));
    assert_true(has_dir(f, &r, "srv/app2"));
    assert_true(has_dir(f, &r, "srv/app3"));
    assert_false(has_dir(f, &r, "srv/other"));
    assert_false(has_dir(f, &r, "srv/app1/deeper"));
    assert_dirs_unique(&r);
    tw_glob_free(&r);

    assert_int_equal(expand(f, "@/*/*/out.log", &r, &err), 0);
    assert_files(f, &r, FILES("srv/app1/out.log", "srv/app2/out.log", "srv/other/out.log"));
    tw_glob_free(&r);
}

static void test_only_regular_files_are_results(void **state)
{
    fixture *f = *state;
    touch(f, "real.log");
    mkdirs(f, "dir.log");
    assert_int_equal(mkfifo(at(f, "fifo.log"), 0600), 0);
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/*.log @/dir.log @/fifo.log", &r, &err), 0);
    assert_files(f, &r, FILES("real.log"));
    tw_glob_free(&r);
}

/* ---- ** ---------------------------------------------------------------------------- */

static void make_tree(const fixture *f)
{
    touch(f, "t/x.log");
    touch(f, "t/a/x.log");
    touch(f, "t/a/b/x.log");
    touch(f, "t/a/b/c/y.log");
    touch(f, "t/a/b/c/x.txt");
    touch(f, "t/e/x.log");
    touch(f, "t/.hidden/x.log");
    touch(f, "t/a/.h.log");
}

static void test_globstar_matches_zero_or_more_directories(void **state)
{
    fixture *f = *state;
    make_tree(f);
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/t/**/x.log", &r, &err), 0);
    assert_files(f, &r, FILES("t/a/b/x.log", "t/a/x.log", "t/e/x.log", "t/x.log"));
    /* Every directory walked decides: a new subdirectory may hold x.log. */
    assert_true(has_dir(f, &r, "t"));
    assert_true(has_dir(f, &r, "t/a"));
    assert_true(has_dir(f, &r, "t/a/b"));
    assert_true(has_dir(f, &r, "t/a/b/c"));
    assert_true(has_dir(f, &r, "t/e"));
    assert_false(has_dir(f, &r, "t/.hidden"));
    assert_dirs_unique(&r);
    tw_glob_free(&r);

    assert_int_equal(expand(f, "@/t/**/*.log", &r, &err), 0);
    assert_files(f, &r,
                 FILES("t/a/b/c/y.log", "t/a/b/x.log", "t/a/x.log", "t/e/x.log", "t/x.log"));
    tw_glob_free(&r);

    /* A trailing ** names every (non-hidden) file below. */
    assert_int_equal(expand(f, "@/t/**", &r, &err), 0);
    assert_files(f, &r,
                 FILES("t/a/b/c/x.txt", "t/a/b/c/y.log", "t/a/b/x.log", "t/a/x.log",
                       "t/e/x.log", "t/x.log"));
    tw_glob_free(&r);

    /* ** in the middle, then literal components. */
    assert_int_equal(expand(f, "@/t/**/c/y.log", &r, &err), 0);
    assert_files(f, &r, FILES("t/a/b/c/y.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/t/**/b/**/*.log", &r, &err), 0);
    assert_files(f, &r, FILES("t/a/b/c/y.log", "t/a/b/x.log"));
    tw_glob_free(&r);
    /* Two ** that can match the same paths: each file once. */
    assert_int_equal(expand(f, "@/t/**/**/x.log", &r, &err), 0);
    assert_files(f, &r, FILES("t/a/b/x.log", "t/a/x.log", "t/e/x.log", "t/x.log"));
    tw_glob_free(&r);
}

static void test_globstar_stops_at_the_depth_limit(void **state)
{
    fixture *f = *state;
    char rel[600] = "deep";
    for (int depth = 1; depth <= TW_GLOB_MAX_DEPTH + 2; depth++) {
        size_t n = strlen(rel);
        snprintf(rel + n, sizeof rel - n, "/%d", depth);
        char file[700];
        snprintf(file, sizeof file, "%s/f%d.log", rel, depth);
        touch(f, file);
    }
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/deep/**/*.log", &r, &err), 0);
    /* f1 .. f16 (16 directories below deep), not f17 and f18. */
    if (r.n_files != TW_GLOB_MAX_DEPTH)
        print_result(&r);
    assert_int_equal(r.n_files, TW_GLOB_MAX_DEPTH);
    for (size_t i = 0; i < r.n_files; i++) {
        assert_null(strstr(r.files[i], "/f17.log"));
        assert_null(strstr(r.files[i], "/f18.log"));
    }
    tw_glob_free(&r);
}

/* ---- hidden files and links ------------------------------------------------------------- */

static void test_wildcards_do_not_match_hidden_files(void **state)
{
    fixture *f = *state;
    touch(f, "h/.secret.log");
    touch(f, "h/plain.log");
    touch(f, "h/.dir/in.log");
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/h/*.log @/h/* @/h/?secret.log @/h/*/in.log", &r, &err), 0);
    assert_files(f, &r, FILES("h/plain.log"));
    tw_glob_free(&r);
    /* Named with its dot, a hidden file is found: literally or by a pattern
     * whose leading dot is literal (as in a shell). */
    assert_int_equal(expand(f, "@/h/.secret.log", &r, &err), 0);
    assert_files(f, &r, FILES("h/.secret.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/h/.s*.log", &r, &err), 0);
    assert_files(f, &r, FILES("h/.secret.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/h/.d*/in.log", &r, &err), 0);
    assert_files(f, &r, FILES("h/.dir/in.log"));
    tw_glob_free(&r);
    /* ".*" is not "." and "..": no walking up or around. */
    assert_int_equal(expand(f, "@/h/.*/in.log", &r, &err), 0);
    assert_files(f, &r, FILES("h/.dir/in.log"));
    tw_glob_free(&r);
}

static void test_symlinks_to_files_are_followed_and_dangling_ones_skipped(void **state)
{
    fixture *f = *state;
    touch(f, "l/real.log");
    touch(f, "elsewhere/target.txt");
    link_to(f, "real.log", "l/link.log");
    link_to(f, at(f, "elsewhere/target.txt"), "l/abs.log");
    link_to(f, "missing.txt", "l/dangling.log");
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/l/*.log", &r, &err), 0);
    assert_files(f, &r, FILES("l/abs.log", "l/link.log", "l/real.log"));
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/l/**", &r, &err), 0);
    assert_files(f, &r, FILES("l/abs.log", "l/link.log", "l/real.log"));
    tw_glob_free(&r);
}

static void test_globstar_does_not_follow_symlinked_directories_or_loops(void **state)
{
    fixture *f = *state;
    touch(f, "s/x.log");
    touch(f, "s/sub/x.log");
    touch(f, "outside/x.log");
    link_to(f, ".", "s/self");        /* a loop */
    link_to(f, "..", "s/sub/up");     /* another */
    link_to(f, at(f, "outside"), "s/out");
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/s/**/x.log", &r, &err), 0);
    assert_files(f, &r, FILES("s/sub/x.log", "s/x.log"));
    for (size_t i = 0; i < r.n_dirs; i++) {
        assert_null(strstr(r.dirs[i], "/self"));
        assert_null(strstr(r.dirs[i], "/up"));
        assert_null(strstr(r.dirs[i], "/out"));
    }
    tw_glob_free(&r);
    assert_int_equal(expand(f, "@/s/**", &r, &err), 0);
    assert_files(f, &r, FILES("s/sub/x.log", "s/x.log"));
    tw_glob_free(&r);
    /* A literal or single-level component may go through a link: the
     * pattern bounds it. */
    assert_int_equal(expand(f, "@/s/out/x.log", &r, &err), 0);
    assert_files(f, &r, FILES("s/out/x.log"));
    tw_glob_free(&r);
}

/* ---- directories to watch ----------------------------------------------------------------- */

static void test_directories_where_a_missing_file_would_appear_are_watched(void **state)
{
    fixture *f = *state;
    mkdirs(f, "w/logs");
    mkdirs(f, "w/unrelated");
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "@/w/logs/app.log", &r, &err), 0);
    assert_files(f, &r, NO_FILES);
    assert_true(has_dir(f, &r, "w/logs"));
    assert_false(has_dir(f, &r, "w/unrelated"));
    tw_glob_free(&r);
    /* The directory itself is missing: its parent decides. */
    assert_int_equal(expand(f, "@/w/notyet/app.log", &r, &err), 0);
    assert_files(f, &r, NO_FILES);
    assert_true(has_dir(f, &r, "w"));
    assert_false(has_dir(f, &r, "w/notyet"));
    tw_glob_free(&r);
    /* Once created, the file is found. */
    touch(f, "w/logs/app.log");
    assert_int_equal(expand(f, "@/w/logs/app.log", &r, &err), 0);
    assert_files(f, &r, FILES("w/logs/app.log"));
    assert_true(has_dir(f, &r, "w/logs"));
    tw_glob_free(&r);
}

static void test_several_patterns_give_sorted_unique_results(void **state)
{
    fixture *f = *state;
    touch(f, "m/b.log");
    touch(f, "m/a.log");
    touch(f, "m/c.log");
    touch(f, "m/sub/d.log");
    tw_glob_result r;
    tw_err err;
    assert_int_equal(expand(f, "  @/m/c.log\t@/m/*.log\n@/m/a.log @/m/?.log @/m/**/*.log  ", &r,
                            &err),
                     0);
    assert_files(f, &r, FILES("m/a.log", "m/b.log", "m/c.log", "m/sub/d.log"));
    assert_dirs_unique(&r);
    tw_glob_free(&r);
    /* An empty component is the same directory. */
    assert_int_equal(expand(f, "@/m//a.log", &r, &err), 0);
    assert_files(f, &r, FILES("m/a.log"));
    tw_glob_free(&r);
}

/* ---- unreadable directories ----------------------------------------------------------------- */

static void test_an_unreadable_directory_is_reported_and_other_matches_kept(void **state)
{
    fixture *f = *state;
    touch(f, "u/open/a.log");
    touch(f, "u/closed/b.log");
    touch(f, "u/xonly/c.log");
    assert_int_equal(chmod(at(f, "u/closed"), 0), 0);
    assert_int_equal(chmod(at(f, "u/xonly"), 0111), 0);
    bool root = geteuid() == 0; /* root reads every directory anyway */
    tw_glob_result r;
    tw_err err;

    int rc = expand(f, "@/u/*/*.log", &r, &err);
    if (root) {
        print_message("running as root: permissions are not enforced, skipping the -EACCES checks\n");
        assert_files(f, &r, FILES("u/closed/b.log", "u/open/a.log", "u/xonly/c.log"));
    } else {
        /* The first problem found is described: directory order decides. */
        assert_int_equal(rc, -EACCES);
        assert_true(strstr(err.msg, "u/closed") || strstr(err.msg, "u/xonly"));
        assert_non_null(strstr(err.msg, "cannot read directory"));
        assert_files(f, &r, FILES("u/open/a.log"));
    }
    tw_glob_free(&r);

    /* Named literally below a directory we may not search: reported too,
     * not silently "no such file". */
    rc = expand(f, "@/u/closed/b.log @/u/open/a.log", &r, &err);
    if (!root) {
        assert_int_equal(rc, -EACCES);
        assert_non_null(strstr(err.msg, "u/closed"));
        assert_files(f, &r, FILES("u/open/a.log"));
    }
    tw_glob_free(&r);

    /* Searchable but not listable: a literal name works, a wildcard cannot. */
    assert_int_equal(expand(f, "@/u/xonly/c.log", &r, &err), 0);
    assert_files(f, &r, FILES("u/xonly/c.log"));
    tw_glob_free(&r);
    rc = expand(f, "@/u/xonly/*.log", &r, &err);
    if (!root) {
        assert_int_equal(rc, -EACCES);
        assert_non_null(strstr(err.msg, "u/xonly"));
        assert_files(f, &r, NO_FILES);
    }
    tw_glob_free(&r);
}

/* ---- tw_glob_check ---------------------------------------------------------------------- */

static void test_check_refuses_relative_directory_and_empty_patterns(void **state)
{
    (void)state;
    tw_err err;
    assert_int_equal(tw_glob_check("/var/log/nginx/access.log", &err), 0);
    assert_int_equal(tw_glob_check("/var/log/**/*.log  /srv/app*/log/[a-z]?.log", &err), 0);

    assert_int_equal(tw_glob_check("", &err), -EINVAL);
    assert_string_equal(err.msg, "no path given");
    assert_int_equal(tw_glob_check(" \t\n", &err), -EINVAL);
    assert_string_equal(err.msg, "no path given");

    assert_int_equal(tw_glob_check("var/log/*.log", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"var/log/*.log\" is not an absolute path"));
    assert_int_equal(tw_glob_check("/ok/*.log relative.log", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"relative.log\""));

    assert_int_equal(tw_glob_check("/var/log/", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"/var/log/\" names a directory"));

    char longp[4200];
    longp[0] = '/';
    memset(longp + 1, 'a', sizeof longp - 2);
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(tw_glob_check(longp, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "too long"));
    assert_int_equal(tw_glob_check("relative", NULL), -EINVAL);
}

int main(void)
{
    tw_log_init("test_tail_glob", TW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_star_question_mark_and_brackets_match_file_names),
        T(test_wildcards_in_directory_components),
        T(test_only_regular_files_are_results),
        T(test_globstar_matches_zero_or_more_directories),
        T(test_globstar_stops_at_the_depth_limit),
        T(test_wildcards_do_not_match_hidden_files),
        T(test_symlinks_to_files_are_followed_and_dangling_ones_skipped),
        T(test_globstar_does_not_follow_symlinked_directories_or_loops),
        T(test_directories_where_a_missing_file_would_appear_are_watched),
        T(test_several_patterns_give_sorted_unique_results),
        T(test_an_unreadable_directory_is_reported_and_other_matches_kept),
        T(test_check_refuses_relative_directory_and_empty_patterns),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
