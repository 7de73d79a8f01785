/* filter_values.c — wildcard strings, numbers and AWS regexes for the
 * filter-pattern language (see filter_values.h).
 *
 * Globs are matched without backtracking: the literal pieces between stars
 * are found left to right with memmem, which is exact for '*'-only globs and
 * linear in the subject. AWS's regex dialect is translated to POSIX ERE and
 * left to glibc's regcomp/regexec; the translation refuses what AWS refuses
 * (parentheses, multi-byte characters, symbols outside its list) and what
 * would make the automaton large (stacked or huge repetition counts).
 */
#include "filter_values.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

/* ---- globs ------------------------------------------------------------ */

static void glob_push(tw_filter_span *segments, size_t *count, size_t start, size_t end)
{
    segments[*count].offset = start;
    segments[*count].length = end - start;
    (*count)++;
}

void tw_filter_glob_init(tw_filter_glob *glob, const char *src, size_t len, bool quoted,
                         char *text, tw_filter_span *segments)
{
    size_t out = 0, count = 0, piece_start = 0;
    bool any_star = false, star_first = false, star_last = false;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        bool escaped = false;
        if (quoted && c == '\\' && i + 1 < len &&
            (src[i + 1] == '"' || src[i + 1] == '\\' || src[i + 1] == '*')) {
            c = src[++i];
            escaped = true;
        }
        if (c == '*' && !escaped) {
            if (!any_star && out == 0)
                star_first = true;
            if (out > piece_start)
                glob_push(segments, &count, piece_start, out);
            piece_start = out;
            any_star = star_last = true;
            continue;
        }
        text[out++] = c;
        star_last = false;
    }
    if (out > piece_start || !any_star)
        glob_push(segments, &count, piece_start, out);
    glob->text = text;
    glob->segments = segments;
    glob->count = count;
    glob->star_first = star_first;
    glob->star_last = star_last;
}

bool tw_filter_glob_match(const tw_filter_glob *glob, const char *subject, size_t len)
{
    size_t first = 0, last = glob->count, pos = 0, end = len;
    if (glob->count == 1 && !glob->star_first && !glob->star_last)
        return glob->segments[0].length == len &&
               memcmp(glob->text + glob->segments[0].offset, subject, len) == 0;
    if (!glob->star_first) {
        const tw_filter_span *s = &glob->segments[0];
        if (len < s->length || memcmp(subject, glob->text + s->offset, s->length) != 0)
            return false;
        pos = s->length;
        first = 1;
    }
    if (!glob->star_last) {
        const tw_filter_span *s = &glob->segments[glob->count - 1];
        if (end - pos < s->length ||
            memcmp(subject + end - s->length, glob->text + s->offset, s->length) != 0)
            return false;
        end -= s->length;
        last = glob->count - 1;
    }
    for (size_t k = first; k < last; k++) {
        const tw_filter_span *s = &glob->segments[k];
        const char *found = memmem(subject + pos, end - pos, glob->text + s->offset, s->length);
        if (found == NULL)
            return false;
        pos = (size_t)(found - subject) + s->length;
    }
    return true;
}

/* ---- numbers ---------------------------------------------------------- */

static size_t skip_digits(const char *text, size_t len, size_t *i)
{
    size_t start = *i;
    while (*i < len && text[*i] >= '0' && text[*i] <= '9')
        (*i)++;
    return *i - start;
}

bool tw_filter_number_parse(const char *text, size_t len, double *out)
{
    char buf[128];
    size_t i = 0;
    if (len == 0 || len >= sizeof buf)
        return false;
    if (text[i] == '+' || text[i] == '-')
        i++;
    size_t digits = skip_digits(text, len, &i);
    if (i < len && text[i] == '.') {
        i++;
        digits += skip_digits(text, len, &i);
    }
    if (digits == 0)
        return false;
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        if (i < len && (text[i] == '+' || text[i] == '-'))
            i++;
        if (skip_digits(text, len, &i) == 0)
            return false;
    }
    if (i != len)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

