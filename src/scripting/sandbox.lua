-- The sandbox of Redis 7.0 scripts, run once in each Lua state (the EVAL state and the FUNCTION
-- state). Stock Lua 5.1 has no read-only tables, so every table scripts can reach from the
-- globals is handed out as an empty proxy: reads go through to the real table, writes fail with
-- Redis's error. The few builtins that bypass metatables (next, pairs, rawget...) see through the
-- proxies and refuse to write through them. Frames of this chunk never show up in the positions
-- of script errors.
--
-- Arguments: `native`, the functions implemented in Rust; `mode`, "eval" or "function".
-- Returns the table of internal entry points the engine calls.
local native, mode = ...

local store = _G
local SOURCE = debug.getinfo(1, "S").source
local getinfo, sethook, real_getmetatable = debug.getinfo, debug.sethook, debug.getmetatable
local raw_next, raw_ipairs, raw_rawget, raw_rawset = next, ipairs, rawget, rawset
local raw_getmetatable, raw_setmetatable = getmetatable, setmetatable
local raw_pcall, raw_xpcall, raw_loadstring, raw_setfenv = pcall, xpcall, loadstring, setfenv
local type, error, select, tostring, concat = type, error, select, tostring, table.concat

for _, name in raw_ipairs({ "print", "dofile", "loadfile", "getfenv", "setfenv", "newproxy",
                            "debug", "module", "require" }) do
  store[name] = nil
end

local READONLY = "Attempt to modify a readonly table"

-- Proxy <-> protected table. Weak keys: a dropped proxy takes its entries with it.
local real_of = raw_setmetatable({}, { __mode = "k" })
local proxy_of = raw_setmetatable({}, { __mode = "k" })

local function deny()
  error(READONLY, 2)
end

-- Protects `t` and every table reachable from it (fields and metatables), replacing the nested
-- references by their proxies. Returns the proxy of `t`.
local function protect(t)
  local p = proxy_of[t]
  if p then
    return p
  end
  p = {}
  proxy_of[t], real_of[p] = p, t
  for k, v in raw_next, t do
    if type(v) == "table" then
      raw_rawset(t, k, protect(v))
    end
  end
  local mt = real_getmetatable(t)
  if mt then
    protect(mt)
  end
  raw_setmetatable(p, { __index = t, __newindex = deny })
  return p
end

-- "got no value" when the argument is absent, as luaL_typerror says.
local function typeerror(n, fname, expected, ...)
  local got = select("#", ...) < n and "no value" or type((select(n, ...)))
  error("bad argument #" .. n .. " to '" .. fname .. "' (" .. expected .. " expected, got " .. got .. ")", 3)
end

local function argerror(n, fname, msg)
  error("bad argument #" .. n .. " to '" .. fname .. "' (" .. msg .. ")", 3)
end

function store.next(...)
  local t, k = ...
  if type(t) ~= "table" then
    typeerror(1, "next", "table", ...)
  end
  return raw_next(real_of[t] or t, k)
end

function store.pairs(...)
  local t = ...
  if type(t) ~= "table" then
    typeerror(1, "pairs", "table", ...)
  end
  return raw_next, real_of[t] or t, nil
end

function store.ipairs(...)
  local t = ...
  if type(t) ~= "table" then
    typeerror(1, "ipairs", "table", ...)
  end
  return raw_ipairs(real_of[t] or t)
end

function store.rawget(...)
  local t, k = ...
  if type(t) ~= "table" then
    typeerror(1, "rawget", "table", ...)
  end
  if select("#", ...) < 2 then
    argerror(2, "rawget", "value expected")
  end
  return raw_rawget(real_of[t] or t, k)
end

function store.rawset(...)
  local t, k, v = ...
  if type(t) ~= "table" then
    typeerror(1, "rawset", "table", ...)
  end
  if select("#", ...) < 2 then
    argerror(2, "rawset", "value expected")
  end
  if select("#", ...) < 3 then
    argerror(3, "rawset", "value expected")
  end
  if real_of[t] then
    error(READONLY, 0)
  end
  return raw_rawset(t, k, v)
end

function store.getmetatable(...)
  local o = ...
  if select("#", ...) < 1 then
    argerror(1, "getmetatable", "value expected")
  end
  local mt = raw_getmetatable(real_of[o] or o)
  return proxy_of[mt] or mt
end

function store.setmetatable(...)
  local t, mt = ...
  if type(t) ~= "table" then
    typeerror(1, "setmetatable", "table", ...)
  end
  if mt ~= nil and type(mt) ~= "table" then
    argerror(2, "setmetatable", "nil or table expected")
  end
  if real_of[t] then
    error(READONLY, 0)
  end
  local current = real_getmetatable(t)
  if current and raw_rawget(current, "__metatable") ~= nil then
    error("cannot change a protected metatable", 2)
  end
  return raw_setmetatable(t, mt)
end

-- Precompiled chunks are refused, as in Redis: they are parsed as text (and fail there).
local function load_text(s, chunkname)
  if s:byte(1) == 27 then
    return raw_loadstring(" " .. s, chunkname or s)
  end
  return raw_loadstring(s, chunkname)
end

function store.loadstring(...)
  local s, chunkname = ...
  if type(s) ~= "string" and type(s) ~= "number" then
    typeerror(1, "loadstring", "string", ...)
  end
  if chunkname ~= nil and type(chunkname) ~= "string" and type(chunkname) ~= "number" then
    typeerror(2, "loadstring", "string", ...)
  end
  return load_text(tostring(s), chunkname and tostring(chunkname))
