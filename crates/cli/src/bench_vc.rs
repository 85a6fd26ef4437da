//! `bench vc`: W3C Verifiable Credentials issued and verified per second with each
//! cryptosuite, on one core and on every core, and the time to regenerate and sign a status
//! list for a ledger of 10⁶ credentials (docs/benchmarks.md, "VC export").
//!
//! The credentials are what `vc issue` makes: realistic field values (a CJK occupation and
//! body name, a checkpoint note in the evidence), each with its own certificate number,
//! subject and entry index. The status list run reads the set bits from a sled tree of the
//! projections' own `x` key layout (one key per revoked credential), then builds the
//! bitstring, compresses it, and signs the list credential with eddsa-rdfc-2022, as
//! `GET /v1/vc/status/{list}` does when a revocation landed.

use std::time::Instant;

use anyhow::{anyhow, Context};
use clap::Args;
use ed25519_dalek::SigningKey;
use serde_json::json;
use skill_ledger_vc::{
    ControllerDocument, CredentialSubject, IssuingBody, LedgerEvidence, SkillCredential,
    StatusEntry, StatusList, Suite,
};

use crate::CliResult;

#[derive(Args)]
pub struct VcArgs {
    /// VCs issued per suite and thread count (verification runs a quarter as many).
    #[arg(long, default_value_t = 20_000)]
    pub credentials: u64,
    /// Credentials of the ledger whose status list is regenerated.
    #[arg(long, default_value_t = 1_000_000)]
    pub ledger_credentials: u64,
    /// Share of those credentials revoked (bits set), 0 to 1.
    #[arg(long, default_value_t = 0.01)]
    pub revoked_share: f64,
}

const CONTROLLER: &str = "https://zscx.example.cn/v1/vc/issuer";

fn credential(i: u64) -> SkillCredential {
    let number = format!("S000050010100{:02}{}{:06}", 24, 3 + (i % 3), i % 1_000_000);
    SkillCredential {
        id: format!("https://zscx.example.cn/v1/credentials/{number}/vc"),
        issuer: CONTROLLER.to_string(),
        valid_from: "2024-06-30T00:00:00+08:00".to_string(),
        subject: CredentialSubject {
            id: format!("urn:skill-ledger:subject:{:064x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15),
            name_commitment: format!("{:064x}", u128::from(i) * 0x2545_f491_4f6c_dd1d + 1),
            certificate_number: number,
            occupation_code: "6-31-01-03".to_string(),
            occupation_name: "电工".to_string(),
            work_type: i.is_multiple_of(2).then(|| "维修电工".to_string()),
            skill_level: "高级工".to_string(),
            national_level: Some("三级".to_string()),
            level_rank: 4,
            route: "evaluation".to_string(),
            issuing_body: IssuingBody {
                registration_number: "S000050010100".to_string(),
                name: "重庆市第一职业技能等级认定中心".to_string(),
            },
            issue_date: "2024-06-30".to_string(),
            recognised: None,
        },
        status: Some(StatusEntry {
            list_url: "https://zscx.example.cn/v1/vc/status/0".to_string(),
            index: i % StatusList::BITS,
        }),
        evidence: vec![LedgerEvidence {
            origin: "skill-ledger/50".to_string(),
            entry_index: i,
            leaf_hash: format!("{:064x}", u128::from(i) + 7),
            tree_size: 1_000_000,
            root_hash: format!("{:064x}", 42u128),
            checkpoint: "skill-ledger/50\n1000000\nq5Kx3k9xj1WzI4nYw0d1pG7p3n8r5f9aX1vQ2b6cT0A=\n\n— skill-ledger/50 AbCdEfGh1234567890abcdefghijklmnopqrstuvwxyzAB==\n".to_string(),
        }],
    }
}

/// Runs `work(i)` for `i` in `0..count` on `threads` threads; returns the seconds taken.
fn timed<F>(count: u64, threads: u64, work: F) -> anyhow::Result<f64>
where
    F: Fn(u64) -> anyhow::Result<()> + Sync,
{
    let start = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let work = &work;
                scope.spawn(move || {
                    let from = count * t / threads;
                    let to = count * (t + 1) / threads;
                    (from..to).try_for_each(work)
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|handle| handle.join().map_err(|_| anyhow!("a worker panicked"))?)
    })?;
    Ok(start.elapsed().as_secs_f64())
}

