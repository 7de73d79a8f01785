/* main.c — the `trailwatch` command line: one table of subcommands, each
 * with its own --help. Subcommands that talk to a collector (lookup-events,
 * logs tail, metrics get, validate-logs) join this table as they are built. */
#include <stdio.h>
#include <string.h>

#include "check_config.h"
#include "config.h"
#include "log.h"
#include "status_command.h"

typedef struct command {
    const char *name;
    const char *summary;
    const char *usage; /* full --help text */
    int (*run)(int argc, char **argv);
} command;

static int run_check_config(int argc, char **argv);
static int run_version(int argc, char **argv);
static int run_help(int argc, char **argv);

static const command commands[] = {
    {"check-config", "check an agent configuration and print every problem",
     "Usage: trailwatch check-config [--config FILE]\n"
     "\n"
     "Reads the agent configuration FILE (default " TW_AGENT_DEFAULT_CONFIG ") and\n"
     "the *.conf files in FILE.d, in name order, and prints every problem found, each\n"
     "with its file and line, or a summary of what the agent would run.\n"
     "\n"
     "Exit status: 0 valid, 1 not valid, 2 usage error.\n",
     run_check_config},
    {"status", "show what the running agent is doing (endpoint, batches, spool, inputs)",
     "Usage: trailwatch status [--config FILE] [--json]\n", tw_cli_status},
    {"version", "print the version", "Usage: trailwatch version\n", run_version},
    {"help", "show help for a command", "Usage: trailwatch help [COMMAND]\n", run_help},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "Usage: trailwatch COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun \"trailwatch COMMAND --help\" for a command's options.\n");
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int run_check_config(int argc, char **argv)
{
    const char *path = TW_AGENT_DEFAULT_CONFIG;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "trailwatch check-config: unexpected argument \"%s\"\n%s", argv[i],
                    find_command("check-config")->usage);
            return 2;
        }
    }
    return tw_agent_check_config(path, stdout, stderr);
}

static int run_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("trailwatch %s\n", TW_VERSION);
    return 0;
}

static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "trailwatch: no command \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    fputs(c->usage, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    tw_log_init("trailwatch", TW_LOG_WARN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return run_version(0, NULL);
    const command *c = find_command(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "trailwatch: no command \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(c->usage, stdout);
        return 0;
    }
    return c->run(argc - 1, argv + 1);
}
