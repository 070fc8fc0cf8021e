//! An incremental, bounded parser of `text/event-stream` bodies.
//!
//! It follows the event stream interpretation of the HTML standard: lines end in CRLF, LF or
//! CR; a leading byte order mark is skipped; lines starting with `:` are comments; a field is
//! `name: value` with one optional space after the colon; `data` lines are joined with `\n`;
//! `id` sets the last event id unless it holds a NUL; `retry` sets the reconnection time when
//! it is all ASCII digits; a blank line ends the event. An event that ends the body without a
//! blank line is discarded.
//!
//! Unlike a browser, the parser also reports events whose data is empty (with their id), since
//! MCP servers prime a stream with such an event to give the client a `Last-Event-ID`.

use std::time::Duration;

/// One event of the stream, reported at the blank line that ends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The event type: the last `event` field, empty when none was given (which means
    /// `message`).
    pub(crate) event: String,
    /// The `data` lines joined with `\n`; at most one byte over the limit when
    /// [`oversized`](Self::oversized) is set.
    pub(crate) data: Vec<u8>,
    /// Whether the data exceeded the parser's limit and was cut.
    pub(crate) oversized: bool,
}

impl SseEvent {
    /// Whether this event carries a message: its type is `message` or was not given.
    pub(crate) fn is_message(&self) -> bool {
        self.event.is_empty() || self.event == "message"
    }
}

/// The incremental parser.
#[derive(Debug)]
pub(crate) struct SseParser {
    /// The largest line, and the largest event data, kept; longer ones are cut.
    max_bytes: usize,
    /// The bytes of the current, unfinished line (at most `max_bytes + 1`).
    line: Vec<u8>,
    /// Whether the current line was longer than the limit.
    line_oversized: bool,
    /// Whether the previous chunk ended in CR, so a leading LF of the next one is not a
    /// second line end.
    after_carriage_return: bool,
    /// Whether the start of the stream (and a possible byte order mark) is behind us.
    started: bool,
    event: String,
    data: Vec<u8>,
    data_oversized: bool,
    /// Whether a field of the current event was seen, so a blank line reports it.
    has_fields: bool,
    /// The last event id, committed at the end of each event (the `Last-Event-ID` to send).
    last_event_id: Option<String>,
    /// The id field of the current event, committed at its end.
    pending_id: Option<String>,
    /// The reconnection time the server asked for.
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser that keeps lines and event data up to `max_bytes`.
    pub(crate) fn new(max_bytes: usize) -> Self {
        SseParser {
            max_bytes,
            line: Vec::new(),
            line_oversized: false,
            after_carriage_return: false,
            started: false,
            event: String::new(),
            data: Vec::new(),
            data_oversized: false,
            has_fields: false,
            last_event_id: None,
            pending_id: None,
            retry: None,
        }
    }

    /// A parser that resumes a stream: it starts from the last event id and retry of an
    /// earlier one, as the reconnection time and the id carry over in the HTML standard.
    pub(crate) fn resuming(
        max_bytes: usize,
        last_event_id: Option<String>,
        retry: Option<Duration>,
    ) -> Self {
        SseParser {
            last_event_id,
            retry,
            ..SseParser::new(max_bytes)
        }
    }

