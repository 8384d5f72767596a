//! `chime next`: the upcoming fire times of a schedule.

use std::io::Write;

use chime::chrono::{SecondsFormat, Utc};
use chime::Error;

use crate::args::NextArgs;
use crate::schedule_args;
use crate::time_arg::{parse_time, parse_zone};

/// Prints up to `--count` fire times, one per line, RFC 3339 with the zone's
/// offset at that instant: the first is the earliest fire at or after
/// `--from`, each next one strictly after the previous.
pub fn run(args: &NextArgs, out: &mut dyn Write) -> Result<(), Error> {
    let tz = parse_zone(args.schedule.tz.as_deref().unwrap_or("UTC"))?;
    let from = match &args.from {
        Some(text) => parse_time("--from", text, tz)?,
        None => Utc::now(),
    };
    let built = schedule_args::build(&args.schedule, from, None)?;
    let write_err = |e: std::io::Error| Error::invalid(format!("cannot write output: {e}"));
    if args.describe {
        writeln!(out, "{}", built.trigger.describe()).map_err(write_err)?;
    }
    let mut previous = None;
    for _ in 0..args.count {
        let Some(fire) = built.trigger.next_fire_time(previous, from) else {
            break;
        };
        let local = fire.with_timezone(&built.tz);
        writeln!(out, "{}", local.to_rfc3339_opts(SecondsFormat::Secs, false))
            .map_err(write_err)?;
        previous = Some(fire);
    }
    Ok(())
}
