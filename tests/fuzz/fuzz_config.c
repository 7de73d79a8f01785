/* fuzz_config.c — libFuzzer target for the agent configuration: the input is
 * an agent.conf, loaded through the whole model (inih, our line reader,
 * ${ENV} substitution, continuation lines, key tables, cross-section rules)
 * and freed. Nothing may crash, leak or trip a sanitizer, whatever the bytes.
 *
 * Text without NUL bytes goes through tw_agent_config_load_string(). Input
 * holding a NUL is written to a memfd and read as a file, so that the file
 * reader's NUL-byte and line handling are fuzzed too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Seeds refer to these, so ${} substitution takes every path: set, set
     * but empty, unset, and a value that itself looks like a reference. */
    setenv("TW_FUZZ_SET", "value-from-env", 1);
    setenv("TW_FUZZ_EMPTY", "", 1);
    setenv("TW_FUZZ_PATH", "/var/log/fuzz.log", 1);
    setenv("TW_FUZZ_NESTED", "${TW_FUZZ_SET}", 1);
    unsetenv("TW_FUZZ_UNSET");
    return 0;
}

static void load_as_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        tw_agent_config config;
        tw_agent_config_load(&config, path);
        tw_agent_config_free(&config);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size) != NULL) {
        load_as_file(data, size);
        return 0;
    }
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    tw_agent_config config;
    tw_agent_config_load_string(&config, "fuzz.conf", text);
    tw_agent_config_free(&config);
    free(text);
    return 0;
}
