"""A real nginx (Debian's nginx-light) under load from wrk, its access log
tailed by the real agent into the real collector: the number of log events
equals the number of requests nginx logged, exactly (compared request id by
request id), across rotation by rename + `nginx -s reopen`, copytruncate,
the agent killed with SIGKILL five times, and the collector down for a
minute."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import unittest

from twtest import (ACCESS_KEY_ID, SECRET_ACCESS_KEY, CollectorTestCase, binary, wait_for)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
GROUP = "/it/nginx"
LOG_FORMAT = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
              '"$http_referer" "$http_user_agent" $request_id')

NGINX_CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
error_log {dir}/nginx-error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    log_format tw '{log_format}';
    access_log {dir}/logs/access.log tw;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok\\n"; }}
        location /orders {{ return 201 "created\\n"; }}
    }}
}}
"""

AGENT_CONFIG = """\
[agent]
state_dir = {state}
hostname  = it-host
log_level = info
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

[logs nginx]
path       = {dir}/logs/access.log
format     = nginx
log_format = {log_format}
log_group  = {group}
log_stream = {{hostname}}
read_from  = head
{extra}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(os.path.exists(NGINX) and os.path.exists(WRK), "needs nginx-light and wrk")
class NginxTestCase(CollectorTestCase):
    def setUp(self):
        super().setUp()
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(self.dir, d))
        os.chmod(self.dir, 0o755)  # nginx workers may run as another user
        self.port = free_port()
        conf = self.write("nginx.conf", NGINX_CONFIG.format(dir=self.dir, port=self.port,
                                                            log_format=LOG_FORMAT))
        self.nginx = self.start([NGINX, "-c", conf, "-p", self.dir], name="nginx")
        wait_for(lambda: self.get("/") == 200, timeout=10, what="nginx to answer")

    def tearDown(self):
        # A graceful stop, so nginx's workers leave with their master (a
        # SIGKILL of the master would orphan them).
        if self.nginx.alive():
            self.nginx.signal(signal.SIGTERM)
            try:
                self.nginx.wait(timeout=10)
            except AssertionError:
                pass
        super().tearDown()

    def get(self, path, method="GET", user_agent="it-client"):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(f"{method} {path} HTTP/1.0\r\nUser-Agent: {user_agent}\r\n"
                          f"Content-Length: 0\r\n\r\n".encode())
                return int(s.recv(64).split()[1])
        except OSError:
            return 0

    def nginx_signal(self, signum):
        self.nginx.signal(signum)

    def load(self, seconds, connections=4):
        """wrk in the background for seconds (GET / and, through a script,
        a share of POST /orders/N)."""
        script = self.write("wrk.lua", """
counter = 0
request = function()
  counter = counter + 1
  if counter % 5 == 0 then
    return wrk.format("POST", "/orders/" .. counter, nil, "x=1")
  end
  return wrk.format("GET", "/items/" .. counter .. "?q=1")
