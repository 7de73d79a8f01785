/* syslog_auth.h — the fields audit events are made from, read from the
 * messages sshd, sudo and cron write to auth.log / secure (the list is in
 * parser_syslog.h). Field values point into the message, or are constants.
 *
 * A message that does not have one of the expected shapes adds nothing: it
 * stays an ordinary syslog record. User names chosen by a remote client
 * ("Invalid user <anything> from ...") may hold spaces and even " from ": the
 * address is then the one sshd wrote last, never one inside the name.
 *
 * No state, no allocation; any thread.
 */
#ifndef TW_SYSLOG_AUTH_H
#define TW_SYSLOG_AUTH_H

#include <stddef.h>

#include "log_parser.h"

/* A piece of a line; p == NULL: absent. */
typedef struct tw_syslog_span {
    const char *p;
    size_t len;
} tw_syslog_span;

/* Adds the fields of program's message to record, when it has any. */
void tw_syslog_auth_fields(tw_syslog_span program, tw_syslog_span message, tw_log_record *record);

#endif
