//! `bundle` and `verify-bundle`: the offline credential bundle (format in docs/formats.md).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use base64::Engine as _;
use clap::Args;
use serde_json::{json, Value};
use skill_ledger_domain::{CertificateNumber, OfflineStatus, Signer};
use skill_ledger_node::{verify_credential_bundle, BundleVerification, HolderBundle};

use crate::admin::open;
use crate::output::print_json;
use crate::{CliResult, DirArg, Failure};

/// What every offline verification must say: it cannot see what happened after its checkpoint.
pub const OFFLINE_NOTE: &str = "the status is as of this checkpoint: a revocation logged after \
it cannot be seen offline; check the current status online (skill-ledger verify) when it matters";

#[derive(Args)]
pub struct BundleArgs {
    #[command(flatten)]
    pub dir: DirArg,
    pub cert_no: CertificateNumber,
    /// Write the bundle to FILE (default: print it on stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Bind the bundle to its holder: with the holder's name as printed on the certificate,
    /// the bundle carries the certificate's name key, so `verify-bundle --name` can check a
    /// name offline. A name that is not the holder's gets no bundle.
    #[arg(long, value_name = "NAME")]
    pub holder_name: Option<String>,
}

pub fn bundle(args: BundleArgs, json: bool) -> CliResult {
    let node = open(&args.dir)?;
    let unknown = |json: bool| {
        if json {
            print_json(&json!({"certificate_number": args.cert_no.as_str(), "status": "unknown"}));
        }
        Failure::refused(anyhow!("credential {} is not on this ledger", args.cert_no))
    };
    let text = match &args.holder_name {
        None => node.credential_bundle(&args.cert_no)?,
        Some(name) => match node.credential_bundle_for_holder(&args.cert_no, name)? {
            HolderBundle::Unknown => None,
            HolderBundle::Bundle(text) => Some(text),
            HolderBundle::NameMismatch => {
                if json {
                    print_json(&json!({"certificate_number": args.cert_no.as_str(),
                                       "status": "name_mismatch"}));
                }
                return Err(Failure::refused(anyhow!(
                    "credential {} is not held under the name given by --holder-name",
                    args.cert_no
                )));
            }
        },
    };
    let Some(text) = text else {
        return Err(unknown(json));
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
    /// Also check that NAME is the holder (the bundle must have been made with
    /// `bundle --holder-name`, or downloaded from the portal after a lookup by name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
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

fn signer_json(signer: &Signer) -> Value {
    match signer {
        Signer::Authority => json!("authority"),
        Signer::Recovery => json!("recovery"),
        Signer::Body(number) => json!(number.as_str()),
    }
}

fn verification_json(verification: &BundleVerification, name: Option<&str>) -> Value {
    let credential = &verification.credential.credential;
    let body = &verification.credential.body;
    let (status, revocation) = match &verification.status {
        OfflineStatus::Valid => ("valid", Value::Null),
        OfflineStatus::Revoked {
            entry_index,
            effective,
            reason,
            by,
        } => (
            "revoked",
            json!({"entry_index": entry_index, "effective": effective.to_string(),
                   "reason": reason, "by": signer_json(by)}),
        ),
    };
    let holder = match name {
        None => Value::Null,
        Some(name) => json!({
            "name_checked": true,
            "matched": verification.holder_matches(name),
        }),
    };
    let issuer_warning = match &verification.credential.issuer_warning {
        None => Value::Null,
        Some(change) => json!({
            "status": change.status.id(),
            "effective": change.effective.to_string(),
            "reason": change.reason,
            "entry_index": change.entry_index,
        }),
    };
    json!({
        "valid": status == "valid",
        "status": status,
        "revocation": revocation,
        "issuer_status_warning": issuer_warning,
        "holder": holder,
        "holder_bound": verification.statement.holder_key.is_some(),
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
        "note": OFFLINE_NOTE,
    })
}

pub fn verify_bundle(args: VerifyBundleArgs, json: bool) -> CliResult {
    let trust = trusted_key(&args.trust)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let outcome = String::from_utf8(bytes)
        .map_err(|_| ("malformed", "the bundle is not UTF-8 text".to_string()))
        .and_then(|text| {
            verify_credential_bundle(&text, &trust)
                .map_err(|error| (error.code(), error.to_string()))
        })
        .and_then(|verification| {
            // A name that cannot be checked, or is not the holder's, makes the bundle no
            // proof for this person: reported like any other invalid bundle.
            match args
                .name
                .as_deref()
                .map(|name| verification.holder_matches(name))
            {
                Some(None) => Err((
                    "holder-not-bound",
                    "the bundle carries no holder key, so it cannot check a name: ask the \
                     holder for a bundle made with their name (skill-ledger bundle \
                     --holder-name, or the portal's download after a lookup by name)"
                        .to_string(),
                )),
                Some(Some(false)) => Err((
                    "name-mismatch",
                    "the name given by --name is not the holder's name on this certificate"
                        .to_string(),
                )),
                _ => Ok(verification),
            }
        });
    match outcome {
        Ok(verification) => {
            let value = verification_json(&verification, args.name.as_deref());
            if json {
                print_json(&value);
            } else {
                print_verification(&value);
            }
            match &verification.status {
                OfflineStatus::Valid => Ok(()),
                OfflineStatus::Revoked { entry_index, .. } => Err(Failure::refused(anyhow!(
                    "certificate {} was revoked at entry {entry_index}, as the bundle proves",
                    verification.credential.credential.certificate_number
                ))),
            }
        }
        Err((code, reason)) => {
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
    let revocation = &value["revocation"];
    if value["status"] == "revoked" {
        println!(
            "{}: REVOKED (已撤销) at entry {}, effective {} — proven on ledger {} by the bundle, \
             offline",
            text("certificate_number"),
            revocation["entry_index"],
            revocation["effective"].as_str().unwrap_or("?"),
            text("ledger")
        );
        println!(
            "  reason: {} (by {})",
            revocation["reason"].as_str().unwrap_or(""),
            revocation["by"].as_str().unwrap_or("?")
        );
    } else {
        println!(
            "{}: VALID (有效) as of the checkpoint — proven on ledger {} by the bundle, offline",
            text("certificate_number"),
            text("ledger")
        );
    }
    let warning = &value["issuer_status_warning"];
    if let Some(status) = warning["status"].as_str() {
        println!(
            "  WARNING: the issuing body is {status} from {} ({}), a change logged after this \
             certificate (entry {}), whose issue date falls inside it (发证机构在发证日已被{}备案)",
            warning["effective"].as_str().unwrap_or(""),
            warning["reason"].as_str().unwrap_or(""),
            warning["entry_index"],
            if status == "cancelled" {
                "取消"
            } else {
                "暂停"
            }
        );
    }
    if value["holder"]["matched"] == json!(true) {
        println!("  holder: the name given matches the certificate's holder (持证人姓名相符)");
    }
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
