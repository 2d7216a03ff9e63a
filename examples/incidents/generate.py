#!/usr/bin/env python3
"""Writes the recorded incidents in this directory: one CSV of metric samples per runbook in runbooks/.

    python3 examples/incidents/generate.py            # (re)write the CSV files next to this script
    python3 examples/incidents/generate.py --check    # exit 1 if a CSV differs from what this script makes
    python3 examples/incidents/generate.py --explain  # print when each trigger goes pending, fires, resolves

Deterministic and standard library only: every series is a piecewise-linear shape (the story of the
incident, written as knots at "mm:ss") times a small bounded noise from a random generator seeded by the
incident and metric names, so the same script always writes the same bytes. The noise is bounded
(uniform, a few per cent) so that no sample crosses a trigger threshold the story does not mean it to.

`--explain` replays each runbook's triggers over the generated samples with Prometheus's alerting-rule
timing (the rules ripcord's simulator follows): evaluations every `evaluate every` from time 0, a metric's
value is its newest sample at or before the evaluation, `for D` fires once the condition has held for D,
`for N consecutive` fires at the Nth true evaluation in a row, and a false evaluation resets both. It is a
cross-check for README.md, not a second implementation of the language: the conditions are copied by hand.

CSV format: header `time,metric,value`; time in seconds from 0; one row per sample; a sample of every
metric every 15 seconds; rows sorted by time, then metric in the order the runbook declares them.
"""

import argparse
import io
import os
import random
import sys
import zlib

STEP = 15  # seconds between samples


def ts(mmss):
    """'13:15' -> 795 seconds."""
    m, s = mmss.split(":")
    return int(m) * 60 + int(s)


def fmt_time(t):
    return f"{t // 60:02d}:{t % 60:02d}"


def shape(*points):
    """A piecewise-linear function of time from knots ('mm:ss', value); flat before the first and after the last."""
    knots = [(ts(t), float(v)) for t, v in points]
    assert all(a[0] < b[0] for a, b in zip(knots, knots[1:])), "knots must be in time order"

    def f(t):
        if t <= knots[0][0]:
            return knots[0][1]
        for (t0, v0), (t1, v1) in zip(knots, knots[1:]):
            if t <= t1:
                return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        return knots[-1][1]

    return f


class Incident:
    def __init__(self, name, minutes, interval):
        self.name = name
        self.end = minutes * 60
        self.interval = interval  # the runbook's `evaluate every`, in seconds, for --explain
        self.times = list(range(0, self.end + 1, STEP))
        self.series = {}  # metric -> list of values, one per time, in declaration order
        self.triggers = []

    def rng(self, metric):
        return random.Random(zlib.crc32(f"{self.name}/{metric}".encode()))

    def metric(self, name, f, noise=0.0, lo=None, hi=None, digits=6):
        """Samples f(t) with relative uniform noise in [-noise, +noise], clipped to [lo, hi]."""
        rng = self.rng(name)
        values = []
        for t in self.times:
            v = f(t) * (1.0 + rng.uniform(-noise, noise))
            if lo is not None:
                v = max(lo, v)
            if hi is not None:
                v = min(hi, v)
            values.append(round(v, digits))
        self.series[name] = values

    def window_mean(self, name, f, window, noise=0.0, digits=6):
        """A metric whose query averages over a trailing window (`rate(...[5m])`): the mean of the
        underlying per-sample values f(t) over the last `window` seconds, then noise."""
        n = window // STEP
        raw = [f(t) for t in self.times]
        rng = self.rng(name)
        values = []
        for i in range(len(raw)):
            part = raw[max(0, i - n + 1): i + 1]
            v = sum(part) / len(part) * (1.0 + rng.uniform(-noise, noise))
            values.append(round(v, digits))
        self.series[name] = values

    # --- for --explain -------------------------------------------------------------------------------

    def value(self, name, t):
        """The newest sample at or before t within the 5m lookback, else None."""
        i = t // STEP
        if i < 0 or t - i * STEP > 300:
            return None
        i = min(i, len(self.times) - 1)
        return self.series[name][i]

    def avg_over(self, name, window, offset, t):
        """avg_over(name, window) offset offset: mean of samples in (t - offset - window, t - offset]."""
        hi = t - offset
        lo = hi - window
        vals = [v for tt, v in zip(self.times, self.series[name]) if lo < tt <= hi]
        return sum(vals) / len(vals) if vals else None

    def trigger(self, name, cond, target, hold=0, consecutive=0):
        self.triggers.append((name, cond, target, hold, consecutive))

    def explain(self):
        out = [f"{self.name}: {self.end // 60} minutes, evaluated every {self.interval}s"]
        for name, cond, target, hold, consecutive in self.triggers:
            events = []
            active_at = None
            streak = 0
            firing = False
            for t in range(0, self.end + 1, self.interval):
                try:
                    ok = bool(cond(t))
                except TypeError:  # a missing value (None) compared: PromQL says false
                    ok = False
                if ok:
                    streak += 1
                    if active_at is None:
                        active_at = t
                        if not (hold == 0 and consecutive <= 1):
                            events.append(f"pending {fmt_time(t)}")
                    due = streak >= consecutive if consecutive else t - active_at >= hold
                    if due and not firing:
                        firing = True
                        events.append(f"FIRING {fmt_time(t)}")
                else:
                    if firing:
                        events.append(f"resolved {fmt_time(t)}")
                    elif active_at is not None:
                        events.append(f"reset {fmt_time(t)}")
                    active_at, streak, firing = None, 0, False
            out.append(f"  {name:24} -> {target:18} " + (", ".join(events) if events else "never true"))
        return "\n".join(out)

    def csv(self):
        buf = io.StringIO()
        buf.write("time,metric,value\n")
        for i, t in enumerate(self.times):
            for name, values in self.series.items():
                buf.write(f"{t},{name},{format_value(values[i])}\n")
        return buf.getvalue()


