//! Plans of the real runbooks, and what the product sketch (shared/design/language.md) promises.
//!
//! Every runbook in `runbooks/` and `tests/plans/` (the two examples of language.md, copied verbatim) is
//! planned by the real binary and snapshotted as text and JSON; every output format is byte-identical
//! from one run to the next. The sketch's examples must keep parsing and meaning what the sketch says, so
//! the second half asserts those meanings on the compiled `Plan`.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use ripcord::plan::{
    Action, ArithOp, CmpOp, Condition, Escalation, Hold, OnFailure, RestoreSource, Shape, Step, Target, Template,
    TemplatePart, Value, Variable, WindowFunc,
};
use ripcord::{Plan, compile};
use support::bin::Test;
use support::root;

/// Every runbook whose plan is snapshotted, as paths relative to the crate root.
fn runbooks() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["runbooks", "tests/plans"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
            .filter_map(|p| p.strip_prefix(root()).ok().map(Path::to_path_buf))
            .collect();
        files.sort();
        out.extend(files);
    }
    assert!(!out.is_empty(), "no runbooks found");
    out
}

/// `ripcord plan FILE --format FORMAT`, run from the crate root; fails unless it exits 0.
fn plan_output(file: &Path, format: &str) -> String {
    let out = Test::in_dir(root()).args(["plan", "--format", format]).arg(file).run();
    assert!(out.status.success(), "ripcord plan {} failed:\n{}", file.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 plan")
}

/// `runbooks/storage-migration.runbook` -> `runbooks-storage-migration`.
fn snapshot_name(file: &Path) -> String {
    file.with_extension("").to_string_lossy().replace(['/', '\\'], "-")
}

fn plan_of(text: &str) -> Plan {
    let compiled = compile(text);
    let errors: Vec<_> = compiled.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    compiled.plan.expect("a plan")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).expect("readable")
}

#[test]
fn plans_render_as_snapshotted() {
    // Every snapshot is compared before failing, so one run shows every changed plan.
    let mut failed = Vec::new();
    for file in runbooks() {
        for format in ["text", "json"] {
            let name = format!("{}.{format}", snapshot_name(&file));
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path("snapshots/plans");
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.set_description(format!("ripcord plan {} --format {format}", file.display()));
            let output = plan_output(&file, format);
            let compared = catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_snapshot!(name.clone(), output));
            }));
            if compared.is_err() {
                failed.push(name);
            }
        }
    }
    assert!(failed.is_empty(), "changed plans: {failed:#?}");
}

#[test]
fn plan_output_is_byte_identical_across_runs() {
    for file in runbooks() {
        for format in ["json", "yaml", "mermaid", "text"] {
            let first = plan_output(&file, format);
            let second = plan_output(&file, format);
            assert!(!first.is_empty(), "{} {format}", file.display());
            assert!(first == second, "{} --format {format} differs between runs", file.display());
        }
    }
}

#[test]
fn json_plan_is_the_compiled_plan() {
    for file in runbooks() {
        let printed: Plan = serde_json::from_str(&plan_output(&file, "json")).expect("a plan");
        let text = read(&file.to_string_lossy());
        assert_eq!(printed, plan_of(ripcord::source_text(&text)), "{}", file.display());
    }
}

// ---------------------------------------------------------------------------------------------------------
// The product sketch: shared/design/language.md
// ---------------------------------------------------------------------------------------------------------

fn sketch() -> Plan {
    plan_of(&read("tests/plans/sketch_storage_migration.runbook"))
}

fn trigger<'p>(plan: &'p Plan, name: &str) -> &'p ripcord::plan::Trigger {
    plan.trigger(name).unwrap_or_else(|| panic!("no trigger `{name}`"))
}

fn step<'p>(plan: &'p Plan, id: &str) -> &'p Step {
    plan.all_steps().into_iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
}

/// The text of a template without variables.
fn literal(template: &Template) -> String {
    assert!(template.is_literal(), "{template} has variables");
    template.render(|_| None)
}

fn metric(name: &str) -> Value {
    Value::Metric { name: name.to_string(), offset_ms: 0 }
}

fn number(value: f64) -> Value {
    Value::Number { value }
}

