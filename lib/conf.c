/* conf.c — INI files and drop-ins into a tw_conf (see conf.h).
 *
 * inih parses each line; we feed it through our own reader so that we know
 * the line number, the raw indentation and the line length, which inih does
 * not tell its handler (Debian builds it with INI_HANDLER_LINENO = 0). A line
 * that should have reached the handler but did not is one inih rejected.
 */
#include "conf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

typedef struct file_parse {
    tw_conf *conf;
    const char *file;
    FILE *fp;
    char *line;
    size_t line_cap;
    int lineno;
    bool line_wants_handler;   /* the last line handed to inih is key = value */
    bool line_is_continuation; /* ... or an indented continuation of one */
    bool handler_called;
    bool have_previous_key;    /* inih's prev_name: continuation is possible */
    bool in_bad_section;       /* header had an error: don't pile on */
    long section;              /* index into conf->sections, -1 before any */
    long entry;                /* last entry set in this file, for continuations */
    int *header_line;          /* per section index: its header's line in this file, or 0 */
    size_t n_header_line;
    char raw_excerpt[48];      /* start of the last line, for messages */
} file_parse;

#define GROW(array, n, cap)                                                  \
    do {                                                                     \
        if ((n) == (cap)) {                                                  \
            (cap) = (cap) ? (cap) * 2 : 8;                                   \
            (array) = tw_realloc((array), (cap) * sizeof *(array));          \
        }                                                                    \
    } while (0)

void tw_conf_init(tw_conf *conf)
{
    memset(conf, 0, sizeof *conf);
}

void tw_conf_free(tw_conf *conf)
{
    for (size_t i = 0; i < conf->n_sections; i++) {
        tw_conf_section *s = &conf->sections[i];
        for (size_t j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->name);
    }
    free(conf->sections);
    for (size_t i = 0; i < conf->n_files; i++)
        free(conf->files[i]);
    free(conf->files);
    for (size_t i = 0; i < conf->n_errors; i++)
        free(conf->errors[i]);
    free(conf->errors);
    free(conf->error_positions);
    memset(conf, 0, sizeof *conf);
}

void tw_conf_error(tw_conf *conf, const char *file, int line, const char *fmt, ...)
{
    tw_buf b = TW_BUF_INIT;
    if (line > 0)
        tw_buf_printf(&b, "%s:%d: ", file, line);
    else
        tw_buf_printf(&b, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    tw_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    size_t cap = conf->cap_errors;
    GROW(conf->errors, conf->n_errors, conf->cap_errors);
    if (cap != conf->cap_errors)
        conf->error_positions = tw_realloc(conf->error_positions,
                                           conf->cap_errors * sizeof *conf->error_positions);
    long file_index = -1;
    for (size_t i = 0; i < conf->n_files; i++)
        if (conf->files[i] == file || strcmp(conf->files[i], file) == 0)
            file_index = (long)i;
    conf->error_positions[conf->n_errors].file = file_index;
    conf->error_positions[conf->n_errors].line = line;
    conf->errors[conf->n_errors++] = tw_buf_steal(&b);
}

void tw_conf_sort_errors(tw_conf *conf)
{
    /* Insertion sort: stable, and error lists are short. */
    for (size_t i = 1; i < conf->n_errors; i++) {
        char *text = conf->errors[i];
        struct tw_conf_error_position pos = conf->error_positions[i];
        size_t j = i;
        while (j > 0 && (conf->error_positions[j - 1].file > pos.file ||
                         (conf->error_positions[j - 1].file == pos.file &&
                          conf->error_positions[j - 1].line > pos.line))) {
            conf->errors[j] = conf->errors[j - 1];
            conf->error_positions[j] = conf->error_positions[j - 1];
            j--;
        }
        conf->errors[j] = text;
        conf->error_positions[j] = pos;
    }
}

const tw_conf_section *tw_conf_find_section(const tw_conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->n_sections; i++)
        if (strcmp(conf->sections[i].name, name) == 0)
            return &conf->sections[i];
    return NULL;
}

const tw_conf_entry *tw_conf_find(const tw_conf_section *section, const char *key)
{
    if (section == NULL)
        return NULL;
    for (size_t i = 0; i < section->n_entries; i++)
        if (strcmp(section->entries[i].key, key) == 0)
            return &section->entries[i];
    return NULL;
}

static bool is_var_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool is_var_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Appends value to out with ${NAME} and ${NAME:-default} replaced. Messages
 * name the variable, never its value: values may be secrets. */
