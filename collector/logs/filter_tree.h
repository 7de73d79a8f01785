/* filter_tree.h — the compiled form of a CloudWatch Logs filter pattern,
 * private to filter_pattern.c (which builds it from the pattern's text) and
 * filter_match.c (which evaluates it against messages).
 *
 * A tw_filter_pattern owns everything it points to: the terms, nodes,
 * selectors and strings live in its allocation list, the regexes in its
 * regexes[] slots; tw_filter_pattern_free() releases them all. Once compiled
 * nothing in it changes, so any number of threads may match with it.
 */
#ifndef TW_FILTER_TREE_H
#define TW_FILTER_TREE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "filter_pattern.h"
#include "filter_values.h"

typedef enum {
    TW_FILTER_ALL, /* the empty pattern */
    TW_FILTER_TERMS,
    TW_FILTER_JSON,
    TW_FILTER_DELIMITED,
} tw_filter_kind;

typedef enum {
    TW_FILTER_TERM_REQUIRED, /* ERROR */
    TW_FILTER_TERM_ANY,      /* ?ERROR: at least one of these */
    TW_FILTER_TERM_EXCLUDED, /* -ERROR */
} tw_filter_term_role;

typedef struct tw_filter_term {
    tw_filter_term_role role;
    const char *text; /* the phrase, escapes resolved; empty matches everything */
    size_t len;
    const regex_t *regex; /* set for %regex% terms */
} tw_filter_term;

typedef enum {
    TW_FILTER_STEP_KEY,   /* .name or ['name'] */
    TW_FILTER_STEP_INDEX, /* [3] */
    TW_FILTER_STEP_ANY,   /* .* or [*]: any member or element */
} tw_filter_step_kind;

typedef struct tw_filter_step {
    tw_filter_step_kind kind;
    const char *key; /* NUL-terminated */
    size_t index;
} tw_filter_step;

typedef struct tw_filter_selector {
    const tw_filter_step *steps;
    size_t count;
} tw_filter_selector;

typedef enum {
    TW_FILTER_OP_EQ,
    TW_FILTER_OP_NE,
    TW_FILTER_OP_LT,
    TW_FILTER_OP_GT,
    TW_FILTER_OP_LE,
    TW_FILTER_OP_GE,
} tw_filter_op;

typedef enum {
    TW_FILTER_VALUE_GLOB,
    TW_FILTER_VALUE_NUMBER,
    TW_FILTER_VALUE_REGEX,
} tw_filter_value_kind;

typedef enum {
    TW_FILTER_NODE_AND,
    TW_FILTER_NODE_OR,
    TW_FILTER_NODE_TRUE, /* a field named without a condition */
    TW_FILTER_NODE_COMPARE,
    TW_FILTER_NODE_IS_NULL,
    TW_FILTER_NODE_IS_TRUE,
    TW_FILTER_NODE_IS_FALSE,
    TW_FILTER_NODE_NOT_EXISTS,
} tw_filter_node_kind;

/* A condition: an && / || of two nodes, or one comparison or test. In a
 * space-delimited pattern it applies to the field at its position. */
typedef struct tw_filter_node {
    tw_filter_node_kind kind;
    const struct tw_filter_node *left, *right;
    tw_filter_selector selector; /* JSON patterns only */
    tw_filter_op op;
    tw_filter_value_kind value;
    double number;
    tw_filter_glob glob;
    const regex_t *regex;
} tw_filter_node;

/* One comma-separated position of a space-delimited pattern. */
typedef struct tw_filter_position {
    bool ellipsis;
    const tw_filter_node *condition;
} tw_filter_position;

/* Everything a compiled pattern points to, freed together. */
typedef struct tw_filter_allocation {
    struct tw_filter_allocation *next;
    max_align_t data[];
} tw_filter_allocation;

struct tw_filter_pattern {
    tw_filter_kind kind;
    const tw_filter_term *terms;
    size_t term_count;
    const tw_filter_node *json;
    const tw_filter_position *positions;
    size_t position_count;
    bool has_ellipsis;
    regex_t regexes[TW_FILTER_MAX_REGEXES];
    size_t regex_count;
    tw_filter_allocation *allocations;
};

#endif
