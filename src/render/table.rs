//! GitHub-flavoured markdown tables: the one way perfgate writes them. Cells are markdown
//! already — the caller escapes what comes from a log (`escape::markdown_code`…).

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// The header line and the alignment line of a table with `columns`; an empty column name
/// (the severity dot's column) is written `| |`.
pub fn header(columns: &[(&str, Align)]) -> String {
    let mut out = String::from("|");
    for (name, _) in columns {
        if name.is_empty() {
            out.push_str(" |");
        } else {
            out.push(' ');
            out.push_str(name);
            out.push_str(" |");
        }
    }
    out.push_str("\n|");
    for (_, align) in columns {
        out.push_str(match align {
            Align::Left => "---|",
            Align::Right => "---:|",
        });
    }
    out.push('\n');
    out
}

/// One row, ending with its line break.
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut out = String::from("|");
    for cell in cells {
        out.push(' ');
        out.push_str(cell.as_ref());
        out.push_str(" |");
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_alignment_and_rows() {
        assert_eq!(header(&[("", Align::Left), ("Handler", Align::Left), ("ms", Align::Right)]), "| | Handler | ms |\n|---|---|---:|\n");
        assert_eq!(row(["🔴", "`a`", "", "1.00"]), "| 🔴 | `a` |  | 1.00 |\n");
        assert_eq!(row(Vec::<String>::new()), "|\n");
    }
}
