/* check_config.c — validating an agent configuration for a person (see
 * check_config.h). */
#include "check_config.h"

#include "config.h"
#include "in_exec.h"
#include "metrics.h"
#include "plugin_host.h"
#include "units.h"

/* What loading the file cannot tell: whether each plugin library loads and
 * speaks our ABI, whether each exec command line splits. */
static size_t check_inputs(const tw_agent_config *config, FILE *err_out)
{
    size_t errors = 0;
    tw_err err;
    for (size_t i = 0; i < config->n_plugins; i++) {
        const tw_plugin_config *p = &config->plugins[i];
        if (tw_plugin_host_check(p, tw_plugin_host_default_dir(), &err) != 0) {
            fprintf(err_out, "%s:%d: [plugin %s] %s\n", p->file, p->line, p->name, err.msg);
            errors++;
        }
    }
    for (size_t i = 0; i < config->n_execs; i++) {
        const tw_exec_config *x = &config->execs[i];
        tw_in_exec_options o;
        tw_metrics_exec_options(x, config->agent.hostname, &o);
        if (tw_in_exec_check_options(&o, &err) != 0) {
            fprintf(err_out, "%s:%d: [exec %s] %s\n", x->file, x->line, x->name, err.msg);
            errors++;
        }
    }
    return errors;
}

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
    size_t errors = check_inputs(&config, err_out);
    if (errors > 0) {
        fprintf(err_out, "%s: %zu error%s; configuration NOT valid\n", path, errors,
                errors == 1 ? "" : "s");
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
