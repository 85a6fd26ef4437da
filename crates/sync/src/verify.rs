//! Decoding of a batch of partner entries, then their signatures through the one verifier.
//!
//! The mirror's catch-up is bound by Ed25519 verification, as the node's ingest is. Its
//! signatures are checked by [`skill_ledger_domain::verify_signed`], the function a node's
//! sequencer and its re-verifying rebuild call too: the signing message is the domain prefix
//! and the entry's own event bytes (no re-encoding), keys are decompressed once, and the batch
//! is verified on all cores, one by one only where a chunk's batch equation fails. A node and
//! its partner's mirror therefore accept exactly the same signatures.

use skill_ledger_domain::{verify_signed, KeyCache, SignedBytes, SignedEvent};

/// One entry decoded, with whether its signature verifies for the origin.
pub(crate) type Checked = Result<(SignedEvent, bool), String>;

/// Decodes each entry and verifies the signatures of those that decode for `origin`. An entry
/// that does not decode gives the decoding error.
pub(crate) fn decode_and_verify(origin: &str, entries: &[Vec<u8>]) -> Vec<Checked> {
    let decoded: Vec<Result<(SignedEvent, usize), String>> = entries
        .iter()
        .map(|entry| SignedEvent::from_entry_with_offset(entry).map_err(|error| error.to_string()))
        .collect();
    let items: Vec<SignedBytes<'_>> = decoded
        .iter()
        .zip(entries)
        .filter_map(|(item, entry)| {
            let (signed, offset) = item.as_ref().ok()?;
            Some(SignedBytes {
                event: &entry[*offset..],
                public_key: &signed.public_key,
                signature: &signed.signature,
            })
        })
        .collect();
    let verified = verify_signed(origin, &items, &mut KeyCache::default());
    let mut verified = verified.into_iter();
    decoded
        .into_iter()
        .map(|item| item.map(|(signed, _)| (signed, verified.next().unwrap_or(false))))
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
