/* status.h — the agent's local status socket, read by `trailwatch status`.
 *
 * A unix stream socket in the state directory (state_dir/status.sock; the
 * directory is private to the agent's user, so the socket is too). Each
 * connection gets one JSON document — what the describe callback puts in
 * it — and is closed; nothing is read from the client, so there is no
 * request to parse and nothing to fuzz.
 *
 * Loop thread only. The server owns its handles; tw_status_close releases
 * them (asynchronously, then closed(ctx)).
 */
#ifndef TW_STATUS_H
#define TW_STATUS_H

#include <jansson.h>
#include <uv.h>

#include "err.h"

#define TW_STATUS_SOCKET_NAME "status.sock"

typedef struct tw_status tw_status;

/* Fills obj (an empty object) with the agent's state. */
typedef void (*tw_status_describe_fn)(void *ctx, json_t *obj);

/* Listens on path (a stale socket file from a crashed run is replaced). */
int tw_status_start(uv_loop_t *loop, const char *path, tw_status_describe_fn describe,
                    void *ctx, tw_status **out, tw_err *err);
void tw_status_close(tw_status *status, void (*closed)(void *ctx), void *ctx);

#endif
