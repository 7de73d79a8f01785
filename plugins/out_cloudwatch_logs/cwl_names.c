/* cwl_names.c — placeholder expansion and the log group / stream name rules
 * (see cwl_names.h). */
#include "cwl_names.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cwl_batch.h"
#include "encode.h"
#include "timefmt.h"
#include "utf8.h"

static bool group_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
           || c == '-' || c == '_' || c == '/' || c == '#';
}

static bool stream_forbidden(unsigned char c)
{
    return c == ':' || c == '*' || c < 0x20 || c == 0x7f;
}

static const char *kind_name(tw_cwl_name_kind kind)
{
    return kind == TW_CWL_LOG_GROUP ? "log group" : "log stream";
}

/* Appends a placeholder's value, every byte the name may not hold made '_'. */
static void put_sanitised(tw_buf *out, tw_cwl_name_kind kind, const char *value, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)value[i];
        if (kind == TW_CWL_LOG_GROUP) {
            tw_buf_putc(out, group_char(c) ? (char)c : '_');
            i++;
            continue;
        }
        size_t n = tw_utf8_sequence(value + i, len - i);
        if (n == 0 || (n == 1 && stream_forbidden(c))) {
            tw_buf_putc(out, '_');
            i++;
        } else {
            tw_buf_append(out, value + i, n);
            i += n;
        }
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Expands the placeholder at p (which starts with '{'); returns its length
 * in the pattern, or a negative error. */
static int expand_placeholder(const char *pattern, const char *p, const tw_cwl_name_vars *vars,
                              tw_buf *out, tw_err *err)
{
    static const char *const names[] = {"{hostname}", "{date}", "{file}", "{name}"};
    const char *what = kind_name(vars->kind);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(p, names[i], n) != 0)
            continue;
        const char *value = NULL;
        char day[TW_ISO8601_SIZE];
        switch (i) {
        case 0:
            value = vars->hostname;
            break;
        case 1:
            if (tw_time_format_iso8601(vars->now_ms, day) != 0)
                return tw_err_set(err, -EINVAL, "%s \"%.200s\": {date}: the clock is out of range",
                                  what, pattern);
            day[10] = '\0'; /* YYYY-MM-DD */
            value = day;
            break;
        case 2:
            value = vars->file ? base_name(vars->file) : NULL;
            break;
        default:
            value = vars->name;
            break;
        }
        if (!value)
            return tw_err_set(err, -EINVAL, "%s \"%.200s\": %s has no value here", what, pattern,
                              names[i]);
        put_sanitised(out, vars->kind, value, strlen(value));
        return (int)n;
    }
    char quoted[TW_QUOTE_SIZE];
    return tw_err_set(err, -EINVAL,
                      "%s \"%.200s\": unknown placeholder at %s (known: {hostname}, {date}, "
                      "{file}, {name})",
                      what, pattern, tw_quote(p, strcspn(p, "}") + (strchr(p, '}') ? 1 : 0),
                                              quoted));
}

int tw_cwl_expand_name(const char *pattern, const tw_cwl_name_vars *vars, tw_buf *out,
                       tw_err *err)
{
    tw_buf_reset(out);
    for (const char *p = pattern; *p;) {
        if (*p != '{') {
            size_t n = strcspn(p, "{");
            tw_buf_append(out, p, n);
            p += n;
            continue;
        }
        int n = expand_placeholder(pattern, p, vars, out, err);
        if (n < 0) {
            tw_buf_reset(out);
            return n;
        }
        p += n;
    }
    int rc = tw_cwl_check_name(vars->kind, tw_buf_cstr(out), out->len, err);
    if (rc < 0) {
        if (strcmp(tw_buf_cstr(out), pattern) != 0) {
            char quoted[TW_QUOTE_SIZE];
            tw_err_prefix(err, "%s pattern \"%.200s\" expands to %s", kind_name(vars->kind),
                          pattern, tw_quote(out->data, out->len, quoted));
        }
        tw_buf_reset(out);
    }
    return rc;
}

/* AWS counts UTF-16 code units: a 4-byte UTF-8 sequence is two. */
static size_t utf16_length(const char *s, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

static int check_chars(tw_cwl_name_kind kind, const char *name, size_t len, tw_err *err)
{
    char quoted[TW_QUOTE_SIZE];
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)name[i];
        if (kind == TW_CWL_LOG_GROUP) {
            if (!group_char(c))
                return tw_err_set(err, -EINVAL,
                                  "log group %s: %s is not allowed (log group names use letters, "
                                  "digits and . _ - / #)",
                                  tw_quote(name, len, quoted),
                                  c == ' ' ? "a space" : "this character");
            i++;
            continue;
        }
        size_t n = tw_utf8_sequence(name + i, len - i);
        if (n == 0)
            return tw_err_set(err, -EINVAL, "log stream %s is not valid UTF-8",
                              tw_quote(name, len, quoted));
        if (n == 1 && stream_forbidden(c))
            return tw_err_set(err, -EINVAL,
                              "log stream %s: %s is not allowed (log stream names may hold "
                              "anything but : * and control characters)",
                              tw_quote(name, len, quoted),
                              c == ':' ? "':'" : c == '*' ? "'*'" : "a control character");
        i += n;
    }
    return 0;
}

int tw_cwl_check_name(tw_cwl_name_kind kind, const char *name, size_t len, tw_err *err)
{
    char quoted[TW_QUOTE_SIZE];
    const char *what = kind_name(kind);
    if (len == 0)
        return tw_err_set(err, -EINVAL, "%s name is empty (CloudWatch needs 1 to 512 characters)",
                          what);
    size_t units = utf16_length(name, len);
    if (units > TW_CWL_MAX_NAME)
        return tw_err_set(err, -EINVAL, "%s %s is %zu characters long (CloudWatch allows 512)",
                          what, tw_quote(name, len, quoted), units);
    if (kind == TW_CWL_LOG_GROUP && len >= 4 && strncasecmp(name, "aws/", 4) == 0)
        return tw_err_set(err, -EINVAL,
                          "log group %s: log groups starting with aws/ are reserved for AWS",
                          tw_quote(name, len, quoted));
    return check_chars(kind, name, len, err);
}
