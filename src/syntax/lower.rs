//! Lowering pest's pairs into the syntax tree. Everything that can go wrong here becomes a diagnostic; the
//! grammar guarantees the shape of each pair, and a pair of an unexpected shape is skipped, never unwrapped.

use pest::iterators::Pair;

use super::parser::Rule;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Default)]
pub(super) struct Lowering {
    pub(super) diagnostics: Vec<Diagnostic>,
}

/// A pair's span, without trailing white space and comments.
///
/// Pest puts the implicit white space it skips before an optional or repeated tail into the rule's span even
/// when the tail is absent, so `retry 2` (no `backoff`) or a lone metric name would otherwise end on the next
/// line, after any comment. Trailing trivia can only follow the last inner pair (after it come at most
/// punctuation such as `)` or `}`), so only that short tail is scanned; pairs without inner pairs are atomic
/// and kept as they are (a string's text may hold `#` and spaces).
pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    let Some(last) = pair.clone().into_inner().next_back() else {
        return super::span_of(span);
    };
    let start = span.start();
    let bytes = pair.as_str().as_bytes();
    let mut i = last.as_span().end().saturating_sub(start).min(bytes.len());
    let mut end = i;
    loop {
        i = super::skip_trivia(bytes, i);
        if i >= bytes.len() {
            break;
        }
        i += 1;
        end = i;
    }
    Span::new(start, start + end)
}

impl Lowering {
    pub(super) fn file(&mut self, file: Pair<'_, Rule>) -> Option<Runbook> {
        let runbook = file.into_inner().find(|p| p.as_rule() == Rule::runbook)?;
        let span = span_of(&runbook);
        let mut name = None;
        let mut items = Vec::new();
        for pair in runbook.into_inner() {
            match pair.as_rule() {
                Rule::ident if name.is_none() => name = Some(self.ident(pair)),
                _ => {
                    if let Some(item) = self.item(pair) {
                        items.push(item);
                    }
                }
            }
        }
        Some(Runbook { span, name: name?, items })
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
        let kind = match rule {
            Rule::description => ItemKind::Description(self.text(inner.next()?)),
            Rule::owner => ItemKind::Owner(self.text(inner.next()?)),
            Rule::evaluate => ItemKind::EvaluateEvery(self.signed_quantity(inner.next()?)),
            Rule::files_under => ItemKind::FilesUnder(inner.map(|p| self.text(p)).collect()),
            Rule::channel => {
                let name = self.ident(inner.next()?);
                ItemKind::Channel(Channel { name, url: self.text(inner.next()?) })
            }
            Rule::metric_decl => {
                let name = self.ident(inner.next()?);
                ItemKind::Metric(MetricDecl { name, query: self.text(inner.next()?) })
            }
            Rule::max_series => ItemKind::MaxSeries(self.signed_quantity(inner.next()?)),
            Rule::named_trigger | Rule::anon_trigger => ItemKind::Trigger(Box::new(self.trigger(span, inner)?)),
            Rule::level => ItemKind::Level(self.level(span, inner)?),
            _ => return None,
        };
        Some(Item { span, kind })
    }

