//! Bounded run history per job.

use std::collections::{HashMap, VecDeque};

use chime_core::store::RunRecord;

/// The last `limit` runs of each job.
#[derive(Debug)]
pub(crate) struct History {
    limit: usize,
    runs: HashMap<String, VecDeque<RunRecord>>,
}

impl History {
    pub fn new(limit: usize) -> Self {
        History {
            limit,
            runs: HashMap::new(),
        }
    }

    pub fn record(&mut self, record: RunRecord) {
        if self.limit == 0 {
            return;
        }
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
