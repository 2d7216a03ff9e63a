//! The syntax tree back to text, in the canonical layout (docs/formatting.md): one item, option or step per
//! line, two spaces per level of nesting, the author's order of items and steps, level options first in a
//! fixed order, step modifiers in a fixed order, a trigger's attributes in a block after it (`alert`,
//! `labels` sorted by name, `annotations` in their order), comments where they were.

use super::comments::Piece;
use super::expr::expr;
use super::layout::{Code, Line, render};
use super::literal::{quantity, text};
use super::trivia::{FILE, Trivia, TriviaMap};
use crate::ast::{
    Hold, Item, ItemKind, LabelEntry, Level, LevelItem, Modifier, ModifierKind, OnFailure, Parallel, Quantity,
    RestoreFrom, Runbook, Step, StepKind, StepNode, Target, Trigger, TriggerAttr, TriggerAttrs, VerifyProbe,
};

pub(super) fn print(src: &str, runbook: &Runbook, trivia: &TriviaMap) -> String {
    let mut p = Printer { src, trivia, lines: Vec::new(), empty: Trivia::default() };
    p.runbook(runbook);
    render(p.lines)
}

/// What to do with the blank lines of a node's leading trivia.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blanks {
    /// Keep them (collapsed to one).
    Keep,
    /// Drop them: level options are reordered, so blank lines between them would land anywhere.
    Drop,
    /// Always one blank line before the node (levels, and whatever follows a level).
    Force,
}

struct Printer<'a> {
    src: &'a str,
    trivia: &'a TriviaMap,
    lines: Vec<Line>,
    empty: Trivia,
}

impl<'a> Printer<'a> {
    fn trivia(&self, start: usize) -> &Trivia {
        self.trivia.get(&start).unwrap_or(&self.empty)
    }

    /// One blank line, unless it would be the first line, follow a `{` or follow another blank line.
    fn blank(&mut self) {
        match self.lines.last() {
            None | Some(Line::Blank) => {}
            Some(Line::Code(c)) if c.opens => {}
            _ => self.lines.push(Line::Blank),
        }
    }

    fn pieces(&mut self, pieces: &[Piece], depth: usize, blanks: Blanks) {
        for piece in pieces {
            match piece {
                Piece::Blank if blanks != Blanks::Drop => self.blank(),
                Piece::Blank => {}
                Piece::Comment(text) => self.lines.push(Line::Comment { depth, text: text.clone() }),
            }
        }
    }

    fn leading(&mut self, start: usize, depth: usize, blanks: Blanks) {
        if blanks == Blanks::Force {
            self.blank();
        }
        let pieces = self.trivia(start).leading.clone();
        self.pieces(&pieces, depth, blanks);
    }

    fn leaf(&mut self, start: usize, depth: usize, text: String, trigger_head: Option<usize>) {
        let comment = self.trivia(start).trailing.clone();
        self.lines.push(Line::Code(Code { depth, text, trigger_head, comment, leaf: true, opens: false }));
    }

    fn open(&mut self, start: usize, depth: usize, text: String) {
        let comment = self.trivia(start).header.clone();
        self.lines.push(Line::Code(Code { depth, text, comment, opens: true, ..Code::default() }));
    }

    /// The end trivia of the block at `start`, then its `}` with its trailing comment.
    fn close(&mut self, start: usize, depth: usize) {
        let t = self.trivia(start);
        let (end, comment) = (t.end.clone(), t.trailing.clone());
        self.pieces(&end, depth + 1, Blanks::Keep);
        if matches!(self.lines.last(), Some(Line::Blank)) {
            self.lines.pop();
        }
        self.lines.push(Line::Code(Code { depth, text: "}".to_string(), comment, ..Code::default() }));
    }

    fn runbook(&mut self, runbook: &Runbook) {
        let start = runbook.span.start;
        self.leading(start, 0, Blanks::Keep);
        self.open(start, 0, format!("runbook {} {{", runbook.name.name));
        let mut after_level = false;
        for item in &runbook.items {
            let is_level = matches!(item.kind, ItemKind::Level(_));
            let blanks = if is_level || after_level { Blanks::Force } else { Blanks::Keep };
            self.leading(item.span.start, 1, blanks);
            self.item(item);
            after_level = is_level;
        }
        self.close(start, 0);
        let end = self.trivia(FILE).end.clone();
        self.pieces(&end, 0, Blanks::Keep);
        if matches!(self.lines.last(), Some(Line::Blank)) {
            self.lines.pop();
        }
    }

