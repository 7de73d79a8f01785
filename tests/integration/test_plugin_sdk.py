"""The plugin SDK as a plugin author meets it.

Installs the build tree (`cmake --install` with DESTDIR, as a package build
does), builds out-of-tree plugins against the installed SDK with exactly
`cc -shared -fPIC $(pkg-config --cflags trailwatch-plugin) my.c -o my.so`,
and loads them the way the agent does: through plugin_probe (a small driver
of agent/plugin_host.h that prints what a plugin emits) and through
`trailwatch-agent --check-config`. A plugin built for another ABI version
is refused with a message naming both versions.
"""
import os
import shutil
import subprocess
import unittest

from twtest import TempDirTestCase, binary

BUILD_DIR = os.environ.get("TW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
PROBE = os.environ.get("TW_PLUGIN_PROBE", os.path.join(BUILD_DIR, "tests", "plugin_probe"))

# An out-of-tree plugin: one metric with one dimension, plus a key.
MY_PLUGIN = r"""
#include <errno.h>
#include <stdlib.h>
#include <trailwatch/plugin.h>

static const char *const keys[] = {"answer", NULL};

static int my_init(trailwatch_host *host, const trailwatch_host_api *api, void **state)
{
    const char *answer = api->config_get(host, "answer");
    double *value = malloc(sizeof *value);
    if (value == NULL)
        return -ENOMEM;
    *value = answer ? atof(answer) : 42;
    *state = value;
    return 0;
}

static int my_collect(void *state, trailwatch_host *host, const trailwatch_host_api *api)
{
    trailwatch_dimension source = {"source", "sdk"};
    trailwatch_metric m = {.name = "sdk_answer", .unit = "Count", .value = *(double *)state,
                           .dimensions = &source, .dimension_count = 1};
    return api->emit(host, &m);
}

static void my_shutdown(void *state)
{
    free(state);
}

static const trailwatch_plugin my_plugin = {
    .abi_version = MY_ABI_VERSION,
    .struct_size = sizeof(trailwatch_plugin),
    .name = "my",
    .description = "an out-of-tree plugin built against the installed SDK",
    .config_keys = keys,
    .init = my_init,
    .collect = my_collect,
    .shutdown = my_shutdown,
};

TRAILWATCH_PLUGIN_DEFINE(my_plugin)
"""

CONFIG = """\
[agent]
state_dir = {state}

[metrics]
interval = 1s

[plugin {name}]
library = {library}
{extra}
"""


class PluginSdkTest(TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.stage = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"tw-sdk-stage-{os.getpid()}")
        shutil.rmtree(cls.stage, ignore_errors=True)
        r = subprocess.run(["cmake", "--install", BUILD_DIR], capture_output=True, text=True,
                           env=dict(os.environ, DESTDIR=cls.stage))
        if r.returncode != 0:
            raise AssertionError(f"cmake --install {BUILD_DIR} failed:\n{r.stdout}\n{r.stderr}")
        cls.pc_dir = cls.installed("trailwatch-plugin.pc")
        cls.plugin_dir = os.path.join(os.path.dirname(cls.pc_dir), "trailwatch", "plugins")
        cls.env = dict(os.environ, PKG_CONFIG_PATH=cls.pc_dir)
        cls.env.pop("PKG_CONFIG_SYSROOT_DIR", None)
        cls.env.pop("TRAILWATCH_PLUGIN_DIR", None)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.stage, ignore_errors=True)

    @classmethod
    def installed(cls, name):
        """The directory under the staged install that holds file name."""
        for root, _dirs, files in os.walk(cls.stage):
            if name in files:
                return root
        raise AssertionError(f"{name} was not installed under {cls.stage}")

    def pkg_config(self, *args):
        r = subprocess.run(["pkg-config", *args, "trailwatch-plugin"], capture_output=True,
                           text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def build_plugin(self, name, abi="TRAILWATCH_PLUGIN_ABI_VERSION"):
        source = self.write(f"{name}.c", MY_PLUGIN.replace("MY_ABI_VERSION", abi))
        # Exactly the command the guide gives, run by a shell.
        r = subprocess.run(
            f"cc -shared -fPIC $(pkg-config --cflags trailwatch-plugin) {name}.c -o {name}.so",
            shell=True, cwd=self.dir, env=self.env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, f"building {source} failed:\n{r.stderr}")
        return os.path.join(self.dir, f"{name}.so")

    def config(self, library, name="my", extra=""):
        return self.write(f"{name}.conf", CONFIG.format(state=os.path.join(self.dir, "state"),
                                                        name=name, library=library,
                                                        extra=extra))

    def probe(self, config, env=None):
        self.assertTrue(os.access(PROBE, os.X_OK), f"{PROBE} is not built")
        return subprocess.run([PROBE, config], capture_output=True, text=True, timeout=60,
                              env=dict(self.env, **(env or {})))

    # ---- the SDK as installed -------------------------------------------

    def test_pkg_config_points_at_the_installed_header(self):
        cflags = self.pkg_config("--cflags")
        self.assertTrue(cflags.startswith("-I"), cflags)
        header = os.path.join(cflags[2:], "trailwatch", "plugin.h")
        self.assertTrue(os.path.isfile(header), f"{header} (from {cflags}) does not exist")
        self.assertTrue(os.path.realpath(header).startswith(os.path.realpath(self.stage)))
        self.assertEqual(self.pkg_config("--modversion"), "0.1.0")
        self.assertEqual(self.pkg_config("--variable=abi_version"), "1")
        self.assertEqual(os.path.realpath(self.pkg_config("--variable=plugindir")),
                         os.path.realpath(self.plugin_dir))
        self.assertEqual(self.pkg_config("--libs"), "")

    def test_example_plugins_are_installed_in_the_plugin_directory(self):
        for name in ("loadavg.so", "nginx_status.so"):
            self.assertTrue(os.path.isfile(os.path.join(self.plugin_dir, name)), name)
        for test_only in ("misbehave.so", "bad_abi99.so"):
            with self.assertRaises(AssertionError):
                self.installed(test_only)

    # ---- out-of-tree plugins ---------------------------------------------

    def test_out_of_tree_plugin_loads_and_emits(self):
        library = self.build_plugin("my")
        r = self.probe(self.config(library, extra="answer = 7"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("check my ok", r.stdout)
        self.assertIn("sample sdk_answer Count 7 source=sdk", r.stdout)
        self.assertIn("stats my collects=1 failures=0 emitted=1 rejected=0", r.stdout)

    def test_plugin_built_for_another_abi_is_refused(self):
        library = self.build_plugin("future", abi="(TRAILWATCH_PLUGIN_ABI_VERSION + 1)")
        r = self.probe(self.config(library, name="future"))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("[plugin future] future.so was built for plugin ABI 2; this agent speaks "
                      "ABI 1: rebuild it against trailwatch-plugin 0.1", r.stderr)
        self.assertNotIn("sample", r.stdout)

    def test_unknown_key_of_an_out_of_tree_plugin_is_reported_with_its_line(self):
        library = self.build_plugin("my")
        r = self.probe(self.config(library, extra="answr = 7"))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("my.conf:9: [plugin my] unknown key \"answr\" (did you mean \"answer\"?)",
                      r.stderr)

    def test_installed_example_loads_from_the_plugin_directory(self):
        r = self.probe(self.config("loadavg.so", name="load"),
                       env={"TRAILWATCH_PLUGIN_DIR": self.plugin_dir})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sample load1 None ", r.stdout)
        self.assertIn("sample procs_total Count ", r.stdout)

    # ---- check-config ------------------------------------------------------

    def check_config(self, config):
        agent = os.path.join(self.installed("trailwatch-agent"), "trailwatch-agent")
        return subprocess.run([agent, "--config", config, "--check-config"],
                              capture_output=True, text=True, timeout=60, env=self.env)

    def test_check_config_accepts_an_out_of_tree_plugin(self):
        r = self.check_config(self.config(self.build_plugin("my")))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration valid", r.stdout)

    def test_check_config_refuses_a_plugin_built_for_another_abi(self):
        library = self.build_plugin("future", abi="(TRAILWATCH_PLUGIN_ABI_VERSION + 1)")
        r = self.check_config(self.config(library, name="future"))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("future.so was built for plugin ABI 2; this agent speaks ABI 1: rebuild "
                      "it against trailwatch-plugin 0.1", r.stderr)


if __name__ == "__main__":
    unittest.main()
