//! Setting up a single-member replica set, for development and test servers.

use std::time::{Duration, Instant};

use chime_core::{Error, ErrorKind, Result};
use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use mongodb::Client;

use crate::error::code;

/// Makes the `mongod` at `url` a single-member replica set (named by the
/// URL's `replicaSet`, default `rs0`, with the member under the address the
/// URL uses) unless it already is one, and waits up to `patience` until it
/// is a writable primary. Safe to call any number of times, from several
/// processes at once.
///
/// A standalone `mongod` refuses transactions and change streams; started
/// with `--replSet rs0`, it needs this once before first use (the job a
/// `mongosh` `rs.initiate()` would do).
///
/// ```no_run
/// # async fn demo() -> chime_core::Result<()> {
/// use std::time::Duration;
/// chime_store_mongo::initiate_replica_set("mongodb://127.0.0.1:27017/?replicaSet=rs0", Duration::from_secs(60)).await?;
/// # Ok(()) }
/// ```
pub async fn initiate_replica_set(url: &str, patience: Duration) -> Result<()> {
    let secrets: Vec<String> = crate::config::url_secret(url).into_iter().collect();
    let fail = |what: String| {
        Error::new(
            ErrorKind::StoreUnavailable,
            format!(
                "replica set set-up: {}",
                crate::error::scrub(what, &secrets)
            ),
        )
    };
    let mut options = ClientOptions::parse(url)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let set = options.repl_set_name.take().unwrap_or_else(|| "rs0".into());
    let host = options
        .hosts
        .first()
        .ok_or_else(|| fail("the URL names no host".into()))?
        .to_string();
    // Talk to this one member whatever its state (before initiation it is
    // not part of any replica set the driver could discover).
    options.direct_connection = Some(true);
    options.server_selection_timeout = Some(Duration::from_secs(2));
    let client = Client::with_options(options).map_err(|e| fail(e.to_string()))?;
    let admin = client.database("admin");
    let deadline = Instant::now() + patience;
    let mut initiated = false;
    loop {
        let last = if !initiated {
            match admin.run_command(doc! { "replSetGetStatus": 1 }).await {
                Ok(_) => {
                    initiated = true;
                    String::new()
                }
                // 94 NotYetInitialized: initiate with this member under the
                // address we reach it by (the default would be the
                // machine's host name, which need not resolve).
                Err(e) if code(&e) == Some(94) => {
                    let config = doc! { "_id": &set, "members": [{ "_id": 0, "host": &host }] };
                    match admin.run_command(doc! { "replSetInitiate": config }).await {
                        Ok(_) => {
                            initiated = true;
                            String::new()
                        }
                        // 23 AlreadyInitialized: someone else got there first.
                        Err(e) if code(&e) == Some(23) => {
                            initiated = true;
                            String::new()
                        }
                        Err(e) => format!("replSetInitiate: {e}"),
                    }
                }
                Err(e) => format!("replSetGetStatus: {e}"),
            }
        } else {
            match admin.run_command(doc! { "hello": 1 }).await {
                Ok(hello) if hello.get_bool("isWritablePrimary") == Ok(true) => return Ok(()),
                Ok(_) => "not primary yet".to_owned(),
                Err(e) => format!("hello: {e}"),
            }
        };
        if Instant::now() > deadline {
            return Err(fail(last));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