#[test]
fn the_sketch_examples_are_the_committed_copies() {
    // CI has shared/ beside the clone; a developer's checkout may not.
    let doc = root().join("../shared/design/language.md");
    let Ok(doc) = std::fs::read_to_string(&doc) else {
        eprintln!("skipped: {} not found", doc.display());
        return;
    };
    let blocks: Vec<&str> = doc.split("```").skip(1).step_by(2).collect();
    assert_eq!(blocks.len(), 2, "language.md has two examples");
    let copies = [read("tests/plans/sketch_storage_migration.runbook"), read("tests/plans/sketch_card.runbook")];
    for (block, copy) in blocks.iter().zip(&copies) {
        assert_eq!(block.strip_prefix('\n').unwrap_or(block), copy.as_str());
        let compiled = compile(copy);
        assert!(compiled.diagnostics.is_empty(), "{:#?}", compiled.diagnostics);
    }
}

#[test]
fn sketch_compiles_without_any_diagnostic() {
    let compiled = compile(&read("tests/plans/sketch_storage_migration.runbook"));
    assert!(compiled.diagnostics.is_empty(), "{:#?}", compiled.diagnostics);
}

#[test]
fn sketch_settings() {
    let plan = sketch();
    assert_eq!(plan.runbook, "storage_migration");
    assert_eq!(plan.owner.as_deref(), Some("platform-sre"));
    assert_eq!(plan.evaluation_interval_ms, 15_000);
    assert!(!plan.evaluation_interval_default);
    assert_eq!(plan.files_under, ["/var/lib/app", "/etc/app"]);
    let ops = &plan.channels[0];
    assert_eq!(ops.name, "ops");
    assert_eq!(ops.url.as_ref().map(literal).as_deref(), Some("https://hooks.example.com/services/ops"));
    let names: Vec<&str> = plan.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["error_rate", "p95_latency", "corrupt_rows"]);
    assert!(plan.metrics.iter().all(|m| m.promql.is_some()));
}

#[test]
fn sketch_has_seven_triggers_in_order() {
    let plan = sketch();
    let names: Vec<&str> = plan.triggers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["errors_critical", "latency_critical", "corruption", "errors_warning", "errors_watch", "spike", "flaky"]
    );
    assert!(plan.triggers.iter().all(|t| !t.generated_name));
}

#[test]
fn errors_critical_holds_one_minute_then_runs_level_1() {
    let plan = sketch();
    let t = trigger(&plan, "errors_critical");
    assert_eq!(t.hold, Hold::For { ms: 60_000 });
    assert_eq!(t.target, Target::Level { level: 1 });
    assert_eq!(
        t.condition,
        Condition::Compare { op: CmpOp::Gt, lhs: metric("error_rate"), rhs: number(0.05), matching: None }
    );
}

#[test]
fn latency_critical_compares_with_ten_seconds() {
    let plan = sketch();
    let t = trigger(&plan, "latency_critical");
    assert_eq!(t.condition_text, "p95_latency > 10");
    assert_eq!(t.hold, Hold::For { ms: 180_000 });
}

#[test]
fn corruption_fires_at_once_to_level_3() {
    let plan = sketch();
    let t = trigger(&plan, "corruption");
    assert_eq!(t.hold, Hold::For { ms: 0 });
    assert_eq!(t.keep_firing_for_ms, 0);
    assert_eq!(t.target, Target::Level { level: 3 });
}

#[test]
fn errors_watch_only_notifies() {
    let plan = sketch();
    let t = trigger(&plan, "errors_watch");
    assert_eq!(t.hold, Hold::For { ms: 600_000 });
    let Target::Notify { channel, message } = &t.target else {
        panic!("errors_watch notifies: {:?}", t.target);
    };
    assert_eq!(channel, "ops");
    assert_eq!(literal(message), "error rate above 1% for 10m");
}

#[test]
fn spike_compares_with_a_baseline_an_hour_ago() {
    let plan = sketch();
    let t = trigger(&plan, "spike");
    assert_eq!(t.condition_text, "error_rate > 3 * avg_over(error_rate, 1h) offset 1h");
    let baseline = Value::Window {
        func: WindowFunc::AvgOver,
        metric: "error_rate".to_string(),
        window_ms: 3_600_000,
        offset_ms: 3_600_000,
        quantile: None,
    };
    assert_eq!(
        t.condition,
        Condition::Compare {
            op: CmpOp::Gt,
            lhs: metric("error_rate"),
            rhs: Value::Arith { op: ArithOp::Mul, lhs: Box::new(number(3.0)), rhs: Box::new(baseline), matching: None },
            matching: None,
        }
    );
    assert_eq!(t.hold, Hold::For { ms: 300_000 });
    assert_eq!(t.metrics, ["error_rate"]);
}