    fn trigger<'i>(&mut self, span: Span, inner: impl Iterator<Item = Pair<'i, Rule>>) -> Option<Trigger> {
        let mut name = None;
        let mut condition = None;
        let mut hold = None;
        let mut keep_firing_for = None;
        let mut clear_when = None;
        let mut on_no_data = None;
        let mut target = None;
        let mut attrs = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::expr => condition = Some(self.expr(p)),
                Rule::for_clause => {
                    let q = p
                        .into_inner()
                        .find(|p| matches!(p.as_rule(), Rule::signed_quantity | Rule::consecutive | Rule::of_last))?;
                    let span = span_of(&q);
                    hold = Some(match q.as_rule() {
                        Rule::consecutive => Hold::Consecutive(self.signed_quantity(q.into_inner().next()?)),
                        Rule::of_last => {
                            let mut it = q.into_inner().filter(|p| p.as_rule() == Rule::signed_quantity);
                            let n = self.signed_quantity(it.next()?);
                            let m = self.signed_quantity(it.next()?);
                            Hold::OfLast { n, m, span }
                        }
                        _ => Hold::For(self.signed_quantity(q)),
                    });
                }
                Rule::clear_clause => {
                    let cspan = span_of(&p);
                    let e = p.into_inner().find(|p| p.as_rule() == Rule::expr)?;
                    clear_when = Some(ClearWhen { condition: self.expr(e), span: cspan });
                }
                Rule::no_data_clause => {
                    let nspan = span_of(&p);
                    let policy = p.into_inner().find(|p| p.as_rule() == Rule::no_data_policy)?;
                    let kind = match policy.as_str() {
                        "keep" => NoDataPolicy::Keep,
                        "fire" => NoDataPolicy::Fire,
                        _ => NoDataPolicy::Clear,
                    };
                    on_no_data = Some(OnNoData { policy: kind, span: nspan, policy_span: span_of(&policy) });
                }
                Rule::keep_clause => {
                    let q = p.into_inner().find(|p| p.as_rule() == Rule::signed_quantity)?;
                    keep_firing_for = Some(self.signed_quantity(q));
                }
                Rule::target_level => {
                    let tspan = span_of(&p);
                    let q = p.into_inner().find(|p| p.as_rule() == Rule::signed_quantity)?;
                    target = Some(Target::Level { number: self.signed_quantity(q), span: tspan });
                }
                Rule::target_notify => {
                    let tspan = span_of(&p);
                    let mut it = p.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
                    let channel = self.ident(it.next()?);
                    let message = self.text(it.next()?);
                    target = Some(Target::Notify { channel, message, span: tspan });
                }
                Rule::trigger_attrs => attrs = Some(self.trigger_attrs(p)),
                _ => {}
            }
        }
        Some(Trigger {
            span,
            name,
            condition: condition?,
            hold,
            clear_when,
            keep_firing_for,
            on_no_data,
            target: target?,
            attrs,
        })
    }

    fn trigger_attrs(&mut self, pair: Pair<'_, Rule>) -> TriggerAttrs {
        let span = span_of(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            let aspan = span_of(&p);
            let rule = p.as_rule();
            let mut inner = p.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
            match rule {
                Rule::alert_attr => {
                    if let Some(name) = inner.next() {
                        items.push(TriggerAttr::Alert { name: self.text(name), span: aspan });
                    }
                }
                Rule::labels_attr | Rule::annotations_attr => {
                    let entries = inner.filter_map(|e| self.label_entry(e)).collect();
                    items.push(if rule == Rule::labels_attr {
                        TriggerAttr::Labels { entries, span: aspan }
                    } else {
                        TriggerAttr::Annotations { entries, span: aspan }
                    });
                }
                _ => {}
            }
        }
        TriggerAttrs { span, items }
    }

    fn label_entry(&mut self, pair: Pair<'_, Rule>) -> Option<LabelEntry> {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next()?);
        let value = self.text(inner.next()?);
        Some(LabelEntry { span, name, value })
    }

    fn level<'i>(&mut self, span: Span, inner: impl Iterator<Item = Pair<'i, Rule>>) -> Option<Level> {
        let mut number = None;
        let mut title = None;
        let mut items = Vec::new();
        let mut header_end = span.start;
        for p in inner {
            let pspan = span_of(&p);
            match p.as_rule() {
                Rule::signed_quantity if number.is_none() => {
                    header_end = pspan.end;
                    number = Some(self.signed_quantity(p));
                }
                Rule::string | Rule::raw_string if title.is_none() && items.is_empty() => {
                    header_end = pspan.end;
                    title = Some(self.text(p));
                }
                _ => {
                    if let Some(item) = self.level_item(p) {
                        items.push(item);
                    }
                }
            }
        }
        Some(Level { span, header_span: Span::new(span.start, header_end), number: number?, title, items })
    }

    fn level_item(&mut self, pair: Pair<'_, Rule>) -> Option<LevelItem> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        if matches!(rule, Rule::step | Rule::parallel) {
            return self.step_node(pair).map(LevelItem::Step);
        }
        let mut inner = pair.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
        Some(match rule {
            Rule::deadline => LevelItem::Deadline(self.signed_quantity(inner.next()?), span),
            Rule::approval => LevelItem::Approval(span),
            Rule::cooldown => LevelItem::Cooldown(self.signed_quantity(inner.next()?), span),
            Rule::max_attempts => LevelItem::MaxAttempts(self.signed_quantity(inner.next()?), span),
            Rule::max_parallel => LevelItem::MaxParallel(self.signed_quantity(inner.next()?), span),
            Rule::on_failure => {
                let action = inner.next()?;
                let on_failure = match action.as_rule() {
                    Rule::escalate => {
                        let q = action.into_inner().find(|p| p.as_rule() == Rule::signed_quantity)?;
                        OnFailure::Escalate(self.signed_quantity(q))
                    }
                    Rule::abort => OnFailure::Abort,
                    _ => OnFailure::Continue,
                };
                LevelItem::OnFailure(on_failure, span)
            }
            _ => return None,
        })
    }

    fn step_node(&mut self, pair: Pair<'_, Rule>) -> Option<StepNode> {
        let span = span_of(&pair);
        if pair.as_rule() == Rule::parallel {
            let children = pair.into_inner().filter_map(|p| self.step_node(p)).collect();
            return Some(StepNode::Parallel(Parallel { span, children }));
        }
        if pair.as_rule() != Rule::step {
            return None;
        }
        let mut kind = None;
        let mut head_span = span;
        let mut modifiers = Vec::new();
        for p in pair.into_inner() {
            let pspan = span_of(&p);
            match p.as_rule() {
                Rule::kw_step => {}
                Rule::shell_step
                | Rule::http_step
                | Rule::snapshot_step
                | Rule::restore_step
                | Rule::verify_step
                | Rule::wait_step
                | Rule::notify_step
                | Rule::unknown_step => {
                    head_span = Span::new(span.start, pspan.end);
                    kind = self.step_kind(p);
                }
                _ => {
                    if let Some(m) = self.modifier(p) {
                        modifiers.push(m);
                    }
                }
            }
        }
        Some(StepNode::Step(Step { span, head_span, kind: kind?, modifiers }))
    }

    fn step_kind(&mut self, pair: Pair<'_, Rule>) -> Option<StepKind> {
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
        Some(match rule {
            Rule::shell_step => StepKind::Shell(self.text(inner.next()?)),
            Rule::http_step => {
                let method = self.ident(inner.next()?);
                StepKind::Http { method, url: self.text(inner.next()?) }
            }
            Rule::snapshot_step => StepKind::Snapshot(self.text(inner.next()?)),
            Rule::restore_step => {
                let path = self.text(inner.next()?);
                let from = inner.next()?;
                let from = if from.as_rule() == Rule::from_snapshot {
                    RestoreFrom::Snapshot(span_of(&from))
                } else {
                    RestoreFrom::Path(self.text(from))
                };
                StepKind::Restore { path, from }
            }
            Rule::verify_step => {
                let probe = inner.next()?;
                StepKind::Verify(match probe.as_rule() {
                    Rule::verify_shell => {
                        let cmd =
                            probe.into_inner().find(|p| matches!(p.as_rule(), Rule::string | Rule::raw_string))?;
                        VerifyProbe::Shell(self.text(cmd))
                    }
                    Rule::verify_http => {
                        let mut it = probe.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
                        let method = self.ident(it.next()?);
                        VerifyProbe::Http { method, url: self.text(it.next()?) }
                    }
                    _ => VerifyProbe::Condition(self.expr(probe)),
                })
            }
            Rule::wait_step => StepKind::Wait(self.signed_quantity(inner.next()?)),
            Rule::notify_step => {
                let channel = self.ident(inner.next()?);
                StepKind::Notify { channel, message: self.text(inner.next()?) }
            }
            _ => StepKind::Unknown(self.ident(inner.next()?)),
        })
    }

    fn modifier(&mut self, pair: Pair<'_, Rule>) -> Option<Modifier> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword_rule(p.as_rule()));
        let kind = match rule {
            Rule::m_timeout => ModifierKind::Timeout(self.signed_quantity(inner.next()?)),
            Rule::m_retry => {
                let count = self.signed_quantity(inner.next()?);
                let backoff = inner.next().map(|p| self.signed_quantity(p));
                ModifierKind::Retry { count, backoff }
            }
            Rule::m_idempotent => ModifierKind::Idempotent,
            Rule::m_within => ModifierKind::Within(self.signed_quantity(inner.next()?)),
            Rule::m_every => ModifierKind::Every(self.signed_quantity(inner.next()?)),
            Rule::m_header => {
                let name = self.text(inner.next()?);
                ModifierKind::Header(name, self.text(inner.next()?))
            }
            Rule::m_body => ModifierKind::Body(self.text(inner.next()?)),
            Rule::m_expect => ModifierKind::Expect(self.signed_quantity(inner.next()?)),
            Rule::m_consecutive => ModifierKind::Consecutive(self.signed_quantity(inner.next()?)),
            _ => return None,
        };
        Some(Modifier { span, kind })
    }

    pub(super) fn ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: span_of(&pair) }
    }

    pub(super) fn signed_quantity(&mut self, pair: Pair<'_, Rule>) -> Quantity {
        let span = span_of(&pair);
        let mut negative = false;
        let mut quantity = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::neg_sign => negative = true,
                Rule::quantity => quantity = Some(self.quantity(p, negative)),
                _ => {}
            }
        }
        match quantity {
            Some(mut q) => {
                q.span = span;
                q
            }
            None => Quantity { span, negative, value: QuantityValue::Number { value: 0.0, integer: true } },
        }
    }

    pub(super) fn quantity(&mut self, pair: Pair<'_, Rule>, negative: bool) -> Quantity {
        let span = span_of(&pair);
        let mut number_text = "";
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::number => number_text = p.as_str(),
                Rule::percent => value = Some(QuantityValue::Percent(parse_number(number_text) / 100.0)),
                Rule::unit_tail => value = Some(QuantityValue::Duration(duration_ms(number_text, p.as_str()))),
                _ => {}
            }
        }
        let value = value.unwrap_or_else(|| QuantityValue::Number {
            value: parse_number(number_text),
            integer: !number_text.contains(['.', 'e', 'E']),
        });
        Quantity { span, negative, value }
    }

    pub(super) fn text(&mut self, pair: Pair<'_, Rule>) -> Text {
        let span = span_of(&pair);
        if pair.as_rule() == Rule::raw_string {
            let raw = pair.into_inner().next().map(|p| p.as_str().to_string()).unwrap_or_default();
            return Text { span, raw: true, parts: vec![TextPart::Literal(raw)] };
        }
        let mut parts: Vec<TextPart> = Vec::new();
        let push_literal = |parts: &mut Vec<TextPart>, s: &str| match parts.last_mut() {
            Some(TextPart::Literal(last)) => last.push_str(s),
            _ => parts.push(TextPart::Literal(s.to_string())),
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::str_text => push_literal(&mut parts, p.as_str()),
                Rule::escape => {
                    let decoded = match p.as_str() {
                        "\\\"" => Some("\""),
                        "\\\\" => Some("\\"),
                        "\\n" => Some("\n"),
                        "\\t" => Some("\t"),
                        "\\$" => Some("$"),
                        _ => None,
                    };
                    match decoded {
                        Some(s) => push_literal(&mut parts, s),
                        None => parts.push(TextPart::BadEscape { text: p.as_str().to_string(), span: span_of(&p) }),
                    }
                }
                Rule::interp => {
                    let ispan = span_of(&p);
                    let path = p.into_inner().next().map(|p| p.as_str().to_string()).unwrap_or_default();
                    parts.push(TextPart::Interpolation { path, span: ispan });
                }
                _ => {}
            }
        }
        Text { span, raw: false, parts }
    }
}

