//! Plan conditions to PromQL alerting expressions.
//!
//! A condition becomes an instant-vector expression that returns a series exactly when the condition holds
//! (a PromQL comparison without `bool` is a filter). The rules:
//!
//! - a declared metric is its query: bare when the query is a plain selector (`x`, `up{job="a"}`), else
//!   parenthesised, `(QUERY)`;
//! - numbers are scalars; arithmetic and comparisons between a vector and a scalar map directly; between
//!   two vectors they match `on()` (each metric is one series, and its labels need not agree with the
//!   other's), which also leaves the result without labels;
//! - operations on scalars alone are computed here (PromQL refuses a comparison of two scalars without
//!   `bool`), so a condition may fold to always true or always false;
//! - a window function over a plain selector takes a range selector, `avg_over_time(x[5m])`, exactly what
//!   the simulation computes; over any other query it takes a subquery at the group's interval,
//!   `avg_over_time((QUERY)[5m:15s])`, which samples the query's results instead of raw samples;
//! - `offset` follows a selector or a subquery; the instant value of a query that is not a plain selector is
//!   reached through `last_over_time((QUERY)[1ms:1ms] offset D)`, the query's value at `t - D`;
//! - `and` / `or` become `and on()` / `or on()`; `not C` becomes `vector(1) unless on() (C)`.

use crate::plan::{ArithOp, Condition, Plan, Value, WindowFunc, format_duration, format_number};

/// PromQL binding strengths, loosest first (`or` < `and`/`unless` < comparisons < `+ -` < `* /`).
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_CMP: u8 = 3;
const P_ADD: u8 = 4;
const P_MUL: u8 = 5;
/// Unary minus: always parenthesised when it is an operand, so its PromQL precedence never matters.
const P_NEG: u8 = 6;
const P_ATOM: u8 = 7;

/// Why a condition cannot be written in PromQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unexpressible {
    /// The metric has no `promql` query, so Prometheus has nothing to evaluate.
    UndeclaredMetric(String),
}

impl std::fmt::Display for Unexpressible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unexpressible::UndeclaredMetric(m) => write!(
                f,
                "metric `{m}` has no PromQL query; declare it with `metric {m} = promql \"...\"` to export this trigger"
            ),
        }
    }
}

/// A translated value: PromQL text, whether it is an instant vector (else a scalar), and how tightly its
/// outermost operator binds.
#[derive(Clone, Debug)]
enum Expr {
    Scalar(f64),
    Vector { text: String, prec: u8 },
}

/// A translated condition.
#[derive(Clone, Debug)]
enum Cond {
    Always(bool),
    Vector { text: String, prec: u8 },
}

/// Translates conditions of one plan.
pub struct Translator<'p> {
    plan: &'p Plan,
    /// The group's evaluation interval, the step of subqueries.
    interval: String,
}

impl<'p> Translator<'p> {
    pub fn new(plan: &'p Plan) -> Self {
        Translator { plan, interval: format_duration(plan.evaluation_interval_ms.max(1)) }
    }

    /// The PromQL expression for a trigger's condition.
    pub fn condition(&self, c: &Condition) -> Result<String, Unexpressible> {
        Ok(match self.cond(c)? {
            Cond::Always(true) => "vector(1)".to_string(),
            // An empty vector: the alert never fires.
            Cond::Always(false) => "vector(1) < 0".to_string(),
            Cond::Vector { text, .. } => text,
        })
    }

