//! One Lua 5.1 state with Redis's sandbox and redis.* API (`sandbox.lua` plus the functions
//! below, written in Rust). EVAL scripts and FUNCTION libraries each get their own state, as in
//! Redis.
//!
//! Functions that need the running command (redis.call, redis.setresp...) reach it through a
//! `Host` installed for the duration of a run. Errors they raise go through a registry slot:
//! mlua raises Rust errors as userdata, and the sandbox swaps that userdata for the Lua value
//! stashed here (an error table, or a message with its script position), so scripts and the
//! error replies see exactly what Redis raises.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mlua::{ChunkMode, Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use super::convert::{as_number, error_table};

const SANDBOX: &str = include_str!("sandbox.lua");
const RAISED: &str = "ferrodis.raised";

/// What the running script acts on (see `call::ScriptHost`).
pub trait Host {
    /// redis.call (`raise`) / redis.pcall.
    fn call(&mut self, lua: &Lua, args: MultiValue, raise: bool) -> mlua::Result<Value>;
    /// redis.setresp.
    fn set_resp3(&mut self, resp3: bool);
    /// redis.acl_check_cmd: whether the calling user may run the command the arguments name;
    /// None when they name no command.
    fn acl_check(&self, argv: &[Vec<u8>]) -> Option<bool>;
}

/// A function registered by redis.register_function during FUNCTION LOAD.
pub struct Registered {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: u32,
    pub callback: Function,
}

// Script flags (shebang `flags=` and register_function's `flags`), in Redis's order.
pub const NO_WRITES: u32 = 1;
pub const ALLOW_OOM: u32 = 2;
pub const ALLOW_STALE: u32 = 4;
pub const NO_CLUSTER: u32 = 8;
pub const ALLOW_CROSS_SLOT_KEYS: u32 = 16;

pub const FLAG_NAMES: &[(u32, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT_KEYS, "allow-cross-slot-keys"),
];

