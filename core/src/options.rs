//! Options: every setting of a database, with one name and one canonical string form (DESIGN §4).
//!
//! The table of every option is on [`Options`].

use zeroize::Zeroizing;

use crate::codec::{
    parse_hex_key, Compression, Encryption, Kdf, KdfParams, ARGON2_DEFAULT_MEMORY_KIB,
    ARGON2_MIN_MEMORY_KIB, DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL,
};
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
/// | `compression` | `none` | `none`, `lz4`, `zstd`, `snappy`, `auto` | How WAL records and pages are compressed from now on (each record and page says how it was written, so this may change between opens). A database created with compression keeps its pages as compressed blocks that take only the sectors they need (a coded file, read through the page cache); one created without keeps plain pages and the memory map, and compresses its WAL only. `auto` picks per page: LZ4 for data with repeats, Zstandard where entropy coding saves much more, nothing where compression saves under 1/8 (WAL records, which a writer waits for, get LZ4). |
/// | `compression_level` | `3` | whole number, `1` to `19` | Zstandard's level, for `zstd` and `auto`: higher is smaller and slower to write. |
/// | `encryption` | `none` | `none`, `aes-256-gcm`, `chacha20-poly1305` | The cipher a new database encrypts its pages and WAL records with (an existing database keeps its own). Needs `encryption_key` or `passphrase`. |
/// | `encryption_key` | unset | 64 hex digits | A 256-bit key that opens (and, for a new database, protects) an encrypted database. Secret: shown as `<redacted>`. |
/// | `passphrase` | unset | text | A passphrase that opens (and protects) an encrypted database, through `kdf`. Secret: shown as `<redacted>`. |
/// | `kdf` | `argon2id` | `argon2id`, `pbkdf2-sha256` | How a new key header derives its key from the passphrase (an existing database records its own). |
/// | `kdf_memory` | `64MiB` | size, `1MiB` to `4GiB` | Argon2id's memory cost. |
/// | `kdf_iterations` | `0` | whole number, `0` to `100000000` | Argon2id's passes or PBKDF2's iterations; `0` is the KDF's default (3 and 600000). Floors: 1 and 10000. |
/// | `kdf_parallelism` | `1` | whole number, `1` to `16` | Argon2id's lanes. |
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
    /// `compression` (default `none`): how WAL records and pages are compressed from now on; a
    /// database created with compression keeps compressed pages.
    pub compression: Compression,
    /// `compression_level` (default 3, `1..=19`): Zstandard's level, for `zstd` and `auto`.
    pub compression_level: u32,
    /// `encryption` (default `none`): the cipher a new database is encrypted with.
    pub encryption: Encryption,
    /// `encryption_key` (secret; 64 hex digits): the key of an encrypted database.
    pub encryption_key: Secret,
    /// `passphrase` (secret): the passphrase of an encrypted database.
    pub passphrase: Secret,
    /// `kdf` (default `argon2id`): how a new key header derives its key from the passphrase.
    pub kdf: Kdf,
    /// `kdf_memory` (default 64 MiB, `1MiB..=4GiB`): Argon2id's memory cost in bytes.
    pub kdf_memory: u64,
    /// `kdf_iterations` (default 0: the KDF's own default): Argon2id's passes or PBKDF2's
    /// iterations.
    pub kdf_iterations: u32,
    /// `kdf_parallelism` (default 1, `1..=16`): Argon2id's lanes.
    pub kdf_parallelism: u32,
}

/// A secret option's value (`encryption_key`, `passphrase`): empty when unset, zeroized when
/// dropped, and never shown: its `Debug` form and [`Options::get`] say `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// A secret holding `text`.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(text.into()))
    }

    /// Whether the secret is set (not empty).
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// How every listing of options shows it.
    fn shown(&self) -> &'static str {
        if self.is_set() {
            "<redacted>"
        } else {
            ""
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.shown())
    }
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
            compression: Compression::None,
            compression_level: DEFAULT_ZSTD_LEVEL,
            encryption: Encryption::None,
            encryption_key: Secret::default(),
            passphrase: Secret::default(),
            kdf: Kdf::Argon2id,
            kdf_memory: u64::from(ARGON2_DEFAULT_MEMORY_KIB) * KIB,
            kdf_iterations: 0,
            kdf_parallelism: 1,
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
    /// One of a few names, given in any letter case.
    Choice(&'static [&'static str]),
    /// A secret: any text (empty: unset), or a 256-bit key in 64 hex digits if `hex_key`.
    Secret {
        hex_key: bool,
    },
}

/// One option: its canonical name and the values it takes. `SPECS` is in the order of `NAMES`.
struct Spec {
    name: &'static str,
    kind: Kind,
}

