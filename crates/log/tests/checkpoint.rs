//! Signed checkpoints: known answers from the signed-note spec, refusals,
//! persistence.

use ed25519_dalek::SigningKey;
use skill_ledger_log::{
    leaf_hash, parse_and_verify_checkpoint, parse_signer_key_text, sign_note, signer_key_text,
    verifier_key_text, CheckpointSigner, Hash, LogErrorKind, MerkleTree,
};

/// The example key and note from c2sp.org/signed-note (and Go's note package).
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n\
                          \n\
                          — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

const ORIGIN: &str = "skills.example.org/ledger";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn tree_with(dir: &std::path::Path, leaves: &[&[u8]]) -> MerkleTree {
    let mut tree = MerkleTree::open(dir).unwrap();
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    tree.append(&hashes).unwrap();
    tree
}

#[test]
fn signed_note_spec_example_known_answer() {
    let (name, key) = parse_signer_key_text(PETER_SKEY).unwrap();
    assert_eq!(name, "PeterNeumann");
    assert_eq!(signer_key_text(&name, &key), PETER_SKEY);
    assert_eq!(verifier_key_text(&name, &key), PETER_VKEY);
    assert_eq!(sign_note(PETER_TEXT, &name, &key).unwrap(), PETER_NOTE);
    // A wrong key id is refused.
    let bad = PETER_SKEY.replace("c74f20a3", "c74f20a4");
    assert_eq!(
        parse_signer_key_text(&bad).unwrap_err().kind(),
        &LogErrorKind::Malformed
    );
}

#[test]
fn checkpoint_round_trip_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let tree = tree_with(&dir.path().join("tree"), &[b"a", b"b", b"c"]);
    let mut signer = CheckpointSigner::open(&dir.path().join("cp"), ORIGIN, key(1)).unwrap();
    assert!(signer.latest().is_none());
    let signed = signer.sign(&tree.reader(), 3, 1_700_000_000).unwrap();
    let vkey = signer.verifier_key_text();
    let body = format!(
        "{ORIGIN}\n3\n{}\ntime 1700000000\n",
        base64_of(&tree.reader().root(3).unwrap())
    );
    assert!(signed
        .note_text
        .starts_with(&format!("{body}\n— {ORIGIN} ")));
    let checkpoint = parse_and_verify_checkpoint(&signed.note_text, &vkey).unwrap();
    assert_eq!(checkpoint, signed.checkpoint);
    assert_eq!(checkpoint.size, 3);
    assert_eq!(checkpoint.time_unix_s, 1_700_000_000);

    // Signed by another key (same name): refused.
    let other = CheckpointSigner::open(&dir.path().join("cp2"), ORIGIN, key(2)).unwrap();
    assert_eq!(
        parse_and_verify_checkpoint(&signed.note_text, &other.verifier_key_text())
            .unwrap_err()
            .kind(),
        &LogErrorKind::BadSignature
    );
    // Tampered body: refused.
    let tampered = signed.note_text.replacen("\n3\n", "\n4\n", 1);
    assert_eq!(
        parse_and_verify_checkpoint(&tampered, &vkey)
            .unwrap_err()
            .kind(),
        &LogErrorKind::BadSignature
    );
    // Garbage: malformed.
    assert_eq!(
        parse_and_verify_checkpoint("hello", &vkey)
            .unwrap_err()
            .kind(),
        &LogErrorKind::Malformed
    );
}

fn base64_of(h: &Hash) -> String {
    use base64::prelude::{Engine, BASE64_STANDARD};
    BASE64_STANDARD.encode(h)
}

#[test]
fn sign_refuses_inconsistent_trees_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let cp_dir = dir.path().join("cp");
    let tree = tree_with(&dir.path().join("tree"), &[b"a", b"b", b"c", b"d"]);
    let forked = tree_with(&dir.path().join("fork"), &[b"a", b"b", b"X", b"d", b"e"]);
    let mut signer = CheckpointSigner::open(&cp_dir, ORIGIN, key(1)).unwrap();
    signer.sign(&tree.reader(), 0, 10).unwrap();
    signer.sign(&tree.reader(), 2, 11).unwrap();
    signer.sign(&tree.reader(), 3, 12).unwrap();
    let latest = signer.latest().unwrap().clone();

    // Same size, different tree.
    let err = signer.sign(&forked.reader(), 3, 13).unwrap_err();
    assert_eq!(err.kind(), &LogErrorKind::Inconsistent);
    // Larger but not an extension.
    let err = signer.sign(&forked.reader(), 5, 13).unwrap_err();
    assert_eq!(err.kind(), &LogErrorKind::Inconsistent);
    // Smaller, or earlier in time.
    assert_eq!(
        signer.sign(&tree.reader(), 2, 13).unwrap_err().kind(),
        &LogErrorKind::Inconsistent
    );
    assert_eq!(
        signer.sign(&tree.reader(), 4, 11).unwrap_err().kind(),
        &LogErrorKind::Inconsistent
    );
    assert_eq!(signer.latest().unwrap(), &latest);

    // Across a restart the refusal still holds.
    drop(signer);
    let mut signer = CheckpointSigner::open(&cp_dir, ORIGIN, key(1)).unwrap();
    assert_eq!(signer.latest().unwrap(), &latest);
    assert_eq!(
        signer.sign(&forked.reader(), 5, 20).unwrap_err().kind(),
        &LogErrorKind::Inconsistent
    );
    let next = signer.sign(&tree.reader(), 4, 20).unwrap();
    assert_eq!(next.checkpoint.size, 4);
    drop(signer);

    // Opening with another key refuses: it cannot vouch for the history.
    assert_eq!(
        CheckpointSigner::open(&cp_dir, ORIGIN, key(2))
            .unwrap_err()
            .kind(),
        &LogErrorKind::BadSignature
    );
    // A damaged checkpoint file refuses.
    let path = cp_dir.join("checkpoint");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("time 20", "time 21", 1)).unwrap();
    assert_eq!(
        CheckpointSigner::open(&cp_dir, ORIGIN, key(1))
            .unwrap_err()
            .kind(),
        &LogErrorKind::BadSignature
    );
}

