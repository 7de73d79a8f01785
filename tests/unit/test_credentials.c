/* test_credentials.c — where the agent's AWS credentials come from
 * (agent/credentials.h): agent.conf, the environment, the shared credentials
 * and config files with their profiles, the errors for every bad file or
 * half-set pair (never holding a secret), and rotation detection. Every test
 * works on real files in its own temporary HOME and a fake environment. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "credentials.h"
#include "log.h"
#include "testutil.h"

/* Every secret and token below starts with one of these, so a test can tell
 * that no part of any secret reached an error or the log. */
#define SECRET_MARK "SEKRIT"
#define TOKEN_MARK "TOKN"

#define KEY_CONF "AKIACONF000000000001"
#define SECRET_CONF SECRET_MARK "conf+abcdefghijklmnopqrstuvwxyz0123"
#define KEY_ENV "AKIAENV0000000000002"
#define SECRET_ENV SECRET_MARK "env/abcdefghijklmnopqrstuvwxyz01234"
#define TOKEN_ENV TOKEN_MARK "env//////FQoGZXIvYXdzEJr=="
#define KEY_CRED "AKIACRED000000000003"
#define SECRET_CRED SECRET_MARK "cred+abcdefghijklmnopqrstuvwxyz0123"
#define TOKEN_CRED TOKEN_MARK "cred+IQoJb3JpZ2luX2VjEJr//////////="
#define KEY_PROD "AKIAPROD000000000004"
#define SECRET_PROD SECRET_MARK "prod+abcdefghijklmnopqrstuvwxyz0123"
#define KEY_CFG "AKIACFG0000000000005"
#define SECRET_CFG SECRET_MARK "cfg+abcdefghijklmnopqrstuvwxyz01234"

#define MAX_VARS 16

typedef struct fixture {
    char dir[256];
    char home[300];
    char aws[320];         /* home/.aws */
    char credentials[400]; /* home/.aws/credentials */
    char config[400];      /* home/.aws/config */
    char log_path[320];
    char log[16384]; /* what the module logged during the last resolve */
    const char *names[MAX_VARS];
    char values[MAX_VARS][8192];
    size_t n_vars;
    tw_credentials c;
    tw_err err;
} fixture;

static const char *fake_env(const char *name, void *ctx)
{
    fixture *f = ctx;
    for (size_t i = 0; i < f->n_vars; i++)
        if (strcmp(f->names[i], name) == 0)
            return f->values[i];
    return NULL;
}

static void env_set(fixture *f, const char *name, const char *value)
{
    size_t i = 0;
    while (i < f->n_vars && strcmp(f->names[i], name) != 0)
        i++;
    assert_true(i < MAX_VARS);
    if (i == f->n_vars)
        f->n_vars++;
    f->names[i] = name;
    snprintf(f->values[i], sizeof f->values[i], "%s", value);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tw_test_mkdtemp(f->dir, sizeof f->dir, "credentials") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->home, sizeof f->home, "%s/home", f->dir);
    snprintf(f->aws, sizeof f->aws, "%s/.aws", f->home);
    snprintf(f->credentials, sizeof f->credentials, "%s/credentials", f->aws);
    snprintf(f->config, sizeof f->config, "%s/config", f->aws);
    snprintf(f->log_path, sizeof f->log_path, "%s/log", f->dir);
    if (mkdir(f->home, 0700) != 0 || mkdir(f->aws, 0700) != 0)
        return -1;
    env_set(f, "HOME", f->home);
    tw_log_init("test_credentials", TW_LOG_DEBUG);
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

/* Writes an AWS file as `aws configure` does: readable by its owner only. */
static void write_private(const char *path, const char *text)
{
    tw_test_write_file(path, text);
    assert_int_equal(chmod(path, 0600), 0);
}

static void assert_no_secret(const char *text)
{
    if (strstr(text, SECRET_MARK) != NULL || strstr(text, TOKEN_MARK) != NULL) {
        print_error("a secret leaked into: %s\n", text);
        fail();
    }
}

/* Resolves with f's environment, capturing what the module logs, and checks
 * that neither the error nor the log holds any part of any secret. */
