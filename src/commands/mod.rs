//! Command execution: the dispatcher (lookup, arity, auth, shard locking, statistics) and one
//! module per command family. Handlers are thin: parse arguments, act on the keyspace through
//! `Ctx::ks`, write the reply.

pub mod acl_cmd;
pub mod bitmap;
pub mod client_cmd;
pub mod config_cmd;
pub mod connection;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod introspection;
pub mod keys;
pub mod latency;
pub mod lists;
pub mod memory;
pub mod persist_cmd;
pub mod pubsub;
pub mod scripting;
pub mod server_cmd;
pub mod sets;
pub mod slowlog;
pub mod sort;
pub mod sorted_sets;
pub mod streams;
pub mod strings;
pub mod table;
pub mod transactions;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::persistence::aof::Propagation;
use crate::protocol::{Args, Reply};
use crate::server::client::Client;
use crate::server::{Server, unix_ms};
use crate::storage::{DbView, Value};
use table::*;

pub type Handler = fn(&mut Ctx, Args);

/// What a handler works with. The fields are separate borrows so a handler can hold a value from
/// `ks` while writing to `reply`.
pub struct Ctx<'a, 'k> {
    pub ks: &'a mut DbView<'k>,
    pub reply: &'a mut Reply,
    pub client: &'a mut Client,
    pub server: &'a Arc<Server>,
    /// The writes this request executed, for the AOF (see `run`).
    pub prop: &'a mut Propagation,
}

impl Ctx<'_, '_> {
    /// Whether executed writes are being recorded: handlers that propagate a rewritten form
    /// build it only then.
    #[inline]
    pub fn propagating(&self) -> bool {
        self.prop.on
    }

    /// Propagates `args` instead of the command as received (Redis's
    /// rewriteClientCommandVector, or several calls for alsoPropagate); a no-op when the AOF
    /// is off. Commands whose only change is what they propagate this way still count.
    pub fn propagate(&mut self, args: &[&[u8]]) {
        if self.prop.on {
            self.prop.push(self.ks.db, args.iter().copied());
            self.prop.replaced = true;
        }
    }

    /// Propagates a blocking op's non-blocking form (served at once, or LMPOP/ZMPOP).
    pub fn propagate_served(&mut self, op: &crate::server::blocking::BlockedOp, key: &[u8]) {
        if self.prop.on
            && let Some(form) = op.propagated_form(key)
        {
            let args: Vec<&[u8]> = form.iter().map(Vec::as_slice).collect();
            self.propagate(&args);
        }
    }

    /// Propagates an expiry as the absolute PEXPIREAT Redis writes.
    pub fn propagate_pexpireat(&mut self, key: &[u8], at: i64, extra: &[&[u8]]) {
        if self.prop.on {
            let mut n = itoa::Buffer::new();
            let mut v: Vec<&[u8]> = vec![b"PEXPIREAT", key, n.format(at).as_bytes()];
            v.extend_from_slice(extra);
            self.propagate(&v);
        }
    }

    /// Propagates `SET key value PXAT at`, what every SET with an expiry becomes.
    pub fn propagate_set_pxat(&mut self, key: &[u8], value: &[u8], at: i64) {
        if self.prop.on {
            let mut n = itoa::Buffer::new();
            self.propagate(&[b"SET", key, value, b"PXAT", n.format(at).as_bytes()]);
        }
    }

    /// Propagates the command as received even though it changed no key (FUNCTION LOAD...).
    pub fn propagate_received(&mut self, args: &Args) {
        if self.prop.on {
            self.prop.push(self.ks.db, args.iter());
            self.prop.replaced = true;
        }
    }

    /// The command's effects are propagated by the commands it runs (EXEC, scripts), never
    /// the command itself.
    pub fn propagate_effects_only(&mut self) {
        self.prop.replaced = true;
    }
}

/// The error of a helper that has already written an error reply: the handler just returns.
#[derive(Debug)]
pub struct Replied;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX_ERR: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OOM_ERR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Replies one list element or set member as a bulk string; integers are formatted on the
/// stack.
pub fn reply_elem(reply: &mut Reply, e: crate::storage::set::Elem) {
    match e {
        crate::storage::set::Elem::Int(n) => reply.bulk_int(n),
        crate::storage::set::Elem::Bytes(b) => reply.bulk(b),
    }
}

/// Executes one request and writes its reply.
pub fn dispatch(server: &Arc<Server>, client: &mut Client, reply: &mut Reply, args: Args) {
    let name = args.get(0);
    // CLIENT LIST's cmd= is the last command looked up, as in Redis: set before any check
    // can reject it (also while queuing in MULTI); NULL for unknown (sub)commands.
    let Some((mut spec, mut index)) = server.commands.lookup(name) else {
        client.info.last_cmd.store(usize::MAX, Ordering::Relaxed);
        reply.error(&unknown_command(&args));
        count_error(server, reply);
        transactions::flag_aborted(client);
        return;
    };
    client.info.last_cmd.store(index, Ordering::Relaxed);
    if !spec.arity_ok(args.len()) {
        reply.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            spec.name
        ));
        count_rejected(server, index, reply);
        transactions::flag_aborted(client);
        return;
    }
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        // Container commands (CONFIG GET, OBJECT ENCODING...) run their subcommand's entry.
        let sub = args.get(1);
        let found = server.commands.lookup_sub(index, sub);
        let last = found.map_or(usize::MAX, |(_, i)| i);
        client.info.last_cmd.store(last, Ordering::Relaxed);
        match found {
            Some((s, i)) if s.arity_ok(args.len()) => (spec, index) = (s, i),
            Some((s, i)) => {
                reply.error(&format!(
                    "ERR wrong number of arguments for '{}|{}' command",
                    spec.name, s.name
                ));
                count_rejected(server, i, reply);
                transactions::flag_aborted(client);
                return;
            }
            None => {
                reply.error(&format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    String::from_utf8_lossy(&sub[..sub.len().min(128)]),
                    spec.name.to_ascii_uppercase()
                ));
                count_error(server, reply);
                transactions::flag_aborted(client);
                return;
            }
        }
    }
    // A connection that has not authenticated may run anything once the default user needs
    // no password any more (authRequired in Redis).
    if !client.authenticated && !spec.has(NO_AUTH) && server.acl.default_needs_auth() {
        reply.error("NOAUTH Authentication required.");
        count_rejected(server, index, reply);
        transactions::flag_aborted(client);
        return;
    }
    // As in Redis, before the ACL check: a command MULTI cannot hold.
    if client.multi.is_some() && spec.has(NO_MULTI) {
        reply.error("ERR Command not allowed inside a transaction");
        count_rejected(server, index, reply);
        transactions::flag_aborted(client);
        return;
    }
    if !client.user.unrestricted()
        && let Err(denial) = client.user.check(&crate::acl::Request {
            spec,
            index,
            args: &args,
        })
    {
        acl_cmd::refuse(server, client, reply, denial, index, &args);
        count_rejected(server, index, reply);
        transactions::flag_aborted(client);
        return;
    }
    if client.is_subscribed() && !reply.is_resp3() && !pubsub::allowed_while_subscribed(spec) {
        reply.error(&format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            server.commands.full_name(index)
        ));
        count_rejected(server, index, reply);
        return;
    }
    if (spec.has(WRITE) || spec.name == "ping") && server.persistence.writes_refused(server) {
        reply.error(crate::persistence::MISCONF);
        count_rejected(server, index, reply);
        transactions::flag_aborted(client);
        return;
    }
    if !spec.has(LOADING)
        && (server.persistence.loading.load(Ordering::Relaxed)
            || server.aof.stats.loading.load(Ordering::Relaxed))
    {
        reply.error("LOADING Redis is loading the dataset in memory");
        count_rejected(server, index, reply);
        transactions::flag_aborted(client);
        return;
    }
    if server.scripting.run.active()
        && let crate::scripting::busy::Admission::Busy(msg) = server.scripting.run.admit(
            spec.has(ALLOW_BUSY),
            server.hot.busy_reply_threshold.load(Ordering::Relaxed),
        )
    {
        return refuse(server, client, reply, spec, index, msg);
    }
    let maxmemory = server.hot.maxmemory.load(Ordering::Relaxed) != 0;
    client.oom_at_start = maxmemory
        && crate::memory::evict::perform(server) == crate::memory::evict::Outcome::OverLimit;
    if maxmemory && server.aof.feeding() {
        // Keys just evicted are DELs in the AOF: this reply goes out after them, as in Redis.
        client.aof_wait = server.aof.appended();
    }
    if client.oom_at_start && refused_when_oom(server, spec, client) {
        return refuse(server, client, reply, spec, index, OOM_ERR);
    }
    if client.multi.is_some() && transactions::queues(spec) {
        transactions::queue(client, reply, index, &args);
        return;
    }
    let started = Instant::now();
    let announced = crate::scripting::announce(server, spec, client);
    let locked = lock_for(server, spec, &args);
    let now_ms = unix_ms();
    let mut view = DbView::new(
        &server.keyspace,
        locked,
        client.db,
        now_ms,
        server.access_clock(now_ms),
    );
    view.touch = !client.no_touch;
    view.notify_flags = server.hot.notify_flags.load(Ordering::Relaxed);
    let tracking = server.tracking.active();
    if tracking {
        view.track_changes();
    }
    let mut prop = std::mem::take(&mut client.propagation);
    // Read with the shards locked: a rewrite switches it while holding every shard.
    prop.on = server.aof.feeding();
    view.log_expired = prop.on;
    let mut ctx = Ctx {
        ks: &mut view,
        reply,
        client,
        server,
        prop: &mut prop,
    };
    run(&mut ctx, spec, index, args, started);
    if !prop.is_empty() {
        // Appended before the shards are released: the AOF orders writes to a key as they ran.
        client.aof_wait = server.aof.append(&mut prop);
    }
    client.propagation = prop;
    if tracking {
        let changes = view.take_changes();
        if !changes.is_empty() {
            let by = client.id();
            server
                .tracking
                .invalidate(server, by, &changes, server.pubsub_limits());
        }
    }
    let ready = std::mem::take(&mut view.ready);
    drop(view);
    drop(announced);
    if !ready.is_empty() {
        crate::server::blocking::serve_ready(server, ready);
    }
}

