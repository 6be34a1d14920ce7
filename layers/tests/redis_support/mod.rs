//! A `redis-server` of the test's own on a free port (`--save '' --appendonly no`), stopped by
//! its PID on drop. Missing program: the test prints `SKIPPED:` and passes, except when
//! `TOWER_REQUESTS_REQUIRE_PROGRAMS` or `CI` is set, where it fails.
#![allow(dead_code)]

#[path = "../programs/mod.rs"]
mod programs;
use programs::find_binary;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server; `stop` and `start_again` kill it and start it on the same port (empty).
pub struct RedisServer {
    bin: String,
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    /// `None` (skip the test) when redis-server is not installed.
    pub fn start() -> Option<RedisServer> {
        let bin = find_binary("redis-server")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer {
            bin,
            child: None,
            port,
        };
        server.start_again();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (by its PID) and waits until the port is closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port, empty, and waits until it answers.
    pub fn start_again(&mut self) {
        self.stop();
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not listen"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
