//! chime-executor-process: jobs in child processes.
//!
//! Not implemented yet: this crate is filled in by the executors issue.
#![deny(missing_docs)]
