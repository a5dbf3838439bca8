//! The RESP codec: request parsing out of the read buffer and reply encoding into the write
//! buffer. Nothing here knows about commands or the keyspace.

pub mod parse;
pub mod reply;

pub use parse::{Args, OwnedArgs, ParseError, RequestParser};
pub use reply::{Reply, RespVersion};

/// Appends `args` as a RESP multibulk command (a request as clients send it; the AOF's
/// format too).
pub fn encode_command<'a>(out: &mut Vec<u8>, args: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}
