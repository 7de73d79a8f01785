/* test_outbox.c — one destination's way out (agent/outbox.c): a real
 * tw_outbox over a real spool, sending through a real tw_sender (libcurl on
 * the test's uv loop) to a real HTTP endpoint on 127.0.0.1 (http_endpoint.c)
 * that answers each request as the test tells it. Checks that every push is
 * delivered once and acknowledged, in order, also when pushed in bursts or
 * from the outbox's own callbacks while a disk job runs; what a close and a
 * restart keep; rejections, resends and before_ack. A temporary directory
 * per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_endpoint.h"
#include "outbox.h"
#include "sender.h"
#include "spool.h"
#include "testutil.h"
#include "timefmt.h"

#define MAX_PUSHES 256
#define WAIT_MS 15000

typedef struct result {
    char batch_id[TW_BATCH_ID_SIZE];
    tw_send_status status;
    long http_status;
    char code[128], message[512];
    unsigned attempts;
} result;

typedef struct fixture {
    char root[256], dir[300];
    uv_loop_t loop;
    uv_timer_t tick; /* wakes the loop to look at the endpoint thread's work */
    pthread_t loop_thread;
    tw_test_endpoint *endpoint;
    tw_endpoint_config endpoint_config;
    tw_sender *sender;
    tw_outbox *outbox;
    unsigned max_in_flight;
    /* every push, in push order */
    char pushed[MAX_PUSHES][TW_BATCH_ID_SIZE];
    size_t n_pushed;
    result results[MAX_PUSHES];
    size_t n_results;
    char recovered[MAX_PUSHES][TW_BATCH_ID_SIZE];
    size_t n_recovered;
    unsigned progress_calls;
    size_t want_requests; /* for wait_for_requests */
    /* pairs of pushes the callbacks still make */
    unsigned progress_pushes, result_pushes;
    const char *resend_code; /* on_result asks once per batch to resend this error */
    /* before_ack, on a worker thread */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned before_ack_calls;
    bool before_ack_on_loop;
    bool gate_closed, gate_waiting;
} fixture;

/* ---- fixture -------------------------------------------------------------- */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || tw_test_mkdtemp(f->root, sizeof f->root, "outbox") != 0)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/spool", f->root);
    if (uv_loop_init(&f->loop) != 0)
        return -1;
    uv_timer_init(&f->loop, &f->tick);
    f->loop_thread = pthread_self();
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->endpoint = tw_test_endpoint_start();
    f->endpoint_config = (tw_endpoint_config){
        .url = tw_test_endpoint_url(f->endpoint),
        .region = "us-east-1",
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .timeout_ms = WAIT_MS,
    };
    f->max_in_flight = 4;
    *state = f;
    return 0;
}

static void tick(uv_timer_t *timer)
{
    (void)timer;
}

/* Runs the loop until done(f) holds; false when WAIT_MS passed first. */
static bool run_until(fixture *f, bool (*done)(fixture *f))
{
    int64_t deadline = tw_time_now_ms() + WAIT_MS;
    uv_timer_start(&f->tick, tick, 2, 2);
    bool ok;
    while (!(ok = done(f)) && tw_time_now_ms() < deadline)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->tick);
    if (!ok && f->outbox) {
        tw_outbox_stats s;
        tw_outbox_stats_get(f->outbox, &s);
        print_error("timed out: pushed %" PRIu64 ", queued %u, in flight %u, acked %" PRIu64
                    ", spool pending %" PRIu64 ", endpoint saw %zu requests\n",
                    s.pushed, s.queued, s.in_flight, s.acked, s.spool.pending_records,
                    tw_test_endpoint_count(f->endpoint));
    }
    return ok;
}

static void outbox_closed(void *ctx)
{
    ((fixture *)ctx)->outbox = NULL;
}

static void sender_closed(void *ctx)
{
    ((fixture *)ctx)->sender = NULL;
}

static bool both_closed(fixture *f)
{
    return !f->outbox && !f->sender;
}

/* The agent's order: the outbox stops reading, the sender's cancellations
 * then leave what was in flight in the spool. */
static void close_all(fixture *f)
{
    if (f->outbox)
        tw_outbox_close(f->outbox, outbox_closed, f);
    if (f->sender)
        tw_sender_close(f->sender, sender_closed, f);
    assert_true(run_until(f, both_closed));
}

