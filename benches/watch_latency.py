#!/usr/bin/env python3
"""`ripcord watch` latencies against a real Prometheus (/usr/bin/prometheus, no scrapes needed):

1. Reload: SAVES saves of one runbook, each by writing a temporary file and renaming it over the runbook (as
   editors do), each renaming its trigger so that the new plan is recognisable. Per save: the write time (taken
   just before the rename), the server's `last_reload.at` from /api/status (when the rescan that compiled it
   began), and when the new trigger name was first visible in /api/status (polled every 2 ms). Median and p99.
2. Firing to first step: RUNS new runbooks, each with a trigger that is true at once (`vector(1) > 0`), added
   one by one. Per run: the trigger's firing `since` (the evaluation time `t`) from /api/status, and the journal's
   first `step_start` `t_ms`. Median and p99 of the difference.

Usage: benches/watch_latency.py [SAVES=200] [RUNS=50]    (release build: cargo build --release first;
       RIPCORD=path overrides the binary)
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

SAVES = int(sys.argv[1]) if len(sys.argv) > 1 else 200
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 50
HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.realpath(os.environ.get("RIPCORD", os.path.join(HERE, "..", "target", "release", "ripcord")))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def now_ms():
    return time.time() * 1000.0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def summary(name, xs):
    print(f"{name}: n={len(xs)} median={statistics.median(xs):.1f} ms p99={pct(xs, 99):.1f} ms "
          f"min={min(xs):.1f} ms max={max(xs):.1f} ms")


def reload_book(i):
    return (f'runbook edited {{\n  evaluate every 1s\n  metric m = promql "vector(0)"\n'
            f'  trigger t{i}: m > 1 for 1h -> level 1\n  level 1 {{\n    step shell "true"\n  }}\n}}\n')


def firing_book(i):
    return (f'runbook fire{i} {{\n  evaluate every 1s\n  metric m = promql "vector(1)"\n'
            f'  trigger go: m > 0 -> level 1\n  level 1 {{\n    step shell "true"\n  }}\n}}\n')


def status(base):
    return json.loads(get(base + "/api/status"))


def main():
    work = tempfile.mkdtemp()
    procs = []
    try:
        port, wport = free_port(), free_port()
        with open(f"{work}/prometheus.yml", "w") as f:
            f.write("global:\n  scrape_interval: 15s\n")
        procs.append(subprocess.Popen(
            ["/usr/bin/prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        prom = f"http://127.0.0.1:{port}"
        while True:
            try:
                get(prom + "/-/ready")
                break
            except OSError:
                time.sleep(0.2)
        books = f"{work}/books"
        os.mkdir(books)
        path = f"{books}/edited.runbook"
        with open(path, "w") as f:
            f.write(reload_book(0))
        log = open(f"{work}/watch.log", "w")
        procs.append(subprocess.Popen(
            [BIN, "watch", "books", "--prometheus", prom, "--listen", f"127.0.0.1:{wport}", "--state-dir", "state"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=log))
        base = f"http://127.0.0.1:{wport}"
        while True:
            try:
                get(base + "/healthz")
                break
            except OSError:
                time.sleep(0.05)

        # 1. Reload latency.
        at_lat, seen_lat = [], []
        for i in range(1, SAVES + 1):
            tmp = path + ".swp~"
            with open(tmp, "w") as f:
                f.write(reload_book(i))
            written = now_ms()
            os.rename(tmp, path)
            deadline = time.time() + 10
            while True:
                s = status(base)
                rb = next((r for r in s["runbooks"] if r["name"] == "edited"), None)
                if rb and any(t["name"] == f"t{i}" for t in rb["triggers"]):
                    seen_lat.append(now_ms() - written)
                    at_lat.append(rb["last_reload"]["at"] - written)
                    break
                if time.time() > deadline:
                    sys.exit(f"save {i} never went live")
                time.sleep(0.002)
            time.sleep(0.02)
        print(f"reload, {SAVES} saves (write+rename -> live):")
        summary("  last_reload.at - write", at_lat)
        summary("  visible in /api/status - write (client, 2 ms polling)", seen_lat)

        # 2. Firing evaluation -> first step start.
        os.remove(path)
        lat = []
        for i in range(RUNS):
            with open(f"{books}/fire{i}.runbook", "w") as f:
                f.write(firing_book(i))
            deadline = time.time() + 15
            since = None
            while since is None:
                s = status(base)
                rb = next((r for r in s["runbooks"] if r["name"] == f"fire{i}"), None)
                t = rb and next((t for t in rb["triggers"] if t["name"] == "go"), None)
                if t and t["state"] == "firing":
                    since = t["since"]
                    run = next((r for r in s["runs"] if r["runbook"] == f"fire{i}"), None)
                if time.time() > deadline:
                    sys.exit(f"fire{i} never fired")
                time.sleep(0.01)
            first = None
            while first is None:
                s = status(base)
                run = next((r for r in s["runs"] if r["runbook"] == f"fire{i}"), None)
                if run:
                    with open(f"{work}/state/runs/{run['id']}.jsonl") as f:
                        for line in f:
                            rec = json.loads(line)
                            if rec.get("event") == "step_start":
                                first = rec["t_ms"]
                                break
                if time.time() > deadline:
                    sys.exit(f"fire{i}: no step started")
                time.sleep(0.01)
            lat.append(first - since)
        print(f"firing evaluation -> first step start, {RUNS} runs (journal t_ms - trigger since):")
        summary("  latency", lat)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
