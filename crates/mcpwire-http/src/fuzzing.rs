//! The entry points of the HTTP fuzz targets, here so that the corpus replay tests run
//! exactly what the fuzzer runs.

/// Splits `data` into a header byte and the rest.
#[cfg(feature = "client")]
fn split(data: &[u8]) -> Option<(u8, &[u8])> {
    let (&first, rest) = data.split_first()?;
    Some((first, rest))
}

/// Chunk sizes of 1 to 16 bytes from a small xorshift generator seeded by `seed`.
#[cfg(feature = "client")]
fn chunk_sizes(seed: u8) -> impl Iterator<Item = usize> {
    let mut state = u32::from(seed) | 1;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        1 + (state % 16) as usize
    })
}

/// Parses the event stream in `data` (after a byte seeding the chunk sizes) in one piece and
/// in chunks of 1 to 16 bytes, under a small limit, and checks that both give the same
/// events, the same last event id and the same retry; and that no event's data is more than
/// one byte over the limit (nor any event type more than three times its line's limit, as
/// invalid bytes are replaced).
///
/// # Panics
///
/// Panics when the two parses differ or an event breaks the limit.
#[cfg(feature = "client")]
#[doc(hidden)]
pub fn fuzz_sse(data: &[u8]) {
    use crate::client::sse::SseParser;

    const LIMIT: usize = 64;
    let Some((seed, stream)) = split(data) else {
        return;
    };
    let mut whole = SseParser::new(LIMIT);
    let mut whole_events = Vec::new();
    whole.feed(stream, &mut whole_events);

    let mut chunked = SseParser::new(LIMIT);
    let mut chunked_events = Vec::new();
    let mut rest = stream;
    for size in chunk_sizes(seed) {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunked.feed(chunk, &mut chunked_events);
        rest = tail;
    }
    assert_eq!(
        whole_events, chunked_events,
        "events depend on chunk boundaries"
    );
    assert_eq!(whole.last_event_id(), chunked.last_event_id());
    assert_eq!(whole.retry(), chunked.retry());
    for event in &whole_events {
        assert!(
            event.data.len() <= LIMIT + 1,
            "an event's data broke the limit"
        );
        // The type is read lossily: each invalid byte of its line (at most one over the
        // limit) becomes a replacement character of three bytes.
        assert!(
            event.event.len() <= 3 * (LIMIT + 1),
            "an event's type broke the limit"
        );
    }
}

/// Checks the header values a peer sends against their rules, on the text of `data`:
///
/// - `Mcp-Name` and `Mcp-Param-*` values: decoding never panics; what decodes encodes back to
///   a value that decodes to the same text; any text survives encoding then decoding, and
///   its encoding is a valid header value;
/// - `Mcp-Session-Id`: a value is accepted only when it is 1 to 128 visible ASCII bytes;
/// - `Host` and `Origin` (feature `server`): the loopback decision does not change with the
///   case of the name or a trailing dot.
///
/// # Panics
///
/// Panics when a rule is broken.
#[doc(hidden)]
pub fn fuzz_headers(data: &[u8]) {
    use crate::headers::{decode_value, encode_value};

    let text = String::from_utf8_lossy(data);
    if let Ok(decoded) = decode_value(&text) {
        let again = encode_value(&decoded);
        assert_eq!(decode_value(&again).as_deref(), Ok(decoded.as_str()));
    }
    let encoded = encode_value(&text);
    assert!(
        http::HeaderValue::from_str(&encoded).is_ok(),
        "an encoded value is not a header value"
    );
    assert_eq!(decode_value(&encoded).as_deref(), Ok(text.as_ref()));

    #[cfg(feature = "server")]
    {
        let accepted = crate::server::fuzz_session_id(data);
        let valid = !data.is_empty()
            && data.len() <= 128
            && data.iter().all(|byte| (0x21..=0x7e).contains(byte));
        assert_eq!(accepted, valid, "session id acceptance");
        crate::server::fuzz_host_guard(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "client")]
    #[test]
    fn streams_parse_alike_in_any_chunks() {
        let mut stream = vec![5];
        stream.extend_from_slice(
            b"\xEF\xBB\xBFid: 1\r\nretry: 300\ndata: a\ndata: b\r\n\r\n: comment\nevent: x\ndata\n\nid: 2\0\ndata: over",
        );
        stream.extend_from_slice(&[b'x'; 100]);
        stream.extend_from_slice(b"\n\n");
        fuzz_sse(&stream);
    }

    #[test]
    fn header_values_round_trip() {
        for value in [
            "plain",
            " padded ",
            "=?base64?SGVsbG8=?=",
            "=?base64?not base64?=",
            "tab\there",
            "é",
            "",
            "LOCALHOST.:8080",
            "[::1]:3000",
            "http://Localhost.",
        ] {
            fuzz_headers(value.as_bytes());
        }
        fuzz_headers(b"\xff\xfe");
    }
}
