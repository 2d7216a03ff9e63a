#!/usr/bin/env python3
"""Generate promtool-confirmed fixtures for the trigger forms `for N of M` and `clear when`.

Run from anywhere:  python3 tests/promtool/generate_kinds.py [--keep-work DIR] [--only N,N,...]

For every case this script
  1. builds random multi-series input in promtool notation (series `a`, and `b` for some cases, per
     instance/mountpoint; series that start late, stop, pause in gaps), with generate_series.py's
     helpers;
  2. draws a trigger form: `for N of M`, `clear when C` (a band on `a`, or a condition on `b` that has no
     value for some series), with or without `for D`, `for N consecutive` and `keep firing for D`, and
     `for N of M` with `clear when`;
  3. predicts, per series and at every evaluation, whether the trigger fires, with a Python model of
     ripcord's semantics (the definitions of issue 14, below), under Prometheus 2.42's and 3.5's lookback
     (the series avoid the one edge where those differ, so both predictions agree);
  4. writes the alerting rule as `ripcord export prometheus-rules` writes it (src/export/forms.rs), and
     `test.yml` / `test.v3.yml` asserting the model's firing alerts at every evaluation;
  5. keeps the case only when promtool 2.42 and promtool 3.5 both pass it.

The model (ripcord's trigger machine, per series, at evaluations 0, I, 2I, ...):
  - COND(s) and C(s) hold when the series s has a value (newest sample in the 5-minute lookback, not a
    stale marker) that passes the comparison;
  - input(s) = COND(s), or, while s is FIRING and the trigger has `clear when C`: COND(s) or not C(s);
  - `for D` / `for N consecutive` (D = (N-1) * I): pending at the first true input, firing once the input
    has been true for D; a false input makes a pending series inactive;
  - `for N of M`: the window holds the last M inputs (evaluations before the series existed are false);
    firing while at least N of them are true;
  - `keep firing for K`: a firing series whose input (or count) turns false stays firing while
    t - (first false evaluation) < K; a true one resets it.

Kept cases become tests/promtool/kinds/NNN_name/ (see tests/promtool/README.md). Python 3.11 standard
library only; deterministic (fixed seed).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from generate import STALE, fmt_dur, yq  # noqa: E402  (the shared promtool notation)
from generate_series import per_instance_mount, safe_series, behaviour, series_name, run  # noqa: E402

SEED = 20261205
PROMTOOL = os.environ.get("PROMTOOL", "promtool")
PROMTOOL3 = os.environ.get("PROMTOOL3", "promtool3")
FIXTURES = os.path.join(HERE, "kinds")
MAX_SERIES = 1000  # plan::defaults::MAX_SERIES, written as the group's `limit`
LOOKBACK = 300


@dataclass
class Case:
    index: int
    category: str
    short: str
    eval_interval: int
    series_interval: int
    series: dict = field(default_factory=dict)  # metric -> [(labels, Series)]
    cond: tuple = ("a", ">", 0.9)  # (metric, op, threshold)
    clear: tuple | None = None
    hold: tuple = ("for", 0)  # ("for", seconds) | ("consecutive", n) | ("of", n, m)
    keep: int = 0
    end: int = 0
    firing: dict = field(default_factory=dict)  # eval time -> sorted label tuples

    @property
    def name(self) -> str:
        return f"{self.index:03d}_{self.short}"

    @property
    def runbook(self) -> str:
        return f"kinds_{self.index:03d}"


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

OPS = {">": lambda a, b: a > b, "<": lambda a, b: a < b, "==": lambda a, b: a == b,
       ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def instant(samples: list, t: int, version: int):
    """The value of a series at t: its newest sample in the lookback (closed on the left under 2.42,
    open under 3.5); None when there is none or it is a stale marker."""
    newest = None
    for ts, v in samples:
        if ts > t:
            break
        inside = ts >= t - LOOKBACK if version == 2 else ts > t - LOOKBACK
        if inside:
            newest = v
    return None if newest is None or newest is STALE else newest


def samples_of(s, si: int) -> list:
    return [(i * si, v) for i, v in enumerate(s.expand()) if v is not None]


def holding(case: Case, cond: tuple, t: int, version: int, data: dict) -> set:
    """The label tuples a comparison `metric op threshold` holds for at t."""
    metric, op, x = cond
    out = set()
    for labels, samples in data.get(metric, []):
        v = instant(samples, t, version)
        if v is not None and v == v and OPS[op](v, x):
            out.add(labels)
    return out


def predict(case: Case, version: int) -> dict:
    """eval time -> sorted label tuples of the series the trigger is firing for."""
    si, ei = case.series_interval, case.eval_interval
    data = {m: [(tuple(sorted(l.items())), samples_of(s, si)) for l, s in fam] for m, fam in case.series.items()}
    universe = sorted({lab for lab, _ in data["a"]})
    state = {lab: "inactive" for lab in universe}
    active_at: dict = {}
    keep_since: dict = {}
    window = {lab: collections.deque() for lab in universe}
    kind = case.hold[0]
    hold_s = case.hold[1] if kind == "for" else (case.hold[1] - 1) * ei if kind == "consecutive" else 0
    out = {}
    for t in range(0, case.end + 1, ei):
        cond = holding(case, case.cond, t, version, data)
        clear = holding(case, case.clear, t, version, data) if case.clear else set()
        firing_now = []
        for lab in universe:
            inp = lab in cond
            if case.clear and state[lab] == "firing":
                inp = inp or lab not in clear
            if kind == "of":
                n, m = case.hold[1], case.hold[2]
                w = window[lab]
                w.append(inp)
                while len(w) > m:
                    w.popleft()
                true = sum(w) >= n
            else:
                true = inp
            if true:
                keep_since.pop(lab, None)
                if kind == "of":
                    state[lab] = "firing"
                elif state[lab] == "inactive":
                    active_at[lab] = t
                    state[lab] = "firing" if hold_s == 0 else "pending"
                elif state[lab] == "pending" and t - active_at[lab] >= hold_s:
                    state[lab] = "firing"
            else:
                if state[lab] == "firing" and case.keep:
                    since = keep_since.setdefault(lab, t)
                    if t - since >= case.keep:
                        state[lab] = "inactive"
                        keep_since.pop(lab, None)
                else:
                    state[lab] = "inactive"
            if state[lab] == "firing":
                firing_now.append(lab)
        if firing_now:
            out[t] = sorted(firing_now)
    return out


# --------------------------------------------------------------------------------------------
# Random cases
# --------------------------------------------------------------------------------------------

def length(rng: random.Random, si: int) -> int:
    return rng.randint(420, 660) // si


LEVELS = [0.5, 0.5, 0.7, 0.8, 0.92, 0.95, 1.0]


def of_last(rng: random.Random) -> tuple:
    m = rng.choice([2, 3, 4, 5, 6, 8, 10, 12])
    return ("of", rng.randint(1, m), m)


def plain_hold(rng: random.Random, ei: int) -> tuple:
    r = rng.random()
    if r < 0.3:
        return ("for", 0)
    if r < 0.7:
        return ("for", rng.choice([ei, 2 * ei, 45, 60]))
    return ("consecutive", rng.randint(2, 4))


def make(category: str, rng: random.Random, ei: int, si: int) -> dict:
    n = length(rng, si)
    fam, _ = per_instance_mount(rng, LEVELS, n, rng.randint(3, 6), si, ei)
    out = dict(series={"a": fam}, keep=rng.choice([0, 0, ei, 30, 60]))
    if category == "of_last":
        out["hold"] = of_last(rng)
    elif category == "clear_band":
        out["hold"] = plain_hold(rng, ei)
        out["clear"] = ("a", "<", rng.choice([0.6, 0.75]))
    elif category == "clear_other":
        # `b` per series, missing for some: C has no value there, so the series never clears.
        b = [(labels, safe_series(rng, [0, 0, 1], n, si, ei, behaviour(rng))) for labels, _ in fam
             if rng.random() < 0.75]
        out["series"]["b"] = b
        out["hold"] = plain_hold(rng, ei)
        out["clear"] = ("b", "==", 0)
    elif category == "of_last_clear":
        out["hold"] = of_last(rng)
        out["clear"] = ("a", "<", rng.choice([0.6, 0.75]))
    else:
        raise ValueError(category)
    return out


GRID = [(15, 15), (15, 15), (10, 10), (30, 30), (15, 10), (20, 20), (15, 5), (30, 15), (10, 10), (15, 15)]
CATEGORIES = ["of_last", "clear_band", "clear_other", "of_last_clear"]
SLOTS = [(cat, ei, si) for cat in CATEGORIES for ei, si in GRID]
DRAWS = 6


def draw(slot: int, attempt: int) -> Case:
    category, ei, si = SLOTS[slot - 1]
    rng = random.Random(SEED * 1000 + slot * 31 + attempt)
    kw = make(category, rng, ei, si)
    n = max(len(s) for fam in kw["series"].values() for _, s in fam)
    end = ((n * si + 330) // ei + 1) * ei
    k = sum(1 for c, *_ in SLOTS[: slot - 1] if c == category)
    return Case(slot, category, f"{category}_{k}", ei, si, end=end, **kw)


# --------------------------------------------------------------------------------------------
# Files: the rule as src/export/forms.rs writes it
# --------------------------------------------------------------------------------------------

def rule_labels(case: Case) -> dict:
    return {"ripcord_level": "1", "ripcord_runbook": case.runbook}


def cmp_text(c: tuple) -> str:
    metric, op, x = c
    return f"{metric} {op} {x:g}"


def promql(case: Case) -> tuple[str, int]:
    """The rule's expression and `for` (seconds)."""
    ei = case.eval_interval
    cond = cmp_text(case.cond)
    own = ", ".join(sorted(["alertname", "alertstate", *rule_labels(case)]))

    def with_held(offset: int) -> str:
        if not case.clear:
            return cond
        off = f" offset {fmt_dur(offset)}" if offset else ""
        firing = f'max without({own}) (ALERTS{{alertname="t", alertstate="firing"}}{off})'
        return f"({cond}) or ignoring({own}) (({firing}) unless {cmp_text(case.clear)})"

    kind = case.hold[0]
    if kind == "of":
        n, m = case.hold[1], case.hold[2]
        inner = f"max without() ({with_held(ei)})" if case.clear else cond
        return f"count_over_time(({inner})[{m * ei * 1000 - 1}ms:{fmt_dur(ei)}]) >= {n}", 0
    hold = case.hold[1] if kind == "for" else (case.hold[1] - 1) * ei
    return with_held(0), hold