/// State shared between the engine and its Rust functions (mlua app data).
struct Natives {
    host: Cell<Option<*mut (dyn Host + 'static)>>,
    /// Redis's rand48 state: one generator for all scripts, never reseeded but by
    /// math.randomseed.
    rand: Arc<AtomicU64>,
    killed: Arc<AtomicBool>,
    load_deadline: Cell<Option<Instant>>,
    /// Functions registered by the library being loaded (None outside FUNCTION LOAD).
    loading: RefCell<Option<Vec<Registered>>>,
}

// SAFETY: the host pointer and the cells are only used by the thread that holds the engine's
// mutex, during a call into this Lua state; the engine is never used without that mutex.
unsafe impl Send for Natives {}
// SAFETY: as above: never accessed from two threads at once.
unsafe impl Sync for Natives {}

pub struct LuaState {
    pub lua: Lua,
    natives: Arc<Natives>,
    internal: Table,
    /// The real global table (KEYS and ARGV are set there).
    store: Table,
    /// What scripts see as their globals.
    globals: Table,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Eval,
    Function,
}

/// The initial state of Redis's rand48 generator.
pub const RAND48_SEED: u64 = 0x1234_ABCD_330E;

impl LuaState {
    pub fn new(mode: Mode, rand: Arc<AtomicU64>, killed: Arc<AtomicBool>) -> LuaState {
        // SAFETY: the debug library is needed by the sandbox, which removes it from the globals
        // before any script runs; no C modules can be loaded (no package library).
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::default(),
            )
        };
        let natives = Arc::new(Natives {
            host: Cell::new(None),
            rand,
            killed,
            load_deadline: Cell::new(None),
            loading: RefCell::new(None),
        });
        lua.set_app_data(natives.clone());
        super::libs::register_all(&lua).expect("loading cjson, struct, cmsgpack and bit");
        let native = native_table(&lua).expect("creating the redis API");
        let mode_name = match mode {
            Mode::Eval => "eval",
            Mode::Function => "function",
        };
        let internal: Table = lua
            .load(SANDBOX)
            .set_name("=ferrodis")
            .call((native, mode_name))
            .expect("the Lua sandbox loads");
        let store = internal.get("store").expect("sandbox store");
        let globals = internal.get("globals").expect("sandbox globals");
        LuaState {
            lua,
            natives,
            internal,
            store,
            globals,
        }
    }

    /// Compiles script text (never bytecode) as a function whose globals are the sandbox's.
    pub fn compile(&self, code: &[u8], chunkname: &str) -> Result<Function, String> {
        let source: std::borrow::Cow<[u8]> = if code.first() == Some(&27) {
            // A precompiled chunk is parsed as text, and fails there, as in Redis.
            let mut s = Vec::with_capacity(code.len() + 1);
            s.push(b' ');
            s.extend_from_slice(code);
            s.into()
        } else {
            code.into()
        };
        self.lua
            .load(source.as_ref())
            .set_name(chunkname)
            .set_mode(ChunkMode::Text)
            .set_environment(self.globals.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Sets the KEYS and ARGV globals of EVAL scripts.
    pub fn set_keys_and_args(&self, keys: &[&[u8]], args: &[&[u8]]) -> mlua::Result<()> {
        self.store.raw_set("KEYS", self.strings(keys)?)?;
        self.store.raw_set("ARGV", self.strings(args)?)
    }

    pub fn strings(&self, items: &[&[u8]]) -> mlua::Result<Table> {
        let t = self.lua.create_table_with_capacity(items.len(), 0)?;
        for (i, s) in items.iter().enumerate() {
            t.raw_set(i + 1, self.lua.create_string(s)?)?;
        }
        Ok(t)
    }

    /// Runs `f` (with `params` as its arguments) while `host` serves the redis.* functions.
    /// Returns whether it succeeded and its first result, or its error table.
    pub fn run(
        &self,
        host: &mut dyn Host,
        f: &Function,
        killable: bool,
        params: MultiValue,
    ) -> mlua::Result<(bool, Value)> {
        self.lua.set_named_registry_value(RAISED, Value::Nil)?;
        let ptr: *mut (dyn Host + '_) = host;
        // SAFETY: only the lifetime is erased. The pointer is cleared by `_clear` before `host`
        // goes out of scope, and the natives dereference it only during the call below, on
        // this thread, one at a time (nothing a script calls can re-enter the engine).
        let ptr: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(ptr) };
        self.natives.host.set(Some(ptr));
        struct Clear<'a>(&'a Cell<Option<*mut (dyn Host + 'static)>>);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0.set(None);
            }
        }
        let _clear = Clear(&self.natives.host);
        let run: Function = self.internal.get("run")?;
        let mut call_args = MultiValue::new();
        call_args.push_back(Value::Function(f.clone()));
        call_args.push_back(Value::Boolean(killable));
        call_args.extend(params);
        run.call(call_args)
    }

    /// Runs FUNCTION LOAD's library code; returns what it registered, or the error message.
    pub fn load_library(
        &self,
        code: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<Registered>, String> {
        let f = self
            .compile(code, "@user_function")
            .map_err(|m| format!("Error compiling function: {m}"))?;
        self.lua
            .set_named_registry_value(RAISED, Value::Nil)
            .map_err(|e| e.to_string())?;
        self.natives.loading.replace(Some(Vec::new()));
        self.natives
            .load_deadline
            .set(timeout.map(|t| Instant::now() + t));
        let load: mlua::Result<Option<mlua::String>> = self
            .internal
            .get::<Function>("load")
            .and_then(|l| l.call(f));
        let registered = self.natives.loading.take().unwrap_or_default();
        match load {
            Ok(None) => Ok(registered),
            Ok(Some(msg)) => Err(format!(
                "Error registering functions: {}",
                msg.to_string_lossy()
            )),
            Err(e) => Err(format!("Error registering functions: ERR {e}")),
        }
    }

    pub fn used_memory(&self) -> u64 {
        self.lua.used_memory() as u64
    }
}

fn natives(lua: &Lua) -> Arc<Natives> {
    lua.app_data_ref::<Arc<Natives>>()
        .expect("engine natives")
        .clone()
}

/// Raises `v` as the Lua error (see the module comment).
pub(super) fn raise<T>(lua: &Lua, v: impl mlua::IntoLua) -> mlua::Result<T> {
    lua.set_named_registry_value(RAISED, v)?;
    Err(mlua::Error::RuntimeError("script error".into()))
}

/// Raises `{err = "ERR <msg>"}`, as Redis's luaPushError + lua_error.
fn raise_err<T>(lua: &Lua, msg: &str) -> mlua::Result<T> {
    raise(lua, error_table(lua, msg.as_bytes())?)
}

/// Raises a message prefixed with the caller's position, as luaL_error does.
fn raise_where<T>(lua: &Lua, msg: &str) -> mlua::Result<T> {
    let mut text = String::new();
    if let Some(d) = lua.inspect_stack(1) {
        let line = d.curr_line();
        if line > 0
            && let Some(src) = d.source().short_src
        {
            text = format!("{src}:{line}: ");
        }
    }
    text.push_str(msg);
    raise(lua, text)
}

/// Lua's name for a value's type.
pub fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(Value::LightUserData(_)) => "userdata",
        Some(_) => "userdata",
    }
}

