/* config.c — collector.conf into a tw_collector_config: key tables, value
 * checks, users and their derived identities, and the SIGHUP hand-over of
 * users (see config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_schema.h"
#include "hash.h"
#include "mem.h"

#define SECOND 1000ULL
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define MiB (1024LL * 1024)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_ACCOUNT_ID "123456789012"
#define DEFAULT_REGION "us-east-1"

/* ---- value checks ------------------------------------------------------ */

static int check_listen(const char *v, tw_err *err)
{
    return tw_conf_check_listen(v, 0, 4590, err);
}

static int check_account_id(const char *v, tw_err *err)
{
    if (strlen(v) != 12 || strspn(v, "0123456789") != 12)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" is not an AWS account id (exactly 12 digits, like "
                          "123456789012)",
                          v);
    return 0;
}

/* IAM: "Length Constraints: Minimum length of 16. Maximum length of 128";
 * real key ids are upper-case letters and digits (AKIA..., ASIA...). */
static int check_access_key_id(const char *v, tw_err *err)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)v[i]) && !isdigit((unsigned char)v[i]))
            return tw_err_set(err, -EINVAL,
                              "\"%.80s\" contains '%c' (access key ids are upper-case letters "
                              "and digits, like AKIAIOSFODNN7EXAMPLE)",
                              v, v[i]);
    if (n < 16 || n > 128)
        return tw_err_set(err, -EINVAL,
                          "\"%.80s\" is %zu characters long (access key ids have 16 to 128)", v,
                          n);
    return 0;
}

/* Never quotes the value: the message may end up in a log. (The key is not
 * flagged TW_CONF_SECRET so that this specific message is shown; nothing
 * else conf_schema says about a STRING quotes it.) */
static int check_secret(const char *v, tw_err *err)
{
    size_t n = strlen(v);
    if (n < 16)
        return tw_err_set(err, -EINVAL,
                          "is %zu characters long; a secret access key needs at least 16 (AWS "
                          "secrets have 40)",
                          n);
    return 0;
}

/* ---- key tables -------------------------------------------------------- */

typedef struct account_raw {
    const char *id;
    const char *regions;
} account_raw;

#define KEY(n, t, st, f, ...) {.name = n, .type = t, .offset = offsetof(st, f), __VA_ARGS__}

static const tw_conf_key server_keys[] = {
    KEY("listen", TW_CONF_STRING, tw_collector_config, listen, .check = check_listen),
    KEY("data_dir", TW_CONF_ABSPATH, tw_collector_config, data_dir),
    KEY("tls_cert", TW_CONF_ABSPATH, tw_collector_config, tls_cert),
    KEY("tls_key", TW_CONF_ABSPATH, tw_collector_config, tls_key),
    KEY("max_body", TW_CONF_SIZE, tw_collector_config, max_body_bytes, .min = 1 * MiB,
        .max = 64 * MiB),
    KEY("debug_signatures", TW_CONF_BOOL, tw_collector_config, debug_signatures),
};

static const tw_conf_key account_keys[] = {
    KEY("id", TW_CONF_STRING, account_raw, id, .check = check_account_id),
    KEY("regions", TW_CONF_STRING, account_raw, regions, .flags = TW_CONF_MULTILINE),
};

static const tw_conf_key user_keys[] = {
    KEY("access_key_id", TW_CONF_STRING, tw_collector_user, access_key_id,
        .flags = TW_CONF_REQUIRED, .check = check_access_key_id),
    KEY("secret_access_key", TW_CONF_STRING, tw_collector_user, secret_access_key,
        .flags = TW_CONF_REQUIRED, .check = check_secret),
};

/* Short intervals exist for tests; a real deployment keeps the defaults. */
static const tw_conf_key cloudtrail_keys[] = {
    KEY("delivery_interval", TW_CONF_DURATION, tw_collector_config, delivery_interval_ms,
        .min = 1 * SECOND, .max = 1 * HOUR),
    KEY("digest_interval", TW_CONF_DURATION, tw_collector_config, digest_interval_ms,
        .min = 1 * SECOND, .max = 1 * DAY),
    KEY("event_history_days", TW_CONF_INT, tw_collector_config, event_history_days, .min = 1,
        .max = 3650),
};

