//! Blocking commands (BLPOP, BLMOVE, BLMPOP, BZPOPMIN...). A client that finds nothing to pop
//! registers a `Waiter` on each of its keys, in the shard of that key and while holding that
//! shard's lock, so no push can slip between its check and its registration. Its connection
//! then waits (no CPU, no polling) for one of: being served, its timeout, CLIENT UNBLOCK, a kill
//! or the socket closing.
//!
//! A write that creates a key someone waits on records the key as ready on its `DbView`. Once
//! the writing command (or the whole transaction) has finished, `serve_ready` serves the
//! waiters of each ready key in the order they blocked, re-running their pop for them and
//! handing them the reply bytes. Whoever first claims a waiter (the server serving it, its
//! timeout, CLIENT UNBLOCK) decides its reply, so a client is answered exactly once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::client::ClientInfo;
use super::{Server, unix_ms};
use crate::commands::sorted_sets::{self, Side};
use crate::commands::{Ctx, lists, streams};
use crate::persistence::aof::Propagation;
use crate::protocol::{Reply, RespVersion};
use crate::storage::DbView;
use crate::storage::list::End;
use crate::storage::stream::StreamId;

/// What a blocked client will do once one of its keys has data.
#[derive(Debug, Clone)]
pub enum BlockedOp {
    /// BLPOP / BRPOP: reply [key, element].
    Pop(End),
    /// BLMPOP: reply [key, [elements]].
    MPop { end: End, count: usize },
    /// BLMOVE / BRPOPLPUSH (`rpoplpush`, propagated as RPOPLPUSH): move one element to
    /// `dest`, reply the element.
    Move {
        from: End,
        to: End,
        dest: Vec<u8>,
        rpoplpush: bool,
    },
    /// BZPOPMIN / BZPOPMAX: reply [key, member, score].
    ZPop(Side),
    /// BZMPOP: reply [key, [[member, score]...]].
    ZMPop { side: Side, count: usize },
    /// XREAD: entries after `ids[i]` in the i-th key, up to `count` (0: all).
    XRead { ids: Vec<StreamId>, count: usize },
    /// XREADGROUP with `>`: entries the group has not delivered yet.
    XReadGroup {
        group: Box<[u8]>,
        consumer: Box<[u8]>,
        count: usize,
        noack: bool,
    },
}

impl BlockedOp {
    /// What serving this op on `key` is propagated as: its non-blocking form, as Redis
    /// rewrites served blocking commands (BLPOP -> LPOP, BZMPOP -> ZPOPMIN key count...).
    /// None for stream readers.
    pub fn propagated_form(&self, key: &[u8]) -> Option<Vec<Vec<u8>>> {
        let pop = |end: End| match end {
            End::Left => b"LPOP".to_vec(),
            End::Right => b"RPOP".to_vec(),
        };
        let zpop = |side: Side| match side {
            Side::Min => b"ZPOPMIN".to_vec(),
            Side::Max => b"ZPOPMAX".to_vec(),
        };
        let side_name = |end: End| match end {
            End::Left => b"LEFT".to_vec(),
            End::Right => b"RIGHT".to_vec(),
        };
        let count = |n: usize| n.to_string().into_bytes();
        Some(match self {
            BlockedOp::Pop(end) => vec![pop(*end), key.to_vec()],
            BlockedOp::MPop { end, count: n } => vec![pop(*end), key.to_vec(), count(*n)],
            BlockedOp::Move {
                dest,
                rpoplpush: true,
                ..
            } => vec![b"RPOPLPUSH".to_vec(), key.to_vec(), dest.clone()],
            BlockedOp::Move { from, to, dest, .. } => vec![
                b"LMOVE".to_vec(),
                key.to_vec(),
                dest.clone(),
                side_name(*from),
                side_name(*to),
            ],
            BlockedOp::ZPop(side) => vec![zpop(*side), key.to_vec()],
            BlockedOp::ZMPop { side, count: n } => vec![zpop(*side), key.to_vec(), count(*n)],
            // Stream readers: XREAD writes nothing, XREADGROUP's deliveries are propagated
            // by `streams::serve_blocked`.
            BlockedOp::XRead { .. } | BlockedOp::XReadGroup { .. } => return None,
        })
    }

