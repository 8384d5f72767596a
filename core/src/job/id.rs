//! What a job id may be.

use crate::error::{Error, Result};

/// The longest job id accepted, in bytes.
pub const MAX_JOB_ID_LEN: usize = 255;

/// Checks a job id: 1 to 255 bytes, no control characters, no leading or
/// trailing white space. Any other Unicode text is fine.
///
/// ```
/// assert!(chime_core::job::validate_job_id("nightly-backup").is_ok());
/// assert!(chime_core::job::validate_job_id("").is_err());
/// assert!(chime_core::job::validate_job_id("a\nb").is_err());
/// ```
pub fn validate_job_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid("job id: must not be empty"));
    }
    if id.len() > MAX_JOB_ID_LEN {
        return Err(Error::invalid(format!(
            "job id: {} bytes is longer than the maximum of {MAX_JOB_ID_LEN}",
            id.len()
        )));
    }
    if id.is_ascii() {
        // The common case, byte by byte: in ASCII the control characters
        // are exactly `is_ascii_control`, and once they are refused the only
        // white space left is the space.
        let bytes = id.as_bytes();
        if bytes.iter().any(u8::is_ascii_control) {
            return Err(control_character(id));
        }
        if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
            return Err(outer_white_space(id));
        }
        return Ok(());
    }
    if id.chars().any(char::is_control) {
        return Err(control_character(id));
    }
    if id.trim() != id {
        return Err(outer_white_space(id));
    }
    Ok(())
}

fn control_character(id: &str) -> Error {
    Error::invalid(format!("job id: {id:?} contains a control character"))
}

fn outer_white_space(id: &str) -> Error {
    Error::invalid(format!("job id: {id:?} starts or ends with white space"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule as written for any Unicode text.
    fn by_the_rule(id: &str) -> bool {
        !id.chars().any(char::is_control) && id.trim() == id
    }

    #[test]
    fn every_ascii_character_anywhere_is_judged_by_the_rule() {
        for byte in 0..=127u8 {
            let c = char::from(byte);
            for id in [
                format!("{c}ab"),
                format!("a{c}b"),
                format!("ab{c}"),
                c.to_string(),
            ] {
                assert_eq!(validate_job_id(&id).is_ok(), by_the_rule(&id), "{id:?}");
            }
        }
        // Non-ASCII text takes the Unicode path: U+0085 is a control
        // character, U+3000 white space.
        assert!(validate_job_id("a\u{85}b").is_err());
        assert!(validate_job_id("\u{3000}ab").is_err());
        assert!(validate_job_id("zürich-nightly").is_ok());
    }
}
