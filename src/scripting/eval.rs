//! EVAL, EVALSHA and their _RO forms, and the script cache SCRIPT manages.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use mlua::{Function, MultiValue};

use super::engine::{ALLOW_OOM, FLAG_NAMES, LuaState, Mode, NO_WRITES, sha1_hex};
use super::{Invocation, Scripting};
use crate::commands::Ctx;
use crate::protocol::Args;

pub struct EvalEngine {
    pub lua: LuaState,
    scripts: HashMap<String, Script>,
    cache_bytes: u64,
    runs: u64,
}

struct Script {
    func: Function,
    /// Shebang flags; None for a script without a shebang (Redis's compatibility mode).
    flags: Option<u32>,
}

/// Bytes Redis accounts per cached script besides its body (the sha and object headers).
const SCRIPT_OVERHEAD: u64 = 64;

impl EvalEngine {
    pub fn new(rand: Arc<AtomicU64>, killed: Arc<AtomicBool>) -> EvalEngine {
        EvalEngine {
            lua: LuaState::new(Mode::Eval, rand, killed),
            scripts: HashMap::new(),
            cache_bytes: 0,
            runs: 0,
        }
    }

    pub fn cache_bytes(&self) -> u64 {
        self.cache_bytes
    }

    pub fn cached_scripts(&self) -> usize {
        self.scripts.len()
    }

    /// Compiles `body` into the cache (unless it is there already); returns its sha or the
    /// error text (without its "ERR " code).
    fn load(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = parse_shebang(body)?;
        // The shebang line is skipped but its newline kept, so line numbers stay the user's.
        let func = self
            .lua
            .compile(&body[skip..], "@user_script")
            .map_err(|m| format!("Error compiling script (new function): {m}"))?;
        self.cache_bytes += SCRIPT_OVERHEAD + body.len() as u64;
        self.scripts.insert(sha.clone(), Script { func, flags });
        Ok(sha)
    }

    fn after_run(&mut self) {
        // Like Redis: a small incremental GC step every 50 runs keeps full cycles rare.
        self.runs += 1;
        if self.runs.is_multiple_of(50) {
            let _ = self.lua.lua.gc_step_kbytes(50);
        }
    }
}

/// `#!lua [flags=a,b]` on the first line: (flags, length of the line). No shebang: (None, 0).
fn parse_shebang(body: &[u8]) -> Result<(Option<u32>, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((None, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = split_args(&body[..end]).ok_or("Invalid engine in script shebang")?;
    let Some(engine) = parts.first() else {
        return Err("Invalid engine in script shebang".into());
    };
    if engine.as_slice() != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut flags = 0;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&c| c == b',') {
            let Some((f, _)) = FLAG_NAMES.iter().find(|(_, n)| n.as_bytes() == name) else {
                return Err(format!(
                    "Unexpected flag in script shebang: {}",
                    String::from_utf8_lossy(name)
                ));
            };
            flags |= f;
        }
    }
    Ok((Some(flags), end))
}

/// Splits a line as Redis's sdssplitargs does (quotes and escapes); None if unbalanced.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut bounds = Vec::new();
    if !crate::protocol::parse::split_args(line, &mut out, &mut bounds) {
        return None;
    }
    Some(bounds.into_iter().map(|r| out[r].to_vec()).collect())
}

/// The cache key of a sha given by a client (SHAs are matched case-insensitively).
fn sha_key(sha: &[u8]) -> Option<String> {
    (sha.len() == 40).then(|| String::from_utf8_lossy(sha).to_ascii_lowercase())
}

/// Parses `numkeys` of EVAL-like commands (argument 2): the keys then follow it.
pub fn numkeys(ctx: &mut Ctx, args: &Args, not_int: &str) -> Option<usize> {
    let Some(n) = crate::util::num::parse_i64(args.get(2)) else {
        ctx.reply.error(not_int);
        return None;
    };
    if n > args.len() as i64 - 3 {
        ctx.reply
            .error("ERR Number of keys can't be greater than number of args");
        return None;
    }
    if n < 0 {
        ctx.reply.error("ERR Number of keys can't be negative");
        return None;
    }
    Some(n as usize)
}