end
""")
        return subprocess.Popen([WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script,
                                 f"http://127.0.0.1:{self.port}/"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def start_agent(self, name="agent", extra=""):
        self.state = os.path.join(self.dir, "agent-state")
        config = self.write("agent.conf", AGENT_CONFIG.format(
            state=self.state, url=self.url, akid=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY,
            dir=self.dir, log_format=LOG_FORMAT, group=GROUP, extra=extra))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = self.dir
        agent = self.start([binary("trailwatch-agent"), "--config", config], env=env, name=name)
        wait_for(lambda: "started" in agent.output() or not agent.alive(), timeout=20,
                 what="the agent to start")
        self.assertTrue(agent.alive(), agent.output())
        return agent

    def logged_request_ids(self):
        """Request ids of every line nginx wrote, in every access log file."""
        ids = []
        logs = os.path.join(self.dir, "logs")
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors="replace") as f:
                ids += [line.split()[-1] for line in f if line.strip()]
        return ids

    def shipped_request_ids(self):
        rc, out, _ = self.aws("logs", "filter-log-events", "--log-group-name", GROUP,
                              "--query", "events[].message", expect_rc=None)
        return [m.split()[-1] for m in out] if rc == 0 and out else []

    def assert_exactly_once(self, expected_ids, timeout=120):
        expected = set(expected_ids)
        self.assertEqual(len(expected), len(expected_ids), "nginx request ids are unique")

        def arrived():
            got = self.shipped_request_ids()
            return got if len(got) >= len(expected) else None
        try:
            got = wait_for(arrived, timeout=timeout, interval=2.0,
                           what=f"{len(expected)} events")
        except AssertionError:
            got = self.shipped_request_ids()
        dups = len(got) - len(set(got))
        missing = expected - set(got)
        extra = set(got) - expected
        agents = "\n".join(p.output()[-3000:] for p in self.processes
                           if os.path.basename(p.log_path).startswith("agent"))
        self.assertEqual((len(got), dups, len(missing), len(extra)), (len(expected), 0, 0, 0),
                         f"{len(got)} events for {len(expected)} requests: {dups} duplicates, "
                         f"{len(missing)} missing, {len(extra)} unknown\nagent:\n{agents}")

    def wait_wrk(self, wrk):
        out, _ = wrk.communicate(timeout=120)
        self.assertEqual(wrk.returncode, 0, out)
        return out


class NginxRotationTest(NginxTestCase):
    def test_rename_and_reopen_during_load(self):
        self.start_collector()
        self.start_agent()
        wrk = self.load(6)
        logs = os.path.join(self.dir, "logs")
        for i in range(3):
            time.sleep(1.5)
            os.rename(os.path.join(logs, "access.log"), os.path.join(logs, f"access.log.{i}"))
            time.sleep(0.2)  # nginx keeps writing to the renamed file until it reopens
            self.nginx_signal(signal.SIGUSR1)  # nginx -s reopen
        self.wait_wrk(wrk)
        time.sleep(0.5)
        self.assert_exactly_once(self.logged_request_ids())

    def nginx_processes(self):
        master = self.nginx.proc.pid
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        return [master] + [int(p) for p in out.split()]

    def test_copytruncate_during_load(self):
        self.start_collector()
        self.start_agent()
        wrk = self.load(4, connections=2)
        time.sleep(2)
        # logrotate's copytruncate, with nginx paused across the copy and the
        # truncate: lines written between the two would be in neither file
        # (the race copytruncate always has), and the test needs to know
        # exactly which lines exist.
        log = os.path.join(self.dir, "logs", "access.log")
        pids = self.nginx_processes()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            shutil.copyfile(log, log + ".1")
            with open(log, "r+b") as f:
                f.truncate(0)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        self.wait_wrk(wrk)
        time.sleep(0.5)
        self.assert_exactly_once(self.logged_request_ids())


class NginxAuditTest(NginxTestCase):
    def test_write_requests_become_cloudtrail_events_found_by_lookup_events(self):
        self.start_collector()
        self.start_agent(extra="audit = yes\nevent_source = shop.example.internal")
        for i in range(30):
            self.assertEqual(self.get(f"/orders/{1000 + i}", method="POST"), 201)
            self.assertEqual(self.get(f"/items/{i}?q=x"), 200)
        self.assertEqual(self.get("/missing", method="DELETE"), 200)

        def writes():
            rc, out, _ = self.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                                  "AttributeKey=EventSource,AttributeValue=shop.example.internal",
                                  "--query", "Events[?ReadOnly=='false']", expect_rc=None)
            return out if rc == 0 and out and len(out) >= 31 else None
        events = wait_for(writes, timeout=60, interval=2.0, what="31 write audit events")
        self.assertEqual(len(events), 31)
        names = sorted({e["EventName"] for e in events})
        self.assertEqual(names, ["DELETE /missing", "POST /orders/{id}"])
        record = next(e for e in events if e["EventName"] == "POST /orders/{id}")
        detail = json.loads(record["CloudTrailEvent"])
        detail = detail.get("eventData", detail)  # the integration (Lake) event shape
        self.assertEqual(detail["eventSource"], "shop.example.internal")
        self.assertEqual(detail["sourceIPAddress"], "127.0.0.1")
        self.assertEqual(detail["userAgent"], "it-client")
        # Every request is a log event too, exactly once.
        self.assert_exactly_once(self.logged_request_ids())


class NginxCrashTest(NginxTestCase):
    def test_agent_killed_five_times_during_load(self):
        self.start_collector()
        agent = self.start_agent(name="agent-0")
        wrk = self.load(10, connections=2)
        rng = random.Random(11)
        for i in range(5):
            time.sleep(rng.uniform(0.5, 1.6))
            agent.signal(signal.SIGKILL)
            agent.wait()
            agent = self.start_agent(name=f"agent-{i + 1}")
        self.wait_wrk(wrk)
        time.sleep(0.5)
        self.assert_exactly_once(self.logged_request_ids())


class NginxOutageTest(NginxTestCase):
    def test_collector_down_for_a_minute(self):
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
        self.start_agent()
        wrk = self.load(2, connections=1)
        self.wait_wrk(wrk)
        collector.signal(signal.SIGKILL)
        collector.wait()
        wrk = self.load(3, connections=1)
        self.wait_wrk(wrk)
        time.sleep(57)
        collector = self.start([binary("trailwatch-collector"), "--config",
                                self.collector_config], name="collector-3")
        self.collector = collector
        wait_for(lambda: "listening on" in collector.output(), timeout=20)
        self.assert_exactly_once(self.logged_request_ids(), timeout=150)


if __name__ == "__main__":
    unittest.main()
