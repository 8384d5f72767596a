//! Support for the workspace's end-to-end tests (in `tests/integration/`)
//! and the chaos suite (`chime-chaos`): store servers a test owns.

pub mod servers;
