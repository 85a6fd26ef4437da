//! `skill-ledger body rotate-key` and `body revoke-key`: what the authority does when a body's
//! signing key is reported stolen (docs/security.md, "A body key reported stolen").
//!
//! `revoke-key` logs `BodyKeyRevoked`, after which the ledger refuses everything signed with
//! that key whatever its date, and, with `--revoke-credentials-from ENTRY`, revokes in one run
//! every credential still valid that the key signed from that log entry on. A run can be
//! repeated (after an interruption, or to widen the range): a key already revoked is reported
//! as such and the credentials already revoked are skipped. Other events the key signed in
//! the range (revocations, route events) are listed for the authority to review: the ledger
//! has no event that undoes them.

use anyhow::anyhow;
use clap::Args;
use serde_json::{json, Value};
use skill_ledger_domain::{
    BodyKeyRevoked, BodyKeyRotated, CredentialRevoked, CredentialStatus, Date, EventKind,
    RegistrationNumber, SignedEvent, Signer,
};
use skill_ledger_node::{Node, SubmitError};

use crate::admin::{open, KeyArg};
use crate::output::print_json;
use crate::remote::{AuthorityTargetArg, Writer};
use crate::{CliResult, DirArg, Failure};

/// What a rotation and a revocation of a body key both name.
#[derive(Args)]
pub struct BodyKeyArgs {
    /// The body's registration number.
    #[arg(long)]
    pub reg_no: RegistrationNumber,
    /// rotate-key: the body's new key; revoke-key: the compromised key.
    #[command(flatten)]
    pub key: KeyArg,
    /// rotate-key: the date from which the new key signs (the old one signs nothing dated
    /// from then on); revoke-key: the day the revocation is recorded.
    #[arg(long)]
    pub date: Date,
    /// Why (recorded in the event, and in each credential revocation of revoke-key).
    #[arg(long)]
    pub reason: String,
}

#[derive(Args)]
pub struct RotateKeyArgs {
    #[command(flatten)]
    pub target: AuthorityTargetArg,
    #[command(flatten)]
    pub body: BodyKeyArgs,
}

/// `revoke-key` reads the log to find what the key signed, so it runs on the ledger
/// directory (stop `serve` for it: a stolen key is an incident, not routine).
#[derive(Args)]
pub struct RevokeKeyArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[command(flatten)]
    pub body: BodyKeyArgs,
    /// Also revoke every credential still valid that the key signed from this log entry on
    /// (the first entry the thief may have written; 0 for all the key ever signed).
    #[arg(long)]
    pub revoke_credentials_from: Option<u64>,
    /// Print what would be revoked, and submit nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn rotate_key(args: RotateKeyArgs, json: bool) -> CliResult {
    let target = args.target;
    let args = args.body;
    let public_key = args.key.bytes()?;
    let writer = Writer::open_authority(&target)?;
    let signed = writer.sign_as_authority(EventKind::BodyKeyRotated(BodyKeyRotated {
        registration_number: args.reg_no,
        public_key,
        effective: args.date,
        reason: args.reason,
    }))?;
    writer.submit_and_close(signed, json)
}