static void open_gate(fixture *f);

static int teardown(void **state)
{
    fixture *f = *state;
    open_gate(f);
    close_all(f);
    tw_test_endpoint_stop(f->endpoint);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&f->loop);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    if (tw_test_rm_rf(f->root) != 0)
        rc = -1;
    free(f);
    return rc;
}

/* ---- the outbox's callbacks ------------------------------------------------ */

static void push(fixture *f, const char *text);

static tw_outbox_verdict on_result(void *ctx, const tw_request *req, const tw_send_result *r)
{
    fixture *f = ctx;
    assert_true(f->n_results < MAX_PUSHES);
    result *out = &f->results[f->n_results++];
    memcpy(out->batch_id, req->batch_id, sizeof out->batch_id);
    out->status = r->status;
    out->http_status = r->http_status;
    snprintf(out->code, sizeof out->code, "%s", r->code);
    snprintf(out->message, sizeof out->message, "%s", r->message);
    out->attempts = r->attempts;
    if (f->result_pushes > 0) {
        f->result_pushes--;
        push(f, "from on_result");
        push(f, "from on_result");
    }
    if (f->resend_code && strcmp(r->code, f->resend_code) == 0) {
        size_t seen = 0;
        for (size_t i = 0; i < f->n_results; i++)
            seen += strcmp(f->results[i].batch_id, req->batch_id) == 0;
        if (seen == 1)
            return TW_OUTBOX_RESEND; /* as a log output does once it made the stream */
    }
    return TW_OUTBOX_DONE;
}

static void on_progress(void *ctx)
{
    fixture *f = ctx;
    f->progress_calls++;
    if (f->progress_pushes > 0) {
        f->progress_pushes--;
        /* The first starts a disk job; the second waits for the next one. */
        push(f, "from on_progress");
        push(f, "from on_progress");
    }
}

static void on_recovered(void *ctx, const tw_request *req)
{
    fixture *f = ctx;
    assert_true(f->n_recovered < MAX_PUSHES);
    memcpy(f->recovered[f->n_recovered++], req->batch_id, TW_BATCH_ID_SIZE);
}

/* With the gate closed, waits until the test opened it: the test looks at
 * the spool while the disk job is held just before its acks. */
static void before_ack(void *ctx)
{
    fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (pthread_equal(pthread_self(), f->loop_thread))
        f->before_ack_on_loop = true;
    f->before_ack_calls++;
    f->gate_waiting = true;
    pthread_cond_broadcast(&f->cond);
    while (f->gate_closed)
        pthread_cond_wait(&f->cond, &f->lock);
    f->gate_waiting = false;
    pthread_mutex_unlock(&f->lock);
}

static void open_gate(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    f->gate_closed = false;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static bool gate_waiting(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    bool waiting = f->gate_waiting;
    pthread_mutex_unlock(&f->lock);
    return waiting;
}

/* ---- helpers ---------------------------------------------------------------- */

static void open_outbox(fixture *f)
{
    tw_sender_options so = {
        .endpoint = &f->endpoint_config, .backoff_base_ms = 20, .backoff_cap_ms = 100};
    tw_err err = {""};
    int rc = tw_sender_new(&f->loop, &so, &f->sender, &err);
    if (rc != 0)
        fail_msg("tw_sender_new: %s", err.msg);
    tw_outbox_options oo = {
        .name = "test",
        .dir = f->dir,
        .spool = {.fsync = TW_SPOOL_FSYNC_NEVER},
        .max_in_flight = f->max_in_flight,
        .on_result = on_result,
        .on_recovered = on_recovered,
        .before_ack = before_ack,
        .on_progress = on_progress,
        .ctx = f,
    };
    rc = tw_outbox_open(&f->loop, f->sender, &oo, &f->outbox, &err);
    if (rc != 0)
        fail_msg("tw_outbox_open: %s", err.msg);
}

/* Pushes a request whose body names its push number and text. */
static void push(fixture *f, const char *text)
{
    assert_true(f->n_pushed < MAX_PUSHES);
    char label[64], body[256];
    snprintf(label, sizeof label, "test batch %zu", f->n_pushed);
    int n = snprintf(body, sizeof body, "{\"push\":%zu,\"text\":\"%s\"}", f->n_pushed, text);
    tw_request *req = tw_request_new("logs", "/", "application/x-amz-json-1.1",
                                     "Logs_20140328.PutLogEvents", label);
    tw_request_set_body(req, body, (size_t)n);
    memcpy(f->pushed[f->n_pushed++], req->batch_id, TW_BATCH_ID_SIZE);
    tw_outbox_push(f->outbox, req);
}

static tw_outbox_stats stats_of(const fixture *f)
{
    tw_outbox_stats s;
    tw_outbox_stats_get(f->outbox, &s);
    return s;
}

/* Everything pushed is acknowledged in the spool, and the callbacks have no
 * pushes left to make. */
static bool delivered(fixture *f)
{
    tw_outbox_stats s = stats_of(f);
    return tw_outbox_idle(f->outbox) && s.queued == 0 && s.spool.pending_records == 0 &&
           f->progress_pushes == 0 && f->result_pushes == 0;
}

static bool endpoint_has_all(fixture *f)
{
    return tw_test_endpoint_count(f->endpoint) >= f->want_requests;
}

/* Runs until the endpoint saw n requests in all. */
static void wait_for_requests(fixture *f, size_t n)
{
    f->want_requests = n;
    assert_true(run_until(f, endpoint_has_all));
}

static size_t results_for(const fixture *f, const char *batch_id, const result **last)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_results; i++)
        if (strcmp(f->results[i].batch_id, batch_id) == 0) {
            n++;
            *last = &f->results[i];
        }
    return n;
}