end

function store.load(...)
  local reader, chunkname = ...
  if type(reader) ~= "function" then
    typeerror(1, "load", "function", ...)
  end
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == "" then
      break
    end
    if type(piece) ~= "string" then
      return nil, "reader function must return a string"
    end
    parts[#parts + 1] = piece
  end
  return load_text(concat(parts), chunkname and tostring(chunkname) or "=(load)")
end

-- Errors raised by the Rust functions arrive as userdata; `native.raised` gives back the Lua
-- value they raised (an error table, or a message).
local function unwrap(e)
  if type(e) == "userdata" then
    return native.raised(e)
  end
  return e
end

local function caught(ok, ...)
  if ok then
    return ok, ...
  end
  local e = unwrap((...))
  if type(e) == "table" then
    local msg = raw_rawget(real_of[e] or e, "err")
    if type(msg) == "string" or type(msg) == "number" then
      e = msg
    end
  end
  return false, e
end

-- Redis's pcall: an error raised as a table ({err = ...}) is caught as its message.
function store.pcall(...)
  return caught(raw_pcall(...))
end

-- Lua 5.1's xpcall: no arguments are passed to the function.
function store.xpcall(f, handler)
  return raw_xpcall(f, function(e)
    return handler(unwrap(e))
  end)
end

-- The message handler of script runs: the error as a table, with the script position it was
-- raised at (the first frame that is neither C nor this sandbox).
local function on_error(e)
  e = unwrap(e)
  if type(e) ~= "table" then
    e = { err = "ERR " .. tostring(e) }
  end
  local target = real_of[e] or e
  local level = 2
  while true do
    local info = getinfo(level, "Sl")
    if not info then
      break
    end
    if info.what ~= "C" and info.source ~= SOURCE then
      raw_rawset(target, "source", info.source)
      raw_rawset(target, "line", info.currentline)
      break
    end
    level = level + 1
  end
  return e
end

local KILLED = "ERR Script killed by user with SCRIPT KILL..."

-- Hooks interrupt script code only: this sandbox's own frames (the run driver after the script
-- returned, say) must complete.
local function in_script()
  return getinfo(3, "S").source ~= SOURCE
end

local function kill_check()
  if native.killed() and in_script() then
    -- From now on every instruction raises again, so a pcall cannot swallow the kill.
    sethook(kill_check, "", 1)
    error({ err = KILLED })
  end
end

local function load_check()
  if native.load_timed_out() and in_script() then
    sethook(load_check, "", 1)
    error({ err = "ERR FUNCTION LOAD timeout" })
  end
end

-- Every 100000 instructions of a script that may be killed: after its first moments it lets its
-- tokio worker go (busy.rs), then it obeys SCRIPT KILL (kill_check inlined: in_script looks
-- at a fixed stack level).
local function busy_check()
  native.running_long()
  if native.killed() and in_script() then
    sethook(kill_check, "", 1)
    error({ err = KILLED })
  end
end

-- The redis.* API.
local redis = {
  call = native.call,
  pcall = native.pcall,
  setresp = native.setresp,
  sha1hex = native.sha1hex,
  error_reply = native.error_reply,
  status_reply = native.status_reply,
  set_repl = native.set_repl,
  acl_check_cmd = native.acl_check_cmd,
  log = native.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = native.REDIS_VERSION,
  REDIS_VERSION_NUM = native.REDIS_VERSION_NUM,
}
if mode == "eval" then
  redis.replicate_commands = native.replicate_commands
  redis.breakpoint = native.breakpoint
  redis.debug = native.debug
  store.__redis__err__handler = on_error
end
store.redis = redis
math.random = native.random
math.randomseed = native.randomseed

local function nonexistent(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end

-- What FUNCTION LOAD's library code sees instead of the globals: only registration and logging.
local library_api = raw_setmetatable({
  redis = raw_setmetatable({
    register_function = native.register_function,
    log = native.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = native.REDIS_VERSION,
    REDIS_VERSION_NUM = native.REDIS_VERSION_NUM,
  }, { __index = nonexistent }),
}, { __index = nonexistent })
protect(library_api)

raw_setmetatable(store, { __index = nonexistent })
local globals = protect(store)
protect(raw_getmetatable(""))
-- Chunks loaded from now on (loadstring inside scripts) see the proxy as their globals.
raw_setfenv(0, globals)

local globals_meta = raw_getmetatable(globals)
local internal = { globals = globals, store = store }

-- Runs a compiled script (EVAL) or function callback (FCALL, with its keys and args tables).
-- Returns true and the first result, or false and the error table.
function internal.run(f, killable, ...)
  if killable then
    sethook(busy_check, "", 100000)
  end
  local ok, result
  if select("#", ...) == 0 then
    ok, result = raw_xpcall(f, on_error)
  else
    local keys, args = ...
    ok, result = raw_xpcall(function()
      return f(keys, args)
    end, on_error)
  end
  sethook()
  return ok, result
end

-- Runs library code for FUNCTION LOAD against the library API. Returns nil, or the message of
-- the error it raised.
function internal.load(f)
  globals_meta.__index = library_api
  sethook(load_check, "", 100000)
  local ok, e = raw_pcall(f)
  sethook()
  globals_meta.__index = store
  if ok then
    return nil
  end
  e = unwrap(e)
  if type(e) == "table" then
    return tostring(raw_rawget(real_of[e] or e, "err"))
  end
  return "ERR " .. tostring(e)
end

return internal
