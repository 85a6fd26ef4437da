//! The log of record: append-only, checksummed segment files.

use crate::error::{LogError, LogErrorKind};
use crate::format::{
    decode_frame_header, decode_segment_header, encode_frame, encode_segment_header,
    frame_is_valid, parse_segment_file_name, segment_file_name, ENTRY_BYTES_MAX_FORMAT,
    FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, SEGMENT_SUFFIX,
};
use crate::fsio;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Every `SPARSE_INDEX_STRIDE`-th entry's byte offset is kept in memory. A
/// random read fetches the whole group of frames between two indexed offsets
/// with one `pread` (about 4 KiB for typical entries) and walks it in memory;
/// only the newest, still open group is walked header by header. 16 costs
/// half a byte of memory per entry (5 MiB per ten million entries).
pub const SPARSE_INDEX_STRIDE: u64 = 16;

/// Sequential scans read this much at a time.
const READ_CHUNK_BYTES: u64 = 1 << 20;

const _: () = assert!(SPARSE_INDEX_STRIDE.is_power_of_two());
const _: () = assert!(READ_CHUNK_BYTES >= FRAME_HEADER_BYTES + ENTRY_BYTES_MAX_FORMAT as u64);

/// Tuning for [`Log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// A new segment is started when appending a frame would take the
    /// current one past this size (a segment holds at least one entry, so
    /// a single frame larger than this still fits, alone).
    pub segment_bytes_max: u64,
    /// Longest entry accepted by [`Log::append_batch`]; at most
    /// [`ENTRY_BYTES_MAX_FORMAT`] (65535).
    pub entry_bytes_max: u32,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            segment_bytes_max: 256 << 20,
            entry_bytes_max: ENTRY_BYTES_MAX_FORMAT,
        }
    }
}

/// What [`Log::open`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Entries in the log after recovery.
    pub entry_count: u64,
    /// Bytes removed from the end of the last segment (0 if none).
    pub truncated_bytes: u64,
    /// The file and byte offset where the torn tail began, if one was cut.
    pub truncated_at: Option<(PathBuf, u64)>,
}

struct SegmentView {
    first_index: u64,
    path: Arc<PathBuf>,
    file: Arc<File>,
    /// `sparse_offsets[k]` is the byte offset of entry
    /// `first_index + k * SPARSE_INDEX_STRIDE`.
    sparse_offsets: Vec<u64>,
}

struct Shared {
    segments: RwLock<Vec<SegmentView>>,
    /// Entries that are durable; readers never look past this.
    committed_entries: AtomicU64,
}

impl Shared {
    fn segments_read(&self) -> RwLockReadGuard<'_, Vec<SegmentView>> {
        // A panic while holding the lock cannot leave the index half-updated
        // in a way readers would trust: they are bounded by the committed
        // count, which is only advanced after the index is complete.
        self.segments.read().unwrap_or_else(|e| e.into_inner())
    }

    fn segments_write(&self) -> RwLockWriteGuard<'_, Vec<SegmentView>> {
        self.segments.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The single writer of the log, owned by the sequencer thread.
pub struct Log {
    dir: PathBuf,
    options: LogOptions,
    shared: Arc<Shared>,
    entry_count: u64,
    tail_first_index: u64,
    tail_path: Arc<PathBuf>,
    tail_file: Arc<File>,
    /// Bytes of the tail segment that hold a header and whole frames.
    tail_bytes: u64,
    bytes_on_disk: u64,
    /// Set when an append failed part-way: the in-memory state no longer
    /// describes the files, so only a reopen (and its recovery) may continue.
    poisoned: bool,
}

/// A cheap, cloneable, thread-safe view of the committed entries.
#[derive(Clone)]
pub struct LogReader {
    shared: Arc<Shared>,
}

fn damaged(detail: impl Into<String>, path: &Path) -> LogError {
    LogError::new(LogErrorKind::Damaged, detail).at_path(path)
}

