//! The checks, one module per area of the contract.

mod acquisition;
mod basics;
mod concurrency;
mod history;
mod journal;
mod unreadable;

pub use acquisition::*;
pub use basics::*;
pub use concurrency::*;
pub use history::*;
pub use journal::*;
pub use unreadable::*;

use std::time::Duration;

/// The lease the checks use.
pub(crate) const LEASE: Duration = Duration::from_secs(30);