    /// The id to send as `Last-Event-ID` when reconnecting, if the server gave one.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The reconnection time the server asked for with `retry`, if any.
    pub(crate) fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Parses `chunk` and appends the events it completes to `events`.
    pub(crate) fn feed(&mut self, chunk: &[u8], events: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        if !self.started {
            // The byte order mark may be split over chunks; wait until three bytes are seen.
            let mut head = std::mem::take(&mut self.line);
            head.extend_from_slice(rest);
            if head.len() < 3 && b"\xEF\xBB\xBF".starts_with(&head) {
                self.line = head;
                return;
            }
            self.started = true;
            let start = if head.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            self.feed_started(&head[start..], events);
            return;
        }
        if self.after_carriage_return {
            self.after_carriage_return = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        self.feed_started(rest, events);
    }

    fn feed_started(&mut self, mut rest: &[u8], events: &mut Vec<SseEvent>) {
        while let Some(end) = rest.iter().position(|&byte| byte == b'\n' || byte == b'\r') {
            self.push_line_bytes(&rest[..end]);
            self.end_line(events);
            if rest[end] == b'\r' {
                match rest.get(end + 1) {
                    Some(b'\n') => rest = &rest[end + 2..],
                    Some(_) => rest = &rest[end + 1..],
                    None => {
                        self.after_carriage_return = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[end + 1..];
            }
        }
        self.push_line_bytes(rest);
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) {
        let room = (self.max_bytes + 1).saturating_sub(self.line.len());
        if bytes.len() > room {
            self.line_oversized = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        let line = std::mem::take(&mut self.line);
        let line_oversized = std::mem::take(&mut self.line_oversized);
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&byte| byte == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (&line[..], &[][..]),
        };
        match name {
            b"data" => {
                self.has_fields = true;
                if !self.data.is_empty() || self.data_oversized {
                    self.append_data(b"\n");
                }
                self.append_data(value);
                if line_oversized {
                    self.data_oversized = true;
                }
            }
            b"event" => {
                self.has_fields = true;
                self.event = String::from_utf8_lossy(value).into_owned();
            }
            b"id" => {
                self.has_fields = true;
                if !value.contains(&0) && !line_oversized {
                    self.pending_id = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Absurd values saturate instead of failing; the caller bounds the wait.
                let millis = std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                self.retry = Some(Duration::from_millis(millis));
            }
            _ => {}
        }
    }

    fn append_data(&mut self, bytes: &[u8]) {
        let room = (self.max_bytes + 1).saturating_sub(self.data.len());
        if bytes.len() > room {
            self.data_oversized = true;
        }
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if self.data.len() > self.max_bytes {
            self.data_oversized = true;
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        if let Some(id) = self.pending_id.take() {
            self.last_event_id = Some(id);
        }
        if !std::mem::take(&mut self.has_fields) {
            return;
        }
        events.push(SseEvent {
            event: std::mem::take(&mut self.event),
            data: std::mem::take(&mut self.data),
            oversized: std::mem::take(&mut self.data_oversized),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]], max_bytes: usize) -> (Vec<SseEvent>, SseParser) {
        let mut parser = SseParser::new(max_bytes);
        let mut events = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut events);
        }
        (events, parser)
    }

    fn data(event: &SseEvent) -> &str {
        std::str::from_utf8(&event.data).unwrap()
    }

    #[test]
    fn events_ids_and_retry() {
        let stream =
            b"id: 1\nretry: 500\ndata:\n\n: comment\nevent: message\nid: 2\ndata: {\"a\":1}\n\n";
        let (events, parser) = parse_chunks(&[stream], 1024);
        assert_eq!(events.len(), 2);
        assert!(events[0].data.is_empty());
        assert_eq!(data(&events[1]), "{\"a\":1}");
        assert!(events[1].is_message());
        assert_eq!(parser.last_event_id(), Some("2"));
        assert_eq!(parser.retry(), Some(Duration::from_millis(500)));
    }

    #[test]
    fn every_split_gives_the_same_events() {
        let stream: &[u8] =
            b"\xEF\xBB\xBFevent: endpoint\r\ndata: /messages?x=1\r\n\r\ndata: a\rdata: b\r\rid: 7\n\n";
        let (whole, _) = parse_chunks(&[stream], 1024);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].event, "endpoint");
        assert_eq!(data(&whole[0]), "/messages?x=1");
        assert_eq!(data(&whole[1]), "a\nb");
        for split in 0..stream.len() {
            let (events, parser) = parse_chunks(&[&stream[..split], &stream[split..]], 1024);
            assert_eq!(events, whole, "split at {split}");
            assert_eq!(parser.last_event_id(), Some("7"));
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes, 1024).0, whole);
    }

    #[test]
    fn unfinished_events_and_bad_fields_are_ignored() {
        let (events, parser) = parse_chunks(
            &[b"retry: 5x\nid: a\0b\ndata: x\n\ndata: never ended"],
            1024,
        );
        assert_eq!(events.len(), 1);
        assert_eq!(parser.retry(), None);
        assert_eq!(parser.last_event_id(), None);
    }

    #[test]
    fn oversized_data_is_cut_and_flagged() {
        let (events, _) = parse_chunks(
            &[b"data: 0123456789\n\ndata: 0123\ndata: 4567\n\ndata: ok\n\n"],
            8,
        );
        assert_eq!(events.len(), 3);
        assert!(events[0].oversized);
        assert!(
            events[0].data.len() <= 9,
            "never more than the limit and one byte"
        );
        assert!(events[1].oversized, "two lines joined pass the limit");
        assert!(!events[2].oversized);
        assert_eq!(data(&events[2]), "ok");
    }

    #[test]
    fn resuming_keeps_the_id_and_retry() {
        let parser = SseParser::resuming(16, Some("e-3".into()), Some(Duration::from_secs(2)));
        assert_eq!(parser.last_event_id(), Some("e-3"));
        assert_eq!(parser.retry(), Some(Duration::from_secs(2)));
    }
}