#[test]
fn flaky_counts_three_consecutive_evaluations() {
    let plan = sketch();
    let t = trigger(&plan, "flaky");
    assert_eq!(t.hold, Hold::Consecutive { evaluations: 3 });
    assert_eq!(t.condition_text, "p95_latency > 1");
}

#[test]
fn sketch_levels_and_options() {
    let plan = sketch();
    let numbers: Vec<u32> = plan.levels.iter().map(|l| l.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    let l1 = plan.level(1).expect("level 1");
    assert_eq!(l1.title.as_deref(), Some("Traffic rollback"));
    assert_eq!(l1.deadline_ms, Some(180_000));
    assert!(!l1.approval_required);
    let l2 = plan.level(2).expect("level 2");
    assert!(l2.approval_required);
    assert_eq!(l2.cooldown_ms, 1_800_000);
    let l4 = plan.level(4).expect("level 4");
    assert_eq!(l4.deadline_ms, Some(3_600_000));
    assert_eq!(l4.on_failure, OnFailure::Abort);
}

#[test]
fn sketch_escalates_one_to_two_to_three_to_four() {
    let plan = sketch();
    let edges: Vec<(u32, u32)> = plan.escalations.iter().map(|&Escalation { from, to }| (from, to)).collect();
    assert_eq!(edges, [(1, 2), (2, 3), (3, 4)]);
}

#[test]
fn level_3_restarts_two_services_in_parallel() {
    let plan = sketch();
    let ids: Vec<&str> = plan.level(3).expect("level 3").steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["L3.S1", "L3.S2", "L3.S3", "L3.S4"]);
    let Action::Parallel { steps } = &step(&plan, "L3.S3").action else {
        panic!("L3.S3 is a parallel group");
    };
    let children: Vec<(&str, String)> = steps
        .iter()
        .map(|s| match &s.action {
            Action::Shell { command } => (s.id.as_str(), literal(command)),
            other => panic!("{} is {other:?}", s.id),
        })
        .collect();
    assert_eq!(
        children,
        [("L3.S3.1", "systemctl restart app-api".to_string()), ("L3.S3.2", "systemctl restart app-worker".to_string()),]
    );
    assert!(steps.iter().all(|s| s.timeout_ms == 120_000));
}

#[test]
fn sketch_steps_mean_what_they_say() {
    let plan = sketch();
    let lb = step(&plan, "L1.S1");
    assert_eq!((lb.timeout_ms, lb.retries, lb.backoff_ms), (10_000, 2, 1_000));
    let Action::Http { method, expect, .. } = &step(&plan, "L1.S2").action else {
        panic!("L1.S2 is http");
    };
    assert_eq!((method.as_str(), *expect), ("POST", 200));
    let Action::VerifyCondition { condition_text, .. } = &step(&plan, "L1.S3").action else {
        panic!("L1.S3 verifies a condition");
    };
    assert_eq!(condition_text, "error_rate < 0.01");
    assert_eq!(step(&plan, "L1.S3").timeout_ms, 120_000, "within 2m");
    let Action::Notify { message, .. } = &step(&plan, "L1.S4").action else {
        panic!("L1.S4 notifies");
    };
    assert!(message.parts.contains(&TemplatePart::Var(Variable::Trigger)));
    assert!(message.parts.contains(&TemplatePart::Var(Variable::Value)));
    assert!(step(&plan, "L2.S2").idempotent);
    assert_eq!(
        step(&plan, "L4.S1").action,
        Action::Restore { path: "/var/lib/app/db.dump".to_string(), from: RestoreSource::Snapshot }
    );
    assert_eq!(
        step(&plan, "L3.S2").action,
        Action::Restore {
            path: "/etc/app/storage.yaml".to_string(),
            from: RestoreSource::Path("/etc/app/storage.yaml.pre-migration".to_string())
        }
    );
}

