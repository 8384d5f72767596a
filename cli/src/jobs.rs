//! `chime jobs …`: managing jobs in the configured store, whether or not a
//! daemon runs (a running daemon picks the changes up).

use std::io::Write;

use chime::chrono::{SecondsFormat, Utc};
use chime::store::RunOutcome;
use chime::{AsyncScheduler, Error, ErrorKind, JobFilter, NewJob};
use serde_json::json;

use crate::args::{AddArgs, JobsArgs, JobsCommand};
use crate::config::{self, parse_grace};
use crate::daemon::scheduler_for;
use crate::job_build::{command_spec, ORIGIN_LABEL};
use crate::schedule_args;
use crate::store_url::open_store;

fn write_err(e: std::io::Error) -> Error {
    Error::invalid(format!("cannot write output: {e}"))
}

/// Runs one `chime jobs` command, writing its output to `out`.
pub async fn run(args: &JobsArgs, out: &mut dyn Write) -> Result<(), Error> {
    let loaded = config::load(args.config.as_deref())?;
    let store = open_store(&loaded.config.store, &loaded.base_dir()).await?;
    let scheduler = scheduler_for(&loaded, store.clone())?;
    let tz = loaded.timezone()?;
    match &args.command {
        JobsCommand::List { json } => list(&scheduler, tz, *json, out).await,
        JobsCommand::Add(add) => {
            let job = scheduler
                .add_job(new_job(add, loaded.timezone()?.name())?)
                .await?;
            let next = job.next_run_time.map_or("paused".into(), |t| {
                t.with_timezone(&tz)
                    .to_rfc3339_opts(SecondsFormat::Secs, false)
            });
            writeln!(out, "added job '{}' (next run {next})", job.id).map_err(write_err)
        }
        JobsCommand::Remove { id } => {
            scheduler.remove_job(id).await?;
            writeln!(out, "removed job '{id}'").map_err(write_err)
        }
        JobsCommand::Pause { id } => {
            scheduler.pause_job(id).await?;
            writeln!(out, "paused job '{id}'").map_err(write_err)
        }
        JobsCommand::Resume { id } => match scheduler.resume_job(id).await? {
            Some(job) => {
                let next = job.next_run_time.map_or("-".into(), |t| {
                    t.with_timezone(&tz)
                        .to_rfc3339_opts(SecondsFormat::Secs, false)
                });
                writeln!(out, "resumed job '{id}' (next run {next})").map_err(write_err)
            }
            None => {
                writeln!(out, "job '{id}' will never fire again and was removed").map_err(write_err)
            }
        },
        JobsCommand::Run { id } => {
            // Mark it due now; the daemon (this one's, or the next to start)
            // runs it and then goes on with its schedule.
            let now = Utc::now();
            store
                .modify_job(id, &|job| {
                    job.next_run_time = Some(now);
                    job.trigger_time = None;
                    Ok(())
                })
                .await?;
            writeln!(out, "job '{id}' is due now; a running daemon starts it").map_err(write_err)
        }
        JobsCommand::History { id, json, limit } => {
            history(&scheduler, id, *limit, *json, tz, out).await
        }
    }
}

fn new_job(add: &AddArgs, scheduler_tz: &str) -> Result<NewJob, Error> {
    let mut schedule = add.schedule.clone();
    if schedule.tz.is_none() {
        schedule.tz = Some(scheduler_tz.to_owned());
    }
    let jitter = add
        .jitter
        .as_deref()
        .map(|t| {
            chime::duration::parse(t)
                .map_err(|e| Error::invalid(format!("--jitter: {}", e.message())))
        })
        .transpose()?;
    let built = schedule_args::build(&schedule, Utc::now(), jitter)?;
    let env = add
        .env
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Error::invalid(format!("--env: '{pair}' is not NAME=VALUE")))
        })
        .collect::<Result<std::collections::BTreeMap<_, _>, _>>()?;
    let timeout = add
        .timeout
        .as_deref()
        .map(|t| {
            chime::duration::parse(t)
                .map_err(|e| Error::invalid(format!("--timeout: {}", e.message())))
        })
        .transpose()?;
    let command = (!add.argv.is_empty()).then_some(add.argv.as_slice());
    let spec = command_spec(
        command,
        add.shell.as_deref(),
        Some(&env),
        add.cwd.as_deref(),
        timeout,
    )?;
    let mut job =
        NewJob::with_trigger(chime::executor::process::COMMAND_TASK, built.trigger).args(spec);
    if let Some(id) = &add.id {
        job = job.id(id.clone());
    }
    if let Some(name) = &add.name {
        job = job.name(name.clone());
    }
    if let Some(grace) = &add.misfire_grace_time {
        job = job.misfire_grace_time(
            parse_grace(grace)
                .map_err(|e| Error::invalid(format!("--misfire-grace-time: {}", e.message())))?,
        );
    }
    if let Some(max) = add.max_instances {
        job = job.max_instances(max);
    }
    if add.no_coalesce {
        job = job.coalesce(false);
    }
    if add.paused {
        job = job.paused();
    }
    Ok(job.replace_existing(add.replace))
}

