/* timefmt.c — amz-date, HTTP date and ISO 8601 to and from epoch ms (see
 * timefmt.h). The calendar arithmetic is Howard Hinnant's days_from_civil /
 * civil_from_days, exact for the proleptic Gregorian calendar and free of
 * libc's timegm/gmtime_r, TZ and locale. */
#include "timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "encode.h"

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_DAY    INT64_C(86400000)

#define MIN_YEAR 0
#define MAX_YEAR 9999

static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const month_long_names[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};
/* Index 0 is Sunday, as in struct tm. */
static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_long_names[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* A broken-down UTC time. */
typedef struct civil_time {
    int year, month, day; /* month 1-12, day 1-31 */
    int hour, minute, second, millisecond;
} civil_time;

/* ---- calendar ---- */

static bool is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a valid date (Hinnant, "chrono-compatible
 * low-level date algorithms"). */
static int64_t days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void civil_from_days(int64_t days, civil_time *out)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    out->day = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(year_of_era + era * 400 + (out->month <= 2));
}

static int64_t min_epoch_ms(void)
{
    return days_from_civil(MIN_YEAR, 1, 1) * MS_PER_DAY;
}

static int64_t max_epoch_ms(void)
{
    return days_from_civil(MAX_YEAR + 1, 1, 1) * MS_PER_DAY - 1;
}

/* Splits epoch_ms into UTC fields; -ERANGE outside years 0000-9999. The
 * range check comes first, so no arithmetic below can overflow. */
static int civil_from_epoch_ms(int64_t epoch_ms, civil_time *out)
{
    if (epoch_ms < min_epoch_ms() || epoch_ms > max_epoch_ms())
        return -ERANGE;
    int64_t days = epoch_ms / MS_PER_DAY;
    int64_t ms_of_day = epoch_ms % MS_PER_DAY;
    if (ms_of_day < 0) { /* C division truncates; we want the floor */
        days -= 1;
        ms_of_day += MS_PER_DAY;
    }
    civil_from_days(days, out);
    out->hour = (int)(ms_of_day / 3600000);
    out->minute = (int)(ms_of_day / 60000 % 60);
    out->second = (int)(ms_of_day / 1000 % 60);
    out->millisecond = (int)(ms_of_day % 1000);
    return 0;
}

/* 0 = Sunday. 1970-01-01 was a Thursday. */
static int weekday_from_days(int64_t days)
{
    int64_t wd = (days % 7 + 7 + 4) % 7;
    return (int)wd;
}

static int64_t epoch_ms_from_civil(const civil_time *t)
{
    return days_from_civil(t->year, t->month, t->day) * MS_PER_DAY +
           ((int64_t)t->hour * 3600 + t->minute * 60 + t->second) * MS_PER_SECOND +
           t->millisecond;
}

/* Checks the fields a parser read; on failure writes why into reason. */
static bool civil_is_valid(const civil_time *t, char *reason, size_t reason_size)
{
    if (t->month < 1 || t->month > 12) {
        snprintf(reason, reason_size, "month %02d does not exist", t->month);
        return false;
    }
    if (t->day < 1 || t->day > days_in_month(t->year, t->month)) {
        snprintf(reason, reason_size, "%s %04d has no day %02d", month_long_names[t->month - 1],
                 t->year, t->day);
        return false;
    }
    if (t->hour > 23 || t->minute > 59 || t->second > 59) {
        snprintf(reason, reason_size, "time %02d:%02d:%02d does not exist", t->hour, t->minute,
                 t->second);
        return false;
    }
    return true;
}

int tw_time_from_fields(int year, int month, int day, int hour, int minute, int second,
                        int64_t *wall_ms, tw_err *err)
{
    if (year < MIN_YEAR || year > MAX_YEAR)
        return tw_err_set(err, -ERANGE, "year %d is outside 0000-9999", year);
    civil_time t = {.year = year, .month = month, .day = day, .hour = hour, .minute = minute,
                    .second = second};
    char reason[96];
    if (hour < 0 || minute < 0 || second < 0 || !civil_is_valid(&t, reason, sizeof reason))
        return tw_err_set(err, -EINVAL, "%s", hour < 0 || minute < 0 || second < 0
                                                  ? "negative time"
                                                  : reason);
    *wall_ms = epoch_ms_from_civil(&t);
    return 0;
}

/* ---- writing ---- */

/* Writes value as exactly width decimal digits (value fits by contract). */
static char *put_digits(char *out, int value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

static char *put_text(char *out, const char *text)
{
    size_t n = strlen(text);
    memcpy(out, text, n);
    return out + n;
}

int64_t tw_time_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * MS_PER_SECOND + now.tv_nsec / 1000000;
}

int tw_time_format_amz_date(int64_t epoch_ms, char out[TW_AMZ_DATE_SIZE])
{
    civil_time t;
    out[0] = '\0';
    if (civil_from_epoch_ms(epoch_ms, &t) != 0)
        return -ERANGE;
    char *p = out;
    p = put_digits(p, t.year, 4);
    p = put_digits(p, t.month, 2);
    p = put_digits(p, t.day, 2);
    *p++ = 'T';
    p = put_digits(p, t.hour, 2);
    p = put_digits(p, t.minute, 2);
    p = put_digits(p, t.second, 2);
    *p++ = 'Z';
    *p = '\0';
    return 0;
}

int tw_time_format_http_date(int64_t epoch_ms, char out[TW_HTTP_DATE_SIZE])
{
    civil_time t;
    out[0] = '\0';
    if (civil_from_epoch_ms(epoch_ms, &t) != 0)
        return -ERANGE;
    int weekday = weekday_from_days(days_from_civil(t.year, t.month, t.day));
    char *p = out;
    p = put_text(p, day_names[weekday]);
    p = put_text(p, ", ");
    p = put_digits(p, t.day, 2);
    *p++ = ' ';
    p = put_text(p, month_names[t.month - 1]);
    *p++ = ' ';
    p = put_digits(p, t.year, 4);
    *p++ = ' ';
    p = put_digits(p, t.hour, 2);
    *p++ = ':';
    p = put_digits(p, t.minute, 2);
    *p++ = ':';
    p = put_digits(p, t.second, 2);
    p = put_text(p, " GMT");
    *p = '\0';
    return 0;
}

/* Writes "YYYY-MM-DDThh:mm:ss" and returns the end. */
static char *put_iso8601_seconds(char *p, const civil_time *t)
{
    p = put_digits(p, t->year, 4);
    *p++ = '-';
    p = put_digits(p, t->month, 2);
    *p++ = '-';
    p = put_digits(p, t->day, 2);
    *p++ = 'T';
    p = put_digits(p, t->hour, 2);
    *p++ = ':';
    p = put_digits(p, t->minute, 2);
    *p++ = ':';
    return put_digits(p, t->second, 2);
}

int tw_time_format_iso8601(int64_t epoch_ms, char out[TW_ISO8601_SIZE])
{
    civil_time t;
    out[0] = '\0';
    if (civil_from_epoch_ms(epoch_ms, &t) != 0)
        return -ERANGE;
    char *p = put_iso8601_seconds(out, &t);
    *p++ = 'Z';
    *p = '\0';
    return 0;
}

int tw_time_format_iso8601_ms(int64_t epoch_ms, char out[TW_ISO8601_MS_SIZE])
{
    civil_time t;
    out[0] = '\0';
    if (civil_from_epoch_ms(epoch_ms, &t) != 0)
        return -ERANGE;
    char *p = put_iso8601_seconds(out, &t);
    *p++ = '.';
    p = put_digits(p, t.millisecond, 3);
    *p++ = 'Z';
    *p = '\0';
    return 0;
}

/* ---- reading ---- */

/* A cursor over len bytes that are not NUL-terminated. */
typedef struct scanner {
    const char *text;
    size_t len;
    size_t pos;
} scanner;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly count digits. */
static bool scan_digits(scanner *s, size_t count, int *out)
{
    if (s->len - s->pos < count)
        return false;
    int value = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s->text[s->pos + i];
        if (!is_digit(c))
            return false;
        value = value * 10 + (c - '0');
    }
    s->pos += count;
    *out = value;
    return true;
}

