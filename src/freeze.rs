//! Freeze windows: times in which no promotion into the listed environments
//! starts. A window is absolute (`from`/`until`, RFC 3339) or recurring (a five-field cron
//! `schedule` in an IANA `timeZone`, each occurrence open for `duration`).
//!
//! Pure: parsing, validation with field paths, and whether a window is open at a time.

use std::str::FromStr;

use crate::input::GoDuration;
use crate::pipeline_config::{FreezeSpec, PipelineConfig};
use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The longest a recurring window may stay open after one occurrence.
pub const MAX_DURATION: TimeDelta = TimeDelta::days(31);

/// The most windows a pipeline may have.
pub const MAX_WINDOWS: usize = 20;

/// When a window is open.
#[derive(Debug, Clone)]
enum When {
    Absolute {
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    Recurring {
        schedule: Box<Cron>,
        /// The schedule as written, for searches bounded in years.
        text: String,
        duration: TimeDelta,
        zone: Tz,
    },
}

/// How far ahead a recurring window must open: a five-field schedule that names no date
/// within four years (30 February) never opens.
pub const HORIZON_YEARS: i32 = 4;

/// The most openings a chain of overlapping openings may have before it closes; a window
/// whose duration covers its period never closes.
const MAX_CHAIN: usize = 1000;

/// A validated window.
#[derive(Debug, Clone)]
pub struct Window {
    /// Its name.
    pub name: String,
    /// Its environments.
    pub environments: Vec<String>,
    /// Why.
    pub reason: String,
    when: When,
}

/// An open window: which, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen {
    /// The window's name.
    pub name: String,
    /// Why.
    pub reason: String,
    /// When it opened (the opening of the chain of openings that keeps it open).
    pub opened: DateTime<Utc>,
    /// When it closes.
    pub until: DateTime<Utc>,
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads a five-field cron schedule (minute, hour, day of month, month, day of week).
pub fn parse_schedule(text: &str) -> Result<Cron, String> {
    if text.split_whitespace().count() != 5 {
        return Err(format!(
            "{text:?} must be a five-field cron schedule (minute hour day-of-month month day-of-week)"
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(text)
        .map_err(|e| format!("{text:?} is not a cron schedule: {e}"))
}

/// The times of an absolute window (`from` before `until`, both RFC 3339).
fn absolute_times(spec: &FreezeSpec, error: &mut dyn FnMut(&str, String)) -> Option<When> {
    let from = spec.from.as_deref().map(|t| (t, parse_time(t)));
    let until = spec.until.as_deref().map(|t| (t, parse_time(t)));
    match (from, until) {
        (Some((_, Some(from))), Some((_, Some(until)))) if until > from => {
            Some(When::Absolute { from, until })
        }
        (Some((_, Some(_))), Some((text, Some(_)))) => {
            error("until", format!("{text:?} must be after from"));
            None
        }
        (from, until) => {
            for (field, value) in [("from", from), ("until", until)] {
                match value {
                    None => error(field, "is required for an absolute window".into()),
                    Some((text, None)) => error(
                        field,
                        format!("{text:?} is not an RFC 3339 time such as 2026-12-24T00:00:00Z"),
                    ),
                    Some(_) => {}
                }
            }
            None
        }
    }
}

/// The schedule, duration and zone of a recurring window.
fn recurrence(spec: &FreezeSpec, error: &mut dyn FnMut(&str, String)) -> Option<When> {
    let schedule = spec.schedule.as_deref();
    if schedule.is_none() {
        error("schedule", "is required for a recurring window".into());
    }
    let schedule =
        schedule.and_then(|text| parse_schedule(text).map_err(|e| error("schedule", e)).ok());
    let duration = spec.duration.as_deref();
    if duration.is_none() {
        error("duration", "is required for a recurring window".into());
    }
    let duration = duration.and_then(|text| match GoDuration::parse(text) {
        Ok(GoDuration(d)) => match TimeDelta::from_std(d) {
            Ok(d) if d <= MAX_DURATION => Some(d),
            _ => {
                error(
                    "duration",
                    format!("{text:?} must be at most {}h", MAX_DURATION.num_hours()),
                );
                None
            }
        },
        Err(e) => {
            error("duration", e);
            None
        }
    });
    let zone = spec.time_zone.as_deref();
    if zone.is_none() {
        error("timeZone", "is required for a recurring window".into());
    }
    let zone = zone.and_then(|text| {
        Tz::from_str(text)
            .map_err(|_| {
                error(
                    "timeZone",
                    format!("{text:?} is not an IANA time zone such as Europe/Berlin"),
                )
            })
            .ok()
    });
    Some(When::Recurring {
        schedule: Box::new(schedule?),
        text: spec.schedule.clone().unwrap_or_default(),
        duration: duration?,
        zone: zone?,
    })
}

impl Window {
    /// Validates `spec` at `path` (`spec.freezes[i]`) against the pipeline's
    /// environments; every problem is pushed as `(field path, message)`.
    pub fn parse(
        spec: &FreezeSpec,
        path: &str,
        environments: &[String],
        errors: &mut Vec<(String, String)>,
    ) -> Option<Window> {
        let before = errors.len();
        let mut error = |field: &str, message: String| {
            let at = if field.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
            errors.push((at, message));
        };
        if !crate::names::is_dns_label(&spec.name) {
            error(
                "name",
                format!(
                    "{:?} must be a lowercase name of letters, digits and '-' (at most 63)",
                    spec.name
                ),
            );
        }
        if spec.environments.is_empty() {
            error("environments", "must name at least one environment".into());
        }
        for (i, env) in spec.environments.iter().enumerate() {
            if !environments.contains(env) {
                error(
                    &format!("environments[{i}]"),
                    format!(
                        "{env:?} is not one of spec.environments [{}]",
                        environments.join(", ")
                    ),
                );
            }
        }
        let absolute = spec.from.is_some() || spec.until.is_some();
        let recurring =
            spec.schedule.is_some() || spec.duration.is_some() || spec.time_zone.is_some();
        let when = match (absolute, recurring) {
            (true, true) | (false, false) => {
                error(
                    "",
                    "must be either absolute (from and until) or recurring (schedule, duration and timeZone)".into(),
                );
                None
            }
            (true, false) => absolute_times(spec, &mut error),
            (false, true) => recurrence(spec, &mut error),
        };
        (errors.len() == before).then(|| Window {
            name: spec.name.clone(),
            environments: spec.environments.clone(),
            reason: spec.reason.clone(),
            when: when.expect("a window without errors has its times"),
        })
    }

    /// When the window that is open at `now` closes; `None` when it is not open.
    pub fn open_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.open_at(now).map(|(_, until)| until)
    }

    /// When the window that is open at `now` opened and when it closes.
    pub fn open_at(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        match &self.when {
            When::Absolute { from, until } => {
                (*from <= now && now < *until).then_some((*from, *until))
            }
            When::Recurring {
                schedule,
                duration,
                zone,
                ..
            } => {
                // The first opening after `now - duration` is open now if it began by now;
                // openings that begin before it closes keep it open.
                let start = (now - *duration).with_timezone(zone);
                let first = schedule.find_next_occurrence(&start, false).ok()?;
                let first = first.with_timezone(&Utc);
                if first > now {
                    return None;
                }
                let mut until = first + *duration;
                let mut at = first.with_timezone(zone);
                for _ in 0..MAX_CHAIN {
                    let Ok(next) = schedule.find_next_occurrence(&at, false) else {
                        break;
                    };
                    let next_utc = next.with_timezone(&Utc);
                    if next_utc >= until {
                        break;
                    }
                    until = until.max(next_utc + *duration);
                    at = next;
                }
                Some((first, until))
            }
        }
    }
}

impl Window {
    /// Why a recurring window is refused at `now`, as `(field, message)`: it does not open
    /// within [`HORIZON_YEARS`] (a date that does not exist), or its openings overlap so
    /// that, once open, it never closes (its duration covers its period). Searches only
    /// those years, never croner's whole range.
    pub fn refused_at(&self, now: DateTime<Utc>) -> Option<(&'static str, String)> {
        let When::Recurring {
            text,
            duration,
            zone,
            ..
        } = &self.when
        else {
            return None;
        };
        // From the opening that may hold now (up to a duration ago), so a window open now
        // is never taken for one that does not open.
        let local = (now - *duration).with_timezone(zone);
        let Some(bounded) = bounded(
            text,
            local.year(),
            now.with_timezone(zone).year() + HORIZON_YEARS,
        ) else {
            return Some(("schedule", format!("{text:?} cannot be searched")));
        };
        let Ok(first) = bounded.find_next_occurrence(&local, false) else {
            return Some((
                "schedule",
                format!(
                    "{text:?} names no time within {HORIZON_YEARS} years (a date that does not exist?): the window would never open"
                ),
            ));
        };
        let mut until = first.with_timezone(&Utc) + *duration;
        let mut at = first;
        // Openings are searched up to the end of the horizon; a chain still open there
        // never closes either.
        let horizon_end = zone
            .with_ymd_and_hms(
                now.with_timezone(zone).year() + HORIZON_YEARS + 1,
                1,
                1,
                0,
                0,
                0,
            )
            .earliest()
            .map_or(DateTime::<Utc>::MAX_UTC, |t| t.with_timezone(&Utc));
        for _ in 0..MAX_CHAIN {
            match bounded.find_next_occurrence(&at, false) {
                // An opening at the very end of the last one leaves no time closed.
                Ok(next) if next.with_timezone(&Utc) <= until => {
                    until = until.max(next.with_timezone(&Utc) + *duration);
                    at = next;
                }
                Ok(_) => return None,
                Err(_) if until < horizon_end => return None,
                Err(_) => break,
            }
        }
        Some((
            "duration",
            format!(
                "{} covers the time between openings of {text:?}: the window would never close",
                crate::input::GoDuration(duration.to_std().unwrap_or_default())
            ),
        ))
    }
}

/// `text` with a seconds field and the years `from` to `to`: searches stop there.
fn bounded(text: &str, from: i32, to: i32) -> Option<Cron> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .build()
        .parse(&format!("0 {text} {from}-{to}"))
        .ok()
}

/// The windows of `config` that read, each with its field path (they were validated with
/// the pipeline; one that no longer reads is left out).
fn parsed(config: &PipelineConfig) -> impl Iterator<Item = (String, Window)> + '_ {
    config.freezes.iter().enumerate().filter_map(|(i, spec)| {
        let path = format!("spec.freezes[{i}]");
        let window = Window::parse(spec, &path, &config.environments, &mut Vec::new())?;
        Some((path, window))
    })
}

/// Every recurring window of `config` refused at `now`, as `(field path, message)`.
pub fn refused_at(config: &PipelineConfig, now: DateTime<Utc>) -> Vec<(String, String)> {
    parsed(config)
        .filter_map(|(path, window)| {
            window
                .refused_at(now)
                .map(|(field, message)| (format!("{path}.{field}"), message))
        })
        .collect()
}

/// The pipeline's freeze windows at `now`, read back; one that does not open within
/// [`HORIZON_YEARS`] is left out: it would hold nothing, and croner would search up to
/// the year 5000 for it on every call.
pub fn windows(config: &PipelineConfig, now: DateTime<Utc>) -> Vec<Window> {
    parsed(config)
        .map(|(_, window)| window)
        .filter(|w| !matches!(w.refused_at(now), Some(("schedule", _))))
        .collect()
}

/// The window that holds promotions into `environment` at `now` (the one open longest
/// when several are), if any.
pub fn frozen(windows: &[Window], environment: &str, now: DateTime<Utc>) -> Option<Frozen> {
    windows
        .iter()
        .filter(|w| w.environments.iter().any(|e| e == environment))
        .filter_map(|w| {
            w.open_at(now).map(|(opened, until)| Frozen {
                name: w.name.clone(),
                reason: w.reason.clone(),
                opened,
                until,
            })
        })
        .max_by_key(|f| f.until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn envs() -> Vec<String> {
        vec!["dev".into(), "staging".into(), "production".into()]
    }

    fn window(spec: FreezeSpec) -> Result<Window, Vec<(String, String)>> {
        let mut errors = Vec::new();
        Window::parse(&spec, "spec.freezes[0]", &envs(), &mut errors).ok_or(errors)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn an_absolute_window_is_open_from_its_start_until_its_end() {
        let w = window(FreezeSpec {
            name: "year-end".into(),
            environments: vec!["production".into()],
            from: Some("2026-12-24T00:00:00Z".into()),
            until: Some("2027-01-02T00:00:00Z".into()),
            ..FreezeSpec::default()
        })
        .unwrap();
        assert_eq!(w.open_until(utc(2026, 12, 23, 23, 59)), None);
        assert_eq!(
            w.open_until(utc(2026, 12, 24, 0, 0)),
            Some(utc(2027, 1, 2, 0, 0))
        );
        assert_eq!(w.open_until(utc(2027, 1, 2, 0, 0)), None);
        assert_eq!(
            frozen(std::slice::from_ref(&w), "staging", utc(2026, 12, 25, 0, 0)),
            None
        );
        assert_eq!(
            frozen(&[w], "production", utc(2026, 12, 25, 0, 0)).map(|f| f.name),
            Some("year-end".into())
        );
    }

    #[test]
    fn a_recurring_window_follows_its_zone_across_a_daylight_saving_change() {
        // Weekdays from 16:00 Berlin time, for 16 hours (no deploys overnight).
        let w = window(FreezeSpec {
            name: "overnight".into(),
            environments: vec!["production".into()],
            schedule: Some("0 16 * * 1-5".into()),
            duration: Some("16h".into()),
            time_zone: Some("Europe/Berlin".into()),
            ..FreezeSpec::default()
        })
        .unwrap();
        // Friday 2026-03-27, winter time (UTC+1): opens 15:00 UTC.
        assert_eq!(w.open_until(utc(2026, 3, 27, 14, 59)), None);
        assert_eq!(
            w.open_until(utc(2026, 3, 27, 15, 0)),
            Some(utc(2026, 3, 28, 7, 0))
        );
        // Clocks go forward on Sunday 2026-03-29. Monday 2026-03-30, summer time (UTC+2):
        // opens 14:00 UTC, an hour earlier in UTC, still 16:00 in Berlin.
        assert_eq!(w.open_until(utc(2026, 3, 30, 13, 59)), None);
        assert_eq!(
            w.open_until(utc(2026, 3, 30, 14, 0)),
            Some(utc(2026, 3, 31, 6, 0))
        );
        // Saturday: no opening.
        assert_eq!(w.open_until(utc(2026, 3, 28, 12, 0)), None);
    }

    #[test]
    fn openings_that_overlap_keep_the_window_open() {
        let w = window(FreezeSpec {
            name: "always".into(),
            environments: vec!["staging".into()],
            schedule: Some("0 * * * *".into()),
            duration: Some("90m".into()),
            time_zone: Some("UTC".into()),
            ..FreezeSpec::default()
        });
        let w = w.unwrap_or_else(|e| panic!("{e:?}"));
        let until = w.open_until(utc(2026, 5, 1, 10, 30)).unwrap();
        assert!(until > utc(2026, 5, 1, 12, 0), "{until}");
    }

    #[test]
    fn a_window_that_never_opens_or_never_closes_is_refused() {
        let now = utc(2026, 12, 6, 12, 0);
        let recurring = |schedule: &str, duration: &str| {
            window(FreezeSpec {
                name: "w".into(),
                environments: vec!["production".into()],
                schedule: Some(schedule.into()),
                duration: Some(duration.into()),
                time_zone: Some("Europe/Berlin".into()),
                ..FreezeSpec::default()
            })
            .unwrap()
            .refused_at(now)
            .map(|(field, _)| field)
        };
        assert_eq!(recurring("0 0 30 2 *", "1h"), Some("schedule"));
        assert_eq!(recurring("0 0 31 4,6,9,11 *", "1h"), Some("schedule"));
        assert_eq!(
            recurring("0 0 29 2 *", "1h"),
            None,
            "the next leap day is near"
        );
        assert_eq!(recurring("0 * * * *", "2h"), Some("duration"));
        assert_eq!(
            recurring("0 0 * * 1", "169h"),
            Some("duration"),
            "a week, with the hour daylight saving time takes back"
        );
        assert_eq!(recurring("0 0 * * 1", "160h"), None);
        assert_eq!(
            recurring("* * * * *", "1m"),
            Some("duration"),
            "each opening ends as the next begins: never closed"
        );
        assert_eq!(recurring("0 9 * * 1-5", "8h"), None, "office hours");
        assert_eq!(recurring("0 18 * * 5", "62h"), None, "weekends");
        // Open now, and not again within four years: still a window while it is open.
        let leap_week = FreezeSpec {
            name: "w".into(),
            environments: vec!["production".into()],
            schedule: Some("0 0 29 2 *".into()),
            duration: Some("168h".into()),
            time_zone: Some("UTC".into()),
            ..FreezeSpec::default()
        };
        let open = window(leap_week).unwrap();
        let inside = utc(2096, 3, 2, 0, 0);
        assert!(open.open_at(inside).is_some());
        assert_eq!(open.refused_at(inside), None, "it holds now");
    }

    #[test]
    fn bad_windows_are_refused_naming_the_field() {
        let cases = [
            (
                FreezeSpec {
                    name: "x".into(),
                    environments: vec!["qa".into()],
                    from: Some("2026-12-24T00:00:00Z".into()),
                    until: Some("2026-12-25T00:00:00Z".into()),
                    ..FreezeSpec::default()
                },
                "spec.freezes[0].environments[0]",
            ),
            (
                FreezeSpec {
                    name: "x".into(),
                    environments: vec!["staging".into()],
                    from: Some("2026-12-25T00:00:00Z".into()),
                    until: Some("2026-12-24T00:00:00Z".into()),
                    ..FreezeSpec::default()
                },
                "spec.freezes[0].until",
            ),
            (
                FreezeSpec {
                    name: "x".into(),
                    environments: vec!["staging".into()],
                    schedule: Some("0 16 * *".into()),
                    duration: Some("1h".into()),
                    time_zone: Some("UTC".into()),
                    ..FreezeSpec::default()
                },
                "spec.freezes[0].schedule",
            ),
            (
                FreezeSpec {
                    name: "x".into(),
                    environments: vec!["staging".into()],
                    schedule: Some("0 16 * * *".into()),
                    duration: Some("1h".into()),
                    time_zone: Some("Mars/Olympus".into()),
                    ..FreezeSpec::default()
                },
                "spec.freezes[0].timeZone",
            ),
            (
                FreezeSpec {
                    name: "x".into(),
                    environments: vec!["staging".into()],
                    from: Some("2026-12-24T00:00:00Z".into()),
                    schedule: Some("0 16 * * *".into()),
                    ..FreezeSpec::default()
                },
                "spec.freezes[0]",
            ),
        ];
        for (spec, path) in cases {
            let errors = window(spec).unwrap_err();
            assert!(errors.iter().any(|(p, _)| p == path), "{path}: {errors:?}");
        }
    }
}
