//! The log of record through real files: append, reopen, rotation, torn
//! tails, refusals.

use proptest::prelude::*;
use skill_ledger_log::{Log, LogErrorKind, LogOptions, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn entry(i: u64) -> Vec<u8> {
    format!("entry number {i} {}", "x".repeat((i % 37) as usize)).into_bytes()
}

fn append_n(log: &mut Log, n: u64) {
    let start = log.entry_count();
    let owned: Vec<Vec<u8>> = (start..start + n).map(entry).collect();
    let refs: Vec<&[u8]> = owned.iter().map(|e| e.as_slice()).collect();
    assert_eq!(log.append_batch(&refs).unwrap(), start..start + n);
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    files.sort();
    files
}

fn tiny() -> LogOptions {
    LogOptions {
        segment_bytes_max: 300,
        ..LogOptions::default()
    }
}

/// Byte offset of entry `i` in a single-segment log built by `append_n`.
fn offset_of(i: u64) -> u64 {
    SEGMENT_HEADER_BYTES
        + (0..i)
            .map(|k| FRAME_HEADER_BYTES + entry(k).len() as u64)
            .sum::<u64>()
}

#[test]
fn append_reopen_read() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, recovery) = Log::open(dir.path(), LogOptions::default(), 0).unwrap();
    assert_eq!(recovery.entry_count, 0);
    assert_eq!(log.append_batch(&[]).unwrap(), 0..0);
    append_n(&mut log, 1000);
    append_n(&mut log, 1);
    let reader = log.reader();
    assert_eq!(reader.entry_count(), 1001);
    for i in [0, 1, 255, 256, 257, 511, 512, 999, 1000] {
        assert_eq!(reader.read(i).unwrap(), entry(i));
    }
    assert_eq!(
        reader.read(1001).unwrap_err().kind(),
        &LogErrorKind::OutOfRange
    );
    let bytes = log.bytes_on_disk();
    drop(log);

    let (log, recovery) = Log::open(dir.path(), LogOptions::default(), 1001).unwrap();
    assert_eq!(recovery.entry_count, 1001);
    assert_eq!(recovery.truncated_bytes, 0);
    assert_eq!(log.bytes_on_disk(), bytes);
    let reader = log.reader();
    for i in 0..1001 {
        assert_eq!(reader.read(i).unwrap(), entry(i));
    }
    let mut seen = 0;
    reader
        .for_each(300, 1001, |i, payload| {
            assert_eq!(i, 300 + seen);
            assert_eq!(payload, entry(i).as_slice());
            seen += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 701);
}

#[test]
fn empty_entries_and_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        entry_bytes_max: 10,
        ..LogOptions::default()
    };
    let (mut log, _) = Log::open(dir.path(), options, 0).unwrap();
    log.append_batch(&[b"", b"0123456789"]).unwrap();
    let err = log.append_batch(&[b"ok", b"01234567890"]).unwrap_err();
    assert_eq!(err.kind(), &LogErrorKind::EntryTooLarge);
    assert_eq!(err.entry_index(), Some(3));
    // A refused batch writes nothing and does not poison the writer.
    assert_eq!(log.entry_count(), 2);
    log.append_batch(&[b"more"]).unwrap();
    assert_eq!(log.reader().read(0).unwrap(), b"");
    assert_eq!(log.reader().read(2).unwrap(), b"more");
}

#[test]
fn batches_span_segment_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), tiny(), 0).unwrap();
    append_n(&mut log, 3);
    append_n(&mut log, 40);
    append_n(&mut log, 1);
    let big = vec![7u8; 1000]; // larger than a segment: gets one alone
    log.append_batch(&[&big, b"after"]).unwrap();
    let count = log.entry_count();
    assert!(segment_files(dir.path()).len() > 5);
    drop(log);
    let (log, recovery) = Log::open(dir.path(), tiny(), count).unwrap();
    assert_eq!(recovery.entry_count, count);
    let reader = log.reader();
    for i in 0..44 {
        assert_eq!(reader.read(i).unwrap(), entry(i));
    }
    assert_eq!(reader.read(44).unwrap(), big);
    assert_eq!(reader.read(45).unwrap(), b"after");
    let mut n = 0;
    reader
        .for_each(0, count, |i, p| {
            if i < 44 {
                assert_eq!(p, entry(i).as_slice());
            }
            n += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(n, count);
    // Every segment file name is the index of its first entry.
    for path in segment_files(dir.path()) {
        let first: u64 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        assert!(first < count);
    }
}

fn last_segment(dir: &Path) -> PathBuf {
    segment_files(dir).pop().unwrap()
}

fn torn_tail_case(damage: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), LogOptions::default(), 0).unwrap();
    append_n(&mut log, 20);
    drop(log);
    let path = last_segment(dir.path());
    let good_len = fs::metadata(&path).unwrap().len();
    damage(&path);
    let (mut log, recovery) = Log::open(dir.path(), LogOptions::default(), 10).unwrap();
    let expected_len = fs::metadata(&path).unwrap().len();
    assert!(expected_len <= good_len);
    assert_eq!(log.entry_count(), recovery.entry_count);
    if recovery.truncated_bytes > 0 {
        assert_eq!(recovery.truncated_at.as_ref().unwrap().0, path);
    }
    let count = log.entry_count();
    assert!(count >= 19, "lost more than the torn entry: {count}");
    append_n(&mut log, 5);
    drop(log);
    let (log, recovery) = Log::open(dir.path(), LogOptions::default(), count + 5).unwrap();
    assert_eq!(recovery.truncated_bytes, 0);
    for i in 0..count + 5 {
        assert_eq!(log.reader().read(i).unwrap(), entry(i));
    }
}