def rules_yaml(case: Case) -> str:
    expr, hold = promql(case)
    lines = [
        "# Generated by tests/promtool/generate_kinds.py; do not edit by hand.",
        "groups:",
        f"  - name: {case.runbook}",
        f"    interval: {fmt_dur(case.eval_interval)}",
        f"    limit: {MAX_SERIES}",
        "    rules:",
        "      - alert: t",
        f"        expr: {yq(expr)}",
    ]
    if hold:
        lines.append(f"        for: {fmt_dur(hold)}")
    if case.keep:
        lines.append(f"        keep_firing_for: {fmt_dur(case.keep)}")
    lines.append("        labels:")
    for k, v in sorted(rule_labels(case).items()):
        lines.append(f"          {k}: {yq(v)}")
    return "\n".join(lines) + "\n"


def form_text(case: Case) -> str:
    kind = case.hold[0]
    if kind == "of":
        text = f" for {case.hold[1]} of {case.hold[2]}"
    elif kind == "consecutive":
        text = f" for {case.hold[1]} consecutive"
    else:
        text = f" for {fmt_dur(case.hold[1])}" if case.hold[1] else ""
    if case.clear:
        text += f" clear when {cmp_text(case.clear)}"
    if case.keep:
        text += f" keep firing for {fmt_dur(case.keep)}"
    return text


