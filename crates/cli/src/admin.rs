//! Commands that write: init, key, body, issue, revoke. The writing commands take `--dir`
//! (a ledger directory no `serve` holds) or `--node URL` (a serving node, [`crate::remote`]).

use std::path::{Path, PathBuf};

use crate::batch_file::Certified;
use crate::issue_batch::Certification;
use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde_json::json;
use skill_ledger_domain::{
    Audience, BodyRegistered, BodyStatusChange, CertificateNumber, CredentialRevoked, Date,
    EvaluationBasis, Event, EventId, EventKind, IdDocumentType, Level, OccupationCode, Province,
    RegistrationNumber, Route, ScopeItem, SignedEvent, Signer,
};
use skill_ledger_log::{parse_signer_key_text, signer_key_text, verifier_key_text};
use skill_ledger_node::{InitOptions, Node, Receipt, SubmitError};

use crate::output::print_json;
use crate::recognize::today;
use crate::remote::{AuthorityTargetArg, TargetArg, Writer};
use crate::{CliResult, DirArg, Failure};

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Two-digit province code of the authority (50 Chongqing, 51 Sichuan).
    #[arg(long, default_value = "50")]
    pub province: u8,
    /// Log origin; default `skill-ledger/<province>`.
    #[arg(long)]
    pub origin: Option<String>,
    /// Authority name as registered.
    #[arg(long)]
    pub authority_name: Option<String>,
    /// Date of establishment (YYYY-MM-DD).
    #[arg(long, default_value = "2019-01-01")]
    pub date: Date,
    /// Occupation catalogue (TOML); default: the shipped sample catalogue.
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// Policy (TOML); default: the shipped national template.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// File with the pseudonym key shared with partner authorities (64 hex characters).
    #[arg(long)]
    pub pseudonym_key: Option<PathBuf>,
    /// How many days before the node's date an evaluation body may date an event
    /// (`dated-too-far-back` beyond it); 0 bounds nothing, for a ledger importing a body's
    /// earlier certificates. Written to ledger.toml (`[sequencer] backdate_days_max`).
    #[arg(long, default_value_t = skill_ledger_node::BACKDATE_DAYS_DEFAULT)]
    pub backdate_days_max: u32,
    /// Where to write the new offline recovery key (default: DIR/keys/recovery.key). It is
    /// the only way back if the authority key is lost or stolen (`skill-ledger authority
    /// recover`): move it off the node, offline, right after init.
    #[arg(long, value_name = "FILE")]
    pub recovery_key_out: Option<PathBuf>,
}