#[test]
fn deferred_signing_refuses_the_same_forks_and_persists_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let cp_dir = dir.path().join("cp");
    let tree = tree_with(&dir.path().join("tree"), &[b"a", b"b", b"c", b"d"]);
    let forked = tree_with(&dir.path().join("fork"), &[b"a", b"b", b"X", b"d", b"e"]);
    let mut signer = CheckpointSigner::open(&cp_dir, ORIGIN, key(1)).unwrap();
    let persisted = signer.sign(&tree.reader(), 2, 10).unwrap();
    assert!(!signer.is_unpersisted());
    let deferred = signer.sign_deferred(&tree.reader(), 3, 11).unwrap();
    assert!(signer.is_unpersisted());
    assert_eq!(signer.persisted_size(), Some(2));
    assert_eq!(signer.latest().unwrap(), &deferred);
    // The unpersisted checkpoint is what the next signature is checked against.
    assert_eq!(
        signer
            .sign_deferred(&forked.reader(), 3, 12)
            .unwrap_err()
            .kind(),
        &LogErrorKind::Inconsistent
    );
    let text = || std::fs::read_to_string(cp_dir.join("checkpoint")).unwrap();
    assert_eq!(text(), persisted.note_text, "not persisted yet");

    // A crash before `persist`: the restart knows only the older checkpoint, and a tree
    // that extends it (as the log of record does) is signed consistently with both.
    drop(signer);
    let mut signer = CheckpointSigner::open(&cp_dir, ORIGIN, key(1)).unwrap();
    assert_eq!(signer.latest().unwrap(), &persisted);
    let again = signer.sign_deferred(&tree.reader(), 3, 12).unwrap();
    assert_eq!(again.checkpoint.root, deferred.checkpoint.root);
    signer.persist().unwrap();
    assert!(!signer.is_unpersisted());
    assert_eq!(text(), again.note_text);
    assert_eq!(
        signer.sign(&forked.reader(), 5, 13).unwrap_err().kind(),
        &LogErrorKind::Inconsistent
    );
}

/// Found by the `checkpoint` fuzz target: a key id spelt with capitals (or a leading `+`,
/// which `from_str_radix` also takes) named the same key as its canonical form. Each key
/// text now has one spelling.
#[test]
fn key_texts_with_a_non_canonical_key_id_are_refused() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let canonical = skill_ledger_log::signer_key_text("skill-ledger/50", &key);
    assert!(skill_ledger_log::parse_signer_key_text(&canonical).is_ok());
    let parts: Vec<&str> = canonical.splitn(5, '+').collect();
    let id = parts[3];
    assert!(id.bytes().any(|b| b.is_ascii_lowercase()), "{canonical}");
    for spelling in [id.to_ascii_uppercase(), format!("+{}", &id[1..])] {
        let text = format!("PRIVATE+KEY+{}+{spelling}+{}", parts[2], parts[4]);
        let error = skill_ledger_log::parse_signer_key_text(&text).expect_err(&text);
        assert!(error.to_string().contains("lowercase hex"), "{error}");
    }
    let vkey = skill_ledger_log::verifier_key_text("skill-ledger/50", &key);
    let (name, rest) = vkey.split_once('+').expect("name+id+key");
    let (vid, data) = rest.split_once('+').expect("id+key");
    assert!(skill_ledger_log::parse_verifier_key_text(&vkey).is_ok());
    let upper = format!("{name}+{}+{data}", vid.to_ascii_uppercase());
    assert!(
        skill_ledger_log::parse_verifier_key_text(&upper).is_err(),
        "{upper}"
    );
}
