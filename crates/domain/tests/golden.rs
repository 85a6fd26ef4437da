//! Golden vectors: exact bytes that must never change (docs/formats.md (part 3) lists them).
//! A failure here means the signed or stored format changed: every existing signature and
//! every partner ledger would break. Do not update a constant without a new format version.

mod common;

use common::*;
use skill_ledger_domain::{
    encode_event, signing_message, CertificateNumber, EvaluationBasis, Event, EventId, EventKind,
    IdDocumentType, LedgerEstablished, Level, LevelCertified, Province, PseudonymKey, Route,
    SignedEvent, Signer,
};

const PSEUDONYM_KEY: [u8; 32] = [0x11; 32];
const CERTIFICATE: &str = "Y000050000001243000017";

/// Entry 0 of the golden ledger: authority key = seed [1; 32], id 00 01 … 0f.
fn golden_established() -> SignedEvent {
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = i as u8;
    }
    SignedEvent::sign(
        ORIGIN,
        Signer::Authority,
        &authority_key(),
        Event {
            id: EventId(id),
            kind: EventKind::LedgerEstablished(LedgerEstablished {
                origin: ORIGIN.to_string(),
                province: Province::CHONGQING,
                authority_name: "重庆人社".to_string(),
                authority_key: authority_key().verifying_key().to_bytes(),
                date: d("2019-01-01"),
            }),
        },
    )
}

/// A 高级工 credential in 焊工/电焊工 by body Y000050000001 (key seed [2; 32]), id [0xaa; 16].
fn golden_certified() -> SignedEvent {
    let key = PseudonymKey::from_bytes(PSEUDONYM_KEY);
    let certificate_number: CertificateNumber = CERTIFICATE.parse().expect("number");
    SignedEvent::sign(
        ORIGIN,
        Signer::Body(y_body().number),
        &y_body().key,
        Event {
            id: EventId([0xaa; 16]),
            kind: EventKind::LevelCertified(LevelCertified {
                certificate_number,
                subject: key.subject(IdDocumentType::ResidentIdCard, "11010519491231002X"),
                name_commitment: key.commit_name(CERTIFICATE, "张三"),
                occupation: welder(),
                work_type: Some("电焊工".to_string()),
                level: Level::Senior,
                issued: d("2024-06-30"),
                route: Route::Evaluation(EvaluationBasis::PriorLevel),
            }),
        },
    )
}

const ESTABLISHED_ENTRY_HEX: &str =
    "01000000008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5cdbccdec285fa65850e0210a747e8f8ea9604206197e1622a895840f4d156449d2d1d103606f0ecd1928b5bf4b069cbd0ebe5f8852df1fe1aa2f1314043581b04000102030405060708090a0b0c0d0e0f000000000f00000000000000736b696c6c2d6c65646765722f3530320c00000000000000e9878de5ba86e4babae7a4be8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5ce9450000";
const CERTIFIED_ENTRY_HEX: &str =
    "0101000000593030303035303030303030318139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394b88534fcd77ef29ed716b6866216473cea7896b9cb8261147013d9127056658c8c188b90eb30828e05166b7b99a3d66d420dc52418bb85a4f390afdca01d3707aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa08000000593030303035303030303030313234333030303031375d7dd90e1a892e5bff6cc95483c0c2304f7f0a7279f11419eb626c5b5586d470c4778cf2b66aedaa9c021d87d6f79b48e6251e8c318e331e348f937248143f4c06120204010900000000000000e794b5e7848ae5b7a503000000c04d00000000000000000000";
const CERTIFIED_SIGNING_MESSAGE_HEX: &str =
    "736b696c6c2d6c65646765722f6576656e742f76310a736b696c6c2d6c65646765722f35300aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa08000000593030303035303030303030313234333030303031375d7dd90e1a892e5bff6cc95483c0c2304f7f0a7279f11419eb626c5b5586d470c4778cf2b66aedaa9c021d87d6f79b48e6251e8c318e331e348f937248143f4c06120204010900000000000000e794b5e7848ae5b7a503000000c04d00000000000000000000";
const SUBJECT_HEX: &str = "5d7dd90e1a892e5bff6cc95483c0c2304f7f0a7279f11419eb626c5b5586d470";
const NAME_KEY_HEX: &str = "e97927354c29aabf6f112f7208eee5cb7bed78556339c960147f8eb9e1fb45e1";
const NAME_COMMITMENT_HEX: &str =
    "c4778cf2b66aedaa9c021d87d6f79b48e6251e8c318e331e348f937248143f4c";

