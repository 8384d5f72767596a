//! Support for the workspace's end-to-end tests (in `tests/integration/`)
//! and the chaos suite (`chime-chaos`): store servers a test owns, and the
//! files the `chime-test-node` processes write.

pub mod node_logs;
pub mod servers;
