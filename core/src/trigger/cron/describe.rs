//! English description of a [`CronSchedule`], built from the parsed sets
//! (so `@daily` and `0 0 * * *` describe identically).

use super::field::{bits_iter, range_bits, DayCombine, DaySet, YearSet, MAX_YEAR};
use super::schedule::CronSchedule;

const MONTHS: [&str; 13] = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Indexed by internal weekday number (0 = Sunday).
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const ORDINALS: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];

/// Shape of a value set.
enum Shape {
    /// Every value of the field.
    All,
    /// `start`, `start+step`, … up to the field maximum (step > 1).
    Step { start: u32, step: u32 },
    /// Anything else (sorted values, at least one).
    List(Vec<u32>),
}

fn shape(bits: u64, min: u32, max: u32) -> Shape {
    if bits == range_bits(min, max, 1) {
        return Shape::All;
    }
    let values: Vec<u32> = bits_iter(bits).collect();
    if values.len() >= 3 {
        let (start, step) = (values[0], values[1] - values[0]);
        if step > 1 && start < step + min && bits == range_bits(start, max, step) {
            return Shape::Step { start, step };
        }
    }
    Shape::List(values)
}

/// "a, b and c", with runs of three or more consecutive values written as
/// "x through y".
fn list_phrase(values: &[u32], name: impl Fn(u32) -> String) -> String {
    let mut items: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            items.push(format!("{} through {}", name(values[i]), name(values[j])));
        } else {
            items.extend(values[i..=j].iter().map(|v| name(*v)));
        }
        i = j + 1;
    }
    join_and(&items)
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

