//! Expressions with normalised spacing: one space around binary operators and after `not`, none after
//! unary `-` or inside parentheses, `f(a, b)` for calls, `> on(a, b)` with the labels sorted.
//!
//! The author's parentheses are kept, and no others are added. That is always safe: the tree keeps every
//! parenthesised group (`ExprKind::Paren`), and precedence is applied to the flat token sequence, so
//! printing the tree in order gives the same tokens and therefore the same tree. Removing parentheses
//! would only be a matter of taste, and they often say what the author meant (`(a > 1) and (b > 1)`).

use super::literal;
use crate::ast::{Expr, ExprKind, UnOp};

pub(super) fn expr(src: &str, e: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, src, e);
    out
}

fn write(out: &mut String, src: &str, e: &Expr) {
    match &e.kind {
        ExprKind::Quantity(q) => out.push_str(&literal::quantity(src, q)),
        ExprKind::Metric { name, offset } => {
            out.push_str(&name.name);
            if let Some(q) = offset {
                out.push_str(" offset ");
                out.push_str(&literal::quantity(src, q));
            }
        }
        ExprKind::Call { name, args, offset } => {
            out.push_str(&name.name);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, src, arg);
            }
            out.push(')');
            if let Some(q) = offset {
                out.push_str(" offset ");
                out.push_str(&literal::quantity(src, q));
            }
        }
        ExprKind::Unary { op: UnOp::Not, operand, .. } => {
            out.push_str("not ");
            write(out, src, operand);
        }
        ExprKind::Unary { op: UnOp::Neg, operand, .. } => {
            out.push('-');
            write(out, src, operand);
        }
        ExprKind::Binary { op, matching, lhs, rhs, .. } => {
            write(out, src, lhs);
            out.push(' ');
            out.push_str(op.symbol());
            if let Some(m) = matching {
                // Labels sorted, as the plan holds them; no trailing comma.
                let mut labels: Vec<&str> = m.labels.iter().map(|l| l.name.as_str()).collect();
                labels.sort_unstable();
                out.push_str(&format!(" {}({})", m.keyword(), labels.join(", ")));
            }
            out.push(' ');
            write(out, src, rhs);
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            write(out, src, inner);
            out.push(')');
        }
    }
}
