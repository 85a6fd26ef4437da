//! `skill-ledger bench proofs`: inclusion-proof generation at a large tree size, and the time
//! to verify one offline credential bundle.
//!
//! The tree is built straight through the log crate's `MerkleTree` from synthetic leaves
//! (leaf `i` is the hash of `i` as u64 LE): what is measured is proof generation, not ingest.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use ed25519_dalek::SigningKey;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use skill_ledger_domain::{
    Audience, BodyRegistered, CertificateNumber, Date, EvaluationBasis, Event, EventId, EventKind,
    Level, LevelCertified, NameCommitment, Route, ScopeItem, SignedEvent, Signer, SubjectId,
};
use skill_ledger_log::{leaf_hash, Hash, MerkleTree, TreeReader};
use skill_ledger_node::{verify_credential_bundle, InitOptions, Node};

use crate::CliResult;

/// Leaves appended per `MerkleTree::append` while building.
const BUILD_BATCH_LEAVES: u64 = 1 << 16;
/// Bundle verifications timed for the median.
const BUNDLE_VERIFY_RUNS: usize = 2_000;

/// splitmix64: a fast, seedable generator for random leaf indexes.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0), by multiply-shift.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(bound)) >> 64) as u64
    }
}

fn synthetic_leaf(i: u64) -> Hash {
    leaf_hash(&i.to_le_bytes())
}

/// Opens the tree in `dir` and brings it to exactly `entries` synthetic leaves. Returns the
/// tree and the seconds spent building (`None` if it was reused as it was).
fn build_tree(
    dir: &std::path::Path,
    entries: u64,
) -> Result<(MerkleTree, Option<f64>), anyhow::Error> {
    let mut tree = MerkleTree::open(dir)?;
    if tree.size() == entries {
        return Ok((tree, None));
    }
    let started = Instant::now();
    if tree.size() > entries {
        tree.truncate_to(entries)?;
    }
    let bar = ProgressBar::new(entries);
    bar.set_style(
        ProgressStyle::with_template("building tree [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_position(tree.size());
    let mut batch = Vec::with_capacity(BUILD_BATCH_LEAVES as usize);
    while tree.size() < entries {
        let start = tree.size();
        let end = (start + BUILD_BATCH_LEAVES).min(entries);
        batch.clear();
        batch.extend((start..end).map(synthetic_leaf));
        tree.append(&batch)?;
        bar.set_position(end);
    }
    tree.sync()?;
    bar.finish_and_clear();
    Ok((tree, Some(started.elapsed().as_secs_f64())))
}

/// Generates inclusion proofs of random leaves in the full tree for `seconds`, on this thread.
fn generate_proofs(reader: &TreeReader, seconds: f64) -> Result<(u64, f64, usize), anyhow::Error> {
    let size = reader.size();
    let mut random = SplitMix64(0x005e_ed0f_b0de);
    let deadline = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut proofs = 0u64;
    let mut hashes_total = 0usize;
    loop {
        for _ in 0..256 {
            let proof = reader.inclusion_proof(random.below(size), size)?;
            hashes_total += proof.len();
            proofs += 1;
        }
        if started.elapsed() >= deadline {
            break;
        }
    }
    Ok((proofs, started.elapsed().as_secs_f64(), hashes_total))
}

fn day(year: i32, month: u8, day: u8) -> Date {
    Date::from_ymd(year, month, day).unwrap_or_else(|| unreachable!("valid date"))
}

/// A small real ledger (established, catalogue, policy, one body, one credential) and the
/// credential's bundle with the ledger's verifier key.
fn small_ledger_bundle(root: &std::path::Path) -> Result<(String, String), anyhow::Error> {
    let node = Node::init(
        &root.join("ledger"),
        InitOptions::chongqing().importing_history(),
    )?;
    let number: skill_ledger_domain::RegistrationNumber = "S000050000901".parse()?;
    let key = SigningKey::from_bytes(&[0x5b; 32]);
    node.submit(
        node.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
            registration_number: number,
            name: "基准测试评价机构".to_string(),
            public_key: key.verifying_key().to_bytes(),
            valid_from: day(2019, 1, 1),
            valid_until: day(2030, 12, 31),
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: "6-18-01-01".parse()?,
                level_max: Level::Senior,
            }],
            direct_recognition: false,
            date: day(2019, 1, 1),
        })),
    )?;
    let certificate_number = CertificateNumber::compose(number, 2020, Level::Junior, 1)
        .ok_or_else(|| anyhow!("certificate number"))?;
    node.submit(SignedEvent::sign(
        node.origin(),
        Signer::Body(number),
        &key,
        Event {
            id: EventId([0x5b; 16]),
            kind: EventKind::LevelCertified(LevelCertified {
                certificate_number,
                subject: SubjectId([0x5b; 32]),
                name_commitment: NameCommitment([0x5c; 32]),
                occupation: "6-18-01-01".parse()?,
                work_type: None,
                level: Level::Junior,
                issued: day(2020, 6, 1),
                route: Route::Evaluation(EvaluationBasis::Attested {
                    statement: "本职业工作满1年".to_string(),
                }),
            }),
        },
    ))?;
    let bundle = node
        .credential_bundle(&certificate_number)?
        .ok_or_else(|| anyhow!("the benchmark credential has no bundle"))?;
    let vkey = node.verifier_key_text().to_string();
    node.close()?;
    Ok((bundle, vkey))
}