#[test]
fn the_card_anonymous_trigger_is_trigger_1() {
    let plan = plan_of(&read("tests/plans/sketch_card.runbook"));
    assert_eq!(plan.triggers.len(), 1);
    let t = &plan.triggers[0];
    assert_eq!(t.name, "trigger_1");
    assert!(t.generated_name);
    assert_eq!(t.condition_text, "error_rate > 0.05");
    assert_eq!(t.hold, Hold::For { ms: 60_000 });
    assert_eq!(t.target, Target::Level { level: 1 });
    // Undeclared metrics read the input series of the same name.
    assert_eq!(plan.metrics[0].name, "error_rate");
    assert_eq!(plan.metrics[0].promql, None);
}

// ---------------------------------------------------------------------------------------------------------
// The sketch's smaller claims, one line each
// ---------------------------------------------------------------------------------------------------------

/// A runbook around `items`, with a level 1 for triggers to target.
fn runbook(items: &str) -> Plan {
    plan_of(&format!("runbook claims {{\n{items}\n  level 1 \"L\" {{\n    step shell \"true\"\n  }}\n}}\n"))
}

/// The canonical text of `condition` as a trigger's condition.
fn condition(condition: &str) -> String {
    let plan = runbook(&format!("trigger t: {condition} -> level 1"));
    trigger(&plan, "t").condition_text.clone()
}

#[test]
fn durations_in_conditions_are_seconds() {
    assert_eq!(condition("p95_latency > 250ms"), "p95_latency > 0.25");
    let plan = runbook("trigger t: p95_latency > 250ms -> level 1");
    assert_eq!(
        trigger(&plan, "t").condition,
        Condition::Compare { op: CmpOp::Gt, lhs: metric("p95_latency"), rhs: number(0.25), matching: None }
    );
    assert_eq!(condition("x > 15s"), "x > 15");
    assert_eq!(condition("x > 1h30m"), "x > 5400");
    assert_eq!(condition("x > 2d"), "x > 172800");
}

#[test]
fn numbers_and_percentages() {
    assert_eq!(condition("x > 42"), "x > 42");
    assert_eq!(condition("x > 0.05"), "x > 0.05");
    assert_eq!(condition("x > 1e-3"), "x > 0.001");
    assert_eq!(condition("x > 5%"), "x > 0.05");
    assert_eq!(condition("x > -2"), "x > -2");
}

#[test]
fn precedence_loosest_first_or_and_not_comparison_sum_product_negation() {
    assert_eq!(condition("not a > 1 and b > 1 or c > 1"), "not a > 1 and b > 1 or c > 1");
    assert_eq!(condition("not (a > 1 and b > 1)"), "not (a > 1 and b > 1)");
    assert_eq!(condition("a > 1 and (b > 1 or c > 1)"), "a > 1 and (b > 1 or c > 1)");
    assert_eq!(condition("a + b * c > 1"), "a + b * c > 1");
    assert_eq!(condition("(a + b) * c > 1"), "(a + b) * c > 1");
    assert_eq!(condition("a - (b - c) > 1"), "a - (b - c) > 1");
    assert_eq!(condition("-a * 2 > 1"), "-a * 2 > 1");
    let plan = runbook("trigger t: a > 1 or b > 1 and c > 1 -> level 1");
    assert!(matches!(
        &trigger(&plan, "t").condition,
        Condition::Or { rhs, .. } if matches!(**rhs, Condition::And { .. })
    ));
}

#[test]
fn every_function_of_the_sketch_exists() {
    for (written, canonical) in [
        ("avg_over(x, 5m) > 1", "avg_over(x, 5m) > 1"),
        ("min_over(x, 5m) > 1", "min_over(x, 5m) > 1"),
        ("max_over(x, 5m) > 1", "max_over(x, 5m) > 1"),
        ("sum_over(x, 5m) > 1", "sum_over(x, 5m) > 1"),
        ("count_over(x, 5m) > 1", "count_over(x, 5m) > 1"),
        ("quantile_over(0.95, x, 5m) > 1", "quantile_over(0.95, x, 5m) > 1"),
        ("quantile_over(95%, x, 5m) > 1", "quantile_over(0.95, x, 5m) > 1"),
        ("rate(x, 1m) > 1", "rate(x, 1m) > 1"),
        ("increase(x, 1h) offset 1d > 1", "increase(x, 1h) offset 1d > 1"),
        ("abs(x - y) > 1", "abs(x - y) > 1"),
        ("x offset 1h > 1", "x offset 1h > 1"),
    ] {
        assert_eq!(condition(written), canonical, "{written}");
    }
}

