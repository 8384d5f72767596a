//! The files `chime-test-node` writes: one line per run in `node-PID.log`
//! (`job_id pid started_ms t1,t2,…`) and one line per fire reported instead
//! of run in `node-PID.reports` (`missed|interrupted|skipped job_id t1,t2,…`);
//! times are Unix milliseconds.

use std::path::Path;

/// One logged run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The job.
    pub job: String,
    /// The node process that ran it.
    pub pid: u32,
    /// When it started (Unix ms).
    pub started_ms: i64,
    /// The scheduled times it stands for (Unix ms).
    pub times: Vec<i64>,
}

/// One fire report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `missed`, `interrupted` or `skipped`.
    pub kind: String,
    /// The job.
    pub job: String,
    /// The scheduled times reported (Unix ms).
    pub times: Vec<i64>,
}

fn times(text: &str, line: &str) -> Result<Vec<i64>, String> {
    text.split(',')
        .map(|t| t.parse().map_err(|_| format!("bad time in {line:?}")))
        .collect()
}

/// Complete lines of the files in `dir` with extension `ext`; a last line
/// without its newline (a node killed mid-write) is left out.
fn lines(dir: &Path, ext: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|e| e != ext) {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let complete = match text.rfind('\n') {
            Some(end) => &text[..end],
            None => "",
        };
        out.extend(
            complete
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    Ok(out)
}

/// Every run logged in `dir`.
pub fn read_runs(dir: &Path) -> Result<Vec<Run>, String> {
    lines(dir, "log")?
        .iter()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let [job, pid, started, list] = parts[..] else {
                return Err(format!("bad log line {line:?}"));
            };
            Ok(Run {
                job: job.to_owned(),
                pid: pid.parse().map_err(|_| format!("bad pid in {line:?}"))?,
                started_ms: started
                    .parse()
                    .map_err(|_| format!("bad start in {line:?}"))?,
                times: times(list, line)?,
            })
        })
        .collect()
}

/// Every report written in `dir`.
pub fn read_reports(dir: &Path) -> Result<Vec<Report>, String> {
    lines(dir, "reports")?
        .iter()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let [kind, job, list] = parts[..] else {
                return Err(format!("bad report line {line:?}"));
            };
            Ok(Report {
                kind: kind.to_owned(),
                job: job.to_owned(),
                times: times(list, line)?,
            })
        })
        .collect()
}
