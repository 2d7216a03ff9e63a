//! File steps under attack, through the real binary: a directory below `files under` swapped for a symbolic
//! link while levels snapshot and restore in a loop, a root reached through a link, FIFOs as sources and
//! targets, and `undo` after the file changed.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, text};
use support::{temp_dir, write_file as write};

/// `ripcord ARGS...` in `dir`, its state in `dir/state`.
fn ripcord(dir: &Path, args: &[&str]) -> Output {
    Test::with_state_in(dir).args(args).run()
}

fn run_level_1(dir: &Path) -> Output {
    ripcord(dir, &["run", "rb.runbook", "--level", "1", "--operator", "alice", "--reason", "test"])
}

/// Every file under `dir` (links not followed) with its content; links as their target.
fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("ls").flatten() {
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                out.push((
                    path.clone(),
                    std::fs::read_link(&path).expect("link").into_os_string().into_encoded_bytes(),
                ));
            } else if meta.is_file() {
                out.push((path.clone(), std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fn journals(dir: &Path) -> Vec<Vec<Value>> {
    let Ok(entries) = std::fs::read_dir(dir.join("state/runs")) else { return Vec::new() };
    entries
        .flatten()
        .map(|e| {
            let body = std::fs::read_to_string(e.path()).expect("journal");
            body.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect()
        })
        .collect()
}

#[test]
fn a_directory_swapped_for_a_link_mid_run_never_leads_outside_the_root() {
    let dir = temp_dir();
    let d = dir.path();
    let real = d.join("real");
    let sub = real.join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    write(&sub, "app.conf", "live\n");
    write(&sub, "good", "good\n");
    let outside = d.join("outside");
    write(&outside, "app.conf", "outside original\n");
    write(&outside, "good", "PRIVATE outside\n");
    // The root itself is reached through a link: that is allowed (it is resolved once and opened).
    let root = d.join("root");
    std::os::unix::fs::symlink(&real, &root).expect("symlink root");
    write(
        d,
        "rb.runbook",
        format!(
            "runbook race {{\n  files under \"{r}\"\n  level 1 {{\n    on failure continue\n    \
             step snapshot \"{r}/sub/app.conf\"\n    step restore \"{r}/sub/app.conf\" from \"{r}/sub/good\"\n    \
             step restore \"{r}/sub/app.conf\" from snapshot\n  }}\n}}\n",
            r = root.display()
        ),
    );
    // Untouched by the swaps: the runbook works through the linked root.
    let out = run_level_1(d);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(std::fs::read_to_string(sub.join("app.conf")).expect("read"), "live\n");
    let before = listing(&outside);

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, sub, outside) = (Arc::clone(&stop), sub.clone(), outside.clone());
        let aside = real.join("sub.aside");
        std::thread::spawn(move || {
            let mut swaps = 0u32;
            while !stop.load(Ordering::SeqCst) {
                if std::fs::rename(&sub, &aside).is_ok() {
                    let _ = std::os::unix::fs::symlink(&outside, &sub);
                    std::thread::sleep(Duration::from_micros(300));
                    let _ = std::fs::remove_file(&sub);
                    let _ = std::fs::rename(&aside, &sub);
                    swaps += 1;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            swaps
        })
    };
    let start = Instant::now();
    let mut runs = 0;
    while runs < 40 && start.elapsed() < Duration::from_secs(60) {
        let out = run_level_1(d);
        assert!(out.status.code().is_some(), "{}", text(&out.stderr));
        runs += 1;
    }
    stop.store(true, Ordering::SeqCst);
    let swaps = swapper.join().expect("swapper");
    assert!(swaps > 10, "the swap barely ran ({swaps})");

    assert_eq!(listing(&outside), before, "something outside the root changed (or a temp file was left there)");
    for (path, content) in listing(&real).into_iter().chain(listing(&d.join("state"))) {
        assert!(
            !String::from_utf8_lossy(&content).contains("PRIVATE"),
            "{} holds the private file from outside the root",
            path.display()
        );
    }
    let refused = journals(d)
        .iter()
        .flatten()
        .filter(|r| r["event"] == "step_end" && r["detail"].as_str().is_some_and(|s| s.contains("symbolic link")))
        .count();
    assert!(refused > 0, "no step met the link in {runs} runs; the race needs a look");
}

#[test]
fn a_link_below_the_root_is_refused_even_when_it_stays_inside() {
    let dir = temp_dir();
    let d = dir.path();
    let root = d.join("etc");
    write(&root, "real/app.conf", "live\n");
    write(&root, "good", "good\n");
    std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
    write(
        d,
        "rb.runbook",
        format!(
            "runbook l {{\n  files under \"{r}\"\n  level 1 {{\n    step restore \"{r}/link/app.conf\" from \"{r}/good\"\n  }}\n}}\n",
            r = root.display()
        ),
    );
    let out = run_level_1(d);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("is a symbolic link"), "{}", text(&out.stdout));
    assert_eq!(std::fs::read_to_string(root.join("real/app.conf")).expect("read"), "live\n");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn fifos_are_refused_at_once_and_the_lock_is_released() {
    let dir = temp_dir();
    let d = dir.path();
    let root = d.join("etc");
    write(&root, "app.conf", "live\n");
    write(&root, "good", "good\n");
    mkfifo(&root.join("pipe"));
    mkfifo(&root.join("target"));
    for (what, step) in [
        ("restore from a FIFO", "step restore \"{r}/app.conf\" from \"{r}/pipe\" timeout 2s"),
        ("snapshot of a FIFO", "step snapshot \"{r}/pipe\" timeout 2s"),
        ("restore over a FIFO", "step restore \"{r}/target\" from \"{r}/good\" timeout 2s"),
    ] {
        let step = step.replace("{r}", &root.display().to_string());
        write(
            d,
            "rb.runbook",
            format!("runbook f {{\n  files under \"{}\"\n  level 1 {{\n    {step}\n  }}\n}}\n", root.display()),
        );
        let start = Instant::now();
        let out = run_level_1(d);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
        assert!(start.elapsed() < Duration::from_secs(2), "{what} took {:?}", start.elapsed());
        assert!(text(&out.stdout).contains("is a FIFO"), "{what}: {}", text(&out.stdout));
        // The lock went with the run: the next one starts.
        assert!(!text(&run_level_1(d).stderr).contains("already running"), "{what}");
    }
    assert_eq!(std::fs::read_to_string(root.join("app.conf")).expect("read"), "live\n");
}

#[test]
fn undo_refuses_a_file_changed_since_the_run_and_is_done_once() {
    let dir = temp_dir();
    let d = dir.path();
    let root = d.join("etc");
    let live = write(&root, "app.conf", "before\n");
    write(&root, "good", "restored\n");
    write(
        d,
        "rb.runbook",
        format!(
            "runbook u {{\n  files under \"{r}\"\n  level 1 {{\n    step restore \"{r}/app.conf\" from \"{r}/good\"\n  }}\n}}\n",
            r = root.display()
        ),
    );
    assert!(run_level_1(d).status.success());
    let id = journals(d)[0][0]["run_id"].as_str().expect("run id").to_string();
    // Newer work after the run.
    std::fs::write(&live, "newer work\n").expect("write");
    let out = ripcord(d, &["undo", &id, "--operator", "bob"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains(&format!("{}: REFUSED: changed since the run", live.display())), "{stdout}");
    assert!(stdout.contains(&format!("where L1.S1 left sha256 {}", ripcord::actions::sha256_hex(b"restored\n"))));
    assert!(stderr.contains(&format!("ripcord undo {id} --force")), "{stderr}");
    assert_eq!(std::fs::read_to_string(&live).expect("read"), "newer work\n", "the newer work is untouched");
    // Refused again (a refusal is not an undo).
    assert_eq!(ripcord(d, &["undo", &id]).status.code(), Some(1));

    let out = ripcord(d, &["undo", &id, "--force", "--operator", "bob"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&live).expect("read"), "before\n");
    let stdout = text(&out.stdout);
    let kept = stdout.split("the newer content is kept in ").nth(1).and_then(|s| s.lines().next()).expect("where");
    assert_eq!(std::fs::read_to_string(kept).expect("kept"), "newer work\n", "{stdout}");

    let out = ripcord(d, &["undo", &id]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("run {id} was already undone at ")) && stdout.contains(" by bob"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&live).expect("read"), "before\n");
    let outcomes: Vec<String> = journals(d)
        .iter()
        .flatten()
        .filter(|r| r["event"] == "undo")
        .map(|u| u["outcome"].as_str().expect("outcome").to_string())
        .collect();
    assert_eq!(outcomes, ["refused", "refused", "done"]);
}
