//! `vc`: W3C Verifiable Credentials 2.0 (docs/vc.md): set up the issuer key, export a
//! credential, print the controller document and the status list, verify a VC offline.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use skill_ledger_domain::CertificateNumber;
use skill_ledger_node::{VcExportError, VcSetup};
use skill_ledger_sync::Mirror;
use skill_ledger_vc::{ControllerDocument, Status, Suite};

use crate::admin::open;
use crate::output::print_json;
use crate::{CliResult, DirArg, Failure};

#[derive(Subcommand)]
pub enum VcCommand {
    /// Make the VC issuer key (keys/vc-issuer.key) and log it with the controller id
    /// `{base_url}/v1/vc/issuer` (a `VcIssuerKeySet` signed by the authority key). Run again
    /// after the public base URL changed; `--rotate` makes and logs a new key.
    Setup(SetupArgs),
    /// Print credential CERT_NO as a W3C Verifiable Credential (JSON), signed now.
    Issue(IssueArgs),
    /// Print the VC issuer's controller document (with --json: and the entries that register
    /// its keys, which `proof inclusion` proves against a checkpoint).
    Controller(OutArgs),
    /// Print the status list credential (BitstringStatusListCredential) of the ledger.
    StatusList(StatusListArgs),
    /// Verify a VC offline: its proof by a key of the controller document and, with a
    /// status list, its status. Exit 0 valid, 1 invalid or revoked.
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The public base URL, e.g. `https://zscx.example.cn` (written to `[vc] base_url` of
    /// ledger.toml). Default: the `[vc] base_url` already there.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Make a new key and log it (the old one stays in the controller document, so VCs
    /// signed with it keep verifying).
    #[arg(long)]
    pub rotate: bool,
}

#[derive(Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub dir: DirArg,
    pub cert_no: CertificateNumber,
    /// The Data Integrity cryptosuite.
    #[arg(long, default_value = "eddsa-rdfc-2022")]
    pub suite: Suite,
    /// Write to FILE instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct OutArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Write to FILE instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct StatusListArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The list number (a credential's entry index divided by 2²⁰).
    #[arg(long, default_value_t = 0)]
    pub list: u64,
    /// Write to FILE instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The VC (JSON).
    pub file: PathBuf,
    /// The issuer's controller document (as `vc controller` prints it or
    /// `GET /v1/vc/issuer` serves it).
    #[arg(long)]
    pub controller: PathBuf,
    /// The status list credential the VC's `credentialStatus` names (as `vc status-list`
    /// prints it or `GET /v1/vc/status/{list}` serves it). Without it the status is not
    /// checked, and the answer says so.
    #[arg(long)]
    pub status_list: Option<PathBuf>,
}

pub fn run(command: VcCommand, json: bool) -> CliResult {
    match command {
        VcCommand::Setup(args) => setup(args, json),
        VcCommand::Issue(args) => issue(args),
        VcCommand::Controller(args) => {
            let node = open(&args.dir)?;
            let document = node.vc_controller_document().map_err(export_failure);
            let registrations = node.vc_key_registrations().map_err(export_failure);
            node.close()?;
            let document = document?.to_json();
            if !json {
                return emit(&document, args.out.as_deref());
            }
            // With --json: the document and the entries that register its keys, for proofs.
            let registrations: Vec<Value> = registrations?
                .iter()
                .map(|key| {
                    json!({
                        "entry_index": key.entry_index,
                        "controller": key.controller,
                        "public_key_multibase": ed25519_dalek::VerifyingKey::from_bytes(&key.public_key)
                            .map(|public| skill_ledger_vc::encode_multikey_public(&public))
                            .unwrap_or_default(),
                        "date": key.date.to_string(),
                    })
                })
                .collect();
            emit(
                &json!({"controller": document, "registrations": registrations}),
                args.out.as_deref(),
            )
        }
        VcCommand::StatusList(args) => {
            let node = open(&args.dir)?;
            let document = node.vc_status_list(args.list).map_err(export_failure);
            node.close()?;
            emit(document?.as_ref(), args.out.as_deref())
        }
        VcCommand::Verify(args) => verify(args, json),
    }
}

fn export_failure(error: VcExportError) -> Failure {
    match error {
        VcExportError::Node(error) => Failure::from(error),
        other => Failure::refused(other),
    }
}

