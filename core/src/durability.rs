//! [`Durability`]: how durable a write is when the call returns.

/// How durable a write is when the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flushed to stable storage (fsync, shared with concurrent writers by group commit): survives
    /// power loss.
    Sync,
    /// Handed to the operating system: survives a crash of the process; on power loss a suffix of
    /// the most recent buffered writes may be lost (never a hole, never part of a batch).
    Buffered,
}
