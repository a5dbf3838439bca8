//! Per-connection state: what the connection itself owns (`Client`) and what other clients may
//! read or act on through CLIENT LIST/KILL (`ClientInfo`, shared).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicUsize, Ordering};

use parking_lot::Mutex;

use tokio::sync::mpsc::UnboundedReceiver;

use super::pubsub::{Mailbox, Message};
use crate::protocol::{OwnedArgs, RespVersion};

/// CLIENT REPLY modes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command (set by CLIENT REPLY SKIP, armed after it runs).
    SkipNext,
    Skip,
}

/// Metadata other clients can see.
#[derive(Default, Clone)]
pub struct ClientMeta {
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub resp: u8,
    /// The ACL user name as given (CLIENT LIST user=, CLIENT KILL USER).
    pub user: Vec<u8>,
    pub no_evict: bool,
    pub no_touch: bool,
}

pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub created_ms: i64,
    pub last_interaction_ms: AtomicI64,
    pub db: AtomicU32,
    /// Index into the command table's `names` of the last command run (CLIENT LIST cmd=).
    pub last_cmd: AtomicUsize,
    pub query_buf: AtomicUsize,
    /// Reply bytes waiting for the socket to take them.
    pub output_buf: AtomicUsize,
    /// The connection's buffers as last counted into the server's client memory (tot-mem,
    /// maxmemory-clients).
    pub memory: AtomicUsize,
    /// Unix seconds since the client's output has been at or past its soft limit; 0 if not.
    pub obuf_soft_since: AtomicI64,
    pub meta: Mutex<ClientMeta>,
    pub killed: AtomicBool,
    pub kill: tokio::sync::Notify,
    /// Subscription counts shown by CLIENT LIST (sub, psub, ssub).
    pub subscriptions: [AtomicUsize; 3],
    /// Waiting in a blocking command (CLIENT LIST flag b).
    pub blocked: AtomicBool,
    /// CLIENT TRACKING on (CLIENT LIST flag t), in BCAST mode (flag B).
    pub tracking: AtomicBool,
    pub tracking_bcast: AtomicBool,
    /// In MONITOR mode (CLIENT LIST flag O).
    pub monitor: AtomicBool,
    /// Commands queued since MULTI, -1 outside MULTI (CLIENT LIST multi=, flag x).
    pub multi_queued: AtomicI64,
    /// Set by any change to a watched key; EXEC then fails (CLIENT LIST flag d). Replaced by
    /// a fresh flag when watches must be dropped later (see `transactions::abort_exec`).
    pub watch_dirty: Mutex<Arc<AtomicBool>>,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32, now_ms: i64) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            last_interaction_ms: AtomicI64::new(now_ms),
            db: AtomicU32::new(0),
            last_cmd: AtomicUsize::new(usize::MAX),
            query_buf: AtomicUsize::new(0),
            output_buf: AtomicUsize::new(0),
            memory: AtomicUsize::new(0),
            obuf_soft_since: AtomicI64::new(0),
            meta: Mutex::new(ClientMeta {
                resp: 2,
                user: b"default".to_vec(),
                ..ClientMeta::default()
            }),
            killed: AtomicBool::new(false),
            kill: tokio::sync::Notify::new(),
            subscriptions: Default::default(),
            blocked: AtomicBool::new(false),
            tracking: AtomicBool::new(false),
            tracking_bcast: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            multi_queued: AtomicI64::new(-1),
            watch_dirty: Mutex::new(Arc::new(AtomicBool::new(false))),
        }
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::Relaxed);
        self.kill.notify_one();
    }
}