static int resolve(fixture *f, const tw_endpoint_config *ep)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(f->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    tw_err_clear(&f->err);
    int rc = tw_credentials_resolve(ep, fake_env, f, &f->c, &f->err);
    dup2(saved, 2);
    close(saved);
    FILE *fp = fopen(f->log_path, "r");
    assert_non_null(fp);
    size_t n = fread(f->log, 1, sizeof f->log - 1, fp);
    f->log[n] = '\0';
    fclose(fp);
    assert_no_secret(f->err.msg);
    assert_no_secret(f->log);
    assert_no_secret(f->c.source);
    if (rc < 0) {
        assert_string_equal(f->c.access_key_id, "");
        assert_string_equal(f->c.secret_access_key, "");
        assert_string_equal(f->c.session_token, "");
    }
    return rc;
}

static void assert_keys(const fixture *f, const char *key, const char *secret, const char *token)
{
    assert_string_equal(f->c.access_key_id, key);
    assert_string_equal(f->c.secret_access_key, secret);
    assert_string_equal(f->c.session_token, token);
}

/* Fails unless the resolve failed with rc and an error of exactly want
 * (with "@" replaced by the fixture's .aws directory). */
#define assert_error(f, rc, want) assert_error_((f), (rc), (want), __FILE__, __LINE__)

static void assert_error_(fixture *f, int rc, const char *want, const char *src, int line)
{
    char expanded[TW_ERR_MAX * 2];
    size_t n = 0;
    for (const char *p = want; *p && n < sizeof expanded - sizeof f->aws; p++) {
        if (*p == '@')
            n += (size_t)snprintf(expanded + n, sizeof expanded - n, "%s", f->aws);
        else
            expanded[n++] = *p;
    }
    expanded[n] = '\0';
    if (strcmp(f->err.msg, expanded) != 0) {
        print_error("error\n got  %s\n want %s\n", f->err.msg, expanded);
        _fail(src, line);
    }
    (void)rc;
}

static void set_credentials(fixture *f)
{
    write_private(f->credentials, "[default]\n"
                                  "aws_access_key_id = " KEY_CRED "\n"
                                  "aws_secret_access_key = " SECRET_CRED "\n"
                                  "aws_session_token = " TOKEN_CRED "\n"
                                  "\n"
                                  "[prod]\n"
                                  "aws_access_key_id = " KEY_PROD "\n"
                                  "aws_secret_access_key = " SECRET_PROD "\n");
}

/* ---- the order of sources ------------------------------------------------------ */

static void test_endpoint_keys_win_over_environment_and_files(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    env_set(f, "AWS_ACCESS_KEY_ID", KEY_ENV);
    env_set(f, "AWS_SECRET_ACCESS_KEY", SECRET_ENV);
    tw_endpoint_config ep = {.access_key_id = KEY_CONF, .secret_access_key = SECRET_CONF};
    assert_int_equal(resolve(f, &ep), 0);
    assert_keys(f, KEY_CONF, SECRET_CONF, "");
    assert_string_equal(f->c.source, "agent.conf [endpoint]");
    assert_int_equal(f->c.n_watch, 0);
    assert_false(tw_credentials_changed(&f->c));

    ep.session_token = TOKEN_MARK "conf";
    assert_int_equal(resolve(f, &ep), 0);
    assert_string_equal(f->c.session_token, TOKEN_MARK "conf");
}

static void test_endpoint_half_set_keys_are_an_error(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    tw_endpoint_config ep = {.access_key_id = KEY_CONF};
    assert_int_equal(resolve(f, &ep), -EINVAL);
    assert_error(f, -EINVAL, "agent.conf [endpoint] sets access_key_id but not "
                             "secret_access_key: set both, or neither to use the environment or "
                             "the shared credentials file");
    tw_endpoint_config secret_only = {.secret_access_key = SECRET_CONF};
    assert_int_equal(resolve(f, &secret_only), -EINVAL);
    assert_non_null(strstr(f->err.msg, "sets secret_access_key but not access_key_id"));
    tw_endpoint_config token_only = {.session_token = TOKEN_MARK "x"};
    assert_int_equal(resolve(f, &token_only), -EINVAL);
    assert_non_null(strstr(f->err.msg, "sets session_token but not access_key_id"));
}

