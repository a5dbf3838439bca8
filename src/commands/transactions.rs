//! MULTI/EXEC/DISCARD/WATCH/UNWATCH (multi.c). EXEC runs with every shard locked, so no other
//! client sees a partial transaction. WATCH registers the client's dirty flag with the shard of
//! each key; any change to the key (writes, expiry, FLUSH*, SWAPDB) sets it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::table::CommandSpec;
use super::{Ctx, run};
use crate::protocol::{Args, OwnedArgs, Reply};
use crate::server::Server;
use crate::server::client::{Client, Multi};

/// Commands that run at once even inside MULTI; everything else is queued.
pub fn queues(spec: &CommandSpec) -> bool {
    !matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// A command rejected while queuing makes EXEC fail with EXECABORT.
pub fn flag_aborted(client: &mut Client) {
    if let Some(m) = &mut client.multi {
        m.aborted = true;
    }
}

/// Queues a command between MULTI and EXEC (the dispatcher has checked it).
pub fn queue(client: &mut Client, reply: &mut Reply, index: usize, args: &Args) {
    // As Redis, a transaction that can only fail (a rejected command, a touched watched key)
    // queues nothing more.
    let doomed = client.watch_flag().load(Ordering::Relaxed);
    if let Some(m) = &mut client.multi
        && !m.aborted
        && !doomed
    {
        m.queued.push((index, OwnedArgs::from_args(args)));
        client
            .info
            .multi_queued
            .store(m.queued.len() as i64, Ordering::Relaxed);
    }
    reply.simple(b"QUEUED");
}

/// EXEC refused before it could run (BUSY): as Redis, the transaction is discarded and the
/// reply names the reason.
pub fn abort_exec(server: &Arc<Server>, client: &mut Client, reply: &mut Reply, reason: &str) {
    client.end_multi();
    reply.error(&format!(
        "EXECABORT Transaction discarded because of: {reason}"
    ));
    let watched = std::mem::take(&mut client.watched);
    if watched.is_empty() {
        return;
    }
    let flag = std::mem::replace(
        &mut *client.info.watch_dirty.lock(),
        Arc::new(AtomicBool::new(false)),
    );
    // The shards are held by the running script: drop the watches once it releases them,
    // without making this client wait.
    let server = server.clone();
    let unwatch = move || server.keyspace.unwatch_all(&watched, &flag);
    match tokio::runtime::Handle::try_current() {
        Ok(h) => drop(h.spawn_blocking(unwatch)),
        Err(_) => unwatch(),
    }
}

pub fn multi(ctx: &mut Ctx, _args: Args) {
    if ctx.client.multi.is_some() {
        return ctx.reply.error("ERR MULTI calls can not be nested");
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.info.multi_queued.store(0, Ordering::Relaxed);
    ctx.reply.ok();
}

/// Forgets the client's watches (EXEC, DISCARD, UNWATCH, RESET, disconnect).
pub fn unwatch_all(ctx: &mut Ctx) {
    let watched = std::mem::take(&mut ctx.client.watched);
    let flag = ctx.client.watch_flag();
    ctx.ks.unwatch_all(&watched, &flag);
    flag.store(false, Ordering::Relaxed);
}

pub fn exec(ctx: &mut Ctx, _args: Args) {
    let Some(multi) = ctx.client.multi.take() else {
        return ctx.reply.error("ERR EXEC without MULTI");
    };
    run_transaction(ctx, multi);
    // In MULTI (CLIENT LIST flag x, multi=<queued>) until the queued commands have run.
    ctx.client.end_multi();
}

fn run_transaction(ctx: &mut Ctx, multi: Multi) {
    // A watched key that expired since WATCH counts as changed: probing deletes it.
    let watched = std::mem::take(&mut ctx.client.watched);
    for (db, key) in &watched {
        ctx.ks.probe_in(*db, key);
    }
    ctx.client.watched = watched;
    let dirty = ctx.client.watch_flag().load(Ordering::Relaxed);
    unwatch_all(ctx);
    if multi.aborted {
        return ctx
            .reply
            .error("EXECABORT Transaction discarded because of previous errors.");
    }
    if dirty {
        return ctx.reply.null_array();
    }
    ctx.propagate_effects_only();
    ctx.reply.array(multi.queued.len());
    ctx.client.in_exec = true;
    for (index, owned) in &multi.queued {
        let spec = ctx.server.commands.spec_at(*index);
        let args = owned.args();
        // Permissions are checked again: the user's rules may have changed since queuing.
        if !ctx.client.user.unrestricted()
            && let Err(denial) = ctx.client.user.check(&crate::acl::Request {
                spec,
                index: *index,
                args: &args,
            })
        {
            refuse_queued(ctx, denial, *index, &args);
            continue;
        }
        run(ctx, spec, *index, args, Instant::now());
    }
    ctx.client.in_exec = false;
}

/// A queued command the user may no longer run: Redis's EXEC-time NOPERM, logged as "multi".
fn refuse_queued(ctx: &mut Ctx, denial: crate::acl::Denial, index: usize, args: &Args) {
    let server = ctx.server;
    let (reason, object) = super::acl_cmd::denial_object(server, denial, index, args);
    super::acl_cmd::record(
        server,
        &ctx.client.info,
        reason,
        crate::acl::log::Context::Multi,
        object,
        &ctx.client.user.name,
    );
    let why = match denial {
        crate::acl::Denial::Command => "no permission to execute the command or subcommand",
        crate::acl::Denial::Key(_) => "no permission to touch the specified keys",
        crate::acl::Denial::Channel(_) => {
            "no permission to access one of the channels used as arguments"
        }
    };
    ctx.reply.error(&format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {why}"
    ));
    super::count_error(server, ctx.reply);
}

pub fn discard(ctx: &mut Ctx, _args: Args) {
    if ctx.client.end_multi().is_none() {
        return ctx.reply.error("ERR DISCARD without MULTI");
    }
    unwatch_all(ctx);
    ctx.reply.ok();
}

pub fn watch(ctx: &mut Ctx, args: Args) {
    if ctx.client.multi.is_some() {
        return ctx.reply.error("ERR WATCH inside MULTI is not allowed");
    }
    let db = ctx.ks.db;
    for key in args.iter().skip(1) {
        if ctx.client.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        ctx.ks.watch(key, &ctx.client.watch_flag());
        ctx.client.watched.push((db, key.to_vec()));
    }
    ctx.reply.ok();
}

pub fn unwatch(ctx: &mut Ctx, _args: Args) {
    unwatch_all(ctx);
    ctx.reply.ok();
}
