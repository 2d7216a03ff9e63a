#!/usr/bin/env python3
"""Generate promtool-confirmed per-series fixtures: which series an alert fires for, and when.

Run from anywhere:  python3 tests/promtool/generate_series.py [--keep-work DIR] [--only N,N,...]

generate.py predicts single-series firing times with a model and asks promtool to confirm them. Here
promtool itself is the model: for every case this script
  1. builds random multi-series input in promtool notation (3-6 series per metric, labelled by
     instance/mountpoint; series that start late, stop early with a stale marker or just end, and gaps);
  2. writes the alerting rule as `ripcord export prometheus-rules` writes it for the case's runbook
     (the join rules of plan::shape: `and on(instance)`, `unless on(instance)`, default matching,
     `on() group_left`), with the export's labels and the group's `limit`;
  3. asks promtool 2.42 and promtool 3.5 which alerts are firing at every evaluation time (a unit test
     that expects none, whose failure report lists the alerts it got, with their labels); for the
     `a > 2 * avg_a` cases it first asks both for `avg(a)` at every evaluation time, because the
     simulation reads `avg_a` as a recorded series;
  4. keeps the case only if both promtools report the same alerts at every evaluation, writes the unit
     test with those expectations (`exp_alerts` with `exp_labels`), and runs both promtools on it again:
     it must pass under both.

Kept cases become tests/promtool/series/NNN_name/ (see tests/promtool/README.md). Cases where the two
promtools disagree are listed, not kept. Python 3.11 standard library only; deterministic (fixed seed).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from generate import STALE, Series, fmt_dur, yq  # noqa: E402  (the shared promtool notation)

SEED = 20250611
PROMTOOL = os.environ.get("PROMTOOL", "promtool")
PROMTOOL3 = os.environ.get("PROMTOOL3", "promtool3")
FIXTURES = os.path.join(HERE, "series")
MAX_SERIES = 1000  # plan::defaults::MAX_SERIES, written as the group's `limit`


@dataclass
class Case:
    index: int
    category: str
    short: str
    eval_interval: int
    series_interval: int
    # metric name -> [(labels dict, Series)]
    series: dict = field(default_factory=dict)
    # metric name -> PromQL query in the runbook
    metrics: dict = field(default_factory=dict)
    ripcord: str = ""  # the condition in runbook syntax
    promql: str = ""  # the condition as the export writes it
    hold: int = 0
    keep: int = 0
    end: int = 0
    # metric the simulation reads as a recorded series computed by promtool: (name, PromQL)
    computed: tuple | None = None
    computed_values: list = field(default_factory=list)
    # eval time -> sorted list of label tuples (without alertname and the rule's labels)
    firing: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.index:03d}_{self.short}"

    @property
    def runbook(self) -> str:
        return f"series_{self.index:03d}"


# --------------------------------------------------------------------------------------------
# Random multi-series input
# --------------------------------------------------------------------------------------------

def series_name(metric: str, labels: dict) -> str:
    if not labels:
        return metric
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def levels_series(rng: random.Random, levels: list, n: int, si: int, *, late=False, stop=None,
                  gap=None) -> Series:
    """About n samples of random runs of `levels`; optionally starting late, with a gap, and stopping
    early (`stale`: a staleness marker, `end`: the samples just end and age out of the lookback)."""
    s = Series()
    used = 0
    if late:
        k = rng.randint(3, max(3, n // 3))
        s.blanks(k)
        used += k
    gap_at = rng.randint(used + 3, max(used + 3, n - 6)) if gap else None
    stop_at = rng.randint(max(used + 4, n // 2), n - 2) if stop else n
    while used < stop_at:
        if gap_at is not None and used >= gap_at:
            # A short gap stays within the 5m lookback; a long one outlasts it.
            k = rng.randint(2, max(2, 150 // si)) if gap == "short" else 300 // si + rng.randint(2, 6)
            s.blanks(k)
            used += k
            gap_at = None
            continue
        # Runs of up to about a minute and a half, whatever the sample interval.
        k = rng.randint(0, max(4, 90 // si))
        k = min(k, stop_at - used - 1)
        if k <= 0:
            s.num(rng.choice(levels))
            used += 1
        else:
            s.rep(rng.choice(levels), k)
            used += k + 1
    # A series that runs to the end also ends with a stale marker (its target went away); only `end`
    # lets its last sample age out of the lookback.
    if stop != "end":
        s.stale()
    return s


def hits_lookback_edge(s: Series, si: int, ei: int) -> bool:
    """Whether a sample's 5-minute lookback ends exactly on an evaluation before a newer sample comes:
    there Prometheus 2.42 still sees it and 3.5 no longer does (`[t - 5m, t]` against `(t - 5m, t]`)."""
    values = s.expand()
    present = [(i * si, v) for i, v in enumerate(values) if v is not None]
    for k, (t, v) in enumerate(present):
        following = present[k + 1][0] if k + 1 < len(present) else None
        if v is STALE:
            continue
        if (following is None or following > t + 300) and (t + 300) % ei == 0:
            return True
    return False


def safe_series(rng: random.Random, levels: list, n: int, si: int, ei: int, beh: dict) -> Series:
    """A series for `beh` that never meets the lookback edge where 2.42 and 3.5 disagree; on the
    evaluation grid only a stale marker or a short gap can end or pause it, so other behaviours fall
    back to those."""
    for _ in range(40):
        s = levels_series(rng, levels, n, si, **beh)
        if not hits_lookback_edge(s, si, ei):
            return s
    beh = {"stop": "stale"} if beh.get("stop") else {"gap": "short"} if beh.get("gap") else {}
    for _ in range(40):
        s = levels_series(rng, levels, n, si, **beh)
        if not hits_lookback_edge(s, si, ei):
            return s
    raise RuntimeError("no series avoids the lookback edge")


def behaviour(rng: random.Random) -> dict:
    """How one series of a case behaves: mostly plain, some late, stopping or gappy."""
    r = rng.random()
    if r < 0.35:
        return {}
    if r < 0.5:
        return {"late": True}
    if r < 0.62:
        return {"stop": "stale"}
    if r < 0.72:
        return {"stop": "end"}
    if r < 0.86:
        return {"gap": "short"}
    return {"gap": "long"}


def instances(rng: random.Random, k: int) -> list[str]:
    return [f"i{i}" for i in range(1, k + 1)]


def per_instance_mount(rng: random.Random, metric_levels: list, n: int, count: int, si: int, ei: int) -> list:
    """`count` series labelled by (instance, mountpoint), 2-3 instances."""
    insts = instances(rng, rng.randint(2, 3))
    pairs = [(i, m) for i in insts for m in ("/", "/data")]
    rng.shuffle(pairs)
    out = []
    for inst, mount in sorted(pairs[:count]):
        s = safe_series(rng, metric_levels, n, si, ei, behaviour(rng))
        out.append(({"instance": inst, "mountpoint": mount}, s))
    return out, insts


def per_instance(rng: random.Random, insts: list, levels: list, n: int, si: int, ei: int, *, extra: bool) -> list:
    names = list(insts) + (["i9"] if extra else [])
    return [({"instance": i}, safe_series(rng, levels, n, si, ei, behaviour(rng))) for i in names]


# --------------------------------------------------------------------------------------------
# The cases: (a) threshold, (b) and on(instance), (c) unless on(instance), (d) ratio, (e) group_left
# --------------------------------------------------------------------------------------------

def length(rng: random.Random, si: int) -> int:
    """Samples for 6 to 10 minutes of data."""
    return rng.randint(360, 600) // si


def make_threshold(rng, ei, si):
    n = length(rng, si)
    fam, _ = per_instance_mount(rng, [0.5, 0.8, 0.92, 0.95, 1.0], n, rng.randint(3, 6), si, ei)
    return dict(series={"a": fam}, metrics={"a": "a"}, ripcord="a > 0.9", promql="a > 0.9",
                hold=rng.choice([0, ei, 2 * ei, 45, 60]), keep=rng.choice([0, 0, ei, 30, 60]))


def make_and_on(rng, ei, si):
    # a per (instance, mountpoint), b per instance; sometimes a b for an instance a does not have
    n = length(rng, si)
    fam, insts = per_instance_mount(rng, [0.5, 0.85, 0.95, 1.0], n, rng.randint(3, 6), si, ei)
    b = per_instance(rng, insts, [0, 0, 1], n, si, ei, extra=rng.random() < 0.3)
    return dict(series={"a": fam, "b": b}, metrics={"a": "a", "b": "b"},
                ripcord="a > 0.9 and on(instance) b == 0", promql="a > 0.9 and on(instance) b == 0",
                hold=rng.choice([0, ei, 30, 60]), keep=rng.choice([0, 0, ei, 45]))


def make_unless_on(rng, ei, si):
    # sometimes an instance without any b: unless keeps all of its series
    n = length(rng, si)
    fam, insts = per_instance_mount(rng, [0.2, 0.5, 0.7, 1.0], n, rng.randint(3, 6), si, ei)
    kept = insts[: max(1, len(insts) - rng.randint(0, 1))]
    b = per_instance(rng, kept, [0, 0, 2], n, si, ei, extra=rng.random() < 0.3)
    return dict(series={"a": fam, "b": b}, metrics={"a": "a", "b": "b"},
                ripcord="a > 0.6 unless on(instance) b > 0", promql="a > 0.6 unless on(instance) b > 0",
                hold=rng.choice([0, ei, 30, 60]), keep=rng.choice([0, 0, ei, 30]))


def make_ratio(rng, ei, si):
    # `used` and `size` with the same labels (default matching), some `used` without a `size`
    n = length(rng, si)
    used, _ = per_instance_mount(rng, [10, 40, 60, 90, 95], n, rng.randint(3, 6), si, ei)
    size = [(labels, safe_series(rng, [100, 100, 200], n, si, ei, behaviour(rng)))
            for labels, _ in used if rng.random() < 0.85]
    if not size:
        size = [(used[0][0], Series().rep(100, n - 1).stale())]
    return dict(series={"used": used, "size": size}, metrics={"used": "used", "size": "size"},
                ripcord="used / size > 0.5", promql="used / size > 0.5",
                hold=rng.choice([0, ei, 30, 60]), keep=rng.choice([0, 0, ei, 30]))


def make_group_left(rng, ei, si):
    # `a > 2 * avg_a`, avg_a = avg(a): per series against one (`on() group_left`). The samples line up
    # with the evaluations: the simulation reads avg_a as recorded at each one. At most 4 series of
    # multiples of 6, so that 2.42's running mean and 3.5's sum over count are both exact.
    n = length(rng, si)
    fam, _ = per_instance_mount(rng, [6, 12, 12, 18, 18, 24, 72, 120], n, rng.randint(3, 4), si, ei)
    return dict(series={"a": fam}, metrics={"a": "a", "avg_a": "avg(a)"}, ripcord="a > 2 * avg_a",
                promql="a > on() group_left 2 * (avg(a))", hold=rng.choice([0, ei, 30]),
                keep=rng.choice([0, 0, ei, 30]), computed=("avg_a", "avg(a)"))


GRID = [(15, 15), (15, 15), (10, 10), (30, 30), (15, 10), (20, 20), (15, 5), (30, 15), (10, 10)]
SLOTS = (
    [("threshold", "threshold", make_threshold, ei, si) for ei, si in GRID]
    + [("and_on", "and_on_instance", make_and_on, ei, si) for ei, si in GRID]
    + [("unless_on", "unless_on_instance", make_unless_on, ei, si) for ei, si in GRID]
    + [("ratio", "ratio_default", make_ratio, ei, si) for ei, si in GRID]
    + [("group_left", "above_twice_avg", make_group_left, ei, ei) for ei in (15, 15, 10, 30, 20, 15, 10, 30, 15)]
)
DRAWS = 6


def draw(slot: int, attempt: int) -> Case:
    """The case of `slot` (1-based) from its `attempt`th random draw: each slot has its own seed, so
    cases do not depend on one another or on the order promtool answers in."""
    category, short, make, ei, si = SLOTS[slot - 1]
    rng = random.Random(SEED * 1000 + slot * 31 + attempt)
    kw = make(rng, ei, si)
    n = max(len(s) for fam in kw["series"].values() for _, s in fam)
    # Past the last sample by more than the 5m lookback, so every series ends within the timeline.
    end = ((n * si + 330) // ei + 1) * ei
    k = sum(1 for c, *_ in SLOTS[: slot - 1] if c == category)
    return Case(slot, category, f"{short}_{k}", ei, si, end=end, **kw)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def rule_labels(case: Case) -> dict:
    return {"ripcord_level": "1", "ripcord_runbook": case.runbook}


def rules_yaml(case: Case) -> str:
    lines = [
        "# Generated by tests/promtool/generate_series.py; do not edit by hand.",
        "groups:",
        f"  - name: {case.runbook}",
        f"    interval: {fmt_dur(case.eval_interval)}",
        f"    limit: {MAX_SERIES}",
        "    rules:",
        "      - alert: t",
        f"        expr: {yq(case.promql)}",
    ]
    if case.hold:
        lines.append(f"        for: {fmt_dur(case.hold)}")
    if case.keep:
        lines.append(f"        keep_firing_for: {fmt_dur(case.keep)}")
    lines.append("        labels:")
    for k, v in sorted(rule_labels(case).items()):
        lines.append(f"          {k}: {yq(v)}")
    return "\n".join(lines) + "\n"


def computed_series(case: Case) -> Series:
    s = Series()
    for v in case.computed_values:
        if v is None:
            s.stale()
        else:
            s.num(v)
    return s


def input_lines(case: Case) -> list[str]:
    lines = [f"  - interval: {fmt_dur(case.series_interval)}", "    input_series:"]
    for metric in sorted(case.series):
        for labels, s in case.series[metric]:
            lines.append(f"      - series: {yq(series_name(metric, labels))}")
            lines.append(f"        values: {yq(s.render())}")
    if case.computed and case.computed_values:
        lines.append(f"      - series: {yq(case.computed[0])}")
        lines.append(f"        values: {yq(computed_series(case).render())}")
    return lines


def eval_times(case: Case) -> list[int]:
    return list(range(0, case.end + 1, case.eval_interval))


def header(case: Case) -> list[str]:
    hold = (f" for {fmt_dur(case.hold)}" if case.hold else "") + (
        f" keep_firing_for {fmt_dur(case.keep)}" if case.keep else "")
    return [
        "# Generated by tests/promtool/generate_series.py; do not edit by hand.",
        f"# {case.category}: {case.promql}{hold}",
        "rule_files:",
        "  - rules.yml",
        f"evaluation_interval: {fmt_dur(case.eval_interval)}",
        "tests:",
    ]


def probe_yaml(case: Case, alerts: bool) -> str:
    """A unit test that expects nothing: promtool's failure report is what it got."""
    lines = header(case) + input_lines(case)
    if alerts:
        lines.append("    alert_rule_test:")
        for t in eval_times(case):
            lines += [f"      - eval_time: {t}s", "        alertname: t", "        exp_alerts: []"]
    else:
        lines.append("    promql_expr_test:")
        for t in eval_times(case):
            lines += [f"      - expr: {yq(case.computed[1])}", f"        eval_time: {t}s", "        exp_samples: []"]
    return "\n".join(lines) + "\n"


