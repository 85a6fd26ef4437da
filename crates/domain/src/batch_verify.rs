//! Ed25519 batch verification with the signatures grouped by signer.
//!
//! A ledger's events are signed by few keys (its authority and its evaluation bodies), so a
//! batch of thousands of signatures names a handful of public keys many times over. The
//! standard batch equation (the one `ed25519_dalek::verify_batch` checks),
//!
//! ```text
//!     −(Σ zᵢ·sᵢ)·B + Σ zᵢ·Rᵢ + Σ (zᵢ·hᵢ)·Aᵢ = 0
//! ```
//!
//! is one multiscalar multiplication over 2n + 1 points for n signatures. Terms that share a
//! key add up: Σᵢ (zᵢ·hᵢ)·Aᵢ = Σₖ (Σ_{i: Aᵢ = Aₖ} zᵢ·hᵢ)·Aₖ. [`verify_batch_grouped`] checks
//! the same equation with those terms summed per distinct key, over n + k + 1 points for k
//! distinct keys, which is close to half the points when k is small.
//!
//! It is the same equation, not a weaker one: the weights zᵢ are derived exactly as
//! `ed25519-dalek` 2.2 derives them (a merlin transcript of every hᵢ and sᵢ), the scalars are
//! checked for canonical encoding in the same way, and an `R` that does not decompress fails
//! the batch as it does there. For every input the answer is `ed25519_dalek::verify_batch`'s
//! (a property test in this module holds the two side by side, with forged, altered and
//! malformed signatures among good ones).
//!
//! [`verify_each`] gives one answer per signature: the grouped batch first and, only when it
//! fails, `verify_strict` one by one so the culprits are named. Keys must be checked for
//! weakness by the caller (a weak key is passed as `None` and never verifies).

use std::collections::HashMap;
use std::iter::once;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// Checks every signature of the batch against its message and key in one grouped batch
/// equation. `true` only when all of them verify (and the three slices have one length).
pub fn verify_batch_grouped(
    messages: &[&[u8]],
    signatures: &[Signature],
    keys: &[VerifyingKey],
) -> bool {
    let n = signatures.len();
    if messages.len() != n || keys.len() != n {
        return false;
    }
    // hᵢ = SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ), and the transcript the weights are drawn from, exactly as
    // ed25519-dalek's batch verification builds them.
    let mut transcript = merlin::Transcript::new(b"ed25519 batch verification");
    let mut hrams: Vec<[u8; 64]> = Vec::with_capacity(n);
    for ((message, signature), key) in messages.iter().zip(signatures).zip(keys) {
        let mut hasher = Sha512::new();
        hasher.update(signature.r_bytes());
        hasher.update(key.as_bytes());
        hasher.update(message);
        hrams.push(hasher.finalize().into());
    }
    for hram in &hrams {
        transcript.append_message(b"hram", hram);
    }
    for signature in signatures {
        transcript.append_message(b"sig.s", signature.s_bytes());
    }
    let mut rng = transcript.build_rng().finalize(&mut ZeroRng);

    let mut s_values = Vec::with_capacity(n);
    for signature in signatures {
        match Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes())) {
            Some(s) => s_values.push(s),
            None => return false,
        }
    }
    let weights: Vec<Scalar> = (0..n)
        .map(|_| {
            let mut bytes = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rng, &mut bytes);
            Scalar::from(u128::from_le_bytes(bytes))
        })
        .collect();

    let mut basepoint_coefficient = Scalar::ZERO;
    for (s, z) in s_values.iter().zip(&weights) {
        basepoint_coefficient += z * s;
    }
    // Σ zᵢ·hᵢ per distinct key, in the order the keys first appear.
    let mut slot_of_key: HashMap<[u8; 32], usize> = HashMap::new();
    let mut distinct_keys: Vec<EdwardsPoint> = Vec::new();
    let mut key_coefficients: Vec<Scalar> = Vec::new();
    for ((hram, z), key) in hrams.iter().zip(&weights).zip(keys) {
        let coefficient = Scalar::from_bytes_mod_order_wide(hram) * z;
        let slot = *slot_of_key.entry(*key.as_bytes()).or_insert_with(|| {
            distinct_keys.push(key.to_edwards());
            key_coefficients.push(Scalar::ZERO);
            distinct_keys.len() - 1
        });
        key_coefficients[slot] += coefficient;
    }

    let r_points = signatures
        .iter()
        .map(|signature| CompressedEdwardsY(*signature.r_bytes()).decompress());
    let sum = EdwardsPoint::optional_multiscalar_mul(
        once(-basepoint_coefficient)
            .chain(weights.iter().copied())
            .chain(key_coefficients.iter().copied()),
        once(Some(ED25519_BASEPOINT_POINT))
            .chain(r_points)
            .chain(distinct_keys.iter().map(|point| Some(*point))),
    );
    sum.is_some_and(|point| point.is_identity())
}

