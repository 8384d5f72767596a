//! The few Unix calls std does not offer: signalling process groups,
//! naming signals, and moving the worker's protocol pipes off the standard
//! descriptors.

use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use chime_core::store::RunOutcome;

/// Sends `signal` to the process group `pgid` (a group this crate created:
/// every child is spawned as the leader of a new group). Returns whether
/// some process received it. Never signals group 0 or 1.
pub(crate) fn kill_group(pgid: u32, signal: i32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    // SAFETY: killpg only sends a signal; it touches no memory of ours.
    unsafe { libc::killpg(pgid, signal) == 0 }
}

/// Whether any process that still runs is left in group `pgid`. Zombies do
/// not count: a killed grandchild whose parent is gone waits for init to
/// reap it, which some container inits never do.
pub(crate) fn group_alive(pgid: u32) -> bool {
    if !kill_group(pgid, 0) {
        return false;
    }
    running_member(pgid).unwrap_or(true)
}

/// Whether `/proc` lists a non-zombie process in group `pgid` (`None`
/// when `/proc` cannot be read).
#[cfg(target_os = "linux")]
fn running_member(pgid: u32) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp …"; comm may hold spaces and parens.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let group = fields.nth(1).and_then(|g| g.parse::<u32>().ok());
        if group == Some(pgid) && !matches!(state, Some("Z") | Some("X")) {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(not(target_os = "linux"))]
fn running_member(_pgid: u32) -> Option<bool> {
    None
}

/// `SIGSEGV`, `SIGKILL`… for a signal number.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// How an exit status reads in an outcome: a non-zero code is an error, a
/// death by signal a crash. `None` for success.
pub(crate) fn describe_exit(status: ExitStatus) -> Option<(RunOutcome, String)> {
    if status.success() {
        return None;
    }
    if let Some(code) = status.code() {
        return Some((RunOutcome::Error, format!("exited with status {code}")));
    }
    match status.signal() {
        Some(signal) => {
            let core = if status.core_dumped() {
                " (core dumped)"
            } else {
                ""
            };
            Some((
                RunOutcome::Crash,
                format!("killed by signal {}{core}", signal_name(signal)),
            ))
        }
        None => Some((RunOutcome::Crash, format!("ended abnormally ({status})"))),
    }
}

/// In a worker process: moves the protocol pipes (stdin, stdout) to new
/// close-on-exec descriptors, points descriptor 0 at /dev/null and 1 at
/// stderr, so that the task's own printing and the programs it starts can
/// neither read requests nor corrupt replies. Returns (requests, replies).
pub(crate) fn take_protocol_pipes() -> io::Result<(File, File)> {
    let requests = dup_cloexec(0)?;
    let replies = dup_cloexec(1)?;
    let null = File::open("/dev/null")?;
    use std::os::fd::AsRawFd;
    // SAFETY: dup2 on descriptors we own or that are the standard ones;
    // std's Stdin/Stdout keep working on the replaced descriptors.
    unsafe {
        if libc::dup2(null.as_raw_fd(), 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((requests, replies))
}

fn dup_cloexec(fd: i32) -> io::Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC returns a fresh descriptor (or -1), which the
    // File then owns exclusively.
    unsafe {
        let new = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3);
        if new < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(File::from_raw_fd(new))
    }
}