static void test_environment_wins_over_files(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    env_set(f, "AWS_ACCESS_KEY_ID", KEY_ENV);
    env_set(f, "AWS_SECRET_ACCESS_KEY", SECRET_ENV);
    env_set(f, "AWS_SESSION_TOKEN", TOKEN_ENV);
    env_set(f, "AWS_PROFILE", "prod"); /* like the AWS CLI: the variables still win */
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_ENV, SECRET_ENV, TOKEN_ENV);
    assert_string_equal(f->c.source, "environment");
    assert_int_equal(f->c.n_watch, 0);
}

static void test_environment_legacy_names(void **state)
{
    fixture *f = *state;
    env_set(f, "AWS_ACCESS_KEY", KEY_ENV);
    env_set(f, "AWS_SECRET_KEY", SECRET_ENV);
    env_set(f, "AWS_SECURITY_TOKEN", TOKEN_ENV);
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_ENV, SECRET_ENV, TOKEN_ENV);
    assert_string_equal(f->c.source, "environment (AWS_ACCESS_KEY, AWS_SECRET_KEY)");
    /* the modern names win over the legacy ones */
    env_set(f, "AWS_ACCESS_KEY_ID", KEY_CONF);
    env_set(f, "AWS_SECRET_ACCESS_KEY", SECRET_CONF);
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CONF, SECRET_CONF, TOKEN_ENV);
    assert_string_equal(f->c.source, "environment");
}

static void test_environment_half_set_keys_are_an_error(void **state)
{
    fixture *f = *state;
    set_credentials(f); /* present, but never a silent fallback */
    env_set(f, "AWS_ACCESS_KEY_ID", KEY_ENV);
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "AWS_ACCESS_KEY_ID is set in the environment but "
                             "AWS_SECRET_ACCESS_KEY is not: set both, or neither to use the "
                             "shared credentials file");
    env_set(f, "AWS_ACCESS_KEY_ID", "");
    env_set(f, "AWS_SECRET_ACCESS_KEY", SECRET_ENV);
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "AWS_SECRET_ACCESS_KEY is set in the environment but "
                             "AWS_ACCESS_KEY_ID is not: set both, or neither to use the shared "
                             "credentials file");
}

static void test_environment_lone_session_token_is_ignored(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    env_set(f, "AWS_SESSION_TOKEN", TOKEN_ENV);
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED); /* never mixed with the file's keys */
}

static void test_explicit_profile_or_file_skips_environment(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    env_set(f, "AWS_ACCESS_KEY_ID", KEY_ENV);
    env_set(f, "AWS_SECRET_ACCESS_KEY", SECRET_ENV);
    tw_endpoint_config ep = {.profile = "prod"};
    assert_int_equal(resolve(f, &ep), 0);
    assert_keys(f, KEY_PROD, SECRET_PROD, "");
    assert_non_null(strstr(f->log, "AWS_ACCESS_KEY_ID is set but not used: agent.conf "
                                    "[endpoint] sets profile"));

    tw_endpoint_config file = {.credentials_file = f->credentials};
    assert_int_equal(resolve(f, &file), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);
}

/* ---- the shared files ------------------------------------------------------------ */

static void test_credentials_file_default_profile(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);
    char want[600];
    snprintf(want, sizeof want, "%s [default]", f->credentials);
    assert_string_equal(f->c.source, want);
    assert_int_equal(f->c.n_watch, 2);
    assert_string_equal(f->c.watch[0].path, f->credentials);
    assert_true(f->c.watch[0].exists);
    assert_string_equal(f->c.watch[1].path, f->config);
    assert_false(f->c.watch[1].exists);
    assert_string_equal(f->log, ""); /* mode 0600: no warning */
}

static void test_profile_from_aws_profile_and_endpoint(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    env_set(f, "AWS_PROFILE", "prod");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_PROD, SECRET_PROD, "");
    char want[600];
    snprintf(want, sizeof want, "%s [prod]", f->credentials);
    assert_string_equal(f->c.source, want);

    tw_endpoint_config ep = {.profile = "default"}; /* agent.conf beats AWS_PROFILE */
    assert_int_equal(resolve(f, &ep), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);

    env_set(f, "AWS_PROFILE", "");
    env_set(f, "AWS_DEFAULT_PROFILE", "prod");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_PROD, SECRET_PROD, "");
}

