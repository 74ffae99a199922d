//! [`PendingWrites`]: a transaction's uncommitted writes, the newest of a cursor's sources.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::locks::Mutex;

/// A transaction's uncommitted writes: key → value, or `None` for a delete. Cursors read it live.
pub(crate) type PendingWrites = Arc<Mutex<BTreeMap<Vec<u8>, Option<Vec<u8>>>>>;

/// The first pending write after (`forward`) or before `key` (`None`: from the very end).
pub(super) fn seek_pending(
    writes: &PendingWrites,
    key: Option<&[u8]>,
    inclusive: bool,
    forward: bool,
) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let bound = match key {
        None => Bound::Unbounded,
        Some(k) if inclusive => Bound::Included(k),
        Some(k) => Bound::Excluded(k),
    };
    let writes = writes.lock();
    let entry = if forward {
        writes.range::<[u8], _>((bound, Bound::Unbounded)).next()
    } else {
        writes
            .range::<[u8], _>((Bound::Unbounded, bound))
            .next_back()
    };
    entry.map(|(k, v)| (k.clone(), v.clone()))
}
