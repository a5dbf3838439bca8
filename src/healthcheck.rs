//! `ferrodis healthcheck [redis.conf] [--directive value ...]`: the container healthcheck. It
//! reads the same configuration as the server (so it finds the port, bind address and password
//! the server uses), sends PING (after AUTH when a password is set) and exits 0 only on PONG.
//! FERRODIS_PASSWORD (or REDIS_PASSWORD) and FERRODIS_USER in the environment override the
//! configured password and pick an ACL user.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::config::Config;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the check; the process's exit code.
pub fn run(args: &[String]) -> i32 {
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let password = ["FERRODIS_PASSWORD", "REDIS_PASSWORD"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()))
        .map(String::into_bytes)
        .or(config.requirepass.clone().filter(|p| !p.is_empty()));
    let user = std::env::var("FERRODIS_USER")
        .ok()
        .filter(|u| !u.is_empty());
    match ping(
        &host(&config),
        config.port,
        user.as_deref(),
        password.as_deref(),
    ) {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("ferrodis healthcheck: {why}");
            1
        }
    }
}

/// Where to reach the server: its first bind address, or loopback when it listens everywhere.
fn host(config: &Config) -> String {
    let first = config
        .bind
        .first()
        .map(|a| a.trim_start_matches('-'))
        .unwrap_or("127.0.0.1");
    match first {
        "*" | "0.0.0.0" | "" => "127.0.0.1".into(),
        "::" | "::*" => "::1".into(),
        other => other.into(),
    }
}

fn ping(host: &str, port: u16, user: Option<&str>, password: Option<&[u8]>) -> Result<(), String> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port}: no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut request = Vec::new();
    if let Some(password) = password {
        let mut auth: Vec<&[u8]> = vec![b"AUTH"];
        auth.extend(user.map(str::as_bytes));
        auth.push(password);
        encode(&mut request, &auth);
    }
    encode(&mut request, &[b"PING"]);
    stream.write_all(&request).map_err(|e| e.to_string())?;
    let replies = read_lines(&mut stream, if password.is_some() { 2 } else { 1 })?;
    match replies.last().map(String::as_str) {
        Some("+PONG") if replies.iter().all(|r| r.starts_with('+')) => Ok(()),
        _ => Err(format!("unexpected reply {replies:?}")),
    }
}

fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The first `n` reply lines (the replies to AUTH and PING are one line each).
fn read_lines(stream: &mut TcpStream, n: usize) -> Result<Vec<String>, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while buf.windows(2).filter(|w| w == b"\r\n").count() < n {
        let got = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if got == 0 {
            return Err(format!(
                "connection closed after {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    Ok(String::from_utf8_lossy(&buf)
        .split("\r\n")
        .take(n)
        .map(str::to_string)
        .collect())
}