static int substitute_env(tw_buf *out, const char *value, tw_err *err)
{
    const char *p = value;
    while (*p != '\0') {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            tw_buf_puts(out, "${");
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            tw_buf_putc(out, *p++);
            continue;
        }
        const char *name = p + 2;
        const char *close = strchr(name, '}');
        if (close == NULL)
            return tw_err_set(err, -EINVAL,
                              "unterminated \"${\" (expected ${NAME} or ${NAME:-default}; "
                              "write $${ for a literal ${)");
        const char *end = name;
        while (end < close && is_var_char(*end))
            end++;
        size_t name_len = (size_t)(end - name);
        if (name_len == 0 || !is_var_start(*name) || (end != close && strncmp(end, ":-", 2) != 0))
            return tw_err_set(err, -EINVAL,
                              "bad variable reference at character %zu of the value "
                              "(expected ${NAME} or ${NAME:-default}, NAME made of letters, "
                              "digits and _)",
                              (size_t)(p - value) + 1);
        char var[256];
        if (name_len >= sizeof var)
            return tw_err_set(err, -EINVAL, "environment variable name too long");
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        const char *env = getenv(var);
        if (env != NULL && *env != '\0') {
            tw_buf_puts(out, env);
        } else if (end != close) {
            const char *def = end + 2;
            tw_buf_append(out, def, (size_t)(close - def));
        } else {
            return tw_err_set(err, -EINVAL,
                              "environment variable %s is %s (write ${%s:-default} to give "
                              "a default)",
                              var, env == NULL ? "not set" : "empty", var);
        }
        p = close + 1;
    }
    return 0;
}

