//! FUNCTION libraries and FCALL: `#!lua name=<lib>` code whose top level registers functions
//! with redis.register_function, kept in their own Lua state.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use mlua::{MultiValue, Value};

use super::busy::{EVAL_BUSY, Running};
use super::dump;
use super::engine::{ALLOW_OOM, FLAG_NAMES, LuaState, Mode, NO_WRITES, Registered};
use super::eval::{numkeys, split_args};
use super::{Invocation, Scripting};
use crate::commands::Ctx;
use crate::protocol::{Args, Reply};

/// Library code gets this long to register its functions (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

pub struct FunctionEngine {
    pub lua: LuaState,
    libraries: Libraries,
    runs: u64,
}

/// Libraries by name, and their functions by lower-case name (function names are matched
/// case-insensitively, library names exactly).
#[derive(Default)]
struct Libraries {
    by_name: BTreeMap<String, Library>,
    functions: HashMap<String, String>,
}

struct Library {
    name: String,
    code: Vec<u8>,
    functions: BTreeMap<String, Registered>,
}

/// How FUNCTION RESTORE treats the libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}

impl Libraries {
    fn function(&self, name: &[u8]) -> Option<&Registered> {
        let lib = self
            .functions
            .get(&String::from_utf8_lossy(name).to_ascii_lowercase())?;
        let lib = &self.by_name[lib];
        lib.functions
            .values()
            .find(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.by_name.remove(name)?;
        for f in lib.functions.keys() {
            self.functions.remove(&f.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// The first of `lib`'s functions that another loaded library already has.
    fn collision<'l>(&self, lib: &'l Library) -> Option<&'l str> {
        lib.functions
            .keys()
            .find(|f| self.functions.contains_key(&f.to_ascii_lowercase()))
            .map(String::as_str)
    }

    fn link(&mut self, lib: Library) {
        for f in lib.functions.keys() {
            self.functions
                .insert(f.to_ascii_lowercase(), lib.name.clone());
        }
        self.by_name.insert(lib.name.clone(), lib);
    }

    /// Adds a new library, replacing one of the same name if `replace` (Redis's
    /// functionsCreateWithLibraryCtx after the code ran).
    fn add(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        if !replace && self.by_name.contains_key(&lib.name) {
            return Err(format!("Library '{}' already exists", lib.name));
        }
        let old = self.unlink(&lib.name);
        if let Some(f) = self.collision(&lib) {
            let err = format!("Function {f} already exists");
            if let Some(old) = old {
                self.link(old);
            }
            return Err(err);
        }
        self.link(lib);
        Ok(())
    }

    /// Moves `other`'s libraries in (FUNCTION RESTORE APPEND / REPLACE); all or nothing.
    fn join(&mut self, other: Libraries, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        for name in other.by_name.keys() {
            if self.by_name.contains_key(name) {
                if !replace {
                    return Err(format!("Library {name} already exists"));
                }
                replaced.extend(self.unlink(name));
            }
        }
        if let Some(f) = other.by_name.values().find_map(|l| self.collision(l)) {
            let err = format!("Function {f} already exists");
            for old in replaced {
                self.link(old);
            }
            return Err(err);
        }
        for lib in other.by_name.into_values() {
            self.link(lib);
        }
        Ok(())
    }
}

/// The library name and the code after its `#!<engine> name=<name>` line.
struct Metadata<'c> {
    engine: Vec<u8>,
    name: Vec<u8>,
    code: &'c [u8],
}

fn parse_metadata(payload: &[u8]) -> Result<Metadata<'_>, String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = payload.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match split_args(&payload[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let name = name.ok_or("Library name was not given")?;
    Ok(Metadata {
        engine: parts[0][2..].to_vec(),
        name,
        code: &payload[end..],
    })
}

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

impl FunctionEngine {
    pub fn new(rand: Arc<AtomicU64>, killed: Arc<AtomicBool>) -> FunctionEngine {
        FunctionEngine {
            lua: LuaState::new(Mode::Function, rand, killed),
            libraries: Libraries::default(),
            runs: 0,
        }
    }

    pub fn function_count(&self) -> usize {
        self.libraries.functions.len()
    }

    pub fn library_count(&self) -> usize {
        self.libraries.by_name.len()
    }

