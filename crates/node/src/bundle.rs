//! Offline credential bundles: built by a node from its log, tree and latest checkpoint;
//! verified anywhere with nothing but the bundle text and the ledger's verifier key.
//!
//! A bundle's sections, in log order (labels of [`BundleRole`]): `ledger` (entry 0, which
//! names the authority key), `body` (the issuing body's `BodyRegistered`), `body-change` for
//! each key rotation or status change of the body logged before the credential, and
//! `credential` (the `LevelCertified` event). Every section carries a C2SP tlog-proof against
//! the same signed checkpoint. The layering: `skill_ledger_log::Bundle` owns the text and the
//! proofs, `skill_ledger_domain::check_credential_offline` the credential rules; this module
//! decodes entries between the two. The format is in docs/formats.md.

use skill_ledger_domain::{
    check_credential_offline, BundleRole, CertificateNumber, EventKind, OfflineCredential,
    OfflineError, ProvenEvent, SignedEvent,
};
use skill_ledger_log::{
    Bundle, BundleError, BundleErrorKind, BundleSection, Checkpoint, TlogProof,
};

use crate::error::{NodeError, NodeErrorKind};
use crate::node::Node;

/// What a valid bundle establishes: the checkpoint it was proven against (its size and time
/// say how fresh the proof is) and the credential as issued. A revocation logged after the
/// checkpoint cannot be seen offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleVerification {
    pub checkpoint: Checkpoint,
    pub credential: OfflineCredential,
}

/// Why a bundle is invalid. [`BundleInvalid::code`] is stable.
#[derive(Debug, thiserror::Error)]
pub enum BundleInvalid {
    /// The text, the checkpoint or an inclusion proof.
    #[error("{0}")]
    Proof(#[from] BundleError),
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
    /// The entries do not establish the credential.
    #[error("{0}")]
    Credential(#[from] OfflineError),
}

impl BundleInvalid {
    /// `malformed`, `bad-checkpoint`, `checkpoints-differ`, `inclusion-failed`,
    /// `unknown-section`, `bad-entry`, or a code of [`OfflineError`].
    pub fn code(&self) -> &'static str {
        match self {
            BundleInvalid::Proof(error) => match error.kind() {
                BundleErrorKind::Malformed => "malformed",
                BundleErrorKind::BadCheckpoint => "bad-checkpoint",
                BundleErrorKind::CheckpointsDiffer => "checkpoints-differ",
                BundleErrorKind::InclusionFailed => "inclusion-failed",
                _ => "invalid-bundle",
            },
            BundleInvalid::UnknownSection { .. } => "unknown-section",
            BundleInvalid::Entry { .. } => "bad-entry",
            BundleInvalid::Credential(error) => error.code,
        }
    }
}

/// Verifies a credential bundle offline against the ledger's verifier key text
/// (`origin+hex(keyID)+base64(0x01‖key)`, as `skill-ledger checkpoint --vkey` prints it).
pub fn verify_credential_bundle(
    text: &str,
    verifier_key_text: &str,
) -> Result<BundleVerification, BundleInvalid> {
    let verified = Bundle::parse(text)?.verify(verifier_key_text)?;
    let mut events = Vec::with_capacity(verified.entries.len());
    for (k, proven) in verified.entries.into_iter().enumerate() {
        let role =
            BundleRole::from_label(&proven.label).ok_or_else(|| BundleInvalid::UnknownSection {
                section: k + 1,
                label: proven.label.clone(),
            })?;
        let signed =
            SignedEvent::from_entry(&proven.entry).map_err(|error| BundleInvalid::Entry {
                section: k + 1,
                label: proven.label.clone(),
                index: proven.index,
                reason: error.to_string(),
            })?;
        events.push(ProvenEvent {
            role,
            index: proven.index,
            signed,
        });
    }
    let credential = check_credential_offline(&verified.checkpoint.origin, &events)?;
    Ok(BundleVerification {
        checkpoint: verified.checkpoint,
        credential,
    })
}

impl Node {
    /// The offline bundle of credential `number` against the latest signed checkpoint, or
    /// `None` if the credential is not on this ledger. The bundle is verified with this
    /// node's own key before it is returned.
    pub fn credential_bundle(
        &self,
        number: &CertificateNumber,
    ) -> Result<Option<String>, NodeError> {
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
        let registration_number = number.registration_number();
        let body = self.body(&registration_number).ok_or_else(|| {
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
        changes.extend(self.key_rotation_indexes(&body, credential.entry_index)?);
        changes.sort_unstable();
        indexes.extend(changes.into_iter().map(|i| (BundleRole::BodyChange, i)));
        indexes.push((BundleRole::Credential, credential.entry_index));

        let size = checkpoint.checkpoint.size;
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
        let text = Bundle::new(sections)
            .map_err(|error| integrity(format!("building the bundle of {number}: {error}")))?
            .to_text();
        // What we hand out must verify offline with our own published key.
        verify_credential_bundle(&text, self.verifier_key_text()).map_err(|error| {
            integrity(format!(
                "the bundle of {number} does not verify ({}): {error}",
                error.code()
            ))
        })?;
        Ok(Some(text))
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
