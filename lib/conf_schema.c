/* conf_schema.c — applying tables of typed keys to config sections. */
#include "conf_schema.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "units.h"

int tw_conf_parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

const char *tw_conf_closest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_distance = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_distance) {
            best_distance = d;
            best = candidates[i];
        }
    }
    return best;
}

static int parse_int(const char *value, int64_t *out)
{
    if (*value == '\0')
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

static void join_choices(char *out, size_t size, const char *const *choices)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; choices[i] != NULL && used < size; i++) {
        const char *sep = choices[i + 1] == NULL ? (i > 0 ? " or " : "") : (i > 0 ? ", " : "");
        used += (size_t)snprintf(out + used, size - used, "%s%s", sep, choices[i]);
    }
}

/* Converts one value; fills err with the reason (without file/section). */
static int convert(const tw_conf_key *key, const char *value, void *field, tw_err *err)
{
    switch (key->type) {
    case TW_CONF_STRING:
    case TW_CONF_ABSPATH:
        if (*value == '\0')
            return tw_err_set(err, -EINVAL, "is empty");
        if (key->type == TW_CONF_ABSPATH && value[0] != '/')
            return tw_err_set(err, -EINVAL, "\"%.80s\" must be an absolute path", value);
        if (key->check != NULL && key->check(value, err) != 0)
            return -EINVAL;
        *(const char **)field = value;
        return 0;
    case TW_CONF_ENUM:
        for (size_t i = 0; key->choices[i] != NULL; i++) {
            if (strcmp(value, key->choices[i]) == 0) {
                if (key->check != NULL && key->check(value, err) != 0)
                    return -EINVAL;
                *(const char **)field = key->choices[i];
                return 0;
            }
        }
        char list[256];
        join_choices(list, sizeof list, key->choices);
        return tw_err_set(err, -EINVAL, "\"%.80s\" is not one of %s", value, list);
    case TW_CONF_BOOL:
        if (tw_conf_parse_bool(value, field) != 0)
            return tw_err_set(err, -EINVAL,
                              "\"%.80s\" is not a boolean (expected yes/no, true/false, "
                              "on/off or 1/0)",
                              value);
        return 0;
    case TW_CONF_INT: {
        int64_t v;
        if (parse_int(value, &v) != 0)
            return tw_err_set(err, -EINVAL, "\"%.80s\" is not a whole number", value);
        if ((key->min != 0 || key->max != 0) && (v < key->min || v > key->max))
            return tw_err_set(err, -ERANGE, "%" PRId64 " is out of range (%" PRId64 " to %" PRId64 ")",
                              v, key->min, key->max);
        *(int64_t *)field = v;
        return 0;
    }
    case TW_CONF_DURATION:
    case TW_CONF_SIZE: {
        uint64_t v;
        int rc = key->type == TW_CONF_DURATION ? tw_duration_parse(value, &v, err)
                                               : tw_size_parse(value, &v, err);
        if (rc != 0)
            return rc;
        if (key->min != 0 || key->max != 0) {
            if (v < (uint64_t)key->min || v > (uint64_t)key->max) {
                char lo[32], hi[32];
                if (key->type == TW_CONF_DURATION) {
                    tw_duration_format((uint64_t)key->min, lo, sizeof lo);
                    tw_duration_format((uint64_t)key->max, hi, sizeof hi);
                } else {
                    tw_size_format((uint64_t)key->min, lo, sizeof lo);
                    tw_size_format((uint64_t)key->max, hi, sizeof hi);
                }
                return tw_err_set(err, -ERANGE, "\"%.80s\" is out of range (%s to %s)", value, lo,
                                  hi);
            }
        }
        *(uint64_t *)field = v;
        return 0;
    }
    }
    return tw_err_set(err, -EINVAL, "unsupported key type");
}

