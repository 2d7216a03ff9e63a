//! `ripcord lsp` as an editor speaks to it: the real binary over stdio with LSP framing, one test per
//! feature: the lifecycle, diagnostics on open and change (the same as `ripcord lint --format json`, config
//! and allow comments honoured), hover, definition, references, rename, completion, formatting (the same as
//! `ripcord fmt`), the outline, semantic tokens, quick fixes, the simulation code lens, and bad input.

#[path = "lsp/client.rs"]
mod client;
mod support;

use std::path::Path;

use client::{Client, file_uri, position_of};
use serde_json::{Value, json};
use support::bin::Test;

const DEMO: &str = r#"runbook demo {
  channel ops webhook "https://hooks.example.com/ops"
  metric error_rate = promql `sum(rate(errors_total[1m]))`
  metric p95_latency = promql `histogram_quantile(0.95, sum by (le) (rate(latency_bucket[5m])))`

  trigger errors: error_rate > 5% for 1m -> level 1
  trigger slow: p95_latency > 2s for 3 consecutive -> level 2
  trigger watch: error_rate > 1% for 10m -> notify ops "error rate above 1%"

  level 1 "Traffic rollback" {
    on failure escalate level 2
    step shell "./rollback" timeout 30s
    step verify error_rate < 1% within 2m
    step notify ops "rolled back"
  }

  level 2 "Full rollback" {
    approval required
    step shell "./full-rollback" timeout 5m
    step verify error_rate < 1% within 5m
  }
}
"#;

const URI: &str = "file:///nonexistent/demo.runbook";

fn open_demo() -> Client {
    let (mut c, _) = Client::start();
    c.open(URI, DEMO);
    c.diagnostics(URI, 1);
    c
}

fn at(text: &str, needle: &str, nth: usize, shift: usize) -> Value {
    json!({"textDocument": {"uri": URI}, "position": position_of(text, needle, nth, shift)})
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn lifecycle_initialize_capabilities_shutdown_exit() {
    let (c, caps) = Client::start();
    for capability in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "completionProvider",
        "documentFormattingProvider",
        "documentSymbolProvider",
        "semanticTokensProvider",
        "codeActionProvider",
        "codeLensProvider",
    ] {
        assert!(!caps[capability].is_null(), "missing {capability}: {caps}");
    }
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn diagnostics_on_open_and_on_every_change() {
    let (mut c, _) = Client::start();
    let broken = DEMO.replace("-> level 2\n  trigger watch", "-> level 7\n  trigger watch");
    c.open(URI, &broken);
    let d = c.diagnostics(URI, 1);
    assert_eq!(codes(&d), ["RC110"], "{d:?}");
    assert_eq!(d[0]["severity"], 1);
    assert_eq!(d[0]["source"], "ripcord");
    assert_eq!(d[0]["range"]["start"], position_of(&broken, "7\n", 0, 0));
    let message = d[0]["message"].as_str().unwrap_or("");
    assert!(message.contains("level 7") && message.contains("\nhelp: "), "{message}");

    c.change(URI, 2, DEMO);
    assert_eq!(c.diagnostics(URI, 2), Vec::<Value>::new());

    // A lint finding (no timeout on a shell step), then the same with an allow comment.
    let lint = DEMO.replace("\"./rollback\" timeout 30s", "\"./rollback\"");
    c.change(URI, 3, &lint);
    assert_eq!(codes(&c.diagnostics(URI, 3)), ["RC802"]);
    let allowed = lint.replace("\"./rollback\"\n", "\"./rollback\" # ripcord: allow(RC802) the script bounds itself\n");
    c.change(URI, 4, &allowed);
    assert_eq!(c.diagnostics(URI, 4), Vec::<Value>::new());
    // Rapid changes: the last version's diagnostics are published.
    for v in 5..10 {
        c.change(URI, v, if v % 2 == 0 { DEMO } else { &broken });
    }
    assert_eq!(codes(&c.diagnostics(URI, 9)), ["RC110"]);
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn diagnostics_honour_ripcord_toml_beside_the_runbook() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ripcord.toml"), "[rules]\nstep-without-timeout = \"off\"\n").expect("write");
    let path = dir.path().join("sub").join("x.runbook");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let uri = file_uri(&path);
    let (mut c, _) = Client::start();
    c.open(&uri, &DEMO.replace("\"./rollback\" timeout 30s", "\"./rollback\""));
    assert_eq!(c.diagnostics(&uri, 1), Vec::<Value>::new());
    assert_eq!(c.stop(), Some(0));
}