/// What the key signed in the range, as the log holds it.
struct Signed {
    /// (entry index, certificate number, issue date) of its certifications.
    certifications: Vec<(u64, skill_ledger_domain::CertificateNumber, Date)>,
    /// (entry index, event name) of everything else it signed.
    others: Vec<(u64, &'static str)>,
}

fn signed_by(
    node: &Node,
    body: RegistrationNumber,
    key: &[u8; 32],
    from: u64,
) -> Result<Signed, Failure> {
    let mut found = Signed {
        certifications: Vec::new(),
        others: Vec::new(),
    };
    let mut undecodable = None;
    let end = node.entry_count();
    node.log_reader()
        .for_each(from.min(end), end, |index, entry| {
            let signed = match SignedEvent::from_entry(entry) {
                Ok(signed) => signed,
                Err(error) => {
                    undecodable.get_or_insert(format!("entry {index} does not decode: {error}"));
                    return Ok(());
                }
            };
            if signed.signer != Signer::Body(body) || signed.public_key != *key {
                return Ok(());
            }
            match &signed.event.kind {
                EventKind::LevelCertified(certified) => found.certifications.push((
                    index,
                    certified.certificate_number,
                    certified.issued,
                )),
                other => found.others.push((index, other.name())),
            }
            Ok(())
        })
        .map_err(|error| anyhow!("reading entries {from}..{end}: {error}"))?;
    match undecodable {
        Some(why) => Err(anyhow!(why).into()),
        None => Ok(found),
    }
}

pub fn revoke_key(args: RevokeKeyArgs, json: bool) -> CliResult {
    let public_key = args.body.key.bytes()?;
    let node = open(&args.dir)?;
    let result = revoke_key_on(&node, &args, public_key);
    node.close()?;
    let report = result?;
    if json {
        print_json(&report);
    } else {
        print_summary(&report);
    }
    Ok(())
}

fn revoke_key_on(
    node: &Node,
    args: &RevokeKeyArgs,
    public_key: [u8; 32],
) -> Result<Value, Failure> {
    let body = args.body.reg_no;
    let key_revocation = if args.dry_run {
        json!({"submitted": false})
    } else {
        let signed = node.sign_as_authority(EventKind::BodyKeyRevoked(BodyKeyRevoked {
            registration_number: body,
            public_key,
            date: args.body.date,
            reason: args.body.reason.clone(),
        }));
        match node.submit(signed) {
            Ok(receipt) => json!({"submitted": true, "index": receipt.index}),
            // A run repeated after an interruption, or to widen the range.
            Err(SubmitError::Rejected(skill_ledger_domain::Rejection::KeyAlreadyRevoked {
                revoked_by,
            })) => json!({"submitted": false, "already_revoked_by": revoked_by}),
            Err(SubmitError::Rejected(rejection)) => {
                return Err(Failure::refused(anyhow!(
                    "the key revocation was rejected ({}): {rejection}",
                    rejection.code()
                )))
            }
            Err(error) => return Err(anyhow!(error).into()),
        }
    };
    let mut report = json!({
        "body": body.to_string(),
        "public_key": hex::encode(public_key),
        "dry_run": args.dry_run,
        "key_revocation": key_revocation,
    });
    let Some(from) = args.revoke_credentials_from else {
        return Ok(report);
    };
    let scanned_to = node.entry_count();
    let signed = signed_by(node, body, &public_key, from)?;
    // A revocation by the authority must be dated when its key was valid: the credential's
    // own issue date (void from the start), or the ledger's establishment if that is later.
    let established = node
        .registry()
        .ledger
        .as_ref()
        .map(|ledger| ledger.established)
        .ok_or_else(|| anyhow!("the ledger is not established"))?;
    let (mut revoked, mut already, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (index, number, issued) in &signed.certifications {
        let held = node
            .credential(number)
            .map_err(|error| anyhow!("reading credential {number}: {error}"))?;
        if !held.is_some_and(|credential| credential.status == CredentialStatus::Valid) {
            already.push(json!({"certificate_number": number.to_string(), "index": index}));
            continue;
        }
        if args.dry_run {
            revoked.push(json!({"certificate_number": number.to_string(), "index": index}));
            continue;
        }
        let revocation = node.sign_as_authority(EventKind::CredentialRevoked(CredentialRevoked {
            certificate_number: *number,
            effective: (*issued).max(established),
            reason: format!(
                "签发密钥已声明泄露 (signing key of {body} declared compromised): {}",
                args.body.reason
            ),
        }));
        match node.submit(revocation) {
            Ok(receipt) => revoked.push(json!({
                "certificate_number": number.to_string(),
                "index": index,
                "revoked_by": receipt.index,
            })),
            Err(error) => failed.push(json!({
                "certificate_number": number.to_string(),
                "index": index,
                "error": error.to_string(),
            })),
        }
    }
    let others: Vec<Value> = signed
        .others
        .iter()
        .map(|(index, event)| json!({"index": index, "event": event}))
        .collect();
    if let Value::Object(fields) = &mut report {
        fields.insert("scanned".into(), json!({"from": from, "to": scanned_to}));
        fields.insert("credentials_revoked".into(), json!(revoked));
        fields.insert("credentials_already_revoked".into(), json!(already));
        fields.insert("credentials_failed".into(), json!(failed));
        fields.insert("other_events".into(), json!(others));
    }
    if !failed.is_empty() {
        print_json(&report);
        return Err(anyhow!(
            "{} of the key's credentials could not be revoked (listed above); run again",
            failed.len()
        )
        .into());
    }
    Ok(report)
}

fn print_summary(report: &Value) {
    let body = report["body"].as_str().unwrap_or_default();
    let revocation = &report["key_revocation"];
    if report["dry_run"].as_bool().unwrap_or(false) {
        println!("dry run: nothing submitted");
    } else if let Some(index) = revocation["index"].as_u64() {
        println!("key of {body} revoked by entry {index}: nothing signed with it is accepted from now on");
    } else if let Some(index) = revocation["already_revoked_by"].as_u64() {
        println!("key of {body} already revoked by entry {index}");
    }
    let count = |field: &str| report[field].as_array().map_or(0, Vec::len);
    if report["scanned"].is_object() {
        println!(
            "entries {}..{}: {} credentials {}, {} already revoked",
            report["scanned"]["from"],
            report["scanned"]["to"],
            count("credentials_revoked"),
            if report["dry_run"].as_bool().unwrap_or(false) {
                "to revoke"
            } else {
                "revoked"
            },
            count("credentials_already_revoked"),
        );
        for other in report["other_events"].as_array().into_iter().flatten() {
            println!(
                "review by hand: entry {} ({}) was signed with the key",
                other["index"], other["event"]
            );
        }
    }
}
