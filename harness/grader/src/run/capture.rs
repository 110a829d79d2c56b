//! Capturing a child's output with a hard cap: the first and last bytes are kept, the middle is
//! counted and dropped. The pipe is always drained, so a program that floods its output never
//! blocks on a full pipe (which would look like a hang) and never costs more than the cap.

use serde::Serialize;
use std::collections::VecDeque;
use std::io::Read;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Output kept from one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Captured {
    /// The kept text (lossily decoded), with a marker where bytes were dropped.
    pub text: String,
    /// Bytes dropped from the middle.
    pub dropped_bytes: u64,
    /// Bytes the stream carried in all.
    pub total_bytes: u64,
}

impl Captured {
    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.total_bytes == 0
    }

    /// The last `lines` lines of the kept text.
    pub fn tail_lines(&self, lines: usize) -> String {
        let all: Vec<&str> = self.text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Head and tail buffers for one stream, at most `cap` bytes together.
#[derive(Debug)]
pub struct CappedBuffer {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_cap: usize,
    tail_cap: usize,
    total: u64,
}

impl CappedBuffer {
    /// A buffer that keeps at most `cap` bytes: the first half and the last half of them.
    pub fn new(cap: usize) -> CappedBuffer {
        CappedBuffer {
            head: Vec::new(),
            tail: VecDeque::new(),
            head_cap: cap / 2,
            tail_cap: cap - cap / 2,
            total: 0,
        }
    }

    /// Appends `bytes`: the head fills first, then the tail keeps the latest bytes; every byte
    /// is counted.
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_cap - self.head.len();
        let into_head = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        bytes = &bytes[into_head..];
        if bytes.len() >= self.tail_cap {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_cap..]);
        } else {
            let overflow = (self.tail.len() + bytes.len()).saturating_sub(self.tail_cap);
            self.tail.drain(..overflow);
            self.tail.extend(bytes);
        }
    }

    /// The output so far.
    pub fn snapshot(&self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let dropped = self.total - kept;
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if dropped > 0 {
            text.push_str(&format!("\n[... {dropped} bytes dropped ...]\n"));
        }
        let (a, b) = self.tail.as_slices();
        text.push_str(&String::from_utf8_lossy(&[a, b].concat()));
        Captured {
            text,
            dropped_bytes: dropped,
            total_bytes: self.total,
        }
    }
}

/// A stream being drained on its own thread.
pub struct Reader {
    buffer: Arc<Mutex<CappedBuffer>>,
    finished: mpsc::Receiver<()>,
}

impl Reader {
    /// The captured output once the stream ended, or what was captured after `timeout` if it
    /// did not end (a process that escaped still holds the pipe open): the grader never waits
    /// on a child's output forever.
    pub fn finish(self, timeout: Duration) -> Captured {
        let _ = self.finished.recv_timeout(timeout);
        let buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        buffer.snapshot()
    }
}

/// Reads `stream` to its end on a thread, keeping at most `cap` bytes.
pub fn spawn_reader(mut stream: impl Read + Send + 'static, cap: usize) -> Reader {
    let buffer = Arc::new(Mutex::new(CappedBuffer::new(cap)));
    let (done, finished) = mpsc::channel();
    let shared = Arc::clone(&buffer);
    std::thread::spawn(move || {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    Reader { buffer, finished }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let mut b = CappedBuffer::new(100);
        b.push(b"hello ");
        b.push(b"world");
        let c = b.snapshot();
        assert_eq!(c.text, "hello world");
        assert_eq!((c.dropped_bytes, c.total_bytes), (0, 11));
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let mut b = CappedBuffer::new(10);
        for chunk in [&b"0123"[..], b"456789abcdef", b"ghij", b"k"] {
            b.push(chunk);
        }
        let c = b.snapshot();
        assert_eq!(c.total_bytes, 21);
        assert_eq!(c.dropped_bytes, 11);
        assert!(
            c.text.starts_with("01234\n[... 11 bytes dropped ...]\n"),
            "{}",
            c.text
        );
        assert!(c.text.ends_with("ghijk"), "{}", c.text);
    }

    #[test]
    fn a_flood_is_drained_within_the_cap() {
        let flood = std::io::repeat(b'x').take(50 << 20);
        let c = spawn_reader(flood, 4096).finish(Duration::from_secs(60));
        assert_eq!(c.total_bytes, 50 << 20);
        assert!(c.text.len() < 4096 + 64);
    }

    #[test]
    fn tail_lines_gives_the_end() {
        let c = Captured {
            text: "a\nb\nc\nd".into(),
            dropped_bytes: 0,
            total_bytes: 7,
        };
        assert_eq!(c.tail_lines(2), "c\nd");
        assert_eq!(c.tail_lines(10), "a\nb\nc\nd");
    }
}
