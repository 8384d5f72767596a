//! Capturing a child's output: only the last `limit` bytes are kept, the
//! total is counted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The tail of one output stream.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    kept: VecDeque<u8>,
    limit: usize,
    total: u64,
}

impl Tail {
    pub(crate) fn new(limit: usize) -> Self {
        Tail {
            kept: VecDeque::new(),
            limit,
            total: 0,
        }
    }

    fn push(&mut self, data: &[u8]) {
        self.total = self.total.saturating_add(data.len() as u64);
        let data = &data[data.len().saturating_sub(self.limit)..];
        self.kept.extend(data);
        let excess = self.kept.len().saturating_sub(self.limit);
        self.kept.drain(..excess);
    }

    /// `--- stderr ---` and the text, or `None` when nothing was written.
    pub(crate) fn render(&self, name: &str) -> Option<String> {
        if self.total == 0 {
            return None;
        }
        let (a, b) = self.kept.as_slices();
        let mut bytes = Vec::with_capacity(a.len() + b.len());
        bytes.extend_from_slice(a);
        bytes.extend_from_slice(b);
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_end();
        let header = if self.total > self.kept.len() as u64 {
            format!(
                "--- {name} (last {} of {} bytes) ---",
                self.kept.len(),
                self.total
            )
        } else {
            format!("--- {name} ---")
        };
        Some(format!("{header}\n{text}"))
    }
}

/// Reads `reader` to its end into `tail`.
pub(crate) async fn capture<R: AsyncRead + Unpin>(mut reader: R, tail: Arc<Mutex<Tail>>) {
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => tail
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(&chunk[..n]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail_and_counts_everything() {
        let mut tail = Tail::new(4);
        tail.push(b"abc");
        tail.push(b"defgh");
        tail.push(b"i");
        assert_eq!(
            tail.render("stdout").unwrap(),
            "--- stdout (last 4 of 9 bytes) ---\nfghi"
        );
        let mut small = Tail::new(10);
        small.push(b"ok\n");
        assert_eq!(small.render("stderr").unwrap(), "--- stderr ---\nok");
        assert_eq!(Tail::new(3).render("x"), None);
    }
}