    fn query(&self, metric: &str) -> Result<&'p str, Unexpressible> {
        self.plan
            .declared_query(metric)
            .map(str::trim)
            .ok_or_else(|| Unexpressible::UndeclaredMetric(metric.to_string()))
    }

    fn cond(&self, c: &Condition) -> Result<Cond, Unexpressible> {
        Ok(match c {
            Condition::Compare { op, lhs, rhs, .. } => {
                let (l, r) = (self.value(lhs)?, self.value(rhs)?);
                match (l, r) {
                    (Expr::Scalar(a), Expr::Scalar(b)) => Cond::Always(op.test(a, b)),
                    (l, r) => {
                        let matching =
                            if matches!((&l, &r), (Expr::Vector { .. }, Expr::Vector { .. })) { " on()" } else { "" };
                        let text =
                            format!("{} {}{matching} {}", operand(&l, P_CMP), op.symbol(), operand(&r, P_CMP + 1));
                        Cond::Vector { text, prec: P_CMP }
                    }
                }
            }
            Condition::And { lhs, rhs, .. } => match (self.cond(lhs)?, self.cond(rhs)?) {
                (Cond::Always(false), _) | (_, Cond::Always(false)) => Cond::Always(false),
                (Cond::Always(true), other) | (other, Cond::Always(true)) => other,
                (l, r) => Cond::Vector {
                    text: format!("{} and on() {}", cond_operand(&l, P_AND), cond_operand(&r, P_AND + 1)),
                    prec: P_AND,
                },
            },
            Condition::Or { lhs, rhs, .. } => match (self.cond(lhs)?, self.cond(rhs)?) {
                (Cond::Always(true), _) | (_, Cond::Always(true)) => Cond::Always(true),
                (Cond::Always(false), other) | (other, Cond::Always(false)) => other,
                (l, r) => Cond::Vector {
                    text: format!("{} or on() {}", cond_operand(&l, P_OR), cond_operand(&r, P_OR + 1)),
                    prec: P_OR,
                },
            },
            Condition::Unless { lhs, rhs, .. } => match (self.cond(lhs)?, self.cond(rhs)?) {
                (Cond::Always(false), _) => Cond::Always(false),
                (l, Cond::Always(false)) => l,
                (_, Cond::Always(true)) => Cond::Always(false),
                (l, r) => Cond::Vector {
                    text: format!("{} unless on() {}", cond_operand(&l, P_AND), cond_operand(&r, P_AND + 1)),
                    prec: P_AND,
                },
            },
            Condition::Not { operand } => match self.cond(operand)? {
                Cond::Always(b) => Cond::Always(!b),
                Cond::Vector { text, .. } => {
                    Cond::Vector { text: format!("vector(1) unless on() ({text})"), prec: P_AND }
                }
            },
        })
    }

    fn value(&self, v: &Value) -> Result<Expr, Unexpressible> {
        Ok(match v {
            Value::Number { value } => Expr::Scalar(*value),
            Value::Metric { name, offset_ms } => {
                let query = self.query(name)?;
                let text = if *offset_ms == 0 {
                    if is_plain_selector(query) { query.to_string() } else { parenthesised(query) }
                } else if is_plain_selector(query) {
                    format!("{query} offset {}", format_duration(*offset_ms))
                } else {
                    format!("last_over_time({}[1ms:1ms] offset {})", parenthesised(query), format_duration(*offset_ms))
                };
                // `x offset 1h` is one selector, but reads better in parentheses inside arithmetic.
                let prec = if *offset_ms == 0 || !is_plain_selector(query) { P_ATOM } else { P_CMP };
                Expr::Vector { text, prec }
            }
            Value::Window { func, metric, window_ms, offset_ms, quantile } => {
                let query = self.query(metric)?;
                let window = format_duration(*window_ms);
                let range = if is_plain_selector(query) {
                    format!("{query}[{window}]")
                } else {
                    format!("{}[{window}:{}]", parenthesised(query), self.interval)
                };
                let offset =
                    if *offset_ms > 0 { format!(" offset {}", format_duration(*offset_ms)) } else { String::new() };
                let args = match (func, quantile) {
                    (WindowFunc::QuantileOver, Some(q)) => format!("{}, {range}{offset}", format_number(*q)),
                    _ => format!("{range}{offset}"),
                };
                Expr::Vector { text: format!("{}({args})", func.promql()), prec: P_ATOM }
            }
            Value::Abs { operand } => match self.value(operand)? {
                Expr::Scalar(a) => Expr::Scalar(a.abs()),
                Expr::Vector { text, .. } => Expr::Vector { text: format!("abs({text})"), prec: P_ATOM },
            },
            Value::Neg { operand } => match self.value(operand)? {
                Expr::Scalar(a) => Expr::Scalar(-a),
                e @ Expr::Vector { .. } => Expr::Vector { text: format!("-{}", operand_text(&e, P_ATOM)), prec: P_NEG },
            },
            Value::Arith { op, lhs, rhs, .. } => match (self.value(lhs)?, self.value(rhs)?) {
                (Expr::Scalar(a), Expr::Scalar(b)) => Expr::Scalar(op.apply(a, b)),
                (l, r) => {
                    let p = match op {
                        ArithOp::Add | ArithOp::Sub => P_ADD,
                        ArithOp::Mul | ArithOp::Div => P_MUL,
                    };
                    let matching =
                        if matches!((&l, &r), (Expr::Vector { .. }, Expr::Vector { .. })) { " on()" } else { "" };
                    Expr::Vector {
                        text: format!("{} {}{matching} {}", operand(&l, p), op.symbol(), operand(&r, p + 1)),
                        prec: p,
                    }
                }
            },
        })
    }
}

