/* filter_match.c — matching messages against a compiled filter pattern
 * (filter_tree.h, built by filter_pattern.c): tw_filter_pattern_match().
 *
 * Where AWS's documentation leaves a choice open, this file decides (and
 * tests/unit/test_filter_pattern.c pins it): ?terms form one OR group next
 * to the AND of plain terms and the NOT of -terms; a phrase of spaces only
 * ("" or " ") matches everything; a comparison whose field has the wrong
 * type is false for every operator, != included (AWS: "{$.users != 1} fails
 * to match ... where users is an array"); a wildcard or regex value matches
 * the text of strings, numbers and booleans; a number value matches JSON
 * numbers only, and in space-delimited events fields that read as numbers.
 *
 * Nothing is allocated for term patterns (memmem per term). JSON patterns
 * parse the message with jansson, only when it starts with '{'. Delimited
 * patterns with an ellipsis keep up to 128 fields on the stack, more on the
 * heap. Nothing here writes to the pattern: threads may share it.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_pattern.h"
#include "filter_tree.h"
#include "filter_values.h"
#include "mem.h"

#define STACK_FIELDS 128

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ---- terms ------------------------------------------------------------- */

static bool term_found(const tw_filter_term *t, const char *message, size_t len)
{
    if (t->regex != NULL)
        return tw_filter_regex_match(t->regex, message, len);
    return t->len == 0 || memmem(message, len, t->text, t->len) != NULL;
}

static bool match_terms(const tw_filter_pattern *pattern, const char *message, size_t len)
{
    bool any_wanted = false, any_found = false;
    for (size_t i = 0; i < pattern->term_count; i++) {
        const tw_filter_term *t = &pattern->terms[i];
        switch (t->role) {
        case TW_FILTER_TERM_REQUIRED:
            if (!term_found(t, message, len))
                return false;
            break;
        case TW_FILTER_TERM_EXCLUDED:
            if (term_found(t, message, len))
                return false;
            break;
        case TW_FILTER_TERM_ANY:
            any_wanted = true;
            any_found = any_found || term_found(t, message, len);
            break;
        }
    }
    return !any_wanted || any_found;
}

/* ---- conditions ------------------------------------------------------- */

static bool compare_numbers(tw_filter_op op, double field, double value)
{
    switch (op) {
    case TW_FILTER_OP_EQ: return field == value;
    case TW_FILTER_OP_NE: return field != value;
    case TW_FILTER_OP_LT: return field < value;
    case TW_FILTER_OP_GT: return field > value;
    case TW_FILTER_OP_LE: return field <= value;
    case TW_FILTER_OP_GE: return field >= value;
    }
    return false;
}

/* = and != against a wildcard string or a regex. */
static bool compare_text(const tw_filter_node *n, const char *text, size_t len)
{
    bool found = n->value == TW_FILTER_VALUE_REGEX ? tw_filter_regex_match(n->regex, text, len)
                                         : tw_filter_glob_match(&n->glob, text, len);
    return n->op == TW_FILTER_OP_EQ ? found : !found;
}

static bool test_field(const tw_filter_node *n, const char *text, size_t len)
{
    double number;
    if (n->kind != TW_FILTER_NODE_COMPARE)
        return n->kind == TW_FILTER_NODE_TRUE;
    if (n->value != TW_FILTER_VALUE_NUMBER)
        return compare_text(n, text, len);
    return tw_filter_number_parse(text, len, &number) && compare_numbers(n->op, number, n->number);
}

static bool test_json(const tw_filter_node *n, const json_t *value)
{
    char buf[40];
    switch (n->kind) {
    case TW_FILTER_NODE_IS_NULL: return json_is_null(value);
    case TW_FILTER_NODE_IS_TRUE: return json_is_true(value);
    case TW_FILTER_NODE_IS_FALSE: return json_is_false(value);
    case TW_FILTER_NODE_COMPARE: break;
    default: return false;
    }
    if (n->value == TW_FILTER_VALUE_NUMBER)
        return json_is_number(value) && compare_numbers(n->op, json_number_value(value), n->number);
    if (json_is_string(value))
        return compare_text(n, json_string_value(value), json_string_length(value));
    if (json_is_integer(value))
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    else if (json_is_real(value))
        tw_filter_number_format(json_real_value(value), buf, sizeof buf);
    else if (json_is_boolean(value))
        snprintf(buf, sizeof buf, "%s", json_is_true(value) ? "true" : "false");
    else
        return false; /* null, objects and arrays are never compared */
    return compare_text(n, buf, strlen(buf));
}

/* ---- JSON events ------------------------------------------------------- */

/* True when some value the selector reaches from step k on passes the test
 * (or, with existence, when there is such a value at all). */
static bool select_any(const tw_filter_node *n, size_t k, const json_t *value, bool existence)
{
    if (k == n->selector.count)
        return existence || test_json(n, value);
    const tw_filter_step *s = &n->selector.steps[k];
    if (s->kind == TW_FILTER_STEP_KEY) {
        const json_t *child = json_is_object(value) ? json_object_get(value, s->key) : NULL;
        return child != NULL && select_any(n, k + 1, child, existence);
    }
    if (s->kind == TW_FILTER_STEP_INDEX) {
        const json_t *child = json_is_array(value) ? json_array_get(value, s->index) : NULL;
        return child != NULL && select_any(n, k + 1, child, existence);
    }
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++)
            if (select_any(n, k + 1, json_array_get(value, i), existence))
                return true;
    } else if (json_is_object(value)) {
        json_t *object = (json_t *)value;
        for (void *it = json_object_iter(object); it != NULL; it = json_object_iter_next(object, it))
            if (select_any(n, k + 1, json_object_iter_value(it), existence))
                return true;
    }
    return false;
}

