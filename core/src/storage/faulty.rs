//! [`FaultyStorage`]: an in-memory [`Storage`] for tests. It fails chosen operations with `EIO` or
//! `ENOSPC` and simulates power loss by dropping, reordering or tearing writes that were not synced.

use super::faulty_content::Content;
use super::{FileLock, Mapping, OpenMode, Storage, StorageFile};

use crate::locks::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::mem;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest file [`FaultyStorage`] holds: larger writes and `set_len` fail with `EFBIG`, so a
/// garbage offset read from a corrupted file cannot make a test allocate all the memory there is.
const MAX_FILE_LEN: u64 = 1 << 32;

/// The unit [`PowerLoss::Random`] may tear a write into.
const SECTOR: u64 = 512;

/// The error an injected fault produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// An I/O error: `EIO`.
    Eio,
    /// A full device: `ENOSPC`.
    Enospc,
    /// Not an error: a panic, as a bug in the engine would raise at that point. It strikes the
    /// first operation from the chosen one on that changes a file or directory (a write, `sync`,
    /// `set_len`, `remove`, `rename`, `sync_dir`, `create_dir_all`): reads never panic.
    Panic,
}

impl FaultKind {
    /// The `io::Error` for this fault (`raw_os_error()` is `EIO` or `ENOSPC`; `EIO` for `Panic`,
    /// which panics instead of returning it).
    pub fn to_error(self) -> io::Error {
        io::Error::from_raw_os_error(match self {
            FaultKind::Eio => libc::EIO,
            FaultKind::Enospc => libc::ENOSPC,
            FaultKind::Panic => libc::EIO,
        })
    }
}

/// What [`FaultyStorage::power_loss`] does with the operations that were not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerLoss {
    /// Every unsynced operation reached the disk, in order (as if the process crashed but the
    /// machine did not).
    KeepAll,
    /// No unsynced operation reached the disk: files hold what they held at their last sync.
    DropAll,
    /// Each file, independently, keeps all of its unsynced operations, drops all, or (most often)
    /// keeps, drops or tears each one independently, possibly applied in a shuffled order. A torn
    /// write applies only a prefix of its bytes, or a random subset of its 512-byte sectors (aligned
    /// to the file offset). A shuffled order can let an older write to the same bytes win over a
    /// newer one. The outcome is a deterministic function of `seed` and the operations made.
    Random {
        /// Seeds the pseudo-random choices.
        seed: u64,
    },
}

/// An in-memory file system for tests that injects faults.
///
/// # Model
///
/// - Directories are a set of paths; files are inodes holding byte vectors, named by paths. Paths are
///   compared component-wise as given (`a//b` is `a/b`, but `.` and `..` are not resolved), the empty
///   path and `/` always exist as directories.
/// - A handle refers to the inode, not the name: it follows renames, and a removed file stays
///   readable and writable through handles that were open (until they drop or power is lost).
/// - Each file has its *durable* content plus the list of operations (writes, `set_len`) made since
///   its last [`StorageFile::sync`]. Reads see the latest content. `sync` makes the list durable;
///   a `sync` that fails (an injected fault) loses the list, as Linux does after a failed
///   writeback: the operations stay visible to reads but never become durable.
/// - Directory entries (a file created, removed or renamed; a directory created) take effect at
///   once but are durable only once their directory is synced ([`Storage::sync_dir`]), as on
///   Linux: a power loss can undo every entry change since its directory's last sync (a file's
///   `sync` makes its content durable, not its name).
/// - A file can be memory-mapped ([`StorageFile::map`]): the map is live, showing every later
///   change to the file's current content (writes, truncation, `flip_byte`, a power loss's
///   outcome), so tests with the `mmap` option exercise the mmap read path under every fault.
/// - [`FaultyStorage::power_loss`] decides what happens to each directory's unsynced entry changes
///   and each file's unsynced operations, makes the result durable, and makes every handle and
///   lock guard opened before it stale.
///
/// # Operations and faults
///
/// Clones share the same file system. Every call of a [`Storage`] or [`StorageFile`] method except
/// `map` is one *operation*: it is counted ([`op_count`](Self::op_count)) and may be made to fail
/// ([`fail_op`](Self::fail_op)). The test helpers (`read_file`, `write_file`, `flip_byte`,
/// `file_names`, `power_loss`, ...) are not operations: they are never counted and never fail.
///
/// Files are limited to 4 GiB: a larger write or `set_len` fails with `EFBIG`.
#[derive(Clone)]
pub struct FaultyStorage {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Clone, Copy)]
struct Fault {
    /// The absolute index of the operation that fails first.
    at: u64,
    kind: FaultKind,
    sticky: bool,
}

