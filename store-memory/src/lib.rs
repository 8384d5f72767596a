//! # chime-store-memory
//!
//! [`MemoryStore`] keeps jobs in process memory: nothing survives the
//! process, nothing is shared with other processes. Every operation is
//! O(log n) (listing aside), and taking k due jobs is O(k log n): a wake-up
//! never scans all jobs.
//!
//! ```
//! use chime_store_memory::MemoryStore;
//! use chime_core::JobStore;
//! let store = MemoryStore::new();
//! assert!(!store.capabilities().persistent);
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod history;
mod slots;
mod specs;
mod state;
mod store;

pub use store::MemoryStore;
