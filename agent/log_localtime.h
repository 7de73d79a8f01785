/* log_localtime.h — the wall-clock times logs write without a zone, turned
 * into epoch ms; and the local year, which RFC 3164 syslog lines leave out.
 *
 * A time without a zone is the writer's local time; the writer is a process
 * on this host, so "local" is this host's zone (TZ, else /etc/localtime), as
 * the C library's localtime_r knows it. Asking the C library per line would
 * cost a microsecond, so a tw_log_localtime caches the offset of the last
 * quarter hour of wall-clock time met (zone offsets and DST changes fall on
 * quarter hours) and the year of the last quarter hour of epoch time: a
 * steady stream of lines costs a division and a compare.
 *
 * A wall-clock time in the hour a DST change skips or repeats gets one of the
 * two offsets in force around it (the log line is ambiguous too).
 *
 * The cache is plain data inside its owner (a parser's state); nothing is
 * allocated. One owner, one thread. A zone change on the host (TZ changed, a
 * new /etc/localtime) is seen when the process restarts.
 */
#ifndef TW_LOG_LOCALTIME_H
#define TW_LOG_LOCALTIME_H

#include <stdint.h>

typedef struct tw_log_localtime {
    int64_t offset_slot; /* wall ms / 15 min the offset is for; INT64_MIN: none yet */
    int64_t offset_ms;   /* east of UTC */
    int64_t year_slot;   /* epoch ms / 15 min the year is for; INT64_MIN: none yet */
    int year;
} tw_log_localtime;

void tw_log_localtime_init(tw_log_localtime *lt);

/* The epoch ms of wall_ms, a local wall-clock time counted as if it were UTC
 * (what tw_time_parse_rfc3164 and tw_time_parse_iso8601_maybe_local give). */
int64_t tw_log_localtime_to_epoch(tw_log_localtime *lt, int64_t wall_ms);

/* The local calendar year at epoch_ms. */
int tw_log_localtime_year(tw_log_localtime *lt, int64_t epoch_ms);

#endif
