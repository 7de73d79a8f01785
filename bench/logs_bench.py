#!/usr/bin/env python3
"""logs_bench.py — how fast trailwatch-agent ships nginx access lines, and
what it costs (issue 5).

    bench/logs_bench.py [--bin DIR] [--lines N] [--seconds S] [--rate R]
                        [--only a,b,c,d] [--endpoint-procs P]
                        [--endpoint-count timestamp|json] [--gzip]
                        [--quiet-below PCT] [--quiet-wait S] [--perf PREFIX]
                        [--endpoint-selftest] [--verbose]

Python 3 stdlib only; it builds nothing: the programs come from --bin
(default /work/main/build/bin; build-bench/bin for an optimised build).
Everything lives in a temporary directory, removed at the end; every child
is stopped on exit. Not a test: nothing is asserted, figures are printed.

The agent does not gzip towards a loopback endpoint (agent/logs.c
is_loopback_url) but does towards any other, as towards AWS: --gzip puts
the endpoint on this machine's non-loopback address to measure that path
(scenarios a to c; d always uses the collector on 127.0.0.1).

A discarding endpoint (discard_endpoint.py) runs inside the benchmark:
P forked processes sharing one listening socket, a thread per keep-alive
connection. It gunzips Content-Encoding: gzip bodies, counts PutLogEvents
events (occurrences of `"timestamp":`, exact for the agent's bodies since
a message's quotes are escaped) and PutAuditEvents events (their ids), and
answers 200: `{}`, or for PutAuditEvents the `successful` list of the ids,
without which the agent would resend them. Its own CPU is measured and printed next to each figure: when it nears
100 % of a core per process, the endpoint is the bottleneck (give more
--endpoint-procs, or see --endpoint-selftest).

Scenarios (--only):
  a  throughput: N generated nginx combined lines (~262 bytes, seeded: the
     same file every time, timestamps in the last hour) written to a file
     before the agent starts (format = nginx, read_from = head); the clock
     runs from the agent's start until the endpoint counted N events.
  b  the same with audit = yes; PutAuditEvents events are counted too
     ("audit: not available in this build" when none come).
  c  a writer appends R lines/s (one write(2) per line, as nginx does) for
     S seconds: the agent's CPU and RSS at that pace.
  d  end to end into the real trailwatch-collector: N lines, until its
     SQLite database (log_events) holds N events.

Before each scenario it waits (up to --quiet-wait s) for the machine to
be quiet. Each prints lines/s, MiB/s (of the file's bytes), the agent's
CPU (utime + stime from /proc/PID/stat, 100 % = one core), its largest
VmRSS (sampled every 20 ms) and VmHWM, the endpoint's CPU, the CPU of
every other process on the machine and how busy the machine was (100 % =
every core): on a shared machine a low figure next to busy other
processes is not the agent's doing.

The agent sends a batch when it holds 1 MiB or 10,000 events, or 5 s
after its first event (BATCH_PERIOD_MS in agent/logs.c): the last,
partial batch of a file arrives up to 5 s after the rest. The figures are
therefore given until all N events ("all"), from the start until the last
full batch ("busy part": the throughput), and from the first batch to the
last full one ("steady").

--perf PREFIX records `perf record -g` of the agent during each scenario
into PREFIX.a, PREFIX.b, ... and prints the threads, libraries and
functions with the most samples (self time).
"""
import argparse
import atexit
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discard_endpoint  # noqa: E402
from benchutil import (NCPU, RssSampler, Window, cpu_seconds,  # noqa: E402
                       machine_busy_seconds as machine_busy, start_collector, status_kib,
                       stop_process, write_collector_config)
from discard_endpoint import FIELDS  # noqa: E402

AKID, SECRET = "AKIDBENCHLOGS0000001", "benchsecretbenchsecretbenchsecret0000000"
TARGET_LINES_S, TARGET_RSS_MIB, TARGET_IDLE_CPU = 400_000, 24, 1.0
# bench/README.md, ingest_bench on this machine (issue 3), for scenario d.
COLLECTOR_INGEST = "ingest_bench: 341,000 - 382,000 events/s with 4 clients, 219,620 with 1"
MIB = 1024 * 1024

# ---- cleanup ------------------------------------------------------------------------

CHILDREN = []  # Popen objects and the endpoint, stopped on exit


