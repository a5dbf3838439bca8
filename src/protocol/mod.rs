//! The RESP codec: request parsing out of the read buffer and reply encoding into the write
//! buffer. Nothing here knows about commands or the keyspace.

pub mod parse;
pub mod reply;

pub use parse::{Args, OwnedArgs, ParseError, RequestParser};
pub use reply::{Reply, RespVersion};
