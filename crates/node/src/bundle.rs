//! Offline credential bundles: built by a node from its log, tree and latest checkpoint;
//! verified anywhere with nothing but the bundle text and a verifier key of the ledger.
//!
//! A bundle's sections, in log order (labels of [`BundleRole`]): `ledger` (entry 0, which
//! names the first authority key), `body` (the issuing body's `BodyRegistered`), `body-change`
//! for each key rotation or status change of the body logged before the credential,
//! `credential` (the `LevelCertified` event), `revocation` (its `CredentialRevoked`, when one
//! is logged below the checkpoint), `issuer-change` (each status change of the body logged
//! after the credential and below the checkpoint), and among them, wherever the log has them,
//! `authority-change` for every `AuthorityRecoveryKeySet` and `AuthorityKeyRotated` up to
//! the checkpoint. Every section carries a C2SP tlog-proof against the same signed
//! checkpoint. After the sections, the `status` note: the credential's status as of that
//! checkpoint (valid, or revoked by the `revocation` entry), signed by the key that signs the
//! checkpoint, so a holder cannot drop a revocation from their bundle; when the bundle was
//! requested with the holder's name it also carries the certificate's name key, which lets
//! a verifier told the name check it offline. The layering: `skill_ledger_log::Bundle` owns the text, the proofs and the
//! note's signatures, `skill_ledger_domain::check_credential_offline` the credential rules
//! and the chain of authority keys; this module decodes entries between the two and checks
//! the checkpoint with the key the chain ends at. The format is in docs/formats.md.

use skill_ledger_domain::{
    check_authority_chain_offline, check_credential_offline, check_holder_offline,
    check_status_offline, BundleRole, CertificateNumber, CredentialStatus, EventKind, LedgerInfo,
    OfflineCredential, OfflineError, OfflineStatus, ProvenEvent, SignedEvent, StatedStatus,
    StatusStatement, TrustedKey, STATUS_NOTE_LABEL,
};
use skill_ledger_log::{
    parse_verifier_key, sign_note, verifier_key_id, verifier_key_text_of, Bundle, BundleError,
    BundleErrorKind, BundleNote, BundleSection, Checkpoint, TlogProof,
};

use crate::error::{NodeError, NodeErrorKind};
use crate::node::Node;

/// What a valid bundle establishes: the checkpoint it was proven against (its size and time
/// say how fresh the proof is), the credential as issued, and its status as of that
/// checkpoint (valid, or revoked by an entry the bundle proves). A revocation logged after
/// the checkpoint cannot be seen offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleVerification {
    pub checkpoint: Checkpoint,
    pub credential: OfflineCredential,
    pub status: OfflineStatus,
    /// The signed status note's content (its holder key, if any, checks a name).
    pub statement: StatusStatement,
}

impl BundleVerification {
    /// Whether `name` is the holder the credential was issued to; `None` when the bundle
    /// carries no holder key (it was not requested with the holder's name).
    pub fn holder_matches(&self, name: &str) -> Option<bool> {
        check_holder_offline(&self.statement, &self.credential, name)
    }

    pub fn is_revoked(&self) -> bool {
        matches!(self.status, OfflineStatus::Revoked { .. })
    }
}

/// What a request for a bundle bound to its holder gets.
#[derive(Debug)]
pub enum HolderBundle {
    /// The credential is not on this ledger.
    Unknown,
    /// The name is not the holder's: no bundle, nothing about the credential.
    NameMismatch,
    /// The bundle, with the certificate's name key in its status note.
    Bundle(String),
}

