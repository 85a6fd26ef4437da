//! An in-memory filter of the subjects and certificate numbers the projections hold.
//!
//! Almost every certification names a certificate number never seen before, and about half
//! name a new subject: `decide` asks the store for both, and a sled read that finds nothing
//! still costs a tree descent. This filter answers "certainly absent" in memory; "maybe
//! present" is confirmed by the sled read as before, so a false positive costs only that read
//! and correctness never depends on the filter.
//!
//! The filter is a Bloom filter of a keyed 64-bit hash of each key's kind and bytes
//! ([`KeyFilter`]), in segments: when one has taken the keys it was sized for, a new one
//! twice its size is added, so the filter grows with the store without the keys. Each
//! segment is sized for a false-positive rate of 0.2 % (about 13 bits a key), so a query for
//! an absent key is a false positive with probability of at most 0.2 % per segment. The
//! 1.5·10⁷ keys of 10⁷ events (credentials and subjects) fill four segments (about 24 MiB,
//! under 1 % false positives); the next key adds a fifth of 26 MiB (1 %). A table of 32-bit
//! tags took 128 MiB for them. Hashes are keyed per process (`RandomState`), so crafted keys
//! cannot be made to collide.
//!
//! At start-up the filter of what the projections already hold is built by a background scan;
//! until it arrives, every lookup goes to sled, and the keys accepted meanwhile are kept aside
//! and added to the scanned filter when it arrives.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use fastbloom::BloomFilter;
use skill_ledger_domain::{CertificateNumber, SubjectId};

/// Keys the first segment is sized for; each later segment is sized for twice the one before.
const FIRST_SEGMENT_KEYS: usize = 1 << 20;
/// The false-positive rate each segment is sized for.
const SEGMENT_FALSE_POSITIVE: f64 = 0.002;

/// One Bloom filter segment and how many keys it holds.
struct Segment {
    bloom: BloomFilter,
    keys: usize,
    capacity: usize,
}

impl Segment {
    fn new(capacity: usize) -> Segment {
        Segment {
            bloom: BloomFilter::with_false_pos(SEGMENT_FALSE_POSITIVE).expected_items(capacity),
            keys: 0,
            capacity,
        }
    }
}

/// A growing set of key hashes that answers "certainly absent" or "maybe present".
pub struct KeyFilter {
    segments: Vec<Segment>,
    len: usize,
    first_segment: usize,
}

impl Default for KeyFilter {
    fn default() -> KeyFilter {
        KeyFilter::with_first_segment(FIRST_SEGMENT_KEYS)
    }
}

impl KeyFilter {
    /// A filter whose first segment holds `keys` keys, at least [`FIRST_SEGMENT_KEYS`]: sized
    /// for the keys a store is expected to hold, a lookup probes one segment rather than one
    /// per doubling (each probe a cache miss once the segments outgrow the cache).
    pub fn sized_for(keys: usize) -> KeyFilter {
        KeyFilter::with_first_segment(keys.max(FIRST_SEGMENT_KEYS))
    }

    /// A filter whose first segment is sized for `keys` keys.
    pub fn with_first_segment(keys: usize) -> KeyFilter {
        KeyFilter {
            segments: Vec::new(),
            len: 0,
            first_segment: keys.max(1),
        }
    }

    pub fn contains(&self, hash: u64) -> bool {
        self.segments
            .iter()
            .any(|segment| segment.bloom.contains_hash(hash))
    }

    pub fn insert(&mut self, hash: u64) {
        if self.contains(hash) {
            return;
        }
        let full = self
            .segments
            .last()
            .is_none_or(|segment| segment.keys >= segment.capacity);
        if full {
            let capacity = self
                .segments
                .last()
                .map_or(self.first_segment, |segment| segment.capacity * 2);
            self.segments.push(Segment::new(capacity));
        }
        if let Some(segment) = self.segments.last_mut() {
            segment.bloom.insert_hash(hash);
            segment.keys += 1;
        }
        self.len += 1;
    }

