//! Bounded run history per job.

use std::collections::{HashMap, VecDeque};

use chime_core::store::RunRecord;
use chime_core::ArcStr;

/// The last `limit` runs of each job.
#[derive(Debug)]
pub(crate) struct History {
    limit: usize,
    runs: HashMap<ArcStr, VecDeque<RunRecord>, foldhash::fast::RandomState>,
}

impl History {
    pub fn new(limit: usize) -> Self {
        History {
            limit,
            runs: HashMap::default(),
        }
    }

    pub fn record(&mut self, record: RunRecord) {
        if self.limit == 0 {
            return;
        }
        // The job's id is shared with the record: no copy per run.
        let runs = self.runs.entry(record.job_id.clone()).or_default();
        if runs.len() >= self.limit {
            runs.pop_front();
        }
        runs.push_back(record);
    }

    /// Newest first.
    pub fn last(&self, job_id: &str, limit: usize) -> Vec<RunRecord> {
        self.runs
            .get(job_id)
            .map(|runs| runs.iter().rev().take(limit).cloned().collect())
            .unwrap_or_default()
    }

    pub fn forget(&mut self, job_id: &str) {
        self.runs.remove(job_id);
    }

    pub fn clear(&mut self) {
        self.runs.clear();
    }
}
