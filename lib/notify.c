/* notify.c — sd_notify, through libsystemd when we have it (see notify.h). */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifdef TW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#ifndef TW_HAVE_SYSTEMD
/* sd_notify(3): one datagram to the AF_UNIX socket named by NOTIFY_SOCKET; a
 * leading '@' means the abstract namespace. */
static int send_datagram(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0')
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@'))
        return -EINVAL;
    memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr,
                          addr_len);
    int rc = sent < 0 ? -errno : 0;
    close(fd);
    return rc;
}
#endif

int tw_notify(const char *state)
{
#ifdef TW_HAVE_SYSTEMD
    int rc = sd_notify(0, state);
    return rc < 0 ? rc : 0;
#else
    return send_datagram(state);
#endif
}

int tw_notify_ready(const char *status)
{
    char msg[512];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status ? status : "running");
    return tw_notify(msg);
}

int tw_notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[128];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    return tw_notify(msg);
}

int tw_notify_stopping(void)
{
    return tw_notify("STOPPING=1");
}

int tw_notify_watchdog(void)
{
    return tw_notify("WATCHDOG=1");
}

uint64_t tw_notify_watchdog_interval_ms(void)
{
    /* sd_watchdog_enabled(3): WATCHDOG_USEC applies only when WATCHDOG_PID
     * is unset or names us (so children don't inherit the duty). */
    const char *usec = getenv("WATCHDOG_USEC");
    if (usec == NULL)
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end;
    unsigned long long v = strtoull(usec, &end, 10);
    if (*end != '\0' || v == 0)
        return 0;
    return v / 2000ULL > 0 ? v / 2000ULL : 1;
}
