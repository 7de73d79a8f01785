/* nginx_format.c — nginx log_format text compiled into literal/variable
 * steps, lines split by walking them, nginx's escaping of values undone,
 * request lines split (see nginx_format.h). */
#include "nginx_format.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encode.h"
#include "mem.h"

/* What a variable's value may contain, to split it from a variable that
 * follows it with no text between them. */
enum { CLASS_ANY, CLASS_NUMBER, CLASS_NAME };

/* One variable and the literal text after it. */
typedef struct step {
    size_t literal;     /* offset of the literal in format->literals */
    size_t literal_len; /* 0: the last variable, or one followed by another */
    unsigned char cls;  /* CLASS_* */
    bool list;          /* nginx joins several values with ", " and " : " */
} step;

struct tw_nginx_format {
    tw_nginx_escape escape;
    size_t lead_len; /* literals[0 .. lead_len): text before the first variable */
    size_t n_vars;
    tw_nginx_var *vars;
    step *steps; /* one per variable */
    char *literals;
    char *names;
};

/* ---- what nginx's variables are ------------------------------------------ */

static bool name_in(const char *name, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

static unsigned char var_class(const char *name)
{
    static const char *const numbers[] = {
        "status", "body_bytes_sent", "bytes_sent", "request_length", "request_time", "msec",
        "connection", "connection_requests", "pid", "server_port", "remote_port",
        "content_length", NULL,
    };
    static const char *const names[] = {
        "host", "hostname", "server_name", "remote_addr", "server_addr", "realip_remote_addr",
        "scheme", "request_method", "https", NULL,
    };
    if (name_in(name, numbers))
        return CLASS_NUMBER;
    return name_in(name, names) ? CLASS_NAME : CLASS_ANY;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* nginx writes one value per upstream tried: "a:80, b:80", and " : " between
 * upstream groups after an internal redirect. */
static bool var_is_list(const char *name)
{
    if (starts_with(name, "upstream_"))
        return !starts_with(name, "upstream_http_") && !starts_with(name, "upstream_cookie_") &&
               !starts_with(name, "upstream_trailer_");
    return strcmp(name, "http_x_forwarded_for") == 0 ||
           strcmp(name, "proxy_add_x_forwarded_for") == 0;
}

static tw_nginx_var_kind var_kind(const char *name)
{
    if (strcmp(name, "request") == 0)
        return TW_NGINX_VAR_REQUEST;
    if (strcmp(name, "time_local") == 0)
        return TW_NGINX_VAR_TIME_LOCAL;
    if (strcmp(name, "time_iso8601") == 0)
        return TW_NGINX_VAR_TIME_ISO8601;
    if (strcmp(name, "msec") == 0)
        return TW_NGINX_VAR_MSEC;
    return TW_NGINX_VAR_OTHER;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- reading the text: the format bytes and the column each came from ---- */

typedef struct source {
    tw_buf text;
    size_t *cols; /* 1-based column in the original text of each byte */
    size_t cap;
    tw_nginx_escape escape;
} source;

static void source_put(source *s, char c, size_t col)
{
    if (s->text.len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 128;
        s->cols = tw_realloc(s->cols, s->cap * sizeof *s->cols);
    }
    s->cols[s->text.len] = col;
    tw_buf_putc(&s->text, c);
}

static size_t skip_space(const char *text, size_t len, size_t pos)
{
    while (pos < len && is_space(text[pos]))
        pos++;
    return pos;
}

/* "escape=json" at pos (the token runs to whitespace). Returns 0, or
 * -ENOENT when there is no escape parameter there. */
static int read_escape(const char *text, size_t len, size_t *pos, source *src, tw_err *err)
{
    static const char key[] = "escape=";
    size_t start = *pos;
    if (len - start < sizeof key - 1 || memcmp(text + start, key, sizeof key - 1) != 0)
        return -ENOENT;
    size_t v = start + sizeof key - 1, end = v;
    while (end < len && !is_space(text[end]) && text[end] != '\'' && text[end] != '"')
        end++;
    size_t n = end - v;
    if (n == 7 && memcmp(text + v, "default", 7) == 0)
        src->escape = TW_NGINX_ESCAPE_DEFAULT;
    else if (n == 4 && memcmp(text + v, "json", 4) == 0)
        src->escape = TW_NGINX_ESCAPE_JSON;
    else if (n == 4 && memcmp(text + v, "none", 4) == 0)
        src->escape = TW_NGINX_ESCAPE_NONE;
    else {
        char quoted[TW_QUOTE_SIZE];
        return tw_err_set(err, -EINVAL,
                          "log_format: unknown %s at column %zu (expected escape=default, "
                          "escape=json or escape=none)",
                          tw_quote(text + start, end - start, quoted), start + 1);
    }
    *pos = end;
    return 0;
}

/* A quoted argument of the directive, as nginx's configuration reader takes
 * it: \" \' \\ \t \r \n are escapes, any other backslash is kept. */
static int read_quoted(const char *text, size_t len, size_t *pos, source *src, tw_err *err)
{
    size_t start = *pos;
    char quote = text[start];
    size_t i = start + 1;
    while (i < len && text[i] != quote) {
        if (text[i] == '\\' && i + 1 < len) {
            static const char from[] = "\"'\\trn", to[] = "\"'\\\t\r\n";
            const char *e = memchr(from, text[i + 1], sizeof from - 1);
            if (e != NULL) {
                source_put(src, to[e - from], i + 1);
                i += 2;
                continue;
            }
        }
        source_put(src, text[i], i + 1);
        i++;
    }
    if (i == len)
        return tw_err_set(err, -EINVAL, "log_format: the string quoted at column %zu is not closed",
                          start + 1);
    *pos = i + 1;
    return 0;
}

/* log_format NAME [escape=...] 'string' ... [;] — pos is after "log_format". */
static int read_directive(const char *text, size_t len, size_t pos, source *src, tw_err *err)
{
    pos = skip_space(text, len, pos);
    size_t name = pos;
    while (pos < len && !is_space(text[pos]) && text[pos] != ';' && text[pos] != '\'' &&
           text[pos] != '"')
        pos++;
    if (pos == name)
        return tw_err_set(err, -EINVAL, "log_format: no format name at column %zu (expected "
                                        "log_format NAME 'format...';)", name + 1);
    pos = skip_space(text, len, pos);
    int rc = read_escape(text, len, &pos, src, err);
    if (rc != 0 && rc != -ENOENT)
        return rc;
    bool any = false;
    for (;;) {
        pos = skip_space(text, len, pos);
        if (pos == len)
            break;
        if (text[pos] == ';') {
            size_t after = skip_space(text, len, pos + 1);
            if (after != len)
                return tw_err_set(err, -EINVAL,
                                  "log_format: unexpected text at column %zu after the \";\"",
                                  after + 1);
            break;
        }
        if (text[pos] == '\'' || text[pos] == '"') {
            if ((rc = read_quoted(text, len, &pos, src, err)) != 0)
                return rc;
        } else {
            while (pos < len && !is_space(text[pos]) && text[pos] != ';') {
                source_put(src, text[pos], pos + 1);
                pos++;
            }
        }
        any = true;
    }
    if (!any)
        return tw_err_set(err, -EINVAL,
                          "log_format: the directive has no format string after its name");
    return 0;
}

static int read_source(const char *text, size_t len, source *src, tw_err *err)
{
    static const char directive[] = "log_format";
    size_t pos = skip_space(text, len, 0);
    size_t n = sizeof directive - 1;
    if (len - pos > n && memcmp(text + pos, directive, n) == 0 && is_space(text[pos + n]))
        return read_directive(text, len, pos + n, src, err);
    int rc = read_escape(text, len, &pos, src, err);
    if (rc == 0)
        pos = skip_space(text, len, pos);
    else if (rc != -ENOENT)
        return rc;
    for (; pos < len; pos++)
        source_put(src, text[pos], pos + 1);
    return 0;
}

/* ---- compiling --------------------------------------------------------- */

typedef struct builder {
    tw_buf literals, names;
    size_t *name_offsets, *cols;
    step *steps;
    size_t n_vars;
} builder;

/* Reads the variable at text[*i] == '$'; appends its name to b->names. */
static int read_variable(const source *src, size_t *i, builder *b, tw_err *err)
{
    const char *t = src->text.data;
    size_t n = src->text.len, at = *i, col = src->cols[at];
    size_t name, name_len;
    if (at + 1 < n && t[at + 1] == '{') {
        size_t close = at + 2;
        while (close < n && t[close] != '}')
            close++;
        if (close == n)
            return tw_err_set(err, -EINVAL, "log_format: \"${\" at column %zu has no closing \"}\"",
                              col);
        name = at + 2;
        name_len = close - name;
        if (name_len == 0)
            return tw_err_set(err, -EINVAL, "log_format: \"${}\" at column %zu names no variable",
                              col);
        for (size_t k = name; k < close; k++) {
            if (is_name_char(t[k]))
                continue;
            char quoted[TW_QUOTE_SIZE];
            return tw_err_set(err, -EINVAL,
                              "log_format: the variable at column %zu has a %s in its name "
                              "(names have letters, digits and _ only)",
                              col, tw_quote(t + k, 1, quoted));
        }
        *i = close + 1;
    } else {
        name = at + 1;
        size_t end = name;
        while (end < n && is_name_char(t[end]))
            end++;
        if (end == name)
            return tw_err_set(err, -EINVAL,
                              "log_format: \"$\" at column %zu is not followed by a variable name",
                              col);
        name_len = end - name;
        *i = end;
    }
    if (b->n_vars == TW_NGINX_MAX_VARS)
        return tw_err_set(err, -EINVAL, "log_format: more than %d variables (at column %zu)",
                          TW_NGINX_MAX_VARS, col);
    b->name_offsets = tw_realloc(b->name_offsets, (b->n_vars + 1) * sizeof *b->name_offsets);
    b->cols = tw_realloc(b->cols, (b->n_vars + 1) * sizeof *b->cols);
    b->steps = tw_realloc(b->steps, (b->n_vars + 1) * sizeof *b->steps);
    b->name_offsets[b->n_vars] = b->names.len;
    b->cols[b->n_vars] = col;
    tw_buf_append(&b->names, t + name, name_len);
    tw_buf_putc(&b->names, '\0');
    b->n_vars++;
    return 0;
}

/* Appends literal text up to the next '$'. */
static void read_literal(const source *src, size_t *i, builder *b)
{
    const char *t = src->text.data;
    size_t n = src->text.len, start = *i;
    const char *dollar = memchr(t + start, '$', n - start);
    size_t end = dollar != NULL ? (size_t)(dollar - t) : n;
    tw_buf_append(&b->literals, t + start, end - start);
    *i = end;
}

static int build(const source *src, builder *b, size_t *lead_len, tw_err *err)
{
    size_t i = 0, n = src->text.len;
    read_literal(src, &i, b);
    *lead_len = b->literals.len;
    while (i < n) {
        int rc = read_variable(src, &i, b, err);
        if (rc != 0)
            return rc;
        step *s = &b->steps[b->n_vars - 1];
        s->literal = b->literals.len;
        read_literal(src, &i, b);
        s->literal_len = b->literals.len - s->literal;
    }
    if (b->n_vars == 0)
        return tw_err_set(err, -EINVAL, "log_format: the format has no variable (such as "
                                        "$remote_addr) to read from a line");
    return 0;
}

/* Two variables with no text between them can be split only when the first
 * one cannot hold what the second one starts with. */
static int check_adjacent(const builder *b, tw_err *err)
{
    for (size_t k = 0; k + 1 < b->n_vars; k++) {
        if (b->steps[k].literal_len > 0 || b->steps[k].cls != CLASS_ANY)
            continue;
        return tw_err_set(err, -EINVAL,
                          "log_format: \"$%s\" at column %zu is followed directly by \"$%s\"; "
                          "with no text between them a line cannot be split (put a separator "
                          "such as a space between them)",
                          b->names.data + b->name_offsets[k], b->cols[k],
                          b->names.data + b->name_offsets[k + 1]);
    }
    return 0;
}

static void builder_free(builder *b)
{
    tw_buf_free(&b->literals);
    tw_buf_free(&b->names);
    free(b->name_offsets);
    free(b->cols);
    free(b->steps);
}

int tw_nginx_format_compile(const char *text, size_t len, tw_nginx_format **out, tw_err *err)
{
    source src = {TW_BUF_INIT, NULL, 0, TW_NGINX_ESCAPE_DEFAULT};
    builder b = {TW_BUF_INIT, TW_BUF_INIT, NULL, NULL, NULL, 0};
    size_t lead_len = 0;
    int rc = read_source(text, len, &src, err);
    if (rc == 0 && src.text.len == 0)
        rc = tw_err_set(err, -EINVAL, "log_format: the format is empty");
    if (rc == 0)
        rc = build(&src, &b, &lead_len, err);
    if (rc == 0) {
        for (size_t k = 0; k < b.n_vars; k++) {
            const char *name = b.names.data + b.name_offsets[k];
            b.steps[k].cls = (unsigned char)var_class(name);
            b.steps[k].list = var_is_list(name);
        }
        rc = check_adjacent(&b, err);
    }
    if (rc == 0) {
        tw_nginx_format *f = tw_calloc(1, sizeof *f);
        f->escape = src.escape;
        f->lead_len = lead_len;
        f->n_vars = b.n_vars;
        f->steps = b.steps;
        b.steps = NULL;
        f->literals = b.literals.len > 0 ? tw_buf_steal(&b.literals) : tw_strdup("");
        f->names = tw_buf_steal(&b.names);
        f->vars = tw_calloc(f->n_vars, sizeof *f->vars);
        for (size_t k = 0; k < f->n_vars; k++) {
            f->vars[k].name = f->names + b.name_offsets[k];
            f->vars[k].kind = var_kind(f->vars[k].name);
        }
        *out = f;
    }
    builder_free(&b);
    tw_buf_free(&src.text);
    free(src.cols);
    return rc;
}

void tw_nginx_format_free(tw_nginx_format *format)
{
    if (format == NULL)
        return;
    free(format->vars);
    free(format->steps);
    free(format->literals);
    free(format->names);
    free(format);
}

tw_nginx_escape tw_nginx_format_escape(const tw_nginx_format *format)
{
    return format->escape;
}

size_t tw_nginx_format_var_count(const tw_nginx_format *format)
{
    return format->n_vars;
}

const tw_nginx_var *tw_nginx_format_var(const tw_nginx_format *format, size_t i)
{
    return &format->vars[i];
}

/* ---- matching ---------------------------------------------------------- */

static bool in_class(unsigned char cls, char c)
{
    if ((c >= '0' && c <= '9') || c == '.' || c == '-')
        return true;
    if (cls == CLASS_NUMBER)
        return false;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           c == '[' || c == ']';
}

/* Whether the literal found at i really ends the value that began at start. */
static bool is_boundary(const tw_nginx_format *f, const step *s, const char *line, size_t len,
                        size_t start, size_t i)
{
    const char *lit = f->literals + s->literal;
    if (f->escape == TW_NGINX_ESCAPE_JSON && lit[0] == '"') {
        size_t backslashes = 0;
        while (i - backslashes > start && line[i - backslashes - 1] == '\\')
            backslashes++;
        if (backslashes % 2 == 1)
            return false;
    }
    if (s->list && lit[0] == ' ') {
        if (i > start && line[i - 1] == ',')
            return false; /* "a:80, b:80" */
        bool literal_is_colon = s->literal_len > 1 && lit[1] == ':';
        if (!literal_is_colon && i + 2 < len && line[i + 1] == ':' && line[i + 2] == ' ')
            return false; /* first space of "a:80 : b:80" */
        if (i >= start + 2 && line[i - 1] == ':' && line[i - 2] == ' ')
            return false; /* its second space */
    }
    return true;
}

/* The first occurrence of step s's literal that ends the value starting at
 * start. */
static bool find_literal(const tw_nginx_format *f, const step *s, const char *line, size_t len,
                         size_t start, size_t *at)
{
    const char *lit = f->literals + s->literal;
    size_t n = s->literal_len, from = start;
    while (from + n <= len) {
        const char *p = memchr(line + from, lit[0], len - n + 1 - from);
        if (p == NULL)
            return false;
        size_t i = (size_t)(p - line);
        if (memcmp(p + 1, lit + 1, n - 1) == 0 && is_boundary(f, s, line, len, start, i)) {
            *at = i;
            return true;
        }
        from = i + 1;
    }
    return false;
}

/* Choosing a later occurrence of a literal never helps a later literal be
 * found (its search would only start further right), so the first
 * occurrence is the only one tried and a line costs one pass. */
bool tw_nginx_format_match(const tw_nginx_format *format, const char *line, size_t len,
                           tw_nginx_span *values)
{
    size_t pos = format->lead_len;
    if (len < pos || memcmp(line, format->literals, pos) != 0)
        return false;
    for (size_t k = 0; k < format->n_vars; k++) {
        const step *s = &format->steps[k];
        size_t end;
        if (s->literal_len > 0) {
            if (!find_literal(format, s, line, len, pos, &end))
                return false;
        } else if (k + 1 == format->n_vars) {
            end = len;
        } else {
            for (end = pos; end < len && in_class(s->cls, line[end]);)
                end++;
        }
        values[k] = (tw_nginx_span){line + pos, end - pos};
        pos = end + s->literal_len;
    }
    return true;
}

/* ---- unescaping -------------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte of a "\xHH" at text[i], or -1. */
static int hex_escape_at(const char *text, size_t len, size_t i)
{
    if (i > len || len - i < 4 || text[i] != '\\' || text[i + 1] != 'x')
        return -1;
    int high = hex_value(text[i + 2]), low = hex_value(text[i + 3]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
}

/* How long the UTF-8 sequence starting with lead is, and the range its
 * second byte must be in (RFC 3629: no overlongs, no surrogates). */
static size_t utf8_shape(int lead, int *second_min, int *second_max)
{
    *second_min = 0x80;
    *second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (lead == 0xE0)
            *second_min = 0xA0;
        if (lead == 0xED)
            *second_max = 0x9F;
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (lead == 0xF0)
            *second_min = 0x90;
        if (lead == 0xF4)
            *second_max = 0x8F;
        return 4;
    }
    return 0;
}

/* Decodes the escaped UTF-8 sequence "\xE2\x80\x94" at text[i] into out;
 * returns its byte count, or 0 when the escapes are not valid UTF-8. */
static size_t unescape_utf8(const char *text, size_t len, size_t i, char *out)
{
    int second_min, second_max;
    size_t n = utf8_shape(hex_escape_at(text, len, i), &second_min, &second_max);
    if (n == 0)
        return 0;
    unsigned char bytes[4];
    for (size_t k = 0; k < n; k++) {
        int b = hex_escape_at(text, len, i + 4 * k);
        int min = k == 1 ? second_min : 0x80, max = k == 1 ? second_max : 0xBF;
        if (k > 0 && (b < min || b > max))
            return 0;
        bytes[k] = (unsigned char)b;
    }
    memcpy(out, bytes, n);
    return n;
}

static size_t unescape_default(const char *text, size_t len, char *out)
{
    size_t i = 0, o = 0;
    while (i < len) {
        const char *slash = memchr(text + i, '\\', len - i);
        size_t plain = slash != NULL ? (size_t)(slash - text) - i : len - i;
        memcpy(out + o, text + i, plain);
        o += plain;
        i += plain;
        if (i == len)
            break;
        int b = hex_escape_at(text, len, i);
        size_t n;
        if (b >= 0 && b < 0x80) {
            out[o++] = (char)b;
            i += 4;
        } else if (b >= 0x80 && (n = unescape_utf8(text, len, i, out + o)) > 0) {
            o += n;
            i += 4 * n;
        } else {
            size_t keep = b >= 0 ? 4 : 1; /* an escape that is no UTF-8, or a lone '\' */
            memcpy(out + o, text + i, keep);
            o += keep;
            i += keep;
        }
    }
    return o;
}

/* The code unit of a "\uHHHH" at text[i], or -1. */
static long json_unit_at(const char *text, size_t len, size_t i)
{
    if (i > len || len - i < 6 || text[i] != '\\' || text[i + 1] != 'u')
        return -1;
    long unit = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = hex_value(text[i + k]);
        if (h < 0)
            return -1;
        unit = unit * 16 + h;
    }
    return unit;
}

static size_t put_utf8(char *out, long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes "\uHHHH" (or a surrogate pair of them) at text[i]; returns how many
 * input bytes it used (0: not a decodable escape) and sets *written. */
static size_t unescape_json_unicode(const char *text, size_t len, size_t i, char *out,
                                    size_t *written)
{
    long unit = json_unit_at(text, len, i);
    if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF))
        return 0;
    if (unit < 0xD800 || unit > 0xDBFF) {
        *written = put_utf8(out, unit);
        return 6;
    }
    long low = json_unit_at(text, len, i + 6);
    if (low < 0xDC00 || low > 0xDFFF)
        return 0;
    *written = put_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
    return 12;
}

static size_t unescape_json(const char *text, size_t len, char *out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    size_t i = 0, o = 0;
    while (i < len) {
        const char *slash = memchr(text + i, '\\', len - i);
        size_t plain = slash != NULL ? (size_t)(slash - text) - i : len - i;
        memcpy(out + o, text + i, plain);
        o += plain;
        i += plain;
        if (i == len)
            break;
        const char *e = i + 1 < len ? memchr(from, text[i + 1], sizeof from - 1) : NULL;
        size_t used, written;
        if (e != NULL) {
            out[o++] = to[e - from];
            i += 2;
        } else if ((used = unescape_json_unicode(text, len, i, out + o, &written)) > 0) {
            o += written;
            i += used;
        } else {
            out[o++] = text[i++]; /* not an escape: the '\' stays */
        }
    }
    return o;
}

size_t tw_nginx_unescape(tw_nginx_escape escape, const char *text, size_t len, char *out)
{
    switch (escape) {
    case TW_NGINX_ESCAPE_DEFAULT:
        return unescape_default(text, len, out);
    case TW_NGINX_ESCAPE_JSON:
        return unescape_json(text, len, out);
    case TW_NGINX_ESCAPE_NONE:
        break;
    }
    if (len > 0)
        memcpy(out, text, len);
    return len;
}

/* ---- request lines ----------------------------------------------------- */

/* Longer than any method a server knows (VERSION-CONTROL, BASELINE-CONTROL). */
#define MAX_METHOD_LEN 32

static bool is_method_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

bool tw_nginx_split_request(const char *text, size_t len, tw_nginx_request *out)
{
    *out = (tw_nginx_request){{NULL, 0}, {NULL, 0}, {NULL, 0}};
    size_t m = 0;
    while (m < len && m <= MAX_METHOD_LEN && is_method_char(text[m]))
        m++;
    if (m == 0 || m > MAX_METHOD_LEN || m + 1 >= len || text[m] != ' ')
        return false;
    const char *target = text + m + 1;
    size_t rest = len - m - 1;
    const char *space = memrchr(target, ' ', rest);
    size_t target_len = rest;
    if (space != NULL && (size_t)(text + len - space) > 5 && memcmp(space + 1, "HTTP/", 5) == 0) {
        target_len = (size_t)(space - target);
        out->protocol = (tw_nginx_span){space + 1, (size_t)(text + len - space - 1)};
    }
    if (target_len == 0) {
        out->protocol = (tw_nginx_span){NULL, 0};
        return false;
    }
    out->method = (tw_nginx_span){text, m};
    out->path = (tw_nginx_span){target, target_len};
    return true;
}
