/* status.c — one JSON document per connection (see status.h). */
#include "status.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

struct tw_status {
    uv_pipe_t server;
    char *path;
    tw_status_describe_fn describe;
    void *ctx;
    int open_clients;
    bool closing;
    void (*closed)(void *ctx);
    void *closed_ctx;
};

typedef struct client {
    uv_pipe_t pipe;
    uv_write_t write;
    tw_status *status;
    char *text;
} client;

static void maybe_closed(tw_status *s);
static void server_closed(uv_handle_t *handle);

static void client_closed(uv_handle_t *handle)
{
    client *c = handle->data;
    tw_status *s = c->status;
    free(c->text);
    free(c);
    s->open_clients--;
    maybe_closed(s);
}

static void written(uv_write_t *req, int status)
{
    (void)status; /* a client that went away early is no concern */
    client *c = req->data;
    uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    tw_status *s = server->data;
    if (status < 0)
        return;
    client *c = tw_calloc(1, sizeof *c);
    c->status = s;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    s->open_clients++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        uv_close((uv_handle_t *)&c->pipe, client_closed);
        return;
    }
    json_t *doc = json_object();
    s->describe(s->ctx, doc);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    size_t len = strlen(text);
    c->text = tw_malloc(len + 2);
    memcpy(c->text, text, len);
    c->text[len] = '\n';
    c->text[len + 1] = '\0';
    free(text);
    uv_buf_t buf = uv_buf_init(c->text, (unsigned)len + 1);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &buf, 1, written) != 0)
        uv_close((uv_handle_t *)&c->pipe, client_closed);
}

int tw_status_start(uv_loop_t *loop, const char *path, tw_status_describe_fn describe,
                    void *ctx, tw_status **out, tw_err *err)
{
    tw_status *s = tw_calloc(1, sizeof *s);
    s->path = tw_strdup(path);
    s->describe = describe;
    s->ctx = ctx;
    uv_pipe_init(loop, &s->server, 0);
    s->server.data = s;
    /* The state directory is locked by this agent: a socket file there is a
     * leftover of a run that died without cleaning up. */
    unlink(path);
    int rc = uv_pipe_bind(&s->server, path);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->server, 8, on_connection);
    if (rc != 0) {
        tw_err_set(err, rc, "status socket %s: %s", path, uv_strerror(rc));
        free(s->path);
        s->path = NULL;
        /* s goes when the loop has closed the handle. */
        s->closing = true;
        uv_close((uv_handle_t *)&s->server, server_closed);
        return rc;
    }
    *out = s;
    return 0;
}

static void server_closed(uv_handle_t *handle)
{
    tw_status *s = handle->data;
    s->server.data = NULL;
    maybe_closed(s);
}

static void maybe_closed(tw_status *s)
{
    if (!s->closing || s->open_clients > 0 || s->server.data != NULL)
        return;
    void (*closed)(void *) = s->closed;
    void *ctx = s->closed_ctx;
    if (s->path)
        unlink(s->path);
    free(s->path);
    free(s);
    if (closed)
        closed(ctx);
}

void tw_status_close(tw_status *s, void (*closed)(void *ctx), void *ctx)
{
    s->closing = true;
    s->closed = closed;
    s->closed_ctx = ctx;
    uv_close((uv_handle_t *)&s->server, server_closed);
}
