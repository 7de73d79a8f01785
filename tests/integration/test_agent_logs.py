"""Log lines reach the real collector exactly once: real trailwatch-agent and
trailwatch-collector processes on loopback, real files rotated, truncated
and removed under the agent, the agent killed with SIGKILL, the collector
down; counted with the real AWS CLI."""
import os
import random
import signal
import socket
import threading
import time
import unittest

from twtest import (ACCESS_KEY_ID, SECRET_ACCESS_KEY, CollectorTestCase, binary, wait_for)

HOST = "it-host"
GROUP = "/it/app"

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
cpu = no
mem = no
net = no
disk = no

[logs app]
path      = {path}
format    = {format}
log_group = {group}
log_stream = {stream}
read_from = head
{extra}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Writer(threading.Thread):
    """Appends numbered lines to a file at a steady rate; rotate() and
    copytruncate() act like logrotate does between two lines."""

    def __init__(self, path, count, per_second=2000, prefix="line"):
        super().__init__(daemon=True)
        self.path, self.count, self.per_second, self.prefix = path, count, per_second, prefix
        self.written = 0
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1)

    def run(self):
        batch = max(1, self.per_second // 100)
        while self.written < self.count:
            with self.lock:
                for _ in range(min(batch, self.count - self.written)):
                    self.f.write(f"{self.prefix} {self.written:08d} "
                                 f"{'x' * (self.written % 50)}\n")
                    self.written += 1
            time.sleep(0.01)
        self.f.close()

    def rotate(self, suffix):
        """Rename, then reopen (nginx -s reopen): lines written between the
        two go to the renamed file."""
        with self.lock:
            os.rename(self.path, self.path + suffix)
            self.f.write(f"{self.prefix} {self.written:08d} after-rename\n")
            self.written += 1
            self.f.close()
            self.f = open(self.path, "a", buffering=1)

    def copytruncate(self, suffix):
        with self.lock:
            self.f.flush()
            with open(self.path, "rb") as src, open(self.path + suffix, "wb") as dst:
                dst.write(src.read())
            self.f.truncate(0)
            self.f.seek(0)


class AgentLogsTestCase(CollectorTestCase):
    def start_agent(self, path, fmt="raw", stream="{hostname}", extra="", name="agent"):
        self.state = os.path.join(self.dir, "agent-state")
        self.agent_config = self.write("agent.conf", AGENT_CONFIG.format(
            state=self.state, host=HOST, url=self.url, akid=ACCESS_KEY_ID,
            secret=SECRET_ACCESS_KEY, path=path, format=fmt, group=GROUP, stream=stream,
            extra=extra))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = self.dir
        agent = self.start([binary("trailwatch-agent"), "--config", self.agent_config], env=env,
                           name=name)
        wait_for(lambda: "started" in agent.output() or not agent.alive(), timeout=20,
                 what="the agent to start")
        self.assertTrue(agent.alive(), agent.output())
        return agent

    def messages(self, stream=None):
        args = ["logs", "filter-log-events", "--log-group-name", GROUP]
        if stream:
            args += ["--log-stream-names", stream]
        rc, out, err = self.aws(*args, expect_rc=None)
        if rc != 0:
            return []
        return [e["message"] for e in out["events"]]

    def wait_count(self, expected, timeout=60, stream=None):
        def enough():
            got = self.messages(stream)
            return got if len(got) >= expected else None
        try:
            return wait_for(enough, timeout=timeout, interval=1.0, what=f"{expected} events")
        except AssertionError:
            return self.messages(stream)  # assert_exactly says what is wrong

    def agent_output(self):
        return "\n".join(p.output() for p in self.processes
                         if os.path.basename(p.log_path).startswith("agent"))

    def assert_exactly(self, messages, prefix, count):
        numbers = [int(m.split()[1]) for m in messages if m.startswith(prefix + " ")]
        dups = len(numbers) - len(set(numbers))
        missing = sorted(set(range(count)) - set(numbers))
        self.assertEqual((dups, missing[:20]), (0, []),
                         f"{dups} duplicates, {len(missing)} missing of {count}\n"
                         f"agent:\n{self.agent_output()[-6000:]}")
        self.assertEqual(len(messages), count)


class BasicTest(AgentLogsTestCase):
    def test_lines_arrive_once_in_order_with_crlf_utf8_and_long_lines(self):
        self.start_collector()
        path = os.path.join(self.dir, "app.log")
        with open(path, "wb") as f:
            for i in range(3000):
                f.write(f"line {i:08d} hello\n".encode())
            f.write(b"line 00003000 crlf\r\n")
            f.write(b"line 00003001 bad utf8 \xff\xfe end\n")
            f.write("line 00003002 caf\u00e9 \u2603\n".encode())
            f.write(b"line 00003003 no newline yet")
        self.start_agent(path, extra="max_line_size = 1KiB")
        got = self.wait_count(3004)
        self.assert_exactly(got, "line", 3004)
        self.assertIn("line 00003000 crlf", got)
        self.assertIn("line 00003001 bad utf8 \\xff\\xfe end", got)
        self.assertIn("line 00003002 caf\u00e9 \u2603", got)
        # The partial last line was flushed after the quiet period, whole.
        self.assertIn("line 00003003 no newline yet", got)

    def test_multiline_start_groups_stack_traces_and_flushes_the_last_on_timeout(self):
        self.start_collector()
        path = os.path.join(self.dir, "app.log")
        with open(path, "w") as f:
            f.write("2024-01-02 03:04:05 ERROR boom\n"
                    "Traceback (most recent call last):\n"
                    "  File \"x.py\", line 1\n"
                    "ValueError: bad\n"
                    "2024-01-02 03:04:06 INFO fine\n"
                    "2024-01-02 03:04:07 ERROR again\n"
                    "  at frame 1\n")
        self.start_agent(path, extra="multiline_start = ^[0-9]{4}-[0-9]{2}-[0-9]{2} \n"
                                      "multiline_timeout = 1s")
        got = self.wait_count(3)
        self.assertEqual(got, [
            "2024-01-02 03:04:05 ERROR boom\nTraceback (most recent call last):\n"
            "  File \"x.py\", line 1\nValueError: bad",
            "2024-01-02 03:04:06 INFO fine",
            "2024-01-02 03:04:07 ERROR again\n  at frame 1"])

    def test_glob_picks_up_new_files_and_stream_per_file(self):
        self.start_collector()
        logdir = os.path.join(self.dir, "logs", "a")
        os.makedirs(logdir)
        with open(os.path.join(logdir, "one.log"), "w") as f:
            f.write("one 00000000\n")
        self.start_agent(os.path.join(self.dir, "logs", "**", "*.log"), stream="{file}")
        self.wait_count(1)
        sub = os.path.join(self.dir, "logs", "b", "c")
        os.makedirs(sub)
        with open(os.path.join(sub, "two.log"), "w") as f:
            f.write("two 00000000\ntwo 00000001\n")
        with open(os.path.join(logdir, "ignored.txt"), "w") as f:
            f.write("not matched\n")
        got = self.wait_count(3)
        time.sleep(2)
        self.assertEqual(sorted(self.messages()),
                         ["one 00000000", "two 00000000", "two 00000001"])
        self.assertEqual(self.messages("two.log"), ["two 00000000", "two 00000001"])


class RotationTest(AgentLogsTestCase):
    def test_rename_rotation_during_load_loses_nothing(self):
        self.start_collector()
        path = os.path.join(self.dir, "app.log")
        w = Writer(path, 20000, per_second=4000)
        self.start_agent(path)
        w.start()
        for i in range(3):
            time.sleep(1.2)
            w.rotate(f".{i}")
        w.join()
        self.assertEqual(w.written, 20000)  # after-rename lines included
        self.assert_exactly(self.wait_count(20000, timeout=90), "line", 20000)

    def test_copytruncate_during_load_loses_nothing_the_file_still_had(self):
        self.start_collector()
        path = os.path.join(self.dir, "app.log")
        w = Writer(path, 10000, per_second=4000)
        self.start_agent(path)
        w.start()
        time.sleep(1.0)
        # logrotate's copytruncate loses lines written between its copy and
        # its truncate; the writer holds its lock across both, so here the
        # only risk is the agent's.
        time.sleep(1.0)
        w.copytruncate(".1")
        w.join()
        self.assert_exactly(self.wait_count(10000, timeout=90), "line", 10000)
        self.assertIn("truncated", self.agent_output())

    def test_file_removed_while_open_is_read_to_its_end(self):
        self.start_collector()
        path = os.path.join(self.dir, "app.log")
        with open(path, "w") as f:
            for i in range(100):
                f.write(f"line {i:08d}\n")
        self.start_agent(path)
        self.wait_count(100)
        with open(path, "a") as f:
            for i in range(100, 200):
                f.write(f"line {i:08d}\n")
            os.unlink(path)
            for i in range(200, 300):
                f.write(f"line {i:08d}\n")
        self.assert_exactly(self.wait_count(300), "line", 300)


class CrashTest(AgentLogsTestCase):
    def test_sigkill_five_times_during_load_gives_exactly_once(self):
        self.start_collector()
        path = os.path.join(self.dir, "app.log")
        total = 40000
        w = Writer(path, total, per_second=5000)
        agent = self.start_agent(path, name="agent-0")
        w.start()
        rng = random.Random(7)
        for i in range(5):
            time.sleep(rng.uniform(0.3, 1.5))
            agent.signal(signal.SIGKILL)
            agent.wait()
            if i == 2:
                w.rotate(".crash")  # a rotation while the agent is down
            agent = self.start_agent(path, name=f"agent-{i + 1}")
        w.join()
        self.assert_exactly(self.wait_count(total, timeout=120), "line", total)


class OutageTest(AgentLogsTestCase):
    def test_collector_down_for_a_minute_then_everything_arrives_once(self):
        port = free_port()
        self.start_collector(name="collector-1")
        self.collector.stop()
        with open(self.collector_config) as f:
            config = f.read().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        with open(self.collector_config, "w") as f:
            f.write(config)
        collector = self.start([binary("trailwatch-collector"), "--config",
                                self.collector_config], name="collector-2")
        wait_for(lambda: "listening on" in collector.output(), timeout=20)
        self.url = f"http://127.0.0.1:{port}"
        self.collector = collector
        path = os.path.join(self.dir, "app.log")
        w = Writer(path, 30000, per_second=400)
        self.start_agent(path)
        w.start()
        time.sleep(3)
        collector.signal(signal.SIGKILL)
        collector.wait()
        time.sleep(60)
        collector = self.start([binary("trailwatch-collector"), "--config",
                                self.collector_config], name="collector-3")
        self.collector = collector
        wait_for(lambda: "listening on" in collector.output(), timeout=20)
        w.join()
        self.assert_exactly(self.wait_count(w.written, timeout=120), "line", w.written)


if __name__ == "__main__":
    unittest.main()
