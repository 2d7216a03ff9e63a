//! `ripcord watch` as a child of the test (killed when dropped), its stderr collected, the address it listens
//! on read from it; and a tiny HTTP/1.1 client with headers and a body for its API.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bin::Test;

pub struct Watch {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<String>>,
}

impl Watch {
    /// Starts `ripcord watch ARGS --listen 127.0.0.1:0 --grace 5s` in `dir` and waits for its address.
    pub fn start(dir: &Path, args: &[&str]) -> Watch {
        Watch::start_with_grace(dir, args, "5s")
    }

    /// Starts `ripcord watch ARGS --listen 127.0.0.1:0 --grace GRACE` in `dir` and waits for its address.
    pub fn start_with_grace(dir: &Path, args: &[&str], grace: &str) -> Watch {
        let mut child = Test::in_dir(dir)
            .arg("watch")
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--grace", grace])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let l = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut g = l.lock().unwrap_or_else(|p| p.into_inner());
                g.push_str(&line);
                g.push('\n');
            }
        });
        let mut w = Watch { child, base: String::new(), log };
        let start = Instant::now();
        loop {
            if let Some(addr) = w.text().lines().find_map(|l| l.strip_prefix("watch: listening on http://")) {
                w.base = addr.trim().to_string();
                return w;
            }
            if let Ok(Some(status)) = w.child.try_wait() {
                panic!("watch exited ({status}):\n{}", w.text());
            }
            assert!(start.elapsed() < Duration::from_secs(20), "watch did not listen:\n{}", w.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn text(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        request(&self.base, "GET", path, &[], "").unwrap_or_else(|| panic!("GET {path} failed:\n{}", self.text()))
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let (status, body) = request(&self.base, "POST", path, &headers, body)
            .unwrap_or_else(|| panic!("POST {path} failed:\n{}", self.text()));
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    pub fn status(&self) -> Value {
        let (code, body) = self.get("/api/status");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("status JSON")
    }

    /// Polls `/api/status` until `pred` holds (at most `timeout`); the status that satisfied it.
    pub fn wait_status(&self, timeout: Duration, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let s = self.status();
            if pred(&s) {
                return s;
            }
            assert!(start.elapsed() < timeout, "timed out waiting for {what}; status {s}\nlog:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if start.elapsed() > Duration::from_secs(15) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn request(host: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Some((status, if chunked { dechunk(body) } else { body.to_string() }))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// The trigger `name` of runbook `runbook` in a status document.
pub fn trigger<'a>(status: &'a Value, runbook: &str, name: &str) -> Option<&'a Value> {
    status["runbooks"].as_array()?.iter().find(|r| r["name"] == runbook)?["triggers"]
        .as_array()?
        .iter()
        .find(|t| t["name"] == name)
}

pub fn runbook<'a>(status: &'a Value, name: &str) -> Option<&'a Value> {
    status["runbooks"].as_array()?.iter().find(|r| r["name"] == name)
}
