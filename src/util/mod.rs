//! Pure helper routines shared by command handlers: glob matching, Redis
//! number parsing/formatting, bitmap operations, LCS and DEBUG DIGEST.

pub mod bitmap;
pub mod digest;
pub mod glob;
pub mod lcs;
pub mod num;
