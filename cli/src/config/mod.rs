//! The daemon's configuration file (TOML). See `examples/chime.toml` for a
//! commented example of every key.

mod job;

pub use job::JobConfig;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chime::chrono_tz::Tz;
use chime::job::JobDefaults;
use chime::{Error, SchedulerConfig};
use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Store URL (default `sqlite://chime.db`, relative to the config file).
    #[serde(default = "default_store")]
    pub store: String,
    /// Scheduler time zone (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Job option defaults.
    #[serde(default)]
    pub defaults: DefaultsConfig,
    /// The command executor.
    #[serde(default)]
    pub executor: ExecutorConfig,
    /// Scheduler loop settings.
    #[serde(default)]
    pub scheduler: SchedulerSection,
    /// `[[job]]` tables.
    #[serde(default, rename = "job")]
    pub jobs: Vec<Spanned<JobConfig>>,
}

fn default_store() -> String {
    "sqlite://chime.db".into()
}

/// `[defaults]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsConfig {
    /// `"60s"`, or `"none"` to run however late.
    pub misfire_grace_time: Option<String>,
    /// Merge missed runs into one.
    pub coalesce: Option<bool>,
    /// Concurrent runs per job.
    pub max_instances: Option<u32>,
    /// Random delay per fire.
    pub jitter: Option<String>,
}

/// `[executor]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorConfig {
    /// Commands running at once (default 8).
    pub max_concurrency: Option<usize>,
    /// Timeout for commands that set none.
    pub timeout: Option<String>,
    /// SIGTERM → SIGKILL grace on timeout (default 5 s).
    pub kill_grace: Option<String>,
    /// Bytes kept of the end of stdout and of stderr (default 16384).
    pub output_limit: Option<usize>,
}

/// `[scheduler]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSection {
    /// How often shared stores that cannot notify are polled.
    pub poll_interval: Option<String>,
    /// Longest sleep between looks at the store.
    pub max_sleep: Option<String>,
    /// How long an acquired job stays claimed if this daemon dies.
    pub lease_duration: Option<String>,
    /// How far ahead of its fire time a job is handed to its run (default
    /// 100 ms; `"0s"`: only when due).
    pub dispatch_ahead: Option<String>,
    /// How long shutdown waits for running jobs (default 30 s).
    pub shutdown_timeout: Option<String>,
}

/// A loaded configuration with where it came from.
#[derive(Debug)]
pub struct Loaded {
    /// The file, if one was read.
    pub path: Option<PathBuf>,
    /// Its text (for line numbers).
    pub text: String,
    /// The parsed content.
    pub config: Config,
}

impl Loaded {
    /// The directory relative store paths are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// `file:line: message` for a span of the file.
    pub fn error_at(&self, span: std::ops::Range<usize>, message: impl std::fmt::Display) -> Error {
        let file = self
            .path
            .as_deref()
            .map_or("(no file)".into(), |p| p.display().to_string());
        Error::invalid(format!(
            "{file}:{}: {message}",
            line_of(&self.text, span.start)
        ))
    }

    /// The scheduler time zone.
    pub fn timezone(&self) -> Result<Tz, Error> {
        match &self.config.timezone {
            None => Ok(chime::chrono_tz::UTC),
            Some(name) => name.parse().map_err(|_| {
                self.key_error(
                    "timezone",
                    format!("'{name}' is not an IANA time zone name"),
                )
            }),
        }
    }

    fn key_error(&self, key: &str, message: impl std::fmt::Display) -> Error {
        let at = find_key(&self.text, key).unwrap_or(0);
        self.error_at(at..at, format!("{key}: {message}"))
    }

    fn duration(&self, key: &str, value: &Option<String>) -> Result<Option<Duration>, Error> {
        value
            .as_deref()
            .map(|text| chime::duration::parse(text).map_err(|e| self.key_error(key, e.message())))
            .transpose()
    }

    /// Job option defaults from `[defaults]`.
    pub fn job_defaults(&self) -> Result<JobDefaults, Error> {
        let d = &self.config.defaults;
        let mut defaults = JobDefaults::default();
        if let Some(grace) = &d.misfire_grace_time {
            defaults.misfire_grace_time = parse_grace(grace)
                .map_err(|e| self.key_error("misfire_grace_time", e.message()))?;
        }
        if let Some(coalesce) = d.coalesce {
            defaults.coalesce = coalesce;
        }
        if let Some(max) = d.max_instances {
            if max == 0 {
                return Err(self.key_error("max_instances", "must be at least 1"));
            }
            defaults.max_instances = max;
        }
        Ok(defaults)
    }

    /// The default jitter from `[defaults]`.
    pub fn default_jitter(&self) -> Result<Option<Duration>, Error> {
        self.duration("jitter", &self.config.defaults.jitter)
    }

