//! Escaping of untrusted text, one function per sink, in one place. Handler, sequence and event
//! names, file and directory names, report files from artifacts and API error messages are
//! hostile until escaped: they must not inject terminal control sequences, workflow commands
//! (`::error::…` at the start of a line the runner reads), markdown, HTML, `@mentions` or a
//! forged `<!-- perfgate:… -->` marker, and characters that change how text looks without being
//! seen (bidi overrides and isolates, zero-width characters) are shown, not obeyed, so that one
//! handler cannot pass for another.
//!
//! | sink | function |
//! |---|---|
//! | a terminal line (stdout reports, one-line warnings) | [`terminal`] |
//! | a terminal message of several lines (errors) | [`terminal_text`] |
//! | a workflow command's message / property (annotations) | [`annotation_data`] / [`annotation_property`] |
//! | markdown code span / prose | [`markdown_code`] / [`markdown_text`] |
//! | a markdown link's URL | [`markdown_url`] |
//! | HTML | the page's data as JSON, put into the page with `textContent` only (`render/html.rs`) |
//! | TOML (what `init` writes) | [`toml_string`] |

/// Characters that change how the text around them looks without being seen: the bidi marks,
/// embeddings, overrides and isolates (U+061C, U+200E–200F, U+202A–202E, U+2066–2069), the
/// zero-width ones (U+200B–200D, U+2060–2064, U+180E) and the BOM (U+FEFF).
pub fn invisible(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// An invisible character as visible text: `⟨U+202E⟩`.
fn shown(c: char, out: &mut String) {
    out.push_str(&format!("⟨U+{:04X}⟩", c as u32));
}

/// For a terminal line: control characters (C0, DEL, C1 — the start of ANSI escape sequences;
/// line breaks too) become `�`, invisible characters are shown.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_control() => out.push('\u{FFFD}'),
            c if invisible(c) => shown(c, &mut out),
            c => out.push(c),
        }
    }
    out
}

/// For messages of several lines printed on the terminal (errors): like [`terminal`], but line
/// breaks and tabs are kept (a config error's snippet spans lines), and no line can start a
/// workflow command: a line that would begin with `::` (after blanks, as the runner reads it)
/// begins with `: :` instead.
pub fn terminal_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line: String = line.split('\t').map(terminal).collect::<Vec<_>>().join("\t");
        let body = line.trim_start();
        match body.strip_prefix("::") {
            Some(rest) => {
                out.push_str(&line[..line.len() - body.len()]);
                out.push_str(": :");
                out.push_str(rest);
            }
            None => out.push_str(&line),
        }
    }
    out
}

/// A workflow command's message (`::error …::MESSAGE`): GitHub's escaping (`%` → `%25`,
/// CR → `%0D`, LF → `%0A`), other control characters become `�`, invisible ones are shown.
pub fn annotation_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c if invisible(c) => shown(c, &mut out),
            c => out.push(c),
        }
    }
    out
}

