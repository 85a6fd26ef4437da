//! The test vectors of W3C "Data Integrity EdDSA Cryptosuites v1.0" (vc-di-eddsa, appendix
//! "Test Vectors"), reproduced byte for byte: key pair, canonical document, canonical proof
//! configuration, both hashes, hashData, signature, proofValue and the signed credentials.
//! Files: tests/vectors/ (see its README.md for their source).

use serde_json::Value;
use skill_ledger_vc::*;

macro_rules! tv {
    ($p:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/", $p))
    };
}

/// The vectors' credential uses the W3C examples context, which is not bundled (it has an
/// `@vocab`): the vector tests serve it on the side.
const EXAMPLES: &[(&str, &str)] = &[(
    "https://www.w3.org/ns/credentials/examples/v2",
    tv!("credentials-examples-v2.jsonld"),
)];

const PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("vector file is JSON")
}

fn key() -> ed25519_dalek::SigningKey {
    let kp = json(tv!("keyPair.json"));
    assert_eq!(kp["publicKeyMultibase"], PUBLIC);
    decode_multikey_secret(kp["privateKeyMultibase"].as_str().expect("secret key"))
        .expect("secret key decodes")
}

/// The spec's .txt files have no trailing newline; canonical N-Quads end every line with '\n'.
fn nquads(file: &str) -> String {
    format!("{}\n", file.trim_end())
}

#[test]
fn key_pair_matches_spec() {
    let sk = key();
    assert_eq!(encode_multikey_public(&sk.verifying_key()), PUBLIC);
    assert_eq!(
        decode_multikey_public(PUBLIC).expect("decodes"),
        sk.verifying_key()
    );
}

fn check_suite(suite: Suite, config: &str, files: [&str; 8], signed: &str, rdfc: bool) {
    let [canon_doc, doc_hash, proof_canon, proof_hash, combined, sig_hex, sig_b58, _] = files;
    let unsigned = json(tv!("unsigned.json"));
    let config = json(config);
    let im = proof_intermediates(suite, &unsigned, &config, &key(), EXAMPLES).expect("proof");
    let text = |s: &str| {
        if rdfc {
            nquads(s)
        } else {
            s.trim_end().to_owned()
        }
    };
    assert_eq!(im.canonical_document, text(canon_doc));
    assert_eq!(hex::encode(im.document_hash), doc_hash.trim());
    assert_eq!(im.canonical_proof_config, text(proof_canon));
    assert_eq!(hex::encode(im.proof_config_hash), proof_hash.trim());
    assert_eq!(hex::encode(&im.hash_data), combined.trim());
    assert_eq!(hex::encode(im.signature), sig_hex.trim());
    assert_eq!(im.proof_value, sig_b58.trim());

    // The whole secured credential, as in the spec.
    let method = config["verificationMethod"].as_str().expect("method");
    let created = config["created"].as_str().expect("created");
    let secured = sign_document_with_contexts(&unsigned, suite, &key(), method, created, EXAMPLES)
        .expect("signs");
    assert_eq!(secured, json(signed));
    let info = verify_proof_with_contexts(&json(signed), &key().verifying_key(), EXAMPLES)
        .expect("verifies");
    assert_eq!(info.suite, suite);
    assert_eq!(info.verification_method, method);
    assert_eq!(info.created.as_deref(), Some(created));
    assert_eq!(info.proof_purpose, "assertionMethod");
}

#[test]
fn eddsa_rdfc_2022_alumni_credential() {
    check_suite(
        Suite::EddsaRdfc2022,
        tv!("eddsa-rdfc-2022/proofConfigDataInt.json"),
        [
            tv!("eddsa-rdfc-2022/canonDocDataInt.txt"),
            tv!("eddsa-rdfc-2022/docHashDataInt.txt"),
            tv!("eddsa-rdfc-2022/proofCanonDataInt.txt"),
            tv!("eddsa-rdfc-2022/proofHashDataInt.txt"),
            tv!("eddsa-rdfc-2022/combinedHashDataInt.txt"),
            tv!("eddsa-rdfc-2022/sigHexDataInt.txt"),
            tv!("eddsa-rdfc-2022/sigBTC58DataInt.txt"),
            "",
        ],
        tv!("eddsa-rdfc-2022/signedDataInt.json"),
        true,
    );
}

#[test]
fn eddsa_jcs_2022_alumni_credential() {
    check_suite(
        Suite::EddsaJcs2022,
        tv!("eddsa-jcs-2022/proofConfigJCS.json"),
        [
            tv!("eddsa-jcs-2022/canonDocJCS.txt"),
            tv!("eddsa-jcs-2022/docHashJCS.txt"),
            tv!("eddsa-jcs-2022/proofCanonJCS.txt"),
            tv!("eddsa-jcs-2022/proofHashJCS.txt"),
            tv!("eddsa-jcs-2022/combinedHashJCS.txt"),
            tv!("eddsa-jcs-2022/sigHexJCS.txt"),
            tv!("eddsa-jcs-2022/sigBTC58JCS.txt"),
            "",
        ],
        tv!("eddsa-jcs-2022/signedJCS.json"),
        false,
    );
}

#[test]
fn tampered_spec_credentials_do_not_verify() {
    let pk = decode_multikey_public(PUBLIC).expect("decodes");
    for signed in [
        tv!("eddsa-rdfc-2022/signedDataInt.json"),
        tv!("eddsa-jcs-2022/signedJCS.json"),
    ] {
        let mut doc = json(signed);
        doc["credentialSubject"]["alumniOf"] = "Another School".into();
        assert_eq!(
            verify_proof_with_contexts(&doc, &pk, EXAMPLES),
            Err(VcError::SignatureInvalid)
        );
    }
}

#[test]
fn without_the_examples_context_the_vectors_are_unbundled() {
    let pk = decode_multikey_public(PUBLIC).expect("decodes");
    let doc = json(tv!("eddsa-rdfc-2022/signedDataInt.json"));
    assert_eq!(
        verify_proof(&doc, &pk),
        Err(VcError::UnbundledContext(
            "https://www.w3.org/ns/credentials/examples/v2".into()
        ))
    );
}

/// The vectors' credentials are not `SkillLevelCredential`s (no strict shape to check): they
/// verify by the general `verify_proof`, which is not a safe-mode check.
#[test]
fn the_vectors_credentials_verify_by_verify_proof() {
    let pk = decode_multikey_public(PUBLIC).expect("decodes");
    for (suite, signed) in [
        (
            Suite::EddsaRdfc2022,
            tv!("eddsa-rdfc-2022/signedDataInt.json"),
        ),
        (Suite::EddsaJcs2022, tv!("eddsa-jcs-2022/signedJCS.json")),
    ] {
        let doc = json(signed);
        assert!(!doc["type"]
            .as_array()
            .expect("types")
            .contains(&"SkillLevelCredential".into()));
        let info = verify_proof_with_contexts(&doc, &pk, EXAMPLES).expect("verifies");
        assert_eq!(info.suite, suite);
    }
}
