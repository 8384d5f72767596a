//! chime-store-sql: the SQLite job store (the embedded default).
//!
//! Not implemented yet: this crate is filled in by the store-contract issue.
#![deny(missing_docs)]
