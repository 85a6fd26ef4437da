//! `skill-ledger recognize`: 互认 of a partner credential by this ledger's authority. The
//! recognition is built from the partner's mirror (entry, leaf hash, subject, level,
//! occupation, issue date; the home occupation per the policy's `[recognition]` mapping),
//! checked against it, signed with the authority key and submitted. With `--withdraw`, the
//! authority withdraws a recognition by its own decision instead.
//!
//! With `--node URL` (the node serves, so its mirror and directory are its own), the
//! recognition is built by the node from its mirror
//! (`GET /v1/partner-credentials/{cert_no}/recognition`), signed here with `--authority-key`
//! and submitted; the node checks it against the mirror again at admission. A withdrawal
//! (`--withdraw`) finds the active recognition through the holder's record
//! (`GET /v1/persons/{subject}`).

use anyhow::anyhow;
use clap::Args;
use serde_json::json;
use skill_ledger_domain::{
    CertificateNumber, Date, Event, EventId, EventKind, RecognitionWithdrawn, SignedEvent, Signer,
    WithdrawalReason,
};
use skill_ledger_sync::{
    check_against_mirror, recognition_from_mirror, Home, Mirror, Partners, RecognitionCheckError,
    RecognitionCheckKind,
};

use crate::admin::{open_dir, submit_and_report};
use crate::output::print_json;
use crate::remote::{AuthorityTargetArg, Writer};
use crate::{CliResult, Failure};

#[derive(Args)]
pub struct RecognizeArgs {
    #[command(flatten)]
    pub target: AuthorityTargetArg,
    /// The partner's origin (e.g. skill-ledger/51); may be left out with one partner.
    #[arg(long)]
    pub partner: Option<String>,
    /// The partner's certificate number to recognise (or whose recognition to withdraw).
    pub cert_no: CertificateNumber,
    /// The date of the recognition (default: today, UTC).
    #[arg(long)]
    pub date: Option<Date>,
    /// Withdraw the active recognition of the certificate by the authority's decision, for
    /// this reason.
    #[arg(long, value_name = "REASON")]
    pub withdraw: Option<String>,
}

/// Today's date, UTC: the default of the commands' `--date`.
pub(crate) fn today() -> Date {
    let now = time::OffsetDateTime::now_utc();
    Date::from_ymd(now.year(), u8::from(now.month()), now.day())
        .unwrap_or_else(|| panic!("today ({now}) is a calendar date"))
}

fn refused(error: RecognitionCheckError, json: bool) -> Failure {
    if json {
        print_json(&json!({"accepted": false, "event": "recognition_recorded",
            "problem": error.kind.code(), "field": error.field, "message": error.message,
            "message_zh": error.kind.message_zh()}));
    }
    let message = anyhow!(crate::output::recognition_refusal_line(&error));
    match error.kind {
        RecognitionCheckKind::Store => Failure::from(message),
        _ => Failure::refused(message),
    }
}

pub fn recognize(args: RecognizeArgs, json: bool) -> CliResult {
    if args.target.target.node.is_some() {
        return recognize_remote(args, json);
    }
    let dir = crate::remote::target_dir(&args.target.target)?;
    let home = Home::load(&dir).map_err(|error| anyhow!(error))?;
    let partners = Partners::load(&home).map_err(|error| anyhow!(error))?;
    let partner = partners
        .select(args.partner.as_deref())
        .map_err(|error| anyhow!(error))?
        .clone();
    let date = args.date.unwrap_or_else(today);
    let node = open_dir(&dir)?;
    let result = (|| {
        if let Some(reason) = args.withdraw {
            return withdraw(&node, &partner.origin, args.cert_no, date, reason, json);
        }
        let mirror = Mirror::open(&home, &partner).map_err(|error| anyhow!(error))?;
        let reader = mirror.reader();
        let registry = node.registry();
        let policy = registry
            .policy_at(date)
            .ok_or_else(|| anyhow!("no policy is in force on {date}"))?;
        let recognised = recognition_from_mirror(&reader, policy, &args.cert_no, date)
            .map_err(|error| refused(error, json))?;
        // The same check the server runs on `POST /v1/events`.
        check_against_mirror(&reader, &recognised).map_err(|error| refused(error, json))?;
        drop(mirror);
        let signed = node.sign_as_authority(EventKind::RecognitionRecorded(recognised));
        submit_and_report(&node, signed, json)
    })();
    node.close()?;
    result
}

