#!/usr/bin/env python3
"""Backtest workload for benches/stream_scale.sh (Python 3 stdlib only, deterministic).

  stream_workload.py --out DIR [--days 30] [--metrics 100]
      writes DIR/month.csv and DIR/month.jsonl (a sample of every metric every 15s, in time order),
      DIR/month.runbook (one trigger per metric: half on the instant value, half on a 5-minute average)
      and DIR/one.runbook (one trigger on the first metric: what reading the file costs).
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--metrics", type=int, default=100)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = int(a.days * 86400 / 15)
    names = [f"m{i:03d}" for i in range(a.metrics)]
    # Values: a slow wave per metric plus a spike now and then, written with two decimals.
    with open(os.path.join(a.out, "month.csv"), "w") as c, open(os.path.join(a.out, "month.jsonl"), "w") as j:
        c.write("time,metric,value\n")
        for k in range(n):
            t = 1714521600 + k * 15
            cs = []
            js = []
            for i, m in enumerate(names):
                v = (k * (i + 3) + i * 977) % 9000 / 100
                if (k + i * 131) % 5003 < 30:
                    v += 20
                cs.append(f"{t},{m},{v:.2f}\n")
                js.append(f'{{"time":{t},"metric":"{m}","value":{v:.2f}}}\n')
            c.write("".join(cs))
            j.write("".join(js))
    rb = ["runbook month {", "  evaluate every 15s"]
    for i, m in enumerate(names):
        cond = f"{m} > 95" if i % 2 == 0 else f"avg_over({m}, 5m) > 80"
        rb.append(f"  trigger t{i:03d}: {cond} for 1m -> level 1")
    rb += ['  level 1 "respond" {', '    step shell "true" timeout 1s', "  }", "}"]
    with open(os.path.join(a.out, "month.runbook"), "w") as f:
        f.write("\n".join(rb) + "\n")
    with open(os.path.join(a.out, "one.runbook"), "w") as f:
        f.write("\n".join(rb[:2] + [f"  trigger t: {names[0]} > 1000 -> level 1"] + rb[-4:]) + "\n")
    print(f"{n * a.metrics} samples of {a.metrics} metrics over {a.days} days")


if __name__ == "__main__":
    main()