/// Whether each signature verifies: one grouped batch and, when it fails, each signature on
/// its own with `verify_strict`. A `None` key (undecodable or weak) never verifies.
pub fn verify_each(
    messages: &[&[u8]],
    keys: &[Option<VerifyingKey>],
    signatures: &[Signature],
) -> Vec<bool> {
    let n = messages.len();
    if keys.len() != n || signatures.len() != n {
        return vec![false; n];
    }
    if keys.iter().all(Option::is_some) {
        let key_values: Vec<VerifyingKey> = keys.iter().flatten().copied().collect();
        if verify_batch_grouped(messages, signatures, &key_values) {
            return vec![true; n];
        }
    }
    (0..n)
        .map(|position| {
            keys[position].is_some_and(|key| {
                key.verify_strict(messages[position], &signatures[position])
                    .is_ok()
            })
        })
        .collect()
}

/// One signed event as a log stores it: the event's own bytes (signed as they are, never
/// re-encoded), the signer's key and the signature.
pub struct SignedBytes<'a> {
    pub event: &'a [u8],
    pub public_key: &'a [u8; 32],
    pub signature: &'a [u8; 64],
}

/// Decompressed public keys by their bytes. Decompression costs about as much as a
/// verification, and a ledger has few signers (its bodies and its authority), so each key is
/// decompressed (and checked for weakness) once. Bounded: cleared when it grows too large.
#[derive(Default)]
pub struct KeyCache {
    keys: HashMap<[u8; 32], Option<VerifyingKey>, foldhash::fast::RandomState>,
}

/// Most keys a [`KeyCache`] holds before it starts again.
const KEY_CACHE_ENTRIES_MAX: usize = 100_000;

impl KeyCache {
    /// The key `bytes` decompressed, or `None` when it does not decode or is weak (a weak key
    /// never verifies).
    pub fn get(&mut self, bytes: &[u8; 32]) -> Option<VerifyingKey> {
        if let Some(key) = self.keys.get(bytes) {
            return *key;
        }
        if self.keys.len() >= KEY_CACHE_ENTRIES_MAX {
            self.keys.clear();
        }
        let key = VerifyingKey::from_bytes(bytes)
            .ok()
            .filter(|key| !key.is_weak());
        self.keys.insert(*bytes, key);
        key
    }
}

/// Fewest signatures a verification thread takes. A multiscalar multiplication costs less per
/// point the more points it has (Pippenger's buckets are shared), so a batch of 512 is
/// verified whole on one thread, while the other core does other work, rather than as two
/// halves: about 14 % less work per signature, and no thread started.
const VERIFY_CHUNK_ENTRIES_MIN: usize = 512;

/// Most verification threads.
const VERIFY_THREADS_MAX: usize = 8;

