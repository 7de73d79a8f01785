/* test_conf.c — the configuration file layer (lib/conf.h): real files in a
 * temporary directory, drop-ins in byte order, ${ENV} substitution,
 * continuation lines, inih's line limit, and every syntax error reported
 * with its file and exact line. The typed key tables are in
 * test_conf_schema.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "err.h"
#include "testutil.h"

/* Variables the tests set; nothing else in the environment is relied on. */
#define ENV_SET "TW_TEST_CONF_SET"
#define ENV_EMPTY "TW_TEST_CONF_EMPTY"
#define ENV_UNSET "TW_TEST_CONF_UNSET"
#define ENV_SECRET "TW_TEST_CONF_SECRET"
#define SECRET_VALUE "wJalrXUtnFEMI-K7MDENG"

typedef struct fixture {
    char dir[256];
    char main_path[300];  /* dir/agent.conf */
    char dropin_dir[300]; /* dir/agent.conf.d */
    tw_conf conf;
} fixture;

/* ---- files -------------------------------------------------------------- */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "conf") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->main_path, sizeof f->main_path, "%s/agent.conf", f->dir);
    snprintf(f->dropin_dir, sizeof f->dropin_dir, "%s/agent.conf.d", f->dir);
    tw_conf_init(&f->conf);
    setenv(ENV_SET, "from-env", 1);
    setenv(ENV_EMPTY, "", 1);
    setenv(ENV_SECRET, SECRET_VALUE, 1);
    unsetenv(ENV_UNSET);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_conf_free(&f->conf);
    int rc = tw_test_rm_rf(f->dir);
    unsetenv(ENV_SET);
    unsetenv(ENV_EMPTY);
    unsetenv(ENV_SECRET);
    free(f);
    return rc;
}

/* Writes len bytes (NULs included) to dir/name; returns the full path in path. */
static void write_bytes(const char *dir, const char *name, const char *data, size_t len,
                        char *path, size_t path_size)
{
    char local[512];
    if (path == NULL) {
        path = local;
        path_size = sizeof local;
    }
    snprintf(path, path_size, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    write_bytes(dir, name, text, strlen(text), NULL, 0);
}

static void write_main(fixture *f, const char *text)
{
    write_text(f->dir, "agent.conf", text);
}

static void make_dropin_dir(fixture *f)
{
    assert_int_equal(mkdir(f->dropin_dir, 0700), 0);
}

static int load(fixture *f)
{
    return tw_conf_load(&f->conf, f->main_path, f->dropin_dir);
}

/* ---- assertions --------------------------------------------------------- */

static const tw_conf_entry *entry(const tw_conf *conf, const char *section, const char *key)
{
    const tw_conf_section *s = tw_conf_find_section(conf, section);
    if (s == NULL)
        return NULL;
    return tw_conf_find(s, key);
}

/* The entry must exist with this value, file and line (and continuation line). */
#define assert_entry(conf, section, key, value, file, line, cont) \
    assert_entry_((conf), (section), (key), (value), (file), (line), (cont), __FILE__, __LINE__)

static void assert_entry_(const tw_conf *conf, const char *section, const char *key,
                          const char *value, const char *file, int line, int cont,
                          const char *src, int src_line)
{
    const tw_conf_entry *e = entry(conf, section, key);
    if (e == NULL) {
        print_error("[%s] %s is not set\n", section, key);
        _fail(src, src_line);
    }
    if (strcmp(e->value, value) != 0 || strcmp(e->file, file) != 0 || e->line != line ||
        e->continuation_line != cont) {
        print_error("[%s] %s = \"%s\" at %s:%d (continuation %d)\nexpected \"%s\" at %s:%d "
                    "(continuation %d)\n",
                    section, key, e->value, e->file, e->line, e->continuation_line, value,
                    file, line, cont);
        _fail(src, src_line);
    }
}

/* ---- files and drop-ins ------------------------------------------------- */

static void test_dropins_are_read_after_the_main_file_in_byte_order(void **state)
{
    fixture *f = *state;
    write_main(f, "[order]\nlast = main\n");
    make_dropin_dir(f);
    /* Byte order: 10-b 9-a A B a b. A locale would put a before A and
     * (ignoring punctuation) could reorder the digits; fleets rely on bytes. */
    const char *names[] = {"b.conf", "a.conf", "B.conf", "A.conf", "9-a.conf", "10-b.conf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "; %s\n[order]\nlast = %s\n", names[i], names[i]);
        write_text(f->dropin_dir, names[i], text);
    }

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);

    const char *want[] = {"10-b.conf", "9-a.conf", "A.conf", "B.conf", "a.conf", "b.conf"};
    assert_int_equal(f->conf.n_files, 7);
    assert_string_equal(f->conf.files[0], f->main_path);
    for (size_t i = 0; i < 6; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", f->dropin_dir, want[i]);
        assert_string_equal(f->conf.files[i + 1], path);
    }
    char last[512];
    snprintf(last, sizeof last, "%s/b.conf", f->dropin_dir);
    assert_entry(&f->conf, "order", "last", "b.conf", last, 3, 0);
    /* The section is where it first appeared. */
    const tw_conf_section *s = tw_conf_find_section(&f->conf, "order");
    assert_non_null(s);
    assert_string_equal(s->file, f->main_path);
    assert_int_equal(s->line, 1);
    assert_int_equal(f->conf.n_sections, 1);
}

