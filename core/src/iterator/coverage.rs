//! [`SharedCoverage`]: the span of keys a serializable transaction's cursor has looked at.
//!
//! A cursor that moves from one position to the next has read every key between them, including
//! keys that do not exist: a later insert there is a phantom. Tracking one interval per cursor —
//! from the lowest to the highest position it reached — covers every key it read, and a few it
//! skipped over with a seek, which at worst causes a needless conflict.

use std::ops::Bound;
use std::sync::Arc;

use crate::locks::Mutex;

use crate::range::KeyInterval;

/// The interval one cursor covered, shared with its transaction so a commit sees it even while
/// the cursor is still alive.
pub(crate) type SharedCoverage = Arc<Mutex<Option<KeyInterval>>>;

/// Widens `covered` to include the keys from `from` to `to`, in either order of direction:
/// `forward` means `from` is the low end.
pub(crate) fn extend(
    covered: &mut Option<KeyInterval>,
    from: Bound<&[u8]>,
    to: Bound<&[u8]>,
    forward: bool,
) {
    let (low, high) = if forward { (from, to) } else { (to, from) };
    match covered {
        None => {
            *covered = Some(KeyInterval {
                low: owned(low),
                high: owned(high),
            })
        }
        Some(interval) => {
            if lower_starts_before(low, interval.bounds().0) {
                interval.low = owned(low);
            }
            if upper_ends_after(high, interval.bounds().1) {
                interval.high = owned(high);
            }
        }
    }
}

fn owned(b: Bound<&[u8]>) -> Bound<Vec<u8>> {
    b.map(<[u8]>::to_vec)
}

/// Whether lower bound `a` admits a key that lower bound `b` does not.
fn lower_starts_before(a: Bound<&[u8]>, b: Bound<&[u8]>) -> bool {
    match (a, b) {
        (_, Bound::Unbounded) => false,
        (Bound::Unbounded, _) => true,
        (Bound::Included(x), Bound::Included(y)) | (Bound::Excluded(x), Bound::Excluded(y)) => {
            x < y
        }
        (Bound::Included(x), Bound::Excluded(y)) => x <= y,
        (Bound::Excluded(x), Bound::Included(y)) => x < y,
    }
}

/// Whether upper bound `a` admits a key that upper bound `b` does not.
fn upper_ends_after(a: Bound<&[u8]>, b: Bound<&[u8]>) -> bool {
    match (a, b) {
        (_, Bound::Unbounded) => false,
        (Bound::Unbounded, _) => true,
        (Bound::Included(x), Bound::Included(y)) | (Bound::Excluded(x), Bound::Excluded(y)) => {
            x > y
        }
        (Bound::Included(x), Bound::Excluded(y)) => x >= y,
        (Bound::Excluded(x), Bound::Included(y)) => x > y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Bound::*;

    fn span(c: &Option<KeyInterval>) -> (Bound<&[u8]>, Bound<&[u8]>) {
        c.as_ref().unwrap().bounds()
    }

    #[test]
    fn forward_then_backward_moves_widen_the_span() {
        let mut c = None;
        extend(&mut c, Included(b"c"), Included(b"e"), true);
        assert_eq!(span(&c), (Included(&b"c"[..]), Included(&b"e"[..])));
        extend(&mut c, Included(b"e"), Excluded(b"g"), true);
        assert_eq!(span(&c), (Included(&b"c"[..]), Excluded(&b"g"[..])));
        extend(&mut c, Included(b"d"), Included(b"a"), false);
        assert_eq!(span(&c), (Included(&b"a"[..]), Excluded(&b"g"[..])));
        extend(&mut c, Included(b"b"), Included(b"g"), true);
        assert_eq!(span(&c), (Included(&b"a"[..]), Included(&b"g"[..])));
        extend(&mut c, Unbounded, Included(b"b"), true);
        assert_eq!(span(&c), (Unbounded, Included(&b"g"[..])));
        extend(&mut c, Included(b"b"), Unbounded, true);
        assert_eq!(span(&c), (Unbounded, Unbounded));
    }

    #[test]
    fn bound_order_at_equal_keys() {
        assert!(lower_starts_before(Included(b"a"), Excluded(b"a")));
        assert!(!lower_starts_before(Excluded(b"a"), Included(b"a")));
        assert!(upper_ends_after(Included(b"a"), Excluded(b"a")));
        assert!(!upper_ends_after(Excluded(b"a"), Included(b"a")));
    }
}