    fn item(&mut self, item: &Item) {
        let start = item.span.start;
        let src = self.src;
        let q = |q: &Quantity| quantity(src, q);
        let line = match &item.kind {
            ItemKind::Description(t) => format!("description {}", text(t)),
            ItemKind::Owner(t) => format!("owner {}", text(t)),
            ItemKind::EvaluateEvery(d) => format!("evaluate every {}", q(d)),
            ItemKind::MaxSeries(n) => format!("max series {}", q(n)),
            ItemKind::FilesUnder(roots) => {
                format!("files under {}", roots.iter().map(text).collect::<Vec<_>>().join(", "))
            }
            ItemKind::Channel(c) => format!("channel {} webhook {}", c.name.name, text(&c.url)),
            ItemKind::Metric(m) => format!("metric {} = promql {}", m.name.name, text(&m.query)),
            ItemKind::Trigger(t) => {
                let (line, head) = self.trigger(t);
                let Some(attrs) = &t.attrs else {
                    return self.leaf(start, 1, line, head);
                };
                self.open(start, 1, format!("{line} {{"));
                self.trigger_attrs(attrs, 2);
                return self.close(start, 1);
            }
            ItemKind::Level(level) => return self.level(start, level),
        };
        self.leaf(start, 1, line, None);
    }

    /// The trigger's line, and the length of its `trigger NAME:` when it is named.
    fn trigger(&self, t: &Trigger) -> (String, Option<usize>) {
        let src = self.src;
        let q = |q: &Quantity| quantity(src, q);
        let mut line = String::new();
        let mut head = None;
        if let Some(name) = &t.name {
            line.push_str(&format!("trigger {}:", name.name));
            head = Some(line.len());
            line.push(' ');
        }
        line.push_str(&expr(self.src, &t.condition));
        match &t.hold {
            Some(Hold::For(d)) => line.push_str(&format!(" for {}", q(d))),
            Some(Hold::Consecutive(n)) => line.push_str(&format!(" for {} consecutive", q(n))),
            Some(Hold::OfLast { n, m, .. }) => line.push_str(&format!(" for {} of {}", q(n), q(m))),
            None => {}
        }
        if let Some(clear) = &t.clear_when {
            line.push_str(&format!(" clear when {}", expr(self.src, &clear.condition)));
        }
        if let Some(d) = &t.keep_firing_for {
            line.push_str(&format!(" keep firing for {}", q(d)));
        }
        if let Some(on) = &t.on_no_data {
            line.push_str(&format!(" on no data {}", on.policy.as_str()));
        }
        match &t.target {
            Target::Level { number, .. } => line.push_str(&format!(" -> level {}", q(number))),
            Target::Notify { channel, message, .. } => {
                line.push_str(&format!(" -> notify {} {}", channel.name, text(message)))
            }
        }
        (line, head)
    }

    /// A trigger's attributes in a fixed order (`alert`, `labels`, `annotations`), the labels sorted by name
    /// as the plan holds them, the annotations in their order.
    fn trigger_attrs(&mut self, attrs: &TriggerAttrs, depth: usize) {
        let mut items: Vec<&TriggerAttr> = attrs.items.iter().collect();
        items.sort_by_key(|item| match item {
            TriggerAttr::Alert { .. } => 0,
            TriggerAttr::Labels { .. } => 1,
            TriggerAttr::Annotations { .. } => 2,
        });
        for item in items {
            let start = item.span().start;
            self.leading(start, depth, Blanks::Drop);
            let entries = match item {
                TriggerAttr::Alert { name, .. } => {
                    self.leaf(start, depth, format!("alert {}", text(name)), None);
                    continue;
                }
                TriggerAttr::Labels { entries, .. } => {
                    let mut sorted: Vec<&LabelEntry> = entries.iter().collect();
                    sorted.sort_by(|a, b| a.name.name.cmp(&b.name.name));
                    sorted
                }
                TriggerAttr::Annotations { entries, .. } => entries.iter().collect(),
            };
            self.open(start, depth, format!("{} {{", item.keyword()));
            for e in entries {
                self.leading(e.span.start, depth + 1, Blanks::Drop);
                self.leaf(e.span.start, depth + 1, format!("{} {}", e.name.name, text(&e.value)), None);
            }
            self.close(start, depth);
        }
    }

    fn level(&mut self, start: usize, level: &Level) {
        let mut header = format!("level {}", quantity(self.src, &level.number));
        if let Some(title) = &level.title {
            header.push(' ');
            header.push_str(&text(title));
        }
        header.push_str(" {");
        self.open(start, 1, header);
        let mut options: Vec<(u8, usize, String)> = Vec::new();
        for item in &level.items {
            let src = self.src;
            let q = |q: &Quantity| quantity(src, q);
            let (rank, span, line) = match item {
                LevelItem::Deadline(d, s) => (1, s, format!("deadline {}", q(d))),
                LevelItem::Approval(s) => (0, s, "approval required".to_string()),
                LevelItem::Cooldown(d, s) => (2, s, format!("cooldown {}", q(d))),
                LevelItem::MaxAttempts(n, s) => (3, s, format!("max attempts {}", q(n))),
                LevelItem::MaxParallel(n, s) => (4, s, format!("max parallel {}", q(n))),
                LevelItem::OnFailure(action, s) => (5, s, format!("on failure {}", on_failure(self.src, action))),
                LevelItem::Step(_) => continue,
            };
            options.push((rank, span.start, line));
        }
        options.sort_by_key(|(rank, ..)| *rank);
        for (_, start, line) in options {
            self.leading(start, 2, Blanks::Drop);
            self.leaf(start, 2, line, None);
        }
        for item in &level.items {
            if let LevelItem::Step(node) = item {
                self.step_node(node, 2);
            }
        }
        self.close(start, 1);
    }