#[derive(Debug)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

impl Pending {
    fn apply(&self, content: &mut Vec<u8>) {
        match self {
            Pending::Write { offset, data } => apply_write(content, *offset, data),
            Pending::SetLen(len) => content.resize(*len as usize, 0),
        }
    }
}

/// Writes `data` at `offset`, zero-filling any gap past the end. Callers keep offsets below
/// [`MAX_FILE_LEN`].
pub(super) fn apply_write(content: &mut Vec<u8>, offset: u64, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let start = offset as usize;
    let end = start + data.len();
    if content.len() < end {
        content.resize(end, 0);
    }
    content[start..end].copy_from_slice(data);
}

#[derive(Debug, Default)]
struct Inode {
    durable: Vec<u8>,
    /// `durable` with `pending` applied, in order.
    current: Content,
    pending: Vec<Pending>,
    /// Whether a name refers to this inode.
    linked: bool,
    /// Live (current-epoch) handles.
    open_handles: usize,
}

#[derive(Debug, Default)]
struct State {
    dirs: BTreeSet<PathBuf>,
    names: BTreeMap<PathBuf, u64>,
    /// `dirs` and `names` as a power loss would leave them: each directory's entries as of its
    /// last sync.
    durable_dirs: BTreeSet<PathBuf>,
    durable_names: BTreeMap<PathBuf, u64>,
    inodes: HashMap<u64, Inode>,
    next_ino: u64,
    /// Bumped by every power loss; handles and lock guards of an older epoch are stale.
    epoch: u64,
    ops: u64,
    fault: Option<Fault>,
    /// Held locks: path → token of the guard that holds it.
    locks: HashMap<PathBuf, u64>,
    next_lock_token: u64,
}

impl State {
    /// Counts one operation and fails it if a fault says so. `mutating`: the operation changes
    /// a file or a directory (only those can panic, see [`FaultKind::Panic`]).
    fn begin_op(&mut self, mutating: bool) -> io::Result<()> {
        let index = self.ops;
        self.ops += 1;
        if let Some(fault) = self.fault {
            if fault.kind == FaultKind::Panic {
                if mutating && index >= fault.at {
                    if !fault.sticky {
                        self.fault = None;
                    }
                    // The state lock is released as the panic unwinds (the locks do not poison).
                    panic!("injected panic at storage operation {index}");
                }
                return Ok(());
            }
            if index == fault.at || (fault.sticky && index > fault.at) {
                return Err(fault.kind.to_error());
            }
            if index > fault.at {
                self.fault = None;
            }
        }
        Ok(())
    }

    fn dir_exists(&self, path: &Path) -> bool {
        path.parent().is_none() || self.dirs.contains(path)
    }

    fn parent_exists(&self, path: &Path) -> bool {
        path.parent().is_some_and(|dir| self.dir_exists(dir))
    }

