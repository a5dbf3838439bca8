//! Listeners and the per-connection loop: read what the socket has, execute every complete
//! request in it, write all their replies in one go (pipelining costs one write per batch).
//!
//! Replies the socket cannot take yet stay pending. When the client's class has no
//! client-output-buffer-limit, the connection waits for them to be written before reading more
//! (the socket itself holds the client back). With limits, it goes on serving requests as Redis
//! does, and closes the client once its pending output breaks them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::mpsc::UnboundedReceiver;

use super::blocking::{self, Unblocked};
use super::client::{Client, ClientInfo, ReplyMode};
use super::pubsub::{Kind, Limits, Message};
use super::tls::Conn;
use super::{Server, unix_ms};
use crate::commands;
use crate::protocol::parse::Parsed;
use crate::protocol::{Reply, RequestParser};

/// Replies are flushed early once this much output is pending, so a long pipeline of big
/// replies does not pile up in memory.
const FLUSH_AT: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

const PROTECTED_MODE_MSG: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Accepts clients on `listener`; over TLS when `tls` (a tls-port listener).
pub async fn serve(server: Arc<Server>, listener: TcpListener, tls: bool) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move {
            accept(server, stream, peer, tls).await;
        });
    }
}

async fn accept(server: Arc<Server>, tcp: TcpStream, peer: SocketAddr, tls: bool) {
    server
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let _ = tcp.set_nodelay(true);
    let keepalive = server.config.read().tcp_keepalive;
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&ka);
    }
    let tls_config = if tls { server.tls_config() } else { None };
    if tls && tls_config.is_none() {
        return;
    }
    let Ok(stream) = Conn::new(tcp, tls_config) else {
        return;
    };
    let max = server.hot.maxclients.load(Ordering::Relaxed) as usize;
    if server.clients.lock().len() >= max {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let needs_auth = server.acl.default_needs_auth();
    // Protected mode guards a default user without password (even one that is off).
    if server.acl.default.is_nopass()
        && server.config.read().protected_mode
        && !peer.ip().is_loopback()
    {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(PROTECTED_MODE_MSG.as_bytes()).await;
        return;
    }
    let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
    let laddr = stream
        .tcp()
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    #[cfg(unix)]
    let fd = {
        use std::os::fd::AsRawFd;
        stream.tcp().as_raw_fd()
    };
    #[cfg(not(unix))]
    let fd = -1;
    let info = Arc::new(ClientInfo::new(id, peer.to_string(), laddr, fd, unix_ms()));
    server.register_client(info.clone());
    let client = Client::new(info, server.acl.default.clone(), !needs_auth);
    run(&server, stream, client).await;
    server.unregister_client(id);
}

