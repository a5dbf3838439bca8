//! The ferrodis binary: `ferrodis [redis.conf] [--directive value ...]`, like redis-server.

use std::sync::Arc;

use ferrodis::config::{Config, LogLevel};
use ferrodis::server::Server;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::reload;

#[global_allocator]
static GLOBAL: ferrodis::memory::alloc::CountingAllocator =
    ferrodis::memory::alloc::CountingAllocator;

const USAGE: &str = "Usage: ./ferrodis [/path/to/redis.conf] [options] [-]
       ./ferrodis - (read config from stdin)
       ./ferrodis -v or --version
       ./ferrodis -h or --help
       ./ferrodis healthcheck [/path/to/redis.conf] [options]
           (PING the server that configuration describes; exit 0 only on PONG)

Examples:
       ./ferrodis (run the server with default config)
       ./ferrodis /etc/redis/6350.conf
       ./ferrodis --port 7777
       ./ferrodis /etc/myredis.conf --loglevel verbose -
       ./ferrodis /etc/myredis.conf --loglevel verbose
";

fn level_filter(l: LogLevel) -> EnvFilter {
    EnvFilter::new(match l {
        LogLevel::Debug => "debug",
        LogLevel::Verbose => "info",
        LogLevel::Notice => "info",
        LogLevel::Warning => "warn",
        LogLevel::Nothing => "off",
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "healthcheck") {
        std::process::exit(ferrodis::healthcheck::run(&args[1..]));
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return;
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "ferrodis v={} (Redis {} compatible) bits={}",
            ferrodis::VERSION,
            ferrodis::REDIS_VERSION,
            usize::BITS
        );
        return;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };

    if config.daemonize {
        daemonize();
    }
    // Like redis-server, the process works inside `dir` (dump files and relative paths).
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprintln!("Can't chdir to '{}': {e}", config.dir.display());
        std::process::exit(1);
    }
    let (filter, reload_handle) = reload::Layer::new(level_filter(config.loglevel));
    let writer: Box<dyn Fn() -> Box<dyn std::io::Write> + Send + Sync> =
        if config.logfile.is_empty() {
            Box::new(|| Box::new(std::io::stdout()))
        } else {
            let path = config.logfile.clone();
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
            {
                Ok(_) => Box::new(move || {
                    match std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                    {
                        Ok(f) => Box::new(f),
                        Err(_) => Box::new(std::io::stderr()),
                    }
                }),
                Err(e) => {
                    eprintln!("Can't open the log file: {e}");
                    std::process::exit(1);
                }
            }
        };
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer),
        )
        .init();
    for (name, at) in config.unimplemented_directives() {
        tracing::warn!(
            "config directive '{name}' ({at}) is accepted but not implemented yet; it has no effect"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(async move {
        let server = match Server::new(config) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}");
                return 1;
            }
        };
        server.set_log_reload(Box::new(move |l| {
            let _ = reload_handle.reload(level_filter(l));
        }));
        run(server).await
    });
    std::process::exit(code);
}

/// Detaches like redis-server's daemonize(): fork, the parent exits, the child starts a new
/// session with standard input and output on /dev/null. Runs before any thread exists.
fn daemonize() {
    // SAFETY: called while the process is single-threaded; fork, setsid, open and dup2 are
    // async-signal-safe and their results are checked.
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!("fork failed: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            0 => {}
            _ => std::process::exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, libc::STDIN_FILENO);
            libc::dup2(fd, libc::STDOUT_FILENO);
            libc::dup2(fd, libc::STDERR_FILENO);
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
}

async fn run(server: Arc<Server>) -> i32 {
    // Installed before anyone can reach us: a SIGTERM right after the first PING (or during a
    // long AOF load) must mean a clean shutdown, not the default kill.
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    // Clients connecting while the dataset loads get -LOADING, as from redis-server.
    server
        .persistence
        .loading
        .store(true, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = server.start_listeners() {
        tracing::error!("{e}");
        return 1;
    }
    // Loading data from disk, as redis-server: the AOF when appendonly is on, else the RDB file.
    let loaded = if server.config.read().appendonly {
        server.aof.stats.loading_started_unix.store(
            ferrodis::server::unix_ms() / 1000,
            std::sync::atomic::Ordering::Relaxed,
        );
        let srv = server.clone();
        tokio::task::spawn_blocking(move || ferrodis::persistence::aof::load::boot(&srv)).await
    } else {
        let srv = server.clone();
        tokio::task::spawn_blocking(move || ferrodis::persistence::load_at_startup(&srv)).await
    };
    match loaded {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!("{e}");
            eprintln!("{e}");
            return 1;
        }
        Err(e) => {
            tracing::error!("loading the dataset failed: {e}");
            return 1;
        }
    }
    server
        .persistence
        .loading
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let pidfile = server.config.read().pidfile.clone();
    if !pidfile.is_empty() {
        let _ = std::fs::write(&pidfile, format!("{}\n", std::process::id()));
    }
    tracing::info!(
        "ferrodis {} (Redis {} compatible) ready to accept connections on port {}",
        ferrodis::VERSION,
        ferrodis::REDIS_VERSION,
        server.config.read().port
    );
    tokio::spawn(server.clone().cron());
    // A signal shuts down like SHUTDOWN without arguments (saving when save points are set);
    // if that fails the server keeps running, as redis-server does.
    loop {
        let by_signal = tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                tracing::warn!("Received SIGINT scheduling shutdown...");
                true
            }
            _ = sigterm.recv() => {
                tracing::warn!("Received SIGTERM scheduling shutdown...");
                true
            }
            _ = server.shutdown.notified() => false,
        };
        if !by_signal {
            break;
        }
        tracing::warn!("User requested shutdown...");
        let srv = server.clone();
        let save = !server.config.read().save.is_empty();
        let prepared = tokio::task::spawn_blocking(move || {
            ferrodis::persistence::prepare_shutdown(&srv, save, false)
        })
        .await;
        if matches!(prepared, Ok(true)) {
            break;
        }
    }
    server.request_shutdown();
    if server.aof.feeding() {
        // Everything appended reaches the disk before exit, as Redis's shutdown fsync.
        tracing::info!("Calling fsync() on the AOF file.");
        server.aof.stop();
    }
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    tracing::warn!("ferrodis is now ready to exit, bye bye...");
    0
}
