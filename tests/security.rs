//! The locks users put on Redis, on ferrodis and redis-server alike: protected mode seen from a
//! non-loopback address, requirepass, and commands renamed or disabled with rename-command.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use common::Server;

/// A non-loopback address of this machine. Servers listen on 127.0.0.1 only; a client socket
/// bound to this address reaches them through the loopback interface but is seen as a remote
/// peer, which is what protected mode looks at.
fn outside_address() -> IpAddr {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .expect("hostname -I");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|a| a.is_ipv4() && !a.is_loopback())
        .expect("this machine has a non-loopback IPv4 address")
}

/// Connects from `from` to the server, sends `request` and returns everything it answers until
/// it closes the connection or goes quiet.
fn exchange_from(from: IpAddr, port: u16, request: &[u8]) -> Vec<u8> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(from, 0).into()).unwrap();
    socket
        .connect(&SocketAddr::from(([127, 0, 0, 1], port)).into())
        .unwrap();
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
        if got.ends_with(b"\r\n") && !got.starts_with(b"-DENIED") {
            break;
        }
    }
    got
}

#[test]
fn protected_mode_refuses_remote_clients_without_a_password() {
    let outside = outside_address();
    let ping = b"*1\r\n$4\r\nPING\r\n";
    let mut answers = Vec::new();
    for (label, args) in [
        ("protected", vec!["--protected-mode", "yes"]),
        (
            "password",
            vec!["--protected-mode", "yes", "--requirepass", "pw"],
        ),
        ("unprotected", vec!["--protected-mode", "no"]),
    ] {
        let reference = Server::redis(&args);
        let subject = Server::ferrodis(&args);
        let expected = exchange_from(outside, reference.port, ping);
        let got = exchange_from(outside, subject.port, ping);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{label}"
        );
        answers.push(String::from_utf8_lossy(&got).into_owned());
        // Loopback clients are always let in.
        assert!(String::from_utf8_lossy(&subject.cli(&["ping"]).stdout).len() > 1);
    }
    assert!(answers[0].starts_with("-DENIED Redis is running in protected mode"));
    assert!(answers[1].starts_with("-NOAUTH"));
    assert_eq!(answers[2], "+PONG\r\n");
}

#[test]
fn renamed_and_disabled_commands() {
    let args = [
        "--rename-command",
        "FLUSHALL",
        "",
        "--rename-command",
        "CONFIG",
        "ops-config",
        "--rename-command",
        "flushdb",
        "",
    ];
    let reference = Server::redis(&args);
    let subject = Server::ferrodis(&args);
    for command in [
        vec!["flushall"],
        vec!["FLUSHDB"],
        vec!["config", "get", "port"],
        vec!["ops-config", "get", "maxmemory-policy"],
        vec!["OPS-CONFIG", "set", "maxmemory-policy", "allkeys-lru"],
        vec!["ops-config", "get", "maxmemory-policy"],
        vec!["command", "info", "flushall"],
        vec!["set", "k", "v"],
        vec!["get", "k"],
    ] {
        let expected = reference.cli(&command);
        let got = subject.cli(&command);
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&expected.stdout),
            "{command:?}"
        );
    }
}
