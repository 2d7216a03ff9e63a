//! What a run shows while it goes: on a terminal, the level and a spinner with the elapsed time for each
//! running step (indicatif); otherwise plain lines, one when a step starts and one when it ends. Everything
//! goes to stderr; stdout is kept for `--format json` and `notify log`. Every line passes through
//! `text::for_terminal`: a value (a reason, a message, a command's output) never sends the terminal an
//! escape sequence.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::format_duration;
use crate::text::{escape_control, for_terminal};

pub struct Progress {
    multi: Option<MultiProgress>,
}

pub struct StepBar {
    bar: Option<ProgressBar>,
    label: String,
}

impl Progress {
    pub fn new() -> Progress {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("RIPCORD_PLAIN").is_none();
        let multi = tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { multi }
    }

    pub fn line(&self, text: &str) {
        let text = for_terminal(text);
        let text = text.as_ref();
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    pub fn step_started(&self, id: &str, kind: &str, detail: &str) -> StepBar {
        let short: String = escape_control(detail.lines().next().unwrap_or("")).chars().take(100).collect();
        let label = format!("{id} {kind}: {short}");
        match &self.multi {
            Some(m) => {
                let bar = m.add(ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                    bar.set_style(style);
                }
                bar.set_message(label.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                StepBar { bar: Some(bar), label }
            }
            None => {
                eprintln!("  ▸ {label}");
                StepBar { bar: None, label }
            }
        }
    }

    pub fn step_finished(&self, bar: StepBar, ok: bool, elapsed: Duration, detail: &str) {
        let mark = if ok { "✓" } else { "✗" };
        let mut text = format!("  {mark} {} ({})", bar.label, format_duration(elapsed.as_millis() as u64));
        if !detail.is_empty() {
            text.push_str(&format!(": {detail}"));
        }
        if let Some(b) = bar.bar {
            b.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&b);
            }
        }
        self.line(&text);
    }

    pub fn step_interrupted(&self, bar: StepBar) {
        if let Some(b) = &bar.bar {
            b.finish_and_clear();
        }
        self.line(&format!("  ■ {} (interrupted)", bar.label));
    }
}
