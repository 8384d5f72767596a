//! `CronTrigger`: the cron engine as a storable trigger with time zone,
//! bounds and jitter, and run by the scheduler.

use chime::chrono::{DateTime, Utc};
use chime::chrono_tz::{America, Europe};
use chime::trigger::{CronFields, CronTrigger, Trigger, TriggerRegistry};
use chime::{ErrorKind, NewJob};

use crate::harness::{at, builder_with};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn crontab_spec_round_trips_as_written() {
    let trig = CronTrigger::crontab("30 2 * * mon-fri")
        .unwrap()
        .timezone(Europe::Helsinki)
        .starting_at(t("2026-01-01T00:00:00Z"));
    let spec = trig.to_spec().unwrap();
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "kind": "cron",
            "crontab": "30 2 * * mon-fri",
            "timezone": "Europe/Helsinki",
            "start_date": "2026-01-01T00:00:00Z"
        })
    );
    let back = TriggerRegistry::with_builtins().decode(&spec).unwrap();
    assert_eq!(back.describe(), trig.describe());
    let from = t("2026-03-01T00:00:00Z");
    assert_eq!(
        back.next_fire_time(None, from),
        trig.next_fire_time(None, from)
    );
}

#[test]
fn fields_spec_round_trips_and_rejects_unknown_fields() {
    let fields = CronFields {
        day: Some("3rd fri".into()),
        hour: Some("9".into()),
        ..CronFields::default()
    };
    let trig = CronTrigger::from_fields(fields).unwrap();
    let json = serde_json::to_value(trig.to_spec().unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "cron", "fields": {"day": "3rd fri", "hour": "9"}})
    );
    let bad = chime::trigger::TriggerSpec::from_value(
        serde_json::json!({"kind": "cron", "fields": {"hours": "9"}}),
    )
    .unwrap();
    let err = TriggerRegistry::with_builtins().decode(&bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownTrigger);
    assert!(err.message().contains("hours"), "{err}");
}

#[test]
fn invalid_expressions_name_the_field_and_range() {
    let err = CronTrigger::crontab("0 24 * * *").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("hour: 24 is out of range 0-23"),
        "{err}"
    );
    let stored = chime::trigger::TriggerSpec::from_value(
        serde_json::json!({"kind": "cron", "crontab": "61 * * * *"}),
    )
    .unwrap();
    let err = TriggerRegistry::with_builtins()
        .decode(&stored)
        .unwrap_err();
    assert!(err.message().contains("minute: 61"), "{err}");
}

#[test]
fn start_and_end_dates_are_inclusive_bounds() {
    // Every day at 12:00 UTC, from Jan 3 12:00 to Jan 5 12:00 inclusive.
    let trig = CronTrigger::crontab("0 12 * * *")
        .unwrap()
        .starting_at(t("2026-01-03T12:00:00Z"))
        .ending_at(t("2026-01-05T12:00:00Z"));
    let from = t("2026-01-01T00:00:00Z");
    let first = trig.next_fire_time(None, from).unwrap();
    assert_eq!(first, t("2026-01-03T12:00:00Z"));
    let second = trig.next_fire_time(Some(first), from).unwrap();
    assert_eq!(second, t("2026-01-04T12:00:00Z"));
    let third = trig.next_fire_time(Some(second), from).unwrap();
    assert_eq!(third, t("2026-01-05T12:00:00Z"));
    assert_eq!(trig.next_fire_time(Some(third), from), None);
    // A previous fire from before the start never yields a fire before it.
    assert_eq!(
        trig.next_fire_time(Some(t("2025-12-01T12:00:00Z")), from),
        Some(first)
    );
}

#[test]
fn describe_names_the_zone() {
    let trig = CronTrigger::crontab("0 9 * * 1-5")
        .unwrap()
        .timezone(America::New_York);
    assert!(
        trig.describe().ends_with(", America/New_York"),
        "{}",
        trig.describe()
    );
}

#[tokio::test(start_paused = true)]
async fn a_cron_job_without_a_zone_uses_the_schedulers() {
    // The test clock starts 2026-01-01T00:00:00Z; 02:00 in Helsinki (UTC+2
    // in winter) is 00:00 UTC, so "0 2 * * *" first fires Jan 1 at 00:00 UTC
    // exactly (>= now), then Jan 2 00:00 UTC.
    let h = builder_with(|b| b.timezone(Europe::Helsinki));
    let job = h
        .scheduler
        .add_job(NewJob::new("record", CronTrigger::crontab("0 2 * * *").unwrap()).id("nightly"))
        .await
        .unwrap();
    assert_eq!(job.next_run_time, Some(at(0)));
    let spec = serde_json::to_value(&job.trigger).unwrap();
    assert_eq!(
        spec["timezone"], "Europe/Helsinki",
        "the zone is stored with the job"
    );
    h.scheduler.start().await.unwrap();
    h.run_until(at(86_400 + 3600)).await;
    assert_eq!(h.fires("nightly"), vec![at(0), at(86_400)]);
}
