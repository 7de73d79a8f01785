/* bench_collector.c — a trailwatch-collector child process for benchmarks:
 * configuration, start, "listening on URL", /proc figures, stop (see
 * bench_collector.h). */
#include "bench_collector.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_S 15
#define STOP_TIMEOUT_S 30
#define SAMPLE_US 20000

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- /proc ---- */

double tw_bench_proc_mib(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    double mib = -1;
    size_t key_len = strlen(key);
    while (fgets(line, sizeof line, fp) != NULL)
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
            mib = (double)strtol(line + key_len + 1, NULL, 10) / 1024.0; /* "NNN kB" */
            break;
        }
    fclose(fp);
    return mib;
}

double tw_bench_proc_cpu_s(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    /* Fields 14 and 15 (proc(5)). The command name may hold spaces and
     * parentheses: the fields start after the last ')'. */
    const char *p = strrchr(text, ')');
    unsigned long utime = 0, stime = 0;
    if (p == NULL
        || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime)
               != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

double tw_bench_machine_cpu_s(void)
{
    FILE *fp = fopen("/proc/stat", "r");
    if (fp == NULL)
        return 0;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                       softirq = 0, steal = 0;
    int n = fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                   &idle, &iowait, &irq, &softirq, &steal);
    fclose(fp);
    if (n < 4)
        return 0;
    return (double)(user + nice + system + irq + softirq + steal)
           / (double)sysconf(_SC_CLK_TCK);
}

static void *sample_rss(void *arg)
{
    tw_bench_rss_sampler *s = arg;
    while (atomic_load(&s->running)) {
        double mib = tw_bench_proc_mib(s->pid, "VmRSS");
        if (mib > s->max_mib)
            s->max_mib = mib;
        usleep(SAMPLE_US);
    }
    return NULL;
}

void tw_bench_rss_sampler_start(tw_bench_rss_sampler *s, pid_t pid)
{
    s->pid = pid;
    s->max_mib = 0;
    atomic_store(&s->running, true);
    pthread_create(&s->thread, NULL, sample_rss, s);
}

double tw_bench_rss_sampler_stop(tw_bench_rss_sampler *s)
{
    atomic_store(&s->running, false);
    pthread_join(s->thread, NULL);
    return s->max_mib;
}

/* ---- the process ---- */

static int write_config(const char *path, const char *dir, const char *region,
                        const char *access_key_id, const char *secret, tw_err *err)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return tw_err_set(err, -1, "%s: %s", path, strerror(errno));
    fchmod(fileno(fp), 0600); /* it holds a secret */
    fprintf(fp,
            "; written by a trailwatch benchmark\n"
            "[server]\nlisten = 127.0.0.1:0\ndata_dir = %s/data\n\n"
            "[account]\nid = 123456789012\nregions = %s\n\n"
            "[user bench]\naccess_key_id = %s\nsecret_access_key = %s\n",
            dir, region, access_key_id, secret);
    if (fclose(fp) != 0)
        return tw_err_set(err, -1, "%s: %s", path, strerror(errno));
    return 0;
}

/* Copies the collector's log to our stderr until it closes it. */
static void *forward_log(void *arg)
{
    tw_bench_collector *c = arg;
    char chunk[4096];
    ssize_t n;
    while ((n = read(c->log_fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && write(STDERR_FILENO, chunk, (size_t)n) < 0)
            break;
    return NULL;
}

/* Reads the log until its "listening on URL" line, then echoes what it read. */
static int wait_until_listening(tw_bench_collector *c, tw_err *err)
{
    char text[8192];
    size_t len = 0;
    double deadline = now_s() + READY_TIMEOUT_S;
    const char *at, *end;
    while ((at = memmem(text, len, "listening on ", 13)) == NULL
           || (end = memchr(at, '\n', len - (size_t)(at - text))) == NULL) {
        struct pollfd pfd = {.fd = c->log_fd, .events = POLLIN};
        int wait_ms = (int)((deadline - now_s()) * 1000);
        ssize_t n = 0;
        if (wait_ms <= 0 || poll(&pfd, 1, wait_ms) <= 0 || len == sizeof text - 1
            || (n = read(c->log_fd, text + len, sizeof text - 1 - len)) <= 0)
            return tw_err_set(err, -1,
                              "the collector %s before saying \"listening on URL\"; its log:\n%.*s",
                              n == 0 && wait_ms > 0 ? "exited" : "took too long", (int)len, text);
        len += (size_t)n;
    }
    if (write(STDERR_FILENO, text, len) < 0)
        (void)0; /* our stderr is gone: nothing to tell */
    snprintf(c->url, sizeof c->url, "%.*s", (int)strcspn(at + 13, " \n"), at + 13);
    if (strncmp(c->url, "http://", 7) != 0)
        return tw_err_set(err, -1, "the collector listens on %s, not on http://", c->url);
    snprintf(c->host, sizeof c->host, "%.*s", (int)strcspn(c->url + 7, "/"), c->url + 7);
    return 0;
}

static int spawn(tw_bench_collector *c, const char *program, const char *conf, tw_err *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return tw_err_set(err, -1, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    char *argv[] = {(char *)program, "--config", (char *)conf, NULL};
    int rc = posix_spawn(&c->pid, program, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        c->pid = 0;
        return tw_err_set(err, -1, "%s: %s", program, strerror(rc));
    }
    c->log_fd = fds[0];
    return 0;
}

int tw_bench_collector_start(tw_bench_collector *c, const char *program, const char *dir,
                             const char *region, const char *access_key_id,
                             const char *secret_access_key, tw_err *err)
{
    char conf[PATH_MAX + 32];
    snprintf(conf, sizeof conf, "%s/collector.conf", dir);
    if (write_config(conf, dir, region, access_key_id, secret_access_key, err) != 0
        || spawn(c, program, conf, err) != 0)
        return -1;
    if (wait_until_listening(c, err) != 0) {
        kill(c->pid, SIGTERM);
        waitpid(c->pid, NULL, 0);
        close(c->log_fd);
        c->pid = 0;
        return -1;
    }
    pthread_create(&c->log_thread, NULL, forward_log, c);
    return 0;
}

int tw_bench_collector_stop(tw_bench_collector *c)
{
    if (c->pid <= 0)
        return 0;
    kill(c->pid, SIGTERM);
    int status = 0;
    double deadline = now_s() + STOP_TIMEOUT_S;
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (now_s() > deadline) {
            fprintf(stderr, "the collector ignored SIGTERM for %d s: killed\n", STOP_TIMEOUT_S);
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        usleep(SAMPLE_US);
    }
    c->pid = 0;
    pthread_join(c->log_thread, NULL);
    close(c->log_fd);
    return status;
}
