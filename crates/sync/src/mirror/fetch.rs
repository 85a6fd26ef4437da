//! Fetching from a partner: its checkpoint, hash tiles and entry bundles through a
//! [`PartnerLog`], with retries and backoff, the C2SP fallback from a partial resource to the
//! full one, fetch counting, and a small cache of tiles already authenticated. Tiles are
//! authenticated against the signed root by `skill_ledger_log::AuthenticatedTiles`; each
//! batch's entries are checked against their authenticated leaf hashes before anything reads
//! them, and their signatures are then verified on another thread ([`crate::verify`]).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

use skill_ledger_log::{
    entry_bundle_path, leaf_hash, tile_path, AuthenticatedTiles, Checkpoint, Hash,
    SignedCheckpoint, TileSource, EMPTY_TREE_ROOT, TILE_WIDTH_MAX,
};
use tlog_tiles::{HashReader, Tile};

use super::{FetchCounts, PullOptions};
use crate::error::{Result, SyncError, SyncErrorKind};
use crate::transport::{FetchResult, PartnerLog, TransportError, TransportErrorKind};

/// Verified tiles kept in memory during one pull (8 KiB each at most).
const TILE_CACHE_MAX: usize = 64;

/// Authenticated tiles by (level, index, width): (last use, bytes).
type TileCache = BTreeMap<(u8, u64, u32), (u64, Vec<u8>)>;

/// Reads the partner's tiles through a [`PartnerLog`], with retries, the C2SP full-tile
/// fallback for partial tiles, fetch counting and a small cache of authenticated tiles.
pub(super) struct TileFetcher<'a> {
    pub(super) log: &'a dyn PartnerLog,
    options: &'a PullOptions,
    pub(super) counts: Cell<FetchCounts>,
    cache: RefCell<TileCache>,
    uses: Cell<u64>,
    failure: RefCell<Option<SyncError>>,
}

