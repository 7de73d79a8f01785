/* proto_query.c — the awsQuery protocol (cloudwatch.md §1.3.2): form-encoded
 * requests ("A.member.1.B=x") into input objects, and output objects and
 * errors into the XML CloudWatch answers with.
 *
 * Decoding never scans the pairs against each other: every name is cut into
 * tokens (a member name, a list index, a map entry's key or value), the pairs
 * are sorted by their tokens, and one pass over the sorted pairs builds the
 * tree with a stack. Pairs sharing a prefix are then neighbours, so
 * duplicates, a name used both as a value and as a parent, and a name used
 * as two kinds of container are all seen between neighbours: O(n log n) for
 * n pairs, whatever the input.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "mem.h"
#include "protocol.h"
#include "timefmt.h"

/* Limits on hostile input. A PutMetricData at AWS's 1 MB limit is about
 * 21,000 pairs (1000 datums with 3 dimensions and 6 values each). */
#define QUERY_MAX_PAIRS  100000
#define QUERY_MAX_INDEX  10000
#define QUERY_MAX_TOKENS 32

#define QUERY_MALFORMED "Malformed query string: "

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one:
 * overlong forms, surrogates and code points over U+10FFFF are invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *code_point)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
        *code_point = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *code_point = cp;
    return n;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* ---- names cut into tokens ---- */

typedef enum token_kind {
    TOKEN_NAME,        /* a structure member: "MetricName" */
    TOKEN_INDEX,       /* "member.N": the Nth list element */
    TOKEN_ENTRY_KEY,   /* "entry.N.key" */
    TOKEN_ENTRY_VALUE, /* "entry.N.value" */
} token_kind;

/* What a container's children are: structure members, list elements or map
 * entries. Tokens of different classes under one parent are a conflict. */
typedef enum container_kind {
    CONTAINER_STRUCT,
    CONTAINER_LIST,
    CONTAINER_MAP,
} container_kind;

typedef struct query_token {
    token_kind kind;
    uint32_t index;  /* INDEX and ENTRY_*: N */
    size_t name_off; /* NAME: offset of its NUL-terminated copy in the text */
    size_t end;      /* length of the key up to the end of this token */
    const char *name;
} query_token;

typedef struct query_pair {
    size_t key_off, key_len, value_off, value_len, token_off, n_tokens;
    size_t order; /* position in the body: equal names sort in body order */
    const char *key, *value;
    const query_token *tokens;
} query_pair;

typedef struct query_parse {
    tw_buf text; /* decoded keys, their NUL-separated copies, values */
    query_pair *pairs;
    size_t n_pairs, cap_pairs;
    query_token *tokens;
    size_t n_tokens, cap_tokens;
    char *action, *version;
    tw_err *err;
} query_parse;

static container_kind container_of(token_kind kind)
{
    switch (kind) {
    case TOKEN_NAME: return CONTAINER_STRUCT;
    case TOKEN_INDEX: return CONTAINER_LIST;
    default: return CONTAINER_MAP;
    }
}

static const char *container_name(container_kind kind)
{
    static const char *const names[] = {"a structure", "a list", "a map"};
    return names[kind];
}

/* Positive decimal index ("1", "17"); leading zeros are tolerated. */
static int parse_index(const char *text, const char *key, size_t key_len, uint32_t *out,
                       tw_err *err)
{
    char quoted[TW_QUOTE_SIZE], quoted_index[TW_QUOTE_SIZE];
    size_t len = strlen(text);
    uint64_t value = 0;
    bool digits = len > 0;
    for (size_t i = 0; i < len && digits; i++) {
        digits = text[i] >= '0' && text[i] <= '9';
        if (value <= QUERY_MAX_INDEX) /* stop growing: no overflow on long digit runs */
            value = value * 10 + (uint64_t)(text[i] - '0');
    }
    if (!digits || value == 0)
        return tw_err_set(err, -EINVAL,
                          QUERY_MALFORMED "parameter %s: index %s is not a positive integer",
                          tw_quote(key, key_len, quoted), tw_quote(text, len, quoted_index));
    if (value > QUERY_MAX_INDEX)
        return tw_err_set(err, -EINVAL,
                          QUERY_MALFORMED "parameter %s: index %s is over the limit of %d",
                          tw_quote(key, key_len, quoted), tw_quote(text, len, quoted_index),
                          QUERY_MAX_INDEX);
    *out = (uint32_t)value;
    return 0;
}

