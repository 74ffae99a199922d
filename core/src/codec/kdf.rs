//! Key derivation from a passphrase: Argon2id (the default) or PBKDF2-HMAC-SHA256. The result is
//! a key-encryption key: it wraps the database's random data key (`keys.rs`), so changing the
//! passphrase rewrites only the wrapped key.

use zeroize::Zeroizing;

use super::cipher::KEY_LEN;

/// Bytes of a KDF salt (random per database, stored in the clear).
pub(crate) const SALT_LEN: usize = 16;

/// The `kdf` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kdf {
    /// Argon2id (RFC 9106), memory-hard: the default.
    #[default]
    Argon2id,
    /// PBKDF2 with HMAC-SHA256 (RFC 8018), for where only FIPS-approved functions may be used.
    Pbkdf2Sha256,
}

impl Kdf {
    /// Every KDF, by its option value.
    pub(crate) const NAMES: [(&'static str, Kdf); 2] = [
        ("argon2id", Kdf::Argon2id),
        ("pbkdf2-sha256", Kdf::Pbkdf2Sha256),
    ];

    /// The option value naming this KDF.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(name, _)| *name)
            .expect("every KDF has a name")
    }

    /// The id stored in the file.
    pub(crate) fn id(self) -> u8 {
        match self {
            Kdf::Argon2id => 1,
            Kdf::Pbkdf2Sha256 => 2,
        }
    }

    pub(crate) fn from_id(id: u8) -> Option<Kdf> {
        match id {
            1 => Some(Kdf::Argon2id),
            2 => Some(Kdf::Pbkdf2Sha256),
            _ => None,
        }
    }
}

/// Argon2id's default memory cost in KiB (64 MiB) and its floor (1 MiB, for tests: never use a
/// cost below the defaults for real data).
pub(crate) const ARGON2_DEFAULT_MEMORY_KIB: u32 = 64 << 10;
pub(crate) const ARGON2_MIN_MEMORY_KIB: u32 = 1 << 10;
/// Argon2id's default passes over memory (RFC 9106's second recommendation) and its floor.
pub(crate) const ARGON2_DEFAULT_ITERATIONS: u32 = 3;
pub(crate) const ARGON2_MIN_ITERATIONS: u32 = 1;
/// PBKDF2-HMAC-SHA256's default iterations (OWASP's 2023 figure) and its floor (for tests).
pub(crate) const PBKDF2_DEFAULT_ITERATIONS: u32 = 600_000;
pub(crate) const PBKDF2_MIN_ITERATIONS: u32 = 10_000;

/// A KDF with its costs, as stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KdfParams {
    pub kdf: Kdf,
    /// Argon2id's memory in KiB; 0 for PBKDF2.
    pub memory_kib: u32,
    pub iterations: u32,
    /// Argon2id's lanes; 1 for PBKDF2.
    pub parallelism: u32,
}

impl KdfParams {
    /// `kdf` at its default costs.
    pub fn defaults(kdf: Kdf) -> KdfParams {
        match kdf {
            Kdf::Argon2id => KdfParams {
                kdf,
                memory_kib: ARGON2_DEFAULT_MEMORY_KIB,
                iterations: ARGON2_DEFAULT_ITERATIONS,
                parallelism: 1,
            },
            Kdf::Pbkdf2Sha256 => KdfParams {
                kdf,
                memory_kib: 0,
                iterations: PBKDF2_DEFAULT_ITERATIONS,
                parallelism: 1,
            },
        }
    }

    /// Refuses costs below the documented floors, naming the option.
    pub fn check_floors(&self) -> Result<(), String> {
        let (min_memory, min_iterations) = match self.kdf {
            Kdf::Argon2id => (ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_ITERATIONS),
            Kdf::Pbkdf2Sha256 => (0, PBKDF2_MIN_ITERATIONS),
        };
        if self.memory_kib < min_memory {
            return Err(format!(
                "kdf_memory of {} KiB is below {}'s floor of {min_memory} KiB",
                self.memory_kib,
                self.kdf.name()
            ));
        }
        if self.iterations < min_iterations {
            return Err(format!(
                "kdf_iterations of {} is below {}'s floor of {min_iterations}",
                self.iterations,
                self.kdf.name()
            ));
        }
        if self.parallelism == 0 || self.parallelism > 16 {
            return Err(format!(
                "kdf_parallelism of {} is outside 1 to 16",
                self.parallelism
            ));
        }
        Ok(())
    }

