//! Replays the fuzz corpus kept in the repository (`fuzz/corpus/<target>/`) through the
//! targets' properties: every input a fuzzer kept, and every crash it found (saved there as
//! `crash-*`), is a regression test of a normal `cargo test`.
//!
//! The seeds (`seed-*`) are built from the fixtures ([`skill_ledger_hostile::seeds`]); when a
//! format changes on purpose, rewrite them with
//! `SKILL_LEDGER_WRITE_SEEDS=1 cargo test -p skill-ledger-hostile --test corpus`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use skill_ledger_hostile::{seeds, TARGETS};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// Files of a directory, sorted (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `dir` through the target; returns the failures.
fn replay(dir: &Path, run: fn(&[u8])) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let files = files(dir);
    for path in &files {
        let bytes = std::fs::read(path).expect("corpus file");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&bytes))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", path.display()));
        }
    }
    (files.len(), failures)
}

#[test]
fn seeds_are_current() {
    let write = std::env::var_os("SKILL_LEDGER_WRITE_SEEDS").is_some();
    let mut stale = Vec::new();
    for seed in seeds::all() {
        let dir = corpus_dir().join(seed.target);
        let path = dir.join(format!("seed-{}", seed.name));
        if write {
            std::fs::create_dir_all(&dir).expect("corpus directory");
            std::fs::write(&path, &seed.bytes).expect("write seed");
        } else if std::fs::read(&path).ok().as_deref() != Some(seed.bytes.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "seed files missing or stale (rewrite with SKILL_LEDGER_WRITE_SEEDS=1):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus_and_replays_it() {
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for target in TARGETS {
        let (count, failed) = replay(&corpus_dir().join(target.name), target.run);
        assert!(count > 0, "fuzz/corpus/{} is empty", target.name);
        report.push(format!("{} {count}", target.name));
        failures.extend(failed);
    }
    println!("replayed: {}", report.join(", "));
    assert!(
        failures.is_empty(),
        "corpus inputs failing:\n{}",
        failures.join("\n")
    );
}

/// The seeds start the fuzzer deep: valid entries, accepted events, a verifying bundle, a
/// cosignable checkpoint, an accepted submission. (If a fixture drifts, the fuzzer would
/// still run, but only on the shallow paths; this says so.)
#[test]
fn seeds_reach_what_they_are_for() {
    use skill_ledger_domain::{decide, SignedEvent};
    use skill_ledger_hostile::fixture;

    let ledger = fixture::ledger();
    for signed in fixture::next_events() {
        let entry = signed.to_entry().expect("entry");
        let decoded = SignedEvent::from_entry(&entry).expect("decodes");
        assert!(decoded.verify_signature(fixture::ORIGIN));
        decide(&ledger.registry, ledger, &decoded).expect("the fixture ledger accepts it");
    }
    skill_ledger_node::verify_credential_bundle(
        &fixture::credential_bundle(),
        fixture::verifier_key(),
    )
    .expect("the fixture bundle verifies");
    let tree = fixture::signed_tree();
    skill_ledger_log::parse_and_verify_checkpoint(&tree.note, fixture::verifier_key())
        .expect("the fixture note verifies");
    let witness = fixture::witness();
    let request = format!("old 0\n\n{}", tree.note);
    let answer = {
        let _guard = witness.lock.lock().expect("witness lock");
        let _ = std::fs::remove_dir_all(witness.home.path().join("witness"));
        witness
            .witness
            .add_checkpoint(request.as_bytes(), 1_750_000_010)
    };
    assert_eq!(answer.status(), 200, "{answer:?}");

    skill_ledger_hostile::targets::mirror(&[255, 0, 0]);
    assert!(
        skill_ledger_hostile::targets::last_mirror_pull_complete(),
        "an unaltered partner log is mirrored completely"
    );
    skill_ledger_hostile::targets::mirror(&[1, 0, 40, 0x5a]);
    assert!(
        !skill_ledger_hostile::targets::last_mirror_pull_complete(),
        "an altered hash tile is refused"
    );

    // The corpus replay may submit the same seed in this process first: either way, the
    // credential is on the served ledger afterwards.
    let submit = std::fs::read(corpus_dir().join("api_json/seed-submit-credential")).expect("seed");
    skill_ledger_hostile::targets::api_json(&submit);
    let number = fixture::junior_welder(3, "王五", "2024-07-02").certificate_number;
    let held = fixture::served()
        .node
        .credential(&number)
        .expect("a projection read");
    assert!(
        held.is_some(),
        "the submission seed is accepted by the served ledger"
    );
}