typedef enum { KIND_SERVER, KIND_ACCOUNT, KIND_USER, KIND_CLOUDTRAIL } section_kind;

static const tw_conf_section_kind kinds[] = {
    [KIND_SERVER] = {"server", false},
    [KIND_ACCOUNT] = {"account", false},
    [KIND_USER] = {"user", true},
    [KIND_CLOUDTRAIL] = {"cloudtrail", false},
};

/* ---- interpretation ---------------------------------------------------- */

static const char *keep_string(tw_collector_config *c, char *str)
{
    c->derived = tw_realloc(c->derived, (c->n_derived + 1) * sizeof *c->derived);
    c->derived[c->n_derived++] = str;
    return str;
}

static void set_defaults(tw_collector_config *c)
{
    c->listen = TW_COLLECTOR_DEFAULT_LISTEN;
    c->data_dir = TW_COLLECTOR_DEFAULT_DATA_DIR;
    c->max_body_bytes = 8 * MiB;
    c->account_id = DEFAULT_ACCOUNT_ID;
    c->regions[0] = DEFAULT_REGION;
    c->n_regions = 1;
    c->delivery_interval_ms = 5 * MINUTE;
    c->digest_interval_ms = 1 * HOUR;
    c->event_history_days = 90;
}

/* "us-east-1, eu-west-2" (commas and/or blanks) into c->regions. */
static void parse_regions(tw_collector_config *c, const tw_conf_entry *e)
{
    tw_conf *conf = &c->conf;
    const char *sep = ", \t";
    size_t n = 0;
    const char *list[TW_COLLECTOR_MAX_REGIONS];
    size_t before = conf->n_errors;
    for (const char *p = e->value + strspn(e->value, sep); *p; p += strspn(p, sep)) {
        size_t len = strcspn(p, sep);
        char *region = tw_strndup(p, len);
        p += len;
        tw_err err;
        if (tw_conf_check_region(region, &err) != 0) {
            tw_conf_error(conf, e->file, e->line, "[account] regions: %s", err.msg);
            free(region);
            continue;
        }
        bool duplicate = false;
        for (size_t i = 0; i < n; i++)
            duplicate |= strcmp(list[i], region) == 0;
        if (duplicate) {
            tw_conf_error(conf, e->file, e->line, "[account] regions: %s is listed twice", region);
            free(region);
            continue;
        }
        if (n == TW_COLLECTOR_MAX_REGIONS) {
            tw_conf_error(conf, e->file, e->line,
                          "[account] regions: more than %d regions (%s and after)",
                          TW_COLLECTOR_MAX_REGIONS, region);
            free(region);
            break;
        }
        list[n++] = keep_string(c, region);
    }
    if (n == 0 && conf->n_errors == before)
        tw_conf_error(conf, e->file, e->line,
                      "[account] regions: no region given (expected a list like "
                      "\"us-east-1, eu-west-2\"; the first is the home region)");
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        c->regions[i] = list[i];
    c->regions[n] = NULL;
    c->n_regions = n;
}

static void apply_account(tw_collector_config *c, const tw_conf_section *s)
{
    account_raw raw = {NULL, NULL};
    tw_conf_apply(&c->conf, s, account_keys, COUNT(account_keys), &raw, false);
    if (raw.id != NULL)
        c->account_id = raw.id;
    const tw_conf_entry *e = tw_conf_find(s, "regions");
    if (raw.regions != NULL && e != NULL)
        parse_regions(c, e);
}

/* IAM user ids are "AIDA" and 17 characters of [A-Z2-7]: derived here from
 * the key id so that a user keeps the same principalId across restarts. */
static void derive_principal_id(const char *access_key_id, char out[24])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t digest[TW_SHA256_LEN];
    tw_sha256(access_key_id, strlen(access_key_id), digest);
    memcpy(out, "AIDA", 4);
    for (size_t i = 0; i < 17; i++) {
        size_t bit = i * 5;
        unsigned v = ((unsigned)digest[bit / 8] << 8 | digest[bit / 8 + 1]) >> (11 - bit % 8);
        out[4 + i] = alphabet[v & 31];
    }
    out[21] = '\0';
}