def stop_children():
    while CHILDREN:
        child = CHILDREN.pop()
        if isinstance(child, discard_endpoint.Endpoint):
            child.stop()
        else:
            stop_process(child, timeout=10)


def on_signal(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


# ---- nginx lines -----------------------------------------------------------------------

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.72",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/7.88.1",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "Prometheus/2.45.0",
]
UA_WEIGHTS = [30, 14, 14, 8, 10, 6, 4, 2, 3, 3, 3, 1]
METHODS = ["GET"] * 75 + ["POST"] * 15 + ["PUT"] * 4 + ["DELETE"] * 2 + ["HEAD"] * 2 + \
    ["PATCH", "OPTIONS"]
STATUSES = [200] * 80 + [304] * 6 + [301, 302, 302] + [404] * 5 + [400, 401, 403] + \
    [500, 502, 503]
USERS = ["-"] * 19 + ["alice", "bob", "carol", "deploy", "api-client"]
WORDS = ["shoes", "red", "jacket", "wool", "socks", "running", "kids", "sale", "leather", "bag",
         "winter", "hat", "blue", "linen", "shirt", "size-42", "gift", "card"]


def make_path(rng):
    k = rng.randrange(16)
    n = rng.randrange(1, 10_000_000)
    if k == 0:
        return f"/api/v1/orders/{n}"
    if k == 1:
        return f"/api/v1/orders?status=open&page={n % 50}"
    if k == 2:
        return f"/api/v1/users/{n}/profile"
    if k == 3:
        return f"/products/{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n % 9999}"
    if k == 4:
        return f"/products/{rng.choice(WORDS)}-{n % 9999}/reviews?page={n % 20}&sort=recent"
    if k == 5:
        return f"/search?q={rng.choice(WORDS)}+{rng.choice(WORDS)}&sort=price&page={n % 30}"
    if k == 6:
        return f"/static/js/app.{n:08x}.js"
    if k == 7:
        return f"/static/css/main.{n:08x}.css"
    if k == 8:
        return f"/images/products/{n}/{n % 7}.jpg?w=640&h=480"
    if k == 9:
        return "/checkout/cart"
    if k == 10:
        return f"/checkout/payment?session={n:x}{rng.getrandbits(32):08x}"
    if k == 11:
        return "/login?next=%2Faccount%2Forders"
    if k == 12:
        return f"/account/orders?since=2026-11-{1 + n % 28:02d}&limit=25"
    if k == 13:
        return "/health"
    if k == 14:
        return (f"/api/v2/inventory/{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4"
                f"{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}")
    return f"/blog/{2020 + n % 6}/{1 + n % 12:02d}/{rng.choice(WORDS)}-{rng.choice(WORDS)}"


class LineMaker:
    """nginx combined-format lines, deterministic for a seed."""

    def __init__(self, seed=20261121):
        self.rng = rng = random.Random(seed)
        self.ips = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}."
                    f"{rng.randrange(1, 255)}" for _ in range(4000)]
        self.ips += [f"2001:db8:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::"
                     f"{rng.getrandbits(16):x}" for _ in range(200)]
        self.uas = rng.choices(USER_AGENTS, UA_WEIGHTS, k=4096)
        self.time_s, self.time_text = None, None

    def line(self, epoch_s):
        rng = self.rng
        if epoch_s != self.time_s:
            self.time_s = epoch_s
            self.time_text = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_s))
        method = METHODS[rng.randrange(len(METHODS))]
        status = STATUSES[rng.randrange(len(STATUSES))]
        if method == "POST" and status == 200:
            status = 201
        size = 0 if status in (304, 204) or method == "HEAD" else rng.randrange(180, 150_000)
        ref = "-" if rng.random() < 0.15 else f"https://shop.example.com{make_path(rng)}"
        # A few busy clients (proxies, crawlers) and a long tail.
        ip = self.ips[rng.randrange(20) if rng.random() < 0.3 else rng.randrange(len(self.ips))]
        return (f"{ip} - "
                f"{USERS[rng.randrange(len(USERS))]} [{self.time_text}] "
                f"\"{method} {make_path(rng)} HTTP/1.1\" {status} {size} \"{ref}\" "
                f"\"{self.uas[rng.randrange(4096)]}\"\n")