def eval_times(case: Case) -> list[int]:
    return list(range(0, case.end + 1, case.eval_interval))


def test_yaml(case: Case, version: int) -> str:
    lines = [
        "# Generated by tests/promtool/generate_kinds.py; do not edit by hand.",
        f"# {case.category} (Prometheus {'2.42' if version == 2 else '3.5'}): {cmp_text(case.cond)}{form_text(case)}",
        "rule_files:",
        "  - rules.yml",
        f"evaluation_interval: {fmt_dur(case.eval_interval)}",
        "tests:",
        f"  - interval: {fmt_dur(case.series_interval)}",
        "    input_series:",
    ]
    for metric in sorted(case.series):
        for labels, s in case.series[metric]:
            lines.append(f"      - series: {yq(series_name(metric, labels))}")
            lines.append(f"        values: {yq(s.render())}")
    lines.append("    alert_rule_test:")
    for t in eval_times(case):
        lines += [f"      - eval_time: {t}s", "        alertname: t"]
        firing = case.firing.get(t, [])
        if not firing:
            lines.append("        exp_alerts: []")
            continue
        lines.append("        exp_alerts:")
        for labels in firing:
            full = dict(labels)
            full.update(rule_labels(case))
            inner = ", ".join(f"{k}: {yq(v)}" for k, v in sorted(full.items()))
            lines.append(f"          - exp_labels: {{{inner}}}")
    return "\n".join(lines) + "\n"


def runbook_text(case: Case) -> str:
    metrics = "".join(f"  metric {m} = promql `{m}`\n" for m in sorted(case.series))
    return (
        "# Generated by tests/promtool/generate_kinds.py; do not edit by hand.\n"
        f"runbook {case.runbook} {{\n"
        f"  evaluate every {fmt_dur(case.eval_interval)}\n"
        f"{metrics}"
        f"  trigger t: {cmp_text(case.cond)}{form_text(case)} -> level 1\n"
        "  level 1 \"respond\" {\n"
        "    step shell \"true\" timeout 1s\n"
        "  }\n"
        "}\n"
    )


