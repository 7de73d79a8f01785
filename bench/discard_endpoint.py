"""discard_endpoint.py — an AWS-like HTTP endpoint that acknowledges and
discards, for the benchmarks (logs_bench.py).

P forked processes accept on one listening socket of this machine, with a
thread per keep-alive connection. Each request is read whole (Content-Length;
`Expect: 100-continue` answered), gunzipped when Content-Encoding is gzip,
and counted:
  - PutLogEvents (X-Amz-Target ...PutLogEvents): its events, as the
    occurrences of `"timestamp":` (exact for bodies whose messages are JSON
    strings: their quotes are escaped), or with json.loads (use_json);
  - PutAuditEvents (path /PutAuditEvents): its events' ids, which the answer
    lists as `successful` (without that the sender would resend them);
  - anything else (CreateLogGroup, CreateLogStream, ...): as "other".
Every answer is 200. Counters (FIELDS) live in shared memory, one row per
process written under that process's lock; counts() sums them.

The parent forks the workers before it starts any thread, and stops them
with stop() (SIGKILL: they hold nothing). Not thread-safe besides counts().
"""
import json
import os
import re
import signal
import socket
import threading
import time
import zlib
from multiprocessing import RawArray

from benchutil import Window, cpu_seconds

MIB = 1024 * 1024


# Per worker: its counters, written under its lock, read by the parent.
FIELDS = ["log_events", "audit_events", "requests", "wire_bytes", "body_bytes", "unsigned",
          "bad", "other"]
NF = len(FIELDS)
AUDIT_ID = re.compile(rb'\{"id":"([A-Za-z0-9_-]{1,128})"')
OK_EMPTY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
            b"x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\nContent-Length: 2\r\n\r\n{}")


def answer(code, body, close=False):
    head = (f"HTTP/1.1 {code}\r\nContent-Type: application/json\r\n"
            f"x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n"
            f"Content-Length: {len(body)}\r\n")
    if close:
        head += "Connection: close\r\n"
    return (head + "\r\n").encode() + body


def serve_connection(conn, stats, base, lock, use_json):
    """Answers the requests of one keep-alive connection until it closes;
    counts into stats[base:base + NF]."""
    rd = conn.makefile("rb", 1 << 18)
    try:
        while True:
            line = rd.readline(65536)
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                continue
            parts = line.split()
            target = parts[1] if len(parts) > 1 else b"/"
            headers = {}
            while True:
                h = rd.readline(65536)
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.partition(b":")
                headers[k.strip().lower()] = v.strip()
            if headers.get(b"transfer-encoding"):
                conn.sendall(answer("411 Length Required", b"{}", close=True))
                return
            if headers.get(b"expect", b"").lower() == b"100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = rd.read(int(headers.get(b"content-length", b"0")))
            wire = len(body)
            if headers.get(b"content-encoding", b"").lower() == b"gzip":
                body = zlib.decompress(body, 31)
            amz = headers.get(b"x-amz-target", b"")
            logs = audit = other = bad = 0
            reply = OK_EMPTY
            if target.startswith(b"/PutAuditEvents"):
                ids = AUDIT_ID.findall(body)
                audit = len(ids)
                reply = answer("200 OK", b'{"successful":[' + b",".join(
                    b'{"id":"%s","eventID":"%s"}' % (i, i) for i in ids) + b'],"failed":[]}')
            elif amz.endswith(b".PutLogEvents"):
                if use_json:
                    try:
                        logs = len(json.loads(body)["logEvents"])
                    except (ValueError, KeyError, TypeError):
                        bad = 1
                else:
                    logs = body.count(b'"timestamp":')
            else:
                other = 1  # CreateLogGroup, CreateLogStream, PutMetricData...
            with lock:
                stats[base + 0] += logs
                stats[base + 1] += audit
                stats[base + 2] += 1
                stats[base + 3] += wire
                stats[base + 4] += len(body)
                stats[base + 5] += b"authorization" not in headers
                stats[base + 6] += bad
                stats[base + 7] += other
            conn.sendall(reply)
            if headers.get(b"connection", b"").lower() == b"close":
                return
    except (OSError, ValueError, zlib.error):
        with lock:
            stats[base + 6] += 1
    finally:
        rd.close()
        conn.close()


