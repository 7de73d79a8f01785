/* filter_pattern.c — compiling CloudWatch Logs filter patterns
 * (spec/cloudwatch.md §2.6 and AWS's "Filter pattern syntax for metric
 * filters, subscription filters, filter log events, and Live Tail") into the
 * immutable tree of filter_tree.h; filter_match.c evaluates it.
 *
 * Three forms, told apart by the first character that is not a space:
 *   terms        ERROR ?WARN -"not this" %regex%
 *   JSON         { $.a.b[0] = "x*" && ($.n > 5 || $.f IS TRUE) }
 *   delimited    [ip, user, ..., status = 4* || status = 5*, bytes > 1000]
 *
 * Every malformed pattern gets "Invalid filter pattern: <what was expected>
 * at position N" (1-based byte offset) or AWS's "Invalid character(s) in
 * term '...'". The parser recurses only into parentheses, at most 64 deep.
 */
#include "filter_pattern.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter_tree.h"
#include "filter_values.h"
#include "mem.h"

#define MAX_PATTERN_BYTES 1024
#define MAX_NESTING 64
#define MAX_SELECTOR_STEPS 32
#define MAX_WILDCARD_SELECTORS 3 /* AWS: at most 3 wildcard selectors per pattern */
#define MAX_INDEX_DIGITS 9
#define ERROR_EXCERPT 64

static const char *const op_names[] = {"=", "!=", "<", ">", "<=", ">="};

typedef struct parser {
    const char *src;
    size_t len;
    size_t pos;
    tw_filter_pattern *pattern;
    tw_err *err;
    bool delimited;
    int depth;
    size_t wildcards;
} parser;

/* ---- parsing helpers -------------------------------------------------- */

