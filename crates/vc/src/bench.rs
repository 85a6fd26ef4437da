//! Throughput measurements (for `skill-ledger bench vc` and `examples/throughput.rs`). Run in
//! release mode: a debug build is an order of magnitude slower.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;

use crate::{
    issue, sample, sign_document, status_list_credential, verify_credential, ControllerDocument,
    StatusList, Suite, VcError,
};

/// Rates measured for one suite, per second on one core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub suite: Suite,
    pub issued_per_second: f64,
    pub verified_per_second: f64,
}

/// Issues `n` distinct sample credentials with `suite`, then verifies `n_verify` of them.
pub fn measure(suite: Suite, n: u32, n_verify: u32) -> Result<Rates, VcError> {
    let key = SigningKey::from_bytes(&sample::SEED);
    let controller = ControllerDocument {
        id: sample::ISSUER.into(),
        keys: vec![key.verifying_key()],
    };
    let method = controller.method_id(&key.verifying_key());
    let credentials: Vec<_> = (0..n.max(1))
        .map(|i| sample::credential(u64::from(i)))
        .collect();
    let start = Instant::now();
    let mut issued = Vec::with_capacity(credentials.len());
    for c in &credentials {
        issued.push(issue(c, suite, &key, &method, sample::CREATED)?);
    }
    let issuing = start.elapsed();
    let start = Instant::now();
    let mut verified = 0u32;
    for vc in issued.iter().cycle().take(n_verify.max(1) as usize) {
        verify_credential(vc, &controller, None)?;
        verified += 1;
    }
    let verifying = start.elapsed();
    Ok(Rates {
        suite,
        issued_per_second: f64::from(n.max(1)) / issuing.as_secs_f64(),
        verified_per_second: f64::from(verified) / verifying.as_secs_f64(),
    })
}

/// Time to build a fresh list, set `revoked` entries (spread over the list), encode it and sign
/// its status list credential with `suite`: what a node does to republish a list.
pub fn status_list_rebuild(revoked: u64, suite: Suite) -> Result<Duration, VcError> {
    let key = SigningKey::from_bytes(&sample::SEED);
    let controller = ControllerDocument {
        id: sample::ISSUER.into(),
        keys: vec![key.verifying_key()],
    };
    let method = controller.method_id(&key.verifying_key());
    let start = Instant::now();
    let mut list = StatusList::new();
    let step = (StatusList::BITS / revoked.max(1)).max(1);
    for i in 0..revoked.min(StatusList::BITS) {
        list.set((i * step + i % step) % StatusList::BITS)?;
    }
    let vc = status_list_credential(
        sample::STATUS_LIST,
        sample::ISSUER,
        sample::VALID_FROM,
        &list,
    );
    sign_document(&vc, suite, &key, &method, sample::CREATED)?;
    Ok(start.elapsed())
}
