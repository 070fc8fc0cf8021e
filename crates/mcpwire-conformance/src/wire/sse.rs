//! A strict reader of `text/event-stream` bodies, kept apart from any client's so that the
//! suite sees the framing a server sent, not a repaired version of it.

/// One event of an SSE stream, as framed by its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `id:` field, when the event had one.
    pub id: Option<String>,
    /// The `event:` field, when the event had one (`message` is the default type).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `retry:` field, when it was a number.
    pub retry: Option<u64>,
}

/// Reads events from chunks of a stream as they arrive.
#[derive(Debug, Default)]
pub(crate) struct SseReader {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    /// The event being read.
    current: SseEvent,
    /// Whether the event being read has any field at all.
    started: bool,
    /// The first problem of framing seen: a line that was not UTF-8.
    pub(crate) malformed: Option<String>,
}

impl SseReader {
    /// Feeds `chunk`, returning the events it completed.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut self.pending);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if let Some(event) = self.line(&line) {
                    events.push(event);
                }
            } else {
                self.pending.push(byte);
            }
        }
        events
    }

    /// Takes one line; an empty line dispatches the event read so far.
    fn line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            if !self.started {
                return None;
            }
            self.started = false;
            let mut event = std::mem::take(&mut self.current);
            if event.data.ends_with('\n') {
                event.data.pop();
            }
            return Some(event);
        }
        let Ok(text) = std::str::from_utf8(line) else {
            self.malformed
                .get_or_insert_with(|| "an SSE line is not UTF-8".to_owned());
            return None;
        };
        if text.starts_with(':') {
            return None;
        }
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text, ""),
        };
        self.started = true;
        match field {
            "data" => {
                self.current.data.push_str(value);
                self.current.data.push('\n');
            }
            "id" => self.current.id = Some(value.to_owned()),
            "event" => self.current.event = Some(value.to_owned()),
            "retry" => self.current.retry = value.parse().ok(),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_joined() {
        let mut reader = SseReader::default();
        assert!(reader.feed(b"id: 1\nretry: 500\ndata: {\"a\"").is_empty());
        let events = reader.feed(b":1}\r\n\r\n: comment\n\ndata: x\ndata: y\n\n");
        assert_eq!(
            events,
            vec![
                SseEvent {
                    id: Some("1".into()),
                    retry: Some(500),
                    data: "{\"a\":1}".into(),
                    event: None
                },
                SseEvent {
                    data: "x\ny".into(),
                    ..SseEvent::default()
                },
            ]
        );
    }

    #[test]
    fn a_priming_event_has_an_id_and_empty_data() {
        let mut reader = SseReader::default();
        let events = reader.feed(b"id: p0\ndata:\n\n");
        assert_eq!(events[0].id.as_deref(), Some("p0"));
        assert_eq!(events[0].data, "");
    }
}