    /// Creates `dir` and its ancestors; fails if one of them is a file.
    fn create_dirs(&mut self, dir: &Path) -> io::Result<()> {
        let new: Vec<&Path> = dir
            .ancestors()
            .filter(|p| p.parent().is_some() && !self.dirs.contains(*p))
            .collect();
        if let Some(file) = new.iter().find(|p| self.names.contains_key(**p)) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", file.display()),
            ));
        }
        for p in new {
            self.dirs.insert(p.to_path_buf());
        }
        Ok(())
    }

    /// The inode named `path`, created (empty) if missing. The parent must exist.
    fn create_file(&mut self, path: &Path) -> u64 {
        if let Some(&ino) = self.names.get(path) {
            return ino;
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(
            ino,
            Inode {
                linked: true,
                ..Inode::default()
            },
        );
        self.names.insert(path.to_path_buf(), ino);
        ino
    }

    /// The inode lost its name: forget it unless a handle still has it open or a durable name
    /// still refers to it (a power loss could bring that name back).
    fn unlinked(&mut self, ino: u64) {
        self.inodes
            .get_mut(&ino)
            .expect("named inode exists")
            .linked = false;
        self.collect_garbage();
    }

    /// Forgets inodes that no name, durable name or open handle refers to.
    fn collect_garbage(&mut self) {
        let durable: BTreeSet<u64> = self.durable_names.values().copied().collect();
        self.inodes
            .retain(|ino, inode| inode.linked || inode.open_handles > 0 || durable.contains(ino));
    }

    /// Makes the entries of `dir` (its files and subdirectories) durable as they are now.
    fn sync_entries(&mut self, dir: &Path) {
        let inside = |p: &Path| p.parent() == Some(dir);
        self.durable_names.retain(|p, _| !inside(p));
        self.durable_dirs.retain(|p| !inside(p));
        for (p, &ino) in &self.names {
            if inside(p) {
                self.durable_names.insert(p.clone(), ino);
            }
        }
        for p in &self.dirs {
            if inside(p) {
                self.durable_dirs.insert(p.clone());
            }
        }
        self.collect_garbage();
    }

    /// The directory entries a power loss leaves, as `mode` says: every change kept, every
    /// unsynced one dropped, or for each directory (by a draw of `rng`) one or the other.
    fn entries_after_power_loss(
        &self,
        mode: PowerLoss,
        rng: &mut SplitMix64,
    ) -> (BTreeMap<PathBuf, u64>, BTreeSet<PathBuf>) {
        let (mut names, mut dirs) = match mode {
            PowerLoss::KeepAll => (self.names.clone(), self.dirs.clone()),
            PowerLoss::DropAll => (self.durable_names.clone(), self.durable_dirs.clone()),
            PowerLoss::Random { .. } => {
                let parents: BTreeSet<PathBuf> = (self.names.keys())
                    .chain(self.durable_names.keys())
                    .chain(&self.dirs)
                    .chain(&self.durable_dirs)
                    .filter_map(|p| p.parent().map(Path::to_path_buf))
                    .collect();
                let keep: BTreeSet<PathBuf> =
                    parents.into_iter().filter(|_| rng.below(2) == 1).collect();
                let kept = |p: &Path| p.parent().is_some_and(|d| keep.contains(d));
                let names = (self.names.iter().filter(|(p, _)| kept(p)))
                    .chain(self.durable_names.iter().filter(|(p, _)| !kept(p)))
                    .map(|(p, &ino)| (p.clone(), ino))
                    .collect();
                let dirs = (self.dirs.iter().filter(|p| kept(p)))
                    .chain(self.durable_dirs.iter().filter(|p| !kept(p)))
                    .cloned()
                    .collect();
                (names, dirs)
            }
        };
        // An entry whose directory did not survive is gone with it (parents sort first).
        let all: Vec<PathBuf> = dirs.iter().cloned().collect();
        for dir in all {
            let parent_ok = dir
                .parent()
                .is_some_and(|d| d.parent().is_none() || dirs.contains(d));
            if !parent_ok {
                dirs.remove(&dir);
            }
        }
        names.retain(|p, _| {
            p.parent()
                .is_some_and(|d| d.parent().is_none() || dirs.contains(d))
        });
        (names, dirs)
    }

    fn inode_at(&mut self, path: &Path) -> Option<&mut Inode> {
        let ino = *self.names.get(path)?;
        self.inodes.get_mut(&ino)
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

fn is_a_directory() -> io::Error {
    io::Error::from_raw_os_error(libc::EISDIR)
}

fn not_a_directory() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOTDIR)
}

/// Checks that a write or truncation keeps the file within [`MAX_FILE_LEN`].
fn check_end(offset: u64, len: usize) -> io::Result<()> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= MAX_FILE_LEN => Ok(()),
        _ => Err(io::Error::from_raw_os_error(libc::EFBIG)),
    }
}

