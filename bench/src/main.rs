//! Lightning DB against LMDB (heed), redb and fjall: the same workloads, on one machine, in one
//! run. See README.md. The engine `lightning-c` is Lightning DB again, driven through its C ABI,
//! to measure what the ABI costs over the Rust API.
//!
//! Prints the machine, then a table of operations per second (workload rows, engine columns)
//! and, on stdout, one JSON line per (engine, workload):
//! `{"engine": "lmdb", "workload": "read_random", "ops_per_sec": 123456.7}`; the transaction
//! workloads add `"conflicts"` (failed commits) and `"conflict_rate"` (failed / attempted
//! commits), which a second table also shows. When both `lightning` and `lightning-c` ran, lines
//! after the tables give the C ABI's overhead on the reads and single puts. Progress goes to
//! stderr.

mod compression;
mod engines;
mod resources;
mod rounds;
mod values;
mod workloads;
mod zipf;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use engines::EngineKind;
use workloads::{format_rate, Workload};

const USAGE: &str = "\
usage: lightning-bench [--n N] [--value-size B] [--values KIND] [--runs R] [--engines E,...]
                       [--workloads W,...] [--dir PATH]

  --n N            keys in the bulk-loaded database, and the op budget of the long write and
                   read loops (default 1000000; underscores allowed: 1_000_000)
  --value-size B   bytes in every value (default 100; at least 8; a KiB suffix is fine:
                   64KiB). Larger values at smaller n: 1KiB at --n 200000, 64KiB at --n 10000
  --values KIND    what values hold: random (default; incompressible), compressible (half
                   random, half zero bytes) or json (JSON-like records, e.g. with 1KiB)
  --compression P  none (default), lz4, zstd, snappy or auto: Lightning DB's compression option
                   (a database created compressed keeps compressed pages); fjall, given any
                   but none, compresses data blocks with LZ4 at every level; LMDB and redb
                   cannot compress
  --encryption C   none (default), aes-256-gcm or chacha20-poly1305: Lightning DB's encryption
                   option (with a fixed key); the other engines cannot encrypt and run in the
                   clear
  --runs R         rounds (default 3): each engine runs once per round in a process of its
                   own, the engines' order reversed every other round; every figure printed
                   is the median of the rounds
  --engines LIST   comma-separated, from: lightning,lightning-c,lmdb,redb,fjall (default: all)
                   lightning-c: Lightning DB through its C ABI (lightning-ffi), same options;
                   with lightning also run, the C ABI's overhead is printed after the tables
  --workloads LIST comma-separated, from: bulk_load,write_buffered,write_buffered_merged,
                   write_sync,write_sync_4threads,write_batch_1000,write_batch_1000_merged,
                   read_random,read_random_2threads,read_hot_1000,scan,scan_with_memtable,
                   read_while_writing,zipf_update_mix,zipf_read_after,zipf_scan_after,
                   txn_rmw,txn_rmw_2threads (default: all; see bench/README.md)
                   bulk_load: sorted pairs through each engine's loading API (Lightning's
                   bulk load, LMDB's append mode, fjall's ingestion, redb's write
                   transaction), durable (fsynced) for every engine
                   *_merged: the buffered loop again timed until the engine has also done
                   the work it deferred (a memtable merge or flush; nothing for LMDB, redb)
                   txn_rmw, txn_rmw_2threads: read-modify-write transactions (read a random
                   loaded key, bump a counter in its value, write it back, commit) on 1 or 2
                   threads, with buffered commits (no fsync), like write_buffered; a commit
                   that conflicts is counted and not retried; ops/sec counts commits, and the
                   conflict rate (failed / attempted commits) is shown below the table
  --dir PATH       where to create the run's scratch directory, removed at the end
                   (default: ./target if it exists, else the system temp directory)";

struct Args {
    n: u64,
    value_size: usize,
    values: values::ValueKind,
    compression: String,
    encryption: String,
    runs: u32,
    engines: Vec<EngineKind>,
    workloads: Vec<Workload>,
    dir: Option<PathBuf>,
    /// Internal (`--child`): run the engines in this process, in `dir` itself, and print one
    /// record line per workload for the parent.
    child: bool,
}

