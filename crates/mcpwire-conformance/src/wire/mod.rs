//! The suite's own view of the wire: raw HTTP exchanges and raw stdio lines, with no client
//! library between the checks and what the server sent.

pub mod http;
pub mod legacy_sse;
pub mod sse;
pub mod stdio;