impl FaultyStorage {
    /// An empty file system (only the root, `/` or the empty path, exists).
    pub fn new() -> Self {
        FaultyStorage {
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// Makes the operation with 0-based index `n`, counted from this call, fail with `kind` (and
    /// do nothing: a failing `write_at` writes nothing, a failing `sync` syncs nothing). If
    /// `sticky`, every operation after it fails too, until [`clear_faults`](Self::clear_faults).
    /// Replaces any fault set before.
    pub fn fail_op(&self, n: u64, kind: FaultKind, sticky: bool) {
        let mut st = self.state.lock();
        let at = st.ops.saturating_add(n);
        st.fault = Some(Fault { at, kind, sticky });
    }

    /// Removes any fault set by [`fail_op`](Self::fail_op).
    pub fn clear_faults(&self) {
        self.state.lock().fault = None;
    }

    /// The number of operations since this file system was created (failed ones included).
    pub fn op_count(&self) -> u64 {
        self.state.lock().ops
    }

    /// Simulates a power cut (see [`PowerLoss`]): each file's unsynced operations are applied onto
    /// its durable content as `mode` says, the result becomes its durable and current content, and
    /// removed files still open vanish. Every handle and lock guard opened before this call becomes
    /// stale: operations through a stale handle fail with `EIO` and do nothing, and stale guards no
    /// longer hold their locks. Faults set by [`fail_op`](Self::fail_op) stay in force.
    pub fn power_loss(&self, mode: PowerLoss) {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let mut rng = SplitMix64(match mode {
            PowerLoss::Random { seed } => seed,
            _ => 0,
        });
        let (names, dirs) = st.entries_after_power_loss(mode, &mut rng);
        st.names = names;
        st.dirs = dirs;
        st.durable_names = st.names.clone();
        st.durable_dirs = st.dirs.clone();
        let named: BTreeSet<u64> = st.names.values().copied().collect();
        st.inodes.retain(|ino, _| named.contains(ino));
        for inode in st.inodes.values_mut() {
            inode.linked = true;
        }
        // Files in path order, so that `Random` is deterministic.
        for ino in st.names.values() {
            let inode = st.inodes.get_mut(ino).expect("named inode exists");
            let pending = mem::take(&mut inode.pending);
            let mut content = mem::take(&mut inode.durable);
            match mode {
                PowerLoss::KeepAll => pending.iter().for_each(|op| op.apply(&mut content)),
                PowerLoss::DropAll => {}
                PowerLoss::Random { .. } => apply_random(&mut content, pending, &mut rng),
            }
            inode.current.replace(&content);
            inode.durable = content;
            inode.open_handles = 0;
        }
        st.epoch += 1;
        st.locks.clear();
    }

    /// The current content of the file at `path` (what a read would see), or `None` if there is
    /// no such file.
    pub fn read_file(&self, path: impl AsRef<Path>) -> Option<Vec<u8>> {
        let mut st = self.state.lock();
        st.inode_at(path.as_ref())
            .map(|inode| inode.current.as_slice().to_vec())
    }

    /// Makes `data` the durable (and current) content of the file at `path`, creating the file and
    /// its parent directories if missing.
    ///
    /// # Panics
    ///
    /// If `path` is a directory, or an ancestor is a file.
    pub fn write_file(&self, path: impl AsRef<Path>, data: &[u8]) {
        let path = path.as_ref();
        let mut st = self.state.lock();
        assert!(!st.dir_exists(path), "{} is a directory", path.display());
        if let Some(dir) = path.parent() {
            st.create_dirs(dir).expect("parent directories");
        }
        let ino = st.create_file(path);
        let inode = st.inodes.get_mut(&ino).expect("inode exists");
        inode.durable = data.to_vec();
        inode.current.replace(data);
        inode.pending.clear();
        // The helper's file is durable, name and all.
        st.durable_names.insert(path.to_path_buf(), ino);
        for dir in path.ancestors().skip(1).filter(|d| d.parent().is_some()) {
            st.durable_dirs.insert(dir.to_path_buf());
        }
    }

    /// Flips (xor 0xFF) the byte at `offset` of the file at `path`, in both its current and its
    /// durable content (where that content is long enough); unsynced operations are untouched.
    ///
    /// # Panics
    ///
    /// If there is no such file or `offset` is past the end of its current content.
    pub fn flip_byte(&self, path: impl AsRef<Path>, offset: u64) {
        let path = path.as_ref();
        let mut st = self.state.lock();
        let inode = st
            .inode_at(path)
            .unwrap_or_else(|| panic!("flip_byte: no file {}", path.display()));
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        assert!(
            at < inode.current.len(),
            "flip_byte: offset {offset} past the end of {} ({} bytes)",
            path.display(),
            inode.current.len()
        );
        inode.current.flip(at);
        if let Some(byte) = inode.durable.get_mut(at) {
            *byte ^= 0xFF;
        }
    }

    /// The names of the files (not directories) directly inside `dir`, sorted.
    pub fn file_names(&self, dir: impl AsRef<Path>) -> Vec<String> {
        let dir = dir.as_ref();
        let st = self.state.lock();
        st.names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }
}

impl Default for FaultyStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FaultyStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("FaultyStorage")
            .field("dirs", &st.dirs.len())
            .field("files", &st.names.len())
            .field("ops", &st.ops)
            .field("fault", &st.fault)
            .field("epoch", &st.epoch)
            .finish()
    }
}