#[test]
fn hold_clauses() {
    let plan = runbook(
        "trigger a: x > 1 keep firing for 30s -> level 1\n\
         trigger b: x > 1 for 2m keep firing for 1m -> level 1\n\
         trigger c: x > 1 for 0s -> level 1\n\
         trigger d: x > 1 for 5 consecutive keep firing for 15s -> level 1",
    );
    let a = trigger(&plan, "a");
    assert_eq!((a.hold, a.keep_firing_for_ms), (Hold::For { ms: 0 }, 30_000));
    let b = trigger(&plan, "b");
    assert_eq!((b.hold, b.keep_firing_for_ms), (Hold::For { ms: 120_000 }, 60_000));
    assert_eq!(trigger(&plan, "c").hold, Hold::For { ms: 0 });
    let d = trigger(&plan, "d");
    assert_eq!((d.hold, d.keep_firing_for_ms), (Hold::Consecutive { evaluations: 5 }, 15_000));
}

#[test]
fn anonymous_triggers_are_named_by_position() {
    let plan = runbook("x > 1 -> level 1\ntrigger named: y > 1 -> level 1\nz > 1 -> level 1");
    let names: Vec<&str> = plan.triggers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["trigger_1", "named", "trigger_3"]);
}

#[test]
fn strings_escapes_interpolation_and_raw_strings() {
    let plan = runbook(
        r#"  channel ops webhook "https://hooks.example.com/${env.HOOK}"
  trigger t: x > 1 -> notify ops "a \"quoted\" \\ back\tslash\n \$5 \${literal} ${trigger}"
  trigger r: x > 1 -> notify log `raw \n ${not_a_var}`"#,
    );
    let Target::Notify { message, .. } = &trigger(&plan, "t").target else {
        panic!("notify");
    };
    assert_eq!(
        message.parts,
        [
            TemplatePart::Text("a \"quoted\" \\ back\tslash\n $5 ${literal} ".to_string()),
            TemplatePart::Var(Variable::Trigger),
        ]
    );
    let Target::Notify { message, .. } = &trigger(&plan, "r").target else {
        panic!("notify");
    };
    assert_eq!(message.parts, [TemplatePart::Text("raw \\n ${not_a_var}".to_string())]);
    let url = plan.channels[0].url.as_ref().expect("url");
    assert!(url.parts.contains(&TemplatePart::Var(Variable::Env("HOOK".to_string()))));
}

#[test]
fn a_prometheus_name_with_colons_is_reached_through_a_quoted_query() {
    let plan = runbook("  metric errors = promql \"job:errors:rate5m\"\n  trigger t: errors > 1 -> level 1");
    assert_eq!(plan.metrics[0].promql.as_deref(), Some("job:errors:rate5m"));
}

#[test]
fn a_runbook_needs_no_triggers_and_items_come_in_any_order() {
    let plan = plan_of("runbook manual {\n  level 1 \"By hand\" {\n    step shell \"true\"\n  }\n}\n");
    assert!(plan.triggers.is_empty());
    let plan = plan_of(
        "runbook any_order {\n  level 1 \"L\" {\n    step notify ops \"m\"\n    deadline 1m\n  }\n  \
         trigger t: error_rate > 1% -> level 1\n  channel ops webhook \"https://h.example.com\"\n  \
         metric error_rate = promql `x`\n  owner \"me\"\n}\n",
    );
    assert_eq!(plan.level(1).and_then(|l| l.deadline_ms), Some(60_000));
    assert_eq!(plan.owner.as_deref(), Some("me"));
}

#[test]
fn step_forms_of_the_sketch_table() {
    let plan = plan_of(
        r#"runbook steps {
  files under "/etc/app"
  level 1 "All the steps" {
    max attempts 3
    on failure continue
    step http PUT "https://api.example.com/x" expect 204 body "{}" header "K" "V" retry 1
    step verify x < 1 within 2m every 10s
    step verify shell "true" within 30s
    step wait 45s
    step notify log "done"
    parallel {
      step shell "a"
      parallel {
        step shell "b"
        step shell "c"
      }
    }
  }
}
"#,
    );
    let level = plan.level(1).expect("level 1");
    assert_eq!((level.max_attempts, level.on_failure), (3, OnFailure::Continue));
    let Action::Http { method, headers, body, expect, .. } = &step(&plan, "L1.S1").action else {
        panic!("http");
    };
    assert_eq!(method, "PUT");
    assert_eq!(*expect, 204);
    assert_eq!(headers.len(), 1);
    assert_eq!(body.as_ref().map(literal).as_deref(), Some("{}"));
    let Action::VerifyCondition { every_ms, .. } = &step(&plan, "L1.S2").action else {
        panic!("verify");
    };
    assert_eq!((*every_ms, step(&plan, "L1.S2").timeout_ms), (10_000, 120_000));
    assert_eq!(step(&plan, "L1.S4").action, Action::Wait { ms: 45_000 });
    assert_eq!(step(&plan, "L1.S6.2.2").id, "L1.S6.2.2");
    assert!(plan.channels.iter().any(|c| c.name == "log"));
}

