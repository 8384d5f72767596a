//! The storable form of a trigger.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// A trigger as stored: a JSON object whose `kind` names the trigger type,
/// optionally a `version` of that kind's format (absent = 1), and the kind's
/// own fields.
///
/// ```
/// use chime_core::trigger::TriggerSpec;
/// let spec: TriggerSpec = serde_json::from_str(r#"{"kind":"date","run_date":"2026-05-01T09:00:00Z"}"#).unwrap();
/// assert_eq!(spec.kind(), "date");
/// assert_eq!(spec.version(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TriggerSpec(Map<String, Value>);

impl TriggerSpec {
    /// Builds a spec from a kind name and a serializable body (a struct whose
    /// fields become the spec's fields).
    pub fn new<T: Serialize>(kind: &str, body: &T) -> Result<Self> {
        let value = serde_json::to_value(body).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot serialize trigger '{kind}'"),
            )
            .with_source(e)
        })?;
        let mut map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                let mut map = Map::new();
                map.insert("value".into(), other);
                map
            }
        };
        map.insert("kind".into(), Value::String(kind.to_owned()));
        Ok(TriggerSpec(map))
    }

    /// Wraps a JSON object; fails unless it has a string `kind`.
    pub fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => match map.get("kind") {
                Some(Value::String(_)) => Ok(TriggerSpec(map)),
                _ => Err(Error::new(
                    ErrorKind::UnknownTrigger,
                    "trigger spec has no string field 'kind'",
                )),
            },
            _ => Err(Error::new(
                ErrorKind::UnknownTrigger,
                "trigger spec is not a JSON object",
            )),
        }
    }

    /// The trigger kind name.
    pub fn kind(&self) -> &str {
        self.0.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// The version of the kind's format; 1 when absent.
    pub fn version(&self) -> u64 {
        self.0.get("version").and_then(Value::as_u64).unwrap_or(1)
    }

    /// The spec's fields, `kind` included.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Decodes the spec's fields into `T`, after checking that the kind's
    /// format version is at most `max_version`. Used by trigger decoders.
    pub fn decode<T: DeserializeOwned>(&self, max_version: u64) -> Result<T> {
        if self.version() > max_version {
            return Err(Error::new(
                ErrorKind::UnknownTrigger,
                format!(
                    "trigger '{}' format version {} is newer than this build supports ({max_version})",
                    self.kind(),
                    self.version()
                ),
            ));
        }
        let mut map = self.0.clone();
        map.remove("kind");
        map.remove("version");
        serde_json::from_value(Value::Object(map)).map_err(|e| {
            Error::new(
                ErrorKind::UnknownTrigger,
                format!("invalid '{}' trigger: {e}", self.kind()),
            )
        })
    }
}

impl<'de> Deserialize<'de> for TriggerSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        TriggerSpec::from_value(value).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_needs_a_kind() {
        assert!(TriggerSpec::from_value(serde_json::json!({"seconds": 3})).is_err());
        assert!(TriggerSpec::from_value(serde_json::json!([1, 2])).is_err());
        let err = serde_json::from_str::<TriggerSpec>(r#"{"kind": 5}"#).unwrap_err();
        assert!(err.to_string().contains("kind"));
    }

    #[test]
    fn newer_versions_are_refused_with_a_reason() {
        let spec = TriggerSpec::from_value(serde_json::json!({"kind": "x", "version": 9})).unwrap();
        let err = spec.decode::<serde_json::Value>(1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownTrigger);
        assert!(err.message().contains("version 9"), "{err}");
    }
}
