//! Schedules a few jobs on the in-memory store and prints each fire.
//!
//! Run with `cargo run --example quickstart`; it stops by itself after ~12 s.

use std::time::Duration;

use chime::store::MemoryStore;
use chime::trigger::{DateTrigger, IntervalTrigger};
use chime::{AsyncScheduler, Event, EventMask, NewJob, TaskContext};

#[tokio::main]
async fn main() -> chime::Result<()> {
    let scheduler = AsyncScheduler::builder()
        .store("default", MemoryStore::new())
        .task_async("say", |ctx: TaskContext, text: String| async move {
            println!(
                "{}  {:<8} {text}",
                ctx.scheduled_run_time.format("%H:%M:%S%.3f"),
                ctx.job_id
            );
        })
        .task_blocking("fail", |_ctx: TaskContext, _: ()| -> Result<(), String> {
            Err("this job always fails".into())
        })
        .build()?;

    scheduler.add_listener(EventMask::JOB_ERROR | EventMask::JOB_MISSED, |event| {
        if let Event::JobError { job_id, error, .. } = event {
            println!("          {job_id:<8} failed: {error}");
        }
    });
    scheduler.start().await?;

    let now = scheduler.now();
    scheduler
        .add_job(
            NewJob::new("say", IntervalTrigger::seconds(2)?.starting_at(now))
                .id("every-2s")
                .args("tick"),
        )
        .await?;
    scheduler
        .add_job(
            NewJob::new("say", IntervalTrigger::seconds(5)?)
                .id("every-5s")
                .args("tock"),
        )
        .await?;
    scheduler
        .add_job(
            NewJob::new(
                "fail",
                DateTrigger::new(now + chime::chrono::TimeDelta::seconds(3)),
            )
            .id("once"),
        )
        .await?;
    scheduler
        .run_after(Duration::from_secs(11), "say", "one-shot after 11 s")
        .await?;

    tokio::time::sleep(Duration::from_secs(12)).await;
    scheduler.shutdown().await?;
    println!("done");
    Ok(())
}
