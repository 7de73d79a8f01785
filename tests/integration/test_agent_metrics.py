"""The agent's metrics reach the real collector, and nothing is lost when the
collector is down or the agent is killed: real trailwatch-agent and
trailwatch-collector processes on loopback, checked with the real AWS CLI."""
import datetime
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from twtest import (ACCESS_KEY_ID, SECRET_ACCESS_KEY, CollectorTestCase, binary, wait_for)

HOST = "it-host"

AGENT_CONFIG = """\
[agent]
state_dir = {state}
hostname  = {host}
log_level = debug
stop_timeout = 20s

[endpoint]
url    = {url}
region = us-east-1
access_key_id     = {akid}
secret_access_key = {secret}

[metrics]
interval       = 1s
flush_interval = {flush}
cpu  = yes
mem  = yes
net  = yes
disk = yes
{extra}
"""


def read(path):
    with open(path) as f:
        return f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class AgentMetricsTestCase(CollectorTestCase):
    def start_agent(self, url=None, flush="2s", extra="", name="agent"):
        self.state = os.path.join(self.dir, "agent-state")
        self.agent_config = self.write("agent.conf", AGENT_CONFIG.format(
            state=self.state, host=HOST, url=url or self.url, akid=ACCESS_KEY_ID,
            secret=SECRET_ACCESS_KEY, flush=flush, extra=extra))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = self.dir
        agent = self.start([binary("trailwatch-agent"), "--config", self.agent_config], env=env,
                           name=name)
        wait_for(lambda: "started" in agent.output() or not agent.alive(), timeout=20,
                 what="the agent to start")
        self.assertTrue(agent.alive(), agent.output())
        return agent

    def stats(self, name, dims, start, end, period=1, stats=("SampleCount",), unit=None):
        args = ["cloudwatch", "get-metric-statistics", "--namespace", "CWAgent",
                "--metric-name", name, "--start-time", iso(start), "--end-time", iso(end),
                "--period", str(period), "--statistics", *stats,
                "--dimensions", *[f"Name={k},Value={v}" for k, v in dims]]
        if unit:
            args += ["--unit", unit]
        _, out, _ = self.aws(*args)
        return sorted(out["Datapoints"], key=lambda d: d["Timestamp"])

    def wait_datapoints(self, name, dims, start, timeout=40, unit=None):
        def have():
            points = self.stats(name, dims, start, time.time() + 60, unit=unit)
            return points if points else None
        return wait_for(have, timeout=timeout, interval=1.0, what=f"datapoints of {name}")


