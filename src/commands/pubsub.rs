//! Pub/sub commands (pubsub.c): SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE forms,
//! PUBLISH, SPUBLISH and PUBSUB. Confirmations are push frames in RESP3, arrays in RESP2.

use std::sync::atomic::Ordering;

use super::table::{CommandSpec, LOADING, PUBSUB, STALE};
use super::{Ctx, eq_ic, reply_help};
use crate::protocol::{Args, Reply};
use crate::server::client::Client;
use crate::server::pubsub::{Kind, Message};

fn slot(kind: Kind) -> usize {
    match kind {
        Kind::Channel => 0,
        Kind::Pattern => 1,
        Kind::Shard => 2,
    }
}

fn count(client: &Client, kind: Kind) -> usize {
    match kind {
        Kind::Shard => client.subscribed[2].len(),
        _ => client.subscription_count(),
    }
}

fn confirm(reply: &mut Reply, what: &[u8], name: Option<&[u8]>, n: usize) {
    reply.push(3);
    reply.bulk(what);
    reply.bulk_or_null(name);
    reply.int(n as i64);
}

fn subscribe_generic(ctx: &mut Ctx, args: Args, kind: Kind, what: &[u8]) {
    let mailbox = ctx.client.mailbox();
    for name in args.iter().skip(1) {
        let list = &mut ctx.client.subscribed[slot(kind)];
        if !list.iter().any(|n| n == name) {
            list.push(name.to_vec());
            ctx.server.pubsub.lock().subscribe(kind, name, &mailbox);
        }
        let n = count(ctx.client, kind);
        confirm(ctx.reply, what, Some(name), n);
    }
    sync_counts(ctx.client);
}

/// Drops subscriptions (the named ones, or all of `kind`), replying for each.
pub fn unsubscribe_generic(
    ctx: &mut Ctx,
    names: Vec<Vec<u8>>,
    kind: Kind,
    what: &[u8],
    reply: bool,
) {
    let names = if names.is_empty() {
        ctx.client.subscribed[slot(kind)].clone()
    } else {
        names
    };
    if names.is_empty() && reply {
        let n = count(ctx.client, kind);
        confirm(ctx.reply, what, None, n);
    }
    let id = ctx.client.id();
    for name in names {
        let list = &mut ctx.client.subscribed[slot(kind)];
        if let Some(i) = list.iter().position(|n| *n == name) {
            list.remove(i);
            ctx.server.pubsub.lock().unsubscribe(kind, &name, id);
        }
        if reply {
            let n = count(ctx.client, kind);
            confirm(ctx.reply, what, Some(&name), n);
        }
    }
    sync_counts(ctx.client);
}

fn sync_counts(client: &Client) {
    for (i, list) in client.subscribed.iter().enumerate() {
        client.info.subscriptions[i].store(list.len(), Ordering::Relaxed);
    }
}

/// Removes every subscription of a client without replying (RESET, disconnect).
pub fn unsubscribe_all(ctx: &mut Ctx) {
    for (kind, what) in [
        (Kind::Channel, &b"unsubscribe"[..]),
        (Kind::Pattern, b"punsubscribe"),
        (Kind::Shard, b"sunsubscribe"),
    ] {
        unsubscribe_generic(ctx, Vec::new(), kind, what, false);
    }
}

fn names(args: &Args) -> Vec<Vec<u8>> {
    args.iter().skip(1).map(<[u8]>::to_vec).collect()
}

pub fn subscribe(ctx: &mut Ctx, args: Args) {
    subscribe_generic(ctx, args, Kind::Channel, b"subscribe");
}

pub fn psubscribe(ctx: &mut Ctx, args: Args) {
    subscribe_generic(ctx, args, Kind::Pattern, b"psubscribe");
}

pub fn ssubscribe(ctx: &mut Ctx, args: Args) {
    subscribe_generic(ctx, args, Kind::Shard, b"ssubscribe");
}

pub fn unsubscribe(ctx: &mut Ctx, args: Args) {
    unsubscribe_generic(ctx, names(&args), Kind::Channel, b"unsubscribe", true);
}

pub fn punsubscribe(ctx: &mut Ctx, args: Args) {
    unsubscribe_generic(ctx, names(&args), Kind::Pattern, b"punsubscribe", true);
}

pub fn sunsubscribe(ctx: &mut Ctx, args: Args) {
    unsubscribe_generic(ctx, names(&args), Kind::Shard, b"sunsubscribe", true);
}

