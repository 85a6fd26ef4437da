//! Offline credential checks: what a verifier can establish about a credential from a few
//! proven entries of the log, without the ledger.
//!
//! The node hands over decoded events whose inclusion in one checkpoint it has proven (an
//! offline bundle, see docs/formats.md). The chain of trust runs: the verifier's trusted key →
//! one of the ledger's authority keys, which entry 0 (`LedgerEstablished`, at index 0,
//! self-signed) and the bundle's `authority-change` sections (`AuthorityRecoveryKeySet`,
//! `AuthorityKeyRotated`) establish in log order, each accepted by [`decide`] at its position
//! ([`check_authority_chain_offline`]) → the key in force after the last of them, which must
//! sign the checkpoint (the caller checks the note with [`LedgerInfo::authority_key`]) → the
//! body's registration and later body changes, each signed by the authority key in force at
//! its own log position → the body's record as the log made it before the credential → the
//! credential, signed by the body's key valid at the issue date, within the body's scope and
//! registration window, while the body was active ([`check_certification_by_body`]).
//!
//! One decision: the authority's side is judged by the ledger's own rules, not a copy of
//! them. Each authority change goes through [`decide`] against the registry folded so far,
//! and each authority-signed section through the same `authority_signed` that `decide` uses,
//! so a bundle verifies exactly when the ledger would have accepted its entries in that order.
//!
//! What cannot be known offline: a revocation (or any entry) after the checkpoint, and
//! whether an entry about the body was left out of the bundle. An authority change left out
//! is caught: the checkpoint is then signed by a key the bundle's chain never reaches.
//!
//! ```
//! use skill_ledger_domain::BundleRole;
//! assert_eq!(BundleRole::from_label("authority-change"), Some(BundleRole::AuthorityChange));
//! assert_eq!(BundleRole::AuthorityChange.label(), "authority-change");
//! ```

use crate::date::Date;
use crate::event::{EventKind, LevelCertified, SignedEvent, Signer};
use crate::events::{apply, check_certification_by_body, decide};
use crate::guards::authority_signed;
use crate::ids::{CertificateNumber, RegistrationNumber};
use crate::memory::MemoryLedger;
use crate::rejection::Rejection;
use crate::state::{BodyRecord, LedgerInfo, Registry, StatusChange};
use crate::subject::NameKey;

/// What a bundle section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleRole {
    /// Entry 0, `LedgerEstablished`: the origin and the authority key.
    Ledger,
    /// The issuing body's `BodyRegistered`.
    Body,
    /// A later `BodyKeyRotated`, `BodySuspended`, `BodyReinstated` or `BodyCancelled` of the
    /// body, logged before the credential.
    BodyChange,
    /// The `LevelCertified` event itself.
    Credential,
    /// An `AuthorityRecoveryKeySet` or `AuthorityKeyRotated`: every one logged up to the
    /// checkpoint, before or after the credential, so the verifier can follow the authority
    /// key from entry 0 to the key that signs the checkpoint.
    AuthorityChange,
    /// The `CredentialRevoked` of the credential, when one is logged before the checkpoint:
    /// the status note names it.
    Revocation,
    /// A `BodySuspended`, `BodyReinstated` or `BodyCancelled` of the issuing body logged after
    /// the credential and before the checkpoint: every one, as the status note lists them, so
    /// a verifier sees a suspension dated back over the issue date.
    IssuerChange,
}

impl BundleRole {
    /// The section label in the bundle text.
    pub fn label(self) -> &'static str {
        match self {
            BundleRole::Ledger => "ledger",
            BundleRole::Body => "body",
            BundleRole::BodyChange => "body-change",
            BundleRole::Credential => "credential",
            BundleRole::AuthorityChange => "authority-change",
            BundleRole::Revocation => "revocation",
            BundleRole::IssuerChange => "issuer-change",
        }
    }

    pub fn from_label(label: &str) -> Option<BundleRole> {
        [
            BundleRole::Ledger,
            BundleRole::Body,
            BundleRole::BodyChange,
            BundleRole::Credential,
            BundleRole::AuthorityChange,
            BundleRole::Revocation,
            BundleRole::IssuerChange,
        ]
        .into_iter()
        .find(|role| role.label() == label)
    }
}

/// A decoded event proven to be entry `index` of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenEvent {
    pub role: BundleRole,
    pub index: u64,
    pub signed: SignedEvent,
}

