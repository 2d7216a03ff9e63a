//! A real editor against `ripcord lsp`: headless Neovim, its built-in LSP client (`vim.lsp.start_client`,
//! Neovim 0.7 and later), opens a broken runbook and reports the server's diagnostic
//! (tests/lsp/neovim.lua). Needs `nvim` on the PATH (Debian's `neovim`; CI installs it).

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn neovim_shows_the_servers_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runbook = dir.path().join("broken.runbook");
    std::fs::write(
        &runbook,
        "runbook broken {\n  trigger errors: error_rate > 5% for 1m -> level 1\n  level 2 \"Rollback\" {\n    step shell \"./rollback\" timeout 30s\n  }\n}\n",
    )
    .expect("write the runbook");
    let result = dir.path().join("result.txt");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lsp/neovim.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!("luafile {script}"))
        .env("RIPCORD_BIN", env!("CARGO_BIN_EXE_ripcord"))
        .env("RUNBOOK_FILE", &runbook)
        .env("RESULT_FILE", &result)
        .current_dir(dir.path())
        .spawn()
        .expect("start nvim (Debian package `neovim`)");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for nvim") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish within 60s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "nvim exited with {status}");
    let reported = std::fs::read_to_string(&result).expect("nvim wrote its result");
    assert!(reported.starts_with("RC110 2:51 "), "{reported}");
    assert!(reported.contains("level 1"), "{reported}");
    assert!(reported.contains("| help: "), "{reported}");
}
