/* status_command.c — `trailwatch status` (see status_command.h). */
#include "status_command.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"

#define USAGE                                                                             \
    "Usage: trailwatch status [--config FILE] [--json]\n"                                 \
    "\n"                                                                                  \
    "Asks the running agent (through state_dir/" "status.sock" " of the agent\n"           \
    "configuration FILE, default " TW_AGENT_DEFAULT_CONFIG ") what it is doing:\n"         \
    "the endpoint, batches sent, retried and dropped, the spool, each input.\n"           \
    "\n"                                                                                  \
    "Exit status: 0 running, 1 not running or not reachable, 2 usage error.\n"

static long long num(json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

static void print_human(json_t *s)
{
    long long up = num(s, "uptime_seconds");
    printf("trailwatch-agent %s, pid %lld, up %lldh %02lldm %02llds\n",
           json_string_value(json_object_get(s, "version")), num(s, "pid"), up / 3600,
           up / 60 % 60, up % 60);
    json_t *e = json_object_get(s, "endpoint");
    printf("endpoint  %s (%s): %s\n", json_string_value(json_object_get(e, "url")),
           json_string_value(json_object_get(e, "region")),
           json_is_true(json_object_get(e, "reachable")) ? "reachable" : "NOT REACHABLE");
    printf("          requests %lld, acknowledged %lld, retries %lld, rejected %lld, "
           "expired %lld, %lld bytes sent\n",
           num(e, "requests"), num(e, "acknowledged"), num(e, "retries"), num(e, "rejected"),
           num(e, "expired"), num(e, "bytes_sent"));
    if (num(e, "clock_offset_ms") != 0)
        printf("          clock offset to the endpoint: %+lld ms\n", num(e, "clock_offset_ms"));
    json_t *o = json_object_get(s, "metrics_output");
    if (o) {
        printf("metrics   batches sent %lld, rejected %lld, expired %lld, in flight %lld\n",
               num(o, "batches_sent"), num(o, "batches_rejected"), num(o, "batches_expired"),
               num(o, "batches_in_flight"));
        printf("          spool: %lld batches waiting (%lld bytes), %lld dropped when full\n",
               num(o, "spool_batches"), num(o, "spool_bytes"), num(o, "spool_dropped_batches"));
    }
    json_t *m = json_object_get(s, "metrics");
    if (m) {
        printf("          samples %lld (%lld rejected), %lld series, %lld datums in %lld "
               "requests\n",
               num(m, "samples"), num(m, "samples_rejected"), num(m, "series"), num(m, "datums"),
               num(m, "requests"));
        const char *key;
        json_t *value;
        json_object_foreach(json_object_get(m, "input_errors"), key, value)
            printf("          %s: %s\n", key, json_string_value(value));
        json_t *st = json_object_get(m, "statsd");
        if (st)
            printf("statsd    port %lld: %lld packets, %lld lines, %lld bad, %lld series, %lld "
                   "dropped\n",
                   num(st, "port"), num(st, "packets"), num(st, "lines"), num(st, "bad_lines"),
                   num(st, "series"), num(st, "dropped_lines"));
        json_object_foreach(json_object_get(m, "plugins"), key, value)
            printf("plugin    %s: %lld collects, %lld failed, %lld metrics, %lld rejected, %lld "
                   "skipped\n",
                   key, num(value, "collects"), num(value, "failures"), num(value, "emitted"),
                   num(value, "rejected"), num(value, "skipped"));
    }
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(s, "logs"), i, l)
    {
        printf("logs      [%s] %lld files, %lld lines, %lld events (%lld unparsed), %lld batches, "
               "%lld dropped, %lld refused%s\n",
               json_string_value(json_object_get(l, "name")), num(l, "files"), num(l, "lines"),
               num(l, "records"), num(l, "unparsed"), num(l, "batches"), num(l, "events_dropped"),
               num(l, "events_rejected"),
               json_is_true(json_object_get(l, "paused")) ? ", PAUSED (spool full)" : "");
        if (num(l, "spool_batches") > 0 || num(l, "audit_events") > 0)
            printf("          spool: %lld batches waiting; %lld audit events\n",
                   num(l, "spool_batches"), num(l, "audit_events"));
    }
}

static int read_status(const char *path, tw_buf *out)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "trailwatch status: socket path %s is too long\n", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "trailwatch status: cannot reach the agent at %s: %s%s\n", path,
                strerror(e),
                e == ENOENT || e == ECONNREFUSED ? " (is trailwatch-agent running?)"
                : e == EACCES                    ? " (run as the agent's user or root)"
                                                 : "");
        return -1;
    }
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        tw_buf_append(out, chunk, (size_t)n);
    close(fd);
    return 0;
}

int tw_cli_status(int argc, char **argv)
{
    const char *path = TW_AGENT_DEFAULT_CONFIG;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "trailwatch status: unexpected argument \"%s\"\n%s", argv[i], USAGE);
            return 2;
        }
    }
    tw_agent_config config;
    if (tw_agent_config_load(&config, path) != 0) {
        fprintf(stderr, "trailwatch status: %s has errors (see trailwatch check-config)\n",
                path);
        tw_agent_config_free(&config);
        return 1;
    }
    char socket_path[4096];
    snprintf(socket_path, sizeof socket_path, "%s/status.sock", config.agent.state_dir);
    tw_agent_config_free(&config);
    tw_buf text = TW_BUF_INIT;
    int rc = read_status(socket_path, &text);
    json_t *doc = rc == 0 ? json_loadb(text.data ? text.data : "", text.len, 0, NULL) : NULL;
    if (rc == 0 && !doc) {
        fprintf(stderr, "trailwatch status: the agent's answer is not JSON\n");
        rc = -1;
    }
    if (doc) {
        if (json)
            fputs(text.data, stdout);
        else
            print_human(doc);
        json_decref(doc);
    }
    tw_buf_free(&text);
    return rc == 0 ? 0 : 1;
}