/// Runs a resolved command against an already locked keyspace view and records its statistics
/// (also used by EXEC for each queued command).
pub fn run(ctx: &mut Ctx, spec: &CommandSpec, index: usize, args: Args, started: Instant) {
    let errors_before = ctx.reply.errors;
    let (db, dirty_before) = (ctx.ks.db, ctx.ks.dirty);
    let outer_replaced = std::mem::replace(&mut ctx.prop.replaced, false);
    (spec.handler)(ctx, args);
    if ctx.prop.on {
        propagate(ctx, db, dirty_before, args);
    }
    ctx.prop.replaced = outer_replaced;
    if let Some(t) = &ctx.client.tracking {
        track_reads(ctx.ks, t, ctx.client.caching, ctx.client.id(), spec, &args);
        if spec.name != "caching" {
            ctx.client.caching = None;
        }
    }
    if !ctx.ks.events.is_empty() {
        crate::server::notify::publish(ctx.server, ctx.ks.notify_flags, &mut ctx.ks.events);
    }
    let micros = started.elapsed().as_micros() as u64;
    let st = ctx.server.commands.stats(index);
    st.calls.fetch_add(1, Ordering::Relaxed);
    st.usec.fetch_add(micros, Ordering::Relaxed);
    crate::server::latency::record_command(ctx.server, index, spec.has(FAST), micros);
    if !spec.has(SKIP_SLOWLOG) {
        slowlog::maybe_record(ctx, &args, micros);
    }
    if ctx.server.monitor_count.load(Ordering::Relaxed) > 0
        && !spec.has(SKIP_MONITOR)
        && !spec.has(ADMIN)
    {
        server_cmd::feed_monitors(ctx, &args);
    }
    if ctx.reply.errors != errors_before {
        st.failed.fetch_add(1, Ordering::Relaxed);
        count_error(ctx.server, ctx.reply);
    }
}

/// Feeds the AOF from the one place every command runs: keys found expired become DELs, and a
/// command that changed the dataset is recorded as received unless its handler propagated
/// something else (`Ctx::propagate`).
fn propagate(ctx: &mut Ctx, db: usize, dirty_before: u64, args: Args) {
    for (db, key) in std::mem::take(&mut ctx.ks.expired) {
        ctx.prop.push_expired(db, &key);
    }
    if ctx.ks.dirty != dirty_before && !ctx.prop.replaced {
        ctx.prop.push(db, args.iter());
    }
}

/// Runs one command read from the AOF at start-up: no statistics, no propagation, no
/// notifications. Err: why it cannot be replayed.
pub fn execute_loaded(
    server: &Arc<Server>,
    client: &mut Client,
    reply: &mut Reply,
    args: Args,
) -> Result<(), String> {
    let name = args.get(0);
    let unknown = || {
        format!(
            "Unknown command '{}'",
            String::from_utf8_lossy(&name[..name.len().min(128)])
        )
    };
    let (mut spec, index) = server.commands.lookup(name).ok_or_else(unknown)?;
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        spec = server
            .commands
            .lookup_sub(index, args.get(1))
            .ok_or_else(unknown)?
            .0;
    }
    if !spec.arity_ok(args.len()) {
        return Err(format!("Wrong number of arguments for '{}'", spec.name));
    }
    let now_ms = unix_ms();
    let mut view = DbView::new(
        &server.keyspace,
        lock_shards(server, spec, &args),
        client.db,
        now_ms,
        server.access_clock(now_ms),
    );
    let mut prop = Propagation::default();
    let mut ctx = Ctx {
        ks: &mut view,
        reply,
        client,
        server,
        prop: &mut prop,
    };
    (spec.handler)(&mut ctx, args);
    drop(view);
    if let Some(waiter) = client.blocked.take() {
        // A blocking command only reaches the file in its non-blocking form; never wait here.
        crate::server::blocking::forget(server, &client.info, &waiter);
    }
    Ok(())
}

/// CLIENT TRACKING in default mode: the keys a read-only command read are remembered for the
/// client (with OPTIN only after CLIENT CACHING yes, with OPTOUT unless CLIENT CACHING no).
fn track_reads(
    ks: &mut DbView,
    t: &crate::server::tracking::Options,
    caching: Option<bool>,
    id: u64,
    spec: &CommandSpec,
    args: &Args,
) {
    if t.bcast || !spec.has(READONLY) {
        return;
    }
    if (t.optin && caching != Some(true)) || (t.optout && caching == Some(false)) {
        return;
    }
    for key in spec.request_keys(args) {
        ks.track_read(key, id);
    }
}

/// Refuses a command before it runs (BUSY, OOM): EXEC discards its transaction and names the
/// reason (EXECABORT); any other command gets the error and dooms a transaction being queued.
fn refuse(
    server: &Arc<Server>,
    client: &mut Client,
    reply: &mut Reply,
    spec: &CommandSpec,
    index: usize,
    msg: &str,
) {
    if spec.name == "exec" && client.multi.is_some() {
        transactions::abort_exec(server, client, reply, msg);
    } else {
        reply.error(msg);
        transactions::flag_aborted(client);
    }
    count_rejected(server, index, reply);
}

/// Over maxmemory, Redis refuses commands that may grow memory (denyoom, or an EXEC queuing
/// one) and anything queued into a transaction; EXEC, DISCARD, QUIT and RESET still run.
fn refused_when_oom(server: &Server, spec: &CommandSpec, client: &Client) -> bool {
    if spec.has(DENYOOM) {
        return true;
    }
    match &client.multi {
        Some(m) if spec.name == "exec" => m
            .queued
            .iter()
            .any(|(i, _)| server.commands.spec_at(*i).has(DENYOOM)),
        Some(_) => !matches!(spec.name, "discard" | "quit" | "reset"),
        None => false,
    }
}

fn lock_for<'a>(server: &'a Server, spec: &CommandSpec, args: &Args) -> crate::storage::Locked<'a> {
    if server.scripting.run.active() && server.scripting.run.is_running() {
        // Only allow-busy commands get here while a script runs: they wait for its shards
        // without holding a worker.
        return crate::scripting::busy::off_worker(|| lock_shards(server, spec, args));
    }
    lock_shards(server, spec, args)
}