def test_yaml(case: Case) -> str:
    lines = header(case) + input_lines(case)
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
    hold = (f" for {fmt_dur(case.hold)}" if case.hold else "") + (
        f" keep firing for {fmt_dur(case.keep)}" if case.keep else "")
    metrics = "".join(f"  metric {m} = promql `{q}`\n" for m, q in case.metrics.items())
    return (
        "# Generated by tests/promtool/generate_series.py; do not edit by hand.\n"
        f"# PromQL: {case.promql}\n"
        f"runbook {case.runbook} {{\n"
        f"  evaluate every {fmt_dur(case.eval_interval)}\n"
        f"{metrics}"
        f"  trigger t: {case.ripcord}{hold} -> level 1\n"
        "  level 1 \"respond\" {\n"
        "    step shell \"true\" timeout 1s\n"
        "  }\n"
        "}\n"
    )


def expected_json(case: Case) -> str:
    """Per series (the alert's labels without `alertname` and the rule's labels), the evaluation times at
    which it is firing; the same under 2.42 and 3.5."""
    by_series: dict = collections.defaultdict(list)
    for t in sorted(case.firing):
        for labels in case.firing[t]:
            by_series[labels].append(t)
    series = [{"labels": dict(labels), "firing": times} for labels, times in sorted(by_series.items())]
    return json.dumps({
        "interval_s": case.eval_interval,
        "end_s": case.end,
        "trigger": "t",
        "series": series,
    }, indent=1) + "\n"


