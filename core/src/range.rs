//! [`Range`]: which keys an iterator or cursor covers, and in which direction; [`KeyInterval`]: a
//! span of keys that a transaction read, for its conflict check.

use std::ops::Bound;

/// A key range `[start, end)` with a direction. `None` bounds are open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    pub(crate) start: Option<Vec<u8>>,
    pub(crate) end: Option<Vec<u8>>,
    pub(crate) reverse: bool,
}

impl Range {
    /// Every key.
    pub fn all() -> Range {
        Range::default()
    }

    /// Keys `k` with `start <= k < end`.
    pub fn new(start: impl AsRef<[u8]>, end: impl AsRef<[u8]>) -> Range {
        Range {
            start: Some(start.as_ref().to_vec()),
            end: Some(end.as_ref().to_vec()),
            reverse: false,
        }
    }

    /// Keys `k >= start`.
    pub fn from(start: impl AsRef<[u8]>) -> Range {
        Range {
            start: Some(start.as_ref().to_vec()),
            ..Range::default()
        }
    }

    /// Keys `k < end`.
    pub fn to(end: impl AsRef<[u8]>) -> Range {
        Range {
            end: Some(end.as_ref().to_vec()),
            ..Range::default()
        }
    }

    /// Keys that start with `prefix`.
    pub fn prefix(prefix: impl AsRef<[u8]>) -> Range {
        let prefix = prefix.as_ref();
        Range {
            start: Some(prefix.to_vec()),
            end: prefix_successor(prefix),
            reverse: false,
        }
    }

    /// The same range, iterated from the last key to the first.
    pub fn reverse(mut self) -> Range {
        self.reverse = !self.reverse;
        self
    }

    /// Whether iteration runs from the last key to the first.
    pub fn is_reverse(&self) -> bool {
        self.reverse
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.start.as_deref().is_none_or(|s| key >= s)
            && self.end.as_deref().is_none_or(|e| key < e)
    }
}

/// The smallest key greater than every key starting with `prefix`; `None` if there is none
/// (the prefix is empty or all 0xff).
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A closed-or-open interval of keys, as `std::ops::RangeBounds` understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyInterval {
    pub low: Bound<Vec<u8>>,
    pub high: Bound<Vec<u8>>,
}

impl KeyInterval {
    /// The interval as `std::ops::RangeBounds` takes it.
    pub fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_ref(&self.low), as_ref(&self.high))
    }

    /// Whether no key lies in it.
    pub fn is_empty(&self) -> bool {
        match (&self.low, &self.high) {
            (Bound::Included(l), Bound::Included(h)) => l > h,
            (Bound::Included(l), Bound::Excluded(h))
            | (Bound::Excluded(l), Bound::Included(h))
            | (Bound::Excluded(l), Bound::Excluded(h)) => l >= h,
            _ => false,
        }
    }
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    b.as_ref().map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds() {
        let r = Range::prefix(b"ab");
        assert!(
            r.contains(b"ab")
                && r.contains(b"ab\xff\xff")
                && !r.contains(b"ac")
                && !r.contains(b"aa")
        );
        assert_eq!(prefix_successor(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(b"\xff\xff"), None);
        assert!(Range::prefix(b"").contains(b"anything"));
        assert!(Range::prefix(b"\xff").contains(b"\xff\x00"));
    }
}
