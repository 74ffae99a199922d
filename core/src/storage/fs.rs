//! [`FsStorage`]: the real [`Storage`], on `std::fs`, positional I/O, `fdatasync`, `mmap` and `flock`.

use super::{FileLock, Mapping, OpenMode, Storage, StorageFile};
use crate::fork::{register_lock, LockRegistration};

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::Arc;

/// The real storage: files on the local file system.
///
/// Reads and writes are positional (`pread`/`pwrite`), [`StorageFile::sync`] is `fdatasync`,
/// [`StorageFile::map`] is a read-only `mmap`, and [`Storage::lock`] is a non-blocking `flock`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsStorage;

impl FsStorage {
    /// The real storage.
    pub fn new() -> Self {
        FsStorage
    }
}

impl Storage for FsStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(mode == OpenMode::Create)
            .truncate(false)
            .open(path)?;
        Ok(Arc::new(FsFile { file }))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }

    fn is_dir(&self, path: &Path) -> io::Result<bool> {
        match fs::metadata(path) {
            Ok(meta) => Ok(meta.is_dir()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Names that are not valid UTF-8 cannot be Lightning DB files and are skipped.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        // The parent of a relative name ("db") is the empty path: the current directory.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        loop {
            // SAFETY: `flock` only takes an integer descriptor and flags; the descriptor is open
            // because `file` is alive for the whole call.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(code) if code == libc::EWOULDBLOCK || code == libc::EAGAIN => {
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!("{} is locked by another holder", path.display()),
                    ));
                }
                _ => return Err(err),
            }
        }
        Ok(Box::new(FsLock {
            _registration: register_lock(file.as_raw_fd()),
            _file: file,
        }))
    }
}

/// An open file of [`FsStorage`].
#[derive(Debug)]
struct FsFile {
    file: File,
}

impl StorageFile for FsFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }

    fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn map(&self, len: u64) -> io::Result<Option<Mapping>> {
        let len = usize::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "map length exceeds the address space",
            )
        })?;
        // SAFETY: the map is read-only and Lightning DB never rewrites a page that a reader can
        // still reach through a map (pages are copy-on-write and reused only once unreachable), nor
        // truncates the file below a reachable page, so the mapped bytes never change under a live
        // `&[u8]`. Bytes past the end of the file (when `len` exceeds it) are never read.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&self.file)? };
        Ok(Some(Mapping::new(map)))
    }
}

/// An exclusive `flock` held through its own open file description; closing the file on drop
/// releases it. Its descriptor is registered so a forked child lets go of it (`fork.rs`).
#[derive(Debug)]
struct FsLock {
    // Fields drop in order: the descriptor is unregistered before it is closed.
    _registration: LockRegistration,
    _file: File,
}

impl FileLock for FsLock {}

impl Drop for FsLock {
    fn drop(&mut self) {
        // Unlock before the descriptor closes. A flock belongs to the open file description,
        // which a child being spawned shares until its exec closes it (posix_spawn and vfork
        // run no at-fork handler): closing alone would leave the lock held until then, and a
        // reopen right after a close could fail with LOCKED.
        // SAFETY: `flock` only takes an integer descriptor and flags; `_file` is still open.
        unsafe { libc::flock(self._file.as_raw_fd(), libc::LOCK_UN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, FsStorage) {
        (tempfile::tempdir().unwrap(), FsStorage::new())
    }

    #[test]
    fn read_write_len_set_len_sync() {
        let (dir, s) = setup();
        let path = dir.path().join("f");
        assert!(!s.exists(&path).unwrap());
        let err = s.open(&path, OpenMode::Existing).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);

        let f = s.open(&path, OpenMode::Create).unwrap();
        assert!(s.exists(&path).unwrap());
        assert!(!s.is_dir(&path).unwrap());
        assert_eq!(f.len().unwrap(), 0);
        f.write_at(b"hello", 0).unwrap();
        f.write_at(b"world", 10).unwrap();
        assert_eq!(f.len().unwrap(), 15);
        f.sync().unwrap();

        let mut buf = [0u8; 15];
        f.read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"hello\0\0\0\0\0world");
        let mut buf = [0u8; 4];
        let err = f.read_at(&mut buf, 13).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        f.set_len(3).unwrap();
        assert_eq!(f.len().unwrap(), 3);
        f.set_len(6).unwrap();
        let mut buf = [0xAAu8; 6];
        f.read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"hel\0\0\0");