    fn step_node(&mut self, node: &StepNode, depth: usize) {
        match node {
            StepNode::Step(step) => {
                self.leading(step.span.start, depth, Blanks::Keep);
                let line = self.step(step);
                self.leaf(step.span.start, depth, line, None);
            }
            StepNode::Parallel(p) => self.parallel(p, depth),
        }
    }

    fn parallel(&mut self, p: &Parallel, depth: usize) {
        let start = p.span.start;
        self.leading(start, depth, Blanks::Keep);
        self.open(start, depth, "parallel {".to_string());
        for child in &p.children {
            self.step_node(child, depth + 1);
        }
        self.close(start, depth);
    }

    fn step(&self, step: &Step) -> String {
        let src = self.src;
        let q = |q: &Quantity| quantity(src, q);
        let mut line = String::from("step ");
        line.push_str(&match &step.kind {
            StepKind::Shell(t) => format!("shell {}", text(t)),
            StepKind::Http { method, url } => format!("http {} {}", method.name, text(url)),
            StepKind::Snapshot(t) => format!("snapshot {}", text(t)),
            StepKind::Restore { path, from: RestoreFrom::Snapshot(_) } => {
                format!("restore {} from snapshot", text(path))
            }
            StepKind::Restore { path, from: RestoreFrom::Path(backup) } => {
                format!("restore {} from {}", text(path), text(backup))
            }
            StepKind::Verify(VerifyProbe::Condition(c)) => format!("verify {}", expr(self.src, c)),
            StepKind::Verify(VerifyProbe::Shell(t)) => format!("verify shell {}", text(t)),
            StepKind::Verify(VerifyProbe::Http { method, url }) => {
                format!("verify http {} {}", method.name, text(url))
            }
            StepKind::Wait(d) => format!("wait {}", q(d)),
            StepKind::Notify { channel, message } => format!("notify {} {}", channel.name, text(message)),
            // Only in a runbook with errors, which is never formatted.
            StepKind::Unknown(name) => name.name.clone(),
        });
        let mut modifiers: Vec<&Modifier> = step.modifiers.iter().collect();
        modifiers.sort_by_key(|m| modifier_rank(&m.kind));
        for m in modifiers {
            line.push(' ');
            line.push_str(&match &m.kind {
                ModifierKind::Header(name, value) => format!("header {} {}", text(name), text(value)),
                ModifierKind::Body(t) => format!("body {}", text(t)),
                ModifierKind::Expect(code) => format!("expect {}", q(code)),
                ModifierKind::Timeout(d) => format!("timeout {}", q(d)),
                ModifierKind::Within(d) => format!("within {}", q(d)),
                ModifierKind::Every(d) => format!("every {}", q(d)),
                ModifierKind::Retry { count, backoff: Some(b) } => format!("retry {} backoff {}", q(count), q(b)),
                ModifierKind::Retry { count, backoff: None } => format!("retry {}", q(count)),
                ModifierKind::Idempotent => "idempotent".to_string(),
                ModifierKind::Consecutive(n) => format!("for {} consecutive", q(n)),
            });
        }
        line
    }
}

/// The fixed order of step modifiers: what the request is (`header`s in their order, `body`, `expect`),
/// then how long it may take (`timeout`, `within`, `every`, a verify's `for N consecutive`), then what happens on failure (`retry`), then
/// `idempotent`.
fn modifier_rank(kind: &ModifierKind) -> u8 {
    match kind {
        ModifierKind::Header(..) => 0,
        ModifierKind::Body(_) => 1,
        ModifierKind::Expect(_) => 2,
        ModifierKind::Timeout(_) => 3,
        ModifierKind::Within(_) => 4,
        ModifierKind::Every(_) => 5,
        ModifierKind::Consecutive(_) => 6,
        ModifierKind::Retry { .. } => 7,
        ModifierKind::Idempotent => 8,
    }
}

fn on_failure(src: &str, action: &OnFailure) -> String {
    match action {
        OnFailure::Escalate(level) => format!("escalate level {}", quantity(src, level)),
        OnFailure::Abort => "abort".to_string(),
        OnFailure::Continue => "continue".to_string(),
    }
}
