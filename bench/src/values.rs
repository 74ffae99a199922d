//! What the values hold (`--values`): incompressible random bytes (the default), half random
//! and half zero bytes (`compressible`), or JSON-like text (`json`: records of fields with words
//! from a small vocabulary, as an application stores them). The kind is set once at start-up,
//! like the value size, and each value is a pure function of its seed.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::workloads::SplitMix64;

/// What the values hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Random,
    Compressible,
    Json,
}

impl ValueKind {
    pub const ALL: [ValueKind; 3] = [ValueKind::Random, ValueKind::Compressible, ValueKind::Json];

    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Random => "random",
            ValueKind::Compressible => "compressible",
            ValueKind::Json => "json",
        }
    }

    pub fn from_name(name: &str) -> Option<ValueKind> {
        ValueKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The value kind of this run (see [`set_kind`]).
static KIND: AtomicU8 = AtomicU8::new(0);

pub fn kind() -> ValueKind {
    ValueKind::ALL[usize::from(KIND.load(Ordering::Relaxed))]
}

/// Sets the value kind of this run, once at start-up.
pub fn set_kind(kind: ValueKind) {
    let index = ValueKind::ALL.iter().position(|&k| k == kind).unwrap_or(0);
    KIND.store(index as u8, Ordering::Relaxed);
}

/// Fills `out` with a value of `kind` drawn from `rng`.
pub fn fill(kind: ValueKind, rng: &mut SplitMix64, out: &mut [u8]) {
    match kind {
        ValueKind::Random => rng.fill(out),
        ValueKind::Compressible => {
            let half = out.len() / 2;
            rng.fill(&mut out[..half]);
            out[half..].fill(0);
        }
        ValueKind::Json => fill_json(rng, out),
    }
}

const WORDS: [&str; 24] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "yankee",
];
const CITIES: [&str; 8] = [
    "Lisbon", "Oslo", "Nairobi", "Osaka", "Lima", "Toronto", "Krakow", "Adelaide",
];

/// A JSON object of `out.len()` bytes: an id, then as many of the other fields as fit, then a
/// `notes` text of words cut to size. (Below about 30 bytes, a cut prefix of one.)
fn fill_json(rng: &mut SplitMix64, out: &mut [u8]) {
    let id = rng.below(100_000_000);
    let fields = [
        format!("\"user\":\"user_{id}\""),
        format!("\"email\":\"user_{id}@example.com\""),
        format!("\"active\":{}", rng.below(2) == 1),
        format!("\"score\":{}.{:02}", rng.below(1000), rng.below(100)),
        format!(
            "\"city\":\"{}\"",
            CITIES[rng.below(CITIES.len() as u64) as usize]
        ),
        format!(
            "\"tags\":[\"{}\",\"{}\"]",
            WORDS[rng.below(WORDS.len() as u64) as usize],
            WORDS[rng.below(WORDS.len() as u64) as usize]
        ),
    ];
    const NOTES: &str = ",\"notes\":\"";
    const CLOSE: &str = "\"}";
    let mut text = format!("{{\"id\":{id}");
    for field in &fields {
        if text.len() + 1 + field.len() + NOTES.len() + CLOSE.len() <= out.len() {
            text.push(',');
            text.push_str(field);
        }
    }
    text.push_str(NOTES);
    while text.len() + CLOSE.len() < out.len() {
        text.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        text.push(' ');
    }
    let body = out.len().saturating_sub(CLOSE.len()).min(text.len());
    out[..body].copy_from_slice(&text.as_bytes()[..body]);
    let close = &CLOSE.as_bytes()[..(out.len() - body).min(CLOSE.len())];
    out[body..body + close.len()].copy_from_slice(close);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: ValueKind, seed: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0xAA; len];
        fill(kind, &mut SplitMix64::new(seed), &mut out);
        out
    }

    #[test]
    fn names_round_trip() {
        for kind in ValueKind::ALL {
            assert_eq!(ValueKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ValueKind::from_name("zeros"), None);
    }

    #[test]
    fn compressible_values_are_half_zero() {
        let v = value(ValueKind::Compressible, 7, 100);
        assert!(v[50..].iter().all(|&b| b == 0));
        assert!(v[..50].iter().filter(|&&b| b == 0).count() < 5);
    }

    #[test]
    fn json_values_are_whole_objects_of_the_asked_size() {
        for len in [100, 1024, 4000] {
            let v = value(ValueKind::Json, len as u64, len);
            assert_eq!(v.len(), len);
            let text = std::str::from_utf8(&v).unwrap();
            assert!(text.starts_with("{\"id\":"), "{text}");
            assert!(text.ends_with("\"}"), "{text}");
            assert_eq!(text.matches('"').count() % 2, 0, "{text}");
        }
        assert_ne!(
            value(ValueKind::Json, 1, 200),
            value(ValueKind::Json, 2, 200)
        );
        assert_eq!(
            value(ValueKind::Json, 3, 200),
            value(ValueKind::Json, 3, 200)
        );
    }
}
