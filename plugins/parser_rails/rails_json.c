/* rails_json.c — a JSON log line (lograge's, or a JSON formatter's) into a
 * rails_line (see rails_json.h). */
#include "rails_json.h"

#include <stdio.h>
#include <string.h>

typedef struct json_reader {
    rails_line *out;
    tw_buf *scratch;
    unsigned numbers_used;
} json_reader;

/* A number as text in one of out->numbers. */
static rails_text number_text(json_reader *r, const json_t *value)
{
    if (r->numbers_used >= sizeof r->out->numbers / sizeof r->out->numbers[0])
        return (rails_text){NULL, 0};
    char *text = r->out->numbers[r->numbers_used];
    size_t size = sizeof r->out->numbers[0];
    int n = json_is_integer(value)
                ? snprintf(text, size, "%" JSON_INTEGER_FORMAT, json_integer_value(value))
                : snprintf(text, size, "%.15g", json_real_value(value));
    if (n <= 0 || (size_t)n >= size)
        return (rails_text){NULL, 0};
    r->numbers_used++;
    return (rails_text){text, (size_t)n};
}

/* params as compact JSON, in the scratch buffer (only params goes there). */
static rails_text dumped_text(json_reader *r, const json_t *value)
{
    size_t need = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (need == 0)
        return (rails_text){NULL, 0};
    tw_buf_reset(r->scratch);
    tw_buf_reserve(r->scratch, need + 1);
    size_t wrote = json_dumpb(value, r->scratch->data, need, JSON_COMPACT | JSON_ENCODE_ANY);
    if (wrote != need)
        return (rails_text){NULL, 0};
    r->scratch->len = need;
    r->scratch->data[need] = '\0';
    return (rails_text){r->scratch->data, need};
}

static rails_text value_text(json_reader *r, const json_t *value, bool structured)
{
    switch (json_typeof(value)) {
    case JSON_STRING:
        return (rails_text){json_string_value(value), json_string_length(value)};
    case JSON_INTEGER:
    case JSON_REAL:
        return number_text(r, value);
    case JSON_TRUE:
        return (rails_text){"true", 4};
    case JSON_FALSE:
        return (rails_text){"false", 5};
    case JSON_OBJECT:
    case JSON_ARRAY:
        return structured ? dumped_text(r, value) : (rails_text){NULL, 0};
    default: /* null: absent */
        return (rails_text){NULL, 0};
    }
}

static void read_member(json_reader *r, const char *key, const json_t *value,
                        const char *user_key)
{
    rails_line *out = r->out;
    if (user_key != NULL && strcmp(key, user_key) == 0 && out->fields[RAILS_F_USER].ptr == NULL)
        out->fields[RAILS_F_USER] = value_text(r, value, false);
    int field = rails_lograge_field(key, strlen(key));
    if (field == RAILS_LOGRAGE_TIME) {
        if (json_is_string(value))
            out->event_time = value_text(r, value, false);
        return;
    }
    if (field < 0 || out->fields[field].ptr != NULL)
        return;
    rails_text text = value_text(r, value, field == RAILS_F_PARAMS);
    if (field == RAILS_F_ERROR)
        text = rails_error_class(text);
    if (field == RAILS_F_STATUS && json_is_integer(value) && json_integer_value(value) >= 100 &&
        json_integer_value(value) <= 999)
        out->status = (int)json_integer_value(value);
    out->fields[field] = text;
}

bool rails_json_read(const char *text, size_t len, const char *user_key, tw_buf *scratch,
                     rails_line *out, json_t **root)
{
    if (text == NULL || len < 2 || text[0] != '{')
        return false;
    json_t *object = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
    if (object == NULL)
        return false;
    if (!json_is_object(object)) {
        json_decref(object);
        return false;
    }
    memset(out, 0, offsetof(rails_line, numbers));
    out->kind = RAILS_LINE_JSON;
    out->message = (rails_text){text, len};
    json_reader r = {out, scratch, 0};
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
        read_member(&r, key, value, user_key);
    if (out->fields[RAILS_F_METHOD].ptr != NULL &&
        (out->fields[RAILS_F_PATH].ptr != NULL || out->fields[RAILS_F_CONTROLLER].ptr != NULL ||
         out->fields[RAILS_F_STATUS].ptr != NULL))
        out->kind = RAILS_LINE_LOGRAGE;
    *root = object;
    return true;
}