/// Every corpus file and every runbook: the server reports what `ripcord lint --format json` reports, with
/// the same codes, positions, messages and help.
#[test]
fn diagnostics_are_the_same_as_lint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = ["tests/corpus", "runbooks"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).expect("read dir").flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
        .collect();
    files.sort();
    assert!(files.len() > 50);
    let (mut c, _) = Client::start();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue }; // invalid UTF-8 is not a document
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
        let uri = format!("file:///nonexistent/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("x"));
        c.open(&uri, &text);
        let got: Vec<Value> = c
            .diagnostics(&uri, 1)
            .iter()
            .map(|d| {
                json!([
                    d["code"],
                    d["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
                    d["range"]["start"]["character"].as_u64().unwrap_or(0) + 1,
                    d["range"]["end"]["line"].as_u64().unwrap_or(0) + 1,
                    d["range"]["end"]["character"].as_u64().unwrap_or(0) + 1,
                    d["message"]
                ])
            })
            .collect();
        let out = Test::new().args(["lint", "--format", "json"]).arg(path).run();
        let lint: Value = serde_json::from_slice(&out.stdout).expect("lint JSON");
        let want: Vec<Value> = lint["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let message = match f["help"].as_str() {
                    Some(h) => format!("{}\nhelp: {h}", f["message"].as_str().unwrap_or("")),
                    None => f["message"].as_str().unwrap_or("").to_string(),
                };
                json!([f["code"], f["line"], f["column"], f["end_line"], f["end_column"], message])
            })
            .collect();
        assert_eq!(got, want, "{}", path.display());
    }
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn hover_explains_metrics_triggers_levels_and_codes() {
    let mut c = open_demo();
    let hover = |c: &mut Client, needle: &str, nth: usize| -> String {
        let r = c.request("textDocument/hover", at(DEMO, needle, nth, 1));
        r["contents"]["value"].as_str().unwrap_or_default().to_string()
    };
    let metric = hover(&mut c, "error_rate", 1);
    assert!(metric.contains("sum(rate(errors_total[1m]))"), "{metric}");
    let trigger = hover(&mut c, "errors:", 0);
    assert!(trigger.contains("Fires 1m after `error_rate > 0.05` turns true"), "{trigger}");
    assert!(trigger.contains("starts level 1 \"Traffic rollback\""), "{trigger}");
    let consecutive = hover(&mut c, "slow:", 0);
    assert!(consecutive.contains("3rd evaluation in a row") && consecutive.contains("30s after"), "{consecutive}");
    let level = hover(&mut c, "level 1 \"", 0);
    assert!(level.contains("`L1.S1` step shell \"./rollback\""), "{level}");
    assert!(level.contains("escalate to level 2 \"Full rollback\""), "{level}");
    assert!(level.contains("Started by `errors`"), "{level}");

    // A diagnostic's code: its explanation.
    let linted = DEMO.replace("\"./rollback\" timeout 30s", "\"./rollback\"");
    c.change(URI, 2, &linted);
    c.diagnostics(URI, 2);
    let r = c.request("textDocument/hover", at(&linted, "\"./rollback\"", 0, 2));
    let text = r["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("RC802") && text.contains("step-without-timeout") && text.contains("## What it does"),
        "{text}"
    );
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn definition_references_and_rename() {
    let mut c = open_demo();
    // A metric used in a verify step: its definition is the declaration.
    let def = c.request("textDocument/definition", at(DEMO, "error_rate < 1%", 0, 2));
    assert_eq!(def["range"]["start"], position_of(DEMO, "error_rate =", 0, 0));
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": URI}, "position": position_of(DEMO, "error_rate", 0, 0), "context": {"includeDeclaration": true}}),
    );
    assert_eq!(refs.as_array().map(Vec::len), Some(5), "{refs}");
    // Level 2: declared once, targeted by a trigger, escalated to.
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": URI}, "position": position_of(DEMO, "level 2\n", 0, 6), "context": {"includeDeclaration": true}}),
    );
    assert_eq!(refs.as_array().map(Vec::len), Some(3), "{refs}");
    // Channels: the declaration, a trigger's notify, a notify step.
    let def = c.request("textDocument/definition", at(DEMO, "notify ops", 1, 8));
    assert_eq!(def["range"]["start"], position_of(DEMO, "ops webhook", 0, 0));

    let prepared = c.request("textDocument/prepareRename", at(DEMO, "p95_latency", 1, 0));
    assert_eq!(prepared["start"], position_of(DEMO, "p95_latency", 1, 0));
    let edit = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": URI}, "position": position_of(DEMO, "level 2\n", 0, 6), "newName": "5"}),
    );
    let changes = edit["changes"][URI].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|e| e["newText"] == "5"));
    let edit = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": URI}, "position": position_of(DEMO, "ops", 0, 1), "newName": "oncall"}),
    );
    assert_eq!(edit["changes"][URI].as_array().map(Vec::len), Some(3));
    // A reserved word, or a clash, is refused with a message.
    let refused = c.request_raw(
        "textDocument/rename",
        json!({"textDocument": {"uri": URI}, "position": position_of(DEMO, "error_rate", 0, 0), "newName": "level"}),
    );
    assert!(refused["error"]["message"].as_str().unwrap_or("").contains("reserved"), "{refused}");
    let refused = c.request_raw("textDocument/rename", json!({"textDocument": {"uri": URI}, "position": position_of(DEMO, "error_rate", 0, 0), "newName": "p95_latency"}));
    assert!(refused["error"]["message"].as_str().unwrap_or("").contains("already declared"), "{refused}");
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn hover_tells_a_window_a_clear_condition_and_a_no_data_policy() {
    let mut c = open_demo();
    let text = DEMO.replace(
        "p95_latency > 2s for 3 consecutive",
        "p95_latency > 2s for 3 of 5 clear when p95_latency < 1s keep firing for 1m on no data keep",
    );
    c.change(URI, 2, &text);
    c.diagnostics(URI, 2);
    let r = c.request("textDocument/hover", at(&text, "slow:", 0, 1));
    let hover = r["contents"]["value"].as_str().unwrap_or_default();
    assert!(hover.contains("true at 3 or more of the last 5 evaluations"), "{hover}");
    assert!(hover.contains("until an evaluation where `p95_latency < 1` is true"), "{hover}");
    assert!(hover.contains("keeps firing for 1m more"), "{hover}");
    assert!(hover.contains("no data") && hover.contains("timers pause"), "{hover}");
    assert_eq!(c.stop(), Some(0));
}

