/* notify.h — telling systemd how we are doing (sd_notify protocol).
 *
 * All calls do nothing when $NOTIFY_SOCKET is unset, so programs call them
 * unconditionally. With libsystemd present its sd_notify() is used; without
 * it, the datagram protocol of sd_notify(3) is spoken directly (it is a
 * documented, stable interface).
 */
#ifndef TW_NOTIFY_H
#define TW_NOTIFY_H

#include <stdint.h>

/* Sends state (e.g. "READY=1\nSTATUS=running"). Returns 0, or a negative
 * errno when NOTIFY_SOCKET is set but the message could not be sent. */
int tw_notify(const char *state);

int tw_notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload services need. */
int tw_notify_reloading(void);
int tw_notify_stopping(void);
int tw_notify_watchdog(void);

/* The interval at which WATCHDOG=1 must be sent (half of WATCHDOG_USEC, as
 * systemd recommends), or 0 when no watchdog is set up for this process. */
uint64_t tw_notify_watchdog_interval_ms(void);

#endif
