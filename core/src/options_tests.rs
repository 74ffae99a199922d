//! Tests of `options.rs`, kept beside it so that file stays about the code.

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
        ("compression", "none"),
        ("compression_level", "3"),
        ("encryption", "none"),
        ("encryption_key", ""),
        ("passphrase", ""),
        ("kdf", "argon2id"),
        ("kdf_memory", "64MiB"),
        ("kdf_iterations", "0"),
        ("kdf_parallelism", "1"),
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
             max_active_transactions, compression, compression_level"
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

    for far in ["encryption_mode", "", "cache", "x"] {
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
        ("Compression", "ZSTD"),
        ("compressionLevel", "9"),
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
            compression: Compression::Zstd,
            compression_level: 9,
            ..Options::default()
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
            compression: Compression::Auto,
            compression_level: 1,
            encryption: Encryption::ChaCha20Poly1305,
            kdf: Kdf::Pbkdf2Sha256,
            kdf_memory: MIB,
            kdf_iterations: 10_000,
            kdf_parallelism: 16,
            ..Options::default()
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
            compression: Compression::Snappy,
            compression_level: 19,
            encryption: Encryption::Aes256Gcm,
            kdf_memory: 4 * GIB,
            kdf_iterations: 100_000_000,
            ..Options::default()
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
            compression: Compression::Lz4,
            compression_level: 4,
            encryption: Encryption::None,
            kdf: Kdf::Argon2id,
            kdf_memory: 2 * MIB,
            kdf_iterations: 5,
            kdf_parallelism: 2,
            ..Options::default()
        };
        // Secrets are never shown, so they do not round-trip (see `secrets_are_never_shown`).
        for name in Options::NAMES
            .iter()
            .filter(|n| !["encryption_key", "passphrase"].contains(n))
        {
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

#[test]
fn compression_takes_a_codec_name_and_zstd_a_level() {
    let mut o = Options::default();
    assert_eq!(o.get("compression").unwrap(), "none");
    assert_eq!(o.get("compression_level").unwrap(), "3");
    for (name, policy) in Compression::NAMES {
        o.set("compression", &name.to_uppercase()).unwrap();
        assert_eq!(o.compression, policy);
        assert_eq!(o.get("compression").unwrap(), name);
    }
    let e = o.set("compression", "gzip").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidOption);
    assert_eq!(
        e.message(),
        "invalid value \"gzip\" for option compression: expected one of none, lz4, zstd, snappy, auto"
    );
    for bad in ["0", "20", "-1", "fast"] {
        let e = o.set("compression_level", bad).unwrap_err();
        assert!(e.message().contains("from 1 to 19"), "{}", e.message());
    }
    o.compression_level = 42;
    assert!(o
        .validate()
        .unwrap_err()
        .message()
        .contains("compression_level"));
}

const HEX_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

#[test]
fn secrets_are_never_shown() {
    let mut o = Options::default();
    assert_eq!(o.get("encryption_key").unwrap(), "");
    o.set("encryption_key", HEX_KEY).unwrap();
    o.set("passphrase", " correct horse ").unwrap();
    assert_eq!(
        o.passphrase.expose(),
        " correct horse ",
        "a passphrase keeps its spaces"
    );
    for shown in [
        o.get("encryption_key").unwrap(),
        o.get("passphrase").unwrap(),
        format!("{o:?}"),
        format!("{:?}", o.to_pairs()),
    ] {
        assert!(!shown.contains("00112233"), "{shown}");
        assert!(!shown.contains("horse"), "{shown}");
    }
    assert_eq!(o.get("passphrase").unwrap(), "<redacted>");
    // A malformed key is refused without being echoed.
    let bad = "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let message = err_message(set_one("encryption_key", bad));
    assert!(message.contains("encryption_key"), "{message}");
    assert!(message.contains("64 hex digits"), "{message}");
    assert!(!message.contains("zz1122"), "{message}");
    let message = err_message(set_one("encryption_key", &HEX_KEY[1..]));
    assert!(!message.contains("2233"), "{message}");
    // Unset again with an empty value.
    o.set("encryption_key", "").unwrap();
    assert!(!o.encryption_key.is_set());
}

#[test]
fn encryption_options_are_checked_together() {
    let mut o = Options::default();
    o.set("encryption", "AES-256-GCM").unwrap();
    assert_eq!(o.encryption, Encryption::Aes256Gcm);
    o.set("kdf", "pbkdf2-sha256").unwrap();
    o.set("passphrase", "pw").unwrap();
    o.validate().unwrap();
    assert_eq!(
        o.kdf_params().iterations,
        600_000,
        "0 means the KDF's default"
    );
    o.set("encryption_key", HEX_KEY).unwrap();
    let message = err_message(o.validate());
    assert!(message.contains("both"), "{message}");
    o.set("encryption_key", "").unwrap();
    o.set("kdf_iterations", "9999").unwrap();
    let message = err_message(o.validate());
    assert!(message.contains("kdf_iterations"), "{message}");
    o.set("kdf", "argon2id").unwrap();
    o.set("kdf_iterations", "1").unwrap();
    o.set("kdf_memory", "1MiB").unwrap();
    o.validate().unwrap();
    assert_eq!(o.kdf_params().memory_kib, 1024);
    err_message(set_one("kdf_memory", "512KiB"));
    err_message(set_one("kdf_parallelism", "17"));
    err_message(set_one("encryption", "rot13"));
}
