/* test_collector_config.c — the collector's configuration model
 * (collector/config.h): a complete config, the defaults, files with drop-ins
 * and command-line overrides, derived user identities, a table of bad
 * configs each pinned to its line and message, secrets never echoed, and the
 * SIGHUP hand-over of users. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fsutil.h"
#include "mem.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MiB (1024ULL * 1024)

/* ---- helpers ------------------------------------------------------------ */

#define assert_no_errors(c) assert_no_errors_((c), __FILE__, __LINE__)

static void assert_no_errors_(const tw_collector_config *c, const char *src, int src_line)
{
    if (c->conf.n_errors != 0) {
        print_error("expected no errors, got %zu:\n", c->conf.n_errors);
        tw_test_dump_conf_errors(&c->conf);
        _fail(src, src_line);
    }
}

typedef struct fixture {
    char dir[256];
    char path[300];   /* dir/collector.conf */
    char dropin[300]; /* dir/collector.conf.d */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (tw_test_mkdtemp(f->dir, sizeof f->dir, "collector-config") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/collector.conf", f->dir);
    snprintf(f->dropin, sizeof f->dropin, "%s/collector.conf.d", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tw_test_rm_rf(f->dir);
    free(f);
    return rc;
}

/* ---- a complete config -------------------------------------------------- */

static const char full_config[] =
    "; every section and every key\n"                      /* 1 */
    "[server]\n"                                           /* 2 */
    "listen = [::1]:8443\n"                                /* 3 */
    "data_dir = /srv/collector\n"                          /* 4 */
    "tls_cert = CERT\n"                                    /* 5 */
    "tls_key = KEY\n"                                      /* 6 */
    "max_body = 16MiB\n"                                   /* 7 */
    "debug_signatures = yes\n"                             /* 8 */
    "[account]\n"                                          /* 9 */
    "id = 210987654321\n"                                  /* 10 */
    "regions = eu-west-2, us-east-1\n"                     /* 11 */
    "    ap-southeast-2 us-gov-west-1\n"                   /* 12 */
    "[user alice]\n"                                       /* 13 */
    "access_key_id = AKIAIOSFODNN7EXAMPLE\n"               /* 14 */
    "secret_access_key = " SECRET "\n"                     /* 15 */
    "[user bob.smith-2]\n"                                 /* 16 */
    "access_key_id = AKIDBOB0000000000001\n"               /* 17 */
    "secret_access_key = bobsecretbobsecret\n"             /* 18 */
    "[cloudtrail]\n"                                       /* 19 */
    "delivery_interval = 30s\n"                            /* 20 */
    "digest_interval = 2h\n"                               /* 21 */
    "event_history_days = 365\n";                          /* 22 */

/* The full config with CERT and KEY replaced by real, readable files. */
static char *full_config_with_tls(const fixture *f, char *cert, char *key, size_t size)
{
    snprintf(cert, size, "%s/cert.pem", f->dir);
    snprintf(key, size, "%s/key.pem", f->dir);
    tw_test_write_file(cert, "certificate\n");
    tw_test_write_file(key, "key\n");
    tw_buf text = TW_BUF_INIT;
    const char *p = full_config;
    const char *c = strstr(p, "CERT"), *k = strstr(p, "KEY\n");
    tw_buf_append(&text, p, (size_t)(c - p));
    tw_buf_puts(&text, cert);
    tw_buf_append(&text, c + 4, (size_t)(k - c - 4));
    tw_buf_puts(&text, key);
    tw_buf_puts(&text, k + 3);
    return tw_buf_steal(&text);
}

static void test_full_config_sets_every_field(void **state)
{
    fixture *f = *state;
    char cert[400], key[400];
    char *text = full_config_with_tls(f, cert, key, sizeof cert);
    tw_collector_config c;
    int rc = tw_collector_config_load_string(&c, "collector.conf", text);
    assert_no_errors(&c);
    assert_int_equal(rc, 0);
    assert_string_equal(c.listen, "[::1]:8443");
    assert_string_equal(c.data_dir, "/srv/collector");
    assert_string_equal(c.tls_cert, cert);
    assert_string_equal(c.tls_key, key);
    assert_int_equal(c.max_body_bytes, 16 * MiB);
    assert_true(c.debug_signatures);
    assert_string_equal(c.account_id, "210987654321");
    assert_int_equal(c.n_regions, 4);
    assert_string_equal(c.regions[0], "eu-west-2");
    assert_string_equal(c.regions[1], "us-east-1");
    assert_string_equal(c.regions[2], "ap-southeast-2");
    assert_string_equal(c.regions[3], "us-gov-west-1");
    assert_null(c.regions[4]);
    assert_int_equal(c.n_users, 2);
    assert_string_equal(c.users[0].name, "alice");
    assert_string_equal(c.users[0].access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(c.users[0].secret_access_key, SECRET);
    assert_string_equal(c.users[0].arn, "arn:aws:iam::210987654321:user/alice");
    assert_string_equal(c.users[1].name, "bob.smith-2");
    assert_string_equal(c.users[1].arn, "arn:aws:iam::210987654321:user/bob.smith-2");
    assert_int_equal(c.delivery_interval_ms, 30000);
    assert_int_equal(c.digest_interval_ms, 2 * 3600 * 1000);
    assert_int_equal(c.event_history_days, 365);
    assert_true(tw_collector_has_region(&c, "us-gov-west-1"));
    assert_false(tw_collector_has_region(&c, "us-west-1"));
    assert_false(tw_collector_has_region(&c, NULL));
    assert_ptr_equal(tw_collector_find_user(&c, "AKIDBOB0000000000001"), &c.users[1]);
    assert_null(tw_collector_find_user(&c, "AKIDBOB0000000000002"));
    assert_null(tw_collector_find_user(&c, NULL));
    tw_collector_config_free(&c);
    free(text);
}

static void test_defaults_need_only_a_user(void **state)
{
    (void)state;
    tw_collector_config c;
    int rc = tw_collector_config_load_string(&c, "collector.conf",
                                             "[user alice]\n"
                                             "access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                                             "secret_access_key = " SECRET "\n");
    assert_no_errors(&c);
    assert_int_equal(rc, 0);
    assert_string_equal(c.listen, "127.0.0.1:4590");
    assert_string_equal(c.data_dir, "/var/lib/trailwatch/collector");
    assert_null(c.tls_cert);
    assert_null(c.tls_key);
    assert_int_equal(c.max_body_bytes, 8 * MiB);
    assert_false(c.debug_signatures);
    assert_string_equal(c.account_id, "123456789012");
    assert_int_equal(c.n_regions, 1);
    assert_string_equal(c.regions[0], "us-east-1");
    assert_null(c.regions[1]);
    assert_int_equal(c.delivery_interval_ms, 5 * 60 * 1000);
    assert_int_equal(c.digest_interval_ms, 3600 * 1000);
    assert_int_equal(c.event_history_days, 90);
    assert_string_equal(c.users[0].arn, "arn:aws:iam::123456789012:user/alice");
    tw_collector_config_free(&c);
}

/* principalId looks like IAM's ("AIDA" + 17 of [A-Z2-7]), is the same for the
 * same key id every time, and differs between keys. */
static void test_principal_id_is_stable_and_iam_shaped(void **state)
{
    (void)state;
    const char *text = "[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\n"
                       "secret_access_key = " SECRET "\n"
                       "[user b]\naccess_key_id = AKIAIOSFODNN7EXAMPLF\n"
                       "secret_access_key = " SECRET "\n";
    tw_collector_config one, two;
    assert_int_equal(tw_collector_config_load_string(&one, "a.conf", text), 0);
    assert_int_equal(tw_collector_config_load_string(&two, "b.conf", text), 0);
    const char *id = one.users[0].principal_id;
    assert_int_equal(strlen(id), 21);
    assert_memory_equal(id, "AIDA", 4);
    assert_int_equal(strspn(id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 17);
    assert_string_equal(id, two.users[0].principal_id);
    assert_string_not_equal(id, one.users[1].principal_id);
    tw_collector_config_free(&one);
    tw_collector_config_free(&two);
}

static void test_file_dropins_and_overrides(void **state)
{
    fixture *f = *state;
    tw_test_write_file(f->path, "[server]\n"
                        "listen = 127.0.0.1:4590\n"
                        "data_dir = /var/lib/tw\n"
                        "[user alice]\n"
                        "access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                        "secret_access_key = " SECRET "\n");
    mkdir(f->dropin, 0700);
    char dropin[400];
    snprintf(dropin, sizeof dropin, "%s/50-more.conf", f->dropin);
    tw_test_write_file(dropin, "[account]\nregions = eu-central-1\n"
                       "[user carol]\naccess_key_id = AKIDCAROL00000000001\n"
                       "secret_access_key = carolcarolcarolcarol\n");
    tw_collector_config c;
    int rc = tw_collector_config_load(&c, f->path, ":0", "relative/data");
    assert_no_errors(&c);
    assert_int_equal(rc, 0);
    assert_int_equal(c.conf.n_files, 2);
    assert_string_equal(c.listen, ":0");
    assert_string_equal(c.data_dir, "relative/data");
    assert_string_equal(c.regions[0], "eu-central-1");
    assert_int_equal(c.n_users, 2);
    assert_string_equal(c.users[1].name, "carol");
    tw_collector_config_free(&c);

    rc = tw_collector_config_load(&c, f->path, "localhost", NULL);
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(c.conf.n_errors, 1);
    assert_string_equal(c.conf.errors[0],
                        "--listen: \"localhost\" needs a port (expected host:port, like "
                        "127.0.0.1:4590)");
    assert_string_equal(c.data_dir, "/var/lib/tw");
    tw_collector_config_free(&c);
}

static void test_missing_file_is_an_error(void **state)
{
    fixture *f = *state;
    tw_collector_config c;
    assert_int_equal(tw_collector_config_load(&c, f->path, NULL, NULL), -EINVAL);
    assert_true(c.conf.n_errors >= 1);
    assert_non_null(strstr(c.conf.errors[0], f->path));
    tw_collector_config_free(&c);
}

static void test_tls_files_must_be_readable(void **state)
{
    fixture *f = *state;
    char text[1024];
    snprintf(text, sizeof text,
             "[server]\ntls_cert = %s/missing-cert.pem\ntls_key = %s/missing-key.pem\n"
             "[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\nsecret_access_key = " SECRET "\n",
             f->dir, f->dir);
    tw_collector_config c;
    assert_int_equal(tw_collector_config_load_string(&c, "t.conf", text), -EINVAL);
    assert_int_equal(c.conf.n_errors, 2);
    assert_non_null(strstr(c.conf.errors[0], "t.conf:2: [server] tls_cert: cannot read "));
    assert_non_null(strstr(c.conf.errors[0], "missing-cert.pem: No such file or directory"));
    assert_non_null(strstr(c.conf.errors[1], "t.conf:3: [server] tls_key: cannot read "));
    tw_collector_config_free(&c);
}

/* ---- bad configs --------------------------------------------------------- */

#define USER "[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\nsecret_access_key = " SECRET "\n"

typedef struct bad_case {
    const char *text;
    int line;         /* of the first error */
    const char *want; /* in the first error's message */
    size_t count;     /* errors expected; 0 means exactly 1 */
} bad_case;

#define ROW(text_, line_, want_) {.text = (text_), .line = (line_), .want = (want_)}
#define ROW_COUNT(text_, line_, want_, count_) \
    {.text = (text_), .line = (line_), .want = (want_), .count = (count_)}

static const bad_case bad_cases[] = {
    /* sections */
    ROW("[servr]\nlisten = :0\n" USER, 1, "unknown section [servr] (did you mean [server]?)"),
    ROW("[users a]\n" USER, 1, "unknown section [users a] (did you mean [user a]?)"),
    ROW("[database]\n" USER, 1,
        "unknown section [database] (expected server, account, user NAME or cloudtrail)"),
    ROW(USER "[user]\naccess_key_id = AKIAIOSFODNN7EXAMPLF\n", 4,
        "[user] needs a name: write [user NAME]"),
    ROW("[server main]\n" USER, 1, "[server main]: [server] takes no name"),
    ROW("[user al!ce]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\nsecret_access_key = " SECRET "\n",
        1, "[user al!ce]: the name \"al!ce\" must be one word of at most 64 letters"),
    ROW("[server]\nlisen = :0\n" USER, 2, "[server] unknown key \"lisen\" (did you mean \"listen\"?)"),
    ROW(USER "[cloudtrail]\nretention = 5\n", 5,
        "[cloudtrail] unknown key \"retention\" (known keys: delivery_interval, "
        "digest_interval, event_history_days)"),
    /* [server] */
    ROW("[server]\nlisten = 4590\n" USER, 2,
        "[server] listen: \"4590\" needs a port (expected host:port, like 127.0.0.1:4590)"),
    ROW("[server]\nlisten = 127.0.0.1:65536\n" USER, 2,
        "[server] listen: \"127.0.0.1:65536\" has a bad port (expected 0 to 65535; 0 = any free "
        "port)"),
    ROW("[server]\nlisten = ::1:4590\n" USER, 2,
        "\"::1:4590\": an IPv6 address goes in brackets, like [::1]:4590"),
    ROW("[server]\ndata_dir = var/lib/tw\n" USER, 2,
        "[server] data_dir: \"var/lib/tw\" must be an absolute path"),
    ROW("[server]\nmax_body = 512KiB\n" USER, 2,
        "[server] max_body: \"512KiB\" is out of range (1MiB to 64MiB)"),
    ROW("[server]\nmax_body = 65MiB\n" USER, 2, "is out of range (1MiB to 64MiB)"),
    ROW("[server]\nmax_body = 8MB\n" USER, 2, "[server] max_body: "),
    ROW("[server]\ndebug_signatures = maybe\n" USER, 2,
        "[server] debug_signatures: \"maybe\" is not a boolean"),
    ROW("[server]\ntls_cert = /etc/ssl/cert.pem\n" USER, 2,
        "[server] tls_cert and tls_key go together: set both for HTTPS, or neither"),
    ROW("[server]\ntls_key = /etc/ssl/key.pem\n" USER, 2, "tls_cert and tls_key go together"),
    ROW("[server]\ntls_cert = cert.pem\ntls_key = /dev/null\n" USER, 2,
        "[server] tls_cert: \"cert.pem\" must be an absolute path"),
    /* [account] */
    ROW("[account]\nid = 12345678901\n" USER, 2,
        "[account] id: \"12345678901\" is not an AWS account id (exactly 12 digits"),
    ROW("[account]\nid = 12345678901a\n" USER, 2, "is not an AWS account id"),
    ROW("[account]\nregions = us-east-1, US-WEST-2\n" USER, 2,
        "[account] regions: \"US-WEST-2\" is not a region name"),
    ROW("[account]\nregions = us-east-1 eu-west-2 us-east-1\n" USER, 2,
        "[account] regions: us-east-1 is listed twice"),
    ROW("[account]\nregions = , ,\n" USER, 2, "[account] regions: no region given"),
    ROW("[account]\nregions = r1 r2 r3 r4 r5 r6 r7 r8 r9 r10 r11 r12 r13 r14 r15 r16 r17 r18\n"
        "  r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33\n" USER,
        2, "[account] regions: more than 32 regions (r33 and after)"),
    /* [user NAME] */
    ROW("[user a]\nsecret_access_key = " SECRET "\n", 1, "[user a] needs a \"access_key_id\" key"),
    ROW("[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\n", 1,
        "[user a] needs a \"secret_access_key\" key"),
    ROW("[user a]\naccess_key_id = AKIA123\nsecret_access_key = " SECRET "\n", 2,
        "[user a] access_key_id: \"AKIA123\" is 7 characters long (access key ids have 16 to "
        "128)"),
    ROW("[user a]\naccess_key_id = akiaiosfodnn7example\nsecret_access_key = " SECRET "\n", 2,
        "access_key_id: \"akiaiosfodnn7example\" contains 'a' (access key ids are upper-case"),
    ROW("[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\nsecret_access_key = short\n", 3,
        "[user a] secret_access_key: is 5 characters long; a secret access key needs at least "
        "16"),
    ROW(USER "[user b]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\nsecret_access_key = " SECRET "\n",
        5, "[user b] access_key_id: AKIAIOSFODNN7EXAMPLE is already the key of [user a]"),
    ROW("[server]\nlisten = :0\n", 0,
        "no [user NAME] section: the collector accepts only signed requests"),
    ROW("[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\n    AKIAIOSFODNN7EXAMPLF\n"
        "secret_access_key = " SECRET "\n",
        3, "[user a] access_key_id: this indented line continues the value"),
    /* [cloudtrail] */
    ROW(USER "[cloudtrail]\ndelivery_interval = 500ms\n", 5,
        "[cloudtrail] delivery_interval: \"500ms\" is out of range (1s to 1h)"),
    ROW(USER "[cloudtrail]\ndelivery_interval = 2h\n", 5, "is out of range (1s to 1h)"),
    ROW(USER "[cloudtrail]\ndigest_interval = 2d\n", 5,
        "[cloudtrail] digest_interval: \"2d\" is out of range (1s to 1d)"),
    ROW(USER "[cloudtrail]\ndigest_interval = 60\n", 5, "[cloudtrail] digest_interval: \"60\""),
    ROW(USER "[cloudtrail]\nevent_history_days = 0\n", 5,
        "[cloudtrail] event_history_days: 0 is out of range (1 to 3650)"),
    ROW(USER "[cloudtrail]\nevent_history_days = ninety\n", 5,
        "event_history_days: \"ninety\" is not a whole number"),
    /* every error is found, not just the first */
    ROW_COUNT("[server]\nlisten = x\nmax_body = 1\n[account]\nid = 1\n", 2,
              "[server] listen: \"x\" needs a port", 4),
};

static void test_bad_configs_give_one_error_on_the_right_line(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < COUNT(bad_cases); i++) {
        const bad_case *b = &bad_cases[i];
        size_t count = b->count ? b->count : 1;
        tw_collector_config c;
        int rc = tw_collector_config_load_string(&c, "t.conf", b->text);
        char prefix[32];
        if (b->line > 0)
            snprintf(prefix, sizeof prefix, "t.conf:%d: ", b->line);
        else
            snprintf(prefix, sizeof prefix, "t.conf: ");
        const char *first = c.conf.n_errors > 0 ? c.conf.errors[0] : "";
        bool ok = rc == -EINVAL && c.conf.n_errors == count &&
                  strncmp(first, prefix, strlen(prefix)) == 0 && strstr(first, b->want);
        if (!ok) {
            failures++;
            print_error("case %zu: rc %d, %zu error(s); expected %zu, the first starting "
                        "\"%s\" and containing \"%s\"\n--- config:\n%s---\n",
                        i, rc, c.conf.n_errors, count, prefix, b->want, b->text);
            tw_test_dump_conf_errors(&c.conf);
        }
        tw_collector_config_free(&c);
    }
    assert_int_equal(failures, 0);
    assert_true(COUNT(bad_cases) >= 15);
}

/* A secret may be wrong in any way; the message never quotes it. */
static void test_secret_values_are_never_echoed(void **state)
{
    (void)state;
    const char *secrets[] = {"tooshortSECRET", "x", "  "};
    for (size_t i = 0; i < COUNT(secrets); i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "[user a]\naccess_key_id = AKIAIOSFODNN7EXAMPLE\nsecret_access_key = %s\n",
                 secrets[i]);
        tw_collector_config c;
        assert_int_equal(tw_collector_config_load_string(&c, "t.conf", text), -EINVAL);
        assert_true(c.conf.n_errors >= 1);
        for (size_t e = 0; e < c.conf.n_errors; e++)
            if (strlen(secrets[i]) > 2)
                assert_null(strstr(c.conf.errors[e], secrets[i]));
        tw_collector_config_free(&c);
    }
}

/* ---- SIGHUP ------------------------------------------------------------ */

static void test_reload_takes_users_and_keeps_the_rest(void **state)
{
    (void)state;
    tw_collector_config running;
    assert_int_equal(tw_collector_config_load_string(&running, "old.conf",
                                                     "[server]\nlisten = 127.0.0.1:4590\n"
                                                     "[account]\nid = 111111111111\n"
                                                     "regions = us-east-1\n" USER),
                     0);
    const tw_collector_user *old_alice = tw_collector_find_user(&running, "AKIAIOSFODNN7EXAMPLE");
    assert_non_null(old_alice);
    tw_collector_config *next = tw_calloc(1, sizeof *next);
    assert_int_equal(tw_collector_config_load_string(
                         next, "new.conf",
                         "[server]\nlisten = 127.0.0.1:4591\n"
                         "[account]\nid = 222222222222\nregions = us-east-1, eu-west-1\n"
                         "[user carol]\naccess_key_id = AKIDCAROL00000000001\n"
                         "secret_access_key = carolcarolcarolcarol\n"),
                     0);
    tw_buf changes = TW_BUF_INIT;
    tw_collector_config_restart_changes(&running, next, &changes);
    assert_string_equal(changes.data, "[server] listen, [account] id, [account] regions");
    tw_buf_free(&changes);

    tw_collector_config_take_users(&running, next);
    assert_null(tw_collector_find_user(&running, "AKIAIOSFODNN7EXAMPLE"));
    const tw_collector_user *carol = tw_collector_find_user(&running, "AKIDCAROL00000000001");
    assert_non_null(carol);
    assert_string_equal(carol->name, "carol");
    /* The running account stays in force, and the arn follows it. */
    assert_string_equal(running.account_id, "111111111111");
    assert_string_equal(carol->arn, "arn:aws:iam::111111111111:user/carol");
    assert_string_equal(running.listen, "127.0.0.1:4590");
    assert_int_equal(running.n_regions, 1);
    /* A call in flight may still hold the old user: it stays valid. */
    assert_string_equal(old_alice->name, "a");
    assert_string_equal(old_alice->secret_access_key, SECRET);
    tw_collector_config_free(&running); /* frees next too (ASan checks) */
}

static void test_restart_changes_are_empty_for_a_users_only_change(void **state)
{
    (void)state;
    tw_collector_config a, b;
    assert_int_equal(tw_collector_config_load_string(&a, "a.conf", USER), 0);
    assert_int_equal(tw_collector_config_load_string(
                         &b, "b.conf",
                         "[user z]\naccess_key_id = AKIDZZZZZZZZZZZZZZZZ\n"
                         "secret_access_key = zzzzzzzzzzzzzzzzzzzz\n"),
                     0);
    tw_buf changes = TW_BUF_INIT;
    tw_collector_config_restart_changes(&a, &b, &changes);
    assert_int_equal(changes.len, 0);
    tw_buf_free(&changes);
    tw_collector_config_free(&a);
    tw_collector_config_free(&b);
}

/* The packaged /etc/trailwatch/collector.conf is valid once a user is
 * added (it ships without one: no default credentials), and says so. */
static void test_packaged_config_needs_only_a_user(void **state)
{
    fixture *f = *state;
    tw_collector_config c;
    assert_int_equal(tw_collector_config_load(&c, TW_SOURCE_DIR "/conf/collector.conf", NULL,
                                              NULL),
                     -EINVAL);
    assert_int_equal(c.conf.n_errors, 1);
    assert_non_null(strstr(c.conf.errors[0], "no [user NAME] section"));
    tw_collector_config_free(&c);

    tw_buf text = TW_BUF_INIT;
    tw_err err;
    assert_int_equal(tw_read_file(TW_SOURCE_DIR "/conf/collector.conf", 1 << 20, &text, &err), 0);
    tw_test_write_file(f->path, text.data);
    tw_buf_free(&text);
    mkdir(f->dropin, 0700);
    char dropin[400];
    snprintf(dropin, sizeof dropin, "%s/users.conf", f->dropin);
    tw_test_write_file(dropin, USER);
    assert_int_equal(tw_collector_config_load(&c, f->path, NULL, NULL), 0);
    assert_string_equal(c.listen, "127.0.0.1:4590");
    assert_string_equal(c.data_dir, "/var/lib/trailwatch/collector");
    assert_int_equal(c.max_body_bytes, 8 * MiB);
    assert_string_equal(c.regions[0], "us-east-1");
    assert_int_equal(c.n_users, 1);
    tw_collector_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_config_sets_every_field, setup, teardown),
        cmocka_unit_test(test_defaults_need_only_a_user),
        cmocka_unit_test(test_principal_id_is_stable_and_iam_shaped),
        cmocka_unit_test_setup_teardown(test_file_dropins_and_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_files_must_be_readable, setup, teardown),
        cmocka_unit_test(test_bad_configs_give_one_error_on_the_right_line),
        cmocka_unit_test(test_secret_values_are_never_echoed),
        cmocka_unit_test(test_reload_takes_users_and_keeps_the_rest),
        cmocka_unit_test(test_restart_changes_are_empty_for_a_users_only_change),
        cmocka_unit_test_setup_teardown(test_packaged_config_needs_only_a_user, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