/// A credential established offline, with the ledger and the body record it was judged by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineCredential {
    /// The ledger as the bundle shows it: `authority_keys` is the chain from entry 0 through
    /// every authority change, and its last key the one that signs the checkpoint.
    pub ledger: LedgerInfo,
    /// The body as the log made it before the credential (key periods, status changes).
    pub body: BodyRecord,
    pub credential: LevelCertified,
    pub entry_index: u64,
    /// The body key that signed it.
    pub signer_key: [u8; 32],
    /// A suspension or cancellation of the body, logged after the credential, whose period
    /// covers its issue date (`BodyRecord::retroactive_status_at`), from the bundle's
    /// `issuer-change` sections.
    pub issuer_warning: Option<StatusChange>,
}

/// Why a set of proven events does not establish a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("section {section} ({}, entry {index}): {reason}", role.label())]
pub struct OfflineError {
    /// 1-based position among the events.
    pub section: usize,
    pub role: BundleRole,
    pub index: u64,
    /// Stable: `bundle-structure`, `bad-signature`, `origin-mismatch`, `untrusted-key`, or a
    /// [`Rejection`] code.
    pub code: &'static str,
    pub reason: String,
}

/// Why the body of a `status` note does not parse: which line, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct StatusNoteError {
    pub reason: String,
}

/// The key a verifier trusts for a ledger, as its verifier key text names it: the key name
/// (the ledger's origin) and the Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    pub name: String,
    pub public_key: [u8; 32],
}

/// Checks the chain of authority keys of `events` (in bundle order) on the ledger `origin`
/// (the checkpoint's origin): the bundle's shape, entry 0, and every `authority-change`
/// section in log order, each accepted by [`decide`] at its position with a valid signature;
/// then that `trusted` is one of the chain's authority keys (`untrusted-key`). The other
/// sections are left to [`check_credential_offline`].
///
/// Returns the ledger as the chain leaves it: the checkpoint must be signed by its
/// [`LedgerInfo::authority_key`], the key in force after the last authority change.
pub fn check_authority_chain_offline(
    origin: &str,
    events: &[ProvenEvent],
    trusted: &TrustedKey,
) -> Result<LedgerInfo, OfflineError> {
    check_structure(events)?;
    let mut fold = Fold::new(origin, events);
    for (k, event) in events.iter().enumerate() {
        match event.role {
            BundleRole::Ledger => fold.ledger(k)?,
            BundleRole::AuthorityChange => fold.authority_change(k)?,
            BundleRole::Body
            | BundleRole::BodyChange
            | BundleRole::Credential
            | BundleRole::Revocation
            | BundleRole::IssuerChange => {}
        }
    }
    let ledger = fold.ledger_info()?;
    check_trusted(&fold, &ledger, trusted)?;
    Ok(ledger)
}

/// Checks that `events` (in bundle order) establish a credential on the ledger `origin` (the
/// checkpoint's origin) for a verifier who trusts `trusted`. See the module documentation
/// for what is checked; the chain of authority keys first ([`check_authority_chain_offline`]),
/// then every section in log order.
pub fn check_credential_offline(
    origin: &str,
    events: &[ProvenEvent],
    trusted: &TrustedKey,
) -> Result<OfflineCredential, OfflineError> {
    check_authority_chain_offline(origin, events, trusted)?;
    let mut fold = Fold::new(origin, events);
    let mut established = None;
    for (k, event) in events.iter().enumerate() {
        match event.role {
            BundleRole::Ledger => fold.ledger(k)?,
            BundleRole::AuthorityChange => fold.authority_change(k)?,
            BundleRole::Body => fold.body(k)?,
            BundleRole::BodyChange => fold.body_change(k)?,
            BundleRole::Credential => established = Some(fold.credential(k)?),
            // Judged against the status note: check_status_offline.
            BundleRole::Revocation => {}
            // A status change of the body after the credential, folded like one before it.
            BundleRole::IssuerChange => fold.issuer_change(k)?,
        }
    }
    let (k, body, credential) = established.ok_or_else(|| {
        // `check_structure` requires a credential section.
        fold.structure(events.len() - 1, "the bundle has no `credential` section")
    })?;
    let event = &events[k];
    // The body as the bundle leaves it (with the changes logged after the credential): a
    // suspension or cancellation dated back over the issue date shows here.
    let issuer_warning = fold
        .body
        .and_then(|number| fold.registry.bodies.get(&number))
        .and_then(|later| later.retroactive_status_at(credential.issued, event.index))
        .cloned();
    Ok(OfflineCredential {
        ledger: fold.ledger_info()?,
        body,
        credential,
        entry_index: event.index,
        signer_key: event.signed.public_key,
        issuer_warning,
    })
}

