//! `chime run`: the scheduler daemon.

use std::sync::Arc;

use chime::chrono::Utc;
use chime::executor::ProcessExecutor;
use chime::store::JobStore;
use chime::task::TaskRegistry;
use chime::{AsyncScheduler, Error, JobFilter};

use crate::args::RunArgs;
use crate::config::{self, Loaded};
use crate::job_build::{self, CONFIG_LABEL, ORIGIN_LABEL};
use crate::store_url::{open_store, redact};

/// Builds a scheduler (not started) on `store` with the `command` task and
/// the process executor configured by the file.
pub fn scheduler_for(loaded: &Loaded, store: Arc<dyn JobStore>) -> Result<AsyncScheduler, Error> {
    let tasks = TaskRegistry::new();
    chime::executor::process::register_command_task(&tasks)?;
    let (timeout, kill_grace) = loaded.executor_times()?;
    let e = &loaded.config.executor;
    let mut executor = ProcessExecutor::new(e.max_concurrency.unwrap_or(8));
    if let Some(t) = timeout {
        executor = executor.with_timeout(t);
    }
    if let Some(g) = kill_grace {
        executor = executor.with_kill_grace(g);
    }
    if let Some(limit) = e.output_limit {
        executor = executor.with_output_limit(limit);
    }
    AsyncScheduler::builder()
        .config(loaded.scheduler_config()?)
        .store_arc("default", store)
        .executor("default", executor)
        .tasks(tasks)
        .build()
}

/// Upserts the config's jobs by id (unchanged definitions are left alone,
/// so their schedule and missed fires carry over a restart) and removes
/// jobs that came from the config but are no longer in it.
pub async fn sync_config_jobs(loaded: &Loaded, scheduler: &AsyncScheduler) -> Result<(), Error> {
    let existing = scheduler.list_jobs(&JobFilter::all()).await?;
    let tz = loaded.timezone()?;
    let jitter = loaded.default_jitter()?;
    let now = Utc::now();
    let mut seen = std::collections::HashSet::new();
    for spanned in &loaded.config.jobs {
        let job = spanned.get_ref();
        let fail = |e: Error| {
            loaded.error_at(spanned.span(), format!("job '{}': {}", job.id, e.message()))
        };
        if !seen.insert(job.id.clone()) {
            return Err(fail(Error::invalid(
                "this id is used by another [[job]] too",
            )));
        }
        let new_job = job_build::from_config(job, tz.name(), jitter, now).map_err(fail)?;
        let definition = serde_json::to_string(job).unwrap_or_default();
        let current = existing.iter().find(|j| j.job.id == job.id);
        match current {
            Some(c) if c.job.labels.get(CONFIG_LABEL) == Some(&definition) => {
                tracing::debug!(job_id = %job.id, "config job unchanged");
            }
            Some(c) => {
                if c.job.labels.get(ORIGIN_LABEL).map(String::as_str) != Some("config") {
                    tracing::warn!(job_id = %job.id, "a job added at run time has the id of a config job; the config replaces it");
                }
                scheduler.add_job(new_job).await.map_err(fail)?;
                tracing::info!(job_id = %job.id, "config job updated");
            }
            None => {
                scheduler.add_job(new_job).await.map_err(fail)?;
                tracing::info!(job_id = %job.id, "config job added");
            }
        }
    }
    for gone in existing.iter().filter(|j| {
        j.job.labels.get(ORIGIN_LABEL).map(String::as_str) == Some("config")
            && !seen.contains(j.job.id.as_str())
    }) {
        scheduler.remove_job(&gone.job.id).await?;
        tracing::info!(job_id = %gone.job.id, "job removed: it left the config");
    }
    Ok(())
}

/// Logs each run's outcome (the command's output tail is in failures).
fn log_outcomes(scheduler: &AsyncScheduler) {
    use chime::{Event, EventMask};
    scheduler.add_listener(EventMask::JOB_OUTCOME | EventMask::JOB_MISSED, |event| match event {
        Event::JobExecuted { job_id, duration, scheduled_run_time, .. } => {
            tracing::info!(%job_id, ?duration, scheduled = %scheduled_run_time, "job ran");
        }
        Event::JobError { job_id, outcome, error, .. } => {
            tracing::warn!(%job_id, ?outcome, %error, "job failed");
        }
        Event::JobMissed { job_id, scheduled_run_times, more_not_listed, .. } => {
            tracing::warn!(%job_id, missed = scheduled_run_times.len(), more = *more_not_listed, "runs missed (later than misfire_grace_time)");
        }
        _ => {}
    });
}

async fn wait_for_signal() -> Result<&'static str, Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::invalid(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::invalid(format!("cannot watch SIGINT: {e}")))?;
    tokio::select! {
        _ = term.recv() => Ok("SIGTERM"),
        _ = int.recv() => Ok("SIGINT"),
    }
}

/// Runs the daemon until SIGINT or SIGTERM.
pub async fn run(args: &RunArgs) -> Result<(), Error> {
    let loaded = config::load(args.config.as_deref())?;
    let url = loaded.config.store.clone();
    let store = open_store(&url, &loaded.base_dir()).await?;
    let scheduler = scheduler_for(&loaded, store)?;
    sync_config_jobs(&loaded, &scheduler).await?;
    let shutdown_timeout = match &args.shutdown_timeout {
        Some(text) => chime::duration::parse(text)
            .map_err(|e| Error::invalid(format!("--shutdown-timeout: {}", e.message())))?,
        None => scheduler.config().shutdown_timeout,
    };
    log_outcomes(&scheduler);
    scheduler.start().await?;
    let jobs = scheduler.list_jobs(&JobFilter::all()).await?.len();
    tracing::info!(store = %redact(&url), jobs, pid = std::process::id(), "chime is running");
    let signal = wait_for_signal().await?;
    tracing::info!(signal, timeout = ?shutdown_timeout, "shutting down: waiting for running jobs");
    scheduler.shutdown_with_timeout(shutdown_timeout).await?;
    tracing::info!("stopped");
    Ok(())
}
