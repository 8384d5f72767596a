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
    if id.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "job id: {id:?} contains a control character"
        )));
    }
    if id.trim() != id {
        return Err(Error::invalid(format!(
            "job id: {id:?} starts or ends with white space"
        )));
    }
    Ok(())
}