fn withdraw(
    node: &skill_ledger_node::Node,
    origin: &str,
    number: CertificateNumber,
    date: Date,
    reason: String,
    json: bool,
) -> CliResult {
    let recognitions = node.recognitions(origin)?;
    let (subject, recognition) = recognitions
        .into_iter()
        .find(|(_, held)| held.is_active() && held.certificate_number == number)
        .ok_or_else(|| {
            Failure::refused(anyhow!(
                "no active recognition of {number} of {origin} on this ledger"
            ))
        })?;
    let signed = SignedEvent::sign(
        node.origin(),
        Signer::Authority,
        node.authority_key(),
        Event {
            id: EventId(rand::random()),
            kind: EventKind::RecognitionWithdrawn(RecognitionWithdrawn {
                recognition: recognition.id,
                subject,
                effective: date,
                reason: WithdrawalReason::AuthorityDecision { reason },
            }),
        },
    );
    submit_and_report(node, signed, json)
}

/// `recognize --node`: the node drafts the recognition from its mirror; it is signed here.
fn recognize_remote(args: RecognizeArgs, json: bool) -> CliResult {
    let writer = Writer::open_authority(&args.target)?;
    let Writer::Remote { client, .. } = &writer else {
        return Err(anyhow!("recognize --node needs --node URL").into());
    };
    let mut recognised = match client.recognition_draft(&args.cert_no)? {
        Ok(recognised) => recognised,
        Err(refused) => {
            if json {
                print_json(&json!({"accepted": false, "event": "recognition_recorded",
                    "problem": refused.code, "message": refused.detail}));
            }
            return Err(Failure::refused(anyhow!(
                "refused ({}): {}",
                refused.code,
                refused.detail
            )));
        }
    };
    if let Some(reason) = args.withdraw {
        let date = args.date.unwrap_or_else(today);
        return withdraw_remote(&writer, client, &recognised, date, reason, json);
    }
    if let Some(date) = args.date {
        recognised.date = date;
    }
    if let Some(partner) = &args.partner {
        if *partner != recognised.origin {
            return Err(Failure::refused(anyhow!(
                "certificate {} is held in the mirror of {}, not of {partner}",
                args.cert_no,
                recognised.origin
            )));
        }
    }
    let signed = writer.sign_as_authority(EventKind::RecognitionRecorded(recognised))?;
    writer.submit_and_report(signed, json)
}

/// `recognize --node --withdraw`: the active recognition of the certificate is found through
/// the holder's record (`GET /v1/persons/{subject}`, the subject from the mirror's draft).
fn withdraw_remote(
    writer: &Writer,
    client: &crate::remote::NodeClient,
    recognised: &skill_ledger_domain::RecognitionRecorded,
    date: Date,
    reason: String,
    json: bool,
) -> CliResult {
    let number = recognised.certificate_number;
    let origin = &recognised.origin;
    let person = client.get_json(&format!("v1/persons/{}", recognised.subject.to_hex()))?;
    let active = person.as_ref().and_then(|person| {
        person["recognitions"].as_array()?.iter().find(|held| {
            held["status"] == "active"
                && held["origin"] == origin.as_str()
                && held["certificate_number"] == number.as_str()
        })
    });
    let id = active
        .and_then(|held| held["id"].as_str())
        .and_then(EventId::from_hex)
        .ok_or_else(|| {
            Failure::refused(anyhow!(
                "no active recognition of {number} of {origin} on this ledger"
            ))
        })?;
    let signed =
        writer.sign_as_authority(EventKind::RecognitionWithdrawn(RecognitionWithdrawn {
            recognition: id,
            subject: recognised.subject,
            effective: date,
            reason: WithdrawalReason::AuthorityDecision { reason },
        }))?;
    writer.submit_and_report(signed, json)
}
