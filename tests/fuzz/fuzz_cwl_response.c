/* fuzz_cwl_response.c — libFuzzer target for the reading of CloudWatch Logs
 * answers (plugins/out_cloudwatch_logs/cwl_requests.c). The input is an
 * answer: HTTP status, event count, then the error code, the message and
 * the body, separated by NUL bytes. Whatever the bytes, the verdict must be
 * one of the outcomes, its code a NUL-terminated string, and its counts
 * within the batch (each of too old, expired, too new at most n_events;
 * rejected at least each of them and at most n_events); only a 2xx answer
 * or DataAlreadyAcceptedException is delivered. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwl_requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The next NUL-terminated piece (copied, so it is a C string), or NULL
 * when there is none left. */
static char *next_piece(const uint8_t **p, size_t *left)
{
    if (*left == 0)
        return NULL;
    const uint8_t *end = memchr(*p, 0, *left);
    size_t n = end ? (size_t)(end - *p) : *left;
    char *s = malloc(n + 1);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n + (end ? 1 : 0);
    *left -= n + (end ? 1 : 0);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    long status = (long)(data[0] << 8 | data[1]) % 700;
    size_t n_events = (size_t)(data[2] << 8 | data[3]) % 10001;
    const uint8_t *p = data + 4;
    size_t left = size - 4;
    char *code = next_piece(&p, &left);
    char *message = next_piece(&p, &left);
    tw_cwl_verdict v;
    /* The body: the rest, raw (not NUL-terminated). */
    uint8_t *body = malloc(left ? left : 1);
    memcpy(body, p, left);
    tw_cwl_classify_response(status, code, message, left ? body : NULL, left, n_events, &v);

    CHECK(v.outcome >= TW_CWL_DELIVERED && v.outcome <= TW_CWL_CANCELLED);
    CHECK(v.outcome != TW_CWL_GAVE_UP && v.outcome != TW_CWL_CANCELLED);
    CHECK(memchr(v.code, 0, sizeof v.code) != NULL);
    CHECK(v.too_old <= n_events && v.expired <= n_events && v.too_new <= n_events);
    CHECK(v.rejected <= n_events);
    CHECK(v.rejected >= v.too_old && v.rejected >= v.expired && v.rejected >= v.too_new);
    bool ok = status >= 200 && status < 300;
    if (v.outcome == TW_CWL_DELIVERED)
        CHECK(ok || strcmp(v.code, "DataAlreadyAcceptedException") == 0);
    if (!ok)
        CHECK(v.rejected == 0);
    CHECK(strlen(tw_cwl_outcome_name(v.outcome)) > 0);

    /* The same answer through a send result. */
    tw_buf response = {(char *)body, left, left};
    tw_send_result r = {.status = ok ? TW_SEND_ACKED : TW_SEND_REJECTED, .http_status = status,
                        .response = left ? &response : NULL};
    snprintf(r.code, sizeof r.code, "%s", code ? code : "");
    snprintf(r.message, sizeof r.message, "%s", message ? message : "");
    tw_cwl_verdict w;
    tw_cwl_classify(&r, n_events, &w);
    CHECK(w.outcome >= TW_CWL_DELIVERED && w.outcome <= TW_CWL_CANCELLED);
    CHECK(w.rejected <= n_events);

    free(code);
    free(message);
    free(body);
    return 0;
}
