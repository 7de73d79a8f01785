/* parser_rails.c — format = rails (see parser_rails.h): which request a line
 * belongs to, the open requests (found by request id or pid in a chained
 * table; a stack per key for requests that interleave without ids), their
 * bounds, and the records they become. Line reading is rails_line.c's and
 * rails_json.c's. */
#include "parser_rails.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "rails_json.h"
#include "rails_line.h"

#define HASH_BUCKETS 2048            /* a power of two above twice TW_PARSER_RAILS_MAX_GROUPS */
#define POOL_KEEP 64                 /* idle groups kept for reuse */
#define POOL_BUFFER_KEEP (64u << 10) /* a reused group keeps a buffer this big */
#define KEY_MAX RAILS_REQUEST_ID_MAX
#define MAX_TIMEOUT_MS (INT64_C(24) * 3600 * 1000)
#define MIN_MAX_AGE_MS INT64_C(60000)

/* What a group is found by. A sequence group (bare logs) and the loose group
 * (a prefixed line outside any request, with its continuation lines) have
 * no key: there is one of each at most, plus the stack under the sequence. */
typedef enum key_kind { KEY_SEQUENCE, KEY_REQUEST_ID, KEY_PID, KEY_LOOSE } key_kind;

typedef enum stored_in { STORED_NONE, STORED_TEXT, STORED_EXTRA } stored_in;

/* A field's value: a span of the group's text, or of its extra buffer for
 * values that are not in the text (converted numbers). Offsets, not
 * pointers, because the buffers grow. */
typedef struct stored_field {
    uint32_t off, len;
    stored_in in;
} stored_field;

typedef struct group group;
struct group {
    group *older, *newer; /* open groups by first line; the pool uses newer */
    group *below;         /* the request this one covers on its key */
    group *hash_next;     /* the next key's top in this bucket */
    key_kind kind;
    uint32_t hash;
    size_t key_len;
    char key[KEY_MAX];
    tw_buf text, extra;
    uint64_t offset, end;
    int64_t first_read_ms, last_read_ms;
    int64_t event_ms, prefix_ms;
    bool has_event_ms, has_prefix_ms;
    bool failed; /* an exception line was seen */
    unsigned lines, completions;
    int status;          /* of the first Completed */
    unsigned kinds_seen; /* bit per rails_kind */
    rails_severity severity;
    stored_field fields[RAILS_F_COUNT];
};

typedef struct rails_parser {
    int64_t timeout_ms, max_age_ms;
    unsigned user_tag;    /* 1-based tag index; 0: none */
    const char *user_key; /* lograge/JSON key; NULL: none */
    group *oldest, *newest;
    size_t n_open, held_bytes;
    group *sequence_top, *loose, *last; /* last: the group that took the last line */
    group *buckets[HASH_BUCKETS];
    group *pool;
    size_t n_pool;
    tw_buf scratch; /* lograge JSON params */
    rails_zone_cache zone;
    tw_log_emit_fn emit; /* of the call in progress */
    void *ctx;
    tw_parser_rails_stats stats;
} rails_parser;

/* ---- keys: the table of request-id and pid stacks ---------------------------- */