/// First line of a credential status note's body.
pub const STATUS_NOTE_HEADER: &str = "skill-ledger/credential-status/v1";
/// The label of the status note in a bundle.
pub const STATUS_NOTE_LABEL: &str = "status";

/// A credential's status as the ledger states it at one tree size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatedStatus {
    /// No `CredentialRevoked` of the credential among the entries below the size.
    Valid,
    /// Revoked by the entry at `entry_index` (below the size).
    Revoked { entry_index: u64 },
}

/// The body of a status note: the ledger's signed statement of one credential's status as of
/// one checkpoint (origin, size and root), and, when the bundle was requested with the
/// holder's name, the credential's [`NameKey`]. The node signs it with the authority key that
/// signs the checkpoint. The text, line by line (docs/formats.md, Part 4):
///
/// ```text
/// skill-ledger/credential-status/v1
/// origin <origin>
/// size <tree size>
/// root <hex of the root hash>
/// certificate <certificate number>
/// status valid | status revoked <entry index>
/// issuer-changes[ <entry index>…]         the body's status changes after the credential
/// holder-key <hex of the name key>      (optional)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusStatement {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
    pub certificate_number: CertificateNumber,
    pub status: StatedStatus,
    /// Every `BodySuspended`, `BodyReinstated` and `BodyCancelled` of the issuing body logged
    /// after the credential and below `size`, in log order: the bundle's `issuer-change`
    /// sections.
    pub issuer_changes: Vec<u64>,
    pub holder_key: Option<NameKey>,
}

impl StatusStatement {
    /// The note body, every line ending in a newline.
    pub fn to_body(&self) -> String {
        let status = match self.status {
            StatedStatus::Valid => "valid".to_string(),
            StatedStatus::Revoked { entry_index } => format!("revoked {entry_index}"),
        };
        let mut body = format!(
            "{STATUS_NOTE_HEADER}\norigin {}\nsize {}\nroot {}\ncertificate {}\nstatus {status}\n\
             issuer-changes",
            self.origin,
            self.size,
            hex::encode(self.root),
            self.certificate_number.as_str(),
        );
        for index in &self.issuer_changes {
            body.push_str(&format!(" {index}"));
        }
        body.push('\n');
        if let Some(key) = &self.holder_key {
            body.push_str(&format!("holder-key {}\n", hex::encode(key.0)));
        }
        body
    }

    /// Parses exactly the text [`StatusStatement::to_body`] writes; the error names the line.
    pub fn parse_body(text: &str) -> Result<StatusStatement, StatusNoteError> {
        StatusStatement::parse_text(text).map_err(|reason| StatusNoteError { reason })
    }

