/* sigv4_suite.c — the official SigV4 suites' reader for the unit tests; see
 * sigv4_suite.h for what it owns. */
#include "sigv4_suite.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mem.h"
#include "timefmt.h"

/* ---- files and case discovery -------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    tw_buf b = TW_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tw_buf_append(&b, chunk, n);
    fclose(f);
    return tw_buf_steal(&b);
}

char *sigv4_suite_file(const char *dir, const char *file)
{
    tw_buf path = TW_BUF_INIT;
    tw_buf_printf(&path, "%s/%s", dir, file);
    char *text = read_file(path.data);
    if (text == NULL)
        fail_msg("cannot read %s: %s", path.data, strerror(errno));
    tw_buf_free(&path);
    return text;
}

char *sigv4_suite_botocore_file(const char *dir, const char *suffix)
{
    tw_buf file = TW_BUF_INIT;
    tw_buf_printf(&file, "%s.%s", strrchr(dir, '/') + 1, suffix);
    char *text = sigv4_suite_file(dir, file.data);
    tw_buf_free(&file);
    return text;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends to *cases the case directories under dir, recursively, sorted. */
static void find_cases(const char *dir, const char *marker, char ***cases, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("cannot open suite directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        tw_buf path = TW_BUF_INIT, probe = TW_BUF_INIT;
        struct stat st;
        tw_buf_printf(&path, "%s/%s", dir, e->d_name);
        if (marker == NULL)
            tw_buf_printf(&probe, "%s/%s.req", path.data, e->d_name);
        else
            tw_buf_printf(&probe, "%s/%s", path.data, marker);
        bool is_dir = stat(path.data, &st) == 0 && S_ISDIR(st.st_mode);
        if (is_dir && stat(probe.data, &st) == 0) {
            *cases = tw_realloc(*cases, (*count + 1) * sizeof **cases);
            (*cases)[(*count)++] = tw_strdup(path.data);
        }
        if (is_dir)
            find_cases(path.data, marker, cases, count);
        tw_buf_free(&path);
        tw_buf_free(&probe);
    }
    closedir(d);
    qsort(*cases, *count, sizeof **cases, compare_paths);
}

void sigv4_suite_check_cases(const char *dir, const char *marker, size_t count,
                             int (*check)(const char *case_dir, void *ctx), void *ctx)
{
    char **cases = NULL;
    size_t found = 0;
    find_cases(dir, marker, &cases, &found);
    assert_int_equal(found, count);
    int failures = 0;
    for (size_t i = 0; i < found; i++)
        failures += check(cases[i], ctx);
    for (size_t i = 0; i < found; i++)
        free(cases[i]);
    free(cases);
    assert_int_equal(failures, 0);
}

/* ---- requests -------------------------------------------------------------- */

void sigv4_suite_parse_request(const char *text, sigv4_suite_request *r)
{
    memset(r, 0, sizeof *r);
    const char *eol = strchr(text, '\n');
    size_t line_len = eol ? (size_t)(eol - text) : strlen(text);
    char *line = tw_strndup(text, line_len);
    char *sp = strchr(line, ' ');
    assert_non_null(sp);
    r->method = tw_strndup(line, (size_t)(sp - line));
    char *target = sp + 1, *http = NULL;
    for (char *p = strstr(target, " HTTP/"); p != NULL; p = strstr(p + 1, " HTTP/"))
        http = p;
    if (http != NULL)
        *http = '\0';
    char *q = strchr(target, '?');
    tw_buf_puts(&r->query, q ? q + 1 : "");
    r->path = q ? tw_strndup(target, (size_t)(q - target)) : tw_strdup(target);
    free(line);
    const char *p = eol ? eol + 1 : text + line_len;
    while (*p != '\0') {
        eol = strchr(p, '\n');
        line_len = eol ? (size_t)(eol - p) : strlen(p);
        const char *next = eol ? eol + 1 : p + line_len;
        if (line_len == 0) {
            r->body_len = strlen(next);
            r->body = tw_strndup(next, r->body_len);
            break;
        }
        if (p[0] == ' ' || p[0] == '\t') {
            assert_true(r->header_count > 0);
            tw_buf_putc(&r->values[r->header_count - 1], '\n');
            tw_buf_append(&r->values[r->header_count - 1], p, line_len);
        } else {
            const char *colon = memchr(p, ':', line_len);
            assert_non_null(colon);
            assert_true(r->header_count < SIGV4_SUITE_MAX_HEADERS);
            tw_buf_append(&r->names[r->header_count], p, (size_t)(colon - p));
            tw_buf_append(&r->values[r->header_count], colon + 1,
                          line_len - (size_t)(colon - p) - 1);
            r->header_count++;
        }
        p = next;
    }
}