/// Outcome of looking at the bytes at one offset of a segment.
enum FrameAt<'b> {
    /// The offset is exactly the end of the file.
    End,
    /// Not a valid frame, and why.
    Bad(&'static str),
    Valid {
        payload: &'b [u8],
        next_offset: u64,
    },
}

/// Reads frames from one segment through a reused buffer, so a sequential
/// scan costs one pread per mebibyte rather than two per entry.
struct FrameCursor<'a> {
    file: &'a File,
    path: &'a Path,
    file_len: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

impl<'a> FrameCursor<'a> {
    fn new(file: &'a File, path: &'a Path, file_len: u64) -> FrameCursor<'a> {
        FrameCursor {
            file,
            path,
            file_len,
            buf: Vec::new(),
            buf_start: 0,
        }
    }

    /// Makes `[offset, offset + bytes)` available in `buf`; the caller
    /// guarantees it lies within `file_len`.
    fn ensure(&mut self, offset: u64, bytes: u64) -> Result<(), LogError> {
        let buf_end = self.buf_start + self.buf.len() as u64;
        if offset >= self.buf_start && offset + bytes <= buf_end {
            return Ok(());
        }
        let want = bytes.max(READ_CHUNK_BYTES).min(self.file_len - offset);
        // `want` is at most max(READ_CHUNK_BYTES, one frame): fits usize.
        self.buf.resize(want as usize, 0);
        let got = fsio::read_at_most(self.file, self.path, &mut self.buf, offset)?;
        self.buf.truncate(got);
        self.buf_start = offset;
        if (got as u64) < bytes {
            return Err(damaged("segment shrank while being read", self.path).at_offset(offset));
        }
        Ok(())
    }

    fn slice(&self, offset: u64, bytes: u64) -> &[u8] {
        let start = (offset - self.buf_start) as usize;
        &self.buf[start..start + bytes as usize]
    }

    fn frame_at(&mut self, offset: u64) -> Result<FrameAt<'_>, LogError> {
        if offset == self.file_len {
            return Ok(FrameAt::End);
        }
        if self.file_len - offset < FRAME_HEADER_BYTES {
            return Ok(FrameAt::Bad("short frame header"));
        }
        self.ensure(offset, FRAME_HEADER_BYTES)?;
        let mut header_bytes = [0u8; FRAME_HEADER_BYTES as usize];
        header_bytes.copy_from_slice(self.slice(offset, FRAME_HEADER_BYTES));
        let header = decode_frame_header(&header_bytes);
        if header.payload_bytes > ENTRY_BYTES_MAX_FORMAT {
            return Ok(FrameAt::Bad("frame length over the limit"));
        }
        let frame_bytes = FRAME_HEADER_BYTES + u64::from(header.payload_bytes);
        if frame_bytes > self.file_len - offset {
            return Ok(FrameAt::Bad("frame length past end of file"));
        }
        self.ensure(offset, frame_bytes)?;
        let payload = self.slice(offset + FRAME_HEADER_BYTES, u64::from(header.payload_bytes));
        if !frame_is_valid(header, payload) {
            return Ok(FrameAt::Bad("frame checksum mismatch"));
        }
        Ok(FrameAt::Valid {
            payload,
            next_offset: offset + frame_bytes,
        })
    }

    /// Byte-by-byte search of `[from, file_len)` for any offset where a
    /// whole valid frame starts. Bounded by the segment's length; cheap on
    /// garbage because an implausible length rejects most offsets before
    /// any checksum is computed.
    fn find_valid_frame_from(&mut self, from: u64) -> Result<Option<u64>, LogError> {
        let mut offset = from;
        while offset + FRAME_HEADER_BYTES <= self.file_len {
            if let FrameAt::Valid { .. } = self.frame_at(offset)? {
                return Ok(Some(offset));
            }
            offset += 1;
        }
        Ok(None)
    }
}

/// Result of scanning one segment during recovery.
struct SegmentScan {
    end_index: u64,
    valid_bytes: u64,
    sparse_offsets: Vec<u64>,
    torn_at: Option<u64>,
}

