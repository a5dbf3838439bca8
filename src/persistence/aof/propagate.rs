//! What one request executed, as the AOF records it. The dispatcher fills a `Propagation` while
//! the request runs (commands in MULTI/EXEC and scripts included) and hands it to the AOF before
//! it releases the shard locks, so the file orders writes to a key as they executed.

use crate::protocol::encode_command;

/// Bytes of encoding buffer a client keeps between requests.
const KEEP_CAPACITY: usize = 64 * 1024;

/// The encoded writes of one request (one execution unit, as Redis's also_propagate array).
#[derive(Default)]
pub struct Propagation {
    /// The AOF is being fed. Off, nothing is recorded: one test per command.
    pub on: bool,
    /// Set by a handler that stated its own propagation (or that its effects are propagated
    /// command by command: EXEC, scripts): the command as received is then not recorded.
    pub replaced: bool,
    /// RESP multibulk commands, back to back.
    buf: Vec<u8>,
    ops: Vec<Op>,
}

#[derive(Clone, Copy)]
struct Op {
    db: u32,
    end: u32,
    /// Propagated on its own ahead of the unit (a lazy-expiry deletion, as Redis's
    /// propagateDeletion), never inside its MULTI/EXEC.
    standalone: bool,
}

impl Propagation {
    /// Records one executed command in database `db`.
    pub fn push<'a>(&mut self, db: usize, args: impl ExactSizeIterator<Item = &'a [u8]>) {
        self.push_op(db, args, false);
    }

    /// Records the deletion of a key found expired while the request ran.
    pub fn push_expired(&mut self, db: usize, key: &[u8]) {
        self.push_op(db, [&b"DEL"[..], key].into_iter(), true);
    }

    fn push_op<'a>(
        &mut self,
        db: usize,
        args: impl ExactSizeIterator<Item = &'a [u8]>,
        standalone: bool,
    ) {
        encode_command(&mut self.buf, args);
        self.ops.push(Op {
            db: db as u32,
            end: self.buf.len() as u32,
            standalone,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Writes the recorded commands to the AOF stream: a SELECT whenever the database differs
    /// from the stream's (`stream_db`, updated), deletions first, then the unit's commands,
    /// wrapped in MULTI/EXEC when there are several (Redis 7.0's propagatePendingCommands).
    /// Leaves the propagation empty for the next request.
    pub fn drain_into(&mut self, out: &mut Vec<u8>, stream_db: &mut Option<usize>) {
        let units = self.ops.iter().filter(|o| !o.standalone).count();
        for pass_standalone in [true, false] {
            let mut start = 0usize;
            let mut wrapped = false;
            for op in &self.ops {
                let range = start..op.end as usize;
                start = op.end as usize;
                if op.standalone != pass_standalone {
                    continue;
                }
                select_db(out, stream_db, op.db as usize);
                if !pass_standalone && units > 1 && !wrapped {
                    encode_command(out, [&b"MULTI"[..]].into_iter());
                    wrapped = true;
                }
                out.extend_from_slice(&self.buf[range]);
            }
            if wrapped {
                encode_command(out, [&b"EXEC"[..]].into_iter());
            }
        }
        self.clear();
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.ops.clear();
        self.replaced = false;
        // One huge request (a big MSET, a long EXEC) should not pin its size per client.
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf.shrink_to(KEEP_CAPACITY);
        }
    }
}

/// Emits a SELECT when the stream is in another database.
pub fn select_db(out: &mut Vec<u8>, stream_db: &mut Option<usize>, db: usize) {
    if *stream_db != Some(db) {
        let mut n = itoa::Buffer::new();
        encode_command(out, [&b"SELECT"[..], n.format(db).as_bytes()].into_iter());
        *stream_db = Some(db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).replace("\r\n", " ")
    }

    #[test]
    fn one_command_is_not_wrapped_and_selects_its_db() {
        let mut p = Propagation::default();
        p.push(3, [&b"set"[..], b"k", b"v"].into_iter());
        let mut out = Vec::new();
        let mut db = Some(0);
        p.drain_into(&mut out, &mut db);
        assert_eq!(text(&out), "*2 $6 SELECT $1 3 *3 $3 set $1 k $1 v ");
        assert_eq!(db, Some(3));
        assert!(p.is_empty());
    }

    #[test]
    fn several_commands_are_wrapped_after_standalone_deletions() {
        let mut p = Propagation::default();
        p.push(0, [&b"incr"[..], b"a"].into_iter());
        p.push_expired(0, b"gone");
        p.push(0, [&b"incr"[..], b"b"].into_iter());
        let mut out = Vec::new();
        let mut db = Some(0);
        p.drain_into(&mut out, &mut db);
        assert_eq!(
            text(&out),
            "*2 $3 DEL $4 gone *1 $5 MULTI *2 $4 incr $1 a *2 $4 incr $1 b *1 $4 EXEC "
        );
    }
}
