//! The trigger kinds of `for N of M`, `clear when` and `on no data`, against a reference written straight
//! from their definitions (docs/language.md, the module comment of `eval::trigger`): it keeps the whole
//! history of inputs and answers each evaluation by scanning it, sharing no code with the machine.

use crate::eval::{Evaluation, SeriesMachines, TriggerState};
use crate::plan::{Hold, NoData};

use super::{cmp, metric, num, trigger};
use TriggerState::{Firing, Inactive, Pending};

/// One series' evaluation as the reference sees it.
#[derive(Clone, Copy, Debug)]
enum Input {
    /// The condition holds (`cond`) or not, and `clear when` yields the series (`clear`) or not.
    Data { cond: bool, clear: bool },
    /// `on no data keep`: the evaluation does not happen, as far as the clocks go.
    Still,
}

/// The reference: every input kept, each state decided by scanning back.
struct Reference {
    hold: Hold,
    keep_ms: i64,
    clear_when: bool,
    /// `(time with the still evaluations' time taken out, input)`.
    history: Vec<(i64, bool)>,
    state: TriggerState,
    keep_since: Option<i64>,
    shift: i64,
    last: Option<i64>,
}

impl Reference {
    fn new(hold: Hold, keep_s: i64, clear_when: bool) -> Self {
        Reference {
            hold,
            keep_ms: keep_s * 1000,
            clear_when,
            history: Vec::new(),
            state: Inactive,
            keep_since: None,
            shift: 0,
            last: None,
        }
    }

    fn step(&mut self, t: i64, input: Input) -> TriggerState {
        let (cond, clear) = match input {
            Input::Still => {
                self.shift += self.last.map_or(0, |l| t - l);
                self.last = Some(t);
                return self.state;
            }
            Input::Data { cond, clear } => (cond, clear),
        };
        self.last = Some(t);
        let t = t - self.shift;
        // While firing under `clear when`, the input is `COND or not C`.
        let x = if self.clear_when && self.state == Firing { cond || !clear } else { cond };
        self.history.push((t, x));
        let trailing = self.history.iter().rev().take_while(|(_, v)| *v).count();
        let fires = match self.hold {
            Hold::OfLast { n, m } => {
                let m = m as usize;
                let count = self.history.iter().rev().take(m).filter(|(_, v)| *v).count();
                count >= n.max(1) as usize
            }
            _ if !x => false,
            _ if self.state == Firing => true,
            Hold::For { ms } => {
                let start = self.history[self.history.len() - trailing].0;
                t - start >= ms as i64
            }
            Hold::Consecutive { evaluations } => trailing >= evaluations.max(1) as usize,
        };
        if fires {
            self.keep_since = None;
            self.state = Firing;
            return self.state;
        }
        if self.state == Firing && self.keep_ms > 0 {
            let since = *self.keep_since.get_or_insert(t);
            if t - since < self.keep_ms {
                return self.state;
            }
        }
        self.keep_since = None;
        self.state = if x { Pending } else { Inactive };
        self.state
    }
}

/// A small xorshift generator: the same sequences on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn machines(hold: Hold, keep_s: u64, clear_when: bool, on_no_data: NoData) -> SeriesMachines<u32> {
    let mut t = trigger("t", cmp(crate::plan::CmpOp::Gt, metric("x"), num(1.0)), hold, keep_s * 1000);
    t.on_no_data = on_no_data;
    if clear_when {
        let condition = cmp(crate::plan::CmpOp::Lt, metric("x"), num(0.5));
        t.clear_when = Some(crate::plan::ClearWhen {
            condition_text: condition.to_string(),
            condition,
            metrics: vec!["x".into()],
        });
    }
    SeriesMachines::new(&t)
}

fn state_of(m: &SeriesMachines<u32>, key: u32) -> TriggerState {
    m.active().find(|(k, _)| **k == key).map_or(Inactive, |(_, m)| m.state())
}

/// One evaluation of every series: `data[k] = Some((cond, clear))`, or `None` for all when there is no
/// data. Feeds the machines and the references; asserts they agree.
struct Both {
    m: SeriesMachines<u32>,
    refs: Vec<Reference>,
    on_no_data: NoData,
}

impl Both {
    fn new(hold: Hold, keep_s: u64, clear_when: bool, on_no_data: NoData, series: usize) -> Self {
        Both {
            m: machines(hold, keep_s, clear_when, on_no_data),
            refs: (0..series).map(|_| Reference::new(hold, keep_s as i64, clear_when)).collect(),
            on_no_data,
        }
    }

