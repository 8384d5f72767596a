//! Release and journal cases the conformance kit cannot reach (stale reads,
//! planted records, the key layout). They need a Redis server: set
//! `CHIME_TEST_REDIS_URL` (as `scripts/test.sh` does); without it they
//! skip.

use chime_core::chrono_tz;
use chime_core::job::{JobDefaults, NewJob, NextRun};
use chime_core::trigger::IntervalTrigger;

use super::*;

const LEASE: Duration = Duration::from_secs(30);

fn at(secs: i64) -> DateTime<Utc> {
    let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    t0 + TimeDelta::seconds(secs)
}

fn job(id: &str, next: DateTime<Utc>) -> Job {
    NewJob::new("task", IntervalTrigger::seconds(60).unwrap())
        .id(id)
        .next_run(NextRun::At(next))
        .into_job(at(0), &JobDefaults::default(), chrono_tz::UTC)
        .unwrap()
}

fn again(secs: i64) -> Release {
    Release::Reschedule {
        next_run_time: at(secs),
        trigger_time: at(secs),
    }
}

fn hand_off(id: &str, owner: &str) -> HandOff {
    HandOff::new(id, at(10), owner, vec![at(10)], Vec::new(), at(40))
}

struct Server {
    store: RedisStore,
    raw: redis::aio::MultiplexedConnection,
    prefix: String,
}