    fn parse_text(text: &str) -> Result<StatusStatement, String> {
        let inner = text
            .strip_suffix('\n')
            .ok_or("the status note body does not end with a newline")?;
        let lines: Vec<&str> = inner.split('\n').collect();
        if lines.len() != 7 && lines.len() != 8 {
            return Err(format!(
                "a status note body has 7 or 8 lines, not {}",
                lines.len()
            ));
        }
        if lines[0] != STATUS_NOTE_HEADER {
            return Err(format!("line 1 must be {STATUS_NOTE_HEADER:?}"));
        }
        let field = |k: usize, name: &str| -> Result<&str, String> {
            lines[k]
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| format!("line {} must be `{name} …`", k + 1))
        };
        let decimal = |text: &str, k: usize| -> Result<u64, String> {
            let canonical = !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit())
                && (text == "0" || !text.starts_with('0'));
            canonical
                .then(|| text.parse().ok())
                .flatten()
                .ok_or_else(|| format!("line {}: {text:?} is not a decimal number", k + 1))
        };
        let hash = |text: &str, k: usize| -> Result<[u8; 32], String> {
            let lower = text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            lower
                .then(|| hex::decode(text).ok())
                .flatten()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| format!("line {}: expected 64 lower-case hex digits", k + 1))
        };
        let origin = field(1, "origin")?.to_string();
        let size = decimal(field(2, "size")?, 2)?;
        let root = hash(field(3, "root")?, 3)?;
        let certificate_number = field(4, "certificate")?
            .parse::<CertificateNumber>()
            .map_err(|error| format!("line 5: {error}"))?;
        let status = match field(5, "status")? {
            "valid" => StatedStatus::Valid,
            other => match other.strip_prefix("revoked ") {
                Some(index) => StatedStatus::Revoked {
                    entry_index: decimal(index, 5)?,
                },
                None => return Err("line 6 must be `status valid` or `status revoked N`".into()),
            },
        };
        let issuer_changes = match lines[6].strip_prefix("issuer-changes") {
            Some("") => Vec::new(),
            Some(list) => match list.strip_prefix(' ') {
                Some(list) => list
                    .split(' ')
                    .map(|index| decimal(index, 6))
                    .collect::<Result<Vec<u64>, String>>()?,
                None => return Err("line 7 must be `issuer-changes[ N…]`".into()),
            },
            None => return Err("line 7 must be `issuer-changes[ N…]`".into()),
        };
        let holder_key = match lines.get(7) {
            Some(_) => Some(NameKey(hash(field(7, "holder-key")?, 7)?)),
            None => None,
        };
        let statement = StatusStatement {
            origin,
            size,
            root,
            certificate_number,
            status,
            issuer_changes,
            holder_key,
        };
        if statement.to_body() != text {
            return Err("the status note body is not in canonical form".into());
        }
        Ok(statement)
    }
}

/// A credential's status established offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfflineStatus {
    Valid,
    /// Revoked by a `CredentialRevoked` proven at `entry_index`.
    Revoked {
        entry_index: u64,
        effective: Date,
        reason: String,
        by: Signer,
    },
}

/// Checks a status statement, whose signature the caller verified with the key that signs
/// the checkpoint, against the bundle: it is about this checkpoint (`origin`, `size`, `root`)
/// and this credential (`status-mismatch`); the body's status changes it lists after the
/// credential are exactly the bundle's `issuer-change` sections; a revocation it names is the bundle's one
/// `revocation` section, a `CredentialRevoked` of this credential at that index, signed by the
/// issuing body or the authority with a valid signature; a statement of `valid` comes with
/// no `revocation` section (`status-mismatch`). The revocation's inclusion in the log already
/// means the ledger's rules accepted it; that no other revocation is left out is what the
/// signed statement vouches for.
pub fn check_status_offline(
    statement: &StatusStatement,
    checkpoint: (&str, u64, [u8; 32]),
    events: &[ProvenEvent],
    credential: &OfflineCredential,
) -> Result<OfflineStatus, OfflineError> {
    let (origin, size, root) = checkpoint;
    let credential_at = events
        .iter()
        .position(|event| event.role == BundleRole::Credential)
        .unwrap_or(0);
    let fail = |k: usize, code: &'static str, reason: String| {
        let (role, index) = events
            .get(k)
            .map_or((BundleRole::Credential, credential.entry_index), |event| {
                (event.role, event.index)
            });
        OfflineError {
            section: k + 1,
            role,
            index,
            code,
            reason,
        }
    };
    let mismatch = |reason: String| fail(credential_at, "status-mismatch", reason);
    if statement.origin != origin || statement.size != size || statement.root != root {
        return Err(mismatch(format!(
            "the status note is of {} at size {}, not of the checkpoint ({origin} at size {size} \
             with its root)",
            statement.origin, statement.size
        )));
    }
    let number = credential.credential.certificate_number;
    if statement.certificate_number != number {
        return Err(mismatch(format!(
            "the status note is about certificate {}, not {number}",
            statement.certificate_number
        )));
    }
    let issuer_changes: Vec<u64> = events
        .iter()
        .filter(|event| event.role == BundleRole::IssuerChange)
        .map(|event| event.index)
        .collect();
    if issuer_changes != statement.issuer_changes {
        return Err(mismatch(format!(
            "the status note lists the body's status changes after the credential at entries \
             {:?}, but the bundle's `issuer-change` sections are entries {issuer_changes:?}",
            statement.issuer_changes
        )));
    }
    let revocations: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, event)| event.role == BundleRole::Revocation)
        .map(|(k, _)| k)
        .collect();
    match (statement.status, revocations.as_slice()) {
        (StatedStatus::Valid, []) => Ok(OfflineStatus::Valid),
        (StatedStatus::Valid, [k, ..]) => Err(fail(
            *k,
            "status-mismatch",
            "the status note says valid, but the bundle carries a revocation".to_string(),
        )),
        (StatedStatus::Revoked { entry_index }, []) => Err(mismatch(format!(
            "the status note says revoked at entry {entry_index}, but the bundle carries no \
             `revocation` section"
        ))),
        (StatedStatus::Revoked { entry_index }, [k]) => {
            let event = &events[*k];
            if event.index != entry_index {
                return Err(fail(
                    *k,
                    "status-mismatch",
                    format!(
                        "the status note says revoked at entry {entry_index}, but the \
                         `revocation` section is entry {}",
                        event.index
                    ),
                ));
            }
            let EventKind::CredentialRevoked(revoked) = &event.signed.event.kind else {
                return Err(fail(
                    *k,
                    "bundle-structure",
                    "the `revocation` section must hold CredentialRevoked".to_string(),
                ));
            };
            if revoked.certificate_number != number {
                return Err(fail(
                    *k,
                    "status-mismatch",
                    format!(
                        "the revocation is of certificate {}, not {number}",
                        revoked.certificate_number
                    ),
                ));
            }
            let by = event.signed.signer;
            let issuer = number.registration_number();
            if matches!(by, Signer::Body(body) if body != issuer) {
                return Err(fail(
                    *k,
                    Rejection::NotIssuer {
                        certificate_number: number,
                        issuer,
                    }
                    .code(),
                    format!("the revocation is signed by a body other than the issuer {issuer}"),
                ));
            }
            if !event.signed.verify_signature(origin) {
                return Err(fail(
                    *k,
                    Rejection::BadSignature.code(),
                    Rejection::BadSignature.to_string(),
                ));
            }
            Ok(OfflineStatus::Revoked {
                entry_index,
                effective: revoked.effective,
                reason: revoked.reason.clone(),
                by,
            })
        }
        (StatedStatus::Revoked { .. }, [_, k, ..]) => Err(fail(
            *k,
            "bundle-structure",
            "a bundle carries at most one `revocation` section".to_string(),
        )),
    }
}

