//! Command mode: the built-in `command` task runs an external program.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chime_core::executor::Outcome;
use chime_core::store::RunOutcome;
use chime_core::task::{TaskContext, TaskError, TaskFn, TaskRegistry};
use serde::{Deserialize, Serialize};

use crate::output::{capture, Tail};
use crate::sys::{describe_exit, group_alive, kill_group};

/// The name the `command` task is registered under.
pub const COMMAND_TASK: &str = "command";

/// The arguments of the `command` task: which program to run and how.
///
/// In a job's JSON `args`:
///
/// ```json
/// {"argv": ["pg_dump", "-f", "/backup/db.sql", "app"],
///  "env": {"PGHOST": "db"}, "cwd": "/backup", "timeout": "30m"}
/// ```
///
/// - `argv`: the program (looked up in `PATH` unless it contains a `/`) and
///   its arguments, passed as they are: **no shell** is involved, so no
///   quoting, globbing or variable expansion happens.
/// - `env`: variables set (or overridden) on top of the scheduler's
///   environment.
/// - `cwd`: the working directory (default: the scheduler's).
/// - `timeout`: `"90s"`, `"15m"`, `"1h30m"` or a number of seconds; the
///   process group is sent SIGTERM, then SIGKILL after a grace period.
///   Unset: the executor's timeout, if any.
/// - `shell`: `true` runs `argv[0]` as a script with `/bin/sh -c` (the rest
///   of `argv` become `$1`, `$2`, …). Only when the job asks for it.
///
/// Standard input is closed (reads see end of file); standard output and
/// error are captured and their tails end up in the run's outcome message.
///
/// ```
/// use chime_executor_process::CommandSpec;
/// let spec: CommandSpec = serde_json::from_value(serde_json::json!({
///     "argv": ["echo", "hello"], "timeout": "30s", "shell": null
/// })).unwrap();
/// assert_eq!(spec.argv, ["echo", "hello"]);
/// assert_eq!(spec.timeout, Some(std::time::Duration::from_secs(30)));
/// assert!(!spec.uses_shell());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CommandSpec {
    /// The program and its arguments (or, with `shell`, the script and its
    /// positional parameters).
    pub argv: Vec<String>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// The run's timeout.
    #[serde(
        default,
        with = "chime_core::duration::serde_text_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Run `argv[0]` through `/bin/sh -c` (only when `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<bool>,
}

impl CommandSpec {
    /// Runs `argv` directly (no shell).
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CommandSpec {
            argv: argv.into_iter().map(Into::into).collect(),
            ..CommandSpec::default()
        }
    }

    /// Runs `script` with `/bin/sh -c`.
    pub fn shell(script: impl Into<String>) -> Self {
        CommandSpec {
            argv: vec![script.into()],
            shell: Some(true),
            ..CommandSpec::default()
        }
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether the job asked for a shell.
    pub fn uses_shell(&self) -> bool {
        self.shell == Some(true)
    }

    /// The program that is started: `argv[0]`, or `/bin/sh` with `shell`.
    pub fn program(&self) -> Option<&str> {
        if self.uses_shell() {
            Some("/bin/sh")
        } else {
            self.argv.first().map(String::as_str)
        }
    }
}

/// How commands (and worker processes) are run: output limit, kill grace
/// period and the timeout for specs that set none.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandOptions {
    /// Bytes kept of the end of stdout and of stderr each (default 16 KiB).
    pub output_limit: usize,
    /// Time between SIGTERM and SIGKILL on timeout (default 5 s).
    pub kill_grace: Duration,
    /// The timeout of specs that set none (default: none).
    pub default_timeout: Option<Duration>,
}

impl Default for CommandOptions {
    fn default() -> Self {
        CommandOptions {
            output_limit: 16 * 1024,
            kill_grace: Duration::from_secs(5),
            default_timeout: None,
        }
    }
}

/// Stops a process group: SIGTERM, then SIGKILL once `grace` has passed
/// while any member (the leader or a grandchild) is left. Reaps the leader.
pub(crate) async fn terminate_group(
    child: &mut tokio::process::Child,
    pgid: u32,
    grace: Duration,
) -> &'static str {
    kill_group(pgid, libc::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    let mut leader_done = false;
    loop {
        if !leader_done {
            leader_done = matches!(child.try_wait(), Ok(Some(_)) | Err(_));
        }
        if leader_done && !group_alive(pgid) {
            return "SIGTERM";
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill_group(pgid, libc::SIGKILL);
    let _ = child.wait().await;
    "SIGTERM, then SIGKILL"
}

/// Kills the group of a run whose future was dropped (scheduler shutdown).
struct GroupGuard {
    pgid: u32,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            kill_group(self.pgid, libc::SIGKILL);
        }
    }
}

/// Runs `spec` to its end and reports how it went: success when it exits
/// with status 0, [`RunOutcome::Error`] for another status or when it cannot
/// be started, [`RunOutcome::Crash`] when a signal killed it,
/// [`RunOutcome::Timeout`] when it outlived its timeout (its whole process
/// group is then stopped). The message starts with what happened and ends
/// with the tails of stderr and stdout.
///
/// The program runs as the leader of a new process group; anything of that
/// group still running when the program exits is killed, so a run leaves
/// no processes behind (a program that wants to outlive its run must start
/// a new session or group, as daemons do).
pub async fn run_command(spec: &CommandSpec, options: &CommandOptions) -> Outcome {
    run_command_with(spec, options, &|_| {}, &|_| {}).await
}

