#!/usr/bin/env python3
"""Generate promtool-confirmed reference fixtures for ripcord's trigger timing.

Run from anywhere:  python3 tests/promtool/generate.py [--keep-work DIR] [--only N,N,...]

For every generated case this script
  1. builds input series in promtool notation and a condition/hold,
  2. predicts, with a Python model of Prometheus 2.42 alerting-rule semantics,
     at which evaluation times the alert is firing,
  3. writes a Prometheus rule file and a promtool unit test that asserts the
     predicted firing state at EVERY evaluation time from 0 to the case's end,
  4. runs `promtool test rules` and keeps the case only if promtool agrees.

Kept cases become fixture directories under tests/promtool/fixtures/.
Python 3.11 standard library only; deterministic (fixed seed).
"""

from __future__ import annotations

import argparse
import bisect
import collections
import concurrent.futures
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

SEED = 20240607
LOOKBACK = 300  # seconds, Prometheus default lookback delta
PROMTOOL = os.environ.get("PROMTOOL", "promtool")
# promtool 3.x (Prometheus 3.5), which confirms the `_v3` expectations; .ci/prometheus3.sh fetches it.
PROMTOOL3 = os.environ.get("PROMTOOL3", "promtool3")
# Which Prometheus major version the model follows: 2 (2.42) or 3 (3.5). See `predict`.
SEMANTICS = 2
# Deliberately wrong model variants (see --mutants): each names one semantic point; the fixtures
# should catch every one of them, i.e. some confirmed case's firing times must change.
MUTANTS = {
    "lookback_left_open": "instant lookback is (t-5m, t] instead of [t-5m, t]",
    "no_lookback_limit": "a sample stays visible forever (no 5m lookback)",
    "range_left_open": "range selectors are (t-w, t] instead of [t-w, t]",
    "stale_ignored": "a stale marker is skipped instead of ending the series",
    "nan_is_absent": "a NaN sample counts as no value (so != is false too)",
    "naive_avg": "avg_over_time as sum/count instead of the Kahan incremental mean",
    "rate_new_clamp": "rate/increase with the post-2.42 zero-point clamp order",
    "rate_no_extrapolation": "rate/increase as (last-first+resets) over the window, no extrapolation",
    "quantile_nearest": "quantile_over_time without interpolation (nearest rank)",
    "for_strict": "firing when t - activeAt > for instead of >=",
    "for_floor_evals": "for counted as floor(for / interval) evaluations",
    "keep_le": "keep firing while t - keepSince <= keep_firing_for instead of <",
    "keep_from_last_true": "keep_firing_for measured from the last true evaluation",
    "keep_no_reset": "keepFiringSince not reset when the condition is true again",
    "ramp_multiply": "a+bxn expanded as a + i*b instead of repeated float64 addition",
}
VARIANT: set[str] = set()
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


# --------------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------------

def fmt_dur(s: int) -> str:
    """Seconds as a duration both Prometheus and ripcord accept (largest unit first)."""
    if s == 0:
        return "0s"
    out = ""
    for unit, n in (("h", 3600), ("m", 60), ("s", 1)):
        if s >= n:
            q, s = divmod(s, n)
            out += f"{q}{unit}"
    return out


def fmt_num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


# --------------------------------------------------------------------------------------------
# Series in promtool notation
# --------------------------------------------------------------------------------------------

class _Stale:
    def __repr__(self) -> str:
        return "STALE"


STALE = _Stale()


class Series:
    """A list of promtool series-notation items; expands exactly like promtool 2.42's loader.

    item            promtool text   values produced
    num(v)          v               [v]
    rep(v, n)       vxn             n+1 copies of v
    ramp(a, b, n)   a+bxn / a-bxn   a, a+b, a+b+b, ... (n+1 values, float64 repeated addition)
    blank()         _               one missing sample
    blanks(n)       _xn             n missing samples
    stale()         stale           a staleness marker
    """

    def __init__(self) -> None:
        self.items: list[tuple] = []

    def num(self, v): self.items.append(("num", float(v))); return self
    def nan(self): self.items.append(("num", float("nan"))); return self
    def rep(self, v, n): self.items.append(("rep", float(v), n)); return self
    def ramp(self, a, b, n): self.items.append(("ramp", float(a), float(b), n)); return self
    def blank(self): self.items.append(("blank",)); return self
    def blanks(self, n): self.items.append(("blanks", n)); return self
    def stale(self): self.items.append(("stale",)); return self

    def nums(self, *vs):
        for v in vs:
            self.num(v)
        return self

    def expand(self) -> list:
        out: list = []
        for it in self.items:
            kind = it[0]
            if kind == "num":
                out.append(it[1])
            elif kind == "rep":
                out.extend([it[1]] * (it[2] + 1))
            elif kind == "ramp":
                v = it[1]
                for i in range(it[3] + 1):
                    out.append(it[1] + i * it[2] if "ramp_multiply" in VARIANT else v)
                    v = v + it[2]
            elif kind == "blank":
                out.append(None)
            elif kind == "blanks":
                out.extend([None] * it[1])
            elif kind == "stale":
                out.append(STALE)
        return out

    def render(self) -> str:
        parts = []
        for it in self.items:
            kind = it[0]
            if kind == "num":
                parts.append(fmt_num(it[1]))
            elif kind == "rep":
                parts.append(f"{fmt_num(it[1])}x{it[2]}")
            elif kind == "ramp":
                b = it[2]
                sign = "+" if b >= 0 else "-"
                parts.append(f"{fmt_num(it[1])}{sign}{fmt_num(abs(b))}x{it[3]}")
            elif kind == "blank":
                parts.append("_")
            elif kind == "blanks":
                parts.append(f"_x{it[1]}")
            elif kind == "stale":
                parts.append("stale")
        return " ".join(parts)

    def __len__(self) -> int:
        return len(self.expand())


# --------------------------------------------------------------------------------------------
# Condition AST, rendered to PromQL and to ripcord
# --------------------------------------------------------------------------------------------
# ('num', v) | ('sel', metric, offset_s) | ('fn', name, metric, window_s, offset_s, q)
# ('abs', e) | ('neg', e) | ('bin', op, l, r) | ('cmp', op, l, r) | ('and', l, r) | ('or', l, r)

PREC = {"or": 1, "and": 2, "cmp": 3, "+": 4, "-": 4, "*": 5, "/": 5, "neg": 6}
PROM_FN = {
    "avg": "avg_over_time", "min": "min_over_time", "max": "max_over_time",
    "sum": "sum_over_time", "count": "count_over_time", "quantile": "quantile_over_time",
    "rate": "rate", "increase": "increase",
}
RIP_FN = {
    "avg": "avg_over", "min": "min_over", "max": "max_over", "sum": "sum_over",
    "count": "count_over", "quantile": "quantile_over", "rate": "rate", "increase": "increase",
}