static bool scan_char(scanner *s, char c)
{
    if (s->pos < s->len && s->text[s->pos] == c) {
        s->pos++;
        return true;
    }
    return false;
}

static bool scan_text(scanner *s, const char *text)
{
    size_t n = strlen(text);
    if (s->len - s->pos < n || memcmp(s->text + s->pos, text, n) != 0)
        return false;
    s->pos += n;
    return true;
}

/* Reads one of the names; returns its index or -1. The first match wins, so
 * a caller whose names can be prefixes of other names ("Sun", "Sunday")
 * tries the longer list first. */
static int scan_name(scanner *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (scan_text(s, names[i]))
            return i;
    return -1;
}

/* Reads "hh:mm:ss". */
static bool scan_clock(scanner *s, civil_time *t)
{
    return scan_digits(s, 2, &t->hour) && scan_char(s, ':') && scan_digits(s, 2, &t->minute) &&
           scan_char(s, ':') && scan_digits(s, 2, &t->second);
}

/* Fails a parse: "<input>": <reason> (expected <expected>). */
static int parse_error(tw_err *err, int code, const char *text, size_t len, const char *reason,
                       const char *expected)
{
    char quoted[TW_QUOTE_SIZE];
    return tw_err_set(err, code, "%s: %s (expected %s)", tw_quote(text, len, quoted), reason,
                      expected);
}