#[test]
fn torn_tail_mid_frame_is_truncated() {
    torn_tail_case(|path| {
        let len = fs::metadata(path).unwrap().len();
        let f = OpenOptions::new().write(true).open(path).unwrap();
        f.set_len(len - 5).unwrap(); // cuts into the last frame's payload
    });
    torn_tail_case(|path| {
        let f = OpenOptions::new().write(true).open(path).unwrap();
        f.set_len(offset_of(19) + 3).unwrap(); // cuts the last frame header
    });
}

#[test]
fn appended_garbage_is_truncated() {
    torn_tail_case(|path| {
        let mut f = OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(b"\xde\xad\xbe\xef garbage that is not a frame \xff\xff\xff")
            .unwrap();
    });
}

#[test]
fn zero_filled_tail_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), LogOptions::default(), 0).unwrap();
    append_n(&mut log, 20);
    drop(log);
    let path = last_segment(dir.path());
    let good_len = fs::metadata(&path).unwrap().len();
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&[0u8; 4096]).unwrap();
    drop(f);
    let (log, recovery) = Log::open(dir.path(), LogOptions::default(), 20).unwrap();
    assert_eq!(recovery.entry_count, 20);
    assert_eq!(recovery.truncated_bytes, 4096);
    assert_eq!(recovery.truncated_at, Some((path.clone(), good_len)));
    assert_eq!(fs::metadata(&path).unwrap().len(), good_len);
    assert_eq!(log.bytes_on_disk(), good_len);
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    fs::write(path, bytes).unwrap();
}

#[test]
fn flipped_byte_in_the_middle_refuses_and_leaves_file_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), LogOptions::default(), 0).unwrap();
    append_n(&mut log, 20);
    drop(log);
    let path = last_segment(dir.path());
    let target = offset_of(7) + FRAME_HEADER_BYTES + 2; // inside entry 7's payload
    flip_byte(&path, target);
    let before = fs::read(&path).unwrap();
    // Even with nothing acknowledged: valid frames follow the bad one.
    let err = Log::open(dir.path(), LogOptions::default(), 0)
        .err()
        .unwrap();
    assert_eq!(err.kind(), &LogErrorKind::Damaged);
    assert_eq!(err.path(), Some(path.as_path()));
    assert_eq!(err.byte_offset(), Some(offset_of(7)));
    assert_eq!(err.entry_index(), Some(7));
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn damage_below_acknowledged_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), LogOptions::default(), 0).unwrap();
    append_n(&mut log, 20);
    drop(log);
    let path = last_segment(dir.path());
    // Damage the last entry: a torn tail if unacknowledged...
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(offset_of(19) + 10).unwrap();
    drop(f);
    let before = fs::read(&path).unwrap();
    // ...but entry 19 was acknowledged, so it is damage.
    let err = Log::open(dir.path(), LogOptions::default(), 20)
        .err()
        .unwrap();
    assert_eq!(err.kind(), &LogErrorKind::Damaged);
    assert_eq!(err.entry_index(), Some(19));
    assert_eq!(err.byte_offset(), Some(offset_of(19)));
    assert_eq!(fs::read(&path).unwrap(), before);
    // A cleanly shorter log than acknowledged is refused too.
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(offset_of(19)).unwrap();
    drop(f);
    let err = Log::open(dir.path(), LogOptions::default(), 20)
        .err()
        .unwrap();
    assert_eq!(err.kind(), &LogErrorKind::Damaged);
}

#[test]
fn damage_in_an_earlier_segment_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), tiny(), 0).unwrap();
    append_n(&mut log, 40);
    drop(log);
    let files = segment_files(dir.path());
    assert!(files.len() >= 3);
    // Truncate the middle segment's last frame: not a torn tail.
    let middle = &files[1];
    let len = fs::metadata(middle).unwrap().len();
    let f = OpenOptions::new().write(true).open(middle).unwrap();
    f.set_len(len - 1).unwrap();
    drop(f);
    let err = Log::open(dir.path(), tiny(), 0).err().unwrap();
    assert_eq!(err.kind(), &LogErrorKind::Damaged);
    assert_eq!(err.path(), Some(middle.as_path()));
    assert_eq!(fs::metadata(middle).unwrap().len(), len - 1);
}