    #[cfg(test)]
    /// Keys inserted (a key that was a false positive when inserted is not counted).
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[cfg(test)]
    /// Bytes of filter held.
    pub fn bytes(&self) -> usize {
        self.segments
            .iter()
            .map(|segment| segment.bloom.num_bits() / 8)
            .sum()
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
    pub fn tag(&self, kind: u8, bytes: &[u8]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        hasher.write_u8(kind);
        hasher.write(bytes);
        hasher.finish()
    }

    #[cfg(test)]
    pub fn subject(&self, subject: &SubjectId) -> u64 {
        self.tag(b'p', &subject.0)
    }
}

/// The tag kind of a certificate number (of any kind: a credential with a level or a
/// special ability).
pub const KIND_CREDENTIAL: u8 = b'c';
/// The tag kind of a subject's person record.
pub const KIND_SUBJECT: u8 = b'p';
/// The tag kind of a subject's career record.
pub const KIND_CAREER: u8 = b'k';

/// How a scanned key (after its prefix) and its value give the tagged bytes of each record
/// they hold: [`whole_key`] for a key per record, or a layout's own for packed records.
pub type Expand = fn(&[u8], &[u8], &mut dyn FnMut(&[u8]));

/// One record per key, tagged by the key after its prefix.
pub fn whole_key(key: &[u8], _value: &[u8], each: &mut dyn FnMut(&[u8])) {
    each(key)
}

/// Which keys of a store a filter covers: each key prefix scanned, the kind its records are
/// tagged as, and how its keys give their records' bytes. A kind no prefix is tagged as is
/// not covered: the filter answers "maybe present" for it.
pub type KeyScan = &'static [(u8, u8, Expand)];

/// The filter of the keys of `tree` under the prefixes of `scan`; `None` when `stop` was
/// raised first.
fn scan_prefixes(
    tree: &sled::Tree,
    scan: &[(u8, u8, Expand)],
    tagger: &Tagger,
    stop: &AtomicBool,
    expected_keys: usize,
) -> Result<Option<KeyFilter>, sled::Error> {
    let mut set = KeyFilter::sized_for(expected_keys);
    for &(prefix, kind, expand) in scan {
        for (n, item) in tree.scan_prefix([prefix]).enumerate() {
            if n % 4_096 == 0 && stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let (key, value) = item?;
            expand(&key[1..], &value, &mut |bytes| {
                set.insert(tagger.tag(kind, bytes))
            });
        }
    }
    Ok(Some(set))
}

/// The filter as the sequencer holds it: complete once the start-up scan has arrived.
pub struct KnownKeys {
    tagger: Tagger,
    /// The kinds the filter covers (see [`KeyScan`]); `None`: every kind.
    covers: Option<Vec<u8>>,
    /// Everything the projections held at start-up plus everything accepted since, once the
    /// scan has arrived.
    complete: Option<KeyFilter>,
    /// The hashes of the keys accepted before the scan arrived.
    fresh: Vec<u64>,
    scan: Option<Receiver<KeyFilter>>,
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
    #[cfg(test)]
    /// A filter that knows nothing yet: `scan` delivers the tags of what the store held.
    pub fn loading(tagger: Tagger, scan: Receiver<KeyFilter>) -> KnownKeys {
        KnownKeys::loading_kinds(tagger, None, scan)
    }

    /// [`KnownKeys::loading`] covering only the kinds `covers` (`None`: every kind).
    fn loading_kinds(
        tagger: Tagger,
        covers: Option<Vec<u8>>,
        scan: Receiver<KeyFilter>,
    ) -> KnownKeys {
        KnownKeys {
            tagger,
            covers,
            complete: None,
            fresh: Vec::new(),
            scan: Some(scan),
            scanner: None,
        }
    }