static const tw_conf_key *find_key(const tw_conf_key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static void report_unknown(tw_conf *conf, const tw_conf_section *section,
                           const tw_conf_entry *e, const tw_conf_key *keys, size_t n_keys)
{
    const char *names[64];
    size_t n = n_keys < 64 ? n_keys : 64;
    for (size_t i = 0; i < n; i++)
        names[i] = keys[i].name;
    const char *hint = tw_conf_closest(e->key, names, n);
    if (hint != NULL) {
        tw_conf_error(conf, e->file, e->line, "[%s] unknown key \"%s\" (did you mean \"%s\"?)",
                      section->name, e->key, hint);
        return;
    }
    tw_buf list = TW_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        tw_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
    tw_conf_error(conf, e->file, e->line, "[%s] unknown key \"%s\" (known keys: %s)",
                  section->name, e->key, tw_buf_cstr(&list));
    tw_buf_free(&list);
}

int tw_conf_apply(tw_conf *conf, const tw_conf_section *section, const tw_conf_key *keys,
                  size_t n_keys, void *model, bool allow_unknown)
{
    size_t before = conf->n_errors;
    for (size_t i = 0; i < section->n_entries; i++) {
        const tw_conf_entry *e = &section->entries[i];
        const tw_conf_key *key = find_key(keys, n_keys, e->key);
        if (key == NULL) {
            if (!allow_unknown)
                report_unknown(conf, section, e, keys, n_keys);
            continue;
        }
        if (e->invalid)
            continue; /* its ${ENV} error is already reported */
        if (e->continuation_key[0] != '\0' && (key->flags & TW_CONF_MULTILINE) &&
            find_key(keys, n_keys, e->continuation_key) != NULL) {
            /* "  path = a.log" then "  format = nginx": inih reads the second
             * line as more of the path, and format silently stays unset. */
            tw_conf_error(conf, e->file, e->continuation_line,
                          "[%s] %s: this indented line (\"%s = ...\") continues the value of "
                          "\"%s\" from line %d; remove the indentation of the keys in this "
                          "section",
                          section->name, key->name, e->continuation_key, key->name, e->line);
            continue;
        }
        if (e->continuation_line != 0 && !(key->flags & TW_CONF_MULTILINE)) {
            tw_conf_error(conf, e->file, e->continuation_line,
                          "[%s] %s: this indented line continues the value of \"%s\" "
                          "(line %d), which takes one line; remove the indentation if it "
                          "is a key of its own",
                          section->name, key->name, key->name, e->line);
            continue;
        }
        tw_err err;
        if (convert(key, e->value, (char *)model + key->offset, &err) != 0) {
            if (key->flags & TW_CONF_SECRET)
                tw_conf_error(conf, e->file, e->line, "[%s] %s: %s", section->name, key->name,
                              e->value[0] == '\0' ? "is empty"
                                                  : "is not valid (value not shown: secret)");
            else
                tw_conf_error(conf, e->file, e->line, "[%s] %s: %s", section->name, key->name,
                              err.msg);
        }
    }
    for (size_t i = 0; i < n_keys; i++) {
        if ((keys[i].flags & TW_CONF_REQUIRED) && tw_conf_find(section, keys[i].name) == NULL)
            tw_conf_error(conf, section->file, section->line, "[%s] needs a \"%s\" key",
                          section->name, keys[i].name);
    }
    return (int)(conf->n_errors - before);
}

/* ---- rules shared by the config models ---------------------------------- */

static bool valid_section_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
            return false;
    return true;
}

