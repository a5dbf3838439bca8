//! TEMPORARY stand-in until the config branch lands (same public names).
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel { Debug, Verbose, Notice, Warning, Nothing }
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxmemoryPolicy { VolatileLru, AllkeysLru, VolatileLfu, AllkeysLfu, VolatileRandom, AllkeysRandom, VolatileTtl, Noeviction }

pub struct Config {
    pub port: u16, pub bind: Vec<String>, pub protected_mode: bool, pub requirepass: Option<Vec<u8>>,
    pub maxclients: u32, pub timeout: u64, pub tcp_keepalive: u64, pub databases: u32, pub loglevel: LogLevel,
    pub logfile: String, pub dir: PathBuf, pub hz: u32, pub proto_max_bulk_len: u64, pub client_query_buffer_limit: u64,
    pub maxmemory: u64, pub maxmemory_policy: MaxmemoryPolicy, pub rename_commands: Vec<(String, String)>, pub pidfile: String,
    pub save: Vec<(u64, u64)>, pub appendonly: bool, pub dbfilename: String,
}
pub struct ConfigError(pub String);
impl std::fmt::Display for ConfigError { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str(&self.0) } }
impl Config {
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut c = Config { port: 6350, bind: vec!["127.0.0.1".into()], protected_mode: true, requirepass: None, maxclients: 10000, timeout: 0, tcp_keepalive: 300, databases: 16, loglevel: LogLevel::Notice, logfile: String::new(), dir: ".".into(), hz: 10, proto_max_bulk_len: 512<<20, client_query_buffer_limit: 1<<30, maxmemory: 0, maxmemory_policy: MaxmemoryPolicy::Noeviction, rename_commands: vec![], pidfile: String::new(), save: vec![], appendonly: false, dbfilename: "dump.rdb".into() };
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() { "--port" => { c.port = args[i+1].parse().map_err(|_| ConfigError("bad port".into()))?; i += 1 } "--requirepass" => { c.requirepass = Some(args[i+1].clone().into_bytes()); i += 1 } _ => { if args[i].starts_with("--") { i += 1 } } }
            i += 1;
        }
        Ok(c)
    }
    pub fn get(&self, _patterns: &[&[u8]]) -> Vec<(String, String)> { vec![("port".into(), self.port.to_string())] }
    pub fn set(&mut self, _pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> { Err("ERR not yet".into()) }
    pub fn rewrite(&self) -> Result<(), String> { Err("ERR The server is running without a config file".into()) }
    pub fn config_file(&self) -> Option<&Path> { None }
    pub fn unimplemented_directives(&self) -> &[(String, String)] { &[] }
}
impl MaxmemoryPolicy { pub fn name(&self) -> &'static str { "noeviction" } }