static void assert_each_pushed_sent(fixture *f, size_t from, size_t to, size_t times)
{
    for (size_t i = from; i < to; i++)
        if (tw_test_endpoint_count_batch(f->endpoint, f->pushed[i]) != times)
            fail_msg("push %zu (%s) reached the endpoint %zu times, expected %zu", i,
                     f->pushed[i], tw_test_endpoint_count_batch(f->endpoint, f->pushed[i]),
                     times);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_fifty_pushes_in_one_loop_turn_are_each_delivered_once(void **state)
{
    fixture *f = *state;
    open_outbox(f);
    /* No loop iteration in between: the first push starts a disk job, the
     * other 49 arrive while it runs (and finds the spool exhausted). */
    for (int i = 0; i < 50; i++)
        push(f, "burst");
    assert_true(run_until(f, delivered));

    assert_int_equal(tw_test_endpoint_count(f->endpoint), 50);
    assert_each_pushed_sent(f, 0, 50, 1);
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.pushed, 50);
    assert_int_equal(s.acked, 50);
    assert_int_equal(s.rejected + s.expired + s.resent + s.push_failures, 0);
    assert_int_equal(s.in_flight, 0);
    assert_int_equal(s.spool.appended_records, 50);
    assert_int_equal(s.spool.acked_records, 50);
    assert_int_equal(s.spool.pending_records, 0);
    assert_int_equal(f->n_results, 50);
    for (size_t i = 0; i < f->n_results; i++)
        assert_int_equal(f->results[i].status, TW_SEND_ACKED);
    /* Acks came in some disk jobs, never in the first (appends and reads). */
    assert_true(f->before_ack_calls >= 1);
    assert_true(f->before_ack_calls < f->progress_calls);
    assert_false(f->before_ack_on_loop);
}

static void test_pushes_from_callbacks_during_disk_jobs_arrive_in_push_order(void **state)
{
    fixture *f = *state;
    f->max_in_flight = 1; /* one at a time: the endpoint sees the spool's order */
    f->progress_pushes = 10;
    f->result_pushes = 10;
    open_outbox(f);
    for (int i = 0; i < 5; i++)
        push(f, "seed");
    assert_true(run_until(f, delivered));

    assert_int_equal(f->n_pushed, 5 + 2 * 10 + 2 * 10);
    assert_int_equal(tw_test_endpoint_count(f->endpoint), f->n_pushed);
    for (size_t i = 0; i < f->n_pushed; i++) {
        tw_test_request r;
        tw_test_endpoint_request(f->endpoint, i, &r);
        if (strcmp(r.batch_id, f->pushed[i]) != 0)
            fail_msg("request %zu carried batch %s, push %zu was %s (body %s)", i, r.batch_id,
                     i, f->pushed[i], r.body);
    }
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.acked, f->n_pushed);
    assert_int_equal(s.spool.acked_records, f->n_pushed);
}

