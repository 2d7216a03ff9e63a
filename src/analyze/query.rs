//! How many series a declared metric's PromQL query gives, and with which labels (`plan::Shape`), read from
//! the query with `promql-parser`: one series for an aggregation without `by`, the `by` labels for one with,
//! per series otherwise. The matching checks (`matching.rs`) and every consumer of `Metric.shape` rely on it.
//!
//! A query the parser cannot read is per series, with a warning: Prometheus is the judge of its own
//! language, and a query this parser does not know may still be valid there.

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr, LabelModifier};

use super::Analyzer;
use crate::diagnostic::{Code, Diagnostic};
use crate::plan::Shape;
use crate::span::Span;

/// Brackets nested deeper than this are not handed to the parser, whose tree (and our walk over it)
/// recurses once per level; the runbook's own nesting bound does not reach inside strings.
const MAX_QUERY_DEPTH: usize = 64;

/// Aggregations whose result is one series per group: one series without `by`.
const GROUPING: &[&str] = &["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "quantile"];
/// Aggregations that keep the series they select, with their labels.
const SELECTING: &[&str] = &["topk", "bottomk", "limitk", "limit_ratio"];

impl Analyzer<'_> {
    /// The shape of a metric's query; a warning at `span` when the query cannot be read.
    pub(super) fn query_shape(&mut self, query: &str, span: Span) -> Shape {
        if query.trim().is_empty() {
            return Shape::PerSeries;
        }
        let parsed = if depth(query) > MAX_QUERY_DEPTH {
            Err(format!("brackets nest more than {MAX_QUERY_DEPTH} deep"))
        } else {
            parser::parse(query)
        };
        match parsed {
            Ok(expr) => shape(&expr),
            Err(why) => {
                let why = why.lines().next().unwrap_or("").trim().to_string();
                self.push(
                    Diagnostic::new(
                        Code::QueryShapeUnknown,
                        span,
                        "the labels of this query's series could not be worked out",
                    )
                    .label(if why.is_empty() { "not read as PromQL".to_string() } else { format!("not read: {why}") })
                    .help(
                        "the metric counts as per series with unknown labels, so matching on it is not checked; \
                         check the query with `promtool` or Prometheus, which decide what PromQL means",
                    ),
                );
                Shape::PerSeries
            }
        }
    }

    /// A metric's shape: as its query says, or per series (an undeclared metric reads the input as it is).
    pub(super) fn metric_shape(&self, name: &str) -> Shape {
        self.metric_shapes.get(name).cloned().unwrap_or_default()
    }
}

/// The deepest nesting of `(`, `[` and `{` in `query`, quoted strings aside.
fn depth(query: &str) -> usize {
    let (mut depth, mut max, mut quote) = (0usize, 0usize, None);
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                max = max.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Sorted, each once; an empty list is one series.
fn labels(names: &[String]) -> Shape {
    let mut l = names.to_vec();
    l.sort();
    l.dedup();
    if l.is_empty() { Shape::Single } else { Shape::Labels(l) }
}

fn shape(expr: &Expr) -> Shape {
    match expr {
        Expr::Aggregate(a) => {
            let op = a.op.to_string();
            let op = op.as_str();
            if SELECTING.contains(&op) {
                return shape(&a.expr);
            }
            let mut by = match &a.modifier {
                None => Vec::new(),
                Some(LabelModifier::Include(l)) => l.labels.clone(),
                Some(LabelModifier::Exclude(_)) => return Shape::PerSeries,
            };
            if op == "count_values" {
                // The values become a label, named by the first argument.
                match a.param.as_deref() {
                    Some(Expr::StringLiteral(s)) => by.push(s.val.clone()),
                    _ => return Shape::PerSeries,
                }
            } else if !GROUPING.contains(&op) {
                return Shape::PerSeries;
            }
            labels(&by)
        }
        Expr::Call(call) => match call.func.name {
            "scalar" | "vector" | "absent" | "absent_over_time" | "time" | "pi" => Shape::Single,
            "label_replace" | "label_join" => Shape::PerSeries,
            "histogram_quantile" | "histogram_fraction" => {
                match call.args.args.iter().find(|a| is_series(a)).map(|a| shape(a)) {
                    Some(Shape::Labels(l)) => labels(&l.into_iter().filter(|n| n != "le").collect::<Vec<_>>()),
                    Some(s) => s,
                    None => Shape::Single,
                }
            }
            // Every other function keeps the series of its vector or range argument.
            _ => call.args.args.iter().find(|a| is_series(a)).map_or(Shape::Single, |a| shape(a)),
        },
        Expr::Binary(b) => {
            let (l, r) = (&*b.lhs, &*b.rhs);
            if l.value_type() == ValueType::Scalar {
                return if r.value_type() == ValueType::Scalar { Shape::Single } else { shape(r) };
            }
            if r.value_type() == ValueType::Scalar {
                return shape(l);
            }
            let (ls, rs) = (shape(l), shape(r));
            if b.op.is_set_operator() {
                // `and` and `unless` keep the left side's series; `or` adds the right's.
                return match b.op.to_string().as_str() {
                    "or" if ls != rs => Shape::PerSeries,
                    _ => ls,
                };
            }
            // group_left / group_right: the labels depend on the data.
            if b.modifier.as_ref().is_some_and(|m| m.card.labels().is_some()) {
                return Shape::PerSeries;
            }
            // One-to-one: `on(...)` keeps the listed labels, `ignoring(...)` drops them, the default keeps
            // the left side's (PromQL's resultMetric).
            match b.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
                None if ls == rs => ls,
                None => Shape::PerSeries,
                Some(LabelModifier::Include(on)) => labels(&on.labels),
                Some(LabelModifier::Exclude(ignoring)) => match ls {
                    Shape::Labels(l) => {
                        labels(&l.into_iter().filter(|n| !ignoring.labels.contains(n)).collect::<Vec<_>>())
                    }
                    Shape::Single => Shape::Single,
                    _ => Shape::PerSeries,
                },
            }
        }
        Expr::Paren(p) => shape(&p.expr),
        Expr::Unary(u) => shape(&u.expr),
        Expr::Subquery(s) => shape(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Shape::Single,
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) | Expr::Extension(_) => Shape::PerSeries,
    }
}