static void test_credentials_file_location(void **state)
{
    fixture *f = *state;
    char other[400], elsewhere[400];
    snprintf(other, sizeof other, "%s/other", f->dir);
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", f->home);
    set_credentials(f);
    write_private(other, "[default]\naws_access_key_id=" KEY_ENV
                         "\naws_secret_access_key=" SECRET_ENV "\n");
    write_private(elsewhere, "[default]\naws_access_key_id=" KEY_PROD
                             "\naws_secret_access_key=" SECRET_PROD "\n");
    env_set(f, "AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere"); /* botocore expands ~ */
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_PROD, SECRET_PROD, "");
    assert_string_equal(f->c.watch[0].path, elsewhere);

    tw_endpoint_config ep = {.credentials_file = other};
    assert_int_equal(resolve(f, &ep), 0);
    assert_keys(f, KEY_ENV, SECRET_ENV, "");
    char want[600];
    snprintf(want, sizeof want, "%s [default]", other);
    assert_string_equal(f->c.source, want);
}

static void test_config_file_uses_profile_prefix(void **state)
{
    fixture *f = *state;
    write_private(f->config, "[default]\n"
                             "region = eu-west-1\n"
                             "aws_access_key_id = " KEY_CFG "\n"
                             "aws_secret_access_key = " SECRET_CFG "\n"
                             "[profile prod]\n"
                             "aws_access_key_id = " KEY_PROD "\n"
                             "aws_secret_access_key = " SECRET_PROD "\n"
                             "[profile \"quoted\"]\n"
                             "aws_access_key_id = " KEY_ENV "\n"
                             "aws_secret_access_key = " SECRET_ENV "\n"
                             "[staging]\n"
                             "aws_access_key_id = " KEY_CONF "\n"
                             "aws_secret_access_key = " SECRET_CONF "\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CFG, SECRET_CFG, "");
    char want[600];
    snprintf(want, sizeof want, "%s [default]", f->config);
    assert_string_equal(f->c.source, want);

    env_set(f, "AWS_PROFILE", "prod");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_PROD, SECRET_PROD, "");
    snprintf(want, sizeof want, "%s [profile prod]", f->config);
    assert_string_equal(f->c.source, want);

    env_set(f, "AWS_PROFILE", "quoted");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_ENV, SECRET_ENV, "");

    /* [staging] in the config file is not a profile, for the AWS CLI either */
    env_set(f, "AWS_PROFILE", "staging");
    assert_int_equal(resolve(f, NULL), -ENOENT);
    assert_error(f, -ENOENT, "AWS profile staging (named by AWS_PROFILE) was not found: "
                             "@/credentials does not exist, @/config has no [profile staging] "
                             "(there is [staging] at line 11, but the config file wants exactly "
                             "[profile staging])");
}

