//! All file I/O goes through [`Storage`] (DESIGN §2), so tests can swap in `FaultyStorage` (with the
//! cargo feature `fault-injection`), which fails chosen operations and simulates power loss.

#[cfg(any(test, feature = "fault-injection"))]
mod faulty;
#[cfg(any(test, feature = "fault-injection"))]
mod faulty_content;
mod fs;
mod mapping;
mod traits;

#[cfg(any(test, feature = "fault-injection"))]
pub use faulty::{FaultKind, FaultyStorage, PowerLoss};
pub use fs::FsStorage;
pub use mapping::Mapping;
pub use traits::{FileLock, OpenMode, Storage, StorageFile};