static const char amz_date_expected[] =
    "an amz-date YYYYMMDD'T'HHMMSS'Z' in UTC, e.g. 20150830T123600Z";

/* Reads a whole amz-date; returns why it is not one, or NULL. */
static const char *scan_amz_date(scanner *s, civil_time *t)
{
    if (!scan_digits(s, 4, &t->year) || !scan_digits(s, 2, &t->month) ||
        !scan_digits(s, 2, &t->day))
        return "the date is not 8 digits";
    if (!scan_char(s, 'T'))
        return "no 'T' after the date";
    if (!scan_digits(s, 2, &t->hour) || !scan_digits(s, 2, &t->minute) ||
        !scan_digits(s, 2, &t->second))
        return "the time is not 6 digits";
    if (!scan_char(s, 'Z'))
        return s->pos == s->len ? "no 'Z' at the end (the time must be UTC)"
                                : "unexpected text after the time";
    if (s->pos != s->len)
        return "unexpected text after the 'Z'";
    return NULL;
}

int tw_time_parse_amz_date(const char *text, size_t len, int64_t *epoch_ms, tw_err *err)
{
    scanner s = {text, len, 0};
    civil_time t = {0};
    const char *reason = scan_amz_date(&s, &t);
    if (reason != NULL)
        return parse_error(err, -EINVAL, text, len, reason, amz_date_expected);

    char why[96];
    if (!civil_is_valid(&t, why, sizeof why))
        return parse_error(err, -EINVAL, text, len, why, amz_date_expected);
    *epoch_ms = epoch_ms_from_civil(&t);
    return 0;
}

static const char http_date_expected[] =
    "an HTTP date such as \"Sun, 06 Nov 1994 08:49:37 GMT\"";

/* "06 Nov 1994 08:49:37 GMT" after "Sun, " (IMF-fixdate). */
static const char *scan_imf_fixdate(scanner *s, civil_time *t)
{
    if (!scan_digits(s, 2, &t->day) || !scan_char(s, ' '))
        return "the day of the month is not 2 digits";
    t->month = scan_name(s, month_names, 12) + 1;
    if (t->month == 0)
        return "unknown month name (expected Jan, Feb, ... Dec)";
    if (!scan_char(s, ' ') || !scan_digits(s, 4, &t->year))
        return "the year is not 4 digits";
    if (!scan_char(s, ' ') || !scan_clock(s, t))
        return "the time is not hh:mm:ss";
    if (!scan_text(s, " GMT"))
        return "no \" GMT\" after the time";
    return NULL;
}

