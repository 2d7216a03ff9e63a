//! Step ids in expectations and `fail:` lists: `L1.S2` must name a step of the plan.

use serde_saphyr::Spanned;

use crate::diagnostic::{Code, did_you_mean};
use crate::testing::spec::Checker;
use crate::yaml::span_of;

impl Checker<'_> {
    pub(in crate::testing) fn step_id(&mut self, s: &Spanned<String>) -> Option<String> {
        let id = s.value.trim();
        let ids: Vec<&str> = self.plan.all_steps().into_iter().map(|s| s.id.as_str()).collect();
        if ids.contains(&id) {
            return Some(id.to_string());
        }
        let help = match did_you_mean(id, ids.iter().copied()) {
            Some(suggestion) => format!("{suggestion} `ripcord plan` lists every step id"),
            None => "`ripcord plan` lists every step id (L1.S1, L3.S3.1, ...)".to_string(),
        };
        self.error(Code::SimulationArgument, span_of(s, self.text), format!("no step has the id `{id}`"), help);
        None
    }

    pub(super) fn steps(&mut self, list: &Option<Vec<Spanned<String>>>) -> Option<Option<Vec<String>>> {
        let Some(list) = list else { return Some(None) };
        let mut out = Vec::new();
        let mut ok = true;
        for s in list {
            match self.step_id(s) {
                Some(id) => out.push(id),
                None => ok = false,
            }
        }
        ok.then_some(Some(out))
    }
}