    /// Another key the op writes (its shard must be locked too when serving).
    fn dest(&self) -> Option<&[u8]> {
        match self {
            BlockedOp::Move { dest, .. } => Some(dest),
            _ => None,
        }
    }

    /// XREAD / XREADGROUP, served by `streams::serve_blocked`.
    fn reads_stream(&self) -> bool {
        matches!(self, BlockedOp::XRead { .. } | BlockedOp::XReadGroup { .. })
    }

    /// The type of value the op pops from (TYPE's name).
    fn value_type(&self) -> &'static str {
        match self {
            BlockedOp::ZPop(_) | BlockedOp::ZMPop { .. } => "zset",
            _ => "list",
        }
    }

    /// What a client gets at once when it may not block (inside MULTI or a script): what the
    /// non-blocking command would answer.
    fn reply_nonblocking(&self, reply: &mut Reply) {
        match self {
            BlockedOp::Move { .. } => reply.null(),
            _ => reply.null_array(),
        }
    }
}

/// What a client gets when its timeout passes (or CLIENT UNBLOCK ... TIMEOUT): a null array
/// for every blocking command, as Redis 7.0 answers.
fn reply_timeout(reply: &mut Reply) {
    reply.null_array();
}

pub struct Waiter {
    pub client_id: u64,
    pub db: usize,
    pub resp: RespVersion,
    pub op: BlockedOp,
    /// The keys waited on, in the order given.
    pub keys: Vec<Box<[u8]>>,
    /// Unix ms after which the client gets the timeout reply; 0 = never.
    pub deadline_ms: i64,
    claimed: AtomicBool,
    reply: Mutex<Option<Vec<u8>>>,
    wake: tokio::sync::Notify,
}

impl Waiter {
    /// Takes the right to answer this client; false if someone else already did.
    pub fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    pub fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    /// Gives up a claim that produced no reply (the key had nothing for this client). The
    /// connection is woken to look again: its timeout may have passed while it was claimed.
    fn unclaim(&self) {
        self.claimed.store(false, Ordering::Release);
        self.wake.notify_one();
    }

    /// Hands the reply to the waiting connection (after a successful claim).
    fn deliver(&self, bytes: Vec<u8>) {
        *self.reply.lock() = Some(bytes);
        self.wake.notify_one();
    }

    fn new_reply(&self) -> Reply {
        let mut r = Reply::new();
        r.resp = self.resp;
        r
    }
}

/// Blocks the client on `keys`, or, inside MULTI/EXEC or a script (which hold every shard and
/// must not wait), answers at once as on timeout, as Redis does.
pub fn block<'k>(
    ctx: &mut Ctx,
    keys: impl Iterator<Item = &'k [u8]>,
    deadline_ms: i64,
    op: BlockedOp,
) {
    if ctx.ks.locked.holds_all() {
        return op.reply_nonblocking(ctx.reply);
    }
    let waiter = Arc::new(Waiter {
        client_id: ctx.client.id(),
        db: ctx.ks.db,
        resp: ctx.reply.resp,
        op,
        keys: keys.map(Box::from).collect(),
        deadline_ms,
        claimed: AtomicBool::new(false),
        reply: Mutex::new(None),
        wake: tokio::sync::Notify::new(),
    });
    for key in &waiter.keys {
        ctx.ks.block_on(key, &waiter);
    }
    ctx.server
        .blocked
        .lock()
        .insert(waiter.client_id, waiter.clone());
    ctx.client.info.blocked.store(true, Ordering::Relaxed);
    ctx.client.blocked = Some(waiter);
}

