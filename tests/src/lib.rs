//! Workspace integration tests live in `tests/integration/`.
