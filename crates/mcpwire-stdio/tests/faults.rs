//! F-09 of `notes/security.md`, partial lines on stdio, as a property test: random streams of
//! valid messages, split at random byte boundaries and written with random pauses, decode to
//! exactly the messages written; a 5 MiB line among them (over the 4 MiB limit) is reported
//! once, as one too-large parse error, and the messages after it arrive, none lost or
//! repeated. The seed is fixed for the normal test run; `MCPWIRE_TEST_SEED` explores others.
//! (The `stdio_framer` fuzz target checks the chunking on arbitrary bytes; its corpus replays
//! in `tests/fuzz_corpus.rs`.)

use std::time::Duration;

use mcpwire_jsonrpc::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Notification, Request, Response,
};
use mcpwire_stdio::{Limits, StdioReceiver};
use mcpwire_test_support::rng::{Rng, test_seed};
use mcpwire_transport::{Inbound, MessageReceiver};
use serde_json::json;
use serde_json::value::RawValue;
use tokio::io::AsyncWriteExt;

/// Rounds of the property; each writes up to 60 messages.
const ROUNDS: usize = 200;

/// The length of the oversized line: 5 MiB.
const OVERSIZED: usize = 5 * 1024 * 1024;

/// A random valid message: any of the four kinds, with params or results holding strings
/// that need escaping, non-ASCII text, numbers, nesting and padding of random length.
fn random_message(rng: &mut Rng, index: usize) -> Message {
    let texts = [
        "plain",
        "quote \" and \\ back",
        "line\nbreak\r\n",
        "tab\tü€😀",
        "",
        "}{][",
    ];
    let text = texts[rng.below(texts.len() as u64) as usize];
    let padding = "p".repeat(rng.below(300) as usize);
    let value = json!({
        "index": index,
        "text": text,
        "pad": padding,
        "number": rng.next_u64() % 1_000_000,
        "nested": {"list": [1, [2, [3]], {"deep": text}]},
    });
    let raw = || RawValue::from_string(value.to_string()).expect("valid JSON");
    match rng.below(4) {
        0 => Message::from(Request::new(index as i64, "tools/call", Some(raw()))),
        1 => Message::from(Notification::new("notifications/progress", Some(raw()))),
        2 => Message::from(Response::new(format!("id-{index}"), raw())),
        _ => Message::from(ErrorResponse::new(
            Some(mcpwire_jsonrpc::RequestId::from(index as i64)),
            ErrorObject::new(ErrorCode::INTERNAL_ERROR, text),
        )),
    }
}

/// What the receiver reports for one line.
#[derive(Debug, PartialEq)]
enum Seen {
    Message(Message),
    TooLarge,
}

/// Writes `input` into a pipe in chunks of random sizes, pausing a random while between some
/// of them, and returns what a receiver read from the other end, to its end.
async fn split_and_read(rng: &mut Rng, input: Vec<u8>) -> Vec<Seen> {
    let (mut writer, reader) = tokio::io::duplex(rng.between(1, 8192) as usize);
    // A bound on the reading loop: at most one item per input byte, and the end.
    let bound = input.len() + 1;
    let mut writer_rng = Rng::new(rng.next_u64());
    let writing = tokio::spawn(async move {
        let mut rest = &input[..];
        while !rest.is_empty() {
            // Mostly small pieces, sometimes large ones, so that lines end anywhere in a read.
            let largest = if writer_rng.chance(1, 10) {
                1 << 20
            } else {
                64
            };
            let size = (writer_rng.between(1, largest) as usize).min(rest.len());
            writer
                .write_all(&rest[..size])
                .await
                .expect("the receiver reads");
            rest = &rest[size..];
            if writer_rng.chance(1, 8) {
                // Time is paused: the pause costs nothing but lets the reader run dry.
                let pause = Duration::from_millis(writer_rng.between(1, 50));
                tokio::time::sleep(pause).await;
            }
        }
    });
    let mut receiver = StdioReceiver::new(reader);
    let mut seen = Vec::new();
    for _ in 0..bound {
        match receiver.receive().await {
            Some(Ok(Inbound::Message(message))) => seen.push(Seen::Message(message)),
            Some(Ok(Inbound::Invalid(error))) if error.is_too_large() => seen.push(Seen::TooLarge),
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
    writing.await.expect("the writer finishes");
    seen
}

/// One round: random messages with random line endings, and, when `oversized`, a 5 MiB line
/// at a random position.
async fn round(rng: &mut Rng, oversized: bool) -> (Vec<Seen>, Vec<Seen>) {
    let count = rng.between(1, 60) as usize;
    let oversized_at = oversized.then(|| rng.below(count as u64 + 1) as usize);
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for index in 0..=count {
        if oversized_at == Some(index) {
            // A valid message, only too long: the limit, not the content, refuses it.
            const { assert!(OVERSIZED > Limits::DEFAULT_MAX_LINE_BYTES) };
            let padding = "x".repeat(OVERSIZED);
            let line =
                format!(r#"{{"jsonrpc":"2.0","method":"big","params":{{"p":"{padding}"}}}}"#);
            input.extend_from_slice(line.as_bytes());
            input.push(b'\n');
            expected.push(Seen::TooLarge);
        }
        if index == count {
            break;
        }
        let message = random_message(rng, index);
        input.extend_from_slice(&message.to_vec());
        input.extend_from_slice(if rng.chance(1, 4) { b"\r\n" } else { b"\n" });
        expected.push(Seen::Message(message));
    }
    let seen = split_and_read(rng, input).await;
    (seen, expected)
}

#[tokio::test(start_paused = true)]
async fn messages_split_at_random_points_with_random_pauses_arrive_whole_and_in_order() {
    let seed = test_seed(0xF09);
    let mut rng = Rng::new(seed);
    for number in 0..ROUNDS {
        let (seen, expected) = round(&mut rng, false).await;
        assert!(
            seen == expected,
            "seed {seed}, round {number}: the messages differ"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_five_mebibyte_line_is_reported_once_and_the_messages_around_it_arrive() {
    let seed = test_seed(0xF09 + 1);
    let mut rng = Rng::new(seed);
    for number in 0..4 {
        let (seen, expected) = round(&mut rng, true).await;
        let reports = seen.iter().filter(|seen| **seen == Seen::TooLarge).count();
        assert_eq!(reports, 1, "seed {seed}, round {number}: one diagnostic");
        assert!(
            seen == expected,
            "seed {seed}, round {number}: the messages differ"
        );
    }
}