/// Whether `name` is the holder name the credential committed to, by the statement's
/// holder key; `None` when the statement carries no holder key (the bundle was not
/// requested with the holder's name).
pub fn check_holder_offline(
    statement: &StatusStatement,
    credential: &OfflineCredential,
    name: &str,
) -> Option<bool> {
    let key = statement.holder_key?;
    let number = credential.credential.certificate_number;
    Some(key.commit(number.as_str(), name) == credential.credential.name_commitment)
}

/// The sections' roles and order: `ledger` first, then `body`, `body-change`…, `credential`,
/// with `authority-change` sections anywhere after the ledger, all in increasing log order.
fn check_structure(events: &[ProvenEvent]) -> Result<(), OfflineError> {
    let fail = |k: usize, reason: String| {
        let event = &events[k];
        OfflineError {
            section: k + 1,
            role: event.role,
            index: event.index,
            code: "bundle-structure",
            reason,
        }
    };
    const ORDER: &str = "order: ledger, body, body-change…, credential, then revocation and \
                         issuer-change sections, with authority-change sections anywhere after \
                         the ledger";
    let Some(last) = events.len().checked_sub(1) else {
        return Err(OfflineError {
            section: 0,
            role: BundleRole::Ledger,
            index: 0,
            code: "bundle-structure",
            reason: "a credential bundle has at least the ledger, body and credential sections, \
                     not 0"
                .to_string(),
        });
    };
    let (mut body_seen, mut credential_seen) = (false, false);
    for (k, event) in events.iter().enumerate() {
        let in_place = match event.role {
            BundleRole::Ledger => k == 0,
            BundleRole::AuthorityChange => k > 0,
            BundleRole::Body => k > 0 && !body_seen,
            BundleRole::BodyChange => body_seen && !credential_seen,
            BundleRole::Credential => body_seen && !credential_seen,
            BundleRole::Revocation | BundleRole::IssuerChange => credential_seen,
        };
        if !in_place {
            let expected = match (k, body_seen, credential_seen) {
                (0, _, _) => "`ledger`",
                (_, false, _) => "`body` or `authority-change`",
                (_, true, false) => "`body-change`, `credential` or `authority-change`",
                (_, true, true) => "`authority-change`, `revocation` or `issuer-change`",
            };
            return Err(fail(
                k,
                format!(
                    "a `{}` section cannot be here: expected {expected} ({ORDER})",
                    event.role.label()
                ),
            ));
        }
        body_seen |= event.role == BundleRole::Body;
        credential_seen |= event.role == BundleRole::Credential;
        if k > 0 && event.index <= events[k - 1].index {
            return Err(fail(
                k,
                "entries must be in increasing log order".to_string(),
            ));
        }
    }
    if !credential_seen {
        return Err(fail(
            last,
            format!(
                "a credential bundle has at least the ledger, body and credential sections, \
                 not {} sections without a credential ({ORDER})",
                events.len()
            ),
        ));
    }
    Ok(())
}

