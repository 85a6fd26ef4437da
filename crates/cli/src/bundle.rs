//! `bundle` and `verify-bundle`: the offline credential bundle (format in docs/formats.md).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use serde_json::{json, Value};
use skill_ledger_domain::CertificateNumber;
use skill_ledger_node::{verify_credential_bundle, BundleVerification};

use crate::admin::open;
use crate::output::print_json;
use crate::{CliResult, DirArg, Failure};

/// What every offline verification must say: it cannot see what happened after its checkpoint.
pub const OFFLINE_NOTE: &str = "offline verification cannot see a revocation logged after this \
checkpoint: check the current status online (skill-ledger verify) when it matters";

#[derive(Args)]
pub struct BundleArgs {
    #[command(flatten)]
    pub dir: DirArg,
    pub cert_no: CertificateNumber,
    /// Write the bundle to FILE (default: print it on stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn bundle(args: BundleArgs, json: bool) -> CliResult {
    let node = open(&args.dir)?;
    let Some(text) = node.credential_bundle(&args.cert_no)? else {
        if json {
            print_json(&json!({"certificate_number": args.cert_no.as_str(), "status": "unknown"}));
        }
        return Err(Failure::refused(anyhow!(
            "credential {} is not on this ledger",
            args.cert_no
        )));
    };
    let checkpoint = node.checkpoint();
    node.close()?;
    let summary = json!({
        "certificate_number": args.cert_no.as_str(),
        "file": args.out,
        "bytes": text.len(),
        "sections": text.lines().filter(|line| line.starts_with("section ")).count(),
        "checkpoint": checkpoint.map(|signed| checkpoint_json(&signed.checkpoint)),
    });
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if json {
                print_json(&summary);
            } else {
                println!("wrote {} ({} bytes)", path.display(), text.len());
            }
        }
        None if json => {
            let mut value = summary;
            value["bundle"] = json!(text);
            print_json(&value);
        }
        None => print!("{text}"),
    }
    Ok(())
}

#[derive(Args)]
pub struct VerifyBundleArgs {
    /// The bundle file.
    pub file: PathBuf,
    /// The ledger's verifier key (as `skill-ledger checkpoint --vkey` prints it), or a file
    /// holding it.
    #[arg(long)]
    pub trust: String,
}

/// The verifier key text: the argument itself, or the contents of the file it names.
fn trusted_key(argument: &str) -> Result<String, Failure> {
    let path = Path::new(argument);
    let text = if path.is_file() {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .trim()
            .to_string()
    } else {
        argument.trim().to_string()
    };
    skill_ledger_log::parse_verifier_key_text(&text).map_err(|error| {
        anyhow!("--trust is neither a verifier key (name+id+key) nor a file holding one: {error}")
    })?;
    Ok(text)
}

fn checkpoint_json(checkpoint: &skill_ledger_log::Checkpoint) -> Value {
    let time_utc = i64::try_from(checkpoint.time_unix_s)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    json!({
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": base64::engine::general_purpose::STANDARD.encode(checkpoint.root),
        "time_unix_s": checkpoint.time_unix_s,
        "time_utc": time_utc,
    })
}

fn verification_json(verification: &BundleVerification) -> Value {
    let credential = &verification.credential.credential;
    let body = &verification.credential.body;
    json!({
        "valid": true,
        "status": "issued",
        "certificate_number": credential.certificate_number.as_str(),
        "level": credential.level.id(),
        "level_name": credential.level.certificate_label(),
        "occupation": credential.occupation.to_string(),
        "work_type": credential.work_type,
        "issued": credential.issued.to_string(),
        "route": credential.route.id(),
        "body": body.registration_number.as_str(),
        "body_name": body.name,
        "signer_key": hex::encode(verification.credential.signer_key),
        "entry_index": verification.credential.entry_index,
        "ledger": verification.credential.ledger.origin,
        "authority_name": verification.credential.ledger.authority_name,
        "checkpoint": checkpoint_json(&verification.checkpoint),
        "revocation_visible": false,
        "note": OFFLINE_NOTE,
    })
}

pub fn verify_bundle(args: VerifyBundleArgs, json: bool) -> CliResult {
    let trust = trusted_key(&args.trust)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let outcome = String::from_utf8(bytes)
        .map_err(|_| None)
        .and_then(|text| verify_credential_bundle(&text, &trust).map_err(Some));
    match outcome {
        Ok(verification) => {
            let value = verification_json(&verification);
            if json {
                print_json(&value);
            } else {
                print_verification(&value);
            }
            Ok(())
        }
        Err(error) => {
            let (code, reason) = match &error {
                Some(error) => (error.code(), error.to_string()),
                None => ("malformed", "the bundle is not UTF-8 text".to_string()),
            };
            let value = json!({
                "valid": false,
                "status": "invalid",
                "code": code,
                "reason": reason,
                "file": args.file,
            });
            if json {
                print_json(&value);
            } else {
                println!("{}: INVALID (无效) [{code}]", args.file.display());
                println!("  {reason}");
            }
            Err(Failure::refused(anyhow!(
                "the bundle is invalid ({code}): {reason}"
            )))
        }
    }
}

fn print_verification(value: &Value) {
    let text = |key: &str| value[key].as_str().unwrap_or("").to_string();
    let checkpoint = &value["checkpoint"];
    println!(
        "{}: ISSUED (已颁发) — proven on ledger {} by the bundle, offline",
        text("certificate_number"),
        text("ledger")
    );
    println!(
        "  {} · {} · issued {} · by {} {}",
        text("level_name"),
        text("occupation"),
        text("issued"),
        text("body"),
        text("body_name")
    );
    println!(
        "  checkpoint: size {}, signed {} (unix {}); credential is entry {}",
        checkpoint["size"],
        checkpoint["time_utc"].as_str().unwrap_or("?"),
        checkpoint["time_unix_s"],
        value["entry_index"]
    );
    println!("  note: {OFFLINE_NOTE}");
}
