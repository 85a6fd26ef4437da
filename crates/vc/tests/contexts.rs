//! The bundled contexts are pinned by SHA-256: a changed context changes what every RDFC
//! signature means, so it must be a deliberate change of this test (and of every golden file).
//! And a context that is not bundled is an error, never a fetch.

use serde_json::json;
use sha2::Digest as _;
use skill_ledger_vc::contexts::*;
use skill_ledger_vc::*;

#[test]
fn bundled_contexts_are_pinned() {
    let expected = [
        (
            CREDENTIALS_V2,
            "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
        ),
        (
            DATA_INTEGRITY_V2,
            "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
        ),
        (
            MULTIKEY_V1,
            "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6",
        ),
        (
            DID_V1,
            "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
        ),
        (
            SKILL_LEDGER_V1,
            "cbdc6637bf65cd34e299697a5d226d15d51983ee1fb8e745d99c09335db8cf55",
        ),
    ];
    assert_eq!(CONTEXTS.len(), expected.len());
    for (url, digest) in expected {
        let text = bundled_context(url).expect("bundled");
        assert_eq!(
            hex::encode(sha2::Sha256::digest(text.as_bytes())),
            digest,
            "{url}"
        );
        serde_json::from_str::<serde_json::Value>(text).expect("a context is JSON");
    }
}

#[test]
fn an_unbundled_context_is_an_error_not_a_fetch() {
    let doc = json!({"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/not-bundled/v1"],
                     "id": "urn:x:1", "type": "VerifiableCredential"});
    assert_eq!(
        canonical_nquads(&doc),
        Err(VcError::UnbundledContext(
            "https://example.org/not-bundled/v1".into()
        ))
    );
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    assert_eq!(
        sign_document(
            &doc,
            Suite::EddsaRdfc2022,
            &key,
            "https://a.example/#k",
            sample::CREATED
        ),
        Err(VcError::UnbundledContext(
            "https://example.org/not-bundled/v1".into()
        ))
    );
}

/// Why every term must be defined: JSON-LD drops the others, so RDFC does not sign them.
#[test]
fn undefined_terms_are_dropped_by_json_ld() {
    let doc = json!({"@context": [CREDENTIALS_V2], "id": "urn:x:1", "type": "VerifiableCredential", "notInAnyContext": "lost"});
    assert!(!canonical_nquads(&doc).expect("canonical").contains("lost"));
}

/// Every member `to_json` writes is defined: the RDF has as many values as the JSON has leaves.
#[test]
fn every_term_of_a_skill_credential_is_defined() {
    let c = sample::recognised_credential(3);
    let nquads = canonical_nquads(&c.to_json()).expect("canonical");
    for needle in [
        "<https://skill-ledger.example/ns#nameCommitment>",
        "<https://skill-ledger.example/ns#workType>",
        "<https://skill-ledger.example/ns#levelRank> \"5\"^^<http://www.w3.org/2001/XMLSchema#integer>",
        "<https://skill-ledger.example/ns#recognitionDate> \"2025-03-01\"^^<http://www.w3.org/2001/XMLSchema#date>",
        "<https://schema.org/name> \"重庆市职业技能鉴定指导中心\"",
        "<https://www.w3.org/ns/credentials/status#statusListIndex> \"3\"",
        "<https://skill-ledger.example/ns#checkpoint>",
        "<https://skill-ledger.example/ns#MutualRecognitionCredential>",
    ] {
        assert_eq!(nquads.contains(needle), needle != "<https://skill-ledger.example/ns#workType>", "{needle}\n{nquads}");
    }
    // Leaves of the JSON (strings and numbers; `@context` and the 3 `type`s of the VC count as
    // types) against quads: 1 quad per leaf.
    fn leaves(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(o) => o
                .iter()
                .filter(|(k, _)| *k != "@context" && *k != "id")
                .map(|(_, v)| leaves(v) + usize::from(v.is_object()))
                .sum(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|v| leaves(v) + usize::from(v.is_object()))
                .sum(),
            _ => 1,
        }
    }
    assert_eq!(nquads.lines().count(), leaves(&c.to_json()), "{nquads}");
}

#[test]
fn suite_names() {
    for suite in Suite::ALL {
        assert_eq!(suite.as_str().parse::<Suite>(), Ok(suite));
        assert_eq!(suite.to_string(), suite.as_str());
    }
    let err = "ed25519-2020".parse::<Suite>().expect_err("unknown");
    assert_eq!(err, VcError::UnknownSuite("ed25519-2020".into()));
    assert!(
        err.to_string()
            .contains("\"eddsa-rdfc-2022\" and \"eddsa-jcs-2022\""),
        "{err}"
    );
}