fn parse_list<T: Copy + PartialEq>(
    flag: &str,
    value: &str,
    all: &[T],
    from_name: fn(&str) -> Option<T>,
) -> Result<Vec<T>, String> {
    let mut wanted = Vec::new();
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = from_name(name).ok_or_else(|| format!("{flag}: unknown name {name:?}"))?;
        if !wanted.contains(&item) {
            wanted.push(item);
        }
    }
    if wanted.is_empty() {
        return Err(format!("{flag}: empty list"));
    }
    // Keep the canonical order, whatever the order on the command line.
    Ok(all.iter().copied().filter(|x| wanted.contains(x)).collect())
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        n: 1_000_000,
        value_size: engines::DEFAULT_VALUE_SIZE,
        values: values::ValueKind::Random,
        compression: "none".to_string(),
        encryption: "none".to_string(),
        runs: 3,
        engines: EngineKind::ALL.to_vec(),
        workloads: Workload::ALL.to_vec(),
        dir: None,
        child: false,
    };
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        if flag == "--child" {
            args.child = true;
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => argv.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag.as_str() {
            "--n" => {
                args.n = value
                    .replace('_', "")
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| {
                        format!("--n: expected a positive whole number, got {value:?}")
                    })?;
            }
            "--value-size" => args.value_size = parse_value_size(&value)?,
            "--values" => {
                args.values = values::ValueKind::from_name(&value).ok_or_else(|| {
                    format!("--values: expected random, compressible or json, got {value:?}")
                })?;
            }
            "--compression" => {
                if !compression::NAMES.contains(&value.as_str()) {
                    return Err(format!(
                        "--compression: expected one of {}, got {value:?}",
                        compression::NAMES.join(", ")
                    ));
                }
                args.compression = value;
            }
            "--encryption" => {
                if !compression::CIPHERS.contains(&value.as_str()) {
                    return Err(format!(
                        "--encryption: expected one of {}, got {value:?}",
                        compression::CIPHERS.join(", ")
                    ));
                }
                args.encryption = value;
            }
            "--runs" => {
                args.runs = value.parse().ok().filter(|&r| r > 0).ok_or_else(|| {
                    format!("--runs: expected a positive whole number, got {value:?}")
                })?;
            }
            "--engines" => {
                args.engines = parse_list(&flag, &value, &EngineKind::ALL, EngineKind::from_name)?
            }
            "--workloads" => {
                args.workloads = parse_list(&flag, &value, &Workload::ALL, Workload::from_name)?
            }
            "--dir" => args.dir = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(args)
}

/// `--value-size`: a whole number of bytes, or of KiB with the suffix `KiB` (or `K`).
fn parse_value_size(value: &str) -> Result<usize, String> {
    let text = value.replace('_', "");
    let (digits, unit) = match text.strip_suffix("KiB").or_else(|| text.strip_suffix('K')) {
        Some(digits) => (digits, 1024),
        None => (text.as_str(), 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|&n| (engines::MIN_VALUE_SIZE..=lightning_db::MAX_VALUE_SIZE).contains(&n))
        .ok_or_else(|| {
            format!(
                "--value-size: expected a size from {} bytes to 64 MiB, got {value:?}",
                engines::MIN_VALUE_SIZE
            )
        })
}

/// The first value of `field` in a `name : value` file such as /proc/cpuinfo.
fn proc_field(path: &str, field: &str) -> Option<String> {
    fs::read_to_string(path).ok()?.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == field).then(|| value.trim().to_string())
    })
}

/// The file system type and device of the mount that holds `path`.
fn file_system_of(path: &Path) -> Option<String> {
    let path = fs::canonicalize(path).ok()?;
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (device, mount_point, fs_type) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(mount_point)
                .then(|| (mount_point.len(), format!("{fs_type} on {device}")))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, description)| description)
}

fn print_machine(run_dir: &Path) {
    let cpu = proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let ram = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.1} GiB", kib as f64 / (1u64 << 20) as f64),
        );
    let fs_type = file_system_of(run_dir).unwrap_or_else(|| "unknown file system".into());
    println!("machine: {cpu}, {cores} cores, {ram} RAM");
    println!("data:    {} ({fs_type})", run_dir.display());
}

