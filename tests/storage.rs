//! Storage damage through the binary: `skill-ledger serve` on a ledger whose projection
//! database (sled, under `projections/`) was damaged while it was down.
//!
//! sled opens some damaged files without an error, recovering an earlier state (an emptied
//! or cut file), and refuses others. Either way the node must notice at start-up, say so in
//! its log, rebuild the projections from the log of record, and then answer exactly as before:
//! every acknowledged certificate at the index its answer gave, the same statistics, the same
//! tree. (Disk-full and failing-disk faults need the test-only fault layer:
//! `crates/node/tests/storage_faults.rs`, `crates/server/tests/storage_faults.rs`.)

mod support;

use std::path::Path;

use serde_json::Value;
use support::{certificate, certification, get, given_ledger_with_a_body, serve_with, submit};

const CERTIFICATIONS: u64 = 300;

/// Most bytes of `db` a cut leaves: less than the projections of [`CERTIFICATIONS`] take.
const CUT_TO_BYTES_MAX: usize = 4_096;

/// How the projection database is damaged while the server is down.
#[derive(Clone, Copy, Debug)]
enum Damage {
    /// After a clean shutdown, `db` cut to a third of its length and to at most 4 KiB: sled
    /// opens what is left without an error. (A third alone was not always a loss: sled may
    /// have grown the file to a megabyte or more with every live page in its first third.)
    CutAfterCleanShutdown,
    /// After SIGKILL, every sled file overwritten with garbage of the same length.
    GarbageAfterKill,
}

fn sled_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the projections directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn damage(projections: &Path, damage: Damage) {
    for path in sled_files(projections) {
        let bytes = std::fs::read(&path).expect("read a sled file");
        let damaged: Vec<u8> = match damage {
            Damage::CutAfterCleanShutdown if path.ends_with("db") => {
                bytes[..(bytes.len() / 3).min(CUT_TO_BYTES_MAX)].to_vec()
            }
            Damage::CutAfterCleanShutdown => continue,
            Damage::GarbageAfterKill => (0..bytes.len())
                .map(|k| (k as u8).wrapping_mul(151).wrapping_add(7))
                .collect(),
        };
        std::fs::write(&path, damaged).expect("damage a sled file");
    }
}

fn given_damaged_projections_when_served_then_they_are_rebuilt_and_nothing_is_lost(how: Damage) {
    let ledger = given_ledger_with_a_body();
    let stderr = ledger.temp.path().join("serve.stderr");
    let served = serve_with(&ledger.dir, &[], &stderr);
    let mut acknowledged = Vec::new();
    for n in 0..CERTIFICATIONS {
        let reply = submit(&served.address, &certification(&ledger.body_key, n));
        assert_eq!(reply.status, 200, "{}", reply.text());
        acknowledged.push((n, reply.json()["index"].as_u64().expect("index")));
    }
    let stats: Value = get(&served.address, "/v1/stats").json();
    let tree_size = get(&served.address, "/healthz").json()["tree_size"].clone();
    match how {
        Damage::CutAfterCleanShutdown => {
            assert!(served.terminate().success(), "a clean shutdown");
            assert!(
                ledger.dir.join("projections.flushed").exists(),
                "the clean shutdown records the flushed cursor"
            );
        }
        Damage::GarbageAfterKill => served.kill(),
    }

    damage(&ledger.dir.join("projections"), how);

    let stderr = ledger.temp.path().join("serve-again.stderr");
    let served = serve_with(&ledger.dir, &[], &stderr);
    let log = std::fs::read_to_string(&stderr).expect("serve's log");
    assert!(
        log.contains("projection database damaged") && log.contains("rebuilding"),
        "{how:?}: the rebuild is logged, with why:\n{log}"
    );
    let health = get(&served.address, "/healthz").json();
    assert_eq!(
        (&health["status"], &health["tree_size"]),
        (&"ok".into(), &tree_size),
        "{health}"
    );
    assert_eq!(get(&served.address, "/v1/stats").json(), stats, "{how:?}");
    for (n, index) in acknowledged {
        let reply = get(
            &served.address,
            &format!("/v1/credentials/{}", certificate(n)),
        );
        assert_eq!(reply.status, 200, "{how:?}: {}", reply.text());
        assert_eq!(
            reply.json()["entry_index"],
            index,
            "{how:?}: certification {n}"
        );
    }
    // And the node goes on accepting.
    let reply = submit(
        &served.address,
        &certification(&ledger.body_key, CERTIFICATIONS),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn given_a_projection_database_cut_short_after_a_clean_shutdown_when_served_then_it_is_rebuilt() {
    given_damaged_projections_when_served_then_they_are_rebuilt_and_nothing_is_lost(
        Damage::CutAfterCleanShutdown,
    );
}

#[test]
fn given_a_projection_database_of_garbage_after_a_crash_when_served_then_it_is_rebuilt() {
    given_damaged_projections_when_served_then_they_are_rebuilt_and_nothing_is_lost(
        Damage::GarbageAfterKill,
    );
}
