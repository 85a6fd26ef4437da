//! An in-memory filter of the subjects and certificate numbers the projections hold.
//!
//! Almost every certification names a certificate number never seen before, and about half
//! name a new subject: `decide` asks the store for both, and a sled read that finds nothing
//! still costs a tree descent. This filter answers "certainly absent" in memory; "maybe
//! present" is confirmed by the sled read as before, so a false positive costs only that read
//! and correctness never depends on the filter.
//!
//! The table holds one 32-bit tag per key (a keyed hash of the key's kind and bytes; the slot
//! position is derived from the tag, so the table grows without the keys), 4 bytes per slot at
//! a load of at most 0.75: 128 MiB for 10⁷ credentials and 5·10⁶ subjects. A query
//! for an absent key is a false positive with probability about n / 2³² (0.2 % at 10⁷).
//! Tags are keyed per process (`RandomState`), so crafted keys cannot be made to collide.
//!
//! At start-up the table of what the projections already hold is built by a background scan;
//! until it arrives, every lookup goes to sled, and the keys accepted meanwhile are kept in a
//! second table that is merged into the scanned one.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use skill_ledger_domain::{CertificateNumber, SubjectId};

/// A set of 32-bit tags (0 marks an empty slot; a tag of 0 is stored as 1).
pub struct TagSet {
    slots: Vec<u32>,
    len: usize,
}

impl Default for TagSet {
    fn default() -> TagSet {
        TagSet {
            slots: vec![0; 1 << 12],
            len: 0,
        }
    }
}

