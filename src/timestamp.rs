//! Timestamps of log lines, as epoch milliseconds UTC: ISO-8601 `…Z` (web conductor, Cypress)
//! and Serilog's local time with offset. Anything else — placeholders such as `HH:mm:ss.fff`,
//! `[timestamp]` (H18) — is "no timestamp", never an error.

/// Whether `s` starts with the shape `DDDD-DD-DDTDD:DD:DD.DDDZ`. Asked of nearly every line, so
/// it compares eight bytes at a time: XOR with the shape leaves 0–9 at a digit's place and 0 at
/// a separator's iff the byte fits; adding 0x76 (digits) or 0x7F (separators) then sets a
/// byte's high bit iff it does not (a byte that carries into its neighbour has its own high bit
/// set already, so a carry never hides a misfit).
pub fn is_iso_shape(s: &[u8]) -> bool {
    const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
    const fn word(i: usize, digit: u8, other: Option<u8>) -> u64 {
        let mut w = [0u8; 8];
        let mut k = 0;
        while k < 8 {
            let c = SHAPE[i * 8 + k];
            w[k] = if c == b'0' {
                digit
            } else {
                match other {
                    Some(o) => o,
                    None => c,
                }
            };
            k += 1;
        }
        u64::from_le_bytes(w)
    }
    const TEMPLATE: [u64; 3] = [word(0, b'0', None), word(1, b'0', None), word(2, b'0', None)];
    const LIMIT: [u64; 3] = [word(0, 0x76, Some(0x7F)), word(1, 0x76, Some(0x7F)), word(2, 0x76, Some(0x7F))];
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let Some(b) = s.get(..24) else { return false };
    let mut bad = 0;
    for (i, chunk) in b.chunks_exact(8).enumerate() {
        let t = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ TEMPLATE[i];
        bad |= (t | t.wrapping_add(LIMIT[i])) & HIGH;
    }
    bad == 0
}

/// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ` at the start of `s`; returns (epoch ms, length).
pub fn parse_iso(s: &[u8]) -> Option<(i64, usize)> {
    parse_iso_with(s, &mut Days::default())
}

/// [`parse_iso`], with the day of the last date kept in `days` (a reader converts many).
pub fn parse_iso_with(s: &[u8], days: &mut Days) -> Option<(i64, usize)> {
    let b = s.get(..24)?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let ms = civil_ms_with(b, 11, days)?;
    Some((ms, 24))
}

/// Parses Serilog's `yyyy-MM-dd HH:mm:ss.fff zzz` (zzz = `+HH:mm`/`-HH:mm`, optional).
pub fn parse_serilog(s: &[u8]) -> Option<i64> {
    let b = s.get(..23)?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' || b[19] != b'.' {
        return None;
    }
    let local = civil_ms(b, 11)?;
    match s.get(23..) {
        None | Some([]) => Some(local),
        Some([b' ', sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]) => {
            let h = two(*h1, *h2)?;
            let m = two(*m1, *m2)?;
            let offset = (h * 60 + m) * 60_000;
            Some(if *sign == b'+' { local - offset } else { local + offset })
        }
        _ => None,
    }
}

fn two(a: u8, b: u8) -> Option<i64> {
    if a.is_ascii_digit() && b.is_ascii_digit() { Some(i64::from(a - b'0') * 10 + i64::from(b - b'0')) } else { None }
}

