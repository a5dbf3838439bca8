//! Deployment without a Docker engine: the healthcheck's exit codes, the shipped redis.conf on
//! ferrodis and redis-server, the compose files validated by docker-compose, and the container
//! entry point run directly under tini (signals, clean shutdown).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port, unique_temp_dir};

fn repo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
}

fn ferrodis_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferrodis")
}

/// `ferrodis healthcheck args...` with `env` set (and the password variables cleared otherwise).
fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(ferrodis_bin());
    cmd.arg("healthcheck")
        .args(args)
        .env_remove("FERRODIS_PASSWORD")
        .env_remove("REDIS_PASSWORD")
        .env_remove("FERRODIS_USER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ferrodis healthcheck")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

#[test]
fn healthcheck_passes_only_on_pong() {
    let open = Server::ferrodis(&[]);
    let port = open.port.to_string();
    assert_eq!(code(&healthcheck(&["--port", &port], &[])), 0);

    let locked = Server::ferrodis(&["--requirepass", "s3cret"]);
    let port = locked.port.to_string();
    let denied = healthcheck(&["--port", &port], &[]);
    assert_eq!(code(&denied), 1);
    assert!(String::from_utf8_lossy(&denied.stderr).contains("NOAUTH"));
    assert_eq!(
        code(&healthcheck(
            &["--port", &port],
            &[("FERRODIS_PASSWORD", "s3cret")]
        )),
        0
    );
    assert_eq!(
        code(&healthcheck(
            &["--port", &port],
            &[("REDIS_PASSWORD", "s3cret")]
        )),
        0
    );
    let wrong = healthcheck(&["--port", &port], &[("FERRODIS_PASSWORD", "nope")]);
    assert_eq!(code(&wrong), 1);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("WRONGPASS"));
    // The password from the configuration the server runs with.
    assert_eq!(
        code(&healthcheck(
            &["--port", &port, "--requirepass", "s3cret"],
            &[]
        )),
        0
    );
    // Nothing listening.
    let nobody = free_port().to_string();
    assert_eq!(code(&healthcheck(&["--port", &nobody], &[])), 1);
    // A configuration it cannot read is a usage error.
    assert_eq!(code(&healthcheck(&["--no-such-directive", "x"], &[])), 2);
}

#[test]
fn healthcheck_reads_the_shipped_config() {
    // The healthcheck in the image: the shipped redis.conf, loopback, with the server's port.
    let server = Server::ferrodis(&[repo("redis.conf").to_str().unwrap()]);
    let conf = repo("redis.conf");
    let port = server.port.to_string();
    let out = healthcheck(
        &[
            conf.to_str().unwrap(),
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn shipped_config_loads_in_ferrodis_and_redis_server() {
    // redis-server changes to `dir` while it reads the file, so /data (the container's volume)
    // becomes a directory that exists here; every other line is the shipped one.
    let data = unique_temp_dir("shipped-conf");
    let text = std::fs::read_to_string(repo("redis.conf")).unwrap();
    assert!(text.contains("\ndir /data\n"));
    let conf = data.join("redis.conf");
    std::fs::write(
        &conf,
        text.replace("\ndir /data\n", &format!("\ndir {}\n", data.display())),
    )
    .unwrap();
    for server in [
        Server::ferrodis(&[conf.to_str().unwrap()]),
        Server::redis(&[conf.to_str().unwrap()]),
    ] {
        let out = server.cli(&["config", "get", "maxmemory-policy"]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "maxmemory-policy\nallkeys-lru\n",
            "{}",
            server.name
        );
        let out = server.cli(&["ping"]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "PONG\n",
            "{}",
            server.name
        );
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn compose_files_validate() {
    for file in ["docker-compose.yml", "docker-compose.host.yml"] {
        let out = Command::new("docker-compose")
            .arg("-f")
            .arg(repo(file))
            .args(["config", "-q"])
            .output()
            .expect("docker-compose (installed by scripts/test.sh)");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(repo(file)).unwrap();
        for needle in [
            "restart: unless-stopped",
            "interval: 5s",
            "timeout: 3s",
            "retries: 10",
            "start_period: 5s",
            "ferrodis-data:/data",
        ] {
            assert!(text.contains(needle), "{file} lacks {needle}");
        }
    }
}

/// The entry point of the image, run as in the container (tini as the parent, the shipped
/// configuration) but on loopback and a free port.
fn start_entrypoint(dir: &Path, port: u16, password: Option<&str>) -> Child {
    let bin_dir = Path::new(ferrodis_bin()).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new("tini");
    cmd.arg("-s")
        .arg("--")
        .arg(repo("docker-entrypoint.sh"))
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir)
        .args(["--appendonly", "no", "--save", ""])
        .env("PATH", path)
        .env("FERRODIS_CONF", repo("redis.conf"))
        .env("FERRODIS_BIND", "127.0.0.1")
        .env_remove("FERRODIS_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("FERRODIS_PASSWORD", p);
    }
    cmd.spawn().expect("tini (installed by scripts/test.sh)")
}

fn wait_healthy(port: u16, env: &[(&str, &str)]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while code(&healthcheck(&["--port", &port.to_string()], env)) != 0 {
        assert!(Instant::now() < deadline, "server on {port} never healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm_and_wait(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: kill(2) on the PID of a child we spawned and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn entrypoint_runs_under_tini_and_stops_cleanly_on_sigterm() {
    let dir = unique_temp_dir("entrypoint");
    let port = free_port();
    let mut child = start_entrypoint(&dir, port, None);
    wait_healthy(port, &[]);
    // Without a password the entry point turns protected mode off for Docker's NAT.
    let out = common::redis_cli(port, &["config", "get", "protected-mode"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "protected-mode\nno\n");
    let status = sigterm_and_wait(&mut child);
    let log = String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("Received SIGTERM"), "{log}");

    let port = free_port();
    let mut child = start_entrypoint(&dir, port, Some("pw"));
    wait_healthy(port, &[("FERRODIS_PASSWORD", "pw")]);
    let out = common::redis_cli(port, &["ping"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("NOAUTH"));
    let out = common::redis_cli(port, &["-a", "pw", "--no-auth-warning", "ping"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PONG\n");
    assert!(sigterm_and_wait(&mut child).success());
    let _ = std::fs::remove_dir_all(&dir);
}