static void report_unknown_kind(tw_conf *conf, const tw_conf_section *s, size_t word_len,
                                bool has_name, const tw_conf_section_kind *kinds, size_t n_kinds)
{
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)(word_len < 63 ? word_len : 63), s->name);
    const char *words[32];
    size_t n = n_kinds < 32 ? n_kinds : 32;
    for (size_t k = 0; k < n; k++)
        words[k] = kinds[k].word;
    const char *hint = tw_conf_closest(word, words, n);
    if (hint != NULL) {
        /* Suggest the whole header: "[log nginx]" → "[logs nginx]". */
        bool hint_named = false;
        for (size_t k = 0; k < n; k++)
            if (kinds[k].word == hint)
                hint_named = kinds[k].named;
        const char *name = has_name ? s->name + word_len + 1 : "NAME";
        tw_conf_error(conf, s->file, s->line, "unknown section [%s] (did you mean [%s%s%s]?)",
                      s->name, hint, hint_named ? " " : "", hint_named ? name : "");
        return;
    }
    tw_buf list = TW_BUF_INIT;
    for (size_t k = 0; k < n; k++)
        tw_buf_printf(&list, "%s%s%s", k == 0 ? "" : k + 1 == n ? " or " : ", ", kinds[k].word,
                      kinds[k].named ? " NAME" : "");
    tw_conf_error(conf, s->file, s->line, "unknown section [%s] (expected %s)", s->name,
                  tw_buf_cstr(&list));
    tw_buf_free(&list);
}

int tw_conf_classify_section(tw_conf *conf, const tw_conf_section *section,
                             const tw_conf_section_kind *kinds, size_t n_kinds,
                             const char **name)
{
    const tw_conf_section *s = section;
    size_t word_len = strcspn(s->name, " ");
    *name = s->name[word_len] == ' ' ? s->name + word_len + 1 : NULL;
    for (size_t k = 0; k < n_kinds; k++) {
        if (strlen(kinds[k].word) != word_len || strncmp(s->name, kinds[k].word, word_len) != 0)
            continue;
        if (kinds[k].named && *name == NULL) {
            tw_conf_error(conf, s->file, s->line, "[%s] needs a name: write [%s NAME]", s->name,
                          kinds[k].word);
            return -1;
        }
        if (!kinds[k].named && *name != NULL) {
            tw_conf_error(conf, s->file, s->line, "[%s]: [%s] takes no name", s->name,
                          kinds[k].word);
            return -1;
        }
        if (*name != NULL && !valid_section_name(*name)) {
            tw_conf_error(conf, s->file, s->line,
                          "[%s]: the name \"%s\" must be one word of at most 64 letters, "
                          "digits, '.', '_' or '-'",
                          s->name, *name);
            return -1;
        }
        return (int)k;
    }
    report_unknown_kind(conf, s, word_len, *name != NULL, kinds, n_kinds);
    return -1;
}

int tw_conf_check_listen(const char *v, int min_port, int example_port, tw_err *err)
{
    const char *colon = strrchr(v, ':');
    const char *bracket = v[0] == '[' ? strchr(v, ']') : NULL;
    if (colon == NULL || (bracket != NULL && colon < bracket))
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" needs a port (expected host:port, like 127.0.0.1:%d)", v,
                          example_port);
    /* "::1:8125" would be read as host "::1", port 8125, but is ambiguous. */
    if (v[0] == '[' ? bracket == NULL || colon != bracket + 1
                    : memchr(v, ':', (size_t)(colon - v)) != NULL)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\": an IPv6 address goes in brackets, like [::1]:%d", v,
                          example_port);
    const char *port = colon + 1;
    size_t digits = strspn(port, "0123456789");
    long n = digits > 0 && digits <= 5 && port[digits] == '\0' ? strtol(port, NULL, 10) : -1;
    if (n < min_port || n > 65535)
        return tw_err_set(err, -EINVAL, "\"%.80s\" has a bad port (expected %d to 65535%s)", v,
                          min_port, min_port == 0 ? "; 0 = any free port" : "");
    return 0;
}

int tw_conf_check_region(const char *v, tw_err *err)
{
    size_t n = strlen(v);
    bool ok = n >= 2 && n <= 32 && v[0] != '-' && v[n - 1] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '-';
    if (!ok)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" is not a region name (lower-case letters, digits and "
                          "hyphens, like us-east-1)",
                          v);
    return 0;
}