/* "06-Nov-94 08:49:37 GMT" after "Sunday, " (RFC 850). */
static const char *scan_rfc850_date(scanner *s, civil_time *t)
{
    if (!scan_digits(s, 2, &t->day) || !scan_char(s, '-'))
        return "the day of the month is not 2 digits";
    t->month = scan_name(s, month_names, 12) + 1;
    if (t->month == 0)
        return "unknown month name (expected Jan, Feb, ... Dec)";
    int two_digit_year;
    if (!scan_char(s, '-') || !scan_digits(s, 2, &two_digit_year))
        return "the year is not 2 digits";
    /* A fixed pivot (as curl uses) rather than RFC 9110's "50 years from
     * now", so the same text always means the same time. */
    t->year = two_digit_year < 70 ? 2000 + two_digit_year : 1900 + two_digit_year;
    if (!scan_char(s, ' ') || !scan_clock(s, t))
        return "the time is not hh:mm:ss";
    if (!scan_text(s, " GMT"))
        return "no \" GMT\" after the time";
    return NULL;
}

/* "Nov  6 08:49:37 1994" after "Sun " (asctime). */
static const char *scan_asctime_date(scanner *s, civil_time *t)
{
    t->month = scan_name(s, month_names, 12) + 1;
    if (t->month == 0)
        return "unknown month name (expected Jan, Feb, ... Dec)";
    if (!scan_char(s, ' '))
        return "no space after the month";
    /* asctime pads the day with a space ("Nov  6"); accept "Nov 6" too. */
    bool padded = scan_char(s, ' ');
    if (!scan_digits(s, 1, &t->day))
        return "the day of the month is not a number";
    int second_digit;
    if (!padded && scan_digits(s, 1, &second_digit))
        t->day = t->day * 10 + second_digit;
    if (!scan_char(s, ' ') || !scan_clock(s, t))
        return "the time is not hh:mm:ss";
    if (!scan_char(s, ' ') || !scan_digits(s, 4, &t->year))
        return "the year is not 4 digits";
    return NULL;
}

int tw_time_parse_http_date(const char *text, size_t len, int64_t *epoch_ms, tw_err *err)
{
    scanner s = {text, len, 0};
    civil_time t = {0};
    const char *reason;
    /* The weekday name tells the three forms apart: "Sun," "Sunday," "Sun ". */
    if (scan_name(&s, day_long_names, 7) >= 0) {
        reason = scan_char(&s, ',') && scan_char(&s, ' ') ? scan_rfc850_date(&s, &t)
                                                          : "no \", \" after the day name";
    } else if (scan_name(&s, day_names, 7) >= 0) {
        if (scan_char(&s, ','))
            reason = scan_char(&s, ' ') ? scan_imf_fixdate(&s, &t) : "no space after \",\"";
        else if (scan_char(&s, ' '))
            reason = scan_asctime_date(&s, &t);
        else
            reason = "no \", \" after the day name";
    } else {
        reason = "it does not start with a day name (Mon, Tue, ... Sun)";
    }
    if (reason == NULL && s.pos != len)
        reason = "unexpected text after the date";
    if (reason != NULL)
        return parse_error(err, -EINVAL, text, len, reason, http_date_expected);

    char why[96];
    if (!civil_is_valid(&t, why, sizeof why))
        return parse_error(err, -EINVAL, text, len, why, http_date_expected);
    *epoch_ms = epoch_ms_from_civil(&t);
    return 0;
}

static const char iso8601_expected[] =
    "an ISO 8601 time such as 2015-08-30T12:36:00Z or 2015-08-30T12:36:00.123+02:00";

/* Reads ".fraction" if present, cut to milliseconds. */
static const char *scan_fraction(scanner *s, civil_time *t)
{
    if (!scan_char(s, '.'))
        return NULL;
    size_t digits = 0;
    int ms = 0;
    while (s->pos < s->len && is_digit(s->text[s->pos])) {
        if (digits < 3)
            ms = ms * 10 + (s->text[s->pos] - '0');
        digits++;
        s->pos++;
    }
    if (digits == 0)
        return "no digits after the '.'";
    if (digits > 9)
        return "the fraction of a second has more than 9 digits";
    for (size_t i = digits; i < 3; i++)
        ms *= 10;
    t->millisecond = ms;
    return NULL;
}

