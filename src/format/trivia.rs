//! Comments and blank lines attached to the nodes they belong with, so that the printer can lay the tree
//! out again and put every comment back where a reader expects it.
//!
//! The rules, for each block (the file, the runbook, a level, a `parallel`, a trigger's attributes and their
//! `labels { }` and `annotations { }`) and its children in order:
//!
//! - a comment on a line of its own belongs to the next child of the same block (its *leading* trivia,
//!   together with the blank lines around it); after the last child, it belongs to the block's end;
//! - a comment after code belongs to the node whose text ends just before it on that line: a child (its
//!   *trailing* comment), a block's `{` (its *header* comment) or a block's `}` (the block's trailing one);
//! - a comment inside a node that the printer puts on one line (a trigger written over several lines, the
//!   words of a level's header) moves to just above that node.

use std::collections::HashMap;

use super::comments::{Comment, Piece, gap};
use crate::ast::{ItemKind, Level, LevelItem, Runbook, StepNode, Trigger, TriggerAttr};
use crate::span::Span;

/// What is attached to one node.
#[derive(Clone, Debug, Default)]
pub(super) struct Trivia {
    /// Blank lines and own-line comments before the node, then comments moved out of the node.
    pub leading: Vec<Piece>,
    /// The comment at the end of the node's (last) line: after a block, the comment after its `}`.
    pub trailing: Option<String>,
    /// A block's comment after its `{`.
    pub header: Option<String>,
    /// Blank lines and comments after a block's last child, before its `}`.
    pub end: Vec<Piece>,
}

/// Trivia by the start offset of the node it belongs to; the file itself is [`FILE`].
pub(super) type TriviaMap = HashMap<usize, Trivia>;

/// The key of the file's own trivia (comments after the runbook's closing brace).
pub(super) const FILE: usize = usize::MAX;

/// A node as far as trivia is concerned: where it is, and the block it opens.
struct Node {
    span: Span,
    body: Option<Body>,
}

struct Body {
    /// Just after the `{`.
    open: usize,
    /// At the `}`.
    close: usize,
    children: Vec<Node>,
}

pub(super) fn attach(text: &str, runbook: &Runbook, comments: &[Comment]) -> TriviaMap {
    let root = runbook_node(text, runbook);
    let mut attacher = Attacher { text, comments, map: TriviaMap::new() };
    attacher.block(FILE, 0, text.len(), std::slice::from_ref(&root), true);
    attacher.map
}

struct Attacher<'a> {
    text: &'a str,
    comments: &'a [Comment],
    map: TriviaMap,
}

impl Attacher<'_> {
    fn entry(&mut self, key: usize) -> &mut Trivia {
        self.map.entry(key).or_default()
    }

    /// The children of one block, between `open` and `close`. `file` marks the file itself, which starts
    /// and ends with whole lines instead of `{` and `}`.
    fn block(&mut self, key: usize, open: usize, close: usize, children: &[Node], file: bool) {
        let mut from = open;
        let mut previous: Option<usize> = None;
        for child in children {
            let g = gap(self.text, from, child.span.start, file && previous.is_none(), false);
            if let Some(comment) = g.trailing {
                match previous {
                    Some(p) => self.entry(p).trailing = Some(comment),
                    None => self.entry(key).header = Some(comment),
                }
            }
            let moved = self.inside(child);
            let trivia = self.entry(child.span.start);
            trivia.leading = g.pieces;
            trivia.leading.extend(moved.into_iter().map(Piece::Comment));
            if let Some(body) = &child.body {
                self.block(child.span.start, body.open, body.close, &body.children, false);
            }
            from = child.span.end;
            previous = Some(child.span.start);
        }
        let g = gap(self.text, from, close, file && previous.is_none(), file);
        if let Some(comment) = g.trailing {
            match previous {
                Some(p) => self.entry(p).trailing = Some(comment),
                None => self.entry(key).header = Some(comment),
            }
        }
        self.entry(key).end = g.pieces;
    }

    /// Comments inside a node but outside the block it opens: they move above the node.
    fn inside(&self, node: &Node) -> Vec<String> {
        let first = self.comments.partition_point(|c| c.start < node.span.start);
        self.comments[first..]
            .iter()
            .take_while(|c| c.start < node.span.end)
            .filter(|c| node.body.as_ref().is_none_or(|b| c.start < b.open || c.start >= b.close))
            .map(|c| c.text.clone())
            .collect()
    }
}

fn runbook_node(text: &str, runbook: &Runbook) -> Node {
    let children = runbook
        .items
        .iter()
        .map(|item| match &item.kind {
            ItemKind::Level(level) => level_node(text, item.span, level),
            ItemKind::Trigger(t) => trigger_node(text, item.span, t),
            _ => Node { span: item.span, body: None },
        })
        .collect();
    Node { span: runbook.span, body: body(text, runbook.name.span.end, runbook.span, children) }
}

fn level_node(text: &str, span: Span, level: &Level) -> Node {
    let children = level
        .items
        .iter()
        .map(|item| match item {
            LevelItem::Deadline(_, s)
            | LevelItem::Approval(s)
            | LevelItem::Cooldown(_, s)
            | LevelItem::MaxAttempts(_, s)
            | LevelItem::MaxParallel(_, s)
            | LevelItem::OnFailure(_, s) => Node { span: *s, body: None },
            LevelItem::Step(node) => step_node(text, node),
        })
        .collect();
    Node { span, body: body(text, level.header_span.end, span, children) }
}

/// A trigger, and its attribute block when it has one: the attributes, and the entries of `labels { }` and
/// `annotations { }`, are children like a level's options.
fn trigger_node(text: &str, span: Span, t: &Trigger) -> Node {
    let Some(attrs) = &t.attrs else {
        return Node { span, body: None };
    };
    let children = attrs
        .items
        .iter()
        .map(|item| match item {
            TriggerAttr::Alert { span, .. } => Node { span: *span, body: None },
            TriggerAttr::Labels { entries, span } | TriggerAttr::Annotations { entries, span } => {
                let children = entries.iter().map(|e| Node { span: e.span, body: None }).collect();
                Node { span: *span, body: body(text, span.start + item.keyword().len(), *span, children) }
            }
        })
        .collect();
    Node { span, body: body(text, t.target.span().end, span, children) }
}

fn step_node(text: &str, node: &StepNode) -> Node {
    match node {
        StepNode::Step(step) => Node { span: step.span, body: None },
        StepNode::Parallel(p) => {
            let children = p.children.iter().map(|c| step_node(text, c)).collect();
            Node { span: p.span, body: body(text, p.span.start + "parallel".len(), p.span, children) }
        }
    }
}

/// The block of a node whose `{` comes after `header_end` (past white space and comments) and whose `}`
/// is its last character. `None` when the text is not shaped so, and then the node is treated as one line.
fn body(text: &str, header_end: usize, span: Span, children: Vec<Node>) -> Option<Body> {
    let open = find_open(text, header_end)?;
    let close = span.end.checked_sub(1)?;
    (text.as_bytes().get(close) == Some(&b'}') && open <= close).then_some(Body { open, close, children })
}

/// The offset just after the first `{` at or after `from`, skipping white space and comments only.
fn find_open(text: &str, from: usize) -> Option<usize> {
    let i = crate::syntax::skip_trivia(text.as_bytes(), from);
    (text.as_bytes().get(i) == Some(&b'{')).then_some(i + 1)
}
