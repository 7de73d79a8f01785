/* check_config.c — validating an agent configuration for a person (see
 * check_config.h). */
#include "check_config.h"

#include "config.h"
#include "units.h"

int tw_agent_check_config(const char *path, FILE *out, FILE *err_out)
{
    tw_agent_config config;
    int rc = tw_agent_config_load(&config, path);
    if (rc != 0) {
        for (size_t i = 0; i < config.conf.n_errors; i++)
            fprintf(err_out, "%s\n", config.conf.errors[i]);
        fprintf(err_out, "%s: %zu error%s; configuration NOT valid\n", path,
                config.conf.n_errors, config.conf.n_errors == 1 ? "" : "s");
        tw_agent_config_free(&config);
        return 1;
    }
    fprintf(out, "%s: configuration valid\n", path);
    for (size_t i = 0; i < config.conf.n_files; i++)
        fprintf(out, "  read %s\n", config.conf.files[i]);
    fprintf(out, "  state_dir %s\n", config.agent.state_dir);
    fprintf(out, "  endpoint  %s (region %s)\n", config.endpoint.url, config.endpoint.region);
    char every[32];
    tw_duration_format(config.metrics.interval_ms, every, sizeof every);
    if (config.metrics.enabled)
        fprintf(out, "  metrics   namespace %s every %s:%s%s%s%s%s\n", config.metrics.namespace_,
                every,
                config.metrics.cpu ? " cpu" : "", config.metrics.mem ? " mem" : "",
                config.metrics.net ? " net" : "", config.metrics.disk ? " disk" : "",
                config.metrics.diskio ? " diskio" : "");
    for (size_t i = 0; i < config.n_logs; i++)
        fprintf(out, "  logs      %s: %s (%s) -> %s%s\n", config.logs[i].name, config.logs[i].path,
                config.logs[i].format, config.logs[i].log_group,
                config.logs[i].audit ? " + audit events" : "");
    for (size_t i = 0; i < config.n_plugins; i++)
        fprintf(out, "  plugin    %s: %s\n", config.plugins[i].name, config.plugins[i].library);
    for (size_t i = 0; i < config.n_execs; i++)
        fprintf(out, "  exec      %s: %s\n", config.execs[i].name, config.execs[i].command);
    if (config.statsd.enabled)
        fprintf(out, "  statsd    %s\n", config.statsd.listen);
    tw_agent_config_free(&config);
    return 0;
}
