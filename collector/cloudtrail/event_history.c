/* event_history.c — the CloudTrail event history (event_history.h): the
 * record of a call (spec/cloudtrail.md §1), its row in the "events" table
 * with the columns and indexes LookupEvents needs, and the retention sweep.
 *
 * A record is serialised once, here, and its text stored as it is: trails
 * (issue 6) write and hash those exact bytes. jansson keeps members in
 * insertion order, so records read in the order of spec §1.2.
 */
#include "event_history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

#define EVENT_VERSION "1.08"
#define GLOBAL_REGION "us-east-1"

/* ---- the tables ---------------------------------------------------------- */

const tw_migration tw_event_history_migrations[] = {
    {"events", 1,
     "CREATE TABLE events ("
     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     " region TEXT NOT NULL,"
     " time_ms INTEGER NOT NULL,"
     " category TEXT NOT NULL,"
     " lookup INTEGER NOT NULL,"
     " event_id TEXT NOT NULL,"
     " event_name TEXT NOT NULL,"
     " event_source TEXT NOT NULL,"
     " username TEXT,"
     " access_key_id TEXT,"
     " read_only TEXT,"
     " resources TEXT,"
     " record TEXT NOT NULL);"
     "CREATE INDEX events_by_age ON events (time_ms);"
     /* LookupEvents: one partial index per attribute, region first, then
      * the time for newest-first keyset pages (seq, the rowid, ends every
      * index entry). Data events never enter them. */
     "CREATE INDEX events_lookup_time ON events (region, time_ms) WHERE lookup = 1;"
     "CREATE INDEX events_lookup_id ON events (region, event_id, time_ms) WHERE lookup = 1;"
     "CREATE INDEX events_lookup_name ON events (region, event_name, time_ms) WHERE lookup = 1;"
     "CREATE INDEX events_lookup_source ON events (region, event_source, time_ms)"
     " WHERE lookup = 1;"
     "CREATE INDEX events_lookup_user ON events (region, username, time_ms) WHERE lookup = 1;"
     "CREATE INDEX events_lookup_key ON events (region, access_key_id, time_ms)"
     " WHERE lookup = 1;"
     "CREATE INDEX events_lookup_read_only ON events (region, read_only, time_ms)"
     " WHERE lookup = 1;"
     /* kind 'T' = resource type, 'N' = resource name (short name and ARN). */
     "CREATE TABLE event_resource_keys ("
     " seq INTEGER NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL,"
     " value TEXT NOT NULL, time_ms INTEGER NOT NULL);"
     "CREATE UNIQUE INDEX event_resource_keys_lookup"
     " ON event_resource_keys (region, kind, value, time_ms, seq);"
     "CREATE INDEX event_resource_keys_by_age ON event_resource_keys (time_ms);"},
    {NULL, 0, NULL},
};

/* ---- strings a client controls ----------------------------------------- */

/* Length of the valid UTF-8 character at s (n bytes left), 0 if invalid:
 * the rules jansson applies (no overlongs, surrogates or code points past
 * U+10FFFF), so what passes here is a string jansson accepts. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        len = 2, cp = c & 0x1fu, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0fu, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, cp = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A JSON string of at most cap bytes of s, cut on a character boundary,
 * with every byte that is not valid UTF-8 shown as '?' (a User-Agent
 * header may hold anything). */
static json_t *capped_string(const char *s, size_t len, size_t cap)
{
    tw_buf out = TW_BUF_INIT;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len(u + i, len - i);
        size_t put = n == 0 ? 1 : n;
        if (out.len + put > cap)
            break;
        if (n == 0)
            tw_buf_putc(&out, '?');
        else
            tw_buf_append(&out, s + i, n);
        i += put;
    }
    json_t *value = json_stringn(tw_buf_cstr(&out), out.len);
    tw_buf_free(&out);
    return value != NULL ? value : json_string("");
}