        // A second handle (opened as Existing, no truncation) sees the same bytes.
        let g = s.open(&path, OpenMode::Existing).unwrap();
        assert_eq!(g.len().unwrap(), 6);
        let g2 = s.open(&path, OpenMode::Create).unwrap();
        assert_eq!(g2.len().unwrap(), 6);
    }

    #[test]
    fn directories_list_rename_remove() {
        let (dir, s) = setup();
        let sub = dir.path().join("a/b");
        s.create_dir_all(&sub).unwrap();
        s.create_dir_all(&sub).unwrap();
        assert!(s.is_dir(&sub).unwrap());
        assert!(s.exists(&sub).unwrap());
        assert!(!s.is_dir(&dir.path().join("missing")).unwrap());

        s.open(&sub.join("x"), OpenMode::Create)
            .unwrap()
            .write_at(b"x", 0)
            .unwrap();
        s.open(&sub.join("y"), OpenMode::Create)
            .unwrap()
            .write_at(b"yy", 0)
            .unwrap();
        let mut names = s.list(&sub).unwrap();
        names.sort();
        assert_eq!(names, ["x", "y"]);

        s.rename(&sub.join("x"), &sub.join("y")).unwrap();
        s.sync_dir(&sub).unwrap();
        assert_eq!(s.list(&sub).unwrap(), ["y"]);
        assert_eq!(
            s.open(&sub.join("y"), OpenMode::Existing)
                .unwrap()
                .len()
                .unwrap(),
            1
        );

        s.remove(&sub.join("y")).unwrap();
        assert!(s.list(&sub).unwrap().is_empty());
        assert_eq!(
            s.remove(&sub.join("y")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn map_reads_what_was_written() {
        let (dir, s) = setup();
        let f = s.open(&dir.path().join("m"), OpenMode::Create).unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        f.write_at(&data, 0).unwrap();
        let map = f.map(data.len() as u64).unwrap().expect("fs storage maps");
        assert_eq!(&map[..], &data[..]);

        // A map longer than the file: the bytes that exist are readable.
        let map = f.map(1 << 20).unwrap().unwrap();
        assert_eq!(map.len(), 1 << 20);
        assert_eq!(&map[..data.len()], &data[..]);

        // Writes after mapping are visible through the (shared) map.
        f.write_at(b"new", 0).unwrap();
        let map = f.map(3).unwrap().unwrap();
        assert_eq!(&map[..], b"new");

        // Empty maps are fine.
        let empty = s.open(&dir.path().join("e"), OpenMode::Create).unwrap();
        assert!(empty.map(0).unwrap().unwrap().is_empty());
    }

    #[test]
    fn lock_is_exclusive_within_the_process_and_released_on_drop() {
        let (dir, s) = setup();
        let path = dir.path().join("LOCK");
        let guard = s.lock(&path).unwrap();
        assert!(s.exists(&path).unwrap());
        let err = s.lock(&path).err().expect("second lock must fail");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        // Another FsStorage value is the same file system.
        let err = FsStorage::new().lock(&path).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        drop(guard);
        let again = s.lock(&path).unwrap();
        drop(again);
        let _third = s.lock(&path).unwrap();
    }

    /// A child process being spawned shares the lock's open file description until its exec
    /// (here a `dup` plays that child): closing the database must still release the lock.
    #[test]
    fn dropping_the_lock_releases_it_while_another_descriptor_shares_it() {
        let (dir, s) = setup();
        let path = dir.path().join("LOCK");
        let guard = s.lock(&path).unwrap();
        let file = OpenOptions::new().read(true).open(&path).unwrap();
        // Find the guard's descriptor: the newest one open on LOCK before `file`.
        let shared = (0..file.as_raw_fd())
            .rev()
            .find(|&fd| {
                std::fs::read_link(format!("/proc/self/fd/{fd}"))
                    .ok()
                    .as_deref()
                    == Some(&path)
            })
            .expect("the guard's descriptor");
        // SAFETY: `dup` of a descriptor that is open (the guard holds it).
        let child = unsafe { libc::dup(shared) };
        assert!(child >= 0);
        drop(guard);
        let again = s.lock(&path);
        // SAFETY: `child` is the descriptor `dup` made above, closed once.
        unsafe { libc::close(child) };
        again.expect("the lock was released although another descriptor shares it");
    }

    #[test]
    fn lock_in_missing_directory_is_not_found() {
        let (dir, s) = setup();
        let err = s.lock(&dir.path().join("no/LOCK")).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
