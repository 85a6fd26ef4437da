//! Checks on the values this crate signs. They keep credentials well-formed, and they are what
//! makes the direct RDF path of [`issue`](crate::issue) safe: for a value that passes, JSON-LD
//! maps it to exactly one RDF term, the one the direct path builds (an IRI that JSON-LD would
//! read as relative, as a compact IRI or as a blank node, or a number a JavaScript verifier
//! would round, never gets that far).

use crate::VcError;

/// Largest integer a JavaScript verifier holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An absolute IRI, restricted to what no JSON-LD processor reads in another way: it starts with
/// `https://`, `http://`, `urn:` or `did:`; it is ASCII, made of RFC 3986 characters (without
/// `[` `]`), with `%` only before two hex digits.
pub fn iri(field: &str, value: &str) -> Result<(), VcError> {
    let bad = |why: &str| Err(VcError::invalid(field, format!("{value:?} {why}")));
    let rest = if let Some(r) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    {
        if r.is_empty() || r.starts_with('/') {
            return bad("has no host");
        }
        r
    } else if let Some(r) = value
        .strip_prefix("urn:")
        .or_else(|| value.strip_prefix("did:"))
    {
        if r.is_empty() || !r.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return bad("has no name after the scheme");
        }
        r
    } else {
        return bad("is not an absolute https, http, urn or did IRI");
    };
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'#' | b'@' => {}
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => {}
            b'%' => {
                let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
                if !ok {
                    return bad("has a '%' not followed by two hex digits");
                }
            }
            _ => return bad("has a character that is not allowed in an IRI here"),
        }
        i += 1;
    }
    if rest.matches('#').count() > 1 {
        return bad("has more than one '#'");
    }
    Ok(())
}

fn digits(s: &str, from: usize, n: usize) -> Option<u32> {
    let part = s.get(from..from + n)?;
    if part.bytes().all(|b| b.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

fn date_prefix_ok(s: &str) -> bool {
    let (Some(_y), Some(m), Some(d)) = (digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2)) else {
        return false;
    };
    s.as_bytes().get(4) == Some(&b'-')
        && s.as_bytes().get(7) == Some(&b'-')
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
}

/// An `xsd:date` without timezone: `YYYY-MM-DD`.
pub fn date(field: &str, value: &str) -> Result<(), VcError> {
    if value.len() == 10 && date_prefix_ok(value) {
        Ok(())
    } else {
        Err(VcError::invalid(
            field,
            format!("{value:?} is not a date YYYY-MM-DD"),
        ))
    }
}

/// An `xsd:dateTime` with a timezone, as VC 2.0 wants: `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`.
pub fn date_time(field: &str, value: &str) -> Result<(), VcError> {
    let bad = || {
        Err(VcError::invalid(
            field,
            format!("{value:?} is not a date-time YYYY-MM-DDThh:mm:ss with Z or ±hh:mm"),
        ))
    };
    let b = value.as_bytes();
    if b.len() < 20 || !date_prefix_ok(value) || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return bad();
    }
    let (Some(h), Some(mi), Some(s)) = (
        digits(value, 11, 2),
        digits(value, 14, 2),
        digits(value, 17, 2),
    ) else {
        return bad();
    };
    if h > 23 || mi > 59 || s > 59 {
        return bad();
    }
    let mut rest = &value[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return bad();
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" => Ok(()),
        tz if tz.len() == 6
            && (tz.starts_with('+') || tz.starts_with('-'))
            && tz.as_bytes()[3] == b':' =>
        {
            match (digits(tz, 1, 2), digits(tz, 4, 2)) {
                (Some(th), Some(tm)) if th <= 14 && tm <= 59 => Ok(()),
                _ => bad(),
            }
        }
        _ => bad(),
    }
}

/// 64 lowercase hex digits (a SHA-256 value).
pub fn hex64(field: &str, value: &str) -> Result<(), VcError> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(VcError::invalid(
            field,
            format!("{value:?} is not 64 lowercase hex digits"),
        ))
    }
}

/// An integer that every JSON reader, JavaScript's included, holds exactly.
pub fn safe_integer(field: &str, value: u64) -> Result<(), VcError> {
    if value <= MAX_SAFE_INTEGER {
        Ok(())
    } else {
        Err(VcError::invalid(
            field,
            format!("{value} is above 2^53 - 1, which JavaScript verifiers would round"),
        ))
    }
}

/// A non-empty string.
pub fn non_empty(field: &str, value: &str) -> Result<(), VcError> {
    if value.is_empty() {
        Err(VcError::invalid(field, "is empty"))
    } else {
        Ok(())
    }
}
