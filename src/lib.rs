//! ferrodis: a Redis 7 compatible in-memory data server.

pub mod acl;
pub mod commands;
pub mod config;
pub mod healthcheck;
pub mod memory;
pub mod persistence;
pub mod protocol;
pub mod scripting;
pub mod server;
pub mod storage;
pub mod util;

/// The Redis version ferrodis answers as (HELLO, INFO): the Redis 7.0 line it is compatible with.
pub const REDIS_VERSION: &str = "7.0.15";
/// ferrodis's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