/// An operand of a binary operator of strength `min`: parenthesised when it binds more loosely, and
/// always when it is a unary minus or a negative number. (`NaN`, `+Inf` and `-Inf` are PromQL literals.)
fn operand(e: &Expr, min: u8) -> String {
    match e {
        Expr::Scalar(v) if *v < 0.0 || (*v == 0.0 && v.is_sign_negative()) => format!("({})", format_number(*v)),
        Expr::Scalar(v) => format_number(*v),
        Expr::Vector { .. } => operand_text(e, min),
    }
}

fn operand_text(e: &Expr, min: u8) -> String {
    match e {
        Expr::Scalar(v) => format_number(*v),
        Expr::Vector { text, prec } => {
            if *prec < min || *prec == P_NEG {
                format!("({text})")
            } else {
                text.clone()
            }
        }
    }
}

fn cond_operand(c: &Cond, min: u8) -> String {
    match c {
        Cond::Always(true) => "vector(1)".to_string(),
        Cond::Always(false) => "(vector(1) < 0)".to_string(),
        Cond::Vector { text, prec } => {
            if *prec < min {
                format!("({text})")
            } else {
                text.clone()
            }
        }
    }
}

/// `(QUERY)`, with the closing parenthesis on its own line when the query could end in a `#` comment.
fn parenthesised(query: &str) -> String {
    if query.contains('#') { format!("({query}\n)") } else { format!("({query})") }
}