impl Server {
    /// A store on a fresh prefix, or `None` without a test server.
    async fn start(name: &str) -> Option<Server> {
        let url = std::env::var("CHIME_TEST_REDIS_URL").ok()?;
        let prefix = format!(
            "chime-unit-{name}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        );
        let store = RedisStore::connect(RedisConfig::new(&url).prefix(&prefix))
            .await
            .unwrap();
        let raw = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        Some(Server { store, raw, prefix })
    }

    /// Adds `ids` due at 10 s and acquires them for `owner`.
    async fn acquired(&self, ids: &[&str], owner: &str) {
        let jobs = ids.iter().map(|id| job(id, at(10))).collect();
        self.store.add_jobs(jobs, false).await.unwrap();
        let got = self
            .store
            .acquire_due_jobs(owner, at(10), 100, LEASE)
            .await
            .unwrap();
        assert_eq!(got.jobs.len() + got.unreadable.len(), ids.len());
    }

    async fn query<T: redis::FromRedisValue>(&self, command: &mut redis::Cmd) -> T {
        let mut raw = self.raw.clone();
        command.query_async(&mut raw).await.unwrap()
    }

    async fn run(&self, pipe: &mut redis::Pipeline) {
        let mut raw = self.raw.clone();
        pipe.query_async::<()>(&mut raw).await.unwrap()
    }

    /// The entry keys in each journal structure: entries, holders, the
    /// deadline index, and the sets of owners `owners`.
    async fn journal(&self, owners: &[&str]) -> Vec<Vec<String>> {
        let keys = &self.store.keys;
        let mut all: Vec<Vec<String>> = vec![
            self.query(redis::cmd("HKEYS").arg(&keys.hand_offs)).await,
            self.query(redis::cmd("HKEYS").arg(&keys.hand_off_holders))
                .await,
            self.query(
                redis::cmd("ZRANGE")
                    .arg(&keys.hand_off_deadlines)
                    .arg(0)
                    .arg(-1),
            )
            .await,
        ];
        for owner in owners {
            all.push(
                self.query(
                    redis::cmd("SMEMBERS").arg(format!("{}{owner}", keys.hand_offs_of_prefix)),
                )
                .await,
            );
        }
        for keys in &mut all {
            keys.sort();
        }
        all
    }

    async fn clean(self) {
        let keys: Vec<String> = self
            .query(redis::cmd("KEYS").arg(format!("{}:*", self.prefix)))
            .await;
        if !keys.is_empty() {
            let _: () = self.query(redis::cmd("DEL").arg(keys)).await;
        }
    }
}

fn field(id: &str) -> String {
    entry_key(&hand_off(id, "A").key())
}

#[tokio::test]
async fn a_stale_read_is_retried_and_the_update_kept() {
    let Some(server) = Server::start("stale").await else {
        return;
    };
    server.acquired(&["a", "b"], "A").await;
    let stale = server
        .store
        .read_records(&[JobRelease::new("a", again(70))])
        .await
        .unwrap();
    // Changed after the release read it: same schedule, other priority.
    let mut changed = job("a", at(10));
    changed.priority = 7;
    server.store.update_job(changed).await.unwrap();
    let releases = [
        JobRelease::new("a", again(70)).with_hand_off(hand_off("a", "A")),
        // Read as missing, but it is there.
        JobRelease::new("b", again(70)).with_hand_off(hand_off("b", "A")),
    ];
    let records = stale.into_iter().chain([Current::Missing]).collect();
    let results = server.store.release_read("A", &releases, records).await;
    assert_eq!(results[0].as_ref().ok(), Some(&Released::Applied));
    assert_eq!(results[1].as_ref().ok(), Some(&Released::Applied));
    let a = server.store.get_job("a").await.unwrap().unwrap();
    assert_eq!((a.priority, a.next_run_time), (7, Some(at(70))));
    assert_eq!(
        server.journal(&["A"]).await,
        vec![vec![field("a"), field("b")]; 4]
    );
    server.clean().await;
}

#[tokio::test]
async fn releases_that_fail_journal_nothing() {
    let Some(server) = Server::start("fail").await else {
        return;
    };
    server.acquired(&["mine"], "A").await;
    let keys = server.store.keys.clone();
    // Planted below the encoding: a corrupt record and one that is not
    // UTF-8, both due and leased to A by the acquire below.
    let meta_text = meta(0, Some(at(10)));
    for (id, record) in [
        ("corrupt", b"{not json".to_vec()),
        ("binary", vec![0xff, 0xfe]),
    ] {
        server
            .run(
                redis::pipe()
                    .cmd("HSET")
                    .arg(&keys.jobs)
                    .arg(id)
                    .arg(record)
                    .cmd("HSET")
                    .arg(&keys.meta)
                    .arg(id)
                    .arg(&meta_text)
                    .cmd("HSET")
                    .arg(&keys.leases)
                    .arg(id)
                    .arg(format!("{}{}A", time18(at(40)), time18(at(10)))),
            )
            .await;
    }
    let releases = [
        JobRelease::new("corrupt", again(70)).with_hand_off(hand_off("corrupt", "A")),
        JobRelease::new("binary", again(70)).with_hand_off(hand_off("binary", "A")),
        JobRelease::new("ghost", again(70)).with_hand_off(hand_off("ghost", "A")),
        JobRelease::new("mine", again(70)).with_hand_off(hand_off("mine", "B")),
    ];
    let results = server.store.release_jobs("B", &releases).await;
    let kinds: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().err().map(Error::kind))
        .collect();
    assert_eq!(
        kinds,
        [
            Some(ErrorKind::LeaseLost),
            Some(ErrorKind::LeaseLost),
            Some(ErrorKind::NotFound),
            Some(ErrorKind::LeaseLost)
        ]
    );
    let results = server.store.release_jobs("A", &releases[..2]).await;
    let kinds: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().err().map(Error::kind))
        .collect();
    assert_eq!(kinds, [Some(ErrorKind::UnreadableRecord); 2]);
    assert_eq!(
        server
            .store
            .release_job("A", "ghost", again(70))
            .await
            .map_err(|e| e.kind()),
        Err(ErrorKind::NotFound),
        "a missing job is not found, whatever the release"
    );
    assert_eq!(
        server.journal(&["A", "B"]).await,
        vec![Vec::<String>::new(); 5]
    );
    let kept: Option<String> = server
        .query(redis::cmd("HGET").arg(&keys.jobs).arg("corrupt"))
        .await;
    assert_eq!(kept.as_deref(), Some("{not json"), "the record is kept");
    server.clean().await;
}

#[tokio::test]
async fn a_kept_update_journals_its_hand_off() {
    let Some(server) = Server::start("kept").await else {
        return;
    };
    server.acquired(&["a"], "A").await;
    server.store.update_job(job("a", at(500))).await.unwrap();
    let results = server
        .store
        .release_jobs(
            "A",
            &[JobRelease::new("a", again(70)).with_hand_off(hand_off("a", "A"))],
        )
        .await;
    assert_eq!(results[0].as_ref().ok(), Some(&Released::KeptUpdate));
    assert_eq!(server.journal(&["A"]).await, vec![vec![field("a")]; 4]);
    server.clean().await;
}