static void test_config_file_profile_default_spelled_out(void **state)
{
    fixture *f = *state;
    write_private(f->config, "[profile default]\n"
                             "aws_access_key_id = " KEY_CFG "\n"
                             "aws_secret_access_key = " SECRET_CFG "\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CFG, SECRET_CFG, "");
    write_private(f->config, "[default]\n"
                             "aws_access_key_id = " KEY_CFG "\n"
                             "aws_secret_access_key = " SECRET_CFG "\n"
                             "[profile default]\n"
                             "region = us-east-2\n");
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/config:4: [profile default] is profile default again (first "
                             "[default] at line 1); keep one section (the AWS CLI refuses this "
                             "too)");
}

static void test_credentials_file_has_no_profile_prefix(void **state)
{
    fixture *f = *state;
    write_private(f->credentials, "[profile prod]\n"
                                  "aws_access_key_id = " KEY_PROD "\n"
                                  "aws_secret_access_key = " SECRET_PROD "\n");
    tw_endpoint_config ep = {.profile = "prod"};
    assert_int_equal(resolve(f, &ep), -ENOENT);
    assert_error(f, -ENOENT, "AWS profile prod (named by agent.conf [endpoint] profile) was not "
                             "found: @/credentials has no [prod] profile (there is "
                             "[profile prod] at line 1, but the credentials file wants exactly "
                             "[prod]), @/config does not exist");
}

static void test_credentials_file_wins_over_config_file(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    write_private(f->config, "[profile prod]\n"
                             "aws_access_key_id = " KEY_CFG "\n"
                             "aws_secret_access_key = " SECRET_CFG "\n");
    env_set(f, "AWS_PROFILE", "prod");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_PROD, SECRET_PROD, "");

    /* a credentials-file profile without keys falls through to the config */
    write_private(f->credentials, "[prod]\nregion = eu-west-1\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CFG, SECRET_CFG, "");
}

static void test_no_credentials_lists_every_place_tried(void **state)
{
    fixture *f = *state;
    assert_int_equal(resolve(f, NULL), -ENOENT);
    assert_error(f, -ENOENT, "no AWS credentials: none in agent.conf [endpoint], "
                             "AWS_ACCESS_KEY_ID is not set, @/credentials does not exist, "
                             "@/config does not exist");
    write_private(f->credentials, "[other]\naws_access_key_id = A\naws_secret_access_key = B\n");
    write_private(f->config, "[default]\nregion = eu-west-1\n");
    assert_int_equal(resolve(f, NULL), -ENOENT);
    assert_error(f, -ENOENT, "no AWS credentials: none in agent.conf [endpoint], "
                             "AWS_ACCESS_KEY_ID is not set, @/credentials has no [default] "
                             "profile, @/config [default] has no aws_access_key_id");
    assert_int_equal(f->c.n_watch, 2); /* a caller waiting for credentials can watch */
}

static void test_named_profile_missing_everywhere_is_an_error(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    env_set(f, "AWS_PROFILE", "Prod");
    assert_int_equal(resolve(f, NULL), -ENOENT);
    assert_error(f, -ENOENT, "AWS profile Prod (named by AWS_PROFILE) was not found: "
                             "@/credentials has no [Prod] profile (there is [prod] at line 6, "
                             "but the credentials file wants exactly [Prod]), @/config does not "
                             "exist");
}

static void test_half_set_keys_in_a_file(void **state)
{
    fixture *f = *state;
    write_private(f->credentials, "[default]\naws_access_key_id = " KEY_CRED "\n");
    write_private(f->config, "[default]\naws_access_key_id = " KEY_CFG
                             "\naws_secret_access_key = " SECRET_CFG "\n");
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/credentials:2: [default] has aws_access_key_id but no "
                             "aws_secret_access_key; set both");
    write_private(f->credentials, "[default]\n\naws_secret_access_key = " SECRET_CRED "\n");
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/credentials:3: [default] has aws_secret_access_key but no "
                             "aws_access_key_id; set both");
}

/* ---- the file syntax ------------------------------------------------------------ */

