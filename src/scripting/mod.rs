//! Lua scripting and functions (Redis 7.0's EVAL family, SCRIPT, FUNCTION, FCALL).
//!
//! A script runs inside its command's handler, holding every keyspace shard (EVAL and FCALL
//! carry `ALL_SHARDS`), so it is atomic over all keys, including those it names at run time.
//! Its redis.call commands go through the dispatcher's `run` against that same view
//! (`call.rs`), so notifications, WATCH, tracking and blocked clients see its writes as any
//! command's. The Lua states, their sandbox and the redis.* API are in `engine.rs`; what other
//! clients see while a script runs (BUSY, SCRIPT KILL) is in `busy.rs`.

pub mod busy;
mod call;
pub mod convert;
mod dump;
pub mod engine;
mod eval;
mod functions;
pub mod libs;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mlua::{Function, MultiValue, Table, Value};
use parking_lot::Mutex;

use crate::commands::Ctx;
use crate::commands::table::CommandSpec;
use crate::server::Server;
use crate::server::client::Client;
use busy::{Announcement, RunState, Running};
use call::ScriptHost;
use convert::ReplyWriter;
use engine::LuaState;
pub use functions::RestorePolicy;

pub struct Scripting {
    pub run: RunState,
    eval: Mutex<eval::EvalEngine>,
    functions: Mutex<functions::FunctionEngine>,
    /// Redis's math.random generator, shared by every script and function.
    rand: Arc<AtomicU64>,
    mem: Memory,
}

/// Sizes for INFO memory, updated after each change so INFO never waits for a running script.
#[derive(Default)]
struct Memory {
    vm_eval: AtomicU64,
    scripts_eval: AtomicU64,
    cached_scripts: AtomicU64,
    vm_functions: AtomicU64,
    functions_overhead: AtomicU64,
    functions: AtomicU64,
    libraries: AtomicU64,
}

/// INFO memory's scripting fields.
pub struct MemoryReport {
    pub vm_eval: u64,
    pub scripts_eval: u64,
    pub cached_scripts: u64,
    pub vm_functions: u64,
    pub functions_overhead: u64,
    pub functions: u64,
    pub libraries: u64,
}

impl Default for Scripting {
    fn default() -> Self {
        Scripting::new()
    }
}

impl Scripting {
    pub fn new() -> Scripting {
        let rand = Arc::new(AtomicU64::new(engine::RAND48_SEED));
        let run = RunState::default();
        let eval = eval::EvalEngine::new(rand.clone(), run.killed.clone());
        let functions = functions::FunctionEngine::new(rand.clone(), run.killed.clone());
        let s = Scripting {
            run,
            eval: Mutex::new(eval),
            functions: Mutex::new(functions),
            rand,
            mem: Memory::default(),
        };
        s.note_eval_memory(&s.eval.lock());
        s.note_function_memory(&s.functions.lock());
        s
    }

    pub fn memory(&self) -> MemoryReport {
        let m = &self.mem;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MemoryReport {
            vm_eval: get(&m.vm_eval),
            scripts_eval: get(&m.scripts_eval),
            cached_scripts: get(&m.cached_scripts),
            vm_functions: get(&m.vm_functions),
            functions_overhead: get(&m.functions_overhead),
            functions: get(&m.functions),
            libraries: get(&m.libraries),
        }
    }

    fn note_eval_memory(&self, e: &eval::EvalEngine) {
        let m = &self.mem;
        m.vm_eval.store(e.lua.used_memory(), Ordering::Relaxed);
        m.scripts_eval.store(e.cache_bytes(), Ordering::Relaxed);
        m.cached_scripts
            .store(e.cached_scripts() as u64, Ordering::Relaxed);
    }

    fn note_function_memory(&self, f: &functions::FunctionEngine) {
        let m = &self.mem;
        m.vm_functions.store(f.lua.used_memory(), Ordering::Relaxed);
        m.functions_overhead
            .store(f.overhead_bytes(), Ordering::Relaxed);
        m.functions
            .store(f.function_count() as u64, Ordering::Relaxed);
        m.libraries
            .store(f.library_count() as u64, Ordering::Relaxed);
    }