fn run_dir(parent: Option<PathBuf>) -> std::io::Result<PathBuf> {
    let parent = parent.unwrap_or_else(|| {
        let target = PathBuf::from("target");
        if target.is_dir() {
            target
        } else {
            std::env::temp_dir()
        }
    });
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = parent.join(format!("lightning-bench-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Transaction workloads: (failed commits, attempted commits) per (engine, workload).
type Conflicts = HashMap<(EngineKind, Workload), (u64, u64)>;

/// Whether `engine` is another engine than Lightning DB (`lightning-c` is Lightning DB too).
fn is_peer(engine: EngineKind) -> bool {
    !matches!(engine, EngineKind::Lightning | EngineKind::LightningC)
}

type Results = HashMap<(EngineKind, Workload), Option<f64>>;

fn print_table(args: &Args, results: &Results) {
    let with_ratio =
        args.engines.contains(&EngineKind::Lightning) && args.engines.iter().any(|&e| is_peer(e));
    let mut header = vec!["ops/sec".to_string()];
    header.extend(args.engines.iter().map(|e| e.name().to_string()));
    if with_ratio {
        header.push("lightning/best peer".into());
    }
    let mut rows = vec![header];
    for &w in &args.workloads {
        let mut row = vec![w.name().to_string()];
        for &e in &args.engines {
            row.push(match results.get(&(e, w)).copied().flatten() {
                Some(rate) => format_rate(rate),
                None => "failed".into(),
            });
        }
        if with_ratio {
            let ours = results.get(&(EngineKind::Lightning, w)).copied().flatten();
            let best_peer = args
                .engines
                .iter()
                .filter(|&&e| is_peer(e))
                .filter_map(|&e| results.get(&(e, w)).copied().flatten())
                .reduce(f64::max);
            row.push(match (ours, best_peer) {
                (Some(ours), Some(peer)) if peer > 0.0 => format!("{:.2}x", ours / peer),
                _ => "-".into(),
            });
        }
        rows.push(row);
    }
    print_grid(&rows);
}

/// The conflict rates of the transaction workloads that ran, if any: failed commits over
/// attempted commits, and the count of failed ones.
fn print_conflicts(args: &Args, conflicts: &Conflicts) {
    print_figures(args, "conflicts (failed / attempted commits)", |e, w| {
        conflicts
            .get(&(e, w))
            .map(|&(failed, attempted)| match failed {
                0 => "0".into(),
                _ => format!(
                    "{:.3}% ({failed})",
                    100.0 * failed as f64 / attempted.max(1) as f64
                ),
            })
    });
}

/// A table of one figure, a row per workload for which some engine has it, a column per
/// engine (`-` where it has none); nothing if no workload has it.
fn print_figures(args: &Args, title: &str, cell: impl Fn(EngineKind, Workload) -> Option<String>) {
    let rows_with_data: Vec<Workload> = args
        .workloads
        .iter()
        .copied()
        .filter(|&w| args.engines.iter().any(|&e| cell(e, w).is_some()))
        .collect();
    if rows_with_data.is_empty() {
        return;
    }
    let mut header = vec![title.to_string()];
    header.extend(args.engines.iter().map(|e| e.name().to_string()));
    let mut rows = vec![header];
    for w in rows_with_data {
        let mut row = vec![w.name().to_string()];
        for &e in &args.engines {
            row.push(cell(e, w).unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
    }
    println!();
    print_grid(&rows);
}

/// The workloads whose C ABI overhead is reported: point reads and single puts.
const C_ABI_WORKLOADS: [Workload; 4] = [
    Workload::ReadRandom,
    Workload::ReadRandom2Threads,
    Workload::WriteBuffered,
    Workload::WriteSync,
];

/// `lightning-c / lightning` for the reads and single puts, when both engines ran: the ratio of
/// their rates, and the extra time per operation through the C ABI (the inverse ratio minus
/// one), e.g. `C ABI overhead: read_random 1.2% slower (lightning-c / lightning = 0.988)`.
fn print_c_abi_overhead(args: &Args, results: &Results) {
    if !args.engines.contains(&EngineKind::Lightning)
        || !args.engines.contains(&EngineKind::LightningC)
    {
        return;
    }
    let workloads: Vec<Workload> = C_ABI_WORKLOADS
        .into_iter()
        .filter(|w| args.workloads.contains(w))
        .collect();
    if workloads.is_empty() {
        return;
    }
    println!();
    let width = workloads.iter().map(|w| w.name().len()).max().unwrap_or(0);
    for w in workloads {
        let rust = results.get(&(EngineKind::Lightning, w)).copied().flatten();
        let c = results.get(&(EngineKind::LightningC, w)).copied().flatten();
        let text = match (c, rust) {
            (Some(c), Some(rust)) if c > 0.0 && rust > 0.0 => {
                let ratio = c / rust;
                let extra = 100.0 * (1.0 / ratio - 1.0);
                let verdict = if extra >= 0.0 {
                    format!("{extra:.1}% slower")
                } else {
                    format!("{:.1}% faster", -extra)
                };
                format!("{verdict} (lightning-c / lightning = {ratio:.3})")
            }
            _ => "- (a run failed)".into(),
        };
        println!("C ABI overhead: {:<width$} {text}", w.name());
    }
}

/// Prints `rows` as a table: the first row is the header, the first column left-aligned.
fn print_grid(rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &w))| {
                if c == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        println!("{}", cells.join("  "));
        if i == 0 {
            let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            println!("{}", "-".repeat(total));
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `--child`: runs each engine of `args` in this process, in `args.dir`, and prints a record
/// line per workload (progress goes to stderr).
fn run_as_child(args: &Args) -> ExitCode {
    let Some(dir) = args.dir.as_deref() else {
        eprintln!("error: --child needs --dir");
        return ExitCode::from(2);
    };
    let mut failed = false;
    for &engine in &args.engines {
        let engine_started = Instant::now();
        workloads::run_engine(engine, &args.workloads, args.n, dir, &mut |w, outcome| {
            match &outcome {
                Ok(m) => eprintln!(
                    "[{engine}] {}: {} ops in {:.2} s = {} ops/s{}",
                    w.name(),
                    m.ops,
                    m.elapsed.as_secs_f64(),
                    format_rate(m.ops_per_sec()),
                    m.note
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
                Err(e) => {
                    failed = true;
                    eprintln!("[{engine}] {}: FAILED: {e}", w.name());
                }
            }
            println!("{}", rounds::Record::of(engine, w, &outcome).encode());
        });
        let _ = fs::remove_dir_all(dir);
        eprintln!(
            "[{engine}] done in {:.1} s",
            engine_started.elapsed().as_secs_f64()
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One JSON line of an (engine, workload)'s medians.
fn print_json_line(engine: EngineKind, w: Workload, s: &rounds::Summary) {
    let mut line = format!(
        "{{\"engine\": \"{}\", \"workload\": \"{}\", \"rounds\": {}",
        engine.name(),
        w.name(),
        s.rounds
    );
    match s.rate {
        Some(rate) => line.push_str(&format!(", \"ops_per_sec\": {rate:.1}")),
        None => line.push_str(&format!(
            ", \"ops_per_sec\": null, \"error\": {}",
            json_string(s.error.as_deref().unwrap_or("failed"))
        )),
    }
    if let Some(rss) = s.peak_rss {
        line.push_str(&format!(", \"peak_rss_anon_bytes\": {rss}"));
    }
    if let Some(d) = s.disk_per_key {
        line.push_str(&format!(", \"disk_bytes_per_key\": {d:.1}"));
    }
    if let Some((failed, attempted)) = s.conflicts {
        let rate = failed as f64 / attempted.max(1) as f64;
        line.push_str(&format!(
            ", \"conflicts\": {failed}, \"conflict_rate\": {rate:.6}"
        ));
    }
    line.push('}');
    println!("{line}");
}

/// The peak anonymous memory (MiB) and bytes on disk per key of each (workload, engine).
fn print_resources(args: &Args, summaries: &HashMap<(EngineKind, Workload), rounds::Summary>) {
    print_figures(args, "peak anon RSS, MiB", |e, w| {
        let bytes = summaries.get(&(e, w))?.peak_rss?;
        Some(format!("{:.0}", bytes as f64 / (1u64 << 20) as f64))
    });
    print_figures(args, "disk bytes per key (after close)", |e, w| {
        Some(format!("{:.0}", summaries.get(&(e, w))?.disk_per_key?))
    });
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    engines::set_value_size(args.value_size);
    values::set_kind(args.values);
    compression::set(&args.compression);
    compression::set_cipher(&args.encryption);
    if args.child {
        return run_as_child(&args);
    }
    let dir = match run_dir(args.dir.clone()) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: cannot create the scratch directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_machine(&dir);
    println!(
        "n = {} keys of 16 bytes, values of {} bytes ({}); compression {}; encryption {}; engines: {}",
        args.n,
        args.value_size,
        args.values.name(),
        args.compression,
        args.encryption,
        args.engines
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();

    let started = Instant::now();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot find this program's path to run the engines: {e}");
            return ExitCode::FAILURE;
        }
    };
    let workload_list = args
        .workloads
        .iter()
        .map(|w| w.name())
        .collect::<Vec<_>>()
        .join(",");
    let records = rounds::run_rounds(args.runs, &args.engines, &args.workloads, |engine| {
        let mut command = Command::new(&exe);
        command
            .arg("--child")
            .args(["--n", &args.n.to_string()])
            .args(["--value-size", &args.value_size.to_string()])
            .args(["--values", args.values.name()])
            .args(["--compression", &args.compression])
            .args(["--encryption", &args.encryption])
            .args(["--engines", engine.name()])
            .args(["--workloads", &workload_list])
            .arg("--dir")
            .arg(dir.join(engine.name()));
        command
    });
    let summaries = rounds::summarize(&records);
    let mut results = Results::new();
    let mut conflicts = Conflicts::new();
    for &engine in &args.engines {
        for &w in &args.workloads {
            let Some(s) = summaries.get(&(engine, w)) else {
                continue;
            };
            results.insert((engine, w), s.rate);
            if let Some(c) = s.conflicts {
                conflicts.insert((engine, w), c);
            }
            print_json_line(engine, w, s);
        }
    }
    if let Err(e) = fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }

    println!();
    println!(
        "medians of {} round{} (engines in alternating order, each in a process of its own)",
        args.runs,
        if args.runs == 1 { "" } else { "s" }
    );
    println!();
    print_table(&args, &results);
    print_resources(&args, &summaries);
    print_conflicts(&args, &conflicts);
    print_c_abi_overhead(&args, &results);
    println!();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
    if results.values().any(Option::is_none) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Args, String> {
        parse_args(line.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_flags_and_filters() {
        let a = args("--n 1_000 --engines fjall,lmdb --workloads=scan,bulk_load --dir /x").unwrap();
        assert_eq!(a.n, 1000);
        assert_eq!(a.engines, vec![EngineKind::Lmdb, EngineKind::Fjall]);
        assert_eq!(a.workloads, vec![Workload::BulkLoad, Workload::Scan]);
        assert_eq!(a.dir, Some(PathBuf::from("/x")));
        let a = args("").unwrap();
        assert_eq!((a.n, a.runs, a.child), (1_000_000, 3, false));
        assert_eq!(a.engines.len(), 5);
        let a = args("--engines lmdb,lightning-c,lightning").unwrap();
        assert_eq!(
            a.engines,
            vec![
                EngineKind::Lightning,
                EngineKind::LightningC,
                EngineKind::Lmdb
            ]
        );
        assert_eq!(a.workloads.len(), 18);
        assert_eq!(args("--value-size 64KiB").unwrap().value_size, 65536);
        assert_eq!(args("--value-size 1_024").unwrap().value_size, 1024);
        assert_eq!(args("").unwrap().value_size, 100);
        assert_eq!(args("").unwrap().values, values::ValueKind::Random);
        assert_eq!(
            args("--values json").unwrap().values,
            values::ValueKind::Json
        );
        assert!(args("--values zeros").is_err());
        let a = args("--runs 5 --child --dir /d").unwrap();
        assert_eq!((a.runs, a.child), (5, true));
        let a = args("--workloads txn_rmw_2threads,txn_rmw,read_random").unwrap();
        assert_eq!(
            a.workloads,
            vec![
                Workload::ReadRandom,
                Workload::TxnRmw,
                Workload::TxnRmw2Threads
            ]
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(args("--n 0").is_err());
        assert!(args("--runs 0").is_err());
        assert!(args("--value-size 7").is_err());
        assert!(args("--value-size 65MiB").is_err());
        assert!(args("--n").is_err());
        assert!(args("--engines rocksdb").is_err());
        assert!(args("--workloads ,").is_err());
        assert!(args("--frobnicate 1").is_err());
    }
}
