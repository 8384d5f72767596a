//! chime-executor-threads: a bounded pool of OS threads for blocking jobs.
//!
//! Not implemented yet: this crate is filled in by the executors issue.
#![deny(missing_docs)]