impl<'a> TileFetcher<'a> {
    pub(super) fn new(log: &'a dyn PartnerLog, options: &'a PullOptions) -> TileFetcher<'a> {
        TileFetcher {
            log,
            options,
            counts: Cell::new(FetchCounts::default()),
            cache: RefCell::new(BTreeMap::new()),
            uses: Cell::new(0),
            failure: RefCell::new(None),
        }
    }

    fn count(&self, update: impl FnOnce(&mut FetchCounts)) {
        let mut counts = self.counts.get();
        update(&mut counts);
        self.counts.set(counts);
    }

    /// Calls `fetch`, retrying with exponential backoff while the partner is unavailable.
    fn with_retries<T>(&self, mut fetch: impl FnMut() -> FetchResult<T>) -> FetchResult<T> {
        let mut delay_ms = self.options.backoff_ms_initial;
        let mut attempt = 0;
        loop {
            match fetch() {
                Err(error) if error.is_retryable() && attempt < self.options.retries_max => {
                    attempt += 1;
                    self.count(|counts| counts.retries += 1);
                    tracing::debug!(%error, attempt, delay_ms, "partner unavailable; retrying");
                    self.options.clock.sleep(Duration::from_millis(delay_ms));
                    delay_ms = (delay_ms.saturating_mul(2)).min(self.options.backoff_ms_max);
                }
                other => return other,
            }
        }
    }

    fn transport_error(&self, what: &str, error: TransportError) -> SyncError {
        SyncError::new(
            SyncErrorKind::Transport,
            format!("{what} from {}: {error}", self.log.describe()),
        )
    }

    pub(super) fn checkpoint(&self) -> Result<String> {
        self.count(|counts| counts.checkpoints += 1);
        self.with_retries(|| self.log.checkpoint())
            .map_err(|error| self.transport_error("checkpoint", error))
    }

    /// Fetches one resource of `width` items; a missing partial one falls back to the full
    /// one (the partner may have grown past the checkpoint and replaced it), of which the
    /// first `width` items are the partial one's.
    fn fetch_with_fallback(
        &self,
        width: u16,
        mut fetch: impl FnMut(u16) -> FetchResult<Vec<u8>>,
    ) -> FetchResult<(Vec<u8>, u16)> {
        match self.with_retries(|| fetch(width)) {
            Err(error) if error.kind == TransportErrorKind::NotFound && width < TILE_WIDTH_MAX => {
                self.with_retries(|| fetch(TILE_WIDTH_MAX))
                    .map(|bytes| (bytes, TILE_WIDTH_MAX))
            }
            other => other.map(|bytes| (bytes, width)),
        }
    }

    fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>> {
        let path = tile_path(level, index, width);
        self.count(|counts| counts.tiles += 1);
        let (bytes, served_width) = self
            .fetch_with_fallback(width, |w| self.log.tile(level, index, w))
            .map_err(|error| self.transport_error(&format!("tile {path}"), error))?;
        let expected = usize::from(served_width) * 32;
        if bytes.len() != expected {
            return Err(SyncError::new(
                SyncErrorKind::BadTile,
                format!(
                    "tile {} from {} is {} bytes, expected {expected}",
                    tile_path(level, index, served_width),
                    self.log.describe(),
                    bytes.len()
                ),
            ));
        }
        Ok(bytes[..usize::from(width) * 32].to_vec())
    }

    pub(super) fn bundle(&self, index: u64, width: u16) -> Result<Vec<Vec<u8>>> {
        let path = entry_bundle_path(index, width);
        self.count(|counts| counts.bundles += 1);
        let (bytes, served_width) = self
            .fetch_with_fallback(width, |w| self.log.entry_bundle(index, w))
            .map_err(|error| self.transport_error(&format!("entry bundle {path}"), error))?;
        let served_path = entry_bundle_path(index, served_width);
        let mut entries = parse_bundle(&bytes, usize::from(served_width)).map_err(|error| {
            error.context(format!(
                "entry bundle {served_path} from {}",
                self.log.describe()
            ))
        })?;
        entries.truncate(usize::from(width));
        Ok(entries)
    }

    /// Converts a tlog error of a tile-authenticated read, preferring a parked fetch error.
    fn tile_error(&self, error: tlog_tiles::Error, checkpoint: &Checkpoint) -> SyncError {
        if let Some(failure) = self.failure.borrow_mut().take() {
            return failure;
        }
        SyncError::new(
            SyncErrorKind::BadTile,
            format!(
                "hash tiles from {} do not hash to the signed root of the checkpoint of size {} \
                 ({error}): a tile was altered or belongs to another tree",
                self.log.describe(),
                checkpoint.size
            ),
        )
    }

    /// Hashes with the given stored indexes, authenticated against `checkpoint`.
    pub(super) fn authenticated(
        &self,
        checkpoint: &Checkpoint,
        indexes: &[u64],
    ) -> Result<Vec<Hash>> {
        let reader = AuthenticatedTiles::new(checkpoint, self);
        reader
            .read_hashes(indexes)
            .map(|hashes| hashes.into_iter().map(|hash| hash.0).collect())
            .map_err(|error| self.tile_error(error, checkpoint))
    }

    /// A consistency proof from the first `size` leaves to the whole tree of `checkpoint`,
    /// from its tiles (authenticated against its signed root).
    pub(super) fn consistency_proof(
        &self,
        size: u64,
        checkpoint: &Checkpoint,
    ) -> Result<Vec<Hash>> {
        let reader = AuthenticatedTiles::new(checkpoint, self);
        tlog_tiles::prove_tree(checkpoint.size, size, &reader)
            .map(|proof| proof.iter().map(|hash| hash.0).collect())
            .map_err(|error| self.tile_error(error, checkpoint))
    }

    /// An inclusion proof of leaf `index` in the tree of `checkpoint`, from its tiles
    /// (authenticated against its signed root).
    pub(super) fn record_proof(
        &self,
        index: u64,
        checkpoint: &Checkpoint,
    ) -> std::result::Result<Vec<Hash>, tlog_tiles::Error> {
        let reader = AuthenticatedTiles::new(checkpoint, self);
        tlog_tiles::prove_record(checkpoint.size, index, &reader)
            .map(|proof| proof.iter().map(|hash| hash.0).collect())
    }

    /// The root of the first `size` leaves of the tree of `checkpoint`, from its tiles.
    pub(super) fn root_at(&self, size: u64, checkpoint: &Checkpoint) -> Result<Hash> {
        assert!(size <= checkpoint.size, "a prefix of the checkpoint's tree");
        if size == 0 {
            return Ok(EMPTY_TREE_ROOT);
        }
        let reader = AuthenticatedTiles::new(checkpoint, self);
        tlog_tiles::tree_hash(size, &reader)
            .map(|hash| hash.0)
            .map_err(|error| self.tile_error(error, checkpoint))
    }
}