pub fn run(args: VcArgs, json: bool) -> CliResult {
    if args.credentials == 0 || args.credentials > 10_000_000 {
        return Err(anyhow!("--credentials must be between 1 and 10000000").into());
    }
    if !(0.0..=1.0).contains(&args.revoked_share) {
        return Err(anyhow!("--revoked-share must be between 0 and 1").into());
    }
    if args.ledger_credentials == 0 || args.ledger_credentials > StatusList::BITS * 64 {
        return Err(anyhow!(
            "--ledger-credentials must be between 1 and {}",
            StatusList::BITS * 64
        )
        .into());
    }
    let key = SigningKey::from_bytes(&[7; 32]);
    let controller = ControllerDocument {
        id: CONTROLLER.to_string(),
        keys: vec![key.verifying_key()],
    };
    let method = controller.method_id(&key.verifying_key());
    let created = "2026-12-07T10:00:00Z";
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let mut suites = Vec::new();
    for suite in [Suite::EddsaRdfc2022, Suite::EddsaJcs2022] {
        let issue = |i: u64| -> anyhow::Result<()> {
            skill_ledger_vc::issue(&credential(i), suite, &key, &method, created)?;
            Ok(())
        };
        let one_core = timed(args.credentials, 1, issue)?;
        let all_cores = timed(args.credentials, cores, issue)?;
        // Verification: the general path (JSON-LD expansion of whatever arrives).
        let verify_count = (args.credentials / 4).max(1);
        let signed: Vec<serde_json::Value> = (0..verify_count.min(1_000))
            .map(|i| skill_ledger_vc::issue(&credential(i), suite, &key, &method, created))
            .collect::<Result<_, _>>()?;
        let verify = |i: u64| -> anyhow::Result<()> {
            let document = &signed[(i % signed.len() as u64) as usize];
            skill_ledger_vc::verify_credential(document, &controller, None)?;
            Ok(())
        };
        let verify_one = timed(verify_count, 1, verify)?;
        let verify_all = timed(verify_count, cores, verify)?;
        let bytes = serde_json::to_vec(&signed[0]).map(|b| b.len()).unwrap_or(0);
        suites.push(json!({
            "suite": suite.as_str(),
            "vc_bytes": bytes,
            "issued": args.credentials,
            "issue_per_s_one_core": args.credentials as f64 / one_core,
            "issue_per_s_all_cores": args.credentials as f64 / all_cores,
            "verified": verify_count,
            "verify_per_s_one_core": verify_count as f64 / verify_one,
            "verify_per_s_all_cores": verify_count as f64 / verify_all,
        }));
    }
    let status = status_list_rebuild(&args, &key, &method)?;
    let value = json!({
        "benchmark": "vc",
        "cores": cores,
        "suites": suites,
        "status_list": status,
        "targets": {
            "issue_per_s_per_core_rdfc": 5_000,
            "issue_per_s_per_core_jcs": 20_000,
            "status_list_seconds_at_1e6": 1.0,
        },
        "peak_rss_mb": crate::bench::peak_rss_mb(),
    });
    crate::output::print_report(&value, json);
    Ok(())
}

/// Writes the set bits of a ledger of `ledger_credentials` credentials into a sled tree in
/// the projections' `x` layout, then times what a regeneration does: the range scans, the
/// bitstrings, their compression and the signatures of every list of the ledger.
fn status_list_rebuild(
    args: &VcArgs,
    key: &SigningKey,
    method: &str,
) -> anyhow::Result<serde_json::Value> {
    let temporary = tempfile::tempdir().context("creating a temporary directory")?;
    let db = sled::Config::new()
        .path(temporary.path().join("projection"))
        .open()
        .context("opening the sled tree")?;
    let tree = db.open_tree("projection")?;
    let every = if args.revoked_share <= 0.0 {
        u64::MAX
    } else {
        (1.0 / args.revoked_share).round().max(1.0) as u64
    };
    let mut batch = sled::Batch::default();
    let mut set_total = 0u64;
    for index in (0..args.ledger_credentials).filter(|i| i % every == 0) {
        let mut k = [b'x'; 9];
        k[1..].copy_from_slice(&index.to_be_bytes());
        batch.insert(&k[..], &[] as &[u8]);
        set_total += 1;
    }
    tree.apply_batch(batch)?;
    db.flush()?;
    let lists = args.ledger_credentials.div_ceil(StatusList::BITS);
    let start = Instant::now();
    let mut encoded_bytes = 0;
    for list in 0..lists {
        let from = list * StatusList::BITS;
        let mut low = [b'x'; 9];
        low[1..].copy_from_slice(&from.to_be_bytes());
        let mut high = [b'x'; 9];
        high[1..].copy_from_slice(&(from + StatusList::BITS).to_be_bytes());
        let mut bits = StatusList::new();
        for item in tree.range(low..high) {
            let (k, _) = item?;
            let index = u64::from_be_bytes(
                k.get(1..9)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .ok_or_else(|| anyhow!("a damaged key"))?,
            );
            bits.set(index - from)?;
        }
        let url = format!("https://zscx.example.cn/v1/vc/status/{list}");
        let unsecured = skill_ledger_vc::status_list_credential(
            &url,
            CONTROLLER,
            "2026-12-07T10:00:00Z",
            &bits,
        );
        let signed = skill_ledger_vc::sign_document(
            &unsecured,
            Suite::EddsaRdfc2022,
            key,
            method,
            "2026-12-07T10:00:00Z",
        )?;
        encoded_bytes += serde_json::to_vec(&signed)?.len();
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(json!({
        "ledger_credentials": args.ledger_credentials,
        "bits_set": set_total,
        "lists": lists,
        "seconds": seconds,
        "signed_bytes": encoded_bytes,
    }))
}