static query_token *add_token(query_parse *parse, token_kind kind)
{
    if (parse->n_tokens == parse->cap_tokens) {
        parse->cap_tokens = parse->cap_tokens ? parse->cap_tokens * 2 : 256;
        parse->tokens = tw_realloc(parse->tokens, parse->cap_tokens * sizeof *parse->tokens);
    }
    query_token *token = &parse->tokens[parse->n_tokens++];
    memset(token, 0, sizeof *token);
    token->kind = kind;
    return token;
}

#define MAX_SEGMENTS (QUERY_MAX_TOKENS * 3 + 1)

/* Copies the key NUL-separated into the text (so NAME tokens are C strings)
 * and points segments at its parts. */
static int split_segments(query_parse *parse, const query_pair *pair,
                          const char *segments[MAX_SEGMENTS], size_t *n_segments)
{
    size_t copy_off = parse->text.len;
    /* Reserve first: the source of the copy is in the same buffer. */
    tw_buf_reserve(&parse->text, pair->key_len + 1);
    tw_buf_append(&parse->text, parse->text.data + pair->key_off, pair->key_len);
    tw_buf_putc(&parse->text, '\0');
    *n_segments = 0;
    for (char *p = parse->text.data + copy_off;; p++) {
        if (*n_segments == MAX_SEGMENTS) {
            char quoted[TW_QUOTE_SIZE];
            return tw_err_set(parse->err, -EINVAL,
                              QUERY_MALFORMED "parameter %s is nested deeper than %d levels",
                              tw_quote(parse->text.data + pair->key_off, pair->key_len, quoted),
                              QUERY_MAX_TOKENS);
        }
        segments[(*n_segments)++] = p;
        p = strchr(p, '.');
        if (p == NULL)
            return 0;
        *p = '\0';
    }
}

/* "member.N" or "entry.N.key|value" at segments[0]; *used = segments read. */
static int add_marker_token(query_parse *parse, const query_pair *pair, const char **segments,
                            size_t n_segments, size_t *used)
{
    const char *key = parse->text.data + pair->key_off;
    char quoted[TW_QUOTE_SIZE], quoted_part[TW_QUOTE_SIZE];
    bool entry = segments[0][0] == 'e';
    *used = entry ? 3 : 2;
    if (n_segments < *used)
        return tw_err_set(parse->err, -EINVAL,
                          QUERY_MALFORMED "parameter %s: \"%s\" is not followed by %s",
                          tw_quote(key, pair->key_len, quoted), segments[0],
                          entry ? "an index and \"key\" or \"value\"" : "an index");
    token_kind kind = TOKEN_INDEX;
    if (entry) {
        const char *part = segments[2];
        if (strcmp(part, "key") != 0 && strcmp(part, "value") != 0)
            return tw_err_set(parse->err, -EINVAL,
                              QUERY_MALFORMED "parameter %s: \"entry.N\" is followed by %s "
                              "instead of \"key\" or \"value\"",
                              tw_quote(key, pair->key_len, quoted),
                              tw_quote(part, strlen(part), quoted_part));
        kind = part[0] == 'k' ? TOKEN_ENTRY_KEY : TOKEN_ENTRY_VALUE;
    }
    query_token *token = add_token(parse, kind);
    return parse_index(segments[1], key, pair->key_len, &token->index, parse->err);
}

/* Cuts the pair's key into tokens. "member" and "entry" are always list and
 * map markers: the CloudWatch model has no member of those names. */
