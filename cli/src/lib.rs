//! The library half of the `chime` command: its config loader, public so
//! the fuzz targets (`fuzz/`) and their corpus replay can reach it. The
//! command itself is the `chime` binary.

pub mod config;