def expected_json(case: Case) -> str:
    by_series: dict = collections.defaultdict(list)
    for t in sorted(case.firing):
        for labels in case.firing[t]:
            by_series[labels].append(t)
    series = [{"labels": dict(labels), "firing": times} for labels, times in sorted(by_series.items())]
    return json.dumps({"interval_s": case.eval_interval, "end_s": case.end, "trigger": "t", "series": series},
                      indent=1) + "\n"


# --------------------------------------------------------------------------------------------
# Confirming
# --------------------------------------------------------------------------------------------

def confirm(case: Case, work: str) -> tuple[bool, str]:
    p2, p3 = predict(case, 2), predict(case, 3)
    if p2 != p3:
        return False, "the model fires differently under 2.42 and 3.5"
    case.firing = p2
    d = os.path.join(work, case.name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write(rules_yaml(case))
    for tool, version, name in ((PROMTOOL, 2, "test.yml"), (PROMTOOL3, 3, "test.v3.yml")):
        with open(os.path.join(d, name), "w") as f:
            f.write(test_yaml(case, version))
        p = run(tool, d, name)
        if p.returncode != 0:
            return False, f"{tool}: {(p.stdout + p.stderr).strip()[:1500]}"
    return True, ""


def interesting(case: Case) -> bool:
    series = {labels for alerts in case.firing.values() for labels in alerts}
    return len(series) >= 2 and 0 < len(case.firing) < len(eval_times(case))


def confirm_slot(slot: int, work: str) -> tuple[Case, bool, str]:
    """The first interesting draw of `slot`; a draw that promtool rejects is reported, never skipped."""
    for attempt in range(DRAWS):
        case = draw(slot, attempt)
        ok, why = confirm(case, os.path.join(work, f"draw{attempt}"))
        if not ok:
            return case, False, why
        if interesting(case):
            return case, True, ""
    return case, True, ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep-work", metavar="DIR", help="write the promtool work tree here and keep it")
    ap.add_argument("--only", help="comma-separated case numbers (debugging); fixtures are not written")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    for tool, want in ((PROMTOOL, "2.42"), (PROMTOOL3, "3.5")):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found (Prometheus {want}'s promtool is expected)", file=sys.stderr)
            return 2
        version = subprocess.run([tool, "--version"], capture_output=True, text=True)
        print(f"using {(version.stdout or version.stderr).splitlines()[0]}")
    started = time.monotonic()
    only = {int(x) for x in args.only.split(",")} if args.only else None
    slots = [i for i in range(1, len(SLOTS) + 1) if only is None or i in only]
    work = args.keep_work or tempfile.mkdtemp(prefix="ripcord-promtool-kinds-")
    if args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for case, ok, why in ex.map(lambda i: confirm_slot(i, work), slots):
            results[case.index] = (case, ok, why)
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    cases = [results[i][0] for i in sorted(results)]
    kept = [c for c in cases if results[c.index][1]]
    dropped = [c for c in cases if not results[c.index][1]]
    if only is None:
        shutil.rmtree(FIXTURES, ignore_errors=True)
        os.makedirs(FIXTURES)
        for c in kept:
            d = os.path.join(FIXTURES, c.name)
            os.makedirs(d)
            for name, text in (("rules.yml", rules_yaml(c)), ("test.yml", test_yaml(c, 2)),
                               ("test.v3.yml", test_yaml(c, 3)), ("case.runbook", runbook_text(c)),
                               ("expected.json", expected_json(c))):
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
    print(f"generated {len(cases)}, confirmed (promtool 2.42 and 3.5 pass) {len(kept)}, dropped {len(dropped)}")
    by_all = collections.Counter(c.category for c in cases)
    by_kept = collections.Counter(c.category for c in kept)
    for cat in CATEGORIES:
        print(f"  {cat:14} {by_kept[cat]:3}/{by_all[cat]}")
    dull = [c.name for c in kept if not interesting(c)]
    if dull:
        print(f"kept cases that fire for fewer than two series, or at every evaluation: {', '.join(dull)}")
    alerts = sum(len(v) for c in kept for v in c.firing.values())
    print(f"asserted evaluations: {sum(len(eval_times(c)) for c in kept)}, firing alerts asserted: {alerts}")
    for c in dropped:
        print(f"  dropped {c.name} ({cmp_text(c.cond)}{form_text(c)}): {results[c.index][2]}")
    print(f"took {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
