/* credentials.c — the agent's AWS credentials: agent.conf, the environment,
 * the shared credentials and config files (see credentials.h for the order).
 *
 * The AWS files are parsed here rather than with inih: inih as Debian builds
 * it cuts lines at 200 bytes (a session token is often longer), does not give
 * line numbers, and treats " ;" as an inline comment, while the AWS CLI
 * (Python configparser) has no inline comments, lower-cases keys, joins
 * indented lines to the value above and refuses duplicate sections and keys.
 * Reading exactly what the CLI reads means a file that works with
 * `aws sts get-caller-identity` works with the agent, and vice versa.
 *
 * Secrets are copied only into fixed buffers that are wiped on every path,
 * and the file text is wiped before it is freed. No message ever includes a
 * value read from a file or from the environment; only key names, line
 * numbers and section headers (which name profiles).
 */
#include "credentials.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

#define SOURCE_ENDPOINT "agent.conf [endpoint]"
#define PROFILE_MAX 255
#define HEADER_MAX 160
/* File systems stamp times from a coarse clock (a jiffy; a second or two on
 * some): a file written this close to our read may be rewritten without its
 * stat changing, so such a read is marked racy (as git does for its index). */
#define RACY_WINDOW_NS 2000000000LL

typedef enum file_kind { CREDENTIALS_FILE, CONFIG_FILE } file_kind;

/* The keys of a profile that matter to us. Keys that make the AWS CLI get
 * credentials some other way before (role, SSO, web identity) or instead of
 * (credential_process) static keys are noticed so we can refuse clearly. */
typedef enum field {
    FIELD_OTHER,
    FIELD_KEY_ID,
    FIELD_SECRET,
    FIELD_TOKEN,
    FIELD_LEGACY_TOKEN, /* aws_security_token: botocore's fallback name */
    FIELD_PROCESS,
    FIELD_TAKEOVER,
} field;

static const struct {
    const char *key;
    field field;
} profile_keys[] = {
    {"aws_access_key_id", FIELD_KEY_ID},
    {"aws_secret_access_key", FIELD_SECRET},
    {"aws_session_token", FIELD_TOKEN},
    {"aws_security_token", FIELD_LEGACY_TOKEN},
    {"credential_process", FIELD_PROCESS},
    {"role_arn", FIELD_TAKEOVER},
    {"sso_session", FIELD_TAKEOVER},
    {"sso_start_url", FIELD_TAKEOVER},
    {"web_identity_token_file", FIELD_TAKEOVER},
};

/* What one file says about the wanted profile. Holds secrets: wiped by
 * profile_wipe on every path. */
typedef struct profile {
    const char *path;
    file_kind kind;
    const char *name; /* the wanted profile */
    bool exists;
    unsigned mode;
    bool found;
    int line; /* of its section header */
    char header[HEADER_MAX];
    char key_id[TW_CREDENTIALS_KEY_ID_MAX + 1];
    char secret[TW_CREDENTIALS_SECRET_MAX + 1];
    char token[TW_CREDENTIALS_TOKEN_MAX + 1];
    int key_id_line, secret_line, token_line, legacy_token_line;
    int process_line;
    const char *takeover; /* a static key name, e.g. "role_arn" */
    int takeover_line;
    char near_miss[HEADER_MAX]; /* "[profile prod]" in the credentials file... */
    int near_miss_line;
} profile;

typedef struct resolver {
    tw_credentials_env_fn env;
    void *env_ctx;
    const tw_endpoint_config *endpoint;
    tw_credentials *out;
    tw_buf tried; /* "none in agent.conf [endpoint], AWS_ACCESS_KEY_ID is not set, ..." */
    tw_err *err;
} resolver;

