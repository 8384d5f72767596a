//! Texts that job records repeat — task and executor names, a trigger spec
//! many jobs share — remembered per thread while records are decoded, so
//! that a batch of records shares one copy of each instead of allocating
//! (and, for a spec, checking) one per record.

use std::cell::RefCell;

use arcstr::ArcStr;
use serde::de::{Deserializer, Visitor};

use crate::trigger::TriggerSpec;

/// Texts remembered per kind and thread: a scheduler's jobs use a handful
/// of task names and executors; more distinct ones than this only cost the
/// lookups (a length and byte comparison each) before the allocation that
/// would have happened anyway.
const REMEMBERED: usize = 8;

/// The last [`REMEMBERED`] distinct values seen, replaced oldest first.
struct Recent<T> {
    items: Vec<T>,
    next: usize,
}

impl<T: Clone> Recent<T> {
    const fn new() -> Self {
        Recent {
            items: Vec::new(),
            next: 0,
        }
    }

    /// A remembered value for which `is` holds, or `make`'s (remembered).
    fn get_or_make(
        &mut self,
        is: impl Fn(&T) -> bool,
        make: impl FnOnce() -> Option<T>,
    ) -> Option<T> {
        if let Some(found) = self.items.iter().find(|item| is(item)) {
            return Some(found.clone());
        }
        let made = make()?;
        if self.items.len() < REMEMBERED {
            self.items.push(made.clone());
        } else if let Some(slot) = self.items.get_mut(self.next) {
            *slot = made.clone();
            self.next = (self.next + 1) % REMEMBERED;
        }
        Some(made)
    }
}

thread_local! {
    static NAMES: RefCell<Recent<ArcStr>> = const { RefCell::new(Recent::new()) };
    static SPECS: RefCell<Recent<TriggerSpec>> = const { RefCell::new(Recent::new()) };
}

/// `text` as a shared string: a copy remembered on this thread, or a new one.
pub(crate) fn shared_name(text: &str) -> ArcStr {
    NAMES
        .try_with(|names| {
            let mut names = names.try_borrow_mut().ok()?;
            names.get_or_make(|name| name.as_str() == text, || Some(ArcStr::from(text)))
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| ArcStr::from(text))
}

/// The spec of canonical spec text `text` (see
/// `TriggerSpec::from_canonical_json`): one remembered on this thread
/// with the same text, or a new one; `None` when the text is not canonical.
pub(crate) fn shared_spec(text: &str) -> Option<TriggerSpec> {
    SPECS
        .try_with(|specs| {
            let mut specs = specs.try_borrow_mut().ok()?;
            specs.get_or_make(
                |spec| spec.as_json() == text,
                || TriggerSpec::from_canonical_json(text),
            )
        })
        .ok()
        .flatten()
        .or_else(|| TriggerSpec::from_canonical_json(text))
}

/// Deserializes a string field as a [`shared_name`].
pub(crate) fn deserialize_shared_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ArcStr, D::Error> {
    struct Name;
    impl Visitor<'_> for Name {
        type Value = ArcStr;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ArcStr, E> {
            Ok(shared_name(text))
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<ArcStr, E> {
            std::str::from_utf8(bytes)
                .map(shared_name)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self))
        }
    }
    deserializer.deserialize_str(Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_name_is_one_shared_copy() {
        let a = shared_name("send-report");
        let b = shared_name("send-report");
        assert_eq!(a, b);
        assert!(ArcStr::ptr_eq(&a, &b), "the second is the first, shared");
        assert_ne!(shared_name("other"), a);
    }

    #[test]
    fn more_names_than_remembered_are_still_right() {
        let names: Vec<String> = (0..3 * REMEMBERED).map(|i| format!("task-{i}")).collect();
        for round in 0..2 {
            for name in &names {
                assert_eq!(shared_name(name).as_str(), name, "round {round}");
            }
        }
    }

    #[test]
    fn a_spec_is_shared_only_for_the_same_text_and_only_if_canonical() {
        let text = r#"{"every":"1m","kind":"interval"}"#;
        let first = shared_spec(text);
        let again = shared_spec(text);
        assert!(first.is_some());
        assert_eq!(first, again);
        assert_eq!(first.map(|s| s.as_json().to_owned()).as_deref(), Some(text));
        let other = r#"{"every":"2m","kind":"interval"}"#;
        assert_eq!(
            shared_spec(other)
                .map(|s| s.as_json().to_owned())
                .as_deref(),
            Some(other)
        );
        // Not canonical (keys out of order): refused, remembered or not.
        let unsorted = r#"{"kind":"interval","every":"1m"}"#;
        assert_eq!(shared_spec(unsorted), None);
        assert_eq!(shared_spec(unsorted), None);
    }
}