    /// Bookkeeping bytes of the libraries (code and names), INFO's used_memory_functions.
    pub fn overhead_bytes(&self) -> u64 {
        self.libraries
            .by_name
            .values()
            .map(|l| {
                let fns: usize = l
                    .functions
                    .values()
                    .map(|f| 64 + f.name.len() + f.description.as_ref().map_or(0, Vec::len))
                    .sum();
                (64 + l.name.len() + l.code.len() + fns) as u64
            })
            .sum()
    }

    /// Runs library code and builds the library; `existing` says which libraries are loaded
    /// already (for the "already exists" check before the code runs).
    fn create(
        &self,
        code: &[u8],
        replace: bool,
        existing: &Libraries,
        timeout: Option<Duration>,
    ) -> Result<Library, String> {
        let md = parse_metadata(code)?;
        if !valid_name(&md.name) {
            return Err(BAD_NAME.into());
        }
        if !md.engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!(
                "Engine '{}' not found",
                String::from_utf8_lossy(&md.engine)
            ));
        }
        let name = String::from_utf8_lossy(&md.name).into_owned();
        if !replace && existing.by_name.contains_key(&name) {
            return Err(format!("Library '{name}' already exists"));
        }
        let registered = self.lua.load_library(md.code, timeout)?;
        if registered.is_empty() {
            return Err("No functions registered".into());
        }
        Ok(Library {
            name,
            code: code.to_vec(),
            functions: registered
                .into_iter()
                .map(|f| (f.name.clone(), f))
                .collect(),
        })
    }
}

impl Scripting {
    /// FCALL / FCALL_RO (`read_only`).
    pub fn fcall(&self, ctx: &mut Ctx, args: Args, read_only: bool) {
        let mut engine = self.functions.lock();
        let Some(f) = engine.libraries.function(args.get(1)) else {
            return ctx.reply.error("ERR Function not found");
        };
        let Some(nkeys) = numkeys(ctx, &args, "ERR Bad number of keys provided") else {
            return;
        };
        if read_only && f.flags & NO_WRITES == 0 {
            return ctx
                .reply
                .error("ERR Can not execute a script with write flag using *_ro command.");
        }
        if ctx.client.oom_at_start && f.flags & (ALLOW_OOM | NO_WRITES) == 0 {
            return ctx.reply.error(crate::commands::OOM_ERR);
        }
        let keys: Vec<&[u8]> = (3..3 + nkeys).map(|i| args.get(i)).collect();
        let argv: Vec<&[u8]> = (3 + nkeys..args.len()).map(|i| args.get(i)).collect();
        let params = match (engine.lua.strings(&keys), engine.lua.strings(&argv)) {
            (Ok(k), Ok(a)) => MultiValue::from(vec![Value::Table(k), Value::Table(a)]),
            (Err(e), _) | (_, Err(e)) => return ctx.reply.error(&format!("ERR {e}")),
        };
        let (callback, name) = (f.callback.clone(), f.name.clone());
        let inv = Invocation {
            eval: false,
            name: &name,
            command_name: args.get(0),
            read_only: read_only || f.flags & NO_WRITES != 0,
            allow_oom: f.flags & ALLOW_OOM != 0,
            command: args.to_owned_vec(),
        };
        self.execute(ctx, &engine.lua, &callback, params, inv);
        engine.runs += 1;
        if engine.runs.is_multiple_of(50) {
            let _ = engine.lua.lua.gc_step_kbytes(50);
        }
        self.note_function_memory(&engine);
    }

    /// FUNCTION LOAD: the library name, or the error text.
    pub fn function_load(&self, code: &[u8], replace: bool) -> Result<String, String> {
        let mut engine = self.functions.lock();
        let lib = engine.create(code, replace, &engine.libraries, Some(LOAD_TIMEOUT))?;
        let name = lib.name.clone();
        let r = engine.libraries.add(lib, replace);
        self.note_function_memory(&engine);
        r.map(|()| name)
    }

    pub fn function_delete(&self, name: &[u8]) -> bool {
        let mut engine = self.functions.lock();
        let found = engine
            .libraries
            .unlink(&String::from_utf8_lossy(name))
            .is_some();
        self.note_function_memory(&engine);
        found
    }

