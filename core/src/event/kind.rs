//! Event masks.

bitflags::bitflags! {
    /// A set of event kinds, for listeners that want only some.
    ///
    /// ```
    /// use chime_core::event::EventMask;
    /// let failures = EventMask::JOB_ERROR | EventMask::JOB_MISSED;
    /// assert!(failures.contains(EventMask::JOB_MISSED));
    /// assert!(!failures.contains(EventMask::JOB_EXECUTED));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct EventMask: u32 {
        /// [`Event::SchedulerStarted`](super::Event::SchedulerStarted)
        const SCHEDULER_STARTED = 1 << 0;
        /// [`Event::SchedulerShutdown`](super::Event::SchedulerShutdown)
        const SCHEDULER_SHUTDOWN = 1 << 1;
        /// [`Event::SchedulerPaused`](super::Event::SchedulerPaused)
        const SCHEDULER_PAUSED = 1 << 2;
        /// [`Event::SchedulerResumed`](super::Event::SchedulerResumed)
        const SCHEDULER_RESUMED = 1 << 3;
        /// [`Event::StoreAdded`](super::Event::StoreAdded)
        const STORE_ADDED = 1 << 4;
        /// [`Event::StoreRemoved`](super::Event::StoreRemoved)
        const STORE_REMOVED = 1 << 5;
        /// [`Event::StoreError`](super::Event::StoreError)
        const STORE_ERROR = 1 << 6;
        /// [`Event::JobAdded`](super::Event::JobAdded)
        const JOB_ADDED = 1 << 7;
        /// [`Event::JobModified`](super::Event::JobModified)
        const JOB_MODIFIED = 1 << 8;
        /// [`Event::JobRemoved`](super::Event::JobRemoved)
        const JOB_REMOVED = 1 << 9;
        /// [`Event::JobSubmitted`](super::Event::JobSubmitted)
        const JOB_SUBMITTED = 1 << 10;
        /// [`Event::JobExecuted`](super::Event::JobExecuted)
        const JOB_EXECUTED = 1 << 11;
        /// [`Event::JobError`](super::Event::JobError)
        const JOB_ERROR = 1 << 12;
        /// [`Event::JobMissed`](super::Event::JobMissed)
        const JOB_MISSED = 1 << 13;
        /// [`Event::JobMaxInstancesReached`](super::Event::JobMaxInstancesReached)
        const JOB_MAX_INSTANCES = 1 << 14;
        /// [`Event::JobUnusable`](super::Event::JobUnusable)
        const JOB_UNUSABLE = 1 << 15;
        /// [`Event::JobInterrupted`](super::Event::JobInterrupted)
        const JOB_INTERRUPTED = 1 << 16;
        /// Every scheduler-level event.
        const SCHEDULER = Self::SCHEDULER_STARTED.bits() | Self::SCHEDULER_SHUTDOWN.bits()
            | Self::SCHEDULER_PAUSED.bits() | Self::SCHEDULER_RESUMED.bits();
        /// Every outcome of a run (executed or error).
        const JOB_OUTCOME = Self::JOB_EXECUTED.bits() | Self::JOB_ERROR.bits();
        /// Every event.
        const ALL = u32::MAX >> 15;
    }
}