def num(v): return ("num", float(v))
def sel(m, off=0): return ("sel", m, off)
def fn(name, m, w, off=0, q=None): return ("fn", name, m, w, off, q)
def cmp(op, l, r): return ("cmp", op, l, r)
def bin_(op, l, r): return ("bin", op, l, r)
def neg(e): return ("neg", e)
def abs_(e): return ("abs", e)
def and_(l, r): return ("and", l, r)
def or_(l, r): return ("or", l, r)


X = sel("x")
C = sel("c")


def _prec(node) -> int:
    k = node[0]
    if k in ("or", "and", "cmp", "neg"):
        return PREC[k]
    if k == "bin":
        return PREC[node[1]]
    return 7


def render(node, lang: str, parent: int = 0, right: bool = False) -> str:
    k = node[0]
    if k == "num":
        return fmt_num(node[1])
    if k == "sel":
        _, m, off = node
        return m + (f" offset {fmt_dur(off)}" if off else "")
    if k == "fn":
        _, name, m, w, off, q = node
        if lang == "promql":
            inner = f"{m}[{fmt_dur(w)}]" + (f" offset {fmt_dur(off)}" if off else "")
            args = (f"{fmt_num(q)}, " if name == "quantile" else "") + inner
            return f"{PROM_FN[name]}({args})"
        args = (f"{fmt_num(q)}, " if name == "quantile" else "") + f"{m}, {fmt_dur(w)}"
        return f"{RIP_FN[name]}({args})" + (f" offset {fmt_dur(off)}" if off else "")
    if k == "abs":
        return f"abs({render(node[1], lang)})"
    if k == "neg":
        inner = node[1]
        s = render(inner, lang, PREC["neg"])
        if _prec(inner) < 7:
            s = f"({render(inner, lang)})"
        return "-" + s
    p = _prec(node)
    if k == "bin":
        s = f"{render(node[2], lang, p)} {node[1]} {render(node[3], lang, p, True)}"
    elif k == "cmp":
        s = f"{render(node[2], lang, p)} {node[1]} {render(node[3], lang, p, True)}"
    else:  # and / or
        s = f"{render(node[1], lang, p)} {k} {render(node[2], lang, p, True)}"
    if p < parent or (p == parent and right):
        s = f"({s})"
    return s


# --------------------------------------------------------------------------------------------
# The model: PromQL 2.42 evaluation of the condition at one evaluation time
# --------------------------------------------------------------------------------------------

def ieee_div(a: float, b: float) -> float:
    if b == 0.0:
        if math.isnan(a) or a == 0.0:
            return float("nan")
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def kahan_inc(inc: float, s: float, c: float) -> tuple[float, float]:
    t = s + inc
    if SEMANTICS == 3 and math.isinf(t):
        c = 0.0
    elif abs(s) >= abs(inc):
        c += (s - t) + inc
    else:
        c += (inc - t) + s
    return t, c


def f_avg_v3(vs):
    # Prometheus 3.5 avg_over_time: a Kahan sum divided by the count, switching to an incremental mean
    # (Kahan too) only when the sum would overflow.
    total, c, count, mean, incremental = vs[0], 0.0, 1.0, 0.0, False
    for i, v in enumerate(vs[1:]):
        count = float(i + 2)
        if not incremental:
            new_sum, new_c = kahan_inc(v, total, c)
            if not math.isinf(new_sum):
                total, c = new_sum, new_c
                continue
            incremental = True
            mean = total / (count - 1)
            c /= count - 1
        q = (count - 1) / count
        mean, c = kahan_inc(v / count, q * mean, q * c)
    if incremental:
        return mean + c
    return total / count + c / count


def f_avg(vs):
    if SEMANTICS == 3 and "naive_avg" not in VARIANT:
        return f_avg_v3(vs)
    # Prometheus 2.42 avg_over_time: incremental mean with Kahan compensation.
    mean = c = 0.0
    count = 0.0
    for v in vs:
        count += 1
        if math.isinf(mean):
            if math.isinf(v) and (mean > 0) == (v > 0):
                continue
            if not math.isinf(v) and not math.isnan(v):
                continue
        mean, c = kahan_inc(v / count - mean / count, mean, c)
    if math.isinf(mean):
        return mean
    return mean + c


def f_sum(vs):
    s = c = 0.0
    for v in vs:
        s, c = kahan_inc(v, s, c)
    if math.isinf(s):
        return s
    return s + c


def f_min(vs):
    m = vs[0]
    for v in vs:
        if v < m or math.isnan(m):
            m = v
    return m


def f_max(vs):
    m = vs[0]
    for v in vs:
        if v > m or math.isnan(m):
            m = v
    return m


def f_quantile(q, vs):
    if math.isnan(q):
        return float("nan")
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    s = sorted(vs, key=lambda v: (0, 0.0) if math.isnan(v) else (1, v))
    n = len(s)
    rank = q * (n - 1)
    lower = max(0, int(math.floor(rank)))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    if "quantile_nearest" in VARIANT:
        return s[int(round(rank))]
    return s[lower] * (1 - weight) + s[upper] * weight