fn with_host<R>(
    lua: &Lua,
    outside: &str,
    f: impl FnOnce(&mut dyn Host) -> mlua::Result<R>,
) -> mlua::Result<R> {
    match natives(lua).host.get() {
        // SAFETY: see `LuaState::run`: the pointer is live for the whole run.
        Some(p) => f(unsafe { &mut *p }),
        None => raise_err(lua, outside),
    }
}

/// Converts arguments to a command line: strings as they are, numbers as "%.17g".
pub fn to_argv<'v>(args: impl IntoIterator<Item = &'v Value>) -> Option<Vec<Vec<u8>>> {
    args.into_iter()
        .map(|v| match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(i) if i.unsigned_abs() < 100_000_000_000_000_000 => {
                Some(i.to_string().into_bytes())
            }
            Value::Integer(_) | Value::Number(_) => {
                let mut out = Vec::new();
                crate::util::num::fmt_double_resp(as_number(v)?, &mut out);
                Some(out)
            }
            _ => None,
        })
        .collect()
}

/// lua_tolstring: strings and numbers (as Lua prints them).
fn lua_to_string(lua: &Lua, v: &Value) -> mlua::Result<Option<Vec<u8>>> {
    Ok(match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => {
            lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec())
        }
        _ => None,
    })
}

/// luaL_checkint for math.random and math.randomseed.
fn check_int(lua: &Lua, args: &[Value], n: usize, fname: &str) -> mlua::Result<i32> {
    let v = args.get(n - 1);
    let num = match v {
        Some(v) => lua.coerce_number(v.clone())?,
        None => None,
    };
    match num {
        Some(x) => Ok(super::convert::lua_number_to_i64(x) as i32),
        None => raise_where(
            lua,
            &format!(
                "bad argument #{n} to '{fname}' (number expected, got {})",
                type_name(v)
            ),
        ),
    }
}

/// Redis's rand48: the next value in [0, 1).
fn rand48_next(state: &AtomicU64) -> f64 {
    let x = state.load(Ordering::Relaxed);
    let x = x.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & ((1 << 48) - 1);
    state.store(x, Ordering::Relaxed);
    let r = (x >> 17) as i64;
    (r % i32::MAX as i64) as f64 / i32::MAX as f64
}