static void test_non_conf_and_dot_files_in_the_dropin_dir_are_ignored(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\nx = 1\n");
    make_dropin_dir(f);
    const char *ignored[] = {"README", "notes.txt", "x.conf.bak", "x.conf~", "x.CONF",
                             ".hidden.conf", ".conf", "conf", "x.conf.dpkg-old"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        write_text(f->dropin_dir, ignored[i], "this is not an ini file\n[[[\n");
    write_text(f->dropin_dir, "real.conf", "[a]\ny = 2\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_int_equal(f->conf.n_files, 2);
    char path[512];
    snprintf(path, sizeof path, "%s/real.conf", f->dropin_dir);
    assert_string_equal(f->conf.files[1], path);
    assert_entry(&f->conf, "a", "y", "2", path, 2, 0);
}

static void test_a_directory_named_like_a_dropin_is_an_error(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n");
    make_dropin_dir(f);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub.conf", f->dropin_dir);
    assert_int_equal(mkdir(sub, 0700), 0);

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, sub, 0, "is not a regular file");
}

static void test_dropin_key_replaces_the_main_value_file_and_line(void **state)
{
    fixture *f = *state;
    write_main(f, "[agent]\n"
                  "state_dir = /var/lib/main\n"
                  "log_level = info\n"
                  "path = /a\n"
                  "  /b\n");
    make_dropin_dir(f);
    char dropin[512];
    const char *text = "# fleet override\n"
                       "\n"
                       "[agent]\n"
                       "state_dir = /srv/dropin\n"
                       "path = /c\n";
    write_bytes(f->dropin_dir, "50-override.conf", text, strlen(text), dropin, sizeof dropin);

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "agent", "state_dir", "/srv/dropin", dropin, 4, 0);
    assert_entry(&f->conf, "agent", "log_level", "info", f->main_path, 3, 0);
    /* The main file's continuation does not survive the replacement. */
    assert_entry(&f->conf, "agent", "path", "/c", dropin, 5, 0);
    const tw_conf_section *s = tw_conf_find_section(&f->conf, "agent");
    assert_int_equal(s->n_entries, 3);
}

static void test_same_key_twice_in_one_file_is_an_error_naming_both_lines(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "x = 1\n"
                  "y = 2\n"
                  "\n"
                  "x = 3\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 5, "[a] x is set twice (first at line 2); remove one");
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 2, 0);
}

static void test_same_key_twice_in_one_dropin_is_an_error_naming_its_lines(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\nx = 1\n");
    make_dropin_dir(f);
    char dropin[512];
    const char *text = "[a]\nx = 2\nx = 3\n";
    write_bytes(f->dropin_dir, "d.conf", text, strlen(text), dropin, sizeof dropin);

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, dropin, 3, "[a] x is set twice (first at line 2); remove one");
}

static void test_same_section_twice_in_one_file_is_an_error(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "x = 1\n"
                  "[b]\n"
                  "[a]\n"
                  "y = 2\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 4,
                 "section [a] appears twice in this file (first at line 1); merge the two");
}

/* A drop-in may add to a section of the main file, but repeating a section
 * inside the drop-in is the same mistake as in the main file. */
static void test_same_section_twice_in_one_dropin_is_an_error(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\nx = 1\n");
    make_dropin_dir(f);
    char dropin[512];
    const char *text = "[a]\ny = 2\n[b]\n[a]\nz = 3\n";
    write_bytes(f->dropin_dir, "d.conf", text, strlen(text), dropin, sizeof dropin);

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, dropin, 4,
                 "section [a] appears twice in this file (first at line 1); merge the two");
}

