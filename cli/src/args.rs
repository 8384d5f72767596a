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
    /// Print the upcoming fire times of a schedule, one RFC 3339 time per line.
    Next(NextArgs),
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
    /// IANA time zone for wall-clock fields and for times given without an offset.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
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
