//! Printing: one JSON object with `--json`, readable text otherwise.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use skill_ledger_domain::{BodyRecord, CredentialRecord, CredentialStatus, PersonRecord, Registry};

/// Set once a JSON object has been printed, so `main` does not print a second one.
static PRINTED_JSON: AtomicBool = AtomicBool::new(false);

/// Whether this process already printed its JSON object on stdout.
pub fn json_printed() -> bool {
    PRINTED_JSON.load(Ordering::Relaxed)
}

/// Prints a JSON value on one line and flushes, so a reader sees it at once.
pub fn print_json(value: &Value) {
    PRINTED_JSON.store(true, Ordering::Relaxed);
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{value}");
    let _ = stdout.flush();
}

pub fn credential_json(credential: &CredentialRecord, registry: &Registry) -> Value {
    let body = registry.bodies.get(&credential.body());
    let occupation_name = registry
        .catalogue
        .as_ref()
        .and_then(|catalogue| catalogue.get(credential.occupation))
        .map(|occupation| occupation.name.clone());
    let (status, revocation) = match &credential.status {
        CredentialStatus::Valid => ("valid", Value::Null),
        CredentialStatus::Revoked {
            effective,
            reason,
            by,
            entry_index,
        } => (
            "revoked",
            serde_json::json!({
                "effective": effective.to_string(),
                "reason": reason,
                "by": match by {
                    skill_ledger_domain::Signer::Authority => "authority".to_string(),
                    skill_ledger_domain::Signer::Body(number) => number.to_string(),
                },
                "entry_index": entry_index,
            }),
        ),
    };
    serde_json::json!({
        "certificate_number": credential.certificate_number.as_str(),
        "status": status,
        "level": credential.level.id(),
        "level_name": credential.level.certificate_label(),
        "occupation": credential.occupation.to_string(),
        "occupation_name": occupation_name,
        "work_type": credential.work_type,
        "issued": credential.issued.to_string(),
        "route": credential.route.id(),
        "body": credential.body().as_str(),
        "body_name": body.map(|body| body.name.clone()),
        "entry_index": credential.entry_index,
        "revocation": revocation,
    })
}

pub fn body_json(body: &BodyRecord) -> Value {
    serde_json::json!({
        "registration_number": body.registration_number.as_str(),
        "name": body.name,
        "kind": body.registration_number.kind().letter().to_string(),
        "province": body.registration_number.province().to_string(),
        "status": body.status_now().id(),
        "valid_from": body.valid_from.to_string(),
        "valid_until": body.valid_until.to_string(),
        "audience": body.audience.id(),
        "direct_recognition": body.direct_recognition,
        "scope": body.scope.iter().map(|item| serde_json::json!({
            "occupation": item.occupation.to_string(),
            "level_max": item.level_max.id(),
        })).collect::<Vec<_>>(),
        "keys": body.keys.iter().map(|key| serde_json::json!({
            "from": key.from.to_string(),
            "public_key": hex::encode(key.public_key),
        })).collect::<Vec<_>>(),
        "status_changes": body.status_changes.iter().map(|change| serde_json::json!({
            "effective": change.effective.to_string(),
            "status": change.status.id(),
            "reason": change.reason,
            "entry_index": change.entry_index,
        })).collect::<Vec<_>>(),
        "entry_index": body.entry_index,
    })
}

pub fn person_json(person: &PersonRecord) -> Value {
    serde_json::json!({
        "highest_level": person.highest_overall().map(|level| level.id()),
        "highest_per_occupation": person.highest_per_occupation().iter().map(|(occupation, level)| {
            (occupation.to_string(), Value::from(level.id()))
        }).collect::<serde_json::Map<_, _>>(),
        "credentials": person.holdings.iter().map(|holding| serde_json::json!({
            "certificate_number": holding.certificate_number.as_str(),
            "occupation": holding.occupation.to_string(),
            "level": holding.level.id(),
            "issued": holding.issued.to_string(),
            "route": holding.route.id(),
            "status": if holding.revoked { "revoked" } else { "valid" },
        })).collect::<Vec<_>>(),
    })
}

/// Prints a JSON value as indented text for people.
pub fn print_human(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}
