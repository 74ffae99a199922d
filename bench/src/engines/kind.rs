//! [`EngineKind`]: the engines the bench can run, by their command-line names.

use std::fmt;
use std::path::Path;

use super::{fjall, lightning, lightning_c, lmdb, redb, Engine, Result};

/// The engines, in the order of the table's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    Lightning,
    /// Lightning DB through its C ABI (`lightning-ffi`), to measure the ABI's overhead.
    LightningC,
    Lmdb,
    Redb,
    Fjall,
}

impl EngineKind {
    /// Every engine.
    pub const ALL: [EngineKind; 5] = [
        EngineKind::Lightning,
        EngineKind::LightningC,
        EngineKind::Lmdb,
        EngineKind::Redb,
        EngineKind::Fjall,
    ];

    /// The engine's name on the command line and in the JSON lines.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Lightning => "lightning",
            EngineKind::LightningC => "lightning-c",
            EngineKind::Lmdb => "lmdb",
            EngineKind::Redb => "redb",
            EngineKind::Fjall => "fjall",
        }
    }

    /// The engine named `name`.
    pub fn from_name(name: &str) -> Option<EngineKind> {
        EngineKind::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Creates a fresh database in the directory `dir`, which must not exist yet.
    pub fn open(self, dir: &Path) -> Result<Box<dyn Engine>> {
        std::fs::create_dir_all(dir)?;
        Ok(match self {
            EngineKind::Lightning => Box::new(lightning::LightningEngine::open(dir)?),
            EngineKind::LightningC => Box::new(lightning_c::LightningCEngine::open(dir)?),
            EngineKind::Lmdb => Box::new(lmdb::LmdbEngine::open(dir)?),
            EngineKind::Redb => Box::new(redb::RedbEngine::open(dir)?),
            EngineKind::Fjall => Box::new(fjall::FjallEngine::open(dir)?),
        })
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