def f_extrapolated_rate(pts, range_start, range_end, window, is_counter, is_rate):
    """Prometheus 2.42 extrapolatedRate (the pre-2.49 zero-point clamp order)."""
    if len(pts) < 2:
        return None
    if "rate_no_extrapolation" in VARIANT:
        r = pts[-1][1] - pts[0][1]
        for (_, a), (_, b) in zip(pts, pts[1:]):
            if b < a:
                r += a
        return r / window if is_rate else r
    first_t, first_v = pts[0]
    last_t, last_v = pts[-1]
    result = last_v - first_v
    prev = first_v
    for _, v in pts[1:]:
        if is_counter and v < prev:
            result += prev
        prev = v
    duration_to_start = float(first_t - range_start)
    duration_to_end = float(range_end - last_t)
    sampled = float(last_t - first_t)
    avg_between = sampled / float(len(pts) - 1)
    threshold = avg_between * 1.1
    if "rate_new_clamp" in VARIANT or SEMANTICS == 3:
        # Prometheus 3: the 1.1x threshold test first, then the counter's zero-point clamp.
        if duration_to_start >= threshold:
            duration_to_start = avg_between / 2
        if is_counter and result > 0 and first_v >= 0:
            duration_to_start = min(duration_to_start, sampled * (first_v / result))
        duration_to_end = duration_to_end if duration_to_end < threshold else avg_between / 2
        return result * ((sampled + duration_to_start + duration_to_end) / sampled / (window if is_rate else 1))
    if is_counter and result > 0 and first_v >= 0:
        duration_to_zero = sampled * (first_v / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    extrapolate_to = sampled
    if duration_to_start < threshold:
        extrapolate_to += duration_to_start
    else:
        extrapolate_to += avg_between / 2
    if duration_to_end < threshold:
        extrapolate_to += duration_to_end
    else:
        extrapolate_to += avg_between / 2
    factor = extrapolate_to / sampled
    if is_rate:
        factor /= float(window)
    return result * factor


class Model:
    def __init__(self, samples: dict[str, list[tuple[int, object]]]):
        # samples: metric -> ascending [(t, value|STALE)], missing samples omitted
        self.samples = samples
        self.times = {m: [ts for ts, _ in pts] for m, pts in samples.items()}

    def instant(self, m: str, t: int, off: int):
        ref = t - off
        pts = self.samples.get(m, [])
        i = bisect.bisect_right(self.times.get(m, []), ref)
        best = pts[i - 1] if i > 0 else None
        if "stale_ignored" in VARIANT:
            best = None
            for ts, v in self.samples.get(m, []):
                if ts > ref:
                    break
                if v is not STALE:
                    best = (ts, v)
        if best is None:
            return None
        if "no_lookback_limit" not in VARIANT:
            left_open = "lookback_left_open" in VARIANT or SEMANTICS == 3
            if best[0] < ref - LOOKBACK or (left_open and best[0] == ref - LOOKBACK):
                return None
        if best[1] is STALE:
            return None
        if "nan_is_absent" in VARIANT and math.isnan(best[1]):
            return None
        return best[1]

    def window(self, m: str, t: int, w: int, off: int):
        ref = t - off
        lo = ref - w + (1 if "range_left_open" in VARIANT or SEMANTICS == 3 else 0)
        times = self.times.get(m, [])
        a, b = bisect.bisect_left(times, lo), bisect.bisect_right(times, ref)
        return [(ts, v) for ts, v in self.samples.get(m, [])[a:b]
                if v is not STALE
                and not ("nan_is_absent" in VARIANT and math.isnan(v))]

    def value(self, node, t: int):
        k = node[0]
        if k == "num":
            return node[1]
        if k == "sel":
            return self.instant(node[1], t, node[2])
        if k == "fn":
            _, name, m, w, off, q = node
            pts = self.window(m, t, w, off)
            if name in ("rate", "increase"):
                ref = t - off
                return f_extrapolated_rate(pts, ref - w, ref, w, True, name == "rate")
            if not pts:
                return None
            vs = [v for _, v in pts]
            if name == "avg":
                return sum(vs) / len(vs) if "naive_avg" in VARIANT else f_avg(vs)
            if name == "sum":
                return f_sum(vs)
            if name == "min":
                return f_min(vs)
            if name == "max":
                return f_max(vs)
            if name == "count":
                return float(len(vs))
            if name == "quantile":
                return f_quantile(q, vs)
            raise ValueError(name)
        if k == "abs":
            v = self.value(node[1], t)
            return None if v is None else abs(v)
        if k == "neg":
            v = self.value(node[1], t)
            return None if v is None else -v
        if k == "bin":
            if (pair := self.operands(node, t)) is None:
                return None
            (a, b), op = pair, node[1]
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            return ieee_div(a, b)
        raise ValueError(k)

    def operands(self, node, t: int):
        """The values of a binary node's two operands at `t`, or None when either has none."""
        a = self.value(node[2], t)
        b = self.value(node[3], t)
        return None if a is None or b is None else (a, b)

    def cond(self, node, t: int) -> bool:
        k = node[0]
        if k == "and":
            return self.cond(node[1], t) and self.cond(node[2], t)
        if k == "or":
            return self.cond(node[1], t) or self.cond(node[2], t)
        if k == "cmp":
            if (pair := self.operands(node, t)) is None:
                return False
            (a, b), op = pair, node[1]
            return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b,
                    "==": a == b, "!=": a != b}[op]
        raise ValueError(k)