/// The verifier's key must be one the chain reaches, named by the ledger's origin.
fn check_trusted(
    fold: &Fold,
    ledger: &LedgerInfo,
    trusted: &TrustedKey,
) -> Result<(), OfflineError> {
    let untrusted = |reason: String| fold.fail(0, "untrusted-key", reason);
    if trusted.name != ledger.origin {
        return Err(untrusted(format!(
            "the trusted key is of {:?}, but the bundle is of the ledger {:?}",
            trusted.name, ledger.origin
        )));
    }
    if !ledger
        .authority_keys
        .iter()
        .any(|period| period.public_key == trusted.public_key)
    {
        return Err(untrusted(format!(
            "the trusted key is none of the {} authority key(s) of {:?} the bundle establishes \
             (entry 0 and {} authority change(s)): it is not a key this ledger has had, or the \
             bundle is not of the ledger the key belongs to",
            ledger.authority_keys.len(),
            ledger.origin,
            ledger.authority_changes.len()
        )));
    }
    Ok(())
}

/// The registry folded section by section with the node's own `apply`, and the checks of
/// each section against it. `k` is a section's 0-based position.
struct Fold<'a> {
    origin: &'a str,
    events: &'a [ProvenEvent],
    registry: Registry,
    /// Empty: `decide` and `apply` read records only for credentials and persons, which the
    /// sections a bundle folds do not change.
    records: MemoryLedger,
    body: Option<RegistrationNumber>,
}