class HostMetricsTest(AgentMetricsTestCase):
    def test_cpu_mem_net_arrive_with_units_and_dimensions(self):
        self.start_collector()
        start = time.time() - 5
        self.start_agent()
        cpu = self.wait_datapoints("cpu_usage_idle", [("host", HOST), ("cpu", "cpu-total")],
                                   start, unit="Percent")
        self.assertEqual(cpu[0]["Unit"], "Percent")
        # Per core too.
        self.wait_datapoints("cpu_usage_user", [("host", HOST), ("cpu", "cpu0")], start)
        mem = self.wait_datapoints("mem_used_percent", [("host", HOST)], start, unit="Percent")
        self.assertEqual(mem[0]["Unit"], "Percent")
        # The network input publishes every non-loopback interface.
        interfaces = [line.split(":")[0].strip() for line in read("/proc/net/dev").splitlines()[2:]]
        interfaces = [i for i in interfaces if i != "lo"]
        self.assertTrue(interfaces)
        net = self.wait_datapoints("net_bytes_recv", [("host", HOST), ("interface", interfaces[0])],
                                   start, unit="Bytes")
        self.assertEqual(net[0]["Unit"], "Bytes")
        # High resolution (interval under 60 s): one datapoint per second.
        points = self.stats("cpu_usage_idle", [("host", HOST), ("cpu", "cpu-total")], start,
                            time.time() + 60)
        self.assertGreaterEqual(len(points), 2)
        # The agent lists its metrics like the CloudWatch agent does.
        _, listed, _ = self.aws("cloudwatch", "list-metrics", "--namespace", "CWAgent",
                                "--metric-name", "mem_available_percent")
        self.assertTrue(listed["Metrics"])

    def test_mem_used_percent_agrees_with_proc_meminfo(self):
        self.start_collector()
        start = time.time() - 5
        self.start_agent()
        self.wait_datapoints("mem_used_percent", [("host", HOST)], start)
        now = time.time()
        points = self.stats("mem_used_percent", [("host", HOST)], now - 30, now + 60,
                            stats=("Average",))
        info = {}
        for line in read("/proc/meminfo").splitlines():
            key, value = line.split(":")
            info[key] = int(value.split()[0])
        expected = 100.0 * (info["MemTotal"] - info["MemAvailable"]) / info["MemTotal"]
        self.assertLess(abs(points[-1]["Average"] - expected), 2.0,
                        f"agent says {points[-1]['Average']}, /proc/meminfo says {expected}")

    def test_status_shows_what_was_sent(self):
        self.start_collector()
        start = time.time() - 5
        self.start_agent()
        self.wait_datapoints("cpu_usage_idle", [("host", HOST), ("cpu", "cpu-total")], start)
        r = subprocess.run([binary("trailwatch"), "status", "--config", self.agent_config,
                            "--json"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(r.stdout)
        self.assertTrue(status["endpoint"]["reachable"])
        self.assertGreater(status["metrics_output"]["batches_sent"], 0)
        self.assertGreater(status["metrics"]["samples"], 0)
        r = subprocess.run([binary("trailwatch"), "status", "--config", self.agent_config],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("batches sent", r.stdout)

    def test_self_metrics_are_published_in_their_own_namespace(self):
        self.start_collector()
        self.start_agent()
        def listed():
            _, out, _ = self.aws("cloudwatch", "list-metrics", "--namespace", "Trailwatch/Agent",
                                 "--metric-name", "batches_sent")
            return out["Metrics"] or None
        metrics = wait_for(listed, timeout=40, interval=1.0, what="the agent's own metrics")
        self.assertIn({"Name": "host", "Value": HOST}, metrics[0]["Dimensions"])


class CredentialsTest(AgentMetricsTestCase):
    def test_credentials_written_after_start_are_found_and_nothing_is_lost(self):
        self.start_collector()
        creds = os.path.join(self.dir, "aws-credentials")
        config = AGENT_CONFIG.format(state=os.path.join(self.dir, "agent-state"), host=HOST,
                                     url=self.url, akid="x", secret="y", flush="2s", extra="")
        config = config.replace("access_key_id     = x\nsecret_access_key = y\n",
                                f"credentials_file = {creds}\n")
        self.agent_config = self.write("agent.conf", config)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = self.dir
        start = time.time()
        agent = self.start([binary("trailwatch-agent"), "--config", self.agent_config], env=env)
        wait_for(lambda: "no AWS credentials" in agent.output(), timeout=20)
        time.sleep(4)
        with open(creds, "w") as f:
            f.write(f"[default]\naws_access_key_id = {ACCESS_KEY_ID}\n"
                    f"aws_secret_access_key = {SECRET_ACCESS_KEY}\n")
        os.chmod(creds, 0o600)
        # What was gathered before the keys existed arrives too.
        dims = [("host", HOST), ("cpu", "cpu-total")]
        first = int(start) + 3
        def early():
            points = self.stats("cpu_usage_idle", dims, first, first + 2)
            return points or None
        wait_for(early, timeout=90, interval=2.0, what="datapoints from before the keys existed")
        self.assertTrue(agent.alive())


class OutageTest(AgentMetricsTestCase):
    def test_collector_down_for_two_minutes_loses_no_datapoint(self):
        port = free_port()
        self.start_collector(name="collector-1", extra_config="")
        # Restart it on a fixed port so the agent's URL stays valid.
        self.collector.stop()
        config = open(self.collector_config).read().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        open(self.collector_config, "w").write(config)
        collector = self.start([binary("trailwatch-collector"), "--config",
                                self.collector_config], name="collector-2")
        wait_for(lambda: "listening on" in collector.output(), timeout=20)
        self.url = f"http://127.0.0.1:{port}"
        self.collector = collector
        start = time.time()
        agent = self.start_agent()
        dims = [("host", HOST), ("cpu", "cpu-total")]
        self.wait_datapoints("cpu_usage_idle", dims, start - 5)

        collector.signal(signal.SIGKILL)
        collector.wait()
        down = time.time()
        time.sleep(120)
        up = time.time()
        collector = self.start([binary("trailwatch-collector"), "--config",
                                self.collector_config], name="collector-3")
        self.collector = collector
        wait_for(lambda: "listening on" in collector.output(), timeout=20)

        # Every second of the outage arrives (the spool kept it; the backoff
        # is capped at 30 s, so it comes within a minute or so).
        first, last = int(down) + 2, int(up) - 2
        def complete():
            points = self.stats("cpu_usage_idle", dims, first, last + 1)
            seconds = {int(datetime.datetime.fromisoformat(
                p["Timestamp"].replace("Z", "+00:00")).timestamp()) for p in points}
            missing = [t for t in range(first, last + 1) if t not in seconds]
            return (points, missing) if not missing else None
        try:
            wait_for(complete, timeout=120, interval=3.0, what="the outage's datapoints")
        except AssertionError:
            points = self.stats("cpu_usage_idle", dims, first, last + 1)
            self.fail(f"{len(points)} of {last - first + 1} seconds arrived\n"
                      f"agent:\n{agent.output()[-4000:]}")
        self.assertTrue(agent.alive())
        self.assertIn("answers again", agent.output())


class CrashTest(AgentMetricsTestCase):
    def test_spooled_batches_survive_kill_9(self):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # The collector is not there yet: everything goes to the spool.
        start = time.time()
        agent = self.start_agent(url=url)
        wait_for(lambda: os.path.isdir(os.path.join(self.state, "spool", "metrics")) and
                 len(os.listdir(os.path.join(self.state, "spool", "metrics"))) > 0, timeout=20)
        time.sleep(8)
        agent.signal(signal.SIGKILL)
        agent.wait()
        killed = time.time()
        # Start the collector on that port, then the agent again.
        self.start_collector()
        self.collector.stop()
        config = open(self.collector_config).read().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        open(self.collector_config, "w").write(config)
        collector = self.start([binary("trailwatch-collector"), "--config",
                                self.collector_config], name="collector-2")
        wait_for(lambda: "listening on" in collector.output(), timeout=20)
        self.collector, self.url = collector, url
        agent2 = self.start_agent(url=url, name="agent-2")
        dims = [("host", HOST), ("cpu", "cpu-total")]
        # The batches flushed before the kill (every 2 s) all arrive.
        first, last = int(start) + 3, int(killed) - 4
        def complete():
            points = self.stats("cpu_usage_idle", dims, first, last + 1)
            seconds = {int(datetime.datetime.fromisoformat(
                p["Timestamp"].replace("Z", "+00:00")).timestamp()) for p in points}
            return points if all(t in seconds for t in range(first, last + 1)) else None
        try:
            wait_for(complete, timeout=60, interval=2.0, what="the spooled datapoints")
        except AssertionError:
            self.fail(f"agent-2:\n{agent2.output()[-4000:]}")
        self.assertIn("left in the spool by the last run", agent2.output())


class StatsdTest(AgentMetricsTestCase):
    def test_statsd_packets_sent_with_nc_arrive_as_metrics(self):
        self.start_collector()
        port = free_port()
        start = time.time() - 5
        self.start_agent(extra=f"[statsd]\nlisten = 127.0.0.1:{port}\nflush_interval = 1s\n")
        packets = ["checkout.count:1|c|#env:test", "checkout.count:2|c|#env:test",
                   "queue.depth:42|g", "api.latency:12|ms", "api.latency:30|ms"]
        for p in packets:
            subprocess.run(["nc", "-u", "-w1", "127.0.0.1", str(port)], input=p, text=True,
                           check=True, timeout=10)
        points = self.wait_datapoints("checkout.count", [("host", HOST), ("env", "test")], start)
        # Both increments arrive, whichever flushes they fell into.
        def summed():
            sums = self.stats("checkout.count", [("host", HOST), ("env", "test")], start,
                              time.time() + 60, period=60, stats=("Sum",))
            return sum(p["Sum"] for p in sums) == 3.0 or None
        wait_for(summed, timeout=30, interval=1.0, what="checkout.count to sum to 3")
        self.wait_datapoints("queue.depth", [("host", HOST)], start)
        latency = self.wait_datapoints("api.latency", [("host", HOST)], start)
        self.assertEqual(latency[0]["Unit"], "Milliseconds")
        self.assertTrue(points)


class PluginTest(AgentMetricsTestCase):
    def test_c_plugin_metrics_arrive(self):
        self.start_collector()
        start = time.time() - 5
        # The example plugin from the build tree's plugin directory.
        self.start_agent(extra="[plugin load]\nlibrary = loadavg.so\ninterval = 1s\n")
        points = self.wait_datapoints("procs_total", [("host", HOST)], start)
        self.assertEqual(points[0]["Unit"], "Count")
        self.wait_datapoints("load1", [("host", HOST)], start)


class ExecTest(AgentMetricsTestCase):
    def test_exec_plugin_metrics_arrive_and_a_hanging_one_is_killed(self):
        self.start_collector()
        script = self.write("queue-depth.sh", "#!/bin/sh\necho 'queue_depth 7 Count queue=mail'\n")
        os.chmod(script, 0o755)
        hang = self.write("hang.sh", "#!/bin/sh\necho 'partial 1'\nsleep 1000\n")
        os.chmod(hang, 0o755)
        start = time.time() - 5
        agent = self.start_agent(extra=f"[exec queue]\ncommand = {script}\ninterval = 1s\n"
                                       f"[exec hang]\ncommand = {hang}\ninterval = 2s\n"
                                       f"timeout = 1s\n")
        points = self.wait_datapoints("queue_depth", [("host", HOST), ("queue", "mail")], start)
        self.assertEqual(points[0]["Unit"], "Count")
        wait_for(lambda: "timed out" in agent.output(), timeout=20, what="the hang to be killed")
        self.assertTrue(agent.alive())


if __name__ == "__main__":
    unittest.main()
