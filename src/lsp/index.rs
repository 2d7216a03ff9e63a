//! The names of one runbook and every place each is written: metrics (declared and used in conditions),
//! channels (declared and notified), levels (declared, targeted by triggers, escalated to) and triggers.
//! Built from the syntax tree; go to definition, references, rename, hover and the outline read it.

use super::engine::{
    AstLevel, AstOnFailure, AstStep, AstTarget, AstTrigger, Expr, ExprKind, Ident, ItemKind, LevelItem, Runbook, Span,
    StepKind, StepNode, VerifyProbe,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    Metric,
    Channel,
    Level,
    Trigger,
}

/// One place a name is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub kind: NameKind,
    /// The name as the language knows it: the metric's or channel's identifier, the level's number.
    pub name: String,
    pub start: usize,
    pub end: usize,
    pub is_definition: bool,
}

/// A trigger, a level or a step as the outline shows it.
#[derive(Clone, Debug)]
pub struct Outline {
    pub kind: NameKind,
    pub name: String,
    pub detail: String,
    pub start: usize,
    pub end: usize,
    pub name_start: usize,
    pub name_end: usize,
    /// A level's steps: (id, what the step says, span).
    pub steps: Vec<(String, String, usize, usize)>,
}

#[derive(Clone, Debug, Default)]
pub struct Index {
    pub occurrences: Vec<Occurrence>,
    pub outline: Vec<Outline>,
    /// The runbook's name and span.
    pub runbook: Option<(String, usize, usize)>,
}

impl Index {
    pub fn new(runbook: &Runbook, text: &str) -> Index {
        let mut ix = Index {
            runbook: Some((runbook.name.name.clone(), runbook.span.start, runbook.span.end)),
            ..Index::default()
        };
        let mut anonymous = 0usize;
        for item in &runbook.items {
            match &item.kind {
                ItemKind::Metric(m) => ix.declaration(NameKind::Metric, &m.name, item.span, m.query.span, text),
                ItemKind::Channel(c) => ix.declaration(NameKind::Channel, &c.name, item.span, c.url.span, text),
                ItemKind::Trigger(t) => {
                    anonymous += 1;
                    ix.trigger(t, anonymous, text);
                }
                ItemKind::Level(l) => ix.level(l, text),
                _ => {}
            }
        }
        ix.occurrences.sort_by_key(|o| (o.start, o.end));
        ix
    }

    fn push(&mut self, kind: NameKind, name: &str, start: usize, end: usize, is_definition: bool) {
        self.occurrences.push(Occurrence { kind, name: name.to_string(), start, end, is_definition });
    }

    fn def(&mut self, kind: NameKind, name: &str, start: usize, end: usize) {
        self.push(kind, name, start, end, true);
    }

    /// A metric or channel: its name, and what it says (the query, the URL) as the outline's detail.
    fn declaration(&mut self, kind: NameKind, name: &Ident, item: Span, says: Span, text: &str) {
        self.def(kind, &name.name, name.span.start, name.span.end);
        self.outline.push(Outline {
            kind,
            name: name.name.clone(),
            detail: snippet(text, says.start, says.end),
            start: item.start,
            end: item.end,
            name_start: name.span.start,
            name_end: name.span.end,
            steps: Vec::new(),
        });
    }

    fn trigger(&mut self, t: &AstTrigger, position: usize, text: &str) {
        let (name, ns, ne) = match &t.name {
            Some(n) => (n.name.clone(), n.span.start, n.span.end),
            None => (format!("trigger_{position}"), t.condition.span.start, t.condition.span.end),
        };
        if t.name.is_some() {
            self.def(NameKind::Trigger, &name, ns, ne);
        }
        self.expr(&t.condition);
        match &t.target {
            AstTarget::Level { number, .. } => {
                let n = level_number(text, number.span.start, number.span.end);
                self.push(NameKind::Level, &n, number.span.start, number.span.end, false);
            }
            AstTarget::Notify { channel, .. } => {
                self.push(NameKind::Channel, &channel.name, channel.span.start, channel.span.end, false);
            }
        }
        self.outline.push(Outline {
            kind: NameKind::Trigger,
            name,
            detail: snippet(text, t.condition.span.start, t.condition.span.end),
            start: t.span.start,
            end: t.span.end,
            name_start: ns,
            name_end: ne,
            steps: Vec::new(),
        });
    }

