//! [`SecretPrint`]: which key or passphrase opens an engine, so that an `open` that shares an
//! engine already open in this process (see `state.rs`) is held to the same rule as one that opens
//! it: the database's key or passphrase, or `LDB_WRONG_KEY`. Without this check a second `open`
//! of an encrypted directory with a wrong passphrase, or none, would get the open engine.
//!
//! Only a keyed hash of the secret is kept (SipHash under keys random to this process), never the
//! secret itself.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;

use lightning::ldb_status;
use lightning::safe::Error as CallError;

/// A keyed hash of the key (its 32 bytes, so any letter case of its hex digits matches) or of the
/// passphrase (as given: its spaces are part of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretPrint(u64);

/// The options that hold a secret, by their snake_case names.
const KEY: &str = "encryption_key";
const PASSPHRASE: &str = "passphrase";

impl SecretPrint {
    /// The print of the key or passphrase in `options` (the last of each name counts, as for the
    /// engine; an empty value is unset); `None` for neither. A malformed key, or both a key and a
    /// passphrase, is `LDB_INVALID_OPTION`, without the secret in the message.
    pub fn of(options: &[(&str, &str)]) -> Result<Option<SecretPrint>, CallError> {
        let (mut key, mut passphrase) = ("", "");
        for (name, value) in options {
            match normalize_name(name).as_str() {
                KEY => key = value.trim(),
                PASSPHRASE => passphrase = value,
                _ => {}
            }
        }
        match (key.is_empty(), passphrase.is_empty()) {
            (true, true) => Ok(None),
            (false, false) => Err(error(
                ldb_status::LDB_INVALID_OPTION,
                "options encryption_key and passphrase are both set: give one".into(),
            )),
            (false, true) => {
                let bytes = parse_hex_key(key).ok_or_else(|| {
                    error(
                        ldb_status::LDB_INVALID_OPTION,
                        "invalid value (redacted) for option encryption_key: expected 64 hex digits (a 256-bit key), or nothing".into(),
                    )
                })?;
                Ok(Some(SecretPrint::hash(1, &bytes)))
            }
            (true, false) => Ok(Some(SecretPrint::hash(2, passphrase.as_bytes()))),
        }
    }

    fn hash(kind: u8, secret: &[u8]) -> SecretPrint {
        static KEYS: OnceLock<RandomState> = OnceLock::new();
        let mut hasher = KEYS.get_or_init(RandomState::new).build_hasher();
        hasher.write_u8(kind);
        hasher.write(secret);
        SecretPrint(hasher.finish())
    }

    /// Whether options with the secret `given` may share an engine opened with `opened` (in
    /// directory `dir`): the same key or passphrase, or neither for a database that is not
    /// encrypted. The errors are those the engine gives an `open` that does not match.
    pub fn check(
        opened: Option<SecretPrint>,
        given: Option<SecretPrint>,
        dir: &std::path::Path,
    ) -> Result<(), CallError> {
        let file = dir.join("data.ldb");
        let path = file.display();
        match (opened, given) {
            (None, None) => Ok(()),
            (Some(opened), Some(given)) if opened == given => Ok(()),
            (None, Some(_)) => Err(error(
                ldb_status::LDB_INVALID_OPTION,
                format!("{path}: the database is not encrypted, so options encryption_key and passphrase do not apply"),
            )),
            (Some(_), None) => Err(error(
                ldb_status::LDB_WRONG_KEY,
                format!("{path}: the database is encrypted: give its encryption_key or passphrase"),
            )),
            (Some(_), Some(_)) => Err(error(
                ldb_status::LDB_WRONG_KEY,
                format!("{path}: the encryption_key or passphrase is not this database's"),
            )),
        }
    }
}

fn error(status: ldb_status, message: String) -> CallError {
    CallError { status, message }
}

/// 64 hex digits (either case, spaces around them ignored) as the key's 32 bytes.
fn parse_hex_key(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(key)
}

/// An option's name as the engine reads it: snake_case from snake_case, camelCase, PascalCase or
/// kebab-case; a name without lower-case letters (`PASSPHRASE`) is simply lower-cased.
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
