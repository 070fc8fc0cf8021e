//! Cutting peer text short before an error message quotes it.

/// Cuts `text` to at most `limit` bytes on a character boundary, marking the
/// cut with an ellipsis.
pub(crate) fn shorten(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text_and_cuts_long_text_on_a_character_boundary() {
        assert_eq!(shorten("method", 6), "method");
        assert_eq!(shorten("methods", 6), "method…");
        // `é` takes bytes 1 and 2, so a cut after byte 2 falls inside it and moves back.
        assert_eq!(shorten("aéb", 2), "a…");
    }
}