const SPECS: [Spec; 17] = [
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
    Spec {
        name: "compression",
        kind: Kind::Choice(&["none", "lz4", "zstd", "snappy", "auto"]),
    },
    Spec {
        name: "compression_level",
        kind: Kind::Count {
            min: 1,
            max: MAX_ZSTD_LEVEL as u64,
        },
    },
    Spec {
        name: "encryption",
        kind: Kind::Choice(&["none", "aes-256-gcm", "chacha20-poly1305"]),
    },
    Spec {
        name: "encryption_key",
        kind: Kind::Secret { hex_key: true },
    },
    Spec {
        name: "passphrase",
        kind: Kind::Secret { hex_key: false },
    },
    Spec {
        name: "kdf",
        kind: Kind::Choice(&["argon2id", "pbkdf2-sha256"]),
    },
    Spec {
        name: "kdf_memory",
        kind: Kind::Size {
            min: ARGON2_MIN_MEMORY_KIB as u64 * KIB,
            max: 4 * GIB,
        },
    },
    Spec {
        name: "kdf_iterations",
        kind: Kind::Count {
            min: 0,
            max: 100_000_000,
        },
    },
    Spec {
        name: "kdf_parallelism",
        kind: Kind::Count { min: 1, max: 16 },
    },
];

/// An option's value, before it is stored in its field.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Bool(bool),
    Num(u64),
    /// One of a `Kind::Choice`'s names.
    Choice(&'static str),
    /// A secret's text.
    Secret(Secret),
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
            Kind::Choice(names) => format!("expected one of {}", names.join(", ")),
            Kind::Secret { hex_key: true } => {
                "expected 64 hex digits (a 256-bit key), or nothing".to_string()
            }
            Kind::Secret { hex_key: false } => "expected text".to_string(),
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
            Kind::Choice(names) => names
                .iter()
                .find(|name| name.eq_ignore_ascii_case(value))
                .map(|name| Value::Choice(name)),
            Kind::Secret { .. } => Some(Value::Secret(Secret::new(value))),
        }
        .filter(|v| self.allows(v))
    }

    /// Whether `value` is of this kind and in range.
    fn allows(self, value: &Value) -> bool {
        match (self, value) {
            (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Size { min, max }, Value::Num(n))
            | (Kind::Count { min, max }, Value::Num(n)) => (min..=max).contains(n),
            (Kind::PowerOfTwo { min, max }, Value::Num(n)) => {
                n.is_power_of_two() && (min..=max).contains(n)
            }
            (Kind::Choice(names), Value::Choice(name)) => names.contains(name),
            (Kind::Secret { hex_key }, Value::Secret(secret)) => {
                !hex_key || !secret.is_set() || parse_hex_key(secret.expose()).is_some()
            }
            _ => false,
        }
    }

    /// The canonical string form of `value`.
    fn format(self, value: &Value) -> String {
        match (self, value) {
            (Kind::Size { .. }, Value::Num(n)) => format_size(*n),
            (_, Value::Num(n)) => n.to_string(),
            (_, Value::Bool(b)) => b.to_string(),
            (_, Value::Choice(name)) => name.to_string(),
            (_, Value::Secret(secret)) => secret.shown().to_string(),
        }
    }
}

impl Spec {
    /// Parses `value` for this option, or an error naming the option, the value and what is allowed.
    fn parse(&self, value: &str) -> Result<Value> {
        // A passphrase is taken as it is: its spaces are part of it.
        let value = match self.kind {
            Kind::Secret { hex_key: false } => value,
            _ => value.trim(),
        };
        self.kind
            .parse(value)
            .ok_or_else(|| self.invalid_value(value))
    }

    fn invalid_value(&self, value: &str) -> Error {
        if let Kind::Secret { .. } = self.kind {
            // Never echo a secret, even a malformed one.
            return Error::new(
                ErrorCode::InvalidOption,
                format!(
                    "invalid value (redacted) for option {}: {}",
                    self.name,
                    self.kind.expected()
                ),
            );
        }
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
        "compression",
        "compression_level",
        "encryption",
        "encryption_key",
        "passphrase",
        "kdf",
        "kdf_memory",
        "kdf_iterations",
        "kdf_parallelism",
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
        Ok(spec.kind.format(&self.load(spec.name)))
    }

