/* audit_routes.c — route maps, data_paths patterns and default event names
 * (see audit_routes.h). */
#include "audit_routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit_json.h"
#include "encode.h"
#include "mem.h"

#define MAX_METHODS 8
#define ID_MIN_HEX 16
#define EXT_MAX 8

typedef enum seg_kind { SEG_LITERAL, SEG_ONE, SEG_ANY, SEG_GLOB } seg_kind;

typedef struct segment {
    seg_kind kind;
    const char *text;
    uint32_t len;
} segment;

typedef struct pattern {
    const char *text; /* for messages */
    unsigned n;
    segment segs[TW_AUDIT_PATTERN_MAX_SEGMENTS];
} pattern;

typedef struct route {
    unsigned n_methods; /* 0: any method */
    const char *methods[MAX_METHODS];
    uint8_t method_len[MAX_METHODS];
    pattern pattern;
    const char *name;
    size_t name_len;
} route;

struct tw_audit_routes {
    char *text; /* owned copy, cut into NUL-terminated tokens */
    size_t n;
    route *rules;
};

struct tw_audit_paths {
    char *text;
    size_t n;
    pattern *patterns;
};

/* ---- paths ------------------------------------------------------------------ */

void tw_audit_path_split(const char *path, size_t len, tw_audit_path *out)
{
    /* A proxy's absolute target: keep what follows the authority. */
    size_t skip = 0;
    bool origin_form = len > 0 && path[0] == '/'; /* the usual case */
    if (!origin_form && len >= 7 && strncasecmp(path, "http://", 7) == 0)
        skip = 7;
    else if (!origin_form && len >= 8 && strncasecmp(path, "https://", 8) == 0)
        skip = 8;
    if (skip > 0) {
        const char *slash = memchr(path + skip, '/', len - skip);
        skip = slash != NULL ? (size_t)(slash - path) : len;
    }
    path += skip;
    len -= skip;
    size_t end = 0;
    while (end < len && path[end] != '?' && path[end] != '#')
        end++;
    out->text = path;
    out->len = end;
    out->n = 0;
    out->too_deep = false;
    for (size_t i = 0; i < end;) {
        if (path[i] == '/') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < end && path[i] != '/')
            i++;
        if (out->n == TW_AUDIT_PATH_MAX_SEGMENTS) {
            out->too_deep = true;
            return;
        }
        out->start[out->n] = (uint32_t)start;
        out->seg_len[out->n] = (uint32_t)(i - start);
        out->n++;
    }
}

/* ---- patterns ----------------------------------------------------------------- */

/* Glob within one segment: '*' any run, '?' one byte. Backtracks only to
 * the last '*', so time is at most len(pattern) * len(segment). */
