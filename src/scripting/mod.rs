//! Lua scripting (EVAL, FUNCTION).

pub mod libs;