/// A transaction being queued between MULTI and EXEC.
#[derive(Default)]
pub struct Multi {
    /// Command table index and arguments of each queued command.
    pub queued: Vec<(usize, OwnedArgs)>,
    /// A command was rejected while queuing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// State owned by the connection task.
pub struct Client {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    /// The ACL user the connection runs as (the default user until AUTH).
    pub user: Arc<crate::acl::User>,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub no_touch: bool,
    /// Close the connection once the pending replies are written (QUIT, protocol errors).
    pub close_after_reply: bool,
    pub multi: Option<Multi>,
    /// EXEC is running the queued commands (ACL LOG's "multi" context).
    pub in_exec: bool,
    /// Keys this client WATCHes, by database.
    pub watched: Vec<(usize, Vec<u8>)>,
    /// Subscribed channels, patterns and shard channels, in subscription order.
    pub subscribed: [Vec<Vec<u8>>; 3],
    /// Where PUBLISH delivers to this connection; created by the first subscription.
    pub mailbox: Option<Mailbox>,
    pub inbox: Option<UnboundedReceiver<Message>>,
    /// Set by a blocking command that found nothing: the connection waits on it before
    /// running anything else.
    pub blocked: Option<Arc<super::blocking::Waiter>>,
    /// CLIENT TRACKING options while tracking is on.
    pub tracking: Option<super::tracking::Options>,
    /// CLIENT CACHING yes|no: applies to the next command only.
    pub caching: Option<bool>,
    /// The client scripts' redis.call commands run as (Redis's Lua client).
    pub in_script: bool,
    /// Reused buffer of the writes a request executed, for the AOF.
    pub propagation: crate::persistence::aof::Propagation,
    /// The AOF offset that must be written (fsynced under appendfsync always) before this
    /// client's pending replies go out (0: none).
    pub aof_wait: u64,
    /// Used memory was over maxmemory when the current command started (scripts that have
    /// not written yet are refused denyoom commands, as Redis's pre_command_oom_state).
    pub oom_at_start: bool,
}

impl Client {
    pub fn new(info: Arc<ClientInfo>, user: Arc<crate::acl::User>, authenticated: bool) -> Client {
        Client {
            info,
            db: 0,
            user,
            authenticated,
            reply_mode: ReplyMode::On,
            no_touch: false,
            close_after_reply: false,
            multi: None,
            in_exec: false,
            watched: Vec::new(),
            subscribed: Default::default(),
            mailbox: None,
            inbox: None,
            blocked: None,
            tracking: None,
            caching: None,
            in_script: false,
            propagation: Default::default(),
            aof_wait: 0,
            oom_at_start: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    /// Ends the transaction (EXEC, DISCARD, RESET...): gone from CLIENT LIST's multi= too.
    pub fn end_multi(&mut self) -> Option<Multi> {
        self.info.multi_queued.store(-1, Ordering::Relaxed);
        self.multi.take()
    }

    /// The flag a change to any watched key sets.
    pub fn watch_flag(&self) -> Arc<AtomicBool> {
        self.info.watch_dirty.lock().clone()
    }

    /// Channels plus patterns (the count SUBSCRIBE and PSUBSCRIBE replies carry).
    pub fn subscription_count(&self) -> usize {
        self.subscribed[0].len() + self.subscribed[1].len()
    }

    /// In subscribed mode (RESP2 restricts the commands then).
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.iter().any(|s| !s.is_empty())
    }

    /// This connection's mailbox, created on first use.
    pub fn mailbox(&mut self) -> Mailbox {
        if let Some(m) = &self.mailbox {
            return m.clone();
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let m = Mailbox {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            info: self.info.clone(),
        };
        self.mailbox = Some(m.clone());
        self.inbox = Some(rx);
        m
    }

    /// Connected over loopback (for the "local" setting of enable-debug-command).
    pub fn is_local(&self) -> bool {
        self.info
            .addr
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback())
    }

    /// Runs as `user` from now on (AUTH, HELLO AUTH, RESET); CLIENT LIST shows its name.
    pub fn set_user(&mut self, user: Arc<crate::acl::User>) {
        self.info.meta.lock().user = user.name.clone();
        self.user = user;
        self.authenticated = true;
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db as u32, Ordering::Relaxed);
    }

    pub fn set_resp(&self, v: RespVersion) {
        self.info.meta.lock().resp = match v {
            RespVersion::Resp2 => 2,
            RespVersion::Resp3 => 3,
        };
    }
}
