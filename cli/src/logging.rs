//! Log output through `tracing`: text or JSON lines on stderr, level from
//! `RUST_LOG` (default `info` for the daemon, `warn` for one-shot commands).

use tracing_subscriber::EnvFilter;

use crate::args::LogFormat;

/// Installs the subscriber (once).
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
