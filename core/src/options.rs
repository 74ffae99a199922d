//! Options: every setting of a database, with one name and one canonical string form (DESIGN §4).
//!
//! The table of every option is on [`Options`].

use crate::error::{Error, ErrorCode, Result};
use crate::limits::{MAX_PAGE_SIZE, MIN_PAGE_SIZE};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;

/// The prefix of the environment variables read by [`Options::apply_env`].
const ENV_PREFIX: &str = "LIGHTNING_DB_";

/// Values longer than this many characters are shortened in error messages.
const MAX_SHOWN_CHARS: usize = 64;

/// Every setting of a database, with one name and one canonical string form in every language.
///
/// `core` parses and validates options once, here. The C ABI passes name/value pairs, and Python
/// keyword arguments, Node option objects, Java builders, environment variables and config files all
/// map onto the same names, so a bad value gets the same message in every language.
///
/// | Option | Default | Allowed values | What it does |
/// |---|---|---|---|
/// | `create_if_missing` | `true` | boolean | Create the database if the path does not exist yet. With `false`, opening a missing database is an error. |
/// | `sync` | `true` | boolean | Durability of writes that do not choose their own. `true`: a write returns after the WAL is fsynced (concurrent writers share one fsync through group commit). `false` ("buffered"): a write survives a process crash, but the latest writes may be lost on power loss. |
/// | `cache_size` | `64MiB` | size, `0` to `1TiB` | Bytes of decoded pages kept in the page cache. `0` turns the cache off. |
/// | `page_size` | `4096` | power of two, `4096` to `65536` | Size of a B+tree page in bytes. Used only when a database is created; an existing database keeps the page size it was created with. |
/// | `memtable_size` | `64MiB` | size, `64KiB` to `4GiB` | Size at which the active memtable is frozen and handed to the background merge. |
/// | `max_frozen_memtables` | `4` | whole number, `1` to `64` | Frozen memtables that may wait for the background merge before writers are slowed down (throttled smoothly, never stopped). |
/// | `mmap` | `true` | boolean | Read pages through a memory map when the storage allows it, instead of with `pread`. |
/// | `max_active_transactions` | `1024` | whole number, `1` to `1000000` | Transactions that may be open at the same time; beginning one more fails with `BUSY`. |
///
/// **Names** are snake_case (`cache_size`). camelCase (`cacheSize`, `CacheSize`) and kebab-case
/// (`cache-size`) are accepted too and mean the same option.
///
/// **Values** are trimmed of surrounding whitespace, then read as follows.
///
/// - *Sizes* are a number of bytes (`65536`, `1_048_576`) or a number with a unit, with or without a
///   space before it, in any letter case: `B`; `K`, `KiB`, `M`, `MiB`, `G`, `GiB`, `T`, `TiB` are
///   powers of 1024; `KB`, `MB`, `GB`, `TB` are powers of 1000. A decimal point is allowed when the
///   result is a whole number of bytes (`1.5GiB`, `0.5 KiB`). Underscores may separate digits.
/// - *Booleans* are `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`, in any letter case.
/// - *Whole numbers* are plain decimal digits; underscores may separate digits (`1_000`).
///
/// The canonical form, which [`Options::get`] returns, is `true`/`false` for booleans, plain digits
/// for whole numbers and `page_size`, and for other sizes the largest binary unit that divides the
/// value exactly (`64MiB`, `1536KiB`), else plain bytes (`1000`).
///
/// **Environment variables** named `LIGHTNING_DB_` + the option name in upper case set options
/// when the program calls [`Options::apply_env`], e.g. `LIGHTNING_DB_CACHE_SIZE=128MiB` or
/// `LIGHTNING_DB_SYNC=off`. A variable with that prefix that names no option is an error.
///
/// The fields are public for Rust callers; values set directly are checked by
/// [`Options::validate`]. Values set through [`Options::set`] and the other string-based methods
/// are checked on the way in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `create_if_missing` (default `true`): create the database if the path does not exist yet.
    pub create_if_missing: bool,
    /// `sync` (default `true`): writes that do not choose their own durability return only after
    /// the WAL is fsynced (through group commit); `false` means buffered writes.
    pub sync: bool,
    /// `cache_size` (default 64 MiB, `0..=1TiB`): bytes of decoded pages kept in the page cache;
    /// `0` turns the cache off.
    pub cache_size: u64,
    /// `page_size` (default 4096): a power of two from 4096 to 65536. Used only when a database is
    /// created.
    pub page_size: u32,
    /// `memtable_size` (default 64 MiB, `64KiB..=4GiB`): active memtable size that triggers a
    /// freeze and a background merge.
    pub memtable_size: u64,
    /// `max_frozen_memtables` (default 4, `1..=64`): frozen memtables waiting for the merge before
    /// writers are slowed down (throttled smoothly, never stopped).
    pub max_frozen_memtables: u32,
    /// `mmap` (default `true`): read pages through a memory map when the storage allows it.
    pub mmap: bool,
    /// `max_active_transactions` (default 1024, `1..=1_000_000`): transactions that may be open at
    /// the same time.
    pub max_active_transactions: u32,
}