    /// Runs `f` for the command in `ctx` and writes its reply (or error) there.
    fn execute(
        &self,
        ctx: &mut Ctx,
        lua: &LuaState,
        f: &Function,
        params: MultiValue,
        inv: Invocation,
    ) {
        let threshold = ctx.server.hot.busy_reply_threshold.load(Ordering::Relaxed);
        let caller_db = ctx.ks.db;
        // Effects replication: the script's writes reach the AOF one by one, not the script.
        ctx.propagate_effects_only();
        let _running = self.run.start(Running {
            started: std::time::Instant::now(),
            eval: inv.eval,
            name: inv.name.to_string(),
            command: inv.command,
        });
        let mut host = ScriptHost::new(ctx, inv.read_only, inv.allow_oom, &self.run.wrote);
        // In place: a long script lets its worker go from its Lua hook (busy::release_worker).
        let outcome = lua.run(&mut host, f, threshold > 0, params);
        let script_resp3 = host.resp3;
        drop(host);
        // SELECT inside a script does not change the caller's database.
        ctx.ks.db = caller_db;
        let mut w = ReplyWriter {
            reply: ctx.reply,
            script_resp3,
            uncounted_error: false,
        };
        let written = match outcome {
            Ok((true, v)) => w.write(&v),
            Ok((false, Value::Table(e))) => script_error(lua, &mut w, &e, inv.name),
            Ok((false, other)) => {
                w.error(format!("ERR {other:?}").as_bytes(), true);
                Ok(())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            w.error(
                format!("ERR Error running script {}, {e}", inv.name).as_bytes(),
                true,
            );
        }
        if w.uncounted_error {
            // The error was counted when the script's command failed; the script's own
            // command still counts as failed, as in Redis.
            if let Some((_, index)) = ctx.server.commands.lookup(inv.command_name) {
                ctx.server
                    .commands
                    .stats(index)
                    .failed
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What runs: for BUSY, FUNCTION STATS and error messages.
struct Invocation<'s> {
    eval: bool,
    /// The script's sha or the function's name.
    name: &'s str,
    command_name: &'s [u8],
    read_only: bool,
    /// allow-oom: denyoom commands run even when the script started over maxmemory.
    allow_oom: bool,
    /// The caller's command line (FUNCTION STATS shows it; not kept for EVAL).
    command: Vec<Vec<u8>>,
}

/// The error reply of a failed run: the error, and where in the script it was raised.
fn script_error(lua: &LuaState, w: &mut ReplyWriter, e: &Table, name: &str) -> mlua::Result<()> {
    let text = |v: Value| -> mlua::Result<Option<Vec<u8>>> {
        Ok(match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                lua.lua.coerce_string(v)?.map(|s| s.as_bytes().to_vec())
            }
            _ => None,
        })
    };
    // Redis crashes on an error table without a message; say something instead.
    let mut msg = text(e.get("err")?)?.unwrap_or_else(|| b"ERR unknown error".to_vec());
    if let (Some(source), Some(line)) = (text(e.get("source")?)?, text(e.get("line")?)?) {
        msg.extend_from_slice(format!(" script: {name}, on ").as_bytes());
        msg.extend_from_slice(&source);
        msg.push(b':');
        msg.extend_from_slice(&line);
        msg.push(b'.');
    }
    let counted = !matches!(
        e.get::<Value>("ignore_error_stats_update")?,
        Value::Boolean(true)
    );
    w.error(&msg, counted);
    Ok(())
}

/// The commands that run a script.
pub fn runs_script(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// Announces a command that will run a script (directly, or queued in the transaction EXEC
/// runs), before it locks the keyspace: from then on other clients wait at the gate.
pub fn announce<'s>(
    server: &'s Server,
    spec: &CommandSpec,
    client: &Client,
) -> Option<Announcement<'s>> {
    let script = runs_script(spec)
        || (spec.name == "exec"
            && client.multi.as_ref().is_some_and(|m| {
                m.queued
                    .iter()
                    .any(|(i, _)| runs_script(server.commands.spec_at(*i)))
            }));
    script.then(|| server.scripting.run.announce())
}
