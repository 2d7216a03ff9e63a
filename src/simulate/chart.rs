//! `--chart OUT.svg`: the incident at a glance. One panel per metric a trigger reads (the series, each
//! trigger's threshold dashed, pending intervals shaded amber and firing intervals red), and a strip at the
//! bottom with one marker per level run.
//!
//! The colours are part of the contract with tests/simulate_chart.rs, which counts elements by them.

use plotters::prelude::*;

use super::{Simulation, TriggerState};
use crate::diagnostic::{Code, Diagnostic};
use crate::plan::{Condition, Value};
use crate::source::SeriesSet;
use crate::span::Span;

pub const METRIC_COLOR: RGBColor = RGBColor(31, 119, 180);
pub const THRESHOLD_COLOR: RGBColor = RGBColor(255, 127, 14);
pub const PENDING_COLOR: RGBColor = RGBColor(255, 200, 60);
pub const FIRING_COLOR: RGBColor = RGBColor(214, 39, 40);
pub const RUN_COLOR: RGBColor = RGBColor(148, 103, 189);

const WIDTH: u32 = 1100;
const PANEL_HEIGHT: u32 = 230;
const RUN_STRIP_HEIGHT: u32 = 120;

/// The most series drawn in one panel; a caption says how many more there are.
const MAX_LINES: usize = 20;

/// A trigger's series' state over an interval `[from, to)` of evaluation time.
struct Interval {
    trigger: String,
    state: TriggerState,
    from: i64,
    to: i64,
}

/// The metrics drawn, one panel each: the first metric each trigger reads.
fn panel_metrics(plan: &crate::plan::Plan) -> Vec<String> {
    let mut metrics: Vec<String> = Vec::new();
    for t in &plan.triggers {
        if let Some(m) = first_metric(&t.condition)
            && !metrics.contains(&m)
        {
            metrics.push(m);
        }
    }
    metrics
}

fn x_range(sim: &Simulation) -> std::ops::Range<f64> {
    sim.start_ms as f64 / 1000.0..(sim.end_ms.max(sim.start_ms + 1000)) as f64 / 1000.0
}

/// Refuses a chart whose value axis cannot be drawn: finite values so far apart (such as `1e308` and
/// `-1e308`) that the span between them is not a number a chart can divide.
pub fn check_chart(sim: &Simulation, plan: &crate::plan::Plan, series: &SeriesSet) -> Result<(), Diagnostic> {
    for metric in panel_metrics(plan) {
        let (lines, thresholds) = panel_values(&metric, plan, series, &x_range(sim));
        let points: Vec<(f64, f64)> = lines.into_iter().flatten().collect();
        if y_range(&points, &thresholds).is_none() {
            return Err(Diagnostic::new(
                Code::ChartRange,
                Span::new(0, 0),
                format!("the values of `{metric}` are too far apart to draw on one axis"),
            )
            .help("leave out `--chart`, or narrow `--start`/`--end` to the samples that matter"));
        }
    }
    Ok(())
}

