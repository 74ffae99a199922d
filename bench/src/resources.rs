//! What a workload costs besides time: the peak anonymous memory of the process while it runs
//! ([`RssSampler`]) and the bytes a database takes on disk ([`disk_bytes`]).
//!
//! Memory is `RssAnon` of `/proc/self/status`: the process's own memory, without the file pages
//! a memory map brings in (those are the OS page cache's, shared and reclaimable). It includes
//! the benchmark's own key and value arrays.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How often the sampler reads `/proc/self/status`.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// Samples the process's anonymous resident memory on a thread of its own and keeps the
/// largest value seen since [`start_window`](Self::start_window).
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    /// Starts sampling.
    pub fn start() -> RssSampler {
        let peak = Arc::new(AtomicU64::new(rss_anon().unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(now) = rss_anon() {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    thread::sleep(SAMPLE_EVERY);
                }
            })
        };
        RssSampler {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    /// Starts a new window: the peak is what the process holds now.
    pub fn start_window(&self) {
        self.peak.store(rss_anon().unwrap_or(0), Ordering::Relaxed);
    }

    /// The largest anonymous resident size seen since the window started, in bytes (read once
    /// more now, so a short window has a figure too).
    pub fn peak(&self) -> u64 {
        if let Some(now) = rss_anon() {
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `RssAnon` of this process, in bytes.
fn rss_anon() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    let kib: u64 = line
        .trim_start_matches("RssAnon:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The bytes allocated on disk to every file under `dir` (blocks, not lengths: a sparse or
/// preallocated file counts what it really takes).
pub fn disk_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            disk_bytes(&entry.path())?
        } else {
            meta.blocks() * 512
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_sees_an_allocation() {
        let sampler = RssSampler::start();
        sampler.start_window();
        let before = sampler.peak();
        let block = vec![1u8; 64 << 20];
        std::hint::black_box(&block);
        assert!(sampler.peak() >= before + (60 << 20));
        drop(block);
        sampler.start_window();
        assert!(sampler.peak() < before + (32 << 20));
    }

    #[test]
    fn disk_bytes_counts_allocated_blocks() {
        let dir = std::env::temp_dir().join(format!("lightning-bench-disk-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("a"), vec![7u8; 10_000]).unwrap();
        fs::write(dir.join("sub/b"), vec![7u8; 100_000]).unwrap();
        let bytes = disk_bytes(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert!(bytes >= 110_000, "{bytes}");
    }
}
