//! The store a chaos run shares between its nodes, and the server behind
//! it (owned by the run, so it can be restarted).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chime::store::mongo::MongoConfig;
use chime::store::redis::RedisConfig;
use chime::store::{JobStore, MongoStore, RedisStore, SqliteStore};
use chime_tests::servers::{OwnMongo, OwnRedis};

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Redis,
    Mongo,
}

impl Kind {
    pub fn parse(name: &str) -> Result<Kind, String> {
        match name {
            "sqlite" => Ok(Kind::Sqlite),
            "redis" => Ok(Kind::Redis),
            "mongo" | "mongodb" => Ok(Kind::Mongo),
            other => Err(format!("unknown store {other:?} (sqlite, redis, mongo)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Redis => "redis",
            Kind::Mongo => "mongo",
        }
    }
}

enum Server {
    None(PathBuf),
    Redis(OwnRedis),
    Mongo(OwnMongo),
}

/// The store of one run and its server.
pub struct Backend {
    server: Server,
}

impl Backend {
    /// Starts what `kind` needs, with its data under `dir`.
    pub fn start(kind: Kind, dir: &Path) -> Result<Backend, String> {
        let server = match kind {
            Kind::Sqlite => Server::None(dir.join("chaos.db")),
            Kind::Redis => {
                let data = dir.join("redis");
                std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
                Server::Redis(OwnRedis::start(&data, None)?)
            }
            Kind::Mongo => {
                let binary = std::env::var("CHIME_TEST_MONGOD").unwrap_or_else(|_| "mongod".into());
                let data = dir.join("mongo");
                std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
                Server::Mongo(OwnMongo::start(Path::new(&binary), &data, None)?)
            }
        };
        Ok(Backend { server })
    }

    /// The `chime-test-node` arguments that name the store.
    pub fn node_args(&self) -> Vec<String> {
        match &self.server {
            Server::None(path) => vec!["--db".into(), path.display().to_string()],
            Server::Redis(server) => vec![
                "--store".into(),
                server.url(),
                "--prefix".into(),
                "chaos".into(),
            ],
            Server::Mongo(server) => vec![
                "--store".into(),
                server.url(),
                "--database".into(),
                "chaos".into(),
            ],
        }
    }

    /// A client of the store, for seeding and checking.
    pub async fn open(&self) -> Result<Arc<dyn JobStore>, String> {
        let store: Arc<dyn JobStore> = match &self.server {
            Server::None(path) => Arc::new(SqliteStore::open(path).map_err(|e| e.to_string())?),
            Server::Redis(server) => Arc::new(
                RedisStore::connect(RedisConfig::new(server.url()).prefix("chaos"))
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            Server::Mongo(server) => Arc::new(
                MongoStore::connect(MongoConfig::new(server.url()).database("chaos"))
                    .await
                    .map_err(|e| e.to_string())?,
            ),
        };
        Ok(store)
    }

    /// Whether there is a server to restart.
    pub fn has_server(&self) -> bool {
        !matches!(self.server, Server::None(_))
    }

    /// Kills the server (SIGKILL) and starts it again on its data.
    pub fn restart_server(&mut self) -> Result<(), String> {
        match &mut self.server {
            Server::None(_) => Ok(()),
            Server::Redis(server) => server.restart(),
            Server::Mongo(server) => server.restart(),
        }
    }
}