fn scan_segment(
    file: &File,
    path: &Path,
    first_index: u64,
    is_last: bool,
    acknowledged_entries_min: u64,
) -> Result<SegmentScan, LogError> {
    let file_len = fsio::file_len(file, path)?;
    if file_len < SEGMENT_HEADER_BYTES {
        return Err(damaged("segment header is short", path).at_offset(0));
    }
    let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
    fsio::read_exact_at(file, path, &mut header, 0)?;
    let header_first = decode_segment_header(&header)
        .map_err(|reason| damaged(reason, path).at_offset(0).at_entry(first_index))?;
    if header_first != first_index {
        return Err(damaged(
            format!("segment header says first entry {header_first}, file name says {first_index}"),
            path,
        )
        .at_offset(0));
    }
    let mut cursor = FrameCursor::new(file, path, file_len);
    let mut index = first_index;
    let mut offset = SEGMENT_HEADER_BYTES;
    let mut sparse_offsets = Vec::new();
    loop {
        match cursor.frame_at(offset)? {
            FrameAt::End => break,
            FrameAt::Valid { next_offset, .. } => {
                if (index - first_index).is_multiple_of(SPARSE_INDEX_STRIDE) {
                    sparse_offsets.push(offset);
                }
                index += 1;
                offset = next_offset;
            }
            FrameAt::Bad(reason) => {
                let refuse =
                    |why: String| Err(damaged(why, path).at_offset(offset).at_entry(index));
                if !is_last {
                    return refuse(format!("{reason} in a segment that is not the last"));
                }
                if index < acknowledged_entries_min {
                    return refuse(format!(
                        "{reason} at an entry below the {acknowledged_entries_min} acknowledged"
                    ));
                }
                if let Some(valid_at) = cursor.find_valid_frame_from(offset + 1)? {
                    return refuse(format!(
                        "{reason}, but a valid frame follows at byte offset {valid_at}"
                    ));
                }
                return Ok(SegmentScan {
                    end_index: index,
                    valid_bytes: offset,
                    sparse_offsets,
                    torn_at: Some(offset),
                });
            }
        }
    }
    Ok(SegmentScan {
        end_index: index,
        valid_bytes: offset,
        sparse_offsets,
        torn_at: None,
    })
}

/// Creates a segment so that its name never refers to a partial header:
/// header written under a temporary name, fsynced, renamed, directory synced.
fn create_segment(dir: &Path, first_index: u64) -> Result<(PathBuf, File), LogError> {
    let name = segment_file_name(first_index);
    fsio::write_atomically(dir, &name, &encode_segment_header(first_index))?;
    let path = dir.join(name);
    let file = fsio::open_rw(&path)?;
    Ok((path, file))
}

