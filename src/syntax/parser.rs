//! The pest parser generated from grammar/runbook.pest.

use pest::Parser;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "grammar/runbook.pest"]
pub(super) struct RunbookParser;

pub(super) type PestError = pest::error::Error<Rule>;

/// Parses the whole file and returns its single `file` pair.
pub(super) fn parse_file(text: &str) -> Result<Pair<'_, Rule>, Box<PestError>> {
    let mut pairs = RunbookParser::parse(Rule::file, text).map_err(Box::new)?;
    match pairs.next() {
        Some(pair) => Ok(pair),
        None => Err(Box::new(PestError::new_from_pos(
            pest::error::ErrorVariant::CustomError { message: "empty input".into() },
            pest::Position::from_start(text),
        ))),
    }
}

impl RunbookParser {
    /// Whether `word` is a reserved word of the language.
    pub(super) fn is_keyword(word: &str) -> bool {
        match RunbookParser::parse(Rule::keyword, word) {
            Ok(mut pairs) => pairs.next().is_some_and(|p| p.as_str().len() == word.len()),
            Err(_) => false,
        }
    }
}
