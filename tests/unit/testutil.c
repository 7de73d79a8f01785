/* testutil.c — the shared unit-test fixtures declared in testutil.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "testutil.h"

int tw_test_mkdtemp(char *out, size_t size, const char *name)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "tw-test-%s", name);
    return tw_make_temp_dir(NULL, prefix, out, size, NULL) == 0 ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int tw_test_rm_rf(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

void tw_test_write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

void tw_test_assert_json_equal(const json_t *got, const char *want_text, const char *file,
                               int line)
{
    json_error_t error;
    json_t *want = json_loads(want_text, 0, &error);
    if (want == NULL) {
        print_error("bad expected JSON: %s\n", error.text);
        _fail(file, line);
    }
    if (!json_equal(got, want)) {
        char *text = json_dumps(got, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        print_error("got  %s\nwant %s\n", text, want_text);
        free(text);
        json_decref(want);
        _fail(file, line);
    }
    json_decref(want);
}

void tw_test_dump_conf_errors(const tw_conf *conf)
{
    for (size_t i = 0; i < conf->n_errors; i++)
        print_error("  error %zu: %s\n", i, conf->errors[i]);
}

void tw_test_assert_conf_error_count(const tw_conf *conf, size_t n, const char *src,
                                     int src_line)
{
    if (conf->n_errors != n) {
        print_error("expected %zu error(s), got %zu:\n", n, conf->n_errors);
        tw_test_dump_conf_errors(conf);
        _fail(src, src_line);
    }
}

void tw_test_assert_conf_error(const tw_conf *conf, size_t i, const char *file, int line,
                               const char *text, const char *src, int src_line)
{
    char want[2048];
    if (line > 0)
        snprintf(want, sizeof want, "%s:%d: %s", file, line, text);
    else
        snprintf(want, sizeof want, "%s: %s", file, text);
    if (i >= conf->n_errors) {
        print_error("expected error %zu \"%s\", but there are only %zu:\n", i, want,
                    conf->n_errors);
        tw_test_dump_conf_errors(conf);
        _fail(src, src_line);
    }
    if (strcmp(conf->errors[i], want) != 0) {
        print_error("error %zu is\n  \"%s\"\nexpected\n  \"%s\"\n", i, conf->errors[i], want);
        _fail(src, src_line);
    }
}
