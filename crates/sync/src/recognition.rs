//! 川渝 互认 against the mirror: what the home node checks when it admits a recognition of a
//! partner credential, how it builds one, and which recognitions it must withdraw because the
//! origin revoked the credential.
//!
//! The domain's `decide` judges a `RecognitionRecorded` by the home ledger alone, so a
//! replay never needs a mirror. Whether the partner's log holds that credential is checked
//! here, at admission ([`check_against_mirror`]): the mirror must hold the certificate,
//! certified by the entry the event names, with that leaf hash, for that subject, level,
//! occupation and issue date, and valid. The server (`POST /v1/events`) and the CLI
//! (`skill-ledger recognize`) call it before submitting; a disagreement is a typed problem
//! ([`RecognitionCheckKind::code`]).
//!
//! [`withdrawals_due`] is the other direction: for each active recognition of a partner's
//! credential that the mirror now holds revoked, the `RecognitionWithdrawn` the home node signs
//! and submits by itself. Its event id is derived from the recognition's
//! ([`EventId::withdrawal_of`]) and its content from the revocation, so a resubmission after a
//! restart is the same entry: a duplicate, not a second withdrawal.

use skill_ledger_domain::{
    CertificateNumber, CredentialStatus, Date, Event, EventId, EventKind,
    PartnerContestResultAccepted, Policy, RecognitionRecord, RecognitionRecorded,
    RecognitionWithdrawn, SubjectId, WithdrawalReason,
};

use crate::mirror::{ForeignCredential, MirrorReader};

/// Why a recognition does not agree with the partner's mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecognitionCheckKind {
    /// The origin is not a partner of this ledger (no mirror of it).
    UnknownPartner,
    /// The mirror does not hold the certificate (not issued, or not mirrored yet).
    NotInMirror,
    /// The mirror holds the certificate with another entry, leaf hash, subject, level,
    /// occupation or issue date than the recognition states.
    MirrorDisagrees,
    /// The origin revoked the credential.
    RevokedAtOrigin,
    /// The mirror's store could not be read.
    Store,
}

impl RecognitionCheckKind {
    /// The stable problem code (`urn:skill-ledger:problem:<code>` over HTTP).
    pub fn code(self) -> &'static str {
        match self {
            RecognitionCheckKind::UnknownPartner => "unknown-partner",
            RecognitionCheckKind::NotInMirror => "credential-not-in-mirror",
            RecognitionCheckKind::MirrorDisagrees => "mirror-disagrees",
            RecognitionCheckKind::RevokedAtOrigin => "credential-revoked-at-origin",
            RecognitionCheckKind::Store => "mirror-unavailable",
        }
    }

    /// The Chinese message of the check, as `Rejection::message_zh` for the ledger's rules.
    pub fn message_zh(self) -> &'static str {
        match self {
            RecognitionCheckKind::UnknownPartner => "来源账本不是本账本的合作方（没有它的镜像）",
            RecognitionCheckKind::NotInMirror => "合作方账本的镜像中没有该证书（未颁发或尚未同步）",
            RecognitionCheckKind::MirrorDisagrees => "互认内容与合作方账本镜像中的证书不一致",
            RecognitionCheckKind::RevokedAtOrigin => "该证书已被发证方撤销",
            RecognitionCheckKind::Store => "合作方账本的镜像无法读取",
        }
    }
}

/// A recognition refused at admission, with a message naming what differs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RecognitionCheckError {
    pub kind: RecognitionCheckKind,
    pub message: String,
    /// The field of the recognition that differs from the mirror, if one does.
    pub field: Option<&'static str>,
}

impl RecognitionCheckError {
    fn new(kind: RecognitionCheckKind, message: String) -> RecognitionCheckError {
        RecognitionCheckError {
            kind,
            message,
            field: None,
        }
    }

    /// The origin names no partner of this ledger.
    pub fn unknown_partner(origin: &str) -> RecognitionCheckError {
        RecognitionCheckError::new(
            RecognitionCheckKind::UnknownPartner,
            format!("{origin} is not a partner of this ledger (partners.toml): no mirror holds its credentials"),
        )
    }
}

fn held(
    reader: &MirrorReader,
    number: &CertificateNumber,
) -> Result<ForeignCredential, RecognitionCheckError> {
    let found = reader.credential(number).map_err(|error| {
        RecognitionCheckError::new(
            RecognitionCheckKind::Store,
            format!("the mirror of {} cannot be read: {error}", reader.origin()),
        )
    })?;
    let cursor = reader.cursor().unwrap_or(0);
    found.ok_or_else(|| {
        RecognitionCheckError::new(
            RecognitionCheckKind::NotInMirror,
            format!(
                "the mirror of {} (its first {cursor} entries) does not hold certificate {number}",
                reader.origin()
            ),
        )
    })
}