/* What a condition is evaluated against: a JSON document, or one field of
 * a space-delimited message. */
typedef struct subject {
    const json_t *root;
    const char *field;
    size_t field_len;
} subject;

static bool eval(const tw_filter_node *n, const subject *s)
{
    switch (n->kind) {
    case TW_FILTER_NODE_AND:
        return eval(n->left, s) && eval(n->right, s);
    case TW_FILTER_NODE_OR:
        return eval(n->left, s) || eval(n->right, s);
    case TW_FILTER_NODE_NOT_EXISTS:
        return !select_any(n, 0, s->root, true);
    default:
        if (s->root != NULL)
            return select_any(n, 0, s->root, false);
        return test_field(n, s->field, s->field_len);
    }
}

static bool match_json(const tw_filter_pattern *pattern, const char *message, size_t len)
{
    size_t i = 0;
    while (i < len && is_space(message[i]))
        i++;
    if (i == len || message[i] != '{')
        return false; /* not a JSON object: never parsed */
    json_error_t error;
    json_t *root = json_loadb(message, len, JSON_ALLOW_NUL, &error);
    if (root == NULL && json_error_code(&error) == json_error_numeric_overflow)
        root = json_loadb(message, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &error);
    if (root == NULL)
        return false;
    subject s = {.root = root};
    bool matched = eval(pattern->json, &s);
    json_decref(root);
    return matched;
}

/* ---- space-delimited events -------------------------------------------- */

typedef struct field {
    const char *text;
    size_t len;
} field;

/* The next whitespace-separated field; "..." and [...] are one field each,
 * without their quotes or brackets (AWS: "The characters between a pair of
 * square brackets [] or two double quotes ("") are treated as a single
 * field"). An unclosed quote or bracket is an ordinary character. */
static bool next_field(const char *message, size_t len, size_t *pos, field *f)
{
    while (*pos < len && is_space(message[*pos]))
        (*pos)++;
    if (*pos >= len)
        return false;
    char open = message[*pos];
    if (open == '"' || open == '[') {
        const char *close = memchr(message + *pos + 1, open == '"' ? '"' : ']', len - *pos - 1);
        if (close != NULL) {
            f->text = message + *pos + 1;
            f->len = (size_t)(close - f->text);
            *pos = (size_t)(close - message) + 1;
            return true;
        }
    }
    f->text = message + *pos;
    while (*pos < len && !is_space(message[*pos]))
        (*pos)++;
    f->len = (size_t)(message + *pos - f->text);
    return true;
}

static bool position_matches(const tw_filter_position *pos, const field *f)
{
    subject s = {.field = f->text, .field_len = f->len};
    return eval(pos->condition, &s);
}

static bool match_fixed_fields(const tw_filter_pattern *pattern, const char *message, size_t len)
{
    size_t pos = 0, i = 0;
    field f;
    while (next_field(message, len, &pos, &f)) {
        if (i == pattern->position_count || !position_matches(&pattern->positions[i], &f))
            return false;
        i++;
    }
    return i == pattern->position_count;
}

/* Ellipses work like '*' in a glob over fields: the same backtrack-to-the-
 * last-ellipsis loop, O(fields x positions) at worst, never exponential. */
static bool match_fields_glob(const tw_filter_pattern *pattern, const field *fields, size_t count)
{
    const tw_filter_position *positions = pattern->positions;
    size_t n = pattern->position_count, i = 0, j = 0, star = SIZE_MAX, star_i = 0;
    while (i < count) {
        if (j < n && positions[j].ellipsis) {
            star = j++;
            star_i = i;
        } else if (j < n && position_matches(&positions[j], &fields[i])) {
            i++;
            j++;
        } else if (star != SIZE_MAX) {
            j = star + 1;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (j < n && positions[j].ellipsis)
        j++;
    return j == n;
}

static bool match_delimited(const tw_filter_pattern *pattern, const char *message, size_t len)
{
    if (!pattern->has_ellipsis)
        return match_fixed_fields(pattern, message, len);
    field stack[STACK_FIELDS], *fields = stack;
    size_t count = 0, capacity = STACK_FIELDS, pos = 0;
    field f;
    while (next_field(message, len, &pos, &f)) {
        if (count == capacity) {
            capacity *= 2;
            fields = fields == stack ? memcpy(tw_malloc(capacity * sizeof *fields), stack,
                                              sizeof stack)
                                     : tw_realloc(fields, capacity * sizeof *fields);
        }
        fields[count++] = f;
    }
    bool matched = match_fields_glob(pattern, fields, count);
    if (fields != stack)
        free(fields);
    return matched;
}

bool tw_filter_pattern_match(const tw_filter_pattern *pattern, const char *message, size_t len)
{
    if (message == NULL)
        message = "";
    switch (pattern->kind) {
    case TW_FILTER_ALL:
        return true;
    case TW_FILTER_TERMS:
        return match_terms(pattern, message, len);
    case TW_FILTER_JSON:
        return match_json(pattern, message, len);
    case TW_FILTER_DELIMITED:
        return match_delimited(pattern, message, len);
    }
    return false;
}