fn labels(result: &Value) -> Vec<String> {
    let items = result.as_array().or_else(|| result["items"].as_array()).cloned().unwrap_or_default();
    items.iter().map(|i| i["label"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn completion_offers_what_fits_the_cursor() {
    let (mut c, _) = Client::start();
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("    step ", &["shell", "http", "verify", "wait", "notify", "snapshot", "restore"], &["error_rate"]),
        ("  trigger t: ", &["error_rate", "p95_latency", "avg_over"], &["step"]),
        ("  trigger t: error_rate > 1% -> level ", &["1", "2"], &["error_rate"]),
        ("    on failure escalate level ", &["1", "2"], &[]),
        ("    step notify ", &["ops", "log"], &["shell"]),
        ("  trigger t: error_rate > 1% -> notify ", &["ops", "log"], &[]),
        ("    step shell \"./x\" ", &["timeout", "retry", "idempotent"], &["within", "expect"]),
        ("    step verify error_rate < 1% ", &["within", "every", "for"], &["timeout"]),
        ("    step verify error_rate < 1% within 2m for 3 ", &["consecutive"], &["of"]),
        ("  trigger t: error_rate > 1% ", &["for", "clear when", "keep firing for", "on no data", "->"], &["step"]),
        ("  trigger t: error_rate > 1% for 3 ", &["consecutive", "of"], &[]),
        ("  trigger t: error_rate > 1% on ", &["no data"], &["failure"]),
        ("  trigger t: error_rate > 1% on no data ", &["keep", "fire", "clear"], &[]),
        ("  trigger t: error_rate > 1% for 1m clear ", &["when"], &[]),
        ("    step http POST \"https://x\" timeout 5s ", &["header", "body", "expect", "retry"], &["timeout"]),
        ("    ", &["step", "parallel", "deadline", "approval required", "on failure"], &["metric"]),
        ("  ", &["metric", "channel", "trigger", "level", "evaluate every"], &["step"]),
    ];
    for (i, (line, want, not)) in cases.iter().enumerate() {
        // The line goes at the end of level 2 (or, for runbook items, after the metrics).
        let anchor = if line.starts_with("    ") {
            "    step verify error_rate < 1% within 5m\n"
        } else {
            "  metric p95_latency"
        };
        let text = if line.starts_with("    ") {
            DEMO.replace(anchor, &format!("{anchor}{line}\n"))
        } else {
            DEMO.replace(anchor, &format!("{line}\n{anchor}"))
        };
        let uri = format!("file:///nonexistent/c{i}.runbook");
        c.open(&uri, &text);
        let position = position_of(&text, &format!("{line}\n"), 0, line.encode_utf16().count());
        let got =
            labels(&c.request("textDocument/completion", json!({"textDocument": {"uri": uri}, "position": position})));
        for w in *want {
            assert!(got.iter().any(|g| g == w), "{line:?}: missing {w} in {got:?}");
        }
        for n in *not {
            assert!(!got.iter().any(|g| g == n), "{line:?}: unexpected {n} in {got:?}");
        }
    }
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn formatting_is_exactly_what_fmt_writes() {
    let messy = "runbook   demo {\n  metric error_rate=promql `x`\n trigger errors:error_rate>5% for 1m->level 1\n  level 1 \"R\" {\n step shell \"./r\"   timeout 30s\n  }\n}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.runbook");
    std::fs::write(&path, messy).expect("write");
    let fmt = Test::new().arg("fmt").arg(&path).run();
    assert!(fmt.status.success(), "fmt failed: {}", String::from_utf8_lossy(&fmt.stderr));
    let want = std::fs::read_to_string(&path).expect("read");
    assert_ne!(want, messy);

    let (mut c, _) = Client::start();
    c.open(URI, messy);
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], want.as_str());
    assert_eq!(edits[0]["range"]["start"], json!({"line": 0, "character": 0}));
    // A formatted runbook needs no edit; a broken one gets none.
    c.change(URI, 2, &want);
    assert_eq!(
        c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}})
        ),
        json!([])
    );
    c.change(URI, 3, "runbook x {");
    assert_eq!(
        c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}})
        ),
        Value::Null
    );
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn outline_and_semantic_tokens() {
    let mut c = open_demo();
    let symbols = c.request("textDocument/documentSymbol", json!({"textDocument": {"uri": URI}}));
    assert_eq!(symbols[0]["name"], "demo");
    let children: Vec<String> = symbols[0]["children"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| s["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(children, ["ops", "error_rate", "p95_latency", "errors", "slow", "watch", "level 1", "level 2"]);
    let level = &symbols[0]["children"][6];
    assert_eq!(level["detail"], "Traffic rollback");
    assert_eq!(level["children"][0]["name"], "L1.S1");

    let tokens = c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": URI}}));
    let data: Vec<u64> =
        tokens["data"].as_array().cloned().unwrap_or_default().iter().filter_map(Value::as_u64).collect();
    assert_eq!(data.len() % 5, 0);
    // Decode: (line, start, length, type) of each token.
    let (mut line, mut start) = (0, 0);
    let mut decoded = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            start = 0;
        }
        line += t[0];
        start += t[1];
        decoded.push((line, start, t[2], t[3]));
    }
    // `runbook` is a keyword (0), `demo` a namespace (10); `error_rate` in the first trigger a variable (1).
    assert_eq!(decoded[0], (0, 0, 7, 0));
    assert_eq!(decoded[1], (0, 8, 4, 10));
    let p = position_of(DEMO, "error_rate >", 0, 0);
    assert!(decoded.contains(&(p["line"].as_u64().unwrap_or(0), p["character"].as_u64().unwrap_or(0), 10, 1)));
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn quick_fixes_for_did_you_mean_and_missing_units() {
    let (mut c, _) = Client::start();
    let typo = DEMO
        .replace("step notify ops \"rolled back\"", "step notify opps \"rolled back\"")
        .replace("timeout 30s", "timeout 30");
    c.open(URI, &typo);
    let d = c.diagnostics(URI, 1);
    assert_eq!(codes(&d), ["RC203", "RC113"]);
    let actions = |c: &mut Client, d: &Value| {
        c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": URI}, "range": d["range"], "context": {"diagnostics": [d]}}),
        )
    };
    let unit = actions(&mut c, &d[0]);
    assert_eq!(unit[0]["title"], "Write `30s`");
    assert_eq!(unit[0]["isPreferred"], true);
    assert_eq!(unit[0]["kind"], "quickfix");
    assert_eq!(unit[0]["edit"]["changes"][URI][0]["newText"], "30s");
    let name = actions(&mut c, &d[1]);
    assert_eq!(name[0]["title"], "Change `opps` to `ops`");
    assert_eq!(name[0]["edit"]["changes"][URI][0]["range"], d[1]["range"]);
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn code_lens_simulates_triggers_against_the_series_beside_the_runbook() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root.join("runbooks/config-rollback.runbook")).expect("runbook");
    std::fs::copy(root.join("examples/incidents/config-rollback.csv"), dir.path().join("incident.csv")).expect("copy");
    let path = dir.path().join("incident.runbook");
    std::fs::write(&path, &text).expect("write");
    let uri = file_uri(&path);
    let (mut c, _) = Client::start();
    c.open(&uri, &text);
    c.diagnostics(&uri, 1);
    let lenses = c.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    let lenses = lenses.as_array().cloned().unwrap_or_default();
    let triggers = text.lines().filter(|l| l.trim_start().starts_with("trigger ")).count();
    assert_eq!(lenses.len(), triggers);
    let slow = lenses
        .iter()
        .find(|l| l["range"]["start"] == position_of(&text, "trigger slow_memory", 0, 0))
        .expect("a lens on slow_memory");
    assert_eq!(slow["command"]["title"], "fires at 00:17:00 over incident.csv");
    assert!(lenses.iter().any(|l| l["command"]["title"].as_str().unwrap_or("").starts_with("does not fire")));
    // The lens's command returns the whole timeline, as `simulate` prints it.
    let timeline = c.request(
        "workspace/executeCommand",
        json!({"command": slow["command"]["command"], "arguments": slow["command"]["arguments"]}),
    );
    assert!(timeline.as_str().unwrap_or("").contains("trigger slow_memory          FIRING"), "{timeline}");

    // No series beside a runbook: no lenses.
    c.open(URI, DEMO);
    assert_eq!(c.request("textDocument/codeLens", json!({"textDocument": {"uri": URI}})), json!([]));
    assert_eq!(c.stop(), Some(0));
}