impl Log {
    /// Opens or creates the log in `dir`, running recovery.
    ///
    /// `acknowledged_entries_min` is the number of entries known to have
    /// been acknowledged (e.g. the last signed checkpoint's size): damage
    /// below that index is never treated as a torn tail, and a log holding
    /// fewer entries refuses to open.
    pub fn open(
        dir: &Path,
        options: LogOptions,
        acknowledged_entries_min: u64,
    ) -> Result<(Log, Recovery), LogError> {
        if options.entry_bytes_max > ENTRY_BYTES_MAX_FORMAT {
            return Err(LogError::new(
                LogErrorKind::InvalidArgument,
                format!("entry_bytes_max may be at most {ENTRY_BYTES_MAX_FORMAT}"),
            ));
        }
        if options.segment_bytes_max <= SEGMENT_HEADER_BYTES {
            return Err(LogError::new(
                LogErrorKind::InvalidArgument,
                "segment_bytes_max must exceed the segment header",
            ));
        }
        fsio::create_dir_all(dir)?;
        let mut firsts = Vec::new();
        for name in fsio::list_dir(dir)? {
            if !name.ends_with(SEGMENT_SUFFIX) {
                continue; // e.g. a `.seg.tmp` left by a crash during creation
            }
            match parse_segment_file_name(&name) {
                Some(first) => firsts.push(first),
                None => {
                    return Err(damaged("unexpected segment file name", &dir.join(&name)));
                }
            }
        }
        firsts.sort_unstable();

        let mut segments = Vec::with_capacity(firsts.len().max(1));
        let mut expected_first = 0u64;
        let mut bytes_on_disk = 0u64;
        let mut recovery = Recovery {
            entry_count: 0,
            truncated_bytes: 0,
            truncated_at: None,
        };
        let mut tail_bytes = 0;
        for (k, &first) in firsts.iter().enumerate() {
            let path = dir.join(segment_file_name(first));
            if first != expected_first {
                return Err(damaged(
                    format!("gap in segment numbering: expected a segment starting at entry {expected_first}"),
                    &path,
                )
                .at_entry(expected_first));
            }
            let file = fsio::open_rw(&path)?;
            let is_last = k + 1 == firsts.len();
            let scan = scan_segment(&file, &path, first, is_last, acknowledged_entries_min)?;
            if let Some(torn_at) = scan.torn_at {
                let file_len = fsio::file_len(&file, &path)?;
                fsio::truncate_durably(&file, &path, torn_at)?;
                recovery.truncated_bytes = file_len - torn_at;
                recovery.truncated_at = Some((path.clone(), torn_at));
            }
            bytes_on_disk += scan.valid_bytes;
            tail_bytes = scan.valid_bytes;
            expected_first = scan.end_index;
            segments.push(SegmentView {
                first_index: first,
                path: Arc::new(path),
                file: Arc::new(file),
                sparse_offsets: scan.sparse_offsets,
            });
        }
        if expected_first < acknowledged_entries_min {
            return Err(LogError::new(
                LogErrorKind::Damaged,
                format!(
                    "log holds {expected_first} entries but {acknowledged_entries_min} were acknowledged"
                ),
            )
            .at_path(dir)
            .at_entry(expected_first));
        }
        if segments.is_empty() {
            let (path, file) = create_segment(dir, 0)?;
            bytes_on_disk = SEGMENT_HEADER_BYTES;
            tail_bytes = SEGMENT_HEADER_BYTES;
            segments.push(SegmentView {
                first_index: 0,
                path: Arc::new(path),
                file: Arc::new(file),
                sparse_offsets: Vec::new(),
            });
        }
        recovery.entry_count = expected_first;
        let tail = segments.last().expect("at least one segment exists");
        let (tail_first_index, tail_path, tail_file) =
            (tail.first_index, tail.path.clone(), tail.file.clone());
        let shared = Arc::new(Shared {
            segments: RwLock::new(segments),
            committed_entries: AtomicU64::new(expected_first),
        });
        let log = Log {
            dir: dir.to_path_buf(),
            options,
            shared,
            entry_count: expected_first,
            tail_first_index,
            tail_path,
            tail_file,
            tail_bytes,
            bytes_on_disk,
            poisoned: false,
        };
        Ok((log, recovery))
    }

    /// Entries in the log (all durable).
    pub fn entry_count(&self) -> u64 {
        self.entry_count
    }

    /// Bytes of segment files holding headers and whole frames.
    pub fn bytes_on_disk(&self) -> u64 {
        self.bytes_on_disk
    }

    /// A reader sharing this log's committed count.
    pub fn reader(&self) -> LogReader {
        LogReader {
            shared: self.shared.clone(),
        }
    }