static void test_missing_main_file_is_an_error(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 0, "cannot open: No such file or directory");
    assert_int_equal(f->conf.n_sections, 0);
}

static void test_missing_dropin_dir_is_fine(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\nx = 1\n");
    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_int_equal(f->conf.n_files, 1);
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 2, 0);
}

/* ---- ${ENV} ------------------------------------------------------------- */

static void test_env_references_are_replaced(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "plain = ${" ENV_SET "}\n"
                  "inside = pre-${" ENV_SET "}-post\n"
                  "set_default = ${" ENV_SET ":-unused}\n"
                  "unset_default = ${" ENV_UNSET ":-fallback value}\n"
                  "empty_default = ${" ENV_EMPTY ":-was empty}\n"
                  "empty_default_empty = x${" ENV_UNSET ":-}y\n"
                  "twice = ${" ENV_SET "}/${" ENV_SET "}\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "a", "plain", "from-env", f->main_path, 2, 0);
    assert_entry(&f->conf, "a", "inside", "pre-from-env-post", f->main_path, 3, 0);
    assert_entry(&f->conf, "a", "set_default", "from-env", f->main_path, 4, 0);
    assert_entry(&f->conf, "a", "unset_default", "fallback value", f->main_path, 5, 0);
    assert_entry(&f->conf, "a", "empty_default", "was empty", f->main_path, 6, 0);
    assert_entry(&f->conf, "a", "empty_default_empty", "xy", f->main_path, 7, 0);
    assert_entry(&f->conf, "a", "twice", "from-env/from-env", f->main_path, 8, 0);
}

static void test_dollar_escapes_and_lone_dollars_are_kept(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "literal = $${" ENV_SET "}\n"
                  "nginx = $remote_addr - $remote_user [$time_local] \"$request\" $status\n"
                  "lone = 5$ and $ and $\n"
                  "double = $$x\n"
                  "brace = {not} $}\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "a", "literal", "${" ENV_SET "}", f->main_path, 2, 0);
    assert_entry(&f->conf, "a", "nginx",
                 "$remote_addr - $remote_user [$time_local] \"$request\" $status", f->main_path,
                 3, 0);
    assert_entry(&f->conf, "a", "lone", "5$ and $ and $", f->main_path, 4, 0);
    assert_entry(&f->conf, "a", "double", "$$x", f->main_path, 5, 0);
    assert_entry(&f->conf, "a", "brace", "{not} $}", f->main_path, 6, 0);
}

static void test_env_values_are_not_expanded_again(void **state)
{
    fixture *f = *state;
    setenv(ENV_SET, "${" ENV_UNSET "}", 1);
    write_main(f, "[a]\nx = ${" ENV_SET "}\n");
    assert_int_equal(load(f), 0);
    assert_entry(&f->conf, "a", "x", "${" ENV_UNSET "}", f->main_path, 2, 0);
}

static void test_unset_env_var_is_an_error_naming_it_but_no_value(void **state)
{
    fixture *f = *state;
    write_main(f, "[endpoint]\n"
                  "region = us-east-1\n"
                  "secret_access_key = ${" ENV_SECRET "}${" ENV_UNSET "}\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 3,
                 "[endpoint] secret_access_key: environment variable " ENV_UNSET
                 " is not set (write ${" ENV_UNSET ":-default} to give a default)");
    assert_null(strstr(f->conf.errors[0], SECRET_VALUE));
    assert_null(strstr(f->conf.errors[0], "wJalr"));
}

static void test_empty_env_var_without_default_is_an_error(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n\nx = ${" ENV_EMPTY "}\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 3,
                 "[a] x: environment variable " ENV_EMPTY
                 " is empty (write ${" ENV_EMPTY ":-default} to give a default)");
}

static void test_malformed_env_references_are_errors(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "empty = ${}\n"
                  "digit = ${1ABC}\n"
                  "blank = ${A B}\n"
                  "colon = ${A:B}\n"
                  "open = x ${" ENV_SET "\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 5);
    const char *expected = "(expected ${NAME} or ${NAME:-default}, NAME made of letters, "
                           "digits and _)";
    char want[512];
    /* The message gives the position, never the text: it may be part of a secret. */
    snprintf(want, sizeof want, "[a] empty: bad variable reference at character 1 of the value %s",
             expected);
    assert_conf_error(&f->conf, 0, f->main_path, 2, want);
    snprintf(want, sizeof want, "[a] digit: bad variable reference at character 1 of the value %s",
             expected);
    assert_conf_error(&f->conf, 1, f->main_path, 3, want);
    snprintf(want, sizeof want, "[a] blank: bad variable reference at character 1 of the value %s",
             expected);
    assert_conf_error(&f->conf, 2, f->main_path, 4, want);
    snprintf(want, sizeof want, "[a] colon: bad variable reference at character 1 of the value %s",
             expected);
    assert_conf_error(&f->conf, 3, f->main_path, 5, want);
    assert_conf_error(&f->conf, 4, f->main_path, 6,
                 "[a] open: unterminated \"${\" (expected ${NAME} or ${NAME:-default}; write "
                 "$${ for a literal ${)");
}