static const char *process_env(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* An empty variable counts as unset, as botocore's EnvProvider treats it. */
static const char *env_get(const resolver *r, const char *name)
{
    const char *v = r->env(name, r->env_ctx);
    return v != NULL && *v != '\0' ? v : NULL;
}

static void add_tried(resolver *r, const char *fmt, ...) TW_PRINTF(2, 3);

static void add_tried(resolver *r, const char *fmt, ...)
{
    if (r->tried.len > 0)
        tw_buf_puts(&r->tried, ", ");
    va_list ap;
    va_start(ap, fmt);
    tw_buf_vprintf(&r->tried, fmt, ap);
    va_end(ap);
}

/* ---- values --------------------------------------------------------------- */

/* Copies a key, secret or token into dst after checking it could be one: the
 * AWS keys and tokens are printable ASCII without blanks (base64 and upper-
 * case letters), and a quoted value is the classic copy-paste mistake the
 * AWS CLI would also sign with, quotes included. `what` names the value for
 * the message ("AWS_SECRET_ACCESS_KEY", "/x/credentials:3: [prod]
 * aws_secret_access_key"); the value itself is never printed. */
static int copy_value(char *dst, size_t max, const char *v, size_t len, bool key_id,
                      const char *what, tw_err *err)
{
    if (len == 0)
        return tw_err_set(err, -EINVAL, "%s is empty", what);
    if (len > max)
        return tw_err_set(err, -EINVAL, "%s is %zu characters long; at most %zu are allowed",
                          what, len, max);
    if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0])
        return tw_err_set(err, -EINVAL,
                          "%s is in quotes; write the value without them (the AWS files take "
                          "values literally)",
                          what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c >= 0x7f)
            return tw_err_set(err, -EINVAL,
                              "%s has a blank, control or non-ASCII character at position %zu, "
                              "which no AWS key has",
                              what, i + 1);
        /* The key id goes into the Credential=ID/date/region/... scope. */
        if (key_id && (c == '/' || c == ','))
            return tw_err_set(err, -EINVAL, "%s has '%c' at position %zu, which no access key "
                              "id has", what, c, i + 1);
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
    return 0;
}

/* ---- files ------------------------------------------------------------------ */