/// Whether a function argument is series (an instant vector or a range), not a number or a string.
fn is_series(e: &Expr) -> bool {
    matches!(e.value_type(), ValueType::Vector | ValueType::Matrix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(q: &str) -> Shape {
        shape(&parser::parse(q).expect("parses"))
    }

    fn l(names: &[&str]) -> Shape {
        Shape::Labels(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn aggregations() {
        assert_eq!(of("sum(rate(errors_total[5m]))"), Shape::Single);
        assert_eq!(of("max by (mountpoint, instance) (x)"), l(&["instance", "mountpoint"]));
        assert_eq!(of("sum(x) by (job)"), l(&["job"]));
        assert_eq!(of("sum without (cpu) (x)"), Shape::PerSeries);
        assert_eq!(of("topk(3, sum by (instance) (x))"), l(&["instance"]));
        assert_eq!(of("quantile by (job) (0.9, x)"), l(&["job"]));
        assert_eq!(of("count_values(\"version\", build_info)"), l(&["version"]));
        assert_eq!(of("sum by () (x)"), Shape::Single);
    }

    #[test]
    fn functions() {
        assert_eq!(of("scalar(sum(x))"), Shape::Single);
        assert_eq!(of("vector(1)"), Shape::Single);
        assert_eq!(of("absent(up{job=\"a\"})"), Shape::Single);
        assert_eq!(of("histogram_quantile(0.99, sum by (le, job) (rate(h_bucket[5m])))"), l(&["job"]));
        assert_eq!(of("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))"), Shape::Single);
        assert_eq!(of("abs(sum by (instance) (x))"), l(&["instance"]));
        assert_eq!(of("clamp_max(sum by (a) (x), 1)"), l(&["a"]));
        assert_eq!(of("rate(x[5m])"), Shape::PerSeries);
        assert_eq!(of("label_replace(sum by (a) (x), \"b\", \"$1\", \"a\", \"(.*)\")"), Shape::PerSeries);
        assert_eq!(of("max_over_time(sum(x)[10m:1m])"), Shape::Single);
    }

    #[test]
    fn binary_operators() {
        assert_eq!(of("1 - sum(a) / sum(b)"), Shape::Single);
        assert_eq!(of("sum by (i) (a) / sum by (i) (b)"), l(&["i"]));
        assert_eq!(of("sum by (i) (a) / sum by (j) (b)"), Shape::PerSeries);
        assert_eq!(of("a / on(i, j) b"), l(&["i", "j"]));
        assert_eq!(of("sum by (i, le) (a) / ignoring(le) sum by (i) (b)"), l(&["i"]));
        assert_eq!(of("a / on(i) group_left b"), Shape::PerSeries);
        assert_eq!(of("sum by (i) (a) > 0.9"), l(&["i"]));
        assert_eq!(of("sum by (i) (a) and b"), l(&["i"]));
        assert_eq!(of("(sum(a))"), Shape::Single);
        assert_eq!(of("up"), Shape::PerSeries);
        assert_eq!(of("42"), Shape::Single);
    }

    #[test]
    fn depth_ignores_quoted_brackets() {
        assert_eq!(depth("sum(rate(x{a=\"((((\"}[5m]))"), 3);
    }
}