pub fn render_svg(sim: &Simulation, plan: &crate::plan::Plan, series: &SeriesSet) -> Result<String, String> {
    // Each trigger is drawn in the panel of the first metric it reads.
    let metrics = panel_metrics(plan);
    let intervals = intervals(sim);
    let height = PANEL_HEIGHT * metrics.len().max(1) as u32 + RUN_STRIP_HEIGHT;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (panels, strip) = root.split_vertically(height - RUN_STRIP_HEIGHT);
        let areas = if metrics.is_empty() { Vec::new() } else { panels.split_evenly((metrics.len(), 1)) };
        let x_range = x_range(sim);
        for (metric, area) in metrics.iter().zip(areas.iter()) {
            draw_panel(area, metric, plan, series, &intervals, x_range.clone())?;
        }
        draw_runs(&strip, sim, x_range)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    metric: &str,
    plan: &crate::plan::Plan,
    series: &SeriesSet,
    intervals: &[Interval],
    x_range: std::ops::Range<f64>,
) -> Result<(), String> {
    let (lines, thresholds) = panel_values(metric, plan, series, &x_range);
    let points: Vec<(f64, f64)> = lines.iter().flatten().copied().collect();
    let total = series.family(metric).len();
    let caption = if total > MAX_LINES {
        format!("{metric} (first {MAX_LINES} of {total} series)")
    } else if total > 1 {
        format!("{metric} ({total} series)")
    } else {
        metric.to_string()
    };
    let triggers: Vec<&crate::plan::Trigger> =
        plan.triggers.iter().filter(|t| first_metric(&t.condition).as_deref() == Some(metric)).collect();
    let y_range = y_range(&points, &thresholds)
        .ok_or_else(|| format!("the values of `{metric}` are too far apart to draw on one axis"))?;

    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range.clone(), y_range.clone())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("seconds")
        .x_labels(8)
        .y_labels(5)
        .draw()
        .map_err(|e| e.to_string())?;

    let names: Vec<&str> = triggers.iter().map(|t| t.name.as_str()).collect();
    for iv in intervals.iter().filter(|iv| names.contains(&iv.trigger.as_str())) {
        let color = match iv.state {
            TriggerState::Firing => FIRING_COLOR.mix(0.25),
            TriggerState::Pending => PENDING_COLOR.mix(0.35),
            TriggerState::Inactive => continue,
        };
        let rect = Rectangle::new(
            [(iv.from as f64 / 1000.0, y_range.start), (iv.to as f64 / 1000.0, y_range.end)],
            color.filled(),
        );
        chart.draw_series(std::iter::once(rect)).map_err(|e| e.to_string())?;
    }
    for line in lines {
        chart.draw_series(LineSeries::new(line, METRIC_COLOR.stroke_width(2))).map_err(|e| e.to_string())?;
    }
    for (name, c) in &thresholds {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x_range.start, *c), (x_range.end, *c)],
                6,
                4,
                THRESHOLD_COLOR.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{name} {}", crate::plan::format_number(*c)),
                (x_range.start, *c),
                ("sans-serif", 12).into_font().color(&THRESHOLD_COLOR),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Each trigger's name with the constant it compares the panel's metric with.
type Thresholds = Vec<(String, f64)>;

/// A panel's lines, one per series (the first [`MAX_LINES`]), within the x range (finite values only), and
/// its triggers' thresholds.
fn panel_values(
    metric: &str,
    plan: &crate::plan::Plan,
    series: &SeriesSet,
    x_range: &std::ops::Range<f64>,
) -> (Vec<Vec<(f64, f64)>>, Thresholds) {
    let points: Vec<Vec<(f64, f64)>> = series
        .family(metric)
        .iter()
        .take(MAX_LINES)
        .map(|s| {
            s.t_ms
                .iter()
                .zip(&s.v)
                .filter(|(t, v)| {
                    v.is_finite() && **t as f64 / 1000.0 >= x_range.start && **t as f64 / 1000.0 <= x_range.end
                })
                .map(|(t, v)| (*t as f64 / 1000.0, *v))
                .collect()
        })
        .map(|line| downsample(line, x_range, WIDTH as usize))
        .collect();
    let thresholds: Vec<(String, f64)> = plan
        .triggers
        .iter()
        .filter(|t| first_metric(&t.condition).as_deref() == Some(metric))
        .filter_map(|t| threshold(&t.condition, metric).map(|c| (t.name.clone(), c)))
        .collect();
    (points, thresholds)
}

