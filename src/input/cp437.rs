//! Repairing CP437 mojibake (LOG-FORMATS.md §4): UTF-8 console bytes shown in the Windows
//! console's code page, then saved as text — `≡ƒÄ╡` is 🎵 (F0 9F 8E B5), `Γ£à` is ✅. Each run of
//! characters of the code page's upper half is turned back into its bytes, and every valid
//! UTF-8 sequence among them is decoded; the rest of the run stays as it was.
//!
//! A run decodes to a 3- or 4-byte sequence (emoji, symbols) only when it is mojibake in all
//! likelihood (`Γ£à` is not text anyone writes); a 2-byte one (`├⌐` = é) might be real box
//! drawing, so it is repaired only in a text that had a longer one repaired.

/// CP437's bytes 0x80–0xFF.
const HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

fn byte_of(c: char) -> Option<u8> {
    if c.is_ascii() {
        return None;
    }
    HIGH.iter().position(|h| *h == c).map(|i| 0x80 + i as u8)
}

/// The text with its mojibake repaired; `None` when there is none.
pub fn repair(text: &str) -> Option<String> {
    // Cheap test first: every repaired text has a lead character of a 3- or 4-byte sequence.
    if !text.contains(['Γ', '≡', 'α', 'ß', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', '±', '≥', '≤'])
    {
        return None;
    }
    // A decoded 3- or 4-byte sequence says the text is mojibake; then the 2-byte ones are
    // decoded too, in one pass over the text as it came (a second pass over the repaired text
    // would read the `─│` it just decoded as mojibake again: `ĳ`). That pass decodes every
    // long sequence the first found, so it changes the text too.
    pass(text, 3)?;
    pass(text, 2)
}

/// Decodes the sequences of at least `min` bytes in runs of code-page characters; `None` when
/// nothing changed.
fn pass(text: &str, min: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut run: Vec<(char, u8)> = Vec::new();
    let mut flush = |run: &mut Vec<(char, u8)>, out: &mut String| {
        let bytes: Vec<u8> = run.iter().map(|(_, b)| *b).collect();
        let mut i = 0;
        while i < bytes.len() {
            let len = sequence_len(bytes[i]);
            if len >= min
                && let Some(seq) = bytes.get(i..i + len)
                && let Ok(s) = std::str::from_utf8(seq)
            {
                out.push_str(s);
                changed = true;
                i += len;
            } else {
                out.push(run[i].0);
                i += 1;
            }
        }
        run.clear();
    };
    for c in text.chars() {
        match byte_of(c) {
            Some(b) => run.push((c, b)),
            None => {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
    }
    flush(&mut run, &mut out);
    changed.then_some(out)
}

/// The length of the UTF-8 sequence a lead byte starts (1 for anything else).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the Windows console shows of UTF-8 text.
    fn mangle(text: &str) -> String {
        text.bytes().map(|b| if b < 0x80 { b as char } else { HIGH[usize::from(b - 0x80)] }).collect()
    }

    #[test]
    fn the_spec_examples() {
        for (seen, meant) in [("≡ƒÄ╡", "🎵"), ("≡ƒÄ╝", "🎼"), ("≡ƒôì", "📍"), ("Γ£à", "✅"), ("Γ¥î", "❌"), ("Γ£ô", "✓"), ("ΓòÉ", "═")]
        {
            assert_eq!(repair(seen).as_deref(), Some(meant), "{seen}");
        }
        assert_eq!(
            repair("Γ£à Movement 1: Validation & Verification\r\n≡ƒÄ╡ [2025-11-27T02:56:07.298Z] Movement 1, Beat 1: Loading").as_deref(),
            Some("✅ Movement 1: Validation & Verification\r\n🎵 [2025-11-27T02:56:07.298Z] Movement 1, Beat 1: Loading")
        );
    }

    proptest::proptest! {
        /// Any text shown as CP437 reads back as it was written (when it holds a 3- or 4-byte
        /// character, the sign that it is mojibake).
        #[test]
        fn any_mangled_text_round_trips(text in "[a-z é✅🎵─│Ω]{0,40}") {
            let mangled = mangle(&text);
            let long = text.chars().any(|c| c.len_utf8() >= 3);
            let expected = (long && mangled != text).then(|| text.clone());
            proptest::prop_assert_eq!(repair(&mangled), expected);
        }
    }

    #[test]
    fn round_trips_and_leaves_real_text_alone() {
        let text = "✅ Beat 2 (Café Menü) — 3ms ⏱️ 🎼 ═══ done";
        assert_eq!(repair(&mangle(text)).as_deref(), Some(text));
        for real in ["plain ASCII", "├── src │ ╚═ box drawing", "Ωmega ≥ 3 ±1 °C", "naïve café", "✅ real emoji 🎵"] {
            assert_eq!(repair(real), None, "{real}");
        }
        // Without a long sequence, two-byte look-alikes stay: `├⌐` may be drawing.
        assert_eq!(repair("Caf├⌐"), None);
    }
}
