//! Decoding and signature verification of a batch of partner entries on all cores.
//!
//! The mirror's catch-up is bound by Ed25519 verification, as the node's ingest is; this
//! does what the node's sequencer does (`verify_signatures` in crates/node/src/sequencer.rs):
//! the signing message is the domain prefix and the entry's own event bytes (no
//! re-encoding), public keys are decompressed once per signer and chunk, each chunk is
//! batch-verified on its own thread with the signatures grouped by signer
//! (`skill_ledger_domain::verify_each`), and a chunk whose batch fails is checked entry by
//! entry with `verify_strict`, so one bad signature is found and named. A node and its
//! partner's mirror therefore accept exactly the same signatures.

use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};
use skill_ledger_domain::{signing_message, SignedEvent};

/// Below this many entries a chunk is not worth a thread.
const CHUNK_ENTRIES_MIN: usize = 64;
/// Most verification threads.
const THREADS_MAX: usize = 8;

/// One entry decoded, with whether its signature verifies for the origin.
pub(crate) type Checked = Result<(SignedEvent, bool), String>;

/// Decodes each entry and verifies its signature for `origin`, on all cores. An entry that
/// does not decode gives the decoding error.
pub(crate) fn decode_and_verify(origin: &str, entries: &[Vec<u8>]) -> Vec<Checked> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, THREADS_MAX);
    let chunk = entries.len().div_ceil(threads).max(CHUNK_ENTRIES_MIN);
    if entries.len() <= chunk {
        return decode_and_verify_chunk(origin, entries);
    }
    std::thread::scope(|scope| {
        let mut chunks = entries.chunks(chunk);
        // The first chunk runs on this thread, the others on helpers.
        let first = chunks.next().unwrap_or_default();
        let helpers: Vec<_> = chunks
            .map(|part| scope.spawn(move || decode_and_verify_chunk(origin, part)))
            .collect();
        let mut results = decode_and_verify_chunk(origin, first);
        for helper in helpers {
            match helper.join() {
                Ok(part) => results.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

fn decode_and_verify_chunk(origin: &str, entries: &[Vec<u8>]) -> Vec<Checked> {
    let prefix = signing_message(origin, &[]);
    let mut keys: HashMap<[u8; 32], Option<VerifyingKey>> = HashMap::new();
    let mut decoded: Vec<Result<(SignedEvent, usize), String>> = Vec::with_capacity(entries.len());
    let mut buffer = Vec::new();
    let mut ends = Vec::with_capacity(entries.len());
    for entry in entries {
        let item = SignedEvent::from_entry_with_offset(entry).map_err(|error| error.to_string());
        if let Ok((_, offset)) = &item {
            buffer.extend_from_slice(&prefix);
            buffer.extend_from_slice(&entry[*offset..]);
        }
        ends.push(buffer.len());
        decoded.push(item);
    }
    // Messages, keys and signatures of the entries that decoded, in order.
    let mut messages: Vec<&[u8]> = Vec::with_capacity(entries.len());
    let mut verifying_keys: Vec<Option<VerifyingKey>> = Vec::with_capacity(entries.len());
    let mut signatures: Vec<Signature> = Vec::with_capacity(entries.len());
    for (position, item) in decoded.iter().enumerate() {
        if let Ok((signed, _)) = item {
            let start = if position == 0 { 0 } else { ends[position - 1] };
            messages.push(&buffer[start..ends[position]]);
            let key = *keys.entry(signed.public_key).or_insert_with(|| {
                VerifyingKey::from_bytes(&signed.public_key)
                    .ok()
                    .filter(|key| !key.is_weak())
            });
            verifying_keys.push(key);
            signatures.push(Signature::from_bytes(&signed.signature));
        }
    }
    let verified = skill_ledger_domain::verify_each(&messages, &verifying_keys, &signatures);
    let mut verified = verified.into_iter();
    decoded
        .into_iter()
        .map(|item| {
            item.map(|(signed, _)| {
                let ok = verified.next().unwrap_or(false);
                (signed, ok)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use skill_ledger_domain::{
        Audience, BodyRegistered, Date, Event, EventId, EventKind, Level, ScopeItem, Signer,
    };

    fn entry(origin: &str, n: u8, key: &SigningKey) -> Vec<u8> {
        let date: Date = "2020-01-01".parse().expect("date");
        let kind = EventKind::BodyRegistered(BodyRegistered {
            registration_number: "Y000051000001".parse().expect("number"),
            name: format!("机构 {n}"),
            public_key: [n; 32],
            valid_from: date,
            valid_until: date,
            audience: Audience::Public,
            scope: vec![ScopeItem {
                occupation: "6-18-01-01".parse().expect("occupation"),
                level_max: Level::Junior,
            }],
            direct_recognition: false,
            date,
        });
        let event = Event {
            id: EventId([n; 16]),
            kind,
        };
        SignedEvent::sign(origin, Signer::Authority, key, event)
            .to_entry()
            .expect("entry")
    }

    #[test]
    fn a_batch_on_several_threads_names_exactly_the_entries_that_fail() {
        let origin = "skill-ledger/51";
        let key = SigningKey::from_bytes(&[3; 32]);
        let mut entries: Vec<Vec<u8>> = (0..200).map(|n| entry(origin, n as u8, &key)).collect();
        // Entry 150: signed for another ledger; entry 7: not an entry at all.
        entries[150] = entry("skill-ledger/50", 150, &key);
        entries[7] = vec![0xff, 1, 2];
        let checked = decode_and_verify(origin, &entries);
        assert_eq!(checked.len(), 200);
        for (index, result) in checked.iter().enumerate() {
            match (index, result) {
                (7, Err(_)) => {}
                (150, Ok((_, false))) => {}
                (_, Ok((signed, true))) => {
                    assert!(
                        signed.verify_signature(origin),
                        "agrees with the one-by-one check"
                    );
                }
                (index, other) => panic!("entry {index}: {:?}", other.as_ref().map(|(_, ok)| ok)),
            }
        }
    }
}