static void test_queued_counts_pushes_not_yet_in_the_spool(void **state)
{
    fixture *f = *state;
    open_outbox(f);
    for (int i = 0; i < 10; i++)
        push(f, "queued");
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.pushed, 10);
    assert_int_equal(s.queued, 10); /* one at the running disk job, nine waiting */
    assert_int_equal(s.in_flight, 0);
    assert_false(tw_outbox_idle(f->outbox));
    assert_true(run_until(f, delivered));
    s = stats_of(f);
    assert_int_equal(s.queued, 0);
    assert_int_equal(s.spool.appended_records, 10);
    assert_int_equal(s.acked, 10);
}

static void test_before_ack_runs_on_a_worker_before_acks_and_only_with_acks(void **state)
{
    fixture *f = *state;
    f->gate_closed = true;
    open_outbox(f);
    push(f, "gated");
    assert_true(run_until(f, gate_waiting));
    /* Held inside before_ack: the endpoint accepted the batch, the outbox
     * counted it, but the spool has not acknowledged it yet. */
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.acked, 1);
    assert_int_equal(s.spool.pending_records, 1);
    assert_int_equal(s.spool.acked_records, 0);
    assert_int_equal(f->before_ack_calls, 1);
    assert_true(f->progress_calls >= 1); /* the append-and-read job: no acks, no call */
    open_gate(f);
    assert_true(run_until(f, delivered));
    s = stats_of(f);
    assert_int_equal(s.spool.acked_records, 1);
    assert_int_equal(f->before_ack_calls, 1);
    assert_true(f->progress_calls >= 2);
    assert_false(f->before_ack_on_loop);
}

static void test_a_rejected_batch_is_reported_once_and_acknowledged(void **state)
{
    fixture *f = *state;
    const char *message = "Log events in a single PutLogEvents request must be in "
                          "chronological order.";
    tw_test_endpoint_rule(f->endpoint, "refused", 1000, TW_TEST_ANSWER_400,
                          "InvalidParameterException", message);
    open_outbox(f);
    push(f, "ok before");
    push(f, "refused");
    push(f, "ok after");
    assert_true(run_until(f, delivered));

    assert_each_pushed_sent(f, 0, 3, 1);
    const result *r = NULL;
    assert_int_equal(results_for(f, f->pushed[1], &r), 1);
    assert_int_equal(r->status, TW_SEND_REJECTED);
    assert_int_equal(r->http_status, 400);
    assert_string_equal(r->code, "InvalidParameterException");
    assert_string_equal(r->message, message);
    assert_int_equal(r->attempts, 1);
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.rejected, 1);
    assert_int_equal(s.acked, 2);
    assert_int_equal(s.resent, 0);
    assert_int_equal(s.spool.acked_records, 3);
}

static void test_resend_verdict_sends_the_same_batch_id_again(void **state)
{
    fixture *f = *state;
    tw_test_endpoint_rule(f->endpoint, "no stream yet", 1, TW_TEST_ANSWER_400,
                          "ResourceNotFoundException", "The specified log stream does not exist.");
    f->resend_code = "ResourceNotFoundException";
    open_outbox(f);
    push(f, "no stream yet");
    assert_true(run_until(f, delivered));

    assert_int_equal(tw_test_endpoint_count(f->endpoint), 2);
    tw_test_request first, second;
    tw_test_endpoint_request(f->endpoint, 0, &first);
    tw_test_endpoint_request(f->endpoint, 1, &second);
    assert_string_equal(first.batch_id, f->pushed[0]);
    assert_string_equal(second.batch_id, f->pushed[0]);
    assert_string_equal(second.body, first.body);
    assert_int_equal(first.answer, TW_TEST_ANSWER_400);
    assert_int_equal(second.answer, TW_TEST_ANSWER_200);
    assert_int_equal(f->n_results, 2);
    assert_int_equal(f->results[0].status, TW_SEND_REJECTED);
    assert_int_equal(f->results[1].status, TW_SEND_ACKED);
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.resent, 1);
    assert_int_equal(s.acked, 1);
    assert_int_equal(s.rejected, 0);
    assert_int_equal(s.spool.acked_records, 1);
}