impl Default for Options {
    /// The documented defaults.
    fn default() -> Options {
        Options {
            create_if_missing: true,
            sync: true,
            cache_size: 64 * MIB,
            page_size: 4096,
            memtable_size: 64 * MIB,
            max_frozen_memtables: 4,
            mmap: true,
            max_active_transactions: 1024,
        }
    }
}

/// What values an option takes.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Bool,
    /// A size in bytes, `min..=max`, shown with a binary unit when exact.
    Size {
        min: u64,
        max: u64,
    },
    /// A size in bytes that must be a power of two in `min..=max`, shown as plain bytes.
    PowerOfTwo {
        min: u64,
        max: u64,
    },
    /// A whole number in `min..=max`.
    Count {
        min: u64,
        max: u64,
    },
}

/// One option: its canonical name and the values it takes. `SPECS` is in the order of `NAMES`.
struct Spec {
    name: &'static str,
    kind: Kind,
}

const SPECS: [Spec; 8] = [
    Spec {
        name: "create_if_missing",
        kind: Kind::Bool,
    },
    Spec {
        name: "sync",
        kind: Kind::Bool,
    },
    Spec {
        name: "cache_size",
        kind: Kind::Size { min: 0, max: TIB },
    },
    Spec {
        name: "page_size",
        kind: Kind::PowerOfTwo {
            min: MIN_PAGE_SIZE as u64,
            max: MAX_PAGE_SIZE as u64,
        },
    },
    Spec {
        name: "memtable_size",
        kind: Kind::Size {
            min: 64 * KIB,
            max: 4 * GIB,
        },
    },
    Spec {
        name: "max_frozen_memtables",
        kind: Kind::Count { min: 1, max: 64 },
    },
    Spec {
        name: "mmap",
        kind: Kind::Bool,
    },
    Spec {
        name: "max_active_transactions",
        kind: Kind::Count {
            min: 1,
            max: 1_000_000,
        },
    },
];

/// An option's value, before it is stored in its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    Bool(bool),
    Num(u64),
}

impl Kind {
    /// What the option allows, for error messages: "expected ...".
    fn expected(self) -> String {
        match self {
            Kind::Bool => "expected true or false (or 1/0, yes/no, on/off)".to_string(),
            Kind::Size { min, max } => format!(
                "expected a size such as 64MiB or 1048576, from {} to {}",
                format_size(min),
                format_size(max)
            ),
            Kind::PowerOfTwo { min, max } => format!(
                "expected a power of two from {min} to {max} ({} to {})",
                format_size(min),
                format_size(max)
            ),
            Kind::Count { min, max } => format!("expected a whole number from {min} to {max}"),
        }
    }

    /// Parses an (already trimmed) value; `None` if it is malformed or out of range.
    fn parse(self, value: &str) -> Option<Value> {
        match self {
            Kind::Bool => parse_bool(value).map(Value::Bool),
            Kind::Size { .. } | Kind::PowerOfTwo { .. } => {
                Options::parse_size(value).map(Value::Num)
            }
            Kind::Count { .. } => parse_uint(value).map(Value::Num),
        }
        .filter(|v| self.allows(*v))
    }

    /// Whether `value` is of this kind and in range.
    fn allows(self, value: Value) -> bool {
        match (self, value) {
            (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Size { min, max }, Value::Num(n))
            | (Kind::Count { min, max }, Value::Num(n)) => (min..=max).contains(&n),
            (Kind::PowerOfTwo { min, max }, Value::Num(n)) => {
                n.is_power_of_two() && (min..=max).contains(&n)
            }
            _ => false,
        }
    }

    /// The canonical string form of `value`.
    fn format(self, value: Value) -> String {
        match (self, value) {
            (Kind::Size { .. }, Value::Num(n)) => format_size(n),
            (_, Value::Num(n)) => n.to_string(),
            (_, Value::Bool(b)) => b.to_string(),
        }
    }
}

impl Spec {
    /// Parses `value` for this option, or an error naming the option, the value and what is allowed.
    fn parse(&self, value: &str) -> Result<Value> {
        let value = value.trim();
        self.kind
            .parse(value)
            .ok_or_else(|| self.invalid_value(value))
    }

    fn invalid_value(&self, value: &str) -> Error {
        Error::new(
            ErrorCode::InvalidOption,
            format!(
                "invalid value {} for option {}: {}",
                quote(value),
                self.name,
                self.kind.expected()
            ),
        )
    }
}

