/* status_command.h — `trailwatch status`: reads the running agent's status socket
 * (agent/status.h) and prints it for a person, or as JSON with --json. */
#ifndef TW_CLI_STATUS_COMMAND_H
#define TW_CLI_STATUS_COMMAND_H

int tw_cli_status(int argc, char **argv);

#endif