def format_value(v):
    if v == int(v):
        return str(int(v))
    text = f"{v:.6f}".rstrip("0")
    return text


# ---------------------------------------------------------------------------------------------------------
# storage-migration: the new cluster's write path saturates; levels 1 and 2 do not help; level 3 does.
# ---------------------------------------------------------------------------------------------------------

def storage_migration():
    inc = Incident("storage-migration", minutes=45, interval=15)
    inc.metric("error_rate", shape(
        ("00:00", 0.003), ("05:00", 0.003),   # writes cut over to the new cluster at 05:00
        ("06:00", 0.014), ("11:00", 0.016),   # a trickle of write timeouts
        ("11:30", 0.019), ("12:15", 0.036),   # the write path saturates
        ("12:30", 0.062), ("13:00", 0.074), ("15:00", 0.081), ("16:30", 0.078),
        ("16:45", 0.052), ("17:00", 0.024),   # level 3 restored the pre-migration configuration at 16:30
        ("17:15", 0.011), ("17:30", 0.006), ("19:00", 0.004), ("45:00", 0.003),
    ), noise=0.06)
    inc.metric("p95_latency", shape(
        ("00:00", 0.32), ("05:00", 0.33), ("06:00", 0.45), ("11:00", 0.52),
        ("12:30", 2.3), ("16:30", 2.4), ("17:30", 0.9), ("19:00", 0.45), ("22:00", 0.34), ("45:00", 0.33),
    ), noise=0.05)
    inc.metric("integrity_violations", shape(("00:00", 0)), digits=0)
    inc.metric("auth_failure_rate", shape(
        ("00:00", 0.006), ("11:00", 0.008), ("12:30", 0.038), ("16:30", 0.042), ("17:30", 0.009), ("45:00", 0.006),
    ), noise=0.08)
    inc.metric("cpu_utilization", shape(
        ("00:00", 0.41), ("05:00", 0.52), ("11:00", 0.66), ("12:30", 0.86), ("16:30", 0.88),
        ("17:30", 0.31), ("45:00", 0.27),    # after level 3 the new cluster only runs the sync job
    ), noise=0.025, hi=1.0)
    inc.metric("memory_utilization", shape(("00:00", 0.61), ("12:30", 0.67), ("17:30", 0.63), ("45:00", 0.62)), noise=0.01)
    inc.metric("sync_backlog_age", shape(
        ("00:00", 4), ("12:45", 5),          # reverse sync falls behind as the write path saturates
        ("17:30", 230),                       # no longer competing with live writes after level 3
        ("21:00", 9), ("45:00", 4),
    ), noise=0.05, lo=1, digits=1)

    err = lambda t: inc.value("error_rate", t)
    p95 = lambda t: inc.value("p95_latency", t)
    inc.trigger("errors_critical", lambda t: err(t) > 0.05, "level 1", hold=60)
    inc.trigger("total_failure", lambda t: err(t) > 0.5, "level 1", hold=30)
    inc.trigger("latency_critical", lambda t: p95(t) > 10, "level 1", hold=180)
    inc.trigger("data_corruption", lambda t: inc.value("integrity_violations", t) > 0, "level 1")
    inc.trigger("auth_failures", lambda t: inc.value("auth_failure_rate", t) > 0.10, "level 1", hold=120)
    inc.trigger("latency_warning", lambda t: p95(t) > 2, "level 2", hold=600)
    inc.trigger("errors_warning", lambda t: err(t) > 0.02, "level 2", hold=300)
    inc.trigger("resources_warning", lambda t: inc.value("cpu_utilization", t) > 0.9
                or inc.value("memory_utilization", t) > 0.9, "level 2", hold=600)
    inc.trigger("sync_behind", lambda t: inc.value("sync_backlog_age", t) > 300, "level 2", hold=300)
    inc.trigger("errors_watch", lambda t: err(t) > 0.01, "notify migration", hold=600)
    inc.trigger("latency_watch", lambda t: p95(t) > 1.5, "notify migration", hold=1200)
    return inc