impl Options {
    /// The canonical (snake_case) name of every option, in the order of the fields of [`Options`].
    pub const NAMES: &'static [&'static str] = &[
        "create_if_missing",
        "sync",
        "cache_size",
        "page_size",
        "memtable_size",
        "max_frozen_memtables",
        "mmap",
        "max_active_transactions",
    ];

    /// Sets the option `name` (snake_case, camelCase or kebab-case) from its string form.
    ///
    /// On error (`InvalidOption`: unknown name, malformed or out-of-range value) `self` is unchanged.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let spec = find_spec(name)?;
        let value = spec.parse(value)?;
        self.store(spec.name, value);
        Ok(())
    }

    /// The canonical string form of the option `name` (snake_case, camelCase or kebab-case), e.g.
    /// `"64MiB"` for `cache_size` or `"true"` for `sync`. Setting this string back gives the same
    /// value.
    pub fn get(&self, name: &str) -> Result<String> {
        let spec = find_spec(name)?;
        Ok(spec.kind.format(self.load(spec.name)))
    }

    /// Every option with its canonical value, in the order of [`Options::NAMES`].
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        SPECS
            .iter()
            .map(|spec| (spec.name, spec.kind.format(self.load(spec.name))))
            .collect()
    }

    /// The defaults with `pairs` of (name, value) applied in order; a later pair for the same option
    /// wins. Fails on the first bad pair.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Options> {
        let mut options = Options::default();
        for (name, value) in pairs {
            options.set(name, value)?;
        }
        Ok(options)
    }

    /// Applies the process's `LIGHTNING_DB_<NAME>` environment variables, e.g.
    /// `LIGHTNING_DB_CACHE_SIZE=128MiB`. See [`Options::apply_env_from`] for the rules.
    pub fn apply_env(&mut self) -> Result<()> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if !name.starts_with(ENV_PREFIX) {
                continue;
            }
            let value = value.into_string().map_err(|_| {
                Error::new(
                    ErrorCode::InvalidOption,
                    format!("environment variable {name}: the value is not valid UTF-8"),
                )
            })?;
            vars.push((name, value));
        }
        self.apply_env_from(vars)
    }

    /// Applies environment variables given as (name, value) pairs; the testable core of
    /// [`Options::apply_env`].
    ///
    /// Variables whose name does not start with `LIGHTNING_DB_` are ignored. The rest of the name is
    /// the option name in any letter case (`LIGHTNING_DB_CACHE_SIZE` sets `cache_size`). A variable
    /// that names no option, or has a bad value, is an `InvalidOption` error whose message names the
    /// variable; then `self` is unchanged.
    pub fn apply_env_from(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<()> {
        let mut next = self.clone();
        for (var, value) in vars {
            let Some(option) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            next.set(&option.to_ascii_lowercase(), &value)
                .map_err(|e| {
                    Error::new(
                        ErrorCode::InvalidOption,
                        format!("environment variable {}: {}", shorten(&var), e.message()),
                    )
                })?;
        }
        *self = next;
        Ok(())
    }

    /// Checks that every field is in its allowed range, for options whose public fields were set
    /// directly. The error (`InvalidOption`) names the first bad option, its value and what is
    /// allowed.
    pub fn validate(&self) -> Result<()> {
        for spec in &SPECS {
            let value = self.load(spec.name);
            if !spec.kind.allows(value) {
                return Err(spec.invalid_value(&spec.kind.format(value)));
            }
        }
        Ok(())
    }

    /// Parses a size in bytes: plain digits (`65536`) or a number with a unit (`64MiB`, `1.5 GiB`,
    /// `500kb`), as described on [`Options`]. `None` if the text is malformed,
    /// is not a whole number of bytes, or does not fit in a `u64`.
    pub fn parse_size(s: &str) -> Option<u64> {
        let s = s.trim();
        let end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(end);
        let multiplier: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => KIB,
            "m" | "mib" => MIB,
            "g" | "gib" => GIB,
            "t" | "tib" => TIB,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return None,
        };
        let (whole, fraction) = match number.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (number, None),
        };
        let whole: u128 = digits(whole)?.parse::<u64>().ok()?.into();
        let mut bytes = whole.checked_mul(multiplier.into())?;
        if let Some(fraction) = fraction {
            let fraction = digits(fraction)?;
            let fraction = fraction.trim_end_matches('0');
            if !fraction.is_empty() {
                let numerator = fraction
                    .parse::<u128>()
                    .ok()?
                    .checked_mul(multiplier.into())?;
                let denominator = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
                if numerator % denominator != 0 {
                    return None;
                }
                bytes = bytes.checked_add(numerator / denominator)?;
            }
        }
        u64::try_from(bytes).ok()
    }

    /// The value of the option with canonical name `name`.
    fn load(&self, name: &str) -> Value {
        match name {
            "create_if_missing" => Value::Bool(self.create_if_missing),
            "sync" => Value::Bool(self.sync),
            "cache_size" => Value::Num(self.cache_size),
            "page_size" => Value::Num(self.page_size.into()),
            "memtable_size" => Value::Num(self.memtable_size),
            "max_frozen_memtables" => Value::Num(self.max_frozen_memtables.into()),
            "mmap" => Value::Bool(self.mmap),
            "max_active_transactions" => Value::Num(self.max_active_transactions.into()),
            _ => unreachable!("no option named {name}"),
        }
    }

    /// Stores an already validated value in the field of the option with canonical name `name`.
    fn store(&mut self, name: &str, value: Value) {
        // Values reaching here passed `Kind::allows`, so the numbers fit their fields.
        let num = |v: Value| match v {
            Value::Num(n) => n,
            Value::Bool(_) => unreachable!("option {name} takes a number"),
        };
        let small = |v: Value| u32::try_from(num(v)).expect("validated value fits in u32");
        let flag = |v: Value| match v {
            Value::Bool(b) => b,
            Value::Num(_) => unreachable!("option {name} takes a boolean"),
        };
        match name {
            "create_if_missing" => self.create_if_missing = flag(value),
            "sync" => self.sync = flag(value),
            "cache_size" => self.cache_size = num(value),
            "page_size" => self.page_size = small(value),
            "memtable_size" => self.memtable_size = num(value),
            "max_frozen_memtables" => self.max_frozen_memtables = small(value),
            "mmap" => self.mmap = flag(value),
            "max_active_transactions" => self.max_active_transactions = small(value),
            _ => unreachable!("no option named {name}"),
        }
    }
}

