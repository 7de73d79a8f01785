/* logs_meta.h — what a spooled PutLogEvents request of a logs section
 * remembers besides its body (tw_request.meta, never sent): its log group
 * and stream (to create them when the endpoint says they are missing), its
 * number of events (to weigh rejectedLogEventsInfo), and the file positions
 * it completes (checkpoint.h's meta, for acknowledgements and recovery).
 *
 * Encoding: "TWLM", u32 events, u16 group length, group, u16 stream length,
 * stream, then the checkpoint positions; integers little-endian. */
#ifndef TW_LOGS_META_H
#define TW_LOGS_META_H

#include <stddef.h>

#include "buf.h"

/* Starts a request's meta; positions are appended with
 * tw_checkpoint_meta_add. */
void tw_logs_meta_begin(tw_buf *meta, size_t n_events, const char *group, const char *stream);

typedef struct tw_logs_meta {
    size_t n_events;
    char group[520], stream[520]; /* names are at most 512 bytes */
    const unsigned char *positions; /* into the meta read */
    size_t positions_len;
} tw_logs_meta;

/* Reads a meta tw_logs_meta_begin started. Returns 0, or -EINVAL for bytes
 * that are not one (a request from another output). */
int tw_logs_meta_read(const tw_buf *meta, tw_logs_meta *out);

#endif