// ---------------------------------------------------------------------------------------------------------
// Per-series triggers
// ---------------------------------------------------------------------------------------------------------

fn labels(names: &[&str]) -> Shape {
    Shape::Labels(names.iter().map(|s| s.to_string()).collect())
}

#[test]
fn per_series_triggers_in_the_plan() {
    let plan = plan_of(&read("tests/fmt/series.runbook"));
    assert_eq!((plan.max_series, plan.max_series_default), (500, false));
    let shape = |m: &str| plan.metrics.iter().find(|x| x.name == m).map(|x| x.shape.clone()).expect("metric");
    assert_eq!(shape("usage"), labels(&["instance", "mountpoint"]));
    assert_eq!(shape("maintenance"), labels(&["instance"]));

    let t = trigger(&plan, "disk_full");
    assert_eq!(t.condition_text, "usage > 0.9 unless on(instance) maintenance == 1");
    let Condition::Unless { matching: Some(m), .. } = &t.condition else {
        panic!("unless: {:?}", t.condition);
    };
    assert_eq!((m.on, m.labels.as_slice()), (true, ["instance".to_string()].as_slice()));
    assert_eq!(t.shape, labels(&["instance", "mountpoint"]));
    assert_eq!(t.alert.as_deref(), Some("NodeFilesystemAlmostFull"));
    // Labels sorted by name, annotations in written order.
    let pairs = |v: &[(String, String)]| v.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
    assert_eq!(pairs(&t.labels), ["severity=critical", "team=infra"]);
    let names: Vec<&str> = t.annotations.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["summary", "description"]);
    assert!(t.annotations[0].1.parts.contains(&TemplatePart::Var(Variable::Label("mountpoint".into()))));

    // `on(...)` labels are sorted in the plan, whatever the written order.
    let q = trigger(&plan, "over_quota");
    assert!(q.condition_text.ends_with("and on(instance, mountpoint) usage > 0.5"), "{}", q.condition_text);
    assert_eq!(q.shape, labels(&["instance", "mountpoint"]));

    let level = plan.level(1).expect("level 1");
    assert_eq!(level.max_parallel, 4);
    assert!(!level.defaulted.iter().any(|d| d == "max parallel"));
    let Action::Shell { command } = &step(&plan, "L1.S1").action else {
        panic!("shell");
    };
    assert!(command.parts.contains(&TemplatePart::Var(Variable::Label("mountpoint".into()))));
}

#[test]
fn per_series_plan_text_shows_shapes_and_alert_attributes() {
    let text = ripcord::plan::render_text(&plan_of(&read("tests/fmt/series.runbook")));
    for line in [
        "  max series      500\n",
        "              per series by (instance, mountpoint)\n",
        "    when  usage > 0.9 unless on(instance) maintenance == 1\n          per series by (instance, mountpoint)\n",
        "    alert        NodeFilesystemAlmostFull\n",
        "    labels       {severity=\"critical\", team=\"infra\"}\n",
        "    annotation   summary \"Disk ${labels.mountpoint} on ${labels.instance} is ${value} full\"\n",
        "| max parallel 4 |",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    // Defaults stay quiet: no `max series` line, no `max parallel` option.
    let quiet = ripcord::plan::render_text(&sketch());
    assert!(!quiet.contains("max series") && !quiet.contains("max parallel"), "{quiet}");
}

#[test]
fn metric_shapes_follow_their_queries() {
    let plan = plan_of(
        r#"runbook shapes {
  metric one = promql `sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))`
  metric by_job = promql `sum by (job) (rate(errors_total[5m]))`
  metric latency = promql `histogram_quantile(0.99, sum by (le, route) (rate(h_bucket[5m])))`
  metric raw = promql `node_load1`
  trigger t: one > 1 and by_job > 1 and latency > 1 and raw > 1 and undeclared > 1 -> level 1
  level 1 {
    step shell "x"
  }
}
"#,
    );
    let shape = |m: &str| plan.metrics.iter().find(|x| x.name == m).map(|x| x.shape.clone()).expect("metric");
    assert_eq!(shape("one"), Shape::Single);
    assert_eq!(shape("by_job"), labels(&["job"]));
    assert_eq!(shape("latency"), labels(&["route"]));
    assert_eq!(shape("raw"), Shape::PerSeries);
    assert_eq!(shape("undeclared"), Shape::PerSeries);
    // `and` with a one-series side matches on(): the left side's series, one.
    assert_eq!(trigger(&plan, "t").shape, Shape::Single);
}