static int tokenize(query_parse *parse, query_pair *pair)
{
    const char *segments[MAX_SEGMENTS];
    size_t n_segments;
    int rc = split_segments(parse, pair, segments, &n_segments);
    if (rc < 0)
        return rc;
    const char *key = parse->text.data + pair->key_off;
    const char *copy = segments[0];
    char quoted[TW_QUOTE_SIZE];
    pair->token_off = parse->n_tokens;
    for (size_t i = 0; i < n_segments;) {
        const char *segment = segments[i];
        if (*segment == '\0')
            return tw_err_set(parse->err, -EINVAL,
                              QUERY_MALFORMED "parameter %s has an empty name between dots",
                              tw_quote(key, pair->key_len, quoted));
        if (parse->n_tokens - pair->token_off == QUERY_MAX_TOKENS)
            return tw_err_set(parse->err, -EINVAL,
                              QUERY_MALFORMED "parameter %s is nested deeper than %d levels",
                              tw_quote(key, pair->key_len, quoted), QUERY_MAX_TOKENS);
        size_t used = 1;
        if (strcmp(segment, "member") == 0 || strcmp(segment, "entry") == 0) {
            rc = add_marker_token(parse, pair, segments + i, n_segments - i, &used);
            if (rc < 0)
                return rc;
        } else {
            add_token(parse, TOKEN_NAME)->name_off = (size_t)(segment - parse->text.data);
        }
        i += used;
        const char *last = segments[i - 1];
        parse->tokens[parse->n_tokens - 1].end = (size_t)(last - copy) + strlen(last);
    }
    pair->n_tokens = parse->n_tokens - pair->token_off;
    return 0;
}

/* Decodes one percent-encoded part into the text; returns its offset. */
static int decode_part(query_parse *parse, const char *part, size_t len, const char *what,
                       size_t *off, size_t *out_len)
{
    tw_err inner;
    *off = parse->text.len;
    if (tw_uri_decode(part, len, TW_URI_PLUS_IS_SPACE, &parse->text, &inner) < 0)
        return tw_err_set(parse->err, -EINVAL, QUERY_MALFORMED "%s: %s", what, inner.msg);
    *out_len = parse->text.len - *off;
    tw_buf_putc(&parse->text, '\0');
    return 0;
}

/* Action, Operation and Version are the envelope, not input members. */
static int take_envelope(query_parse *parse, const char *key, size_t key_len, const char *value,
                         size_t value_len, bool *taken)
{
    char **slot = NULL;
    if (strcmp(key, "Action") == 0 || strcmp(key, "Operation") == 0)
        slot = &parse->action;
    else if (strcmp(key, "Version") == 0)
        slot = &parse->version;
    *taken = slot != NULL;
    if (slot == NULL)
        return 0;
    char quoted[TW_QUOTE_SIZE];
    if (*slot != NULL)
        return tw_err_set(parse->err, -EINVAL,
                          QUERY_MALFORMED "parameter %s appears more than once%s",
                          tw_quote(key, key_len, quoted),
                          slot == &parse->action ? " (Operation is a synonym of Action)" : "");
    *slot = tw_strndup(value, value_len);
    return 0;
}

/* SigV4 presigned-URL parameters (sigv4.md §4) authenticate the request and
 * are not input members. */