def write_lines(path, n, span_s=3000):
    """N lines with timestamps spread over the last hour, in order. Returns bytes."""
    maker = LineMaker()
    start = int(time.time()) - 3600
    total, chunk = 0, []
    with open(path, "w") as f:
        for i in range(n):
            chunk.append(maker.line(start + i * span_s // max(n, 1)))
            if len(chunk) == 20000:
                text = "".join(chunk)
                total += len(text)
                f.write(text)
                chunk = []
        text = "".join(chunk)
        total += len(text)
        f.write(text)
    return total


# ---- the agent ---------------------------------------------------------------------------


def context_switches(pid):
    """Voluntary + involuntary context switches of all of pid's threads."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            total += sum(status_kib(f"{pid}/task/{tid}", k) or 0
                         for k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
    except OSError:
        pass
    return total


def agent_config(tmp, name, url, path, read_from="head", audit=False):
    state = os.path.join(tmp, f"agent-{name}")
    conf = os.path.join(tmp, f"agent-{name}.conf")
    text = (f"[agent]\nstate_dir = {state}\nhostname = bench\nlog_level = warn\n"
            f"self_metrics = no\n"
            f"[endpoint]\nurl = {url}\naccess_key_id = {AKID}\nsecret_access_key = {SECRET}\n"
            f"[logs access]\npath = {path}\nformat = nginx\nread_from = {read_from}\n"
            f"log_group = /bench/nginx\nlog_stream = {{hostname}}-{name}\n")
    if audit:
        text += "audit = yes\nevent_source = shop.example.internal\n"
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return conf


class Agent:
    def __init__(self, bin_dir, conf, log_path):
        self.bin_dir, self.conf, self.log_path = bin_dir, conf, log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "trailwatch-agent"), "--config",
                                      conf], stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        CHILDREN.append(self.proc)

    def alive(self):
        return self.proc.poll() is None

    def status(self):
        r = subprocess.run([os.path.join(self.bin_dir, "trailwatch"), "status", "--config",
                            self.conf, "--json"], capture_output=True, text=True)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def log_tail(self, n=15):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def log_summary(self):
        """How many lines the agent logged (at warn and above), and the first two."""
        with open(self.log_path, errors="replace") as f:
            lines = [ln.rstrip() for ln in f if ln.strip()]
        if not lines:
            return "agent log: empty"
        return (f"agent log: {len(lines)} lines, the first: " + " | ".join(
            ln[:160] for ln in lines[:2]))

    def stop(self):
        stop_process(self.proc, timeout=20)
        self.log.close()
        if self.proc in CHILDREN:
            CHILDREN.remove(self.proc)
        return self.proc.returncode


def logs_status(agent):
    s = agent.status()
    if not s:
        return "status: not available"
    parts = []
    for lg in s.get("logs", []):
        parts.append(f"lines {lg.get('lines')}, records {lg.get('records')}, unparsed "
                     f"{lg.get('unparsed')}, batches {lg.get('batches')}, dropped "
                     f"{lg.get('events_dropped')}, audit events {lg.get('audit_events')}")
    e = s.get("endpoint", {})
    parts.append(f"requests {e.get('requests')}, acknowledged {e.get('acknowledged')}, "
                 f"retries {e.get('retries')}")
    return "agent status: " + "; ".join(parts)


# ---- measuring a run ------------------------------------------------------------------------


class Run:
    """Readings at the agent's start and at every change of a count."""

    def __init__(self, agent, others):
        self.agent, self.others = agent, others  # others: () -> CPU seconds (endpoint, collector)
        self.t0, self.busy0, self.others0 = time.monotonic(), machine_busy(), others()
        self.points = [(0.0, 0, 0.0, 0.0, 0.0)]
        self.rss = RssSampler(agent.pid)

    def note(self, count):
        if count != self.points[-1][1]:
            self.points.append((time.monotonic() - self.t0, count, cpu_seconds(self.agent.pid),
                                self.others() - self.others0, machine_busy() - self.busy0))

    def finish(self):
        self.rss_mib = self.rss.stop()
        self.hwm_mib = (status_kib(self.agent.pid, "VmHWM") or 0) / 1024
        # What of it is the agent's own memory, and what the shared libraries' pages.
        self.anon_mib = (status_kib(self.agent.pid, "RssAnon") or 0) / 1024
        self.file_mib = (status_kib(self.agent.pid, "RssFile") or 0) / 1024

    def busy_part(self):
        """The last point before the final batch, when that came after a pause of
        more than a second (the 5 s flush timer); else the last point."""
        p = self.points
        if len(p) >= 3 and p[-1][0] - p[-2][0] > 1.0:
            return p[-2]
        return p[-1]

    def timeline(self, verbose):
        """The first arrival, and with --verbose every change."""
        if len(self.points) > 1:
            print(f"  first events counted {self.points[1][0]:.2f} s after the agent started")
        if verbose:
            prev = self.points[0]
            for t, count, agent_cpu, others_cpu, _ in self.points[1:]:
                dt = max(t - prev[0], 1e-9)
                print(f"    t={t:7.3f} s {count:>9} (+{count - prev[1]:>6}) agent "
                      f"{100 * (agent_cpu - prev[2]) / dt:5.1f}% other {100 * (others_cpu - prev[3]) / dt:5.1f}%")
                prev = (t, count, agent_cpu, others_cpu)

    def steady(self):
        """From the first arrival to the end of the busy part, as a point of its own."""
        end = self.busy_part()
        if len(self.points) < 3 or end is self.points[1]:
            return None
        first = self.points[1]
        return tuple(e - f for e, f in zip(end, first))

    @staticmethod
    def describe(point, nbytes_per_line, label):
        t, count, agent_cpu, others_cpu, busy = point
        t = max(t, 1e-9)
        # Other processes: everything the machine did besides the agent and
        # the endpoint (or collector), in % of one core (this script's own
        # polling included: ~1 %).
        rest = max(0.0, busy - agent_cpu - others_cpu)
        return (f"  {label:<9} {count:>9} lines in {t:6.2f} s = {count / t:>9,.0f} lines/s "
                f"{count * nbytes_per_line / t / MIB:6.1f} MiB/s | agent CPU "
                f"{100 * agent_cpu / t:5.1f}% | endpoint {100 * others_cpu / t:5.1f}% | "
                f"other processes {100 * rest / t:5.1f}% | machine busy "
                f"{100 * busy / t / NCPU:3.0f}%")


def print_rss(run):
    print(f"  agent RSS max {run.rss_mib:.1f} MiB (VmRSS every 20 ms), VmHWM {run.hwm_mib:.1f} MiB"
          f"   (target <= {TARGET_RSS_MIB} MiB: {'met' if run.hwm_mib <= TARGET_RSS_MIB else 'NOT met'})"
          f"; at the end RssAnon {run.anon_mib:.1f} MiB, RssFile {run.file_mib:.1f} MiB")


def perf_start(pid, out):
    try:
        p = subprocess.Popen(["perf", "record", "-g", "-F", "997", "-p", str(pid), "-o", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as e:
        print(f"  perf: {e}")
        return None
    CHILDREN.append(p)
    return p


def perf_stop(p, out):
    if p is None:
        return
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
    CHILDREN.remove(p)


def perf_print(out):
    # Self time per thread (pid = thread here), per library, per function.
    for sort, limit, rows in (("pid", 0.5, 8), ("dso", 0.5, 10), ("dso,symbol", 0.5, 30)):
        r = subprocess.run(["perf", "report", "-i", out, "--no-children", "--sort", sort,
                            "--stdio", "-g", "none", "--percent-limit", str(limit)],
                           capture_output=True, text=True)
        lines = [ln for ln in r.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
        print(f"  perf report --no-children --sort {sort} (self time):")
        for ln in lines[:rows]:
            print("    " + ln.rstrip().rstrip("- ").rstrip())


# ---- scenarios ------------------------------------------------------------------------------


def wait_quiet(args):
    """Waits up to --quiet-wait seconds for a second in which the machine was
    at most --quiet-below % busy; says what it saw either way."""
    if args.quiet_wait <= 0:
        return
    t0 = time.monotonic()
    while True:
        w = Window([])
        time.sleep(1.0)
        w.stop()
        waited = time.monotonic() - t0
        if w.busy <= args.quiet_below or waited >= args.quiet_wait:
            note = "" if w.busy <= args.quiet_below else "; NOT quiet, going on anyway"
            print(f"  (machine {w.busy:.0f}% busy before the start, waited {waited:.0f} s{note})")
            return



def throughput(args, tmp, endpoint, data, audit):
    path, nlines, nbytes = data
    name = "b" if audit else "a"
    print(f"\n== {name}: {nlines} nginx lines ({nbytes / MIB:.1f} MiB, {nbytes / nlines:.0f} "
          f"bytes/line) from a file to the discarding endpoint, audit {'on' if audit else 'off'} ==")
    wait_quiet(args)
    base = endpoint.counts()
    conf = agent_config(tmp, name, endpoint.url, path, audit=audit)
    agent = Agent(args.bin, conf, os.path.join(tmp, f"agent-{name}.log"))
    run = Run(agent, endpoint.cpu)
    # perf starts with the first events: by then the agent's worker threads
    # exist (perf -p follows only the threads there when it attaches).
    perf_file, perf = f"{args.perf}.{name}" if args.perf else None, None
    logs = audit_n = 0
    last_change, audit_change = time.monotonic(), time.monotonic()
    logs_done_at = None
    while True:
        time.sleep(0.01)
        c = endpoint.counts()
        new_logs = int(c["log_events"] - base["log_events"])
        new_audit = int(c["audit_events"] - base["audit_events"])
        now = time.monotonic()
        if new_logs != logs or new_audit != audit_n:
            last_change = now
        if new_audit != audit_n:
            audit_change = now
        logs, audit_n = new_logs, new_audit
        run.note(logs)
        if perf_file and perf is None and logs > 0:
            perf = perf_start(agent.pid, perf_file)
        if logs >= nlines and logs_done_at is None:
            logs_done_at = now
        if not agent.alive():
            print(f"  the agent exited (status {agent.proc.returncode}); its log:\n"
                  + agent.log_tail())
            break
        if logs >= nlines and (not audit or audit_n >= nlines
                               or now - audit_change > 8 or now - logs_done_at > 60):
            break
        if now - last_change > args.stall:
            print(f"  no progress for {args.stall:.0f} s: stopping at {logs} log events, "
                  f"{audit_n} audit events")
            break
    t_end = time.monotonic() - run.t0
    run.finish()
    perf_stop(perf, perf_file)
    status = logs_status(agent) if agent.alive() else ""
    rc = agent.stop()
    c = endpoint.counts()
    per_line = nbytes / nlines
    run.timeline(args.verbose)
    print(Run.describe(run.points[-1], per_line, "all"))
    bp = run.busy_part()
    if bp is not run.points[-1]:
        print(Run.describe(bp, per_line, "busy part"))
    if run.steady():
        print(Run.describe(run.steady(), per_line, "steady"))
    print_rss(run)
    d = {k: c[k] - base[k] for k in FIELDS}
    print(f"  endpoint: {int(d['requests'])} requests, {d['wire_bytes'] / MIB:.1f} MiB on the wire, "
          f"{d['body_bytes'] / MIB:.1f} MiB of JSON; {int(d['log_events'])} log events, "
          f"{int(d['audit_events'])} audit events; unsigned {int(d['unsigned'])}, "
          f"bad {int(d['bad'])}, other calls {int(d['other'])}")
    if audit:
        if audit_n == 0:
            print("  audit: not available in this build (no PutAuditEvents came)")
        else:
            print(f"  audit: {audit_n} audit events ({audit_n / max(t_end, 1e-9):,.0f}/s over "
                  f"{t_end:.2f} s)")
    if status:
        print("  " + status)
    print("  " + agent.log_summary())
    if rc not in (0, None):
        print(f"  agent exit status {rc}")
    if bp[1]:
        met = bp[1] / bp[0] >= TARGET_LINES_S
        print(f"  target >= {TARGET_LINES_S:,} lines/s (busy part): {'met' if met else 'NOT met'}")
    if perf:
        perf_print(perf_file)


def steady(args, tmp, endpoint):
    print(f"\n== c: {args.rate} lines/s appended for {args.seconds} s (one write per line), "
          f"to the discarding endpoint ==")
    path = os.path.join(tmp, "steady.log")
    open(path, "w").close()
    wait_quiet(args)
    base = endpoint.counts()
    conf = agent_config(tmp, "c", endpoint.url, path)
    agent = Agent(args.bin, conf, os.path.join(tmp, "agent-c.log"))
    time.sleep(1.0)
    maker = LineMaker(seed=7)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    written, warmup, perf = 0, 3.0, None
    rss = RssSampler(agent.pid)
    t0 = time.monotonic()
    window = None
    try:
        while True:
            now = time.monotonic()
            if window is None and now - t0 >= warmup:
                window = Window([agent.pid] + endpoint.pids)
                switches = context_switches(agent.pid)
                perf = perf_start(agent.pid, f"{args.perf}.c") if args.perf else None
            if now - t0 >= warmup + args.seconds:
                break
            due = int((now - t0) * args.rate)
            epoch = int(time.time())
            while written < due:
                os.write(fd, maker.line(epoch).encode())
                written += 1
            time.sleep(0.001)
    finally:
        os.close(fd)
    window.stop()
    switches = (context_switches(agent.pid) - switches) / window.elapsed
    if args.perf:
        perf_stop(perf, f"{args.perf}.c")
    hwm = (status_kib(agent.pid, "VmHWM") or 0) / 1024
    rss_mib = rss.stop()
    deadline, got = time.monotonic() + 15, 0
    while time.monotonic() < deadline:
        got = int(endpoint.counts()["log_events"] - base["log_events"])
        if got >= written or not agent.alive():
            break
        time.sleep(0.05)
    status = logs_status(agent) if agent.alive() else "the agent exited:\n" + agent.log_tail()
    agent.stop()
    agent_cpu = window.cpu[agent.pid]
    ep_cpu = sum(window.cpu[p] for p in endpoint.pids)
    print(f"  wrote {written} lines; the endpoint counted {got}")
    rest = max(0.0, window.busy_cores - agent_cpu - ep_cpu)
    print(f"  agent CPU {agent_cpu:.2f}% of one core over {window.elapsed:.1f} s "
          f"(target <= {TARGET_IDLE_CPU:g}%: {'met' if agent_cpu <= TARGET_IDLE_CPU else 'NOT met'})"
          f" | endpoint {ep_cpu:.2f}% | other processes {rest:.1f}% | machine busy "
          f"{window.busy:.0f}%")
    print(f"  agent RSS max {rss_mib:.1f} MiB, VmHWM {hwm:.1f} MiB; {switches:,.0f} context "
          f"switches/s (all threads)")
    print("  " + status)
    if args.perf:
        perf_print(f"{args.perf}.c")


def db_events(db, exact=False):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            q = "SELECT count(*) FROM log_events" if exact else "SELECT max(id) FROM log_events"
            return con.execute(q).fetchone()[0] or 0
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def end_to_end(args, tmp, data):
    path, nlines, nbytes = data
    print(f"\n== d: {nlines} nginx lines ({nbytes / MIB:.1f} MiB) end to end into "
          f"trailwatch-collector ==")
    wait_quiet(args)
    data_dir = os.path.join(tmp, "collector")
    write_collector_config(os.path.join(tmp, "collector.conf"), data_dir, AKID, SECRET)
    clog = open(os.path.join(tmp, "collector.log"), "w")
    try:
        collector, url = start_collector(os.path.join(args.bin, "trailwatch-collector"),
                                         os.path.join(tmp, "collector.conf"), log=clog)
    except RuntimeError as e:
        print(f"  {e}")
        return
    CHILDREN.append(collector)
    db = os.path.join(data_dir, "collector.db")
    conf = agent_config(tmp, "d", url, path)
    agent = Agent(args.bin, conf, os.path.join(tmp, "agent-d.log"))
    run = Run(agent, lambda: cpu_seconds(collector.pid))
    crss = RssSampler(collector.pid)
    perf = perf_start(agent.pid, f"{args.perf}.d") if args.perf else None
    got, last_change = 0, time.monotonic()
    while True:
        time.sleep(0.25)
        n = db_events(db)
        if n != got:
            got, last_change = n, time.monotonic()
        run.note(got)
        if got >= nlines:
            break
        if not agent.alive() or collector.poll() is not None:
            print("  a process exited; agent log:\n" + agent.log_tail())
            break
        if time.monotonic() - last_change > args.stall:
            print(f"  no progress for {args.stall:.0f} s: stopping at {got} events")
            break
    run.finish()
    perf_stop(perf, f"{args.perf}.d")
    crss_mib = crss.stop()
    status = logs_status(agent) if agent.alive() else ""
    agent.stop()
    exact = db_events(db, exact=True)
    stop_process(collector)
    CHILDREN.remove(collector)
    clog.close()
    per_line = nbytes / nlines
    run.timeline(args.verbose)
    print(Run.describe(run.points[-1], per_line, "all").replace("endpoint", "collector"))
    bp = run.busy_part()
    if bp is not run.points[-1]:
        print(Run.describe(bp, per_line, "busy part").replace("endpoint", "collector"))
    if run.steady():
        print(Run.describe(run.steady(), per_line, "steady").replace("endpoint", "collector"))
    print_rss(run)
    print(f"  collector RSS max {crss_mib:.1f} MiB; log_events holds {exact} rows "
          f"({'= N' if exact == nlines else 'expected %d' % nlines})")
    print(f"  compare: the collector alone, {COLLECTOR_INGEST} (~120-byte lines, bench/README.md)")
    if status:
        print("  " + status)
    if perf:
        perf_print(f"{args.perf}.d")


# ---- main ---------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="/work/main/build/bin")
    p.add_argument("--lines", type=int, default=2_000_000)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--only", default="a,b,c,d")
    p.add_argument("--endpoint-procs", type=int, default=1)
    p.add_argument("--endpoint-count", choices=["timestamp", "json"], default="timestamp")
    p.add_argument("--stall", type=float, default=30, help="give up after this many seconds "
                   "without progress")
    p.add_argument("--quiet-below", type=float, default=20, metavar="PCT",
                   help="before each scenario, wait for a second with the machine at most "
                   "PCT %% busy (default 20)")
    p.add_argument("--quiet-wait", type=float, default=120, metavar="S",
                   help="... but at most S seconds (default 120; 0: do not wait)")
    p.add_argument("--perf", metavar="PREFIX", help="perf record the agent during each "
                   "scenario into PREFIX.a, PREFIX.b, ...")
    p.add_argument("--gzip", action="store_true", help="put the endpoint on this machine's "
                   "non-loopback address: the agent then gzips its PutLogEvents bodies as it "
                   "does towards AWS (it does not towards 127.0.0.1)")
    p.add_argument("--endpoint-selftest", action="store_true")
    p.add_argument("--verbose", action="store_true", help="print every count change")
    args = p.parse_args()
    only = set(args.only.replace(" ", "").split(","))
    for prog in ("trailwatch-agent", "trailwatch-collector", "trailwatch"):
        if not os.access(os.path.join(args.bin, prog), os.X_OK):
            sys.exit(f"{args.bin}/{prog}: not found (--bin names the build's bin directory)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    atexit.register(stop_children)
    tmp = tempfile.mkdtemp(prefix="tw-logs-bench-")
    try:
        # Forked first, before any thread exists in this process.
        host = "127.0.0.1"
        if args.gzip:
            host = discard_endpoint.non_loopback_address()
            if host is None or host.startswith("127."):
                sys.exit("--gzip: this machine has no address outside the loopback")
        endpoint = discard_endpoint.Endpoint(args.endpoint_procs, args.endpoint_count == "json",
                                             host)
        CHILDREN.append(endpoint)
        print(f"logs_bench: {args.bin}, {NCPU} CPUs, endpoint {endpoint.url} "
              f"({args.endpoint_procs} process(es), counting by {args.endpoint_count})")
        if args.endpoint_selftest:
            discard_endpoint.selftest(endpoint, LineMaker(seed=3).line)
        data = None
        if only & {"a", "b", "d"}:
            path = os.path.join(tmp, "access.log")
            t0 = time.monotonic()
            nbytes = write_lines(path, args.lines)
            print(f"generated {args.lines} lines, {nbytes / MIB:.1f} MiB "
                  f"({nbytes / args.lines:.0f} bytes/line) in {time.monotonic() - t0:.1f} s")
            data = (path, args.lines, nbytes)
        if "a" in only:
            throughput(args, tmp, endpoint, data, audit=False)
        if "b" in only:
            throughput(args, tmp, endpoint, data, audit=True)
        if "c" in only:
            steady(args, tmp, endpoint)
        if "d" in only:
            end_to_end(args, tmp, data)
    finally:
        stop_children()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