/* ---- continuation lines ------------------------------------------------- */

static void test_continuation_lines_join_with_one_space(void **state)
{
    fixture *f = *state;
    write_main(f, "[logs nginx]\n"
                  "path = /var/log/a.log\n"
                  "    /var/log/b.log\n"
                  "\n"
                  "  ; a comment between continuation lines\n"
                  "\t/var/log/${" ENV_SET "}.log   \n"
                  "format = nginx\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "logs nginx", "path",
                 "/var/log/a.log /var/log/b.log /var/log/from-env.log", f->main_path, 2, 3);
    assert_entry(&f->conf, "logs nginx", "format", "nginx", f->main_path, 7, 0);
}

static void test_continuation_of_an_empty_value_has_no_leading_space(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\nx =\n  first\n  second\n");
    assert_int_equal(load(f), 0);
    assert_entry(&f->conf, "a", "x", "first second", f->main_path, 2, 3);
}

static void test_indented_first_key_of_a_section_is_not_a_continuation(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "x = 1\n"
                  "[b]\n"
                  "  y = 2\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 2, 0);
    assert_entry(&f->conf, "b", "y", "2", f->main_path, 4, 0);
}

static void test_indented_line_after_a_nameless_key_is_a_key(void **state)
{
    fixture *f = *state;
    /* inih keeps no previous key after "= 1", so "  y = 2" is a key line. */
    write_main(f, "[a]\n"
                  "= 1\n"
                  "  y = 2\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 2, "missing key name before \"=\"");
    assert_entry(&f->conf, "a", "y", "2", f->main_path, 3, 0);
}

/* A header inih rejects keeps inih's previous key: the indented lines after
 * it are continuations for inih and must not land on another section. */
static void test_indented_lines_after_a_rejected_header_are_not_misapplied(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "k1 = 1\n"
                  "k2 = 2\n"
                  "k3 = 3\n"
                  "  cont\n"
                  "[b\n"
                  "  [c]\n"
                  "  more = x\n"
                  "[d ; comment]\n"
                  "  z = 1\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 2);
    assert_conf_error(&f->conf, 0, f->main_path, 6,
                 "unterminated section header \"[b\" (expected \"[name]\")");
    assert_conf_error(&f->conf, 1, f->main_path, 9,
                 "unterminated section header \"[d ; comment]\" (expected \"[name]\")");
    assert_entry(&f->conf, "a", "k3", "3 cont", f->main_path, 4, 5);
    assert_int_equal(f->conf.n_sections, 1);
    assert_int_equal(f->conf.sections[0].n_entries, 3);
}

/* ---- line syntax -------------------------------------------------------- */

static void test_line_over_the_limit_is_an_error_with_length_and_limit(void **state)
{
    fixture *f = *state;
    assert_int_equal(TW_CONF_MAX_LINE, 197);
    char text[1024];
    char fits[200], too_long[200];
    memset(fits, 'v', 193); /* "k = " + 193 = 197 */
    fits[193] = '\0';
    memset(too_long, 'w', 191); /* "long = " + 191 = 198 */
    too_long[191] = '\0';
    snprintf(text, sizeof text, "[a]\nk = %s\r\nlong = %s\nafter = 1\n", fits, too_long);
    write_main(f, text);

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 3,
                 "line is 198 characters long; the limit is 197: split a long value over "
                 "indented continuation lines");
    assert_entry(&f->conf, "a", "k", fits, f->main_path, 2, 0);
    assert_null(entry(&f->conf, "a", "long"));
    assert_entry(&f->conf, "a", "after", "1", f->main_path, 4, 0);
}