# ---------------------------------------------------------------------------------------------------------
# feature-flag-rollout: the 25% cohort hits a checkout-v2 bug; turning the flags off fixes it in a minute.
# ---------------------------------------------------------------------------------------------------------

def feature_flag_rollout():
    inc = Incident("feature-flag-rollout", minutes=60, interval=15)
    inc.metric("error_rate", shape(
        ("00:00", 0.0021), ("10:00", 0.0022),  # flags on for 10% of users at 10:00
        ("15:00", 0.0026),                     # 25% at 15:00
        ("16:45", 0.0041), ("17:00", 0.0128),  # the 25% cohort reaches express-pay's broken path
        ("19:00", 0.0146), ("22:00", 0.0151),  # level 1 switches every flag off at 22:00
        ("22:15", 0.0118), ("22:30", 0.0071), ("22:45", 0.0034), ("24:00", 0.0023), ("60:00", 0.0021),
    ), noise=0.08)
    inc.metric("p95_latency", shape(
        ("00:00", 0.81), ("15:00", 0.84), ("17:00", 0.93), ("22:00", 0.95), ("23:00", 0.83), ("60:00", 0.80),
    ), noise=0.04)
    inc.metric("satisfaction", shape(
        ("00:00", 4.41), ("15:00", 4.40), ("24:00", 4.13), ("40:00", 4.31), ("60:00", 4.39),
    ), noise=0.004)
    inc.metric("validation_disagreement", shape(
        ("00:00", 0.004), ("15:00", 0.005), ("17:00", 0.021), ("22:00", 0.031), ("27:00", 0.005), ("60:00", 0.004),
    ), noise=0.1)
    inc.metric("checkout_tickets", shape(
        ("00:00", 11), ("17:00", 12), ("30:00", 21), ("60:00", 15),
    ), noise=0.03, digits=0)

    err = lambda t: inc.value("error_rate", t)
    inc.trigger("critical_errors", lambda t: err(t) > 0.01, "level 1", hold=300)
    inc.trigger("performance_regression", lambda t: inc.value("p95_latency", t)
                > 1.05 * inc.avg_over("p95_latency", 3600, 86400, t), "level 1", hold=600)
    inc.trigger("satisfaction_drop", lambda t: inc.value("satisfaction", t) < 4.0, "level 1", hold=300)
    inc.trigger("validation_failures", lambda t: inc.value("validation_disagreement", t) > 0.10, "level 1", hold=300)
    inc.trigger("ticket_surge", lambda t: inc.value("checkout_tickets", t)
                > 1.5 * inc.avg_over("checkout_tickets", 86400, 604800, t), "notify rollout", hold=1800)
    return inc


# ---------------------------------------------------------------------------------------------------------
# config-rollback: a settings.json change slows memory reads; the memory-file restore (level 1) does not
# help, the configuration restore (level 2) does.
# ---------------------------------------------------------------------------------------------------------