#[test]
fn established_entry_bytes() {
    let entry = golden_established().to_entry().expect("encodes");
    assert_eq!(hex::encode(&entry), ESTABLISHED_ENTRY_HEX);
    assert_eq!(SignedEvent::from_entry(&entry), Ok(golden_established()));
}

#[test]
fn certified_entry_bytes() {
    let entry = golden_certified().to_entry().expect("encodes");
    assert_eq!(hex::encode(&entry), CERTIFIED_ENTRY_HEX);
    assert_eq!(SignedEvent::from_entry(&entry), Ok(golden_certified()));
}

#[test]
fn certified_signing_message_bytes() {
    let signed = golden_certified();
    let message = signing_message(ORIGIN, &encode_event(&signed.event));
    assert_eq!(hex::encode(&message), CERTIFIED_SIGNING_MESSAGE_HEX);
    assert!(message.starts_with(b"skill-ledger/event/v1\nskill-ledger/50\n"));
    assert!(signed.verify_signature(ORIGIN));
}

#[test]
fn pseudonym_vectors() {
    let key = PseudonymKey::from_bytes(PSEUDONYM_KEY);
    let subject = key.subject(IdDocumentType::ResidentIdCard, "11010519491231002X");
    assert_eq!(subject.to_hex(), SUBJECT_HEX);
    assert_eq!(
        key.commit_name(CERTIFICATE, "张三").to_hex(),
        NAME_COMMITMENT_HEX
    );
    // Normalisation happens before hashing: these spellings give the same values.
    assert_eq!(
        key.subject(IdDocumentType::ResidentIdCard, "110105 19491231 002x"),
        subject
    );
    assert_eq!(
        key.commit_name(CERTIFICATE, " 张 三 ").to_hex(),
        NAME_COMMITMENT_HEX
    );
}

