//! chime-store-redis: the Redis job store.
//!
//! Not implemented yet: this crate is filled in by the Redis store issue.
#![deny(missing_docs)]