static int64_t timespec_ns(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void watch_set(tw_credentials_watch *w, const struct stat *st, int64_t read_ns)
{
    w->exists = true;
    w->dev = st->st_dev;
    w->ino = st->st_ino;
    w->size = st->st_size;
    w->mtime_ns = timespec_ns(st->st_mtim);
    w->ctime_ns = timespec_ns(st->st_ctim);
    int64_t newest = w->mtime_ns > w->ctime_ns ? w->mtime_ns : w->ctime_ns;
    w->racy = newest > read_ns - RACY_WINDOW_NS;
}

static void free_text(char *text, size_t cap)
{
    if (text != NULL) {
        explicit_bzero(text, cap);
        free(text);
    }
}

/* Reads all of path (a small regular file) into *text (NUL-terminated, the
 * caller wipes and frees it with free_text(*text, *cap)). Returns 0, -ENOENT
 * when there is no such file (no message), or another -errno with err set.
 * Records what the file looked like in *w. */
static int read_text(const char *path, tw_credentials_watch *w, unsigned *mode, char **text,
                     size_t *len, size_t *cap, tw_err *err)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return -ENOENT;
        int e = errno;
        return tw_err_set(err, -e, "cannot open %s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return tw_err_set(err, -e, "cannot stat %s: %s", path, strerror(e));
    }
    watch_set(w, &st, timespec_ns(now));
    *mode = st.st_mode & 07777;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tw_err_set(err, -EINVAL, "%s is not a regular file", path);
    }
    size_t size = 4096;
    if (st.st_size > 0 && (uint64_t)st.st_size < TW_CREDENTIALS_FILE_MAX)
        size = (size_t)st.st_size + 1;
    char *buf = tw_malloc(size);
    size_t n = 0;
    for (;;) {
        if (n + 1 == size) { /* grew while we read: grow, wiping the old copy */
            if (size > TW_CREDENTIALS_FILE_MAX)
                break;
            char *bigger = tw_malloc(size * 2);
            memcpy(bigger, buf, n);
            free_text(buf, size);
            buf = bigger;
            size *= 2;
        }
        ssize_t got = read(fd, buf + n, size - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            free_text(buf, size);
            return tw_err_set(err, -e, "cannot read %s: %s", path, strerror(e));
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (n > TW_CREDENTIALS_FILE_MAX) {
        free_text(buf, size);
        return tw_err_set(err, -EFBIG, "%s is larger than %d bytes, which is not an AWS "
                          "credentials or config file", path, TW_CREDENTIALS_FILE_MAX);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    *cap = size;
    return 0;
}

/* ---- the AWS INI dialect ------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1]))
        (*len)--;
}

static bool equals(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* The profile a section header names. In the credentials file the header is
 * the name, exactly. In the config file it is [profile NAME] (botocore splits
 * the header shell-style: quotes allowed, exactly two words) or [default]. */
static bool section_profile(file_kind kind, const char *h, size_t len, const char **name,
                            size_t *name_len)
{
    *name = h;
    *name_len = len;
    if (kind == CREDENTIALS_FILE || equals(h, len, "default"))
        return true;
    if (len < 8 || memcmp(h, "profile", 7) != 0 || !is_blank(h[7]))
        return false;
    const char *n = h + 7;
    size_t nl = len - 7;
    trim(&n, &nl);
    if (nl >= 2 && (n[0] == '"' || n[0] == '\'') && n[nl - 1] == n[0]) {
        n++;
        nl -= 2;
    } else {
        for (size_t i = 0; i < nl; i++)
            if (is_blank(n[i]))
                return false;
    }
    *name = n;
    *name_len = nl;
    return nl > 0;
}

/* A header a user probably meant as the wanted profile: the same name apart
 * from case, blanks or a "profile " prefix in the wrong file. */
static bool near_miss(const char *h, size_t len, const char *wanted)
{
    const char *n = h;
    size_t nl = len;
    trim(&n, &nl);
    if (nl > 8 && strncasecmp(n, "profile", 7) == 0 && is_blank(n[7])) {
        n += 8;
        nl -= 8;
        trim(&n, &nl);
    }
    return strlen(wanted) == nl && strncasecmp(n, wanted, nl) == 0;
}

/* The profile_keys entry for key (any case: configparser lower-cases keys),
 * or NULL for a key we do not care about. */
static const char *known_key(const char *key, size_t len, field *f)
{
    for (size_t i = 0; i < sizeof profile_keys / sizeof profile_keys[0]; i++)
        if (strlen(profile_keys[i].key) == len && strncasecmp(key, profile_keys[i].key, len) == 0) {
            *f = profile_keys[i].field;
            return profile_keys[i].key;
        }
    *f = FIELD_OTHER;
    return NULL;
}

typedef struct parse_state {
    profile *p;
    int lineno;
    bool in_section, in_wanted;
    bool have_key;       /* a key line was seen: indented lines continue it */
    size_t key_indent;
    field key_field;     /* the key being continued (in the wanted section) */
    const char *key_name;
    int key_line;
    tw_err *err;
} parse_state;

static void header_copy(char *dst, const char *h, size_t len)
{
    snprintf(dst, HEADER_MAX, "[%.*s]", (int)(len < HEADER_MAX - 3 ? len : HEADER_MAX - 3), h);
}

static int on_section(parse_state *s, const char *text, size_t len)
{
    profile *p = s->p;
    const char *close = memrchr(text, ']', len);
    if (close == NULL)
        return tw_err_set(s->err, -EINVAL, "%s:%d: section header without ']'", p->path,
                          s->lineno);
    const char *h = text + 1;
    size_t hl = (size_t)(close - h);
    if (hl == 0)
        return tw_err_set(s->err, -EINVAL, "%s:%d: section header \"[]\" has no name", p->path,
                          s->lineno);
    /* Like configparser, text after the last ']' is ignored. */
    const char *name;
    size_t nl;
    s->in_section = true;
    s->in_wanted = section_profile(p->kind, h, hl, &name, &nl) && equals(name, nl, p->name);
    if (!s->in_wanted) {
        if (p->near_miss_line == 0 && near_miss(h, hl, p->name)) {
            header_copy(p->near_miss, h, hl);
            p->near_miss_line = s->lineno;
        }
        return 0;
    }
    if (p->found) {
        char again[HEADER_MAX];
        header_copy(again, h, hl);
        return tw_err_set(s->err, -EINVAL,
                          "%s:%d: %s is profile %s again (first %s at line %d); keep one section "
                          "(the AWS CLI refuses this too)",
                          p->path, s->lineno, again, p->name, p->header, p->line);
    }
    p->found = true;
    p->line = s->lineno;
    header_copy(p->header, h, hl);
    return 0;
}

static int set_once(parse_state *s, int *line, const char *key)
{
    if (*line != 0)
        return tw_err_set(s->err, -EINVAL,
                          "%s:%d: %s %s is set twice (first at line %d); keep one (the AWS CLI "
                          "refuses this too)",
                          s->p->path, s->lineno, s->p->header, key, *line);
    *line = s->lineno;
    return 0;
}

static int on_value(parse_state *s, field f, const char *key, const char *v, size_t vl)
{
    profile *p = s->p;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "%s:%d: %s %s", p->path, s->lineno, p->header, key);
    int rc = 0;
    switch (f) {
    case FIELD_KEY_ID:
        if ((rc = set_once(s, &p->key_id_line, key)) == 0)
            rc = copy_value(p->key_id, TW_CREDENTIALS_KEY_ID_MAX, v, vl, true, what, s->err);
        break;
    case FIELD_SECRET:
        if ((rc = set_once(s, &p->secret_line, key)) == 0)
            rc = copy_value(p->secret, TW_CREDENTIALS_SECRET_MAX, v, vl, false, what, s->err);
        break;
    case FIELD_TOKEN:
    case FIELD_LEGACY_TOKEN:
        /* aws_session_token wins over aws_security_token, as in botocore; an
         * empty token (some tools write "aws_session_token =") means none. */
        if ((rc = set_once(s, f == FIELD_TOKEN ? &p->token_line : &p->legacy_token_line, key)) ||
            vl == 0 || (f == FIELD_LEGACY_TOKEN && p->token_line != 0))
            break;
        rc = copy_value(p->token, TW_CREDENTIALS_TOKEN_MAX, v, vl, false, what, s->err);
        break;
    case FIELD_PROCESS:
        rc = set_once(s, &p->process_line, key);
        break;
    case FIELD_TAKEOVER:
        if (p->takeover == NULL) {
            p->takeover = key;
            p->takeover_line = s->lineno;
        }
        break;
    case FIELD_OTHER:
        break;
    }
    return rc;
}

static int on_key(parse_state *s, const char *text, size_t len, size_t indent)
{
    profile *p = s->p;
    if (!s->in_section)
        return tw_err_set(s->err, -EINVAL,
                          "%s:%d: a setting before any [section] header; put it under [%s%s]",
                          p->path, s->lineno, p->kind == CONFIG_FILE && strcmp(p->name, "default")
                          ? "profile " : "", p->name);
    /* configparser splits at the first '=' or ':'; values may hold either. */
    size_t at = 0;
    while (at < len && text[at] != '=' && text[at] != ':')
        at++;
    if (at == len)
        return tw_err_set(s->err, -EINVAL,
                          "%s:%d: expected \"key = value\" (a line without '=' in %s)", p->path,
                          s->lineno, s->in_wanted ? p->header : "the file");
    const char *key = text;
    size_t kl = at;
    trim(&key, &kl);
    if (kl == 0)
        return tw_err_set(s->err, -EINVAL, "%s:%d: missing key name before '%c'", p->path,
                          s->lineno, text[at]);
    const char *v = text + at + 1;
    size_t vl = len - at - 1;
    trim(&v, &vl);
    s->have_key = true;
    s->key_indent = indent;
    s->key_line = s->lineno;
    s->key_field = FIELD_OTHER;
    if (!s->in_wanted)
        return 0;
    field f;
    s->key_name = known_key(key, kl, &f);
    s->key_field = f;
    return s->key_name == NULL ? 0 : on_value(s, f, s->key_name, v, vl);
}

/* One physical line (without its '\n'). Blank and comment lines keep a
 * value open, as configparser's empty_lines_in_values does. */
static int on_line(parse_state *s, const char *line, size_t n)
{
    profile *p = s->p;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n > TW_CREDENTIALS_LINE_MAX)
        return tw_err_set(s->err, -EINVAL, "%s:%d: line is longer than %d bytes", p->path,
                          s->lineno, TW_CREDENTIALS_LINE_MAX);
    if (memchr(line, '\0', n) != NULL)
        return tw_err_set(s->err, -EINVAL, "%s:%d: line has a NUL byte; not a text file?",
                          p->path, s->lineno);
    size_t indent = 0;
    while (indent < n && is_blank(line[indent]))
        indent++;
    const char *text = line + indent;
    size_t len = n - indent;
    trim(&text, &len);
    if (len == 0 || text[0] == '#' || text[0] == ';')
        return 0;
    if (s->have_key && indent > s->key_indent) {
        if (s->in_wanted && s->key_field != FIELD_OTHER)
            return tw_err_set(s->err, -EINVAL,
                              "%s:%d: this indented line continues %s %s from line %d (the AWS "
                              "CLI joins indented lines to the value above); remove the "
                              "indentation",
                              p->path, s->lineno, p->header, s->key_name, s->key_line);
        return 0; /* a nested value such as "s3 =\n  max_concurrent_requests = 20" */
    }
    s->have_key = false;
    if (text[0] == '[')
        return on_section(s, text, len);
    return on_key(s, text, len, indent);
}