/// Applies `ops` onto `content` as [`PowerLoss::Random`] describes.
fn apply_random(content: &mut Vec<u8>, mut ops: Vec<Pending>, rng: &mut SplitMix64) {
    if ops.is_empty() {
        return;
    }
    match rng.below(8) {
        0 => ops.iter().for_each(|op| op.apply(content)),
        1 => {}
        _ => {
            if rng.below(3) == 0 {
                // Fisher–Yates.
                for i in (1..ops.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    ops.swap(i, j);
                }
            }
            for op in &ops {
                match op {
                    Pending::Write { offset, data } => match rng.below(4) {
                        0 | 1 => apply_write(content, *offset, data),
                        2 => {}
                        _ if rng.below(2) == 0 => {
                            let keep = rng.below(data.len() as u64) as usize;
                            apply_write(content, *offset, &data[..keep]);
                        }
                        _ => {
                            let end = offset + data.len() as u64;
                            let mut start = *offset;
                            while start < end {
                                let sector_end = ((start / SECTOR + 1) * SECTOR).min(end);
                                if rng.below(2) == 0 {
                                    let from = (start - offset) as usize;
                                    let to = (sector_end - offset) as usize;
                                    apply_write(content, start, &data[from..to]);
                                }
                                start = sector_end;
                            }
                        }
                    },
                    Pending::SetLen(_) => {
                        if rng.below(3) != 0 {
                            op.apply(content);
                        }
                    }
                }
            }
        }
    }
}

/// splitmix64: a tiny, deterministic pseudo-random generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` if `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

impl Storage for FaultyStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut st = self.state.lock();
        st.begin_op(true)?;
        st.create_dirs(dir)
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>> {
        let mut st = self.state.lock();
        st.begin_op(false)?;
        if st.dir_exists(path) {
            return Err(is_a_directory());
        }
        let ino = match st.names.get(path) {
            Some(&ino) => ino,
            None if mode == OpenMode::Create && st.parent_exists(path) => st.create_file(path),
            None => return Err(not_found(path)),
        };
        st.inodes.get_mut(&ino).expect("inode exists").open_handles += 1;
        Ok(Arc::new(FaultyFile {
            state: Arc::clone(&self.state),
            ino,
            epoch: st.epoch,
        }))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let mut st = self.state.lock();
        st.begin_op(false)?;
        Ok(st.dir_exists(path) || st.names.contains_key(path))
    }

    fn is_dir(&self, path: &Path) -> io::Result<bool> {
        let mut st = self.state.lock();
        st.begin_op(false)?;
        Ok(st.dir_exists(path))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut st = self.state.lock();
        st.begin_op(false)?;
        if !st.dir_exists(dir) {
            return Err(if st.names.contains_key(dir) {
                not_a_directory()
            } else {
                not_found(dir)
            });
        }
        let files = st.names.keys();
        let dirs = st.dirs.iter();
        Ok(files
            .chain(dirs)
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut st = self.state.lock();
        st.begin_op(true)?;
        match st.names.remove(path) {
            Some(ino) => {
                st.unlinked(ino);
                Ok(())
            }
            None if st.dir_exists(path) => Err(is_a_directory()),
            None => Err(not_found(path)),
        }
    }

    /// Renames files only; renaming a directory fails with `Unsupported`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.state.lock();
        st.begin_op(true)?;
        if !st.names.contains_key(from) {
            if st.dir_exists(from) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "FaultyStorage cannot rename directories",
                ));
            }
            return Err(not_found(from));
        }
        if st.dir_exists(to) {
            return Err(is_a_directory());
        }
        if !st.parent_exists(to) {
            return Err(not_found(to));
        }
        if from == to {
            return Ok(());
        }
        let ino = st.names.remove(from).expect("checked above");
        if let Some(replaced) = st.names.insert(to.to_path_buf(), ino) {
            st.unlinked(replaced);
        }
        Ok(())
    }

    /// Makes the entries of `dir` durable (a file's own name is not an entry of it: syncing a
    /// file's path does nothing).
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut st = self.state.lock();
        st.begin_op(true)?;
        if st.dir_exists(dir) {
            st.sync_entries(dir);
            Ok(())
        } else if st.names.contains_key(dir) {
            Ok(())
        } else {
            Err(not_found(dir))
        }
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        let mut st = self.state.lock();
        st.begin_op(false)?;
        if st.dir_exists(path) {
            return Err(is_a_directory());
        }
        if !st.names.contains_key(path) && !st.parent_exists(path) {
            return Err(not_found(path));
        }
        if st.locks.contains_key(path) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is locked by another holder", path.display()),
            ));
        }
        st.create_file(path);
        let token = st.next_lock_token;
        st.next_lock_token += 1;
        st.locks.insert(path.to_path_buf(), token);
        Ok(Box::new(FaultyLock {
            state: Arc::clone(&self.state),
            path: path.to_path_buf(),
            token,
        }))
    }
}

