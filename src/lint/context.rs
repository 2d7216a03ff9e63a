//! What a rule reads: the compiled plan (resolved facts, defaults filled in) paired item by item with the
//! syntax tree (where each thing was written), so that a rule reasons over the plan and points at the text.
//!
//! INVARIANT: built only from a runbook that compiled, so the plan and the tree line up one to one: the plan's
//! triggers are the tree's triggers in order, and step ids follow the tree's steps (analysis numbers them
//! by position and drops nothing when there is no error).

use std::collections::BTreeMap;

use crate::ast::{self, ItemKind, LevelItem, Modifier, ModifierKind, StepNode};
use crate::plan::{self, Action, Plan};
use crate::span::Span;

pub struct Context<'a> {
    pub text: &'a str,
    pub runbook: &'a ast::Runbook,
    pub plan: &'a Plan,
    pub triggers: Vec<TriggerRef<'a>>,
    /// In plan order (by level number).
    pub levels: Vec<LevelRef<'a>>,
    /// Declared channels and metrics, as written.
    pub channels: Vec<&'a ast::Channel>,
    pub metrics: Vec<&'a ast::MetricDecl>,
}

#[derive(Clone, Copy)]
pub struct TriggerRef<'a> {
    pub plan: &'a plan::Trigger,
    pub ast: &'a ast::Trigger,
}

pub struct LevelRef<'a> {
    pub plan: &'a plan::Level,
    pub ast: &'a ast::Level,
    /// Every step in order, `parallel` groups and the steps inside them included (a group comes before its
    /// children).
    pub steps: Vec<StepRef<'a>>,
}

#[derive(Clone, Copy)]
pub struct StepRef<'a> {
    pub plan: &'a plan::Step,
    pub ast: AstStep<'a>,
    /// 0 for a step of the level itself, 1 inside one `parallel` group, and so on.
    pub depth: usize,
}

#[derive(Clone, Copy)]
pub enum AstStep<'a> {
    Step(&'a ast::Step),
    Parallel(&'a ast::Parallel),
}

impl<'a> Context<'a> {
    pub fn new(text: &'a str, runbook: &'a ast::Runbook, plan: &'a Plan) -> Self {
        let mut ast_triggers = Vec::new();
        let mut ast_levels: BTreeMap<u32, &ast::Level> = BTreeMap::new();
        let mut channels = Vec::new();
        let mut metrics = Vec::new();
        for item in &runbook.items {
            match &item.kind {
                ItemKind::Trigger(t) => ast_triggers.push(&**t),
                ItemKind::Level(l) => {
                    if let Some(n) = level_number(l) {
                        ast_levels.entry(n).or_insert(l);
                    }
                }
                ItemKind::Channel(c) => channels.push(c),
                ItemKind::Metric(m) => metrics.push(m),
                _ => {}
            }
        }
        let triggers =
            plan.triggers.iter().zip(ast_triggers).map(|(plan, ast)| TriggerRef { plan, ast }).collect::<Vec<_>>();
        let levels = plan
            .levels
            .iter()
            .filter_map(|plan| {
                let ast = *ast_levels.get(&plan.number)?;
                let nodes: Vec<&StepNode> = ast
                    .items
                    .iter()
                    .filter_map(|i| if let LevelItem::Step(node) = i { Some(node) } else { None })
                    .collect();
                let mut steps = Vec::new();
                pair_steps(&plan.steps, &nodes, 0, &mut steps);
                Some(LevelRef { plan, ast, steps })
            })
            .collect();
        Context { text, runbook, plan, triggers, levels, channels, metrics }
    }

    pub fn level(&self, number: u32) -> Option<&LevelRef<'a>> {
        self.levels.iter().find(|l| l.plan.number == number)
    }

    /// The source text of a span.
    pub fn snippet(&self, span: Span) -> &'a str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

fn level_number(level: &ast::Level) -> Option<u32> {
    match level.number.value {
        ast::QuantityValue::Number { value, integer: true } if !level.number.negative => Some(value as u32),
        _ => None,
    }
}

fn pair_steps<'a>(plan: &'a [plan::Step], nodes: &[&'a StepNode], depth: usize, out: &mut Vec<StepRef<'a>>) {
    for (step, node) in plan.iter().zip(nodes) {
        match (node, &step.action) {
            (StepNode::Parallel(p), Action::Parallel { steps }) => {
                out.push(StepRef { plan: step, ast: AstStep::Parallel(p), depth });
                let children: Vec<&StepNode> = p.children.iter().collect();
                pair_steps(steps, &children, depth + 1, out);
            }
            (StepNode::Step(s), _) => out.push(StepRef { plan: step, ast: AstStep::Step(s), depth }),
            // Cannot happen for a plan built from this tree; skipping keeps the pairing honest if it did.
            (StepNode::Parallel(_), _) => {}
        }
    }
}

impl<'a> TriggerRef<'a> {
    /// The trigger's name as written, or its condition for an anonymous trigger.
    pub fn name_span(&self) -> Span {
        self.ast.name.as_ref().map_or(self.ast.condition.span, |n| n.span)
    }

    /// The level the trigger starts, if it starts one.
    pub fn level(&self) -> Option<u32> {
        match self.plan.target {
            plan::Target::Level { level } => Some(level),
            plan::Target::Notify { .. } => None,
        }
    }

    /// Milliseconds from the first true evaluation to the evaluation where the trigger fires, on the
    /// evaluation grid.
    pub fn hold_ms(&self, interval_ms: u64) -> u64 {
        match self.plan.hold {
            plan::Hold::For { ms } => ms.div_ceil(interval_ms.max(1)) * interval_ms,
            plan::Hold::Consecutive { evaluations } => u64::from(evaluations.saturating_sub(1)) * interval_ms,
            // At the soonest, the Nth true evaluation of N in a row.
            plan::Hold::OfLast { n, .. } => u64::from(n.saturating_sub(1)) * interval_ms,
        }
    }
}

/// Which level option a rule wants to point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelOption {
    Deadline,
    Approval,
    Cooldown,
    MaxAttempts,
    OnFailure,
}