static void test_comments_blanks_whitespace_and_key_case(void **state)
{
    fixture *f = *state;
    write_private(f->credentials, "\xEF\xBB\xBF# written by hand\n"
                                  "; another comment\n"
                                  "\n"
                                  "   [other]   \n"
                                  "aws_access_key_id=AKIAOTHER\n"
                                  "aws_secret_access_key=" SECRET_MARK "other\n"
                                  "\n"
                                  "[default]\n"
                                  "  # indented comment\n"
                                  "AWS_Access_Key_ID\t=\t  " KEY_CRED "  \n"
                                  "aws_secret_access_key:" SECRET_CRED "\n"
                                  "aws_session_token   =   " TOKEN_CRED "\t\n"
                                  "s3 =\n"
                                  "    max_concurrent_requests = 20\n"
                                  "    ; a comment inside a nested value\n"
                                  "region = us-east-1 ; not a comment to the AWS CLI\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);
}

static void test_crlf_file(void **state)
{
    fixture *f = *state;
    write_private(f->credentials, "[default]\r\n"
                                  "aws_access_key_id = " KEY_CRED "\r\n"
                                  "aws_secret_access_key = " SECRET_CRED "\r\n"
                                  "aws_session_token = " TOKEN_CRED "\r\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);
}

static void test_legacy_and_empty_session_token(void **state)
{
    fixture *f = *state;
    write_private(f->credentials, "[default]\n"
                                  "aws_access_key_id = " KEY_CRED "\n"
                                  "aws_secret_access_key = " SECRET_CRED "\n"
                                  "aws_security_token = " TOKEN_CRED "\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);
    write_private(f->credentials, "[default]\n"
                                  "aws_access_key_id = " KEY_CRED "\n"
                                  "aws_secret_access_key = " SECRET_CRED "\n"
                                  "aws_session_token =\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, "");
}

static void test_long_session_token(void **state)
{
    fixture *f = *state;
    static char text[TW_CREDENTIALS_LINE_MAX + 200], token[TW_CREDENTIALS_TOKEN_MAX + 2];
    memset(token, 'T', TW_CREDENTIALS_TOKEN_MAX);
    memcpy(token, TOKEN_MARK, strlen(TOKEN_MARK));
    token[TW_CREDENTIALS_TOKEN_MAX] = '\0';
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = " KEY_CRED "\naws_secret_access_key = " SECRET_CRED
             "\naws_session_token = %s\n",
             token);
    write_private(f->credentials, text);
    assert_int_equal(resolve(f, NULL), 0);
    assert_string_equal(f->c.session_token, token);

    strcat(token, "T");
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = " KEY_CRED "\naws_secret_access_key = " SECRET_CRED
             "\naws_session_token = %s\n",
             token);
    write_private(f->credentials, text);
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/credentials:4: [default] aws_session_token is 4097 characters "
                             "long; at most 4096 are allowed");
}

typedef struct bad_file {
    const char *text;
    const char *want; /* "@" = the .aws directory */
} bad_file;

/* Each of these makes the AWS CLI fail too (or would sign with a value no
 * AWS key has); every bad line carries a secret that must not be echoed. */
static const bad_file bad_files[] = {
    {"aws_secret_access_key = " SECRET_CRED "\n[default]\n",
     "@/credentials:1: a setting before any [section] header; put it under [default]"},
    {"[default]\naws_access_key_id = " KEY_CRED "\n" SECRET_CRED "\n",
     "@/credentials:3: expected \"key = value\" (a line without '=' in [default])"},
    {"[other]\n" SECRET_CRED "\n",
     "@/credentials:2: expected \"key = value\" (a line without '=' in the file)"},
    {"[default]\n= " SECRET_CRED "\n", "@/credentials:2: missing key name before '='"},
    {"[]\naws_secret_access_key = " SECRET_CRED "\n",
     "@/credentials:1: section header \"[]\" has no name"},
    {"[default\naws_secret_access_key = " SECRET_CRED "\n",
     "@/credentials:1: section header without ']'"},
    {"[default]\naws_secret_access_key = " SECRET_CRED "\naws_secret_access_key = " SECRET_PROD
     "\n",
     "@/credentials:3: [default] aws_secret_access_key is set twice (first at line 2); keep one "
     "(the AWS CLI refuses this too)"},
    {"[default]\naws_access_key_id = " KEY_CRED "\n[default]\naws_secret_access_key = " SECRET_CRED
     "\n",
     "@/credentials:3: [default] is profile default again (first [default] at line 1); keep one "
     "section (the AWS CLI refuses this too)"},
    {"[default]\naws_access_key_id = " KEY_CRED "\n  aws_secret_access_key = " SECRET_CRED "\n",
     "@/credentials:3: this indented line continues [default] aws_access_key_id from line 2 (the "
     "AWS CLI joins indented lines to the value above); remove the indentation"},
    {"[default]\naws_access_key_id = " KEY_CRED "\naws_secret_access_key = \"" SECRET_CRED "\"\n",
     "@/credentials:3: [default] aws_secret_access_key is in quotes; write the value without "
     "them (the AWS files take values literally)"},
    {"[default]\naws_access_key_id = " KEY_CRED "\naws_secret_access_key = " SECRET_MARK
     "half of it\n",
     "@/credentials:3: [default] aws_secret_access_key has a blank, control or non-ASCII "
     "character at position 11, which no AWS key has"},
    {"[default]\naws_access_key_id = AKIA/" SECRET_MARK "\naws_secret_access_key = x\n",
     "@/credentials:2: [default] aws_access_key_id has '/' at position 5, which no access key id "
     "has"},
    {"[default]\naws_access_key_id = " KEY_CRED "\naws_secret_access_key =\n",
     "@/credentials:3: [default] aws_secret_access_key is empty"},
    {"[default]\naws_access_key_id = " KEY_CRED "\naws_secret_access_key = " SECRET_MARK
     "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
     "12345678901234567890123456789012345678\n",
     "@/credentials:3: [default] aws_secret_access_key is 135 characters long; at most 128 are "
     "allowed"},
};

static void test_malformed_files_name_file_and_line_never_the_secret(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        print_message("bad file %zu\n", i);
        write_private(f->credentials, bad_files[i].text);
        assert_int_equal(resolve(f, NULL), -EINVAL);
        assert_error(f, -EINVAL, bad_files[i].want);
    }
}