    /// The key-encryption key derived from `passphrase` and `salt`; an error names what is wrong
    /// with the parameters (they come from the options, or from a file that may be damaged).
    pub fn derive(
        &self,
        passphrase: &[u8],
        salt: &[u8; SALT_LEN],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, String> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        match self.kdf {
            Kdf::Argon2id => {
                let params = argon2::Params::new(
                    self.memory_kib,
                    self.iterations,
                    self.parallelism,
                    Some(KEY_LEN),
                )
                .map_err(|e| format!("bad Argon2id costs: {e}"))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(passphrase, salt, &mut *key)
                    .map_err(|e| format!("Argon2id failed: {e}"))?;
            }
            Kdf::Pbkdf2Sha256 => {
                if self.iterations == 0 {
                    return Err("bad PBKDF2 iterations: 0".into());
                }
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, salt, self.iterations, &mut *key);
            }
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Known answers, so a reader of docs/format.md derives the same key with the `cryptography`
    /// package (its PBKDF2HMAC and Argon2id).
    #[test]
    fn the_kdfs_are_the_standard_ones() {
        // PBKDF2-HMAC-SHA256("password", "salt", 1 iteration, 32 bytes), RFC 7914 §11's
        // neighbour: the widely published test vector.
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"password", b"salt", 1, &mut out);
        assert_eq!(
            hex(&out),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        let params = KdfParams {
            kdf: Kdf::Pbkdf2Sha256,
            memory_kib: 0,
            iterations: 10_000,
            parallelism: 1,
        };
        let a = params.derive(b"secret", &[1; SALT_LEN]).unwrap();
        assert_eq!(*a, *params.derive(b"secret", &[1; SALT_LEN]).unwrap());
        assert_ne!(*a, *params.derive(b"secret", &[2; SALT_LEN]).unwrap());
        assert_ne!(*a, *params.derive(b"Secret", &[1; SALT_LEN]).unwrap());
    }

    #[test]
    fn argon2id_depends_on_every_cost_and_refuses_impossible_ones() {
        let base = KdfParams {
            kdf: Kdf::Argon2id,
            memory_kib: ARGON2_MIN_MEMORY_KIB,
            iterations: 1,
            parallelism: 1,
        };
        let salt = [9; SALT_LEN];
        let a = base.derive(b"pw", &salt).unwrap();
        for other in [
            KdfParams {
                memory_kib: 2048,
                ..base
            },
            KdfParams {
                iterations: 2,
                ..base
            },
            KdfParams {
                parallelism: 2,
                ..base
            },
        ] {
            assert_ne!(*a, *other.derive(b"pw", &salt).unwrap(), "{other:?}");
        }
        let zero = KdfParams {
            iterations: 0,
            ..base
        };
        assert!(zero.derive(b"pw", &salt).is_err());
    }

    #[test]
    fn defaults_pass_the_floors_and_costs_below_them_are_refused() {
        for (_, kdf) in Kdf::NAMES {
            let defaults = KdfParams::defaults(kdf);
            defaults.check_floors().unwrap();
            let cheap = KdfParams {
                iterations: 1,
                memory_kib: 1,
                ..defaults
            };
            let message = cheap.check_floors().unwrap_err();
            assert!(message.starts_with("kdf_"), "{message}");
        }
        let wide = KdfParams {
            parallelism: 17,
            ..KdfParams::defaults(Kdf::Argon2id)
        };
        assert!(wide.check_floors().unwrap_err().contains("kdf_parallelism"));
    }

    #[test]
    fn kdf_ids_and_names_round_trip() {
        for (name, kdf) in Kdf::NAMES {
            assert_eq!(kdf.name(), name);
            assert_eq!(Kdf::from_id(kdf.id()), Some(kdf));
        }
        assert_eq!(Kdf::from_id(0), None);
    }
}
