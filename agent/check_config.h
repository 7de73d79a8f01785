/* check_config.h — "is this configuration good?", for people.
 *
 * Shared by `trailwatch-agent --check-config` and `trailwatch check-config`:
 * loads the agent configuration, prints every problem (not just the first)
 * to err_out, or a short summary of what would run to out.
 */
#ifndef TW_CHECK_CONFIG_H
#define TW_CHECK_CONFIG_H

#include <stdio.h>

/* Returns 0 when the configuration is valid, 1 when it is not. */
int tw_agent_check_config(const char *path, FILE *out, FILE *err_out);

#endif
