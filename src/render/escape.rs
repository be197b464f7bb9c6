//! Escaping of log-derived text, in one place. Handler, sequence and event names come from
//! untrusted logs: they must not inject terminal control sequences, markdown, HTML, `@mentions`
//! or a forged `<!-- perfgate:… -->` marker.

/// For the terminal: control characters (C0, DEL, C1 — the start of ANSI escape sequences)
/// become `�`.
pub fn terminal(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}

/// For messages printed on the terminal (errors, warnings): like [`terminal`], but line breaks
/// and tabs are kept (a config error's snippet spans lines).
pub fn terminal_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '\u{FFFD}' } else { c }).collect()
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
    let clean: String =
        s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().replace("<!--", "<!-\u{200B}-").replace('|', "\\|");
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
