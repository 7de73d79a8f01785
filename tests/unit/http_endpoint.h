/* http_endpoint.h — a small real HTTP/1.1 endpoint on 127.0.0.1 for unit
 * tests of code that sends (the agent's sender and outbox).
 *
 * A thread owns a listening socket on a free port and its connections
 * (keep-alive; several at once). It reads each request head and its
 * Content-Length body (no chunked bodies, no pipelining beyond what arrives
 * in order), records a copy, and answers as the rules say: 200 "{}", 400
 * with an AWS JSON error body, 500, no answer at all (the connection stays
 * open until the client leaves), or a close without an answer.
 *
 * Build it into a test with `tw_agent_test(test_x http_endpoint.c)`.
 * Every function may be called from any thread (one mutex inside); setup
 * failures fail the running cmocka test. The endpoint owns what it
 * records; copies are handed out. */
#ifndef TW_HTTP_ENDPOINT_H
#define TW_HTTP_ENDPOINT_H

#include <stddef.h>

typedef enum tw_test_answer {
    TW_TEST_ANSWER_200,   /* 200, body "{}" */
    TW_TEST_ANSWER_400,   /* 400, {"__type": code, "message": message} */
    TW_TEST_ANSWER_500,   /* 500, {"__type": "InternalFailure", ...} */
    TW_TEST_ANSWER_HANG,  /* no answer; later bytes on the connection are ignored */
    TW_TEST_ANSWER_CLOSE, /* the connection is closed without an answer */
} tw_test_answer;

/* A copy of one request as it arrived. */
typedef struct tw_test_request {
    char method[16];
    char path[256];
    char batch_id[64]; /* X-Trailwatch-Batch-Id, "" when absent */
    char target[128];  /* X-Amz-Target, "" when absent */
    char body[1024];   /* NUL-terminated, cut at 1023 bytes */
    size_t body_len;   /* the whole body's length */
    tw_test_answer answer;
} tw_test_request;

typedef struct tw_test_endpoint tw_test_endpoint;

/* Listens on 127.0.0.1, port chosen by the kernel, and starts serving with
 * every request answered 200. */
tw_test_endpoint *tw_test_endpoint_start(void);

/* "http://127.0.0.1:PORT" */
const char *tw_test_endpoint_url(const tw_test_endpoint *e);

/* How requests no rule matches are answered from now on. */
void tw_test_endpoint_default(tw_test_endpoint *e, tw_test_answer answer);

/* The next `times` requests whose body contains needle (NULL: any request)
 * are answered with answer; code and message fill a 400's error body (NULL:
 * "ValidationException" and a fixed sentence). Rules are tried in the
 * order they were added; a used-up rule matches nothing. */
void tw_test_endpoint_rule(tw_test_endpoint *e, const char *needle, unsigned times,
                           tw_test_answer answer, const char *code, const char *message);

/* How many requests arrived so far. */
size_t tw_test_endpoint_count(tw_test_endpoint *e);

/* How many of them carried this batch id. */
size_t tw_test_endpoint_count_batch(tw_test_endpoint *e, const char *batch_id);

/* Copies request i (in arrival order) into *out; fails the test when there
 * is no such request. */
void tw_test_endpoint_request(tw_test_endpoint *e, size_t i, tw_test_request *out);

/* Closes every connection and the listening socket, joins the thread and
 * frees e. NULL is fine. */
void tw_test_endpoint_stop(tw_test_endpoint *e);

#endif