/* ---- requestParameters / responseElements ------------------------------- */

static bool capitalised(const char *key)
{
    return key[0] >= 'A' && key[0] <= 'Z';
}

static bool has_capitalised_member(const json_t *object)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value) {
        if (capitalised(key))
            return true;
    }
    return false;
}

/* A deep copy with every member name's first letter lowered, as CloudTrail
 * shows PascalCase APIs ("LogGroupName" -> "logGroupName", "DBInstance" ->
 * "dBInstance", exactly what AWS records for RDS). */
static json_t *lower_camel_copy(const json_t *value)
{
    if (json_is_array(value)) {
        json_t *copy = json_array();
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)value, i, item) {
            json_array_append_new(copy, lower_camel_copy(item));
        }
        return copy;
    }
    if (!json_is_object(value))
        return json_deep_copy(value);
    json_t *copy = json_object();
    const char *key;
    json_t *member;
    json_object_foreach((json_t *)value, key, member) {
        size_t len = strlen(key);
        char *name = tw_memdup(key, len);
        if (capitalised(name))
            name[0] = (char)(name[0] - 'A' + 'a');
        json_object_set_new(copy, name, lower_camel_copy(member));
        free(name);
    }
    return copy;
}

static size_t dumped_size(const json_t *value)
{
    return json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Drops the largest members until the object fits cap (spec §1.1: 100 KB);
 * the dropped names go to *omitted (created on first use). */
static void cap_members(json_t *object, size_t cap, json_t **omitted)
{
    while (json_object_size(object) > 0 && dumped_size(object) > cap) {
        const char *key, *largest = NULL;
        json_t *value;
        size_t largest_size = 0;
        json_object_foreach(object, key, value) {
            size_t size = dumped_size(value) + strlen(key);
            if (largest == NULL || size > largest_size) {
                largest = key;
                largest_size = size;
            }
        }
        if (*omitted == NULL)
            *omitted = json_array();
        json_array_append_new(*omitted, json_string(largest));
        json_object_del(object, largest);
    }
    if (*omitted != NULL)
        json_object_set_new(object, "omitted", json_true());
}

/* What the record shows for params: null when there is nothing to show
 * (no object, or an empty one, as CloudTrail writes for calls without
 * parameters), else the lowerCamel form within the cap. */
static json_t *elements(const json_t *params, json_t **omitted)
{
    if (!json_is_object(params) || json_object_size(params) == 0)
        return json_null();
    json_t *copy = has_capitalised_member(params) ? lower_camel_copy(params)
                                                  : json_deep_copy(params);
    cap_members(copy, TW_EVENT_ELEMENTS_CAP, omitted);
    return copy;
}

/* ---- the record ------------------------------------------------------------ */

/* Services AWS records in us-east-1 whatever the endpoint (spec §5.9). */
static const char *const global_sources[] = {
    "iam.amazonaws.com",   "cloudfront.amazonaws.com", "route53.amazonaws.com",
    "signin.amazonaws.com", NULL,
};

const char *tw_event_history_region(const tw_call *call)
{
    const char *source = call->service != NULL ? call->service->event_source : NULL;
    for (const char *const *g = global_sources; source != NULL && *g != NULL; g++)
        if (strcmp(source, *g) == 0)
            return GLOBAL_REGION;
    return call->region != NULL ? call->region : "";
}

static void set_string(json_t *object, const char *key, const char *value)
{
    json_object_set_new(object, key, capped_string(value, strlen(value), SIZE_MAX));
}

static json_t *user_identity(const tw_call *call)
{
    const tw_identity *id = &call->identity;
    json_t *identity = json_object();
    if (id->user == NULL) {
        set_string(identity, "type", "Unknown");
        return identity;
    }
    set_string(identity, "type", "IAMUser");
    set_string(identity, "principalId", id->user->principal_id);
    set_string(identity, "arn", id->user->arn);
    set_string(identity, "accountId", id->account_id != NULL ? id->account_id : "");
    set_string(identity, "accessKeyId", id->access_key_id != NULL ? id->access_key_id : "");
    set_string(identity, "userName", id->user->name);
    return identity;
}

static void add_header(json_t *record, const char *key, const tw_call *call, const char *name)
{
    size_t len = 0;
    const char *value = call->http != NULL ? tw_http_header(call->http, name, &len) : NULL;
    if (value != NULL)
        json_object_set_new(record, key, capped_string(value, len, TW_EVENT_TEXT_CAP));
}

static bool is_read_only(const tw_call *call)
{
    return call->operation != NULL && (call->operation->flags & TW_OP_READ_ONLY);
}

static bool is_data_event(const tw_call *call)
{
    return call->operation != NULL && (call->operation->flags & TW_OP_DATA_EVENT);
}

static json_t *response_elements(const tw_call *call, json_t **omitted)
{
    if (call->error.code != NULL || is_read_only(call))
        return json_null();
    return elements(call->event_response_elements != NULL ? call->event_response_elements
                                                          : call->output,
                    omitted);
}

/* The request's TLS: only the host the client asked for is known here (the
 * HTTP layer does not expose the negotiated version and cipher). */
static json_t *tls_details(const tw_call *call)
{
    json_t *tls = json_object();
    size_t len = 0;
    const char *host = tw_http_header(call->http, "host", &len);
    if (host != NULL)
        json_object_set_new(tls, "clientProvidedHostHeader",
                            capped_string(host, len, TW_EVENT_TEXT_CAP));
    return tls;
}

static void add_error(json_t *record, const tw_call *call)
{
    if (call->error.code == NULL)
        return;
    const tw_buf *message = &call->error.message;
    json_object_set_new(record, "errorCode",
                        capped_string(call->error.code, strlen(call->error.code),
                                      TW_EVENT_TEXT_CAP));
    json_object_set_new(record, "errorMessage",
                        capped_string(tw_buf_cstr(message), message->len, TW_EVENT_TEXT_CAP));
}

json_t *tw_event_history_build(const tw_call *call)
{
    char when[TW_ISO8601_SIZE];
    if (tw_time_format_iso8601(call->now_ms, when) != 0)
        strcpy(when, "1970-01-01T00:00:00Z");
    const char *source = call->service != NULL ? call->service->event_source : "unknown";
    json_t *record = json_object();
    set_string(record, "eventVersion", EVENT_VERSION);
    json_object_set_new(record, "userIdentity", user_identity(call));
    set_string(record, "eventTime", when);
    set_string(record, "eventSource", source != NULL ? source : "unknown");
    set_string(record, "eventName", call->operation != NULL ? call->operation->name : "");
    set_string(record, "awsRegion", tw_event_history_region(call));
    set_string(record, "sourceIPAddress", call->http != NULL ? call->http->peer_ip : "");
    add_header(record, "userAgent", call, "user-agent");
    add_error(record, call);
    json_t *omitted_request = NULL, *omitted_response = NULL;
    json_object_set_new(record, "requestParameters",
                        elements(call->event_request_parameters != NULL
                                     ? call->event_request_parameters
                                     : call->input,
                                 &omitted_request));
    json_object_set_new(record, "responseElements", response_elements(call, &omitted_response));
    if (omitted_request != NULL || omitted_response != NULL)
        json_object_set_new(record, "additionalEventData",
                            json_pack("{s:o*, s:o*}", "omittedRequestParameters",
                                      omitted_request, "omittedResponseElements",
                                      omitted_response));
    set_string(record, "requestID", call->request_id);
    set_string(record, "eventID", call->event_id);
    json_object_set_new(record, "readOnly", json_boolean(is_read_only(call)));
    if (json_is_array(call->event_resources) && json_array_size(call->event_resources) > 0)
        json_object_set_new(record, "resources", json_deep_copy(call->event_resources));
    set_string(record, "eventType", "AwsApiCall");
    json_object_set_new(record, "managementEvent", json_boolean(!is_data_event(call)));
    set_string(record, "recipientAccountId",
               call->identity.account_id != NULL ? call->identity.account_id : "");
    set_string(record, "eventCategory", is_data_event(call) ? "Data" : "Management");
    if (call->http != NULL && call->http->tls)
        json_object_set_new(record, "tlsDetails", tls_details(call));
    return record;
}

/* ---- rows ------------------------------------------------------------------ */

void tw_event_history_resource_name(const char *arn, tw_buf *out)
{
    /* arn:partition:service:region:account:resource */
    const char *resource = arn;
    for (int colons = 0; colons < 5 && resource != NULL; colons++) {
        resource = strchr(resource, ':');
        if (resource != NULL)
            resource++;
    }
    if (resource == NULL || strncmp(arn, "arn:", 4) != 0) {
        tw_buf_puts(out, arn);
        return;
    }
    size_t len = strlen(resource);
    if (len >= 2 && strcmp(resource + len - 2, ":*") == 0)
        len -= 2;
    /* "type:name" or "type/name", the type being a lower-case word. */
    size_t type = strspn(resource, "abcdefghijklmnopqrstuvwxyz-");
    if (type > 0 && type < len && (resource[type] == ':' || resource[type] == '/')) {
        resource += type + 1;
        len -= type + 1;
    }
    tw_buf_append(out, resource, len);
}

static int insert_resource_key(tw_db *db, const tw_event_row *row, int64_t seq,
                               const char *kind, const char *value)
{
    sqlite3_stmt *st = tw_db_prepare(db, "INSERT OR IGNORE INTO event_resource_keys"
                                         " (seq, region, kind, value, time_ms)"
                                         " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, row->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, row->time_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

/* LookupEvents' Resources of the row, [{ResourceType, ResourceName}], as
 * JSON text (NULL when the row has none). */
static char *shown_resources(const json_t *resources)
{
    if (!json_is_array(resources) || json_array_size(resources) == 0)
        return NULL;
    json_t *list = json_array();
    size_t i;
    json_t *resource;
    json_array_foreach((json_t *)resources, i, resource) {
        const char *type = json_string_value(json_object_get(resource, "type"));
        const char *arn = json_string_value(json_object_get(resource, "ARN"));
        tw_buf name = TW_BUF_INIT;
        if (arn != NULL)
            tw_event_history_resource_name(arn, &name);
        json_array_append_new(list, json_pack("{s:s*, s:s*}", "ResourceType", type,
                                              "ResourceName",
                                              arn != NULL ? tw_buf_cstr(&name) : NULL));
        tw_buf_free(&name);
    }
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    return text;
}

/* ResourceType finds the type; ResourceName the short name or the ARN. */
static int index_resources(tw_db *db, const tw_event_row *row, int64_t seq)
{
    size_t i;
    json_t *resource;
    int rc = 0;
    if (!row->lookup || !json_is_array(row->resources))
        return 0;
    json_array_foreach((json_t *)row->resources, i, resource) {
        const char *type = json_string_value(json_object_get(resource, "type"));
        const char *arn = json_string_value(json_object_get(resource, "ARN"));
        if (rc == 0 && type != NULL)
            rc = insert_resource_key(db, row, seq, "T", type);
        if (rc == 0 && arn != NULL) {
            tw_buf name = TW_BUF_INIT;
            tw_event_history_resource_name(arn, &name);
            rc = insert_resource_key(db, row, seq, "N", tw_buf_cstr(&name));
            if (rc == 0 && strcmp(arn, tw_buf_cstr(&name)) != 0)
                rc = insert_resource_key(db, row, seq, "N", arn);
            tw_buf_free(&name);
        }
    }
    return rc;
}

int tw_event_history_insert(tw_db *db, const tw_event_row *row, int64_t *seq_out)
{
    sqlite3_stmt *st = tw_db_prepare(
        db, "INSERT INTO events (region, time_ms, category, lookup, event_id, event_name,"
            " event_source, username, access_key_id, read_only, resources, record)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (st == NULL)
        return -EIO;
    char *shown = shown_resources(row->resources);
    sqlite3_bind_text(st, 1, row->region, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, row->time_ms);
    sqlite3_bind_text(st, 3, row->category, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, row->lookup ? 1 : 0);
    sqlite3_bind_text(st, 5, row->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, row->event_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, row->event_source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, row->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, row->access_key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, row->read_only, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, shown, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, row->record, (int)row->record_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(shown);
    if (rc != SQLITE_DONE) {
        tw_warn("storing CloudTrail event %s failed: %s", row->event_id, tw_db_error(db));
        return -EIO;
    }
    int64_t seq = sqlite3_last_insert_rowid(tw_db_handle(db));
    if (index_resources(db, row, seq) < 0) {
        tw_warn("indexing the resources of CloudTrail event %s failed: %s", row->event_id,
                tw_db_error(db));
        return -EIO;
    }
    if (seq_out != NULL)
        *seq_out = seq;
    return 0;
}

int tw_event_history_record(tw_db *db, tw_call *call)
{
    json_t *record = tw_event_history_build(call);
    char *text = json_dumps(record, JSON_COMPACT);
    json_decref(record);
    if (text == NULL)
        return -ENOMEM;
    const tw_identity *id = &call->identity;
    bool data = is_data_event(call);
    tw_event_row row = {
        .region = tw_event_history_region(call),
        .time_ms = call->now_ms - ((call->now_ms % 1000) + 1000) % 1000,
        .category = data ? "Data" : "Management",
        .lookup = !data,
        .event_id = call->event_id,
        .event_name = call->operation != NULL ? call->operation->name : "",
        .event_source = call->service != NULL && call->service->event_source != NULL
                            ? call->service->event_source
                            : "unknown",
        .username = id->user != NULL ? id->user->name : NULL,
        .access_key_id = id->access_key_id,
        .read_only = is_read_only(call) ? "true" : "false",
        .resources = call->event_resources,
        .record = text,
        .record_len = strlen(text),
    };
    int rc = tw_event_history_insert(db, &row, NULL);
    free(text);
    return rc;
}

/* ---- retention ------------------------------------------------------------- */

static int delete_older(tw_db *db, sqlite3_stmt *st, int64_t cutoff, size_t budget,
                        size_t *deleted)
{
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, cutoff);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)budget);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        tw_warn("expiring old CloudTrail events failed: %s", tw_db_error(db));
        return -EIO;
    }
    *deleted = (size_t)sqlite3_changes(tw_db_handle(db));
    return 0;
}

int tw_event_history_expire(tw_db *db, int64_t now_ms, int64_t days, size_t budget,
                            size_t *deleted, bool *more)
{
    int64_t cutoff = now_ms - days * 86400 * INT64_C(1000);
    size_t events = 0, keys = 0;
    *deleted = 0;
    *more = false;
    int rc = delete_older(db,
                          tw_db_prepare(db, "DELETE FROM events WHERE seq IN (SELECT seq FROM"
                                            " events WHERE time_ms < ?1 ORDER BY time_ms"
                                            " LIMIT ?2)"),
                          cutoff, budget, &events);
    /* A resource key lives exactly as long as its event (same time_ms). */
    if (rc == 0)
        rc = delete_older(db,
                          tw_db_prepare(db, "DELETE FROM event_resource_keys WHERE rowid IN"
                                            " (SELECT rowid FROM event_resource_keys"
                                            " WHERE time_ms < ?1 LIMIT ?2)"),
                          cutoff, budget * 4, &keys);
    if (rc < 0)
        return rc;
    *deleted = events;
    *more = events == budget || keys == budget * 4;
    return 0;
}
