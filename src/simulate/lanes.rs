//! Lanes of runs, one per label set: the order in which the series' fires are played, the runs of each level
//! at once up to its `max parallel`, and the series waiting for a free slot. Each lane is a [`Player`], which
//! plays one series' runs exactly as a runbook of one series always did.

use std::collections::BTreeMap;

use super::run::{Fire, Note, Player, Probe, RunOptions, RunRecord};
use crate::plan::{Labels, Plan};

/// Plays the level runs that the fire events cause. `fires` must be in time order.
///
/// Each label set is a lane that plays as a runbook of one series always did (one chain of runs at a time,
/// cooldowns per level, higher levels escalating); lanes run at once, a level holding at most `max
/// parallel` runs. A series whose level is full waits, first come first served, and starts when a run of
/// that level ends if `still_firing` says its trigger still fires for it then.
pub fn play(
    plan: &Plan,
    fires: &[Fire],
    probe: &dyn Probe,
    options: &RunOptions,
    still_firing: &dyn Fn(&Fire, i64) -> bool,
) -> (Vec<RunRecord>, Vec<Note>) {
    let mut lanes: BTreeMap<Labels, Player<'_>> = BTreeMap::new();
    for fire in fires {
        lanes
            .entry(fire.labels.clone())
            .or_insert_with(|| Player {
                plan,
                probe,
                options,
                labels: fire.labels.clone(),
                fires: Vec::new(),
                next_fire: 0,
                runs: Vec::new(),
                notes: Vec::new(),
                last_end: BTreeMap::new(),
            })
            .fires
            .push(fire.clone());
    }
    let mut scheduler = Scheduler { busy: Vec::new(), waiting: Vec::new(), notes: Vec::new(), now: i64::MIN };
    loop {
        // The next thing to happen: a lane's next fire, or a run ending while a series waits.
        let next_fire = lanes
            .iter()
            .filter_map(|(labels, p)| p.fires.get(p.next_fire).map(|f| (f.t_ms, labels.clone())))
            .min_by_key(|(t, _)| *t);
        let now = scheduler.now;
        let next_free = (!scheduler.waiting.is_empty())
            .then(|| scheduler.busy.iter().map(|b| b.end).filter(|&e| e > now).min())
            .flatten();
        match (next_fire, next_free) {
            (Some((t, _)), Some(free)) if free <= t => scheduler.release(free, plan, &mut lanes, still_firing),
            (None, Some(free)) => scheduler.release(free, plan, &mut lanes, still_firing),
            (Some((t, labels)), _) => {
                scheduler.now = t;
                let Some(player) = lanes.get_mut(&labels) else { break };
                let chosen = player.next_group();
                let Some(fire) = chosen else { continue };
                if let Some(w) = scheduler.waiting.iter_mut().find(|w| w.labels == labels) {
                    // The series already waits: a higher level takes its place in the queue.
                    if fire.level > w.fire.level {
                        w.fire = fire;
                    }
                    continue;
                }
                if scheduler.has_slot(plan, fire.level, t) {
                    scheduler.start(player, fire);
                } else {
                    scheduler.wait(plan, fire, t);
                }
            }
            (None, None) => {
                // Whoever still waits when nothing more ends and nothing more fires never starts.
                for w in scheduler.waiting.drain(..) {
                    scheduler.notes.push(Note {
                        t_ms: w.since,
                        text: format!(
                            "`{}`{} waited for a free run of level {} until the end of the simulation",
                            w.fire.trigger,
                            series_suffix(&w.labels),
                            w.fire.level
                        ),
                    });
                }
                break;
            }
        }
    }
    let mut runs: Vec<RunRecord> = Vec::new();
    let mut notes = scheduler.notes;
    for (_, p) in lanes {
        runs.extend(p.runs);
        notes.extend(p.notes);
    }
    runs.sort_by(|a, b| (a.t_ms, &a.labels).cmp(&(b.t_ms, &b.labels)));
    for (i, r) in runs.iter_mut().enumerate() {
        r.id = format!("run-{}", i + 1);
    }
    notes.sort_by_key(|n| n.t_ms);
    (runs, notes)
}

/// ` {instance="a"}` for a series with labels, nothing for a trigger of one series.
pub fn series_suffix(labels: &Labels) -> String {
    if labels.is_empty() { String::new() } else { format!(" {labels}") }
}

/// Runs of each level across lanes, and the series waiting for one.
pub(super) struct Scheduler {
    /// The runs played so far that have not ended by `now`: their level and when they hold a slot.
    busy: Vec<Busy>,
    waiting: Vec<Waiting>,
    notes: Vec<Note>,
    /// The time being played.
    now: i64,
}

pub(super) struct Busy {
    level: u32,
    start: i64,
    end: i64,
}

pub(super) struct Waiting {
    labels: Labels,
    fire: Fire,
    since: i64,
}

impl Scheduler {
    fn has_slot(&self, plan: &Plan, level: u32, t: i64) -> bool {
        let max = plan.level(level).map_or(1, |l| l.max_parallel.max(1)) as usize;
        self.busy.iter().filter(|b| b.level == level && b.start <= t && t < b.end).count() < max
    }

    fn start(&mut self, player: &mut Player<'_>, fire: Fire) {
        // Time only moves forward here: a run over by now never holds a slot again.
        let now = self.now;
        self.busy.retain(|b| b.end > now);
        let before = player.runs.len();
        player.run_chain(fire);
        for r in &player.runs[before..] {
            // A zero-length run still holds its slot for the instant it runs.
            self.busy.push(Busy { level: r.level, start: r.t_ms, end: r.end_ms.max(r.t_ms + 1) });
        }
    }

    fn wait(&mut self, plan: &Plan, fire: Fire, t: i64) {
        let max = plan.level(fire.level).map_or(1, |l| l.max_parallel);
        self.notes.push(Note {
            t_ms: t,
            text: format!(
                "`{}`{} fired for level {}; {max} run{} of level {} already running (max parallel {max}), so it waits",
                fire.trigger,
                series_suffix(&fire.labels),
                fire.level,
                if max == 1 { "" } else { "s" },
                fire.level
            ),
        });
        self.waiting.push(Waiting { labels: fire.labels.clone(), fire, since: t });
    }

    /// At `t` a run ended: the waiting series whose level has room start, in the order they came.
    fn release(
        &mut self,
        t: i64,
        plan: &Plan,
        lanes: &mut BTreeMap<Labels, Player<'_>>,
        still_firing: &dyn Fn(&Fire, i64) -> bool,
    ) {
        self.now = t;
        let waiting = std::mem::take(&mut self.waiting);
        let mut keep = Vec::new();
        for w in waiting {
            if !still_firing(&w.fire, t) {
                self.notes.push(Note {
                    t_ms: t,
                    text: format!(
                        "`{}`{} no longer fires; its waiting run of level {} is dropped",
                        w.fire.trigger,
                        series_suffix(&w.labels),
                        w.fire.level
                    ),
                });
                continue;
            }
            if self.has_slot(plan, w.fire.level, t)
                && let Some(player) = lanes.get_mut(&w.labels)
            {
                let fire = Fire { t_ms: t, ..w.fire };
                self.start(player, fire);
            } else {
                keep.push(w);
            }
        }
        self.waiting = keep;
    }
}
