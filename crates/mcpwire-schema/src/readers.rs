//! Hand-written helpers beside the generated types: results as handlers build them, and
//! what callers read out of them.

#[cfg(feature = "v2025_11_25")]
mod v2025_11_25 {
    use std::collections::BTreeMap;

    use crate::v2025_11_25::{
        CallToolResult, ContentBlock, CreateMessageResult, CreateMessageResultContent,
        ElicitResult, ElicitResultAction, ElicitResultContentValue, Role,
        SamplingMessageContentBlock, TextContent,
    };

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

    impl ElicitResult {
        /// The user accepted and gave `content`, member by member.
        ///
        /// ```
        /// use mcpwire_schema::v2025_11_25::{ElicitResult, ElicitResultContentValue};
        ///
        /// let answer = ElicitResult::accept([("name", ElicitResultContentValue::from("Ada"))]);
        /// assert_eq!(answer.text("name"), Some("Ada"));
        /// ```
        pub fn accept<K: Into<String>>(
            content: impl IntoIterator<Item = (K, ElicitResultContentValue)>,
        ) -> Self {
            let content: BTreeMap<String, ElicitResultContentValue> = content
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect();
            ElicitResult::new(ElicitResultAction::Accept).with_content(content)
        }

        /// The user declined to answer.
        pub fn decline() -> Self {
            ElicitResult::new(ElicitResultAction::Decline)
        }

        /// The user dismissed the request without choosing.
        pub fn cancel() -> Self {
            ElicitResult::new(ElicitResultAction::Cancel)
        }

        /// Whether the user accepted.
        pub fn is_accepted(&self) -> bool {
            self.action == ElicitResultAction::Accept
        }

        /// The text the user gave for `key`, when it is a string.
        pub fn text(&self, key: &str) -> Option<&str> {
            match self.content.as_ref()?.get(key)? {
                ElicitResultContentValue::String(text) => Some(text),
                _ => None,
            }
        }
    }

    impl From<&str> for ElicitResultContentValue {
        fn from(text: &str) -> Self {
            ElicitResultContentValue::String(text.to_owned())
        }
    }

    impl From<String> for ElicitResultContentValue {
        fn from(text: String) -> Self {
            ElicitResultContentValue::String(text)
        }
    }

    impl From<bool> for ElicitResultContentValue {
        fn from(value: bool) -> Self {
            ElicitResultContentValue::Boolean(value)
        }
    }

    impl From<i64> for ElicitResultContentValue {
        fn from(value: i64) -> Self {
            ElicitResultContentValue::Integer(value)
        }
    }

    impl CreateMessageResult {
        /// The assistant's answer `text`, from `model`.
        ///
        /// ```
        /// use mcpwire_schema::v2025_11_25::CreateMessageResult;
        ///
        /// let answer = CreateMessageResult::text("a-model", "Hello!");
        /// assert_eq!(answer.text_content(), Some("Hello!"));
        /// ```
        pub fn text(model: impl Into<String>, text: impl Into<String>) -> Self {
            let block = SamplingMessageContentBlock::TextContent(TextContent::new(text));
            CreateMessageResult::new(
                CreateMessageResultContent::Object(block),
                model,
                Role::Assistant,
            )
        }

        /// The text of the answer, when it is one text block.
        pub fn text_content(&self) -> Option<&str> {
            match &self.content {
                CreateMessageResultContent::Object(SamplingMessageContentBlock::TextContent(
                    text,
                )) => Some(&text.text),
                _ => None,
            }
        }
    }
}