pub(crate) async fn run_command_with(
    spec: &CommandSpec,
    options: &CommandOptions,
    on_start: &(dyn Fn(u32) + Sync),
    on_end: &(dyn Fn(u32) + Sync),
) -> Outcome {
    let Some(program) = spec.program() else {
        return Outcome::failure(RunOutcome::Error, "command: argv is empty");
    };
    if program.is_empty() {
        return Outcome::failure(RunOutcome::Error, "command: argv[0] is empty");
    }
    let mut command = tokio::process::Command::new(program);
    if spec.uses_shell() {
        command
            .arg("-c")
            .args(&spec.argv[..1])
            .arg("sh")
            .args(&spec.argv[1..]);
    } else {
        command.args(&spec.argv[1..]);
    }
    if let Some(dir) = &spec.cwd {
        if !dir.is_dir() {
            return Outcome::failure(
                RunOutcome::Error,
                format!(
                    "command '{program}': working directory '{}' does not exist",
                    dir.display()
                ),
            );
        }
        command.current_dir(dir);
    }
    command
        .envs(&spec.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Outcome::failure(RunOutcome::Error, spawn_error(program, &e)),
    };
    let Some(pgid) = child.id() else {
        return Outcome::failure(
            RunOutcome::Error,
            format!("command '{program}': no process id"),
        );
    };
    let mut guard = GroupGuard { pgid, armed: true };
    on_start(pgid);
    let stdout = Arc::new(Mutex::new(Tail::new(options.output_limit)));
    let stderr = Arc::new(Mutex::new(Tail::new(options.output_limit)));
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(capture(out, Arc::clone(&stdout))));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(capture(err, Arc::clone(&stderr))));
    }
    let timeout = spec.timeout.or(options.default_timeout);
    let waited = match timeout {
        Some(limit) => tokio::time::timeout(limit, child.wait()).await.ok(),
        None => Some(child.wait().await),
    };
    let (kind, headline) = match waited {
        Some(Ok(status)) => {
            // Leave nothing behind that would keep the pipes open.
            kill_group(pgid, libc::SIGKILL);
            match describe_exit(status) {
                None => (RunOutcome::Success, None),
                Some((kind, text)) => (kind, Some(format!("command '{program}' {text}"))),
            }
        }
        Some(Err(e)) => {
            kill_group(pgid, libc::SIGKILL);
            (
                RunOutcome::Error,
                Some(format!("command '{program}': waiting for it failed: {e}")),
            )
        }
        None => {
            let limit = timeout.unwrap_or_default();
            let sent = terminate_group(&mut child, pgid, options.kill_grace).await;
            (
                RunOutcome::Timeout,
                Some(format!(
                    "command '{program}' timed out after {}; its process group was sent {sent}",
                    chime_core::duration::format(limit)
                )),
            )
        }
    };
    guard.armed = false;
    on_end(pgid);
    // Writers are gone; a reader still blocked belongs to a process that
    // escaped the group (a daemon): stop waiting for it after a moment.
    for reader in readers {
        let abort = reader.abort_handle();
        if tokio::time::timeout(Duration::from_secs(1), reader)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    let sections: Vec<String> = [("stderr", &stderr), ("stdout", &stdout)]
        .into_iter()
        .filter_map(|(name, tail)| tail.lock().unwrap_or_else(|p| p.into_inner()).render(name))
        .collect();
    let message: Vec<String> = headline.into_iter().chain(sections).collect();
    Outcome {
        kind,
        message: (!message.is_empty()).then(|| message.join("\n")),
    }
}

fn spawn_error(program: &str, error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            format!("command '{program}' not found (no such file, or not in PATH)")
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("command '{program}' cannot be executed: permission denied")
        }
        _ => format!("command '{program}' could not be started: {error}"),
    }
}

/// The `command` task function (always the same one). Register it with
/// [`register_command_task`] or
/// `registry.register(COMMAND_TASK, command_task())`.
///
/// On a [`ProcessExecutor`](crate::ProcessExecutor) runs of it are reported
/// with their precise kind (timeout, crash); on any other executor it still
/// runs the program, but every failure is reported as an error whose
/// message says what happened.
pub fn command_task() -> TaskFn {
    static TASK: OnceLock<TaskFn> = OnceLock::new();
    TASK.get_or_init(|| {
        TaskFn::from_async(|_ctx: TaskContext, spec: CommandSpec| async move {
            let outcome = run_command(&spec, &CommandOptions::default()).await;
            match outcome.kind {
                RunOutcome::Success => Ok(()),
                _ => Err(TaskError(outcome.message.unwrap_or_default())),
            }
        })
    })
    .clone()
}

/// Registers [`command_task`] under [`COMMAND_TASK`] (`"command"`).
pub fn register_command_task(registry: &TaskRegistry) -> chime_core::Result<()> {
    registry.register(COMMAND_TASK, command_task())
}

/// Whether `task` is the `command` task.
pub(crate) fn is_command_task(task: &TaskFn) -> bool {
    same_fn(task, &command_task())
}

/// Whether two task functions are the same registered function.
pub(crate) fn same_fn(a: &TaskFn, b: &TaskFn) -> bool {
    match (a, b) {
        (TaskFn::Async(a), TaskFn::Async(b)) => Arc::ptr_eq(a, b),
        (TaskFn::Blocking(a), TaskFn::Blocking(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}