async fn run(server: &Arc<Server>, mut stream: Conn, mut client: Client) {
    let info = client.info.clone();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut reply = Reply::new();
    let mut out = Outbox::default();
    let mut parser = RequestParser::default();
    'conn: loop {
        if buf.capacity() - buf.len() < 512 {
            buf.reserve(READ_CHUNK);
        }
        // Subscribers wait for messages, not requests: like Redis, they never time out.
        let timeout = if client.is_subscribed() {
            0
        } else {
            server.hot.timeout_secs.load(Ordering::Relaxed)
        };
        let read = async {
            if timeout > 0 {
                match tokio::time::timeout(
                    Duration::from_secs(timeout),
                    read_some(&stream, &mut buf),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(std::io::Error::other("idle timeout")),
                }
            } else {
                read_some(&stream, &mut buf).await
            }
        };
        let soft_check = soft_limit_recheck(server, &client, &out);
        let event = tokio::select! {
            r = read => Event::Read(r),
            r = stream.writable(), if out.len() > 0 || stream.tls_pending() => Event::Writable(r),
            _ = info.kill.notified() => Event::Killed,
            m = next_message(&mut client.inbox) => Event::Message(m),
            _ = soft_limit_timer(soft_check) => Event::SoftLimitCheck,
        };
        let n = match event {
            Event::Read(Ok(0) | Err(_)) | Event::Killed | Event::Writable(Err(_)) => break,
            Event::Read(Ok(n)) => n,
            Event::Writable(Ok(())) => {
                if !write_pending(server, &stream, &mut out, &client) {
                    break;
                }
                continue 'conn;
            }
            Event::SoftLimitCheck => {
                if over_limits(server, &client, &out) {
                    break;
                }
                continue 'conn;
            }
            Event::Message(first) => {
                // Deliver everything queued in one write.
                encode_message(&client, &mut reply, &first);
                drain_inbox(&mut client, &mut reply);
                if !flush(server, &stream, &mut reply, &mut out, &mut client).await {
                    break;
                }
                continue 'conn;
            }
        };
        if info.killed.load(Ordering::Relaxed) {
            break;
        }
        // Messages queued before these requests arrived (an invalidation caused by another
        // client's write, say) go out before their replies, as Redis orders them.
        drain_inbox(&mut client, &mut reply);
        info.last_interaction_ms.store(unix_ms(), Ordering::Relaxed);
        server
            .stats
            .net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        server.stats.reads_processed.fetch_add(1, Ordering::Relaxed);
        let limit = server.hot.client_query_buffer_limit.load(Ordering::Relaxed) as usize;
        let max_bulk = server.hot.proto_max_bulk_len.load(Ordering::Relaxed);

        let mut consumed = 0;
        loop {
            if client.close_after_reply {
                break;
            }
            let pending = &buf[consumed..];
            match parser.parse(
                pending,
                max_bulk,
                client.authenticated || !server.acl.default_needs_auth(),
            ) {
                Ok(Parsed::Request(len)) => {
                    if let Some(until) = paused_until(server, &parser, pending) {
                        // Flush what we have, wait out the pause, then go on with this request.
                        buf.advance(consumed);
                        consumed = 0;
                        if !flush(server, &stream, &mut reply, &mut out, &mut client).await {
                            break 'conn;
                        }
                        wait_unpause(server, until).await;
                        continue;
                    }
                    let args = parser.args(pending);
                    let mark = reply.out.len();
                    commands::dispatch(server, &mut client, &mut reply, args);
                    if let Some(waiter) = client.blocked.take() {
                        // Nothing else runs until this client is answered; what it sends
                        // meanwhile stays in the buffer, as in Redis.
                        buf.advance(consumed + len);
                        consumed = 0;
                        // Its earlier replies are all written before it waits.
                        if !flush(server, &stream, &mut reply, &mut out, &mut client).await
                            || !drain(server, &stream, &mut out, &info).await
                        {
                            blocking::forget(server, &info, &waiter);
                            break 'conn;
                        }
                        // A blocked client may wait for hours: give its buffers back meanwhile
                        // (they are allocated again on the next request or reply).
                        if buf.is_empty() {
                            buf = BytesMut::new();
                        }
                        reply.out = Vec::new();
                        let gone = client_gone(&stream, &mut buf, &info);
                        match blocking::wait(server, &info, &waiter, gone).await {
                            Unblocked::Reply(bytes) => {
                                // Served by another client's write: its pop was appended
                                // before this reply was handed over.
                                if server.aof.feeding() {
                                    client.aof_wait = server.aof.appended();
                                }
                                reply.out.extend_from_slice(&bytes)
                            }
                            Unblocked::Gone => break 'conn,
                        }
                        info.last_interaction_ms.store(unix_ms(), Ordering::Relaxed);
                        continue;
                    }
                    match client.reply_mode {
                        ReplyMode::On => {}
                        ReplyMode::Off => reply.out.truncate(mark),
                        ReplyMode::Skip => {
                            reply.out.truncate(mark);
                            client.reply_mode = ReplyMode::On;
                        }
                        // CLIENT REPLY SKIP just ran (silently): skip the command after it.
                        ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skip,
                    }
                    consumed += len;
                    if reply.out.len() >= FLUSH_AT {
                        buf.advance(consumed);
                        consumed = 0;
                        if !flush(server, &stream, &mut reply, &mut out, &mut client).await {
                            break 'conn;
                        }
                    }
                }
                Ok(Parsed::Empty(len)) => consumed += len,
                Ok(Parsed::Incomplete(need)) => {
                    if pending.len() + need > limit {
                        tracing::warn!(
                            "closing client {} that reached max query buffer length",
                            info.addr
                        );
                        break 'conn;
                    }
                    if need > READ_CHUNK {
                        // A big bulk argument: grow geometrically as its bytes arrive, never by
                        // the size a client merely declares (that would let a stranger make us
                        // allocate 512 MB with one header line).
                        buf.reserve(need.min(buf.len().max(READ_CHUNK)));
                    }
                    break;
                }
                Err(e) => {
                    tracing::debug!("protocol error from {}: {}", info.addr, e.0);
                    reply.error(&format!("ERR Protocol error: {}", e.0));
                    client.close_after_reply = true;
                    break;
                }
            }
        }
        buf.advance(consumed);
        info.query_buf.store(buf.len(), Ordering::Relaxed);
        // What this batch allocated and freed counts at once: the next client's maxmemory check
        // sees memory a DEL just gave back (one atomic add per batch, not per allocation).
        crate::memory::alloc::flush_thread();
        server.note_client_memory(
            &info,
            buf.capacity() + out.buf.capacity() + reply.out.capacity(),
        );
        if !flush(server, &stream, &mut reply, &mut out, &mut client).await {
            break;
        }
        if client.close_after_reply {
            drain(server, &stream, &mut out, &info).await;
            break;
        }
    }
    stream.shutdown().await;
    server
        .keyspace
        .unwatch_all(&client.watched, &client.watch_flag());
    let mut registry = server.pubsub.lock();
    for (kind, names) in [Kind::Channel, Kind::Pattern, Kind::Shard]
        .into_iter()
        .zip(&client.subscribed)
    {
        for name in names {
            registry.unsubscribe(kind, name, client.id());
        }
    }
}

