//! The traits all file I/O goes through: [`Storage`] (a directory tree), [`StorageFile`] (an open
//! file) and [`FileLock`].

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::Mapping;

/// How [`Storage::open`] treats a missing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Open an existing file for reading and writing; `NotFound` if it is missing.
    Existing,
    /// Open for reading and writing, creating an empty file if it is missing.
    Create,
}

/// A directory tree of files. Implementations must be safe to share between threads.
pub trait Storage: Send + Sync + 'static {
    /// Creates `dir` and its parents if missing.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Opens (or creates, per `mode`) the file at `path`.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>>;
    /// Whether something (file or directory) exists at `path`.
    fn exists(&self, path: &Path) -> io::Result<bool>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> io::Result<bool>;
    /// The names (not paths) of the entries in `dir`, in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Removes the file at `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Atomically renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creates, removes, renames) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes an exclusive lock on the file at `path` (created if missing), held until the returned
    /// guard drops. Fails with `io::ErrorKind::WouldBlock` at once if another holder has it, in this
    /// process or another.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>>;
}

/// An open file. Reads and writes are positional, so one handle serves many threads.
#[allow(clippy::len_without_is_empty)]
pub trait StorageFile: Send + Sync {
    /// Fills `buf` from `offset`; `UnexpectedEof` if the file ends first.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `buf` at `offset`, extending the file if needed.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes every write so far durable (fdatasync).
    fn sync(&self) -> io::Result<()>;
    /// The current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Truncates or zero-extends the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// A read-only memory map of the first `len` bytes (`len` may exceed the file's length; bytes past
    /// the end must then not be read), or `None` if this storage cannot map.
    fn map(&self, len: u64) -> io::Result<Option<Mapping>>;
}

/// Proof of an exclusive lock; dropping it releases the lock.
pub trait FileLock: Send + Sync {}