    fn step(&mut self, t: i64, data: Option<&[(bool, bool)]>, context: &str) {
        let mut out = Vec::new();
        let holds: Vec<u32> = data
            .map(|d| d.iter().enumerate().filter(|(_, (c, _))| *c).map(|(k, _)| k as u32).collect())
            .unwrap_or_default();
        let clears: Vec<bool> = data.map_or(vec![false; self.refs.len()], |d| d.iter().map(|(_, c)| *c).collect());
        let e = Evaluation {
            holds: &holds,
            no_data: data.is_none(),
            cleared: |k: &u32| clears.get(*k as usize).copied().unwrap_or(false),
            no_data_series: &0,
        };
        self.m.observe_with(t, e, &mut out);
        // The reference's reading of `on no data`.
        let any_active = self.refs.iter().any(|r| r.state != Inactive);
        for (k, r) in self.refs.iter_mut().enumerate() {
            let input = match (data, self.on_no_data) {
                (Some(d), _) => Input::Data { cond: d[k].0, clear: d[k].1 },
                (None, NoData::Keep) => Input::Still,
                (None, NoData::Fire) => {
                    let active = r.state != Inactive || (!any_active && k == 0);
                    Input::Data { cond: active, clear: false }
                }
                (None, NoData::Clear) => Input::Data { cond: false, clear: false },
            };
            let want = r.step(t, input);
            assert_eq!(state_of(&self.m, k as u32), want, "series {k} at {t} ms, {context}");
        }
    }
}

const HOLDS: [Hold; 6] = [
    Hold::For { ms: 0 },
    Hold::For { ms: 45_000 },
    Hold::Consecutive { evaluations: 3 },
    Hold::OfLast { n: 3, m: 5 },
    Hold::OfLast { n: 1, m: 1 },
    Hold::OfLast { n: 7, m: 128 },
];

#[test]
fn random_sequences_agree_with_the_reference() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for hold in HOLDS {
        for keep_s in [0, 30] {
            for clear_when in [false, true] {
                for on_no_data in [NoData::Keep, NoData::Fire, NoData::Clear] {
                    for series in [1, 4] {
                        let context = format!("{hold:?} keep {keep_s}s clear_when {clear_when} {on_no_data:?}");
                        let mut both = Both::new(hold, keep_s, clear_when, on_no_data, series);
                        let mut t = 0;
                        let mut no_data_run = 0;
                        let mut data = vec![(false, false); series];
                        for _ in 0..2_000 {
                            t += 10_000 + (rng.next() % 3) as i64 * 5_000;
                            if no_data_run == 0 && rng.chance(4) {
                                no_data_run = 1 + rng.next() % 6;
                            }
                            if no_data_run > 0 {
                                no_data_run -= 1;
                                both.step(t, None, &context);
                                continue;
                            }
                            for d in data.iter_mut() {
                                // Runs: a value changes with probability 30%.
                                if rng.chance(30) {
                                    d.0 = !d.0;
                                }
                                if rng.chance(30) {
                                    d.1 = !d.1;
                                }
                            }
                            both.step(t, Some(&data), &context);
                        }
                    }
                }
            }
        }
    }
}

fn run(hold: Hold, keep_s: u64, clear_when: bool, nd: NoData, steps: &[Option<(bool, bool)>]) -> Vec<TriggerState> {
    let mut m = machines(hold, keep_s, clear_when, nd);
    let mut out = Vec::new();
    let mut states = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let t = 15_000 * i as i64;
        let holds: Vec<u32> = step.filter(|(c, _)| *c).map(|_| 0).into_iter().collect();
        let clear = step.is_some_and(|(_, c)| c);
        let e = Evaluation { holds: &holds, no_data: step.is_none(), cleared: |_: &u32| clear, no_data_series: &0 };
        m.observe_with(t, e, &mut out);
        states.push(state_of(&m, 0));
    }
    states
}

const T: Option<(bool, bool)> = Some((true, false));
const F: Option<(bool, bool)> = Some((false, false));
const C: Option<(bool, bool)> = Some((false, true));
const N: Option<(bool, bool)> = None;

