/* syslog_auth.c — sshd logins, sudo commands and cron jobs as fields (see
 * syslog_auth.h). The shapes are OpenSSH's auth2.c/auth.c log calls
 * ("Accepted %s for %s%.100s from %.200s port %d ssh2"), sudo's
 * log_allowed/log_denial lines and Debian cron's "(%s) CMD (%s)". */
#include "syslog_auth.h"

#include <stdbool.h>
#include <string.h>

/* A cursor over the message. */
typedef struct text {
    const char *p;
    const char *end;
} text;

static bool span_is(tw_syslog_span s, const char *literal)
{
    size_t n = strlen(literal);
    return s.len == n && memcmp(s.p, literal, n) == 0;
}

static bool eat(text *t, const char *literal)
{
    size_t n = strlen(literal);
    if ((size_t)(t->end - t->p) < n || memcmp(t->p, literal, n) != 0)
        return false;
    t->p += n;
    return true;
}

/* The text up to the next space or the end, consumed. */
static tw_syslog_span word(text *t)
{
    const char *space = memchr(t->p, ' ', (size_t)(t->end - t->p));
    const char *stop = space ? space : t->end;
    tw_syslog_span s = {t->p, (size_t)(stop - t->p)};
    t->p = stop;
    return s;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* An IPv4/IPv6 address, or a host name when sshd runs with UseDNS. */
static bool is_address(tw_syslog_span s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                  c == ':' || c == '-' || c == '_' || c == '%';
        if (!ok)
            return false;
    }
    return true;
}

static void add(tw_log_record *r, const char *name, tw_syslog_span value)
{
    if (value.p != NULL)
        tw_log_record_add(r, name, value.p, value.len);
}

static void add_constant(tw_log_record *r, const char *name, const char *value)
{
    tw_log_record_add(r, name, value, strlen(value));
}

/* ---- sshd ---------------------------------------------------------------- */

typedef struct endpoint {
    tw_syslog_span addr, port;
} endpoint;

/* "<addr>[ port <digits>]" at t; the rest of the message is left in t. */
static bool parse_endpoint(text *t, endpoint *e)
{
    e->addr = word(t);
    e->port = (tw_syslog_span){NULL, 0};
    if (!is_address(e->addr))
        return false;
    text probe = *t;
    if (eat(&probe, " port ")) {
        tw_syslog_span port = word(&probe);
        if (port.len == 0 || port.len > 5)
            return false;
        for (size_t i = 0; i < port.len; i++)
            if (!is_digit(port.p[i]))
                return false;
        e->port = port;
        *t = probe;
    }
    return true;
}

/* What may follow the port in lines about an unknown user. */
static bool is_known_tail(text t)
{
    static const char *const tails[] = {"", " ssh2", " [preauth]", " ssh2 [preauth]"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        text probe = t;
        if (eat(&probe, tails[i]) && probe.p == probe.end)
            return true;
    }
    return false;
}

/* "<user> from <endpoint><tail>" where the user is the client's choice and
 * may hold anything: the address is the last " from " that is followed by
 * an endpoint and a known tail. */
static bool user_from_the_right(text t, tw_syslog_span *user, endpoint *e)
{
    static const char from[] = " from ";
    const size_t n = sizeof from - 1, len = (size_t)(t.end - t.p);
    for (size_t i = len >= n ? len - n + 1 : 0; i-- > 0;) {
        const char *p = t.p + i;
        if (memcmp(p, from, n) != 0)
            continue;
        text rest = {p + n, t.end};
        if (parse_endpoint(&rest, e) && is_known_tail(rest)) {
            *user = (tw_syslog_span){t.p, (size_t)(p - t.p)};
            return true;
        }
    }
    return false;
}

static void add_endpoint(tw_log_record *r, const endpoint *e)
{
    add(r, "remote_addr", e->addr);
    add(r, "remote_port", e->port);
}

/* "<method> for [invalid user ]<user> from <addr> port <port> ssh2[...]" */
static void sshd_login(text t, const char *result, tw_log_record *r)
{
    tw_syslog_span method = word(&t), user;
    if (method.len == 0 || !eat(&t, " for "))
        return;
    bool invalid = eat(&t, "invalid user ");
    endpoint e;
    if (invalid) {
        if (!user_from_the_right(t, &user, &e))
            return;
    } else {
        /* A known account: its name has no spaces. What follows the port
         * ("ssh2: RSA SHA256:...", a certificate's ID) is not looked at. */
        user = word(&t);
        if (user.len == 0 || !eat(&t, " from ") || !parse_endpoint(&t, &e))
            return;
    }
    add_constant(r, "auth_result", result);
    add(r, "auth_method", method);
    add(r, "user", user);
    add_endpoint(r, &e);
    if (invalid)
        add_constant(r, "invalid_user", "yes");
}

static void sshd_fields(text t, tw_log_record *r)
{
    if (eat(&t, "Accepted ")) {
        sshd_login(t, "accepted", r);
    } else if (eat(&t, "Failed ")) {
        sshd_login(t, "failed", r);
    } else if (eat(&t, "Invalid user ")) {
        tw_syslog_span user;
        endpoint e;
        if (!user_from_the_right(t, &user, &e))
            return;
        add(r, "user", user);
        add_endpoint(r, &e);
        add_constant(r, "invalid_user", "yes");
    }
}