fn is_keyword_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_runbook
            | Rule::kw_description
            | Rule::kw_owner
            | Rule::kw_evaluate
            | Rule::kw_every
            | Rule::kw_files
            | Rule::kw_under
            | Rule::kw_channel
            | Rule::kw_metric
            | Rule::kw_promql
            | Rule::kw_trigger
            | Rule::kw_for
            | Rule::kw_consecutive
            | Rule::kw_keep
            | Rule::kw_firing
            | Rule::kw_level
            | Rule::kw_notify
            | Rule::kw_offset
            | Rule::kw_deadline
            | Rule::kw_approval
            | Rule::kw_required
            | Rule::kw_cooldown
            | Rule::kw_max
            | Rule::kw_attempts
            | Rule::kw_on
            | Rule::kw_failure
            | Rule::kw_escalate
            | Rule::kw_abort
            | Rule::kw_continue
            | Rule::kw_step
            | Rule::kw_shell
            | Rule::kw_http
            | Rule::kw_snapshot
            | Rule::kw_restore
            | Rule::kw_from
            | Rule::kw_verify
            | Rule::kw_within
            | Rule::kw_wait
            | Rule::kw_parallel
            | Rule::kw_timeout
            | Rule::kw_retry
            | Rule::kw_backoff
            | Rule::kw_idempotent
            | Rule::kw_header
            | Rule::kw_body
            | Rule::kw_expect
            | Rule::kw_ignoring
            | Rule::kw_series
            | Rule::kw_alert
            | Rule::kw_labels
            | Rule::kw_annotations
            | Rule::kw_of
            | Rule::kw_clear
            | Rule::kw_when
            | Rule::kw_no
            | Rule::kw_data
            | Rule::kw_fire
            | Rule::channel_kind
    )
}