static int parse_profile(profile *p, const char *text, size_t len, tw_err *err)
{
    parse_state s = {.p = p, .err = err};
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a BOM from a Windows editor */
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        s.lineno++;
        int rc = on_line(&s, line, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Reads path and finds the wanted profile in it. Returns 0 (p->exists tells
 * whether there was a file) or -errno with err set. */
static int load_profile(profile *p, tw_credentials_watch *w, tw_err *err)
{
    snprintf(w->path, sizeof w->path, "%s", p->path);
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = read_text(p->path, w, &p->mode, &text, &len, &cap, err);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    p->exists = true;
    rc = parse_profile(p, text, len, err);
    free_text(text, cap);
    return rc;
}

static void profile_wipe(profile *p)
{
    explicit_bzero(p->key_id, sizeof p->key_id);
    explicit_bzero(p->secret, sizeof p->secret);
    explicit_bzero(p->token, sizeof p->token);
}

/* ---- the chain --------------------------------------------------------------- */

/* 1. agent.conf [endpoint]. Returns 1 when it has the keys, 0 when it has
 * none, or -EINVAL. (config.c reports half-set keys too; this module does
 * not rely on being handed a checked config.) */
static int from_endpoint(resolver *r)
{
    const tw_endpoint_config *ep = r->endpoint;
    tw_credentials *out = r->out;
    if (ep == NULL || (ep->access_key_id == NULL && ep->secret_access_key == NULL &&
                       ep->session_token == NULL)) {
        add_tried(r, "none in " SOURCE_ENDPOINT);
        return 0;
    }
    if (ep->access_key_id == NULL || ep->secret_access_key == NULL)
        return tw_err_set(r->err, -EINVAL,
                          SOURCE_ENDPOINT " sets %s but not %s: set both, or neither to use the "
                          "environment or the shared credentials file",
                          ep->access_key_id != NULL ? "access_key_id" : ep->secret_access_key
                              ? "secret_access_key" : "session_token",
                          ep->access_key_id != NULL ? "secret_access_key"
                                                    : "access_key_id");
    int rc = copy_value(out->access_key_id, TW_CREDENTIALS_KEY_ID_MAX, ep->access_key_id,
                        strlen(ep->access_key_id), true, SOURCE_ENDPOINT " access_key_id",
                        r->err);
    if (rc == 0)
        rc = copy_value(out->secret_access_key, TW_CREDENTIALS_SECRET_MAX,
                        ep->secret_access_key, strlen(ep->secret_access_key), false,
                        SOURCE_ENDPOINT " secret_access_key", r->err);
    if (rc == 0 && ep->session_token != NULL && *ep->session_token != '\0')
        rc = copy_value(out->session_token, TW_CREDENTIALS_TOKEN_MAX, ep->session_token,
                        strlen(ep->session_token), false, SOURCE_ENDPOINT " session_token",
                        r->err);
    if (rc < 0)
        return rc;
    snprintf(out->source, sizeof out->source, "%s", SOURCE_ENDPOINT);
    return 1;
}

static const char *nonempty(const char *s)
{
    return s != NULL && *s != '\0' ? s : NULL;
}

/* The first of two variable names that is set (modern, then legacy). */
static const char *env_either(const resolver *r, const char *name, const char *legacy,
                              const char **used)
{
    const char *v = env_get(r, name);
    *used = name;
    if (v == NULL && legacy != NULL && (v = env_get(r, legacy)) != NULL)
        *used = legacy;
    return v;
}

/* 2. The environment. Returns 1, 0 or -EINVAL, like from_endpoint. */
static int from_environment(resolver *r)
{
    const tw_endpoint_config *ep = r->endpoint;
    tw_credentials *out = r->out;
    const char *explicit_key = ep == NULL                       ? NULL
                               : nonempty(ep->profile)          ? "profile"
                               : nonempty(ep->credentials_file) ? "credentials_file"
                                                                : NULL;
    if (explicit_key != NULL) {
        /* As `aws --profile` drops the environment provider: the config's
         * explicit choice wins over whatever the service inherited. */
        if (env_get(r, "AWS_ACCESS_KEY_ID") != NULL)
            tw_notice("AWS_ACCESS_KEY_ID is set but not used: " SOURCE_ENDPOINT " sets %s",
                      explicit_key);
        add_tried(r, "the environment not consulted (" SOURCE_ENDPOINT " sets %s)",
                  explicit_key);
        return 0;
    }
    const char *id_name, *secret_name, *token_name;
    const char *v = env_either(r, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", &id_name);
    bool have_id = v != NULL;
    int rc = 0;
    if (have_id)
        rc = copy_value(out->access_key_id, TW_CREDENTIALS_KEY_ID_MAX, v, strlen(v), true,
                        id_name, r->err);
    /* Copied at once: the lookup's string only lives until the next call. */
    v = env_either(r, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", &secret_name);
    bool have_secret = v != NULL;
    if (rc == 0 && have_secret)
        rc = copy_value(out->secret_access_key, TW_CREDENTIALS_SECRET_MAX, v, strlen(v), false,
                        secret_name, r->err);
    if (rc < 0)
        return rc;
    if (!have_id && !have_secret) {
        add_tried(r, "AWS_ACCESS_KEY_ID is not set");
        return 0; /* a lone AWS_SESSION_TOKEN is ignored, as botocore does */
    }
    if (have_id != have_secret)
        return tw_err_set(r->err, -EINVAL,
                          "%s is set in the environment but %s is not: set both, or neither to "
                          "use the shared credentials file",
                          have_id ? id_name : secret_name,
                          have_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    v = env_either(r, "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", &token_name);
    if (v != NULL && (rc = copy_value(out->session_token, TW_CREDENTIALS_TOKEN_MAX, v,
                                      strlen(v), false, token_name, r->err)) < 0)
        return rc;
    bool legacy = strcmp(id_name, "AWS_ACCESS_KEY_ID") != 0 ||
                  strcmp(secret_name, "AWS_SECRET_ACCESS_KEY") != 0;
    snprintf(out->source, sizeof out->source, legacy ? "environment (%s, %s)" : "environment",
             id_name, secret_name);
    return 1;
}

/* $HOME, else the password database (a system service may have no HOME).
 * Returns 0 or -ENOENT. */
static int home_dir(const resolver *r, char *out, size_t size)
{
    const char *home = env_get(r, "HOME");
    char buf[4096];
    struct passwd pw, *found = NULL;
    if (home == NULL && getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 &&
        found != NULL && found->pw_dir != NULL && *found->pw_dir != '\0')
        home = found->pw_dir;
    if (home == NULL)
        return -ENOENT;
    snprintf(out, size, "%s", home);
    return 0;
}

/* Expands a leading "~" (botocore applies os.path.expanduser to these
 * paths). Returns 0, 1 when there is no home directory to expand to (noted in
 * the tried list), or -ENAMETOOLONG. */
static int expand_path(resolver *r, const char *spec, const char *origin, char out[PATH_MAX])
{
    char home[PATH_MAX];
    const char *rest = spec;
    home[0] = '\0';
    if (spec[0] == '~' && (spec[1] == '/' || spec[1] == '\0')) {
        if (home_dir(r, home, sizeof home) != 0) {
            add_tried(r, "%s not read (HOME is not set and user %u has no home directory)",
                      spec, (unsigned)geteuid());
            return 1;
        }
        rest = spec + 1;
    }
    size_t n = strlen(home) + strlen(rest);
    if (n >= PATH_MAX)
        return tw_err_set(r->err, -ENAMETOOLONG, "the path from %s is longer than %d bytes",
                          origin, PATH_MAX - 1);
    memcpy(out, home, strlen(home));
    memcpy(out + strlen(home), rest, strlen(rest) + 1);
    return 0;
}

static void describe_missing(tw_buf *b, const profile *p)
{
    if (!p->exists) {
        tw_buf_printf(b, "%s does not exist", p->path);
        return;
    }
    if (p->found) {
        tw_buf_printf(b, "%s %s has no aws_access_key_id", p->path, p->header);
        return;
    }
    bool config_profile = p->kind == CONFIG_FILE && strcmp(p->name, "default") != 0;
    tw_buf_printf(b, "%s has no [%s%s]%s", p->path, config_profile ? "profile " : "", p->name,
                  config_profile ? "" : " profile");
    if (p->near_miss_line != 0)
        tw_buf_printf(b, " (there is %s at line %d, but the %s file wants exactly [%s%s])",
                      p->near_miss, p->near_miss_line,
                      p->kind == CONFIG_FILE ? "config" : "credentials",
                      config_profile ? "profile " : "", p->name);
}

/* Takes p's keys when it has them. Returns 1, 0 (no keys: try the next
 * file) or -EINVAL (half-set keys, credential_process only). */
static int take_profile(resolver *r, const profile *p, const char *credentials_path)
{
    if (!p->found)
        return 0;
    if (p->key_id_line == 0 && p->secret_line == 0) {
        if (p->process_line != 0)
            return tw_err_set(r->err, -EINVAL,
                              "%s:%d: profile %s uses credential_process, which trailwatch does "
                              "not run; put static keys (aws_access_key_id, "
                              "aws_secret_access_key) in %s [%s], or in " SOURCE_ENDPOINT,
                              p->path, p->process_line, p->name,
                              credentials_path[0] ? credentials_path : "~/.aws/credentials",
                              p->name);
        return 0;
    }
    if (p->key_id_line == 0 || p->secret_line == 0)
        return tw_err_set(r->err, -EINVAL, "%s:%d: %s has %s but no %s; set both", p->path,
                          p->key_id_line ? p->key_id_line : p->secret_line, p->header,
                          p->key_id_line ? "aws_access_key_id" : "aws_secret_access_key",
                          p->key_id_line ? "aws_secret_access_key" : "aws_access_key_id");
    tw_credentials *out = r->out;
    memcpy(out->access_key_id, p->key_id, sizeof out->access_key_id);
    memcpy(out->secret_access_key, p->secret, sizeof out->secret_access_key);
    memcpy(out->session_token, p->token, sizeof out->session_token);
    snprintf(out->source, sizeof out->source, "%s %s", p->path, p->header); /* may cut a path */
    if (p->mode & 077)
        tw_warn("%s holds AWS secrets but its permissions %04o let others read or change it; "
                "run chmod 600 %s",
                p->path, p->mode, p->path);
    return 1;
}

static int refuse_takeover(resolver *r, const profile *p)
{
    return tw_err_set(r->err, -EINVAL,
                      "%s:%d: profile %s uses %s, which trailwatch does not support (it neither "
                      "assumes roles nor signs in with SSO or web identity); give the agent a "
                      "profile with aws_access_key_id and aws_secret_access_key, or set "
                      "access_key_id and secret_access_key in " SOURCE_ENDPOINT,
                      p->path, p->takeover_line, p->name, p->takeover);
}

/* Both files read; the credentials file wins for the same profile, except
 * that a role, SSO or web identity anywhere in the profile would make the
 * AWS CLI use that instead of any static keys: those we refuse. */
static int choose(resolver *r, profile *files, const char *origin)
{
    profile *creds = &files[0], *config = &files[1];
    for (int i = 0; i < 2; i++)
        if (files[i].found && files[i].takeover != NULL)
            return refuse_takeover(r, &files[i]);
    int rc = take_profile(r, creds, creds->path);
    if (rc == 0)
        rc = take_profile(r, config, creds->path);
    if (rc != 0)
        return rc;
    if (origin != NULL && !creds->found && !config->found) {
        tw_buf b = TW_BUF_INIT;
        for (int i = 0; i < 2; i++) {
            if (files[i].path[0] == '\0')
                continue;
            if (b.len > 0)
                tw_buf_puts(&b, ", ");
            describe_missing(&b, &files[i]);
        }
        rc = tw_err_set(r->err, -ENOENT, "AWS profile %s (named by %s) was not found: %s",
                        creds->name, origin, b.len ? tw_buf_cstr(&b) : "no file could be read");
        tw_buf_free(&b);
        return rc;
    }
    for (int i = 0; i < 2; i++) {
        if (files[i].path[0] == '\0')
            continue;
        tw_buf_puts(&r->tried, ", ");
        describe_missing(&r->tried, &files[i]);
    }
    return 0;
}

/* 3 and 4. The shared credentials and config files. */
static int from_files(resolver *r)
{
    const tw_endpoint_config *ep = r->endpoint;
    const char *origin = NULL, *name = "default";
    if (ep != NULL && nonempty(ep->profile)) {
        name = ep->profile;
        origin = SOURCE_ENDPOINT " profile";
    } else if ((name = env_get(r, "AWS_PROFILE")) != NULL) {
        origin = "AWS_PROFILE";
    } else if ((name = env_get(r, "AWS_DEFAULT_PROFILE")) != NULL) {
        origin = "AWS_DEFAULT_PROFILE";
    } else {
        name = "default";
    }
    char wanted[PROFILE_MAX + 1];
    if (strlen(name) > PROFILE_MAX)
        return tw_err_set(r->err, -EINVAL, "the profile name from %s is longer than %d characters",
                          origin, PROFILE_MAX);
    snprintf(wanted, sizeof wanted, "%s", name);

    /* Copied: a lookup's string only lives until the next call. */
    char(*spec)[PATH_MAX] = tw_calloc(2, PATH_MAX);
    const char *spec_origin[2] = {SOURCE_ENDPOINT " credentials_file", "AWS_CONFIG_FILE"};
    const char *v = ep != NULL ? nonempty(ep->credentials_file) : NULL;
    if (v == NULL && (v = env_get(r, "AWS_SHARED_CREDENTIALS_FILE")) != NULL)
        spec_origin[0] = "AWS_SHARED_CREDENTIALS_FILE";
    snprintf(spec[0], PATH_MAX, "%s", v != NULL ? v : "~/.aws/credentials");
    v = env_get(r, "AWS_CONFIG_FILE");
    snprintf(spec[1], PATH_MAX, "%s", v != NULL ? v : "~/.aws/config");

    profile *files = tw_calloc(2, sizeof *files);
    char(*paths)[PATH_MAX] = tw_calloc(2, PATH_MAX);
    int rc = 0;
    for (int i = 0; i < 2 && rc >= 0; i++) {
        files[i].kind = i == 0 ? CREDENTIALS_FILE : CONFIG_FILE;
        files[i].name = wanted;
        files[i].path = paths[i];
        rc = expand_path(r, spec[i], spec_origin[i], paths[i]);
        if (rc == 1) {
            rc = 0;
            continue;
        }
        if (rc == 0) {
            rc = load_profile(&files[i], &r->out->watch[r->out->n_watch], r->err);
            r->out->n_watch++;
        }
    }
    if (rc >= 0)
        rc = choose(r, files, origin);
    for (int i = 0; i < 2; i++)
        profile_wipe(&files[i]);
    free(files);
    free(paths);
    free(spec);
    return rc;
}

int tw_credentials_resolve(const tw_endpoint_config *endpoint, tw_credentials_env_fn env,
                           void *env_ctx, tw_credentials *out, tw_err *err)
{
    memset(out, 0, sizeof *out);
    resolver r = {.env = env != NULL ? env : process_env,
                  .env_ctx = env_ctx,
                  .endpoint = endpoint,
                  .out = out,
                  .tried = TW_BUF_INIT,
                  .err = err};
    int rc = from_endpoint(&r);
    if (rc == 0)
        rc = from_environment(&r);
    if (rc == 0)
        rc = from_files(&r);
    if (rc == 0)
        rc = tw_err_set(err, -ENOENT, "no AWS credentials: %s", tw_buf_cstr(&r.tried));
    tw_buf_free(&r.tried);
    if (rc < 0) {
        explicit_bzero(out->access_key_id, sizeof out->access_key_id);
        explicit_bzero(out->secret_access_key, sizeof out->secret_access_key);
        explicit_bzero(out->session_token, sizeof out->session_token);
        out->source[0] = '\0';
        return rc;
    }
    return 0;
}

/* ---- rotation -------------------------------------------------------------------- */

static bool watch_changed(const tw_credentials_watch *w)
{
    struct stat st;
    if (stat(w->path, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? w->exists : true;
    if (!w->exists || w->racy)
        return true;
    return (uint64_t)st.st_dev != w->dev || (uint64_t)st.st_ino != w->ino ||
           (int64_t)st.st_size != w->size || timespec_ns(st.st_mtim) != w->mtime_ns ||
           timespec_ns(st.st_ctim) != w->ctime_ns;
}

bool tw_credentials_changed(const tw_credentials *c)
{
    for (unsigned i = 0; i < c->n_watch && i < 2; i++)
        if (watch_changed(&c->watch[i]))
            return true;
    return false;
}

void tw_credentials_wipe(tw_credentials *c)
{
    explicit_bzero(c, sizeof *c);
}