impl TileSource for TileFetcher<'_> {
    /// The bytes of each tile, from the cache or the partner. Unauthenticated.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        let mut data = Vec::with_capacity(tiles.len());
        for tile in tiles {
            let key = (tile.level(), tile.level_index(), tile.width());
            let use_number = self.uses.get() + 1;
            self.uses.set(use_number);
            if let Some((last_use, bytes)) = self.cache.borrow_mut().get_mut(&key) {
                *last_use = use_number;
                data.push(bytes.clone());
                continue;
            }
            let width = u16::try_from(tile.width()).map_err(|_| tlog_tiles::Error::BadMath)?;
            match self.tile(tile.level(), tile.level_index(), width) {
                Ok(bytes) => data.push(bytes),
                Err(error) => {
                    self.failure.borrow_mut().get_or_insert(error);
                    return Err(tlog_tiles::Error::InvalidTile);
                }
            }
        }
        Ok(data)
    }

    /// Keeps tiles that were authenticated against a signed root.
    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        let mut cache = self.cache.borrow_mut();
        for (tile, bytes) in tiles.iter().zip(data) {
            let key = (tile.level(), tile.level_index(), tile.width());
            cache.insert(key, (self.uses.get(), bytes.clone()));
        }
        while cache.len() > TILE_CACHE_MAX {
            let oldest = cache
                .iter()
                .min_by_key(|(_, (last_use, _))| *last_use)
                .map(|(key, _)| *key);
            match oldest {
                Some(key) => cache.remove(&key),
                None => break,
            };
        }
    }
}

impl TileFetcher<'_> {
    /// Fetches the batch from `start`, checks every entry against its authenticated leaf
    /// hash, and starts decoding and verifying its signatures on another thread.
    pub(super) fn fetch_batch(
        &self,
        origin: &str,
        target: &SignedCheckpoint,
        start: u64,
    ) -> Result<FetchedBatch> {
        let (fetcher, options) = (self, self.options);
        let size = target.checkpoint.size;
        let end = batch_end(start, size, options.batch_entries_max);
        let width = u64::from(TILE_WIDTH_MAX);
        let mut entries = Vec::with_capacity((end - start) as usize);
        for bundle in start / width..=(end - 1) / width {
            let bundle_start = bundle * width;
            let bundle_width = (size - bundle_start).min(width) as u16;
            let bundle_entries = fetcher.bundle(bundle, bundle_width)?;
            let from = start.max(bundle_start) - bundle_start;
            let to = end.min(bundle_start + width) - bundle_start;
            entries.extend(
                bundle_entries
                    .into_iter()
                    .skip(from as usize)
                    .take((to - from) as usize),
            );
        }
        assert_eq!(entries.len() as u64, end - start, "bundles cover the batch");
        let indexes: Vec<u64> = (start..end)
            .map(|index| tlog_tiles::stored_hash_index(0, index))
            .collect();
        let expected = fetcher.authenticated(&target.checkpoint, &indexes)?;
        let mut leaf_hashes = Vec::with_capacity(entries.len());
        for (offset, (entry, expected)) in entries.iter().zip(&expected).enumerate() {
            let index = start + offset as u64;
            let hash = leaf_hash(entry);
            if hash != *expected {
                return Err(SyncError::new(
                    SyncErrorKind::BadEntry,
                    format!(
                        "entry {index} from {} (bundle {}) does not hash to the partner's leaf \
                         {index} under the signed checkpoint of size {size}: the entry was altered",
                        fetcher.log.describe(),
                        entry_bundle_path(
                            index / width,
                            (size - index / width * width).min(width) as u16
                        )
                    ),
                ));
            }
            leaf_hashes.push(hash);
        }
        let entries = std::sync::Arc::new(entries);
        let (origin, to_check) = (origin.to_string(), entries.clone());
        let checked = std::thread::Builder::new()
            .name("mirror-verify".to_string())
            .spawn(move || crate::verify::decode_and_verify(&origin, &to_check))
            .map_err(|error| {
                SyncError::new(
                    SyncErrorKind::Io,
                    format!("starting a verification thread: {error}"),
                )
            })?;
        Ok(FetchedBatch {
            start,
            entries,
            leaf_hashes,
            checked,
        })
    }
}