# --------------------------------------------------------------------------------------------
# Asking promtool
# --------------------------------------------------------------------------------------------

DURATION = re.compile(r"(\d+)(ms|w|d|h|m|s)")
UNIT_S = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def parse_duration(text: str) -> int:
    return int(round(sum(int(n) * UNIT_S[u] for n, u in DURATION.findall(text))))


def parse_labels(text: str, at: int) -> tuple[dict, int]:
    """A Go label set `{a="b", c="d"}` starting at text[at] == '{'; values are Go-quoted strings."""
    assert text[at] == "{"
    i = at + 1
    out = {}
    while text[i] != "}":
        j = text.index("=", i)
        name = text[i:j].strip().strip(",").strip()
        i = j + 1
        assert text[i] == '"', text[i:i + 40]
        i += 1
        value = []
        while text[i] != '"':
            if text[i] == "\\":
                nxt = text[i + 1]
                value.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
                i += 2
            else:
                value.append(text[i])
                i += 1
        out[name] = "".join(value)
        i += 1
        while text[i] in ", ":
            i += 1
    return out, i + 1


def run(tool: str, d: str, name: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool, "test", "rules", name], cwd=d, capture_output=True, text=True, timeout=300)


def got_alerts(report: str, case: Case) -> dict:
    """eval time -> sorted label tuples of the firing alerts, from a failed probe's report."""
    out: dict = {}
    own = set(rule_labels(case)) | {"alertname"}
    for chunk in report.split("alertname: t, time: ")[1:]:
        t = parse_duration(chunk.split(",", 1)[0])
        got = chunk.split("got:", 1)[1]
        alerts = []
        for m in re.finditer(r"Labels:\{", got):
            labels, _ = parse_labels(got, m.end() - 1)
            assert labels.get("alertname") == "t"
            for k, v in rule_labels(case).items():
                assert labels.get(k) == v, (k, labels)
            alerts.append(tuple(sorted((k, v) for k, v in labels.items() if k not in own)))
        out[t] = sorted(alerts)
    return out


