//! "Did you mean ...?": the closest known name within a small edit distance, as the help sentence every
//! diagnostic and error message uses.

/// `did you mean `NAME`?` for the candidate closest to `name`, if one is close enough to be a plausible
/// typo. Callers add their own fallback or follow-up sentence.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("eror_rate", ["error_rate", "p95"]), Some("error_rate"));
        assert_eq!(closest("x", ["error_rate"]), None);
        assert_eq!(closest("shel", ["shell", "http"]), Some("shell"));
        assert_eq!(did_you_mean("shel", ["shell"]).as_deref(), Some("did you mean `shell`?"));
    }
}