fn lock_shards<'a>(
    server: &'a Server,
    spec: &CommandSpec,
    args: &Args,
) -> crate::storage::Locked<'a> {
    if spec.has(ALL_SHARDS) {
        server.keyspace.lock_all()
    } else {
        server.keyspace.lock_keys(spec.request_keys(args))
    }
}

pub(crate) fn count_rejected(server: &Server, index: usize, reply: &Reply) {
    server
        .commands
        .stats(index)
        .rejected
        .fetch_add(1, Ordering::Relaxed);
    count_error(server, reply);
}

pub(crate) fn count_error(server: &Server, reply: &Reply) {
    server.stats.errors.fetch_add(1, Ordering::Relaxed);
    let code = String::from_utf8_lossy(reply.last_error_code()).into_owned();
    *server.stats.error_counts.lock().entry(code).or_insert(0) += 1;
}

/// The handler of container commands (CLIENT, CONFIG...). The dispatcher always runs a
/// subcommand's entry instead, and arity rejects a bare container name, so this only answers
/// as Redis would if it were ever reached.
fn container(ctx: &mut Ctx, args: Args) {
    ctx.reply.error(&format!(
        "ERR wrong number of arguments for '{}' command",
        String::from_utf8_lossy(args.get(0)).to_ascii_lowercase()
    ));
}

/// Redis's text for an unknown command: the name and the first arguments, quoted.
fn unknown_command(args: &Args) -> String {
    let name = args.get(0);
    let mut rest = String::new();
    for a in args.iter().skip(1) {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        let shown = String::from_utf8_lossy(&a[..a.len().min(room)]);
        rest.push('\'');
        rest.push_str(&shown);
        rest.push_str("' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        String::from_utf8_lossy(&name[..name.len().min(128)]),
        rest
    )
}

/// The reply of a HELP subcommand: Redis's header line, the entries, and the HELP entry.
pub fn reply_help(reply: &mut Reply, command: &str, lines: &[&str]) {
    reply.array(lines.len() + 3);
    reply.simple(
        format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes(),
    );
    for l in lines {
        reply.simple(l.as_bytes());
    }
    reply.simple(b"HELP");
    reply.simple(b"    Prints this help.");
}

/// Whether CLIENT PAUSE WRITE holds this command back (writes, and commands that may write).
pub fn pausable_as_write(spec: &CommandSpec) -> bool {
    spec.has(WRITE) || spec.has(MAY_REPLICATE)
}

/// The optional `COUNT n` of LMPOP/ZMPOP and their blocking forms, from `at` to the end
/// (1 when absent), or None after replying Redis's error.
pub fn parse_mpop_count(reply: &mut Reply, args: &Args, at: usize) -> Option<usize> {
    let mut count = None;
    let mut j = at;
    while j < args.len() {
        if count.is_none() && args.get(j).eq_ignore_ascii_case(b"count") && j + 1 < args.len() {
            match crate::util::num::parse_i64(args.get(j + 1)) {
                Some(n) if n > 0 => count = Some(n as usize),
                _ => {
                    reply.error("ERR count should be greater than 0");
                    return None;
                }
            }
            j += 2;
        } else {
            reply.error(SYNTAX_ERR);
            return None;
        }
    }
    Some(count.unwrap_or(1))
}

/// Picks the collection out of a value: `Some` when the value has the wanted type.
pub type Extract<T> = fn(&mut Value) -> Option<&mut T>;

/// The value at `key` for a read command (keyspace hit/miss counted): Ok(None) when missing,
/// Err(Replied) after replying WRONGTYPE when it holds another type.
pub fn read_typed<'a, T>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
    extract: Extract<T>,
) -> Result<Option<&'a mut T>, Replied> {
    typed(ks.get_read(key), reply, extract)
}

/// Like `read_typed`, for a write command (no hit/miss statistics, as Redis's lookupKeyWrite).
pub fn write_typed<'a, T>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
    extract: Extract<T>,
) -> Result<Option<&'a mut T>, Replied> {
    typed(ks.get_write(key), reply, extract)
}

/// The typed value of a looked-up entry, replying WRONGTYPE for another type.
fn typed<'a, T>(
    entry: Option<&'a mut crate::storage::Entry>,
    reply: &mut Reply,
    extract: Extract<T>,
) -> Result<Option<&'a mut T>, Replied> {
    match entry {
        None => Ok(None),
        Some(e) => match extract(&mut e.value) {
            Some(v) => Ok(Some(v)),
            None => {
                reply.error(WRONGTYPE);
                Err(Replied)
            }
        },
    }
}

/// The first of `keys` holding a non-empty value of the type `extract` accepts (LMPOP,
/// BLPOP, ZMPOP...): Ok(None) when there is none, Err after a WRONGTYPE reply.
pub fn first_nonempty<'k, T>(
    ks: &mut DbView,
    reply: &mut Reply,
    keys: impl Iterator<Item = &'k [u8]>,
    extract: Extract<T>,
    is_empty: fn(&T) -> bool,
) -> Result<Option<&'k [u8]>, Replied> {
    for key in keys {
        if write_typed(ks, reply, key, extract)?.is_some_and(|v| !is_empty(v)) {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// The value at `key` for a write command, created with `make` when missing (the new key counts
/// as "new" for notifications and wakes clients blocked on it).
pub fn create_typed<'a, T>(
    ks: &'a mut DbView,
    reply: &mut Reply,
    key: &[u8],
    extract: Extract<T>,
    make: impl FnOnce() -> Value,
) -> Result<&'a mut T, Replied> {
    if ks.get_write(key).is_none() {
        ks.set(key, make(), 0);
    }
    match ks.get_write(key).and_then(|e| extract(&mut e.value)) {
        Some(v) => Ok(v),
        None => {
            reply.error(WRONGTYPE);
            Err(Replied)
        }
    }
}

/// Deletes `key` once its collection is empty (Redis never keeps empty collections) and
/// notifies "del" as Redis does.
pub fn remove_if_empty(ks: &mut DbView, key: &[u8], empty: bool) {
    if empty && ks.remove(key).is_some() {
        ks.notify(crate::server::notify::GENERIC, "del", key);
    }
}

/// Parses an integer argument, replying with Redis's error when it is not one.
pub fn arg_i64(ctx: &mut Ctx, a: &[u8]) -> Option<i64> {
    match crate::util::num::parse_i64(a) {
        Some(v) => Some(v),
        None => {
            ctx.reply.error(NOT_INT);
            None
        }
    }
}