void tw_filter_number_format(double value, char *buf, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, size, "%.*g", precision, value);
        if (strtod(buf, NULL) == value)
            return;
    }
}

/* ---- regexes ---------------------------------------------------------- */

typedef struct translator {
    const char *src;
    size_t len;
    size_t i;
    tw_buf out;
    char *why;
    size_t why_size;
    bool have_atom;      /* something a repetition can apply to */
    char last_repeat;    /* the last thing was this *, + or ? (or '}' for {m,n}), or 0 */
    unsigned long copies; /* sum of repetition counts: bounds the automaton */
} translator;

#define MAX_REPEAT_COPIES 1000

static int regex_fail(translator *t, int code, const char *fmt, ...) TW_PRINTF(3, 4);
static int regex_fail(translator *t, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why, t->why_size, fmt, ap);
    va_end(ap);
    return code;
}

static bool is_alnum(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* AWS: "alphanumeric characters", the symbols _ # = @ / ; , - : and the
 * operators ^ $ ? [ ] { } | \ * + . — nothing else, no multi-byte text. */
static bool regex_char_allowed(unsigned char c)
{
    return c != '\0' && (is_alnum(c) || strchr("_#=@/;,-:^$?[]{}|\\*+.", c) != NULL);
}

static void emit_literal(tw_buf *out, int c)
{
    if (strchr(".[\\()*+?{|^$", c) != NULL)
        tw_buf_putc(out, '\\');
    tw_buf_putc(out, (char)c);
}

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

/* Reads the escape after a backslash: a class letter (d D s S w W) into
 * *class, or a literal byte into *literal (and *class = 0). */
static int read_escape(translator *t, int *literal, char *class)
{
    if (t->i >= t->len)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "a '\\' ends the expression");
    char c = t->src[t->i++];
    *class = 0;
    if (strchr("dDsSwW", c) != NULL) {
        *class = c;
        return 0;
    }
    if (c == 'x') {
        int high = t->i < t->len ? hex_value(t->src[t->i]) : -1;
        int low = t->i + 1 < t->len ? hex_value(t->src[t->i + 1]) : -1;
        if (high < 0 || low < 0)
            return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'\\x' needs two hex digits");
        t->i += 2;
        *literal = high * 16 + low;
        if (*literal == 0 || *literal > 0x7f)
            return regex_fail(t, TW_FILTER_REGEX_BAD_CHARACTER,
                              "'\\x%02x' is not allowed (no NUL, no multi-byte characters)",
                              *literal);
        return 0;
    }
    if (is_alnum(c))
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'\\%c' is not a supported escape", c);
    *literal = c;
    return 0;
}

static void emit_class(tw_buf *out, char class)
{
    switch (class) {
    case 'd': tw_buf_puts(out, "[[:digit:]]"); break;
    case 'D': tw_buf_puts(out, "[^[:digit:]]"); break;
    case 's': tw_buf_puts(out, "[[:space:]]"); break;
    case 'S': tw_buf_puts(out, "[^[:space:]]"); break;
    case 'w': tw_buf_puts(out, "[[:alnum:]_]"); break;
    default: tw_buf_puts(out, "[^[:alnum:]_]"); break;
    }
}

typedef struct char_set {
    bool has[128];
    bool negated, digit, space, word;
} char_set;

/* One member of [...]: a class, a single character or a range. */
static int read_set_member(translator *t, char_set *set)
{
    int low, high;
    char class = 0;
    if (t->src[t->i] == '\\') {
        t->i++;
        int rc = read_escape(t, &low, &class);
        if (rc != 0)
            return rc;
        if (class == 'd' || class == 's' || class == 'w') {
            set->digit |= class == 'd';
            set->space |= class == 's';
            set->word |= class == 'w';
            return 0;
        }
        if (class != 0)
            return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'\\%c' is not supported inside [...]",
                              class);
    } else {
        low = (unsigned char)t->src[t->i++];
    }
    high = low;
    if (t->i + 1 < t->len && t->src[t->i] == '-' && t->src[t->i + 1] != ']') {
        t->i++;
        if (t->src[t->i] == '\\') {
            t->i++;
            int rc = read_escape(t, &high, &class);
            if (rc != 0)
                return rc;
            if (class != 0)
                return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "a range cannot end with '\\%c'",
                                  class);
        } else {
            high = (unsigned char)t->src[t->i++];
        }
        if (high < low)
            return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "range '%c-%c' is out of order", low,
                              high);
    }
    for (int c = low; c <= high; c++)
        set->has[c] = true;
    return 0;
}