/// Median and 99th percentile of `runs` verifications of the bundle, in microseconds.
fn time_bundle_verification(bundle: &str, vkey: &str) -> Result<(f64, f64), anyhow::Error> {
    let mut micros = Vec::with_capacity(BUNDLE_VERIFY_RUNS);
    for _ in 0..BUNDLE_VERIFY_RUNS {
        let started = Instant::now();
        let verified = verify_credential_bundle(bundle, vkey);
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        verified.map_err(|error| anyhow!("the benchmark bundle does not verify: {error}"))?;
    }
    micros.sort_by(f64::total_cmp);
    Ok((micros[micros.len() / 2], micros[micros.len() * 99 / 100]))
}

pub fn proofs(entries: u64, dir: Option<PathBuf>, seconds: f64, json: bool) -> CliResult {
    if entries == 0 || entries > 1_000_000_000 {
        return Err(anyhow!("--entries must be between 1 and 1000000000").into());
    }
    if !(0.1..=3600.0).contains(&seconds) {
        return Err(anyhow!("--seconds must be between 0.1 and 3600").into());
    }
    let temporary = tempfile::tempdir().context("creating a temporary directory")?;
    let tree_dir = dir.unwrap_or_else(|| temporary.path().join("tree"));
    let (tree, build_seconds) = build_tree(&tree_dir, entries)?;
    let reader = tree.reader();
    let (proofs, proof_seconds, hashes_total) = generate_proofs(&reader, seconds)?;
    let (bundle, vkey) = small_ledger_bundle(temporary.path())?;
    let (verify_median_us, verify_p99_us) = time_bundle_verification(&bundle, &vkey)?;
    let machine = crate::bench::MachineLimits::measure(temporary.path())?;
    let value = json!({
        "benchmark": "proofs",
        "entries": entries,
        "build_seconds": build_seconds,
        "tree_bytes": tlog_hash_bytes(entries),
        "threads": 1,
        "proofs": proofs,
        "seconds": proof_seconds,
        "proofs_per_s": proofs as f64 / proof_seconds,
        "proof_hashes_mean": hashes_total as f64 / proofs as f64,
        "bundle_bytes": bundle.len(),
        "bundle_sections": bundle.lines().filter(|l| l.starts_with("section ")).count(),
        "bundle_verify_us": verify_median_us,
        "bundle_verify_p99_us": verify_p99_us,
        "peak_rss_mb": crate::bench::peak_rss_mb(),
        "machine_limits": machine.to_json(),
    });
    crate::output::print_report(&value, json);
    Ok(())
}

/// Bytes of the hashes file for a tree of `entries` leaves.
fn tlog_hash_bytes(entries: u64) -> u64 {
    // Each leaf stores its hash plus one per completed subtree: 2n - popcount(n) in total.
    (2 * entries - u64::from(entries.count_ones())) * skill_ledger_log::HASH_BYTES
}
