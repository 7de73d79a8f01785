/* agent.h — the running agent: one libuv loop and the lifetime of its
 * configuration.
 *
 * tw_agent_run() takes a loaded, error-free configuration and runs until
 * SIGTERM or SIGINT: it claims the state directory (private, locked so that
 * two agents never share positions), tells systemd it is ready, pets the
 * watchdog, reloads on SIGHUP (a new configuration with errors is refused and
 * the running one kept), and on a stop signal finishes within the
 * configured stop_timeout. Inputs and outputs hang off this loop.
 */
#ifndef TW_AGENT_H
#define TW_AGENT_H

#include "config.h"
#include "err.h"

/* Exit statuses, also documented in trailwatch-agent --help. */
enum {
    TW_EXIT_OK = 0,
    TW_EXIT_FAILURE = 1, /* runtime failure, or a second stop signal */
    TW_EXIT_USAGE = 2,
    TW_EXIT_CONFIG = 78, /* EX_CONFIG: systemd units don't restart on it */
};

/* Runs the agent. config_path is re-read on SIGHUP. Takes ownership of
 * *config (freed before returning). log_level_override (NULL for none) wins
 * over the file's log_level, across reloads too. Returns an exit status. */
int tw_agent_run(const char *config_path, tw_agent_config *config,
                 const char *log_level_override);

#endif