static void add_user(tw_collector_config *c, const tw_conf_section *s, const char *name)
{
    tw_collector_user user = {.name = name};
    if (tw_conf_apply(&c->conf, s, user_keys, COUNT(user_keys), &user, false) != 0)
        return;
    for (size_t i = 0; i < c->n_users; i++) {
        if (strcmp(c->users[i].access_key_id, user.access_key_id) != 0)
            continue;
        const tw_conf_entry *e = tw_conf_find(s, "access_key_id");
        tw_conf_error(&c->conf, e->file, e->line,
                      "[%s] access_key_id: %s is already the key of [user %s]; every user "
                      "needs its own key",
                      s->name, user.access_key_id, c->users[i].name);
        return;
    }
    derive_principal_id(user.access_key_id, user.principal_id);
    c->users = tw_realloc(c->users, (c->n_users + 1) * sizeof *c->users);
    c->users[c->n_users++] = user;
}

/* The arn needs the account id, known only once every section was read. */
static void finish_users(tw_collector_config *c)
{
    for (size_t i = 0; i < c->n_users; i++)
        snprintf(c->users[i].arn, sizeof c->users[i].arn, "arn:aws:iam::%s:user/%s",
                 c->account_id, c->users[i].name);
}

static void check_tls(tw_collector_config *c)
{
    const tw_conf_section *s = tw_conf_find_section(&c->conf, "server");
    if (s == NULL)
        return;
    const tw_conf_entry *cert = tw_conf_find(s, "tls_cert");
    const tw_conf_entry *key = tw_conf_find(s, "tls_key");
    if ((cert == NULL) != (key == NULL)) {
        const tw_conf_entry *e = cert != NULL ? cert : key;
        tw_conf_error(&c->conf, e->file, e->line,
                      "[server] tls_cert and tls_key go together: set both for HTTPS, or "
                      "neither for plain HTTP");
        return;
    }
    const tw_conf_entry *entries[] = {cert, key};
    const char *values[] = {c->tls_cert, c->tls_key};
    for (size_t i = 0; i < 2; i++) {
        if (entries[i] == NULL || values[i] == NULL)
            continue;
        if (access(values[i], R_OK) != 0)
            tw_conf_error(&c->conf, entries[i]->file, entries[i]->line,
                          "[server] %s: cannot read %s: %s", entries[i]->key, values[i],
                          strerror(errno));
    }
}

/* user_sections counts [user NAME] sections, and also sections already
 * reported as unknown or misnamed: one of them may be the user meant
 * ("[users alice]"), and one problem deserves one error. */
static void check_users_present(tw_collector_config *c, size_t user_sections)
{
    if (user_sections > 0)
        return;
    tw_conf_error(&c->conf, c->conf.n_files > 0 ? c->conf.files[0] : "collector.conf", 0,
                  "no [user NAME] section: the collector accepts only signed requests, so it "
                  "needs at least one user with access_key_id and secret_access_key");
}

static void interpret(tw_collector_config *c)
{
    set_defaults(c);
    tw_conf *conf = &c->conf;
    size_t user_sections = 0;
    for (size_t i = 0; i < conf->n_sections; i++) {
        const tw_conf_section *s = &conf->sections[i];
        const char *name;
        switch (tw_conf_classify_section(conf, s, kinds, COUNT(kinds), &name)) {
        case KIND_SERVER:
            tw_conf_apply(conf, s, server_keys, COUNT(server_keys), c, false);
            break;
        case KIND_ACCOUNT:
            apply_account(c, s);
            break;
        case KIND_USER:
            user_sections++;
            add_user(c, s, name);
            break;
        case KIND_CLOUDTRAIL:
            tw_conf_apply(conf, s, cloudtrail_keys, COUNT(cloudtrail_keys), c, false);
            break;
        default:
            user_sections++;
            break;
        }
    }
    finish_users(c);
    check_tls(c);
    check_users_present(c, user_sections);
}

static void apply_overrides(tw_collector_config *c, const char *listen, const char *data_dir)
{
    tw_err err;
    if (listen != NULL) {
        if (check_listen(listen, &err) != 0)
            tw_conf_error(&c->conf, "--listen", 0, "%s", err.msg);
        else
            c->listen = keep_string(c, tw_strdup(listen));
    }
    if (data_dir != NULL) {
        if (*data_dir == '\0')
            tw_conf_error(&c->conf, "--data-dir", 0, "is empty");
        else
            c->data_dir = keep_string(c, tw_strdup(data_dir));
    }
}

