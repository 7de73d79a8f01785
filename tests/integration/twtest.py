"""Shared helpers for trailwatch's integration tests.

Tests start the real programs from TW_BIN_DIR (set by ctest) on loopback,
in a private temporary directory, and talk to them as a user would.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN_DIR = os.environ.get("TW_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build/bin"))


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is not built")
    return path


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []

    def drain(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def wait_for(self, needle, timeout=10.0):
        return wait_for(lambda: any(needle in m for m in self.drain()), timeout,
                        what=f"sd_notify message containing {needle!r} (got {self.messages})")

    def close(self):
        self.sock.close()


class Process:
    """A program under test, its stderr captured to a file we can search."""

    def __init__(self, args, directory, env=None, name="proc"):
        self.log_path = os.path.join(directory, f"{name}.log")
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=full_env)

    def output(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def wait_for_output(self, needle, timeout=10.0):
        return wait_for(lambda: needle in self.output(), timeout,
                        what=f"{needle!r} in the output:\n{self.output()}")

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout=15.0):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"process did not exit within {timeout}s:\n{self.output()}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log.close()


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tw-it-")
        self.processes = []

    def tearDown(self):
        for p in self.processes:
            p.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, args, env=None, name="proc"):
        p = Process(args, self.dir, env=env, name=name)
        self.processes.append(p)
        return p

    def write(self, relpath, text):
        path = os.path.join(self.dir, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path


# ---- the collector and the AWS CLI -------------------------------------

import json
import re
import sys

ACCOUNT_ID = "123456789012"
ACCESS_KEY_ID = "AKIDTRAILWATCHTEST1"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTRAILWATCH"
USER_NAME = "alice"
AWS_V2 = "/usr/bin/aws"                 # Debian's awscli 2.9.19
AWS_V1 = [sys.executable, "-m", "awscli"]  # the Python awscli 1.x (newer botocore)

COLLECTOR_CONFIG = """\
[server]
listen   = 127.0.0.1:0
data_dir = {data_dir}
debug_signatures = yes

[account]
id      = {account}
regions = us-east-1, eu-west-2

[user {user}]
access_key_id     = {akid}
secret_access_key = {secret}

[user bob]
access_key_id     = AKIDTRAILWATCHBOB01
secret_access_key = bobsecretbobsecretbobsecretbobsecret0000
{extra}
"""


class CollectorTestCase(TempDirTestCase):
    """Starts a real trailwatch-collector on a free loopback port."""

    def start_collector(self, extra_config="", name="collector", env=None):
        self.data_dir = os.path.join(self.dir, "data")
        self.collector_config = self.write(
            "collector.conf",
            COLLECTOR_CONFIG.format(data_dir=self.data_dir, account=ACCOUNT_ID, user=USER_NAME,
                                    akid=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY,
                                    extra=extra_config))
        p = self.start([binary("trailwatch-collector"), "--config", self.collector_config],
                       env=env, name=name)
        match = wait_for(lambda: re.search(r"listening on (https?://\S+)", p.output()),
                         timeout=20, what="the collector's URL")
        self.collector = p
        self.url = match.group(1)
        return p

    def aws_env(self, akid=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY, region="us-east-1"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": region, "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.dir, "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "no-aws-credentials"),
            "HOME": self.dir,
        })
        return env

    def aws(self, *args, cli="v2", expect_rc=0, akid=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY,
            region="us-east-1", input=None):
        """Runs the real AWS CLI against the collector; returns (rc, parsed JSON or None, stderr)."""
        cmd = ([AWS_V2] if cli == "v2" else list(AWS_V1)) + [
            "--endpoint-url", self.url, "--output", "json"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, input=input,
                           env=self.aws_env(akid, secret, region))
        if expect_rc is not None and r.returncode != expect_rc:
            raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}, expected {expect_rc}\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}\n"
                                 f"collector:\n{self.collector.output()[-3000:]}")
        out = json.loads(r.stdout) if r.stdout.strip().startswith(("{", "[")) else None
        return r.returncode, out, r.stderr
