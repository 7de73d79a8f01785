"""trailwatch-collector as a server: startup and its URL, HTTP behaviour
(keep-alive, body limits, TLS), configuration errors and --check-config,
SIGHUP reloading users, SIGTERM, and one collector per data directory."""
import http.client
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(__file__))
import twtest  # noqa: E402
from twtest import CollectorTestCase, NotifySocket, binary, wait_for  # noqa: E402

CAROL_KEY = "AKIDTRAILWATCHCAROL1"
CAROL_SECRET = "carolsecretcarolsecretcarolsecret0000000"
CAROL = f"""
[user carol]
access_key_id     = {CAROL_KEY}
secret_access_key = {CAROL_SECRET}
"""

LOGS_HEADERS = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class CollectorServerTest(CollectorTestCase):
    def host_port(self):
        parts = urlsplit(self.url)
        return parts.hostname, parts.port

    def config_text(self, extra=""):
        return twtest.COLLECTOR_CONFIG.format(
            data_dir=self.data_dir, account=twtest.ACCOUNT_ID, user=twtest.USER_NAME,
            akid=twtest.ACCESS_KEY_ID, secret=twtest.SECRET_ACCESS_KEY, extra=extra)

    # ---- startup ---------------------------------------------------------

    def test_port_zero_gives_a_real_port_in_the_url(self):
        p = self.start_collector()
        host, port = self.host_port()
        self.assertEqual(host, "127.0.0.1")
        self.assertGreater(port, 0)
        self.assertTrue(self.url.startswith("http://"))
        # Exactly one line announces it.
        self.assertEqual(len(re.findall(r"listening on https?://", p.output())), 1)
        # The data directory was created private, with the database in it.
        self.assertEqual(stat.S_IMODE(os.stat(self.data_dir).st_mode), 0o700)
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, "collector.db")))

    def test_running_as_root_is_only_a_warning(self):
        if os.geteuid() != 0:
            self.skipTest("not running as root")
        p = self.start_collector()
        self.assertIn("runs fine as an unprivileged user", p.output())

    def test_unsigned_request_reaches_the_handler_and_gets_an_aws_error(self):
        self.start_collector()
        req = urllib.request.Request(self.url + "/", data=b"{}", headers=LOGS_HEADERS)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(req, timeout=10)
        self.assertGreaterEqual(caught.exception.code, 400)
        self.assertLess(caught.exception.code, 500)
        self.assertIn("json", caught.exception.headers.get("Content-Type", ""))

    def test_listen_and_data_dir_options_override_the_file(self):
        self.start_collector()
        self.collector.signal(signal.SIGTERM)
        self.assertEqual(self.collector.wait(), 0)
        other = os.path.join(self.dir, "other-data")
        p = self.start([binary("trailwatch-collector"), "--config", self.collector_config,
                        "--listen", "[::1]:0", "--data-dir", other], name="override")
        match = wait_for(lambda: re.search(r"listening on (https?://\S+)", p.output()),
                         timeout=20, what="the URL")
        self.assertTrue(match.group(1).startswith("http://[::1]:"), match.group(1))
        self.assertTrue(os.path.exists(os.path.join(other, "collector.db")))

    # ---- HTTP ------------------------------------------------------------

    def test_keep_alive_serves_two_requests_on_one_connection(self):
        self.start_collector()
        host, port = self.host_port()
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("POST", "/", body=b"{}", headers=LOGS_HEADERS)
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        self.assertIsNotNone(sock)
        self.assertEqual(first.getheader("Connection"), "keep-alive")
        conn.request("POST", "/", body=b"{}", headers=LOGS_HEADERS)
        second = conn.getresponse()
        second.read()
        self.assertIs(conn.sock, sock, "the second request needed a new connection")
        self.assertEqual(first.status, second.status)
        conn.close()

    def test_expect_100_continue_is_answered_before_the_body(self):
        self.start_collector()
        host, port = self.host_port()
        body = b"{" + b" " * 4000 + b"}"
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Target: Logs_20140328.DescribeLogGroups\r\n"
                      b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
            interim = s.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim)
            s.sendall(body)
            final = s.recv(4096)
            self.assertRegex(final, rb"^HTTP/1.1 4\d\d ")

    def test_huge_body_is_refused_without_being_read(self):
        p = self.start_collector()
        host, port = self.host_port()
        before = rss_kib(p.proc.pid)
        started = time.monotonic()
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Target: Logs_20140328.PutLogEvents\r\n"
                      b"Content-Length: 1073741824\r\n\r\n")
            answer = s.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer[:200])
        self.assertLess(time.monotonic() - started, 3)
        self.assertLess(rss_kib(p.proc.pid) - before, 16 * 1024)
        self.assertTrue(p.alive())

    def test_body_just_over_max_body_gets_the_aws_error(self):
        self.write("collector.conf.d/limit.conf", "[server]\nmax_body = 1MiB\n")
        self.start_collector()
        req = urllib.request.Request(self.url + "/", data=b"x" * (1024 * 1024 + 10),
                                     headers=LOGS_HEADERS)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(caught.exception.code, 413)
        self.assertIn(b"RequestEntityTooLarge", caught.exception.read())
        # A body at the limit is read (and then refused for its signature).
        req = urllib.request.Request(self.url + "/", data=b"x" * (1024 * 1024),
                                     headers=LOGS_HEADERS)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(req, timeout=10)
        self.assertNotEqual(caught.exception.code, 413)

    def test_tls_serves_https(self):
        cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        self.write("collector.conf.d/tls.conf", f"[server]\ntls_cert = {cert}\ntls_key = {key}\n")
        self.start_collector()
        self.assertTrue(self.url.startswith("https://127.0.0.1:"), self.url)
        host, port = self.host_port()
        conn = http.client.HTTPSConnection(host, port, timeout=10,
                                           context=ssl._create_unverified_context())
        conn.request("POST", "/", body=b"{}", headers=LOGS_HEADERS)
        response = conn.getresponse()
        response.read()
        self.assertGreaterEqual(response.status, 400)
        self.assertLess(response.status, 500)
        conn.close()
        # Plain HTTP on the TLS port gets nowhere.
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 2"))

    # ---- configuration -------------------------------------------------

    def test_bad_config_at_start_exits_78_naming_the_line(self):
        self.data_dir = os.path.join(self.dir, "data")
        path = self.write("collector.conf", self.config_text("[cloudtrail]\ndigest_interval = 2d\n"))
        p = self.start([binary("trailwatch-collector"), "--config", path], name="bad")
        self.assertEqual(p.wait(), 78)
        self.assertRegex(p.output(), r"collector\.conf:\d+: \[cloudtrail\] digest_interval: "
                                     r"\"2d\" is out of range")
        self.assertIn("not starting: 1 configuration error", p.output())
        self.assertFalse(os.path.exists(self.data_dir))

    def test_check_config(self):
        self.data_dir = os.path.join(self.dir, "data")
        good = self.write("collector.conf", self.config_text())
        r = subprocess.run([binary("trailwatch-collector"), "--config", good, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration valid", r.stdout)
        self.assertIn(f"arn:aws:iam::{twtest.ACCOUNT_ID}:user/{twtest.USER_NAME}", r.stdout)
        self.assertIn("us-east-1 (home), eu-west-2", r.stdout)
        self.assertNotIn(twtest.SECRET_ACCESS_KEY, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(self.data_dir), "--check-config must not create data_dir")

        bad = self.write("bad.conf", "[server]\nlisten = nowhere\n[account]\nid = 42\n"
                                     "[user x]\naccess_key_id = AKIDX\nsecret_access_key = s\n")
        r = subprocess.run([binary("trailwatch-collector"), "--config", bad, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.conf:2: [server] listen:", r.stderr)
        self.assertIn("bad.conf:4: [account] id:", r.stderr)
        self.assertIn("bad.conf:6: [user x] access_key_id:", r.stderr)
        self.assertIn("bad.conf:7: [user x] secret_access_key:", r.stderr)
        self.assertIn("4 errors; configuration NOT valid", r.stderr)

    def test_usage_errors_exit_2(self):
        r = subprocess.run([binary("trailwatch-collector"), "--frobnicate"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([binary("trailwatch-collector"), "--log-level", "loud"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([binary("trailwatch-collector"), "--version"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^trailwatch-collector \d+\.\d+")

    # ---- signals ---------------------------------------------------------

    def test_sighup_adds_a_user_and_a_bad_file_keeps_the_running_ones(self):
        p = self.start_collector()
        rc, _, err = self.aws("logs", "describe-log-groups", akid=CAROL_KEY, secret=CAROL_SECRET,
                              expect_rc=None)
        self.assertNotEqual(rc, 0, "carol is not a user yet")

        self.write("collector.conf", self.config_text(CAROL))
        p.signal(signal.SIGHUP)
        p.wait_for_output("reload: users now: 3 users (alice, bob, carol)")
        self.aws("logs", "describe-log-groups", akid=CAROL_KEY, secret=CAROL_SECRET)

        # A broken file changes nothing: carol and alice still sign.
        self.write("collector.conf", self.config_text("[cloudtrail]\nevent_history_days = 0\n"))
        p.signal(signal.SIGHUP)
        p.wait_for_output("reload refused: 1 error")
        self.aws("logs", "describe-log-groups", akid=CAROL_KEY, secret=CAROL_SECRET)
        self.aws("logs", "describe-log-groups")

        # Other settings are not reloaded, and the log says so.
        text = self.config_text().replace("us-east-1, eu-west-2", "us-east-1")
        self.write("collector.conf", text)
        p.signal(signal.SIGHUP)
        p.wait_for_output("[account] regions changed, which needs a restart")
        self.aws("logs", "describe-log-groups", region="eu-west-2")
        rc, _, _ = self.aws("logs", "describe-log-groups", akid=CAROL_KEY, secret=CAROL_SECRET,
                            expect_rc=None)
        self.assertNotEqual(rc, 0, "carol was removed")
        self.assertTrue(p.alive())

    def test_sigterm_stops_within_5_seconds_with_status_0(self):
        notify = NotifySocket(self.dir)
        try:
            p = self.start_collector(env={"NOTIFY_SOCKET": notify.path})
            notify.wait_for("READY=1")
            host, port = self.host_port()
            # An idle keep-alive connection must not hold the stop up.
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("POST", "/", body=b"{}", headers=LOGS_HEADERS)
            conn.getresponse().read()
            started = time.monotonic()
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=5), 0, p.output())
            self.assertLess(time.monotonic() - started, 5)
            notify.wait_for("STOPPING=1")
            self.assertIn("SIGTERM: stopping", p.output())
            self.assertIn("stopped", p.output())
            conn.close()
        finally:
            notify.close()

    def test_a_second_collector_on_the_same_data_dir_refuses(self):
        first = self.start_collector()
        second = self.start([binary("trailwatch-collector"), "--config", self.collector_config],
                            name="second")
        self.assertEqual(second.wait(), 1)
        self.assertIn(f"another trailwatch-collector (pid {first.proc.pid}) is using the data "
                      f"directory {self.data_dir}", second.output())
        self.assertTrue(first.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)
