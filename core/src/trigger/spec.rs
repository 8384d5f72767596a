//! The storable form of a trigger.

use std::fmt;

use arcstr::ArcStr;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::spec_text::canonical_spec_head;
use crate::error::{Error, ErrorKind, Result};

/// A trigger as stored: a JSON object whose `kind` names the trigger type,
/// optionally a `version` of that kind's format (absent = 1), and the kind's
/// own fields.
///
/// It is held as compact JSON text (plus its kind and version), not as a
/// parsed object: every job carries one, and a parsed map costs several
/// hundred bytes of allocations per job where the text costs tens. The text
/// is shared: cloning a spec (and so a job) copies no bytes, and a
/// built-in kind name is a static string.
///
/// ```
/// use chime_core::trigger::TriggerSpec;
/// let spec: TriggerSpec = serde_json::from_str(r#"{"kind":"date","run_date":"2026-05-01T09:00:00Z"}"#).unwrap();
/// assert_eq!(spec.kind(), "date");
/// assert_eq!(spec.version(), 1);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TriggerSpec {
    kind: ArcStr,
    version: u64,
    /// The whole object, `kind` included, as compact JSON.
    json: ArcStr,
}

/// The kind name as a shared string: a static one (no allocation) for the
/// built-in kinds.
fn kind_name(kind: &str) -> ArcStr {
    match kind {
        "cron" => arcstr::literal!("cron"),
        "interval" => arcstr::literal!("interval"),
        "date" => arcstr::literal!("date"),
        "calendar_interval" => arcstr::literal!("calendar_interval"),
        "random_interval" => arcstr::literal!("random_interval"),
        "and" => arcstr::literal!("and"),
        "or" => arcstr::literal!("or"),
        other => ArcStr::from(other),
    }
}

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
        Self::from_map(map)
    }

    /// Wraps a JSON object; fails unless it has a string `kind`.
    pub fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Self::from_map(map),
            _ => Err(Error::new(
                ErrorKind::UnknownTrigger,
                "trigger spec is not a JSON object",
            )),
        }
    }

    /// A spec from text its trigger wrote directly (a fast path for
    /// triggers that build their text without a JSON map): compact JSON
    /// with every object's keys in `str` order, as [`TriggerSpec::new`]
    /// writes it, holding `kind` and no `version` (format version 1).
    pub(crate) fn from_canonical_text(kind: &str, json: &str) -> Self {
        TriggerSpec {
            kind: kind_name(kind),
            version: 1,
            json: json.into(),
        }
    }

    /// A spec from JSON object text that is already canonical (see
    /// `spec_text`), kept as it is; `None` for any other text.
    pub(crate) fn from_canonical_json(text: &str) -> Option<Self> {
        let head = canonical_spec_head(text)?;
        Some(TriggerSpec {
            kind: kind_name(head.kind),
            version: head.version,
            json: text.into(),
        })
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Self> {
        let kind = match map.get("kind") {
            Some(Value::String(kind)) => kind_name(kind),
            _ => {
                return Err(Error::new(
                    ErrorKind::UnknownTrigger,
                    "trigger spec has no string field 'kind'",
                ))
            }
        };
        let version = map.get("version").and_then(Value::as_u64).unwrap_or(1);
        // Keys in `str` order at every level, whatever the build: with
        // serde_json's `preserve_order` (which the `mongo` feature turns on
        // through bson) maps keep insertion order, and the same trigger
        // would otherwise be stored as a different text in such a build.
        map.sort_keys();
        map.values_mut().for_each(Value::sort_all_objects);
        let json = serde_json::to_string(&map).map_err(|e| {
            Error::new(ErrorKind::Internal, "cannot encode a trigger spec").with_source(e)
        })?;
        Ok(TriggerSpec {
            kind,
            version,
            json: json.into(),
        })
    }

    /// The trigger kind name.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The version of the kind's format; 1 when absent.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The spec's fields, `kind` included (parsed from the stored text).
    pub fn fields(&self) -> Map<String, Value> {
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    /// The spec as compact JSON object text.
    pub fn as_json(&self) -> &str {
        &self.json
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
        let mut map = self.fields();
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

impl fmt::Debug for TriggerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TriggerSpec({})", self.json)
    }
}

/// Hashes the JSON text (which holds the kind and version too): equal
/// specs hash alike, so a store can share one copy among equal specs.
impl std::hash::Hash for TriggerSpec {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.json.hash(state);
    }
}

impl Serialize for TriggerSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields().serialize(serializer)
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
