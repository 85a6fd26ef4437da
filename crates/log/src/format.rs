//! Byte layout of segment files: the segment header and the entry frame.
//! docs/formats.md (part 2) describes the same bytes; the golden-vector tests at
//! the bottom pin them.

/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"SKLGSEG\n";
/// Segment format version written by this crate; any other is refused.
pub const SEGMENT_FORMAT_VERSION: u32 = 1;
/// Size of the fixed segment header.
pub const SEGMENT_HEADER_BYTES: u64 = 32;
/// Size of a frame header: u32 payload length, u32 crc32c.
pub const FRAME_HEADER_BYTES: u64 = 8;
/// Largest entry the format can hold: it must fit the u16 length prefix of
/// a C2SP entry bundle.
pub const ENTRY_BYTES_MAX_FORMAT: u32 = u16::MAX as u32;
/// Suffix of segment file names.
pub const SEGMENT_SUFFIX: &str = ".seg";
/// Digits in a segment file name: enough for any u64 index.
pub const SEGMENT_NAME_DIGITS: usize = 20;

const _: () = assert!(SEGMENT_HEADER_BYTES == 8 + 4 + 4 + 8 + 4 + 4);
const _: () = assert!(FRAME_HEADER_BYTES == 4 + 4);
const _: () = assert!(u64::MAX.ilog10() as usize + 1 == SEGMENT_NAME_DIGITS);

/// `NNNNNNNNNNNNNNNNNNNN.seg`, named by the index of its first entry.
pub fn segment_file_name(first_index: u64) -> String {
    format!("{first_index:020}{SEGMENT_SUFFIX}")
}

/// Inverse of [`segment_file_name`]; `None` for any other name (including
/// non-canonical digit strings, which are then reported as foreign files).
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != SEGMENT_NAME_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Encodes the 32-byte segment header.
pub fn encode_segment_header(first_index: u64) -> [u8; SEGMENT_HEADER_BYTES as usize] {
    let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
    header[0..8].copy_from_slice(&SEGMENT_MAGIC);
    header[8..12].copy_from_slice(&SEGMENT_FORMAT_VERSION.to_le_bytes());
    // 12..16: flags, zero in version 1.
    header[16..24].copy_from_slice(&first_index.to_le_bytes());
    // 24..28: reserved, zero in version 1.
    let crc = crc32c::crc32c(&header[0..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Why a segment header was refused.
pub fn decode_segment_header(header: &[u8]) -> Result<u64, &'static str> {
    if header.len() < SEGMENT_HEADER_BYTES as usize {
        return Err("segment header is short");
    }
    let stored_crc = u32::from_le_bytes([header[28], header[29], header[30], header[31]]);
    if crc32c::crc32c(&header[0..28]) != stored_crc {
        return Err("segment header checksum mismatch");
    }
    if header[0..8] != SEGMENT_MAGIC {
        return Err("segment header magic is wrong");
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version != SEGMENT_FORMAT_VERSION {
        return Err("unsupported segment format version");
    }
    if header[12..16] != [0; 4] || header[24..28] != [0; 4] {
        return Err("segment header reserved bytes are not zero");
    }
    let mut first = [0u8; 8];
    first.copy_from_slice(&header[16..24]);
    Ok(u64::from_le_bytes(first))
}

/// crc32c over the 4 length bytes followed by the payload: covering the
/// length means a corrupted length cannot pair with a payload that checks.
pub fn frame_crc(length_bytes: [u8; 4], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&length_bytes), payload)
}

/// Appends one frame for `payload` to `out`.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    let length = u32::try_from(payload.len()).expect("caller checked the entry size");
    assert!(length <= ENTRY_BYTES_MAX_FORMAT);
    let length_bytes = length.to_le_bytes();
    let crc = frame_crc(length_bytes, payload);
    let start = out.len();
    out.extend_from_slice(&length_bytes);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    // Check the checksum before the bytes leave memory: a bug or bit flip
    // here would otherwise be written durably as a "valid" frame.
    let written = &out[start..];
    assert_eq!(
        frame_crc(
            [written[0], written[1], written[2], written[3]],
            &written[FRAME_HEADER_BYTES as usize..]
        ),
        u32::from_le_bytes([written[4], written[5], written[6], written[7]])
    );
}

/// The two fields of a frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub payload_bytes: u32,
    pub crc: u32,
}

pub fn decode_frame_header(bytes: &[u8; FRAME_HEADER_BYTES as usize]) -> FrameHeader {
    FrameHeader {
        payload_bytes: u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        crc: u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
    }
}

/// Whether a whole frame (header and payload) checks out.
pub fn frame_is_valid(header: FrameHeader, payload: &[u8]) -> bool {
    header.payload_bytes <= ENTRY_BYTES_MAX_FORMAT
        && payload.len() == header.payload_bytes as usize
        && frame_crc(header.payload_bytes.to_le_bytes(), payload) == header.crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden vector, also printed in docs/formats.md (part 2).
    #[test]
    fn segment_header_golden() {
        assert_eq!(
            hex::encode(encode_segment_header(0)),
            "534b4c475345470a0100000000000000000000000000000000000000c293ef51"
        );
        assert_eq!(
            decode_segment_header(&encode_segment_header(0x0102_0304_0506_0708)),
            Ok(0x0102_0304_0506_0708)
        );
    }

    /// Golden vector, also printed in docs/formats.md (part 2).
    #[test]
    fn frame_abc_golden() {
        let mut out = Vec::new();
        encode_frame(b"abc", &mut out);
        assert_eq!(hex::encode(&out), "03000000f8831455616263");
    }

    #[test]
    fn segment_names_round_trip() {
        assert_eq!(segment_file_name(1234), "00000000000000001234.seg");
        assert_eq!(
            parse_segment_file_name("00000000000000001234.seg"),
            Some(1234)
        );
        assert_eq!(
            parse_segment_file_name(&segment_file_name(u64::MAX)),
            Some(u64::MAX)
        );
        assert_eq!(parse_segment_file_name("1234.seg"), None);
        assert_eq!(parse_segment_file_name("0000000000000000123x.seg"), None);
        assert_eq!(parse_segment_file_name("99999999999999999999.seg"), None);
    }

    #[test]
    fn zero_filled_frame_is_invalid() {
        let header = decode_frame_header(&[0; 8]);
        assert!(!frame_is_valid(header, &[]));
    }
}