#[test]
fn bad_header_and_gap_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), tiny(), 0).unwrap();
    append_n(&mut log, 40);
    drop(log);
    let files = segment_files(dir.path());
    let last = files.last().unwrap().clone();
    flip_byte(&last, 17); // inside the first-index field
    let err = Log::open(dir.path(), tiny(), 0).err().unwrap();
    assert_eq!(err.kind(), &LogErrorKind::Damaged);
    assert_eq!(err.path(), Some(last.as_path()));
    assert_eq!(err.byte_offset(), Some(0));
    flip_byte(&last, 17);
    Log::open(dir.path(), tiny(), 0).unwrap();

    fs::remove_file(&files[1]).unwrap();
    let err = Log::open(dir.path(), tiny(), 0).err().unwrap();
    assert_eq!(err.kind(), &LogErrorKind::Damaged);
    assert_eq!(err.path(), Some(files[2].as_path()));
}

#[test]
fn readers_are_send_sync_and_see_only_committed() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<skill_ledger_log::LogReader>();
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), tiny(), 0).unwrap();
    let reader = log.reader();
    let handle = std::thread::spawn(move || {
        let mut last = 0;
        while last < 200 {
            let count = reader.entry_count();
            for i in last..count {
                assert_eq!(reader.read(i).unwrap(), entry(i));
            }
            last = count;
        }
    });
    for _ in 0..40 {
        append_n(&mut log, 5);
    }
    handle.join().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_batches_read_back_after_reopen(
        batches in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
            1..8),
        segment_bytes_max in 64u64..4096,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions { segment_bytes_max, ..LogOptions::default() };
        let (mut log, _) = Log::open(dir.path(), options, 0).unwrap();
        let mut all: Vec<Vec<u8>> = Vec::new();
        for batch in &batches {
            let refs: Vec<&[u8]> = batch.iter().map(|e| e.as_slice()).collect();
            let range = log.append_batch(&refs).unwrap();
            prop_assert_eq!(range.start, all.len() as u64);
            all.extend(batch.iter().cloned());
        }
        drop(log);
        let (log, recovery) = Log::open(dir.path(), options, all.len() as u64).unwrap();
        prop_assert_eq!(recovery.entry_count, all.len() as u64);
        let reader = log.reader();
        for (i, e) in all.iter().enumerate() {
            prop_assert_eq!(&reader.read(i as u64).unwrap(), e);
        }
        let mut back = Vec::new();
        reader.for_each(0, all.len() as u64, |_, p| { back.push(p.to_vec()); Ok(()) }).unwrap();
        prop_assert_eq!(back, all);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Random reads fetch a whole sparse-index group at once, except in the newest, still
    /// open group: both paths, in the live log and after reopening, return every entry.
    #[test]
    fn random_reads_across_full_and_open_groups(
        batches in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..60),
            1..8),
        segment_bytes_max in prop::sample::select(vec![2_048u64, 16_384, 1 << 20]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions { segment_bytes_max, ..LogOptions::default() };
        let (mut log, _) = Log::open(dir.path(), options, 0).unwrap();
        let mut all: Vec<Vec<u8>> = Vec::new();
        for batch in &batches {
            let refs: Vec<&[u8]> = batch.iter().map(|e| e.as_slice()).collect();
            log.append_batch(&refs).unwrap();
            all.extend(batch.iter().cloned());
            let reader = log.reader();
            for (i, e) in all.iter().enumerate().rev() {
                prop_assert_eq!(&reader.read(i as u64).unwrap(), e);
            }
        }
        drop(log);
        let (log, _) = Log::open(dir.path(), options, all.len() as u64).unwrap();
        let reader = log.reader();
        for (i, e) in all.iter().enumerate() {
            prop_assert_eq!(&reader.read(i as u64).unwrap(), e);
        }
    }
}

#[test]
fn damage_found_by_a_random_read_names_the_entry_and_offset() {
    // Given a log of 40 entries (two full sparse-index groups and an open one)
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), LogOptions::default(), 0).unwrap();
    append_n(&mut log, 40);
    let path = last_segment(dir.path());
    // When a byte of entry 7's payload and one of entry 37's flip under the running log
    flip_byte(&path, offset_of(7) + FRAME_HEADER_BYTES + 2);
    flip_byte(&path, offset_of(37) + FRAME_HEADER_BYTES + 1);
    let reader = log.reader();
    // Then reading them reports the damage where it is, and their neighbours still read
    for damaged_index in [7u64, 37] {
        let err = reader.read(damaged_index).unwrap_err();
        assert_eq!(err.kind(), &LogErrorKind::Damaged);
        assert_eq!(err.entry_index(), Some(damaged_index));
        assert_eq!(err.byte_offset(), Some(offset_of(damaged_index)));
        assert!(reader.read(damaged_index + 1).is_ok());
        assert!(reader.read(damaged_index - 1).is_ok());
    }
}