#[tokio::test]
async fn claims_move_entries_between_owners_and_finish_clears_them() {
    let Some(server) = Server::start("claim").await else {
        return;
    };
    server.acquired(&["a", "b"], "A").await;
    let releases = [
        JobRelease::new("a", again(70)).with_hand_off(hand_off("a", "A")),
        JobRelease::new("b", again(70)).with_hand_off(hand_off("b", "A")),
    ];
    for result in server.store.release_jobs("A", &releases).await {
        result.unwrap();
    }
    let _: () = server
        .query(
            redis::cmd("HSET")
                .arg(&server.store.keys.hand_offs)
                .arg(field("b"))
                .arg("{not json"),
        )
        .await;
    let mut claimed = server
        .store
        .claim_stale_hand_offs("B", at(41), 10, LEASE)
        .await
        .unwrap();
    claimed.sort_by(|x, y| x.job_id.cmp(&y.job_id));
    assert_eq!(claimed[0], hand_off("a", "A"));
    assert_eq!(
        claimed[1],
        HandOff::new("b", at(10), "A", vec![at(10)], Vec::new(), at(40)),
        "an unreadable entry reports its fire"
    );
    let journal = server.journal(&["A", "B"]).await;
    assert_eq!(journal[3], Vec::<String>::new(), "A holds nothing now");
    assert_eq!(journal[4], vec![field("a"), field("b")], "B holds both");
    // A renewal by the old owner leaves the claimed entries alone.
    let keys = [hand_off("a", "A").key(), hand_off("b", "A").key()];
    server
        .store
        .renew_hand_offs("A", &keys, at(1000))
        .await
        .unwrap();
    assert!(server
        .store
        .claim_stale_hand_offs("C", at(41 + 29), 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    let reclaimed = server
        .store
        .claim_stale_hand_offs("C", at(41 + 31), 1, LEASE)
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), 1, "the limit holds");
    assert_eq!(reclaimed[0].owner, "B");
    assert_eq!(reclaimed[0].deadline, at(41 + 30));
    server
        .store
        .finish_hand_offs(&[hand_off("a", "A").key(), hand_off("b", "A").key()])
        .await
        .unwrap();
    assert_eq!(
        server.journal(&["A", "B", "C"]).await,
        vec![Vec::<String>::new(); 6]
    );
    server.clean().await;
}

/// The due-set member a job with next run time `next` (and no unexpired
/// lease, or one ending before it) and priority 0 must have: the layout
/// documented in `scripts.rs`.
fn member(id: &str, available: DateTime<Utc>) -> String {
    format!("{:018}:{:010}:{id}", available.timestamp_micros(), i32::MAX)
}

impl Server {
    async fn due(&self) -> Vec<String> {
        self.query(
            redis::cmd("ZRANGE")
                .arg(&self.store.keys.due)
                .arg(0)
                .arg(-1),
        )
        .await
    }
}

