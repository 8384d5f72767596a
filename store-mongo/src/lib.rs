//! chime-store-mongo: the MongoDB job store.
//!
//! Not implemented yet: this crate is filled in by the MongoDB store issue.
#![deny(missing_docs)]