/// An open file of [`FaultyStorage`]: an inode plus the epoch it was opened in.
struct FaultyFile {
    state: Arc<Mutex<State>>,
    ino: u64,
    epoch: u64,
}

impl FaultyFile {
    /// Runs one operation on the inode: counts it, applies faults, rejects stale handles.
    fn op<T>(&self, mutating: bool, f: impl FnOnce(&mut Inode) -> io::Result<T>) -> io::Result<T> {
        self.attempt(mutating, |inode, fault| {
            fault?;
            f(inode)
        })
    }

    /// Like [`op`](Self::op), but `f` also runs when a fault fails the operation, with the
    /// fault's error, so the operation can model what such a failure does to the inode.
    fn attempt<T>(
        &self,
        mutating: bool,
        f: impl FnOnce(&mut Inode, io::Result<()>) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut st = self.state.lock();
        let fault = st.begin_op(mutating);
        if st.epoch != self.epoch {
            fault?;
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        f(
            st.inodes.get_mut(&self.ino).expect("open inode exists"),
            fault,
        )
    }
}

impl StorageFile for FaultyFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.op(false, |inode| {
            let len = inode.current.len() as u64;
            match offset.checked_add(buf.len() as u64) {
                Some(end) if end <= len => {
                    let start = offset as usize;
                    buf.copy_from_slice(&inode.current.as_slice()[start..start + buf.len()]);
                    Ok(())
                }
                _ => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "failed to fill whole buffer",
                )),
            }
        })
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.op(true, |inode| {
            check_end(offset, buf.len())?;
            if !buf.is_empty() {
                inode.current.write(offset, buf);
                inode.pending.push(Pending::Write {
                    offset,
                    data: buf.to_vec(),
                });
            }
            Ok(())
        })
    }

    /// A failed sync loses what it was to write, as on Linux: the unsynced operations never
    /// become durable (a later sync succeeds without them), though reads still see them.
    fn sync(&self) -> io::Result<()> {
        self.attempt(true, |inode, fault| {
            let Inode {
                durable, pending, ..
            } = inode;
            match fault {
                Ok(()) => pending.drain(..).for_each(|op| op.apply(durable)),
                Err(_) => pending.clear(),
            }
            fault
        })
    }

    fn len(&self) -> io::Result<u64> {
        self.op(false, |inode| Ok(inode.current.len() as u64))
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.op(true, |inode| {
            check_end(len, 0)?;
            inode.current.resize(len as usize);
            inode.pending.push(Pending::SetLen(len));
            Ok(())
        })
    }

    /// A live map over a memfd that mirrors the file (see `faulty_content.rs`). Not an
    /// operation (never counted, never fails by injection): a real `mmap` fails only for want of
    /// address space, and the page faults of reads through it are not calls that could fail.
    fn map(&self, len: u64) -> io::Result<Option<Mapping>> {
        let mut st = self.state.lock();
        if st.epoch != self.epoch {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let inode = st.inodes.get_mut(&self.ino).expect("open inode exists");
        inode.current.map(len).map(Some)
    }
}

impl Drop for FaultyFile {
    fn drop(&mut self) {
        let mut st = self.state.lock();
        if st.epoch != self.epoch {
            return;
        }
        let inode = st.inodes.get_mut(&self.ino).expect("open inode exists");
        inode.open_handles -= 1;
        if inode.open_handles == 0 && !inode.linked {
            st.collect_garbage();
        }
    }
}

/// An in-memory exclusive lock on a path; dropping it releases the lock unless a power loss has
/// already done so.
struct FaultyLock {
    state: Arc<Mutex<State>>,
    path: PathBuf,
    token: u64,
}

impl FileLock for FaultyLock {}

impl Drop for FaultyLock {
    fn drop(&mut self) {
        let mut st = self.state.lock();
        if st.locks.get(&self.path) == Some(&self.token) {
            st.locks.remove(&self.path);
        }
    }
}

#[cfg(test)]
#[path = "faulty_tests.rs"]
mod tests;
