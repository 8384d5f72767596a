//! The command line, as clap sees it.

use clap::{Args, Parser, Subcommand};

/// chime: a job scheduler and persistent cron replacement.
#[derive(Debug, Parser)]
#[command(name = "chime", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scheduler daemon until SIGINT or SIGTERM.
    Run(RunArgs),
    /// Manage the jobs in the configured store.
    Jobs(Box<JobsArgs>),
    /// Print the upcoming fire times of a schedule, one RFC 3339 time per line.
    Next(NextArgs),
}

/// Logging format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration file (default: ./chime.toml if present).
    #[arg(long, short = 'c', value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
    /// Log format (the level comes from RUST_LOG, default info).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// How long to wait for running jobs at shutdown (default: the config's, or 30s).
    #[arg(long, value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// The configuration file naming the store (default: ./chime.toml if present).
    #[arg(long, short = 'c', value_name = "PATH", global = true)]
    pub config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: JobsCommand,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs: id, next run, paused, last outcome, trigger in words.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add a job running a command: chime jobs add --id ID --cron "0 2 * * *" -- PROGRAM ARGS...
    Add(Box<AddArgs>),
    /// Remove a job.
    Remove {
        /// The job id.
        id: String,
    },
    /// Pause a job.
    Pause {
        /// The job id.
        id: String,
    },
    /// Resume a paused job from now.
    Resume {
        /// The job id.
        id: String,
    },
    /// Run a job now (a running daemon starts it; its schedule goes on).
    Run {
        /// The job id.
        id: String,
    },
    /// Show a job's last runs.
    History {
        /// The job id.
        id: String,
        /// How many runs.
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The job id (default: generated).
    #[arg(long)]
    pub id: Option<String>,
    /// A human-readable name.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    /// Run this shell script with /bin/sh -c instead of a program.
    #[arg(long, value_name = "SCRIPT")]
    pub shell: Option<String>,
    /// Kill the command after this long.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Environment variable for the command, repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Working directory for the command.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// How late a run may start ("none": however late).
    #[arg(long, value_name = "DURATION")]
    pub misfire_grace_time: Option<String>,
    /// Concurrent runs allowed.
    #[arg(long)]
    pub max_instances: Option<u32>,
    /// Run each missed fire instead of merging them into one run.
    #[arg(long)]
    pub no_coalesce: bool,
    /// Random delay per fire.
    #[arg(long, value_name = "DURATION")]
    pub jitter: Option<String>,
    /// Add it paused.
    #[arg(long)]
    pub paused: bool,
    /// Replace a job with the same id.
    #[arg(long)]
    pub replace: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub argv: Vec<String>,
}

/// What to schedule: exactly one of the trigger options, plus bounds.
#[derive(Debug, Clone, Default, Args)]
pub struct ScheduleArgs {
    /// A crontab expression: "30 2 * * *", "0 0 L * *", "@daily" (5, 6 or 7 fields).
    #[arg(long, value_name = "EXPR", group = "trigger")]
    pub cron: Option<String>,
    /// An APScheduler cron field, repeatable: --field "day=3rd fri" --field hour=9.
    #[arg(long = "field", value_name = "NAME=EXPR")]
    pub fields: Vec<String>,
    /// A fixed interval: 90s, 15m, 2h, 1d, 1w, 1h30m, 1w2d3h4m5s.
    #[arg(long, value_name = "DURATION", group = "trigger")]
    pub interval: Option<String>,
    /// One fire at this time.
    #[arg(long, value_name = "TIME", group = "trigger")]
    pub at: Option<String>,
    /// A calendar interval: "1 month at 09:00", "2 weeks at 18:30", "1 year".
    #[arg(long, value_name = "SPEC", group = "trigger")]
    pub calendar: Option<String>,
    /// IANA time zone for wall-clock fields and for times given without an
    /// offset (default UTC; for `jobs add`, the scheduler's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// No fire before this time (inclusive); an interval's anchor.
    #[arg(long, value_name = "TIME")]
    pub start_date: Option<String>,
    /// No fire after this time (inclusive).
    #[arg(long, value_name = "TIME")]
    pub end_date: Option<String>,
}

#[derive(Debug, Args)]
pub struct NextArgs {
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    /// Start from this time (default: now); the first fire is the earliest one at or after it.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// How many fire times to print.
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 5)]
    pub count: usize,
    /// Print the schedule in words first.
    #[arg(long)]
    pub describe: bool,
}
