//! ferrodis: a Redis 7 compatible in-memory data server.

pub mod util;