#[tokio::test]
async fn the_due_set_holds_each_jobs_current_member_through_every_write() {
    let Some(server) = Server::start("members").await else {
        return;
    };
    let store = &server.store;
    let jobs = vec![job("a", at(10)), job("b", at(20)), job("c", at(30))];
    store.add_jobs(jobs, false).await.unwrap();
    assert_eq!(
        server.due().await,
        [
            member("a", at(10)),
            member("b", at(20)),
            member("c", at(30))
        ]
    );
    // Updated, modified, paused.
    store.update_job(job("b", at(40))).await.unwrap();
    store
        .modify_job("c", &|j: &mut Job| {
            j.next_run_time = None;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        server.due().await,
        [member("a", at(10)), member("b", at(40))]
    );
    // Acquired: available again when the lease ends (10 + 30 s).
    let got = store
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .unwrap();
    assert_eq!(got.jobs.len(), 1);
    assert_eq!(
        server.due().await,
        [member("a", at(40)), member("b", at(40))]
    );
    // Released with a new next run time.
    store.release_job("A", "a", again(70)).await.unwrap();
    assert_eq!(
        server.due().await,
        [member("b", at(40)), member("a", at(70))]
    );
    // Replaced by a batch add; then acquired, updated under the lease
    // (the later of next run and lease end counts) and released ("kept").
    store.add_jobs(vec![job("a", at(15))], true).await.unwrap();
    assert_eq!(
        server.due().await,
        [member("a", at(15)), member("b", at(40))]
    );
    store.acquire_due_jobs("A", at(15), 1, LEASE).await.unwrap();
    store.update_job(job("a", at(20))).await.unwrap();
    assert_eq!(
        server.due().await,
        [member("b", at(40)), member("a", at(45))]
    );
    store.release_job("A", "a", again(99)).await.unwrap();
    assert_eq!(
        server.due().await,
        [member("a", at(20)), member("b", at(40))],
        "the update made under the lease is kept"
    );
    // Replaced by a batch add while leased: the leased member goes, and
    // the lease with it.
    store.acquire_due_jobs("A", at(20), 1, LEASE).await.unwrap();
    assert_eq!(
        server.due().await,
        [member("b", at(40)), member("a", at(50))]
    );
    store.add_jobs(vec![job("a", at(25))], true).await.unwrap();
    assert_eq!(
        server.due().await,
        [member("a", at(25)), member("b", at(40))]
    );
    // Paused under a lease, then released ("kept"): no member at all.
    store.acquire_due_jobs("A", at(25), 1, LEASE).await.unwrap();
    store
        .modify_job("a", &|j: &mut Job| {
            j.next_run_time = None;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(server.due().await, [member("b", at(40))]);
    store.release_job("A", "a", again(99)).await.unwrap();
    assert_eq!(server.due().await, [member("b", at(40))]);
    // Released with "remove" (a job that fires no more).
    store.acquire_due_jobs("A", at(40), 1, LEASE).await.unwrap();
    store.release_job("A", "b", Release::Remove).await.unwrap();
    assert_eq!(server.due().await, Vec::<String>::new());
    assert!(store.get_job("b").await.unwrap().is_none());
    // Removed, one and all.
    store.update_job(job("a", at(20))).await.unwrap();
    store.add_jobs(vec![job("b", at(30))], false).await.unwrap();
    store.remove_job("b").await.unwrap();
    assert_eq!(server.due().await, [member("a", at(20))]);
    store.remove_all_jobs().await.unwrap();
    assert_eq!(server.due().await, Vec::<String>::new());
    server.clean().await;
}

#[tokio::test]
async fn acquisition_drops_members_of_jobs_that_are_gone_or_paused() {
    let Some(server) = Server::start("stray").await else {
        return;
    };
    let store = &server.store;
    store
        .add_jobs(vec![job("a", at(10)), job("b", at(10))], false)
        .await
        .unwrap();
    // Members no job accounts for: one of a job that is gone, one of a
    // job that is paused (its meta has no next run time).
    let keys = &store.keys;
    server
        .run(
            redis::pipe()
                .cmd("ZADD")
                .arg(&keys.due)
                .arg(0)
                .arg(member("gone", at(5)))
                .cmd("ZADD")
                .arg(&keys.due)
                .arg(0)
                .arg(member("p", at(5)))
                .cmd("HSET")
                .arg(&keys.meta)
                .arg("p")
                .arg(format!("{:010}", i32::MAX)),
        )
        .await;
    let got = store.acquire_due_jobs("A", at(10), 3, LEASE).await.unwrap();
    assert_eq!(got.jobs.len(), 1, "two of the three members were strays");
    assert_eq!(got.jobs[0].id, "a");
    assert_eq!(
        server.due().await,
        [member("b", at(10)), member("a", at(40))],
        "the strays are gone"
    );
    let got = store.acquire_due_jobs("A", at(10), 3, LEASE).await.unwrap();
    assert_eq!(got.jobs.len(), 1);
    assert_eq!(got.jobs[0].id, "b");
    server.clean().await;
}

#[tokio::test]
async fn connecting_removes_the_member_hash_of_earlier_builds() {
    let Some(server) = Server::start("legacy").await else {
        return;
    };
    server
        .store
        .add_jobs(vec![job("a", at(10))], false)
        .await
        .unwrap();
    let legacy = server.store.keys.legacy_due_member.clone();
    let _: () = server
        .query(
            redis::cmd("HSET")
                .arg(&legacy)
                .arg("a")
                .arg(member("a", at(10))),
        )
        .await;
    let url = std::env::var("CHIME_TEST_REDIS_URL").unwrap();
    let again = RedisStore::connect(RedisConfig::new(&url).prefix(&server.prefix))
        .await
        .unwrap();
    let exists: i64 = server.query(redis::cmd("EXISTS").arg(&legacy)).await;
    assert_eq!(exists, 0);
    let got = again
        .acquire_due_jobs("A", at(10), 10, LEASE)
        .await
        .unwrap();
    assert_eq!(got.jobs.len(), 1, "the job is still due");
    server.clean().await;
}