/* Reads the zone; *offset_minutes is east of UTC. */
static const char *scan_zone(scanner *s, int *offset_minutes)
{
    if (scan_char(s, 'Z') || scan_char(s, 'z')) {
        *offset_minutes = 0;
        return NULL;
    }
    int sign;
    if (scan_char(s, '+'))
        sign = 1;
    else if (scan_char(s, '-'))
        sign = -1;
    else if (s->pos == s->len)
        return "no time zone (add Z for UTC, or an offset such as +02:00)";
    else
        return "unexpected text where the time zone should be";
    int hours, minutes;
    if (!scan_digits(s, 2, &hours))
        return "the zone offset is not +hh:mm";
    scan_char(s, ':');
    if (!scan_digits(s, 2, &minutes))
        return "the zone offset is not +hh:mm";
    if (hours > 23 || minutes > 59)
        return "the zone offset is out of range";
    *offset_minutes = sign * (hours * 60 + minutes);
    return NULL;
}

/* Reads a whole RFC 3339 date-time; returns why it is not one, or NULL.
 * With has_zone, a missing zone is no error: *has_zone says if there was one. */
static const char *scan_iso8601(scanner *s, civil_time *t, int *offset_minutes, bool *has_zone)
{
    if (!scan_digits(s, 4, &t->year) || !scan_char(s, '-') || !scan_digits(s, 2, &t->month) ||
        !scan_char(s, '-') || !scan_digits(s, 2, &t->day))
        return "the date is not YYYY-MM-DD";
    if (!scan_char(s, 'T') && !scan_char(s, 't') && !scan_char(s, ' '))
        return s->pos == s->len ? "no time after the date" : "no 'T' between the date and the time";
    if (!scan_clock(s, t))
        return "the time is not hh:mm:ss";
    const char *reason = scan_fraction(s, t);
    if (has_zone != NULL)
        *has_zone = s->pos != s->len;
    if (reason == NULL && (has_zone == NULL || *has_zone))
        reason = scan_zone(s, offset_minutes);
    if (reason == NULL && s->pos != s->len)
        reason = "unexpected text after the time zone";
    return reason;
}

static int parse_iso8601(const char *text, size_t len, int64_t *epoch_ms, bool *has_zone,
                         tw_err *err)
{
    scanner s = {text, len, 0};
    civil_time t = {0};
    int offset_minutes = 0;
    const char *reason = scan_iso8601(&s, &t, &offset_minutes, has_zone);
    if (reason != NULL)
        return parse_error(err, -EINVAL, text, len, reason, iso8601_expected);

    char why[96];
    if (!civil_is_valid(&t, why, sizeof why))
        return parse_error(err, -EINVAL, text, len, why, iso8601_expected);
    int64_t ms = epoch_ms_from_civil(&t) - offset_minutes * MS_PER_MINUTE;
    if (ms < min_epoch_ms() || ms > max_epoch_ms())
        return parse_error(err, -ERANGE, text, len, "in UTC it falls outside years 0000-9999",
                           iso8601_expected);
    *epoch_ms = ms;
    return 0;
}

int tw_time_parse_iso8601(const char *text, size_t len, int64_t *epoch_ms, tw_err *err)
{
    return parse_iso8601(text, len, epoch_ms, NULL, err);
}

int tw_time_parse_iso8601_maybe_local(const char *text, size_t len, int64_t *epoch_ms,
                                      bool *has_zone, tw_err *err)
{
    bool zone = true;
    int rc = parse_iso8601(text, len, epoch_ms, &zone, err);
    if (rc == 0)
        *has_zone = zone;
    return rc;
}

static const char rfc3164_expected[] = "a syslog time Mmm dd hh:mm:ss such as Oct 11 22:14:15";

/* Reads a whole "Mmm dd hh:mm:ss[.fraction]"; returns why it is not one, or
 * NULL. */
static const char *scan_rfc3164(scanner *s, civil_time *t)
{
    t->month = scan_name(s, month_names, 12) + 1;
    if (t->month == 0)
        return "unknown month name (expected Jan, Feb, ... Dec)";
    if (!scan_char(s, ' '))
        return "no space after the month";
    /* "Jun  8" (space-padded), "Aug 03", "Nov 2" (not padded) */
    bool day_ok = scan_char(s, ' ') ? scan_digits(s, 1, &t->day)
                                    : scan_digits(s, 2, &t->day) || scan_digits(s, 1, &t->day);
    if (!day_ok)
        return "the day of the month is not 1 or 2 digits";
    if (!scan_char(s, ' ') || !scan_clock(s, t))
        return "the time is not hh:mm:ss";
    const char *reason = scan_fraction(s, t);
    if (reason == NULL && s->pos != s->len)
        reason = "unexpected text after the time";
    return reason;
}