    /// FUNCTION FLUSH: no libraries, and a fresh Lua state, as Redis recreates its engine.
    pub fn function_flush(&self) {
        let mut engine = self.functions.lock();
        *engine = FunctionEngine::new(self.rand.clone(), self.run.killed.clone());
        self.note_function_memory(&engine);
    }

    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
    pub fn function_list(&self, reply: &mut Reply, pattern: Option<&[u8]>, with_code: bool) {
        let engine = self.functions.lock();
        let libs: Vec<&Library> = engine
            .libraries
            .by_name
            .values()
            .filter(|l| {
                pattern.is_none_or(|p| crate::util::glob::glob_match(p, l.name.as_bytes(), true))
            })
            .collect();
        reply.array(libs.len());
        for lib in libs {
            reply.map(if with_code { 4 } else { 3 });
            reply.bulk(b"library_name");
            reply.bulk(lib.name.as_bytes());
            reply.bulk(b"engine");
            reply.bulk(b"LUA");
            reply.bulk(b"functions");
            reply.array(lib.functions.len());
            for f in lib.functions.values() {
                reply.map(3);
                reply.bulk(b"name");
                reply.bulk(f.name.as_bytes());
                reply.bulk(b"description");
                reply.bulk_or_null(f.description.as_deref());
                reply.bulk(b"flags");
                let flags: Vec<&str> = FLAG_NAMES
                    .iter()
                    .filter(|(bit, _)| f.flags & bit != 0)
                    .map(|(_, n)| *n)
                    .collect();
                reply.set(flags.len());
                for n in flags {
                    reply.simple(n.as_bytes());
                }
            }
            if with_code {
                reply.bulk(b"library_code");
                reply.bulk(&lib.code);
            }
        }
    }

    /// FUNCTION STATS.
    pub fn function_stats(&self, reply: &mut Reply) {
        let busy_eval = self.run.with_running(|r| r.is_some_and(|r| r.eval));
        if busy_eval {
            return reply.error(EVAL_BUSY);
        }
        reply.map(2);
        reply.bulk(b"running_script");
        self.run.with_running(|r| match r {
            None => reply.null(),
            Some(Running {
                name,
                command,
                started,
                ..
            }) => {
                reply.map(3);
                reply.bulk(b"name");
                reply.bulk(name.as_bytes());
                reply.bulk(b"command");
                reply.array(command.len());
                for a in command {
                    reply.bulk(a);
                }
                reply.bulk(b"duration_ms");
                reply.int(started.elapsed().as_millis() as i64);
            }
        });
        let m = self.memory();
        reply.bulk(b"engines");
        reply.map(1);
        reply.bulk(b"LUA");
        reply.map(2);
        reply.bulk(b"libraries_count");
        reply.int(m.libraries as i64);
        reply.bulk(b"functions_count");
        reply.int(m.functions as i64);
    }

    /// The code of every library, for a rewritten AOF base (FUNCTION LOAD commands).
    pub fn function_codes(&self) -> Vec<Vec<u8>> {
        let engine = self.functions.lock();
        engine
            .libraries
            .by_name
            .values()
            .map(|l| l.code.clone())
            .collect()
    }

    /// FUNCTION DUMP.
    pub fn function_dump(&self) -> Vec<u8> {
        let engine = self.functions.lock();
        dump::encode(engine.libraries.by_name.values().map(|l| l.code.as_slice()))
    }

    /// FUNCTION RESTORE: OK or the error text.
    pub fn function_restore(&self, payload: &[u8], policy: RestorePolicy) -> Result<(), String> {
        let codes = dump::decode(payload)?;
        let mut engine = self.functions.lock();
        let mut restored = Libraries::default();
        for code in &codes {
            let lib = engine.create(code, false, &restored, None)?;
            restored.add(lib, false)?;
        }
        let r = if policy == RestorePolicy::Flush {
            engine.libraries = restored;
            Ok(())
        } else {
            engine
                .libraries
                .join(restored, policy == RestorePolicy::Replace)
        };
        self.note_function_memory(&engine);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata() {
        let md = parse_metadata(b"#!lua name=lib\nbody").unwrap();
        assert_eq!(
            (md.engine.as_slice(), md.name.as_slice(), md.code),
            (&b"lua"[..], &b"lib"[..], &b"\nbody"[..])
        );
        assert_eq!(
            parse_metadata(b"lua").err().unwrap(),
            "Missing library metadata"
        );
        assert_eq!(
            parse_metadata(b"#!lua name=x").err().unwrap(),
            "Invalid library metadata"
        );
        assert_eq!(
            parse_metadata(b"#!lua\n").err().unwrap(),
            "Library name was not given"
        );
        assert_eq!(
            parse_metadata(b"#!lua name=a NAME=b\n").err().unwrap(),
            "Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(
            parse_metadata(b"#!lua foo=bar\n").err().unwrap(),
            "Invalid metadata value given: foo=bar"
        );
    }
}