async fn list(
    scheduler: &AsyncScheduler,
    tz: chime::chrono_tz::Tz,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jobs = scheduler.list_jobs(&JobFilter::all()).await?;
    let mut rows = Vec::new();
    for entry in &jobs {
        let job = &entry.job;
        let trigger = chime::trigger::TriggerRegistry::with_builtins()
            .decode(&job.trigger)
            .map(|t| t.describe())
            .unwrap_or_else(|e| format!("(unknown: {})", e.message()));
        let last = match scheduler.run_history(&job.id, 1).await {
            Ok(runs) => runs.into_iter().next(),
            Err(e) if e.kind() == ErrorKind::NotSupported => None,
            Err(e) => return Err(e),
        };
        rows.push(json!({
            "id": job.id,
            "name": job.name,
            "trigger": trigger,
            "next_run_time": job.next_run_time.map(|t| t.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false)),
            "paused": job.is_paused(),
            "from_config": job.labels.get(ORIGIN_LABEL).is_some_and(|o| o == "config"),
            "last_outcome": last.as_ref().map(|r| outcome_name(r.outcome)),
            "last_run": last.as_ref().map(|r| r.started_at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false)),
        }));
    }
    if as_json {
        let text =
            serde_json::to_string_pretty(&rows).map_err(|e| Error::invalid(e.to_string()))?;
        return writeln!(out, "{text}").map_err(write_err);
    }
    writeln!(
        out,
        "{:<20} {:<26} {:<8} {:<10} TRIGGER",
        "ID", "NEXT RUN", "PAUSED", "LAST"
    )
    .map_err(write_err)?;
    for row in rows {
        writeln!(
            out,
            "{:<20} {:<26} {:<8} {:<10} {}",
            row["id"].as_str().unwrap_or_default(),
            row["next_run_time"].as_str().unwrap_or("-"),
            if row["paused"].as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            },
            row["last_outcome"].as_str().unwrap_or("-"),
            row["trigger"].as_str().unwrap_or_default(),
        )
        .map_err(write_err)?;
    }
    Ok(())
}

fn outcome_name(outcome: RunOutcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn history(
    scheduler: &AsyncScheduler,
    id: &str,
    limit: usize,
    as_json: bool,
    tz: chime::chrono_tz::Tz,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let runs = scheduler.run_history(id, limit).await?;
    let fmt = |t: chime::chrono::DateTime<Utc>| {
        t.with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Millis, false)
    };
    if as_json {
        let rows: Vec<_> = runs
            .iter()
            .map(|r| {
                json!({
                    "scheduled_run_time": fmt(r.scheduled_run_time),
                    "started_at": fmt(r.started_at),
                    "finished_at": fmt(r.finished_at),
                    "outcome": outcome_name(r.outcome),
                    "message": r.message,
                })
            })
            .collect();
        let text =
            serde_json::to_string_pretty(&rows).map_err(|e| Error::invalid(e.to_string()))?;
        return writeln!(out, "{text}").map_err(write_err);
    }
    for r in runs {
        writeln!(
            out,
            "{}  {:<9} {}",
            fmt(r.started_at),
            outcome_name(r.outcome),
            r.message
                .unwrap_or_default()
                .lines()
                .last()
                .unwrap_or_default()
        )
        .map_err(write_err)?;
    }
    Ok(())
}