pub fn init(args: InitArgs, json: bool) -> CliResult {
    let province = Province(args.province);
    if !province.is_well_formed() {
        return Err(anyhow!(
            "--province {} is not a two-digit province code",
            args.province
        )
        .into());
    }
    let mut options = InitOptions::for_province(
        province,
        args.authority_name.as_deref().unwrap_or(match province.0 {
            50 => "重庆市人力资源和社会保障局",
            51 => "四川省人力资源和社会保障厅",
            _ => "人力资源和社会保障部门",
        }),
    );
    if let Some(origin) = args.origin {
        options.origin = origin;
    }
    options.sequencer.backdate_days_max = args.backdate_days_max;
    options.date = args.date;
    if let Some(path) = &args.catalogue {
        options.catalogue_toml = read_text(path)?;
    }
    if let Some(path) = &args.policy {
        options.policy_toml = read_text(path)?;
    }
    if let Some(path) = &args.pseudonym_key {
        options.pseudonym_key = Some(*skill_ledger_node::load_pseudonym_key(path)?.as_bytes());
    }
    if args.dir.dir.join("ledger.toml").exists() {
        return Err(anyhow!("{} is already a ledger directory", args.dir.dir.display()).into());
    }
    // The recovery key is written before the ledger names it, so it is never named unheld.
    let recovery_path = args
        .recovery_key_out
        .clone()
        .unwrap_or_else(|| args.dir.dir.join("keys").join("recovery.key"));
    if let Some(parent) = recovery_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let recovery = SigningKey::generate(&mut rand::rngs::OsRng);
    write_private(
        &recovery_path,
        &signer_key_text(
            &skill_ledger_node::recovery_key_name(&options.origin),
            &recovery,
        ),
    )?;
    options.recovery_key = Some(recovery.verifying_key().to_bytes());
    let node = Node::init(&args.dir.dir, options)?;
    let value = json!({
        "dir": args.dir.dir,
        "origin": node.origin(),
        "authority_public_key": hex::encode(node.authority_key().verifying_key().to_bytes()),
        "verifier_key": node.verifier_key_text(),
        "recovery_key_file": recovery_path,
        "recovery_public_key": hex::encode(recovery.verifying_key().to_bytes()),
        "entries": node.entry_count(),
    });
    node.close()?;
    if json {
        print_json(&value);
    } else {
        println!(
            "created ledger {} in {}",
            value["origin"],
            args.dir.dir.display()
        );
        println!("authority public key: {}", value["authority_public_key"]);
        println!(
            "checkpoint verifier key: {}",
            value["verifier_key"].as_str().unwrap_or("")
        );
        println!(
            "recovery key written to {}: move it offline now; it alone recovers a lost or \
             stolen authority key (skill-ledger authority recover)",
            recovery_path.display()
        );
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum AuthorityCommand {
    /// Planned rotation: a new authority key, the rotation signed by the key in force. The
    /// retired key cosigns checkpoints for 30 days so partners follow.
    RotateKey {
        #[command(flatten)]
        dir: DirArg,
        /// Date of the rotation (YYYY-MM-DD); default today.
        #[arg(long)]
        date: Option<Date>,
        #[arg(long, default_value = "定期轮换")]
        reason: String,
    },
    /// Recovery of a lost or stolen authority key with the offline recovery key: the old
    /// key file is set aside and never signs again.
    Recover {
        #[command(flatten)]
        dir: DirArg,
        /// The recovery key file `init` wrote.
        #[arg(long, value_name = "FILE")]
        recovery_key: PathBuf,
        /// Date of the recovery (YYYY-MM-DD); default today.
        #[arg(long)]
        date: Option<Date>,
        #[arg(long, default_value = "授权密钥遗失或被盗")]
        reason: String,
    },
}

pub fn authority(command: AuthorityCommand, json: bool) -> CliResult {
    let (change, kind) = match command {
        AuthorityCommand::RotateKey { dir, date, reason } => (
            skill_ledger_node::rotate_authority_key(&dir.dir, date.unwrap_or_else(today), &reason)?,
            "rotation",
        ),
        AuthorityCommand::Recover {
            dir,
            recovery_key,
            date,
            reason,
        } => {
            let config = skill_ledger_node::LedgerConfig::load(&dir.dir.join("ledger.toml"))?;
            let key = skill_ledger_node::load_recovery_key(&recovery_key, &config.origin)?;
            (
                skill_ledger_node::recover_authority_key(
                    &dir.dir,
                    &key,
                    date.unwrap_or_else(today),
                    &reason,
                )?,
                "recovery",
            )
        }
    };
    let value = json!({
        "kind": kind,
        "entry_index": change.entry_index,
        "old_public_key": hex::encode(change.old_public_key),
        "new_public_key": hex::encode(change.new_public_key),
        "verifier_key": change.verifier_key_text,
        "cosigned": change.cosigned,
    });
    if json {
        print_json(&value);
    } else {
        println!(
            "authority key {kind} logged as entry {}",
            change.entry_index
        );
        println!("new checkpoint verifier key: {}", change.verifier_key_text);
        if change.cosigned {
            println!(
                "the retired key cosigns checkpoints for {} days: partners' mirrors and \
                 witnesses follow the rotation from the log; give them the new key for \
                 partners.toml",
                skill_ledger_node::ROTATION_OVERLAP_DAYS
            );
        } else {
            println!(
                "partners' mirrors follow the recovery from the log (it is signed by the \
                 recovery key they hold from entry 0's ledger); give them the new key"
            );
        }
    }
    Ok(())
}

pub fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(Failure::from)
}

/// Reads a private key file (signed-note `PRIVATE+KEY+name+hash+data` form).
pub fn read_signing_key(path: &Path) -> Result<(String, SigningKey), Failure> {
    let text = read_text(path)?;
    parse_signer_key_text(text.trim())
        .with_context(|| format!("{} is not a private key file", path.display()))
        .map_err(Failure::from)
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Generate a new Ed25519 signing key for a body; prints its public key.
    New {
        /// Key name, e.g. the body's registration number.
        #[arg(long)]
        name: String,
        /// Where to write the private key (created, never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn key(command: KeyCommand, json: bool) -> CliResult {
    let KeyCommand::New { name, out } = command;
    if out.exists() {
        return Err(anyhow!("{} exists: refusing to overwrite a key", out.display()).into());
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let text = signer_key_text(&name, &key);
    write_private(&out, &text)?;
    let public = hex::encode(key.verifying_key().to_bytes());
    if json {
        print_json(&json!({"name": name, "file": out, "public_key": public,
            "verifier_key": verifier_key_text(&name, &key)}));
    } else {
        println!("wrote {}", out.display());
        println!("public key: {public}");
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[derive(Subcommand)]
pub enum BodyCommand {
    /// Register (备案) an evaluation body.
    Register(RegisterArgs),
    /// Suspend a body from a date.
    Suspend(StatusArgs),
    /// Reinstate a suspended body.
    Reinstate(StatusArgs),
    /// Cancel a body's registration.
    Cancel(StatusArgs),
    /// Give a body a new signing key from a date.
    RotateKey(crate::key_compromise::RotateKeyArgs),
    /// Declare a body key compromised: nothing signed with it is accepted from now on,
    /// whatever its date; optionally revoke the credentials it signed from a log entry on.
    RevokeKey(crate::key_compromise::RevokeKeyArgs),
}

/// The key a command names: 64 hex characters, or the public half of a private key file.
#[derive(Args)]
pub struct KeyArg {
    /// The public key (64 hex characters), or use --key-file.
    #[arg(long, required_unless_present = "key_file")]
    pub public_key: Option<String>,
    /// A private key file (only its public half is used).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
}

impl KeyArg {
    pub fn bytes(&self) -> Result<[u8; 32], Failure> {
        match (&self.public_key, &self.key_file) {
            (Some(text), _) => parse_public_key(text),
            (None, Some(path)) => Ok(read_signing_key(path)?.1.verifying_key().to_bytes()),
            (None, None) => Err(anyhow!("give --public-key or --key-file").into()),
        }
    }
}

#[derive(Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub target: AuthorityTargetArg,
    /// Registration number (13 characters, e.g. Y000050001064).
    #[arg(long)]
    pub reg_no: RegistrationNumber,
    /// Name as registered.
    #[arg(long)]
    pub name: String,
    /// The body's key.
    #[command(flatten)]
    pub key: KeyArg,
    /// Scope items OCCUPATION:LEVEL (e.g. 6-18-01-01:技师); repeat or separate with commas.
    #[arg(long, value_delimiter = ',', required = true)]
    pub scope: Vec<String>,
    #[arg(long)]
    pub valid_from: Date,
    #[arg(long)]
    pub valid_until: Date,
    /// Whom it may evaluate: public, staff or students.
    #[arg(long, default_value = "public")]
    pub audience: String,
    /// Grant the right of direct recognition (enterprises, per policy).
    #[arg(long)]
    pub direct_recognition: bool,
    /// Registration date (default: --valid-from).
    #[arg(long)]
    pub date: Option<Date>,
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: AuthorityTargetArg,
    #[arg(long)]
    pub reg_no: RegistrationNumber,
    /// Effective date.
    #[arg(long)]
    pub date: Date,
    #[arg(long)]
    pub reason: String,
}

fn parse_scope(items: &[String]) -> Result<Vec<ScopeItem>, Failure> {
    items
        .iter()
        .map(|item| {
            let (occupation, level) = item.split_once(':').ok_or_else(|| {
                anyhow!("--scope '{item}' must be OCCUPATION:LEVEL, e.g. 6-18-01-01:技师")
            })?;
            Ok(ScopeItem {
                occupation: occupation.trim().parse::<OccupationCode>()?,
                level_max: level.trim().parse::<Level>()?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(Failure::from)
}

fn parse_public_key(text: &str) -> Result<[u8; 32], Failure> {
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| anyhow!("--public-key must be 64 hex characters").into())
}

/// Submits and prints the receipt; a rejection exits 1 with its code.
pub fn submit_and_report(node: &Node, signed: SignedEvent, json: bool) -> CliResult {
    let kind = signed.event.kind.name();
    let event_id = signed.event.id.to_hex();
    match node.submit(signed) {
        Ok(receipt) => {
            report_receipt(kind, &event_id, &receipt, json);
            Ok(())
        }
        Err(SubmitError::Rejected(rejection)) => {
            if json {
                print_json(
                    &json!({"accepted": false, "event": kind, "event_id": event_id,
                    "rejection": rejection.code(), "message": rejection.to_string(),
                    "message_zh": rejection.message_zh()}),
                );
            }
            Err(Failure::refused(anyhow!(crate::output::rejection_line(
                &rejection
            ))))
        }
        Err(error) => Err(anyhow!(error).into()),
    }
}

fn report_receipt(kind: &str, event_id: &str, receipt: &Receipt, json: bool) {
    report_accepted(
        kind,
        event_id,
        receipt.index,
        receipt.duplicate,
        receipt.checkpoint.checkpoint.size,
        json,
    );
}

/// Prints an accepted submission, whether the node answered in process or over HTTP.
pub(crate) fn report_accepted(
    kind: &str,
    event_id: &str,
    index: u64,
    duplicate: bool,
    checkpoint_size: u64,
    json: bool,
) {
    let value = json!({
        "accepted": true,
        "event": kind,
        "event_id": event_id,
        "index": index,
        "duplicate": duplicate,
        "checkpoint_size": checkpoint_size,
    });
    if json {
        print_json(&value);
    } else {
        println!("accepted {kind} at entry {index} (checkpoint size {checkpoint_size})");
    }
}

pub fn open(dir: &DirArg) -> Result<Node, Failure> {
    open_dir(&dir.dir)
}

pub fn open_dir(dir: &Path) -> Result<Node, Failure> {
    let (node, report) = Node::open(dir)?;
    if report.recovery.truncated_bytes > 0 || report.projections_rebuilt {
        eprintln!(
            "note: recovery cut {} torn bytes; replayed {} entries{}",
            report.recovery.truncated_bytes,
            report.replayed,
            if report.projections_rebuilt {
                "; projections rebuilt"
            } else {
                ""
            }
        );
    }
    Ok(node)
}

pub fn body(command: BodyCommand, json: bool) -> CliResult {
    match command {
        BodyCommand::Register(args) => {
            let public_key = args.key.bytes()?;
            let audience = Audience::from_id(&args.audience).ok_or_else(|| {
                anyhow!(
                    "--audience '{}' must be public, staff or students",
                    args.audience
                )
            })?;
            let scope = parse_scope(&args.scope)?;
            let writer = Writer::open_authority(&args.target)?;
            let signed = writer.sign_as_authority(EventKind::BodyRegistered(BodyRegistered {
                registration_number: args.reg_no,
                name: args.name,
                public_key,
                valid_from: args.valid_from,
                valid_until: args.valid_until,
                audience,
                scope,
                direct_recognition: args.direct_recognition,
                date: args.date.unwrap_or(args.valid_from),
            }))?;
            writer.submit_and_close(signed, json)
        }
        BodyCommand::Suspend(args) => status_change(args, json, EventKind::BodySuspended),
        BodyCommand::Reinstate(args) => status_change(args, json, EventKind::BodyReinstated),
        BodyCommand::Cancel(args) => status_change(args, json, EventKind::BodyCancelled),
        BodyCommand::RotateKey(args) => crate::key_compromise::rotate_key(args, json),
        BodyCommand::RevokeKey(args) => crate::key_compromise::revoke_key(args, json),
    }
}

fn status_change(
    args: StatusArgs,
    json: bool,
    make: fn(BodyStatusChange) -> EventKind,
) -> CliResult {
    let writer = Writer::open_authority(&args.target)?;
    let signed = writer.sign_as_authority(make(BodyStatusChange {
        registration_number: args.reg_no,
        effective: args.date,
        reason: args.reason,
    }))?;
    writer.submit_and_close(signed, json)
}

#[derive(Args)]
pub struct IssueArgs {
    /// With --node the body needs neither the ledger directory nor the pseudonym key: the
    /// node answers the holder's pseudonyms to a request signed with --key.
    #[command(flatten)]
    pub target: TargetArg,
    /// The issuing body's private key file.
    #[arg(long)]
    pub key: PathBuf,
    /// Certificate number (22 characters); its first 13 name the issuing body, position 16
    /// its kind: a level digit for a 职业技能等级证书, Q (then the level digit) for a
    /// 职业资格证书, Z for a 专项职业能力证书 (docs/formats.md, "Certificate numbers").
    #[arg(long)]
    pub cert_no: CertificateNumber,
    /// Identity-document number (never stored in clear).
    #[arg(long)]
    pub id_number: String,
    /// Identity-document type: resident_id, hmt, passport, foreign_permanent.
    #[arg(long, default_value = "resident_id")]
    pub id_type: String,
    /// Holder name (stored only as a keyed commitment).
    #[arg(long)]
    pub name: String,
    /// Occupation code, e.g. 6-18-01-01.
    #[arg(long)]
    pub occupation: OccupationCode,
    /// Work type (工种), if the occupation has them.
    #[arg(long)]
    pub work_type: Option<String>,
    /// Level: name (高级工), number (三级) or id (senior). Required, except for a
    /// 专项职业能力证书 (Z number), which has none.
    #[arg(long, required_unless_present = "ability")]
    pub level: Option<Level>,
    /// 专项职业能力证书: the policy's ability code (e.g. 4-03-02-01-Z01), with a Z number.
    #[arg(long, conflicts_with_all = ["level", "attested", "direct", "foreign_type"])]
    pub ability: Option<String>,
    /// 境外技能证书比照认定: the comparison catalogue's certificate type; with
    /// --foreign-issuer, --foreign-document and --catalogue-version. The event id is then
    /// derived from the type and document (one document is compared once per ledger).
    #[arg(long, requires_all = ["foreign_issuer", "foreign_document", "catalogue_version"], conflicts_with_all = ["attested", "direct", "event_id"])]
    pub foreign_type: Option<String>,
    /// Who issued the foreign certificate.
    #[arg(long, requires = "foreign_type")]
    pub foreign_issuer: Option<String>,
    /// The foreign certificate's own number.
    #[arg(long, requires = "foreign_type")]
    pub foreign_document: Option<String>,
    /// The policy version whose comparison catalogue was applied (the one in force at --date).
    #[arg(long, requires = "foreign_type")]
    pub catalogue_version: Option<u32>,
    /// Issue date.
    #[arg(long)]
    pub date: Date,
    /// Evaluation on an attested basis (diploma, years in the occupation): the statement.
    #[arg(long, conflicts_with = "direct")]
    pub attested: Option<String>,
    /// Direct recognition by an enterprise: the justification.
    #[arg(long)]
    pub direct: Option<String>,
    /// Event id (32 hex characters) to make a retry idempotent; random by default.
    #[arg(long)]
    pub event_id: Option<String>,
}

fn event_id(text: &Option<String>) -> Result<EventId, Failure> {
    match text {
        Some(text) => EventId::from_hex(text)
            .ok_or_else(|| anyhow!("--event-id must be 32 hex characters").into()),
        None => Ok(EventId(rand::random())),
    }
}

pub fn issue(args: IssueArgs, json: bool) -> CliResult {
    let (_, key) = read_signing_key(&args.key)?;
    let id_type = IdDocumentType::from_code(&args.id_type).ok_or_else(|| {
        anyhow!(
            "--id-type '{}' must be resident_id, hmt, passport or foreign_permanent",
            args.id_type
        )
    })?;
    let id_number = crate::input::identity_number(id_type, &args.id_number)?;
    crate::input::holder_name(&args.name)?;
    let route = match (&args.attested, &args.direct, &args.foreign_type) {
        (Some(statement), _, _) => Route::Evaluation(EvaluationBasis::Attested {
            statement: statement.clone(),
        }),
        (None, Some(justification), _) => Route::DirectRecognition {
            justification: justification.clone(),
        },
        (None, None, Some(certificate_type)) => {
            Route::ForeignComparison(skill_ledger_domain::ForeignComparisonBasis {
                catalogue_version: args.catalogue_version.unwrap_or_default(),
                certificate_type: certificate_type.clone(),
                foreign_issuer: args.foreign_issuer.clone().unwrap_or_default(),
                document_id: args.foreign_document.clone().unwrap_or_default(),
            })
        }
        (None, None, None) => Route::Evaluation(EvaluationBasis::PriorLevel),
    };
    let special = args.cert_no.kind() == skill_ledger_domain::CredentialKind::SpecialAbility;
    let certified = match (special, args.ability, args.level) {
        (true, Some(ability), _) => Certified::Ability(ability),
        (false, None, Some(level)) => Certified::Level(level),
        (true, None, _) => {
            return Err(anyhow!(
                "--cert-no {} is a 专项职业能力证书 number (Z series): give --ability CODE",
                args.cert_no
            )
            .into())
        }
        (false, Some(_), _) => {
            return Err(anyhow!(
            "--ability is for a 专项职业能力证书, whose number has Z in position 16; {} has not",
            args.cert_no
        )
            .into())
        }
        (false, None, None) => return Err(anyhow!("--level is required").into()),
    };
    let body = args.cert_no.registration_number();
    let writer = Writer::open(&args.target)?;
    let pseudonyms = writer.pseudonyms(
        &key,
        body,
        &[(id_type, &id_number, &args.name, args.cert_no.as_str())],
        json,
    );
    let (subject, name_commitment) = match pseudonyms.map(|found| found.into_iter().next()) {
        Ok(Some(found)) => found,
        Ok(None) => {
            writer.close()?;
            return Err(anyhow!("no pseudonym was answered").into());
        }
        Err(error) => {
            writer.close()?;
            return Err(error);
        }
    };
    let kind = Certification {
        certificate_number: args.cert_no,
        subject,
        name_commitment,
        occupation: args.occupation,
        work_type: args.work_type,
        certified: &certified,
        issued: args.date,
        route: &route,
    }
    .event_kind();
    // A comparison's id is its document's; otherwise --event-id or a random one.
    let id = match route
        .foreign_document_id()
        .map_or_else(|| event_id(&args.event_id), Ok)
    {
        Ok(id) => id,
        Err(error) => {
            writer.close()?;
            return Err(error);
        }
    };
    let signed = SignedEvent::sign(
        writer.origin(),
        Signer::Body(body),
        &key,
        Event { id, kind },
    );
    writer.submit_and_close(signed, json)
}

#[derive(Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub target: AuthorityTargetArg,
    #[arg(long)]
    pub cert_no: CertificateNumber,
    #[arg(long)]
    pub reason: String,
    /// Effective date.
    #[arg(long)]
    pub date: Date,
    /// The issuing body's key file; without it the authority revokes.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

pub fn revoke(args: RevokeArgs, json: bool) -> CliResult {
    let writer = Writer::open_authority(&args.target)?;
    let kind = EventKind::CredentialRevoked(CredentialRevoked {
        certificate_number: args.cert_no,
        effective: args.date,
        reason: args.reason,
    });
    let signed = match &args.key {
        Some(path) => read_signing_key(path).map(|(_, key)| {
            SignedEvent::sign(
                writer.origin(),
                Signer::Body(args.cert_no.registration_number()),
                &key,
                Event {
                    id: EventId(rand::random()),
                    kind,
                },
            )
        }),
        None => writer.sign_as_authority(kind),
    };
    match signed {
        Ok(signed) => writer.submit_and_close(signed, json),
        Err(error) => {
            writer.close()?;
            Err(error)
        }
    }
}
