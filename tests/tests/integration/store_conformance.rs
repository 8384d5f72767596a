//! Every store in the workspace passes the conformance kit.

use std::sync::Arc;

use chime::store::{JobStore, MemoryStore};
use chime_store_tests::{run_all, StoreHarness};

struct Memory;

#[async_trait::async_trait]
impl StoreHarness for Memory {
    async fn new_store(&self) -> Arc<dyn JobStore> {
        Arc::new(MemoryStore::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    run_all(&Memory).await;
}

/// SQLite stores on files in a temporary directory; raw records are planted
/// through a second connection to the same file.
struct Sqlite {
    dir: tempfile::TempDir,
    next: std::sync::atomic::AtomicUsize,
    paths: std::sync::Mutex<Vec<(usize, std::path::PathBuf)>>,
}

impl Sqlite {
    fn new() -> Self {
        Sqlite {
            dir: tempfile::tempdir().expect("a temporary directory"),
            next: Default::default(),
            paths: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl StoreHarness for Sqlite {
    async fn new_store(&self) -> Arc<dyn JobStore> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = self.dir.path().join(format!("store-{n}.db"));
        let store: Arc<dyn JobStore> =
            Arc::new(chime::store::SqliteStore::open(&path).expect("open"));
        // Remember which file backs which store (by address).
        let key = Arc::as_ptr(&store) as *const () as usize;
        self.paths.lock().unwrap().push((key, path));
        store
    }

    async fn plant_raw_record(
        &self,
        store: &Arc<dyn JobStore>,
        record: chime_store_tests::RawRecord<'_>,
    ) -> bool {
        let key = Arc::as_ptr(store) as *const () as usize;
        // The newest store at this address (a dropped one's may be reused).
        let path = self
            .paths
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, p)| p.clone())
            .expect("a store of ours");
        let conn = rusqlite::Connection::open(path).expect("second connection");
        let micros = record.next_run_time.map(|t| t.timestamp_micros());
        conn.execute(
            "INSERT INTO chime_jobs (id, record, next_run_time, priority) VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![record.id, record.text, micros],
        )
        .expect("plant a raw row");
        if let Some(micros) = micros {
            conn.execute(
                "INSERT INTO chime_due (available_at, neg_priority, id) VALUES (?1, 0, ?2)",
                rusqlite::params![micros, record.id],
            )
            .expect("plant its due row");
        }
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_conforms() {
    run_all(&Sqlite::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_store_conforms() {
    struct InMemory;
    #[async_trait::async_trait]
    impl StoreHarness for InMemory {
        async fn new_store(&self) -> Arc<dyn JobStore> {
            Arc::new(chime::store::SqliteStore::in_memory().expect("open"))
        }
    }
    run_all(&InMemory).await;
}