/// Resolves when a blocked client goes away: killed, or its socket closed. Whatever it sends
/// meanwhile is kept in `buf` for after.
async fn client_gone(stream: &Conn, buf: &mut BytesMut, info: &ClientInfo) {
    loop {
        tokio::select! {
            r = stream.readable() => {
                if r.is_err() {
                    return;
                }
                // Only now does the buffer need room again.
                if buf.capacity() - buf.len() < 512 {
                    buf.reserve(READ_CHUNK);
                }
                if matches!(read_some(stream, buf).await, Ok(0) | Err(_)) {
                    return;
                }
            }
            _ = info.kill.notified() => return,
        }
    }
}

enum Event {
    Read(std::io::Result<usize>),
    Writable(std::io::Result<()>),
    Killed,
    Message(Message),
    /// Time to see whether pending output has now been over the soft limit for too long.
    SoftLimitCheck,
}

fn encode_message(client: &Client, reply: &mut Reply, msg: &Message) {
    if let Some(m) = &client.mailbox {
        m.queued.fetch_sub(msg.size(), Ordering::Relaxed);
    }
    commands::pubsub::encode_message(reply, msg);
}

/// Encodes every message already queued for this connection.
fn drain_inbox(client: &mut Client, reply: &mut Reply) {
    while let Some(msg) = client.inbox.as_mut().and_then(|rx| rx.try_recv().ok()) {
        encode_message(client, reply, &msg);
    }
}