/* ---- sudo ---------------------------------------------------------------- */

/* The next " ; "-separated item, consumed with its separator. */
static tw_syslog_span sudo_item(text *t)
{
    const char *p = t->p;
    while (t->end - p >= 3 && memcmp(p, " ; ", 3) != 0)
        p++;
    if (t->end - p < 3)
        p = t->end;
    tw_syslog_span item = {t->p, (size_t)(p - t->p)};
    t->p = p < t->end ? p + 3 : p;
    return item;
}

/* "KEY=": upper-case letters and '_' before an '='. */
static bool is_key_value(tw_syslog_span item)
{
    size_t i = 0;
    while (i < item.len && ((item.p[i] >= 'A' && item.p[i] <= 'Z') || item.p[i] == '_'))
        i++;
    return i > 0 && i < item.len && item.p[i] == '=';
}

/* value of "KEY=value" when item has that key */
static bool key_value(tw_syslog_span item, const char *key, tw_syslog_span *value)
{
    size_t n = strlen(key);
    if (item.len <= n || memcmp(item.p, key, n) != 0 || item.p[n] != '=')
        return false;
    *value = (tw_syslog_span){item.p + n + 1, item.len - n - 1};
    return true;
}

/* "<user> : [<reason> ; ]TTY=... ; PWD=... ; USER=... ; COMMAND=..." (the
 * user right-aligned by some sudo versions). COMMAND comes last and is the
 * rest of the line: it may hold " ; " itself. */
static void sudo_fields(text t, tw_log_record *r)
{
    while (t.p < t.end && *t.p == ' ')
        t.p++;
    tw_syslog_span user = word(&t);
    if (user.len == 0 || !eat(&t, " : "))
        return;
    tw_syslog_span reason = {NULL, 0}, tty = {NULL, 0}, pwd = {NULL, 0}, target = {NULL, 0},
                   group = {NULL, 0}, command = {NULL, 0};
    for (bool first = true; t.p < t.end; first = false) {
        if (eat(&t, "COMMAND=")) {
            command = (tw_syslog_span){t.p, (size_t)(t.end - t.p)};
            break;
        }
        tw_syslog_span item = sudo_item(&t);
        if (key_value(item, "TTY", &tty) || key_value(item, "PWD", &pwd) ||
            key_value(item, "USER", &target) || key_value(item, "GROUP", &group))
            continue;
        if (first && !is_key_value(item))
            reason = item;
    }
    if (command.p == NULL && tty.p == NULL)
        return; /* some other message of the form "x : y" */
    add(r, "user", user);
    if (reason.p != NULL)
        add(r, "sudo_result", reason);
    else
        add_constant(r, "sudo_result", "allowed");
    add(r, "tty", tty);
    add(r, "pwd", pwd);
    add(r, "target_user", target);
    add(r, "target_group", group);
    add(r, "command", command);
}

/* ---- cron ---------------------------------------------------------------- */

/* "(<user>) CMD (<command>)" */
static void cron_fields(text t, tw_log_record *r)
{
    if (!eat(&t, "("))
        return;
    const char *close = memchr(t.p, ')', (size_t)(t.end - t.p));
    if (close == NULL)
        return;
    tw_syslog_span user = {t.p, (size_t)(close - t.p)};
    t.p = close + 1;
    if (user.len == 0 || !eat(&t, " CMD (") || t.end == t.p || t.end[-1] != ')')
        return;
    add(r, "user", user);
    add(r, "command", (tw_syslog_span){t.p, (size_t)(t.end - 1 - t.p)});
}

/* rsyslog's RepeatedMsgReduction (on in Debian's and Ubuntu's rsyslog.conf)
 * folds identical lines into "message repeated N times: [ <message>]": the
 * attempts are still attempts, N of them. */
static text unfold_repeated(text t, tw_log_record *r)
{
    text probe = t;
    if (!eat(&probe, "message repeated "))
        return t;
    tw_syslog_span count = word(&probe);
    if (count.len == 0 || count.len > 9 || !eat(&probe, " times: [ ") || probe.p == probe.end ||
        probe.end[-1] != ']')
        return t;
    for (size_t i = 0; i < count.len; i++)
        if (!is_digit(count.p[i]))
            return t;
    add(r, "repeated", count);
    probe.end--;
    return probe;
}

void tw_syslog_auth_fields(tw_syslog_span program, tw_syslog_span message, tw_log_record *record)
{
    text t = {message.p, message.p + message.len};
    t = unfold_repeated(t, record);
    if (span_is(program, "sshd") || span_is(program, "sshd-session"))
        sshd_fields(t, record);
    else if (span_is(program, "sudo"))
        sudo_fields(t, record);
    else if (span_is(program, "CRON") || span_is(program, "cron") || span_is(program, "crond"))
        cron_fields(t, record);
}