/// The trigger kinds of tests/plans/trigger_kinds.runbook in the Mermaid chart: the window, the clear
/// condition, the no-data policy and a verify's checks in a row.
#[test]
fn trigger_kinds_show_in_mermaid() {
    let chart = plan_output(Path::new("tests/plans/trigger_kinds.runbook"), "mermaid");
    assert!(chart.contains("hot<br/>cpu &gt; 90 for 3 of 5<br/>clear when cpu &lt; 75<br/>on no data keep"), "{chart}");
    assert!(chart.contains("steady<br/>cpu &gt; 95 for 4 consecutive<br/>clear when cpu &lt; 85\""), "{chart}");
    assert!(chart.contains("silent<br/>up_targets &lt; 1 for 2m<br/>on no data fire"), "{chart}");
    assert!(chart.contains("verify cpu &lt; 80 for 3 consecutive"), "{chart}");
}

/// The compiled forms of tests/plans/trigger_kinds.runbook: the window, the clear condition in canonical text
/// with its metrics, the no-data policy (the default left out of JSON) and each verify's checks in a row.
#[test]
fn trigger_kinds_compile_to_their_plan_forms() {
    use ripcord::plan::NoData;
    let plan = plan_of(&read("tests/plans/trigger_kinds.runbook"));
    let hot = plan.trigger("hot").expect("hot");
    assert_eq!(hot.hold, Hold::OfLast { n: 3, m: 5 });
    let clear = hot.clear_when.as_ref().expect("clear when");
    assert_eq!((clear.condition_text.as_str(), clear.metrics.as_slice()), ("cpu < 75", ["cpu".to_string()].as_slice()));
    assert_eq!((hot.on_no_data, hot.keep_firing_for_ms), (NoData::Keep, 120_000));
    let steady = plan.trigger("steady").expect("steady");
    assert_eq!((steady.hold, steady.on_no_data), (Hold::Consecutive { evaluations: 4 }, NoData::Clear));
    assert_eq!(plan.trigger("silent").expect("silent").on_no_data, NoData::Fire);
    let flapped = plan.trigger("flapped").expect("flapped");
    assert_eq!(
        (flapped.hold, flapped.on_no_data, flapped.clear_when.is_none()),
        (Hold::OfLast { n: 6, m: 10 }, NoData::Clear, true)
    );
    let json = serde_json::to_value(flapped).expect("serialises");
    assert!(json.get("on_no_data").is_none() && json.get("clear_when").is_none(), "{json}");
    let consecutive: Vec<u32> = plan.levels[0]
        .steps
        .iter()
        .filter_map(|s| match s.action {
            Action::VerifyCondition { consecutive, .. }
            | Action::VerifyShell { consecutive, .. }
            | Action::VerifyHttp { consecutive, .. } => Some(consecutive),
            _ => None,
        })
        .collect();
    assert_eq!(consecutive, [3, 2, 4]);

    // A clear condition's metrics are sorted and each named once, as the condition's are.
    let text = "runbook r {\n  trigger t: b > 9 clear when b < 1 and a < 2 or b < 0 -> level 1\n  level 1 { step shell \"x\" }\n}\n";
    let plan = plan_of(text);
    let clear = plan.triggers[0].clear_when.as_ref().expect("clear when");
    assert_eq!(clear.metrics, ["a", "b"]);
    assert_eq!(clear.condition_text, "b < 1 and a < 2 or b < 0");
}
