//! Turning a job definition (a `[[job]]` table or `chime jobs add`
//! options) into a `NewJob` running the built-in `command` task.

use std::time::Duration;

use chime::chrono::{DateTime, Utc};
use chime::executor::CommandSpec;
use chime::job::NextRun;
use chime::{Error, NewJob};

use crate::args::ScheduleArgs;
use crate::config::{parse_grace, JobConfig};
use crate::schedule_args;

/// Label marking jobs that come from the config file.
pub const ORIGIN_LABEL: &str = "chime.origin";
/// Label holding the config definition a job was built from.
pub const CONFIG_LABEL: &str = "chime.config";

fn duration(key: &str, text: &Option<String>) -> Result<Option<Duration>, Error> {
    text.as_deref()
        .map(|t| {
            chime::duration::parse(t).map_err(|e| Error::invalid(format!("{key}: {}", e.message())))
        })
        .transpose()
}

/// The command spec of a job: `command` (argv, no shell) or `shell`.
pub fn command_spec(
    command: Option<&[String]>,
    shell: Option<&str>,
    env: Option<&std::collections::BTreeMap<String, String>>,
    cwd: Option<&str>,
    timeout: Option<Duration>,
) -> Result<CommandSpec, Error> {
    let mut spec = match (command, shell) {
        (Some(argv), None) => {
            if argv.is_empty() || argv[0].trim().is_empty() {
                return Err(Error::invalid(
                    "command: give the program and its arguments, e.g. [\"backup.sh\", \"--full\"]",
                ));
            }
            CommandSpec::new(argv.iter().cloned())
        }
        (None, Some(script)) => {
            if script.trim().is_empty() {
                return Err(Error::invalid("shell: the script is empty"));
            }
            CommandSpec::shell(script)
        }
        (Some(_), Some(_)) => return Err(Error::invalid("give either command or shell, not both")),
        (None, None) => {
            return Err(Error::invalid(
                "a job needs a command (or an explicit shell script)",
            ))
        }
    };
    for (name, value) in env.into_iter().flatten() {
        spec = spec.env(name, value);
    }
    if let Some(dir) = cwd {
        spec = spec.cwd(dir);
    }
    if let Some(t) = timeout {
        spec = spec.timeout(t);
    }
    Ok(spec)
}

/// Builds the job a `[[job]]` table describes, labelled as coming from the
/// config (with the definition itself, to tell later whether it changed).
pub fn from_config(
    job: &JobConfig,
    scheduler_tz: &str,
    default_jitter: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<NewJob, Error> {
    let schedule = ScheduleArgs {
        cron: job.cron.clone(),
        fields: job
            .fields
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        interval: job.interval.clone(),
        at: job.at.clone(),
        calendar: job.calendar.clone(),
        tz: Some(
            job.timezone
                .clone()
                .unwrap_or_else(|| scheduler_tz.to_owned()),
        ),
        start_date: job.start_date.clone(),
        end_date: job.end_date.clone(),
    };
    let jitter = duration("jitter", &job.jitter)?.or(default_jitter);
    let built = schedule_args::build(&schedule, now, jitter)?;
    let spec = command_spec(
        job.command.as_deref(),
        job.shell.as_deref(),
        job.env.as_ref(),
        job.cwd.as_deref(),
        duration("timeout", &job.timeout)?,
    )?;
    let definition = serde_json::to_string(job)
        .map_err(|e| Error::invalid(format!("cannot encode the job definition: {e}")))?;
    let mut new_job = NewJob::with_trigger(chime::executor::process::COMMAND_TASK, built.trigger)
        .id(job.id.clone())
        .args(spec)
        .replace_existing(true)
        .label(ORIGIN_LABEL, "config")
        .label(CONFIG_LABEL, definition);
    if let Some(name) = &job.name {
        new_job = new_job.name(name.clone());
    }
    if let Some(grace) = &job.misfire_grace_time {
        new_job = new_job.misfire_grace_time(
            parse_grace(grace)
                .map_err(|e| Error::invalid(format!("misfire_grace_time: {}", e.message())))?,
        );
    }
    if let Some(coalesce) = job.coalesce {
        new_job = new_job.coalesce(coalesce);
    }
    if let Some(max) = job.max_instances {
        new_job = new_job.max_instances(max);
    }
    if let Some(priority) = job.priority {
        new_job = new_job.priority(priority);
    }
    if job.paused == Some(true) {
        new_job = new_job.next_run(NextRun::Paused);
    }
    Ok(new_job)
}
