/* err.h — the error sentence that travels with a failure.
 *
 * Functions return 0 or a negative errno-style code. When the user will see
 * the failure, the callee also fills a tw_err with one sentence naming the
 * thing and what was expected ("agent.conf:14: [logs nginx] interval: ...").
 * A tw_err lives in the caller (usually on its stack); nothing is allocated.
 * Every function taking a tw_err * accepts NULL, meaning "I don't need the text".
 */
#ifndef TW_ERR_H
#define TW_ERR_H

#include <stddef.h>

#define TW_ERR_MAX 1024

typedef struct tw_err {
    char msg[TW_ERR_MAX];
} tw_err;

#if defined(__GNUC__)
#define TW_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TW_PRINTF(fmt, args)
#endif

/* Sets the message (truncated to TW_ERR_MAX - 1 bytes). Returns `code`, so a
 * failure path reads `return tw_err_set(err, -EINVAL, "...")`. */
int tw_err_set(tw_err *err, int code, const char *fmt, ...) TW_PRINTF(3, 4);

/* Puts "prefix: " in front of the current message (for adding the file name,
 * the section, the operation as an error travels up). */
void tw_err_prefix(tw_err *err, const char *fmt, ...) TW_PRINTF(2, 3);

void tw_err_clear(tw_err *err);

#endif