static void test_line_of_exactly_the_limit_is_fine(void **state)
{
    fixture *f = *state;
    char text[512], value[200];
    memset(value, 'x', 193);
    value[193] = '\0';
    snprintf(text, sizeof text, "[a]\nk = %s\n", value);
    assert_int_equal(strlen(strchr(text, 'k')) - 1, TW_CONF_MAX_LINE);
    write_main(f, text);

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "a", "k", value, f->main_path, 2, 0);
}

static void test_line_without_equals_is_an_error_quoting_it(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\n"
                  "x = 1\n"
                  "just some words\n"
                  "this line has no separator and goes on for quite a while longer\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 2);
    assert_conf_error(&f->conf, 0, f->main_path, 3,
                 "expected \"key = value\", found \"just some words\"");
    /* Long lines are quoted in part. */
    assert_conf_error(&f->conf, 1, f->main_path, 4,
                 "expected \"key = value\", found "
                 "\"this line has no separator and goes on for q...\"");
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 2, 0);
}

static void test_bad_section_headers_are_errors(void **state)
{
    fixture *f = *state;
    write_main(f, "[unterminated\n"
                  "ignored = 1\n"
                  "[good] trailing text\n"
                  "[]\n"
                  "[  ]\n"
                  "[fine] ; a comment\n"
                  "k = v\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 4);
    assert_conf_error(&f->conf, 0, f->main_path, 1,
                 "unterminated section header \"[unterminated\" (expected \"[name]\")");
    assert_conf_error(&f->conf, 1, f->main_path, 3,
                 "unexpected text \"trailing text\" after the section header");
    assert_conf_error(&f->conf, 2, f->main_path, 4, "empty section name \"[]\"");
    assert_conf_error(&f->conf, 3, f->main_path, 5, "empty section name \"[]\"");
    /* Keys under a bad header are not reported a second time. */
    assert_null(tw_conf_find_section(&f->conf, "good"));
    assert_entry(&f->conf, "fine", "k", "v", f->main_path, 7, 0);
}

static void test_key_before_any_section_is_an_error(void **state)
{
    fixture *f = *state;
    write_main(f, "; comment\n"
                  "\n"
                  "orphan = 1\n"
                  "[a]\n"
                  "x = 1\n");

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 3,
                 "\"orphan\" is outside any section: put it under a [section] header");
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 5, 0);
}

static void test_nul_byte_is_an_error_and_the_rest_is_read(void **state)
{
    fixture *f = *state;
    static const char text[] = "[a]\nx = 1\0hidden\ny = 2\n";
    write_bytes(f->dir, "agent.conf", text, sizeof text - 1, NULL, 0);

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 1);
    assert_conf_error(&f->conf, 0, f->main_path, 2, "line contains a NUL byte");
    assert_null(entry(&f->conf, "a", "x"));
    assert_entry(&f->conf, "a", "y", "2", f->main_path, 3, 0);
}

static void test_byte_order_mark_at_start_is_fine(void **state)
{
    fixture *f = *state;
    write_main(f, "\xEF\xBB\xBF[a]\nx = 1\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    const tw_conf_section *s = tw_conf_find_section(&f->conf, "a");
    assert_non_null(s);
    assert_int_equal(s->line, 1);
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 2, 0);
}

static void test_crlf_line_endings_work(void **state)
{
    fixture *f = *state;
    write_main(f, "[a]\r\n"
                  "x = 1\r\n"
                  "path = /a\r\n"
                  "  /b\r\n"
                  "\r\n"
                  "[b]\r\n"
                  "y = 2\r\n");

    assert_int_equal(load(f), 0);
    assert_conf_error_count(&f->conf, 0);
    assert_entry(&f->conf, "a", "x", "1", f->main_path, 2, 0);
    assert_entry(&f->conf, "a", "path", "/a /b", f->main_path, 3, 4);
    assert_entry(&f->conf, "b", "y", "2", f->main_path, 7, 0);
}

static void test_section_names_are_trimmed_and_blanks_collapsed(void **state)
{
    fixture *f = *state;
    write_main(f, "[ logs   nginx ]\n"
                  "x = 1\n"
                  "[plugin\tredis]\n"
                  "y = 2\n");

    assert_int_equal(load(f), 0);
    assert_int_equal(f->conf.n_sections, 2);
    assert_string_equal(f->conf.sections[0].name, "logs nginx");
    assert_string_equal(f->conf.sections[1].name, "plugin redis");
    assert_entry(&f->conf, "logs nginx", "x", "1", f->main_path, 2, 0);
    assert_entry(&f->conf, "plugin redis", "y", "2", f->main_path, 4, 0);
}

