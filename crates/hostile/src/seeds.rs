//! The seed corpus: for each target, a few valid inputs built from the fixtures, so the
//! fuzzer starts from inputs that reach deep (a signed checkpoint, a verifying bundle, an
//! accepted event) and mutates from there. They are written to `fuzz/corpus/<target>/` as
//! `seed-<name>`; the replay test checks the files are current (see `tests/corpus.rs`).

use base64::Engine as _;
use skill_ledger_domain::{encode_event, DEFAULT_POLICY_TOML, SAMPLE_CATALOGUE_TOML};
use skill_ledger_log::{entry_bundle, signer_key_text};
use skill_ledger_sync::AddCheckpointRequest;

use crate::fixture;

/// One seed: the target, a file-name stem and the bytes.
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

fn seed(target: &'static str, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: name.into(),
        bytes: bytes.into(),
    }
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let ledger = fixture::ledger_entries();
    let next = fixture::next_events();

    // entry: every entry of the fixture log, and the ones it would accept next.
    for (k, signed) in ledger.iter().chain(&next).enumerate() {
        let name = format!("{k:02}-{}", signed.event.kind.name());
        seeds.push(seed("entry", name, signed.to_entry().expect("entry")));
    }

    // event: the selector byte picks the signer the event needs (0 authority, 1 Y body).
    for (k, signed) in next.iter().enumerate() {
        let selector = match signed.signer {
            // The fixture's ledger has no recovery key: its events are the authority's or Y's.
            skill_ledger_domain::Signer::Authority | skill_ledger_domain::Signer::Recovery => 0u8,
            skill_ledger_domain::Signer::Body(_) => 1,
        };
        let mut bytes = vec![selector];
        bytes.extend(encode_event(&signed.event));
        seeds.push(seed(
            "event",
            format!("{k:02}-{}", signed.event.kind.name()),
            bytes,
        ));
    }

    // checkpoint: notes, a body, a cosigned note, witness requests, key texts.
    let tree = fixture::signed_tree();
    seeds.push(seed("checkpoint", "note", tree.note.clone()));
    seeds.push(seed("checkpoint", "note-small", tree.small_note.clone()));
    seeds.push(seed("checkpoint", "body", tree.checkpoint.body()));
    let cosigned = format!(
        "{}{}",
        tree.note,
        fixture::cosigner()
            .cosign(&tree.checkpoint.body(), fixture::CHECKPOINT_TIME_UNIX_S + 5)
            .expect("cosign")
    );
    seeds.push(seed("checkpoint", "note-cosigned", cosigned));
    let from_empty = AddCheckpointRequest {
        old_size: 0,
        proof: Vec::new(),
        checkpoint_note: tree.note.clone(),
    };
    seeds.push(seed(
        "checkpoint",
        "add-checkpoint-from-0",
        from_empty.to_bytes(),
    ));
    let proof = tree
        .tree
        .reader()
        .consistency_proof(tree.small_checkpoint.size, tree.checkpoint.size)
        .expect("consistency proof");
    let extending = AddCheckpointRequest {
        old_size: tree.small_checkpoint.size,
        proof,
        checkpoint_note: tree.note.clone(),
    };
    seeds.push(seed(
        "checkpoint",
        "add-checkpoint-from-3",
        extending.to_bytes(),
    ));
    seeds.push(seed("checkpoint", "vkey", fixture::verifier_key()));
    seeds.push(seed(
        "checkpoint",
        "skey",
        signer_key_text(fixture::ORIGIN, &fixture::authority_key()),
    ));
    seeds.push(seed(
        "checkpoint",
        "cosigner-vkey",
        fixture::cosigner().verifier_key_text(),
    ));

    // tile: paths, and entry bundles behind a count byte.
    for path in [
        "tile/0/000.p/6",
        "tile/entries/000.p/6",
        "tile/0/x001/234.p/17",
        "tile/1/000",
        "tile/entries/x999/x999/x999/x999/x999/x999/615",
    ] {
        seeds.push(seed("tile", path.replace('/', "_"), path));
    }
    let entries: Vec<&[u8]> = tree.entries.iter().map(Vec::as_slice).collect();
    let mut bundle = vec![entries.len() as u8];
    bundle.extend(entry_bundle(&entries));
    seeds.push(seed("tile", "entry-bundle-6", bundle));

    // mirror: an unaltered pull (fetch 255 is never made), and one alteration of each of
    // the first fetches (checkpoint, tile, entry bundle) at an offset inside it.
    seeds.push(seed("mirror", "honest", vec![255, 0, 0]));
    for (fetch, offset, name) in [
        (0u8, 20u8, "checkpoint"),
        (1, 40, "tile"),
        (2, 100, "bundle"),
    ] {
        seeds.push(seed(
            "mirror",
            format!("altered-{name}"),
            vec![fetch, 0, offset, 0x5a],
        ));
    }
    seeds.push(seed("mirror", "truncated-bundle", vec![2, 0x80, 200]));

    // bundle: the fixture's credential bundle and the golden bundle of docs/formats.md.
    seeds.push(seed("bundle", "credential", fixture::credential_bundle()));
    seeds.push(seed("bundle", "golden", fixture::GOLDEN_BUNDLE));

    // certificate_number: identifiers of every kind.
    for (name, text) in [
        ("certificate", "Y000050000001241000001"),
        ("certificate-sichuan", "S000051000123243000017"),
        ("certificate-qualification", "S00005000012324Q300017"),
        ("certificate-special-ability", "S00005000012324Z000017"),
        ("registration", "Y000050000001"),
        ("date", "2024-02-29"),
        ("occupation", "6-18-02-04"),
        ("level", "senior"),
        ("level-zh", "高级工"),
    ] {
        seeds.push(seed("certificate_number", name, text));
    }

    // policy: the default policy and the sample catalogue.
    seeds.push(seed("policy", "default", DEFAULT_POLICY_TOML));
    seeds.push(seed("policy", "catalogue", SAMPLE_CATALOGUE_TOML));

    // api_json: route byte, content-type byte, body.
    let submit = |signed: &skill_ledger_domain::SignedEvent| {
        let entry =
            base64::engine::general_purpose::STANDARD.encode(signed.to_entry().expect("entry"));
        format!("{{\"entry\":\"{entry}\"}}")
    };
    let mut api = |name: &str, route: u8, content_type: u8, body: &str| {
        let mut bytes = vec![route, content_type];
        bytes.extend_from_slice(body.as_bytes());
        seeds.push(seed("api_json", name, bytes));
    };
    let credential = fixture::junior_welder(3, "王五", "2024-07-02");
    let certified = fixture::signed_by_y(30, credential.clone());
    api("submit-credential", 0, 0, &submit(&certified));
    api("submit-authority-event", 0, 0, &submit(&next[2]));
    api(
        "verify",
        1,
        0,
        &format!(
            "{{\"certificate_number\":\"{}\",\"name\":\"王五\",\"id_number\":\"50010119900100003\",\"id_type\":\"resident_id\"}}",
            credential.certificate_number
        ),
    );
    api(
        "add-checkpoint",
        2,
        2,
        std::str::from_utf8(&extending.to_bytes()).expect("text"),
    );
    api("credential", 3, 0, credential.certificate_number.as_str());
    api("body", 4, 0, fixture::Y_BODY);
    api("tile", 5, 0, "0/000.p/3");
    api("entries", 5, 0, "entries/000.p/3");
    seeds
}