int tw_time_parse_rfc3164(const char *text, size_t len, int year, int64_t *epoch_ms, tw_err *err)
{
    scanner s = {text, len, 0};
    civil_time t = {.year = year};
    const char *reason = scan_rfc3164(&s, &t);
    if (reason != NULL)
        return parse_error(err, -EINVAL, text, len, reason, rfc3164_expected);
    if (year < MIN_YEAR || year > MAX_YEAR)
        return parse_error(err, -ERANGE, text, len, "the year is outside 0000-9999",
                           rfc3164_expected);
    char why[96];
    if (!civil_is_valid(&t, why, sizeof why))
        return parse_error(err, -EINVAL, text, len, why, rfc3164_expected);
    *epoch_ms = epoch_ms_from_civil(&t);
    return 0;
}

static const char clf_expected[] =
    "a common log format time such as 10/Oct/2000:13:55:36 -0700";

/* Reads a whole "DD/Mon/YYYY:hh:mm:ss +hhmm"; returns why it is not one, or
 * NULL. */
static const char *scan_clf(scanner *s, civil_time *t, int *offset_minutes)
{
    if (!scan_digits(s, 2, &t->day) || !scan_char(s, '/'))
        return "the day of the month is not 2 digits";
    t->month = scan_name(s, month_names, 12) + 1;
    if (t->month == 0)
        return "unknown month name (expected Jan, Feb, ... Dec)";
    if (!scan_char(s, '/') || !scan_digits(s, 4, &t->year))
        return "the year is not 4 digits";
    if (!scan_char(s, ':') || !scan_clock(s, t))
        return "the time is not :hh:mm:ss";
    if (!scan_char(s, ' '))
        return "no space before the zone offset";
    int sign = scan_char(s, '+') ? 1 : scan_char(s, '-') ? -1 : 0;
    int hours, minutes;
    if (sign == 0 || !scan_digits(s, 2, &hours) || !scan_digits(s, 2, &minutes))
        return "the zone offset is not +hhmm";
    if (hours > 23 || minutes > 59)
        return "the zone offset is out of range";
    if (s->pos != s->len)
        return "unexpected text after the zone offset";
    *offset_minutes = sign * (hours * 60 + minutes);
    return NULL;
}

int tw_time_parse_clf(const char *text, size_t len, int64_t *epoch_ms, tw_err *err)
{
    scanner s = {text, len, 0};
    civil_time t = {0};
    int offset_minutes = 0;
    const char *reason = scan_clf(&s, &t, &offset_minutes);
    if (reason != NULL)
        return parse_error(err, -EINVAL, text, len, reason, clf_expected);

    char why[96];
    if (!civil_is_valid(&t, why, sizeof why))
        return parse_error(err, -EINVAL, text, len, why, clf_expected);
    int64_t ms = epoch_ms_from_civil(&t) - offset_minutes * MS_PER_MINUTE;
    if (ms < min_epoch_ms() || ms > max_epoch_ms())
        return parse_error(err, -ERANGE, text, len, "in UTC it falls outside years 0000-9999",
                           clf_expected);
    *epoch_ms = ms;
    return 0;
}

int tw_time_parse_epoch_ms(const char *text, size_t len, int64_t *epoch_ms, tw_err *err)
{
    static const char expected[] = "milliseconds since 1970-01-01T00:00:00Z, e.g. 1440938160000";
    if (len == 0)
        return parse_error(err, -EINVAL, text, len, "empty", expected);
    int64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!is_digit(c))
            return parse_error(err, -EINVAL, text, len, "not a number of digits only", expected);
        int digit = c - '0';
        if (value > (INT64_MAX - digit) / 10)
            return parse_error(err, -ERANGE, text, len, "too large for a time", expected);
        value = value * 10 + digit;
    }
    *epoch_ms = value;
    return 0;
}
