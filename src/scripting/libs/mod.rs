//! The libraries Redis gives scripts besides Lua's own: `cjson`, `cmsgpack`, `bit` and
//! `struct`, written in Rust against the Lua C API with the behaviour of the C libraries Redis
//! 7.0 embeds (outputs, number formats, error texts).

mod bit;
mod cjson;
mod cmsgpack;
mod num;
mod state;
mod struct_lib;

use state::State;

/// Installs the globals `cjson`, `struct`, `cmsgpack` and `bit`, in Redis's order (`struct`
/// and `bit` also go into the registry's `_LOADED`, as Lua 5.1 libraries do).
pub fn register_all(lua: &mlua::Lua) -> mlua::Result<()> {
    // SAFETY: exec_raw runs the closure in protected mode on the live state.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            let s = State::from_raw(l);
            cjson::open(&s);
            struct_lib::open(&s);
            cmsgpack::open(&s);
            bit::open(&s);
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use mlua::{Lua, LuaOptions, StdLib};

    /// A Lua state with what Redis scripts get: base, table, string and math, plus ours.
    fn lua() -> Lua {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )
        .expect("lua state");
        super::register_all(&lua).expect("register");
        lua
    }

    fn run(source: &str) -> mlua::Result<mlua::Value> {
        lua().load(source).set_name("@user_script").eval()
    }

    /// The script's return value through Lua's `tostring`.
    pub(crate) fn eval(source: &str) -> String {
        let lua = lua();
        let value: mlua::Value = lua
            .load(source)
            .set_name("@user_script")
            .eval()
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        let tostring: mlua::Function = lua.globals().get("tostring").unwrap();
        let text: mlua::String = tostring.call(value).unwrap();
        String::from_utf8_lossy(&text.as_bytes()).into_owned()
    }

    /// The message of the error the script raises.
    pub(crate) fn eval_error(source: &str) -> String {
        match run(source) {
            // mlua appends a traceback to the message.
            Err(mlua::Error::RuntimeError(message)) => {
                match message.split_once("\nstack traceback:") {
                    Some((message, _)) => message.to_string(),
                    None => message,
                }
            }
            other => panic!("{source}: expected a runtime error, got {other:?}"),
        }
    }

    #[test]
    fn globals_are_installed_like_redis() {
        assert_eq!(
            eval(
                "return table.concat({type(cjson), type(struct), type(cmsgpack), type(bit)}, ' ')"
            ),
            "table table table table"
        );
        assert_eq!(
            eval("return cjson._NAME .. ' ' .. cjson._VERSION"),
            "cjson 2.1.0"
        );
        assert_eq!(eval("return cmsgpack._VERSION"), "lua-cmsgpack 0.4.0");
        assert_eq!(eval("return tostring(cjson.null)"), "userdata: (nil)");
    }

    #[test]
    fn errors_carry_the_callers_position() {
        // Also for a tail call: the C function keeps the script's frame below it.
        assert_eq!(
            eval_error("return cjson.encode()"),
            "user_script:1: bad argument #1 to 'encode' (expected 1 argument)"
        );
        assert_eq!(
            eval_error("local x = cjson.decode('[') return x"),
            "user_script:1: Expected value but found T_END at character 2"
        );
        assert_eq!(
            eval("return select(2, pcall(cjson.encode))"),
            "bad argument #1 to '?' (expected 1 argument)"
        );
    }
}