fn emit(document: &Value, out: Option<&Path>) -> CliResult {
    let text = serde_json::to_string_pretty(document)? + "\n";
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

fn setup(args: SetupArgs, json: bool) -> CliResult {
    let config_path = skill_ledger_node::LedgerPaths::new(&args.dir.dir).config();
    let mut config = skill_ledger_node::LedgerConfig::load(&config_path)?;
    let base = match args.base_url.as_deref().or(config.vc.base_url.as_deref()) {
        Some(base) => skill_ledger_node::check_vc_base_url(base).map_err(Failure::refused)?,
        None => {
            return Err(Failure::refused(anyhow!(
                "no public base URL: give --base-url URL or set base_url under [vc] in {}",
                config_path.display()
            )))
        }
    };
    if config.vc.base_url.as_deref() != Some(base.as_str()) {
        config.vc.base_url = Some(base.clone());
        std::fs::write(&config_path, config.to_toml())
            .with_context(|| format!("cannot write {}", config_path.display()))?;
    }
    let node = open(&args.dir)?;
    let done = node.vc_setup(&base, args.rotate).map_err(export_failure);
    node.close()?;
    let (logged, key) = match done? {
        VcSetup::Unchanged(key) => (false, key),
        VcSetup::Logged(key) => (true, key),
    };
    let multikey = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key)
        .map(|public| skill_ledger_vc::encode_multikey_public(&public))
        .map_err(|error| anyhow!("the logged VC key is not an Ed25519 key: {error}"))?;
    if json {
        print_json(&json!({
            "controller": key.controller,
            "public_key_multibase": multikey,
            "entry_index": key.entry_index,
            "logged": logged,
        }));
    } else if logged {
        println!(
            "VC issuer key {multikey} logged at entry {} for {}",
            key.entry_index, key.controller
        );
    } else {
        println!(
            "VC issuer key {multikey} (entry {}) is already in force for {}",
            key.entry_index, key.controller
        );
    }
    Ok(())
}

fn issue(args: IssueArgs) -> CliResult {
    let node = open(&args.dir)?;
    let mirrors = if args.cert_no.province() == node.province() {
        Vec::new()
    } else {
        crate::query::open_mirrors(&args.dir)?
    };
    let readers: Vec<_> = mirrors.iter().map(Mirror::reader).collect();
    let partners = crate::query::partner_mirrors(&readers);
    let document =
        skill_ledger_server::vc::credential_vc(&node, &partners, &args.cert_no, args.suite);
    drop(partners);
    drop(readers);
    drop(mirrors);
    node.close()?;
    let document = document.map_err(|error| match error {
        skill_ledger_server::vc::VcLookupError::Export(error) => export_failure(error),
        other => Failure::refused(other),
    })?;
    emit(&document, args.out.as_deref())
}

fn read_json(path: &Path, what: &str) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| {
        Failure::refused(anyhow!("{what} {} is not JSON: {error}", path.display()))
    })
}

fn verify(args: VerifyArgs, json: bool) -> CliResult {
    let credential = read_json(&args.file, "the VC")?;
    let controller_json = read_json(&args.controller, "the controller document")?;
    let controller = ControllerDocument::from_json(&controller_json).map_err(|error| {
        Failure::refused(anyhow!(
            "the controller document {} is not usable: {error}",
            args.controller.display()
        ))
    })?;
    let status_list = match &args.status_list {
        Some(path) => Some(read_json(path, "the status list")?),
        None => None,
    };
    match skill_ledger_vc::verify_credential(&credential, &controller, status_list.as_ref()) {
        Ok(verified) => {
            let status = match verified.status {
                Some(Status::Valid) => "valid",
                Some(Status::Revoked) => "revoked",
                None => "not_checked",
            };
            if json {
                print_json(&json!({
                    "file": args.file,
                    "verified": true,
                    "status": status,
                    "suite": verified.suite.as_str(),
                    "verification_method": verified.verification_method,
                    "certificate_number": verified.certificate_number,
                    "valid_from": verified.valid_from,
                }));
            }
            let number = verified.certificate_number.as_deref().unwrap_or("?");
            match verified.status {
                Some(Status::Revoked) => {
                    if !json {
                        println!(
                            "REVOKED (已撤销): {number}: the proof is valid ({}), and its status \
                             list sets its bit",
                            verified.suite.as_str()
                        );
                    }
                    Err(Failure::refused(anyhow!("credential {number} is revoked")))
                }
                status => {
                    if !json {
                        println!(
                            "VALID (有效): {number}: {} proof by {}{}",
                            verified.suite.as_str(),
                            verified.verification_method,
                            if status.is_none() {
                                "; status not checked (give --status-list)"
                            } else {
                                "; not revoked"
                            }
                        );
                    }
                    Ok(())
                }
            }
        }
        Err(error) => {
            if json {
                print_json(&json!({
                    "file": args.file,
                    "verified": false,
                    "error": error.to_string(),
                }));
            } else {
                println!("INVALID (无效): {error}");
            }
            Err(Failure::refused(anyhow!("the VC does not verify: {error}")))
        }
    }
}
