"""benchutil.py — what the Python benchmarks share: /proc readings (a
process's CPU time and memory, the whole machine's busy time), a VmRSS
sampler, and a trailwatch-collector child on loopback.

Figures follow bench_collector.c: CPU is utime + stime from /proc/PID/stat
(all threads; 100 % = one core), memory the VmRSS/VmHWM lines of
/proc/PID/status, machine busy time everything in /proc/stat's "cpu" line
but idle and iowait. Readings of a process that has gone return 0 / None
rather than raising: a benchmark prints what it has.
"""
import os
import re
import subprocess
import threading
import time

HZ = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def read(path):
    with open(path) as f:
        return f.read()


def cpu_ticks(pid):
    """utime + stime of pid in clock ticks; 0 when it is gone."""
    try:
        # The command name may hold spaces and ')': fields start after the last ')'.
        fields = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid):
    return cpu_ticks(pid) / HZ


def status_kib(pid, key):
    """A number of /proc/PID/status, or None: "VmRSS", "VmHWM" (KiB), or a
    count ("voluntary_ctxt_switches"). pid may be "PID/task/TID" (a thread)."""
    try:
        m = re.search(key + r":\s+(\d+)", read(f"/proc/{pid}/status"))
    except OSError:
        return None
    return int(m.group(1)) if m else None


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def machine_busy_seconds():
    """Busy time of all CPUs together, in seconds."""
    v = [int(x) for x in read("/proc/stat").split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v + [0] * (8 - len(v))
    return (user + nice + system + irq + softirq + steal) / HZ


class RssSampler:
    """The largest VmRSS of pid, sampled every `interval` seconds on a thread."""

    def __init__(self, pid, interval=0.02):
        self.pid, self.interval, self.max_kib = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            kib = rss_kib(self.pid)
            if kib is not None and kib > self.max_kib:
                self.max_kib = kib
            self._stop.wait(self.interval)

    def stop(self):
        """Returns the largest VmRSS seen, in MiB."""
        self._stop.set()
        self._thread.join()
        return self.max_kib / 1024


class Window:
    """CPU of some processes and of the machine between start() and stop()."""

    def __init__(self, pids=()):
        self.pids = list(pids)
        self.start()

    def start(self):
        self.t0 = time.monotonic()
        self.busy0 = machine_busy_seconds()
        self.cpu0 = {pid: cpu_seconds(pid) for pid in self.pids}

    def stop(self):
        """Sets elapsed (s), cpu {pid: % of one core} and busy (% of all cores)."""
        self.elapsed = max(time.monotonic() - self.t0, 1e-9)
        busy = machine_busy_seconds() - self.busy0
        self.cpu = {pid: 100.0 * (cpu_seconds(pid) - c0) / self.elapsed
                    for pid, c0 in self.cpu0.items()}
        self.busy = 100.0 * busy / (self.elapsed * NCPU)
        self.busy_cores = 100.0 * busy / self.elapsed  # % of one core, every process
        return self


def write_collector_config(path, data_dir, access_key_id, secret, region="us-east-1"):
    """The configuration bench_collector.c writes: loopback, any port, one user."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a secret
    with os.fdopen(fd, "w") as f:
        f.write("; written by a trailwatch benchmark\n"
                f"[server]\nlisten = 127.0.0.1:0\ndata_dir = {data_dir}\n\n"
                f"[account]\nid = 123456789012\nregions = {region}\n\n"
                f"[user bench]\naccess_key_id = {access_key_id}\nsecret_access_key = {secret}\n")


def start_collector(program, conf, log=None, timeout=15):
    """Starts `program --config conf` and returns (Popen, url) once it logged
    "listening on URL"; its later log lines are copied to `log` (a file
    object; None drops them) by a thread. Raises RuntimeError when it does not
    come up."""
    proc = subprocess.Popen([program, "--config", conf], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    found, seen = [], []

    def pump():
        for line in proc.stdout:
            if not found:
                seen.append(line)
                m = re.search(r"listening on (http://\S+)", line)
                if m:
                    found.append(m.group(1))
            elif log is not None:
                log.write(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if not found:
        stop_process(proc)
        raise RuntimeError("the collector did not say \"listening on URL\"; its log:\n"
                           + "".join(seen))
    return proc, found[0]


def stop_process(proc, timeout=20):
    """SIGTERM, then SIGKILL after timeout seconds; returns the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
