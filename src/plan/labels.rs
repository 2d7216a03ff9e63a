//! A series' label set: what tells one series of a metric from another, and what a run for a series
//! carries (`${labels.NAME}`). The metric name (`__name__`) is never among them: an alert's labels drop it,
//! and a series is named by the runbook's metric.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Labels sorted by name, each name once; cheap to clone.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[(String, String)]>);

impl Labels {
    /// No labels: the one series of a metric that has one.
    pub fn empty() -> Labels {
        Labels::default()
    }

    /// From pairs in any order; a repeated name keeps its last value, `__name__` and empty values are
    /// dropped (an empty label value is no label, in Prometheus).
    pub fn from_pairs<I, K, V>(pairs: I) -> Labels
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let map: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, v)| k != "__name__" && !v.is_empty())
            .collect();
        Labels(map.into_iter().collect::<Vec<_>>().into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok().map(|i| self.0[i].1.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Only the labels named in `names` (PromQL `on(...)`).
    pub fn keep(&self, names: &[String]) -> Labels {
        Labels(self.0.iter().filter(|(k, _)| names.iter().any(|n| n == k)).cloned().collect::<Vec<_>>().into())
    }

    /// Every label but those named in `names` (PromQL `ignoring(...)`).
    pub fn without(&self, names: &[String]) -> Labels {
        Labels(self.0.iter().filter(|(k, _)| !names.iter().any(|n| n == k)).cloned().collect::<Vec<_>>().into())
    }

    /// These labels with `extra` added (a trigger's `labels { ... }`); `extra` wins on a clash, as a rule's
    /// labels do in Prometheus.
    pub fn with(&self, extra: &[(String, String)]) -> Labels {
        if extra.is_empty() {
            return self.clone();
        }
        Labels::from_pairs(self.iter().map(|(k, v)| (k.to_string(), v.to_string())).chain(extra.iter().cloned()))
    }

    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

/// PromQL's notation: `{instance="a", job="b"}`, `{}` for none; values escaped as PromQL strings.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}=\"{}\"", v.escape_default())?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        Ok(Labels::from_pairs(BTreeMap::<String, String>::deserialize(d)?))
    }
}
