//! End-to-end tests of the `chime` binary. Expected fire times are worked
//! out from the calendar and the zones' daylight-saving rules (see comments).

use std::process::{Command, Output};

fn chime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chime"))
        .args(args)
        .output()
        .expect("the chime binary runs")
}

fn lines(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Asserts a usage error: status 2 and exactly one line on stderr containing `text`.
fn usage_error(args: &[&str], text: &str) {
    let out = chime(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr, got: {stderr}"
    );
    assert!(
        stderr.contains(text),
        "{args:?}: '{stderr}' should contain '{text}'"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn next_prints_rfc3339_with_the_offset_of_each_instant() {
    // Helsinki moves from +02:00 to +03:00 at 03:00 local on 2026-03-29 (the
    // last Sunday of March); 02:30 that night is still +02:00.
    let out = chime(&[
        "next",
        "--cron",
        "30 2 * * *",
        "--tz",
        "Europe/Helsinki",
        "--from",
        "2026-03-29T00:00:00+02:00",
        "-n",
        "3",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-03-29T02:30:00+02:00",
            "2026-03-30T02:30:00+03:00",
            "2026-03-31T02:30:00+03:00"
        ]
    );
}

#[test]
fn a_fixed_time_inside_the_gap_fires_at_the_first_instant_after_it() {
    // 03:30 does not exist in Helsinki on 2026-03-29 (03:00 -> 04:00).
    let out = chime(&[
        "next",
        "--cron",
        "30 3 * * *",
        "--tz",
        "Europe/Helsinki",
        "--from",
        "2026-03-28T12:00:00+02:00",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-03-29T04:00:00+03:00", "2026-03-30T03:30:00+03:00"]
    );
}

#[test]
fn overlap_fixed_time_fires_once_wildcard_fires_in_both_passes() {
    // New York falls back from 02:00 EDT to 01:00 EST on 2026-11-01 (the
    // first Sunday of November): 01:00-01:59 happens twice.
    let out = chime(&[
        "next",
        "--cron",
        "30 1 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2026-10-31T12:00:00-04:00",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    );
    let out = chime(&[
        "next",
        "--cron",
        "*/30 1 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2026-11-01T00:45:00-04:00",
        "-n",
        "4",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00"
        ]
    );
}

#[test]
fn fields_form_takes_repeated_field_options() {
    // 3rd Friday at 09:00 UTC: Jan 2026 starts on a Thursday (Fridays 2, 9,
    // 16); Feb and Mar start on a Sunday (Fridays 6, 13, 20).
    let out = chime(&[
        "next",
        "--field",
        "day=3rd fri",
        "--field",
        "hour=9",
        "--from",
        "2026-01-01T00:00:00Z",
        "-n",
        "3",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-01-16T09:00:00+00:00",
            "2026-02-20T09:00:00+00:00",
            "2026-03-20T09:00:00+00:00"
        ]
    );
}

#[test]
fn intervals_anchor_at_from_plus_interval_or_at_the_start_date() {
    let out = chime(&[
        "next",
        "--interval",
        "1h30m",
        "--from",
        "2026-01-01T00:00:00Z",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-01-01T01:30:00+00:00", "2026-01-01T03:00:00+00:00"]
    );
    // Slots 00:00, 00:45, 01:30, 02:15…; the first at or after 01:00 is 01:30.
    let out = chime(&[
        "next",
        "--interval",
        "45m",
        "--start-date",
        "2026-01-01T00:00:00Z",
        "--from",
        "2026-01-01T01:00:00Z",
        "-n",
        "2",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-01-01T01:30:00+00:00", "2026-01-01T02:15:00+00:00"]
    );
}

#[test]
fn at_fires_once_and_local_times_use_the_zone() {
    // London is on BST (+01:00) in June.
    let out = chime(&[
        "next",
        "--at",
        "2026-06-01 12:00",
        "--tz",
        "Europe/London",
        "--from",
        "2026-01-01",
        "-n",
        "3",
    ]);
    assert_eq!(lines(&out), ["2026-06-01T12:00:00+01:00"]);
}

#[test]
fn end_date_bounds_the_output_and_never_firing_prints_nothing() {
    let out = chime(&[
        "next",
        "--cron",
        "0 12 * * *",
        "--from",
        "2026-01-01T00:00:00Z",
        "--end-date",
        "2026-01-02T12:00:00Z",
        "-n",
        "5",
    ]);
    assert_eq!(
        lines(&out),
        ["2026-01-01T12:00:00+00:00", "2026-01-02T12:00:00+00:00"]
    );
    let out = chime(&[
        "next",
        "--cron",
        "0 0 30 2 *",
        "--from",
        "2026-01-01T00:00:00Z",
    ]);
    assert!(lines(&out).is_empty());
}

#[test]
fn describe_comes_first() {
    let out = chime(&[
        "next",
        "--describe",
        "--cron",
        "30 2 * * mon-fri",
        "--tz",
        "Europe/Helsinki",
        "--from",
        "2026-01-02T12:00:00+02:00",
        "-n",
        "1",
    ]);
    // Friday Jan 2 noon -> Monday Jan 5 02:30.
    assert_eq!(
        lines(&out),
        [
            "at 02:30, Monday through Friday, Europe/Helsinki",
            "2026-01-05T02:30:00+02:00"
        ]
    );
}

#[test]
fn invalid_input_is_one_line_and_status_2() {
    usage_error(
        &["next", "--cron", "0 24 * * *"],
        "hour: 24 is out of range 0-23",
    );
    usage_error(
        &["next", "--cron", "0 0 * * *", "--tz", "Mars/Olympus"],
        "Mars/Olympus",
    );
    usage_error(&["next"], "exactly one of");
    usage_error(
        &["next", "--cron", "* * * * *", "--interval", "5m"],
        "cannot be used with",
    );
    usage_error(&["next", "--interval", "0s"], "--interval");
    usage_error(&["next", "--interval", "soon"], "--interval: duration");
    usage_error(&["next", "--field", "hours=9"], "unknown field 'hours'");
    usage_error(&["next", "--field", "hour"], "NAME=EXPR");
    usage_error(
        &["next", "--cron", "@daily", "--from", "yesterday"],
        "--from: 'yesterday'",
    );
    usage_error(
        &[
            "next",
            "--cron",
            "@daily",
            "--start-date",
            "2026-02-01",
            "--end-date",
            "2026-01-01",
        ],
        "before --start-date",
    );
    usage_error(&["next", "--cron", "@daily", "-n", "many"], "many");
    usage_error(&["frobnicate"], "frobnicate");
}

#[test]
fn calendar_intervals_keep_the_wall_clock_and_clamp_month_ends() {
    // Anchored on Jan 31 (the --from date) at 09:00 London time; Jan 31
    // 09:00 is before --from (12:00), so the first fire is the next month:
    // Feb has no 31st (clamped to the 28th, 2026 is not a leap year), then
    // back to the 31st in March, which is on BST (+01:00) since Mar 29.
    let out = chime(&[
        "next",
        "--calendar",
        "1 month at 09:00",
        "--tz",
        "Europe/London",
        "--from",
        "2026-01-31T12:00:00Z",
        "-n",
        "3",
    ]);
    assert_eq!(
        lines(&out),
        [
            "2026-02-28T09:00:00+00:00",
            "2026-03-31T09:00:00+01:00",
            "2026-04-30T09:00:00+01:00"
        ]
    );
    usage_error(
        &["next", "--calendar", "1 fortnight"],
        "unknown unit 'fortnight'",
    );
}