/* POSIX brackets know no escapes, so the set is rebuilt with the members
 * that are special in brackets placed where they are literal: ']' first,
 * '[' late (never before ':', '.', '='), '^' not first, '-' last. */
static void emit_set(tw_buf *out, const char_set *set)
{
    bool only_caret = set->has['^'] && !set->digit && !set->space && !set->word;
    for (int c = 1; c < 128 && only_caret; c++)
        if (c != '^' && set->has[c])
            only_caret = false;
    if (only_caret && !set->negated) {
        tw_buf_puts(out, "\\^");
        return;
    }
    tw_buf_putc(out, '[');
    if (set->negated)
        tw_buf_putc(out, '^');
    if (set->has[']'])
        tw_buf_putc(out, ']');
    for (int c = 1; c < 128; c++)
        if (set->has[c] && strchr("]^-[", c) == NULL)
            tw_buf_putc(out, (char)c);
    if (set->digit)
        tw_buf_puts(out, "[:digit:]");
    if (set->space)
        tw_buf_puts(out, "[:space:]");
    if (set->word)
        tw_buf_puts(out, "[:alnum:]_");
    if (set->has['['])
        tw_buf_putc(out, '[');
    if (set->has['^'])
        tw_buf_putc(out, '^');
    if (set->has['-'])
        tw_buf_putc(out, '-');
    tw_buf_putc(out, ']');
}

static int translate_set(translator *t)
{
    char_set set;
    memset(&set, 0, sizeof set);
    if (t->i < t->len && t->src[t->i] == '^') {
        set.negated = true;
        t->i++;
    }
    for (bool first = true;; first = false) {
        if (t->i >= t->len)
            return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'[' is never closed");
        if (t->src[t->i] == ']' && !first) {
            t->i++;
            break;
        }
        int rc = read_set_member(t, &set);
        if (rc != 0)
            return rc;
    }
    emit_set(&t->out, &set);
    return 0;
}

static bool read_count(translator *t, unsigned long *value)
{
    size_t start = t->i;
    *value = 0;
    while (t->i < t->len && t->src[t->i] >= '0' && t->src[t->i] <= '9') {
        if (*value <= 100000)
            *value = *value * 10 + (unsigned long)(t->src[t->i] - '0');
        t->i++;
    }
    return t->i > start;
}

static int translate_repeat(translator *t)
{
    unsigned long low, high;
    if (!t->have_atom)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'{' has nothing to repeat");
    if (t->last_repeat != 0)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'{' cannot repeat a repetition");
    if (!read_count(t, &low))
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "expected a count after '{'");
    high = low;
    bool open = false;
    if (t->i < t->len && t->src[t->i] == ',') {
        t->i++;
        open = !read_count(t, &high);
    }
    if (t->i >= t->len || t->src[t->i] != '}')
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "expected '}' to close the repetition");
    t->i++;
    if (low > TW_FILTER_MAX_REPEAT || high > TW_FILTER_MAX_REPEAT)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "repetition counts are limited to %d",
                          TW_FILTER_MAX_REPEAT);
    if (!open && high < low)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "repetition {%lu,%lu} is out of order",
                          low, high);
    t->copies += open ? low + 1 : high;
    if (t->copies > MAX_REPEAT_COPIES)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX,
                          "the repetition counts add up to more than %d", MAX_REPEAT_COPIES);
    if (open)
        tw_buf_printf(&t->out, "{%lu,}", low);
    else
        tw_buf_printf(&t->out, "{%lu,%lu}", low, high);
    t->last_repeat = '}';
    return 0;
}