/// The documented HMAC construction, rebuilt by hand: HMAC-SHA-256 over each part prefixed
/// with its length as u32 little-endian.
#[test]
fn pseudonym_construction_matches_the_documentation() {
    use hmac::{Hmac, Mac};
    let mac_with = |key: &[u8], parts: &[&[u8]]| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
        for part in parts {
            mac.update(&(part.len() as u32).to_le_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    };
    assert_eq!(
        hex::encode(mac_with(
            &PSEUDONYM_KEY,
            &[
                b"skill-ledger/subject/v1",
                b"resident_id",
                b"11010519491231002X"
            ]
        )),
        SUBJECT_HEX
    );
    // The name commitment is two HMACs: the certificate's name key under the pseudonym key,
    // then the name under the name key.
    let name_key = mac_with(
        &PSEUDONYM_KEY,
        &[b"skill-ledger/name-key/v1", CERTIFICATE.as_bytes()],
    );
    assert_eq!(hex::encode(&name_key), NAME_KEY_HEX);
    assert_eq!(
        hex::encode(mac_with(
            &name_key,
            &[
                b"skill-ledger/name/v2",
                CERTIFICATE.as_bytes(),
                "张三".as_bytes()
            ]
        )),
        NAME_COMMITMENT_HEX
    );
}

/// The entry layout field by field, as docs/formats.md (part 3) describes it.
#[test]
fn established_entry_layout() {
    let signed = golden_established();
    let entry = signed.to_entry().expect("encodes");
    let mut at = 0;
    let mut take = |length: usize| {
        let field = &entry[at..at + length];
        at += length;
        field.to_vec()
    };
    assert_eq!(take(1), [1], "format version");
    assert_eq!(take(4), 0u32.to_le_bytes(), "Signer::Authority tag");
    assert_eq!(take(32), signed.public_key, "public key");
    assert_eq!(take(64), signed.signature, "signature");
    // Event
    assert_eq!(take(16), signed.event.id.0, "event id");
    assert_eq!(
        take(4),
        0u32.to_le_bytes(),
        "EventKind::LedgerEstablished tag"
    );
    assert_eq!(
        take(8),
        (ORIGIN.len() as u64).to_le_bytes(),
        "origin length"
    );
    assert_eq!(take(ORIGIN.len()), ORIGIN.as_bytes(), "origin");
    assert_eq!(take(1), [50], "province");
    let name = "重庆人社".as_bytes();
    assert_eq!(take(8), (name.len() as u64).to_le_bytes(), "name length");
    assert_eq!(take(name.len()), name, "authority name");
    assert_eq!(
        take(32),
        authority_key().verifying_key().to_bytes(),
        "authority key"
    );
    let days = d("2019-01-01").days_since_unix_epoch();
    assert_eq!(days, 17_897);
    assert_eq!(take(4), days.to_le_bytes(), "date");
    assert_eq!(at, entry.len(), "nothing after the event");
}

/// The LevelCertified event layout field by field.
#[test]
fn certified_event_layout() {
    let signed = golden_certified();
    let EventKind::LevelCertified(certified) = &signed.event.kind else {
        unreachable!()
    };
    let entry = signed.to_entry().expect("encodes");
    let mut at = 0;
    let mut take = |length: usize| {
        let field = &entry[at..at + length];
        at += length;
        field.to_vec()
    };
    assert_eq!(take(1), [1], "format version");
    assert_eq!(take(4), 1u32.to_le_bytes(), "Signer::Body tag");
    assert_eq!(take(13), b"Y000050000001", "registration number");
    assert_eq!(take(32), signed.public_key, "public key");
    assert_eq!(take(64), signed.signature, "signature");
    // The event starts after 1 + 4 + 13 + 32 + 64 header bytes.
    let event_start = 114;
    assert_eq!(take(16), [0xaa; 16], "event id");
    assert_eq!(take(4), 8u32.to_le_bytes(), "EventKind::LevelCertified tag");
    assert_eq!(take(22), CERTIFICATE.as_bytes(), "certificate number");
    assert_eq!(take(32), certified.subject.0, "subject");
    assert_eq!(take(32), certified.name_commitment.0, "name commitment");
    assert_eq!(take(4), [6, 18, 2, 4], "occupation 6-18-02-04");
    assert_eq!(take(1), [1], "Option::Some");
    let work_type = "电焊工".as_bytes();
    assert_eq!(
        take(8),
        (work_type.len() as u64).to_le_bytes(),
        "work type length"
    );
    assert_eq!(take(work_type.len()), work_type, "work type");
    assert_eq!(take(4), 3u32.to_le_bytes(), "Level::Senior rank");
    assert_eq!(
        take(4),
        d("2024-06-30").days_since_unix_epoch().to_le_bytes(),
        "issued"
    );
    assert_eq!(take(4), 0u32.to_le_bytes(), "Route::Evaluation tag");
    assert_eq!(
        take(4),
        0u32.to_le_bytes(),
        "EvaluationBasis::PriorLevel tag"
    );
    assert_eq!(at, entry.len(), "nothing after the event");
    assert_eq!(
        &entry[event_start..],
        encode_event(&signed.event).as_slice()
    );
}

/// The withdrawal of recognition `00 01 … 0f` of subject `[0x22; 32]`, effective
/// 2024-09-01, because the origin revoked the credential at its entry 300, under the id
/// derived from the recognition's (docs/formats.md part 3, section 6.6).
#[test]
fn recognition_withdrawal_event_bytes_and_derived_id() {
    let recognition = EventId(std::array::from_fn(|i| i as u8));
    let id = EventId::withdrawal_of(&recognition);
    assert_eq!(id.to_hex(), WITHDRAWAL_ID_HEX);
    let event = Event {
        id,
        kind: EventKind::RecognitionWithdrawn(skill_ledger_domain::RecognitionWithdrawn {
            recognition,
            subject: skill_ledger_domain::SubjectId([0x22; 32]),
            effective: d("2024-09-01"),
            reason: skill_ledger_domain::WithdrawalReason::OriginRevoked {
                revocation_index: 300,
            },
        }),
    };
    assert_eq!(hex::encode(encode_event(&event)), WITHDRAWAL_EVENT_HEX);
}

const WITHDRAWAL_ID_HEX: &str = "24fb68088ce8b10463e1ba0a305cae2b";
const WITHDRAWAL_EVENT_HEX: &str = concat!(
    "24fb68088ce8b10463e1ba0a305cae2b",
    "14000000",
    "000102030405060708090a0b0c0d0e0f",
    "2222222222222222222222222222222222222222222222222222222222222222",
    "ff4d0000",
    "00000000",
    "2c01000000000000",
);

/// `BodyKeyRevoked` (tag 23), computed independently with Python's `struct`.
#[test]
fn body_key_revocation_event_bytes() {
    let event = Event {
        id: EventId(std::array::from_fn(|i| i as u8)),
        kind: EventKind::BodyKeyRevoked(skill_ledger_domain::BodyKeyRevoked {
            registration_number: "Y000050000001".parse().expect("registration number"),
            public_key: [0x33; 32],
            date: d("2024-03-01"),
            reason: "私钥被盗".to_string(),
        }),
    };
    assert_eq!(hex::encode(encode_event(&event)), KEY_REVOCATION_EVENT_HEX);
}

const KEY_REVOCATION_EVENT_HEX: &str = concat!(
    "000102030405060708090a0b0c0d0e0f",
    "17000000",
    "59303030303530303030303031",
    "3333333333333333333333333333333333333333333333333333333333333333",
    "474d0000",
    "0c00000000000000",
    "e7a781e992a5e8a2abe79b97",
);

/// `VcIssuerKeySet` (tag 26), computed independently with Python's `struct`.
#[test]
fn vc_issuer_key_event_bytes() {
    let event = Event {
        id: EventId(std::array::from_fn(|i| i as u8)),
        kind: EventKind::VcIssuerKeySet(skill_ledger_domain::VcIssuerKeySet {
            controller: "https://zscx.example.cn/v1/vc/issuer".to_string(),
            public_key: [0x44; 32],
            date: d("2024-03-01"),
        }),
    };
    assert_eq!(hex::encode(encode_event(&event)), VC_ISSUER_KEY_EVENT_HEX);
}

const VC_ISSUER_KEY_EVENT_HEX: &str = concat!(
    "000102030405060708090a0b0c0d0e0f",
    "1a000000",
    "2400000000000000",
    "68747470733a2f2f7a7363782e6578616d706c652e636e2f76312f76632f697373756572",
    "4444444444444444444444444444444444444444444444444444444444444444",
    "474d0000",
);

/// `SpecialAbilityCertified` (tag 27, a 专项职业能力证书 of the Z series), computed
/// independently with Python's `struct` (docs/formats.md part 3, section 6.9).
#[test]
fn special_ability_event_bytes() {
    let event = Event {
        id: EventId(std::array::from_fn(|i| i as u8)),
        kind: EventKind::SpecialAbilityCertified(skill_ledger_domain::SpecialAbilityCertified {
            certificate_number: "S00005000012324Z000017".parse().expect("number"),
            subject: skill_ledger_domain::SubjectId([0x22; 32]),
            name_commitment: skill_ledger_domain::NameCommitment([0x33; 32]),
            occupation: "4-03-02-01".parse().expect("occupation"),
            ability: "4-03-02-01-Z01".to_string(),
            issued: d("2024-05-01"),
        }),
    };
    assert_eq!(
        hex::encode(encode_event(&event)),
        concat!(
            "000102030405060708090a0b0c0d0e0f",
            "1b000000",
            "5330303030353030303031323332345a303030303137",
            "2222222222222222222222222222222222222222222222222222222222222222",
            "3333333333333333333333333333333333333333333333333333333333333333",
            "04030201",
            "0e00000000000000",
            "342d30332d30322d30312d5a3031",
            "844d0000",
        )
    );
}

/// A foreign comparison's route and the id its document fixes, computed independently with
/// Python's `hashlib` and `struct` (docs/formats.md part 3, section 6.10).
#[test]
fn foreign_comparison_route_bytes_and_document_id() {
    let id = EventId::foreign_document("DE-IHK-Industriemechaniker", "IHK-2021-0042317");
    assert_eq!(id.to_hex(), "f782af6a24eb603dadabae03a193bf86");
    let route = skill_ledger_domain::Route::ForeignComparison(
        skill_ledger_domain::ForeignComparisonBasis {
            catalogue_version: 1,
            certificate_type: "DE-IHK-Industriemechaniker".to_string(),
            foreign_issuer: "IHK München und Oberbayern".to_string(),
            document_id: "IHK-2021-0042317".to_string(),
        },
    );
    let bytes =
        bincode::encode_to_vec(&route, skill_ledger_domain::BINCODE_CONFIG).expect("encodes");
    assert_eq!(
        hex::encode(bytes),
        concat!(
            "04000000",
            "01000000",
            "1a00000000000000",
            "44452d49484b2d496e647573747269656d656368616e696b6572",
            "1b00000000000000",
            "49484b204dc3bc6e6368656e20756e64204f62657262617965726e",
            "1000000000000000",
            "49484b2d323032312d30303432333137",
        )
    );
}