impl Scripting {
    /// EVAL / EVALSHA (`by_sha`) and their _RO forms (`read_only`).
    pub fn eval(&self, ctx: &mut Ctx, args: Args, by_sha: bool, read_only: bool) {
        let Some(nkeys) = numkeys(ctx, &args, crate::commands::NOT_INT) else {
            return;
        };
        let mut engine = self.eval.lock();
        let sha = if by_sha {
            match sha_key(args.get(1)).filter(|s| engine.scripts.contains_key(s)) {
                Some(sha) => sha,
                None => {
                    return ctx
                        .reply
                        .error("NOSCRIPT No matching script. Please use EVAL.");
                }
            }
        } else {
            match engine.load(args.get(1)) {
                Ok(sha) => sha,
                Err(msg) => return ctx.reply.error(&format!("ERR {msg}")),
            }
        };
        let script = &engine.scripts[&sha];
        let (func, flags) = (script.func.clone(), script.flags);
        if read_only && flags.is_some_and(|f| f & NO_WRITES == 0) {
            return ctx
                .reply
                .error("ERR Can not execute a script with write flag using *_ro command.");
        }
        // A script that declares flags and may write is refused over maxmemory unless allow-oom.
        if ctx.client.oom_at_start && flags.is_some_and(|f| f & (ALLOW_OOM | NO_WRITES) == 0) {
            return ctx.reply.error(crate::commands::OOM_ERR);
        }
        let keys: Vec<&[u8]> = (3..3 + nkeys).map(|i| args.get(i)).collect();
        let argv: Vec<&[u8]> = (3 + nkeys..args.len()).map(|i| args.get(i)).collect();
        if let Err(e) = engine.lua.set_keys_and_args(&keys, &argv) {
            return ctx.reply.error(&format!("ERR {e}"));
        }
        let inv = Invocation {
            eval: true,
            name: &sha,
            command_name: args.get(0),
            read_only: read_only || flags.is_some_and(|f| f & NO_WRITES != 0),
            allow_oom: flags.is_some_and(|f| f & ALLOW_OOM != 0),
            command: Vec::new(),
        };
        self.execute(ctx, &engine.lua, &func, MultiValue::new(), inv);
        engine.after_run();
        self.note_eval_memory(&engine);
    }

    /// SCRIPT LOAD: the sha, or the error text.
    pub fn script_load(&self, body: &[u8]) -> Result<String, String> {
        let mut engine = self.eval.lock();
        let r = engine.load(body);
        self.note_eval_memory(&engine);
        r.map_err(|m| format!("ERR {m}"))
    }

    pub fn script_exists(&self, sha: &[u8]) -> bool {
        sha_key(sha).is_some_and(|k| self.eval.lock().scripts.contains_key(&k))
    }

    /// SCRIPT FLUSH: a fresh Lua state without cached scripts, as Redis resets its interpreter.
    pub fn script_flush(&self) {
        let mut engine = self.eval.lock();
        *engine = EvalEngine::new(self.rand.clone(), self.run.killed.clone());
        self.note_eval_memory(&engine);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(parse_shebang(b"return 1"), Ok((None, 0)));
        assert_eq!(parse_shebang(b"#!lua\nreturn 1"), Ok((Some(0), 5)));
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,allow-oom\nx"),
            Ok((Some(NO_WRITES | 2), 31))
        );
        assert_eq!(parse_shebang(b"#!lua flags=\nx"), Ok((Some(0), 12)));
        assert_eq!(
            parse_shebang(b"#!lua"),
            Err("Invalid script shebang".to_string())
        );
        assert_eq!(
            parse_shebang(b"#!lua2\nx"),
            Err("Unexpected engine in script shebang: #!lua2".to_string())
        );
        assert_eq!(
            parse_shebang(b"#!lua flags=bogus\nx"),
            Err("Unexpected flag in script shebang: bogus".to_string())
        );
        assert_eq!(
            parse_shebang(b"#!lua name=x\nx"),
            Err("Unknown lua shebang option: name=x".to_string())
        );
    }
}
