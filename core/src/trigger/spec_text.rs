//! Recognising a trigger spec's stored text as already canonical, so that
//! reading a record keeps the text instead of parsing and re-encoding it.
//!
//! Canonical is what [`TriggerSpec`](super::TriggerSpec) writes: compact
//! JSON (serde_json's `to_string`) with every object's keys in `str`
//! order. The recogniser accepts only a subset of that, text for which
//! parsing and re-encoding provably gives the same bytes back:
//!
//! - no whitespace between tokens;
//! - strings without any backslash or control character (serde_json writes
//!   non-ASCII characters as they are, and escapes only `"`, `\` and
//!   control characters);
//! - integers of at most 18 digits without leading zeros or `-0` (they fit
//!   an `i64`/`u64` and are written back as they are); no fractions or
//!   exponents (their shortest form is serde_json's to choose);
//! - object keys strictly increasing (so no key twice) at every level;
//! - at most [`MAX_DEPTH`] levels of nesting.
//!
//! Anything else is declined (`None`) and goes the general way: parsed,
//! sorted and re-encoded. So declining is always safe; accepting must only
//! happen for text the general way would leave unchanged.

/// Deepest nesting accepted (serde_json itself stops at 128).
const MAX_DEPTH: usize = 64;

/// What the top-level object says about the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpecHead<'a> {
    /// The `kind` string.
    pub kind: &'a str,
    /// The `version` when it is a non-negative integer, else 1 (the
    /// general way's `as_u64().unwrap_or(1)`).
    pub version: u64,
}

/// `text`'s kind and version when `text` is a canonical JSON object with a
/// string `kind`; `None` when it is not canonical or has no string `kind`.
pub(crate) fn canonical_spec_head(text: &str) -> Option<SpecHead<'_>> {
    let mut scan = Scanner {
        bytes: text.as_bytes(),
        at: 0,
        kind: None,
        version: 1,
    };
    scan.object(1)?;
    if scan.at != scan.bytes.len() {
        return None;
    }
    let kind = scan.kind?;
    Some(SpecHead {
        kind,
        version: scan.version,
    })
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    kind: Option<&'a str>,
    version: u64,
}

