//! Commands that read: show, verify, stats, rebuild, checkpoint, proof, audit.

use anyhow::anyhow;
use base64::Engine as _;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use serde_json::json;
use skill_ledger_domain::{CertificateNumber, IdDocumentType, RegistrationNumber};
use skill_ledger_node::stats_document;
use skill_ledger_server::federation::{partner_credential, PartnerCredential, PartnerMirror};
use skill_ledger_server::verify::{verify_with_mirrors, Verification, VerifyQuery, VerifyStatus};
use skill_ledger_sync::{Home, Mirror, Partners};

use crate::admin::open;
use crate::output::{
    body_json, credential_json, person_json, print_human, print_json, progress_bar,
};
use crate::{CliResult, DirArg, Failure};

fn emit(value: &serde_json::Value, json: bool) {
    if json {
        print_json(value)
    } else {
        print_human(value)
    }
}

#[derive(Subcommand)]
pub enum ShowCommand {
    /// A credential by certificate number.
    Credential {
        #[command(flatten)]
        dir: DirArg,
        cert_no: CertificateNumber,
    },
    /// A person's credentials, by identity-document number (pseudonymised before lookup).
    Person {
        #[command(flatten)]
        dir: DirArg,
        #[arg(long)]
        id_number: String,
        #[arg(long, default_value = "resident_id")]
        id_type: String,
    },
    /// An evaluation body by registration number.
    Body {
        #[command(flatten)]
        dir: DirArg,
        reg_no: RegistrationNumber,
    },
}

