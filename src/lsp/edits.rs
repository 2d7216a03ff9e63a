//! Features that change the text or look beyond it: rename, quick fixes, and the code lens that simulates
//! each trigger against the series file beside the runbook.

use super::analysis::Analysis;
use super::engine::{self, Firings, Problem};
use super::index::{NameKind, Occurrence};

/// A replacement of the bytes `start..end` with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub new_text: String,
}

/// The edits that rename the metric, channel or level at `offset` to `new_name` everywhere in the file, or
/// why it cannot be renamed.
pub fn rename(a: &Analysis, offset: usize, new_name: &str) -> Result<Vec<Edit>, String> {
    let o = renamable(a, offset)?;
    let new_name = new_name.trim();
    match o.kind {
        NameKind::Level => {
            let n: u32 = new_name.parse().map_err(|_| format!("`{new_name}` is not a level number"))?;
            if !(1..=99).contains(&n) {
                return Err("a level number is from 1 to 99".to_string());
            }
            if n.to_string() != o.name && a.index().definition(NameKind::Level, &n.to_string()).is_some() {
                return Err(format!("level {n} is already declared"));
            }
        }
        kind => {
            let valid = new_name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && new_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(format!("`{new_name}` is not a name: letters, digits and `_`, not starting with a digit"));
            }
            if engine::is_keyword(new_name) {
                return Err(format!("`{new_name}` is a reserved word"));
            }
            if kind == NameKind::Channel && new_name == "log" {
                return Err("`log` is the built-in channel".to_string());
            }
            if new_name != o.name && a.index().definition(kind, new_name).is_some() {
                return Err(format!("`{new_name}` is already declared"));
            }
        }
    }
    Ok(a.index()
        .all(o.kind, &o.name)
        .into_iter()
        .map(|x| Edit { start: x.start, end: x.end, new_text: new_name.to_string() })
        .collect())
}

/// The name at `offset` when it can be renamed.
pub fn renamable(a: &Analysis, offset: usize) -> Result<&Occurrence, String> {
    let o = a.index().at(offset).ok_or_else(|| "no metric, level or channel here".to_string())?;
    match o.kind {
        NameKind::Trigger => Err("only metrics, levels and channels are renamed".to_string()),
        NameKind::Channel if o.name == "log" => Err("`log` is the built-in channel".to_string()),
        _ => Ok(o),
    }
}

/// A quick fix: its title and its edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edit: Edit,
    pub preferred: bool,
}

/// The fixes for a problem that has one obvious fix: a did-you-mean name, or a missing unit on a duration.
pub fn fixes(a: &Analysis, p: &Problem) -> Vec<Fix> {
    let written = a.text.get(p.start..p.end).unwrap_or("");
    let help = p.help.as_deref().unwrap_or("");
    let mut out = Vec::new();
    if let Some(name) = between(help, "did you mean `", "`") {
        let name = name.trim_start_matches("${").trim_end_matches('}');
        let is_ident = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let interpolated = written.strip_prefix("${").and_then(|w| w.strip_suffix('}')).filter(|inner| is_ident(inner));
        let replacement = match interpolated {
            _ if is_ident(written) => Some(name.to_string()),
            Some(_) => Some(format!("${{{name}}}")),
            None => None,
        };
        if let Some(new_text) = replacement {
            out.push(Fix {
                title: format!("Change `{written}` to `{new_text}`"),
                edit: Edit { start: p.start, end: p.end, new_text },
                preferred: true,
            });
        }
    }
    let is_number = !written.is_empty() && written.bytes().all(|b| b.is_ascii_digit());
    if p.code == "RC203" && is_number {
        let mut rest = help;
        while let Some(i) = rest.find('`') {
            let after = &rest[i + 1..];
            let Some(j) = after.find('`') else { break };
            let choice = &after[..j];
            if choice.starts_with(written)
                && choice.len() > written.len()
                && choice[written.len()..].bytes().all(|b| b.is_ascii_alphabetic())
            {
                out.push(Fix {
                    title: format!("Write `{choice}`"),
                    edit: Edit { start: p.start, end: p.end, new_text: choice.to_string() },
                    preferred: out.is_empty(),
                });
            }
            rest = &after[j + 1..];
        }
    }
    out
}

fn between<'h>(haystack: &'h str, open: &str, close: &str) -> Option<&'h str> {
    let start = haystack.find(open)? + open.len();
    let len = haystack[start..].find(close)?;
    Some(&haystack[start..start + len])
}

/// A code lens over a trigger: where it is, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lens {
    pub start: usize,
    pub end: usize,
    pub title: String,
}

/// One lens per trigger, saying when it fires over the series file beside the runbook; none when there is
/// no series file (or no file: an unsaved document).
pub fn lenses(a: &Analysis) -> (Vec<Lens>, Option<Firings>) {
    let Some(series) = a.path.as_deref().and_then(engine::series_beside) else {
        return (Vec::new(), None);
    };
    let triggers: Vec<_> = a.index().outline.iter().filter(|o| o.kind == NameKind::Trigger).collect();
    let Some(plan) = a.plan() else {
        let name = series.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let lens = |o: &&super::index::Outline| Lens {
            start: o.start,
            end: o.start,
            title: format!("simulate over {name}: fix the errors first"),
        };
        return (triggers.iter().map(lens).collect(), None);
    };
    match engine::simulate_file(plan, &series) {
        Ok(firings) => {
            let lenses = triggers
                .iter()
                .map(|o| {
                    let at = firings.first.iter().find(|(name, _)| *name == o.name).and_then(|(_, at)| at.clone());
                    let title = match at {
                        Some((t, 1)) => format!("fires at {t} over {}", firings.series),
                        Some((t, n)) => format!("fires at {t} over {} ({n} times)", firings.series),
                        None => format!("does not fire over {}", firings.series),
                    };
                    Lens { start: o.start, end: o.start, title }
                })
                .collect();
            (lenses, Some(firings))
        }
        Err(e) => (
            triggers
                .iter()
                .map(|o| Lens { start: o.start, end: o.start, title: format!("cannot simulate: {e}") })
                .collect(),
            None,
        ),
    }
}