fn refuse_revoked(
    reader: &MirrorReader,
    found: &ForeignCredential,
) -> Result<(), RecognitionCheckError> {
    if let CredentialStatus::Revoked {
        effective,
        entry_index,
        ..
    } = &found.record.status
    {
        return Err(RecognitionCheckError::new(
            RecognitionCheckKind::RevokedAtOrigin,
            format!(
                "{} revoked certificate {} by its entry {entry_index}, effective {effective}",
                reader.origin(),
                found.record.certificate_number
            ),
        ));
    }
    Ok(())
}

/// Checks a recognition against the partner's mirror (see the module documentation), in this
/// order: the partner is known, the mirror holds the certificate, it is not revoked, and every
/// stated field equals the mirror's.
pub fn check_against_mirror(
    reader: &MirrorReader,
    recognised: &RecognitionRecorded,
) -> Result<(), RecognitionCheckError> {
    if recognised.origin != reader.origin() {
        return Err(RecognitionCheckError::unknown_partner(&recognised.origin));
    }
    let found = held(reader, &recognised.certificate_number)?;
    refuse_revoked(reader, &found)?;
    let record = &found.record;
    let differs = |field: &'static str, stated: String, mirrored: String| {
        Err(RecognitionCheckError {
            kind: RecognitionCheckKind::MirrorDisagrees,
            message: format!(
                "certificate {} of {}: the recognition states {field} {stated}, the mirror holds {mirrored}",
                record.certificate_number,
                reader.origin()
            ),
            field: Some(field),
        })
    };
    if record.entry_index != recognised.entry_index {
        return differs(
            "entry_index",
            recognised.entry_index.to_string(),
            record.entry_index.to_string(),
        );
    }
    if found.leaf_hash != recognised.leaf_hash {
        return differs(
            "leaf_hash",
            hex::encode(recognised.leaf_hash),
            hex::encode(found.leaf_hash),
        );
    }
    if record.subject != recognised.subject {
        return differs(
            "subject",
            recognised.subject.to_hex(),
            record.subject.to_hex(),
        );
    }
    if record.level != recognised.level {
        return differs(
            "level",
            recognised.level.id().to_string(),
            record.level.id().to_string(),
        );
    }
    if record.occupation != recognised.partner_occupation {
        return differs(
            "partner_occupation",
            recognised.partner_occupation.to_string(),
            record.occupation.to_string(),
        );
    }
    if record.issued != recognised.issued {
        return differs(
            "issued",
            recognised.issued.to_string(),
            record.issued.to_string(),
        );
    }
    Ok(())
}

/// Checks a partner contest result accepted for the home contest joint with the partner's
/// `partner_contest` against the mirror: the mirror holds the person's result `partner_result`
/// folded from entry `entry_index`, in `partner_contest`, with the stated occupation, rank,
/// award and date.
pub fn check_partner_result(
    reader: &MirrorReader,
    accepted: &PartnerContestResultAccepted,
    partner_contest: EventId,
) -> Result<(), RecognitionCheckError> {
    if accepted.origin != reader.origin() {
        return Err(RecognitionCheckError::unknown_partner(&accepted.origin));
    }
    let career = reader.career(&accepted.subject).map_err(|error| {
        RecognitionCheckError::new(
            RecognitionCheckKind::Store,
            format!("the mirror of {} cannot be read: {error}", reader.origin()),
        )
    })?;
    let Some(result) = career.and_then(|career| {
        career
            .contest_results
            .into_iter()
            .find(|result| result.id == accepted.partner_result)
    }) else {
        return Err(RecognitionCheckError::new(
            RecognitionCheckKind::NotInMirror,
            format!(
                "the mirror of {} holds no contest result {} of the subject",
                reader.origin(),
                accepted.partner_result.to_hex()
            ),
        ));
    };
    let stated = (
        accepted.entry_index,
        partner_contest,
        accepted.occupation,
        accepted.rank,
        accepted.award.as_str(),
        accepted.date,
    );
    let held = (
        result.entry_index,
        result.contest,
        result.occupation,
        result.rank,
        result.award.as_str(),
        result.date,
    );
    if stated != held {
        return Err(RecognitionCheckError {
            kind: RecognitionCheckKind::MirrorDisagrees,
            message: format!(
                "contest result {} of {}: stated (entry, contest, occupation, rank, award, date) \
                 {stated:?}, the mirror holds {held:?}",
                accepted.partner_result.to_hex(),
                reader.origin()
            ),
            field: None,
        });
    }
    Ok(())
}