def alert_firing_times(model: Model, expr, interval: int, end: int, hold: int, keep: int) -> list[int]:
    """Prometheus 2.42 AlertingRule.Eval state machine for one alert instance."""
    state = None            # None (inactive), "pending" or "firing"
    active_at = 0
    keep_since = None
    firing = []
    last_true = None
    if "for_floor_evals" in VARIANT:
        hold = (hold // interval) * interval
    for t in range(0, end + 1, interval):
        if model.cond(expr, t):
            last_true = t
            if state is None:
                state, active_at, keep_since = "pending", t, None
            if "keep_no_reset" not in VARIANT:
                keep_since = None
            held = t - active_at > hold if "for_strict" in VARIANT and hold else t - active_at >= hold
            if state == "pending" and held:
                state = "firing"
        else:
            keep_firing = False
            if state == "firing" and keep > 0:
                if keep_since is None:
                    keep_since = last_true if "keep_from_last_true" in VARIANT else t
                if "keep_le" in VARIANT:
                    keep_firing = t - keep_since <= keep
                else:
                    keep_firing = t - keep_since < keep
            if not keep_firing:
                state, keep_since = None, None
        if state == "firing":
            firing.append(t)
    return firing


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

@dataclass
class Case:
    category: str
    short: str
    eval_interval: int
    series_interval: int
    series: dict            # metric -> Series
    expr: tuple
    hold: int = 0
    keep: int = 0
    end: int = 0            # filled in by finalize()
    index: int = 0
    firing: list = field(default_factory=list)      # under Prometheus 2.42
    firing_v3: list = field(default_factory=list)   # under Prometheus 3.5

    def samples(self) -> dict:
        out = {}
        for m, s in self.series.items():
            pts = []
            for i, v in enumerate(s.expand()):
                if v is not None:
                    pts.append((i * self.series_interval, v))
            out[m] = pts
        return out

    def last_sample_t(self) -> int:
        return max((len(s.expand()) - 1) * self.series_interval for s in self.series.values())


def finalize(case: Case, rng: random.Random, extra_max: int = 420, cap: int = 2400) -> Case:
    """Pick the end of the case (past the last sample, so lookback expiry shows) and predict."""
    if case.end == 0:
        extra = rng.choice([0, 30, 60, 120, 240, 300, 330, 360, 420])
        extra = min(extra, extra_max)
        end = case.last_sample_t() + extra
        end = min(end, cap)
        end = (end // case.eval_interval) * case.eval_interval
        case.end = max(end, case.eval_interval * 4)
    model = Model(case.samples())
    case.firing = alert_firing_times(model, case.expr, case.eval_interval, case.end, case.hold, case.keep)
    return case


def predict(case: Case, semantics: int) -> list[int]:
    """The firing times of `case` under Prometheus `semantics` (2 or 3)."""
    global SEMANTICS
    saved, SEMANTICS = SEMANTICS, semantics
    try:
        return alert_firing_times(Model(case.samples()), case.expr, case.eval_interval, case.end,
                                  case.hold, case.keep)
    finally:
        SEMANTICS = saved


def interesting(case: Case) -> bool:
    n_evals = case.end // case.eval_interval + 1
    return 0 < len(case.firing) < n_evals


OPS = [">", ">=", "<", "<=", "==", "!="]
OPNAME = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "==": "eq", "!=": "ne"}


def random_levels_series(rng: random.Random, levels: list, n_items: int, *, blanks=False,
                         stale=False, nan=False, long_gaps=False, si: int = 15) -> Series:
    """A random step/ramp series over the given levels, in mixed promtool notation."""
    s = Series()
    for _ in range(n_items):
        r = rng.random()
        if blanks and r < 0.12:
            if rng.random() < 0.5:
                s.blank()
            else:
                s.blanks(rng.randint(2, 5))
            continue
        if long_gaps and r < 0.2:
            # a gap longer than the 5m lookback
            s.blanks(LOOKBACK // si + rng.randint(1, 4))
            continue
        if stale and r < 0.28:
            s.stale()
            continue
        if nan and r < 0.36:
            s.nan()
            continue
        r2 = rng.random()
        if r2 < 0.45:
            s.rep(rng.choice(levels), rng.randint(1, 8))
        elif r2 < 0.75:
            s.nums(*[rng.choice(levels) for _ in range(rng.randint(1, 4))])
        else:
            a = rng.choice(levels)
            b = rng.choice([1, 2, 0.5, -1, -2, -0.5])
            s.ramp(a, b, rng.randint(2, 6))
    if not s.items:
        s.rep(levels[0], 3)
    return s


def pick_hold(rng, ei, allow_zero=True):
    choices = [0, ei, 2 * ei, 20, 50, 60, 90, 120, 45, 70] if allow_zero else [ei, 2 * ei, 20, 50, 60, 90, 120, 45, 70]
    return rng.choice(choices)


def gen_cases(rng: random.Random) -> list[Case]:
    cases: list[Case] = []

    def add(make, tries=60, require_interesting=True):
        last = None
        for _ in range(tries):
            c = make()
            finalize(c, rng)
            last = c
            if not require_interesting or interesting(c):
                cases.append(c)
                return
        cases.append(last)

    # 1. every comparison operator, values exactly at the threshold -------------------------------
    for op in OPS:
        for k in range(4):
            def make(op=op, k=k):
                th = rng.choice([5, 10, 0, -2, 2.5])
                levels = [th - 2, th - 1, th, th, th + 1, th + 2]
                ei = [15, 15, 10, 30][k]
                si = rng.choice([ei, ei, 15, 10])
                s = random_levels_series(rng, levels, rng.randint(6, 12), si=si)
                hold = pick_hold(rng, ei)
                return Case("cmp_threshold", f"{OPNAME[op]}_threshold", ei, si, {"x": s},
                            cmp(op, X, num(th)), hold=hold)
            add(make)

    # 2. `for` that is not a multiple of the evaluation interval ---------------------------------
    for ei, hold in [(15, 20), (15, 50), (15, 70), (45, 60), (10, 25), (30, 45), (60, 90),
                     (15, 1), (30, 100), (45, 50)]:
        def make(ei=ei, hold=hold):
            si = rng.choice([15, ei, 10])
            th = 5
            s = random_levels_series(rng, [3, 4, 6, 7, 5], rng.randint(6, 12), si=si)
            op = rng.choice([">", ">=", "<"])
            return Case("for_not_multiple", f"for_{hold}s_at_{ei}s", ei, si, {"x": s},
                        cmp(op, X, num(th)), hold=hold)
        add(make)

    # 3. for 0 ---------------------------------------------------------------------------------
    for ei in [15, 15, 10, 30, 60]:
        def make(ei=ei):
            si = rng.choice([15, ei])
            s = random_levels_series(rng, [0, 1, 2, 3], rng.randint(5, 10), si=si)
            return Case("for_zero", "for_zero", ei, si, {"x": s},
                        cmp(rng.choice(OPS), X, num(2)), hold=0)
        add(make)

    # 4. missing samples (short gaps, inside the lookback) --------------------------------------
    for k in range(8):
        def make(k=k):
            ei = [15, 15, 15, 10, 30, 60, 15, 45][k]
            si = rng.choice([15, 15, 30, 60, 10])
            s = random_levels_series(rng, [1, 5, 9], rng.randint(8, 14), blanks=True, si=si)
            return Case("missing_samples", "missing_samples", ei, si, {"x": s},
                        cmp(rng.choice([">", "<", ">=", "!="]), X, num(5)), hold=pick_hold(rng, ei))
        add(make)

    # 5. gaps longer than 5m: lookback expiry ----------------------------------------------------
    for k in range(6):
        def make(k=k):
            ei = [15, 15, 10, 30, 60, 15][k]
            si = rng.choice([15, 30, 60])
            s = random_levels_series(rng, [2, 8], rng.randint(6, 10), long_gaps=True, si=si)
            return Case("lookback_expiry", "lookback_expiry", ei, si, {"x": s},
                        cmp(rng.choice([">", "<", "!="]), X, num(5)), hold=pick_hold(rng, ei))
        add(make)
    # the exact 5m boundary: one sample, then silence; the sample is visible at t0+5m, not after
    for ei, si, hold in [(15, 15, 0), (15, 15, 60), (10, 10, 30), (30, 60, 0), (60, 60, 120)]:
        def make(ei=ei, si=si, hold=hold):
            lead = rng.randint(1, 4)
            s = Series().rep(1, lead).num(9).blanks(LOOKBACK // si + 3).num(9).blanks(2)
            c = Case("lookback_expiry", "lookback_boundary_5m", ei, si, {"x": s},
                     cmp(">", X, num(5)), hold=hold)
            return c
        add(make, require_interesting=False)

    # 6. stale markers ---------------------------------------------------------------------------
    for k in range(8):
        def make(k=k):
            ei = [15, 15, 15, 10, 30, 60, 15, 15][k]
            si = rng.choice([15, 15, 10, 30])
            s = random_levels_series(rng, [1, 5, 9], rng.randint(8, 14), stale=True, si=si)
            keep = rng.choice([0, 0, 30, 45])
            return Case("stale", "stale_marker", ei, si, {"x": s},
                        cmp(rng.choice([">", "<", ">=", "!=", "=="]), X, num(5)),
                        hold=pick_hold(rng, ei), keep=keep)
        add(make)
    # a window over a series with stale markers (stale samples are not in range vectors)
    for name in ["avg", "count", "max"]:
        def make(name=name):
            s = random_levels_series(rng, [1, 5, 9], 12, stale=True)
            th = {"avg": 5, "count": 3, "max": 5}[name]
            return Case("stale", f"stale_in_{name}_window", 15, 15, {"x": s},
                        cmp(">=", fn(name, "x", 60), num(th)), hold=rng.choice([0, 30]))
        add(make)

    # 7. NaN values -----------------------------------------------------------------------------
    for op in OPS:
        def make(op=op):
            s = random_levels_series(rng, [1, 5, 9], rng.randint(8, 12), nan=True)
            return Case("nan", f"nan_{OPNAME[op]}", 15, 15, {"x": s}, cmp(op, X, num(5)),
                        hold=rng.choice([0, 15, 30, 50]))
        add(make)
    for name in ["avg", "max", "min", "sum"]:
        def make(name=name):
            s = random_levels_series(rng, [1, 5, 9], 12, nan=True)
            return Case("nan", f"nan_in_{name}_window", 15, 15, {"x": s},
                        cmp(">", fn(name, "x", 60), num(4 if name != "sum" else 20)), hold=0)
        add(make)

    # 8. keep_firing_for -------------------------------------------------------------------------
    for k, (ei, hold, keep) in enumerate([(15, 0, 30), (15, 0, 20), (15, 30, 45), (15, 60, 60),
                                          (15, 20, 50), (10, 0, 25), (30, 0, 60), (30, 60, 45),
                                          (60, 60, 120), (15, 0, 15), (15, 45, 300), (45, 0, 100),
                                          (15, 0, 1)]):
        def make(ei=ei, hold=hold, keep=keep):
            si = rng.choice([15, ei])
            # flapping around the threshold, so keep_firing_for bridges some dips and not others
            s = Series()
            for _ in range(rng.randint(6, 10)):
                r = rng.random()
                if r < 0.5:
                    s.rep(rng.choice([7, 8]), rng.randint(1, 6))
                elif r < 0.85:
                    s.rep(rng.choice([2, 3]), rng.randint(0, 5))
                else:
                    s.blanks(rng.randint(1, 3))
            return Case("keep_firing_for", f"keep_{keep}s_for_{hold}s", ei, si, {"x": s},
                        cmp(">", X, num(5)), hold=hold, keep=keep)
        add(make)

    # 9. input interval different from the evaluation interval ------------------------------------
    for ei, si in [(15, 10), (15, 20), (15, 60), (10, 15), (30, 15), (60, 15), (15, 45), (45, 15),
                   (15, 5), (30, 7)]:
        def make(ei=ei, si=si):
            s = random_levels_series(rng, [2, 4, 6, 8], rng.randint(8, 14), blanks=True, si=si)
            return Case("series_interval", f"series_{si}s_eval_{ei}s", ei, si, {"x": s},
                        cmp(rng.choice(OPS), X, num(rng.choice([4, 6]))), hold=pick_hold(rng, ei))
        add(make)

    # 10. window functions ------------------------------------------------------------------------
    for name in ["avg", "min", "max", "sum", "count", "quantile"]:
        for k in range(3):
            def make(name=name, k=k):
                ei = [15, 30, 10][k]
                si = rng.choice([15, 15, 10, 30])
                w = rng.choice([60, 120, 300, 45, 90])
                s = random_levels_series(rng, [0, 2, 4, 6, 8, 10], rng.randint(8, 14),
                                         blanks=(k == 2), si=si)
                q = None
                if name == "quantile":
                    q = rng.choice([0.5, 0.9, 0.25, 0.95, 0, 1])
                th = {"avg": 5, "min": 3, "max": 7, "sum": 30, "count": 4, "quantile": 5}[name]
                if name == "count":
                    th = max(2, w // si - 1)
                op = rng.choice([">", ">=", "<", "<="])
                return Case("window", f"{name}_over_{fmt_dur(w)}", ei, si, {"x": s},
                            cmp(op, fn(name, "x", w, q=q), num(th)), hold=pick_hold(rng, ei))
            add(make)

    # exact averages hitting the threshold (Prometheus' Kahan incremental mean decides)
    for k in range(3):
        def make(k=k):
            s = Series().rep(4, 3).rep(6, 3).nums(4, 6, 4, 6).rep(5, 4).nums(3, 7, 2, 8).rep(5, 3)
            op = [">=", "==", "<="][k]
            return Case("window", f"avg_exact_{OPNAME[op]}", 15, 15, {"x": s},
                        cmp(op, fn("avg", "x", [60, 120, 45][k]), num(5)), hold=0)
        add(make)

    # 11. rate / increase on a counter with resets ------------------------------------------------
    def counter(si: int, with_gaps: bool) -> Series:
        s = Series()
        v = rng.choice([0, 3, 10, 100])
        for _ in range(rng.randint(3, 6)):
            step = rng.choice([1, 2, 3, 0, 5, 0.5])
            n = rng.randint(3, 10)
            s.ramp(v, step, n)
            v = v + step * (n + 1)
            r = rng.random()
            if r < 0.35:
                v = rng.choice([0, 1, 2])  # counter reset
            elif with_gaps and r < 0.5:
                s.blanks(rng.randint(1, 4))
        return s

    for name in ["rate", "increase"]:
        for k in range(7):
            def make(name=name, k=k):
                ei = [15, 15, 30, 10, 60, 15, 15][k]
                si = [15, 15, 15, 10, 30, 30, 60][k]
                w = rng.choice([60, 120, 300, 90]) if si < 60 else rng.choice([300, 600])
                s = counter(si, with_gaps=(k % 2 == 1))
                model = Model({"c": [(i * si, v) for i, v in enumerate(s.expand()) if v is not None]})
                vals = [model.value(fn(name, "c", w), t) for t in range(0, (len(s) - 1) * si, ei)]
                vals = sorted(v for v in vals if v is not None)
                th = round(vals[len(vals) // 2], 1) if vals else 1
                off = 60 if k == 6 else 0
                return Case("rate_increase", f"{name}_{fmt_dur(w)}" + ("_offset" if off else ""),
                            ei, si, {"c": s},
                            cmp(rng.choice([">", ">=", "<"]), fn(name, "c", w, off), num(th)),
                            hold=pick_hold(rng, ei))
            add(make)

    # 12. offset -----------------------------------------------------------------------------------
    for k in range(6):
        def make(k=k):
            ei = [15, 15, 30, 10, 15, 60][k]
            si = rng.choice([15, 30])
            s = random_levels_series(rng, [1, 4, 6, 9], rng.randint(10, 16), si=si)
            off = rng.choice([60, 120, 300, 45])
            if k < 3:
                e = cmp(rng.choice([">", "<"]), sel("x", off), num(5))
                short = f"offset_{fmt_dur(off)}"
            else:
                name = rng.choice(["avg", "max", "min"])
                e = cmp(rng.choice([">", "<"]), fn(name, "x", 120, off), num(5))
                short = f"{name}_offset_{fmt_dur(off)}"
            return Case("offset", short, ei, si, {"x": s}, e, hold=pick_hold(rng, ei))
        add(make)

    # 13. a baseline: x > 3 * avg_over_time(x[10m] offset 10m) -------------------------------------
    for k in range(6):
        def make(k=k):
            ei = [15, 15, 30, 60, 15, 10][k]
            si = rng.choice([15, 30]) if ei <= 30 else 60
            n = 1200 // si + rng.randint(0, 10)
            s = Series()
            used = 0
            while used < n:
                r = rng.random()
                if r < 0.7:
                    m = rng.randint(3, 12)
                    s.rep(rng.choice([1, 2, 1.5]), m)
                    used += m + 1
                else:
                    m = rng.randint(1, 5)
                    s.rep(rng.choice([5, 8, 12]), m)
                    used += m + 1
            factor = rng.choice([3, 2])
            w, off = rng.choice([(600, 600), (300, 300), (600, 300)])
            e = cmp(">", X, bin_("*", num(factor), fn("avg", "x", w, off)))
            return Case("baseline", f"spike_{factor}x_avg_{fmt_dur(w)}_offset_{fmt_dur(off)}", ei, si,
                        {"x": s}, e, hold=rng.choice([0, 30, 60, ei]))
        add(make)

    # 14. arithmetic ---------------------------------------------------------------------------------
    arith = [
        ("x_times_2_plus_1", lambda: cmp(">", bin_("+", bin_("*", X, num(2)), num(1)), num(9)), False),
        ("neg_x", lambda: cmp("<", neg(X), num(-5)), False),
        ("abs_x_minus_5", lambda: cmp(">", abs_(bin_("-", X, num(5))), num(2)), False),
        ("x_div_c", lambda: cmp(">", bin_("/", X, C), num(0.5)), True),
        ("x_plus_c", lambda: cmp(">=", bin_("+", X, C), num(10)), True),
        ("x_minus_paren", lambda: cmp("<=", bin_("-", num(10), bin_("-", X, num(2))), num(4)), False),
        ("x_div_2_ne", lambda: cmp("!=", bin_("/", X, num(2)), num(2)), False),
        ("neg_avg", lambda: cmp(">", neg(fn("avg", "x", 60)), num(-4)), False),
    ]
    for short, mk, uses_c in arith:
        def make(short=short, mk=mk, uses_c=uses_c):
            ei = rng.choice([15, 15, 30])
            si = 15
            s = random_levels_series(rng, [0, 2, 4, 6, 8, 10], rng.randint(8, 12), blanks=True, si=si)
            series = {"x": s}
            if uses_c:
                series["c"] = random_levels_series(rng, [0, 4, 8, 16], rng.randint(6, 10), si=si)
            return Case("arithmetic", short, ei, si, series, mk(), hold=pick_hold(rng, ei))
        add(make)

    # 15. and / or (both sides keep the same output labels, so PromQL yields one series) ---------------
    bools = [
        ("x_between", lambda: and_(cmp(">", X, num(3)), cmp("<", X, num(7))), False),
        ("x_outside", lambda: or_(cmp("<", X, num(3)), cmp(">", X, num(7))), False),
        ("x_band_inclusive", lambda: and_(cmp(">=", X, num(4)), cmp("<=", X, num(6))), False),
        ("avg_or_max", lambda: or_(cmp(">", fn("avg", "x", 60), num(6)),
                                   cmp(">=", fn("max", "x", 60), num(10))), False),
        ("rate_and_x", lambda: and_(cmp(">", fn("rate", "c", 60), num(0.05)), cmp(">", X, num(4))), True),
        ("x_and_c", lambda: and_(cmp(">", X, num(4)), cmp("<", C, num(8))), True),
        ("and_or_mix", lambda: or_(and_(cmp(">", X, num(2)), cmp("<", X, num(5))), cmp("==", X, num(9))),
         False),
    ]
    for short, mk, uses_c in bools:
        def make(short=short, mk=mk, uses_c=uses_c):
            ei = rng.choice([15, 15, 10, 30])
            si = rng.choice([15, 15, 30])
            s = random_levels_series(rng, [1, 2, 4, 5, 6, 8, 9, 10], rng.randint(8, 12), blanks=True, si=si)
            series = {"x": s}
            if uses_c:
                series["c"] = counter(si, with_gaps=False) if "rate" in short else \
                    random_levels_series(rng, [2, 6, 10], rng.randint(6, 10), si=si)
            return Case("and_or", short, ei, si, series, mk(), hold=pick_hold(rng, ei),
                        keep=rng.choice([0, 0, 30]))
        add(make)

    # 16a. avg_over_time's rounding: values whose exact mean is the threshold, where Prometheus'
    # Kahan incremental mean lands one ulp off (so `<=` / `==` at the exact mean can be false)
    prec_rng = random.Random(SEED + 1)
    found = []
    while len(found) < 4:
        vals = [round(prec_rng.uniform(0, 10), 1) for _ in range(8)]
        exact = math.fsum(vals) / 8
        if f_avg(vals) != exact and sum(vals) / 8 == exact and exact * 8 == math.fsum(vals):
            found.append((vals, exact))
    for k, (vals, exact) in enumerate(found):
        def make(k=k, vals=vals, exact=exact):
            op = ["<=", "==", ">", "<="][k]
            s = Series().nums(*vals).blanks(4)
            return Case("window", f"avg_rounding_{OPNAME[op]}", 15, 15, {"x": s},
                        cmp(op, fn("avg", "x", 105), num(exact)), hold=0)
        add(make, require_interesting=False)

    # 16b. a counter that starts inside the window: 2.42 clamps the extrapolation at the zero point
    # before the 1.1x-average-gap threshold test (later Prometheus versions test first)
    for k, (name, lead, start, step, n, w, op, th) in enumerate([
            ("increase", 4, 1, 1, 5, 120, ">=", 5), ("increase", 6, 2, 2, 8, 180, ">", 15),
            ("rate", 4, 1, 1, 6, 120, ">=", 0.04), ("increase", 8, 3, 1, 10, 300, ">", 11)]):
        def make(name=name, lead=lead, start=start, step=step, n=n, w=w, op=op, th=th):
            s = Series().blanks(lead).ramp(start, step, n).blanks(2).ramp(0, step, 4)
            return Case("rate_increase", f"{name}_counter_starts_in_window", 15, 15, {"c": s},
                        cmp(op, fn(name, "c", w), num(th)), hold=0)
        add(make, require_interesting=False)

    # 16c. quantile interpolation between neighbours
    for q, th, op in [(0.9, 8.5, ">="), (0.5, 4.5, ">"), (0.75, 6, "<")]:
        def make(q=q, th=th, op=op):
            s = random_levels_series(rng, [1, 3, 4, 5, 6, 7, 9, 10], 14)
            return Case("window", f"quantile_{fmt_num(q).replace('.', 'p')}_interpolated", 15, 15, {"x": s},
                        cmp(op, fn("quantile", "x", 60, q=q), num(th)), hold=0)
        add(make)

    # 16d. keep_firing_for across repeated dips: each dip starts its own keep period
    for ei, hold, keep in [(15, 0, 60), (15, 30, 45), (10, 0, 40)]:
        def make(ei=ei, hold=hold, keep=keep):
            s = Series()
            s.rep(8, 4)
            for _ in range(rng.randint(4, 6)):
                s.rep(2, rng.randint(0, 3)).rep(8, rng.randint(0, 2))
            s.rep(2, 10)
            return Case("keep_firing_for", f"keep_{keep}s_repeated_dips", ei, 15, {"x": s},
                        cmp(">", X, num(5)), hold=hold, keep=keep)
        add(make)

    # 16. floating-point ramps (values accumulate by repeated float64 addition, as promtool does) -------
    for op, th in [(">=", 0.3), ("==", 0.3), (">", 0.7)]:
        def make(op=op, th=th):
            s = Series().ramp(0, 0.1, 10).ramp(1, -0.1, 10)
            return Case("float_ramp", f"ramp_tenths_{OPNAME[op]}", 15, 15, {"x": s},
                        cmp(op, X, num(th)), hold=0)
        add(make, require_interesting=False)

    # 17. a long run, to show late firing and evaluation past the data -------------------------------
    for ei in [15, 60]:
        def make(ei=ei):
            s = Series().ramp(0, 1, 40).rep(40, 20).ramp(40, -2, 20).blanks(10)
            return Case("long_run", "slow_ramp", ei, 15, {"x": s},
                        cmp(">", fn("avg", "x", 300), num(30)), hold=180, keep=60)
        add(make)

    # 18. exact boundaries, where 2.42 and 3.x disagree: samples on the evaluation grid, windows that are
    # whole multiples of the interval (a 3.x window holds one sample fewer), gaps of exactly 5m
    counter_grid = Series().ramp(0, 1, 12).rep(12, 3).ramp(13, 2, 6).blanks(3)
    steps = Series().rep(2, 4).rep(8, 6).rep(2, 3).rep(8, 2).rep(2, 6)
    for short, ei, si, series, expr in [
            ("count_1m_on_grid", 15, 15, {"x": steps}, cmp(">=", fn("count", "x", 60), num(5))),
            ("count_2m_on_grid", 30, 30, {"x": steps}, cmp(">", fn("count", "x", 120), num(4))),
            ("avg_1m_on_grid", 15, 15, {"x": steps}, cmp(">=", fn("avg", "x", 60), num(8))),
            ("min_45s_on_grid", 15, 15, {"x": steps}, cmp(">", fn("min", "x", 45), num(5))),
            ("max_1m_on_grid", 15, 15, {"x": steps}, cmp("<", fn("max", "x", 60), num(5))),
            ("sum_30s_on_grid", 15, 15, {"x": steps}, cmp(">=", fn("sum", "x", 30), num(24))),
            ("increase_15s_on_grid", 15, 15, {"c": counter_grid}, cmp(">", fn("increase", "c", 15), num(0))),
            ("increase_30s_on_grid", 15, 15, {"c": counter_grid}, cmp(">=", fn("increase", "c", 30), num(2))),
            ("rate_1m_on_grid", 15, 15, {"c": counter_grid}, cmp(">", fn("rate", "c", 60), num(0.05))),
            ("rate_2m_offset_1m_on_grid", 30, 30, {"c": counter_grid},
             cmp(">", fn("rate", "c", 120, off=60), num(0.05))),
            ("max_5m_offset_5m_on_grid", 60, 60, {"x": steps}, cmp(">", fn("max", "x", 300, off=300), num(5))),
            ("gap_exactly_5m_at_60s", 60, 60, {"x": Series().rep(9, 2).blanks(4).num(9).blanks(6)},
             cmp(">", X, num(5))),
            ("gap_exactly_5m_at_15s", 15, 15, {"x": Series().num(9).blanks(19).num(9).blanks(21)},
             cmp(">", X, num(5))),
            ("offset_5m_lookback_edge", 30, 60, {"x": Series().rep(9, 1).blanks(8)},
             cmp(">", sel("x", 300), num(5))),
            # 3.5's avg_over_time is a Kahan sum over the count: exactly 6.725 here, where 2.42's
            # incremental mean gives 6.7250000000000005 (the 2m window holds all 8 samples in both at 105s)
            ("avg_rounding_2m_gt", 15, 15, {"x": Series().nums(6.8, 2.8, 8.6, 6.7, 4.9, 8, 6.3, 9.7).blanks(4)},
             cmp(">", fn("avg", "x", 120), num(6.725))),
            ("avg_rounding_2m_eq", 15, 15, {"x": Series().nums(6.8, 2.8, 8.6, 6.7, 4.9, 8, 6.3, 9.7).blanks(4)},
             cmp("==", fn("avg", "x", 120), num(6.725))),
    ]:
        def make(short=short, ei=ei, si=si, series=series, expr=expr):
            return Case("boundary", short, ei, si, series, expr, hold=0)
        add(make, require_interesting=False)

    for i, c in enumerate(cases, 1):
        c.index = i
        c.firing_v3 = predict(c, 3)
    return cases


# --------------------------------------------------------------------------------------------
# File writers
# --------------------------------------------------------------------------------------------

def yq(s: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + s.replace("'", "''") + "'"


def rules_yaml(case: Case) -> str:
    lines = [
        "# Generated by tests/promtool/generate.py; do not edit by hand.",
        "groups:",
        f"  - name: case_{case.index:03d}",
        "    rules:",
        "      - alert: t",
        f"        expr: {yq(render(case.expr, 'promql'))}",
    ]
    if case.hold:
        lines.append(f"        for: {fmt_dur(case.hold)}")
    if case.keep:
        lines.append(f"        keep_firing_for: {fmt_dur(case.keep)}")
    return "\n".join(lines) + "\n"


def test_yaml(case: Case, firing_times: list) -> str:
    firing = set(firing_times)
    lines = [
        "# Generated by tests/promtool/generate.py; do not edit by hand.",
        f"# {case.category}: {render(case.expr, 'promql')}"
        + (f" for {fmt_dur(case.hold)}" if case.hold else "")
        + (f" keep_firing_for {fmt_dur(case.keep)}" if case.keep else ""),
        "rule_files:",
        "  - rules.yml",
        f"evaluation_interval: {fmt_dur(case.eval_interval)}",
        "tests:",
        f"  - interval: {fmt_dur(case.series_interval)}",
        "    input_series:",
    ]
    for m in sorted(case.series):
        lines.append(f"      - series: {yq(m)}")
        lines.append(f"        values: {yq(case.series[m].render())}")
    lines.append("    alert_rule_test:")
    for t in range(0, case.end + 1, case.eval_interval):
        lines.append(f"      - eval_time: {t}s")
        lines.append("        alertname: t")
        if t in firing:
            lines.append("        exp_alerts:")
            lines.append("          - exp_labels: {}")
        else:
            lines.append("        exp_alerts: []")
    return "\n".join(lines) + "\n"


def runbook_text(case: Case) -> str:
    hold = ""
    if case.hold:
        hold += f" for {fmt_dur(case.hold)}"
    if case.keep:
        hold += f" keep firing for {fmt_dur(case.keep)}"
    return (
        f"# Generated by tests/promtool/generate.py; do not edit by hand.\n"
        f"# PromQL: {render(case.expr, 'promql')}\n"
        f"runbook case_{case.index:03d} {{\n"
        f"  evaluate every {fmt_dur(case.eval_interval)}\n"
        f"  trigger t: {render(case.expr, 'ripcord')}{hold} -> level 1\n"
        f"  level 1 \"respond\" {{\n"
        f"    step shell \"true\" timeout 1s\n"
        f"  }}\n"
        f"}}\n"
    )


def expected_json(case: Case) -> str:
    return json.dumps({
        "interval_s": case.eval_interval,
        "end_s": case.end,
        "trigger": "t",
        "firing": case.firing,
        "firing_v3": case.firing_v3,
    }) + "\n"


def dir_name(case: Case) -> str:
    return f"{case.index:03d}_{case.short}"


# --------------------------------------------------------------------------------------------
# Confirmation with promtool
# --------------------------------------------------------------------------------------------

def run_promtool(case: Case, work: str) -> tuple[bool, str]:
    """Both promtools on the case: 2.42 on `test.yml`, 3.5 on `test.v3.yml`; the first failure."""
    d = os.path.join(work, dir_name(case))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write(rules_yaml(case))
    for tool, name, firing in ((PROMTOOL, "test.yml", case.firing), (PROMTOOL3, "test.v3.yml", case.firing_v3)):
        with open(os.path.join(d, name), "w") as f:
            f.write(test_yaml(case, firing))
        p = subprocess.run([tool, "test", "rules", name], cwd=d, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            return False, f"[{name}] " + (p.stderr or p.stdout).strip()
    return True, ""


def drop_reason(err: str) -> str:
    if "alertname: t, time:" in err:
        n = err.count("alertname: t, time:")
        first = err.split("alertname: t, time:", 1)[1].split(",", 1)[0].strip()
        return f"model disagrees with promtool at {n} eval time(s), first at {first}"
    first = next((ln.strip() for ln in err.splitlines() if ln.strip() and "FAILED" not in ln), err)
    return "promtool error: " + first[:160]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep-work", metavar="DIR", help="write the promtool work tree here and keep it")
    ap.add_argument("--only", help="comma-separated case numbers (debugging); fixtures are not written")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--mutants", action="store_true",
                    help="also report which deliberately wrong models the confirmed cases catch")
    args = ap.parse_args()

    for tool, want in ((PROMTOOL, "2.42"), (PROMTOOL3, "3.5")):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found (Prometheus {want}'s promtool is expected)", file=sys.stderr)
            return 2
        version = subprocess.run([tool, "--version"], capture_output=True, text=True)
        vline = (version.stdout or version.stderr).splitlines()[0] if (version.stdout or version.stderr) else "?"
        print(f"using {vline}")

    started = time.monotonic()
    rng = random.Random(SEED)
    cases = gen_cases(rng)
    only = None
    if args.only:
        only = {int(x) for x in args.only.split(",")}
        cases = [c for c in cases if c.index in only]

    work = args.keep_work or tempfile.mkdtemp(prefix="ripcord-promtool-")
    if args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    results: dict[int, tuple[bool, str]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(run_promtool, c, work): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            c = futs[fut]
            try:
                results[c.index] = fut.result()
            except Exception as e:  # noqa: BLE001 - report any failure as a drop reason
                results[c.index] = (False, f"generator error: {e}")
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)

    confirmed = [c for c in cases if results[c.index][0]]
    dropped = [c for c in cases if not results[c.index][0]]

    if only is None:
        shutil.rmtree(FIXTURES, ignore_errors=True)
        os.makedirs(FIXTURES)
        for c in confirmed:
            d = os.path.join(FIXTURES, dir_name(c))
            os.makedirs(d)
            for name, text in (("rules.yml", rules_yaml(c)), ("test.yml", test_yaml(c, c.firing)),
                               ("test.v3.yml", test_yaml(c, c.firing_v3)),
                               ("case.runbook", runbook_text(c)), ("expected.json", expected_json(c))):
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)

    by_cat_all = collections.Counter(c.category for c in cases)
    by_cat_ok = collections.Counter(c.category for c in confirmed)
    print(f"generated {len(cases)}, confirmed by promtool {len(confirmed)}, dropped {len(dropped)}")
    print("by category (confirmed/generated):")
    for cat in sorted(by_cat_all):
        print(f"  {cat:18} {by_cat_ok[cat]:3}/{by_cat_all[cat]}")
    differ = [c for c in confirmed if c.firing != c.firing_v3]
    print(f"confirmed cases that fire differently under 2.42 and 3.5: {len(differ)}")
    never = [c for c in confirmed if not c.firing]
    if never:
        print(f"confirmed cases that never fire: {len(never)} ({', '.join(dir_name(c) for c in never)})")
    if dropped:
        print("dropped:")
        for c in dropped:
            print(f"  {dir_name(c)}: {drop_reason(results[c.index][1])}")
            if only is not None:
                print(results[c.index][1])
    if args.mutants:
        print("mutants (deliberately wrong models) and how many confirmed cases catch each:")
        for name, desc in MUTANTS.items():
            VARIANT.clear()
            VARIANT.add(name)
            caught = [c for c in confirmed
                      if alert_firing_times(Model(c.samples()), c.expr, c.eval_interval, c.end,
                                            c.hold, c.keep) != c.firing]
            VARIANT.clear()
            mark = "" if caught else "   <-- NOT CAUGHT"
            print(f"  {name:22} {len(caught):3}  {desc}{mark}")
    if only is None:
        print(f"fixtures written to {os.path.relpath(FIXTURES)}")
    print(f"took {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
