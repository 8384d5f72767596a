//! Key names under the prefix.

/// Every key the store uses, for one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// hash id → record
    pub jobs: String,
    /// hash id → priority10 ++ next18
    pub meta: String,
    /// hash id → expires18 ++ acquired-next18 ++ owner
    pub leases: String,
    /// sorted set (lex) of available18:priority10:id
    pub due: String,
    /// hash id → its member in `due`
    pub due_member: String,
    /// list per job: `runs_prefix` ++ id
    pub runs_prefix: String,
    /// pub/sub channel for job changes
    pub channel: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            jobs: format!("{prefix}:jobs"),
            meta: format!("{prefix}:meta"),
            leases: format!("{prefix}:leases"),
            due: format!("{prefix}:due"),
            due_member: format!("{prefix}:due_member"),
            runs_prefix: format!("{prefix}:runs:"),
            channel: format!("{prefix}:changes"),
        }
    }

    /// The keys every script takes, in the order the scripts expect.
    pub fn script_keys(&self) -> [&str; 5] {
        [
            &self.jobs,
            &self.meta,
            &self.leases,
            &self.due,
            &self.due_member,
        ]
    }
}