void sigv4_suite_free_request(sigv4_suite_request *r)
{
    free(r->method);
    free(r->path);
    free(r->body);
    tw_buf_free(&r->query);
    for (size_t i = 0; i < SIGV4_SUITE_MAX_HEADERS; i++) {
        tw_buf_free(&r->names[i]);
        tw_buf_free(&r->values[i]);
    }
}

static void read_request(const char *dir, const char *file, sigv4_suite_request *r)
{
    char *text = sigv4_suite_file(dir, file);
    sigv4_suite_parse_request(text, r);
    free(text);
}

static void read_botocore_request(const char *dir, const char *suffix, sigv4_suite_request *r)
{
    char *text = sigv4_suite_botocore_file(dir, suffix);
    sigv4_suite_parse_request(text, r);
    free(text);
}

void sigv4_suite_read_unsigned(const char *dir, sigv4_suite_form form, sigv4_suite_request *r)
{
    if (form == SIGV4_SUITE_BOTOCORE)
        read_botocore_request(dir, "req", r);
    else
        read_request(dir, "request.txt", r);
}

void sigv4_suite_read_signed(const char *dir, sigv4_suite_form form, const char *token,
                             sigv4_suite_request *r)
{
    if (form == SIGV4_SUITE_BOTOCORE) {
        read_botocore_request(dir, "req", r);
        char *authz = sigv4_suite_botocore_file(dir, "authz");
        sigv4_suite_add_header(r, "Authorization", authz);
        if (token != NULL && sigv4_suite_header(r, "X-Amz-Security-Token") == NULL)
            sigv4_suite_add_header(r, "X-Amz-Security-Token", token);
        free(authz);
        return;
    }
    read_request(dir, form == SIGV4_SUITE_V4_HEADER ? "header-signed-request.txt"
                                                    : "query-signed-request.txt", r);
}

tw_sigv4_request sigv4_suite_as_sigv4(sigv4_suite_request *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        r->headers[i].name = tw_buf_cstr(&r->names[i]);
        r->headers[i].name_len = r->names[i].len;
        r->headers[i].value = tw_buf_cstr(&r->values[i]);
        r->headers[i].value_len = r->values[i].len;
    }
    tw_sigv4_request req = {0};
    req.method = r->method;
    req.method_len = strlen(r->method);
    req.path = r->path;
    req.path_len = strlen(r->path);
    req.query = tw_buf_cstr(&r->query);
    req.query_len = r->query.len;
    req.headers = r->headers;
    req.header_count = r->header_count;
    req.body = r->body;
    req.body_len = r->body_len;
    return req;
}

tw_buf *sigv4_suite_header(sigv4_suite_request *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(tw_buf_cstr(&r->names[i]), name) == 0)
            return &r->values[i];
    return NULL;
}

const char *sigv4_suite_header_cstr(sigv4_suite_request *r, const char *name)
{
    const tw_buf *v = sigv4_suite_header(r, name);
    return v != NULL ? tw_buf_cstr(v) : NULL;
}

void sigv4_suite_add_header(sigv4_suite_request *r, const char *name, const char *value)
{
    assert_true(r->header_count < SIGV4_SUITE_MAX_HEADERS);
    tw_buf_puts(&r->names[r->header_count], name);
    tw_buf_puts(&r->values[r->header_count], value);
    r->header_count++;
}