/* glibc nests stacked repetitions (a*+?*...), and the automaton doubles with
 * each: a run of them is folded into the one it means — only +'s are +,
 * only ?'s are ?, anything else is *. */
static void emit_repeat(translator *t, char c)
{
    if (t->last_repeat == '*' || t->last_repeat == '+' || t->last_repeat == '?') {
        if (t->last_repeat != c)
            t->out.data[t->out.len - 1] = '*';
        t->last_repeat = t->out.data[t->out.len - 1];
        return;
    }
    tw_buf_putc(&t->out, c);
    t->last_repeat = c;
}

static int translate_one(translator *t)
{
    char c = t->src[t->i++];
    int literal, rc = 0;
    char class;
    bool atom = true;
    switch (c) {
    case '\\':
        rc = read_escape(t, &literal, &class);
        if (rc == 0 && class != 0)
            emit_class(&t->out, class);
        else if (rc == 0)
            emit_literal(&t->out, literal);
        break;
    case '[':
        rc = translate_set(t);
        break;
    case '{':
        return translate_repeat(t);
    case '*':
    case '+':
    case '?':
        if (!t->have_atom)
            return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "'%c' has nothing to repeat", c);
        emit_repeat(t, c);
        return 0;
    case '|':
    case '^':
    case '$':
        tw_buf_putc(&t->out, c);
        atom = false;
        break;
    case '.':
        tw_buf_putc(&t->out, c);
        break;
    default:
        emit_literal(&t->out, (unsigned char)c);
        break;
    }
    t->have_atom = atom;
    t->last_repeat = 0;
    return rc;
}

static int translate(translator *t)
{
    if (t->len == 0)
        return regex_fail(t, TW_FILTER_REGEX_BAD_SYNTAX, "the regular expression is empty");
    for (size_t k = 0; k < t->len; k++) {
        unsigned char c = (unsigned char)t->src[k];
        if (regex_char_allowed(c))
            continue;
        if (c > 0x20 && c < 0x7f)
            return regex_fail(t, TW_FILTER_REGEX_BAD_CHARACTER, "'%c' is not allowed", c);
        return regex_fail(t, TW_FILTER_REGEX_BAD_CHARACTER, "byte 0x%02x is not allowed", c);
    }
    while (t->i < t->len) {
        int rc = translate_one(t);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tw_filter_regex_compile(regex_t *re, const char *src, size_t len, char *why, size_t why_size)
{
    translator t = {.src = src, .len = len, .out = TW_BUF_INIT, .why = why,
                    .why_size = why_size};
    int rc = translate(&t);
    if (rc == 0) {
        int status = regcomp(re, tw_buf_cstr(&t.out), REG_EXTENDED | REG_NOSUB);
        if (status != 0) {
            regerror(status, re, why, why_size);
            rc = TW_FILTER_REGEX_BAD_SYNTAX;
        }
    }
    tw_buf_free(&t.out);
    return rc;
}

/* REG_STARTEND lets glibc search past NUL bytes, but regexec's callers
 * (and the sanitizers' regexec interceptor, which runs strlen on it) may
 * still read up to a terminating NUL: the subject is copied so there is one
 * right after it. Messages are small; the copy is cheap next to regexec. */
bool tw_filter_regex_match(const regex_t *re, const char *subject, size_t len)
{
    char stack[4096];
    char *copy = len < sizeof stack ? stack : tw_malloc(len + 1);
    if (len > 0)
        memcpy(copy, subject, len);
    copy[len] = '\0';
    regmatch_t bounds[1];
    bounds[0].rm_so = 0;
    bounds[0].rm_eo = (regoff_t)len;
    bool found = regexec(re, copy, 1, bounds, REG_STARTEND) == 0;
    if (copy != stack)
        free(copy);
    return found;
}