/// Whether `query` is one instant vector selector: an optional metric name and an optional `{...}` of label
/// matchers with quoted values, and nothing else (no offset, no `@`, no function).
pub fn is_plain_selector(query: &str) -> bool {
    let s = query.trim();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
        i += 1;
    }
    let has_name = i > 0 && !b[0].is_ascii_digit();
    if i > 0 && !has_name {
        return false;
    }
    // Keywords that PromQL would read as operators or functions, not metric names.
    if has_name && matches!(&s[..i], "and" | "or" | "unless" | "offset" | "bool" | "on" | "ignoring" | "by" | "without")
    {
        return false;
    }
    let mut j = i;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    if j == b.len() {
        return has_name;
    }
    if b[j] != b'{' {
        return false;
    }
    j += 1;
    let mut matchers = 0;
    loop {
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b',') {
            j += 1;
        }
        match b.get(j) {
            None => return false,
            Some(b'}') => {
                j += 1;
                break;
            }
            _ => {}
        }
        let start = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        if j == start || b[start].is_ascii_digit() {
            return false;
        }
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let rest = &s[j..];
        let op = ["=~", "!~", "!=", "="].into_iter().find(|op| rest.starts_with(op));
        let Some(op) = op else { return false };
        j += op.len();
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let Some(&quote) = b.get(j) else { return false };
        if !matches!(quote, b'"' | b'\'' | b'`') {
            return false;
        }
        j += 1;
        loop {
            match b.get(j) {
                None => return false,
                Some(&c) if c == quote => {
                    j += 1;
                    break;
                }
                Some(b'\\') if quote != b'`' => j += 2,
                Some(_) => j += 1,
            }
        }
        matchers += 1;
    }
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    j == b.len() && (has_name || matchers > 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    fn translate(body: &str) -> Result<String, Unexpressible> {
        let text = format!(
            "runbook r {{\n metric x = promql \"x\"\n metric c = promql `c{{job=\"a\"}}`\n metric s = promql `sum(rate(y[1m]))`\n trigger t: {body} -> level 1\n level 1 {{ step shell \"true\" }}\n}}\n"
        );
        let compiled = crate::compile(&text);
        let plan = compiled.plan.unwrap_or_else(|| panic!("{body}: {:?}", compiled.diagnostics));
        Translator::new(&plan).condition(&plan.triggers[0].condition)
    }

    fn ok(body: &str) -> String {
        translate(body).unwrap()
    }

    #[test]
    fn selectors_are_recognised() {
        assert!(is_plain_selector("x"));
        assert!(is_plain_selector(" job:errors:rate5m "));
        assert!(is_plain_selector(r#"up{job="a", instance=~'b.*'}"#));
        assert!(is_plain_selector(r#"{__name__="x"}"#));
        assert!(is_plain_selector(r#"x{a="}\"{"}"#));
        assert!(!is_plain_selector("sum(x)"));
        assert!(!is_plain_selector("x offset 1h"));
        assert!(!is_plain_selector("x[5m]"));
        assert!(!is_plain_selector("x > 1"));
        assert!(!is_plain_selector("1"));
        assert!(!is_plain_selector("{}"));
        assert!(!is_plain_selector(r#"x{a="b""#));
        assert!(!is_plain_selector("and"));
        assert!(!is_plain_selector(""));
    }

    #[test]
    fn comparisons_and_arithmetic() {
        assert_eq!(ok("x > 5%"), "x > 0.05");
        assert_eq!(ok("s > 5%"), "(sum(rate(y[1m]))) > 0.05");
        assert_eq!(ok("x > c"), r#"x > on() c{job="a"}"#);
        assert_eq!(ok("x / c > 0.5"), r#"x / on() c{job="a"} > 0.5"#);
        assert_eq!(ok("x * 2 + 1 > 3"), "x * 2 + 1 > 3");
        assert_eq!(ok("(x + 1) * 2 > 3"), "(x + 1) * 2 > 3");
        assert_eq!(ok("x - (c - 1) > 3"), r#"x - on() (c{job="a"} - 1) > 3"#);
        assert_eq!(ok("-x < -3"), "(-x) < (-3)");
        assert_eq!(ok("abs(x - 5) > 1"), "abs(x - 5) > 1");
        assert_eq!(ok("x > 2 * 3"), "x > 6");
        assert_eq!(ok("1 < x"), "1 < x");
    }

    #[test]
    fn windows_offsets_and_subqueries() {
        assert_eq!(ok("avg_over(x, 5m) > 1"), "avg_over_time(x[5m]) > 1");
        assert_eq!(ok("quantile_over(0.9, x, 2m) > 1"), "quantile_over_time(0.9, x[2m]) > 1");
        assert_eq!(ok("rate(x, 1m) offset 1h > 1"), "rate(x[1m] offset 1h) > 1");
        assert_eq!(ok("avg_over(s, 5m) > 1"), "avg_over_time((sum(rate(y[1m])))[5m:15s]) > 1");
        assert_eq!(ok("x offset 1h > 1"), "x offset 1h > 1");
        assert_eq!(ok("x offset 1h * 2 > 1"), "(x offset 1h) * 2 > 1");
        assert_eq!(ok("s offset 1h > 1"), "last_over_time((sum(rate(y[1m])))[1ms:1ms] offset 1h) > 1");
        assert_eq!(ok("x > 3 * avg_over(x, 10m) offset 10m"), "x > on() 3 * avg_over_time(x[10m] offset 10m)");
    }

    #[test]
    fn logic() {
        assert_eq!(ok("x > 2 and x < 5 or x == 9"), "x > 2 and on() x < 5 or on() x == 9");
        assert_eq!(ok("x > 2 and (x < 5 or x == 9)"), "x > 2 and on() (x < 5 or on() x == 9)");
        assert_eq!(ok("not x > 1"), "vector(1) unless on() (x > 1)");
        assert_eq!(ok("x > 0 and not c > 1"), r#"x > 0 and on() (vector(1) unless on() (c{job="a"} > 1))"#);
        assert_eq!(ok("not (x > 1 or c > 1)"), r#"vector(1) unless on() (x > 1 or on() c{job="a"} > 1)"#);
        assert_eq!(ok("1 > 0"), "vector(1)");
        assert_eq!(ok("1 < 0"), "vector(1) < 0");
        assert_eq!(ok("x > 1 or 1 > 0"), "vector(1)");
        assert_eq!(ok("x > 1 and 1 > 0"), "x > 1");
        assert_eq!(ok("not 1 > 0 or x > 1"), "x > 1");
    }

    #[test]
    fn undeclared_metrics_are_reported() {
        assert_eq!(translate("nope > 1"), Err(Unexpressible::UndeclaredMetric("nope".to_string())));
    }
}