static void test_too_long_line_and_nul_byte(void **state)
{
    fixture *f = *state;
    static char text[TW_CREDENTIALS_LINE_MAX + 100];
    strcpy(text, "[default]\n# ");
    size_t n = strlen(text);
    memset(text + n, 'x', TW_CREDENTIALS_LINE_MAX - 2); /* line 2: exactly the limit */
    strcpy(text + n + TW_CREDENTIALS_LINE_MAX - 2, "\r\n");
    write_private(f->credentials, text);
    assert_int_equal(resolve(f, NULL), -ENOENT); /* fine (but no keys) */
    strcpy(text + n + TW_CREDENTIALS_LINE_MAX - 2, "x\n");
    write_private(f->credentials, text);
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/credentials:2: line is longer than 8192 bytes");

    static const char nul[] = "[default]\naws_secret_access_key = " SECRET_MARK "\0x\n";
    FILE *fp = fopen(f->credentials, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(nul, 1, sizeof nul - 1, fp), sizeof nul - 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/credentials:2: line has a NUL byte; not a text file?");
}

static void test_unreadable_credentials_path(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(f->credentials, 0700), 0);
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/credentials is not a regular file");
}

/* ---- what trailwatch does not do ------------------------------------------------- */

static void test_credential_process_is_refused(void **state)
{
    fixture *f = *state;
    write_private(f->config, "[profile ci]\n"
                             "region = eu-west-1\n"
                             "credential_process = /usr/bin/get-keys --json\n");
    env_set(f, "AWS_PROFILE", "ci");
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/config:3: profile ci uses credential_process, which trailwatch "
                             "does not run; put static keys (aws_access_key_id, "
                             "aws_secret_access_key) in @/credentials [ci], or in agent.conf "
                             "[endpoint]");
    /* static keys in the credentials file come first, for the AWS CLI too */
    write_private(f->credentials, "[ci]\naws_access_key_id = " KEY_CRED
                                  "\naws_secret_access_key = " SECRET_CRED "\n");
    assert_int_equal(resolve(f, NULL), 0);
    assert_keys(f, KEY_CRED, SECRET_CRED, "");
}

static void test_roles_and_sso_are_refused(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    /* the AWS CLI would assume the role rather than use the static keys */
    write_private(f->config, "[default]\n"
                             "region = eu-west-1\n"
                             "role_arn = arn:aws:iam::123456789012:role/x\n"
                             "source_profile = prod\n");
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_error(f, -EINVAL, "@/config:3: profile default uses role_arn, which trailwatch does "
                             "not support (it neither assumes roles nor signs in with SSO or web "
                             "identity); give the agent a profile with aws_access_key_id and "
                             "aws_secret_access_key, or set access_key_id and secret_access_key "
                             "in agent.conf [endpoint]");
    write_private(f->config, "[profile dev]\nsso_session = corp\n");
    env_set(f, "AWS_PROFILE", "dev");
    assert_int_equal(resolve(f, NULL), -EINVAL);
    assert_non_null(strstr(f->err.msg, "/config:2: profile dev uses sso_session, which "
                                       "trailwatch does not support"));
}

/* ---- permissions, rotation, wiping ------------------------------------------------ */

static void test_file_readable_by_others_warns(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    assert_int_equal(chmod(f->credentials, 0644), 0);
    assert_int_equal(resolve(f, NULL), 0); /* a warning, not a refusal */
    assert_keys(f, KEY_CRED, SECRET_CRED, TOKEN_CRED);
    char want[1200];
    snprintf(want, sizeof want,
             "%s holds AWS secrets but its permissions 0644 let others read or change it; run "
             "chmod 600 %s",
             f->credentials, f->credentials);
    assert_non_null(strstr(f->log, want));
}

/* Sets a file's times to a fixed moment long ago, as `cp -p`, `rsync -t` or
 * `touch -d` would: only the inode change time still tells a rewrite. */