void sigv4_suite_remove_header(sigv4_suite_request *r, const char *name)
{
    for (size_t i = 0; i < r->header_count;) {
        if (strcasecmp(tw_buf_cstr(&r->names[i]), name) != 0) {
            i++;
            continue;
        }
        tw_buf_free(&r->names[i]);
        tw_buf_free(&r->values[i]);
        memmove(&r->names[i], &r->names[i + 1], (r->header_count - i - 1) * sizeof r->names[0]);
        memmove(&r->values[i], &r->values[i + 1], (r->header_count - i - 1) * sizeof r->values[0]);
        r->header_count--;
        memset(&r->names[r->header_count], 0, sizeof r->names[0]);
        memset(&r->values[r->header_count], 0, sizeof r->values[0]);
    }
}

/* ---- credentials ------------------------------------------------------------ */

tw_sigv4_sign_params sigv4_suite_sign_params(void)
{
    tw_sigv4_sign_params p = {0};
    p.access_key_id = SIGV4_SUITE_AKID;
    p.secret_access_key = SIGV4_SUITE_SECRET;
    p.region = "us-east-1";
    p.service = "service";
    p.time_ms = SIGV4_SUITE_TIME_MS;
    return p;
}

char *sigv4_suite_botocore_token(const char *dir, bool *sent_after)
{
    char *creq = sigv4_suite_botocore_file(dir, "creq");
    const char *line = strstr(creq, "\nx-amz-security-token:");
    char *token = NULL;
    if (sent_after != NULL)
        *sent_after = false;
    if (line != NULL) {
        line += strlen("\nx-amz-security-token:");
        token = tw_strndup(line, strcspn(line, "\n"));
    } else {
        sigv4_suite_request r;
        read_botocore_request(dir, "sreq", &r);
        const char *t = sigv4_suite_header_cstr(&r, "X-Amz-Security-Token");
        if (t != NULL) {
            token = tw_strdup(t);
            if (sent_after != NULL)
                *sent_after = true;
        }
        sigv4_suite_free_request(&r);
    }
    free(creq);
    return token;
}

/* ---- context.json (aws-signing-test-suite-v4) ---------------------------- */

char *sigv4_suite_json_value(const char *json, const char *key)
{
    char quoted[128];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = strstr(json, quoted);
    if (p == NULL)
        return NULL;
    p += strlen(quoted);
    p += strspn(p, " \t\r\n");
    if (*p++ != ':')
        return NULL;
    p += strspn(p, " \t\r\n");
    if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        return end ? tw_strndup(p + 1, (size_t)(end - p - 1)) : NULL;
    }
    return tw_strndup(p, strcspn(p, ",}\r\n \t"));
}

static bool json_true(const char *json, const char *key)
{
    char *v = sigv4_suite_json_value(json, key);
    bool t = v != NULL && strcmp(v, "true") == 0;
    free(v);
    return t;
}

void sigv4_suite_read_context(const char *dir, sigv4_suite_context *c)
{
    char *json = sigv4_suite_file(dir, "context.json");
    c->akid = sigv4_suite_json_value(json, "access_key_id");
    c->secret = sigv4_suite_json_value(json, "secret_access_key");
    c->token = sigv4_suite_json_value(json, "token");
    c->region = sigv4_suite_json_value(json, "region");
    c->service = sigv4_suite_json_value(json, "service");
    c->normalize = json_true(json, "normalize");
    c->sign_body = json_true(json, "sign_body");
    c->omit_session_token = json_true(json, "omit_session_token");
    char *ts = sigv4_suite_json_value(json, "timestamp");
    char *exp = sigv4_suite_json_value(json, "expiration_in_seconds");
    assert_non_null(c->akid);
    assert_non_null(c->secret);
    assert_non_null(ts);
    assert_non_null(exp);
    assert_int_equal(tw_time_parse_iso8601(ts, strlen(ts), &c->time_ms, NULL), 0);
    c->expires_s = (uint32_t)strtoul(exp, NULL, 10);
    free(ts);
    free(exp);
    free(json);
}

void sigv4_suite_free_context(sigv4_suite_context *c)
{
    free(c->akid);
    free(c->secret);
    free(c->token);
    free(c->region);
    free(c->service);
}