/// The option called `name` in any accepted spelling, or an error listing the known options.
fn find_spec(name: &str) -> Result<&'static Spec> {
    let normalized = normalize_name(name);
    if let Some(spec) = SPECS.iter().find(|spec| spec.name == normalized) {
        return Ok(spec);
    }
    let mut message = format!(
        "unknown option {}; known options: {}",
        quote(name.trim()),
        Options::NAMES.join(", ")
    );
    if let Some(suggestion) = closest_name(&normalized) {
        message.push_str(&format!("; did you mean \"{suggestion}\"?"));
    }
    Err(Error::new(ErrorCode::InvalidOption, message))
}

/// snake_case from snake_case, camelCase, PascalCase or kebab-case; a name without lower-case
/// letters (`CACHE_SIZE`) is simply lower-cased.
fn normalize_name(name: &str) -> String {
    let name = name.trim();
    let has_lower = name.chars().any(char::is_lowercase);
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c == '-' {
            out.push('_');
        } else if c.is_uppercase() && has_lower {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The known name closest to `name`, if its edit distance is at most 2.
fn closest_name(name: &str) -> Option<&'static str> {
    Options::NAMES
        .iter()
        .map(|known| (edit_distance(name, known), *known))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

/// Levenshtein distance between `a` and `b`, counted in chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any letter case.
fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Plain decimal digits, underscores allowed between them; `None` if malformed or too large.
fn parse_uint(s: &str) -> Option<u64> {
    digits(s)?.parse().ok()
}

/// The digits of `s` without underscores, if `s` is ASCII digits with underscores only between
/// digits (`1_000`, not `_1` or `1_`).
fn digits(s: &str) -> Option<String> {
    let valid = !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && s.chars().all(|c| c.is_ascii_digit() || c == '_');
    valid.then(|| s.chars().filter(|c| *c != '_').collect())
}

/// A size in its canonical form: the largest binary unit that divides it exactly, else bytes.
fn format_size(bytes: u64) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    for (unit, suffix) in [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// `s` in double quotes with escapes, shortened if long, for error messages.
fn quote(s: &str) -> String {
    format!("{:?}", shorten(s))
}

/// `s`, cut to `MAX_SHOWN_CHARS` characters plus "..." if it is longer.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((end, _)) => format!("{}...", &s[..end]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_message(r: Result<impl std::fmt::Debug>) -> String {
        let e = r.expect_err("expected an error");
        assert_eq!(e.code(), ErrorCode::InvalidOption, "{e}");
        e.message().to_string()
    }

    fn set_one(name: &str, value: &str) -> Result<Options> {
        let mut o = Options::default();
        o.set(name, value)?;
        Ok(o)
    }

    #[test]
    fn defaults_are_documented_values() {
        let o = Options::default();
        assert!(o.create_if_missing);
        assert!(o.sync);
        assert_eq!(o.cache_size, 64 * 1024 * 1024);
        assert_eq!(o.page_size, 4096);
        assert_eq!(o.memtable_size, 64 * 1024 * 1024);
        assert_eq!(o.max_frozen_memtables, 4);
        assert!(o.mmap);
        assert_eq!(o.max_active_transactions, 1024);
        assert_eq!(o.validate(), Ok(()));

        let pairs = o.to_pairs();
        let expected = [
            ("create_if_missing", "true"),
            ("sync", "true"),
            ("cache_size", "64MiB"),
            ("page_size", "4096"),
            ("memtable_size", "64MiB"),
            ("max_frozen_memtables", "4"),
            ("mmap", "true"),
            ("max_active_transactions", "1024"),
        ];
        assert_eq!(pairs.len(), expected.len());
        for ((name, value), (want_name, want_value)) in pairs.iter().zip(expected) {
            assert_eq!(*name, want_name);
            assert_eq!(value, want_value);
        }
    }

    #[test]
    fn names_match_specs_and_fields() {
        assert_eq!(Options::NAMES.len(), SPECS.len());
        for (name, spec) in Options::NAMES.iter().zip(SPECS.iter()) {
            assert_eq!(*name, spec.name);
            assert!(Options::default().get(name).is_ok());
        }
    }

    #[test]
    fn parse_size_forms() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("65536", 65536),
            ("1_000", 1000),
            ("1_048_576", 1 << 20),
            ("  42  ", 42),
            ("7B", 7),
            ("7 b", 7),
            ("1K", 1024),
            ("1k", 1024),
            ("1KiB", 1024),
            ("1kib", 1024),
            ("1 KIB", 1024),
            ("1KB", 1000),
            ("1kb", 1000),
            ("2M", 2 << 20),
            ("2MiB", 2 << 20),
            ("2MB", 2_000_000),
            ("3G", 3 << 30),
            ("3GiB", 3 << 30),
            ("3GB", 3_000_000_000),
            ("1T", 1 << 40),
            ("1TiB", 1 << 40),
            ("1TB", 1_000_000_000_000),
            ("64MiB", 64 << 20),
            ("64 MiB", 64 << 20),
            ("64\tMiB", 64 << 20),
            ("1.5GiB", 3 << 29),
            ("1.5 GB", 1_500_000_000),
            ("0.5KiB", 512),
            ("1.0", 1),
            ("1.000KB", 1000),
            ("1.001KB", 1001),
            ("2.5K", 2560),
            ("1_024.5_0K", 1_049_088),
            ("16777215TiB", 16_777_215 << 40),
            ("18446744073709551615", u64::MAX),
        ];
        for (text, want) in cases {
            assert_eq!(Options::parse_size(text), Some(*want), "{text:?}");
        }
    }

    #[test]
    fn parse_size_rejects_malformed_fractional_and_overflowing() {
        for text in [
            "",
            " ",
            "x",
            "12x",
            "-1",
            "+1",
            "1e3",
            "MiB",
            "1 Mi",
            "1MiBs",
            "1 2",
            "1.",
            ".5K",
            "1..5K",
            "1.5.5K",
            "_1",
            "1_",
            "1_K",
            "1._5K",
            "1.5",
            "1.5B",
            "0.1KiB",
            "1.0001KB",
            "18446744073709551616",
            "16777216TiB",
            "99999999999999999999999",
            "20000000TB",
            "0.00000000000000000000000000000000000000001KiB",
        ] {
            assert_eq!(Options::parse_size(text), None, "{text:?}");
        }
    }

    #[test]
    fn bool_forms() {
        for (text, want) in [
            ("true", true),
            ("TRUE", true),
            ("True", true),
            ("1", true),
            ("yes", true),
            ("YES", true),
            ("on", true),
            ("On", true),
            ("false", false),
            ("False", false),
            ("0", false),
            ("no", false),
            ("NO", false),
            ("off", false),
            ("OFF", false),
            ("  off\n", false),
        ] {
            for name in ["create_if_missing", "sync", "mmap"] {
                let mut o = Options::default();
                o.set(name, if want { "false" } else { "true" }).unwrap();
                o.set(name, text).unwrap();
                assert_eq!(o.get(name).unwrap(), want.to_string(), "{name}={text:?}");
            }
        }
        for text in ["", "2", "y", "n", "tru", "enabled", "01", "true false"] {
            for name in ["create_if_missing", "sync", "mmap"] {
                let msg = err_message(set_one(name, text));
                assert!(msg.contains(name), "{msg}");
                assert!(msg.contains(&format!("{text:?}")), "{msg}");
                assert!(msg.contains("expected true or false"), "{msg}");
            }
        }
    }

    #[test]
    fn bools_set_their_own_field() {
        let o = Options::from_pairs([("create_if_missing", "no")]).unwrap();
        assert!(!o.create_if_missing && o.sync && o.mmap);
        let o = Options::from_pairs([("sync", "no")]).unwrap();
        assert!(o.create_if_missing && !o.sync && o.mmap);
        let o = Options::from_pairs([("mmap", "no")]).unwrap();
        assert!(o.create_if_missing && o.sync && !o.mmap);
    }

    #[test]
    fn integer_forms() {
        let o = Options::from_pairs([
            ("max_frozen_memtables", " 64 "),
            ("max_active_transactions", "1_000_000"),
        ])
        .unwrap();
        assert_eq!(o.max_frozen_memtables, 64);
        assert_eq!(o.max_active_transactions, 1_000_000);
        let o = Options::from_pairs([
            ("max_frozen_memtables", "1"),
            ("max_active_transactions", "1"),
        ])
        .unwrap();
        assert_eq!(o.max_frozen_memtables, 1);
        assert_eq!(o.max_active_transactions, 1);
        assert_eq!(
            set_one("max_active_transactions", "00_42")
                .unwrap()
                .max_active_transactions,
            42
        );
        for text in [
            "", "x", "1.0", "1K", "-1", "+1", "_1", "1_", "1 000", "0x10",
        ] {
            let msg = err_message(set_one("max_frozen_memtables", text));
            assert!(msg.contains("max_frozen_memtables"), "{msg}");
            assert!(
                msg.contains("expected a whole number from 1 to 64"),
                "{msg}"
            );
        }
    }

    #[test]
    fn sizes_set_their_fields() {
        let o = Options::from_pairs([
            ("cache_size", "1.5GiB"),
            ("memtable_size", "100 mb"),
            ("page_size", "16KiB"),
        ])
        .unwrap();
        assert_eq!(o.cache_size, 3 << 29);
        assert_eq!(o.memtable_size, 100_000_000);
        assert_eq!(o.page_size, 16384);
        assert_eq!(o.get("cache_size").unwrap(), "1536MiB");
        assert_eq!(o.get("memtable_size").unwrap(), "100000000");
        assert_eq!(o.get("page_size").unwrap(), "16384");
        for page in [4096, 8192, 16384, 32768, 65536] {
            let o = set_one("page_size", &page.to_string()).unwrap();
            assert_eq!(o.page_size, page);
        }
    }

    #[test]
    fn bounds_accepted() {
        for (name, value) in [
            ("cache_size", "0"),
            ("cache_size", "1TiB"),
            ("cache_size", "1099511627776"),
            ("page_size", "4096"),
            ("page_size", "65536"),
            ("memtable_size", "64KiB"),
            ("memtable_size", "4GiB"),
            ("max_frozen_memtables", "1"),
            ("max_frozen_memtables", "64"),
            ("max_active_transactions", "1"),
            ("max_active_transactions", "1000000"),
        ] {
            let o = set_one(name, value).unwrap_or_else(|e| panic!("{name}={value}: {e}"));
            assert_eq!(o.validate(), Ok(()));
        }
    }

    #[test]
    fn bounds_rejected_with_option_named() {
        for (name, value, allowed) in [
            ("cache_size", "1099511627777", "from 0 to 1TiB"),
            ("cache_size", "2TiB", "from 0 to 1TiB"),
            ("cache_size", "-1", "from 0 to 1TiB"),
            ("page_size", "2048", "power of two from 4096 to 65536"),
            ("page_size", "131072", "power of two from 4096 to 65536"),
            ("page_size", "5000", "power of two from 4096 to 65536"),
            ("page_size", "12KiB", "power of two from 4096 to 65536"),
            ("page_size", "0", "power of two from 4096 to 65536"),
            ("memtable_size", "65535", "from 64KiB to 4GiB"),
            ("memtable_size", "0", "from 64KiB to 4GiB"),
            ("memtable_size", "4294967297", "from 64KiB to 4GiB"),
            ("memtable_size", "5GiB", "from 64KiB to 4GiB"),
            ("max_frozen_memtables", "0", "from 1 to 64"),
            ("max_frozen_memtables", "65", "from 1 to 64"),
            (
                "max_frozen_memtables",
                "99999999999999999999999",
                "from 1 to 64",
            ),
            ("max_active_transactions", "0", "from 1 to 1000000"),
            ("max_active_transactions", "1000001", "from 1 to 1000000"),
            ("max_active_transactions", "4294967296", "from 1 to 1000000"),
        ] {
            let mut o = Options::default();
            let msg = err_message(o.set(name, value));
            assert_eq!(
                msg,
                format!(
                    "invalid value \"{value}\" for option {name}: {}",
                    SPECS
                        .iter()
                        .find(|s| s.name == name)
                        .unwrap()
                        .kind
                        .expected()
                )
            );
            assert!(msg.contains(allowed), "{msg}");
            assert_eq!(o, Options::default(), "a failed set changes nothing");
        }
    }

    #[test]
    fn message_format_matches_documentation() {
        let msg = err_message(set_one("cache_size", " 12x "));
        assert_eq!(
            msg,
            "invalid value \"12x\" for option cache_size: expected a size such as 64MiB or \
             1048576, from 0 to 1TiB"
        );
        let msg = err_message(set_one("cacheSize", "12x"));
        assert!(msg.contains("for option cache_size:"), "{msg}");
        let msg = err_message(set_one("page_size", "1000"));
        assert_eq!(
            msg,
            "invalid value \"1000\" for option page_size: expected a power of two from 4096 to \
             65536 (4KiB to 64KiB)"
        );
    }

    #[test]
    fn long_and_odd_values_are_shortened_and_escaped() {
        let long = "9".repeat(1000);
        let msg = err_message(set_one("cache_size", &long));
        assert!(msg.len() < 300, "{msg}");
        assert!(msg.contains("...\""), "{msg}");
        let msg = err_message(set_one("sync", "a\"b\u{0}"));
        assert!(msg.contains(r#""a\"b\0""#), "{msg}");
        let msg = err_message(set_one("sync", "ééééé"));
        assert!(msg.contains("ééééé"), "{msg}");
    }

    #[test]
    fn unknown_names_list_options_and_suggest() {
        let msg = err_message(set_one("cache_sise", "1"));
        assert!(
            msg.starts_with(
                "unknown option \"cache_sise\"; known options: create_if_missing, sync, \
                 cache_size, page_size, memtable_size, max_frozen_memtables, mmap, \
                 max_active_transactions"
            ),
            "{msg}"
        );
        assert!(msg.ends_with("; did you mean \"cache_size\"?"), "{msg}");

        let msg = err_message(Options::default().get("cacheSise"));
        assert!(msg.contains("unknown option \"cacheSise\""), "{msg}");
        assert!(msg.contains("did you mean \"cache_size\"?"), "{msg}");

        let msg = err_message(set_one("max-frozen-memtable", "1"));
        assert!(
            msg.contains("did you mean \"max_frozen_memtables\"?"),
            "{msg}"
        );
        let msg = err_message(set_one("snyc", "1"));
        assert!(msg.contains("did you mean \"sync\"?"), "{msg}");

        for far in ["compression", "", "cache", "x"] {
            let msg = err_message(set_one(far, "1"));
            assert!(msg.starts_with("unknown option"), "{msg}");
            assert!(msg.contains("known options: create_if_missing"), "{msg}");
            assert!(!msg.contains("did you mean"), "{far}: {msg}");
        }
    }

    #[test]
    fn camel_and_kebab_names() {
        let o = Options::from_pairs([
            ("createIfMissing", "false"),
            ("Sync", "false"),
            ("cacheSize", "1MiB"),
            ("page-size", "8192"),
            ("MemtableSize", "1MiB"),
            ("max-frozen-memtables", "8"),
            ("MMAP", "off"),
            ("maxActiveTransactions", "7"),
        ])
        .unwrap();
        assert_eq!(
            o,
            Options {
                create_if_missing: false,
                sync: false,
                cache_size: 1 << 20,
                page_size: 8192,
                memtable_size: 1 << 20,
                max_frozen_memtables: 8,
                mmap: false,
                max_active_transactions: 7,
            }
        );
        for name in [
            "cache_size",
            "cacheSize",
            "CacheSize",
            "cache-size",
            " cache_size ",
            "CACHE_SIZE",
        ] {
            assert_eq!(o.get(name).unwrap(), "1MiB", "{name}");
        }
        assert_eq!(
            normalize_name("maxActiveTransactions"),
            "max_active_transactions"
        );
        assert_eq!(
            normalize_name("max-Active-transactions"),
            "max_active_transactions"
        );
        assert_eq!(normalize_name("CREATE_IF_MISSING"), "create_if_missing");
    }

    #[test]
    fn round_trip_get_set_all_options() {
        let samples = [
            Options::default(),
            Options {
                create_if_missing: false,
                sync: false,
                cache_size: 0,
                page_size: 65536,
                memtable_size: 64 * KIB,
                max_frozen_memtables: 1,
                mmap: false,
                max_active_transactions: 1,
            },
            Options {
                create_if_missing: true,
                sync: false,
                cache_size: TIB,
                page_size: 8192,
                memtable_size: 4 * GIB,
                max_frozen_memtables: 64,
                mmap: true,
                max_active_transactions: 1_000_000,
            },
            Options {
                cache_size: 1_000_001,
                memtable_size: 1536 * KIB,
                ..Options::default()
            },
        ];
        for original in samples {
            let mut copy = Options {
                create_if_missing: !original.create_if_missing,
                sync: !original.sync,
                cache_size: 12345,
                page_size: 32768,
                memtable_size: 99 * MIB,
                max_frozen_memtables: 3,
                mmap: !original.mmap,
                max_active_transactions: 99,
            };
            for name in Options::NAMES {
                let value = original.get(name).unwrap();
                copy.set(name, &value).unwrap();
                assert_eq!(copy.get(name).unwrap(), value);
            }
            assert_eq!(copy, original);

            let pairs = original.to_pairs();
            let rebuilt = Options::from_pairs(pairs.iter().map(|(n, v)| (*n, v.as_str()))).unwrap();
            assert_eq!(rebuilt, original);
        }
    }

    #[test]
    fn canonical_sizes() {
        assert_eq!(format_size(0), "0");
        assert_eq!(format_size(1), "1");
        assert_eq!(format_size(1000), "1000");
        assert_eq!(format_size(1024), "1KiB");
        assert_eq!(format_size(1536), "1536");
        assert_eq!(format_size(1536 * KIB), "1536KiB");
        assert_eq!(format_size(64 * MIB), "64MiB");
        assert_eq!(format_size(3 * GIB), "3GiB");
        assert_eq!(format_size(TIB), "1TiB");
        assert_eq!(format_size(u64::MAX), u64::MAX.to_string());
    }

    #[test]
    fn from_pairs_applies_in_order_and_fails_on_bad_pair() {
        let o = Options::from_pairs([("cache_size", "1MiB"), ("cacheSize", "2MiB")]).unwrap();
        assert_eq!(o.cache_size, 2 * MIB);
        assert_eq!(Options::from_pairs([]).unwrap(), Options::default());
        let msg = err_message(Options::from_pairs([("sync", "false"), ("page_size", "3")]));
        assert!(msg.contains("page_size"), "{msg}");
    }

    #[test]
    fn validate_reports_directly_set_fields() {
        let o = Options {
            page_size: 1000,
            ..Options::default()
        };
        let msg = err_message(o.validate());
        assert!(
            msg.starts_with("invalid value \"1000\" for option page_size"),
            "{msg}"
        );
        let o = Options {
            max_frozen_memtables: 0,
            ..Options::default()
        };
        assert!(err_message(o.validate()).contains("max_frozen_memtables"));
        let o = Options {
            cache_size: 2 * TIB,
            ..Options::default()
        };
        assert!(err_message(o.validate()).contains("\"2TiB\" for option cache_size"));
    }

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn apply_env_from_good_variables() {
        let mut o = Options::default();
        o.apply_env_from(env(&[
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
            ("LIGHTNING_DB_CACHE_SIZE", "128MiB"),
            ("LIGHTNING_DB_SYNC", "off"),
            ("LIGHTNING_DB_MAX_ACTIVE_TRANSACTIONS", "10"),
            ("lightning_db_cache_size", "nonsense, but not our prefix"),
            ("XLIGHTNING_DB_CACHE_SIZE", "nonsense"),
        ]))
        .unwrap();
        assert_eq!(o.cache_size, 128 * MIB);
        assert!(!o.sync);
        assert_eq!(o.max_active_transactions, 10);
        assert_eq!(
            o,
            Options {
                cache_size: 128 * MIB,
                sync: false,
                max_active_transactions: 10,
                ..Options::default()
            }
        );
    }

    #[test]
    fn apply_env_from_bad_variables() {
        let mut o = Options::default();
        let msg = err_message(o.apply_env_from(env(&[
            ("LIGHTNING_DB_SYNC", "false"),
            ("LIGHTNING_DB_FOO", "1"),
        ])));
        assert!(
            msg.starts_with("environment variable LIGHTNING_DB_FOO: unknown option"),
            "{msg}"
        );
        assert_eq!(o, Options::default(), "a failed apply changes nothing");

        let msg = err_message(o.apply_env_from(env(&[("LIGHTNING_DB_CACHE_SISE", "1")])));
        assert!(msg.contains("LIGHTNING_DB_CACHE_SISE"), "{msg}");
        assert!(msg.contains("did you mean \"cache_size\"?"), "{msg}");

        let msg = err_message(o.apply_env_from(env(&[("LIGHTNING_DB_CACHE_SIZE", "12x")])));
        assert_eq!(
            msg,
            "environment variable LIGHTNING_DB_CACHE_SIZE: invalid value \"12x\" for option \
             cache_size: expected a size such as 64MiB or 1048576, from 0 to 1TiB"
        );

        let msg = err_message(o.apply_env_from(env(&[("LIGHTNING_DB_", "1")])));
        assert!(msg.contains("environment variable LIGHTNING_DB_:"), "{msg}");
        assert_eq!(o, Options::default());
    }

    #[test]
    fn apply_env_reads_the_process_environment() {
        // No test sets LIGHTNING_DB_* variables in this process (set_var would race with other
        // tests), so this only checks that reading the real environment works when none are set.
        if std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with(ENV_PREFIX)) {
            return;
        }
        let mut o = Options::default();
        o.apply_env().unwrap();
        assert_eq!(o, Options::default());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("cache_sise", "cache_size"), 1);
        assert_eq!(edit_distance("snyc", "sync"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
