//! The `chime` command.
//!
//! - `chime run`: the scheduler daemon (a persistent cron replacement);
//! - `chime jobs …`: manage the jobs in the configured store;
//! - `chime next …`: print a schedule's upcoming fire times.

mod args;
mod calendar_arg;
use chime_cli::config;
mod daemon;
mod job_build;
mod jobs;
mod logging;
mod next;
mod schedule_args;
mod store_url;
mod time_arg;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Exit status for invalid input (as `clap` uses for usage errors).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return report_clap_error(err),
    };
    let result = match cli.command {
        Command::Next(args) => next::run(&args, &mut std::io::stdout().lock()),
        Command::Run(args) => {
            logging::init(args.log_format, "info");
            with_runtime(|| daemon::run(&args))
        }
        Command::Jobs(args) => {
            logging::init(args::LogFormat::Text, "warn");
            with_runtime(|| async { jobs::run(&args, &mut std::io::stdout().lock()).await })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chime: {}", err.message());
            if err.kind() == chime::ErrorKind::InvalidInput {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Runs `f` on a tokio runtime of two worker threads.
fn with_runtime<F, Fut>(f: F) -> Result<(), chime::Error>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), chime::Error>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            chime::Error::new(
                chime::ErrorKind::Internal,
                format!("cannot start the runtime: {e}"),
            )
        })?;
    runtime.block_on(f())
}

/// Help and version go to stdout with status 0; a usage error is one line
/// on stderr with status 2.
fn report_clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            let _ = std::io::stdout().flush();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let text = err.render().to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("chime: {line}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