/// What a scanned value was, as far as the head needs to know.
enum Scanned<'a> {
    String(&'a str),
    Integer { negative: bool, digits: &'a str },
    Other,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let mut previous: Option<&str> = None;
        loop {
            let key = self.string()?;
            if previous.is_some_and(|p| p >= key) {
                return None;
            }
            previous = Some(key);
            self.eat(b':')?;
            let value = self.value(depth)?;
            if depth == 1 {
                match (key, value) {
                    ("kind", Scanned::String(kind)) => self.kind = Some(kind),
                    ("kind", _) => return None,
                    (
                        "version",
                        Scanned::Integer {
                            negative: false,
                            digits,
                        },
                    ) => self.version = digits.parse().ok()?,
                    _ => {}
                }
            }
            if self.eat(b',').is_none() {
                return self.eat(b'}');
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth)?;
            if self.eat(b',').is_none() {
                return self.eat(b']');
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Scanned<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Scanned::String),
            b'{' => self.object(depth + 1).map(|()| Scanned::Other),
            b'[' => self.array(depth + 1).map(|()| Scanned::Other),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.integer(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<Scanned<'a>> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            Scanned::Other
        })
    }

    /// A string's contents (between the quotes), without escapes.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        let contents = &self.bytes[start..self.at];
        self.at += 1;
        // Quotes are ASCII, so the contents are whole characters of the
        // `str` the bytes came from.
        std::str::from_utf8(contents).ok()
    }

    fn integer(&mut self) -> Option<Scanned<'a>> {
        let negative = self.eat(b'-').is_some();
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        let canonical = match digits.as_bytes() {
            [] => false,
            [b'0'] => !negative,
            [b'0', ..] => false,
            _ => digits.len() <= 18,
        };
        // A fraction or exponent follows: not an integer, declined.
        let ends = !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (canonical && ends).then_some(Scanned::Integer { negative, digits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::TriggerSpec;
    use serde_json::Value;

    /// The general way: parse, sort, re-encode.
    fn general(text: &str) -> Option<TriggerSpec> {
        TriggerSpec::from_value(serde_json::from_str::<Value>(text).ok()?).ok()
    }

    /// Accepting is only right for text the general way leaves unchanged,
    /// with the same kind and version.
    fn check(text: &str) -> bool {
        let head = canonical_spec_head(text);
        if let Some(head) = head {
            let spec = general(text)
                .unwrap_or_else(|| panic!("accepted {text:?}, which the general way refuses"));
            assert_eq!(spec.as_json(), text, "accepted non-canonical {text:?}");
            assert_eq!(spec.kind(), head.kind, "{text:?}");
            assert_eq!(spec.version(), head.version, "{text:?}");
        }
        head.is_some()
    }

    #[test]
    fn what_the_general_way_writes_is_accepted() {
        let specs = [
            r#"{"kind":"date","run_date":"2026-05-01T09:00:00Z"}"#,
            r#"{"crontab":"30 4 * * 1-5","kind":"cron","timezone":"Europe/Helsinki"}"#,
            r#"{"kind":"interval","seconds":60,"start":"2026-01-01T00:00:00Z"}"#,
            r#"{"kind":"and","triggers":[{"kind":"interval","seconds":5},{"crontab":"* * * * *","kind":"cron"}]}"#,
            r#"{"a":[],"b":{},"c":[[1,-2,0],{"x":null,"y":true,"z":false}],"kind":"x","version":3}"#,
            "{\"kind\":\"ünïcödé ☃\",\"name\":\"a\u{7f}b\",\"sep\":\"\u{2028}\"}",
            r#"{"kind":"x","version":0}"#,
            r#"{"kind":"x","n":-123456789012345678}"#,
            r#"{"kind":"x","version":-1}"#,
            r#"{"kind":"x","version":"2"}"#,
        ];
        for text in specs {
            assert!(check(text), "declined canonical {text:?}");
        }
        assert_eq!(
            canonical_spec_head(r#"{"kind":"x","version":7}"#),
            Some(SpecHead {
                kind: "x",
                version: 7
            })
        );
        assert_eq!(
            canonical_spec_head(r#"{"kind":"x","version":-1}"#).map(|h| h.version),
            Some(1),
            "a negative version reads as absent"
        );
    }

    #[test]
    fn every_built_in_trigger_writes_text_that_is_accepted() {
        for spec in crate::trigger::built_in_samples() {
            assert!(
                check(spec.as_json()),
                "{spec:?} would be parsed on every read"
            );
        }
    }

    #[test]
    fn anything_else_is_declined() {
        let declined = [
            // whitespace, key order, repeated keys
            r#"{ "kind":"x"}"#,
            r#"{"kind": "x"}"#,
            "{\"kind\":\"x\"}\n",
            r#"{"kind":"x","a":1}"#,
            r#"{"a":1,"a":2,"kind":"x"}"#,
            r#"{"kind":"x","z":{"b":1,"a":2}}"#,
            // escapes, even of characters written as they are
            r#"{"kind":"\u0078"}"#,
            r#"{"kind":"x","p":"a\/b"}"#,
            r#"{"kind":"x","p":"a\"b"}"#,
            "{\"kind\":\"x\",\"p\":\"a\tb\"}",
            // numbers the general way may write differently
            r#"{"kind":"x","n":1.0}"#,
            r#"{"kind":"x","n":1e3}"#,
            r#"{"kind":"x","n":-0}"#,
            r#"{"kind":"x","n":007}"#,
            r#"{"kind":"x","n":1234567890123456789}"#,
            r#"{"kind":"x","version":18446744073709551615}"#,
            r#"{"kind":"x","n":+1}"#,
            // not a spec, or not JSON
            r#"{"kind":5}"#,
            r#"{"seconds":5}"#,
            r#"[{"kind":"x"}]"#,
            r#"{"kind":"x"}{"#,
            r#"{"kind":"x""#,
            r#"{"kind":"x",}"#,
            r#"{"kind":"x","a":[1,]}"#,
            r#"{"kind":"x","a":tru}"#,
            "",
        ];
        for text in declined {
            assert!(!check(text), "accepted {text:?}");
        }
        let deep = format!(
            r#"{{"kind":"x","n":{}0{}}}"#,
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(!check(&deep), "nesting beyond the limit is declined");
        let shallow = format!(
            r#"{{"kind":"x","n":{}0{}}}"#,
            "[".repeat(MAX_DEPTH - 2),
            "]".repeat(MAX_DEPTH - 2)
        );
        assert!(check(&shallow));
    }

    #[test]
    fn every_prefix_of_a_spec_is_declined_without_panicking() {
        let text = r#"{"a":[[1,-2],{"x":null,"y":true}],"kind":"ünï","version":3}"#;
        assert!(check(text));
        for (end, _) in text.char_indices().skip(1) {
            assert!(!check(&text[..end]), "accepted {:?}", &text[..end]);
        }
    }
}
