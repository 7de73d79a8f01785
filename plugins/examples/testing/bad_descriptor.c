/* bad_descriptor.c — test-only plugins, each broken in one way the agent
 * must refuse at load with a clear message (tests/unit/test_plugin_host.c).
 * Built once per BAD_* define (CMakeLists.txt next to this file). */
#include <stddef.h>

#include <trailwatch/plugin.h>

static int bad_init(trailwatch_host *host, const trailwatch_host_api *api, void **state)
{
    *state = NULL;
    return 0;
}

static int bad_collect(void *state, trailwatch_host *host, const trailwatch_host_api *api)
{
    return 0;
}

#if !defined(BAD_NOSHUTDOWN)
static void bad_shutdown(void *state)
{
}
#endif

static const trailwatch_plugin bad_plugin = {
#if defined(BAD_ABI99)
    .abi_version = 99, /* as if built against a future SDK */
#else
    .abi_version = TRAILWATCH_PLUGIN_ABI_VERSION,
#endif
#if defined(BAD_SMALL)
    .struct_size = 8, /* as if built from a hand-written, truncated copy */
#else
    .struct_size = sizeof(trailwatch_plugin),
#endif
#if defined(BAD_NONAME)
    .name = NULL,
#else
    .name = "bad",
#endif
    .init = bad_init,
    .collect = bad_collect,
#if !defined(BAD_NOSHUTDOWN)
    .shutdown = bad_shutdown,
#endif
};

#if defined(BAD_NOENTRY)
/* A shared object that exports something, but not the entry point. */
__attribute__((visibility("default"))) const trailwatch_plugin *bad_entry(void);
__attribute__((visibility("default"))) const trailwatch_plugin *bad_entry(void)
{
    return &bad_plugin;
}
#elif defined(BAD_NULLENTRY)
TRAILWATCH_PLUGIN_EXPORT const trailwatch_plugin *trailwatch_plugin_entry(uint32_t abi);
TRAILWATCH_PLUGIN_EXPORT const trailwatch_plugin *trailwatch_plugin_entry(uint32_t abi)
{
    (void)bad_plugin;
    return NULL;
}
#else
TRAILWATCH_PLUGIN_DEFINE(bad_plugin)
#endif