static void age(const char *path)
{
    struct timespec times[2] = {{1577836800, 0}, {1577836800, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void resolve_settled(fixture *f)
{
    /* A file changed within the last two seconds counts as changed (the
     * file system's clock is coarse); wait that out once. */
    struct timespec wait = {2, 100000000};
    nanosleep(&wait, NULL);
    assert_int_equal(resolve(f, NULL), 0);
    assert_false(tw_credentials_changed(&f->c));
    assert_false(tw_credentials_changed(&f->c));
}

static void test_changed_after_rewrite_rename_create_and_remove(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    age(f->credentials);

    /* just written: might be rewritten unseen within the same clock tick */
    assert_int_equal(resolve(f, NULL), 0);
    assert_true(f->c.watch[0].racy);
    assert_true(tw_credentials_changed(&f->c));

    resolve_settled(f);
    /* rewritten in place, same size, time set back (cp -p, rsync -t) */
    write_private(f->credentials, "[default]\n"
                                  "aws_access_key_id = " KEY_PROD "\n"
                                  "aws_secret_access_key = " SECRET_PROD "\n"
                                  "aws_session_token = " TOKEN_CRED "\n"
                                  "\n"
                                  "[prod]\n"
                                  "aws_access_key_id = " KEY_CRED "\n"
                                  "aws_secret_access_key = " SECRET_CRED "\n");
    age(f->credentials);
    assert_true(tw_credentials_changed(&f->c));

    resolve_settled(f);
    assert_keys(f, KEY_PROD, SECRET_PROD, TOKEN_CRED);
    /* replaced by rename, as rotation tools do */
    char tmp[500];
    snprintf(tmp, sizeof tmp, "%s.new", f->credentials);
    write_private(tmp, "[default]\naws_access_key_id = " KEY_CFG
                       "\naws_secret_access_key = " SECRET_CFG "\n");
    assert_int_equal(rename(tmp, f->credentials), 0);
    assert_true(tw_credentials_changed(&f->c));

    resolve_settled(f);
    assert_keys(f, KEY_CFG, SECRET_CFG, "");
    /* the config file appearing could change the answer too */
    write_private(f->config, "[default]\nregion = eu-west-1\n");
    assert_true(tw_credentials_changed(&f->c));

    resolve_settled(f);
    assert_int_equal(unlink(f->credentials), 0);
    assert_true(tw_credentials_changed(&f->c));
}

static void test_wipe_clears_everything(void **state)
{
    fixture *f = *state;
    set_credentials(f);
    assert_int_equal(resolve(f, NULL), 0);
    tw_credentials_wipe(&f->c);
    static const tw_credentials zero;
    assert_memory_equal(&f->c, &zero, sizeof zero);
    assert_false(tw_credentials_changed(&f->c));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_endpoint_keys_win_over_environment_and_files),
        T(test_endpoint_half_set_keys_are_an_error),
        T(test_environment_wins_over_files),
        T(test_environment_legacy_names),
        T(test_environment_half_set_keys_are_an_error),
        T(test_environment_lone_session_token_is_ignored),
        T(test_explicit_profile_or_file_skips_environment),
        T(test_credentials_file_default_profile),
        T(test_profile_from_aws_profile_and_endpoint),
        T(test_credentials_file_location),
        T(test_config_file_uses_profile_prefix),
        T(test_config_file_profile_default_spelled_out),
        T(test_credentials_file_has_no_profile_prefix),
        T(test_credentials_file_wins_over_config_file),
        T(test_no_credentials_lists_every_place_tried),
        T(test_named_profile_missing_everywhere_is_an_error),
        T(test_half_set_keys_in_a_file),
        T(test_comments_blanks_whitespace_and_key_case),
        T(test_crlf_file),
        T(test_legacy_and_empty_session_token),
        T(test_long_session_token),
        T(test_malformed_files_name_file_and_line_never_the_secret),
        T(test_too_long_line_and_nul_byte),
        T(test_unreadable_credentials_path),
        T(test_credential_process_is_refused),
        T(test_roles_and_sso_are_refused),
        T(test_file_readable_by_others_warns),
        T(test_changed_after_rewrite_rename_create_and_remove),
        T(test_wipe_clears_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