fn single(bits: u64) -> Option<u32> {
    (bits.count_ones() == 1).then(|| bits.trailing_zeros())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn unit_phrase(bits: u64, max: u32, unit: &str) -> Option<String> {
    match shape(bits, 0, max) {
        Shape::All => None,
        Shape::Step { start: 0, step } => Some(format!("every {step} {unit}s")),
        Shape::Step { start, step } => {
            Some(format!("every {step} {unit}s starting at {unit} {start}"))
        }
        Shape::List(v) => Some(format!(
            "at {} {}",
            plural(v.len(), unit),
            list_phrase(&v, |x| x.to_string())
        )),
    }
}

fn time_phrase(s: &CronSchedule) -> String {
    let (sec, min, hour) = (s.seconds, s.minutes, s.hours);
    if let (Some(sv), Some(mv)) = (single(sec), single(min)) {
        let hours: Vec<u32> = bits_iter(hour).collect();
        if hours.len() <= 6 {
            let times: Vec<String> = hours
                .iter()
                .map(|h| {
                    if sv == 0 {
                        format!("{h:02}:{mv:02}")
                    } else {
                        format!("{h:02}:{mv:02}:{sv:02}")
                    }
                })
                .collect();
            return format!("at {}", join_and(&times));
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let all_seconds = sec == range_bits(0, 59, 1);
    if all_seconds {
        parts.push("every second".into());
    } else if sec != 1 {
        parts.extend(unit_phrase(sec, 59, "second"));
    }
    match unit_phrase(min, 59, "minute") {
        Some(p) => parts.push(p),
        None if sec == 1 => parts.push("every minute".into()),
        None => {}
    }
    if let Some(m) = single(min).filter(|_| hour == range_bits(0, 23, 1)) {
        // "at minute 30" reads better as "at minute 30 past every hour".
        if let Some(last) = parts.last_mut() {
            *last = format!("at minute {m} past every hour");
        }
    } else {
        match shape(hour, 0, 23) {
            Shape::All => {}
            Shape::Step { start: 0, step } => parts.push(format!("every {step} hours")),
            Shape::Step { start, step } => {
                parts.push(format!("every {step} hours starting at {start:02}:00"))
            }
            Shape::List(v) => parts.push(format!(
                "{} {}",
                plural(v.len(), "during hour"),
                list_phrase(&v, |h| format!("{h:02}"))
            )),
        }
    }
    parts.join(", ")
}

fn weekday_order(bits: u8) -> Vec<u32> {
    // Monday first so that "Monday through Friday" and "Saturday and Sunday"
    // come out as runs.
    [1u32, 2, 3, 4, 5, 6, 0]
        .into_iter()
        .filter(|w| bits & (1 << w) != 0)
        .collect()
}

fn weekday_name(position: u32) -> String {
    // `position` is 1..=7 with 7 = Sunday (Monday-first order).
    WEEKDAYS[(position % 7) as usize].to_string()
}

fn dom_phrases(set: &DaySet) -> Vec<String> {
    let mut out = Vec::new();
    if set.days != 0 {
        out.push(match shape(set.days, 1, 31) {
            Shape::All => "every day".to_string(),
            Shape::Step { start, step } => {
                format!("every {step} days of the month starting on day {start}")
            }
            Shape::List(v) => format!(
                "on {} {} of the month",
                plural(v.len(), "day"),
                list_phrase(&v, |d| d.to_string())
            ),
        });
    }
    if set.last_day {
        out.push("on the last day of the month".into());
    }
    if set.last_weekday {
        out.push("on the last weekday of the month".into());
    }
    for n in bits_iter(set.nearest_weekday) {
        out.push(format!("on the weekday nearest day {n} of the month"));
    }
    out.extend(dow_phrases(set));
    out
}

fn dow_phrases(set: &DaySet) -> Vec<String> {
    let mut out = Vec::new();
    if set.weekdays != 0 && set.weekdays != 0x7f {
        let order: Vec<u32> = weekday_order(set.weekdays)
            .into_iter()
            .map(|w| if w == 0 { 7 } else { w })
            .collect();
        let list = list_phrase(&order, weekday_name);
        out.push(if order.len() == 1 {
            format!("only on {list}")
        } else if order.len() >= 3 && order.windows(2).all(|p| p[1] == p[0] + 1) {
            list
        } else {
            format!("on {list}")
        });
    }
    for (i, set_bits) in set.nth_weekday.iter().enumerate() {
        for w in weekday_order(*set_bits) {
            out.push(format!(
                "on the {} {} of the month",
                ORDINALS[i], WEEKDAYS[w as usize]
            ));
        }
    }
    for w in weekday_order(set.last_of_weekday) {
        out.push(format!("on the last {} of the month", WEEKDAYS[w as usize]));
    }
    out
}

fn day_phrase(s: &CronSchedule) -> Option<String> {
    let rule = &s.days;
    let dom_all = rule.dom.days == range_bits(1, 31, 1);
    let dow_all = rule.dow.weekdays == 0x7f;
    let dom = if dom_all {
        Vec::new()
    } else {
        dom_phrases(&rule.dom)
    };
    let dow = if dow_all {
        Vec::new()
    } else {
        dom_phrases(&rule.dow)
    };
    let dom_text = join_or(&dom);
    let dow_text = join_or(&dow);
    match (dom_text, dow_text) {
        (None, None) => None,
        (Some(d), None) | (None, Some(d)) => Some(d),
        (Some(a), Some(b)) => Some(match rule.combine {
            DayCombine::Or => format!("{a} or {b}"),
            DayCombine::And => format!("{a}, {b}"),
        }),
    }
}

fn join_or(items: &[String]) -> Option<String> {
    match items {
        [] => None,
        [one] => Some(one.clone()),
        [init @ .., last] => Some(format!("{} or {}", init.join(", "), last)),
    }
}

fn week_phrase(s: &CronSchedule) -> Option<String> {
    let weeks = s.days.weeks?;
    let v: Vec<u32> = bits_iter(weeks).collect();
    Some(format!(
        "in ISO {} {}",
        plural(v.len(), "week"),
        list_phrase(&v, |w| w.to_string())
    ))
}

fn month_phrase(s: &CronSchedule) -> Option<String> {
    match shape(s.months, 1, 12) {
        Shape::All => None,
        Shape::Step { start, step } => Some(format!(
            "every {step} months starting in {}",
            MONTHS[start as usize]
        )),
        Shape::List(v) => Some(format!(
            "in {}",
            list_phrase(&v, |m| MONTHS[m as usize].to_string())
        )),
    }
}

fn year_phrase(s: &CronSchedule) -> Option<String> {
    let YearSet::Ranges(ranges) = &s.years else {
        return None;
    };
    let items: Vec<String> = ranges
        .iter()
        .map(|r| match (r.start == r.end, r.step) {
            (true, _) => r.start.to_string(),
            (false, 1) => format!("{} through {}", r.start, r.end),
            (false, step) if r.end == MAX_YEAR => format!("every {step} years from {}", r.start),
            (false, step) => format!("every {step} years from {} through {}", r.start, r.end),
        })
        .collect();
    let joined = join_and(&items);
    if joined.starts_with("every") {
        Some(joined)
    } else {
        Some(format!("in {joined}"))
    }
}

impl CronSchedule {
    /// English description, e.g. `"at 02:30, Monday through Friday"` or
    /// `"every 15 minutes"`. Built from the parsed value sets, so equivalent
    /// expressions describe identically.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            Some(time_phrase(self)),
            day_phrase(self),
            week_phrase(self),
            month_phrase(self),
            year_phrase(self),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
        parts.join(", ")
    }
}