/// Splits a C2SP entry bundle into exactly `count` entries.
/// The error (kind `BadEntry`) says where the bundle goes wrong.
pub fn parse_bundle(bytes: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
    split_bundle(bytes, count).map_err(|why| SyncError::new(SyncErrorKind::BadEntry, why))
}

fn split_bundle(bytes: &[u8], count: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut entries = Vec::with_capacity(count);
    let mut offset = 0usize;
    while offset < bytes.len() {
        if entries.len() == count {
            return Err(format!(
                "{} bytes after its {count} entries (from offset {offset})",
                bytes.len() - offset
            ));
        }
        let Some(length) = bytes.get(offset..offset + 2) else {
            return Err(format!(
                "entry {} at offset {offset}: truncated length",
                entries.len()
            ));
        };
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let Some(entry) = bytes.get(offset + 2..offset + 2 + length) else {
            return Err(format!(
                "entry {} at offset {offset} claims {length} bytes, {} remain",
                entries.len(),
                bytes.len() - offset - 2
            ));
        };
        entries.push(entry.to_vec());
        offset += 2 + length;
    }
    if entries.len() != count {
        return Err(format!("holds {} entries, expected {count}", entries.len()));
    }
    Ok(entries)
}

/// The end of the batch starting at `start`: at most `batch` entries, ending on a bundle
/// boundary when the batch spans whole bundles (so no bundle is fetched twice).
pub(super) fn batch_end(start: u64, size: u64, batch: u64) -> u64 {
    let width = u64::from(TILE_WIDTH_MAX);
    let end = start.saturating_add(batch).min(size);
    if end == size || batch < width {
        return end;
    }
    let aligned = end / width * width;
    if aligned > start {
        aligned
    } else {
        end
    }
}

/// A batch fetched and authenticated, its signatures being checked on another thread.
pub(super) struct FetchedBatch {
    pub start: u64,
    pub entries: std::sync::Arc<Vec<Vec<u8>>>,
    pub leaf_hashes: Vec<Hash>,
    pub checked: std::thread::JoinHandle<Vec<crate::verify::Checked>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_end_on_bundle_boundaries_when_they_can() {
        assert_eq!(batch_end(0, 10_000, 1024), 1024);
        assert_eq!(batch_end(100, 10_000, 1024), 1024);
        assert_eq!(batch_end(1000, 10_000, 1024), 1792);
        assert_eq!(batch_end(9_500, 10_000, 1024), 10_000);
        assert_eq!(batch_end(5, 10_000, 10), 15);
        assert_eq!(batch_end(250, 10_000, 256), 256);
    }

    #[test]
    fn bundles_parse_exactly_or_name_the_fault() {
        let bundle = skill_ledger_log::entry_bundle(&[b"ab", b"", b"xyz"]);
        assert_eq!(
            parse_bundle(&bundle, 3).expect("parse"),
            vec![b"ab".to_vec(), vec![], b"xyz".to_vec()]
        );
        assert!(parse_bundle(&bundle, 2)
            .expect_err("extra")
            .message()
            .contains("after its 2"));
        assert!(parse_bundle(&bundle, 4)
            .expect_err("short")
            .message()
            .contains("holds 3"));
        assert!(parse_bundle(&bundle[..bundle.len() - 1], 3)
            .expect_err("cut")
            .message()
            .contains("claims 3 bytes"));
        assert!(parse_bundle(&[0], 1)
            .expect_err("cut length")
            .message()
            .contains("truncated"));
    }
}
