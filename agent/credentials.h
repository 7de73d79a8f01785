/* credentials.h — where the agent's AWS credentials come from.
 *
 * The agent signs its requests (SigV4) with one access key id, secret and
 * optional session token, found the way the AWS CLI and SDKs find them
 * (botocore's default chain without the providers that need the cloud or run
 * programs), first match wins:
 *
 *   1. agent.conf [endpoint] access_key_id + secret_access_key (+ session_token);
 *   2. the environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *      (+ AWS_SESSION_TOKEN); the legacy AWS_ACCESS_KEY, AWS_SECRET_KEY and
 *      AWS_SECURITY_TOKEN when the modern names are unset. Skipped when
 *      [endpoint] sets profile or credentials_file: like `aws --profile`, an
 *      explicit choice in the config beats whatever the service's
 *      environment happens to hold;
 *   3. the shared credentials file ([endpoint] credentials_file, else
 *      AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), section [NAME];
 *   4. the shared config file (AWS_CONFIG_FILE, else ~/.aws/config), section
 *      [profile NAME] (or [default] for the default profile);
 *   where NAME is [endpoint] profile, else AWS_PROFILE, else
 *   AWS_DEFAULT_PROFILE, else "default".
 *
 * The files are read as the AWS CLI reads them (Python configparser, strict):
 * "key = value" or "key: value", keys in any case, full-line comments with
 * # or ;, indented lines continue the previous value, a section or key given
 * twice is an error. A profile that uses role_arn, SSO or web identity, or has
 * only credential_process, is refused with a sentence saying so: trailwatch
 * neither assumes roles nor runs programs to get keys. See docs/credentials.md.
 *
 * Secrets never appear in a tw_err or in the log; a file holding the keys that
 * others may read gets a warning (tw_warn), as ssh gives for private keys.
 *
 * Ownership: tw_credentials is a plain value the caller owns (it is large,
 * ~13 KiB: keep it in a heap object rather than on a small stack); nothing
 * inside points elsewhere. Wipe it with tw_credentials_wipe when done.
 * Threads: every function is reentrant (no shared state); resolve does small
 * blocking reads of local files, changed() one stat(2) per watched file.
 */
#ifndef TW_AGENT_CREDENTIALS_H
#define TW_AGENT_CREDENTIALS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define TW_CREDENTIALS_KEY_ID_MAX 128
#define TW_CREDENTIALS_SECRET_MAX 128
#define TW_CREDENTIALS_TOKEN_MAX 4096
#define TW_CREDENTIALS_SOURCE_MAX 512
/* The longest line accepted in the AWS files: room for a session token. */
#define TW_CREDENTIALS_LINE_MAX 8192
/* Larger files are refused: no real credentials or config file comes near. */
#define TW_CREDENTIALS_FILE_MAX (1024 * 1024)

/* What a shared file looked like when it was read, to notice rotation. */
typedef struct tw_credentials_watch {
    char path[PATH_MAX];
    bool exists;
    /* The file was written too recently (within the timestamp granularity of
     * some file systems) for its stat to prove a later write would show. */
    bool racy;
    uint64_t dev, ino;
    int64_t size;
    int64_t mtime_ns, ctime_ns;
} tw_credentials_watch;

typedef struct tw_credentials {
    char access_key_id[TW_CREDENTIALS_KEY_ID_MAX + 1];
    char secret_access_key[TW_CREDENTIALS_SECRET_MAX + 1];
    char session_token[TW_CREDENTIALS_TOKEN_MAX + 1]; /* "" when none */
    /* For the log: "agent.conf [endpoint]", "environment",
     * "environment (AWS_ACCESS_KEY, AWS_SECRET_KEY)",
     * "/root/.aws/credentials [prod]", "/root/.aws/config [profile prod]". */
    char source[TW_CREDENTIALS_SOURCE_MAX];
    /* The shared files consulted (credentials file, config file), set both on
     * success and on failure so a caller waiting for credentials can retry
     * when one changes. Empty when the keys came from agent.conf or the
     * environment, which cannot change under a running process. */
    tw_credentials_watch watch[2];
    unsigned n_watch;
} tw_credentials;

/* A getenv-like lookup: returns the variable's value or NULL. The string only
 * needs to live until the next call. */
typedef const char *(*tw_credentials_env_fn)(const char *name, void *ctx);

/* Finds the credentials for endpoint (NULL = an empty [endpoint]), reading
 * variables through env(name, env_ctx) (env NULL = getenv) and $HOME for
 * "~/.aws/..." (from env, else the password database).
 *
 * Returns 0 with *out filled, or a negative errno with out's keys empty (its
 * watch list still filled) and err holding one sentence:
 *   -ENOENT  no credentials anywhere; err lists every place tried, e.g.
 *            "no AWS credentials: none in agent.conf [endpoint],
 *            AWS_ACCESS_KEY_ID is not set, /home/x/.aws/credentials has no
 *            [default] profile, /home/x/.aws/config does not exist"
 *   -ENOENT  a profile named by [endpoint] or AWS_PROFILE is in neither file
 *   -EINVAL  half-set keys (naming where), a malformed file ("path:line: ..."),
 *            a value too long or with characters no key has, an unsupported
 *            profile (role_arn, SSO, credential_process)
 *   -errno   a file that exists but cannot be read (EACCES, EISDIR, ...)
 * *out is overwritten from the start, even on failure: to keep signing with
 * the old keys while new ones fail, resolve into a second value and swap.
 * Never logs or puts a secret into err. */
int tw_credentials_resolve(const tw_endpoint_config *endpoint, tw_credentials_env_fn env,
                           void *env_ctx, tw_credentials *out, tw_err *err);

/* Whether a watched file changed since resolve (created, removed, replaced,
 * rewritten): the sender calls it before signing and re-resolves when true.
 * May also return true when nothing changed (a file written in the last two
 * seconds, or one that cannot be stat'ed): re-resolving is then harmless.
 * False when the credentials came from agent.conf or the environment. */
bool tw_credentials_changed(const tw_credentials *c);

/* Overwrites the keys (explicit_bzero) and empties the whole value. */
void tw_credentials_wipe(tw_credentials *c);

#endif