/// A line of more points than its pixels can show, cut to at most four per pixel column: the first, the
/// lowest, the highest and the last, in time order, so that a spike one sample wide still reaches its
/// height. A line of few points is drawn as it is.
fn downsample(points: Vec<(f64, f64)>, x_range: &std::ops::Range<f64>, columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= 4 * columns || columns == 0 {
        return points;
    }
    let span = (x_range.end - x_range.start).max(f64::MIN_POSITIVE);
    let column = |x: f64| (((x - x_range.start) / span * columns as f64) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns);
    let mut i = 0;
    while i < points.len() {
        let c = column(points[i].0);
        let j = i + points[i..].iter().take_while(|p| column(p.0) == c).count();
        let group = &points[i..j];
        let (mut lo, mut hi) = (0, 0);
        for (k, p) in group.iter().enumerate() {
            if p.1 < group[lo].1 {
                lo = k;
            }
            if p.1 > group[hi].1 {
                hi = k;
            }
        }
        let mut keep = [0, lo, hi, group.len() - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(group[k]);
                last = k;
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// The value axis: the values and thresholds with a margin; `None` when the axis's span overflows.
fn y_range(points: &[(f64, f64)], thresholds: &Thresholds) -> Option<std::ops::Range<f64>> {
    let mut lo = points.iter().map(|p| p.1).chain(thresholds.iter().map(|t| t.1)).fold(f64::INFINITY, f64::min);
    let mut hi = points.iter().map(|p| p.1).chain(thresholds.iter().map(|t| t.1)).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    // A flat series still gets a readable axis around its value.
    let pad = if hi - lo < 1e-12 { hi.abs().max(1.0) * 0.5 } else { ((hi - lo) * 0.1).max(hi.abs() * 0.05) };
    let range = (lo - pad)..(hi + pad);
    (range.start.is_finite() && range.end.is_finite() && (range.end - range.start).is_finite()).then_some(range)
}

fn draw_runs(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    sim: &Simulation,
    x_range: std::ops::Range<f64>,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .caption("level runs", ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().disable_mesh().disable_y_axis().x_labels(8).draw().map_err(|e| e.to_string())?;
    let x_span = chart.x_range().end - chart.x_range().start;
    for (i, r) in sim.runs.iter().enumerate() {
        let from = r.t_ms as f64 / 1000.0;
        // A run that takes no simulated time still gets a visible marker.
        let to = (r.end_ms as f64 / 1000.0).max(from + x_span * 0.004);
        let y = if i % 2 == 0 { 0.15 } else { 0.55 };
        chart
            .draw_series(std::iter::once(Rectangle::new([(from, y), (to, y + 0.3)], RUN_COLOR.mix(0.8).filled())))
            .map_err(|e| e.to_string())?;
        let outcome = match (r.outcome, r.escalated_to) {
            (super::RunOutcome::Escalated, Some(to)) => format!("-> L{to}"),
            (super::RunOutcome::Succeeded, _) => "ok".to_string(),
            _ => "failed".to_string(),
        };
        chart
            .draw_series(std::iter::once(Text::new(
                format!("L{} {outcome}", r.level),
                (from, y + 0.42),
                ("sans-serif", 12),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Pending and firing intervals per trigger from the transitions; an interval still open at the end of the
/// simulation closes at its end.
fn intervals(sim: &Simulation) -> Vec<Interval> {
    type Key<'a> = (&'a str, &'a crate::plan::Labels);
    let mut open: std::collections::BTreeMap<Key<'_>, (TriggerState, i64)> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for t in &sim.transitions {
        if let Some((state, from)) = open.remove(&(t.trigger.as_str(), &t.labels)) {
            out.push(Interval { trigger: t.trigger.clone(), state, from, to: t.t_ms });
        }
        if t.state != TriggerState::Inactive {
            open.insert((&t.trigger, &t.labels), (t.state, t.t_ms));
        }
    }
    for ((trigger, _), (state, from)) in open {
        out.push(Interval { trigger: trigger.to_string(), state, from, to: sim.end_ms });
    }
    out
}

fn first_metric(c: &Condition) -> Option<String> {
    let mut m = Vec::new();
    c.metrics(&mut m);
    m.into_iter().next()
}

/// The constant a condition compares `metric` with, when it is that simple (`m > 0.05`, `0.05 < m`).
fn threshold(c: &Condition, metric: &str) -> Option<f64> {
    match c {
        Condition::Compare { lhs: Value::Metric { name, .. }, rhs: Value::Number { value }, .. } if name == metric => {
            Some(*value)
        }
        Condition::Compare { lhs: Value::Number { value }, rhs: Value::Metric { name, .. }, .. } if name == metric => {
            Some(*value)
        }
        Condition::And { lhs, rhs, .. } | Condition::Or { lhs, rhs, .. } => {
            threshold(lhs, metric).or_else(|| threshold(rhs, metric))
        }
        Condition::Not { operand } => threshold(operand, metric),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::downsample;

    #[test]
    fn a_long_line_keeps_at_most_four_points_per_column_and_every_spike() {
        let mut points: Vec<(f64, f64)> = (0..100_000).map(|k| (k as f64, 1.0)).collect();
        points[54_321].1 = 500.0;
        points[77_777].1 = -3.0;
        let out = downsample(points, &(0.0..99_999.0), 1000);
        assert!(out.len() <= 4000, "{}", out.len());
        assert!(out.contains(&(54_321.0, 500.0)) && out.contains(&(77_777.0, -3.0)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
        let few: Vec<(f64, f64)> = (0..50).map(|k| (k as f64, k as f64)).collect();
        assert_eq!(downsample(few.clone(), &(0.0..49.0), 1000), few);
    }
}
