//! Opening a store from its URL.

use std::path::Path;
use std::sync::Arc;

use chime::store::{JobStore, MemoryStore, SqliteStore};
use chime::Error;

/// Opens `sqlite://path` (relative paths against `base_dir`),
/// `sqlite::memory:`, `memory://`, `redis://…`/`rediss://…` (feature
/// `redis`) and `mongodb://…`/`mongodb+srv://…` (feature `mongo`).
pub async fn open_store(url: &str, base_dir: &Path) -> Result<Arc<dyn JobStore>, Error> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "memory" => Ok(Arc::new(MemoryStore::new())),
        "sqlite" => {
            let mut config = chime::store::sql::SqliteConfig::from_url(url)?;
            if let Some(path) = config.path.as_ref().filter(|p| p.is_relative()) {
                config.path = Some(base_dir.join(path));
            }
            let store = tokio::task::spawn_blocking(move || SqliteStore::with_config(config))
                .await
                .map_err(|e| Error::invalid(format!("cannot open the SQLite store: {e}")))??;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "redis")]
        "redis" | "rediss" => Ok(Arc::new(chime::store::RedisStore::from_url(url).await?)),
        #[cfg(feature = "mongo")]
        "mongodb" | "mongodb+srv" => Ok(Arc::new(chime::store::MongoStore::from_url(url).await?)),
        _ => Err(Error::invalid(format!(
            "store: '{}' is not a store URL this build supports (sqlite://path, memory://{})",
            redact(url),
            if cfg!(feature = "redis") {
                ", redis://host:port/db"
            } else {
                ""
            }
        ))),
    }
}

/// The URL with any password masked.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{user}:***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}
