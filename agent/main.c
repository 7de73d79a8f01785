/* main.c — trailwatch-agent's command line. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "check_config.h"
#include "config.h"
#include "log.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: trailwatch-agent [--config FILE] [--check-config] [--log-level LEVEL]\n"
            "\n"
            "Gathers this machine's metrics and tails its logs, and ships them to a\n"
            "trailwatch collector or to AWS (CloudWatch, CloudWatch Logs, CloudTrail).\n"
            "\n"
            "  -c, --config FILE     configuration file (default %s);\n"
            "                        FILE.d/*.conf are read after it, in name order\n"
            "  -t, --check-config    check the configuration, print every problem, and exit\n"
            "  -l, --log-level LEVEL error, warn, notice, info or debug (overrides the file)\n"
            "  -V, --version         print the version and exit\n"
            "  -h, --help            print this help and exit\n"
            "\n"
            "Signals: SIGHUP reloads the configuration (a bad one is refused and the\n"
            "running one kept); SIGTERM and SIGINT stop gracefully.\n"
            "Exit status: 0 stopped cleanly; 1 failure; 2 usage error; 78 configuration error.\n",
            TW_AGENT_DEFAULT_CONFIG);
}

/* The agent's big buffers are request bodies of about 1 MiB that live for
 * a moment. glibc's default raises its mmap threshold after the first such
 * buffer is freed, and later ones then stay in the heap and in per-thread
 * arenas, where freed memory is rarely given back: RSS grows to twice what
 * is live. A fixed threshold keeps big buffers in mmap (returned on free)
 * and two arenas are plenty for a loop and four workers. */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 2);
}

int main(int argc, char **argv)
{
    tune_malloc();
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = TW_AGENT_DEFAULT_CONFIG;
    const char *log_level = NULL;
    int check_only = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:tl:Vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 't': check_only = 1; break;
        case 'l': log_level = optarg; break;
        case 'V': printf("trailwatch-agent %s\n", TW_VERSION); return TW_EXIT_OK;
        case 'h': usage(stdout); return TW_EXIT_OK;
        default: usage(stderr); return TW_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "trailwatch-agent: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return TW_EXIT_USAGE;
    }
    tw_log_level level;
    if (tw_log_level_option("trailwatch-agent", log_level, &level) != 0)
        return TW_EXIT_USAGE;
    tw_log_init("trailwatch-agent", level);
    if (check_only)
        return tw_agent_check_config(config_path, stdout, stderr);

    tw_agent_config config;
    if (tw_agent_config_load(&config, config_path) != 0) {
        tw_conf_log_startup_errors(&config.conf);
        tw_agent_config_free(&config);
        return TW_EXIT_CONFIG;
    }
    return tw_agent_run(config_path, &config, log_level);
}