    /// A filter filled by a background thread (`thread_name`) that scans the keys of `tree`
    /// under each prefix of `scan`. Until the scan arrives every lookup goes to the store; a
    /// scan that fails is logged and never arrives. `done` runs when the scan thread ends,
    /// whatever happened.
    pub fn scanning_keys(
        tree: crate::store::StoreTree,
        scan_keys: KeyScan,
        expected_keys: usize,
        thread_name: &str,
        done: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<KnownKeys> {
        let covers = Some(scan_keys.iter().map(|(_, kind, _)| *kind).collect());
        KnownKeys::scan_in_background(
            tree,
            scan_keys.to_vec(),
            covers,
            expected_keys,
            thread_name,
            done,
        )
    }

    fn scan_in_background(
        tree: crate::store::StoreTree,
        scan_keys: Vec<(u8, u8, Expand)>,
        covers: Option<Vec<u8>>,
        expected_keys: usize,
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
                let scanned = scan_prefixes(&tree, &scan_keys, &scan_tagger, &scan_stop, expected_keys);
                // Held no longer than the scan: the last handle closes the store.
                drop(tree);
                match scanned {
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
        Ok(KnownKeys::loading_kinds(tagger, covers, scan).with_scanner(thread, stop))
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
                for tag in std::mem::take(&mut self.fresh) {
                    loaded.insert(tag);
                }
                self.complete = Some(loaded);
                self.scan = None;
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            // The scan failed (it logged why): keep asking the store.
            Err(std::sync::mpsc::TryRecvError::Disconnected) => self.scan = None,
        }
    }

    /// A filter of an empty store whose keys `scan` describes: complete from the start.
    pub fn empty_of(tagger: Tagger, scan: KeyScan, expected_keys: usize) -> KnownKeys {
        KnownKeys::empty_kinds(
            tagger,
            Some(scan.iter().map(|(_, kind, _)| *kind).collect()),
            expected_keys,
        )
    }

    fn empty_kinds(tagger: Tagger, covers: Option<Vec<u8>>, expected_keys: usize) -> KnownKeys {
        KnownKeys {
            tagger,
            covers,
            complete: Some(KeyFilter::sized_for(expected_keys)),
            fresh: Vec::new(),
            scan: None,
            scanner: None,
        }
    }

    /// Records a key of `kind` (its store prefix) that the store holds or is about to.
    pub fn insert_key(&mut self, kind: u8, bytes: &[u8]) {
        let tag = self.tagger.tag(kind, bytes);
        self.insert(tag);
    }

    /// False only when the store certainly holds no key of `kind` with these bytes (a kind
    /// the filter does not cover may always be held).
    pub fn may_hold(&self, kind: u8, bytes: &[u8]) -> bool {
        !self.covers(kind)
            || self
                .complete
                .as_ref()
                .is_none_or(|set| set.contains(self.tagger.tag(kind, bytes)))
    }

    fn covers(&self, kind: u8) -> bool {
        self.covers
            .as_ref()
            .is_none_or(|covers| covers.contains(&kind))
    }

    fn insert(&mut self, tag: u64) {
        match &mut self.complete {
            Some(set) => set.insert(tag),
            None => self.fresh.push(tag),
        }
    }

    pub fn insert_subject(&mut self, subject: &SubjectId) {
        self.insert_key(KIND_SUBJECT, &subject.0);
    }

    pub fn insert_credential(&mut self, number: &CertificateNumber) {
        self.insert_key(KIND_CREDENTIAL, number.as_bytes());
    }

    /// Records the credential, person and career one folded event writes.
    pub fn insert_changes(&mut self, changes: &skill_ledger_domain::Changes) {
        if let Some(credential) = &changes.credential {
            self.insert_credential(&credential.certificate_number);
        }
        if let Some(record) = &changes.special_ability {
            self.insert_credential(&record.certificate_number);
        }
        if let Some((subject, _)) = &changes.person {
            if self.covers(KIND_SUBJECT) {
                self.insert_subject(subject);
            }
        }
        if let Some((subject, _)) = &changes.career {
            if self.covers(KIND_CAREER) {
                self.insert_key(KIND_CAREER, &subject.0);
            }
        }
    }

    /// False only when the store certainly holds no person record for `subject`.
    pub fn may_hold_subject(&self, subject: &SubjectId) -> bool {
        self.may_hold(KIND_SUBJECT, &subject.0)
    }

    /// False only when the store certainly holds no certificate numbered `number`.
    pub fn may_hold_credential(&self, number: &CertificateNumber) -> bool {
        self.may_hold(KIND_CREDENTIAL, number.as_bytes())
    }

    /// False only when the store certainly holds no career record for `subject`.
    pub fn may_hold_career(&self, subject: &SubjectId) -> bool {
        self.may_hold(KIND_CAREER, &subject.0)
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
    fn inserted_keys_are_found_and_absent_ones_rarely_are_as_the_filter_grows() {
        let tagger = Tagger::new();
        let mut set = KeyFilter::with_first_segment(1_000);
        let subject = |i: u64| {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&i.to_le_bytes());
            SubjectId(bytes)
        };
        for i in 0..50_000 {
            set.insert(tagger.subject(&subject(i)));
        }
        // 1,000 + 2,000 + … + 32,000 keys: six segments.
        assert_eq!(set.segments.len(), 6);
        assert!(set.len() <= 50_000 && set.len() > 49_500, "{}", set.len());
        assert!((0..50_000).all(|i| set.contains(tagger.subject(&subject(i)))));
        let false_positives = (50_000..250_000)
            .filter(|i| set.contains(tagger.subject(&subject(*i))))
            .count();
        // Six segments at 0.2 % each: at most about 1.2 %.
        assert!(false_positives < 3_000, "{false_positives}");
        assert!(set.bytes() < 50_000 * 4, "{} bytes", set.bytes());
    }

    #[test]
    fn an_empty_filter_holds_nothing_and_a_repeated_key_counts_once() {
        let mut set = KeyFilter::default();
        assert!(set.is_empty());
        assert!(!set.contains(42));
        set.insert(42);
        set.insert(42);
        assert!(set.contains(42));
        assert_eq!(set.len(), 1);
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
        let mut scanned = KeyFilter::default();
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
