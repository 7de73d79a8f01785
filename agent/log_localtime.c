/* log_localtime.c — local wall-clock time to epoch ms and the local year,
 * through localtime_r with a per-owner cache (see log_localtime.h). */
#include "log_localtime.h"

#include <stdbool.h>
#include <time.h>

/* Every zone offset in the tz database, and every DST change, is a whole
 * number of quarter hours, so one quarter hour never sees two offsets. */
#define SLOT_MS (INT64_C(15) * 60 * 1000)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

static bool local_tm(int64_t epoch_ms, struct tm *tm)
{
    time_t t = (time_t)floor_div(epoch_ms, 1000);
    return localtime_r(&t, tm) != NULL;
}

/* The zone's offset east of UTC at epoch_ms (0 if the C library cannot
 * tell, e.g. for a time it cannot represent). */
static int64_t offset_at(int64_t epoch_ms)
{
    struct tm tm;
    return local_tm(epoch_ms, &tm) ? (int64_t)tm.tm_gmtoff * 1000 : 0;
}

void tw_log_localtime_init(tw_log_localtime *lt)
{
    lt->offset_slot = INT64_MIN;
    lt->offset_ms = 0;
    lt->year_slot = INT64_MIN;
    lt->year = 1970;
}

int64_t tw_log_localtime_to_epoch(tw_log_localtime *lt, int64_t wall_ms)
{
    int64_t slot = floor_div(wall_ms, SLOT_MS);
    if (slot != lt->offset_slot) {
        /* We want t with t + offset(t) = wall. Start from the offset at the
         * wall time read as UTC (off by at most a day) and settle; near a
         * DST change that takes one more step, and in a skipped hour it
         * never settles and either offset will do. */
        int64_t offset = offset_at(wall_ms);
        for (int i = 0; i < 2; i++) {
            int64_t next = offset_at(wall_ms - offset);
            if (next == offset)
                break;
            offset = next;
        }
        lt->offset_slot = slot;
        lt->offset_ms = offset;
    }
    return wall_ms - lt->offset_ms;
}

int tw_log_localtime_year(tw_log_localtime *lt, int64_t epoch_ms)
{
    int64_t slot = floor_div(epoch_ms, SLOT_MS);
    if (slot != lt->year_slot) {
        struct tm tm;
        lt->year = local_tm(epoch_ms, &tm) ? tm.tm_year + 1900 : 1970;
        lt->year_slot = slot;
    }
    return lt->year;
}
