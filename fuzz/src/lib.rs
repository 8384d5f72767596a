//! The bodies of the fuzz targets, shared with their corpus replay.
#[path = "bodies.rs"]
pub mod bodies;