/// A workflow command's property (`title=…`): [`annotation_data`], and `:` → `%3A`, `,` → `%2C`.
pub fn annotation_property(s: &str) -> String {
    annotation_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A TOML basic string, on one line whatever the text: `"`, `\\` and every control character
/// escaped (TOML 1.0, "String"), so that a name can neither end its string nor its line (the
/// `toml` serializer writes a name with a line break as a multi-line string, which breaks out of
/// a comment).
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A URL for a markdown link: only http(s), with characters that could end the link or the
/// table cell percent-encoded.
pub fn markdown_url(url: &str) -> String {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return String::new();
    }
    url.chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '(' => "%28".to_owned(),
            ')' => "%29".to_owned(),
            '|' => "%7C".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            '`' => "%60".to_owned(),
            '"' => "%22".to_owned(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// For markdown: the text as a code span, which GitHub renders literally (no emphasis, links,
/// HTML, mentions or issue references). Inside tables `|` is escaped (GFM splits cells before
/// parsing code spans), line breaks become spaces, the fence is longer than any backtick run
/// inside, and `<!--` is broken so it can never read as the sticky-comment marker.
pub fn markdown_code(s: &str) -> String {
    let mut clean = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_control() => clean.push(' '),
            c if invisible(c) => shown(c, &mut clean),
            c => clean.push(c),
        }
    }
    let clean = clean.replace("<!--", "<!-\u{200B}-").replace('|', "\\|");
    let longest = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') || clean.is_empty() { " " } else { "" };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

/// For markdown prose in a table cell (a verdict's reason): every ASCII punctuation character
/// that markdown or HTML could read is backslash-escaped (so no emphasis, link, HTML, mention
/// or marker), and line breaks become spaces.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_control() => out.push(' '),
            c if invisible(c) => shown(c, &mut out),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '@' | '!' | '(' | ')' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_names() {
        assert_eq!(terminal("a\x1b[31mb"), "a\u{FFFD}[31mb");
        assert_eq!(terminal_text("line 1\n  | x\x1b"), "line 1\n  | x\u{FFFD}");
        // A line break in a hostile name cannot start a workflow command.
        assert_eq!(terminal_text("bad file a\n::add-mask::x\n  ::error::y"), "bad file a\n: :add-mask::x\n  : :error::y");
        assert_eq!(terminal("a\nb"), "a\u{FFFD}b");
        // Bidi overrides and zero-width characters are shown, in every sink.
        assert_eq!(terminal("admin\u{202E}txt\u{200B}"), "admin⟨U+202E⟩txt⟨U+200B⟩");
        assert_eq!(markdown_code("a\u{2066}b"), "`a⟨U+2066⟩b`");
        assert_eq!(markdown_text("\u{FEFF}x"), "⟨U+FEFF⟩x");
        assert_eq!(annotation_data("50% a\r\nb\x1b[1m\u{202D}"), "50%25 a%0D%0Ab\u{FFFD}[1m⟨U+202D⟩");
        assert_eq!(annotation_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(toml_string("a\"\n[b]\\\u{7f}"), r#""a\"\n[b]\\\u007F""#);
        assert_eq!(markdown_code("notifyUi"), "`notifyUi`");
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code("x`y"), "``x`y``");
        assert_eq!(markdown_code("`"), "`` ` ``");
        assert_eq!(markdown_code("<!-- perfgate:default -->"), "`<!-\u{200B}- perfgate:default -->`");
        assert_eq!(markdown_code("a\nb"), "`a b`");
        assert_eq!(markdown_text("typical +5% [+1%, +9%] <!-- @x |"), "typical +5% \\[+1%, +9%\\] \\<\\!-- \\@x \\|");
    }

    proptest! {
        #[test]
        fn no_sink_keeps_an_invisible_character_or_a_command_line(s in "(\\PC|[\n\r\t\u{202A}-\u{202E}\u{2066}-\u{2069}\u{200B}-\u{200D}\u{FEFF}:\x1b])*") {
            for out in [terminal(&s), terminal_text(&s), annotation_data(&s), markdown_text(&s)] {
                prop_assert!(!out.chars().any(invisible), "{out:?}");
                prop_assert!(!out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{out:?}");
            }
            prop_assert!(!terminal(&s).contains('\n') && !annotation_data(&s).contains('\n'));
            prop_assert!(terminal_text(&s).lines().all(|l| !l.trim_start().starts_with("::")));
        }

        #[test]
        fn a_toml_string_reads_back_as_itself(s in "\\PC*|[\n\"\\\\\x00-\x1f]*") {
            let line = format!("k = {}", toml_string(&s));
            prop_assert!(!line.contains('\n'));
            let t: toml::Table = line.parse().unwrap();
            prop_assert_eq!(t["k"].as_str(), Some(s.as_str()));
        }

        #[test]
        fn markdown_never_leaks(s in ".*") {
            let out = markdown_code(&s);
            prop_assert!(!out.contains("<!--"));
            prop_assert!(!out.contains('\n'));
            // Every `|` is escaped.
            let bytes = out.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'|' {
                    prop_assert!(i > 0 && bytes[i - 1] == b'\\');
                }
            }
        }
    }
}