/// The recognition of certificate `number` as the mirror holds it, dated `date`, in the home
/// occupation `policy`'s `[recognition]` mapping gives.
pub fn recognition_from_mirror(
    reader: &MirrorReader,
    policy: &Policy,
    number: &CertificateNumber,
    date: Date,
) -> Result<RecognitionRecorded, RecognitionCheckError> {
    let found = held(reader, number)?;
    refuse_revoked(reader, &found)?;
    let record = found.record;
    Ok(RecognitionRecorded {
        origin: reader.origin().to_string(),
        entry_index: record.entry_index,
        leaf_hash: found.leaf_hash,
        certificate_number: record.certificate_number,
        subject: record.subject,
        level: record.level,
        partner_occupation: record.occupation,
        occupation: policy
            .recognition
            .home_occupation(reader.origin(), record.occupation),
        issued: record.issued,
        date,
    })
}

/// The withdrawals due for `recognitions` (of this partner): one per active recognition whose
/// credential the mirror holds revoked. Effective on the later of the revocation's effective
/// date and the recognition's date.
pub fn withdrawals_due(
    reader: &MirrorReader,
    recognitions: &[(SubjectId, RecognitionRecord)],
) -> Result<Vec<Event>, RecognitionCheckError> {
    let mut due = Vec::new();
    for (subject, recognition) in recognitions {
        if !recognition.is_active() || recognition.origin != reader.origin() {
            continue;
        }
        let found = match held(reader, &recognition.certificate_number) {
            Ok(found) => found,
            Err(error) if error.kind == RecognitionCheckKind::NotInMirror => continue,
            Err(error) => return Err(error),
        };
        if let CredentialStatus::Revoked {
            effective,
            entry_index,
            ..
        } = found.record.status
        {
            due.push(Event {
                id: EventId::withdrawal_of(&recognition.id),
                kind: EventKind::RecognitionWithdrawn(RecognitionWithdrawn {
                    recognition: recognition.id,
                    subject: *subject,
                    effective: effective.max(recognition.date),
                    reason: WithdrawalReason::OriginRevoked {
                        revocation_index: entry_index,
                    },
                }),
            });
        }
    }
    Ok(due)
}

/// Why [`withdraw_revoked_recognitions`] did not make every withdrawal due.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawalError {
    /// The home ledger's recognitions could not be listed.
    #[error(transparent)]
    Home(#[from] skill_ledger_node::NodeError),
    /// The partner's mirror could not be read.
    #[error(transparent)]
    Mirror(#[from] crate::error::SyncError),
    /// The withdrawals due could not be worked out from the mirror.
    #[error(transparent)]
    Check(#[from] RecognitionCheckError),
    /// The node refused some withdrawals (each refusal, in order); `withdrawn` were made.
    #[error("{}", refused.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused {
        withdrawn: usize,
        refused: Vec<skill_ledger_node::SubmitError>,
    },
}

/// Signs, as the home authority, and submits to `node` the withdrawal of every active
/// recognition of the partner's credentials that the partner's mirror (`reader`) now holds
/// revoked ([`withdrawals_due`]). A withdrawal made before is the same entry again, a
/// duplicate, so this can run after every pull and after restarts. Returns how many
/// recognitions were newly withdrawn; the submissions that failed are named together.
pub fn withdraw_revoked_recognitions(
    node: &skill_ledger_node::Node,
    reader: &MirrorReader,
) -> Result<usize, WithdrawalError> {
    let recognitions = node.recognitions(reader.origin())?;
    if recognitions.iter().all(|(_, held)| !held.is_active()) {
        return Ok(0);
    }
    let due = withdrawals_due(reader, &recognitions)?;
    let mut withdrawn = 0;
    let mut errors = Vec::new();
    for event in due {
        let signed = skill_ledger_domain::SignedEvent::sign(
            node.origin(),
            skill_ledger_domain::Signer::Authority,
            node.authority_key(),
            event,
        );
        match node.submit(signed) {
            Ok(receipt) if receipt.duplicate => {}
            Ok(receipt) => {
                withdrawn += 1;
                tracing::info!(
                    partner = reader.origin(),
                    index = receipt.index,
                    "recognition withdrawn: the origin revoked the credential"
                );
            }
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(withdrawn)
    } else {
        Err(WithdrawalError::Refused {
            withdrawn,
            refused: errors,
        })
    }
}
