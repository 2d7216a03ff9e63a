//! The test file's YAML shape, as serde reads it: every value keeps its span (`Spanned`) so that the checks
//! in `spec` and `expect` can point at it. Nothing here checks meaning.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileYaml {
    pub(super) runbook: Spanned<String>,
    #[serde(default)]
    pub(super) interval: Option<Spanned<String>>,
    pub(super) tests: Spanned<Vec<Spanned<TestYaml>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TestYaml {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) interval: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) end: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) input_series: Option<InputSeries>,
    #[serde(default)]
    pub(super) fail: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) approve: HashMap<Spanned<String>, Spanned<String>>,
    pub(super) expect: Spanned<Vec<Spanned<ExpectYaml>>>,
}

/// `input_series` as a map (`name: "values"`) or as promtool's list (`- series: name` / `values: "..."`).
pub(super) struct InputSeries(pub(super) Vec<(Spanned<String>, Spanned<String>)>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesEntry {
    pub(super) series: Spanned<String>,
    pub(super) values: Spanned<String>,
}

impl<'de> Deserialize<'de> for InputSeries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InputSeriesVisitor;
        impl<'de> Visitor<'de> for InputSeriesVisitor {
            type Value = InputSeries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of series names to values, or a list of `{series, values}`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InputSeries, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let values = map.next_value::<Spanned<String>>()?;
                    out.push((name, values));
                }
                Ok(InputSeries(out))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<InputSeries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = seq.next_element::<SeriesEntry>()? {
                    out.push((entry.series, entry.values));
                }
                Ok(InputSeries(out))
            }
        }
        d.deserialize_any(InputSeriesVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectYaml {
    #[serde(default)]
    pub(super) at: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) from: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) to: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) trigger: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) state: Option<Spanned<String>>,
    /// The series a `state` is about: those with these labels (among others).
    #[serde(default)]
    pub(super) labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub(super) run: Option<Spanned<RunYaml>>,
    #[serde(default)]
    pub(super) runs: Option<Spanned<Vec<Spanned<RunYaml>>>>,
    #[serde(default)]
    pub(super) no_run: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) no_firing: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunYaml {
    #[serde(default)]
    pub(super) at: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) level: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) trigger: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) steps: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) failed: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) outcome: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) escalated_to: Option<Spanned<u32>>,
    /// The run is for a series with these labels (among others).
    #[serde(default)]
    pub(super) labels: Option<std::collections::BTreeMap<String, String>>,
}