def config_rollback():
    inc = Incident("config-rollback", minutes=45, interval=60)
    inc.metric("memory_access_time", shape(
        ("00:00", 0.0081), ("12:00", 0.0083),  # settings.json pushed at 12:00
        ("12:15", 0.0190), ("12:30", 0.0330), ("13:00", 0.0370), ("16:00", 0.0410), ("19:00", 0.0395),
        ("19:15", 0.0260), ("19:30", 0.0150),  # level 2 restored settings.json at 19:00
        ("20:00", 0.0092), ("45:00", 0.0080),
    ), noise=0.06)
    inc.metric("cache_hit_ratio", shape(
        ("00:00", 0.962), ("12:00", 0.961), ("12:30", 0.83), ("13:00", 0.79), ("19:00", 0.78),
        ("19:30", 0.64),                       # the restart empties the cache ...
        ("22:00", 0.84), ("24:00", 0.93), ("28:00", 0.958), ("45:00", 0.962),  # ... and it refills
    ), noise=0.006, hi=1.0)
    inc.metric("agent_selection_time", shape(
        ("00:00", 0.31), ("12:00", 0.33), ("13:30", 0.52), ("13:45", 1.24), ("15:15", 1.31),
        ("15:30", 0.74), ("19:00", 0.71), ("20:00", 0.34), ("45:00", 0.31),
    ), noise=0.05)
    inc.metric("context_preservation", shape(
        ("00:00", 0.978), ("12:00", 0.977), ("13:00", 0.941), ("19:00", 0.936), ("21:00", 0.975), ("45:00", 0.978),
    ), noise=0.003, hi=1.0)
    inc.metric("memory_checksum_failures", shape(("00:00", 0)), digits=0)
    # The blackbox probe: down only while agent-hub restarts (19:00 to 19:30).
    inc.metric("health_probe", lambda t: 0.0 if 1140 < t <= 1170 else 1.0, digits=0)

    v = inc.value
    inc.trigger("slow_memory", lambda t: v("memory_access_time", t) > 0.025, "level 1", consecutive=5)
    inc.trigger("cache_misses", lambda t: v("cache_hit_ratio", t) < 0.85, "level 1", hold=300)
    inc.trigger("slow_selection", lambda t: v("agent_selection_time", t) > 1, "level 1", consecutive=3)
    inc.trigger("context_loss", lambda t: v("context_preservation", t) < 0.90, "level 1")
    inc.trigger("memory_corruption", lambda t: v("memory_checksum_failures", t) > 0, "level 1")
    inc.trigger("health_failing", lambda t: v("health_probe", t) < 1, "level 2", hold=180)
    return inc


# ---------------------------------------------------------------------------------------------------------
# release-rollback: a prompt release at 62:00 quadruples the error rate without reaching 5%; the baseline
# trigger catches it and the minimal recovery fixes it.
# ---------------------------------------------------------------------------------------------------------

