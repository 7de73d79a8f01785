/* fuzz_filter_pattern.c — libFuzzer target for the CloudWatch Logs filter
 * pattern language (collector/logs/filter_pattern.h).
 *
 * Input: the pattern, a NUL byte, the message (which may hold more NULs).
 * Without a NUL the whole input is the pattern, matched against a JSON
 * document, a common-log-format line and the input itself. Each message is
 * copied into a buffer of exactly its length so an over-read trips ASan.
 *
 * Beyond "no crash, no leak, no sanitizer report", it aborts when a failed
 * compile leaves no "Invalid ..." sentence, and when a pattern that is one
 * plain word disagrees with a substring search. The pattern is compiled from
 * a heap copy freed before matching, so a borrowed pointer trips ASan.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "filter_pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char json_message[] =
    "{\"eventType\":\"UpdateTrail\",\"a\":{\"b\":[1,2.5,\"x*y\",true,null,{\"c\":\"d\"}]},"
    "\"n\":-1e3,\"key with space\":\"v\",\"big\":123456789012345678901234567890}";
static const char clf_message[] =
    "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534";

static bool is_plain_word(const char *s, size_t len)
{
    if (len == 0 || s[0] == '-' || s[0] == '?')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static void match_copy(const tw_filter_pattern *pattern, const char *pattern_text,
                       size_t pattern_len, const void *message, size_t len)
{
    char *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return;
    if (len > 0)
        memcpy(copy, message, len);
    bool matched = tw_filter_pattern_match(pattern, copy, len);
    if (is_plain_word(pattern_text, pattern_len) &&
        matched != (memmem(copy, len, pattern_text, pattern_len) != NULL))
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *input = (const char *)data;
    const char *separator = memchr(input, '\0', size);
    size_t pattern_len = separator != NULL ? (size_t)(separator - input) : size;
    tw_err err;
    err.msg[0] = '\0';
    tw_filter_pattern *pattern = NULL;
    /* Compiled from a copy freed right after: a pattern must not keep
     * pointers into the caller's text. */
    char *text = malloc(pattern_len > 0 ? pattern_len : 1);
    if (text == NULL)
        return 0;
    memcpy(text, input, pattern_len);
    int rc = tw_filter_pattern_compile(text, pattern_len, &pattern, &err);
    free(text);
    if (rc != 0) {
        if (rc != -EINVAL || strncmp(err.msg, "Invalid ", 8) != 0 || pattern != NULL)
            abort();
        return 0;
    }
    if (separator != NULL) {
        match_copy(pattern, input, pattern_len, separator + 1, size - pattern_len - 1);
    } else {
        match_copy(pattern, input, pattern_len, json_message, sizeof json_message - 1);
        match_copy(pattern, input, pattern_len, clf_message, sizeof clf_message - 1);
        match_copy(pattern, input, pattern_len, input, size);
    }
    tw_filter_pattern_free(pattern);
    return 0;
}