def got_values(report: str) -> dict:
    """eval time -> the value of a one-series expression, from a failed probe's report."""
    out = {}
    for chunk in report.split("time: ")[1:]:
        t = parse_duration(chunk.split(",", 1)[0])
        m = re.search(r"got: \{\} (\S+)", chunk)
        if m:
            out[t] = float(m.group(1))
    return out


def probe(case: Case, d: str, text: str, name: str) -> tuple[str, str]:
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
    reports = []
    for tool in (PROMTOOL, PROMTOOL3):
        p = run(tool, d, name)
        reports.append(p.stdout + p.stderr)
        if p.returncode != 0 and "FAILED" not in reports[-1]:
            raise RuntimeError(f"{tool}: {reports[-1].strip()[:300]}")
    return reports[0], reports[1]


def confirm(case: Case, work: str) -> tuple[bool, str]:
    d = os.path.join(work, case.name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write(rules_yaml(case))
    if case.computed:
        r2, r3 = probe(case, d, probe_yaml(case, alerts=False), "probe_values.yml")
        v2, v3 = got_values(r2), got_values(r3)
        if v2 != v3:
            diff = sorted(t for t in set(v2) | set(v3) if v2.get(t) != v3.get(t))
            return False, f"promtool 2.42 and 3.5 compute {case.computed[1]} differently at {diff[:5]}"
        # One sample per evaluation; a stale marker where the aggregate has no value, so that the
        # simulation (5-minute lookback) sees none either.
        values = [v2.get(t) for t in eval_times(case)]
        last = max((i for i, v in enumerate(values) if v is not None), default=-1)
        case.computed_values = values[: last + 2]
    r2, r3 = probe(case, d, probe_yaml(case, alerts=True), "probe_alerts.yml")
    a2, a3 = got_alerts(r2, case), got_alerts(r3, case)
    if a2 != a3:
        diff = sorted(t for t in set(a2) | set(a3) if a2.get(t) != a3.get(t))
        return False, f"promtool 2.42 and 3.5 fire differently at {len(diff)} evaluation(s), first at {diff[0]}s"
    case.firing = {t: v for t, v in a2.items() if v}
    with open(os.path.join(d, "test.yml"), "w") as f:
        f.write(test_yaml(case))
    for tool in (PROMTOOL, PROMTOOL3):
        p = run(tool, d, "test.yml")
        if p.returncode != 0:
            return False, f"{tool} fails the test made from its own report: {(p.stdout + p.stderr).strip()[:300]}"
    return True, ""


def confirm_slot(slot: int, work: str) -> tuple[Case, bool, str, int]:
    """The first draw of `slot` that both promtools confirm and that is interesting, else the first
    confirmed one; with the number of draws that disagreed between the versions."""
    first = None
    disagreed = 0
    reason = ""
    for attempt in range(DRAWS):
        case = draw(slot, attempt)
        ok, why = confirm(case, os.path.join(work, f"draw{attempt}"))
        if not ok:
            disagreed += 1
            reason = reason or why
            continue
        if interesting(case):
            return case, True, "", disagreed
        first = first or case
    if first is not None:
        return first, True, "", disagreed
    return draw(slot, 0), False, reason, disagreed


def interesting(case: Case) -> bool:
    """Fires for at least two series, and not at every evaluation."""
    series = {labels for alerts in case.firing.values() for labels in alerts}
    return len(series) >= 2 and 0 < len(case.firing) < len(eval_times(case))


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
    work = args.keep_work or tempfile.mkdtemp(prefix="ripcord-promtool-series-")
    if args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    results: dict = {}
    cases = []
    disagreements = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(confirm_slot, i, work): i for i in slots}
        for fut in concurrent.futures.as_completed(futs):
            i = futs[fut]
            try:
                case, ok, why, disagreed = fut.result()
            except Exception as e:  # noqa: BLE001 - any failure is a reason to drop the case
                case, ok, why, disagreed = draw(i, 0), False, f"generator error: {e!r}", 0
            cases.append(case)
            results[i] = (ok, why)
            if disagreed:
                disagreements.append((case.name, disagreed))
    cases.sort(key=lambda c: c.index)
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)

    kept = [c for c in cases if results[c.index][0]]
    dropped = [c for c in cases if not results[c.index][0]]
    if only is None:
        shutil.rmtree(FIXTURES, ignore_errors=True)
        os.makedirs(FIXTURES)
        for c in kept:
            d = os.path.join(FIXTURES, c.name)
            os.makedirs(d)
            for name, text in (("rules.yml", rules_yaml(c)), ("test.yml", test_yaml(c)),
                               ("case.runbook", runbook_text(c)), ("expected.json", expected_json(c))):
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)

    print(f"generated {len(cases)}, kept (both promtools agree and pass) {len(kept)}, dropped {len(dropped)}")
    by_all = collections.Counter(c.category for c in cases)
    by_kept = collections.Counter(c.category for c in kept)
    for cat in sorted(by_all):
        print(f"  {cat:12} {by_kept[cat]:3}/{by_all[cat]}")
    dull = [c.name for c in kept if not interesting(c)]
    if dull:
        print(f"kept cases that fire for fewer than two series, or at every evaluation: {', '.join(dull)}")
    alerts = sum(len(v) for c in kept for v in c.firing.values())
    print(f"asserted evaluations: {sum(len(eval_times(c)) for c in kept)}, firing alerts asserted: {alerts}")
    for c in dropped:
        print(f"  dropped {c.name}: {results[c.index][1]}")
    for name, n in sorted(disagreements):
        print(f"  {name}: {n} draw(s) dropped, promtool 2.42 and 3.5 disagreeing or failing")
    if only is None:
        print(f"fixtures written to {os.path.relpath(FIXTURES)}")
    print(f"took {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