/// Why a bundle is invalid. [`BundleInvalid::code`] is stable.
#[derive(Debug, thiserror::Error)]
pub enum BundleInvalid {
    /// The text, the checkpoint or an inclusion proof.
    #[error("{0}")]
    Proof(#[from] BundleError),
    /// The key the verifier trusts is not verifier key text.
    #[error("the trusted key is not a verifier key (name+keyid+base64 key): {0}")]
    TrustedKey(String),
    /// The checkpoint is not signed by the authority key the bundle's chain ends at (on a
    /// ledger whose authority key rotated), or that key cannot verify a note.
    #[error("checkpoint does not verify: {reason}")]
    CheckpointKey { reason: String },
    /// The checkpoint carries a signature by a key of the ledger's name that the bundle's
    /// chain of authority keys never reaches: an authority change is missing.
    #[error("checkpoint does not verify: it is signed by a key of {origin} (key id {key_id:08x}) that the bundle's authority keys do not include: an authority change is missing from the bundle")]
    UnknownCheckpointKey { origin: String, key_id: u32 },
    /// A section label this version does not know.
    #[error("section {section}: unknown section label `{label}`")]
    UnknownSection { section: usize, label: String },
    /// A proven entry that is not an event.
    #[error("section {section} (`{label}`, entry {index}): the entry does not decode: {reason}")]
    Entry {
        section: usize,
        label: String,
        index: u64,
        reason: String,
    },
    /// The entries do not establish the credential, or not for the trusted key.
    #[error("{0}")]
    Credential(#[from] OfflineError),
    /// The bundle has no status note: nothing says whether the credential was revoked.
    #[error("the bundle carries no `status` note, so it cannot show whether the credential was revoked: download its bundle again")]
    StatusMissing,
    /// The status note does not verify with the key that signs the checkpoint, or does not
    /// parse.
    #[error("the `status` note does not verify: {reason}")]
    BadStatusNote { reason: String },
}

impl BundleInvalid {
    /// `malformed`, `bad-checkpoint`, `checkpoints-differ`, `inclusion-failed`,
    /// `unknown-section`, `bad-entry`, `untrusted-key`, `status-missing`, `bad-status-note`,
    /// or a code of [`OfflineError`] (among them `status-mismatch`).
    pub fn code(&self) -> &'static str {
        match self {
            BundleInvalid::Proof(error) => match error.kind() {
                BundleErrorKind::Malformed => "malformed",
                BundleErrorKind::BadCheckpoint => "bad-checkpoint",
                BundleErrorKind::CheckpointsDiffer => "checkpoints-differ",
                BundleErrorKind::InclusionFailed => "inclusion-failed",
                _ => "invalid-bundle",
            },
            BundleInvalid::TrustedKey(_) => "untrusted-key",
            BundleInvalid::CheckpointKey { .. } | BundleInvalid::UnknownCheckpointKey { .. } => {
                "bad-checkpoint"
            }
            BundleInvalid::UnknownSection { .. } => "unknown-section",
            BundleInvalid::Entry { .. } => "bad-entry",
            BundleInvalid::Credential(error) => error.code,
            BundleInvalid::StatusMissing => "status-missing",
            BundleInvalid::BadStatusNote { .. } => "bad-status-note",
        }
    }
}

/// Verifies a credential bundle offline for a verifier who trusts `verifier_key_text`
/// (`origin+hex(keyID)+base64(0x01‖key)`, as `skill-ledger checkpoint --vkey` prints it): any
/// authority key the ledger has had, the first one or one it rotated to. In order
/// (docs/formats.md, "What `verify-bundle` checks"): the text; every label and entry; the
/// chain of authority keys from entry 0 through the `authority-change` sections, and the
/// trusted key among them; the checkpoint's signature by the last key of the chain; every
/// inclusion proof; the credential's sections; the status note, signed by the same key as
/// the checkpoint, against the checkpoint and the `revocation` section.
pub fn verify_credential_bundle(
    text: &str,
    verifier_key_text: &str,
) -> Result<BundleVerification, BundleInvalid> {
    let bundle = Bundle::parse(text)?;
    let (name, public_key) = parse_verifier_key(verifier_key_text)
        .map_err(|error| BundleInvalid::TrustedKey(error.to_string()))?;
    let trusted = TrustedKey { name, public_key };
    // Not trusted yet: its origin says which ledger the entries claim to be of.
    let unverified = bundle.unverified_checkpoint()?;
    let events = decode_sections(&bundle)?;
    let ledger = check_authority_chain_offline(&unverified.origin, &events, &trusted)?;
    let (checkpoint, key) = verify_checkpoint_by_chain(&bundle, &ledger)?;
    bundle.verify_inclusion(&checkpoint)?;
    let credential = check_credential_offline(&checkpoint.origin, &events, &trusted)?;
    let body = bundle
        .verified_note(STATUS_NOTE_LABEL, &key)
        .map_err(|error| BundleInvalid::BadStatusNote {
            reason: format!(
                "{} (it must be signed by the key that signs the checkpoint, {key})",
                error.detail()
            ),
        })?
        .ok_or(BundleInvalid::StatusMissing)?;
    let statement =
        StatusStatement::parse_body(&body).map_err(|error| BundleInvalid::BadStatusNote {
            reason: error.reason,
        })?;
    let status = check_status_offline(
        &statement,
        (&checkpoint.origin, checkpoint.size, checkpoint.root),
        &events,
        &credential,
    )?;
    Ok(BundleVerification {
        checkpoint,
        credential,
        status,
        statement,
    })
}

/// Every section's role and decoded event, at the index its proof names.
fn decode_sections(bundle: &Bundle) -> Result<Vec<ProvenEvent>, BundleInvalid> {
    let mut events = Vec::with_capacity(bundle.sections().len());
    for (k, section) in bundle.sections().iter().enumerate() {
        let role = BundleRole::from_label(&section.label).ok_or_else(|| {
            BundleInvalid::UnknownSection {
                section: k + 1,
                label: section.label.clone(),
            }
        })?;
        let index = section.proof.index;
        let signed =
            SignedEvent::from_entry(&section.entry).map_err(|error| BundleInvalid::Entry {
                section: k + 1,
                label: section.label.clone(),
                index,
                reason: error.to_string(),
            })?;
        events.push(ProvenEvent {
            role,
            index,
            signed,
        });
    }
    Ok(events)
}

/// The checkpoint, verified with the authority key in force after the chain's last change,
/// and that key's verifier key text; refused if it also claims a signature by a key of the
/// ledger's name outside the chain (a checkpoint signed during a rotation by old and new keys,
/// in a bundle without the rotation).
fn verify_checkpoint_by_chain(
    bundle: &Bundle,
    ledger: &LedgerInfo,
) -> Result<(Checkpoint, String), BundleInvalid> {
    let origin = &ledger.origin;
    let in_force = ledger
        .authority_key()
        .ok_or_else(|| BundleInvalid::CheckpointKey {
            reason: "the bundle establishes no authority key".to_string(),
        })?;
    let key =
        verifier_key_text_of(origin, &in_force).map_err(|error| BundleInvalid::CheckpointKey {
            reason: format!("the authority key in force cannot verify a note: {error}"),
        })?;
    let checkpoint = bundle.verify_checkpoint(&key).map_err(|error| {
        match ledger.authority_changes.last() {
            // A ledger that never rotated: the error as it always read.
            None => BundleInvalid::Proof(error),
            Some(last_change) => BundleInvalid::CheckpointKey {
                reason: format!(
                    "{}; on a ledger whose authority key rotated, the checkpoint must be signed \
                     by the key in force after the bundle's last authority change (entry \
                     {last_change}), {key}",
                    error.detail()
                ),
            },
        }
    })?;
    let known: Vec<u32> = ledger
        .authority_keys
        .iter()
        .map(|period| verifier_key_id(origin, &period.public_key))
        .collect();
    if let Some(key_id) = bundle
        .checkpoint_signature_key_ids(origin)?
        .into_iter()
        .find(|id| !known.contains(id))
    {
        return Err(BundleInvalid::UnknownCheckpointKey {
            origin: origin.clone(),
            key_id,
        });
    }
    Ok((checkpoint, key))
}

impl Node {
    /// The offline bundle of credential `number` against the latest signed checkpoint, or
    /// `None` if the credential is not on this ledger. Its status note carries no holder key
    /// (anyone may ask for it by number). The bundle is verified with this node's own key
    /// before it is returned.
    pub fn credential_bundle(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<String>, NodeError> {
        self.build_bundle(number, false)
    }

    /// The bundle of credential `number` bound to its holder: when `name` is the holder's,
    /// its status note carries the certificate's name key, so whoever the holder gives it to
    /// can check the name offline. A wrong name gets nothing.
    pub fn credential_bundle_for_holder(
        &self,
        number: &CertificateNumber,
        name: &str,
    ) -> Result<HolderBundle, NodeError> {
        match self.check_name(number, name)? {
            crate::NameCheck::Unknown => Ok(HolderBundle::Unknown),
            crate::NameCheck::Mismatch => Ok(HolderBundle::NameMismatch),
            crate::NameCheck::Matched(record) => {
                // A commitment written before name keys cannot be opened by one: that
                // credential's bundle carries no holder key (it verifies, but cannot check a
                // name offline).
                let opens = self
                    .pseudonym_key()
                    .name_key(number.as_str())
                    .commit(number.as_str(), name)
                    == record.name_commitment;
                Ok(match self.build_bundle(number, opens)? {
                    Some(text) => HolderBundle::Bundle(text),
                    None => HolderBundle::Unknown,
                })
            }
        }
    }

    fn build_bundle(
        &self,
        number: &CertificateNumber,
        with_holder_key: bool,
    ) -> Result<Option<String>, NodeError> {
        // Read before the credential: the record then reflects at least these entries.
        let projected = self.projected_size()?;
        let Some(credential) = self.credential(number)? else {
            return Ok(None);
        };
        let integrity = |message: String| NodeError::new(NodeErrorKind::Integrity, message);
        let checkpoint = self
            .checkpoint()
            .filter(|signed| signed.checkpoint.size > credential.entry_index)
            .ok_or_else(|| {
                integrity(format!(
                    "no signed checkpoint covers entry {} yet",
                    credential.entry_index
                ))
            })?;
        // Read after the checkpoint: the registry is updated when a batch is logged, before
        // its checkpoint is signed, so it holds every authority change the checkpoint covers.
        let registry = self.registry();
        let ledger = registry
            .ledger
            .as_ref()
            .ok_or_else(|| integrity("the ledger is not established".to_string()))?;
        let registration_number = number.registration_number();
        let body = registry.bodies.get(&registration_number).ok_or_else(|| {
            integrity(format!(
                "credential {number} is on the ledger but its body {registration_number} is not"
            ))
        })?;
        let mut indexes = vec![
            (BundleRole::Ledger, 0),
            (BundleRole::Body, body.entry_index),
        ];
        let mut changes: Vec<u64> = body
            .status_changes
            .iter()
            .map(|change| change.entry_index)
            .filter(|&index| index < credential.entry_index)
            .collect();
        changes.extend(self.key_rotation_indexes(body, credential.entry_index)?);
        indexes.extend(changes.into_iter().map(|i| (BundleRole::BodyChange, i)));
        indexes.push((BundleRole::Credential, credential.entry_index));
        // Every authority change the checkpoint covers, before or after the credential: the
        // last one decides which key signs the checkpoint.
        let size = checkpoint.checkpoint.size;
        indexes.extend(
            ledger
                .authority_changes
                .iter()
                .filter(|&&index| index < size)
                .map(|&index| (BundleRole::AuthorityChange, index)),
        );
        let status = self.status_at(number, &credential.status, projected, size)?;
        if let StatedStatus::Revoked { entry_index } = status {
            indexes.push((BundleRole::Revocation, entry_index));
        }
        // The body's status changes after the credential, below the checkpoint: a suspension
        // dated back over the issue date is then visible offline.
        let mut issuer_changes: Vec<u64> = body
            .status_changes
            .iter()
            .map(|change| change.entry_index)
            .filter(|&index| index > credential.entry_index && index < size)
            .collect();
        // Kept in date order in the record; the note and the sections go in log order.
        issuer_changes.sort_unstable();
        indexes.extend(
            issuer_changes
                .iter()
                .map(|&index| (BundleRole::IssuerChange, index)),
        );
        indexes.sort_unstable_by_key(|&(_, index)| index);

        let mut sections = Vec::with_capacity(indexes.len());
        for (role, index) in indexes {
            sections.push(BundleSection {
                label: role.label().to_string(),
                entry: self.log_reader().read(index)?,
                proof: TlogProof {
                    index,
                    hashes: self.tree_reader().inclusion_proof(index, size)?,
                    checkpoint_note: checkpoint.note_text.clone(),
                },
            });
        }
        let statement = StatusStatement {
            origin: checkpoint.checkpoint.origin.clone(),
            size,
            root: checkpoint.checkpoint.root,
            certificate_number: *number,
            status,
            issuer_changes,
            holder_key: with_holder_key.then(|| self.pseudonym_key().name_key(number.as_str())),
        };
        let note = sign_note(&statement.to_body(), self.origin(), self.authority_key())?;
        let text = Bundle::new(sections)
            .and_then(|bundle| {
                bundle.with_notes(vec![BundleNote {
                    label: STATUS_NOTE_LABEL.to_string(),
                    note,
                }])
            })
            .map_err(|error| integrity(format!("building the bundle of {number}: {error}")))?
            .to_text();
        // What we hand out must verify offline with our own published key (the one in force).
        verify_credential_bundle(&text, self.verifier_key_text()).map_err(|error| {
            integrity(format!(
                "the bundle of {number} does not verify ({}): {error}",
                error.code()
            ))
        })?;
        Ok(Some(text))
    }

    /// The credential's status as of tree size `size`, from its record (`recorded`, read when
    /// the projections had committed at least `projected` entries) and, for the entries the
    /// projections may not hold yet, the log itself: the status note must never call valid a
    /// credential whose revocation the checkpoint covers.
    fn status_at(
        &self,
        number: &CertificateNumber,
        recorded: &CredentialStatus,
        projected: u64,
        size: u64,
    ) -> Result<StatedStatus, NodeError> {
        if let CredentialStatus::Revoked { entry_index, .. } = recorded {
            if *entry_index < size {
                return Ok(StatedStatus::Revoked {
                    entry_index: *entry_index,
                });
            }
            // Revoked after the checkpoint: valid as of it, and the record says no earlier
            // revocation exists (a credential is revoked once).
            return Ok(StatedStatus::Valid);
        }
        for index in projected.min(size)..size {
            if let EventKind::CredentialRevoked(revoked) = self.read_event(index)?.event.kind {
                if revoked.certificate_number == *number {
                    return Ok(StatedStatus::Revoked { entry_index: index });
                }
            }
        }
        Ok(StatedStatus::Valid)
    }

    /// Log indexes of the body's key rotations before entry `before`. Rotations are rare and
    /// the projections do not index them, so the log between the registration and the
    /// credential is read only when the body has rotated its key at all.
    fn key_rotation_indexes(
        &self,
        body: &skill_ledger_domain::BodyRecord,
        before: u64,
    ) -> Result<Vec<u64>, NodeError> {
        let rotations_total = body.keys.len().saturating_sub(1);
        let mut found = Vec::new();
        let mut index = body.entry_index + 1;
        while found.len() < rotations_total && index < before {
            if let EventKind::BodyKeyRotated(rotated) = self.read_event(index)?.event.kind {
                if rotated.registration_number == body.registration_number {
                    found.push(index);
                }
            }
            index += 1;
        }
        Ok(found)
    }
}