impl<'a> LevelRef<'a> {
    /// Where the level's header (`level N "title"`) is written.
    pub fn header_span(&self) -> Span {
        self.ast.header_span
    }

    pub fn option_span(&self, option: LevelOption) -> Option<Span> {
        self.ast.items.iter().find_map(|item| match (option, item) {
            (LevelOption::Deadline, LevelItem::Deadline(_, s))
            | (LevelOption::Approval, LevelItem::Approval(s))
            | (LevelOption::Cooldown, LevelItem::Cooldown(_, s))
            | (LevelOption::MaxAttempts, LevelItem::MaxAttempts(_, s))
            | (LevelOption::OnFailure, LevelItem::OnFailure(_, s)) => Some(*s),
            _ => None,
        })
    }

    /// Steps of the level itself, not inside a `parallel` group.
    pub fn top_steps(&self) -> impl Iterator<Item = &StepRef<'a>> {
        self.steps.iter().filter(|s| s.depth == 0)
    }
}

impl<'a> StepRef<'a> {
    /// The step's own words (`step shell "..."`) without modifiers, or the whole `parallel { ... }`.
    pub fn span(&self) -> Span {
        match self.ast {
            AstStep::Step(s) => s.head_span,
            AstStep::Parallel(p) => p.span,
        }
    }

    pub fn ast_step(&self) -> Option<&'a ast::Step> {
        match self.ast {
            AstStep::Step(s) => Some(s),
            AstStep::Parallel(_) => None,
        }
    }

    /// The first modifier of a kind (`timeout`, `retry`, ...), as written.
    pub fn modifier(&self, keyword: &str) -> Option<&'a Modifier> {
        self.ast_step()?.modifiers.iter().find(|m| m.kind.keyword() == keyword)
    }

    /// The span of a modifier, or of the step's head when it has none.
    pub fn modifier_or_head(&self, keyword: &str) -> Span {
        self.modifier(keyword).map_or(self.span(), |m| m.span)
    }

    /// The header modifiers of an http step, as written (name, value).
    pub fn headers(&self) -> Vec<(&'a ast::Text, &'a ast::Text)> {
        self.ast_step()
            .map(|s| {
                s.modifiers
                    .iter()
                    .filter_map(|m| if let ModifierKind::Header(n, v) = &m.kind { Some((n, v)) } else { None })
                    .collect()
            })
            .unwrap_or_default()
    }
}