static void *pattern_alloc(tw_filter_pattern *pattern, size_t size)
{
    tw_filter_allocation *a = tw_calloc(1, sizeof *a + size);
    a->next = pattern->allocations;
    pattern->allocations = a;
    return a->data;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool at_end(const parser *p)
{
    return p->pos >= p->len;
}

static char peek(const parser *p)
{
    return at_end(p) ? '\0' : p->src[p->pos];
}

static void skip_spaces(parser *p)
{
    while (!at_end(p) && is_space(p->src[p->pos]))
        p->pos++;
}

static bool accept(parser *p, const char *token)
{
    size_t n = strlen(token);
    if (p->len - p->pos < n || memcmp(p->src + p->pos, token, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static void describe(const parser *p, size_t at, char *buf, size_t size)
{
    unsigned char c = at < p->len ? (unsigned char)p->src[at] : 0;
    if (at >= p->len)
        snprintf(buf, size, "the end of the pattern");
    else if (c >= 0x20 && c < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else
        snprintf(buf, size, "byte 0x%02x", c);
}

static int syntax_error(parser *p, size_t at, const char *fmt, ...) TW_PRINTF(3, 4);
static int syntax_error(parser *p, size_t at, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    for (char *c = detail; *c != '\0'; c++) /* bytes quoted from the pattern */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    return tw_err_set(p->err, -EINVAL, "Invalid filter pattern: %s at position %zu", detail,
                      at + 1);
}

static int expected(parser *p, const char *what)
{
    char found[32];
    describe(p, p->pos, found, sizeof found);
    return tw_err_set(p->err, -EINVAL, "Invalid filter pattern: expected %s at position %zu, found %s",
                      what, p->pos + 1, found);
}

/* AWS's own wording; the term is shown with anything but printable ASCII
 * as '?', as AWS shows it. */
static int term_error(parser *p, size_t start, size_t end, const char *why)
{
    char shown[ERROR_EXCERPT + 4];
    size_t n = 0;
    for (size_t i = start; i < end && n < ERROR_EXCERPT; i++) {
        unsigned char c = (unsigned char)p->src[i];
        shown[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (end - start > ERROR_EXCERPT) {
        memcpy(shown + n, "...", 3);
        n += 3;
    }
    shown[n] = '\0';
    return tw_err_set(p->err, -EINVAL, "Invalid character(s) in term '%s' at position %zu%s%s",
                      shown, start + 1, why[0] ? ": " : "", why);
}

/* A "..." string starting at p->pos: sets [*start, *end) to its inside. */
static int read_quoted(parser *p, size_t *start, size_t *end)
{
    size_t open = p->pos++;
    *start = p->pos;
    while (!at_end(p) && p->src[p->pos] != '"')
        p->pos += p->src[p->pos] == '\\' && p->pos + 1 < p->len ? 2 : 1;
    if (at_end(p))
        return syntax_error(p, open, "the '\"' is never closed");
    *end = p->pos++;
    return 0;
}

/* A %regex% starting at p->pos, compiled into the pattern's regex slots. */
static int read_regex(parser *p, const regex_t **out)
{
    size_t open = p->pos;
    const char *close = memchr(p->src + open + 1, '%', p->len - open - 1);
    if (close == NULL)
        return syntax_error(p, open, "the '%%' opening a regular expression is never closed");
    p->pos = (size_t)(close - p->src) + 1;
    tw_filter_pattern *pattern = p->pattern;
    if (pattern->regex_count == TW_FILTER_MAX_REGEXES)
        return syntax_error(p, open, "a filter pattern may hold at most %d regular expressions",
                            TW_FILTER_MAX_REGEXES);
    char why[256];
    regex_t *re = &pattern->regexes[pattern->regex_count];
    int rc = tw_filter_regex_compile(re, p->src + open + 1, p->pos - open - 2, why, sizeof why);
    if (rc == TW_FILTER_REGEX_BAD_CHARACTER)
        return term_error(p, open, p->pos, why);
    if (rc != 0)
        return syntax_error(p, open, "invalid regular expression: %s", why);
    pattern->regex_count++;
    *out = re;
    return 0;
}

/* ---- terms: ERROR ?WARN -"some phrase" %regex% ------------------------ */

/* Beyond AWS's letters, digits and '_', a few characters that cannot be
 * mistaken for syntax are accepted unquoted (IPs, paths, "key:value"). */
static bool word_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("_.-/:@#+", c) != NULL);
}

static int parse_phrase(parser *p, tw_filter_term *t)
{
    size_t start, end;
    int rc = read_quoted(p, &start, &end);
    if (rc != 0)
        return rc;
    char *text = pattern_alloc(p->pattern, end - start + 1);
    size_t n = 0;
    bool blank = true;
    for (size_t i = start; i < end; i++) {
        char c = p->src[i];
        if (c == '\\' && i + 1 < end && (p->src[i + 1] == '"' || p->src[i + 1] == '\\'))
            c = p->src[++i];
        blank = blank && is_space(c);
        text[n++] = c;
    }
    /* AWS documents `" "` as "match everything". */
    t->text = text;
    t->len = blank ? 0 : n;
    return 0;
}

static int parse_term(parser *p, tw_filter_term *t)
{
    size_t start = p->pos;
    t->role = TW_FILTER_TERM_REQUIRED;
    if (peek(p) == '?' || peek(p) == '-') {
        t->role = peek(p) == '?' ? TW_FILTER_TERM_ANY : TW_FILTER_TERM_EXCLUDED;
        p->pos++;
        if (at_end(p) || is_space(peek(p)))
            return syntax_error(p, start, "'%c' must be followed by a term", p->src[start]);
    }
    if (peek(p) == '"')
        return parse_phrase(p, t);
    if (peek(p) == '%')
        return read_regex(p, &t->regex);
    size_t word = p->pos;
    while (!at_end(p) && !is_space(peek(p)))
        p->pos++;
    for (size_t i = word; i < p->pos; i++)
        if (!word_char(p->src[i]))
            return term_error(p, word, p->pos,
                              "terms with characters other than letters, digits and _.-/:@#+ "
                              "must be in double quotes");
    char *text = pattern_alloc(p->pattern, p->pos - word + 1);
    memcpy(text, p->src + word, p->pos - word);
    t->text = text;
    t->len = p->pos - word;
    return 0;
}

static int parse_terms(parser *p)
{
    size_t capacity = p->len / 2 + 1;
    tw_filter_term *terms = pattern_alloc(p->pattern, capacity * sizeof *terms);
    size_t count = 0;
    for (skip_spaces(p); !at_end(p); skip_spaces(p)) {
        int rc = parse_term(p, &terms[count]);
        if (rc != 0)
            return rc;
        if (!at_end(p) && !is_space(peek(p)))
            return expected(p, "a space after the term");
        count++;
    }
    p->pattern->kind = count > 0 ? TW_FILTER_TERMS : TW_FILTER_ALL;
    p->pattern->terms = terms;
    p->pattern->term_count = count;
    return 0;
}

/* ---- values: "quoted*", unquoted*, 4.5e3, %regex% ------------------- */

static bool value_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("_.-+*:/", c) != NULL);
}

static bool value_stop(char c)
{
    return c == '\0' || is_space(c) || strchr(")&|}],", c) != NULL;
}

static void init_glob(parser *p, tw_filter_node *n, size_t start, size_t end, bool quoted)
{
    size_t len = end - start;
    char *text = pattern_alloc(p->pattern, len + 1);
    tw_filter_span *spans = pattern_alloc(p->pattern, (len + 1) * sizeof *spans);
    tw_filter_glob_init(&n->glob, p->src + start, len, quoted, text, spans);
    n->value = TW_FILTER_VALUE_GLOB;
}

static int numbers_only(parser *p, const tw_filter_node *n, size_t at, const char *found)
{
    return syntax_error(p, at, "'%s' compares numbers, so a number was expected, not %s",
                        op_names[n->op], found);
}

static int parse_value(parser *p, tw_filter_node *n)
{
    size_t start = p->pos, end;
    bool numeric_op = n->op >= TW_FILTER_OP_LT;
    if (peek(p) == '"') {
        if (numeric_op)
            return numbers_only(p, n, start, "a quoted string");
        int rc = read_quoted(p, &start, &end);
        if (rc == 0)
            init_glob(p, n, start, end, true);
        return rc;
    }
    if (peek(p) == '%') {
        if (numeric_op)
            return numbers_only(p, n, start, "a regular expression");
        n->value = TW_FILTER_VALUE_REGEX;
        return read_regex(p, &n->regex);
    }
    while (!value_stop(peek(p)))
        p->pos++;
    if (p->pos == start) {
        char what[48];
        snprintf(what, sizeof what, "a value after '%s'", op_names[n->op]);
        return expected(p, what);
    }
    for (size_t i = start; i < p->pos; i++)
        if (!value_char(p->src[i]))
            return term_error(p, start, p->pos,
                              "values with characters other than letters, digits and _.-+*:/ "
                              "must be in double quotes");
    if (tw_filter_number_parse(p->src + start, p->pos - start, &n->number)) {
        n->value = TW_FILTER_VALUE_NUMBER;
        return 0;
    }
    if (numeric_op)
        return numbers_only(p, n, start, "a string");
    init_glob(p, n, start, p->pos, false);
    return 0;
}

static bool read_operator(parser *p, tw_filter_op *op)
{
    static const tw_filter_op order[] = {TW_FILTER_OP_NE, TW_FILTER_OP_LE, TW_FILTER_OP_GE, TW_FILTER_OP_EQ, TW_FILTER_OP_LT, TW_FILTER_OP_GT};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (accept(p, op_names[order[i]])) {
            *op = order[i];
            return true;
        }
    return false;
}

static int parse_comparison(parser *p, tw_filter_node *n)
{
    if (!read_operator(p, &n->op))
        return expected(p, p->delimited ? "an operator (=, !=, <, >, <=, >=)"
                                        : "an operator (=, !=, <, >, <=, >=, IS or NOT EXISTS)");
    n->kind = TW_FILTER_NODE_COMPARE;
    skip_spaces(p);
    return parse_value(p, n);
}

/* ---- JSON selectors: $.a.b[0]['odd key'][*] --------------------------- */

static int read_quoted_key(parser *p, tw_filter_step *s)
{
    char quote = p->src[p->pos++];
    size_t open = p->pos - 1;
    char *key = pattern_alloc(p->pattern, p->len - p->pos + 1);
    size_t n = 0;
    while (!at_end(p) && peek(p) != quote) {
        if (peek(p) == '\\' && p->pos + 1 < p->len)
            p->pos++;
        key[n++] = p->src[p->pos++];
    }
    if (at_end(p))
        return syntax_error(p, open, "the quote opening a property name is never closed");
    p->pos++;
    s->kind = TW_FILTER_STEP_KEY;
    s->key = key;
    return 0;
}

static int parse_bracket_step(parser *p, tw_filter_step *s)
{
    char c = peek(p);
    if (c == '*') {
        p->pos++;
        s->kind = TW_FILTER_STEP_ANY;
    } else if (c == '\'' || c == '"') {
        int rc = read_quoted_key(p, s);
        if (rc != 0)
            return rc;
    } else if (c >= '0' && c <= '9') {
        size_t start = p->pos;
        s->kind = TW_FILTER_STEP_INDEX;
        while (peek(p) >= '0' && peek(p) <= '9' && p->pos - start <= MAX_INDEX_DIGITS)
            s->index = s->index * 10 + (size_t)(p->src[p->pos++] - '0');
        if (p->pos - start > MAX_INDEX_DIGITS)
            return syntax_error(p, start, "the array index is too large");
    } else {
        return expected(p, "an array index, '*' or a quoted property name after '['");
    }
    if (!accept(p, "]"))
        return expected(p, "']'");
    return 0;
}

static int parse_dot_step(parser *p, tw_filter_step *s)
{
    if (accept(p, "*")) {
        s->kind = TW_FILTER_STEP_ANY;
        return 0;
    }
    if (accept(p, "["))
        return parse_bracket_step(p, s);
    size_t start = p->pos;
    while (is_alnum(peek(p)) || peek(p) == '_' || peek(p) == '-')
        p->pos++;
    if (p->pos == start)
        return expected(p, "a property name after '.' (other names are quoted: $.['name'])");
    char *key = pattern_alloc(p->pattern, p->pos - start + 1);
    memcpy(key, p->src + start, p->pos - start);
    s->kind = TW_FILTER_STEP_KEY;
    s->key = key;
    return 0;
}

static int parse_selector(parser *p, tw_filter_selector *out)
{
    size_t start = p->pos;
    tw_filter_step steps[MAX_SELECTOR_STEPS];
    size_t count = 0, wildcards = 0;
    p->pos++; /* '$' */
    if (peek(p) != '.')
        return expected(p, "'.' after '$'");
    while (peek(p) == '.' || peek(p) == '[') {
        if (count == MAX_SELECTOR_STEPS)
            return syntax_error(p, start, "a selector may have at most %d levels",
                                MAX_SELECTOR_STEPS);
        tw_filter_step *s = &steps[count++];
        memset(s, 0, sizeof *s);
        bool dot = p->src[p->pos++] == '.';
        int rc = dot ? parse_dot_step(p, s) : parse_bracket_step(p, s);
        if (rc != 0)
            return rc;
        wildcards += s->kind == TW_FILTER_STEP_ANY;
    }
    if (wildcards > 1)
        return syntax_error(p, start, "a selector may hold only one '*' wildcard");
    p->wildcards += wildcards;
    if (p->wildcards > MAX_WILDCARD_SELECTORS)
        return syntax_error(p, start, "a filter pattern may hold at most %d wildcard selectors",
                            MAX_WILDCARD_SELECTORS);
    tw_filter_step *copy = pattern_alloc(p->pattern, count * sizeof *copy);
    memcpy(copy, steps, count * sizeof *copy);
    out->steps = copy;
    out->count = count;
    return 0;
}

/* ---- conditions and && || ( ) ---------------------------------------- */

static int read_keyword(parser *p, const char *const *choices, size_t count, size_t *which)
{
    size_t start = p->pos;
    while (is_alnum(peek(p)))
        p->pos++;
    for (size_t i = 0; i < count; i++)
        if (strlen(choices[i]) == p->pos - start &&
            strncasecmp(p->src + start, choices[i], p->pos - start) == 0) {
            *which = i;
            return 0;
        }
    p->pos = start;
    return -1;
}

static int parse_json_condition(parser *p, tw_filter_node *n)
{
    static const char *const verbs[] = {"IS", "NOT"};
    static const char *const states[] = {"NULL", "TRUE", "FALSE"};
    static const char *const exists[] = {"EXISTS"};
    static const tw_filter_node_kind state_kinds[] = {TW_FILTER_NODE_IS_NULL, TW_FILTER_NODE_IS_TRUE, TW_FILTER_NODE_IS_FALSE};
    size_t verb, state;
    if (peek(p) != '$')
        return expected(p, "a selector such as $.field");
    int rc = parse_selector(p, &n->selector);
    if (rc != 0)
        return rc;
    skip_spaces(p);
    if (read_keyword(p, verbs, 2, &verb) != 0)
        return parse_comparison(p, n);
    skip_spaces(p);
    if (verb == 0) {
        if (read_keyword(p, states, 3, &state) != 0)
            return expected(p, "NULL, TRUE or FALSE after IS");
        n->kind = state_kinds[state];
    } else {
        if (read_keyword(p, exists, 1, &state) != 0)
            return expected(p, "EXISTS after NOT");
        n->kind = TW_FILTER_NODE_NOT_EXISTS;
    }
    return 0;
}

static int parse_field_condition(parser *p, tw_filter_node *n)
{
    size_t start = p->pos;
    while (is_alnum(peek(p)) || peek(p) == '_' || peek(p) == '-')
        p->pos++;
    if (p->pos == start)
        return expected(p, "a field name");
    skip_spaces(p);
    if (peek(p) == '=' || peek(p) == '!' || peek(p) == '<' || peek(p) == '>')
        return parse_comparison(p, n);
    n->kind = TW_FILTER_NODE_TRUE;
    return 0;
}

static int parse_or(parser *p, const tw_filter_node **out);

static int parse_primary(parser *p, const tw_filter_node **out)
{
    skip_spaces(p);
    if (peek(p) == '(') {
        size_t open = p->pos++;
        if (++p->depth > MAX_NESTING)
            return syntax_error(p, open, "parentheses nest deeper than %d levels", MAX_NESTING);
        int rc = parse_or(p, out);
        if (rc != 0)
            return rc;
        skip_spaces(p);
        if (!accept(p, ")"))
            return expected(p, "'&&', '||' or ')'");
        p->depth--;
        return 0;
    }
    tw_filter_node *n = pattern_alloc(p->pattern, sizeof *n);
    *out = n;
    return p->delimited ? parse_field_condition(p, n) : parse_json_condition(p, n);
}

static int parse_binary(parser *p, const tw_filter_node **out, tw_filter_node_kind kind)
{
    const char *token = kind == TW_FILTER_NODE_OR ? "||" : "&&";
    int rc = kind == TW_FILTER_NODE_OR ? parse_binary(p, out, TW_FILTER_NODE_AND) : parse_primary(p, out);
    while (rc == 0) {
        skip_spaces(p);
        if (!accept(p, token))
            break;
        tw_filter_node *n = pattern_alloc(p->pattern, sizeof *n);
        n->kind = kind;
        n->left = *out;
        rc = kind == TW_FILTER_NODE_OR ? parse_binary(p, &n->right, TW_FILTER_NODE_AND) : parse_primary(p, &n->right);
        *out = n;
    }
    return rc;
}

/* || binds looser than &&: "a || b && c" is "a || (b && c)", as AWS says. */
static int parse_or(parser *p, const tw_filter_node **out)
{
    return parse_binary(p, out, TW_FILTER_NODE_OR);
}

static int expect_nothing_after(parser *p, const char *closer)
{
    skip_spaces(p);
    if (!at_end(p))
        return syntax_error(p, p->pos, "nothing may follow the closing '%s'", closer);
    return 0;
}

static int parse_json_pattern(parser *p)
{
    p->pos++; /* '{' */
    int rc = parse_or(p, &p->pattern->json);
    if (rc != 0)
        return rc;
    skip_spaces(p);
    if (!accept(p, "}"))
        return expected(p, "'&&', '||' or '}'");
    p->pattern->kind = TW_FILTER_JSON;
    return expect_nothing_after(p, "}");
}

/* ---- space-delimited: [a, b = 1*, ..., c > 5] ------------------------ */

/* An empty position ("[a,,b]", AWS's "[..., status_code=4*,]") stands for
 * one field with no condition: AWS names it by its number ($7). */
static int parse_position(parser *p, tw_filter_position *out)
{
    static const tw_filter_node any_field = {.kind = TW_FILTER_NODE_TRUE};
    if (peek(p) == ',' || peek(p) == ']') {
        out->condition = &any_field;
        return 0;
    }
    if (p->len - p->pos >= 3 && memcmp(p->src + p->pos, "...", 3) == 0) {
        char next = p->pos + 3 < p->len ? p->src[p->pos + 3] : '\0';
        if (next == '\0' || next == ',' || next == ']' || is_space(next)) {
            p->pos += 3;
            out->ellipsis = true;
            p->pattern->has_ellipsis = true;
            return 0;
        }
    }
    return parse_or(p, &out->condition);
}

static int parse_delimited_pattern(parser *p)
{
    size_t capacity = p->len + 1, count = 0; /* a position takes at least its ',' */
    tw_filter_position *positions = pattern_alloc(p->pattern, capacity * sizeof *positions);
    p->delimited = true;
    p->pos++; /* '[' */
    for (;;) {
        skip_spaces(p);
        if (count == 0 && peek(p) == ']')
            return expected(p, "a field name");
        int rc = parse_position(p, &positions[count++]);
        if (rc != 0)
            return rc;
        skip_spaces(p);
        if (accept(p, ","))
            continue;
        if (peek(p) != ']')
            return expected(p, "',', ']', '&&' or '||'");
        break;
    }
    p->pos++; /* ']' */
    p->pattern->kind = TW_FILTER_DELIMITED;
    p->pattern->positions = positions;
    p->pattern->position_count = count;
    return expect_nothing_after(p, "]");
}

/* ---- public: compile and free ------------------------------------------ */

int tw_filter_pattern_compile(const char *pattern, size_t len, tw_filter_pattern **out,
                              tw_err *err)
{
    if (len > MAX_PATTERN_BYTES)
        return tw_err_set(err, -EINVAL,
                          "Invalid filter pattern: it is %zu bytes long, at most %d are allowed",
                          len, MAX_PATTERN_BYTES);
    const char *nul = len > 0 ? memchr(pattern, '\0', len) : NULL;
    if (nul != NULL)
        return tw_err_set(err, -EINVAL, "Invalid filter pattern: NUL byte at position %zu",
                          (size_t)(nul - pattern) + 1);
    tw_filter_pattern *compiled = tw_calloc(1, sizeof *compiled);
    parser p = {.src = len > 0 ? pattern : "", .len = len, .pattern = compiled, .err = err};
    skip_spaces(&p);
    int rc;
    if (peek(&p) == '{')
        rc = parse_json_pattern(&p);
    else if (peek(&p) == '[')
        rc = parse_delimited_pattern(&p);
    else
        rc = parse_terms(&p);
    if (rc != 0) {
        tw_filter_pattern_free(compiled);
        return rc;
    }
    *out = compiled;
    return 0;
}

void tw_filter_pattern_free(tw_filter_pattern *pattern)
{
    if (pattern == NULL)
        return;
    for (size_t i = 0; i < pattern->regex_count; i++)
        regfree(&pattern->regexes[i]);
    while (pattern->allocations != NULL) {
        tw_filter_allocation *next = pattern->allocations->next;
        free(pattern->allocations);
        pattern->allocations = next;
    }
    free(pattern);
}