fn native_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "raised",
        lua.create_function(|lua, e: Value| {
            let stashed: Value = lua.named_registry_value(RAISED)?;
            if !stashed.is_nil() {
                lua.set_named_registry_value(RAISED, Value::Nil)?;
                return Ok(stashed);
            }
            Ok(match e {
                Value::Error(err) => Value::String(lua.create_string(root_cause(&err))?),
                other => other,
            })
        })?,
    )?;
    t.set(
        "killed",
        lua.create_function(|lua, ()| Ok(natives(lua).killed.load(Ordering::Relaxed)))?,
    )?;
    t.set(
        "running_long",
        lua.create_function(|_, ()| {
            super::busy::release_worker();
            Ok(())
        })?,
    )?;
    t.set(
        "load_timed_out",
        lua.create_function(|lua, ()| {
            Ok(natives(lua)
                .load_deadline
                .get()
                .is_some_and(|d| Instant::now() >= d))
        })?,
    )?;
    for (name, raise_errors) in [("call", true), ("pcall", false)] {
        let outside = format!("redis.{name} can only be called inside a script invocation");
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                with_host(lua, &outside, |h| h.call(lua, args, raise_errors))
            })?,
        )?;
    }
    t.set(
        "setresp",
        lua.create_function(|lua, args: MultiValue| {
            with_host(
                lua,
                "redis.setresp can only be called inside a script invocation",
                |h| {
                    if args.len() != 1 {
                        return raise_err(lua, "redis.setresp() requires one argument.");
                    }
                    let resp = lua.coerce_number(args[0].clone())?.unwrap_or(0.0) as i64;
                    if resp != 2 && resp != 3 {
                        return raise_err(lua, "RESP version must be 2 or 3.");
                    }
                    h.set_resp3(resp == 3);
                    Ok(())
                },
            )
        })?,
    )?;
    t.set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return raise_err(lua, "wrong number of arguments");
            }
            let data = lua_to_string(lua, &args[0])?.unwrap_or_default();
            Ok(sha1_hex(&data))
        })?,
    )?;
    t.set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| {
            let Some(Value::String(s)) = args.front().filter(|_| args.len() == 1) else {
                return error_table(lua, b"wrong number or type of arguments");
            };
            let s = s.as_bytes();
            if s.first() == Some(&b'-') {
                error_table(lua, &s)
            } else {
                let mut text = Vec::with_capacity(s.len() + 1);
                text.push(b'-');
                text.extend_from_slice(&s);
                error_table(lua, &text)
            }
        })?,
    )?;
    t.set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| {
            let Some(Value::String(s)) = args.front().filter(|_| args.len() == 1) else {
                return error_table(lua, b"wrong number or type of arguments");
            };
            let t = lua.create_table()?;
            t.set("ok", s.clone())?;
            Ok(t)
        })?,
    )?;
    t.set(
        "set_repl",
        lua.create_function(|lua, args: MultiValue| {
            with_host(
                lua,
                "redis.set_repl can only be called inside a script invocation",
                |_| {
                    if args.len() != 1 {
                        return raise_err(lua, "redis.set_repl() requires two arguments.");
                    }
                    let flags = lua.coerce_number(args[0].clone())?.unwrap_or(0.0) as i64;
                    if flags & !3 != 0 {
                        return raise_err(
                            lua,
                            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                        );
                    }
                    // There is no replication or AOF yet: nothing to switch.
                    Ok(())
                },
            )
        })?,
    )?;
    t.set(
        "replicate_commands",
        lua.create_function(|_, _: MultiValue| Ok(true))?,
    )?;
    // Without a debugging session (SCRIPT DEBUG is not supported) these do nothing, as in Redis.
    t.set(
        "breakpoint",
        lua.create_function(|_, _: MultiValue| Ok(false))?,
    )?;
    t.set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    t.set(
        "acl_check_cmd",
        lua.create_function(|lua, args: MultiValue| {
            with_host(
                lua,
                "redis.acl_check_cmd can only be called inside a script invocation",
                |h| {
                    if args.is_empty() {
                        return raise_err(
                            lua,
                            "Please specify at least one argument for this redis lib call",
                        );
                    }
                    let Some(argv) = to_argv(&args) else {
                        return raise_err(
                            lua,
                            "Lua redis lib command arguments must be strings or integers",
                        );
                    };
                    match h.acl_check(&argv) {
                        Some(allowed) => Ok(allowed),
                        None => raise_err(lua, "Invalid command passed to redis.acl_check_cmd()"),
                    }
                },
            )
        })?,
    )?;
    t.set("log", lua.create_function(log)?)?;
    t.set(
        "random",
        lua.create_function(|lua, args: MultiValue| {
            let args = args.into_vec();
            let r = rand48_next(&natives(lua).rand);
            match args.len() {
                0 => Ok(r),
                1 => {
                    let u = check_int(lua, &args, 1, "random")?;
                    if u < 1 {
                        return raise_where(lua, "bad argument #1 to 'random' (interval is empty)");
                    }
                    Ok((r * u as f64).floor() + 1.0)
                }
                2 => {
                    let l = check_int(lua, &args, 1, "random")?;
                    let u = check_int(lua, &args, 2, "random")?;
                    if l > u {
                        return raise_where(lua, "bad argument #2 to 'random' (interval is empty)");
                    }
                    Ok((r * (u as f64 - l as f64 + 1.0)).floor() + l as f64)
                }
                _ => raise_where(lua, "wrong number of arguments"),
            }
        })?,
    )?;
    t.set(
        "randomseed",
        lua.create_function(|lua, args: MultiValue| {
            let seed = check_int(lua, &args.into_vec(), 1, "randomseed")?;
            natives(lua)
                .rand
                .store(((seed as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
            Ok(())
        })?,
    )?;
    t.set("register_function", lua.create_function(register_function)?)?;
    t.set("REDIS_VERSION", crate::REDIS_VERSION)?;
    t.set("REDIS_VERSION_NUM", redis_version_num())?;
    Ok(t)
}

/// 7.0.15 -> 0x07000f.
fn redis_version_num() -> i64 {
    crate::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<i64>().unwrap_or(0))
        .fold(0, |acc, p| (acc << 8) | p)
}

/// The innermost message of an mlua error (a callback error wraps its cause).
fn root_cause(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => root_cause(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// redis.log(level, message...): to the server log, as Redis writes it to its log file.
fn log(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() < 2 {
        return raise_err(lua, "redis.log() requires two arguments or more.");
    }
    let Some(level) = lua.coerce_number(args[0].clone())? else {
        return raise_err(lua, "First argument must be a number (log level).");
    };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return raise_err(lua, "Invalid debug level.");
    }
    let mut text = Vec::new();
    for (i, v) in args.iter().enumerate().skip(1) {
        if let Some(s) = lua_to_string(lua, v)? {
            if i != 1 {
                text.push(b' ');
            }
            text.extend_from_slice(&s);
        }
    }
    let text = String::from_utf8_lossy(&text);
    match level {
        0 => tracing::debug!("{text}"),
        1 | 2 => tracing::info!("{text}"),
        _ => tracing::warn!("{text}"),
    }
    Ok(())
}

fn valid_function_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// redis.register_function(name, callback) or redis.register_function{function_name=...,
/// callback=..., flags={...}, description=...}.
fn register_function(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    let n = natives(lua);
    if n.loading.borrow().is_none() {
        return raise_err(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    }
    let r = match args.len() {
        1 => named_registration(lua, &args[0]),
        2 => {
            let name = lua_to_string(lua, &args[0])?;
            match (name, &args[1]) {
                (None, _) => Err("first argument to redis.register_function must be a string"),
                (Some(_), f) if !matches!(f, Value::Function(_)) => {
                    Err("second argument to redis.register_function must be a function")
                }
                (Some(name), Value::Function(f)) => Ok((name, None, 0, f.clone())),
                _ => unreachable!("matched above"),
            }
        }
        _ => Err("wrong number of arguments to redis.register_function"),
    };
    let (name, description, flags, callback) = match r {
        Ok(r) => r,
        Err(msg) => return raise_err(lua, msg),
    };
    if !valid_function_name(&name) {
        return raise_err(
            lua,
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        );
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut loading = n.loading.borrow_mut();
    let registered = loading.get_or_insert_with(Vec::new);
    if registered.iter().any(|r| r.name == name) {
        drop(loading);
        return raise_err(lua, "Function already exists in the library");
    }
    registered.push(Registered {
        name,
        description,
        flags,
        callback,
    });
    Ok(())
}

type Registration = (Vec<u8>, Option<Vec<u8>>, u32, Function);

fn named_registration(lua: &Lua, arg: &Value) -> Result<Registration, &'static str> {
    let Value::Table(t) = arg else {
        return Err(
            "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
        );
    };
    let (mut name, mut description, mut flags, mut callback) = (None, None, 0, None);
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|_| "unknown argument given to redis.register_function")?;
        let Some(key) = lua_to_string(lua, &k).ok().flatten() else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        if key.eq_ignore_ascii_case(b"function_name") {
            name = Some(lua_to_string(lua, &v).ok().flatten().ok_or(
                "function_name argument given to redis.register_function must be a string",
            )?);
        } else if key.eq_ignore_ascii_case(b"description") {
            description =
                Some(lua_to_string(lua, &v).ok().flatten().ok_or(
                    "description argument given to redis.register_function must be a string",
                )?);
        } else if key.eq_ignore_ascii_case(b"callback") {
            let Value::Function(f) = v else {
                return Err(
                    "callback argument given to redis.register_function must be a function",
                );
            };
            callback = Some(f);
        } else if key.eq_ignore_ascii_case(b"flags") {
            let Value::Table(list) = v else {
                return Err(
                    "flags argument to redis.register_function must be a table representing function flags",
                );
            };
            flags = read_flags(lua, &list).ok_or("unknown flag given")?;
        } else {
            return Err("unknown argument given to redis.register_function");
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok((name, description, flags, callback))
}

fn read_flags(lua: &Lua, list: &Table) -> Option<u32> {
    let mut flags = 0;
    for i in 1.. {
        let v: Value = list.get(i).ok()?;
        if v.is_nil() {
            break;
        }
        let s = lua_to_string(lua, &v).ok()??;
        let (f, _) = FLAG_NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&s))?;
        flags |= f;
    }
    Some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand48_matches_redis() {
        // The first values a fresh redis-server 7.0 gives math.random().
        let s = AtomicU64::new(RAND48_SEED);
        let got: Vec<f64> = (0..3).map(|_| rand48_next(&s)).collect();
        assert!((got[0] - 0.396_464_773_638_39).abs() < 1e-12);
        assert!((got[1] - 0.840_485_369_712_34).abs() < 1e-12);
        assert!((got[2] - 0.353_336_097_371_46).abs() < 1e-12);
    }

    #[test]
    fn version_number() {
        assert_eq!(redis_version_num(), 0x07000f);
    }

    #[test]
    fn argv_numbers_as_redis_formats_them() {
        let v = [
            Value::Integer(12),
            Value::Number(1.5),
            Value::Number(0.1),
            Value::Number(1e20),
        ];
        let argv = to_argv(&v).unwrap();
        assert_eq!(argv[0], b"12");
        assert_eq!(argv[1], b"1.5");
        assert_eq!(argv[2], b"0.10000000000000001");
        assert_eq!(argv[3], b"1e+20");
        assert!(to_argv(&[Value::Boolean(true)]).is_none());
    }
}