fn parse_number(text: &str) -> f64 {
    text.parse::<f64>().unwrap_or(f64::NAN)
}

/// `1h30m` in milliseconds. The number before the first unit is `number`, the rest is `tail`.
fn duration_ms(number: &str, tail: &str) -> Result<u64, DurationError> {
    if number.contains(['.', 'e', 'E']) {
        return Err(DurationError::Fractional);
    }
    let mut total: u64 = 0;
    let mut last_rank = u8::MAX;
    let mut digits = number;
    let mut rest = tail;
    loop {
        let (unit_ms, rank, len) = if rest.starts_with("ms") {
            (1, 0, 2)
        } else {
            match rest.as_bytes().first() {
                Some(b's') => (1_000, 1, 1),
                Some(b'm') => (60_000, 2, 1),
                Some(b'h') => (3_600_000, 3, 1),
                Some(b'd') => (86_400_000, 4, 1),
                Some(b'w') => (604_800_000, 5, 1),
                _ => break,
            }
        };
        if rank >= last_rank {
            return Err(DurationError::Order);
        }
        last_rank = rank;
        let n: u64 = digits.parse().map_err(|_| DurationError::Overflow)?;
        total = n.checked_mul(unit_ms).and_then(|v| total.checked_add(v)).ok_or(DurationError::Overflow)?;
        rest = &rest[len..];
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        digits = &rest[..end];
        rest = &rest[end..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("1", "h30m"), Ok(5_400_000));
        assert_eq!(duration_ms("250", "ms"), Ok(250));
        assert_eq!(duration_ms("2", "d"), Ok(172_800_000));
        assert_eq!(duration_ms("30", "m1h"), Err(DurationError::Order));
        assert_eq!(duration_ms("1.5", "m"), Err(DurationError::Fractional));
        assert_eq!(duration_ms("99999999999999999999", "s"), Err(DurationError::Overflow));
    }
}
