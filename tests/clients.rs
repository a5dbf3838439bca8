//! Real client libraries end to end against ferrodis: Celery (its Redis broker transport and
//! Real client libraries end to end: Celery (its Redis broker transport and result backend),
//! redis-py's own primitives (Lock, transactions, pub/sub, scripts) and BullMQ (queues,
//! workers, events, flows, schedulers...). Every scenario runs against ferrodis and a real
//! redis-server, each over RESP3 and RESP2, so a failure on ferrodis alone points at the
//! server. The Python packages live in `<target dir>/client-venv` and the Node ones in
//! `tests/clients/node_modules`; both are installed by `scripts/test.sh` (from
//! `tests/clients/requirements.txt` and `package.json`).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

fn client_venv_python() -> PathBuf {
    if let Ok(p) = std::env::var("FERRODIS_CLIENT_PYTHON") {
        return p.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let python = target.join("client-venv/bin/python");
    assert!(
        python.exists(),
        "{python:?} is missing: run `bash scripts/test.sh` (it installs the client libraries)"
    );
    python
}

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Runs a client script against `server` with `extra_args` after the port; fails with its
/// output (naming the server and the arguments) unless it prints OK in time.
fn run_client_script_with(
    server: &Server,
    program: &std::path::Path,
    script: &str,
    extra_args: &[&str],
    deadline: Duration,
) {
    let path = clients_dir().join(script);
    let mut child = Command::new(program)
        .arg(&path)
        .arg(server.port.to_string())
        .args(extra_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client script");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("poll client").is_some() {
            break;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("client output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "{script} {extra_args:?} on {} failed ({:?} after {:?}):\n{stdout}\n{}",
        server.name,
        out.status,
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a Python scenario script against a fresh `server` speaking RESP `protocol`.
fn python_scenarios(server: Server, script: &str, protocol: &str, deadline: Duration) {
    let python = client_venv_python();
    run_client_script_with(&server, &python, script, &[protocol], deadline);
}

/// Celery with separate `celery worker` processes: canvas, retries, exceptions, revoke,
/// remote control, events, priority queues, acks_late redelivery after kill -9.
const CELERY_DEADLINE: Duration = Duration::from_secs(180);
/// redis-py Lock, MULTI/EXEC with WATCH, pub/sub, register_script with NOSCRIPT fallback.
const REDIS_PY_DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn celery_on_ferrodis_resp3() {
    python_scenarios(Server::ferrodis(&[]), "celery_e2e.py", "3", CELERY_DEADLINE);
}

#[test]
fn celery_on_ferrodis_resp2() {
    python_scenarios(Server::ferrodis(&[]), "celery_e2e.py", "2", CELERY_DEADLINE);
}

#[test]
fn celery_on_redis_resp3() {
    python_scenarios(Server::redis(&[]), "celery_e2e.py", "3", CELERY_DEADLINE);
}

#[test]
fn celery_on_redis_resp2() {
    python_scenarios(Server::redis(&[]), "celery_e2e.py", "2", CELERY_DEADLINE);
}

#[test]
fn redis_py_on_ferrodis_resp3() {
    python_scenarios(
        Server::ferrodis(&[]),
        "redis_py_e2e.py",
        "3",
        REDIS_PY_DEADLINE,
    );
}

#[test]
fn redis_py_on_ferrodis_resp2() {
    python_scenarios(
        Server::ferrodis(&[]),
        "redis_py_e2e.py",
        "2",
        REDIS_PY_DEADLINE,
    );
}

#[test]
fn redis_py_on_redis_resp3() {
    python_scenarios(
        Server::redis(&[]),
        "redis_py_e2e.py",
        "3",
        REDIS_PY_DEADLINE,
    );
}

#[test]
fn redis_py_on_redis_resp2() {
    python_scenarios(
        Server::redis(&[]),
        "redis_py_e2e.py",
        "2",
        REDIS_PY_DEADLINE,
    );
}

/// Every BullMQ scenario of `bullmq_e2e.mjs` against `server` over one protocol ("resp3":
/// ioredis's default, "resp2": forced); the script checks CLIENT LIST's resp= of every
/// connection, and names the server and protocol in each line it prints.
fn bullmq_scenarios(server: Server, protocol: &str) {
    assert!(
        clients_dir().join("node_modules/bullmq").exists(),
        "tests/clients/node_modules is missing: run `bash scripts/test.sh` (it installs bullmq)"
    );
    let label = format!("bullmq on {} over {protocol}", server.name);
    run_client_script_with(
        &server,
        std::path::Path::new("node"),
        "bullmq_e2e.mjs",
        &[protocol, &label],
        Duration::from_secs(150),
    );
}

#[test]
fn bullmq_ferrodis_resp3() {
    bullmq_scenarios(Server::ferrodis(&[]), "resp3");
}

#[test]
fn bullmq_ferrodis_resp2() {
    bullmq_scenarios(Server::ferrodis(&[]), "resp2");
}

#[test]
fn bullmq_redis_resp3() {
    bullmq_scenarios(Server::redis(&[]), "resp3");
}

#[test]
fn bullmq_redis_resp2() {
    bullmq_scenarios(Server::redis(&[]), "resp2");
}