pub fn show(command: ShowCommand, json: bool) -> CliResult {
    match command {
        ShowCommand::Credential { dir, cert_no } => {
            let node = open(&dir)?;
            // A partner's certificate from its mirror, as the API answers it.
            if cert_no.province() != node.province() {
                let mirrors = open_mirrors(&dir)?;
                let readers: Vec<_> = mirrors.iter().map(Mirror::reader).collect();
                let partners = partner_mirrors(&readers);
                let answer = partner_credential(&partners, &cert_no);
                drop(partners);
                drop(readers);
                drop(mirrors);
                let answer = answer
                    .map_err(|error| anyhow!("the partner mirror could not answer: {error}"))?;
                match answer {
                    PartnerCredential::NoPartner => {}
                    PartnerCredential::Found(response) => {
                        node.close()?;
                        emit(&serde_json::to_value(&*response)?, json);
                        return Ok(());
                    }
                    PartnerCredential::NotHeld {
                        origin,
                        entries_held,
                    } => {
                        node.close()?;
                        emit(
                            &json!({"certificate_number": cert_no.as_str(), "status": "unknown",
                                    "ledger": origin}),
                            json,
                        );
                        return Err(Failure::refused(anyhow!(
                            "credential {cert_no} is not in this ledger's mirror of {origin} \
                             ({entries_held} entries held)"
                        )));
                    }
                }
            }
            if cert_no.kind() == skill_ledger_domain::CredentialKind::SpecialAbility {
                let found = node.special_ability(&cert_no)?;
                let registry = node.registry();
                node.close()?;
                return match found {
                    Some(record) => {
                        emit(
                            &serde_json::to_value(
                                skill_ledger_server::views::SpecialAbilityView::new(
                                    &record, &registry,
                                ),
                            )?,
                            json,
                        );
                        Ok(())
                    }
                    None => {
                        emit(
                            &json!({"certificate_number": cert_no.as_str(), "status": "unknown"}),
                            json,
                        );
                        Err(Failure::refused(anyhow!(
                            "专项职业能力证书 {cert_no} is not on this ledger"
                        )))
                    }
                };
            }
            match node.credential(&cert_no)? {
                Some(credential) => {
                    let foreign = node.foreign_basis(&credential)?;
                    emit(
                        &credential_json(&credential, foreign.as_ref(), &node.registry()),
                        json,
                    )
                }
                None => {
                    emit(
                        &json!({"certificate_number": cert_no.as_str(), "status": "unknown"}),
                        json,
                    );
                    return Err(Failure::refused(anyhow!(
                        "credential {cert_no} is not on this ledger"
                    )));
                }
            }
        }
        ShowCommand::Person {
            dir,
            id_number,
            id_type,
        } => {
            let id_type = IdDocumentType::from_code(&id_type)
                .ok_or_else(|| anyhow!("--id-type '{id_type}' is not a document type"))?;
            let id_number = crate::input::identity_number(id_type, &id_number)?;
            let node = open(&dir)?;
            let subject = node.pseudonym_key().subject(id_type, &id_number);
            let career = node.career(&subject)?;
            match (node.person(&subject)?, career) {
                (None, None) => {
                    emit(
                        &json!({"subject": subject.to_hex(), "credentials": []}),
                        json,
                    );
                    return Err(Failure::refused(anyhow!("no record for this person")));
                }
                (person, career) => emit(
                    &person_json(
                        &subject,
                        &person.unwrap_or_default(),
                        &career.unwrap_or_default(),
                        &node.registry(),
                    ),
                    json,
                ),
            }
        }
        ShowCommand::Body { dir, reg_no } => {
            let node = open(&dir)?;
            match node.body(&reg_no) {
                Some(body) => emit(&body_json(&body), json),
                None => return Err(Failure::refused(anyhow!("body {reg_no} is not registered"))),
            }
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub dir: DirArg,
    #[arg(long)]
    pub cert_no: CertificateNumber,
    /// Holder name as printed on the certificate.
    #[arg(long)]
    pub name: String,
}

pub fn verify(args: VerifyArgs, json: bool) -> CliResult {
    crate::input::holder_name(&args.name)?;
    let node = open(&args.dir)?;
    let query = VerifyQuery {
        certificate_number: args.cert_no,
        name: args.name.clone(),
        identity: None,
    };
    // A partner's certificate is answered from its mirror under the ledger directory, as the
    // API and the portal answer it (`skill_ledger_server::verify::verify_with_mirrors`).
    let mirrors = if args.cert_no.province() == node.province() {
        Vec::new()
    } else {
        open_mirrors(&args.dir)?
    };
    let readers: Vec<_> = mirrors.iter().map(Mirror::reader).collect();
    let partners = partner_mirrors(&readers);
    let verification = verify_with_mirrors(&node, &partners, &query);
    drop(partners);
    drop(readers);
    drop(mirrors);
    node.close()?;
    let verification = verification?;
    let value = verification_json(&verification);
    if json {
        print_json(&value);
    } else {
        print_verification(&args.cert_no, &verification, &value, partner_origin(&value));
    }
    let ok = verification.status == VerifyStatus::Valid;
    if ok {
        Ok(())
    } else {
        Err(Failure::refused(anyhow!(
            "certificate {} is {}",
            args.cert_no,
            match verification.status {
                VerifyStatus::Revoked => "revoked",
                VerifyStatus::Mismatch => "not held under this name",
                _ => "not on this ledger",
            }
        )))
    }
}

/// Each mirror's origin and reader, as the server's lookups take them.
pub(crate) fn partner_mirrors(
    readers: &[skill_ledger_sync::MirrorReader],
) -> Vec<PartnerMirror<'_>> {
    readers
        .iter()
        .map(|reader| PartnerMirror {
            origin: reader.origin(),
            reader,
        })
        .collect()
}

/// The mirrors of the partners in `partners.toml` (none without the file).
pub(crate) fn open_mirrors(dir: &DirArg) -> Result<Vec<Mirror>, Failure> {
    let home = Home::load(&dir.dir).map_err(|error| anyhow!(error))?;
    let partners = Partners::load(&home).map_err(|error| anyhow!(error))?;
    partners
        .partners
        .iter()
        .map(|partner| {
            Mirror::open(&home, partner)
                .map_err(|error| anyhow!("the mirror of {}: {error}", partner.origin).into())
        })
        .collect()
}

fn partner_origin(value: &serde_json::Value) -> Option<&str> {
    value["mirror"]
        .is_object()
        .then(|| value["ledger"].as_str())
        .flatten()
}

/// The CLI's JSON of a verification: the credential's fields (as `show credential`) when the
/// holder matched, `status` (`valid`, `revoked`, `name_mismatch`, `unknown`), `matched`,
/// `checked_against`, and for a partner's certificate `ledger` and `mirror`.
fn verification_json(verification: &Verification) -> serde_json::Value {
    let mut value = match (&verification.credential, &verification.special_ability) {
        (Some(credential), _) => serde_json::to_value(credential).unwrap_or_else(|_| json!({})),
        (None, Some(ability)) => serde_json::to_value(ability).unwrap_or_else(|_| json!({})),
        (None, None) => json!({"certificate_number": verification.certificate_number}),
    };
    value["status"] = json!(match verification.status {
        VerifyStatus::Valid => "valid",
        VerifyStatus::Revoked => "revoked",
        VerifyStatus::Mismatch => "name_mismatch",
        VerifyStatus::Unknown => "unknown",
    });
    value["matched"] = json!(verification.matched);
    value["checked_against"] =
        verification
            .checked_against
            .as_ref()
            .map_or(serde_json::Value::Null, |checkpoint| {
                json!({"origin": checkpoint.origin, "size": checkpoint.size,
                   "time_unix_s": checkpoint.time_unix_s, "root": checkpoint.root})
            });
    if verification.mirror.is_some() {
        value["ledger"] = json!(verification.ledger);
        value["mirror"] = serde_json::to_value(&verification.mirror).unwrap_or_default();
    }
    value
}

fn print_verification(
    cert_no: &CertificateNumber,
    verification: &Verification,
    value: &serde_json::Value,
    partner: Option<&str>,
) {
    let label = match verification.status {
        VerifyStatus::Valid => "VALID (有效)",
        VerifyStatus::Revoked => "REVOKED (已撤销)",
        VerifyStatus::Mismatch => "NAME DOES NOT MATCH (姓名不符)",
        VerifyStatus::Unknown => "UNKNOWN (查无此证)",
    };
    println!("{cert_no}: {label}");
    if verification.matched && verification.special_ability.is_some() {
        println!(
            "  专项职业能力证书 {} ({}) · {} {} · {} · issued {}",
            value["ability_name"].as_str().unwrap_or(""),
            value["ability"].as_str().unwrap_or(""),
            value["occupation"].as_str().unwrap_or(""),
            value["occupation_name"].as_str().unwrap_or(""),
            value["body_name"].as_str().unwrap_or(""),
            value["issued"].as_str().unwrap_or("")
        );
    } else if verification.matched {
        println!(
            "  {} · {} {} · {} · issued {}",
            value["level_name"].as_str().unwrap_or(""),
            value["occupation"].as_str().unwrap_or(""),
            value["occupation_name"].as_str().unwrap_or(""),
            value["body_name"].as_str().unwrap_or(""),
            value["issued"].as_str().unwrap_or("")
        );
        if let Some(foreign) = value["foreign"].as_object() {
            println!(
                "  境外证书比照认定: {} ({}), {} No. {}, catalogue v{}",
                foreign["certificate_type_name"].as_str().unwrap_or(""),
                foreign["certificate_type"].as_str().unwrap_or(""),
                foreign["foreign_issuer"].as_str().unwrap_or(""),
                foreign["document_id"].as_str().unwrap_or(""),
                foreign["catalogue_version"]
            );
        }
        let warning = &value["issuer_status_warning"];
        if let Some(status) = warning["status"].as_str() {
            println!(
                "  WARNING: the issuing body is {status} from {} ({}), a change logged after this \
                 certificate, whose issue date falls inside it (发证机构在发证日已被{}备案)",
                warning["effective"].as_str().unwrap_or(""),
                warning["reason"].as_str().unwrap_or(""),
                if status == "cancelled" {
                    "取消"
                } else {
                    "暂停"
                }
            );
        }
    }
    if let Some(partner) = partner {
        let mirror = &value["mirror"];
        println!(
            "  answered from the mirrored ledger of partner {partner} (合作方账本镜像): \
             checkpoint size {}, {} entries held{}",
            mirror["checkpoint_size"].as_u64().unwrap_or(0),
            mirror["entries_held"].as_u64().unwrap_or(0),
            match mirror["seconds_since_last_pull"].as_u64() {
                Some(seconds) => format!(", last pulled {seconds} s ago"),
                None => String::new(),
            }
        );
    }
}

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// A dimension: `route` (evaluation, direct, contest, conversion, appointment,
    /// apprenticeship, recognition, foreign-comparison) or `kind` (skill_level,
    /// qualification, special_ability).
    #[arg(long, value_parser = ["route", "kind"])]
    pub by: Option<String>,
}

