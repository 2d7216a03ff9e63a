//! The streamed simulation against the simulation of the whole series set: the same result however the
//! samples are cut into fills, on every bundled incident and on series with labels; and the refusal of a
//! long file out of time order.

#![allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

use super::{Keep, SimulateOptions, StreamStop, simulate, simulate_stream, to_json, to_text};
use crate::source::{Filled, Format, ReadAhead, SeriesStream, Window, read_series};

/// The streamed simulation, read on this thread and on a thread of its own (as `simulate` reads): both
/// must give the same.
fn streamed(plan: &crate::plan::Plan, text: &str, format: Format, rows: usize) -> Result<String, String> {
    let mut stream = SeriesStream::new(format, text.as_bytes()).unwrap();
    let here = simulated(plan, |w| stream.fill(w, rows));
    let stream = SeriesStream::new(format, std::io::Cursor::new(text.as_bytes().to_vec())).unwrap();
    let mut ahead = ReadAhead::start(stream, "s.csv", rows);
    assert_eq!(simulated(plan, |w| ahead.fill(w)), here, "read ahead, fills of {rows}");
    here
}

fn simulated(plan: &crate::plan::Plan, mut fill: impl FnMut(&mut Window) -> Filled) -> Result<String, String> {
    let mut window = Window::new("s.csv");
    let fill = |w: &mut Window| match fill(w) {
        Filled::More => Ok(true),
        Filled::End => Ok(false),
        Filled::Slow(_) => Err("slow".to_string()),
        Filled::Failed(d) => Err(format!("{}: {} at {}..{}", d.code, d.message, d.span.start, d.span.end)),
    };
    match simulate_stream(plan, &mut window, fill, &SimulateOptions::default(), Keep::Reach) {
        Ok((sim, _)) => Ok(format!("{}{}", to_text(&sim), to_json(&sim))),
        Err(StreamStop::Read(e)) => Err(e),
        Err(StreamStop::Range(d)) => Err(d.message),
    }
}

fn whole(plan: &crate::plan::Plan, text: &str, path: &str) -> String {
    let set = read_series(path, text).unwrap();
    let sim = simulate(plan, &set, &SimulateOptions::default());
    format!("{}{}", to_text(&sim), to_json(&sim))
}

#[test]
fn every_incident_streams_to_the_same_result_in_any_fill_size() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut checked = 0;
    for name in [
        "config-rollback",
        "feature-flag-rollout",
        "host-disk-space",
        "multi-tier-release",
        "release-rollback",
        "storage-migration",
    ] {
        let Ok(runbook) = std::fs::read_to_string(format!("{root}/runbooks/{name}.runbook")) else { continue };
        let text = std::fs::read_to_string(format!("{root}/examples/incidents/{name}.csv")).unwrap();
        let plan = crate::compile(&runbook).plan.unwrap();
        let expected = whole(&plan, &text, "s.csv");
        for rows in [1, 7, 100, 1 << 19] {
            assert_eq!(streamed(&plan, &text, Format::Csv, rows).unwrap(), expected, "{name} in fills of {rows}");
        }
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
fn series_with_labels_windows_and_offsets_stream_to_the_same_result() {
    let runbook = r#"runbook r {
  trigger hot: avg_over(temp, 2m) > 50 for 1m -> level 1
  trigger jump: temp - temp offset 5m > 20 -> level 1
  trigger up: rate(requests, 3m) > 1 -> level 1
  level 1 {
    step shell "true" timeout 1m
  }
}
"#;
    let compiled = crate::compile(runbook);
    let plan = compiled.plan.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let mut text = String::from("time,metric,value,labels\n");
    let mut jsonl = String::new();
    for k in 0..400usize {
        let t = k * 15;
        for (i, host) in ["a", "b", "c"].iter().enumerate() {
            if k % (5 + i) == 3 {
                continue;
            }
            let temp = 40.0 + ((k as f64 + i as f64 * 17.0) / 9.0).sin() * 30.0;
            text.push_str(&format!("{t},temp,{temp},\"{{host=\"\"{host}\"\"}}\"\n"));
            text.push_str(&format!("{t},requests,{},\"{{host=\"\"{host}\"\"}}\"\n", k * (i + 1) * (k % 50)));
            jsonl.push_str(&format!(
                "{{\"time\":{t},\"metric\":\"temp\",\"labels\":{{\"host\":\"{host}\"}},\"value\":{temp}}}\n"
            ));
            jsonl.push_str(&format!(
                "{{\"time\":{t},\"metric\":\"requests{{host='{host}'}}\",\"value\":\"{}\"}}\n",
                k * (i + 1) * (k % 50)
            ));
        }
    }
    let expected = whole(&plan, &text, "s.csv");
    assert!(expected.contains("FIRING"), "{expected}");
    assert_eq!(whole(&plan, &jsonl, "s.jsonl"), expected, "JSON Lines reads as the CSV does");
    for rows in [1, 13, 500] {
        assert_eq!(streamed(&plan, &text, Format::Csv, rows).unwrap(), expected, "CSV in fills of {rows}");
        assert_eq!(
            streamed(&plan, &jsonl, Format::JsonLines, rows).unwrap(),
            expected,
            "JSON Lines in fills of {rows}"
        );
    }
}

#[test]
fn a_long_file_written_series_by_series_is_refused_with_how_to_sort_it() {
    let plan = crate::compile(
        "runbook r {\n  trigger t: x > 1 -> level 1\n  level 1 {\n    step shell \"true\" timeout 1m\n  }\n}\n",
    )
    .plan
    .unwrap();
    let mut text = String::from("time,metric,value\n");
    for m in ["x", "y"] {
        for k in 0..100 {
            text.push_str(&format!("{},{m},1\n", k * 15));
        }
    }
    // Read whole (one fill), any order of series is fine.
    assert!(streamed(&plan, &text, Format::Csv, 1 << 19).is_ok());
    let refused = streamed(&plan, &text, Format::Csv, 50).unwrap_err();
    assert!(refused.starts_with("RC411: `y` at 0 comes after samples up to"), "{refused}");
}

#[test]
fn a_series_going_back_before_evaluated_time_is_refused_the_same_read_ahead() {
    let plan = crate::compile(
        "runbook r {\n  trigger t: x > 1 -> level 1\n  level 1 {\n    step shell \"true\" timeout 1m\n  }\n}\n",
    )
    .plan
    .unwrap();
    let mut text = String::from("time,metric,value\n");
    for k in 0..100 {
        text.push_str(&format!("{t},x,1\n{t},y,2\n", t = k * 15));
    }
    // `y` goes back in time to a time already evaluated: the order refusal, not the full reader.
    text.push_str("30,y,5\n");
    let refused = streamed(&plan, &text, Format::Csv, 50).unwrap_err();
    assert!(refused.starts_with("RC411: `y` at 30 comes after samples up to"), "{refused}");
    // Going back to a time not yet evaluated is the full reader's to report.
    assert_eq!(streamed(&plan, &text, Format::Csv, 1 << 19).unwrap_err(), "slow");
}
