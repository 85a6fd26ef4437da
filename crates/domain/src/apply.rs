//! `apply`: what an accepted event changes. A pure fold step; the node writes the result.

use crate::changes::{holder_counters, valid_counters, Changes, RegistryChange, StatKey};
use crate::event::{EventKind, Route, SignedEvent};
use crate::occupation::Catalogue;
use crate::policy::Policy;
use crate::state::{
    BodyRecord, BodyStatus, CredentialRecord, CredentialStatus, Holding, KeyPeriod, LedgerInfo,
    PolicyVersion, RecordView, Registry, RouteKind, StatusChange,
};
use std::sync::Arc;

/// What `signed` (accepted by `decide`, at log `index`) changes.
///
/// # Panics
/// When the event could not have passed `decide` (e.g. a policy that does not parse): the
/// log holds only decided events, so this is an invariant, not an input error.
pub fn apply(
    registry: &Registry,
    records: &impl RecordView,
    signed: &SignedEvent,
    index: u64,
) -> Changes {
    let mut changes = Changes {
        event_id: signed.event.id,
        index,
        registry: None,
        credential: None,
        special_ability: None,
        person: None,
        career: None,
        stats: Vec::with_capacity(10),
    };
    let body_change = |registration_number, update: &dyn Fn(&mut BodyRecord)| {
        let mut body = registry
            .bodies
            .get(&registration_number)
            .cloned()
            .unwrap_or_else(|| panic!("entry {index}: body {registration_number} must exist"));
        update(&mut body);
        Some(RegistryChange::Body(Box::new(body)))
    };
    let status_change = |change: &crate::event::BodyStatusChange, status| {
        body_change(change.registration_number, &|body: &mut BodyRecord| {
            body.status_changes.push(StatusChange {
                effective: change.effective,
                status,
                reason: change.reason.clone(),
                entry_index: index,
            })
        })
    };
    match &signed.event.kind {
        EventKind::LedgerEstablished(established) => {
            changes.registry = Some(RegistryChange::Ledger(LedgerInfo {
                origin: established.origin.clone(),
                province: established.province,
                authority_name: established.authority_name.clone(),
                authority_keys: vec![KeyPeriod {
                    // The authority existed before its ledger: its key signs records dated
                    // earlier too (e.g. a body registered before the ledger started).
                    from: crate::date::Date::from_ymd(1900, 1, 1).unwrap_or(established.date),
                    public_key: established.authority_key,
                }],
                established: established.date,
                recovery_key: None,
                authority_changes: Vec::new(),
                vc_issuer_keys: Vec::new(),
            }));
        }
        EventKind::CatalogueAdopted(adopted) => {
            let catalogue = Catalogue::from_toml(&adopted.source_toml)
                .unwrap_or_else(|error| panic!("entry {index}: decided catalogue: {error}"));
            changes.registry = Some(RegistryChange::Catalogue(Arc::new(catalogue)));
        }
        EventKind::PolicyAdopted(adopted) => {
            let policy = Policy::from_toml(&adopted.source_toml)
                .unwrap_or_else(|error| panic!("entry {index}: decided policy: {error}"));
            changes.registry = Some(RegistryChange::Policy(PolicyVersion {
                policy: Arc::new(policy),
                entry_index: index,
            }));
        }
        EventKind::BodyRegistered(registered) => {
            changes.registry = Some(RegistryChange::Body(Box::new(BodyRecord {
                registration_number: registered.registration_number,
                name: registered.name.clone(),
                keys: vec![KeyPeriod {
                    from: registered.valid_from.min(registered.date),
                    public_key: registered.public_key,
                }],
                valid_from: registered.valid_from,
                valid_until: registered.valid_until,
                audience: registered.audience,
                scope: registered.scope.clone(),
                direct_recognition: registered.direct_recognition,
                registered: registered.date,
                status_changes: Vec::new(),
                entry_index: index,
                revoked_keys: Vec::new(),
            })));
        }
        EventKind::AuthorityRecoveryKeySet(set) => {
            changes.registry = registry.ledger.as_ref().map(|ledger| {
                let mut ledger = ledger.clone();
                ledger.recovery_key = Some(set.public_key);
                ledger.authority_changes.push(index);
                RegistryChange::Ledger(ledger)
            });
        }
        EventKind::AuthorityKeyRotated(rotated) => {
            changes.registry = registry.ledger.as_ref().map(|ledger| {
                let mut ledger = ledger.clone();
                ledger.authority_keys.push(KeyPeriod {
                    from: rotated.date,
                    public_key: rotated.public_key,
                });
                ledger.authority_changes.push(index);
                RegistryChange::Ledger(ledger)
            });
        }
        EventKind::VcIssuerKeySet(set) => {
            changes.registry = registry.ledger.as_ref().map(|ledger| {
                let mut ledger = ledger.clone();
                ledger.vc_issuer_keys.push(crate::state::VcIssuerKey {
                    controller: set.controller.clone(),
                    public_key: set.public_key,
                    date: set.date,
                    entry_index: index,
                });
                RegistryChange::Ledger(ledger)
            });
        }
        EventKind::BodyKeyRevoked(revoked) => {
            changes.registry = body_change(revoked.registration_number, &|body| {
                body.revoked_keys.push(crate::state::RevokedKey {
                    public_key: revoked.public_key,
                    date: revoked.date,
                    entry_index: index,
                })
            });
        }
        EventKind::BodyKeyRotated(rotated) => {
            changes.registry = body_change(rotated.registration_number, &|body| {
                body.keys.push(KeyPeriod {
                    from: rotated.effective,
                    public_key: rotated.public_key,
                })
            });
        }
        EventKind::BodySuspended(change) => {
            changes.registry = status_change(change, BodyStatus::Suspended)
        }
        EventKind::BodyReinstated(change) => {
            changes.registry = status_change(change, BodyStatus::Active)
        }
        EventKind::BodyCancelled(change) => {
            changes.registry = status_change(change, BodyStatus::Cancelled)
        }
        EventKind::LevelCertified(certified) => {
            let route = RouteKind::of(&certified.route);
            let credential = CredentialRecord {
                certificate_number: certified.certificate_number,
                subject: certified.subject,
                name_commitment: certified.name_commitment,
                occupation: certified.occupation,
                work_type: certified.work_type.clone(),
                level: certified.level,
                issued: certified.issued,
                route,
                status: CredentialStatus::Valid,
                entry_index: index,
            };
            let mut person = records.person(&certified.subject).unwrap_or_default();
            let highest_before = person.highest_overall();
            let basis = crate::careers::credential_basis(&person, certified);
            // Built on a holding already marked (its basis was revoked before this one was
            // issued): marked from the start, as the cascade would have marked it.
            let basis_revoked = basis
                .and_then(|position| person.holdings.get(usize::from(position)))
                .is_some_and(|held| held.revoked || held.basis_revoked);
            if basis_revoked {
                changes.stats.push((StatKey::BasisRevoked, 1));
            }
            person.holdings.push(Holding {
                certificate_number: certified.certificate_number,
                occupation: certified.occupation,
                level: certified.level,
                issued: certified.issued,
                route,
                revoked: false,
                basis,
                basis_revoked,
            });
            if let Route::Contest { result } = certified.route {
                changes.career = crate::careers::promote_result(records, certified, result);
            }
            changes.stats.push((StatKey::Issued, 1));
            changes
                .stats
                .push((StatKey::KindIssued(certified.certificate_number.kind()), 1));
            changes
                .stats
                .push((StatKey::IssuedYear(certified.issued.year()), 1));
            valid_counters(&credential, 1, &mut changes.stats);
            holder_counters(
                highest_before,
                person.highest_overall(),
                certified.issued.year(),
                &mut changes.stats,
            );
            changes.credential = Some(credential);
            changes.person = Some((certified.subject, person));
        }
        EventKind::CredentialRevoked(revoked)
            if revoked.certificate_number.kind() == crate::ids::CredentialKind::SpecialAbility =>
        {
            crate::kinds::apply_special_ability_revocation(
                records,
                signed,
                revoked,
                index,
                &mut changes,
            )
        }
        EventKind::SpecialAbilityCertified(certified) => {
            crate::kinds::apply_special_ability(records, certified, index, &mut changes)
        }
        EventKind::CredentialRevoked(revoked) => {
            let mut credential = records
                .credential(&revoked.certificate_number)
                .unwrap_or_else(|| panic!("entry {index}: revoked credential must exist"));
            credential.status = revoked_status(revoked, signed, index);
            let mut person = records.person(&credential.subject).unwrap_or_default();
            let highest_before = person.highest_overall();
            for holding in &mut person.holdings {
                if holding.certificate_number == revoked.certificate_number {
                    holding.revoked = true;
                }
            }
            let marked = crate::careers::cascade_revocation(
                records,
                &credential.subject,
                revoked.certificate_number,
                &mut person,
                &mut changes,
            );
            if marked > 0 {
                changes
                    .stats
                    .push((StatKey::BasisRevoked, i64::from(marked)));
            }
            changes.stats.push((StatKey::Revoked, 1));
            changes.stats.push((
                StatKey::KindRevoked(credential.certificate_number.kind()),
                1,
            ));
            valid_counters(&credential, -1, &mut changes.stats);
            holder_counters(
                highest_before,
                person.highest_overall(),
                revoked.effective.year(),
                &mut changes.stats,
            );
            changes.person = Some((credential.subject, person));
            changes.credential = Some(credential);
        }
        EventKind::RecognitionRecorded(recognised) => {
            crate::recognition::apply_recognition(records, recognised, &mut changes)
        }
        EventKind::RecognitionWithdrawn(withdrawn) => {
            crate::recognition::apply_withdrawal(records, withdrawn, &mut changes)
        }
        EventKind::ContestJoined(joined) => {
            crate::joint_contests::apply_joined(registry, joined, &mut changes)
        }
        EventKind::PartnerContestResultAccepted(accepted) => {
            crate::joint_contests::apply_accepted(registry, records, accepted, &mut changes)
        }
        _ => crate::careers::apply_route_event(registry, records, signed, index, &mut changes),
    }
    changes
}

/// The status a `CredentialRevoked` (signed as `signed`, at log `index`) gives a
/// certificate of any kind.
pub(crate) fn revoked_status(
    revoked: &crate::event::CredentialRevoked,
    signed: &SignedEvent,
    index: u64,
) -> CredentialStatus {
    CredentialStatus::Revoked {
        effective: revoked.effective,
        reason: revoked.reason.clone(),
        by: signed.signer,
        entry_index: index,
    }
}
