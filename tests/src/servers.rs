//! Store servers a test (or the chaos suite) owns: started on a free
//! loopback port with data in a directory of the caller's, killed and
//! restarted with the same data, killed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// A `redis-server` (`CHIME_TEST_REDIS_SERVER`, else from `PATH`) with an
/// append-only file fsynced on every write, so a kill loses nothing acknowledged.
pub struct OwnRedis {
    child: ServerProcess,
    port: u16,
    dir: PathBuf,
}

impl OwnRedis {
    /// Starts a server with its data in `dir`, on `port` or a free one, and
    /// waits until it answers.
    pub fn start(dir: &Path, port: Option<u16>) -> Result<OwnRedis, String> {
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let binary =
            std::env::var("CHIME_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {binary}: {e}"))?;
        let server = OwnRedis {
            child: ServerProcess(Some(child)),
            port,
            dir: dir.to_owned(),
        };
        server.wait_until_up()?;
        Ok(server)
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn wait_until_up(&self) -> Result<(), String> {
        let client = redis::Client::open(self.url()).map_err(|e| e.to_string())?;
        for _ in 0..400 {
            if let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(100)) {
                if redis::cmd("PING").query::<String>(&mut conn).is_ok() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(format!(
            "redis-server did not come up on port {}",
            self.port
        ))
    }

    /// Kills the server (SIGKILL).
    pub fn kill(&mut self) {
        self.child.kill();
    }

    /// Kills the server and starts it again on the same port and data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        *self = OwnRedis::start(&self.dir.clone(), Some(self.port))?;
        Ok(())
    }
}

/// A `mongod` (a single-node replica set) with its data in a directory.
pub struct OwnMongo {
    child: ServerProcess,
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
}

impl OwnMongo {
    /// Starts `binary` with its data in `dir`, on `port` or a free one, and
    /// waits until it is a writable primary (initiating the replica set).
    pub fn start(binary: &Path, dir: &Path, port: Option<u16>) -> Result<OwnMongo, String> {
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let child = Command::new(binary)
            .args(["--replSet", "rs0", "--bind_ip", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--dbpath")
            .arg(&data)
            .arg("--logpath")
            .arg(dir.join("mongod.log"))
            .arg("--logappend")
            .args(["--wiredTigerCacheSizeGB", "0.25", "--oplogSize", "128"])
            .args([
                "--wiredTigerEngineConfigString",
                "log=(file_max=10MB,prealloc=false)",
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = OwnMongo {
            child: ServerProcess(Some(child)),
            binary: binary.to_owned(),
            port,
            dir: dir.to_owned(),
        };
        if let Err(e) = ensure_primary(&server.url(), Duration::from_secs(60)) {
            let log = std::fs::read_to_string(dir.join("mongod.log")).unwrap_or_default();
            let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
            return Err(format!(
                "mongod on port {port} did not become primary: {e}\n{tail}"
            ));
        }
        Ok(server)
    }

    /// The store's URL; a short server selection timeout keeps a
    /// scheduler's loop from waiting long on a dead server.
    pub fn url(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/?replicaSet=rs0&serverSelectionTimeoutMS=2000",
            self.port
        )
    }

    /// Kills the server the hard way (SIGKILL): acknowledged writes must
    /// survive through its journal.
    pub fn kill(&mut self) {
        self.child.kill();
    }

    /// Kills the server and starts it again on the same port and data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        *self = OwnMongo::start(&self.binary.clone(), &self.dir.clone(), Some(self.port))?;
        Ok(())
    }
}

/// Initiates the single-node replica set behind `url` if it is not yet
/// initiated, and waits until its member is a writable primary. Runs on a
/// thread with a runtime of its own, so it can be called from sync code
/// and from inside async code alike (the driver's background tasks live
/// and die with that runtime).
pub fn ensure_primary(url: &str, patience: Duration) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(async {
                chime::store::mongo::initiate_replica_set(&url, patience)
                    .await
                    .map_err(|e| e.to_string())
            })
    })
    .join()
    .map_err(|_| "the replica set set-up panicked".to_owned())?
}

/// A server process the tests own: killed (SIGKILL) on request and when
/// dropped, so a failing test never leaves a server behind.
#[derive(Debug)]
struct ServerProcess(Option<Child>);

impl ServerProcess {
    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
