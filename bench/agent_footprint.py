#!/usr/bin/env python3
"""agent_footprint.py — what trailwatch-agent costs the machine it watches.

    bench/agent_footprint.py [--bin build/bin] [--seconds 60] [--interval 1s]

Starts a collector (loopback, temporary data directory) and an agent with
every host input on (cpu, mem, net, disk, diskio) at the given interval,
shipping to it, lets them settle for 10 s, then samples the agent's
/proc/PID/stat and /proc/PID/status for --seconds and prints the agent's
CPU use (% of one core, user+system), its RSS (average and peak) and what
it shipped (from `trailwatch status`). Targets (issue 4): RSS <= 8 MiB,
CPU <= 0.5 % of one core at a 1-second interval. Not a test: nothing is
asserted.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from benchutil import cpu_ticks, read, rss_kib, start_collector, stop_process, \
    write_collector_config

AKID, SECRET = "AKIDBENCHFOOTPRINT01", "benchsecretbenchsecretbenchsecret0000000"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.path.join(here, "..", "build", "bin"))
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--interval", default="1s")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="tw-footprint-")
    procs = []
    try:
        write_collector_config(f"{tmp}/collector.conf", f"{tmp}/data", AKID, SECRET)
        try:
            collector, url = start_collector(os.path.join(args.bin, "trailwatch-collector"),
                                             f"{tmp}/collector.conf")
        except RuntimeError as e:
            sys.exit(str(e))
        procs.append(collector)
        with open(os.path.join(tmp, "agent.conf"), "w") as f:
            f.write(f"[agent]\nstate_dir = {tmp}/agent\nlog_level = warn\n"
                    f"[endpoint]\nurl = {url}\naccess_key_id = {AKID}\n"
                    f"secret_access_key = {SECRET}\n"
                    f"[metrics]\ninterval = {args.interval}\ncpu = yes\nmem = yes\nnet = yes\n"
                    f"disk = yes\ndiskio = yes\n")
        agent = subprocess.Popen([os.path.join(args.bin, "trailwatch-agent"), "--config",
                                  f"{tmp}/agent.conf"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        procs.append(agent)
        time.sleep(10)
        hz = os.sysconf("SC_CLK_TCK")
        t0, c0 = time.monotonic(), cpu_ticks(agent.pid)
        rss = []
        while time.monotonic() - t0 < args.seconds:
            rss.append(rss_kib(agent.pid))
            time.sleep(1)
        elapsed, used = time.monotonic() - t0, (cpu_ticks(agent.pid) - c0) / hz
        peak = int(re.search(r"VmHWM:\s+(\d+)", read(f"/proc/{agent.pid}/status")).group(1))
        rollup = read(f"/proc/{agent.pid}/smaps_rollup")
        field = lambda name: int(re.search(name + r":\s+(\d+)", rollup).group(1)) / 1024
        status = json.loads(subprocess.run(
            [os.path.join(args.bin, "trailwatch"), "status", "--config", f"{tmp}/agent.conf",
             "--json"], capture_output=True, text=True, check=True).stdout)
        cpu_pct = 100.0 * used / elapsed
        avg_rss = sum(rss) / len(rss) / 1024
        print(f"agent, every host input at {args.interval}, {elapsed:.0f} s measured:")
        print(f"  CPU  {cpu_pct:.3f} % of one core   (target <= 0.5 %)")
        print(f"  RSS  {avg_rss:.2f} MiB average, {peak / 1024:.2f} MiB peak (VmHWM)"
              f"   (target <= 8 MiB)")
        print(f"       of which {field('Shared_Clean'):.2f} MiB are library pages shared with "
              f"other processes; private {field('Private_Dirty') + field('Private_Clean'):.2f}"
              f" MiB, proportional share (PSS) {field('Pss'):.2f} MiB")
        m = status.get("metrics", {})
        print(f"  shipped {status['metrics_output']['batches_sent']} batches, "
              f"{m.get('samples', 0)} samples in {m.get('series', 0)} series, "
              f"{status['endpoint']['bytes_sent']} bytes")
    finally:
        for proc in reversed(procs):
            stop_process(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