fn publish_generic(ctx: &mut Ctx, args: Args, shard: bool) {
    let limits = ctx.server.pubsub_limits();
    let n = ctx
        .server
        .pubsub
        .lock()
        .publish(shard, args.get(1), args.get(2), limits);
    // A client that publishes to its own subscription sees the message before the count,
    // as with Redis, which writes it into the publisher's buffer during PUBLISH.
    if let (Some(rx), Some(mailbox)) = (ctx.client.inbox.as_mut(), &ctx.client.mailbox) {
        while let Ok(msg) = rx.try_recv() {
            mailbox.queued.fetch_sub(msg.size(), Ordering::Relaxed);
            encode_message(ctx.reply, &msg);
        }
    }
    ctx.reply.int(n as i64);
}

pub fn publish(ctx: &mut Ctx, args: Args) {
    publish_generic(ctx, args, false);
}

pub fn spublish(ctx: &mut Ctx, args: Args) {
    publish_generic(ctx, args, true);
}

/// Writes one delivered message the way the subscriber's protocol wants it.
pub fn encode_message(reply: &mut Reply, msg: &Message) {
    match msg {
        Message::Message { channel, payload } | Message::SMessage { channel, payload } => {
            reply.push(3);
            reply.bulk(if matches!(msg, Message::SMessage { .. }) {
                b"smessage"
            } else {
                b"message"
            });
            reply.bulk(channel);
            reply.bulk(payload);
        }
        Message::PMessage {
            pattern,
            channel,
            payload,
        } => {
            reply.push(4);
            reply.bulk(b"pmessage");
            reply.bulk(pattern);
            reply.bulk(channel);
            reply.bulk(payload);
        }
        Message::Monitor(line) => reply.simple(line),
        Message::Invalidate(keys) => {
            // RESP3 clients get a push; RESP2 ones (redirect targets) a message on the
            // invalidation channel.
            if reply.is_resp3() {
                reply.push(2);
                reply.bulk(b"invalidate");
            } else {
                reply.array(3);
                reply.bulk(b"message");
                reply.bulk(crate::server::tracking::CHANNEL);
            }
            match keys {
                Some(keys) => {
                    reply.array(keys.len());
                    for k in keys.iter() {
                        reply.bulk(k);
                    }
                }
                None => reply.null(),
            }
        }
    }
}

fn channels_generic(ctx: &mut Ctx, args: Args, kind: Kind) {
    let pattern = (args.len() == 3).then(|| args.get(2));
    let list = ctx.server.pubsub.lock().active(kind, pattern);
    ctx.reply.array(list.len());
    for c in &list {
        ctx.reply.bulk(c);
    }
}

fn numsub_generic(ctx: &mut Ctx, args: Args, kind: Kind) {
    let counts: Vec<usize> = {
        let ps = ctx.server.pubsub.lock();
        args.iter()
            .skip(2)
            .map(|c| ps.subscribers(kind, c))
            .collect()
    };
    ctx.reply.array(counts.len() * 2);
    for (c, n) in args.iter().skip(2).zip(counts) {
        ctx.reply.bulk(c);
        ctx.reply.int(n as i64);
    }
}

fn pubsub_channels(ctx: &mut Ctx, args: Args) {
    channels_generic(ctx, args, Kind::Channel);
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: Args) {
    channels_generic(ctx, args, Kind::Shard);
}

fn pubsub_numsub(ctx: &mut Ctx, args: Args) {
    numsub_generic(ctx, args, Kind::Channel);
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: Args) {
    numsub_generic(ctx, args, Kind::Shard);
}

fn pubsub_numpat(ctx: &mut Ctx, _args: Args) {
    let n = ctx.server.pubsub.lock().pattern_count();
    ctx.reply.int(n as i64);
}

fn pubsub_help(ctx: &mut Ctx, _args: Args) {
    reply_help(
        ctx.reply,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
}

/// Commands a RESP2 client may run while subscribed.
pub fn allowed_while_subscribed(spec: &CommandSpec) -> bool {
    [
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
        "ping",
        "quit",
        "reset",
    ]
    .iter()
    .any(|n| eq_ic(spec.name.as_bytes(), n))
}

const SUB: u32 = PUBSUB | LOADING | STALE;

pub static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, SUB, 0, pubsub_channels).doc("pubsub", "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", "Returns the active channels."),
    CommandSpec::new("numsub", -2, SUB, 0, pubsub_numsub).doc("pubsub", "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", "Returns a count of subscribers to channels."),
    CommandSpec::new("numpat", 2, SUB, 0, pubsub_numpat).doc("pubsub", "2.8.0", "O(1)", "Returns a count of unique pattern subscriptions."),
    CommandSpec::new("shardchannels", -2, SUB, 0, pubsub_shardchannels).doc("pubsub", "7.0.0", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", "Returns the active shard channels."),
    CommandSpec::new("shardnumsub", -2, SUB, 0, pubsub_shardnumsub).doc("pubsub", "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", "Returns the count of subscribers of shard channels."),
    CommandSpec::new("help", 2, LOADING | STALE, 0, pubsub_help).doc("pubsub", "6.2.0", "O(1)", "Returns helpful text about the different subcommands."),
];
