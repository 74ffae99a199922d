//! `include/lightning.h` is generated from this crate by cbindgen and committed: this test
//! regenerates it and fails if the committed file differs (run with `LIGHTNING_UPDATE_HEADER=1`
//! to rewrite it), and checks the header's version macros against `Cargo.toml`.

use std::path::PathBuf;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include/lightning.h")
}

fn generate() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml")).unwrap();
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("LIGHTNING_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/lightning.h is out of date: run \
         `LIGHTNING_UPDATE_HEADER=1 cargo test -p lightning-ffi --test header` and commit it"
    );
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    let value = |name: &str| -> String {
        let line = header
            .lines()
            .find(|l| l.starts_with(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("no #define {name} in the header"));
        line.split_whitespace().nth(2).unwrap().to_string()
    };
    let version = format!(
        "{}.{}.{}",
        value("LDB_VERSION_MAJOR"),
        value("LDB_VERSION_MINOR"),
        value("LDB_VERSION_PATCH")
    );
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert!(header.contains("ldb_version(void)"));
}
