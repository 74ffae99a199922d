//! The kinds of `Range` a test picks, and which keys each one holds by the rules `Range`
//! documents, worked out by the test independently of the engine.

use lightning_db::Range;

/// A range over keys of type `K`: each test has its own key type (and its own strategy to pick
/// ranges from its key space).
#[derive(Clone, Debug)]
pub enum RangeSpec<K> {
    All,
    /// `[start, end)`; empty if start ≥ end.
    Between(K, K),
    From(K),
    To(K),
    Prefix(K),
}

impl<K: AsRef<[u8]>> RangeSpec<K> {
    /// The engine's `Range`, reversed if asked.
    pub fn range(&self, reverse: bool) -> Range {
        let range = match self {
            RangeSpec::All => Range::all(),
            RangeSpec::Between(start, end) => Range::new(start, end),
            RangeSpec::From(start) => Range::from(start),
            RangeSpec::To(end) => Range::to(end),
            RangeSpec::Prefix(prefix) => Range::prefix(prefix),
        };
        if reverse {
            range.reverse()
        } else {
            range
        }
    }

    /// The bounds as `Range` documents them: `[start, end)`, `None` for an open side. A prefix
    /// range ends at the smallest key after every key with the prefix.
    pub fn bounds(&self) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        match self {
            RangeSpec::All => (None, None),
            RangeSpec::Between(start, end) => {
                (Some(start.as_ref().to_vec()), Some(end.as_ref().to_vec()))
            }
            RangeSpec::From(start) => (Some(start.as_ref().to_vec()), None),
            RangeSpec::To(end) => (None, Some(end.as_ref().to_vec())),
            RangeSpec::Prefix(prefix) => (
                Some(prefix.as_ref().to_vec()),
                prefix_successor(prefix.as_ref()),
            ),
        }
    }

    /// Whether `key` is in the range: the same keys as between [`RangeSpec::bounds`].
    pub fn contains(&self, key: &[u8]) -> bool {
        match self {
            RangeSpec::All => true,
            RangeSpec::Between(start, end) => key >= start.as_ref() && key < end.as_ref(),
            RangeSpec::From(start) => key >= start.as_ref(),
            RangeSpec::To(end) => key < end.as_ref(),
            RangeSpec::Prefix(prefix) => key.starts_with(prefix.as_ref()),
        }
    }
}

/// The smallest key greater than every key starting with `prefix`; `None` if every key after the
/// prefix starts with it (the prefix is empty or all 0xff).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
