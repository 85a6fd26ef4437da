//! Fixed sample data: the golden files under `crates/vc/tests/data/`, the interop test and the
//! throughput measurement all use it. The key is the Ed25519 key of seed `[7; 32]` (a test key:
//! never use it for anything real), the issuer `https://issuer.skill-ledger.example/cq`, and
//! every proof is `created` at `2026-12-07T10:00:00Z`.

use crate::{
    CredentialSubject, IssuingBody, LedgerEvidence, RecognisedCredential, SkillCredential,
    StatusEntry,
};

/// Seed of the sample signing key.
pub const SEED: [u8; 32] = [7; 32];
/// The sample issuer (controller document id).
pub const ISSUER: &str = "https://issuer.skill-ledger.example/cq";
/// The sample status list credential's URL.
pub const STATUS_LIST: &str = "https://issuer.skill-ledger.example/cq/status/1";
/// `created` of every sample proof.
pub const CREATED: &str = "2026-12-07T10:00:00Z";
/// `validFrom` of the sample status list credential.
pub const VALID_FROM: &str = "2025-03-01T00:00:00Z";

/// The sample issuer: its signing key (seed [`SEED`]), its controller document (id
/// [`ISSUER`], that one key) and the key's verification method id.
pub struct Issuer {
    pub key: ed25519_dalek::SigningKey,
    pub controller: crate::ControllerDocument,
    pub method: String,
}

/// The sample [`Issuer`].
pub fn issuer() -> Issuer {
    let key = ed25519_dalek::SigningKey::from_bytes(&SEED);
    let controller = crate::ControllerDocument {
        id: ISSUER.into(),
        keys: vec![key.verifying_key()],
    };
    let method = controller.method_id(&key.verifying_key());
    Issuer {
        key,
        controller,
        method,
    }
}

fn hex_of(tag: &str, i: u64) -> String {
    hex::encode(crate::proof::sha256(format!("{tag}:{i}").as_bytes()))
}

/// Sample credential number `i` (distinct ids, subjects, numbers and status indexes).
pub fn credential(i: u64) -> SkillCredential {
    SkillCredential {
        id: format!("https://issuer.skill-ledger.example/cq/credentials/S000050010100001A{i:04}"),
        issuer: ISSUER.into(),
        valid_from: "2025-03-01T00:00:00+08:00".into(),
        subject: CredentialSubject {
            id: format!("urn:skill-ledger:subject:{}", hex_of("subject", i)),
            name_commitment: hex_of("name", i),
            certificate_number: format!("S000050010100001A{i:04}"),
            occupation_code: "4-01-02-01".into(),
            occupation_name: "电工".into(),
            work_type: Some("维修电工".into()),
            skill_level: "高级工".into(),
            national_level: Some("三级".into()),
            level_rank: 4,
            route: "evaluation".into(),
            issuing_body: IssuingBody {
                registration_number: "S000050010100".into(),
                name: "重庆市职业技能鉴定指导中心".into(),
            },
            issue_date: "2025-03-01".into(),
            recognised: None,
        },
        status: Some(StatusEntry {
            list_url: STATUS_LIST.into(),
            index: i % crate::StatusList::BITS,
        }),
        evidence: vec![LedgerEvidence {
            origin: "skill-ledger.example/cq".into(),
            entry_index: i,
            leaf_hash: hex_of("leaf", i),
            tree_size: i + 100,
            root_hash: hex_of("root", i),
            checkpoint: format!(
                "skill-ledger.example/cq\n{}\n{}\n\n— skill-ledger.example/cq AAAAAQ==\n",
                i + 100,
                "c2FtcGxlIHJvb3QgaGFzaCBmb3IgdGhlIGdvbGRlbiBmaWxlcw=="
            ),
        }],
    }
}

/// Sample credential `i` as the recognition (互认) of a Sichuan partner's credential.
pub fn recognised_credential(i: u64) -> SkillCredential {
    let mut c = credential(i);
    c.subject.route = "recognition".into();
    c.subject.national_level = None;
    c.subject.work_type = None;
    c.subject.skill_level = "技师".into();
    c.subject.level_rank = 5;
    c.subject.recognised = Some(RecognisedCredential {
        origin: "skill-ledger.example/sc".into(),
        certificate_number: format!("S000051010100002B{i:04}"),
        entry_index: 12,
        leaf_hash: hex_of("partner-leaf", i),
        issue_date: "2024-05-01".into(),
        recognition_date: "2025-03-01".into(),
    });
    c
}