static void reset(tw_collector_config *c)
{
    memset(c, 0, sizeof *c);
    tw_conf_init(&c->conf);
}

int tw_collector_config_load(tw_collector_config *config, const char *path,
                             const char *listen_override, const char *data_dir_override)
{
    reset(config);
    tw_conf_load_with_dropins(&config->conf, path);
    interpret(config);
    apply_overrides(config, listen_override, data_dir_override);
    return config->conf.n_errors == 0 ? 0 : -EINVAL;
}

int tw_collector_config_load_string(tw_collector_config *config, const char *name,
                                    const char *text)
{
    reset(config);
    tw_conf_load_string(&config->conf, name, text);
    interpret(config);
    return config->conf.n_errors == 0 ? 0 : -EINVAL;
}

void tw_collector_config_free(tw_collector_config *config)
{
    tw_collector_config *retired = config->retired;
    while (retired != NULL) {
        tw_collector_config *next = retired->retired;
        retired->retired = NULL;
        tw_collector_config_free(retired);
        free(retired);
        retired = next;
    }
    free(config->users);
    for (size_t i = 0; i < config->n_derived; i++)
        free(config->derived[i]);
    free(config->derived);
    tw_conf_free(&config->conf);
    memset(config, 0, sizeof *config);
}

void tw_collector_config_take_users(tw_collector_config *config, tw_collector_config *next)
{
    /* Swapped, not copied: next keeps our old users array (whose strings live
     * in our tw_conf or in an earlier retired config), so each array and
     * each tw_conf is still freed exactly once. */
    tw_collector_user *users = config->users;
    size_t n_users = config->n_users;
    config->users = next->users;
    config->n_users = next->n_users;
    next->users = users;
    next->n_users = n_users;
    /* The new users' arns name next's account id; ours stays in force. */
    for (size_t i = 0; i < config->n_users; i++)
        snprintf(config->users[i].arn, sizeof config->users[i].arn, "arn:aws:iam::%s:user/%s",
                 config->account_id, config->users[i].name);
    next->retired = config->retired;
    config->retired = next;
}

static bool same_string(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void note(tw_buf *out, const char *what)
{
    tw_buf_printf(out, "%s%s", out->len > 0 ? ", " : "", what);
}

void tw_collector_config_restart_changes(const tw_collector_config *running,
                                         const tw_collector_config *next, tw_buf *out)
{
    const tw_collector_config *a = running, *b = next;
    if (!same_string(a->listen, b->listen))
        note(out, "[server] listen");
    if (!same_string(a->data_dir, b->data_dir))
        note(out, "[server] data_dir");
    if (!same_string(a->tls_cert, b->tls_cert) || !same_string(a->tls_key, b->tls_key))
        note(out, "[server] tls_cert/tls_key");
    if (a->max_body_bytes != b->max_body_bytes)
        note(out, "[server] max_body");
    if (a->debug_signatures != b->debug_signatures)
        note(out, "[server] debug_signatures");
    if (!same_string(a->account_id, b->account_id))
        note(out, "[account] id");
    bool regions_same = a->n_regions == b->n_regions;
    for (size_t i = 0; regions_same && i < a->n_regions; i++)
        regions_same = strcmp(a->regions[i], b->regions[i]) == 0;
    if (!regions_same)
        note(out, "[account] regions");
    if (a->delivery_interval_ms != b->delivery_interval_ms)
        note(out, "[cloudtrail] delivery_interval");
    if (a->digest_interval_ms != b->digest_interval_ms)
        note(out, "[cloudtrail] digest_interval");
    if (a->event_history_days != b->event_history_days)
        note(out, "[cloudtrail] event_history_days");
}

const tw_collector_user *tw_collector_find_user(const tw_collector_config *config,
                                                const char *access_key_id)
{
    if (access_key_id == NULL)
        return NULL;
    for (size_t i = 0; i < config->n_users; i++)
        if (strcmp(config->users[i].access_key_id, access_key_id) == 0)
            return &config->users[i];
    return NULL;
}

bool tw_collector_has_region(const tw_collector_config *config, const char *region)
{
    if (region == NULL)
        return false;
    for (size_t i = 0; i < config->n_regions; i++)
        if (strcmp(config->regions[i], region) == 0)
            return true;
    return false;
}
