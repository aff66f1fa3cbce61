//! Text put in a CSV that people open in a spreadsheet.

/// Feed text that a spreadsheet would run as a formula (OWASP "CSV injection") gets a
/// leading apostrophe, which spreadsheets show as text.
pub fn safe_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("Plain caption"), "Plain caption");
    }
}