impl<'a> Fold<'a> {
    fn new(origin: &'a str, events: &'a [ProvenEvent]) -> Fold<'a> {
        Fold {
            origin,
            events,
            registry: Registry::default(),
            records: MemoryLedger::default(),
            body: None,
        }
    }

    fn fail(&self, k: usize, code: &'static str, reason: String) -> OfflineError {
        let event = &self.events[k];
        OfflineError {
            section: k + 1,
            role: event.role,
            index: event.index,
            code,
            reason,
        }
    }

    fn structure(&self, k: usize, reason: &str) -> OfflineError {
        self.fail(k, "bundle-structure", reason.to_string())
    }

    fn rejected(&self, k: usize, rejection: Rejection) -> OfflineError {
        self.fail(k, rejection.code(), rejection.to_string())
    }

    fn signed(&self, k: usize) -> &'a SignedEvent {
        &self.events[k].signed
    }

    fn check_signature(&self, k: usize) -> Result<(), OfflineError> {
        if !self.signed(k).verify_signature(self.origin) {
            return Err(self.rejected(k, Rejection::BadSignature));
        }
        Ok(())
    }

    fn absorb(&mut self, k: usize) {
        let event = &self.events[k];
        let changes = apply(&self.registry, &self.records, &event.signed, event.index);
        if let Some(change) = changes.registry {
            self.registry.absorb(change);
        }
    }

    fn ledger_info(&self) -> Result<LedgerInfo, OfflineError> {
        self.registry
            .ledger
            .clone()
            .ok_or_else(|| self.structure(0, "LedgerEstablished did not establish the ledger"))
    }

    /// Entry 0: the ledger and its first authority key, self-signed, as `decide` takes it.
    fn ledger(&mut self, k: usize) -> Result<(), OfflineError> {
        let event = &self.events[k];
        let EventKind::LedgerEstablished(established) = &event.signed.event.kind else {
            return Err(self.structure(k, "the `ledger` section must hold LedgerEstablished"));
        };
        if event.index != 0 {
            return Err(self.structure(k, "LedgerEstablished must be entry 0"));
        }
        if established.origin != self.origin {
            return Err(self.fail(
                k,
                "origin-mismatch",
                format!(
                    "the ledger establishes origin {:?}, but the checkpoint is of {:?}",
                    established.origin, self.origin
                ),
            ));
        }
        decide(&self.registry, &self.records, &event.signed)
            .map_err(|rejection| self.rejected(k, rejection))?;
        self.check_signature(k)?;
        self.absorb(k);
        Ok(())
    }

    /// A new recovery key or authority key, judged by `decide` at its log position: signed by
    /// the authority key in force, or (a rotation, a recovery key's successor) by the recovery
    /// key in force.
    fn authority_change(&mut self, k: usize) -> Result<(), OfflineError> {
        let signed = self.signed(k);
        if !matches!(
            signed.event.kind,
            EventKind::AuthorityRecoveryKeySet(_) | EventKind::AuthorityKeyRotated(_)
        ) {
            return Err(self.structure(
                k,
                "an `authority-change` section must hold AuthorityRecoveryKeySet or \
                 AuthorityKeyRotated",
            ));
        }
        decide(&self.registry, &self.records, signed)
            .map_err(|rejection| self.rejected(k, rejection))?;
        self.check_signature(k)?;
        self.absorb(k);
        Ok(())
    }

    /// An authority-signed section: by the authority key in force at its log position.
    fn check_authority(&self, k: usize) -> Result<(), OfflineError> {
        let signed = self.signed(k);
        let kind = &signed.event.kind;
        authority_signed(&self.registry, signed, kind.name(), kind.date())
            .map_err(|rejection| self.rejected(k, rejection))?;
        self.check_signature(k)
    }

    fn body(&mut self, k: usize) -> Result<(), OfflineError> {
        let EventKind::BodyRegistered(registered) = &self.signed(k).event.kind else {
            return Err(self.structure(k, "the `body` section must hold BodyRegistered"));
        };
        let registration_number = registered.registration_number;
        self.check_authority(k)?;
        let province = self.ledger_info()?.province;
        if registration_number.province() != province {
            return Err(self.rejected(
                k,
                Rejection::ProvinceMismatch {
                    registration_number,
                    expected: province.to_string(),
                    found: registration_number.province().to_string(),
                },
            ));
        }
        self.absorb(k);
        self.body = Some(registration_number);
        Ok(())
    }

    /// A status change of the body logged after the credential: a suspension, reinstatement
    /// or cancellation, judged and folded like a `body-change`.
    fn issuer_change(&mut self, k: usize) -> Result<(), OfflineError> {
        if !matches!(
            self.signed(k).event.kind,
            EventKind::BodySuspended(_)
                | EventKind::BodyReinstated(_)
                | EventKind::BodyCancelled(_)
        ) {
            return Err(self.structure(
                k,
                "an `issuer-change` section must hold a body suspension, reinstatement or \
                 cancellation",
            ));
        }
        self.body_change(k)
    }

    fn body_change(&mut self, k: usize) -> Result<(), OfflineError> {
        let about = match &self.signed(k).event.kind {
            EventKind::BodyKeyRotated(rotated) => rotated.registration_number,
            EventKind::BodySuspended(change)
            | EventKind::BodyReinstated(change)
            | EventKind::BodyCancelled(change) => change.registration_number,
            _ => {
                return Err(self.structure(
                    k,
                    "a `body-change` section must hold a key rotation or status change",
                ))
            }
        };
        let Some(registration_number) = self.body else {
            return Err(self.structure(k, "a `body-change` section comes after the `body`"));
        };
        if about != registration_number {
            return Err(self.structure(
                k,
                &format!("this change is about {about}, not the body {registration_number}"),
            ));
        }
        self.check_authority(k)?;
        self.absorb(k);
        Ok(())
    }

    /// The credential against the body as folded so far. Returns its position, the body record
    /// and the credential.
    fn credential(
        &mut self,
        k: usize,
    ) -> Result<(usize, BodyRecord, LevelCertified), OfflineError> {
        let signed = self.signed(k);
        let EventKind::LevelCertified(certified) = &signed.event.kind else {
            return Err(self.structure(k, "the `credential` section must hold LevelCertified"));
        };
        self.check_signature(k)?;
        let body = self
            .body
            .and_then(|number| self.registry.bodies.get(&number).cloned())
            .ok_or_else(|| self.structure(k, "BodyRegistered did not register the body"))?;
        check_certification_by_body(&body, signed, certified)
            .map_err(|rejection| self.rejected(k, rejection))?;
        Ok((k, body, certified.clone()))
    }
}