static void test_server_errors_and_dropped_connections_are_retried_until_acked(void **state)
{
    fixture *f = *state;
    /* One at a time, flaky first: its first attempt is on a fresh connection,
     * which curl does not retry by itself. */
    f->max_in_flight = 1;
    tw_test_endpoint_rule(f->endpoint, "flaky", 1, TW_TEST_ANSWER_CLOSE, NULL, NULL);
    tw_test_endpoint_rule(f->endpoint, "flaky", 1, TW_TEST_ANSWER_500, NULL, NULL);
    open_outbox(f);
    push(f, "flaky");
    push(f, "steady");
    assert_true(run_until(f, delivered));

    assert_each_pushed_sent(f, 0, 1, 3);
    assert_each_pushed_sent(f, 1, 2, 1);
    const result *r = NULL;
    assert_int_equal(results_for(f, f->pushed[0], &r), 1);
    assert_int_equal(r->status, TW_SEND_ACKED);
    assert_int_equal(r->attempts, 3);
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.acked, 2);
    assert_int_equal(s.expired + s.rejected, 0);
}

/* Leaves `hung` records in flight at a hanging endpoint after `acked`
 * delivered ones, then closes sender and outbox. */
static void close_with_requests_in_flight(fixture *f, size_t acked, size_t hung)
{
    open_outbox(f);
    for (size_t i = 0; i < acked; i++)
        push(f, "early");
    assert_true(run_until(f, delivered));
    tw_test_endpoint_default(f->endpoint, TW_TEST_ANSWER_HANG);
    for (size_t i = 0; i < hung; i++)
        push(f, "hung");
    wait_for_requests(f, acked + hung);
    close_all(f);
}

static void test_close_with_requests_in_flight_leaves_them_in_the_spool(void **state)
{
    fixture *f = *state;
    close_with_requests_in_flight(f, 0, 3);
    assert_int_equal(f->n_results, 0); /* cancellations are no outcome */

    /* Pushes right before a close are spooled before closed() runs. */
    open_outbox(f);
    push(f, "just before close");
    push(f, "just before close");
    close_all(f);

    tw_spool_options so = {.fsync = TW_SPOOL_FSYNC_NEVER};
    tw_spool *spool = NULL;
    tw_spool_recovery rec = {0};
    tw_err err = {""};
    assert_int_equal(tw_spool_open(f->dir, &so, &spool, &rec, &err), 0);
    tw_buf_free(&rec.messages);
    assert_int_equal(rec.pending, 5);
    tw_spool_cursor cursor = TW_SPOOL_CURSOR_INIT;
    tw_buf payload = TW_BUF_INIT;
    uint64_t id;
    for (size_t i = 0; i < 5; i++) {
        tw_request *req = NULL;
        assert_int_equal(tw_spool_read(spool, &cursor, &id, &payload, &err), 0);
        assert_int_equal(tw_request_decode(payload.data, payload.len, &req, &err), 0);
        assert_string_equal(req->batch_id, f->pushed[i]);
        tw_request_free(req);
    }
    assert_int_equal(tw_spool_read(spool, &cursor, &id, &payload, &err), -ENOENT);
    tw_buf_free(&payload);
    tw_spool_close(spool);
}

static void test_reopen_recovers_exactly_the_pending_records(void **state)
{
    fixture *f = *state;
    close_with_requests_in_flight(f, 3, 4);
    assert_int_equal(f->n_recovered, 0);

    tw_test_endpoint_default(f->endpoint, TW_TEST_ANSWER_200);
    open_outbox(f);
    /* Oldest first, and not the three the endpoint accepted before. */
    assert_int_equal(f->n_recovered, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(f->recovered[i], f->pushed[3 + i]);
    assert_true(run_until(f, delivered));
    assert_each_pushed_sent(f, 0, 3, 1);
    assert_each_pushed_sent(f, 3, 7, 2); /* hung once, then delivered */
    tw_outbox_stats s = stats_of(f);
    assert_int_equal(s.acked, 4);
    assert_int_equal(s.spool.acked_records, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fifty_pushes_in_one_loop_turn_are_each_delivered_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_pushes_from_callbacks_during_disk_jobs_arrive_in_push_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_counts_pushes_not_yet_in_the_spool, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_before_ack_runs_on_a_worker_before_acks_and_only_with_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_rejected_batch_is_reported_once_and_acknowledged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_verdict_sends_the_same_batch_id_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_server_errors_and_dropped_connections_are_retried_until_acked, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_close_with_requests_in_flight_leaves_them_in_the_spool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_recovers_exactly_the_pending_records, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