static long add_section(tw_conf *conf, const char *name, const char *file, int line)
{
    for (size_t i = 0; i < conf->n_sections; i++)
        if (strcmp(conf->sections[i].name, name) == 0)
            return (long)i;
    GROW(conf->sections, conf->n_sections, conf->cap_sections);
    tw_conf_section *s = &conf->sections[conf->n_sections];
    memset(s, 0, sizeof *s);
    s->name = tw_strdup(name);
    s->file = file;
    s->line = line;
    return (long)conf->n_sections++;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The "]" closing a section header, found the way inih finds it: an inline
 * comment (";" after a blank) ends the search. NULL when inih will reject the
 * line; inih then keeps its previous key, so an indented line that follows
 * is still a continuation for it. */
static char *find_header_close(char *text)
{
    bool was_space = false;
    for (char *c = text + 1; *c != '\0'; c++) {
        if (*c == ']')
            return c;
        if (was_space && *c == ';')
            return NULL;
        was_space = isspace((unsigned char)*c);
    }
    return NULL;
}

/* A section header line, as inih will see it: "[name]" then maybe a comment. */
static void take_section_header(file_parse *p, char *text)
{
    p->section = -1;
    p->entry = -1;
    p->in_bad_section = true;
    char *close = find_header_close(text);
    if (close != NULL)
        p->have_previous_key = false; /* as inih clears prev_name */
    if (close == NULL) {
        tw_conf_error(p->conf, p->file, p->lineno,
                      "unterminated section header \"%.40s\" (expected \"[name]\")", text);
        return;
    }
    char *after = trim(close + 1);
    if (*after != '\0' && *after != ';' && *after != '#') {
        tw_conf_error(p->conf, p->file, p->lineno,
                      "unexpected text \"%.40s\" after the section header", after);
        return;
    }
    *close = '\0';
    char *name = trim(text + 1);
    if (*name == '\0') {
        tw_conf_error(p->conf, p->file, p->lineno, "empty section name \"[]\"");
        return;
    }
    /* Normalise inner runs of blanks: "[logs   nginx]" is "[logs nginx]". */
    char *w = name;
    for (char *r = name; *r; r++) {
        if (isspace((unsigned char)*r)) {
            if (w > name && w[-1] != ' ')
                *w++ = ' ';
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    long index = add_section(p->conf, name, p->file, p->lineno);
    /* Tracked per file: a drop-in may repeat a section of the main file, but
     * not one of its own. */
    if ((size_t)index >= p->n_header_line) {
        size_t n = p->conf->n_sections;
        p->header_line = tw_realloc(p->header_line, n * sizeof *p->header_line);
        memset(p->header_line + p->n_header_line, 0,
               (n - p->n_header_line) * sizeof *p->header_line);
        p->n_header_line = n;
    }
    if (p->header_line[index] != 0)
        tw_conf_error(p->conf, p->file, p->lineno,
                      "section [%s] appears twice in this file (first at line %d); "
                      "merge the two",
                      name, p->header_line[index]);
    else
        p->header_line[index] = p->lineno;
    p->section = index;
    p->in_bad_section = false;
}

static void check_last_line(file_parse *p)
{
    if (p->line_wants_handler && !p->handler_called)
        tw_conf_error(p->conf, p->file, p->lineno,
                      "expected \"key = value\", found \"%s\"", p->raw_excerpt);
    p->line_wants_handler = false;
    p->handler_called = false;
}

static void excerpt(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n < size) {
        memcpy(dst, src, n + 1);
        return;
    }
    memcpy(dst, src, size - 4);
    memcpy(dst + size - 4, "...", 4);
}

/* inih's reader: hands it one line at a time, after noting what inih should
 * do with it. Lines inih could not hold are replaced by an empty line. */
static char *reader(char *str, int num, void *stream)
{
    file_parse *p = stream;
    check_last_line(p);
    ssize_t len = getline(&p->line, &p->line_cap, p->fp);
    if (len < 0)
        return NULL;
    p->lineno++;
    size_t raw_len = (size_t)len;
    while (raw_len > 0 && (p->line[raw_len - 1] == '\n' || p->line[raw_len - 1] == '\r'))
        raw_len--;
    if (memchr(p->line, '\0', (size_t)len) != NULL) {
        tw_conf_error(p->conf, p->file, p->lineno, "line contains a NUL byte");
        strcpy(str, "\n");
        return str;
    }
    size_t limit = (size_t)num - 3;
    if (raw_len > limit) {
        tw_conf_error(p->conf, p->file, p->lineno,
                      "line is %zu characters long; the limit is %zu: split a long value "
                      "over indented continuation lines",
                      raw_len, limit);
        strcpy(str, "\n");
        return str;
    }
    memcpy(str, p->line, raw_len);
    str[raw_len] = '\n';
    str[raw_len + 1] = '\0';

    p->line[raw_len] = '\0';
    char *text = p->line;
    /* inih skips a UTF-8 byte order mark on the first line. */
    if (p->lineno == 1 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        text += 3;
    bool indented = isspace((unsigned char)text[0]);
    char *trimmed = trim(text);
    excerpt(p->raw_excerpt, sizeof p->raw_excerpt, trimmed);
    if (*trimmed == '\0' || *trimmed == ';' || *trimmed == '#')
        return str;
    if (indented && p->have_previous_key) {
        p->line_wants_handler = true;
        p->line_is_continuation = true;
        return str;
    }
    if (*trimmed == '[') {
        take_section_header(p, trimmed);
        return str;
    }
    p->line_wants_handler = true;
    p->line_is_continuation = false;
    return str;
}

static void set_entry(file_parse *p, const char *key, const char *value)
{
    tw_conf *conf = p->conf;
    if (p->section < 0) {
        if (!p->in_bad_section || p->lineno == 0)
            tw_conf_error(conf, p->file, p->lineno,
                          "\"%s\" is outside any section: put it under a [section] header", key);
        p->entry = -1;
        return;
    }
    if (*key == '\0') {
        tw_conf_error(conf, p->file, p->lineno, "missing key name before \"=\"");
        p->entry = -1;
        return;
    }
    tw_conf_section *s = &conf->sections[p->section];
    tw_buf expanded = TW_BUF_INIT;
    tw_err err;
    bool invalid = substitute_env(&expanded, value, &err) != 0;
    if (invalid)
        tw_conf_error(conf, p->file, p->lineno, "[%s] %s: %s", s->name, key, err.msg);
    for (size_t i = 0; i < s->n_entries; i++) {
        tw_conf_entry *e = &s->entries[i];
        if (strcmp(e->key, key) != 0)
            continue;
        if (e->file == p->file) {
            tw_conf_error(conf, p->file, p->lineno,
                          "[%s] %s is set twice (first at line %d); remove one", s->name, key,
                          e->line);
            tw_buf_free(&expanded);
            p->entry = -1;
            return;
        }
        free(e->value);
        e->value = tw_buf_steal(&expanded);
        e->file = p->file;
        e->line = p->lineno;
        e->continuation_line = 0;
        e->continuation_key[0] = '\0';
        e->invalid = invalid;
        p->entry = (long)i;
        return;
    }
    GROW(s->entries, s->n_entries, s->cap_entries);
    tw_conf_entry *e = &s->entries[s->n_entries];
    memset(e, 0, sizeof *e);
    e->key = tw_strdup(key);
    e->value = tw_buf_steal(&expanded);
    e->file = p->file;
    e->line = p->lineno;
    e->invalid = invalid;
    p->entry = (long)s->n_entries++;
}

/* "name = ..." or "name: ..." at the start of a continuation line: a key
 * that was probably indented by mistake. Copies name into out. */
static void note_key_like(const char *text, char out[64])
{
    size_t n = 0;
    while (n < 63 && (isalnum((unsigned char)text[n]) || text[n] == '_'))
        n++;
    size_t after = n;
    while (text[after] == ' ' || text[after] == '\t')
        after++;
    if (n == 0 || !isalpha((unsigned char)text[0]) || (text[after] != '=' && text[after] != ':'))
        return;
    memcpy(out, text, n);
    out[n] = '\0';
}

static void continue_entry(file_parse *p, const char *value)
{
    if (p->section < 0 || p->entry < 0)
        return; /* the key's own line was already reported */
    tw_conf_section *s = &p->conf->sections[p->section];
    tw_conf_entry *e = &s->entries[p->entry];
    tw_buf joined = TW_BUF_INIT;
    tw_buf_puts(&joined, e->value);
    if (joined.len > 0)
        tw_buf_putc(&joined, ' ');
    tw_err err;
    if (substitute_env(&joined, value, &err) != 0) {
        tw_conf_error(p->conf, p->file, p->lineno, "[%s] %s: %s", s->name, e->key, err.msg);
        e->invalid = true;
    }
    free(e->value);
    e->value = tw_buf_steal(&joined);
    if (e->continuation_line == 0)
        e->continuation_line = p->lineno;
    if (e->continuation_key[0] == '\0')
        note_key_like(value, e->continuation_key);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    file_parse *p = user;
    (void)section; /* we track sections ourselves, with their line numbers */
    if (!p->line_wants_handler)
        return 1; /* a line we took for something else: never act on stale state */
    p->handler_called = true;
    if (!p->line_is_continuation)
        p->have_previous_key = *name != '\0'; /* as inih sets prev_name */
    if (p->line_is_continuation)
        continue_entry(p, value);
    else
        set_entry(p, name, value);
    return 1;
}

static const char *remember_file(tw_conf *conf, const char *path)
{
    GROW(conf->files, conf->n_files, conf->cap_files);
    conf->files[conf->n_files] = tw_strdup(path);
    return conf->files[conf->n_files++];
}

static void parse_stream(tw_conf *conf, const char *file, FILE *fp)
{
    file_parse p = {.conf = conf, .file = file, .fp = fp, .section = -1, .entry = -1};
    int rc = ini_parse_stream(reader, &p, handler, &p);
    check_last_line(&p);
    free(p.line);
    free(p.header_line);
    if (rc < 0)
        tw_conf_error(conf, file, 0, "could not be parsed (out of memory)");
}

static void parse_file(tw_conf *conf, const char *path, bool must_exist)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        if (errno != ENOENT || must_exist)
            tw_conf_error(conf, path, 0, "cannot open: %s", strerror(errno));
        return;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode)) {
        tw_conf_error(conf, path, 0, "is not a regular file");
        fclose(fp);
        return;
    }
    parse_stream(conf, remember_file(conf, path), fp);
    if (ferror(fp))
        tw_conf_error(conf, path, 0, "read error: %s", strerror(errno));
    fclose(fp);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dropin_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static void parse_dropins(tw_conf *conf, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno != ENOENT)
            tw_conf_error(conf, dir, 0, "cannot open drop-in directory: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_dropin_name(de->d_name))
            continue;
        GROW(names, n, cap);
        names[n++] = tw_strdup(de->d_name);
    }
    closedir(d);
    /* strcmp, not strcoll: the order must not depend on the locale. (With
     * no drop-ins names is NULL, which qsort must not be given.) */
    if (n > 0)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        tw_buf path = TW_BUF_INIT;
        tw_buf_printf(&path, "%s/%s", dir, names[i]);
        parse_file(conf, path.data, true);
        tw_buf_free(&path);
        free(names[i]);
    }
    free(names);
}

