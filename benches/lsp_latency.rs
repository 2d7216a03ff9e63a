//! Latency of `ripcord lsp` diagnostics on a 10,000-line runbook: from a `didChange` written to the server
//! until its `publishDiagnostics` for that version is read back, over real LSP framing (in process, through
//! a pipe). Run: `cargo bench --bench lsp_latency` (prints median, p95 and max).
//!
//! The target: diagnostics within 100 ms of a change.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const CHANGES: usize = 30;
/// The pause before each change.
const PAUSE: Duration = Duration::from_millis(300);

/// A runbook of about 10,000 lines, of the kind people write (it lints almost clean): 2,000 metrics, a
/// trigger on each, and 99 levels of 58 steps with a verify, approval and escalation.
fn big_runbook(threshold: u32) -> String {
    let mut s = String::from("runbook big {\n  channel ops webhook \"https://hooks.example.com/ops\"\n");
    for m in 0..2000 {
        s.push_str(&format!("  metric m{m} = promql `sum(rate(errors_total{{shard=\"{m}\"}}[1m]))`\n"));
    }
    for t in 0..2000 {
        let level = t % 99 + 1;
        s.push_str(&format!("  trigger t{t}: m{t} > {}% for 1m -> level {level}\n", threshold + t % 7));
    }
    for l in 1..=99 {
        s.push_str(&format!("  level {l} \"Level {l}\" {{\n    approval required\n    deadline 60m\n"));
        if l < 99 {
            s.push_str(&format!("    on failure escalate level {}\n", l + 1));
        }
        for k in 0..58 {
            s.push_str(&format!("    step shell \"./scripts/fix-{l}-{k} --now\" timeout 30s idempotent\n"));
        }
        s.push_str(&format!("    step verify m{l} < 1% within 2m\n  }}\n"));
    }
    s.push_str("}\n");
    s
}

/// The server's own work for one version, without the protocol: lint (which compiles: what diagnostics
/// wait for) and the parse for the index (done after publishing), median of `runs`.
fn breakdown(text: &str, runs: usize) -> (f64, f64) {
    let config = ripcord::lsp::engine::LintConfig::default();
    let median = |f: &dyn Fn()| {
        let mut v: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v[runs / 2]
    };
    let lint = median(&|| drop(ripcord::lsp::engine::problems(text, &config)));
    let parse = median(&|| drop(ripcord::lsp::engine::parse(text)));
    (lint, parse)
}

struct Client<R, W> {
    reader: BufReader<R>,
    writer: W,
}

impl<R: tokio::io::AsyncRead + Unpin, W: tokio::io::AsyncWrite + Unpin> Client<R, W> {
    async fn send(&mut self, message: Value) {
        let body = message.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer.write_all(frame.as_bytes()).await.expect("write to the server");
        self.writer.flush().await.expect("flush");
    }

    async fn read(&mut self) -> Value {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.expect("read a header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.expect("read a body");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// Reads until the diagnostics for `version` arrive; returns how many there were.
    async fn diagnostics_for(&mut self, version: i64) -> usize {
        loop {
            let m = self.read().await;
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version {
                return m["params"]["diagnostics"].as_array().map_or(0, Vec::len);
            }
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let (client_side, server_side) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_side);
        tokio::spawn(ripcord::lsp::serve_io(server_read, server_write));
        let (client_read, client_write) = tokio::io::split(client_side);
        let mut c = Client { reader: BufReader::new(client_read), writer: client_write };
        c.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})).await;
        let _ = c.read().await;
        c.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}})).await;
        let uri = "untitled:big.runbook";
        let text = big_runbook(5);
        let lines = text.lines().count();
        c.send(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "runbook", "version": 1, "text": text}}}))
            .await;
        let first = c.diagnostics_for(1).await;
        let mut times = Vec::new();
        for i in 0..CHANGES {
            // A person pauses between edits; the index for the previous version is built meanwhile.
            tokio::time::sleep(PAUSE).await;
            let version = i as i64 + 2;
            let text = big_runbook(6 + i as u32 % 5);
            let started = Instant::now();
            c.send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}}))
                .await;
            c.diagnostics_for(version).await;
            times.push(started.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "lsp diagnostics after a change, {lines} lines ({} KiB), {CHANGES} changes {} ms apart, {first} diagnostics: \
             median {:.1} ms, p95 {:.1} ms, max {:.1} ms (changes coalesced, no fixed delay)",
            text.len() / 1024,
            PAUSE.as_millis(),
            ms(times[CHANGES / 2]),
            ms(times[CHANGES * 95 / 100]),
            ms(times[CHANGES - 1]),
        );
        let (lint, parse) = breakdown(&big_runbook(5), 10);
        println!(
            "  in process: lint (compile + rules, what diagnostics wait for) {lint:.1} ms; the parse for the index, \
             after publishing, {parse:.1} ms"
        );
        c.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})).await;
        c.send(json!({"jsonrpc": "2.0", "method": "exit"})).await;
    });
}