static bool glob_match(const char *pat, size_t plen, const char *str, size_t slen)
{
    size_t p = 0, s = 0, star = SIZE_MAX, star_s = 0;
    while (s < slen) {
        if (p < plen && (pat[p] == '?' || (pat[p] != '*' && pat[p] == str[s]))) {
            p++;
            s++;
        } else if (p < plen && pat[p] == '*') {
            star = p++;
            star_s = s;
        } else if (star != SIZE_MAX) {
            p = star + 1;
            s = ++star_s;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

static bool segment_matches(const segment *seg, const char *text, size_t len)
{
    switch (seg->kind) {
    case SEG_LITERAL:
        return seg->len == len && memcmp(seg->text, text, len) == 0;
    case SEG_GLOB:
        return glob_match(seg->text, seg->len, text, len);
    default:
        return true;
    }
}

/* Adds the states reachable by letting a "**" match no segment. */
static uint64_t skip_empty_any(const pattern *p, uint64_t states)
{
    for (unsigned i = 0; i < p->n; i++)
        if ((states >> i & 1) && p->segs[i].kind == SEG_ANY)
            states |= UINT64_C(1) << (i + 1);
    return states;
}

/* State i: the first i segments of the pattern matched what was read. */
static bool pattern_matches(const pattern *p, const tw_audit_path *path)
{
    if (path->too_deep)
        return false;
    uint64_t states = skip_empty_any(p, 1);
    for (unsigned k = 0; k < path->n && states != 0; k++) {
        const char *text = path->text + path->start[k];
        size_t len = path->seg_len[k];
        uint64_t next = 0;
        for (unsigned i = 0; i < p->n; i++) {
            if (!(states >> i & 1))
                continue;
            if (p->segs[i].kind == SEG_ANY)
                next |= UINT64_C(1) << i;
            else if (segment_matches(&p->segs[i], text, len))
                next |= UINT64_C(1) << (i + 1);
        }
        states = skip_empty_any(p, next);
    }
    return (states >> p->n & 1) != 0;
}

static seg_kind classify_segment(const char *text, size_t len)
{
    if (len == 1 && text[0] == '*')
        return SEG_ONE;
    if (len == 2 && text[0] == '*' && text[1] == '*')
        return SEG_ANY;
    if (len >= 2 && text[0] == '{' && text[len - 1] == '}')
        return SEG_ONE;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '*' || text[i] == '?')
            return SEG_GLOB;
    return SEG_LITERAL;
}

/* Parses the NUL-terminated token text (which it keeps pointers into). */
static int parse_pattern(const char *text, pattern *p, tw_err *err)
{
    char shown[TW_QUOTE_SIZE];
    memset(p, 0, sizeof *p);
    p->text = text;
    if (text[0] != '/')
        return tw_err_set(err, -EINVAL, "%s is not a path pattern (it must start with /)",
                          tw_quote(text, strlen(text), shown));
    for (const char *s = text; *s != '\0';) {
        if (*s == '/') {
            s++;
            continue;
        }
        size_t len = strcspn(s, "/");
        if (p->n == TW_AUDIT_PATTERN_MAX_SEGMENTS)
            return tw_err_set(err, -EINVAL, "%s has more than %d segments",
                              tw_quote(text, strlen(text), shown),
                              TW_AUDIT_PATTERN_MAX_SEGMENTS);
        p->segs[p->n++] = (segment){classify_segment(s, len), s, (uint32_t)len};
        s += len;
    }
    return 0;
}

/* ---- tokens ------------------------------------------------------------------ */

typedef struct tokenizer {
    char *p;
    bool quoted; /* the last token was "double-quoted" */
} tokenizer;

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next token, NUL-terminated in place, or NULL at the end. A quoted
 * token runs to the next '"'; -EINVAL (*tok = NULL) when there is none. */
static int next_token(tokenizer *t, char **tok)
{
    while (blank(*t->p))
        t->p++;
    *tok = NULL;
    t->quoted = false;
    if (*t->p == '\0')
        return 0;
    if (*t->p == '"') {
        char *close = strchr(t->p + 1, '"');
        if (close == NULL)
            return -EINVAL;
        *close = '\0';
        *tok = t->p + 1;
        t->p = close + 1;
        t->quoted = true;
        return 0;
    }
    *tok = t->p;
    while (*t->p != '\0' && !blank(*t->p))
        t->p++;
    if (*t->p != '\0')
        *t->p++ = '\0';
    return 0;
}

/* ---- the route map ----------------------------------------------------------- */

static bool method_char(char c)
{
    return (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

/* "*" or "PUT,PATCH": cut in place into r->methods. */
static int parse_methods(char *tok, route *r, size_t rule, tw_err *err)
{
    char shown[TW_QUOTE_SIZE];
    if (strcmp(tok, "*") == 0)
        return 0;
    for (char *m = tok; *m != '\0';) {
        size_t len = 0;
        while (method_char(m[len]))
            len++;
        if (len == 0 || len > 32 || (m[len] != ',' && m[len] != '\0') || r->n_methods == MAX_METHODS)
            return tw_err_set(err, -EINVAL,
                              "rule %zu: %s is neither a path pattern (starting with /) nor "
                              "request methods (upper-case, like POST or PUT,PATCH, at most "
                              "%d, or * for any)",
                              rule, tw_quote(tok, strlen(tok), shown), MAX_METHODS);
        r->methods[r->n_methods] = m;
        r->method_len[r->n_methods++] = (uint8_t)len;
        bool more = m[len] == ',';
        m[len] = '\0';
        m += len + (more ? 1 : 0);
    }
    return 0;
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* One rule from the tokenizer; *done when there is none left. */
static int parse_rule(tokenizer *t, route *r, size_t rule, bool *done, tw_err *err)
{
    char shown[TW_QUOTE_SIZE];
    char *tok;
    memset(r, 0, sizeof *r);
    *done = false;
    if (next_token(t, &tok) < 0 || (tok != NULL && t->quoted))
        return tw_err_set(err, -EINVAL, "rule %zu: a quoted text can only be an event name",
                          rule);
    if (tok == NULL) {
        *done = true;
        return 0;
    }
    if (tok[0] != '/') {
        if (parse_methods(tok, r, rule, err) < 0)
            return -EINVAL;
        if (next_token(t, &tok) < 0 || tok == NULL || t->quoted || tok[0] != '/')
            return tw_err_set(err, -EINVAL, "rule %zu: a path pattern starting with / must "
                                            "follow the methods", rule);
    }
    int rc = parse_pattern(tok, &r->pattern, err);
    if (rc < 0) {
        tw_err_prefix(err, "rule %zu", rule);
        return rc;
    }
    const char *path = tok;
    if (next_token(t, &tok) < 0 || tok == NULL || t->quoted || strcmp(tok, "=") != 0)
        return tw_err_set(err, -EINVAL,
                          "rule %zu (%s): expected \" = NAME\" after the path pattern (with "
                          "blanks around =)",
                          rule, tw_quote(path, strlen(path), shown));
    if (next_token(t, &tok) < 0)
        return tw_err_set(err, -EINVAL, "rule %zu (%s): the quoted event name has no closing "
                                        "quote", rule, tw_quote(path, strlen(path), shown));
    if (tok == NULL || tok[0] == '\0')
        return tw_err_set(err, -EINVAL, "rule %zu (%s): the event name is missing after =",
                          rule, tw_quote(path, strlen(path), shown));
    r->name = tok;
    r->name_len = strlen(tok);
    if (utf8_chars(tok, r->name_len) > TW_AUDIT_NAME_MAX_CHARS)
        return tw_err_set(err, -EINVAL, "rule %zu (%s): the event name is longer than %d "
                                        "characters", rule, tw_quote(path, strlen(path), shown),
                          TW_AUDIT_NAME_MAX_CHARS);
    return 0;
}

int tw_audit_routes_new(const char *text, tw_audit_routes **out, tw_err *err)
{
    tw_audit_routes *routes = tw_calloc(1, sizeof *routes);
    routes->text = tw_strdup(text);
    tokenizer t = {routes->text, false};
    for (size_t rule = 1;; rule++) {
        route r;
        bool done;
        if (parse_rule(&t, &r, rule, &done, err) < 0) {
            tw_audit_routes_free(routes);
            return -EINVAL;
        }
        if (done)
            break;
        if (routes->n == TW_AUDIT_ROUTES_MAX) {
            tw_audit_routes_free(routes);
            return tw_err_set(err, -EINVAL, "more than %d rules", TW_AUDIT_ROUTES_MAX);
        }
        routes->rules = tw_realloc(routes->rules, (routes->n + 1) * sizeof *routes->rules);
        routes->rules[routes->n++] = r;
    }
    if (routes->n == 0) {
        tw_audit_routes_free(routes);
        return tw_err_set(err, -EINVAL, "no rule given (expected rules like \"POST /orders/* "
                                        "= CreateOrder\")");
    }
    *out = routes;
    return 0;
}

void tw_audit_routes_free(tw_audit_routes *routes)
{
    if (routes == NULL)
        return;
    free(routes->rules);
    free(routes->text);
    free(routes);
}

static bool method_allowed(const route *r, const char *method, size_t len)
{
    if (r->n_methods == 0)
        return true;
    for (unsigned i = 0; i < r->n_methods; i++)
        if (r->method_len[i] == len && memcmp(r->methods[i], method, len) == 0)
            return true;
    return false;
}

const char *tw_audit_routes_match(const tw_audit_routes *routes, const char *method,
                                  size_t method_len, const tw_audit_path *path,
                                  size_t *name_len)
{
    for (size_t i = 0; i < routes->n; i++) {
        const route *r = &routes->rules[i];
        if (method_allowed(r, method, method_len) && pattern_matches(&r->pattern, path)) {
            *name_len = r->name_len;
            return r->name;
        }
    }
    return NULL;
}

/* ---- data_paths --------------------------------------------------------------- */

int tw_audit_paths_new(const char *text, tw_audit_paths **out, tw_err *err)
{
    tw_audit_paths *paths = tw_calloc(1, sizeof *paths);
    paths->text = tw_strdup(text);
    tokenizer t = {paths->text, false};
    for (;;) {
        char *tok;
        if (next_token(&t, &tok) < 0 || (tok != NULL && t.quoted)) {
            tw_audit_paths_free(paths);
            return tw_err_set(err, -EINVAL, "path patterns are not quoted (separate them "
                                            "with blanks)");
        }
        if (tok == NULL)
            break;
        paths->patterns = tw_realloc(paths->patterns, (paths->n + 1) * sizeof *paths->patterns);
        if (parse_pattern(tok, &paths->patterns[paths->n], err) < 0) {
            tw_audit_paths_free(paths);
            return -EINVAL;
        }
        paths->n++;
        if (paths->n > TW_AUDIT_ROUTES_MAX) {
            tw_audit_paths_free(paths);
            return tw_err_set(err, -EINVAL, "more than %d patterns", TW_AUDIT_ROUTES_MAX);
        }
    }
    *out = paths;
    return 0;
}

void tw_audit_paths_free(tw_audit_paths *paths)
{
    if (paths == NULL)
        return;
    free(paths->patterns);
    free(paths->text);
    free(paths);
}

bool tw_audit_paths_match(const tw_audit_paths *paths, const tw_audit_path *path)
{
    for (size_t i = 0; i < paths->n; i++)
        if (pattern_matches(&paths->patterns[i], path))
            return true;
    return false;
}

/* ---- the default name --------------------------------------------------------- */

static bool hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool looks_like_id(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t digits = 0, hex = 0;
    for (size_t i = 0; i < len; i++) {
        digits += s[i] >= '0' && s[i] <= '9';
        hex += hex_digit(s[i]);
    }
    if (digits == len || (hex == len && len >= ID_MIN_HEX))
        return true;
    if (len != 36 || hex != 32)
        return false;
    return s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'; /* a UUID */
}

static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the id part of a segment ("123" in "123.json"), or 0. */
static size_t id_prefix(const char *s, size_t len)
{
    if (looks_like_id(s, len))
        return len;
    const char *dot = memrchr(s, '.', len);
    if (dot == NULL)
        return 0;
    size_t id_len = (size_t)(dot - s), ext_len = len - id_len - 1;
    if (ext_len == 0 || ext_len > EXT_MAX)
        return 0;
    for (size_t i = 0; i < ext_len; i++)
        if (!alnum(dot[1 + i]))
            return 0;
    return looks_like_id(s, id_len) ? id_len : 0;
}

void tw_audit_default_name(tw_buf *out, const char *method, size_t method_len,
                           const tw_audit_path *path, size_t max_chars)
{
    size_t chars = tw_audit_json_escape(out, method, method_len, max_chars, NULL);
    const char *s = path->text;
    size_t len = path->len;
    bool any = false;
    for (size_t i = 0; i < len && chars + 2 <= max_chars;) {
        if (s[i] == '/') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && s[i] != '/')
            i++;
        tw_audit_json_char(out, any ? '/' : ' ');
        if (!any) {
            tw_audit_json_char(out, '/');
            chars++;
        }
        chars++;
        any = true;
        size_t id = id_prefix(s + start, i - start);
        if (id > 0 && chars + 4 <= max_chars) {
            TW_AUDIT_JSON_LIT(out, "{id}");
            chars += 4;
            start += id;
        } else if (id > 0) {
            break;
        }
        chars += tw_audit_json_escape(out, s + start, i - start, max_chars - chars, NULL);
    }
    if (!any && chars + 2 <= max_chars)
        TW_AUDIT_JSON_LIT(out, " /");
}