int tw_conf_load(tw_conf *conf, const char *path, const char *dropin_dir)
{
    parse_file(conf, path, true);
    if (dropin_dir != NULL)
        parse_dropins(conf, dropin_dir);
    return conf->n_errors == 0 ? 0 : -EINVAL;
}

int tw_conf_load_string(tw_conf *conf, const char *name, const char *text)
{
    const char *file = remember_file(conf, name);
    size_t len = strlen(text);
    if (len == 0)
        return conf->n_errors == 0 ? 0 : -EINVAL;
    FILE *fp = fmemopen((void *)text, len, "r");
    if (fp == NULL) {
        tw_conf_error(conf, file, 0, "cannot read: %s", strerror(errno));
        return -EINVAL;
    }
    parse_stream(conf, file, fp);
    fclose(fp);
    return conf->n_errors == 0 ? 0 : -EINVAL;
}

int tw_conf_load_with_dropins(tw_conf *conf, const char *path)
{
    tw_buf dropins = TW_BUF_INIT;
    tw_buf_printf(&dropins, "%s.d", path);
    int rc = tw_conf_load(conf, path, dropins.data);
    tw_buf_free(&dropins);
    return rc;
}

void tw_conf_log_startup_errors(const tw_conf *conf)
{
    for (size_t i = 0; i < conf->n_errors; i++)
        tw_error("%s", conf->errors[i]);
    tw_error("not starting: %zu configuration error%s", conf->n_errors,
             conf->n_errors == 1 ? "" : "s");
}