impl TagSet {
    fn home(tag: u32, mask: usize) -> usize {
        ((u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 24) as usize & mask
    }

    pub fn contains(&self, tag: u32) -> bool {
        let tag = tag.max(1);
        let mask = self.slots.len() - 1;
        let mut position = Self::home(tag, mask);
        loop {
            match self.slots[position] {
                0 => return false,
                slot if slot == tag => return true,
                _ => position = (position + 1) & mask,
            }
        }
    }

    pub fn insert(&mut self, tag: u32) {
        let tag = tag.max(1);
        if self.contains(tag) {
            return;
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let doubled = vec![0; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, doubled);
            for slot in old.into_iter().filter(|slot| *slot != 0) {
                self.place(slot);
            }
        }
        self.place(tag);
        self.len += 1;
    }

    fn place(&mut self, tag: u32) {
        let mask = self.slots.len() - 1;
        let mut position = Self::home(tag, mask);
        while self.slots[position] != 0 {
            position = (position + 1) & mask;
        }
        self.slots[position] = tag;
    }

    fn tags(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots.iter().copied().filter(|slot| *slot != 0)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// The keyed hash that turns a subject or certificate number into its tag.
#[derive(Clone)]
pub struct Tagger {
    hasher: std::collections::hash_map::RandomState,
}

impl Default for Tagger {
    fn default() -> Tagger {
        Tagger::new()
    }
}

impl Tagger {
    pub fn new() -> Tagger {
        Tagger {
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The tag of a key of `kind` (`b'p'` subject, `b'c'` certificate number, as the
    /// projection's key prefixes).
    pub fn tag(&self, kind: u8, bytes: &[u8]) -> u32 {
        let mut hasher = self.hasher.build_hasher();
        hasher.write_u8(kind);
        hasher.write(bytes);
        (hasher.finish() >> 32) as u32
    }

    pub fn subject(&self, subject: &SubjectId) -> u32 {
        self.tag(b'p', &subject.0)
    }

    pub fn credential(&self, number: &CertificateNumber) -> u32 {
        self.tag(b'c', number.as_bytes())
    }
}

/// The tags of the keys of `tree` under `prefixes`; `None` when `stop` was raised first.
fn scan_prefixes(
    tree: &sled::Tree,
    prefixes: &[u8],
    tagger: &Tagger,
    stop: &AtomicBool,
) -> Result<Option<TagSet>, sled::Error> {
    let mut set = TagSet::default();
    for &prefix in prefixes {
        for (n, key) in tree.scan_prefix([prefix]).keys().enumerate() {
            if n % 4_096 == 0 && stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            set.insert(tagger.tag(prefix, &key?[1..]));
        }
    }
    Ok(Some(set))
}

/// The filter as the sequencer holds it: complete once the start-up scan has arrived.
pub struct KnownKeys {
    tagger: Tagger,
    /// Everything the projections held at start-up plus everything accepted since, once the
    /// scan has arrived.
    complete: Option<TagSet>,
    /// Keys accepted before the scan arrived.
    fresh: TagSet,
    scan: Option<Receiver<TagSet>>,
    /// The scanning thread and its stop flag: dropping the filter stops and joins it, so the
    /// store is not held open after the node closes.
    scanner: Option<(std::thread::JoinHandle<()>, Arc<AtomicBool>)>,
}

impl Drop for KnownKeys {
    fn drop(&mut self) {
        if let Some((thread, stop)) = self.scanner.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}

impl KnownKeys {
    /// A filter that knows nothing yet: `scan` delivers the tags of what the store held.
    pub fn loading(tagger: Tagger, scan: Receiver<TagSet>) -> KnownKeys {
        KnownKeys {
            tagger,
            complete: None,
            fresh: TagSet::default(),
            scan: Some(scan),
            scanner: None,
        }
    }

    /// A filter filled by a background thread (`thread_name`) that scans the keys of `tree`
    /// under each of `prefixes` (a key's tag kind is its prefix byte, its bytes the rest of
    /// the key). Until the scan arrives every lookup goes to the store; a scan that fails is
    /// logged and never arrives. `done` runs when the scan thread ends, whatever happened.
    pub fn scanning(
        tree: sled::Tree,
        prefixes: &'static [u8],
        thread_name: &str,
        done: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<KnownKeys> {
        let tagger = Tagger::new();
        let (send, scan) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (scan_tagger, scan_stop) = (tagger.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(thread_name.to_string())
            .spawn(move || {
                match scan_prefixes(&tree, prefixes, &scan_tagger, &scan_stop) {
                    Ok(Some(set)) => {
                        let _ = send.send(set);
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, "scanning held keys failed: every lookup reads the store")
                    }
                }
                done();
            })?;
        Ok(KnownKeys::loading(tagger, scan).with_scanner(thread, stop))
    }

    /// Remembers the thread that sends the scan, to stop and join it on drop.
    pub fn with_scanner(
        mut self,
        thread: std::thread::JoinHandle<()>,
        stop: Arc<AtomicBool>,
    ) -> KnownKeys {
        self.scanner = Some((thread, stop));
        self
    }

    /// Takes in the start-up scan if it has arrived (cheap when it has not).
    pub fn poll(&mut self) {
        let Some(scan) = &self.scan else { return };
        match scan.try_recv() {
            Ok(mut loaded) => {
                for tag in self.fresh.tags() {
                    loaded.insert(tag);
                }
                self.fresh = TagSet::default();
                self.complete = Some(loaded);
                self.scan = None;
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            // The scan failed (it logged why): keep asking the store.
            Err(std::sync::mpsc::TryRecvError::Disconnected) => self.scan = None,
        }
    }

    /// A filter of an empty store: complete from the start.
    pub fn empty(tagger: Tagger) -> KnownKeys {
        KnownKeys {
            tagger,
            complete: Some(TagSet::default()),
            fresh: TagSet::default(),
            scan: None,
            scanner: None,
        }
    }

    /// Records a key of `kind` (its store prefix) that the store holds or is about to.
    pub fn insert_key(&mut self, kind: u8, bytes: &[u8]) {
        let tag = self.tagger.tag(kind, bytes);
        self.insert(tag);
    }

    /// False only when the store certainly holds no key of `kind` with these bytes.
    pub fn may_hold(&self, kind: u8, bytes: &[u8]) -> bool {
        self.complete
            .as_ref()
            .is_none_or(|set| set.contains(self.tagger.tag(kind, bytes)))
    }

    fn insert(&mut self, tag: u32) {
        match &mut self.complete {
            Some(set) => set.insert(tag),
            None => self.fresh.insert(tag),
        }
    }

    pub fn insert_subject(&mut self, subject: &SubjectId) {
        self.insert_key(b'p', &subject.0);
    }

    pub fn insert_credential(&mut self, number: &CertificateNumber) {
        self.insert_key(b'c', number.as_bytes());
    }

    /// Records the credential and person one folded event writes.
    pub fn insert_changes(&mut self, changes: &skill_ledger_domain::Changes) {
        if let Some(credential) = &changes.credential {
            self.insert_credential(&credential.certificate_number);
        }
        if let Some((subject, _)) = &changes.person {
            self.insert_subject(subject);
        }
    }

    /// False only when the store certainly holds no person record for `subject`.
    pub fn may_hold_subject(&self, subject: &SubjectId) -> bool {
        self.may_hold(b'p', &subject.0)
    }

    /// False only when the store certainly holds no credential numbered `number`.
    pub fn may_hold_credential(&self, number: &CertificateNumber) -> bool {
        self.may_hold(b'c', number.as_bytes())
    }

    #[cfg(test)]
    pub fn is_complete(&self) -> bool {
        self.complete.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_tags_are_found_and_absent_ones_rarely_are() {
        let tagger = Tagger::new();
        let mut set = TagSet::default();
        let subject = |i: u64| {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&i.to_le_bytes());
            SubjectId(bytes)
        };
        for i in 0..200_000 {
            set.insert(tagger.subject(&subject(i)));
        }
        assert!(set.len() <= 200_000 && set.len() > 199_000);
        assert!((0..200_000).all(|i| set.contains(tagger.subject(&subject(i)))));
        let false_positives = (200_000..400_000)
            .filter(|i| set.contains(tagger.subject(&subject(*i))))
            .count();
        assert!(false_positives < 100, "{false_positives}");
    }

    #[test]
    fn until_the_scan_arrives_everything_may_be_held_then_fresh_keys_are_kept() {
        let tagger = Tagger::new();
        let (send, receive) = std::sync::mpsc::channel();
        let mut known = KnownKeys::loading(tagger.clone(), receive);
        let old = SubjectId([1; 32]);
        let fresh = SubjectId([2; 32]);
        let never = SubjectId([3; 32]);
        known.insert_subject(&fresh);
        assert!(
            known.may_hold_subject(&never),
            "nothing is known to be absent yet"
        );
        let mut scanned = TagSet::default();
        scanned.insert(tagger.subject(&old));
        send.send(scanned).expect("send");
        known.poll();
        assert!(known.is_complete());
        assert!(known.may_hold_subject(&old));
        assert!(known.may_hold_subject(&fresh));
        assert!(!known.may_hold_subject(&never));
        known.insert_subject(&never);
        assert!(known.may_hold_subject(&never));
    }
}
