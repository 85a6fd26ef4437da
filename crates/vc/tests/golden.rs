//! Golden files: fixed inputs signed with each suite, compared byte for byte with
//! `crates/vc/tests/data/*.json` (serde_json pretty + final newline). Any change of output, from
//! our code or a pinned crate, fails here. After a deliberate change, regenerate with
//! `SKILL_LEDGER_UPDATE_GOLDEN=1 cargo test -p skill-ledger-vc --test golden` and review the diff.
//!
//! Inputs (all in `skill_ledger_vc::sample`): key = Ed25519 seed `[7; 32]`, issuer
//! `https://issuer.skill-ledger.example/cq`, `created` = `2026-12-07T10:00:00Z`; credential =
//! `sample::credential(1)` and `sample::recognised_credential(2)`; status list = entries 1 and 5
//! revoked, `validFrom` `2025-03-01T00:00:00Z`.

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use serde_json::Value;
use skill_ledger_vc::*;

fn check(name: &str, value: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("serializes")
    );
    if std::env::var_os("SKILL_LEDGER_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("writes golden file");
    }
    let golden =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        text, golden,
        "{name} changed (see the module docs to regenerate)"
    );
}

fn setup() -> (SigningKey, ControllerDocument, String) {
    let issuer = sample::issuer();
    (issuer.key, issuer.controller, issuer.method)
}

#[test]
fn golden_controller_document() {
    let (_, controller, _) = setup();
    check("controller.json", &controller.to_json());
    assert_eq!(
        ControllerDocument::from_json(&controller.to_json()),
        Ok(controller)
    );
}

#[test]
fn golden_credentials() {
    let (key, controller, method) = setup();
    for (name, credential) in [
        ("credential", sample::credential(1)),
        ("recognised", sample::recognised_credential(2)),
    ] {
        for suite in Suite::ALL {
            let vc = issue(&credential, suite, &key, &method, sample::CREATED).expect("issues");
            check(&format!("{name}-{suite}.json"), &vc);
            let verified = verify_credential(&vc, &controller, None).expect("verifies");
            assert_eq!(verified.suite, suite);
        }
    }
}

#[test]
fn golden_status_list() {
    let (key, controller, method) = setup();
    let mut list = StatusList::new();
    list.set(1).expect("in range");
    list.set(5).expect("in range");
    let unsecured = status_list_credential(
        sample::STATUS_LIST,
        sample::ISSUER,
        sample::VALID_FROM,
        &list,
    );
    let signed = sign_document(
        &unsecured,
        Suite::EddsaRdfc2022,
        &key,
        &method,
        sample::CREATED,
    )
    .expect("signs");
    check("status-list-eddsa-rdfc-2022.json", &signed);
    for (i, revoked) in [(0, false), (1, true), (2, false), (5, true)] {
        let mut c = sample::credential(i);
        c.status = Some(StatusEntry {
            list_url: sample::STATUS_LIST.into(),
            index: i,
        });
        let vc = issue(&c, Suite::EddsaRdfc2022, &key, &method, sample::CREATED).expect("issues");
        let v = verify_credential(&vc, &controller, Some(&signed)).expect("verifies");
        assert_eq!(
            v.status,
            Some(if revoked {
                Status::Revoked
            } else {
                Status::Valid
            }),
            "{i}"
        );
    }
}

/// The golden files as stored (not as issued now) pass `verify_credential`, strict shape check
/// included, and read back into the sample credentials.
#[test]
fn every_golden_file_verifies_strictly() {
    let (_, controller, _) = setup();
    let read = |name: &str| -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse_document(&text).expect("a JSON object")
    };
    let list = read("status-list-eddsa-rdfc-2022.json");
    let as_credential = verify_credential(&list, &controller, None).expect("the list verifies");
    assert_eq!(as_credential.suite, Suite::EddsaRdfc2022);
    for (name, credential, revoked) in [
        ("credential", sample::credential(1), true),
        ("recognised", sample::recognised_credential(2), false),
    ] {
        for suite in Suite::ALL {
            let vc = read(&format!("{name}-{suite}.json"));
            let verified = verify_credential(&vc, &controller, Some(&list)).expect("verifies");
            assert_eq!(verified.suite, suite, "{name}");
            let status = if revoked {
                Status::Revoked
            } else {
                Status::Valid
            };
            assert_eq!(verified.status, Some(status), "{name}-{suite}");
            assert_eq!(SkillCredential::from_json(&vc), Ok(credential.clone()));
        }
    }
}

/// docs/formats.md (Part 8) prints the golden files as they are.
#[test]
fn the_formats_document_prints_the_golden_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let formats = std::fs::read_to_string(root.join("../../docs/formats.md")).expect("formats.md");
    for name in [
        "controller.json",
        "credential-eddsa-rdfc-2022.json",
        "status-list-eddsa-rdfc-2022.json",
    ] {
        let golden = std::fs::read_to_string(root.join("tests/data").join(name)).expect("golden");
        assert!(
            formats.contains(&format!("```json\n{golden}```")),
            "docs/formats.md does not print {name} as it is"
        );
    }
}