pub fn stats(args: StatsArgs, json: bool) -> CliResult {
    let node = open(&args.dir)?;
    let counters = node.stats()?;
    let document = match args.by.as_deref() {
        Some("route") => skill_ledger_node::stats_by_route(&counters),
        Some("kind") => skill_ledger_node::stats_by_kind(&counters),
        _ => stats_document(&counters),
    };
    node.close()?;
    if json {
        print_json(&document);
    } else {
        match args.by.as_deref() {
            Some("route") => print!("{}", crate::table::stats_by_route(&document)),
            Some("kind") => print!("{}", crate::table::stats_by_kind(&document)),
            _ => print!("{}", crate::table::stats(&document)),
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub ledger: DirArg,
    /// Verify every entry's signature again (batch verification on all cores) and judge
    /// every event again by the ledger's rules. Without it the rebuild relies on the check
    /// made when the ledger opens: the Merkle root recomputed from the entries must equal the
    /// signed checkpoint's, so the entries are those verified when they were appended.
    #[arg(long)]
    pub verify_signatures: bool,
}

/// Where a rebuild's seconds went (`stages_s` of the `rebuild` and `bench rebuild` reports;
/// `replay` is the fold alone).
pub(crate) fn stages_json(stages: &skill_ledger_node::RebuildStages) -> serde_json::Value {
    json!({
        "open": stages.open,
        "digest": stages.digest,
        "replay": stages.replay,
        "flush": stages.flush,
    })
}

pub fn rebuild(args: RebuildArgs, json: bool) -> CliResult {
    let mut bar: Option<ProgressBar> = None;
    let options = skill_ledger_node::RebuildOptions {
        verify_signatures: args.verify_signatures,
    };
    let report = skill_ledger_node::rebuild_with(&args.ledger.dir, options, &mut |done, total| {
        let bar = bar.get_or_insert_with(|| progress_bar(total, "rebuild", false));
        bar.set_position(done);
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let identical = report.digest_before == Some(report.digest_after);
    let value = json!({
        "entries": report.entries,
        "digest_before": report.digest_before.map(hex::encode),
        "digest_after": hex::encode(report.digest_after),
        "identical": identical,
        "seconds": report.seconds,
        "stages_s": stages_json(&report.stages),
        "verified_signatures": report.verified_signatures,
    });
    if json {
        print_json(&value);
    } else {
        println!(
            "rebuilt {} entries in {:.2} s\n  before: {}\n  after:  {}\n  {}",
            report.entries,
            report.seconds,
            value["digest_before"].as_str().unwrap_or("(unreadable)"),
            value["digest_after"].as_str().unwrap_or(""),
            if identical {
                "identical"
            } else {
                "DIFFERENT: the old projections were wrong; the rebuilt ones are now in place"
            }
        );
    }
    if identical {
        Ok(())
    } else {
        Err(Failure::refused(anyhow!(
            "projection digest changed on rebuild"
        )))
    }
}

#[derive(Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Print the ledger's verifier key instead.
    #[arg(long)]
    pub vkey: bool,
}

pub fn checkpoint(args: CheckpointArgs, json: bool) -> CliResult {
    if args.vkey {
        // Read from the key file, so it works while the ledger is being served.
        let vkey = skill_ledger_node::read_verifier_key(&args.dir.dir)?;
        if json {
            print_json(&json!({"verifier_key": vkey}));
        } else {
            println!("{vkey}");
        }
        return Ok(());
    }
    let node = open(&args.dir)?;
    let checkpoint = node
        .checkpoint()
        .ok_or_else(|| anyhow!("the ledger has no signed checkpoint yet"))?;
    if json {
        print_json(&json!({
            "origin": checkpoint.checkpoint.origin,
            "size": checkpoint.checkpoint.size,
            "root": base64::engine::general_purpose::STANDARD.encode(checkpoint.checkpoint.root),
            "time_unix_s": checkpoint.checkpoint.time_unix_s,
            "note": checkpoint.note_text,
        }));
    } else {
        print!("{}", checkpoint.note_text);
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ProofCommand {
    /// Inclusion proof of entry INDEX in the tree of --size entries (default: latest checkpoint).
    Inclusion {
        #[command(flatten)]
        dir: DirArg,
        index: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between tree sizes OLD and NEW.
    Consistency {
        #[command(flatten)]
        dir: DirArg,
        old: u64,
        new: u64,
    },
}

pub fn proof(command: ProofCommand, json: bool) -> CliResult {
    let b64 = |hash: &[u8; 32]| base64::engine::general_purpose::STANDARD.encode(hash);
    let value = match command {
        ProofCommand::Inclusion { dir, index, size } => {
            let node = open(&dir)?;
            let size = size.unwrap_or_else(|| node.checkpoint().map_or(0, |c| c.checkpoint.size));
            if index >= size {
                return Err(anyhow!("index {index} is not below the tree size {size}").into());
            }
            let tree = node.tree_reader();
            let proof = tree.inclusion_proof(index, size)?;
            json!({
                "index": index,
                "size": size,
                "leaf_hash": hex::encode(tree.leaf_hash(index)?),
                "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                "root": b64(&tree.root(size)?),
            })
        }
        ProofCommand::Consistency { dir, old, new } => {
            let node = open(&dir)?;
            let tree = node.tree_reader();
            if old == 0 || old > new || new > tree.size() {
                return Err(anyhow!(
                    "need 0 < OLD ≤ NEW ≤ tree size {}; got {old} and {new}",
                    tree.size()
                )
                .into());
            }
            let proof = tree.consistency_proof(old, new)?;
            json!({
                "old": old,
                "new": new,
                "old_root": b64(&tree.root(old)?),
                "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                "root": b64(&tree.root(new)?),
            })
        }
    };
    emit(&value, json);
    Ok(())
}

pub fn audit(args: DirArg, json: bool) -> CliResult {
    let node = open(&args)?;
    let checkpoint = node
        .checkpoint()
        .ok_or_else(|| anyhow!("the ledger has no signed checkpoint to audit against"))?;
    let bar = progress_bar(checkpoint.checkpoint.size, "audit", false);
    let result = skill_ledger_log::audit(
        node.log_reader(),
        node.tree_reader(),
        &checkpoint.checkpoint,
        |done| bar.set_position(done),
    );
    bar.finish_and_clear();
    let value = json!({
        "size": checkpoint.checkpoint.size,
        "ok": result.is_ok(),
        "error": result.as_ref().err().map(|error| error.to_string()),
    });
    emit(&value, json);
    result.map_err(|error| Failure::refused(anyhow!(error)))
}