pub fn eq_ic(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

const STRING: u32 = CAT_STRING;
const KEYSPACE: u32 = CAT_KEYSPACE;
const BITMAP: u32 = CAT_BITMAP;
const HLL: u32 = CAT_HYPERLOGLOG;
const CONN: u32 = CAT_CONNECTION;
const HASH: u32 = CAT_HASH;
const SET: u32 = CAT_SET;
const LIST: u32 = CAT_LIST;
const ZSET: u32 = CAT_SORTEDSET;
const GEO: u32 = CAT_GEO;
const STREAM: u32 = CAT_STREAM;
const SCRIPTING: u32 = CAT_SCRIPTING;

/// The command table. Subcommand tables live beside their handlers.
pub static COMMANDS: &[CommandSpec] = &[
    // strings
    CommandSpec::new("get", 2, READONLY | FAST, STRING, strings::get).keys(1, 1, 1).doc("string", "1.0.0", "O(1)", "Returns the string value of a key."),
    CommandSpec::new("set", -3, WRITE | DENYOOM, STRING, strings::set).keys(1, 1, 1).key_flags(&["RW", "access", "update", "variable_flags"]).doc("string", "1.0.0", "O(1)", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, STRING, strings::setnx).keys(1, 1, 1).key_flags(&["OW", "insert"]).doc("string", "1.0.0", "O(1)", "Set the string value of a key only when the key doesn't exist."),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, STRING, strings::setex).keys(1, 1, 1).key_flags(&["OW", "update"]).doc("string", "2.0.0", "O(1)", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, STRING, strings::psetex).keys(1, 1, 1).key_flags(&["OW", "update"]).doc("string", "2.6.0", "O(1)", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, STRING, strings::getset).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "1.0.0", "O(1)", "Returns the previous string value of a key after setting it to a new value."),
    CommandSpec::new("getdel", 2, WRITE | FAST, STRING, strings::getdel).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("string", "6.2.0", "O(1)", "Returns the string value of a key after deleting the key."),
    CommandSpec::new("getex", -2, WRITE | FAST, STRING, strings::getex).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "6.2.0", "O(1)", "Returns the string value of a key after setting its expiration time."),
    CommandSpec::new("mget", -2, READONLY | FAST, STRING, strings::mget).keys(1, -1, 1).doc("string", "1.0.0", "O(N) where N is the number of keys to retrieve.", "Atomically returns the string values of one or more keys."),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, STRING, strings::mset).keys(1, -1, 2).key_flags(&["OW", "update"]).doc("string", "1.0.1", "O(N) where N is the number of keys to set.", "Atomically creates or modifies the string values of one or more keys."),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, STRING, strings::msetnx).keys(1, -1, 2).key_flags(&["OW", "insert"]).doc("string", "1.0.1", "O(N) where N is the number of keys to set.", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, STRING, strings::append).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("string", "2.0.0", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    CommandSpec::new("strlen", 2, READONLY | FAST, STRING, strings::strlen).keys(1, 1, 1).key_flags(&["RO"]).doc("string", "2.2.0", "O(1)", "Returns the length of a string value."),
    CommandSpec::new("getrange", 4, READONLY, STRING, strings::getrange).keys(1, 1, 1).doc("string", "2.4.0", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", "Returns a substring of the string stored at a key."),
    CommandSpec::new("substr", 4, READONLY, STRING, strings::getrange).keys(1, 1, 1).doc("string", "1.0.0", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", "Returns a substring from a string value."),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, STRING, strings::setrange).keys(1, 1, 1).doc("string", "2.2.0", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, STRING, strings::incr).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "1.0.0", "O(1)", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, STRING, strings::decr).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "1.0.0", "O(1)", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, STRING, strings::incrby).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "1.0.0", "O(1)", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, STRING, strings::decrby).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "1.0.0", "O(1)", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, STRING, strings::incrbyfloat).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("string", "2.6.0", "O(1)", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("lcs", -3, READONLY, STRING, strings::lcs).keys(1, 2, 1).doc("string", "7.0.0", "O(N*M) where N and M are the lengths of s1 and s2, respectively", "Finds the longest common substring."),
    // bitmaps
    CommandSpec::new("setbit", 4, WRITE | DENYOOM, BITMAP, bitmap::setbit).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("bitmap", "2.2.0", "O(1)", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
    CommandSpec::new("getbit", 3, READONLY | FAST, BITMAP, bitmap::getbit).keys(1, 1, 1).doc("bitmap", "2.2.0", "O(1)", "Returns a bit value by offset."),
    CommandSpec::new("bitcount", -2, READONLY, BITMAP, bitmap::bitcount).keys(1, 1, 1).doc("bitmap", "2.6.0", "O(N)", "Counts the number of set bits (population counting) in a string."),
    CommandSpec::new("bitpos", -3, READONLY, BITMAP, bitmap::bitpos).keys(1, 1, 1).doc("bitmap", "2.8.7", "O(N)", "Finds the first set (1) or clear (0) bit in a string."),
    CommandSpec::new("bitop", -4, WRITE | DENYOOM, BITMAP, bitmap::bitop).keys(2, -1, 1).acl_keys(ACL_WRITE, ACL_READ).doc("bitmap", "2.6.0", "O(N)", "Performs bitwise operations on multiple strings, and stores the result."),
    CommandSpec::new("bitfield", -2, WRITE | DENYOOM, BITMAP, bitmap::bitfield).keys(1, 1, 1).key_flags(&["RW", "access", "update", "variable_flags"]).doc("bitmap", "3.2.0", "O(1) for each subcommand specified", "Performs arbitrary bitfield integer operations on strings."),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, BITMAP, bitmap::bitfield_ro).keys(1, 1, 1).doc("bitmap", "6.0.0", "O(1) for each subcommand specified", "Performs arbitrary read-only bitfield integer operations on strings."),
    // hyperloglog
    CommandSpec::new("pfadd", -2, WRITE | DENYOOM | FAST, HLL, hyperloglog::pfadd).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("hyperloglog", "2.8.9", "O(1) to add every element.", "Adds the specified elements to the specified HyperLogLog."),
    CommandSpec::new("pfcount", -2, READONLY, HLL, hyperloglog::pfcount).keys(1, -1, 1).key_flags(&["RW", "access"]).doc("hyperloglog", "2.8.9", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s)."),
    CommandSpec::new("pfmerge", -2, WRITE | DENYOOM, HLL, hyperloglog::pfmerge).keys(1, -1, 1).key_flags(&["RW", "access", "insert"]).acl_keys(ACL_RW, ACL_READ).doc("hyperloglog", "2.8.9", "O(N) to merge N HyperLogLogs, but with high constant times.", "Merge N different HyperLogLogs into a single one."),
    CommandSpec::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, HLL, hyperloglog::pfdebug).keys(2, 2, 1).key_flags(&["RW", "access"]).doc("hyperloglog", "2.8.9", "N/A", "Internal commands for debugging HyperLogLog values"),
    CommandSpec::new("pfselftest", 1, ADMIN, HLL, hyperloglog::pfselftest).doc("hyperloglog", "2.8.9", "N/A", "An internal command for testing HyperLogLog values"),
    // lists
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, LIST, lists::lpush).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, LIST, lists::rpush).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, LIST, lists::lpushx).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Prepends one or more elements to a list only when the list exists."),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, LIST, lists::rpushx).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Appends an element to a list only when the list exists."),
    CommandSpec::new("lpop", -2, WRITE | FAST, LIST, lists::lpop).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("list", "1.0.0", "O(N) where N is the number of elements returned", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    CommandSpec::new("rpop", -2, WRITE | FAST, LIST, lists::rpop).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("list", "1.0.0", "O(N) where N is the number of elements returned", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    CommandSpec::new("llen", 2, READONLY | FAST, LIST, lists::llen).keys(1, 1, 1).key_flags(&["RO"]).doc("list", "1.0.0", "O(1)", "Returns the length of a list."),
    CommandSpec::new("lindex", 3, READONLY, LIST, lists::lindex).keys(1, 1, 1).doc("list", "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", "Returns an element from a list by its index."),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, LIST, lists::lset).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("list", "1.0.0", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", "Sets the value of an element in a list by its index."),
    CommandSpec::new("lrange", 4, READONLY, LIST, lists::lrange).keys(1, 1, 1).doc("list", "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", "Returns a range of elements from a list."),
    CommandSpec::new("ltrim", 4, WRITE, LIST, lists::ltrim).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("list", "1.0.0", "O(N) where N is the number of elements to be removed by the operation.", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, LIST, lists::linsert).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", "Inserts an element before or after another element in a list."),
    CommandSpec::new("lrem", 4, WRITE, LIST, lists::lrem).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("list", "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed.", "Removes elements from a list. Deletes the list if the last element was removed."),
    CommandSpec::new("lpos", -3, READONLY, LIST, lists::lpos).keys(1, 1, 1).key_flags(&["RO"]).doc("list", "6.0.6", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", "Returns the index of matching elements in a list."),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, LIST, lists::lmove).keys(1, 2, 1).acl_keys(ACL_RW, ACL_WRITE).doc("list", "6.2.0", "O(1)", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, LIST, lists::rpoplpush).keys(1, 2, 1).acl_keys(ACL_RW, ACL_WRITE).doc("list", "1.2.0", "O(1)", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    CommandSpec::new("lmpop", -4, WRITE, LIST, lists::lmpop).numkeys(1).key_flags(&["RW", "access", "delete"]).doc("list", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, LIST, lists::blpop).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("list", "2.0.0", "O(N) where N is the number of provided keys.", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, LIST, lists::brpop).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("list", "2.0.0", "O(N) where N is the number of provided keys.", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, LIST, lists::blmove).keys(1, 2, 1).acl_keys(ACL_RW, ACL_WRITE).doc("list", "6.2.0", "O(1)", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    CommandSpec::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, LIST, lists::brpoplpush).keys(1, 2, 1).acl_keys(ACL_RW, ACL_WRITE).doc("list", "2.2.0", "O(1)", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, LIST, lists::blmpop).numkeys(2).key_flags(&["RW", "access", "delete"]).doc("list", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    // sort
    CommandSpec::new("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS | ALL_SHARDS, CAT_SET | CAT_SORTEDSET | CAT_LIST | CAT_DANGEROUS, sort::sort).keys(1, 1, 1).key_flags(&["RO", "access"]).acl_keys(ACL_READ, ACL_WRITE).doc("generic", "1.0.0", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", "Sorts the elements in a list, a set, or a sorted set, optionally storing the result."),
    CommandSpec::new("sort_ro", -2, READONLY | MOVABLE_KEYS | ALL_SHARDS, CAT_SET | CAT_SORTEDSET | CAT_LIST | CAT_DANGEROUS, sort::sort_ro).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("generic", "7.0.0", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", "Returns the sorted elements of a list, a set, or a sorted set."),
    // generic key commands
    CommandSpec::new("del", -2, WRITE, KEYSPACE, keys::del).keys(1, -1, 1).key_flags(&["RM", "delete"]).doc("generic", "1.0.0", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", "Deletes one or more keys."),
    CommandSpec::new("unlink", -2, WRITE | FAST, KEYSPACE, keys::del).keys(1, -1, 1).key_flags(&["RM", "delete"]).doc("generic", "4.0.0", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", "Asynchronously deletes one or more keys."),
    CommandSpec::new("exists", -2, READONLY | FAST, KEYSPACE, keys::exists).keys(1, -1, 1).key_flags(&["RO"]).doc("generic", "1.0.0", "O(N) where N is the number of keys to check.", "Determines whether one or more keys exist."),
    CommandSpec::new("type", 2, READONLY | FAST, KEYSPACE, keys::type_cmd).keys(1, 1, 1).key_flags(&["RO"]).doc("generic", "1.0.0", "O(1)", "Determines the type of value stored at a key."),
    CommandSpec::new("rename", 3, WRITE, KEYSPACE, keys::rename).keys(1, 2, 1).acl_keys(ACL_RW, ACL_WRITE).doc("generic", "1.0.0", "O(1)", "Renames a key and overwrites the destination."),
    CommandSpec::new("renamenx", 3, WRITE | FAST, KEYSPACE, keys::renamenx).keys(1, 2, 1).acl_keys(ACL_RW, ACL_WRITE).doc("generic", "1.0.0", "O(1)", "Renames a key only when the target key name doesn't exist."),
    CommandSpec::new("dump", 2, READONLY, KEYSPACE, persist_cmd::dump).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("generic", "2.6.0", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", "Returns a serialized representation of the value stored at a key."),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, KEYSPACE | CAT_DANGEROUS, persist_cmd::restore).keys(1, 1, 1).key_flags(&["OW", "update"]).doc("generic", "2.6.0", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", "Creates a key from the serialized representation of a value."),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, KEYSPACE, keys::copy).keys(1, 2, 1).acl_keys(ACL_READ, ACL_WRITE).doc("generic", "6.2.0", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", "Copies the value of a key to a new key."),
    CommandSpec::new("move", 3, WRITE | FAST, KEYSPACE, keys::move_cmd).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("generic", "1.0.0", "O(1)", "Moves a key to another database."),
    CommandSpec::new("keys", 2, READONLY | ALL_SHARDS, KEYSPACE | CAT_DANGEROUS, keys::keys).doc("generic", "1.0.0", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", "Returns all key names that match a pattern."),
    CommandSpec::new("scan", -2, READONLY | ALL_SHARDS, KEYSPACE, keys::scan).doc("generic", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "Iterates over the key names in the database."),
    CommandSpec::new("randomkey", 1, READONLY | ALL_SHARDS, KEYSPACE, keys::randomkey).doc("generic", "1.0.0", "O(1)", "Returns a random key name from the database."),
    CommandSpec::new("dbsize", 1, READONLY | FAST | ALL_SHARDS, KEYSPACE, keys::dbsize).doc("server", "1.0.0", "O(1)", "Returns the number of keys in the database."),
    CommandSpec::new("touch", -2, READONLY | FAST, KEYSPACE, keys::touch).keys(1, -1, 1).key_flags(&["RO"]).doc("generic", "3.2.1", "O(N) where N is the number of keys that will be touched.", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    CommandSpec::new("expire", -3, WRITE | FAST, KEYSPACE, keys::expire).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "1.0.0", "O(1)", "Sets the expiration time of a key in seconds."),
    CommandSpec::new("pexpire", -3, WRITE | FAST, KEYSPACE, keys::pexpire).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "2.6.0", "O(1)", "Sets the expiration time of a key in milliseconds."),
    CommandSpec::new("expireat", -3, WRITE | FAST, KEYSPACE, keys::expireat).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "1.2.0", "O(1)", "Sets the expiration time of a key to a Unix timestamp."),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, KEYSPACE, keys::pexpireat).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "2.6.0", "O(1)", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    CommandSpec::new("ttl", 2, READONLY | FAST, KEYSPACE, keys::ttl).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("generic", "1.0.0", "O(1)", "Returns the expiration time in seconds of a key."),
    CommandSpec::new("pttl", 2, READONLY | FAST, KEYSPACE, keys::pttl).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("generic", "2.6.0", "O(1)", "Returns the expiration time in milliseconds of a key."),
    CommandSpec::new("expiretime", 2, READONLY | FAST, KEYSPACE, keys::expiretime).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("generic", "7.0.0", "O(1)", "Returns the expiration time of a key as a Unix timestamp."),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, KEYSPACE, keys::pexpiretime).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("generic", "7.0.0", "O(1)", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    CommandSpec::new("persist", 2, WRITE | FAST, KEYSPACE, keys::persist).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "2.2.0", "O(1)", "Removes the expiration time of a key."),
    CommandSpec::new("object", -2, 0, 0, keys::object_help).subs(keys::OBJECT_SUBCOMMANDS).doc("generic", "2.2.3", "Depends on subcommand.", "A container for object introspection commands."),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, CONN, keys::select).doc("connection", "1.0.0", "O(1)", "Changes the selected database."),
    CommandSpec::new("swapdb", 3, WRITE | FAST | ALL_SHARDS, KEYSPACE | CAT_DANGEROUS, keys::swapdb).doc("server", "4.0.0", "O(N) where N is the count of clients watching or blocking on keys from both databases.", "Swaps two Redis databases."),
    CommandSpec::new("flushdb", -1, WRITE | ALL_SHARDS, KEYSPACE | CAT_DANGEROUS, keys::flushdb).doc("server", "1.0.0", "O(N) where N is the total number of keys in the selected database", "Remove all keys from the current database."),
    CommandSpec::new("flushall", -1, WRITE | ALL_SHARDS, KEYSPACE | CAT_DANGEROUS, keys::flushall).doc("server", "1.0.0", "O(N) where N is the total number of keys in all databases", "Removes all keys from all databases."),
    // hashes
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, HASH, hashes::hset).keys(1, 1, 1).doc("hash", "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", "Set the string value of a hash field"),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, HASH, hashes::hsetnx).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("hash", "2.0.0", "O(1)", "Set the value of a hash field, only if the field does not exist"),
    CommandSpec::new("hget", 3, READONLY | FAST, HASH, hashes::hget).keys(1, 1, 1).doc("hash", "2.0.0", "O(1)", "Get the value of a hash field"),
    CommandSpec::new("hmget", -3, READONLY | FAST, HASH, hashes::hmget).keys(1, 1, 1).doc("hash", "2.0.0", "O(N) where N is the number of fields being requested.", "Get the values of all the given hash fields"),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, HASH, hashes::hmset).keys(1, 1, 1).doc("hash", "2.0.0", "O(N) where N is the number of fields being set.", "Set multiple hash fields to multiple values"),
    CommandSpec::new("hgetall", 2, READONLY, HASH, hashes::hgetall).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("hash", "2.0.0", "O(N) where N is the size of the hash.", "Get all the fields and values in a hash"),
    CommandSpec::new("hdel", -3, WRITE | FAST, HASH, hashes::hdel).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("hash", "2.0.0", "O(N) where N is the number of fields to be removed.", "Delete one or more hash fields"),
    CommandSpec::new("hlen", 2, READONLY | FAST, HASH, hashes::hlen).keys(1, 1, 1).key_flags(&["RO"]).doc("hash", "2.0.0", "O(1)", "Get the number of fields in a hash"),
    CommandSpec::new("hexists", 3, READONLY | FAST, HASH, hashes::hexists).keys(1, 1, 1).key_flags(&["RO"]).doc("hash", "2.0.0", "O(1)", "Determine if a hash field exists"),
    CommandSpec::new("hkeys", 2, READONLY, HASH, hashes::hkeys).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("hash", "2.0.0", "O(N) where N is the size of the hash.", "Get all the fields in a hash"),
    CommandSpec::new("hvals", 2, READONLY, HASH, hashes::hvals).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("hash", "2.0.0", "O(N) where N is the size of the hash.", "Get all the values in a hash"),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, HASH, hashes::hstrlen).keys(1, 1, 1).key_flags(&["RO"]).doc("hash", "3.2.0", "O(1)", "Get the length of the value of a hash field"),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, HASH, hashes::hincrby).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("hash", "2.0.0", "O(1)", "Increment the integer value of a hash field by the given number"),
    CommandSpec::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, HASH, hashes::hincrbyfloat).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("hash", "2.6.0", "O(1)", "Increment the float value of a hash field by the given amount"),
    CommandSpec::new("hrandfield", -2, READONLY, HASH, hashes::hrandfield).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("hash", "6.2.0", "O(N) where N is the number of fields returned", "Get one or multiple random fields from a hash"),
    CommandSpec::new("hscan", -3, READONLY, HASH, hashes::hscan).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("hash", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate hash fields and associated values"),
    // sets
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, SET, sets::sadd).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("set", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Add one or more members to a set"),
    CommandSpec::new("srem", -3, WRITE | FAST, SET, sets::srem).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("set", "1.0.0", "O(N) where N is the number of members to be removed.", "Remove one or more members from a set"),
    CommandSpec::new("smembers", 2, READONLY, SET, sets::smembers).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "O(N) where N is the set cardinality.", "Get all the members in a set"),
    CommandSpec::new("sismember", 3, READONLY | FAST, SET, sets::sismember).keys(1, 1, 1).key_flags(&["RO"]).doc("set", "1.0.0", "O(1)", "Determine if a given value is a member of a set"),
    CommandSpec::new("smismember", -3, READONLY | FAST, SET, sets::smismember).keys(1, 1, 1).doc("set", "6.2.0", "O(N) where N is the number of elements being checked for membership", "Returns the membership associated with the given elements for a set"),
    CommandSpec::new("scard", 2, READONLY | FAST, SET, sets::scard).keys(1, 1, 1).key_flags(&["RO"]).doc("set", "1.0.0", "O(1)", "Get the number of members in a set"),
    CommandSpec::new("spop", -2, WRITE | FAST, SET, sets::spop).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).tips(&["nondeterministic_output"]).doc("set", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "Remove and return one or multiple random members from a set"),
    CommandSpec::new("srandmember", -2, READONLY, SET, sets::srandmember).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("set", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "Get one or multiple random members from a set"),
    CommandSpec::new("smove", 4, WRITE | FAST, SET, sets::smove).keys(1, 2, 1).key_flags(&["RW", "access", "delete"]).acl_keys(ACL_RW, ACL_WRITE).doc("set", "1.0.0", "O(1)", "Move a member from one set to another"),
    CommandSpec::new("sinter", -2, READONLY, SET, sets::sinter).keys(1, -1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets"),
    CommandSpec::new("sintercard", -3, READONLY, SET, sets::sintercard).numkeys(1).doc("set", "7.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and return the cardinality of the result"),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, SET, sets::sinterstore).keys(1, -1, 1).acl_keys(ACL_WRITE, ACL_READ).doc("set", "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and store the resulting set in a key"),
    CommandSpec::new("sunion", -2, READONLY, SET, sets::sunion).keys(1, -1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets"),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, SET, sets::sunionstore).keys(1, -1, 1).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("set", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets and store the resulting set in a key"),
    CommandSpec::new("sdiff", -2, READONLY, SET, sets::sdiff).keys(1, -1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets"),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, SET, sets::sdiffstore).keys(1, -1, 1).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("set", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets and store the resulting set in a key"),
    CommandSpec::new("sscan", -3, READONLY, SET, sets::sscan).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("set", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate Set elements"),
    // sorted sets
    CommandSpec::new("zadd", -4, WRITE | DENYOOM | FAST, ZSET, sorted_sets::zadd).keys(1, 1, 1).doc("sorted-set", "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Add one or more members to a sorted set, or update its score if it already exists"),
    CommandSpec::new("zincrby", 4, WRITE | DENYOOM | FAST, ZSET, sorted_sets::zincrby).keys(1, 1, 1).key_flags(&["RW", "access", "update"]).doc("sorted-set", "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", "Increment the score of a member in a sorted set"),
    CommandSpec::new("zrem", -3, WRITE | FAST, ZSET, sorted_sets::zrem).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted-set", "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", "Remove one or more members from a sorted set"),
    CommandSpec::new("zcard", 2, READONLY | FAST, ZSET, sorted_sets::zcard).keys(1, 1, 1).key_flags(&["RO"]).doc("sorted-set", "1.2.0", "O(1)", "Get the number of members in a sorted set"),
    CommandSpec::new("zcount", 4, READONLY | FAST, ZSET, sorted_sets::zcount).keys(1, 1, 1).doc("sorted-set", "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Count the members in a sorted set with scores within the given values"),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, ZSET, sorted_sets::zlexcount).keys(1, 1, 1).doc("sorted-set", "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", "Count the number of members in a sorted set between a given lexicographical range"),
    CommandSpec::new("zscore", 3, READONLY | FAST, ZSET, sorted_sets::zscore).keys(1, 1, 1).doc("sorted-set", "1.2.0", "O(1)", "Get the score associated with the given member in a sorted set"),
    CommandSpec::new("zmscore", -3, READONLY | FAST, ZSET, sorted_sets::zmscore).keys(1, 1, 1).doc("sorted-set", "6.2.0", "O(N) where N is the number of members being requested.", "Get the score associated with the given members in a sorted set"),
    CommandSpec::new("zrank", 3, READONLY | FAST, ZSET, sorted_sets::zrank).keys(1, 1, 1).doc("sorted-set", "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set"),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, ZSET, sorted_sets::zrevrank).keys(1, 1, 1).doc("sorted-set", "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set, with scores ordered from high to low"),
    CommandSpec::new("zrange", -4, READONLY, ZSET, sorted_sets::zrange).keys(1, 1, 1).doc("sorted-set", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Return a range of members in a sorted set"),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, ZSET, sorted_sets::zrangestore).keys(1, 2, 1).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("sorted-set", "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", "Store a range of members from sorted set into another key"),
    CommandSpec::new("zrangebyscore", -4, READONLY, ZSET, sorted_sets::zrangebyscore).keys(1, 1, 1).doc("sorted-set", "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by score"),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, ZSET, sorted_sets::zrevrangebyscore).keys(1, 1, 1).doc("sorted-set", "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by score, with scores ordered from high to low"),
    CommandSpec::new("zrangebylex", -4, READONLY, ZSET, sorted_sets::zrangebylex).keys(1, 1, 1).doc("sorted-set", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by lexicographical range"),
    CommandSpec::new("zrevrangebylex", -4, READONLY, ZSET, sorted_sets::zrevrangebylex).keys(1, 1, 1).doc("sorted-set", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."),
    CommandSpec::new("zrevrange", -4, READONLY, ZSET, sorted_sets::zrevrange).keys(1, 1, 1).doc("sorted-set", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Return a range of members in a sorted set, by index, with scores ordered from high to low"),
    CommandSpec::new("zremrangebyrank", 4, WRITE, ZSET, sorted_sets::zremrangebyrank).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted-set", "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set within the given indexes"),
    CommandSpec::new("zremrangebyscore", 4, WRITE, ZSET, sorted_sets::zremrangebyscore).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted-set", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set within the given scores"),
    CommandSpec::new("zremrangebylex", 4, WRITE, ZSET, sorted_sets::zremrangebylex).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted-set", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set between the given lexicographical range"),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, ZSET, sorted_sets::zpopmin).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("sorted-set", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with the lowest scores in a sorted set"),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, ZSET, sorted_sets::zpopmax).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("sorted-set", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with the highest scores in a sorted set"),
    CommandSpec::new("zmpop", -4, WRITE, ZSET, sorted_sets::zmpop).numkeys(1).key_flags(&["RW", "access", "delete"]).doc("sorted-set", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with scores in a sorted set"),
    CommandSpec::new("zrandmember", -2, READONLY, ZSET, sorted_sets::zrandmember).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("sorted-set", "6.2.0", "O(N) where N is the number of elements returned", "Get one or multiple random elements from a sorted set"),
    CommandSpec::new("zunion", -3, READONLY, ZSET, sorted_sets::zunion).numkeys(1).doc("sorted-set", "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Add multiple sorted sets"),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM, ZSET, sorted_sets::zunionstore).keys(1, 1, 1).numkeys(2).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("sorted-set", "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Add multiple sorted sets and store the resulting sorted set in a new key"),
    CommandSpec::new("zinter", -3, READONLY, ZSET, sorted_sets::zinter).numkeys(1).doc("sorted-set", "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Intersect multiple sorted sets"),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM, ZSET, sorted_sets::zinterstore).keys(1, 1, 1).numkeys(2).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("sorted-set", "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Intersect multiple sorted sets and store the resulting sorted set in a new key"),
    CommandSpec::new("zintercard", -3, READONLY, ZSET, sorted_sets::zintercard).numkeys(1).doc("sorted-set", "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", "Intersect multiple sorted sets and return the cardinality of the result"),
    CommandSpec::new("zdiff", -3, READONLY, ZSET, sorted_sets::zdiff).numkeys(1).doc("sorted-set", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Subtract multiple sorted sets"),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM, ZSET, sorted_sets::zdiffstore).keys(1, 1, 1).numkeys(2).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("sorted-set", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Subtract multiple sorted sets and store the resulting sorted set in a new key"),
    CommandSpec::new("zscan", -3, READONLY, ZSET, sorted_sets::zscan).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("sorted-set", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate sorted sets elements and associated scores"),
    CommandSpec::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, ZSET, sorted_sets::bzpopmin).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("sorted-set", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available"),
    CommandSpec::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, ZSET, sorted_sets::bzpopmax).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("sorted-set", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available"),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, ZSET, sorted_sets::bzmpop).numkeys(2).key_flags(&["RW", "access", "delete"]).doc("sorted-set", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with scores in a sorted set or block until one is available"),
    // geo
    CommandSpec::new("geoadd", -5, WRITE | DENYOOM, GEO, geo::geoadd).keys(1, 1, 1).doc("geo", "3.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Add one or more geospatial items in the geospatial index represented using a sorted set"),
    CommandSpec::new("geopos", -2, READONLY, GEO, geo::geopos).keys(1, 1, 1).doc("geo", "3.2.0", "O(N) where N is the number of members requested.", "Returns longitude and latitude of members of a geospatial index"),
    CommandSpec::new("geodist", -4, READONLY, GEO, geo::geodist).keys(1, 1, 1).doc("geo", "3.2.0", "O(log(N))", "Returns the distance between two members of a geospatial index"),
    CommandSpec::new("geohash", -2, READONLY, GEO, geo::geohash).keys(1, 1, 1).doc("geo", "3.2.0", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.", "Returns members of a geospatial index as standard geohash strings"),
    CommandSpec::new("geosearch", -7, READONLY, GEO, geo::geosearch).keys(1, 1, 1).doc("geo", "6.2.0", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle."),
    CommandSpec::new("geosearchstore", -8, WRITE | DENYOOM, GEO, geo::geosearchstore).keys(1, 2, 1).key_flags(&["OW", "update"]).acl_keys(ACL_WRITE, ACL_READ).doc("geo", "6.2.0", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key."),
    CommandSpec::new("georadius", -6, WRITE | DENYOOM, GEO, geo::georadius).keys(1, 1, 1).store_key(5).key_flags(&["RO", "access"]).acl_keys(ACL_READ, ACL_WRITE).doc("geo", "3.2.0", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point"),
    CommandSpec::new("georadiusbymember", -5, WRITE | DENYOOM, GEO, geo::georadiusbymember).keys(1, 1, 1).store_key(5).key_flags(&["RO", "access"]).acl_keys(ACL_READ, ACL_WRITE).doc("geo", "3.2.0", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member"),
    CommandSpec::new("georadius_ro", -6, READONLY, GEO, geo::georadius_ro).keys(1, 1, 1).doc("geo", "3.2.10", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "A read-only variant for GEORADIUS"),
    CommandSpec::new("georadiusbymember_ro", -5, READONLY, GEO, geo::georadiusbymember_ro).keys(1, 1, 1).doc("geo", "3.2.10", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "A read-only variant for GEORADIUSBYMEMBER"),
    // streams
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, STREAM, streams::xadd).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", "Appends a new entry to a stream"),
    CommandSpec::new("xtrim", -4, WRITE, STREAM, streams::xtrim).keys(1, 1, 1).key_flags(&["RW", "delete"]).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", "Trims the stream to (approximately if '~' is passed) a certain size"),
    CommandSpec::new("xdel", -3, WRITE | FAST, STREAM, streams::xdel).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("stream", "5.0.0", "O(1) for each single item to delete in the stream, regardless of the stream size.", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist."),
    CommandSpec::new("xlen", 2, READONLY | FAST, STREAM, streams::xlen).keys(1, 1, 1).key_flags(&["RO"]).doc("stream", "5.0.0", "O(1)", "Return the number of entries in a stream"),
    CommandSpec::new("xrange", -4, READONLY, STREAM, streams::xrange).keys(1, 1, 1).doc("stream", "5.0.0", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "Return a range of elements in a stream, with IDs matching the specified IDs interval"),
    CommandSpec::new("xrevrange", -4, READONLY, STREAM, streams::xrevrange).keys(1, 1, 1).doc("stream", "5.0.0", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE"),
    CommandSpec::new("xread", -4, READONLY | BLOCKING, STREAM, streams::xread).keys_after("STREAMS", 1, 2, streams::read_keys).doc("stream", "5.0.0", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block."),
    CommandSpec::new("xreadgroup", -7, WRITE | BLOCKING, STREAM, streams::xreadgroup).keys_after("STREAMS", 4, 2, streams::read_keys).key_flags(&["RO", "access"]).doc("stream", "5.0.0", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block."),
    CommandSpec::new("xack", -4, WRITE | FAST, STREAM, streams::xack).keys(1, 1, 1).doc("stream", "5.0.0", "O(1) for each message ID processed.", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL."),
    CommandSpec::new("xpending", -3, READONLY, STREAM, streams::xpending).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged."),
    CommandSpec::new("xclaim", -6, WRITE | FAST, STREAM, streams::xclaim).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "O(log N) with N being the number of messages in the PEL of the consumer group.", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer."),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, STREAM, streams::xautoclaim).keys(1, 1, 1).key_flags(&["RW", "delete"]).tips(&["nondeterministic_output"]).doc("stream", "6.2.0", "O(1) if COUNT is small.", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer."),
    CommandSpec::new("xgroup", -2, 0, 0, container).subs(streams::XGROUP_SUBCOMMANDS).doc("stream", "5.0.0", "Depends on subcommand.", "A container for consumer groups commands"),
    CommandSpec::new("xinfo", -2, 0, 0, container).subs(streams::XINFO_SUBCOMMANDS).doc("stream", "5.0.0", "Depends on subcommand.", "A container for stream introspection commands"),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, STREAM, streams::xsetid).keys(1, 1, 1).doc("stream", "5.0.0", "O(1)", "An internal command for replicating stream values"),
    // scripting
    CommandSpec::new("eval", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS, SCRIPTING, scripting::eval).numkeys(2).key_flags(&["RW", "access", "update"]).doc("scripting", "2.6.0", "Depends on the script that is executed.", "Execute a Lua script server side"),
    CommandSpec::new("evalsha", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS, SCRIPTING, scripting::evalsha).numkeys(2).key_flags(&["RW", "access", "update"]).doc("scripting", "2.6.0", "Depends on the script that is executed.", "Execute a Lua script server side"),
    CommandSpec::new("eval_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS, SCRIPTING, scripting::eval_ro).numkeys(2).key_flags(&["RO", "access"]).doc("scripting", "7.0.0", "Depends on the script that is executed.", "Execute a read-only Lua script server side"),
    CommandSpec::new("evalsha_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS, SCRIPTING, scripting::evalsha_ro).numkeys(2).key_flags(&["RO", "access"]).doc("scripting", "7.0.0", "Depends on the script that is executed.", "Execute a read-only Lua script server side"),
    CommandSpec::new("fcall", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS, SCRIPTING, scripting::fcall).numkeys(2).key_flags(&["RW", "access", "update"]).doc("scripting", "7.0.0", "Depends on the function that is executed.", "Invoke a function"),
    CommandSpec::new("fcall_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS, SCRIPTING, scripting::fcall_ro).numkeys(2).key_flags(&["RO", "access"]).doc("scripting", "7.0.0", "Depends on the function that is executed.", "Invoke a read-only function"),
    CommandSpec::new("script", -2, 0, 0, container).subs(scripting::SCRIPT_SUBCOMMANDS).doc("scripting", "2.6.0", "Depends on subcommand.", "A container for Lua scripts management commands"),
    CommandSpec::new("function", -2, 0, 0, container).subs(scripting::FUNCTION_SUBCOMMANDS).doc("scripting", "7.0.0", "Depends on subcommand.", "A container for function commands"),
    // connection
    CommandSpec::new("ping", -1, FAST | SENTINEL, CONN, connection::ping).doc("connection", "1.0.0", "O(1)", "Returns the server's liveliness response."),
    CommandSpec::new("echo", 2, FAST, CONN, connection::echo).doc("connection", "1.0.0", "O(1)", "Returns the given string."),
    CommandSpec::new("quit", -1, ALLOW_BUSY | NO_AUTH | LOADING | STALE | FAST, CONN, connection::quit).doc("connection", "1.0.0", "O(1)", "Closes the connection."),
    CommandSpec::new("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, CONN, connection::reset).doc("connection", "6.2.0", "O(1)", "Resets the connection."),
    CommandSpec::new("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, CONN, connection::auth).doc("connection", "1.0.0", "O(N) where N is the number of passwords defined for the user", "Authenticates the connection."),
    CommandSpec::new("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, CONN, connection::hello).doc("connection", "6.0.0", "O(1)", "Handshakes with the Redis server."),
    CommandSpec::new("client", -2, 0, 0, container).subs(client_cmd::CLIENT_SUBCOMMANDS).doc("connection", "2.4.0", "Depends on subcommand.", "A container for client connection commands."),
    // transactions
    CommandSpec::new("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, CAT_TRANSACTION, transactions::multi).doc("transactions", "1.2.0", "O(1)", "Starts a transaction."),
    CommandSpec::new("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | ALL_SHARDS, CAT_TRANSACTION, transactions::exec).doc("transactions", "1.2.0", "Depends on commands in the transaction", "Executes all commands in a transaction."),
    CommandSpec::new("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, CAT_TRANSACTION, transactions::discard).doc("transactions", "2.0.0", "O(N), when N is the number of queued commands", "Discards a transaction."),
    CommandSpec::new("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, CAT_TRANSACTION, transactions::watch).keys(1, -1, 1).doc("transactions", "2.2.0", "O(1) for every key.", "Monitors changes to keys to determine the execution of a transaction."),
    CommandSpec::new("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, CAT_TRANSACTION, transactions::unwatch).doc("transactions", "2.2.0", "O(1)", "Forgets about watched keys of a transaction."),
    // pub/sub
    CommandSpec::new("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, 0, pubsub::subscribe).doc("pubsub", "2.0.0", "O(N) where N is the number of channels to subscribe to.", "Listens for messages published to channels."),
    CommandSpec::new("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, 0, pubsub::unsubscribe).doc("pubsub", "2.0.0", "O(N) where N is the number of channels to unsubscribe.", "Stops listening to messages posted to channels."),
    CommandSpec::new("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, 0, pubsub::psubscribe).doc("pubsub", "2.0.0", "O(N) where N is the number of patterns to subscribe to.", "Listens for messages published to channels that match one or more patterns."),
    CommandSpec::new("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, 0, pubsub::punsubscribe).doc("pubsub", "2.0.0", "O(N) where N is the number of patterns to unsubscribe.", "Stops listening to messages published to channels that match one or more patterns."),
    CommandSpec::new("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, 0, pubsub::ssubscribe).keys(1, -1, 1).key_flags(&["not_key"]).doc("pubsub", "7.0.0", "O(N) where N is the number of shard channels to subscribe to.", "Listens for messages published to shard channels."),
    CommandSpec::new("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, 0, pubsub::sunsubscribe).keys(1, -1, 1).key_flags(&["not_key"]).doc("pubsub", "7.0.0", "O(N) where N is the number of shard channels to unsubscribe.", "Stops listening to messages posted to shard channels."),
    CommandSpec::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, 0, pubsub::publish).doc("pubsub", "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", "Posts a message to a channel."),
    CommandSpec::new("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, 0, pubsub::spublish).keys(1, 1, 1).key_flags(&["not_key"]).doc("pubsub", "7.0.0", "O(N) where N is the number of clients subscribed to the receiving shard channel.", "Post a message to a shard channel"),
    CommandSpec::new("pubsub", -2, 0, 0, container).subs(pubsub::PUBSUB_SUBCOMMANDS).doc("pubsub", "2.8.0", "Depends on subcommand.", "A container for Pub/Sub commands."),
    // server
    CommandSpec::new("time", 1, LOADING | STALE | FAST, 0, server_cmd::time).doc("server", "2.6.0", "O(1)", "Returns the server time."),
    CommandSpec::new("info", -1, LOADING | STALE, CAT_DANGEROUS, server_cmd::info).doc("server", "1.0.0", "O(1)", "Returns information and statistics about the server."),
    CommandSpec::new("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, 0, server_cmd::shutdown).doc("server", "1.0.0", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", "Synchronously saves the database(s) to disk and shuts down the Redis server."),
    CommandSpec::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE | ALL_SHARDS, 0, server_cmd::debug).doc("server", "1.0.0", "Depends on subcommand.", "A container for debugging commands."),
    CommandSpec::new("memory", -2, 0, 0, container).subs(memory::MEMORY_SUBCOMMANDS).doc("server", "4.0.0", "Depends on subcommand.", "A container for memory diagnostics commands"),
    CommandSpec::new("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, 0, server_cmd::monitor).doc("server", "1.0.0", "O(1)", "Listens for all requests received by the server in real-time."),
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI | ALL_SHARDS, 0, persist_cmd::save).doc("server", "1.0.0", "O(N) where N is the total number of keys in all databases", "Synchronously saves the database(s) to disk."),
    CommandSpec::new("bgsave", -1, ADMIN | NOSCRIPT, 0, persist_cmd::bgsave).doc("server", "1.0.0", "O(1)", "Asynchronously saves the database(s) to disk."),
    CommandSpec::new("bgrewriteaof", 1, ADMIN | NOSCRIPT, 0, server_cmd::bgrewriteaof).doc("server", "1.0.0", "O(1)", "Asynchronously rewrites the append-only file to disk."),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, CAT_ADMIN | CAT_DANGEROUS, server_cmd::lastsave).doc("server", "1.0.0", "O(1)", "Returns the Unix timestamp of the last successful save to disk."),
    CommandSpec::new("config", -2, 0, 0, container).subs(config_cmd::CONFIG_SUBCOMMANDS).doc("server", "2.0.0", "Depends on subcommand.", "A container for server configuration commands."),
    CommandSpec::new("latency", -2, 0, 0, container).subs(latency::LATENCY_SUBCOMMANDS).doc("server", "2.8.13", "Depends on subcommand.", "A container for latency diagnostics commands"),
    CommandSpec::new("slowlog", -2, 0, 0, container).subs(slowlog::SLOWLOG_SUBCOMMANDS).doc("server", "2.2.12", "Depends on subcommand.", "A container for slow log commands."),
    CommandSpec::new("acl", -2, 0, 0, container).subs(acl_cmd::ACL_SUBCOMMANDS).doc("server", "6.0.0", "Depends on subcommand.", "A container for Access List Control commands "),
    CommandSpec::new("command", -1, LOADING | STALE, CONN, introspection::command).subs(introspection::COMMAND_SUBCOMMANDS).doc("server", "2.8.13", "O(N) where N is the total number of Redis commands", "Returns detailed information about all commands."),
];