static uint32_t key_hash(key_kind kind, const char *key, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

/* The bucket slot holding the top group of (kind, key), or the slot at the
 * end of its bucket's chain when there is none. */
static group **chain_slot(rails_parser *p, key_kind kind, const char *key, size_t len,
                          uint32_t hash)
{
    group **slot = &p->buckets[hash & (HASH_BUCKETS - 1)];
    while (*slot != NULL && !((*slot)->kind == kind && (*slot)->hash == hash &&
                              (*slot)->key_len == len && memcmp((*slot)->key, key, len) == 0))
        slot = &(*slot)->hash_next;
    return slot;
}

static bool is_hashed(key_kind kind)
{
    return kind == KEY_REQUEST_ID || kind == KEY_PID;
}

/* Where the top of the stack of (kind, key) is held. */
static group **key_slot(rails_parser *p, key_kind kind, rails_text key)
{
    switch (kind) {
    case KEY_SEQUENCE:
        return &p->sequence_top;
    case KEY_LOOSE:
        return &p->loose;
    default:
        return chain_slot(p, kind, key.ptr, key.len, key_hash(kind, key.ptr, key.len));
    }
}

static group **top_slot(rails_parser *p, const group *g)
{
    if (is_hashed(g->kind))
        return chain_slot(p, g->kind, g->key, g->key_len, g->hash);
    return key_slot(p, g->kind, (rails_text){NULL, 0});
}

/* Puts g (kind and key set) on top of its key's stack. */
static void push_key(rails_parser *p, group *g)
{
    group **slot = top_slot(p, g);
    group *top = *slot;
    g->below = top;
    if (is_hashed(g->kind)) {
        g->hash_next = top != NULL ? top->hash_next : NULL;
        if (top != NULL)
            top->hash_next = NULL;
    }
    *slot = g;
}

static void unlink_key(rails_parser *p, group *g)
{
    group **slot = top_slot(p, g);
    if (*slot == g) {
        group *below = g->below;
        if (is_hashed(g->kind) && below != NULL) {
            below->hash_next = g->hash_next;
            *slot = below;
        } else {
            *slot = is_hashed(g->kind) ? g->hash_next : below;
        }
    } else {
        group *above = *slot;
        while (above != NULL && above->below != g)
            above = above->below;
        if (above != NULL)
            above->below = g->below;
    }
    g->below = g->hash_next = NULL;
}

/* ---- the list of open groups, oldest first line first ------------------------ */

static void link_newest(rails_parser *p, group *g)
{
    g->newer = NULL;
    g->older = p->newest;
    if (p->newest != NULL)
        p->newest->newer = g;
    else
        p->oldest = g;
    p->newest = g;
}

static void unlink_list(rails_parser *p, group *g)
{
    if (g->older != NULL)
        g->older->newer = g->newer;
    else
        p->oldest = g->newer;
    if (g->newer != NULL)
        g->newer->older = g->older;
    else
        p->newest = g->older;
    g->older = g->newer = NULL;
}

/* ---- records ------------------------------------------------------------------ */

static void count_record(rails_parser *p, const tw_log_record *r, bool request)
{
    p->stats.records++;
    p->stats.unparsed += !r->parsed;
    p->stats.requests += request;
}

static int64_t group_timestamp(const group *g)
{
    if (g->has_event_ms)
        return g->event_ms;
    return g->has_prefix_ms ? g->prefix_ms : g->first_read_ms;
}

static void emit_group(rails_parser *p, const group *g)
{
    tw_log_record r;
    r.message = tw_buf_cstr(&g->text);
    r.message_len = g->text.len;
    r.timestamp_ms = group_timestamp(g);
    r.offset = g->offset;
    r.end = g->end;
    r.parsed = true;
    r.n_fields = 0;
    for (int f = 0; f < RAILS_F_COUNT; f++) {
        const stored_field *s = &g->fields[f];
        if (s->in != STORED_NONE) {
            const tw_buf *b = s->in == STORED_TEXT ? &g->text : &g->extra;
            tw_log_record_add(&r, rails_field_names[f], tw_buf_cstr(b) + s->off, s->len);
        } else if (f == RAILS_F_REQUEST_ID && g->kind == KEY_REQUEST_ID) {
            tw_log_record_add(&r, rails_field_names[f], g->key, g->key_len);
        } else if (f == RAILS_F_LEVEL && g->severity != RAILS_SEV_NONE) {
            const char *name = rails_severity_name(g->severity);
            tw_log_record_add(&r, rails_field_names[f], name, strlen(name));
        }
    }
    count_record(p, &r, g->fields[RAILS_F_METHOD].in != STORED_NONE ||
                            g->fields[RAILS_F_CONTROLLER].in != STORED_NONE);
    p->emit(p->ctx, &r);
}

/* A line that is a record on its own, straight from the tail's buffer. */
static void emit_line(rails_parser *p, const tw_log_line *line, const rails_line *info)
{
    tw_log_record r;
    r.message = line->text != NULL ? line->text : "";
    r.message_len = line->len;
    r.timestamp_ms = line->read_time_ms;
    if (!rails_time_parse(info->event_time, &p->zone, &r.timestamp_ms))
        rails_time_parse(info->prefix_time, &p->zone, &r.timestamp_ms);
    r.offset = line->offset;
    r.end = line->end;
    r.parsed = info->has_prefix || info->n_tags > 0 || info->kind != RAILS_LINE_OTHER;
    r.n_fields = 0;
    for (int f = 0; f < RAILS_F_COUNT; f++) {
        rails_text v = info->fields[f];
        if (v.ptr == NULL && f == RAILS_F_USER && p->user_tag > 0 && info->n_tags >= p->user_tag)
            v = info->tags[p->user_tag - 1];
        if (v.ptr == NULL && f == RAILS_F_REQUEST_ID && info->n_tags > 0 &&
            rails_is_request_id(info->tags[0]))
            v = info->tags[0];
        if (v.ptr == NULL && f == RAILS_F_LEVEL && info->severity != RAILS_SEV_NONE) {
            v.ptr = rails_severity_name(info->severity);
            v.len = strlen(v.ptr);
        }
        if (v.ptr != NULL)
            tw_log_record_add(&r, rails_field_names[f], v.ptr, v.len);
    }
    count_record(p, &r, info->fields[RAILS_F_METHOD].ptr != NULL ||
                            info->fields[RAILS_F_CONTROLLER].ptr != NULL);
    p->emit(p->ctx, &r);
}

/* ---- groups ------------------------------------------------------------------- */

static void forget_contents(rails_parser *p, group *g)
{
    p->held_bytes -= g->text.len;
    if (g->text.cap > POOL_BUFFER_KEEP)
        tw_buf_free(&g->text);
    else
        tw_buf_reset(&g->text);
    if (g->extra.cap > POOL_BUFFER_KEEP)
        tw_buf_free(&g->extra);
    else
        tw_buf_reset(&g->extra);
    g->lines = 0;
    g->has_event_ms = g->has_prefix_ms = false;
    g->severity = RAILS_SEV_NONE;
    g->kinds_seen = 0;
    memset(g->fields, 0, sizeof g->fields);
}

static void release(rails_parser *p, group *g)
{
    unlink_key(p, g);
    unlink_list(p, g);
    p->n_open--;
    if (p->last == g)
        p->last = NULL;
    forget_contents(p, g);
    if (p->n_pool < POOL_KEEP) {
        g->newer = p->pool;
        p->pool = g;
        p->n_pool++;
    } else {
        tw_buf_free(&g->text);
        tw_buf_free(&g->extra);
        free(g);
    }
}

static void finish(rails_parser *p, group *g)
{
    emit_group(p, g);
    release(p, g);
}

static bool is_done(const group *g)
{
    return g->completions > 0 || g->failed;
}

static group *take_group(rails_parser *p)
{
    group *g = p->pool;
    if (g == NULL)
        return tw_calloc(1, sizeof *g);
    p->pool = g->newer;
    p->n_pool--;
    tw_buf text = g->text, extra = g->extra;
    memset(g, 0, sizeof *g);
    g->text = text;
    g->extra = extra;
    return g;
}

/* A new group on top of its key's stack, making room first. */
static group *open_group(rails_parser *p, key_kind kind, rails_text key)
{
    if (p->n_open >= TW_PARSER_RAILS_MAX_GROUPS) {
        p->stats.evicted++;
        finish(p, p->oldest);
    }
    group *g = take_group(p);
    g->kind = kind;
    if (is_hashed(kind)) {
        memcpy(g->key, key.ptr, key.len);
        g->key_len = key.len;
        g->hash = key_hash(kind, key.ptr, key.len);
    }
    if (kind != KEY_LOOSE) {
        unsigned depth = 0;
        group *bottom = NULL;
        for (group *q = *top_slot(p, g); q != NULL; q = q->below, depth++)
            bottom = q;
        if (depth >= TW_PARSER_RAILS_MAX_STACK) {
            p->stats.evicted++;
            finish(p, bottom);
        }
    }
    push_key(p, g);
    link_newest(p, g);
    p->n_open++;
    return g;
}

/* Emits what g holds and lets it go on as a further record of the same
 * request, now the newest group (its first line is the next one). */
static void split(rails_parser *p, group *g)
{
    p->stats.split++;
    emit_group(p, g);
    forget_contents(p, g);
    unlink_list(p, g);
    link_newest(p, g);
}

static void make_room(rails_parser *p, group *g, size_t need)
{
    while (p->held_bytes + need > TW_PARSER_RAILS_MAX_HELD) {
        group *victim = p->oldest == g ? g->newer : p->oldest;
        if (victim == NULL)
            return;
        p->stats.evicted++;
        finish(p, victim);
    }
}

static void store_field(group *g, rails_field_id f, rails_text value, const tw_log_line *line,
                        size_t base)
{
    if (value.ptr == NULL || g->fields[f].in != STORED_NONE || value.len > UINT32_MAX)
        return;
    uintptr_t v = (uintptr_t)value.ptr, t = (uintptr_t)line->text;
    if (line->text != NULL && v >= t && v + value.len <= t + line->len) {
        g->fields[f] = (stored_field){(uint32_t)(base + (v - t)), (uint32_t)value.len, STORED_TEXT};
    } else if (g->extra.len + value.len <= UINT32_MAX) {
        g->fields[f] = (stored_field){(uint32_t)g->extra.len, (uint32_t)value.len, STORED_EXTRA};
        tw_buf_append(&g->extra, value.ptr, value.len);
    }
}

static void group_add(rails_parser *p, group *g, const tw_log_line *line, const rails_line *info)
{
    if (g->lines > 0 && g->text.len + 1 + line->len > TW_PARSER_RAILS_MAX_GROUP_BYTES)
        split(p, g);
    size_t need = (g->lines > 0 ? 1 : 0) + line->len;
    make_room(p, g, need);
    if (g->lines == 0) {
        g->offset = line->offset;
        g->first_read_ms = line->read_time_ms;
    } else {
        tw_buf_putc(&g->text, '\n');
    }
    size_t base = g->text.len;
    if (line->len > 0)
        tw_buf_append(&g->text, line->text, line->len);
    p->held_bytes += need;
    g->end = line->end;
    g->last_read_ms = line->read_time_ms;
    g->lines++;
    if (info->severity > g->severity)
        g->severity = info->severity;
    /* A request line's fields come as a set: a second Completed (the
     * exceptions app's) must not lend its view_ms to the first one's status. */
    unsigned kind_bit = 1u << info->kind;
    if ((g->kinds_seen & kind_bit) == 0 || info->kind == RAILS_LINE_OTHER) {
        for (int f = 0; f < RAILS_F_COUNT; f++)
            store_field(g, (rails_field_id)f, info->fields[f], line, base);
    }
    g->kinds_seen |= kind_bit;
    if (p->user_tag > 0 && info->n_tags >= p->user_tag)
        store_field(g, RAILS_F_USER, info->tags[p->user_tag - 1], line, base);
    if (!g->has_event_ms && info->event_time.ptr != NULL)
        g->has_event_ms = rails_time_parse(info->event_time, &p->zone, &g->event_ms);
    if (!g->has_event_ms && !g->has_prefix_ms && info->prefix_time.ptr != NULL)
        g->has_prefix_ms = rails_time_parse(info->prefix_time, &p->zone, &g->prefix_ms);
    if (info->kind == RAILS_LINE_COMPLETED && g->completions++ == 0)
        g->status = info->status;
    if (info->kind == RAILS_LINE_EXCEPTION)
        g->failed = true;
}

/* Adds the line and ends the request when its Completed says it is over. */
static void add_line(rails_parser *p, group *g, const tw_log_line *line, const rails_line *info)
{
    group_add(p, g, line, info);
    p->last = g;
    if (info->kind == RAILS_LINE_COMPLETED && (g->status < 400 || g->completions >= 2))
        finish(p, g);
}

static bool is_start(const rails_line *info)
{
    return info->kind == RAILS_LINE_STARTED || info->kind == RAILS_LINE_PROCESSING_OLD;
}

/* A request's first line: the finished request it follows on the same key
 * is emitted; an unfinished one stays, covered (interleaved requests). */
static void start_request(rails_parser *p, key_kind kind, rails_text key, const tw_log_line *line,
                          const rails_line *info)
{
    group *top = *key_slot(p, kind, key);
    if (top != NULL && is_done(top))
        finish(p, top);
    add_line(p, open_group(p, kind, key), line, info);
}

static void end_loose(rails_parser *p)
{
    if (p->loose != NULL)
        finish(p, p->loose);
}

/* ---- which group a line goes to ---------------------------------------------- */

static void feed_keyed(rails_parser *p, key_kind kind, rails_text key, const tw_log_line *line,
                       const rails_line *info)
{
    if (key.len > KEY_MAX) {
        add_line(p, open_group(p, KEY_LOOSE, key), line, info);
        return;
    }
    if (is_start(info)) {
        start_request(p, kind, key, line, info);
        return;
    }
    group *top = *key_slot(p, kind, key);
    if (top != NULL)
        add_line(p, top, line, info);
    else if (kind == KEY_REQUEST_ID || info->kind == RAILS_LINE_PROCESSING ||
             info->kind == RAILS_LINE_PARAMETERS)
        add_line(p, open_group(p, kind, key), line, info);
    else
        add_line(p, open_group(p, KEY_LOOSE, key), line, info);
}

/* A line with neither prefix nor request id: a bare log's, or the second
 * line of a prefixed or tagged message. */
static void feed_bare(rails_parser *p, const tw_log_line *line, const rails_line *info)
{
    if (is_start(info)) {
        end_loose(p);
        start_request(p, KEY_SEQUENCE, (rails_text){NULL, 0}, line, info);
    } else if (p->last != NULL && p->last->kind != KEY_SEQUENCE) {
        add_line(p, p->last, line, info);
    } else if (p->sequence_top != NULL) {
        add_line(p, p->sequence_top, line, info);
    } else if (info->kind == RAILS_LINE_PROCESSING) { /* its Started was before our time */
        add_line(p, open_group(p, KEY_SEQUENCE, (rails_text){NULL, 0}), line, info);
    } else {
        emit_line(p, line, info);
    }
}

/* A record of its own that ends whatever multi-line message was open. */
static void feed_single(rails_parser *p, const tw_log_line *line, const rails_line *info)
{
    end_loose(p);
    p->last = NULL;
    emit_line(p, line, info);
}

static void rails_feed(void *state, const tw_log_line *line, tw_log_emit_fn emit, void *ctx)
{
    rails_parser *p = state;
    p->emit = emit;
    p->ctx = ctx;
    p->stats.lines++;
    rails_line info;
    json_t *root = NULL;
    if (line->len > 0 && line->text[0] == '{' &&
        rails_json_read(line->text, line->len, p->user_key, &p->scratch, &info, &root)) {
        feed_single(p, line, &info);
        json_decref(root);
        return;
    }
    rails_line_read(line->text, line->len, p->user_key, &info);
    if (info.kind == RAILS_LINE_LOGRAGE) {
        feed_single(p, line, &info);
        return;
    }
    bool has_id = info.n_tags > 0 && rails_is_request_id(info.tags[0]);
    if (!has_id && !info.has_prefix) {
        feed_bare(p, line, &info);
        return;
    }
    end_loose(p);
    if (has_id)
        feed_keyed(p, KEY_REQUEST_ID, info.tags[0], line, &info);
    else
        feed_keyed(p, KEY_PID, info.pid, line, &info);
}

/* ---- flush, pending, lifetime -------------------------------------------------- */

static bool waited(int64_t now_ms, int64_t since_ms, int64_t limit_ms)
{
    return now_ms > since_ms && (uint64_t)now_ms - (uint64_t)since_ms >= (uint64_t)limit_ms;
}

static void rails_flush(void *state, int64_t now_ms, bool all, tw_log_emit_fn emit, void *ctx)
{
    rails_parser *p = state;
    p->emit = emit;
    p->ctx = ctx;
    group *g = p->oldest;
    while (g != NULL) {
        group *next = g->newer; /* finish() releases g only */
        if (all) {
            finish(p, g);
        } else if (waited(now_ms, g->last_read_ms, p->timeout_ms) ||
                   waited(now_ms, g->first_read_ms, p->max_age_ms)) {
            p->stats.timed_out++;
            finish(p, g);
        }
        g = next;
    }
}

static uint64_t rails_pending_offset(const void *state)
{
    const rails_parser *p = state;
    return p->oldest != NULL ? p->oldest->offset : TW_LOG_NO_PENDING;
}

static int read_user_tag(rails_parser *p, const char *section, const char *user_tag, tw_err *err)
{
    if (user_tag == NULL || user_tag[0] == '\0')
        return 0;
    size_t len = strlen(user_tag), digits = strspn(user_tag, "0123456789");
    if (digits == len) {
        unsigned long index = len <= 3 ? strtoul(user_tag, NULL, 10) : 0;
        if (index < 1 || index > RAILS_MAX_TAGS)
            return tw_err_set(err, -EINVAL,
                              "[logs %s] user_tag: tag %s does not exist; expected a tag "
                              "number from 1 to %d or a lograge key such as user_id",
                              section, user_tag, RAILS_MAX_TAGS);
        p->user_tag = (unsigned)index;
        return 0;
    }
    if (len > 64 || strspn(user_tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_.@") != len)
        return tw_err_set(err, -EINVAL,
                          "[logs %s] user_tag: \"%s\" is neither a tag number (1 to %d) nor a "
                          "lograge key (letters, digits, '_', '.', '@', at most 64)",
                          section, user_tag, RAILS_MAX_TAGS);
    p->user_key = user_tag;
    return 0;
}

static int rails_create(const tw_log_parser_options *options, void **state, tw_err *err)
{
    rails_parser *p = tw_calloc(1, sizeof *p);
    const char *section = options != NULL && options->section != NULL ? options->section : "rails";
    int64_t timeout = options != NULL ? options->group_timeout_ms : 0;
    p->timeout_ms = timeout <= 0               ? TW_PARSER_RAILS_DEFAULT_TIMEOUT_MS
                    : timeout > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS
                                               : timeout;
    p->max_age_ms = p->timeout_ms * TW_PARSER_RAILS_MAX_AGE_FACTOR;
    if (p->max_age_ms < MIN_MAX_AGE_MS)
        p->max_age_ms = MIN_MAX_AGE_MS;
    int rc = read_user_tag(p, section, options != NULL ? options->user_tag : NULL, err);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *state = p;
    return 0;
}

static void free_group(group *g)
{
    tw_buf_free(&g->text);
    tw_buf_free(&g->extra);
    free(g);
}

static void rails_destroy(void *state)
{
    rails_parser *p = state;
    if (p == NULL)
        return;
    for (group *g = p->oldest, *next; g != NULL; g = next) {
        next = g->newer;
        free_group(g);
    }
    for (group *g = p->pool, *next; g != NULL; g = next) {
        next = g->newer;
        free_group(g);
    }
    tw_buf_free(&p->scratch);
    free(p);
}

void tw_parser_rails_get_stats(const void *state, tw_parser_rails_stats *out)
{
    const rails_parser *p = state;
    *out = p->stats;
}

const tw_log_parser_ops tw_parser_rails = {
    .name = "rails",
    .create = rails_create,
    .feed = rails_feed,
    .flush = rails_flush,
    .pending_offset = rails_pending_offset,
    .destroy = rails_destroy,
};
