/* log.c — line-per-event logging to stderr, journal-aware (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "trailwatch";
static tw_log_level log_level = TW_LOG_INFO;
static bool log_to_journal;

/* systemd sets JOURNAL_STREAM=<dev>:<ino> for the stream it connected to
 * stdout/stderr; matching it against fd 2 tells us the journal is listening
 * (and not, say, a terminal the service manager's child later redirected). */
static bool stderr_is_journal(void)
{
    const char *stream = getenv("JOURNAL_STREAM");
    if (stream == NULL)
        return false;
    unsigned long long dev, ino;
    if (sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tw_log_init(const char *program, tw_log_level level)
{
    log_program = program;
    log_level = level;
    log_to_journal = stderr_is_journal();
}

void tw_log_set_level(tw_log_level level)
{
    log_level = level;
}

tw_log_level tw_log_get_level(void)
{
    return log_level;
}

static const struct {
    const char *name;
    tw_log_level level;
} level_names[] = {
    {"error", TW_LOG_ERROR}, {"warn", TW_LOG_WARN},   {"warning", TW_LOG_WARN},
    {"notice", TW_LOG_NOTICE}, {"info", TW_LOG_INFO}, {"debug", TW_LOG_DEBUG},
};

int tw_log_level_parse(const char *name, tw_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i].name) == 0) {
            *out = level_names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

int tw_log_level_option(const char *program, const char *text, tw_log_level *out)
{
    *out = TW_LOG_INFO;
    if (text != NULL && tw_log_level_parse(text, out) != 0) {
        fprintf(stderr,
                "%s: --log-level: \"%s\" is not one of error, warn, notice, info, debug\n",
                program, text);
        return -EINVAL;
    }
    return 0;
}

const char *tw_log_level_name(tw_log_level level)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (level_names[i].level == level)
            return level_names[i].name;
    return "info";
}

void tw_log(tw_log_level level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    char line[4096];
    size_t n;
    if (log_to_journal) {
        n = (size_t)snprintf(line, sizeof line, "<%d>", (int)level);
    } else {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %-6s %s: ",
                              now.tv_nsec / 1000000L, tw_log_level_name(level), log_program);
    }
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m > 0)
        n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    /* A message must stay one line: fold embedded newlines. */
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    ssize_t unused = write(STDERR_FILENO, line, n);
    (void)unused;
}
