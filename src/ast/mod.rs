//! The syntax tree: what the author wrote, with spans, before any name is resolved or any value checked.
//!
//! Produced by `syntax::parse`, consumed by `analyze`. Pest types never appear here.

mod expr;
mod ident;
mod level;
mod quantity;
mod runbook;
mod step;
mod text;
mod trigger;

pub use expr::{BinOp, Expr, ExprKind, Matching, UnOp};
pub use ident::Ident;
pub use level::{Level, LevelItem, OnFailure};
pub use quantity::{DurationError, Quantity, QuantityValue};
pub use runbook::{Channel, Item, ItemKind, MetricDecl, Runbook};
pub use step::{Modifier, ModifierKind, Parallel, RestoreFrom, Step, StepKind, StepNode, VerifyProbe};
pub use text::{Text, TextPart};
pub use trigger::{ClearWhen, Hold, LabelEntry, NoDataPolicy, OnNoData, Target, Trigger, TriggerAttr, TriggerAttrs};