#[test]
fn n_of_m_fires_while_n_of_the_last_m_hold() {
    let got = run(Hold::OfLast { n: 2, m: 3 }, 0, false, NoData::Clear, &[T, F, T, F, F, T, T, F, F]);
    // At 45s the last three are F, T, F: one of three, so inactive without passing through pending.
    assert_eq!(got, [Pending, Inactive, Firing, Inactive, Inactive, Pending, Firing, Firing, Inactive]);
    // No data counts as false by default, and is not recorded under `keep`.
    let got = run(Hold::OfLast { n: 2, m: 3 }, 0, false, NoData::Clear, &[T, N, N, T]);
    assert_eq!(got, [Pending, Inactive, Inactive, Pending]);
    let got = run(Hold::OfLast { n: 2, m: 3 }, 0, false, NoData::Keep, &[T, N, N, T]);
    assert_eq!(got, [Pending, Pending, Pending, Firing]);
}

#[test]
fn clear_when_keeps_firing_until_the_clear_condition_holds() {
    let got = run(Hold::For { ms: 0 }, 0, true, NoData::Clear, &[T, F, F, C, F]);
    assert_eq!(got, [Firing, Firing, Firing, Inactive, Inactive]);
    // `keep firing for 30s` counts from the evaluation where it cleared (30s), while C keeps holding.
    let got = run(Hold::For { ms: 0 }, 30, true, NoData::Clear, &[T, F, C, C, C, C]);
    assert_eq!(got, [Firing, Firing, Firing, Firing, Inactive, Inactive]);
    // C no longer holding while kept firing makes the input true again: the clock starts over.
    let got = run(Hold::For { ms: 0 }, 30, true, NoData::Clear, &[T, C, F, C, C, C]);
    assert_eq!(got, [Firing, Firing, Firing, Firing, Firing, Inactive]);
    // A pending trigger whose condition turns false goes inactive as before.
    let got = run(Hold::For { ms: 30_000 }, 0, true, NoData::Clear, &[T, F, T, T, T, F, C]);
    assert_eq!(got, [Pending, Inactive, Pending, Pending, Firing, Firing, Inactive]);
    // No data: C has no value, so the series stays firing.
    let got = run(Hold::For { ms: 0 }, 0, true, NoData::Clear, &[T, N, N, C]);
    assert_eq!(got, [Firing, Firing, Firing, Inactive]);
}

#[test]
fn on_no_data_keep_fire_and_clear() {
    // keep: the clock stops, so `for 30s` needs three evaluations with data.
    let got = run(Hold::For { ms: 30_000 }, 0, false, NoData::Keep, &[T, N, N, T, T]);
    assert_eq!(got, [Pending, Pending, Pending, Pending, Firing]);
    // fire: no data counts as true, from inactive too (the no-data series).
    let got = run(Hold::For { ms: 30_000 }, 0, false, NoData::Fire, &[N, N, N, F]);
    assert_eq!(got, [Pending, Pending, Firing, Inactive]);
    // clear: as false.
    let got = run(Hold::For { ms: 0 }, 0, false, NoData::Clear, &[T, N]);
    assert_eq!(got, [Firing, Inactive]);
    // `N consecutive` neither counts nor resets under keep.
    let got = run(Hold::Consecutive { evaluations: 3 }, 0, false, NoData::Keep, &[T, N, T, N, T]);
    assert_eq!(got, [Pending, Pending, Pending, Pending, Firing]);
}

#[test]
fn series_come_and_go_with_clear_when_and_no_data() {
    let mut m = machines(Hold::For { ms: 0 }, 0, true, NoData::Keep);
    let mut out = Vec::new();
    let feed = |m: &mut SeriesMachines<u32>, t: i64, holds: &[u32], cleared: &[u32], no_data: bool| {
        let mut out = Vec::new();
        let e = Evaluation { holds, no_data, cleared: |k: &u32| cleared.contains(k), no_data_series: &0 };
        m.observe_with(t, e, &mut out);
        out.len()
    };
    assert_eq!(feed(&mut m, 0, &[1, 2], &[], false), 2);
    // Series 1 disappears but is not cleared: it stays firing; 2 is cleared.
    feed(&mut m, 15_000, &[], &[2], false);
    assert_eq!((state_of(&m, 1), state_of(&m, 2)), (Firing, Inactive));
    // No data keeps 1 firing whatever C says.
    feed(&mut m, 30_000, &[], &[1], true);
    assert_eq!(state_of(&m, 1), Firing);
    feed(&mut m, 45_000, &[3], &[1], false);
    assert_eq!((state_of(&m, 1), state_of(&m, 3), m.len()), (Inactive, Firing, 1));
    m.clear(60_000, &mut out);
    assert_eq!(out.len(), 1);
}