def endpoint_worker(listener, stats, base, use_json):
    """A worker process: a thread per accepted connection, forever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lock = threading.Lock()
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_connection, args=(conn, stats, base, lock, use_json),
                         daemon=True).start()


def non_loopback_address():
    """This machine's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            return s.getsockname()[0]
        except OSError:
            return None


class Endpoint:
    """P forked processes accepting on one socket of this machine."""

    def __init__(self, procs, use_json, host="127.0.0.1"):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        self.url = "http://%s:%d" % (host, self.listener.getsockname()[1])
        self.stats = RawArray("d", NF * procs)
        self.pids = []
        for i in range(procs):
            pid = os.fork()
            if pid == 0:
                try:
                    endpoint_worker(self.listener, self.stats, i * NF, use_json)
                finally:
                    os._exit(0)
            self.pids.append(pid)
        self.listener.close()

    def stop(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self.pids = []

    def counts(self):
        s = self.stats
        return {name: sum(s[i * NF + k] for i in range(len(self.pids)))
                for k, name in enumerate(FIELDS)}

    def cpu(self):
        return sum(cpu_seconds(pid) for pid in self.pids)


# ---- self-test ------------------------------------------------------------------------------


def selftest(endpoint, make_message):
    """Posts gzip'd PutLogEvents bodies like the agent's (messages from
    make_message(epoch_s)) from 4 client processes over keep-alive
    connections and prints what the endpoint takes."""
    print("\n== endpoint self-test: 4 clients posting 1 MiB PutLogEvents bodies (gzip -1) ==")
    t = int(time.time()) * 1000
    events, size = [], 0
    while size < 1_000_000:
        msg = make_message(t // 1000).rstrip("\n")
        events.append({"timestamp": t, "message": msg})
        size += len(msg) + 26
    raw = json.dumps({"logGroupName": "/bench", "logStreamName": "s", "logEvents": events},
                     separators=(",", ":")).encode()
    gz = zlib.compressobj(1, zlib.DEFLATED, 31)
    body = gz.compress(raw) + gz.flush()
    for label, fn, arg in (("count \"timestamp\":", lambda b: b.count(b'"timestamp":'), raw),
                           ("json.loads", lambda b: len(json.loads(b)["logEvents"]), raw),
                           ("gunzip", lambda b: zlib.decompress(b, 31), body)):
        t0 = time.perf_counter()
        for _ in range(20):
            fn(arg)
        dt = (time.perf_counter() - t0) / 20
        print(f"  {label:<20} {dt * 1000:6.2f} ms per {len(raw) / MIB:.2f} MiB body "
              f"({len(raw) / dt / MIB:,.0f} MiB/s)")
    n_req, clients = 150, 4
    head = (f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Logs_20140328.PutLogEvents\r\n"
            f"Content-Encoding: gzip\r\nAuthorization: AWS4-HMAC-SHA256 x\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    base, cpu0, w = endpoint.counts(), endpoint.cpu(), Window([])
    host, port = endpoint.url[7:].split(":")
    pids = []
    for _ in range(clients):
        pid = os.fork()
        if pid == 0:
            try:
                s = socket.create_connection((host, int(port)))
                rd = s.makefile("rb")
                for _ in range(n_req):
                    s.sendall(head + body)
                    clen = 0
                    while True:
                        h = rd.readline()
                        if h in (b"\r\n", b""):
                            break
                        if h.lower().startswith(b"content-length:"):
                            clen = int(h.split(b":")[1])
                    rd.read(clen)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    w.stop()
    c = endpoint.counts()
    mib = (c["body_bytes"] - base["body_bytes"]) / MIB
    ep = 100 * (endpoint.cpu() - cpu0) / w.elapsed
    print(f"  {int(c['requests'] - base['requests'])} requests, {mib:.0f} MiB of JSON "
          f"({(c['wire_bytes'] - base['wire_bytes']) / MIB:.0f} MiB gzip) in {w.elapsed:.2f} s = "
          f"{mib / w.elapsed:,.0f} MiB/s, {int(c['log_events'] - base['log_events'])} events; "
          f"endpoint CPU {ep:.0f}% ({len(endpoint.pids)} process(es)); machine busy {w.busy:.0f}%")
    print(f"  endpoint CPU per 100 MiB/s of JSON: {ep / (mib / w.elapsed) * 100:.0f}% of a core")