static bool is_signature_parameter(const char *key)
{
    static const char *const names[] = {
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return false;
}

static int add_pair(query_parse *parse, const char *pair_text, size_t len)
{
    const char *equals = memchr(pair_text, '=', len);
    size_t key_raw_len = equals ? (size_t)(equals - pair_text) : len;
    query_pair pair = {0};
    int rc = decode_part(parse, pair_text, key_raw_len, "parameter name", &pair.key_off,
                         &pair.key_len);
    if (rc < 0)
        return rc;
    const char *key = parse->text.data + pair.key_off;
    char quoted[TW_QUOTE_SIZE];
    if (pair.key_len == 0)
        return tw_err_set(parse->err, -EINVAL, QUERY_MALFORMED "a parameter has an empty name");
    if (memchr(key, '\0', pair.key_len) != NULL || !valid_utf8((const unsigned char *)key,
                                                               pair.key_len))
        return tw_err_set(parse->err, -EINVAL,
                          QUERY_MALFORMED "parameter name %s holds a NUL byte or is not UTF-8",
                          tw_quote(key, pair.key_len, quoted));
    size_t value_raw_off = equals ? key_raw_len + 1 : len;
    char what[TW_QUOTE_SIZE + 16];
    snprintf(what, sizeof what, "value of %s", tw_quote(key, pair.key_len, quoted));
    rc = decode_part(parse, pair_text + value_raw_off, len - value_raw_off, what,
                     &pair.value_off, &pair.value_len);
    if (rc < 0)
        return rc;
    key = parse->text.data + pair.key_off; /* the text may have moved */
    const char *value = parse->text.data + pair.value_off;
    if (!valid_utf8((const unsigned char *)value, pair.value_len))
        return tw_err_set(parse->err, -EINVAL, QUERY_MALFORMED "the %s is not valid UTF-8",
                          what);
    bool taken;
    rc = take_envelope(parse, key, pair.key_len, value, pair.value_len, &taken);
    if (rc < 0 || taken || is_signature_parameter(key))
        return rc;
    if (parse->n_pairs == QUERY_MAX_PAIRS)
        return tw_err_set(parse->err, -EINVAL,
                          QUERY_MALFORMED "more than %d parameters", QUERY_MAX_PAIRS);
    rc = tokenize(parse, &pair);
    if (rc < 0)
        return rc;
    if (parse->n_pairs == parse->cap_pairs) {
        parse->cap_pairs = parse->cap_pairs ? parse->cap_pairs * 2 : 64;
        parse->pairs = tw_realloc(parse->pairs, parse->cap_pairs * sizeof *parse->pairs);
    }
    pair.order = parse->n_pairs;
    parse->pairs[parse->n_pairs++] = pair;
    return 0;
}

static int split_pairs(query_parse *parse, const char *form, size_t len)
{
    size_t start = 0;
    while (start < len) {
        const char *amp = memchr(form + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - form) : len;
        if (end > start) { /* "a=1&&b=2" is harmless */
            int rc = add_pair(parse, form + start, end - start);
            if (rc < 0)
                return rc;
        }
        start = end + 1;
    }
    return 0;
}

/* The text and the token array were growing; now that they are final,
 * pointers into them are stable. */
static void resolve_pointers(query_parse *parse)
{
    for (size_t i = 0; i < parse->n_tokens; i++)
        if (parse->tokens[i].kind == TOKEN_NAME)
            parse->tokens[i].name = parse->text.data + parse->tokens[i].name_off;
    for (size_t i = 0; i < parse->n_pairs; i++) {
        query_pair *pair = &parse->pairs[i];
        pair->key = parse->text.data + pair->key_off;
        pair->value = parse->text.data + pair->value_off;
        pair->tokens = parse->tokens + pair->token_off;
    }
}

/* Orders tokens so that one parent's children are neighbours: by container
 * class first, then names by bytes, list elements by index, map entries by
 * index with the key before the value. */
static int compare_tokens(const query_token *a, const query_token *b)
{
    container_kind ca = container_of(a->kind), cb = container_of(b->kind);
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (ca == CONTAINER_STRUCT)
        return strcmp(a->name, b->name);
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return (a->kind > b->kind) - (a->kind < b->kind);
}

static int compare_pairs(const void *pa, const void *pb)
{
    const query_pair *a = pa, *b = pb;
    size_t n = a->n_tokens < b->n_tokens ? a->n_tokens : b->n_tokens;
    for (size_t i = 0; i < n; i++) {
        int c = compare_tokens(&a->tokens[i], &b->tokens[i]);
        if (c != 0)
            return c;
    }
    if (a->n_tokens != b->n_tokens)
        return a->n_tokens < b->n_tokens ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* ---- building the tree from the sorted pairs ---- */

typedef struct build_frame {
    json_t *value;          /* object or array being filled */
    container_kind kind;
    const query_token *token; /* the token in the parent that leads here */
    /* Maps: the entry being assembled. */
    uint32_t entry_index;
    json_t *entry_key;
    bool entry_has_value;
} build_frame;

typedef struct builder {
    build_frame frames[QUERY_MAX_TOKENS + 1];
    size_t height;
    const query_pair *pair; /* the pair being placed, for messages */
    tw_err *err;
} builder;

/* The key of the current pair up to its first `tokens` tokens, quoted. */
static const char *quote_prefix(const builder *b, size_t tokens, char out[TW_QUOTE_SIZE])
{
    size_t len = tokens ? b->pair->tokens[tokens - 1].end : 0;
    return tw_quote(b->pair->key, len, out);
}

static int finish_entry(builder *b, build_frame *frame, size_t depth)
{
    char quoted[TW_QUOTE_SIZE];
    if (frame->entry_key != NULL && !frame->entry_has_value)
        return tw_err_set(b->err, -EINVAL,
                          QUERY_MALFORMED "map %s: entry %u has a key but no value",
                          quote_prefix(b, depth, quoted), frame->entry_index);
    json_decref(frame->entry_key);
    frame->entry_key = NULL;
    frame->entry_has_value = false;
    return 0;
}

static int add_to_map(builder *b, build_frame *frame, size_t depth, const query_token *token,
                      json_t *value)
{
    char quoted[TW_QUOTE_SIZE], quoted_key[TW_QUOTE_SIZE];
    if (token->index != frame->entry_index) {
        int rc = finish_entry(b, frame, depth);
        if (rc < 0)
            return rc;
        frame->entry_index = token->index;
    }
    if (token->kind == TOKEN_ENTRY_KEY) {
        if (!json_is_string(value))
            return tw_err_set(b->err, -EINVAL,
                              QUERY_MALFORMED "map %s: the key of entry %u has members",
                              quote_prefix(b, depth, quoted), token->index);
        frame->entry_key = json_incref(value);
        return 0;
    }
    if (frame->entry_key == NULL)
        return tw_err_set(b->err, -EINVAL,
                          QUERY_MALFORMED "map %s: entry %u has a value but no key",
                          quote_prefix(b, depth, quoted), token->index);
    const char *key = json_string_value(frame->entry_key);
    size_t key_len = json_string_length(frame->entry_key);
    if (memchr(key, '\0', key_len) != NULL)
        return tw_err_set(b->err, -EINVAL,
                          QUERY_MALFORMED "map %s: the key of entry %u holds a NUL byte",
                          quote_prefix(b, depth, quoted), token->index);
    if (json_object_get(frame->value, key) != NULL)
        return tw_err_set(b->err, -EINVAL, QUERY_MALFORMED "map %s has the key %s twice",
                          quote_prefix(b, depth, quoted), tw_quote(key, key_len, quoted_key));
    json_object_set(frame->value, key, value);
    frame->entry_has_value = true;
    return 0;
}

/* Puts value (borrowed) into the frame at depth under token. */
static int attach(builder *b, size_t depth, const query_token *token, json_t *value)
{
    build_frame *frame = &b->frames[depth];
    switch (frame->kind) {
    case CONTAINER_STRUCT: json_object_set(frame->value, token->name, value); return 0;
    case CONTAINER_LIST: json_array_append(frame->value, value); return 0;
    default: return add_to_map(b, frame, depth, token, value);
    }
}

static int pop_frame(builder *b)
{
    size_t depth = --b->height;
    build_frame *frame = &b->frames[depth];
    int rc = frame->kind == CONTAINER_MAP ? finish_entry(b, frame, depth) : 0;
    if (rc == 0)
        rc = attach(b, depth - 1, frame->token, frame->value);
    json_decref(frame->value);
    json_decref(frame->entry_key);
    memset(frame, 0, sizeof *frame);
    return rc;
}

static void push_frame(builder *b, const query_token *token, container_kind kind)
{
    build_frame *frame = &b->frames[b->height++];
    memset(frame, 0, sizeof *frame);
    frame->value = kind == CONTAINER_LIST ? json_array() : json_object();
    frame->kind = kind;
    frame->token = token;
}

static size_t common_prefix(const query_pair *a, const query_pair *b)
{
    size_t n = a->n_tokens < b->n_tokens ? a->n_tokens : b->n_tokens, i = 0;
    while (i < n && compare_tokens(&a->tokens[i], &b->tokens[i]) == 0)
        i++;
    return i;
}

static int place_pair(builder *b, const query_pair *prev, const query_pair *pair)
{
    char quoted[TW_QUOTE_SIZE], quoted_other[TW_QUOTE_SIZE];
    size_t shared = prev ? common_prefix(prev, pair) : 0;
    b->pair = pair;
    if (prev && shared == pair->n_tokens && shared == prev->n_tokens)
        return tw_err_set(b->err, -EINVAL, QUERY_MALFORMED "parameter %s appears more than once",
                          tw_quote(pair->key, pair->key_len, quoted));
    if (prev && (shared == prev->n_tokens || shared == pair->n_tokens)) {
        const query_pair *leaf = shared == prev->n_tokens ? prev : pair;
        const query_pair *parent = leaf == prev ? pair : prev;
        return tw_err_set(b->err, -EINVAL,
                          QUERY_MALFORMED "parameter %s has a value and also members (%s)",
                          tw_quote(leaf->key, leaf->key_len, quoted),
                          tw_quote(parent->key, parent->key_len, quoted_other));
    }
    b->pair = prev; /* the frames closed now hold prev's prefixes */
    while (b->height > shared + 1) {
        int rc = pop_frame(b);
        if (rc < 0)
            return rc;
    }
    b->pair = pair;
    for (size_t depth = 0; depth < pair->n_tokens; depth++) {
        container_kind kind = container_of(pair->tokens[depth].kind);
        if (depth == b->height)
            push_frame(b, &pair->tokens[depth - 1], kind);
        else if (b->frames[depth].kind != kind)
            return tw_err_set(b->err, -EINVAL,
                              QUERY_MALFORMED "parameter %s: %s is used as %s and as %s",
                              tw_quote(pair->key, pair->key_len, quoted),
                              depth ? quote_prefix(b, depth, quoted_other) : "the top level",
                              container_name(b->frames[depth].kind), container_name(kind));
    }
    json_t *leaf = json_stringn(pair->value, pair->value_len);
    int rc = attach(b, pair->n_tokens - 1, &pair->tokens[pair->n_tokens - 1], leaf);
    json_decref(leaf);
    return rc;
}

static int build_tree(query_parse *parse, json_t **out)
{
    builder b = {.err = parse->err};
    b.frames[0].value = json_object();
    b.frames[0].kind = CONTAINER_STRUCT;
    b.height = 1;
    int rc = 0;
    for (size_t i = 0; i < parse->n_pairs && rc == 0; i++)
        rc = place_pair(&b, i ? &parse->pairs[i - 1] : NULL, &parse->pairs[i]);
    while (rc == 0 && b.height > 1)
        rc = pop_frame(&b);
    for (size_t depth = 0; depth < b.height; depth++) {
        if (rc < 0 || depth > 0)
            json_decref(b.frames[depth].value);
        json_decref(b.frames[depth].entry_key);
    }
    if (rc == 0)
        *out = b.frames[0].value;
    return rc;
}

int tw_query_decode(const char *form, size_t len, json_t **out, char **action, char **version,
                    tw_err *err)
{
    query_parse parse = {.err = err};
    json_t *tree = NULL;
    int rc = split_pairs(&parse, form, len);
    if (rc == 0 && (parse.action == NULL || parse.action[0] == '\0'))
        rc = tw_err_set(err, -EINVAL, "The request has no Action parameter (e.g. "
                                      "Action=PutMetricData).");
    if (rc == 0) {
        resolve_pointers(&parse);
        if (parse.n_pairs > 0)
            qsort(parse.pairs, parse.n_pairs, sizeof *parse.pairs, compare_pairs);
        rc = build_tree(&parse, &tree);
    }
    if (rc == 0) {
        *out = tree;
        *action = parse.action;
        if (version != NULL)
            *version = parse.version;
        else
            free(parse.version);
    } else {
        free(parse.action);
        free(parse.version);
    }
    tw_buf_free(&parse.text);
    free(parse.pairs);
    free(parse.tokens);
    return rc;
}

/* ---- XML ---- */

/* Element text: the five markup characters escaped, tab/newline/carriage
 * return as character references (so XML parsers do not normalize them),
 * and what XML 1.0 cannot carry at all (other control characters, U+FFFE,
 * U+FFFF, bytes that are not UTF-8) replaced by U+FFFD. */
static void xml_text(tw_buf *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_sequence(s + i, len - i, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe ||
            cp == 0xffff) {
            tw_buf_puts(out, "\xef\xbf\xbd");
            i += n ? n : 1;
            continue;
        }
        switch (cp) {
        case '&': tw_buf_puts(out, "&amp;"); break;
        case '<': tw_buf_puts(out, "&lt;"); break;
        case '>': tw_buf_puts(out, "&gt;"); break;
        case '"': tw_buf_puts(out, "&quot;"); break;
        case '\t': tw_buf_puts(out, "&#9;"); break;
        case '\n': tw_buf_puts(out, "&#10;"); break;
        case '\r': tw_buf_puts(out, "&#13;"); break;
        default: tw_buf_append(out, s + i, n); break;
        }
        i += n;
    }
}

static void xml_cstr(tw_buf *out, const char *text)
{
    xml_text(out, text, strlen(text));
}

/* The shortest decimal that reads back as the same double; whole numbers
 * keep a ".0" as CloudWatch writes them (<SampleCount>2.0</SampleCount>).
 * Every client parser (botocore float(), Go ParseFloat, Java parseDouble)
 * reads both forms and exponents. For normal doubles, 15 digits give the
 * shortest form whenever one that short exists (%g drops the trailing
 * zeros), so only 16 and 17 need trying after it; subnormals have fewer
 * bits and are searched from 1 digit. */
static void format_double(double value, char out[32])
{
    if (isnan(value)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(value)) {
        strcpy(out, value < 0 ? "-Infinity" : "Infinity");
        return;
    }
    for (int precision = fabs(value) < DBL_MIN ? 1 : 15; precision <= 17; precision++) {
        snprintf(out, 32, "%.*g", precision, value);
        if (strtod(out, NULL) == value)
            break;
    }
    if (strpbrk(out, ".e") == NULL)
        strcat(out, ".0");
}

static bool listed(const char *const *names, const char *name)
{
    for (; names != NULL && *names != NULL; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

/* A time member's epoch ms as ISO 8601; false when outside the years the
 * format can write (the member is then left out rather than misread). */
static bool format_time(double ms, char out[TW_ISO8601_MS_SIZE])
{
    if (!(ms > -1e15 && ms < 1e15))
        return false;
    int64_t whole = llround(ms);
    if (whole % 1000 == 0)
        return tw_time_format_iso8601(whole, out) == 0;
    return tw_time_format_iso8601_ms(whole, out) == 0;
}

static void xml_element(tw_buf *out, const tw_operation *op, const char *name,
                        const json_t *value, bool is_time, bool is_map);

static void xml_members(tw_buf *out, const tw_operation *op, const json_t *object)
{
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)object, key, member) {
        xml_element(out, op, key, member, listed(op ? op->timestamp_members : NULL, key),
                    listed(op ? op->map_members : NULL, key));
    }
}

/* The content of an element (what goes between its tags). */
static void xml_content(tw_buf *out, const tw_operation *op, const json_t *value, bool is_time,
                        bool is_map)
{
    char text[TW_ISO8601_MS_SIZE > 32 ? TW_ISO8601_MS_SIZE : 32];
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        if (is_map) {
            const char *key;
            const json_t *entry;
            json_object_foreach((json_t *)value, key, entry) {
                if (json_is_null(entry))
                    continue;
                tw_buf_puts(out, "<entry><key>");
                xml_cstr(out, key);
                tw_buf_puts(out, "</key>");
                xml_element(out, op, "value", entry, false, false);
                tw_buf_puts(out, "</entry>");
            }
        } else {
            xml_members(out, op, value);
        }
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(value); i++)
            xml_element(out, op, "member", json_array_get(value, i), is_time, is_map);
        break;
    case JSON_STRING: xml_text(out, json_string_value(value), json_string_length(value)); break;
    case JSON_INTEGER:
        if (is_time && format_time((double)json_integer_value(value), text))
            tw_buf_puts(out, text);
        else
            tw_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        break;
    case JSON_REAL:
        if (!is_time || !format_time(json_real_value(value), text))
            format_double(json_real_value(value), text);
        tw_buf_puts(out, text);
        break;
    case JSON_TRUE: tw_buf_puts(out, "true"); break;
    case JSON_FALSE: tw_buf_puts(out, "false"); break;
    case JSON_NULL: break;
    }
}

