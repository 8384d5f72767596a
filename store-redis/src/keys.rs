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
    /// hash id → its member in `due`, kept by earlier builds of this store,
    /// before the member was computed from meta and lease (see
    /// `scripts.rs`); removed when a store connects.
    pub legacy_due_member: String,
    /// list per job: `runs_prefix` ++ id
    pub runs_prefix: String,
    /// pub/sub channel for job changes
    pub channel: String,
    /// Dispatch journal: hash entry key → entry JSON (`HandOff::to_record`).
    /// An entry key is `job_id \x1f fire-time micros` (see `journal.rs`).
    pub hand_offs: String,
    /// Dispatch journal: sorted set of entry keys scored by deadline micros.
    pub hand_off_deadlines: String,
    /// Dispatch journal: hash entry key → deadline18 ++ owner (the holder
    /// of the entry now: its scheduler, or the claimer of a stale entry).
    pub hand_off_holders: String,
    /// Dispatch journal: set per owner, `hand_offs_of_prefix` ++ owner, of
    /// the entry keys that owner holds (so renewals touch only its own).
    pub hand_offs_of_prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            jobs: format!("{prefix}:jobs"),
            meta: format!("{prefix}:meta"),
            leases: format!("{prefix}:leases"),
            due: format!("{prefix}:due"),
            legacy_due_member: format!("{prefix}:due_member"),
            runs_prefix: format!("{prefix}:runs:"),
            channel: format!("{prefix}:changes"),
            hand_offs: format!("{prefix}:handoffs"),
            hand_off_deadlines: format!("{prefix}:handoff_deadlines"),
            hand_off_holders: format!("{prefix}:handoff_holders"),
            hand_offs_of_prefix: format!("{prefix}:handoffs_of:"),
        }
    }

    /// The keys every script takes, in the order the scripts expect.
    pub fn script_keys(&self) -> [&str; 7] {
        [
            &self.jobs,
            &self.meta,
            &self.leases,
            &self.due,
            &self.hand_offs,
            &self.hand_off_deadlines,
            &self.hand_off_holders,
        ]
    }
}