/// How a blocked connection's wait ended.
pub enum Unblocked {
    /// The reply to send.
    Reply(Vec<u8>),
    /// The client went away (closed, killed); nothing to send.
    Gone,
}

/// Waits until the client is served or times out, while `gone` resolves if the client goes
/// away first. Cleans up the registrations either way.
pub async fn wait(
    server: &Server,
    info: &ClientInfo,
    waiter: &Arc<Waiter>,
    gone: impl std::future::Future<Output = ()>,
) -> Unblocked {
    let outcome = wait_inner(waiter, gone).await;
    forget(server, info, waiter);
    outcome
}

/// Drops every trace of a blocked client (its registrations on keys, its entry by id).
pub fn forget(server: &Server, info: &ClientInfo, waiter: &Arc<Waiter>) {
    server.keyspace.remove_waiter(waiter);
    server.blocked.lock().remove(&waiter.client_id);
    info.blocked.store(false, Ordering::Relaxed);
}

async fn wait_inner(
    waiter: &Arc<Waiter>,
    gone: impl std::future::Future<Output = ()>,
) -> Unblocked {
    tokio::pin!(gone);
    let mut gone_done = false;
    loop {
        let left_ms = (waiter.deadline_ms > 0).then(|| (waiter.deadline_ms - unix_ms()).max(0));
        let timeout = async {
            match left_ms {
                Some(ms) => tokio::time::sleep(std::time::Duration::from_millis(ms as u64)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = waiter.wake.notified() => {
                if let Some(bytes) = waiter.reply.lock().take() {
                    return if gone_done { Unblocked::Gone } else { Unblocked::Reply(bytes) };
                }
            }
            _ = timeout, if !waiter.is_claimed() => {
                if waiter.claim() {
                    let mut r = waiter.new_reply();
                    reply_timeout(&mut r);
                    return Unblocked::Reply(r.out);
                }
            }
            _ = &mut gone, if !gone_done => {
                if waiter.claim() {
                    return Unblocked::Gone;
                }
                // Being served right now: wait for that reply to land, then drop it.
                gone_done = true;
            }
        }
    }
}

/// CLIENT UNBLOCK: answers a blocked client as on timeout, or with an UNBLOCKED error.
/// Returns whether the client was blocked.
pub fn unblock_client(server: &Server, client_id: u64, with_error: bool) -> bool {
    let Some(waiter) = server.blocked.lock().get(&client_id).cloned() else {
        return false;
    };
    if !waiter.claim() {
        return false;
    }
    let mut r = waiter.new_reply();
    if with_error {
        r.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        reply_timeout(&mut r);
    }
    waiter.deliver(r.out);
    true
}

/// Serves the clients blocked on keys that became ready, in the order they blocked, after the
/// command that readied them has finished. Serving may ready more keys (BLMOVE into a key
/// others wait on); those are served in turn. Pops stop at the first client the key cannot
/// serve; clients waiting for another type than the key now holds (BZPOPMIN on a new list) are
/// passed over and stay blocked. Stream readers each get a look: every XREAD sees the new
/// entries, an XREADGROUP reader whose group has nothing new stays blocked, one whose stream or
/// group is gone is told.
pub fn serve_ready(server: &Arc<Server>, ready: Vec<(usize, Box<[u8]>)>) {
    let mut queue: VecDeque<(usize, Box<[u8]>)> = ready.into();
    let fill = server.hot.encoding_limits().list_max_listpack_size;
    while let Some((db, key)) = queue.pop_front() {
        let mut passed: Vec<Arc<Waiter>> = Vec::new();
        while let Some(waiter) = server.keyspace.front_waiter(db, &key, &passed) {
            if waiter.op.reads_stream() {
                passed.push(waiter);
                continue;
            }
            let attempt = try_serve(server, &mut queue, db, &key, &waiter, |view, reply, _| {
                match view.peek(&key).map(|e| e.value.type_name()) {
                    None => return Attempt::Stop,
                    Some(t) if t != waiter.op.value_type() => return Attempt::Pass,
                    Some(_) => {}
                }
                let served = match waiter.op {
                    BlockedOp::ZPop(side) => {
                        sorted_sets::serve_blocked(view, reply, &key, side, None)
                    }
                    BlockedOp::ZMPop { side, count } => {
                        sorted_sets::serve_blocked(view, reply, &key, side, Some(count))
                    }
                    _ => lists::serve_blocked(view, reply, &key, &waiter.op, fill),
                };
                if served {
                    Attempt::Served
                } else {
                    Attempt::Stop
                }
            });
            match attempt {
                Some(Attempt::Stop) => break,
                Some(Attempt::Pass) => passed.push(waiter),
                _ => {}
            }
        }
        let readers = server.keyspace.waiters(db, &key);
        for waiter in readers.iter().filter(|w| w.op.reads_stream()) {
            try_serve(server, &mut queue, db, &key, waiter, |view, reply, prop| {
                if streams::serve_blocked(view, reply, &key, waiter, prop) {
                    Attempt::Served
                } else {
                    Attempt::Pass
                }
            });
        }
    }
}

/// What serving a blocked client came to.
enum Attempt {
    Served,
    /// Nothing for this client; others may still be served.
    Pass,
    /// Nothing for this client nor for those after it.
    Stop,
}

/// Locks `key` (and a move's destination), claims `waiter` and runs `serve`; a served client
/// gets its reply, and the keys serving readied are queued. None when the client had already
/// been answered (timeout, CLIENT UNBLOCK).
fn try_serve(
    server: &Arc<Server>,
    queue: &mut VecDeque<(usize, Box<[u8]>)>,
    db: usize,
    key: &[u8],
    waiter: &Arc<Waiter>,
    serve: impl FnOnce(&mut DbView, &mut Reply, &mut Propagation) -> Attempt,
) -> Option<Attempt> {
    let keys = std::iter::once(key).chain(waiter.op.dest());
    // Not behind the script gate: a script in flight may hold every shard, for as long as it
    // runs (it locks them before it counts as running).
    let locked = if server.scripting.run.active() {
        crate::scripting::busy::off_worker(|| server.keyspace.lock_keys(keys))
    } else {
        server.keyspace.lock_keys(keys)
    };
    let now = unix_ms();
    let mut view = DbView::new(&server.keyspace, locked, db, now, server.access_clock(now));
    view.notify_flags = server.hot.notify_flags.load(Ordering::Relaxed);
    if !waiter.claim() {
        // Timed out or unblocked meanwhile: it removes itself.
        view.drop_waiter(key, waiter);
        return None;
    }
    let mut reply = waiter.new_reply();
    let mut prop = Propagation::default();
    prop.on = server.aof.feeding();
    view.log_expired = prop.on;
    let attempt = serve(&mut view, &mut reply, &mut prop);
    let served = matches!(attempt, Attempt::Served);
    // Recorded while the key's shard is still held, like any command: a key found expired,
    // then what serving wrote.
    for (db, key) in std::mem::take(&mut view.expired) {
        prop.push_expired(db, &key);
    }
    if served
        && prop.on
        && let Some(form) = waiter.op.propagated_form(key)
    {
        prop.push(db, form.iter().map(Vec::as_slice));
    }
    if !prop.is_empty() {
        server.aof.append(&mut prop);
    }
    if !served {
        waiter.unclaim();
        return Some(attempt);
    }
    view.drop_waiter(key, waiter);
    waiter.deliver(reply.out);
    if !view.events.is_empty() {
        let flags = view.notify_flags;
        super::notify::publish(server, flags, &mut view.events);
    }
    queue.extend(view.ready.drain(..));
    Some(attempt)
}