/// The next pub/sub message for this connection; never resolves before it subscribes.
async fn next_message(inbox: &mut Option<UnboundedReceiver<Message>>) -> Message {
    match inbox {
        Some(rx) => match rx.recv().await {
            Some(m) => m,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Reads what the socket has. When a read leaves room in the buffer the socket was drained, so
/// the readiness flag is cleared right away instead of paying for one more read that would only
/// say EAGAIN (one syscall less per request). The read runs inside `try_io`, which notes the
/// readiness event before the read: data arriving during or after it raises a newer event that
/// the clear cannot erase, so no wake-up is ever lost.
async fn read_some(stream: &Conn, buf: &mut BytesMut) -> std::io::Result<usize> {
    // Over TLS a short read says nothing about the socket (rustls reads it record by record).
    let plain = matches!(stream, Conn::Plain(_));
    loop {
        stream.readable().await?;
        let room = buf.capacity() - buf.len();
        let mut got = 0;
        let result = stream.tcp().try_io(tokio::io::Interest::READABLE, || {
            got = stream.try_read_buf(buf)?;
            if plain && got > 0 && got < room {
                Err(std::io::ErrorKind::WouldBlock.into())
            } else {
                Ok(got)
            }
        });
        match result {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if got > 0 {
                    return Ok(got);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reply bytes the socket has not taken yet, oldest first.
#[derive(Default)]
struct Outbox {
    buf: Vec<u8>,
    /// How much of `buf` is already written.
    start: usize,
}

impl Outbox {
    fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Queues the replies written so far (without copying them when nothing is waiting).
    fn take(&mut self, reply: &mut Reply) {
        if self.len() == 0 {
            self.buf.clear();
            self.start = 0;
            std::mem::swap(&mut self.buf, &mut reply.out);
        } else {
            self.buf.extend_from_slice(&reply.out);
            reply.out.clear();
        }
        if reply.out.capacity() > 4 * FLUSH_AT {
            reply.out.shrink_to(FLUSH_AT);
        }
    }

    /// Writes what the socket takes now, without waiting. Err: the connection is broken.
    fn write_now(&mut self, server: &Server, stream: &Conn) -> std::io::Result<()> {
        while self.len() > 0 {
            match stream.try_write(&self.buf[self.start..]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.start += n;
                    server
                        .stats
                        .writes_processed
                        .fetch_add(1, Ordering::Relaxed);
                    server
                        .stats
                        .net_output_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if self.len() == 0 {
            self.buf.clear();
            self.start = 0;
            if self.buf.capacity() > 4 * FLUSH_AT {
                self.buf.shrink_to(FLUSH_AT);
            }
            stream.flush_pending()?;
        }
        Ok(())
    }
}

/// The client-output-buffer-limit class of a client: pubsub while subscribed, else normal.
fn output_limits(server: &Server, client: &Client) -> Limits {
    if client.is_subscribed() {
        server.pubsub_limits()
    } else {
        server.normal_limits()
    }
}

/// All of a client's output not yet taken by its socket: pending replies and queued messages.
fn pending_output(client: &Client, out: &Outbox) -> usize {
    out.len()
        + client
            .mailbox
            .as_ref()
            .map_or(0, |m| m.queued.load(Ordering::Relaxed))
}

/// Publishes the pending size and checks the client's limits; true when it was closed.
fn over_limits(server: &Server, client: &Client, out: &Outbox) -> bool {
    client.info.output_buf.store(out.len(), Ordering::Relaxed);
    let limits = output_limits(server, client);
    !limits.is_unlimited() && limits.enforce(pending_output(client, out), &client.info)
}

/// When the client's output is over its soft limit: how long until staying there breaks it.
fn soft_limit_recheck(server: &Server, client: &Client, out: &Outbox) -> Option<Duration> {
    let since = client.info.obuf_soft_since.load(Ordering::Relaxed);
    if out.len() == 0 || since == 0 {
        return None;
    }
    let limits = output_limits(server, client);
    let due_ms = (since + limits.soft_secs + 1) * 1000;
    Some(Duration::from_millis((due_ms - unix_ms()).max(0) as u64))
}

/// Sleeps for the given time; never resolves without one (and then costs no timer).
async fn soft_limit_timer(after: Option<Duration>) {
    match after {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Writes more pending output now that the socket is writable; false when the connection
/// must close.
fn write_pending(server: &Server, stream: &Conn, out: &mut Outbox, client: &Client) -> bool {
    out.write_now(server, stream).is_ok() && !over_limits(server, client, out)
}

/// Hands the replies written so far to the socket. Without output limits, waits until they are
/// all written; with limits, keeps what the socket cannot take and checks the limits. False when
/// the connection must close.
async fn flush(
    server: &Server,
    stream: &Conn,
    reply: &mut Reply,
    out: &mut Outbox,
    client: &mut Client,
) -> bool {
    if client.aof_wait != 0 {
        // These replies acknowledge writes, which reach the file first (see persistence::aof).
        // The shards were released long ago; one write or fsync covers many clients.
        server.aof.wait_durable(client.aof_wait).await;
        client.aof_wait = 0;
    }
    if reply.out.is_empty() && out.len() == 0 {
        return true;
    }
    out.take(reply);
    if out.write_now(server, stream).is_err() {
        return false;
    }
    if (out.len() > 0 || stream.tls_pending()) && output_limits(server, client).is_unlimited() {
        return drain(server, stream, out, &client.info).await;
    }
    !over_limits(server, client, out)
}

/// Waits until all pending output is written. A client killed meanwhile (a stalled reader)
/// must not keep us waiting. False when the connection must close.
async fn drain(server: &Server, stream: &Conn, out: &mut Outbox, info: &ClientInfo) -> bool {
    while out.len() > 0 || stream.tls_pending() {
        info.output_buf.store(out.len(), Ordering::Relaxed);
        let writable = tokio::select! {
            r = stream.writable() => r.is_ok(),
            _ = info.kill.notified() => false,
        };
        if !writable || out.write_now(server, stream).is_err() {
            return false;
        }
    }
    info.output_buf.store(0, Ordering::Relaxed);
    true
}

/// When clients are paused and this request must wait, the unix ms the pause ends.
fn paused_until(server: &Server, parser: &RequestParser, pending: &[u8]) -> Option<i64> {
    let p = *server.pause.lock();
    if p.until_ms == 0 || p.until_ms <= unix_ms() {
        return None;
    }
    let args = parser.args(pending);
    let spec = server.commands.get(args.get(0))?;
    if p.writes_only && !commands::pausable_as_write(spec) {
        return None;
    }
    Some(p.until_ms)
}

async fn wait_unpause(server: &Server, until_ms: i64) {
    let left = (until_ms - unix_ms()).max(0) as u64;
    let _ = tokio::time::timeout(Duration::from_millis(left), server.unpaused.notified()).await;
}
