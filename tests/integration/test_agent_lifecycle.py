"""trailwatch-agent as a service manager sees it: start, reload, stop.

Runs the real binary with a real configuration on disk, sends real signals
and reads sd_notify messages from a real datagram socket.
"""
import os
import signal
import stat
import subprocess
import unittest

from twtest import NotifySocket, TempDirTestCase, binary, wait_for

GOOD = """\
[agent]
state_dir = {state}
stop_timeout = 5s

[endpoint]
url = http://127.0.0.1:4590
region = us-east-1

[metrics]
interval = {interval}
"""

BAD = """\
[agent]
state_dir = {state}

[metrics]
interval = 60
cpu = maybe
"""


class AgentLifecycleTest(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.agent = binary("trailwatch-agent")
        self.state = os.path.join(self.dir, "state", "agent")
        self.config = self.write("agent.conf", GOOD.format(state=self.state, interval="10s"))

    def start_agent(self, env=None, name="agent"):
        p = self.start([self.agent, "--config", self.config], env=env, name=name)
        p.wait_for_output("trailwatch-agent " )
        p.wait_for_output("started")
        return p

    def test_check_config_accepts_good_file(self):
        r = subprocess.run([self.agent, "--config", self.config, "--check-config"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration valid", r.stdout)

    def test_check_config_reports_every_error_with_file_and_line(self):
        self.write("agent.conf", BAD.format(state=self.state))
        r = subprocess.run([self.agent, "--config", self.config, "--check-config"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{self.config}:5: [metrics] interval:", r.stderr)
        self.assertIn('did you mean "60s"?', r.stderr)
        self.assertIn(f"{self.config}:6: [metrics] cpu: \"maybe\" is not a boolean", r.stderr)
        self.assertIn("2 errors", r.stderr)

    def test_bad_config_at_start_exits_with_ex_config(self):
        self.write("agent.conf", BAD.format(state=self.state))
        p = self.start([self.agent, "--config", self.config])
        self.assertEqual(p.wait(), 78)
        self.assertIn("not starting: 2 configuration errors", p.output())

    def test_state_dir_is_created_private(self):
        p = self.start_agent()
        mode = stat.S_IMODE(os.stat(self.state).st_mode)
        self.assertEqual(mode & 0o077, 0, oct(mode))
        p.signal(signal.SIGTERM)
        self.assertEqual(p.wait(), 0)

    def test_second_agent_on_same_state_dir_is_refused(self):
        first = self.start_agent()
        second = self.start([self.agent, "--config", self.config], name="second")
        self.assertEqual(second.wait(), 1)
        self.assertIn(f"(pid {first.proc.pid}) is using the state directory", second.output())
        self.assertTrue(first.alive())

    def test_sighup_with_good_config_reloads(self):
        p = self.start_agent()
        self.write("agent.conf", GOOD.format(state=self.state, interval="30s"))
        p.signal(signal.SIGHUP)
        p.wait_for_output("configuration reloaded: metrics every 30s")
        self.assertTrue(p.alive())
        p.signal(signal.SIGTERM)
        self.assertEqual(p.wait(), 0)

    def test_sighup_with_bad_config_keeps_running_config(self):
        p = self.start_agent()
        self.write("agent.conf", BAD.format(state=self.state))
        p.signal(signal.SIGHUP)
        p.wait_for_output("reload refused: 2 errors in the new configuration")
        out = p.output()
        self.assertIn("reload: " + self.config + ":6: [metrics] cpu", out)
        self.assertTrue(p.alive())
        # The old configuration still runs: a later good file reloads fine.
        self.write("agent.conf", GOOD.format(state=self.state, interval="20s"))
        p.signal(signal.SIGHUP)
        p.wait_for_output("configuration reloaded: metrics every 20s")
        p.signal(signal.SIGTERM)
        self.assertEqual(p.wait(), 0)

    def test_dropin_files_are_read_in_name_order(self):
        self.write("agent.conf.d/20-slow.conf", "[metrics]\ninterval = 50s\n")
        self.write("agent.conf.d/10-fast.conf", "[metrics]\ninterval = 5s\n")
        r = subprocess.run([self.agent, "--config", self.config, "--check-config"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("every 50s", r.stdout)

    def test_sigterm_stops_cleanly_and_sigint_too(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            p = self.start_agent(name=f"agent-{sig}")
            p.signal(sig)
            self.assertEqual(p.wait(timeout=10), 0)
            self.assertIn("stopped", p.output())

    def test_sd_notify_ready_reloading_watchdog_stopping(self):
        notify = NotifySocket(self.dir)
        try:
            env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"}
            p = self.start_agent(env=env)
            notify.wait_for("READY=1")
            notify.wait_for("WATCHDOG=1")
            p.signal(signal.SIGHUP)
            notify.wait_for("RELOADING=1")
            wait_for(lambda: sum("READY=1" in m for m in notify.drain()) >= 2,
                     what="READY=1 after the reload")
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(), 0)
            notify.wait_for("STOPPING=1")
        finally:
            notify.close()

    def test_env_substitution_in_values(self):
        self.write("agent.conf", GOOD.format(state=self.state, interval="${TW_TEST_INTERVAL:-7s}"))
        r = subprocess.run([self.agent, "--config", self.config, "--check-config"],
                           capture_output=True, text=True, env=dict(os.environ, TW_TEST_INTERVAL="9s"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("every 9s", r.stdout)

    def test_usage_errors_exit_2(self):
        r = subprocess.run([self.agent, "--bogus"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("Usage: trailwatch-agent", r.stderr)
        r = subprocess.run([self.agent, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^trailwatch-agent \d+\.\d+\.\d+")


class CliTest(TempDirTestCase):
    def test_every_subcommand_has_help(self):
        cli = binary("trailwatch")
        r = subprocess.run([cli, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        commands = [line.split()[0] for line in r.stdout.splitlines()
                    if line.startswith("  ") and line.strip()]
        self.assertIn("check-config", commands)
        for c in commands:
            h = subprocess.run([cli, c, "--help"], capture_output=True, text=True)
            self.assertEqual(h.returncode, 0, c)
            self.assertIn(f"Usage: trailwatch {c}", h.stdout)

    def test_check_config_through_cli(self):
        cli = binary("trailwatch")
        bad = self.write("a.conf", "[metric]\ninterval = 5s\n")
        r = subprocess.run([cli, "check-config", "--config", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown section [metric] (did you mean [metrics]?)", r.stderr)
        r = subprocess.run([cli, "frobnicate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
