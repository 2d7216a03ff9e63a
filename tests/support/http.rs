//! A loopback HTTP server that keeps every request it reads, raw, and answers each with one fixed response:
//! the endpoint HTTP steps, webhooks and `verify http` talk to in the tests.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as the server read it off the wire.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target: path and query, as sent.
    pub target: String,
    /// Header names lowercased, values raw.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct Recorder {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Recorder {
    /// Answers every request with `status`, a JSON content type and `body`.
    pub fn start(status: u16, body: &'static str) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut BufReader::new(stream.try_clone().expect("clone"))) else {
                    continue;
                };
                log.lock().expect("lock").push(request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Recorder { url: format!("http://{addr}"), addr, requests }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).ok()?;
    let line = String::from_utf8_lossy(&line).into_owned();
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = Vec::new();
        if reader.read_until(b'\n', &mut h).is_err() || h == b"\r\n" || h == b"\n" || h.is_empty() {
            break;
        }
        let h = h.strip_suffix(b"\r\n").unwrap_or(&h);
        let Some(colon) = h.iter().position(|b| *b == b':') else { continue };
        let name = String::from_utf8_lossy(&h[..colon]).to_ascii_lowercase();
        let value = h[colon + 1..].strip_prefix(b" ").unwrap_or(&h[colon + 1..]).to_vec();
        if name == "content-length" {
            len = String::from_utf8_lossy(&value).trim().parse().unwrap_or(0);
        }
        headers.push((name, value));
    }
    let mut body = vec![0u8; len];
    let _ = reader.read_exact(&mut body);
    Some(Request { method, target, headers, body })
}
