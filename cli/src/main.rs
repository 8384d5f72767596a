//! The `chime` command.
//!
//! - `chime next …`: prints a schedule's upcoming fire times.
//!
//! The daemon (`chime run`, `chime jobs …`) arrives with its issue.

mod args;
mod calendar_arg;
mod next;
mod schedule_args;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chime: {}", err.message());
            ExitCode::from(EXIT_USAGE)
        }
    }
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
