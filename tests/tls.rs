//! TLS with real clients: redis-cli --tls and redis-py over rediss://, plain and TLS ports side
//! by side, client certificates (tls-auth-clients), certificates replaced by CONFIG SET. The
//! same checks run on redis-server (Debian's is built with TLS). Certificates are made with the
//! openssl command line, as Redis's own test suite makes them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{Server, free_port, unique_temp_dir};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl (installed by scripts/test.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA `{name}-ca` and a certificate `{name}` it signed for 127.0.0.1.
fn issue(dir: &Path, name: &str) {
    let ca = format!("{name}-ca");
    openssl(dir, &["genrsa", "-out", &format!("{ca}.key"), "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-sha256",
            "-days",
            "2",
            "-key",
            &format!("{ca}.key"),
            "-subj",
            "/CN=ferrodis test CA",
            "-out",
            &format!("{ca}.crt"),
        ],
    );
    openssl(dir, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-sha256",
            "-key",
            &format!("{name}.key"),
            "-subj",
            "/CN=127.0.0.1",
            "-out",
            &format!("{name}.csr"),
        ],
    );
    std::fs::write(
        dir.join(format!("{name}.ext")),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-sha256",
            "-days",
            "2",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

struct Certs {
    dir: PathBuf,
}

impl Certs {
    fn new() -> Certs {
        let dir = unique_temp_dir("tls-certs");
        for name in ["server", "client", "other"] {
            issue(&dir, name);
        }
        Certs { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn cli(port: u16, certs: &Certs, ca: &str, client_cert: bool, args: &[&str]) -> Output {
    let mut cmd = Command::new("redis-cli");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--tls",
        "--cacert",
    ])
    .arg(certs.path(ca));
    if client_cert {
        cmd.arg("--cert")
            .arg(certs.path("client.crt"))
            .arg("--key")
            .arg(certs.path("client.key"));
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tls_args<'a>(certs: &'a Certs, tls_port: &'a str, auth: &'a str) -> Vec<String> {
    vec![
        "--tls-port".into(),
        tls_port.into(),
        "--tls-cert-file".into(),
        certs.path("server.crt"),
        "--tls-key-file".into(),
        certs.path("server.key"),
        "--tls-ca-cert-file".into(),
        certs.path("client-ca.crt"),
        "--tls-auth-clients".into(),
        auth.into(),
    ]
}

fn start(name: &str, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if name == "ferrodis" {
        Server::ferrodis(&args)
    } else {
        Server::redis(&args)
    }
}

#[test]
fn redis_cli_over_tls_with_client_certificates() {
    let certs = Certs::new();
    for name in ["ferrodis", "redis-server"] {
        let tls_port = free_port();
        let port_text = tls_port.to_string();
        let server = start(name, &tls_args(&certs, &port_text, "yes"));
        let ok = cli(
            tls_port,
            &certs,
            "server-ca.crt",
            true,
            &["set", "k", "over tls"],
        );
        assert_eq!(
            stdout(&ok),
            "OK\n",
            "{name}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        // The plain port serves the same data beside it.
        assert_eq!(stdout(&server.cli(&["get", "k"])), "over tls\n", "{name}");
        // Without a client certificate the handshake fails.
        let refused = cli(tls_port, &certs, "server-ca.crt", false, &["ping"]);
        assert_ne!(
            stdout(&refused),
            "PONG\n",
            "{name} accepted a client without certificate"
        );
        // A client that does not trust the server's CA refuses it.
        let distrust = cli(tls_port, &certs, "other-ca.crt", true, &["ping"]);
        assert_ne!(stdout(&distrust), "PONG\n", "{name}");
        // A big value goes both ways through TLS records (and partial socket writes).
        let big = "x".repeat(3 << 20);
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port_text, "--tls", "--cacert"])
            .arg(certs.path("server-ca.crt"))
            .arg("--cert")
            .arg(certs.path("client.crt"))
            .arg("--key")
            .arg(certs.path("client.key"))
            .args(["-x", "set", "big"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(big.as_bytes()).unwrap();
        }
        let r = child.wait_with_output().unwrap();
        assert_eq!(stdout(&r), "OK\n", "{name}");
        let len = cli(tls_port, &certs, "server-ca.crt", true, &["strlen", "big"]);
        assert_eq!(stdout(&len), format!("{}\n", 3 << 20), "{name}");
        let got = cli(tls_port, &certs, "server-ca.crt", true, &["get", "big"]);
        assert_eq!(stdout(&got).trim_end().len(), 3 << 20, "{name}");
    }
}

#[test]
fn tls_auth_clients_no_and_certificate_reload() {
    let certs = Certs::new();
    for name in ["ferrodis", "redis-server"] {
        let tls_port = free_port();
        let port_text = tls_port.to_string();
        let server = start(name, &tls_args(&certs, &port_text, "no"));
        let ok = cli(tls_port, &certs, "server-ca.crt", false, &["ping"]);
        assert_eq!(
            stdout(&ok),
            "PONG\n",
            "{name}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        // A new certificate for new connections, from CONFIG SET.
        let set = server.cli(&[
            "config",
            "set",
            "tls-cert-file",
            &certs.path("other.crt"),
            "tls-key-file",
            &certs.path("other.key"),
        ]);
        assert_eq!(stdout(&set), "OK\n", "{name}");
        let ok = cli(tls_port, &certs, "other-ca.crt", false, &["ping"]);
        assert_eq!(stdout(&ok), "PONG\n", "{name} after reload");
        let old = cli(tls_port, &certs, "server-ca.crt", false, &["ping"]);
        assert_ne!(
            stdout(&old),
            "PONG\n",
            "{name} still serves the old certificate"
        );
        // A certificate that does not load is refused and the running one stays.
        let bad = server.cli(&["config", "set", "tls-cert-file", "/nonexistent.crt"]);
        assert!(
            stdout(&bad).contains("Unable to update TLS configuration"),
            "{name}: {}",
            stdout(&bad)
        );
        let ok = cli(tls_port, &certs, "other-ca.crt", false, &["ping"]);
        assert_eq!(stdout(&ok), "PONG\n", "{name} after a failed reload");
    }
}

#[test]
fn redis_py_connects_with_rediss_urls() {
    let python = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("client-venv/bin/python");
    assert!(python.exists(), "{python:?} missing: run scripts/test.sh");
    let certs = Certs::new();
    let script = r#"
import sys, redis
port, ca, cert, key = sys.argv[1:5]
r = redis.Redis.from_url(f"rediss://127.0.0.1:{port}/0", ssl_ca_certs=ca,
                         ssl_certfile=cert, ssl_keyfile=key)
assert r.ping()
r.set("py", "é" * 100000)
assert r.get("py").decode() == "é" * 100000
p = r.pubsub()
p.subscribe("news")
assert p.get_message(timeout=5)["type"] == "subscribe"
r.publish("news", "hello")
m = p.get_message(timeout=5)
assert m and m["data"] == b"hello", m
print("OK")
"#;
    for name in ["ferrodis", "redis-server"] {
        let tls_port = free_port();
        let port_text = tls_port.to_string();
        let _server = start(name, &tls_args(&certs, &port_text, "yes"));
        let out = Command::new(&python)
            .args(["-c", script, &port_text])
            .arg(certs.path("server-ca.crt"))
            .arg(certs.path("client.crt"))
            .arg(certs.path("client.key"))
            .output()
            .unwrap();
        assert_eq!(
            stdout(&out),
            "OK\n",
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn healthcheck_speaks_tls_to_a_tls_only_server() {
    let certs = Certs::new();
    let dir = unique_temp_dir("tls-only");
    let tls_port = free_port().to_string();
    let mut args = vec![
        "--port".to_string(),
        "0".into(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        "".into(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    args.extend(tls_args(&certs, &tls_port, "yes"));
    // One CA file that trusts both sides, as a deployment with one CA has: the healthcheck
    // verifies the server with the server's own tls-ca-cert-file.
    let bundle = certs.path("both-ca.crt");
    let both = std::fs::read_to_string(certs.path("server-ca.crt")).unwrap()
        + &std::fs::read_to_string(certs.path("client-ca.crt")).unwrap();
    std::fs::write(&bundle, both).unwrap();
    args.extend(["--tls-ca-cert-file".to_string(), bundle]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_ferrodis"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let check = |args: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_ferrodis"))
            .arg("healthcheck")
            .args(args)
            .output()
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut last = check(&args);
    while !last.status.success() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        last = check(&args);
    }
    let healthy = last.status.code();
    // A CA that did not sign the server's certificate fails the check.
    let mut distrusting = args.clone();
    distrusting.extend(["--tls-ca-cert-file".to_string(), certs.path("other-ca.crt")]);
    let distrusted = check(&distrusting).status.code();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        healthy,
        Some(0),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    assert_eq!(distrusted, Some(1));
}