static void test_all_errors_are_collected_with_their_lines(void **state)
{
    fixture *f = *state;
    write_main(f, "orphan = 1\n"                     /* 1 */
                  "[a]\n"                            /* 2 */
                  "x = 1\n"                          /* 3 */
                  "y = ${" ENV_UNSET "}\n"           /* 4 */
                  "\n"                               /* 5 */
                  "x = 2\n"                          /* 6 */
                  "no separator here\n"              /* 7 */
                  "[b\n"                             /* 8 */
                  "z = 1\n"                          /* 9: under a bad header */
                  "[c]\n"                            /* 10 */
                  "w = 1\n");                        /* 11 */

    assert_int_equal(load(f), -EINVAL);
    assert_conf_error_count(&f->conf, 5);
    assert_conf_error(&f->conf, 0, f->main_path, 1,
                 "\"orphan\" is outside any section: put it under a [section] header");
    assert_conf_error(&f->conf, 1, f->main_path, 4,
                 "[a] y: environment variable " ENV_UNSET " is not set (write ${" ENV_UNSET
                 ":-default} to give a default)");
    assert_conf_error(&f->conf, 2, f->main_path, 6, "[a] x is set twice (first at line 3); remove one");
    assert_conf_error(&f->conf, 3, f->main_path, 7,
                 "expected \"key = value\", found \"no separator here\"");
    assert_conf_error(&f->conf, 4, f->main_path, 8,
                 "unterminated section header \"[b\" (expected \"[name]\")");
    assert_entry(&f->conf, "c", "w", "1", f->main_path, 11, 0);
}

static void test_load_string_names_the_text(void **state)
{
    (void)state;
    tw_conf conf;
    tw_conf_init(&conf);
    assert_int_equal(tw_conf_load_string(&conf, "inline.conf", "[a]\nx = 1\nbad\n"), -EINVAL);
    assert_conf_error_count(&conf, 1);
    assert_conf_error(&conf, 0, "inline.conf", 3, "expected \"key = value\", found \"bad\"");
    assert_entry(&conf, "a", "x", "1", "inline.conf", 2, 0);
    assert_null(tw_conf_find_section(&conf, "b"));
    assert_null(tw_conf_find(NULL, "x"));
    tw_conf_free(&conf);

    tw_conf_init(&conf);
    assert_int_equal(tw_conf_load_string(&conf, "empty.conf", ""), 0);
    assert_int_equal(conf.n_sections, 0);
    assert_int_equal(conf.n_files, 1);
    tw_conf_free(&conf);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_dropins_are_read_after_the_main_file_in_byte_order),
        T(test_non_conf_and_dot_files_in_the_dropin_dir_are_ignored),
        T(test_a_directory_named_like_a_dropin_is_an_error),
        T(test_dropin_key_replaces_the_main_value_file_and_line),
        T(test_same_key_twice_in_one_file_is_an_error_naming_both_lines),
        T(test_same_key_twice_in_one_dropin_is_an_error_naming_its_lines),
        T(test_same_section_twice_in_one_file_is_an_error),
        T(test_same_section_twice_in_one_dropin_is_an_error),
        T(test_missing_main_file_is_an_error),
        T(test_missing_dropin_dir_is_fine),
        T(test_env_references_are_replaced),
        T(test_dollar_escapes_and_lone_dollars_are_kept),
        T(test_env_values_are_not_expanded_again),
        T(test_unset_env_var_is_an_error_naming_it_but_no_value),
        T(test_empty_env_var_without_default_is_an_error),
        T(test_malformed_env_references_are_errors),
        T(test_continuation_lines_join_with_one_space),
        T(test_continuation_of_an_empty_value_has_no_leading_space),
        T(test_indented_first_key_of_a_section_is_not_a_continuation),
        T(test_indented_line_after_a_nameless_key_is_a_key),
        T(test_indented_lines_after_a_rejected_header_are_not_misapplied),
        T(test_line_over_the_limit_is_an_error_with_length_and_limit),
        T(test_line_of_exactly_the_limit_is_fine),
        T(test_line_without_equals_is_an_error_quoting_it),
        T(test_bad_section_headers_are_errors),
        T(test_key_before_any_section_is_an_error),
        T(test_nul_byte_is_an_error_and_the_rest_is_read),
        T(test_byte_order_mark_at_start_is_fine),
        T(test_crlf_line_endings_work),
        T(test_section_names_are_trimmed_and_blanks_collapsed),
        T(test_all_errors_are_collected_with_their_lines),
        T(test_load_string_names_the_text),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