    /// Scheduler settings from `[scheduler]` and the rest.
    pub fn scheduler_config(&self) -> Result<SchedulerConfig, Error> {
        let s = &self.config.scheduler;
        let mut config = SchedulerConfig::default();
        config.timezone = self.timezone()?;
        config.job_defaults = self.job_defaults()?;
        if let Some(d) = self.duration("poll_interval", &s.poll_interval)? {
            config.poll_interval = d;
        }
        if let Some(d) = self.duration("max_sleep", &s.max_sleep)? {
            config.max_sleep = d;
        }
        if let Some(d) = self.duration("lease_duration", &s.lease_duration)? {
            config.lease_duration = d;
        }
        if let Some(d) = self.duration("shutdown_timeout", &s.shutdown_timeout)? {
            config.shutdown_timeout = d;
        }
        if let Some(d) = self.duration("dispatch_ahead", &s.dispatch_ahead)? {
            config.dispatch_ahead = d;
        }
        if config.dispatch_ahead >= config.lease_duration {
            let key = if s.dispatch_ahead.is_some() {
                "dispatch_ahead"
            } else {
                "lease_duration"
            };
            return Err(self.key_error(
                key,
                format!(
                    "dispatch_ahead ({:?}) must be shorter than lease_duration ({:?})",
                    config.dispatch_ahead, config.lease_duration
                ),
            ));
        }
        Ok(config)
    }

    /// Executor timeout and kill grace.
    pub fn executor_times(&self) -> Result<(Option<Duration>, Option<Duration>), Error> {
        let e = &self.config.executor;
        Ok((
            self.duration("timeout", &e.timeout)?,
            self.duration("kill_grace", &e.kill_grace)?,
        ))
    }
}

/// `"none"`/`"off"` = no limit; otherwise a duration.
pub fn parse_grace(text: &str) -> Result<Option<Duration>, Error> {
    match text.trim() {
        "none" | "off" | "unlimited" => Ok(None),
        other => chime::duration::parse(other).map(Some),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// The offset of the first line that sets `key`.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

/// Reads `path` (or, with `None`, `chime.toml` in the working directory if
/// it exists, else the defaults).
pub fn load(path: Option<&Path>) -> Result<Loaded, Error> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("chime.toml")).filter(|p| p.exists()),
    };
    let Some(path) = path else {
        let config = toml::from_str("").map_err(|e| Error::invalid(e.to_string()))?;
        return Ok(Loaded {
            path: None,
            text: String::new(),
            config,
        });
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::invalid(format!(
            "{}: cannot read the config file: {e}",
            path.display()
        ))
    })?;
    parse(path, text)
}

/// Parses config `text` read from `path` (named in errors; relative paths
/// in the config resolve against its folder).
pub fn parse(path: PathBuf, text: String) -> Result<Loaded, Error> {
    match toml::from_str::<Config>(&text) {
        Ok(config) => Ok(Loaded {
            path: Some(path),
            text,
            config,
        }),
        Err(e) => {
            let line = e.span().map_or(1, |s| line_of(&text, s.start));
            let key = e
                .span()
                .and_then(|s| {
                    text.get(..s.start)
                        .and_then(|b| b.rsplit('\n').next())
                        .map(str::to_owned)
                })
                .and_then(|head| head.split('=').next().map(|k| k.trim().to_owned()))
                .filter(|k| !k.is_empty() && !k.starts_with('['));
            let message = e.message().replace('\n', " ");
            let message = match key {
                Some(key) if !message.contains(&key) => format!("key '{key}': {message}"),
                _ => message,
            };
            Err(Error::invalid(format!(
                "{}:{line}: {message}",
                path.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn load_text(text: &str) -> Result<Loaded, Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::invalid(e.to_string()))?;
        let path = dir.path().join("fuzz.toml");
        std::fs::write(&path, text).map_err(|e| Error::invalid(e.to_string()))?;
        let loaded = load(Some(&path))?;
        // Everything derived from the file must be an error, never a panic.
        loaded.scheduler_config()?;
        loaded.executor_times()?;
        loaded.default_jitter()?;
        Ok(loaded)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Arbitrary text never panics the loader.
        #[test]
        fn arbitrary_text_is_an_error_not_a_panic(text in ".{0,200}") {
            let _ = load_text(&text);
        }

        /// Config-shaped text with random values never panics either.
        #[test]
        fn config_shaped_text_never_panics(
            key in "(store|timezone|misfire_grace_time|max_instances|poll_interval|jitter|timeout)",
            value in "(\"[ -~]{0,20}\"|[0-9-]{1,6}|true|\\[\\]|\\{\\})",
            section in "(|\\[defaults\\]|\\[executor\\]|\\[scheduler\\]|\\[\\[job\\]\\])",
        ) {
            let _ = load_text(&format!("{section}\n{key} = {value}\n"));
        }
    }

    #[test]
    fn dispatch_ahead_is_read_and_checked_against_the_lease() {
        let loaded = load_text("[scheduler]\ndispatch_ahead = \"0s\"\n").unwrap();
        let config = loaded.scheduler_config().unwrap();
        assert_eq!(config.dispatch_ahead, Duration::ZERO);
        let err = load_text("[scheduler]\nlease_duration = \"1s\"\ndispatch_ahead = \"2s\"\n")
            .unwrap_err();
        assert!(
            err.message().contains("fuzz.toml:3: dispatch_ahead: dispatch_ahead (2s) must be shorter than lease_duration (1s)"),
            "{err}"
        );
    }

    #[test]
    fn errors_carry_file_and_line() {
        let err = load_text("[scheduler]\nmax_sleep = \"forever\"\n").unwrap_err();
        assert!(
            err.message().contains("fuzz.toml:2: max_sleep: duration"),
            "{err}"
        );
    }
}