    /// Appends all `entries`, then one fdatasync (plus a directory fsync
    /// when a segment is created); they are durable when this returns `Ok`.
    /// Returns the index range of the appended entries. After an `Err` the
    /// writer is poisoned and must be reopened, except after
    /// [`LogErrorKind::NoSpace`]: a write that found the filesystem full (before
    /// any fsync of the batch failed, and within the same segment) is undone by
    /// cutting the file back to where the batch began, durably, so the log is as
    /// before the call and appending may continue once space is freed. An fsync
    /// failure is never retried: the kernel may have dropped the pages it could
    /// not write while reporting the next fsync clean.
    pub fn append_batch(&mut self, entries: &[&[u8]]) -> Result<Range<u64>, LogError> {
        if self.poisoned {
            return Err(LogError::new(
                LogErrorKind::Poisoned,
                "an earlier append failed; reopen the log",
            )
            .at_path(&self.dir));
        }
        for (k, entry) in entries.iter().enumerate() {
            if entry.len() > self.options.entry_bytes_max as usize {
                return Err(LogError::new(
                    LogErrorKind::EntryTooLarge,
                    format!(
                        "entry of {} bytes exceeds entry_bytes_max {}",
                        entry.len(),
                        self.options.entry_bytes_max
                    ),
                )
                .at_entry(self.entry_count + k as u64));
            }
        }
        let start = self.entry_count;
        if entries.is_empty() {
            return Ok(start..start);
        }
        let (tail_first_index, tail_bytes, bytes_on_disk) =
            (self.tail_first_index, self.tail_bytes, self.bytes_on_disk);
        match self.append_validated(entries) {
            Ok(()) => Ok(start..self.entry_count),
            Err(e)
                if *e.kind() == LogErrorKind::NoSpace
                    && self.tail_first_index == tail_first_index =>
            {
                // Nothing of the batch was acknowledged or published: cut what did reach the
                // file (a part, or whole frames flushed before a new segment was refused).
                match fsio::truncate_durably(&self.tail_file, &self.tail_path, tail_bytes) {
                    Ok(()) => {
                        self.tail_bytes = tail_bytes;
                        self.bytes_on_disk = bytes_on_disk;
                        Err(e.at_entry(start))
                    }
                    Err(cut) => {
                        self.poisoned = true;
                        Err(cut)
                    }
                }
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    fn append_validated(&mut self, entries: &[&[u8]]) -> Result<(), LogError> {
        let mut buf = Vec::new();
        // (segment first index, byte offset) of new sparse-index points;
        // published only once the batch is durable.
        let mut new_sparse: Vec<(u64, u64)> = Vec::new();
        let mut index = self.entry_count;
        for entry in entries {
            let frame_bytes = FRAME_HEADER_BYTES + entry.len() as u64;
            let segment_bytes = self.tail_bytes + buf.len() as u64;
            if segment_bytes > SEGMENT_HEADER_BYTES
                && segment_bytes + frame_bytes > self.options.segment_bytes_max
            {
                self.flush_tail(&mut buf)?;
                // The finished segment must be durable before a later one
                // exists: recovery treats damage in a non-last segment as
                // fatal, never as a torn tail.
                fsio::sync_data(&self.tail_file, &self.tail_path)?;
                self.start_segment(index)?;
            }
            let offset = self.tail_bytes + buf.len() as u64;
            if (index - self.tail_first_index).is_multiple_of(SPARSE_INDEX_STRIDE) {
                new_sparse.push((self.tail_first_index, offset));
            }
            encode_frame(entry, &mut buf);
            index += 1;
        }
        self.flush_tail(&mut buf)?;
        fsio::sync_data(&self.tail_file, &self.tail_path)?;
        {
            let mut segments = self.shared.segments_write();
            for (first_index, offset) in new_sparse {
                let slot = segments.partition_point(|s| s.first_index <= first_index) - 1;
                segments[slot].sparse_offsets.push(offset);
            }
        }
        self.entry_count = index;
        // Release: a reader that sees the new count also sees the index.
        self.shared
            .committed_entries
            .store(index, Ordering::Release);
        Ok(())
    }

    fn flush_tail(&mut self, buf: &mut Vec<u8>) -> Result<(), LogError> {
        fsio::write_all_at(&self.tail_file, &self.tail_path, buf, self.tail_bytes)?;
        self.tail_bytes += buf.len() as u64;
        self.bytes_on_disk += buf.len() as u64;
        buf.clear();
        Ok(())
    }

    fn start_segment(&mut self, first_index: u64) -> Result<(), LogError> {
        let (path, file) = create_segment(&self.dir, first_index)?;
        let path = Arc::new(path);
        let file = Arc::new(file);
        self.shared.segments_write().push(SegmentView {
            first_index,
            path: path.clone(),
            file: file.clone(),
            sparse_offsets: Vec::new(),
        });
        self.tail_first_index = first_index;
        self.tail_path = path;
        self.tail_file = file;
        self.tail_bytes = SEGMENT_HEADER_BYTES;
        self.bytes_on_disk += SEGMENT_HEADER_BYTES;
        Ok(())
    }
}

/// Where to start reading one entry.
/// Reads the target's frame out of its whole sparse-index group `[located.offset,
/// group_end)`, fetched with one `pread`: the group holds exactly
/// `SPARSE_INDEX_STRIDE` frames, so any disagreement is damage.
fn read_in_group(
    file: &File,
    path: &Path,
    located: &Located,
    group_end: u64,
    index: u64,
) -> Result<Vec<u8>, LogError> {
    let group_bytes = group_end.saturating_sub(located.offset);
    let limit = SPARSE_INDEX_STRIDE * (FRAME_HEADER_BYTES + u64::from(ENTRY_BYTES_MAX_FORMAT));
    if group_end <= located.offset || group_bytes > limit {
        return Err(damaged("sparse index group out of bounds", path)
            .at_offset(located.offset)
            .at_entry(index));
    }
    let mut group = vec![0u8; group_bytes as usize];
    fsio::read_exact_at(file, path, &mut group, located.offset)?;
    // (header, payload range) of the frame at `position` within the group.
    let frame_at = |position: usize| {
        let damage = |why: &str| {
            damaged(why, path)
                .at_offset(located.offset + position as u64)
                .at_entry(index)
        };
        let header_end = position + FRAME_HEADER_BYTES as usize;
        let mut header = [0u8; FRAME_HEADER_BYTES as usize];
        header.copy_from_slice(
            group
                .get(position..header_end)
                .ok_or_else(|| damage("frame runs past its sparse index group"))?,
        );
        let frame_header = decode_frame_header(&header);
        if frame_header.payload_bytes > ENTRY_BYTES_MAX_FORMAT {
            return Err(damage("frame length over the limit"));
        }
        let payload_end = header_end + frame_header.payload_bytes as usize;
        if payload_end > group.len() {
            return Err(damage("frame runs past its sparse index group"));
        }
        Ok((frame_header, header_end..payload_end))
    };
    let mut position = 0usize;
    for _ in 0..located.frames_to_skip {
        position = frame_at(position)?.1.end;
    }
    let (frame_header, payload) = frame_at(position)?;
    if !frame_is_valid(frame_header, &group[payload.clone()]) {
        return Err(damaged("frame checksum mismatch", path)
            .at_offset(located.offset + position as u64)
            .at_entry(index));
    }
    Ok(group[payload].to_vec())
}

struct Located {
    slot: usize,
    path: Arc<PathBuf>,
    file: Arc<File>,
    /// Offset of the nearest sparse-index entry at or before the target.
    offset: u64,
    /// Offset of the next sparse-index entry in the same segment, when there is
    /// one: the target's frame ends at or before it.
    group_end: Option<u64>,
    /// Frames to skip from `offset` to reach the target.
    frames_to_skip: u64,
}

impl LogReader {
    /// Committed entries.
    pub fn entry_count(&self) -> u64 {
        self.shared.committed_entries.load(Ordering::Acquire)
    }

    fn locate(&self, index: u64) -> Located {
        let segments = self.shared.segments_read();
        let slot = segments.partition_point(|s| s.first_index <= index) - 1;
        let segment = &segments[slot];
        let relative = index - segment.first_index;
        let group = (relative / SPARSE_INDEX_STRIDE) as usize;
        Located {
            slot,
            path: segment.path.clone(),
            file: segment.file.clone(),
            offset: segment.sparse_offsets[group],
            group_end: segment.sparse_offsets.get(group + 1).copied(),
            frames_to_skip: relative % SPARSE_INDEX_STRIDE,
        }
    }

    fn check_range(&self, start: u64, end: u64) -> Result<(), LogError> {
        let count = self.entry_count();
        if start > end || end > count {
            return Err(LogError::new(
                LogErrorKind::OutOfRange,
                format!("entries [{start}, {end}) requested, log holds {count}"),
            )
            .at_entry(end.max(start)));
        }
        Ok(())
    }

    /// Reads entry `index`, verifying its checksum.
    pub fn read(&self, index: u64) -> Result<Vec<u8>, LogError> {
        self.check_range(index, index.saturating_add(1))?;
        let located = self.locate(index);
        let (file, path) = (&*located.file, located.path.as_path());
        if let Some(group_end) = located.group_end {
            return read_in_group(file, path, &located, group_end, index);
        }
        let mut offset = located.offset;
        let mut header = [0u8; FRAME_HEADER_BYTES as usize];
        for _ in 0..located.frames_to_skip {
            fsio::read_exact_at(file, path, &mut header, offset)?;
            let payload_bytes = decode_frame_header(&header).payload_bytes;
            if payload_bytes > ENTRY_BYTES_MAX_FORMAT {
                return Err(damaged("frame length over the limit", path)
                    .at_offset(offset)
                    .at_entry(index));
            }
            offset += FRAME_HEADER_BYTES + u64::from(payload_bytes);
        }
        fsio::read_exact_at(file, path, &mut header, offset)?;
        let frame_header = decode_frame_header(&header);
        if frame_header.payload_bytes > ENTRY_BYTES_MAX_FORMAT {
            return Err(damaged("frame length over the limit", path)
                .at_offset(offset)
                .at_entry(index));
        }
        let mut payload = vec![0u8; frame_header.payload_bytes as usize];
        fsio::read_exact_at(file, path, &mut payload, offset + FRAME_HEADER_BYTES)?;
        if !frame_is_valid(frame_header, &payload) {
            return Err(damaged("frame checksum mismatch", path)
                .at_offset(offset)
                .at_entry(index));
        }
        Ok(payload)
    }

    /// Sequential scan: calls `f` for each entry in `[start, end)` in order,
    /// verifying every checksum and reusing one buffer. Stops at the first
    /// error, from the log or from `f`.
    pub fn for_each(
        &self,
        start: u64,
        end: u64,
        mut f: impl FnMut(u64, &[u8]) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        self.check_range(start, end)?;
        if start == end {
            return Ok(());
        }
        let located = self.locate(start);
        let mut slot = located.slot;
        let (mut path, mut file) = (located.path, located.file);
        let mut offset = located.offset;
        let mut skip = located.frames_to_skip;
        let mut index = start - skip;
        while index < end {
            let file_len = fsio::file_len(&file, &path)?;
            let next_first = {
                let segments = self.shared.segments_read();
                segments.get(slot + 1).map(|s| s.first_index)
            };
            let segment_end = next_first.map_or(end, |n| n.min(end));
            let mut cursor = FrameCursor::new(&file, &path, file_len);
            while index < segment_end {
                match cursor.frame_at(offset)? {
                    FrameAt::Valid {
                        payload,
                        next_offset,
                    } => {
                        if skip > 0 {
                            skip -= 1;
                        } else {
                            f(index, payload)?;
                        }
                        index += 1;
                        offset = next_offset;
                    }
                    FrameAt::End => {
                        return Err(damaged("segment ends before a committed entry", &path)
                            .at_offset(offset)
                            .at_entry(index))
                    }
                    FrameAt::Bad(reason) => {
                        return Err(damaged(reason, &path).at_offset(offset).at_entry(index))
                    }
                }
            }
            if index < end {
                slot += 1;
                let segments = self.shared.segments_read();
                path = segments[slot].path.clone();
                file = segments[slot].file.clone();
                offset = SEGMENT_HEADER_BYTES;
            }
        }
        Ok(())
    }
}
