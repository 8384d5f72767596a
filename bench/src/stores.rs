//! Opening the stores the store workloads (W5, W6) measure, by a textual
//! spec that can be passed to child processes.

use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "mongo")]
use chime::store::mongo::MongoConfig;
use chime::store::redis::RedisConfig;
#[cfg(feature = "mongo")]
use chime::store::MongoStore;
use chime::store::{JobStore, RedisStore, SqliteStore};

/// Which store and where.
#[derive(Debug, Clone)]
pub enum StoreSpec {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A Redis server and a key prefix private to this run.
    Redis {
        /// `redis://…`
        url: String,
        /// Key prefix.
        prefix: String,
    },
    /// A MongoDB deployment and a database private to this run.
    #[cfg_attr(not(feature = "mongo"), allow(dead_code))]
    Mongo {
        /// `mongodb://…`
        url: String,
        /// Database name.
        database: String,
    },
}

impl StoreSpec {
    /// The backend's name ("sqlite", "redis").
    pub fn kind(&self) -> &'static str {
        match self {
            StoreSpec::Sqlite(_) => "sqlite",
            StoreSpec::Redis { .. } => "redis",
            StoreSpec::Mongo { .. } => "mongo",
        }
    }

    /// Command-line arguments that [`StoreSpec::from_args`] reads back.
    pub fn to_args(&self) -> Vec<String> {
        match self {
            StoreSpec::Sqlite(path) => vec!["--sqlite".into(), path.display().to_string()],
            StoreSpec::Redis { url, prefix } => vec![
                "--redis".into(),
                url.clone(),
                "--prefix".into(),
                prefix.clone(),
            ],
            StoreSpec::Mongo { url, database } => vec![
                "--mongo".into(),
                url.clone(),
                "--prefix".into(),
                database.clone(),
            ],
        }
    }

    /// From the `--sqlite PATH` / `--redis URL --prefix P` / `--mongo URL
    /// --prefix DATABASE` options.
    pub fn from_args(location: &Location) -> Result<Self, String> {
        let prefix = location
            .prefix
            .clone()
            .unwrap_or_else(|| "chime-bench".into());
        match (&location.sqlite, &location.redis, &location.mongo) {
            (Some(path), None, None) => Ok(StoreSpec::Sqlite(path.clone())),
            (None, Some(url), None) => Ok(StoreSpec::Redis {
                url: url.clone(),
                prefix,
            }),
            (None, None, Some(url)) => Ok(StoreSpec::Mongo {
                url: url.clone(),
                database: prefix,
            }),
            _ => Err("give exactly one of --sqlite PATH, --redis URL or --mongo URL".into()),
        }
    }

    /// Opens (connects to) the store.
    pub async fn open(&self) -> Result<Arc<dyn JobStore>, String> {
        match self {
            StoreSpec::Sqlite(path) => Ok(Arc::new(
                SqliteStore::open(path).map_err(|e| format!("sqlite {}: {e}", path.display()))?,
            )),
            StoreSpec::Redis { url, prefix } => Ok(Arc::new(
                RedisStore::connect(RedisConfig::new(url).prefix(prefix))
                    .await
                    .map_err(|e| format!("redis: {e}"))?,
            )),
            #[cfg(feature = "mongo")]
            StoreSpec::Mongo { url, database } => Ok(Arc::new(
                MongoStore::connect(MongoConfig::new(url).database(database))
                    .await
                    .map_err(|e| format!("mongo: {e}"))?,
            )),
            #[cfg(not(feature = "mongo"))]
            StoreSpec::Mongo { .. } => {
                Err("chime-bench was built without the mongo feature".into())
            }
        }
    }

    /// Removes what the run left: the SQLite file (and its WAL files),
    /// every job under the Redis prefix, or the MongoDB database.
    pub async fn cleanup(&self, store: Option<&Arc<dyn JobStore>>) {
        match self {
            StoreSpec::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            StoreSpec::Redis { .. } => {
                if let Some(store) = store {
                    let _ = store.remove_all_jobs().await;
                }
            }
            StoreSpec::Mongo { url, database } => {
                if let Some(store) = store {
                    let _ = store.remove_all_jobs().await;
                }
                // The run's own database (jobs, history, journal, indexes):
                // runs must not pile up empty databases on the server.
                #[cfg(feature = "mongo")]
                drop_mongo_database(url, database).await;
                #[cfg(not(feature = "mongo"))]
                let _ = (url, database);
            }
        }
    }
}

/// Drops `database` on the server at `url` (best effort: a bench that
/// cannot clean up still reports its figures).
#[cfg(feature = "mongo")]
async fn drop_mongo_database(url: &str, database: &str) {
    match mongodb::Client::with_uri_str(url).await {
        Ok(client) => {
            if let Err(e) = client.database(database).drop().await {
                eprintln!("chime-bench: could not drop MongoDB database {database}: {e}");
            }
        }
        Err(e) => eprintln!("chime-bench: could not drop MongoDB database {database}: {e}"),
    }
}

/// Where a child process finds the store: exactly one of the three.
#[derive(Debug, Clone, clap::Args)]
pub struct Location {
    /// SQLite file.
    #[arg(long)]
    pub sqlite: Option<PathBuf>,
    /// Redis URL.
    #[arg(long)]
    pub redis: Option<String>,
    /// MongoDB URL.
    #[arg(long)]
    pub mongo: Option<String>,
    /// Redis key prefix or MongoDB database.
    #[arg(long)]
    pub prefix: Option<String>,
}

/// The store named `name` ("sqlite", "redis", "mongo") for a run of
/// `workload`, or why it is skipped.
pub fn spec_for(
    name: &str,
    workload: &str,
    redis_url: Option<String>,
    mongo_url: Option<String>,
) -> Result<Result<StoreSpec, String>, String> {
    let tag = crate::common::run_tag();
    Ok(match name {
        "sqlite" => Ok(StoreSpec::Sqlite(temp_sqlite(workload))),
        "redis" => match crate::common::redis_url(redis_url) {
            Some(url) => Ok(StoreSpec::Redis {
                url,
                prefix: format!("chime-bench-{workload}-{tag}"),
            }),
            None => Err("no --redis-url and CHIME_TEST_REDIS_URL is not set".into()),
        },
        "mongo" if !cfg!(feature = "mongo") => {
            Err("chime-bench was built without the mongo feature".into())
        }
        "mongo" => match mongo_url
            .or_else(|| std::env::var("CHIME_TEST_MONGO_URL").ok())
            .filter(|s| !s.is_empty())
        {
            Some(url) => Ok(StoreSpec::Mongo {
                url,
                database: format!("chime_bench_{workload}_{}", tag.replace('-', "_")),
            }),
            None => Err("no --mongo-url and CHIME_TEST_MONGO_URL is not set".into()),
        },
        other => return Err(format!("unknown store {other:?} (sqlite, redis, mongo)")),
    })
}

#[cfg(feature = "mongo")]
/// Initiates a single-member replica set on the `mongod` at `url` (a
/// no-op when it already is one) and waits until it is a writable primary.
pub async fn mongo_init(url: &str) -> Result<(), String> {
    chime::store::mongo::initiate_replica_set(url, std::time::Duration::from_secs(60))
        .await
        .map_err(|e| e.to_string())
}

/// A temporary SQLite file path for this run.
pub fn temp_sqlite(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "chime-bench-{name}-{}.db",
        crate::common::run_tag()
    ))
}
