//! The real `ripcord` binary, run the way a user runs it: `Test::new().dir(..).args(..).stdin(..).run()`
//! gives its exit status, stdout and stderr. Colour is off (`NO_COLOR=1`) and stdin is empty unless a test
//! says otherwise. Also the readers of what it printed that many tests share.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use serde_json::Value;

/// The binary under test, as Cargo built it for the integration tests.
pub const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");

/// One run of `ripcord`, configured step by step.
pub struct Test {
    dir: Option<PathBuf>,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    /// `ripcord` in the test's working directory (the crate root) with `NO_COLOR=1`.
    pub fn new() -> Test {
        Test {
            dir: None,
            args: Vec::new(),
            env: vec![("NO_COLOR".into(), Some("1".into()))],
            stdin: None,
            stdout: None,
            stderr: None,
        }
    }

    /// `ripcord` in `dir`.
    pub fn in_dir(dir: &Path) -> Test {
        Test::new().dir(dir)
    }

    /// `ripcord` in `dir`, keeping its runs under `dir/state` (`RIPCORD_STATE_DIR`).
    pub fn with_state_in(dir: &Path) -> Test {
        Test::in_dir(dir).env("RIPCORD_STATE_DIR", dir.join("state"))
    }

    pub fn dir(mut self, dir: &Path) -> Test {
        self.dir = Some(dir.to_path_buf());
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Test {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Test {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(self, key: &str, value: impl AsRef<OsStr>) -> Test {
        self.set_env(key, Some(value.as_ref().to_os_string()))
    }

    pub fn env_remove(self, key: &str) -> Test {
        self.set_env(key, None)
    }

    /// Leaves `key` as this test process has it (`NO_COLOR` is otherwise set to 1).
    pub fn env_inherited(mut self, key: &str) -> Test {
        self.env.retain(|(k, _)| k != key);
        self
    }

    fn set_env(mut self, key: &str, value: Option<OsString>) -> Test {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value));
        self
    }

    /// What the binary reads on stdin (otherwise nothing).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Test {
        self.stdin = Some(input.into());
        self
    }

    /// Where stdout goes (`run` collects it unless set; `spawn` and `status` inherit it unless set).
    pub fn stdout(mut self, stdout: Stdio) -> Test {
        self.stdout = Some(stdout);
        self
    }

    /// Where stderr goes (`run` collects it unless set; `spawn` and `status` inherit it unless set).
    pub fn stderr(mut self, stderr: Stdio) -> Test {
        self.stderr = Some(stderr);
        self
    }

    /// Runs to the end: exit status, stdout and stderr.
    pub fn run(mut self) -> Output {
        let mut command = self.command();
        let Some(input) = self.stdin.take() else {
            return command.output().expect("run ripcord");
        };
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run ripcord");
        let mut pipe = child.stdin.take().expect("stdin");
        // Written from a thread, so that a binary that prints before it reads cannot block on a full pipe.
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait for ripcord");
        let _ = writer.join();
        out
    }

    /// Starts it and returns the child (stdout and stderr as set, else inherited).
    pub fn spawn(mut self) -> Child {
        let mut child = self.command().spawn().expect("start ripcord");
        if let (Some(input), Some(mut pipe)) = (self.stdin.take(), child.stdin.take()) {
            let _ = pipe.write_all(&input);
        }
        child
    }

    /// Runs to the end and returns only the exit status (stdout and stderr as set, else inherited).
    pub fn status(self) -> ExitStatus {
        self.spawn().wait().expect("wait for ripcord")
    }

    fn command(&mut self) -> Command {
        let mut command = Command::new(RIPCORD);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command.args(&self.args);
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        if let Some(stdout) = self.stdout.take() {
            command.stdout(stdout);
        }
        if let Some(stderr) = self.stderr.take() {
            command.stderr(stderr);
        }
        command
    }
}

/// `ripcord ARGS...` in `dir`, colour off: the common case.
pub fn ripcord(dir: &Path, args: &[&str]) -> Output {
    Test::in_dir(dir).args(args).run()
}

/// Output bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The exit code; fails when the binary was killed by a signal.
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

/// Stdout, which must be UTF-8.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

/// Stderr, which must be UTF-8.
pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

/// Status, stdout and stderr, for a failure message.
pub fn describe(out: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", out.status, text(&out.stdout), text(&out.stderr))
}

/// The (path, code, line) of each entry of the list `key` (`diagnostics`, `findings`) of a JSON report.
pub fn reported(json: &Value, key: &str) -> Vec<(String, String, u64)> {
    json[key]
        .as_array()
        .unwrap_or_else(|| panic!("a {key} array"))
        .iter()
        .map(|d| {
            (
                d["path"].as_str().expect("path").to_string(),
                d["code"].as_str().expect("code").to_string(),
                d["line"].as_u64().expect("line"),
            )
        })
        .collect()
}