#[test]
fn bad_input_never_stops_the_server() {
    let (mut c, _) = Client::start();
    let nasty = [
        "",
        "runbook",
        "}}}}",
        "\u{feff}runbook x { level 1 { step shell \"\u{1F600}",
        "(((((((((((",
        "runbook x { trigger t: a > -> level 1 }",
    ];
    for (i, text) in nasty.iter().enumerate() {
        let version = i as i64 + 1;
        if i == 0 {
            c.open(URI, text)
        } else {
            c.change(URI, version, text)
        }
        assert!(!c.diagnostics(URI, version).is_empty(), "{text:?}");
        for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition"] {
            c.request(method, json!({"textDocument": {"uri": URI}, "position": {"line": 99, "character": 99}}));
            c.request(method, json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 3}}));
        }
        c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": URI}}));
        c.request("textDocument/documentSymbol", json!({"textDocument": {"uri": URI}}));
        c.request("textDocument/codeLens", json!({"textDocument": {"uri": URI}}));
    }
    // Larger than `check` accepts: RC002, and nothing else.
    let huge = format!("runbook big {{\n{}}}\n", "  # padding\n".repeat(800_000));
    c.change(URI, 99, &huge);
    assert_eq!(codes(&c.diagnostics(URI, 99)), ["RC002"]);
    c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": URI}}));
    // A request about a document that is not open is an error, not a crash.
    let r = c.request_raw(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nope.runbook"}, "position": {"line": 0, "character": 0}}),
    );
    assert!(r.get("error").is_some());
    assert_eq!(c.stop(), Some(0));
}