fn num(s: &[u8]) -> Option<i64> {
    s.iter().try_fold(0i64, |acc, c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

/// `b` holds `YYYY-MM-DD?HH:MM:SS.mmm` with the time at `time_at`.
fn civil_ms(b: &[u8], time_at: usize) -> Option<i64> {
    civil_ms_with(b, time_at, &mut Days::default())
}

/// The day of the last date converted: the lines of a log share a few dates, and the day of one
/// costs as much as the rest of its timestamp.
#[derive(Debug, Default, Clone, Copy)]
pub struct Days {
    date: [u8; 10],
    /// The day of `date` (days since 1970-01-01), when a valid date was converted.
    days: Option<i64>,
}

impl Days {
    /// The day of `YYYY-MM-DD` (`None` when it is not a date).
    fn of(&mut self, date: &[u8; 10]) -> Option<i64> {
        if self.days.is_some() && self.date == *date {
            return self.days;
        }
        let y = num(&date[0..4])?;
        let mo = num(&date[5..7])?;
        let d = num(&date[8..10])?;
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            return None;
        }
        *self = Days { date: *date, days: Some(days_from_civil(y, mo, d)) };
        self.days
    }
}

/// [`civil_ms`], with the day of the last date kept in `days`.
fn civil_ms_with(b: &[u8], time_at: usize, days: &mut Days) -> Option<i64> {
    let date = b.first_chunk::<10>()?;
    let h = num(&b[time_at..time_at + 2])?;
    let mi = num(&b[time_at + 3..time_at + 5])?;
    let sec = num(&b[time_at + 6..time_at + 8])?;
    let ms = num(&b[time_at + 9..time_at + 12])?;
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days.of(date)?;
    Some((((days * 24 + h) * 60 + mi) * 60 + sec) * 1000 + ms)
}

/// Howard Hinnant's `days_from_civil` (proleptic Gregorian, days since 1970-01-01).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_iso(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // civil_from_days (Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-bytes-at-a-time shape check agrees with the byte-by-byte one on every byte
    /// value at every place, and on random bytes two or three at a time.
    #[test]
    fn iso_shape_matches_the_plain_check() {
        const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
        let plain =
            |s: &[u8]| s.len() >= 24 && s[..24].iter().zip(SHAPE).all(|(c, p)| if *p == b'0' { c.is_ascii_digit() } else { c == p });
        let valid = *b"2025-11-10T21:56:16.932Z";
        assert!(is_iso_shape(&valid) && !is_iso_shape(&valid[..23]));
        for at in 0..24 {
            for byte in 0..=255u8 {
                let mut s = valid;
                s[at] = byte;
                assert_eq!(is_iso_shape(&s), plain(&s), "{at} {byte:#x}");
            }
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let mut s = valid;
            for _ in 0..2 + next() % 2 {
                let r = next();
                s[(r % 24) as usize] = (r >> 8) as u8;
            }
            assert_eq!(is_iso_shape(&s), plain(&s), "{s:?}");
        }
    }

    #[test]
    fn iso_round_trip() {
        let (ms, len) = parse_iso(b"2025-11-10T21:56:16.932Z rest").unwrap();
        assert_eq!((ms, len), (1_762_811_776_932, 24));
        assert_eq!(format_iso(ms), "2025-11-10T21:56:16.932Z");
        assert_eq!(format_iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    /// A day kept from one timestamp to the next changes nothing: dates that change, repeat,
    /// are invalid (and then repeated), and times that are invalid on a known date.
    #[test]
    fn a_kept_day_converts_as_a_fresh_one() {
        let stamps = [
            "2025-11-10T21:56:16.932Z",
            "2025-11-10T23:59:59.999Z",
            "2025-11-11T00:00:00.000Z",
            "2025-11-10T24:00:00.000Z",
            "2025-11-10T21:60:00.000Z",
            "2025-13-10T21:56:16.932Z",
            "2025-13-10T21:56:16.932Z",
            "2025-11-1xT21:56:16.932Z",
            "2025-11-00T21:56:16.932Z",
            "2025-11-10T21:56:16.932Z",
            "2000-02-29T12:00:60.000Z",
            "2000-02-29T1a:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
        ];
        let mut days = Days::default();
        for s in stamps {
            assert_eq!(parse_iso_with(s.as_bytes(), &mut days), parse_iso(s.as_bytes()), "{s}");
        }
        assert_eq!(parse_iso(b"2025-11-10T24:00:00.000Z"), None);
        assert_eq!(parse_iso(b"1969-12-31T23:59:59.999Z"), Some((-1, 24)));
    }

    #[test]
    fn serilog_offsets_and_placeholders() {
        assert_eq!(parse_serilog(b"2025-11-09 14:30:45.123 -05:00"), parse_iso(b"2025-11-09T19:30:45.123Z").map(|t| t.0));
        assert_eq!(parse_serilog(b"2025-11-09 14:30:45.123"), parse_iso(b"2025-11-09T14:30:45.123Z").map(|t| t.0));
        assert_eq!(parse_serilog(b"2025-11-09 HH:mm:ss.fff -05:00"), None);
        assert_eq!(parse_iso(b"HH:mm:ss"), None);
        assert_eq!(parse_iso(b"2025-13-09T14:30:45.123Z"), None);
    }
}
