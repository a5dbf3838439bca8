//! Listeners and the per-connection loop: read what the socket has, execute every complete
//! request in it, write all their replies in one go (pipelining costs one write per batch).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::mpsc::UnboundedReceiver;

use super::blocking::{self, Unblocked};
use super::client::{Client, ClientInfo, ReplyMode};
use super::pubsub::{Kind, Message};
use super::{Server, unix_ms};
use crate::commands;
use crate::protocol::parse::Parsed;
use crate::protocol::{Reply, RequestParser};

/// Replies are flushed early once this much output is pending, so a long pipeline of big
/// replies does not pile up in memory.
const FLUSH_AT: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

const PROTECTED_MODE_MSG: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

pub async fn serve(server: Arc<Server>, listener: TcpListener) {
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
            accept(server, stream, peer).await;
        });
    }
}

async fn accept(server: Arc<Server>, mut stream: TcpStream, peer: SocketAddr) {
    server
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_nodelay(true);
    let keepalive = server.config.read().tcp_keepalive;
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
    }
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
    let needs_auth = server.hot.requirepass_set.load(Ordering::Relaxed);
    if !needs_auth && server.config.read().protected_mode && !peer.ip().is_loopback() {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(PROTECTED_MODE_MSG.as_bytes()).await;
        return;
    }
    let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    #[cfg(unix)]
    let fd = {
        use std::os::fd::AsRawFd;
        stream.as_raw_fd()
    };
    #[cfg(not(unix))]
    let fd = -1;
    let info = Arc::new(ClientInfo::new(id, peer.to_string(), laddr, fd, unix_ms()));
    server.register_client(info.clone());
    let client = Client::new(info, !needs_auth);
    run(&server, stream, client).await;
    server.unregister_client(id);
}

async fn run(server: &Arc<Server>, mut stream: TcpStream, mut client: Client) {
    let info = client.info.clone();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut reply = Reply::new();
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
        let event = tokio::select! {
            r = read => Event::Read(r),
            _ = info.kill.notified() => Event::Killed,
            m = next_message(&mut client.inbox) => Event::Message(m),
        };
        let n = match event {
            Event::Read(Ok(0) | Err(_)) | Event::Killed => break,
            Event::Read(Ok(n)) => n,
            Event::Message(first) => {
                // Deliver everything queued in one write.
                let mut next = Some(first);
                while let Some(msg) = next {
                    if let Some(m) = &client.mailbox {
                        m.queued.fetch_sub(msg.size(), Ordering::Relaxed);
                    }
                    commands::pubsub::encode_message(&mut reply, &msg);
                    next = client.inbox.as_mut().and_then(|rx| rx.try_recv().ok());
                }
                if !flush(server, &mut stream, &mut reply, &info).await {
                    break;
                }
                continue 'conn;
            }
        };
        if info.killed.load(Ordering::Relaxed) {
            break;
        }
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
            match parser.parse(pending, max_bulk, client.authenticated) {
                Ok(Parsed::Request(len)) => {
                    if let Some(until) = paused_until(server, &parser, pending) {
                        // Flush what we have, wait out the pause, then go on with this request.
                        buf.advance(consumed);
                        consumed = 0;
                        if !flush(server, &mut stream, &mut reply, &info).await {
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
                        if !flush(server, &mut stream, &mut reply, &info).await {
                            blocking::forget(server, &info, &waiter);
                            break 'conn;
                        }
                        let gone = client_gone(&stream, &mut buf, &info);
                        match blocking::wait(server, &info, &waiter, gone).await {
                            Unblocked::Reply(bytes) => reply.out.extend_from_slice(&bytes),
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
                        if !flush(server, &mut stream, &mut reply, &info).await {
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
        if !flush(server, &mut stream, &mut reply, &info).await || client.close_after_reply {
            break;
        }
    }
    let _ = stream.shutdown().await;
    server
        .keyspace
        .unwatch_all(&client.watched, &client.watch_dirty);
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
async fn client_gone(stream: &TcpStream, buf: &mut BytesMut, info: &ClientInfo) {
    loop {
        if buf.capacity() - buf.len() < 512 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = read_some(stream, buf) => {
                if matches!(r, Ok(0) | Err(_)) {
                    return;
                }
            }
            _ = info.kill.notified() => return,
        }
    }
}

enum Event {
    Read(std::io::Result<usize>),
    Killed,
    Message(Message),
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
async fn read_some(stream: &TcpStream, buf: &mut BytesMut) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        let room = buf.capacity() - buf.len();
        let mut got = 0;
        let result = stream.try_io(tokio::io::Interest::READABLE, || {
            got = stream.try_read_buf(buf)?;
            if got > 0 && got < room {
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

async fn flush(
    server: &Server,
    stream: &mut TcpStream,
    reply: &mut Reply,
    info: &ClientInfo,
) -> bool {
    if reply.out.is_empty() {
        return true;
    }
    // A client killed while its socket is full (a stalled subscriber) must not keep us waiting.
    let ok = tokio::select! {
        r = stream.write_all(&reply.out) => r.is_ok(),
        _ = info.kill.notified() => false,
    };
    server
        .stats
        .writes_processed
        .fetch_add(1, Ordering::Relaxed);
    server
        .stats
        .net_output_bytes
        .fetch_add(reply.out.len() as u64, Ordering::Relaxed);
    reply.out.clear();
    if reply.out.capacity() > 4 * FLUSH_AT {
        reply.out.shrink_to(FLUSH_AT);
    }
    ok
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
