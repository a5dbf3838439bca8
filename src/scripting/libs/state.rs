//! The part of the Lua 5.1 C API the libraries use, and how their errors reach Lua.
//!
//! The libraries are C functions working on the raw stack, like Redis's: Lua's own conversions
//! (`lua_tonumber` on "0x10", `lua_tolstring` on numbers, `lua_next` order) and stack limits then
//! hold for free, and numbers keep every bit (mlua's `Value` folds -0.0 and 1e-300 into 0).
//! Errors are never thrown from inside Rust code: a library function returns a [`Raise`], and
//! [`call`] throws it once every Rust value of the call has been dropped, through `luaL_error`,
//! `luaL_argerror` or `luaL_typerror`, so messages read exactly as Redis's ("user_script:1: bad
//! argument #1 to 'encode' (expected 1 argument)"). Only a Lua out-of-memory error can unwind
//! through Rust frames (as in any C library), and those frames own no more than a buffer.

use mlua::ffi::{self, lua_State};
use std::ffi::{CStr, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};

/// An error for Lua to raise, built by a library function.
pub(super) enum Raise {
    /// `luaL_error`: the message after the caller's position ("user_script:1: ").
    Error(Vec<u8>),
    /// `luaL_argerror`: "bad argument #n to 'name' (message)".
    Arg(c_int, Vec<u8>),
    /// `luaL_typerror`: "bad argument #n to 'name' (T expected, got U)".
    Type(c_int, &'static CStr),
    /// A message raised as is, as the Lua core raises "table index is nil" from a C function.
    Plain(&'static str),
}

impl Raise {
    pub(super) fn error(message: impl Into<Vec<u8>>) -> Raise {
        Raise::Error(message.into())
    }

    pub(super) fn arg(narg: c_int, message: impl Into<Vec<u8>>) -> Raise {
        Raise::Arg(narg, message.into())
    }
}

pub(super) type Result<T> = std::result::Result<T, Raise>;

/// A library function: reads its arguments from the stack, leaves its results on top and
/// returns how many there are.
pub(super) type LibFn = fn(&State) -> Result<c_int>;

/// Runs `f` as the body of a Lua C function and raises its error, if any.
///
/// # Safety
/// `l` must be the state Lua passed to the running C function.
pub(super) unsafe fn call(l: *mut lua_State, f: LibFn) -> c_int {
    // SAFETY: `l` is live.
    let nargs = unsafe { ffi::lua_gettop(l) };
    let raise = match panic::catch_unwind(AssertUnwindSafe(|| f(&State { l }))) {
        Ok(Ok(results)) => return results,
        Ok(Err(raise)) => raise,
        Err(payload) => {
            drop(payload);
            Raise::Plain("internal error in a scripting library")
        }
    };
    // SAFETY: the caller's contract; `throw` keeps nothing with a destructor alive across the
    // non-local exit of lua_error.
    unsafe {
        // The error needs a few slots. When the stack is full (a "stack overflow" error), the
        // values pushed above the arguments go: a C function always has 20 slots above them.
        if ffi::lua_checkstack(l, 3) == 0 && ffi::lua_gettop(l) > nargs {
            ffi::lua_settop(l, nargs);
        }
        throw(l, raise)
    }
}

/// What is left to do once the message is on the Lua stack.
#[derive(Clone, Copy)]
enum Throw {
    WithPosition,
    Arg(c_int),
    Type(c_int, &'static CStr),
    AsIs,
}

unsafe fn throw(l: *mut lua_State, raise: Raise) -> c_int {
    // SAFETY: `l` is a live state inside a C function call.
    unsafe {
        let how = stage(l, raise);
        match how {
            Throw::WithPosition => {
                ffi::luaL_where(l, 1);
                ffi::lua_insert(l, -2);
                ffi::lua_concat(l, 2);
                ffi::lua_error(l)
            }
            Throw::Arg(narg) => ffi::luaL_argerror(l, narg, ffi::lua_tostring(l, -1)),
            Throw::Type(narg, expected) => ffi::luaL_typerror(l, narg, expected.as_ptr()),
            Throw::AsIs => ffi::lua_error(l),
        }
    }
}

/// Pushes the message of `raise` and frees it.
unsafe fn stage(l: *mut lua_State, raise: Raise) -> Throw {
    let push = |message: &[u8]| {
        // SAFETY: `l` is live; the bytes are copied by Lua.
        unsafe { ffi::lua_pushlstring(l, message.as_ptr().cast(), message.len()) };
    };
    match raise {
        Raise::Error(message) => {
            push(&message);
            Throw::WithPosition
        }
        Raise::Arg(narg, message) => {
            push(&message);
            Throw::Arg(narg)
        }
        Raise::Type(narg, expected) => Throw::Type(narg, expected),
        Raise::Plain(message) => {
            push(message.as_bytes());
            Throw::AsIs
        }
    }
}

/// The stack of a running library function (made by [`call`], or by registration code in
/// protected mode), so the pointer is always a live state whose errors are caught: that is
/// what makes the C API calls below sound. Indexes follow the C API (1 = first argument,
/// -1 = top).
pub(super) struct State {
    l: *mut lua_State,
}

impl State {
    /// A state for registration code that runs in protected mode outside any library call.
    ///
    /// # Safety
    /// `l` must be a live state whose errors are caught (`exec_raw`, a C function).
    pub(super) unsafe fn from_raw(l: *mut lua_State) -> State {
        State { l }
    }

    pub(super) fn top(&self) -> c_int {
        unsafe { ffi::lua_gettop(self.l) }
    }

    pub(super) fn set_top(&self, idx: c_int) {
        unsafe { ffi::lua_settop(self.l, idx) }
    }

    pub(super) fn pop(&self, n: c_int) {
        unsafe { ffi::lua_pop(self.l, n) }
    }

    pub(super) fn push_copy(&self, idx: c_int) {
        unsafe { ffi::lua_pushvalue(self.l, idx) }
    }

    pub(super) fn insert(&self, idx: c_int) {
        unsafe { ffi::lua_insert(self.l, idx) }
    }

    /// `lua_checkstack`: room for `n` more values (false past Lua's 8000-slot C stack limit).
    pub(super) fn check_stack(&self, n: c_int) -> bool {
        unsafe { ffi::lua_checkstack(self.l, n) != 0 }
    }

    /// Lua 5.1's `luaL_checkstack`.
    pub(super) fn ensure_stack(&self, n: c_int, what: &str) -> Result<()> {
        if self.check_stack(n) {
            Ok(())
        } else {
            Err(Raise::error(format!("stack overflow ({what})")))
        }
    }

    pub(super) fn kind(&self, idx: c_int) -> c_int {
        unsafe { ffi::lua_type(self.l, idx) }
    }

    /// The type name Lua's messages use ("table", "no value").
    pub(super) fn type_name(&self, idx: c_int) -> &'static str {
        // SAFETY: lua_typename returns static ASCII strings.
        unsafe { CStr::from_ptr(ffi::lua_typename(self.l, self.kind(idx))) }
            .to_str()
            .unwrap_or("?")
    }

    pub(super) fn is_none(&self, idx: c_int) -> bool {
        self.kind(idx) == ffi::LUA_TNONE
    }

    pub(super) fn is_none_or_nil(&self, idx: c_int) -> bool {
        self.kind(idx) <= ffi::LUA_TNIL
    }

    /// `lua_isnumber`: a number or a string convertible to one.
    pub(super) fn is_number(&self, idx: c_int) -> bool {
        unsafe { ffi::lua_isnumber(self.l, idx) != 0 }
    }

    /// `lua_tonumber`: 0 when not convertible.
    pub(super) fn to_number(&self, idx: c_int) -> f64 {
        unsafe { ffi::lua_tonumber(self.l, idx) }
    }

    /// Lua 5.1's `lua_tointeger` (a C cast of the number).
    pub(super) fn to_integer(&self, idx: c_int) -> i64 {
        unsafe { ffi::lua_tointeger_(self.l, idx) }
    }

    pub(super) fn to_boolean(&self, idx: c_int) -> bool {
        unsafe { ffi::lua_toboolean(self.l, idx) != 0 }
    }

    pub(super) fn to_userdata(&self, idx: c_int) -> *mut c_void {
        unsafe { ffi::lua_touserdata(self.l, idx) }
    }

    /// `lua_tolstring`: the bytes of a string, or of a number converted in place (as C does).
    /// The slice lives as long as the value stays on the stack; callers never pop a value
    /// while they hold its bytes.
    pub(super) fn to_bytes(&self, idx: c_int) -> Option<&[u8]> {
        let mut len = 0usize;
        // SAFETY: Lua keeps the string alive while it is on the stack.
        unsafe {
            let ptr = ffi::lua_tolstring(self.l, idx, &mut len);
            (!ptr.is_null()).then(|| std::slice::from_raw_parts(ptr.cast::<u8>(), len))
        }
    }

    /// `lua_next` on the table at `idx` (the previous key on top).
    pub(super) fn next(&self, idx: c_int) -> bool {
        unsafe { ffi::lua_next(self.l, idx) != 0 }
    }

    pub(super) fn raw_get_index(&self, idx: c_int, n: i64) {
        unsafe {
            ffi::lua_rawgeti(self.l, idx, n);
        }
    }

    /// `lua_gettable`: `t[k]` with metamethods, the key on top.
    pub(super) fn get_table(&self, idx: c_int) {
        unsafe {
            ffi::lua_gettable(self.l, idx);
        }
    }

    /// `lua_rawset`: key and value on top. The key must not be nil or NaN.
    pub(super) fn raw_set(&self, idx: c_int) {
        unsafe { ffi::lua_rawset(self.l, idx) }
    }

    pub(super) fn raw_set_index(&self, idx: c_int, n: i64) {
        unsafe { ffi::lua_rawseti(self.l, idx, n) }
    }

    pub(super) fn set_field(&self, idx: c_int, name: &CStr) {
        unsafe { ffi::lua_setfield(self.l, idx, name.as_ptr()) }
    }

    pub(super) fn set_global(&self, name: &CStr) {
        unsafe { ffi::lua_setglobal(self.l, name.as_ptr()) }
    }

    /// `lua_objlen`: the border `#t` finds.
    pub(super) fn len(&self, idx: c_int) -> usize {
        unsafe { ffi::lua_objlen(self.l, idx) }
    }

    pub(super) fn new_table(&self) {
        unsafe { ffi::lua_createtable(self.l, 0, 0) }
    }

    pub(super) fn push_nil(&self) {
        unsafe { ffi::lua_pushnil(self.l) }
    }

    pub(super) fn push_number(&self, n: f64) {
        unsafe { ffi::lua_pushnumber(self.l, n) }
    }

    /// `lua_pushinteger`: the integer becomes a double.
    pub(super) fn push_integer(&self, n: i64) {
        unsafe { ffi::lua_pushinteger(self.l, n) }
    }

    pub(super) fn push_bool(&self, b: bool) {
        unsafe { ffi::lua_pushboolean(self.l, c_int::from(b)) }
    }

    pub(super) fn push_bytes(&self, bytes: &[u8]) {
        unsafe {
            ffi::lua_pushlstring(self.l, bytes.as_ptr().cast(), bytes.len());
        }
    }

    /// The `NULL` light userdata lua-cjson uses for JSON null.
    pub(super) fn push_null(&self) {
        unsafe { ffi::lua_pushlightuserdata(self.l, std::ptr::null_mut()) }
    }

    /// `lua_concat` of the `n` values on top.
    pub(super) fn concat(&self, n: c_int) {
        unsafe { ffi::lua_concat(self.l, n) }
    }

    /// A new full userdata holding `value`, left on top. `T` must need no drop: Lua frees the
    /// block without running Rust destructors.
    pub(super) fn push_userdata<T: Copy>(&self, value: T) {
        // SAFETY: Lua aligns userdata blocks for any C type (8 bytes), enough for T here.
        unsafe {
            let block = ffi::lua_newuserdata(self.l, std::mem::size_of::<T>()).cast::<T>();
            debug_assert!(block.is_aligned());
            block.write(value);
        }
    }

    /// The block of the userdata that is upvalue `n` of the running C function.
    pub(super) fn upvalue_userdata<T>(&self, n: c_int) -> *mut T {
        unsafe { ffi::lua_touserdata(self.l, ffi::lua_upvalueindex(n)).cast::<T>() }
    }

    /// Pushes a C closure over the `upvalues` values on top (which it pops).
    pub(super) fn push_closure(&self, f: ffi::lua_CFunction, upvalues: c_int) {
        unsafe { ffi::lua_pushcclosure(self.l, f, upvalues) }
    }

    /// `luaL_register`: the global table `lib` (also in `_LOADED`) filled with `functions`,
    /// left on top, as Lua 5.1 libraries register themselves.
    pub(super) fn register_library(&self, lib: &CStr, functions: &[(&CStr, ffi::lua_CFunction)]) {
        // A fixed array: nothing owned by Rust may be alive if luaL_register raises.
        assert!(functions.len() < 16);
        let regs: [ffi::luaL_Reg; 16] = std::array::from_fn(|i| match functions.get(i) {
            Some((name, func)) => ffi::luaL_Reg {
                name: name.as_ptr(),
                func: *func,
            },
            // The terminator: luaL_register stops at the null name.
            None => ffi::luaL_Reg {
                name: std::ptr::null(),
                func: functions[0].1,
            },
        });
        unsafe { ffi::luaL_register(self.l, lib.as_ptr(), regs.as_ptr()) }
    }

    // ----- lauxlib's argument checks, returning the error instead of raising it -----

    /// `luaL_argcheck`.
    pub(super) fn arg_check(&self, cond: bool, narg: c_int, message: &str) -> Result<()> {
        if cond {
            Ok(())
        } else {
            Err(Raise::arg(narg, message))
        }
    }

    /// `luaL_checknumber`.
    pub(super) fn check_number(&self, narg: c_int) -> Result<f64> {
        let n = self.to_number(narg);
        if n == 0.0 && !self.is_number(narg) {
            return Err(Raise::Type(narg, c"number"));
        }
        Ok(n)
    }

    /// `luaL_checkinteger`.
    pub(super) fn check_integer(&self, narg: c_int) -> Result<i64> {
        let n = self.to_integer(narg);
        if n == 0 && !self.is_number(narg) {
            return Err(Raise::Type(narg, c"number"));
        }
        Ok(n)
    }

    /// `luaL_optinteger`.
    pub(super) fn opt_integer(&self, narg: c_int, default: i64) -> Result<i64> {
        if self.is_none_or_nil(narg) {
            Ok(default)
        } else {
            self.check_integer(narg)
        }
    }

    /// `luaL_checklstring` (a number argument is converted in place).
    pub(super) fn check_bytes(&self, narg: c_int) -> Result<&[u8]> {
        self.to_bytes(narg).ok_or(Raise::Type(narg, c"string"))
    }

    /// `luaL_checkoption` without a default: the index of the argument in `options`.
    pub(super) fn check_option(&self, narg: c_int, options: &[&str]) -> Result<usize> {
        // C compares (and prints) the name as a C string: it ends at a NUL byte.
        let name = self
            .check_bytes(narg)?
            .split(|&b| b == 0)
            .next()
            .unwrap_or_default();
        if let Some(i) = options.iter().position(|o| o.as_bytes() == name) {
            return Ok(i);
        }
        let mut message = b"invalid option '".to_vec();
        message.extend_from_slice(name);
        message.push(b'\'');
        Err(Raise::Arg(narg, message))
    }
}

/// Declares Lua C functions that run library functions through [`call`].
macro_rules! lua_c_functions {
    ($($c_name:ident => $body:path),* $(,)?) => {
        $(
            unsafe extern "C-unwind" fn $c_name(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
                // SAFETY: Lua calls C functions with their live state.
                unsafe { $crate::scripting::libs::state::call(l, $body) }
            }
        )*
    };
}
pub(super) use lua_c_functions;
