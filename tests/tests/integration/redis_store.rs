//! The Redis store: conformance, cross-process wake-up, several processes,
//! and a server outage. These need a Redis server: `scripts/test.sh` starts
//! one and passes its URL in `CHIME_TEST_REDIS_URL`; without it the tests
//! say so and skip (unless `CHIME_REQUIRE_SERVERS=1`, as in CI). The outage
//! test starts and stops a server of its own. Everything runs in real time:
//! network I/O does not mix with tokio's paused clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chime::chrono::Utc;
use chime::job::NextRun;
use chime::store::redis::RedisConfig;
use chime::store::{JobStore, RedisStore};
use chime::trigger::IntervalTrigger;
use chime::{AsyncScheduler, NewJob, TaskContext};
use chime_store_tests::{run_all, RawRecord, StoreHarness};
use chime_tests::servers::OwnRedis;

/// The URL of the test command's Redis, or `None` to skip.
pub fn redis_url() -> Option<String> {
    match std::env::var("CHIME_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CHIME_REQUIRE_SERVERS").as_deref() != Ok("1"),
                "CHIME_TEST_REDIS_URL is not set but CHIME_REQUIRE_SERVERS=1: run the tests through scripts/test.sh"
            );
            eprintln!("skipping a Redis test: CHIME_TEST_REDIS_URL is not set (scripts/test.sh starts a Redis)");
            None
        }
    }
}

/// A key prefix no other test uses.
pub fn unique_prefix(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "chime-test-{name}-{}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

struct Harness {
    url: String,
    prefixes: Mutex<Vec<(usize, String)>>,
}

#[async_trait::async_trait]
impl StoreHarness for Harness {
    async fn new_store(&self) -> Arc<dyn JobStore> {
        let prefix = unique_prefix("kit");
        let store: Arc<dyn JobStore> = Arc::new(
            RedisStore::connect(RedisConfig::new(&self.url).prefix(&prefix))
                .await
                .expect("connect to the test Redis"),
        );
        let key = Arc::as_ptr(&store) as *const () as usize;
        self.prefixes.lock().unwrap().push((key, prefix));
        store
    }

    async fn plant_raw_record(&self, store: &Arc<dyn JobStore>, record: RawRecord<'_>) -> bool {
        let key = Arc::as_ptr(store) as *const () as usize;
        let prefix = self
            .prefixes
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, p)| p.clone())
            .unwrap();
        // The documented layout (store-redis/src/keys.rs, scripts.rs):
        // record, index entry (priority10 ++ next18) and due member.
        let next = record
            .next_run_time
            .map(|t| format!("{:018}", t.timestamp_micros()))
            .unwrap_or_default();
        let priority = format!("{:010}", i32::MAX);
        let member = format!("{next}:{priority}:{}", record.id);
        let client = redis::Client::open(self.url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(format!("{prefix}:jobs"))
            .arg(record.id)
            .arg(record.text)
            .cmd("HSET")
            .arg(format!("{prefix}:meta"))
            .arg(record.id)
            .arg(format!("{priority}{next}"));
        // A paused job (no next run time) has no due member.
        if !next.is_empty() {
            pipe.cmd("ZADD")
                .arg(format!("{prefix}:due"))
                .arg(0)
                .arg(&member);
        }
        pipe.query_async::<()>(&mut conn).await.unwrap();
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_conforms() {
    let Some(url) = redis_url() else { return };
    run_all(&Harness {
        url,
        prefixes: Mutex::new(Vec::new()),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_added_elsewhere_wakes_the_scheduler_at_once() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("wake");
    let store = RedisStore::connect(RedisConfig::new(&url).prefix(&prefix))
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let scheduler = AsyncScheduler::builder()
        .store("default", store)
        .max_sleep(Duration::from_secs(300))
        .task_async("ping", move |ctx: TaskContext, _: ()| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(ctx.job_id.clone());
            }
        })
        .build()
        .unwrap();
    scheduler.start().await.unwrap();
    // Give the idle loop time to go to sleep for up to 5 minutes, then add
    // a job due now through another connection (another process, in effect).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = RedisStore::connect(RedisConfig::new(&url).prefix(&prefix))
        .await
        .unwrap();
    let job = NewJob::new("ping", IntervalTrigger::seconds(3600).unwrap())
        .id("from-elsewhere")
        .next_run(NextRun::At(Utc::now()))
        .into_job(Utc::now(), &Default::default(), chime::chrono_tz::UTC)
        .unwrap();
    let added = std::time::Instant::now();
    other.add_job(job, false).await.unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("the job ran");
    assert_eq!(ran.as_deref(), Some("from-elsewhere"));
    assert!(
        added.elapsed() < Duration::from_secs(10),
        "woken by the change, not by a 5-minute sleep: {:?}",
        added.elapsed()
    );
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_retried_other_stores_keep_running_and_nothing_is_lost() {
    if redis_url().is_none() {
        return; // no redis-server on this machine either
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = OwnRedis::start(dir.path(), None).unwrap();
    let redis = RedisStore::connect(RedisConfig::new(server.url()).prefix("outage"))
        .await
        .unwrap();
    let mut run = crate::outage::OutageRun::start("redis", redis).await;
    server.kill();
    let down_at = Utc::now();
    run.wait_for_store_error().await;
    // Keep the server down for a few fires.
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.restart().unwrap();
    let up_at = Utc::now();
    run.finish("Redis", down_at, up_at).await;
    let store = RedisStore::connect(RedisConfig::new(server.url()).prefix("outage"))
        .await
        .unwrap();
    assert!(
        store.get_job("in-redis").await.unwrap().is_some(),
        "the job survived the restart"
    );
}
