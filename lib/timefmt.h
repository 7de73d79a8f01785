/* timefmt.h — the timestamp formats AWS speaks, to and from one time type.
 *
 * A time is an int64_t count of milliseconds since 1970-01-01T00:00:00Z
 * ("epoch ms", what CloudWatch Logs timestamps are). All conversions are
 * pure UTC arithmetic on the proleptic Gregorian calendar: no locale, no TZ,
 * no libc time functions, so results never depend on the host's settings.
 * Leap seconds do not exist here (as in POSIX time and AWS).
 *
 * Formats:
 *   amz-date   20150830T123600Z                 X-Amz-Date, SigV4 (seconds)
 *   HTTP date  Sun, 30 Aug 2015 12:36:00 GMT    Date header (RFC 9110 IMF-fixdate,
 *              also parsed: RFC 850 and asctime forms)
 *   ISO 8601   2015-08-30T12:36:00Z             CloudTrail eventTime, digests
 *              2015-08-30T12:36:00.123Z         with milliseconds
 *   CLF        10/Oct/2000:13:55:36 -0700       nginx $time_local (parsed only)
 *   syslog     Oct 11 22:14:15                  RFC 3164 (parsed only; no year, no zone)
 *
 * Range: years 0000 to 9999, the years the four-digit formats can write.
 *
 * Errors: parsers read exactly len bytes (the input need not be
 * NUL-terminated), reject anything else in them (trailing junk included)
 * and return 0, -EINVAL for text that is not a valid time in that format, or
 * -ERANGE for a number too large or (after a zone offset) a time outside
 * the range; err (may be NULL) then holds a sentence
 * quoting the input and naming the expected format, and *out is untouched.
 * Formatters return 0, or -ERANGE for a time outside the range (out is then
 * an empty string). Nothing allocates.
 */
#ifndef TW_TIMEFMT_H
#define TW_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Buffer sizes, NUL included. */
#define TW_AMZ_DATE_SIZE   17 /* 20150830T123600Z */
#define TW_HTTP_DATE_SIZE  30 /* Sun, 30 Aug 2015 12:36:00 GMT */
#define TW_ISO8601_SIZE    21 /* 2015-08-30T12:36:00Z */
#define TW_ISO8601_MS_SIZE 25 /* 2015-08-30T12:36:00.123Z */

/* The current time (CLOCK_REALTIME) in epoch ms. */
int64_t tw_time_now_ms(void);

/* YYYYMMDD'T'HHMMSS'Z', UTC. Milliseconds are dropped (rounded towards the
 * past, also before 1970). */
int tw_time_format_amz_date(int64_t epoch_ms, char out[TW_AMZ_DATE_SIZE]);
/* Exactly 16 characters; the 'T' and the 'Z' are required. */
int tw_time_parse_amz_date(const char *text, size_t len, int64_t *epoch_ms, tw_err *err);

/* IMF-fixdate, always "GMT" (RFC 9110 §5.6.7). Milliseconds are dropped. */
int tw_time_format_http_date(int64_t epoch_ms, char out[TW_HTTP_DATE_SIZE]);
/* Accepts the three forms RFC 9110 requires recipients to parse:
 *   Sun, 06 Nov 1994 08:49:37 GMT    IMF-fixdate
 *   Sunday, 06-Nov-94 08:49:37 GMT   RFC 850 (two-digit year: 70-99 -> 19xx,
 *                                    00-69 -> 20xx, a fixed pivot so the
 *                                    result does not depend on the clock)
 *   Sun Nov  6 08:49:37 1994         asctime (day space-padded)
 * Day and month names are case-sensitive as in the RFC; the weekday must be
 * a real day name but is not checked against the date. */
int tw_time_parse_http_date(const char *text, size_t len, int64_t *epoch_ms, tw_err *err);

/* 2015-08-30T12:36:00Z (milliseconds dropped) and 2015-08-30T12:36:00.123Z. */
int tw_time_format_iso8601(int64_t epoch_ms, char out[TW_ISO8601_SIZE]);
int tw_time_format_iso8601_ms(int64_t epoch_ms, char out[TW_ISO8601_MS_SIZE]);
/* Parses RFC 3339 date-times:
 *   YYYY-MM-DD('T'|'t'|' ')hh:mm:ss[.fraction](Z|z|+hh:mm|-hh:mm|+hhmm|-hhmm)
 * The fraction has 1 to 9 digits and is cut (not rounded) to milliseconds.
 * The zone is required: a time without one is ambiguous and rejected. */
int tw_time_parse_iso8601(const char *text, size_t len, int64_t *epoch_ms, tw_err *err);

/* The same, but the zone may be missing, as in the local times many logs
 * write (2019-06-14T10:40:20.912134, 2010-03-01 18:44:33): then *has_zone is
 * false and *epoch_ms is the wall-clock time counted as if it were UTC (the
 * caller knows which zone the writer meant). With a zone, *has_zone is true
 * and *epoch_ms is exact, as tw_time_parse_iso8601 gives it. */
int tw_time_parse_iso8601_maybe_local(const char *text, size_t len, int64_t *epoch_ms,
                                      bool *has_zone, tw_err *err);

/* Parses the RFC 3164 (BSD syslog) timestamp as syslog daemons write it into
 * files: "Mmm dd hh:mm:ss", the day space-padded ("Jun  8"), zero-padded
 * ("Aug 03") or not padded ("Nov 2"), then an optional fraction of a second
 * (cut to milliseconds). It has no year and no zone: the caller gives the
 * year and gets the wall-clock time counted as if it were UTC. A day the
 * month does not have in that year (Feb 29 of 2023) is -EINVAL; a year
 * outside 0000-9999 is -ERANGE. */
int tw_time_parse_rfc3164(const char *text, size_t len, int year, int64_t *epoch_ms, tw_err *err);

/* Parses the common log format time nginx and Apache write ($time_local,
 * %t without the brackets): DD/Mon/YYYY:hh:mm:ss +hhmm, e.g.
 * "10/Oct/2000:13:55:36 -0700". Month names are English and case-sensitive
 * as servers write them; the zone offset is required. */
int tw_time_parse_clf(const char *text, size_t len, int64_t *epoch_ms, tw_err *err);

/* The time of the given calendar fields counted as if they were UTC (a
 * wall-clock time a log wrote without a zone, for tw_log_localtime to
 * place). -EINVAL for a date or time that does not exist (30 Feb, 24:00),
 * -ERANGE for a year outside 0000-9999; err may be NULL. */
int tw_time_from_fields(int year, int month, int day, int hour, int minute, int second,
                        int64_t *wall_ms, tw_err *err);

/* Parses a decimal count of epoch milliseconds ("1440938160000"), digits
 * only. -ERANGE if it does not fit an int64_t. */
int tw_time_parse_epoch_ms(const char *text, size_t len, int64_t *epoch_ms, tw_err *err);

#endif
