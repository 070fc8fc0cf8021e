//! Readers for what callers take out of results, beside the generated types.

#[cfg(feature = "v2025_11_25")]
mod v2025_11_25 {
    use crate::v2025_11_25::{CallToolResult, ContentBlock};

    impl CallToolResult {
        /// The text of the result's text blocks, one line each, in order; other blocks are
        /// skipped. Empty when there is no text block.
        ///
        /// ```
        /// use mcpwire_schema::v2025_11_25::{CallToolResult, ContentBlock, TextContent};
        ///
        /// let result = CallToolResult::new(vec![
        ///     ContentBlock::TextContent(TextContent::new("5")),
        ///     ContentBlock::TextContent(TextContent::new("five")),
        /// ]);
        /// assert_eq!(result.text(), "5\nfive");
        /// ```
        pub fn text(&self) -> String {
            let mut text = String::new();
            for block in &self.content {
                if let ContentBlock::TextContent(block) = block {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&block.text);
                }
            }
            text
        }

        /// Whether the tool reported an error (`isError: true`).
        pub fn is_error(&self) -> bool {
            self.is_error == Some(true)
        }
    }
}