    /// Every option with its canonical value, in the order of [`Options::NAMES`].
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        SPECS
            .iter()
            .map(|spec| (spec.name, spec.kind.format(&self.load(spec.name))))
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
            if !spec.kind.allows(&value) {
                return Err(spec.invalid_value(&spec.kind.format(&value)));
            }
        }
        if self.encryption_key.is_set() && self.passphrase.is_set() {
            return Err(Error::new(
                ErrorCode::InvalidOption,
                "options encryption_key and passphrase are both set: give one",
            ));
        }
        if self.passphrase.is_set() {
            self.kdf_params().check_floors().map_err(|m| {
                Error::new(ErrorCode::InvalidOption, format!("invalid KDF cost: {m}"))
            })?;
        }
        Ok(())
    }

    /// The KDF and its costs the options ask for (`kdf_iterations` 0: the KDF's default).
    pub(crate) fn kdf_params(&self) -> KdfParams {
        let defaults = KdfParams::defaults(self.kdf);
        KdfParams {
            kdf: self.kdf,
            memory_kib: match self.kdf {
                Kdf::Argon2id => u32::try_from(self.kdf_memory / KIB).unwrap_or(u32::MAX),
                Kdf::Pbkdf2Sha256 => 0,
            },
            iterations: match self.kdf_iterations {
                0 => defaults.iterations,
                n => n,
            },
            parallelism: match self.kdf {
                Kdf::Argon2id => self.kdf_parallelism,
                Kdf::Pbkdf2Sha256 => 1,
            },
        }
    }

    /// The key or passphrase the options give, if any.
    pub(crate) fn user_key(&self) -> Option<crate::codec::UserKey> {
        if self.encryption_key.is_set() {
            let key = parse_hex_key(self.encryption_key.expose()).expect("validated key");
            Some(crate::codec::UserKey::Key(key))
        } else if self.passphrase.is_set() {
            Some(crate::codec::UserKey::Passphrase(
                Zeroizing::new(self.passphrase.expose().to_string()),
                self.kdf_params(),
            ))
        } else {
            None
        }
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
            "compression" => Value::Choice(self.compression.name()),
            "compression_level" => Value::Num(self.compression_level.into()),
            "encryption" => Value::Choice(self.encryption.name()),
            "encryption_key" => Value::Secret(self.encryption_key.clone()),
            "passphrase" => Value::Secret(self.passphrase.clone()),
            "kdf" => Value::Choice(self.kdf.name()),
            "kdf_memory" => Value::Num(self.kdf_memory),
            "kdf_iterations" => Value::Num(self.kdf_iterations.into()),
            "kdf_parallelism" => Value::Num(self.kdf_parallelism.into()),
            _ => unreachable!("no option named {name}"),
        }
    }

    /// Stores an already validated value in the field of the option with canonical name `name`.
    fn store(&mut self, name: &str, value: Value) {
        // Values reaching here passed `Kind::allows`, so the numbers fit their fields.
        let num = |v: &Value| match v {
            Value::Num(n) => *n,
            _ => unreachable!("option {name} takes a number"),
        };
        let small = |v: &Value| u32::try_from(num(v)).expect("validated value fits in u32");
        let flag = |v: &Value| match v {
            Value::Bool(b) => *b,
            _ => unreachable!("option {name} takes a boolean"),
        };
        let secret = |v: Value| match v {
            Value::Secret(s) => s,
            _ => unreachable!("option {name} takes a secret"),
        };
        let choice = |v: &Value| match v {
            Value::Choice(c) => *c,
            _ => unreachable!("option {name} takes a name"),
        };
        match name {
            "create_if_missing" => self.create_if_missing = flag(&value),
            "sync" => self.sync = flag(&value),
            "cache_size" => self.cache_size = num(&value),
            "page_size" => self.page_size = small(&value),
            "memtable_size" => self.memtable_size = num(&value),
            "max_frozen_memtables" => self.max_frozen_memtables = small(&value),
            "mmap" => self.mmap = flag(&value),
            "max_active_transactions" => self.max_active_transactions = small(&value),
            "compression" => self.compression = named(&Compression::NAMES, choice(&value)),
            "compression_level" => self.compression_level = small(&value),
            "encryption" => self.encryption = named(&Encryption::NAMES, choice(&value)),
            "encryption_key" => self.encryption_key = secret(value),
            "passphrase" => self.passphrase = secret(value),
            "kdf" => self.kdf = named(&Kdf::NAMES, choice(&value)),
            "kdf_memory" => self.kdf_memory = num(&value),
            "kdf_iterations" => self.kdf_iterations = small(&value),
            "kdf_parallelism" => self.kdf_parallelism = small(&value),
            _ => unreachable!("no option named {name}"),
        }
    }
}

/// The value `name` stands for in a table of (name, value) pairs; `name` is a validated choice,
/// so it is there.
fn named<T: Copy>(table: &[(&str, T)], name: &str) -> T {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| *value)
        .expect("a validated choice is in its table")
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
#[path = "options_tests.rs"]
mod tests;