static bool empty_content(const json_t *value)
{
    return (json_is_object(value) && json_object_size(value) == 0) ||
           (json_is_array(value) && json_array_size(value) == 0);
}

/* <name>content</name>; a null member is left out (cloudwatch.md §7.6). */
static void xml_element(tw_buf *out, const tw_operation *op, const char *name,
                        const json_t *value, bool is_time, bool is_map)
{
    char time[TW_ISO8601_MS_SIZE];
    if (value == NULL || json_is_null(value))
        return;
    if (is_time && json_is_number(value) && !format_time(json_number_value(value), time))
        return; /* a time no client could read: leave it out */
    if (empty_content(value)) {
        tw_buf_printf(out, "<%s/>", name);
        return;
    }
    tw_buf_printf(out, "<%s>", name);
    xml_content(out, op, value, is_time, is_map);
    tw_buf_printf(out, "</%s>", name);
}

void tw_query_encode_response(tw_buf *out, const tw_operation *op, const char *xml_namespace,
                              const json_t *output, const char *request_id)
{
    tw_buf_printf(out, "<%sResponse xmlns=\"", op->name);
    xml_cstr(out, xml_namespace);
    tw_buf_puts(out, "\">");
    if (output != NULL) {
        tw_buf_printf(out, "<%sResult>", op->name);
        if (json_is_object(output))
            xml_members(out, op, output);
        tw_buf_printf(out, "</%sResult>", op->name);
    }
    tw_buf_puts(out, "<ResponseMetadata><RequestId>");
    xml_cstr(out, request_id ? request_id : "");
    tw_buf_printf(out, "</RequestId></ResponseMetadata></%sResponse>\n", op->name);
}

void tw_query_encode_error(tw_buf *out, const char *xml_namespace, const char *code,
                           const char *message, bool server_fault, const char *request_id)
{
    tw_buf_puts(out, "<ErrorResponse xmlns=\"");
    xml_cstr(out, xml_namespace);
    tw_buf_printf(out, "\"><Error><Type>%s</Type><Code>", server_fault ? "Receiver" : "Sender");
    xml_cstr(out, code);
    tw_buf_puts(out, "</Code><Message>");
    xml_cstr(out, message);
    tw_buf_puts(out, "</Message></Error><RequestId>");
    xml_cstr(out, request_id ? request_id : "");
    tw_buf_puts(out, "</RequestId></ErrorResponse>\n");
}