    fn level(&mut self, l: &AstLevel, text: &str) {
        let n = level_number(text, l.number.span.start, l.number.span.end);
        self.def(NameKind::Level, &n, l.number.span.start, l.number.span.end);
        let mut steps = Vec::new();
        let mut i = 0;
        for item in &l.items {
            match item {
                LevelItem::OnFailure(AstOnFailure::Escalate(q), _) => {
                    let to = level_number(text, q.span.start, q.span.end);
                    self.push(NameKind::Level, &to, q.span.start, q.span.end, false);
                }
                LevelItem::Step(node) => {
                    i += 1;
                    self.step_node(node, &format!("L{n}.S{i}"), text, &mut steps);
                }
                _ => {}
            }
        }
        self.outline.push(Outline {
            kind: NameKind::Level,
            name: n,
            detail: l.title.as_ref().map(|t| t.to_plain()).unwrap_or_default(),
            start: l.span.start,
            end: l.span.end,
            name_start: l.header_span.start,
            name_end: l.header_span.end,
            steps,
        });
    }

    fn step_node(&mut self, node: &StepNode, id: &str, text: &str, steps: &mut Vec<(String, String, usize, usize)>) {
        match node {
            StepNode::Step(s) => {
                steps.push((
                    id.to_string(),
                    snippet(text, s.head_span.start, s.head_span.end),
                    s.span.start,
                    s.span.end,
                ));
                self.step(s);
            }
            StepNode::Parallel(p) => {
                steps.push((id.to_string(), "parallel".to_string(), p.span.start, p.span.end));
                for (j, child) in p.children.iter().enumerate() {
                    self.step_node(child, &format!("{id}.{}", j + 1), text, steps);
                }
            }
        }
    }

    fn step(&mut self, s: &AstStep) {
        match &s.kind {
            StepKind::Notify { channel, .. } => {
                self.push(NameKind::Channel, &channel.name, channel.span.start, channel.span.end, false);
            }
            StepKind::Verify(VerifyProbe::Condition(e)) => self.expr(e),
            _ => {}
        }
    }

    /// Metric names in an expression; iterative, so a long expression costs no stack.
    fn expr(&mut self, e: &Expr) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Metric { name, .. } => {
                    self.push(NameKind::Metric, &name.name, name.span.start, name.span.end, false);
                }
                ExprKind::Call { args, .. } => stack.extend(args.iter()),
                ExprKind::Unary { operand, .. } => stack.push(operand),
                ExprKind::Binary { lhs, rhs, .. } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                ExprKind::Paren(inner) => stack.push(inner),
                ExprKind::Quantity(_) => {}
            }
        }
    }

    /// The name written at `offset` (a cursor touching either end of a name counts).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences.iter().find(|o| o.start <= offset && offset <= o.end && o.start < o.end)
    }

    /// Every place the name is written, definition first.
    pub fn all(&self, kind: NameKind, name: &str) -> Vec<&Occurrence> {
        let mut v: Vec<&Occurrence> = self.occurrences.iter().filter(|o| o.kind == kind && o.name == name).collect();
        v.sort_by_key(|o| (!o.is_definition, o.start));
        v
    }

    pub fn definition(&self, kind: NameKind, name: &str) -> Option<&Occurrence> {
        self.occurrences.iter().find(|o| o.kind == kind && o.name == name && o.is_definition)
    }

    /// Declared names of a kind, in the order written.
    pub fn declared(&self, kind: NameKind) -> Vec<&str> {
        self.occurrences.iter().filter(|o| o.kind == kind && o.is_definition).map(|o| o.name.as_str()).collect()
    }

    pub fn outline_of(&self, kind: NameKind, name: &str) -> Option<&Outline> {
        self.outline.iter().find(|o| o.kind == kind && o.name == name)
    }
}

/// A level number as written (`1`, `01` is `1`), or the text itself when it is not a number.
fn level_number(text: &str, start: usize, end: usize) -> String {
    let written = text.get(start..end).unwrap_or("");
    written.parse::<u64>().map_or_else(|_| written.to_string(), |n| n.to_string())
}

/// The text of a span on one line, shortened for a label.
pub fn snippet(text: &str, start: usize, end: usize) -> String {
    let s = text.get(start..end).unwrap_or("");
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        let cut: String = one_line.chars().take(77).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}