def release_rollback():
    inc = Incident("release-rollback", minutes=90, interval=15)
    inc.metric("success_rate", shape(
        ("00:00", 0.962), ("62:00", 0.960), ("62:30", 0.918), ("63:45", 0.914),
        ("64:00", 0.894), ("64:45", 0.893),    # a dip below 90% that does not last 5m
        ("65:00", 0.912), ("67:15", 0.915),
        ("68:00", 0.931), ("70:00", 0.957), ("90:00", 0.961),
    ), noise=0.003, hi=1.0)
    inc.metric("error_rate", shape(
        ("00:00", 0.0041), ("30:00", 0.0038), ("62:00", 0.0040),  # release v2024.11.3 at 62:00
        ("62:15", 0.0185), ("65:00", 0.0196), ("67:15", 0.0192),  # level 1 routes back at 67:15
        ("67:30", 0.0117), ("67:45", 0.0062), ("68:30", 0.0042), ("90:00", 0.0040),
    ), noise=0.08)
    inc.metric("p95_latency", shape(
        ("00:00", 1.82), ("40:00", 1.9), ("62:00", 1.86), ("63:00", 2.55), ("67:15", 2.62),
        ("68:30", 1.95), ("90:00", 1.84),
    ), noise=0.04)
    inc.metric("satisfaction", shape(
        ("00:00", 4.31), ("62:00", 4.30), ("70:00", 4.19), ("90:00", 4.27),
    ), noise=0.004)
    inc.metric("quality_score", shape(
        ("00:00", 8.41), ("62:00", 8.40), ("69:00", 8.12), ("90:00", 8.36),
    ), noise=0.004)
    inc.metric("integration_failure_rate", shape(
        ("00:00", 0.011), ("62:00", 0.011), ("62:30", 0.034), ("67:15", 0.036), ("68:00", 0.012), ("90:00", 0.011),
    ), noise=0.1)
    inc.metric("cpu_saturation", shape(
        ("00:00", 0.54), ("45:00", 0.61), ("62:00", 0.6), ("63:00", 0.71), ("67:15", 0.72),
        ("68:30", 0.58), ("90:00", 0.55),
    ), noise=0.03, hi=1.0)

    v = inc.value
    err = lambda t: v("error_rate", t)
    inc.trigger("low_success", lambda t: v("success_rate", t) < 0.90, "level 1", hold=300)
    inc.trigger("slow_responses", lambda t: v("p95_latency", t)
                > 1.5 * inc.avg_over("p95_latency", 86400, 86400, t), "level 1", hold=600)

    def error_spike(t):
        base = inc.avg_over("error_rate", 3600, 3600, t)
        return err(t) > 0.05 or (base is not None and err(t) > 3 * base)

    inc.trigger("error_spike", error_spike, "level 1", hold=300)
    inc.trigger("integration_failures", lambda t: v("integration_failure_rate", t) > 0.10, "level 1", hold=120)
    inc.trigger("resource_exhaustion", lambda t: v("cpu_saturation", t) > 0.9, "level 1", hold=300)
    inc.trigger("satisfaction_decline", lambda t: v("satisfaction", t) < 3.5, "level 2", hold=900)
    inc.trigger("quality_regression", lambda t: v("quality_score", t)
                < inc.avg_over("quality_score", 86400, 86400, t) - 1, "level 2", hold=3600)
    return inc


# ---------------------------------------------------------------------------------------------------------
# multi-tier-release: the release's schema migration makes order writes fail under either backend; the
# application rollback does not help, the schema rollback does.
# ---------------------------------------------------------------------------------------------------------

def multi_tier_release():
    inc = Incident("multi-tier-release", minutes=55, interval=15)
    # Share of requests failing at each moment; the metrics average it over their query windows.
    failing = shape(
        ("00:00", 0.0031), ("10:15", 0.0032),  # schema migration at 10:00, backend 10:15, frontend 10:30
        ("10:30", 0.088), ("28:15", 0.091),    # order writes time out on the new foreign key's lock
        ("28:30", 0.0033), ("55:00", 0.0030),  # level 2 migrated the schema down at 28:15
    )
    inc.window_mean("api_error_rate", failing, window=300, noise=0.03)
    latency = shape(
        ("00:00", 0.42), ("10:15", 0.43), ("10:30", 3.1), ("28:15", 3.2), ("28:30", 0.44), ("55:00", 0.42),
    )
    inc.window_mean("api_p95_latency", latency, window=600, noise=0.03)

    v = inc.value
    inc.trigger("api_errors_high", lambda t: v("api_error_rate", t) > 0.05, "level 1", hold=300)
    inc.trigger("api_latency_medium", lambda t: v("api_p95_latency", t) > 2, "level 1", hold=600)
    inc.trigger("api_errors_persisting", lambda t: v("api_error_rate", t) > 0.05, "level 2", hold=900)
    inc.trigger("api_errors_rising", lambda t: v("api_error_rate", t) > 0.02, "notify releases", hold=300)
    return inc


INCIDENTS = [storage_migration, feature_flag_rollout, config_rollback, release_rollback, multi_tier_release]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    parser.add_argument("--explain", action="store_true", help="print each trigger's pending/firing times")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    stale = []
    for make in INCIDENTS:
        inc = make()
        if args.explain:
            print(inc.explain())
            print()
            continue
        path = os.path.join(here, f"{inc.name}.csv")
        text = inc.csv()
        if args.check:
            try:
                with open(path, encoding="utf-8", newline="") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            print(f"wrote {os.path.relpath(path)} ({len(inc.times)} samples x {len(inc.series)} metrics)")
    if stale:
        print("out of date (run generate.py): " + ", ".join(os.path.relpath(p) for p in stale), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
