//! `diary serve`: serves the built site, rebuilds on a change, and tells open pages to reload.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serves_rebuilds_and_reloads() {
    let (_tmp, site) = mini_site();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("diary"));
    let child = cmd
        .arg("-C")
        .arg(&site)
        .args(["serve", "--port", "0", "--today", "2026-11-23"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let stderr = server.0.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest
                .trim_end_matches(|c| c != '/')
                .trim_end_matches('/')
                .to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let (status, index) = get(&addr, "/");
    assert_eq!(status, 200);
    assert!(index.contains("/__diary/live.js"), "{index}");
    assert_eq!(get(&addr, "/classes/5b/homework/").0, 200);
    assert_eq!(get(&addr, "/nope.html").0, 404);
    assert_eq!(get(&addr, "/../site.toml").0, 404);
    let (_, live) = get(&addr, "/__diary/live.js");
    assert!(live.contains("location.reload"));
    let (_, v1) = get(&addr, "/__diary/version");

    std::fs::write(
        site.join("content/new.md"),
        "+++\ntitle = \"Свежая новость\"\ndate = 2026-11-22\n+++\nТекст\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = get(&addr, "/__diary/version");
        if v != v1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rebuild after a content change"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(get(&addr, "/").1.contains("Свежая новость"));
}