/// Whether each signed event of `batch` verifies for the ledger `origin`: the one signature
/// check of every path that takes entries in (a node's sequencer, its re-verifying rebuild, a
/// partner's mirror), so they all accept exactly the same signatures.
///
/// The signing message is [`crate::signing_message`]'s domain prefix followed by the event's
/// own bytes. The batch is cut into chunks of at least `VERIFY_CHUNK_ENTRIES_MIN` entries,
/// one per core; each chunk is checked by [`verify_each`] (one grouped batch equation, and
/// one by one only when it fails, to name the culprits) on a thread of its own, the first on
/// the caller's. A key that does not decode or is weak never verifies.
pub fn verify_signed(origin: &str, batch: &[SignedBytes<'_>], keys: &mut KeyCache) -> Vec<bool> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    verify_signed_on(origin, batch, keys, threads)
}

/// [`verify_signed`] on at most `threads` threads (at least one, the caller's, and at most
/// `VERIFY_THREADS_MAX`): a caller that already runs one verifier per core (the re-verifying
/// replay's readers) asks for one, so each batch is verified whole, as one equation, on the
/// thread that read it. The answers are the same for any number of threads.
pub fn verify_signed_on(
    origin: &str,
    batch: &[SignedBytes<'_>],
    keys: &mut KeyCache,
    threads: usize,
) -> Vec<bool> {
    // Every signing message in one buffer: no allocation per event.
    let prefix = crate::signing_message(origin, &[]);
    let event_bytes: usize = batch.iter().map(|item| item.event.len()).sum();
    let mut buffer = Vec::with_capacity(batch.len() * prefix.len() + event_bytes);
    let mut ends = Vec::with_capacity(batch.len());
    for item in batch {
        buffer.extend_from_slice(&prefix);
        buffer.extend_from_slice(item.event);
        ends.push(buffer.len());
    }
    let messages: Vec<&[u8]> = ends
        .iter()
        .enumerate()
        .map(|(position, end)| {
            let start = if position == 0 { 0 } else { ends[position - 1] };
            &buffer[start..*end]
        })
        .collect();
    let verifying_keys: Vec<Option<VerifyingKey>> =
        batch.iter().map(|item| keys.get(item.public_key)).collect();
    let signatures: Vec<Signature> = batch
        .iter()
        .map(|item| Signature::from_bytes(item.signature))
        .collect();
    let mut results = vec![false; batch.len()];
    let threads = threads.clamp(1, VERIFY_THREADS_MAX);
    let chunk = batch.len().div_ceil(threads).max(VERIFY_CHUNK_ENTRIES_MIN);
    std::thread::scope(|scope| {
        let mut chunks = results.chunks_mut(chunk).enumerate();
        // The first chunk runs on this thread, the others on helpers.
        let first = chunks.next();
        for (chunk_index, out) in chunks {
            let start = chunk_index * chunk;
            let range = start..start + out.len();
            let (messages, keys, signatures) = (
                &messages[range.clone()],
                &verifying_keys[range.clone()],
                &signatures[range],
            );
            scope.spawn(move || out.copy_from_slice(&verify_each(messages, keys, signatures)));
        }
        if let Some((_, out)) = first {
            let len = out.len();
            out.copy_from_slice(&verify_each(
                &messages[..len],
                &verifying_keys[..len],
                &signatures[..len],
            ));
        }
    });
    results
}

/// The transcript's own randomness is all the weights draw on, as in ed25519-dalek: they are
/// a deterministic function of every signature in the batch.
struct ZeroRng;

impl rand_core::RngCore for ZeroRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, _dest: &mut [u8]) {}
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for ZeroRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    /// A batch of `n` signatures by `signers` keys in turn over distinct messages.
    fn batch(n: usize, signers: u8) -> (Vec<Vec<u8>>, Vec<Signature>, Vec<VerifyingKey>) {
        let keys: Vec<SigningKey> = (0..signers).map(|s| signing_key(s + 1)).collect();
        let messages: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("event {i} of the batch").into_bytes())
            .collect();
        let signatures = messages
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % keys.len()].sign(m))
            .collect();
        let verifying = (0..n)
            .map(|i| keys[i % keys.len()].verifying_key())
            .collect();
        (messages, signatures, verifying)
    }

    fn refs(messages: &[Vec<u8>]) -> Vec<&[u8]> {
        messages.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn a_batch_of_good_signatures_by_few_signers_verifies() {
        let (messages, signatures, keys) = batch(300, 4);
        assert!(verify_batch_grouped(&refs(&messages), &signatures, &keys));
        assert!(ed25519_dalek::verify_batch(&refs(&messages), &signatures, &keys).is_ok());
    }

    #[test]
    fn one_signature_over_another_message_fails_the_batch_and_is_named() {
        let (mut messages, signatures, keys) = batch(64, 3);
        messages[17].push(b'!');
        assert!(!verify_batch_grouped(&refs(&messages), &signatures, &keys));
        let options: Vec<Option<VerifyingKey>> = keys.iter().copied().map(Some).collect();
        let each = verify_each(&refs(&messages), &options, &signatures);
        let failed: Vec<usize> = (0..each.len()).filter(|i| !each[*i]).collect();
        assert_eq!(failed, vec![17]);
    }

    #[test]
    fn a_signature_under_the_wrong_one_of_two_signers_fails() {
        // Swapping the keys of two signatures by different signers keeps every key in the
        // batch, so only the per-key sums notice.
        let (messages, signatures, mut keys) = batch(32, 2);
        keys.swap(0, 1);
        assert!(!verify_batch_grouped(&refs(&messages), &signatures, &keys));
    }

    /// Given 1,500 signed events with two spoiled in different chunks, when verified on one
    /// thread and on four, then both answers name exactly the two.
    #[test]
    fn the_answers_do_not_depend_on_the_number_of_threads() {
        let origin = "ledger.example/test";
        let keys: Vec<SigningKey> = (0..3).map(signing_key).collect();
        let events: Vec<Vec<u8>> = (0..1500)
            .map(|i| format!("event {i}").into_bytes())
            .collect();
        let mut signatures: Vec<[u8; 64]> = events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                keys[i % 3]
                    .sign(&crate::signing_message(origin, event))
                    .to_bytes()
            })
            .collect();
        signatures[7][3] ^= 1;
        signatures[1201][40] ^= 1;
        let public: Vec<[u8; 32]> = (0..1500)
            .map(|i| keys[i % 3].verifying_key().to_bytes())
            .collect();
        let items: Vec<SignedBytes<'_>> = (0..1500)
            .map(|i| SignedBytes {
                event: &events[i],
                public_key: &public[i],
                signature: &signatures[i],
            })
            .collect();
        for threads in [1, 4] {
            let answers = verify_signed_on(origin, &items, &mut KeyCache::default(), threads);
            let failed: Vec<usize> = (0..1500).filter(|i| !answers[*i]).collect();
            assert_eq!(failed, vec![7, 1201], "on {threads} threads");
        }
    }

    #[test]
    fn a_non_canonical_s_or_an_undecodable_r_fails_the_batch() {
        let (messages, signatures, keys) = batch(8, 2);
        let mut bytes = signatures[3].to_bytes();
        bytes[63] |= 0xf0; // s ≥ ℓ
        let mut altered = signatures.clone();
        altered[3] = Signature::from_bytes(&bytes);
        assert!(!verify_batch_grouped(&refs(&messages), &altered, &keys));

        let mut bytes = signatures[5].to_bytes();
        // y = 2 is not the y-coordinate of any point on the curve.
        bytes[..32].copy_from_slice(&{
            let mut y = [0u8; 32];
            y[0] = 2;
            y
        });
        let mut altered = signatures.clone();
        altered[5] = Signature::from_bytes(&bytes);
        assert!(CompressedEdwardsY(*altered[5].r_bytes())
            .decompress()
            .is_none());
        assert!(!verify_batch_grouped(&refs(&messages), &altered, &keys));
    }

    #[test]
    fn mismatched_lengths_and_missing_keys_never_verify() {
        let (messages, signatures, keys) = batch(4, 1);
        assert!(!verify_batch_grouped(
            &refs(&messages),
            &signatures[..3],
            &keys
        ));
        let mut options: Vec<Option<VerifyingKey>> = keys.iter().copied().map(Some).collect();
        options[2] = None;
        assert_eq!(
            verify_each(&refs(&messages), &options, &signatures),
            vec![true, true, false, true]
        );
        assert!(verify_batch_grouped(&[], &[], &[]));
    }

    /// One way to spoil a signature of a batch.
    #[derive(Clone, Debug)]
    enum Spoil {
        Message,
        FlipBit(usize),
        OtherSigner,
        Swap,
    }

    fn spoil() -> impl Strategy<Value = Spoil> {
        prop_oneof![
            Just(Spoil::Message),
            (0usize..512).prop_map(Spoil::FlipBit),
            Just(Spoil::OtherSigner),
            Just(Spoil::Swap),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever is spoiled, the grouped equation answers as ed25519-dalek's batch
        /// verification does, and `verify_each` as `verify_strict` one by one does.
        #[test]
        fn grouped_verification_answers_as_the_standard_batch(
            n in 1usize..48,
            signers in 1u8..6,
            spoiled in proptest::collection::vec((0usize..48, spoil()), 0..3),
        ) {
            let (mut messages, mut signatures, mut keys) = batch(n, signers);
            for (position, how) in spoiled {
                let i = position % n;
                match how {
                    Spoil::Message => messages[i].push(b'x'),
                    Spoil::FlipBit(bit) => {
                        let mut bytes = signatures[i].to_bytes();
                        bytes[bit / 8] ^= 1 << (bit % 8);
                        signatures[i] = Signature::from_bytes(&bytes);
                    }
                    Spoil::OtherSigner => keys[i] = signing_key(200).verifying_key(),
                    Spoil::Swap => {
                        let j = (i + 1) % n;
                        keys.swap(i, j);
                    }
                }
            }
            let messages = refs(&messages);
            let standard = ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
            prop_assert_eq!(verify_batch_grouped(&messages, &signatures, &keys), standard);
            let options: Vec<Option<VerifyingKey>> = keys.iter().copied().map(Some).collect();
            let strict: Vec<bool> = (0..n)
                .map(|i| keys[i].verify_strict(messages[i], &signatures[i]).is_ok())
                .collect();
            let each = verify_each(&messages, &options, &signatures);
            if standard {
                prop_assert!(each.iter().all(|ok| *ok));
            } else {
                prop_assert_eq!(each, strict);
            }
        }
    }
}
