//! [`Content`]: the current bytes of a [`FaultyStorage`](super::FaultyStorage) file, which the
//! file can also be memory-mapped over.
//!
//! The bytes live in a `Vec`. The first `map` copies them into a memfd (an anonymous file in
//! memory) and maps that; from then on every change is made to both, so the map stays live, as a
//! real file's does: a write shows through maps made before it, a flipped byte too, and a power
//! loss's outcome replaces what maps show. The engine's mmap read path thus meets every fault the
//! `pread` path meets.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::Mapping;

/// The current bytes of a file, mirrored into a mappable memfd once the file has been mapped.
#[derive(Debug, Default)]
pub(super) struct Content {
    bytes: Vec<u8>,
    mirror: Option<Mirror>,
}

#[derive(Debug)]
struct Mirror {
    file: File,
    /// The longest map made: the memfd is never shorter, so no map reaches past its end (a read
    /// there would be `SIGBUS`). Bytes past the file's length read as zeros.
    mapped_len: u64,
}

impl Content {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Writes `data` at `offset`, zero-filling any gap past the end.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        super::faulty::apply_write(&mut self.bytes, offset, data);
        if let Some(m) = &self.mirror {
            m.file
                .write_all_at(data, offset)
                .expect("write to the memfd of a mapped FaultyStorage file");
        }
    }

    /// Truncates or zero-extends to `len` bytes.
    pub fn resize(&mut self, len: usize) {
        let old = self.bytes.len();
        self.bytes.resize(len, 0);
        if let Some(m) = &self.mirror {
            if len < old {
                // The cut bytes read as zeros, as past a real file's end. Those a map may reach
                // are zeroed in place: a cut and regrowth would leave the memfd shorter than a
                // map for a moment, and a thread reading through it then would get `SIGBUS`.
                let keep = m.mapped_len.max(len as u64);
                if keep < old as u64 {
                    m.file.set_len(keep).expect("truncate the memfd");
                }
                let zeros = vec![0u8; 1 << 20];
                let mut at = len as u64;
                while at < keep.min(old as u64) {
                    let n = (keep.min(old as u64) - at).min(zeros.len() as u64) as usize;
                    m.file
                        .write_all_at(&zeros[..n], at)
                        .expect("zero the memfd");
                    at += n as u64;
                }
            } else if len as u64 > m.mapped_len {
                m.file.set_len(len as u64).expect("extend the memfd");
            }
        }
    }

    /// Replaces every byte.
    pub fn replace(&mut self, data: &[u8]) {
        self.resize(0);
        self.write(0, data);
    }

    /// Flips (xor 0xFF) the byte at `at`, which must be below `len()`.
    pub fn flip(&mut self, at: usize) {
        let flipped = self.bytes[at] ^ 0xFF;
        self.write(at as u64, &[flipped]);
    }

    /// A live, read-only map of the first `len` bytes.
    pub fn map(&mut self, len: u64) -> io::Result<Mapping> {
        if self.mirror.is_none() {
            let file = memfd()?;
            file.write_all_at(&self.bytes, 0)?;
            self.mirror = Some(Mirror {
                file,
                mapped_len: 0,
            });
        }
        let m = self.mirror.as_mut().expect("made above");
        m.mapped_len = m.mapped_len.max(len);
        m.file.set_len(m.mapped_len.max(self.bytes.len() as u64))?;
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: the memfd is private to this storage and never shorter than `len` (it only
        // grows while maps exist, see `resize`), so the map never reaches past its end; its bytes
        // change only through `write`/`resize` under the storage's lock, and readers of a
        // `Mapping` expect a live view that changes under them, as a real file's map does.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&m.file)? };
        Ok(Mapping::new(map))
    }
}

/// A new, empty memfd.
fn memfd() -> io::Result<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: a NUL-terminated name and valid flags; the result is checked before use.
    let fd = unsafe { libc::memfd_create(c"lightning-faulty".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}
